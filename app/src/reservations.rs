//! Meal reservations: listing a child's days, booking and cancelling within the deadline, and
//! weekly patterns. Every change is one transaction that locks the child's row first, so two
//! requests for the same child run one after the other and the history tells their order.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use sqlx::{PgConnection, PgPool};

use crate::domain::booking::{
    BookingError, ChildBookings, DayChange, DayView, PatternRequest, Plan,
};
use crate::domain::calendar::{SchoolCalendar, SchoolYearLabel};
use crate::domain::enrollment::Enrollment;
use crate::error::{Error, Result};
use crate::family::{self, Rules};

/// Who changed a reservation, through which path; kept in `reservation_event`.
#[derive(Debug, Clone, Copy)]
pub enum Source {
    Parent,
    Pattern,
    Enrollment,
    Staff,
}

impl Source {
    fn code(self) -> &'static str {
        match self {
            Source::Parent => "parent",
            Source::Pattern => "pattern",
            Source::Enrollment => "enrollment",
            Source::Staff => "staff",
        }
    }
}

pub fn booking_error(e: BookingError) -> Error {
    let detail = match &e {
        BookingError::NotEnrolled => {
            "L'enfant n'a pas d'inscription validée à la cantine pour cette année scolaire."
                .to_owned()
        }
        BookingError::NotAServiceDay { date, reason } => {
            format!(
                "Pas de cantine le {} : {}.",
                date.format("%d/%m/%Y"),
                reason.label_fr()
            )
        }
        BookingError::DeadlinePassed { date, deadline } => format!(
            "Le {} ne peut plus être modifié : la date limite était le {}.",
            date.format("%d/%m/%Y"),
            deadline
                .with_timezone(&chrono_tz::Europe::Paris)
                .format("%d/%m/%Y à %H:%M")
        ),
        other => other.to_string(),
    };
    match e {
        BookingError::DeadlinePassed { .. } | BookingError::NotEnrolled => Error::Conflict {
            code: e.code(),
            detail,
        },
        _ => Error::Invalid {
            code: e.code(),
            detail,
        },
    }
}

/// Everything needed to plan for one child, loaded inside the caller's transaction after the
/// child's row is locked.
struct Loaded {
    calendar: SchoolCalendar,
    enrollment: Enrollment,
    booked: BTreeSet<NaiveDate>,
}

fn year_of(rules: &Rules<'_>, date: NaiveDate) -> Result<SchoolYearLabel> {
    match rules.holidays.school_year_containing(date) {
        Some(year) => Ok(year.label()),
        None => Err(Error::Invalid {
            code: "not_a_service_day",
            detail: format!(
                "Pas de cantine le {} : en dehors de l'année scolaire.",
                date.format("%d/%m/%Y")
            ),
        }),
    }
}

/// Locks the child (scoped to the household) and loads its calendar, enrollment and bookings.
async fn lock_and_load(
    conn: &mut PgConnection,
    rules: &Rules<'_>,
    household: Option<i64>,
    child_id: i64,
    year: SchoolYearLabel,
) -> Result<Loaded> {
    let school: Option<i64> = sqlx::query_scalar(
        "select school_id from child where id = $1 and ($2::bigint is null or household_id = $2) for update",
    )
    .bind(child_id)
    .bind(household)
    .fetch_optional(&mut *conn)
    .await?;
    let school = school.ok_or(Error::NotFound)?;
    let calendar = family::school_calendar(conn, rules, school, year).await?;
    let enrollment = family::enrollment(conn, child_id, year)
        .await?
        .map(|(_, e)| e)
        .ok_or_else(|| booking_error(BookingError::NotEnrolled))?;
    let booked = booked_in_year(conn, child_id, &calendar).await?;
    Ok(Loaded {
        calendar,
        enrollment,
        booked,
    })
}

async fn booked_days(
    conn: &mut PgConnection,
    child_id: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<BTreeSet<NaiveDate>> {
    let days: Vec<NaiveDate> = sqlx::query_scalar(
        "select service_date from reservation where child_id = $1 and booked and service_date between $2 and $3",
    )
    .bind(child_id)
    .bind(from)
    .bind(to)
    .fetch_all(&mut *conn)
    .await?;
    Ok(days.into_iter().collect())
}

async fn booked_in_year(
    conn: &mut PgConnection,
    child_id: i64,
    calendar: &SchoolCalendar,
) -> Result<BTreeSet<NaiveDate>> {
    let year = calendar.year();
    booked_days(conn, child_id, year.first_day(), year.last_day()).await
}

/// Stores the changes and their history in one statement each.
async fn store(
    conn: &mut PgConnection,
    child_id: i64,
    changes: &[DayChange],
    actor: Option<i64>,
    source: Source,
) -> Result<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let dates: Vec<NaiveDate> = changes.iter().map(|c| c.date).collect();
    let booked: Vec<bool> = changes.iter().map(|c| c.booked).collect();
    sqlx::query(
        "insert into reservation (child_id, service_date, booked)
         select $1, d, b from unnest($2::date[], $3::bool[]) as t(d, b)
         on conflict (child_id, service_date) do update set booked = excluded.booked, updated_at = now()",
    )
    .bind(child_id)
    .bind(&dates)
    .bind(&booked)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "insert into reservation_event (child_id, service_date, old_booked, new_booked, actor_account_id, source)
         select $1, d, not b, b, $4, $5 from unnest($2::date[], $3::bool[]) as t(d, b)",
    )
    .bind(child_id)
    .bind(&dates)
    .bind(&booked)
    .bind(actor)
    .bind(source.code())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Each day of the range with its state, for a child of the household.
