//! The services' one error type. It says what went wrong as data (which rule, which field,
//! which day) and never how to word it: the HTTP edge maps each variant to a status and a
//! stable [`Code`], and its French presenter (`http::present`) words it for families.

use cantine_domain::absence::{AbsenceError, CertificateProblem};
use cantine_domain::booking::BookingError;
use cantine_domain::calendar::SchoolYearLabel;
use cantine_domain::custody::CustodyError;
use cantine_domain::enrollment::EnrollmentError;
use cantine_domain::tariff::TariffError;
use chrono::NaiveDate;
use serde::Serialize;

/// The stable machine-readable problem codes: API clients branch on them, so a code never
/// changes meaning. The OpenAPI `Problem` schema lists them from this enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    NotFound,
    Unauthorized,
    Csrf,
    NotAGuardian,
    EmailNotConfirmed,
    Validation,
    InvalidCredentials,
    EmailTaken,
    InvitationMismatch,
    InvalidToken,
    AlreadyEnrolled,
    NotEnrolled,
    DeadlinePassed,
    NotAServiceDay,
    WeekdayNotServed,
    InvalidTransition,
    RejectionReasonRequired,
    MalformedJson,
    BadRequest,
    PayloadTooLarge,
    UnsupportedMediaType,
    TooManyRequests,
    RequestTimeout,
    MethodNotAllowed,
    Internal,
    Forbidden,
    SecondFactorRequired,
    InvalidSecondFactor,
    SecondFactorEnrolled,
    /// A certificate that is neither PDF, JPEG nor PNG by its content.
    UnsupportedCertificate,
    AttendanceLocked,
    AlreadyIssued,
    ContestOpen,
    AmountExceeded,
    NoTariff,
    /// Shared custody: the day is the other household's, which books it.
    OtherHouseholdsDay,
    /// A setting the action needs is missing from the configuration (`[accounting]`).
    NotConfigured,
    /// The PES V2 file cannot be written from the month's data or the identifiers.
    PesRejected,
    /// An earlier online payment of the invoice may still succeed.
    PaymentInProgress,
    /// The invoice has nothing left to pay.
    NothingToPay,
    /// Online payment is not offered for this invoice, or PayFiP cannot take it now.
    PaymentUnavailable,
    /// A payment's idempotency key already recorded another request.
    IdempotencyKeyReused,
    /// The PayFiP attempt is not a mismatch waiting for finance (or already decided).
    MismatchNotOpen,
    /// A mandate's IBAN fails its checksum or its country's format.
    InvalidIban,
    /// The household already has an active direct-debit mandate.
    MandateActive,
}

