//! Configuration: one typed struct, built in layers: defaults, then the TOML file, then its
//! drop-ins (`<file>.d/*.toml`), then `CANTINE_*` environment variables. Unknown keys are
//! errors so that a typo never silently falls back to a default on a town hall's appliance.
//!
//! Every layer is a TOML table checked alone against the file's shape (so that an error names
//! its file and line, or its variable); the layers are merged ([`merge`]) and deserialized
//! once. Each section then turns into its typed form with its defaults ([`Section`]). A key
//! is written in its section's file struct, its typed struct and that section's parser, and
//! nowhere else: its environment variable and its `check-config` line follow from those
//! ([`Config::describe`] renders the serialized typed struct, whose secrets serialize masked).
//!
//! Environment: `CANTINE_<SECTION>__<KEY>`, with `__` between levels so that nested tables
//! are covered too (`CANTINE_BACKUP__KEEP__DAILY`), and `CANTINE_<KEY>` for top-level keys.
//! A value is read as TOML when it is exactly one TOML value (`20`, `true`, `["a"]`,
//! `{ daily = 3 }`), else as a string. Other `CANTINE_*` names (`CANTINE_CONFIG`, the build's
//! `CANTINE_COMMIT`) are not keys and are left alone.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use secrecy::{ExposeSecret, SecretSlice, SecretString};
use serde::{Deserialize, Serialize};
use url::Url;

use cantine_domain::calendar::{HolidayCalendar, Zone};
use cantine_domain::deadline::{DayCounting, DeadlineRule};
use cantine_domain::scdl::{self, RestaurantType};

/// Where the configuration file is looked for when neither `--config` nor `CANTINE_CONFIG` says.
pub const DEFAULT_CONFIG_PATH: &str = "/etc/cantine/cantine.toml";

const ENV_PREFIX: &str = "CANTINE_";

/// Selects the file: not a key.
const ENV_CONFIG: &str = "CANTINE_CONFIG";

/// Names from before the uniform rule, kept because scripts, the image and the `cantine.env`
/// of installed appliances use them.
const ENV_ALIASES: &[(&str, &str)] = &[
    ("CANTINE_DATABASE_URL", "database.url"),
    ("CANTINE_LOG", "log.filter"),
    ("CANTINE_ZONE", "calendar.zone"),
    ("CANTINE_BACKUP_HOST", "backup.host"),
];

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
    #[error("invalid environment variable {name}: {message}")]
    Environment { name: String, message: String },
    /// An invalid value that came from the environment, where the operator must look for it.
    #[error("{variable}: {source}")]
    SetBy {
        variable: String,
        source: Box<ConfigError>,
    },
}

impl ConfigError {
    fn invalid(key: &str, message: impl Into<String>) -> Self {
        Self::Invalid {
            key: key.to_owned(),
            message: message.into(),
        }
    }

    fn environment(name: &str, message: impl Into<String>) -> Self {
        Self::Environment {
            name: name.to_owned(),
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Config {
    /// The files read, in order: the main file, then its drop-ins. Empty when none was.
    #[serde(skip)]
    pub files: Vec<PathBuf>,
    /// Deprecated keys that were set and variables that look misspelt, one sentence each for
    /// the operator: `check-config` prints them and loading logs them.
    #[serde(skip)]
    pub warnings: Vec<String>,
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
    pub open_data: OpenDataConfig,
    pub kitchen: KitchenConfig,
    pub billing: BillingConfig,
    pub accounting: AccountingConfig,
    pub payfip: PayfipConfig,
    pub privacy: PrivacyConfig,
    pub retention: RetentionConfig,
    pub sepa: SepaConfig,
}

/// `[privacy]`: what the privacy page (`/confidentialite`) and the record of processing
/// activities (RGPD art. 30) say about the controller. The purposes, the data and the
/// retention periods come from the application itself and from `[retention]`.
#[derive(Debug, Clone, Serialize)]
pub struct PrivacyConfig {
    /// The controller: the commune, represented by its mayor.
    pub controller: String,
    /// The controller's postal address.
    pub address: String,
    /// How to reach the data protection officer (DPO).
    pub dpo_contact: String,
    /// Where and how families exercise their rights.
    pub rights_contact: String,
    /// The legal bases of the processing (RGPD art. 6).
    pub legal_basis: String,
    /// Who receives the data, one line each.
    pub recipients: Vec<String>,
}

/// `[retention]`: how long data is kept, and the daily job that erases what is past its
/// period (docs/security.md gives each default and its source).
#[derive(Debug, Clone, Serialize)]
pub struct RetentionConfig {
    /// Whether `serve` runs the daily retention job.
    pub worker: bool,
    /// Days an audit entry is kept (the CNIL's recommendation on logging: 6 months to 1 year).
    pub audit_days: u32,
    /// Days without any activity after which a household's account is closed and erased.
    pub inactive_household_days: u32,
    /// Years invoices and payments are kept (public accounting); the job counts, never deletes.
    pub invoice_years: u32,
}

/// `[sepa]`: SEPA Core direct debit. The creditor (the régie's name, account and the ICS its
/// bank gave) is written in every `pain.008`; unset, the export says which keys are missing.
/// Set values are checked at load (IBAN checksum, BIC format, ICS check digits).
#[derive(Debug, Clone, Serialize)]
pub struct SepaConfig {
    /// The creditor's name as the bank knows it (70 characters at most).
    pub creditor_name: Option<String>,
    /// The régie's account the debits are credited to.
    pub creditor_iban: Option<String>,
    pub creditor_bic: Option<String>,
    /// The creditor identifier (ICS), `FR72ZZZ123456`.
    pub ics: Option<String>,
    /// The prefix of the mandate references Cantine gives (`CANTINE` → `CANTINE-00000042`);
    /// `A-Z`, `0-9` and `-`, 26 characters at most. Default `CANTINE`.
    pub rum_prefix: String,
    /// Days from the export to the collection date asked of the bank. Default 14.
    pub collection_days: u32,
    /// Days before the collection date the family's pre-notification is mailed (at 08:00
    /// Paris time; at once when that day has passed). At most `collection_days`. Default 14,
    /// the EPC rulebook's default notice.
    pub prenotification_days: u32,
    /// The version exported when none is asked: `08` (`pain.008.001.08`) or `02`. Default `08`.
    pub default_version: String,
}

impl SepaConfig {
    pub fn default_version(&self) -> cantine_domain::sepa::Version {
        cantine_domain::sepa::Version::parse(&self.default_version)
            .unwrap_or(cantine_domain::sepa::Version::V08)
    }
}

/// `[payfip]`: the DGFiP's PayFiP web service, where families pay their invoices online. The
/// endpoints default to the real service; the demo and the tests point them at
/// `cantine payfip-simulator`. Test or production is `saisie`, not the host.
#[derive(Debug, Clone, Serialize)]
pub struct PayfipConfig {
    /// The SOAP endpoint (`creerPaiementSecurise`, `recupererDetailPaiementSecurise`).
    pub endpoint: Url,
    /// The payment page the family is sent to, completed with `?idop=`.
    pub payment_page: Url,
    /// `T` (test payments, never money), `X` (activation) or `W` (production).
    pub saisie: String,
    /// Seconds one SOAP call may take.
    pub timeout_secs: u64,
    /// Whether `serve` runs the reconciliation worker that asks PayFiP about pending attempts.
    pub worker: bool,
    /// Seconds between two reconciliation runs (it also runs at start).
    pub tick_secs: u64,
    /// `getPayment` and the return page ask PayFiP about a pending attempt at most once per
    /// this many seconds; in between they answer the stored state (0: ask every time).
    pub refresh_secs: u64,
    /// The régies that take payments online, each with its PayFiP client number; an invoice
    /// of a régie not listed cannot be paid online.
    pub regies: Vec<PayfipRegie>,
}

/// `[[payfip.regies]]`: a régie's client number at PayFiP.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PayfipRegie {
    /// The régie's code (`CANT`).
    pub code: String,
    /// 6 digits, given by the DGFiP.
    pub numcli: String,
}

impl PayfipConfig {
    pub fn saisie(&self) -> cantine_domain::payfip::Saisie {
        cantine_domain::payfip::Saisie::parse(&self.saisie)
            .unwrap_or(cantine_domain::payfip::Saisie::Test)
    }

    /// The régie's client number, when it takes payments online.
    pub fn numcli(&self, regie: &str) -> Option<cantine_domain::payfip::NumCli> {
        self.regies
            .iter()
            .find(|r| r.code == regie)
            .and_then(|r| cantine_domain::payfip::NumCli::new(&r.numcli).ok())
    }
}

/// `[billing]`: what the families' invoices, credit notes and yearly statements say of the
/// commune (its name and address in the letterhead, its logo) and of the ways to pay, and the
/// worker that mails families when an invoice is out. The defaults describe the Techniville
/// demo: a commune sets its own in a drop-in.
#[derive(Debug, Clone, Serialize)]
pub struct BillingConfig {
    /// Whether `serve` runs the worker that sends the billing mails (invoice issued, contest
    /// answered) from the outbox, retrying failures.
    pub mail_worker: bool,
    /// The issuer in the letterhead: "Commune de Techniville".
    pub commune_name: String,
    /// The town hall's postal address, one line each.
    pub address_lines: Vec<String>,
    /// A PNG or JPEG drawn above the letterhead (checked at load by its first bytes).
    pub logo_file: Option<PathBuf>,
    /// The logo's bytes, read at load.
    #[serde(skip)]
    pub logo: Option<Arc<BillingLogo>>,
    /// Where families pay online (PayFiP or the commune's own page); the invoice's number is
    /// the reference to give.
    pub online_payment_url: String,
    /// How to pay by direct debit (where to get the mandate).
    pub direct_debit: String,
    /// Where to pay at the counter (cash, cheque, CESU)…
    pub counter_address: String,
    /// …and when.
    pub counter_hours: String,
}

/// The letterhead's logo, by its type.
#[derive(Clone, PartialEq, Eq)]
pub enum BillingLogo {
    Png(Vec<u8>),
    Jpeg(Vec<u8>),
}

impl std::fmt::Debug for BillingLogo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BillingLogo::Png(b) => write!(f, "BillingLogo::Png({} bytes)", b.len()),
            BillingLogo::Jpeg(b) => write!(f, "BillingLogo::Jpeg({} bytes)", b.len()),
        }
    }
}

/// `[open_data]`: who publishes the menus in the SCDL `menus-collectifs` export, and what kind
/// of restaurant each school is. The defaults describe the Techniville demo (a fake SIRET of
/// the right shape): a commune sets its own in a drop-in.
#[derive(Debug, Clone, Serialize)]
pub struct OpenDataConfig {
    /// `menuCollNom`: the commune's official name.
    pub commune_name: String,
    /// `menuCollSiret`: 14 digits.
    pub commune_siret: String,
    /// `menuRestaurantInsee`: the commune's INSEE code (5 characters, `2A`/`2B` in Corsica).
    pub commune_insee: String,
    /// `menuEtablissementNom`: who cooks (the commune's kitchen, a syndicate, a caterer).
    pub producer_name: String,
    /// `menuEtablissementSiret`, when the producer has one.
    pub producer_siret: Option<String>,
    /// `menuRestaurantType` of a school not listed in `schools`.
    pub restaurant_type: RestaurantType,
    /// `menuRestaurantConvive`: who eats (`tous` by default; several separated by `;`).
    pub guests: String,
    /// Schools named as in the database, with their own restaurant type and UAI.
    pub schools: Vec<OpenDataSchool>,
}

/// `[[open_data.schools]]`: one school's restaurant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenDataSchool {
    /// The school's name, as in the database.
    pub name: String,
    /// `menuRestaurantType`; the section's `restaurant_type` when absent.
    #[serde(default)]
    pub restaurant_type: Option<RestaurantType>,
    /// The Éducation nationale UAI (`menuRestaurantId`, of type `EN`), when known.
    #[serde(default)]
    pub uai: Option<String>,
}

impl OpenDataConfig {
    /// The restaurant type and UAI of a school.
    pub fn school(&self, name: &str) -> (RestaurantType, Option<&str>) {
        match self.schools.iter().find(|s| s.name == name) {
            Some(s) => (
                s.restaurant_type.unwrap_or(self.restaurant_type),
                s.uai.as_deref(),
            ),
            None => (self.restaurant_type, None),
        }
    }
}

/// `[accounting]`: the commune's identifiers as the public accountant's Hélios knows them,
/// for the PES V2 ORMC export (`docs/pes.md`). All unset by default: the export then answers
/// that they are missing rather than writing a file Hélios would reject. Their shapes are
/// checked by the PES writer, which names the faulty field.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AccountingConfig {
    /// `IdColl`: the commune's SIRET (14 digits).
    pub siret: Option<String>,
    /// `CodCol`: Hélios's collectivité code (3 digits).
    pub cod_col: Option<String>,
    /// `CodBud`: Hélios's budget code (2 characters).
    pub cod_bud: Option<String>,
    /// `IdPost`: the accountant's codique (6–7 digits).
    pub id_post: Option<String>,
    /// `LibelleColBud`: the budget's name (38 characters at most); `open_data.commune_name`
    /// when unset.
    pub budget_name: Option<String>,
    /// `CodProdLoc`: the local product code agreed with the accountant (1–4 characters).
    pub cod_prod_loc: Option<String>,
    /// `Nature`: the revenue account of the lines (digits, e.g. 7067).
    pub nature: Option<String>,
    /// `Per`: the period digit written in every piece and its keys (0–9).
    pub period: u8,
}

