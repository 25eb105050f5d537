//! Logs: structured fields to the journal under systemd, readable lines on a terminal.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// `RUST_LOG` wins over the configured filter, so an operator can turn up one module's logs
/// without editing the configuration.
///
/// `try_init` also installs the `log` → `tracing` bridge (tracing-subscriber's `tracing-log`
/// feature, enabled explicitly in the workspace): rustic_core, under the backups, logs
/// through `log`, and its records then go through the same filter and output.
pub fn init(config_filter: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(config_filter));
    let registry = tracing_subscriber::registry().with(filter);
    // systemd sets JOURNAL_STREAM for services whose output goes to the journal.
    if std::env::var_os("JOURNAL_STREAM").is_some() {
        match tracing_journald::layer() {
            Ok(journald) => {
                let _ = registry
                    .with(journald.with_syslog_identifier("cantine".into()))
                    .try_init();
                return;
            }
            Err(e) => eprintln!("journald unavailable ({e}); logging to stderr"),
        }
    }
    let _ = registry
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(std::io::stderr().is_terminal()),
        )
        .try_init();
}