impl Code {
    pub const ALL: [Code; 45] = [
        Code::NotFound,
        Code::Unauthorized,
        Code::Csrf,
        Code::NotAGuardian,
        Code::EmailNotConfirmed,
        Code::Validation,
        Code::InvalidCredentials,
        Code::EmailTaken,
        Code::InvitationMismatch,
        Code::InvalidToken,
        Code::AlreadyEnrolled,
        Code::NotEnrolled,
        Code::DeadlinePassed,
        Code::NotAServiceDay,
        Code::WeekdayNotServed,
        Code::InvalidTransition,
        Code::RejectionReasonRequired,
        Code::MalformedJson,
        Code::BadRequest,
        Code::PayloadTooLarge,
        Code::UnsupportedMediaType,
        Code::TooManyRequests,
        Code::RequestTimeout,
        Code::MethodNotAllowed,
        Code::Internal,
        Code::Forbidden,
        Code::SecondFactorRequired,
        Code::InvalidSecondFactor,
        Code::SecondFactorEnrolled,
        Code::UnsupportedCertificate,
        Code::AttendanceLocked,
        Code::AlreadyIssued,
        Code::ContestOpen,
        Code::AmountExceeded,
        Code::NoTariff,
        Code::OtherHouseholdsDay,
        Code::NotConfigured,
        Code::PesRejected,
        Code::PaymentInProgress,
        Code::NothingToPay,
        Code::PaymentUnavailable,
        Code::IdempotencyKeyReused,
        Code::MismatchNotOpen,
        Code::InvalidIban,
        Code::MandateActive,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Code::NotFound => "not_found",
            Code::Unauthorized => "unauthorized",
            Code::Csrf => "csrf",
            Code::NotAGuardian => "not_a_guardian",
            Code::EmailNotConfirmed => "email_not_confirmed",
            Code::Validation => "validation",
            Code::InvalidCredentials => "invalid_credentials",
            Code::EmailTaken => "email_taken",
            Code::InvitationMismatch => "invitation_mismatch",
            Code::InvalidToken => "invalid_token",
            Code::AlreadyEnrolled => "already_enrolled",
            Code::NotEnrolled => "not_enrolled",
            Code::DeadlinePassed => "deadline_passed",
            Code::NotAServiceDay => "not_a_service_day",
            Code::WeekdayNotServed => "weekday_not_served",
            Code::InvalidTransition => "invalid_transition",
            Code::RejectionReasonRequired => "rejection_reason_required",
            Code::MalformedJson => "malformed_json",
            Code::BadRequest => "bad_request",
            Code::PayloadTooLarge => "payload_too_large",
            Code::UnsupportedMediaType => "unsupported_media_type",
            Code::TooManyRequests => "too_many_requests",
            Code::RequestTimeout => "request_timeout",
            Code::MethodNotAllowed => "method_not_allowed",
            Code::Internal => "internal",
            Code::Forbidden => "forbidden",
            Code::SecondFactorRequired => "second_factor_required",
            Code::InvalidSecondFactor => "invalid_second_factor",
            Code::SecondFactorEnrolled => "second_factor_enrolled",
            Code::UnsupportedCertificate => "unsupported_certificate",
            Code::AttendanceLocked => "attendance_locked",
            Code::AlreadyIssued => "already_issued",
            Code::ContestOpen => "contest_open",
            Code::AmountExceeded => "amount_exceeded",
            Code::NoTariff => "no_tariff",
            Code::OtherHouseholdsDay => "other_households_day",
            Code::NotConfigured => "not_configured",
            Code::PesRejected => "pes_rejected",
            Code::PaymentInProgress => "payment_in_progress",
            Code::NothingToPay => "nothing_to_pay",
            Code::PaymentUnavailable => "payment_unavailable",
            Code::IdempotencyKeyReused => "idempotency_key_reused",
            Code::MismatchNotOpen => "mismatch_not_open",
            Code::InvalidIban => "invalid_iban",
            Code::MandateActive => "mandate_active",
        }
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an action is refused to this person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The request may have been forged by another site.
    Csrf,
    /// Only a household's guardians may do this.
    NotAGuardian,
    /// The account exists but its address was never confirmed.
    EmailNotConfirmed,
    /// None of the person's roles allows this (a family account has none).
    Role,
    /// A staff login needs the second factor; a session opened without it may only enrol one.
    SecondFactorRequired,
    /// Shared custody: only the child's own household changes its record and enrollment.
    FirstHouseholdOnly,
}

/// A text field a person typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    FirstName,
    LastName,
    Allergies,
    Reason,
    Document,
    PostalAddress,
    /// The word typed to confirm an irreversible action (closing an account).
    Confirmation,
}