/// `[kitchen]`: the counts' freeze worker and the caterer's mail.
#[derive(Debug, Clone, Serialize)]
pub struct KitchenConfig {
    /// Whether `serve` runs the worker that freezes each day's counts at its deadline and
    /// mails the caterer (one instance or several: they share the work through the database).
    pub worker: bool,
    /// Seconds between two runs of the worker (it also runs at start).
    pub tick_secs: u64,
    /// How many days back a start catches up with freezes missed while the service was down.
    pub catch_up_days: u32,
    /// The caterer's address for every school without its own; `None`: no mail.
    pub caterer_email: Option<String>,
    /// Per-school settings, by the school's name as the back office shows it.
    pub schools: Vec<KitchenSchool>,
}

/// `[[kitchen.schools]]`: one school's caterer and its staff meals.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct KitchenSchool {
    /// The school's name, exactly as stored (`École Jules-Ferry`).
    pub school: String,
    /// This school's caterer, instead of `kitchen.caterer_email`.
    #[serde(default)]
    pub caterer_email: Option<String>,
    /// Adult meals (staff eating at the canteen) every service day; 0: none shown.
    #[serde(default)]
    pub adult_meals: u32,
}

impl KitchenConfig {
    /// The settings of the school named so, if any.
    pub fn school(&self, name: &str) -> Option<&KitchenSchool> {
        self.schools.iter().find(|s| s.school == name)
    }

    /// Where the caterer's mail for this school goes, if anywhere.
    pub fn caterer_for(&self, school: &str) -> Option<&str> {
        self.school(school)
            .and_then(|s| s.caterer_email.as_deref())
            .or(self.caterer_email.as_deref())
    }

    /// The adult meals this school serves each service day.
    pub fn adult_meals(&self, school: &str) -> u32 {
        self.school(school).map_or(0, |s| s.adult_meals)
    }
}

/// `[backup]`: where snapshots go and what is kept.
#[derive(Debug, Clone, Serialize)]
pub struct BackupConfig {
    /// The host name stored in each snapshot (restic groups snapshots by it).
    pub host: String,
    /// Where the dump is written before it is sent: a disk with room for it, not a tmpfs.
    pub temp_dir: PathBuf,
    /// Retention on the repositories the appliance may delete from.
    pub keep: cantine_backup::KeepPolicy,
    #[serde(serialize_with = "serialize_targets")]
    pub targets: Vec<cantine_backup::Target>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct BookingConfig {
    /// When a day locks: by default 2 service days before, at 10:00 Europe/Paris.
    pub deadline: DeadlineRule,
}

#[derive(Debug, Clone, Serialize)]
pub struct CalendarConfig {
    pub zone: Zone,
    /// The school holidays: the bundled official calendar unless the commune gives its own file.
    #[serde(skip)]
    pub holidays: Arc<HolidayCalendar>,
    pub file: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MailConfig {
    pub from: String,
    /// `None`: messages are written as `.eml` files under `<data_dir>/mail` (development, demo).
    pub smtp_url: Option<SecretUrl>,
    /// Already merged into `smtp_url`; kept so that `check-config` shows where it came from.
    pub smtp_password_file: Option<PathBuf>,
    /// For `smtp://`: whether the relay must offer STARTTLS (the default: without it nothing
    /// is sent, neither the password nor the mail) or may be used in clear when it does not.
    /// `smtps://` is TLS from the first byte whatever this says.
    pub starttls: StartTls,
    /// The CA certificates (PEM) that sign the relay's certificate, for a commune's private
    /// relay; they replace the system's store. `None`: the system's store.
    pub ca_file: Option<PathBuf>,
}

/// `mail.starttls`: what a `smtp://` relay that does not offer STARTTLS gets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StartTls {
    /// STARTTLS or nothing: a relay without it (or a network that strips it) gets no mail.
    #[default]
    Required,
    /// STARTTLS when the relay offers it, clear text otherwise. Only for a relay on the same
    /// host or network that cannot do TLS; never over the Internet.
    Opportunistic,
}

#[derive(Debug, Clone, Serialize)]
pub struct DatabaseConfig {
    /// `None` means: run a private PostgreSQL under `<data_dir>/pg`.
    pub url: Option<SecretUrl>,
    /// Already merged into `url`; kept so that `check-config` shows where it came from.
    pub password_file: Option<PathBuf>,
    pub max_connections: u32,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct SecretsConfig {
    /// Read and checked at load, so that a missing or truncated key stops the service at
    /// start rather than at the first health record.
    #[serde(rename = "health_data_key_file")]
    pub health_data_key: Option<HealthDataKey>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LogConfig {
    pub filter: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct HttpConfig {
    pub request_timeout_secs: u64,
    pub body_limit_bytes: usize,
}

/// A URL whose password never reaches a log line or `check-config`'s output.
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

impl Serialize for SecretUrl {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.masked())
    }
}

/// The key that encrypts children's health data at rest: 32 bytes, which first boot writes as
/// 64 hexadecimal digits (`secret health-data-key 32`). Shown, logged and escrowed by the path
/// of its file only.
#[derive(Clone)]
pub struct HealthDataKey {
    path: PathBuf,
    key: SecretSlice<u8>,
}

impl HealthDataKey {
    pub const LEN: usize = 32;
    const CONFIG_KEY: &str = "secrets.health_data_key_file";

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The [`Self::LEN`] bytes of the key.
    pub fn expose(&self) -> &[u8] {
        self.key.expose_secret()
    }

    fn read(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read(path).map_err(|e| {
            ConfigError::invalid(
                Self::CONFIG_KEY,
                format!("cannot read {}: {e}", path.display()),
            )
        })?;
        // First boot writes the digits without a newline; an editor or `echo` adds one.
        let digits = text.trim_ascii_end();
        if digits.len() != 2 * Self::LEN || !digits.iter().all(u8::is_ascii_hexdigit) {
            // Its length only: the content is the secret, even when malformed.
            return Err(ConfigError::invalid(
                Self::CONFIG_KEY,
                format!(
                    "{} must hold {} bytes as {} hexadecimal digits, as first boot writes it \
                     (`head -c {} /dev/urandom | od -An -v -tx1 | tr -d ' \\n'`); it holds {} bytes",
                    path.display(),
                    Self::LEN,
                    2 * Self::LEN,
                    Self::LEN,
                    digits.len()
                ),
            ));
        }
        let nibble = |digit: u8| match digit {
            b'0'..=b'9' => digit - b'0',
            b'a'..=b'f' => digit - b'a' + 10,
            _ => digit - b'A' + 10,
        };
        let key: Vec<u8> = digits
            .chunks_exact(2)
            .map(|pair| nibble(pair[0]) << 4 | nibble(pair[1]))
            .collect();
        Ok(Self {
            path: path.to_owned(),
            key: SecretSlice::from(key),
        })
    }
}

impl std::fmt::Debug for HealthDataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HealthDataKey")
            .field("path", &self.path)
            .field("key", &"********")
            .finish()
    }
}

impl Serialize for HealthDataKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.path.serialize(s)
    }
}

/// Each target as the file gives it, its repository with any inline password replaced.
/// Every other field is a path or a setting: a secret field added to `Target` would need its
/// own masking here.
fn serialize_targets<S: serde::Serializer>(
    targets: &[cantine_backup::Target],
    s: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::{Error, SerializeSeq};
    let mut seq = s.serialize_seq(Some(targets.len()))?;
    for target in targets {
        let mut value = serde_json::to_value(target).map_err(S::Error::custom)?;
        if let Some(fields) = value.as_object_mut() {
            fields.insert("repository".to_owned(), target.redacted_location().into());
        }
        seq.serialize_element(&value)?;
    }
    seq.end()
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
    /// Loads from the process environment, refusing a misspelt `CANTINE_<SECTION>__<KEY>`.
    pub fn load(source: &Source) -> Result<Self, ConfigError> {
        let mut vars = Vec::new();
        for (name, value) in std::env::vars_os() {
            let Some(name) = name.to_str().filter(|n| n.starts_with(ENV_PREFIX)) else {
                continue;
            };
            match value.into_string() {
                Ok(value) => vars.push((name.to_owned(), value)),
                Err(_) if name == ENV_CONFIG || env_key(name)?.is_some() => {
                    return Err(ConfigError::environment(name, "is not valid UTF-8"));
                }
                Err(_) => {}
            }
        }
        Self::load_from_vars(source, vars)
    }

    /// Loads with an injectable environment, so tests need not touch the process's. A lookup
    /// cannot list names, so this asks for the variable of every key and alias: only a
    /// misspelt name goes unnoticed here ([`Config::load_from_vars`] refuses it).
    pub fn load_from(
        source: &Source,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let names = [ENV_CONFIG.to_owned()]
            .into_iter()
            .chain(ENV_ALIASES.iter().map(|(name, _)| (*name).to_owned()))
            .chain(schema().iter().filter_map(|key| env_name(key)));
        let vars: Vec<_> = names
            .filter_map(|name| env(&name).map(|value| (name, value)))
            .collect();
        Self::load_from_vars(source, vars)
    }

    /// Loads with the given environment variables (any others than `CANTINE_*` are ignored).
    pub fn load_from_vars(
        source: &Source,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut vars: Vec<_> = vars
            .into_iter()
            .filter(|(name, _)| name.starts_with(ENV_PREFIX))
            .collect();
        // The environment has no order: sorting makes a conflict report the same pair each time.
        vars.sort();
        let explicit = source.file.clone().or_else(|| {
            vars.iter()
                .find(|(name, _)| name == ENV_CONFIG)
                .map(|(_, value)| PathBuf::from(value))
        });
        let main = explicit.or_else(|| {
            let path = Path::new(DEFAULT_CONFIG_PATH);
            (!source.skip_default_file && path.exists()).then(|| path.to_owned())
        });
        let (mut table, files) = match main {
            Some(path) => read_files(&path)?,
            None => (toml::Table::new(), Vec::new()),
        };
        let env = EnvLayer::read(&vars)?;
        let mut layers = path_list(&files);
        if !env.set.is_empty() {
            layers = [layers.as_str(), "the CANTINE_* environment"]
                .into_iter()
                .filter(|layer| !layer.is_empty())
                .collect::<Vec<_>>()
                .join(", ");
        }
        merge(&mut table, env.table.clone());
        // Each layer was valid alone: this only fails on a combination none shows by itself.
        let file: FileConfig =
            toml::Value::Table(table)
                .try_into()
                .map_err(|e: toml::de::Error| ConfigError::Merged {
                    files: layers,
                    message: e.to_string().trim_end().to_owned(),
                })?;
        let mut config = file.parse(files).map_err(|e| env.attribute(e))?;
        config.warnings.extend(env.warnings);
        config.log_warnings();
        Ok(config)
    }

    /// Logs the deprecations found. `load` does it; a program whose log subscriber starts
    /// only once the configuration is known (the log filter is in it) calls it again then.
    pub fn log_warnings(&self) {
        for warning in &self.warnings {
            tracing::warn!("{warning}");
        }
    }

    /// Cookies get `Secure` only when families reach the service over TLS.
    pub fn is_https(&self) -> bool {
        self.public_url.scheme() == "https"
    }

    /// The effective configuration as `check-config` prints it: the files read, then one
    /// `key = value` line per key, rendered from the serialized struct so that no key can be
    /// left out, secrets masked.
    pub fn describe(&self) -> String {
        let files = if self.files.is_empty() {
            "none".to_owned()
        } else {
            path_list(&self.files)
        };
        let mut text = format!("config.files = {files}\n");
        match serde_json::to_value(self) {
            Ok(value) => render(&value, "", &|key| self.note(key), &mut text),
            Err(e) => text.push_str(&format!("# cannot render the configuration: {e}\n")),
        }
        text
    }

    /// What an unset key means, or what an entry of a list is, where the bare value would
    /// not tell the operator.
    fn note(&self, key: &str) -> Option<String> {
        let target = key
            .strip_prefix("backup.targets[")
            .and_then(|rest| rest.strip_suffix(']'))
            .and_then(|i| i.parse::<usize>().ok())
            .and_then(|i| self.backup.targets.get(i));
        if let Some(t) = target {
            let append_only = if t.append_only { ", append-only" } else { "" };
            return Some(format!(
                "{}: {}{append_only}",
                t.name,
                t.redacted_location()
            ));
        }
        let school = key
            .strip_prefix("kitchen.schools[")
            .and_then(|rest| rest.strip_suffix(']'))
            .and_then(|i| i.parse::<usize>().ok())
            .and_then(|i| self.kitchen.schools.get(i));
        if let Some(s) = school {
            return Some(s.school.clone());
        }
        let regie = key
            .strip_prefix("payfip.regies[")
            .and_then(|rest| rest.strip_suffix(']'))
            .and_then(|i| i.parse::<usize>().ok())
            .and_then(|i| self.payfip.regies.get(i));
        if let Some(r) = regie {
            return Some(r.code.clone());
        }
        match key {
            "database.url" => Some(format!(
                "embedded PostgreSQL in {}",
                self.data_dir.join("pg").display()
            )),
            "mail.smtp_url" => Some(format!(
                "messages spooled in {}",
                self.data_dir.join("mail").display()
            )),
            "mail.ca_file" => Some("the system's certificate store".to_owned()),
            "calendar.file" => Some("the bundled official calendar".to_owned()),
            "kitchen.caterer_email" => {
                Some("no caterer mail (unless a school has its own)".to_owned())
            }
            _ => None,
        }
    }
}

