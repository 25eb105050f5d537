//! The school-holiday calendar file: school years and holiday periods per zone, in TOML.
//!
//! The format is documented at the top of `app/calendars/france.toml`, the national calendar
//! bundled in the binary. A commune may replace it with its own file (for a local change of
//! the rentrée, say); errors therefore name the line, column and field at fault, in words a
//! town-hall employee can act on.

use std::fmt;
use std::ops::Range;
use std::sync::OnceLock;

use chrono::NaiveDate;
use serde::Deserialize;
use toml::Spanned;

use super::Zone;
use super::school_year::{InvalidSchoolYear, SchoolYear, SchoolYearLabel};

/// The official calendar of metropolitan France (zones A, B, C) bundled with the application,
/// so the binary works without any file on disk.
pub const FRANCE_CALENDAR_TOML: &str = include_str!("../../../calendars/france.toml");

/// A school holiday period (both days included) for one or more zones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchoolHoliday {
    name: String,
    first_day_off: NaiveDate,
    last_day_off: NaiveDate,
    zones: Vec<Zone>,
}

impl SchoolHoliday {
    /// The name shown to families, e.g. "Vacances d'hiver".
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The first day without classes.
    pub fn first_day_off(&self) -> NaiveDate {
        self.first_day_off
    }

    /// The last day without classes.
    pub fn last_day_off(&self) -> NaiveDate {
        self.last_day_off
    }

    /// The zones on holiday.
    pub fn zones(&self) -> &[Zone] {
        &self.zones
    }

    /// Whether this period applies to `zone` and includes `date`.
    pub fn covers(&self, zone: Zone, date: NaiveDate) -> bool {
        self.zones.contains(&zone) && (self.first_day_off..=self.last_day_off).contains(&date)
    }
}

/// The content of a calendar file: school years and school holidays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HolidayCalendar {
    school_years: Vec<SchoolYear>,
    holidays: Vec<SchoolHoliday>,
}

/// What is wrong in a calendar file, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct CalendarFileError {
    /// 1-based line of the faulty value.
    pub line: usize,
    /// 1-based column (in characters) of the faulty value.
    pub column: usize,
    /// The entry and field at fault, e.g. "holiday #3, field `first_day_off`", when known.
    pub field: Option<String>,
    /// What is wrong.
    pub problem: CalendarFileProblem,
}

impl fmt::Display for CalendarFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "calendar file, line {}, column {}",
            self.line, self.column
        )?;
        if let Some(field) = &self.field {
            write!(f, " ({field})")?;
        }
        write!(f, ": {}", self.problem)
    }
}

/// The kinds of mistakes a calendar file can hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarFileProblem {
    /// Not valid TOML, an unknown or missing field, or a wrong type (the TOML parser's words).
    #[error("{0}")]
    Syntax(String),
    /// A date that does not exist or is not written `YYYY-MM-DD`.
    #[error("`{0}` is not a valid date (expected YYYY-MM-DD, e.g. 2026-02-07)")]
    InvalidDate(String),
    /// A period whose first day is after its last day.
    #[error("the first day {first} is after the last day {last}")]
    FirstAfterLast {
        /// The first day written.
        first: NaiveDate,
        /// The last day written.
        last: NaiveDate,
    },
    /// A school-year label that is not two consecutive years.
    #[error("`{0}` is not a school year (expected e.g. \"2026-2027\")")]
    InvalidLabel(String),
    /// The same school year listed twice.
    #[error("school year {0} is listed twice")]
    DuplicateSchoolYear(SchoolYearLabel),
    /// A day outside the calendar years a school-year label names.
    #[error("{day} is not in {label}")]
    DayOutsideLabel {
        /// The label.
        label: SchoolYearLabel,
        /// The day that does not fit.
        day: NaiveDate,
    },
    /// A holiday with an empty name.
    #[error("the name is empty")]
    EmptyName,
    /// A zone other than A, B or C.
    #[error("unknown zone `{0}` (expected \"A\", \"B\" or \"C\")")]
    UnknownZone(String),
    /// A holiday that lists no zone.
    #[error("no zone listed (expected e.g. [\"A\", \"B\", \"C\"])")]
    NoZone,
    /// A zone listed twice for one holiday.
    #[error("zone {0} is listed twice")]
    DuplicateZone(Zone),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    school_year: Vec<RawSchoolYear>,
    #[serde(default)]
    holiday: Vec<RawHoliday>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSchoolYear {
    label: Spanned<String>,
    first_day: Spanned<toml::Value>,
    last_day: Spanned<toml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHoliday {
    name: Spanned<String>,
    first_day_off: Spanned<toml::Value>,
    last_day_off: Spanned<toml::Value>,
    zones: Spanned<Vec<Spanned<String>>>,
}

/// Turns byte spans into the positions people read.
struct Locator<'a> {
    text: &'a str,
}

