//! The reservation rows and their append-only history.

use std::collections::BTreeSet;

use cantine_domain::activity::Activity;
use cantine_domain::booking::DayChange;
use cantine_domain::calendar::{Closure, SchoolCalendar, SchoolYearLabel};
use cantine_domain::enrollment::Enrollment;
use cantine_domain::ids::{AccountId, ChildId, HouseholdId, SchoolId};
use cantine_domain::weekdays::WeekdaySet;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgConnection, PgPool};

use super::Source;
use crate::error::{Conflict, Error, Result, on_constraint};
use crate::platform::sql::{stored_closure, stored_enrollment, weekdays_from_sql};

pub async fn school_of(
    conn: &mut PgConnection,
    household: HouseholdId,
    child: ChildId,
) -> Result<Option<SchoolId>> {
    Ok(sqlx::query_scalar!(
        "select c.school_id from child c where c.id = $1 and (c.household_id = $2
             or exists (select 1 from custody cu where cu.child_id = c.id and cu.other_household_id = $2))",
        child.get(),
        household.get(),
    )
    .fetch_optional(&mut *conn)
    .await?
    .map(SchoolId))
}

/// A child locked for booking, with its school's calendar data (service weekdays, the closures
/// of the school and of every school) and the year's latest enrollment in the activity.
pub struct LockedChild {
    pub first_name: String,
    /// Under a shared custody: the caller asks `custody` whose days are whose.
    pub shared: bool,
    pub school: SchoolId,
    pub service_weekdays: WeekdaySet,
    pub closures: Vec<Closure<i64>>,
    pub enrollment: Option<Enrollment>,
}

