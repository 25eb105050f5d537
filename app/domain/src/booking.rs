//! Planning meal bookings: given the calendar, the deadline rule, `now` and what is already
//! booked, work out what a request changes.
//!
//! Nothing is stored here. The HTTP layer loads the child's enrollment and booked days, asks
//! a [`Planner`] what to do, writes the [`DayChange`]s (with their history) in one
//! transaction, and reports the locked and non-service days back to the family. Because the
//! plan only lists days whose state actually differs, replaying the same request is harmless.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Europe::Paris;

use super::calendar::{NotBookable, SchoolCalendar};
use super::deadline::DeadlineRule;
use super::enrollment::Enrollment;
use super::weekdays::WeekdaySet;

/// The longest range a pattern or a listing may cover: a school year plus margin. Bounds the
/// work one request can cause.
pub const MAX_RANGE_DAYS: i64 = 400;

/// One day's reservation set to a new state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DayChange {
    /// The service day.
    pub date: NaiveDate,
    /// `true`: book the meal; `false`: cancel it.
    pub booked: bool,
}

/// A day the request wanted to change, left as it is because its deadline has passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LockedDay {
    /// The service day.
    pub date: NaiveDate,
    /// The state the request asked for.
    pub wanted_booked: bool,
    /// When the day locked.
    pub deadline: DateTime<Utc>,
}

/// A day the request asked to book that is not a service day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotServiceDay {
    /// The day.
    pub date: NaiveDate,
    /// Why it cannot be booked.
    pub reason: NotBookable,
}

/// What a multi-day request does, each list in date order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Days whose reservation changes.
    pub changes: Vec<DayChange>,
    /// Days that should have changed but are past their deadline.
    pub locked: Vec<LockedDay>,
    /// Days the request asked to book that are not service days (only days of a requested
    /// weekday are listed, so weekends do not flood the answer).
    pub not_service_days: Vec<NotServiceDay>,
}

/// The state of one day for a child, as listed to families (`listReservations`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayView {
    /// The day.
    pub date: NaiveDate,
    /// Whether a meal is booked.
    pub booked: bool,
    /// Whether the family can no longer change it (past deadline, or not a service day).
    pub locked: bool,
    /// For service days, when changes close.
    pub deadline: Option<DateTime<Utc>>,
    /// For other days, why.
    pub reason: Option<NotBookable>,
}

/// Why a booking request is refused as a whole (nothing is changed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BookingError {
    /// The child has no validated enrollment for the calendar's school year.
    #[error("the child has no validated enrollment for this school year")]
    NotEnrolled,
    /// The day is not a service day.
    #[error("{date} is not a service day: {reason}")]
    NotAServiceDay {
        /// The day asked for.
        date: NaiveDate,
        /// Why.
        reason: NotBookable,
    },
    /// The day's deadline has passed.
    #[error("the deadline for {date} has passed ({deadline})")]
    DeadlinePassed {
        /// The day asked for.
        date: NaiveDate,
        /// When it locked.
        deadline: DateTime<Utc>,
    },
    /// `from` is after `to`.
    #[error("the range starts on {from}, after its end {to}")]
    InvalidRange {
        /// Start given.
        from: NaiveDate,
        /// End given.
        to: NaiveDate,
    },
    /// The range is longer than [`MAX_RANGE_DAYS`].
    #[error("the range is longer than {MAX_RANGE_DAYS} days")]
    RangeTooLong,
    /// A pattern weekday on which the child's school does not serve.
    #[error("the canteen does not serve on {0}")]
    WeekdaysNotServed(WeekdaySet),
}

impl BookingError {
    /// Stable machine-readable code for API problems.
    pub fn code(&self) -> &'static str {
        match self {
            BookingError::NotEnrolled => "not_enrolled",
            BookingError::NotAServiceDay { .. } => "not_a_service_day",
            BookingError::DeadlinePassed { .. } => "deadline_passed",
            BookingError::InvalidRange { .. }
            | BookingError::RangeTooLong
            | BookingError::WeekdaysNotServed(_) => "validation",
        }
    }
}

/// What the planner needs to know about one child.
#[derive(Debug, Clone, Copy)]
pub struct ChildBookings<'a> {
    /// The calendar of the child's school for the school year concerned.
    pub calendar: &'a SchoolCalendar,
    /// The child's enrollment for that year.
    pub enrollment: &'a Enrollment,
    /// The days currently booked.
    pub booked: &'a BTreeSet<NaiveDate>,
}

