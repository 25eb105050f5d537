//! The mailer against a real SMTP relay on loopback (Python's aiosmtpd, app/tests/peers/
//! smtp_relay.py) with a test CA made by `openssl`: mail goes over STARTTLS with AUTH, or
//! over implicit TLS for `smtps://`, and never in clear nor to a relay whose certificate the
//! configured CA did not sign.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use cantine::platform::config::{Config, Source};
use cantine::platform::mail::{Mail, Mailer};
use serde_json::Value;

const PYTHON: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../var/test-venv/bin/python");
const RELAY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/peers/smtp_relay.py");
/// The relay's credentials (`smtp_relay.py`).
const USER: &str = "relay";
const PASSWORD: &str = "mot-de-passe-du-relais";

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs (scripts/install-deps test)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA named `name` (`<name>-ca.pem`) in `dir`.
fn ca(dir: &Path, name: &str) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &format!("{name}-ca.key"),
            "-out",
            &format!("{name}-ca.pem"),
            "-days",
            "2",
            "-subj",
            &format!("/CN=Cantine test CA {name}"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
}

/// A test CA, a server certificate it signs for `localhost` and 127.0.0.1, and another CA
/// that signs nothing.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        ca(d, "test");
        ca(d, "other");
        openssl(
            d,
            &[
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
                "-subj",
                "/CN=localhost",
            ],
        );
        std::fs::write(
            d.join("server.ext"),
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
             keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "test-ca.pem",
                "-CAkey",
                "test-ca.key",
                "-CAcreateserial",
                "-out",
                "server.pem",
                "-days",
                "2",
                "-extfile",
                "server.ext",
            ],
        );
        Self { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// The relay process, killed when dropped, and the file it records its events in.
struct Relay {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Relay {
    fn start(mode: &str, pki: &Pki) -> Self {
        let log = pki.path(&format!("{mode}-events.jsonl"));
        let mut child = Command::new(PYTHON)
            .arg(RELAY)
            .arg(mode)
            .arg(&log)
            .arg(pki.path("server.pem"))
            .arg(pki.path("server.key"))
            .stdout(Stdio::piped())
            .spawn()
            .expect("the test venv's python (scripts/install-deps test)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line.trim().parse().expect("the relay prints its port");
        Self { child, port, log }
    }

    fn events(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The configuration a commune writes: `[mail]` with the relay's URL and the settings given.
fn config(dir: &Path, smtp_url: &str, extra: &str) -> Config {
    let file = dir.join("cantine.toml");
    std::fs::write(
        &file,
        format!(
            "data_dir = \"{}\"\n[mail]\nfrom = \"Cantine <cantine@techniville.fr>\"\nsmtp_url = \"{smtp_url}\"\n{extra}",
            dir.display()
        ),
    )
    .unwrap();
    Config::load_from(
        &Source {
            file: Some(file),
            skip_default_file: true,
        },
        |_| None,
    )
    .expect("a valid configuration")
}

fn invitation() -> Mail {
    Mail {
        to: "famille.martin@techniville.test".into(),
        subject: "Confirmez votre adresse".into(),
        body: "Lien de confirmation : https://cantine.techniville.fr/confirmer?jeton=SECRET-TOKEN"
            .into(),
    }
}

#[tokio::test]
async fn mail_goes_over_starttls_with_auth_to_a_relay_signed_by_the_configured_ca() {
    let pki = Pki::new();
    let relay = Relay::start("starttls", &pki);
    let config = config(
        pki.dir.path(),
        &format!("smtp://{USER}:{PASSWORD}@localhost:{}", relay.port),
        &format!("ca_file = \"{}\"\n", pki.path("test-ca.pem").display()),
    );
    let mailer = Mailer::from_config(&config).unwrap();
    mailer.send(invitation()).await.expect("sent over STARTTLS");

    let events = relay.events();
    let auth: Vec<_> = events.iter().filter(|e| e["event"] == "auth").collect();
    assert_eq!(auth.len(), 1, "{events:?}");
    assert_eq!(auth[0]["ok"], true);
    assert_eq!(auth[0]["tls"], true, "AUTH after STARTTLS only");
    let mail: Vec<_> = events.iter().filter(|e| e["event"] == "mail").collect();
    assert_eq!(mail.len(), 1, "{events:?}");
    assert_eq!(mail[0]["tls"], true);
    assert_eq!(mail[0]["authenticated"], true);
    assert_eq!(mail[0]["to"][0], "famille.martin@techniville.test");
    assert!(
        mail[0]["content"]
            .as_str()
            .unwrap()
            .contains("Subject: Confirmez votre adresse")
    );
}

#[tokio::test]
async fn a_relay_without_starttls_gets_neither_the_password_nor_the_mail() {
    let pki = Pki::new();
    // This relay would take AUTH and the mail in clear: only the mailer can refuse.
    let relay = Relay::start("plain", &pki);
    let config = config(
        pki.dir.path(),
        &format!("smtp://{USER}:{PASSWORD}@localhost:{}", relay.port),
        &format!("ca_file = \"{}\"\n", pki.path("test-ca.pem").display()),
    );
    let mailer = Mailer::from_config(&config).unwrap();
    let err = mailer.send(invitation()).await.unwrap_err().to_string();
    assert!(!err.contains(PASSWORD), "{err}");
    assert_eq!(relay.events(), Vec::<Value>::new(), "nothing said in clear");
}

#[tokio::test]
async fn opportunistic_starttls_is_only_what_the_operator_asked_for() {
    // The explicit setting: a relay on the same host that cannot do TLS gets the mail.
    let pki = Pki::new();
    let relay = Relay::start("plain", &pki);
    let config = config(
        pki.dir.path(),
        &format!("smtp://{USER}:{PASSWORD}@localhost:{}", relay.port),
        "starttls = \"opportunistic\"\n",
    );
    Mailer::from_config(&config)
        .unwrap()
        .send(invitation())
        .await
        .expect("sent in clear, as configured");
    let mail: Vec<_> = relay
        .events()
        .into_iter()
        .filter(|e| e["event"] == "mail")
        .collect();
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0]["tls"], false);
}

#[tokio::test]
async fn a_relay_whose_certificate_another_ca_signed_gets_nothing() {
    let pki = Pki::new();
    let relay = Relay::start("starttls", &pki);
    let config = config(
        pki.dir.path(),
        &format!("smtp://{USER}:{PASSWORD}@localhost:{}", relay.port),
        &format!("ca_file = \"{}\"\n", pki.path("other-ca.pem").display()),
    );
    let mailer = Mailer::from_config(&config).unwrap();
    mailer
        .send(invitation())
        .await
        .expect_err("the certificate is not trusted");
    // Nor by the system's store, which knows nothing of the test CA.
    let config = config_without_ca(&pki, relay.port);
    Mailer::from_config(&config)
        .unwrap()
        .send(invitation())
        .await
        .expect_err("the system's store does not know the test CA");
    assert!(
        relay
            .events()
            .iter()
            .all(|e| e["event"] != "auth" && e["event"] != "mail"),
        "{:?}",
        relay.events()
    );
}

fn config_without_ca(pki: &Pki, port: u16) -> Config {
    config(
        pki.dir.path(),
        &format!("smtp://{USER}:{PASSWORD}@localhost:{port}"),
        "",
    )
}

#[tokio::test]
async fn smtps_is_tls_from_the_first_byte() {
    let pki = Pki::new();
    let relay = Relay::start("implicit", &pki);
    let config = config(
        pki.dir.path(),
        &format!("smtps://{USER}:{PASSWORD}@localhost:{}", relay.port),
        &format!("ca_file = \"{}\"\n", pki.path("test-ca.pem").display()),
    );
    Mailer::from_config(&config)
        .unwrap()
        .send(invitation())
        .await
        .expect("sent over implicit TLS");
    let events = relay.events();
    let mail: Vec<_> = events.iter().filter(|e| e["event"] == "mail").collect();
    assert_eq!(mail.len(), 1, "{events:?}");
    assert_eq!(mail[0]["tls"], true);
    assert_eq!(mail[0]["authenticated"], true);
}
