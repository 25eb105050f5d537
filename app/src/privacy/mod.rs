//! Data rights and retention (RGPD): a household's export (right of access and portability,
//! art. 15 and 20), the closure of its account (erasure, art. 17, within what public
//! accounting must keep), and the daily retention job (storage limitation, art. 5.1.e).
//!
//! Names live in one place: a guardian's identity is their `account` row, a child's its
//! `child` row, and every history table (bookings' history, attendance marks, the audit log,
//! invoices, payments, the ledger) names them by id only. A closure blanks those rows, so the
//! history that public accounting and disputes need stays whole and becomes pseudonymous,
//! without rewriting any of it. What the family typed freely (an absence's comment, a
//! contest's message) is blanked too; health data goes with the child's identity.

mod store;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use cantine_domain::ids::HouseholdId;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use sqlx::PgPool;
use tokio::sync::watch;

use crate::absences::CertificateFiles;
use crate::audit::{self, Action, Actor, Entry};
use crate::error::{Error, Result};
use crate::platform::config::RetentionConfig;

/// The tables the export covers, in the order the readable page shows them.
pub const EXPORTED: &[&str] = &[
    "household",
    "household_closure",
    "account",
    "account_role",
    "session",
    "email_token",
    "child",
    "custody",
    "custody_range",
    "enrollment",
    "reservation",
    "reservation_event",
    "absence",
    "absence_day",
    "certificate",
    "attendance",
    "attendance_mark",
    "quotient_familial",
    "invoice",
    "invoice_line",
    "contest",
    "payment",
    "ledger_entry",
    "allocation",
    "payfip_attempt",
    "payfip_mismatch",
    "payfip_resolution",
    "sepa_mandate",
    "sepa_debit",
    "sepa_rejection",
    "billing_mail",
    "audit_entry",
];

/// The tables that refer to an account, a household or a child and are not exported, with
/// the reason. A new table that refers to them must be added to one list or the other (the
/// export's completeness test reads the schema's foreign keys).
pub const EXCLUDED: &[(&str, &str)] = &[
    (
        "recovery_code",
        "staff second-factor secrets (digests); families have none",
    ),
    (
        "totp_credential",
        "staff second-factor secrets; families have none",
    ),
    ("staff_school", "staff members' schools"),
    (
        "sepa_export",
        "one bank file per invoicing run, naming the staff member who exported it; the household's debits are exported",
    ),
    (
        "attendance_lock",
        "names the staff member who locked a school's day; no family data",
    ),
    (
        "billing_run",
        "names the staff member who ran billing; the household's invoices are exported",
    ),
    (
        "closure",
        "a school's closed days, naming the staff member who entered them",
    ),
    (
        "menu_day",
        "a day's menu, naming the staff member who entered it",
    ),
    (
        "tariff",
        "the commune's tariffs, naming the staff member who entered them",
    ),
];

/// A household's data: one array of rows per table, as stored (secrets left out).
#[derive(Debug, Clone)]
pub struct Export {
    pub household: HouseholdId,
    pub generated_at: DateTime<Utc>,
    pub tables: BTreeMap<String, Value>,
}

impl Export {
    /// The export as one JSON document, for the API and the download.
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "household_id": self.household.get(),
            "generated_at": self.generated_at,
            "tables": self.tables,
        })
    }

    /// The tables in [`EXPORTED`] order, each with its rows.
    pub fn ordered(&self) -> impl Iterator<Item = (&'static str, &[Value])> {
        EXPORTED.iter().map(|name| {
            let rows = self
                .tables
                .get(*name)
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            (*name, rows)
        })
    }
}

/// Everything stored about the household (the family's own request: no audit entry, it is
/// their data).
pub async fn export(pool: &PgPool, household: HouseholdId, now: DateTime<Utc>) -> Result<Export> {
    let value = store::export(pool, household.get()).await?;
    let Value::Object(map) = value else {
        return Err(Error::Internal(anyhow::anyhow!(
            "the export is not an object"
        )));
    };
    let tables: BTreeMap<String, Value> = map.into_iter().collect();
    let has_row = tables
        .get("household")
        .and_then(Value::as_array)
        .is_some_and(|rows| !rows.is_empty());
    if !has_row {
        return Err(Error::NotFound);
    }
    Ok(Export {
        household,
        generated_at: now,
        tables,
    })
}

/// Who closes the account.
#[derive(Debug, Clone, Copy)]
pub enum ClosedBy<'a> {
    /// A guardian of the household, from the portal.
    Family,
    /// A manager at the counter.
    Counter(&'a Actor),
    /// The retention job (no activity for `retention.inactive_household_days`).
    Retention,
}

impl ClosedBy<'_> {
    fn code(self) -> &'static str {
        match self {
            ClosedBy::Family => "family",
            ClosedBy::Counter(_) => "counter",
            ClosedBy::Retention => "retention",
        }
    }
}

/// What a closure did, in counts (what the logs say: never a name).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Closure {
    pub guardians: u64,
    pub children: u64,
    pub sessions: u64,
    pub future_bookings: u64,
    pub certificate_files: u64,
}

