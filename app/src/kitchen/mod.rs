//! Kitchen counts: how many meals of each kind each school serves each day, with the
//! allergens the kitchen handles, frozen at the day's booking deadline and mailed to the
//! caterer once.
//!
//! - **Live counts** are the children booked (`reservation.booked`) with a validated
//!   enrollment for the day's school year, on the school's service days, by kind: a child with
//!   a PAI brings a packed meal whatever their diet (`pai`), the others count by diet
//!   (`standard`, `vegetarian`, `no_pork`); `adults` is the school's configured number of
//!   staff meals (`[[kitchen.schools]] adult_meals`, 0 when not set).
//! - **Allergens**: those of the day's menu (`menus::served`, `Menu::allergens`) and, apart,
//!   those the booked children declared, with how many children declared each: the menu says
//!   what is in the pots, the children what must not reach their plates.
//! - **Freeze**: once a day's deadline passes, [`catch_up`] records its counts in
//!   `kitchen_count` (append-only) and, when the school has a caterer address, enqueues one
//!   `kitchen_mail` row; both in one transaction, each under a unique key, so that two
//!   instances or a restart cannot freeze or enqueue twice. What the kitchen was told is the
//!   frozen row; a later closure or manager override shows as [`SchoolDay::difference`].
//!   A freeze caught up after a downtime records the bookings as they are then: after the
//!   deadline only a manager could have changed them.
//! - **Outbox**: [`send_due`] claims one due row at a time with `for update skip locked`,
//!   sends, and marks it sent in the same transaction; a failure is logged and retried with
//!   a doubling delay. A crash between the SMTP relay's acceptance and the commit is the one
//!   case that sends twice.
//! - Walk-ins (unbooked children the attendance list records present) count in the live
//!   numbers, so they show in the difference from what the kitchen was told.

mod store;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Days, NaiveDate, Utc};
use sqlx::PgPool;
use tokio::sync::watch;

use cantine_domain::activity::Activity;
use cantine_domain::calendar::{Closure, SchoolCalendar, SchoolYearLabel};
use cantine_domain::child::Diet;
use cantine_domain::ids::SchoolId;
use cantine_domain::menu::Allergen;
use cantine_domain::rules::Rules;

use crate::error::{Error, Invalid, Result};
use crate::platform::clock::Clock;
use crate::platform::config::Config;
use crate::platform::mail::{Attachment, Mail, Mailer};
use crate::platform::sql::{decode, stored_closure, weekdays_from_sql};

const ACTIVITY: Activity = Activity::Canteen;

/// The most service days one request covers: a month and a half of school.
pub const MAX_DAYS: usize = 31;

/// How far ahead a day's deadline may already have passed: 60 counted days before at most
/// (`DeadlineRule::MAX_DAYS_BEFORE`), with the holidays in between.
const LOOKAHEAD_DAYS: u64 = 130;

/// The longest wait between two attempts at a failing mail.
const MAX_RETRY_SECS: i64 = 3600;

/// The meals of one school and day, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Meals {
    pub standard: i64,
    pub vegetarian: i64,
    pub no_pork: i64,
    /// Packed meals of children with a PAI.
    pub pai: i64,
    pub adults: i64,
}

impl Meals {
    pub fn total(&self) -> i64 {
        self.standard + self.vegetarian + self.no_pork + self.pai + self.adults
    }

    /// `self − other`, kind by kind.
    pub fn minus(&self, other: &Meals) -> Meals {
        Meals {
            standard: self.standard - other.standard,
            vegetarian: self.vegetarian - other.vegetarian,
            no_pork: self.no_pork - other.no_pork,
            pai: self.pai - other.pai,
            adults: self.adults - other.adults,
        }
    }

    pub fn is_zero(&self) -> bool {
        *self == Meals::default()
    }
}

/// What the kitchen was told at the deadline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frozen {
    pub at: DateTime<Utc>,
    /// The deadline as it was computed at the freeze.
    pub deadline: DateTime<Utc>,
    pub meals: Meals,
    pub menu_allergens: Vec<Allergen>,
    pub child_allergens: Vec<(Allergen, i64)>,
}