impl Locator<'_> {
    fn error(
        &self,
        span: Range<usize>,
        field: Option<String>,
        problem: CalendarFileProblem,
    ) -> CalendarFileError {
        let start = span.start.min(self.text.len());
        // Spans from the parser are on char boundaries; be safe anyway.
        let before = self.text.get(..start).unwrap_or(self.text);
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        CalendarFileError {
            line,
            column,
            field,
            problem,
        }
    }
}

fn field_name(entry: &str, index: usize, field: &str) -> Option<String> {
    Some(format!("{entry} #{}, field `{field}`", index + 1))
}

/// A date written as a TOML local date (`2026-02-07`) or a string (`"2026-02-07"`).
fn parse_date(value: &toml::Value) -> Result<NaiveDate, CalendarFileProblem> {
    match value {
        toml::Value::Datetime(dt) => match (dt.date, dt.time, dt.offset) {
            (Some(date), None, None) => NaiveDate::from_ymd_opt(
                i32::from(date.year),
                u32::from(date.month),
                u32::from(date.day),
            )
            .ok_or_else(|| CalendarFileProblem::InvalidDate(dt.to_string())),
            _ => Err(CalendarFileProblem::InvalidDate(dt.to_string())),
        },
        toml::Value::String(text) => {
            // chrono accepts unpadded fields ("2026-2-7"); the format says YYYY-MM-DD.
            let well_formed = text.len() == 10
                && text.bytes().enumerate().all(|(i, b)| match i {
                    4 | 7 => b == b'-',
                    _ => b.is_ascii_digit(),
                });
            well_formed
                .then(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
                .flatten()
                .ok_or_else(|| CalendarFileProblem::InvalidDate(text.clone()))
        }
        other => Err(CalendarFileProblem::InvalidDate(other.to_string())),
    }
}

impl HolidayCalendar {
    /// Parses a calendar file, reporting the first mistake with its line and field.
    pub fn parse(text: &str) -> Result<Self, CalendarFileError> {
        let at = Locator { text };
        let raw: RawFile = toml::from_str(text).map_err(|e| {
            at.error(
                e.span().unwrap_or(0..0),
                None,
                // The parser's message spans several lines; one line reads better in logs.
                CalendarFileProblem::Syntax(e.message().replace('\n', ": ")),
            )
        })?;

        let mut school_years: Vec<SchoolYear> = Vec::with_capacity(raw.school_year.len());
        for (i, year) in raw.school_year.iter().enumerate() {
            let label: SchoolYearLabel = year.label.get_ref().parse().map_err(|_| {
                at.error(
                    year.label.span(),
                    field_name("school_year", i, "label"),
                    CalendarFileProblem::InvalidLabel(year.label.get_ref().clone()),
                )
            })?;
            if school_years.iter().any(|y| y.label() == label) {
                return Err(at.error(
                    year.label.span(),
                    field_name("school_year", i, "label"),
                    CalendarFileProblem::DuplicateSchoolYear(label),
                ));
            }
            let first = parse_date(year.first_day.get_ref()).map_err(|p| {
                at.error(
                    year.first_day.span(),
                    field_name("school_year", i, "first_day"),
                    p,
                )
            })?;
            let last = parse_date(year.last_day.get_ref()).map_err(|p| {
                at.error(
                    year.last_day.span(),
                    field_name("school_year", i, "last_day"),
                    p,
                )
            })?;
            let school_year = SchoolYear::new(label, first, last).map_err(|e| match e {
                InvalidSchoolYear::FirstAfterLast { .. } => at.error(
                    year.first_day.span(),
                    field_name("school_year", i, "first_day"),
                    CalendarFileProblem::FirstAfterLast { first, last },
                ),
                InvalidSchoolYear::DayOutsideLabel { label, day } => {
                    let (span, field) = if day == first {
                        (year.first_day.span(), "first_day")
                    } else {
                        (year.last_day.span(), "last_day")
                    };
                    at.error(
                        span,
                        field_name("school_year", i, field),
                        CalendarFileProblem::DayOutsideLabel { label, day },
                    )
                }
            })?;
            school_years.push(school_year);
        }

        let mut holidays = Vec::with_capacity(raw.holiday.len());
        for (i, holiday) in raw.holiday.iter().enumerate() {
            let name = holiday.name.get_ref().trim();
            if name.is_empty() {
                return Err(at.error(
                    holiday.name.span(),
                    field_name("holiday", i, "name"),
                    CalendarFileProblem::EmptyName,
                ));
            }
            let first = parse_date(holiday.first_day_off.get_ref()).map_err(|p| {
                at.error(
                    holiday.first_day_off.span(),
                    field_name("holiday", i, "first_day_off"),
                    p,
                )
            })?;
            let last = parse_date(holiday.last_day_off.get_ref()).map_err(|p| {
                at.error(
                    holiday.last_day_off.span(),
                    field_name("holiday", i, "last_day_off"),
                    p,
                )
            })?;
            if first > last {
                return Err(at.error(
                    holiday.first_day_off.span(),
                    field_name("holiday", i, "first_day_off"),
                    CalendarFileProblem::FirstAfterLast { first, last },
                ));
            }
            let mut zones = Vec::new();
            for zone in holiday.zones.get_ref() {
                let parsed: Zone = zone.get_ref().parse().map_err(|_| {
                    at.error(
                        zone.span(),
                        field_name("holiday", i, "zones"),
                        CalendarFileProblem::UnknownZone(zone.get_ref().clone()),
                    )
                })?;
                if zones.contains(&parsed) {
                    return Err(at.error(
                        zone.span(),
                        field_name("holiday", i, "zones"),
                        CalendarFileProblem::DuplicateZone(parsed),
                    ));
                }
                zones.push(parsed);
            }
            if zones.is_empty() {
                return Err(at.error(
                    holiday.zones.span(),
                    field_name("holiday", i, "zones"),
                    CalendarFileProblem::NoZone,
                ));
            }
            holidays.push(SchoolHoliday {
                name: name.to_owned(),
                first_day_off: first,
                last_day_off: last,
                zones,
            });
        }

        school_years.sort_by_key(SchoolYear::first_day);
        holidays.sort_by_key(|h| h.first_day_off);
        Ok(HolidayCalendar {
            school_years,
            holidays,
        })
    }

    /// The bundled national calendar ([`FRANCE_CALENDAR_TOML`]), parsed once.
    ///
    /// # Panics
    /// Never in a tested build: the bundled file is parsed by a unit test.
    pub fn france() -> &'static HolidayCalendar {
        static FRANCE: OnceLock<HolidayCalendar> = OnceLock::new();
        FRANCE.get_or_init(|| {
            HolidayCalendar::parse(FRANCE_CALENDAR_TOML)
                // The bundled file is parsed by a unit test, so this cannot fail in a release.
                .expect("the bundled calendars/france.toml is valid")
        })
    }

    /// The school years of the file, earliest first.
    pub fn school_years(&self) -> &[SchoolYear] {
        &self.school_years
    }

    /// The school year with this label, if the file has it.
    pub fn school_year(&self, label: SchoolYearLabel) -> Option<&SchoolYear> {
        self.school_years.iter().find(|y| y.label() == label)
    }

    /// The school year whose days contain `date` (none in the summer break).
    pub fn school_year_containing(&self, date: NaiveDate) -> Option<&SchoolYear> {
        SchoolYear::containing(&self.school_years, date)
    }

    /// Every holiday period of the file, earliest first.
    pub fn holidays(&self) -> &[SchoolHoliday] {
        &self.holidays
    }

    /// The holiday periods of one zone, earliest first.
    pub fn holidays_for(&self, zone: Zone) -> impl Iterator<Item = &SchoolHoliday> + '_ {
        self.holidays
            .iter()
            .filter(move |h| h.zones.contains(&zone))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    const SMALL: &str = r#"
[[school_year]]
label = "2026-2027"
first_day = 2026-09-01
last_day = "2027-07-03"

[[holiday]]
name = "Vacances d'hiver"
first_day_off = 2027-02-13
last_day_off = 2027-02-28
zones = ["A"]
"#;

    fn problem(text: &str) -> CalendarFileError {
        HolidayCalendar::parse(text).expect_err("the file should be refused")
    }

    #[test]
    fn bundled_france_calendar_parses() {
        let cal = HolidayCalendar::parse(FRANCE_CALENDAR_TOML).unwrap();
        let labels: Vec<String> = cal
            .school_years()
            .iter()
            .map(|y| y.label().to_string())
            .collect();
        assert_eq!(labels, ["2025-2026", "2026-2027"]);
        assert_eq!(HolidayCalendar::france(), &cal);
    }

    #[test]
    fn bundled_calendar_gives_each_zone_five_periods_a_year() {
        // Toussaint, Noël, hiver, printemps and the Ascension bridge, twice.
        for zone in [Zone::A, Zone::B, Zone::C] {
            assert_eq!(HolidayCalendar::france().holidays_for(zone).count(), 10);
        }
    }

    #[test]
    fn bundled_holidays_start_on_saturday_and_lie_inside_their_school_year() {
        use chrono::{Datelike, Weekday};
        let cal = HolidayCalendar::france();
        for h in cal.holidays() {
            let year = cal
                .school_year_containing(h.first_day_off())
                .unwrap_or_else(|| panic!("{h:?} outside every school year"));
            assert!(year.contains(h.last_day_off()), "{h:?}");
            let starts_on = h.first_day_off().weekday();
            let bridge = h.name() == "Pont de l'Ascension";
            assert!(
                starts_on == Weekday::Sat || (bridge && starts_on == Weekday::Fri),
                "{h:?}"
            );
        }
    }

    #[test]
    fn bundled_ascension_bridge_fridays_are_school_holidays_everywhere() {
        let cal = HolidayCalendar::france();
        for zone in [Zone::A, Zone::B, Zone::C] {
            for friday in [d(2026, 5, 15), d(2027, 5, 7)] {
                assert!(
                    cal.holidays_for(zone).any(|h| h.covers(zone, friday)),
                    "{zone} {friday}"
                );
            }
        }
    }

    #[test]
    fn dates_may_be_toml_dates_or_strings() {
        let cal = HolidayCalendar::parse(SMALL).unwrap();
        let year = cal.school_year("2026-2027".parse().unwrap()).unwrap();
        assert_eq!(year.first_day(), d(2026, 9, 1));
        assert_eq!(year.last_day(), d(2027, 7, 3));
        let h = &cal.holidays()[0];
        assert!(h.covers(Zone::A, d(2027, 2, 13)));
        assert!(h.covers(Zone::A, d(2027, 2, 28)));
        assert!(!h.covers(Zone::A, d(2027, 3, 1)));
        assert!(!h.covers(Zone::B, d(2027, 2, 15)));
    }

    #[test]
    fn nonexistent_toml_date_is_refused_with_its_line() {
        let err = problem(&SMALL.replace("2027-02-28", "2027-02-30"));
        assert_eq!(err.line, 10);
        assert!(matches!(err.problem, CalendarFileProblem::Syntax(_)));
    }

    #[test]
    fn nonexistent_string_date_is_refused_with_its_line_and_field() {
        let err = problem(&SMALL.replace("\"2027-07-03\"", "\"2026-02-30\""));
        assert_eq!(err.line, 5);
        assert_eq!(err.column, 12);
        assert_eq!(
            err.field.as_deref(),
            Some("school_year #1, field `last_day`")
        );
        assert_eq!(
            err.problem,
            CalendarFileProblem::InvalidDate("2026-02-30".into())
        );
        assert_eq!(
            err.to_string(),
            "calendar file, line 5, column 12 (school_year #1, field `last_day`): \
             `2026-02-30` is not a valid date (expected YYYY-MM-DD, e.g. 2026-02-07)"
        );
    }

    #[test]
    fn unpadded_or_timed_dates_are_refused() {
        let err = problem(&SMALL.replace("\"2027-07-03\"", "\"2027-7-3\""));
        assert_eq!(
            err.problem,
            CalendarFileProblem::InvalidDate("2027-7-3".into())
        );
        let err = problem(&SMALL.replace("2027-02-13", "2027-02-13T08:00:00"));
        assert!(matches!(err.problem, CalendarFileProblem::InvalidDate(_)));
        assert_eq!(err.line, 9);
    }

    #[test]
    fn holiday_ending_before_it_starts_is_refused() {
        let err = problem(&SMALL.replace("2027-02-28", "2027-02-12"));
        assert_eq!(err.line, 9);
        assert_eq!(
            err.field.as_deref(),
            Some("holiday #1, field `first_day_off`")
        );
        assert_eq!(
            err.problem,
            CalendarFileProblem::FirstAfterLast {
                first: d(2027, 2, 13),
                last: d(2027, 2, 12)
            }
        );
    }

    #[test]
    fn school_year_ending_before_it_starts_is_refused() {
        let err = problem(&SMALL.replace("2026-09-01", "2027-09-01"));
        assert_eq!(err.line, 4);
        assert!(matches!(
            err.problem,
            CalendarFileProblem::FirstAfterLast { .. }
        ));
    }

    #[test]
    fn unknown_zone_is_refused_at_its_position() {
        let err = problem(&SMALL.replace("[\"A\"]", "[\"A\", \"D\"]"));
        assert_eq!((err.line, err.column), (11, 15));
        assert_eq!(err.problem, CalendarFileProblem::UnknownZone("D".into()));
    }

    #[test]
    fn empty_or_repeated_zones_are_refused() {
        let err = problem(&SMALL.replace("[\"A\"]", "[]"));
        assert_eq!(err.problem, CalendarFileProblem::NoZone);
        let err = problem(&SMALL.replace("[\"A\"]", "[\"A\", \"A\"]"));
        assert_eq!(err.problem, CalendarFileProblem::DuplicateZone(Zone::A));
    }

    #[test]
    fn bad_or_repeated_school_year_label_is_refused() {
        let err = problem(&SMALL.replace("\"2026-2027\"", "\"2026-2028\""));
        assert_eq!(err.line, 3);
        assert_eq!(
            err.problem,
            CalendarFileProblem::InvalidLabel("2026-2028".into())
        );
        let twice = format!(
            "{SMALL}\n[[school_year]]\nlabel = \"2026-2027\"\nfirst_day = 2026-09-02\nlast_day = 2027-07-03\n"
        );
        let err = problem(&twice);
        assert_eq!(err.line, 14);
        assert!(matches!(
            err.problem,
            CalendarFileProblem::DuplicateSchoolYear(_)
        ));
    }

    #[test]
    fn school_year_day_in_the_wrong_year_is_refused() {
        let err = problem(&SMALL.replace("2026-09-01", "2025-09-01"));
        assert_eq!(
            err.field.as_deref(),
            Some("school_year #1, field `first_day`")
        );
        assert!(matches!(
            err.problem,
            CalendarFileProblem::DayOutsideLabel { .. }
        ));
    }

    #[test]
    fn unknown_field_is_refused_with_its_line() {
        let err = problem(&SMALL.replace("zones = [\"A\"]", "zones = [\"A\"]\nzone = \"B\""));
        assert_eq!(err.line, 12);
        assert!(
            matches!(&err.problem, CalendarFileProblem::Syntax(m) if m.contains("zone")),
            "{err}"
        );
    }

    #[test]
    fn missing_field_is_refused() {
        let err = problem(&SMALL.replace("zones = [\"A\"]", ""));
        assert!(
            matches!(&err.problem, CalendarFileProblem::Syntax(m) if m.contains("zones")),
            "{err}"
        );
    }

    #[test]
    fn empty_holiday_name_is_refused() {
        let err = problem(&SMALL.replace("\"Vacances d'hiver\"", "\"  \""));
        assert_eq!(err.problem, CalendarFileProblem::EmptyName);
        assert_eq!(err.line, 8);
    }

    #[test]
    fn empty_file_is_an_empty_calendar() {
        let cal = HolidayCalendar::parse("# nothing yet\n").unwrap();
        assert!(cal.school_years().is_empty());
        assert!(cal.holidays().is_empty());
    }

    proptest::proptest! {
        #[test]
        fn parser_never_panics_on_arbitrary_text(text in "\\PC{0,300}") {
            let _ = HolidayCalendar::parse(&text);
        }

        #[test]
        fn parser_never_panics_on_mangled_calendar_files(
            cut in 0..400usize, insert in "[\\[\\]=\"a-z0-9\n ,.-]{0,12}",
        ) {
            let mut text = SMALL.to_owned();
            let at = text.char_indices().map(|(i, _)| i).nth(cut).unwrap_or(text.len());
            text.insert_str(at, &insert);
            if let Err(e) = HolidayCalendar::parse(&text) {
                proptest::prop_assert!(e.line >= 1 && e.line <= text.lines().count() + 1);
                proptest::prop_assert!(e.column >= 1);
            }
        }

        #[test]
        fn any_real_date_is_accepted_and_any_impossible_one_refused(
            y in 2000..2100i32, m in 1..=12u32, day in 1..=31u32,
        ) {
            let text = format!("\"{y:04}-{m:02}-{day:02}\"");
            let value: toml::Value = toml::from_str::<toml::Table>(&format!("x = {text}")).unwrap()["x"].clone();
            let expected = NaiveDate::from_ymd_opt(y, m, day);
            proptest::prop_assert_eq!(parse_date(&value).ok(), expected);
        }
    }
}
