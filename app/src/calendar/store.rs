//! The calendar's rows: service weekdays and closures.

use cantine_domain::calendar::Closure;
use cantine_domain::ids::SchoolId;
use cantine_domain::weekdays::WeekdaySet;
use chrono::NaiveDate;
use sqlx::PgConnection;

use crate::error::Result;
use crate::platform::sql::weekdays_from_sql;

pub async fn service_weekdays(conn: &mut PgConnection, school: SchoolId) -> Result<WeekdaySet> {
    let days: Vec<i16> = sqlx::query_scalar("select service_weekdays from school where id = $1")
        .bind(school.get())
        .fetch_one(&mut *conn)
        .await?;
    weekdays_from_sql(&days)
}

/// The closures of the school and those of every school. A stored closure the domain refuses
/// is a broken row: an internal error, never a closure silently forgotten.
pub async fn closures(conn: &mut PgConnection, school: SchoolId) -> Result<Vec<Closure<i64>>> {
    let rows: Vec<(Option<i64>, NaiveDate, NaiveDate, String)> = sqlx::query_as(
        "select school_id, first_day, last_day, reason from closure where school_id is null or school_id = $1",
    )
    .bind(school.get())
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(|(school, first, last, reason)| {
            Closure::new(school, first, last, &reason)
                .map_err(|e| anyhow::anyhow!("stored closure {first}..{last}: {e}").into())
        })
        .collect()
}