/// One school's day for the kitchen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchoolDay {
    pub school: SchoolId,
    pub school_name: String,
    pub date: NaiveDate,
    pub deadline: DateTime<Utc>,
    /// Whether the school serves that day now (a day closed after its freeze is still shown).
    pub served: bool,
    pub live: Meals,
    pub frozen: Option<Frozen>,
    /// The allergens of the day's menu, now.
    pub menu_allergens: Vec<Allergen>,
    /// The allergens the booked children declared, with how many children each, now.
    pub child_allergens: Vec<(Allergen, i64)>,
}

impl SchoolDay {
    /// Live − frozen, kind by kind, once frozen.
    pub fn difference(&self) -> Option<Meals> {
        self.frozen.as_ref().map(|f| self.live.minus(&f.meals))
    }

    /// The numbers the kitchen goes by: the frozen ones, else the live ones.
    pub fn told(&self) -> &Meals {
        self.frozen.as_ref().map_or(&self.live, |f| &f.meals)
    }
}

/// The caterer's mail, worded by the HTTP edge, with the same CSV as the export.
pub trait KitchenMails: Send + Sync {
    fn caterer(&self, to: &str, day: &SchoolDay) -> (Mail, Attachment);
}

/// What the freeze worker needs, owned so that it runs as its own task.
#[derive(Clone)]
pub struct Kitchen {
    pub pool: PgPool,
    pub config: Arc<Config>,
    pub mailer: Arc<Mailer>,
    pub mails: Arc<dyn KitchenMails>,
    pub clock: Arc<dyn Clock>,
}

impl Kitchen {
    fn rules(&self, now: DateTime<Utc>) -> Rules<'_> {
        crate::platform::rules(&self.config, now)
    }
}

/// The schools and their calendars, built once per request from two queries.
struct Calendars {
    schools: Vec<(SchoolId, String, cantine_domain::weekdays::WeekdaySet)>,
    closures: Vec<Closure<i64>>,
    built: BTreeMap<(SchoolId, SchoolYearLabel), SchoolCalendar>,
}

impl Calendars {
    async fn load(pool: &PgPool, only: Option<SchoolId>) -> Result<Self> {
        let mut schools = Vec::new();
        for row in store::schools(pool).await? {
            if only.is_none_or(|s| s.get() == row.id) {
                schools.push((
                    SchoolId(row.id),
                    row.name,
                    weekdays_from_sql(&row.service_weekdays)?,
                ));
            }
        }
        let closures = store::closures(pool)
            .await?
            .into_iter()
            .map(|r| stored_closure(r.school_id, r.first_day, r.last_day, &r.reason))
            .collect::<Result<_>>()?;
        Ok(Self {
            schools,
            closures,
            built: BTreeMap::new(),
        })
    }

    fn ids(&self) -> Vec<i64> {
        self.schools.iter().map(|(id, _, _)| id.get()).collect()
    }

    /// The school's calendar for the year of `date`; `None` outside any school year.
    fn of(
        &mut self,
        rules: &Rules<'_>,
        index: usize,
        date: NaiveDate,
    ) -> Result<Option<&SchoolCalendar>> {
        let Some(year) = rules.year_of(date) else {
            return Ok(None);
        };
        let (school, service) = (self.schools[index].0, self.schools[index].2);
        if !self.built.contains_key(&(school, year)) {
            let calendar =
                crate::calendar::from_rows(rules, school, year, service, &self.closures)?;
            self.built.insert((school, year), calendar);
        }
        Ok(self.built.get(&(school, year)))
    }
}

