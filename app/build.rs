//! Stamps the commit into the binary for `cantine_build_info`. A build outside a git checkout
//! (a source tarball) may pass `CANTINE_COMMIT` instead.

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=CANTINE_COMMIT");
    let git_dir = Path::new("../.git");
    if git_dir.join("HEAD").exists() {
        println!("cargo:rerun-if-changed=../.git/HEAD");
        if let Ok(head) = std::fs::read_to_string(git_dir.join("HEAD"))
            && let Some(reference) = head.trim().strip_prefix("ref: ")
        {
            println!("cargo:rerun-if-changed=../.git/{reference}");
        }
    }
    let commit = std::env::var("CANTINE_COMMIT").ok().or_else(|| {
        Command::new("git")
            .args(["rev-parse", "--short=12", "HEAD"])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    });
    println!(
        "cargo:rustc-env=CANTINE_COMMIT={}",
        commit.unwrap_or_else(|| "unknown".to_owned())
    );
}
