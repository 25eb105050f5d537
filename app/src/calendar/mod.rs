//! A school's calendar for a year, as the booking rules need it: the zone's holidays, public
//! holidays, the school's service weekdays and the closures that concern it.

mod store;

use cantine_domain::calendar::{SchoolCalendar, SchoolYearLabel};
use cantine_domain::ids::SchoolId;
use cantine_domain::rules::Rules;
use sqlx::PgConnection;

use crate::error::Result;

pub async fn school_calendar(
    conn: &mut PgConnection,
    rules: &Rules<'_>,
    school: SchoolId,
    year: SchoolYearLabel,
) -> Result<SchoolCalendar> {
    let service = store::service_weekdays(conn, school).await?;
    let closures = store::closures(conn, school).await?;
    let calendar = SchoolCalendar::for_year(rules.holidays, year, rules.zone, service)
        .map_err(|e| anyhow::anyhow!("calendar of school {school}: {e}"))?;
    Ok(calendar.with_closures(&school.get(), &closures))
}
