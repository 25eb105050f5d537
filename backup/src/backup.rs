//! Writing snapshots: the dump under its stream path, plus small files beside it.

use std::{
    fs::File,
    io::BufReader,
    os::unix::fs::{MetadataExt, PermissionsExt},
    path::{Component, Path, PathBuf},
    process::Command,
    sync::Mutex,
    time::{Duration, Instant},
};

use rustic_core::{
    BackupOptions, ParentOptions, ReadSource, ReadSourceEntry, RusticResult, SnapshotOptions,
    jiff::{Timestamp, Zoned},
    repofile::{Metadata, Node, NodeType},
};

use crate::{
    dump::Dump,
    error::{Error, Result, RusticContext},
    repo,
    target::Target,
};

/// Where the database dump lives inside a snapshot, as `restic backup --stdin
/// --stdin-filename cantine/db.dump` would name it.
pub const DEFAULT_STREAM_PATH: &str = "/cantine/db.dump";

/// Read buffer for the files being archived: the chunker asks for small reads, and an
/// unbuffered source was measured about 13 times slower.
const READ_BUFFER: usize = 1 << 20;

/// What to put in a snapshot besides the dump, and how to label it.
#[derive(Clone, Debug)]
pub struct BackupRequest {
    /// Absolute path of the dump inside the snapshot.
    pub stream_path: String,
    /// Host name recorded in the snapshot (restic's `--host`).
    pub host: String,
    /// Tags recorded in the snapshot (restic's `--tag`).
    pub tags: Vec<String>,
    /// Small files stored in the same snapshot, e.g. the configuration.
    pub extra_files: Vec<ExtraFile>,
    /// Snapshot time; `None` is now. Set only to import or to test retention.
    pub time: Option<Zoned>,
}

impl BackupRequest {
    /// A request for the dump at [`DEFAULT_STREAM_PATH`], tagged `cantine`.
    pub fn new(host: impl Into<String>) -> Self {
        Self {
            stream_path: DEFAULT_STREAM_PATH.to_owned(),
            host: host.into(),
            tags: vec!["cantine".to_owned()],
            extra_files: Vec::new(),
            time: None,
        }
    }

    /// Adds a file read from `source` and stored as `snapshot_path`.
    pub fn with_file(
        mut self,
        source: impl Into<PathBuf>,
        snapshot_path: impl Into<String>,
    ) -> Self {
        self.extra_files.push(ExtraFile {
            source: source.into(),
            snapshot_path: snapshot_path.into(),
        });
        self
    }
}

/// A file stored beside the dump, e.g. `/etc/cantine/cantine.toml` as
/// `/cantine/config/cantine.toml`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtraFile {
    pub source: PathBuf,
    pub snapshot_path: String,
}

/// What a backup wrote.
#[derive(Clone, Debug)]
pub struct BackupReport {
    pub target: String,
    /// Full snapshot id (restic shows its first 8 characters).
    pub snapshot_id: String,
    pub time: Zoned,
    /// Size of the dump.
    pub stream_bytes: u64,
    /// Bytes read for the snapshot (dump and extra files).
    pub total_bytes: u64,
    /// New data after deduplication, before and after compression.
    pub data_added: u64,
    pub data_added_packed: u64,
    /// Time spent writing to the repository (not running the command).
    pub duration: Duration,
}

/// Runs `command` into a temporary file (see [`Dump::run`]) and, only if it succeeded,
/// stores its output in a new snapshot of `target`, with the request's extra files.
///
/// To send one dump to several targets, call [`Dump::run`] once and [`backup_dump`] for
/// each target.
pub fn backup_command(
    target: &Target,
    command: Command,
    request: &BackupRequest,
    temp_dir: Option<&Path>,
) -> Result<BackupReport> {
    let dump = Dump::run(command, temp_dir)?;
    backup_dump(target, &dump, request)
}

