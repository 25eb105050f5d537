//! `cantine backup …`: argument parsing and what the operator reads.

use std::path::PathBuf;
use std::process::Command as Process;

use anyhow::{Context, bail};
use cantine_backup::{SnapshotSelector, Target};
use clap::{Args, Subcommand};

use super::{Backups, Targets};
use crate::platform::config::Config;

#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// Dump the database and send it to every target, then apply retention (the hourly timer).
    Now(TargetArgs),
    /// List the snapshots of a target.
    List(TargetArgs),
    /// Check the repositories: structure and today's share of the data (all with --read-all).
    Check {
        #[command(flatten)]
        targets: TargetArgs,
        /// Read every pack instead of today's share.
        #[arg(long)]
        read_all: bool,
    },
    /// Restore a snapshot into a fresh database and put it in place of the current one,
    /// which is kept until `confirm-restore`.
    Restore {
        #[command(flatten)]
        targets: TargetArgs,
        /// Snapshot id (or unique prefix), or `latest`.
        #[arg(long, value_name = "ID", default_value = "latest")]
        snapshot: String,
    },
    /// Restore the latest snapshot of each target into a scratch database, check it, drop it.
    Drill(TargetArgs),
    /// Drop the database(s) kept by the last restore.
    ConfirmRestore,
    /// Create the repository of each target (or the one named) that has none; an existing
    /// one is only opened, to check its password ("already existed").
    Init(TargetArgs),
    /// Print the secrets backups depend on (repository passwords, the second site's
    /// credentials and CA, the health-data key) sealed with a passphrase, to store offline.
    Escrow {
        /// A file holding the passphrase (at least 16 characters).
        #[arg(long, value_name = "FILE")]
        passphrase_file: PathBuf,
    },
    /// Open an escrow bundle and write its files (mode 0600) into a new folder.
    EscrowOpen {
        #[arg(long, value_name = "FILE")]
        passphrase_file: PathBuf,
        /// The bundle printed by `cantine backup escrow`.
        #[arg(long = "in", value_name = "FILE")]
        input: PathBuf,
        /// Where to write the files.
        #[arg(long, value_name = "DIR")]
        to: PathBuf,
    },
    /// Record a run that died without recording its result (the units' ExecStopPost=,
    /// after a timeout or a kill): the metrics then show it as failed.
    #[command(hide = true)]
    RecordFailure {
        /// `backup`, `check` or `drill`.
        #[arg(value_parser = ["backup", "check", "drill"])]
        run: String,
        /// Why, as systemd says it ($SERVICE_RESULT).
        reason: String,
    },
}

/// Which repository: configured targets (all, or `--target`), or one given here.
#[derive(Debug, Args)]
pub struct TargetArgs {
    /// A configured target's name (default: all; for restore, the first).
    #[arg(long, value_name = "NAME", conflicts_with = "repo")]
    target: Option<String>,
    /// A repository outside the configuration: a folder or rest:https://user@host:port/path/.
    #[arg(long, value_name = "REPO", requires = "password_file")]
    repo: Option<String>,
    /// Its password file (with --repo).
    #[arg(long, value_name = "FILE", requires = "repo")]
    password_file: Option<PathBuf>,
    /// Its REST server's HTTP password, in a file (with --repo).
    #[arg(long, value_name = "FILE", requires = "repo")]
    rest_password_file: Option<PathBuf>,
    /// The CA certificate of its REST server (with --repo).
    #[arg(long, value_name = "FILE", requires = "repo")]
    ca_cert: Option<PathBuf>,
    /// It is append-only: no retention (with --repo).
    #[arg(long, requires = "repo")]
    append_only: bool,
}

impl TargetArgs {
    fn resolve(&self, backups: &Backups) -> anyhow::Result<Targets> {
        match (&self.repo, &self.password_file) {
            (Some(repo), Some(password_file)) => {
                let mut target = Target::new("adhoc", repo.clone(), password_file.clone());
                target.rest_password_file = self.rest_password_file.clone();
                target.ca_cert = self.ca_cert.clone();
                target.append_only = self.append_only;
                target.cache_dir = None;
                target.validate()?;
                Ok(Targets::AdHoc(target))
            }
            _ => backups.configured(self.target.as_deref()),
        }
    }

    fn one(&self, backups: &Backups) -> anyhow::Result<Target> {
        Ok(self.resolve(backups)?.list()[0].clone())
    }
}

fn read_passphrase(path: &std::path::Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the passphrase file {}", path.display()))?;
    Ok(text.trim_end_matches(['\n', '\r']).to_owned())
}

