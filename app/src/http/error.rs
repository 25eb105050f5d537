//! The one error type of the HTTP layer, answered as `application/problem+json` (RFC 9457) with a
//! stable `code` that clients can rely on. Internal errors are logged in full and answered with a
//! bare message: no SQL, no stack, no cause text reaches a browser.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Also what another household's child looks like: we do not reveal that it exists.
    #[error("not found")]
    NotFound,
    #[error("authentication required")]
    Unauthorized,
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// A request that is well-formed but breaks a rule; `code` names the rule.
    #[error("{code}: {detail}")]
    Rule {
        status: StatusCode,
        code: &'static str,
        detail: String,
    },
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl Error {
    pub fn validation(detail: impl Into<String>) -> Self {
        Self::rule(StatusCode::UNPROCESSABLE_ENTITY, "validation", detail)
    }

    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::rule(StatusCode::BAD_REQUEST, code, detail)
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::rule(StatusCode::CONFLICT, code, detail)
    }

    pub fn rule(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self::Rule {
            status,
            code,
            detail: detail.into(),
        }
    }

    fn parts(&self) -> (StatusCode, &'static str, String) {
        match self {
            Self::NotFound => (
                StatusCode::NOT_FOUND,
                "not_found",
                "Ressource introuvable.".into(),
            ),
            Self::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Connexion requise.".into(),
            ),
            Self::Forbidden(code) => (StatusCode::FORBIDDEN, code, "Action non autorisée.".into()),
            Self::Rule {
                status,
                code,
                detail,
            } => (*status, code, detail.clone()),
            Self::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Erreur interne. Réessayez plus tard.".into(),
            ),
        }
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Self::Internal(e.into())
    }
}

/// The body of every error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the problem type.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable machine-readable code, e.g. `deadline_passed`, `validation`.
    pub code: String,
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (status, code, detail) = self.parts();
        if let Self::Internal(e) = &self {
            tracing::error!(error = ?e, "internal error");
        }
        problem_response(status, code, detail)
    }
}

pub fn problem_response(status: StatusCode, code: &str, detail: String) -> Response {
    let body = Problem {
        kind: format!("urn:cantine:problem:{code}"),
        title: status.canonical_reason().unwrap_or("Error").to_owned(),
        status: status.as_u16(),
        detail,
        code: code.to_owned(),
    };
    let mut response = (status, axum::Json(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
}

impl From<JsonRejection> for Error {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::JsonDataError(e) => Self::validation(e.body_text()),
            JsonRejection::JsonSyntaxError(_) => Self::bad_request(
                "malformed_json",
                "Le corps de la requête n'est pas du JSON valide.",
            ),
            JsonRejection::MissingJsonContentType(_) => Self::rule(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Content-Type: application/json attendu.",
            ),
            JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Self::rule(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    "Requête trop volumineuse.",
                )
            }
            other => Self::bad_request("bad_request", other.body_text()),
        }
    }
}

impl From<PathRejection> for Error {
    fn from(_: PathRejection) -> Self {
        // A malformed id in a path names no resource: same answer as an unknown one.
        Self::NotFound
    }
}

impl From<QueryRejection> for Error {
    fn from(rejection: QueryRejection) -> Self {
        Self::validation(rejection.body_text())
    }
}

/// `Json` whose rejections are problems in our format.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(Error))]
pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// `Query` whose rejections are problems in our format.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(Error))]
pub struct Query<T>(pub T);

/// `Path` whose rejections are problems in our format.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(Error))]
pub struct Path<T>(pub T);

pub type Result<T, E = Error> = std::result::Result<T, E>;
