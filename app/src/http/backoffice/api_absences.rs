//! The staff API of absences under `/api/v1/staff/absences`: the managers' queue, their
//! decision, and the certificate (each read audited).

use axum::extract::State;
use axum::http::Method;
use axum::response::Response;
use serde::Deserialize;
use utoipa::ToSchema;

use cantine_domain::ids::AbsenceId;

use super::{Access, MANAGER, Staff, Table};
use crate::absences;
use crate::error::Result;
use crate::http::AppState;
use crate::http::api::absences::{AbsenceOut, FileBytes};
use crate::http::certificates::{certificate_files, certificate_response};
use crate::http::error::{Json, Path, Problem};

pub(super) fn declare(table: Table) -> Table {
    let manager = Access::Roles(MANAGER);
    table
        .add(
            Method::GET,
            "/api/v1/staff/absences",
            manager,
            list_pending_absences,
        )
        .add(
            Method::POST,
            "/api/v1/staff/absences/{absence_id}/decision",
            manager,
            decide_absence,
        )
        .add(
            Method::GET,
            "/api/v1/staff/absences/{absence_id}/certificate",
            manager,
            get_absence_certificate,
        )
}

/// The declarations waiting for a decision, oldest first (200 at most).
#[utoipa::path(get, path = "/api/v1/staff/absences", operation_id = "listPendingAbsences",
    tag = "staff", security(("session" = [])),
    responses((status = 200, body = [AbsenceOut])))]
pub async fn list_pending_absences(
    State(state): State<AppState>,
    _staff: Staff,
) -> Result<Json<Vec<AbsenceOut>>> {
    let pending = absences::pending(&state.pool).await?;
    Ok(Json(pending.into_iter().map(Into::into).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AbsenceDecisionKind {
    Accept,
    Refuse,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecideAbsence {
    decision: AbsenceDecisionKind,
    /// Required to refuse (500 characters at most): the family reads it. Kept with an
    /// acceptance only in the audit log.
    #[serde(default)]
    #[schema(max_length = 500)]
    reason: Option<String>,
}

/// Accepts or refuses (with a reason) a pending absence; the family is mailed either way. The
/// decision is audited and final.
#[utoipa::path(post, path = "/api/v1/staff/absences/{absence_id}/decision",
    operation_id = "decideAbsence", tag = "staff",
    params(("absence_id" = i64, Path, minimum = 1)), request_body = DecideAbsence,
    security(("session" = [], "csrf" = [])),
    responses((status = 200, body = AbsenceOut, description = "Decided; the family is mailed"),
        (status = 409, body = Problem, description = "`invalid_transition`: already decided"),
        (status = 422, body = Problem, description = "`rejection_reason_required`: a refusal without a reason; `validation`")))]
pub async fn decide_absence(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Json(body): Json<DecideAbsence>,
) -> Result<Json<AbsenceOut>> {
    let accept = matches!(body.decision, AbsenceDecisionKind::Accept);
    let decided = absences::decide_and_tell(
        &state.pool,
        &state.mailer,
        state.links.as_ref(),
        &staff.actor,
        (AbsenceId(id), state.clock.now()),
        accept,
        body.reason.as_deref(),
    )
    .await?;
    Ok(Json(decided.into()))
}

/// Downloads an absence's certificate; each read is recorded in the audit log.
#[utoipa::path(get, path = "/api/v1/staff/absences/{absence_id}/certificate",
    operation_id = "getAbsenceCertificate", tag = "staff",
    params(("absence_id" = i64, Path, minimum = 1)), security(("session" = [])),
    responses((status = 200, description = "The file, as an attachment",
        content((inline(FileBytes) = "application/pdf"), (inline(FileBytes) = "image/jpeg"), (inline(FileBytes) = "image/png")))))]
pub async fn get_absence_certificate(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> Result<Response> {
    let file = absences::certificate_for_staff(
        &state.pool,
        &certificate_files(&state),
        &staff.actor,
        AbsenceId(id),
    )
    .await?;
    Ok(certificate_response(file))
}
