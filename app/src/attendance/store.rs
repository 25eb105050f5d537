//! The attendance rows: the marks' history, the current state, the day locks.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::error::{Error, Invalid, Result, on_constraint};

/// A child on a day's list, as stored.
#[derive(Debug, Clone)]
pub struct ListRow {
    pub id: i64,
    pub first_name: String,
    pub last_name: String,
    pub class_level: String,
    pub diet: String,
    pub allergens: Vec<String>,
    pub allergies: String,
    pub pai: bool,
    pub booked: bool,
    pub present: Option<bool>,
    pub walk_in: Option<bool>,
    pub marked_at: Option<DateTime<Utc>>,
    /// The status of an absence the family declared for the day, unless refused.
    pub absence: Option<String>,
}

/// The expected children of a school's day: booked and enrolled (a validated enrollment for
/// the school year holding the day), plus anyone already marked there (a walk-in). In class
/// order (PS to CM2), then by name.
pub async fn day_list<'e>(
    db: impl PgExecutor<'e>,
    activity: &str,
    school: i64,
    date: NaiveDate,
    class: Option<&str>,
) -> Result<Vec<ListRow>> {
    Ok(sqlx::query_as!(
        ListRow,
        // Two selective halves (the school's booked children, the day's marks there) rather
        // than one OR over every child of the commune: the list of a 500-child school reads
        // its 500 bookings, not the commune's.
        r#"with expected as (
             select r.child_id as id from reservation r join child c on c.id = r.child_id
             where r.activity = $1 and r.service_date = $3 and r.booked and c.school_id = $2
               and exists (
                   select 1 from enrollment e join school_year y on y.id = e.school_year_id
                   where e.child_id = c.id and e.activity = $1 and e.status = 'validated'
                     and $3 between y.first_day and y.last_day)
             union
             select a.child_id from attendance a
             where a.school_id = $2 and a.activity = $1 and a.service_date = $3)
         select c.id, c.first_name, c.last_name, c.class_level, c.diet, c.allergens, c.allergies,
                c.pai, coalesce(r.booked, false) as "booked!", a.present as "present?",
                a.walk_in as "walk_in?", a.marked_at as "marked_at?",
                (select ab.status from absence_day d join absence ab on ab.id = d.absence_id
                 where d.child_id = c.id and d.service_date = $3 and ab.activity = $1
                   and ab.status <> 'refused'
                 order by ab.status = 'accepted' desc, ab.id desc limit 1) as "absence?"
         from expected x
         join child c on c.id = x.id
         left join reservation r
           on r.child_id = c.id and r.activity = $1 and r.service_date = $3
         left join attendance a
           on a.child_id = c.id and a.activity = $1 and a.service_date = $3
         where $4::text is null or c.class_level = $4
         order by array_position(array['PS','MS','GS','CP','CE1','CE2','CM1','CM2'], c.class_level),
                  c.last_name, c.first_name, c.id"#,
        activity,
        school,
        date,
        class,
    )
    .fetch_all(db)
    .await?)
}

#[derive(Debug, Clone)]
pub struct CandidateRow {
    pub id: i64,
    pub first_name: String,
    pub last_name: String,
    pub class_level: String,
}

/// Enrolled children of the school who are not booked that day and not marked yet: those a
/// walk-in can be.
pub async fn walk_in_candidates<'e>(
    db: impl PgExecutor<'e>,
    activity: &str,
    school: i64,
    date: NaiveDate,
    class: Option<&str>,
) -> Result<Vec<CandidateRow>> {
    Ok(sqlx::query_as!(
        CandidateRow,
        r#"select c.id, c.first_name, c.last_name, c.class_level
         from child c
         where c.school_id = $2 and ($4::text is null or c.class_level = $4)
           and exists (
               select 1 from enrollment e join school_year y on y.id = e.school_year_id
               where e.child_id = c.id and e.activity = $1 and e.status = 'validated'
                 and $3 between y.first_day and y.last_day)
           and not exists (
               select 1 from reservation r
               where r.child_id = c.id and r.activity = $1 and r.service_date = $3 and r.booked)
           and not exists (
               select 1 from attendance a
               where a.child_id = c.id and a.activity = $1 and a.service_date = $3)
         order by c.last_name, c.first_name, c.id"#,
        activity,
        school,
        date,
        class,
    )
    .fetch_all(db)
    .await?)
}

