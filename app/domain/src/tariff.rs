//! What a meal costs a household: the commune's tariff for a school year, and the price of one
//! meal with the reason for it, so that every invoice line can say why it costs what it does.
//!
//! A tariff prices meals one of two ways:
//! - **brackets** of quotient familial (QF): contiguous ranges `[qf_min, qf_max)` starting at 0,
//!   the last one open-ended, each with a price per meal;
//! - an **effort rate**: price = QF × rate, bounded by a minimum and a maximum. The rate is held
//!   in millionths of a euro per QF euro (`4_500` = 0.45 % of the QF, so QF 800 € → 3,60 €), and
//!   the product is **rounded to the nearest cent, halves up** (QF 777 at 0.45 % = 349.65 cents
//!   → 350), then bounded.
//!
//! Whichever the mode, three prices replace it: the PAI packed-meal price (a child with a
//! projet d'accueil individualisé brings its own meal), the non-resident price (households
//! living outside the commune), and the adult price. A household with no QF on file pays the top
//! of the scale: the last bracket, or the effort rate's maximum. Amounts are integer cents.

use serde::{Deserialize, Serialize};

use crate::money::Cents;

/// The largest price a tariff may state for one meal (100 €): a typing slip, not a price.
pub const MAX_MEAL_CENTS: i64 = 10_000;

/// The longest carence: a commune charging more than a month of illness is a slip.
pub const MAX_CARENCE_DAYS: u32 = 30;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bracket {
    pub qf_min: u32,
    /// Exclusive; `None` for the last bracket.
    pub qf_max: Option<u32>,
    pub meal: Cents,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum Pricing {
    Brackets {
        brackets: Vec<Bracket>,
    },
    EffortRate {
        /// Millionths of a euro per euro of QF.
        rate_millionths: u32,
        min: Cents,
        max: Cents,
    },
}

/// How a present child who was not booked pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum UnbookedRule {
    /// The meal's price plus a fixed amount.
    Surcharge { cents: Cents },
    /// The meal's price times `percent` / 100, rounded to the nearest cent, halves up.
    Multiplier { percent: u32 },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tariff {
    pub pricing: Pricing,
    pub pai: Cents,
    pub non_resident: Cents,
    pub adult: Cents,
    pub unbooked: UnbookedRule,
    /// Days of an accepted illness that are still charged, counted from its first service day.
    pub carence_days: u32,
}

/// What is wrong with a tariff an agent submitted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TariffError {
    #[error("a tariff needs at least one bracket")]
    NoBracket,
    #[error("the first bracket must start at QF 0, not {0}")]
    FirstBracketNotAtZero(u32),
    #[error("bracket {index} starts at {found} but the previous one ends at {expected}")]
    Gap {
        index: usize,
        expected: u32,
        found: u32,
    },
    #[error("bracket {index} is empty or reversed")]
    EmptyBracket { index: usize },
    #[error("only the last bracket may be open-ended (bracket {index} is not last)")]
    OpenBracketNotLast { index: usize },
    #[error("the last bracket must be open-ended")]
    LastBracketClosed,
    #[error("an effort rate must be positive")]
    ZeroRate,
    #[error("the minimum price is above the maximum")]
    MinAboveMax,
    #[error("a price must be between 0 and {MAX_MEAL_CENTS} cents")]
    PriceOutOfRange,
    #[error("a multiplier must be between 100 and 1000 percent")]
    MultiplierOutOfRange,
    #[error("the carence is at most {MAX_CARENCE_DAYS} days")]
    CarenceTooLong,
}

/// Why a meal costs what it costs: stored with each invoice line and worded at the edge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "basis", rename_all = "snake_case")]
pub enum PriceBasis {
    /// The QF bracket the household's QF fell in.
    Bracket {
        qf: u32,
        qf_min: u32,
        qf_max: Option<u32>,
    },
    /// No QF on file: the last bracket.
    TopBracketNoQf {
        qf_min: u32,
    },
    /// QF × rate, rounded, then bounded.
    EffortRate {
        qf: u32,
        rate_millionths: u32,
        /// The rounded product before the bounds.
        computed: Cents,
        bounded: Bound,
    },
    /// No QF on file: the effort rate's maximum.
    EffortMaxNoQf,
    Pai,
    NonResident,
    Adult,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bound {
    None,
    Minimum,
    Maximum,
}

/// A meal's price and its reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Price {
    pub cents: Cents,
    pub basis: PriceBasis,
}

/// Who eats, as far as the price is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Eater {
    /// The household's QF on the day, in euros.
    pub qf: Option<u32>,
    pub resident: bool,
    pub pai: bool,
}

