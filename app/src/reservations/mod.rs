//! Meal reservations: listing a child's days, booking and cancelling within the deadline, and
//! weekly patterns. Every change is one transaction that locks the child's row first, so two
//! requests for the same child run one after the other and the history tells their order.

mod store;

use std::collections::BTreeSet;

use cantine_domain::activity::Activity;
use cantine_domain::booking::{BookingError, ChildBookings, DayView, PatternRequest, Plan};
use cantine_domain::calendar::{SchoolCalendar, SchoolYearLabel};
use cantine_domain::enrollment::Enrollment;
use cantine_domain::ids::{AccountId, ChildId, HouseholdId};
use cantine_domain::rules::Rules;
use chrono::NaiveDate;
use sqlx::{PgConnection, PgPool};

use crate::audit::{self, Action, Actor, Entry};
use crate::custody::Holding;
use crate::error::{Conflict, Error, Field, Invalid, Result};

pub use store::{Cancelled, Event};

/// The only activity booked today; see `cantine_domain::activity`.
const ACTIVITY: Activity = Activity::Canteen;

/// The most children one pattern may cover: a large family, not a whole school.
pub const MAX_PATTERN_CHILDREN: usize = 10;

/// Who changed a reservation, through which path; kept in `reservation_event`.
#[derive(Debug, Clone, Copy)]
pub enum Source {
    Parent,
    Pattern,
    Enrollment,
    /// A manager, for the family (at the counter, or after the deadline with a reason).
    Staff,
    Closure,
}

impl Source {
    pub fn code(self) -> &'static str {
        match self {
            Source::Parent => "parent",
            Source::Pattern => "pattern",
            Source::Enrollment => "enrollment",
            Source::Staff => "staff",
            Source::Closure => "closure",
        }
    }
}

/// Everything needed to plan for one child, loaded inside the caller's transaction after the
/// child's row is locked.
struct Loaded {
    first_name: String,
    calendar: SchoolCalendar,
    enrollment: Enrollment,
    booked: BTreeSet<NaiveDate>,
    /// For a shared child, how the household asking holds it.
    holding: Option<Holding>,
}

impl Loaded {
    /// Whether the household asking books that day (every day of a child not shared).
    fn books(&self, date: NaiveDate) -> bool {
        self.holding.as_ref().is_none_or(|h| h.books(date))
    }

    fn bookings(&self) -> ChildBookings<'_> {
        ChildBookings {
            calendar: &self.calendar,
            enrollment: &self.enrollment,
            booked: &self.booked,
        }
    }
}

fn year_of(rules: &Rules<'_>, date: NaiveDate) -> Result<SchoolYearLabel> {
    rules
        .year_of(date)
        .ok_or(Error::Invalid(Invalid::OutsideSchoolYear(date)))
}

/// Locks the child (scoped to the household) and loads its calendar, enrollment and the days
/// booked from `from` to `to`: the planner looks at no other day (one day for `single_day`, the
/// request's range for `pattern`). Two round trips: the lock with the calendar's rows, then the
/// booked days, read after the lock is held.
async fn lock_and_load(
    conn: &mut PgConnection,
    rules: &Rules<'_>,
    household: HouseholdId,
    child: ChildId,
    year: SchoolYearLabel,
    (from, to): (NaiveDate, NaiveDate),
) -> Result<Loaded> {
    let locked = store::lock_child(conn, household, child, ACTIVITY, year)
        .await?
        .ok_or(Error::NotFound)?;
    let calendar = crate::calendar::from_rows(
        rules,
        locked.school,
        year,
        locked.service_weekdays,
        &locked.closures,
    )?;
    let enrollment = locked
        .enrollment
        .ok_or_else(|| Error::booking(BookingError::NotEnrolled))?;
    let booked = store::booked_days(conn, child, ACTIVITY, from, to).await?;
    // Read under the child's lock, which a change of the arrangement takes too.
    let holding = if locked.shared {
        crate::custody::holding(conn, household, child).await?
    } else {
        None
    };
    Ok(Loaded {
        first_name: locked.first_name,
        calendar,
        enrollment,
        booked,
        holding,
    })
}

