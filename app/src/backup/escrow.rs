//! The secrets escrow: the files without which backups cannot be read (repository passwords,
//! the second site's credentials and CA) and the health-data key, sealed with a passphrase into a
//! text bundle the commune prints or stores offline. Snapshots never hold these files, so a
//! stolen backup disk reveals nothing; the escrow is how a town hall that lost the appliance
//! gets them back.
//!
//! Format: an armored text block whose body is base64 of `salt (16) ‖ nonce (12) ‖
//! ChaCha20-Poly1305(key, nonce, JSON)`, with the key derived from the passphrase by scrypt
//! (log2 N = 17, r = 8, p = 1: about 128 MiB and a second, to slow down guessing).

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail, ensure};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::platform::config::Config;

const BEGIN: &str = "-----BEGIN CANTINE SECRETS ESCROW-----";
const END: &str = "-----END CANTINE SECRETS ESCROW-----";
const HEADER: &str = "Version: 1 (scrypt log2N=17 r=8 p=1, ChaCha20-Poly1305)";
pub const MIN_PASSPHRASE_CHARS: usize = 16;

#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Bundle {
    pub host: String,
    pub created_at: String,
    pub files: Vec<EscrowedFile>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct EscrowedFile {
    /// What the file is for, e.g. `backup.targets[second-site].password_file`.
    pub role: String,
    /// Where it lived on the appliance.
    pub path: PathBuf,
    /// Base64 of its bytes.
    pub content: String,
}

/// The secret files the configuration points to, with their roles.
pub fn secret_files(config: &Config) -> Vec<(String, PathBuf)> {
    let mut files = Vec::new();
    if let Some(key) = &config.secrets.health_data_key {
        files.push((
            "secrets.health_data_key_file".to_owned(),
            key.path().to_owned(),
        ));
    }
    for target in &config.backup.targets {
        let name = &target.name;
        files.push((
            format!("backup.targets[{name}].password_file"),
            target.password_file.clone(),
        ));
        if let Some(path) = &target.rest_password_file {
            files.push((
                format!("backup.targets[{name}].rest_password_file"),
                path.clone(),
            ));
        }
        if let Some(path) = &target.ca_cert {
            files.push((format!("backup.targets[{name}].ca_cert"), path.clone()));
        }
    }
    files
}

fn key(passphrase: &str, salt: &[u8]) -> anyhow::Result<Key> {
    let params =
        scrypt::Params::new(17, 8, 1, 32).map_err(|e| anyhow!("scrypt parameters: {e}"))?;
    let mut key = Key::default();
    scrypt::scrypt(passphrase.as_bytes(), salt, &params, &mut key)
        .map_err(|e| anyhow!("scrypt: {e}"))?;
    Ok(key)
}

fn check_passphrase(passphrase: &str) -> anyhow::Result<()> {
    ensure!(
        passphrase.chars().count() >= MIN_PASSPHRASE_CHARS,
        "the escrow passphrase must have at least {MIN_PASSPHRASE_CHARS} characters"
    );
    Ok(())
}

/// Reads every secret file and seals them.
pub fn seal_files(
    files: &[(String, PathBuf)],
    host: &str,
    passphrase: &str,
) -> anyhow::Result<String> {
    let mut escrowed = Vec::new();
    for (role, path) in files {
        let bytes =
            std::fs::read(path).with_context(|| format!("reading {role} ({})", path.display()))?;
        escrowed.push(EscrowedFile {
            role: role.clone(),
            path: path.clone(),
            content: STANDARD.encode(bytes),
        });
    }
    seal(
        &Bundle {
            host: host.to_owned(),
            created_at: chrono::Utc::now().to_rfc3339(),
            files: escrowed,
        },
        passphrase,
    )
}

