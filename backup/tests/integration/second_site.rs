//! The second site: `rclone serve restic --append-only --private-repos` over TLS with
//! htpasswd credentials. The appliance can write snapshots there and read them back, but
//! neither delete nor overwrite anything.

use std::{fs, process::Command, time::Instant};

use cantine_backup::{
    BackupRequest, DEFAULT_STREAM_PATH, Error, KeepPolicy, SnapshotSelector, backup_command,
    forget_prune, init, list_snapshots, open, restore_stream,
};
use reqwest::blocking::Client;

use crate::common::{LocalRepo, SecondSite, cat, ok, pseudo_random, sh, write_secret};

fn client(site: &SecondSite) -> Client {
    let ca = reqwest::Certificate::from_pem(&fs::read(&site.ca_cert).unwrap()).unwrap();
    Client::builder().add_root_certificate(ca).build().unwrap()
}

#[test]
fn backups_reach_the_second_site_which_refuses_deletes_and_overwrites() {
    let site = SecondSite::start();
    let local = LocalRepo::new("local");
    let target = site.target(&local, "mairie");

    // Nothing there yet: the appliance does not create a remote repository by itself.
    assert!(matches!(open(&target), Err(Error::NotInitialised { .. })));
    let created = init(&target).unwrap();
    assert!(created.created);
    // Again, as a redeployed appliance does: found, nothing created.
    let keys = || {
        fs::read_dir(site.repo_dir("mairie").join("keys"))
            .unwrap()
            .count()
    };
    assert_eq!(keys(), 1);
    let found = init(&target).unwrap();
    assert!(!found.created);
    assert_eq!(found.id, created.id);
    assert_eq!(keys(), 1);

    let original = pseudo_random(1_000_000, 5);
    fs::write(local.path("db.dump"), &original).unwrap();
    let request = BackupRequest::new("mairie-test");
    backup_command(&target, cat(&local.path("db.dump")), &request, None).unwrap();
    backup_command(&target, sh("echo second"), &request, None).unwrap();
    let snapshots = list_snapshots(&target).unwrap();
    assert_eq!(snapshots.len(), 2);

    let mut restored = Vec::new();
    restore_stream(
        &target,
        &SnapshotSelector::Id(snapshots[0].id.clone()),
        DEFAULT_STREAM_PATH,
        &mut restored,
    )
    .unwrap();
    assert!(
        restored == original,
        "restored dump differs from the original"
    );

    // The standard restic CLI reads the second site too (the runbook's last resort).
    let listed = ok(Command::new("restic")
        .args(["--no-cache", "-r", &site.restic_url("mairie"), "--cacert"])
        .arg(&site.ca_cert)
        .arg("--password-file")
        .arg(&target.password_file)
        .args(["snapshots", "--json"])
        .output()
        .unwrap());
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 2);

    // Retention is refused up front on a target configured as append-only…
    let keep_newest = KeepPolicy {
        hourly: 1,
        daily: 0,
        weekly: 0,
        monthly: 0,
    };
    let error = forget_prune(&target, &keep_newest).unwrap_err();
    assert!(matches!(error, Error::AppendOnly { .. }), "{error}");
    // …and by the server itself when the appliance tries anyway.
    let mut misconfigured = target.clone();
    misconfigured.append_only = false;
    misconfigured.rest_retries = 0;
    let error = forget_prune(&misconfigured, &keep_newest).unwrap_err();
    assert!(error.to_string().contains("403 Forbidden"), "{error}");
    assert_eq!(list_snapshots(&target).unwrap(), snapshots);

    // Raw HTTP with the appliance's credentials: no delete, no overwrite.
    let http = client(&site);
    let repo_url = format!("{}/{}/mairie", site.base_url(), site.user);
    let snapshot_url = format!("{repo_url}/snapshots/{}", snapshots[0].id);
    let auth =
        |r: reqwest::blocking::RequestBuilder| r.basic_auth(&site.user, Some(&site.http_password));
    let stored = fs::read(
        site.repo_dir("mairie")
            .join("snapshots")
            .join(&snapshots[0].id),
    )
    .unwrap();
    for (what, status) in [
        (
            "delete snapshot",
            auth(http.delete(&snapshot_url)).send().unwrap().status(),
        ),
        (
            "delete config",
            auth(http.delete(format!("{repo_url}/config")))
                .send()
                .unwrap()
                .status(),
        ),
        (
            "overwrite snapshot",
            auth(http.post(&snapshot_url))
                .body("ransom")
                .send()
                .unwrap()
                .status(),
        ),
        (
            "overwrite config",
            auth(http.post(format!("{repo_url}/config")))
                .body("x")
                .send()
                .unwrap()
                .status(),
        ),
    ] {
        assert!(
            status.is_client_error(),
            "{what} was answered {status}, expected a refusal"
        );
    }
    assert_eq!(
        fs::read(
            site.repo_dir("mairie")
                .join("snapshots")
                .join(&snapshots[0].id)
        )
        .unwrap(),
        stored
    );
    assert_eq!(list_snapshots(&target).unwrap(), snapshots);
}

#[test]
fn wrong_credentials_and_untrusted_certificates_fail_fast_with_clear_errors() {
    let site = SecondSite::start();
    let local = LocalRepo::new("local");
    let target = site.target(&local, "mairie");

    let mut wrong_password = target.clone();
    let file = local.path("wrong-rest-password");
    write_secret(&file, "not-the-password");
    wrong_password.rest_password_file = Some(file);
    let error = list_snapshots(&wrong_password).unwrap_err();
    assert!(
        matches!(error, Error::Unauthorized { status: 401, .. }),
        "{error}"
    );
    assert!(!error.to_string().contains("not-the-password"));

    // --private-repos: the appliance's user cannot reach another commune's repository.
    let mut other_repo = target.clone();
    other_repo.repository = format!(
        "rest:https://{}@127.0.0.1:{}/other-commune/repo/",
        site.user, site.port
    );
    let error = list_snapshots(&other_repo).unwrap_err();
    assert!(matches!(error, Error::Unauthorized { .. }), "{error}");

    // Without the test CA the certificate is refused at once, not after a minute of
    // retries.
    let mut untrusted = target.clone();
    untrusted.ca_cert = None;
    let started = Instant::now();
    let error = list_snapshots(&untrusted).unwrap_err();
    assert!(matches!(error, Error::Tls { .. }), "{error}");
    assert!(
        started.elapsed().as_secs() < 5,
        "took {:?}",
        started.elapsed()
    );
    assert!(!error.to_string().contains(&site.http_password));

    // Nothing listening: unreachable, also at once.
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut down = target.clone();
    down.repository = format!(
        "rest:https://{}@127.0.0.1:{closed_port}/{}/mairie/",
        site.user, site.user
    );
    let started = Instant::now();
    let error = list_snapshots(&down).unwrap_err();
    assert!(matches!(error, Error::Unreachable { .. }), "{error}");
    assert!(
        started.elapsed().as_secs() < 5,
        "took {:?}",
        started.elapsed()
    );
}
