//! The JSON API, one module per version.

pub mod v1;

pub use v1::routes;
