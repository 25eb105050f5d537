//! Integration tests against real repositories: local ones, a second site served by
//! `rclone serve restic` over TLS, and the `restic` CLI reading what the library wrote.
//!
//! One test binary, so that its tests share one process: the repository key derivation
//! (scrypt) costs about 10 s in a debug build and the library remembers unlocked keys
//! per process; the tests also run in parallel across the cores this way.

mod backup_restore;
mod common;
mod corruption;
mod repo_init;
mod restic_cli;
mod retention;
mod second_site;