/// One round trip: the lock, the enrollment and the calendar's rows. The booked days are read
/// by the next statement, never by this one: its snapshot is taken before it waits for the
/// lock, so only a later statement sees what the booking that held the lock committed.
pub async fn lock_child(
    conn: &mut PgConnection,
    household: HouseholdId,
    child: ChildId,
    activity: Activity,
    year: SchoolYearLabel,
) -> Result<Option<LockedChild>> {
    let row = sqlx::query!(
        r#"select c.school_id, s.service_weekdays, c.first_name,
            exists (select 1 from custody cu where cu.child_id = c.id) as "shared!",
            e.weekdays as "weekdays?", e.status as "status?", e.decision_reason as "reason?",
            cl.schools as "closure_schools!: Vec<Option<i64>>", cl.firsts as "closure_firsts!",
            cl.lasts as "closure_lasts!", cl.reasons as "closure_reasons!"
        from child c
        join school s on s.id = c.school_id
        -- One pass over the closures, as parallel arrays (a closure per index).
        cross join lateral (
            select coalesce(array_agg(school_id order by id), '{}') as schools,
                coalesce(array_agg(first_day order by id), '{}') as firsts,
                coalesce(array_agg(last_day order by id), '{}') as lasts,
                coalesce(array_agg(reason order by id), '{}') as reasons
            from closure where school_id is null or school_id = c.school_id) cl
        left join lateral (
            select en.weekdays, en.status, en.decision_reason from enrollment en
            join school_year y on y.id = en.school_year_id
            where en.child_id = c.id and en.activity = $4 and y.label = $3
            order by en.id desc limit 1) e on true
        where c.id = $1 and (c.household_id = $2
            or exists (select 1 from custody cu where cu.child_id = c.id and cu.other_household_id = $2))
        for update of c"#,
        child.get(),
        household.get(),
        year.to_string(),
        activity.code(),
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let enrollment = match (row.weekdays, row.status) {
        (Some(days), Some(status)) => Some(stored_enrollment(
            year,
            &days,
            &status,
            row.reason.as_deref(),
        )?),
        _ => None,
    };
    let closures = row
        .closure_schools
        .into_iter()
        .zip(row.closure_firsts)
        .zip(row.closure_lasts)
        .zip(row.closure_reasons)
        .map(|(((school, first), last), reason)| stored_closure(school, first, last, &reason))
        .collect::<Result<Vec<_>>>()?;
    Ok(Some(LockedChild {
        first_name: row.first_name,
        shared: row.shared,
        school: SchoolId(row.school_id),
        service_weekdays: weekdays_from_sql(&row.service_weekdays)?,
        closures,
        enrollment,
    }))
}

pub async fn booked_days(
    conn: &mut PgConnection,
    child: ChildId,
    activity: Activity,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<BTreeSet<NaiveDate>> {
    let days = sqlx::query_scalar!(
        "select service_date from reservation
         where child_id = $1 and activity = $2 and booked and service_date between $3 and $4",
        child.get(),
        activity.code(),
        from,
        to,
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(days.into_iter().collect())
}

pub async fn booked_in_year(
    conn: &mut PgConnection,
    child: ChildId,
    activity: Activity,
    calendar: &SchoolCalendar,
) -> Result<BTreeSet<NaiveDate>> {
    let year = calendar.year();
    booked_days(conn, child, activity, year.first_day(), year.last_day()).await
}

/// Stores the changes and their history in one statement (one round trip). PostgreSQL runs a
/// data-modifying `with` to completion whether or not the outer insert reads it, and both
/// commit or fail together.
pub async fn record(
    conn: &mut PgConnection,
    child: ChildId,
    activity: Activity,
    changes: &[DayChange],
    actor: Option<AccountId>,
    (source, reason): (Source, Option<&str>),
) -> Result<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let dates: Vec<NaiveDate> = changes.iter().map(|c| c.date).collect();
    let booked: Vec<bool> = changes.iter().map(|c| c.booked).collect();
    // Counted as recorded: the caller's transaction almost never rolls back after this, and a
    // metric is a trend, not the ledger of bookings (`reservation_event` is).
    let counter = &crate::platform::metrics::EVENTS.reservation_changes;
    let booked_count = booked.iter().filter(|b| **b).count() as u64;
    counter
        .with_label_values(&[source.code(), "booked"])
        .inc_by(booked_count);
    counter
        .with_label_values(&[source.code(), "cancelled"])
        .inc_by(booked.len() as u64 - booked_count);
    sqlx::query!(
        "with stored as (
             insert into reservation (child_id, activity, service_date, booked)
             select $1, $2, d, b from unnest($3::date[], $4::bool[]) as t(d, b)
             on conflict (child_id, activity, service_date)
             do update set booked = excluded.booked, updated_at = now())
         insert into reservation_event
            (child_id, activity, service_date, old_booked, new_booked, actor_account_id, source, reason)
         select $1, $2, d, not b, b, $5, $6, $7 from unnest($3::date[], $4::bool[]) as t(d, b)",
        child.get(),
        activity.code(),
        &dates,
        &booked,
        actor.map(AccountId::get),
        source.code(),
        reason,
    )
    .execute(&mut *conn)
    .await
    .map_err(|e| {
        on_constraint(e, |name| {
            (name == "reservation_not_on_closure").then_some(Error::Conflict(Conflict::DayClosed))
        })
    })?;
    Ok(())
}

/// One line of a child's reservation history.
#[derive(Debug, Clone)]
pub struct Event {
    pub service_date: NaiveDate,
    pub old_booked: bool,
    pub new_booked: bool,
    pub actor_account_id: Option<i64>,
    pub source: String,
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A child's changes from `from` to `to`, oldest first, for a child of the household.
impl Event {
    /// Done for the family by the town hall: a manager's change, a closure.
    pub fn by_town_hall(&self) -> bool {
        self.source == Source::Staff.code() || self.source == Source::Closure.code()
    }
}

pub async fn history(
    pool: &PgPool,
    household: HouseholdId,
    child: ChildId,
    activity: Activity,
    (from, to): (NaiveDate, NaiveDate),
) -> Result<Vec<Event>> {
    Ok(sqlx::query_as!(
        Event,
        "select e.service_date, e.old_booked, e.new_booked, e.actor_account_id, e.source, e.reason, e.created_at
         from reservation_event e join child c on c.id = e.child_id
         where e.child_id = $1 and e.activity = $3
           and (c.household_id = $2 or exists (select 1 from custody cu
                where cu.child_id = c.id and cu.other_household_id = $2))
           and e.service_date between $4 and $5
         order by e.id",
        child.get(),
        household.get(),
        activity.code(),
        from,
        to,
    )
    .fetch_all(pool)
    .await?)
}

/// A closure: bookings of the closed schools' children on those days are cancelled, each with
/// its history event, in one statement. The children are locked first (in id order, as the
/// booking path locks them), so a booking in flight either commits before and is cancelled
/// here, or runs after and meets the closure (`reservation_not_on_closure`).
pub async fn cancel_for_closure(
    conn: &mut PgConnection,
    activity: Activity,
    schools: Option<&[i64]>,
    (from, to): (NaiveDate, NaiveDate),
    actor: AccountId,
    reason: &str,
) -> Result<Vec<Cancelled>> {
    sqlx::query!(
        "select id from child where $1::bigint[] is null or school_id = any($1) order by id for update",
        schools,
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(sqlx::query_as!(
        Cancelled,
        r#"with cancelled as (
            update reservation r set booked = false, updated_at = now()
            from child c
            where c.id = r.child_id and r.activity = $1 and r.booked
              and r.service_date between $2 and $3 and ($4::bigint[] is null or c.school_id = any($4))
            returning r.child_id, r.service_date, c.household_id, c.first_name),
        events as (
            insert into reservation_event
                (child_id, activity, service_date, old_booked, new_booked, actor_account_id, source, reason)
            select child_id, $1, service_date, true, false, $5, 'closure', $6 from cancelled)
        select household_id as "household_id!", child_id as "child_id!", first_name as "first_name!",
            service_date as "service_date!"
        from cancelled order by household_id, service_date, child_id"#,
        activity.code(),
        from,
        to,
        schools,
        actor.get(),
        reason,
    )
    .fetch_all(&mut *conn)
    .await?)
}

/// A booking cancelled by a closure.
#[derive(Debug, Clone)]
pub struct Cancelled {
    pub household_id: i64,
    pub child_id: i64,
    pub first_name: String,
    pub service_date: NaiveDate,
}
