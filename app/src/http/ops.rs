//! Liveness, readiness and metrics: what the reverse proxy, systemd and Prometheus ask.

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;

use super::AppState;
use crate::platform::db;
use crate::platform::metrics::Samples;
use crate::{billing, enrollments};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

/// The process is alive.
#[utoipa::path(get, path = "/healthz", operation_id = "healthz", tag = "operations",
    responses((status = 200, description = "Alive", body = String)))]
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// The database answers and its schema is up to date.
#[utoipa::path(get, path = "/readyz", operation_id = "readyz", tag = "operations",
    responses(
        (status = 200, description = "Ready", body = String),
        (status = 503, description = "Database unreachable or not migrated", body = String)))]
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match db::readiness(&state.pool).await {
        Ok(()) => (StatusCode::OK, "ready\n".to_owned()),
        // The cause (a host name, a role, a server message) is for the journal: anyone may
        // ask `/readyz`, and the answer says only that the service is not ready.
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            (StatusCode::SERVICE_UNAVAILABLE, "not ready\n".to_owned())
        }
    }
}

/// Prometheus text exposition.
#[utoipa::path(get, path = "/metrics", operation_id = "metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text format", body = String)))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    // A database that does not answer leaves the last samples in place: `pg_up` and the
    // readiness check say it, and the traffic metrics still matter.
    match samples(&state.pool).await {
        Ok(samples) => state.metrics.set_samples(&samples),
        Err(e) => tracing::warn!(error = %e, "metrics: cannot sample the database"),
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(&state.pool),
    )
}

async fn samples(pool: &sqlx::PgPool) -> crate::error::Result<Samples> {
    let (billing_mails, billing_mail_oldest_seconds) = billing::stats::outbox(pool).await?;
    Ok(Samples {
        enrollments: enrollments::count_by_status(pool).await?,
        billing_mails,
        billing_mail_oldest_seconds,
        billing: billing::stats::regies(pool).await?,
    })
}
