//! Finance's SEPA direct debit under `/api/v1/staff/billing`: export an issued run as
//! `pain.008` (recording what it collects, the same file again after), list the debits, enter
//! a rejection the bank returned, and see and revoke the households' mandates. Thin handlers
//! over `crate::billing::sepa`.

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use cantine_domain::sepa::Version;

use super::api_billing::FINANCE;
use super::{Access, Staff, Table};
use crate::billing::Month;
use crate::billing::sepa::{self, DirectDebit, Mandate, Revoker};
use crate::error::{Error, Invalid, Result};
use crate::http::AppState;
use crate::http::documents::attachment;
use crate::http::error::{Json, Path, Problem, Query};

pub const EXPORT: &str = "/api/v1/staff/billing/exports/direct-debits.xml";
pub const DEBITS: &str = "/api/v1/staff/billing/direct-debits";
pub const REJECTION: &str = "/api/v1/staff/billing/direct-debits/{debit_id}/rejection";
pub const MANDATES: &str = "/api/v1/staff/billing/mandates";
pub const MANDATE_REVOKE: &str = "/api/v1/staff/billing/mandates/{mandate_id}/revoke";

pub(super) fn declare(table: Table) -> Table {
    let finance = Access::Roles(FINANCE);
    table
        .add(Method::POST, EXPORT, finance, export_direct_debits)
        .add(Method::GET, DEBITS, finance, list_direct_debits)
        .add(Method::POST, REJECTION, finance, reject_direct_debit)
        .add(Method::GET, MANDATES, finance, list_active_mandates)
        .add(
            Method::POST,
            MANDATE_REVOKE,
            finance,
            revoke_household_mandate,
        )
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// The régie's code (`CANT`).
    #[param(pattern = r"^[A-Z0-9]{2,10}$")]
    regie: String,
    /// The invoicing run's month, `2026-11`.
    #[param(pattern = r"^2[01]\d{2}-(0[1-9]|1[0-2])$")]
    month: String,
    /// `08` (`pain.008.001.08`, the default unless `sepa.default_version` says otherwise) or
    /// `02` (`pain.008.001.02`).
    #[param(pattern = r"^(08|02|pain\.008\.001\.0[28])$")]
    version: Option<String>,
}

/// The month and version a query or form names.
pub(super) fn export_args(
    state: &AppState,
    month: &str,
    version: Option<&str>,
) -> Result<(Month, Version)> {
    let month: Month = month.parse()?;
    if !(2000..=2199).contains(&month.first_day().year()) {
        return Err(Error::Invalid(Invalid::Month));
    }
    let version = match version.map(str::trim).filter(|v| !v.is_empty()) {
        None => state.config.sepa.default_version(),
        Some(v) => Version::parse(v)
            .ok_or_else(|| Error::Invalid(Invalid::Request("version: 08 or 02".into())))?,
    };
    Ok((month, version))
}

/// The export as a download.
pub(super) fn xml_attachment(export: &sepa::Export) -> Response {
    attachment(
        "application/xml; charset=utf-8",
        &export.file_name,
        export.xml.clone().into_bytes(),
    )
}

/// Exports the régie's issued run of a month as a SEPA `pain.008` file for the bank. The first
/// export collects every invoice of the run with something left to pay whose household has an
/// active mandate (one debit per invoice, recorded as a SEPA payment in the ledger, the family
/// notified before the collection date); exporting the run again gives the same file. Audited.
#[utoipa::path(post, path = "/api/v1/staff/billing/exports/direct-debits.xml",
    operation_id = "exportDirectDebits", tag = "finance", params(ExportQuery),
    security(("session" = [], "csrf" = [])),
    responses((status = 200, content_type = "application/xml", body = String),
        (status = 404, body = Problem, description = "`not_found`: no run of that régie and month"),
        (status = 409, body = Problem, description = "`invalid_transition`: the run is a draft; `nothing_to_pay`: no invoice to collect under an active mandate; `not_configured`: the `[sepa]` creditor keys are not set"),
        (status = 422, body = Problem, description = "`validation`: a bad month or version")))]
pub async fn export_direct_debits(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<ExportQuery>,
) -> Result<Response> {
    let (month, version) = export_args(&state, &q.month, q.version.as_deref())?;
    let export = sepa::export_run(
        &state.pool,
        &staff.actor,
        &state.config.sepa,
        &q.regie,
        month,
        version,
        state.clock.now(),
    )
    .await?;
    Ok(xml_attachment(&export))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DirectDebitOut {
    debit_id: i64,
    household_id: i64,
    household_name: String,
    invoice_id: i64,
    invoice_number: String,
    end_to_end_id: String,
    amount_cents: i64,
    /// `FRST` or `RCUR`.
    #[schema(pattern = "^(FRST|RCUR)$")]
    sequence_type: String,
    rum: String,
    /// Masked: `FR76 **** … 1234`.
    iban: String,
    collection_date: NaiveDate,
    /// The ledger payment the export recorded.
    payment_id: i64,
    /// The bank's reason code, once the rejection is entered.
    rejection_reason: Option<String>,
    rejected_at: Option<DateTime<Utc>>,
}

impl From<&DirectDebit> for DirectDebitOut {
    fn from(d: &DirectDebit) -> Self {
        Self {
            debit_id: d.id,
            household_id: d.household.get(),
            household_name: d.household_name.clone(),
            invoice_id: d.invoice_id,
            invoice_number: d.invoice_number.clone(),
            end_to_end_id: d.end_to_end_id.clone(),
            amount_cents: d.amount.get(),
            sequence_type: d.sequence.to_owned(),
            rum: d.rum.clone(),
            iban: d.iban_masked.clone(),
            collection_date: d.collection_date,
            payment_id: d.payment_id,
            rejection_reason: d.rejected.clone(),
            rejected_at: d.rejected_at,
        }
    }
}

/// The latest exported debits (500 at most), newest first.
#[utoipa::path(get, path = "/api/v1/staff/billing/direct-debits", operation_id = "listDirectDebits",
    tag = "finance", security(("session" = [])),
    responses((status = 200, body = [DirectDebitOut])))]
