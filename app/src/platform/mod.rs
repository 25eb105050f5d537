//! What every capability stands on and none of them owns: configuration, the database and its
//! private server, the clock, mail transport, metrics registry, logs and rate limiting.
//!
//! Nothing here knows about families, children or meals beyond the domain types configuration
//! parses (the calendar, the deadline rule).

pub mod clock;
pub mod config;
pub mod db;
pub mod mail;
pub mod metrics;
pub mod pg;
pub mod rate_limit;
pub mod sql;
pub mod telemetry;

use cantine_domain::rules::Rules;
use chrono::{DateTime, Utc};

/// The commune's rules as configured, judged at `now`.
pub fn rules(config: &config::Config, now: DateTime<Utc>) -> Rules<'_> {
    Rules {
        holidays: &config.calendar.holidays,
        zone: config.calendar.zone,
        deadline: &config.booking.deadline,
        now,
    }
}

/// Large blocks (argon2's 19 MiB, a dump's buffers) go back to the system when freed. glibc
/// otherwise raises its mmap threshold after the first such block is freed and keeps the next
/// ones in per-thread arenas: 64 parents logging in at once left the process at 14 GiB.
pub fn return_large_blocks_to_the_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes the allocator's tuning; called once, before any thread.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}
