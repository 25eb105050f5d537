//! The staff API of billing under `/api/v1/staff/billing`: finance computes a month's draft
//! per régie, reviews it and issues it; corrects an issued invoice with a credit note; answers
//! the families' contests; records a payment at the counter and refunds a credit; and exports
//! the month for the public accountant (the accounting CSV, the PES V2 ORMC file). Tariffs are
//! read and versioned by finance or the service (manager). Thin handlers over `crate::billing`.

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use cantine_domain::billing::LineKind;
use cantine_domain::calendar::SchoolYearLabel;
use cantine_domain::ids::HouseholdId;
use cantine_domain::money::Cents;
use cantine_domain::roles::Role;
use cantine_domain::tariff::{Bracket, Pricing, Tariff, UnbookedRule};

use super::billing_exports;
use super::{Access, Staff, Table};
use crate::billing::{
    self, Contest, ContestStatus, ContestSummary, CreditLine, Difference, DocumentKind, Invoice,
    InvoiceLine, InvoiceStatus, InvoiceSummary, Means, Month, PaymentInput, Reader, RunReview,
    RunStatus, TariffVersion,
};
use crate::error::{Error, Field, Invalid, Result};
use crate::http::AppState;
use crate::http::api::v1::{TRIMMED, code_schema, string, text_schema};
use crate::http::documents::attachment;
use crate::http::error::{Json, Path, Problem, Query};

/// Those who run, issue and correct invoices, answer contests, take payments and export.
pub const FINANCE: &[Role] = &[Role::Finance];
/// The issue: « Finance or a manager records » payments at the counter; refunds stay finance's.
pub const COUNTER: &[Role] = &[Role::Finance, Role::Manager];
/// Those who version the tariffs: finance and the canteen service.
pub const TARIFF_WRITERS: &[Role] = &[Role::Finance, Role::Manager];

/// The most brackets a tariff takes, as `PricingBody::Brackets` states in the schema.
const MAX_BRACKETS: usize = 50;

/// A required text as the services take it: trimmed, at least one character that is not a
/// space, `max` at most; no U+0000 (PostgreSQL cannot store it).
fn required_text(max: usize, description: &str) -> utoipa::openapi::Schema {
    string()
        .min_length(Some(1))
        .max_length(Some(max))
        .pattern(Some(format!("^[^\\u0000]*[^{TRIMMED}\\u0000][^\\u0000]*$")))
        .description(Some(description))
        .into()
}

fn reason_schema() -> utoipa::openapi::Schema {
    required_text(
        2000,
        "Trimmed; 1 to 2000 characters, not only spaces; no U+0000.",
    )
}

fn memo_schema() -> utoipa::openapi::Schema {
    required_text(
        200,
        "Trimmed; 1 to 200 characters, not only spaces; no U+0000.",
    )
}

fn reference_schema() -> utoipa::openapi::Schema {
    text_schema(200, "200 characters at most; no U+0000.")
}

/// An integer a JSON client may write `350` or `350.0`: JSON has one number type, and the
/// schema's `integer` admits a zero fraction.
fn whole<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<i64, D::Error> {
    let n = serde_json::Number::deserialize(d)?;
    n.as_i64()
        .or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        })
        .ok_or_else(|| serde::de::Error::custom(format!("{n} is not a whole number")))
}

fn whole_opt<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    struct Whole(#[serde(deserialize_with = "whole")] i64);
    Ok(Option::<Whole>::deserialize(d)?.map(|w| w.0))
}

pub const RUNS: &str = "/api/v1/staff/billing/runs";
pub const RUN_ISSUE: &str = "/api/v1/staff/billing/runs/issue";
pub const INVOICE: &str = "/api/v1/staff/billing/invoices/{invoice_id}";
pub const CREDIT_NOTES: &str = "/api/v1/staff/billing/invoices/{invoice_id}/credit-notes";
pub const CONTESTS: &str = "/api/v1/staff/billing/contests";
pub const CONTEST_ANSWER: &str = "/api/v1/staff/billing/contests/{contest_id}/answer";
pub const TARIFFS: &str = "/api/v1/staff/billing/tariffs";
pub const PAYMENTS: &str = "/api/v1/staff/billing/households/{household_id}/payments";
pub const REFUNDS: &str = "/api/v1/staff/billing/households/{household_id}/refunds";
pub const RECEIPT_PDF: &str = "/api/v1/staff/billing/payments/{payment_id}/receipt.pdf";
pub const ACCOUNTING_CSV: &str = "/api/v1/staff/billing/exports/accounting.csv";
pub const PES_XML: &str = "/api/v1/staff/billing/exports/pes.xml";