pub async fn school_name<'e>(db: impl PgExecutor<'e>, school: i64) -> Result<Option<String>> {
    Ok(
        sqlx::query_scalar!("select name from school where id = $1", school)
            .fetch_optional(db)
            .await?,
    )
}

#[derive(Debug, Clone)]
pub struct LockRow {
    pub locked_at: DateTime<Utc>,
    pub locked_by: String,
}

pub async fn lock_of<'e>(
    db: impl PgExecutor<'e>,
    activity: &str,
    school: i64,
    date: NaiveDate,
) -> Result<Option<LockRow>> {
    Ok(sqlx::query_as!(
        LockRow,
        r#"select l.locked_at, coalesce(a.email, '') as "locked_by!"
         from attendance_lock l join account a on a.id = l.locked_by
         where l.school_id = $1 and l.activity = $2 and l.service_date = $3"#,
        school,
        activity,
        date,
    )
    .fetch_optional(db)
    .await?)
}

/// Serialises marks with the day's lock: marks take it shared, the lock exclusively, so a
/// mark never commits on a day locked while it was on its way.
pub async fn guard_day(
    conn: &mut PgConnection,
    school: i64,
    date: NaiveDate,
    exclusive: bool,
) -> Result<()> {
    let day = (date - NaiveDate::from_ymd_opt(2000, 1, 1).expect("a date")).num_days() as i32;
    let school = i32::try_from(school).map_err(|_| anyhow::anyhow!("school id {school}"))?;
    if exclusive {
        sqlx::query!("select pg_advisory_xact_lock($1, $2)", school, day)
            .execute(&mut *conn)
            .await?;
    } else {
        sqlx::query!("select pg_advisory_xact_lock_shared($1, $2)", school, day)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

pub async fn mark_exists(conn: &mut PgConnection, client_id: Uuid) -> Result<bool> {
    Ok(sqlx::query_scalar!(
        r#"select exists(select 1 from attendance_mark where client_id = $1) as "exists!""#,
        client_id
    )
    .fetch_one(&mut *conn)
    .await?)
}

/// What the service needs to judge a mark on a child: their school, whether they are
/// enrolled for the day's year, and booked that day.
#[derive(Debug, Clone)]
pub struct ChildDay {
    pub school_id: i64,
    pub enrolled: bool,
    pub booked: bool,
}

pub async fn child_day(
    conn: &mut PgConnection,
    activity: &str,
    child: i64,
    date: NaiveDate,
) -> Result<Option<ChildDay>> {
    Ok(sqlx::query_as!(
        ChildDay,
        r#"select c.school_id,
                  exists (select 1 from enrollment e join school_year y on y.id = e.school_year_id
                          where e.child_id = c.id and e.activity = $2 and e.status = 'validated'
                            and $3 between y.first_day and y.last_day) as "enrolled!",
                  coalesce((select r.booked from reservation r
                            where r.child_id = c.id and r.activity = $2 and r.service_date = $3),
                           false) as "booked!"
         from child c where c.id = $1"#,
        child,
        activity,
        date,
    )
    .fetch_optional(&mut *conn)
    .await?)
}

pub struct NewMarkRow<'a> {
    pub client_id: Uuid,
    pub activity: &'a str,
    pub child: i64,
    pub school: i64,
    pub date: NaiveDate,
    pub present: bool,
    pub walk_in: bool,
    pub marked_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub marked_by: i64,
    pub after_lock: bool,
    pub reason: Option<&'a str>,
}

/// Records the mark in the history and, when it is the latest of its child's day, as the
/// current state. Answers whether it became the current state.
pub async fn record_mark(conn: &mut PgConnection, m: &NewMarkRow<'_>) -> Result<bool> {
    let id = sqlx::query_scalar!(
        "insert into attendance_mark (client_id, activity, child_id, school_id, service_date, present,
                                      walk_in, marked_at, received_at, marked_by, after_lock, reason)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) returning id",
        m.client_id,
        m.activity,
        m.child,
        m.school,
        m.date,
        m.present,
        m.walk_in,
        m.marked_at,
        m.received_at,
        m.marked_by,
        m.after_lock,
        m.reason,
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| {
        on_constraint(e, |name| {
            (name == "attendance_mark_reason_length").then_some(Error::Invalid(Invalid::TooLong {
                field: crate::error::Field::Reason,
                max: Some(300),
            }))
        })
    })?;
    // Later by the device's clock wins; the same instant goes to the mark received last.
    let current = sqlx::query_scalar!(
        "insert into attendance (child_id, activity, service_date, school_id, present, walk_in, marked_at, mark_id)
         values ($1, $2, $3, $4, $5, $6, $7, $8)
         on conflict (child_id, activity, service_date) do update
            set school_id = excluded.school_id, present = excluded.present, walk_in = excluded.walk_in,
                marked_at = excluded.marked_at, mark_id = excluded.mark_id
            where (excluded.marked_at, excluded.mark_id) > (attendance.marked_at, attendance.mark_id)
         returning mark_id",
        m.child,
        m.activity,
        m.date,
        m.school,
        m.present,
        m.walk_in,
        m.marked_at,
        id,
    )
    .fetch_optional(&mut *conn)
    .await?;
    Ok(current.is_some())
}