/// The counts of the next `days` service days from `from` (a day counts when a school serves
/// it, or was frozen before a closure), for every school or one.
pub async fn counts(
    pool: &PgPool,
    rules: &Rules<'_>,
    config: &Config,
    school: Option<SchoolId>,
    from: NaiveDate,
    days: usize,
) -> Result<Vec<SchoolDay>> {
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(Error::Invalid(Invalid::Request(format!(
            "days: 1 to {MAX_DAYS}"
        ))));
    }
    let mut calendars = Calendars::load(pool, school).await?;
    if school.is_some() && calendars.schools.is_empty() {
        return Err(Error::NotFound);
    }
    let ids = calendars.ids();
    // A range no longer than the lookahead holds `days` service days in any school year.
    // At the end of chrono's calendar there is no school year to look into anyway.
    let horizon = from
        .checked_add_days(Days::new(LOOKAHEAD_DAYS))
        .unwrap_or(from);
    let frozen: BTreeSet<(i64, NaiveDate)> =
        store::frozen(pool, ACTIVITY.code(), &ids, (from, horizon))
            .await?
            .into_iter()
            .map(|f| (f.school_id, f.service_date))
            .collect();
    let mut wanted = Vec::new();
    let mut dates = 0;
    for date in from.iter_days().take_while(|d| *d <= horizon) {
        let mut any = false;
        for index in 0..calendars.schools.len() {
            let id = calendars.schools[index].0;
            let served = calendars
                .of(rules, index, date)?
                .is_some_and(|c| c.is_service_day(date));
            if served || frozen.contains(&(id.get(), date)) {
                wanted.push((index, date));
                any = true;
            }
        }
        if any {
            dates += 1;
            if dates == days {
                break;
            }
        }
    }
    assemble(pool, rules, config, &mut calendars, &wanted).await
}

/// The (school, day) pairs' counts, live and frozen, in the order given.
async fn assemble(
    pool: &PgPool,
    rules: &Rules<'_>,
    config: &Config,
    calendars: &mut Calendars,
    wanted: &[(usize, NaiveDate)],
) -> Result<Vec<SchoolDay>> {
    let (Some(first), Some(last)) = (
        wanted.iter().map(|w| w.1).min(),
        wanted.iter().map(|w| w.1).max(),
    ) else {
        return Ok(Vec::new());
    };
    let schools: Vec<i64> = {
        let set: BTreeSet<i64> = wanted
            .iter()
            .map(|(i, _)| calendars.schools[*i].0.get())
            .collect();
        set.into_iter().collect()
    };
    let range = (first, last);
    let code = ACTIVITY.code();
    let mut live: BTreeMap<(i64, NaiveDate), Meals> = BTreeMap::new();
    let mut declared: BTreeMap<(i64, NaiveDate), BTreeMap<Allergen, i64>> = BTreeMap::new();
    let mut tx = pool.begin().await?;
    store::plan_with_parameters(&mut tx).await?;
    let rows = store::meals(&mut *tx, code, &schools, range).await?;
    tx.commit().await?;
    for row in rows {
        let key = (row.school_id, row.service_date);
        let meals = live.entry(key).or_default();
        if row.pai {
            meals.pai += row.meals;
        } else {
            match decode::<Diet>("child.diet", &row.diet)? {
                Diet::Standard => meals.standard += row.meals,
                Diet::Vegetarian => meals.vegetarian += row.meals,
                Diet::NoPork => meals.no_pork += row.meals,
            }
        }
        for code in &row.allergens {
            *declared
                .entry(key)
                .or_default()
                .entry(decode("child.allergens", code)?)
                .or_default() += row.meals;
        }
    }
    let mut frozen = BTreeMap::new();
    for row in store::frozen(pool, code, &schools, range).await? {
        frozen.insert((row.school_id, row.service_date), frozen_of(&row)?);
    }
    let ids: Vec<SchoolId> = schools.iter().copied().map(SchoolId).collect();
    let menus = crate::menus::served(pool, ACTIVITY, &ids, range).await?;
    let mut out = Vec::with_capacity(wanted.len());
    for &(index, date) in wanted {
        let (school, name, _) = calendars.schools[index].clone();
        let Some(calendar) = calendars.of(rules, index, date)? else {
            continue;
        };
        let served = calendar.is_service_day(date);
        let frozen = frozen.remove(&(school.get(), date));
        // A frozen day keeps the deadline it was frozen at, whatever the rule became since.
        let deadline = frozen.as_ref().map_or_else(
            || rules.deadline.deadline_for(date, calendar),
            |f| f.deadline,
        );
        let mut meals = live.remove(&(school.get(), date)).unwrap_or_default();
        if served {
            meals.adults = i64::from(config.kitchen.adult_meals(&name));
        }
        let child_allergens: Vec<(Allergen, i64)> = declared
            .remove(&(school.get(), date))
            .unwrap_or_default()
            .into_iter()
            .collect();
        out.push(SchoolDay {
            school,
            date,
            deadline,
            served,
            live: meals,
            frozen,
            menu_allergens: menus
                .get(&(school, date))
                .map(|m| m.allergens())
                .unwrap_or_default(),
            child_allergens,
            school_name: name,
        });
    }
    Ok(out)
}