pub(super) fn declare(table: Table) -> Table {
    let finance = Access::Roles(FINANCE);
    let tariffs = Access::Roles(TARIFF_WRITERS);
    let counter = Access::Roles(COUNTER);
    table
        .add(Method::POST, RUNS, finance, run_invoicing)
        .add(Method::GET, RUNS, finance, get_invoicing_run)
        .add(Method::POST, RUN_ISSUE, finance, issue_invoices)
        .add(Method::GET, INVOICE, finance, get_staff_invoice)
        .add(Method::POST, CREDIT_NOTES, finance, create_credit_note)
        .add(Method::GET, CONTESTS, finance, list_contests)
        .add(Method::POST, CONTEST_ANSWER, finance, answer_contest)
        .add(Method::GET, TARIFFS, tariffs, list_tariffs)
        .add(Method::POST, TARIFFS, tariffs, save_tariff)
        .add(Method::POST, PAYMENTS, counter, record_payment)
        .add(Method::GET, RECEIPT_PDF, counter, get_receipt_pdf)
        .add(Method::POST, REFUNDS, finance, refund_credit)
        .add(Method::GET, ACCOUNTING_CSV, finance, export_accounting)
        .add(Method::GET, PES_XML, finance, export_pes)
}

// What the operations answer.

#[derive(Debug, Serialize, ToSchema)]
pub struct RegieOut {
    code: String,
    name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceSummaryOut {
    id: i64,
    /// `invoice` or `credit_note`.
    kind: String,
    /// Given when issued: `CANT-2026-000123`, credit notes `AV-CANT-2026-000004`.
    number: Option<String>,
    /// The billed month, `2026-11`.
    month: String,
    regie: String,
    household_id: i64,
    household_name: String,
    amount_cents: i64,
    /// Settled by payments and credit notes.
    paid_cents: i64,
    /// `draft`, `issued`, `partially_paid`, `paid` or `cancelled`.
    status: String,
    issued_at: Option<DateTime<Utc>>,
}

fn kind_code(kind: DocumentKind) -> &'static str {
    kind.code()
}

fn status_code(status: InvoiceStatus) -> &'static str {
    match status {
        InvoiceStatus::Draft => "draft",
        InvoiceStatus::Issued => "issued",
        InvoiceStatus::PartiallyPaid => "partially_paid",
        InvoiceStatus::Paid => "paid",
        InvoiceStatus::Cancelled => "cancelled",
    }
}

impl From<&InvoiceSummary> for InvoiceSummaryOut {
    fn from(s: &InvoiceSummary) -> Self {
        Self {
            id: s.id,
            kind: kind_code(s.kind).to_owned(),
            number: s.number.clone(),
            month: s.month.to_string(),
            regie: s.regie.clone(),
            household_id: s.household.get(),
            household_name: s.household_name.clone(),
            amount_cents: s.amount.get(),
            paid_cents: s.paid.get(),
            status: status_code(s.status).to_owned(),
            issued_at: s.issued_at,
        }
    }
}

/// A household's total this month against the previous one.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunDifferenceOut {
    household_id: i64,
    household_name: String,
    this_month_cents: i64,
    previous_month_cents: i64,
}

impl From<&Difference> for RunDifferenceOut {
    fn from(d: &Difference) -> Self {
        Self {
            household_id: d.household.get(),
            household_name: d.household_name.clone(),
            this_month_cents: d.this_month.get(),
            previous_month_cents: d.previous_month.get(),
        }
    }
}

/// What finance reviews before issuing (and what an issued month looks like).
#[derive(Debug, Serialize, ToSchema)]
pub struct RunReviewOut {
    run_id: i64,
    regie: RegieOut,
    month: String,
    /// `draft` or `issued`.
    status: String,
    /// Invoices less credit notes.
    total_cents: i64,
    previous_total_cents: i64,
    invoices: Vec<InvoiceSummaryOut>,
    /// Households whose total moved since the previous month, largest change first.
    differences: Vec<RunDifferenceOut>,
    /// Booked days whose attendance is not locked: billed as booked for now.
    unrecorded_days: i64,
    regularisation_lines: i64,
}

