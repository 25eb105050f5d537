//! A household's children and the commune's schools, always scoped to the household asking: a
//! child of another household is "not found", never "forbidden", so ids reveal nothing.

mod store;

use cantine_domain::calendar::SchoolYearLabel;
use cantine_domain::child::{ClassLevel, Diet};
use cantine_domain::custody::Side;
use cantine_domain::enrollment::EnrollmentStatus;
use cantine_domain::ids::{ChildId, HouseholdId, SchoolId};
use cantine_domain::menu::Allergen;
use cantine_domain::weekdays::WeekdaySet;
use chrono::{Datelike, NaiveDate};
use sqlx::PgPool;

use cantine_domain::roles::{Roles, Scope, reads_health_data};

use crate::audit::{self, Action, Actor, Entry};
use crate::error::{Error, Field, Invalid, MenuProblem, Result};

pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_ALLERGIES_CHARS: usize = 1000;

#[derive(Debug, Clone)]
pub struct School {
    pub id: SchoolId,
    pub name: String,
    pub address: String,
    pub service_weekdays: WeekdaySet,
}

pub async fn schools(pool: &PgPool) -> Result<Vec<School>> {
    store::schools(pool).await
}

/// A child as the family sees it, with this year's latest enrollment if any.
#[derive(Debug, Clone)]
pub struct Child {
    pub id: ChildId,
    pub first_name: String,
    pub last_name: String,
    pub birth_date: NaiveDate,
    pub school_id: SchoolId,
    pub school_name: String,
    /// The weekdays the child's school canteen serves.
    pub school_service_weekdays: WeekdaySet,
    pub class_level: ClassLevel,
    pub diet: Diet,
    /// The free-text details of the allergies.
    pub allergies: String,
    /// The allergens ticked among the 14, in `Allergen` order.
    pub allergens: Vec<Allergen>,
    pub pai: bool,
    pub enrollment: Option<ChildEnrollment>,
    /// Under a shared custody, which side the household asking is: `First` for the child's
    /// own household, `Second` for the other one; `None` when the child is not shared.
    pub custody: Option<Side>,
}

#[derive(Debug, Clone)]
pub struct ChildEnrollment {
    pub status: EnrollmentStatus,
    pub weekdays: WeekdaySet,
}

impl Child {
    /// Whether this year's enrollment lets the family book meals.
    pub fn is_enrolled(&self) -> bool {
        matches!(
            self.enrollment,
            Some(ChildEnrollment {
                status: EnrollmentStatus::Validated,
                ..
            })
        )
    }

    /// The household asking holds the child as the second household of a shared custody: it
    /// sees the child and books its own days, but the record and enrollment are the first's.
    pub fn is_shared_with_us(&self) -> bool {
        self.custody == Some(Side::Second)
    }

    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
}

/// The household's children, and those shared with it as the second household of a shared
/// custody (`Child::custody` says which).
pub async fn children(
    pool: &PgPool,
    household: HouseholdId,
    year: SchoolYearLabel,
) -> Result<Vec<Child>> {
    store::children(pool, (household, true), year).await
}

pub async fn child(
    pool: &PgPool,
    household: HouseholdId,
    id: ChildId,
    year: SchoolYearLabel,
) -> Result<Child> {
    store::child(pool, household, id, year)
        .await?
        .ok_or(Error::NotFound)
}

#[derive(Debug, Clone)]
pub struct NewChild {
    pub first_name: String,
    pub last_name: String,
    pub birth_date: NaiveDate,
    pub school_id: SchoolId,
    pub class_level: String,
    pub diet: String,
    pub allergies: String,
    /// Allergen codes (`peanuts`), each once.
    pub allergens: Vec<String>,
    pub pai: bool,
}

/// What is stored once a new child is judged sound.
pub(crate) struct ValidChild {
    pub first_name: String,
    pub last_name: String,
    pub birth_date: NaiveDate,
    pub school_id: SchoolId,
    pub class_level: ClassLevel,
    pub diet: Diet,
    pub allergies: String,
    pub allergens: Vec<Allergen>,
    pub pai: bool,
}

fn name(field: Field, value: &str) -> Result<String> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > MAX_NAME_CHARS {
        return Err(Error::Invalid(Invalid::Name {
            field,
            max: MAX_NAME_CHARS,
        }));
    }
    Ok(value.to_owned())
}

