//! The audit log: an append-only record of what staff do and read, for the commune's data
//! protection officer and for disputes. Every staff write records its entry in the write's own
//! transaction, so an action and its evidence commit together or not at all. The table refuses
//! UPDATE, DELETE and TRUNCATE (migration 0004); nothing here offers to change an entry.

mod store;

use cantine_domain::ids::{AccountId, ChildId, HouseholdId};
use serde_json::Value;
use sqlx::{PgConnection, PgPool};

use crate::error::Result;

pub use store::{Filter, Row};

/// Who acts: the signed-in staff member and the address they came from.
#[derive(Debug, Clone)]
pub struct Actor {
    pub account: AccountId,
    pub email: String,
    pub ip: String,
}

/// What happened. The codes are stored, filtered on and exported: they never change meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    StaffLogin,
    SecondFactorFailed,
    SecondFactorEnrolled,
    RecoveryCodeUsed,
    SecondFactorReset,
    StaffAccountCreated,
    RolesChanged,
    EnrollmentRequested,
    EnrollmentDecided,
    QuotientFamilialSet,
    DaysClosed,
    DaysReopened,
    HouseholdCreated,
    ChildAdded,
    ReservationChanged,
    HealthDataRead,
    AbsenceDecided,
    CertificateRead,
    MenuSet,
    MenuDeleted,
    MenusImported,
    AttendanceCorrected,
    AttendanceLocked,
    TariffSaved,
    BillingRun,
    InvoicesIssued,
    CreditNoteIssued,
    ContestAnswered,
    PaymentRecorded,
    RefundIssued,
    CustodySet,
    CustodyRemoved,
    PaymentMismatchResolved,
    /// A household's account closed and its identities erased (RGPD), at the counter or by
    /// the retention job.
    HouseholdClosed,
    MandateRevoked,
    DirectDebitsExported,
    DirectDebitRejected,
}

impl Action {
    pub const ALL: [Action; 37] = [
        Action::StaffLogin,
        Action::SecondFactorFailed,
        Action::SecondFactorEnrolled,
        Action::RecoveryCodeUsed,
        Action::SecondFactorReset,
        Action::StaffAccountCreated,
        Action::RolesChanged,
        Action::EnrollmentRequested,
        Action::EnrollmentDecided,
        Action::QuotientFamilialSet,
        Action::DaysClosed,
        Action::DaysReopened,
        Action::HouseholdCreated,
        Action::ChildAdded,
        Action::ReservationChanged,
        Action::HealthDataRead,
        Action::AbsenceDecided,
        Action::CertificateRead,
        Action::MenuSet,
        Action::MenuDeleted,
        Action::MenusImported,
        Action::AttendanceCorrected,
        Action::AttendanceLocked,
        Action::TariffSaved,
        Action::BillingRun,
        Action::InvoicesIssued,
        Action::CreditNoteIssued,
        Action::ContestAnswered,
        Action::PaymentRecorded,
        Action::RefundIssued,
        Action::CustodySet,
        Action::CustodyRemoved,
        Action::PaymentMismatchResolved,
        Action::HouseholdClosed,
        Action::MandateRevoked,
        Action::DirectDebitsExported,
        Action::DirectDebitRejected,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Action::StaffLogin => "staff_login",
            Action::SecondFactorFailed => "second_factor_failed",
            Action::SecondFactorEnrolled => "second_factor_enrolled",
            Action::RecoveryCodeUsed => "recovery_code_used",
            Action::SecondFactorReset => "second_factor_reset",
            Action::StaffAccountCreated => "staff_account_created",
            Action::RolesChanged => "roles_changed",
            Action::EnrollmentRequested => "enrollment_requested",
            Action::EnrollmentDecided => "enrollment_decided",
            Action::QuotientFamilialSet => "quotient_familial_set",
            Action::DaysClosed => "days_closed",
            Action::DaysReopened => "days_reopened",
            Action::HouseholdCreated => "household_created",
            Action::ChildAdded => "child_added",
            Action::ReservationChanged => "reservation_changed",
            Action::HealthDataRead => "health_data_read",
            Action::AbsenceDecided => "absence_decided",
            Action::CertificateRead => "certificate_read",
            Action::MenuSet => "menu_set",
            Action::MenuDeleted => "menu_deleted",
            Action::MenusImported => "menus_imported",
            Action::AttendanceCorrected => "attendance_corrected",
            Action::AttendanceLocked => "attendance_locked",
            Action::TariffSaved => "tariff_saved",
            Action::BillingRun => "billing_run",
            Action::InvoicesIssued => "invoices_issued",
            Action::CreditNoteIssued => "credit_note_issued",
            Action::ContestAnswered => "contest_answered",
            Action::PaymentRecorded => "payment_recorded",
            Action::RefundIssued => "refund_issued",
            Action::CustodySet => "custody_set",
            Action::CustodyRemoved => "custody_removed",
            Action::PaymentMismatchResolved => "payment_mismatch_resolved",
            Action::HouseholdClosed => "household_closed",
            Action::MandateRevoked => "mandate_revoked",
            Action::DirectDebitsExported => "direct_debits_exported",
            Action::DirectDebitRejected => "direct_debit_rejected",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.code() == code)
    }
}

