//! Where snapshots go: a repository, how to unlock it and how to reach it.

use std::{
    fmt,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use rustic_backend::{LocalBackend, RestBackend};
use rustic_core::{RepositoryBackends, RepositoryOptions, WriteBackend};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::error::{Error, Result, RusticContext};

/// Default number of retries of a failed REST request. rustic_backend backs off
/// exponentially from one second, so 3 retries give up after about 7 s instead of the
/// minute its default of 5 takes (a TLS or DNS failure is caught earlier by the
/// preflight, without any retry).
pub const DEFAULT_REST_RETRIES: usize = 3;

/// How long the preflight request may take before the server is called unreachable.
const PREFLIGHT_TIMEOUT: Duration = Duration::from_secs(10);

/// One repository that snapshots are written to.
///
/// Secrets are never inline: the repository password is read from `password_file`, and
/// the REST password either from `rest_password_file` or from the URL (then masked in
/// `Debug` and in every error message).
///
/// ```toml
/// name = "second-site"
/// repository = "rest:https://cantine@backup.example.org:8000/cantine/"
/// password_file = "/etc/cantine/secrets/restic-second-site"
/// rest_password_file = "/etc/cantine/secrets/rest-second-site"
/// ca_cert = "/etc/cantine/second-site-ca.pem"
/// cache_dir = "/var/cache/cantine/restic"
/// append_only = true
/// ```
#[derive(Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// Short name used in logs, metrics labels and `--target`.
    pub name: String,
    /// A local directory, or `rest:http(s)://[user[:password]@]host:port/path/`.
    pub repository: String,
    /// File holding the repository (encryption) password; a trailing newline is ignored.
    pub password_file: PathBuf,
    /// File holding the HTTP basic-auth password of a REST repository whose URL names
    /// only the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rest_password_file: Option<PathBuf>,
    /// PEM file of the CA that signed the REST server's certificate, added to the
    /// system roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_cert: Option<PathBuf>,
    /// Cache directory for repository metadata; `None` runs without a cache. Never the
    /// home-directory default: a service's home may be read-only or shared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_dir: Option<PathBuf>,
    /// The appliance cannot delete anything there (a second site behind
    /// `rest-server --append-only`); retention is refused up front instead of failing
    /// halfway.
    #[serde(default)]
    pub append_only: bool,
    /// Retries of a failed REST request.
    #[serde(default = "default_retries")]
    pub rest_retries: usize,
}

fn default_retries() -> usize {
    DEFAULT_REST_RETRIES
}

impl Target {
    /// A local or REST target with the defaults: no cache, not append-only.
    pub fn new(
        name: impl Into<String>,
        repository: impl Into<String>,
        password_file: impl Into<PathBuf>,
    ) -> Self {
        Self {
            name: name.into(),
            repository: repository.into(),
            password_file: password_file.into(),
            rest_password_file: None,
            ca_cert: None,
            cache_dir: None,
            append_only: false,
            rest_retries: DEFAULT_REST_RETRIES,
        }
    }

