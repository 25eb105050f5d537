//! What the payments service needs of the ledger inside its own transaction: a PayFiP answer
//! is applied to the attempt and credited in one commit, so that the attempt's row lock is
//! what makes two concurrent notifications credit once (the idempotency key stays the
//! second guard).

use cantine_domain::money::Cents;
use sqlx::PgConnection;

use super::ledger::{allocate, already_recorded};
use super::ledger_store as store;
use super::{PaymentInput, PaymentOutcome};
use crate::error::{Error, Invalid, Result};

/// [`super::record_payment`] for a system action (no actor, no audit entry), in `tx`: once
/// per idempotency key, allocated to the invoice named first, then the oldest still due.
pub(crate) async fn record_payment_in(
    tx: &mut PgConnection,
    p: &PaymentInput,
) -> Result<PaymentOutcome> {
    if p.amount <= Cents::ZERO {
        return Err(Error::Invalid(Invalid::Amount));
    }
    let key = p.idempotency_key.trim();
    let regie = store::regie_id(&mut *tx, &p.regie)
        .await?
        .ok_or(Error::NotFound)?;
    if !store::lock_household_if_any(&mut *tx, p.household.get()).await? {
        return Err(Error::NotFound);
    }
    let inserted = store::insert_payment(
        &mut *tx,
        store::NewPayment {
            household_id: p.household.get(),
            regie_id: regie,
            amount: p.amount.get(),
            means: p.means.code(),
            reference: p.reference.trim(),
            received_on: p.received_on,
            idempotency_key: key,
            recorded_by: None,
            invoice_id: p.invoice,
            receipt_number: None,
        },
    )
    .await?;
    let Some(payment_id) = inserted else {
        // The same operation credited before (`payfip:<idOp>`): only the same request is an
        // idempotent retry.
        return already_recorded(&mut *tx, key, regie, p).await;
    };
    let entry = store::insert_entry(
        &mut *tx,
        store::NewEntry {
            household_id: p.household.get(),
            regie_id: regie,
            kind: "payment",
            amount: -p.amount.get(),
            invoice_id: None,
            payment_id: Some(payment_id),
            memo: p.reference.trim(),
            recorded_by: None,
        },
    )
    .await?;
    let due = store::open_dues(&mut *tx, p.household.get(), regie, p.invoice).await?;
    allocate(&mut *tx, &[(entry, p.amount.get())], &due).await?;
    Ok(PaymentOutcome {
        payment_id,
        new: true,
        receipt: None,
    })
}
