//! The month's accounting rows for finance's export. `reports::accounting` reads a payment's
//! means as never null, which fails on every invoice, credit note and refund row (they have
//! none: the payment is left-joined); this is the same query with the means optional. Once
//! `ledger_store::accounting` reads it as `"means?"`, this file goes and the export calls
//! `billing::accounting` again.

use cantine_domain::ids::HouseholdId;
use cantine_domain::money::Cents;
use sqlx::PgPool;

use super::ledger_store as store;
use super::{AccountingRow, EntryKind, Means, Month};
use crate::error::{Error, Result};

pub(crate) async fn accounting_rows(
    pool: &PgPool,
    regie: &str,
    month: Month,
) -> Result<Vec<AccountingRow>> {
    let mut conn = pool.acquire().await?;
    let regie_id = store::regie_id(&mut conn, regie)
        .await?
        .ok_or(Error::NotFound)?;
    let rows = sqlx::query!(
        r#"select x.date as "date!", x.kind as "kind!", x.number, x.household_id as "household_id!",
                  coalesce((select string_agg(a.first_name || ' ' || a.last_name, ', ' order by a.id)
                            from account a where a.household_id = x.household_id), '') as "household_name!",
                  x.amount_cents as "amount_cents!", x.means as "means?", x.reference as "reference!"
           from (
               select coalesce(p.received_on, (e.at at time zone 'Europe/Paris')::date) as date,
                      e.id, e.kind, i.number, e.household_id, e.amount_cents, p.means,
                      coalesce(p.reference, e.memo) as reference
               from ledger_entry e
               left join invoice i on i.id = e.invoice_id
               left join payment p on p.id = e.payment_id
               where e.regie_id = $1
           ) x
           where x.date between $2 and $3
           order by x.date, x.id"#,
        regie_id,
        month.first_day(),
        month.last_day(),
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(AccountingRow {
                date: r.date,
                kind: EntryKind::from_code(&r.kind)?,
                number: r.number,
                household: HouseholdId(r.household_id),
                household_name: r.household_name,
                amount: Cents(r.amount_cents),
                means: r
                    .means
                    .map(|code| {
                        Means::from_code(&code)
                            .ok_or_else(|| anyhow::anyhow!("stored payment.means {code:?}"))
                    })
                    .transpose()?,
                reference: r.reference,
            })
        })
        .collect()
}
