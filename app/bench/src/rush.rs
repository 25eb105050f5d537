//! The booking rush: the evening before the deadline, parents log in and set the next month for
//! each of their children, as the portal's pages do: read the month, change it day by day, then
//! apply the usual weekly pattern to the siblings at once.
//!
//! Every change request is a real change: a day is booked if it was free and cancelled if it
//! was booked, and the pattern then puts back exactly the days the toggles moved away from it.
//! An answer that is not 2xx, or a 2xx that does not report the expected change, is an error.
//!
//! Parents log in before the timed phase (argon2 is slow by design; its cost is reported apart).
//! Each sends its proxy's `X-Real-IP` as a distinct address, as the appliance's reverse proxy
//! would for distinct homes: all from one address, the per-client login limit would refuse them.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::{Datelike, NaiveDate};
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::Barrier;

use crate::stats::{Latencies, Summary, round};

/// The weekdays the seeded children are enrolled for, which the pattern restores.
pub const USUAL_WEEKDAYS: [&str; 4] = ["mon", "tue", "thu", "fri"];

pub fn client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(1)
        .timeout(Duration::from_secs(30))
        .build()?)
}

#[derive(Debug, Clone)]
pub struct RushConfig {
    pub base_url: String,
    /// Households 1 to `parents` log in (`seed::email`).
    pub parents: usize,
    pub concurrency: usize,
    pub password: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// The month the rush books: the first whole month starting at least two weeks after `today`
/// (well before any deadline), cut to the school year.
pub fn month_ahead(
    today: NaiveDate,
    year: crate::seed::SchoolYear,
) -> anyhow::Result<(NaiveDate, NaiveDate)> {
    let soon = today + chrono::Duration::days(14);
    let mut from = NaiveDate::from_ymd_opt(soon.year(), soon.month(), 1).expect("day 1")
        + chrono::Months::new(1);
    if from < year.first_day {
        from = year.first_day;
    }
    let to = (NaiveDate::from_ymd_opt(from.year(), from.month(), 1).expect("day 1")
        + chrono::Months::new(1))
    .pred_opt()
    .expect("a day before")
    .min(year.last_day);
    if from > to {
        bail!(
            "no month of the school year {} is left after {today}",
            year.label()
        );
    }
    Ok((from, to))
}

/// One acknowledged change, as the server answered it.
#[derive(Debug, Clone, Serialize)]
pub struct Ack {
    pub child: i64,
    pub date: NaiveDate,
    pub booked: bool,
    /// `parent` (one day) or `pattern`: the history's `source`.
    pub source: &'static str,
}

#[derive(Debug, Serialize)]
pub struct Phase {
    pub requests: usize,
    pub errors: usize,
    pub seconds: f64,
    pub per_s: f64,
    pub latency: Summary,
}

fn phase(latencies: &Latencies, errors: usize, seconds: f64) -> Phase {
    Phase {
        requests: latencies.len(),
        errors,
        seconds: round(seconds),
        per_s: round(latencies.len() as f64 / seconds.max(1e-9)),
        latency: latencies.summary(),
    }
}

#[derive(Debug, Serialize)]
pub struct RushReport {
    pub parents: usize,
    pub children: usize,
    pub concurrency: usize,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Logging in, before the timed phase.
    pub login: Phase,
    /// The change requests (book, cancel, pattern) of the timed phase; `per_s` is the rush's
    /// bookings per second.
    pub changes: Phase,
    /// Days changed by those requests (a pattern changes many).
    pub days_changed: usize,
    /// The reads the pages make between changes (children, the month), in the same phase.
    pub reads: Phase,
    pub error_samples: Vec<String>,
    #[serde(skip)]
    pub acks: Vec<Ack>,
}

#[derive(Default)]
struct Worker {
    login: Latencies,
    login_errors: usize,
    changes: Latencies,
    reads: Latencies,
    errors: usize,
    days_changed: usize,
    children: usize,
    acks: Vec<Ack>,
    samples: Vec<String>,
}

impl Worker {
    fn error(&mut self, what: String) {
        self.errors += 1;
        if self.samples.len() < 5 {
            self.samples.push(what);
        }
    }
}

struct Parent {
    household: usize,
    cookie: String,
    csrf: String,
}

#[derive(Deserialize)]
struct LoggedIn {
    csrf_token: String,
}

#[derive(Deserialize)]
struct ChildOut {
    id: i64,
}

#[derive(Deserialize)]
struct DayOut {
    date: NaiveDate,
    booked: bool,
    locked: bool,
    reason: Option<String>,
}

#[derive(Deserialize)]
struct DayChanged {
    date: NaiveDate,
    booked: bool,
    changed: bool,
}

#[derive(Deserialize)]
struct PatternOut {
    child_id: i64,
    changed: Vec<DayChanged>,
}

fn real_ip(household: usize) -> String {
    format!(
        "10.{}.{}.{}",
        (household >> 16) & 255,
        (household >> 8) & 255,
        household & 255
    )
}

async fn log_in(
    client: &reqwest::Client,
    config: &RushConfig,
    household: usize,
) -> anyhow::Result<Parent> {
    let response = client
        .post(format!("{}/api/v1/session", config.base_url))
        .header("x-real-ip", real_ip(household))
        .json(&json!({"email": crate::seed::email(household), "password": config.password}))
        .send()
        .await?;
    if response.status() != StatusCode::OK {
        bail!("login of household {household}: {}", response.status());
    }
    let cookie = response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.contains("cantine_session="))
        .and_then(|v| v.split(';').next())
        .context("a session cookie")?
        .to_owned();
    let body: LoggedIn = response.json().await?;
    Ok(Parent {
        household,
        cookie,
        csrf: body.csrf_token,
    })
}

