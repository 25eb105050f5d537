//! The family portal's server-rendered pages: French, mobile first, usable without JavaScript.
//!
//! Handlers parse forms by hand (every field is text until the service judges it), call the
//! same services as the JSON API, and answer HTML rendered by askama with escaping on. Forms
//! post `application/x-www-form-urlencoded` with the session's CSRF token in a hidden `csrf`
//! field, redirect after success (Post/Redirect/Get), and re-render with the service's French
//! message and a 4xx status on failure. Pages that need a session redirect to `/connexion`.

pub(super) mod absences;
mod account;
mod billing;
mod calendar;
mod family;
pub(super) mod menus;
mod payments;
mod privacy;
pub(super) mod widgets;

use askama::Template;
use axum::Router;
use axum::extract::rejection::{FormRejection, PathRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use super::auth::{MaybeSession, Session};
use super::certificates::CERTIFICATE_BODY_LIMIT;
use super::fr;
use super::{AppState, routes};
use crate::error::{Error, FormProblem, Malformed};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(routes::HOME, get(family::home))
        .route(routes::STYLESHEET, get(stylesheet))
        .route(
            routes::SIGN_UP,
            get(account::signup_form).post(account::signup),
        )
        .route(
            routes::CONFIRM,
            get(account::confirm_form).post(account::confirm),
        )
        .route(
            routes::LOG_IN,
            get(account::login_form).post(account::login),
        )
        .route(routes::LOG_OUT, post(account::logout))
        .route(routes::HOUSEHOLD, get(family::household))
        .route(routes::PRIVACY, get(privacy::privacy_page))
        .route(routes::MY_DATA, get(privacy::my_data))
        .route(routes::MY_DATA_JSON, get(privacy::my_data_json))
        .route(
            routes::ACCOUNT_CLOSURE,
            get(privacy::closure_form).post(privacy::close),
        )
        .route(routes::INVITE, post(family::invite))
        .route(
            routes::NEW_CHILD,
            get(family::child_form).post(family::create_child),
        )
        .route(
            routes::ENROLLMENT,
            get(family::enrollment_form).post(family::request_enrollment),
        )
        .route(routes::CALENDAR, get(calendar::month))
        .route(routes::DAY, post(calendar::set_day))
        .route(
            routes::PATTERN,
            get(calendar::pattern_form).post(calendar::set_pattern),
        )
        .route(routes::PAY_INVOICE, post(payments::pay))
        .route(
            routes::PAYMENT_RETURN,
            get(payments::returned).post(payments::returned),
        )
        .route(
            routes::ABSENCES,
            get(absences::absences_form)
                .post(absences::declare)
                .layer(DefaultBodyLimit::max(CERTIFICATE_BODY_LIMIT)),
        )
        .route(routes::INVOICES, get(billing::invoices))
        .route(routes::INVOICE, get(billing::invoice))
        .route(routes::INVOICE_PDF, get(billing::invoice_pdf))
        .route(routes::INVOICE_CONTEST, post(billing::contest))
        .route(routes::BILLING_ACCOUNT, get(billing::account))
        .route(routes::YEARLY_STATEMENT, get(billing::yearly_pdf))
        .route(
            routes::ABSENCE_CERTIFICATE,
            get(absences::certificate)
                .post(absences::attach_certificate)
                .layer(DefaultBodyLimit::max(CERTIFICATE_BODY_LIMIT)),
        )
}

const STYLESHEET: &str = include_str!("../../../static/app.css");

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
        .into_response()
}

/// What the shared layout (`base.html`) shows around every page.
pub(super) struct Layout {
    pub title: String,
    /// The signed-in person's first name, for the header.
    pub user: Option<String>,
    /// For the logout form in the header.
    pub csrf: String,
    /// Known to be signed out: the header offers to log in. Error pages do not know.
    pub signed_out: bool,
    /// A town-hall staff member: the header links to the back office, not to a household.
    pub staff: bool,
}

impl Layout {
    pub fn new(title: impl Into<String>, session: Option<&Session>) -> Self {
        Self {
            title: title.into(),
            user: session.map(|s| s.account.first_name.clone()),
            csrf: session
                .map(|s| s.account.csrf_token.clone())
                .unwrap_or_default(),
            signed_out: session.is_none(),
            staff: session.is_some_and(|s| s.account.roles.is_staff()),
        }
    }

