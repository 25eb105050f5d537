//! The closure rows.

use std::collections::HashMap;

use chrono::NaiveDate;
use sqlx::{PgConnection, PgPool};

use cantine_domain::ids::AccountId;

use crate::error::{Error, Invalid, Result, on_constraint};

/// One row per school, or one for every school when `schools` is `None`.
pub async fn insert(
    conn: &mut PgConnection,
    schools: Option<&[i64]>,
    (first, last): (NaiveDate, NaiveDate),
    reason: &str,
    actor: AccountId,
) -> Result<()> {
    sqlx::query!(
        "insert into closure (school_id, first_day, last_day, reason, created_by)
         select s, $2, $3, $4, $5 from unnest(coalesce($1::bigint[], array[null]::bigint[])) as s",
        schools,
        first,
        last,
        reason,
        actor.get(),
    )
    .execute(&mut *conn)
    .await
    .map_err(|e| {
        on_constraint(e, |name| {
            (name == "closure_school_fk").then_some(Error::Invalid(Invalid::UnknownSchool))
        })
    })?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct ClosureRow {
    pub id: i64,
    pub school_id: Option<i64>,
    pub school_name: Option<String>,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub reason: String,
}

/// The closures touching the days, of those schools. Reopening every school touches every
/// closure; reopening some schools leaves a commune-wide closure as it is (it is reopened for
/// the whole commune, or not at all).
pub async fn lock_overlapping(
    conn: &mut PgConnection,
    schools: Option<&[i64]>,
    (from, to): (NaiveDate, NaiveDate),
) -> Result<Vec<ClosureRow>> {
    Ok(sqlx::query_as!(
        ClosureRow,
        r#"select cl.id, cl.school_id, null::text as school_name, cl.first_day, cl.last_day, cl.reason
         from closure cl
         where cl.first_day <= $3 and cl.last_day >= $2
           and ($1::bigint[] is null or cl.school_id = any($1))
         order by cl.id for update"#,
        schools,
        from,
        to,
    )
    .fetch_all(&mut *conn)
    .await?)
}

pub async fn delete(conn: &mut PgConnection, id: i64) -> Result<()> {
    sqlx::query!("delete from closure where id = $1", id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn upcoming(pool: &PgPool, from: NaiveDate) -> Result<Vec<ClosureRow>> {
    Ok(sqlx::query_as!(
        ClosureRow,
        r#"select cl.id, cl.school_id, s.name as "school_name?", cl.first_day, cl.last_day, cl.reason
         from closure cl left join school s on s.id = cl.school_id
         where cl.last_day >= $1 order by cl.first_day, s.name nulls first, cl.id"#,
        from,
    )
    .fetch_all(pool)
    .await?)
}

/// The e-mail addresses of each household's guardians.
pub async fn addresses(
    conn: &mut PgConnection,
    households: &[i64],
) -> Result<HashMap<i64, Vec<String>>> {
    let rows = sqlx::query!(
        r#"select household_id as "household_id!", array_agg(email order by id) as "emails!"
         from account where household_id = any($1) and email is not null group by household_id"#,
        households,
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.household_id, r.emails))
        .collect())
}
