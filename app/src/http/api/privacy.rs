//! `exportHouseholdData`: everything stored about the signed-in family's household, as JSON
//! (RGPD art. 15 and 20). The portal's « Mes données » page shows the same export.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::error::Result;
use crate::http::auth::Session;
use crate::http::error::Json;
use crate::http::{AppState, routes};
use crate::privacy;

pub fn routes() -> Router<AppState> {
    Router::new().route(routes::MY_DATA_API, get(export_household_data))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HouseholdExport {
    household_id: i64,
    generated_at: DateTime<Utc>,
    /// One array of rows per table, keyed by the table's name (`account`, `child`,
    /// `reservation_event`, `invoice`, `audit_entry`, …); every row as stored, secrets (password
    /// and token digests) left out.
    #[schema(value_type = Object)]
    tables: Value,
}

/// The household's data, every table that holds some.
#[utoipa::path(get, path = "/api/v1/household/export", operation_id = "exportHouseholdData",
    tag = "family", security(("session" = [])),
    responses((status = 200, body = HouseholdExport)))]
pub async fn export_household_data(
    State(state): State<AppState>,
    session: Session,
) -> Result<Json<HouseholdExport>> {
    let household = session.household()?;
    let export = privacy::export(&state.pool, household, state.clock.now()).await?;
    Ok(Json(HouseholdExport {
        household_id: household.get(),
        generated_at: export.generated_at,
        tables: serde_json::to_value(&export.tables)
            .map_err(|e| crate::error::Error::Internal(e.into()))?,
    }))
}
