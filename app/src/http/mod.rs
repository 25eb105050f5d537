//! The HTTP interface: the router, its middleware and the server loop. Handlers stay thin: they
//! parse, call a service, and answer; French wording lives in [`fr`] only.
//!
//! Grouped by audience: `portal` (the families' pages), `api::v1` (the JSON API),
//! `backoffice` (the town hall's pages and API, every route behind its role check) and `ops`
//! (health, readiness, metrics, the OpenAPI document).

mod api;
mod auth;
pub mod backoffice;
mod billing_mails;
mod certificates;
mod contests;
mod documents;
pub mod error;
pub mod fr;
mod openapi;
mod opendata;
mod ops;
pub mod payfip;
pub mod payfip_simulator;
mod portal;
pub mod routes;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderName, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use cantine_domain::rules::Rules;

use crate::platform::clock::{Clock, SystemClock};
use crate::platform::config::Config;
use crate::platform::mail::Mailer;
use crate::platform::metrics::Metrics;
use crate::platform::rate_limit::RateLimiter;

pub use billing_mails::FamilyMails;
pub use error::{Error, Result};

/// What every handler may reach.
#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub config: Arc<Config>,
    pub metrics: Arc<Metrics>,
    pub clock: Arc<dyn Clock>,
    pub mailer: Arc<Mailer>,
    pub limiter: Arc<RateLimiter>,
    pub links: Arc<routes::Links>,
    /// The PayFiP SOAP client (`payfip.endpoint`), shared by requests and the worker.
    pub payfip: crate::payments::PayfipClient,
}

impl AppState {
    pub fn new(pool: PgPool, config: Config) -> anyhow::Result<Self> {
        let metrics = Metrics::new();
        // Backup results come from another process (the systemd timers' `cantine backup`),
        // read afresh at each scrape.
        crate::backup::state::register_collector(metrics.registry(), &config.data_dir)?;
        Ok(Self {
            pool,
            links: Arc::new(routes::Links {
                public_url: config.public_url.clone(),
            }),
            mailer: Arc::new(Mailer::from_config(&config)?),
            payfip: crate::payments::PayfipClient::new(
                config.payfip.endpoint.clone(),
                Duration::from_secs(config.payfip.timeout_secs),
            )?,
            config: Arc::new(config),
            metrics: Arc::new(metrics),
            clock: Arc::new(SystemClock),
            limiter: Arc::new(RateLimiter::default()),
        })
    }

    /// The calendar and deadline rules, judged now.
    pub fn rules(&self) -> Rules<'_> {
        crate::platform::rules(&self.config, self.clock.now())
    }

    /// What the kitchen's freeze worker needs (`kitchen::catch_up`, `kitchen::run`).
    pub fn kitchen(&self) -> crate::kitchen::Kitchen {
        crate::kitchen::Kitchen {
            pool: self.pool.clone(),
            config: self.config.clone(),
            mailer: self.mailer.clone(),
            mails: self.links.clone(),
            clock: self.clock.clone(),
        }
    }

    /// What the account services need, judged now.
    pub fn accounts(&self) -> crate::accounts::Ctx<'_> {
        crate::accounts::Ctx {
            pool: &self.pool,
            mailer: &self.mailer,
            mails: self.links.as_ref(),
            limiter: &self.limiter,
            now: self.clock.now(),
        }
    }
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub fn router(state: AppState) -> Router {
    let timeout = Duration::from_secs(state.config.http.request_timeout_secs);
    let body_limit = state.config.http.body_limit_bytes;
    Router::new()
        .merge(ops::routes())
        .merge(openapi::routes())
        .merge(api::routes())
        .merge(portal::routes())
        .merge(backoffice::routes(&state))
        .merge(opendata::routes())
        .merge(payfip::routes())
        .fallback(not_found)
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http().make_span_with(|request: &Request| {
                        let route = request
                            .extensions()
                            .get::<MatchedPath>()
                            .map(|p| p.as_str().to_owned());
                        let id = request
                            .headers()
                            .get(REQUEST_ID)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("-");
                        tracing::info_span!(
                            "request",
                            method = %request.method(),
                            route = route.as_deref().unwrap_or("unmatched"),
                            request_id = id,
                        )
                    }),
                )
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                .layer(middleware::from_fn_with_state(
                    state.clone(),
                    count_requests,
                ))
                .layer(middleware::from_fn(security_headers))
                .layer(middleware::from_fn_with_state(
                    state.clone(),
                    auth::refuse_foreign_origin,
                ))
                .layer(CatchPanicLayer::custom(|_| {
                    axum::response::IntoResponse::into_response(Error::Internal(anyhow::anyhow!(
                        "handler panicked"
                    )))
                }))
                .layer(middleware::map_response(error::bare_errors_as_problems))
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::REQUEST_TIMEOUT,
                    timeout,
                ))
                // Enforced by the body extractors, which answer 413 through our error type.
                .layer(DefaultBodyLimit::max(body_limit)),
        )
        .with_state(state)
}

