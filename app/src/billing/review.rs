//! What finance reviews before issuing: the run's documents, its total against the previous
//! month's, each household's difference, and what is still billed as booked.

use std::collections::HashMap;

use cantine_domain::ids::HouseholdId;
use cantine_domain::money::Cents;
use sqlx::{PgConnection, PgPool};

use super::run_store::{self as store, SummaryRow};
use super::{
    Difference, DocumentKind, InvoiceSummary, Month, Regie, RunReview, RunStatus, documents,
};
use crate::error::Result;

pub async fn review(pool: &PgPool, regie: &str, month: Month) -> Result<Option<RunReview>> {
    let mut conn = pool.acquire().await?;
    let regie = store::regie(&mut conn, regie).await?;
    let Some(run) = store::find_run(&mut conn, regie.id, month.first_day()).await? else {
        return Ok(None);
    };
    Ok(Some(of_run(&mut conn, &regie, month, run.id).await?))
}

pub(crate) async fn of_run(
    conn: &mut PgConnection,
    regie: &Regie,
    month: Month,
    run: i64,
) -> Result<RunReview> {
    let status = match store::find_run(conn, regie.id, month.first_day()).await? {
        Some(r) if r.status == "issued" => RunStatus::Issued,
        _ => RunStatus::Draft,
    };
    let invoices: Vec<InvoiceSummary> = store::run_invoices(conn, run)
        .await?
        .into_iter()
        .map(summary)
        .collect();
    let signed = |s: &InvoiceSummary| match s.kind {
        DocumentKind::CreditNote => -s.amount,
        DocumentKind::Invoice => s.amount,
    };
    let total: Cents = invoices.iter().map(signed).sum();
    let mut this: HashMap<i64, Cents> = HashMap::new();
    let mut names: HashMap<i64, String> = HashMap::new();
    for s in &invoices {
        *this.entry(s.household.get()).or_default() =
            this.get(&s.household.get()).copied().unwrap_or_default() + signed(s);
        names.insert(s.household.get(), s.household_name.clone());
    }
    let previous: HashMap<i64, Cents> =
        store::household_totals(conn, regie.id, month.previous().first_day())
            .await?
            .into_iter()
            .map(|(h, t)| (h, Cents(t)))
            .collect();
    let previous_total: Cents = previous.values().copied().sum();
    let missing: Vec<i64> = previous
        .keys()
        .filter(|h| !names.contains_key(h))
        .copied()
        .collect();
    names.extend(store::household_names(conn, &missing).await?);
    let mut differences: Vec<Difference> = this
        .keys()
        .chain(previous.keys())
        .copied()
        .collect::<std::collections::BTreeSet<i64>>()
        .into_iter()
        .filter_map(|h| {
            let this_month = this.get(&h).copied().unwrap_or_default();
            let previous_month = previous.get(&h).copied().unwrap_or_default();
            (this_month != previous_month).then(|| Difference {
                household: HouseholdId(h),
                household_name: names.get(&h).cloned().unwrap_or_default(),
                this_month,
                previous_month,
            })
        })
        .collect();
    differences.sort_by_key(|d| {
        (
            std::cmp::Reverse((d.this_month - d.previous_month).get().abs()),
            d.household,
        )
    });
    let (unrecorded_days, regularisation_lines) = store::run_counts(conn, run).await?;
    Ok(RunReview {
        run_id: run,
        regie: regie.clone(),
        month,
        status,
        invoices,
        total,
        previous_total,
        differences,
        unrecorded_days,
        regularisation_lines,
    })
}

/// A run's document as `documents` states every document: the same status and "paid", so
/// that finance's review and the invoice never disagree (a paid invoice later credited in
/// full is cancelled in both).
fn summary(row: SummaryRow) -> InvoiceSummary {
    let kind = if row.kind == "credit_note" {
        DocumentKind::CreditNote
    } else {
        DocumentKind::Invoice
    };
    let status = documents::status(
        kind,
        &row.status,
        row.amount_cents,
        row.paid_cents,
        row.credited_cents,
    );
    InvoiceSummary {
        id: row.id,
        kind,
        number: row.number,
        month: Month(row.month),
        regie: row.regie,
        household: HouseholdId(row.household_id),
        household_name: row.household_name,
        amount: Cents(row.amount_cents),
        // A credit note's "paid" is what it has settled so far.
        paid: Cents(match kind {
            DocumentKind::Invoice => row.paid_cents,
            DocumentKind::CreditNote => row.used_cents,
        }),
        status,
        issued_at: row.issued_at,
    }
}
