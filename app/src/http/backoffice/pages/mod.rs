//! The back office's pages under `/gestion`, and the new member's password page. They mirror
//! the staff API (`api.rs`): each handler reads its form by hand, calls the same service with
//! the acting [`Staff`] member, and answers the way the family portal does (escaped askama
//! templates, the session's CSRF token in every form, Post/Redirect/Get, the form again with
//! the service's French message and a 4xx when refused).
//!
//! One module per area: the password link and second factor, the home page, the enrollment
//! queue, households (search, page, counter forms), closures, staff members, the audit
//! log and the absence queue. [`declare`] mounts them all through the back office's [`Table`].

mod absences;
mod accounts;
mod attendance;
mod billing;
mod closures;
mod contests;
mod custody;
mod home;
mod households;
mod journal;
mod members;
mod menus;
mod payment_mismatches;
mod queue;
mod second_factor;
mod status;
mod tariffs;

use axum::Router;
use axum::http::Method;
use axum::routing::get;

use super::{
    ADMIN, ANY_STAFF, ATTENDANCE, Access, CUSTODY_WRITERS, HOUSEHOLD_READERS, MANAGER,
    MENU_WRITERS, QUOTIENT_WRITERS, STATUS_READERS, Table,
};
use cantine_domain::ids::SchoolId;

use super::api_billing::{COUNTER, FINANCE, TARIFF_WRITERS};
use super::api_payments::{MISMATCH_READERS, MISMATCH_RESOLVERS};

use crate::error::{Error, FormProblem};
use crate::http::portal::FormData;
use crate::http::{AppState, fr, routes};

