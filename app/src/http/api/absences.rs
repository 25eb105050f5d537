//! The families' absences in the JSON API: declare, list, attach a certificate, read it back.
//! The certificate is its own operation (`uploadCertificate`, the file as the raw body), so
//! that `declareAbsence` stays plain JSON; its type is judged from the bytes, whatever the
//! request's `Content-Type` says.

use axum::Router;
use axum::extract::{FromRequest, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post, put};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use cantine_domain::absence::{
    CertificateProblem, MAX_CERTIFICATE_BYTES, MAX_COMMENT_CHARS, Reason, Status,
};
use cantine_domain::ids::{AbsenceId, ChildId};

use crate::absences::{self, AbsenceRow, Declaration};
use crate::error::{Error, Invalid, Malformed, Result};
use crate::http::AppState;
use crate::http::auth::Session;
use crate::http::certificates::{CERTIFICATE_BODY_LIMIT, certificate_files, certificate_response};
use crate::http::error::{Json, Path, Problem};

use super::v1::{children_schema, text_schema};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/absences", get(list_absences).post(declare_absence))
        .route("/api/v1/absences/preview", post(preview_absence))
        .route(
            "/api/v1/absences/{absence_id}/certificate",
            put(upload_certificate).get(get_certificate),
        )
}

/// Why the children are absent.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReasonIn {
    Illness,
    Other,
}

impl From<ReasonIn> for Reason {
    fn from(r: ReasonIn) -> Self {
        match r {
            ReasonIn::Illness => Reason::Illness,
            ReasonIn::Other => Reason::Other,
        }
    }
}

