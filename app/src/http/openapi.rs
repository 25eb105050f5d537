//! The OpenAPI 3.1 description, generated from the handlers' annotations so it cannot drift.

use axum::Router;
use axum::routing::get;
use utoipa::OpenApi;

use super::api::v1 as api;
use super::ops as health;
use super::{AppState, error::Json};

#[derive(OpenApi)]
#[openapi(
    info(title = "Cantine", description = "Inscriptions et réservations de cantine scolaire"),
    paths(
        health::healthz, health::readyz, health::metrics,
        api::create_account, api::confirm_email, api::login, api::logout, api::invite_guardian,
        api::list_schools, api::list_children, api::get_child, api::create_child,
        api::request_enrollment, api::list_reservations, api::book_meal, api::cancel_meal,
        api::set_pattern,
    ),
    components(schemas(super::error::Problem)),
    tags(
        (name = "operations", description = "Health and metrics"),
        (name = "accounts", description = "Sign-up, e-mail confirmation, sessions"),
        (name = "family", description = "Schools, children, enrollments"),
        (name = "reservations", description = "Meal bookings and their deadlines"),
    )
)]
pub struct ApiDoc;

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/api/openapi.json",
        get(|| async { Json(ApiDoc::openapi()) }),
    )
}
