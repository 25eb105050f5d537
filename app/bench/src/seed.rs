//! The generated commune: schools, households with one account each (all sharing one password),
//! children enrolled Monday, Tuesday, Thursday and Friday for the current school year and booked
//! on those days all year, with the history rows the enrollment would have written.
//!
//! Deterministic: every value is a formula of the row number (no `random()`), and the one
//! argon2 hash uses a fixed salt, so two seeds of the same size are the same town.

use anyhow::{Context, bail};
use argon2::password_hash::{PasswordHasher, SaltString};
use chrono::NaiveDate;
use serde::Serialize;
use sqlx::PgPool;

/// Addresses are `parent.<n>@bench.test`, n from 1 to the number of households.
pub const DOMAIN: &str = "bench.test";
/// The password of every generated account.
pub const PASSWORD: &str = "cantine-bench-rush";

pub fn email(household: usize) -> String {
    format!("parent.{household}@{DOMAIN}")
}

/// The guardian's phone number, as typed at the counter: `06 00 00 12 34` for household 1234.
pub fn phone(household: usize) -> String {
    let digits = format!("{household:08}");
    format!(
        "06 {} {} {} {}",
        &digits[0..2],
        &digits[2..4],
        &digits[4..6],
        &digits[6..8]
    )
}

/// Every bench account's password hash (one argon2 run: a fixed salt, so the seed is the same
/// each time).
pub fn password_hash() -> anyhow::Result<String> {
    let salt = SaltString::from_b64("Y2FudGluZWJlbmNoc2FsdA").expect("a valid salt");
    Ok(argon2::Argon2::default()
        .hash_password(PASSWORD.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))?
        .to_string())
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Size {
    pub children: usize,
    pub households: usize,
    pub schools: usize,
}

impl Size {
    /// The issue's commune: 10,000 children in 6,000 households across 20 schools.
    pub const DEFAULT: Size = Size {
        children: 10_000,
        households: 6_000,
        schools: 20,
    };
    /// The harness check's commune: the same shape, fifty times smaller.
    pub const SMALL: Size = Size {
        children: 200,
        households: 120,
        schools: 4,
    };

    pub fn named(name: &str) -> anyhow::Result<Size> {
        match name {
            "default" => Ok(Size::DEFAULT),
            "small" => Ok(Size::SMALL),
            other => bail!("unknown size {other:?} (default, small)"),
        }
    }
}

/// A school year of the calendar the binary ships (`app/calendars/france.toml`).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct SchoolYear {
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
}

impl SchoolYear {
    pub fn label(&self) -> String {
        use chrono::Datelike;
        format!("{}-{}", self.first_day.year(), self.last_day.year())
    }
}

/// The school year running on `today` (a date in Paris), or the next one during the summer:
/// the app's own rule (`Rules::current_year`) over the calendar it ships.
pub fn current_year(today: NaiveDate) -> anyhow::Result<SchoolYear> {
    use cantine_domain::calendar::{HolidayCalendar, Zone};
    use cantine_domain::deadline::{DeadlineRule, paris_to_utc};
    let holidays = HolidayCalendar::france();
    let rules = cantine_domain::rules::Rules {
        holidays,
        zone: Zone::A,
        deadline: &DeadlineRule::default(),
        now: paris_to_utc(today.and_hms_opt(12, 0, 0).context("noon")?),
    };
    let year = holidays
        .school_year(rules.current_year()?)
        .context("a year of the calendar")?;
    Ok(SchoolYear {
        first_day: year.first_day(),
        last_day: year.last_day(),
    })
}

/// What was seeded.
#[derive(Debug, Serialize)]
pub struct Seeded {
    pub size: Size,
    pub school_year: String,
    pub reservations: i64,
    pub seconds: f64,
}

