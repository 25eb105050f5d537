//! The payments' SQL: PayFiP attempts, their verdicts and mismatches.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use crate::error::Result;

/// An attempt as stored, with its invoice's number and its régie's code.
#[derive(Debug, Clone)]
pub struct AttemptRow {
    pub id: i64,
    pub invoice_id: i64,
    pub invoice_number: Option<String>,
    pub household_id: i64,
    pub regie: String,
    pub numcli: String,
    pub exer: i32,
    pub refdet: String,
    pub attempt: i32,
    pub amount_cents: i64,
    pub saisie: String,
    pub id_op: String,
    pub created_at: DateTime<Utc>,
    pub state: String,
    pub checked_at: Option<DateTime<Utc>>,
    pub next_check_at: DateTime<Utc>,
    pub tries: i32,
    pub last_fault: Option<String>,
    pub means: Option<String>,
    pub authorisation: Option<String>,
    pub transaction_at: Option<DateTime<Utc>>,
    pub payment_id: Option<i64>,
    pub decided_at: Option<DateTime<Utc>>,
}

pub struct NewAttempt<'a> {
    pub invoice_id: i64,
    pub household_id: i64,
    pub regie: &'a str,
    pub numcli: &'a str,
    pub exer: i32,
    pub refdet: &'a str,
    pub attempt: i32,
    pub amount_cents: i64,
    pub saisie: &'a str,
    pub mel: &'a str,
    pub id_op: &'a str,
    pub created_at: DateTime<Utc>,
    pub next_check_at: DateTime<Utc>,
}

/// Records the attempt with its `idOp` in one statement: there is no attempt without one.
pub async fn insert_attempt(
    conn: &mut PgConnection,
    a: NewAttempt<'_>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        "insert into payfip_attempt (invoice_id, household_id, regie_id, numcli, exer, refdet,
                                     attempt, amount_cents, saisie, mel, id_op, created_at,
                                     next_check_at)
         select $1, $2, r.id, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13
         from regie r where r.code = $3
         returning id",
        a.invoice_id,
        a.household_id,
        a.regie,
        a.numcli,
        a.exer,
        a.refdet,
        a.attempt,
        a.amount_cents,
        a.saisie,
        a.mel,
        a.id_op,
        a.created_at,
        a.next_check_at
    )
    .fetch_one(conn)
    .await
}

/// The next attempt's counter on the invoice (1 for the first).
pub async fn next_attempt(conn: &mut PgConnection, invoice: i64) -> Result<i32> {
    Ok(sqlx::query_scalar!(
        r#"select (coalesce(max(attempt), 0) + 1)::integer as "next!"
           from payfip_attempt where invoice_id = $1"#,
        invoice
    )
    .fetch_one(conn)
    .await?)
}

/// Serialises the starts of one invoice until the transaction ends: a second start waits
/// here while the first asks PayFiP, then finds its attempt recorded. An advisory lock keyed
/// on the invoice alone (the single-`bigint` key space, which nothing else uses), so the
/// invoice row stays free for the ledger's writers while PayFiP answers.
pub async fn lock_invoice_starts(conn: &mut PgConnection, invoice: i64) -> Result<()> {
    sqlx::query!("select pg_advisory_xact_lock($1)", invoice)
        .execute(conn)
        .await?;
    Ok(())
}

/// How many of the invoice's attempts may still succeed (pending) or wait for finance
/// (mismatch not yet resolved).
pub async fn live_attempts(conn: &mut PgConnection, invoice: i64) -> Result<i64> {
    Ok(sqlx::query_scalar!(
        r#"select count(*) as "n!" from payfip_attempt a
           where a.invoice_id = $1
             and (a.state = 'pending'
                  or (a.state = 'mismatch'
                      and not exists (select 1 from payfip_resolution r where r.attempt_id = a.id)))"#,
        invoice
    )
    .fetch_one(conn)
    .await?)
}

