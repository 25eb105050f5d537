//! The real `cantine` binary with its private PostgreSQL: clean stops, SIGKILL of either
//! process, and `check-config`'s messages.

use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use cantine_test_support::{fixtures, process};

const BIN: &str = env!("CARGO_BIN_EXE_cantine");

fn cantine(data_dir: &Path) -> Command {
    process::command(BIN, data_dir)
}

/// Starts `cantine serve` and returns it with the address it listens on.
fn serve(data_dir: &Path) -> (Child, String) {
    process::serve(cantine(data_dir))
}

async fn status(url: &str) -> Option<u16> {
    reqwest::get(url).await.ok().map(|r| r.status().as_u16())
}

async fn wait_for(url: &str, expected: u16, limit: Duration) {
    let started = Instant::now();
    while status(url).await != Some(expected) {
        assert!(started.elapsed() < limit, "{url} never answered {expected}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn pool(data_dir: &Path) -> sqlx::PgPool {
    let options = sqlx::postgres::PgConnectOptions::new()
        .socket(data_dir.join("pg/run"))
        .username("cantine")
        .database("cantine");
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .unwrap()
}

fn postmaster_pid(data_dir: &Path) -> Option<i32> {
    std::fs::read_to_string(data_dir.join("pg/data/postmaster.pid"))
        .ok()?
        .lines()
        .next()?
        .trim()
        .parse()
        .ok()
}

fn alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    unsafe { libc::kill(pid, 0) == 0 }
}

fn wait_until(limit: Duration, mut condition: impl FnMut() -> bool) {
    let started = Instant::now();
    while !condition() {
        assert!(
            started.elapsed() < limit,
            "condition not reached in {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_of_the_app_loses_no_committed_data_and_restart_needs_no_manual_step() {
    let dir = tempfile::tempdir().unwrap();
    let (mut app, base) = serve(dir.path());
    wait_for(&format!("{base}/readyz"), 200, Duration::from_secs(30)).await;
    let db = pool(dir.path()).await;
    fixtures::school(&db, "École du Test", "").await;
    db.close().await;
    let postgres = postmaster_pid(dir.path()).unwrap();

    app.kill().unwrap();
    app.wait().unwrap();
    // The guard notices our death and stops PostgreSQL: no orphan holds the folder.
    wait_until(Duration::from_secs(30), || !alive(postgres));

    let (mut app, base) = serve(dir.path());
    wait_for(&format!("{base}/readyz"), 200, Duration::from_secs(30)).await;
    let db = pool(dir.path()).await;
    let kept: i64 = sqlx::query_scalar("select count(*) from school where name = 'École du Test'")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(kept, 1);
    db.close().await;

    // SIGTERM is a clean stop of both processes.
    let postgres = postmaster_pid(dir.path()).unwrap();
    // SAFETY: plain signal to our own child.
    unsafe { libc::kill(app.id() as i32, libc::SIGTERM) };
    assert!(app.wait().unwrap().success());
    assert!(!alive(postgres));
    assert!(
        postmaster_pid(dir.path()).is_none(),
        "clean shutdown removes the pid file"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_of_postgresql_is_recovered_by_the_app() {
    let dir = tempfile::tempdir().unwrap();
    let (mut app, base) = serve(dir.path());
    let ready = format!("{base}/readyz");
    wait_for(&ready, 200, Duration::from_secs(30)).await;
    let db = pool(dir.path()).await;
    fixtures::school(&db, "Avant la panne", "").await;
    db.close().await;

    let postgres = postmaster_pid(dir.path()).unwrap();
    // SAFETY: plain signal to a process of this test.
    unsafe { libc::kill(postgres, libc::SIGKILL) };
    wait_until(Duration::from_secs(10), || !alive(postgres));
    wait_until(Duration::from_secs(60), || {
        postmaster_pid(dir.path()).is_some_and(|p| p != postgres)
    });
    wait_for(&ready, 200, Duration::from_secs(60)).await;
    let db = pool(dir.path()).await;
    let kept: i64 = sqlx::query_scalar("select count(*) from school where name = 'Avant la panne'")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(kept, 1);
    db.close().await;
    app.kill().unwrap();
    app.wait().unwrap();
}

fn check_config(dir: &Path, file: &str, env: &[(&str, &str)]) -> (bool, String, String) {
    let path = dir.join("cantine.toml");
    std::fs::write(&path, file).unwrap();
    let mut cmd = cantine(dir);
    cmd.env("CANTINE_CONFIG", &path).arg("check-config");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn check_config_prints_effective_values_with_secrets_masked() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, _) = check_config(
        dir.path(),
        "public_url = \"https://cantine.techniville.fr\"\n[database]\nurl = \"postgresql://cantine:hunter2@db/cantine\"\n",
        &[("CANTINE_LISTEN", "127.0.0.1:9999")],
    );
    assert!(ok);
    assert!(out.contains("listen = 127.0.0.1:9999"), "{out}");
    assert!(
        out.contains("public_url = https://cantine.techniville.fr/"),
        "{out}"
    );
    assert!(
        out.contains("postgresql://cantine:********@db/cantine"),
        "{out}"
    );
    assert!(!out.contains("hunter2"), "{out}");
}

#[test]
fn check_config_warns_of_the_deprecated_session_key_file_and_still_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, err) = check_config(
        dir.path(),
        "[secrets]\nsession_key_file = \"/etc/cantine/secrets/session-key\"\n",
        &[("CANTINE_DATABASE__MAX_CONNECTIONS", "3")],
    );
    assert!(ok, "{err}");
    assert!(
        err.contains("cantine: warning: secrets.session_key_file is deprecated"),
        "{err}"
    );
    assert!(out.contains("database.max_connections = 3\n"), "{out}");
}

#[test]
fn check_config_fails_with_a_precise_message() {
    let dir = tempfile::tempdir().unwrap();
    for (file, env, expected) in [
        ("colour = \"blue\"\n", vec![], "unknown field `colour`"),
        ("listen = 8080\n", vec![], "invalid type"),
        ("", vec![("CANTINE_PUBLIC_URL", "cantine.fr")], "public_url"),
        (
            "",
            vec![("CANTINE_DATABASE_URL", "http://db")],
            "database.url",
        ),
        (
            "[database]\nmax_connections = 0\n",
            vec![],
            "database.max_connections",
        ),
    ] {
        let (ok, _, err) = check_config(dir.path(), file, &env);
        assert!(!ok, "{file:?} {env:?} should fail");
        assert!(err.contains(expected), "{expected:?} not in {err:?}");
        assert!(err.starts_with("cantine: configuration error:"), "{err}");
    }
    let out = cantine(dir.path())
        .env("CANTINE_CONFIG", dir.path().join("missing.toml"))
        .arg("check-config")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read configuration file"));
}

#[test]
fn the_secrets_escrow_seals_the_backup_passwords_and_opens_with_the_passphrase_only() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = dir.path().join("secrets");
    std::fs::create_dir(&secrets).unwrap();
    std::fs::write(secrets.join("restic-local"), "repository-password-local\n").unwrap();
    // As first boot writes it: 32 bytes as hexadecimal digits, no newline.
    let health_data_key = "8f3a".repeat(16);
    std::fs::write(secrets.join("health-data-key"), &health_data_key).unwrap();
    std::fs::write(
        dir.path().join("passphrase"),
        "une phrase de passe assez longue\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("wrong"),
        "une autre phrase de passe, fausse\n",
    )
    .unwrap();
    let config = dir.path().join("cantine.toml");
    std::fs::write(
        &config,
        format!(
            "[secrets]\nhealth_data_key_file = \"{0}/health-data-key\"\n\
             [[backup.targets]]\nname = \"local\"\nrepository = \"{1}/repo\"\npassword_file = \"{0}/restic-local\"\n",
            secrets.display(),
            dir.path().display()
        ),
    )
    .unwrap();
    let sealed = cantine(dir.path())
        .env("CANTINE_CONFIG", &config)
        .args(["backup", "escrow", "--passphrase-file"])
        .arg(dir.path().join("passphrase"))
        .output()
        .unwrap();
    assert!(
        sealed.status.success(),
        "{}",
        String::from_utf8_lossy(&sealed.stderr)
    );
    let armored = String::from_utf8(sealed.stdout).unwrap();
    assert!(
        armored.starts_with("-----BEGIN CANTINE SECRETS ESCROW-----"),
        "{armored}"
    );
    assert!(!armored.contains("repository-password-local"));
    assert!(!armored.contains(&health_data_key));
    let bundle = dir.path().join("escrow.txt");
    std::fs::write(&bundle, &armored).unwrap();

    let open = |passphrase: &str, to: &str| {
        cantine(dir.path())
            .env("CANTINE_CONFIG", &config)
            .args(["backup", "escrow-open", "--passphrase-file"])
            .arg(dir.path().join(passphrase))
            .arg("--in")
            .arg(&bundle)
            .arg("--to")
            .arg(dir.path().join(to))
            .output()
            .unwrap()
    };
    let refused = open("wrong", "refused");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("wrong passphrase"));
    let opened = open("passphrase", "restored");
    assert!(
        opened.status.success(),
        "{}",
        String::from_utf8_lossy(&opened.stderr)
    );
    let restored = dir.path().join("restored");
    assert_eq!(
        std::fs::read_to_string(restored.join("restic-local")).unwrap(),
        "repository-password-local\n"
    );
    assert_eq!(
        std::fs::read_to_string(restored.join("health-data-key")).unwrap(),
        health_data_key
    );
}

