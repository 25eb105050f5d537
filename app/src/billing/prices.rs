//! The price of a child's meals over a range of days, for the family's pages: the same rules as
//! [`super::tariffs::meal_price`] (the tariff version of each day, the paying household's QF
//! and residence on that day), read in a handful of queries for the whole range, so a month
//! view pays for its prices once and not per day.

use std::collections::HashMap;

use cantine_domain::custody::{Payers, Side};
use cantine_domain::ids::{ChildId, HouseholdId};
use cantine_domain::tariff::Eater;
use chrono::NaiveDate;
use sqlx::PgPool;

use super::DayPrice;
use super::run_store as store;
use super::tariffs::{PriceBook, Quotients};
use crate::error::{Error, Result};

pub async fn meal_prices(
    pool: &PgPool,
    household: HouseholdId,
    child: ChildId,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<DayPrice>> {
    let mut conn = pool.acquire().await?;
    let found = store::child_of(&mut conn, household.get(), child.get())
        .await?
        .ok_or(Error::NotFound)?;
    let book = PriceBook::load(&mut conn, from, to).await?;
    // As `meal_price`: shares are priced for the child's own household; on a schedule the
    // second household pays its own days, and sees the first's days at the first's price.
    let schedule = match found.arrangement.as_deref() {
        Some(kind) if kind != "shares" && found.household_id != household.get() => {
            crate::custody::arrangements(&mut conn, &[child])
                .await?
                .remove(&child)
                .map(|(_, arrangement)| arrangement)
        }
        _ => None,
    };
    let fixed_payer = match found.arrangement.as_deref() {
        Some("shares") => found.household_id,
        _ => household.get(),
    };
    let payers = [household.get(), found.household_id];
    let residents: HashMap<i64, bool> = store::households(&mut conn, &payers)
        .await?
        .into_iter()
        .map(|h| (h.id, h.resident))
        .collect();
    let quotients = Quotients::new(store::quotients(&mut conn, &payers, to).await?);
    let mut prices = Vec::new();
    for date in from.iter_days().take_while(|d| *d <= to) {
        // A day without a tariff (outside any year, or none entered yet) has no price to show.
        let Ok(version) = book.at(date) else {
            continue;
        };
        let payer = match &schedule {
            Some(arrangement) => match arrangement.payers(date) {
                Payers::One(Side::First) => found.household_id,
                Payers::One(Side::Second) | Payers::Split { .. } => household.get(),
            },
            None => fixed_payer,
        };
        let tariff = &version.tariff;
        let price = tariff.child_meal(Eater {
            qf: quotients.at(payer, date),
            resident: residents.get(&payer).copied().unwrap_or(true),
            pai: found.pai,
        });
        prices.push(DayPrice {
            date,
            meal: price.cents,
            walk_in: tariff.unbooked(price.cents),
            carence_days: tariff.carence_days,
        });
    }
    Ok(prices)
}