fn frozen_of(row: &store::FrozenRow) -> Result<Frozen> {
    let child_allergens = match &row.child_allergens {
        serde_json::Value::Object(map) => map
            .iter()
            .map(|(code, n)| {
                let n = n
                    .as_i64()
                    .ok_or_else(|| anyhow::anyhow!("kitchen_count {}: count {n}", row.id))?;
                Ok((decode("kitchen_count.child_allergens", code)?, n))
            })
            .collect::<Result<Vec<_>>>()?,
        other => return Err(anyhow::anyhow!("kitchen_count {}: {other}", row.id).into()),
    };
    let mut child_allergens = child_allergens;
    child_allergens.sort();
    Ok(Frozen {
        at: row.frozen_at,
        deadline: row.deadline,
        meals: Meals {
            standard: row.standard.into(),
            vegetarian: row.vegetarian.into(),
            no_pork: row.no_pork.into(),
            pai: row.pai.into(),
            adults: row.adults.into(),
        },
        menu_allergens: crate::menus::decode_all(
            "kitchen_count.menu_allergens",
            &row.menu_allergens,
        )?,
        child_allergens,
    })
}

/// What one run of the worker did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CatchUp {
    pub frozen: usize,
    pub sent: usize,
    pub failed: usize,
}

/// One run of the worker at `now`: freezes every day whose deadline has passed and that is
/// not frozen yet (from `catch_up_days` back), then sends the caterer mails that are due.
/// Safe to run from several instances at once.
pub async fn catch_up(kitchen: &Kitchen, now: DateTime<Utc>) -> Result<CatchUp> {
    let frozen = freeze_due(kitchen, now).await?;
    let (sent, failed) = send_due(kitchen, now).await?;
    Ok(CatchUp {
        frozen,
        sent,
        failed,
    })
}

/// Freezes the days due at `now`; answers how many this call recorded.
pub async fn freeze_due(kitchen: &Kitchen, now: DateTime<Utc>) -> Result<usize> {
    let rules = kitchen.rules(now);
    let today = rules.today();
    let first = today
        .checked_sub_days(Days::new(kitchen.config.kitchen.catch_up_days.into()))
        .unwrap_or(today);
    let last = today
        .checked_add_days(Days::new(LOOKAHEAD_DAYS))
        .unwrap_or(today);
    let mut calendars = Calendars::load(&kitchen.pool, None).await?;
    let ids = calendars.ids();
    let done: BTreeSet<(i64, NaiveDate)> =
        store::frozen(&kitchen.pool, ACTIVITY.code(), &ids, (first, last))
            .await?
            .into_iter()
            .map(|f| (f.school_id, f.service_date))
            .collect();
    let mut due = Vec::new();
    for index in 0..calendars.schools.len() {
        let id = calendars.schools[index].0.get();
        for date in first.iter_days().take_while(|d| *d <= last) {
            let Some(calendar) = calendars.of(&rules, index, date)? else {
                continue;
            };
            if !calendar.is_service_day(date) {
                continue;
            }
            // Deadlines grow with the day: the first one still ahead ends the scan.
            if rules.deadline.deadline_for(date, calendar) > now {
                break;
            }
            if !done.contains(&(id, date)) {
                due.push((index, date));
            }
        }
    }
    if due.is_empty() {
        return Ok(0);
    }
    let days = assemble(&kitchen.pool, &rules, &kitchen.config, &mut calendars, &due).await?;
    let mut recorded = 0;
    for day in days {
        let mut tx = kitchen.pool.begin().await?;
        let menu_allergens: Vec<String> = day
            .menu_allergens
            .iter()
            .map(|a| a.code().to_owned())
            .collect();
        let child_allergens: serde_json::Map<String, serde_json::Value> = day
            .child_allergens
            .iter()
            .map(|(a, n)| (a.code().to_owned(), (*n).into()))
            .collect();
        let number = |n: i64| i32::try_from(n).map_err(|_| anyhow::anyhow!("{n} meals"));
        let m = &day.live;
        let freeze = store::NewFreeze {
            school_id: day.school.get(),
            service_date: day.date,
            deadline: day.deadline,
            frozen_at: now,
            meals: [
                number(m.standard)?,
                number(m.vegetarian)?,
                number(m.no_pork)?,
                number(m.pai)?,
                number(m.adults)?,
            ],
            menu_allergens: &menu_allergens,
            child_allergens: child_allergens.into(),
        };
        let Some(id) = store::insert_freeze(&mut tx, ACTIVITY.code(), &freeze).await? else {
            // Another instance froze it first, and enqueued its mail.
            continue;
        };
        // A day already past is of no use to the caterer: frozen for the record, not mailed.
        match kitchen.config.kitchen.caterer_for(&day.school_name) {
            Some(to) if day.date >= today => {
                store::enqueue_mail(
                    &mut tx,
                    ACTIVITY.code(),
                    (day.school.get(), day.date, id),
                    to,
                    now,
                )
                .await?;
            }
            _ => {}
        }
        tx.commit().await?;
        tracing::info!(school = %day.school_name, date = %day.date, total = day.live.total(), "kitchen counts frozen");
        recorded += 1;
    }
    Ok(recorded)
}

