//! Prometheus metrics. One registry per application instance (not the crate's global one), so
//! that tests running several instances in one process count separately; the few events that
//! services count where they happen ([`EVENTS`]) are process-wide and registered in each.
//! `monitoring/README.md` lists every metric, and a test checks the list against `/metrics`.

use std::sync::LazyLock;

use prometheus::{
    Encoder, GaugeVec, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

pub struct Metrics {
    registry: Registry,
    pub http_requests: IntCounterVec,
    pub http_duration: HistogramVec,
    pub db_pool_connections: IntGaugeVec,
    /// The pool's ceiling: exhausted when `in_use` reaches it.
    db_pool_max: prometheus::IntGauge,
    /// Problem answers (4xx) by route and code: refused bookings (`deadline_passed`…), failed
    /// logins (`invalid_credentials`), throttling (`rate_limited`).
    pub refusals: IntCounterVec,
    /// Sampled from the database at each scrape ([`Samples`]).
    enrollments: IntGaugeVec,
    billing_mails: IntGaugeVec,
    billing_mail_oldest: GaugeVec,
    invoices_issued: IntGaugeVec,
    invoiced_euros: GaugeVec,
    outstanding_euros: GaugeVec,
    /// PayFiP answers judged, by verdict (`paid`, `pending`, `retry`, `mismatch`…).
    pub payfip_checks: IntCounterVec,
    /// Paid answers that were not the attempt's: credited nothing, alerted.
    pub payfip_mismatches: IntCounter,
    /// When this instance started: the status page's uptime.
    pub started_at: std::time::SystemTime,
}

/// Events counted by the services where they happen, for the whole process.
pub struct Events {
    /// `cantine_reservation_changes_total{source, change}`: each day booked or cancelled, by
    /// who changed it (parent, pattern, enrollment, staff, closure).
    pub reservation_changes: IntCounterVec,
    /// `cantine_mails_total{outcome}`: mails handed to SMTP (or the spool), sent or failed.
    pub mails: IntCounterVec,
}

pub static EVENTS: LazyLock<Events> = LazyLock::new(|| {
    let reservation_changes = IntCounterVec::new(
        Opts::new(
            "cantine_reservation_changes_total",
            "Days booked or cancelled, by source",
        ),
        &["source", "change"],
    )
    .expect("valid metric");
    // Every series from zero, so that rate() sees the first change.
    for source in ["parent", "pattern", "enrollment", "staff", "closure"] {
        for change in ["booked", "cancelled"] {
            reservation_changes.with_label_values(&[source, change]);
        }
    }
    let mails = IntCounterVec::new(
        Opts::new(
            "cantine_mails_total",
            "Mails handed to the mail server, by outcome",
        ),
        &["outcome"],
    )
    .expect("valid metric");
    for outcome in ["sent", "failed"] {
        mails.with_label_values(&[outcome]);
    }
    Events {
        reservation_changes,
        mails,
    }
});

/// What the metrics page reads from the database at each scrape.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Samples {
    /// (state, count): pending, validated, rejected, cancelled.
    pub enrollments: Vec<(String, i64)>,
    /// (state, count) of the billing mail outbox: queued (never tried), retrying.
    pub billing_mails: Vec<(String, i64)>,
    /// Age of the oldest unsent billing mail, seconds (0 when none waits).
    pub billing_mail_oldest_seconds: f64,
    /// Per régie code: issued invoices, their total in cents, and what households owe.
    pub billing: Vec<RegieSample>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegieSample {
    pub regie: String,
    pub invoices_issued: i64,
    pub invoiced_cents: i64,
    pub outstanding_cents: i64,
}

/// The commit the binary was built from, stamped by `build.rs`.
pub const COMMIT: &str = env!("CANTINE_COMMIT");
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        let http_requests = IntCounterVec::new(
            Opts::new("cantine_http_requests_total", "HTTP requests answered"),
            &["method", "route", "status"],
        )
        .expect("valid metric");
        let http_duration = HistogramVec::new(
            HistogramOpts::new(
                "cantine_http_request_duration_seconds",
                "Time to answer an HTTP request",
            )
            .buckets(vec![
                0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
            &["method", "route"],
        )
        .expect("valid metric");
        let db_pool_max = prometheus::IntGauge::new(
            "cantine_db_pool_max_connections",
            "The most connections the database pool opens",
        )
        .expect("valid metric");
        let db_pool_connections = IntGaugeVec::new(
            Opts::new(
                "cantine_db_pool_connections",
                "Database pool connections by state",
            ),
            &["state"],
        )
        .expect("valid metric");
        let build_info = IntGaugeVec::new(
            Opts::new(
                "cantine_build_info",
                "Version and commit of the running binary",
            ),
            &["version", "commit"],
        )
        .expect("valid metric");
        build_info.with_label_values(&[VERSION, COMMIT]).set(1);
        let payfip_checks = IntCounterVec::new(
            Opts::new(
                "cantine_payfip_checks_total",
                "PayFiP answers about payment attempts, by verdict",
            ),
            &["verdict"],
        )
        .expect("valid metric");
        for verdict in [
            "paid",
            "refused",
            "abandoned",
            "pending",
            "expired",
            "mismatch",
            "failed",
            "retry",
        ] {
            payfip_checks.with_label_values(&[verdict]);
        }
        let payfip_mismatches = IntCounter::new(
            "cantine_payfip_mismatches_total",
            "PayFiP paid answers that did not match their attempt (nothing credited)",
        )
        .expect("valid metric");
        let refusals = IntCounterVec::new(
            Opts::new(
                "cantine_refusals_total",
                "Requests refused with a problem answer (4xx), by route and code",
            ),
            &["route", "code"],
        )
        .expect("valid metric");
        let gauge = |name: &str, help: &str, label: &str| {
            IntGaugeVec::new(Opts::new(name, help), &[label]).expect("valid metric")
        };
        let float = |name: &str, help: &str, label: &str| {
            GaugeVec::new(Opts::new(name, help), &[label]).expect("valid metric")
        };
        let enrollments = gauge("cantine_enrollments", "Enrollments by state", "state");
        let billing_mails = gauge(
            "cantine_billing_mails_pending",
            "Billing mails waiting in the outbox, by state (queued, retrying)",
            "state",
        );
        let billing_mail_oldest = float(
            "cantine_billing_mail_oldest_pending_seconds",
            "Age of the oldest billing mail waiting in the outbox",
            "queue",
        );
        let invoices_issued = gauge(
            "cantine_invoices_issued",
            "Invoices issued so far, by régie",
            "regie",
        );
        let invoiced_euros = float(
            "cantine_invoiced_euros",
            "Total of the invoices issued so far, by régie",
            "regie",
        );
        let outstanding_euros = float(
            "cantine_outstanding_euros",
            "What households owe on their ledgers, by régie (credits not netted)",
            "regie",
        );

        for collector in [
            Box::new(http_requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(http_duration.clone()),
            Box::new(db_pool_connections.clone()),
            Box::new(db_pool_max.clone()),
            Box::new(build_info),
            Box::new(refusals.clone()),
            Box::new(enrollments.clone()),
            Box::new(billing_mails.clone()),
            Box::new(billing_mail_oldest.clone()),
            Box::new(invoices_issued.clone()),
            Box::new(invoiced_euros.clone()),
            Box::new(outstanding_euros.clone()),
            Box::new(EVENTS.reservation_changes.clone()),
            Box::new(EVENTS.mails.clone()),
            Box::new(payfip_checks.clone()),
            Box::new(payfip_mismatches.clone()),
        ] {
            registry
                .register(collector)
                .expect("metric names are unique");
        }
        Self {
            started_at: std::time::SystemTime::now(),
            registry,
            http_requests,
            http_duration,
            db_pool_connections,
            db_pool_max,
            refusals,
            enrollments,
            billing_mails,
            billing_mail_oldest,
            invoices_issued,
            invoiced_euros,
            outstanding_euros,
            payfip_checks,
            payfip_mismatches,
        }
    }

    /// Replaces the sampled gauges with this scrape's values.
    pub fn set_samples(&self, samples: &Samples) {
        self.enrollments.reset();
        for state in ["pending", "validated", "rejected", "cancelled"] {
            self.enrollments.with_label_values(&[state]).set(0);
        }
        for (state, count) in &samples.enrollments {
            self.enrollments.with_label_values(&[state]).set(*count);
        }
        self.billing_mails.reset();
        for state in ["queued", "retrying"] {
            self.billing_mails.with_label_values(&[state]).set(0);
        }
        for (state, count) in &samples.billing_mails {
            self.billing_mails.with_label_values(&[state]).set(*count);
        }
        self.billing_mail_oldest
            .with_label_values(&["billing"])
            .set(samples.billing_mail_oldest_seconds);
        self.invoices_issued.reset();
        self.invoiced_euros.reset();
        self.outstanding_euros.reset();
        for r in &samples.billing {
            let regie = [r.regie.as_str()];
            self.invoices_issued
                .with_label_values(&regie)
                .set(r.invoices_issued);
            // Exact for any amount a commune bills: i64 cents far below 2^53.
            self.invoiced_euros
                .with_label_values(&regie)
                .set(r.invoiced_cents as f64 / 100.0);
            self.outstanding_euros
                .with_label_values(&regie)
                .set(r.outstanding_cents as f64 / 100.0);
        }
    }

    /// Lets other parts (backups, billing) add their own metrics to the same page.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    pub fn render(&self, pool: &sqlx::PgPool) -> String {
        let idle = i64::try_from(pool.num_idle()).unwrap_or(i64::MAX);
        let size = i64::from(pool.size());
        self.db_pool_max
            .set(i64::from(pool.options().get_max_connections()));
        self.db_pool_connections
            .with_label_values(&["idle"])
            .set(idle);
        self.db_pool_connections
            .with_label_values(&["in_use"])
            .set(size - idle);
        let mut buffer = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut buffer)
            .expect("text encoding cannot fail");
        String::from_utf8(buffer).expect("prometheus text is UTF-8")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
