//! The foundation against a real PostgreSQL: migrations, readiness, metrics, OpenAPI, errors.

use cantine::platform::{db, pg};
use cantine_test_support::{self as testing, TestApp};

#[tokio::test]
async fn migrations_apply_to_an_empty_database_and_again_as_a_no_op() {
    let test_db = testing::empty_database().await;
    let before = db::readiness(&test_db.pool).await;
    assert!(
        matches!(before, Err(db::NotReady::Behind { applied: None, .. })),
        "{before:?}"
    );

    db::migrate(&test_db.pool).await.expect("first run applies");
    db::readiness(&test_db.pool)
        .await
        .expect("ready once migrated");
    let count = |pool| async move {
        sqlx::query_scalar::<_, i64>("select count(*) from _sqlx_migrations")
            .fetch_one(pool)
            .await
            .unwrap()
    };
    let applied = count(&test_db.pool).await;
    assert_eq!(applied as usize, db::MIGRATOR.iter().count());

    db::migrate(&test_db.pool)
        .await
        .expect("second run is a no-op");
    assert_eq!(count(&test_db.pool).await, applied);
}

#[tokio::test]
async fn readyz_answers_200_when_migrated_and_503_before() {
    let app = TestApp::builder()
        .database(testing::empty_database().await)
        .spawn()
        .await;
    let response = reqwest::get(app.url("/readyz")).await.unwrap();
    assert_eq!(response.status(), 503);

    db::migrate(&app.pool).await.unwrap();
    let response = reqwest::get(app.url("/readyz")).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        reqwest::get(app.url("/healthz")).await.unwrap().status(),
        200
    );
}

#[tokio::test]
async fn readyz_goes_503_when_postgresql_stops() {
    let root = tempfile::tempdir().unwrap();
    let cluster = pg::Cluster::new(
        root.path().join("pg"),
        pg::Tuning {
            durable: false,
            max_connections: 20,
        },
    )
    .unwrap();
    let server = tokio::task::spawn_blocking({
        let cluster = cluster.clone();
        move || {
            cluster.init_if_needed().unwrap();
            cluster.start(false).unwrap()
        }
    })
    .await
    .unwrap();
    let pool = db::pool(cluster.connect_options("postgres"), 2);
    db::migrate(&pool).await.unwrap();
    let app = TestApp::builder().pool(pool).spawn().await;
    assert_eq!(
        reqwest::get(app.url("/readyz")).await.unwrap().status(),
        200
    );

    tokio::task::spawn_blocking(move || server.stop())
        .await
        .unwrap()
        .unwrap();
    let response = reqwest::get(app.url("/readyz")).await.unwrap();
    assert_eq!(response.status(), 503);
    // It says so without the database's own words (tests/http_headers.rs checks those).
    assert!(response.text().await.unwrap().contains("not ready"));
    // Liveness is about the process, not its database.
    assert_eq!(
        reqwest::get(app.url("/healthz")).await.unwrap().status(),
        200
    );
}

fn counter(metrics: &str, route: &str, status: &str) -> u64 {
    let needle = format!(
        "cantine_http_requests_total{{method=\"GET\",route=\"{route}\",status=\"{status}\"}} "
    );
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(&needle))
        .map(|v| v.trim().parse().unwrap())
        .unwrap_or(0)
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status() {
    let app = TestApp::spawn().await;
    for _ in 0..3 {
        reqwest::get(app.url("/healthz")).await.unwrap();
    }
    reqwest::get(app.url("/no/such/page")).await.unwrap();
    let response = reqwest::get(app.url("/metrics")).await.unwrap();
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = response.text().await.unwrap();
    assert_eq!(counter(&text, "/healthz", "200"), 3);
    assert_eq!(counter(&text, "unmatched", "404"), 1);
    for name in [
        "cantine_http_request_duration_seconds_bucket",
        "cantine_db_pool_connections{state=\"idle\"}",
        "cantine_build_info{commit=",
    ] {
        assert!(text.contains(name), "{name} missing from:\n{text}");
    }
}

#[tokio::test]
async fn openapi_is_a_3_1_document_listing_the_routes() {
    let app = TestApp::spawn().await;
    let doc: serde_json::Value = reqwest::get(app.url("/api/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    for path in ["/healthz", "/readyz", "/metrics"] {
        assert!(
            doc["paths"][path]["get"]["operationId"].is_string(),
            "{path}"
        );
    }
}

#[tokio::test]
async fn every_answer_carries_a_request_id_and_errors_are_problems() {
    let app = TestApp::spawn().await;
    let response = reqwest::get(app.url("/nothing-here")).await.unwrap();
    assert_eq!(response.status(), 404);
    assert!(!response.headers()["x-request-id"].is_empty());
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["code"], "not_found");
    assert_eq!(body["status"], 404);
}
