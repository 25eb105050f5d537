//! What a household and the public accountant are given: the yearly statement, and the
//! month's accounting rows of a régie.

use cantine_domain::ids::{ChildId, HouseholdId};
use cantine_domain::money::Cents;
use chrono::Months;
use sqlx::PgPool;

use super::documents;
use super::ledger_store as store;
use super::{AccountingRow, ChildName, ChildYear, EntryKind, Means, Month, YearlyStatement};
use crate::error::{Error, Invalid, Result};

/// Over the calendar year `year`: per child, the charged days and the amount of the issued
/// invoices billing months of that year; the year's credit notes (by the month they
/// correct); and what was paid (payments received in the year, less refunds paid out in it).
pub(crate) async fn yearly_statement(
    pool: &PgPool,
    household: HouseholdId,
    year: i32,
) -> Result<YearlyStatement> {
    if !(2000..=2200).contains(&year) {
        return Err(Error::Invalid(Invalid::Request(
            "year: 2000 to 2200".into(),
        )));
    }
    let mut conn = pool.acquire().await?;
    let recipient = documents::recipient_of(&mut conn, household.get()).await?;
    let children = store::child_years(&mut conn, household.get(), year)
        .await?
        .into_iter()
        .map(|r| ChildYear {
            child: ChildName {
                id: ChildId(r.child_id),
                first_name: r.first_name,
                last_name: r.last_name,
            },
            meals: r.meals,
            invoiced: Cents(r.invoiced),
        })
        .collect();
    let totals = store::year_totals(&mut conn, household.get(), year).await?;
    Ok(YearlyStatement {
        household,
        recipient,
        year,
        children,
        invoiced: Cents(totals.invoiced),
        credited: Cents(totals.credited),
        paid: Cents(totals.paid),
    })
}

/// The régie's ledger movements of the month, in date order: invoices and credit notes on
/// the day they were issued, payments on the day they were received, refunds on the day
/// they were recorded (Paris days). Signed as in the ledger.
pub(crate) async fn accounting(
    pool: &PgPool,
    regie: &str,
    month: Month,
) -> Result<Vec<AccountingRow>> {
    let mut conn = pool.acquire().await?;
    let regie_id = store::regie_id(&mut conn, regie)
        .await?
        .ok_or(Error::NotFound)?;
    let last = month
        .0
        .checked_add_months(Months::new(1))
        .and_then(|d| d.pred_opt())
        .ok_or(Error::Invalid(Invalid::Month))?;
    store::accounting(&mut conn, regie_id, (month.0, last))
        .await?
        .into_iter()
        .map(|r| {
            Ok(AccountingRow {
                date: r.date,
                kind: EntryKind::from_code(&r.kind)?,
                number: r.number,
                household: HouseholdId(r.household_id),
                household_name: r.household_name,
                amount: Cents(r.amount_cents),
                means: match r.means {
                    Some(code) => Some(
                        Means::from_code(&code)
                            .ok_or_else(|| anyhow::anyhow!("stored payment.means {code:?}"))?,
                    ),
                    None => None,
                },
                reference: r.reference,
            })
        })
        .collect()
}
