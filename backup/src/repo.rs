//! Opening and creating repositories.

use std::{
    collections::HashMap,
    sync::{Mutex, OnceLock},
};

use rustic_core::{
    ConfigOptions, Credentials, KeyOptions, OpenStatus, Repository, RepositoryBackends,
    repofile::MasterKey,
};

use crate::{
    error::{Error, Result, RusticContext},
    target::{Existence, Target},
};

/// An unlocked repository, ready for rustic_core operations.
pub(crate) type OpenRepo = Repository<OpenStatus>;

/// What [`open`] found or did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepoInfo {
    /// The repository id (restic's `repository <id> opened`).
    pub id: String,
    /// Repository format version (2 = compressed, readable by restic 0.14 and later).
    pub version: u32,
    /// True when this call created the repository.
    pub created: bool,
}

/// Makes sure the target holds a repository: opens an existing one with the target's
/// password (`created` is false; a password that opens no key is
/// [`Error::WrongPassword`]), creates a missing one (`created` is true).
///
/// Idempotent, so it can run at every deployment. Works for local and REST targets (an
/// append-only REST server accepts creating a repository once).
pub fn init(target: &Target) -> Result<RepoInfo> {
    match open_repo(target, false) {
        Ok((repo, _)) => Ok(info(&repo, false)),
        Err(Error::NotInitialised { .. }) => {
            let (backends, _) = target.backends()?;
            tracing::info!(target_name = %target.name, location = %target.redacted_location(),
                "creating the repository");
            let repo = init_with(target, &backends)?;
            Ok(info(&repo, true))
        }
        Err(e) => Err(e),
    }
}

/// Opens the target's repository; a missing local repository is created, a missing REST
/// one is an [`Error::NotInitialised`] (creating it is an operator's decision, made once
/// with [`init`]).
pub fn open(target: &Target) -> Result<RepoInfo> {
    let (repo, created) = open_repo(target, true)?;
    Ok(info(&repo, created))
}

pub(crate) fn open_existing(target: &Target) -> Result<OpenRepo> {
    open_repo(target, false).map(|(repo, _)| repo)
}

/// Opens the repository for writing a backup: local targets are created on first use.
pub(crate) fn open_for_backup(target: &Target) -> Result<OpenRepo> {
    open_repo(target, true).map(|(repo, _)| repo)
}

fn open_repo(target: &Target, init_local: bool) -> Result<(OpenRepo, bool)> {
    let (backends, existence) = target.backends()?;
    let is_local = target.location()?.is_local();
    let missing = match existence {
        Existence::Exists => false,
        Existence::Missing => true,
        Existence::Unknown => Repository::new(&target.repository_options(), &backends)
            .during(&target.name, "opening")?
            .config_id()
            .during(&target.name, "listing the config file")?
            .is_none(),
    };
    if missing {
        if is_local && init_local {
            tracing::info!(target_name = %target.name, location = %target.redacted_location(),
                "creating the local repository");
            return Ok((init_with(target, &backends)?, true));
        }
        return Err(Error::NotInitialised {
            target: target.name.clone(),
            location: target.redacted_location(),
        });
    }
    let password = target.password()?;
    let cached = key_cache()
        .lock()
        .expect("not poisoned")
        .get(&(target.repository.clone(), password.clone()))
        .cloned();
    let credentials = match cached {
        Some(key) => Credentials::Masterkey(key),
        None => Credentials::password(&password),
    };
    let repo = Repository::new(&target.repository_options(), &backends)
        .during(&target.name, "opening")?
        .open(&credentials)
        .during(&target.name, "opening")?;
    remember_key(target, password, &repo);
    Ok((repo, false))
}

/// Master keys already unlocked by this process, by repository and password.
///
/// The key derivation (scrypt with rustic's recommended parameters) is deliberately slow:
/// about 0.3 s in a release build and 10 s in a debug build. A command that works on the
/// same repository several times (back up, then list, then check) pays it once. The key
/// is only reused with the very password that unlocked it.
fn key_cache() -> &'static Mutex<HashMap<(String, String), MasterKey>> {
    static CACHE: OnceLock<Mutex<HashMap<(String, String), MasterKey>>> = OnceLock::new();
    CACHE.get_or_init(Mutex::default)
}

fn remember_key(target: &Target, password: String, repo: &OpenRepo) {
    key_cache()
        .lock()
        .expect("not poisoned")
        .insert((target.repository.clone(), password), repo.key());
}

fn init_with(target: &Target, backends: &RepositoryBackends) -> Result<OpenRepo> {
    let password = target.password()?;
    if password.is_empty() {
        return Err(Error::InvalidTarget {
            target: target.name.clone(),
            reason: "the password file is empty".to_owned(),
        });
    }
    let repo = Repository::new(&target.repository_options(), backends)
        .during(&target.name, "opening")?
        .init(
            &Credentials::password(&password),
            &KeyOptions::default(),
            &ConfigOptions::default(),
        )
        .during(&target.name, "initialising")?;
    remember_key(target, password, &repo);
    Ok(repo)
}

fn info(repo: &OpenRepo, created: bool) -> RepoInfo {
    RepoInfo {
        id: repo.config().id.to_hex().to_string(),
        version: repo.config().version,
        created,
    }
}
