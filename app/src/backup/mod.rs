//! Backups of the application: `cantine backup now|list|check|restore|drill|confirm-restore`.
//!
//! The repositories, encryption and the "never a bad snapshot" rules are the
//! `cantine-backup` crate's; this module brings the database (`pg_dump`, `pg_restore`,
//! renaming databases), the schedule's lock, the per-target results the metrics read, and
//! the restore drill's integrity checks. Every `cantine_backup` call blocks and runs in
//! `spawn_blocking`.

pub mod cli;
pub mod database;
pub mod drill;
pub mod escrow;
pub mod lock;
pub mod state;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use cantine_backup::{
    BackupRequest, DEFAULT_STREAM_PATH, Dump, ReadData, SnapshotInfo, SnapshotSelector, Target,
};

use crate::platform::config::BackupConfig;
pub use database::{Database, Tools};
use lock::{FileLock, LockError};
use state::{TargetState, now_unix, record};

/// Held by `cantine backup now` (and waited for by `check`): two runs never overlap, and
/// retention never prunes under a check.
pub const BACKUP_LOCK: &str = "backup.lock";
/// Held by `cantine serve` for its lifetime: a restore refuses to swap databases under it.
pub const SERVE_LOCK: &str = "serve.lock";
/// Where the configuration file goes in a snapshot; its drop-ins go in the folder of the same
/// name with `.d` added, by their own names.
pub const CONFIG_SNAPSHOT_PATH: &str = "/cantine/config/cantine.toml";

/// Everything a backup command needs.
#[derive(Debug, Clone)]
pub struct Backups {
    pub settings: BackupConfig,
    pub data_dir: PathBuf,
    pub database: Database,
    /// The configuration files read ([`crate::platform::config::Config::files`]: the main file, then
    /// its drop-ins), stored beside the dump (not the secrets they point to).
    pub config_files: Vec<PathBuf>,
}

/// Which repositories a command acts on.
#[derive(Debug, Clone)]
pub enum Targets {
    /// The configured ones (all, or the one named by `--target`); results are recorded
    /// for the metrics.
    Configured(Vec<Target>),
    /// One repository outside the configuration (`--repo`); nothing is recorded.
    AdHoc(Target),
}

impl Targets {
    pub fn list(&self) -> &[Target] {
        match self {
            Self::Configured(targets) => targets,
            Self::AdHoc(target) => std::slice::from_ref(target),
        }
    }

