//! Configuration: one typed struct, built from defaults, then the TOML file and its drop-ins
//! (`<file>.d/*.toml`), then `CANTINE_*` environment variables. Unknown keys are errors so that
//! a typo never silently falls back to a default on a town hall's appliance.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;

use cantine_domain::calendar::{HolidayCalendar, Zone};
use cantine_domain::deadline::DeadlineRule;

/// Where the configuration file is looked for when neither `--config` nor `CANTINE_CONFIG` says.
pub const DEFAULT_CONFIG_PATH: &str = "/etc/cantine/cantine.toml";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration file {path}: {source}")]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid configuration file {path}: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("invalid configuration once {files} are merged: {message}")]
    Merged { files: String, message: String },
    #[error("invalid value for {key}: {message}")]
    Invalid { key: String, message: String },
}

impl ConfigError {
    fn invalid(key: &str, message: impl Into<String>) -> Self {
        Self::Invalid {
            key: key.to_owned(),
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    /// The files read, in order: the main file, then its drop-ins. Empty when none was.
    pub files: Vec<PathBuf>,
    pub listen: SocketAddr,
    pub public_url: Url,
    pub data_dir: PathBuf,
    pub database: DatabaseConfig,
    pub secrets: SecretsConfig,
    pub log: LogConfig,
    pub http: HttpConfig,
    pub booking: BookingConfig,
    pub calendar: CalendarConfig,
    pub mail: MailConfig,
    pub backup: BackupConfig,
}

/// `[backup]`: where snapshots go and what is kept.
#[derive(Debug, Clone)]
pub struct BackupConfig {
    /// The host name stored in each snapshot (restic groups snapshots by it).
    pub host: String,
    /// Where the dump is written before it is sent: a disk with room for it, not a tmpfs.
    pub temp_dir: PathBuf,
    /// Retention on the repositories the appliance may delete from.
    pub keep: cantine_backup::KeepPolicy,
    pub targets: Vec<cantine_backup::Target>,
}

#[derive(Debug, Clone, Default)]
pub struct BookingConfig {
    /// When a day locks: by default 2 service days before, at 10:00 Europe/Paris.
    pub deadline: DeadlineRule,
}

#[derive(Debug, Clone)]
pub struct CalendarConfig {
    pub zone: Zone,
    /// The school holidays: the bundled official calendar unless the commune gives its own file.
    pub holidays: Arc<HolidayCalendar>,
    pub file: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct MailConfig {
    pub from: String,
    /// `None`: messages are written as `.eml` files under `<data_dir>/mail` (development, demo).
    pub smtp_url: Option<SecretUrl>,
}

#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    /// `None` means: run a private PostgreSQL under `<data_dir>/pg`.
    pub url: Option<SecretUrl>,
    pub max_connections: u32,
}

#[derive(Debug, Clone, Default)]
pub struct SecretsConfig {
    pub session_key_file: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct LogConfig {
    pub filter: String,
}

#[derive(Debug, Clone)]
pub struct HttpConfig {
    pub request_timeout_secs: u64,
    pub body_limit_bytes: usize,
}

/// A database URL whose password never reaches a log line or `check-config`'s output.
#[derive(Clone)]
pub struct SecretUrl(SecretString);

impl SecretUrl {
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    pub fn masked(&self) -> String {
        match Url::parse(self.expose()) {
            Ok(mut url) => {
                if url.password().is_some() {
                    let _ = url.set_password(Some("********"));
                }
                url.to_string()
            }
            Err(_) => "********".to_owned(),
        }
    }
}

impl std::fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.masked())
    }
}

