//! What a declaration would leave charged, before the family confirms it: each covered day
//! judged by billing's own rule (`cantine_domain::billing::kind_of`) as if the absence were
//! accepted (a refused one leaves the booking charged as a no-show anyway), priced at the
//! tariff of the day. Nothing is written.

use cantine_domain::absence::Notice;
use cantine_domain::billing::{AcceptedAbsence, Attendance, DayFacts, LineKind, kind_of};
use cantine_domain::ids::{ChildId, HouseholdId};
use cantine_domain::money::Cents;
use cantine_domain::rules::Rules;
use chrono::NaiveDate;
use sqlx::PgPool;

use super::{Declaration, planned_days};
use crate::error::Result;
use crate::{billing, reservations};

/// One covered day of one child.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewDay {
    pub child: ChildId,
    pub first_name: String,
    pub date: NaiveDate,
    pub notice: Notice,
    pub booked: bool,
    /// The invoice line the day would give; `None` for a day not booked (nothing to bill).
    pub kind: Option<LineKind>,
    /// What stays charged; `None` when the day is charged but no tariff prices it yet.
    pub amount: Option<Cents>,
}

impl PreviewDay {
    pub fn charged(&self) -> bool {
        self.kind.is_some_and(LineKind::charged)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    pub days: Vec<PreviewDay>,
    /// The priced days that stay charged, summed.
    pub total: Cents,
}

impl Preview {
    /// Days that stay charged.
    pub fn charged_days(&self) -> impl Iterator<Item = &PreviewDay> {
        self.days.iter().filter(|d| d.charged())
    }

    /// Whether the family should confirm before declaring: something stays charged at a
    /// price (a commune without a tariff yet, or a free meal, bills nothing).
    pub fn needs_confirmation(&self) -> bool {
        self.total > Cents::ZERO
    }
}

pub async fn preview(
    pool: &PgPool,
    rules: &Rules<'_>,
    household: HouseholdId,
    declaration: &Declaration,
) -> Result<Preview> {
    let (first, last) = (declaration.first_day, declaration.last_day);
    let mut days = Vec::new();
    for planned in planned_days(pool, rules, household, declaration).await? {
        let booked = reservations::list(pool, rules, household, planned.child, first, last).await?;
        let prices = billing::meal_prices(pool, household, planned.child, first, last).await?;
        for (index, (date, notice)) in planned.days.iter().copied().enumerate() {
            let is_booked = booked.iter().any(|d| d.date == date && d.booked);
            let price = prices.iter().find(|p| p.date == date);
            let facts = DayFacts {
                booked: is_booked,
                attendance: Attendance::NotRecorded,
                closed: false,
                absence: Some(AcceptedAbsence {
                    reason: declaration.reason,
                    notice,
                    // Billing numbers an absence's days per child, its first service day 1.
                    day_number: index as u32 + 1,
                }),
            };
            let carence = price.map_or(0, |p| p.carence_days);
            let kind = kind_of(facts, carence);
            let amount = match kind {
                Some(kind) if kind.charged() => price.map(|p| p.meal),
                _ => Some(Cents::ZERO),
            };
            days.push(PreviewDay {
                child: planned.child,
                first_name: planned.first_name.clone(),
                date,
                notice,
                booked: is_booked,
                kind,
                amount,
            });
        }
    }
    let total = days.iter().filter_map(|d| d.amount).sum();
    Ok(Preview { days, total })
}
