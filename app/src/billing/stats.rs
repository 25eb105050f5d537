//! What the metrics page samples of billing at each scrape: the mail outbox's backlog, and per
//! régie the invoices issued and what households owe.

use sqlx::PgPool;

use crate::error::Result;
use crate::platform::metrics::RegieSample;

/// (state, count) of the unsent billing mails (`queued`: never tried, `retrying`: failed at
/// least once), and the age in seconds of the oldest.
pub async fn outbox(pool: &PgPool) -> Result<(Vec<(String, i64)>, f64)> {
    let row = sqlx::query!(
        r#"select count(*) filter (where attempts = 0) as "queued!",
                  count(*) filter (where attempts > 0) as "retrying!",
                  coalesce(extract(epoch from clock_timestamp() - min(created_at)), 0)::float8
                      as "oldest!"
           from billing_mail where sent_at is null"#
    )
    .fetch_one(pool)
    .await?;
    Ok((
        vec![
            ("queued".to_owned(), row.queued),
            ("retrying".to_owned(), row.retrying),
        ],
        row.oldest,
    ))
}

/// Per régie: the issued invoices (not credit notes), their total, and the sum of the
/// households' positive balances (a household in credit does not lower what others owe).
pub async fn regies(pool: &PgPool) -> Result<Vec<RegieSample>> {
    Ok(sqlx::query!(
        r#"select r.code,
                  (select count(*) from invoice i
                   where i.regie_id = r.id and i.kind = 'invoice' and i.status = 'issued')
                      as "issued!",
                  (select coalesce(sum(i.amount_cents), 0) from invoice i
                   where i.regie_id = r.id and i.kind = 'invoice' and i.status = 'issued')::bigint
                      as "invoiced!",
                  (select coalesce(sum(greatest(b.balance, 0)), 0) from
                      (select sum(e.amount_cents) as balance from ledger_entry e
                       where e.regie_id = r.id group by e.household_id) b)::bigint
                      as "outstanding!"
           from regie r order by r.code"#
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| RegieSample {
        regie: r.code,
        invoices_issued: r.issued,
        invoiced_cents: r.invoiced,
        outstanding_cents: r.outstanding,
    })
    .collect())
}