/// The file's shape. Everything optional so that the file only says what differs from defaults.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    public_url: Option<String>,
    data_dir: Option<PathBuf>,
    #[serde(default)]
    database: FileDatabase,
    #[serde(default)]
    secrets: FileSecrets,
    #[serde(default)]
    log: FileLog,
    #[serde(default)]
    http: FileHttp,
    #[serde(default)]
    booking: FileBooking,
    #[serde(default)]
    calendar: FileCalendar,
    #[serde(default)]
    mail: FileMail,
    #[serde(default)]
    backup: FileBackup,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileBackup {
    host: Option<String>,
    temp_dir: Option<PathBuf>,
    keep: Option<cantine_backup::KeepPolicy>,
    #[serde(default)]
    targets: Vec<cantine_backup::Target>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileBooking {
    deadline: Option<DeadlineRule>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileCalendar {
    zone: Option<String>,
    file: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileMail {
    from: Option<String>,
    smtp_url: Option<String>,
    smtp_password_file: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDatabase {
    url: Option<String>,
    password_file: Option<PathBuf>,
    max_connections: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSecrets {
    session_key_file: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileLog {
    filter: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileHttp {
    request_timeout_secs: Option<u64>,
    body_limit_bytes: Option<usize>,
}

/// Where to read the configuration from.
#[derive(Debug, Clone, Default)]
pub struct Source {
    /// An explicit `--config`: then the file must exist.
    pub file: Option<PathBuf>,
    /// Tests and tools that must not pick up the host's `/etc/cantine/cantine.toml`.
    pub skip_default_file: bool,
}

impl Config {
    /// Loads from the process environment.
    pub fn load(source: &Source) -> Result<Self, ConfigError> {
        Self::load_from(source, |key| std::env::var(key).ok())
    }

    /// Loads with an injectable environment, so tests need not touch the process's.
    pub fn load_from(
        source: &Source,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let explicit = source
            .file
            .clone()
            .or_else(|| env("CANTINE_CONFIG").map(PathBuf::from));
        let main = explicit.or_else(|| {
            let path = Path::new(DEFAULT_CONFIG_PATH);
            (!source.skip_default_file && path.exists()).then(|| path.to_owned())
        });
        let (file, files) = match main {
            Some(path) => read_files(&path)?,
            None => (FileConfig::default(), Vec::new()),
        };

        let listen_text = env("CANTINE_LISTEN")
            .or(file.listen)
            .unwrap_or_else(|| "127.0.0.1:8080".to_owned());
        let listen: SocketAddr = listen_text.parse().map_err(|_| {
            ConfigError::invalid(
                "listen",
                format!("{listen_text:?} is not an address:port such as 127.0.0.1:8080"),
            )
        })?;

        let public_url_text = env("CANTINE_PUBLIC_URL")
            .or(file.public_url)
            .unwrap_or_else(|| format!("http://{listen}"));
        let public_url = parse_http_url("public_url", &public_url_text)?;

        let data_dir = env("CANTINE_DATA_DIR")
            .map(PathBuf::from)
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("./var"));

        let url = match env("CANTINE_DATABASE_URL").or(file.database.url) {
            Some(text) => Some(parse_database_url(
                &text,
                file.database.password_file.as_deref(),
            )?),
            None => None,
        };
        let max_connections = file.database.max_connections.unwrap_or(10);
        if max_connections == 0 {
            return Err(ConfigError::invalid(
                "database.max_connections",
                "must be at least 1",
            ));
        }

        let log_filter = env("CANTINE_LOG")
            .or(file.log.filter)
            .unwrap_or_else(|| "info".to_owned());
        tracing_subscriber::EnvFilter::try_new(&log_filter)
            .map_err(|e| ConfigError::invalid("log.filter", e.to_string()))?;

        let http = HttpConfig {
            request_timeout_secs: file.http.request_timeout_secs.unwrap_or(30),
            body_limit_bytes: file.http.body_limit_bytes.unwrap_or(64 * 1024),
        };
        if http.request_timeout_secs == 0 {
            return Err(ConfigError::invalid(
                "http.request_timeout_secs",
                "must be at least 1",
            ));
        }

        let zone_text = env("CANTINE_ZONE")
            .or(file.calendar.zone)
            .unwrap_or_else(|| "A".to_owned());
        let zone: Zone = zone_text
            .parse()
            .map_err(|e: cantine_domain::calendar::UnknownZone| {
                ConfigError::invalid("calendar.zone", e.to_string())
            })?;
        let holidays = match &file.calendar.file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    ConfigError::invalid(
                        "calendar.file",
                        format!("cannot read {}: {e}", path.display()),
                    )
                })?;
                Arc::new(HolidayCalendar::parse(&text).map_err(|e| {
                    ConfigError::invalid("calendar.file", format!("{}: {e}", path.display()))
                })?)
            }
            None => Arc::new(HolidayCalendar::france().clone()),
        };

        let smtp_url = match file.mail.smtp_url {
            Some(text) => Some(parse_smtp_url(
                &text,
                file.mail.smtp_password_file.as_deref(),
            )?),
            None => None,
        };
        let mail = MailConfig {
            from: file.mail.from.unwrap_or_else(|| {
                format!(
                    "Cantine <cantine@{}>",
                    public_url.host_str().unwrap_or("localhost")
                )
            }),
            smtp_url,
        };
        mail.from
            .parse::<lettre::message::Mailbox>()
            .map_err(|e| ConfigError::invalid("mail.from", format!("{:?}: {e}", mail.from)))?;

        let backup = backup_config(file.backup, &data_dir, &env)?;

        Ok(Config {
            files,
            backup,
            booking: BookingConfig {
                deadline: file.booking.deadline.unwrap_or_default(),
            },
            calendar: CalendarConfig {
                zone,
                holidays,
                file: file.calendar.file,
            },
            mail,
            listen,
            public_url,
            data_dir,
            database: DatabaseConfig {
                url,
                max_connections,
            },
            secrets: SecretsConfig {
                session_key_file: file.secrets.session_key_file,
            },
            log: LogConfig { filter: log_filter },
            http,
        })
    }

    /// Cookies get `Secure` only when families reach the service over TLS.
    pub fn is_https(&self) -> bool {
        self.public_url.scheme() == "https"
    }

    /// The effective configuration as `check-config` prints it, secrets masked.
    pub fn describe(&self) -> String {
        let database = match &self.database.url {
            Some(url) => url.masked(),
            None => format!(
                "embedded PostgreSQL in {}",
                self.data_dir.join("pg").display()
            ),
        };
        let session_key = match &self.secrets.session_key_file {
            Some(path) => format!("from {}", path.display()),
            None => "generated under data_dir".to_owned(),
        };
        let calendar_file = match &self.calendar.file {
            Some(path) => path.display().to_string(),
            None => "bundled official calendar".to_owned(),
        };
        let smtp = match &self.mail.smtp_url {
            Some(url) => url.masked(),
            None => format!(
                "none: messages spooled in {}",
                self.data_dir.join("mail").display()
            ),
        };
        let files = if self.files.is_empty() {
            "none".to_owned()
        } else {
            path_list(&self.files)
        };
        format!(
            "config.files = {files}\nlisten = {}\npublic_url = {}\ndata_dir = {}\ndatabase.url = {}\n\
             database.max_connections = {}\nsecrets.session_key = {}\nlog.filter = {}\n\
             http.request_timeout_secs = {}\nhttp.body_limit_bytes = {}\n\
             booking.deadline = {}\ncalendar.zone = {}\ncalendar.file = {}\n\
             mail.from = {}\nmail.smtp_url = {}\n{}",
            self.listen,
            self.public_url,
            self.data_dir.display(),
            database,
            self.database.max_connections,
            session_key,
            self.log.filter,
            self.http.request_timeout_secs,
            self.http.body_limit_bytes,
            self.booking.deadline,
            self.calendar.zone,
            calendar_file,
            self.mail.from,
            smtp,
            self.describe_backup(),
        )
    }
}

impl Config {
    /// The `[backup]` lines of `check-config`: repository locations with any password
    /// replaced, secrets named by their file only.
    fn describe_backup(&self) -> String {
        let b = &self.backup;
        let keep = format!(
            "hourly {}, daily {}, weekly {}, monthly {}",
            b.keep.hourly, b.keep.daily, b.keep.weekly, b.keep.monthly
        );
        let mut text = format!(
            "backup.host = {}\nbackup.temp_dir = {}\nbackup.keep = {keep}\n",
            b.host,
            b.temp_dir.display()
        );
        if b.targets.is_empty() {
            text.push_str("backup.targets = none\n");
        }
        for (i, t) in b.targets.iter().enumerate() {
            text.push_str(&format!(
                "backup.targets[{i}] = {}: {} (password from {}{}{}{})\n",
                t.name,
                t.redacted_location(),
                t.password_file.display(),
                t.rest_password_file
                    .as_ref()
                    .map(|f| format!(", HTTP password from {}", f.display()))
                    .unwrap_or_default(),
                t.ca_cert
                    .as_ref()
                    .map(|f| format!(", CA {}", f.display()))
                    .unwrap_or_default(),
                if t.append_only { ", append-only" } else { "" },
            ));
        }
        text
    }
}

fn backup_config(
    file: FileBackup,
    data_dir: &Path,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<BackupConfig, ConfigError> {
    let host = env("CANTINE_BACKUP_HOST")
        .or(file.host)
        .unwrap_or_else(hostname);
    if host.trim().is_empty() {
        return Err(ConfigError::invalid("backup.host", "must not be empty"));
    }
    let keep = file.keep.unwrap_or_default();
    if keep.keeps_nothing() {
        return Err(ConfigError::invalid(
            "backup.keep",
            "keeps no snapshot at all; set at least one of hourly, daily, weekly, monthly",
        ));
    }
    for (i, target) in file.targets.iter().enumerate() {
        let key = format!("backup.targets[{i}]");
        target
            .validate()
            .map_err(|e| ConfigError::invalid(&key, e.to_string()))?;
        if file.targets[..i].iter().any(|t| t.name == target.name) {
            return Err(ConfigError::invalid(
                &key,
                format!("a second target is named `{}`", target.name),
            ));
        }
    }
    Ok(BackupConfig {
        host,
        temp_dir: file.temp_dir.unwrap_or_else(|| data_dir.join("backup-tmp")),
        keep,
        targets: file.targets,
    })
}

/// The machine's host name, as `hostname` prints it.
fn hostname() -> String {
    let mut buffer = [0u8; 256];
    // SAFETY: the buffer is writable for its whole length, which we pass.
    let rc = unsafe { libc::gethostname(buffer.as_mut_ptr().cast(), buffer.len()) };
    if rc != 0 {
        return "cantine".to_owned();
    }
    let end = buffer.iter().position(|&b| b == 0).unwrap_or(buffer.len());
    String::from_utf8_lossy(&buffer[..end]).into_owned()
}

/// Reads the main file, then every `*.toml` of `<main>.d/` in byte order of their names, each
/// merged over the ones before (see [`merge`]). Returns the result and the files read.
fn read_files(main: &Path) -> Result<(FileConfig, Vec<PathBuf>), ConfigError> {
    let (mut file, mut merged) = read_layer(main)?;
    let mut files = vec![main.to_owned()];
    for path in drop_ins(main)? {
        let (_, table) = read_layer(&path)?;
        merge(&mut merged, table);
        files.push(path);
    }
    if files.len() > 1 {
        // Each file was valid alone: this only fails on a combination none shows by itself.
        file = toml::Value::Table(merged)
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Merged {
                files: path_list(&files),
                message: e.to_string().trim_end().to_owned(),
            })?;
    }
    Ok((file, files))
}

fn path_list(paths: &[PathBuf]) -> String {
    let names: Vec<_> = paths.iter().map(|p| p.display().to_string()).collect();
    names.join(", ")
}

/// The drop-ins of `main`: the `*.toml` files of `<main>.d/`, sorted by name (bytes). Anything
/// else there (`.dpkg-old`, `~` backups) is ignored; a missing folder means none.
fn drop_ins(main: &Path) -> Result<Vec<PathBuf>, ConfigError> {
    let mut dir = main.as_os_str().to_owned();
    dir.push(".d");
    let dir = PathBuf::from(dir);
    let unreadable = |source| ConfigError::Unreadable {
        path: dir.clone(),
        source,
    };
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(unreadable(e)),
    };
    let mut paths = Vec::new();
    for entry in entries {
        let path = entry.map_err(unreadable)?.path();
        if path.extension().is_some_and(|ext| ext == "toml") {
            paths.push(path);
        }
    }
    paths.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    Ok(paths)
}

/// `over` merged into `base`: tables key by key, recursively; any other value, arrays
/// included (`[[backup.targets]]`), replaces the earlier one.
fn merge(base: &mut toml::Table, over: toml::Table) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(base)), toml::Value::Table(over)) => merge(base, over),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// One file, checked alone against the file's shape (so that an error names this file and
/// its line), and as a table to merge.
fn read_layer(path: &Path) -> Result<(FileConfig, toml::Table), ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Unreadable {
        path: path.to_owned(),
        source,
    })?;
    Ok((parse(path, &text)?, parse(path, &text)?))
}

