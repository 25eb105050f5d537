//! The database: where it is (the configured server or a private one), the pool, migrations and
//! readiness.

use std::sync::mpsc;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool};

use crate::platform::config::Config;
use crate::platform::pg;

pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// The database name inside the private cluster.
pub const EMBEDDED_DATABASE: &str = "cantine";

/// Keeps the private PostgreSQL alive while the application runs: restarts it if it dies (it
/// recovers committed data from its WAL) and stops it when dropped.
pub struct Embedded {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Embedded {
    /// Initialises the cluster on first use, starts it and creates the application's database.
    pub async fn start(config: &Config) -> anyhow::Result<(Self, PgConnectOptions)> {
        let cluster = embedded_cluster(config)?;
        let first = {
            let cluster = cluster.clone();
            tokio::task::spawn_blocking(move || -> Result<pg::Server, pg::PgError> {
                cluster.init_if_needed()?;
                cluster.start(false)
            })
            .await??
        };
        tracing::info!(data = %cluster.data_dir().display(), "private PostgreSQL started");
        create_database_if_missing(&cluster, EMBEDDED_DATABASE).await?;

        let (stop, stopped) = mpsc::channel::<()>();
        let supervised = cluster.clone();
        let thread = std::thread::Builder::new()
            .name("pg-supervisor".into())
            .spawn(move || supervise(supervised, first, stopped))?;
        Ok((
            Self {
                stop: Some(stop),
                thread: Some(thread),
            },
            cluster.connect_options(EMBEDDED_DATABASE),
        ))
    }
}

fn supervise(cluster: pg::Cluster, first: pg::Server, stopped: mpsc::Receiver<()>) {
    let mut server = Some(first);
    let mut backoff = Duration::from_millis(200);
    loop {
        match stopped.recv_timeout(Duration::from_millis(200)) {
            Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => {
                if let Some(server) = server.take() {
                    let _ = server.stop();
                }
                tracing::info!("private PostgreSQL stopped");
                return;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        let exited = match server.as_mut().map(|s| s.try_wait()) {
            Some(Ok(None)) => continue,
            Some(Ok(Some(status))) => format!("exited ({status})"),
            Some(Err(e)) => format!("cannot be watched ({e})"),
            None => "is not running".to_owned(),
        };
        tracing::error!("private PostgreSQL {exited}; restarting it");
        server = None;
        // After a SIGKILL its backends take a moment to notice; the new postmaster refuses to
        // start until they are gone, so retry with a growing pause.
        match cluster.start(false) {
            Ok(s) => {
                tracing::info!("private PostgreSQL restarted");
                server = Some(s);
                backoff = Duration::from_millis(200);
            }
            Err(e) => {
                tracing::warn!(error = %e, "restart failed; retrying");
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
    }
}

impl Drop for Embedded {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Where the private cluster lives and how it is tuned: one definition for `cantine serve` and
/// for the backup commands that find it while it runs or start it themselves.
pub fn embedded_cluster(config: &Config) -> Result<pg::Cluster, pg::PgError> {
    pg::Cluster::new(config.data_dir.join("pg"), pg::Tuning::default())
}

/// `CREATE DATABASE` and `DROP DATABASE` take no bound name: a name goes into their text only
/// once it is known to be a plain identifier.
pub fn check_database_name(name: &str) -> anyhow::Result<()> {
    if name.is_empty()
        || name.len() > 63
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        anyhow::bail!("unusable database name {name:?}: lowercase letters, digits and `_` only");
    }
    Ok(())
}

pub async fn database_exists(admin: &mut PgConnection, name: &str) -> anyhow::Result<bool> {
    Ok(sqlx::query_scalar!(
        r#"select exists(select 1 from pg_database where datname = $1) as "exists!""#,
        name
    )
    .fetch_one(admin)
    .await?)
}

/// `CREATE DATABASE` cannot run in a transaction, hence no `if not exists` race protection
/// beyond the check: the callers run at start, alone.
pub async fn create_database(admin: &mut PgConnection, name: &str) -> anyhow::Result<()> {
    check_database_name(name)?;
    sqlx::query(&format!("create database {name}"))
        .execute(admin)
        .await
        .map_err(|e| anyhow::anyhow!("cannot create database {name}: {e}"))?;
    Ok(())
}

pub async fn create_database_if_missing(cluster: &pg::Cluster, name: &str) -> anyhow::Result<()> {
    let mut admin = PgConnection::connect_with(&cluster.connect_options("postgres")).await?;
    if !database_exists(&mut admin, name).await? {
        create_database(&mut admin, name).await?;
    }
    admin.close().await?;
    Ok(())
}

/// Connection options for the configured server.
pub fn external_options(config: &Config) -> anyhow::Result<Option<PgConnectOptions>> {
    config
        .database
        .url
        .as_ref()
        .map(|url| url.expose().parse::<PgConnectOptions>().map_err(Into::into))
        .transpose()
}

/// A pool that connects lazily, so the service starts (and says it is not ready) even while the
/// database is down.
pub fn pool(options: PgConnectOptions, max_connections: u32) -> PgPool {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(3))
        .connect_lazy_with(options)
}

pub async fn migrate(pool: &PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    MIGRATOR.run(pool).await
}

/// Why the service cannot serve families yet.
#[derive(Debug, thiserror::Error)]
pub enum NotReady {
    #[error("database unreachable")]
    Unreachable(#[source] sqlx::Error),
    #[error("database schema at version {applied:?}, expected {expected}")]
    Behind { applied: Option<i64>, expected: i64 },
}

/// Ready means: the database answers and every migration this binary knows is applied.
pub async fn readiness(pool: &PgPool) -> Result<(), NotReady> {
    let expected = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
    let applied: Option<i64> =
        match sqlx::query_scalar!("select max(version) from _sqlx_migrations where success")
            .fetch_one(pool)
            .await
        {
            Ok(v) => v,
            // No bookkeeping table yet: reachable, but nothing is migrated.
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P01") => None,
            Err(e) => return Err(NotReady::Unreachable(e)),
        };
    if applied.is_some_and(|v| v >= expected) {
        Ok(())
    } else {
        Err(NotReady::Behind { applied, expected })
    }
}
