//! The certificates' files, under `<data_dir>/certificates/`: never a folder the web server
//! serves, each file named by a server-generated UUID (nothing a family typed reaches a path),
//! written whole or not at all (a temporary file renamed into place), readable by the service's
//! user only (mode 0600, folder 0700).

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use anyhow::Context;
use uuid::Uuid;

use crate::error::Result;

/// The folder of the certificates, inside the data folder.
pub const FOLDER: &str = "certificates";

/// Where the certificates' files live.
#[derive(Debug, Clone)]
pub struct CertificateFiles {
    dir: PathBuf,
}

impl CertificateFiles {
    pub fn in_data_dir(data_dir: &Path) -> Self {
        Self {
            dir: data_dir.join(FOLDER),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, key: Uuid) -> PathBuf {
        self.dir.join(key.to_string())
    }

    /// Writes a new file and answers its key. The bytes are on disk (synced, renamed into
    /// place, the folder synced) before the caller records the row that names them.
    pub async fn write(&self, bytes: Vec<u8>) -> Result<Uuid> {
        let dir = self.dir.clone();
        let key = Uuid::new_v4();
        tokio::task::spawn_blocking(move || write_atomically(&dir, key, &bytes))
            .await
            .context("certificate writer")??;
        Ok(key)
    }

    pub async fn read(&self, key: Uuid) -> Result<Vec<u8>> {
        let path = self.path(key);
        Ok(tokio::fs::read(&path)
            .await
            .with_context(|| format!("read certificate {}", path.display()))?)
    }

    /// Erases a certificate's file (a closed household's, RGPD erasure): the row stays as
    /// evidence that a certificate was given, its content goes. Answers whether a file was
    /// there.
    pub async fn erase(&self, key: Uuid) -> Result<bool> {
        let path = self.path(key);
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(anyhow::Error::new(e)
                .context(format!("erase certificate {}", path.display()))
                .into()),
        }
    }

    /// Removes a file whose row was never committed; a failure only leaves an orphan file,
    /// logged.
    pub async fn remove_orphan(&self, key: Uuid) {
        let path = self.path(key);
        if let Err(e) = tokio::fs::remove_file(&path).await {
            tracing::warn!(path = %path.display(), error = %e, "orphan certificate file left");
        }
    }
}

fn write_atomically(dir: &Path, key: Uuid, bytes: &[u8]) -> anyhow::Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("create {}", dir.display()))?;
    let temp = dir.join(format!(".{key}.tmp"));
    let target = dir.join(key.to_string());
    let written = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&temp, &target)?;
        File::open(dir)?.sync_all()
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    written.with_context(|| format!("write certificate {}", target.display()))
}
