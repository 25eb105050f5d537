//! The command line: `cantine serve|migrate|demo|admin|billing|check-config|backup …`.

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
        /// The staff accounts' TOTP secret, in base32 (default: generated and printed once).
        #[arg(long, value_name = "BASE32", value_parser = parse_totp_secret)]
        totp_secret: Option<TotpSecret>,
    },
    /// Staff accounts, from the appliance's console.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Print the effective configuration, secrets masked; exit non-zero if it is invalid.
    CheckConfig {
        /// Also ask PayFiP (`payfip.endpoint`) whether each régie's `numcli` is known.
        #[arg(long)]
        payfip: bool,
    },
    /// A PayFiP simulator (SOAP service and payment page) for the demo and tests: never money.
    PayfipSimulator {
        /// Where to listen, e.g. 127.0.0.1:8090 (loopback only: it takes no credentials).
        #[arg(long, default_value = "127.0.0.1:8090")]
        listen: std::net::SocketAddr,
        /// Never call the service's `urlnotif` (the reconciliation must find the payments).
        #[arg(long)]
        drop_notifications: bool,
        /// Notify this many milliseconds after the choice instead of before the redirect.
        #[arg(long, default_value_t = 0)]
        notification_delay_ms: u64,
        /// Notify this many more times.
        #[arg(long, default_value_t = 0)]
        repeat_notifications: u32,
    },
    /// Monthly invoicing: compute the draft, review it, issue it.
    Billing {
        #[command(subcommand)]
        command: BillingCommand,
    },
    /// Backups: now, list, check, restore, drill, confirm-restore.
    Backup {
        #[command(subcommand)]
        command: crate::backup::cli::BackupCommand,
    },
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Create a staff account and print (and mail) its single-use link to set a password.
    CreateUser {
        #[arg(long)]
        email: String,
        /// school_staff, kitchen, manager, finance or admin; repeat for several.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// A school's id or exact name, for school_staff; repeat for several.
        #[arg(long = "school")]
        schools: Vec<String>,
        /// Default: the address's local part.
        #[arg(long)]
        first_name: Option<String>,
        #[arg(long, default_value = "Mairie")]
        last_name: String,
    },
    /// Run the retention job once ([retention]): erase what is past its period, and print
    /// what was erased, in counts.
    Retention {
        /// Count what a run would erase, and change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Subcommand)]
enum BillingCommand {
    /// Compute (or recompute) the month's draft and print its review.
    Run {
        /// The month billed, as 2026-11.
        #[arg(long, value_parser = parse_month)]
        month: crate::billing::Month,
        /// The régie's code.
        #[arg(long, default_value = "CANT")]
        regie: String,
        /// Issue the draft straight after computing it.
        #[arg(long)]
        issue: bool,
    },
    /// Issue the month's draft (numbers, ledger, mails); an issued month is left as it is.
    Issue {
        #[arg(long, value_parser = parse_month)]
        month: crate::billing::Month,
        #[arg(long, default_value = "CANT")]
        regie: String,
    },
}

fn parse_month(text: &str) -> Result<crate::billing::Month, String> {
    text.parse()
        .map_err(|_| "a month written as 2026-11".to_owned())
}

/// A TOTP secret typed in base32 (a newtype: clap would read `Vec<u8>` as many arguments).
#[derive(Debug, Clone)]
struct TotpSecret(Vec<u8>);

fn parse_totp_secret(text: &str) -> Result<TotpSecret, String> {
    crate::accounts::totp::from_base32(text)
        .map(TotpSecret)
        .ok_or_else(|| "a base32 secret of 16 bytes or more (26 characters or more)".to_owned())
}

pub fn main() -> ExitCode {
    crate::platform::return_large_blocks_to_the_system();
    let cli = Cli::parse();
    if let Command::PayfipSimulator {
        listen,
        drop_notifications,
        notification_delay_ms,
        repeat_notifications,
    } = cli.command
    {
        return payfip_simulator(
            listen,
            crate::http::payfip_simulator::Switches {
                drop_notifications,
                notification_delay_ms,
                repeat_notifications,
                ..Default::default()
            },
        );
    }
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
    if let Command::CheckConfig { payfip } = cli.command {
        for warning in &config.warnings {
            eprintln!("cantine: warning: {warning}");
        }
        print!("{}", config.describe());
        if payfip {
            return check_payfip(&config);
        }
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
        Command::Demo {
            password,
            totp_secret,
        } => {
            migrate(&pool).await?;
            let rules = crate::platform::rules(&config, chrono::Utc::now());
            crate::demo::seed(&pool, &rules, password, totp_secret.map(|s| s.0)).await?;
            let files = crate::absences::CertificateFiles::in_data_dir(&config.data_dir);
            crate::demo::seed_absence(&pool, &rules, &files).await?;
            crate::demo::seed_billing(&pool, &rules).await
        }
        Command::Admin { command } => {
            migrate(&pool).await?;
            admin(&config, &pool, command).await
        }
        Command::Billing { command } => {
            migrate(&pool).await?;
            billing(&pool, command).await
        }
        Command::CheckConfig { .. } | Command::Backup { .. } | Command::PayfipSimulator { .. } => {
            unreachable!("handled before connecting")
        }
    };
    pool.close().await;
    // Stopping the private server last: requests in flight have finished by now.
    drop(embedded);
    result
}

/// Asks PayFiP about each configured `numcli` (`recupererDetailClient`); fails if one is
/// unknown or PayFiP cannot be asked.
fn check_payfip(config: &Config) -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cantine: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let client = match crate::payments::PayfipClient::new(
            config.payfip.endpoint.clone(),
            std::time::Duration::from_secs(config.payfip.timeout_secs),
        ) {
            Ok(client) => client,
            Err(e) => {
                eprintln!("cantine: PayFiP client: {e}");
                return ExitCode::FAILURE;
            }
        };
        if config.payfip.regies.is_empty() {
            println!("payfip: no régie configured, nothing to check");
        }
        let mut ok = true;
        for regie in &config.payfip.regies {
            let Some(numcli) = config.payfip.numcli(&regie.code) else {
                continue;
            };
            match crate::payments::verify_numcli(&client, &numcli).await {
                Ok(labels) => println!(
                    "payfip: régie {} numcli {} known at {}: {}",
                    regie.code,
                    numcli.as_str(),
                    config.payfip.endpoint,
                    labels.join(" / ")
                ),
                Err(e) => {
                    ok = false;
                    eprintln!(
                        "cantine: payfip: régie {} numcli {}: {e}",
                        regie.code,
                        numcli.as_str()
                    );
                }
            }
        }
        if ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    })
}