/// Input that does not make sense (422).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalid {
    /// A blank field.
    Required {
        field: Field,
    },
    /// A field longer than allowed; `max` when the message should say the limit.
    TooLong {
        field: Field,
        max: Option<usize>,
    },
    /// A name, blank or longer than `max` characters.
    Name {
        field: Field,
        max: usize,
    },
    Email,
    PasswordTooShort {
        min: usize,
    },
    PasswordTooLong,
    PhoneTooLong,
    ClassLevel,
    Diet,
    BirthDate,
    UnknownSchool,
    /// A pattern for no child, or for more than a family has.
    ChildrenCount {
        max: usize,
    },
    SchoolYear,
    /// Enrollments for that year are not open (its calendar is not in the database).
    YearNotOpen(SchoolYearLabel),
    /// A day outside every school year of the calendar.
    OutsideSchoolYear(NaiveDate),
    Credentials,
    /// A second factor that is not the current code nor a live recovery code.
    SecondFactor,
    /// A role the service does not know, `school_staff` without a school, or a school for
    /// another role.
    Roles,
    /// A search of fewer than 2 characters, or over 100.
    Search,
    /// A quotient familial below 0 or above 100,000 euros.
    QuotientFamilial,
    /// Text holding a character the database cannot store (U+0000).
    Character,
    /// Attendance marked or locked for a day still to come.
    AttendanceDay(NaiveDate),
    Enrollment(EnrollmentError),
    Booking(BookingError),
    /// An absence's days, comment or decision that make no sense.
    Absence(AbsenceError),
    /// A certificate file that is empty, too large or of a type not accepted.
    Certificate(CertificateProblem),
    /// A page's own parameter or form field, judged at the edge.
    Form(FormProblem),
    /// A JSON body or query string that parses but does not fit the schema; the text is the
    /// decoder's, naming the field.
    Request(String),
    /// A day's menu that cannot be served as written.
    Menu(MenuProblem),
    /// A caterer's menu file with bad lines: every one found, by line number. Nothing of the
    /// file was written.
    Import(Vec<ImportProblem>),
    /// A tariff that does not price every QF exactly once, or out-of-range prices.
    Tariff(TariffError),
    /// A month written otherwise than `2026-11`.
    Month,
    /// An amount that is zero, negative or above what the action allows.
    Amount,
    Custody(CustodyError),
    /// A mandate's IBAN, BIC, holder or date, or a rejection's reason code.
    Sepa(cantine_domain::sepa::SepaError),
    /// A shared custody's other household that does not exist, or is the child's own.
    OtherHousehold,
    /// A custody given by ranges with none, or more than `max`.
    RangeCount {
        max: usize,
    },
}

/// What a day's menu can get wrong. A value not in its list is given back as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MenuProblem {
    Course(String),
    /// A dish name blank, or longer than `max` characters (the SCDL schema's limit).
    DishName {
        max: usize,
    },
    Allergen(String),
    Regime(String),
    QualitySign(String),
    TooManyDishes {
        max: usize,
    },
    /// A list of menus over more days than one request lists.
    RangeTooLong {
        max_days: i64,
    },
}

/// One bad line of a caterer's file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportProblem {
    /// 1-based, as a spreadsheet numbers it; the header is line 1.
    pub line: usize,
    pub kind: ImportLine,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportLine {
    /// The first line is not the documented header.
    Header,
    /// No line after the header.
    Empty,
    /// A quoted cell never closed.
    Quote,
    /// Bytes that are not UTF-8 (a file saved in another encoding).
    Encoding,
    Columns {
        expected: usize,
        found: usize,
    },
    Date(String),
    OutsideSchoolYear(NaiveDate),
    School(String),
    Menu(MenuProblem),
    /// Lines beyond what one import takes.
    TooManyLines {
        max: usize,
    },
}

/// What a page form can get wrong before any service sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormProblem {
    Month,
    Action,
    Date {
        what: &'static str,
    },
    School,
    Weekdays,
    NoWeekday,
    PageAddress,
    /// The two passwords typed differ.
    PasswordMismatch,
    /// A number expected (an amount, an id typed in a filter).
    Number {
        what: &'static str,
    },
    /// A shared custody's form without its kind of arrangement.
    CustodyKind,
    /// An amount in euros expected ("3,50").
    Euros {
        what: &'static str,
    },
    /// A decimal number expected ("0,45").
    Decimal {
        what: &'static str,
    },
    /// A form that asks its box ticked before an irreversible action.
    Confirmation,
}

/// Well-formed input that the current state refuses (409).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conflict {
    EmailTaken,
    InvitationMismatch,
    InvalidInvitation,
    InvalidConfirmation,
    InvalidPasswordLink,
    SecondFactorEnrolled,
    AlreadyEnrolled,
    /// A closure was recorded while the booking was on its way.
    DayClosed,
    Enrollment(EnrollmentError),
    Booking(BookingError),
    /// The absence is already decided.
    Absence(AbsenceError),
    /// The day's attendance is locked: only a manager corrects it.
    AttendanceLocked,
    /// Shared custody: on that day the child is with the other household, which books it.
    OtherHouseholdsDay {
        child: String,
        date: NaiveDate,
    },
    /// Shared custody: every day of an absence is the other household's, which declares it.
    OtherHouseholdsDays {
        child: String,
    },
    Billing(BillingConflict),
    /// The PES export needs these `[accounting]` keys, unset.
    AccountingNotConfigured(Vec<&'static str>),
    /// The PES writer refused the month's file (a malformed identifier, an address too long).
    Pes(cantine_domain::pes::PesError),
    Payment(PaymentConflict),
    Sepa(SepaConflict),
}

