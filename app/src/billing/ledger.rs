//! The household's ledger: one entry per issued invoice or credit note, payment and refund,
//! and the allocations saying which settling entry (payment, credit note) pays which owing
//! entry (invoice, refund). An invoice's paid amount and the household's unused credit both
//! come from the allocations; the balance is the entries' sum.
//!
//! Every change takes the household's row lock first, so two payments, or a payment and an
//! issue, never allocate the same credit twice.

use cantine_domain::ids::HouseholdId;
use cantine_domain::money::Cents;
use chrono::Datelike;
use serde_json::json;
use sqlx::{PgConnection, PgPool};

use super::ledger_store as store;
use super::{Balance, EntryKind, LedgerEntry, Means, PaymentInput, PaymentOutcome};
use crate::audit::{self, Action, Actor};
use crate::error::{BillingConflict, Error, Invalid, Result};

/// The longest payment reference or refund memo kept.
const MAX_REFERENCE: usize = 200;

/// Posts an invoice or credit note just issued in `tx`: its ledger entry, then its
/// allocations. A new invoice uses the household's unused credit, oldest first; a credit note
/// settles the invoice it corrects first, then the oldest invoices still due, and any rest
/// stays as credit for the next invoice.
pub(crate) async fn post_document(tx: &mut PgConnection, invoice_id: i64) -> Result<()> {
    let doc = store::document_to_post(&mut *tx, invoice_id).await?;
    if doc.status != "issued" {
        return Err(anyhow::anyhow!("invoice {invoice_id} is posted before it is issued").into());
    }
    store::lock_household(&mut *tx, doc.household_id).await?;
    let memo = doc.number.clone().unwrap_or_default();
    if doc.kind == "invoice" {
        let entry = store::insert_entry(
            &mut *tx,
            store::NewEntry {
                household_id: doc.household_id,
                regie_id: doc.regie_id,
                kind: "invoice",
                amount: doc.amount_cents,
                invoice_id: Some(invoice_id),
                payment_id: None,
                memo: &memo,
                recorded_by: doc.created_by,
            },
        )
        .await?;
        let credits = store::open_credits(&mut *tx, doc.household_id, doc.regie_id).await?;
        allocate(tx, &credits, &[(entry, doc.amount_cents)]).await
    } else {
        let entry = store::insert_entry(
            &mut *tx,
            store::NewEntry {
                household_id: doc.household_id,
                regie_id: doc.regie_id,
                kind: "credit_note",
                amount: -doc.amount_cents,
                invoice_id: Some(invoice_id),
                payment_id: None,
                memo: &memo,
                recorded_by: doc.created_by,
            },
        )
        .await?;
        let due = store::open_dues(
            &mut *tx,
            doc.household_id,
            doc.regie_id,
            doc.corrects_invoice_id,
        )
        .await?;
        allocate(tx, &[(entry, doc.amount_cents)], &due).await
    }
}

/// [`post_document`] for many issued invoices of one régie at once (a run's issue): their
/// households locked in id order, one entry each, then each household's unused credit, oldest
/// first, allocated to its new invoice; a handful of statements whatever their number. Each
/// household has one invoice in `invoices` (a run makes one document per household).
pub(crate) async fn post_invoices(
    tx: &mut PgConnection,
    regie: i64,
    invoices: &[i64],
) -> Result<()> {
    if invoices.is_empty() {
        return Ok(());
    }
    store::lock_households_of(&mut *tx, invoices).await?;
    let posted = store::insert_invoice_entries(&mut *tx, invoices).await?;
    if posted.len() != invoices.len() {
        return Err(anyhow::anyhow!(
            "{} of {} invoices are posted before they are issued",
            invoices.len() - posted.len(),
            invoices.len()
        )
        .into());
    }
    let mut credits: std::collections::HashMap<i64, Vec<(i64, i64)>> =
        std::collections::HashMap::new();
    let households: Vec<i64> = posted.iter().map(|p| p.household_id).collect();
    for (household, entry, left) in store::open_credits_of(&mut *tx, &households, regie).await? {
        credits.entry(household).or_default().push((entry, left));
    }
    let mut pairs = Vec::new();
    for p in &posted {
        if let Some(open) = credits.get(&p.household_id) {
            pairs.extend(pair(open, &[(p.entry_id, p.amount_cents)]));
        }
    }
    if pairs.is_empty() {
        return Ok(());
    }
    store::insert_allocations(tx, &pairs).await
}