/// Claims the right to ask PayFiP about a pending attempt now: false when it was asked at
/// or after `not_since` (the answer then is the stored state). One statement, so of
/// concurrent callers only one claims.
pub async fn claim_refresh(
    conn: &mut PgConnection,
    id: i64,
    now: DateTime<Utc>,
    not_since: DateTime<Utc>,
) -> Result<bool> {
    Ok(sqlx::query_scalar!(
        "update payfip_attempt set checked_at = $2
         where id = $1 and state = 'pending' and (checked_at is null or checked_at < $3)
         returning id",
        id,
        now,
        not_since
    )
    .fetch_optional(conn)
    .await?
    .is_some())
}

/// The `idOp`s of the invoice's attempts still pending.
pub async fn pending_of_invoice(conn: &mut PgConnection, invoice: i64) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar!(
        "select id_op from payfip_attempt where invoice_id = $1 and state = 'pending' order by id",
        invoice
    )
    .fetch_all(conn)
    .await?)
}

/// Pending attempts whose next check is due, oldest due first.
pub async fn due(conn: &mut PgConnection, now: DateTime<Utc>, limit: i64) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar!(
        "select id_op from payfip_attempt
         where state = 'pending' and next_check_at <= $1
         order by next_check_at, id limit $2",
        now,
        limit
    )
    .fetch_all(conn)
    .await?)
}

/// Which attempts to read: each `None` lets all through.
#[derive(Default, Clone, Copy)]
pub struct Filter<'a> {
    pub id: Option<i64>,
    pub id_op: Option<&'a str>,
    pub household: Option<i64>,
    pub refdet: Option<&'a str>,
    pub opened_from: Option<DateTime<Utc>>,
    pub opened_before: Option<DateTime<Utc>>,
    pub payments: Option<&'a [i64]>,
}

/// Attempts by the filter, newest first.
pub async fn attempts(conn: &mut PgConnection, f: Filter<'_>) -> Result<Vec<AttemptRow>> {
    Ok(sqlx::query_as!(
        AttemptRow,
        r#"select a.id, a.invoice_id, i.number as "invoice_number?", a.household_id,
                  r.code as regie, a.numcli, a.exer, a.refdet, a.attempt, a.amount_cents,
                  a.saisie, a.id_op, a.created_at, a.state, a.checked_at, a.next_check_at,
                  a.tries, a.last_fault, a.means, a.authorisation, a.transaction_at,
                  a.payment_id, a.decided_at
           from payfip_attempt a
           join regie r on r.id = a.regie_id
           join invoice i on i.id = a.invoice_id
           where ($1::bigint is null or a.id = $1)
             and ($2::text is null or a.id_op = $2)
             and ($3::bigint is null or a.household_id = $3)
             and ($4::text is null or a.refdet = $4)
             and ($5::timestamptz is null or a.created_at >= $5)
             and ($6::timestamptz is null or a.created_at < $6)
             and ($7::bigint[] is null or a.payment_id = any($7))
           order by a.id desc"#,
        f.id,
        f.id_op,
        f.household,
        f.refdet,
        f.opened_from,
        f.opened_before,
        f.payments
    )
    .fetch_all(conn)
    .await?)
}

pub async fn one(conn: &mut PgConnection, f: Filter<'_>) -> Result<Option<AttemptRow>> {
    Ok(attempts(conn, f).await?.into_iter().next())
}

/// The attempt with its row locked until the transaction ends: verdicts are applied one at a
/// time, so a second notification finds the first one's state.
pub async fn lock_by_id_op(conn: &mut PgConnection, id_op: &str) -> Result<Option<AttemptRow>> {
    Ok(sqlx::query_as!(
        AttemptRow,
        r#"select a.id, a.invoice_id, i.number as "invoice_number?", a.household_id,
                  r.code as regie, a.numcli, a.exer, a.refdet, a.attempt, a.amount_cents,
                  a.saisie, a.id_op, a.created_at, a.state, a.checked_at, a.next_check_at,
                  a.tries, a.last_fault, a.means, a.authorisation, a.transaction_at,
                  a.payment_id, a.decided_at
           from payfip_attempt a
           join regie r on r.id = a.regie_id
           join invoice i on i.id = a.invoice_id
           where a.id_op = $1
           for update of a"#,
        id_op
    )
    .fetch_optional(conn)
    .await?)
}