impl From<&RunReview> for RunReviewOut {
    fn from(r: &RunReview) -> Self {
        Self {
            run_id: r.run_id,
            regie: RegieOut {
                code: r.regie.code.clone(),
                name: r.regie.name.clone(),
            },
            month: r.month.to_string(),
            status: match r.status {
                RunStatus::Draft => "draft",
                RunStatus::Issued => "issued",
            }
            .to_owned(),
            total_cents: r.total.get(),
            previous_total_cents: r.previous_total.get(),
            invoices: r.invoices.iter().map(Into::into).collect(),
            differences: r.differences.iter().map(Into::into).collect(),
            unrecorded_days: r.unrecorded_days,
            regularisation_lines: r.regularisation_lines,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StaffContestOut {
    id: i64,
    /// `open` or `answered`.
    status: String,
    message: String,
    created_at: DateTime<Utc>,
    answer: Option<String>,
    answered_at: Option<DateTime<Utc>>,
    /// The credit note the answer gave, if any.
    credit_note_id: Option<i64>,
    credit_note_number: Option<String>,
}

impl From<&ContestSummary> for StaffContestOut {
    fn from(c: &ContestSummary) -> Self {
        Self {
            id: c.id,
            status: match c.status {
                ContestStatus::Open => "open",
                ContestStatus::Answered => "answered",
            }
            .to_owned(),
            message: c.message.clone(),
            created_at: c.created_at,
            answer: c.answer.clone(),
            answered_at: c.answered_at,
            credit_note_id: c.credit_note.as_ref().map(|c| c.0),
            credit_note_number: c.credit_note.as_ref().map(|c| c.1.clone()),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StaffLineOut {
    id: i64,
    position: i32,
    child_id: Option<i64>,
    child_name: Option<String>,
    date: Option<NaiveDate>,
    /// `meal`, `booked_not_recorded`, `unbooked`, `no_show`, `illness_carence`,
    /// `illness_free`, `excused_absence`, `late_absence`, `closure`, `regularisation`,
    /// `credit`.
    kind: String,
    amount_cents: i64,
    /// Why it costs what it costs (price basis, share, regularisation, memo).
    #[schema(value_type = Object)]
    explanation: serde_json::Value,
    contest: Option<StaffContestOut>,
}

impl From<&InvoiceLine> for StaffLineOut {
    fn from(l: &InvoiceLine) -> Self {
        Self {
            id: l.id,
            position: l.position,
            child_id: l.child.as_ref().map(|c| c.id.get()),
            child_name: l
                .child
                .as_ref()
                .map(|c| format!("{} {}", c.first_name, c.last_name)),
            date: l.date,
            kind: LineKind::code(l.kind).to_owned(),
            amount_cents: l.amount.get(),
            explanation: serde_json::to_value(&l.explanation).unwrap_or_default(),
            contest: l.contest.as_ref().map(Into::into),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StaffInvoiceOut {
    #[serde(flatten)]
    summary: InvoiceSummaryOut,
    /// The guardians' names the invoice is addressed to.
    recipient_names: Vec<String>,
    lines: Vec<StaffLineOut>,
    /// A credit note's corrected invoice.
    corrects_invoice_id: Option<i64>,
    corrects_number: Option<String>,
    reason: Option<String>,
}

impl From<&Invoice> for StaffInvoiceOut {
    fn from(i: &Invoice) -> Self {
        Self {
            summary: (&i.summary).into(),
            recipient_names: i.recipient.names.clone(),
            lines: i.lines.iter().map(Into::into).collect(),
            corrects_invoice_id: i.corrects.as_ref().map(|c| c.0),
            corrects_number: i.corrects.as_ref().map(|c| c.1.clone()),
            reason: i.reason.clone(),
        }
    }
}

/// A contest with the line and invoice it is about.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContestDetailOut {
    #[serde(flatten)]
    contest: StaffContestOut,
    household_id: i64,
    household_name: String,
    invoice_id: i64,
    invoice_number: String,
    line: StaffLineOut,
}

impl From<&Contest> for ContestDetailOut {
    fn from(c: &Contest) -> Self {
        Self {
            contest: (&c.summary).into(),
            household_id: c.household.get(),
            household_name: c.household_name.clone(),
            invoice_id: c.invoice_id,
            invoice_number: c.invoice_number.clone(),
            line: (&c.line).into(),
        }
    }
}

// Tariffs, as the API writes them.

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BracketBody {
    #[schema(minimum = 0)]
    qf_min: u32,
    /// Exclusive; null for the last bracket, which has no ceiling.
    qf_max: Option<u32>,
    #[schema(minimum = 0, maximum = 10000)]
    #[serde(deserialize_with = "whole")]
    meal_cents: i64,
}

/// How the meal's price follows the quotient familial.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum PricingBody {
    /// Contiguous brackets from QF 0, the last one open.
    Brackets {
        #[schema(min_items = 1, max_items = 50)]
        brackets: Vec<BracketBody>,
    },
    /// QF × rate (millionths of a euro per QF euro: 4500 is 0.45 %), rounded to the cent,
    /// bounded.
    EffortRate {
        #[schema(minimum = 1)]
        rate_millionths: u32,
        #[schema(minimum = 0, maximum = 10000)]
        #[serde(deserialize_with = "whole")]
        min_cents: i64,
        #[schema(minimum = 0, maximum = 10000)]
        #[serde(deserialize_with = "whole")]
        max_cents: i64,
    },
}

/// What a present child not booked pays: the price plus a surcharge, or times a multiplier.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum UnbookedBody {
    Surcharge {
        #[schema(minimum = 0, maximum = 10000)]
        #[serde(deserialize_with = "whole")]
        cents: i64,
    },
    Multiplier {
        #[schema(minimum = 100, maximum = 1000)]
        percent: u32,
    },
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TariffBody {
    pricing: PricingBody,
    /// The packed-meal price of a child with a PAI.
    #[schema(minimum = 0, maximum = 10000)]
    #[serde(deserialize_with = "whole")]
    pai_cents: i64,
    #[schema(minimum = 0, maximum = 10000)]
    #[serde(deserialize_with = "whole")]
    non_resident_cents: i64,
    #[schema(minimum = 0, maximum = 10000)]
    #[serde(deserialize_with = "whole")]
    adult_cents: i64,
    unbooked: UnbookedBody,
    /// Days of an accepted illness still charged.
    #[schema(minimum = 0, maximum = 30)]
    carence_days: u32,
}

impl From<TariffBody> for Tariff {
    fn from(b: TariffBody) -> Self {
        Tariff {
            pricing: match b.pricing {
                PricingBody::Brackets { brackets } => Pricing::Brackets {
                    brackets: brackets
                        .into_iter()
                        .map(|b| Bracket {
                            qf_min: b.qf_min,
                            qf_max: b.qf_max,
                            meal: Cents(b.meal_cents),
                        })
                        .collect(),
                },
                PricingBody::EffortRate {
                    rate_millionths,
                    min_cents,
                    max_cents,
                } => Pricing::EffortRate {
                    rate_millionths,
                    min: Cents(min_cents),
                    max: Cents(max_cents),
                },
            },
            pai: Cents(b.pai_cents),
            non_resident: Cents(b.non_resident_cents),
            adult: Cents(b.adult_cents),
            unbooked: match b.unbooked {
                UnbookedBody::Surcharge { cents } => UnbookedRule::Surcharge {
                    cents: Cents(cents),
                },
                UnbookedBody::Multiplier { percent } => UnbookedRule::Multiplier { percent },
            },
            carence_days: b.carence_days,
        }
    }
}

impl From<&Tariff> for TariffBody {
    fn from(t: &Tariff) -> Self {
        TariffBody {
            pricing: match &t.pricing {
                Pricing::Brackets { brackets } => PricingBody::Brackets {
                    brackets: brackets
                        .iter()
                        .map(|b| BracketBody {
                            qf_min: b.qf_min,
                            qf_max: b.qf_max,
                            meal_cents: b.meal.get(),
                        })
                        .collect(),
                },
                Pricing::EffortRate {
                    rate_millionths,
                    min,
                    max,
                } => PricingBody::EffortRate {
                    rate_millionths: *rate_millionths,
                    min_cents: min.get(),
                    max_cents: max.get(),
                },
            },
            pai_cents: t.pai.get(),
            non_resident_cents: t.non_resident.get(),
            adult_cents: t.adult.get(),
            unbooked: match t.unbooked {
                UnbookedRule::Surcharge { cents } => UnbookedBody::Surcharge { cents: cents.get() },
                UnbookedRule::Multiplier { percent } => UnbookedBody::Multiplier { percent },
            },
            carence_days: t.carence_days,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TariffOut {
    id: i64,
    /// `2026-2027`.
    year: String,
    /// The version applies from this day until the next version of the year.
    applies_from: NaiveDate,
    tariff: TariffBody,
}

impl From<&TariffVersion> for TariffOut {
    fn from(v: &TariffVersion) -> Self {
        Self {
            id: v.id,
            year: v.year.to_string(),
            applies_from: v.applies_from,
            tariff: (&v.tariff).into(),
        }
    }
}

// Requests.

/// A régie's month.
#[derive(Debug, Deserialize, ToSchema, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RunBody {
    /// The régie's code (`CANT`).
    #[schema(pattern = r"^[A-Z0-9]{2,10}$")]
    #[param(pattern = r"^[A-Z0-9]{2,10}$")]
    regie: String,
    /// The billed month, `2026-11` (2000 to 2199).
    #[schema(pattern = r"^2[01]\d{2}-(0[1-9]|1[0-2])$")]
    #[param(pattern = r"^2[01]\d{2}-(0[1-9]|1[0-2])$")]
    month: String,
}

impl RunBody {
    /// The month, within the years the schema states.
    fn month(&self) -> Result<Month> {
        let month: Month = self.month.parse()?;
        if !(2000..=2199).contains(&month.first_day().year()) {
            return Err(Error::Invalid(Invalid::Month));
        }
        Ok(month)
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditLineBody {
    /// A line of the corrected invoice, when the credit is about one.
    #[schema(minimum = 1)]
    #[serde(default, deserialize_with = "whole_opt")]
    line_id: Option<i64>,
    #[schema(minimum = 1)]
    #[serde(deserialize_with = "whole")]
    amount_cents: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditNoteBody {
    #[schema(min_items = 1, max_items = 200)]
    lines: Vec<CreditLineBody>,
    /// Why, as the family will read it on the credit note.
    #[schema(schema_with = reason_schema)]
    reason: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ContestsQuery {
    /// `open` (default) or `all`.
    #[param(schema_with = state_schema)]
    state: Option<String>,
}

fn state_schema() -> utoipa::openapi::Schema {
    code_schema(["open", "all"], Some("open"))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerBody {
    /// Finance's answer, mailed to the family.
    #[schema(schema_with = reason_schema)]
    answer: String,
    /// A credit note of this amount on the contested line, when the family is right.
    #[schema(minimum = 1)]
    #[serde(default, deserialize_with = "whole_opt")]
    credit_cents: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TariffsQuery {
    /// The school year, `2026-2027`.
    #[param(pattern = r"^\d{4}-\d{4}$")]
    year: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SaveTariffBody {
    /// The school year, `2026-2027`; its calendar must be open.
    #[schema(pattern = r"^\d{4}-\d{4}$")]
    year: String,
    /// A day of that school year; a version is never edited, a change is a new version.
    applies_from: NaiveDate,
    tariff: TariffBody,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundBody {
    #[schema(pattern = r"^[A-Z0-9]{2,10}$")]
    regie: String,
    #[schema(minimum = 1)]
    #[serde(deserialize_with = "whole")]
    amount_cents: i64,
    /// Why and how it is paid back (cheque number, transfer).
    #[schema(schema_with = memo_schema)]
    memo: String,
}

/// The means taken at the counter.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CounterMeans {
    Cash,
    Cheque,
    Transfer,
    Cesu,
    ChequesVacances,
}

impl From<CounterMeans> for Means {
    fn from(m: CounterMeans) -> Self {
        match m {
            CounterMeans::Cash => Means::Cash,
            CounterMeans::Cheque => Means::Cheque,
            CounterMeans::Transfer => Means::Transfer,
            CounterMeans::Cesu => Means::Cesu,
            CounterMeans::ChequesVacances => Means::ChequesVacances,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentBody {
    #[schema(pattern = r"^[A-Z0-9]{2,10}$")]
    regie: String,
    #[schema(minimum = 1)]
    #[serde(deserialize_with = "whole")]
    amount_cents: i64,
    means: CounterMeans,
    /// The cheque's number and bank, the CESU titles' numbers…
    #[schema(schema_with = reference_schema)]
    #[serde(default)]
    reference: String,
    received_on: NaiveDate,
    /// The same key twice records one payment (a form sent twice).
    #[schema(schema_with = memo_schema)]
    idempotency_key: String,
    /// The invoice it pays first; the surplus becomes credit.
    #[schema(minimum = 1)]
    #[serde(default, deserialize_with = "whole_opt")]
    invoice_id: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CounterPaymentOut {
    payment_id: i64,
    /// False when the idempotency key had already recorded it.
    new: bool,
    /// `RC-CANT-2026-000001`, gapless per régie and year; its PDF is at `receiptPdf`.
    receipt_number: Option<String>,
}

// The operations.

/// Computes (or recomputes) a régie's month as a draft and answers its review: totals,
/// households whose total moved from the previous month, booked days not yet recorded. An
/// issued month is refused (changes go into the next month as regularisations). Audited.
#[utoipa::path(post, path = "/api/v1/staff/billing/runs", operation_id = "runInvoicing",
    tag = "finance", request_body = RunBody, security(("session" = [], "csrf" = [])),
    responses((status = 200, body = RunReviewOut),
        (status = 404, body = Problem, description = "`not_found`: no such régie"),
        (status = 409, body = Problem, description = "`already_issued`: the month is issued; `no_tariff`: a day has no tariff"),
        (status = 422, body = Problem, description = "`validation`: a month not written `2026-11`")))]
pub async fn run_invoicing(
    State(state): State<AppState>,
    staff: Staff,
    Json(body): Json<RunBody>,
) -> Result<Json<RunReviewOut>> {
    let month = body.month()?;
    let review = billing::run(&state.pool, Some(&staff.actor), &body.regie, month).await?;
    Ok(Json((&review).into()))
}

/// The month's review, draft or issued.
#[utoipa::path(get, path = "/api/v1/staff/billing/runs", operation_id = "getInvoicingRun",
    tag = "finance", params(RunBody), security(("session" = [])),
    responses((status = 200, body = RunReviewOut),
        (status = 404, body = Problem, description = "`not_found`: no such régie, or the month was never computed")))]
pub async fn get_invoicing_run(
    State(state): State<AppState>,
    _staff: Staff,
    Query(q): Query<RunBody>,
) -> Result<Json<RunReviewOut>> {
    let month = q.month()?;
    let review = billing::review(&state.pool, &q.regie, month)
        .await?
        .ok_or(Error::NotFound)?;
    Ok(Json((&review).into()))
}

/// Issues the month's draft: gapless numbers, ledger entries, credit used, the families'
/// mails queued. Idempotent: issuing an issued month changes nothing and answers its review.
#[utoipa::path(post, path = "/api/v1/staff/billing/runs/issue", operation_id = "issueInvoices",
    tag = "finance", request_body = RunBody, security(("session" = [], "csrf" = [])),
    responses((status = 200, body = RunReviewOut),
        (status = 404, body = Problem, description = "`not_found`: no such régie"),
        (status = 409, body = Problem, description = "`invalid_transition`: no draft to issue for that month"),
        (status = 422, body = Problem, description = "`validation`: a month not written `2026-11`")))]
pub async fn issue_invoices(
    State(state): State<AppState>,
    staff: Staff,
    Json(body): Json<RunBody>,
) -> Result<Json<RunReviewOut>> {
    let month = body.month()?;
    let review = billing::issue_at(
        &state.pool,
        Some(&staff.actor),
        &body.regie,
        month,
        state.clock.now(),
    )
    .await?;
    Ok(Json((&review).into()))
}

/// An invoice or credit note, draft or issued, with its lines and their contests.
#[utoipa::path(get, path = "/api/v1/staff/billing/invoices/{invoice_id}",
    operation_id = "getStaffInvoice", tag = "finance",
    params(("invoice_id" = i64, Path, minimum = 1)), security(("session" = [])),
    responses((status = 200, body = StaffInvoiceOut)))]
pub async fn get_staff_invoice(
    State(state): State<AppState>,
    _staff: Staff,
    Path(id): Path<i64>,
) -> Result<Json<StaffInvoiceOut>> {
    let invoice = billing::invoice(&state.pool, Reader::Staff, id).await?;
    Ok(Json((&invoice).into()))
}

/// Corrects an issued invoice with a credit note (an issued invoice is never edited): its own
/// gapless number, posted to the household's ledger, mailed. Audited.
#[utoipa::path(post, path = "/api/v1/staff/billing/invoices/{invoice_id}/credit-notes",
    operation_id = "createCreditNote", tag = "finance",
    params(("invoice_id" = i64, Path, minimum = 1)), request_body = CreditNoteBody,
    security(("session" = [], "csrf" = [])),
    responses((status = 201, body = InvoiceSummaryOut),
        (status = 409, body = Problem, description = "`amount_exceeded`: more than is left to credit on the invoice or the line"),
        (status = 422, body = Problem, description = "`validation`: no line, an amount of 0 or less, a blank or too long reason")))]
pub async fn create_credit_note(
    State(state): State<AppState>,
    staff: Staff,
    Path(invoice): Path<i64>,
    Json(body): Json<CreditNoteBody>,
) -> Result<(StatusCode, Json<InvoiceSummaryOut>)> {
    let lines = body
        .lines
        .iter()
        .map(|l| CreditLine {
            line: l.line_id,
            amount: Cents(l.amount_cents),
        })
        .collect();
    let note = billing::create_credit_note_at(
        &state.pool,
        &staff.actor,
        invoice,
        lines,
        body.reason,
        state.clock.now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json((&note).into())))
}

/// The families' contests, open ones by default, oldest first.
#[utoipa::path(get, path = "/api/v1/staff/billing/contests", operation_id = "listContests",
    tag = "finance", params(ContestsQuery), security(("session" = [])),
    responses((status = 200, body = [ContestDetailOut])))]
pub async fn list_contests(
    State(state): State<AppState>,
    _staff: Staff,
    Query(q): Query<ContestsQuery>,
) -> Result<Json<Vec<ContestDetailOut>>> {
    let open_only = match q.state.as_deref() {
        None | Some("open") => true,
        Some("all") => false,
        Some(other) => {
            return Err(Error::Invalid(Invalid::Request(format!(
                "state: `open` or `all`, not `{other}`"
            ))));
        }
    };
    let contests = billing::contests(&state.pool, open_only).await?;
    Ok(Json(contests.iter().map(Into::into).collect()))
}

/// Answers a contest, mailed to the family; with `credit_cents`, a credit note of that amount
/// on the contested line. Audited.
#[utoipa::path(post, path = "/api/v1/staff/billing/contests/{contest_id}/answer",
    operation_id = "answerContest", tag = "finance",
    params(("contest_id" = i64, Path, minimum = 1)), request_body = AnswerBody,
    security(("session" = [], "csrf" = [])),
    responses((status = 200, body = ContestDetailOut),
        (status = 409, body = Problem, description = "`invalid_transition`: already answered; `amount_exceeded`: a credit above what is left on the line"),
        (status = 422, body = Problem, description = "`validation`: a blank or too long answer, a credit of 0 or less")))]
pub async fn answer_contest(
    State(state): State<AppState>,
    staff: Staff,
    Path(contest): Path<i64>,
    Json(body): Json<AnswerBody>,
) -> Result<Json<ContestDetailOut>> {
    if body.credit_cents.is_some_and(|c| c < 1) {
        return Err(Error::Invalid(Invalid::Amount));
    }
    let answered = billing::answer_contest_at(
        &state.pool,
        &staff.actor,
        contest,
        body.answer,
        body.credit_cents.map(Cents),
        state.clock.now(),
    )
    .await?;
    Ok(Json((&answered).into()))
}

fn school_year(text: &str) -> Result<SchoolYearLabel> {
    text.parse()
        .map_err(|_| Error::Invalid(Invalid::SchoolYear))
}

/// The versions of a school year's tariff, in the order they apply.
#[utoipa::path(get, path = "/api/v1/staff/billing/tariffs", operation_id = "listTariffs",
    tag = "finance", params(TariffsQuery), security(("session" = [])),
    responses((status = 200, body = [TariffOut])))]
pub async fn list_tariffs(
    State(state): State<AppState>,
    _staff: Staff,
    Query(q): Query<TariffsQuery>,
) -> Result<Json<Vec<TariffOut>>> {
    let versions = billing::tariffs(&state.pool, school_year(&q.year)?).await?;
    Ok(Json(versions.iter().map(Into::into).collect()))
}

/// Saves a new version of a school year's tariff from a day, validated first (every QF priced
/// exactly once, prices within 0–100 €). Audited.
#[utoipa::path(post, path = "/api/v1/staff/billing/tariffs", operation_id = "saveTariff",
    tag = "finance", request_body = SaveTariffBody, security(("session" = [], "csrf" = [])),
    responses((status = 201, body = TariffOut),
        (status = 409, body = Problem, description = "`invalid_transition`: a version already applies from that day"),
        (status = 422, body = Problem, description = "`validation`: brackets with a gap or overlap, a price out of range, a year not open, a day outside the year; `not_a_service_day`: a day outside every school year")))]
pub async fn save_tariff(
    State(state): State<AppState>,
    staff: Staff,
    Json(body): Json<SaveTariffBody>,
) -> Result<(StatusCode, Json<TariffOut>)> {
    if let PricingBody::Brackets { brackets } = &body.tariff.pricing
        && brackets.len() > MAX_BRACKETS
    {
        return Err(Error::Invalid(Invalid::Request(format!(
            "brackets: {MAX_BRACKETS} at most"
        ))));
    }
    let year = school_year(&body.year)?;
    let saved = billing::save_tariff(
        &state.pool,
        &staff.actor,
        year,
        body.applies_from,
        body.tariff.into(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json((&saved).into())))
}

/// Records a payment taken at the counter (cash, cheque, transfer, CESU, chèques vacances) once
/// per idempotency key with its gapless receipt number (a retry answers the same one), and
/// allocates it: the invoice named first, then the oldest due; the rest stays as credit.
#[utoipa::path(post, path = "/api/v1/staff/billing/households/{household_id}/payments",
    operation_id = "recordCounterPayment", tag = "finance",
    params(("household_id" = i64, Path, minimum = 1)), request_body = PaymentBody,
    security(("session" = [], "csrf" = [])),
    responses((status = 201, body = CounterPaymentOut, description = "Recorded, or already recorded under that key by the same request (`new` false)"),
        (status = 409, body = Problem, description = "`idempotency_key_reused`: the key recorded another payment (another household, amount or invoice)"),
        (status = 422, body = Problem, description = "`validation`: an amount of 0 or less, a blank key, a reference too long")))]