/// One entry to record. `actor` is `None` for the appliance's console (`cantine admin`), and
/// the detail says so.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    pub actor: Option<&'a Actor>,
    pub action: Action,
    pub household: Option<HouseholdId>,
    pub child: Option<ChildId>,
    pub detail: Value,
}

impl<'a> Entry<'a> {
    pub fn new(actor: &'a Actor, action: Action) -> Self {
        Self {
            actor: Some(actor),
            action,
            household: None,
            child: None,
            detail: Value::Object(Default::default()),
        }
    }

    pub fn household(mut self, household: HouseholdId) -> Self {
        self.household = Some(household);
        self
    }

    pub fn child(mut self, child: ChildId) -> Self {
        self.child = Some(child);
        self
    }

    pub fn detail(mut self, detail: Value) -> Self {
        self.detail = detail;
        self
    }
}

/// Records inside the caller's transaction.
pub async fn record(conn: &mut PgConnection, entry: &Entry<'_>) -> Result<()> {
    store::insert(conn, entry).await
}

/// Records on its own, for what has no other write: a login, a read of health data.
pub async fn record_now(pool: &PgPool, entry: &Entry<'_>) -> Result<()> {
    let mut conn = pool.acquire().await?;
    store::insert(&mut conn, entry).await
}

/// The newest entries first, as filtered; at most `filter.limit`.
pub async fn list(pool: &PgPool, filter: &Filter) -> Result<Vec<Row>> {
    store::list(pool, filter).await
}

/// The entries as CSV (RFC 4180, UTF-8, comma-separated), for the export.
pub fn to_csv(rows: &[Row]) -> String {
    let mut out = String::from(
        "id,at,actor_account_id,actor_email,action,household_id,child_id,client_ip,detail\r\n",
    );
    for row in rows {
        let fields = [
            row.id.to_string(),
            row.at.to_rfc3339(),
            row.actor_account_id
                .map(|a| a.to_string())
                .unwrap_or_default(),
            row.actor_email.clone().unwrap_or_default(),
            row.action.clone(),
            row.household_id.map(|h| h.to_string()).unwrap_or_default(),
            row.child_id.map(|c| c.to_string()).unwrap_or_default(),
            row.client_ip.clone().unwrap_or_default(),
            row.detail.to_string(),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

/// Quotes a field when it needs it, and defuses spreadsheet formulas: a cell starting with
/// `=`, `+`, `-` or `@` typed by someone (a reason, a name) must not run in the DPO's
/// spreadsheet.
fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for action in Action::ALL {
            assert!(seen.insert(action.code()));
            assert_eq!(Action::from_code(action.code()), Some(action));
        }
    }

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("-2"), "'-2");
    }
}
