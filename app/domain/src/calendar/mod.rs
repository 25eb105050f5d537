//! Which days a school's canteen serves meals, and why the others are not bookable.
//!
//! A service day is one of the school's service weekdays, inside the school year, that is not
//! a school holiday of the school's zone, not a French public holiday and not a closure
//! decided by staff. Everything here is plain data in, answers out: the school's weekdays and
//! closures come from the database, the holidays from the calendar file.

mod holiday_file;
mod public_holidays;
mod school_year;

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, Days, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

pub use holiday_file::{
    CalendarFileError, CalendarFileProblem, FRANCE_CALENDAR_TOML, HolidayCalendar, SchoolHoliday,
};
pub use public_holidays::{PublicHoliday, easter_sunday};
pub use school_year::{InvalidSchoolYear, InvalidSchoolYearLabel, SchoolYear, SchoolYearLabel};

use super::weekdays::WeekdaySet;

/// A French school-holiday zone of metropolitan France.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Zone {
    /// Besançon, Bordeaux, Clermont-Ferrand, Dijon, Grenoble, Limoges, Lyon, Poitiers.
    A,
    /// Aix-Marseille, Amiens, Lille, Nancy-Metz, Nantes, Nice, Normandie, Orléans-Tours, Reims,
    /// Rennes, Strasbourg.
    B,
    /// Créteil, Montpellier, Paris, Toulouse, Versailles.
    C,
}

/// A zone name other than `A`, `B` or `C`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown zone `{0}` (expected A, B or C)")]
pub struct UnknownZone(pub String);

impl FromStr for Zone {
    type Err = UnknownZone;

    /// Accepts `A`, `B`, `C` (and lowercase, as people type it in config files).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "A" | "a" => Ok(Zone::A),
            "B" | "b" => Ok(Zone::B),
            "C" | "c" => Ok(Zone::C),
            _ => Err(UnknownZone(s.to_owned())),
        }
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Zone::A => "A",
            Zone::B => "B",
            Zone::C => "C",
        })
    }
}

/// A closure decided by staff (strike, works…), for one school or, with `school: None`, for
/// every school of the commune. `S` is the caller's school identifier type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closure<S> {
    school: Option<S>,
    first_day: NaiveDate,
    last_day: NaiveDate,
    reason: String,
}

/// Why a closure cannot be recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidClosure {
    /// The first day is after the last.
    #[error("the closure's first day {first_day} is after its last day {last_day}")]
    FirstAfterLast {
        /// First day given.
        first_day: NaiveDate,
        /// Last day given.
        last_day: NaiveDate,
    },
    /// Families are told the reason, so it may not be blank.
    #[error("a closure needs a reason")]
    EmptyReason,
}

impl InvalidClosure {
    /// Stable code for API errors.
    pub fn code(&self) -> &'static str {
        "validation"
    }
}

impl<S> Closure<S> {
    /// A closure from `first_day` to `last_day` (both included) with a reason shown to families.
    pub fn new(
        school: Option<S>,
        first_day: NaiveDate,
        last_day: NaiveDate,
        reason: &str,
    ) -> Result<Self, InvalidClosure> {
        if first_day > last_day {
            return Err(InvalidClosure::FirstAfterLast {
                first_day,
                last_day,
            });
        }
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(InvalidClosure::EmptyReason);
        }
        Ok(Closure {
            school,
            first_day,
            last_day,
            reason: reason.to_owned(),
        })
    }

    /// The school concerned, or `None` for all schools.
    pub fn school(&self) -> Option<&S> {
        self.school.as_ref()
    }

    /// First closed day.
    pub fn first_day(&self) -> NaiveDate {
        self.first_day
    }

    /// Last closed day.
    pub fn last_day(&self) -> NaiveDate {
        self.last_day
    }

    /// The reason shown to families.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// Whether the closure concerns `school` (its own or a commune-wide one).
    pub fn applies_to(&self, school: &S) -> bool
    where
        S: PartialEq,
    {
        self.school.as_ref().is_none_or(|s| s == school)
    }

    /// Whether `date` is closed by this closure.
    pub fn covers(&self, date: NaiveDate) -> bool {
        (self.first_day..=self.last_day).contains(&date)
    }
}

