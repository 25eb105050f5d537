//! Outgoing mail: through the commune's SMTP relay in production, into `<data_dir>/mail/*.eml`
//! in development and in the demo, so links can be followed without a mail server.

use std::path::PathBuf;

use lettre::message::{Mailbox, MultiPart, SinglePart, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::platform::config::Config;

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
            Some(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())?.build(),
            ),
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
