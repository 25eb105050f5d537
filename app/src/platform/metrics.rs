//! Prometheus metrics. One registry per application instance (not the crate's global one), so
//! that tests running several instances in one process count separately.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

pub struct Metrics {
    registry: Registry,
    pub http_requests: IntCounterVec,
    pub http_duration: HistogramVec,
    pub db_pool_connections: IntGaugeVec,
    /// PayFiP answers judged, by verdict (`paid`, `pending`, `retry`, `mismatch`…).
    pub payfip_checks: IntCounterVec,
    /// Paid answers that were not the attempt's: credited nothing, alerted.
    pub payfip_mismatches: IntCounter,
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
        let payfip_mismatches = IntCounter::new(
            "cantine_payfip_mismatches_total",
            "PayFiP paid answers that did not match their attempt (nothing credited)",
        )
        .expect("valid metric");

        for collector in [
            Box::new(http_requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(http_duration.clone()),
            Box::new(db_pool_connections.clone()),
            Box::new(build_info),
            Box::new(payfip_checks.clone()),
            Box::new(payfip_mismatches.clone()),
        ] {
            registry
                .register(collector)
                .expect("metric names are unique");
        }
        Self {
            registry,
            http_requests,
            http_duration,
            db_pool_connections,
            payfip_checks,
            payfip_mismatches,
        }
    }

    /// Lets other parts (backups, billing) add their own metrics to the same page.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    pub fn render(&self, pool: &sqlx::PgPool) -> String {
        let idle = i64::try_from(pool.num_idle()).unwrap_or(i64::MAX);
        let size = i64::from(pool.size());
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
