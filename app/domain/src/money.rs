//! Money: euros held as integer cents. No float ever holds an amount, so sums and splits are
//! exact and the ledger balances to the cent.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, Neg, Sub};

use serde::{Deserialize, Serialize};

/// An amount in euro cents; negative for credits and refunds.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Cents(pub i64);

impl Cents {
    pub const ZERO: Cents = Cents(0);

    pub fn get(self) -> i64 {
        self.0
    }

    /// `None` on overflow, which no canteen bill reaches but a bad input might.
    pub fn checked_mul(self, count: i64) -> Option<Cents> {
        self.0.checked_mul(count).map(Cents)
    }

    pub fn checked_add(self, other: Cents) -> Option<Cents> {
        self.0.checked_add(other.0).map(Cents)
    }
}

impl Add for Cents {
    type Output = Cents;
    fn add(self, other: Cents) -> Cents {
        Cents(self.0 + other.0)
    }
}

impl Sub for Cents {
    type Output = Cents;
    fn sub(self, other: Cents) -> Cents {
        Cents(self.0 - other.0)
    }
}

impl Neg for Cents {
    type Output = Cents;
    fn neg(self) -> Cents {
        Cents(-self.0)
    }
}

impl Sum for Cents {
    fn sum<I: Iterator<Item = Cents>>(iter: I) -> Cents {
        iter.fold(Cents::ZERO, Add::add)
    }
}

/// `12.34` or `-0.05`: euros with two decimals and no symbol, the way accounting exports and
/// tests write them. Wording for people (`12,34 €`) belongs to the HTTP edge.
impl fmt::Display for Cents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn amounts_print_with_two_decimals_and_their_sign() {
        assert_eq!(Cents(1234).to_string(), "12.34");
        assert_eq!(Cents(5).to_string(), "0.05");
        assert_eq!(Cents(-5).to_string(), "-0.05");
        assert_eq!(Cents(0).to_string(), "0.00");
    }

    #[test]
    fn overflow_is_reported_not_wrapped() {
        assert_eq!(Cents(i64::MAX).checked_add(Cents(1)), None);
        assert_eq!(Cents(i64::MAX / 2 + 1).checked_mul(2), None);
        assert_eq!(Cents(350).checked_mul(3), Some(Cents(1050)));
    }

    proptest! {
        #[test]
        fn a_sum_and_its_credits_cancel_exactly(amounts in prop::collection::vec(-1_000_000i64..1_000_000, 0..50)) {
            let total: Cents = amounts.iter().copied().map(Cents).sum();
            let credits: Cents = amounts.iter().copied().map(|a| -Cents(a)).sum();
            prop_assert_eq!(total + credits, Cents::ZERO);
        }
    }
}
