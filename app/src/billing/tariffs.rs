//! Tariff versions (read, saved with their audit entry), the price book a run looks prices up
//! in, and the price of one meal for a family's page.

use std::collections::HashMap;

use cantine_domain::calendar::SchoolYearLabel;
use cantine_domain::custody::{Payers, Side};
use cantine_domain::ids::{ChildId, HouseholdId};
use cantine_domain::tariff::{Eater, Price, Tariff};
use chrono::NaiveDate;
use sqlx::{PgConnection, PgPool};

use super::TariffVersion;
use super::run_store::{self as store, QfRow, StoredTariff, Year};
use crate::audit::{self, Action, Actor, Entry};
use crate::error::{BillingConflict, Conflict, Error, Invalid, Result};

pub async fn tariffs(pool: &PgPool, year: SchoolYearLabel) -> Result<Vec<TariffVersion>> {
    let mut conn = pool.acquire().await?;
    let Some(found) = store::year_by_label(&mut conn, year).await? else {
        return Ok(Vec::new());
    };
    Ok(store::tariffs_of_years(&mut conn, &[found.id])
        .await?
        .into_iter()
        .map(|t| t.version)
        .collect())
}

pub async fn save_tariff(
    pool: &PgPool,
    actor: &Actor,
    year: SchoolYearLabel,
    applies_from: NaiveDate,
    tariff: Tariff,
) -> Result<TariffVersion> {
    tariff
        .validate()
        .map_err(|e| Error::Invalid(Invalid::Tariff(e)))?;
    let mut tx = pool.begin().await?;
    let found = store::year_by_label(&mut tx, year)
        .await?
        .ok_or(Error::Invalid(Invalid::YearNotOpen(year)))?;
    if !(found.first_day..=found.last_day).contains(&applies_from) {
        return Err(Error::Invalid(Invalid::OutsideSchoolYear(applies_from)));
    }
    let id = store::insert_tariff(
        &mut tx,
        found.id,
        applies_from,
        &tariff,
        Some(actor.account.get()),
    )
    .await?
    .ok_or(Error::Conflict(Conflict::Billing(
        BillingConflict::TariffVersionExists(applies_from),
    )))?;
    audit::record(
        &mut tx,
        &Entry::new(actor, Action::TariffSaved).detail(serde_json::json!({
            "tariff_id": id, "year": year.to_string(), "applies_from": applies_from,
            "tariff": tariff,
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(TariffVersion {
        id,
        year,
        applies_from,
        tariff,
    })
}

/// Every tariff version of the years a run covers, looked up by day.
pub struct PriceBook {
    /// Per school year (first day, last day), its versions by `applies_from`.
    years: Vec<(NaiveDate, NaiveDate, Vec<TariffVersion>)>,
}

impl PriceBook {
    pub async fn load(conn: &mut PgConnection, from: NaiveDate, to: NaiveDate) -> Result<Self> {
        let years = store::years_between(conn, from, to).await?;
        Self::of_years(conn, years).await
    }

    async fn of_years(conn: &mut PgConnection, years: Vec<Year>) -> Result<Self> {
        let ids: Vec<i64> = years.iter().map(|y| y.id).collect();
        let mut versions: HashMap<i64, Vec<TariffVersion>> = HashMap::new();
        for StoredTariff {
            school_year_id,
            version,
        } in store::tariffs_of_years(conn, &ids).await?
        {
            versions.entry(school_year_id).or_default().push(version);
        }
        Ok(PriceBook {
            years: years
                .into_iter()
                .map(|y| {
                    (
                        y.first_day,
                        y.last_day,
                        versions.remove(&y.id).unwrap_or_default(),
                    )
                })
                .collect(),
        })
    }

    /// The version with the latest `applies_from` on or before the day, in the day's school
    /// year.
    pub fn at(&self, day: NaiveDate) -> Result<&TariffVersion> {
        self.years
            .iter()
            .find(|(first, last, _)| (*first..=*last).contains(&day))
            .and_then(|(_, _, versions)| versions.iter().rev().find(|v| v.applies_from <= day))
            .ok_or(Error::Conflict(Conflict::Billing(
                BillingConflict::NoTariff(day),
            )))
    }
}

/// Each household's QF history, looked up by day.
#[derive(Default)]
pub struct Quotients {
    by_household: HashMap<i64, Vec<(NaiveDate, u32)>>,
}

impl Quotients {
    pub fn new(rows: Vec<QfRow>) -> Self {
        let mut by_household: HashMap<i64, Vec<(NaiveDate, u32)>> = HashMap::new();
        for row in rows {
            by_household
                .entry(row.household_id)
                .or_default()
                .push((row.applies_from, row.amount_euros.max(0) as u32));
        }
        Quotients { by_household }
    }

    /// The value with the latest `applies_from` on or before the day (the rows come in
    /// `applies_from`, then recording, order: the last recorded wins a tie); `None` when no QF
    /// is on file yet.
    pub fn at(&self, household: i64, day: NaiveDate) -> Option<u32> {
        let history = self.by_household.get(&household)?;
        let applying = history.partition_point(|(from, _)| *from <= day);
        applying.checked_sub(1).map(|i| history[i].1)
    }
}

pub async fn meal_price(
    pool: &PgPool,
    household: HouseholdId,
    child: ChildId,
    date: NaiveDate,
) -> Result<(Price, Tariff)> {
    let mut conn = pool.acquire().await?;
    let found = store::child_of(&mut conn, household.get(), child.get())
        .await?
        .ok_or(Error::NotFound)?;
    let book = PriceBook::load(&mut conn, date, date).await?;
    let tariff = book.at(date)?.tariff.clone();
    // A meal shared by shares is priced once, for the child's own household, then split; on
    // a schedule, the asking household pays its own days at its own QF.
    let payer = match found.arrangement.as_deref() {
        Some("shares") => found.household_id,
        Some(_) if found.household_id != household.get() => {
            let arrangement = crate::custody::arrangements(&mut conn, &[child])
                .await?
                .remove(&child)
                .map(|(_, arrangement)| arrangement);
            match arrangement.map(|a| a.payers(date)) {
                Some(Payers::One(Side::First)) => found.household_id,
                _ => household.get(),
            }
        }
        _ => household.get(),
    };
    let resident = store::households(&mut conn, &[payer])
        .await?
        .first()
        .map(|h| h.resident)
        .unwrap_or(true);
    let quotients = Quotients::new(store::quotients(&mut conn, &[payer], date).await?);
    let price = tariff.child_meal(Eater {
        qf: quotients.at(payer, date),
        resident,
        pai: found.pai,
    });
    Ok((price, tariff))
}
