//! The billed month: parsed from `2026-11`, held as its first day.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, Months, NaiveDate};

use super::Month;
use crate::error::{Error, Invalid};

impl Month {
    /// The month containing `date`.
    pub fn of(date: NaiveDate) -> Month {
        Month(date.with_day(1).expect("every month has a first day"))
    }

    pub fn first_day(self) -> NaiveDate {
        self.0
    }

    pub fn last_day(self) -> NaiveDate {
        self.next()
            .0
            .pred_opt()
            .expect("a day before the next month")
    }

    pub fn next(self) -> Month {
        Month(self.0 + Months::new(1))
    }

    pub fn previous(self) -> Month {
        Month(self.0 - Months::new(1))
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.0.year(), self.0.month())
    }
}

impl FromStr for Month {
    type Err = Error;

    fn from_str(text: &str) -> Result<Month, Error> {
        let invalid = || Error::Invalid(Invalid::Month);
        let (year, month) = text.trim().split_once('-').ok_or_else(invalid)?;
        if year.len() != 4 || month.len() != 2 {
            return Err(invalid());
        }
        let year: i32 = year.parse().map_err(|_| invalid())?;
        let month: u32 = month.parse().map_err(|_| invalid())?;
        NaiveDate::from_ymd_opt(year, month, 1)
            .filter(|_| (1900..=9998).contains(&year))
            .map(Month)
            .ok_or_else(invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_parse_print_and_step() {
        let m: Month = "2026-11".parse().unwrap();
        assert_eq!(m.to_string(), "2026-11");
        assert_eq!(m.last_day(), NaiveDate::from_ymd_opt(2026, 11, 30).unwrap());
        assert_eq!(m.next().to_string(), "2026-12");
        assert_eq!(m.next().next().to_string(), "2027-01");
        assert_eq!(
            "2027-01".parse::<Month>().unwrap().previous(),
            Month::of(NaiveDate::from_ymd_opt(2026, 12, 24).unwrap())
        );
        for bad in ["2026-13", "2026-1", "26-11", "2026/11", "", "2026-00"] {
            assert!(bad.parse::<Month>().is_err(), "{bad}");
        }
    }
}
