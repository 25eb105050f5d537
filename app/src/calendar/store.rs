//! The calendar's rows: service weekdays and closures.

use cantine_domain::calendar::Closure;
use cantine_domain::ids::SchoolId;
use cantine_domain::weekdays::WeekdaySet;
use sqlx::PgConnection;

use crate::error::Result;
use crate::platform::sql::{stored_closure, weekdays_from_sql};

pub async fn service_weekdays(conn: &mut PgConnection, school: SchoolId) -> Result<WeekdaySet> {
    let days = sqlx::query_scalar!(
        "select service_weekdays from school where id = $1",
        school.get()
    )
    .fetch_one(&mut *conn)
    .await?;
    weekdays_from_sql(&days)
}

/// The closures of the school and those of every school.
pub async fn closures(conn: &mut PgConnection, school: SchoolId) -> Result<Vec<Closure<i64>>> {
    let rows = sqlx::query!(
        "select school_id, first_day, last_day, reason from closure
         where school_id is null or school_id = $1",
        school.get()
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(|r| stored_closure(r.school_id, r.first_day, r.last_day, &r.reason))
        .collect()
}
