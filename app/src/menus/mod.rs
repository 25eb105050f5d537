//! Menus: what each school serves each day, with every dish's allergens, regimes and quality
//! signs. A school's own menu for a day replaces the commune's for that school.

pub mod import;
pub mod store;

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgConnection, PgExecutor, PgPool};

use cantine_domain::activity::Activity;
use cantine_domain::ids::SchoolId;
use cantine_domain::menu::{self, Allergen, Course, QualitySign, Regime};
use cantine_domain::rules::Rules;
use cantine_domain::scdl::MAX_DISH_NAME_CHARS;

use crate::audit::{self, Action, Actor, Entry};
use crate::error::{Error, Invalid, MenuProblem, Result};
use crate::platform::sql::decode;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dish {
    pub course: Course,
    pub name: String,
    pub allergens: Vec<Allergen>,
    pub regimes: Vec<Regime>,
    pub quality_signs: Vec<QualitySign>,
}

/// One day's menu: the commune's (`school` is `None`) or one school's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Menu {
    pub date: NaiveDate,
    pub school: Option<SchoolId>,
    pub published_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub dishes: Vec<Dish>,
}

impl Menu {
    /// The allergens a child must not eat that this menu's dishes contain.
    pub fn warnings(&self, child: &[Allergen]) -> Vec<Allergen> {
        menu::warnings(child, self.dishes.iter().map(|d| d.allergens.as_slice()))
    }

    /// Every allergen in the menu, each once: what the kitchen must handle that day.
    pub fn allergens(&self) -> Vec<Allergen> {
        menu::warnings(
            Allergen::ALL,
            self.dishes.iter().map(|d| d.allergens.as_slice()),
        )
    }
}

/// The menu each school is served each day from..=to, keyed by (school, date); a day with
/// no menu entered has no key.
pub async fn served<'e>(
    db: impl PgExecutor<'e>,
    activity: Activity,
    schools: &[SchoolId],
    days: (NaiveDate, NaiveDate),
) -> Result<BTreeMap<(SchoolId, NaiveDate), Menu>> {
    let ids: Vec<i64> = schools.iter().map(|s| s.get()).collect();
    let rows = store::dishes(db, activity.code(), &ids, days).await?;
    let mut commune: BTreeMap<NaiveDate, Menu> = BTreeMap::new();
    let mut own: BTreeMap<(SchoolId, NaiveDate), Menu> = BTreeMap::new();
    for row in rows {
        let school = row.school_id.map(SchoolId);
        let dish = dish_of(&row)?;
        let menu = || Menu {
            date: row.service_date,
            school,
            published_at: row.published_at,
            updated_at: row.updated_at,
            dishes: Vec::new(),
        };
        match school {
            None => commune.entry(row.service_date).or_insert_with(menu),
            Some(s) => own.entry((s, row.service_date)).or_insert_with(menu),
        }
        .dishes
        .push(dish);
    }
    for &school in schools {
        for (date, menu) in &commune {
            own.entry((school, *date)).or_insert_with(|| menu.clone());
        }
    }
    Ok(own)
}

pub use crate::platform::sql::decode_all;

// Entering menus: the managers and the kitchen, for every school or one.

/// The most dishes one day's menu holds (seven courses, with alternatives).
pub const MAX_DISHES: usize = 20;
/// The longest range one list of menus covers.
pub const MAX_LIST_DAYS: i64 = 92;

/// A dish as a form, the API or a caterer's file gives it: codes still unchecked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewDish {
    pub course: String,
    pub name: String,
    pub allergens: Vec<String>,
    pub regimes: Vec<String>,
    pub quality_signs: Vec<String>,
}

/// Codes parsed, each once, in their list's order (so that pages and exports read the same
/// whatever order a form or a file gave them in).
fn codes<T: std::str::FromStr + Ord>(
    texts: &[String],
    problem: fn(String) -> MenuProblem,
) -> Result<Vec<T>, MenuProblem> {
    let mut out: Vec<T> = Vec::new();
    for text in texts {
        let value = text
            .trim()
            .parse::<T>()
            .map_err(|_| problem(text.clone()))?;
        if !out.contains(&value) {
            out.push(value);
        }
    }
    out.sort();
    Ok(out)
}

