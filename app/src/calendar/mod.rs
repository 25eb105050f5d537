//! A school's calendar for a year, as the booking rules need it: the zone's holidays, public
//! holidays, the school's service weekdays and the closures that concern it.

mod store;

use cantine_domain::calendar::{Closure, SchoolCalendar, SchoolYearLabel};
use cantine_domain::ids::SchoolId;
use cantine_domain::rules::Rules;
use cantine_domain::weekdays::WeekdaySet;
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
    from_rows(rules, school, year, service, &closures)
}

/// The calendar from rows its caller already read (the booking path reads them with the
/// child's lock, in one round trip).
pub fn from_rows(
    rules: &Rules<'_>,
    school: SchoolId,
    year: SchoolYearLabel,
    service: WeekdaySet,
    closures: &[Closure<i64>],
) -> Result<SchoolCalendar> {
    let calendar = SchoolCalendar::for_year(rules.holidays, year, rules.zone, service)
        .map_err(|e| anyhow::anyhow!("calendar of school {school}: {e}"))?;
    Ok(calendar.with_closures(&school.get(), closures))
}
