//! The kitchen's rows: the schools and closures its calendars need, a range's live bookings
//! grouped by school, day and kind, the frozen counts, and the caterer's outbox.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgConnection, PgExecutor};

use crate::error::Result;

pub struct SchoolRow {
    pub id: i64,
    pub name: String,
    pub service_weekdays: Vec<i16>,
}

pub async fn schools<'e>(db: impl PgExecutor<'e>) -> Result<Vec<SchoolRow>> {
    Ok(sqlx::query_as!(
        SchoolRow,
        "select id, name, service_weekdays from school order by name, id"
    )
    .fetch_all(db)
    .await?)
}

pub struct ClosureRow {
    pub school_id: Option<i64>,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub reason: String,
}

pub async fn closures<'e>(db: impl PgExecutor<'e>) -> Result<Vec<ClosureRow>> {
    Ok(sqlx::query_as!(
        ClosureRow,
        "select school_id, first_day, last_day, reason from closure"
    )
    .fetch_all(db)
    .await?)
}

/// Plans the transaction's statements with their actual parameters. The counts' query needs
/// it: once cached, its generic plan guesses a few hundred bookings where a week has 50,000,
/// and loops over them one index lookup at a time (300 ms instead of 50 on the bench's
/// commune).
pub async fn plan_with_parameters(conn: &mut PgConnection) -> Result<()> {
    sqlx::query!("set local plan_cache_mode = force_custom_plan")
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Booked children of one school and day with the same diet, PAI flag and allergens.
pub struct MealRow {
    pub school_id: i64,
    pub service_date: NaiveDate,
    pub diet: String,
    pub pai: bool,
    pub allergens: Vec<String>,
    pub meals: i64,
}

/// The meals booked from..=to by children with a validated enrollment for the school year
/// of the day, plus the walk-ins the attendance list recorded present (unbooked children who
/// ate anyway: only on past days and today, so never in a freeze), grouped by school, day,
/// diet, PAI and declared allergens: one pass over the days' meals gives both the kinds and
/// the allergens (a child has one live enrollment per activity and year, so the join counts
/// each meal once).
pub async fn meals<'e>(
    db: impl PgExecutor<'e>,
    activity: &str,
    schools: &[i64],
    (from, to): (NaiveDate, NaiveDate),
) -> Result<Vec<MealRow>> {
    Ok(sqlx::query_as!(
        MealRow,
        r#"select c.school_id, r.service_date as "service_date!", c.diet, c.pai, c.allergens,
                count(*) as "meals!"
         from (select child_id, service_date from reservation
               where activity = $1 and booked and service_date between $3 and $4
               union all
               select child_id, service_date from attendance
               where activity = $1 and walk_in and present and service_date between $3 and $4) r
              join child c on c.id = r.child_id
              join enrollment e on e.child_id = r.child_id and e.activity = $1
                   and e.status = 'validated'
              join school_year y on y.id = e.school_year_id
                   and r.service_date between y.first_day and y.last_day
         where c.school_id = any($2)
         group by c.school_id, r.service_date, c.diet, c.pai, c.allergens"#,
        activity,
        schools,
        from,
        to,
    )
    .fetch_all(db)
    .await?)
}

pub struct FrozenRow {
    pub id: i64,
    pub school_id: i64,
    pub service_date: NaiveDate,
    pub deadline: DateTime<Utc>,
    pub frozen_at: DateTime<Utc>,
    pub standard: i32,
    pub vegetarian: i32,
    pub no_pork: i32,
    pub pai: i32,
    pub adults: i32,
    pub menu_allergens: Vec<String>,
    pub child_allergens: serde_json::Value,
}

pub async fn frozen<'e>(
    db: impl PgExecutor<'e>,
    activity: &str,
    schools: &[i64],
    (from, to): (NaiveDate, NaiveDate),
) -> Result<Vec<FrozenRow>> {
    Ok(sqlx::query_as!(
        FrozenRow,
        "select id, school_id, service_date, deadline, frozen_at, standard, vegetarian, no_pork,
                pai, adults, menu_allergens, child_allergens
         from kitchen_count
         where activity = $1 and school_id = any($2) and service_date between $3 and $4",
        activity,
        schools,
        from,
        to,
    )
    .fetch_all(db)
    .await?)
}

/// A freeze to record: the numbers as the kitchen is told them.
pub struct NewFreeze<'a> {
    pub school_id: i64,
    pub service_date: NaiveDate,
    pub deadline: DateTime<Utc>,
    pub frozen_at: DateTime<Utc>,
    pub meals: [i32; 5],
    pub menu_allergens: &'a [String],
    pub child_allergens: serde_json::Value,
}

/// Records the freeze unless one exists already (another instance, an earlier tick):
/// answers the new row's id, or `None` when it was there.
pub async fn insert_freeze(
    conn: &mut PgConnection,
    activity: &str,
    f: &NewFreeze<'_>,
) -> Result<Option<i64>> {
    let [standard, vegetarian, no_pork, pai, adults] = f.meals;
    Ok(sqlx::query_scalar!(
        "insert into kitchen_count (activity, school_id, service_date, deadline, frozen_at,
                standard, vegetarian, no_pork, pai, adults, menu_allergens, child_allergens)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         on conflict (activity, school_id, service_date) do nothing
         returning id",
        activity,
        f.school_id,
        f.service_date,
        f.deadline,
        f.frozen_at,
        standard,
        vegetarian,
        no_pork,
        pai,
        adults,
        f.menu_allergens,
        f.child_allergens,
    )
    .fetch_optional(&mut *conn)
    .await?)
}

/// Enqueues the caterer's mail of a freeze; the unique key makes a second one a no-op.
pub async fn enqueue_mail(
    conn: &mut PgConnection,
    activity: &str,
    (school_id, service_date, count_id): (i64, NaiveDate, i64),
    recipient: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query!(
        "insert into kitchen_mail (activity, school_id, service_date, count_id, recipient,
                created_at, next_attempt_at)
         values ($1, $2, $3, $4, $5, $6, $6)
         on conflict (activity, school_id, service_date) do nothing",
        activity,
        school_id,
        service_date,
        count_id,
        recipient,
        now,
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub struct MailRow {
    pub id: i64,
    pub school_id: i64,
    pub service_date: NaiveDate,
    pub recipient: String,
    pub attempts: i32,
}

/// Claims one mail due at `now`, locked until the caller's transaction ends; a row another
/// instance holds is skipped, so no two instances send it.
pub async fn claim_mail(
    conn: &mut PgConnection,
    activity: &str,
    now: DateTime<Utc>,
) -> Result<Option<MailRow>> {
    Ok(sqlx::query_as!(
        MailRow,
        "select id, school_id, service_date, recipient, attempts from kitchen_mail
         where activity = $1 and sent_at is null and next_attempt_at <= $2
         order by next_attempt_at, id
         limit 1
         for update skip locked",
        activity,
        now,
    )
    .fetch_optional(&mut *conn)
    .await?)
}

pub async fn mark_sent(conn: &mut PgConnection, id: i64, now: DateTime<Utc>) -> Result<()> {
    sqlx::query!(
        "update kitchen_mail set sent_at = $2, attempts = attempts + 1, last_error = null
         where id = $1",
        id,
        now,
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn mark_failed(
    conn: &mut PgConnection,
    id: i64,
    next_attempt_at: DateTime<Utc>,
    error: &str,
) -> Result<()> {
    sqlx::query!(
        "update kitchen_mail set attempts = attempts + 1, next_attempt_at = $2, last_error = $3
         where id = $1",
        id,
        next_attempt_at,
        error,
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}
