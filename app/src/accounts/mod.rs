//! Family accounts: sign-up, e-mail confirmation, log-in, sessions and guardian invitations.
//!
//! Tokens (sessions, e-mail links) are 256-bit random strings; only their SHA-256 digests are
//! stored, so a copy of the database opens no session and confirms no address. Sessions, e-mail
//! tokens and rate limits are all judged at the `now` the caller passes (the application's
//! clock), so tests move time instead of waiting for it.

pub mod password;
mod store;
pub mod totp;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cantine_domain::ids::{AccountId, HouseholdId, SchoolId};
use cantine_domain::roles::Roles;
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::PgPool;

use crate::audit::{self, Action, Actor, Entry};
use crate::error::{Conflict, Error, Field, Invalid, Refusal, Result};
use crate::platform::mail::{Mail, Mailer};
use crate::platform::rate_limit::{RateLimiter, policies};
use store::LinkPurpose;

pub const SESSION_LIFETIME: Duration = Duration::days(30);
pub const CONFIRMATION_LIFETIME: Duration = Duration::hours(48);
pub const INVITATION_LIFETIME: Duration = Duration::days(7);
pub const PASSWORD_LINK_LIFETIME: Duration = Duration::days(7);
/// A staff session: a working day, not a month.
pub const STAFF_SESSION_LIFETIME: Duration = Duration::hours(12);
pub const MIN_PASSWORD_CHARS: usize = 10;
pub const MAX_PASSWORD_CHARS: usize = 128;
pub const MAX_EMAIL_CHARS: usize = 254;
pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_PHONE_CHARS: usize = 30;

/// The mails this capability sends, worded and linked by the HTTP edge: it knows the pages'
/// routes and speaks French; this module only decides when a mail goes and with which token.
pub trait AccountMails: Send + Sync {
    fn confirm_email(&self, to: &str, first_name: &str, token: &str) -> Mail;
    fn invite_guardian(&self, to: &str, inviter_first_name: &str, token: &str) -> Mail;
}

pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Lowercased and checked enough to catch typos and to be mailed to; the confirmation mail
/// proves the rest.
pub fn normalize_email(text: &str) -> Result<String> {
    let email = text.trim().to_lowercase();
    let valid = email.len() <= MAX_EMAIL_CHARS
        && !email.chars().any(char::is_whitespace)
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
        // What the mailer will have to parse: otherwise the mail could not be sent.
        && email.parse::<lettre::message::Mailbox>().is_ok();
    if valid {
        Ok(email)
    } else {
        Err(Error::Invalid(Invalid::Email))
    }
}

pub fn check_password(password: &str) -> Result<()> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(Error::Invalid(Invalid::PasswordTooShort {
            min: MIN_PASSWORD_CHARS,
        }));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(Error::Invalid(Invalid::PasswordTooLong));
    }
    Ok(())
}

fn required(field: Field, value: &str, max: usize) -> Result<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(Error::Invalid(Invalid::Required { field }));
    }
    if value.chars().count() > max {
        return Err(Error::Invalid(Invalid::TooLong { field, max: None }));
    }
    Ok(value.to_owned())
}

#[derive(Debug, Clone)]
pub struct NewAccount {
    pub email: String,
    pub password: String,
    pub first_name: String,
    pub last_name: String,
    pub phone: String,
    /// The token of a guardian invitation: the account joins that household.
    pub invitation: Option<String>,
}

/// What the services need around an account operation: the pool, the mail transport and its
/// wording, the limiter and the instant.
pub struct Ctx<'a> {
    pub pool: &'a PgPool,
    pub mailer: &'a Mailer,
    pub mails: &'a dyn AccountMails,
    pub limiter: &'a RateLimiter,
    pub now: DateTime<Utc>,
}