/// Seeds an empty, migrated database.
pub async fn seed(pool: &PgPool, size: Size, year: SchoolYear) -> anyhow::Result<Seeded> {
    let started = std::time::Instant::now();
    let already: bool = sqlx::query_scalar("select exists(select 1 from school)")
        .fetch_one(pool)
        .await?;
    if already {
        bail!("the database already has schools: the bench seeds an empty one");
    }
    if size.households == 0 || size.children < size.households || size.schools == 0 {
        bail!("a commune needs schools, and at least one child per household");
    }
    let hash = password_hash()?;
    let (children, households, schools) = (size.children, size.households, size.schools);
    let mut tx = pool.begin().await?;
    // Household n (1-based) goes to school (n - 1) % schools; child n to household
    // (n - 1) % households, so the first households have two children or more, siblings
    // sharing a school. Row numbers map to ids, whatever the identity sequences hold.
    let script = format!(
        r#"
insert into school (name, address)
select 'École ' || n, n || ' rue des Écoles, Benchville' from generate_series(1, {schools}) n;
insert into household select from generate_series(1, {households}) n;
create temporary table bench_household on commit drop as
    select row_number() over (order by id) as n, id from household;
create temporary table bench_school on commit drop as
    select row_number() over (order by id) - 1 as n, id from school;
insert into account (household_id, email, password_hash, first_name, last_name, phone, email_confirmed_at)
select h.id, 'parent.' || h.n || '@{DOMAIN}', $1, 'Parent', 'Famille ' || h.n,
       '06 ' || to_char(h.n, 'FM00 00 00 00'), now()
from bench_household h;
insert into child (household_id, first_name, last_name, birth_date, school_id, class_level, diet)
select h.id, 'Enfant ' || g.k, 'Famille ' || h.n,
       date '2015-01-01' + (g.k % 2500),
       s.id,
       (array['PS','MS','GS','CP','CE1','CE2','CM1','CM2'])[1 + g.k % 8],
       (array['standard','vegetarian','no_pork'])[1 + g.k % 3]
from generate_series(1, {children}) as g(k)
join bench_household h on h.n = 1 + (g.k - 1) % {households}
join bench_school s on s.n = (h.n - 1) % {schools};
"#
    );
    sqlx::raw_sql(&script.replace("$1", &format!("'{hash}'")))
        .execute(&mut *tx)
        .await
        .context("schools, households, accounts and children")?;
    let year_id: i64 = sqlx::query_scalar(
        "insert into school_year (label, first_day, last_day) values ($1, $2, $3)
         on conflict (label) do update set label = excluded.label returning id",
    )
    .bind(year.label())
    .bind(year.first_day)
    .bind(year.last_day)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query(
        "insert into enrollment (child_id, school_year_id, weekdays, status, decided_at)
         select id, $1, '{1,2,4,5}', 'validated', now() from child",
    )
    .bind(year_id)
    .execute(&mut *tx)
    .await?;
    // Every Monday, Tuesday, Thursday and Friday of the year, holidays included: the size of a
    // year of bookings, which is what the backup and the booked-days reads see.
    // The generated commune has no closure: the per-row check of `reservation_not_on_closure`
    // would only slow down a million inserts.
    sqlx::query("alter table reservation disable trigger reservation_not_on_closure")
        .execute(&mut *tx)
        .await?;
    let reservations = sqlx::query(
        "insert into reservation (child_id, service_date, booked)
         select c.id, d::date, true
         from child c, generate_series($1::date, $2::date, interval '1 day') d
         where extract(isodow from d) in (1, 2, 4, 5)",
    )
    .bind(year.first_day)
    .bind(year.last_day)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    sqlx::query("alter table reservation enable trigger reservation_not_on_closure")
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "insert into reservation_event (child_id, service_date, old_booked, new_booked, source)
         select child_id, service_date, false, true, 'enrollment' from reservation",
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    sqlx::raw_sql("analyze").execute(pool).await?;
    Ok(Seeded {
        size,
        school_year: year.label(),
        reservations: reservations as i64,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// A staff member seeded for the bench and signed in over HTTP with password and TOTP code, as
/// the town hall signs in: the client holds the session cookie. Each member has a secret of its
/// own, so that two sign-ins in the same 30-second step never present the same code twice.
pub async fn signed_in_staff(
    pool: &PgPool,
    base_url: &str,
    email: &str,
    name: (&str, &str),
    role: cantine_domain::roles::Role,
    schools: &[cantine_domain::ids::SchoolId],
    secret: &[u8; 20],
) -> anyhow::Result<reqwest::Client> {
    use cantine::accounts::totp;
    let now = chrono::Utc::now();
    cantine::staff::seed_member(
        pool,
        email,
        name,
        role,
        schools,
        (&password_hash()?, secret),
        now,
    )
    .await
    .map_err(|e| anyhow::anyhow!("the bench's {email}: {e}"))?;
    let client = reqwest::Client::builder().cookie_store(true).build()?;
    let code = format!(
        "{:06}",
        totp::code(secret, totp::step_at(chrono::Utc::now()))
    );
    let login = client
        .post(format!("{base_url}/api/v1/session"))
        .json(&serde_json::json!({"email": email, "password": PASSWORD, "totp": code}))
        .send()
        .await?;
    if !login.status().is_success() {
        anyhow::bail!("the bench's {email} cannot log in: {}", login.text().await?);
    }
    Ok(client)
}
