//! The ledger's SQL: numbering, entries, allocations, payments, contests, the billing mail
//! outbox, and the reading of invoices.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;

use crate::error::Result;

/// Increments the régie's sequence for the year and kind (creating it at 1), returning the
/// régie's code and the number.
pub async fn next_number(
    conn: &mut PgConnection,
    regie_id: i64,
    year: i32,
    kind: &str,
) -> Result<(String, i32)> {
    let row = sqlx::query!(
        r#"with n as (
               insert into invoice_sequence (regie_id, year, kind, last_number)
               values ($1, $2, $3, 1)
               on conflict (regie_id, year, kind)
               do update set last_number = invoice_sequence.last_number + 1
               returning regie_id, last_number)
           select r.code, n.last_number from n join regie r on r.id = n.regie_id"#,
        regie_id,
        year,
        kind
    )
    .fetch_one(conn)
    .await?;
    Ok((row.code, row.last_number))
}

pub struct DocumentToPost {
    pub household_id: i64,
    pub regie_id: i64,
    pub kind: String,
    pub status: String,
    pub number: Option<String>,
    pub amount_cents: i64,
    pub corrects_invoice_id: Option<i64>,
    pub created_by: Option<i64>,
}

pub async fn document_to_post(conn: &mut PgConnection, id: i64) -> Result<DocumentToPost> {
    Ok(sqlx::query_as!(
        DocumentToPost,
        "select household_id, regie_id, kind, status, number, amount_cents, corrects_invoice_id,
                created_by
         from invoice where id = $1",
        id
    )
    .fetch_one(conn)
    .await?)
}

/// Serialises the household's ledger changes: allocations read what is left, then write.
pub async fn lock_household(conn: &mut PgConnection, household: i64) -> Result<()> {
    sqlx::query!(
        "select id from household where id = $1 for no key update",
        household
    )
    .fetch_one(conn)
    .await?;
    Ok(())
}

pub struct NewEntry<'a> {
    pub household_id: i64,
    pub regie_id: i64,
    pub kind: &'a str,
    pub amount: i64,
    pub invoice_id: Option<i64>,
    pub payment_id: Option<i64>,
    pub memo: &'a str,
    pub recorded_by: Option<i64>,
}

pub async fn insert_entry(conn: &mut PgConnection, e: NewEntry<'_>) -> Result<i64> {
    Ok(sqlx::query_scalar!(
        "insert into ledger_entry (household_id, regie_id, kind, amount_cents, invoice_id,
                                   payment_id, memo, recorded_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8) returning id",
        e.household_id,
        e.regie_id,
        e.kind,
        e.amount,
        e.invoice_id,
        e.payment_id,
        e.memo,
        e.recorded_by
    )
    .fetch_one(conn)
    .await?)
}

/// The household's settling entries (payments, credit notes) of the régie with something
/// left to allocate, oldest first: (entry, what is left).
pub async fn open_credits(
    conn: &mut PgConnection,
    household: i64,
    regie: i64,
) -> Result<Vec<(i64, i64)>> {
    let rows = sqlx::query!(
        r#"select e.id, (-e.amount_cents - a.used)::bigint as "left!"
           from ledger_entry e
           cross join lateral (select coalesce(sum(amount_cents), 0) as used from allocation
                               where source_entry_id = e.id) a
           where e.household_id = $1 and e.regie_id = $2 and e.kind in ('payment', 'credit_note')
             and -e.amount_cents - a.used > 0
           order by e.id"#,
        household,
        regie
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.left)).collect())
}