/// Judges one dish: a known course, a name of 1 to 159 characters (the SCDL limit), known
/// codes, each once.
pub fn dish(new: &NewDish) -> Result<Dish, MenuProblem> {
    let course = new
        .course
        .trim()
        .parse::<Course>()
        .map_err(|_| MenuProblem::Course(new.course.clone()))?;
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > MAX_DISH_NAME_CHARS {
        return Err(MenuProblem::DishName {
            max: MAX_DISH_NAME_CHARS,
        });
    }
    Ok(Dish {
        course,
        name: name.to_owned(),
        allergens: codes(&new.allergens, MenuProblem::Allergen)?,
        regimes: codes(&new.regimes, MenuProblem::Regime)?,
        quality_signs: codes(&new.quality_signs, MenuProblem::QualitySign)?,
    })
}

/// Judges a day's dishes, served in course order (a form's or a file's order within a course).
pub fn dishes(new: &[NewDish]) -> Result<Vec<Dish>> {
    if new.len() > MAX_DISHES {
        return Err(Error::Invalid(Invalid::Menu(MenuProblem::TooManyDishes {
            max: MAX_DISHES,
        })));
    }
    let mut dishes = new
        .iter()
        .map(dish)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|p| Error::Invalid(Invalid::Menu(p)))?;
    dishes.sort_by_key(|d| d.course);
    Ok(dishes)
}

/// A day of service must be inside a school year of the calendar.
pub fn check_date(rules: &Rules<'_>, date: NaiveDate) -> Result<()> {
    match rules.year_of(date) {
        Some(_) => Ok(()),
        None => Err(Error::Invalid(Invalid::OutsideSchoolYear(date))),
    }
}

/// What setting a day did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Set {
    /// The day's dishes are the ones given (a menu entered or replaced).
    Saved,
    /// No dish given: the day's menu for that scope is removed (the commune's then applies to
    /// a school whose own was removed).
    Removed,
}