/// Why a day cannot be booked. Each variant has a stable [`code`](Self::code) for the API; the
/// HTTP edge words it for families.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotBookable {
    /// Before the first or after the last day of the school year.
    OutsideSchoolYear,
    /// Saturday or Sunday.
    Weekend,
    /// A weekday on which this school's canteen does not serve (typically Wednesday).
    NotAServiceWeekday {
        /// The weekday concerned.
        weekday: Weekday,
    },
    /// A school holiday of the school's zone.
    SchoolHoliday {
        /// The holiday's name, e.g. "Vacances d'hiver".
        name: String,
    },
    /// A French public holiday.
    PublicHoliday(PublicHoliday),
    /// A closure decided by staff.
    Closure {
        /// The reason given by staff.
        reason: String,
    },
}

impl NotBookable {
    /// Stable machine-readable code (API `reason`).
    pub fn code(&self) -> &'static str {
        match self {
            NotBookable::OutsideSchoolYear => "outside_school_year",
            NotBookable::Weekend => "weekend",
            NotBookable::NotAServiceWeekday { .. } => "not_a_service_weekday",
            NotBookable::SchoolHoliday { .. } => "school_holiday",
            NotBookable::PublicHoliday(_) => "public_holiday",
            NotBookable::Closure { .. } => "closure",
        }
    }
}

impl fmt::Display for NotBookable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Why a school calendar cannot be set up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidSchoolCalendar {
    /// No service weekday at all: nothing could ever be booked.
    #[error("a school needs at least one service weekday")]
    NoServiceWeekday,
    /// Saturday or Sunday listed as a service weekday; weekends are never served.
    #[error("service weekdays must be Monday to Friday")]
    WeekendServiceDay,
    /// The calendar file does not describe this school year.
    #[error("the calendar file has no school year {0}")]
    UnknownSchoolYear(SchoolYearLabel),
}

/// One school's calendar for one school year: answers whether a day is a service day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchoolCalendar {
    year: SchoolYear,
    zone: Zone,
    service_weekdays: WeekdaySet,
    holidays: Vec<SchoolHoliday>,
    closures: Vec<(NaiveDate, NaiveDate, String)>,
}

/// How far back deadline counting may search before giving up on a degenerate calendar
/// (a closure or holiday covering years): three years.
const MAX_LOOKBACK_DAYS: u64 = 3 * 366;

impl SchoolCalendar {
    /// The calendar of a school of `zone` serving on `service_weekdays` during `year`, with the
    /// zone's holidays taken from `holidays`. Closures are added with
    /// [`with_closures`](Self::with_closures).
    pub fn new(
        year: SchoolYear,
        zone: Zone,
        service_weekdays: WeekdaySet,
        holidays: &HolidayCalendar,
    ) -> Result<Self, InvalidSchoolCalendar> {
        if service_weekdays.is_empty() {
            return Err(InvalidSchoolCalendar::NoServiceWeekday);
        }
        if service_weekdays.contains(Weekday::Sat) || service_weekdays.contains(Weekday::Sun) {
            return Err(InvalidSchoolCalendar::WeekendServiceDay);
        }
        Ok(SchoolCalendar {
            year,
            zone,
            service_weekdays,
            holidays: holidays.holidays_for(zone).cloned().collect(),
            closures: Vec::new(),
        })
    }

    /// Like [`new`](Self::new), finding the school year by its label in the calendar file.
    pub fn for_year(
        holidays: &HolidayCalendar,
        label: SchoolYearLabel,
        zone: Zone,
        service_weekdays: WeekdaySet,
    ) -> Result<Self, InvalidSchoolCalendar> {
        let year = *holidays
            .school_year(label)
            .ok_or(InvalidSchoolCalendar::UnknownSchoolYear(label))?;
        Self::new(year, zone, service_weekdays, holidays)
    }

    /// Adds the closures that concern `school` (its own and commune-wide ones); others are
    /// ignored, so the caller may pass every closure of the commune.
    #[must_use]
    pub fn with_closures<'c, S: PartialEq + 'c>(
        mut self,
        school: &S,
        closures: impl IntoIterator<Item = &'c Closure<S>>,
    ) -> Self {
        self.closures.extend(
            closures
                .into_iter()
                .filter(|c| c.applies_to(school))
                .map(|c| (c.first_day, c.last_day, c.reason.clone())),
        );
        self
    }