/// Each day of the range with its state, for a child of the household.
pub async fn list(
    pool: &PgPool,
    rules: &Rules<'_>,
    household: HouseholdId,
    child: ChildId,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<DayView>> {
    let mut conn = pool.acquire().await?;
    let school = store::school_of(&mut conn, household, child)
        .await?
        .ok_or(Error::NotFound)?;
    // A range across the summer shows the days outside the year as such.
    let year = match rules.year_of(from).or_else(|| rules.year_of(to)) {
        Some(year) => year,
        None => rules.current_year()?,
    };
    let calendar = crate::calendar::school_calendar(&mut conn, rules, school, year).await?;
    let booked = store::booked_days(&mut conn, child, ACTIVITY, from, to).await?;
    rules
        .planner()
        .day_views(&calendar, &booked, from, to)
        .map_err(Error::booking)
}

/// Books or cancels one day. Answers whether anything changed (a repeated request does not).
pub async fn set_day(
    pool: &PgPool,
    rules: &Rules<'_>,
    household: HouseholdId,
    actor: AccountId,
    child: ChildId,
    date: NaiveDate,
    book: bool,
) -> Result<bool> {
    change_day(
        pool,
        rules,
        household,
        child,
        (date, book),
        By::Family(actor),
    )
    .await
}

/// A manager books or cancels for a family, at the counter or after the deadline: the calendar
/// applies, the deadline does not, and the reason is kept in the day's history (which the
/// family sees) and in the audit log.
#[allow(clippy::too_many_arguments)]
pub async fn set_day_at_counter(
    pool: &PgPool,
    rules: &Rules<'_>,
    actor: &Actor,
    household: HouseholdId,
    child: ChildId,
    date: NaiveDate,
    book: bool,
    reason: &str,
) -> Result<bool> {
    let reason = checked_reason(reason)?;
    let by = By::Counter { actor, reason };
    change_day(pool, rules, household, child, (date, book), by).await
}

/// Who changes a day: the family within its deadline, or a manager for it.
enum By<'a> {
    Family(AccountId),
    Counter { actor: &'a Actor, reason: &'a str },
}

async fn change_day(
    pool: &PgPool,
    rules: &Rules<'_>,
    household: HouseholdId,
    child: ChildId,
    (date, book): (NaiveDate, bool),
    by: By<'_>,
) -> Result<bool> {
    let year = year_of(rules, date)?;
    let mut tx = pool.begin().await?;
    let loaded = lock_and_load(&mut tx, rules, household, child, year, (date, date)).await?;
    // Each household of a shared custody books and cancels its own days only; the town hall
    // at the counter may change any day, for either.
    if matches!(by, By::Family(_)) && !loaded.books(date) {
        return Err(Error::Conflict(Conflict::OtherHouseholdsDay {
            child: loaded.first_name,
            date,
        }));
    }
    let planner = rules.planner();
    let change = match by {
        By::Family(_) => planner.single_day(&loaded.bookings(), date, book),
        By::Counter { .. } => planner.override_day(&loaded.bookings(), date, book),
    }
    .map_err(Error::booking)?;
    if let Some(change) = change {
        let (account, source) = match &by {
            By::Family(account) => (*account, (Source::Parent, None)),
            By::Counter { actor, reason } => (actor.account, (Source::Staff, Some(*reason))),
        };
        store::record(&mut tx, child, ACTIVITY, &[change], Some(account), source).await?;
        if let By::Counter { actor, reason } = by {
            audit::record(
                &mut tx,
                &Entry::new(actor, Action::ReservationChanged)
                    .household(household)
                    .child(child)
                    .detail(serde_json::json!({
                        "date": date, "booked": book, "reason": reason, "via": "counter",
                    })),
            )
            .await?;
        }
    }
    tx.commit().await?;
    Ok(change.is_some())
}

/// The longest reason a manager types for an override or a closure.
pub const MAX_REASON_CHARS: usize = 300;

/// A manager's reason (an override, a closure), trimmed: required, and 300 characters at most.
pub fn checked_reason(text: &str) -> Result<&str> {
    let reason = text.trim();
    if reason.is_empty() {
        return Err(Error::Invalid(Invalid::Required {
            field: Field::Reason,
        }));
    }
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(Error::Invalid(Invalid::TooLong {
            field: Field::Reason,
            max: Some(MAX_REASON_CHARS),
        }));
    }
    Ok(reason)
}

