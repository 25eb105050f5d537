//! Finance's billing pages: the month's run of a régie (computed as a draft, reviewed, issued
//! after a confirmation), an invoice with its lines and the credit-note form, and the export
//! links. The contests and the tariffs have their own modules; the French words of billing's
//! values (line kinds, statuses) are here, for the three of them.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono::Datelike;
use serde::Deserialize;

use cantine_domain::billing::LineKind;
use cantine_domain::money::Cents;

use crate::billing::{
    self, CreditLine, DocumentKind, Invoice, InvoiceLine, InvoiceStatus, Month, Reader, RunReview,
    RunStatus,
};
use crate::error::{Error, FormProblem};
use crate::http::backoffice::Staff;
use crate::http::backoffice::api_billing::{ACCOUNTING_CSV, PES_XML};
use crate::http::portal::widgets::Choice;
use crate::http::portal::{
    FormData, Layout, PageError, PagePath, PageQuery, check_csrf, form_page, ok, refused, see_other,
};
use crate::http::{AppState, fr, routes};

// Words.

pub(super) fn line_kind(kind: LineKind) -> &'static str {
    match kind {
        LineKind::Meal => "Repas",
        LineKind::BookedNotRecorded => "Repas réservé (pointage à venir)",
        LineKind::Unbooked => "Repas sans réservation",
        LineKind::NoShow => "Absence non justifiée",
        LineKind::IllnessCarence => "Maladie, jour de carence",
        LineKind::IllnessFree => "Maladie, non facturé",
        LineKind::ExcusedAbsence => "Absence excusée",
        LineKind::LateAbsence => "Absence signalée après la limite",
        LineKind::Closure => "Fermeture",
        LineKind::Regularisation => "Régularisation",
        LineKind::Credit => "Avoir",
    }
}

pub(super) fn invoice_status(status: InvoiceStatus) -> &'static str {
    match status {
        InvoiceStatus::Draft => "Brouillon",
        InvoiceStatus::Issued => "Émise",
        InvoiceStatus::PartiallyPaid => "Payée en partie",
        InvoiceStatus::Paid => "Payée",
        InvoiceStatus::Cancelled => "Annulée par avoir",
    }
}

fn document_kind(kind: DocumentKind) -> &'static str {
    match kind {
        DocumentKind::Invoice => "Facture",
        DocumentKind::CreditNote => "Avoir",
    }
}

/// "novembre 2026"
pub(super) fn month_words(month: Month) -> String {
    let first = month.first_day();
    fr::month_year(first.year(), first.month())
}

/// The status line after a billing form succeeded.
pub(super) fn billing_notice(code: Option<&str>) -> Option<&'static str> {
    Some(match code? {
        "calcule" => "Brouillon calculé : vérifiez-le avant d'émettre les factures.",
        "emises" => {
            "Factures émises : elles sont numérotées, portées aux comptes des foyers, et les familles reçoivent un e-mail."
        }
        "avoir" => "Avoir émis : il est porté au compte du foyer et la famille est prévenue.",
        "reponse" => "Réponse enregistrée : la famille la reçoit par e-mail.",
        "tarif" => "Nouvelle version du tarif enregistrée.",
        _ => return None,
    })
}

/// An amount typed in euros: `3,50`, `3.5`, `12`, with or without `€`; never negative.
pub(super) fn parse_euros(text: &str, what: &'static str) -> Result<Cents, Error> {
    parse_decimal(text.trim().trim_end_matches('€'), 2)
        .map(Cents)
        .ok_or(Error::form(FormProblem::Euros { what }))
}

