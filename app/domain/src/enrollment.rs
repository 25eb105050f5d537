//! A child's enrollment in the canteen for one school year, and its state machine.
//!
//! ```text
//! Pending ──validate──▶ Validated ──cancel──▶ Cancelled
//!    │
//!    └──reject(reason)──▶ Rejected
//! ```
//! Only a validated enrollment allows booking. Every other move is refused with a stable
//! code, so that a manager double-clicking "valider" gets a clear answer instead of a silent
//! second validation (which would book the year twice over).

use std::fmt;

use serde::{Deserialize, Serialize};

use super::calendar::SchoolYearLabel;
use super::weekdays::WeekdaySet;

/// The longest rejection reason kept: it is a message to a family, not a letter.
pub const MAX_REASON_CHARS: usize = 500;

/// Where an enrollment stands.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum EnrollmentStatus {
    /// Requested by a guardian, waiting for a manager.
    Pending,
    /// Accepted: the child may eat at the canteen and be booked.
    Validated,
    /// Refused by a manager, with the reason given to the family.
    Rejected {
        /// The reason shown to the family.
        reason: String,
    },
    /// Ended after validation (the child left the school, the family withdrew…).
    Cancelled,
}

impl EnrollmentStatus {
    /// Stable code (`pending`, `validated`, `rejected`, `cancelled`), e.g. for a database enum.
    pub fn code(&self) -> &'static str {
        match self {
            EnrollmentStatus::Pending => "pending",
            EnrollmentStatus::Validated => "validated",
            EnrollmentStatus::Rejected { .. } => "rejected",
            EnrollmentStatus::Cancelled => "cancelled",
        }
    }

    /// Rebuilds a status from its stored code and, for `rejected`, its reason.
    pub fn from_code(code: &str, reason: Option<&str>) -> Option<Self> {
        match (code, reason) {
            ("pending", _) => Some(EnrollmentStatus::Pending),
            ("validated", _) => Some(EnrollmentStatus::Validated),
            ("rejected", Some(reason)) => Some(EnrollmentStatus::Rejected {
                reason: reason.to_owned(),
            }),
            ("cancelled", _) => Some(EnrollmentStatus::Cancelled),
            _ => None,
        }
    }
}

impl fmt::Display for EnrollmentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The actions of the state machine, named for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EnrollmentAction {
    /// A manager accepts.
    Validate,
    /// A manager refuses.
    Reject,
    /// The enrollment ends.
    Cancel,
}

impl EnrollmentAction {
    /// Stable name of the action (`validate`, `reject`, `cancel`).
    pub fn code(self) -> &'static str {
        match self {
            EnrollmentAction::Validate => "validate",
            EnrollmentAction::Reject => "reject",
            EnrollmentAction::Cancel => "cancel",
        }
    }
}

/// Why an enrollment cannot be created or moved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnrollmentError {
    /// The action is not allowed from the current status.
    #[error("cannot {} an enrollment that is {from}", action.code())]
    InvalidTransition {
        /// Current status code.
        from: &'static str,
        /// The action attempted.
        action: EnrollmentAction,
    },
    /// A rejection without a (non-blank) reason.
    #[error("a rejection needs a reason for the family")]
    RejectionReasonRequired,
    /// A rejection reason longer than [`MAX_REASON_CHARS`].
    #[error("the rejection reason is longer than {MAX_REASON_CHARS} characters")]
    RejectionReasonTooLong,
    /// Usual weekdays on which the school's canteen does not serve.
    #[error("the canteen does not serve on {0}")]
    WeekdaysNotServed(WeekdaySet),
}

impl EnrollmentError {
    /// Stable machine-readable code for API problems.
    pub fn code(&self) -> &'static str {
        match self {
            EnrollmentError::InvalidTransition { .. } => "invalid_transition",
            EnrollmentError::RejectionReasonRequired => "rejection_reason_required",
            EnrollmentError::RejectionReasonTooLong => "validation",
            EnrollmentError::WeekdaysNotServed(_) => "weekday_not_served",
        }
    }
}

/// A child's enrollment for one school year (the child and school ids are the caller's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrollment {
    school_year: SchoolYearLabel,
    usual_weekdays: WeekdaySet,
    status: EnrollmentStatus,
}

