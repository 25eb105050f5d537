//! Absences a family declares, and the certificate it may attach.
//!
//! A declaration is judged for sense only, never for money: the days must be service days of
//! the child's school inside one school year, not far in the past, and a late declaration is
//! still accepted. How much notice each day got is recorded as a [`Notice`], and whether the
//! day is charged is the billing rule's decision on that fact:
//!
//! - [`Notice::BeforeDeadline`]: declared before the day's booking deadline (the family could
//!   also have cancelled the meal itself);
//! - [`Notice::SameMorningIllness`]: an illness declared on the day itself, after the deadline
//!   but before [`SAME_MORNING_CUTOFF`] (12:00 Europe/Paris, before the lunch service), the
//!   case the issue names: a child who wakes up sick;
//! - [`Notice::Late`]: anything else (after the day, after noon, another reason past the
//!   deadline).
//!
//! A certificate is a PDF, JPEG or PNG of at most [`MAX_CERTIFICATE_BYTES`], its type read
//! from its first bytes ([`CertificateType::sniff`]), never from a name or a header a client
//! chose.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use chrono_tz::Europe::Paris;

use crate::calendar::SchoolCalendar;
use crate::deadline::DeadlineRule;

/// The largest certificate accepted: 5 MiB ("5 Mo" for families), a phone photo or a scan.
pub const MAX_CERTIFICATE_BYTES: usize = 5 * 1024 * 1024;

/// The longest comment a family writes with a declaration.
pub const MAX_COMMENT_CHARS: usize = 1000;

/// How far back a declaration may start: a family declaring on the child's return from a
/// long illness, not a claim about last term.
pub const MAX_PAST_DAYS: i64 = 30;

/// The longest range one declaration covers.
pub const MAX_RANGE_DAYS: i64 = 92;

/// An illness declared on the day itself is "same morning" until noon, Paris time: the
/// kitchen still serves that lunch, but the service knows before it starts.
pub const SAME_MORNING_CUTOFF: NaiveTime = match NaiveTime::from_hms_opt(12, 0, 0) {
    Some(t) => t,
    None => panic!("a valid time"),
};

/// Why the child is absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    Illness,
    Other,
}

impl Reason {
    pub const ALL: [Reason; 2] = [Reason::Illness, Reason::Other];

    pub fn code(self) -> &'static str {
        match self {
            Reason::Illness => "illness",
            Reason::Other => "other",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }
}

/// How much notice a declaration gave for one day; see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Notice {
    BeforeDeadline,
    SameMorningIllness,
    Late,
}

impl Notice {
    pub const ALL: [Notice; 3] = [
        Notice::BeforeDeadline,
        Notice::SameMorningIllness,
        Notice::Late,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Notice::BeforeDeadline => "before_deadline",
            Notice::SameMorningIllness => "same_morning_illness",
            Notice::Late => "late",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|n| n.code() == code)
    }

    /// The notice a declaration made at `declared_at` gives for `day`.
    pub fn of(
        reason: Reason,
        day: NaiveDate,
        declared_at: DateTime<Utc>,
        deadline: &DeadlineRule,
        calendar: &SchoolCalendar,
    ) -> Notice {
        if declared_at < deadline.deadline_for(day, calendar) {
            return Notice::BeforeDeadline;
        }
        let local = declared_at.with_timezone(&Paris);
        if reason == Reason::Illness
            && local.date_naive() == day
            && local.time() < SAME_MORNING_CUTOFF
        {
            Notice::SameMorningIllness
        } else {
            Notice::Late
        }
    }
}

/// Where a declaration stands: a manager decides once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Pending,
    Accepted,
    Refused { reason: String },
}

impl Status {
    pub fn code(&self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Accepted => "accepted",
            Status::Refused { .. } => "refused",
        }
    }

    pub fn from_code(code: &str, reason: Option<&str>) -> Option<Self> {
        match (code, reason) {
            ("pending", _) => Some(Status::Pending),
            ("accepted", _) => Some(Status::Accepted),
            ("refused", Some(reason)) => Some(Status::Refused {
                reason: reason.to_owned(),
            }),
            _ => None,
        }
    }
}

/// A refusal of what a family or a manager asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AbsenceError {
    #[error("the last day is before the first, or the range is over {MAX_RANGE_DAYS} days")]
    InvalidRange,
    #[error("the range starts more than {MAX_PAST_DAYS} days ago")]
    TooFarInThePast,
    #[error("the range is not inside one school year")]
    OutsideSchoolYear,
    #[error("no service day of the child's school in the range")]
    NoServiceDay,
    #[error("the comment is over {MAX_COMMENT_CHARS} characters")]
    CommentTooLong,
    #[error("already decided")]
    AlreadyDecided,
    #[error("a refusal needs a reason")]
    RefusalReasonRequired,
    #[error(
        "the reason is over {} characters",
        crate::enrollment::MAX_REASON_CHARS
    )]
    ReasonTooLong,
}

