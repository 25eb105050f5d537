//! What one child's day costs, from what happened that day: the rule every invoice line comes
//! from, so a line can say both what happened and why it is charged or not.
//!
//! The facts of a day, and their charge, in the order they are judged:
//! 1. **closed** (a closure or a strike day): never charged;
//! 2. **accepted absence** covering a booked day:
//!    - illness: the first `carence_days` service days of that absence are charged, the rest free;
//!    - another reason declared before the booking deadline: free (the family could have
//!      cancelled); declared late: charged, as a late cancellation;
//! 3. **booked**:
//!    - marked present: the meal;
//!    - marked absent (a pending or refused absence counts as none): a no-show, charged;
//!    - attendance not locked or not marked: charged as booked; a later lock that says
//!      otherwise becomes a regularisation on the next run;
//! 4. **not booked but marked present** (a walk-in): the meal with the unbooked rule.
//!
//! A day neither booked nor attended costs nothing and gives no line.

use serde::{Deserialize, Serialize};

use crate::absence::{Notice, Reason};
use crate::money::Cents;
use crate::tariff::{Price, Tariff};

/// The attendance recorded for a child on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attendance {
    /// The day is locked and the child marked present.
    Present,
    /// The day is locked and the child marked absent.
    Absent,
    /// The day is not locked yet, or the child was not marked on it.
    NotRecorded,
}

/// An accepted absence covering the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcceptedAbsence {
    pub reason: Reason,
    pub notice: Notice,
    /// 1 for the absence's first service day, 2 for the next…
    pub day_number: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayFacts {
    pub booked: bool,
    pub attendance: Attendance,
    pub closed: bool,
    pub absence: Option<AcceptedAbsence>,
}

/// What happened, as an invoice line states it. The stored code is [`LineKind::code`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    /// Booked and present.
    Meal,
    /// Booked; attendance not recorded (yet).
    BookedNotRecorded,
    /// Present without a booking.
    Unbooked,
    /// Booked, absent, no accepted absence.
    NoShow,
    /// Accepted illness, a carence day: charged.
    IllnessCarence,
    /// Accepted illness after the carence: free.
    IllnessFree,
    /// Accepted absence for another reason, declared before the deadline: free.
    ExcusedAbsence,
    /// Accepted absence for another reason, declared after the deadline: charged.
    LateAbsence,
    /// Closure or strike: free.
    Closure,
    /// A correction of an earlier month's day, on a later invoice.
    Regularisation,
    /// A line of a credit note.
    Credit,
}

impl LineKind {
    pub const ALL: [LineKind; 11] = [
        LineKind::Meal,
        LineKind::BookedNotRecorded,
        LineKind::Unbooked,
        LineKind::NoShow,
        LineKind::IllnessCarence,
        LineKind::IllnessFree,
        LineKind::ExcusedAbsence,
        LineKind::LateAbsence,
        LineKind::Closure,
        LineKind::Regularisation,
        LineKind::Credit,
    ];

    pub fn code(self) -> &'static str {
        match self {
            LineKind::Meal => "meal",
            LineKind::BookedNotRecorded => "booked_not_recorded",
            LineKind::Unbooked => "unbooked",
            LineKind::NoShow => "no_show",
            LineKind::IllnessCarence => "illness_carence",
            LineKind::IllnessFree => "illness_free",
            LineKind::ExcusedAbsence => "excused_absence",
            LineKind::LateAbsence => "late_absence",
            LineKind::Closure => "closure",
            LineKind::Regularisation => "regularisation",
            LineKind::Credit => "credit",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }

    /// Whether a day of this kind is charged at all.
    pub fn charged(self) -> bool {
        !matches!(
            self,
            LineKind::IllnessFree | LineKind::ExcusedAbsence | LineKind::Closure
        )
    }
}

/// A day's line before it is split between households: what happened and what it costs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayCharge {
    pub kind: LineKind,
    pub amount: Cents,
    /// The meal's price and its reason (also on free lines, to show what was not charged).
    pub price: Price,
}

/// The charge of one child's day, or `None` when nothing happened to bill.
pub fn charge(facts: DayFacts, tariff: &Tariff, price: Price) -> Option<DayCharge> {
    let kind = kind_of(facts, tariff.carence_days)?;
    let amount = match kind {
        LineKind::Unbooked => tariff.unbooked(price.cents),
        kind if kind.charged() => price.cents,
        _ => Cents::ZERO,
    };
    Some(DayCharge {
        kind,
        amount,
        price,
    })
}