pub(super) fn declare(table: Table) -> Table {
    let any = Access::Roles(ANY_STAFF);
    let manager = Access::Roles(MANAGER);
    let admin = Access::Roles(ADMIN);
    let readers = Access::Roles(HOUSEHOLD_READERS);
    let quotient = Access::Roles(QUOTIENT_WRITERS);
    let menu_writers = Access::Roles(MENU_WRITERS);
    table
        .add(
            Method::GET,
            routes::SECOND_FACTOR,
            Access::Enrolling,
            second_factor::enrolment_form,
        )
        .add(
            Method::POST,
            routes::SECOND_FACTOR,
            Access::Enrolling,
            second_factor::confirm_enrolment,
        )
        .add(Method::GET, routes::STAFF_HOME, any, home::home)
        .add(
            Method::GET,
            routes::STAFF_ENROLLMENTS,
            manager,
            queue::queue,
        )
        .add(Method::POST, routes::STAFF_DECISION, manager, queue::decide)
        .add(
            Method::GET,
            routes::STAFF_HOUSEHOLDS,
            readers,
            households::search,
        )
        .add(
            Method::GET,
            routes::STAFF_HOUSEHOLD,
            readers,
            households::household,
        )
        .add(
            Method::POST,
            routes::STAFF_QUOTIENT,
            quotient,
            households::set_quotient,
        )
        .add(
            Method::POST,
            routes::STAFF_COUNTER_CHILD,
            manager,
            households::add_child,
        )
        .add(
            Method::POST,
            routes::STAFF_COUNTER_ENROLLMENT,
            manager,
            households::enroll,
        )
        .add(
            Method::POST,
            routes::STAFF_COUNTER_DAY,
            manager,
            households::set_day,
        )
        .add(
            Method::POST,
            routes::STAFF_CUSTODY,
            Access::Roles(CUSTODY_WRITERS),
            custody::set,
        )
        .add(
            Method::POST,
            routes::STAFF_CUSTODY_REMOVAL,
            Access::Roles(CUSTODY_WRITERS),
            custody::remove,
        )
        .add(
            Method::GET,
            routes::STAFF_NEW_HOUSEHOLD,
            manager,
            households::new_household_form,
        )
        .add(
            Method::POST,
            routes::STAFF_NEW_HOUSEHOLD,
            manager,
            households::create_household,
        )
        .add(
            Method::GET,
            routes::STAFF_CLOSURES,
            manager,
            closures::closures_page,
        )
        .add(
            Method::POST,
            routes::STAFF_CLOSURES,
            manager,
            closures::close_days,
        )
        .add(
            Method::POST,
            routes::STAFF_REOPENING,
            manager,
            closures::reopen_days,
        )
        .add(Method::GET, routes::STAFF_MEMBERS, admin, members::members)
        .add(
            Method::POST,
            routes::STAFF_MEMBERS,
            admin,
            members::create_member,
        )
        .add(
            Method::POST,
            routes::STAFF_MEMBER_SECOND_FACTOR,
            admin,
            members::reset_second_factor,
        )
        .add(
            Method::POST,
            routes::STAFF_MEMBER_ROLES,
            admin,
            members::set_roles,
        )
        .add(Method::GET, routes::STAFF_AUDIT, admin, journal::journal)
        .add(
            Method::GET,
            routes::STAFF_STATUS,
            Access::Roles(STATUS_READERS),
            status::status_page,
        )
        .add(
            Method::GET,
            routes::STAFF_ABSENCES,
            manager,
            absences::queue,
        )
        .add(
            Method::POST,
            routes::STAFF_ABSENCE_DECISION,
            manager,
            absences::decide,
        )
        .add(
            Method::GET,
            routes::STAFF_ABSENCE_CERTIFICATE,
            manager,
            absences::certificate,
        )
        .add(Method::GET, routes::STAFF_MENUS, menu_writers, menus::week)
        .add(
            Method::GET,
            routes::STAFF_MENU_IMPORT,
            menu_writers,
            menus::import_form,
        )
        .add(
            Method::POST,
            routes::STAFF_MENU_IMPORT,
            menu_writers,
            menus::import,
        )
        .add(
            Method::GET,
            routes::STAFF_MENU_DAY,
            menu_writers,
            menus::day_form,
        )
        .add(
            Method::POST,
            routes::STAFF_MENU_DAY,
            menu_writers,
            menus::save_day,
        )
        .add(
            Method::GET,
            routes::STAFF_ATTENDANCE,
            Access::Roles(ATTENDANCE),
            attendance::attendance_page,
        )
        .add(
            Method::POST,
            routes::STAFF_ATTENDANCE_MARK,
            Access::Roles(ATTENDANCE),
            attendance::mark,
        )
        .add(
            Method::POST,
            routes::STAFF_ATTENDANCE_WALK_IN,
            Access::Roles(ATTENDANCE),
            attendance::walk_in,
        )
        .add(
            Method::POST,
            routes::STAFF_ATTENDANCE_LOCK,
            manager,
            attendance::lock,
        )
        .add(
            Method::GET,
            routes::STAFF_BILLING,
            Access::Roles(FINANCE),
            billing::run_page,
        )
        .add(
            Method::POST,
            routes::STAFF_BILLING_RUN,
            Access::Roles(FINANCE),
            billing::compute,
        )
        .add(
            Method::POST,
            routes::STAFF_BILLING_ISSUE,
            Access::Roles(FINANCE),
            billing::issue,
        )
        .add(
            Method::GET,
            routes::STAFF_INVOICE,
            Access::Roles(FINANCE),
            billing::invoice_page,
        )
        .add(
            Method::POST,
            routes::STAFF_CREDIT_NOTE,
            Access::Roles(FINANCE),
            billing::credit_note,
        )
        .add(
            Method::GET,
            routes::STAFF_CONTESTS,
            Access::Roles(FINANCE),
            contests::contests_page,
        )
        .add(
            Method::POST,
            routes::STAFF_CONTEST_ANSWER,
            Access::Roles(FINANCE),
            contests::answer,
        )
        .add(
            Method::GET,
            routes::STAFF_TARIFFS,
            Access::Roles(TARIFF_WRITERS),
            tariffs::tariffs_page,
        )
        .add(
            Method::POST,
            routes::STAFF_TARIFFS,
            Access::Roles(TARIFF_WRITERS),
            tariffs::save,
        )
        .add(
            Method::GET,
            routes::STAFF_BILLING_ACCOUNT,
            Access::Roles(COUNTER),
            accounts::account_page,
        )
        .add(
            Method::POST,
            routes::STAFF_BILLING_PAYMENT,
            Access::Roles(COUNTER),
            accounts::record_payment,
        )
        .add(
            Method::GET,
            routes::STAFF_RECEIPT,
            Access::Roles(COUNTER),
            accounts::receipt_pdf,
        )
        .add(
            Method::POST,
            routes::STAFF_BILLING_REFUND,
            Access::Roles(FINANCE),
            accounts::refund,
        )
        .add(
            Method::GET,
            routes::STAFF_PAYMENT_MISMATCHES,
            Access::Roles(MISMATCH_READERS),
            payment_mismatches::mismatches_page,
        )
        .add(
            Method::POST,
            routes::STAFF_PAYMENT_MISMATCH,
            Access::Roles(MISMATCH_RESOLVERS),
            payment_mismatches::resolve,
        )
}

/// The page a new member reaches from their mail: it needs no session, so it is not in the
/// table.
pub(super) fn public_routes() -> Router<AppState> {
    Router::new()
        .route(
            routes::SET_PASSWORD,
            get(second_factor::password_form).post(second_factor::set_password),
        )
        .merge(attendance::static_routes())
}

/// A field left empty in a filter form means "any".
fn filled(text: Option<&str>) -> Option<&str> {
    text.map(str::trim).filter(|t| !t.is_empty())
}

fn number(text: &str, what: &'static str) -> Result<i64, Error> {
    text.trim()
        .parse::<i64>()
        .map_err(|_| Error::form(FormProblem::Number { what }))
}

/// The schools ticked in a form's `ecoles` checkboxes.
fn school_ids(form: &FormData) -> Result<Vec<SchoolId>, Error> {
    form.all("ecoles")
        .map(|s| number(s, "École").map(SchoolId))
        .collect()
}

fn notice(code: Option<&str>) -> Option<&'static str> {
    code.and_then(fr::staff_notice)
}
