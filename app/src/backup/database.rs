//! The database side of backups: where the server is, the client programs that dump and
//! restore it, and the few administrative statements (create, rename, drop) a restore needs.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};
use secrecy::{ExposeSecret, SecretString};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool};
use url::Url;

use crate::platform::config::Config;
use crate::platform::pg;

/// The client programs. Public so tests can point `pg_dump` at a wrapper (one that kills
/// itself midway, say).
#[derive(Debug, Clone)]
pub struct Tools {
    pub pg_dump: PathBuf,
    pub pg_restore: PathBuf,
}

impl Tools {
    /// The programs of a PostgreSQL installation's `bin` folder.
    pub fn of(binaries: &pg::Binaries) -> Self {
        Self {
            pg_dump: binaries.path("pg_dump"),
            pg_restore: binaries.path("pg_restore"),
        }
    }

    /// The server installation's own programs when found (`pg_dump` must not be older
    /// than the server), else whatever `PATH` offers.
    pub fn find() -> Self {
        match pg::Binaries::find() {
            Ok(binaries) => Self::of(&binaries),
            Err(_) => Self {
                pg_dump: "pg_dump".into(),
                pg_restore: "pg_restore".into(),
            },
        }
    }
}

#[derive(Clone)]
enum Server {
    /// The configured server; the password, if any, reaches the programs through
    /// `PGPASSWORD`, never their command line.
    Url {
        url: Url,
        password: Option<SecretString>,
    },
    /// A private cluster, over its Unix socket.
    Cluster(pg::Cluster),
}

/// A database server and the name of Cantine's database on it.
#[derive(Clone)]
pub struct Database {
    server: Server,
    /// The application's database (`cantine`).
    pub name: String,
    pub tools: Tools,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let server = match &self.server {
            Server::Url { url, .. } => url.to_string(),
            Server::Cluster(cluster) => cluster.socket_dir().display().to_string(),
        };
        f.debug_struct("Database")
            .field("server", &server)
            .field("name", &self.name)
            .finish()
    }
}

/// A PostgreSQL identifier we generate or configure: refuse anything needing quotes.
pub use crate::platform::db::check_database_name as check_name;

impl Database {
    /// A database of a private cluster (the embedded server, the test harness's).
    pub fn in_cluster(cluster: &pg::Cluster, name: &str) -> Self {
        Self {
            tools: Tools::of(cluster.binaries()),
            server: Server::Cluster(cluster.clone()),
            name: name.to_owned(),
        }
    }

    /// The configured server, from its `postgresql://` URL.
    pub fn from_url(text: &str) -> anyhow::Result<Self> {
        let mut url = Url::parse(text).context("database.url")?;
        let password = url
            .password()
            .map(|p| SecretString::from(percent_decode(p).unwrap_or_else(|| p.to_owned())));
        let _ = url.set_password(None);
        let name = url.path().trim_start_matches('/').to_owned();
        let name = if name.is_empty() {
            url.username().to_owned()
        } else {
            name
        };
        Ok(Self {
            server: Server::Url { url, password },
            name,
            tools: Tools::find(),
        })
    }

    /// Options for sqlx, to database `db` of the same server.
    pub fn options(&self, db: &str) -> anyhow::Result<PgConnectOptions> {
        Ok(match &self.server {
            Server::Cluster(cluster) => cluster.connect_options(db),
            Server::Url { url, password } => {
                let mut options: PgConnectOptions = url.as_str().parse()?;
                if let Some(password) = password {
                    options = options.password(password.expose_secret());
                }
                options.database(db)
            }
        })
    }

    /// A libpq connection string for the client programs.
    fn conninfo(&self, db: &str) -> String {
        match &self.server {
            Server::Cluster(cluster) => cluster.conninfo(db),
            Server::Url { url, .. } => {
                let mut url = url.clone();
                url.set_path(db);
                url.to_string()
            }
        }
    }

    /// `program` aimed at database `db`: `--dbname=…` and the password in the environment.
    fn client(&self, program: &Path, db: &str) -> Command {
        let mut command = Command::new(program);
        command
            .arg(format!("--dbname={}", self.conninfo(db)))
            .env("LC_ALL", "C.UTF-8")
            .env_remove("PGPASSWORD");
        if let Server::Url {
            password: Some(password),
            ..
        } = &self.server
        {
            command.env("PGPASSWORD", password.expose_secret());
        }
        command
    }

    /// `pg_dump -Fc` of the application's database: one consistent snapshot (a single
    /// repeatable-read transaction), compressed, restorable by `pg_restore`.
    pub fn dump_command(&self) -> Command {
        let mut command = self.client(&self.tools.pg_dump, &self.name);
        command.arg("--format=custom");
        command
    }

    /// A plain-SQL dump of `db`, for comparisons.
    pub fn plain_dump_command(&self, db: &str) -> Command {
        let mut command = self.client(&self.tools.pg_dump, db);
        command.args(["--format=plain", "--no-owner"]);
        command
    }

