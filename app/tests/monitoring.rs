//! The monitoring folder against the running application:
//!
//! - the metrics catalogue of `monitoring/README.md` and the app's exposition agree both ways,
//!   name and type;
//! - a real Prometheus (Debian's), started with `monitoring/prometheus/appliance.yml` and the
//!   rules of `monitoring/rules/`, scrapes the app, a node exporter and a PostgreSQL exporter
//!   on loopback through a stand-in for the appliance's metrics port: every target is up, every
//!   rule is loaded, no alert fires on the healthy app; then the app stops and `CantineAppDown`
//!   goes pending.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cantine::backup::state;
use cantine_test_support::fixtures;
use cantine_test_support::{self as testing, TestApp};
use serde_json::Value;

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// `name → type` of the catalogue's table rows: "| `name` | type | labels | meaning |".
fn catalogue() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(repository().join("monitoring/README.md")).unwrap();
    text.lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let name = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
            Some((name.to_owned(), cells.get(2)?.to_string()))
        })
        .collect()
}

/// `name → type` of the exposition's `# TYPE` lines.
fn exposition(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|line| {
            let mut words = line.strip_prefix("# TYPE ")?.split(' ');
            Some((words.next()?.to_owned(), words.next()?.to_owned()))
        })
        .collect()
}

/// Every backup gauge has a value once a target has been backed up, checked and drilled.
fn record_backups(data_dir: &Path) {
    state::record(data_dir, "local", |s| {
        s.last_success = Some(1_000.0);
        s.last_failure = Some(900.0);
        s.last_run_success = Some(true);
        s.last_duration_seconds = Some(2.5);
        s.last_size_bytes = Some(4_096);
        s.check_last_success = Some(1_000.0);
        s.check_last_run_success = Some(true);
        s.drill_last_success = Some(1_000.0);
        s.drill_last_run_success = Some(true);
    });
}