/// Sets the menu of one day for every school (`school` `None`) or one school, replacing that
/// day's dishes for that scope in one transaction, with its audit entry. An empty list removes
/// the day's menu. Setting the same dishes again changes nothing but `updated_at`.
pub async fn set_day(
    pool: &PgPool,
    rules: &Rules<'_>,
    actor: &Actor,
    date: NaiveDate,
    school: Option<SchoolId>,
    new: &[NewDish],
) -> Result<Set> {
    check_date(rules, date)?;
    let dishes = dishes(new)?;
    let mut tx = pool.begin().await?;
    let set = write_day(&mut tx, rules.now, Some(actor), date, school, &dishes).await?;
    audit::record(
        &mut tx,
        &Entry::new(
            actor,
            if set == Set::Saved {
                Action::MenuSet
            } else {
                Action::MenuDeleted
            },
        )
        .detail(serde_json::json!({
            "date": date, "school": school.map(|s| s.get()),
            "dishes": dishes.iter().map(|d| &d.name).collect::<Vec<_>>(),
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(set)
}

/// Replaces (or removes) one day's dishes inside the caller's transaction.
async fn write_day(
    tx: &mut PgConnection,
    now: DateTime<Utc>,
    actor: Option<&Actor>,
    date: NaiveDate,
    school: Option<SchoolId>,
    dishes: &[Dish],
) -> Result<Set> {
    let activity = Activity::Canteen.code();
    let school_id = school.map(|s| s.get());
    if dishes.is_empty() {
        store::delete_day(&mut *tx, activity, date, school_id).await?;
        return Ok(Set::Removed);
    }
    let menu_day = store::upsert_day(
        &mut *tx,
        activity,
        date,
        school_id,
        now,
        actor.map(|a| a.account),
    )
    .await?;
    store::delete_dishes(&mut *tx, menu_day).await?;
    for (position, d) in dishes.iter().enumerate() {
        let code_list = |codes: Vec<&'static str>| -> Vec<String> {
            codes.into_iter().map(str::to_owned).collect()
        };
        store::insert_dish(
            &mut *tx,
            menu_day,
            i16::try_from(position).unwrap_or(i16::MAX),
            d.course.code(),
            &d.name,
            &code_list(d.allergens.iter().map(|a| a.code()).collect()),
            &code_list(d.regimes.iter().map(|r| r.code()).collect()),
            &code_list(d.quality_signs.iter().map(|q| q.code()).collect()),
        )
        .await?;
    }
    Ok(Set::Saved)
}

/// The menus entered over a range, the commune's and each school's, by date then scope
/// (the commune's first): what the week view and the API list.
pub async fn entered(pool: &PgPool, (from, to): (NaiveDate, NaiveDate)) -> Result<Vec<Menu>> {
    check_range(from, to)?;
    let rows = store::entered(pool, Activity::Canteen.code(), (from, to)).await?;
    let mut menus: Vec<Menu> = Vec::new();
    for row in rows {
        let dish = dish_of(&row)?;
        match menus.last_mut() {
            Some(m) if m.date == row.service_date && m.school == row.school_id.map(SchoolId) => {
                m.dishes.push(dish)
            }
            _ => menus.push(Menu {
                date: row.service_date,
                school: row.school_id.map(SchoolId),
                published_at: row.published_at,
                updated_at: row.updated_at,
                dishes: vec![dish],
            }),
        }
    }
    Ok(menus)
}

pub fn check_range(from: NaiveDate, to: NaiveDate) -> Result<()> {
    if to < from {
        return Err(Error::Invalid(Invalid::Booking(
            cantine_domain::booking::BookingError::InvalidRange { from, to },
        )));
    }
    if (to - from).num_days() >= MAX_LIST_DAYS {
        return Err(Error::Invalid(Invalid::Menu(MenuProblem::RangeTooLong {
            max_days: MAX_LIST_DAYS,
        })));
    }
    Ok(())
}

fn dish_of(row: &store::DishRow) -> Result<Dish> {
    Ok(Dish {
        course: decode("dish.course", &row.course)?,
        name: row.name.clone(),
        allergens: decode_all("dish.allergens", &row.allergens)?,
        regimes: decode_all("dish.regimes", &row.regimes)?,
        quality_signs: decode_all("dish.quality_signs", &row.quality_signs)?,
    })
}

/// Imports a caterer's file (`import` describes its format): every line is judged first, and
/// one bad line refuses the whole file, with every bad line named. Otherwise each (day,
/// school) of the file has its dishes replaced, in one transaction with one audit entry.
/// Answers how many days and dishes were written.
pub async fn import_file(
    pool: &PgPool,
    rules: &Rules<'_>,
    actor: &Actor,
    text: &str,
) -> Result<Imported> {
    let schools: Vec<(SchoolId, String)> = store::schools(pool)
        .await?
        .into_iter()
        .map(|(id, name)| (SchoolId(id), name))
        .collect();
    let days = import::parse(text, &schools, |d| check_date(rules, d).is_ok())
        .map_err(|problems| Error::Invalid(Invalid::Import(problems)))?;
    let mut tx = pool.begin().await?;
    let mut dishes = 0;
    for ((date, school), day) in &days {
        dishes += day.len();
        write_day(&mut tx, rules.now, Some(actor), *date, *school, day).await?;
    }
    audit::record(
        &mut tx,
        &Entry::new(actor, Action::MenusImported).detail(serde_json::json!({
            "days": days.keys().map(|(d, s)| serde_json::json!({"date": d, "school": s.map(|s| s.get())})).collect::<Vec<_>>(),
            "dishes": dishes,
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(Imported {
        days: days.len(),
        dishes,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Imported {
    pub days: usize,
    pub dishes: usize,
}

/// The demo's menus, written as the console writes them: no staff member, no audit entry.
pub async fn seed(pool: &PgPool, now: DateTime<Utc>, days: &import::Days) -> Result<()> {
    let mut tx = pool.begin().await?;
    for ((date, school), dishes) in days {
        write_day(&mut tx, now, None, *date, *school, dishes).await?;
    }
    tx.commit().await?;
    Ok(())
}