/// A non-negative decimal written with a comma or a dot, as an integer of `scale` decimals
/// (`"0,45"` with scale 4 is 4500); `None` for anything else or more decimals than `scale`.
pub(super) fn parse_decimal(text: &str, scale: u32) -> Option<i64> {
    let text: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let (units, decimals) = match text.split_once([',', '.']) {
        Some((u, d)) => (u, d),
        None => (text.as_str(), ""),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if units.is_empty() && decimals.is_empty()
        || !digits(units)
        || !digits(decimals)
        || decimals.len() > scale as usize
        || units.len() > 12
    {
        return None;
    }
    let units: i64 = if units.is_empty() {
        0
    } else {
        units.parse().ok()?
    };
    let padded = format!("{decimals:0<width$}", width = scale as usize);
    let decimals: i64 = if padded.is_empty() {
        0
    } else {
        padded.parse().ok()?
    };
    units.checked_mul(10_i64.pow(scale))?.checked_add(decimals)
}

// The month's run.

#[derive(Debug, Default, Deserialize)]
pub(super) struct RunQuery {
    #[serde(default)]
    regie: Option<String>,
    #[serde(default)]
    mois: Option<String>,
    #[serde(default)]
    info: Option<String>,
}

struct InvoiceRow {
    link: String,
    number: String,
    kind: &'static str,
    household: String,
    amount: String,
    status: &'static str,
}

struct DifferenceRow {
    household: String,
    this_month: String,
    previous_month: String,
    change: String,
}

struct ReviewView {
    title: String,
    draft: bool,
    status: &'static str,
    total: String,
    previous_total: String,
    unrecorded_days: i64,
    regularisation_lines: i64,
    invoices: Vec<InvoiceRow>,
    differences: Vec<DifferenceRow>,
    invoice_count: usize,
}

#[derive(Template)]
#[template(path = "gestion/facturation.html")]
struct RunPage {
    layout: Layout,
    info: Option<&'static str>,
    error: Option<String>,
    regies: Vec<Choice>,
    regie: String,
    month: String,
    month_words: String,
    review: Option<ReviewView>,
    csv: String,
    pes: String,
    pes_configured: bool,
}

form_page!(RunPage);

fn signed_euros(amount: Cents) -> String {
    if amount > Cents::ZERO {
        format!("+{}", fr::euros(amount))
    } else {
        fr::euros(amount)
    }
}

fn invoice_row(s: &billing::InvoiceSummary) -> InvoiceRow {
    InvoiceRow {
        link: routes::fill(routes::STAFF_INVOICE, &[s.id]),
        number: s.number.clone().unwrap_or_else(|| "—".to_owned()),
        kind: document_kind(s.kind),
        household: s.household_name.clone(),
        amount: fr::euros(s.amount),
        status: invoice_status(s.status),
    }
}

fn review_view(r: &RunReview) -> ReviewView {
    ReviewView {
        title: format!(
            "{} – {} ({})",
            fr::capitalized(&month_words(r.month)),
            r.regie.name,
            r.regie.code
        ),
        draft: r.status == RunStatus::Draft,
        status: match r.status {
            RunStatus::Draft => "Brouillon : rien n'est encore envoyé aux familles",
            RunStatus::Issued => "Émise",
        },
        total: fr::euros(r.total),
        previous_total: fr::euros(r.previous_total),
        unrecorded_days: r.unrecorded_days,
        regularisation_lines: r.regularisation_lines,
        invoices: r.invoices.iter().map(invoice_row).collect(),
        differences: r
            .differences
            .iter()
            .map(|d| DifferenceRow {
                household: d.household_name.clone(),
                this_month: fr::euros(d.this_month),
                previous_month: fr::euros(d.previous_month),
                change: signed_euros(d.this_month - d.previous_month),
            })
            .collect(),
        invoice_count: r.invoices.len(),
    }
}

/// The page for a régie's month, with its review when it was computed.
async fn run_view(
    state: &AppState,
    staff: &Staff,
    regie: Option<&str>,
    month: Option<&str>,
) -> Result<RunPage, PageError> {
    let regies = billing::regies(&state.pool).await?;
    let regie = regie
        .map(str::to_owned)
        .or_else(|| regies.first().map(|r| r.code.clone()))
        .unwrap_or_default();
    let month = match month.map(str::trim).filter(|m| !m.is_empty()) {
        Some(text) => text
            .parse::<Month>()
            .map_err(|_| Error::form(FormProblem::Month))?,
        None => Month::of(state.rules().today()).previous(),
    };
    let review = if regies.iter().any(|r| r.code == regie) {
        billing::review(&state.pool, &regie, month).await?
    } else {
        None
    };
    let query = |path: &str| {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.append_pair("regie", &regie);
        q.append_pair("month", &month.to_string());
        format!("{path}?{}", q.finish())
    };
    Ok(RunPage {
        layout: Layout::new("Facturation", Some(&staff.session)),
        info: None,
        error: None,
        regies: regies
            .iter()
            .map(|r| Choice {
                value: r.code.clone(),
                label: format!("{} ({})", r.name, r.code),
                selected: r.code == regie,
            })
            .collect(),
        csv: query(ACCOUNTING_CSV),
        pes: query(PES_XML),
        pes_configured: state.config.accounting.siret.is_some(),
        regie,
        month: month.to_string(),
        month_words: month_words(month),
        review: review.as_ref().map(review_view),
    })
}

fn run_page_path(regie: &str, month: &str, info: &str) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("regie", regie);
    q.append_pair("mois", month);
    q.append_pair("info", info);
    format!("{}?{}", routes::STAFF_BILLING, q.finish())
}