/// Stores a verified dump (and the request's extra files) in one new snapshot.
///
/// The dump is stored under `request.stream_path`, with no parent (like restic's
/// `--stdin`), so every snapshot reads the whole stream; deduplication still applies.
pub fn backup_dump(target: &Target, dump: &Dump, request: &BackupRequest) -> Result<BackupReport> {
    let mut entries = vec![SourceFile::open(
        target,
        dump.path(),
        &request.stream_path,
        false,
    )?];
    for extra in &request.extra_files {
        entries.push(SourceFile::open(
            target,
            &extra.source,
            &extra.snapshot_path,
            true,
        )?);
    }
    entries.sort_by(|a, b| a.snapshot_path.cmp(&b.snapshot_path));
    if let Some(pair) = entries
        .windows(2)
        .find(|w| w[0].snapshot_path == w[1].snapshot_path)
    {
        return Err(Error::InvalidTarget {
            target: target.name.clone(),
            reason: format!("two files stored as `{}`", pair[0].snapshot_path.display()),
        });
    }
    let expected_files = entries.len() as u64;
    let expected_bytes: u64 = entries.iter().map(|e| e.node.meta.size).sum();
    let paths: Vec<PathBuf> = entries.iter().map(|e| e.snapshot_path.clone()).collect();
    let source = FilesSource::new(entries);

    let mut snapshot_options = SnapshotOptions::default().host(request.host.clone());
    if let Some(time) = &request.time {
        snapshot_options = snapshot_options.time(time.clone());
    }
    for tag in &request.tags {
        snapshot_options = snapshot_options
            .add_tags(tag)
            .during(&target.name, "tagging the snapshot")?;
    }
    let snapshot = snapshot_options
        .to_snapshot()
        .during(&target.name, "preparing the snapshot")?;
    // A stream has no metadata to compare with a parent, so read it all, as restic and
    // rustic do for --stdin.
    let options = BackupOptions::default().parent_opts(ParentOptions::default().force(true));

    let started = Instant::now();
    let repo = repo::open_for_backup(target)?
        .to_indexed_ids()
        .during(&target.name, "reading the index")?;
    let snapshot = repo
        .archive(&options, &source, snapshot, &paths)
        .during(&target.name, "writing the snapshot")?;
    let duration = started.elapsed();

    let summary = snapshot.summary.clone().unwrap_or_default();
    // rustic_core logs and skips a file it fails to read, then still saves the snapshot:
    // compare what was stored with what was offered, and take the snapshot back if short.
    if summary.total_files_processed != expected_files
        || summary.total_bytes_processed != expected_bytes
    {
        let detail = format!(
            "{} of {expected_files} files, {} of {expected_bytes} bytes",
            summary.total_files_processed, summary.total_bytes_processed
        );
        let cleanup = match repo.delete_snapshots(&[snapshot.id]) {
            Ok(()) => "deleted".to_owned(),
            Err(e) => format!("left in place, deleting it failed: {}", e.display_log()),
        };
        return Err(Error::IncompleteSnapshot {
            target: target.name.clone(),
            snapshot: snapshot.id.to_hex().as_str().to_owned(),
            detail,
            cleanup,
        });
    }
    tracing::info!(target_name = %target.name, snapshot = %snapshot.id,
        bytes = expected_bytes, ?duration, "snapshot saved");
    Ok(BackupReport {
        target: target.name.clone(),
        snapshot_id: snapshot.id.to_hex().as_str().to_owned(),
        time: snapshot.time.clone(),
        stream_bytes: dump.len(),
        total_bytes: summary.total_bytes_processed,
        data_added: summary.data_added,
        data_added_packed: summary.data_added_packed,
        duration,
    })
}

/// A file opened before the backup starts, so a missing or unreadable file fails the
/// backup before anything is written.
struct SourceFile {
    snapshot_path: PathBuf,
    node: Node,
    reader: BufReader<File>,
}

impl SourceFile {
    fn open(target: &Target, source: &Path, snapshot_path: &str, keep_mtime: bool) -> Result<Self> {
        let snapshot_path = snapshot_path_of(target, snapshot_path)?;
        let file = File::open(source)
            .map_err(|e| Error::io(format!("opening `{}`", source.display()), e))?;
        let meta = file
            .metadata()
            .map_err(|e| Error::io(format!("reading `{}`", source.display()), e))?;
        if !meta.is_file() {
            return Err(Error::InvalidTarget {
                target: target.name.clone(),
                reason: format!("`{}` is not a regular file", source.display()),
            });
        }
        // The dump's temporary file is fresh, its mtime is the dump time; a config file
        // keeps its own.
        let mtime = if keep_mtime {
            meta.modified()
                .ok()
                .and_then(|t| Timestamp::try_from(t).ok())
        } else {
            Some(Timestamp::now())
        };
        let name = snapshot_path
            .file_name()
            .expect("snapshot_path_of refuses paths without a file name")
            .to_owned();
        let node = Node::new_node(
            &name,
            NodeType::File,
            Metadata {
                // restic stores Go's FileMode, which for a regular file is the
                // permission bits alone.
                mode: Some(meta.permissions().mode() & 0o777),
                mtime,
                atime: mtime,
                ctime: mtime,
                uid: Some(meta.uid()),
                gid: Some(meta.gid()),
                size: meta.len(),
                links: 1,
                ..Metadata::default()
            },
        );
        Ok(Self {
            snapshot_path,
            node,
            reader: BufReader::with_capacity(READ_BUFFER, file),
        })
    }
}

fn snapshot_path_of(target: &Target, raw: &str) -> Result<PathBuf> {
    let path = PathBuf::from(raw);
    let clean = path.is_absolute()
        && path.file_name().is_some()
        && path
            .components()
            .all(|c| matches!(c, Component::RootDir | Component::Normal(_)));
    if !clean {
        return Err(Error::InvalidTarget {
            target: target.name.clone(),
            reason: format!("snapshot path `{raw}` must be absolute, without `.` or `..`"),
        });
    }
    Ok(path)
}

/// A `ReadSource` over files opened in advance, in path order (the tree builder needs
/// sorted paths).
struct FilesSource {
    total: u64,
    entries: Mutex<Vec<SourceFile>>,
}

impl FilesSource {
    fn new(entries: Vec<SourceFile>) -> Self {
        Self {
            total: entries.iter().map(|e| e.node.meta.size).sum(),
            entries: Mutex::new(entries),
        }
    }
}

impl ReadSource for FilesSource {
    type Open = BufReader<File>;
    type Iter = std::vec::IntoIter<RusticResult<ReadSourceEntry<BufReader<File>>>>;

    fn size(&self) -> RusticResult<Option<u64>> {
        Ok(Some(self.total))
    }

    fn entries(&self) -> Self::Iter {
        // Called once per archive run; the readers move into rustic's worker threads.
        let entries = std::mem::take(&mut *self.entries.lock().expect("not poisoned"));
        entries
            .into_iter()
            .map(|e| {
                Ok(ReadSourceEntry {
                    path: e.snapshot_path,
                    node: e.node,
                    open: Some(e.reader),
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
    }
}
