//! A household's billing account for finance: its balance (due, credit), its invoices, the
//! ledger, and the two counter forms: a payment taken in cash, by cheque, transfer, CESU or
//! chèques vacances, against an invoice or as credit (recorded once per form, whatever the number
//! of clicks, with a printable receipt), and a refund of its credit, always an explicit
//! action.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

use cantine_domain::calendar::SchoolYearLabel;
use cantine_domain::ids::HouseholdId;
use cantine_domain::money::Cents;

use super::billing::{billing_notice, invoice_status, parse_euros};
use crate::billing::{self, Means, PaymentInput};
use crate::error::{Error, FormProblem};
use crate::households::{self, Viewer};
use crate::http::backoffice::Staff;
use crate::http::backoffice::billing_exports::entry_kind;
use crate::http::portal::widgets::parse_date;
use crate::http::portal::{
    FormData, Layout, PageError, PagePath, PageQuery, check_csrf, form_page, ok, refused, see_other,
};
use crate::http::{AppState, fr, routes};

#[derive(Debug, Default, Deserialize)]
pub(super) struct AccountQuery {
    #[serde(default)]
    info: Option<String>,
    /// The payment just recorded, whose receipt the page links to.
    #[serde(default)]
    recu: Option<i64>,
}

/// An invoice still due, offered as the one a counter payment pays first.
struct DueRow {
    id: i64,
    label: String,
}

struct DocumentRow {
    link: String,
    number: String,
    month: String,
    amount: String,
    status: &'static str,
}

struct EntryRow {
    at: String,
    kind: &'static str,
    document: String,
    memo: String,
    amount: String,
    balance: String,
}

#[derive(Template)]
#[template(path = "gestion/compte_foyer.html")]
struct AccountPage {
    layout: Layout,
    info: Option<&'static str>,
    error: Option<String>,
    id: i64,
    names: String,
    household_link: String,
    balance: String,
    due: String,
    credit: String,
    has_credit: bool,
    regies: Vec<String>,
    documents: Vec<DocumentRow>,
    entries: Vec<EntryRow>,
    today: String,
    /// Sent with the payment form: the same form sent twice records one payment.
    payment_key: String,
    dues: Vec<DueRow>,
    /// The printable receipt of the payment just recorded.
    receipt_link: Option<String>,
    /// Refunds stay finance's; a manager records payments only.
    can_refund: bool,
}

form_page!(AccountPage);

async fn account_view(state: &AppState, staff: &Staff, id: i64) -> Result<AccountPage, PageError> {
    let household = HouseholdId(id);
    let today = state.rules().today();
    let view = households::household_view(
        &state.pool,
        &Viewer {
            actor: &staff.actor,
            roles: staff.session.account.roles,
            scope: staff.scope(),
        },
        household,
        SchoolYearLabel::containing(today),
    )
    .await?;
    let balance = billing::balance(&state.pool, household).await?;
    let documents = billing::invoices(&state.pool, household).await?;
    let entries = billing::ledger(&state.pool, household).await?;
    Ok(AccountPage {
        layout: Layout::new("Compte du foyer", Some(&staff.session)),
        info: None,
        error: None,
        id,
        names: view
            .guardians
            .iter()
            .map(|g| format!("{} {}", g.first_name, g.last_name))
            .collect::<Vec<_>>()
            .join(", "),
        household_link: routes::fill(routes::STAFF_HOUSEHOLD, &[id]),
        balance: fr::euros(balance.balance),
        due: fr::euros(balance.due),
        credit: fr::euros(balance.credit),
        has_credit: balance.credit.get() > 0,
        regies: billing::regies(&state.pool)
            .await?
            .into_iter()
            .map(|r| r.code)
            .collect(),
        documents: documents
            .iter()
            .map(|d| DocumentRow {
                link: routes::fill(routes::STAFF_INVOICE, &[d.id]),
                number: d.number.clone().unwrap_or_default(),
                month: super::billing::month_words(d.month),
                amount: fr::euros(d.amount),
                status: invoice_status(d.status),
            })
            .collect(),
        entries: entries
            .iter()
            .rev()
            .map(|e| EntryRow {
                at: fr::date_time(e.at),
                kind: entry_kind(e.kind),
                document: e.document.as_ref().map(|d| d.1.clone()).unwrap_or_default(),
                memo: e.memo.clone(),
                amount: fr::euros(e.amount),
                balance: fr::euros(e.balance_after),
            })
            .collect(),
        today: today.to_string(),
        payment_key: format!("guichet-{}", uuid::Uuid::new_v4()),
        dues: documents
            .iter()
            .filter(|d| {
                d.kind == billing::DocumentKind::Invoice
                    && matches!(
                        d.status,
                        billing::InvoiceStatus::Issued | billing::InvoiceStatus::PartiallyPaid
                    )
                    && d.amount > d.paid
            })
            .map(|d| DueRow {
                id: d.id,
                label: format!(
                    "{} – {} – reste {}",
                    d.number.clone().unwrap_or_default(),
                    super::billing::month_words(d.month),
                    fr::euros(Cents(d.amount.get() - d.paid.get()))
                ),
            })
            .collect(),
        receipt_link: None,
        can_refund: staff
            .session
            .account
            .roles
            .contains(cantine_domain::roles::Role::Finance),
    })
}

