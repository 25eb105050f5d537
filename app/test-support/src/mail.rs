//! The mails the application wrote to its spool (`<data_dir>/mail`, one file a message) when no
//! SMTP server is configured, as the tests read them: headers as written, the body decoded.

use std::path::Path;

use base64::Engine;

/// One spooled message.
pub struct Mail {
    /// The header lines, as written.
    pub headers: String,
    /// The text, decoded from base64 or quoted-printable (a multipart message's text part).
    pub body: String,
    /// The attached files of a multipart message: name and decoded bytes.
    pub attachments: Vec<(String, Vec<u8>)>,
}

/// A part's content, decoded from its transfer encoding.
fn decode(headers: &str, body: &str) -> Vec<u8> {
    if headers.contains("Content-Transfer-Encoding: base64") {
        let joined: String = body.split_whitespace().collect();
        base64::engine::general_purpose::STANDARD
            .decode(joined)
            .expect("base64 body")
    } else if headers.contains("Content-Transfer-Encoding: quoted-printable") {
        quoted_printable(body)
    } else {
        body.as_bytes().to_vec()
    }
}

/// Quoted-printable (RFC 2045): soft line breaks removed, `=XX` as the byte it writes.
fn quoted_printable(body: &str) -> Vec<u8> {
    let text = body.replace("=\r\n", "");
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = (bytes[i] == b'=' && i + 2 < bytes.len())
            .then(|| std::str::from_utf8(&bytes[i + 1..i + 3]).ok())
            .flatten()
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match hex {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    out
}

/// A header's parameter (`boundary="…"`, `filename="…"`, or split in RFC 2231 continuations
/// `filename*0="…"; filename*1="…"`), quotes removed; headers unfolded.
fn parameter(headers: &str, name: &str) -> Option<String> {
    let unfolded = headers.replace("\r\n ", " ").replace("\r\n\t", " ");
    let value_of = |key: &str| -> Option<String> {
        let start = unfolded.find(&format!("{key}="))? + key.len() + 1;
        let rest = &unfolded[start..];
        let value = match rest.strip_prefix('"') {
            Some(quoted) => quoted.split('"').next()?,
            None => rest.split([';', '\r', '\n', ' ']).next()?,
        };
        Some(value.to_owned())
    };
    if let Some(value) = value_of(name) {
        return Some(value);
    }
    let pieces: Vec<String> = (0..)
        .map_while(|i| value_of(&format!("{name}*{i}")))
        .collect();
    (!pieces.is_empty()).then(|| pieces.concat())
}

impl Mail {
    fn parse(raw: &str) -> Self {
        let (headers, body) = raw.split_once("\r\n\r\n").expect("headers, then a body");
        let boundary = headers
            .contains("multipart/")
            .then(|| parameter(headers, "boundary"))
            .flatten();
        let Some(boundary) = boundary else {
            return Self {
                headers: headers.to_owned(),
                body: String::from_utf8(decode(headers, body)).expect("a UTF-8 body"),
                attachments: Vec::new(),
            };
        };
        let mut text = String::new();
        let mut attachments = Vec::new();
        let delimiter = format!("--{boundary}");
        for part in body.split(&delimiter).skip(1) {
            if part.starts_with("--") {
                break;
            }
            let part = part.trim_start_matches("\r\n");
            let (part_headers, content) = part.split_once("\r\n\r\n").unwrap_or((part, ""));
            let content = content.strip_suffix("\r\n").unwrap_or(content);
            let bytes = decode(part_headers, content);
            if part_headers.contains("Content-Disposition: attachment") {
                let name = parameter(part_headers, "filename")
                    .unwrap_or_else(|| panic!("an attachment's name in {part_headers}"));
                attachments.push((name, bytes));
            } else if text.is_empty() {
                text = String::from_utf8(bytes).expect("a UTF-8 text part");
            }
        }
        Self {
            headers: headers.to_owned(),
            body: text,
            attachments,
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