#[test]
fn admin_create_user_prints_a_single_use_link_and_refuses_what_it_cannot_do() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        cantine(dir.path())
            .args(["admin", "create-user"])
            .args(args)
            .output()
            .expect("cantine admin runs")
    };
    let created = run(&[
        "--email",
        "Gestion@Mairie.test",
        "--role",
        "manager",
        "--first-name",
        "Hélène",
    ]);
    let stdout = String::from_utf8_lossy(&created.stdout);
    assert!(
        created.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&created.stderr)
    );
    assert!(stdout.contains("gestion@mairie.test"), "{stdout}");
    assert!(
        stdout.contains("/personnel/mot-de-passe?token="),
        "{stdout}"
    );
    // The same link was mailed (to the spool, without SMTP).
    let mail = cantine_test_support::mail::last(dir.path());
    let token = mail.link_token("/personnel/mot-de-passe?token=");
    assert!(stdout.contains(&token));

    let again = run(&["--email", "gestion@mairie.test", "--role", "admin"]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("Un compte existe déjà"));
    let no_school = run(&[
        "--email",
        "agent@mairie.test",
        "--role",
        "school_staff",
        "--school",
        "École Nulle-Part",
    ]);
    assert!(!no_school.status.success());
    assert!(String::from_utf8_lossy(&no_school.stderr).contains("no school"));
    let unknown = run(&["--email", "x@mairie.test", "--role", "canteen_staff"]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("Rôles invalides"));
}