    fn recorded(&self) -> bool {
        matches!(self, Self::Configured(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificates_go_in_the_snapshot_but_not_a_file_being_written() {
        let data = tempfile::tempdir().unwrap();
        assert!(certificate_snapshot_paths(data.path()).is_empty());
        let dir = data.path().join("certificates");
        std::fs::create_dir(&dir).unwrap();
        let key = "0b6f3a52-8c1e-4c5f-9a57-6f0d2f5f1c3e";
        std::fs::write(dir.join(key), b"%PDF-").unwrap();
        std::fs::write(dir.join(format!(".{key}.tmp")), b"%PD").unwrap();
        let paths = certificate_snapshot_paths(data.path());
        assert_eq!(
            paths,
            [(dir.join(key), format!("/cantine/certificates/{key}"))]
        );
    }

    #[test]
    fn leftovers_are_recognised_by_the_time_in_their_name() {
        let cutoff = "20261127120000000";
        let prefix = "cantine_drill_";
        assert!(is_stale(
            "cantine_drill_20261126235959999_0",
            prefix,
            cutoff
        ));
        assert!(!is_stale(
            "cantine_drill_20261128000000000_1",
            prefix,
            cutoff
        ));
        assert!(!is_stale("cantine_drill_2026_0", prefix, cutoff));
        assert!(!is_stale(
            "cantine_drill_x0261126235959999_0",
            prefix,
            cutoff
        ));
        assert!(!is_stale(
            "cantine_previous_20261126235959999",
            prefix,
            cutoff
        ));
    }

    #[test]
    fn only_root_on_a_service_users_folder_acts_for_that_user() {
        assert_eq!(owner_if_other(0, 998, 997), Some((998, 997)));
        assert_eq!(owner_if_other(0, 0, 0), None);
        assert_eq!(owner_if_other(998, 998, 997), None);
    }
}

#[derive(Debug, thiserror::Error)]
#[error("another backup is running ({0} is locked); this run does nothing")]
pub struct AlreadyRunning(pub PathBuf);

/// One target's result of `backup now`.
#[derive(Debug)]
pub struct TargetOutcome {
    pub target: String,
    pub result: anyhow::Result<cantine_backup::BackupReport>,
}

#[derive(Debug)]
pub struct NowReport {
    pub dump_bytes: u64,
    pub dump_duration: Duration,
    pub outcomes: Vec<TargetOutcome>,
}

impl NowReport {
    pub fn failures(&self) -> usize {
        self.outcomes.iter().filter(|o| o.result.is_err()).count()
    }
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> anyhow::Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| anyhow!("backup task failed: {e}"))
}

/// UTC time to the millisecond, for the names of restored, previous and scratch databases:
/// two restores in the same second must not collide.
fn utc_stamp() -> String {
    chrono::Utc::now().format(STAMP).to_string()
}

const STAMP: &str = "%Y%m%d%H%M%S%3f";

/// Whether `name` is `<prefix><stamp>…` with a stamp before `cutoff` (same format, so
/// the strings compare as the times do).
fn is_stale(name: &str, prefix: &str, cutoff: &str) -> bool {
    name.strip_prefix(prefix)
        .and_then(|rest| rest.get(..cutoff.len()))
        .is_some_and(|stamp| stamp.bytes().all(|b| b.is_ascii_digit()) && stamp < cutoff)
}

impl Backups {
    pub fn from_config(config: &crate::platform::config::Config, database: Database) -> Self {
        Self {
            settings: config.backup.clone(),
            data_dir: config.data_dir.clone(),
            database,
            config_files: config.files.clone(),
        }
    }

    /// The configured targets, or the one named.
    pub fn configured(&self, name: Option<&str>) -> anyhow::Result<Targets> {
        let targets = match name {
            None => self.settings.targets.clone(),
            Some(name) => vec![
                self.settings
                    .targets
                    .iter()
                    .find(|t| t.name == name)
                    .cloned()
                    .ok_or_else(|| {
                        anyhow!("no backup target named `{name}` in the configuration")
                    })?,
            ],
        };
        anyhow::ensure!(
            !targets.is_empty(),
            "no backup target configured ([[backup.targets]]); use --repo and --password-file for a one-off repository"
        );
        Ok(Targets::Configured(targets))
    }

    fn lock_path(&self) -> PathBuf {
        self.data_dir.join(BACKUP_LOCK)
    }

    async fn temp_dir(&self) -> anyhow::Result<PathBuf> {
        let dir = self.settings.temp_dir.clone();
        tokio::fs::create_dir_all(&dir)
            .await
            .with_context(|| format!("cannot create backup.temp_dir {}", dir.display()))?;
        // Created by root (an operator's restore), it would lock the service user out of
        // its own temporary folder at the next hourly backup.
        if let Some((uid, gid)) = service_owner(&self.data_dir) {
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid))
                .with_context(|| format!("cannot give {} to the service user", dir.display()))?;
        }
        Ok(dir)
    }

    /// Records `change` in the state file for the named targets, off the runtime; runs on
    /// one-off repositories (`--repo`) are not recorded.
    async fn record(
        &self,
        targets: &Targets,
        names: Vec<String>,
        change: impl Fn(&mut TargetState) + Send + 'static,
    ) {
        if !targets.recorded() {
            return;
        }
        let data_dir = self.data_dir.clone();
        let _ = blocking(move || {
            for name in names {
                record(&data_dir, &name, &change);
            }
        })
        .await;
    }

