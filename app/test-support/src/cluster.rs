//! One throwaway PostgreSQL cluster per test binary, and a fresh database per test.
//!
//! The cluster lives in a temporary folder that its guard deletes when the test binary exits
//! (see [`cantine::platform::pg`]), so nothing is left behind even when a test run is
//! interrupted: the guard's standard input is a pipe from the test binary, and its closing, on a
//! clean exit as on SIGKILL, stops the server.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use tokio::sync::OnceCell;

use cantine::platform::config::{Config, Source};
use cantine::platform::{db, pg};

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
    let pool = PgPoolOptions::new()
        .max_connections(5)
        .connect_with(cluster().connect_options(name))
        .await
        .expect("connect to the test database");
    TestDb {
        name: name.to_owned(),
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
            db::migrate(&template.pool).await.expect("migrations apply");
            template.pool.close().await;
        })
        .await;
    create(&unique_name("test"), Some(TEMPLATE_NAME)).await
}

/// Configuration for tests: defaults, never the host's `/etc/cantine/cantine.toml` nor a
/// `CANTINE_*` variable of the environment. [`crate::TestApp`] points its `data_dir` at a
/// folder of the test's own.
pub fn config() -> Config {
    let source = Source {
        file: None,
        skip_default_file: true,
    };
    let mut config = Config::load_from(&source, |_| None).expect("default configuration is valid");
    // The kitchen's freeze worker would write counts into every test's database at start;
    // the tests that need it turn it on (`app/tests/kitchen.rs`).
    config.kitchen.worker = false;
    // Likewise the billing mail worker: the tests that need it turn it on
    // (`app/tests/billing_family.rs`) or call `billing::send_due_mails`.
    config.billing.mail_worker = false;
    // Likewise PayFiP's reconciliation: `app/tests/payments.rs` calls `payments::reconcile`.
    config.payfip.worker = false;
    // And the retention job: `app/tests/privacy.rs` calls `privacy::retention` with its clock.
    config.retention.worker = false;
    config
}