fn seconds(d: std::time::Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

/// Runs one `cantine backup` command; the configuration files it was read from
/// (`config.files`) are stored in each snapshot.
pub async fn run(command: BackupCommand, config: Config) -> anyhow::Result<()> {
    // The escrow touches neither a database nor a repository.
    match command {
        BackupCommand::Escrow { passphrase_file } => {
            let files = super::escrow::secret_files(&config);
            let host = config.backup.host.clone();
            let armored = tokio::task::spawn_blocking(move || {
                let passphrase = read_passphrase(&passphrase_file)?;
                super::escrow::seal_files(&files, &host, &passphrase)
            })
            .await??;
            print!("{armored}");
            return Ok(());
        }
        BackupCommand::EscrowOpen {
            passphrase_file,
            input,
            to,
        } => {
            let written = tokio::task::spawn_blocking(move || {
                let passphrase = read_passphrase(&passphrase_file)?;
                let armored = std::fs::read_to_string(&input)
                    .with_context(|| format!("reading {}", input.display()))?;
                let bundle = super::escrow::open(&armored, &passphrase)?;
                let written = super::escrow::write_out(&bundle, &to)?;
                anyhow::Ok(
                    bundle
                        .files
                        .iter()
                        .zip(written)
                        .map(|(f, path)| {
                            format!("{}: {} (was {})", f.role, path.display(), f.path.display())
                        })
                        .collect::<Vec<_>>(),
                )
            })
            .await??;
            for line in written {
                println!("{line}");
            }
            return Ok(());
        }
        _ => {}
    }
    // Root would leave root-owned packs in the local repository and a root-owned state
    // file: the service user's next hourly run could not write either.
    let writes_as_service = matches!(
        command,
        BackupCommand::Now(_)
            | BackupCommand::Check { .. }
            | BackupCommand::Drill(_)
            | BackupCommand::Init(_)
            | BackupCommand::RecordFailure { .. }
    );
    if writes_as_service && let Some((uid, _)) = super::service_owner(&config.data_dir) {
        bail!(
            "run this as the service user (uid {uid}, the owner of {}), not root: \
             `systemctl start cantine-backup.service` (or -check, -drill), or `sudo -u cantine cantine backup …`",
            config.data_dir.display()
        );
    }
    // A restore stops the service before anything connects: with the private server,
    // stopping `cantine serve` also stops the PostgreSQL it ran.
    let service = match command {
        BackupCommand::Restore { .. } => Service::detect(),
        _ => Service::None,
    };
    service.stop()?;
    let result = async {
        // Listing, checking and creating repositories need no database.
        let (database, server) = match command {
            BackupCommand::List(_)
            | BackupCommand::Check { .. }
            | BackupCommand::Init(_)
            | BackupCommand::RecordFailure { .. } => (super::database::locate(&config)?.0, None),
            _ => super::database::connect(&config).await?,
        };
        let backups = Backups::from_config(&config, database);
        let result = dispatch(command, &backups).await;
        if let Some(server) = server {
            let _ = tokio::task::spawn_blocking(move || server.stop()).await;
        }
        result
    }
    .await;
    // Started again whatever happened: on failure the previous database is still in place.
    let restarted = service.start();
    result?;
    restarted
}

async fn dispatch(command: BackupCommand, backups: &Backups) -> anyhow::Result<()> {
    match command {
        BackupCommand::Now(args) => {
            let targets = args.resolve(backups)?;
            let report = backups.now(&targets).await?;
            println!(
                "database dumped: {} bytes in {}",
                report.dump_bytes,
                seconds(report.dump_duration)
            );
            for outcome in &report.outcomes {
                match &outcome.result {
                    Ok(r) => println!(
                        "{}: snapshot {} saved, {} bytes added, {}",
                        outcome.target,
                        &r.snapshot_id[..8.min(r.snapshot_id.len())],
                        r.data_added_packed,
                        seconds(r.duration)
                    ),
                    Err(e) => println!("{}: FAILED: {e:#}", outcome.target),
                }
            }
            if report.failures() > 0 {
                bail!(
                    "{} of {} target(s) failed",
                    report.failures(),
                    report.outcomes.len()
                );
            }
        }
        BackupCommand::List(args) => {
            for target in args.resolve(backups)?.list() {
                println!("{} ({}):", target.name, target.redacted_location());
                for s in backups.list(target).await? {
                    println!(
                        "  {}  {}  {}  {}  {}",
                        s.short_id(),
                        s.time.strftime("%Y-%m-%d %H:%M:%S %Z"),
                        s.host,
                        s.tags.join(","),
                        s.total_bytes
                            .map_or("-".to_owned(), |b| format!("{b} bytes"))
                    );
                }
            }
        }
        BackupCommand::Check { targets, read_all } => {
            let targets = targets.resolve(backups)?;
            let mut failed = 0;
            for (name, result) in backups.check(&targets, read_all).await? {
                match result {
                    Ok(report) if report.is_ok() => println!(
                        "{name}: ok ({} warning(s)), {}",
                        report.warnings.len(),
                        seconds(report.duration)
                    ),
                    Ok(report) => {
                        failed += 1;
                        println!("{name}: DAMAGED");
                        for error in &report.errors {
                            println!("  {error}");
                        }
                    }
                    Err(e) => {
                        failed += 1;
                        println!("{name}: check could not run: {e:#}");
                    }
                }
            }
            if failed > 0 {
                bail!("{failed} repository check(s) failed");
            }
        }
        BackupCommand::Restore { targets, snapshot } => {
            let target = targets.one(backups)?;
            let selector = SnapshotSelector::parse(&snapshot);
            let outcome = backups.restore(&target, &selector).await?;
            println!(
                "restored snapshot {} ({}) from {}",
                &outcome.snapshot.snapshot_id[..8],
                outcome
                    .snapshot
                    .snapshot_time
                    .strftime("%Y-%m-%d %H:%M:%S %Z"),
                target.name
            );
            match outcome.previous {
                Some(previous) => println!(
                    "the previous database is kept as {previous}; once the service is checked, drop it with `cantine backup confirm-restore`"
                ),
                None => println!("there was no previous database"),
            }
        }
        BackupCommand::Drill(args) => {
            let targets = args.resolve(backups)?;
            let reports = backups.drill(&targets).await;
            let mut failed = 0;
            for report in &reports {
                let verdict = if report.passed() { "passed" } else { "FAILED" };
                if !report.passed() {
                    failed += 1;
                }
                println!(
                    "{}: drill {verdict} (snapshot {})",
                    report.target,
                    report
                        .snapshot
                        .as_deref()
                        .map_or("-", |s| &s[..8.min(s.len())])
                );
                for line in report.summary().lines() {
                    println!("  {line}");
                }
            }
            if failed > 0 {
                bail!("{failed} restore drill(s) failed");
            }
        }
        BackupCommand::RecordFailure { run, reason } => {
            let run = match run.as_str() {
                "backup" => super::Run::Backup,
                "check" => super::Run::Check,
                _ => super::Run::Drill,
            };
            backups.record_interrupted(run, &reason).await;
        }
        BackupCommand::Escrow { .. } | BackupCommand::EscrowOpen { .. } => {
            unreachable!("the escrow commands return before a database is located")
        }
        BackupCommand::ConfirmRestore => {
            let dropped = backups.confirm_restore().await?;
            if dropped.is_empty() {
                println!("no previous database to drop");
            }
            for name in dropped {
                println!("dropped {name}");
            }
        }
        BackupCommand::Init(args) => {
            for target in args.resolve(backups)?.list() {
                let t = target.clone();
                let info = tokio::task::spawn_blocking(move || cantine_backup::init(&t)).await??;
                println!(
                    "{}: repository {} {}",
                    target.name,
                    &info.id[..8.min(info.id.len())],
                    if info.created {
                        "created"
                    } else {
                        "already existed"
                    }
                );
            }
        }
    }
    Ok(())
}

/// The systemd service, stopped around a restore when it is running.
enum Service {
    Systemd { was_active: bool },
    None,
}

const UNIT: &str = "cantine.service";

impl Service {
    fn detect() -> Self {
        if !std::path::Path::new("/run/systemd/system").exists() {
            return Self::None;
        }
        let active = Process::new("systemctl")
            .args(["is-active", "--quiet", UNIT])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        Self::Systemd { was_active: active }
    }

    fn stop(&self) -> anyhow::Result<()> {
        if let Self::Systemd { was_active: true } = self {
            systemctl("stop")?;
        }
        Ok(())
    }

    fn start(&self) -> anyhow::Result<()> {
        if let Self::Systemd { was_active: true } = self {
            systemctl("start")?;
        }
        Ok(())
    }
}

fn systemctl(verb: &str) -> anyhow::Result<()> {
    let status = Process::new("systemctl")
        .args([verb, UNIT])
        .status()
        .with_context(|| format!("cannot run systemctl {verb} {UNIT}"))?;
    if !status.success() {
        bail!("systemctl {verb} {UNIT} failed ({status})");
    }
    Ok(())
}