impl Enrollment {
    /// A new, pending request. The usual weekdays must be among the school's service weekdays;
    /// an empty set is allowed (a child who only eats on days booked one by one).
    pub fn request(
        school_year: SchoolYearLabel,
        usual_weekdays: WeekdaySet,
        service_weekdays: WeekdaySet,
    ) -> Result<Self, EnrollmentError> {
        let not_served = usual_weekdays.difference(service_weekdays);
        if !not_served.is_empty() {
            return Err(EnrollmentError::WeekdaysNotServed(not_served));
        }
        Ok(Enrollment {
            school_year,
            usual_weekdays,
            status: EnrollmentStatus::Pending,
        })
    }

    /// Rebuilds a stored enrollment as it is, without re-checking the weekdays (the school's
    /// service days may have changed since it was validated).
    pub fn restore(
        school_year: SchoolYearLabel,
        usual_weekdays: WeekdaySet,
        status: EnrollmentStatus,
    ) -> Self {
        Enrollment {
            school_year,
            usual_weekdays,
            status,
        }
    }

    /// The school year enrolled for.
    pub fn school_year(&self) -> SchoolYearLabel {
        self.school_year
    }

    /// The weekdays the child usually eats at the canteen.
    pub fn usual_weekdays(&self) -> WeekdaySet {
        self.usual_weekdays
    }

    /// The current status.
    pub fn status(&self) -> &EnrollmentStatus {
        &self.status
    }

    /// Whether meals may be booked under this enrollment (validated only).
    pub fn allows_booking(&self) -> bool {
        self.status == EnrollmentStatus::Validated
    }

    fn refuse(&self, action: EnrollmentAction) -> EnrollmentError {
        EnrollmentError::InvalidTransition {
            from: self.status.code(),
            action,
        }
    }

    /// Pending → Validated. The caller then books the usual weekdays with
    /// [`Planner::enrollment_validation`](super::booking::Planner::enrollment_validation).
    pub fn validate(&mut self) -> Result<(), EnrollmentError> {
        match self.status {
            EnrollmentStatus::Pending => {
                self.status = EnrollmentStatus::Validated;
                Ok(())
            }
            _ => Err(self.refuse(EnrollmentAction::Validate)),
        }
    }