pub async fn list_direct_debits(
    State(state): State<AppState>,
    _staff: Staff,
) -> Result<Json<Vec<DirectDebitOut>>> {
    let list = sepa::debits(&state.pool).await?;
    Ok(Json(list.iter().map(Into::into).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectionBody {
    /// The ISO 20022 reason code the bank gave (`AM04` insufficient funds, `MD01` no mandate,
    /// `AC04` account closed…).
    #[schema(pattern = "^[A-Za-z0-9]{4}$", example = "AM04")]
    reason_code: String,
    /// The same key twice enters one rejection.
    #[schema(min_length = 1, max_length = 200)]
    idempotency_key: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RejectionOut {
    debit_id: i64,
    reason_code: String,
    /// False when the key had already entered it.
    new: bool,
}

/// Enters a debit the bank rejected: the SEPA payment is reversed in the ledger (once; the
/// invoice is due again) and the family is told by mail. Audited.
#[utoipa::path(post, path = "/api/v1/staff/billing/direct-debits/{debit_id}/rejection",
    operation_id = "rejectDirectDebit", tag = "finance",
    params(("debit_id" = i64, Path, minimum = 1)), request_body = RejectionBody,
    security(("session" = [], "csrf" = [])),
    responses((status = 201, body = RejectionOut, description = "Entered, or already entered under that key (`new` false)"),
        (status = 404, body = Problem, description = "`not_found`: no such debit"),
        (status = 409, body = Problem, description = "`invalid_transition`: the rejection is already entered under another key; `idempotency_key_reused`: the key entered another rejection"),
        (status = 422, body = Problem, description = "`validation`: a reason code that is not 4 letters or digits, a blank key")))]
pub async fn reject_direct_debit(
    State(state): State<AppState>,
    staff: Staff,
    Path(debit_id): Path<i64>,
    Json(body): Json<RejectionBody>,
) -> Result<(StatusCode, Json<RejectionOut>)> {
    let r = sepa::reject_debit(
        &state.pool,
        &staff.actor,
        debit_id,
        &body.reason_code,
        &body.idempotency_key,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(RejectionOut {
            debit_id: r.debit_id,
            reason_code: r.reason_code,
            new: r.new,
        }),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StaffMandateOut {
    mandate_id: i64,
    household_id: i64,
    rum: String,
    holder: String,
    /// Masked: `FR76 **** … 1234`.
    iban: String,
    bic: String,
    signed_on: NaiveDate,
    revoked_at: Option<DateTime<Utc>>,
}

impl From<&Mandate> for StaffMandateOut {
    fn from(m: &Mandate) -> Self {
        Self {
            mandate_id: m.id,
            household_id: m.household.get(),
            rum: m.rum.clone(),
            holder: m.holder.clone(),
            iban: m.iban_masked.clone(),
            bic: m.bic.clone(),
            signed_on: m.signed_on,
            revoked_at: m.revoked_at,
        }
    }
}

/// Every active mandate of the commune, newest first.
#[utoipa::path(get, path = "/api/v1/staff/billing/mandates", operation_id = "listActiveMandates",
    tag = "finance", security(("session" = [])),
    responses((status = 200, body = [StaffMandateOut])))]
pub async fn list_active_mandates(
    State(state): State<AppState>,
    _staff: Staff,
) -> Result<Json<Vec<StaffMandateOut>>> {
    let list = sepa::active_mandates(&state.pool).await?;
    Ok(Json(list.iter().map(Into::into).collect()))
}

/// Revokes a household's mandate on finance's side (the family's letter, a closed account).
/// Audited.
#[utoipa::path(post, path = "/api/v1/staff/billing/mandates/{mandate_id}/revoke",
    operation_id = "revokeHouseholdMandate", tag = "finance",
    params(("mandate_id" = i64, Path, minimum = 1)), security(("session" = [], "csrf" = [])),
    responses((status = 200, body = StaffMandateOut),
        (status = 404, body = Problem, description = "`not_found`: no such mandate"),
        (status = 409, body = Problem, description = "`invalid_transition`: already revoked")))]
pub async fn revoke_household_mandate(
    State(state): State<AppState>,
    staff: Staff,
    Path(mandate_id): Path<i64>,
) -> Result<Json<StaffMandateOut>> {
    let m = sepa::revoke_mandate(&state.pool, Revoker::Finance(&staff.actor), mandate_id).await?;
    Ok(Json((&m).into()))
}
