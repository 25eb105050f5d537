//! Finance's view of online payments: the daily reconciliation report, PayFiP's attempts of a
//! Paris day beside the ledger's PayFiP payments, with every difference.

use axum::extract::State;
use axum::http::Method;
use cantine_domain::money::Cents;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use cantine_domain::roles::Role;

use super::{Access, Staff, Table};
use crate::error::{Error, Invalid, Result};
use crate::http::AppState;
use crate::http::error::Problem;
use crate::http::error::{Json, Path, Query};
use crate::payments::mismatches::{self, Case, Decision};
use crate::payments::{self, Difference, Report};

/// Those who reconcile the money: the finances.
pub const PAYMENT_READERS: &[Role] = &[Role::Finance];
/// Those who read the PayFiP mismatches: finance, and the service (read-only).
pub const MISMATCH_READERS: &[Role] = &[Role::Finance, Role::Manager];
/// Those who resolve one: finance.
pub const MISMATCH_RESOLVERS: &[Role] = &[Role::Finance];

pub(super) fn declare(table: Table) -> Table {
    table
        .add(
            Method::GET,
            "/api/v1/staff/payments/reconciliation",
            Access::Roles(PAYMENT_READERS),
            reconciliation_report,
        )
        .add(
            Method::GET,
            "/api/v1/staff/payments/mismatches",
            Access::Roles(MISMATCH_READERS),
            list_payment_mismatches,
        )
        .add(
            Method::POST,
            "/api/v1/staff/payments/mismatches/{attempt_id}/resolution",
            Access::Roles(MISMATCH_RESOLVERS),
            resolve_payment_mismatch,
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

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct MismatchesQuery {
    /// `open` (default): those waiting for finance; `all`: resolved ones too.
    #[param(pattern = "^(open|all)$")]
    state: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MismatchResolutionOut {
    /// `accepted` (credited the amount PayFiP took) or `dismissed` (refunded outside).
    decision: String,
    amount_cents: Option<i64>,
    /// The ledger payment an accepted mismatch credited.
    ledger_payment_id: Option<i64>,
    reason: String,
    resolved_by: Option<String>,
    resolved_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentMismatchOut {
    /// The PayFiP attempt (`payment_id` of `getPayment`).
    payment_id: i64,
    household_id: i64,
    household_name: String,
    invoice_id: i64,
    invoice_number: Option<String>,
    refdet: String,
    id_op: String,
    /// What was sent to PayFiP, and what PayFiP answered it took.
    amount_cents: i64,
    answered_amount_cents: Option<i64>,
    /// What differed, as `[{field, answered}]`.
    #[schema(value_type = Object)]
    found: serde_json::Value,
    created_at: DateTime<Utc>,
    recorded_at: DateTime<Utc>,
    resolution: Option<MismatchResolutionOut>,
}

impl From<Case> for PaymentMismatchOut {
    fn from(c: Case) -> Self {
        Self {
            payment_id: c.attempt_id,
            household_id: c.household.get(),
            household_name: c.household_name,
            invoice_id: c.invoice_id,
            invoice_number: c.invoice_number,
            refdet: c.refdet,
            id_op: c.id_op,
            amount_cents: c.amount.get(),
            answered_amount_cents: c.answered_amount.map(Cents::get),
            found: c.found,
            created_at: c.created_at,
            recorded_at: c.recorded_at,
            resolution: c.resolution.map(|r| MismatchResolutionOut {
                decision: r.decision.code().to_owned(),
                amount_cents: r.amount.map(Cents::get),
                ledger_payment_id: r.payment_id,
                reason: r.reason,
                resolved_by: r.resolved_by,
                resolved_at: r.resolved_at,
            }),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MismatchResolutionBody {
    /// `accept`: credit the ledger once with the amount PayFiP says it took; `dismiss`: credit
    /// nothing (the payment is refunded outside Cantine).
    #[schema(pattern = "^(accept|dismiss)$")]
    decision: String,
    /// Why, for the audit log: 1 to 500 characters.
    #[schema(min_length = 1, max_length = 500)]
    reason: String,
}

/// The PayFiP mismatches: attempts PayFiP answered paid for something else than what was
/// sent, which credited nothing and block online payment of their invoice until finance
/// decides. Open ones by default.
#[utoipa::path(get, path = "/api/v1/staff/payments/mismatches",
    operation_id = "listPaymentMismatches", tag = "staff", params(MismatchesQuery),
    security(("session" = [])), responses((status = 200, body = [PaymentMismatchOut])))]
pub async fn list_payment_mismatches(
    State(state): State<AppState>,
    _staff: Staff,
    Query(q): Query<MismatchesQuery>,
) -> Result<Json<Vec<PaymentMismatchOut>>> {
    let open_only = match q.state.as_deref() {
        None | Some("open") => true,
        Some("all") => false,
        Some(_) => {
            return Err(Error::Invalid(Invalid::Request(
                "state: `open` or `all`".into(),
            )));
        }
    };
    let cases = mismatches::cases(&state.pool, open_only).await?;
    Ok(Json(cases.into_iter().map(Into::into).collect()))
}

/// Finance's decision on a mismatch, once, with a reason (audited): `accept` credits the
/// ledger with the amount PayFiP took (idempotency key `payfip-resolution:<idOp>`), `dismiss`
/// credits nothing. Either way the invoice may be paid online again.
#[utoipa::path(post, path = "/api/v1/staff/payments/mismatches/{attempt_id}/resolution",
    operation_id = "resolvePaymentMismatch", tag = "staff",
    params(("attempt_id" = i64, Path, minimum = 1)), request_body = MismatchResolutionBody,
    security(("session" = [], "csrf" = [])),
    responses((status = 200, body = PaymentMismatchOut),
        (status = 404, body = Problem, description = "`not_found`: no such attempt"),
        (status = 409, body = Problem, description = "`mismatch_not_open`: not a mismatch, or already resolved"),
        (status = 422, body = Problem, description = "`validation`: an unknown decision, a reason blank or too long, or no amount in PayFiP's answer to accept")))]
pub async fn resolve_payment_mismatch(
    State(state): State<AppState>,
    staff: Staff,
    Path(attempt): Path<i64>,
    Json(body): Json<MismatchResolutionBody>,
) -> Result<Json<PaymentMismatchOut>> {
    let decision = Decision::parse(&body.decision).ok_or_else(|| {
        Error::Invalid(Invalid::Request("decision: `accept` or `dismiss`".into()))
    })?;
    let case = mismatches::resolve(
        &state.pool,
        &staff.actor,
        attempt,
        decision,
        &body.reason,
        state.clock.now(),
    )
    .await?;
    Ok(Json(case.into()))
}
