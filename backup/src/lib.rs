//! Encrypted, restic-format backups of a stream (the database dump) and a few small files
//! (the configuration), to local and REST repositories, through `rustic_core`.
//!
//! The crate knows nothing of PostgreSQL: it runs whatever command it is given (the app
//! gives it `pg_dump -Fc …`), keeps the output only if the command succeeded, and stores
//! it as `/cantine/db.dump`, the way `restic backup --stdin` would, so the standard
//! `restic` CLI can list, check and restore every snapshot.
//!
//! Every function here blocks (file and network I/O through blocking clients): call them
//! from a plain thread or `tokio::task::spawn_blocking`, never directly on an async
//! runtime.
//!
//! ```no_run
//! use std::process::Command;
//! use cantine_backup::{BackupRequest, Dump, SnapshotSelector, Target};
//!
//! let local = Target::new("local", "/srv/backup/restic", "/etc/cantine/secrets/restic");
//! let mut pg_dump = Command::new("pg_dump");
//! pg_dump.args(["-Fc", "cantine"]);
//! let dump = Dump::run(pg_dump, Some("/srv/backup".as_ref()))?;
//! let request = BackupRequest::new("mairie-cantine")
//!     .with_file("/etc/cantine/cantine.toml", "/cantine/config/cantine.toml");
//! let report = cantine_backup::backup_dump(&local, &dump, &request)?;
//! let mut out = std::io::stdout();
//! cantine_backup::restore_stream(&local, &SnapshotSelector::Latest, "/cantine/db.dump", &mut out)?;
//! # Ok::<(), cantine_backup::Error>(())
//! ```

mod backup;
mod check;
mod dump;
mod error;
mod repo;
mod restore;
mod retention;
mod target;

pub use backup::{
    BackupReport, BackupRequest, DEFAULT_STREAM_PATH, ExtraFile, backup_command, backup_dump,
};
pub use check::{CheckReport, ReadData, check};
pub use dump::Dump;
pub use error::{Error, Result};
pub use repo::{RepoInfo, init, open};
pub use restore::{
    RestoreReport, SnapshotInfo, SnapshotSelector, list_snapshots, restore_stream, restore_to_file,
};
pub use retention::{ForgetReport, KeepPolicy, forget_prune};
pub use target::{DEFAULT_REST_RETRIES, Location, Target};

/// Time types used in this API (snapshot times), re-exported so callers need not pin
/// the same `jiff` version.
pub use rustic_core::jiff;
