//! Finance's view of online payments: the daily reconciliation report, PayFiP's attempts of a
//! Paris day beside the ledger's PayFiP payments, with every difference.

use axum::extract::State;
use axum::http::Method;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use cantine_domain::roles::Role;

use super::{Access, Staff, Table};
use crate::error::Result;
use crate::http::AppState;
use crate::http::error::{Json, Query};
use crate::payments::{self, Difference, Report};

/// Those who reconcile the money: the finances.
pub const PAYMENT_READERS: &[Role] = &[Role::Finance];

pub(super) fn declare(table: Table) -> Table {
    table.add(
        Method::GET,
        "/api/v1/staff/payments/reconciliation",
        Access::Roles(PAYMENT_READERS),
        reconciliation_report,
    )
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// The day, in Europe/Paris (`2026-12-02`).
    day: NaiveDate,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReportLineOut {
    payment_id: i64,
    household_id: i64,
    invoice_id: i64,
    invoice_number: Option<String>,
    /// PayFiP's `refdet` and `idOp`.
    refdet: String,
    id_op: String,
    amount_cents: i64,
    /// `pending`, `paid`, `refused`, `abandoned`, `expired`, `mismatch` or `failed`.
    state: String,
    /// `card` or `debit`.
    means: Option<String>,
    authorisation: Option<String>,
    created_at: DateTime<Utc>,
    decided_at: Option<DateTime<Utc>>,
    /// The last PayFiP fault (element and code) or transport error.
    last_fault: Option<String>,
    /// The ledger's payment credited for it that day, and its amount.
    ledger_payment_id: Option<i64>,
    ledger_amount_cents: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReconciliationDifferenceOut {
    /// `mismatch` (PayFiP answered paid for something else), `not_credited` (paid without its
    /// ledger payment, or of another amount), `unknown_ledger_payment` (a PayFiP payment of the
    /// ledger no paid attempt accounts for) or `pending` (still undecided).
    kind: String,
    payment_id: Option<i64>,
    ledger_payment_id: Option<i64>,
    amount_cents: Option<i64>,
    /// For a mismatch: what differed, as `[{field, answered}]`.
    #[schema(value_type = Object)]
    found: Option<serde_json::Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReportOut {
    day: NaiveDate,
    /// Paid at PayFiP per the attempts opened that day, and credited in the ledger that day.
    paid_total_cents: i64,
    ledger_total_cents: i64,
    lines: Vec<ReportLineOut>,
    differences: Vec<ReconciliationDifferenceOut>,
}

impl From<Report> for ReportOut {
    fn from(r: Report) -> Self {
        let difference = |d: Difference| {
            let (kind, payment_id, ledger_payment_id, amount_cents, found) = match d {
                Difference::Mismatch { attempt, found } => {
                    ("mismatch", Some(attempt), None, None, Some(found))
                }
                Difference::NotCredited { attempt } => {
                    ("not_credited", Some(attempt), None, None, None)
                }
                Difference::UnknownLedgerPayment { payment, amount } => (
                    "unknown_ledger_payment",
                    None,
                    Some(payment),
                    Some(amount.get()),
                    None,
                ),
                Difference::Pending { attempt } => ("pending", Some(attempt), None, None, None),
            };
            ReconciliationDifferenceOut {
                kind: kind.to_owned(),
                payment_id,
                ledger_payment_id,
                amount_cents,
                found,
            }
        };
        Self {
            day: r.day,
            paid_total_cents: r.paid_total.get(),
            ledger_total_cents: r.ledger_total.get(),
            lines: r
                .lines
                .into_iter()
                .map(|l| ReportLineOut {
                    payment_id: l.payment.id,
                    household_id: l.payment.household.get(),
                    invoice_id: l.payment.invoice_id,
                    invoice_number: l.payment.invoice_number,
                    refdet: l.payment.refdet,
                    id_op: l.payment.id_op,
                    amount_cents: l.payment.amount.get(),
                    state: l.payment.state.code().to_owned(),
                    means: l.payment.means,
                    authorisation: l.payment.authorisation,
                    created_at: l.payment.created_at,
                    decided_at: l.payment.decided_at,
                    last_fault: l.payment.last_fault,
                    ledger_payment_id: l.ledger_payment.map(|p| p.0),
                    ledger_amount_cents: l.ledger_payment.map(|p| p.1.get()),
                })
                .collect(),
            differences: r.differences.into_iter().map(difference).collect(),
        }
    }
}

/// The day's PayFiP attempts beside the ledger's PayFiP payments, and the differences between
/// them, for finance to check each morning.
#[utoipa::path(get, path = "/api/v1/staff/payments/reconciliation",
    operation_id = "reconciliationReport", tag = "staff", params(ReportQuery),
    security(("session" = [])), responses((status = 200, body = ReportOut)))]
pub async fn reconciliation_report(
    State(state): State<AppState>,
    _staff: Staff,
    Query(q): Query<ReportQuery>,
) -> Result<Json<ReportOut>> {
    let report = payments::reconciliation_report(&state.pool, q.day).await?;
    Ok(Json(report.into()))
}