/// Pairs settling amounts with owing amounts in the order given, and records the pairs.
pub(crate) async fn allocate(
    tx: &mut PgConnection,
    sources: &[(i64, i64)],
    targets: &[(i64, i64)],
) -> Result<()> {
    let pairs = pair(sources, targets);
    if pairs.is_empty() {
        return Ok(());
    }
    store::insert_allocations(tx, &pairs).await
}

/// Greedy matching: each source pays the targets in order until one side runs out. Neither
/// side is ever allocated more than it has.
pub(crate) fn pair(sources: &[(i64, i64)], targets: &[(i64, i64)]) -> Vec<(i64, i64, i64)> {
    let mut out = Vec::new();
    let mut targets: Vec<(i64, i64)> = targets.iter().copied().filter(|t| t.1 > 0).collect();
    let mut t = 0;
    for &(source, mut left) in sources {
        while left > 0 && t < targets.len() {
            let take = left.min(targets[t].1);
            out.push((source, targets[t].0, take));
            left -= take;
            targets[t].1 -= take;
            if targets[t].1 == 0 {
                t += 1;
            }
        }
    }
    out
}

/// A refusal of the billing state, as the one error type carries it.
pub(crate) fn conflict(c: BillingConflict) -> Error {
    Error::Conflict(crate::error::Conflict::Billing(c))
}

/// The sum of what `pairs` allocates.
pub(crate) fn allocated(pairs: &[(i64, i64, i64)]) -> Cents {
    Cents(pairs.iter().map(|p| p.2).sum())
}

impl Means {
    pub fn code(self) -> &'static str {
        match self {
            Means::Card => "card",
            Means::SepaDebit => "sepa_debit",
            Means::Cash => "cash",
            Means::Cheque => "cheque",
            Means::Transfer => "transfer",
            Means::Cesu => "cesu",
            Means::ChequesVacances => "cheques_vacances",
            Means::Payfip => "payfip",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        [
            Means::Card,
            Means::SepaDebit,
            Means::Cash,
            Means::Cheque,
            Means::Transfer,
            Means::Cesu,
            Means::ChequesVacances,
            Means::Payfip,
        ]
        .into_iter()
        .find(|m| m.code() == code)
    }

    /// Money handed over at the counter (or a transfer finance records): it gets a receipt.
    pub fn is_counter(self) -> bool {
        matches!(
            self,
            Means::Cash | Means::Cheque | Means::Transfer | Means::Cesu | Means::ChequesVacances
        )
    }
}

impl EntryKind {
    pub(crate) fn from_code(code: &str) -> Result<Self> {
        match code {
            "invoice" => Ok(EntryKind::Invoice),
            "credit_note" => Ok(EntryKind::CreditNote),
            "payment" => Ok(EntryKind::Payment),
            "refund" => Ok(EntryKind::Refund),
            "reversal" => Ok(EntryKind::Reversal),
            _ => Err(anyhow::anyhow!("stored ledger_entry.kind {code:?}").into()),
        }
    }
}

fn short_text(text: &str) -> Result<String> {
    let text = text.trim();
    if text.chars().count() > MAX_REFERENCE {
        return Err(Error::Invalid(Invalid::Request(format!(
            "reference: at most {MAX_REFERENCE} characters"
        ))));
    }
    if text.contains('\0') {
        return Err(Error::Invalid(Invalid::Character));
    }
    Ok(text.to_owned())
}