/// Checks a declaration's range at `today`, before any child's calendar is looked at.
pub fn check_range(
    first: NaiveDate,
    last: NaiveDate,
    today: NaiveDate,
) -> Result<(), AbsenceError> {
    if last < first || (last - first).num_days() >= MAX_RANGE_DAYS {
        return Err(AbsenceError::InvalidRange);
    }
    if (today - first).num_days() > MAX_PAST_DAYS {
        return Err(AbsenceError::TooFarInThePast);
    }
    Ok(())
}

/// The service days of one child's school in the range (the range inside `calendar`'s year),
/// each with its notice; at least one, or the declaration makes no sense for that child.
pub fn days_for_child(
    calendar: &SchoolCalendar,
    (first, last): (NaiveDate, NaiveDate),
    reason: Reason,
    declared_at: DateTime<Utc>,
    deadline: &DeadlineRule,
) -> Result<Vec<(NaiveDate, Notice)>, AbsenceError> {
    let year = calendar.year();
    if first < year.first_day() || last > year.last_day() {
        return Err(AbsenceError::OutsideSchoolYear);
    }
    let days: Vec<_> = calendar
        .service_days(first, last)
        .map(|d| (d, Notice::of(reason, d, declared_at, deadline, calendar)))
        .collect();
    if days.is_empty() {
        return Err(AbsenceError::NoServiceDay);
    }
    Ok(days)
}

/// A manager's decision applied to the current status: once, and a refusal says why.
pub fn decide(
    current: &Status,
    accept: bool,
    reason: Option<&str>,
) -> Result<Status, AbsenceError> {
    if *current != Status::Pending {
        return Err(AbsenceError::AlreadyDecided);
    }
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if reason.is_some_and(|r| r.chars().count() > crate::enrollment::MAX_REASON_CHARS) {
        return Err(AbsenceError::ReasonTooLong);
    }
    match (accept, reason) {
        (true, _) => Ok(Status::Accepted),
        (false, Some(reason)) => Ok(Status::Refused {
            reason: reason.to_owned(),
        }),
        (false, None) => Err(AbsenceError::RefusalReasonRequired),
    }
}

/// The kinds of file accepted as a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CertificateType {
    Pdf,
    Jpeg,
    Png,
}

impl CertificateType {
    pub const ALL: [CertificateType; 3] = [
        CertificateType::Pdf,
        CertificateType::Jpeg,
        CertificateType::Png,
    ];

    /// The type the file's first bytes announce, if it is one accepted. A renamed executable
    /// (`\x7fELF…` named `.pdf`) announces nothing accepted.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(b"%PDF-") {
            Some(Self::Pdf)
        } else if bytes.starts_with(b"\xFF\xD8\xFF") {
            Some(Self::Jpeg)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Self::Png)
        } else {
            None
        }
    }

    pub fn media_type(self) -> &'static str {
        match self {
            Self::Pdf => "application/pdf",
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
        }
    }

    pub fn from_media_type(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.media_type() == text)
    }

    /// The extension of the name the file is downloaded under.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Pdf => "pdf",
            Self::Jpeg => "jpg",
            Self::Png => "png",
        }
    }
}

/// Why a file is not accepted as a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CertificateProblem {
    #[error("empty file")]
    Empty,
    #[error("over {MAX_CERTIFICATE_BYTES} bytes")]
    TooLarge,
    #[error("neither PDF, JPEG nor PNG")]
    Type,
}

