//! The bench behind `make bench` (see `docs/benchmarks.md`): a generated commune seeded from a
//! fixed formula ([`seed`]), parents who log in and set a month of reservations through the
//! JSON API ([`rush`]), a plain load generator for the HTTP stack's ceiling ([`load`]), and the
//! check that every acknowledged change is in the database with its history ([`verify`]).
//!
//! It talks to a running `cantine serve` over HTTP only, as families and staff do
//! ([`search`]: household search as a manager; [`attendance`]: the day's list as an agent;
//! [`kitchen`]: the kitchen's counts), and to its database only to seed it and to check it
//! afterwards. The billing run ([`billing`]) is timed in this process, as the console runs it,
//! in databases of its own that it creates in the same cluster.

pub mod attendance;
pub mod billing;
pub mod kitchen;
pub mod load;
pub mod rush;
pub mod search;
pub mod seed;
pub mod stats;
pub mod verify;

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

/// A pool on the private cluster of a `cantine serve` (`<data_dir>/pg/run`), as its superuser.
pub async fn connect(socket_dir: &std::path::Path) -> anyhow::Result<PgPool> {
    let options = PgConnectOptions::new()
        .socket(socket_dir)
        .username("cantine")
        .database("cantine");
    Ok(PgPoolOptions::new()
        .max_connections(2)
        .connect_with(options)
        .await?)
}

/// Today in Europe/Paris, as the app judges it (summer time included).
pub fn today() -> chrono::NaiveDate {
    chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Paris)
        .date_naive()
}

/// The API's name for a date's weekday (`mon`, `tue`…).
pub fn weekday_code(date: chrono::NaiveDate) -> &'static str {
    cantine_domain::weekdays::weekday_code(chrono::Datelike::weekday(&date))
}