/// Cancels, inside the caller's transaction, the bookings a closure removes.
pub async fn cancel_for_closure(
    conn: &mut PgConnection,
    schools: Option<&[i64]>,
    days: (NaiveDate, NaiveDate),
    actor: AccountId,
    reason: &str,
) -> Result<Vec<Cancelled>> {
    store::cancel_for_closure(conn, ACTIVITY, schools, days, actor, reason).await
}

/// What a pattern did for one child.
#[derive(Debug, Clone)]
pub struct PatternResult {
    pub child: ChildId,
    pub plan: Plan,
    /// Under a shared custody, the days the pattern would have changed that are the other
    /// household's: left as they are.
    pub other_household_days: Vec<NaiveDate>,
}

/// Applies a weekly pattern to one or several children of the household, all or nothing. A
/// shared child's days that are the other household's are skipped and listed, not refused.
pub async fn set_pattern(
    pool: &PgPool,
    rules: &Rules<'_>,
    household: HouseholdId,
    actor: AccountId,
    children: &[ChildId],
    request: &PatternRequest,
) -> Result<Vec<PatternResult>> {
    if children.is_empty() || children.len() > MAX_PATTERN_CHILDREN {
        return Err(Error::Invalid(Invalid::ChildrenCount {
            max: MAX_PATTERN_CHILDREN,
        }));
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
            lock_and_load(
                &mut tx,
                rules,
                household,
                id,
                year,
                (request.from, request.to),
            )
            .await?,
        ));
    }
    let inputs: Vec<(ChildId, ChildBookings<'_>)> =
        loaded.iter().map(|(id, l)| (*id, l.bookings())).collect();
    let plans = rules
        .planner()
        .pattern_for_children(&inputs, request)
        .map_err(|(_, e)| Error::booking(e))?;
    let mut results = Vec::with_capacity(plans.len());
    for ((id, mut plan), (_, loaded)) in plans.into_iter().zip(&loaded) {
        let mut others: Vec<NaiveDate> = plan
            .changes
            .iter()
            .map(|c| c.date)
            .chain(plan.locked.iter().map(|l| l.date))
            .filter(|&d| !loaded.books(d))
            .collect();
        others.sort_unstable();
        plan.changes.retain(|c| loaded.books(c.date));
        plan.locked.retain(|l| loaded.books(l.date));
        store::record(
            &mut tx,
            id,
            ACTIVITY,
            &plan.changes,
            Some(actor),
            (Source::Pattern, None),
        )
        .await?;
        results.push(PatternResult {
            child: id,
            plan,
            other_household_days: others,
        });
    }
    tx.commit().await?;
    Ok(results)
}

/// Books the usual weekdays of a just-validated enrollment, inside the caller's transaction.
pub async fn book_usual_days(
    conn: &mut PgConnection,
    rules: &Rules<'_>,
    child: ChildId,
    calendar: &SchoolCalendar,
    enrollment: &Enrollment,
    actor: Option<AccountId>,
) -> Result<Plan> {
    let booked = store::booked_in_year(conn, child, ACTIVITY, calendar).await?;
    let plan = rules
        .planner()
        .enrollment_validation(&ChildBookings {
            calendar,
            enrollment,
            booked: &booked,
        })
        .map_err(Error::booking)?;
    store::record(
        conn,
        child,
        ACTIVITY,
        &plan.changes,
        actor,
        (Source::Enrollment, None),
    )
    .await?;
    Ok(plan)
}

/// A child's changes over a range (the family's history), oldest first. Changes made for the
/// family by the town hall (a manager at the counter, a closure) say so with their reason.
pub async fn history(
    pool: &PgPool,
    household: HouseholdId,
    child: ChildId,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<Event>> {
    if to < from || (to - from).num_days() > cantine_domain::booking::MAX_RANGE_DAYS {
        return Err(Error::booking(BookingError::InvalidRange { from, to }));
    }
    let mut events = store::history(pool, household, child, ACTIVITY, (from, to)).await?;
    // Under a shared custody each household reads the history of its own days.
    if let Some(holding) = crate::custody::holding_of(pool, household, child).await?
        && holding.arrangement.is_some()
    {
        events.retain(|e| holding.books(e.service_date));
    }
    Ok(events)
}
