//! The JSON API, one module per version; the families' absences and the menus (public data)
//! have their own modules.

pub mod absences;
pub mod billing;
pub mod mandates;
pub mod menus;
pub mod payments;
pub mod privacy;
pub mod v1;

use axum::Router;

use super::AppState;

pub fn routes() -> Router<AppState> {
    v1::routes()
        .merge(absences::routes())
        .merge(billing::routes())
        .merge(menus::routes())
        .merge(payments::routes())
        .merge(privacy::routes())
        .merge(mandates::routes())
}