fn check_price(cents: Cents) -> Result<(), TariffError> {
    if (0..=MAX_MEAL_CENTS).contains(&cents.get()) {
        Ok(())
    } else {
        Err(TariffError::PriceOutOfRange)
    }
}

/// Rounds `numerator / denominator` to the nearest integer, halves up; both non-negative.
pub fn div_round_half_up(numerator: u64, denominator: u64) -> u64 {
    (numerator + denominator / 2) / denominator
}

impl Tariff {
    /// Refuses gaps, overlaps, reversed or open brackets in the middle, prices out of range
    /// and inconsistent bounds: a tariff that saves is one every QF has exactly one price in.
    pub fn validate(&self) -> Result<(), TariffError> {
        match &self.pricing {
            Pricing::Brackets { brackets } => {
                let first = brackets.first().ok_or(TariffError::NoBracket)?;
                if first.qf_min != 0 {
                    return Err(TariffError::FirstBracketNotAtZero(first.qf_min));
                }
                for (index, bracket) in brackets.iter().enumerate() {
                    check_price(bracket.meal)?;
                    let last = index + 1 == brackets.len();
                    match bracket.qf_max {
                        Some(max) if max <= bracket.qf_min => {
                            return Err(TariffError::EmptyBracket { index });
                        }
                        Some(_) if last => return Err(TariffError::LastBracketClosed),
                        None if !last => return Err(TariffError::OpenBracketNotLast { index }),
                        _ => {}
                    }
                    if let (Some(expected), Some(next)) = (bracket.qf_max, brackets.get(index + 1))
                        && next.qf_min != expected
                    {
                        return Err(TariffError::Gap {
                            index: index + 1,
                            expected,
                            found: next.qf_min,
                        });
                    }
                }
            }
            Pricing::EffortRate {
                rate_millionths,
                min,
                max,
            } => {
                if *rate_millionths == 0 {
                    return Err(TariffError::ZeroRate);
                }
                check_price(*min)?;
                check_price(*max)?;
                if min > max {
                    return Err(TariffError::MinAboveMax);
                }
            }
        }
        for price in [self.pai, self.non_resident, self.adult] {
            check_price(price)?;
        }
        match self.unbooked {
            UnbookedRule::Surcharge { cents } => check_price(cents)?,
            UnbookedRule::Multiplier { percent } => {
                if !(100..=1000).contains(&percent) {
                    return Err(TariffError::MultiplierOutOfRange);
                }
            }
        }
        if self.carence_days > MAX_CARENCE_DAYS {
            return Err(TariffError::CarenceTooLong);
        }
        Ok(())
    }

    /// The price of one child's meal. The PAI price comes first (the child brings its meal
    /// whoever the family is), then the non-resident price, then the QF scale.
    pub fn child_meal(&self, eater: Eater) -> Price {
        if eater.pai {
            return Price {
                cents: self.pai,
                basis: PriceBasis::Pai,
            };
        }
        if !eater.resident {
            return Price {
                cents: self.non_resident,
                basis: PriceBasis::NonResident,
            };
        }
        match &self.pricing {
            Pricing::Brackets { brackets } => {
                let top = brackets.last().expect("a validated tariff has a bracket");
                let Some(qf) = eater.qf else {
                    return Price {
                        cents: top.meal,
                        basis: PriceBasis::TopBracketNoQf { qf_min: top.qf_min },
                    };
                };
                let bracket = brackets
                    .iter()
                    .find(|b| qf >= b.qf_min && b.qf_max.is_none_or(|max| qf < max))
                    .unwrap_or(top);
                Price {
                    cents: bracket.meal,
                    basis: PriceBasis::Bracket {
                        qf,
                        qf_min: bracket.qf_min,
                        qf_max: bracket.qf_max,
                    },
                }
            }
            Pricing::EffortRate {
                rate_millionths,
                min,
                max,
            } => {
                let Some(qf) = eater.qf else {
                    return Price {
                        cents: *max,
                        basis: PriceBasis::EffortMaxNoQf,
                    };
                };
                // cents = QF € × rate/10⁶ € × 100 cents = QF × rate / 10⁴.
                let computed = Cents(div_round_half_up(
                    u64::from(qf) * u64::from(*rate_millionths),
                    10_000,
                ) as i64);
                let (cents, bounded) = if computed < *min {
                    (*min, Bound::Minimum)
                } else if computed > *max {
                    (*max, Bound::Maximum)
                } else {
                    (computed, Bound::None)
                };
                Price {
                    cents,
                    basis: PriceBasis::EffortRate {
                        qf,
                        rate_millionths: *rate_millionths,
                        computed,
                        bounded,
                    },
                }
            }
        }
    }

