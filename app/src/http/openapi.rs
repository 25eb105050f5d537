//! The OpenAPI 3.1 description, generated from the handlers' annotations so it cannot drift.
//!
//! The handlers document their own answers; [`SharedAnswers`] then adds to each operation the
//! problems that the shared machinery (body extractor, session, origin check, path extractor,
//! timeout, panic guard) can answer for it, so that a client generated from the file meets no
//! undocumented status.

use axum::Router;
use axum::routing::get;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr, Response};
use utoipa::{Modify, OpenApi};

use super::api::absences;
use super::api::billing;
use super::api::mandates;
use super::api::menus;
use super::api::payments;
use super::api::privacy;
use super::api::v1 as api;
use super::backoffice::api as staff;
use super::backoffice::api_absences as staff_absences;
use super::backoffice::api_attendance as attendance;
use super::backoffice::api_billing as finance;
use super::backoffice::api_custody as custody;
use super::backoffice::api_menus as staff_menus;
use super::backoffice::api_payments as staff_payments;
use super::backoffice::api_sepa as staff_sepa;
use super::backoffice::kitchen;
use super::ops as health;
use super::{AppState, error::Json};

/// The media type of every error answer (RFC 9457).
pub const PROBLEM_JSON: &str = "application/problem+json";

/// The security scheme of the session cookie (`__Host-` prefixed behind TLS).
pub const SESSION: &str = "session";
/// The security scheme of the CSRF header, needed by unsafe requests sent without `Origin`.
pub const CSRF: &str = "csrf";

#[derive(OpenApi)]
#[openapi(
    info(title = "Cantine", description = "Inscriptions et réservations de cantine scolaire"),
    paths(
        health::healthz, health::readyz, health::metrics,
        api::create_account, api::confirm_email, api::login, api::logout, api::invite_guardian,
        api::list_schools, api::list_children, api::get_child, api::create_child,
        api::request_enrollment, api::list_reservations, api::list_reservation_history,
        api::book_meal, api::cancel_meal,
        api::set_pattern,
        staff::me, staff::list_pending_enrollments, staff::decide_enrollment,
        staff::search_households, staff::get_household, staff::set_quotient_familial,
        staff::create_household, staff::add_child, staff::enroll_at_counter,
        staff::set_day_at_counter, staff::close_days, staff::reopen_days,
        staff::create_staff_account, staff::set_staff_roles, staff::reset_second_factor,
        staff::audit_log,
        absences::declare_absence, absences::list_absences, absences::upload_certificate,
        absences::get_certificate, absences::preview_absence, staff_absences::list_pending_absences,
        staff_absences::decide_absence, staff_absences::get_absence_certificate,
        menus::list_menus, staff_menus::set_menu,
        attendance::attendance_list, attendance::mark_attendance, attendance::lock_attendance,
        kitchen::kitchen_counts,
        custody::set_custody, custody::remove_custody,
        billing::list_invoices, billing::get_invoice, billing::get_invoice_pdf,
        billing::contest_invoice_line, billing::get_balance, billing::list_ledger,
        billing::get_yearly_statement_pdf,
        finance::run_invoicing, finance::get_invoicing_run, finance::issue_invoices,
        finance::get_staff_invoice, finance::create_credit_note, finance::list_contests,
        finance::answer_contest, finance::list_tariffs, finance::save_tariff,
        finance::record_payment, finance::refund_credit, finance::export_accounting,
        finance::export_pes, finance::get_receipt_pdf,
        payments::start_payment, payments::get_payment, payments::list_payments,
        staff_payments::reconciliation_report, staff_payments::list_payment_mismatches,
        staff_payments::resolve_payment_mismatch,
        privacy::export_household_data,
        mandates::create_mandate, mandates::list_mandates, mandates::revoke_mandate,
        staff_sepa::export_direct_debits, staff_sepa::list_direct_debits,
        staff_sepa::reject_direct_debit, staff_sepa::list_active_mandates,
        staff_sepa::revoke_household_mandate,
    ),
    components(schemas(super::error::Problem)),
    modifiers(&SharedAnswers),
    tags(
        (name = "operations", description = "Health and metrics"),
        (name = "accounts", description = "Sign-up, e-mail confirmation, sessions"),
        (name = "family", description = "Schools, children, enrollments"),
        (name = "reservations", description = "Meal bookings and their deadlines"),
        (name = "absences", description = "Absences a family declares, with an optional certificate (PDF, JPEG or PNG by its content, 5 MiB at most), and the manager's decision"),
        (name = "payments", description = "Paying invoices online through the DGFiP's PayFiP (card or one-off direct debit): the outcome is what PayFiP answers Cantine, never what the browser says"),
        (name = "menus", description = "The canteen's menus with their allergens: public data, no session needed"),
        (name = "billing", description = "The household's invoices and credit notes (each line with what happened and its tariff basis), their PDFs, contests on a line, the balance, the ledger and the yearly statement; another household's answers 404"),
        (name = "staff", description = "The town hall's back office: every operation checks the staff member's roles (403 `forbidden`), and another school's data answers 404"),
        (name = "finance", description = "Finance's back office for billing: the monthly run per régie (draft, review, issue), credit notes, contests, counter payments and refunds, tariffs (finance or manager), and the exports for the public accountant; every operation checks the staff member's roles (403 `forbidden`)"),
    )
)]
pub struct ApiDoc;