/// What the state of SEPA direct debit refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SepaConflict {
    /// The household already has an active mandate: revoke it first.
    MandateActive,
    /// The mandate is already revoked.
    MandateRevoked,
    /// The run is a draft: only issued invoices are collected.
    RunNotIssued,
    /// No invoice of the run is left to collect under an active mandate.
    NothingToCollect,
    /// The debit's rejection is already entered (under another key).
    AlreadyRejected,
    /// These `[sepa]` keys are unset.
    NotConfigured(Vec<&'static str>),
}

/// What an online payment's state, or PayFiP, refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentConflict {
    /// An earlier attempt on the invoice may still succeed (its page is open, or PayFiP has
    /// not decided): a second one could make the family pay twice.
    InProgress,
    /// Paid, cancelled by credit notes, or not issued.
    NothingToPay,
    /// The régie takes no payment online (no PayFiP client number), or what is due is below
    /// PayFiP's 1 € or above its 100,000 €.
    NotOffered,
    /// PayFiP did not answer, or answered a technical fault: worth trying again later (503).
    Unavailable,
    /// PayFiP refused the operation with a functional fault, whose code is kept for the logs.
    Refused { code: String },
    /// Finance resolves only a mismatch not yet decided.
    MismatchNotOpen,
}

/// What the state of billing refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BillingConflict {
    /// The month's run is already issued: changes go into the next month's run.
    RunIssued,
    /// Nothing drafted to issue for that month.
    NoDraft,
    /// An issued invoice is never edited: a correction is a credit note.
    InvoiceIssued,
    /// The line already has an open contest.
    ContestOpen,
    /// The contest is already answered.
    ContestAnswered,
    /// A credit note above what is left of the invoice, or a refund above the credit.
    AmountExceeded { max: cantine_domain::money::Cents },
    /// No tariff applies to this day: finance has not set the year's prices.
    NoTariff(NaiveDate),
    /// The year already has a tariff version from that day; versions are never edited.
    TariffVersionExists(NaiveDate),
    /// A payment's idempotency key already recorded another request (another household, amount
    /// or invoice): a retry must repeat the request it retries.
    IdempotencyKeyReused,
}

