//! The households' rows: schools and children, with each child's latest enrollment of a year.

use cantine_domain::activity::Activity;
use cantine_domain::calendar::SchoolYearLabel;
use cantine_domain::ids::{ChildId, HouseholdId, SchoolId};
use chrono::NaiveDate;
use sqlx::PgPool;

use super::{Child, ChildEnrollment, School, ValidChild};
use crate::error::{Error, Invalid, Result, on_constraint};
use crate::platform::sql::{decode, stored_status, weekdays_from_sql};

pub async fn schools(pool: &PgPool) -> Result<Vec<School>> {
    sqlx::query!("select id, name, address, service_weekdays from school order by name")
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|row| {
            Ok(School {
                id: SchoolId(row.id),
                name: row.name,
                address: row.address,
                service_weekdays: weekdays_from_sql(&row.service_weekdays)?,
            })
        })
        .collect()
}

struct ChildRow {
    id: i64,
    first_name: String,
    last_name: String,
    birth_date: NaiveDate,
    school_id: i64,
    school_name: String,
    school_service_weekdays: Vec<i16>,
    class_level: String,
    diet: String,
    allergies: String,
    pai: bool,
    enrollment_status: Option<String>,
    enrollment_weekdays: Option<Vec<i16>>,
    enrollment_reason: Option<String>,
}

impl TryFrom<ChildRow> for Child {
    type Error = Error;

    fn try_from(row: ChildRow) -> Result<Child> {
        let enrollment = match (row.enrollment_status, row.enrollment_weekdays) {
            (Some(code), Some(days)) => Some(ChildEnrollment {
                status: stored_status(&code, row.enrollment_reason.as_deref())?,
                weekdays: weekdays_from_sql(&days)?,
            }),
            _ => None,
        };
        Ok(Child {
            id: ChildId(row.id),
            first_name: row.first_name,
            last_name: row.last_name,
            birth_date: row.birth_date,
            school_id: SchoolId(row.school_id),
            school_name: row.school_name,
            school_service_weekdays: weekdays_from_sql(&row.school_service_weekdays)?,
            class_level: decode("child.class_level", &row.class_level)?,
            diet: decode("child.diet", &row.diet)?,
            allergies: row.allergies,
            pai: row.pai,
            enrollment,
        })
    }
}

/// The household's children (or one of them), oldest first. The latest enrollment of the year
/// wins: a rejected request followed by a new one shows the new.
async fn select_children(
    pool: &PgPool,
    household: HouseholdId,
    year: SchoolYearLabel,
    only: Option<ChildId>,
) -> Result<Vec<Child>> {
    sqlx::query_as!(
        ChildRow,
        r#"select c.id, c.first_name, c.last_name, c.birth_date, c.school_id,
            s.name as school_name, s.service_weekdays as school_service_weekdays, c.class_level, c.diet, c.allergies, c.pai,
            e.status as "enrollment_status?", e.weekdays as "enrollment_weekdays?",
            e.decision_reason as "enrollment_reason?"
        from child c join school s on s.id = c.school_id
        left join lateral (
            select en.status, en.weekdays, en.decision_reason from enrollment en
            join school_year y on y.id = en.school_year_id
            where en.child_id = c.id and en.activity = $4 and y.label = $2
            order by en.id desc limit 1) e on true
        where c.household_id = $1 and ($3::bigint is null or c.id = $3)
        order by c.birth_date, c.id"#,
        household.get(),
        year.to_string(),
        only.map(ChildId::get),
        Activity::Canteen.code(),
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(Child::try_from)
    .collect()
}

pub async fn children(
    pool: &PgPool,
    household: HouseholdId,
    year: SchoolYearLabel,
) -> Result<Vec<Child>> {
    select_children(pool, household, year, None).await
}

pub async fn child(
    pool: &PgPool,
    household: HouseholdId,
    id: ChildId,
    year: SchoolYearLabel,
) -> Result<Option<Child>> {
    Ok(select_children(pool, household, year, Some(id))
        .await?
        .pop())
}

pub async fn insert_child(
    pool: &PgPool,
    household: HouseholdId,
    child: &ValidChild,
) -> Result<ChildId> {
    sqlx::query_scalar!(
        "insert into child (household_id, first_name, last_name, birth_date, school_id, class_level, diet, allergies, pai)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9) returning id",
        household.get(),
        child.first_name,
        child.last_name,
        child.birth_date,
        child.school_id.get(),
        child.class_level.code(),
        child.diet.code(),
        child.allergies,
        child.pai,
    )
    .fetch_one(pool)
    .await
    .map(ChildId)
    .map_err(|e| {
        on_constraint(e, |name| {
            (name == "child_school_fk").then_some(Error::Invalid(Invalid::UnknownSchool))
        })
    })
}
