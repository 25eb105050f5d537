//! The privacy queries: the household's export, its closure, the retention job's deletions.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::error::Result;

/// Every row about the household, one JSON array per table, read in one statement (one
/// snapshot). Secrets are left out (password and token digests, CSRF tokens), and so are the
/// staff members' addresses (`audit_entry.client_ip`) and the derived search text.
pub async fn export(pool: &PgPool, household: i64) -> Result<Value> {
    let value = sqlx::query_scalar!(
        r#"with kids as (
               select id from child where household_id = $1
               union select child_id from custody where other_household_id = $1),
           guardians as (select id from account where household_id = $1)
         select jsonb_build_object(
           'household', (select coalesce(jsonb_agg(to_jsonb(h) - 'search_text'), '[]')
                         from household h where h.id = $1),
           'household_closure', (select coalesce(jsonb_agg(to_jsonb(x)), '[]')
                         from household_closure x where x.household_id = $1),
           'account', (select coalesce(jsonb_agg(to_jsonb(a) - 'password_hash' order by a.id), '[]')
                         from account a where a.id in (select id from guardians)),
           'account_role', (select coalesce(jsonb_agg(to_jsonb(r)), '[]')
                         from account_role r where r.account_id in (select id from guardians)),
           'session', (select coalesce(jsonb_agg(jsonb_build_object('account_id', s.account_id,
                             'created_at', s.created_at, 'expires_at', s.expires_at) order by s.created_at), '[]')
                         from session s where s.account_id in (select id from guardians)),
           'email_token', (select coalesce(jsonb_agg(to_jsonb(t) - 'token_hash' order by t.created_at), '[]')
                         from email_token t where t.household_id = $1
                            or t.account_id in (select id from guardians)),
           'child', (select coalesce(jsonb_agg(to_jsonb(c) order by c.id), '[]')
                         from child c where c.id in (select id from kids)),
           'custody', (select coalesce(jsonb_agg(to_jsonb(c)), '[]')
                         from custody c where c.child_id in (select id from kids)),
           'custody_range', (select coalesce(jsonb_agg(to_jsonb(c) order by c.id), '[]')
                         from custody_range c where c.child_id in (select id from kids)),
           'enrollment', (select coalesce(jsonb_agg(to_jsonb(e) order by e.id), '[]')
                         from enrollment e where e.child_id in (select id from kids)),
           'reservation', (select coalesce(jsonb_agg(to_jsonb(r) order by r.service_date, r.child_id), '[]')
                         from reservation r where r.child_id in (select id from kids)),
           'reservation_event', (select coalesce(jsonb_agg(to_jsonb(r) order by r.id), '[]')
                         from reservation_event r where r.child_id in (select id from kids)),
           'absence', (select coalesce(jsonb_agg(to_jsonb(a) order by a.id), '[]')
                         from absence a where a.household_id = $1),
           'absence_day', (select coalesce(jsonb_agg(to_jsonb(d) order by d.absence_id, d.service_date), '[]')
                         from absence_day d join absence a on a.id = d.absence_id where a.household_id = $1),
           'certificate', (select coalesce(jsonb_agg(to_jsonb(c) order by c.id), '[]')
                         from certificate c where c.household_id = $1),
           'attendance', (select coalesce(jsonb_agg(to_jsonb(a) order by a.service_date, a.child_id), '[]')
                         from attendance a where a.child_id in (select id from kids)),
           'attendance_mark', (select coalesce(jsonb_agg(to_jsonb(m) order by m.id), '[]')
                         from attendance_mark m where m.child_id in (select id from kids)),
           'quotient_familial', (select coalesce(jsonb_agg(to_jsonb(q) order by q.id), '[]')
                         from quotient_familial q where q.household_id = $1),
           'invoice', (select coalesce(jsonb_agg(to_jsonb(i) order by i.id), '[]')
                         from invoice i where i.household_id = $1),
           'invoice_line', (select coalesce(jsonb_agg(to_jsonb(l) order by l.id), '[]')
                         from invoice_line l join invoice i on i.id = l.invoice_id where i.household_id = $1),
           'contest', (select coalesce(jsonb_agg(to_jsonb(c) order by c.id), '[]')
                         from contest c where c.household_id = $1),
           'payment', (select coalesce(jsonb_agg(to_jsonb(p) order by p.id), '[]')
                         from payment p where p.household_id = $1),
           'ledger_entry', (select coalesce(jsonb_agg(to_jsonb(l) order by l.id), '[]')
                         from ledger_entry l where l.household_id = $1),
           'allocation', (select coalesce(jsonb_agg(to_jsonb(a) order by a.id), '[]')
                         from allocation a join ledger_entry l on l.id = a.source_entry_id
                         where l.household_id = $1),
           'payfip_attempt', (select coalesce(jsonb_agg(to_jsonb(p) order by p.id), '[]')
                         from payfip_attempt p where p.household_id = $1),
           'payfip_mismatch', (select coalesce(jsonb_agg(to_jsonb(m) order by m.id), '[]')
                         from payfip_mismatch m join payfip_attempt p on p.id = m.attempt_id
                         where p.household_id = $1),
           'payfip_resolution', (select coalesce(jsonb_agg(to_jsonb(r) order by r.attempt_id), '[]')
                         from payfip_resolution r join payfip_attempt p on p.id = r.attempt_id
                         where p.household_id = $1),
           'sepa_mandate', (select coalesce(jsonb_agg(to_jsonb(m) order by m.id), '[]')
                         from sepa_mandate m where m.household_id = $1),
           'sepa_debit', (select coalesce(jsonb_agg(to_jsonb(d) order by d.id), '[]')
                         from sepa_debit d where d.household_id = $1),
           'sepa_rejection', (select coalesce(jsonb_agg(to_jsonb(r) order by r.debit_id), '[]')
                         from sepa_rejection r join sepa_debit d on d.id = r.debit_id
                         where d.household_id = $1),
           'billing_mail', (select coalesce(jsonb_agg(to_jsonb(m) - 'last_error' order by m.id), '[]')
                         from billing_mail m where m.household_id = $1),
           'audit_entry', (select coalesce(jsonb_agg(to_jsonb(e) - 'client_ip' order by e.id), '[]')
                         from audit_entry e where e.household_id = $1
                            or e.child_id in (select id from kids))
         ) as "export!""#,
        household,
    )
    .fetch_one(pool)
    .await?;
    Ok(value)
}