    /// Pending → Rejected, with a non-blank reason (trimmed) shown to the family.
    pub fn reject(&mut self, reason: &str) -> Result<(), EnrollmentError> {
        if self.status != EnrollmentStatus::Pending {
            return Err(self.refuse(EnrollmentAction::Reject));
        }
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(EnrollmentError::RejectionReasonRequired);
        }
        if reason.chars().count() > MAX_REASON_CHARS {
            return Err(EnrollmentError::RejectionReasonTooLong);
        }
        self.status = EnrollmentStatus::Rejected {
            reason: reason.to_owned(),
        };
        Ok(())
    }

    /// Validated → Cancelled. (A pending request that is not wanted is rejected instead, so
    /// the family always learns why.)
    pub fn cancel(&mut self) -> Result<(), EnrollmentError> {
        match self.status {
            EnrollmentStatus::Validated => {
                self.status = EnrollmentStatus::Cancelled;
                Ok(())
            }
            _ => Err(self.refuse(EnrollmentAction::Cancel)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Weekday;

    fn pending() -> Enrollment {
        Enrollment::request(
            "2026-2027".parse().unwrap(),
            WeekdaySet::from_days([Weekday::Mon, Weekday::Thu]),
            WeekdaySet::default_service(),
        )
        .unwrap()
    }

    fn in_status(status: EnrollmentStatus) -> Enrollment {
        Enrollment::restore(
            "2026-2027".parse().unwrap(),
            WeekdaySet::default_service(),
            status,
        )
    }

    fn all_statuses() -> [EnrollmentStatus; 4] {
        [
            EnrollmentStatus::Pending,
            EnrollmentStatus::Validated,
            EnrollmentStatus::Rejected {
                reason: "dossier incomplet".into(),
            },
            EnrollmentStatus::Cancelled,
        ]
    }

    #[test]
    fn new_enrollment_is_pending_and_does_not_allow_booking() {
        let e = pending();
        assert_eq!(e.status(), &EnrollmentStatus::Pending);
        assert!(!e.allows_booking());
    }

    #[test]
    fn validated_enrollment_allows_booking() {
        let mut e = pending();
        e.validate().unwrap();
        assert_eq!(e.status(), &EnrollmentStatus::Validated);
        assert!(e.allows_booking());
    }

    #[test]
    fn usual_weekdays_must_be_service_weekdays() {
        let err = Enrollment::request(
            "2026-2027".parse().unwrap(),
            WeekdaySet::from_days([Weekday::Mon, Weekday::Wed]),
            WeekdaySet::default_service(),
        )
        .unwrap_err();
        assert_eq!(
            err,
            EnrollmentError::WeekdaysNotServed(WeekdaySet::from_days([Weekday::Wed]))
        );
        assert_eq!(err.code(), "weekday_not_served");
        assert_eq!(err.to_string(), "the canteen does not serve on wed");
    }

    #[test]
    fn enrollment_without_usual_weekdays_is_allowed() {
        let e = Enrollment::request(
            "2026-2027".parse().unwrap(),
            WeekdaySet::EMPTY,
            WeekdaySet::default_service(),
        );
        assert!(e.is_ok());
    }

    #[test]
    fn rejection_needs_a_reason() {
        let mut e = pending();
        for blank in ["", "   ", "\n"] {
            let err = e.reject(blank).unwrap_err();
            assert_eq!(err, EnrollmentError::RejectionReasonRequired);
            assert_eq!(err.code(), "rejection_reason_required");
        }
        assert_eq!(e.status(), &EnrollmentStatus::Pending, "nothing changed");
        e.reject("  école hors commune ").unwrap();
        assert_eq!(
            e.status(),
            &EnrollmentStatus::Rejected {
                reason: "école hors commune".into()
            }
        );
        assert!(!e.allows_booking());
    }

    #[test]
    fn overlong_rejection_reason_is_refused() {
        let mut e = pending();
        let err = e.reject(&"x".repeat(MAX_REASON_CHARS + 1)).unwrap_err();
        assert_eq!(err, EnrollmentError::RejectionReasonTooLong);
        assert!(e.reject(&"é".repeat(MAX_REASON_CHARS)).is_ok());
    }

    #[test]
    fn validated_enrollment_can_be_cancelled() {
        let mut e = pending();
        e.validate().unwrap();
        e.cancel().unwrap();
        assert_eq!(e.status(), &EnrollmentStatus::Cancelled);
        assert!(!e.allows_booking());
    }

    #[test]
    fn only_pending_can_be_validated_or_rejected_and_only_validated_cancelled() {
        for status in all_statuses() {
            let mut e = in_status(status.clone());
            let pending = status == EnrollmentStatus::Pending;
            assert_eq!(
                e.clone().validate().is_ok(),
                pending,
                "validate from {status}"
            );
            assert_eq!(
                e.clone().reject("motif").is_ok(),
                pending,
                "reject from {status}"
            );
            let validated = status == EnrollmentStatus::Validated;
            assert_eq!(e.cancel().is_ok(), validated, "cancel from {status}");
        }
    }

    #[test]
    fn invalid_transition_has_a_stable_code_and_changes_nothing() {
        let mut e = in_status(EnrollmentStatus::Validated);
        let err = e.validate().unwrap_err();
        assert_eq!(
            err,
            EnrollmentError::InvalidTransition {
                from: "validated",
                action: EnrollmentAction::Validate
            }
        );
        assert_eq!(err.code(), "invalid_transition");
        assert_eq!(
            err.to_string(),
            "cannot validate an enrollment that is validated"
        );
        assert_eq!(e.status(), &EnrollmentStatus::Validated);

        let mut e = pending();
        assert_eq!(e.cancel().unwrap_err().code(), "invalid_transition");
        assert_eq!(e.status(), &EnrollmentStatus::Pending);
    }

    #[test]
    fn status_round_trips_through_its_code() {
        for status in all_statuses() {
            let reason = match &status {
                EnrollmentStatus::Rejected { reason } => Some(reason.as_str()),
                _ => None,
            };
            assert_eq!(
                EnrollmentStatus::from_code(status.code(), reason),
                Some(status)
            );
        }
        assert_eq!(EnrollmentStatus::from_code("rejected", None), None);
        assert_eq!(EnrollmentStatus::from_code("accepted", None), None);
    }
}