/// `cantine payfip-simulator`: serves until Ctrl-C or SIGTERM.
fn payfip_simulator(
    listen: std::net::SocketAddr,
    switches: crate::http::payfip_simulator::Switches,
) -> ExitCode {
    crate::platform::telemetry::init("info");
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cantine: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let served = runtime.block_on(async {
        let listener = TcpListener::bind(listen).await?;
        tracing::info!(address = %listener.local_addr()?, "PayFiP simulator listening");
        crate::http::payfip_simulator::serve(listener, switches, shutdown_signal()).await
    });
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cantine: payfip-simulator on {listen}: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn admin(config: &Config, pool: &PgPool, command: AdminCommand) -> anyhow::Result<()> {
    match command {
        AdminCommand::Retention { dry_run } => retention(config, pool, dry_run).await,
        AdminCommand::CreateUser {
            email,
            roles,
            schools,
            first_name,
            last_name,
        } => create_user(config, pool, email, roles, schools, first_name, last_name).await,
    }
}

/// `cantine admin retention [--dry-run]`: one run of the daily job, its counts printed.
async fn retention(config: &Config, pool: &PgPool, dry_run: bool) -> anyhow::Result<()> {
    let now = chrono::Utc::now();
    let today = crate::platform::rules(config, now).today();
    let swept = crate::privacy::retention(
        pool,
        &config.data_dir,
        &config.retention,
        now,
        today,
        dry_run,
    )
    .await?;
    let verb = if dry_run { "would erase" } else { "erased" };
    println!("retention ({verb}):");
    println!("  expired sessions: {}", swept.sessions);
    println!("  expired e-mail tokens: {}", swept.email_tokens);
    println!(
        "  audit entries older than {} days: {}",
        config.retention.audit_days, swept.audit_entries
    );
    println!(
        "  households inactive for {} days (closed and erased): {}",
        config.retention.inactive_household_days, swept.inactive_households
    );
    println!(
        "kept: invoices older than {} years: {} (their elimination is the archives service's decision)",
        config.retention.invoice_years, swept.invoices_past_retention
    );
    Ok(())
}

async fn create_user(
    config: &Config,
    pool: &PgPool,
    email: String,
    roles: Vec<String>,
    schools: Vec<String>,
    first_name: Option<String>,
    last_name: String,
) -> anyhow::Result<()> {
    let mut school_ids = Vec::new();
    for school in &schools {
        let found = sqlx::query_scalar!(
            "select id from school where id::text = $1 or name = $1",
            school
        )
        .fetch_optional(pool)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no school {school:?} (give its id or exact name)"))?;
        school_ids.push(cantine_domain::ids::SchoolId(found));
    }
    let first_name =
        first_name.unwrap_or_else(|| email.split('@').next().unwrap_or_default().to_owned());
    let links = http::routes::Links {
        public_url: config.public_url.clone(),
    };
    let mailer = crate::platform::mail::Mailer::from_config(config)?;
    let created = crate::staff::create_member(
        pool,
        &mailer,
        &links,
        None,
        crate::staff::NewMember {
            email,
            first_name,
            last_name,
            roles,
            schools: school_ids,
        },
        chrono::Utc::now(),
    )
    .await
    .map_err(|e| anyhow::anyhow!("{}", http::fr::message(&e)))?;
    let link = links.link(http::routes::SET_PASSWORD, &created.token);
    println!(
        "Staff account {} created (id {}).",
        created.email, created.id
    );
    println!("Single-use link to set the password (valid 7 days, also mailed): {link}");
    Ok(())
}

async fn billing(pool: &PgPool, command: BillingCommand) -> anyhow::Result<()> {
    use crate::billing;
    let words = |e: crate::error::Error| anyhow::anyhow!("{}", http::fr::message(&e));
    let review = match command {
        BillingCommand::Run {
            month,
            regie,
            issue,
        } => {
            let review = billing::run(pool, None, &regie, month)
                .await
                .map_err(words)?;
            if issue {
                billing::issue(pool, None, &regie, month)
                    .await
                    .map_err(words)?
            } else {
                review
            }
        }
        BillingCommand::Issue { month, regie } => billing::issue(pool, None, &regie, month)
            .await
            .map_err(words)?,
    };
    print!("{}", describe_review(&review));
    Ok(())
}

/// The review as the console prints it: plain lines, amounts in euros.
fn describe_review(review: &crate::billing::RunReview) -> String {
    use crate::billing::{DocumentKind, RunStatus};
    use std::fmt::Write;
    let mut out = String::new();
    let status = match review.status {
        RunStatus::Draft => "draft",
        RunStatus::Issued => "issued",
    };
    let credit_notes = review
        .invoices
        .iter()
        .filter(|i| i.kind == DocumentKind::CreditNote)
        .count();
    let _ = writeln!(
        out,
        "Billing run {} for régie {} ({}): {status}",
        review.month, review.regie.code, review.regie.name
    );
    let _ = writeln!(
        out,
        "Invoices: {}, credit notes: {credit_notes}",
        review.invoices.len() - credit_notes
    );
    let _ = writeln!(
        out,
        "Total: {} EUR (previous month: {} EUR)",
        review.total, review.previous_total
    );
    let _ = writeln!(
        out,
        "Households whose total changed: {}",
        review.differences.len()
    );
    for d in review.differences.iter().take(10) {
        let _ = writeln!(
            out,
            "  {} (household {}): {} EUR, previous {} EUR",
            d.household_name, d.household, d.this_month, d.previous_month
        );
    }
    let _ = writeln!(
        out,
        "Booked days not recorded (billed as booked): {}",
        review.unrecorded_days
    );
    let _ = writeln!(out, "Regularisation lines: {}", review.regularisation_lines);
    if let (Some(first), Some(last)) = (
        review
            .invoices
            .iter()
            .filter_map(|i| i.number.as_deref())
            .min(),
        review
            .invoices
            .iter()
            .filter_map(|i| i.number.as_deref())
            .max(),
    ) {
        let _ = writeln!(out, "Numbers: {first} to {last}");
    }
    out
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
