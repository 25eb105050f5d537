//! Menus: what each school serves each day, with every dish's allergens, regimes and quality
//! signs. A school's own menu for a day replaces the commune's for that school.

pub mod store;

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgExecutor;

use cantine_domain::activity::Activity;
use cantine_domain::ids::SchoolId;
use cantine_domain::menu::{self, Allergen, Course, QualitySign, Regime};

use crate::error::Result;
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
        let dish = Dish {
            course: decode("dish.course", &row.course)?,
            name: row.name,
            allergens: decode_all("dish.allergens", &row.allergens)?,
            regimes: decode_all("dish.regimes", &row.regimes)?,
            quality_signs: decode_all("dish.quality_signs", &row.quality_signs)?,
        };
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

/// Stored codes of a `text[]` column; an unknown one is a broken row.
pub fn decode_all<T: std::str::FromStr>(column: &str, codes: &[String]) -> Result<Vec<T>>
where
    T::Err: std::fmt::Debug,
{
    codes.iter().map(|c| decode(column, c)).collect()
}
