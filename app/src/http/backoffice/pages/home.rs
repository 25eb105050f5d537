//! The back office's home page: the links the member's roles open.

use askama::Template;
use axum::response::Response;

use crate::http::backoffice::api_billing::{FINANCE, TARIFF_WRITERS};
use crate::http::backoffice::{
    ADMIN, ATTENDANCE, HOUSEHOLD_READERS, KITCHEN_READERS, MANAGER, MENU_WRITERS, STATUS_READERS,
    Staff,
};
use crate::http::fr;
use crate::http::portal::{Layout, PageError, ok};

/// What the member's roles open; the template words the links.
#[derive(Template)]
#[template(path = "gestion/accueil.html")]
struct HomePage {
    layout: Layout,
    first_name: String,
    roles: Vec<&'static str>,
    manager: bool,
    household_reader: bool,
    admin: bool,
    menus: bool,
    attendance: bool,
    kitchen: bool,
    finance: bool,
    tariffs: bool,
    status: bool,
}

pub(super) async fn home(staff: Staff) -> Result<Response, PageError> {
    let roles = staff.session.account.roles;
    ok(&HomePage {
        layout: Layout::new("Gestion", Some(&staff.session)),
        first_name: staff.session.account.first_name.clone(),
        roles: roles.iter().map(fr::role).collect(),
        manager: roles.any_of(MANAGER),
        household_reader: roles.any_of(HOUSEHOLD_READERS),
        admin: roles.any_of(ADMIN),
        menus: roles.any_of(MENU_WRITERS),
        attendance: roles.any_of(ATTENDANCE),
        kitchen: roles.any_of(KITCHEN_READERS),
        finance: roles.any_of(FINANCE),
        tariffs: roles.any_of(TARIFF_WRITERS),
        status: roles.any_of(STATUS_READERS),
    })
}
