//! Real repositories for the tests: local ones in temporary directories, a second site
//! served by `rclone serve restic` over TLS, and the `restic` CLI.

use std::{
    fs,
    io::{BufRead, BufReader, Read, Write},
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
};

use std::sync::OnceLock;

use cantine_backup::{SnapshotInfo, Target, list_snapshots};
use tempfile::TempDir;

/// A local repository shared by the tests of this binary, each writing under its own host
/// name: creating a repository costs a key derivation, about 10 s in a debug build.
pub fn shared_repo() -> &'static LocalRepo {
    static SHARED: OnceLock<LocalRepo> = OnceLock::new();
    // Statics are never dropped: keep the directory under Cargo's scratch space for
    // integration tests rather than leaking it into /tmp.
    SHARED.get_or_init(|| {
        let parent = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cantine-backup-shared");
        fs::create_dir_all(&parent).expect("scratch dir");
        remove_leftovers_of_dead_runs(&parent);
        let repo = LocalRepo::new_in("shared", &parent.join(std::process::id().to_string()));
        cantine_backup::open(&repo.target).expect("create the shared repository");
        repo
    })
}

/// Earlier runs' shared repositories, named by process id, once those processes are gone.
fn remove_leftovers_of_dead_runs(parent: &Path) {
    for entry in fs::read_dir(parent).expect("scratch dir").flatten() {
        let name = entry.file_name();
        let alive = name
            .to_str()
            .and_then(|pid| pid.parse::<u32>().ok())
            .is_some_and(|pid| Path::new(&format!("/proc/{pid}")).exists());
        if !alive {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// The snapshots of `target` made under host name `host`, oldest first.
pub fn snapshots_of(target: &Target, host: &str) -> Vec<SnapshotInfo> {
    list_snapshots(target)
        .unwrap()
        .into_iter()
        .filter(|s| s.host == host)
        .collect()
}

/// A scratch directory holding one local repository and its password file.
pub struct LocalRepo {
    pub dir: TempDir,
    pub target: Target,
}

impl LocalRepo {
    pub fn new(name: &str) -> Self {
        Self::new_in(name, &std::env::temp_dir())
    }

    pub fn new_in(name: &str, parent: &Path) -> Self {
        fs::create_dir_all(parent).expect("scratch dir");
        let dir = tempfile::tempdir_in(parent).expect("temp dir");
        let password_file = dir.path().join("repo-password");
        write_secret(&password_file, &random_hex(16));
        let target = Target::new(
            name,
            dir.path().join("repo").to_str().expect("utf-8 temp dir"),
            password_file,
        );
        Self { dir, target }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn repo_dir(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    /// This repository's target with a wrong password, whose file lives in `scratch`.
    pub fn with_wrong_password(&self, scratch: &Path) -> Target {
        let mut target = self.target.clone();
        target.password_file = scratch.join("wrong-password");
        write_secret(&target.password_file, "not-the-password");
        target
    }
}

/// A scratch directory for a test's input files.
pub fn scratch() -> TempDir {
    tempfile::tempdir().expect("temp dir")
}

pub fn write_secret(path: &Path, secret: &str) {
    fs::write(path, format!("{secret}\n")).expect("write secret");
}

/// Random hex from the kernel, so no credential is ever committed.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .expect("urandom");
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// Incompressible, reproducible bytes (xorshift), so a test can compare what it gets
/// back with what it stored.
pub fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A command that prints the file, standing in for `pg_dump`.
pub fn cat(path: &Path) -> Command {
    let mut command = Command::new("cat");
    command.arg(path);
    command
}

pub fn sh(script: &str) -> Command {
    let mut command = Command::new("sh");
    command.args(["-c", script]);
    command
}

/// The restic CLI on a target's repository, without a cache in the home directory.
pub fn restic(target: &Target, args: &[&str]) -> Output {
    let mut command = Command::new("restic");
    command
        .args([
            "--no-cache",
            "--quiet",
            "-r",
            &target.repository,
            "--password-file",
        ])
        .arg(&target.password_file)
        .args(args)
        .stdin(Stdio::null());
    if let Some(ca) = &target.ca_cert {
        command.arg("--cacert").arg(ca);
    }
    command
        .output()
        .expect("run restic (Debian package `restic`)")
}

pub fn ok(output: Output) -> Output {
    assert!(
        output.status.success(),
        "command failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

pub fn ids(snapshots: &[SnapshotInfo]) -> Vec<String> {
    snapshots.iter().map(|s| s.id.clone()).collect()
}

/// A second site: `rclone serve restic --append-only --private-repos` on a free loopback
/// port, with htpasswd credentials and TLS from a test CA. Stopped on drop.
pub struct SecondSite {
    pub dir: TempDir,
    pub port: u16,
    pub user: String,
    pub http_password: String,
    pub ca_cert: PathBuf,
    child: Child,
}

impl SecondSite {
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let p = |name: &str| dir.path().join(name);
        make_ca_and_server_cert(dir.path());

        let user = "cantine".to_owned();
        let http_password = random_hex(12);
        let hash = run_ok(Command::new("openssl").args(["passwd", "-apr1", &http_password]));
        fs::write(
            p("htpasswd"),
            format!("{user}:{}\n", String::from_utf8_lossy(&hash.stdout).trim()),
        )
        .expect("htpasswd");
        fs::create_dir(p("data")).expect("data dir");
        fs::write(p("rclone.conf"), "").expect("rclone.conf");

        let mut child = Command::new("rclone")
            .args(["serve", "restic", "--addr", "127.0.0.1:0"])
            .args(["--append-only", "--private-repos"])
            .arg("--htpasswd")
            .arg(p("htpasswd"))
            .arg("--cert")
            .arg(p("server.pem"))
            .arg("--key")
            .arg(p("server.key"))
            .arg(p("data"))
            .env("RCLONE_CONFIG", p("rclone.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start rclone (Debian package `rclone`)");

        // rclone logs the address it bound once it listens: read up to that line, then
        // keep draining its log in the background so it never blocks on a full pipe.
        let mut log = BufReader::new(child.stderr.take().expect("stderr"));
        let mut port = None;
        let mut seen = String::new();
        let mut line = String::new();
        while port.is_none() {
            line.clear();
            if log.read_line(&mut line).expect("rclone log") == 0 {
                let _ = child.kill();
                let _ = child.wait();
                panic!("rclone exited before serving: {seen}");
            }
            seen.push_str(&line);
            if let Some(at) = line.find("https://127.0.0.1:") {
                let rest = &line[at + "https://127.0.0.1:".len()..];
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                port = digits.parse().ok();
            }
        }
        std::thread::spawn(move || std::io::copy(&mut log, &mut std::io::sink()));

        Self {
            port: port.expect("port"),
            user,
            http_password,
            ca_cert: p("ca.pem"),
            dir,
            child,
        }
    }

    pub fn base_url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    /// A target for repository `repo` of the site's user, the HTTP password in a file
    /// and the test CA trusted.
    pub fn target(&self, local: &LocalRepo, repo: &str) -> Target {
        let rest_password_file = local.path("rest-password");
        write_secret(&rest_password_file, &self.http_password);
        let mut target = Target::new(
            "second-site",
            format!(
                "rest:https://{}@127.0.0.1:{}/{}/{repo}/",
                self.user, self.port, self.user
            ),
            local.target.password_file.clone(),
        );
        target.rest_password_file = Some(rest_password_file);
        target.ca_cert = Some(self.ca_cert.clone());
        target.append_only = true;
        target
    }

    /// The same repository with the password inline, as the restic CLI takes it.
    pub fn restic_url(&self, repo: &str) -> String {
        format!(
            "rest:https://{}:{}@127.0.0.1:{}/{}/{repo}/",
            self.user, self.http_password, self.port, self.user
        )
    }

    pub fn repo_dir(&self, repo: &str) -> PathBuf {
        self.dir.path().join("data").join(&self.user).join(repo)
    }
}

impl Drop for SecondSite {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A CA and a server certificate it signs for 127.0.0.1: rustls refuses a self-signed
/// certificate that is also a CA (`CaUsedAsEndEntity`).
fn make_ca_and_server_cert(dir: &Path) {
    let openssl = |args: &[&str]| {
        run_ok(Command::new("openssl").args(args).current_dir(dir));
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    openssl(
        &[
            &["req", "-x509"][..],
            &ec,
            &["-keyout", "ca.key", "-out", "ca.pem", "-days", "2"],
            &["-subj", "/CN=Cantine test CA"],
            &["-addext", "basicConstraints=critical,CA:TRUE"],
            &["-addext", "keyUsage=critical,keyCertSign,cRLSign"],
        ]
        .concat(),
    );
    openssl(
        &[
            &["req"][..],
            &ec,
            &["-keyout", "server.key", "-out", "server.csr"],
            &["-subj", "/CN=127.0.0.1"],
        ]
        .concat(),
    );
    let mut ext = fs::File::create(dir.join("server.ext")).expect("ext file");
    writeln!(
        ext,
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n\
         extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost"
    )
    .expect("ext file");
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "server.ext",
    ]);
}

fn run_ok(command: &mut Command) -> Output {
    let output = command.stdin(Stdio::null()).output().expect("run command");
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}