impl ChildBookings<'_> {
    fn check_enrolled(&self) -> Result<(), BookingError> {
        if self.enrollment.allows_booking()
            && self.enrollment.school_year() == self.calendar.year().label()
        {
            Ok(())
        } else {
            Err(BookingError::NotEnrolled)
        }
    }
}

/// A weekly pattern over a range: each service day from `from` to `to` (included) becomes
/// booked if its weekday is in `weekdays`, cancelled otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PatternRequest {
    /// First day of the range.
    pub from: NaiveDate,
    /// Last day of the range.
    pub to: NaiveDate,
    /// The weekdays to book; the others are cancelled.
    pub weekdays: WeekdaySet,
}

/// Plans bookings under one deadline rule at one instant.
#[derive(Debug, Clone, Copy)]
pub struct Planner<'a> {
    /// The commune's deadline rule.
    pub rule: &'a DeadlineRule,
    /// The current instant (passed in so tests and retries are deterministic).
    pub now: DateTime<Utc>,
}

fn check_range(from: NaiveDate, to: NaiveDate) -> Result<(), BookingError> {
    if from > to {
        return Err(BookingError::InvalidRange { from, to });
    }
    if (to - from).num_days() >= MAX_RANGE_DAYS {
        return Err(BookingError::RangeTooLong);
    }
    Ok(())
}

fn days(from: NaiveDate, to: NaiveDate) -> impl Iterator<Item = NaiveDate> {
    from.iter_days().take_while(move |d| *d <= to)
}

