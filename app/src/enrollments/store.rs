//! The enrollment rows.

use cantine_domain::calendar::SchoolYearLabel;
use cantine_domain::enrollment::Enrollment;
use cantine_domain::ids::{AccountId, ChildId, EnrollmentId, HouseholdId, SchoolId};
use cantine_domain::weekdays::WeekdaySet;
use sqlx::PgConnection;

use crate::error::{Conflict, Error, Result, on_constraint};
use crate::platform::sql::{decode, stored_enrollment, weekdays_from_sql, weekdays_to_sql};

/// Locks the household's child and answers its school's service weekdays.
pub async fn lock_child_service_days(
    conn: &mut PgConnection,
    household: HouseholdId,
    child: ChildId,
) -> Result<Option<WeekdaySet>> {
    let days = sqlx::query_scalar!(
        "select s.service_weekdays from child c join school s on s.id = c.school_id
         where c.id = $1 and c.household_id = $2 for update of c",
        child.get(),
        household.get(),
    )
    .fetch_optional(&mut *conn)
    .await?;
    days.map(|d| weekdays_from_sql(&d)).transpose()
}

pub async fn school_year_id(conn: &mut PgConnection, year: SchoolYearLabel) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar!(
        "select id from school_year where label = $1",
        year.to_string()
    )
    .fetch_optional(&mut *conn)
    .await?)
}

pub async fn insert(
    conn: &mut PgConnection,
    child: ChildId,
    year_id: i64,
    weekdays: WeekdaySet,
    actor: AccountId,
) -> Result<EnrollmentId> {
    sqlx::query_scalar!(
        "insert into enrollment (child_id, school_year_id, weekdays, requested_by)
         values ($1, $2, $3, $4) returning id",
        child.get(),
        year_id,
        &weekdays_to_sql(weekdays),
        actor.get(),
    )
    .fetch_one(&mut *conn)
    .await
    .map(EnrollmentId)
    .map_err(|e| {
        on_constraint(e, |name| {
            (name == "enrollment_one_live").then_some(Error::Conflict(Conflict::AlreadyEnrolled))
        })
    })
}

/// What a decision concerns, with the enrollment and its child locked: the decision judges the
/// enrollment it names, never another request of the same child.
pub struct DecisionTarget {
    pub child: ChildId,
    pub school: SchoolId,
    pub year: SchoolYearLabel,
    pub enrollment: Enrollment,
}

pub async fn lock_for_decision(
    conn: &mut PgConnection,
    id: EnrollmentId,
) -> Result<Option<DecisionTarget>> {
    let row = sqlx::query!(
        "select e.child_id, c.school_id, y.label, e.weekdays, e.status, e.decision_reason
         from enrollment e
         join child c on c.id = e.child_id join school_year y on y.id = e.school_year_id
         where e.id = $1 for update of e, c",
        id.get(),
    )
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| {
        let year = decode("school_year.label", &r.label)?;
        Ok(DecisionTarget {
            child: ChildId(r.child_id),
            school: SchoolId(r.school_id),
            year,
            enrollment: stored_enrollment(
                year,
                &r.weekdays,
                &r.status,
                r.decision_reason.as_deref(),
            )?,
        })
    })
    .transpose()
}

pub async fn record_decision(
    conn: &mut PgConnection,
    id: EnrollmentId,
    enrollment: &Enrollment,
    reason: Option<&str>,
    actor: Option<AccountId>,
) -> Result<()> {
    sqlx::query!(
        "update enrollment set status = $2, decision_reason = $3, decided_by = $4, decided_at = now()
         where id = $1",
        id.get(),
        enrollment.status().code(),
        reason,
        actor.map(AccountId::get),
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}
