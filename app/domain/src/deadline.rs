//! Booking deadlines: until when a meal can be booked or cancelled.
//!
//! A commune's rule reads "N days before, at HH:MM", counting either calendar days or service
//! days, in Europe/Paris wall-clock time. The default, 2 service days before at 10:00, lets
//! the kitchen order food two working days ahead. Deadlines are returned as UTC instants so
//! the comparison with `now` is a plain `>=`, whatever the season.
//!
//! Wall-clock times that do not exist or exist twice are resolved as follows:
//! - spring forward (last Sunday of March, 02:00 → 03:00): a time in the gap, e.g. 02:30,
//!   means the first instant after the gap, 03:00 CEST (01:00 UTC) — the earliest moment at
//!   which the Paris clock shows that time or later;
//! - fall back (last Sunday of October, 03:00 → 02:00): a time shown twice, e.g. 02:30, means
//!   the earlier instant, 02:30 CEST (00:30 UTC) — families are never given the extra hour.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Days, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Europe::Paris;
use serde::{Deserialize, Serialize};

use super::calendar::SchoolCalendar;

/// How the days before a service day are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DayCounting {
    /// Every calendar day counts (weekends and holidays included).
    #[serde(rename = "calendar_days", alias = "calendar")]
    Calendar,
    /// Only the school's service days count (see [`SchoolCalendar::nth_counting_day_before`]).
    #[serde(rename = "service_days")]
    ServiceDays,
}

/// The commune's deadline rule: changes for a day close `days_before` days before it, at `at`
/// (Europe/Paris).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawDeadlineRule", into = "RawDeadlineRule")]
pub struct DeadlineRule {
    days_before: u32,
    at: NaiveTime,
    counting: DayCounting,
}

/// The serde shape of a rule, checked by [`DeadlineRule::new`] on the way in, e.g. in TOML
/// `deadline = { days_before = 2, at = "10:00", counting = "service_days" }`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDeadlineRule {
    days_before: u32,
    #[serde(with = "hh_mm")]
    at: NaiveTime,
    counting: DayCounting,
}

/// `at` is written `HH:MM` (seconds optional on input) because that is how communes word it.
mod hh_mm {
    use chrono::NaiveTime;
    use serde::{Deserialize, Deserializer, Serializer, de};

    pub fn serialize<S: Serializer>(t: &NaiveTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format_time(*t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveTime, D::Error> {
        let text = String::deserialize(d)?;
        super::parse_time(&text)
            .ok_or_else(|| de::Error::custom(format!("`{text}` is not a time like 10:00")))
    }
}

fn parse_time(text: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(text, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(text, "%H:%M:%S"))
        .ok()
}

fn format_time(t: NaiveTime) -> String {
    if t.format("%S").to_string() == "00" {
        t.format("%H:%M").to_string()
    } else {
        t.format("%H:%M:%S").to_string()
    }
}

impl TryFrom<RawDeadlineRule> for DeadlineRule {
    type Error = InvalidDeadlineRule;

    fn try_from(raw: RawDeadlineRule) -> Result<Self, Self::Error> {
        DeadlineRule::new(raw.days_before, raw.at, raw.counting)
    }
}

impl From<DeadlineRule> for RawDeadlineRule {
    fn from(rule: DeadlineRule) -> Self {
        RawDeadlineRule {
            days_before: rule.days_before,
            at: rule.at,
            counting: rule.counting,
        }
    }
}

/// Why a deadline rule is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidDeadlineRule {
    /// `days_before` must be between 1 and [`DeadlineRule::MAX_DAYS_BEFORE`].
    #[error("days_before must be between 1 and {max}, not {0}", max = DeadlineRule::MAX_DAYS_BEFORE)]
    DaysBeforeOutOfRange(u32),
    /// The text form could not be read.
    #[error("`{0}` is not a deadline rule like \"2 service days before at 10:00\"")]
    Unreadable(String),
}

impl Default for DeadlineRule {
    /// 2 service days before, at 10:00.
    fn default() -> Self {
        DeadlineRule {
            days_before: 2,
            at: NaiveTime::from_hms_opt(10, 0, 0).expect("10:00 is a valid time"),
            counting: DayCounting::ServiceDays,
        }
    }
}

impl DeadlineRule {
    /// The longest notice a commune may require (two months of calendar days is already
    /// unusual; more is surely a typo).
    pub const MAX_DAYS_BEFORE: u32 = 60;