/// The household's owing entries (invoices, refunds) of the régie still due, `first`'s entry
/// first, then the oldest: (entry, what is left to settle).
pub async fn open_dues(
    conn: &mut PgConnection,
    household: i64,
    regie: i64,
    first: Option<i64>,
) -> Result<Vec<(i64, i64)>> {
    let rows = sqlx::query!(
        r#"select e.id, (e.amount_cents - a.paid)::bigint as "left!"
           from ledger_entry e
           cross join lateral (select coalesce(sum(amount_cents), 0) as paid from allocation
                               where target_entry_id = e.id) a
           where e.household_id = $1 and e.regie_id = $2 and e.kind in ('invoice', 'refund')
             and e.amount_cents - a.paid > 0
           order by e.invoice_id is not distinct from $3 desc, e.id"#,
        household,
        regie,
        first
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.left)).collect())
}

/// Records (source, target, amount) triples in one statement.
pub async fn insert_allocations(conn: &mut PgConnection, pairs: &[(i64, i64, i64)]) -> Result<()> {
    let sources: Vec<i64> = pairs.iter().map(|p| p.0).collect();
    let targets: Vec<i64> = pairs.iter().map(|p| p.1).collect();
    let amounts: Vec<i64> = pairs.iter().map(|p| p.2).collect();
    sqlx::query!(
        "insert into allocation (source_entry_id, target_entry_id, amount_cents)
         select * from unnest($1::bigint[], $2::bigint[], $3::bigint[])",
        &sources,
        &targets,
        &amounts
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn regie_id(conn: &mut PgConnection, code: &str) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar!("select id from regie where code = $1", code)
            .fetch_optional(conn)
            .await?,
    )
}

/// Locks the household's row when it exists; `false` when it does not.
pub async fn lock_household_if_any(conn: &mut PgConnection, household: i64) -> Result<bool> {
    Ok(sqlx::query_scalar!(
        "select id from household where id = $1 for no key update",
        household
    )
    .fetch_optional(conn)
    .await?
    .is_some())
}

/// An invoice or credit note with what its allocations say.
pub struct SummaryRow {
    pub id: i64,
    pub kind: String,
    pub number: Option<String>,
    pub month: NaiveDate,
    pub regie: String,
    pub household_id: i64,
    pub household_name: String,
    pub amount_cents: i64,
    pub status: String,
    pub issued_at: Option<DateTime<Utc>>,
    /// Allocated to it (an invoice: paid by payments and credit notes).
    pub settled: i64,
    /// Allocated from it (a credit note: what it has settled).
    pub used: i64,
    /// The issued credit notes correcting it.
    pub credited: i64,
    pub corrects_invoice_id: Option<i64>,
    pub corrects_number: Option<String>,
    pub reason: Option<String>,
}

/// Documents by the filters given (each `None` lets all through), newest first.
pub async fn summaries(
    conn: &mut PgConnection,
    filter: SummaryFilter<'_>,
) -> Result<Vec<SummaryRow>> {
    Ok(sqlx::query_as!(
        SummaryRow,
        r#"select i.id, i.kind, i.number, i.month, r.code as regie, i.household_id,
                  coalesce((select string_agg(a.first_name || ' ' || a.last_name, ', ' order by a.id)
                            from account a where a.household_id = i.household_id), '') as "household_name!",
                  i.amount_cents, i.status, i.issued_at,
                  coalesce((select sum(al.amount_cents) from ledger_entry e
                            join allocation al on al.target_entry_id = e.id
                            where e.invoice_id = i.id), 0)::bigint as "settled!",
                  coalesce((select sum(al.amount_cents) from ledger_entry e
                            join allocation al on al.source_entry_id = e.id
                            where e.invoice_id = i.id), 0)::bigint as "used!",
                  coalesce((select sum(c.amount_cents) from invoice c
                            where c.corrects_invoice_id = i.id and c.status = 'issued'), 0)::bigint as "credited!",
                  i.corrects_invoice_id, k.number as "corrects_number?", i.reason
           from invoice i
           join regie r on r.id = i.regie_id
           left join invoice k on k.id = i.corrects_invoice_id
           where ($1::bigint is null or i.household_id = $1)
             and ($2::bigint[] is null or i.id = any($2))
             and ($3::text is null or r.code = $3)
             and ($4::date is null or i.month = $4)
             and ($5::text is null or i.kind = $5)
             and (not $6 or i.status = 'issued')
           order by i.month desc, i.issued_at desc nulls first, i.id desc"#,
        filter.household,
        filter.ids,
        filter.regie,
        filter.month,
        filter.kind,
        filter.issued_only
    )
    .fetch_all(conn)
    .await?)
}

