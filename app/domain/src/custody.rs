//! Shared custody: a child of separated parents belongs to two households, each with its own
//! guardians, login and QF. The arrangement says which household books and pays each day:
//!
//! - **alternate weeks**: by the parity of the ISO week number, as judgements write it
//!   ("semaines paires chez le père"). ISO years with a week 53 give two odd weeks in a row
//!   (53, then 1), exactly as the calendar the parents read;
//! - **ranges**: explicit spans of days given to the second household; every other day is the
//!   first household's;
//! - **shares**: both households pay a fixed share of every meal (a judgement's 50/50). The
//!   first household's share is `first_basis_points / 10 000` of the price **rounded to the
//!   nearest cent, halves up**, and the second pays the rest, so the shares always sum to the
//!   meal's price to the cent.
//!
//! "First" is the child's own household (`child.household_id`), "second" the other one.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::money::Cents;
use crate::tariff::div_round_half_up;

pub const FULL_SHARE: u32 = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    First,
    Second,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range {
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "arrangement", rename_all = "snake_case")]
pub enum Arrangement {
    AlternateWeeks {
        first_has_even_weeks: bool,
    },
    /// The days of these ranges are the second household's.
    Ranges {
        second: Vec<Range>,
    },
    Shares {
        first_basis_points: u32,
    },
}

/// Who pays a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payers {
    One(Side),
    Split { first_basis_points: u32 },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CustodyError {
    #[error("a share is between 1 and 9,999 basis points")]
    ShareOutOfRange,
    #[error("a range ends before it starts")]
    RangeReversed,
    #[error("two ranges overlap")]
    RangesOverlap,
}

impl Arrangement {
    pub fn validate(&self) -> Result<(), CustodyError> {
        match self {
            Arrangement::AlternateWeeks { .. } => Ok(()),
            Arrangement::Shares { first_basis_points } => {
                if (1..FULL_SHARE).contains(first_basis_points) {
                    Ok(())
                } else {
                    Err(CustodyError::ShareOutOfRange)
                }
            }
            Arrangement::Ranges { second } => {
                if second.iter().any(|r| r.last_day < r.first_day) {
                    return Err(CustodyError::RangeReversed);
                }
                let mut sorted = second.clone();
                sorted.sort_by_key(|r| r.first_day);
                if sorted.windows(2).any(|w| w[1].first_day <= w[0].last_day) {
                    return Err(CustodyError::RangesOverlap);
                }
                Ok(())
            }
        }
    }

    pub fn payers(&self, date: NaiveDate) -> Payers {
        match self {
            Arrangement::AlternateWeeks {
                first_has_even_weeks,
            } => {
                let even = date.iso_week().week().is_multiple_of(2);
                Payers::One(if even == *first_has_even_weeks {
                    Side::First
                } else {
                    Side::Second
                })
            }
            Arrangement::Ranges { second } => Payers::One(
                if second
                    .iter()
                    .any(|r| (r.first_day..=r.last_day).contains(&date))
                {
                    Side::Second
                } else {
                    Side::First
                },
            ),
            Arrangement::Shares { first_basis_points } => Payers::Split {
                first_basis_points: *first_basis_points,
            },
        }
    }

    /// Whether a household on `side` books that day: the day's household alone, or either of
    /// them when they share every meal.
    pub fn books(&self, side: Side, date: NaiveDate) -> bool {
        match self.payers(date) {
            Payers::One(payer) => payer == side,
            Payers::Split { .. } => true,
        }
    }
}

/// Splits an amount (negative for a credit) into the first and second households' shares,
/// which sum to it exactly.
pub fn split(amount: Cents, first_basis_points: u32) -> (Cents, Cents) {
    let magnitude = amount.get().unsigned_abs();
    let first = div_round_half_up(
        magnitude * u64::from(first_basis_points),
        u64::from(FULL_SHARE),
    ) as i64;
    let first = Cents(if amount.get() < 0 { -first } else { first });
    (first, amount - first)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn alternate_weeks_follow_the_iso_week_parity() {
        let a = Arrangement::AlternateWeeks {
            first_has_even_weeks: true,
        };
        // 2026-11-30 is a Monday of ISO week 49 (odd), 2026-12-07 of week 50 (even).
        assert_eq!(a.payers(date("2026-11-30")), Payers::One(Side::Second));
        assert_eq!(a.payers(date("2026-12-04")), Payers::One(Side::Second));
        assert_eq!(a.payers(date("2026-12-07")), Payers::One(Side::First));
        assert!(a.books(Side::First, date("2026-12-08")));
        assert!(!a.books(Side::Second, date("2026-12-08")));
        // 2026 has a week 53 (28 December–3 January), followed by week 1: two odd weeks.
        assert_eq!(a.payers(date("2026-12-28")), Payers::One(Side::Second));
        assert_eq!(a.payers(date("2027-01-04")), Payers::One(Side::Second));
    }

    #[test]
    fn ranges_give_their_days_to_the_second_household() {
        let a = Arrangement::Ranges {
            second: vec![Range {
                first_day: date("2026-11-02"),
                last_day: date("2026-11-13"),
            }],
        };
        assert_eq!(a.payers(date("2026-11-01")), Payers::One(Side::First));
        assert_eq!(a.payers(date("2026-11-02")), Payers::One(Side::Second));
        assert_eq!(a.payers(date("2026-11-13")), Payers::One(Side::Second));
        assert_eq!(a.payers(date("2026-11-16")), Payers::One(Side::First));
        assert_eq!(a.validate(), Ok(()));
        let overlapping = Arrangement::Ranges {
            second: vec![
                Range {
                    first_day: date("2026-11-02"),
                    last_day: date("2026-11-13"),
                },
                Range {
                    first_day: date("2026-11-13"),
                    last_day: date("2026-11-20"),
                },
            ],
        };
        assert_eq!(overlapping.validate(), Err(CustodyError::RangesOverlap));
    }

    #[test]
    fn shares_round_the_first_half_up_and_give_the_rest_to_the_second() {
        assert_eq!(split(Cents(315), 5_000), (Cents(158), Cents(157)));
        assert_eq!(split(Cents(-315), 5_000), (Cents(-158), Cents(-157)));
        assert_eq!(split(Cents(300), 3_333), (Cents(100), Cents(200)));
        assert_eq!(
            Arrangement::Shares {
                first_basis_points: 10_000
            }
            .validate(),
            Err(CustodyError::ShareOutOfRange)
        );
    }

    proptest! {
        #[test]
        fn shares_always_sum_to_the_price(amount in -100_000i64..100_000, bp in 1u32..10_000) {
            let (first, second) = split(Cents(amount), bp);
            prop_assert_eq!(first + second, Cents(amount));
            prop_assert!(first.get().signum() * second.get().signum() >= 0);
        }
    }
}
