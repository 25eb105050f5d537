//! The SQL of SEPA direct debit (migration 0015): mandates, exports, debits, rejections and
//! the ledger's reversal rows.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;

use crate::error::Result;

pub struct MandateRow {
    pub id: i64,
    pub household_id: i64,
    pub rum: String,
    pub holder: String,
    pub iban: String,
    pub bic: String,
    pub signed_on: NaiveDate,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_as: Option<String>,
}

/// The next mandate number, taken before the insert so that the RUM can be written with it.
pub async fn next_mandate_number(conn: &mut PgConnection) -> Result<i64> {
    Ok(
        sqlx::query_scalar!(r#"select nextval('sepa_mandate_number') as "n!""#)
            .fetch_one(conn)
            .await?,
    )
}

pub struct NewMandate<'a> {
    pub id: i64,
    pub household_id: i64,
    pub rum: &'a str,
    pub holder: &'a str,
    pub iban: &'a str,
    pub bic: &'a str,
    pub signed_on: NaiveDate,
    pub created_by: i64,
}

pub async fn insert_mandate(conn: &mut PgConnection, m: NewMandate<'_>) -> Result<MandateRow> {
    Ok(sqlx::query_as!(
        MandateRow,
        "insert into sepa_mandate (id, household_id, rum, holder, iban, bic, signed_on, created_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8)
         returning id, household_id, rum, holder, iban, bic, signed_on, created_at, revoked_at,
                   revoked_as",
        m.id,
        m.household_id,
        m.rum,
        m.holder,
        m.iban,
        m.bic,
        m.signed_on,
        m.created_by
    )
    .fetch_one(conn)
    .await?)
}

/// A household's mandates, newest first; `None`: every household's active ones.
pub async fn mandates(conn: &mut PgConnection, household: Option<i64>) -> Result<Vec<MandateRow>> {
    Ok(sqlx::query_as!(
        MandateRow,
        "select id, household_id, rum, holder, iban, bic, signed_on, created_at, revoked_at,
                revoked_as
         from sepa_mandate
         where ($1::bigint is null and revoked_at is null) or household_id = $1
         order by id desc",
        household
    )
    .fetch_all(conn)
    .await?)
}

pub async fn lock_mandate(conn: &mut PgConnection, id: i64) -> Result<Option<MandateRow>> {
    Ok(sqlx::query_as!(
        MandateRow,
        "select id, household_id, rum, holder, iban, bic, signed_on, created_at, revoked_at,
                revoked_as
         from sepa_mandate where id = $1 for update",
        id
    )
    .fetch_optional(conn)
    .await?)
}

pub async fn revoke_mandate(
    conn: &mut PgConnection,
    id: i64,
    by: i64,
    as_whom: &str,
) -> Result<MandateRow> {
    Ok(sqlx::query_as!(
        MandateRow,
        "update sepa_mandate set revoked_at = clock_timestamp(), revoked_by = $2, revoked_as = $3
         where id = $1
         returning id, household_id, rum, holder, iban, bic, signed_on, created_at, revoked_at,
                   revoked_as",
        id,
        by,
        as_whom
    )
    .fetch_one(conn)
    .await?)
}

pub struct RunRow {
    pub id: i64,
    pub status: String,
    pub regie_code: String,
}

/// The régie's run of `month` (its first day), locked until the caller commits: two exports
/// of the same run wait for each other.
pub async fn lock_run(
    conn: &mut PgConnection,
    regie: &str,
    month: NaiveDate,
) -> Result<Option<RunRow>> {
    Ok(sqlx::query_as!(
        RunRow,
        "select r.id, r.status, g.code as regie_code
         from billing_run r join regie g on g.id = r.regie_id
         where g.code = $1 and r.month = $2 and r.activity = 'canteen'
         for update of r",
        regie,
        month
    )
    .fetch_optional(conn)
    .await?)
}

pub struct ExportRow {
    pub id: i64,
    pub msg_id: String,
    pub created_at: DateTime<Utc>,
    pub collection_date: NaiveDate,
    pub creditor_name: String,
    pub creditor_iban: String,
    pub creditor_bic: String,
    pub creditor_ics: String,
}

pub async fn export_of_run(conn: &mut PgConnection, run: i64) -> Result<Option<ExportRow>> {
    Ok(sqlx::query_as!(
        ExportRow,
        "select id, msg_id, created_at, collection_date, creditor_name, creditor_iban,
                creditor_bic, creditor_ics
         from sepa_export where billing_run_id = $1",
        run
    )
    .fetch_optional(conn)
    .await?)
}

pub struct NewExport<'a> {
    pub run: i64,
    pub msg_id: &'a str,
    pub created_at: DateTime<Utc>,
    pub collection_date: NaiveDate,
    pub creditor_name: &'a str,
    pub creditor_iban: &'a str,
    pub creditor_bic: &'a str,
    pub creditor_ics: &'a str,
    pub created_by: i64,
}