    /// A rule; `days_before` must be at least 1 so that a day is always locked before it
    /// starts (meals are ordered ahead, never on the day), and at most
    /// [`MAX_DAYS_BEFORE`](Self::MAX_DAYS_BEFORE).
    pub fn new(
        days_before: u32,
        at: NaiveTime,
        counting: DayCounting,
    ) -> Result<Self, InvalidDeadlineRule> {
        if !(1..=Self::MAX_DAYS_BEFORE).contains(&days_before) {
            return Err(InvalidDeadlineRule::DaysBeforeOutOfRange(days_before));
        }
        Ok(DeadlineRule {
            days_before,
            at,
            counting,
        })
    }

    /// How many days before.
    pub fn days_before(&self) -> u32 {
        self.days_before
    }

    /// At what Paris wall-clock time.
    pub fn at(&self) -> NaiveTime {
        self.at
    }

    /// Which days are counted.
    pub fn counting(&self) -> DayCounting {
        self.counting
    }

    /// The deadline as Paris wall-clock time, for display ("jusqu'au vendredi 26 mars à 10 h").
    /// On the spring-forward Sunday it may name a time that does not exist; use
    /// [`deadline_for`](Self::deadline_for) for comparisons.
    pub fn local_deadline_for(
        &self,
        service_day: NaiveDate,
        calendar: &SchoolCalendar,
    ) -> NaiveDateTime {
        let day = match self.counting {
            DayCounting::Calendar => service_day
                .checked_sub_days(Days::new(u64::from(self.days_before)))
                .unwrap_or(NaiveDate::MIN),
            DayCounting::ServiceDays => {
                calendar.nth_counting_day_before(service_day, self.days_before)
            }
        };
        day.and_time(self.at)
    }

    /// The instant from which `service_day` is locked.
    pub fn deadline_for(&self, service_day: NaiveDate, calendar: &SchoolCalendar) -> DateTime<Utc> {
        paris_to_utc(self.local_deadline_for(service_day, calendar))
    }

    /// Whether changes to `day` are refused at `now`: from the deadline on, included.
    pub fn is_locked(&self, day: NaiveDate, calendar: &SchoolCalendar, now: DateTime<Utc>) -> bool {
        now >= self.deadline_for(day, calendar)
    }
}

/// The text form, e.g. `2 service days before at 10:00` or `1 calendar day before at 18:30`.
impl fmt::Display for DeadlineRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.counting {
            DayCounting::Calendar => "calendar",
            DayCounting::ServiceDays => "service",
        };
        let days = if self.days_before == 1 { "day" } else { "days" };
        write!(
            f,
            "{} {kind} {days} before at {}",
            self.days_before,
            format_time(self.at)
        )
    }
}

impl FromStr for DeadlineRule {
    type Err = InvalidDeadlineRule;

    /// Reads the [`Display`](fmt::Display) form; words are separated by single spaces, `day`
    /// or `days` both accepted.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let unreadable = || InvalidDeadlineRule::Unreadable(s.to_owned());
        let words: Vec<&str> = s.split_whitespace().collect();
        let [n, kind, days, "before", "at", time] = words.as_slice() else {
            return Err(unreadable());
        };
        if !matches!(*days, "day" | "days") {
            return Err(unreadable());
        }
        let counting = match *kind {
            "service" => DayCounting::ServiceDays,
            "calendar" => DayCounting::Calendar,
            _ => return Err(unreadable()),
        };
        let days_before: u32 = n.parse().map_err(|_| unreadable())?;
        let at = parse_time(time).ok_or_else(unreadable)?;
        DeadlineRule::new(days_before, at, counting)
    }
}