pub(super) async fn account_page(
    State(state): State<AppState>,
    staff: Staff,
    PagePath(id): PagePath<i64>,
    PageQuery(query): PageQuery<AccountQuery>,
) -> Result<Response, PageError> {
    let mut template = account_view(&state, &staff, id).await?;
    template.receipt_link = query
        .recu
        .map(|payment| routes::fill(routes::STAFF_RECEIPT, &[payment]));
    template.info = match query.info.as_deref() {
        Some("encaissement") => Some("Encaissement enregistré et affecté aux factures dues."),
        Some("deja-encaisse") => Some("Cet encaissement était déjà enregistré : rien n'a changé."),
        Some("remboursement") => Some("Remboursement enregistré au compte du foyer."),
        other => billing_notice(other),
    };
    ok(&template)
}

fn account_path(id: i64, info: &str) -> String {
    format!(
        "{}?info={info}",
        routes::fill(routes::STAFF_BILLING_ACCOUNT, &[id])
    )
}

/// A counter payment's printable receipt, as a PDF.
pub(super) async fn receipt_pdf(
    State(state): State<AppState>,
    _staff: Staff,
    PagePath(payment): PagePath<i64>,
) -> Result<Response, PageError> {
    Ok(crate::http::documents::receipt_pdf(&state, payment).await?)
}

pub(super) async fn record_payment(
    State(state): State<AppState>,
    staff: Staff,
    PagePath(id): PagePath<i64>,
    form: FormData,
) -> Result<Response, PageError> {
    check_csrf(&staff.session, &form)?;
    let result = async {
        let means = match form.get("moyen") {
            "especes" => Means::Cash,
            "cheque" => Means::Cheque,
            "cesu" => Means::Cesu,
            "cheques-vacances" => Means::ChequesVacances,
            "virement" => Means::Transfer,
            _ => return Err(Error::form(FormProblem::Action)),
        };
        billing::record_payment(
            &state.pool,
            Some(&staff.actor),
            PaymentInput {
                household: HouseholdId(id),
                regie: form.get("regie").to_owned(),
                amount: parse_euros(form.get("montant"), "Montant encaissé")?,
                means,
                reference: form.get("reference").to_owned(),
                received_on: parse_date(form.get("recu_le"), "Reçu le")?,
                idempotency_key: form.get("cle").to_owned(),
                invoice: match form.get("facture").trim() {
                    "" => None,
                    id => Some(id.parse().map_err(|_| Error::form(FormProblem::Action))?),
                },
            },
        )
        .await
    }
    .await;
    match result {
        Ok(outcome) => {
            let info = if outcome.new {
                "encaissement"
            } else {
                "deja-encaisse"
            };
            let mut path = account_path(id, info);
            if outcome.receipt.is_some() {
                path.push_str(&format!("&recu={}", outcome.payment_id));
            }
            Ok(see_other(&path))
        }
        Err(e) => refused(e, account_view(&state, &staff, id)).await,
    }
}

pub(super) async fn refund(
    State(state): State<AppState>,
    staff: Staff,
    PagePath(id): PagePath<i64>,
    form: FormData,
) -> Result<Response, PageError> {
    check_csrf(&staff.session, &form)?;
    let result = async {
        let memo = form.get("motif").trim();
        if memo.is_empty() {
            return Err(Error::Invalid(crate::error::Invalid::Required {
                field: crate::error::Field::Reason,
            }));
        }
        billing::refund(
            &state.pool,
            &staff.actor,
            HouseholdId(id),
            form.get("regie"),
            parse_euros(form.get("montant"), "Montant remboursé")?,
            memo.to_owned(),
        )
        .await
    }
    .await;
    match result {
        Ok(()) => Ok(see_other(&account_path(id, "remboursement"))),
        Err(e) => refused(e, account_view(&state, &staff, id)).await,
    }
}