    /// The school year this calendar covers.
    pub fn year(&self) -> &SchoolYear {
        &self.year
    }

    /// The school's zone.
    pub fn zone(&self) -> Zone {
        self.zone
    }

    /// The weekdays on which the canteen serves.
    pub fn service_weekdays(&self) -> WeekdaySet {
        self.service_weekdays
    }

    /// `Ok(())` if `date` is a service day, else the first reason it is not, checked in this
    /// order: outside the school year, weekend, not a service weekday, public holiday, school
    /// holiday, closure. (A public holiday inside a school holiday reports the public holiday:
    /// it is the reason that holds whatever the calendar file says.)
    pub fn day_status(&self, date: NaiveDate) -> Result<(), NotBookable> {
        if !self.year.contains(date) {
            return Err(NotBookable::OutsideSchoolYear);
        }
        self.status_ignoring_year(date)
    }

    /// The status of `date` as if the school year had no bounds; see
    /// [`nth_counting_day_before`](Self::nth_counting_day_before) for why.
    fn status_ignoring_year(&self, date: NaiveDate) -> Result<(), NotBookable> {
        let weekday = date.weekday();
        if matches!(weekday, Weekday::Sat | Weekday::Sun) {
            return Err(NotBookable::Weekend);
        }
        if !self.service_weekdays.contains(weekday) {
            return Err(NotBookable::NotAServiceWeekday { weekday });
        }
        if let Some(holiday) = PublicHoliday::on(date) {
            return Err(NotBookable::PublicHoliday(holiday));
        }
        if let Some(holiday) = self.holidays.iter().find(|h| h.covers(self.zone, date)) {
            return Err(NotBookable::SchoolHoliday {
                name: holiday.name().to_owned(),
            });
        }
        if let Some((_, _, reason)) = self
            .closures
            .iter()
            .find(|(first, last, _)| (*first..=*last).contains(&date))
        {
            return Err(NotBookable::Closure {
                reason: reason.clone(),
            });
        }
        Ok(())
    }

    /// Whether meals are served on `date`.
    pub fn is_service_day(&self, date: NaiveDate) -> bool {
        self.day_status(date).is_ok()
    }

    /// Every day from `from` to `to` (both included) with its status, for month views.
    pub fn days(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> impl Iterator<Item = (NaiveDate, Result<(), NotBookable>)> + '_ {
        from.iter_days()
            .take_while(move |d| *d <= to)
            .map(|d| (d, self.day_status(d)))
    }

    /// The service days from `from` to `to`, both included, in order.
    pub fn service_days(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> impl Iterator<Item = NaiveDate> + '_ {
        from.iter_days()
            .take_while(move |d| *d <= to)
            .filter(|d| self.is_service_day(*d))
    }

    /// Up to `n` service days strictly before `date`, latest first, within the school year
    /// (fewer near the start of the year).
    pub fn previous_service_days(&self, date: NaiveDate, n: usize) -> Vec<NaiveDate> {
        let first_day = self.year.first_day();
        date.pred_opt()
            .into_iter()
            .flat_map(|d| d.iter_days().rev())
            .take_while(|d| *d >= first_day)
            .filter(|d| self.is_service_day(*d))
            .take(n)
            .collect()
    }