    /// Checks what can be checked without touching the repository: a usable name, a
    /// parseable location, readable non-empty secret files, REST-only options only on
    /// REST targets. Meant for configuration loading, so mistakes show at start-up rather
    /// than at the first hourly backup.
    pub fn validate(&self) -> Result<()> {
        let invalid = |reason: String| Error::InvalidTarget {
            target: self.name.clone(),
            reason,
        };
        if self.name.is_empty()
            || !self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(invalid(
                "the name must be non-empty ASCII letters, digits, `-` or `_`".to_owned(),
            ));
        }
        let location = self.location()?;
        if self.password()?.is_empty() {
            return Err(invalid("the password file is empty".to_owned()));
        }
        match location {
            Location::Local(_) => {
                if self.rest_password_file.is_some() || self.ca_cert.is_some() {
                    return Err(invalid(
                        "`rest_password_file` and `ca_cert` apply to REST targets only".into(),
                    ));
                }
            }
            Location::Rest(url) => {
                if let Some(file) = &self.rest_password_file {
                    if url.username().is_empty() || url.password().is_some() {
                        return Err(invalid(
                            "with `rest_password_file`, the URL names the user only".into(),
                        ));
                    }
                    read_secret(&self.name, "REST password file", file)?;
                }
                if let Some(ca) = &self.ca_cert {
                    self.ca_certificate(ca)?;
                }
            }
        }
        Ok(())
    }

    /// Where the repository is, parsed.
    pub fn location(&self) -> Result<Location> {
        Location::parse(&self.repository).map_err(|reason| Error::InvalidTarget {
            target: self.name.clone(),
            reason,
        })
    }

    /// The repository location with any password replaced by `***`, for logs.
    pub fn redacted_location(&self) -> String {
        match self.location() {
            Ok(location) => location.to_string(),
            Err(_) => "<invalid repository location>".to_owned(),
        }
    }

    pub(crate) fn password(&self) -> Result<String> {
        read_secret(&self.name, "password file", &self.password_file)
    }

    pub(crate) fn repository_options(&self) -> RepositoryOptions {
        match &self.cache_dir {
            Some(dir) => RepositoryOptions::default().cache_dir(dir.clone()),
            None => RepositoryOptions::default().no_cache(true),
        }
    }

    /// The rustic backend for this target. For REST, a preflight request first tells
    /// apart TLS, credential and "no repository" failures, which rustic would otherwise
    /// retry for a minute and then report as "No repository config file found".
    pub(crate) fn backends(&self) -> Result<(RepositoryBackends, Existence)> {
        let (backend, existence): (Arc<dyn WriteBackend>, Existence) = match self.location()? {
            Location::Local(path) => {
                let path = path.to_str().ok_or_else(|| Error::InvalidTarget {
                    target: self.name.clone(),
                    reason: "the repository path is not valid UTF-8".to_owned(),
                })?;
                let backend = LocalBackend::new(path, []).during(&self.name, "opening")?;
                (Arc::new(backend), Existence::Unknown)
            }
            Location::Rest(mut url) => {
                if let Some(file) = &self.rest_password_file {
                    let password = read_secret(&self.name, "REST password file", file)?;
                    if url.set_password(Some(&password)).is_err() || url.username().is_empty() {
                        return Err(Error::InvalidTarget {
                            target: self.name.clone(),
                            reason: "`rest_password_file` needs a user name in the URL".into(),
                        });
                    }
                }
                let existence = self.preflight(&url)?;
                let mut options = vec![("retry".to_owned(), self.rest_retries.to_string())];
                if let Some(ca) = &self.ca_cert {
                    options.push(("cacert".to_owned(), path_str(&self.name, ca)?.to_owned()));
                }
                let backend =
                    RestBackend::new(url.as_str(), options).during(&self.name, "opening")?;
                (Arc::new(backend), existence)
            }
        };
        Ok((RepositoryBackends::new(backend, None), existence))
    }

    /// The second site's CA certificate, read and parsed.
    fn ca_certificate(&self, ca: &Path) -> Result<reqwest::Certificate> {
        let pem = std::fs::read(ca).map_err(|source| Error::ReadSecret {
            target: self.name.clone(),
            what: "CA certificate",
            path: ca.to_owned(),
            source,
        })?;
        reqwest::Certificate::from_pem(&pem).map_err(|e| Error::InvalidTarget {
            target: self.name.clone(),
            reason: format!("cannot parse CA certificate `{}`: {e}", ca.display()),
        })
    }

    fn preflight(&self, url: &Url) -> Result<Existence> {
        let location = self.redacted_location();
        let mut builder = reqwest::blocking::Client::builder()
            .timeout(PREFLIGHT_TIMEOUT)
            .connect_timeout(PREFLIGHT_TIMEOUT);
        if let Some(ca) = &self.ca_cert {
            let cert = self.ca_certificate(ca)?;
            builder = builder.add_root_certificate(cert);
        }
        let client = builder.build().map_err(|e| Error::InvalidTarget {
            target: self.name.clone(),
            reason: format!("cannot build the HTTP client: {e}"),
        })?;
        let config_url = url.join("config").map_err(|e| Error::InvalidTarget {
            target: self.name.clone(),
            reason: format!("bad REST URL: {e}"),
        })?;
        match client.head(config_url).send() {
            Ok(response) => match response.status().as_u16() {
                200..=299 => Ok(Existence::Exists),
                404 => Ok(Existence::Missing),
                status @ (401 | 403) => Err(Error::Unauthorized {
                    target: self.name.clone(),
                    location,
                    status,
                }),
                status => Err(Error::Unreachable {
                    target: self.name.clone(),
                    location,
                    detail: format!("unexpected HTTP status {status}"),
                }),
            },
            Err(error) => {
                let detail = crate::error::chain(&error);
                let lower = detail.to_lowercase();
                if ["certificate", "tls", "handshake", "unknownissuer"]
                    .iter()
                    .any(|w| lower.contains(w))
                {
                    Err(Error::Tls {
                        target: self.name.clone(),
                        location,
                        detail,
                    })
                } else {
                    Err(Error::Unreachable {
                        target: self.name.clone(),
                        location,
                        detail,
                    })
                }
            }
        }
    }
}

/// What the preflight learned about the repository's config file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Existence {
    Exists,
    Missing,
    /// Local targets: rustic lists the directory itself, at no cost.
    Unknown,
}

// Hand-written so that a password in a REST URL never reaches a log line.
impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Target")
            .field("name", &self.name)
            .field("repository", &self.redacted_location())
            .field("password_file", &self.password_file)
            .field("rest_password_file", &self.rest_password_file)
            .field("ca_cert", &self.ca_cert)
            .field("cache_dir", &self.cache_dir)
            .field("append_only", &self.append_only)
            .field("rest_retries", &self.rest_retries)
            .finish()
    }
}

