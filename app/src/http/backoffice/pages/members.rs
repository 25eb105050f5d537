//! Staff members: the accounts, the form that creates one and the second factor's reset.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

use cantine_domain::ids::AccountId;
use cantine_domain::roles::Role;

use super::{notice, school_ids};
use crate::accounts;
use crate::http::backoffice::Staff;
use crate::http::portal::widgets::{Choice, school_choices};
use crate::http::portal::{
    FormData, Layout, PageError, PagePath, PageQuery, check_csrf, form_page, ok, refused, see_other,
};
use crate::http::{AppState, fr, routes};
use crate::staff::{self, NewMember};

#[derive(Debug, Default, Deserialize)]
pub(super) struct InfoQuery {
    #[serde(default)]
    info: Option<String>,
}

struct MemberLine {
    id: i64,
    name: String,
    email: String,
    roles: String,
    schools: String,
    password_set: bool,
    second_factor_since: Option<String>,
    /// The role and school checkboxes of the member's "change roles" form, ticked as now.
    role_choices: Vec<Choice>,
    school_choices: Vec<Choice>,
}

fn role_choices(ticked: &[String]) -> Vec<Choice> {
    Role::ALL
        .into_iter()
        .map(|r| Choice {
            selected: ticked.iter().any(|t| t == r.code()),
            value: r.code().to_owned(),
            label: fr::role(r).to_owned(),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "gestion/personnel.html")]
struct MembersPage {
    layout: Layout,
    info: Option<&'static str>,
    error: Option<String>,
    members: Vec<MemberLine>,
    email: String,
    first_name: String,
    last_name: String,
    roles: Vec<Choice>,
    schools: Vec<Choice>,
}

async fn members_page(
    state: &AppState,
    staff: &Staff,
    form: Option<&FormData>,
) -> Result<MembersPage, PageError> {
    let value = |name: &str| form.map_or_else(String::new, |f| f.get(name).to_owned());
    let ticked = |name: &str| -> Vec<String> {
        form.map(|f| f.all(name).map(str::to_owned).collect())
            .unwrap_or_default()
    };
    let roles_ticked = ticked("roles");
    Ok(MembersPage {
        layout: Layout::new("Personnel", Some(&staff.session)),
        info: None,
        error: None,
        members: {
            let mut lines = Vec::new();
            for m in staff::members(&state.pool).await? {
                let codes: Vec<String> = m.roles.iter().map(|r| r.code().to_owned()).collect();
                let schools: Vec<String> = m.school_ids.iter().map(|s| s.to_string()).collect();
                lines.push(MemberLine {
                    id: m.id.get(),
                    name: format!("{} {}", m.first_name, m.last_name),
                    email: m.email,
                    roles: m
                        .roles
                        .iter()
                        .map(|r| fr::role(*r))
                        .collect::<Vec<_>>()
                        .join(", "),
                    schools: m.schools.join(", "),
                    password_set: m.password_set,
                    second_factor_since: m.second_factor_since.map(fr::date_time),
                    role_choices: role_choices(&codes),
                    school_choices: school_choices(&state.pool, &schools).await?,
                });
            }
            lines
        },
        email: value("email"),
        first_name: value("prenom"),
        last_name: value("nom"),
        roles: role_choices(&roles_ticked),
        schools: school_choices(&state.pool, &ticked("ecoles")).await?,
    })
}

pub(super) async fn members(
    State(state): State<AppState>,
    staff: Staff,
    PageQuery(query): PageQuery<InfoQuery>,
) -> Result<Response, PageError> {
    let mut template = members_page(&state, &staff, None).await?;
    template.info = notice(query.info.as_deref());
    ok(&template)
}

pub(super) async fn create_member(
    State(state): State<AppState>,
    staff: Staff,
    form: FormData,
) -> Result<Response, PageError> {
    check_csrf(&staff.session, &form)?;
    let result = async {
        let schools = school_ids(&form)?;
        staff::create_member(
            &state.pool,
            &state.mailer,
            state.links.as_ref(),
            Some(&staff.actor),
            NewMember {
                email: form.get("email").to_owned(),
                first_name: form.get("prenom").to_owned(),
                last_name: form.get("nom").to_owned(),
                roles: form.all("roles").map(str::to_owned).collect(),
                schools,
            },
            state.clock.now(),
        )
        .await
    }
    .await;
    match result {
        Ok(_) => Ok(see_other(&format!(
            "{}?info=membre-cree",
            routes::STAFF_MEMBERS
        ))),
        Err(e) => refused(e, members_page(&state, &staff, Some(&form))).await,
    }
}

pub(super) async fn reset_second_factor(
    State(state): State<AppState>,
    staff: Staff,
    PagePath(account): PagePath<i64>,
    form: FormData,
) -> Result<Response, PageError> {
    check_csrf(&staff.session, &form)?;
    match accounts::reset_second_factor(&state.pool, &staff.actor, AccountId(account)).await {
        Ok(()) => Ok(see_other(&format!(
            "{}?info=double-authentification",
            routes::STAFF_MEMBERS
        ))),
        Err(e) => refused(e, members_page(&state, &staff, None)).await,
    }
}

/// Replaces a member's roles and schools; their sessions close.
pub(super) async fn set_roles(
    State(state): State<AppState>,
    staff: Staff,
    PagePath(account): PagePath<i64>,
    form: FormData,
) -> Result<Response, PageError> {
    check_csrf(&staff.session, &form)?;
    let result = async {
        let schools = school_ids(&form)?;
        let roles = form.all("roles").map(str::to_owned).collect();
        staff::set_roles(
            &state.pool,
            &staff.actor,
            AccountId(account),
            roles,
            schools,
        )
        .await
    }
    .await;
    match result {
        Ok(()) => Ok(see_other(&format!(
            "{}?info=roles-modifies",
            routes::STAFF_MEMBERS
        ))),
        Err(e) => refused(e, members_page(&state, &staff, None)).await,
    }
}

form_page!(MembersPage);
