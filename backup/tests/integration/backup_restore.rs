//! Backing a stream up into a local repository and getting the same bytes back; a failed
//! dump never becomes a snapshot.

use std::fs;

use cantine_backup::{
    BackupRequest, DEFAULT_STREAM_PATH, Dump, Error, SnapshotSelector, backup_command, backup_dump,
    list_snapshots, restore_stream, restore_to_file,
};

use crate::common::{LocalRepo, cat, ids, pseudo_random, scratch, sh, shared_repo, snapshots_of};

#[test]
fn a_backed_up_stream_is_restored_byte_for_byte_with_its_config_file() {
    let repo = shared_repo();
    let input = scratch();
    let original = pseudo_random(3_000_000, 1);
    fs::write(input.path().join("db.dump"), &original).unwrap();
    fs::write(input.path().join("cantine.toml"), "[server]\nport = 8080\n").unwrap();
    let request = BackupRequest::new("roundtrip").with_file(
        input.path().join("cantine.toml"),
        "/cantine/config/cantine.toml",
    );

    let report = backup_command(
        &repo.target,
        cat(&input.path().join("db.dump")),
        &request,
        None,
    )
    .unwrap();
    assert_eq!(report.stream_bytes, original.len() as u64);

    let snapshots = snapshots_of(&repo.target, "roundtrip");
    assert_eq!(ids(&snapshots), std::slice::from_ref(&report.snapshot_id));
    assert_eq!(snapshots[0].tags, ["cantine"]);
    assert_eq!(
        snapshots[0].paths,
        ["/cantine/config/cantine.toml", DEFAULT_STREAM_PATH]
    );

    let mut restored = Vec::new();
    let restore = restore_stream(
        &repo.target,
        &SnapshotSelector::Id(report.snapshot_id.clone()),
        DEFAULT_STREAM_PATH,
        &mut restored,
    )
    .unwrap();
    assert_eq!(restore.bytes, original.len() as u64);
    assert!(
        restored == original,
        "restored dump differs from the original"
    );

    let config = input.path().join("restored.toml");
    restore_to_file(
        &repo.target,
        &SnapshotSelector::parse(&report.snapshot_id[..8]),
        "/cantine/config/cantine.toml",
        &config,
    )
    .unwrap();
    assert_eq!(
        fs::read_to_string(config).unwrap(),
        "[server]\nport = 8080\n"
    );
}

#[test]
fn one_dump_goes_to_two_targets_and_unchanged_data_is_stored_once() {
    let first = shared_repo();
    let second = LocalRepo::new("other");
    let input = scratch();
    fs::write(input.path().join("db.dump"), pseudo_random(2_000_000, 2)).unwrap();
    let dump = Dump::run(cat(&input.path().join("db.dump")), Some(input.path())).unwrap();
    let request = BackupRequest::new("two-targets");

    let a = backup_dump(&first.target, &dump, &request).unwrap();
    let b = backup_dump(&second.target, &dump, &request).unwrap();
    assert!(a.data_added >= 2_000_000 && b.data_added >= 2_000_000);

    // The next hour's dump of an unchanged database adds (almost) nothing.
    let again = backup_dump(&first.target, &dump, &request).unwrap();
    assert!(
        again.data_added < 10_000,
        "added {} bytes",
        again.data_added
    );
    assert_eq!(snapshots_of(&first.target, "two-targets").len(), 2);
    assert_eq!(list_snapshots(&second.target).unwrap().len(), 1);
}

#[test]
fn a_dump_that_exits_non_zero_leaves_no_snapshot() {
    let repo = shared_repo();
    let request = BackupRequest::new("exits-1");
    backup_command(&repo.target, sh("echo ok"), &request, None).unwrap();
    let before = snapshots_of(&repo.target, "exits-1");

    let error = backup_command(
        &repo.target,
        sh("head -c 100000 /dev/urandom; echo 'pg_dump: error: connection lost' >&2; exit 1"),
        &request,
        None,
    )
    .unwrap_err();
    match &error {
        Error::CommandFailed { status, stderr, .. } => {
            assert_eq!(status, "exited with status 1");
            assert!(stderr.contains("connection lost"), "{stderr}");
        }
        other => panic!("unexpected error: {other}"),
    }
    assert_eq!(snapshots_of(&repo.target, "exits-1"), before);
}

#[test]
fn a_dump_killed_midway_leaves_no_snapshot() {
    let repo = shared_repo();
    let request = BackupRequest::new("killed");
    backup_command(&repo.target, sh("echo ok"), &request, None).unwrap();
    let before = snapshots_of(&repo.target, "killed");

    let error = backup_command(
        &repo.target,
        sh("head -c 5000000 /dev/urandom; kill -9 $$"),
        &request,
        None,
    )
    .unwrap_err();
    assert!(
        matches!(&error, Error::CommandFailed { status, .. } if status == "was killed by signal 9"),
        "unexpected error: {error}"
    );
    assert_eq!(snapshots_of(&repo.target, "killed"), before);
}

#[test]
fn an_empty_dump_or_a_missing_program_never_reaches_the_repository() {
    let repo = LocalRepo::new("local");
    let request = BackupRequest::new("mairie-test");
    let error = backup_command(&repo.target, sh("true"), &request, None).unwrap_err();
    assert!(matches!(error, Error::EmptyDump { .. }), "{error}");
    let error = backup_command(
        &repo.target,
        std::process::Command::new("/nonexistent/pg_dump"),
        &request,
        None,
    )
    .unwrap_err();
    assert!(matches!(error, Error::CommandFailed { .. }), "{error}");
    // The local repository was never even created.
    assert!(!repo.repo_dir().exists());
}

#[test]
fn a_missing_config_file_fails_before_anything_is_written() {
    let repo = LocalRepo::new("local");
    let request =
        BackupRequest::new("mairie-test").with_file(repo.path("absent.toml"), "/cantine/config/x");
    let error = backup_command(&repo.target, sh("echo data"), &request, None).unwrap_err();
    assert!(matches!(error, Error::Io { .. }), "{error}");
    assert!(!repo.repo_dir().exists());
}

#[test]
fn a_wrong_repository_password_is_named_as_such() {
    let repo = shared_repo();
    let input = scratch();
    let target = repo.with_wrong_password(input.path());
    let error = list_snapshots(&target).unwrap_err();
    assert!(matches!(error, Error::WrongPassword { .. }), "{error}");
}

#[test]
fn restoring_a_path_that_no_snapshot_holds_is_a_clear_error() {
    let repo = shared_repo();
    backup_command(
        &repo.target,
        sh("echo data"),
        &BackupRequest::new("no-path"),
        None,
    )
    .unwrap();
    let error = restore_stream(
        &repo.target,
        &SnapshotSelector::Latest,
        "/cantine/other.dump",
        &mut Vec::new(),
    )
    .unwrap_err();
    assert!(matches!(error, Error::SnapshotNotFound { .. }), "{error}");
}
