//! What the families' and the staff's certificate routes share, pages and API alike: the
//! folder, the body limit, and the answer that sends a file.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::absences::{CertificateFile, CertificateFiles};
use crate::http::AppState;

/// The body limit of the routes that take a certificate. Up to it, the body is read to its
/// end (only the first 5 MiB of a file are kept; the rest is dropped as it comes), so that
/// the phone photo of 12 MB a family picks gets our 413 with its French detail: a server that
/// answers before reading the whole body makes the browser show a reset connection instead.
/// Past it, the connection may be closed.
pub const CERTIFICATE_BODY_LIMIT: usize = 32 * 1024 * 1024;

/// The certificates' folder of this service.
pub fn certificate_files(state: &AppState) -> CertificateFiles {
    CertificateFiles::in_data_dir(&state.config.data_dir)
}

/// The certificate as a download: its stored type, never sniffed by the browser, never shown
/// inline, never cached.
pub fn certificate_response(file: CertificateFile) -> Response {
    let disposition = format!(
        "attachment; filename=\"certificat-absence-{}.{}\"",
        file.absence.get(),
        file.kind.extension()
    );
    let mut response = (StatusCode::OK, file.bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(file.kind.media_type()),
    );
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