/// Creates the account (and its household, unless it joins one by invitation) and mails the
/// confirmation link. Answers the new account's id.
pub async fn sign_up(ctx: &Ctx<'_>, client_ip: &str, new: NewAccount) -> Result<AccountId> {
    if !ctx
        .limiter
        .allow(policies::SIGNUP_PER_IP, client_ip, ctx.now)
    {
        return Err(Error::TooManyRequests);
    }
    let email = normalize_email(&new.email)?;
    check_password(&new.password)?;
    let first_name = required(Field::FirstName, &new.first_name, MAX_NAME_CHARS)?;
    let last_name = required(Field::LastName, &new.last_name, MAX_NAME_CHARS)?;
    let phone = new.phone.trim().to_owned();
    if phone.chars().count() > MAX_PHONE_CHARS {
        return Err(Error::Invalid(Invalid::PhoneTooLong));
    }
    let hash = password::hash_off_thread(new.password).await;

    let mut tx = ctx.pool.begin().await?;
    let (household, confirmed) = match &new.invitation {
        Some(token) => match store::use_invitation(&mut tx, &token_hash(token), ctx.now).await? {
            // The invitation reached this mailbox: it is confirmed by the same token.
            Some((household, invited)) if invited == email => (household, true),
            Some(_) => return Err(Error::Conflict(Conflict::InvitationMismatch)),
            None => return Err(Error::Conflict(Conflict::InvalidInvitation)),
        },
        None => (store::insert_household(&mut tx).await?, false),
    };
    let account = store::insert_account(
        &mut tx,
        &store::NewAccountRow {
            household,
            email: &email,
            password_hash: &hash,
            first_name: &first_name,
            last_name: &last_name,
            phone: &phone,
            confirmed_at: confirmed.then_some(ctx.now),
        },
    )
    .await?;
    let token = (!confirmed).then(new_token);
    if let Some(token) = &token {
        store::insert_link(
            &mut tx,
            LinkPurpose::ConfirmEmail,
            &token_hash(token),
            account,
            ctx.now + CONFIRMATION_LIFETIME,
        )
        .await?;
    }
    tx.commit().await?;

    if let Some(token) = token {
        ctx.mailer
            .send(ctx.mails.confirm_email(&email, &first_name, &token))
            .await?;
    }
    Ok(account)
}

/// Confirms the address behind a confirmation link: once, before it expires.
pub async fn confirm_email(pool: &PgPool, token: &str, now: DateTime<Utc>) -> Result<()> {
    let mut tx = pool.begin().await?;
    let account = store::use_link(&mut tx, LinkPurpose::ConfirmEmail, &token_hash(token), now)
        .await?
        .ok_or(Error::Conflict(Conflict::InvalidConfirmation))?;
    store::mark_confirmed(&mut tx, account, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Checks the credentials. Unknown addresses (and staff who have not set a password yet) cost
/// the same argon2 time as wrong passwords, so timing does not tell which addresses have
/// accounts.
async fn authenticate(pool: &PgPool, email: &str, password: &str) -> Result<store::Credentials> {
    let row = store::credentials(pool, email).await?;
    let stored = row
        .as_ref()
        .and_then(|c| c.password_hash.clone())
        .unwrap_or_else(|| DUMMY_HASH.to_owned());
    let matches = password::verify_off_thread(password.to_owned(), stored).await;
    match row {
        Some(c) if matches && c.confirmed => Ok(c),
        Some(_) if matches => Err(Error::Forbidden(Refusal::EmailNotConfirmed)),
        _ => Err(Error::Invalid(Invalid::Credentials)),
    }
}

/// A valid argon2id hash of a random string nobody knows.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0tbzGwqJp1Qzj1d0JCA5I2n0o3Cw0QAm1cb5Y5vS0wQ";

/// How far a session may go. A staff member's first login, by password alone, opens a
/// session that may only enrol the second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Full,
    EnrolSecondFactor,
}

impl Stage {
    pub fn code(self) -> &'static str {
        match self {
            Stage::Full => "full",
            Stage::EnrolSecondFactor => "enrol_second_factor",
        }
    }
}

