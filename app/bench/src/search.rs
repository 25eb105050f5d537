//! Household search as the town hall uses it: a manager signed in over HTTP (password and
//! TOTP) looks families up by a child's name, a guardian's e-mail and a phone number, one query
//! at a time; every answer must contain the household the query names.

use std::time::Instant;

use anyhow::{Context, bail};
use cantine_domain::roles::Role;
use serde::Serialize;
use sqlx::PgPool;

use crate::seed;
use crate::stats::{Latencies, Summary};

const MANAGER: &str = "gestion@bench.test";
const SECRET: &[u8; 20] = b"cantine-bench-secret";

#[derive(Debug, Serialize)]
pub struct SearchReport {
    pub households: usize,
    pub children: usize,
    pub queries: usize,
    pub all: Summary,
    pub by_child_name: Summary,
    pub by_email: Summary,
    pub by_phone: Summary,
    /// Answers that did not contain the household asked for: must be 0.
    pub wrong: usize,
    pub mean_results: f64,
}

/// A fixed sequence of numbers in `1..=n` (a linear congruential generator): every run asks
/// the same questions.
fn picks(n: usize, count: usize) -> Vec<usize> {
    let mut x: u64 = 2026;
    (0..count)
        .map(|_| {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            1 + ((x >> 33) as usize) % n
        })
        .collect()
}

pub async fn run(base_url: &str, pool: &PgPool, per_kind: usize) -> anyhow::Result<SearchReport> {
    let households: Vec<i64> = sqlx::query_scalar("select id from household order by id")
        .fetch_all(pool)
        .await?;
    let children: i64 = sqlx::query_scalar("select count(*) from child")
        .fetch_one(pool)
        .await?;
    if households.is_empty() {
        bail!("seed the commune first");
    }
    let client = seed::signed_in_staff(
        pool,
        base_url,
        MANAGER,
        ("Gestion", "Bench"),
        Role::Manager,
        &[],
        SECRET,
    )
    .await?;

    let n = households.len();
    let k = children as usize;
    let mut questions: Vec<(usize, String, usize)> = Vec::new();
    for child in picks(k, per_kind) {
        // Child k belongs to household 1 + (k - 1) % households (the seed's formula).
        questions.push((0, format!("Enfant {child}"), 1 + (child - 1) % n));
    }
    for h in picks(n, per_kind) {
        questions.push((1, seed::email(h), h));
    }
    for h in picks(n, per_kind) {
        questions.push((2, seed::phone(h), h));
    }
    let mut by_kind = [
        Latencies::default(),
        Latencies::default(),
        Latencies::default(),
    ];
    let mut all = Latencies::default();
    let (mut wrong, mut results) = (0, 0);
    for (kind, query, household) in &questions {
        let started = Instant::now();
        let response = client
            .get(format!("{base_url}/api/v1/staff/households"))
            .query(&[("q", query)])
            .send()
            .await?;
        let status = response.status();
        let found: Vec<serde_json::Value> = response
            .json()
            .await
            .with_context(|| format!("search {query:?}: {status}"))?;
        let elapsed = started.elapsed();
        by_kind[*kind].record(elapsed);
        all.record(elapsed);
        results += found.len();
        let expected = households[household - 1];
        if !found.iter().any(|f| f["id"] == expected) {
            wrong += 1;
        }
    }
    Ok(SearchReport {
        households: n,
        children: k,
        queries: questions.len(),
        all: all.summary(),
        by_child_name: by_kind[0].summary(),
        by_email: by_kind[1].summary(),
        by_phone: by_kind[2].summary(),
        wrong,
        mean_results: (results as f64 / questions.len() as f64 * 100.0).round() / 100.0,
    })
}
