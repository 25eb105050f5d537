//! What a family sees of billing in the JSON API: its invoices and credit notes with every line
//! explained, their PDFs, a contest on a line, its balance and ledger, the yearly statement.
//! Only the household's own documents: another household's answers 404, as one that does not
//! exist.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::billing::{
    self, ContestStatus, ContestSummary, DocumentKind, EntryKind, Invoice, InvoiceLine,
    InvoiceStatus, InvoiceSummary, LedgerEntry, Reader,
};
use crate::error::Result;
use crate::http::AppState;
use crate::http::auth::Session;
use crate::http::contests;
use crate::http::documents;
use crate::http::error::{Json, Path, Problem, Query};
use crate::http::fr::billing as words;

use super::absences::FileBytes;
use super::v1::string;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/invoices", get(list_invoices))
        .route("/api/v1/invoices/{invoice_id}", get(get_invoice))
        .route("/api/v1/invoices/{invoice_id}/pdf", get(get_invoice_pdf))
        .route(
            "/api/v1/invoices/{invoice_id}/lines/{line_id}/contest",
            post(contest_invoice_line),
        )
        .route("/api/v1/balance", get(get_balance))
        .route("/api/v1/ledger", get(list_ledger))
        .route("/api/v1/yearly-statement", get(get_yearly_statement_pdf))
}

/// An invoice's state. Families never see a `draft` (finance's until issued); `cancelled`: fully
/// corrected by credit notes.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatusOut {
    Draft,
    Issued,
    PartiallyPaid,
    Paid,
    Cancelled,
}

