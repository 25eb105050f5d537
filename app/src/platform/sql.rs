//! How domain values are stored: weekday sets as ISO weekday numbers, enums as their codes.
//! A stored value the domain does not know is a broken row, answered as an internal error,
//! never skipped: a dropped closure or weekday would quietly book or charge the wrong days.

use std::str::FromStr;

use cantine_domain::calendar::{Closure, SchoolYearLabel};
use cantine_domain::enrollment::{Enrollment, EnrollmentStatus};
use cantine_domain::weekdays::WeekdaySet;
use chrono::{NaiveDate, Weekday};

use crate::error::Result;

pub fn weekdays_to_sql(set: WeekdaySet) -> Vec<i16> {
    set.iter().map(|d| d.number_from_monday() as i16).collect()
}

pub fn weekdays_from_sql(days: &[i16]) -> Result<WeekdaySet> {
    days.iter()
        .map(|n| match n {
            1 => Ok(Weekday::Mon),
            2 => Ok(Weekday::Tue),
            3 => Ok(Weekday::Wed),
            4 => Ok(Weekday::Thu),
            5 => Ok(Weekday::Fri),
            6 => Ok(Weekday::Sat),
            7 => Ok(Weekday::Sun),
            other => Err(anyhow::anyhow!("stored weekday number {other}").into()),
        })
        .collect::<Result<Vec<_>>>()
        .map(WeekdaySet::from_days)
}

/// Parses a stored code (`diet`, `class_level`, `school_year.label`…) into its domain type.
pub fn decode<T: FromStr>(column: &str, text: &str) -> Result<T>
where
    T::Err: std::fmt::Debug,
{
    text.parse()
        .map_err(|e| anyhow::anyhow!("stored {column} {text:?}: {e:?}").into())
}

/// Stored codes of a `text[]` column; an unknown one is a broken row.
pub fn decode_all<T: FromStr>(column: &str, codes: &[String]) -> Result<Vec<T>>
where
    T::Err: std::fmt::Debug,
{
    codes.iter().map(|c| decode(column, c)).collect()
}

/// Rebuilds a stored enrollment; an unknown status is a broken row.
pub fn stored_enrollment(
    year: SchoolYearLabel,
    weekdays: &[i16],
    status: &str,
    reason: Option<&str>,
) -> Result<Enrollment> {
    Ok(Enrollment::restore(
        year,
        weekdays_from_sql(weekdays)?,
        stored_status(status, reason)?,
    ))
}

/// A stored enrollment status (with its rejection reason); an unknown code is a broken row.
pub fn stored_status(code: &str, reason: Option<&str>) -> Result<EnrollmentStatus> {
    EnrollmentStatus::from_code(code, reason)
        .ok_or_else(|| anyhow::anyhow!("stored enrollment status {code:?}").into())
}

/// A stored closure; one the domain refuses is a broken row, never a closure forgotten.
pub fn stored_closure(
    school: Option<i64>,
    first: NaiveDate,
    last: NaiveDate,
    reason: &str,
) -> Result<Closure<i64>> {
    Closure::new(school, first, last, reason)
        .map_err(|e| anyhow::anyhow!("stored closure {first}..{last}: {e}").into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weekdays_round_trip_and_unknown_numbers_are_errors() {
        let set = WeekdaySet::default_service();
        assert_eq!(weekdays_from_sql(&weekdays_to_sql(set)).unwrap(), set);
        assert!(weekdays_from_sql(&[1, 8]).is_err());
        assert!(weekdays_from_sql(&[0]).is_err());
    }

    #[test]
    fn an_unknown_code_is_an_error_naming_the_column() {
        let err = decode::<cantine_domain::child::Diet>("child.diet", "halal").unwrap_err();
        assert!(format!("{err}").contains("child.diet"), "{err}");
    }
}
