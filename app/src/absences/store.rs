//! The absence, absence-day and certificate rows.

use cantine_domain::absence::{CertificateType, Notice, Reason, Status};
use cantine_domain::activity::Activity;
use cantine_domain::ids::{AbsenceId, AccountId, CertificateId, ChildId, HouseholdId, SchoolId};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::error::{Conflict, Error, Result, on_constraint};

/// The school and first name of a child of the household, or of one shared with it.
pub async fn school_of(
    conn: &mut PgConnection,
    household: HouseholdId,
    child: ChildId,
) -> Result<Option<(SchoolId, String)>> {
    Ok(sqlx::query!(
        "select c.school_id, c.first_name from child c where c.id = $1 and (c.household_id = $2
             or exists (select 1 from custody cu where cu.child_id = c.id and cu.other_household_id = $2))",
        child.get(),
        household.get(),
    )
    .fetch_optional(&mut *conn)
    .await?
    .map(|r| (SchoolId(r.school_id), r.first_name)))
}

pub async fn insert_certificate(
    conn: &mut PgConnection,
    household: HouseholdId,
    key: Uuid,
    kind: CertificateType,
    size: i32,
    sha256: &[u8],
    actor: AccountId,
) -> Result<CertificateId> {
    let id = sqlx::query_scalar!(
        "insert into certificate (household_id, storage_key, media_type, size_bytes, sha256, uploaded_by)
         values ($1, $2, $3, $4, $5, $6) returning id",
        household.get(),
        key,
        kind.media_type(),
        size,
        sha256,
        actor.get(),
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(CertificateId(id))
}

pub struct NewAbsence<'a> {
    pub household: HouseholdId,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub reason: Reason,
    pub comment: &'a str,
    pub declared_by: AccountId,
    pub declared_at: DateTime<Utc>,
    pub certificate: Option<CertificateId>,
}

pub async fn insert_absence(
    conn: &mut PgConnection,
    activity: Activity,
    new: &NewAbsence<'_>,
) -> Result<AbsenceId> {
    let id = sqlx::query_scalar!(
        "insert into absence (activity, household_id, first_day, last_day, reason, comment,
                              declared_by, declared_at, certificate_id)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9) returning id",
        activity.code(),
        new.household.get(),
        new.first_day,
        new.last_day,
        new.reason.code(),
        new.comment,
        new.declared_by.get(),
        new.declared_at,
        new.certificate.map(|c| c.get()),
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(AbsenceId(id))
}

pub async fn insert_days(
    conn: &mut PgConnection,
    absence: AbsenceId,
    child: ChildId,
    days: &[(NaiveDate, Notice)],
) -> Result<()> {
    let dates: Vec<NaiveDate> = days.iter().map(|(d, _)| *d).collect();
    let notices: Vec<String> = days.iter().map(|(_, n)| n.code().to_owned()).collect();
    sqlx::query!(
        "insert into absence_day (absence_id, child_id, service_date, notice)
         select $1, $2, d, n from unnest($3::date[], $4::text[]) as t(d, n)",
        absence.get(),
        child.get(),
        &dates,
        &notices,
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn stored_status(code: &str, reason: Option<&str>) -> Result<Status> {
    Status::from_code(code, reason)
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("stored absence status {code:?}")))
}

pub async fn status_for_household(
    pool: &PgPool,
    household: HouseholdId,
    id: AbsenceId,
) -> Result<Option<Status>> {
    let row = sqlx::query!(
        "select status, decision_reason from absence where id = $1 and household_id = $2",
        id.get(),
        household.get(),
    )
    .fetch_optional(pool)
    .await?;
    row.map(|r| stored_status(&r.status, r.decision_reason.as_deref()))
        .transpose()
}

pub async fn lock_for_household(
    conn: &mut PgConnection,
    household: HouseholdId,
    id: AbsenceId,
) -> Result<Option<Status>> {
    let row = sqlx::query!(
        "select status, decision_reason from absence where id = $1 and household_id = $2
         for update",
        id.get(),
        household.get(),
    )
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| stored_status(&r.status, r.decision_reason.as_deref()))
        .transpose()
}

