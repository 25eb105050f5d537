//! Value types describing a child: class level and diet.
//!
//! Each has one stable code used on the wire, in the database and in forms (`CE1`,
//! `no_pork`), parsed strictly, and a French label for pages.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A code that is not one of the expected values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} `{value}` (expected one of {expected})")]
pub struct UnknownCode {
    /// What was being parsed ("class level", "diet").
    pub kind: &'static str,
    /// The value received.
    pub value: String,
    /// The accepted codes, comma-separated.
    pub expected: &'static str,
}

/// The class of a child in a French école maternelle or élémentaire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ClassLevel {
    /// Petite section (maternelle, about 3 years old).
    Ps,
    /// Moyenne section.
    Ms,
    /// Grande section.
    Gs,
    /// Cours préparatoire (first year of élémentaire).
    Cp,
    /// Cours élémentaire 1re année.
    Ce1,
    /// Cours élémentaire 2e année.
    Ce2,
    /// Cours moyen 1re année.
    Cm1,
    /// Cours moyen 2e année.
    Cm2,
}

impl ClassLevel {
    /// Every level, youngest first.
    pub const ALL: [ClassLevel; 8] = [
        ClassLevel::Ps,
        ClassLevel::Ms,
        ClassLevel::Gs,
        ClassLevel::Cp,
        ClassLevel::Ce1,
        ClassLevel::Ce2,
        ClassLevel::Cm1,
        ClassLevel::Cm2,
    ];

    /// The usual abbreviation, which is also the wire code (`"CE1"`).
    pub fn code(self) -> &'static str {
        match self {
            ClassLevel::Ps => "PS",
            ClassLevel::Ms => "MS",
            ClassLevel::Gs => "GS",
            ClassLevel::Cp => "CP",
            ClassLevel::Ce1 => "CE1",
            ClassLevel::Ce2 => "CE2",
            ClassLevel::Cm1 => "CM1",
            ClassLevel::Cm2 => "CM2",
        }
    }

    /// Whether the level belongs to the école maternelle (PS, MS, GS), which communes often
    /// price or staff differently.
    pub fn is_maternelle(self) -> bool {
        matches!(self, ClassLevel::Ps | ClassLevel::Ms | ClassLevel::Gs)
    }
}

impl fmt::Display for ClassLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for ClassLevel {
    type Err = UnknownCode;

    /// Parses the code exactly as written by [`code`](Self::code).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ClassLevel::ALL
            .into_iter()
            .find(|l| l.code() == s)
            .ok_or_else(|| UnknownCode {
                kind: "class level",
                value: s.to_owned(),
                expected: "PS, MS, GS, CP, CE1, CE2, CM1, CM2",
            })
    }
}

/// The menu a child eats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Diet {
    /// The regular menu.
    #[default]
    Standard,
    /// No meat nor fish.
    Vegetarian,
    /// Pork replaced.
    NoPork,
}

impl Diet {
    /// Every diet.
    pub const ALL: [Diet; 3] = [Diet::Standard, Diet::Vegetarian, Diet::NoPork];

    /// The wire code (`"no_pork"`).
    pub fn code(self) -> &'static str {
        match self {
            Diet::Standard => "standard",
            Diet::Vegetarian => "vegetarian",
            Diet::NoPork => "no_pork",
        }
    }
}

impl fmt::Display for Diet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Diet {
    type Err = UnknownCode;

    /// Parses the code exactly as written by [`code`](Self::code).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Diet::ALL
            .into_iter()
            .find(|d| d.code() == s)
            .ok_or_else(|| UnknownCode {
                kind: "diet",
                value: s.to_owned(),
                expected: "standard, vegetarian, no_pork",
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_level_codes_round_trip_through_text_and_serde() {
        for level in ClassLevel::ALL {
            assert_eq!(level.code().parse(), Ok(level));
            let value = toml::Value::try_from(level).unwrap();
            assert_eq!(value.as_str(), Some(level.code()));
            assert_eq!(value.try_into::<ClassLevel>().unwrap(), level);
        }
    }

    #[test]
    fn unknown_or_lowercase_class_level_is_refused() {
        for bad in ["ce1", "CE3", "6e", ""] {
            let err = bad.parse::<ClassLevel>().unwrap_err();
            assert_eq!(err.value, bad);
        }
        assert!(
            toml::Value::String("Ce1".into())
                .try_into::<ClassLevel>()
                .is_err()
        );
    }

    #[test]
    fn class_levels_are_ordered_youngest_first() {
        assert!(ClassLevel::Ps < ClassLevel::Cm2);
        assert!(ClassLevel::Gs.is_maternelle());
        assert!(!ClassLevel::Cp.is_maternelle());
    }

    #[test]
    fn diet_codes_round_trip_through_text_and_serde() {
        for diet in Diet::ALL {
            assert_eq!(diet.code().parse(), Ok(diet));
            let value = toml::Value::try_from(diet).unwrap();
            assert_eq!(value.as_str(), Some(diet.code()));
            assert_eq!(value.try_into::<Diet>().unwrap(), diet);
        }
        assert_eq!(Diet::default(), Diet::Standard);
    }

    #[test]
    fn unknown_diet_is_refused() {
        let err = "halal".parse::<Diet>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown diet `halal` (expected one of standard, vegetarian, no_pork)"
        );
        assert!("NoPork".parse::<Diet>().is_err());
    }
}
