//! The enrollment workflow: a guardian asks for the canteen for a child and a school year; a
//! manager validates (which books the child's usual weekdays) or rejects with a reason.

mod store;

use cantine_domain::calendar::SchoolYearLabel;
use cantine_domain::enrollment::Enrollment;
use cantine_domain::ids::{AccountId, ChildId, EnrollmentId, HouseholdId};
use cantine_domain::rules::Rules;
use cantine_domain::weekdays::WeekdaySet;
use sqlx::PgPool;

use crate::error::{Conflict, Error, Invalid, Result};

/// Asks for the canteen for a child; a manager validates or rejects it later.
pub async fn request_enrollment(
    pool: &PgPool,
    household: HouseholdId,
    actor: AccountId,
    child: ChildId,
    year: SchoolYearLabel,
    weekdays: WeekdaySet,
) -> Result<EnrollmentId> {
    let mut tx = pool.begin().await?;
    let service = store::lock_child_service_days(&mut tx, household, child)
        .await?
        .ok_or(Error::NotFound)?;
    Enrollment::request(year, weekdays, service)
        .map_err(|e| Error::Invalid(Invalid::Enrollment(e)))?;
    let year_id = store::school_year_id(&mut tx, year)
        .await?
        .ok_or(Error::Invalid(Invalid::YearNotOpen(year)))?;
    let id = store::insert(&mut tx, child, year_id, weekdays, actor).await?;
    tx.commit().await?;
    Ok(id)
}

pub enum Decision {
    Validate,
    Reject(String),
}

/// A manager's decision. Validating books the child's usual weekdays for the rest of the year,
/// in the same transaction: a validated child is never left without its meals.
pub async fn decide_enrollment(
    pool: &PgPool,
    rules: &Rules<'_>,
    id: EnrollmentId,
    actor: Option<AccountId>,
    decision: Decision,
) -> Result<()> {
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
    store::record_decision(&mut tx, id, &enrollment, reason, actor).await?;
    if matches!(decision, Decision::Validate) {
        let calendar = crate::calendar::school_calendar(&mut tx, rules, school, year).await?;
        crate::reservations::book_usual_days(&mut tx, rules, child, &calendar, &enrollment, actor)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}
