//! The JSON API, one module per version; the menus, public data, in their own.

pub mod menus;
pub mod v1;

use axum::Router;

use super::AppState;

pub fn routes() -> Router<AppState> {
    v1::routes().merge(menus::routes())
}