pub(super) async fn run_page(
    State(state): State<AppState>,
    staff: Staff,
    PageQuery(query): PageQuery<RunQuery>,
) -> Result<Response, PageError> {
    let view = run_view(
        &state,
        &staff,
        query.regie.as_deref(),
        query.mois.as_deref(),
    )
    .await;
    let mut template = match view {
        Ok(t) => t,
        Err(PageError::Error(e @ Error::Invalid(_))) => {
            return refused(e, run_view(&state, &staff, query.regie.as_deref(), None)).await;
        }
        Err(e) => return Err(e),
    };
    template.info = billing_notice(query.info.as_deref());
    ok(&template)
}

fn month_field(form: &FormData) -> Result<Month, Error> {
    form.get("mois")
        .trim()
        .parse::<Month>()
        .map_err(|_| Error::form(FormProblem::Month))
}

pub(super) async fn compute(
    State(state): State<AppState>,
    staff: Staff,
    form: FormData,
) -> Result<Response, PageError> {
    check_csrf(&staff.session, &form)?;
    let regie = form.get("regie").to_owned();
    let result = async {
        let month = month_field(&form)?;
        billing::run(&state.pool, Some(&staff.actor), &regie, month).await
    }
    .await;
    match result {
        Ok(review) => Ok(see_other(&run_page_path(
            &regie,
            &review.month.to_string(),
            "calcule",
        ))),
        Err(e) => {
            let month = month_field(&form).ok().map(|m| m.to_string());
            refused(e, run_view(&state, &staff, Some(&regie), month.as_deref())).await
        }
    }
}

pub(super) async fn issue(
    State(state): State<AppState>,
    staff: Staff,
    form: FormData,
) -> Result<Response, PageError> {
    check_csrf(&staff.session, &form)?;
    let regie = form.get("regie").to_owned();
    let month_text = form.get("mois").to_owned();
    let result = async {
        let month = month_field(&form)?;
        if !form.checked("confirmation") {
            return Err(Error::form(FormProblem::Confirmation));
        }
        billing::issue_at(
            &state.pool,
            Some(&staff.actor),
            &regie,
            month,
            state.clock.now(),
        )
        .await
    }
    .await;
    match result {
        Ok(review) => Ok(see_other(&run_page_path(
            &regie,
            &review.month.to_string(),
            "emises",
        ))),
        Err(e) => {
            let month = month_text.parse::<Month>().ok().map(|m| m.to_string());
            refused(e, run_view(&state, &staff, Some(&regie), month.as_deref())).await
        }
    }
}

// An invoice.

#[derive(Debug, Default, Deserialize)]
pub(super) struct InvoiceQuery {
    #[serde(default)]
    info: Option<String>,
}

pub(super) struct LineRow {
    pub(super) date: String,
    pub(super) child: String,
    pub(super) kind: &'static str,
    pub(super) amount: String,
    pub(super) memo: String,
    pub(super) contest: Option<String>,
}

pub(super) fn line_row(l: &InvoiceLine) -> LineRow {
    LineRow {
        date: l.date.map(fr::numeric_date).unwrap_or_default(),
        child: l
            .child
            .as_ref()
            .map(|c| format!("{} {}", c.first_name, c.last_name))
            .unwrap_or_default(),
        kind: line_kind(l.kind),
        amount: fr::euros(l.amount),
        memo: l.explanation.memo.clone().unwrap_or_default(),
        contest: l.contest.as_ref().map(|c| {
            let state = match c.status {
                billing::ContestStatus::Open => "contestation ouverte",
                billing::ContestStatus::Answered => "contestation répondue",
            };
            format!("{state} : « {} »", c.message)
        }),
    }
}

#[derive(Template)]
#[template(path = "gestion/facture.html")]
struct InvoicePage {
    layout: Layout,
    info: Option<&'static str>,
    error: Option<String>,
    id: i64,
    kind: &'static str,
    number: String,
    month: String,
    run: String,
    household: String,
    household_link: String,
    account_link: String,
    recipient: Vec<String>,
    address: String,
    amount: String,
    paid: String,
    status: &'static str,
    reason: Option<String>,
    corrects: Option<(String, String)>,
    lines: Vec<LineRow>,
    creditable: bool,
    line_choices: Vec<Choice>,
    form_amount: String,
    form_reason: String,
}

form_page!(InvoicePage);

