//! Test support: one throwaway PostgreSQL cluster per test binary, a fresh database per test,
//! and the real application served on a loopback port.
//!
//! The cluster lives in a temporary folder that its guard deletes when the test binary exits
//! (see [`crate::platform::pg`]), so nothing is left behind even when a test run is interrupted.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tokio::net::TcpListener;
use tokio::sync::{OnceCell, oneshot};

use crate::http::{self, AppState};
use crate::platform::config::{Config, Source};
use crate::platform::pg;

static SERVER: OnceLock<pg::Server> = OnceLock::new();
static TEMPLATE: OnceCell<()> = OnceCell::const_new();
static NEXT: AtomicU32 = AtomicU32::new(0);
const TEMPLATE_NAME: &str = "cantine_template";

/// The binary's cluster, started on first use.
pub fn cluster() -> &'static pg::Cluster {
    SERVER
        .get_or_init(|| {
            let root = tempfile::Builder::new()
                .prefix("cantine-test-pg-")
                .tempdir()
                .expect("temporary folder")
                .keep();
            let cluster = pg::Cluster::new(
                root,
                pg::Tuning {
                    durable: false,
                    max_connections: 300,
                },
            )
            .expect("PostgreSQL binaries");
            cluster.init_if_needed().expect("initdb");
            cluster.start(true).expect("test PostgreSQL starts")
        })
        .cluster()
}

/// A database of its own for one test.
pub struct TestDb {
    pub name: String,
    pub options: PgConnectOptions,
    pub pool: PgPool,
}

fn unique_name(prefix: &str) -> String {
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

async fn admin() -> PgPool {
    PgPoolOptions::new()
        .max_connections(1)
        .connect_with(cluster().connect_options("postgres"))
        .await
        .expect("connect to the test cluster")
}

async fn create(name: &str, template: Option<&str>) -> TestDb {
    let admin = admin().await;
    let sql = match template {
        Some(t) => format!("create database {name} template {t}"),
        None => format!("create database {name}"),
    };
    sqlx::query(&sql)
        .execute(&admin)
        .await
        .expect("create database");
    admin.close().await;
    let options = cluster().connect_options(name);
    let pool = PgPoolOptions::new()
        .max_connections(5)
        .connect_with(options.clone())
        .await
        .expect("connect to the test database");
    TestDb {
        name: name.to_owned(),
        options,
        pool,
    }
}

/// An empty database: no table, no migration applied.
pub async fn empty_database() -> TestDb {
    create(&unique_name("empty"), None).await
}

/// A migrated database, copied from a template migrated once per test binary.
pub async fn database() -> TestDb {
    TEMPLATE
        .get_or_init(|| async {
            let template = create(TEMPLATE_NAME, None).await;
            crate::platform::db::migrate(&template.pool)
                .await
                .expect("migrations apply");
            template.pool.close().await;
        })
        .await;
    create(&unique_name("test"), Some(TEMPLATE_NAME)).await
}

/// Configuration for tests: defaults, never the host's `/etc/cantine/cantine.toml`.
pub fn config() -> Config {
    let source = Source {
        file: None,
        skip_default_file: true,
    };
    Config::load_from(&source, |_| None).expect("default configuration is valid")
}

/// The application serving on a loopback port until dropped.
pub struct TestApp {
    pub base_url: String,
    pub state: AppState,
    stop: Option<oneshot::Sender<()>>,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Serves `pool` with `config` on 127.0.0.1, on a port the system picks.
pub async fn spawn_app_with(pool: PgPool, config: Config) -> TestApp {
    spawn_state(AppState::new(pool, config).expect("application state")).await
}

/// Serves a prepared state (a fixed clock, say). Its configured `public_url` stays as given,
/// so a test can decide which `Origin` is the service's own.
pub async fn spawn_state(state: AppState) -> TestApp {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("local address");
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(http::serve(listener, state.clone(), async {
        let _ = stopped.await;
    }));
    TestApp {
        base_url: format!("http://{address}"),
        state,
        stop: Some(stop),
    }
}

/// Serves a fresh migrated database with the test configuration.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(database().await.pool, config()).await
}
