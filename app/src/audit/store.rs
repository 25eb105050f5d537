//! The audit rows.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{PgConnection, PgPool};

use super::Entry;
use crate::error::Result;

pub async fn insert(conn: &mut PgConnection, entry: &Entry<'_>) -> Result<()> {
    sqlx::query!(
        "insert into audit_entry (actor_account_id, action, household_id, child_id, detail, client_ip)
         values ($1, $2, $3, $4, $5, $6)",
        entry.actor.map(|a| a.account.get()),
        entry.action.code(),
        entry.household.map(|h| h.get()),
        entry.child.map(|c| c.get()),
        &entry.detail,
        entry.actor.map(|a| a.ip.as_str()),
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// What the admin filters on; every part is optional.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Part of the actor's e-mail address.
    pub actor: Option<String>,
    pub action: Option<String>,
    pub household: Option<i64>,
    pub child: Option<i64>,
    /// Entries older than this id (the next page).
    pub before: Option<i64>,
    pub limit: i64,
}

#[derive(Debug, Clone)]
pub struct Row {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_account_id: Option<i64>,
    pub actor_email: Option<String>,
    pub action: String,
    pub household_id: Option<i64>,
    pub child_id: Option<i64>,
    pub detail: Value,
    pub client_ip: Option<String>,
}

pub async fn list(pool: &PgPool, f: &Filter) -> Result<Vec<Row>> {
    Ok(sqlx::query_as!(
        Row,
        // The actor's address is the account's: the entry names the account only, so that a
        // person's identity lives in one row (migration 0021).
        r#"select e.id, e.at, e.actor_account_id, a.email as "actor_email?", e.action,
                  e.household_id, e.child_id, e.detail, e.client_ip
         from audit_entry e left join account a on a.id = e.actor_account_id
         where ($1::timestamptz is null or e.at >= $1)
           and ($2::timestamptz is null or e.at < $2)
           and ($3::text is null or strpos(a.email, lower($3)) > 0)
           and ($4::text is null or e.action = $4)
           and ($5::bigint is null or e.household_id = $5)
           and ($6::bigint is null or e.child_id = $6)
           and ($7::bigint is null or e.id < $7)
         order by e.id desc limit $8"#,
        f.from,
        f.to,
        f.actor.as_deref(),
        f.action.as_deref(),
        f.household,
        f.child,
        f.before,
        f.limit,
    )
    .fetch_all(pool)
    .await?)
}
