//! The families' online payments in the JSON API: start one for an invoice (PayFiP's page to
//! send the payer to), follow it, list them. PayFiP's notification is not here: see
//! `http::payfip`.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::Result;
use crate::http::AppState;
use crate::http::auth::Session;
use crate::http::error::{Json, Path, Problem};
use crate::http::payfip::payments as context;
use crate::payments::{self, Payment};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/invoices/{invoice_id}/payments",
            post(start_payment),
        )
        .route("/api/v1/payments", get(list_payments))
        .route("/api/v1/payments/{payment_id}", get(get_payment))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentOut {
    payment_id: i64,
    invoice_id: i64,
    invoice_number: Option<String>,
    /// In cents: what was left to pay on the invoice when the payment started.
    amount_cents: i64,
    /// `pending`, `paid`, `refused`, `abandoned` or `expired`.
    #[schema(pattern = "^(pending|paid|refused|abandoned|expired)$")]
    status: String,
    /// `card` or `debit` (one-off SEPA direct debit), once PayFiP said.
    means: Option<String>,
    /// PayFiP's reference of the attempt (`refdet`).
    reference: String,
    created_at: DateTime<Utc>,
    decided_at: Option<DateTime<Utc>>,
}

impl From<Payment> for PaymentOut {
    fn from(p: Payment) -> Self {
        Self {
            payment_id: p.id,
            invoice_id: p.invoice_id,
            invoice_number: p.invoice_number,
            amount_cents: p.amount.get(),
            status: serde_json::to_value(p.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            means: p.means,
            reference: p.refdet,
            created_at: p.created_at,
            decided_at: p.decided_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StartedOut {
    payment_id: i64,
    /// PayFiP's payment page for this payment: send the payer's browser there.
    redirect_url: String,
    payment: PaymentOut,
}

/// Starts paying what is left on one of the household's invoices online, through the DGFiP's
/// PayFiP (card or one-off direct debit). Answers the payment page to send the payer to; the
/// outcome is what `getPayment` says afterwards, never what the browser reports.
#[utoipa::path(post, path = "/api/v1/invoices/{invoice_id}/payments", operation_id = "startPayment",
    tag = "payments", params(("invoice_id" = i64, Path, minimum = 1)),
    security(("session" = [], "csrf" = [])),
    responses((status = 201, body = StartedOut),
        (status = 404, body = Problem, description = "`not_found`: no such invoice in the household"),
        (status = 409, body = Problem, description = "`payment_in_progress`: an earlier payment of the invoice may still succeed; `nothing_to_pay`: paid, cancelled or not issued; `payment_unavailable`: not payable online (régie without PayFiP, amount outside 1 € to 100,000 €) or refused by PayFiP"),
        (status = 422, body = Problem, description = "`validation`: the account's e-mail address is not one PayFiP takes"),
        (status = 503, body = Problem, description = "`payment_unavailable`: PayFiP did not answer; nothing was started, try again later")))]
pub async fn start_payment(
    State(state): State<AppState>,
    session: Session,
    Path(invoice_id): Path<i64>,
) -> Result<(StatusCode, Json<StartedOut>)> {
    let household = session.household()?;
    let started = payments::start_payment(
        &context(&state),
        household,
        invoice_id,
        &session.account.email,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(StartedOut {
            payment_id: started.payment.id,
            redirect_url: started.redirect_url,
            payment: started.payment.into(),
        }),
    ))
}

/// One of the household's payments. While it is pending, PayFiP is asked again first.
#[utoipa::path(get, path = "/api/v1/payments/{payment_id}", operation_id = "getPayment",
    tag = "payments", params(("payment_id" = i64, Path, minimum = 1)),
    security(("session" = [])), responses((status = 200, body = PaymentOut)))]
pub async fn get_payment(
    State(state): State<AppState>,
    session: Session,
    Path(payment_id): Path<i64>,
) -> Result<Json<PaymentOut>> {
    let household = session.household()?;
    let payment = payments::payment(&context(&state), household, payment_id).await?;
    Ok(Json(payment.into()))
}

/// The household's online payments, newest first.
#[utoipa::path(get, path = "/api/v1/payments", operation_id = "listPayments", tag = "payments",
    security(("session" = [])), responses((status = 200, body = [PaymentOut])))]
pub async fn list_payments(
    State(state): State<AppState>,
    session: Session,
) -> Result<Json<Vec<PaymentOut>>> {
    let household = session.household()?;
    let list = payments::payments(&state.pool, household).await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}
