//! A private PostgreSQL server in a folder: the development default, and the test harness's
//! ephemeral clusters.
//!
//! The server runs under a small `sh` guard whose standard input is a pipe from us. When that
//! pipe closes, because we exited cleanly or were killed with SIGKILL, the guard asks PostgreSQL
//! for a fast shutdown. So a dead Cantine never leaves an orphan server holding the folder, and a
//! dead PostgreSQL is noticed by us as the guard's exit.

use std::ffi::CString;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::postgres::PgConnectOptions;

/// The role the private cluster is created with.
pub const SUPERUSER: &str = "cantine";

#[derive(Debug, thiserror::Error)]
pub enum PgError {
    #[error(
        "PostgreSQL server binaries (initdb, postgres) not found on PATH nor under /usr/lib/postgresql/*/bin; install the `postgresql` package (apt-get install postgresql) or set database.url"
    )]
    BinariesNotFound,
    #[error(
        "running as root, PostgreSQL must run as an unprivileged user, but there is no `postgres` user; install the `postgresql` package or run Cantine as a normal user"
    )]
    NoUnprivilegedUser,
    #[error(
        "the `postgres` user cannot reach {0}: make every parent folder traversable (chmod o+x) or choose another data_dir"
    )]
    Unreachable(PathBuf),
    #[error("{what} failed: {detail}")]
    Command { what: String, detail: String },
    #[error("PostgreSQL did not become ready within {0:?}; see {1}")]
    NotReady(Duration, PathBuf),
    #[error("{context}: {source}")]
    Io { context: String, source: io::Error },
}

fn io_err(context: impl Into<String>) -> impl FnOnce(io::Error) -> PgError {
    let context = context.into();
    move |source| PgError::Io { context, source }
}

/// Where the PostgreSQL server binaries are.
#[derive(Debug, Clone)]
pub struct Binaries {
    dir: PathBuf,
}

impl Binaries {
    /// PATH first (an operator's choice wins), then Debian's versioned folders, newest first.
    pub fn find() -> Result<Self, PgError> {
        let on_path = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
            .unwrap_or_default();
        let mut debian: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let version = e.file_name().to_str()?.parse::<u32>().ok()?;
                Some((version, e.path().join("bin")))
            })
            .collect();
        debian.sort_by_key(|(version, _)| std::cmp::Reverse(*version));
        on_path
            .into_iter()
            .chain(debian.into_iter().map(|(_, dir)| dir))
            // A PATH entry may hold symlinks to a few of the tools only (as /usr/local/bin does
            // on some hosts): follow them to the folder that has them all.
            .filter_map(|dir| {
                dir.join("initdb")
                    .canonicalize()
                    .ok()?
                    .parent()
                    .map(Path::to_owned)
            })
            .find(|dir| {
                ["initdb", "postgres", "pg_isready"]
                    .iter()
                    .all(|tool| dir.join(tool).is_file())
            })
            .map(|dir| Self { dir })
            .ok_or(PgError::BinariesNotFound)
    }

    pub fn path(&self, tool: &str) -> PathBuf {
        self.dir.join(tool)
    }
}

/// The identity PostgreSQL runs as: ourselves, or `postgres` when we are root.
#[derive(Debug, Clone, Copy)]
struct RunAs {
    uid: u32,
    gid: u32,
}

fn run_as() -> Result<Option<RunAs>, PgError> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(None);
    }
    let name = CString::new("postgres").expect("no NUL");
    // SAFETY: getpwnam returns a pointer into static storage or NULL; we copy out at once.
    let entry = unsafe { libc::getpwnam(name.as_ptr()) };
    if entry.is_null() {
        return Err(PgError::NoUnprivilegedUser);
    }
    // SAFETY: checked non-null above.
    let (uid, gid) = unsafe { ((*entry).pw_uid, (*entry).pw_gid) };
    Ok(Some(RunAs { uid, gid }))
}

/// Settings that differ between the long-lived development server and throwaway test clusters.
#[derive(Debug, Clone)]
pub struct Tuning {
    /// Tests turn durability off: a lost test cluster costs nothing.
    pub durable: bool,
    pub max_connections: u32,
}

impl Default for Tuning {
    fn default() -> Self {
        Self {
            durable: true,
            max_connections: 100,
        }
    }
}

/// A cluster folder: `data/` (PGDATA), `run/` (the Unix socket) and `postgres.log`.
#[derive(Debug, Clone)]
pub struct Cluster {
    root: PathBuf,
    binaries: Binaries,
    run_as: Option<RunAs>,
    tuning: Tuning,
}

impl Cluster {
    pub fn new(root: impl Into<PathBuf>, tuning: Tuning) -> Result<Self, PgError> {
        let root = std::path::absolute(root.into()).map_err(io_err("current directory"))?;
        Ok(Self {
            root,
            binaries: Binaries::find()?,
            run_as: run_as()?,
            tuning,
        })
    }

    pub fn data_dir(&self) -> PathBuf {
        self.root.join("data")
    }

    pub fn socket_dir(&self) -> PathBuf {
        self.root.join("run")
    }

    pub fn log_file(&self) -> PathBuf {
        self.root.join("postgres.log")
    }

    pub fn binaries(&self) -> &Binaries {
        &self.binaries
    }

    /// Connection options for a database of this cluster, over its Unix socket.
    pub fn connect_options(&self, database: &str) -> PgConnectOptions {
        PgConnectOptions::new()
            .socket(self.socket_dir())
            .username(SUPERUSER)
            .database(database)
    }

    /// A libpq connection string, for `pg_dump`, `psql` and the like.
    pub fn conninfo(&self, database: &str) -> String {
        format!(
            "host={} user={SUPERUSER} dbname={database}",
            self.socket_dir().display()
        )
    }

    fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(&self.root).env("LC_ALL", "C.UTF-8");
        if let Some(who) = self.run_as {
            cmd.uid(who.uid).gid(who.gid);
        }
        cmd
    }

    /// Creates the folders and runs `initdb` unless the cluster already exists.
    pub fn init_if_needed(&self) -> Result<(), PgError> {
        for dir in [self.root.clone(), self.socket_dir()] {
            std::fs::create_dir_all(&dir).map_err(io_err(format!("creating {}", dir.display())))?;
            self.give(&dir)?;
        }
        if self.data_dir().join("PG_VERSION").exists() {
            return Ok(());
        }
        // `test -w` as the server's user fails when any parent folder is not traversable for it.
        let reachable = self
            .command("test")
            .current_dir("/")
            .arg("-w")
            .arg(&self.root)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !reachable {
            return Err(PgError::Unreachable(self.root.clone()));
        }
        // A half-finished initdb (killed mid-way) leaves a folder initdb refuses to reuse.
        let _ = std::fs::remove_dir_all(self.data_dir());
        let output = self
            .command(self.binaries.path("initdb"))
            .arg("-D")
            .arg(self.data_dir())
            .args([
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-instructions",
            ])
            .args(if self.tuning.durable {
                &[][..]
            } else {
                &["--no-sync"][..]
            })
            .output()
            .map_err(io_err("running initdb"))?;
        if !output.status.success() {
            return Err(PgError::Command {
                what: "initdb".into(),
                detail: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
            });
        }
        Ok(())
    }

    fn give(&self, path: &Path) -> Result<(), PgError> {
        if let Some(who) = self.run_as {
            let meta = std::fs::metadata(path).map_err(io_err(path.display().to_string()))?;
            if meta.uid() != who.uid {
                std::os::unix::fs::chown(path, Some(who.uid), Some(who.gid))
                    .map_err(io_err(format!("giving {} to postgres", path.display())))?;
            }
        }
        Ok(())
    }

    /// Starts the server under its guard and waits until it accepts connections.
    ///
    /// With `remove_when_done`, the guard deletes the whole cluster folder after the server
    /// stops: the test harness's clusters vanish with the test binary.
    pub fn start(&self, remove_when_done: bool) -> Result<Server, PgError> {
        const GUARD: &str = r#"
pg=$1; data=$2; sock=$3; log=$4; remove=$5; shift 5
exec 3<&0
"$pg" -D "$data" -k "$sock" "$@" </dev/null 3<&- >>"$log" 2>&1 &
pid=$!
{ cat >/dev/null; kill -INT "$pid" 2>/dev/null; } <&3 &
wait "$pid"; status=$?
if [ -n "$remove" ]; then rm -rf "$remove"; fi
exit "$status"
"#;
        let mut settings = vec![
            "-c".to_owned(),
            "listen_addresses=".to_owned(),
            "-c".to_owned(),
            "unix_socket_permissions=0700".to_owned(),
            "-c".to_owned(),
            format!("max_connections={}", self.tuning.max_connections),
        ];
        if !self.tuning.durable {
            for setting in [
                "fsync=off",
                "synchronous_commit=off",
                "full_page_writes=off",
            ] {
                settings.push("-c".into());
                settings.push(setting.into());
            }
        }
        let remove = if remove_when_done {
            self.root.display().to_string()
        } else {
            String::new()
        };
        let child = self
            .command("sh")
            .arg("-c")
            .arg(GUARD)
            .arg("cantine-pg-guard")
            .arg(self.binaries.path("postgres"))
            .arg(self.data_dir())
            .arg(self.socket_dir())
            .arg(self.log_file())
            .arg(remove)
            .args(settings)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(io_err("starting postgres"))?;
        let mut server = Server {
            child,
            cluster: self.clone(),
        };
        server.wait_ready(Duration::from_secs(60))?;
        Ok(server)
    }
}

/// A running server. Dropping it stops the server (fast shutdown) and waits for it.
#[derive(Debug)]
pub struct Server {
    child: Child,
    cluster: Cluster,
}

impl Server {
    pub fn cluster(&self) -> &Cluster {
        &self.cluster
    }

    fn wait_ready(&mut self, limit: Duration) -> Result<(), PgError> {
        let started = Instant::now();
        let mut pause = Duration::from_millis(20);
        loop {
            if let Some(status) = self
                .child
                .try_wait()
                .map_err(io_err("waiting for postgres"))?
            {
                return Err(PgError::Command {
                    what: "postgres".into(),
                    detail: format!(
                        "exited with {status}; see {}",
                        self.cluster.log_file().display()
                    ),
                });
            }
            let ready = Command::new(self.cluster.binaries.path("pg_isready"))
                .arg("-q")
                .arg("-h")
                .arg(self.cluster.socket_dir())
                .args(["-U", SUPERUSER, "-d", "postgres"])
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            if ready {
                return Ok(());
            }
            if started.elapsed() > limit {
                return Err(PgError::NotReady(limit, self.cluster.log_file()));
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(250));
        }
    }

    /// `Some` once the server has exited, for whatever reason.
    pub fn try_wait(&mut self) -> io::Result<Option<std::process::ExitStatus>> {
        self.child.try_wait()
    }

    /// The process id of the guard (not of `postgres` itself).
    pub fn guard_pid(&self) -> u32 {
        self.child.id()
    }

    /// Fast shutdown: active transactions are rolled back, committed data stays.
    pub fn stop(mut self) -> io::Result<()> {
        self.stop_in_place()
    }

    fn stop_in_place(&mut self) -> io::Result<()> {
        drop(self.child.stdin.take());
        self.child.wait().map(|_| ())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.stop_in_place();
    }
}
