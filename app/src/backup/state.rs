//! The outcome of each backup, check and drill, per target, in a small JSON file under
//! `data_dir`: the runs happen in other processes (systemd timers), and `cantine serve`
//! reads the file at each scrape of `/metrics`.
//!
//! Updates take a lock, read, change and write a temporary file renamed over the old one,
//! so a scrape never sees half a file and concurrent runs (backup and drill) never lose
//! each other's results.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;
use prometheus::{GaugeVec, Opts};
use serde::{Deserialize, Serialize};

use super::lock::FileLock;

/// The state file's name under `data_dir`.
pub const STATE_FILE: &str = "backup-state.json";
const STATE_LOCK: &str = "backup-state.lock";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct State {
    pub targets: BTreeMap<String, TargetState>,
}

/// Times are Unix seconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TargetState {
    /// The last run that saved a snapshot there.
    pub last_success: Option<f64>,
    pub last_failure: Option<f64>,
    /// The last run saved its snapshot and applied retention: the alert metric.
    pub last_run_success: Option<bool>,
    pub last_error: Option<String>,
    /// Dump plus upload, seconds.
    pub last_duration_seconds: Option<f64>,
    /// Size of the database dump.
    pub last_size_bytes: Option<u64>,
    pub last_snapshot: Option<String>,
    pub check_last_success: Option<f64>,
    pub check_last_run_success: Option<bool>,
    pub check_last_error: Option<String>,
    pub drill_last_success: Option<f64>,
    pub drill_last_run_success: Option<bool>,
    pub drill_last_error: Option<String>,
}

pub fn now_unix() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

impl State {
    /// A missing or unreadable file is an empty state: metrics then say nothing rather
    /// than fail the whole scrape.
    pub fn read(data_dir: &Path) -> Self {
        std::fs::read(data_dir.join(STATE_FILE))
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    /// Changes one target's entry under the state lock (blocks: call from a blocking
    /// context).
    pub fn update(
        data_dir: &Path,
        target: &str,
        change: impl FnOnce(&mut TargetState),
    ) -> std::io::Result<()> {
        std::fs::create_dir_all(data_dir)?;
        let _lock = FileLock::wait(&data_dir.join(STATE_LOCK)).map_err(std::io::Error::other)?;
        let mut state = Self::read(data_dir);
        change(state.targets.entry(target.to_owned()).or_default());
        let mut file = tempfile::NamedTempFile::with_prefix_in(".backup-state-", data_dir)?;
        serde_json::to_writer_pretty(&mut file, &state)?;
        file.write_all(b"\n")?;
        file.as_file().sync_all()?;
        // Readable by the service's group: `cantine serve` may run as another user than
        // an operator's `cantine backup now`.
        std::fs::set_permissions(
            file.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o640),
        )?;
        file.persist(data_dir.join(STATE_FILE))
            .map_err(|e| e.error)?;
        Ok(())
    }
}

/// Logs (never fails the run for) a state file that cannot be written.
pub fn record(data_dir: &Path, target: &str, change: impl FnOnce(&mut TargetState)) {
    if let Err(e) = State::update(data_dir, target, change) {
        tracing::error!(error = %e, target, "cannot record the backup state");
    }
}

/// Exposes the state file on `/metrics`, read afresh at each scrape.
pub struct StateCollector {
    data_dir: PathBuf,
    gauges: Vec<GaugeVec>,
    // Reset-then-fill must not interleave between two scrapes.
    scrape: Mutex<()>,
}

type Getter = fn(&TargetState) -> Option<f64>;

