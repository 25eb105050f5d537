//! Family accounts: sign-up, e-mail confirmation, log-in, sessions and guardian invitations.
//!
//! Tokens (sessions, e-mail links) are 256-bit random strings; only their SHA-256 digests are
//! stored, so a copy of the database opens no session and confirms no address.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::PgPool;

use crate::error::{Error, Result};
use crate::mail::{Mail, Mailer};
use crate::password;

pub const SESSION_LIFETIME: Duration = Duration::days(30);
pub const CONFIRMATION_LIFETIME: Duration = Duration::hours(48);
pub const INVITATION_LIFETIME: Duration = Duration::days(7);
pub const MIN_PASSWORD_CHARS: usize = 10;
const MAX_PASSWORD_CHARS: usize = 128;

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
    let valid = email.len() <= 254
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
        Err(Error::validation("Adresse e-mail invalide."))
    }
}

pub fn check_password(password: &str) -> Result<()> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(Error::validation(format!(
            "Le mot de passe doit contenir au moins {MIN_PASSWORD_CHARS} caractères."
        )));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(Error::validation("Mot de passe trop long."));
    }
    Ok(())
}

fn required(field: &str, value: &str, max: usize) -> Result<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(Error::validation(format!(
            "Le champ « {field} » est obligatoire."
        )));
    }
    if value.chars().count() > max {
        return Err(Error::validation(format!(
            "Le champ « {field} » est trop long."
        )));
    }
    Ok(value.to_owned())
}

async fn hash_password(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || password::hash(&password))
        .await
        .map_err(|e| Error::Internal(e.into()))
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

/// Links in mails point at the public URL the families use.
pub struct Links<'a> {
    pub public_url: &'a url::Url,
}

impl Links<'_> {
    fn link(&self, path: &str, token: &str) -> String {
        let mut url = self.public_url.join(path).expect("static path");
        url.query_pairs_mut().append_pair("token", token);
        url.to_string()
    }
}