/// What happened on the day, by the rules of the module doc.
pub fn kind_of(facts: DayFacts, carence_days: u32) -> Option<LineKind> {
    if facts.closed {
        return facts.booked.then_some(LineKind::Closure);
    }
    if facts.booked {
        if let Some(absence) = facts.absence
            && facts.attendance != Attendance::Present
        {
            return Some(match absence.reason {
                Reason::Illness if absence.day_number <= carence_days => LineKind::IllnessCarence,
                Reason::Illness => LineKind::IllnessFree,
                Reason::Other if absence.notice == Notice::BeforeDeadline => {
                    LineKind::ExcusedAbsence
                }
                Reason::Other => LineKind::LateAbsence,
            });
        }
        return Some(match facts.attendance {
            Attendance::Present => LineKind::Meal,
            Attendance::Absent => LineKind::NoShow,
            Attendance::NotRecorded => LineKind::BookedNotRecorded,
        });
    }
    (facts.attendance == Attendance::Present).then_some(LineKind::Unbooked)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tariff::{Bracket, PriceBasis, Pricing, UnbookedRule};

    fn tariff(carence_days: u32) -> Tariff {
        Tariff {
            pricing: Pricing::Brackets {
                brackets: vec![Bracket {
                    qf_min: 0,
                    qf_max: None,
                    meal: Cents(300),
                }],
            },
            pai: Cents(100),
            non_resident: Cents(500),
            adult: Cents(600),
            unbooked: UnbookedRule::Surcharge { cents: Cents(150) },
            carence_days,
        }
    }

    fn price() -> Price {
        Price {
            cents: Cents(300),
            basis: PriceBasis::Bracket {
                qf: 700,
                qf_min: 0,
                qf_max: None,
            },
        }
    }

    fn day(booked: bool, attendance: Attendance) -> DayFacts {
        DayFacts {
            booked,
            attendance,
            closed: false,
            absence: None,
        }
    }

    fn illness(day_number: u32) -> Option<AcceptedAbsence> {
        Some(AcceptedAbsence {
            reason: Reason::Illness,
            notice: Notice::SameMorningIllness,
            day_number,
        })
    }

    fn charged(facts: DayFacts, carence: u32) -> Option<(LineKind, Cents)> {
        charge(facts, &tariff(carence), price()).map(|c| (c.kind, c.amount))
    }

    #[test]
    fn a_booked_and_present_child_pays_the_meal() {
        assert_eq!(
            charged(day(true, Attendance::Present), 0),
            Some((LineKind::Meal, Cents(300)))
        );
    }

    #[test]
    fn a_walk_in_pays_the_meal_and_the_surcharge() {
        assert_eq!(
            charged(day(false, Attendance::Present), 0),
            Some((LineKind::Unbooked, Cents(450)))
        );
    }

    #[test]
    fn a_no_show_without_an_accepted_absence_is_due() {
        assert_eq!(
            charged(day(true, Attendance::Absent), 0),
            Some((LineKind::NoShow, Cents(300)))
        );
    }

    #[test]
    fn illness_charges_the_carence_days_then_nothing() {
        let absent = |n| DayFacts {
            absence: illness(n),
            ..day(true, Attendance::Absent)
        };
        assert_eq!(
            charged(absent(1), 0),
            Some((LineKind::IllnessFree, Cents(0)))
        );
        assert_eq!(
            charged(absent(1), 2),
            Some((LineKind::IllnessCarence, Cents(300)))
        );
        assert_eq!(
            charged(absent(2), 2),
            Some((LineKind::IllnessCarence, Cents(300)))
        );
        assert_eq!(
            charged(absent(3), 2),
            Some((LineKind::IllnessFree, Cents(0)))
        );
    }

    #[test]
    fn another_reason_is_free_with_notice_and_charged_when_late() {
        let other = |notice| DayFacts {
            absence: Some(AcceptedAbsence {
                reason: Reason::Other,
                notice,
                day_number: 1,
            }),
            ..day(true, Attendance::NotRecorded)
        };
        assert_eq!(
            charged(other(Notice::BeforeDeadline), 0),
            Some((LineKind::ExcusedAbsence, Cents(0)))
        );
        assert_eq!(
            charged(other(Notice::Late), 0),
            Some((LineKind::LateAbsence, Cents(300)))
        );
    }

    #[test]
    fn a_child_present_despite_an_absence_pays_the_meal() {
        let facts = DayFacts {
            absence: illness(1),
            ..day(true, Attendance::Present)
        };
        assert_eq!(charged(facts, 0), Some((LineKind::Meal, Cents(300))));
    }

    #[test]
    fn a_closed_day_is_never_charged() {
        for attendance in [
            Attendance::Present,
            Attendance::Absent,
            Attendance::NotRecorded,
        ] {
            let facts = DayFacts {
                closed: true,
                ..day(true, attendance)
            };
            assert_eq!(charged(facts, 3), Some((LineKind::Closure, Cents(0))));
            let unbooked = DayFacts {
                closed: true,
                ..day(false, attendance)
            };
            assert_eq!(charged(unbooked, 3), None);
        }
    }

    #[test]
    fn an_unrecorded_booking_is_charged_as_booked_and_nothing_else_bills() {
        assert_eq!(
            charged(day(true, Attendance::NotRecorded), 0),
            Some((LineKind::BookedNotRecorded, Cents(300)))
        );
        assert_eq!(charged(day(false, Attendance::Absent), 0), None);
        assert_eq!(charged(day(false, Attendance::NotRecorded), 0), None);
    }

    #[test]
    fn line_kind_codes_round_trip() {
        for kind in LineKind::ALL {
            assert_eq!(LineKind::from_code(kind.code()), Some(kind));
        }
        assert_eq!(LineKind::from_code("gift"), None);
    }
}
