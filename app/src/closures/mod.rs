//! Closing schools on given days (a strike, works, an outing) and reopening them.
//!
//! A closure cancels every booking of the closed schools on those days in the same transaction,
//! each cancellation with its history event, and tells each family concerned once, listing its
//! children and days. Reopening restores nothing: families book again (their cancelled days
//! may have been planned around). Billing never charges a closed day: it reads `closure`.

mod store;

use std::collections::BTreeMap;

use cantine_domain::ids::SchoolId;
use chrono::NaiveDate;
use sqlx::PgPool;

use crate::audit::{self, Action, Actor, Entry};
use crate::error::{Error, Invalid, Result};
use crate::platform::mail::{Mail, Mailer};
use crate::reservations;

pub use store::ClosureRow;

/// The closure mails, worded by the HTTP edge.
pub trait ClosureMails: Send + Sync {
    /// `meals` lists (child's first name, day), by day then child.
    fn closed(&self, to: &str, reason: &str, meals: &[(String, NaiveDate)]) -> Mail;
}

/// The longest closure one request makes: a school year.
pub const MAX_CLOSURE_DAYS: i64 = 366;

#[derive(Debug, Clone)]
pub struct Closing {
    /// `None`: every school of the commune.
    pub schools: Option<Vec<SchoolId>>,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub reason: String,
}

/// What a closure did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closed {
    pub bookings_cancelled: usize,
    pub families_mailed: usize,
}

fn check_days(from: NaiveDate, to: NaiveDate) -> Result<()> {
    if to < from || (to - from).num_days() >= MAX_CLOSURE_DAYS {
        return Err(Error::Invalid(Invalid::Booking(
            cantine_domain::booking::BookingError::InvalidRange { from, to },
        )));
    }
    Ok(())
}

fn school_ids(schools: &Option<Vec<SchoolId>>) -> Result<Option<Vec<i64>>> {
    match schools {
        Some(list) if list.is_empty() => Err(Error::form(crate::error::FormProblem::School)),
        Some(list) => {
            let mut ids: Vec<i64> = list.iter().map(|s| s.get()).collect();
            ids.sort_unstable();
            ids.dedup();
            Ok(Some(ids))
        }
        None => Ok(None),
    }
}

pub async fn close_days(
    pool: &PgPool,
    mailer: &Mailer,
    mails: &dyn ClosureMails,
    actor: &Actor,
    closing: Closing,
) -> Result<Closed> {
    check_days(closing.from, closing.to)?;
    let reason = reservations::checked_reason(&closing.reason)?.to_owned();
    let schools = school_ids(&closing.schools)?;
    let mut tx = pool.begin().await?;
    store::insert(
        &mut tx,
        schools.as_deref(),
        (closing.from, closing.to),
        &reason,
        actor.account,
    )
    .await?;
    let cancelled = reservations::cancel_for_closure(
        &mut tx,
        schools.as_deref(),
        (closing.from, closing.to),
        actor.account,
        &reason,
    )
    .await?;
    let mut by_household: BTreeMap<i64, Vec<(String, NaiveDate)>> = BTreeMap::new();
    for c in &cancelled {
        by_household
            .entry(c.household_id)
            .or_default()
            .push((c.first_name.clone(), c.service_date));
    }
    let households: Vec<i64> = by_household.keys().copied().collect();
    let addresses = store::addresses(&mut tx, &households).await?;
    audit::record(
        &mut tx,
        &Entry::new(actor, Action::DaysClosed).detail(serde_json::json!({
            "schools": schools, "from": closing.from, "to": closing.to, "reason": reason,
            "bookings_cancelled": cancelled.len(), "households": households,
        })),
    )
    .await?;
    tx.commit().await?;

    let mut families_mailed = 0;
    for (household, meals) in &by_household {
        let Some(to) = addresses.get(household).filter(|a| !a.is_empty()) else {
            // A counter family without an address: its letter is printed from its page.
            continue;
        };
        mailer
            .send_logged(mails.closed(&to.join(", "), &reason, meals))
            .await;
        families_mailed += 1;
    }
    tracing::info!(
        bookings = cancelled.len(),
        families = families_mailed,
        "days closed"
    );
    Ok(Closed {
        bookings_cancelled: cancelled.len(),
        families_mailed,
    })
}

/// Reopens days: the closures covering them are cut back (a closure from Monday to Friday
/// reopened on Wednesday becomes Monday–Tuesday and Thursday–Friday). Nothing is booked again.
/// Answers how many closure records changed.
pub async fn reopen_days(
    pool: &PgPool,
    actor: &Actor,
    schools: Option<Vec<SchoolId>>,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<usize> {
    check_days(from, to)?;
    let ids = school_ids(&schools)?;
    let mut tx = pool.begin().await?;
    let overlapping = store::lock_overlapping(&mut tx, ids.as_deref(), (from, to)).await?;
    for closure in &overlapping {
        store::delete(&mut tx, closure.id).await?;
        let before = (closure.first_day < from).then(|| (closure.first_day, from.pred_opt()));
        let after = (closure.last_day > to).then(|| (to.succ_opt(), closure.last_day));
        for (first, last) in [
            before.and_then(|(f, l)| Some((f, l?))),
            after.and_then(|(f, l)| Some((f?, l))),
        ]
        .into_iter()
        .flatten()
        {
            let school = closure.school_id.map(|s| vec![s]);
            store::insert(
                &mut tx,
                school.as_deref(),
                (first, last),
                &closure.reason,
                actor.account,
            )
            .await?;
        }
    }
    audit::record(
        &mut tx,
        &Entry::new(actor, Action::DaysReopened).detail(serde_json::json!({
            "schools": ids, "from": from, "to": to,
            "closures": overlapping.iter().map(|c| c.id).collect::<Vec<_>>(),
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(overlapping.len())
}

/// The closures from `from` on, for the managers' page.
pub async fn upcoming(pool: &PgPool, from: NaiveDate) -> Result<Vec<ClosureRow>> {
    store::upcoming(pool, from).await
}
