//! The family's billing pages: "Mes factures" (each with its state and its PDF), one invoice
//! with every line explained and a "Contester cette ligne" form, and "Mon compte" (what is
//! left to pay, the credit, every entry, the yearly statements). Short sentences, one thing
//! per card: some parents read with difficulty, most on a phone.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono::Datelike;
use chrono_tz::Europe::Paris;
use serde::Deserialize;

use cantine_domain::money::Cents;

use super::{FormData, Layout, PageError, PagePath, PageQuery, Signed, check_csrf, form_page};
use crate::billing::{
    self, ContestStatus, DocumentKind, Invoice, InvoiceStatus, InvoiceSummary, Reader,
};
use crate::error::Error;
use crate::http::auth::Session;
use crate::http::fr::{self, billing as words};
use crate::http::{AppState, documents, routes};

struct InvoiceRow {
    title: String,
    number: String,
    amount: String,
    /// "Reste à payer : 12,00 €", or how it was settled.
    left: String,
    status: &'static str,
    status_class: &'static str,
    href: String,
    pdf_href: String,
}

fn title(s: &InvoiceSummary) -> String {
    match s.kind {
        DocumentKind::Invoice => format!("Facture de {}", words::month(s.month)),
        DocumentKind::CreditNote => format!("Avoir sur {}", words::month(s.month)),
    }
}

fn left_text(s: &InvoiceSummary) -> String {
    match (s.kind, s.status) {
        (DocumentKind::CreditNote, _) => "En votre faveur".to_owned(),
        (_, InvoiceStatus::Paid) => "Rien à payer".to_owned(),
        (_, InvoiceStatus::Cancelled) => "Annulée : rien à payer".to_owned(),
        _ => format!(
            "Reste à payer : {}",
            fr::euros(Cents(s.amount.get() - s.paid.get()))
        ),
    }
}

fn row(s: &InvoiceSummary) -> InvoiceRow {
    InvoiceRow {
        title: title(s),
        number: s.number.clone().unwrap_or_default(),
        amount: fr::euros(s.amount),
        left: left_text(s),
        status: words::invoice_status(s.status),
        status_class: words::invoice_status_class(s.status),
        href: routes::fill(routes::INVOICE, &[s.id]),
        pdf_href: routes::fill(routes::INVOICE_PDF, &[s.id]),
    }
}

#[derive(Template)]
#[template(path = "factures.html")]
struct InvoicesPage {
    layout: Layout,
    invoices: Vec<InvoiceRow>,
    due: String,
    credit: Option<String>,
}

pub(super) async fn invoices(
    State(state): State<AppState>,
    Signed(session): Signed,
) -> Result<Response, PageError> {
    let household = session.household()?;
    let list = billing::invoices(&state.pool, household).await?;
    let balance = billing::balance(&state.pool, household).await?;
    super::ok(&InvoicesPage {
        layout: Layout::new("Mes factures", Some(&session)),
        invoices: list.iter().map(row).collect(),
        due: fr::euros(balance.due),
        credit: (balance.credit.get() > 0).then(|| fr::euros(balance.credit)),
    })
}

struct LineView {
    id: i64,
    date: String,
    child: String,
    what: &'static str,
    amount: String,
    explanation: String,
    /// Where its contest stands, if it has one.
    contest: Option<String>,
    can_contest: bool,
    contest_action: String,
    /// What was typed, when the form comes back refused for this line.
    message: String,
    open_form: bool,
}

struct PayView {
    /// Where the "Payer en ligne" button posts, when PayFiP takes this invoice (its régie has
    /// a PayFiP client number, and what is due is within PayFiP's bounds).
    payfip_action: Option<String>,
    online_url: String,
    direct_debit: String,
    counter: String,
}

#[derive(Template)]
#[template(path = "facture.html")]
struct InvoicePage {
    layout: Layout,
    error: Option<String>,
    info: Option<&'static str>,
    title: String,
    kind: &'static str,
    number: String,
    status: &'static str,
    status_class: &'static str,
    amount: String,
    paid: Option<String>,
    left: String,
    /// What is left to pay, in euros: the online payment's amount.
    due: String,
    to_pay: bool,
    corrects: Option<String>,
    reason: Option<String>,
    lines: Vec<LineView>,
    pay: PayView,
    pdf_href: String,
    max_chars: usize,
}

form_page!(InvoicePage);