    /// `cantine backup now`: one dump, sent to every target, then retention where the
    /// appliance may delete. Refuses at once when another run holds the lock.
    pub async fn now(&self, targets: &Targets) -> anyhow::Result<NowReport> {
        let lock = match FileLock::try_acquire(&self.lock_path()) {
            Ok(lock) => lock,
            Err(LockError::Busy(path)) => return Err(AlreadyRunning(path).into()),
            Err(e) => return Err(e.into()),
        };
        let dumped = async {
            let temp_dir = self.temp_dir().await?;
            let command = self.database.dump_command();
            Ok::<_, anyhow::Error>(blocking(move || Dump::run(command, Some(&temp_dir))).await??)
        }
        .await;
        let dump = match dumped {
            Ok(dump) => dump,
            Err(e) => {
                // Whatever stopped the dump (pg_dump failed or killed, no room for the
                // temporary file), every target missed this run: the alert metric says so.
                let message = format!("{e:#}");
                tracing::error!(error = %message, "database dump failed: no snapshot made");
                let failed = now_unix();
                let names = targets.list().iter().map(|t| t.name.clone()).collect();
                self.record(targets, names, move |s| {
                    s.last_failure = Some(failed);
                    s.last_run_success = Some(false);
                    s.last_error = Some(format!("dump: {message}"));
                })
                .await;
                return Err(e.context("database dump failed; no snapshot made"));
            }
        };
        let dump = std::sync::Arc::new(dump);
        let (dump_bytes, dump_duration) = (dump.len(), dump.duration());
        tracing::info!(
            bytes = dump_bytes,
            seconds = dump_duration.as_secs_f64(),
            "database dumped"
        );
        let mut request = BackupRequest::new(self.settings.host.clone());
        for (file, snapshot_path) in config_snapshot_paths(&self.config_files) {
            if file.is_file() {
                request = request.with_file(file, snapshot_path);
            }
        }
        // The absences' certificates are files, not rows: the database names them.
        for (file, snapshot_path) in certificate_snapshot_paths(&self.data_dir) {
            request = request.with_file(file, snapshot_path);
        }
        let mut outcomes = Vec::new();
        for target in targets.list() {
            let (t, d, r, keep) = (
                target.clone(),
                dump.clone(),
                request.clone(),
                self.settings.keep,
            );
            let target_started = Instant::now();
            let result = blocking(move || -> anyhow::Result<_> {
                let report = cantine_backup::backup_dump(&t, &d, &r)?;
                let retention = if t.append_only {
                    Ok(())
                } else {
                    cantine_backup::forget_prune(&t, &keep)
                        .map(|forget| {
                            tracing::info!(target = %t.name, kept = forget.kept.len(), forgotten = forget.forgotten.len(), "retention applied");
                        })
                        .map_err(anyhow::Error::from)
                };
                Ok((report, retention))
            })
            .await
            .and_then(|r| r);
            let finished = now_unix();
            // This target's run: the shared dump, then its own upload and retention.
            let elapsed = (dump_duration + target_started.elapsed()).as_secs_f64();
            let outcome = match result {
                Ok((report, retention)) => {
                    tracing::info!(target = %target.name, snapshot = %report.snapshot_id, added = report.data_added_packed, "snapshot saved");
                    let snapshot = report.snapshot_id.clone();
                    let retention_error = retention
                        .as_ref()
                        .err()
                        .map(|e| format!("retention: {e:#}"));
                    self.record(targets, vec![target.name.clone()], move |s| {
                        s.last_success = Some(finished);
                        s.last_duration_seconds = Some(elapsed);
                        s.last_size_bytes = Some(dump_bytes);
                        s.last_snapshot = Some(snapshot.clone());
                        s.last_run_success = Some(retention_error.is_none());
                        if retention_error.is_some() {
                            s.last_failure = Some(finished);
                        }
                        s.last_error = retention_error.clone();
                    })
                    .await;
                    match retention {
                        Ok(()) => Ok(report),
                        Err(e) => Err(e.context(format!(
                            "snapshot {} saved on `{}` but retention failed",
                            report.snapshot_id, target.name
                        ))),
                    }
                }
                Err(e) => {
                    tracing::error!(target = %target.name, error = %format!("{e:#}"), "backup failed");
                    let message = format!("{e:#}");
                    self.record(targets, vec![target.name.clone()], move |s| {
                        s.last_failure = Some(finished);
                        s.last_run_success = Some(false);
                        s.last_error = Some(message.clone());
                    })
                    .await;
                    Err(e)
                }
            };
            outcomes.push(TargetOutcome {
                target: target.name.clone(),
                result: outcome,
            });
        }
        drop(lock);
        Ok(NowReport {
            dump_bytes,
            dump_duration,
            outcomes,
        })
    }

