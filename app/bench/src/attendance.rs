//! The attendance list as the canteen agent opens it: the agent of the commune's largest
//! school, signed in over HTTP (password and TOTP), loads the day's page (`/gestion/appel`,
//! the HTML the tablet renders) and the same list from the staff API (`attendanceList`), one
//! request at a time. A tenth of that school's children are allergic to peanuts and the day's
//! menu has a dish with peanuts, so the menu warnings are computed as in real life. Every
//! answer must hold every child expected.

use std::time::Instant;

use anyhow::{Context, bail};
use cantine_domain::ids::SchoolId;
use cantine_domain::roles::Role;
use chrono::NaiveDate;
use serde::Serialize;
use sqlx::PgPool;

use crate::seed;
use crate::stats::{Latencies, Summary};

const AGENT: &str = "appel@bench.test";
const SECRET: &[u8; 20] = b"cantine-bench-appel!";

#[derive(Debug, Serialize)]
pub struct AttendanceReport {
    pub school_id: i64,
    pub date: NaiveDate,
    /// Children expected that day (booked and enrolled).
    pub children: usize,
    pub with_menu_warning: usize,
    /// The page's HTML, over HTTP.
    pub page: Summary,
    /// `attendanceList` (JSON), over HTTP.
    pub api: Summary,
    /// Answers missing children: must be 0.
    pub wrong: usize,
}

pub async fn run(base_url: &str, pool: &PgPool, reads: usize) -> anyhow::Result<AttendanceReport> {
    // The largest school, and its first booked day from today on.
    let (school, expected): (i64, i64) = sqlx::query_as(
        "select school_id, count(*) from child group by school_id order by count(*) desc, school_id limit 1",
    )
    .fetch_optional(pool)
    .await?
    .context("seed the commune first")?;
    let (date, booked): (NaiveDate, i64) = sqlx::query_as(
        "select r.service_date, count(*) from reservation r join child c on c.id = r.child_id
         where c.school_id = $1 and r.booked and r.service_date >= $2
         group by r.service_date order by r.service_date limit 1",
    )
    .bind(school)
    .bind(crate::today())
    .fetch_optional(pool)
    .await?
    .context("no booked day ahead")?;
    if booked < expected {
        bail!("{booked} of {expected} children booked on {date}");
    }
    sqlx::query(
        "update child set allergens = '{peanuts}', allergies = 'arachides'
         where id in (select id from (select id, row_number() over (order by id) as n
                                      from child where school_id = $1) c where n % 10 = 0)",
    )
    .bind(school)
    .execute(pool)
    .await?;
    let menu: i64 =
        sqlx::query_scalar("insert into menu_day (service_date) values ($1) returning id")
            .bind(date)
            .fetch_one(pool)
            .await?;
    sqlx::query(
        "insert into dish (menu_day_id, position, course, name, allergens) values
         ($1, 1, 'starter', 'Carottes râpées', '{}'), ($1, 2, 'main', 'Poulet sauce satay', '{peanuts,soybeans}'),
         ($1, 3, 'side', 'Riz', '{}'), ($1, 4, 'dairy', 'Yaourt', '{milk}'), ($1, 5, 'dessert', 'Pomme', '{}')",
    )
    .bind(menu)
    .execute(pool)
    .await?;

    let client = seed::signed_in_staff(
        pool,
        base_url,
        AGENT,
        ("Appel", "Bench"),
        Role::SchoolStaff,
        &[SchoolId(school)],
        SECRET,
    )
    .await?;

    let page_url = format!("{base_url}/gestion/appel?ecole={school}&date={date}");
    let api_url = format!("{base_url}/api/v1/staff/attendance?school={school}&date={date}");
    let (mut page, mut api) = (Latencies::default(), Latencies::default());
    let (mut wrong, mut warned) = (0, 0);
    // A few unmeasured rounds first: connections, the statement cache.
    for round in 0..(reads + 5) {
        let started = Instant::now();
        let html = client.get(&page_url).send().await?.text().await?;
        let page_time = started.elapsed();
        let started = Instant::now();
        let list: serde_json::Value = client.get(&api_url).send().await?.json().await?;
        let api_time = started.elapsed();
        if round < 5 {
            continue;
        }
        page.record(page_time);
        api.record(api_time);
        let rows = html.matches("class=\"enfant etat-").count();
        let children = list["children"].as_array().map_or(0, Vec::len);
        if rows != expected as usize || children != expected as usize {
            wrong += 1;
        }
        warned = list["children"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c["menu_warnings"] == serde_json::json!(["peanuts"]))
            .count();
    }
    Ok(AttendanceReport {
        school_id: school,
        date,
        children: expected as usize,
        with_menu_warning: warned,
        page: page.summary(),
        api: api.summary(),
        wrong,
    })
}
