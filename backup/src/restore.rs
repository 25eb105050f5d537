//! Listing snapshots and reading streams back.

use std::{
    io::{self, BufWriter, Write},
    path::Path,
    time::{Duration, Instant},
};

use rustic_core::{
    jiff::Zoned,
    repofile::{NodeType, SnapshotFile},
};

use crate::{
    error::{Error, Result, RusticContext},
    repo,
    target::Target,
};

/// A snapshot as `restic snapshots` shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct SnapshotInfo {
    /// Full id; restic's short id is its first 8 characters.
    pub id: String,
    pub time: Zoned,
    pub host: String,
    pub tags: Vec<String>,
    pub paths: Vec<String>,
    /// Bytes read when the snapshot was made (absent in snapshots of old restic versions).
    pub total_bytes: Option<u64>,
}

impl SnapshotInfo {
    pub fn short_id(&self) -> &str {
        &self.id[..8.min(self.id.len())]
    }

    fn from_file(snapshot: &SnapshotFile) -> Self {
        Self {
            id: snapshot.id.to_hex().as_str().to_owned(),
            time: snapshot.time.clone(),
            host: snapshot.hostname.clone(),
            tags: snapshot.tags.iter().cloned().collect(),
            paths: snapshot.paths.iter().cloned().collect(),
            total_bytes: snapshot.summary.as_ref().map(|s| s.total_bytes_processed),
        }
    }
}

/// All snapshots of the target, oldest first.
pub fn list_snapshots(target: &Target) -> Result<Vec<SnapshotInfo>> {
    let repo = repo::open_existing(target)?;
    let mut snapshots = repo
        .get_all_snapshots()
        .during(&target.name, "listing snapshots")?;
    snapshots.sort();
    Ok(snapshots.iter().map(SnapshotInfo::from_file).collect())
}

/// Which snapshot to restore from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SnapshotSelector {
    /// The newest snapshot holding the requested path.
    Latest,
    /// A snapshot id or unique prefix of one (as restic prints it).
    Id(String),
}

impl SnapshotSelector {
    /// `latest` or an id, as an operator types it.
    pub fn parse(text: &str) -> Self {
        if text == "latest" {
            Self::Latest
        } else {
            Self::Id(text.to_owned())
        }
    }
}

/// What a restore read.
#[derive(Clone, Debug)]
pub struct RestoreReport {
    pub snapshot_id: String,
    pub snapshot_time: Zoned,
    pub bytes: u64,
    pub duration: Duration,
}

/// Writes the file stored at `path` (e.g. `/cantine/db.dump`) in the selected snapshot
/// to `out`, e.g. the stdin of `pg_restore` or a file.
///
/// Every blob is authenticated and decrypted on the way; a damaged repository fails the
/// restore instead of yielding altered bytes.
pub fn restore_stream(
    target: &Target,
    snapshot: &SnapshotSelector,
    path: &str,
    out: &mut dyn Write,
) -> Result<RestoreReport> {
    let started = Instant::now();
    let not_found = || Error::SnapshotNotFound {
        target: target.name.clone(),
        snapshot: match snapshot {
            SnapshotSelector::Latest => "latest".to_owned(),
            SnapshotSelector::Id(id) => id.clone(),
        },
        path: path.to_owned(),
    };
    let repo = repo::open_existing(target)?;
    let snapshot_file = match snapshot {
        // A snapshot's `paths` list what was backed up: the stream path itself for
        // Cantine and `restic --stdin`, or one of its parent directories.
        SnapshotSelector::Latest => repo.get_snapshot_from_str("latest", |sn| {
            sn.paths.iter().any(|p| Path::new(path).starts_with(p))
        }),
        SnapshotSelector::Id(id) => repo.get_snapshot_from_str(id, |_| true),
    }
    .map_err(|_| not_found())?;
    let repo = repo
        .to_indexed()
        .during(&target.name, "reading the index")?;
    let node = repo
        .node_from_snapshot_and_path(&snapshot_file, path)
        .map_err(|_| not_found())?;
    if node.node_type != NodeType::File {
        return Err(not_found());
    }
    let mut counting = CountingWriter {
        inner: out,
        bytes: 0,
    };
    repo.dump(&node, &mut counting)
        .during(&target.name, "restoring")?;
    counting
        .flush()
        .map_err(|e| Error::io("flushing the restored stream", e))?;
    Ok(RestoreReport {
        snapshot_id: snapshot_file.id.to_hex().as_str().to_owned(),
        snapshot_time: snapshot_file.time.clone(),
        bytes: counting.bytes,
        duration: started.elapsed(),
    })
}

/// Restores `path` of the selected snapshot into the file `dest`, which appears only
/// once complete (written beside it, then renamed).
pub fn restore_to_file(
    target: &Target,
    snapshot: &SnapshotSelector,
    path: &str,
    dest: &Path,
) -> Result<RestoreReport> {
    let dir = match dest.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let partial = tempfile::Builder::new()
        .prefix(".cantine-restore-")
        .tempfile_in(dir)
        .map_err(|e| Error::io(format!("creating a file in `{}`", dir.display()), e))?;
    let report = {
        let mut out = BufWriter::with_capacity(1 << 20, partial.as_file());
        let report = restore_stream(target, snapshot, path, &mut out)?;
        out.flush()
            .map_err(|e| Error::io(format!("writing `{}`", dest.display()), e))?;
        report
    };
    partial
        .as_file()
        .sync_all()
        .map_err(|e| Error::io(format!("writing `{}`", dest.display()), e))?;
    partial
        .persist(dest)
        .map_err(|e| Error::io(format!("renaming into `{}`", dest.display()), e.error))?;
    Ok(report)
}

struct CountingWriter<'a> {
    inner: &'a mut dyn Write,
    bytes: u64,
}

impl Write for CountingWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
