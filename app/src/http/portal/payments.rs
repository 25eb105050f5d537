//! Paying an invoice online: the invoice page's « Payer en ligne » button posts here
//! ([`routes::PAY_INVOICE`]), which opens the PayFiP operation and sends the browser to
//! PayFiP's page; PayFiP sends it back to [`routes::PAYMENT_RETURN`], which asks PayFiP the
//! outcome (never trusting the browser) and says it in plain French.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use super::{FormData, Layout, PageError, PagePath, Signed, check_csrf, fr, page};
use crate::error::Error;
use crate::http::payfip::payments as context;
use crate::http::{AppState, routes};
use crate::payments::{self, Payment, Status};

#[derive(Template)]
#[template(path = "paiement.html")]
struct PaymentPage {
    layout: Layout,
    heading: String,
    message: String,
    invoice_link: Option<String>,
    /// The payment's facts, once there is one: (label, value).
    facts: Vec<(&'static str, String)>,
}

pub(in crate::http) async fn pay(
    State(state): State<AppState>,
    Signed(session): Signed,
    PagePath(invoice_id): PagePath<i64>,
    form: FormData,
) -> Result<Response, PageError> {
    check_csrf(&session, &form)?;
    let household = session.household()?;
    let started = payments::start_payment(
        &context(&state),
        household,
        invoice_id,
        &session.account.email,
    )
    .await;
    match started {
        // 303: the browser goes to PayFiP's page with a GET.
        Ok(started) => Ok(Redirect::to(&started.redirect_url).into_response()),
        Err(error @ (Error::Conflict(_) | Error::Invalid(_))) => {
            let status = crate::http::error::status(&error);
            let template = PaymentPage {
                layout: Layout::new("Paiement en ligne impossible", Some(&session)),
                heading: "Paiement en ligne impossible".to_owned(),
                message: fr::message(&error),
                invoice_link: Some(routes::fill(routes::INVOICE_PAGE, &[invoice_id])),
                facts: Vec::new(),
            };
            page(status, &template)
        }
        Err(other) => Err(other.into()),
    }
}

/// PayFiP's way back (`urlredirect`), by GET or by a form post from PayFiP's page: either way
/// it only shows what PayFiP answers Cantine, so it needs no CSRF token.
pub(in crate::http) async fn returned(
    State(state): State<AppState>,
    Signed(session): Signed,
    PagePath(refdet): PagePath<String>,
) -> Result<Response, PageError> {
    let household = session.household()?;
    let payment = payments::payment_by_refdet(&context(&state), household, &refdet).await?;
    let (heading, message) = outcome(&payment);
    let template = PaymentPage {
        layout: Layout::new(heading, Some(&session)),
        heading: heading.to_owned(),
        message: message.to_owned(),
        invoice_link: Some(routes::fill(routes::INVOICE_PAGE, &[payment.invoice_id])),
        facts: facts(&payment),
    };
    page(StatusCode::OK, &template)
}

fn outcome(p: &Payment) -> (&'static str, &'static str) {
    match p.status {
        Status::Paid => (
            "Paiement accepté",
            "Merci : votre paiement est enregistré sur la facture. PayFiP vous envoie aussi un reçu par e-mail.",
        ),
        Status::Refused => (
            "Paiement refusé",
            "Le paiement a été refusé : rien n'a été débité. Vous pouvez réessayer avec un autre moyen de paiement, ou régler la facture en mairie.",
        ),
        Status::Abandoned => (
            "Paiement abandonné",
            "Vous avez quitté la page de paiement : rien n'a été débité. Vous pouvez recommencer depuis la facture.",
        ),
        Status::Expired => (
            "Paiement expiré",
            "Le paiement n'a pas été mené à son terme à temps : rien n'a été débité. Vous pouvez recommencer depuis la facture.",
        ),
        Status::Pending => (
            "Paiement en cours de vérification",
            "Le service de paiement n'a pas encore donné le résultat. Il est vérifié automatiquement ; la facture l'indiquera dès qu'il sera connu. Ne payez pas une seconde fois.",
        ),
    }
}

fn facts(p: &Payment) -> Vec<(&'static str, String)> {
    let mut facts = vec![
        ("Montant", fr::euros(p.amount)),
        ("État", fr::payment_status(p.status).to_owned()),
        ("Référence", p.refdet.clone()),
    ];
    if let Some(number) = &p.invoice_number {
        facts.push(("Facture", number.clone()));
    }
    if let Some(means) = p.means.as_deref().filter(|_| p.status == Status::Paid) {
        facts.push((
            "Moyen",
            if means == "debit" {
                "prélèvement unique".to_owned()
            } else {
                "carte bancaire".to_owned()
            },
        ));
    }
    if let Some(at) = p.transaction_at {
        facts.push(("Date", fr::date_time(at)));
    }
    facts
}
