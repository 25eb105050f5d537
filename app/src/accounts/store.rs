//! The account rows: households, accounts, sessions and single-use e-mail tokens.

use cantine_domain::ids::{AccountId, HouseholdId, SchoolId};
use cantine_domain::roles::{Role, Roles};
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use super::{SessionAccount, Stage};
use crate::error::{Result, email_taken};
use crate::platform::sql::decode;

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
    .map_err(email_taken)
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

/// What a single-use link for an account does.
#[derive(Debug, Clone, Copy)]
pub enum LinkPurpose {
    ConfirmEmail,
    SetPassword,
}

impl LinkPurpose {
    fn code(self) -> &'static str {
        match self {
            LinkPurpose::ConfirmEmail => "confirm_email",
            LinkPurpose::SetPassword => "set_password",
        }
    }
}

pub async fn insert_link(
    conn: &mut PgConnection,
    purpose: LinkPurpose,
    token_hash: &[u8],
    account: AccountId,
    expires_at: DateTime<Utc>,
) -> Result<()> {
    sqlx::query!(
        "insert into email_token (token_hash, purpose, account_id, expires_at)
         values ($1, $2, $3, $4)",
        token_hash,
        purpose.code(),
        account.get(),
        expires_at,
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Uses up a live link of that purpose: answers its account.
pub async fn use_link(
    conn: &mut PgConnection,
    purpose: LinkPurpose,
    token_hash: &[u8],
    now: DateTime<Utc>,
) -> Result<Option<AccountId>> {
    let account = sqlx::query_scalar!(
        r#"update email_token set used_at = $3
         where token_hash = $1 and purpose = $2 and used_at is null and expires_at > $3
         returning account_id as "account_id!""#,
        token_hash,
        purpose.code(),
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
    /// None for a staff member who has not set a password yet.
    pub password_hash: Option<String>,
    pub first_name: String,
    pub email: String,
    pub confirmed: bool,
    pub roles: Roles,
    /// Whether a second factor is enrolled (staff).
    pub second_factor: bool,
}

pub async fn credentials(pool: &PgPool, email: &str) -> Result<Option<Credentials>> {
    let row = sqlx::query!(
        r#"select a.id, a.password_hash, a.first_name, a.email as "email!", a.email_confirmed_at,
            coalesce((select array_agg(role) from account_role r where r.account_id = a.id), '{}') as "roles!",
            exists(select 1 from totp_credential t where t.account_id = a.id and t.enrolled_at is not null) as "second_factor!"
         from account a where a.email = $1"#,
        email,
    )
    .fetch_optional(pool)
    .await?;
    row.map(|r| {
        Ok(Credentials {
            id: AccountId(r.id),
            password_hash: r.password_hash,
            first_name: r.first_name,
            email: r.email,
            confirmed: r.email_confirmed_at.is_some(),
            roles: roles_from_sql(&r.roles)?,
            second_factor: r.second_factor,
        })
    })
    .transpose()
}

fn roles_from_sql(codes: &[String]) -> Result<Roles> {
    codes
        .iter()
        .map(|c| decode::<Role>("account_role.role", c))
        .collect()
}

pub async fn insert_session(
    pool: &PgPool,
    token_hash: &[u8],
    account: AccountId,
    csrf_token: &str,
    stage: Stage,
    (now, expires_at): (DateTime<Utc>, DateTime<Utc>),
) -> Result<()> {
    sqlx::query!(
        "insert into session (token_hash, account_id, csrf_token, stage, created_at, expires_at)
         values ($1, $2, $3, $4, $5, $6)",
        token_hash,
        account.get(),
        csrf_token,
        stage.code(),
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
        r#"select a.id, a.household_id, a.first_name, a.email as "email!", s.csrf_token, s.stage,
            coalesce((select array_agg(role) from account_role r where r.account_id = a.id), '{}') as "roles!",
            coalesce((select array_agg(school_id order by school_id) from staff_school w where w.account_id = a.id), '{}') as "schools!"
         from session s join account a on a.id = s.account_id
         where s.token_hash = $1 and s.expires_at > $2"#,
        token_hash,
        now,
    )
    .fetch_optional(pool)
    .await?;
    row.map(|r| {
        Ok(SessionAccount {
            account_id: AccountId(r.id),
            household_id: r.household_id.map(HouseholdId),
            first_name: r.first_name,
            email: r.email,
            csrf_token: r.csrf_token,
            roles: roles_from_sql(&r.roles)?,
            schools: r.schools.into_iter().map(SchoolId).collect(),
            stage: if r.stage == Stage::EnrolSecondFactor.code() {
                Stage::EnrolSecondFactor
            } else {
                Stage::Full
            },
        })
    })
    .transpose()
}

/// Lifts a session past the second factor, once it is enrolled.
pub async fn complete_session(conn: &mut PgConnection, token_hash: &[u8]) -> Result<()> {
    sqlx::query!(
        "update session set stage = 'full' where token_hash = $1",
        token_hash
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Closes every session of an account (its second factor was reset, say).
pub async fn delete_sessions_of(conn: &mut PgConnection, account: AccountId) -> Result<()> {
    sqlx::query!("delete from session where account_id = $1", account.get())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub struct SecondFactor {
    pub secret: Vec<u8>,
    pub last_step: Option<i64>,
    pub enrolled: bool,
}

pub async fn lock_second_factor(
    conn: &mut PgConnection,
    account: AccountId,
) -> Result<Option<SecondFactor>> {
    Ok(sqlx::query_as!(
        SecondFactor,
        r#"select secret, last_step, enrolled_at is not null as "enrolled!"
         from totp_credential where account_id = $1 for update"#,
        account.get()
    )
    .fetch_optional(&mut *conn)
    .await?)
}

/// A new secret to enrol, replacing one shown before but never confirmed.
pub async fn start_second_factor(
    conn: &mut PgConnection,
    account: AccountId,
    secret: &[u8],
) -> Result<()> {
    sqlx::query!(
        "insert into totp_credential (account_id, secret) values ($1, $2)
         on conflict (account_id) do update set secret = excluded.secret, last_step = null, created_at = now()
         where totp_credential.enrolled_at is null",
        account.get(),
        secret,
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn use_step(
    conn: &mut PgConnection,
    account: AccountId,
    step: i64,
    enrol_at: Option<DateTime<Utc>>,
) -> Result<()> {
    sqlx::query!(
        "update totp_credential set last_step = $2, enrolled_at = coalesce(enrolled_at, $3)
         where account_id = $1",
        account.get(),
        step,
        enrol_at,
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn replace_recovery_codes(
    conn: &mut PgConnection,
    account: AccountId,
    hashes: &[Vec<u8>],
) -> Result<()> {
    sqlx::query!(
        "delete from recovery_code where account_id = $1",
        account.get()
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "insert into recovery_code (account_id, code_hash) select $1, unnest($2::bytea[])",
        account.get(),
        hashes,
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Uses up a recovery code: answers whether it was a live one.
pub async fn use_recovery_code(
    conn: &mut PgConnection,
    account: AccountId,
    hash: &[u8],
    now: DateTime<Utc>,
) -> Result<bool> {
    Ok(sqlx::query!(
        "update recovery_code set used_at = $3
         where account_id = $1 and code_hash = $2 and used_at is null",
        account.get(),
        hash,
        now,
    )
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1)
}

/// Forgets the second factor and the recovery codes: the member enrols again at next login.
pub async fn delete_second_factor(conn: &mut PgConnection, account: AccountId) -> Result<bool> {
    sqlx::query!(
        "delete from recovery_code where account_id = $1",
        account.get()
    )
    .execute(&mut *conn)
    .await?;
    Ok(sqlx::query!(
        "delete from totp_credential where account_id = $1",
        account.get()
    )
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1)
}

/// Sets the password; following the mailed link also proved the address.
pub async fn set_password(
    conn: &mut PgConnection,
    account: AccountId,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query!(
        "update account set password_hash = $2, email_confirmed_at = coalesce(email_confirmed_at, $3)
         where id = $1",
        account.get(),
        hash,
        now,
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
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