pub async fn set_certificate(
    conn: &mut PgConnection,
    id: AbsenceId,
    certificate: CertificateId,
) -> Result<()> {
    sqlx::query!(
        "update absence set certificate_id = $2 where id = $1",
        id.get(),
        certificate.get(),
    )
    .execute(&mut *conn)
    .await
    .map_err(decided_meanwhile)?;
    Ok(())
}

/// The trigger that keeps a decision final, met by a write that raced a decision.
fn decided_meanwhile(e: sqlx::Error) -> Error {
    on_constraint(e, |name| {
        (name == "absence_decision_final").then_some(Error::Conflict(Conflict::Absence(
            cantine_domain::absence::AbsenceError::AlreadyDecided,
        )))
    })
}

pub async fn lock_for_decision(
    conn: &mut PgConnection,
    id: AbsenceId,
) -> Result<Option<(HouseholdId, Status)>> {
    let row = sqlx::query!(
        "select household_id, status, decision_reason from absence where id = $1 for update",
        id.get(),
    )
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| {
        Ok((
            HouseholdId(r.household_id),
            stored_status(&r.status, r.decision_reason.as_deref())?,
        ))
    })
    .transpose()
}

pub async fn record_decision(
    conn: &mut PgConnection,
    id: AbsenceId,
    status: &Status,
    actor: AccountId,
    now: DateTime<Utc>,
) -> Result<()> {
    let reason = match status {
        Status::Refused { reason } => Some(reason.as_str()),
        _ => None,
    };
    sqlx::query!(
        "update absence set status = $2, decision_reason = $3, decided_by = $4, decided_at = $5
         where id = $1",
        id.get(),
        status.code(),
        reason,
        actor.get(),
        now,
    )
    .execute(&mut *conn)
    .await
    .map_err(decided_meanwhile)?;
    Ok(())
}

/// The e-mail addresses of the household's guardians.
pub async fn addresses(conn: &mut PgConnection, household: HouseholdId) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar!(
        r#"select email as "email!" from account
         where household_id = $1 and email is not null order by id"#,
        household.get(),
    )
    .fetch_all(&mut *conn)
    .await?)
}

/// A child named in a declaration.
#[derive(Debug, Clone)]
pub struct AbsentChild {
    pub id: ChildId,
    pub first_name: String,
    pub last_name: String,
    pub school_name: String,
    /// Its service days in the declaration.
    pub days: Vec<(NaiveDate, Notice)>,
}

/// A declaration as families and managers see it.
#[derive(Debug, Clone)]
pub struct AbsenceRow {
    pub id: AbsenceId,
    pub household: HouseholdId,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub reason: Reason,
    pub comment: String,
    pub declared_at: DateTime<Utc>,
    pub declared_by: String,
    pub status: Status,
    pub decided_at: Option<DateTime<Utc>>,
    pub certificate: Option<CertificateType>,
    pub children: Vec<AbsentChild>,
}

struct Raw {
    id: i64,
    household_id: i64,
    first_day: NaiveDate,
    last_day: NaiveDate,
    reason: String,
    comment: String,
    declared_at: DateTime<Utc>,
    declared_by: String,
    status: String,
    decision_reason: Option<String>,
    decided_at: Option<DateTime<Utc>>,
    media_type: Option<String>,
}

struct RawDay {
    absence_id: i64,
    child_id: i64,
    first_name: String,
    last_name: String,
    school_name: String,
    service_date: NaiveDate,
    notice: String,
}

fn decode(raw: Raw, days: &[RawDay]) -> Result<AbsenceRow> {
    let bad = |what: &str, v: &str| Error::Internal(anyhow::anyhow!("stored absence {what} {v:?}"));
    let mut children: Vec<AbsentChild> = Vec::new();
    for d in days.iter().filter(|d| d.absence_id == raw.id) {
        let notice = Notice::from_code(&d.notice).ok_or_else(|| bad("notice", &d.notice))?;
        match children.last_mut() {
            Some(c) if c.id.get() == d.child_id => c.days.push((d.service_date, notice)),
            _ => children.push(AbsentChild {
                id: ChildId(d.child_id),
                first_name: d.first_name.clone(),
                last_name: d.last_name.clone(),
                school_name: d.school_name.clone(),
                days: vec![(d.service_date, notice)],
            }),
        }
    }
    Ok(AbsenceRow {
        id: AbsenceId(raw.id),
        household: HouseholdId(raw.household_id),
        first_day: raw.first_day,
        last_day: raw.last_day,
        reason: Reason::from_code(&raw.reason).ok_or_else(|| bad("reason", &raw.reason))?,
        comment: raw.comment,
        declared_at: raw.declared_at,
        declared_by: raw.declared_by,
        status: stored_status(&raw.status, raw.decision_reason.as_deref())?,
        decided_at: raw.decided_at,
        certificate: raw
            .media_type
            .map(|m| CertificateType::from_media_type(&m).ok_or_else(|| bad("media type", &m)))
            .transpose()?,
        children,
    })
}

