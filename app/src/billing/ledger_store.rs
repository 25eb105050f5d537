//! The ledger's SQL: numbering, entries, allocations, payments, contests, the billing mail
//! outbox, and the reading of invoices.

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