/// Judges a whole file: not empty, not too large, and of an accepted type by its content.
pub fn check_certificate(bytes: &[u8]) -> Result<CertificateType, CertificateProblem> {
    if bytes.is_empty() {
        return Err(CertificateProblem::Empty);
    }
    if bytes.len() > MAX_CERTIFICATE_BYTES {
        return Err(CertificateProblem::TooLarge);
    }
    CertificateType::sniff(bytes).ok_or(CertificateProblem::Type)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::{HolidayCalendar, SchoolYearLabel, Zone};
    use crate::deadline::paris_to_utc;
    use crate::weekdays::WeekdaySet;
    use chrono::NaiveDateTime;

    fn calendar() -> SchoolCalendar {
        SchoolCalendar::for_year(
            HolidayCalendar::france(),
            "2026-2027".parse::<SchoolYearLabel>().unwrap(),
            Zone::A,
            WeekdaySet::default_service(),
        )
        .unwrap()
    }

    fn at(text: &str) -> DateTime<Utc> {
        paris_to_utc(NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap())
    }

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn an_illness_declared_the_same_morning_after_the_deadline_is_same_morning_until_noon() {
        let (rule, cal) = (DeadlineRule::default(), calendar());
        // Thursday 3 December 2026; its deadline (2 service days before, Wednesday unserved) was
        // Monday 30 November at 10:00.
        let thursday = day("2026-12-03");
        let notice = |reason, when| Notice::of(reason, thursday, at(when), &rule, &cal);
        assert_eq!(
            notice(Reason::Illness, "2026-12-03 07:45"),
            Notice::SameMorningIllness
        );
        assert_eq!(
            notice(Reason::Illness, "2026-12-03 11:59"),
            Notice::SameMorningIllness
        );
        assert_eq!(notice(Reason::Illness, "2026-12-03 12:00"), Notice::Late);
        assert_eq!(notice(Reason::Other, "2026-12-03 07:45"), Notice::Late);
        assert_eq!(notice(Reason::Illness, "2026-12-02 20:00"), Notice::Late);
        assert_eq!(
            notice(Reason::Other, "2026-11-30 09:59"),
            Notice::BeforeDeadline
        );
    }

    #[test]
    fn days_are_the_schools_service_days_in_the_range() {
        let (rule, cal) = (DeadlineRule::default(), calendar());
        // Monday 7 to Friday 11 December: Wednesday is not served.
        let days = days_for_child(
            &cal,
            (day("2026-12-07"), day("2026-12-11")),
            Reason::Illness,
            at("2026-12-07 08:00"),
            &rule,
        )
        .unwrap();
        let dates: Vec<_> = days.iter().map(|(d, _)| d.to_string()).collect();
        assert_eq!(
            dates,
            ["2026-12-07", "2026-12-08", "2026-12-10", "2026-12-11"]
        );
        assert_eq!(days[0].1, Notice::SameMorningIllness);
        assert_eq!(days[1].1, Notice::Late);
        assert_eq!(days[3].1, Notice::BeforeDeadline);
    }

    #[test]
    fn a_range_without_a_service_day_or_outside_the_year_is_refused() {
        let (rule, cal) = (DeadlineRule::default(), calendar());
        let now = at("2026-12-01 08:00");
        let weekend = (day("2026-12-05"), day("2026-12-06"));
        assert_eq!(
            days_for_child(&cal, weekend, Reason::Other, now, &rule),
            Err(AbsenceError::NoServiceDay)
        );
        let summer = (day("2027-07-20"), day("2027-07-21"));
        assert_eq!(
            days_for_child(&cal, summer, Reason::Other, now, &rule),
            Err(AbsenceError::OutsideSchoolYear)
        );
    }

    #[test]
    fn ranges_are_ordered_bounded_and_not_far_in_the_past() {
        let today = day("2026-12-10");
        assert_eq!(
            check_range(day("2026-12-10"), day("2026-12-10"), today),
            Ok(())
        );
        assert_eq!(
            check_range(day("2026-11-10"), day("2026-11-12"), today),
            Ok(())
        );
        assert_eq!(
            check_range(day("2026-11-09"), day("2026-11-12"), today),
            Err(AbsenceError::TooFarInThePast)
        );
        assert_eq!(
            check_range(day("2026-12-11"), day("2026-12-10"), today),
            Err(AbsenceError::InvalidRange)
        );
        assert_eq!(
            check_range(day("2026-12-10"), day("2027-03-15"), today),
            Err(AbsenceError::InvalidRange)
        );
    }

    #[test]
    fn a_decision_is_taken_once_and_a_refusal_says_why() {
        assert_eq!(decide(&Status::Pending, true, None), Ok(Status::Accepted));
        assert_eq!(
            decide(&Status::Pending, false, Some("  ")),
            Err(AbsenceError::RefusalReasonRequired)
        );
        assert_eq!(
            decide(&Status::Pending, false, Some(" Pas de certificat ")),
            Ok(Status::Refused {
                reason: "Pas de certificat".into()
            })
        );
        assert_eq!(
            decide(&Status::Accepted, true, None),
            Err(AbsenceError::AlreadyDecided)
        );
        assert_eq!(
            decide(&Status::Pending, false, Some(&"x".repeat(501))),
            Err(AbsenceError::ReasonTooLong)
        );
    }

    #[test]
    fn the_certificate_type_comes_from_the_content() {
        assert_eq!(check_certificate(b"%PDF-1.4\n"), Ok(CertificateType::Pdf));
        assert_eq!(
            check_certificate(b"\xFF\xD8\xFF\xE0\0\x10JFIF"),
            Ok(CertificateType::Jpeg)
        );
        assert_eq!(
            check_certificate(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Ok(CertificateType::Png)
        );
        assert_eq!(
            check_certificate(b"\x7fELF\x02\x01\x01\0"),
            Err(CertificateProblem::Type)
        );
        assert_eq!(check_certificate(b"%PD"), Err(CertificateProblem::Type));
        assert_eq!(check_certificate(b""), Err(CertificateProblem::Empty));
        let mut big = b"%PDF-".to_vec();
        big.resize(MAX_CERTIFICATE_BYTES + 1, b' ');
        assert_eq!(check_certificate(&big), Err(CertificateProblem::TooLarge));
        big.truncate(MAX_CERTIFICATE_BYTES);
        assert_eq!(check_certificate(&big), Ok(CertificateType::Pdf));
    }
}