pub struct Decision<'a> {
    pub state: &'a str,
    pub means: Option<&'a str>,
    pub authorisation: Option<&'a str>,
    pub transaction_at: Option<DateTime<Utc>>,
    pub payment_id: Option<i64>,
    pub fault: Option<&'a str>,
    pub now: DateTime<Utc>,
}

/// Gives a pending attempt its final state.
pub async fn decide(conn: &mut PgConnection, id: i64, d: Decision<'_>) -> Result<()> {
    sqlx::query!(
        "update payfip_attempt
         set state = $2, means = $3, authorisation = $4, transaction_at = $5, payment_id = $6,
             last_fault = coalesce($7, last_fault), checked_at = $8, decided_at = $8,
             tries = tries + 1
         where id = $1 and state = 'pending'",
        id,
        d.state,
        d.means,
        d.authorisation,
        d.transaction_at,
        d.payment_id,
        d.fault,
        d.now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Keeps an attempt pending until `next_check_at`, with the fault that kept it so, if any.
pub async fn keep_pending(
    conn: &mut PgConnection,
    id: i64,
    now: DateTime<Utc>,
    next_check_at: DateTime<Utc>,
    fault: Option<&str>,
) -> Result<()> {
    sqlx::query!(
        "update payfip_attempt
         set checked_at = $2, next_check_at = $3, last_fault = $4, tries = tries + 1
         where id = $1 and state = 'pending'",
        id,
        now,
        next_check_at,
        fault
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn insert_mismatch(
    conn: &mut PgConnection,
    attempt: i64,
    found: &serde_json::Value,
    answer: &serde_json::Value,
) -> Result<()> {
    sqlx::query!(
        "insert into payfip_mismatch (attempt_id, found, answer) values ($1, $2, $3)",
        attempt,
        found,
        answer
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub struct MismatchRow {
    pub attempt_id: i64,
    pub found: serde_json::Value,
    pub recorded_at: DateTime<Utc>,
}

pub async fn mismatches_of(conn: &mut PgConnection, attempts: &[i64]) -> Result<Vec<MismatchRow>> {
    Ok(sqlx::query_as!(
        MismatchRow,
        "select attempt_id, found, recorded_at from payfip_mismatch
         where attempt_id = any($1) order by id",
        attempts
    )
    .fetch_all(conn)
    .await?)
}

/// A PayFiP payment of the ledger.
pub struct LedgerPaymentRow {
    pub id: i64,
    pub household_id: i64,
    pub amount_cents: i64,
    pub idempotency_key: String,
    pub recorded_at: DateTime<Utc>,
}

/// The ledger's PayFiP payments recorded in `[from, to)`.
pub async fn ledger_payments_between(
    conn: &mut PgConnection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<LedgerPaymentRow>> {
    Ok(sqlx::query_as!(
        LedgerPaymentRow,
        "select id, household_id, amount_cents, idempotency_key, recorded_at from payment
         where means = 'payfip' and recorded_at >= $1 and recorded_at < $2 order by id",
        from,
        to
    )
    .fetch_all(conn)
    .await?)
}

/// A mismatch for finance: the attempt, the household, the latest answer, and the decision
/// once taken.
pub struct MismatchCaseRow {
    pub attempt_id: i64,
    pub invoice_id: i64,
    pub invoice_number: Option<String>,
    pub household_id: i64,
    pub household_name: String,
    pub refdet: String,
    pub id_op: String,
    pub amount_cents: i64,
    pub created_at: DateTime<Utc>,
    pub found: serde_json::Value,
    pub answer: serde_json::Value,
    pub recorded_at: DateTime<Utc>,
    pub decision: Option<String>,
    pub resolved_amount_cents: Option<i64>,
    pub resolved_payment_id: Option<i64>,
    pub reason: Option<String>,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
}

/// The attempts in `mismatch`, each with its latest mismatch record, open ones first, then
/// newest first; `open_only` leaves out the resolved ones; `attempt` picks one.
pub async fn mismatch_cases(
    conn: &mut PgConnection,
    open_only: bool,
    attempt: Option<i64>,
) -> Result<Vec<MismatchCaseRow>> {
    Ok(sqlx::query_as!(
        MismatchCaseRow,
        r#"select a.id as attempt_id, a.invoice_id, i.number as "invoice_number?",
                  a.household_id,
                  coalesce((select string_agg(g.first_name || ' ' || g.last_name, ', ' order by g.id)
                            from account g where g.household_id = a.household_id), '') as "household_name!",
                  a.refdet, a.id_op, a.amount_cents,
                  a.created_at, m.found as "found!", m.answer as "answer!",
                  m.recorded_at as "recorded_at!",
                  r.decision as "decision?", r.amount_cents as "resolved_amount_cents?",
                  r.payment_id as "resolved_payment_id?", r.reason as "reason?",
                  acc.first_name || ' ' || acc.last_name as "resolved_by?", r.resolved_at as "resolved_at?"
           from payfip_attempt a
           join invoice i on i.id = a.invoice_id
           join lateral (select found, answer, recorded_at from payfip_mismatch
                         where attempt_id = a.id order by id desc limit 1) m on true
           left join payfip_resolution r on r.attempt_id = a.id
           left join account acc on acc.id = r.resolved_by
           where a.state = 'mismatch'
             and (not $1 or r.id is null)
             and ($2::bigint is null or a.id = $2)
           order by (r.id is null) desc, a.id desc"#,
        open_only,
        attempt
    )
    .fetch_all(conn)
    .await?)
}

pub struct NewResolution<'a> {
    pub attempt_id: i64,
    pub decision: &'a str,
    pub amount_cents: Option<i64>,
    pub payment_id: Option<i64>,
    pub reason: &'a str,
    pub resolved_by: i64,
    pub resolved_at: DateTime<Utc>,
}

pub async fn insert_resolution(
    conn: &mut PgConnection,
    r: NewResolution<'_>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        "insert into payfip_resolution (attempt_id, decision, amount_cents, payment_id, reason,
                                        resolved_by, resolved_at)
         values ($1, $2, $3, $4, $5, $6, $7) returning id",
        r.attempt_id,
        r.decision,
        r.amount_cents,
        r.payment_id,
        r.reason,
        r.resolved_by,
        r.resolved_at
    )
    .fetch_one(conn)
    .await
}

/// Locks the attempt by id (the resolution is taken one at a time) and says whether it is an
/// open mismatch: `None` when no such attempt.
pub async fn lock_attempt(conn: &mut PgConnection, id: i64) -> Result<Option<(String, bool)>> {
    Ok(sqlx::query!(
        r#"select a.state,
                  exists (select 1 from payfip_resolution r where r.attempt_id = a.id) as "resolved!"
           from payfip_attempt a where a.id = $1 for update of a"#,
        id
    )
    .fetch_optional(conn)
    .await?
    .map(|r| (r.state, r.resolved)))
}

/// The ledger payments that accepted mismatches credited, among `payments`.
pub async fn resolution_payments(conn: &mut PgConnection, payments: &[i64]) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar!(
        r#"select payment_id as "payment_id!" from payfip_resolution
           where payment_id = any($1)"#,
        payments
    )
    .fetch_all(conn)
    .await?)
}

/// Which of `attempts` finance has resolved.
pub async fn resolved_attempts(conn: &mut PgConnection, attempts: &[i64]) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar!(
        "select attempt_id from payfip_resolution where attempt_id = any($1)",
        attempts
    )
    .fetch_all(conn)
    .await?)
}