pub async fn list(
    pool: &PgPool,
    rules: &Rules<'_>,
    household: i64,
    child_id: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<DayView>> {
    let mut conn = pool.acquire().await?;
    let school: Option<i64> =
        sqlx::query_scalar("select school_id from child where id = $1 and household_id = $2")
            .bind(child_id)
            .bind(household)
            .fetch_optional(&mut *conn)
            .await?;
    let school = school.ok_or(Error::NotFound)?;
    // A range across the summer shows the days outside the year as such.
    let year = rules
        .holidays
        .school_year_containing(from)
        .or_else(|| rules.holidays.school_year_containing(to))
        .map(|y| y.label())
        .map_or_else(|| rules.current_year(), Ok)?;
    let calendar = family::school_calendar(&mut conn, rules, school, year).await?;
    let booked = booked_days(&mut conn, child_id, from, to).await?;
    rules
        .planner()
        .day_views(&calendar, &booked, from, to)
        .map_err(booking_error)
}

/// Books or cancels one day. Answers whether anything changed (a repeated request does not).
pub async fn set_day(
    pool: &PgPool,
    rules: &Rules<'_>,
    household: i64,
    actor: i64,
    child_id: i64,
    date: NaiveDate,
    book: bool,
) -> Result<bool> {
    let year = year_of(rules, date)?;
    let mut tx = pool.begin().await?;
    let loaded = lock_and_load(&mut tx, rules, Some(household), child_id, year).await?;
    let planner = rules.planner();
    let child = ChildBookings {
        calendar: &loaded.calendar,
        enrollment: &loaded.enrollment,
        booked: &loaded.booked,
    };
    let change = planner
        .single_day(&child, date, book)
        .map_err(booking_error)?;
    if let Some(change) = change {
        store(&mut tx, child_id, &[change], Some(actor), Source::Parent).await?;
    }
    tx.commit().await?;
    Ok(change.is_some())
}

/// Applies a weekly pattern to one or several children of the household, all or nothing.
pub async fn set_pattern(
    pool: &PgPool,
    rules: &Rules<'_>,
    household: i64,
    actor: i64,
    children: &[i64],
    request: &PatternRequest,
) -> Result<Vec<(i64, Plan)>> {
    if children.is_empty() || children.len() > 10 {
        return Err(Error::validation("Choisissez de 1 à 10 enfants."));
    }
    let year = year_of(rules, request.from)?;
    let mut ids = children.to_vec();
    // Locking in id order: two patterns over the same siblings cannot deadlock.
    ids.sort_unstable();
    ids.dedup();
    let mut tx = pool.begin().await?;
    let mut loaded = Vec::new();
    for &id in &ids {
        loaded.push((
            id,
            lock_and_load(&mut tx, rules, Some(household), id, year).await?,
        ));
    }
    let planner = rules.planner();
    let inputs: Vec<(i64, ChildBookings<'_>)> = loaded
        .iter()
        .map(|(id, l)| {
            (
                *id,
                ChildBookings {
                    calendar: &l.calendar,
                    enrollment: &l.enrollment,
                    booked: &l.booked,
                },
            )
        })
        .collect();
    let plans = planner
        .pattern_for_children(&inputs, request)
        .map_err(|(_, e)| booking_error(e))?;
    for (id, plan) in &plans {
        store(&mut tx, *id, &plan.changes, Some(actor), Source::Pattern).await?;
    }
    tx.commit().await?;
    Ok(plans)
}

/// Books the usual weekdays of a just-validated enrollment, inside the caller's transaction.
pub async fn book_usual_days(
    conn: &mut PgConnection,
    rules: &Rules<'_>,
    child_id: i64,
    calendar: &SchoolCalendar,
    enrollment: &Enrollment,
    actor: Option<i64>,
) -> Result<Plan> {
    let booked = booked_in_year(conn, child_id, calendar).await?;
    let plan = rules
        .planner()
        .enrollment_validation(&ChildBookings {
            calendar,
            enrollment,
            booked: &booked,
        })
        .map_err(booking_error)?;
    store(conn, child_id, &plan.changes, actor, Source::Enrollment).await?;
    Ok(plan)
}

/// One line of a child's reservation history.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Event {
    pub service_date: NaiveDate,
    pub old_booked: bool,
    pub new_booked: bool,
    pub actor_account_id: Option<i64>,
    pub source: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

pub async fn history(pool: &PgPool, child_id: i64, date: NaiveDate) -> Result<Vec<Event>> {
    Ok(sqlx::query_as(
        "select service_date, old_booked, new_booked, actor_account_id, source, created_at
         from reservation_event where child_id = $1 and service_date = $2 order by id",
    )
    .bind(child_id)
    .bind(date)
    .fetch_all(pool)
    .await?)
}