/// Browsers get the French 404 page; API clients and tools a problem.
async fn not_found(headers: axum::http::HeaderMap) -> Response {
    let wants_html = headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    if wants_html {
        portal::not_found_page()
    } else {
        axum::response::IntoResponse::into_response(Error::NotFound)
    }
}

/// Counts by matched route (`/api/v1/children/{id}`), never by raw path: the label set stays
/// small whatever clients send.
async fn count_requests(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let response = next.run(request).await;
    state
        .metrics
        .http_requests
        .with_label_values(&[&method, &route, response.status().as_str()])
        .inc();
    if response.status().is_client_error()
        && let Some(code) = response.extensions().get::<crate::error::Code>()
    {
        state
            .metrics
            .refusals
            .with_label_values(&[&route, code.as_str()])
            .inc();
    }
    state
        .metrics
        .http_duration
        .with_label_values(&[&method, &route])
        .observe(started.elapsed().as_secs_f64());
    response
}

/// Every answer, page or not, carries the same security headers: never framed
/// (`frame-ancestors` and its older form `X-Frame-Options`), never sniffed, no referrer outside
/// the service (a link in a page must not leak a confirmation token to another site), no
/// script, style or image from elsewhere, no plugin, no `<base>` rewrite, and none of the
/// browser's powerful features (camera, microphone, location, payment, USB...).
///
/// Nothing is cached unless its handler said so: personal pages and API answers go out as
/// `Cache-Control: no-store`, so that neither a shared computer's browser nor a proxy keeps a
/// child's health data. The public assets (`/static/app.css`, the open-data CSV) set their own
/// `Cache-Control`, which is kept.
const SECURITY_HEADERS: [(&str, &str); 5] = [
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
    (
        "content-security-policy",
        "default-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    ),
    (
        "permissions-policy",
        "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    ),
];

async fn security_headers(request: Request, next: Next) -> Response {
    use axum::http::{HeaderValue, header};
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// Serves until `shutdown` completes, then lets requests in flight finish. The kitchen's
/// freeze worker (`kitchen.worker`) and the billing mail worker (`billing.mail_worker`) run
/// beside the server and stop with it, after the run in progress.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // The worker stops at the shutdown signal, not after the last connection closes.
    let (stop_worker, worker_stopped) = tokio::sync::watch::channel(());
    let shutdown = async move {
        shutdown.await;
        drop(stop_worker);
    };
    // PayFiP's reconciliation: pending attempts asked again, whatever notifications came.
    let payfip_worker = state.config.payfip.worker.then(|| {
        tokio::spawn(crate::payments::run(
            payfip::payments(&state),
            worker_stopped.clone(),
        ))
    });
    let worker = state
        .config
        .kitchen
        .worker
        .then(|| tokio::spawn(crate::kitchen::run(state.kitchen(), worker_stopped.clone())));
    // The billing outbox: a mail that fails is kept and retried later, and never holds up
    // the run (invoicing, issuing) that queued it.
    let billing_worker = state.config.billing.mail_worker.then(|| {
        tokio::spawn(crate::billing::outbox::run(
            state.pool.clone(),
            FamilyMails::new(&state),
            worker_stopped.clone(),
        ))
    });
    // The retention job: what is past its period is erased once a day ([retention]).
    let retention_worker = state.config.retention.worker.then(|| {
        tokio::spawn(crate::privacy::run(
            crate::privacy::Job {
                pool: state.pool.clone(),
                config: state.config.clone(),
                clock: state.clock.clone(),
            },
            worker_stopped.clone(),
        ))
    });
    let served = axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    if let Some(worker) = worker
        && let Err(e) = worker.await
    {
        tracing::warn!(error = %e, "the kitchen worker ended abnormally");
    }
    if let Some(worker) = billing_worker
        && let Err(e) = worker.await
    {
        tracing::warn!(error = %e, "the billing mail worker ended abnormally");
    }
    if let Some(worker) = retention_worker
        && let Err(e) = worker.await
    {
        tracing::warn!(error = %e, "the retention job ended abnormally");
    }
    if let Some(worker) = payfip_worker
        && let Err(e) = worker.await
    {
        tracing::warn!(error = %e, "the PayFiP reconciliation worker ended abnormally");
    }
    served
}