/// `key = value` lines for the object `value`, in the order of a TOML file: a table's plain
/// values first, then its sub-tables and lists of tables. Strings are shown bare, unset values
/// as `unset` (with what that means, from `note`), empty lists as `none`.
fn render(
    value: &serde_json::Value,
    prefix: &str,
    note: &dyn Fn(&str) -> Option<String>,
    out: &mut String,
) {
    use serde_json::Value;
    let Value::Object(fields) = value else {
        return;
    };
    let is_nested = |v: &Value| match v {
        Value::Object(_) => true,
        Value::Array(items) => items.iter().any(Value::is_object),
        _ => false,
    };
    let key = |name: &str| {
        if prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{prefix}.{name}")
        }
    };
    for (name, v) in fields.iter().filter(|(_, v)| !is_nested(v)) {
        let key = key(name);
        let text = match (v, note(&key)) {
            (Value::Null, Some(meaning)) => format!("unset: {meaning}"),
            _ => plain(v),
        };
        out.push_str(&format!("{key} = {text}\n"));
    }
    for (name, v) in fields.iter().filter(|(_, v)| is_nested(v)) {
        let key = key(name);
        match v {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let key = format!("{key}[{i}]");
                    if let Some(summary) = note(&key) {
                        out.push_str(&format!("{key} = {summary}\n"));
                    }
                    render(item, &key, note, out);
                }
            }
            _ => render(v, &key, note, out),
        }
    }
}

fn plain(value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::Null => "unset".to_owned(),
        Value::String(s) => s.clone(),
        Value::Array(items) if items.is_empty() => "none".to_owned(),
        Value::Array(items) => items.iter().map(plain).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// Every key of the configuration, tables included (`backup`, `backup.keep`,
/// `backup.keep.daily`): those `check-config` shows for the defaults.
fn schema() -> &'static [String] {
    static KEYS: OnceLock<Vec<String>> = OnceLock::new();
    KEYS.get_or_init(|| {
        // Neither reads anything the user gave: a failure here is a bug the tests catch.
        let defaults = FileConfig::default()
            .parse(Vec::new())
            .expect("the defaults are a valid configuration");
        let value = serde_json::to_value(&defaults).expect("the defaults serialize");
        let mut keys = Vec::new();
        collect_keys(&value, "", &mut keys);
        keys
    })
}

fn collect_keys(value: &serde_json::Value, prefix: &str, keys: &mut Vec<String>) {
    if let serde_json::Value::Object(fields) = value {
        for (name, v) in fields {
            let key = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}.{name}")
            };
            collect_keys(v, &key, keys);
            keys.push(key);
        }
    }
}

/// Whether `key` is a table (a section, `backup.keep`) rather than a value.
fn is_table(key: &str) -> bool {
    let prefix = format!("{key}.");
    schema().iter().any(|k| k.starts_with(&prefix))
}

/// The variable that sets `key`: `CANTINE_<SECTION>__<KEY>`, `CANTINE_<KEY>` at the top level.
/// `None` for a whole section: `CANTINE_BACKUP` and the like stay free for other uses.
fn env_name(key: &str) -> Option<String> {
    if !key.contains('.') && is_table(key) {
        return None;
    }
    Some(format!(
        "{ENV_PREFIX}{}",
        key.replace('.', "__").to_ascii_uppercase()
    ))
}

/// The key a variable sets, or `None` for a `CANTINE_*` name that is not a key.
fn env_key(name: &str) -> Result<Option<String>, ConfigError> {
    let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
        return Ok(None);
    };
    if let Some((_, key)) = ENV_ALIASES.iter().find(|(alias, _)| *alias == name) {
        return Ok(Some((*key).to_owned()));
    }
    if rest.contains("__") {
        let parts: Vec<_> = rest.split("__").collect();
        if parts.iter().any(|part| part.is_empty()) {
            return Err(ConfigError::environment(
                name,
                "names an empty key between `__` separators",
            ));
        }
        let key = parts.join(".").to_ascii_lowercase();
        return Ok(Some(key));
    }
    let key = rest.to_ascii_lowercase();
    Ok((schema().contains(&key) && !is_table(&key)).then_some(key))
}

/// The `CANTINE_*` variables that set keys, as one more layer over the files.
#[derive(Default)]
struct EnvLayer {
    table: toml::Table,
    /// (key, variable) for each variable read.
    set: Vec<(String, String)>,
    /// Names that are no key but look like one written with a single `_`.
    warnings: Vec<String>,
}

impl EnvLayer {
    fn read(vars: &[(String, String)]) -> Result<Self, ConfigError> {
        let mut layer = Self::default();
        for (name, text) in vars {
            let Some(key) = env_key(name)? else {
                if let Some(meant) = misspelt(name) {
                    layer.warnings.push(format!(
                        "{name} is not a configuration variable and is ignored: did you mean {meant}?"
                    ));
                }
                continue;
            };
            if let Some((_, other)) = layer.set.iter().find(|(k, _)| *k == key) {
                return Err(ConfigError::environment(
                    name,
                    format!("sets {key} as {other} does; keep one of them"),
                ));
            }
            merge(&mut layer.table, one_variable(name, &key, text)?);
            layer.set.push((key, name.clone()));
        }
        Ok(layer)
    }

    /// Names the variable behind an invalid value: the key alone would send the operator
    /// to the files.
    fn attribute(&self, error: ConfigError) -> ConfigError {
        let ConfigError::Invalid { key, .. } = &error else {
            return error;
        };
        let within = |inner: &str, outer: &str| {
            inner == outer
                || inner
                    .strip_prefix(outer)
                    .is_some_and(|rest| rest.starts_with(['.', '[']))
        };
        match self
            .set
            .iter()
            .find(|(set, _)| within(key, set) || within(set, key))
        {
            Some((_, variable)) => ConfigError::SetBy {
                variable: variable.clone(),
                source: Box::new(error),
            },
            None => error,
        }
    }
}

/// The variable `name` was likely meant to be: `CANTINE_DATABASE_MAX_CONNECTIONS` for
/// `CANTINE_DATABASE__MAX_CONNECTIONS`. Only a warning: such a name may belong to something else.
fn misspelt(name: &str) -> Option<String> {
    let rest = name.strip_prefix(ENV_PREFIX)?.to_ascii_lowercase();
    schema()
        .iter()
        .find(|key| key.contains('.') && key.replace('.', "_") == rest)
        .and_then(|key| env_name(key))
}