impl Parent {
    fn request(
        &self,
        client: &reqwest::Client,
        method: reqwest::Method,
        url: String,
    ) -> reqwest::RequestBuilder {
        client
            .request(method, url)
            .header(reqwest::header::COOKIE, &self.cookie)
            .header("x-csrf-token", &self.csrf)
            .header("x-real-ip", real_ip(self.household))
    }
}

/// Sends, times into `latencies`, and answers the body of a 200.
async fn timed<T: serde::de::DeserializeOwned>(
    request: reqwest::RequestBuilder,
    latencies: &mut Latencies,
) -> anyhow::Result<T> {
    let sent = Instant::now();
    let result = async {
        let response = request.send().await?;
        let status = response.status();
        let body = response.bytes().await?;
        if status != StatusCode::OK {
            bail!("{status}: {}", String::from_utf8_lossy(&body));
        }
        Ok(serde_json::from_slice(&body)?)
    }
    .await;
    latencies.record(sent.elapsed());
    result
}

async fn one_household(
    client: &reqwest::Client,
    config: &RushConfig,
    parent: &Parent,
    w: &mut Worker,
) -> anyhow::Result<()> {
    let base = &config.base_url;
    let children: Vec<ChildOut> = timed(
        parent.request(
            client,
            reqwest::Method::GET,
            format!("{base}/api/v1/children"),
        ),
        &mut w.reads,
    )
    .await?;
    let mut expected_pattern: Vec<(i64, BTreeSet<(NaiveDate, bool)>)> = Vec::new();
    for child in &children {
        w.children += 1;
        let days: Vec<DayOut> = timed(
            parent.request(
                client,
                reqwest::Method::GET,
                format!(
                    "{base}/api/v1/children/{}/reservations?from={}&to={}",
                    child.id, config.from, config.to
                ),
            ),
            &mut w.reads,
        )
        .await?;
        let mut back = BTreeSet::new();
        for day in days.iter().filter(|d| !d.locked && d.reason.is_none()) {
            let book = !day.booked;
            let method = if book {
                reqwest::Method::PUT
            } else {
                reqwest::Method::DELETE
            };
            let url = format!(
                "{base}/api/v1/children/{}/reservations/{}",
                child.id, day.date
            );
            match timed::<DayChanged>(parent.request(client, method, url), &mut w.changes).await {
                Ok(a) if a.changed && a.booked == book && a.date == day.date => {
                    w.days_changed += 1;
                    w.acks.push(Ack {
                        child: child.id,
                        date: day.date,
                        booked: book,
                        source: "parent",
                    });
                    let usual = USUAL_WEEKDAYS.contains(&crate::weekday_code(day.date));
                    if usual != book {
                        back.insert((day.date, usual));
                    }
                }
                Ok(_) => w.error(format!(
                    "child {} {}: answered unchanged",
                    child.id, day.date
                )),
                Err(e) => w.error(format!("child {} {}: {e:#}", child.id, day.date)),
            }
        }
        expected_pattern.push((child.id, back));
    }
    if expected_pattern.iter().all(|(_, days)| days.is_empty()) {
        return Ok(());
    }
    let body = json!({
        "children": children.iter().map(|c| c.id).collect::<Vec<_>>(),
        "from": config.from,
        "to": config.to,
        "weekdays": USUAL_WEEKDAYS,
    });
    let request = parent
        .request(
            client,
            reqwest::Method::POST,
            format!("{base}/api/v1/reservations/pattern"),
        )
        .json(&body);
    match timed::<Vec<PatternOut>>(request, &mut w.changes).await {
        Ok(plans) => {
            for (child, expected) in expected_pattern {
                let got: BTreeSet<(NaiveDate, bool)> = plans
                    .iter()
                    .filter(|p| p.child_id == child)
                    .flat_map(|p| p.changed.iter())
                    .filter(|c| c.changed)
                    .map(|c| (c.date, c.booked))
                    .collect();
                if got != expected {
                    w.error(format!(
                        "pattern of child {child}: changed {} days, expected {}",
                        got.len(),
                        expected.len()
                    ));
                }
                w.days_changed += got.len();
                w.acks.extend(got.into_iter().map(|(date, booked)| Ack {
                    child,
                    date,
                    booked,
                    source: "pattern",
                }));
            }
        }
        Err(e) => w.error(format!("pattern of household {}: {e:#}", parent.household)),
    }
    Ok(())
}