/// Built once, on the first request: the document never changes while the process runs.
fn document() -> &'static utoipa::openapi::OpenApi {
    static DOCUMENT: std::sync::OnceLock<utoipa::openapi::OpenApi> = std::sync::OnceLock::new();
    DOCUMENT.get_or_init(ApiDoc::openapi)
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/openapi.json", get(|| async { Json(document()) }))
}

/// Documents, on every operation, the answers it gets from the shared layers, according to what
/// the operation takes:
///
/// - a JSON body: 400 (not JSON), 413 (over `http.body_limit_bytes`), 415 (no JSON
///   `Content-Type`), 422 (wrong shape or values);
/// - query parameters: 422 (unreadable ones);
/// - path parameters: 404 (also for a malformed id or date);
/// - a session (`security`): 401 (none) and 403 (`csrf`, or `not_a_guardian` for staff);
/// - an unsafe method: 403 (`csrf`, from a page of another site);
/// - all: 408 (over `http.request_timeout_secs`) and 500.
///
/// It also gives every `Problem` answer the `application/problem+json` media type, and the
/// answers documented without a description their status' reason.
struct SharedAnswers;

impl Modify for SharedAnswers {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            SESSION,
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "cantine_session",
                "Set by `login`; named `__Host-cantine_session` when `public_url` is https.",
            ))),
        );
        components.add_security_scheme(
            CSRF,
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-CSRF-Token",
                "The `csrf_token` given by `login`. Unsafe requests need it unless their \
                 `Origin` is the service's.",
            ))),
        );
        for item in doc.paths.paths.values_mut() {
            let operations = [
                (false, &mut item.get),
                (false, &mut item.head),
                (true, &mut item.post),
                (true, &mut item.put),
                (true, &mut item.patch),
                (true, &mut item.delete),
            ];
            for (unsafe_method, operation) in operations {
                if let Some(operation) = operation {
                    add_shared_answers(operation, unsafe_method);
                }
            }
        }
    }
}

fn add_shared_answers(operation: &mut Operation, unsafe_method: bool) {
    let has_parameters_in = |place: ParameterIn| {
        operation
            .parameters
            .iter()
            .flatten()
            .any(|p| p.parameter_in == place)
    };
    let path_parameters = has_parameters_in(ParameterIn::Path);
    let query_parameters = has_parameters_in(ParameterIn::Query);
    // A certificate upload's body is the file itself, not JSON: it gets 413 and 422, not the
    // JSON decoder's 400 and 415.
    let any_body = operation.request_body.is_some();
    let json_body = operation
        .request_body
        .as_ref()
        .is_some_and(|b| b.content.contains_key("application/json"));
    let signed_in = operation.security.as_ref().is_some_and(|s| !s.is_empty());

    let mut shared: Vec<(u16, &str)> = Vec::new();
    if json_body {
        shared.push((400, "`malformed_json`: the body is not JSON."));
    }
    if any_body {
        shared.push((
            413,
            "`payload_too_large`: the body is over the configured limit.",
        ));
    }
    if json_body {
        shared.push((
            415,
            "`unsupported_media_type`: the body is not sent as `application/json`.",
        ));
    }
    if any_body || query_parameters {
        shared.push((
            422,
            "`validation`: a field is missing, unknown, of the wrong type or out of range.",
        ));
    }
    if signed_in {
        shared.push((401, "`unauthorized`: no session, or an expired one."));
    }
    if signed_in || unsafe_method {
        shared.push((
            403,
            "`csrf`: sent by a page of another site, or without the session's CSRF token; \
             `not_a_guardian`: a staff account has no household; `forbidden`: the staff \
             member's roles do not allow it (or a family account asks the back office); \
             `second_factor_required`: a staff session opened before enrolling the second factor.",
        ));
    }
    if path_parameters {
        shared.push((
            404,
            "`not_found`: no such resource in the household (also for a malformed id or date).",
        ));
    }
    shared.push((408, "The request took longer than the configured timeout."));
    shared.push((
        500,
        "`internal`: an unexpected error, logged by the server.",
    ));

    let responses = &mut operation.responses.responses;
    for (status, description) in shared {
        responses
            .entry(status.to_string())
            .or_insert_with(|| RefOr::T(Response::new(description)));
    }
    for (status, response) in responses.iter_mut() {
        let RefOr::T(response) = response else {
            continue;
        };
        if response.description.is_empty() {
            response.description = status
                .parse()
                .ok()
                .and_then(|s| axum::http::StatusCode::from_u16(s).ok())
                .and_then(|s| s.canonical_reason())
                .unwrap_or("Answer")
                .to_owned();
        }
        if status.starts_with('4') || status.starts_with('5') {
            to_problem(response);
        }
    }
}

/// Error answers are problems unless the handler documented another media type (`/readyz`
/// answers its 503 in plain text).
fn to_problem(response: &mut Response) {
    if response.content.is_empty() {
        let problem = Content::new(Some(Ref::from_schema_name("Problem")));
        response.content.insert(PROBLEM_JSON.to_owned(), problem);
    } else if let Some(json) = response.content.shift_remove("application/json") {
        response.content.insert(PROBLEM_JSON.to_owned(), json);
    }
}
