//! `init` is idempotent: it creates a missing repository, finds an existing one with the
//! target's password and creates nothing, and refuses a password that opens no key.

use std::{fs, path::Path};

use cantine_backup::{Error, init};

use crate::common::{LocalRepo, scratch, shared_repo};

fn keys(repo_dir: &Path) -> usize {
    fs::read_dir(repo_dir.join("keys")).unwrap().count()
}

#[test]
fn init_twice_creates_the_repository_once_and_then_finds_it() {
    let repo = LocalRepo::new("local");
    let first = init(&repo.target).unwrap();
    assert!(first.created);
    let config = fs::read(repo.repo_dir().join("config")).unwrap();

    let second = init(&repo.target).unwrap();
    assert!(!second.created);
    assert_eq!(second.id, first.id);
    assert_eq!(keys(&repo.repo_dir()), 1);
    assert_eq!(fs::read(repo.repo_dir().join("config")).unwrap(), config);
}

#[test]
fn init_on_an_existing_repository_with_another_password_is_refused() {
    let repo = shared_repo();
    let input = scratch();
    let target = repo.with_wrong_password(input.path());
    let error = init(&target).unwrap_err();
    assert!(matches!(error, Error::WrongPassword { .. }), "{error}");
    assert!(
        error.to_string().contains("wrong repository password"),
        "{error}"
    );
    assert_eq!(keys(&repo.repo_dir()), 1, "no key added");
}