    /// For error pages, answered without looking at the session.
    pub fn unknown_visitor(title: impl Into<String>) -> Self {
        Self {
            signed_out: false,
            ..Self::new(title, None)
        }
    }

    /// A form that comes back refused says so in the title, the first thing screen readers
    /// announce.
    pub fn mark_failed(&mut self) {
        self.title = format!("Erreur – {}", self.title);
    }
}

/// Renders a page with a status. Personal pages are never cached by the browser or a proxy.
pub(super) fn page(status: StatusCode, template: &impl Template) -> Result<Response, PageError> {
    let html = template
        .render()
        .map_err(|e| Error::Internal(anyhow::anyhow!("template: {e}")))?;
    let mut response = (status, Html(html)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

pub(super) fn ok(template: &impl Template) -> Result<Response, PageError> {
    page(StatusCode::OK, template)
}

/// 303 See Other: the browser follows with a GET, so a reload never posts twice.
pub(super) fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// How a page request fails: to the login page (then back to the page asked for), or with an
/// error page.
#[derive(Debug)]
pub(super) enum PageError {
    Login { back_to: Option<String> },
    Error(Error),
}

impl From<Error> for PageError {
    fn from(e: Error) -> Self {
        match e {
            Error::Unauthorized => PageError::Login { back_to: None },
            other => PageError::Error(other),
        }
    }
}

impl From<cantine_domain::rules::NoSchoolYear> for PageError {
    fn from(e: cantine_domain::rules::NoSchoolYear) -> Self {
        PageError::Error(e.into())
    }
}

impl From<PathRejection> for PageError {
    fn from(_: PathRejection) -> Self {
        // A malformed id or date names no page: the same answer as an unknown one.
        PageError::Error(Error::NotFound)
    }
}

impl From<QueryRejection> for PageError {
    fn from(_: QueryRejection) -> Self {
        PageError::Error(Error::form(FormProblem::PageAddress))
    }
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn only_paths_of_this_site_are_followed_after_login() {
        assert_eq!(local_path("/foyer"), Some("/foyer"));
        assert_eq!(
            local_path("/enfants/3/calendrier?mois=2026-12"),
            Some("/enfants/3/calendrier?mois=2026-12")
        );
        for bad in [
            "",
            "foyer",
            "//evil.example/",
            "/\\evil.example",
            "https://evil.example/",
            "/a b",
            "/é",
            "/a\nb",
        ] {
            assert_eq!(local_path(bad), None, "{bad:?}");
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Layout,
    heading: &'static str,
    message: String,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let error = match self {
            PageError::Login { back_to: None } => return see_other("/connexion"),
            PageError::Login {
                back_to: Some(path),
            } => {
                let encoded: String =
                    url::form_urlencoded::byte_serialize(path.as_bytes()).collect();
                return see_other(&format!("/connexion?suite={encoded}"));
            }
            PageError::Error(error) => error,
        };
        if let Error::Internal(e) = &error {
            tracing::error!(error = ?e, "internal error");
        }
        let status = super::error::status(&error);
        let heading = match &error {
            Error::NotFound => "Page introuvable",
            Error::Forbidden(_) => "Action refusée",
            Error::Internal(_) => "Erreur du service",
            _ => "Demande impossible",
        };
        let message = match &error {
            Error::NotFound => "Cette page n'existe pas ou ne concerne pas votre foyer.".to_owned(),
            Error::UnsupportedMediaType => "Formulaire attendu.".to_owned(),
            other => fr::message(other),
        };
        let template = ErrorPage {
            layout: Layout::unknown_visitor(heading),
            heading,
            message,
        };
        match page(status, &template) {
            Ok(response) => response,
            Err(_) => (status, message_only(status)).into_response(),
        }
    }
}

/// The 404 page, for the router's fallback when a browser asks.
pub(super) fn not_found_page() -> Response {
    PageError::Error(Error::NotFound).into_response()
}

fn message_only(status: StatusCode) -> &'static str {
    status.canonical_reason().unwrap_or("Erreur")
}

/// A form failure shown on the form itself (validation, conflict, rate limit), or an error
/// that deserves its own page (not found, refused, internal).
pub(super) fn form_failure(error: Error) -> Result<(StatusCode, String), PageError> {
    match error {
        Error::Invalid { .. }
        | Error::Conflict { .. }
        | Error::Malformed { .. }
        | Error::TooManyRequests => Ok((super::error::status(&error), fr::message(&error))),
        other => Err(other.into()),
    }
}

/// A page whose form can come back refused: it shows the message in its alert and says so in its
/// title.
pub(super) trait FormPage: Template {
    fn layout(&mut self) -> &mut Layout;
    fn error(&mut self) -> &mut Option<String>;
}

/// Implements [`FormPage`] for templates with `layout` and `error` fields.
macro_rules! form_page {
    ($($page:ty),+ $(,)?) => {
        $(impl $crate::http::portal::FormPage for $page {
            fn layout(&mut self) -> &mut $crate::http::portal::Layout {
                &mut self.layout
            }
            fn error(&mut self) -> &mut Option<String> {
                &mut self.error
            }
        })+
    };
}
pub(super) use form_page;

/// Answers a refused form: the form again with the service's message and a 4xx, or, for an
/// error that deserves its own page (not found, refused, internal), that page. The form page
/// is only built in the first case, so a foreign id never loads anything.
pub(super) async fn refused<T: FormPage>(
    error: Error,
    form: impl std::future::Future<Output = Result<T, PageError>>,
) -> Result<Response, PageError> {
    let (status, message) = form_failure(error)?;
    let mut template = form.await?;
    *template.error() = Some(message);
    template.layout().mark_failed();
    page(status, &template)
}

/// A signed-in person; anyone else is sent to the login page.
pub(super) struct Signed(pub Session);

impl FromRequestParts<AppState> for Signed {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        match MaybeSession::from_request_parts(parts, state).await? {
            MaybeSession(Some(session)) => Ok(Signed(session)),
            MaybeSession(None) => Err(PageError::Login {
                // Only pages are worth coming back to; a form posted signed out is lost.
                back_to: (parts.method == Method::GET)
                    .then(|| parts.uri.path_and_query().map(|p| p.as_str().to_owned()))
                    .flatten()
                    .and_then(|p| local_path(&p).map(str::to_owned)),
            }),
        }
    }
}

/// A path of this site to go back to after logging in, never another site's (`//host`) nor
/// anything a `Location` header cannot carry.
pub(super) fn local_path(text: &str) -> Option<&str> {
    let local = text.starts_with('/')
        && !text.starts_with("//")
        && !text.starts_with("/\\")
        && text.len() <= 512
        && text.bytes().all(|b| b.is_ascii_graphic());
    local.then_some(text)
}

/// `Path` whose rejection is the 404 page.
#[derive(Debug, Clone, Copy, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(PageError))]
pub(super) struct PagePath<T>(pub T);

/// `Query` whose rejection is an error page.
#[derive(Debug, Clone, Copy, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(PageError))]
pub(super) struct PageQuery<T>(pub T);

/// A posted form as its list of fields, repeated names (checkboxes) included.
pub(super) struct FormData(Vec<(String, String)>);

impl FormData {
    /// The first value of a field, or "" when absent.
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Every value of a repeated field, in order.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether a checkbox was ticked.
    pub fn checked(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }
}

impl<S: Send + Sync> FromRequest<S> for FormData {
    type Rejection = PageError;

    async fn from_request(request: Request, state: &S) -> Result<Self, PageError> {
        let axum::Form(pairs) = axum::Form::<Vec<(String, String)>>::from_request(request, state)
            .await
            .map_err(|rejection| match rejection {
                FormRejection::InvalidFormContentType(_) => Error::UnsupportedMediaType,
                r if r.status() == StatusCode::PAYLOAD_TOO_LARGE => Error::TooLarge,
                _ => Error::Malformed(Malformed::Form),
            })?;
        Ok(FormData(pairs))
    }
}

/// Checks the form's CSRF field: every form handler of a signed-in page calls it first.
pub(super) fn check_csrf(session: &Session, form: &FormData) -> Result<(), PageError> {
    Ok(session.check_form_token(form.get("csrf"))?)
}
