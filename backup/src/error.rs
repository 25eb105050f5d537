use std::path::PathBuf;

use rustic_core::RusticError;

/// Everything that can go wrong while backing up, restoring or checking.
///
/// Messages name the target and say what the operator should look at; they never
/// contain a repository password or the password of a REST URL.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("target `{target}`: invalid configuration: {reason}")]
    InvalidTarget { target: String, reason: String },

    #[error("target `{target}`: cannot read {what} `{}`: {source}", path.display())]
    ReadSecret {
        target: String,
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "target `{target}`: no repository at {location} (no config file); \
         initialise it first"
    )]
    NotInitialised { target: String, location: String },

    #[error(
        "target `{target}`: the REST server at {location} refused the credentials \
         (HTTP {status}); check the user and password of the repository URL \
         (with --private-repos the path must start with the user name)"
    )]
    Unauthorized {
        target: String,
        location: String,
        status: u16,
    },

    #[error(
        "target `{target}`: TLS failure talking to {location}: {detail}; check the \
         server certificate and the target's `ca_cert`"
    )]
    Tls {
        target: String,
        location: String,
        detail: String,
    },

    #[error("target `{target}`: cannot reach {location}: {detail}")]
    Unreachable {
        target: String,
        location: String,
        detail: String,
    },

    #[error("target `{target}`: wrong repository password (no key matches it)")]
    WrongPassword { target: String },

    #[error("dump command `{command}` {status}; no snapshot was made. stderr: {stderr}")]
    CommandFailed {
        command: String,
        status: String,
        stderr: String,
    },

    #[error("dump command `{command}` wrote nothing; no snapshot was made")]
    EmptyDump { command: String },

    #[error(
        "target `{target}`: snapshot {snapshot} does not hold everything that was read \
         ({detail}); it was {cleanup}"
    )]
    IncompleteSnapshot {
        target: String,
        snapshot: String,
        detail: String,
        cleanup: String,
    },

    #[error("target `{target}`: no snapshot `{snapshot}` holding `{path}`")]
    SnapshotNotFound {
        target: String,
        snapshot: String,
        path: String,
    },

    #[error("target `{target}` is append-only: retention there is applied by the site's own job")]
    AppendOnly { target: String },

    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },

    /// An error from rustic_core, shown in its short form (`display_log`), which names
    /// the failing operation; REST locations in it are already masked by rustic_backend.
    #[error("target `{target}`: {operation}: {message}")]
    Repository {
        target: String,
        operation: &'static str,
        message: String,
        #[source]
        source: Box<RusticError>,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }

    pub(crate) fn rustic(target: &str, operation: &'static str, source: Box<RusticError>) -> Self {
        if source.is_incorrect_password() {
            return Self::WrongPassword {
                target: target.to_owned(),
            };
        }
        Self::Repository {
            target: target.to_owned(),
            operation,
            message: source.display_log(),
            source,
        }
    }
}

/// Adds the target name and operation to a rustic result.
pub(crate) trait RusticContext<T> {
    fn during(self, target: &str, operation: &'static str) -> Result<T>;
}

impl<T> RusticContext<T> for Result<T, Box<RusticError>> {
    fn during(self, target: &str, operation: &'static str) -> Result<T> {
        self.map_err(|e| Error::rustic(target, operation, e))
    }
}

/// An error with its causes, one after the other: rustic's messages are in the causes.
pub(crate) fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
