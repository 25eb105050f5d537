//! The households' rows: schools and children, with each child's latest enrollment of a year.

use cantine_domain::activity::Activity;
use cantine_domain::calendar::SchoolYearLabel;
use cantine_domain::custody::Side;
use cantine_domain::ids::{AccountId, ChildId, HouseholdId, SchoolId};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgConnection, PgPool};

use super::{Child, ChildEnrollment, School, ValidChild, ValidGuardian};
use crate::error::{Error, Invalid, Result, email_taken, on_constraint};
use crate::platform::sql::{decode, stored_status, weekdays_from_sql};

pub async fn schools(pool: &PgPool) -> Result<Vec<School>> {
    sqlx::query!("select id, name, address, service_weekdays from school order by name")
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|row| {
            Ok(School {
                id: SchoolId(row.id),
                name: row.name,
                address: row.address,
                service_weekdays: weekdays_from_sql(&row.service_weekdays)?,
            })
        })
        .collect()
}

struct ChildRow {
    id: i64,
    first_name: String,
    last_name: String,
    birth_date: NaiveDate,
    school_id: i64,
    school_name: String,
    school_service_weekdays: Vec<i16>,
    class_level: String,
    diet: String,
    allergies: String,
    allergens: Vec<String>,
    pai: bool,
    enrollment_status: Option<String>,
    enrollment_weekdays: Option<Vec<i16>>,
    enrollment_reason: Option<String>,
    /// The household asking is the child's own (not the second of a shared custody).
    own: bool,
    shared: bool,
}

impl TryFrom<ChildRow> for Child {
    type Error = Error;

    fn try_from(row: ChildRow) -> Result<Child> {
        let enrollment = match (row.enrollment_status, row.enrollment_weekdays) {
            (Some(code), Some(days)) => Some(ChildEnrollment {
                status: stored_status(&code, row.enrollment_reason.as_deref())?,
                weekdays: weekdays_from_sql(&days)?,
            }),
            _ => None,
        };
        Ok(Child {
            id: ChildId(row.id),
            first_name: row.first_name,
            last_name: row.last_name,
            birth_date: row.birth_date,
            school_id: SchoolId(row.school_id),
            school_name: row.school_name,
            school_service_weekdays: weekdays_from_sql(&row.school_service_weekdays)?,
            class_level: decode("child.class_level", &row.class_level)?,
            diet: decode("child.diet", &row.diet)?,
            allergies: row.allergies,
            allergens: {
                let mut list: Vec<cantine_domain::menu::Allergen> =
                    crate::platform::sql::decode_all("child.allergens", &row.allergens)?;
                list.sort();
                list
            },
            pai: row.pai,
            enrollment,
            custody: match (row.shared, row.own) {
                (false, _) => None,
                (true, true) => Some(Side::First),
                (true, false) => Some(Side::Second),
            },
        })
    }
}

/// The household's children (or one of them), oldest first, and with `shared` those it holds
/// as the second household of a shared custody. The latest enrollment of the year wins: a
/// rejected request followed by a new one shows the new.
async fn select_children(
    pool: &PgPool,
    (household, shared): (HouseholdId, bool),
    year: SchoolYearLabel,
    only: Option<ChildId>,
) -> Result<Vec<Child>> {
    sqlx::query_as!(
        ChildRow,
        r#"select c.id, c.first_name, c.last_name, c.birth_date, c.school_id,
            s.name as school_name, s.service_weekdays as school_service_weekdays, c.class_level, c.diet, c.allergies, c.allergens, c.pai,
            e.status as "enrollment_status?", e.weekdays as "enrollment_weekdays?",
            e.decision_reason as "enrollment_reason?",
            c.household_id = $1 as "own!", cu.child_id is not null as "shared!"
        from child c join school s on s.id = c.school_id
        left join custody cu on cu.child_id = c.id
        left join lateral (
            select en.status, en.weekdays, en.decision_reason from enrollment en
            join school_year y on y.id = en.school_year_id
            where en.child_id = c.id and en.activity = $4 and y.label = $2
            order by en.id desc limit 1) e on true
        -- Both sides are index scans of child (household, then ids), ORed as bitmaps.
        where (c.household_id = $1
               or c.id = any(array(select child_id from custody where $5 and other_household_id = $1)))
          and ($3::bigint is null or c.id = $3)
        order by c.birth_date, c.id"#,
        household.get(),
        year.to_string(),
        only.map(ChildId::get),
        Activity::Canteen.code(),
        shared,
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(Child::try_from)
    .collect()
}

/// With `shared`, the children shared with the household too (the family's view); without,
/// its own alone (the back office's household page).
pub async fn children(
    pool: &PgPool,
    household: (HouseholdId, bool),
    year: SchoolYearLabel,
) -> Result<Vec<Child>> {
    select_children(pool, household, year, None).await
}

pub async fn child(
    pool: &PgPool,
    household: HouseholdId,
    id: ChildId,
    year: SchoolYearLabel,
) -> Result<Option<Child>> {
    Ok(select_children(pool, (household, true), year, Some(id))
        .await?
        .pop())
}

pub async fn insert_child(
    conn: &mut PgConnection,
    household: HouseholdId,
    child: &ValidChild,
) -> Result<ChildId> {
    sqlx::query_scalar!(
        "insert into child (household_id, first_name, last_name, birth_date, school_id, class_level, diet, allergies, allergens, pai)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) returning id",
        household.get(),
        child.first_name,
        child.last_name,
        child.birth_date,
        child.school_id.get(),
        child.class_level.code(),
        child.diet.code(),
        child.allergies,
        &child.allergens.iter().map(|a| a.code().to_owned()).collect::<Vec<_>>(),
        child.pai,
    )
    .fetch_one(&mut *conn)
    .await
    .map(ChildId)
    .map_err(|e| {
        on_constraint(e, |name| {
            (name == "child_school_fk").then_some(Error::Invalid(Invalid::UnknownSchool))
        })
    })
}

/// A household found by the staff's search.
#[derive(Debug, Clone)]
pub struct Found {
    pub id: HouseholdId,
    pub guardians: Vec<String>,
    pub children: Vec<String>,
}

/// `like` on the normalized text under its trigram index, then the names of what matched.
pub async fn search(
    pool: &PgPool,
    schools: Option<&[i64]>,
    normalized_query: &str,
    limit: i64,
) -> Result<Vec<Found>> {
    let rows = sqlx::query!(
        r#"select h.id,
            coalesce((select array_agg(a.first_name || ' ' || a.last_name order by a.id)
                      from account a where a.household_id = h.id), '{}') as "guardians!",
            coalesce((select array_agg(c.first_name || ' ' || c.last_name order by c.birth_date, c.id)
                      from child c where c.household_id = h.id
                        and ($2::bigint[] is null or c.school_id = any($2))), '{}') as "children!"
        from household h
        where h.search_text like '%' || search_normal($1) || '%'
          and ($2::bigint[] is null
               or exists (select 1 from child c where c.household_id = h.id and c.school_id = any($2)))
        order by h.id limit $3"#,
        normalized_query,
        schools,
        limit,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Found {
            id: HouseholdId(r.id),
            guardians: r.guardians,
            children: r.children,
        })
        .collect())
}