fn invoice_page(
    state: &AppState,
    session: &Session,
    doc: &Invoice,
    posted: Option<(i64, &str)>,
) -> InvoicePage {
    let s = &doc.summary;
    let lines = doc
        .lines
        .iter()
        .map(|line| {
            let open = line
                .contest
                .as_ref()
                .is_some_and(|c| c.status == ContestStatus::Open);
            let posted_here = posted.filter(|(id, _)| *id == line.id);
            LineView {
                id: line.id,
                date: line
                    .date
                    .map(|d| fr::capitalized(&fr::long_date(d)))
                    .unwrap_or_default(),
                child: words::child_of(line),
                what: words::line_kind(line.kind),
                amount: fr::euros(line.amount),
                explanation: words::explanation(&line.explanation),
                contest: line.contest.as_ref().map(words::contest),
                can_contest: s.kind == DocumentKind::Invoice && !open,
                contest_action: routes::fill(routes::INVOICE_CONTEST, &[s.id, line.id]),
                message: posted_here.map(|(_, m)| m.to_owned()).unwrap_or_default(),
                open_form: posted_here.is_some(),
            }
        })
        .collect();
    let config = &state.config.billing;
    let left = Cents(s.amount.get() - s.paid.get());
    InvoicePage {
        layout: Layout::new(title(s), Some(session)),
        error: None,
        info: None,
        title: title(s),
        kind: words::document_kind(s.kind),
        number: s.number.clone().unwrap_or_default(),
        status: words::invoice_status(s.status),
        status_class: words::invoice_status_class(s.status),
        amount: fr::euros(s.amount),
        paid: (s.paid.get() != 0).then(|| fr::euros(s.paid)),
        left: left_text(s),
        due: fr::euros(left),
        to_pay: s.kind == DocumentKind::Invoice
            && left.get() > 0
            && s.status != InvoiceStatus::Cancelled,
        corrects: doc.corrects.as_ref().map(|(_, n)| n.clone()),
        reason: doc.reason.clone().filter(|r| !r.is_empty()),
        lines,
        pay: PayView {
            payfip_action: crate::payments::offered(&state.config, s)
                .then(|| routes::fill(routes::PAY_INVOICE, &[s.id])),
            online_url: config.online_payment_url.clone(),
            direct_debit: config.direct_debit.clone(),
            counter: format!("{}, {}.", config.counter_address, config.counter_hours),
        },
        pdf_href: routes::fill(routes::INVOICE_PDF, &[s.id]),
        max_chars: billing::documents::MAX_TEXT,
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct Info {
    info: Option<String>,
}

pub(super) async fn invoice(
    State(state): State<AppState>,
    Signed(session): Signed,
    PagePath(id): PagePath<i64>,
    PageQuery(query): PageQuery<Info>,
) -> Result<Response, PageError> {
    let household = session.household()?;
    let doc = billing::invoice(&state.pool, Reader::Household(household), id).await?;
    let mut page = invoice_page(&state, &session, &doc, None);
    page.info = match query.info.as_deref() {
        Some("contestation") => {
            Some("Votre contestation est envoyée. La mairie vous répondra par e-mail.")
        }
        _ => None,
    };
    super::ok(&page)
}

pub(super) async fn contest(
    State(state): State<AppState>,
    Signed(session): Signed,
    PagePath((invoice_id, line_id)): PagePath<(i64, i64)>,
    form: FormData,
) -> Result<Response, PageError> {
    check_csrf(&session, &form)?;
    let household = session.household()?;
    let message = form.get("message");
    match crate::http::contests::contest(
        &state,
        household,
        &session,
        (invoice_id, line_id),
        message.to_owned(),
    )
    .await
    {
        Ok(_) => Ok(super::see_other(&format!(
            "{}?info=contestation#ligne-{line_id}",
            routes::fill(routes::INVOICE, &[invoice_id])
        ))),
        Err(e) => {
            super::refused(e, async {
                let doc =
                    billing::invoice(&state.pool, Reader::Household(household), invoice_id).await?;
                Ok(invoice_page(
                    &state,
                    &session,
                    &doc,
                    Some((line_id, message)),
                ))
            })
            .await
        }
    }
}

pub(super) async fn invoice_pdf(
    State(state): State<AppState>,
    Signed(session): Signed,
    PagePath(id): PagePath<i64>,
) -> Result<Response, PageError> {
    let household = session.household()?;
    Ok(documents::invoice_pdf(&state, household, id).await?)
}

struct EntryView {
    date: String,
    label: String,
    amount: String,
    balance_after: String,
    href: Option<String>,
}

struct YearLink {
    year: i32,
    href: String,
}

#[derive(Template)]
#[template(path = "mon_compte.html")]
struct AccountPage {
    layout: Layout,
    due: String,
    credit: Option<String>,
    entries: Vec<EntryView>,
    years: Vec<YearLink>,
}

pub(super) async fn account(
    State(state): State<AppState>,
    Signed(session): Signed,
) -> Result<Response, PageError> {
    let household = session.household()?;
    let balance = billing::balance(&state.pool, household).await?;
    let entries = billing::ledger(&state.pool, household).await?;
    let this_year = state.clock.now().with_timezone(&Paris).year();
    let mut first_year = entries
        .first()
        .map_or(this_year, |e| e.at.with_timezone(&Paris).year());
    // The statements of the last few years only: older ones are asked at the town hall.
    first_year = first_year.max(this_year - 4);
    super::ok(&AccountPage {
        layout: Layout::new("Mon compte", Some(&session)),
        due: fr::euros(balance.due),
        credit: (balance.credit.get() > 0).then(|| fr::euros(balance.credit)),
        entries: entries
            .iter()
            .rev()
            .map(|e| {
                let number = e
                    .document
                    .as_ref()
                    .map(|(_, n)| format!(" {n}"))
                    .unwrap_or_default();
                let memo = if e.memo.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", e.memo)
                };
                EntryView {
                    date: fr::long_date_year(e.at.with_timezone(&Paris).date_naive()),
                    label: format!("{}{number}{memo}", words::entry_kind(e.kind)),
                    amount: fr::euros(e.amount),
                    balance_after: fr::euros(e.balance_after),
                    href: e
                        .document
                        .as_ref()
                        .map(|(id, _)| routes::fill(routes::INVOICE, &[*id])),
                }
            })
            .collect(),
        years: (first_year..=this_year)
            .rev()
            .map(|year| YearLink {
                year,
                href: format!("{}?annee={year}", routes::YEARLY_STATEMENT),
            })
            .collect(),
    })
}

#[derive(Debug, Deserialize)]
pub(super) struct YearQuery {
    annee: i32,
}

pub(super) async fn yearly_pdf(
    State(state): State<AppState>,
    Signed(session): Signed,
    PageQuery(query): PageQuery<YearQuery>,
) -> Result<Response, PageError> {
    let household = session.household()?;
    documents::yearly_pdf(&state, household, query.annee)
        .await
        .map_err(|e| match e {
            Error::Invalid(_) => PageError::Error(Error::NotFound),
            other => other.into(),
        })
}