async fn invoice_view(state: &AppState, staff: &Staff, id: i64) -> Result<InvoicePage, PageError> {
    let invoice: Invoice = billing::invoice(&state.pool, Reader::Staff, id).await?;
    let s = &invoice.summary;
    let r = &invoice.recipient;
    let address = [
        r.address_line1.as_str(),
        r.address_line2.as_str(),
        &format!("{} {}", r.postcode, r.city),
    ]
    .iter()
    .map(|l| l.trim())
    .filter(|l| !l.is_empty())
    .collect::<Vec<_>>()
    .join(", ");
    Ok(InvoicePage {
        layout: Layout::new(
            format!(
                "{} {}",
                document_kind(s.kind),
                s.number.as_deref().unwrap_or("en brouillon")
            ),
            Some(&staff.session),
        ),
        info: None,
        error: None,
        id: s.id,
        kind: document_kind(s.kind),
        number: s
            .number
            .clone()
            .unwrap_or_else(|| "en brouillon".to_owned()),
        month: month_words(s.month),
        run: run_page_path(&s.regie, &s.month.to_string(), ""),
        household: s.household_name.clone(),
        household_link: routes::fill(routes::STAFF_HOUSEHOLD, &[s.household.get()]),
        account_link: routes::fill(routes::STAFF_BILLING_ACCOUNT, &[s.household.get()]),
        recipient: r.names.clone(),
        address,
        amount: fr::euros(s.amount),
        paid: fr::euros(s.paid),
        status: invoice_status(s.status),
        reason: invoice.reason.clone(),
        corrects: invoice
            .corrects
            .as_ref()
            .map(|(id, number)| (routes::fill(routes::STAFF_INVOICE, &[*id]), number.clone())),
        creditable: s.kind == DocumentKind::Invoice && s.status != InvoiceStatus::Draft,
        line_choices: invoice
            .lines
            .iter()
            .filter(|l| l.amount > Cents::ZERO)
            .map(|l| Choice {
                value: l.id.to_string(),
                label: format!(
                    "{} {} – {} – {}",
                    l.date.map(fr::numeric_date).unwrap_or_default(),
                    l.child
                        .as_ref()
                        .map(|c| c.first_name.as_str())
                        .unwrap_or(""),
                    line_kind(l.kind),
                    fr::euros(l.amount)
                ),
                selected: false,
            })
            .collect(),
        lines: invoice.lines.iter().map(line_row).collect(),
        form_amount: String::new(),
        form_reason: String::new(),
    })
}

pub(super) async fn invoice_page(
    State(state): State<AppState>,
    staff: Staff,
    PagePath(id): PagePath<i64>,
    PageQuery(query): PageQuery<InvoiceQuery>,
) -> Result<Response, PageError> {
    let mut template = invoice_view(&state, &staff, id).await?;
    template.info = billing_notice(query.info.as_deref());
    ok(&template)
}

pub(super) async fn credit_note(
    State(state): State<AppState>,
    staff: Staff,
    PagePath(id): PagePath<i64>,
    form: FormData,
) -> Result<Response, PageError> {
    check_csrf(&staff.session, &form)?;
    let result = async {
        let line = match form.get("ligne").trim() {
            "" => None,
            text => Some(super::number(text, "Ligne")?),
        };
        let amount = parse_euros(form.get("montant"), "Montant de l'avoir")?;
        billing::create_credit_note_at(
            &state.pool,
            &staff.actor,
            id,
            vec![CreditLine { line, amount }],
            form.get("motif").to_owned(),
            state.clock.now(),
        )
        .await
    }
    .await;
    match result {
        Ok(note) => Ok(see_other(&format!(
            "{}?info=avoir",
            routes::fill(routes::STAFF_INVOICE, &[note.id])
        ))),
        Err(e) => {
            refused(e, async {
                let mut page = invoice_view(&state, &staff, id).await?;
                page.form_amount = form.get("montant").to_owned();
                page.form_reason = form.get("motif").to_owned();
                Ok(page)
            })
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_read_with_a_comma_or_a_dot_and_never_guessed() {
        assert_eq!(parse_decimal("3,50", 2), Some(350));
        assert_eq!(parse_decimal("3.5", 2), Some(350));
        assert_eq!(parse_decimal("12", 2), Some(1200));
        assert_eq!(parse_decimal(",05", 2), Some(5));
        assert_eq!(parse_decimal("0,45", 4), Some(4500));
        assert_eq!(parse_euros("3,50 €", "x").unwrap(), Cents(350));
        for bad in ["", "-1", "3,505", "3,5,0", "trois", "1e3"] {
            assert_eq!(parse_decimal(bad, 2), None, "{bad}");
        }
    }
}