    /// The `n`-th day before `date` (n ≥ 1; n = 0 gives `date`) that counts as a service day for
    /// deadlines.
    ///
    /// Whenever [`previous_service_days`](Self::previous_service_days) finds `n` days, this
    /// is the `n`-th of them. Counting ignores the year's first day, though, so the first
    /// days of the year (whose previous service days would be in early July) get their
    /// deadline on the last weekdays of August, when families actually plan the rentrée. If a degenerate calendar leaves no countable day within
    /// three years, calendar days are counted instead, so the answer always exists.
    pub fn nth_counting_day_before(&self, date: NaiveDate, n: u32) -> NaiveDate {
        if n == 0 {
            return date;
        }
        let mut counted = 0;
        let mut day = date;
        for _ in 0..MAX_LOOKBACK_DAYS {
            let Some(prev) = day.pred_opt() else { break };
            day = prev;
            if day <= self.year.last_day() && self.status_ignoring_year(day).is_ok() {
                counted += 1;
                if counted == n {
                    return day;
                }
            }
        }
        date.checked_sub_days(Days::new(u64::from(n)))
            .unwrap_or(NaiveDate::MIN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn france(label: &str, zone: Zone) -> SchoolCalendar {
        SchoolCalendar::for_year(
            HolidayCalendar::france(),
            label.parse().unwrap(),
            zone,
            WeekdaySet::default_service(),
        )
        .unwrap()
    }

    #[test]
    fn ordinary_tuesday_in_term_is_a_service_day() {
        let cal = france("2026-2027", Zone::A);
        assert_eq!(cal.day_status(d(2026, 9, 8)), Ok(()));
    }

    #[test]
    fn wednesdays_are_not_service_days_by_default() {
        let cal = france("2026-2027", Zone::A);
        let status = cal.day_status(d(2026, 9, 9));
        assert_eq!(
            status,
            Err(NotBookable::NotAServiceWeekday {
                weekday: Weekday::Wed
            })
        );
        let reason = status.unwrap_err();
        assert_eq!(reason.code(), "not_a_service_weekday");
    }

    #[test]
    fn school_serving_on_wednesday_books_wednesdays() {
        let cal = SchoolCalendar::for_year(
            HolidayCalendar::france(),
            "2026-2027".parse().unwrap(),
            Zone::A,
            WeekdaySet::monday_to_friday(),
        )
        .unwrap();
        assert_eq!(cal.day_status(d(2026, 9, 9)), Ok(()));
    }

    #[test]
    fn weekends_are_not_bookable() {
        let cal = france("2026-2027", Zone::B);
        let err = cal.day_status(d(2026, 9, 12)).unwrap_err();
        assert_eq!(err, NotBookable::Weekend);
        assert_eq!(err.code(), "weekend");
        assert_eq!(cal.day_status(d(2026, 9, 13)), Err(NotBookable::Weekend));
    }

    #[test]
    fn days_outside_the_school_year_are_not_bookable() {
        let cal = france("2026-2027", Zone::C);
        assert_eq!(cal.day_status(d(2026, 9, 1)), Ok(()), "rentrée");
        assert_eq!(
            cal.day_status(d(2026, 8, 31)),
            Err(NotBookable::OutsideSchoolYear)
        );
        assert_eq!(cal.day_status(d(2027, 7, 2)), Ok(()), "last Friday");
        assert_eq!(
            cal.day_status(d(2027, 7, 5)),
            Err(NotBookable::OutsideSchoolYear)
        );
        assert_eq!(NotBookable::OutsideSchoolYear.code(), "outside_school_year");
    }

    #[test]
    fn easter_monday_ascension_and_whit_monday_are_public_holidays() {
        // 2026 for zone B: Easter Monday 6 April falls before its spring holidays.
        let cal = france("2025-2026", Zone::B);
        let easter_monday = cal.day_status(d(2026, 4, 6)).unwrap_err();
        assert_eq!(
            easter_monday,
            NotBookable::PublicHoliday(PublicHoliday::EasterMonday)
        );
        assert_eq!(easter_monday.code(), "public_holiday");
        assert_eq!(
            cal.day_status(d(2026, 5, 14)),
            Err(NotBookable::PublicHoliday(PublicHoliday::Ascension))
        );
        assert_eq!(
            cal.day_status(d(2026, 5, 25)),
            Err(NotBookable::PublicHoliday(PublicHoliday::WhitMonday))
        );
        let cal = france("2026-2027", Zone::B);
        assert_eq!(
            cal.day_status(d(2027, 3, 29)),
            Err(NotBookable::PublicHoliday(PublicHoliday::EasterMonday))
        );
        assert_eq!(
            cal.day_status(d(2026, 11, 11)),
            Err(NotBookable::NotAServiceWeekday {
                weekday: Weekday::Wed
            }),
            "11 November 2026 is a Wednesday: the weekday rule is reported first"
        );
    }

    #[test]
    fn school_holidays_depend_on_the_zone() {
        // Monday 8 February 2027: zone C on winter holidays, A and B in class.
        let day = d(2027, 2, 8);
        assert_eq!(france("2026-2027", Zone::A).day_status(day), Ok(()));
        assert_eq!(france("2026-2027", Zone::B).day_status(day), Ok(()));
        let err = france("2026-2027", Zone::C).day_status(day).unwrap_err();
        assert_eq!(
            err,
            NotBookable::SchoolHoliday {
                name: "Vacances d'hiver".into()
            }
        );
        assert_eq!(err.code(), "school_holiday");
    }

    #[test]
    fn ascension_bridge_friday_is_a_school_holiday() {
        let cal = france("2026-2027", Zone::A);
        assert_eq!(
            cal.day_status(d(2027, 5, 7)),
            Err(NotBookable::SchoolHoliday {
                name: "Pont de l'Ascension".into()
            })
        );
    }

    #[test]
    fn school_holiday_ends_the_day_before_classes_resume() {
        let cal = france("2026-2027", Zone::A);
        assert!(!cal.is_service_day(d(2026, 10, 30)), "Toussaint");
        assert!(
            cal.is_service_day(d(2026, 11, 2)),
            "reprise lundi 2 novembre"
        );
        assert!(
            cal.is_service_day(d(2026, 10, 16)),
            "last day before Toussaint"
        );
    }

    #[test]
    fn closures_apply_to_their_school_and_commune_wide() {
        let strike = Closure::new(Some(7_u64), d(2026, 9, 14), d(2026, 9, 14), " grève ").unwrap();
        let works = Closure::new(None, d(2026, 9, 17), d(2026, 9, 18), "travaux").unwrap();
        let other = Closure::new(Some(8_u64), d(2026, 9, 21), d(2026, 9, 21), "grève").unwrap();
        let closures = [strike, works, other];
        let cal = france("2026-2027", Zone::A).with_closures(&7, &closures);
        let err = cal.day_status(d(2026, 9, 14)).unwrap_err();
        assert_eq!(
            err,
            NotBookable::Closure {
                reason: "grève".into()
            }
        );
        assert_eq!(err.code(), "closure");
        assert!(!cal.is_service_day(d(2026, 9, 18)));
        assert!(
            cal.is_service_day(d(2026, 9, 21)),
            "another school's closure"
        );
    }

    #[test]
    fn closure_needs_a_reason_and_ordered_days() {
        assert_eq!(
            Closure::<u64>::new(None, d(2026, 9, 14), d(2026, 9, 14), "  "),
            Err(InvalidClosure::EmptyReason)
        );
        assert!(matches!(
            Closure::<u64>::new(None, d(2026, 9, 15), d(2026, 9, 14), "grève"),
            Err(InvalidClosure::FirstAfterLast { .. })
        ));
    }

    #[test]
    fn calendar_refuses_weekend_or_empty_service_weekdays() {
        let year = *HolidayCalendar::france().school_years().last().unwrap();
        let cal = HolidayCalendar::france();
        assert_eq!(
            SchoolCalendar::new(year, Zone::A, WeekdaySet::EMPTY, cal),
            Err(InvalidSchoolCalendar::NoServiceWeekday)
        );
        assert_eq!(
            SchoolCalendar::new(
                year,
                Zone::A,
                WeekdaySet::default_service().with(Weekday::Sat),
                cal
            ),
            Err(InvalidSchoolCalendar::WeekendServiceDay)
        );
        assert_eq!(
            SchoolCalendar::for_year(
                cal,
                "2030-2031".parse().unwrap(),
                Zone::A,
                WeekdaySet::default_service()
            ),
            Err(InvalidSchoolCalendar::UnknownSchoolYear(
                "2030-2031".parse().unwrap()
            ))
        );
    }

    #[test]
    fn service_days_iterates_over_service_days_only() {
        let cal = france("2026-2027", Zone::A);
        let days: Vec<NaiveDate> = cal.service_days(d(2026, 9, 1), d(2026, 9, 11)).collect();
        assert_eq!(
            days,
            [
                d(2026, 9, 1),
                d(2026, 9, 3),
                d(2026, 9, 4),
                d(2026, 9, 7),
                d(2026, 9, 8),
                d(2026, 9, 10),
                d(2026, 9, 11)
            ]
        );
        assert_eq!(cal.days(d(2026, 9, 1), d(2026, 9, 30)).count(), 30);
        assert_eq!(cal.service_days(d(2026, 9, 5), d(2026, 9, 4)).count(), 0);
    }

    #[test]
    fn previous_service_days_skip_easter_monday_and_weekends() {
        let cal = france("2026-2027", Zone::A);
        assert_eq!(
            cal.previous_service_days(d(2027, 3, 30), 3),
            [d(2027, 3, 26), d(2027, 3, 25), d(2027, 3, 23)]
        );
    }

    #[test]
    fn previous_service_days_stop_at_the_start_of_the_year() {
        let cal = france("2026-2027", Zone::A);
        assert_eq!(cal.previous_service_days(d(2026, 9, 3), 5), [d(2026, 9, 1)]);
        assert!(cal.previous_service_days(d(2026, 9, 1), 2).is_empty());
    }

    #[test]
    fn deadline_counting_for_the_rentree_uses_the_end_of_august() {
        let cal = france("2026-2027", Zone::A);
        assert_eq!(
            cal.nth_counting_day_before(d(2026, 9, 1), 2),
            d(2026, 8, 28)
        );
        assert_eq!(
            cal.nth_counting_day_before(d(2026, 9, 3), 2),
            d(2026, 8, 31)
        );
        assert_eq!(cal.nth_counting_day_before(d(2026, 9, 3), 0), d(2026, 9, 3));
    }

    #[test]
    fn deadline_counting_skips_holidays_inside_the_year() {
        let cal = france("2026-2027", Zone::A);
        // Monday 2 November 2026, after Toussaint: 16 and 15 October.
        assert_eq!(
            cal.nth_counting_day_before(d(2026, 11, 2), 2),
            d(2026, 10, 15)
        );
    }

    #[test]
    fn deadline_counting_survives_a_closure_covering_years() {
        let endless = Closure::new(None, d(2020, 1, 1), d(2030, 1, 1), "travaux").unwrap();
        let cal = france("2026-2027", Zone::A).with_closures(&1_u64, [&endless]);
        assert_eq!(
            cal.nth_counting_day_before(d(2026, 9, 10), 2),
            d(2026, 9, 8)
        );
    }

    #[test]
    fn zone_parses_from_its_letter() {
        assert_eq!("A".parse(), Ok(Zone::A));
        assert_eq!("c".parse(), Ok(Zone::C));
        assert!("D".parse::<Zone>().is_err());
        assert_eq!(Zone::B.to_string(), "B");
    }

    proptest::proptest! {
        #[test]
        fn previous_service_days_are_service_days_in_order_and_match_deadline_counting(
            offset in 0..310u64, n in 1..8usize,
        ) {
            let cal = france("2026-2027", Zone::C);
            let date = d(2026, 9, 1) + Days::new(offset);
            let previous = cal.previous_service_days(date, n);
            proptest::prop_assert!(previous.len() <= n);
            proptest::prop_assert!(previous.windows(2).all(|w| w[0] > w[1]));
            for day in &previous {
                proptest::prop_assert!(*day < date && cal.is_service_day(*day));
            }
            // No service day was skipped between them.
            if let Some(oldest) = previous.last() {
                let between = cal.service_days(*oldest, date.pred_opt().unwrap()).count();
                proptest::prop_assert_eq!(between, previous.len());
            }
            // Inside the year, deadline counting lands on the same days.
            if previous.len() == n {
                let n32 = u32::try_from(n).unwrap();
                proptest::prop_assert_eq!(cal.nth_counting_day_before(date, n32), previous[n - 1]);
            }
        }

        #[test]
        fn service_days_are_exactly_the_days_with_an_ok_status(
            offset in 0..400u64, len in 0..60u64,
        ) {
            let cal = france("2026-2027", Zone::B);
            let from = d(2026, 8, 1) + Days::new(offset);
            let to = from + Days::new(len);
            let listed: Vec<NaiveDate> = cal.service_days(from, to).collect();
            let ok: Vec<NaiveDate> = cal
                .days(from, to)
                .filter(|(_, status)| status.is_ok())
                .map(|(day, _)| day)
                .collect();
            proptest::prop_assert_eq!(listed, ok);
        }
    }
}