/// Locks the day; `None` when it was locked already.
pub async fn insert_lock(
    conn: &mut PgConnection,
    activity: &str,
    school: i64,
    date: NaiveDate,
    by: i64,
    at: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>> {
    Ok(sqlx::query_scalar!(
        "insert into attendance_lock (school_id, activity, service_date, locked_by, locked_at)
         values ($1, $2, $3, $4, $5)
         on conflict on constraint attendance_lock_pkey do nothing
         returning locked_at",
        school,
        activity,
        date,
        by,
        at,
    )
    .fetch_optional(&mut *conn)
    .await?)
}

#[derive(Debug, Clone)]
pub struct LockedRow {
    pub school_id: i64,
    pub service_date: NaiveDate,
    pub locked_at: DateTime<Utc>,
    pub child_id: Option<i64>,
    pub present: Option<bool>,
    pub walk_in: Option<bool>,
}

/// Every locked day of the range (of those schools, or all), each with its marks; a locked
/// day nobody was marked on still appears, with no child.
pub async fn locked<'e>(
    db: impl PgExecutor<'e>,
    activity: &str,
    schools: Option<&[i64]>,
    (from, to): (NaiveDate, NaiveDate),
) -> Result<Vec<LockedRow>> {
    Ok(sqlx::query_as!(
        LockedRow,
        r#"select l.school_id, l.service_date, l.locked_at, a.child_id as "child_id?",
                  a.present as "present?", a.walk_in as "walk_in?"
         from attendance_lock l
         left join attendance a
           on a.school_id = l.school_id and a.activity = l.activity and a.service_date = l.service_date
         where l.activity = $1 and l.service_date between $3 and $4
           and ($2::bigint[] is null or l.school_id = any($2))
         order by l.service_date, l.school_id, a.child_id"#,
        activity,
        schools,
        from,
        to,
    )
    .fetch_all(db)
    .await?)
}

/// How many children of the day are marked present, absent, and how many marks it has.
pub async fn day_counts(
    conn: &mut PgConnection,
    activity: &str,
    school: i64,
    date: NaiveDate,
) -> Result<(i64, i64)> {
    let row = sqlx::query!(
        r#"select count(*) filter (where present) as "present!", count(*) filter (where not present) as "absent!"
         from attendance where school_id = $1 and activity = $2 and service_date = $3"#,
        school,
        activity,
        date,
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok((row.present, row.absent))
}
