//! Kitchen counts as the kitchen reads them: a `kitchen` member signed in over HTTP (password
//! and TOTP) asks `kitchenCounts` for the next 5 service days of every school, again and
//! again; every answer must hold 5 days of every school.

use std::collections::BTreeSet;
use std::time::Instant;

use anyhow::{Context, bail};
use cantine_domain::roles::Role;
use serde::Serialize;
use sqlx::PgPool;

use crate::seed;
use crate::stats::{Latencies, Summary};

const KITCHEN: &str = "cuisine@bench.test";
const SECRET: &[u8; 20] = b"cantine-bench-kitche";

#[derive(Debug, Serialize)]
pub struct KitchenReport {
    pub schools: usize,
    pub requests: usize,
    /// The service days each answer covers.
    pub days: usize,
    /// School-days in an answer (schools × days).
    pub rows: usize,
    /// Meals in an answer, all kinds and days.
    pub meals: i64,
    pub latency: Summary,
    /// Answers without 5 days of every school: must be 0.
    pub wrong: usize,
}

pub async fn run(base_url: &str, pool: &PgPool, requests: usize) -> anyhow::Result<KitchenReport> {
    let schools: i64 = sqlx::query_scalar("select count(*) from school")
        .fetch_one(pool)
        .await?;
    if schools == 0 {
        bail!("seed the commune first");
    }
    // The search's sign-in, as a kitchen member (a second account: its TOTP step is its own).
    let client = seed::signed_in_staff(
        pool,
        base_url,
        KITCHEN,
        ("Cuisine", "Bench"),
        Role::Kitchen,
        &[],
        SECRET,
    )
    .await?;
    const DAYS: usize = 5;
    let mut latencies = Latencies::default();
    let (mut wrong, mut rows, mut meals) = (0, 0, 0);
    for _ in 0..requests {
        let started = Instant::now();
        let response = client
            .get(format!("{base_url}/api/v1/staff/kitchen/counts"))
            .query(&[("days", DAYS)])
            .send()
            .await?;
        let status = response.status();
        let answer: Vec<serde_json::Value> = response
            .json()
            .await
            .with_context(|| format!("kitchenCounts: {status}"))?;
        latencies.record(started.elapsed());
        let dates: BTreeSet<&str> = answer.iter().filter_map(|d| d["date"].as_str()).collect();
        if dates.len() != DAYS || answer.len() != DAYS * schools as usize {
            wrong += 1;
        }
        rows = answer.len();
        meals = answer
            .iter()
            .map(|d| d["live"]["total"].as_i64().unwrap_or(0))
            .sum();
    }
    Ok(KitchenReport {
        schools: schools as usize,
        requests,
        days: DAYS,
        rows,
        meals,
        latency: latencies.summary(),
        wrong,
    })
}