#[derive(Default, Clone, Copy)]
pub struct SummaryFilter<'a> {
    pub household: Option<i64>,
    pub ids: Option<&'a [i64]>,
    pub regie: Option<&'a str>,
    pub month: Option<NaiveDate>,
    pub kind: Option<&'a str>,
    pub issued_only: bool,
}

pub struct RecipientRow {
    pub id: i64,
    pub address_line1: String,
    pub address_line2: String,
    pub postcode: String,
    pub city: String,
    pub names: Vec<String>,
    pub email: Option<String>,
}

/// The households' guardians (in the order they joined) and address; the e-mail is the
/// first guardian's with a confirmed address, else the first one's.
pub async fn recipients(conn: &mut PgConnection, households: &[i64]) -> Result<Vec<RecipientRow>> {
    Ok(sqlx::query_as!(
        RecipientRow,
        r#"select h.id, h.address_line1, h.address_line2, h.postcode, h.city,
                  array(select a.first_name || ' ' || a.last_name from account a
                        where a.household_id = h.id order by a.id) as "names!",
                  (select a.email from account a where a.household_id = h.id and a.email is not null
                   order by a.email_confirmed_at is null, a.id limit 1) as email
           from household h where h.id = any($1)"#,
        households
    )
    .fetch_all(conn)
    .await?)
}

pub struct LineRow {
    pub id: i64,
    pub invoice_id: i64,
    pub position: i32,
    pub child_id: Option<i64>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub service_date: Option<NaiveDate>,
    pub kind: String,
    pub amount_cents: i64,
    pub explanation: serde_json::Value,
}

/// The lines of the invoices, or the lines named, in order.
pub async fn lines(
    conn: &mut PgConnection,
    invoices: &[i64],
    ids: Option<&[i64]>,
) -> Result<Vec<LineRow>> {
    Ok(sqlx::query_as!(
        LineRow,
        r#"select l.id, l.invoice_id, l.position, l.child_id, c.first_name as "first_name?",
                  c.last_name as "last_name?", l.service_date, l.kind, l.amount_cents,
                  l.explanation
           from invoice_line l left join child c on c.id = l.child_id
           where l.invoice_id = any($1) or l.id = any($2)
           order by l.invoice_id, l.position"#,
        invoices,
        ids as Option<&[i64]>
    )
    .fetch_all(conn)
    .await?)
}

pub struct ContestRow {
    pub id: i64,
    pub invoice_line_id: i64,
    pub household_id: i64,
    pub status: String,
    pub message: String,
    pub created_at: DateTime<Utc>,
    pub answer: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
    pub credit_note_id: Option<i64>,
    pub credit_note_number: Option<String>,
}

/// Per line, its open contest, else its latest answered one.
pub async fn line_contests(conn: &mut PgConnection, lines: &[i64]) -> Result<Vec<ContestRow>> {
    Ok(sqlx::query_as!(
        ContestRow,
        r#"select distinct on (k.invoice_line_id)
                  k.id, k.invoice_line_id, k.household_id, k.status, k.message, k.created_at,
                  k.answer, k.answered_at, k.credit_note_id, n.number as "credit_note_number?"
           from contest k left join invoice n on n.id = k.credit_note_id
           where k.invoice_line_id = any($1)
           order by k.invoice_line_id, k.status = 'open' desc, k.created_at desc, k.id desc"#,
        lines
    )
    .fetch_all(conn)
    .await?)
}