async fn scrape(app: &TestApp) -> String {
    reqwest::get(app.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// The value of one series, by its exact label set as the exposition writes it.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn the_catalogue_and_the_exposition_agree_both_ways() {
    let app = TestApp::spawn().await;
    record_backups(app.data_dir());
    // A labelled counter shows only once it has a series: a request, and a refusal.
    reqwest::get(app.url("/healthz")).await.unwrap();
    reqwest::get(app.url("/api/v1/nowhere")).await.unwrap();
    let text = scrape(&app).await;
    let exposed = exposition(&text);
    let listed = catalogue();
    assert!(listed.len() >= 10, "catalogue read: {listed:?}");
    let missing: Vec<_> = listed
        .keys()
        .filter(|n| !exposed.contains_key(*n))
        .collect();
    assert!(
        missing.is_empty(),
        "catalogued but not exposed: {missing:?}"
    );
    let unlisted: Vec<_> = exposed
        .keys()
        .filter(|n| !listed.contains_key(*n))
        .collect();
    assert!(
        unlisted.is_empty(),
        "exposed but not in monitoring/README.md: {unlisted:?}"
    );
    for (name, kind) in &listed {
        assert_eq!(&exposed[name], kind, "type of {name}");
        assert!(
            name.starts_with("cantine_"),
            "{name} has no cantine_ prefix"
        );
        if kind == "counter" {
            assert!(
                name.ends_with("_total"),
                "counter {name} does not end in _total"
            );
        }
    }
}

/// The sampled gauges follow the database, and the counters count what happened: an
/// enrollment validated (which books the child's days), a refused request.
#[tokio::test]
async fn the_metrics_follow_what_happens() {
    let app = TestApp::spawn().await;
    fixtures::current_school_year(&app).await;
    let before = scrape(&app).await;
    assert_eq!(
        value(&before, r#"cantine_enrollments{state="validated"}"#),
        Some(0.0)
    );
    assert_eq!(
        value(&before, r#"cantine_invoices_issued{regie="CANT"}"#),
        Some(0.0)
    );
    assert_eq!(
        value(&before, r#"cantine_billing_mails_pending{state="queued"}"#),
        Some(0.0)
    );
    let booked = r#"cantine_reservation_changes_total{change="booked",source="enrollment"}"#;
    let booked_before = value(&before, booked).unwrap();

    let school = fixtures::school(&app.pool, "École Jules-Ferry", "").await;
    let family = fixtures::family(&app, "martin", "un mot de passe solide").await;
    fixtures::enrolled_child(&app, &family, school, "Léa").await;
    reqwest::get(app.url("/api/v1/nowhere")).await.unwrap();
    reqwest::get(app.url("/api/v1/nowhere")).await.unwrap();

    let after = scrape(&app).await;
    assert_eq!(
        value(&after, r#"cantine_enrollments{state="validated"}"#),
        Some(1.0)
    );
    // The counter is process-wide (other tests of this binary may book too): it moved.
    assert!(value(&after, booked).unwrap() > booked_before, "{after}");
    assert_eq!(
        value(
            &after,
            r#"cantine_refusals_total{code="not_found",route="unmatched"}"#
        ),
        Some(2.0)
    );
}

fn free_port() -> SocketAddr {
    StdListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// A process killed when the test ends, whatever happens.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(program: &str, args: &[String], envs: &[(&str, String)]) -> Process {
    let mut command = Command::new(program);
    command
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in envs {
        command.env(k, v);
    }
    Process(
        command
            .spawn()
            .unwrap_or_else(|e| panic!("{program}: {e} (scripts/install-deps test installs it)")),
    )
}

/// Where the stand-in for nginx's metrics port sends each path.
#[derive(Clone)]
struct Upstreams {
    app: String,
    node: String,
    postgres: String,
    client: reqwest::Client,
}

async fn forward(State(up): State<Upstreams>, request: Request) -> Response {
    let upstream = match request.uri().path() {
        "/metrics" => format!("{}/metrics", up.app),
        "/node/metrics" => format!("{}/metrics", up.node),
        "/postgres/metrics" => format!("{}/metrics", up.postgres),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    match up.client.get(upstream).send().await {
        Ok(answer) => {
            let status = StatusCode::from_u16(answer.status().as_u16()).unwrap();
            let body = answer.bytes().await.unwrap_or_default();
            (
                status,
                [("content-type", "text/plain; version=0.0.4")],
                body,
            )
                .into_response()
        }
        Err(_) => StatusCode::BAD_GATEWAY.into_response(),
    }
}

/// `monitoring/prometheus/appliance.yml` as the appliance's IT team uses it, with only the
/// appliance's address, plain HTTP instead of TLS (the stand-in has no certificate), a
/// one-second pace, and the rule file's absolute path changed.
fn test_configuration(port: SocketAddr) -> String {
    let original =
        std::fs::read_to_string(repository().join("monitoring/prometheus/appliance.yml")).unwrap();
    let rules = repository().join("monitoring/rules/cantine.yml");
    let mut out = String::new();
    let mut skipping_tls = false;
    for line in original.lines() {
        let trimmed = line.trim_start();
        if skipping_tls {
            // the anchored tls_config's own keys and comment
            if line.starts_with("      ") && !trimmed.starts_with("static_configs") {
                continue;
            }
            skipping_tls = false;
        }
        if trimmed.starts_with("tls_config:") {
            skipping_tls = trimmed.contains('&');
            continue;
        }
        let line = line
            .replace("scheme: https", "scheme: http")
            .replace("cantine.mairie.example:9443", &port.to_string())
            .replace("../rules/cantine.yml", rules.to_str().unwrap())
            .replace("scrape_interval: 30s", "scrape_interval: 1s")
            .replace("evaluation_interval: 30s", "evaluation_interval: 1s");
        out.push_str(&line);
        out.push('\n');
    }
    assert!(!out.contains("https") && !out.contains("ca_file"), "{out}");
    out
}

async fn api(client: &reqwest::Client, base: &str, path: &str) -> Value {
    match client.get(format!("{base}{path}")).send().await {
        Ok(answer) => answer.json().await.unwrap_or(Value::Null),
        Err(_) => Value::Null,
    }
}

async fn eventually<F, Fut>(what: &str, mut check: F) -> Value
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<Value>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The alerts of the host the test runs on, not of the app: a CI machine's disk, memory or
/// clock may well be pending.
const HOST_ALERTS: [&str; 4] = [
    "CantineDiskAlmostFull",
    "CantineDiskFullSoon",
    "CantineMemoryLow",
    "CantineClockDrift",
];

#[tokio::test]
async fn a_real_prometheus_sees_every_target_up_and_the_app_going_down() {
    let db = testing::database().await;
    let conninfo = testing::cluster().conninfo(&db.name);
    let app = TestApp::builder().database(db).spawn().await;

    let node = free_port();
    let _node = spawn(
        "prometheus-node-exporter",
        &[format!("--web.listen-address={node}")],
        &[],
    );
    let postgres = free_port();
    let _postgres = spawn(
        "prometheus-postgres-exporter",
        &[format!("--web.listen-address={postgres}")],
        &[("DATA_SOURCE_NAME", format!("{conninfo} sslmode=disable"))],
    );

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let upstreams = Upstreams {
        app: app.base_url.clone(),
        node: format!("http://{node}"),
        postgres: format!("http://{postgres}"),
        client: client.clone(),
    };
    tokio::spawn(async move {
        axum::serve(
            listener,
            Router::new().fallback(forward).with_state(upstreams),
        )
        .await
        .unwrap();
    });

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(&config, test_configuration(port)).unwrap();
    let web = free_port();
    let _prometheus = spawn(
        "prometheus",
        &[
            format!("--config.file={}", config.display()),
            format!("--storage.tsdb.path={}", dir.path().join("data").display()),
            format!("--web.listen-address={web}"),
        ],
        &[],
    );
    let base = format!("http://{web}");

    let targets = eventually("every target up", || {
        let client = client.clone();
        let base = base.clone();
        async move {
            let v = api(&client, &base, "/api/v1/targets").await;
            let active = v["data"]["activeTargets"].as_array()?.clone();
            let up = active.iter().filter(|t| t["health"] == "up").count();
            (active.len() == 3 && up == 3).then_some(Value::Array(active))
        }
    })
    .await;
    let mut jobs: Vec<String> = targets
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["labels"]["job"].as_str().unwrap().to_owned())
        .collect();
    jobs.sort();
    assert_eq!(jobs, ["cantine", "node", "postgres"]);

    let rules_text =
        std::fs::read_to_string(repository().join("monitoring/rules/cantine.yml")).unwrap();
    let expected_rules = rules_text
        .lines()
        .filter(|l| {
            let t = l.trim_start();
            t.starts_with("- alert:") || t.starts_with("- record:")
        })
        .count();
    let groups = api(&client, &base, "/api/v1/rules").await;
    let loaded: usize = groups["data"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["rules"].as_array().unwrap().len())
        .sum();
    assert_eq!(loaded, expected_rules);

    // A few evaluations of the healthy app: nothing fires, and nothing about the app is even
    // pending.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let alerts = api(&client, &base, "/api/v1/alerts").await;
    for alert in alerts["data"]["alerts"].as_array().unwrap() {
        let name = alert["labels"]["alertname"].as_str().unwrap();
        assert_ne!(alert["state"], "firing", "{name} fires on a healthy app");
        assert!(
            HOST_ALERTS.contains(&name),
            "{name} is pending on a healthy app"
        );
    }

    drop(app);
    eventually("CantineAppDown pending", || {
        let client = client.clone();
        let base = base.clone();
        async move {
            let v = api(&client, &base, "/api/v1/alerts").await;
            v["data"]["alerts"]
                .as_array()?
                .iter()
                .find(|a| {
                    a["labels"]["alertname"] == "CantineAppDown"
                        && (a["state"] == "pending" || a["state"] == "firing")
                })
                .cloned()
        }
    })
    .await;
}