/// Whether the household has a child in one of the schools (every household, for `None`).
pub async fn in_scope(
    pool: &PgPool,
    household: HouseholdId,
    schools: Option<&[i64]>,
) -> Result<bool> {
    Ok(sqlx::query_scalar!(
        r#"select exists(select 1 from household h where h.id = $1 and ($2::bigint[] is null
             or exists (select 1 from child c where c.household_id = h.id and c.school_id = any($2)))) as "found!""#,
        household.get(),
        schools,
    )
    .fetch_one(pool)
    .await?)
}

#[derive(Debug, Clone)]
pub struct Guardian {
    pub id: AccountId,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub phone: String,
    pub postal_address: String,
}

pub async fn guardians(pool: &PgPool, household: HouseholdId) -> Result<Vec<Guardian>> {
    Ok(sqlx::query!(
        "select id, first_name, last_name, email, phone, postal_address from account
         where household_id = $1 order by id",
        household.get(),
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| Guardian {
        id: AccountId(r.id),
        first_name: r.first_name,
        last_name: r.last_name,
        email: r.email,
        phone: r.phone,
        postal_address: r.postal_address,
    })
    .collect())
}

/// One value of the quotient familial's history.
#[derive(Debug, Clone)]
pub struct QuotientFamilial {
    pub amount_euros: i32,
    pub applies_from: NaiveDate,
    pub document: String,
    pub recorded_by: Option<String>,
    pub recorded_at: DateTime<Utc>,
}

pub async fn quotient_history(
    pool: &PgPool,
    household: HouseholdId,
) -> Result<Vec<QuotientFamilial>> {
    Ok(sqlx::query_as!(
        QuotientFamilial,
        "select q.amount_euros, q.applies_from, q.document, a.email as recorded_by, q.recorded_at
         from quotient_familial q left join account a on a.id = q.recorded_by
         where q.household_id = $1 order by q.applies_from desc, q.id desc",
        household.get(),
    )
    .fetch_all(pool)
    .await?)
}

pub async fn insert_quotient(
    conn: &mut PgConnection,
    household: HouseholdId,
    amount_euros: i32,
    applies_from: NaiveDate,
    document: &str,
    recorded_by: AccountId,
) -> Result<()> {
    sqlx::query!(
        "insert into quotient_familial (household_id, amount_euros, applies_from, document, recorded_by)
         values ($1, $2, $3, $4, $5)",
        household.get(),
        amount_euros,
        applies_from,
        document,
        recorded_by.get(),
    )
    .execute(&mut *conn)
    .await
    .map_err(|e| {
        on_constraint(e, |name| {
            (name == "quotient_familial_household_fk").then_some(Error::NotFound)
        })
    })?;
    Ok(())
}

pub async fn insert_counter_household(
    conn: &mut PgConnection,
    guardian: &ValidGuardian,
) -> Result<(HouseholdId, AccountId)> {
    let household = sqlx::query_scalar!("insert into household default values returning id")
        .fetch_one(&mut *conn)
        .await?;
    // No password: this guardian cannot log in until they sign up with an address.
    let account = sqlx::query_scalar!(
        "insert into account (household_id, email, first_name, last_name, phone, postal_address)
         values ($1, $2, $3, $4, $5, $6) returning id",
        household,
        guardian.email.as_deref(),
        guardian.first_name,
        guardian.last_name,
        guardian.phone,
        guardian.postal_address,
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(email_taken)?;
    Ok((HouseholdId(household), AccountId(account)))
}
