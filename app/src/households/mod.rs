//! A household's children and the commune's schools, always scoped to the household asking: a
//! child of another household is "not found", never "forbidden", so ids reveal nothing.

mod store;

use cantine_domain::calendar::SchoolYearLabel;
use cantine_domain::child::{ClassLevel, Diet};
use cantine_domain::enrollment::EnrollmentStatus;
use cantine_domain::ids::{ChildId, HouseholdId, SchoolId};
use cantine_domain::weekdays::WeekdaySet;
use chrono::{Datelike, NaiveDate};
use sqlx::PgPool;

use crate::error::{Error, Field, Invalid, Result};

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
    pub allergies: String,
    pub pai: bool,
    pub enrollment: Option<ChildEnrollment>,
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

    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
}

pub async fn children(
    pool: &PgPool,
    household: HouseholdId,
    year: SchoolYearLabel,
) -> Result<Vec<Child>> {
    store::children(pool, household, year).await
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
    Ok(ValidChild {
        first_name,
        last_name,
        birth_date: new.birth_date,
        school_id: new.school_id,
        class_level,
        diet,
        allergies: new.allergies.trim().to_owned(),
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
    store::insert_child(pool, household, &child).await
}