const GAUGES: [(&str, &str, Getter); 9] = [
    (
        "cantine_backup_last_success_timestamp_seconds",
        "Time of the last backup that saved a snapshot on the target",
        |s| s.last_success,
    ),
    (
        "cantine_backup_last_failure_timestamp_seconds",
        "Time of the last failed backup run for the target",
        |s| s.last_failure,
    ),
    (
        "cantine_backup_last_run_success",
        "1 if the last backup run saved its snapshot and applied retention on the target, 0 if it failed",
        |s| s.last_run_success.map(f64::from),
    ),
    (
        "cantine_backup_last_duration_seconds",
        "Duration of the last successful backup (dump and upload)",
        |s| s.last_duration_seconds,
    ),
    (
        "cantine_backup_last_size_bytes",
        "Size of the database dump of the last successful backup",
        |s| s.last_size_bytes.map(|b| b as f64),
    ),
    (
        "cantine_backup_check_last_success_timestamp_seconds",
        "Time of the last repository check that found no error",
        |s| s.check_last_success,
    ),
    (
        "cantine_backup_check_last_run_success",
        "1 if the last repository check found no error, 0 otherwise",
        |s| s.check_last_run_success.map(f64::from),
    ),
    (
        "cantine_backup_drill_last_success_timestamp_seconds",
        "Time of the last restore drill that passed",
        |s| s.drill_last_success,
    ),
    (
        "cantine_backup_drill_last_run_success",
        "1 if the last restore drill passed, 0 if it failed",
        |s| s.drill_last_run_success.map(f64::from),
    ),
];

/// Adds the backup results recorded under `data_dir` to the application's metrics page.
pub fn register_collector(
    registry: &prometheus::Registry,
    data_dir: &std::path::Path,
) -> anyhow::Result<()> {
    registry.register(Box::new(StateCollector::new(data_dir)))?;
    Ok(())
}

impl StateCollector {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        let gauges = GAUGES
            .iter()
            .map(|(name, help, _)| {
                GaugeVec::new(Opts::new(*name, *help), &["target"]).expect("valid metric")
            })
            .collect();
        Self {
            data_dir: data_dir.into(),
            gauges,
            scrape: Mutex::new(()),
        }
    }
}

impl Collector for StateCollector {
    fn desc(&self) -> Vec<&Desc> {
        self.gauges.iter().flat_map(|g| g.desc()).collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let _scrape = self.scrape.lock().unwrap_or_else(|e| e.into_inner());
        let state = State::read(&self.data_dir);
        let mut families = Vec::new();
        for (gauge, (_, _, get)) in self.gauges.iter().zip(GAUGES.iter()) {
            gauge.reset();
            for (target, entry) in &state.targets {
                if let Some(value) = get(entry) {
                    gauge.with_label_values(&[target.as_str()]).set(value);
                }
            }
            families.extend(gauge.collect());
        }
        families
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn updates_accumulate_and_are_exported_per_target() {
        let dir = tempfile::tempdir().unwrap();
        State::update(dir.path(), "local", |s| {
            s.last_success = Some(1000.0);
            s.last_run_success = Some(true);
            s.last_size_bytes = Some(42);
        })
        .unwrap();
        State::update(dir.path(), "second-site", |s| {
            s.last_failure = Some(2000.0);
            s.last_run_success = Some(false);
        })
        .unwrap();
        State::update(dir.path(), "local", |s| {
            s.drill_last_run_success = Some(true)
        })
        .unwrap();
        let state = State::read(dir.path());
        assert_eq!(state.targets["local"].last_size_bytes, Some(42));
        assert_eq!(state.targets["local"].drill_last_run_success, Some(true));

        let registry = prometheus::Registry::new();
        registry
            .register(Box::new(StateCollector::new(dir.path())))
            .unwrap();
        let mut text = Vec::new();
        prometheus::Encoder::encode(
            &prometheus::TextEncoder::new(),
            &registry.gather(),
            &mut text,
        )
        .unwrap();
        let text = String::from_utf8(text).unwrap();
        for line in [
            "cantine_backup_last_run_success{target=\"local\"} 1",
            "cantine_backup_last_run_success{target=\"second-site\"} 0",
            "cantine_backup_last_size_bytes{target=\"local\"} 42",
            "cantine_backup_last_failure_timestamp_seconds{target=\"second-site\"} 2000",
            "cantine_backup_drill_last_run_success{target=\"local\"} 1",
        ] {
            assert!(text.contains(line), "{line} missing from:\n{text}");
        }
        assert!(!text.contains("cantine_backup_last_size_bytes{target=\"second-site\"}"));
    }

    #[test]
    fn a_missing_or_broken_file_exports_nothing() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(State::read(dir.path()), State::default());
        std::fs::write(dir.path().join(STATE_FILE), "{not json").unwrap();
        assert_eq!(State::read(dir.path()), State::default());
    }
}