/// The contests, or the open ones, or one: oldest first.
pub async fn contests(
    conn: &mut PgConnection,
    open_only: bool,
    id: Option<i64>,
) -> Result<Vec<ContestRow>> {
    Ok(sqlx::query_as!(
        ContestRow,
        r#"select k.id, k.invoice_line_id, k.household_id, k.status, k.message, k.created_at,
                  k.answer, k.answered_at, k.credit_note_id, n.number as "credit_note_number?"
           from contest k left join invoice n on n.id = k.credit_note_id
           where (not $1 or k.status = 'open') and ($2::bigint is null or k.id = $2)
           order by k.created_at, k.id"#,
        open_only,
        id
    )
    .fetch_all(conn)
    .await?)
}

/// What crediting an invoice needs to know of it.
pub struct Creditable {
    pub regie_id: i64,
    pub household_id: i64,
    pub kind: String,
    pub status: String,
    pub month: NaiveDate,
    pub amount_cents: i64,
    pub credited: i64,
}

pub async fn creditable(conn: &mut PgConnection, invoice: i64) -> Result<Option<Creditable>> {
    Ok(sqlx::query_as!(
        Creditable,
        r#"select i.regie_id, i.household_id, i.kind, i.status, i.month, i.amount_cents,
                  coalesce((select sum(c.amount_cents) from invoice c
                            where c.corrects_invoice_id = i.id and c.status = 'issued'), 0)::bigint
                      as "credited!"
           from invoice i where i.id = $1"#,
        invoice
    )
    .fetch_optional(conn)
    .await?)
}

/// The invoice's lines with what earlier credit notes already credited on each.
pub async fn creditable_lines(
    conn: &mut PgConnection,
    invoice: i64,
) -> Result<Vec<(i64, i64, i64)>> {
    let rows = sqlx::query!(
        r#"select l.id, l.amount_cents,
                  coalesce((select sum(c.amount_cents) from invoice_line c
                            join invoice n on n.id = c.invoice_id and n.status = 'issued'
                            where c.credits_line_id = l.id), 0)::bigint as "credited!"
           from invoice_line l where l.invoice_id = $1"#,
        invoice
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.id, r.amount_cents, r.credited))
        .collect())
}

pub struct NewCreditNote<'a> {
    pub regie_id: i64,
    pub household_id: i64,
    pub month: NaiveDate,
    pub number: &'a str,
    pub amount: i64,
    pub corrects: i64,
    pub reason: &'a str,
    pub created_by: i64,
}

/// An issued credit note, with its lines (each a `credit` line, optionally against a line of
/// the corrected invoice, whose child and day it keeps).
pub async fn insert_credit_note(
    conn: &mut PgConnection,
    note: NewCreditNote<'_>,
    lines: &[(Option<i64>, i64)],
    explanation: serde_json::Value,
) -> Result<i64> {
    let id = sqlx::query_scalar!(
        "insert into invoice (regie_id, household_id, kind, month, number, status, amount_cents,
                              corrects_invoice_id, reason, created_by, issued_at)
         values ($1, $2, 'credit_note', $3, $4, 'issued', $5, $6, $7, $8, clock_timestamp())
         returning id",
        note.regie_id,
        note.household_id,
        note.month,
        note.number,
        note.amount,
        note.corrects,
        note.reason,
        note.created_by
    )
    .fetch_one(&mut *conn)
    .await?;
    let credited: Vec<Option<i64>> = lines.iter().map(|l| l.0).collect();
    let amounts: Vec<i64> = lines.iter().map(|l| l.1).collect();
    sqlx::query!(
        "insert into invoice_line (invoice_id, position, child_id, service_date, kind, amount_cents,
                                   explanation, credits_line_id)
         select $1, n.position::int, o.child_id, o.service_date, 'credit', n.amount, $4, n.credits
         from unnest($2::bigint[], $3::bigint[]) with ordinality as n(credits, amount, position)
         left join invoice_line o on o.id = n.credits",
        id,
        &credited as &[Option<i64>],
        &amounts,
        explanation
    )
    .execute(&mut *conn)
    .await?;
    Ok(id)
}