/// Input that cannot even be read (400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Malformed {
    Json,
    Form,
    /// Another unreadable request; the text is the decoder's.
    Other(String),
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Also what another household's child looks like: we do not reveal that it exists.
    #[error("not found")]
    NotFound,
    #[error("authentication required")]
    Unauthorized,
    #[error("forbidden: {0:?}")]
    Forbidden(Refusal),
    #[error("invalid: {0:?}")]
    Invalid(Invalid),
    #[error("conflict: {0:?}")]
    Conflict(Conflict),
    #[error("malformed: {0:?}")]
    Malformed(Malformed),
    #[error("payload too large")]
    TooLarge,
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("too many attempts")]
    TooManyRequests,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl Error {
    /// The stable machine-readable code.
    pub fn code(&self) -> Code {
        match self {
            Self::NotFound => Code::NotFound,
            Self::Unauthorized => Code::Unauthorized,
            Self::Forbidden(Refusal::Csrf) => Code::Csrf,
            Self::Forbidden(Refusal::NotAGuardian) => Code::NotAGuardian,
            Self::Forbidden(Refusal::EmailNotConfirmed) => Code::EmailNotConfirmed,
            Self::Forbidden(Refusal::Role | Refusal::FirstHouseholdOnly) => Code::Forbidden,
            Self::Forbidden(Refusal::SecondFactorRequired) => Code::SecondFactorRequired,
            Self::Invalid(invalid) => match invalid {
                Invalid::Credentials => Code::InvalidCredentials,
                Invalid::SecondFactor => Code::InvalidSecondFactor,
                Invalid::Enrollment(e) => enrollment_code(e),
                Invalid::Booking(e) => booking_code(e),
                Invalid::Absence(e) => absence_code(e),
                Invalid::Certificate(CertificateProblem::TooLarge) => Code::PayloadTooLarge,
                Invalid::Certificate(CertificateProblem::Type) => Code::UnsupportedCertificate,
                // A date outside the year is refused like any non-service day.
                Invalid::OutsideSchoolYear(_) => Code::NotAServiceDay,
                Invalid::Sepa(cantine_domain::sepa::SepaError::Iban) => Code::InvalidIban,
                _ => Code::Validation,
            },
            Self::Conflict(conflict) => match conflict {
                Conflict::EmailTaken => Code::EmailTaken,
                Conflict::InvitationMismatch => Code::InvitationMismatch,
                Conflict::InvalidInvitation
                | Conflict::InvalidConfirmation
                | Conflict::InvalidPasswordLink => Code::InvalidToken,
                Conflict::SecondFactorEnrolled => Code::SecondFactorEnrolled,
                Conflict::AlreadyEnrolled => Code::AlreadyEnrolled,
                Conflict::DayClosed => Code::NotAServiceDay,
                Conflict::Enrollment(e) => enrollment_code(e),
                Conflict::Booking(e) => booking_code(e),
                Conflict::Absence(e) => absence_code(e),
                Conflict::AttendanceLocked => Code::AttendanceLocked,
                Conflict::Billing(BillingConflict::RunIssued | BillingConflict::InvoiceIssued) => {
                    Code::AlreadyIssued
                }
                Conflict::Billing(
                    BillingConflict::NoDraft
                    | BillingConflict::ContestAnswered
                    | BillingConflict::TariffVersionExists(_),
                ) => Code::InvalidTransition,
                Conflict::Billing(BillingConflict::ContestOpen) => Code::ContestOpen,
                Conflict::Billing(BillingConflict::AmountExceeded { .. }) => Code::AmountExceeded,
                Conflict::Billing(BillingConflict::NoTariff(_)) => Code::NoTariff,
                Conflict::Billing(BillingConflict::IdempotencyKeyReused) => {
                    Code::IdempotencyKeyReused
                }
                Conflict::OtherHouseholdsDay { .. } | Conflict::OtherHouseholdsDays { .. } => {
                    Code::OtherHouseholdsDay
                }
                Conflict::AccountingNotConfigured(_) => Code::NotConfigured,
                Conflict::Pes(_) => Code::PesRejected,
                Conflict::Payment(PaymentConflict::InProgress) => Code::PaymentInProgress,
                Conflict::Payment(PaymentConflict::NothingToPay) => Code::NothingToPay,
                Conflict::Payment(PaymentConflict::MismatchNotOpen) => Code::MismatchNotOpen,
                Conflict::Payment(
                    PaymentConflict::NotOffered
                    | PaymentConflict::Unavailable
                    | PaymentConflict::Refused { .. },
                ) => Code::PaymentUnavailable,
                Conflict::Sepa(SepaConflict::MandateActive) => Code::MandateActive,
                Conflict::Sepa(
                    SepaConflict::MandateRevoked
                    | SepaConflict::RunNotIssued
                    | SepaConflict::AlreadyRejected,
                ) => Code::InvalidTransition,
                Conflict::Sepa(SepaConflict::NothingToCollect) => Code::NothingToPay,
                Conflict::Sepa(SepaConflict::NotConfigured(_)) => Code::NotConfigured,
            },
            Self::Malformed(Malformed::Json) => Code::MalformedJson,
            Self::Malformed(_) => Code::BadRequest,
            Self::TooLarge => Code::PayloadTooLarge,
            Self::UnsupportedMediaType => Code::UnsupportedMediaType,
            Self::TooManyRequests => Code::TooManyRequests,
            Self::Internal(_) => Code::Internal,
        }
    }

    /// A booking refusal: a passed deadline or a missing enrollment is the state's answer
    /// (409); the rest is a request that could never be satisfied (422).
    pub fn booking(e: BookingError) -> Self {
        match e {
            BookingError::DeadlinePassed { .. } | BookingError::NotEnrolled => {
                Self::Conflict(Conflict::Booking(e))
            }
            _ => Self::Invalid(Invalid::Booking(e)),
        }
    }

    /// An absence refusal: deciding twice is the state's answer (409); the rest is a request
    /// that could never be satisfied (422).
    pub fn absence(e: AbsenceError) -> Self {
        match e {
            AbsenceError::AlreadyDecided => Self::Conflict(Conflict::Absence(e)),
            _ => Self::Invalid(Invalid::Absence(e)),
        }
    }

    pub fn form(problem: FormProblem) -> Self {
        Self::Invalid(Invalid::Form(problem))
    }
}