    /// `cantine backup list`.
    pub async fn list(&self, target: &Target) -> anyhow::Result<Vec<SnapshotInfo>> {
        let target = target.clone();
        Ok(blocking(move || cantine_backup::list_snapshots(&target)).await??)
    }

    /// `cantine backup check`: structure, plus today's share of the data (every pack is
    /// read once a month), or all of it.
    pub async fn check(
        &self,
        targets: &Targets,
        read_all: bool,
    ) -> anyhow::Result<Vec<(String, anyhow::Result<cantine_backup::CheckReport>)>> {
        let path = self.lock_path();
        let _lock = blocking(move || FileLock::wait(&path)).await??;
        let read_data = if read_all {
            ReadData::All
        } else {
            ReadData::daily_rotation_today()
        };
        let mut results = Vec::new();
        for target in targets.list() {
            let t = target.clone();
            let result = blocking(move || cantine_backup::check(&t, read_data))
                .await
                .and_then(|r| r.map_err(anyhow::Error::from));
            let ok = matches!(&result, Ok(report) if report.is_ok());
            let error = match &result {
                Ok(report) if !report.is_ok() => Some(report.errors.join("; ")),
                Ok(_) => None,
                Err(e) => Some(format!("{e:#}")),
            };
            let finished = now_unix();
            self.record(targets, vec![target.name.clone()], move |s| {
                s.check_last_run_success = Some(ok);
                if ok {
                    s.check_last_success = Some(finished);
                }
                s.check_last_error = error.clone();
            })
            .await;
            results.push((target.name.clone(), result));
        }
        Ok(results)
    }

    /// Fetches the dump of a snapshot into a temporary file.
    async fn fetch(
        &self,
        target: &Target,
        selector: &SnapshotSelector,
    ) -> anyhow::Result<(tempfile::TempPath, cantine_backup::RestoreReport)> {
        let dir = self.temp_dir().await?;
        let path = tempfile::Builder::new()
            .prefix(".cantine-restore-")
            .tempfile_in(&dir)?
            .into_temp_path();
        let (t, s, dest) = (target.clone(), selector.clone(), path.to_path_buf());
        let report =
            blocking(move || cantine_backup::restore_to_file(&t, &s, DEFAULT_STREAM_PATH, &dest))
                .await??;
        Ok((path, report))
    }

    /// Restores a snapshot into a new database `db` (dropped again if anything fails)
    /// and migrates it forward.
    pub async fn restore_into(
        &self,
        target: &Target,
        selector: &SnapshotSelector,
        db: &str,
    ) -> anyhow::Result<Restored> {
        let (dump, report) = self.fetch(target, selector).await?;
        tracing::info!(target = %target.name, snapshot = %report.snapshot_id, bytes = report.bytes, seconds = report.duration.as_secs_f64(), "dump read from the repository");
        let mut admin = self.database.admin().await?;
        self.database.create(&mut admin, db).await?;
        let filled = async {
            let started = Instant::now();
            self.database.pg_restore(&dump, db).await?;
            tracing::info!(
                database = db,
                seconds = started.elapsed().as_secs_f64(),
                "pg_restore done"
            );
            let pool = self.database.pool(db).await?;
            let migrated = async {
                let version = schema_version(&pool).await?;
                crate::platform::db::migrate(&pool)
                    .await
                    .context("migrating the restored database forward")?;
                anyhow::Ok(version)
            }
            .await;
            pool.close().await;
            migrated
        }
        .await;
        match filled {
            Ok(snapshot_schema) => Ok(Restored {
                snapshot: report,
                snapshot_schema,
            }),
            Err(e) => {
                let _ = self.database.drop_database(&mut admin, db).await;
                Err(e)
            }
        }
    }

