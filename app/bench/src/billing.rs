//! The monthly billing run at 1×, 2× and 4× the commune: for each scale, a database of its own
//! in the cluster of the running `cantine serve` (created, migrated, seeded in bulk SQL, then
//! dropped), and in it `cantine::billing::run` (the draft) then `cantine::billing::issue` for
//! one month, timed in this process. A database per scale, so each run reads only its own
//! commune: the 1× run must not pay for the 4× data.
//!
//! The month is November of the current school year (`seed::current_year`); its service days
//! are its Mondays, Tuesdays, Thursdays and Fridays outside public and zone A school holidays.
//! Every child-day's fate is a formula of the child's id and the day's index (no `random()`):
//! booked and present, booked and absent (a no-show), absent with an accepted absence declared
//! in time or late, a three-day illness (carence 1 day), unbooked, unbooked but present (a
//! walk-in), one school's closure day (bookings cancelled by it), and one school's last day
//! left unlocked (billed as booked). QFs spread over the four brackets, some households have
//! none, some change mid-month, a tenth are not resident, one child in forty has a PAI, and a
//! few children are in shared custody (alternate weeks, or shares 60/40).
//!
//! The seed also keeps what each child-day must give (`bench_billing_day.expected`): after
//! the run, the draft's lines are counted by kind against it, and after the issue every
//! document must be numbered and posted to its ledger. Any difference is counted in `wrong`.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, bail};
use cantine::billing::{self, Month};
use chrono::{Datelike, NaiveDate, Weekday};
use serde::Serialize;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool};

use crate::seed::{self, SchoolYear};

/// The régie migration 0009 creates; every school of a fresh database belongs to it.
const REGIE: &str = "CANT";

/// The issue's commune at 1×: 10,000 children, 6,000 households, 20 schools (as `seed`).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Commune {
    pub children: usize,
    pub households: usize,
    pub schools: usize,
}