impl Planner<'_> {
    /// Books (`book = true`) or cancels one day. `Ok(None)` means the day is already in that
    /// state (so a repeated request succeeds without changing anything, even past the
    /// deadline); `Ok(Some(change))` is the change to store.
    pub fn single_day(
        &self,
        child: &ChildBookings<'_>,
        date: NaiveDate,
        book: bool,
    ) -> Result<Option<DayChange>, BookingError> {
        self.day(child, date, book, true)
    }

    /// A manager's change at the town-hall counter: the calendar applies, the deadline does
    /// not (the manager gives the reason, which the history keeps).
    pub fn override_day(
        &self,
        child: &ChildBookings<'_>,
        date: NaiveDate,
        book: bool,
    ) -> Result<Option<DayChange>, BookingError> {
        self.day(child, date, book, false)
    }

    fn day(
        &self,
        child: &ChildBookings<'_>,
        date: NaiveDate,
        book: bool,
        deadline_applies: bool,
    ) -> Result<Option<DayChange>, BookingError> {
        child.check_enrolled()?;
        child
            .calendar
            .day_status(date)
            .map_err(|reason| BookingError::NotAServiceDay { date, reason })?;
        if child.booked.contains(&date) == book {
            return Ok(None);
        }
        let deadline = self.rule.deadline_for(date, child.calendar);
        if deadline_applies && self.now >= deadline {
            return Err(BookingError::DeadlinePassed { date, deadline });
        }
        Ok(Some(DayChange { date, booked: book }))
    }

    /// Applies a weekly pattern to one child; see [`PatternRequest`]. Locked days are skipped
    /// and reported, the rest of the range still changes.
    pub fn pattern(
        &self,
        child: &ChildBookings<'_>,
        request: &PatternRequest,
    ) -> Result<Plan, BookingError> {
        child.check_enrolled()?;
        check_range(request.from, request.to)?;
        let not_served = request
            .weekdays
            .difference(child.calendar.service_weekdays());
        if !not_served.is_empty() {
            return Err(BookingError::WeekdaysNotServed(not_served));
        }
        let mut plan = Plan::default();
        for date in days(request.from, request.to) {
            let wanted = request.weekdays.contains(date.weekday());
            self.plan_day(child, date, wanted, &mut plan);
        }
        Ok(plan)
    }

    /// Applies the same pattern to several children (siblings) at once. All children are
    /// checked first: if one cannot take the pattern, the error names them and nothing is
    /// planned for anyone.
    pub fn pattern_for_children<C: Clone>(
        &self,
        children: &[(C, ChildBookings<'_>)],
        request: &PatternRequest,
    ) -> Result<Vec<(C, Plan)>, (C, BookingError)> {
        children
            .iter()
            .map(|(id, child)| {
                self.pattern(child, request)
                    .map(|plan| (id.clone(), plan))
                    .map_err(|e| (id.clone(), e))
            })
            .collect()
    }

    /// The bookings made when an enrollment is validated: every service day of the child's
    /// usual weekdays from today (Paris) to the last day of the year, except days already
    /// booked. Days already locked are listed in [`Plan::locked`]; nothing is cancelled.
    pub fn enrollment_validation(&self, child: &ChildBookings<'_>) -> Result<Plan, BookingError> {
        child.check_enrolled()?;
        let year = child.calendar.year();
        let today = self.now.with_timezone(&Paris).date_naive();
        let usual = child.enrollment.usual_weekdays();
        let mut plan = Plan::default();
        for date in days(today.max(year.first_day()), year.last_day()) {
            if usual.contains(date.weekday()) {
                self.plan_day(child, date, true, &mut plan);
            }
        }
        Ok(plan)
    }

    /// Each day from `from` to `to` with its booking state, lock and reason, for calendars.
    pub fn day_views(
        &self,
        calendar: &SchoolCalendar,
        booked: &BTreeSet<NaiveDate>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<DayView>, BookingError> {
        check_range(from, to)?;
        Ok(days(from, to)
            .map(|date| {
                let booked = booked.contains(&date);
                match calendar.day_status(date) {
                    Ok(()) => {
                        let deadline = self.rule.deadline_for(date, calendar);
                        DayView {
                            date,
                            booked,
                            locked: self.now >= deadline,
                            deadline: Some(deadline),
                            reason: None,
                        }
                    }
                    Err(reason) => DayView {
                        date,
                        booked,
                        locked: true,
                        deadline: None,
                        reason: Some(reason),
                    },
                }
            })
            .collect())
    }

    /// The next service day still open for changes, from today (Paris) on, within the school
    /// year: what the home page shows as "prochaine échéance".
    pub fn next_open_day(&self, calendar: &SchoolCalendar) -> Option<(NaiveDate, DateTime<Utc>)> {
        let today = self.now.with_timezone(&Paris).date_naive();
        let year = calendar.year();
        calendar
            .service_days(today.max(year.first_day()), year.last_day())
            .map(|d| (d, self.rule.deadline_for(d, calendar)))
            .find(|(_, deadline)| self.now < *deadline)
    }

    fn plan_day(&self, child: &ChildBookings<'_>, date: NaiveDate, wanted: bool, plan: &mut Plan) {
        match child.calendar.day_status(date) {
            Err(reason) => {
                if wanted {
                    plan.not_service_days.push(NotServiceDay { date, reason });
                }
            }
            Ok(()) if child.booked.contains(&date) == wanted => {}
            Ok(()) => {
                let deadline = self.rule.deadline_for(date, child.calendar);
                if self.now >= deadline {
                    plan.locked.push(LockedDay {
                        date,
                        wanted_booked: wanted,
                        deadline,
                    });
                } else {
                    plan.changes.push(DayChange {
                        date,
                        booked: wanted,
                    });
                }
            }
        }
    }
}

/// Booked days that are not (or no longer) service days, e.g. after staff add a closure: the
/// caller cancels them and tells the families why.
pub fn reservations_on_non_service_days(
    calendar: &SchoolCalendar,
    booked: &BTreeSet<NaiveDate>,
) -> Vec<NotServiceDay> {
    booked
        .iter()
        .filter_map(|&date| {
            calendar
                .day_status(date)
                .err()
                .map(|reason| NotServiceDay { date, reason })
        })
        .collect()
}

/// The days booked after applying `changes` to `booked` (what the database will hold).
pub fn apply_changes(booked: &BTreeSet<NaiveDate>, changes: &[DayChange]) -> BTreeSet<NaiveDate> {
    let mut after = booked.clone();
    for change in changes {
        if change.booked {
            after.insert(change.date);
        } else {
            after.remove(&change.date);
        }
    }
    after
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::{Closure, HolidayCalendar, Zone};
    use crate::deadline::paris_to_utc;
    use crate::enrollment::EnrollmentStatus;
    use chrono::{Days, Weekday};
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn paris(date: NaiveDate, h: u32, m: u32, s: u32) -> DateTime<Utc> {
        paris_to_utc(date.and_hms_opt(h, m, s).unwrap())
    }

    fn calendar() -> SchoolCalendar {
        SchoolCalendar::for_year(
            HolidayCalendar::france(),
            "2026-2027".parse().unwrap(),
            Zone::A,
            WeekdaySet::default_service(),
        )
        .unwrap()
    }

    fn enrollment(status: EnrollmentStatus, usual: WeekdaySet) -> Enrollment {
        Enrollment::restore("2026-2027".parse().unwrap(), usual, status)
    }

    fn validated() -> Enrollment {
        enrollment(EnrollmentStatus::Validated, WeekdaySet::default_service())
    }

    fn set(days: &[NaiveDate]) -> BTreeSet<NaiveDate> {
        days.iter().copied().collect()
    }

    /// Monday 7 December 2026, 09:00 Paris: Monday 7 and Tuesday 8 are locked; Thursday 10
    /// (2 service days before: Tuesday 8, Monday 7) is open until 10:00 today.
    fn nine_am_monday_7_december() -> DateTime<Utc> {
        paris(d(2026, 12, 7), 9, 0, 0)
    }

    #[test]
    fn booking_a_free_service_day_before_its_deadline_books_it() {
        let (cal, e, booked) = (calendar(), validated(), set(&[]));
        let child = ChildBookings {
            calendar: &cal,
            enrollment: &e,
            booked: &booked,
        };
        let rule = DeadlineRule::default();
        let planner = Planner {
            rule: &rule,
            now: nine_am_monday_7_december(),
        };
        assert_eq!(
            planner.single_day(&child, d(2026, 12, 10), true),
            Ok(Some(DayChange {
                date: d(2026, 12, 10),
                booked: true
            }))
        );
    }

    #[test]
    fn booking_at_09_59_59_on_the_deadline_day_succeeds_and_at_10_00_00_fails() {
        // Thursday 10 December 2026: 2 service days before is Monday 7 (Wednesday has no
        // service), so the deadline is Monday 7 December at 10:00 (winter time).
        let (cal, e, booked) = (calendar(), validated(), set(&[]));
        let child = ChildBookings {
            calendar: &cal,
            enrollment: &e,
            booked: &booked,
        };
        let rule = DeadlineRule::default();
        let day = d(2026, 12, 10);
        let before = Planner {
            rule: &rule,
            now: paris(d(2026, 12, 7), 9, 59, 59),
        };
        assert!(matches!(before.single_day(&child, day, true), Ok(Some(_))));
        let at = Planner {
            rule: &rule,
            now: paris(d(2026, 12, 7), 10, 0, 0),
        };
        let err = at.single_day(&child, day, true).unwrap_err();
        assert_eq!(
            err,
            BookingError::DeadlinePassed {
                date: day,
                deadline: paris(d(2026, 12, 7), 10, 0, 0)
            }
        );
        assert_eq!(err.code(), "deadline_passed");
    }

    #[test]
    fn cancelling_after_the_deadline_is_refused() {
        let day = d(2026, 12, 8);
        let (cal, e, booked) = (calendar(), validated(), set(&[day]));
        let child = ChildBookings {
            calendar: &cal,
            enrollment: &e,
            booked: &booked,
        };
        let rule = DeadlineRule::default();
        let planner = Planner {
            rule: &rule,
            now: nine_am_monday_7_december(),
        };
        assert_eq!(
            planner.single_day(&child, day, false).unwrap_err().code(),
            "deadline_passed"
        );
    }

    #[test]
    fn a_managers_override_ignores_the_deadline_but_not_the_calendar() {
        let day = d(2026, 12, 8);
        let (cal, e, booked) = (calendar(), validated(), set(&[day]));
        let child = ChildBookings {
            calendar: &cal,
            enrollment: &e,
            booked: &booked,
        };
        let rule = DeadlineRule::default();
        let planner = Planner {
            rule: &rule,
            now: nine_am_monday_7_december(),
        };
        assert_eq!(
            planner.override_day(&child, day, false),
            Ok(Some(DayChange {
                date: day,
                booked: false
            }))
        );
        // Wednesday: no service, override or not.
        assert!(matches!(
            planner.override_day(&child, d(2026, 12, 9), true),
            Err(BookingError::NotAServiceDay { .. })
        ));
    }

    #[test]
    fn repeating_a_booking_changes_nothing_even_after_the_deadline() {
        let day = d(2026, 12, 8);
        let (cal, e, booked) = (calendar(), validated(), set(&[day]));
        let child = ChildBookings {
            calendar: &cal,
            enrollment: &e,
            booked: &booked,
        };
        let rule = DeadlineRule::default();
        let planner = Planner {
            rule: &rule,
            now: nine_am_monday_7_december(),
        };
        assert_eq!(planner.single_day(&child, day, true), Ok(None));
    }

    #[test]
    fn booking_a_non_service_day_is_refused_with_its_reason() {
        let (cal, e, booked) = (calendar(), validated(), set(&[]));
        let child = ChildBookings {
            calendar: &cal,
            enrollment: &e,
            booked: &booked,
        };
        let rule = DeadlineRule::default();
        let planner = Planner {
            rule: &rule,
            now: paris(d(2026, 9, 1), 8, 0, 0),
        };
        let cases = [
            (d(2026, 12, 9), "not_a_service_weekday"),
            (d(2026, 12, 12), "weekend"),
            (d(2026, 12, 22), "school_holiday"),
            (d(2027, 3, 29), "public_holiday"),
            (d(2027, 5, 6), "public_holiday"),
            (d(2027, 5, 17), "public_holiday"),
            (d(2027, 7, 5), "outside_school_year"),
        ];
        for (day, reason) in cases {
            let err = planner.single_day(&child, day, true).unwrap_err();
            assert_eq!(err.code(), "not_a_service_day", "{day}");
            let BookingError::NotAServiceDay { reason: r, .. } = err else {
                unreachable!()
            };
            assert_eq!(r.code(), reason, "{day}");
        }
    }

    #[test]
    fn booking_on_a_closure_day_is_refused() {
        let strike = Closure::new(None, d(2026, 12, 10), d(2026, 12, 10), "grève").unwrap();
        let cal = calendar().with_closures(&1_u64, [&strike]);
        let (e, booked) = (validated(), set(&[]));
        let child = ChildBookings {
            calendar: &cal,
            enrollment: &e,
            booked: &booked,
        };
        let rule = DeadlineRule::default();
        let planner = Planner {
            rule: &rule,
            now: paris(d(2026, 12, 1), 8, 0, 0),
        };
        let err = planner
            .single_day(&child, d(2026, 12, 10), true)
            .unwrap_err();
        assert_eq!(
            err,
            BookingError::NotAServiceDay {
                date: d(2026, 12, 10),
                reason: NotBookable::Closure {
                    reason: "grève".into()
                }
            }
        );
    }

    #[test]
    fn booking_without_a_validated_enrollment_is_refused() {
        let cal = calendar();
        let booked = set(&[]);
        let rule = DeadlineRule::default();
        let planner = Planner {
            rule: &rule,
            now: paris(d(2026, 9, 1), 8, 0, 0),
        };
        for status in [
            EnrollmentStatus::Pending,
            EnrollmentStatus::Rejected {
                reason: "non".into(),
            },
            EnrollmentStatus::Cancelled,
        ] {
            let e = enrollment(status, WeekdaySet::default_service());
            let child = ChildBookings {
                calendar: &cal,
                enrollment: &e,
                booked: &booked,
            };
            let err = planner
                .single_day(&child, d(2026, 12, 10), true)
                .unwrap_err();
            assert_eq!(err.code(), "not_enrolled");
        }
        // Validated, but for another year.
        let e = Enrollment::restore(
            "2025-2026".parse().unwrap(),
            WeekdaySet::default_service(),
            EnrollmentStatus::Validated,
        );
        let child = ChildBookings {
            calendar: &cal,
            enrollment: &e,
            booked: &booked,
        };
        assert_eq!(
            planner.single_day(&child, d(2026, 12, 10), true),
            Err(BookingError::NotEnrolled)
        );
    }

    #[test]
    fn pattern_books_chosen_weekdays_cancels_others_and_skips_locked_days() {
        // Week of 7 December 2026, at 09:00 on Monday 7: Mon 7 and Tue 8 are locked.
        let booked = set(&[d(2026, 12, 8), d(2026, 12, 11)]);
        let (cal, e) = (calendar(), validated());
        let child = ChildBookings {
            calendar: &cal,
            enrollment: &e,
            booked: &booked,
        };
        let rule = DeadlineRule::default();
        let planner = Planner {
            rule: &rule,
            now: nine_am_monday_7_december(),
        };
        let request = PatternRequest {
            from: d(2026, 12, 7),
            to: d(2026, 12, 18),
            weekdays: WeekdaySet::from_days([Weekday::Mon, Weekday::Thu]),
        };
        let plan = planner.pattern(&child, &request).unwrap();
        assert_eq!(
            plan.changes,
            [
                DayChange {
                    date: d(2026, 12, 10),
                    booked: true
                },
                DayChange {
                    date: d(2026, 12, 11),
                    booked: false
                },
                DayChange {
                    date: d(2026, 12, 14),
                    booked: true
                },
                DayChange {
                    date: d(2026, 12, 17),
                    booked: true
                },
            ]
        );
        let locked: Vec<(NaiveDate, bool)> = plan
            .locked
            .iter()
            .map(|l| (l.date, l.wanted_booked))
            .collect();
        assert_eq!(locked, [(d(2026, 12, 7), true), (d(2026, 12, 8), false)]);
        assert!(plan.not_service_days.is_empty());
    }

    #[test]
    fn pattern_reports_requested_days_that_are_not_service_days() {
        // Zone A, week of 21 December 2026: Christmas holidays.
        let (cal, e, booked) = (calendar(), validated(), set(&[]));
        let child = ChildBookings {
            calendar: &cal,
            enrollment: &e,
            booked: &booked,
        };
        let rule = DeadlineRule::default();
        let planner = Planner {
            rule: &rule,
            now: paris(d(2026, 12, 1), 8, 0, 0),
        };
        let request = PatternRequest {
            from: d(2026, 12, 17),
            to: d(2026, 12, 25),
            weekdays: WeekdaySet::from_days([Weekday::Fri]),
        };
        let plan = planner.pattern(&child, &request).unwrap();
        assert_eq!(
            plan.changes,
            [DayChange {
                date: d(2026, 12, 18),
                booked: true
            }]
        );
        let skipped: Vec<(NaiveDate, &str)> = plan
            .not_service_days
            .iter()
            .map(|s| (s.date, s.reason.code()))
            .collect();
        assert_eq!(skipped, [(d(2026, 12, 25), "public_holiday")]);
    }

    #[test]
    fn pattern_with_a_weekday_the_school_does_not_serve_is_refused() {
        let (cal, e, booked) = (calendar(), validated(), set(&[]));
        let child = ChildBookings {
            calendar: &cal,
            enrollment: &e,
            booked: &booked,
        };
        let rule = DeadlineRule::default();
        let planner = Planner {
            rule: &rule,
            now: paris(d(2026, 9, 1), 8, 0, 0),
        };
        let request = PatternRequest {
            from: d(2026, 12, 7),
            to: d(2026, 12, 18),
            weekdays: WeekdaySet::from_days([Weekday::Mon, Weekday::Wed]),
        };
        let err = planner.pattern(&child, &request).unwrap_err();
        assert_eq!(
            err,
            BookingError::WeekdaysNotServed(WeekdaySet::from_days([Weekday::Wed]))
        );
        assert_eq!(err.code(), "validation");
    }

    #[test]
    fn pattern_with_reversed_or_huge_range_is_refused() {
        let (cal, e, booked) = (calendar(), validated(), set(&[]));
        let child = ChildBookings {
            calendar: &cal,
            enrollment: &e,
            booked: &booked,
        };
        let rule = DeadlineRule::default();
        let planner = Planner {
            rule: &rule,
            now: paris(d(2026, 9, 1), 8, 0, 0),
        };
        let reversed = PatternRequest {
            from: d(2026, 12, 18),
            to: d(2026, 12, 7),
            weekdays: WeekdaySet::default_service(),
        };
        assert!(matches!(
            planner.pattern(&child, &reversed),
            Err(BookingError::InvalidRange { .. })
        ));
        let huge = PatternRequest {
            from: d(2026, 9, 1),
            to: d(2030, 9, 1),
            weekdays: WeekdaySet::default_service(),
        };
        assert_eq!(
            planner.pattern(&child, &huge),
            Err(BookingError::RangeTooLong)
        );
    }

    #[test]
    fn pattern_for_siblings_plans_each_child_against_their_own_bookings() {
        let cal = calendar();
        let e = validated();
        let (none, some) = (set(&[]), set(&[d(2026, 12, 10)]));
        let rule = DeadlineRule::default();
        let planner = Planner {
            rule: &rule,
            now: paris(d(2026, 12, 1), 8, 0, 0),
        };
        let request = PatternRequest {
            from: d(2026, 12, 7),
            to: d(2026, 12, 11),
            weekdays: WeekdaySet::from_days([Weekday::Thu]),
        };
        let children = [
            (
                "léa",
                ChildBookings {
                    calendar: &cal,
                    enrollment: &e,
                    booked: &none,
                },
            ),
            (
                "tom",
                ChildBookings {
                    calendar: &cal,
                    enrollment: &e,
                    booked: &some,
                },
            ),
        ];
        let plans = planner.pattern_for_children(&children, &request).unwrap();
        assert_eq!(plans[0].0, "léa");
        assert_eq!(
            plans[0].1.changes,
            [DayChange {
                date: d(2026, 12, 10),
                booked: true
            }]
        );
        assert_eq!(plans[1].0, "tom");
        assert!(plans[1].1.changes.is_empty());
    }

    #[test]
    fn pattern_for_siblings_fails_as_a_whole_if_one_is_not_enrolled() {
        let cal = calendar();
        let (ok, pending) = (
            validated(),
            enrollment(EnrollmentStatus::Pending, WeekdaySet::default_service()),
        );
        let booked = set(&[]);
        let rule = DeadlineRule::default();
        let planner = Planner {
            rule: &rule,
            now: paris(d(2026, 12, 1), 8, 0, 0),
        };
        let request = PatternRequest {
            from: d(2026, 12, 7),
            to: d(2026, 12, 11),
            weekdays: WeekdaySet::from_days([Weekday::Thu]),
        };
        let children = [
            (
                1,
                ChildBookings {
                    calendar: &cal,
                    enrollment: &ok,
                    booked: &booked,
                },
            ),
            (
                2,
                ChildBookings {
                    calendar: &cal,
                    enrollment: &pending,
                    booked: &booked,
                },
            ),
        ];
        assert_eq!(
            planner.pattern_for_children(&children, &request),
            Err((2, BookingError::NotEnrolled))
        );
    }

    #[test]
    fn validating_an_enrollment_books_usual_weekdays_from_the_first_open_day_to_the_end_of_year() {
        // Validated at 09:00 on Monday 7 December 2026: Mon 7 and Tue 8 are locked, the first
        // open Monday-or-Thursday is Thursday 10 December.
        let cal = calendar();
        let e = enrollment(
            EnrollmentStatus::Validated,
            WeekdaySet::from_days([Weekday::Mon, Weekday::Thu]),
        );
        let booked = set(&[d(2026, 12, 14)]);
        let child = ChildBookings {
            calendar: &cal,
            enrollment: &e,
            booked: &booked,
        };
        let rule = DeadlineRule::default();
        let planner = Planner {
            rule: &rule,
            now: nine_am_monday_7_december(),
        };
        let plan = planner.enrollment_validation(&child).unwrap();
        assert_eq!(
            plan.changes.first(),
            Some(&DayChange {
                date: d(2026, 12, 10),
                booked: true
            })
        );
        assert_eq!(
            plan.changes.last(),
            Some(&DayChange {
                date: d(2027, 7, 1),
                booked: true
            })
        );
        assert!(plan.changes.iter().all(|c| c.booked));
        assert!(plan.changes.iter().all(|c| cal.is_service_day(c.date)));
        assert!(
            plan.changes
                .iter()
                .all(|c| matches!(c.date.weekday(), Weekday::Mon | Weekday::Thu))
        );
        assert!(
            !plan.changes.iter().any(|c| c.date == d(2026, 12, 14)),
            "already booked"
        );
        assert!(
            !plan.changes.iter().any(|c| c.date == d(2027, 3, 29)),
            "Easter Monday"
        );
        assert_eq!(
            plan.locked.iter().map(|l| l.date).collect::<Vec<_>>(),
            [d(2026, 12, 7)]
        );
    }

    #[test]
    fn validating_before_the_rentree_books_from_the_first_day() {
        let cal = calendar();
        let e = validated();
        let booked = set(&[]);
        let child = ChildBookings {
            calendar: &cal,
            enrollment: &e,
            booked: &booked,
        };
        let rule = DeadlineRule::default();
        let planner = Planner {
            rule: &rule,
            now: paris(d(2026, 7, 10), 8, 0, 0),
        };
        let plan = planner.enrollment_validation(&child).unwrap();
        assert_eq!(plan.changes[0].date, d(2026, 9, 1));
        assert!(plan.locked.is_empty());
        assert_eq!(
            plan.changes.len(),
            cal.service_days(d(2026, 9, 1), d(2027, 7, 3)).count()
        );
    }

    #[test]
    fn day_views_show_booked_locked_and_reasons() {
        let cal = calendar();
        let booked = set(&[d(2026, 12, 8)]);
        let rule = DeadlineRule::default();
        let planner = Planner {
            rule: &rule,
            now: nine_am_monday_7_december(),
        };
        let views = planner
            .day_views(&cal, &booked, d(2026, 12, 8), d(2026, 12, 10))
            .unwrap();
        assert_eq!(views.len(), 3);
        assert!(views[0].booked && views[0].locked && views[0].reason.is_none());
        assert_eq!(
            views[1].reason,
            Some(NotBookable::NotAServiceWeekday {
                weekday: Weekday::Wed
            })
        );
        assert!(views[1].locked);
        assert!(!views[2].booked && !views[2].locked);
        assert_eq!(views[2].deadline, Some(paris(d(2026, 12, 7), 10, 0, 0)));
    }

    #[test]
    fn next_open_day_is_the_first_service_day_before_its_deadline() {
        let cal = calendar();
        let rule = DeadlineRule::default();
        let planner = Planner {
            rule: &rule,
            now: nine_am_monday_7_december(),
        };
        assert_eq!(
            planner.next_open_day(&cal),
            Some((d(2026, 12, 10), paris(d(2026, 12, 7), 10, 0, 0)))
        );
        let summer = Planner {
            rule: &rule,
            now: paris(d(2027, 7, 2), 8, 0, 0),
        };
        assert_eq!(summer.next_open_day(&cal), None);
    }

    #[test]
    fn reservations_made_before_a_closure_are_reported() {
        let strike = Closure::new(None, d(2026, 12, 10), d(2026, 12, 10), "grève").unwrap();
        let cal = calendar().with_closures(&1_u64, [&strike]);
        let booked = set(&[d(2026, 12, 8), d(2026, 12, 10)]);
        let stale = reservations_on_non_service_days(&cal, &booked);
        assert_eq!(stale.len(), 1);
        assert_eq!(stale[0].date, d(2026, 12, 10));
    }

    fn arb_booked() -> impl Strategy<Value = BTreeSet<NaiveDate>> {
        proptest::collection::btree_set(
            (0..320u64).prop_map(|i| d(2026, 9, 1) + Days::new(i)),
            0..80,
        )
    }

    proptest! {
        #[test]
        fn pattern_changes_only_unlocked_service_days_and_reaches_the_pattern(
            booked in arb_booked(),
            start in 0..300u64, len in 0..60u64, mask in 0u8..16,
            now_offset in 0..(320 * 86_400i64),
        ) {
            let cal = calendar();
            let e = validated();
            let child = ChildBookings { calendar: &cal, enrollment: &e, booked: &booked };
            let rule = DeadlineRule::default();
            let now = paris(d(2026, 9, 1), 0, 0, 0) + chrono::Duration::seconds(now_offset);
            let planner = Planner { rule: &rule, now };
            let chosen = [Weekday::Mon, Weekday::Tue, Weekday::Thu, Weekday::Fri];
            let weekdays = WeekdaySet::from_days(
                chosen.into_iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, w)| w),
            );
            let from = d(2026, 9, 1) + Days::new(start);
            let request = PatternRequest { from, to: from + Days::new(len), weekdays };
            let plan = planner.pattern(&child, &request).unwrap();
            for change in &plan.changes {
                prop_assert!(cal.is_service_day(change.date));
                prop_assert!(!rule.is_locked(change.date, &cal, now));
                prop_assert_ne!(booked.contains(&change.date), change.booked);
            }
            for locked in &plan.locked {
                prop_assert!(rule.is_locked(locked.date, &cal, now));
            }
            // Replaying the request after applying it changes nothing more.
            let after = apply_changes(&booked, &plan.changes);
            let child = ChildBookings { calendar: &cal, enrollment: &e, booked: &after };
            let replay = planner.pattern(&child, &request).unwrap();
            prop_assert!(replay.changes.is_empty());
            prop_assert_eq!(replay.locked, plan.locked);
            // Every open service day of the range now follows the pattern.
            for day in cal.service_days(request.from, request.to) {
                if !rule.is_locked(day, &cal, now) {
                    prop_assert_eq!(after.contains(&day), weekdays.contains(day.weekday()));
                }
            }
        }
    }
}