pub async fn queue_mail(
    conn: &mut PgConnection,
    kind: &str,
    household: i64,
    invoice: Option<i64>,
    contest: Option<i64>,
) -> Result<()> {
    sqlx::query!(
        "insert into billing_mail (kind, household_id, invoice_id, contest_id)
         values ($1, $2, $3, $4)",
        kind,
        household,
        invoice,
        contest
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The issued invoice line a household may contest: (line, invoice).
pub async fn contestable_line(
    conn: &mut PgConnection,
    household: i64,
    account: i64,
    line: i64,
) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar!(
        "select l.id from invoice_line l
         join invoice i on i.id = l.invoice_id
         where l.id = $1 and i.household_id = $2 and i.status = 'issued' and i.kind = 'invoice'
           and exists (select 1 from account a where a.id = $3 and a.household_id = $2)",
        line,
        household,
        account
    )
    .fetch_optional(conn)
    .await?)
}

/// A new open contest; `None` when the line has one open already.
pub async fn insert_contest(
    conn: &mut PgConnection,
    line: i64,
    household: i64,
    account: i64,
    message: &str,
) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar!(
        "insert into contest (invoice_line_id, household_id, message, created_by)
         values ($1, $2, $3, $4)
         on conflict (invoice_line_id) where status = 'open' do nothing
         returning id",
        line,
        household,
        message,
        account
    )
    .fetch_optional(conn)
    .await?)
}

pub struct ContestToAnswer {
    pub status: String,
    pub household_id: i64,
    pub invoice_line_id: i64,
    pub invoice_id: i64,
}

pub async fn lock_contest(conn: &mut PgConnection, id: i64) -> Result<Option<ContestToAnswer>> {
    Ok(sqlx::query_as!(
        ContestToAnswer,
        "select k.status, k.household_id, k.invoice_line_id, l.invoice_id
         from contest k join invoice_line l on l.id = k.invoice_line_id
         where k.id = $1 for update of k",
        id
    )
    .fetch_optional(conn)
    .await?)
}

pub async fn answer_contest(
    conn: &mut PgConnection,
    id: i64,
    answer: &str,
    by: i64,
    credit_note: Option<i64>,
) -> Result<()> {
    sqlx::query!(
        "update contest set status = 'answered', answer = $2, answered_by = $3,
                answered_at = clock_timestamp(), credit_note_id = $4
         where id = $1",
        id,
        answer,
        by,
        credit_note
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub struct BalanceRow {
    pub balance: i64,
    pub due: i64,
    pub credit: i64,
}

pub async fn balance(conn: &mut PgConnection, household: i64) -> Result<BalanceRow> {
    Ok(sqlx::query_as!(
        BalanceRow,
        r#"select coalesce(sum(e.amount_cents), 0)::bigint as "balance!",
                  coalesce(sum(e.amount_cents - a.paid) filter (where e.kind in ('invoice', 'refund')), 0)::bigint as "due!",
                  coalesce(sum(-e.amount_cents - a.used) filter (where e.kind in ('payment', 'credit_note')), 0)::bigint as "credit!"
           from ledger_entry e
           cross join lateral (
               select coalesce((select sum(amount_cents) from allocation where target_entry_id = e.id), 0) as paid,
                      coalesce((select sum(amount_cents) from allocation where source_entry_id = e.id), 0) as used) a
           where e.household_id = $1"#,
        household
    )
    .fetch_one(conn)
    .await?)
}

pub struct EntryRow {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub kind: String,
    pub amount_cents: i64,
    pub invoice_id: Option<i64>,
    pub number: Option<String>,
    pub memo: String,
    pub balance_after: i64,
}

/// The household's entries, oldest first, with the balance after each.
pub async fn entries(conn: &mut PgConnection, household: i64) -> Result<Vec<EntryRow>> {
    Ok(sqlx::query_as!(
        EntryRow,
        r#"select e.id, e.at, e.kind, e.amount_cents, e.invoice_id, i.number as "number?", e.memo,
                  (sum(e.amount_cents) over (order by e.id))::bigint as "balance_after!"
           from ledger_entry e left join invoice i on i.id = e.invoice_id
           where e.household_id = $1
           order by e.id"#,
        household
    )
    .fetch_all(conn)
    .await?)
}

pub struct NewPayment<'a> {
    pub household_id: i64,
    pub regie_id: i64,
    pub amount: i64,
    pub means: &'a str,
    pub reference: &'a str,
    pub received_on: NaiveDate,
    pub idempotency_key: &'a str,
    pub recorded_by: Option<i64>,
    /// The invoice the payment named, paid first.
    pub invoice_id: Option<i64>,
    /// Its counter receipt number, taken in the same transaction.
    pub receipt_number: Option<&'a str>,
}

/// The new payment's id; `None` when its idempotency key has one already.
pub async fn insert_payment(conn: &mut PgConnection, p: NewPayment<'_>) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar!(
        "insert into payment (household_id, regie_id, amount_cents, means, reference, received_on,
                              idempotency_key, recorded_by, invoice_id, receipt_number)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         on conflict (idempotency_key) do nothing
         returning id",
        p.household_id,
        p.regie_id,
        p.amount,
        p.means,
        p.reference,
        p.received_on,
        p.idempotency_key,
        p.recorded_by,
        p.invoice_id,
        p.receipt_number
    )
    .fetch_optional(conn)
    .await?)
}