pub async fn record_payment(
    State(state): State<AppState>,
    staff: Staff,
    Path(household): Path<i64>,
    Json(body): Json<PaymentBody>,
) -> Result<(StatusCode, Json<CounterPaymentOut>)> {
    let outcome = billing::record_payment(
        &state.pool,
        Some(&staff.actor),
        PaymentInput {
            household: HouseholdId(household),
            regie: body.regie,
            amount: Cents(body.amount_cents),
            means: body.means.into(),
            reference: body.reference,
            received_on: body.received_on,
            idempotency_key: body.idempotency_key,
            invoice: body.invoice_id,
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(CounterPaymentOut {
            payment_id: outcome.payment_id,
            new: outcome.new,
            receipt_number: outcome.receipt,
        }),
    ))
}

/// A counter payment's printable receipt (« Reçu n° RC-CANT-2026-000001 »): the household,
/// the day, the means, the amount, the invoice it pays and who took it.
#[utoipa::path(get, path = "/api/v1/staff/billing/payments/{payment_id}/receipt.pdf",
    operation_id = "getReceiptPdf", tag = "finance",
    params(("payment_id" = i64, Path, minimum = 1)), security(("session" = [])),
    responses((status = 200, description = "The PDF", content((inline(crate::http::api::absences::FileBytes) = "application/pdf"))),
        (status = 404, body = Problem, description = "`not_found`: no such payment, or one without a counter receipt (PayFiP)")))]