/// The layer one variable makes, checked alone against the file's shape so that an error
/// names the variable. A value that is TOML but not of the key's type (`host = 2024`, a date)
/// is taken as the string it also is.
fn one_variable(name: &str, key: &str, text: &str) -> Result<toml::Table, ConfigError> {
    let as_string = nest(key, toml::Value::String(text.to_owned()));
    let mut candidates = Vec::new();
    if let Some(value) = toml_value(text) {
        candidates.push(nest(key, value));
    }
    candidates.push(as_string);
    let mut first_error = None;
    for table in candidates {
        match toml::Value::Table(table.clone()).try_into::<FileConfig>() {
            Ok(_) => return Ok(table),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    // toml ends its message with `in <table>` on a line of its own: one line reads better.
    let message = first_error.map_or_else(String::new, |e| {
        e.to_string()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    });
    Err(ConfigError::environment(name, format!("{key}: {message}")))
}

/// `text` as a TOML value, if it is exactly one.
fn toml_value(text: &str) -> Option<toml::Value> {
    let mut table: toml::Table = toml::from_str(&format!("value = {text}")).ok()?;
    // A newline in the variable could smuggle in other keys: only a lone value counts.
    if table.len() != 1 {
        return None;
    }
    table.remove("value")
}

/// `{ a = { b = value } }` for the key `a.b`.
fn nest(key: &str, value: toml::Value) -> toml::Table {
    let mut parts = key.rsplit('.');
    let mut table = toml::Table::new();
    let last = parts.next().unwrap_or(key);
    table.insert(last.to_owned(), value);
    for part in parts {
        let mut outer = toml::Table::new();
        outer.insert(part.to_owned(), toml::Value::Table(table));
        table = outer;
    }
    table
}

/// The shape of the file, of each drop-in and of the environment layer. Everything optional
/// so that a file only says what differs from the defaults. No `Debug`: it holds secrets
/// in clear.
#[derive(Default, Deserialize)]
#[cfg_attr(test, derive(Serialize))]
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
    #[serde(default)]
    open_data: FileOpenData,
    #[serde(default)]
    kitchen: FileKitchen,
    #[serde(default)]
    billing: FileBilling,
    #[serde(default)]
    accounting: FileAccounting,
    #[serde(default)]
    payfip: FilePayfip,
    #[serde(default)]
    privacy: FilePrivacy,
    #[serde(default)]
    retention: FileRetention,
    #[serde(default)]
    sepa: FileSepa,
}

impl FileConfig {
    fn parse(self, files: Vec<PathBuf>) -> Result<Config, ConfigError> {
        let top = FileTop {
            listen: self.listen,
            public_url: self.public_url,
            data_dir: self.data_dir,
        }
        .parse()?;
        let mut warnings = Vec::new();
        let database = self.database.parse(&top, &mut warnings)?;
        let secrets = self.secrets.parse(&top, &mut warnings)?;
        let log = self.log.parse(&top, &mut warnings)?;
        let http = self.http.parse(&top, &mut warnings)?;
        let booking = self.booking.parse(&top, &mut warnings)?;
        let calendar = self.calendar.parse(&top, &mut warnings)?;
        let mail = self.mail.parse(&top, &mut warnings)?;
        let backup = self.backup.parse(&top, &mut warnings)?;
        let open_data = self.open_data.parse(&top, &mut warnings)?;
        let kitchen = self.kitchen.parse(&top, &mut warnings)?;
        let billing = self.billing.parse(&top, &mut warnings)?;
        let accounting = self.accounting.parse(&top, &mut warnings)?;
        let payfip = self.payfip.parse(&top, &mut warnings)?;
        let privacy = self.privacy.parse(&top, &mut warnings)?;
        let retention = self.retention.parse(&top, &mut warnings)?;
        let sepa = self.sepa.parse(&top, &mut warnings)?;
        Ok(Config {
            files,
            warnings,
            listen: top.listen,
            public_url: top.public_url,
            data_dir: top.data_dir,
            database,
            secrets,
            log,
            http,
            booking,
            calendar,
            mail,
            backup,
            open_data,
            kitchen,
            billing,
            accounting,
            payfip,
            privacy,
            retention,
            sepa,
        })
    }
}

#[derive(Default, Deserialize)]
#[cfg_attr(test, derive(Serialize))]
#[serde(deny_unknown_fields)]
struct FilePrivacy {
    controller: Option<String>,
    address: Option<String>,
    dpo_contact: Option<String>,
    rights_contact: Option<String>,
    legal_basis: Option<String>,
    recipients: Option<Vec<String>>,
}

impl Section for FilePrivacy {
    type Typed = PrivacyConfig;

    fn parse(self, _: &Top, _: &mut Vec<String>) -> Result<PrivacyConfig, ConfigError> {
        let recipients = self.recipients.unwrap_or_else(|| {
            [
                "les agents du service scolaire et de la régie de la commune, chacun pour ce que son rôle demande",
                "le personnel de restauration et les agents des écoles : les repas réservés, les régimes et les allergies des enfants servis",
                "le prestataire de restauration : les effectifs par école et par jour, sans nom",
                "le comptable public (DGFiP) : les factures et les paiements, pour le recouvrement",
            ]
            .map(str::to_owned)
            .to_vec()
        });
        if recipients.iter().any(|r| r.trim().is_empty()) {
            return Err(ConfigError::invalid(
                "privacy.recipients",
                "an entry is empty",
            ));
        }
        Ok(PrivacyConfig {
            controller: required_text(
                "privacy.controller",
                self.controller,
                "La commune, représentée par son maire",
            )?,
            address: required_text("privacy.address", self.address, "Mairie")?,
            dpo_contact: required_text(
                "privacy.dpo_contact",
                self.dpo_contact,
                "Le délégué à la protection des données (DPO) de la commune, par courrier à la mairie",
            )?,
            rights_contact: required_text(
                "privacy.rights_contact",
                self.rights_contact,
                "À l'accueil de la mairie, ou par écrit au délégué à la protection des données",
            )?,
            legal_basis: required_text(
                "privacy.legal_basis",
                self.legal_basis,
                "Mission d'intérêt public (RGPD, art. 6.1.e) : le service public de restauration scolaire ; obligation légale (art. 6.1.c) pour la facturation et la comptabilité publique",
            )?,
            recipients,
        })
    }
}

#[derive(Default, Deserialize)]
#[cfg_attr(test, derive(Serialize))]
#[serde(deny_unknown_fields)]
struct FileRetention {
    worker: Option<bool>,
    audit_days: Option<u32>,
    inactive_household_days: Option<u32>,
    invoice_years: Option<u32>,
}

/// The database refuses to delete younger audit entries (migration 0021).
pub const MIN_AUDIT_DAYS: u32 = 183;

impl Section for FileRetention {
    type Typed = RetentionConfig;

    fn parse(self, _: &Top, _: &mut Vec<String>) -> Result<RetentionConfig, ConfigError> {
        let audit_days = self.audit_days.unwrap_or(365);
        if !(MIN_AUDIT_DAYS..=3660).contains(&audit_days) {
            return Err(ConfigError::invalid(
                "retention.audit_days",
                format!("must be between {MIN_AUDIT_DAYS} and 3660"),
            ));
        }
        let inactive_household_days = self.inactive_household_days.unwrap_or(730);
        if !(365..=3660).contains(&inactive_household_days) {
            return Err(ConfigError::invalid(
                "retention.inactive_household_days",
                "must be between 365 and 3660",
            ));
        }
        let invoice_years = self.invoice_years.unwrap_or(10);
        if !(10..=100).contains(&invoice_years) {
            return Err(ConfigError::invalid(
                "retention.invoice_years",
                "must be between 10 and 100",
            ));
        }
        Ok(RetentionConfig {
            worker: self.worker.unwrap_or(true),
            audit_days,
            inactive_household_days,
            invoice_years,
        })
    }
}

/// A section as the file gives it, turned into its typed form with its defaults filled in.
/// `top` holds the top-level keys some defaults follow; deprecated keys add a sentence to
/// `warnings`.
trait Section {
    type Typed;
    fn parse(self, top: &Top, warnings: &mut Vec<String>) -> Result<Self::Typed, ConfigError>;
}

/// The top-level keys, parsed first since other sections' defaults follow them.
struct Top {
    listen: SocketAddr,
    public_url: Url,
    data_dir: PathBuf,
}

struct FileTop {
    listen: Option<String>,
    public_url: Option<String>,
    data_dir: Option<PathBuf>,
}

impl FileTop {
    fn parse(self) -> Result<Top, ConfigError> {
        let listen_text = self.listen.unwrap_or_else(|| "127.0.0.1:8080".to_owned());
        let listen: SocketAddr = listen_text.parse().map_err(|_| {
            ConfigError::invalid(
                "listen",
                format!("{listen_text:?} is not an address:port such as 127.0.0.1:8080"),
            )
        })?;
        let public_url_text = self
            .public_url
            .unwrap_or_else(|| format!("http://{listen}"));
        Ok(Top {
            listen,
            public_url: parse_http_url("public_url", &public_url_text)?,
            data_dir: self.data_dir.unwrap_or_else(|| PathBuf::from("./var")),
        })
    }
}

#[derive(Default, Deserialize)]
#[cfg_attr(test, derive(Serialize))]
#[serde(deny_unknown_fields)]
struct FileDatabase {
    url: Option<String>,
    password_file: Option<PathBuf>,
    max_connections: Option<u32>,
}

impl Section for FileDatabase {
    type Typed = DatabaseConfig;

    fn parse(self, _: &Top, _: &mut Vec<String>) -> Result<DatabaseConfig, ConfigError> {
        let url = match self.url {
            Some(text) => Some(parse_database_url(&text, self.password_file.as_deref())?),
            None => None,
        };
        let max_connections = self.max_connections.unwrap_or(10);
        if max_connections == 0 {
            return Err(ConfigError::invalid(
                "database.max_connections",
                "must be at least 1",
            ));
        }
        Ok(DatabaseConfig {
            url,
            password_file: self.password_file,
            max_connections,
        })
    }
}

#[derive(Default, Deserialize)]
#[cfg_attr(test, derive(Serialize))]
#[serde(deny_unknown_fields)]
struct FileSecrets {
    health_data_key_file: Option<PathBuf>,
    /// Deprecated: nothing ever read it. Still accepted because the packaged file named it
    /// and dpkg keeps an admin's edited copy: refusing it would stop those appliances.
    session_key_file: Option<PathBuf>,
}

impl Section for FileSecrets {
    type Typed = SecretsConfig;

    fn parse(self, _: &Top, warnings: &mut Vec<String>) -> Result<SecretsConfig, ConfigError> {
        if self.session_key_file.is_some() {
            warnings.push(
                "secrets.session_key_file is deprecated and ignored (nothing reads it): \
                 remove it from the configuration"
                    .to_owned(),
            );
        }
        Ok(SecretsConfig {
            health_data_key: match &self.health_data_key_file {
                Some(path) => Some(HealthDataKey::read(path)?),
                None => None,
            },
        })
    }
}

#[derive(Default, Deserialize)]
#[cfg_attr(test, derive(Serialize))]
#[serde(deny_unknown_fields)]
struct FileLog {
    filter: Option<String>,
}

impl Section for FileLog {
    type Typed = LogConfig;

    fn parse(self, _: &Top, _: &mut Vec<String>) -> Result<LogConfig, ConfigError> {
        let filter = self.filter.unwrap_or_else(|| "info".to_owned());
        tracing_subscriber::EnvFilter::try_new(&filter)
            .map_err(|e| ConfigError::invalid("log.filter", e.to_string()))?;
        Ok(LogConfig { filter })
    }
}

#[derive(Default, Deserialize)]
#[cfg_attr(test, derive(Serialize))]
#[serde(deny_unknown_fields)]
struct FileHttp {
    request_timeout_secs: Option<u64>,
    body_limit_bytes: Option<usize>,
}

impl Section for FileHttp {
    type Typed = HttpConfig;

    fn parse(self, _: &Top, _: &mut Vec<String>) -> Result<HttpConfig, ConfigError> {
        let http = HttpConfig {
            request_timeout_secs: self.request_timeout_secs.unwrap_or(30),
            body_limit_bytes: self.body_limit_bytes.unwrap_or(64 * 1024),
        };
        if http.request_timeout_secs == 0 {
            return Err(ConfigError::invalid(
                "http.request_timeout_secs",
                "must be at least 1",
            ));
        }
        Ok(http)
    }
}

#[derive(Default, Deserialize)]
#[cfg_attr(test, derive(Serialize))]
#[serde(deny_unknown_fields)]
struct FileBooking {
    deadline: Option<FileDeadline>,
}

/// Each part optional, the others keeping the default rule's, so that a drop-in or a
/// variable can move the hour alone.
#[derive(Default, Deserialize)]
#[cfg_attr(test, derive(Serialize))]
#[serde(deny_unknown_fields)]
struct FileDeadline {
    days_before: Option<u32>,
    at: Option<String>,
    counting: Option<DayCounting>,
}

impl Section for FileBooking {
    type Typed = BookingConfig;

    fn parse(self, _: &Top, _: &mut Vec<String>) -> Result<BookingConfig, ConfigError> {
        let Some(parts) = self.deadline else {
            return Ok(BookingConfig::default());
        };
        let invalid = |e: &dyn std::fmt::Display| {
            ConfigError::invalid("booking.deadline", e.to_string().trim_end())
        };
        // Through the rule's own serde shape, which parses `at` and checks the whole rule.
        let mut rule = match toml::Value::try_from(DeadlineRule::default()) {
            Ok(toml::Value::Table(rule)) => rule,
            Ok(_) => return Err(invalid(&"the default rule is not a table")),
            Err(e) => return Err(invalid(&e)),
        };
        if let Some(days) = parts.days_before {
            rule.insert("days_before".to_owned(), i64::from(days).into());
        }
        if let Some(at) = parts.at {
            rule.insert("at".to_owned(), at.into());
        }
        if let Some(counting) = parts.counting {
            rule.insert(
                "counting".to_owned(),
                toml::Value::try_from(counting).map_err(|e| invalid(&e))?,
            );
        }
        let deadline = toml::Value::Table(rule)
            .try_into()
            .map_err(|e: toml::de::Error| invalid(&e))?;
        Ok(BookingConfig { deadline })
    }
}

#[derive(Default, Deserialize)]
#[cfg_attr(test, derive(Serialize))]
#[serde(deny_unknown_fields)]
struct FileCalendar {
    zone: Option<String>,
    file: Option<PathBuf>,
}

impl Section for FileCalendar {
    type Typed = CalendarConfig;

    fn parse(self, _: &Top, _: &mut Vec<String>) -> Result<CalendarConfig, ConfigError> {
        let zone_text = self.zone.unwrap_or_else(|| "A".to_owned());
        let zone: Zone =
            zone_text
                .parse()
                .map_err(|e: cantine_domain::calendar::UnknownZone| {
                    ConfigError::invalid("calendar.zone", e.to_string())
                })?;
        let holidays = match &self.file {
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
        Ok(CalendarConfig {
            zone,
            holidays,
            file: self.file,
        })
    }
}

#[derive(Default, Deserialize)]
#[cfg_attr(test, derive(Serialize))]
#[serde(deny_unknown_fields)]
struct FileMail {
    from: Option<String>,
    smtp_url: Option<String>,
    smtp_password_file: Option<PathBuf>,
    starttls: Option<StartTls>,
    ca_file: Option<PathBuf>,
}

impl Section for FileMail {
    type Typed = MailConfig;

    fn parse(self, top: &Top, _: &mut Vec<String>) -> Result<MailConfig, ConfigError> {
        let smtp_url = match self.smtp_url {
            Some(text) => Some(parse_smtp_url(&text, self.smtp_password_file.as_deref())?),
            None => None,
        };
        let from = self.from.unwrap_or_else(|| {
            format!(
                "Cantine <cantine@{}>",
                top.public_url.host_str().unwrap_or("localhost")
            )
        });
        from.parse::<lettre::message::Mailbox>()
            .map_err(|e| ConfigError::invalid("mail.from", format!("{from:?}: {e}")))?;
        Ok(MailConfig {
            from,
            smtp_url,
            smtp_password_file: self.smtp_password_file,
            starttls: self.starttls.unwrap_or_default(),
            ca_file: self.ca_file,
        })
    }
}

#[derive(Default, Deserialize)]
#[cfg_attr(test, derive(Serialize))]
#[serde(deny_unknown_fields)]
struct FileBackup {
    host: Option<String>,
    temp_dir: Option<PathBuf>,
    keep: Option<cantine_backup::KeepPolicy>,
    #[serde(default)]
    targets: Vec<cantine_backup::Target>,
}

impl Section for FileBackup {
    type Typed = BackupConfig;

    fn parse(self, top: &Top, _: &mut Vec<String>) -> Result<BackupConfig, ConfigError> {
        let host = self.host.unwrap_or_else(hostname);
        if host.trim().is_empty() {
            return Err(ConfigError::invalid("backup.host", "must not be empty"));
        }
        let keep = self.keep.unwrap_or_default();
        if keep.keeps_nothing() {
            return Err(ConfigError::invalid(
                "backup.keep",
                "keeps no snapshot at all; set at least one of hourly, daily, weekly, monthly",
            ));
        }
        for (i, target) in self.targets.iter().enumerate() {
            let key = format!("backup.targets[{i}]");
            target
                .validate()
                .map_err(|e| ConfigError::invalid(&key, e.to_string()))?;
            if self.targets[..i].iter().any(|t| t.name == target.name) {
                return Err(ConfigError::invalid(
                    &key,
                    format!("a second target is named `{}`", target.name),
                ));
            }
        }
        Ok(BackupConfig {
            host,
            temp_dir: self
                .temp_dir
                .unwrap_or_else(|| top.data_dir.join("backup-tmp")),
            keep,
            targets: self.targets,
        })
    }
}

#[derive(Default, Deserialize)]
#[cfg_attr(test, derive(Serialize))]
#[serde(deny_unknown_fields)]
struct FileOpenData {
    commune_name: Option<String>,
    commune_siret: Option<String>,
    commune_insee: Option<String>,
    producer_name: Option<String>,
    producer_siret: Option<String>,
    restaurant_type: Option<String>,
    guests: Option<String>,
    #[serde(default)]
    schools: Vec<FileOpenDataSchool>,
}

#[derive(Deserialize)]
#[cfg_attr(test, derive(Serialize))]
#[serde(deny_unknown_fields)]
struct FileOpenDataSchool {
    name: String,
    restaurant_type: Option<String>,
    uai: Option<String>,
}

fn restaurant_type(key: &str, text: &str) -> Result<RestaurantType, ConfigError> {
    text.parse().map_err(|e: scdl::UnknownRestaurantType| {
        let all: Vec<&str> = RestaurantType::ALL.iter().map(|t| t.name()).collect();
        ConfigError::invalid(key, format!("{e}; one of: {}", all.join(", ")))
    })
}

fn required_text(key: &str, text: Option<String>, default: &str) -> Result<String, ConfigError> {
    let text = text.unwrap_or_else(|| default.to_owned()).trim().to_owned();
    if text.is_empty() {
        return Err(ConfigError::invalid(key, "must not be empty"));
    }
    Ok(text)
}

impl Section for FileOpenData {
    type Typed = OpenDataConfig;

    /// Checked against the schema's patterns now, so that the export never publishes a line
    /// a portal would refuse.
    fn parse(self, _: &Top, _: &mut Vec<String>) -> Result<OpenDataConfig, ConfigError> {
        let siret = |key: &str, text: String| {
            if scdl::is_siret(&text) {
                Ok(text)
            } else {
                Err(ConfigError::invalid(
                    key,
                    format!("{text:?} is not a SIRET (14 digits)"),
                ))
            }
        };
        let commune_siret = siret(
            "open_data.commune_siret",
            self.commune_siret
                .unwrap_or_else(|| "21990123400019".to_owned()),
        )?;
        let commune_insee = self.commune_insee.unwrap_or_else(|| "99123".to_owned());
        if !scdl::is_insee(&commune_insee) {
            return Err(ConfigError::invalid(
                "open_data.commune_insee",
                format!(
                    "{commune_insee:?} is not an INSEE commune code (5 characters, like 75056 or 2A004)"
                ),
            ));
        }
        let producer_siret = self
            .producer_siret
            .map(|s| siret("open_data.producer_siret", s))
            .transpose()?;
        let mut schools: Vec<OpenDataSchool> = Vec::new();
        for (i, school) in self.schools.into_iter().enumerate() {
            let key = format!("open_data.schools[{i}]");
            let name = school.name.trim().to_owned();
            if name.is_empty() {
                return Err(ConfigError::invalid(&key, "name must not be empty"));
            }
            if schools.iter().any(|s| s.name == name) {
                return Err(ConfigError::invalid(
                    &key,
                    format!("`{name}` is listed twice"),
                ));
            }
            if let Some(uai) = school.uai.as_deref().filter(|u| !scdl::is_uai(u)) {
                return Err(ConfigError::invalid(
                    &key,
                    format!(
                        "uai {uai:?} is not a UAI (7 characters and a capital letter, like 0751234A)"
                    ),
                ));
            }
            schools.push(OpenDataSchool {
                name,
                restaurant_type: school
                    .restaurant_type
                    .as_deref()
                    .map(|t| restaurant_type(&format!("{key}.restaurant_type"), t))
                    .transpose()?,
                uai: school.uai,
            });
        }
        Ok(OpenDataConfig {
            commune_name: required_text(
                "open_data.commune_name",
                self.commune_name,
                "Commune de Techniville",
            )?,
            commune_siret,
            commune_insee,
            producer_name: required_text(
                "open_data.producer_name",
                self.producer_name,
                "Cuisine centrale de Techniville",
            )?,
            producer_siret,
            restaurant_type: restaurant_type(
                "open_data.restaurant_type",
                self.restaurant_type.as_deref().unwrap_or("élémentaire"),
            )?,
            guests: required_text("open_data.guests", self.guests, "tous")?,
            schools,
        })
    }
}

#[derive(Default, Deserialize)]
#[cfg_attr(test, derive(Serialize))]
#[serde(deny_unknown_fields)]
struct FileKitchen {
    worker: Option<bool>,
    tick_secs: Option<u64>,
    catch_up_days: Option<u32>,
    caterer_email: Option<String>,
    #[serde(default)]
    schools: Vec<KitchenSchool>,
}

/// The longest catch-up: a school year's worth of days.
const MAX_CATCH_UP_DAYS: u32 = 366;

impl Section for FileKitchen {
    type Typed = KitchenConfig;

    fn parse(self, _: &Top, _: &mut Vec<String>) -> Result<KitchenConfig, ConfigError> {
        let tick_secs = self.tick_secs.unwrap_or(60);
        if !(1..=86_400).contains(&tick_secs) {
            return Err(ConfigError::invalid(
                "kitchen.tick_secs",
                "must be between 1 and 86400",
            ));
        }
        let catch_up_days = self.catch_up_days.unwrap_or(7);
        if catch_up_days > MAX_CATCH_UP_DAYS {
            return Err(ConfigError::invalid(
                "kitchen.catch_up_days",
                format!("must be {MAX_CATCH_UP_DAYS} at most"),
            ));
        }
        let address = |key: &str, text: &str| {
            text.parse::<lettre::message::Mailboxes>()
                .ok()
                .filter(|m| m.iter().next().is_some())
                .map(|_| ())
                .ok_or_else(|| {
                    ConfigError::invalid(key, format!("{text:?} is not an e-mail address"))
                })
        };
        if let Some(text) = &self.caterer_email {
            address("kitchen.caterer_email", text)?;
        }
        for (i, school) in self.schools.iter().enumerate() {
            let key = format!("kitchen.schools[{i}]");
            if school.school.trim().is_empty() {
                return Err(ConfigError::invalid(&key, "`school` must name a school"));
            }
            if self.schools[..i].iter().any(|s| s.school == school.school) {
                return Err(ConfigError::invalid(
                    &key,
                    format!("a second entry for `{}`", school.school),
                ));
            }
            if let Some(text) = &school.caterer_email {
                address(&format!("{key}.caterer_email"), text)?;
            }
            if school.adult_meals > 10_000 {
                return Err(ConfigError::invalid(
                    &format!("{key}.adult_meals"),
                    "must be 10000 at most",
                ));
            }
        }
        Ok(KitchenConfig {
            worker: self.worker.unwrap_or(true),
            tick_secs,
            catch_up_days,
            caterer_email: self.caterer_email,
            schools: self.schools,
        })
    }
}

#[derive(Default, Deserialize)]
#[cfg_attr(test, derive(Serialize))]
#[serde(deny_unknown_fields)]
struct FileBilling {
    mail_worker: Option<bool>,
    commune_name: Option<String>,
    address_lines: Option<Vec<String>>,
    logo_file: Option<PathBuf>,
    online_payment_url: Option<String>,
    direct_debit: Option<String>,
    counter_address: Option<String>,
    counter_hours: Option<String>,
}

/// The largest logo accepted: a letterhead's image, not a photograph.
const MAX_LOGO_BYTES: u64 = 2 * 1024 * 1024;

/// Reads the logo now, so that a missing or unreadable file stops the service at start rather
/// than at the first invoice a family downloads.
fn read_logo(path: &Path) -> Result<BillingLogo, ConfigError> {
    const KEY: &str = "billing.logo_file";
    let size = std::fs::metadata(path)
        .map_err(|e| ConfigError::invalid(KEY, format!("cannot read {}: {e}", path.display())))?
        .len();
    if size > MAX_LOGO_BYTES {
        return Err(ConfigError::invalid(
            KEY,
            format!(
                "{} is {size} bytes; a logo takes {MAX_LOGO_BYTES} at most",
                path.display()
            ),
        ));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| ConfigError::invalid(KEY, format!("cannot read {}: {e}", path.display())))?;
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Ok(BillingLogo::Png(bytes))
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Ok(BillingLogo::Jpeg(bytes))
    } else {
        Err(ConfigError::invalid(
            KEY,
            format!("{} is neither a PNG nor a JPEG image", path.display()),
        ))
    }
}

impl Section for FileBilling {
    type Typed = BillingConfig;

    fn parse(self, _: &Top, _: &mut Vec<String>) -> Result<BillingConfig, ConfigError> {
        let address_lines: Vec<String> = self
            .address_lines
            .unwrap_or_else(|| {
                vec![
                    "Hôtel de ville".to_owned(),
                    "1 place de la Mairie".to_owned(),
                    "99123 Techniville".to_owned(),
                ]
            })
            .into_iter()
            .map(|line| line.trim().to_owned())
            .collect();
        if address_lines.is_empty() || address_lines.iter().any(String::is_empty) {
            return Err(ConfigError::invalid(
                "billing.address_lines",
                "needs at least one line, none of them empty",
            ));
        }
        if address_lines.len() > 6 {
            return Err(ConfigError::invalid(
                "billing.address_lines",
                "takes 6 lines at most (they must fit beside the envelope's window)",
            ));
        }
        let online_payment_url = required_text(
            "billing.online_payment_url",
            self.online_payment_url,
            "https://www.payfip.gouv.fr/",
        )?;
        parse_http_url("billing.online_payment_url", &online_payment_url)?;
        let logo = self
            .logo_file
            .as_deref()
            .map(read_logo)
            .transpose()?
            .map(Arc::new);
        Ok(BillingConfig {
            mail_worker: self.mail_worker.unwrap_or(true),
            commune_name: required_text(
                "billing.commune_name",
                self.commune_name,
                "Commune de Techniville",
            )?,
            address_lines,
            logo_file: self.logo_file,
            logo,
            online_payment_url,
            direct_debit: required_text(
                "billing.direct_debit",
                self.direct_debit,
                "Demandez le mandat de prélèvement SEPA au guichet de la mairie ou à la régie : le montant est alors prélevé le 10 du mois suivant la facture.",
            )?,
            counter_address: required_text(
                "billing.counter_address",
                self.counter_address,
                "Guichet unique, hôtel de ville, 1 place de la Mairie, 99123 Techniville",
            )?,
            counter_hours: required_text(
                "billing.counter_hours",
                self.counter_hours,
                "du lundi au vendredi de 8 h 30 à 12 h et de 13 h 30 à 17 h",
            )?,
        })
    }
}

#[derive(Default, Deserialize)]
#[cfg_attr(test, derive(Serialize))]
#[serde(deny_unknown_fields)]
struct FileAccounting {
    siret: Option<String>,
    cod_col: Option<String>,
    cod_bud: Option<String>,
    id_post: Option<String>,
    budget_name: Option<String>,
    cod_prod_loc: Option<String>,
    nature: Option<String>,
    period: Option<u8>,
}

impl Section for FileAccounting {
    type Typed = AccountingConfig;

    fn parse(self, _: &Top, _: &mut Vec<String>) -> Result<AccountingConfig, ConfigError> {
        let period = self.period.unwrap_or(1);
        if period > 9 {
            return Err(ConfigError::invalid(
                "accounting.period",
                "must be one digit, 0 to 9",
            ));
        }
        // A blank value is the same as none: the export then says what is missing.
        let set = |v: Option<String>| {
            v.map(|t| t.trim().to_owned())
                .filter(|t: &String| !t.is_empty())
        };
        Ok(AccountingConfig {
            siret: set(self.siret),
            cod_col: set(self.cod_col),
            cod_bud: set(self.cod_bud),
            id_post: set(self.id_post),
            budget_name: set(self.budget_name),
            cod_prod_loc: set(self.cod_prod_loc),
            nature: set(self.nature),
            period,
        })
    }
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
fn read_files(main: &Path) -> Result<(toml::Table, Vec<PathBuf>), ConfigError> {
    let mut merged = read_layer(main)?;
    let mut files = vec![main.to_owned()];
    for path in drop_ins(main)? {
        merge(&mut merged, read_layer(&path)?);
        files.push(path);
    }
    Ok((merged, files))
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

/// One file as a table to merge, checked alone against the file's shape first so that an
/// error names this file and its line.
fn read_layer(path: &Path) -> Result<toml::Table, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Unreadable {
        path: path.to_owned(),
        source,
    })?;
    parse::<FileConfig>(path, &text)?;
    parse(path, &text)
}

fn parse<T: serde::de::DeserializeOwned>(path: &Path, text: &str) -> Result<T, ConfigError> {
    toml::from_str(text).map_err(|e| ConfigError::Syntax {
        path: path.to_owned(),
        message: e.to_string().trim_end().to_owned(),
    })
}

#[derive(Default, Deserialize)]
#[cfg_attr(test, derive(Serialize))]
#[serde(deny_unknown_fields)]
struct FileSepa {
    creditor_name: Option<String>,
    creditor_iban: Option<String>,
    creditor_bic: Option<String>,
    ics: Option<String>,
    rum_prefix: Option<String>,
    collection_days: Option<u32>,
    prenotification_days: Option<u32>,
    default_version: Option<String>,
}

impl Section for FileSepa {
    type Typed = SepaConfig;

    fn parse(self, _: &Top, _: &mut Vec<String>) -> Result<SepaConfig, ConfigError> {
        use cantine_domain::sepa;
        let set = |v: Option<String>| {
            v.map(|t| t.trim().to_owned())
                .filter(|t: &String| !t.is_empty())
        };
        let creditor_name = set(self.creditor_name);
        if let Some(name) = &creditor_name
            && (name.chars().count() > 70 || sepa::latin(name, 70).is_empty())
        {
            return Err(ConfigError::invalid(
                "sepa.creditor_name",
                "1 to 70 characters, some of them letters or digits",
            ));
        }
        let creditor_iban = match set(self.creditor_iban) {
            Some(t) => Some(
                sepa::Iban::parse(&t)
                    .map_err(|e| ConfigError::invalid("sepa.creditor_iban", e.to_string()))?
                    .as_str()
                    .to_owned(),
            ),
            None => None,
        };
        let creditor_bic = match set(self.creditor_bic) {
            Some(t) => Some(
                sepa::Bic::parse(&t)
                    .map_err(|e| ConfigError::invalid("sepa.creditor_bic", e.to_string()))?
                    .as_str()
                    .to_owned(),
            ),
            None => None,
        };
        let ics = match set(self.ics) {
            Some(t) => Some(
                sepa::Ics::parse(&t)
                    .map_err(|e| ConfigError::invalid("sepa.ics", e.to_string()))?
                    .as_str()
                    .to_owned(),
            ),
            None => None,
        };
        let rum_prefix = set(self.rum_prefix).unwrap_or_else(|| "CANTINE".to_owned());
        if rum_prefix.len() > 26 || !sepa::is_identifier(&rum_prefix) {
            return Err(ConfigError::invalid(
                "sepa.rum_prefix",
                "1 to 26 characters of A-Z, 0-9 and -",
            ));
        }
        let collection_days = self.collection_days.unwrap_or(14);
        if !(1..=365).contains(&collection_days) {
            return Err(ConfigError::invalid(
                "sepa.collection_days",
                "1 to 365 days",
            ));
        }
        let prenotification_days = self.prenotification_days.unwrap_or(14);
        if prenotification_days > collection_days {
            return Err(ConfigError::invalid(
                "sepa.prenotification_days",
                "at most sepa.collection_days: the notice is mailed after the export",
            ));
        }
        let default_version = set(self.default_version).unwrap_or_else(|| "08".to_owned());
        if sepa::Version::parse(&default_version).is_none() {
            return Err(ConfigError::invalid(
                "sepa.default_version",
                "08 (pain.008.001.08) or 02 (pain.008.001.02)",
            ));
        }
        Ok(SepaConfig {
            creditor_name,
            creditor_iban,
            creditor_bic,
            ics,
            rum_prefix,
            collection_days,
            prenotification_days,
            default_version,
        })
    }
}

#[derive(Default, Deserialize)]
#[cfg_attr(test, derive(Serialize))]
#[serde(deny_unknown_fields)]
struct FilePayfip {
    endpoint: Option<String>,
    payment_page: Option<String>,
    saisie: Option<String>,
    timeout_secs: Option<u64>,
    worker: Option<bool>,
    tick_secs: Option<u64>,
    refresh_secs: Option<u64>,
    #[serde(default)]
    regies: Vec<PayfipRegie>,
}

impl Section for FilePayfip {
    type Typed = PayfipConfig;

    /// Checked now as PayFiP would (a `numcli` of 6 digits, a known `saisie`), so that a
    /// family never meets a payment refused for the commune's typo.
    fn parse(self, _: &Top, _: &mut Vec<String>) -> Result<PayfipConfig, ConfigError> {
        use cantine_domain::payfip;
        let endpoint = parse_http_url(
            "payfip.endpoint",
            self.endpoint.as_deref().unwrap_or(payfip::ENDPOINT),
        )?;
        let payment_page = parse_http_url(
            "payfip.payment_page",
            self.payment_page.as_deref().unwrap_or(payfip::PAYMENT_PAGE),
        )?;
        let saisie = self.saisie.unwrap_or_else(|| "T".to_owned());
        if payfip::Saisie::parse(&saisie).is_none() {
            return Err(ConfigError::invalid(
                "payfip.saisie",
                format!("{saisie:?} is not T (test), X (activation) or W (production)"),
            ));
        }
        let timeout_secs = self.timeout_secs.unwrap_or(15);
        if !(1..=120).contains(&timeout_secs) {
            return Err(ConfigError::invalid(
                "payfip.timeout_secs",
                "must be between 1 and 120",
            ));
        }
        let tick_secs = self.tick_secs.unwrap_or(120);
        if !(1..=86_400).contains(&tick_secs) {
            return Err(ConfigError::invalid(
                "payfip.tick_secs",
                "must be between 1 and 86400",
            ));
        }
        let refresh_secs = self.refresh_secs.unwrap_or(10);
        if refresh_secs > 3_600 {
            return Err(ConfigError::invalid(
                "payfip.refresh_secs",
                "must be between 0 and 3600",
            ));
        }
        for (i, regie) in self.regies.iter().enumerate() {
            let key = format!("payfip.regies[{i}]");
            if regie.code.trim().is_empty() {
                return Err(ConfigError::invalid(&key, "`code` must name a régie"));
            }
            if self.regies[..i].iter().any(|r| r.code == regie.code) {
                return Err(ConfigError::invalid(
                    &key,
                    format!("a second entry for the régie `{}`", regie.code),
                ));
            }
            if payfip::NumCli::new(&regie.numcli).is_err() {
                return Err(ConfigError::invalid(
                    &format!("{key}.numcli"),
                    format!(
                        "{:?} is not a PayFiP client number (6 digits, given by the DGFiP)",
                        regie.numcli
                    ),
                ));
            }
        }
        Ok(PayfipConfig {
            endpoint,
            payment_page,
            saisie,
            timeout_secs,
            worker: self.worker.unwrap_or(true),
            tick_secs,
            refresh_secs,
            regies: self.regies,
        })
    }
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
            "must be smtp://host[:port] (STARTTLS, see mail.starttls) or smtps://host[:port] (TLS)",
        ));
    }
    if url.query().is_some() {
        // lettre's `?tls=` would silently turn TLS off: the scheme and `mail.starttls` say it.
        return Err(ConfigError::invalid(
            "mail.smtp_url",
            "takes no query (?tls=...): TLS is set by the scheme and mail.starttls",
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
        // lettre's `?tls=` would turn STARTTLS off behind the scheme's back.
        let err = load(
            "[mail]\nsmtp_url = \"smtp://mail.fr:587?tls=opportunistic\"\n",
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("takes no query"), "{err}");
        assert_eq!(config.mail.starttls, StartTls::Required);
        let config = load("[mail]\nstarttls = \"opportunistic\"\n", &[]).unwrap();
        assert_eq!(config.mail.starttls, StartTls::Opportunistic);
        assert!(load("[mail]\nstarttls = \"never\"\n", &[]).is_err());
        let err = load("[mail]\nfrom = \"not an address\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("mail.from"), "{err}");
    }

    #[test]
    fn open_data_defaults_describe_the_demo_and_bad_identifiers_are_refused() {
        let config = load("", &[]).unwrap();
        assert_eq!(config.open_data.commune_siret.len(), 14);
        assert_eq!(
            config.open_data.restaurant_type,
            RestaurantType::Elementaire
        );
        assert_eq!(config.open_data.guests, "tous");
        let config = load(
            "[open_data]\ncommune_name = \"Ville de Lyon\"\ncommune_insee = \"69123\"\n\
             [[open_data.schools]]\nname = \"École A\"\nrestaurant_type = \"maternelle\"\nuai = \"0691234A\"\n",
            &[],
        )
        .unwrap();
        assert_eq!(
            config.open_data.school("École A"),
            (RestaurantType::Maternelle, Some("0691234A"))
        );
        assert_eq!(
            config.open_data.school("École B"),
            (RestaurantType::Elementaire, None)
        );
        assert!(
            config
                .describe()
                .contains("open_data.schools[0].uai = 0691234A")
        );
        for (text, key) in [
            (
                "[open_data]\ncommune_siret = \"123\"\n",
                "open_data.commune_siret",
            ),
            (
                "[open_data]\nproducer_siret = \"1234567890123X\"\n",
                "open_data.producer_siret",
            ),
            (
                "[open_data]\ncommune_insee = \"2C004\"\n",
                "open_data.commune_insee",
            ),
            (
                "[open_data]\nrestaurant_type = \"cantine\"\n",
                "open_data.restaurant_type",
            ),
            (
                "[open_data]\ncommune_name = \" \"\n",
                "open_data.commune_name",
            ),
            (
                "[[open_data.schools]]\nname = \"A\"\nuai = \"12\"\n",
                "open_data.schools[0]",
            ),
            (
                "[[open_data.schools]]\nname = \"A\"\n[[open_data.schools]]\nname = \"A\"\n",
                "open_data.schools[1]",
            ),
        ] {
            let err = load(text, &[]).unwrap_err().to_string();
            assert!(err.contains(key), "{text}: {err}");
        }
        let config = load("", &[("CANTINE_OPEN_DATA__COMMUNE_INSEE", "2A004")]).unwrap();
        assert_eq!(config.open_data.commune_insee, "2A004");
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

    /// Secret files in a fresh folder: a database and an SMTP password, a restic password and
    /// a health-data key as first boot writes it.
    fn secret_files() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        secret(dir.path(), "db-password", "db-secret\n");
        secret(dir.path(), "smtp-password", "smtp-secret\n");
        secret(dir.path(), "restic", "restic-secret\n");
        secret(dir.path(), "rest", "rest-secret\n");
        secret(dir.path(), "ca.pem", "not checked at load\n");
        secret(dir.path(), "health-data-key", HEALTH_KEY_HEX);
        // Only its first bytes are judged at load.
        std::fs::write(
            dir.path().join("logo.png"),
            b"\x89PNG\r\n\x1a\nnot drawn here",
        )
        .unwrap();
        dir
    }

    const HEALTH_KEY_HEX: &str = "00112233445566778899aabbccddeeff0123456789abcdefFEDCBA9876543210";

    /// Every key the file accepts, set to something other than its default.
    fn example(secrets: &Path) -> String {
        format!(
            r#"listen = "127.0.0.1:9000"
public_url = "https://cantine.techniville.fr"
data_dir = "/srv/cantine"

[database]
url = "postgresql://cantine@db/cantine"
password_file = "{s}/db-password"
max_connections = 20

[secrets]
health_data_key_file = "{s}/health-data-key"
session_key_file = "{s}/session-key"

[log]
filter = "debug"

[http]
request_timeout_secs = 15
body_limit_bytes = 1024

[booking]
deadline = {{ days_before = 3, at = "09:30", counting = "calendar_days" }}

[calendar]
zone = "C"
file = "{calendar}"

[mail]
from = "Cantine <cantine@techniville.fr>"
smtp_url = "smtp://relay@mail.techniville.fr:587"
smtp_password_file = "{s}/smtp-password"
starttls = "opportunistic"
ca_file = "{s}/relay-ca.pem"

[backup]
host = "mairie"
temp_dir = "/srv/tmp"
keep = {{ hourly = 1, daily = 2, weekly = 3, monthly = 4 }}

[[backup.targets]]
name = "second-site"
repository = "rest:https://cantine@backup.example.org:8000/cantine/"
password_file = "{s}/restic"
rest_password_file = "{s}/rest"
ca_cert = "{s}/ca.pem"
cache_dir = "/var/cache/cantine/restic"
append_only = true
rest_retries = 2

[open_data]
commune_name = "Ville de Techniville"
commune_siret = "21990123400019"
commune_insee = "99123"
producer_name = "Cuisine centrale"
producer_siret = "21990123400027"
restaurant_type = "élémentaire"
guests = "tous"

[[open_data.schools]]
name = "École Jules-Ferry"
restaurant_type = "maternelle"
uai = "0999001A"

[kitchen]
worker = false
tick_secs = 30
catch_up_days = 14
caterer_email = "commandes@traiteur.fr"

[[kitchen.schools]]
school = "École Jules-Ferry"
caterer_email = "ferry@traiteur.fr"
adult_meals = 4

[billing]
mail_worker = false
commune_name = "Ville de Techniville"
address_lines = ["Mairie", "2 rue Haute", "99123 Techniville"]
logo_file = "{s}/logo.png"
online_payment_url = "https://paiement.techniville.fr/"
direct_debit = "Mandat au guichet."
counter_address = "Régie, 2 rue Haute"
counter_hours = "le mardi de 9 h à 12 h"
[accounting]
siret = "21990123400019"
cod_col = "052"
cod_bud = "01"
id_post = "099010"
budget_name = "Commune de Techniville"
cod_prod_loc = "CANT"
nature = "7067"
period = 1

[payfip]
endpoint = "https://www.payfip.gouv.fr/tpa/services/securite"
payment_page = "https://www.payfip.gouv.fr/tpa/paiementws.web"
saisie = "W"
timeout_secs = 10
worker = false
tick_secs = 300
refresh_secs = 10

[[payfip.regies]]
code = "CANT"
numcli = "012345"

[privacy]
controller = "Commune de Techniville, représentée par son maire"
address = "Mairie, 2 rue Haute, 99123 Techniville"
dpo_contact = "dpo@techniville.fr"
rights_contact = "À l'accueil de la mairie"
legal_basis = "Mission d'intérêt public"
recipients = ["le service scolaire", "le comptable public"]

[retention]
worker = false
audit_days = 365
inactive_household_days = 730
invoice_years = 10

[sepa]
creditor_name = "Régie de la restauration scolaire"
creditor_iban = "FR1420041010050500013M02606"
creditor_bic = "PSSTFRPPLIL"
ics = "FR72ZZZ123456"
rum_prefix = "TECHNIVILLE"
collection_days = 14
prenotification_days = 14
default_version = "08"
"#,
            s = secrets.display(),
            calendar = bundled_calendar().display(),
        )
    }

    fn bundled_calendar() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("calendars/france.toml")
    }

    /// The dotted keys of a TOML table, list entries as `key[i]`.
    fn toml_keys(table: &toml::Table, prefix: &str, keys: &mut Vec<String>) {
        for (name, value) in table {
            let key = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}.{name}")
            };
            match value {
                toml::Value::Table(inner) => toml_keys(inner, &key, keys),
                toml::Value::Array(items) if items.iter().all(toml::Value::is_table) => {
                    for (i, item) in items.iter().enumerate() {
                        if let toml::Value::Table(inner) = item {
                            toml_keys(inner, &format!("{key}[{i}]"), keys);
                        }
                    }
                }
                _ => keys.push(key),
            }
        }
    }

    #[test]
    fn the_example_sets_every_key_the_file_accepts() {
        let secrets = secret_files();
        let file: FileConfig = toml::from_str(&example(secrets.path())).unwrap();
        // Serde lists the file's fields: one left unset here is a key the example forgot.
        let shape = serde_json::to_value(&file).unwrap();
        let mut unset = Vec::new();
        fn nulls(value: &serde_json::Value, prefix: &str, out: &mut Vec<String>) {
            if let serde_json::Value::Object(fields) = value {
                for (name, v) in fields {
                    let key = format!("{prefix}{name}");
                    if v.is_null() {
                        out.push(key.clone());
                    }
                    nulls(v, &format!("{key}."), out);
                }
            }
        }
        nulls(&shape, "", &mut unset);
        assert!(unset.is_empty(), "the example leaves unset: {unset:?}");
    }

    #[test]
    fn check_config_shows_every_key_accepted_in_the_file() {
        let secrets = secret_files();
        let text = example(secrets.path());
        let config = load(&text, &[]).unwrap();
        let described = config.describe();
        let mut keys = Vec::new();
        toml_keys(&toml::from_str(&text).unwrap(), "", &mut keys);
        assert!(keys.len() > 30, "{keys:?}");
        for key in keys {
            if key == "secrets.session_key_file" {
                assert!(
                    config.warnings.iter().any(|w| w.contains(&key)),
                    "{:?}",
                    config.warnings
                );
                continue;
            }
            assert!(
                described
                    .lines()
                    .any(|line| line.starts_with(&format!("{key} = "))),
                "check-config forgets {key}:\n{described}"
            );
        }
        for secret in ["db-secret", "smtp-secret", "restic-secret", "rest-secret"] {
            assert!(!described.contains(secret), "{described}");
            assert!(!format!("{config:?}").contains(secret));
        }
        let key_text = HEALTH_KEY_HEX.to_ascii_lowercase();
        assert!(!described.to_ascii_lowercase().contains(&key_text[..16]));
        assert!(
            !format!("{config:?}")
                .to_ascii_lowercase()
                .contains(&key_text[..16])
        );
    }

    #[test]
    fn check_config_says_what_an_unset_key_means() {
        let config = load("data_dir = \"/srv/cantine\"\n", &[]).unwrap();
        let described = config.describe();
        for line in [
            "database.url = unset: embedded PostgreSQL in /srv/cantine/pg\n",
            "mail.smtp_url = unset: messages spooled in /srv/cantine/mail\n",
            "calendar.file = unset: the bundled official calendar\n",
            "secrets.health_data_key_file = unset\n",
            "booking.deadline.days_before = 2\n",
            "booking.deadline.at = 10:00\n",
        ] {
            assert!(described.contains(line), "{line:?} not in:\n{described}");
        }
    }

    /// For each key that holds a value (not a table): a value other than its default, as a
    /// variable gives it, and the `check-config` line it must produce.
    fn override_cases(secrets: &Path) -> Vec<(&'static str, String, String)> {
        let s = secrets.display();
        let calendar = bundled_calendar().display().to_string();
        let target = format!(
            "[{{ name = \"local\", repository = \"/srv/restic\", password_file = \"{s}/restic\" }}]"
        );
        vec![
            ("listen", "0.0.0.0:7000".into(), "0.0.0.0:7000".into()),
            ("public_url", "https://c.fr".into(), "https://c.fr/".into()),
            ("data_dir", "/srv/env".into(), "/srv/env".into()),
            (
                "database.url",
                "postgresql://app:pw@db/cantine".into(),
                "postgresql://app:********@db/cantine".into(),
            ),
            (
                "database.password_file",
                format!("{s}/db-password"),
                format!("{s}/db-password"),
            ),
            ("database.max_connections", "20".into(), "20".into()),
            (
                "secrets.health_data_key_file",
                format!("{s}/health-data-key"),
                format!("{s}/health-data-key"),
            ),
            (
                "log.filter",
                "warn,cantine=debug".into(),
                "warn,cantine=debug".into(),
            ),
            ("http.request_timeout_secs", "5".into(), "5".into()),
            ("http.body_limit_bytes", "4096".into(), "4096".into()),
            ("booking.deadline.days_before", "4".into(), "4".into()),
            ("booking.deadline.at", "08:15".into(), "08:15".into()),
            (
                "booking.deadline.counting",
                "calendar_days".into(),
                "calendar_days".into(),
            ),
            ("calendar.zone", "B".into(), "B".into()),
            ("calendar.file", calendar.clone(), calendar),
            (
                "mail.from",
                "Mairie <m@techniville.fr>".into(),
                "Mairie <m@techniville.fr>".into(),
            ),
            (
                "mail.smtp_url",
                "smtps://relay:pw@mail.fr".into(),
                "smtps://relay:********@mail.fr".into(),
            ),
            (
                "mail.smtp_password_file",
                format!("{s}/smtp-password"),
                format!("{s}/smtp-password"),
            ),
            ("backup.host", "2024".into(), "2024".into()),
            ("backup.temp_dir", "/srv/tmp".into(), "/srv/tmp".into()),
            ("backup.keep.hourly", "1".into(), "1".into()),
            ("backup.keep.daily", "2".into(), "2".into()),
            ("backup.keep.weekly", "3".into(), "3".into()),
            ("backup.keep.monthly", "4".into(), "4".into()),
            ("backup.targets", target, "local: /srv/restic".into()),
            (
                "open_data.commune_name",
                "Ville de Lyon".into(),
                "Ville de Lyon".into(),
            ),
            (
                "open_data.commune_siret",
                "21690123000011".into(),
                "21690123000011".into(),
            ),
            ("open_data.commune_insee", "69123".into(), "69123".into()),
            (
                "open_data.producer_name",
                "Régie de Lyon".into(),
                "Régie de Lyon".into(),
            ),
            (
                "open_data.producer_siret",
                "21690123000029".into(),
                "21690123000029".into(),
            ),
            (
                "open_data.restaurant_type",
                "maternelle".into(),
                "maternelle".into(),
            ),
            ("open_data.guests", "enfants".into(), "enfants".into()),
            (
                "open_data.schools",
                r#"[{ name = "École A", uai = "0691234A" }]"#.into(),
                "École A".into(),
            ),
            ("kitchen.worker", "false".into(), "false".into()),
            ("kitchen.tick_secs", "30".into(), "30".into()),
            ("kitchen.catch_up_days", "14".into(), "14".into()),
            (
                "kitchen.caterer_email",
                "commandes@traiteur.fr".into(),
                "commandes@traiteur.fr".into(),
            ),
            (
                "kitchen.schools",
                "[{ school = \"École A\", adult_meals = 2 }]".into(),
                "École A".into(),
            ),
            ("billing.mail_worker", "false".into(), "false".into()),
            (
                "billing.commune_name",
                "Ville de Lyon".into(),
                "Ville de Lyon".into(),
            ),
            (
                "billing.address_lines",
                r#"["Mairie", "69001 Lyon"]"#.into(),
                "Mairie, 69001 Lyon".into(),
            ),
            (
                "billing.logo_file",
                format!("{s}/logo.png"),
                format!("{s}/logo.png"),
            ),
            (
                "billing.online_payment_url",
                "https://pay.lyon.fr/".into(),
                "https://pay.lyon.fr/".into(),
            ),
            (
                "billing.direct_debit",
                "Mandat en mairie".into(),
                "Mandat en mairie".into(),
            ),
            (
                "billing.counter_address",
                "Régie, Lyon".into(),
                "Régie, Lyon".into(),
            ),
            (
                "billing.counter_hours",
                "le lundi".into(),
                "le lundi".into(),
            ),
            (
                "accounting.siret",
                "21690123000011".into(),
                "21690123000011".into(),
            ),
            ("accounting.cod_col", "052".into(), "052".into()),
            ("accounting.cod_bud", "01".into(), "01".into()),
            ("accounting.id_post", "069010".into(), "069010".into()),
            (
                "accounting.budget_name",
                "Ville de Lyon".into(),
                "Ville de Lyon".into(),
            ),
            ("accounting.cod_prod_loc", "CANT".into(), "CANT".into()),
            ("accounting.nature", "7067".into(), "7067".into()),
            ("accounting.period", "3".into(), "3".into()),
            (
                "payfip.endpoint",
                "http://127.0.0.1:8090/tpa/services/securite".into(),
                "http://127.0.0.1:8090/tpa/services/securite".into(),
            ),
            (
                "payfip.payment_page",
                "http://127.0.0.1:8090/tpa/paiementws.web".into(),
                "http://127.0.0.1:8090/tpa/paiementws.web".into(),
            ),
            ("payfip.saisie", "X".into(), "X".into()),
            ("payfip.timeout_secs", "5".into(), "5".into()),
            ("payfip.worker", "false".into(), "false".into()),
            ("payfip.tick_secs", "60".into(), "60".into()),
            ("payfip.refresh_secs", "30".into(), "30".into()),
            (
                "payfip.regies",
                "[{ code = \"CANT\", numcli = \"123456\" }]".into(),
                "CANT".into(),
            ),
            (
                "privacy.controller",
                "Ville de Lyon".into(),
                "Ville de Lyon".into(),
            ),
            ("privacy.address", "Mairie".into(), "Mairie".into()),
            (
                "privacy.dpo_contact",
                "dpo@lyon.fr".into(),
                "dpo@lyon.fr".into(),
            ),
            ("privacy.rights_contact", "Accueil".into(), "Accueil".into()),
            ("privacy.legal_basis", "Mission".into(), "Mission".into()),
            (
                "privacy.recipients",
                r#"["le service", "le comptable"]"#.into(),
                "le service, le comptable".into(),
            ),
            ("retention.worker", "false".into(), "false".into()),
            ("retention.audit_days", "200".into(), "200".into()),
            (
                "retention.inactive_household_days",
                "400".into(),
                "400".into(),
            ),
            ("retention.invoice_years", "12".into(), "12".into()),
            (
                "mail.starttls",
                "opportunistic".into(),
                "opportunistic".into(),
            ),
            ("mail.ca_file", format!("{s}/ca.pem"), format!("{s}/ca.pem")),
            ("sepa.creditor_name", "Régie".into(), "Régie".into()),
            (
                "sepa.creditor_iban",
                "FR1420041010050500013M02606".into(),
                "FR1420041010050500013M02606".into(),
            ),
            (
                "sepa.creditor_bic",
                "PSSTFRPPLIL".into(),
                "PSSTFRPPLIL".into(),
            ),
            ("sepa.ics", "FR72ZZZ123456".into(), "FR72ZZZ123456".into()),
            ("sepa.rum_prefix", "LYON".into(), "LYON".into()),
            ("sepa.collection_days", "20".into(), "20".into()),
            ("sepa.prenotification_days", "5".into(), "5".into()),
            ("sepa.default_version", "02".into(), "02".into()),
        ]
    }

    #[test]
    fn every_key_can_be_overridden_by_its_environment_variable() {
        let secrets = secret_files();
        let cases = override_cases(secrets.path());
        let mut values: Vec<_> = schema()
            .iter()
            .filter(|key| !is_table(key))
            .map(String::as_str)
            .collect();
        values.sort_unstable();
        let mut covered: Vec<_> = cases.iter().map(|(key, _, _)| *key).collect();
        covered.sort_unstable();
        assert_eq!(covered, values, "every key needs an override case");
        for (key, value, shown) in cases {
            let variable = env_name(key).unwrap();
            assert!(
                variable.starts_with("CANTINE_") && !variable.contains('.'),
                "{variable}"
            );
            let config = load("", &[(&variable, &value)])
                .unwrap_or_else(|e| panic!("{variable}={value}: {e}"));
            let described = config.describe();
            let line =
                if key == "backup.targets" || key == "kitchen.schools" || key == "payfip.regies" {
                    format!("{key}[0] = {shown}\n")
                } else if key == "open_data.schools" {
                    format!("open_data.schools[0].name = {shown}\n")
                } else {
                    format!("{key} = {shown}\n")
                };
            assert!(
                described.contains(&line),
                "{variable}={value}: {line:?} not in:\n{described}"
            );
        }
    }

    #[test]
    fn variables_are_named_section_double_underscore_key() {
        assert_eq!(
            env_name("database.max_connections").unwrap(),
            "CANTINE_DATABASE__MAX_CONNECTIONS"
        );
        assert_eq!(
            env_name("backup.keep.daily").unwrap(),
            "CANTINE_BACKUP__KEEP__DAILY"
        );
        assert_eq!(env_name("public_url").unwrap(), "CANTINE_PUBLIC_URL");
        assert_eq!(env_name("backup"), None, "a section has no variable");
        assert_eq!(
            env_key("CANTINE_MAIL__SMTP_URL").unwrap().as_deref(),
            Some("mail.smtp_url")
        );
    }

    fn load_vars(toml_text: &str, vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(toml_text.as_bytes()).unwrap();
        let source = Source {
            file: Some(file.path().to_owned()),
            ..Source::default()
        };
        let vars = vars.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        Config::load_from_vars(&source, vars)
    }

    #[test]
    fn precedence_is_defaults_then_file_then_drop_ins_then_environment() {
        let (_dir, main) = with_drop_ins(
            "[http]\nrequest_timeout_secs = 10\nbody_limit_bytes = 100\n\
             [database]\nmax_connections = 5\n",
            &[(
                "50-site.toml",
                "[http]\nbody_limit_bytes = 200\n[database]\nmax_connections = 6\n",
            )],
        );
        let source = Source {
            file: Some(main.clone()),
            ..Source::default()
        };
        let vars =
            [("CANTINE_DATABASE__MAX_CONNECTIONS", "7")].map(|(k, v)| (k.to_owned(), v.to_owned()));
        let config = Config::load_from_vars(&source, vars).unwrap();
        assert_eq!(config.log.filter, "info", "default");
        assert_eq!(config.http.request_timeout_secs, 10, "file over default");
        assert_eq!(config.http.body_limit_bytes, 200, "drop-in over file");
        assert_eq!(
            config.database.max_connections, 7,
            "environment over drop-in"
        );
    }

    #[test]
    fn a_nested_table_from_the_environment_merges_key_by_key() {
        let config = load(
            "[backup]\nkeep = { hourly = 6 }\n[booking]\ndeadline = { days_before = 3 }\n",
            &[
                ("CANTINE_BACKUP__KEEP__DAILY", "3"),
                ("CANTINE_BOOKING__DEADLINE__AT", "08:00"),
            ],
        )
        .unwrap();
        assert_eq!(
            (config.backup.keep.hourly, config.backup.keep.daily),
            (6, 3)
        );
        assert_eq!(config.backup.keep.weekly, 8, "default");
        assert_eq!(
            config.booking.deadline.to_string(),
            "3 service days before at 08:00"
        );
        let config = load("", &[("CANTINE_BACKUP__KEEP", "{ monthly = 2 }")]).unwrap();
        assert_eq!(
            (config.backup.keep.monthly, config.backup.keep.hourly),
            (2, 24)
        );
    }

    #[test]
    fn the_former_variable_names_still_work() {
        let config = load(
            "[calendar]\nzone = \"C\"\n",
            &[
                ("CANTINE_LOG", "warn"),
                ("CANTINE_ZONE", "B"),
                ("CANTINE_BACKUP_HOST", "mairie-env"),
                ("CANTINE_DATABASE_URL", "postgresql://app@db/cantine"),
            ],
        )
        .unwrap();
        assert_eq!(config.log.filter, "warn");
        assert_eq!(config.calendar.zone, Zone::B);
        assert_eq!(config.backup.host, "mairie-env");
        assert!(config.database.url.is_some());
        let err = load_vars(
            "",
            &[("CANTINE_LOG", "warn"), ("CANTINE_LOG__FILTER", "debug")],
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("CANTINE_LOG__FILTER") && err.contains("CANTINE_LOG "),
            "{err}"
        );
    }

    #[test]
    fn a_bad_value_from_the_environment_names_the_variable() {
        for (vars, expected) in [
            (
                vec![("CANTINE_DATABASE__MAX_CONNECTIONS", "many")],
                "CANTINE_DATABASE__MAX_CONNECTIONS",
            ),
            (
                vec![("CANTINE_DATABASE__MAX_CONNECTIONS", "0")],
                "CANTINE_DATABASE__MAX_CONNECTIONS: invalid value for database.max_connections",
            ),
            (
                vec![("CANTINE_BACKUP__KEEP__DAILY", "-1")],
                "CANTINE_BACKUP__KEEP__DAILY",
            ),
            (
                vec![("CANTINE_PUBLIC_URL", "cantine.fr")],
                "CANTINE_PUBLIC_URL: invalid value for public_url",
            ),
            (
                vec![("CANTINE_ZONE", "D")],
                "CANTINE_ZONE: invalid value for calendar.zone",
            ),
            (
                vec![("CANTINE_DATABASE__URI", "postgresql://x/y")],
                "CANTINE_DATABASE__URI",
            ),
            (vec![("CANTINE_MAIL__", "x")], "CANTINE_MAIL__"),
            (
                vec![("CANTINE_BACKUP__TARGETS__0__NAME", "x")],
                "CANTINE_BACKUP__TARGETS__0__NAME",
            ),
        ] {
            let err = load_vars("", &vars).unwrap_err().to_string();
            assert!(err.contains(expected), "{expected:?} not in: {err}");
        }
        let err = load_vars("", &[("CANTINE_DATABASE__URI", "postgresql://u:pw@x/y")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `uri`"), "{err}");
        assert!(!err.contains("pw@"), "{err}");
    }

    #[test]
    fn other_cantine_variables_are_not_keys() {
        let config = load_vars(
            "",
            &[
                ("CANTINE_COMMIT", "abc123"),
                ("CANTINE_CONFIG", "/ignored/when/a/file/is/given"),
                ("CANTINE_BACKUP", "not a section override"),
                ("CANTINE_DATABASE_MAX_CONNECTIONS", "3"),
                ("PATH", "/usr/bin"),
            ],
        )
        .unwrap();
        assert_eq!(config.database.max_connections, 10);
        assert_eq!(
            config.warnings,
            [
                "CANTINE_DATABASE_MAX_CONNECTIONS is not a configuration variable and is ignored: \
              did you mean CANTINE_DATABASE__MAX_CONNECTIONS?"
            ]
        );
    }

    #[test]
    fn a_variable_that_looks_like_toml_but_is_not_of_its_type_is_a_string() {
        let config = load(
            "",
            &[
                ("CANTINE_BACKUP__HOST", "2024"),
                ("CANTINE_DATA_DIR", "\"/srv/quoted\""),
            ],
        )
        .unwrap();
        assert_eq!(config.backup.host, "2024");
        assert_eq!(config.data_dir, PathBuf::from("/srv/quoted"));
        assert_eq!(toml_value("1\nlisten = 2"), None, "one value only");
    }

    #[test]
    fn the_health_data_key_is_read_checked_and_masked() {
        let secrets = secret_files();
        let path = secrets.path().join("health-data-key");
        let text = format!("[secrets]\nhealth_data_key_file = \"{}\"\n", path.display());
        let config = load(&text, &[]).unwrap();
        let key = config.secrets.health_data_key.as_ref().unwrap();
        assert_eq!(key.path(), path);
        assert_eq!(key.expose().len(), HealthDataKey::LEN);
        assert_eq!(&key.expose()[..3], &[0x00, 0x11, 0x22]);
        assert_eq!(&key.expose()[28..], &[0x76, 0x54, 0x32, 0x10]);
        assert!(!format!("{config:?}").contains("aabbcc"));
        assert!(config.describe().contains(&format!(
            "secrets.health_data_key_file = {}\n",
            path.display()
        )));

        // What an editor leaves is accepted; anything else is refused, naming key and file.
        std::fs::write(&path, format!("{HEALTH_KEY_HEX}\n")).unwrap();
        assert!(load(&text, &[]).is_ok());
        for bad in [
            &HEALTH_KEY_HEX[..62],
            "zz112233445566778899aabbccddeeff0123456789abcdefFEDCBA9876543210",
            "",
        ] {
            std::fs::write(&path, bad).unwrap();
            let err = load(&text, &[]).unwrap_err().to_string();
            assert!(
                err.contains("secrets.health_data_key_file")
                    && err.contains(&path.display().to_string())
                    && err.contains("64 hexadecimal digits"),
                "{err}"
            );
            assert!(bad.is_empty() || !err.contains(&bad[2..20]), "{err}");
        }
        std::fs::remove_file(&path).unwrap();
        let err = load(&text, &[]).unwrap_err().to_string();
        assert!(
            err.contains("secrets.health_data_key_file") && err.contains("cannot read"),
            "{err}"
        );
    }

    #[test]
    fn session_key_file_is_accepted_as_deprecated_and_ignored() {
        let config = load(
            "[secrets]\nsession_key_file = \"/etc/cantine/secrets/session-key\"\n",
            &[],
        )
        .unwrap();
        assert_eq!(config.warnings.len(), 1);
        assert!(
            config.warnings[0].contains("secrets.session_key_file")
                && config.warnings[0].contains("deprecated"),
            "{:?}",
            config.warnings
        );
        assert!(config.secrets.health_data_key.is_none());
        assert!(!config.describe().contains("session_key"));
        assert!(load("", &[]).unwrap().warnings.is_empty());
    }

    #[test]
    fn billing_defaults_describe_the_demo_and_a_bad_logo_or_address_is_refused() {
        let config = load("", &[]).unwrap();
        assert!(config.billing.mail_worker);
        assert_eq!(config.billing.commune_name, "Commune de Techniville");
        assert_eq!(config.billing.address_lines.len(), 3);
        assert!(config.billing.logo.is_none());
        let dir = tempfile::tempdir().unwrap();
        let jpeg = dir.path().join("logo.jpg");
        std::fs::write(&jpeg, [0xFF, 0xD8, 0xFF, 0xE0, 0, 0]).unwrap();
        let text = dir.path().join("logo.txt");
        std::fs::write(&text, "not an image").unwrap();
        let config = load(
            &format!("[billing]\nlogo_file = \"{}\"\n", jpeg.display()),
            &[],
        )
        .unwrap();
        assert!(matches!(
            config.billing.logo.as_deref(),
            Some(BillingLogo::Jpeg(_))
        ));
        for bad in [
            format!("[billing]\nlogo_file = \"{}\"\n", text.display()),
            "[billing]\nlogo_file = \"/nonexistent/logo.png\"\n".to_owned(),
            "[billing]\naddress_lines = []\n".to_owned(),
            "[billing]\naddress_lines = [\"Mairie\", \" \"]\n".to_owned(),
            "[billing]\nonline_payment_url = \"payfip\"\n".to_owned(),
            "[billing]\ncounter_hours = \"\"\n".to_owned(),
        ] {
            let error = load(&bad, &[]).unwrap_err().to_string();
            assert!(error.contains("billing."), "{bad}: {error}");
        }
    }

    #[test]
    fn payfip_client_numbers_and_mode_are_checked_at_load() {
        let config = load(
            "[payfip]\nsaisie = \"W\"\n[[payfip.regies]]\ncode = \"CANT\"\nnumcli = \"012345\"\n",
            &[],
        )
        .unwrap();
        assert_eq!(config.payfip.numcli("CANT").unwrap().as_str(), "012345");
        assert!(config.payfip.numcli("AUTRE").is_none());
        assert_eq!(
            config.payfip.saisie(),
            cantine_domain::payfip::Saisie::Production
        );
        assert_eq!(config.payfip.timeout_secs, 15);
        assert_eq!(
            config.payfip.endpoint.as_str(),
            cantine_domain::payfip::ENDPOINT
        );
        for (bad, key) in [
            (
                "[[payfip.regies]]\ncode = \"CANT\"\nnumcli = \"12345\"\n",
                "payfip.regies[0].numcli",
            ),
            (
                "[[payfip.regies]]\ncode = \"CANT\"\nnumcli = \"01234a\"\n",
                "payfip.regies[0].numcli",
            ),
            ("[payfip]\nsaisie = \"P\"\n", "payfip.saisie"),
            ("[payfip]\nendpoint = \"ftp://x\"\n", "payfip.endpoint"),
            ("[payfip]\ntimeout_secs = 0\n", "payfip.timeout_secs"),
            (
                "[[payfip.regies]]\ncode = \"A\"\nnumcli = \"012345\"\n[[payfip.regies]]\ncode = \"A\"\nnumcli = \"012346\"\n",
                "payfip.regies[1]",
            ),
        ] {
            let error = load(bad, &[]).unwrap_err().to_string();
            assert!(error.contains(key), "{bad}: {error}");
        }
    }

    #[test]
    fn kitchen_addresses_and_schools_are_checked_at_load() {
        let config = load(
            "[kitchen]\ncaterer_email = \"a@traiteur.fr\"\n[[kitchen.schools]]\nschool = \"École A\"\nadult_meals = 3\n[[kitchen.schools]]\nschool = \"École B\"\ncaterer_email = \"b@traiteur.fr\"\n",
            &[],
        )
        .unwrap();
        assert_eq!(config.kitchen.caterer_for("École A"), Some("a@traiteur.fr"));
        assert_eq!(config.kitchen.caterer_for("École B"), Some("b@traiteur.fr"));
        assert_eq!(config.kitchen.adult_meals("École A"), 3);
        assert_eq!(config.kitchen.adult_meals("École C"), 0);
        assert!(config.kitchen.worker);
        for bad in [
            "[kitchen]\ncaterer_email = \"pas une adresse\"\n",
            "[kitchen]\ntick_secs = 0\n",
            "[[kitchen.schools]]\nschool = \"\"\n",
            "[[kitchen.schools]]\nschool = \"A\"\n[[kitchen.schools]]\nschool = \"A\"\n",
            "[[kitchen.schools]]\nschool = \"A\"\ncaterer_email = \"x\"\n",
        ] {
            let error = load(bad, &[]).unwrap_err().to_string();
            assert!(error.contains("kitchen"), "{bad}: {error}");
        }
    }

    #[test]
    fn the_readme_documents_every_key_and_its_variable() {
        let readme = include_str!("../../../README.md");
        for key in schema().iter().filter(|key| !is_table(key)) {
            let variable = env_name(key).unwrap();
            let row = readme
                .lines()
                .find(|line| line.starts_with(&format!("| `{key}` |")))
                .unwrap_or_else(|| panic!("README.md has no row for `{key}`"));
            assert!(row.contains(&format!("`{variable}`")), "{row}");
        }
        for (alias, key) in ENV_ALIASES {
            let row = readme
                .lines()
                .find(|line| line.starts_with(&format!("| `{key}` |")))
                .unwrap_or_else(|| panic!("README.md has no row for `{key}`"));
            assert!(row.contains(&format!("`{alias}`")), "{row}");
        }
    }
}
