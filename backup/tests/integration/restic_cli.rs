//! The standard `restic` CLI (Debian's package) reads what the library writes, and the
//! library reads what `restic backup --stdin` writes: an operator can always fall back
//! to restic.

use std::{
    fs,
    io::Write,
    process::{Command, Stdio},
};

use cantine_backup::{
    BackupRequest, DEFAULT_STREAM_PATH, SnapshotSelector, backup_command, restore_stream,
};

use crate::common::{LocalRepo, cat, ok, pseudo_random, restic, scratch};

#[test]
fn restic_and_the_library_read_each_others_snapshots() {
    let repo = LocalRepo::new("local");
    let original = pseudo_random(1_500_000, 3);
    fs::write(repo.path("db.dump"), &original).unwrap();
    fs::write(repo.path("cantine.toml"), "commune = \"Test\"\n").unwrap();
    let request = BackupRequest::new("mairie-test")
        .with_file(repo.path("cantine.toml"), "/cantine/config/cantine.toml");
    let report = backup_command(&repo.target, cat(&repo.path("db.dump")), &request, None).unwrap();

    // restic reads the library's snapshot…
    let listed = ok(restic(&repo.target, &["snapshots", "--json"]));
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    let snapshot = &listed.as_array().unwrap()[0];
    assert_eq!(snapshot["id"], report.snapshot_id.as_str());
    assert_eq!(snapshot["hostname"], "mairie-test");
    assert_eq!(snapshot["tags"], serde_json::json!(["cantine"]));
    assert_eq!(
        snapshot["paths"],
        serde_json::json!(["/cantine/config/cantine.toml", DEFAULT_STREAM_PATH])
    );

    ok(restic(&repo.target, &["check", "--read-data"]));

    let dumped = ok(restic(
        &repo.target,
        &["dump", "latest", DEFAULT_STREAM_PATH],
    ));
    assert!(
        dumped.stdout == original,
        "restic dump differs from the original"
    );

    let restored = repo.path("restored");
    ok(restic(
        &repo.target,
        &["restore", "latest", "--target", restored.to_str().unwrap()],
    ));
    assert!(fs::read(restored.join("cantine/db.dump")).unwrap() == original);
    assert_eq!(
        fs::read_to_string(restored.join("cantine/config/cantine.toml")).unwrap(),
        "commune = \"Test\"\n"
    );

    the_library_restores_a_snapshot_made_by_restic_backup_stdin(&repo);
}

/// Runs on the repository of the test above, after it: restic's check takes an
/// exclusive lock, and a repository of its own would cost another key derivation (10 s in
/// a debug build). The repository is the library's: restic's own key derivation is tuned
/// for Go, far slower to repeat in a debug build of the library.
fn the_library_restores_a_snapshot_made_by_restic_backup_stdin(repo: &LocalRepo) {
    let input = scratch();
    let original = pseudo_random(1_200_000, 4);
    fs::write(input.path().join("db.dump"), &original).unwrap();

    let mut child = Command::new("restic")
        .args([
            "--no-cache",
            "--quiet",
            "-r",
            &repo.target.repository,
            "--password-file",
        ])
        .arg(&repo.target.password_file)
        .args(["backup", "--stdin", "--stdin-filename", "cantine/db.dump"])
        .args(["--host", "restic-cli", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&original).unwrap();
    let output = ok(child.wait_with_output().unwrap());
    let summary = String::from_utf8_lossy(&output.stdout);
    let summary: serde_json::Value = summary
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["message_type"] == "summary")
        .expect("restic summary");
    let restic_id = summary["snapshot_id"].as_str().unwrap();

    let mut restored = Vec::new();
    let report = restore_stream(
        &repo.target,
        &SnapshotSelector::Latest,
        DEFAULT_STREAM_PATH,
        &mut restored,
    )
    .unwrap();
    assert!(
        report.snapshot_id.starts_with(restic_id),
        "{} vs {restic_id}",
        report.snapshot_id
    );
    assert!(
        restored == original,
        "restored dump differs from what restic stored"
    );
}
