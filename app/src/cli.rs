//! The command line: `cantine serve|migrate|demo|check-config|backup …`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use sqlx::PgPool;
use tokio::net::TcpListener;

use crate::http::{self, AppState};
use crate::platform::config::{Config, Source};
use crate::platform::db;

#[derive(Debug, Parser)]
#[command(
    name = "cantine",
    version,
    about = "Cantine scolaire : inscriptions, réservations, facturation"
)]
struct Cli {
    /// Configuration file (default: $CANTINE_CONFIG, then /etc/cantine/cantine.toml if present).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the web application (migrates the database first).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Seed the Techniville demonstration data (skipped if already present).
    Demo {
        /// Password of every demo account (default: generated and printed once).
        #[arg(long, value_name = "PW")]
        password: Option<String>,
    },
    /// Print the effective configuration, secrets masked; exit non-zero if it is invalid.
    CheckConfig,
    /// Backups: now, list, check, restore, drill, confirm-restore.
    Backup {
        #[command(subcommand)]
        command: crate::backup::cli::BackupCommand,
    },
}

pub fn main() -> ExitCode {
    crate::platform::return_large_blocks_to_the_system();
    let cli = Cli::parse();
    let source = Source {
        file: cli.config.clone(),
        ..Source::default()
    };
    let config = match Config::load(&source) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("cantine: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    if let Command::CheckConfig = cli.command {
        for warning in &config.warnings {
            eprintln!("cantine: warning: {warning}");
        }
        print!("{}", config.describe());
        return ExitCode::SUCCESS;
    }
    crate::platform::telemetry::init(&config.log.filter);
    // Logged again: at load no subscriber was listening yet, the filter being in the file.
    config.log_warnings();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cantine: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        Command::Backup { command } => runtime.block_on(crate::backup::cli::run(command, config)),
        command => runtime.block_on(run(command, config)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = ?e, "cantine failed");
            eprintln!("cantine: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    let (embedded, pool) = connect(&config).await?;
    let result = match command {
        Command::Serve => serve(config, pool.clone()).await,
        Command::Migrate => migrate(&pool).await,
        Command::Demo { password } => {
            migrate(&pool).await?;
            let rules = crate::platform::rules(&config, chrono::Utc::now());
            crate::demo::seed(&pool, &rules, password).await
        }
        Command::CheckConfig | Command::Backup { .. } => {
            unreachable!("handled before connecting")
        }
    };
    pool.close().await;
    // Stopping the private server last: requests in flight have finished by now.
    drop(embedded);
    result
}

async fn connect(config: &Config) -> anyhow::Result<(Option<db::Embedded>, PgPool)> {
    let (embedded, options) = match db::external_options(config)? {
        Some(options) => (None, options),
        None => {
            let (embedded, options) = db::Embedded::start(config).await?;
            (Some(embedded), options)
        }
    };
    Ok((embedded, db::pool(options, config.database.max_connections)))
}

async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    db::migrate(pool).await?;
    tracing::info!("database schema up to date");
    Ok(())
}

async fn serve(config: Config, pool: PgPool) -> anyhow::Result<()> {
    // Held while serving: `cantine backup restore` refuses to swap the database under us.
    let _serving = crate::backup::lock::FileLock::try_acquire(
        &config.data_dir.join(crate::backup::SERVE_LOCK),
    )
    .map_err(|e| anyhow::anyhow!("{e}: is another `cantine serve` running?"))?;
    migrate(&pool).await?;
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.listen))?;
    tracing::info!(address = %listener.local_addr()?, public_url = %config.public_url, "listening");
    http::serve(listener, AppState::new(pool, config)?, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

/// Ctrl-C on a terminal, SIGTERM from systemd.
async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    tracing::info!("shutting down");
}
