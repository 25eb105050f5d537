//! The families' SEPA direct-debit mandates in the JSON API: give one, list them, revoke one.
//! The IBAN is checked here (checksum and country format) and never answered whole.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::billing::sepa::{self, Mandate, NewMandate, Revoker};
use crate::error::Result;
use crate::http::AppState;
use crate::http::auth::Session;
use crate::http::error::{Json, Path, Problem};

pub const MANDATES: &str = "/api/v1/mandates";
pub const MANDATE_REVOKE: &str = "/api/v1/mandates/{mandate_id}/revoke";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(MANDATES, post(create_mandate).get(list_mandates))
        .route(MANDATE_REVOKE, post(revoke_mandate))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MandateOut {
    mandate_id: i64,
    /// The unique mandate reference (RUM) Cantine gave it.
    rum: String,
    holder: String,
    /// Masked: `FR76 **** … 1234`.
    iban: String,
    bic: String,
    signed_on: NaiveDate,
    created_at: DateTime<Utc>,
    /// `active` or `revoked`.
    #[schema(pattern = "^(active|revoked)$")]
    status: String,
    revoked_at: Option<DateTime<Utc>>,
    /// `family` or `finance`, once revoked.
    revoked_by: Option<String>,
}

impl From<Mandate> for MandateOut {
    fn from(m: Mandate) -> Self {
        Self {
            mandate_id: m.id,
            status: if m.active() { "active" } else { "revoked" }.to_owned(),
            rum: m.rum,
            holder: m.holder,
            iban: m.iban_masked,
            bic: m.bic,
            signed_on: m.signed_on,
            created_at: m.created_at,
            revoked_at: m.revoked_at,
            revoked_by: m.revoked_by.map(|r| {
                match r {
                    sepa::RevokedBy::Family => "family",
                    sepa::RevokedBy::Finance => "finance",
                }
                .to_owned()
            }),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MandateBody {
    /// The account holder, as on the bank's RIB (1 to 70 characters).
    #[schema(min_length = 1, max_length = 70)]
    holder: String,
    /// Spaces allowed; checked for its checksum and its country's format.
    #[schema(
        min_length = 15,
        max_length = 42,
        example = "FR76 3000 6000 0112 3456 7890 189"
    )]
    iban: String,
    /// 8 or 11 characters.
    #[schema(min_length = 8, max_length = 11, example = "AGRIFRPP")]
    bic: String,
    /// The day the mandate was signed (today or before).
    signed_on: NaiveDate,
}

/// Gives the household's SEPA direct-debit mandate: from the next invoicing run, what is left
/// on each invoice is collected from this account, announced by mail first. One active mandate
/// per household.
#[utoipa::path(post, path = "/api/v1/mandates", operation_id = "createMandate",
    tag = "payments", request_body = MandateBody, security(("session" = [], "csrf" = [])),
    responses((status = 201, body = MandateOut),
        (status = 409, body = Problem, description = "`mandate_active`: the household already has an active mandate; revoke it first"),
        (status = 422, body = Problem, description = "`invalid_iban`: the IBAN fails its checksum or its country's format; `validation`: a bad BIC, a blank holder, a signature date in the future")))]
pub async fn create_mandate(
    State(state): State<AppState>,
    session: Session,
    Json(body): Json<MandateBody>,
) -> Result<(StatusCode, Json<MandateOut>)> {
    let household = session.household()?;
    let created = sepa::create_mandate(
        &state.pool,
        &state.config.sepa,
        household,
        session.account.account_id,
        NewMandate {
            holder: body.holder,
            iban: body.iban,
            bic: body.bic,
            signed_on: body.signed_on,
        },
        state.rules().today(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// The household's mandates, newest first (the IBAN masked).
#[utoipa::path(get, path = "/api/v1/mandates", operation_id = "listMandates", tag = "payments",
    security(("session" = [])), responses((status = 200, body = [MandateOut])))]
pub async fn list_mandates(
    State(state): State<AppState>,
    session: Session,
) -> Result<Json<Vec<MandateOut>>> {
    let household = session.household()?;
    let list = sepa::mandates(&state.pool, household).await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// Revokes one of the household's mandates: no later export collects under it (a collection
/// already exported stands).
#[utoipa::path(post, path = "/api/v1/mandates/{mandate_id}/revoke", operation_id = "revokeMandate",
    tag = "payments", params(("mandate_id" = i64, Path, minimum = 1)),
    security(("session" = [], "csrf" = [])),
    responses((status = 200, body = MandateOut),
        (status = 404, body = Problem, description = "`not_found`: no such mandate in the household"),
        (status = 409, body = Problem, description = "`invalid_transition`: already revoked")))]
pub async fn revoke_mandate(
    State(state): State<AppState>,
    session: Session,
    Path(mandate_id): Path<i64>,
) -> Result<Json<MandateOut>> {
    let household = session.household()?;
    let revoked = sepa::revoke_mandate(
        &state.pool,
        Revoker::Family(household, session.account.account_id),
        mandate_id,
    )
    .await?;
    Ok(Json(revoked.into()))
}
