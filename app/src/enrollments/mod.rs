//! The enrollment workflow: a guardian asks for the canteen for a child and a school year; a
//! manager validates (which books the child's usual weekdays) or rejects with a reason.

mod store;

use cantine_domain::activity::Activity;
use cantine_domain::calendar::SchoolYearLabel;
use cantine_domain::enrollment::Enrollment;
use cantine_domain::ids::{AccountId, ChildId, EnrollmentId, HouseholdId, SchoolId};
use cantine_domain::rules::Rules;
use cantine_domain::weekdays::WeekdaySet;
use sqlx::PgPool;

use crate::audit::{self, Action, Actor, Entry};
use crate::error::{Conflict, Error, Invalid, Refusal, Result};
use crate::platform::mail::{Mail, Mailer};

/// Asks for the canteen for a child; a manager validates or rejects it later.
pub async fn request_enrollment(
    pool: &PgPool,
    household: HouseholdId,
    actor: AccountId,
    child: ChildId,
    year: SchoolYearLabel,
    weekdays: WeekdaySet,
) -> Result<EnrollmentId> {
    request(pool, household, (actor, None), child, year, weekdays).await
}

async fn request(
    pool: &PgPool,
    household: HouseholdId,
    (actor, staff): (AccountId, Option<&Actor>),
    child: ChildId,
    year: SchoolYearLabel,
    weekdays: WeekdaySet,
) -> Result<EnrollmentId> {
    let mut tx = pool.begin().await?;
    let Some(service) = store::lock_child_service_days(&mut tx, household, child).await? else {
        // The second household of a shared custody sees the child, but its enrollment is the
        // first household's to ask for: a refusal that says so, not "not found".
        let side = crate::custody::holding(&mut tx, household, child).await?;
        return Err(match side {
            Some(h) if h.is_second() => Error::Forbidden(Refusal::FirstHouseholdOnly),
            _ => Error::NotFound,
        });
    };
    Enrollment::request(year, weekdays, service)
        .map_err(|e| Error::Invalid(Invalid::Enrollment(e)))?;
    let year_id = store::school_year_id(&mut tx, year)
        .await?
        .ok_or(Error::Invalid(Invalid::YearNotOpen(year)))?;
    let id = store::insert(&mut tx, child, year_id, weekdays, actor).await?;
    if let Some(staff) = staff {
        audit::record(
            &mut tx,
            &Entry::new(staff, Action::EnrollmentRequested)
                .household(household)
                .child(child)
                .detail(serde_json::json!({ "enrollment_id": id.get(), "via": "counter" })),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(id)
}

pub enum Decision {
    Validate,
    Reject(String),
}

/// The mails of this capability, worded by the HTTP edge.
pub trait EnrollmentMails: Send + Sync {
    fn decided(
        &self,
        to: &str,
        guardian: &str,
        child: &str,
        year: SchoolYearLabel,
        rejected_for: Option<&str>,
    ) -> Mail;
}

/// A decision taken: who to tell.
#[derive(Debug)]
pub struct Decided {
    pub household: HouseholdId,
    pub child: ChildId,
    pub year: SchoolYearLabel,
    addressees: store::Addressees,
}

/// A manager's decision. Validating books the child's usual weekdays for the rest of the year,
/// in the same transaction: a validated child is never left without its meals. With an actor
/// (a staff member, not the demo's seeding), the decision is audited in that transaction.
pub async fn decide_enrollment(
    pool: &PgPool,
    rules: &Rules<'_>,
    id: EnrollmentId,
    actor: Option<&Actor>,
    decision: Decision,
) -> Result<Decided> {
    let mut tx = pool.begin().await?;
    let store::DecisionTarget {
        child,
        school,
        year,
        mut enrollment,
    } = store::lock_for_decision(&mut tx, id)
        .await?
        .ok_or(Error::NotFound)?;
    match &decision {
        Decision::Validate => enrollment.validate(),
        Decision::Reject(reason) => enrollment.reject(reason),
    }
    .map_err(|e| Error::Conflict(Conflict::Enrollment(e)))?;
    let reason = match &decision {
        Decision::Reject(reason) => Some(reason.trim()),
        Decision::Validate => None,
    };
    let actor_id = actor.map(|a| a.account);
    store::record_decision(&mut tx, id, &enrollment, reason, actor_id).await?;
    let booked = if matches!(decision, Decision::Validate) {
        let calendar = crate::calendar::school_calendar(&mut tx, rules, school, year).await?;
        let plan = crate::reservations::book_usual_days(
            &mut tx,
            rules,
            child,
            &calendar,
            &enrollment,
            actor_id,
        )
        .await?;
        plan.changes.len()
    } else {
        0
    };
    let addressees = store::addressees(&mut tx, child).await?;
    if let Some(actor) = actor {
        audit::record(
            &mut tx,
            &Entry::new(actor, Action::EnrollmentDecided)
                .household(addressees.household)
                .child(child)
                .detail(serde_json::json!({
                    "enrollment_id": id.get(), "status": enrollment.status().code(),
                    "reason": reason, "days_booked": booked,
                })),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Decided {
        household: addressees.household,
        child,
        year,
        addressees,
    })
}

/// A staff member's decision, then the family's mail (one, to its guardians with an address).
/// The decision stands even if the mail cannot go: the failure is logged.
pub async fn decide_and_tell(
    pool: &PgPool,
    mailer: &Mailer,
    mails: &dyn EnrollmentMails,
    rules: &Rules<'_>,
    actor: &Actor,
    id: EnrollmentId,
    decision: Decision,
) -> Result<Decided> {
    let reason = match &decision {
        Decision::Reject(reason) => Some(reason.trim().to_owned()),
        Decision::Validate => None,
    };
    let decided = decide_enrollment(pool, rules, id, Some(actor), decision).await?;
    let a = &decided.addressees;
    if !a.emails.is_empty() {
        let mail = mails.decided(
            &a.emails.join(", "),
            &a.first_name,
            &a.child_first_name,
            decided.year,
            reason.as_deref(),
        );
        mailer.send_logged(mail).await;
    }
    Ok(decided)
}

pub use store::Pending;

/// The requests waiting for a decision, oldest first, by school and year if asked.
pub async fn pending(
    pool: &PgPool,
    school: Option<SchoolId>,
    year: Option<SchoolYearLabel>,
) -> Result<Vec<Pending>> {
    store::pending(pool, Activity::Canteen, school, year).await
}

/// A manager requests the enrollment for a family at the counter; audited.
pub async fn request_at_counter(
    pool: &PgPool,
    actor: &Actor,
    household: HouseholdId,
    child: ChildId,
    year: SchoolYearLabel,
    weekdays: WeekdaySet,
) -> Result<EnrollmentId> {
    request(
        pool,
        household,
        (actor.account, Some(actor)),
        child,
        year,
        weekdays,
    )
    .await
}

/// How many enrollments are in each state (pending, validated, rejected, cancelled).
pub async fn count_by_status(pool: &PgPool) -> Result<Vec<(String, i64)>> {
    store::count_by_status(pool).await
}