/// Sends the caterer mails due at `now`, one claimed row at a time; answers (sent, failed).
pub async fn send_due(kitchen: &Kitchen, now: DateTime<Utc>) -> Result<(usize, usize)> {
    let rules = kitchen.rules(now);
    let (mut sent, mut failed) = (0, 0);
    // A failed row waits for its next attempt, so each row comes up once per run at most.
    loop {
        let mut tx = kitchen.pool.begin().await?;
        let Some(row) = store::claim_mail(&mut tx, ACTIVITY.code(), now).await? else {
            break;
        };
        let day = counts(
            &kitchen.pool,
            &rules,
            &kitchen.config,
            Some(SchoolId(row.school_id)),
            row.service_date,
            1,
        )
        .await?
        .into_iter()
        .find(|d| d.date == row.service_date);
        let result = match &day {
            Some(day) => {
                let (mail, attachment) = kitchen.mails.caterer(&row.recipient, day);
                kitchen.mailer.send_with(mail, &[attachment]).await
            }
            None => Err(anyhow::anyhow!("the day is outside the school year")),
        };
        match result {
            Ok(()) => {
                store::mark_sent(&mut tx, row.id, now).await?;
                sent += 1;
            }
            Err(e) => {
                let wait = 60_i64
                    .saturating_mul(1 << row.attempts.clamp(0, 6))
                    .min(MAX_RETRY_SECS);
                let next = now + chrono::TimeDelta::seconds(wait);
                tracing::warn!(error = %e, school = row.school_id, date = %row.service_date,
                    attempts = row.attempts + 1, retry_at = %next, "caterer mail not sent");
                store::mark_failed(&mut tx, row.id, next, &e.to_string()).await?;
                failed += 1;
            }
        }
        tx.commit().await?;
    }
    Ok((sent, failed))
}

/// The worker `serve` runs: [`catch_up`] at start, then every `kitchen.tick_secs`, until
/// `stop` changes or its sender is dropped. A run in progress finishes first.
pub async fn run(kitchen: Kitchen, mut stop: watch::Receiver<()>) {
    let period = Duration::from_secs(kitchen.config.kitchen.tick_secs);
    // The file cannot be checked against the database at load: a misspelt name is told here.
    if let Ok(stored) = store::schools(&kitchen.pool).await {
        for school in &kitchen.config.kitchen.schools {
            if !stored.iter().any(|s| s.name == school.school) {
                tracing::warn!(school = %school.school, "[[kitchen.schools]] names no school");
            }
        }
    }
    loop {
        match catch_up(&kitchen, kitchen.clock.now()).await {
            Ok(done) if done != CatchUp::default() => {
                tracing::info!(?done, "kitchen counts: run done");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "kitchen counts: run failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(period) => {}
            _ = stop.changed() => break,
        }
    }
}