pub fn seal(bundle: &Bundle, passphrase: &str) -> anyhow::Result<String> {
    check_passphrase(passphrase)?;
    let mut salt = [0u8; 16];
    let mut nonce = [0u8; 12];
    rand::thread_rng().fill_bytes(&mut salt);
    rand::thread_rng().fill_bytes(&mut nonce);
    let plaintext = serde_json::to_vec(bundle)?;
    let sealed = ChaCha20Poly1305::new(&key(passphrase, &salt)?)
        .encrypt(Nonce::from_slice(&nonce), plaintext.as_slice())
        .map_err(|_| anyhow!("encryption failed"))?;
    let body = STANDARD.encode([&salt[..], &nonce[..], &sealed[..]].concat());
    let mut out = format!("{BEGIN}\n{HEADER}\n\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str(END);
    out.push('\n');
    Ok(out)
}

pub fn open(armored: &str, passphrase: &str) -> anyhow::Result<Bundle> {
    let inner = armored
        .split_once(BEGIN)
        .and_then(|(_, rest)| rest.split_once(END))
        .map(|(inner, _)| inner)
        .ok_or_else(|| anyhow!("not a Cantine secrets escrow (no BEGIN/END lines)"))?;
    let body: String = inner
        .lines()
        .filter(|l| !l.starts_with("Version:"))
        .flat_map(|l| l.trim().chars())
        .collect();
    let raw = STANDARD
        .decode(body)
        .context("the escrow's body is not valid base64")?;
    if raw.len() < 16 + 12 + 16 {
        bail!("the escrow is truncated");
    }
    let (salt, rest) = raw.split_at(16);
    let (nonce, sealed) = rest.split_at(12);
    let plaintext = ChaCha20Poly1305::new(&key(passphrase, salt)?)
        .decrypt(Nonce::from_slice(nonce), sealed)
        .map_err(|_| anyhow!("wrong passphrase, or the escrow was altered"))?;
    Ok(serde_json::from_slice(&plaintext)?)
}

/// Writes the escrowed files into `dir` (mode 0600), named after their original file names.
pub fn write_out(bundle: &Bundle, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    for file in &bundle.files {
        let name = file
            .path
            .file_name()
            .ok_or_else(|| anyhow!("escrowed path {} has no file name", file.path.display()))?;
        let dest = dir.join(name);
        let bytes = STANDARD.decode(&file.content)?;
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&dest)
            .with_context(|| format!("creating {} (it must not exist yet)", dest.display()))?;
        out.write_all(&bytes)?;
        written.push(dest);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSPHRASE: &str = "correct horse battery staple";

    fn bundle() -> Bundle {
        Bundle {
            host: "mairie".into(),
            created_at: "2026-11-28T00:00:00Z".into(),
            files: vec![EscrowedFile {
                role: "backup.targets[local].password_file".into(),
                path: "/etc/cantine/secrets/restic-local".into(),
                content: STANDARD.encode(b"repository-password-42"),
            }],
        }
    }

    #[test]
    fn a_sealed_bundle_opens_with_its_passphrase_only() {
        let armored = seal(&bundle(), PASSPHRASE).unwrap();
        assert!(armored.starts_with(BEGIN));
        assert!(!armored.contains("repository-password-42"));
        assert!(!armored.contains(&STANDARD.encode(b"repository-password-42")));
        assert_eq!(open(&armored, PASSPHRASE).unwrap(), bundle());
        let err = open(&armored, "another long passphrase")
            .unwrap_err()
            .to_string();
        assert!(err.contains("wrong passphrase"), "{err}");
    }

    #[test]
    fn an_altered_bundle_is_refused() {
        let armored = seal(&bundle(), PASSPHRASE).unwrap();
        let mut lines: Vec<String> = armored.lines().map(str::to_owned).collect();
        let body = &mut lines[3];
        let flipped = if body.ends_with('A') { 'B' } else { 'A' };
        body.pop();
        body.push(flipped);
        let altered = lines.join("\n");
        assert!(open(&altered, PASSPHRASE).is_err());
        assert!(open("hello", PASSPHRASE).is_err());
    }

    #[test]
    fn short_passphrases_are_refused() {
        assert!(seal(&bundle(), "court").is_err());
    }

    #[test]
    fn files_are_read_sealed_and_written_back_private() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("restic-local");
        std::fs::write(&secret, "pw\n").unwrap();
        let armored = seal_files(
            &[("backup.targets[local].password_file".into(), secret.clone())],
            "mairie",
            PASSPHRASE,
        )
        .unwrap();
        let opened = open(&armored, PASSPHRASE).unwrap();
        let out = dir.path().join("out");
        let written = write_out(&opened, &out).unwrap();
        assert_eq!(written, [out.join("restic-local")]);
        assert_eq!(std::fs::read_to_string(&written[0]).unwrap(), "pw\n");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&written[0]).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert!(write_out(&opened, &out).is_err(), "never overwrites");
    }
}
