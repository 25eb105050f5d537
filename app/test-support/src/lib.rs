//! Cantine's test support, a dev-dependency of `cantine` only:
//!
//! - [`cluster`]: one throwaway PostgreSQL cluster per test binary, a database per test copied
//!   from a template migrated once, and the guard that never leaves an orphan server;
//! - [`TestApp`]: the real router served on 127.0.0.1:0 by [`cantine::http::serve`], built
//!   with [`TestApp::builder`] (clock, data folder, configuration, database);
//! - [`fixtures`]: a commune's school and year, households, confirmed guardians, families
//!   signed in through the API, children and enrolled children;
//! - [`mail`]: the spooled mails and the tokens of their links;
//! - [`time`]: Paris wall-clock instants and ISO dates, as tests write them.

pub mod app;
pub mod billing;
pub mod cluster;
pub mod fixtures;
pub mod mail;
pub mod process;
pub mod time;

pub use app::{TestApp, TestAppBuilder};
pub use cluster::{TestDb, cluster, config, database, empty_database};