pub async fn get_receipt_pdf(
    State(state): State<AppState>,
    _staff: Staff,
    Path(payment): Path<i64>,
) -> Result<Response> {
    crate::http::documents::receipt_pdf(&state, payment).await
}

/// Pays back part of a household's credit (payments and credit notes no invoice used): an
/// explicit finance action, never automatic. Audited.
#[utoipa::path(post, path = "/api/v1/staff/billing/households/{household_id}/refunds",
    operation_id = "refundCredit", tag = "finance",
    params(("household_id" = i64, Path, minimum = 1)), request_body = RefundBody,
    security(("session" = [], "csrf" = [])),
    responses((status = 204, description = "Refunded"),
        (status = 409, body = Problem, description = "`amount_exceeded`: more than the household's credit"),
        (status = 422, body = Problem, description = "`validation`: an amount of 0 or less, a blank or too long memo")))]
pub async fn refund_credit(
    State(state): State<AppState>,
    staff: Staff,
    Path(household): Path<i64>,
    Json(body): Json<RefundBody>,
) -> Result<StatusCode> {
    if body.memo.trim().is_empty() {
        return Err(Error::Invalid(Invalid::Required {
            field: Field::Reason,
        }));
    }
    billing::refund(
        &state.pool,
        &staff.actor,
        HouseholdId(household),
        &body.regie,
        Cents(body.amount_cents),
        body.memo,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The month's accounting movements of a régie as CSV for a spreadsheet: `;`, UTF-8 with BOM,
/// `JJ/MM/AAAA` dates, amounts in euros with a decimal comma, signed as in the ledger
/// (invoices and refunds positive, credit notes and payments negative); then the totals by
/// kind and the net movement. Invoices and credit notes on the day issued, payments on the day
/// received.
#[utoipa::path(get, path = "/api/v1/staff/billing/exports/accounting.csv",
    operation_id = "exportAccounting", tag = "finance", params(RunBody), security(("session" = [])),
    responses((status = 200, content_type = "text/csv", body = String),
        (status = 404, body = Problem, description = "`not_found`: no such régie")))]