/// Closes a household's account: its guardians' and children's identities, health data,
/// addresses, free texts, future bookings, sessions and certificates' files are erased; its
/// invoices, payments and the histories stay, naming ids that no longer lead to a person.
/// Every session of its guardians ends. Closing a closed household changes nothing.
pub async fn close_household(
    pool: &PgPool,
    data_dir: &Path,
    household: HouseholdId,
    by: ClosedBy<'_>,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> Result<Closure> {
    let mut tx = pool.begin().await?;
    match store::lock_household(&mut tx, household.get()).await? {
        None => return Err(Error::NotFound),
        Some(true) => return Ok(Closure::default()),
        Some(false) => {}
    }
    let erased = store::erase(&mut tx, household.get(), today).await?;
    let actor = match by {
        ClosedBy::Counter(actor) => Some(actor),
        ClosedBy::Family | ClosedBy::Retention => None,
    };
    store::mark_closed(
        &mut tx,
        household.get(),
        now,
        by.code(),
        actor.map(|a| a.account.get()),
    )
    .await?;
    audit::record(
        &mut tx,
        &Entry {
            actor,
            action: Action::HouseholdClosed,
            household: Some(household),
            child: None,
            detail: serde_json::json!({
                "via": by.code(),
                "guardians": erased.guardians,
                "children": erased.children,
            }),
        },
    )
    .await?;
    tx.commit().await?;
    // The rows are committed: the files go after, so that a failed transaction loses none.
    let files = CertificateFiles::in_data_dir(data_dir);
    let mut certificate_files = 0;
    for key in &erased.certificates {
        match files.erase(*key).await {
            Ok(true) => certificate_files += 1,
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "a closed household's certificate file was left"),
        }
    }
    let closure = Closure {
        guardians: erased.guardians,
        children: erased.children,
        sessions: erased.sessions,
        future_bookings: erased.future_bookings,
        certificate_files,
    };
    tracing::info!(
        household = household.get(),
        via = by.code(),
        guardians = closure.guardians,
        children = closure.children,
        sessions = closure.sessions,
        future_bookings = closure.future_bookings,
        certificate_files = closure.certificate_files,
        "household account closed"
    );
    Ok(closure)
}

/// What the retention job found past its period (a dry run) or erased, in counts only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Swept {
    pub sessions: u64,
    pub email_tokens: u64,
    pub audit_entries: u64,
    pub inactive_households: u64,
    /// Invoices older than `retention.invoice_years`: kept (public archives are eliminated
    /// with the archives service's approval, not by the application), counted for the DPO.
    pub invoices_past_retention: u64,
}

/// One run of the retention job at `now`. With `dry_run`, counts what a run would erase and
/// changes nothing.
pub async fn retention(
    pool: &PgPool,
    data_dir: &Path,
    config: &RetentionConfig,
    now: DateTime<Utc>,
    today: NaiveDate,
    dry_run: bool,
) -> Result<Swept> {
    let mut tx = pool.begin().await?;
    let sessions = store::expired_sessions(&mut tx, now).await?;
    let email_tokens = store::expired_tokens(&mut tx, now).await?;
    let audit_before = now - chrono::Duration::days(i64::from(config.audit_days));
    let audit_entries = store::old_audit_entries(&mut tx, audit_before).await?;
    if dry_run {
        tx.rollback().await?;
    } else {
        tx.commit().await?;
    }
    let inactive_before = now - chrono::Duration::days(i64::from(config.inactive_household_days));
    let inactive = store::inactive_households(pool, inactive_before, now).await?;
    if !dry_run {
        for household in &inactive {
            close_household(
                pool,
                data_dir,
                HouseholdId(*household),
                ClosedBy::Retention,
                now,
                today,
            )
            .await?;
        }
    }
    let invoice_before = now - chrono::Duration::days(365 * i64::from(config.invoice_years) + 3);
    let swept = Swept {
        sessions,
        email_tokens,
        audit_entries,
        inactive_households: inactive.len() as u64,
        invoices_past_retention: store::invoices_before(pool, invoice_before).await?,
    };
    tracing::info!(
        dry_run,
        sessions = swept.sessions,
        email_tokens = swept.email_tokens,
        audit_entries = swept.audit_entries,
        inactive_households = swept.inactive_households,
        invoices_past_retention = swept.invoices_past_retention,
        "retention run"
    );
    Ok(swept)
}

/// What the daily job needs.
#[derive(Clone)]
pub struct Job {
    pub pool: PgPool,
    pub config: std::sync::Arc<crate::platform::config::Config>,
    pub clock: std::sync::Arc<dyn crate::platform::clock::Clock>,
}

/// The daily retention job: at start, then every 24 hours, until `stop`. Two instances may
/// run it at once: each deletion is idempotent and a closure locks its household.
pub async fn run(job: Job, mut stop: watch::Receiver<()>) {
    loop {
        let now = job.clock.now();
        let today = crate::platform::rules(&job.config, now).today();
        if let Err(e) = retention(
            &job.pool,
            &job.config.data_dir,
            &job.config.retention,
            now,
            today,
            false,
        )
        .await
        {
            tracing::warn!(error = %e, "retention run failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(86_400)) => {}
            _ = stop.changed() => break,
        }
    }
}
