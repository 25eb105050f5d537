//! `setMenu`: the managers and the kitchen enter a day's menu through the staff API.

use axum::extract::State;
use axum::http::Method;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use cantine_domain::ids::SchoolId;

use super::{Access, MENU_WRITERS, Staff, Table};
use crate::error::Result;
use crate::http::AppState;
use crate::http::api::menus::DishIn;
use crate::http::error::{Json, Path, Problem};
use crate::menus::{self, NewDish, Set};

pub(super) fn declare(table: Table) -> Table {
    table.add(
        Method::PUT,
        "/api/v1/staff/menus/{date}",
        Access::Roles(MENU_WRITERS),
        set_menu,
    )
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetMenu {
    /// Null or absent: the commune's menu, served in every school without its own that day.
    /// A school's id: that school's own menu, which replaces the commune's there.
    #[serde(default)]
    #[schema(minimum = 1)]
    school_id: Option<i64>,
    /// The day's dishes, replacing those entered before for that scope; an empty list removes
    /// the day's menu for that scope.
    #[schema(max_items = 20)]
    dishes: Vec<DishIn>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MenuSet {
    date: NaiveDate,
    school_id: Option<i64>,
    /// False when the day's menu was removed (no dish sent).
    saved: bool,
    dishes: usize,
}

/// Sets one day's menu, for every school or one school (`manager`, `kitchen`).
#[utoipa::path(put, path = "/api/v1/staff/menus/{date}", operation_id = "setMenu", tag = "staff",
    params(("date" = NaiveDate, Path, description = "The service day (YYYY-MM-DD).")),
    request_body = SetMenu, security(("session" = [], "csrf" = [])),
    responses((status = 200, body = MenuSet),
        (status = 422, body = Problem, description = "`validation`: an unknown course, allergen, regime or quality sign, a dish name blank or over 159 characters, more than 20 dishes, an unknown school; `not_a_service_day`: a date outside every school year")))]
pub async fn set_menu(
    State(state): State<AppState>,
    staff: Staff,
    Path(date): Path<NaiveDate>,
    Json(body): Json<SetMenu>,
) -> Result<Json<MenuSet>> {
    let school = body.school_id.map(SchoolId);
    let dishes: Vec<NewDish> = body.dishes.into_iter().map(Into::into).collect();
    let set = menus::set_day(
        &state.pool,
        &state.rules(),
        &staff.actor,
        date,
        school,
        &dishes,
    )
    .await?;
    Ok(Json(MenuSet {
        date,
        school_id: school.map(|s| s.get()),
        saved: set == Set::Saved,
        dishes: dishes.len(),
    }))
}
