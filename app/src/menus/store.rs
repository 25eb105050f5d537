//! The menu rows.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgConnection, PgExecutor};

use cantine_domain::ids::AccountId;

use crate::error::{Error, Invalid, Result, on_constraint};

#[derive(Debug, Clone)]
pub struct DishRow {
    pub menu_day_id: i64,
    pub school_id: Option<i64>,
    pub service_date: NaiveDate,
    pub published_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub course: String,
    pub name: String,
    pub allergens: Vec<String>,
    pub regimes: Vec<String>,
    pub quality_signs: Vec<String>,
}

/// Every dish of the menus of the days from..=to that concern those schools (their own, and
/// the commune's), in menu then position order.
pub async fn dishes<'e>(
    db: impl PgExecutor<'e>,
    activity: &str,
    schools: &[i64],
    (from, to): (NaiveDate, NaiveDate),
) -> Result<Vec<DishRow>> {
    Ok(sqlx::query_as!(
        DishRow,
        "select m.id as menu_day_id, m.school_id, m.service_date, m.published_at, m.updated_at,
                d.course, d.name, d.allergens, d.regimes, d.quality_signs
         from menu_day m join dish d on d.menu_day_id = m.id
         where m.activity = $1 and m.service_date between $3 and $4
           and (m.school_id is null or m.school_id = any($2))
         order by m.id, d.position",
        activity,
        schools,
        from,
        to,
    )
    .fetch_all(db)
    .await?)
}

/// Every dish of the menus entered from..=to, the commune's and every school's, by date, then
/// the commune's before the schools' (by id), then position.
pub async fn entered<'e>(
    db: impl PgExecutor<'e>,
    activity: &str,
    (from, to): (NaiveDate, NaiveDate),
) -> Result<Vec<DishRow>> {
    Ok(sqlx::query_as!(
        DishRow,
        "select m.id as menu_day_id, m.school_id, m.service_date, m.published_at, m.updated_at,
                d.course, d.name, d.allergens, d.regimes, d.quality_signs
         from menu_day m join dish d on d.menu_day_id = m.id
         where m.activity = $1 and m.service_date between $2 and $3
         order by m.service_date, m.school_id nulls first, d.position",
        activity,
        from,
        to,
    )
    .fetch_all(db)
    .await?)
}

/// The day's menu row for that scope, created or touched; its first publication stays.
pub async fn upsert_day(
    conn: &mut PgConnection,
    activity: &str,
    date: NaiveDate,
    school: Option<i64>,
    now: DateTime<Utc>,
    by: Option<AccountId>,
) -> Result<i64> {
    sqlx::query_scalar!(
        "insert into menu_day (activity, service_date, school_id, published_at, updated_at, updated_by)
         values ($1, $2, $3, $4, $4, $5)
         on conflict on constraint menu_day_one_per_scope
         do update set updated_at = excluded.updated_at, updated_by = excluded.updated_by
         returning id",
        activity,
        date,
        school,
        now,
        by.map(|a| a.get()),
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| {
        on_constraint(e, |name| {
            (name == "menu_day_school_fk").then_some(Error::Invalid(Invalid::UnknownSchool))
        })
    })
}

pub async fn delete_day(
    conn: &mut PgConnection,
    activity: &str,
    date: NaiveDate,
    school: Option<i64>,
) -> Result<u64> {
    Ok(sqlx::query!(
        "delete from menu_day where activity = $1 and service_date = $2
           and school_id is not distinct from $3",
        activity,
        date,
        school,
    )
    .execute(&mut *conn)
    .await?
    .rows_affected())
}

pub async fn delete_dishes(conn: &mut PgConnection, menu_day: i64) -> Result<()> {
    sqlx::query!("delete from dish where menu_day_id = $1", menu_day)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub async fn insert_dish(
    conn: &mut PgConnection,
    menu_day: i64,
    position: i16,
    course: &str,
    name: &str,
    allergens: &[String],
    regimes: &[String],
    quality_signs: &[String],
) -> Result<()> {
    sqlx::query!(
        "insert into dish (menu_day_id, position, course, name, allergens, regimes, quality_signs)
         values ($1, $2, $3, $4, $5, $6, $7)",
        menu_day,
        position,
        course,
        name,
        allergens,
        regimes,
        quality_signs,
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The commune's schools (id, name), for reading a caterer's file.
pub async fn schools<'e>(db: impl PgExecutor<'e>) -> Result<Vec<(i64, String)>> {
    Ok(sqlx::query!("select id, name from school order by name")
        .fetch_all(db)
        .await?
        .into_iter()
        .map(|r| (r.id, r.name))
        .collect())
}
