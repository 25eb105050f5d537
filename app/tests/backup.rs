//! Backups wired into the application, against the test PostgreSQL and real repositories:
//! backup then restore, a killed `pg_dump`, the ransomware drill with an append-only second
//! site, the restore drill and its metrics, and two backups at once.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use cantine::backup::lock::FileLock;
use cantine::backup::{AlreadyRunning, BACKUP_LOCK, Backups, Database, Targets};
use cantine::platform::config::BackupConfig;
use cantine_backup::{KeepPolicy, SnapshotSelector, Target};
use cantine_test_support::{self as testing, TestApp, TestDb};
use tempfile::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_cantine");

/// A test database with its backups: a data folder, a local repository, the password.
struct Fixture {
    dir: TempDir,
    db: TestDb,
    backups: Backups,
}

impl Fixture {
    async fn new() -> Self {
        let db = testing::database().await;
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("restic-password"),
            "correct horse battery\n",
        )
        .unwrap();
        let local = Target::new(
            "local",
            dir.path().join("local-repo").to_str().unwrap(),
            dir.path().join("restic-password"),
        );
        let backups = Backups {
            settings: BackupConfig {
                host: "mairie-test".to_owned(),
                temp_dir: dir.path().join("data/backup-tmp"),
                keep: KeepPolicy::default(),
                targets: vec![local],
            },
            data_dir: dir.path().join("data"),
            database: Database::in_cluster(testing::cluster(), &db.name),
            config_files: Vec::new(),
        };
        Self { dir, db, backups }
    }

    fn targets(&self) -> Targets {
        Targets::Configured(self.backups.settings.targets.clone())
    }

    fn local(&self) -> &Target {
        &self.backups.settings.targets[0]
    }

    /// The Techniville demo, through the domain: families, enrollments, a year of bookings.
    async fn populate(&self) {
        let config = testing::config();
        let rules = cantine::platform::rules(&config, chrono::Utc::now());
        cantine::demo::seed(
            &self.db.pool,
            &rules,
            Some("demo-password-1234".into()),
            None,
        )
        .await
        .unwrap();
    }

    /// `pg_dump --format=plain --no-owner` of the current database, without the lines that
    /// carry versions or a per-run key.
    fn plain_dump(&self) -> String {
        let output = self
            .backups
            .database
            .plain_dump_command(&self.db.name)
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .filter(|line| {
                !line.starts_with("-- Dumped from")
                    && !line.starts_with("-- Dumped by")
                    && !line.starts_with("\\restrict")
                    && !line.starts_with("\\unrestrict")
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// A configuration file for the `cantine` binary: this data folder, the test database
    /// (through the cluster's socket, as `database.url`), the configured targets.
    fn write_config(&self) -> PathBuf {
        let mut text = format!(
            "data_dir = \"{}\"\n\
             [database]\nurl = \"postgresql://cantine@{}/{}\"\n\
             [backup]\nhost = \"mairie-test\"\n",
            self.backups.data_dir.display(),
            url_host(&testing::cluster().socket_dir()),
            self.db.name,
        );
        for target in &self.backups.settings.targets {
            text.push_str(&format!(
                "[[backup.targets]]\nname = \"{}\"\nrepository = \"{}\"\npassword_file = \"{}\"\nappend_only = {}\n",
                target.name,
                target.repository,
                target.password_file.display(),
                target.append_only,
            ));
            for (key, file) in [
                ("rest_password_file", &target.rest_password_file),
                ("ca_cert", &target.ca_cert),
            ] {
                if let Some(file) = file {
                    text.push_str(&format!("{key} = \"{}\"\n", file.display()));
                }
            }
        }
        let path = self.dir.path().join("cantine.toml");
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Runs the `cantine` binary with the configuration written by `write_config`.
    fn cantine(&self, args: &[&str]) -> std::process::Output {
        Command::new(BIN)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap())
            .env("CANTINE_LOG", "warn")
            .arg("--config")
            .arg(self.dir.path().join("cantine.toml"))
            .args(args)
            .output()
            .unwrap()
    }

    /// `/metrics` of the application serving this data folder.
    async fn metrics(&self) -> String {
        let app = TestApp::builder()
            .pool(self.db.pool.clone())
            .data_dir(&self.backups.data_dir)
            .spawn()
            .await;
        reqwest::get(app.url("/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }
}

async fn bookings(pool: &sqlx::PgPool) -> BTreeSet<(i64, chrono::NaiveDate, bool)> {
    sqlx::query_as("select child_id, service_date, booked from reservation")
        .fetch_all(pool)
        .await
        .unwrap()
        .into_iter()
        .collect()
}

/// Every change to a reservation: who, when, from what to what.
async fn events(pool: &sqlx::PgPool) -> Vec<(i64, i64, chrono::NaiveDate, bool, String)> {
    sqlx::query_as(
        "select id, child_id, service_date, new_booked, source from reservation_event order by id",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

fn snapshot_count(target: &Target) -> usize {
    cantine_backup::list_snapshots(target).unwrap().len()
}

async fn snapshots(target: &Target) -> usize {
    let target = target.clone();
    tokio::task::spawn_blocking(move || snapshot_count(&target))
        .await
        .unwrap()
}

/// The value of a metric line `name{target="…"} value`, if exported.
fn metric(text: &str, name: &str, target: &str) -> Option<f64> {
    let prefix = format!("{name}{{target=\"{target}\"}} ");
    text.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .map(|v| v.parse().unwrap())
}

async fn admin() -> sqlx::PgConnection {
    use sqlx::Connection;
    sqlx::PgConnection::connect_with(&testing::cluster().connect_options("postgres"))
        .await
        .unwrap()
}

async fn databases_like(db: &TestDb, pattern: &str) -> Vec<String> {
    let mut admin = admin().await;
    sqlx::query_scalar("select datname from pg_database where datname like $1")
        .bind(format!("{}{pattern}", db.name.replace('_', "\\_")))
        .fetch_all(&mut admin)
        .await
        .unwrap()
}

#[tokio::test]
async fn backup_then_restore_gives_a_database_whose_dump_is_identical() {
    let fixture = Fixture::new().await;
    fixture.populate().await;
    let before = fixture.plain_dump();
    assert!(
        before.contains("COPY public.reservation"),
        "the dump holds data"
    );

    let report = fixture.backups.now(&fixture.targets()).await.unwrap();
    assert_eq!(report.failures(), 0, "{report:?}");
    // The restore refuses while a session uses the database (here the test's pool).
    let refused = fixture
        .backups
        .restore(fixture.local(), &SnapshotSelector::Latest)
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("session"), "{refused:#}");
    fixture.db.pool.close().await;

    let outcome = fixture
        .backups
        .restore(fixture.local(), &SnapshotSelector::Latest)
        .await
        .unwrap();
    assert_eq!(fixture.plain_dump(), before);
    let previous = outcome.previous.expect("the replaced database is kept");
    assert_eq!(
        databases_like(&fixture.db, "\\_previous\\_%").await,
        std::slice::from_ref(&previous)
    );

    let dropped = fixture.backups.confirm_restore().await.unwrap();
    assert_eq!(dropped, [previous]);
    assert!(
        databases_like(&fixture.db, "\\_previous\\_%")
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn a_pg_dump_killed_midway_leaves_no_snapshot_and_raises_the_alert_metric() {
    let mut fixture = Fixture::new().await;
    fixture.backups.now(&fixture.targets()).await.unwrap();
    assert_eq!(snapshots(fixture.local()).await, 1);
    let metrics = fixture.metrics().await;
    assert_eq!(
        metric(&metrics, "cantine_backup_last_run_success", "local"),
        Some(1.0)
    );
    let succeeded = metric(
        &metrics,
        "cantine_backup_last_success_timestamp_seconds",
        "local",
    )
    .expect("success time exported");
    assert!(metric(&metrics, "cantine_backup_last_size_bytes", "local").unwrap() > 0.0);
    assert!(metric(&metrics, "cantine_backup_last_duration_seconds", "local").is_some());

    // The real pg_dump, cut off after 2 KiB by its own death.
    let wrapper = fixture.dir.path().join("pg_dump-killed");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\n\"{}\" \"$@\" | head -c 2048\nkill -KILL $$\n",
            fixture.backups.database.tools.pg_dump.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(
        &wrapper,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    fixture.backups.database.tools.pg_dump = wrapper;
    let err = fixture.backups.now(&fixture.targets()).await.unwrap_err();
    assert!(format!("{err:#}").contains("dump"), "{err:#}");

    assert_eq!(snapshots(fixture.local()).await, 1, "no new snapshot");
    let metrics = fixture.metrics().await;
    assert_eq!(
        metric(&metrics, "cantine_backup_last_run_success", "local"),
        Some(0.0),
        "{metrics}"
    );
    assert!(
        metric(
            &metrics,
            "cantine_backup_last_failure_timestamp_seconds",
            "local"
        )
        .unwrap()
            >= succeeded
    );
    assert_eq!(
        metric(
            &metrics,
            "cantine_backup_last_success_timestamp_seconds",
            "local"
        ),
        Some(succeeded),
        "the last good backup is still known"
    );
    // Nothing left behind in the temporary folder.
    let left: Vec<PathBuf> = std::fs::read_dir(&fixture.backups.settings.temp_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// The second site as the appliance meets it: `rclone serve restic --append-only
/// --private-repos` on a free loopback port, over TLS (a test CA signs its certificate) with
/// an htpasswd user. The appliance can write there but never delete. Stopped on drop.
struct SecondSite {
    dir: TempDir,
    child: Child,
    port: u16,
}

/// A CA, a server certificate it signs for 127.0.0.1 (rustls refuses a self-signed
/// certificate that is also a CA) and the htpasswd entry of user `cantine`.
const MAKE_SITE: &str = r#"set -e
ec="-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
openssl req -x509 $ec -keyout ca.key -out ca.pem -days 2 -subj "/CN=Cantine test CA" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
openssl req $ec -keyout server.key -out server.csr -subj /CN=127.0.0.1
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n' > server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem \
    -days 2 -extfile server.ext
printf 'cantine:%s\n' "$(openssl passwd -apr1 "$(cat http-password)")" > htpasswd
: > rclone.conf
"#;

impl SecondSite {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let http_password = format!("{:032x}", rand::random::<u128>());
        std::fs::write(dir.path().join("http-password"), &http_password).unwrap();
        let made = Command::new("sh")
            .args(["-c", MAKE_SITE])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(made.status.success(), "{made:?}");
        let mut child = Command::new("rclone")
            .args(["serve", "restic", "--addr", "127.0.0.1:0"])
            .args(["--append-only", "--private-repos"])
            .args([
                "--htpasswd",
                "htpasswd",
                "--cert",
                "server.pem",
                "--key",
                "server.key",
            ])
            .arg("data")
            .current_dir(dir.path())
            .env("RCLONE_CONFIG", dir.path().join("rclone.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("rclone (Debian package `rclone`)");
        let mut log = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        let port = loop {
            line.clear();
            assert!(log.read_line(&mut line).unwrap() > 0, "rclone exited");
            if let Some(at) = line.find("https://127.0.0.1:") {
                let digits: String = line[at + 18..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                break digits.parse().unwrap();
            }
        };
        std::thread::spawn(move || std::io::copy(&mut log, &mut std::io::sink()));
        Self { dir, child, port }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn target(&self, password_file: &Path) -> Target {
        let mut target = Target::new(
            "second-site",
            format!(
                "rest:https://cantine@127.0.0.1:{}/cantine/mairie/",
                self.port
            ),
            password_file,
        );
        target.rest_password_file = Some(self.path("http-password"));
        target.ca_cert = Some(self.path("ca.pem"));
        target.append_only = true;
        target
    }
}

impl Drop for SecondSite {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn ransomware_drill_restores_every_booking_from_the_second_site_alone() {
    let site = SecondSite::start();
    let mut fixture = Fixture::new().await;
    let second = site.target(&fixture.dir.path().join("restic-password"));
    let init = second.clone();
    tokio::task::spawn_blocking(move || cantine_backup::init(&init).unwrap())
        .await
        .unwrap();
    fixture.backups.settings.targets.push(second.clone());
    fixture.populate().await;
    let committed = bookings(&fixture.db.pool).await;
    let history = events(&fixture.db.pool).await;
    assert!(
        committed.len() > 1000,
        "a year of bookings: {}",
        committed.len()
    );

    let report = fixture.backups.now(&fixture.targets()).await.unwrap();
    assert_eq!(report.failures(), 0, "{report:?}");

    // The attack: the database and the local repository are gone.
    fixture.db.pool.close().await;
    let mut admin = admin().await;
    sqlx::query(&format!("drop database {}", fixture.db.name))
        .execute(&mut admin)
        .await
        .unwrap();
    std::fs::remove_dir_all(fixture.dir.path().join("local-repo")).unwrap();

    // A freshly imported appliance, no target configured: the runbook's command, with the
    // second site given by `--repo`.
    fixture.backups.settings.targets.clear();
    fixture.write_config();
    let output = fixture.cantine(&[
        "backup",
        "restore",
        "--repo",
        &second.repository,
        "--password-file",
        second.password_file.to_str().unwrap(),
        "--rest-password-file",
        site.path("http-password").to_str().unwrap(),
        "--ca-cert",
        site.path("ca.pem").to_str().unwrap(),
        "--snapshot",
        "latest",
    ]);
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("there was no previous database"),
        "{stdout}"
    );
    let pool = fixture
        .backups
        .database
        .pool(&fixture.db.name)
        .await
        .unwrap();
    assert_eq!(bookings(&pool).await, committed);
    assert_eq!(events(&pool).await, history, "and the history of each day");
    cantine::platform::db::readiness(&pool)
        .await
        .expect("migrated and ready");
    pool.close().await;
}

#[tokio::test]
async fn check_and_restore_drill_pass_on_a_good_backup_and_their_results_are_exported() {
    let mut fixture = Fixture::new().await;
    // A second repository that holds no snapshot: its drill must fail, and say so.
    let mut empty = Target::new(
        "empty",
        fixture.dir.path().join("empty-repo").to_str().unwrap(),
        fixture.dir.path().join("restic-password"),
    );
    empty.append_only = true;
    let init = empty.clone();
    tokio::task::spawn_blocking(move || cantine_backup::init(&init).unwrap())
        .await
        .unwrap();
    fixture.populate().await;
    let report = fixture.backups.now(&fixture.targets()).await.unwrap();
    assert_eq!(report.failures(), 0, "{report:?}");
    let checked = fixture
        .backups
        .check(&fixture.targets(), true)
        .await
        .unwrap();
    assert!(checked[0].1.as_ref().unwrap().is_ok(), "{checked:?}");
    fixture.backups.settings.targets.push(empty);

    let reports = fixture.backups.drill(&fixture.targets()).await;
    assert_eq!(reports.len(), 2);
    assert!(reports[0].passed(), "{}", reports[0].summary());
    let names: Vec<&str> = reports[0].checks.iter().map(|c| c.name).collect();
    assert_eq!(
        names,
        [
            "schema version",
            "row counts",
            "reservations match their history"
        ]
    );
    assert!(!reports[1].passed());
    assert!(databases_like(&fixture.db, "\\_drill\\_%").await.is_empty());

    let metrics = fixture.metrics().await;
    assert_eq!(
        metric(&metrics, "cantine_backup_drill_last_run_success", "local"),
        Some(1.0),
        "{metrics}"
    );
    assert!(
        metric(
            &metrics,
            "cantine_backup_drill_last_success_timestamp_seconds",
            "local"
        )
        .is_some()
    );
    assert!(
        metric(
            &metrics,
            "cantine_backup_check_last_success_timestamp_seconds",
            "local"
        )
        .is_some(),
        "{metrics}"
    );
    assert_eq!(
        metric(&metrics, "cantine_backup_drill_last_run_success", "empty"),
        Some(0.0)
    );
    assert_eq!(
        metric(
            &metrics,
            "cantine_backup_drill_last_success_timestamp_seconds",
            "empty"
        ),
        None
    );
}

#[tokio::test]
async fn a_drill_notices_a_reservation_that_disagrees_with_its_history() {
    let fixture = Fixture::new().await;
    fixture.populate().await;
    // Damage as a lost half-transaction would: a day's state without its event.
    sqlx::query(
        "update reservation set booked = not booked
         where (child_id, service_date) = (select child_id, service_date from reservation limit 1)",
    )
    .execute(&fixture.db.pool)
    .await
    .unwrap();
    fixture.backups.now(&fixture.targets()).await.unwrap();
    let reports = fixture.backups.drill(&fixture.targets()).await;
    assert!(!reports[0].passed());
    let failed: Vec<&str> = reports[0]
        .checks
        .iter()
        .filter(|c| !c.ok)
        .map(|c| c.name)
        .collect();
    assert_eq!(failed, ["reservations match their history"]);
}

#[tokio::test]
async fn two_backups_at_once_one_runs_the_other_refuses() {
    let fixture = Fixture::new().await;
    let targets = fixture.targets();
    let (first, second) =
        tokio::join!(fixture.backups.now(&targets), fixture.backups.now(&targets));
    let (done, refused) = match (first, second) {
        (Ok(done), Err(refused)) | (Err(refused), Ok(done)) => (done, refused),
        other => panic!("exactly one backup should run: {other:?}"),
    };
    assert_eq!(done.failures(), 0);
    assert!(
        refused.downcast_ref::<AlreadyRunning>().is_some(),
        "{refused:#}"
    );
    assert_eq!(snapshots(fixture.local()).await, 1);

    // The command line, while a run holds the lock: refused, non-zero, and it says why.
    let config = fixture.write_config();
    // A drop-in, as the appliance's first boot writes, and a leftover that is not one.
    let drop_ins = fixture.dir.path().join("cantine.toml.d");
    std::fs::create_dir(&drop_ins).unwrap();
    let drop_in = drop_ins.join("50-backup.toml");
    std::fs::write(&drop_in, "[backup]\nhost = \"mairie-test\"\n").unwrap();
    std::fs::write(drop_ins.join("40-old.toml.dpkg-old"), "not read\n").unwrap();
    let cantine = |args: &[&str]| fixture.cantine(args);
    let held = FileLock::try_acquire(&fixture.backups.data_dir.join(BACKUP_LOCK)).unwrap();
    let output = cantine(&["backup", "now"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("another backup is running"), "{stderr}");
    drop(held);

    let output = cantine(&["backup", "now", "--target", "local"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    assert!(stdout.contains("local: snapshot"), "{stdout}");
    let output = cantine(&["backup", "list"]);
    assert!(output.status.success(), "{output:?}");
    let listed = String::from_utf8_lossy(&output.stdout);
    assert_eq!(listed.matches("mairie-test").count(), 2, "{listed}");
    // The configuration file and its drop-in travel with the dump; the leftover does not.
    assert_eq!(snapshots(fixture.local()).await, 2);
    let restore = |path: &'static str| {
        let local = fixture.local().clone();
        tokio::task::spawn_blocking(move || {
            let mut restored = Vec::new();
            cantine_backup::restore_stream(&local, &SnapshotSelector::Latest, path, &mut restored)
                .map(|_| restored)
        })
    };
    let main = restore(cantine::backup::CONFIG_SNAPSHOT_PATH)
        .await
        .unwrap();
    assert_eq!(main.unwrap(), std::fs::read(&config).unwrap());
    let stored = restore("/cantine/config/cantine.toml.d/50-backup.toml")
        .await
        .unwrap();
    assert_eq!(stored.unwrap(), std::fs::read(&drop_in).unwrap());
    let leftover = restore("/cantine/config/cantine.toml.d/40-old.toml.dpkg-old")
        .await
        .unwrap();
    assert!(
        matches!(
            leftover,
            Err(cantine_backup::Error::SnapshotNotFound { .. })
        ),
        "{leftover:?}"
    );
}

/// A socket folder as the host of a `postgresql://` URL.
fn url_host(socket_dir: &Path) -> String {
    socket_dir
        .to_str()
        .unwrap()
        .replace('%', "%25")
        .replace('/', "%2F")
}

/// The script of a unit's `ExecStopPost=`, with the installed paths replaced by this
/// build's binary and the fixture's configuration.
fn stop_post_script(unit: &str, config: &Path) -> String {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("debian")
            .join(unit),
    )
    .unwrap();
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("ExecStopPost=/bin/sh -c '"))
        .expect("an ExecStopPost= shell line");
    line.strip_suffix('\'')
        .unwrap()
        .replace("$$", "$")
        .replace("/usr/bin/cantine", BIN)
        .replace("/etc/cantine/cantine.toml", config.to_str().unwrap())
}

#[tokio::test]
async fn a_backup_killed_by_systemd_is_recorded_as_failed_by_the_units_hook() {
    let fixture = Fixture::new().await;
    fixture.backups.now(&fixture.targets()).await.unwrap();
    let config = fixture.write_config();
    let script = stop_post_script("cantine-backup.service", &config);
    let run_hook = |result: &str| {
        // A clean environment, as systemd gives: `make test` exports CANTINE_DATA_DIR, which
        // would send the record elsewhere.
        let output = Command::new("sh")
            .args(["-c", &script])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap())
            .env("SERVICE_RESULT", result)
            .env("CANTINE_LOG", "off")
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
    };

    // A run that exited with an error recorded its own failure: the hook leaves it.
    run_hook("exit-code");
    let metrics = fixture.metrics().await;
    assert_eq!(
        metric(&metrics, "cantine_backup_last_run_success", "local"),
        Some(1.0)
    );

    // Killed at the timeout, it could not: the hook does.
    run_hook("timeout");
    let metrics = fixture.metrics().await;
    assert_eq!(
        metric(&metrics, "cantine_backup_last_run_success", "local"),
        Some(0.0),
        "{metrics}"
    );
    assert!(
        metric(
            &metrics,
            "cantine_backup_last_failure_timestamp_seconds",
            "local"
        )
        .is_some()
    );
    for (unit, run) in [
        ("cantine-backup-check.service", "check"),
        ("cantine-backup-drill.service", "drill"),
    ] {
        assert!(
            stop_post_script(unit, &config).contains(&format!(
                "record-failure --config {} {run} ",
                config.display()
            )),
            "{unit}"
        );
    }
}