/// The most declarations one list shows: a season of a large family, or the managers' queue.
const LIST_LIMIT: i64 = 200;

/// Declarations of one household (newest first) or of all (oldest first, for the queue),
/// pending ones only if asked; `only` picks one declaration.
async fn select(
    pool: &PgPool,
    activity: Activity,
    household: Option<HouseholdId>,
    pending_only: bool,
    only: Option<AbsenceId>,
) -> Result<Vec<AbsenceRow>> {
    let rows = sqlx::query_as!(
        Raw,
        r#"select a.id, a.household_id, a.first_day, a.last_day, a.reason, a.comment, a.declared_at,
            ac.first_name || ' ' || ac.last_name as "declared_by!", a.status, a.decision_reason,
            a.decided_at, ce.media_type as "media_type?"
         from absence a
         join account ac on ac.id = a.declared_by
         left join certificate ce on ce.id = a.certificate_id
         where a.activity = $1
           and ($2::bigint is null or a.household_id = $2)
           and (not $3 or a.status = 'pending')
           and ($4::bigint is null or a.id = $4)
         order by case when $2::bigint is null then a.declared_at end asc,
                  a.first_day desc, a.id desc
         limit $5"#,
        activity.code(),
        household.map(|h| h.get()),
        pending_only,
        only.map(|a| a.get()),
        LIST_LIMIT,
    )
    .fetch_all(pool)
    .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let days = sqlx::query_as!(
        RawDay,
        r#"select d.absence_id, d.child_id, c.first_name, c.last_name, s.name as school_name,
            d.service_date, d.notice
         from absence_day d
         join child c on c.id = d.child_id
         join school s on s.id = c.school_id
         where d.absence_id = any($1)
         order by d.absence_id, c.first_name, d.child_id, d.service_date"#,
        &ids,
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(|r| decode(r, &days)).collect()
}

pub async fn list(
    pool: &PgPool,
    activity: Activity,
    household: Option<HouseholdId>,
    pending_only: bool,
) -> Result<Vec<AbsenceRow>> {
    select(pool, activity, household, pending_only, None).await
}

pub async fn one(
    pool: &PgPool,
    household: Option<HouseholdId>,
    id: AbsenceId,
) -> Result<Option<AbsenceRow>> {
    Ok(select(pool, super::ACTIVITY, household, false, Some(id))
        .await?
        .into_iter()
        .next())
}

/// The certificate row of an absence.
pub struct StoredCertificate {
    pub id: i64,
    pub household: HouseholdId,
    pub key: Uuid,
    pub kind: CertificateType,
    pub sha256_hex: String,
}

/// An absence's current certificate, scoped to a household when one is given.
pub async fn certificate_of(
    pool: &PgPool,
    household: Option<HouseholdId>,
    id: AbsenceId,
) -> Result<Option<StoredCertificate>> {
    let row = sqlx::query!(
        "select ce.id, ce.household_id, ce.storage_key, ce.media_type, encode(ce.sha256, 'hex') as sha256_hex
         from absence a join certificate ce on ce.id = a.certificate_id
         where a.id = $1 and ($2::bigint is null or a.household_id = $2)",
        id.get(),
        household.map(|h| h.get()),
    )
    .fetch_optional(pool)
    .await?;
    row.map(|r| {
        Ok(StoredCertificate {
            id: r.id,
            household: HouseholdId(r.household_id),
            key: r.storage_key,
            kind: CertificateType::from_media_type(&r.media_type).ok_or_else(|| {
                Error::Internal(anyhow::anyhow!("stored media type {:?}", r.media_type))
            })?,
            sha256_hex: r.sha256_hex.unwrap_or_default(),
        })
    })
    .transpose()
}
