//! PayFiP's side of the edge: the notification endpoint (`urlnotif`) and the payments
//! service's context built from the state.
//!
//! The notification is unsigned and carries only the operation id (`idop` or `idOp`, in the
//! query or a form body, by GET or POST): it is never trusted, it only triggers
//! `payments::check_attempt`, which asks PayFiP. It answers 200 with a short body whatever
//! the id (unknown, malformed, or a failure of ours: the reconciliation asks again), so that
//! PayFiP never sees a 5xx from us.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::{AppState, routes};
use crate::payments::{self, Callbacks, Payments};

pub fn routes() -> Router<AppState> {
    Router::new().route(
        routes::PAYFIP_NOTIFICATION,
        get(notification).post(notification),
    )
}

/// The payments service's context: this site's callback URLs and the shared client.
pub fn payments(state: &AppState) -> Payments {
    let join = |path: &str| {
        state
            .config
            .public_url
            .join(path)
            .expect("static path")
            .to_string()
    };
    Payments {
        pool: state.pool.clone(),
        config: state.config.clone(),
        client: state.payfip.clone(),
        metrics: state.metrics.clone(),
        clock: state.clock.clone(),
        callbacks: Callbacks {
            notification: join(routes::PAYFIP_NOTIFICATION),
            return_prefix: join(routes::PAYMENT_RETURN_PREFIX),
        },
    }
}

/// The operation id of a notification: `idop` or `idOp`, from the query first, then a form
/// body.
fn id_op(query: Option<&str>, body: &[u8]) -> Option<String> {
    let find = |pairs: url::form_urlencoded::Parse<'_>| {
        pairs
            .into_iter()
            .find(|(k, _)| k == "idop" || k == "idOp")
            .map(|(_, v)| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    query
        .and_then(|q| find(url::form_urlencoded::parse(q.as_bytes())))
        .or_else(|| find(url::form_urlencoded::parse(body)))
}

async fn notification(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let answer = |text: &'static str| {
        ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response()
    };
    let Some(id_op) = id_op(query.as_deref(), &body) else {
        tracing::info!("PayFiP notification without an idop: ignored");
        return answer("ignored");
    };
    match payments::check_attempt(&payments(&state), &id_op).await {
        Ok(Some(_)) => answer("OK"),
        Ok(None) => answer("ignored"),
        Err(e) => {
            // Logged in full; the reconciliation asks again, so PayFiP need not.
            tracing::error!(id_op = %id_op, error = ?e, "PayFiP notification: check failed");
            answer("OK")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::id_op;

    #[test]
    fn the_operation_id_comes_from_the_query_or_the_form_either_spelling() {
        assert_eq!(id_op(Some("idop=a-1"), b""), Some("a-1".into()));
        assert_eq!(id_op(Some("x=1&idOp=b-2"), b""), Some("b-2".into()));
        assert_eq!(id_op(None, b"idOp=c-3"), Some("c-3".into()));
        assert_eq!(id_op(Some("idop="), b"idop=d-4"), Some("d-4".into()));
        assert_eq!(id_op(Some("other=1"), b""), None);
    }
}
