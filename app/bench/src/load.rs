//! The HTTP stack's ceiling: the same client and connection count as the rush, on a route
//! that does no work (`/healthz`).

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::stats::{Latencies, Summary, round};

#[derive(Debug, Serialize)]
pub struct LoadReport {
    pub url: String,
    pub concurrency: usize,
    pub requests: usize,
    pub errors: usize,
    pub seconds: f64,
    pub requests_per_s: f64,
    pub latency: Summary,
}

pub async fn run(url: &str, concurrency: usize, duration: Duration) -> anyhow::Result<LoadReport> {
    let started = Instant::now();
    let until = started + duration;
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let client = crate::rush::client()?;
        let url = url.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Latencies::default();
            let mut errors = 0;
            while Instant::now() < until {
                let sent = Instant::now();
                let ok = match client.get(&url).send().await {
                    Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                latencies.record(sent.elapsed());
                if !ok {
                    errors += 1;
                }
            }
            (latencies, errors)
        }));
    }
    let mut latencies = Latencies::default();
    let mut errors = 0;
    for task in tasks {
        let (l, e) = task.await?;
        latencies.merge(l);
        errors += e;
    }
    let seconds = started.elapsed().as_secs_f64();
    Ok(LoadReport {
        url: url.to_owned(),
        concurrency,
        requests: latencies.len(),
        errors,
        seconds: round(seconds),
        requests_per_s: round(latencies.len() as f64 / seconds),
        latency: latencies.summary(),
    })
}