/// A parsed repository location.
#[derive(Clone, PartialEq, Eq)]
pub enum Location {
    Local(PathBuf),
    Rest(Url),
}

impl Location {
    fn parse(raw: &str) -> Result<Self, String> {
        if let Some(rest) = raw.strip_prefix("rest:") {
            let url = Url::parse(rest).map_err(|e| format!("bad REST URL: {e}"))?;
            if !matches!(url.scheme(), "http" | "https") {
                return Err("a REST URL must be http:// or https://".to_owned());
            }
            // rustic_backend appends the slash too; doing it here keeps `join` working
            // for the preflight.
            let url = if url.path().ends_with('/') {
                url
            } else {
                let mut url = url;
                url.set_path(&format!("{}/", url.path()));
                url
            };
            return Ok(Self::Rest(url));
        }
        let path = raw.strip_prefix("local:").unwrap_or(raw);
        if path.is_empty() {
            return Err("empty repository location".to_owned());
        }
        // Anything else with a scheme (sftp:, s3:, rclone:) is a backend this build
        // leaves out, not a relative directory name.
        if let Some((scheme, _)) = path.split_once(':')
            && !scheme.contains('/')
        {
            return Err(format!(
                "unsupported backend `{scheme}:` (supported: a local path or rest:)"
            ));
        }
        Ok(Self::Local(PathBuf::from(path)))
    }

    pub fn is_local(&self) -> bool {
        matches!(self, Self::Local(_))
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Local(path) => write!(f, "{}", path.display()),
            Self::Rest(url) => {
                let mut url = url.clone();
                if url.password().is_some() {
                    let _ = url.set_password(Some("***"));
                }
                write!(f, "rest:{url}")
            }
        }
    }
}

impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Location({self})")
    }
}

fn read_secret(target: &str, what: &'static str, path: &Path) -> Result<String> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::ReadSecret {
        target: target.to_owned(),
        what,
        path: path.to_owned(),
        source,
    })?;
    // Like restic's --password-file: only the line ending is dropped, so a password may
    // still begin or end with spaces.
    Ok(text.trim_end_matches(['\n', '\r']).to_owned())
}

fn path_str<'a>(target: &str, path: &'a Path) -> Result<&'a str> {
    path.to_str().ok_or_else(|| Error::InvalidTarget {
        target: target.to_owned(),
        reason: format!("path `{}` is not valid UTF-8", path.display()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rest_password_is_masked_in_debug_and_display() {
        let target = Target::new(
            "second-site",
            "rest:https://cantine:s3cr3t@backup.example.org:8000/cantine",
            "/etc/pw",
        );
        let debug = format!("{target:?}");
        assert!(!debug.contains("s3cr3t"), "{debug}");
        assert!(debug.contains("cantine:***@backup.example.org"), "{debug}");
        assert_eq!(
            target.location().unwrap().to_string(),
            "rest:https://cantine:***@backup.example.org:8000/cantine/"
        );
    }

    #[test]
    fn locations_are_parsed_and_unknown_backends_refused() {
        assert_eq!(
            Location::parse("/srv/backup/repo").unwrap(),
            Location::Local("/srv/backup/repo".into())
        );
        assert_eq!(
            Location::parse("local:/srv/backup/repo").unwrap(),
            Location::Local("/srv/backup/repo".into())
        );
        assert!(Location::parse("sftp:host:/repo").is_err());
        assert!(Location::parse("rest:ftp://host/repo").is_err());
        assert!(Location::parse("").is_err());
    }

    #[test]
    fn target_reads_from_toml_with_defaults() {
        let target: Target =
            toml_like(r#"{"name":"local","repository":"/srv/repo","password_file":"/etc/pw"}"#);
        assert_eq!(target.rest_retries, DEFAULT_REST_RETRIES);
        assert!(target.cache_dir.is_none());
        assert!(!target.append_only);
    }

    #[test]
    fn validate_catches_configuration_mistakes_early() {
        let dir = tempfile::tempdir().unwrap();
        let password = dir.path().join("pw");
        std::fs::write(&password, "secret\n").unwrap();
        let local = Target::new("local", "/srv/repo", &password);
        local.validate().unwrap();

        let mut bad_name = local.clone();
        bad_name.name = "second site".into();
        assert!(bad_name.validate().is_err());

        let mut missing_password = local.clone();
        missing_password.password_file = dir.path().join("absent");
        assert!(matches!(
            missing_password.validate(),
            Err(Error::ReadSecret { .. })
        ));

        let mut ca_on_local = local.clone();
        ca_on_local.ca_cert = Some(dir.path().join("ca.pem"));
        assert!(ca_on_local.validate().is_err());

        let mut both_passwords = Target::new("site", "rest:https://u:p@host/u/repo", &password);
        both_passwords.rest_password_file = Some(password.clone());
        assert!(both_passwords.validate().is_err());
    }

    fn toml_like(json: &str) -> Target {
        serde_json::from_str(json).unwrap()
    }
}
