//! The JSON API, one module per version; the families' absences have their own module.

pub mod absences;
pub mod v1;

use axum::Router;

use super::AppState;

pub fn routes() -> Router<AppState> {
    v1::routes().merge(absences::routes())
}
