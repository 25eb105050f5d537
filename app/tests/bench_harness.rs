//! The `make bench` harness, run small: the real `cantine serve` with its private PostgreSQL,
//! the generated commune, a manager's household searches, and a rush of parents through the
//! JSON API. Not timed: it checks that
//! the bench still runs and that every change the server acknowledged is the database's final
//! state with its history event, in order.

use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use cantine_bench::{rush, seed, verify};
use cantine_test_support::process;

const BIN: &str = env!("CARGO_BIN_EXE_cantine");

struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(self.0.id().to_string()).status();
        let _ = self.0.wait();
    }
}

fn serve(data_dir: &Path) -> (Served, String) {
    let (child, url) = process::serve(process::command(BIN, data_dir));
    (Served(child), url)
}

#[tokio::test]
async fn after_a_small_rush_every_acknowledged_change_is_stored_with_its_history() {
    let data = tempfile::Builder::new()
        .prefix("cantine-bench-harness-")
        .tempdir()
        .unwrap();
    let (_served, base_url) = serve(data.path());
    let started = Instant::now();
    while reqwest::get(format!("{base_url}/readyz"))
        .await
        .map(|r| r.status().as_u16())
        .ok()
        != Some(200)
    {
        assert!(started.elapsed() < Duration::from_secs(60), "never ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let pool = cantine_bench::connect(&data.path().join("pg/run"))
        .await
        .unwrap();
    let today = cantine_bench::today();
    let year = seed::current_year(today).unwrap();
    let size = seed::Size {
        children: 60,
        households: 36,
        schools: 3,
    };
    seed::seed(&pool, size, year).await.unwrap();

    let (from, to) = rush::month_ahead(today, year).unwrap();
    // The household search a manager runs: every answer holds the household asked for.
    let searched = cantine_bench::search::run(&base_url, &pool, 10)
        .await
        .unwrap();
    assert_eq!(searched.queries, 30);
    assert_eq!(searched.wrong, 0, "{searched:?}");

    let report = rush::run(rush::RushConfig {
        base_url,
        parents: 36,
        concurrency: 8,
        password: seed::PASSWORD.to_owned(),
        from,
        to,
    })
    .await
    .unwrap();
    assert_eq!(report.login.errors, 0, "{:?}", report.error_samples);
    assert_eq!(report.changes.errors, 0, "{:?}", report.error_samples);
    assert_eq!(report.children, 60);
    assert!(
        report.acks.len() > 60,
        "the month has open days to change: {} acknowledged",
        report.acks.len()
    );
    assert!(report.acks.iter().any(|a| a.source == "pattern"));

    let verified = verify::check(&pool, &report.acks).await.unwrap();
    assert!(verified.ok(), "{:#?}", verified);
    assert_eq!(verified.events, report.acks.len());
}