    /// `cantine backup restore`: a fresh database from the snapshot, migrated, then
    /// swapped in under the configured name; the current one is kept as
    /// `<name>_previous_<UTC time>` until `confirm-restore`. The caller stops the service
    /// first (see [`cli`]); the serve lock is checked here.
    pub async fn restore(
        &self,
        target: &Target,
        selector: &SnapshotSelector,
    ) -> anyhow::Result<RestoreOutcome> {
        let path = self.lock_path();
        let _backup_lock = match FileLock::try_acquire(&path) {
            Ok(lock) => lock,
            Err(LockError::Busy(path)) => return Err(AlreadyRunning(path).into()),
            Err(e) => return Err(e.into()),
        };
        let _serve_lock = match FileLock::try_acquire(&self.data_dir.join(SERVE_LOCK)) {
            Ok(lock) => lock,
            Err(LockError::Busy(_)) => anyhow::bail!(
                "`cantine serve` is running: stop it first (systemctl stop cantine.service)"
            ),
            Err(e) => return Err(e.into()),
        };
        self.drop_leftovers("restore").await;
        let stamp = utc_stamp();
        let restored = format!("{}_restore_{stamp}", self.database.name);
        let previous = format!("{}_previous_{stamp}", self.database.name);
        database::check_name(&previous)?;
        let report = self
            .restore_into(target, selector, &restored)
            .await?
            .snapshot;
        let mut admin = self.database.admin().await?;
        let sessions = self
            .database
            .sessions(&mut admin, &self.database.name)
            .await?;
        if sessions > 0 {
            let _ = self.database.drop_database(&mut admin, &restored).await;
            anyhow::bail!(
                "{sessions} session(s) still use database {}: stop what uses it, then restore again",
                self.database.name
            );
        }
        let had_current = self.database.swap(&mut admin, &restored, &previous).await;
        let had_current = match had_current {
            Ok(had) => had,
            Err(e) => {
                let _ = self.database.drop_database(&mut admin, &restored).await;
                return Err(e);
            }
        };
        Ok(RestoreOutcome {
            snapshot: report,
            previous: had_current.then_some(previous),
        })
    }

    /// Drops `<name>_<kind>_<stamp>…` databases over a day old: the scratch databases of
    /// a drill or restore that was killed before it could clean up.
    pub(crate) async fn drop_leftovers(&self, kind: &str) {
        let prefix = format!("{}_{kind}_", self.database.name);
        let cutoff = (chrono::Utc::now() - chrono::Duration::hours(24))
            .format(STAMP)
            .to_string();
        let dropped = async {
            let mut admin = self.database.admin().await?;
            let names: Vec<String> = sqlx::query_scalar(
                "select datname from pg_database where starts_with(datname, $1)",
            )
            .bind(&prefix)
            .fetch_all(&mut admin)
            .await?;
            for name in names.iter().filter(|n| is_stale(n, &prefix, &cutoff)) {
                tracing::warn!(database = %name, "dropping a leftover of an interrupted {kind}");
                self.database.drop_database(&mut admin, name).await?;
            }
            anyhow::Ok(())
        }
        .await;
        if let Err(e) = dropped {
            tracing::warn!(error = %format!("{e:#}"), "cannot drop leftover {kind} databases");
        }
    }

    /// A run of every configured target that died before recording its result (killed,
    /// timed out): marked failed, so `*_last_run_success` goes to 0.
    pub async fn record_interrupted(&self, run: Run, reason: &str) {
        let targets = Targets::Configured(self.settings.targets.clone());
        let names = self
            .settings
            .targets
            .iter()
            .map(|t| t.name.clone())
            .collect();
        let (at, reason) = (now_unix(), format!("interrupted: {reason}"));
        tracing::error!(?run, %reason, "a backup run died without recording its result");
        self.record(&targets, names, move |s| match run {
            Run::Backup => {
                s.last_failure = Some(at);
                s.last_run_success = Some(false);
                s.last_error = Some(reason.clone());
            }
            Run::Check => {
                s.check_last_run_success = Some(false);
                s.check_last_error = Some(reason.clone());
            }
            Run::Drill => {
                s.drill_last_run_success = Some(false);
                s.drill_last_error = Some(reason.clone());
            }
        })
        .await;
    }

