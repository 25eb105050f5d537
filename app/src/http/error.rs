//! Errors answered as `application/problem+json` (RFC 9457) with the error's stable `code`.
//! Internal errors are logged in full and answered with a bare message.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use cantine_domain::absence::CertificateProblem;

use crate::error::{Code, Conflict, Invalid, Malformed, PaymentConflict};
pub use crate::error::{Error, Result};

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
    #[schema(schema_with = code_schema)]
    pub code: Code,
}

/// The `code` property lists every [`Code`], so generated clients know them all.
fn code_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(Code::ALL.iter().map(|c| c.as_str())))
        .description(Some(
            "Stable machine-readable code, e.g. `deadline_passed`, `validation`.",
        ))
        .build()
}

pub fn status(error: &Error) -> StatusCode {
    match error {
        Error::NotFound => StatusCode::NOT_FOUND,
        Error::Unauthorized => StatusCode::UNAUTHORIZED,
        Error::Forbidden(_) => StatusCode::FORBIDDEN,
        // An oversized certificate is what 413 says, with our French detail.
        Error::Invalid(Invalid::Certificate(CertificateProblem::TooLarge)) => {
            StatusCode::PAYLOAD_TOO_LARGE
        }
        Error::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        // PayFiP is down or faulty: the family may try again later.
        Error::Conflict(Conflict::Payment(PaymentConflict::Unavailable)) => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        Error::Conflict { .. } => StatusCode::CONFLICT,
        Error::Malformed { .. } => StatusCode::BAD_REQUEST,
        Error::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        Error::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        Error::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
        Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        if let Error::Internal(e) = &self {
            tracing::error!(error = ?e, "internal error");
        }
        problem(status(&self), self.code(), super::fr::message(&self))
    }
}

/// A problem answer: `application/problem+json` with a `urn:cantine:problem:` type.
fn problem(status: StatusCode, code: Code, detail: String) -> Response {
    let body = Problem {
        kind: format!("urn:cantine:problem:{code}"),
        title: status.canonical_reason().unwrap_or("Error").to_owned(),
        status: status.as_u16(),
        detail,
        code,
    };
    let mut response = (status, axum::Json(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    // For `count_requests`, which counts refusals by code.
    response.extensions_mut().insert(code);
    response
}

/// Turns the bodiless errors of the layers below (the timeout's 408, the router's 405) into
/// problems, so that every error answer has the same shape. Headers such as `Allow` are kept.
pub async fn bare_errors_as_problems(response: Response) -> Response {
    let (code, detail) = match response.status() {
        StatusCode::REQUEST_TIMEOUT => (Code::RequestTimeout, "La requête a pris trop de temps."),
        StatusCode::METHOD_NOT_ALLOWED => (Code::MethodNotAllowed, "Méthode non autorisée."),
        _ => return response,
    };
    if response.headers().contains_key(header::CONTENT_TYPE) {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    let mut answer = problem(parts.status, code, detail.into());
    answer.headers_mut().extend(parts.headers);
    answer
}

// Extractor rejections become our errors, so that every answer has the same shape.
impl From<JsonRejection> for Error {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::JsonDataError(e) => Error::Invalid(Invalid::Request(e.body_text())),
            JsonRejection::JsonSyntaxError(_) => Error::Malformed(Malformed::Json),
            JsonRejection::MissingJsonContentType(_) => Error::UnsupportedMediaType,
            JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Error::TooLarge
            }
            other => Error::Malformed(Malformed::Other(other.body_text())),
        }
    }
}

impl From<PathRejection> for Error {
    fn from(_: PathRejection) -> Self {
        // A malformed id or date in a path names no resource: same answer as an unknown one.
        Error::NotFound
    }
}

impl From<QueryRejection> for Error {
    fn from(rejection: QueryRejection) -> Self {
        Error::Invalid(Invalid::Request(rejection.body_text()))
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
