//! The household's ledger: one entry per issued invoice or credit note, payment and refund,
//! and the allocations saying which settling entry (payment, credit note) pays which owing
//! entry (invoice, refund). An invoice's paid amount and the household's unused credit both
//! come from the allocations; the balance is the entries' sum.
//!
//! Every change takes the household's row lock first, so two payments, or a payment and an
//! issue, never allocate the same credit twice.

use cantine_domain::money::Cents;
use sqlx::PgConnection;

use super::ledger_store as store;
use crate::error::Result;

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

/// The sum of what `pairs` allocates, for callers that report it.
#[allow(dead_code)]
pub(crate) fn allocated(pairs: &[(i64, i64, i64)]) -> Cents {
    Cents(pairs.iter().map(|p| p.2).sum())
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