/// What the payment recorded under a key was asked to be.
pub struct KeyedPayment {
    pub id: i64,
    pub household_id: i64,
    pub regie_id: i64,
    pub amount_cents: i64,
    pub invoice_id: Option<i64>,
    pub receipt_number: Option<String>,
}

pub async fn payment_by_key(conn: &mut PgConnection, key: &str) -> Result<KeyedPayment> {
    Ok(sqlx::query_as!(
        KeyedPayment,
        "select id, household_id, regie_id, amount_cents, invoice_id, receipt_number from payment
         where idempotency_key = $1",
        key
    )
    .fetch_one(conn)
    .await?)
}

/// The household's issued invoice (not a credit note) of the régie, if it is one.
pub async fn payable_invoice(
    conn: &mut PgConnection,
    household: i64,
    regie: i64,
    invoice: i64,
) -> Result<bool> {
    Ok(sqlx::query_scalar!(
        "select id from invoice
         where id = $1 and household_id = $2 and regie_id = $3 and kind = 'invoice'
           and status = 'issued'",
        invoice,
        household,
        regie
    )
    .fetch_optional(conn)
    .await?
    .is_some())
}

pub struct ChildYearRow {
    pub child_id: i64,
    pub first_name: String,
    pub last_name: String,
    pub meals: i64,
    pub invoiced: i64,
}

/// Per child, the charged days and the amounts of the household's issued invoices (not credit
/// notes) for months of `year`.
pub async fn child_years(
    conn: &mut PgConnection,
    household: i64,
    year: i32,
) -> Result<Vec<ChildYearRow>> {
    Ok(sqlx::query_as!(
        ChildYearRow,
        r#"select c.id as child_id, c.first_name, c.last_name,
                  count(*) filter (where l.kind in ('meal', 'booked_not_recorded', 'unbooked',
                                                    'no_show', 'illness_carence', 'late_absence'))
                      as "meals!",
                  coalesce(sum(l.amount_cents), 0)::bigint as "invoiced!"
           from invoice i
           join invoice_line l on l.invoice_id = i.id
           join child c on c.id = l.child_id
           where i.household_id = $1 and i.kind = 'invoice' and i.status = 'issued'
             and i.month between make_date($2, 1, 1) and make_date($2, 12, 1)
           group by c.id, c.first_name, c.last_name
           order by c.first_name, c.last_name, c.id"#,
        household,
        year
    )
    .fetch_all(conn)
    .await?)
}

