//! School years: a label such as `2026-2027` and the first and last day of classes.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// The name of a school year, `2026-2027`: it starts in the autumn of its first year.
///
/// Only the first year is stored, so a label whose second year does not follow the first
/// cannot exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SchoolYearLabel {
    start_year: i32,
}

/// A school-year label that is not `YYYY-YYYY` with consecutive years.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a school year: expected two consecutive years like `2026-2027`")]
pub struct InvalidSchoolYearLabel(pub String);

impl SchoolYearLabel {
    /// The label of the school year that starts in the autumn of `start_year`.
    ///
    /// Years are limited to 1900..=9998 so that labels always have two four-digit years.
    pub fn starting_in(start_year: i32) -> Option<Self> {
        (1900..=9998)
            .contains(&start_year)
            .then_some(SchoolYearLabel { start_year })
    }

    /// The school year a date belongs to by the usual French convention: from August onwards
    /// a date belongs to the year starting that autumn, before August to the one that started
    /// the previous autumn. This only names the year; whether classes run that day is for
    /// [`SchoolYear::contains`] to say.
    pub fn containing(date: NaiveDate) -> Self {
        let start_year = if date.month() >= 8 {
            date.year()
        } else {
            date.year() - 1
        };
        SchoolYearLabel { start_year }
    }

    /// The calendar year in which the school year starts (2026 for `2026-2027`).
    pub fn start_year(self) -> i32 {
        self.start_year
    }

    /// The calendar year in which the school year ends (2027 for `2026-2027`).
    pub fn end_year(self) -> i32 {
        self.start_year + 1
    }
}

impl fmt::Display for SchoolYearLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.start_year, self.start_year + 1)
    }
}

impl FromStr for SchoolYearLabel {
    type Err = InvalidSchoolYearLabel;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidSchoolYearLabel(s.to_owned());
        let (first, second) = s.split_once('-').ok_or_else(invalid)?;
        let four_digits = |p: &str| p.len() == 4 && p.bytes().all(|b| b.is_ascii_digit());
        if !four_digits(first) || !four_digits(second) {
            return Err(invalid());
        }
        let first: i32 = first.parse().map_err(|_| invalid())?;
        let second: i32 = second.parse().map_err(|_| invalid())?;
        if second != first + 1 {
            return Err(invalid());
        }
        SchoolYearLabel::starting_in(first).ok_or_else(invalid)
    }
}

impl TryFrom<String> for SchoolYearLabel {
    type Error = InvalidSchoolYearLabel;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<SchoolYearLabel> for String {
    fn from(label: SchoolYearLabel) -> Self {
        label.to_string()
    }
}

/// A school year with its first and last day of classes (both included).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SchoolYear {
    label: SchoolYearLabel,
    first_day: NaiveDate,
    last_day: NaiveDate,
}

/// Why first and last days do not make a school year.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidSchoolYear {
    /// The first day is after the last day.
    #[error("school year {label}: first day {first_day} is after last day {last_day}")]
    FirstAfterLast {
        /// The year concerned.
        label: SchoolYearLabel,
        /// Its first day.
        first_day: NaiveDate,
        /// Its last day.
        last_day: NaiveDate,
    },
    /// A day lies outside the two calendar years the label names, surely a typo.
    #[error("school year {label}: {day} is not in {start}-{end}", start = label.start_year(), end = label.end_year())]
    DayOutsideLabel {
        /// The year concerned.
        label: SchoolYearLabel,
        /// The day that does not fit.
        day: NaiveDate,
    },
}

impl SchoolYear {
    /// A school year; both days must lie in the calendar years the label names, and the first
    /// must not be after the last.
    pub fn new(
        label: SchoolYearLabel,
        first_day: NaiveDate,
        last_day: NaiveDate,
    ) -> Result<Self, InvalidSchoolYear> {
        for day in [first_day, last_day] {
            if day.year() != label.start_year() && day.year() != label.end_year() {
                return Err(InvalidSchoolYear::DayOutsideLabel { label, day });
            }
        }
        if first_day > last_day {
            return Err(InvalidSchoolYear::FirstAfterLast {
                label,
                first_day,
                last_day,
            });
        }
        Ok(SchoolYear {
            label,
            first_day,
            last_day,
        })
    }

