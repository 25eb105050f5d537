//! The enrollment rows.

use cantine_domain::activity::Activity;
use cantine_domain::calendar::SchoolYearLabel;
use cantine_domain::enrollment::Enrollment;
use cantine_domain::ids::{AccountId, ChildId, EnrollmentId, HouseholdId, SchoolId};
use cantine_domain::weekdays::WeekdaySet;
use sqlx::{PgConnection, PgPool};

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

/// A request waiting for a manager, with what the manager needs to decide.
#[derive(Debug, Clone)]
pub struct Pending {
    pub id: EnrollmentId,
    pub child: ChildId,
    pub child_name: String,
    pub birth_date: chrono::NaiveDate,
    pub class_level: String,
    pub school: SchoolId,
    pub school_name: String,
    pub year: String,
    pub weekdays: WeekdaySet,
    pub requested_at: chrono::DateTime<chrono::Utc>,
    pub household: HouseholdId,
    /// "Camille Martin <camille@…> 06 …", one per guardian.
    pub guardians: Vec<String>,
}

pub async fn pending(
    pool: &sqlx::PgPool,
    activity: Activity,
    school: Option<SchoolId>,
    year: Option<SchoolYearLabel>,
) -> Result<Vec<Pending>> {
    let rows = sqlx::query!(
        r#"select e.id, e.child_id, c.first_name || ' ' || c.last_name as "child_name!", c.birth_date,
            c.class_level, c.school_id, s.name as school_name, y.label, e.weekdays, e.requested_at,
            c.household_id,
            coalesce((select array_agg(concat_ws(' ', a.first_name, a.last_name,
                          case when a.email is not null then '<' || a.email || '>' end, nullif(a.phone, ''))
                      order by a.id) from account a where a.household_id = c.household_id), '{}') as "guardians!"
        from enrollment e
        join child c on c.id = e.child_id join school s on s.id = c.school_id
        join school_year y on y.id = e.school_year_id
        where e.status = 'pending' and e.activity = $1
          and ($2::bigint is null or c.school_id = $2) and ($3::text is null or y.label = $3)
        order by e.requested_at, e.id"#,
        activity.code(),
        school.map(SchoolId::get),
        year.map(|y| y.to_string()),
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(Pending {
                id: EnrollmentId(r.id),
                child: ChildId(r.child_id),
                child_name: r.child_name,
                birth_date: r.birth_date,
                class_level: r.class_level,
                school: SchoolId(r.school_id),
                school_name: r.school_name,
                year: r.label,
                weekdays: weekdays_from_sql(&r.weekdays)?,
                requested_at: r.requested_at,
                household: HouseholdId(r.household_id),
                guardians: r.guardians,
            })
        })
        .collect()
}

/// Whom to tell of a decision: the household's guardians with an address.
#[derive(Debug)]
pub struct Addressees {
    pub household: HouseholdId,
    pub child_first_name: String,
    pub emails: Vec<String>,
    pub first_name: String,
}

pub async fn addressees(conn: &mut PgConnection, child: ChildId) -> Result<Addressees> {
    let r = sqlx::query!(
        r#"select c.household_id, c.first_name,
            coalesce((select array_agg(a.email order by a.id) from account a
                      where a.household_id = c.household_id and a.email is not null), '{}') as "emails!",
            coalesce((select a.first_name from account a where a.household_id = c.household_id
                      order by a.id limit 1), '') as "guardian!"
        from child c where c.id = $1"#,
        child.get(),
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(Addressees {
        household: HouseholdId(r.household_id),
        child_first_name: r.first_name,
        emails: r.emails,
        first_name: r.guardian,
    })
}

/// How many enrollments are in each state, for the metrics page.
pub async fn count_by_status(pool: &PgPool) -> Result<Vec<(String, i64)>> {
    Ok(sqlx::query!(
        r#"select status, count(*) as "count!" from enrollment group by status order by status"#
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| (r.status, r.count))
    .collect())
}
