//! The real `cantine` binary as a test starts it: a clean environment (never the host's
//! configuration), its own data folder, and a port the system picks.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// `bin` (the test's `env!("CARGO_BIN_EXE_cantine")`) with only `PATH` from the environment.
pub fn command(bin: &str, data_dir: &Path) -> Command {
    let mut cmd = Command::new(bin);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").expect("PATH is set"))
        .env("CANTINE_CONFIG", "/dev/null")
        .env("CANTINE_DATA_DIR", data_dir)
        .env("CANTINE_LISTEN", "127.0.0.1:0")
        .env("CANTINE_LOG", "info");
    cmd
}

/// Runs `command serve` and answers the child with its base URL, read from the address it logs
/// once listening (within two minutes: the private PostgreSQL may be initialised first).
pub fn serve(mut command: Command) -> (Child, String) {
    let mut child = command
        .arg("serve")
        .stderr(Stdio::piped())
        .spawn()
        .expect("cantine serve starts");
    let stderr = BufReader::new(child.stderr.take().expect("piped stderr"));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            if let Some(rest) = line.split("address=").nth(1)
                && let Some(address) = rest.split_whitespace().next()
            {
                let _ = tx.send(address.to_owned());
            }
        }
    });
    let address = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("cantine serve logs its address");
    (child, format!("http://{address}"))
}