    /// `pg_restore` of a custom-format dump into the (empty) database `db`. Objects are
    /// owned by the restoring role (`--no-owner`), so a dump of the embedded server
    /// restores on the appliance's server and back. Stops at the first error.
    pub async fn pg_restore(&self, dump: &Path, db: &str) -> anyhow::Result<()> {
        let mut command = self.client(&self.tools.pg_restore, db);
        command
            .args([
                "--no-owner",
                "--no-acl",
                "--exit-on-error",
                "--single-transaction",
            ])
            .arg(dump)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let output = tokio::process::Command::from(command)
            .output()
            .await
            .with_context(|| format!("cannot run {}", self.tools.pg_restore.display()))?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let tail: Vec<&str> = stderr.lines().rev().take(8).collect();
            bail!(
                "pg_restore into {db} failed ({}): {}",
                output.status,
                tail.into_iter().rev().collect::<Vec<_>>().join(" / ")
            );
        }
        Ok(())
    }

    /// A connection to the server's maintenance database, where databases are created,
    /// renamed and dropped.
    pub async fn admin(&self) -> anyhow::Result<PgConnection> {
        PgConnection::connect_with(&self.options("postgres")?)
            .await
            .context("cannot connect to the database server's `postgres` database")
    }

    pub async fn pool(&self, db: &str) -> anyhow::Result<PgPool> {
        PgPoolOptions::new()
            .max_connections(2)
            .connect_with(self.options(db)?)
            .await
            .with_context(|| format!("cannot connect to database {db}"))
    }

    pub async fn exists(&self, admin: &mut PgConnection, db: &str) -> anyhow::Result<bool> {
        crate::platform::db::database_exists(admin, db).await
    }

    pub async fn create(&self, admin: &mut PgConnection, db: &str) -> anyhow::Result<()> {
        crate::platform::db::create_database(admin, db).await
    }

    pub async fn drop_database(&self, admin: &mut PgConnection, db: &str) -> anyhow::Result<()> {
        check_name(db)?;
        sqlx::query(&format!("drop database if exists {db}"))
            .execute(admin)
            .await
            .with_context(|| format!("cannot drop database {db}"))?;
        Ok(())
    }

    /// Other sessions on `db` (our admin connection is on `postgres`).
    pub async fn sessions(&self, admin: &mut PgConnection, db: &str) -> anyhow::Result<i64> {
        Ok(
            sqlx::query_scalar("select count(*) from pg_stat_activity where datname = $1")
                .bind(db)
                .fetch_one(admin)
                .await?,
        )
    }

    /// `current` → `previous` (when it exists) and `restored` → `current`, in one
    /// transaction: either both names change or neither.
    pub async fn swap(
        &self,
        admin: &mut PgConnection,
        restored: &str,
        previous: &str,
    ) -> anyhow::Result<bool> {
        for name in [restored, previous, self.name.as_str()] {
            check_name(name)?;
        }
        let had_current = self.exists(admin, &self.name).await?;
        let mut tx = admin.begin().await?;
        if had_current {
            sqlx::query(&format!(
                "alter database {} rename to {previous}",
                self.name
            ))
            .execute(&mut *tx)
            .await
            .with_context(|| format!("cannot rename database {} to {previous}", self.name))?;
        }
        sqlx::query(&format!(
            "alter database {restored} rename to {}",
            self.name
        ))
        .execute(&mut *tx)
        .await
        .with_context(|| format!("cannot rename database {restored} to {}", self.name))?;
        tx.commit().await?;
        Ok(had_current)
    }
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Where the application's database is, without connecting or starting anything (for
/// commands that only read repositories); the private cluster, if that is where.
pub fn locate(config: &Config) -> anyhow::Result<(Database, Option<pg::Cluster>)> {
    if let Some(url) = &config.database.url {
        return Ok((Database::from_url(url.expose())?, None));
    }
    let cluster = crate::platform::db::embedded_cluster(config)?;
    Ok((
        Database::in_cluster(&cluster, crate::platform::db::EMBEDDED_DATABASE),
        Some(cluster),
    ))
}

/// The application's database as the configuration says: the configured server, or the
/// private cluster under `data_dir`. For the private cluster, a server already running
/// (`cantine serve`) is used as it is; otherwise one is started for the duration of the
/// command and stopped when the returned guard drops.
pub async fn connect(config: &Config) -> anyhow::Result<(Database, Option<pg::Server>)> {
    let (database, cluster) = locate(config)?;
    let Some(cluster) = cluster else {
        return Ok((database, None));
    };
    let live = Command::new(cluster.binaries().path("pg_isready"))
        .arg("-q")
        .arg("-h")
        .arg(cluster.socket_dir())
        .args(["-U", pg::SUPERUSER, "-d", "postgres"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if live {
        tracing::info!(socket = %cluster.socket_dir().display(), "using the running private PostgreSQL");
        return Ok((database, None));
    }
    let server = tokio::task::spawn_blocking(move || -> Result<pg::Server, pg::PgError> {
        cluster.init_if_needed()?;
        cluster.start(false)
    })
    .await??;
    tracing::info!("private PostgreSQL started for this command");
    Ok((database, Some(server)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_gives_name_and_password_apart() {
        let db =
            Database::from_url("postgresql://cantine:p%40ss@%2Frun%2Fpostgresql/cantine").unwrap();
        assert_eq!(db.name, "cantine");
        assert_eq!(
            db.conninfo("cantine_drill"),
            "postgresql://cantine@%2Frun%2Fpostgresql/cantine_drill"
        );
        let Server::Url { password, .. } = &db.server else {
            panic!("a URL server")
        };
        assert_eq!(password.as_ref().unwrap().expose_secret(), "p@ss");
        assert!(!format!("{db:?}").contains("p@ss"));
    }

    #[test]
    fn only_plain_names_are_accepted() {
        check_name("cantine_previous_20261128230000").unwrap();
        for bad in ["", "Cantine", "a;drop", "a-b", &"x".repeat(64)] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }
}
