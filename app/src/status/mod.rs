//! The appliance's health for a town hall with no Prometheus: the same facts as the alerts
//! (`monitoring/rules/`), each with its value and a [`Level`], gathered on demand for the
//! back office's status page. The thresholds are pure functions, unit-tested below; the
//! HTTP edge words the values and levels.

mod store;

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Europe::Paris;
use sqlx::PgPool;

use crate::backup::state::{State as BackupState, TargetState};
use crate::error::Result;
use crate::platform::config::Config;
use crate::platform::metrics::{COMMIT, VERSION};

/// Where the appliance's certificate lives (no setting names it).
pub const CERTIFICATE: &str = "/etc/cantine/tls/cert.pem";

/// Disk use over which the page warns, and over which it fails (the alert's 85 %).
pub const DISK_WARNING: f64 = 0.85;
pub const DISK_FAILING: f64 = 0.95;
/// A target without a successful backup for longer than this fails (the alert's 26 h).
pub const BACKUP_MAX_AGE_SECS: f64 = 26.0 * 3600.0;
/// An outbox whose oldest mail waits longer than this warns.
pub const OUTBOX_MAX_AGE_SECS: f64 = 3600.0;

/// A fact's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Ok,
    Warning,
    Failing,
}

impl Level {
    /// The worst of several levels (`Ok` for none).
    pub fn worst(levels: impl IntoIterator<Item = Level>) -> Level {
        levels.into_iter().max().unwrap_or(Level::Ok)
    }
}

#[derive(Debug, Clone)]
pub struct Status {
    pub version: &'static str,
    pub commit: &'static str,
    pub uptime_secs: u64,
    pub database_bytes: i64,
    /// `None`: the data folder could not be measured.
    pub disk: Option<Disk>,
    pub disk_level: Level,
    pub backups: Vec<BackupTarget>,
    /// Warning when no target recorded anything.
    pub backups_level: Level,
    pub certificate: Certificate,
    pub outbox: Outbox,
    pub jobs: Jobs,
    pub payfip: Payfip,
    pub kitchen: Vec<KitchenSchool>,
}