pub async fn run(config: RushConfig) -> anyhow::Result<RushReport> {
    let concurrency = config.concurrency.clamp(1, config.parents.max(1));
    let config = Arc::new(config);
    let start_login = Arc::new(Barrier::new(concurrency + 1));
    let logged_in = Arc::new(Barrier::new(concurrency + 1));
    let start_rush = Arc::new(Barrier::new(concurrency + 1));
    let mut tasks = Vec::new();
    for index in 0..concurrency {
        let config = config.clone();
        let (start_login, logged_in, start_rush) =
            (start_login.clone(), logged_in.clone(), start_rush.clone());
        tasks.push(tokio::spawn(async move {
            let client = client()?;
            let mut w = Worker::default();
            let mut parents = Vec::new();
            start_login.wait().await;
            for household in (index + 1..=config.parents).step_by(concurrency) {
                let sent = Instant::now();
                match log_in(&client, &config, household).await {
                    Ok(p) => parents.push(p),
                    Err(e) => {
                        w.login_errors += 1;
                        w.error(format!("{e:#}"));
                    }
                }
                w.login.record(sent.elapsed());
            }
            logged_in.wait().await;
            start_rush.wait().await;
            for parent in &parents {
                if let Err(e) = one_household(&client, &config, parent, &mut w).await {
                    w.error(format!("household {}: {e:#}", parent.household));
                }
            }
            anyhow::Ok(w)
        }));
    }
    start_login.wait().await;
    let login_started = Instant::now();
    logged_in.wait().await;
    let login_seconds = login_started.elapsed().as_secs_f64();
    start_rush.wait().await;
    let rush_started = Instant::now();
    let mut total = Worker::default();
    let mut done = Vec::new();
    for task in tasks {
        done.push(task.await??);
    }
    let rush_seconds = rush_started.elapsed().as_secs_f64();
    for w in done {
        total.login.merge(w.login);
        total.login_errors += w.login_errors;
        total.changes.merge(w.changes);
        total.reads.merge(w.reads);
        total.errors += w.errors;
        total.days_changed += w.days_changed;
        total.children += w.children;
        total.acks.extend(w.acks);
        total.samples.extend(w.samples);
    }
    Ok(RushReport {
        parents: config.parents,
        children: total.children,
        concurrency,
        from: config.from,
        to: config.to,
        login: phase(&total.login, total.login_errors, login_seconds),
        changes: phase(
            &total.changes,
            total.errors - total.login_errors,
            rush_seconds,
        ),
        days_changed: total.days_changed,
        reads: phase(&total.reads, 0, rush_seconds),
        error_samples: total.samples.into_iter().take(10).collect(),
        acks: total.acks,
    })
}