/// Creates the account (and its household, unless it joins one by invitation) and mails the
/// confirmation link. Answers the new account's id.
pub async fn sign_up(
    pool: &PgPool,
    mailer: &Mailer,
    links: &Links<'_>,
    new: NewAccount,
) -> Result<i64> {
    let email = normalize_email(&new.email)?;
    check_password(&new.password)?;
    let first_name = required("prénom", &new.first_name, 100)?;
    let last_name = required("nom", &new.last_name, 100)?;
    let phone = new.phone.trim().to_owned();
    if phone.chars().count() > 30 {
        return Err(Error::validation("Numéro de téléphone trop long."));
    }
    let hash = hash_password(new.password).await?;

    let mut tx = pool.begin().await?;
    let (household, confirmed) = match &new.invitation {
        Some(token) => {
            let invited: Option<(i64, String)> = sqlx::query_as(
                "update email_token set used_at = now()
                 where token_hash = $1 and purpose = 'invite_guardian' and used_at is null and expires_at > now()
                 returning household_id, email",
            )
            .bind(token_hash(token))
            .fetch_optional(&mut *tx)
            .await?;
            match invited {
                // The invitation reached this mailbox: it is confirmed by the same token.
                Some((household, invited_email)) if invited_email == email => (household, true),
                Some(_) => {
                    return Err(Error::conflict(
                        "invitation_mismatch",
                        "Cette invitation a été envoyée à une autre adresse.",
                    ));
                }
                None => {
                    return Err(Error::conflict(
                        "invalid_token",
                        "Lien d'invitation invalide, déjà utilisé ou expiré.",
                    ));
                }
            }
        }
        None => {
            let id: i64 = sqlx::query_scalar("insert into household default values returning id")
                .fetch_one(&mut *tx)
                .await?;
            (id, false)
        }
    };
    let inserted: std::result::Result<i64, sqlx::Error> = sqlx::query_scalar(
        "insert into account (household_id, email, password_hash, first_name, last_name, phone, email_confirmed_at)
         values ($1, $2, $3, $4, $5, $6, case when $7 then now() end) returning id",
    )
    .bind(household)
    .bind(&email)
    .bind(&hash)
    .bind(&first_name)
    .bind(&last_name)
    .bind(&phone)
    .bind(confirmed)
    .fetch_one(&mut *tx)
    .await;
    let account = match inserted {
        Ok(id) => id,
        Err(sqlx::Error::Database(e)) if e.constraint() == Some("account_email_unique") => {
            return Err(Error::conflict(
                "email_taken",
                "Un compte existe déjà avec cette adresse. Connectez-vous ou demandez un nouveau lien.",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let token = (!confirmed).then(new_token);
    if let Some(token) = &token {
        sqlx::query(
            "insert into email_token (token_hash, purpose, account_id, expires_at)
             values ($1, 'confirm_email', $2, $3)",
        )
        .bind(token_hash(token))
        .bind(account)
        .bind(Utc::now() + CONFIRMATION_LIFETIME)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;

    if let Some(token) = token {
        mailer
            .send(Mail {
                to: email,
                subject: "Confirmez votre adresse e-mail".into(),
                body: format!(
                    "Bonjour {first_name},\n\nPour activer votre compte Cantine, ouvrez ce lien dans les 48 heures :\n{}\n\nSi vous n'avez pas créé de compte, ignorez ce message.\n",
                    links.link("/confirmer", &token)
                ),
            })
            .await?;
    }
    Ok(account)
}

/// Confirms the address behind a confirmation link: once, before it expires.
pub async fn confirm_email(pool: &PgPool, token: &str) -> Result<()> {
    let mut tx = pool.begin().await?;
    let account: Option<i64> = sqlx::query_scalar(
        "update email_token set used_at = now()
         where token_hash = $1 and purpose = 'confirm_email' and used_at is null and expires_at > now()
         returning account_id",
    )
    .bind(token_hash(token))
    .fetch_optional(&mut *tx)
    .await?;
    let Some(account) = account else {
        return Err(Error::conflict(
            "invalid_token",
            "Lien de confirmation invalide, déjà utilisé ou expiré.",
        ));
    };
    sqlx::query(
        "update account set email_confirmed_at = coalesce(email_confirmed_at, now()) where id = $1",
    )
    .bind(account)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Checks the credentials. Unknown addresses cost the same argon2 time as wrong passwords, so
/// timing does not tell which addresses have accounts.
pub async fn authenticate(pool: &PgPool, email: &str, password: &str) -> Result<i64> {
    let email = normalize_email(email).map_err(|_| bad_credentials())?;
    let row: Option<(i64, String, Option<DateTime<Utc>>)> = sqlx::query_as(
        "select id, password_hash, email_confirmed_at from account where email = $1",
    )
    .bind(&email)
    .fetch_optional(pool)
    .await?;
    let stored = row
        .as_ref()
        .map(|(_, hash, _)| hash.clone())
        .unwrap_or_else(|| DUMMY_HASH.to_owned());
    let password = password.to_owned();
    let matches = tokio::task::spawn_blocking(move || password::verify(&password, &stored))
        .await
        .map_err(|e| Error::Internal(e.into()))?;
    match row {
        Some((id, _, Some(_))) if matches => Ok(id),
        Some((_, _, None)) if matches => Err(Error::Forbidden("email_not_confirmed")),
        _ => Err(bad_credentials()),
    }
}

/// A valid argon2id hash of a random string nobody knows.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0tbzGwqJp1Qzj1d0JCA5I2n0o3Cw0QAm1cb5Y5vS0wQ";

fn bad_credentials() -> Error {
    Error::Invalid {
        code: "invalid_credentials",
        detail: "Adresse e-mail ou mot de passe incorrect.".into(),
    }
}

/// A signed-in person, as every request sees them.
#[derive(Debug, Clone)]
pub struct SessionAccount {
    pub account_id: i64,
    pub household_id: Option<i64>,
    pub first_name: String,
    pub email: String,
    pub csrf_token: String,
}

/// Opens a session; answers its token (for the cookie) and its CSRF token.
pub async fn open_session(pool: &PgPool, account_id: i64) -> Result<(String, String)> {
    let token = new_token();
    let csrf = new_token();
    sqlx::query(
        "insert into session (token_hash, account_id, csrf_token, expires_at) values ($1, $2, $3, $4)",
    )
    .bind(token_hash(&token))
    .bind(account_id)
    .bind(&csrf)
    .bind(Utc::now() + SESSION_LIFETIME)
    .execute(pool)
    .await?;
    Ok((token, csrf))
}

pub async fn session(pool: &PgPool, token: &str) -> Result<Option<SessionAccount>> {
    let row: Option<(i64, Option<i64>, String, String, String)> = sqlx::query_as(
        "select a.id, a.household_id, a.first_name, a.email, s.csrf_token
         from session s join account a on a.id = s.account_id
         where s.token_hash = $1 and s.expires_at > now()",
    )
    .bind(token_hash(token))
    .fetch_optional(pool)
    .await?;
    Ok(row.map(
        |(account_id, household_id, first_name, email, csrf_token)| SessionAccount {
            account_id,
            household_id,
            first_name,
            email,
            csrf_token,
        },
    ))
}

pub async fn close_session(pool: &PgPool, token: &str) -> Result<()> {
    sqlx::query("delete from session where token_hash = $1")
        .bind(token_hash(token))
        .execute(pool)
        .await?;
    Ok(())
}

/// A guardian invites another adult to the household; the link lets them sign up into it.
pub async fn invite_guardian(
    pool: &PgPool,
    mailer: &Mailer,
    links: &Links<'_>,
    inviter: &SessionAccount,
    email: &str,
) -> Result<()> {
    let household = inviter
        .household_id
        .ok_or(Error::Forbidden("not_a_guardian"))?;
    let email = normalize_email(email)?;
    let token = new_token();
    sqlx::query(
        "insert into email_token (token_hash, purpose, household_id, email, created_by, expires_at)
         values ($1, 'invite_guardian', $2, $3, $4, $5)",
    )
    .bind(token_hash(&token))
    .bind(household)
    .bind(&email)
    .bind(inviter.account_id)
    .bind(Utc::now() + INVITATION_LIFETIME)
    .execute(pool)
    .await?;
    mailer
        .send(Mail {
            to: email,
            subject: "Invitation à rejoindre un foyer sur Cantine".into(),
            body: format!(
                "Bonjour,\n\n{} vous invite à gérer la cantine de vos enfants avec lui ou elle.\nCréez votre compte avec ce lien (valable 7 jours) :\n{}\n",
                inviter.first_name,
                links.link("/inscription", &token)
            ),
        })
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
