//! Measures backup, restore and check times of a stream into a local repository.
//!
//! `cargo run --release -p cantine-backup --example measure -- [MEGABYTES]`
//! (the figures in README.md come from here).
//!
//! With `MEASURE_REST_REPO` (`rest:https://user@host:port/user/repo/`),
//! `MEASURE_REST_PASSWORD_FILE` (HTTP password) and optionally `MEASURE_CA`, it also
//! measures a backup to and a restore from that REST server (the repository is created).

use std::{
    fs,
    io::{self, Write},
    process::Command,
    str::FromStr,
    time::Instant,
};

use cantine_backup::{
    BackupRequest, DEFAULT_STREAM_PATH, Dump, ReadData, SnapshotSelector, Target, backup_dump,
    check, restore_stream,
};
use rustic_backend::LocalBackend;
use rustic_core::{
    BackupOptions, CommandInput, Credentials, PathList, Repository, RepositoryBackends,
    RepositoryOptions, SnapshotOptions,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let megabytes: usize = std::env::args().nth(1).map_or(Ok(50), |a| a.parse())?;
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("db.dump");
    // Incompressible, like a pg_dump custom-format file (zlib-compressed).
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut bytes = Vec::with_capacity(megabytes << 20);
    while bytes.len() < megabytes << 20 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        bytes.extend_from_slice(&state.to_le_bytes());
    }
    fs::write(&data, &bytes)?;
    let password = dir.path().join("password");
    fs::write(&password, "measure-only\n")?;
    let repo_path = dir.path().join("repo");
    let target = Target::new("local", repo_path.to_str().unwrap(), &password);
    cantine_backup::open(&target)?;

    let started = Instant::now();
    let mut cat = Command::new("cat");
    cat.arg(&data);
    let dump = Dump::run(cat, Some(dir.path()))?;
    let dump_time = started.elapsed();
    let request = BackupRequest::new("measure");
    let first = backup_dump(&target, &dump, &request)?;
    let second = backup_dump(&target, &dump, &request)?;

    let started = Instant::now();
    let mut out = io::BufWriter::new(fs::File::create(dir.path().join("restored"))?);
    restore_stream(
        &target,
        &SnapshotSelector::Latest,
        DEFAULT_STREAM_PATH,
        &mut out,
    )?;
    out.flush()?;
    let restore_time = started.elapsed();
    assert!(fs::read(dir.path().join("restored"))? == bytes);

    let started = Instant::now();
    let report = check(&target, ReadData::All)?;
    assert!(report.is_ok());
    let check_time = started.elapsed();

    // rustic_core's built-in command source, for comparison.
    let backends = RepositoryBackends::new(
        std::sync::Arc::new(LocalBackend::new(repo_path.to_str().unwrap(), [])?),
        None,
    );
    let repo = Repository::new(&RepositoryOptions::default().no_cache(true), &backends)?
        .open(&Credentials::password("measure-only"))?
        .to_indexed_ids()?;
    let fresh = dir.path().join("fresh.dump");
    bytes.iter_mut().for_each(|b| *b = b.wrapping_add(1));
    fs::write(&fresh, &bytes)?;
    let options = BackupOptions::default()
        .stdin_filename("cantine/db.dump")
        .stdin_command(CommandInput::from_str(&format!("cat {}", fresh.display()))?);
    let started = Instant::now();
    repo.backup(
        &options,
        &PathList::from_string("-")?,
        SnapshotOptions::default().to_snapshot()?,
    )?;
    let builtin_time = started.elapsed();

    if let Ok(repository) = std::env::var("MEASURE_REST_REPO") {
        let mut rest = Target::new("rest", repository, &password);
        rest.rest_password_file = std::env::var_os("MEASURE_REST_PASSWORD_FILE").map(Into::into);
        rest.ca_cert = std::env::var_os("MEASURE_CA").map(Into::into);
        cantine_backup::init(&rest)?;
        let report = backup_dump(&rest, &dump, &request)?;
        let started = Instant::now();
        let mut sink = io::sink();
        restore_stream(
            &rest,
            &SnapshotSelector::Latest,
            DEFAULT_STREAM_PATH,
            &mut sink,
        )?;
        println!("REST backup (new data):  {:.2?}", report.duration);
        println!("REST restore:            {:.2?}", started.elapsed());
    }

    println!("stream: {megabytes} MiB, incompressible");
    println!("dump command into temp file: {dump_time:.2?}");
    println!(
        "backup (new data):       {:.2?}  added {} bytes",
        first.duration, first.data_added_packed
    );
    println!(
        "backup (unchanged data): {:.2?}  added {} bytes",
        second.duration, second.data_added_packed
    );
    println!("built-in command source (new data): {builtin_time:.2?}");
    println!("restore to a file:       {restore_time:.2?}");
    println!("check --read-data:       {check_time:.2?}");
    Ok(())
}