pub async fn insert_export(conn: &mut PgConnection, e: NewExport<'_>) -> Result<i64> {
    Ok(sqlx::query_scalar!(
        "insert into sepa_export (billing_run_id, msg_id, created_at, collection_date,
                                  creditor_name, creditor_iban, creditor_bic, creditor_ics,
                                  created_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9) returning id",
        e.run,
        e.msg_id,
        e.created_at,
        e.collection_date,
        e.creditor_name,
        e.creditor_iban,
        e.creditor_bic,
        e.creditor_ics,
        e.created_by
    )
    .fetch_one(conn)
    .await?)
}

/// An invoice of the run to collect: issued, something left to pay, its household under an
/// active mandate signed by `today`, and not collected before.
pub struct CandidateRow {
    pub invoice_id: i64,
    pub number: String,
    pub household_id: i64,
    pub due: i64,
    pub mandate_id: i64,
    pub rum: String,
    pub holder: String,
    pub iban: String,
    pub bic: String,
    pub signed_on: NaiveDate,
    /// Earlier debits under the mandate that stand (not rejected).
    pub standing: i64,
}

pub async fn candidates(
    conn: &mut PgConnection,
    run: i64,
    today: NaiveDate,
) -> Result<Vec<CandidateRow>> {
    Ok(sqlx::query_as!(
        CandidateRow,
        r#"select i.id as invoice_id, i.number as "number!", i.household_id,
                  (e.amount_cents - coalesce(a.paid, 0))::bigint as "due!",
                  m.id as mandate_id, m.rum, m.holder, m.iban, m.bic, m.signed_on,
                  (select count(*) from sepa_debit d
                   where d.mandate_id = m.id
                     and not exists (select 1 from sepa_rejection r where r.debit_id = d.id)
                  )::bigint as "standing!"
           from invoice i
           join ledger_entry e on e.invoice_id = i.id
           cross join lateral (select sum(amount_cents) as paid from allocation
                               where target_entry_id = e.id) a
           join sepa_mandate m on m.household_id = i.household_id and m.revoked_at is null
                               and m.activity = 'canteen' and m.signed_on <= $2
           where i.billing_run_id = $1 and i.kind = 'invoice' and i.status = 'issued'
             and i.number is not null
             and e.amount_cents - coalesce(a.paid, 0) > 0
             and not exists (select 1 from sepa_debit d where d.invoice_id = i.id)
           order by i.household_id, i.id"#,
        run,
        today
    )
    .fetch_all(conn)
    .await?)
}

pub struct NewDebit<'a> {
    pub export_id: i64,
    pub c: &'a CandidateRow,
    pub end_to_end_id: &'a str,
    pub sequence_type: &'a str,
    pub remittance: &'a str,
    pub payment_id: i64,
}

pub async fn insert_debit(conn: &mut PgConnection, d: NewDebit<'_>) -> Result<i64> {
    Ok(sqlx::query_scalar!(
        "insert into sepa_debit (export_id, mandate_id, household_id, invoice_id, end_to_end_id,
                                 amount_cents, sequence_type, rum, signed_on, holder, iban, bic,
                                 remittance, payment_id)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) returning id",
        d.export_id,
        d.c.mandate_id,
        d.c.household_id,
        d.c.invoice_id,
        d.end_to_end_id,
        d.c.due,
        d.sequence_type,
        d.c.rum,
        d.c.signed_on,
        d.c.holder,
        d.c.iban,
        d.c.bic,
        d.remittance,
        d.payment_id
    )
    .fetch_one(conn)
    .await?)
}

pub struct DebitRow {
    pub id: i64,
    pub household_id: i64,
    pub household_name: String,
    pub invoice_id: i64,
    pub invoice_number: String,
    pub end_to_end_id: String,
    pub amount_cents: i64,
    pub sequence_type: String,
    pub rum: String,
    pub signed_on: NaiveDate,
    pub holder: String,
    pub iban: String,
    pub bic: String,
    pub remittance: String,
    pub payment_id: i64,
    pub collection_date: NaiveDate,
    pub creditor_name: String,
    pub creditor_ics: String,
    pub reason_code: Option<String>,
    pub rejected_at: Option<DateTime<Utc>>,
}

/// Debits: of one export (`export`), or of one household (`household`), or one (`id`); the
/// newest first, an export's in id order.
pub async fn debits(
    conn: &mut PgConnection,
    export: Option<i64>,
    household: Option<i64>,
    id: Option<i64>,
) -> Result<Vec<DebitRow>> {
    Ok(sqlx::query_as!(
        DebitRow,
        r#"select d.id, d.household_id,
                  coalesce((select string_agg(a.first_name || ' ' || a.last_name, ', ' order by a.id)
                            from account a where a.household_id = d.household_id), '') as "household_name!",
                  d.invoice_id,
                  i.number as "invoice_number!", d.end_to_end_id, d.amount_cents, d.sequence_type,
                  d.rum, d.signed_on, d.holder, d.iban, d.bic, d.remittance, d.payment_id,
                  x.collection_date, x.creditor_name, x.creditor_ics,
                  r.reason_code as "reason_code?", r.recorded_at as "rejected_at?"
           from sepa_debit d
           join sepa_export x on x.id = d.export_id
           join invoice i on i.id = d.invoice_id
           left join sepa_rejection r on r.debit_id = d.id
           where ($1::bigint is null or d.export_id = $1)
             and ($2::bigint is null or d.household_id = $2)
             and ($3::bigint is null or d.id = $3)
           order by case when $1::bigint is null then -d.id else d.id end
           limit 500"#,
        export,
        household,
        id
    )
    .fetch_all(conn)
    .await?)
}

