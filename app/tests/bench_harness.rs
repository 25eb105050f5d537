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

/// The billing scenario of `make bench`, tiny: each scale's database is made, seeded, billed,
/// issued and dropped, and every line kind the seed planned is what the draft holds.
#[tokio::test]
async fn the_billing_scenario_bills_every_planned_day_at_two_scales() {
    let data = tempfile::Builder::new()
        .prefix("cantine-bench-billing-")
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
    let year = seed::current_year(cantine_bench::today()).unwrap();
    let report = cantine_bench::billing::run(
        &data.path().join("pg/run"),
        year,
        &cantine_bench::billing::Options {
            children: 60,
            scales: vec![1, 2],
            limit_s: 60.0,
            keep: false,
        },
    )
    .await
    .unwrap();
    assert_eq!(report.wrong, 0, "{report:#?}");
    assert!(report.within_limit, "{report:#?}");
    assert_eq!(report.scales.len(), 2);
    let (one, two) = (&report.scales[0], &report.scales[1]);
    assert_eq!((one.commune.children, two.commune.children), (60, 120));
    for scale in [one, two] {
        assert!(scale.invoices > 0 && scale.total_cents > 0, "{scale:#?}");
        for kind in [
            "meal",
            "no_show",
            "unbooked",
            "late_absence",
            "illness_carence",
            "closure",
        ] {
            assert!(
                scale.lines_by_kind.get(kind).copied().unwrap_or(0) > 0,
                "no {kind} line at {}x: {:?}",
                scale.scale,
                scale.lines_by_kind
            );
        }
    }
    assert!(report.ratios_to_1x.contains_key("2x"));
}