/// Records a payment once per idempotency key, and allocates it: the invoice it names first,
/// then the oldest invoices still due; what is left stays as credit for the next invoice.
pub(crate) async fn record_payment(
    pool: &PgPool,
    actor: Option<&Actor>,
    p: PaymentInput,
) -> Result<PaymentOutcome> {
    let mut tx = pool.begin().await?;
    let outcome = record_in(&mut tx, actor, &p).await?;
    if outcome.new {
        tx.commit().await?;
    } else {
        // A retry changes nothing: rolling back gives back the receipt number it reserved.
        tx.rollback().await?;
    }
    Ok(outcome)
}

/// [`record_payment`] inside the caller's transaction: the payments service credits a PayFiP
/// answer in the commit that decides its attempt, under the attempt's row lock. A staff
/// `actor` gets a receipt number for a counter payment and an audit entry.
pub(crate) async fn record_in(
    tx: &mut PgConnection,
    actor: Option<&Actor>,
    p: &PaymentInput,
) -> Result<PaymentOutcome> {
    if p.amount <= Cents::ZERO {
        return Err(Error::Invalid(Invalid::Amount));
    }
    let key = p.idempotency_key.trim();
    if key.is_empty() || key.len() > MAX_REFERENCE {
        return Err(Error::Invalid(Invalid::Request(
            "idempotency_key: 1 to 200 characters".into(),
        )));
    }
    let reference = short_text(&p.reference)?;
    let regie = store::regie_id(&mut *tx, &p.regie)
        .await?
        .ok_or(Error::NotFound)?;
    if !store::lock_household_if_any(&mut *tx, p.household.get()).await? {
        return Err(Error::NotFound);
    }
    if let Some(invoice) = p.invoice
        && !store::payable_invoice(&mut *tx, p.household.get(), regie, invoice).await?
    {
        return Err(Error::NotFound);
    }
    let recorded_by = actor.map(|a| a.account.get());
    // Taken before the insert (the payment row cannot change after): on a retried key the
    // transaction rolls back and gives the number back, so the sequence stays gapless.
    let receipt = if actor.is_some() && p.means.is_counter() {
        let year = p.received_on.year();
        let (code, n) = store::next_number(&mut *tx, regie, year, "receipt").await?;
        Some(format!("RC-{code}-{year}-{n:06}"))
    } else {
        None
    };
    let inserted = store::insert_payment(
        &mut *tx,
        store::NewPayment {
            household_id: p.household.get(),
            regie_id: regie,
            amount: p.amount.get(),
            means: p.means.code(),
            reference: &reference,
            received_on: p.received_on,
            idempotency_key: key,
            recorded_by,
            invoice_id: p.invoice,
            receipt_number: receipt.as_deref(),
        },
    )
    .await?;
    let Some(payment_id) = inserted else {
        // A retried call or a repeated notification: the first one stands, unchanged.
        return already_recorded(tx, key, regie, p).await;
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
            memo: &reference,
            recorded_by,
        },
    )
    .await?;
    let due = store::open_dues(&mut *tx, p.household.get(), regie, p.invoice).await?;
    allocate(&mut *tx, &[(entry, p.amount.get())], &due).await?;
    if let Some(actor) = actor {
        audit::record(
            &mut *tx,
            &audit::Entry::new(actor, Action::PaymentRecorded)
                .household(p.household)
                .detail(json!({
                    "payment": payment_id,
                    "amount_cents": p.amount.get(),
                    "means": p.means.code(),
                    "reference": reference,
                    "invoice": p.invoice,
                    "receipt": receipt,
                })),
        )
        .await?;
    }
    Ok(PaymentOutcome {
        payment_id,
        new: true,
        receipt,
    })
}