pub struct YearTotals {
    pub invoiced: i64,
    pub credited: i64,
    pub paid: i64,
}

/// The year's invoices and credit notes (by the month they bill) and what was paid in it
/// (payments received, less refunds paid out).
pub async fn year_totals(conn: &mut PgConnection, household: i64, year: i32) -> Result<YearTotals> {
    Ok(sqlx::query_as!(
        YearTotals,
        r#"select
             coalesce((select sum(amount_cents) from invoice where household_id = $1 and status = 'issued'
                       and kind = 'invoice' and month between make_date($2, 1, 1) and make_date($2, 12, 1)), 0)::bigint as "invoiced!",
             coalesce((select sum(amount_cents) from invoice where household_id = $1 and status = 'issued'
                       and kind = 'credit_note' and month between make_date($2, 1, 1) and make_date($2, 12, 1)), 0)::bigint as "credited!",
             (coalesce((select sum(amount_cents) from payment where household_id = $1
                        and received_on between make_date($2, 1, 1) and make_date($2, 12, 31)), 0)
              - coalesce((select sum(amount_cents) from ledger_entry where household_id = $1 and kind = 'refund'
                          and (at at time zone 'Europe/Paris')::date between make_date($2, 1, 1) and make_date($2, 12, 31)), 0))::bigint as "paid!""#,
        household,
        year
    )
    .fetch_one(conn)
    .await?)
}

pub struct AccountingRowSql {
    pub date: NaiveDate,
    pub kind: String,
    pub number: Option<String>,
    pub household_id: i64,
    pub household_name: String,
    pub amount_cents: i64,
    pub means: Option<String>,
    pub reference: String,
}

/// The régie's ledger entries of the month (the means only on payments: it is left-joined):
/// documents by the day they were issued, payments
/// by the day they were received, refunds by the day they were recorded (Paris days).
pub async fn accounting(
    conn: &mut PgConnection,
    regie: i64,
    (first, last): (NaiveDate, NaiveDate),
) -> Result<Vec<AccountingRowSql>> {
    Ok(sqlx::query_as!(
        AccountingRowSql,
        r#"select x.date as "date!", x.kind as "kind!", x.number, x.household_id as "household_id!",
                  coalesce((select string_agg(a.first_name || ' ' || a.last_name, ', ' order by a.id)
                            from account a where a.household_id = x.household_id), '') as "household_name!",
                  x.amount_cents as "amount_cents!", x.means as "means?", x.reference as "reference!"
           from (
               select coalesce(p.received_on, (e.at at time zone 'Europe/Paris')::date) as date,
                      e.id, e.kind, i.number, e.household_id, e.amount_cents, p.means,
                      coalesce(p.reference, e.memo) as reference
               from ledger_entry e
               left join invoice i on i.id = e.invoice_id
               left join payment p on p.id = e.payment_id
               where e.regie_id = $1
           ) x
           where x.date between $2 and $3
           order by x.date, x.id"#,
        regie,
        first,
        last
    )
    .fetch_all(conn)
    .await?)
}

pub struct DueMail {
    pub id: i64,
    pub kind: String,
    pub household_id: i64,
    pub invoice_id: Option<i64>,
    pub contest_id: Option<i64>,
    pub sepa_debit_id: Option<i64>,
    pub attempts: i32,
}

/// Claims one due mail, locked until the caller's transaction ends; a row another instance
/// holds is skipped.
pub async fn claim_mail(conn: &mut PgConnection) -> Result<Option<DueMail>> {
    Ok(sqlx::query_as!(
        DueMail,
        "select id, kind, household_id, invoice_id, contest_id, sepa_debit_id, attempts from billing_mail
         where sent_at is null and next_attempt_at <= clock_timestamp()
         order by next_attempt_at, id
         limit 1
         for update skip locked"
    )
    .fetch_optional(conn)
    .await?)
}

