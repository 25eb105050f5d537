//! `listMenus`: the canteen's menus as JSON. Menus are public data (the commune also publishes
//! them as open data), so no session is needed; a signed-in family also gets, on each menu its
//! children eat, the allergens that concern each child.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::openapi::RefOr;
use utoipa::openapi::Schema;
use utoipa::openapi::schema::ArrayBuilder;
use utoipa::{IntoParams, ToSchema};

use cantine_domain::activity::Activity;
use cantine_domain::ids::SchoolId;
use cantine_domain::menu::{Course, QualitySign, Regime};

pub(crate) use super::v1::allergens_schema;
use super::v1::{TRIMMED, code_schema, string};
use crate::error::{Error, Result};
use crate::households;
use crate::http::AppState;
use crate::http::auth::MaybeSession;
use crate::http::error::{Json, Problem, Query};
use crate::http::fr;
use crate::menus::{self, Dish, Menu, NewDish};

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/menus", get(list_menus))
}

/// A list of codes. A repeated code counts once, so the list has no length limit to state.
fn codes_schema<'a>(codes: impl IntoIterator<Item = &'a str>) -> Schema {
    ArrayBuilder::new()
        .items(RefOr::T(code_schema(codes, None)))
        .description(Some("Codes; a repeated code counts once."))
        .into()
}

pub(crate) fn regimes_schema() -> Schema {
    codes_schema(Regime::ALL.iter().map(|r| r.code()))
}

pub(crate) fn quality_signs_schema() -> Schema {
    codes_schema(QualitySign::ALL.iter().map(|q| q.code()))
}

pub(crate) fn course_schema() -> Schema {
    code_schema(Course::ALL.iter().map(|c| c.code()), None)
}

/// A dish name: trimmed, 1 to 159 characters (the SCDL schema's limit), no U+0000.
pub(crate) fn dish_name_schema() -> Schema {
    string()
        .min_length(Some(1))
        .max_length(Some(cantine_domain::scdl::MAX_DISH_NAME_CHARS))
        .pattern(Some(format!("^[^\\u0000]*[^{TRIMMED}\\u0000][^\\u0000]*$")))
        .description(Some("Trimmed; 1 to 159 characters."))
        .into()
}

/// A dish as staff send it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DishIn {
    /// `starter`, `main`, `side`, `dairy`, `dessert`, `bread` or `snack`.
    #[schema(schema_with = course_schema)]
    pub course: String,
    #[schema(schema_with = dish_name_schema)]
    pub name: String,
    /// The allergens of Annex II the dish contains.
    #[serde(default)]
    #[schema(schema_with = allergens_schema)]
    pub allergens: Vec<String>,
    /// `vegetarian`, `no_pork`, `no_added_sugar`.
    #[serde(default)]
    #[schema(schema_with = regimes_schema)]
    pub regimes: Vec<String>,
    /// `organic`, `label_rouge`, `aop`, `igp`, `local`, `home_made`.
    #[serde(default)]
    #[schema(schema_with = quality_signs_schema)]
    pub quality_signs: Vec<String>,
}

