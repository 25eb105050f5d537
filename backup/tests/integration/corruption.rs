//! A damaged pack file is found by `check` when it reads data, and the daily rotation
//! reads it within the month.

use std::{fs, os::unix::fs::PermissionsExt, path::PathBuf};

use cantine_backup::{BackupRequest, ReadData, backup_command, check};

use crate::common::{LocalRepo, cat, pseudo_random};

fn pack_files(repo: &LocalRepo) -> Vec<PathBuf> {
    let mut packs = Vec::new();
    for dir in fs::read_dir(repo.repo_dir().join("data")).unwrap() {
        for file in fs::read_dir(dir.unwrap().path()).unwrap() {
            packs.push(file.unwrap().path());
        }
    }
    packs
}

#[test]
fn a_flipped_byte_in_a_pack_is_reported_by_check_with_read_data() {
    let repo = LocalRepo::new("local");
    fs::write(repo.path("db.dump"), pseudo_random(800_000, 9)).unwrap();
    backup_command(
        &repo.target,
        cat(&repo.path("db.dump")),
        &BackupRequest::new("h"),
        None,
    )
    .unwrap();
    let clean = check(&repo.target, ReadData::All).unwrap();
    assert!(clean.is_ok(), "{:?}", clean.errors);

    // Flip bytes in the middle of the largest pack (the data pack): same size, so only
    // reading the data can notice.
    let pack = pack_files(&repo)
        .into_iter()
        .max_by_key(|p| fs::metadata(p).unwrap().len())
        .unwrap();
    let mut bytes = fs::read(&pack).unwrap();
    let middle = bytes.len() / 2;
    for b in &mut bytes[middle..middle + 16] {
        *b ^= 0xff;
    }
    fs::set_permissions(&pack, fs::Permissions::from_mode(0o600)).unwrap();
    fs::write(&pack, bytes).unwrap();

    let structure_only = check(&repo.target, ReadData::None).unwrap();
    assert!(structure_only.is_ok(), "{:?}", structure_only.errors);

    let full = check(&repo.target, ReadData::All).unwrap();
    assert!(!full.is_ok(), "the damaged pack went unnoticed");
    let pack_id = pack.file_name().unwrap().to_str().unwrap();
    assert!(
        full.errors.iter().any(|e| e.contains(&pack_id[..8])),
        "errors do not name pack {pack_id}: {:?}",
        full.errors
    );

    // Split in 4 parts, as the daily rotation splits a month in days: exactly one part
    // holds the damaged pack.
    let parts_with_errors = (0..4)
        .filter(|&n| {
            !check(&repo.target, ReadData::Subset { n, m: 4 })
                .unwrap()
                .is_ok()
        })
        .count();
    assert_eq!(parts_with_errors, 1);
}
