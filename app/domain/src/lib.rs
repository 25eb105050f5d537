//! The pure domain of Cantine: school calendars, booking deadlines, enrollment and booking
//! rules, the commune's rules judged at an instant, identifiers and money, and the data formats
//! the commune exchanges (SCDL menus, the PES V2 file of titres for the public accountant,
//! PayFiP's SOAP envelopes).
//!
//! Nothing here knows about HTTP, SQL, French wording or the clock: services load what these
//! functions need, call them with `now`, and store the outcome. Times are computed in
//! Europe/Paris, summer time included, and handed back as UTC instants. This crate depends on
//! no tokio, sqlx, axum or askama, so `cargo test -p cantine-domain` needs no database.

pub mod absence;
pub mod activity;
pub mod billing;
pub mod booking;
pub mod calendar;
pub mod child;
pub mod custody;
pub mod deadline;
pub mod enrollment;
pub mod ids;
pub mod menu;
pub mod money;
pub mod payfip;
pub mod pes;
pub mod roles;
pub mod rules;
pub mod scdl;
pub mod sepa;
pub mod tariff;
pub mod weekdays;