    pub fn adult_meal(&self) -> Price {
        Price {
            cents: self.adult,
            basis: PriceBasis::Adult,
        }
    }

    /// A present child's meal that was not booked: the meal's price with the unbooked rule.
    pub fn unbooked(&self, meal: Cents) -> Cents {
        match self.unbooked {
            UnbookedRule::Surcharge { cents } => meal + cents,
            UnbookedRule::Multiplier { percent } => {
                Cents(div_round_half_up(meal.get().max(0) as u64 * u64::from(percent), 100) as i64)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn brackets() -> Tariff {
        Tariff {
            pricing: Pricing::Brackets {
                brackets: vec![
                    Bracket {
                        qf_min: 0,
                        qf_max: Some(500),
                        meal: Cents(150),
                    },
                    Bracket {
                        qf_min: 500,
                        qf_max: Some(900),
                        meal: Cents(290),
                    },
                    Bracket {
                        qf_min: 900,
                        qf_max: None,
                        meal: Cents(450),
                    },
                ],
            },
            pai: Cents(100),
            non_resident: Cents(600),
            adult: Cents(700),
            unbooked: UnbookedRule::Surcharge { cents: Cents(100) },
            carence_days: 1,
        }
    }

    fn effort(min: i64, max: i64) -> Tariff {
        Tariff {
            pricing: Pricing::EffortRate {
                rate_millionths: 4_500,
                min: Cents(min),
                max: Cents(max),
            },
            ..brackets()
        }
    }

    fn resident(qf: Option<u32>) -> Eater {
        Eater {
            qf,
            resident: true,
            pai: false,
        }
    }

    #[test]
    fn each_bracket_prices_its_own_range_and_the_bound_belongs_to_the_next() {
        let t = brackets();
        assert_eq!(t.child_meal(resident(Some(0))).cents, Cents(150));
        assert_eq!(t.child_meal(resident(Some(499))).cents, Cents(150));
        assert_eq!(t.child_meal(resident(Some(500))).cents, Cents(290));
        assert_eq!(t.child_meal(resident(Some(899))).cents, Cents(290));
        assert_eq!(t.child_meal(resident(Some(900))).cents, Cents(450));
        assert_eq!(
            t.child_meal(resident(Some(5000))).basis,
            PriceBasis::Bracket {
                qf: 5000,
                qf_min: 900,
                qf_max: None
            }
        );
    }

    #[test]
    fn no_qf_on_file_pays_the_top_of_the_scale() {
        assert_eq!(
            brackets().child_meal(resident(None)),
            Price {
                cents: Cents(450),
                basis: PriceBasis::TopBracketNoQf { qf_min: 900 }
            }
        );
        assert_eq!(
            effort(100, 500).child_meal(resident(None)).cents,
            Cents(500)
        );
    }

    #[test]
    fn the_effort_rate_rounds_halves_up_then_applies_its_bounds() {
        let t = effort(100, 500);
        // 800 × 0.45 % = 3.60 €.
        assert_eq!(t.child_meal(resident(Some(800))).cents, Cents(360));
        // 777 × 0.45 % = 349.65 cents → 350; 701 × 0.45 % = 315.45 → 315.
        assert_eq!(t.child_meal(resident(Some(777))).cents, Cents(350));
        assert_eq!(t.child_meal(resident(Some(701))).cents, Cents(315));
        // 10 × 0.45 % = 4.5 cents → 5, under the minimum.
        let low = t.child_meal(resident(Some(10)));
        assert_eq!(low.cents, Cents(100));
        assert!(matches!(
            low.basis,
            PriceBasis::EffortRate {
                computed: Cents(5),
                bounded: Bound::Minimum,
                ..
            }
        ));
        let high = t.child_meal(resident(Some(2000)));
        assert_eq!(high.cents, Cents(500));
        assert!(matches!(
            high.basis,
            PriceBasis::EffortRate {
                computed: Cents(900),
                bounded: Bound::Maximum,
                ..
            }
        ));
    }

    #[test]
    fn pai_then_non_resident_replace_the_scale() {
        let t = brackets();
        let pai = Eater {
            qf: Some(100),
            resident: false,
            pai: true,
        };
        assert_eq!(t.child_meal(pai).cents, Cents(100));
        let outside = Eater {
            qf: Some(100),
            resident: false,
            pai: false,
        };
        assert_eq!(t.child_meal(outside).basis, PriceBasis::NonResident);
        assert_eq!(t.adult_meal().cents, Cents(700));
    }

    #[test]
    fn an_unbooked_meal_pays_the_surcharge_or_the_multiplier() {
        let mut t = brackets();
        assert_eq!(t.unbooked(Cents(290)), Cents(390));
        t.unbooked = UnbookedRule::Multiplier { percent: 150 };
        assert_eq!(t.unbooked(Cents(290)), Cents(435));
        // 315 × 1.5 = 472.5 → 473.
        assert_eq!(t.unbooked(Cents(315)), Cents(473));
    }

    #[test]
    fn brackets_with_a_gap_an_overlap_or_a_closed_end_are_refused() {
        let mut t = brackets();
        assert_eq!(t.validate(), Ok(()));
        let Pricing::Brackets { brackets } = &mut t.pricing else {
            unreachable!()
        };
        brackets[1].qf_min = 510;
        assert_eq!(
            t.validate(),
            Err(TariffError::Gap {
                index: 1,
                expected: 500,
                found: 510
            })
        );
        let mut t = brackets_with(|b| b[1].qf_min = 450);
        assert!(matches!(t.validate(), Err(TariffError::Gap { .. })));
        t = brackets_with(|b| b[2].qf_max = Some(2000));
        assert_eq!(t.validate(), Err(TariffError::LastBracketClosed));
        t = brackets_with(|b| b[0].qf_min = 10);
        assert_eq!(t.validate(), Err(TariffError::FirstBracketNotAtZero(10)));
        t = brackets_with(|b| b[1].qf_max = None);
        assert_eq!(
            t.validate(),
            Err(TariffError::OpenBracketNotLast { index: 1 })
        );
        t = brackets_with(|b| b[1].qf_max = Some(500));
        assert_eq!(t.validate(), Err(TariffError::EmptyBracket { index: 1 }));
        t = brackets_with(|b| b.clear());
        assert_eq!(t.validate(), Err(TariffError::NoBracket));
        t = brackets_with(|b| b[0].meal = Cents(-1));
        assert_eq!(t.validate(), Err(TariffError::PriceOutOfRange));
    }

    fn brackets_with(change: impl FnOnce(&mut Vec<Bracket>)) -> Tariff {
        let mut t = brackets();
        let Pricing::Brackets { brackets } = &mut t.pricing else {
            unreachable!()
        };
        change(brackets);
        t
    }

    #[test]
    fn effort_bounds_multiplier_and_carence_are_checked() {
        assert_eq!(effort(500, 100).validate(), Err(TariffError::MinAboveMax));
        let mut t = effort(100, 500);
        assert_eq!(t.validate(), Ok(()));
        t.unbooked = UnbookedRule::Multiplier { percent: 90 };
        assert_eq!(t.validate(), Err(TariffError::MultiplierOutOfRange));
        let mut t = effort(100, 500);
        t.carence_days = 31;
        assert_eq!(t.validate(), Err(TariffError::CarenceTooLong));
        let mut t = effort(100, 500);
        t.pricing = Pricing::EffortRate {
            rate_millionths: 0,
            min: Cents(0),
            max: Cents(1),
        };
        assert_eq!(t.validate(), Err(TariffError::ZeroRate));
    }

    proptest! {
        /// Every QF falls in exactly one bracket of a valid tariff, whatever the cut points.
        #[test]
        fn every_qf_has_exactly_one_bracket(cuts in prop::collection::btree_set(1u32..5000, 0..6), qf in 0u32..10_000) {
            let mut starts: Vec<u32> = vec![0];
            starts.extend(cuts);
            let brackets: Vec<Bracket> = starts.iter().enumerate().map(|(i, &min)| Bracket {
                qf_min: min,
                qf_max: starts.get(i + 1).copied(),
                meal: Cents(100 + i as i64),
            }).collect();
            let t = Tariff { pricing: Pricing::Brackets { brackets: brackets.clone() }, ..brackets_with(|_| {}) };
            prop_assert_eq!(t.validate(), Ok(()));
            let matching = brackets.iter().filter(|b| qf >= b.qf_min && b.qf_max.is_none_or(|m| qf < m)).count();
            prop_assert_eq!(matching, 1);
        }

        #[test]
        fn the_effort_price_stays_within_its_bounds(qf in 0u32..100_000, min in 0i64..500, span in 0i64..500) {
            let t = effort(min, min + span);
            let price = t.child_meal(resident(Some(qf))).cents;
            prop_assert!(price >= Cents(min) && price <= Cents(min + span));
        }
    }
}
