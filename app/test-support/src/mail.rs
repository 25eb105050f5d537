//! The mails the application wrote to its spool (`<data_dir>/mail`, one file a message) when no
//! SMTP server is configured, as the tests read them: headers as written, the body decoded.

use std::path::Path;

use base64::Engine;

/// One spooled message.
pub struct Mail {
    /// The header lines, as written.
    pub headers: String,
    /// The text, decoded from base64 or quoted-printable.
    pub body: String,
}

impl Mail {
    fn parse(raw: &str) -> Self {
        let (headers, body) = raw.split_once("\r\n\r\n").expect("headers, then a body");
        let body = if headers.contains("Content-Transfer-Encoding: base64") {
            let joined: String = body.split_whitespace().collect();
            String::from_utf8(
                base64::engine::general_purpose::STANDARD
                    .decode(joined)
                    .expect("base64 body"),
            )
            .expect("a UTF-8 body")
        } else {
            // Quoted-printable: soft line breaks, and `=` written `=3D`.
            body.replace("=\r\n", "").replace("=3D", "=")
        };
        Self {
            headers: headers.to_owned(),
            body,
        }
    }

    /// The token of the first link to `path` (`/confirmer?token=`) in the text.
    pub fn link_token(&self, path: &str) -> String {
        let start = self
            .body
            .find(path)
            .unwrap_or_else(|| panic!("a link to {path} in {}", self.body))
            + path.len();
        self.body[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect()
    }
}

/// Every message of the spool, oldest first.
pub fn spool(data_dir: &Path) -> Vec<Mail> {
    let mut files: Vec<_> = std::fs::read_dir(data_dir.join("mail"))
        .expect("the mail spool exists")
        .map(|e| e.expect("a spool entry").path())
        .collect();
    files.sort();
    files
        .iter()
        .map(|file| Mail::parse(&std::fs::read_to_string(file).expect("a readable mail")))
        .collect()
}

/// The last message of the spool.
pub fn last(data_dir: &Path) -> Mail {
    spool(data_dir).pop().expect("a mail in the spool")
}