fn parse<T: serde::de::DeserializeOwned>(path: &Path, text: &str) -> Result<T, ConfigError> {
    toml::from_str(text).map_err(|e| ConfigError::Syntax {
        path: path.to_owned(),
        message: e.to_string().trim_end().to_owned(),
    })
}

fn parse_http_url(key: &str, text: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(text)
        .map_err(|e| ConfigError::invalid(key, format!("{text:?} is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(ConfigError::invalid(
            key,
            format!("{text:?} must be an http:// or https:// URL with a host"),
        ));
    }
    Ok(url)
}

fn parse_smtp_url(text: &str, password_file: Option<&Path>) -> Result<SecretUrl, ConfigError> {
    let mut url = Url::parse(text).map_err(|e| {
        ConfigError::invalid(
            "mail.smtp_url",
            format!("not a URL ({e}); expected smtp://host:587"),
        )
    })?;
    if !matches!(url.scheme(), "smtp" | "smtps") || url.host().is_none() {
        return Err(ConfigError::invalid(
            "mail.smtp_url",
            "must be smtp://host[:port] (STARTTLS) or smtps://host[:port]",
        ));
    }
    if let Some(path) = password_file {
        let password = std::fs::read_to_string(path).map_err(|e| {
            ConfigError::invalid(
                "mail.smtp_password_file",
                format!("cannot read {}: {e}", path.display()),
            )
        })?;
        url.set_password(Some(password.trim_end()))
            .map_err(|_| ConfigError::invalid("mail.smtp_url", "cannot carry a password"))?;
    }
    Ok(SecretUrl(SecretString::from(url.to_string())))
}