fn validate(today: NaiveDate, new: NewChild) -> Result<ValidChild> {
    let first_name = name(Field::FirstName, &new.first_name)?;
    let last_name = name(Field::LastName, &new.last_name)?;
    let class_level: ClassLevel = new
        .class_level
        .parse()
        .map_err(|_| Error::Invalid(Invalid::ClassLevel))?;
    let diet: Diet = new
        .diet
        .parse()
        .map_err(|_| Error::Invalid(Invalid::Diet))?;
    let age = today.year() - new.birth_date.year();
    if new.birth_date >= today || !(1..=14).contains(&age) {
        return Err(Error::Invalid(Invalid::BirthDate));
    }
    if new.allergies.chars().count() > MAX_ALLERGIES_CHARS {
        return Err(Error::Invalid(Invalid::TooLong {
            field: Field::Allergies,
            max: Some(MAX_ALLERGIES_CHARS),
        }));
    }
    let mut allergens: Vec<Allergen> = Vec::new();
    for code in &new.allergens {
        let allergen = code
            .trim()
            .parse::<Allergen>()
            .map_err(|_| Error::Invalid(Invalid::Menu(MenuProblem::Allergen(code.clone()))))?;
        if !allergens.contains(&allergen) {
            allergens.push(allergen);
        }
    }
    allergens.sort();
    Ok(ValidChild {
        first_name,
        last_name,
        birth_date: new.birth_date,
        school_id: new.school_id,
        class_level,
        diet,
        allergies: new.allergies.trim().to_owned(),
        allergens,
        pai: new.pai,
    })
}

pub async fn create_child(
    pool: &PgPool,
    household: HouseholdId,
    today: NaiveDate,
    new: NewChild,
) -> Result<ChildId> {
    let child = validate(today, new)?;
    let mut conn = pool.acquire().await?;
    store::insert_child(&mut conn, household, &child).await
}

// The back office: search, a household's page, the quotient familial, the counter.

pub use store::{Found, Guardian, QuotientFamilial};

pub const MAX_SEARCH_CHARS: usize = 100;
pub const SEARCH_LIMIT: i64 = 50;
/// The commune's highest plausible quotient familial; above is a typing error.
pub const MAX_QUOTIENT_EUROS: i32 = 100_000;
pub const MAX_DOCUMENT_CHARS: usize = 200;
pub const MAX_ADDRESS_CHARS: usize = 300;

/// Households whose guardians' names, e-mails or phone numbers, or children's names, contain
/// the query, accents and case ignored; a phone number may be typed with spaces or dots.
pub async fn search(pool: &PgPool, scope: &Scope, query: &str) -> Result<Vec<Found>> {
    let query = query.trim();
    let digits: String = query.chars().filter(char::is_ascii_digit).collect();
    let looks_like_phone = digits.len() >= 4
        && query
            .chars()
            .all(|c| c.is_ascii_digit() || " .-+()".contains(c));
    let needle = if looks_like_phone {
        digits
    } else {
        query.to_owned()
    };
    let chars = needle.chars().count();
    if !(2..=MAX_SEARCH_CHARS).contains(&chars) {
        return Err(Error::Invalid(Invalid::Search));
    }
    // `like` wildcards typed by someone are searched for as themselves.
    let escaped = needle
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    store::search(pool, scope.school_ids().as_deref(), &escaped, SEARCH_LIMIT).await
}

/// A household as staff see it. Health data (allergies, PAI) is shown only to the roles that
/// serve meals, and each such read is audited; a `school_staff` member sees only the children
/// of their schools, and a household without one is "not found".
pub struct HouseholdView {
    pub id: HouseholdId,
    pub guardians: Vec<Guardian>,
    pub children: Vec<Child>,
    pub quotient_familial: Vec<QuotientFamilial>,
    pub health_data_shown: bool,
}

pub async fn household_view(
    pool: &PgPool,
    viewer: &Viewer<'_>,
    household: HouseholdId,
    year: SchoolYearLabel,
) -> Result<HouseholdView> {
    let schools = viewer.scope.school_ids();
    if !store::in_scope(pool, household, schools.as_deref()).await? {
        return Err(Error::NotFound);
    }
    // Its own children: one shared with it shows under its first household, whose page has
    // the counter's forms for it.
    let mut children = store::children(pool, (household, false), year).await?;
    children.retain(|c| viewer.scope.covers(c.school_id));
    let health_data_shown = reads_health_data(viewer.roles);
    if health_data_shown {
        let read: Vec<i64> = children.iter().map(|c| c.id.get()).collect();
        audit::record_now(
            pool,
            &Entry::new(viewer.actor, Action::HealthDataRead)
                .household(household)
                .detail(serde_json::json!({ "children": read })),
        )
        .await?;
    } else {
        for child in &mut children {
            child.allergies.clear();
            child.allergens.clear();
            child.pai = false;
        }
    }
    Ok(HouseholdView {
        id: household,
        guardians: store::guardians(pool, household).await?,
        children,
        quotient_familial: store::quotient_history(pool, household).await?,
        health_data_shown,
    })
}

