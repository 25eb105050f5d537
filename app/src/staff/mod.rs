//! Staff accounts: an admin creates a member with roles (and schools, for `school_staff`);
//! the member receives a single-use link to set a password, then enrols a second factor at
//! first login (`accounts::start_enrolment`).

mod store;

use cantine_domain::ids::{AccountId, SchoolId};
use cantine_domain::roles::{Role, Roles};
use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::accounts::{self, MAX_NAME_CHARS};
use crate::audit::{self, Action, Actor, Entry};
use crate::error::{Error, Field, Invalid, Result};
use crate::platform::mail::{Mail, Mailer};

pub use store::Member;

/// The staff mails, worded and linked by the HTTP edge.
pub trait StaffMails: Send + Sync {
    fn set_password(&self, to: &str, first_name: &str, token: &str) -> Mail;
}

#[derive(Debug, Clone)]
pub struct NewMember {
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub roles: Vec<String>,
    pub schools: Vec<SchoolId>,
}

/// A member judged sound: known roles, schools exactly for `school_staff`.
struct ValidMember {
    email: String,
    first_name: String,
    last_name: String,
    roles: Roles,
    schools: Vec<SchoolId>,
}

fn validate(new: NewMember) -> Result<ValidMember> {
    let email = accounts::normalize_email(&new.email)?;
    let name = |field, value: &str| {
        let value = value.trim();
        if value.is_empty() || value.chars().count() > MAX_NAME_CHARS {
            Err(Error::Invalid(Invalid::Name {
                field,
                max: MAX_NAME_CHARS,
            }))
        } else {
            Ok(value.to_owned())
        }
    };
    let first_name = name(Field::FirstName, &new.first_name)?;
    let last_name = name(Field::LastName, &new.last_name)?;
    let (roles, schools) = valid_roles(new.roles, new.schools)?;
    Ok(ValidMember {
        email,
        first_name,
        last_name,
        roles,
        schools,
    })
}

/// Known roles, one at least, and schools exactly for `school_staff`.
fn valid_roles(roles: Vec<String>, mut schools: Vec<SchoolId>) -> Result<(Roles, Vec<SchoolId>)> {
    let roles: Roles = roles
        .iter()
        .map(|r| r.parse::<Role>())
        .collect::<Result<_, _>>()
        .map_err(|_| Error::Invalid(Invalid::Roles))?;
    schools.sort_unstable();
    schools.dedup();
    if !roles.is_staff() || roles.contains(Role::SchoolStaff) == schools.is_empty() {
        return Err(Error::Invalid(Invalid::Roles));
    }
    Ok((roles, schools))
}

/// What creating a member answers: its id, and the link's token (the console prints it, for an
/// appliance whose mail is not configured yet).
pub struct Created {
    pub id: AccountId,
    /// The address as stored (trimmed, lowercased).
    pub email: String,
    pub token: String,
}

/// Creates a staff member and mails the link to set a password. `actor` is the admin, or
/// `None` on the appliance's console; either way the creation and the roles are audited.
pub async fn create_member(
    pool: &PgPool,
    mailer: &Mailer,
    mails: &dyn StaffMails,
    actor: Option<&Actor>,
    new: NewMember,
    now: DateTime<Utc>,
) -> Result<Created> {
    let member = validate(new)?;
    let mut tx = pool.begin().await?;
    let id = store::insert_member(
        &mut tx,
        &member.email,
        &member.first_name,
        &member.last_name,
    )
    .await?;
    store::grant(&mut tx, id, member.roles, &member.schools).await?;
    let token = accounts::new_password_link(&mut tx, id, now).await?;
    let roles: Vec<&str> = member.roles.iter().map(Role::code).collect();
    let schools: Vec<i64> = member.schools.iter().map(|s| s.get()).collect();
    for action in [Action::StaffAccountCreated, Action::RolesChanged] {
        audit::record(
            &mut tx,
            &Entry {
                actor,
                action,
                household: None,
                child: None,
                detail: serde_json::json!({
                    "account_id": id.get(), "email": member.email, "roles": roles,
                    "schools": schools, "via": if actor.is_some() { "web" } else { "console" },
                }),
            },
        )
        .await?;
    }
    tx.commit().await?;
    // After commit: a mail that cannot go is logged (the console prints the link anyway).
    mailer
        .send_logged(mails.set_password(&member.email, &member.first_name, &token))
        .await;
    Ok(Created {
        id,
        email: member.email,
        token,
    })
}

/// An admin changes a member's roles (and schools): the member's sessions close, so the new
/// roles apply at once, and the change is audited with the roles before and after.
pub async fn set_roles(
    pool: &PgPool,
    actor: &Actor,
    member: AccountId,
    roles: Vec<String>,
    schools: Vec<SchoolId>,
) -> Result<()> {
    let (roles, schools) = valid_roles(roles, schools)?;
    let mut tx = pool.begin().await?;
    let before = store::lock_roles(&mut tx, member)
        .await?
        .ok_or(Error::NotFound)?;
    store::revoke_all(&mut tx, member).await?;
    store::grant(&mut tx, member, roles, &schools).await?;
    accounts::close_sessions(&mut tx, member).await?;
    audit::record(
        &mut tx,
        &Entry::new(actor, Action::RolesChanged).detail(serde_json::json!({
            "account_id": member.get(),
            "before": before.iter().map(Role::code).collect::<Vec<_>>(),
            "roles": roles.iter().map(Role::code).collect::<Vec<_>>(),
            "schools": schools.iter().map(|s| s.get()).collect::<Vec<_>>(),
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Every staff member, for the admin's page.
pub async fn members(pool: &PgPool) -> Result<Vec<Member>> {
    store::members(pool).await
}

/// A demo member: password set, address confirmed, second factor enrolled with `secret`.
pub async fn seed_member(
    pool: &PgPool,
    email: &str,
    (first_name, last_name): (&str, &str),
    role: Role,
    schools: &[SchoolId],
    (password_hash, secret): (&str, &[u8]),
    now: DateTime<Utc>,
) -> Result<AccountId> {
    let mut tx = pool.begin().await?;
    let id = store::insert_member(&mut tx, email, first_name, last_name).await?;
    store::grant(&mut tx, id, [role].into_iter().collect(), schools).await?;
    store::set_seed_password(&mut tx, id, password_hash).await?;
    accounts::enrol_secret(&mut tx, id, secret, now).await?;
    tx.commit().await?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(roles: &[&str], schools: &[i64]) -> NewMember {
        NewMember {
            email: "agent@techniville.test".into(),
            first_name: "Awa".into(),
            last_name: "Diallo".into(),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            schools: schools.iter().copied().map(SchoolId).collect(),
        }
    }

    #[test]
    fn school_staff_need_a_school_and_only_they_have_one() {
        assert!(validate(new(&["school_staff"], &[1])).is_ok());
        assert!(validate(new(&["manager"], &[])).is_ok());
        for (roles, schools) in [
            (&["school_staff"][..], &[][..]),
            (&["manager"][..], &[1][..]),
            (&[][..], &[][..]),
            (&["canteen_staff"][..], &[][..]),
        ] {
            assert!(
                matches!(
                    validate(new(roles, schools)),
                    Err(Error::Invalid(Invalid::Roles))
                ),
                "{roles:?} {schools:?}"
            );
        }
    }
}