pub async fn export_accounting(
    State(state): State<AppState>,
    _staff: Staff,
    Query(q): Query<RunBody>,
) -> Result<Response> {
    let month = q.month()?;
    let rows = billing::accounting(&state.pool, &q.regie, month).await?;
    let text = billing_exports::accounting_csv(&rows);
    Ok(attachment(
        "text/csv; charset=utf-8",
        &format!("comptabilite-{}-{month}.csv", q.regie),
        text.into_bytes(),
    ))
}

/// The month's issued invoices of a régie as a PES V2 ORMC file for the public accountant
/// (ISO-8859-1 XML, one bordereau, one piece per invoice; `docs/pes.md`), with the commune's
/// identifiers from the `[accounting]` configuration.
#[utoipa::path(get, path = "/api/v1/staff/billing/exports/pes.xml", operation_id = "exportPes",
    tag = "finance", params(RunBody), security(("session" = [])),
    responses((status = 200, content_type = "application/xml", body = String),
        (status = 404, body = Problem, description = "`not_found`: no such régie"),
        (status = 409, body = Problem, description = "`not_configured`: the `[accounting]` identifiers are not set; `pes_rejected`: a value the PES format refuses (an address too long, no invoice to send…), named in the detail")))]
pub async fn export_pes(
    State(state): State<AppState>,
    _staff: Staff,
    Query(q): Query<RunBody>,
) -> Result<Response> {
    let bytes = pes_bytes(&state, &q.regie, q.month()?).await?;
    Ok(attachment(
        "application/xml; charset=iso-8859-1",
        &billing_exports::pes_file_name(&q.regie, q.month()?),
        bytes,
    ))
}

/// The PES file of a régie's month (for the API and the page's link alike).
pub(super) async fn pes_bytes(state: &AppState, regie: &str, month: Month) -> Result<Vec<u8>> {
    // Configuration first: a commune without its identifiers learns it before anything else.
    billing_exports::bordereau(&state.config, regie, month, &[], state.rules().today())?;
    let invoices = billing::issued_invoices(&state.pool, regie, month).await?;
    let (coll, bordereau) = billing_exports::bordereau(
        &state.config,
        regie,
        month,
        &invoices,
        state.rules().today(),
    )?;
    billing_exports::pes_file(&coll, &bordereau)
}
