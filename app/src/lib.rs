//! Cantine: school-canteen enrollment, meal booking and billing for French communes.
//!
//! The library holds everything; `main.rs` only calls [`cli::main`]. Tests drive the same
//! [`http::router`] and [`http::serve`] the binary runs.

pub mod accounts;
pub mod backup;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
pub mod family;
pub mod http;
pub mod mail;
pub mod metrics;
pub mod password;
pub mod pg;
pub mod rate_limit;
pub mod reservations;
pub mod telemetry;
#[doc(hidden)]
pub mod testing;
