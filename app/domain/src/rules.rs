//! The commune's rules as one value: its holiday calendar, its zone and its booking deadline,
//! judged at one instant. Services build it once per request from the configuration and the
//! clock, so every rule in a request sees the same `now`.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Europe::Paris;

use crate::booking::Planner;
use crate::calendar::{HolidayCalendar, SchoolYearLabel, Zone};
use crate::deadline::DeadlineRule;

#[derive(Clone, Copy)]
pub struct Rules<'a> {
    pub holidays: &'a HolidayCalendar,
    pub zone: Zone,
    pub deadline: &'a DeadlineRule,
    pub now: DateTime<Utc>,
}

/// The calendar knows no school year running today nor any later one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the holiday calendar has no school year for {today}")]
pub struct NoSchoolYear {
    pub today: NaiveDate,
}

impl<'a> Rules<'a> {
    /// The booking planner judging at this instant.
    pub fn planner(&self) -> Planner<'a> {
        Planner {
            rule: self.deadline,
            now: self.now,
        }
    }

    /// Today in Europe/Paris: a request at 00:30 in Paris is already tomorrow's in UTC terms.
    pub fn today(&self) -> NaiveDate {
        self.now.with_timezone(&Paris).date_naive()
    }

    /// The school year running today, or the next one during the summer.
    pub fn current_year(&self) -> Result<SchoolYearLabel, NoSchoolYear> {
        let today = self.today();
        self.holidays
            .school_year_containing(today)
            .or_else(|| {
                self.holidays
                    .school_years()
                    .iter()
                    .filter(|y| y.first_day() > today)
                    .min_by_key(|y| y.first_day())
            })
            .map(|y| y.label())
            .ok_or(NoSchoolYear { today })
    }

    /// The school year a service date belongs to, if any.
    pub fn year_of(&self, date: NaiveDate) -> Option<SchoolYearLabel> {
        self.holidays
            .school_year_containing(date)
            .map(|y| y.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deadline::paris_to_utc;

    fn rules_at(holidays: &HolidayCalendar, deadline: &DeadlineRule, at: &str) -> String {
        let now =
            paris_to_utc(chrono::NaiveDateTime::parse_from_str(at, "%Y-%m-%d %H:%M").unwrap());
        let rules = Rules {
            holidays,
            zone: Zone::A,
            deadline,
            now,
        };
        rules.current_year().unwrap().to_string()
    }

    #[test]
    fn the_current_year_is_the_running_one_then_the_next_one_in_summer() {
        let holidays = HolidayCalendar::france();
        let deadline = DeadlineRule::default();
        assert_eq!(
            rules_at(holidays, &deadline, "2026-12-01 12:00"),
            "2026-2027"
        );
        assert_eq!(
            rules_at(holidays, &deadline, "2026-07-20 12:00"),
            "2026-2027"
        );
    }

    #[test]
    fn today_is_the_paris_date_just_after_midnight() {
        let holidays = HolidayCalendar::france();
        let deadline = DeadlineRule::default();
        let rules = Rules {
            holidays,
            zone: Zone::A,
            deadline: &deadline,
            // 23:30 UTC on 1 December is 00:30 on 2 December in Paris.
            now: "2026-12-01T23:30:00Z".parse().unwrap(),
        };
        assert_eq!(rules.today(), NaiveDate::from_ymd_opt(2026, 12, 2).unwrap());
    }
}