/// The payment recorded under `key` when `p` is the same request (household, régie, amount,
/// invoice named): an idempotent retry. Anything else reusing the key is refused, and says
/// nothing of the payment it found (it may be another household's).
async fn already_recorded(
    tx: &mut PgConnection,
    key: &str,
    regie: i64,
    p: &PaymentInput,
) -> Result<PaymentOutcome> {
    let first = store::payment_by_key(tx, key).await?;
    let same = first.household_id == p.household.get()
        && first.regie_id == regie
        && first.amount_cents == p.amount.get()
        && first.invoice_id == p.invoice;
    if !same {
        return Err(conflict(BillingConflict::IdempotencyKeyReused));
    }
    Ok(PaymentOutcome {
        payment_id: first.id,
        new: false,
        receipt: first.receipt_number,
    })
}

/// Pays back part of the household's unused credit in the régie: a `refund` entry that the
/// oldest credit settles. More than the credit is refused with the most it could be.
pub(crate) async fn refund(
    pool: &PgPool,
    actor: &Actor,
    household: HouseholdId,
    regie: &str,
    amount: Cents,
    memo: String,
) -> Result<()> {
    if amount <= Cents::ZERO {
        return Err(Error::Invalid(Invalid::Amount));
    }
    let memo = short_text(&memo)?;
    let mut tx = pool.begin().await?;
    let regie_id = store::regie_id(&mut tx, regie)
        .await?
        .ok_or(Error::NotFound)?;
    if !store::lock_household_if_any(&mut tx, household.get()).await? {
        return Err(Error::NotFound);
    }
    let credits = store::open_credits(&mut tx, household.get(), regie_id).await?;
    let credit: i64 = credits.iter().map(|c| c.1).sum();
    if amount.get() > credit {
        return Err(conflict(BillingConflict::AmountExceeded {
            max: Cents(credit),
        }));
    }
    let entry = store::insert_entry(
        &mut tx,
        store::NewEntry {
            household_id: household.get(),
            regie_id,
            kind: "refund",
            amount: amount.get(),
            invoice_id: None,
            payment_id: None,
            memo: &memo,
            recorded_by: Some(actor.account.get()),
        },
    )
    .await?;
    let pairs = pair(&credits, &[(entry, amount.get())]);
    debug_assert_eq!(allocated(&pairs), amount);
    store::insert_allocations(&mut tx, &pairs).await?;
    audit::record(
        &mut tx,
        &audit::Entry::new(actor, Action::RefundIssued)
            .household(household)
            .detail(json!({
                "regie": regie,
                "amount_cents": amount.get(),
                "memo": memo,
            })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn balance(pool: &PgPool, household: HouseholdId) -> Result<Balance> {
    let mut conn = pool.acquire().await?;
    let row = store::balance(&mut conn, household.get()).await?;
    Ok(Balance {
        balance: Cents(row.balance),
        due: Cents(row.due),
        credit: Cents(row.credit),
    })
}

/// The household's entries, oldest first, each with the balance after it.
pub(crate) async fn entries(pool: &PgPool, household: HouseholdId) -> Result<Vec<LedgerEntry>> {
    let mut conn = pool.acquire().await?;
    store::entries(&mut conn, household.get())
        .await?
        .into_iter()
        .map(|r| {
            Ok(LedgerEntry {
                id: r.id,
                at: r.at,
                kind: EntryKind::from_code(&r.kind)?,
                amount: Cents(r.amount_cents),
                document: r.invoice_id.zip(r.number),
                memo: r.memo,
                balance_after: Cents(r.balance_after),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairing_fills_targets_in_order_and_leaves_the_rest() {
        let pairs = pair(&[(1, 500), (2, 300)], &[(10, 400), (11, 600)]);
        assert_eq!(pairs, vec![(1, 10, 400), (1, 11, 100), (2, 11, 300)]);
        assert_eq!(allocated(&pairs), Cents(800));
        assert_eq!(pair(&[(1, 500)], &[(10, 0), (11, 200)]), vec![(1, 11, 200)]);
        assert!(pair(&[], &[(10, 5)]).is_empty());
    }
}
