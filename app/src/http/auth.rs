//! Sessions and request forgery.
//!
//! The session is a cookie (`HttpOnly`, `SameSite=Lax`, `Secure` and `__Host-` behind TLS).
//! An unsafe request (POST, PUT, DELETE…) is refused when its `Origin` is another site's; a
//! signed-in one without `Origin` must carry the session's CSRF token, in the `X-CSRF-Token`
//! header (API clients) or in the form's `csrf` field (pages, checked by the form handlers).

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};

use super::AppState;
use crate::accounts::{self, SessionAccount};
use crate::audit::Actor;
use cantine_domain::ids::HouseholdId;

use crate::error::{Error, Refusal};

pub const CSRF_HEADER: &str = "x-csrf-token";

pub fn cookie_name(state: &AppState) -> &'static str {
    if state.config.is_https() {
        "__Host-cantine_session"
    } else {
        "cantine_session"
    }
}

pub fn session_cookie(
    state: &AppState,
    token: String,
    lifetime: chrono::Duration,
) -> Cookie<'static> {
    Cookie::build((cookie_name(state), token))
        .http_only(true)
        .secure(state.config.is_https())
        .same_site(SameSite::Lax)
        .path("/")
        .max_age(time_duration(lifetime))
        .build()
}

pub fn removal_cookie(state: &AppState) -> Cookie<'static> {
    let mut cookie = session_cookie(state, String::new(), accounts::SESSION_LIFETIME);
    cookie.make_removal();
    cookie
}

fn time_duration(d: chrono::Duration) -> time::Duration {
    time::Duration::seconds(d.num_seconds())
}

fn is_unsafe(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn origin_matches(state: &AppState, origin: &str) -> bool {
    origin.trim_end_matches('/') == state.config.public_url.origin().ascii_serialization()
}

/// PayFiP's notification and the payer's way back from PayFiP's page may come as posts from
/// PayFiP's site: neither changes anything on the request's word (both only make Cantine ask
/// PayFiP), so another origin is no forgery there.
fn from_payfip(path: &str) -> bool {
    path == super::routes::PAYFIP_NOTIFICATION
        || path.starts_with(super::routes::PAYMENT_RETURN_PREFIX)
}

/// Refuses unsafe requests sent by pages of another site, signed in or not.
pub async fn refuse_foreign_origin(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if is_unsafe(request.method())
        && !from_payfip(request.uri().path())
        && let Some(origin) = request.headers().get(header::ORIGIN)
        && !origin.to_str().is_ok_and(|o| origin_matches(&state, o))
    {
        tracing::warn!(origin = ?origin, "unsafe request from another origin refused");
        return Error::Forbidden(Refusal::Csrf).into_response();
    }
    next.run(request).await
}

/// The signed-in account, if any. Never fails: pages decide what to do without one.
pub struct MaybeSession(pub Option<Session>);

/// A signed-in account with the request's forgery check already done where it could be.
#[derive(Debug, Clone)]
pub struct Session {
    pub account: SessionAccount,
    pub token: String,
    /// False for a form post without `Origin` or header: the form's `csrf` field must match.
    pub csrf_checked: bool,
}

impl Session {
    /// For form handlers: the hidden `csrf` field must match unless `Origin` already did.
    pub fn check_form_token(&self, field: &str) -> Result<(), Error> {
        if self.csrf_checked || constant_time_eq(field, &self.account.csrf_token) {
            Ok(())
        } else {
            Err(Error::Forbidden(Refusal::Csrf))
        }
    }

    /// The session's person as the audit log names them.
    pub fn actor(&self, ip: String) -> Actor {
        Actor {
            account: self.account.account_id,
            email: self.account.email.clone(),
            ip,
        }
    }

    /// The household of a guardian; staff accounts have none.
    pub fn household(&self) -> Result<HouseholdId, Error> {
        self.account
            .household_id
            .ok_or(Error::Forbidden(Refusal::NotAGuardian))
    }
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

async fn load(parts: &mut Parts, state: &AppState) -> Result<Option<Session>, Error> {
    let jar = CookieJar::from_headers(&parts.headers);
    let Some(token) = jar.get(cookie_name(state)).map(|c| c.value().to_owned()) else {
        return Ok(None);
    };
    let Some(account) = accounts::session(&state.pool, &token, state.clock.now()).await? else {
        return Ok(None);
    };
    let mut csrf_checked = true;
    if is_unsafe(&parts.method) {
        // `refuse_foreign_origin` already refused a foreign Origin: a present one is ours.
        let origin_ok = parts.headers.contains_key(header::ORIGIN);
        let header_ok = parts
            .headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| constant_time_eq(v, &account.csrf_token));
        csrf_checked = origin_ok || header_ok;
        if !csrf_checked && !is_form(&parts.headers) {
            return Err(Error::Forbidden(Refusal::Csrf));
        }
    }
    Ok(Some(Session {
        account,
        token,
        csrf_checked,
    }))
}

impl FromRequestParts<AppState> for MaybeSession {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        load(parts, state).await.map(MaybeSession)
    }
}

impl FromRequestParts<AppState> for Session {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        load(parts, state).await?.ok_or(Error::Unauthorized)
    }
}

/// The client's address. Behind the appliance's reverse proxy every connection comes from
/// loopback, so there (and only there) the proxy's `X-Real-IP` is believed.
pub fn client_ip(parts_headers: &HeaderMap, peer: ConnectInfo<SocketAddr>) -> String {
    let peer_ip = peer.0.ip();
    if peer_ip.is_loopback()
        && let Some(real) = parts_headers
            .get("x-real-ip")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<IpAddr>().ok())
    {
        return real.to_string();
    }
    peer_ip.to_string()
}

/// Logs in (within the rate limits) and sets the session cookie: shared by the API and the
/// login page.
pub async fn log_in(
    state: &AppState,
    headers: &HeaderMap,
    peer: ConnectInfo<SocketAddr>,
    jar: CookieJar,
    login: accounts::Login<'_>,
) -> Result<(CookieJar, accounts::LoggedIn), Error> {
    let ip = client_ip(headers, peer);
    let mut session =
        accounts::log_in(&state.pool, &state.limiter, &ip, login, state.clock.now()).await?;
    let token = std::mem::take(&mut session.token);
    Ok((
        jar.add(session_cookie(state, token, session.lifetime)),
        session,
    ))
}
