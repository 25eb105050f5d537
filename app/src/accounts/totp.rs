//! Time-based one-time passwords (RFC 6238 over RFC 4226's HOTP): HMAC-SHA1, 6 digits, 30-second
//! steps, the parameters every authenticator app assumes. Also the recovery codes that replace a
//! lost phone.

use chrono::{DateTime, Utc};
use data_encoding::BASE32_NOPAD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

pub const STEP_SECS: i64 = 30;
pub const DIGITS: u32 = 6;
/// RFC 4226 asks for 160 bits, SHA-1's output.
pub const SECRET_BYTES: usize = 20;
pub const RECOVERY_CODES: usize = 10;

pub fn new_secret() -> Vec<u8> {
    let mut secret = vec![0u8; SECRET_BYTES];
    rand::thread_rng().fill_bytes(&mut secret);
    secret
}

/// The secret as authenticator apps take it when typed: base32 without padding.
pub fn to_base32(secret: &[u8]) -> String {
    BASE32_NOPAD.encode(secret)
}

/// A typed secret: spaces ignored, any case.
pub fn from_base32(text: &str) -> Option<Vec<u8>> {
    let clean: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let secret = BASE32_NOPAD
        .decode(clean.trim_end_matches('=').as_bytes())
        .ok()?;
    (secret.len() >= 16).then_some(secret)
}

pub fn step_at(now: DateTime<Utc>) -> i64 {
    now.timestamp().div_euclid(STEP_SECS)
}

/// HOTP (RFC 4226 §5.3): the code of one counter value.
pub fn code(secret: &[u8], step: i64) -> u32 {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = (digest[19] & 0x0f) as usize;
    let binary = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    binary % 10u32.pow(DIGITS)
}

/// The step whose code was typed, among the previous, current and next ones: phones and the
/// server may disagree by a few seconds, and a code typed at the end of its step arrives in
/// the next one. The caller refuses a step already used.
pub fn matching_step(secret: &[u8], typed: &str, now: DateTime<Utc>) -> Option<i64> {
    let typed: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    if typed.len() != DIGITS as usize || !typed.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let typed: u32 = typed.parse().ok()?;
    let current = step_at(now);
    // Every candidate is computed, so the time taken does not say which one matched.
    [current - 1, current, current + 1]
        .into_iter()
        .fold(None, |found, step| {
            if code(secret, step) == typed {
                found.or(Some(step))
            } else {
                found
            }
        })
}

/// What the QR code holds (Google Authenticator's key URI format, which every app reads).
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    let enc = |s: &str| -> String { url::form_urlencoded::byte_serialize(s.as_bytes()).collect() };
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        enc(issuer).replace('+', "%20"),
        enc(account).replace('+', "%20"),
        to_base32(secret),
        enc(issuer).replace('+', "%20"),
    )
}

/// The URI as an SVG QR code, rendered on the server: no script, no third party.
pub fn qr_svg(uri: &str) -> String {
    qrcode::QrCode::new(uri.as_bytes())
        .map(|qr| {
            qr.render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(220, 220)
                .quiet_zone(true)
                .build()
        })
        .unwrap_or_default()
}

/// Ten codes of 80 random bits, written `ABCD-EFGH-IJKL-MNOP` (base32: no 0/O or 1/I to
/// confuse).
pub fn new_recovery_codes() -> Vec<String> {
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut bytes = [0u8; 10];
            rand::thread_rng().fill_bytes(&mut bytes);
            let text = BASE32_NOPAD.encode(&bytes);
            text.as_bytes()
                .chunks(4)
                .map(|c| std::str::from_utf8(c).expect("base32 is ASCII"))
                .collect::<Vec<_>>()
                .join("-")
        })
        .collect()
}

/// What is stored of a recovery code, however it was typed (case, dashes, spaces).
pub fn recovery_hash(typed: &str) -> Vec<u8> {
    let clean: String = typed
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    Sha256::digest(clean.as_bytes()).to_vec()
}

/// Whether the text looks like a recovery code rather than a six-digit code.
pub fn is_recovery_code(typed: &str) -> bool {
    typed.chars().filter(char::is_ascii_alphanumeric).count() == 16
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 column (the 20-byte ASCII secret "12345678901234567890"), as
    /// six digits.
    #[test]
    fn rfc_6238_test_vectors() {
        let secret = b"12345678901234567890";
        for (time, expected) in [
            (59, 287_082),
            (1_111_111_109, 81_804),
            (1_111_111_111, 50_471),
            (1_234_567_890, 5_924),
            (2_000_000_000, 279_037),
            (20_000_000_000, 353_130),
        ] {
            let at = DateTime::from_timestamp(time, 0).unwrap();
            assert_eq!(code(secret, step_at(at)), expected, "T = {time}");
        }
    }

    #[test]
    fn the_previous_current_and_next_steps_match_and_no_other() {
        let secret = new_secret();
        let now = DateTime::from_timestamp(1_800_000_015, 0).unwrap();
        let step = step_at(now);
        for offset in [-1, 0, 1] {
            let typed = format!("{:06}", code(&secret, step + offset));
            assert_eq!(matching_step(&secret, &typed, now), Some(step + offset));
        }
        for offset in [-3, -2, 2, 3] {
            let typed = format!("{:06}", code(&secret, step + offset));
            // A code of a farther step may collide with a near one by chance (1 in 333,333).
            let found = matching_step(&secret, &typed, now);
            assert!(found.is_none() || found.is_some_and(|s| (s - step).abs() <= 1));
        }
        assert_eq!(matching_step(&secret, "12345", now), None);
        assert_eq!(matching_step(&secret, "abcdef", now), None);
    }

    #[test]
    fn secrets_round_trip_through_base32_and_the_uri_carries_them() {
        let secret = new_secret();
        let text = to_base32(&secret);
        assert_eq!(from_base32(&text.to_lowercase()), Some(secret.clone()));
        assert_eq!(from_base32("SHORT"), None);
        let uri = otpauth_uri("Cantine Techniville", "gestion@techniville.test", &secret);
        assert!(uri.starts_with(
            "otpauth://totp/Cantine%20Techniville:gestion%40techniville.test?secret="
        ));
        assert!(uri.contains(&text));
        assert!(qr_svg(&uri).starts_with("<?xml"));
    }

    #[test]
    fn recovery_codes_are_distinct_and_typed_loosely() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), 10);
        assert_eq!(
            codes.iter().collect::<std::collections::HashSet<_>>().len(),
            10
        );
        let code = &codes[0];
        assert_eq!(code.len(), 19);
        assert!(is_recovery_code(code));
        assert_eq!(
            recovery_hash(code),
            recovery_hash(&code.to_lowercase().replace('-', " "))
        );
        assert!(!is_recovery_code("123456"));
    }
}