pub async fn lock_debit(conn: &mut PgConnection, id: i64) -> Result<Option<(i64, i64, i64)>> {
    Ok(sqlx::query!(
        "select household_id, payment_id, amount_cents from sepa_debit where id = $1 for update",
        id
    )
    .fetch_optional(conn)
    .await?
    .map(|r| (r.household_id, r.payment_id, r.amount_cents)))
}

pub struct RejectionRow {
    pub debit_id: i64,
    pub reason_code: String,
}

pub async fn rejection_by_key(conn: &mut PgConnection, key: &str) -> Result<Option<RejectionRow>> {
    Ok(sqlx::query_as!(
        RejectionRow,
        "select debit_id, reason_code from sepa_rejection where idempotency_key = $1",
        key
    )
    .fetch_optional(conn)
    .await?)
}

pub async fn rejection_of(conn: &mut PgConnection, debit: i64) -> Result<Option<RejectionRow>> {
    Ok(sqlx::query_as!(
        RejectionRow,
        "select debit_id, reason_code from sepa_rejection where debit_id = $1",
        debit
    )
    .fetch_optional(conn)
    .await?)
}

/// The payment's ledger entry and régie.
pub async fn payment_entry(conn: &mut PgConnection, payment: i64) -> Result<(i64, i64)> {
    let r = sqlx::query!(
        "select id, regie_id from ledger_entry where payment_id = $1",
        payment
    )
    .fetch_one(conn)
    .await?;
    Ok((r.id, r.regie_id))
}

pub async fn insert_reversal(
    conn: &mut PgConnection,
    household: i64,
    regie: i64,
    payment: i64,
    amount: i64,
    memo: &str,
    by: i64,
) -> Result<i64> {
    Ok(sqlx::query_scalar!(
        "insert into ledger_entry (household_id, regie_id, kind, amount_cents, reverses_payment_id,
                                   memo, recorded_by)
         values ($1, $2, 'reversal', $3, $4, $5, $6) returning id",
        household,
        regie,
        amount,
        payment,
        memo,
        by
    )
    .fetch_one(conn)
    .await?)
}

/// What the entry settles, per owing entry, net of earlier reversals.
pub async fn settled_by(conn: &mut PgConnection, entry: i64) -> Result<Vec<(i64, i64)>> {
    Ok(sqlx::query!(
        r#"select target_entry_id, sum(amount_cents)::bigint as "amount!" from allocation
           where source_entry_id = $1
           group by target_entry_id having sum(amount_cents) > 0
           order by target_entry_id"#,
        entry
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|r| (r.target_entry_id, r.amount))
    .collect())
}

/// Gives back what `source` settled of each target (negative allocations tied to the
/// reversal), then settles the reversal with the source.
pub async fn insert_reversal_allocations(
    conn: &mut PgConnection,
    source: i64,
    reversal: i64,
    given_back: &[(i64, i64)],
    amount: i64,
) -> Result<()> {
    let mut targets: Vec<i64> = given_back.iter().map(|g| g.0).collect();
    let mut amounts: Vec<i64> = given_back.iter().map(|g| -g.1).collect();
    let mut reversals: Vec<Option<i64>> = vec![Some(reversal); given_back.len()];
    targets.push(reversal);
    amounts.push(amount);
    reversals.push(None);
    let sources = vec![source; targets.len()];
    sqlx::query!(
        "insert into allocation (source_entry_id, target_entry_id, amount_cents, reversal_entry_id)
         select * from unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[])",
        &sources,
        &targets,
        &amounts,
        &reversals as &[Option<i64>]
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn insert_rejection(
    conn: &mut PgConnection,
    debit: i64,
    reason: &str,
    key: &str,
    entry: i64,
    by: i64,
) -> Result<()> {
    sqlx::query!(
        "insert into sepa_rejection (debit_id, reason_code, idempotency_key, reversal_entry_id,
                                     recorded_by)
         values ($1, $2, $3, $4, $5)",
        debit,
        reason,
        key,
        entry,
        by
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Queues a debit's mail for the billing outbox, to be sent from `at`.
pub async fn queue_debit_mail(
    conn: &mut PgConnection,
    kind: &str,
    household: i64,
    debit: i64,
    at: DateTime<Utc>,
) -> Result<()> {
    sqlx::query!(
        "insert into billing_mail (kind, household_id, sepa_debit_id, next_attempt_at)
         values ($1, $2, $3, greatest($4, clock_timestamp()))",
        kind,
        household,
        debit,
        at
    )
    .execute(conn)
    .await?;
    Ok(())
}