fn parse_database_url(text: &str, password_file: Option<&Path>) -> Result<SecretUrl, ConfigError> {
    let mut url = Url::parse(text).map_err(|e| {
        ConfigError::invalid(
            "database.url",
            format!("not a URL ({e}); expected postgresql://…"),
        )
    })?;
    if !matches!(url.scheme(), "postgres" | "postgresql") {
        return Err(ConfigError::invalid(
            "database.url",
            format!("scheme {:?} is not postgresql://", url.scheme()),
        ));
    }
    if let Some(path) = password_file {
        let password = std::fs::read_to_string(path).map_err(|e| {
            ConfigError::invalid(
                "database.password_file",
                format!("cannot read {}: {e}", path.display()),
            )
        })?;
        url.set_password(Some(password.trim_end()))
            .map_err(|_| ConfigError::invalid("database.url", "cannot carry a password"))?;
    }
    Ok(SecretUrl(SecretString::from(url.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::io::Write;

    fn load(toml_text: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(toml_text.as_bytes()).unwrap();
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let source = Source {
            file: Some(file.path().to_owned()),
            ..Source::default()
        };
        Config::load_from(&source, |k| env.get(k).cloned())
    }

    #[test]
    fn defaults_apply_when_the_file_is_empty() {
        let config = load("", &[]).unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.public_url.as_str(), "http://127.0.0.1:8080/");
        assert_eq!(config.data_dir, PathBuf::from("./var"));
        assert!(config.database.url.is_none());
        assert!(!config.is_https());
    }

    #[test]
    fn environment_overrides_the_file() {
        let config = load(
            "listen = \"127.0.0.1:9000\"\npublic_url = \"https://cantine.example.fr\"\n",
            &[
                ("CANTINE_LISTEN", "0.0.0.0:7000"),
                ("CANTINE_DATA_DIR", "/srv/cantine"),
                (
                    "CANTINE_DATABASE_URL",
                    "postgresql://app:pw@localhost/cantine",
                ),
            ],
        )
        .unwrap();
        assert_eq!(config.listen.to_string(), "0.0.0.0:7000");
        assert_eq!(config.public_url.as_str(), "https://cantine.example.fr/");
        assert!(config.is_https());
        assert_eq!(config.data_dir, PathBuf::from("/srv/cantine"));
        assert_eq!(
            config.database.url.unwrap().expose(),
            "postgresql://app:pw@localhost/cantine"
        );
    }

    #[test]
    fn unknown_key_is_an_error_naming_it() {
        let err = load("[database]\nuri = \"x\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `uri`"), "{err}");
        assert!(err.contains("line 2"), "{err}");
    }

    #[test]
    fn bad_listen_address_is_an_error() {
        let err = load("listen = \"localhost\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("invalid value for listen"), "{err}");
    }

    #[test]
    fn bad_public_url_is_an_error() {
        let err = load("", &[("CANTINE_PUBLIC_URL", "ftp://x")])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("public_url") && err.contains("http://"),
            "{err}"
        );
        let err = load("public_url = \"not a url\"", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("is not a URL"), "{err}");
    }

    #[test]
    fn bad_database_url_is_an_error() {
        let err = load("[database]\nurl = \"mysql://x/y\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("database.url") && err.contains("mysql"),
            "{err}"
        );
    }

    #[test]
    fn unreadable_file_is_an_error_naming_it() {
        let source = Source {
            file: Some(PathBuf::from("/nonexistent/cantine.toml")),
            ..Source::default()
        };
        let err = Config::load_from(&source, |_| None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("cannot read configuration file /nonexistent/cantine.toml"),
            "{err}"
        );
    }

    #[test]
    fn bad_log_filter_is_an_error() {
        let err = load("[log]\nfilter = \"=[\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("log.filter"), "{err}");
    }

    #[test]
    fn booking_deadline_and_zone_are_read() {
        let config = load(
            "[booking]\ndeadline = { days_before = 3, at = \"09:30\", counting = \"calendar_days\" }\n[calendar]\nzone = \"C\"\n",
            &[],
        )
        .unwrap();
        assert_eq!(config.booking.deadline.days_before(), 3);
        assert_eq!(config.calendar.zone, Zone::C);
        let err = load("[calendar]\nzone = \"D\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("calendar.zone"), "{err}");
        let err = load("[booking]\ndeadline = { days_before = 0, at = \"10:00\", counting = \"service_days\" }\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("deadline"), "{err}");
    }

    #[test]
    fn a_broken_calendar_file_is_an_error_with_its_line() {
        let mut cal = tempfile::NamedTempFile::new().unwrap();
        write!(cal, "[[school_year]]\nlabel = \"2026-2027\"\nfirst_day = 2026-09-01\nlast_day = \"2027-02-30\"\n").unwrap();
        let err = load(
            &format!("[calendar]\nfile = \"{}\"\n", cal.path().display()),
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("calendar.file") && err.contains("line 4"),
            "{err}"
        );
    }

    #[test]
    fn smtp_url_must_be_smtp_and_is_masked() {
        let config = load(
            "[mail]\nsmtp_url = \"smtp://relay:secret@mail.techniville.fr:587\"\n",
            &[],
        )
        .unwrap();
        let described = config.describe();
        assert!(
            described.contains("smtp://relay:********@mail.techniville.fr:587"),
            "{described}"
        );
        let err = load("[mail]\nsmtp_url = \"http://x\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("mail.smtp_url"), "{err}");
        let err = load("[mail]\nfrom = \"not an address\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("mail.from"), "{err}");
    }

    fn secret(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn backup_defaults_follow_data_dir_and_the_machine() {
        let config = load("data_dir = \"/srv/cantine\"\n", &[]).unwrap();
        assert_eq!(
            config.backup.temp_dir,
            PathBuf::from("/srv/cantine/backup-tmp")
        );
        assert_eq!(config.backup.host, hostname());
        assert!(!config.backup.host.is_empty());
        assert_eq!(config.backup.keep, cantine_backup::KeepPolicy::default());
        assert_eq!(config.backup.keep.hourly, 24);
        assert!(config.backup.targets.is_empty());
        assert!(config.describe().contains("backup.targets = none"));
    }

    #[test]
    fn backup_targets_are_read_validated_and_redacted() {
        let dir = tempfile::tempdir().unwrap();
        let pw = secret(dir.path(), "restic", "repo-secret\n");
        let rest = secret(dir.path(), "rest", "http-secret\n");
        let text = format!(
            "[backup]\nhost = \"mairie\"\nkeep = {{ hourly = 6, daily = 7 }}\n\
             [[backup.targets]]\nname = \"local\"\nrepository = \"/srv/backup/restic\"\npassword_file = \"{pw}\"\n\
             [[backup.targets]]\nname = \"second-site\"\nrepository = \"rest:https://cantine:inline-secret@backup.example.org:8000/cantine/\"\n\
             password_file = \"{pw}\"\nappend_only = true\n",
            pw = pw.display()
        );
        let config = load(&text, &[]).unwrap();
        assert_eq!(config.backup.host, "mairie");
        assert_eq!(config.backup.keep.hourly, 6);
        assert_eq!(
            config.backup.keep.monthly, 12,
            "unset counts keep their default"
        );
        assert_eq!(config.backup.targets.len(), 2);
        assert!(config.backup.targets[1].append_only);
        let described = config.describe();
        assert!(
            described.contains("backup.targets[0] = local: /srv/backup/restic"),
            "{described}"
        );
        assert!(
            described.contains("backup.targets[1] = second-site: rest:https://"),
            "{described}"
        );
        assert!(described.contains("append-only"), "{described}");
        for secret in ["inline-secret", "repo-secret", "http-secret"] {
            assert!(!described.contains(secret), "{described}");
            assert!(!format!("{config:?}").contains(secret));
        }
        let _ = rest;
    }

    #[test]
    fn a_bad_backup_target_is_an_error_naming_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let pw = secret(dir.path(), "restic", "s3cret\n");
        let target = |body: &str| format!("[[backup.targets]]\n{body}\n");
        let cases = [
            (
                target(
                    "name = \"local\"\nrepository = \"/r\"\npassword_file = \"/nonexistent/pw\"",
                ),
                "backup.targets[0]",
            ),
            (
                target(&format!(
                    "name = \"bad name\"\nrepository = \"/r\"\npassword_file = \"{}\"",
                    pw.display()
                )),
                "backup.targets[0]",
            ),
            (
                target(&format!(
                    "name = \"x\"\nrepository = \"rest:ftp://h/\"\npassword_file = \"{}\"",
                    pw.display()
                )),
                "backup.targets[0]",
            ),
            (
                format!(
                    "{}{}",
                    target(&format!(
                        "name = \"x\"\nrepository = \"/a\"\npassword_file = \"{}\"",
                        pw.display()
                    )),
                    target(&format!(
                        "name = \"x\"\nrepository = \"/b\"\npassword_file = \"{}\"",
                        pw.display()
                    ))
                ),
                "backup.targets[1]",
            ),
            (
                "[backup]\nkeep = { hourly = 0, daily = 0, weekly = 0, monthly = 0 }\n".to_owned(),
                "backup.keep",
            ),
        ];
        for (text, key) in cases {
            let err = load(&text, &[]).unwrap_err().to_string();
            assert!(err.contains(key), "{key} not in: {err}");
        }
        let err = load("[backup]\nkeep_hourly = 3\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `keep_hourly`"), "{err}");
        let err = load(&target("name = \"x\"\nrepo = \"/a\""), &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `repo`"), "{err}");
    }

    /// A main file `cantine.toml` and its drop-ins (name, text) in a fresh folder.
    fn with_drop_ins(main: &str, drop_ins: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cantine.toml");
        std::fs::write(&path, main).unwrap();
        let d = dir.path().join("cantine.toml.d");
        std::fs::create_dir(&d).unwrap();
        for (name, text) in drop_ins {
            std::fs::write(d.join(name), text).unwrap();
        }
        (dir, path)
    }

    fn load_main(path: &Path) -> Result<Config, ConfigError> {
        let source = Source {
            file: Some(path.to_owned()),
            ..Source::default()
        };
        Config::load_from(&source, |_| None)
    }

    #[test]
    fn drop_ins_are_merged_over_the_main_file_in_byte_order_of_their_names() {
        // Written out of order; byte order puts upper case before lower case.
        let (dir, main) = with_drop_ins(
            "listen = \"127.0.0.1:9000\"\ndata_dir = \"/srv/main\"\n[log]\nfilter = \"debug\"\n",
            &[
                ("b-last.toml", "listen = \"127.0.0.1:9003\"\n"),
                (
                    "10-first.toml",
                    "listen = \"127.0.0.1:9001\"\n[log]\nfilter = \"warn\"\n",
                ),
                ("Z-second.toml", "listen = \"127.0.0.1:9002\"\n"),
            ],
        );
        let config = load_main(&main).unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:9003");
        assert_eq!(config.log.filter, "warn");
        assert_eq!(config.data_dir, PathBuf::from("/srv/main"));
        let d = dir.path().join("cantine.toml.d");
        let expected = vec![
            main.clone(),
            d.join("10-first.toml"),
            d.join("Z-second.toml"),
            d.join("b-last.toml"),
        ];
        assert_eq!(config.files, expected);
        let listed: Vec<_> = expected.iter().map(|f| f.display().to_string()).collect();
        let described = config.describe();
        assert!(
            described.contains(&format!("config.files = {}\n", listed.join(", "))),
            "{described}"
        );
        // Without a `.d` folder, the main file alone.
        std::fs::remove_dir_all(&d).unwrap();
        assert_eq!(load_main(&main).unwrap().files, vec![main]);
    }

    #[test]
    fn drop_in_tables_merge_key_by_key_and_arrays_replace() {
        let dir = tempfile::tempdir().unwrap();
        let pw = secret(dir.path(), "restic", "s3cret\n");
        let target = |name: &str| {
            format!(
                "[[backup.targets]]\nname = \"{name}\"\nrepository = \"/srv/{name}\"\npassword_file = \"{}\"\n",
                pw.display()
            )
        };
        let main = format!(
            "[database]\nmax_connections = 5\n[backup]\nhost = \"mairie\"\nkeep = {{ hourly = 6 }}\n{}{}",
            target("local"),
            target("old-site")
        );
        let drop_in = format!(
            "[database]\nurl = \"postgresql://cantine@localhost/cantine\"\n\
             [backup]\nkeep = {{ daily = 3 }}\n{}",
            target("second-site")
        );
        let (_dir, main) = with_drop_ins(&main, &[("50-backup.toml", &drop_in)]);
        let config = load_main(&main).unwrap();
        assert_eq!(config.database.max_connections, 5);
        assert!(config.database.url.is_some());
        assert_eq!(config.backup.host, "mairie");
        assert_eq!(
            (config.backup.keep.hourly, config.backup.keep.daily),
            (6, 3)
        );
        let names: Vec<_> = config.backup.targets.iter().map(|t| &t.name).collect();
        assert_eq!(
            names,
            ["second-site"],
            "the drop-in's array replaces the main file's"
        );
    }

    #[test]
    fn an_error_in_a_drop_in_names_that_file_and_its_line() {
        let (dir, main) = with_drop_ins(
            "",
            &[
                ("10-fine.toml", "[log]\nfilter = \"warn\"\n"),
                (
                    "50-backup.toml",
                    "# appliance\n[backup]\nhots = \"mairie\"\n",
                ),
            ],
        );
        let err = load_main(&main).unwrap_err().to_string();
        let drop_in = dir.path().join("cantine.toml.d/50-backup.toml");
        assert!(err.contains(&drop_in.display().to_string()), "{err}");
        assert!(err.contains("line 3"), "{err}");
        assert!(err.contains("unknown field `hots`"), "{err}");

        std::fs::write(&drop_in, "[backup\n").unwrap();
        let err = load_main(&main).unwrap_err().to_string();
        assert!(err.contains(&drop_in.display().to_string()), "{err}");
        assert!(err.contains("line 1"), "{err}");
    }

    #[test]
    fn an_unreadable_drop_in_is_an_error_naming_it() {
        let (dir, main) = with_drop_ins("", &[]);
        let gone = dir.path().join("cantine.toml.d/60-gone.toml");
        std::os::unix::fs::symlink(dir.path().join("nowhere.toml"), &gone).unwrap();
        let err = load_main(&main).unwrap_err().to_string();
        assert!(
            err.contains(&format!(
                "cannot read configuration file {}",
                gone.display()
            )),
            "{err}"
        );
    }

    #[test]
    fn files_in_the_drop_in_folder_not_ending_in_toml_are_ignored() {
        let garbage = "this is not TOML [";
        let (_dir, main) = with_drop_ins(
            "",
            &[
                ("50-backup.toml.dpkg-old", garbage),
                ("50-backup.toml~", garbage),
                ("README", garbage),
                ("toml", garbage),
            ],
        );
        assert_eq!(load_main(&main).unwrap().files, vec![main]);
    }

    #[test]
    fn without_a_main_file_no_drop_in_is_read() {
        let source = Source {
            file: None,
            skip_default_file: true,
        };
        let config = Config::load_from(&source, |_| None).unwrap();
        assert!(config.files.is_empty());
        assert!(config.describe().starts_with("config.files = none\n"));
    }

    #[test]
    fn password_file_is_read_and_masked() {
        let mut pw = tempfile::NamedTempFile::new().unwrap();
        writeln!(pw, "s3cret").unwrap();
        let text = format!(
            "[database]\nurl = \"postgresql://cantine@localhost/cantine\"\npassword_file = \"{}\"\n",
            pw.path().display()
        );
        let config = load(&text, &[]).unwrap();
        let url = config.database.url.clone().unwrap();
        assert_eq!(
            url.expose(),
            "postgresql://cantine:s3cret@localhost/cantine"
        );
        let described = config.describe();
        assert!(!described.contains("s3cret"), "{described}");
        assert!(described.contains("********"), "{described}");
        assert!(!format!("{config:?}").contains("s3cret"));
    }
}
