//! Finance's decision on a PayFiP mismatch: an attempt PayFiP answered paid for something else
//! than what was sent (another amount, `refdet`, `numcli`, year, a test payment in
//! production). Nothing was credited and online payment of the invoice is blocked until
//! finance decides, once, with a reason, audited:
//!
//! - **accept**: the money was taken, so the ledger is credited with the amount PayFiP says
//!   it took, through billing's recorder in the decision's transaction, with the idempotency
//!   key `payfip-resolution:<idOp>` (a retried decision cannot credit twice, and the unique
//!   decision per attempt refuses a second one);
//! - **dismiss**: the payment is refunded outside Cantine (by the DGFiP or the régie);
//!   nothing is credited.
//!
//! Either way the attempt stays `mismatch` (its history is kept) and the invoice may be paid
//! online again.

use cantine_domain::ids::HouseholdId;
use cantine_domain::money::Cents;
use chrono::{DateTime, Utc};
use chrono_tz::Europe::Paris;
use serde::Serialize;
use serde_json::json;
use sqlx::PgPool;

use super::store::{self, MismatchCaseRow, NewResolution};
use crate::audit::{self, Action, Actor};
use crate::billing::{self, PaymentInput};
use crate::error::{Conflict, Error, Invalid, PaymentConflict, Result};

/// What finance decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Credit the amount PayFiP took.
    Accept,
    /// Credit nothing: refunded outside.
    Dismiss,
}

impl Decision {
    pub fn code(self) -> &'static str {
        match self {
            Decision::Accept => "accepted",
            Decision::Dismiss => "dismissed",
        }
    }

    pub fn parse(text: &str) -> Option<Decision> {
        match text {
            "accept" | "accepted" => Some(Decision::Accept),
            "dismiss" | "dismissed" => Some(Decision::Dismiss),
            _ => None,
        }
    }
}

/// A reason is required: 1 to 500 characters.
pub const MAX_REASON: usize = 500;

/// One mismatch as finance reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Case {
    pub attempt_id: i64,
    pub invoice_id: i64,
    pub invoice_number: Option<String>,
    pub household: HouseholdId,
    pub household_name: String,
    pub refdet: String,
    pub id_op: String,
    /// What was sent to PayFiP.
    pub amount: Cents,
    /// What PayFiP answered it took (`montant`), when it said.
    pub answered_amount: Option<Cents>,
    /// What differed: `[{field, answered}]`.
    pub found: serde_json::Value,
    pub answer: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    pub resolution: Option<Resolution>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resolution {
    pub decision: Decision,
    pub amount: Option<Cents>,
    pub payment_id: Option<i64>,
    pub reason: String,
    pub resolved_by: Option<String>,
    pub resolved_at: DateTime<Utc>,
}

impl TryFrom<MismatchCaseRow> for Case {
    type Error = Error;

    fn try_from(r: MismatchCaseRow) -> Result<Self> {
        let resolution = match (r.decision.as_deref(), r.resolved_at) {
            (Some(code), Some(at)) => Some(Resolution {
                decision: Decision::parse(code)
                    .ok_or_else(|| anyhow::anyhow!("stored payfip_resolution.decision {code:?}"))?,
                amount: r.resolved_amount_cents.map(Cents),
                payment_id: r.resolved_payment_id,
                reason: r.reason.unwrap_or_default(),
                resolved_by: r.resolved_by,
                resolved_at: at,
            }),
            _ => None,
        };
        Ok(Case {
            attempt_id: r.attempt_id,
            invoice_id: r.invoice_id,
            invoice_number: r.invoice_number,
            household: HouseholdId(r.household_id),
            household_name: r.household_name,
            refdet: r.refdet,
            id_op: r.id_op,
            amount: Cents(r.amount_cents),
            answered_amount: r.answer.get("montant").and_then(|m| m.as_i64()).map(Cents),
            found: r.found,
            answer: r.answer,
            created_at: r.created_at,
            recorded_at: r.recorded_at,
            resolution,
        })
    }
}