impl Commune {
    /// `children` at the default shape: 0.6 households per child, 500 children per school.
    pub fn of(children: usize) -> Commune {
        Commune {
            children,
            households: (children * 3 / 5).max(2),
            schools: children.div_ceil(500).max(3),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ScaleReport {
    pub scale: u32,
    pub commune: Commune,
    /// Child-days of the month (children × service days).
    pub child_days: i64,
    pub reservations: i64,
    pub attendance_rows: i64,
    pub seed_s: f64,
    pub run_s: f64,
    pub issue_s: f64,
    pub run_and_issue_s: f64,
    /// Run and issue, per child.
    pub us_per_child: f64,
    pub invoices: i64,
    pub credit_notes: i64,
    pub lines: i64,
    pub total_cents: i64,
    pub lines_by_kind: BTreeMap<String, i64>,
    /// Kind counts that differ from the seed's expectation, and issued documents not numbered
    /// or not posted: must be 0.
    pub wrong: i64,
}

#[derive(Debug, Serialize)]
pub struct Ratios {
    pub run: f64,
    pub issue: f64,
    pub run_and_issue: f64,
    /// The same, per child: 1.0 is linear.
    pub per_child: f64,
}

#[derive(Debug, Serialize)]
pub struct BillingReport {
    pub month: String,
    pub service_days: usize,
    pub scales: Vec<ScaleReport>,
    /// Each scale's times over the 1× times (linear: 2.0 at 2×, 4.0 at 4×).
    pub ratios_to_1x: BTreeMap<String, Ratios>,
    pub limit_s: f64,
    /// 1× run and issue under `limit_s`.
    pub within_limit: bool,
    pub wrong: i64,
}

pub struct Options {
    /// Children at 1×.
    pub children: usize,
    pub scales: Vec<u32>,
    pub limit_s: f64,
    /// Leaves each scale's database in the cluster, to look into its plans afterwards.
    pub keep: bool,
}

/// The month billed: November of the school year, as its first day, with its service days.
pub fn month_and_days(year: SchoolYear) -> (Month, Vec<NaiveDate>) {
    use cantine_domain::calendar::{HolidayCalendar, PublicHoliday, Zone};
    let first = NaiveDate::from_ymd_opt(year.first_day.year(), 11, 1).expect("a November");
    let month = Month(first);
    let holidays = HolidayCalendar::france();
    let days = first
        .iter_days()
        .take_while(|d| *d <= month.last_day())
        .filter(|d| {
            matches!(
                d.weekday(),
                Weekday::Mon | Weekday::Tue | Weekday::Thu | Weekday::Fri
            )
        })
        .filter(|d| PublicHoliday::on(*d).is_none())
        .filter(|d| !holidays.holidays().iter().any(|h| h.covers(Zone::A, *d)))
        .collect();
    (month, days)
}

pub async fn run(
    socket: &Path,
    year: SchoolYear,
    options: &Options,
) -> anyhow::Result<BillingReport> {
    let (month, days) = month_and_days(year);
    if days.len() < 10 {
        bail!(
            "{month} has {} service days; the scenario needs 10",
            days.len()
        );
    }
    let mut scales = Vec::new();
    for &scale in &options.scales {
        let commune = Commune::of(options.children * scale as usize);
        let name = format!("bench_billing_{scale}x");
        let mut admin = admin(socket).await?;
        recreate(&mut admin, &name).await?;
        let pool = pool(socket, &name).await?;
        let report = measure(&pool, scale, commune, year, month, &days).await;
        pool.close().await;
        if !options.keep {
            sqlx::query(&format!("drop database if exists {name} with (force)"))
                .execute(&mut admin)
                .await?;
        }
        let report = report.with_context(|| format!("billing at {scale}x"))?;
        eprintln!(
            "cantine-bench: billing {scale}x ({} children): run {:.2} s, issue {:.2} s",
            commune.children, report.run_s, report.issue_s
        );
        scales.push(report);
    }
    let mut ratios_to_1x = BTreeMap::new();
    if let Some(base) = scales.iter().find(|s| s.scale == 1) {
        for s in &scales {
            let size = s.commune.children as f64 / base.commune.children as f64;
            ratios_to_1x.insert(
                format!("{}x", s.scale),
                Ratios {
                    run: round2(s.run_s / base.run_s),
                    issue: round2(s.issue_s / base.issue_s),
                    run_and_issue: round2(s.run_and_issue_s / base.run_and_issue_s),
                    per_child: round2(s.run_and_issue_s / base.run_and_issue_s / size),
                },
            );
        }
    }
    let within_limit = scales
        .iter()
        .find(|s| s.scale == 1)
        .is_none_or(|s| s.run_and_issue_s < options.limit_s);
    let wrong = scales.iter().map(|s| s.wrong).sum();
    Ok(BillingReport {
        month: month.to_string(),
        service_days: days.len(),
        scales,
        ratios_to_1x,
        limit_s: options.limit_s,
        within_limit,
        wrong,
    })
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

async fn admin(socket: &Path) -> anyhow::Result<PgConnection> {
    Ok(PgConnection::connect_with(&options(socket, "cantine")).await?)
}

fn options(socket: &Path, database: &str) -> PgConnectOptions {
    PgConnectOptions::new()
        .socket(socket)
        .username("cantine")
        .database(database)
}

async fn pool(socket: &Path, database: &str) -> anyhow::Result<PgPool> {
    Ok(PgPoolOptions::new()
        .max_connections(2)
        .connect_with(options(socket, database))
        .await?)
}

/// A fresh, migrated database (the names are the scenario's own: `bench_billing_<k>x`).
async fn recreate(admin: &mut PgConnection, name: &str) -> anyhow::Result<()> {
    sqlx::query(&format!("drop database if exists {name} with (force)"))
        .execute(&mut *admin)
        .await?;
    sqlx::query(&format!("create database {name}"))
        .execute(&mut *admin)
        .await?;
    Ok(())
}

async fn measure(
    pool: &PgPool,
    scale: u32,
    commune: Commune,
    year: SchoolYear,
    month: Month,
    days: &[NaiveDate],
) -> anyhow::Result<ScaleReport> {
    cantine::platform::db::MIGRATOR.run(pool).await?;
    let started = Instant::now();
    seed_month(pool, commune, year, days).await?;
    let seed_s = started.elapsed().as_secs_f64();
    let count =
        |sql: &'static str| async move { sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await };
    let child_days = count("select count(*) from bench_billing_day").await?;
    let reservations = count("select count(*) from reservation").await?;
    let attendance_rows = count("select count(*) from attendance").await?;

    let started = Instant::now();
    let draft = billing::run(pool, None, REGIE, month).await?;
    let run_s = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let issued = billing::issue(pool, None, REGIE, month).await?;
    let issue_s = started.elapsed().as_secs_f64();

    let mut wrong = 0;
    let lines_by_kind: BTreeMap<String, i64> = sqlx::query_as::<_, (String, i64)>(
        "select l.kind, count(*) from invoice_line l join invoice i on i.id = l.invoice_id
         where i.billing_run_id = $1 group by l.kind",
    )
    .bind(draft.run_id)
    .fetch_all(pool)
    .await?
    .into_iter()
    .collect();
    // Shares give a line to each household; every other day gives one line or none.
    let expected: BTreeMap<String, i64> = sqlx::query_as::<_, (String, i64)>(
        "select d.expected, sum(case when cu.arrangement = 'shares' then 2 else 1 end)::bigint
         from bench_billing_day d left join custody cu on cu.child_id = d.child_id
         where d.expected is not null group by d.expected",
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .collect();
    for kind in lines_by_kind.keys().chain(expected.keys()) {
        if lines_by_kind.get(kind) != expected.get(kind) {
            eprintln!(
                "cantine-bench: billing {scale}x: {kind}: {:?} lines, {:?} expected",
                lines_by_kind.get(kind),
                expected.get(kind)
            );
            wrong += 1;
        }
    }
    let documents = issued.invoices.len() as i64;
    let unposted: i64 = sqlx::query_scalar(
        "select count(*) from invoice i
         where i.billing_run_id = $1
           and (i.status <> 'issued' or i.number is null
                or not exists (select 1 from ledger_entry e where e.invoice_id = i.id))",
    )
    .bind(draft.run_id)
    .fetch_one(pool)
    .await?;
    wrong += unposted;
    if documents == 0 || documents != draft.invoices.len() as i64 {
        wrong += 1;
    }
    let credit_notes = issued
        .invoices
        .iter()
        .filter(|i| i.kind == billing::DocumentKind::CreditNote)
        .count() as i64;
    Ok(ScaleReport {
        scale,
        commune,
        child_days,
        reservations,
        attendance_rows,
        seed_s,
        run_s,
        issue_s,
        run_and_issue_s: run_s + issue_s,
        us_per_child: (run_s + issue_s) * 1e6 / commune.children as f64,
        invoices: documents - credit_notes,
        credit_notes,
        lines: lines_by_kind.values().sum(),
        total_cents: issued.total.get(),
        lines_by_kind,
        wrong,
    })
}

/// The month's commune, in bulk SQL. Ids are the row numbers (`overriding system value`) in
/// this fresh database, so the formulas can name them.
async fn seed_month(
    pool: &PgPool,
    commune: Commune,
    year: SchoolYear,
    days: &[NaiveDate],
) -> anyhow::Result<()> {
    let Commune {
        children,
        households,
        schools,
    } = commune;
    let hash = seed::password_hash()?;
    let agent = households + 1;
    let days_sql = days
        .iter()
        .map(|d| format!("'{d}'"))
        .collect::<Vec<_>>()
        .join(",");
    let n = days.len();
    // Day 8 is school 1's closure; the last day of school 2 is not locked.
    let closure_day = days[7];
    let last_day = days[n - 1];
    let script = format!(
        r#"
-- The household search's triggers keep a text per household: not what this bench measures,
-- and 40,000 single-row updates of it would dominate the seed.
alter table child disable trigger child_search;
alter table account disable trigger account_search;
insert into school_year (label, first_day, last_day)
    values ('{label}', '{first}', '{last}');
insert into tariff (school_year_id, applies_from, mode, pai_cents, non_resident_cents,
                    adult_cents, unbooked_surcharge_cents, carence_days)
    select id, first_day, 'brackets', 150, 620, 700, 150, 1 from school_year;
insert into tariff_band (tariff_id, qf_min, qf_max, meal_price_cents)
    select t.id, b.qf_min, b.qf_max, b.cents from tariff t,
        (values (0, 450, 120), (450, 900, 260), (900, 1350, 380), (1350, null, 495))
            as b(qf_min, qf_max, cents);
insert into school (id, name, address) overriding system value
    select n, 'École ' || n, n || ' rue des Écoles, Benchville' from generate_series(1, {schools}) n;
insert into household (id, resident, address_line1, postcode, city) overriding system value
    select n, n % 10 <> 0, n || ' rue de la Paie', '77100', 'Benchville'
    from generate_series(1, {households}) n;
insert into account (id, household_id, email, password_hash, first_name, last_name,
                     email_confirmed_at) overriding system value
    select n, n, 'parent.' || n || '@{domain}', '{hash}', 'Parent', 'Famille ' || n, now()
    from generate_series(1, {households}) n;
insert into account (id, email, password_hash, first_name, last_name, email_confirmed_at)
    overriding system value values ({agent}, 'appel@{domain}', '{hash}', 'Agent', 'Bench', now());
-- QF spread over the brackets; one household in 25 has none on file (the top price), one in
-- 40 has a new value from day 10 of the month.
insert into quotient_familial (household_id, amount_euros, applies_from, document)
    select n, (n * 397) % 2000, '{first}', 'Attestation CAF'
    from generate_series(1, {households}) n where n % 25 <> 0;
insert into quotient_familial (household_id, amount_euros, applies_from, document)
    select n, (n * 397) % 2000 + 500, '{day10}', 'Attestation CAF'
    from generate_series(1, {households}) n where n % 40 = 3;
insert into child (id, household_id, first_name, last_name, birth_date, school_id, class_level, pai)
    overriding system value
    select k, 1 + (k - 1) % {households}, 'Enfant ' || k, 'Famille ' || (1 + (k - 1) % {households}),
           date '2016-01-01' + (k % 2000), 1 + ((1 + (k - 1) % {households}) - 1) % {schools},
           (array['PS','MS','GS','CP','CE1','CE2','CM1','CM2'])[1 + k % 8], k % 40 = 0
    from generate_series(1, {children}) k;
-- Shared custody with another household of the commune: alternate weeks, or shares 60/40.
insert into custody (child_id, other_household_id, arrangement, first_has_even_weeks, first_basis_points)
    select c.id, 1 + (c.household_id + {households} / 2 - 1) % {households},
           case when c.id % 1000 = 501 then 'shares' else 'alternate_weeks' end,
           case when c.id % 1000 = 501 then null else true end,
           case when c.id % 1000 = 501 then 6000 end
    from child c where c.id % 200 = 13 or c.id % 1000 = 501;

-- Each child-day's fate, and the line it must give.
create table bench_billing_day as
select c.id as child_id, c.household_id, c.school_id, d.day, d.i::int as i,
       case
           when c.school_id = 1 and d.day = '{closure_day}' then 'closure'
           when c.id % 50 = 7 and d.i between 3 and 5 then 'illness'
           when (c.id * 31 + d.i * 7) % 100 < 4 then 'no_show'
           when (c.id * 31 + d.i * 7) % 100 < 6 then 'excused'
           when (c.id * 31 + d.i * 7) % 100 < 7 then 'late'
           when (c.id * 31 + d.i * 7) % 100 < 10 then 'walk_in'
           when (c.id * 31 + d.i * 7) % 100 < 15 then 'unbooked'
           else 'meal'
       end as fate,
       null::text as expected
from child c cross join unnest(array[{days_sql}]::date[]) with ordinality as d(day, i);
update bench_billing_day set expected = case
    when fate = 'closure' then 'closure'
    when fate = 'unbooked' then null
    -- Not locked: no attendance, so a booking is billed as booked and a walk-in not at all
    -- (an accepted absence still counts).
    when school_id = 2 and day = '{last_day}' and fate in ('meal', 'no_show') then 'booked_not_recorded'
    when school_id = 2 and day = '{last_day}' and fate = 'walk_in' then null
    when fate = 'illness' then case when i = 3 then 'illness_carence' else 'illness_free' end
    when fate = 'no_show' then 'no_show'
    when fate = 'excused' then 'excused_absence'
    when fate = 'late' then 'late_absence'
    when fate = 'walk_in' then 'unbooked'
    else 'meal'
end;

-- The bookings; the closure's were cancelled by it (booked, then not), as the closure does.
alter table reservation disable trigger reservation_not_on_closure;
insert into reservation (child_id, service_date, booked)
    select child_id, day, fate <> 'closure' from bench_billing_day
    where fate not in ('walk_in', 'unbooked');
alter table reservation enable trigger reservation_not_on_closure;
insert into reservation_event (child_id, service_date, old_booked, new_booked, source)
    select child_id, day, false, true, 'enrollment' from bench_billing_day
    where fate not in ('walk_in', 'unbooked');
insert into reservation_event (child_id, service_date, old_booked, new_booked, source)
    select child_id, day, true, false, 'closure' from bench_billing_day where fate = 'closure';
insert into closure (school_id, first_day, last_day, reason)
    values (1, '{closure_day}', '{closure_day}', 'Grève');

-- Accepted absences: one per illness (three days), one per excused or late day.
insert into absence (id, household_id, first_day, last_day, reason, declared_by, declared_at,
                     status, decided_by, decided_at) overriding system value
    select c.id, c.household_id, '{day3}', '{day5}', 'illness', c.household_id,
           ('{day3}'::date + time '08:15') at time zone 'Europe/Paris', 'accepted', {agent},
           ('{day5}'::date + time '16:00') at time zone 'Europe/Paris'
    from child c where c.id % 50 = 7;
insert into absence_day (absence_id, child_id, service_date, notice)
    select child_id, child_id, day, 'same_morning_illness' from bench_billing_day where fate = 'illness';
create temporary table bench_other on commit drop as
    select {children} + row_number() over (order by child_id, day) as id, * from bench_billing_day
    where fate in ('excused', 'late');
insert into absence (id, household_id, first_day, last_day, reason, declared_by, declared_at,
                     status, decided_by, decided_at) overriding system value
    select id, household_id, day, day, 'other', household_id,
           (day - case when fate = 'late' then 0 else 7 end + time '09:00') at time zone 'Europe/Paris',
           'accepted', {agent}, (day + time '17:00') at time zone 'Europe/Paris'
    from bench_other;
insert into absence_day (absence_id, child_id, service_date, notice)
    select id, child_id, day, case when fate = 'late' then 'late' else 'before_deadline' end
    from bench_other;

-- The marks of the day and its state, then the locks (but school 2's last day).
insert into attendance_mark (client_id, child_id, school_id, service_date, present, walk_in,
                             marked_at, marked_by)
    select md5(child_id || ' ' || day)::uuid, child_id, school_id, day,
           fate in ('meal', 'walk_in'), fate = 'walk_in',
           (day + time '11:45') at time zone 'Europe/Paris', {agent}
    from bench_billing_day where fate not in ('closure', 'unbooked');
insert into attendance (child_id, service_date, school_id, present, walk_in, marked_at, mark_id)
    select child_id, service_date, school_id, present, walk_in, marked_at, id from attendance_mark;
insert into attendance_lock (school_id, service_date, locked_by, locked_at)
    select s.id, d.day, {agent}, (d.day + time '14:00') at time zone 'Europe/Paris'
    from school s cross join unnest(array[{days_sql}]::date[]) as d(day)
    where not (s.id = 2 and d.day = '{last_day}');
"#,
        label = year.label(),
        first = year.first_day,
        last = year.last_day,
        domain = seed::DOMAIN,
        day10 = days[9],
        day3 = days[2],
        day5 = days[4],
    );
    let mut tx = pool.begin().await?;
    sqlx::raw_sql(&script)
        .execute(&mut *tx)
        .await
        .context("the billing month's commune")?;
    // The identities moved past the rows given explicit ids, for whatever inserts next.
    for table in ["school", "household", "account", "child", "absence"] {
        sqlx::raw_sql(&format!(
            "select setval(pg_get_serial_sequence('{table}', 'id'), (select max(id) from {table}))"
        ))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    sqlx::raw_sql("vacuum analyze").execute(pool).await?;
    Ok(())
}
