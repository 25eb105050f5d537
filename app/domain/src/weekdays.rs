//! Sets of weekdays, as used for a school's service days, a child's usual days and weekly
//! booking patterns.
//!
//! The wire form is a list of lowercase English abbreviations (`["mon","tue","thu","fri"]`):
//! short, unambiguous, and independent of the user's language. Unknown names and duplicates
//! are rejected rather than ignored, because both are almost always a client bug.

use std::fmt;
use std::str::FromStr;

use chrono::Weekday;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::ser::{SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};

/// All weekdays, Monday first, in the order sets are listed.
const ALL: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

/// A set of weekdays (a 7-bit mask, Monday = bit 0).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct WeekdaySet(u8);

/// A weekday name that is not one of `mon`, `tue`, `wed`, `thu`, `fri`, `sat`, `sun`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown weekday `{0}` (expected one of mon, tue, wed, thu, fri, sat, sun)")]
pub struct UnknownWeekday(pub String);

/// Why a list of weekday names is not a valid set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WeekdaySetError {
    /// A name is not a weekday.
    #[error(transparent)]
    Unknown(#[from] UnknownWeekday),
    /// A weekday appears twice.
    #[error("weekday `{0}` is listed twice")]
    Duplicate(&'static str),
}

/// The wire name of a weekday (`"mon"` … `"sun"`).
pub fn weekday_code(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "mon",
        Weekday::Tue => "tue",
        Weekday::Wed => "wed",
        Weekday::Thu => "thu",
        Weekday::Fri => "fri",
        Weekday::Sat => "sat",
        Weekday::Sun => "sun",
    }
}

/// Parses a wire weekday name (`"mon"` … `"sun"`, exactly, lowercase).
pub fn parse_weekday(name: &str) -> Result<Weekday, UnknownWeekday> {
    ALL.into_iter()
        .find(|d| weekday_code(*d) == name)
        .ok_or_else(|| UnknownWeekday(name.to_owned()))
}

fn bit(day: Weekday) -> u8 {
    1 << day.num_days_from_monday()
}

impl WeekdaySet {
    /// The empty set.
    pub const EMPTY: WeekdaySet = WeekdaySet(0);

    /// The default canteen week in French primary schools: Monday, Tuesday, Thursday, Friday
    /// (no school on Wednesday in most communes).
    pub fn default_service() -> Self {
        Self::from_days([Weekday::Mon, Weekday::Tue, Weekday::Thu, Weekday::Fri])
    }

    /// Monday to Friday.
    pub fn monday_to_friday() -> Self {
        Self::from_days([
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
        ])
    }

    /// The set of the given days (duplicates are harmless here: this is for code, not input).
    pub fn from_days(days: impl IntoIterator<Item = Weekday>) -> Self {
        WeekdaySet(days.into_iter().fold(0, |mask, d| mask | bit(d)))
    }

    /// Parses a list of wire names, rejecting unknown names and duplicates.
    pub fn parse_list<S: AsRef<str>>(
        names: impl IntoIterator<Item = S>,
    ) -> Result<Self, WeekdaySetError> {
        let mut set = WeekdaySet::EMPTY;
        for name in names {
            let day = parse_weekday(name.as_ref())?;
            if set.contains(day) {
                return Err(WeekdaySetError::Duplicate(weekday_code(day)));
            }
            set = set.with(day);
        }
        Ok(set)
    }

    /// Whether `day` is in the set.
    pub fn contains(self, day: Weekday) -> bool {
        self.0 & bit(day) != 0
    }

    /// This set plus `day`.
    #[must_use]
    pub fn with(self, day: Weekday) -> Self {
        WeekdaySet(self.0 | bit(day))
    }

    /// Whether the set has no day.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Number of days in the set.
    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// Whether every day of `self` is in `other`.
    pub fn is_subset_of(self, other: WeekdaySet) -> bool {
        self.0 & !other.0 == 0
    }

    /// The days of `self` that are not in `other`.
    #[must_use]
    pub fn difference(self, other: WeekdaySet) -> Self {
        WeekdaySet(self.0 & !other.0)
    }

    /// The days in the set, Monday first.
    pub fn iter(self) -> impl Iterator<Item = Weekday> {
        ALL.into_iter().filter(move |d| self.contains(*d))
    }
}

impl fmt::Debug for WeekdaySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set()
            .entries(self.iter().map(weekday_code))
            .finish()
    }
}

/// Comma-separated wire names: `mon,tue,thu,fri` (handy in query strings and config).
impl fmt::Display for WeekdaySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(weekday_code).collect();
        f.write_str(&names.join(","))
    }
}

/// Parses the comma-separated form (`"mon,tue,thu,fri"`; an empty string is the empty set).
impl FromStr for WeekdaySet {
    type Err = WeekdaySetError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.trim().is_empty() {
            return Ok(WeekdaySet::EMPTY);
        }
        WeekdaySet::parse_list(s.split(',').map(str::trim))
    }
}

impl Serialize for WeekdaySet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.len()))?;
        for day in self.iter() {
            seq.serialize_element(weekday_code(day))?;
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for WeekdaySet {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ListVisitor;

        impl<'de> Visitor<'de> for ListVisitor {
            type Value = WeekdaySet;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of weekdays like [\"mon\", \"tue\", \"thu\", \"fri\"]")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<WeekdaySet, A::Error> {
                let mut names: Vec<String> = Vec::new();
                while let Some(name) = seq.next_element::<String>()? {
                    // Seven distinct days at most: stop early on absurd inputs.
                    if names.len() >= 7 {
                        return Err(de::Error::invalid_length(8, &"at most 7 weekdays"));
                    }
                    names.push(name);
                }
                WeekdaySet::parse_list(&names).map_err(de::Error::custom)
            }
        }

        deserializer.deserialize_seq(ListVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_service_week_is_monday_tuesday_thursday_friday() {
        let set = WeekdaySet::default_service();
        assert_eq!(set.to_string(), "mon,tue,thu,fri");
        assert!(!set.contains(Weekday::Wed));
    }

    #[test]
    fn weekday_list_parses_from_wire_names() {
        let set: WeekdaySet =
            toml::Value::Array(vec!["mon".into(), "tue".into(), "thu".into(), "fri".into()])
                .try_into()
                .unwrap();
        assert_eq!(set, WeekdaySet::default_service());
    }

    #[test]
    fn unknown_weekday_name_is_rejected() {
        assert_eq!(
            WeekdaySet::parse_list(["mon", "lundi"]),
            Err(WeekdaySetError::Unknown(UnknownWeekday("lundi".into())))
        );
        assert!("Mon".parse::<WeekdaySet>().is_err(), "names are lowercase");
    }

    #[test]
    fn duplicate_weekday_is_rejected() {
        assert_eq!(
            WeekdaySet::parse_list(["mon", "tue", "mon"]),
            Err(WeekdaySetError::Duplicate("mon"))
        );
    }

    #[test]
    fn weekday_set_round_trips_through_its_text_form() {
        for mask in 0..128u8 {
            let set = WeekdaySet(mask);
            assert_eq!(set.to_string().parse::<WeekdaySet>(), Ok(set));
        }
    }

    #[test]
    fn subset_and_difference_follow_set_rules() {
        let service = WeekdaySet::default_service();
        let usual = WeekdaySet::from_days([Weekday::Mon, Weekday::Thu]);
        assert!(usual.is_subset_of(service));
        let with_wed = usual.with(Weekday::Wed);
        assert!(!with_wed.is_subset_of(service));
        assert_eq!(
            with_wed.difference(service),
            WeekdaySet::from_days([Weekday::Wed])
        );
    }
}