fn enrollment_code(e: &EnrollmentError) -> Code {
    match e {
        EnrollmentError::InvalidTransition { .. } => Code::InvalidTransition,
        EnrollmentError::RejectionReasonRequired => Code::RejectionReasonRequired,
        EnrollmentError::RejectionReasonTooLong => Code::Validation,
        EnrollmentError::WeekdaysNotServed(_) => Code::WeekdayNotServed,
    }
}

fn absence_code(e: &AbsenceError) -> Code {
    match e {
        AbsenceError::OutsideSchoolYear | AbsenceError::NoServiceDay => Code::NotAServiceDay,
        AbsenceError::AlreadyDecided => Code::InvalidTransition,
        AbsenceError::RefusalReasonRequired => Code::RejectionReasonRequired,
        AbsenceError::InvalidRange
        | AbsenceError::TooFarInThePast
        | AbsenceError::CommentTooLong
        | AbsenceError::ReasonTooLong => Code::Validation,
    }
}

fn booking_code(e: &BookingError) -> Code {
    match e {
        BookingError::NotEnrolled => Code::NotEnrolled,
        BookingError::NotAServiceDay { .. } => Code::NotAServiceDay,
        BookingError::DeadlinePassed { .. } => Code::DeadlinePassed,
        BookingError::InvalidRange { .. }
        | BookingError::RangeTooLong
        | BookingError::WeekdaysNotServed(_) => Code::Validation,
    }
}

/// PostgreSQL's `character_not_in_repertoire`: text that its encoding cannot hold, such as a
/// NUL character (U+0000) sent by a client.
const CHARACTER_NOT_IN_REPERTOIRE: &str = "22021";

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e
            && db.code().as_deref() == Some(CHARACTER_NOT_IN_REPERTOIRE)
        {
            return Self::Invalid(Invalid::Character);
        }
        Self::Internal(e.into())
    }
}

impl From<cantine_domain::rules::NoSchoolYear> for Error {
    fn from(e: cantine_domain::rules::NoSchoolYear) -> Self {
        Self::Internal(e.into())
    }
}

/// Maps a named constraint's violation to the error the caller should see; any other
/// database error stays internal. Constraints are named in the migrations so that this match
/// is on names we chose, not on Postgres' generated ones.
pub fn on_constraint(e: sqlx::Error, map: impl FnOnce(&str) -> Option<Error>) -> Error {
    if let sqlx::Error::Database(db) = &e
        && let Some(name) = db.constraint()
        && let Some(mapped) = map(name)
    {
        return mapped;
    }
    e.into()
}

/// An account insert that meets an address already used (`account_email_unique`): the
/// families' sign-up, the staff's creation and the counter's households alike.
pub fn email_taken(e: sqlx::Error) -> Error {
    on_constraint(e, |name| {
        (name == "account_email_unique").then_some(Error::Conflict(Conflict::EmailTaken))
    })
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_listed_once_and_serializes_as_its_string() {
        let mut seen = std::collections::HashSet::new();
        for code in Code::ALL {
            assert!(seen.insert(code.as_str()), "{code} twice");
            assert_eq!(
                serde_json::to_value(code).unwrap(),
                serde_json::Value::String(code.as_str().to_owned())
            );
        }
    }

    #[test]
    fn deadline_and_enrollment_refusals_are_conflicts_the_rest_invalid() {
        assert!(matches!(
            Error::booking(BookingError::NotEnrolled),
            Error::Conflict(_)
        ));
        let e = Error::booking(BookingError::RangeTooLong);
        assert!(matches!(e, Error::Invalid(_)));
        assert_eq!(e.code(), Code::Validation);
    }
}
