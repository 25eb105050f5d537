//! The account rows: households, accounts, sessions and single-use e-mail tokens.

use cantine_domain::ids::{AccountId, HouseholdId};
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use super::SessionAccount;
use crate::error::{Conflict, Error, Result, on_constraint};

pub async fn insert_household(conn: &mut PgConnection) -> Result<HouseholdId> {
    Ok(HouseholdId(
        sqlx::query_scalar!("insert into household default values returning id")
            .fetch_one(&mut *conn)
            .await?,
    ))
}

pub struct NewAccountRow<'a> {
    pub household: HouseholdId,
    pub email: &'a str,
    pub password_hash: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub phone: &'a str,
    pub confirmed_at: Option<DateTime<Utc>>,
}

pub async fn insert_account(conn: &mut PgConnection, new: &NewAccountRow<'_>) -> Result<AccountId> {
    sqlx::query_scalar!(
        "insert into account (household_id, email, password_hash, first_name, last_name, phone, email_confirmed_at)
         values ($1, $2, $3, $4, $5, $6, $7) returning id",
        new.household.get(),
        new.email,
        new.password_hash,
        new.first_name,
        new.last_name,
        new.phone,
        new.confirmed_at,
    )
    .fetch_one(&mut *conn)
    .await
    .map(AccountId)
    .map_err(|e| {
        on_constraint(e, |name| {
            (name == "account_email_unique").then_some(Error::Conflict(Conflict::EmailTaken))
        })
    })
}

/// Uses up a live invitation: answers the household it opens and the address it was sent to.
pub async fn use_invitation(
    conn: &mut PgConnection,
    token_hash: &[u8],
    now: DateTime<Utc>,
) -> Result<Option<(HouseholdId, String)>> {
    let row = sqlx::query!(
        r#"update email_token set used_at = $2
         where token_hash = $1 and purpose = 'invite_guardian' and used_at is null and expires_at > $2
         returning household_id as "household_id!", email as "email!""#,
        token_hash,
        now,
    )
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|r| (HouseholdId(r.household_id), r.email)))
}

pub async fn insert_confirmation(
    conn: &mut PgConnection,
    token_hash: &[u8],
    account: AccountId,
    expires_at: DateTime<Utc>,
) -> Result<()> {
    sqlx::query!(
        "insert into email_token (token_hash, purpose, account_id, expires_at)
         values ($1, 'confirm_email', $2, $3)",
        token_hash,
        account.get(),
        expires_at,
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Uses up a live confirmation token: answers the account it confirms.
pub async fn use_confirmation(
    conn: &mut PgConnection,
    token_hash: &[u8],
    now: DateTime<Utc>,
) -> Result<Option<AccountId>> {
    let account = sqlx::query_scalar!(
        r#"update email_token set used_at = $2
         where token_hash = $1 and purpose = 'confirm_email' and used_at is null and expires_at > $2
         returning account_id as "account_id!""#,
        token_hash,
        now,
    )
    .fetch_optional(&mut *conn)
    .await?;
    Ok(account.map(AccountId))
}

pub async fn mark_confirmed(
    conn: &mut PgConnection,
    account: AccountId,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query!(
        "update account set email_confirmed_at = coalesce(email_confirmed_at, $2) where id = $1",
        account.get(),
        now,
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub struct Credentials {
    pub id: AccountId,
    pub password_hash: String,
    pub first_name: String,
    pub confirmed: bool,
}

pub async fn credentials(pool: &PgPool, email: &str) -> Result<Option<Credentials>> {
    let row = sqlx::query!(
        "select id, password_hash, first_name, email_confirmed_at from account where email = $1",
        email,
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| Credentials {
        id: AccountId(r.id),
        password_hash: r.password_hash,
        first_name: r.first_name,
        confirmed: r.email_confirmed_at.is_some(),
    }))
}

pub async fn insert_session(
    pool: &PgPool,
    token_hash: &[u8],
    account: AccountId,
    csrf_token: &str,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<()> {
    sqlx::query!(
        "insert into session (token_hash, account_id, csrf_token, created_at, expires_at)
         values ($1, $2, $3, $4, $5)",
        token_hash,
        account.get(),
        csrf_token,
        now,
        expires_at,
    )
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn session(
    pool: &PgPool,
    token_hash: &[u8],
    now: DateTime<Utc>,
) -> Result<Option<SessionAccount>> {
    let row = sqlx::query!(
        "select a.id, a.household_id, a.first_name, a.email, s.csrf_token
         from session s join account a on a.id = s.account_id
         where s.token_hash = $1 and s.expires_at > $2",
        token_hash,
        now,
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| SessionAccount {
        account_id: AccountId(r.id),
        household_id: r.household_id.map(HouseholdId),
        first_name: r.first_name,
        email: r.email,
        csrf_token: r.csrf_token,
    }))
}

pub async fn delete_session(pool: &PgPool, token_hash: &[u8]) -> Result<()> {
    sqlx::query!("delete from session where token_hash = $1", token_hash)
        .execute(pool)
        .await?;
    Ok(())
}

pub struct NewInvitation<'a> {
    pub token_hash: &'a [u8],
    pub household: HouseholdId,
    pub email: &'a str,
    pub created_by: AccountId,
    pub expires_at: DateTime<Utc>,
}

pub async fn insert_invitation(pool: &PgPool, new: &NewInvitation<'_>) -> Result<()> {
    sqlx::query!(
        "insert into email_token (token_hash, purpose, household_id, email, created_by, expires_at)
         values ($1, 'invite_guardian', $2, $3, $4, $5)",
        new.token_hash,
        new.household.get(),
        new.email,
        new.created_by.get(),
        new.expires_at,
    )
    .execute(pool)
    .await?;
    Ok(())
}