/// The mismatches, open ones first; `open_only` leaves out the resolved ones.
pub async fn cases(pool: &PgPool, open_only: bool) -> Result<Vec<Case>> {
    let mut conn = pool.acquire().await?;
    store::mismatch_cases(&mut conn, open_only, None)
        .await?
        .into_iter()
        .map(Case::try_from)
        .collect()
}

fn not_open() -> Error {
    Error::Conflict(Conflict::Payment(PaymentConflict::MismatchNotOpen))
}

/// Finance's decision on the attempt's mismatch, in one transaction under the attempt's row
/// lock: the resolution, the ledger credit (when accepted) and the audit entry commit
/// together. An attempt that is not a mismatch, or one already decided, is refused (409
/// `mismatch_not_open`).
pub async fn resolve(
    pool: &PgPool,
    actor: &Actor,
    attempt_id: i64,
    decision: Decision,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Case> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON {
        return Err(Error::Invalid(Invalid::Request(format!(
            "reason: 1 to {MAX_REASON} characters"
        ))));
    }
    let mut tx = pool.begin().await?;
    let (state, resolved) = store::lock_attempt(&mut tx, attempt_id)
        .await?
        .ok_or(Error::NotFound)?;
    if state != "mismatch" || resolved {
        return Err(not_open());
    }
    let case: Case = store::mismatch_cases(&mut tx, true, Some(attempt_id))
        .await?
        .into_iter()
        .next()
        .ok_or_else(not_open)?
        .try_into()?;
    let regie: String = sqlx::query_scalar!(
        "select r.code from payfip_attempt a join regie r on r.id = a.regie_id where a.id = $1",
        attempt_id
    )
    .fetch_one(&mut *tx)
    .await?;
    let (amount, payment_id) = match decision {
        Decision::Dismiss => (None, None),
        Decision::Accept => {
            // What PayFiP says it took is what the family paid.
            let amount = case
                .answered_amount
                .filter(|a| *a > Cents::ZERO)
                .ok_or(Error::Invalid(Invalid::Amount))?;
            let received_on = case
                .answer
                .get("at")
                .and_then(|t| t.as_str())
                .and_then(|t| t.parse::<DateTime<Utc>>().ok())
                .unwrap_or(now)
                .with_timezone(&Paris)
                .date_naive();
            let outcome = billing::record_payment_by_in(
                &mut tx,
                actor,
                &PaymentInput {
                    household: case.household,
                    regie,
                    amount,
                    means: billing::Means::Payfip,
                    reference: format!("PayFiP {} (anomalie acceptée)", case.refdet),
                    received_on,
                    idempotency_key: format!("payfip-resolution:{}", case.id_op),
                    invoice: Some(case.invoice_id),
                },
            )
            .await?;
            (Some(amount), Some(outcome.payment_id))
        }
    };
    store::insert_resolution(
        &mut tx,
        NewResolution {
            attempt_id,
            decision: decision.code(),
            amount_cents: amount.map(Cents::get),
            payment_id,
            reason,
            resolved_by: actor.account.get(),
            resolved_at: now,
        },
    )
    .await
    .map_err(|e| {
        crate::error::on_constraint(e, |name| {
            (name == "payfip_resolution_attempt_unique").then(not_open)
        })
    })?;
    audit::record(
        &mut tx,
        &audit::Entry::new(actor, Action::PaymentMismatchResolved)
            .household(case.household)
            .detail(json!({
                "attempt": attempt_id,
                "refdet": case.refdet,
                "decision": decision.code(),
                "amount_cents": amount.map(Cents::get),
                "payment": payment_id,
                "reason": reason,
            })),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(attempt = attempt_id, refdet = %case.refdet, decision = decision.code(),
        payment = ?payment_id, "PayFiP mismatch resolved by finance");
    let mut conn = pool.acquire().await?;
    store::mismatch_cases(&mut conn, false, Some(attempt_id))
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| anyhow::anyhow!("attempt {attempt_id} just resolved is gone"))?
        .try_into()
}
