//! The OpenAPI 3.1 description, generated from the handlers' annotations so it cannot drift.

use axum::Router;
use axum::routing::get;
use utoipa::OpenApi;

use super::{AppState, error::Json, health};

#[derive(OpenApi)]
#[openapi(
    info(title = "Cantine", description = "Inscriptions et réservations de cantine scolaire"),
    paths(health::healthz, health::readyz, health::metrics),
    components(schemas(super::error::Problem)),
    tags((name = "operations", description = "Health and metrics"))
)]
pub struct ApiDoc;

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/api/openapi.json",
        get(|| async { Json(ApiDoc::openapi()) }),
    )
}