fn comment_schema() -> utoipa::openapi::schema::Schema {
    text_schema(
        MAX_COMMENT_CHARS,
        "Trimmed; 1000 characters at most. For the manager: what the family wants to add.",
    )
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclareAbsence {
    /// Children of the household (1 to 10; repeated ids count once); another household's
    /// child answers 404.
    #[schema(schema_with = children_schema)]
    children: Vec<i64>,
    /// First day absent: in a school year, at most 30 days ago; otherwise 422.
    first_day: NaiveDate,
    /// Last day absent, included: on or after `first_day`, at most 92 days later, in the same
    /// school year; otherwise 422.
    last_day: NaiveDate,
    reason: ReasonIn,
    #[serde(default)]
    #[schema(schema_with = comment_schema)]
    comment: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AbsenceDayOut {
    date: NaiveDate,
    /// `before_deadline`, `same_morning_illness` (an illness declared that day before noon,
    /// Paris time) or `late`: the fact billing reads.
    notice: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AbsentChildOut {
    child_id: i64,
    first_name: String,
    last_name: String,
    school_name: String,
    /// The child's service days in the declaration.
    days: Vec<AbsenceDayOut>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AbsenceOut {
    id: i64,
    household_id: i64,
    first_day: NaiveDate,
    last_day: NaiveDate,
    /// `illness` or `other`.
    reason: String,
    comment: String,
    declared_at: DateTime<Utc>,
    /// The guardian who declared it.
    declared_by: String,
    /// `pending`, `accepted` or `refused`.
    status: String,
    /// The manager's reason for a refusal.
    decision_reason: Option<String>,
    decided_at: Option<DateTime<Utc>>,
    /// `application/pdf`, `image/jpeg` or `image/png`; null without a certificate.
    certificate_media_type: Option<String>,
    children: Vec<AbsentChildOut>,
}

impl From<AbsenceRow> for AbsenceOut {
    fn from(a: AbsenceRow) -> Self {
        let decision_reason = match &a.status {
            Status::Refused { reason } => Some(reason.clone()),
            _ => None,
        };
        Self {
            id: a.id.get(),
            household_id: a.household.get(),
            first_day: a.first_day,
            last_day: a.last_day,
            reason: a.reason.code().to_owned(),
            comment: a.comment,
            declared_at: a.declared_at,
            declared_by: a.declared_by,
            status: a.status.code().to_owned(),
            decision_reason,
            decided_at: a.decided_at,
            certificate_media_type: a.certificate.map(|c| c.media_type().to_owned()),
            children: a
                .children
                .into_iter()
                .map(|c| AbsentChildOut {
                    child_id: c.id.get(),
                    first_name: c.first_name,
                    last_name: c.last_name,
                    school_name: c.school_name,
                    days: c
                        .days
                        .into_iter()
                        .map(|(date, notice)| AbsenceDayOut {
                            date,
                            notice: notice.code().to_owned(),
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

/// Declares an absence of one or several children of the household over a range of days. A
/// late declaration is accepted (an illness declared the same morning too): each day records
/// its notice, and whether it is charged is billing's decision. Attach a certificate with
/// `uploadCertificate`.
#[utoipa::path(post, path = "/api/v1/absences", operation_id = "declareAbsence", tag = "absences",
    request_body = DeclareAbsence, security(("session" = [], "csrf" = [])),
    responses((status = 201, body = AbsenceOut),
        (status = 404, body = Problem, description = "`not_found`: a child not of the household"),
        (status = 422, body = Problem, description = "`not_a_service_day`: no service day of a child's school in the range, or a range outside one school year; `validation`: a reversed or too long range, a start more than 30 days ago, a comment too long")))]
pub async fn declare_absence(
    State(state): State<AppState>,
    session: Session,
    Json(body): Json<DeclareAbsence>,
) -> Result<(StatusCode, Json<AbsenceOut>)> {
    let household = session.household()?;
    let declaration = Declaration {
        children: body.children.into_iter().map(ChildId).collect(),
        first_day: body.first_day,
        last_day: body.last_day,
        reason: body.reason.into(),
        comment: body.comment,
    };
    let id = absences::declare(
        &state.pool,
        &certificate_files(&state),
        &state.rules(),
        (household, session.account.account_id),
        &declaration,
        None,
    )
    .await?;
    let absence = absences::one_for_household(&state.pool, household, id).await?;
    Ok((StatusCode::CREATED, Json(absence.into())))
}

impl DeclareAbsence {
    fn declaration(self) -> Declaration {
        Declaration {
            children: self.children.into_iter().map(ChildId).collect(),
            first_day: self.first_day,
            last_day: self.last_day,
            reason: self.reason.into(),
            comment: self.comment,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewDayOut {
    child_id: i64,
    date: NaiveDate,
    /// As `declareAbsence` would record it: `before_deadline`, `same_morning_illness` or `late`.
    notice: String,
    booked: bool,
    /// The invoice line the day would give if the absence is accepted: `illness_carence`,
    /// `illness_free`, `excused_absence`, `late_absence`; null for a day not booked.
    line_kind: Option<String>,
    /// True when the day stays charged although the child is absent.
    charged: bool,
    /// What stays charged, in cents (0 when nothing does); null when a charged day has no
    /// tariff to price it yet.
    amount_cents: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AbsencePreviewOut {
    /// Every service day the declaration covers, per child.
    days: Vec<PreviewDayOut>,
    /// The days that stay charged, as `days` lists them.
    charged_days: Vec<PreviewDayOut>,
    /// What stays charged in all, in cents.
    total_cents: i64,
    /// True when something stays charged at a price (`total_cents` > 0): show it, and ask
    /// before calling `declareAbsence`.
    confirmation_needed: bool,
}

impl From<absences::Preview> for AbsencePreviewOut {
    fn from(p: absences::Preview) -> Self {
        let out = |d: &absences::PreviewDay| PreviewDayOut {
            child_id: d.child.get(),
            date: d.date,
            notice: d.notice.code().to_owned(),
            booked: d.booked,
            line_kind: d.kind.map(|k| k.code().to_owned()),
            charged: d.charged(),
            amount_cents: d.amount.map(|a| a.get()),
        };
        let charged_days: Vec<PreviewDayOut> = p.charged_days().map(out).collect();
        Self {
            confirmation_needed: p.needs_confirmation(),
            days: p.days.iter().map(out).collect(),
            charged_days,
            total_cents: p.total.get(),
        }
    }
}

/// What a declaration would leave charged, before it is made: the same body as
/// `declareAbsence`, judged now and as if the absence were accepted, nothing recorded. A late
/// absence for another reason stays charged, and so do an illness's first days (the tariff's
/// carence); a cancellation before the deadline leaves nothing charged.
#[utoipa::path(post, path = "/api/v1/absences/preview", operation_id = "previewAbsence", tag = "absences",
    request_body = DeclareAbsence, security(("session" = [], "csrf" = [])),
    responses((status = 200, body = AbsencePreviewOut),
        (status = 404, body = Problem, description = "`not_found`: a child not of the household"),
        (status = 409, body = Problem, description = "`other_households_day`: under a shared custody, every day of the range is the other household's"),
        (status = 422, body = Problem, description = "`not_a_service_day`: no service day of a child's school in the range, or a range outside one school year; `validation`: a reversed or too long range, a start more than 30 days ago, a comment too long")))]
pub async fn preview_absence(
    State(state): State<AppState>,
    session: Session,
    Json(body): Json<DeclareAbsence>,
) -> Result<Json<AbsencePreviewOut>> {
    let household = session.household()?;
    let preview =
        absences::preview(&state.pool, &state.rules(), household, &body.declaration()).await?;
    Ok(Json(preview.into()))
}

/// The household's absences, newest first, with the manager's decision.
#[utoipa::path(get, path = "/api/v1/absences", operation_id = "listAbsences", tag = "absences",
    security(("session" = [])), responses((status = 200, body = [AbsenceOut])))]
pub async fn list_absences(
    State(state): State<AppState>,
    session: Session,
) -> Result<Json<Vec<AbsenceOut>>> {
    let household = session.household()?;
    let list = absences::for_household(&state.pool, household).await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// A file's bytes, as the OpenAPI file describes a certificate going up or down.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)] // only its schema is used
pub struct FileBytes(Vec<u8>);

/// A certificate sent as the raw body: kept up to 5 MiB, read to its end (within the route's
/// limit) whatever its size, then judged; see [`CERTIFICATE_BODY_LIMIT`].
pub struct Upload(pub Vec<u8>);

impl<S: Send + Sync> FromRequest<S> for Upload {
    type Rejection = Error;

    async fn from_request(request: Request, _: &S) -> Result<Self, Error> {
        use futures_util::StreamExt;
        let too_large = || Error::Invalid(Invalid::Certificate(CertificateProblem::TooLarge));
        // Counted here rather than by `DefaultBodyLimit`: this reader is the route's limit.
        let mut stream = request.into_body().into_data_stream();
        let (mut bytes, mut read, mut over) = (Vec::new(), 0usize, false);
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|_| {
                Error::Malformed(Malformed::Other("corps de requête illisible".into()))
            })?;
            read += chunk.len();
            if read > CERTIFICATE_BODY_LIMIT {
                return Err(too_large());
            }
            over = over || read > MAX_CERTIFICATE_BYTES;
            if over {
                bytes = Vec::new();
            } else {
                bytes.extend_from_slice(&chunk);
            }
        }
        if over {
            return Err(too_large());
        }
        Ok(Upload(bytes))
    }
}

/// Attaches a certificate to a pending absence of the household, the file as the raw body
/// (any `Content-Type`: the type is read from the content). A new one replaces the previous.
#[utoipa::path(put, path = "/api/v1/absences/{absence_id}/certificate",
    operation_id = "uploadCertificate", tag = "absences",
    params(("absence_id" = i64, Path, minimum = 1)),
    request_body(content = inline(FileBytes), content_type = "application/octet-stream",
        description = "The file: PDF, JPEG or PNG by its content, 5 MiB (5,242,880 bytes) at most."),
    security(("session" = [], "csrf" = [])),
    responses((status = 204, description = "Stored"),
        (status = 409, body = Problem, description = "`invalid_transition`: the absence is already decided"),
        (status = 413, body = Problem, description = "`payload_too_large`: over 5 MiB"),
        (status = 422, body = Problem, description = "`unsupported_certificate`: neither PDF, JPEG nor PNG by its content; `validation`: an empty file")))]
pub async fn upload_certificate(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<i64>,
    Upload(bytes): Upload,
) -> Result<StatusCode> {
    let household = session.household()?;
    absences::attach_certificate(
        &state.pool,
        &certificate_files(&state),
        (household, session.account.account_id),
        AbsenceId(id),
        bytes,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Downloads the certificate of one of the household's absences (404 for another
/// household's, or for an absence without one).
#[utoipa::path(get, path = "/api/v1/absences/{absence_id}/certificate",
    operation_id = "getCertificate", tag = "absences",
    params(("absence_id" = i64, Path, minimum = 1)), security(("session" = [])),
    responses((status = 200, description = "The file, as an attachment",
        content((inline(FileBytes) = "application/pdf"), (inline(FileBytes) = "image/jpeg"), (inline(FileBytes) = "image/png")))))]
pub async fn get_certificate(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<i64>,
) -> Result<Response> {
    let household = session.household()?;
    let file = absences::certificate_for_family(
        &state.pool,
        &certificate_files(&state),
        household,
        AbsenceId(id),
    )
    .await?;
    Ok(certificate_response(file))
}