impl From<InvoiceStatus> for StatusOut {
    fn from(s: InvoiceStatus) -> Self {
        match s {
            InvoiceStatus::Draft => StatusOut::Draft,
            InvoiceStatus::Issued => StatusOut::Issued,
            InvoiceStatus::PartiallyPaid => StatusOut::PartiallyPaid,
            InvoiceStatus::Paid => StatusOut::Paid,
            InvoiceStatus::Cancelled => StatusOut::Cancelled,
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KindOut {
    Invoice,
    CreditNote,
}

impl From<DocumentKind> for KindOut {
    fn from(k: DocumentKind) -> Self {
        match k {
            DocumentKind::Invoice => KindOut::Invoice,
            DocumentKind::CreditNote => KindOut::CreditNote,
        }
    }
}

fn month_schema() -> utoipa::openapi::schema::Schema {
    string()
        .pattern(Some(r"^\d{4}-\d{2}$"))
        .description(Some("The month billed, `YYYY-MM`."))
        .examples(["2026-11"])
        .into()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceOut {
    id: i64,
    kind: KindOut,
    /// `CANT-2026-000001` (credit notes `AV-CANT-2026-000001`): the reference to give when paying.
    number: Option<String>,
    #[schema(schema_with = month_schema)]
    month: String,
    /// The invoice's total; a credit note's amount, in the family's favour.
    amount_cents: i64,
    /// Settled by payments and credit notes (a credit note: what it has settled so far).
    paid_cents: i64,
    status: StatusOut,
    /// In French: "À payer", "Payée"…
    status_label: String,
    issued_at: Option<DateTime<Utc>>,
}

impl From<&InvoiceSummary> for InvoiceOut {
    fn from(s: &InvoiceSummary) -> Self {
        Self {
            id: s.id,
            kind: s.kind.into(),
            number: s.number.clone(),
            month: s.month.0.format("%Y-%m").to_string(),
            amount_cents: s.amount.get(),
            paid_cents: s.paid.get(),
            status: s.status.into(),
            status_label: words::invoice_status(s.status).to_owned(),
            issued_at: s.issued_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceChildOut {
    id: i64,
    first_name: String,
    last_name: String,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContestStatusOut {
    Open,
    Answered,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContestOut {
    id: i64,
    status: ContestStatusOut,
    message: String,
    created_at: DateTime<Utc>,
    /// The town hall's answer, once given.
    answer: Option<String>,
    answered_at: Option<DateTime<Utc>>,
    /// The credit note the answer gave, if any.
    credit_note_number: Option<String>,
    /// Where it stands, in French.
    label: String,
}

impl From<&ContestSummary> for ContestOut {
    fn from(c: &ContestSummary) -> Self {
        Self {
            id: c.id,
            status: match c.status {
                ContestStatus::Open => ContestStatusOut::Open,
                ContestStatus::Answered => ContestStatusOut::Answered,
            },
            message: c.message.clone(),
            created_at: c.created_at,
            answer: c.answer.clone(),
            answered_at: c.answered_at,
            credit_note_number: c.credit_note.as_ref().map(|(_, n)| n.clone()),
            label: words::contest(c),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LineOut {
    id: i64,
    /// The day billed; none on a line about no day (a credit note's lump sum).
    date: Option<NaiveDate>,
    child: Option<InvoiceChildOut>,
    /// `meal`, `booked_not_recorded`, `unbooked`, `no_show`, `illness_carence`, `illness_free`,
    /// `excused_absence`, `late_absence`, `closure`, `regularisation` or `credit`.
    kind: String,
    /// What happened, in French.
    label: String,
    amount_cents: i64,
    /// Why it costs that, in French: the meal's price and its basis (the QF bracket with the
    /// QF used, or the effort rate with the QF), a shared custody's share, a correction.
    explanation: String,
    /// The meal's price before any share or rule, when the line has one.
    meal_price_cents: Option<i64>,
    /// The line's contest, open or answered; null when never contested.
    contest: Option<ContestOut>,
}

impl From<&InvoiceLine> for LineOut {
    fn from(l: &InvoiceLine) -> Self {
        Self {
            id: l.id,
            date: l.date,
            child: l.child.as_ref().map(|c| InvoiceChildOut {
                id: c.id.get(),
                first_name: c.first_name.clone(),
                last_name: c.last_name.clone(),
            }),
            kind: l.kind.code().to_owned(),
            label: words::line_kind(l.kind).to_owned(),
            amount_cents: l.amount.get(),
            explanation: words::explanation(&l.explanation),
            meal_price_cents: l.explanation.price.as_ref().map(|p| p.cents.get()),
            contest: l.contest.as_ref().map(Into::into),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceDetailOut {
    #[serde(flatten)]
    summary: InvoiceOut,
    /// A credit note's corrected invoice.
    corrects_number: Option<String>,
    /// A credit note's reason.
    reason: Option<String>,
    lines: Vec<LineOut>,
}

impl From<&Invoice> for InvoiceDetailOut {
    fn from(i: &Invoice) -> Self {
        Self {
            summary: (&i.summary).into(),
            corrects_number: i.corrects.as_ref().map(|(_, n)| n.clone()),
            reason: i.reason.clone(),
            lines: i.lines.iter().map(Into::into).collect(),
        }
    }
}

/// The household's issued invoices and credit notes, newest first.
#[utoipa::path(get, path = "/api/v1/invoices", operation_id = "listInvoices", tag = "billing",
    security(("session" = [])), responses((status = 200, body = [InvoiceOut])))]
pub async fn list_invoices(
    State(state): State<AppState>,
    session: Session,
) -> Result<Json<Vec<InvoiceOut>>> {
    let household = session.household()?;
    let list = billing::invoices(&state.pool, household).await?;
    Ok(Json(list.iter().map(Into::into).collect()))
}

/// One invoice or credit note of the household with every line explained and its contest.
#[utoipa::path(get, path = "/api/v1/invoices/{invoice_id}", operation_id = "getInvoice",
    tag = "billing", params(("invoice_id" = i64, Path, minimum = 1)), security(("session" = [])),
    responses((status = 200, body = InvoiceDetailOut)))]
pub async fn get_invoice(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<i64>,
) -> Result<Json<InvoiceDetailOut>> {
    let household = session.household()?;
    let invoice = billing::invoice(&state.pool, Reader::Household(household), id).await?;
    Ok(Json((&invoice).into()))
}

/// The invoice or credit note as the PDF the family keeps (in French, A4).
#[utoipa::path(get, path = "/api/v1/invoices/{invoice_id}/pdf", operation_id = "getInvoicePdf",
    tag = "billing", params(("invoice_id" = i64, Path, minimum = 1)), security(("session" = [])),
    responses((status = 200, description = "The PDF", content((inline(FileBytes) = "application/pdf")))))]
pub async fn get_invoice_pdf(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<i64>,
) -> Result<Response> {
    let household = session.household()?;
    documents::invoice_pdf(&state, household, id).await
}

fn message_schema() -> utoipa::openapi::schema::Schema {
    string()
        .min_length(Some(1))
        .max_length(Some(billing::documents::MAX_TEXT))
        .pattern(Some(format!(
            "^[^\\u0000]*[^{}\\u0000][^\\u0000]*$",
            super::v1::TRIMMED
        )))
        .description(Some(
            "Why the line is wrong: trimmed, 1 to 2000 characters, no U+0000.",
        ))
        .into()
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContestLine {
    #[schema(schema_with = message_schema)]
    message: String,
}

/// Contests a line of one of the household's issued invoices. The town hall answers by e-mail,
/// with a credit note when the family is right. One open contest per line.
#[utoipa::path(post, path = "/api/v1/invoices/{invoice_id}/lines/{line_id}/contest",
    operation_id = "contestInvoiceLine", tag = "billing",
    params(("invoice_id" = i64, Path, minimum = 1), ("line_id" = i64, Path, minimum = 1)),
    request_body = ContestLine, security(("session" = [], "csrf" = [])),
    responses((status = 201, body = ContestOut),
        (status = 404, body = Problem, description = "`not_found`: no such line on an invoice of the household"),
        (status = 409, body = Problem, description = "`contest_open`: the line already has an open contest"),
        (status = 422, body = Problem, description = "`validation`: an empty message, or one over 2000 characters")))]
pub async fn contest_invoice_line(
    State(state): State<AppState>,
    session: Session,
    Path((invoice_id, line_id)): Path<(i64, i64)>,
    Json(body): Json<ContestLine>,
) -> Result<(StatusCode, Json<ContestOut>)> {
    let household = session.household()?;
    let contest = contests::contest(
        &state,
        household,
        &session,
        (invoice_id, line_id),
        body.message,
    )
    .await?;
    Ok((StatusCode::CREATED, Json((&contest).into())))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BalanceOut {
    /// The ledger's sum: positive when the household owes, negative when it is in credit.
    balance_cents: i64,
    /// Left to pay on issued invoices.
    due_cents: i64,
    /// Payments and credit notes not used yet: the next invoice uses them.
    credit_cents: i64,
}

/// What the household owes and what it has in credit.
#[utoipa::path(get, path = "/api/v1/balance", operation_id = "getBalance", tag = "billing",
    security(("session" = [])), responses((status = 200, body = BalanceOut)))]
pub async fn get_balance(
    State(state): State<AppState>,
    session: Session,
) -> Result<Json<BalanceOut>> {
    let household = session.household()?;
    let b = billing::balance(&state.pool, household).await?;
    Ok(Json(BalanceOut {
        balance_cents: b.balance.get(),
        due_cents: b.due.get(),
        credit_cents: b.credit.get(),
    }))
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntryKindOut {
    Invoice,
    CreditNote,
    Payment,
    Refund,
    /// A rejected direct debit: the payment taken back, owed again.
    Reversal,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerEntryOut {
    id: i64,
    at: DateTime<Utc>,
    kind: EntryKindOut,
    /// + owed by the household (an invoice, a refund), − settled (a payment, a credit note).
    amount_cents: i64,
    invoice_id: Option<i64>,
    /// The invoice's or credit note's number.
    number: Option<String>,
    memo: String,
    /// The household's balance after this entry.
    balance_after_cents: i64,
    /// In French: "Facture", "Paiement"…
    label: String,
}

impl From<&LedgerEntry> for LedgerEntryOut {
    fn from(e: &LedgerEntry) -> Self {
        Self {
            id: e.id,
            at: e.at,
            kind: match e.kind {
                EntryKind::Invoice => EntryKindOut::Invoice,
                EntryKind::CreditNote => EntryKindOut::CreditNote,
                EntryKind::Payment => EntryKindOut::Payment,
                EntryKind::Refund => EntryKindOut::Refund,
                EntryKind::Reversal => EntryKindOut::Reversal,
            },
            amount_cents: e.amount.get(),
            invoice_id: e.document.as_ref().map(|(id, _)| *id),
            number: e.document.as_ref().map(|(_, n)| n.clone()),
            memo: e.memo.clone(),
            balance_after_cents: e.balance_after.get(),
            label: words::entry_kind(e.kind).to_owned(),
        }
    }
}

/// The household's account: every invoice, credit note, payment and refund, oldest first,
/// with the balance after each.
#[utoipa::path(get, path = "/api/v1/ledger", operation_id = "listLedger", tag = "billing",
    security(("session" = [])), responses((status = 200, body = [LedgerEntryOut])))]
pub async fn list_ledger(
    State(state): State<AppState>,
    session: Session,
) -> Result<Json<Vec<LedgerEntryOut>>> {
    let household = session.household()?;
    let entries = billing::ledger(&state.pool, household).await?;
    Ok(Json(entries.iter().map(Into::into).collect()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct YearQuery {
    /// The calendar year, 2000 to 2200.
    #[param(minimum = 2000, maximum = 2200)]
    year: i32,
}

/// The yearly statement as PDF: per child, the meals and the amount invoiced over the calendar
/// year; totals invoiced, credited and paid.
#[utoipa::path(get, path = "/api/v1/yearly-statement", operation_id = "getYearlyStatementPdf",
    tag = "billing", params(YearQuery), security(("session" = [])),
    responses((status = 200, description = "The PDF", content((inline(FileBytes) = "application/pdf"))),
        (status = 422, body = Problem, description = "`validation`: no year, or one outside 2000 to 2200")))]
pub async fn get_yearly_statement_pdf(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<YearQuery>,
) -> Result<Response> {
    let household = session.household()?;
    documents::yearly_pdf(&state, household, query.year).await
}