/// The UTC instant of a Paris wall-clock time, resolving the DST edge cases as described in
/// the module documentation: a time in the spring-forward gap gives the first instant after
/// the gap; a time repeated in autumn gives the earlier instant.
pub fn paris_to_utc(local: NaiveDateTime) -> DateTime<Utc> {
    match Paris.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(a, b) => a.min(b).with_timezone(&Utc),
        LocalResult::None => first_instant_showing_at_least(local),
    }
}

/// The first instant at which the Paris clock shows `local` or later, found by bisection
/// between two instants that surely bracket it (Paris is UTC+1 or UTC+2). Used only inside a
/// spring-forward gap, where the clock is monotonic over that window.
fn first_instant_showing_at_least(local: NaiveDateTime) -> DateTime<Utc> {
    let shown =
        |ts: i64| DateTime::from_timestamp(ts, 0).map(|t| t.with_timezone(&Paris).naive_local());
    let naive_ts = local.and_utc().timestamp();
    // Paris shows at most local - 1 h at `lo` and at least local + 1 h at `hi`.
    let (mut lo, mut hi) = (naive_ts - 3 * 3600, naive_ts);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        match shown(mid) {
            Some(t) if t >= local => hi = mid,
            _ => lo = mid,
        }
    }
    DateTime::from_timestamp(hi, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::{HolidayCalendar, Zone};
    use crate::weekdays::WeekdaySet;
    use chrono::Duration;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn hm(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    /// An instant given as an unambiguous Paris wall-clock time.
    fn paris(date: NaiveDate, h: u32, m: u32, s: u32) -> DateTime<Utc> {
        let local = date.and_hms_opt(h, m, s).unwrap();
        Paris
            .from_local_datetime(&local)
            .single()
            .expect("test times are unambiguous")
            .with_timezone(&Utc)
    }

    fn utc(date: NaiveDate, h: u32, m: u32, s: u32) -> DateTime<Utc> {
        date.and_hms_opt(h, m, s).unwrap().and_utc()
    }

    /// The real 2026-2027 calendar of a zone A school with the default weekdays.
    fn france_2026_2027() -> SchoolCalendar {
        france("2026-2027")
    }

    fn france(label: &str) -> SchoolCalendar {
        SchoolCalendar::for_year(
            HolidayCalendar::france(),
            label.parse().unwrap(),
            Zone::A,
            WeekdaySet::default_service(),
        )
        .unwrap()
    }

    /// A calendar with no school holidays, to put service days right around the autumn change
    /// (which falls inside the Toussaint holidays in the real calendars).
    fn without_school_holidays(label: &str, first: &str, last: &str) -> SchoolCalendar {
        let file = HolidayCalendar::parse(&format!(
            "[[school_year]]\nlabel = \"{label}\"\nfirst_day = {first}\nlast_day = {last}\n"
        ))
        .unwrap();
        SchoolCalendar::for_year(
            &file,
            label.parse().unwrap(),
            Zone::A,
            WeekdaySet::default_service(),
        )
        .unwrap()
    }

    fn calendar_days(days_before: u32, h: u32, m: u32) -> DeadlineRule {
        DeadlineRule::new(days_before, hm(h, m), DayCounting::Calendar).unwrap()
    }

    /// Asserts the rule of the issue: at 09:59:59 on the deadline day (Paris) the day is still
    /// open, at 10:00:00 it is locked.
    fn assert_open_until_ten(
        rule: &DeadlineRule,
        cal: &SchoolCalendar,
        service_day: NaiveDate,
        deadline_day: NaiveDate,
    ) {
        assert!(
            !rule.is_locked(service_day, cal, paris(deadline_day, 9, 59, 59)),
            "{service_day}: should still be open at 09:59:59 on {deadline_day}"
        );
        assert!(
            rule.is_locked(service_day, cal, paris(deadline_day, 10, 0, 0)),
            "{service_day}: should be locked at 10:00:00 on {deadline_day}"
        );
    }

    #[test]
    fn default_rule_is_two_service_days_before_at_ten() {
        let rule = DeadlineRule::default();
        assert_eq!(rule.days_before(), 2);
        assert_eq!(rule.at(), hm(10, 0));
        assert_eq!(rule.counting(), DayCounting::ServiceDays);
        assert_eq!(rule.to_string(), "2 service days before at 10:00");
    }

    #[test]
    fn booking_at_09_59_59_is_allowed_and_at_10_00_locked_in_winter_time() {
        // Tuesday 8 December 2026: Monday 7 is 1 service day before, Friday 4 is 2.
        let cal = france_2026_2027();
        let rule = DeadlineRule::default();
        assert_eq!(
            rule.deadline_for(d(2026, 12, 8), &cal),
            utc(d(2026, 12, 4), 9, 0, 0)
        );
        assert_open_until_ten(&rule, &cal, d(2026, 12, 8), d(2026, 12, 4));
    }

    #[test]
    fn booking_at_09_59_59_is_allowed_and_at_10_00_locked_in_summer_time() {
        // Tuesday 15 September 2026: deadline Friday 11 September, 10:00 CEST = 08:00 UTC.
        let cal = france_2026_2027();
        let rule = DeadlineRule::default();
        assert_eq!(
            rule.deadline_for(d(2026, 9, 15), &cal),
            utc(d(2026, 9, 11), 8, 0, 0)
        );
        assert_open_until_ten(&rule, &cal, d(2026, 9, 15), d(2026, 9, 11));
    }

    #[test]
    fn deadline_of_the_tuesday_after_easter_2027_skips_easter_monday_and_the_dst_weekend() {
        // Easter Monday 29 March 2027 is a public holiday and 28 March the spring change:
        // for Tuesday 30 March, Friday 26 is 1 service day before and Thursday 25 is 2,
        // both still in winter time.
        let cal = france_2026_2027();
        let rule = DeadlineRule::default();
        assert_eq!(
            rule.deadline_for(d(2027, 3, 30), &cal),
            utc(d(2027, 3, 25), 9, 0, 0)
        );
        assert_open_until_ten(&rule, &cal, d(2027, 3, 30), d(2027, 3, 25));
    }

    #[test]
    fn deadline_falling_right_after_the_spring_change_of_2027_is_in_summer_time() {
        // Friday 2 April 2027: Thursday 1 is 1 service day before, Tuesday 30 March is 2,
        // the first service day after the change: 10:00 CEST = 08:00 UTC.
        let cal = france_2026_2027();
        let rule = DeadlineRule::default();
        assert_eq!(
            rule.deadline_for(d(2027, 4, 2), &cal),
            utc(d(2027, 3, 30), 8, 0, 0)
        );
        assert_open_until_ten(&rule, &cal, d(2027, 4, 2), d(2027, 3, 30));
        // Thursday 1 April 2027: Tuesday 30 (1), Friday 26 (2), before the change.
        assert_eq!(
            rule.deadline_for(d(2027, 4, 1), &cal),
            utc(d(2027, 3, 26), 9, 0, 0)
        );
        assert_open_until_ten(&rule, &cal, d(2027, 4, 1), d(2027, 3, 26));
    }

    #[test]
    fn deadlines_around_the_spring_change_of_2026_switch_from_winter_to_summer_time() {
        // The change is on Sunday 29 March 2026; Easter is only on 5 April.
        let cal = france("2025-2026");
        let rule = DeadlineRule::default();
        // Tuesday 31 March: deadline Friday 27 March, winter time (09:00 UTC).
        assert_eq!(
            rule.deadline_for(d(2026, 3, 31), &cal),
            utc(d(2026, 3, 27), 9, 0, 0)
        );
        assert_open_until_ten(&rule, &cal, d(2026, 3, 31), d(2026, 3, 27));
        // Thursday 2 April: deadline Monday 30 March, right after the change (08:00 UTC).
        assert_eq!(
            rule.deadline_for(d(2026, 4, 2), &cal),
            utc(d(2026, 3, 30), 8, 0, 0)
        );
        assert_open_until_ten(&rule, &cal, d(2026, 4, 2), d(2026, 3, 30));
    }

    #[test]
    fn deadlines_around_the_autumn_change_of_2026_switch_from_summer_to_winter_time() {
        // The change is on Sunday 25 October 2026 (inside Toussaint in the real calendar, so
        // a school year without holidays puts service days around it).
        let cal = without_school_holidays("2026-2027", "2026-09-01", "2027-07-03");
        let rule = DeadlineRule::default();
        // Tuesday 27 October: deadline Friday 23 October, summer time (08:00 UTC).
        assert_eq!(
            rule.deadline_for(d(2026, 10, 27), &cal),
            utc(d(2026, 10, 23), 8, 0, 0)
        );
        assert_open_until_ten(&rule, &cal, d(2026, 10, 27), d(2026, 10, 23));
        // Thursday 29 October: deadline Monday 26 October, right after the change (09:00 UTC).
        assert_eq!(
            rule.deadline_for(d(2026, 10, 29), &cal),
            utc(d(2026, 10, 26), 9, 0, 0)
        );
        assert_open_until_ten(&rule, &cal, d(2026, 10, 29), d(2026, 10, 26));
    }

    #[test]
    fn deadlines_around_the_autumn_change_of_2027_skip_all_saints_day() {
        // The change is on Sunday 31 October 2027 and Monday 1 November is a public holiday.
        let cal = without_school_holidays("2027-2028", "2027-09-01", "2028-07-01");
        let rule = DeadlineRule::default();
        // Tuesday 2 November: Friday 29 (1), Thursday 28 October (2), summer time.
        assert_eq!(
            rule.deadline_for(d(2027, 11, 2), &cal),
            utc(d(2027, 10, 28), 8, 0, 0)
        );
        assert_open_until_ten(&rule, &cal, d(2027, 11, 2), d(2027, 10, 28));
        // Friday 5 November: Thursday 4 (1), Tuesday 2 November (2), winter time.
        assert_eq!(
            rule.deadline_for(d(2027, 11, 5), &cal),
            utc(d(2027, 11, 2), 9, 0, 0)
        );
        assert_open_until_ten(&rule, &cal, d(2027, 11, 5), d(2027, 11, 2));
    }

    #[test]
    fn deadline_after_the_holidays_is_before_them() {
        // Monday 2 November 2026, first day after Toussaint: 16 October (1), 15 October (2).
        let cal = france_2026_2027();
        let rule = DeadlineRule::default();
        assert_eq!(
            rule.deadline_for(d(2026, 11, 2), &cal),
            utc(d(2026, 10, 15), 8, 0, 0)
        );
    }

    #[test]
    fn deadline_of_the_rentree_is_at_the_end_of_august() {
        let cal = france_2026_2027();
        let rule = DeadlineRule::default();
        assert_eq!(
            rule.deadline_for(d(2026, 9, 1), &cal),
            utc(d(2026, 8, 28), 8, 0, 0)
        );
    }

    #[test]
    fn calendar_day_deadline_at_02_30_on_the_spring_forward_sunday_is_the_end_of_the_gap() {
        // Sunday 29 March 2026, 02:30 does not exist in Paris: the clock jumps from 02:00 CET
        // to 03:00 CEST, i.e. 01:00 UTC, which is the deadline.
        let cal = france("2025-2026");
        let rule = calendar_days(1, 2, 30);
        let monday = d(2026, 3, 30);
        assert_eq!(
            rule.local_deadline_for(monday, &cal),
            d(2026, 3, 29).and_time(hm(2, 30))
        );
        assert_eq!(
            rule.deadline_for(monday, &cal),
            utc(d(2026, 3, 29), 1, 0, 0)
        );
        assert!(!rule.is_locked(monday, &cal, paris(d(2026, 3, 29), 1, 59, 59)));
        assert!(rule.is_locked(monday, &cal, paris(d(2026, 3, 29), 3, 0, 0)));
    }

    #[test]
    fn calendar_day_deadline_at_10_00_on_the_spring_forward_sunday_is_in_summer_time() {
        let cal = france("2025-2026");
        let rule = calendar_days(1, 10, 0);
        assert_eq!(
            rule.deadline_for(d(2026, 3, 30), &cal),
            utc(d(2026, 3, 29), 8, 0, 0)
        );
        assert_open_until_ten(&rule, &cal, d(2026, 3, 30), d(2026, 3, 29));
    }

    #[test]
    fn calendar_day_deadline_at_02_30_on_the_fall_back_sunday_is_the_earlier_instant() {
        // Sunday 25 October 2026, 02:30 happens twice: 00:30 UTC (CEST) then 01:30 UTC (CET).
        let cal = without_school_holidays("2026-2027", "2026-09-01", "2027-07-03");
        let rule = calendar_days(1, 2, 30);
        let monday = d(2026, 10, 26);
        let deadline = rule.deadline_for(monday, &cal);
        assert_eq!(deadline, utc(d(2026, 10, 25), 0, 30, 0));
        assert!(!rule.is_locked(monday, &cal, deadline - Duration::seconds(1)));
        assert!(rule.is_locked(monday, &cal, deadline));
        assert!(
            rule.is_locked(monday, &cal, utc(d(2026, 10, 25), 1, 30, 0)),
            "second 02:30"
        );
    }

    #[test]
    fn calendar_day_deadline_at_10_00_on_the_fall_back_sunday_is_in_winter_time() {
        let cal = without_school_holidays("2026-2027", "2026-09-01", "2027-07-03");
        let rule = calendar_days(1, 10, 0);
        assert_eq!(
            rule.deadline_for(d(2026, 10, 26), &cal),
            utc(d(2026, 10, 25), 9, 0, 0)
        );
        assert_open_until_ten(&rule, &cal, d(2026, 10, 26), d(2026, 10, 25));
    }

    #[test]
    fn calendar_day_counting_ignores_weekends_and_holidays() {
        // Monday 2 November 2026, 3 calendar days before: Friday 30 October (in Toussaint).
        let cal = france_2026_2027();
        let rule = calendar_days(3, 18, 0);
        assert_eq!(
            rule.deadline_for(d(2026, 11, 2), &cal),
            utc(d(2026, 10, 30), 17, 0, 0)
        );
    }

    #[test]
    fn rule_with_zero_or_too_many_days_is_refused() {
        assert_eq!(
            DeadlineRule::new(0, hm(10, 0), DayCounting::ServiceDays),
            Err(InvalidDeadlineRule::DaysBeforeOutOfRange(0))
        );
        assert_eq!(
            DeadlineRule::new(61, hm(10, 0), DayCounting::Calendar),
            Err(InvalidDeadlineRule::DaysBeforeOutOfRange(61))
        );
    }

    #[test]
    fn rule_reads_from_config_toml() {
        #[derive(Deserialize)]
        struct Config {
            deadline: DeadlineRule,
        }
        let config: Config = toml::from_str(
            "deadline = { days_before = 1, at = \"18:30\", counting = \"calendar_days\" }",
        )
        .unwrap();
        assert_eq!(config.deadline, calendar_days(1, 18, 30));
        let bad = toml::from_str::<Config>(
            "deadline = { days_before = 0, at = \"10:00\", counting = \"service_days\" }",
        );
        assert!(bad.is_err());
        let bad = toml::from_str::<Config>(
            "deadline = { days_before = 2, at = \"25:00\", counting = \"service_days\" }",
        );
        assert!(bad.is_err());
        let bad = toml::from_str::<Config>(
            "deadline = { days_before = 2, at = \"10:00\", counting = \"service_days\", x = 1 }",
        );
        assert!(bad.is_err(), "unknown fields are refused");
    }

    #[test]
    fn rule_round_trips_through_serde() {
        let rule = DeadlineRule::default();
        let value = toml::Value::try_from(rule).unwrap();
        assert_eq!(value.get("at").and_then(|v| v.as_str()), Some("10:00"));
        assert_eq!(
            value.get("counting").and_then(|v| v.as_str()),
            Some("service_days")
        );
        assert_eq!(value.try_into::<DeadlineRule>().unwrap(), rule);
    }

    #[test]
    fn rule_reads_from_its_text_form() {
        assert_eq!(
            "2 service days before at 10:00".parse(),
            Ok(DeadlineRule::default())
        );
        assert_eq!(
            "1 calendar day before at 18:30".parse(),
            Ok(calendar_days(1, 18, 30))
        );
        for bad in [
            "2 service days at 10:00",
            "two service days before at 10:00",
            "2 working days before at 10:00",
            "2 service days before at 10h",
            "0 service days before at 10:00",
        ] {
            assert!(bad.parse::<DeadlineRule>().is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn paris_time_in_the_spring_gap_maps_to_the_end_of_the_gap() {
        for (h, m, s) in [(2, 0, 0), (2, 0, 1), (2, 30, 0), (2, 59, 59)] {
            let local = d(2027, 3, 28).and_hms_opt(h, m, s).unwrap();
            assert_eq!(paris_to_utc(local), utc(d(2027, 3, 28), 1, 0, 0), "{local}");
        }
        let just_before = d(2027, 3, 28).and_hms_opt(1, 59, 59).unwrap();
        assert_eq!(paris_to_utc(just_before), utc(d(2027, 3, 28), 0, 59, 59));
    }

    fn arb_rule() -> impl Strategy<Value = DeadlineRule> {
        (1..=10u32, 0..24u32, 0..60u32, 0..60u32, any::<bool>()).prop_map(|(n, h, m, s, cal)| {
            let counting = if cal {
                DayCounting::Calendar
            } else {
                DayCounting::ServiceDays
            };
            DeadlineRule::new(n, NaiveTime::from_hms_opt(h, m, s).unwrap(), counting).unwrap()
        })
    }

    /// A day of school year 2026-2027 or of the surrounding summers.
    fn arb_day() -> impl Strategy<Value = NaiveDate> {
        (0..440u64).prop_map(|i| d(2026, 7, 1) + Days::new(i))
    }

    proptest! {
        #[test]
        fn deadline_is_strictly_before_the_service_day_starts_in_paris(
            rule in arb_rule(), day in arb_day(),
        ) {
            let cal = france_2026_2027();
            let start = paris_to_utc(day.and_hms_opt(0, 0, 0).unwrap());
            prop_assert!(rule.deadline_for(day, &cal) < start);
        }

        #[test]
        fn is_locked_is_monotonic_in_now(
            rule in arb_rule(), day in arb_day(),
            a in -40_000_000i64..40_000_000, b in -40_000_000i64..40_000_000,
        ) {
            let cal = france_2026_2027();
            let base = utc(d(2026, 9, 1), 0, 0, 0);
            let (early, late) = (base + Duration::seconds(a.min(b)), base + Duration::seconds(a.max(b)));
            prop_assert!(!rule.is_locked(day, &cal, early) || rule.is_locked(day, &cal, late));
        }

        #[test]
        fn paris_to_utc_gives_the_first_instant_showing_that_time_or_later(
            days in 0..(20 * 366i64), secs in 0..86_400u32,
        ) {
            let date = d(2020, 1, 1) + Duration::days(days);
            let local = date.and_time(NaiveTime::from_num_seconds_from_midnight_opt(secs, 0).unwrap());
            let instant = paris_to_utc(local);
            let shown = instant.with_timezone(&Paris).naive_local();
            let shown_just_before = (instant - Duration::seconds(1)).with_timezone(&Paris).naive_local();
            prop_assert!(shown >= local);
            prop_assert!(shown_just_before < local);
        }
    }
}