    /// The year's label, e.g. `2026-2027`.
    pub fn label(&self) -> SchoolYearLabel {
        self.label
    }

    /// The first day of classes (la rentrée des élèves).
    pub fn first_day(&self) -> NaiveDate {
        self.first_day
    }

    /// The last day of classes (the day classes end before the summer).
    pub fn last_day(&self) -> NaiveDate {
        self.last_day
    }

    /// Whether `date` lies between the first and the last day, both included.
    pub fn contains(&self, date: NaiveDate) -> bool {
        (self.first_day..=self.last_day).contains(&date)
    }

    /// Among `years`, the one whose days contain `date` (none during the summer break).
    pub fn containing<'a>(
        years: impl IntoIterator<Item = &'a SchoolYear>,
        date: NaiveDate,
    ) -> Option<&'a SchoolYear> {
        years.into_iter().find(|y| y.contains(date))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn label_parses_two_consecutive_years() {
        let label: SchoolYearLabel = "2026-2027".parse().unwrap();
        assert_eq!(label.start_year(), 2026);
        assert_eq!(label.end_year(), 2027);
        assert_eq!(label.to_string(), "2026-2027");
    }

    #[test]
    fn label_with_non_consecutive_or_malformed_years_is_rejected() {
        for bad in [
            "2026-2028",
            "2027-2026",
            "2026",
            "2026-27",
            "26-27",
            "2026/2027",
            "+026-2027",
            " 2026-2027",
            "",
        ] {
            assert!(bad.parse::<SchoolYearLabel>().is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn date_from_august_belongs_to_the_year_starting_that_autumn() {
        assert_eq!(
            SchoolYearLabel::containing(d(2026, 8, 1)).to_string(),
            "2026-2027"
        );
        assert_eq!(
            SchoolYearLabel::containing(d(2026, 9, 1)).to_string(),
            "2026-2027"
        );
        assert_eq!(
            SchoolYearLabel::containing(d(2027, 7, 31)).to_string(),
            "2026-2027"
        );
        assert_eq!(
            SchoolYearLabel::containing(d(2027, 1, 4)).to_string(),
            "2026-2027"
        );
    }

    #[test]
    fn school_year_contains_its_first_and_last_day_only() {
        let label = "2026-2027".parse().unwrap();
        let year = SchoolYear::new(label, d(2026, 9, 1), d(2027, 7, 3)).unwrap();
        assert!(year.contains(d(2026, 9, 1)));
        assert!(year.contains(d(2027, 7, 3)));
        assert!(!year.contains(d(2026, 8, 31)));
        assert!(!year.contains(d(2027, 7, 4)));
        assert_eq!(SchoolYear::containing([&year], d(2027, 1, 4)), Some(&year));
        assert_eq!(SchoolYear::containing([&year], d(2027, 8, 1)), None);
    }

    #[test]
    fn school_year_with_first_day_after_last_day_is_rejected() {
        let label = "2026-2027".parse().unwrap();
        assert!(matches!(
            SchoolYear::new(label, d(2027, 7, 3), d(2026, 9, 1)),
            Err(InvalidSchoolYear::FirstAfterLast { .. })
        ));
    }

    #[test]
    fn school_year_with_a_day_in_another_year_is_rejected() {
        let label = "2026-2027".parse().unwrap();
        assert!(matches!(
            SchoolYear::new(label, d(2025, 9, 1), d(2027, 7, 3)),
            Err(InvalidSchoolYear::DayOutsideLabel { .. })
        ));
    }

    #[test]
    fn label_serializes_as_its_text() {
        let label: SchoolYearLabel = "2025-2026".parse().unwrap();
        let v = toml::Value::try_from(label).unwrap();
        assert_eq!(v.as_str(), Some("2025-2026"));
    }
}
