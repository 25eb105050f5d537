//! The status page's reads: the database's size, PayFiP's reconciliation and the kitchen's
//! unsent mails.

use sqlx::PgPool;

use crate::error::Result;

/// The current database's size in bytes.
pub async fn database_size(pool: &PgPool) -> Result<i64> {
    Ok(
        sqlx::query_scalar!(r#"select pg_database_size(current_database()) as "size!""#)
            .fetch_one(pool)
            .await?,
    )
}

pub struct PayfipRow {
    pub pending: i64,
    pub mismatches: i64,
    pub mismatches_24h: i64,
    pub paid_24h: i64,
}

/// Attempts still pending, mismatches ever and in the last 24 h, payments decided in 24 h.
pub async fn payfip(pool: &PgPool) -> Result<PayfipRow> {
    Ok(sqlx::query_as!(
        PayfipRow,
        r#"select
              (select count(*) from payfip_attempt where state = 'pending') as "pending!",
              (select count(*) from payfip_mismatch) as "mismatches!",
              (select count(*) from payfip_mismatch
               where recorded_at > clock_timestamp() - interval '24 hours') as "mismatches_24h!",
              (select count(*) from payfip_attempt
               where state = 'paid' and decided_at > clock_timestamp() - interval '24 hours')
                  as "paid_24h!""#
    )
    .fetch_one(pool)
    .await?)
}

/// The caterer mails not sent yet, and the age in seconds of the oldest.
pub async fn kitchen_outbox(pool: &PgPool) -> Result<(i64, f64)> {
    let row = sqlx::query!(
        r#"select count(*) as "pending!",
                  coalesce(extract(epoch from clock_timestamp() - min(created_at)), 0)::float8
                      as "oldest!"
           from kitchen_mail where sent_at is null"#
    )
    .fetch_one(pool)
    .await?;
    Ok((row.pending, row.oldest))
}