/// A session just opened: the cookie's token, the CSRF token and who it is.
pub struct LoggedIn {
    pub token: String,
    pub csrf_token: String,
    pub first_name: String,
    pub stage: Stage,
    pub lifetime: Duration,
    /// A town-hall staff member (whose pages are under `/gestion`), not a guardian.
    pub is_staff: bool,
}

/// What a login form or the `login` operation sends.
pub struct Login<'a> {
    pub email: &'a str,
    pub password: &'a str,
    /// Staff: the authenticator's six digits, or a recovery code.
    pub second_factor: Option<&'a str>,
}

/// Logs in within the limits per address and per client, and opens a session. Staff also
/// pass their second factor; every staff login, and every failed second factor, is audited.
pub async fn log_in(
    pool: &PgPool,
    limiter: &RateLimiter,
    client_ip: &str,
    login: Login<'_>,
    now: DateTime<Utc>,
) -> Result<LoggedIn> {
    let email = normalize_email(login.email).ok();
    let email_key = email
        .clone()
        .unwrap_or_else(|| login.email.trim().to_lowercase());
    if !limiter.allow(policies::LOGIN_PER_IP, client_ip, now)
        || !limiter.allow(policies::LOGIN_PER_EMAIL, &email_key, now)
    {
        return Err(Error::TooManyRequests);
    }
    let email = email.ok_or(Error::Invalid(Invalid::Credentials))?;
    let account = authenticate(pool, &email, login.password).await?;
    let actor = Actor {
        account: account.id,
        email: account.email.clone(),
        ip: client_ip.to_owned(),
    };
    let stage = if !account.roles.is_staff() {
        Stage::Full
    } else if !account.second_factor {
        Stage::EnrolSecondFactor
    } else {
        let typed = login
            .second_factor
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(Error::Forbidden(Refusal::SecondFactorRequired))?;
        let mut tx = pool.begin().await?;
        let used = check_second_factor(&mut tx, account.id, typed, now).await?;
        match used {
            Some(how) => {
                if how == SecondFactorUsed::RecoveryCode {
                    audit::record(&mut tx, &Entry::new(&actor, Action::RecoveryCodeUsed)).await?;
                }
                tx.commit().await?;
            }
            None => {
                audit::record(&mut tx, &Entry::new(&actor, Action::SecondFactorFailed)).await?;
                tx.commit().await?;
                return Err(Error::Invalid(Invalid::SecondFactor));
            }
        }
        Stage::Full
    };
    let token = new_token();
    let csrf_token = new_token();
    let lifetime = if account.roles.is_staff() {
        STAFF_SESSION_LIFETIME
    } else {
        SESSION_LIFETIME
    };
    store::insert_session(
        pool,
        &token_hash(&token),
        account.id,
        &csrf_token,
        stage,
        (now, now + lifetime),
    )
    .await?;
    if account.roles.is_staff() {
        audit::record_now(
            pool,
            &Entry::new(&actor, Action::StaffLogin)
                .detail(serde_json::json!({ "stage": stage.code() })),
        )
        .await?;
    }
    Ok(LoggedIn {
        token,
        csrf_token,
        first_name: account.first_name,
        stage,
        lifetime,
        is_staff: account.roles.is_staff(),
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SecondFactorUsed {
    Code,
    RecoveryCode,
}

/// Judges a typed second factor, with the credential locked so that two logins cannot use one
/// code: a code of a step already used is refused, a recovery code works once.
async fn check_second_factor(
    conn: &mut sqlx::PgConnection,
    account: AccountId,
    typed: &str,
    now: DateTime<Utc>,
) -> Result<Option<SecondFactorUsed>> {
    let Some(credential) = store::lock_second_factor(conn, account).await? else {
        return Ok(None);
    };
    if totp::is_recovery_code(typed) {
        let used = credential.enrolled
            && store::use_recovery_code(conn, account, &totp::recovery_hash(typed), now).await?;
        return Ok(used.then_some(SecondFactorUsed::RecoveryCode));
    }
    match totp::matching_step(&credential.secret, typed, now) {
        Some(step) if credential.last_step.is_none_or(|last| step > last) => {
            let enrol = (!credential.enrolled).then_some(now);
            store::use_step(conn, account, step, enrol).await?;
            Ok(Some(SecondFactorUsed::Code))
        }
        _ => Ok(None),
    }
}

/// What a member about to enrol is shown: the secret as a QR code and as text.
pub struct Enrolment {
    pub secret_base32: String,
    pub qr_svg: String,
}

/// The name authenticator apps show for the account.
pub const TOTP_ISSUER: &str = "Cantine";

/// Draws a new secret for a session at the enrolment stage; it counts once confirmed.
pub async fn start_enrolment(pool: &PgPool, session: &SessionAccount) -> Result<Enrolment> {
    if session.stage != Stage::EnrolSecondFactor {
        return Err(Error::Conflict(Conflict::SecondFactorEnrolled));
    }
    let secret = totp::new_secret();
    let mut conn = pool.acquire().await?;
    store::start_second_factor(&mut conn, session.account_id, &secret).await?;
    let uri = totp::otpauth_uri(TOTP_ISSUER, &session.email, &secret);
    Ok(Enrolment {
        secret_base32: totp::to_base32(&secret),
        qr_svg: totp::qr_svg(&uri),
    })
}

/// Confirms the enrolment with a first code: the session goes on as a full one, and the ten
/// recovery codes are answered, to be shown once (only their digests are kept).
pub async fn confirm_enrolment(
    pool: &PgPool,
    session: &SessionAccount,
    session_token: &str,
    typed: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Vec<String>> {
    if session.stage != Stage::EnrolSecondFactor {
        return Err(Error::Conflict(Conflict::SecondFactorEnrolled));
    }
    let mut tx = pool.begin().await?;
    let credential = store::lock_second_factor(&mut tx, session.account_id).await?;
    let step = credential
        .as_ref()
        .filter(|c| !c.enrolled)
        .and_then(|c| totp::matching_step(&c.secret, typed, now))
        .ok_or(Error::Invalid(Invalid::SecondFactor))?;
    store::use_step(&mut tx, session.account_id, step, Some(now)).await?;
    let codes = totp::new_recovery_codes();
    let hashes: Vec<Vec<u8>> = codes.iter().map(|c| totp::recovery_hash(c)).collect();
    store::replace_recovery_codes(&mut tx, session.account_id, &hashes).await?;
    store::complete_session(&mut tx, &token_hash(session_token)).await?;
    audit::record(&mut tx, &Entry::new(actor, Action::SecondFactorEnrolled)).await?;
    tx.commit().await?;
    Ok(codes)
}

/// Enrols a known secret (the demo's, printed for testers): no QR code, no code to type.
pub async fn enrol_secret(
    conn: &mut sqlx::PgConnection,
    account: AccountId,
    secret: &[u8],
    now: DateTime<Utc>,
) -> Result<()> {
    store::start_second_factor(conn, account, secret).await?;
    store::use_step(conn, account, totp::step_at(now) - 2, Some(now)).await
}

/// Closes every session of an account, inside the caller's transaction (its roles changed).
pub async fn close_sessions(conn: &mut sqlx::PgConnection, account: AccountId) -> Result<()> {
    store::delete_sessions_of(conn, account).await
}

/// Replaces the demo staff's secret (`cantine demo --totp-secret` on a seeded database).
pub async fn reset_demo_secret(
    conn: &mut sqlx::PgConnection,
    account: AccountId,
    secret: &[u8],
    now: DateTime<Utc>,
) -> Result<()> {
    store::delete_second_factor(conn, account).await?;
    enrol_secret(conn, account, secret, now).await
}

/// An admin resets another member's second factor (a lost phone): the member's sessions close
/// and they enrol again at next login. Audited with the admin as actor.
pub async fn reset_second_factor(pool: &PgPool, actor: &Actor, member: AccountId) -> Result<()> {
    let mut tx = pool.begin().await?;
    if !store::delete_second_factor(&mut tx, member).await? {
        return Err(Error::NotFound);
    }
    store::delete_sessions_of(&mut tx, member).await?;
    audit::record(
        &mut tx,
        &Entry::new(actor, Action::SecondFactorReset)
            .detail(serde_json::json!({ "account_id": member.get() })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A password link for a new staff member, inside the caller's transaction: answers the token.
pub async fn new_password_link(
    conn: &mut sqlx::PgConnection,
    account: AccountId,
    now: DateTime<Utc>,
) -> Result<String> {
    let token = new_token();
    store::insert_link(
        conn,
        LinkPurpose::SetPassword,
        &token_hash(&token),
        account,
        now + PASSWORD_LINK_LIFETIME,
    )
    .await?;
    Ok(token)
}

/// Sets a password with the single-use link of a new staff member.
pub async fn set_password(
    pool: &PgPool,
    token: &str,
    new_password: String,
    now: DateTime<Utc>,
) -> Result<()> {
    check_password(&new_password)?;
    let hash = password::hash_off_thread(new_password).await;
    let mut tx = pool.begin().await?;
    let account = store::use_link(&mut tx, LinkPurpose::SetPassword, &token_hash(token), now)
        .await?
        .ok_or(Error::Conflict(Conflict::InvalidPasswordLink))?;
    store::set_password(&mut tx, account, &hash, now).await?;
    tx.commit().await?;
    Ok(())
}

/// A signed-in person, as every request sees them.
#[derive(Debug, Clone)]
pub struct SessionAccount {
    pub account_id: AccountId,
    pub household_id: Option<HouseholdId>,
    pub first_name: String,
    pub email: String,
    pub csrf_token: String,
    pub roles: Roles,
    /// The schools of a `school_staff` member.
    pub schools: Vec<SchoolId>,
    pub stage: Stage,
}

pub async fn session(
    pool: &PgPool,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<SessionAccount>> {
    store::session(pool, &token_hash(token), now).await
}

pub async fn close_session(pool: &PgPool, token: &str) -> Result<()> {
    store::delete_session(pool, &token_hash(token)).await
}

/// A guardian invites another adult to the household; the link lets them sign up into it.
pub async fn invite_guardian(ctx: &Ctx<'_>, inviter: &SessionAccount, email: &str) -> Result<()> {
    if !ctx.limiter.allow(
        policies::INVITE_PER_ACCOUNT,
        &inviter.account_id.to_string(),
        ctx.now,
    ) {
        return Err(Error::TooManyRequests);
    }
    let household = inviter
        .household_id
        .ok_or(Error::Forbidden(Refusal::NotAGuardian))?;
    let email = normalize_email(email)?;
    let token = new_token();
    store::insert_invitation(
        ctx.pool,
        &store::NewInvitation {
            token_hash: &token_hash(&token),
            household,
            email: &email,
            created_by: inviter.account_id,
            expires_at: ctx.now + INVITATION_LIFETIME,
        },
    )
    .await?;
    ctx.mailer
        .send(
            ctx.mails
                .invite_guardian(&email, &inviter.first_name, &token),
        )
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_lowercased_and_checked() {
        assert_eq!(
            normalize_email("  Famille.Martin@Techniville.TEST ").unwrap(),
            "famille.martin@techniville.test"
        );
        for bad in [
            "", "martin", "a@b", "a@@b.fr", "a b@c.fr", "@c.fr", "a@.fr", "a@fr.",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(check_password("court").is_err());
        assert!(check_password("assez-long-pour-passer").is_ok());
    }

    #[test]
    fn the_dummy_hash_is_a_valid_hash_that_matches_nothing_typed() {
        assert!(argon2::PasswordHash::new(DUMMY_HASH).is_ok());
        assert!(!password::verify("", DUMMY_HASH));
    }

    #[test]
    fn tokens_are_unique_and_stored_as_digests() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(token_hash(&a).len(), 32);
        assert_ne!(token_hash(&a), token_hash(&b));
    }
}