/// Who is looking, for the reads that depend on it.
pub struct Viewer<'a> {
    pub actor: &'a Actor,
    pub roles: Roles,
    pub scope: Scope,
}

pub struct NewQuotient {
    pub amount_euros: i32,
    pub applies_from: NaiveDate,
    pub document: String,
}

/// Records a new value of the quotient familial, with the day it applies from and the
/// document seen; earlier values stay in the history.
pub async fn set_quotient_familial(
    pool: &PgPool,
    actor: &Actor,
    household: HouseholdId,
    new: NewQuotient,
) -> Result<()> {
    if !(0..=MAX_QUOTIENT_EUROS).contains(&new.amount_euros) {
        return Err(Error::Invalid(Invalid::QuotientFamilial));
    }
    let document = text(Field::Document, &new.document, MAX_DOCUMENT_CHARS)?;
    let mut tx = pool.begin().await?;
    store::insert_quotient(
        &mut tx,
        household,
        new.amount_euros,
        new.applies_from,
        &document,
        actor.account,
    )
    .await?;
    audit::record(
        &mut tx,
        &Entry::new(actor, Action::QuotientFamilialSet)
            .household(household)
            .detail(serde_json::json!({
                "amount_euros": new.amount_euros, "applies_from": new.applies_from,
                "document": document,
            })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

fn text(field: Field, value: &str, max: usize) -> Result<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(Error::Invalid(Invalid::Required { field }));
    }
    if value.chars().count() > max {
        return Err(Error::Invalid(Invalid::TooLong {
            field,
            max: Some(max),
        }));
    }
    Ok(value.to_owned())
}

/// A guardian met at the counter: the address and phone are what the letters and calls use.
#[derive(Debug, Clone, Default)]
pub struct NewGuardian {
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub phone: String,
    pub postal_address: String,
}

pub(crate) struct ValidGuardian {
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub phone: String,
    pub postal_address: String,
}

/// A manager creates a household at the counter, for a family without an e-mail address (its
/// letters are printed) or that does not use the portal.
pub async fn create_at_counter(
    pool: &PgPool,
    actor: &Actor,
    new: NewGuardian,
) -> Result<HouseholdId> {
    let guardian = ValidGuardian {
        first_name: name(Field::FirstName, &new.first_name)?,
        last_name: name(Field::LastName, &new.last_name)?,
        // `None` for a family without an address; a blank one given is a typing error.
        email: new
            .email
            .as_deref()
            .map(crate::accounts::normalize_email)
            .transpose()?,
        phone: {
            let phone = new.phone.trim().to_owned();
            if phone.chars().count() > crate::accounts::MAX_PHONE_CHARS {
                return Err(Error::Invalid(Invalid::PhoneTooLong));
            }
            phone
        },
        postal_address: {
            let address = new.postal_address.trim().to_owned();
            if address.chars().count() > MAX_ADDRESS_CHARS {
                return Err(Error::Invalid(Invalid::TooLong {
                    field: Field::PostalAddress,
                    max: Some(MAX_ADDRESS_CHARS),
                }));
            }
            address
        },
    };
    let mut tx = pool.begin().await?;
    let (household, account) = store::insert_counter_household(&mut tx, &guardian).await?;
    audit::record(
        &mut tx,
        &Entry::new(actor, Action::HouseholdCreated)
            .household(household)
            .detail(serde_json::json!({ "guardian_account_id": account.get(), "via": "counter" })),
    )
    .await?;
    tx.commit().await?;
    Ok(household)
}

/// A manager adds a child to a household at the counter.
pub async fn add_child_at_counter(
    pool: &PgPool,
    actor: &Actor,
    household: HouseholdId,
    today: NaiveDate,
    new: NewChild,
) -> Result<ChildId> {
    let child = validate(today, new)?;
    let mut tx = pool.begin().await?;
    if !store::in_scope(pool, household, None).await? {
        return Err(Error::NotFound);
    }
    let id = store::insert_child(&mut tx, household, &child).await?;
    audit::record(
        &mut tx,
        &Entry::new(actor, Action::ChildAdded)
            .household(household)
            .child(id)
            .detail(serde_json::json!({ "via": "counter" })),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}
