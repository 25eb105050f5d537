//! Cantine: school-canteen enrollment, meal booking and billing for French communes.
//!
//! The library holds everything; `main.rs` only calls [`cli::main`]. Tests drive the same
//! [`http::router`] and [`http::serve`] the binary runs.
//!
//! One capability is one folder (`absences`, `accounts`, `households`, `enrollments`,
//! `reservations`, `calendar`, `closures`, `custody`, `staff`, `audit`, `backup`, `menus`,
//! `attendance`, `kitchen`, `billing`, `payments`, `status`), standing on `platform` and on the pure `cantine_domain` crate. The
//! dependency rule is `http → services → {store, domain}`, with no cycle: see
//! `docs/architecture.md`.

pub mod absences;
pub mod accounts;
pub mod attendance;
pub mod audit;
pub mod backup;
pub mod billing;
pub mod calendar;
pub mod cli;
pub mod closures;
pub mod custody;
pub mod demo;
pub mod enrollments;
pub mod error;
pub mod households;
pub mod http;
pub mod kitchen;
pub mod menus;
pub mod payments;
pub mod platform;
pub mod privacy;
pub mod reservations;
pub mod staff;
pub mod status;