    /// `cantine backup confirm-restore`: drops the databases kept by earlier restores.
    pub async fn confirm_restore(&self) -> anyhow::Result<Vec<String>> {
        let mut admin = self.database.admin().await?;
        let pattern = format!("{}\\_previous\\_%", self.database.name.replace('_', "\\_"));
        let names: Vec<String> =
            sqlx::query_scalar("select datname from pg_database where datname like $1 order by 1")
                .bind(pattern)
                .fetch_all(&mut admin)
                .await?;
        for name in &names {
            self.database.drop_database(&mut admin, name).await?;
        }
        Ok(names)
    }
}

/// The kinds of scheduled run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Run {
    Backup,
    Check,
    Drill,
}

/// A snapshot restored into a database.
#[derive(Debug)]
pub struct Restored {
    pub snapshot: cantine_backup::RestoreReport,
    /// The schema version the snapshot had, before migrating it forward.
    pub snapshot_schema: Option<i64>,
}

/// The last migration applied, `None` before any.
pub async fn schema_version(pool: &sqlx::PgPool) -> anyhow::Result<Option<i64>> {
    match sqlx::query_scalar("select max(version) from _sqlx_migrations where success")
        .fetch_one(pool)
        .await
    {
        Ok(version) => Ok(version),
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P01") => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The newest migration this binary knows.
pub fn binary_schema() -> i64 {
    crate::platform::db::MIGRATOR
        .iter()
        .map(|m| m.version)
        .max()
        .unwrap_or(0)
}

/// What a restore did.
#[derive(Debug)]
pub struct RestoreOutcome {
    pub snapshot: cantine_backup::RestoreReport,
    /// The database kept until `confirm-restore`, if there was one.
    pub previous: Option<String>,
}

/// When we run as root on a data folder that belongs to the service user: that user's ids.
pub fn service_owner(data_dir: &Path) -> Option<(u32, u32)> {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    let meta = std::fs::metadata(data_dir).ok()?;
    owner_if_other(euid, meta.uid(), meta.gid())
}

fn owner_if_other(euid: u32, uid: u32, gid: u32) -> Option<(u32, u32)> {
    (euid == 0 && uid != 0).then_some((uid, gid))
}

/// Where the certificates go in a snapshot, each by its stored name.
pub const CERTIFICATES_SNAPSHOT_PATH: &str = "/cantine/certificates";

/// The certificate files of `<data_dir>/certificates/` and where each goes in a snapshot. Only
/// files named as the service names them (a UUID): a temporary file being written is not one.
pub fn certificate_snapshot_paths(data_dir: &Path) -> Vec<(PathBuf, String)> {
    let dir = data_dir.join(crate::absences::files::FOLDER);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<(PathBuf, String)> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_owned();
            uuid::Uuid::parse_str(&name).ok()?;
            Some((e.path(), format!("{CERTIFICATES_SNAPSHOT_PATH}/{name}")))
        })
        .collect();
    files.sort();
    files
}

/// Where each configuration file goes in a snapshot: the main file (the first) as
/// [`CONFIG_SNAPSHOT_PATH`] whatever its name, each drop-in as
/// `/cantine/config/cantine.toml.d/<its name>`.
pub fn config_snapshot_paths(files: &[PathBuf]) -> Vec<(&Path, String)> {
    files
        .iter()
        .enumerate()
        .map(|(i, file)| {
            let path = if i == 0 {
                CONFIG_SNAPSHOT_PATH.to_owned()
            } else {
                let name = file.file_name().unwrap_or_default().to_string_lossy();
                format!("{CONFIG_SNAPSHOT_PATH}.d/{name}")
            };
            (file.as_path(), path)
        })
        .collect()
}
