//! Advisory locks on files under `data_dir`, so two backup runs never overlap and a restore
//! never swaps the database under a running `cantine serve`.
//!
//! `flock(2)` locks belong to the open file description: they are released when the process
//! exits, however it exits (a killed backup never leaves a stale lock behind), and two
//! opens of the same file conflict even within one process.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// Held until dropped.
#[derive(Debug)]
pub struct FileLock {
    _file: File,
    path: PathBuf,
}

/// The lock is held by another process (or another open of the file).
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("{0} is locked by another process")]
    Busy(PathBuf),
    #[error("cannot lock {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
}

impl FileLock {
    /// Takes the lock at once or fails with [`LockError::Busy`].
    pub fn try_acquire(path: &Path) -> Result<Self, LockError> {
        Self::acquire(path, false)
    }

    /// Waits for the lock (blocks the thread: call from `spawn_blocking`).
    pub fn wait(path: &Path) -> Result<Self, LockError> {
        Self::acquire(path, true)
    }

    fn acquire(path: &Path, wait: bool) -> Result<Self, LockError> {
        let io_err = |source| LockError::Io {
            path: path.to_owned(),
            source,
        };
        let file = open(path).map_err(io_err)?;
        let operation = if wait {
            libc::LOCK_EX
        } else {
            libc::LOCK_EX | libc::LOCK_NB
        };
        loop {
            // SAFETY: flock on a file descriptor we own; no memory is involved.
            if unsafe { libc::flock(file.as_raw_fd(), operation) } == 0 {
                return Ok(Self {
                    _file: file,
                    path: path.to_owned(),
                });
            }
            let error = io::Error::last_os_error();
            match error.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::EWOULDBLOCK) => return Err(LockError::Busy(path.to_owned())),
                _ => return Err(io_err(error)),
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// A lock file may have been created by root (an operator's `sudo cantine backup …`) and
/// be read-only for the service user: `flock` works on a read-only descriptor, so open it
/// read-only when it exists and only create it otherwise.
fn open(path: &Path) -> io::Result<File> {
    match File::open(path) {
        Ok(file) => Ok(file),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(false)
                .open(path)
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_file_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/backup.lock");
        let first = FileLock::try_acquire(&path).unwrap();
        let err = FileLock::try_acquire(&path).unwrap_err();
        assert!(matches!(err, LockError::Busy(_)), "{err}");
        drop(first);
        FileLock::try_acquire(&path).unwrap();
    }
}