pub async fn mail_sent(conn: &mut PgConnection, id: i64) -> Result<()> {
    sqlx::query!(
        "update billing_mail set sent_at = clock_timestamp(), attempts = attempts + 1,
                last_error = null
         where id = $1",
        id
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn mail_failed(
    conn: &mut PgConnection,
    id: i64,
    wait_secs: i64,
    error: &str,
) -> Result<()> {
    sqlx::query!(
        "update billing_mail set attempts = attempts + 1,
                next_attempt_at = clock_timestamp() + make_interval(secs => $2), last_error = $3
         where id = $1",
        id,
        wait_secs as f64,
        error
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Reserves `count` consecutive numbers of the régie's `kind` for `year` in one statement (the
/// sequence row stays locked until the caller commits, as with [`next_number`]): answers the
/// régie's code and the last number reserved.
pub async fn next_numbers(
    conn: &mut PgConnection,
    regie_id: i64,
    year: i32,
    kind: &str,
    count: i32,
) -> Result<(String, i32)> {
    let row = sqlx::query!(
        r#"with n as (
               insert into invoice_sequence (regie_id, year, kind, last_number)
               values ($1, $2, $3, $4)
               on conflict (regie_id, year, kind)
               do update set last_number = invoice_sequence.last_number + $4
               returning regie_id, last_number)
           select r.code, n.last_number from n join regie r on r.id = n.regie_id"#,
        regie_id,
        year,
        kind,
        count
    )
    .fetch_one(conn)
    .await?;
    Ok((row.code, row.last_number))
}

/// Locks the rows of the invoices' households in id order, as [`lock_household`] does one.
pub async fn lock_households_of(conn: &mut PgConnection, invoices: &[i64]) -> Result<()> {
    sqlx::query!(
        "select h.id from household h
         where h.id in (select household_id from invoice where id = any($1))
         order by h.id for no key update",
        invoices
    )
    .fetch_all(conn)
    .await?;
    Ok(())
}

/// An issued invoice's new ledger entry.
pub struct PostedInvoice {
    pub entry_id: i64,
    pub household_id: i64,
    pub amount_cents: i64,
}

/// The ledger entries of issued invoices (not credit notes), one statement for all, in id
/// order; an invoice not issued gives no entry.
pub async fn insert_invoice_entries(
    conn: &mut PgConnection,
    invoices: &[i64],
) -> Result<Vec<PostedInvoice>> {
    Ok(sqlx::query_as!(
        PostedInvoice,
        r#"insert into ledger_entry (household_id, regie_id, kind, amount_cents, invoice_id, memo,
                                     recorded_by)
           select household_id, regie_id, 'invoice', amount_cents, id, coalesce(number, ''),
                  created_by
           from invoice
           where id = any($1) and kind = 'invoice' and status = 'issued'
           order by id
           returning id as entry_id, household_id, amount_cents"#,
        invoices
    )
    .fetch_all(conn)
    .await?)
}

/// [`open_credits`] of several households of a régie: (household, entry, what is left), by
/// household then oldest first.
pub async fn open_credits_of(
    conn: &mut PgConnection,
    households: &[i64],
    regie: i64,
) -> Result<Vec<(i64, i64, i64)>> {
    let rows = sqlx::query!(
        r#"select e.household_id, e.id, (-e.amount_cents - a.used)::bigint as "left!"
           from ledger_entry e
           cross join lateral (select coalesce(sum(amount_cents), 0) as used from allocation
                               where source_entry_id = e.id) a
           where e.household_id = any($1) and e.regie_id = $2
             and e.kind in ('payment', 'credit_note')
             and -e.amount_cents - a.used > 0
           order by e.household_id, e.id"#,
        households,
        regie
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.household_id, r.id, r.left))
        .collect())
}