impl Status {
    /// The page's overall state.
    pub fn level(&self) -> Level {
        Level::worst(
            [
                self.disk_level,
                self.backups_level,
                self.certificate.level(),
                self.outbox.level,
                self.jobs.level,
                self.payfip.level,
            ]
            .into_iter()
            .chain(self.backups.iter().map(BackupTarget::level))
            .chain(self.kitchen.iter().map(|k| k.level)),
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Disk {
    pub total_bytes: u64,
    /// Available to the service (not counting the blocks reserved to root).
    pub free_bytes: u64,
    /// Used fraction, as `df` counts it.
    pub used: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    pub last_success: Option<DateTime<Utc>>,
    /// `None`: never run.
    pub last_run_success: Option<bool>,
    pub last_error: Option<String>,
    pub level: Level,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BackupTarget {
    pub target: String,
    pub backup: Run,
    pub check: Run,
    pub drill: Run,
}

impl BackupTarget {
    pub fn level(&self) -> Level {
        Level::worst([self.backup.level, self.check.level, self.drill.level])
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Certificate {
    /// No certificate at the appliance's path (development, or TLS ends elsewhere).
    NotApplicable,
    /// The file is there; its expiry is not read (no X.509 parser in the dependencies): the
    /// `certificate expiring` alert watches it.
    Present(PathBuf),
}

impl Certificate {
    pub fn level(&self) -> Level {
        Level::Ok
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Outbox {
    pub queued: i64,
    pub retrying: i64,
    pub oldest_secs: f64,
    pub level: Level,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Jobs {
    /// The oldest unsent mail of the billing outbox, the queue the worker drains.
    pub oldest_secs: f64,
    /// The caterer mails not sent yet.
    pub kitchen_pending: i64,
    pub kitchen_oldest_secs: f64,
    pub level: Level,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Payfip {
    pub pending: i64,
    pub mismatches: i64,
    pub mismatches_24h: i64,
    pub paid_24h: i64,
    pub level: Level,
}

#[derive(Debug, Clone, PartialEq)]
pub struct KitchenSchool {
    pub school: String,
    pub meals: i64,
    pub frozen: bool,
    pub deadline: DateTime<Utc>,
    pub level: Level,
}

/// Gathers every fact at `now` (the service's clock), for an instance started at `started_at`.
pub async fn gather(
    pool: &PgPool,
    config: &Config,
    started_at: SystemTime,
    now: DateTime<Utc>,
) -> Result<Status> {
    let database_bytes = store::database_size(pool).await?;
    let disk = disk(&config.data_dir);
    let backup_state = BackupState::read(&config.data_dir);
    let backups = backup_targets(&backup_state, now);
    let (states, oldest) = crate::billing::stats::outbox(pool).await?;
    let count = |name: &str| {
        states
            .iter()
            .find(|(s, _)| s == name)
            .map_or(0, |(_, n)| *n)
    };
    let outbox = Outbox {
        queued: count("queued"),
        retrying: count("retrying"),
        oldest_secs: oldest,
        level: age_level(oldest),
    };
    let (kitchen_pending, kitchen_oldest_secs) = store::kitchen_outbox(pool).await?;
    let jobs = Jobs {
        oldest_secs: oldest,
        kitchen_pending,
        kitchen_oldest_secs,
        level: Level::worst([age_level(oldest), age_level(kitchen_oldest_secs)]),
    };
    let p = store::payfip(pool).await?;
    let payfip = Payfip {
        level: payfip_level(p.mismatches_24h),
        pending: p.pending,
        mismatches: p.mismatches,
        mismatches_24h: p.mismatches_24h,
        paid_24h: p.paid_24h,
    };
    let today = now.with_timezone(&Paris).date_naive();
    let rules = crate::platform::rules(config, now);
    let kitchen = crate::kitchen::counts(pool, &rules, config, None, today, 1)
        .await?
        .into_iter()
        .filter(|d| d.date == today)
        .map(|d| KitchenSchool {
            level: kitchen_level(d.frozen.is_some(), d.deadline, now),
            meals: d.told().total(),
            frozen: d.frozen.is_some(),
            deadline: d.deadline,
            school: d.school_name,
        })
        .collect();
    Ok(Status {
        version: VERSION,
        commit: COMMIT,
        uptime_secs: SystemTime::now()
            .duration_since(started_at)
            .map_or(0, |d| d.as_secs()),
        database_bytes,
        disk_level: disk.map_or(Level::Warning, |d| disk_level(d.used)),
        disk,
        backups_level: if backups.is_empty() {
            Level::Warning
        } else {
            Level::Ok
        },
        backups,
        certificate: certificate(Path::new(CERTIFICATE)),
        outbox,
        jobs,
        payfip,
        kitchen,
    })
}

/// The file system holding `dir`, by `statvfs`.
fn disk(dir: &Path) -> Option<Disk> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut stat = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `path` is a NUL-terminated string and `stat` a buffer of the right type, which
    // statvfs fills when it returns 0.
    let stat = unsafe {
        if libc::statvfs(path.as_ptr(), stat.as_mut_ptr()) != 0 {
            return None;
        }
        stat.assume_init()
    };
    let block = stat.f_frsize as u64;
    Some(disk_usage(
        stat.f_blocks as u64 * block,
        stat.f_bfree as u64 * block,
        stat.f_bavail as u64 * block,
    ))
}

/// Used as `df` counts it: used over what the service could use (used + available).
pub fn disk_usage(total: u64, free: u64, available: u64) -> Disk {
    let used_bytes = total.saturating_sub(free);
    let usable = used_bytes + available;
    Disk {
        total_bytes: total,
        free_bytes: available,
        used: if usable == 0 {
            0.0
        } else {
            used_bytes as f64 / usable as f64
        },
    }
}

pub fn disk_level(used: f64) -> Level {
    if used > DISK_FAILING {
        Level::Failing
    } else if used > DISK_WARNING {
        Level::Warning
    } else {
        Level::Ok
    }
}

fn time(unix: Option<f64>) -> Option<DateTime<Utc>> {
    unix.and_then(|t| Utc.timestamp_opt(t as i64, 0).single())
}

/// A run's level: failing when the last run failed, or (with `max_age`) when the last success
/// is older; warning when never run.
pub fn run_level(
    last_success: Option<f64>,
    last_run_success: Option<bool>,
    max_age: Option<f64>,
    now: DateTime<Utc>,
) -> Level {
    let now = now.timestamp() as f64;
    match (last_run_success, last_success) {
        (Some(false), _) => Level::Failing,
        (None, None) => Level::Warning,
        (_, None) => Level::Failing,
        (_, Some(at)) => match max_age {
            Some(max) if now - at > max => Level::Failing,
            _ => Level::Ok,
        },
    }
}

fn run(
    last_success: Option<f64>,
    last_run_success: Option<bool>,
    last_error: &Option<String>,
    max_age: Option<f64>,
    now: DateTime<Utc>,
) -> Run {
    Run {
        last_success: time(last_success),
        last_run_success,
        last_error: last_error.clone(),
        level: run_level(last_success, last_run_success, max_age, now),
    }
}

/// Per target: the backup (failing past 26 h without success), the check and the drill.
pub fn backup_targets(state: &BackupState, now: DateTime<Utc>) -> Vec<BackupTarget> {
    state
        .targets
        .iter()
        .map(|(target, s): (&String, &TargetState)| BackupTarget {
            target: target.clone(),
            backup: run(
                s.last_success,
                s.last_run_success,
                &s.last_error,
                Some(BACKUP_MAX_AGE_SECS),
                now,
            ),
            check: run(
                s.check_last_success,
                s.check_last_run_success,
                &s.check_last_error,
                None,
                now,
            ),
            drill: run(
                s.drill_last_success,
                s.drill_last_run_success,
                &s.drill_last_error,
                None,
                now,
            ),
        })
        .collect()
}

fn certificate(path: &Path) -> Certificate {
    if path.is_file() {
        Certificate::Present(path.to_owned())
    } else {
        Certificate::NotApplicable
    }
}

/// An outbox or queue whose oldest item waits over an hour warns.
pub fn age_level(oldest_secs: f64) -> Level {
    if oldest_secs > OUTBOX_MAX_AGE_SECS {
        Level::Warning
    } else {
        Level::Ok
    }
}

/// Any mismatch in the last 24 h fails: a paid answer credited nothing.
pub fn payfip_level(mismatches_24h: i64) -> Level {
    if mismatches_24h > 0 {
        Level::Failing
    } else {
        Level::Ok
    }
}

/// A school's day still not frozen past its deadline warns: the kitchen was not told.
pub fn kitchen_level(frozen: bool, deadline: DateTime<Utc>, now: DateTime<Utc>) -> Level {
    if !frozen && now > deadline {
        Level::Warning
    } else {
        Level::Ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(unix: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(unix, 0).single().unwrap()
    }

    #[test]
    fn disk_thresholds_are_85_and_95_percent_used() {
        assert_eq!(disk_level(0.85), Level::Ok);
        assert_eq!(disk_level(0.851), Level::Warning);
        assert_eq!(disk_level(0.95), Level::Warning);
        assert_eq!(disk_level(0.951), Level::Failing);
        // 100 blocks, 10 free of which 5 reserved to root: 90 used of 95 usable.
        let d = disk_usage(100, 10, 5);
        assert_eq!(d.free_bytes, 5);
        assert!((d.used - 90.0 / 95.0).abs() < 1e-9);
        assert_eq!(disk_level(d.used), Level::Warning);
        assert_eq!(disk_usage(0, 0, 0).used, 0.0);
    }

    #[test]
    fn a_backup_fails_when_its_last_run_failed_or_its_success_is_older_than_26_h() {
        let now = at(1_000_000);
        let max = Some(BACKUP_MAX_AGE_SECS);
        let recent = Some(1_000_000.0 - 3600.0);
        let old = Some(1_000_000.0 - 26.0 * 3600.0 - 1.0);
        assert_eq!(run_level(recent, Some(true), max, now), Level::Ok);
        assert_eq!(run_level(recent, Some(false), max, now), Level::Failing);
        assert_eq!(run_level(old, Some(true), max, now), Level::Failing);
        assert_eq!(run_level(None, None, max, now), Level::Warning);
        assert_eq!(run_level(None, Some(false), max, now), Level::Failing);
        // A check or drill has no age threshold.
        assert_eq!(run_level(old, Some(true), None, now), Level::Ok);
    }

    #[test]
    fn targets_are_read_from_the_backup_state() {
        let mut state = BackupState::default();
        state.targets.insert(
            "local".into(),
            TargetState {
                last_success: Some(999_000.0),
                last_run_success: Some(true),
                ..Default::default()
            },
        );
        let targets = backup_targets(&state, at(1_000_000));
        assert_eq!(targets.len(), 1);
        assert_eq!(targets[0].backup.level, Level::Ok);
        // Never checked nor drilled: a warning.
        assert_eq!(targets[0].check.level, Level::Warning);
        assert_eq!(targets[0].level(), Level::Warning);
    }

    #[test]
    fn outbox_payfip_and_kitchen_thresholds() {
        assert_eq!(age_level(3600.0), Level::Ok);
        assert_eq!(age_level(3601.0), Level::Warning);
        assert_eq!(payfip_level(0), Level::Ok);
        assert_eq!(payfip_level(1), Level::Failing);
        let deadline = at(1000);
        assert_eq!(kitchen_level(false, deadline, at(999)), Level::Ok);
        assert_eq!(kitchen_level(false, deadline, at(1001)), Level::Warning);
        assert_eq!(kitchen_level(true, deadline, at(1001)), Level::Ok);
        assert_eq!(
            Level::worst([Level::Ok, Level::Failing, Level::Warning]),
            Level::Failing
        );
        assert_eq!(Level::worst([]), Level::Ok);
    }
}
