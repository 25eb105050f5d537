//! Outgoing mail: through the commune's SMTP relay in production, into `<data_dir>/mail/*.eml`
//! in development and in the demo, so links can be followed without a mail server.
//!
//! The relay is always reached over TLS with its certificate checked: `smtps://` is TLS from
//! the first byte (port 465), `smtp://` must offer STARTTLS (port 587) before anything else is
//! said, the password above all. A relay that does not offer it gets nothing, unless the
//! operator wrote `mail.starttls = "opportunistic"`. The URL is read here rather than by
//! lettre's `from_url`, which on `smtp://` without `?tls=required` sends in clear.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use lettre::message::{Mailbox, MultiPart, SinglePart, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, CertificateStore, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::platform::config::{Config, MailConfig, SecretUrl, StartTls};

pub struct Mailer {
    from: Mailbox,
    transport: Transport,
}

enum Transport {
    Spool(PathBuf),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

/// A message ready to send: plain text, French.
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// A file sent with a mail (the kitchen's CSV to the caterer).
#[derive(Debug, Clone)]
pub struct Attachment {
    pub filename: String,
    /// A MIME type, `text/csv; charset=utf-8`.
    pub content_type: String,
    pub content: Vec<u8>,
}

impl Mailer {
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        let transport = match &config.mail.smtp_url {
            Some(url) => Transport::Smtp(relay(&config.mail, url)?),
            None => Transport::Spool(config.data_dir.join("mail")),
        };
        Ok(Self {
            from: config.mail.from.parse()?,
            transport,
        })
    }

    /// The spool folder, when mail is not really sent.
    pub fn spool(&self) -> Option<&PathBuf> {
        match &self.transport {
            Transport::Spool(dir) => Some(dir),
            Transport::Smtp(_) => None,
        }
    }

    /// Sends after the action it tells of has committed: a mail that cannot go is logged, and
    /// the action stands.
    pub async fn send_logged(&self, mail: Mail) {
        let subject = mail.subject.clone();
        if let Err(e) = self.send(mail).await {
            tracing::warn!(error = %e, subject, "mail not sent");
        }
    }

    /// `mail.to` may name several addresses, comma-separated: one mail for a whole family.
    pub async fn send(&self, mail: Mail) -> anyhow::Result<()> {
        self.send_with(mail, &[]).await
    }

    /// Sends the text with files attached (a `multipart/mixed` message); without any, the
    /// same plain-text message as [`Mailer::send`].
    pub async fn send_with(&self, mail: Mail, attachments: &[Attachment]) -> anyhow::Result<()> {
        let to: lettre::message::Mailboxes = mail.to.parse()?;
        let builder = Message::builder()
            .from(self.from.clone())
            .mailbox(lettre::message::header::To::from(to))
            .subject(mail.subject);
        let message = if attachments.is_empty() {
            builder.header(ContentType::TEXT_PLAIN).body(mail.body)?
        } else {
            let mut parts = MultiPart::mixed().singlepart(SinglePart::plain(mail.body));
            for file in attachments {
                parts = parts.singlepart(
                    lettre::message::Attachment::new(file.filename.clone()).body(
                        file.content.clone(),
                        ContentType::parse(&file.content_type)?,
                    ),
                );
            }
            builder.multipart(parts)?
        };
        let sent = self.deliver(message).await;
        let outcome = if sent.is_ok() { "sent" } else { "failed" };
        super::metrics::EVENTS
            .mails
            .with_label_values(&[outcome])
            .inc();
        sent
    }

    async fn deliver(&self, message: Message) -> anyhow::Result<()> {
        match &self.transport {
            Transport::Smtp(transport) => {
                transport.send(message).await?;
            }
            Transport::Spool(dir) => {
                tokio::fs::create_dir_all(dir).await?;
                let name = format!(
                    "{}-{}.eml",
                    chrono::Utc::now().format("%Y%m%dT%H%M%S%.6fZ"),
                    uuid::Uuid::new_v4()
                );
                tokio::fs::write(dir.join(name), message.formatted()).await?;
            }
        }
        Ok(())
    }
}

/// How long one exchange with the relay may take before the mail counts as failed.
const RELAY_TIMEOUT: Duration = Duration::from_secs(30);

/// The relay's transport: TLS as the scheme and `mail.starttls` say, the certificate checked
/// against the system's store or `mail.ca_file`, the credentials of the URL.
fn relay(mail: &MailConfig, url: &SecretUrl) -> anyhow::Result<AsyncSmtpTransport<Tokio1Executor>> {
    // The URL was checked at load (`config::parse_smtp_url`); errors here never show it, as it
    // may carry the password.
    let url = url::Url::parse(url.expose()).context("mail.smtp_url is not a URL")?;
    let host = url
        .host_str()
        .context("mail.smtp_url has no host")?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let mut tls = TlsParameters::builder(host.clone());
    if let Some(path) = &mail.ca_file {
        let pem = std::fs::read(path)
            .with_context(|| format!("mail.ca_file: cannot read {}", path.display()))?;
        let certificates = Certificate::from_pem(&pem).with_context(|| {
            format!("mail.ca_file: {} holds no PEM certificate", path.display())
        })?;
        tls = tls
            .certificate_store(CertificateStore::None)
            .add_root_certificate(certificates);
    }
    let tls = tls.build_rustls().context("mail: TLS settings")?;
    let (tls, default_port) = match (url.scheme(), mail.starttls) {
        ("smtps", _) => (Tls::Wrapper(tls), 465),
        (_, StartTls::Required) => (Tls::Required(tls), 587),
        (_, StartTls::Opportunistic) => (Tls::Opportunistic(tls), 587),
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        .port(url.port().unwrap_or(default_port))
        .tls(tls)
        .timeout(Some(RELAY_TIMEOUT));
    if !url.username().is_empty() {
        let decode = |text: &str| {
            percent_encoding::percent_decode_str(text)
                .decode_utf8()
                .map(|t| t.into_owned())
                .context("mail.smtp_url: the user or password is not UTF-8")
        };
        builder = builder.credentials(Credentials::new(
            decode(url.username())?,
            decode(url.password().unwrap_or_default())?,
        ));
    }
    Ok(builder.build())
}
