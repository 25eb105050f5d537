//! Running the dump command into a temporary file, and judging its result before any
//! snapshot exists.

use std::{
    io::Read,
    os::unix::process::ExitStatusExt,
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use tempfile::NamedTempFile;

use crate::error::{Error, Result};

/// How much of the command's stderr is kept for the error message.
const STDERR_TAIL: usize = 2000;

/// The complete, verified output of a dump command, in a temporary file that is removed
/// when this value is dropped.
///
/// Writing to a file first, rather than streaming the command into the repository, is
/// what guarantees "never a bad snapshot": nothing reaches a repository until the command
/// has exited with status 0 and written at least one byte. The same `Dump` can then be
/// sent to several targets, so all of them hold the same database state.
#[derive(Debug)]
pub struct Dump {
    file: NamedTempFile,
    len: u64,
    duration: Duration,
    program: String,
}

impl Dump {
    /// Runs `command` with its stdout redirected to a new temporary file in `temp_dir`
    /// (the system temporary directory when `None`; a database dump belongs on a disk
    /// with room for it, not on a tmpfs).
    ///
    /// Fails, leaving nothing behind, when the command cannot start, exits non-zero, is
    /// killed by a signal, or writes nothing.
    pub fn run(mut command: Command, temp_dir: Option<&Path>) -> Result<Self> {
        let program = command.get_program().to_string_lossy().into_owned();
        let file = match temp_dir {
            Some(dir) => NamedTempFile::with_prefix_in(".cantine-dump-", dir),
            None => NamedTempFile::with_prefix(".cantine-dump-"),
        }
        .map_err(|e| Error::io("creating the dump's temporary file", e))?;
        let stdout = file
            .as_file()
            .try_clone()
            .map_err(|e| Error::io("creating the dump's temporary file", e))?;

        let started = Instant::now();
        let mut child = command
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| Error::CommandFailed {
                command: program.clone(),
                status: "could not start".to_owned(),
                stderr: e.to_string(),
            })?;
        // Read stderr to the end before waiting, so a chatty command cannot block on a
        // full pipe.
        let mut stderr = Vec::new();
        if let Some(mut pipe) = child.stderr.take() {
            let _ = pipe.read_to_end(&mut stderr);
        }
        let status = child
            .wait()
            .map_err(|e| Error::io(format!("waiting for `{program}`"), e))?;
        let duration = started.elapsed();

        if !status.success() {
            let status = match (status.code(), status.signal()) {
                (Some(code), _) => format!("exited with status {code}"),
                (None, Some(signal)) => format!("was killed by signal {signal}"),
                (None, None) => format!("failed ({status})"),
            };
            return Err(Error::CommandFailed {
                command: program,
                status,
                stderr: tail(&stderr),
            });
        }
        let len = file
            .as_file()
            .metadata()
            .map_err(|e| Error::io("reading the dump's size", e))?
            .len();
        if len == 0 {
            return Err(Error::EmptyDump { command: program });
        }
        Ok(Self {
            file,
            len,
            duration,
            program,
        })
    }

    /// The temporary file holding the output (to inspect it, e.g. check a format magic).
    pub fn path(&self) -> &Path {
        self.file.path()
    }

    /// Size of the output in bytes (never 0).
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Always false: an empty output is refused by [`Dump::run`].
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How long the command ran.
    pub fn duration(&self) -> Duration {
        self.duration
    }

    /// The program that produced it.
    pub fn program(&self) -> &str {
        &self.program
    }
}

fn tail(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim();
    match text.char_indices().rev().nth(STDERR_TAIL) {
        Some((start, _)) => format!("…{}", &text[start..]),
        None => text.to_owned(),
    }
}