impl From<DishIn> for NewDish {
    fn from(d: DishIn) -> Self {
        NewDish {
            course: d.course,
            name: d.name,
            allergens: d.allergens,
            regimes: d.regimes,
            quality_signs: d.quality_signs,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DishOut {
    course: String,
    /// The course in French, for people.
    course_label: String,
    name: String,
    allergens: Vec<String>,
    regimes: Vec<String>,
    quality_signs: Vec<String>,
}

impl From<&Dish> for DishOut {
    fn from(d: &Dish) -> Self {
        Self {
            course: d.course.code().to_owned(),
            course_label: fr::course(d.course).to_owned(),
            name: d.name.clone(),
            allergens: d.allergens.iter().map(|a| a.code().to_owned()).collect(),
            regimes: d.regimes.iter().map(|r| r.code().to_owned()).collect(),
            quality_signs: d
                .quality_signs
                .iter()
                .map(|q| q.code().to_owned())
                .collect(),
        }
    }
}

/// A child of the caller's household who eats this menu and must not eat some of it.
#[derive(Debug, Serialize, ToSchema)]
pub struct WarningOut {
    child_id: i64,
    first_name: String,
    /// The child's allergens that the menu's dishes contain.
    allergens: Vec<String>,
    /// "⚠ Contient : arachides (allergie de Léa)".
    message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MenuOut {
    date: NaiveDate,
    /// The school whose own menu this is; null for the commune's menu, served in every school
    /// that has none of its own that day.
    school_id: Option<i64>,
    dishes: Vec<DishOut>,
    /// For a signed-in family only: its children who eat this menu and are allergic to some of
    /// it. Empty otherwise.
    warnings: Vec<WarningOut>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct MenusQuery {
    /// First day (YYYY-MM-DD).
    from: NaiveDate,
    /// Last day, included (YYYY-MM-DD); at most 92 days after `from`.
    to: NaiveDate,
    /// Only the menus this school is served (its own replacing the commune's that day).
    #[serde(default)]
    #[param(minimum = 1)]
    school_id: Option<i64>,
}

/// The menus of a range of days: every menu entered (the commune's and each school's), or,
/// with `school_id`, what that school is served each day. Public: no session needed.
#[utoipa::path(get, path = "/api/v1/menus", operation_id = "listMenus", tag = "menus",
    params(MenusQuery),
    responses((status = 200, body = [MenuOut]),
        (status = 404, body = Problem, description = "`not_found`: no such school"),
        (status = 422, body = Problem, description = "`validation`: also `from` after `to`, or more than 92 days")))]
pub async fn list_menus(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    Query(query): Query<MenusQuery>,
) -> Result<Json<Vec<MenuOut>>> {
    let days = (query.from, query.to);
    menus::check_range(query.from, query.to)?;
    let list: Vec<Menu> = match query.school_id {
        Some(id) => {
            let schools = households::schools(&state.pool).await?;
            if !schools.iter().any(|s| s.id.get() == id) {
                return Err(Error::NotFound);
            }
            menus::served(&state.pool, Activity::Canteen, &[SchoolId(id)], days)
                .await?
                .into_values()
                .collect()
        }
        None => menus::entered(&state.pool, days).await?,
    };
    // The family's children and the menu each one is served, to tell which menu concerns whom.
    let mut children = Vec::new();
    // Out of every school year (no current year) there is no enrollment to warn about.
    if let (Some(household), Ok(year)) = (
        session.as_ref().and_then(|s| s.account.household_id),
        state.rules().current_year(),
    ) {
        children = households::children(&state.pool, household, year).await?;
        children.retain(|c| !c.allergens.is_empty());
    }
    let schools: Vec<SchoolId> = children.iter().map(|c| c.school_id).collect();
    let served = if schools.is_empty() {
        Default::default()
    } else {
        menus::served(&state.pool, Activity::Canteen, &schools, days).await?
    };
    Ok(Json(
        list.into_iter()
            .map(|menu| {
                let warnings = children
                    .iter()
                    .filter(|c| {
                        served
                            .get(&(c.school_id, menu.date))
                            .is_some_and(|m| m.school == menu.school)
                    })
                    .filter_map(|c| {
                        let found = menu.warnings(&c.allergens);
                        (!found.is_empty()).then(|| WarningOut {
                            child_id: c.id.get(),
                            first_name: c.first_name.clone(),
                            allergens: found.iter().map(|a| a.code().to_owned()).collect(),
                            message: fr::allergen_warning(&found, &c.first_name),
                        })
                    })
                    .collect();
                MenuOut {
                    date: menu.date,
                    school_id: menu.school.map(|s| s.get()),
                    dishes: menu.dishes.iter().map(DishOut::from).collect(),
                    warnings,
                }
            })
            .collect(),
    ))
}
