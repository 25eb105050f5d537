//! The staff rows: accounts without a household, their roles and schools.

use cantine_domain::ids::{AccountId, SchoolId};
use cantine_domain::roles::{Role, Roles};
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use crate::error::{Error, Invalid, Result, email_taken, on_constraint};

pub async fn insert_member(
    conn: &mut PgConnection,
    email: &str,
    first_name: &str,
    last_name: &str,
) -> Result<AccountId> {
    sqlx::query_scalar!(
        "insert into account (email, first_name, last_name) values ($1, $2, $3) returning id",
        email,
        first_name,
        last_name,
    )
    .fetch_one(&mut *conn)
    .await
    .map(AccountId)
    .map_err(email_taken)
}

pub async fn grant(
    conn: &mut PgConnection,
    account: AccountId,
    roles: Roles,
    schools: &[SchoolId],
) -> Result<()> {
    let codes: Vec<String> = roles.iter().map(|r| r.code().to_owned()).collect();
    sqlx::query!(
        "insert into account_role (account_id, role) select $1, unnest($2::text[])",
        account.get(),
        &codes,
    )
    .execute(&mut *conn)
    .await?;
    let ids: Vec<i64> = schools.iter().map(|s| s.get()).collect();
    sqlx::query!(
        "insert into staff_school (account_id, school_id) select $1, unnest($2::bigint[])",
        account.get(),
        &ids,
    )
    .execute(&mut *conn)
    .await
    .map_err(|e| {
        on_constraint(e, |name| {
            (name == "staff_school_school_fk").then_some(Error::Invalid(Invalid::UnknownSchool))
        })
    })?;
    Ok(())
}

/// Locks a staff member's roles: answers them, or `None` for an account that is not staff.
pub async fn lock_roles(conn: &mut PgConnection, account: AccountId) -> Result<Option<Roles>> {
    let codes = sqlx::query_scalar!(
        "select role from account_role where account_id = $1 order by role for update",
        account.get()
    )
    .fetch_all(&mut *conn)
    .await?;
    if codes.is_empty() {
        return Ok(None);
    }
    codes
        .iter()
        .map(|c| crate::platform::sql::decode::<Role>("account_role.role", c))
        .collect::<Result<Roles>>()
        .map(Some)
}

pub async fn revoke_all(conn: &mut PgConnection, account: AccountId) -> Result<()> {
    sqlx::query!(
        "delete from account_role where account_id = $1",
        account.get()
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "delete from staff_school where account_id = $1",
        account.get()
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn set_seed_password(
    conn: &mut PgConnection,
    account: AccountId,
    hash: &str,
) -> Result<()> {
    sqlx::query!(
        "update account set password_hash = $2, email_confirmed_at = now() where id = $1",
        account.get(),
        hash,
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A staff member as the admin's list shows them.
#[derive(Debug, Clone)]
pub struct Member {
    pub id: AccountId,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub roles: Vec<Role>,
    pub schools: Vec<String>,
    pub school_ids: Vec<SchoolId>,
    pub password_set: bool,
    pub second_factor_since: Option<DateTime<Utc>>,
}

pub async fn members(pool: &PgPool) -> Result<Vec<Member>> {
    let rows = sqlx::query!(
        r#"select a.id, a.email as "email!", a.first_name, a.last_name,
            a.password_hash is not null as "password_set!",
            t.enrolled_at as "enrolled_at?",
            (select array_agg(role order by role) from account_role r where r.account_id = a.id) as "roles!",
            coalesce((select array_agg(s.name order by s.name) from staff_school w
                      join school s on s.id = w.school_id where w.account_id = a.id), '{}') as "schools!",
            coalesce((select array_agg(w.school_id order by w.school_id) from staff_school w
                      where w.account_id = a.id), '{}') as "school_ids!"
         from account a left join totp_credential t on t.account_id = a.id
         where exists (select 1 from account_role r where r.account_id = a.id)
         order by a.last_name, a.first_name, a.id"#
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(Member {
                id: AccountId(r.id),
                email: r.email,
                first_name: r.first_name,
                last_name: r.last_name,
                roles: r
                    .roles
                    .iter()
                    .map(|c| crate::platform::sql::decode("account_role.role", c))
                    .collect::<Result<_>>()?,
                schools: r.schools,
                school_ids: r.school_ids.into_iter().map(SchoolId).collect(),
                password_set: r.password_set,
                second_factor_since: r.enrolled_at,
            })
        })
        .collect()
}
