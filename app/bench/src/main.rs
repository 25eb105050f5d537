//! `cantine-bench seed|rush|search|attendance|kitchen|billing|load`: the pieces `scripts/bench` puts together. Each prints
//! one JSON object on standard output.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::bail;
use clap::{Parser, Subcommand};

use cantine_bench::{connect, load, rush, seed, verify};

#[derive(Parser)]
#[command(name = "cantine-bench", about = "The booking-rush bench of Cantine")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Seed the generated commune into the empty database of a `cantine serve`.
    Seed {
        /// The private cluster's socket folder (`<data_dir>/pg/run`).
        #[arg(long)]
        socket: PathBuf,
        /// `default` (10,000 children) or `small`.
        #[arg(long, default_value = "default")]
        size: String,
    },
    /// Parents log in, then set the month for each of their children.
    Rush {
        #[arg(long)]
        base_url: String,
        /// How many households take part (the first ones).
        #[arg(long, default_value_t = 1280)]
        parents: usize,
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        /// Checks afterwards that every acknowledged change is stored with its history.
        #[arg(long)]
        verify_socket: Option<PathBuf>,
    },
    /// Household search over HTTP as a manager: by child name, e-mail and phone.
    Search {
        #[arg(long)]
        base_url: String,
        #[arg(long)]
        socket: PathBuf,
        /// Queries of each kind.
        #[arg(long, default_value_t = 200)]
        per_kind: usize,
    },
    /// The attendance list of the largest school over HTTP as its agent: page and API.
    Attendance {
        #[arg(long)]
        base_url: String,
        #[arg(long)]
        socket: PathBuf,
        /// Reads of each (page, API).
        #[arg(long, default_value_t = 100)]
        reads: usize,
    },
    /// Kitchen counts for the next 5 service days over HTTP, as a kitchen member.
    Kitchen {
        #[arg(long)]
        base_url: String,
        #[arg(long)]
        socket: PathBuf,
        #[arg(long, default_value_t = 100)]
        requests: usize,
    },
    /// The monthly billing run (draft, then issue) at 1×, 2× and 4× the commune, each in a
    /// database of its own in the cluster; fails when 1× takes `limit_seconds` or more.
    Billing {
        #[arg(long)]
        socket: PathBuf,
        /// Children at 1×.
        #[arg(long, default_value_t = 10_000)]
        children: usize,
        #[arg(long, value_delimiter = ',', default_value = "1,2,4")]
        scales: Vec<u32>,
        #[arg(long, default_value_t = 10.0)]
        limit_seconds: f64,
        /// Leave the databases (`bench_billing_<k>x`) in the cluster afterwards.
        #[arg(long)]
        keep: bool,
    },
    /// A plain GET load (the HTTP stack's ceiling on `/healthz`).
    Load {
        #[arg(long)]
        url: String,
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let year = seed::current_year(cantine_bench::today())?;
    let out = match cli.command {
        Command::Seed { socket, size } => {
            let pool = connect(&socket).await?;
            serde_json::to_value(seed::seed(&pool, seed::Size::named(&size)?, year).await?)?
        }
        Command::Rush {
            base_url,
            parents,
            concurrency,
            verify_socket,
        } => {
            let (from, to) = rush::month_ahead(cantine_bench::today(), year)?;
            let report = rush::run(rush::RushConfig {
                base_url,
                parents,
                concurrency,
                password: seed::PASSWORD.to_owned(),
                from,
                to,
            })
            .await?;
            let mut value = serde_json::to_value(&report)?;
            if let Some(socket) = verify_socket {
                let verified = verify::check(&connect(&socket).await?, &report.acks).await?;
                if !verified.ok() {
                    eprintln!(
                        "cantine-bench: {}",
                        serde_json::to_string_pretty(&verified)?
                    );
                    bail!(
                        "{} acknowledged changes do not match the database",
                        verified.problem_count
                    );
                }
                value["verified"] = serde_json::to_value(&verified)?;
            }
            value
        }
        Command::Search {
            base_url,
            socket,
            per_kind,
        } => {
            let report =
                cantine_bench::search::run(&base_url, &connect(&socket).await?, per_kind).await?;
            if report.wrong > 0 {
                bail!("{} searches missed their household", report.wrong);
            }
            serde_json::to_value(&report)?
        }
        Command::Attendance {
            base_url,
            socket,
            reads,
        } => {
            let report =
                cantine_bench::attendance::run(&base_url, &connect(&socket).await?, reads).await?;
            if report.wrong > 0 {
                bail!("{} attendance lists missed children", report.wrong);
            }
            serde_json::to_value(&report)?
        }
        Command::Kitchen {
            base_url,
            socket,
            requests,
        } => {
            let report =
                cantine_bench::kitchen::run(&base_url, &connect(&socket).await?, requests).await?;
            if report.wrong > 0 {
                bail!("{} answers missed a school or a day", report.wrong);
            }
            serde_json::to_value(&report)?
        }
        Command::Billing {
            socket,
            children,
            scales,
            limit_seconds,
            keep,
        } => {
            let options = cantine_bench::billing::Options {
                children,
                scales,
                limit_s: limit_seconds,
                keep,
            };
            let report = cantine_bench::billing::run(&socket, year, &options).await?;
            // The figures go out first: a run over the limit is still worth reading.
            println!("{}", serde_json::to_string_pretty(&report)?);
            if report.wrong > 0 {
                bail!("{} billing checks failed", report.wrong);
            }
            if !report.within_limit {
                bail!("the 1x billing run and issue took {limit_seconds} s or more");
            }
            return Ok(());
        }
        Command::Load {
            url,
            concurrency,
            seconds,
        } => {
            serde_json::to_value(load::run(&url, concurrency, Duration::from_secs(seconds)).await?)?
        }
    };
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}