/// Locks the household's row; `None` when there is no such household. Answers whether it is
/// closed already.
pub async fn lock_household(conn: &mut PgConnection, household: i64) -> Result<Option<bool>> {
    Ok(sqlx::query_scalar!(
        "select closed_at is not null as \"closed!\" from household where id = $1 for update",
        household,
    )
    .fetch_optional(&mut *conn)
    .await?)
}

/// What a closure erased, in counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Erased {
    pub guardians: u64,
    pub children: u64,
    pub sessions: u64,
    pub future_bookings: u64,
    pub certificates: Vec<Uuid>,
}

/// Blanks the household's identities and deletes what only served the service. The history
/// tables are not touched: they name ids only.
pub async fn erase(conn: &mut PgConnection, household: i64, today: NaiveDate) -> Result<Erased> {
    let mut erased = Erased::default();
    let guardians: Vec<i64> =
        sqlx::query_scalar!("select id from account where household_id = $1", household)
            .fetch_all(&mut *conn)
            .await?;
    let children: Vec<i64> =
        sqlx::query_scalar!("select id from child where household_id = $1", household)
            .fetch_all(&mut *conn)
            .await?;
    erased.sessions = sqlx::query!("delete from session where account_id = any($1)", &guardians)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    sqlx::query!(
        "delete from email_token where account_id = any($1) or household_id = $2",
        &guardians,
        household,
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "delete from recovery_code where account_id = any($1)",
        &guardians
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "delete from totp_credential where account_id = any($1)",
        &guardians
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "delete from account_role where account_id = any($1)",
        &guardians
    )
    .execute(&mut *conn)
    .await?;
    // The account row stays (history names it by id), its identity goes.
    erased.guardians = sqlx::query!(
        "update account set email = null, password_hash = null, email_confirmed_at = null,
             first_name = 'Responsable', last_name = 'n° ' || id, phone = '', postal_address = ''
         where household_id = $1",
        household,
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    // Health data goes with the identity; the birth date keeps its year only.
    erased.children = sqlx::query!(
        "update child set first_name = 'Enfant', last_name = 'n° ' || id,
             birth_date = make_date(extract(year from birth_date)::int, 1, 1),
             allergies = '', allergens = '{}', pai = false
         where household_id = $1",
        household,
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    erased.future_bookings = sqlx::query!(
        "delete from reservation where child_id = any($1) and service_date > $2",
        &children,
        today,
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    // Free texts the family typed.
    sqlx::query!(
        "update absence set comment = '' where household_id = $1 and comment <> ''",
        household,
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "update contest set message = '(effacé)' where household_id = $1",
        household
    )
    .execute(&mut *conn)
    .await?;
    // The payer's address copied for PayFiP; the attempt itself is accounting.
    sqlx::query!(
        "update payfip_attempt set mel = '' where household_id = $1",
        household
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "delete from billing_mail where household_id = $1 and sent_at is null",
        household
    )
    .execute(&mut *conn)
    .await?;
    erased.certificates = sqlx::query_scalar!(
        "select storage_key from certificate where household_id = $1",
        household
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(erased)
}

pub async fn mark_closed(
    conn: &mut PgConnection,
    household: i64,
    now: DateTime<Utc>,
    via: &str,
    closed_by: Option<i64>,
) -> Result<()> {
    sqlx::query!(
        "update household set closed_at = $2, address_line1 = '', address_line2 = '' where id = $1",
        household,
        now,
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "insert into household_closure (household_id, closed_at, via, closed_by)
         values ($1, $2, $3, $4)",
        household,
        now,
        via,
        closed_by,
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Rows past their period, deleted; the retention job's dry run rolls its transaction back, so
/// it counts exactly what a run would delete.
pub async fn expired_sessions(conn: &mut PgConnection, now: DateTime<Utc>) -> Result<u64> {
    Ok(
        sqlx::query!("delete from session where expires_at < $1", now)
            .execute(&mut *conn)
            .await?
            .rows_affected(),
    )
}

pub async fn expired_tokens(conn: &mut PgConnection, now: DateTime<Utc>) -> Result<u64> {
    Ok(
        sqlx::query!("delete from email_token where expires_at < $1", now)
            .execute(&mut *conn)
            .await?
            .rows_affected(),
    )
}

/// Never younger than the floor the database enforces (migration 0021), whatever the clock
/// says: a run cannot fail on an entry the trigger would refuse.
pub async fn old_audit_entries(conn: &mut PgConnection, before: DateTime<Utc>) -> Result<u64> {
    Ok(sqlx::query!(
        "delete from audit_entry where at < least($1, now() - interval '183 days')",
        before
    )
    .execute(&mut *conn)
    .await?
    .rows_affected())
}

/// Open households with no sign of life since `before`: none of their accounts, children,
/// enrollments, bookings, invoices or payments is newer, and no session is open at `now`.
pub async fn inactive_households(
    pool: &PgPool,
    before: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<i64>> {
    let today = before.date_naive();
    Ok(sqlx::query_scalar!(
        "select h.id from household h
         where h.closed_at is null and h.created_at < $1
           and not exists (select 1 from account a where a.household_id = h.id
                           and (a.created_at >= $1 or a.updated_at >= $1
                                or exists (select 1 from session s where s.account_id = a.id
                                           and s.expires_at >= $3)))
           and not exists (select 1 from child c where c.household_id = h.id
                           and (c.created_at >= $1 or c.updated_at >= $1
                                or exists (select 1 from enrollment e where e.child_id = c.id
                                           and e.requested_at >= $1)
                                or exists (select 1 from reservation r where r.child_id = c.id
                                           and r.service_date >= $2)))
           and not exists (select 1 from custody c where c.other_household_id = h.id)
           and not exists (select 1 from invoice i where i.household_id = h.id and i.created_at >= $1)
           and not exists (select 1 from payment p where p.household_id = h.id and p.recorded_at >= $1)
         order by h.id",
        before,
        today,
        now,
    )
    .fetch_all(pool)
    .await?)
}

/// Invoices older than the accounting period: counted, never deleted by the job.
pub async fn invoices_before(pool: &PgPool, before: DateTime<Utc>) -> Result<u64> {
    Ok(count(
        sqlx::query_scalar!("select count(*) from invoice where created_at < $1", before)
            .fetch_one(pool)
            .await?,
    ))
}

fn count(n: Option<i64>) -> u64 {
    n.unwrap_or(0).max(0) as u64
}
