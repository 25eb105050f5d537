//! The home page, the household, the child form and the enrollment request.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono::{Datelike, Days, NaiveDate, Weekday};
use serde::Deserialize;

use super::menus::MenuView;
use super::widgets::{
    ChildLine, Choice, DayChoice, DayRow, allergen_choices, child_field, diet_choices,
    enrollment_text, level_choices, school_choices, weekdays_field,
};
use super::{
    FormData, Layout, PageError, PagePath, PageQuery, Signed, check_csrf, form_page, fr, refused,
    see_other,
};
use cantine_domain::activity::Activity;
use cantine_domain::child::Diet;
use cantine_domain::enrollment::EnrollmentStatus;
use cantine_domain::ids::ChildId;
use cantine_domain::weekdays::WeekdaySet;

use crate::enrollments;
use crate::error::{Error, FormProblem};
use crate::households;
use crate::http::AppState;
use crate::http::auth::MaybeSession;
use crate::{menus, reservations};

/// The Monday to Friday shown on the home page: this week on a weekday, the next one at the
/// weekend.
fn coming_week(today: NaiveDate) -> (NaiveDate, NaiveDate) {
    let monday = match today.weekday() {
        Weekday::Sat => today + Days::new(2),
        Weekday::Sun => today + Days::new(1),
        other => today - Days::new(u64::from(other.num_days_from_monday())),
    };
    (monday, monday + Days::new(4))
}

/// How far ahead the home page looks for the next day still open to changes.
const LOOKAHEAD_DAYS: u64 = 60;

struct ChildWeek {
    id: i64,
    name: String,
    /// "d'Adam Martin", for links read out of context.
    of_name: String,
    /// Text of this year's enrollment when it does not allow booking.
    status: Option<String>,
    days: Vec<DayRow>,
    /// "repas du jeudi 3 déc. : modifiable jusqu'au mardi 1er déc. à 10:00"
    next_deadline: Option<String>,
    /// Today's menu at the child's school, or the next service day's: "Menu d'aujourd'hui".
    menu_title: String,
    menu: Option<MenuView>,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    layout: Layout,
    signed_in: bool,
    week_title: String,
    children: Vec<ChildWeek>,
}

pub(super) async fn home(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
) -> Result<Response, PageError> {
    let Some(session) = session else {
        return super::ok(&HomePage {
            layout: Layout::new("Cantine scolaire", None),
            signed_in: false,
            week_title: String::new(),
            children: Vec::new(),
        });
    };
    // Staff have no household: their home is the back office.
    if session.account.household_id.is_none() && session.account.roles.is_staff() {
        return Ok(see_other(crate::http::routes::STAFF_HOME));
    }
    let household = session.household()?;
    let rules = state.rules();
    let today = rules.today();
    let (monday, friday) = coming_week(today);
    let mut children = Vec::new();
    for child in households::children(&state.pool, household, rules.current_year()?).await? {
        let name = child.full_name();
        if !child.is_enrolled() {
            children.push(ChildWeek {
                id: child.id.get(),
                of_name: fr::of(&name),
                name,
                status: Some(enrollment_text(&child)),
                days: Vec::new(),
                next_deadline: None,
                menu_title: String::new(),
                menu: None,
            });
            continue;
        }
        let views = reservations::list(
            &state.pool,
            &rules,
            household,
            child.id,
            monday.min(today),
            friday.max(today + Days::new(LOOKAHEAD_DAYS)),
        )
        .await?;
        let holding = match child.custody {
            Some(_) => crate::custody::holding_of(&state.pool, household, child.id).await?,
            None => None,
        };
        let theirs = |date| holding.as_ref().is_some_and(|h| !h.books(date));
        let next_deadline = views
            .iter()
            .find(|d| d.reason.is_none() && !d.locked && !theirs(d.date))
            .and_then(|d| {
                d.deadline.map(|at| {
                    format!(
                        "Prochaine échéance : le repas du {} est modifiable jusqu'au {}.",
                        fr::short_date(d.date),
                        fr::deadline(at)
                    )
                })
            });
        let days = views
            .iter()
            .filter(|d| (monday..=friday).contains(&d.date))
            .map(|d| {
                if theirs(d.date) {
                    DayRow::other_household(d)
                } else {
                    DayRow::new(d, false)
                }
            })
            .collect();
        // Today's menu while today is a service day, else the next service day's.
        let next_service = views
            .iter()
            .find(|d| d.date >= today && d.reason.is_none())
            .map(|d| d.date);
        let (menu_title, menu) = match next_service {
            Some(date) => {
                let served = menus::served(
                    &state.pool,
                    Activity::Canteen,
                    &[child.school_id],
                    (date, date),
                )
                .await?;
                let title = if date == today {
                    "Menu d'aujourd'hui".to_owned()
                } else {
                    format!("Menu du {}", fr::long_date(date))
                };
                let view = served.get(&(child.school_id, date)).map(|m| {
                    MenuView::new(m, [(child.first_name.as_str(), child.allergens.as_slice())])
                });
                (title, view)
            }
            None => (String::new(), None),
        };
        children.push(ChildWeek {
            id: child.id.get(),
            of_name: fr::of(&name),
            name,
            status: None,
            days,
            next_deadline,
            menu_title,
            menu,
        });
    }
    super::ok(&HomePage {
        layout: Layout::new("Accueil", Some(&session)),
        signed_in: true,
        week_title: format!("Semaine du {}", fr::long_date_year(monday)),
        children,
    })
}

#[derive(Template)]
#[template(path = "household.html")]
struct HouseholdPage {
    layout: Layout,
    info: Option<&'static str>,
    error: Option<String>,
    children: Vec<ChildLine>,
    invite_email: String,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct InfoQuery {
    #[serde(default)]
    info: Option<String>,
}

fn household_info(code: Option<&str>) -> Option<&'static str> {
    match code? {
        "invitation" => Some("Invitation envoyée par e-mail."),
        "demande" => Some(
            "Demande d'inscription envoyée. Le service de restauration scolaire va l'examiner.",
        ),
        _ => None,
    }
}

async fn household_page(
    state: &AppState,
    session: &crate::http::auth::Session,
) -> Result<HouseholdPage, PageError> {
    let year = state.rules().current_year()?;
    let children = households::children(&state.pool, session.household()?, year)
        .await?
        .into_iter()
        .map(|c| ChildLine::new(&c))
        .collect();
    Ok(HouseholdPage {
        layout: Layout::new("Mon foyer", Some(session)),
        info: None,
        error: None,
        children,
        invite_email: String::new(),
    })
}

pub(super) async fn household(
    State(state): State<AppState>,
    Signed(session): Signed,
    PageQuery(query): PageQuery<InfoQuery>,
) -> Result<Response, PageError> {
    let mut template = household_page(&state, &session).await?;
    template.info = household_info(query.info.as_deref());
    super::ok(&template)
}

pub(super) async fn invite(
    State(state): State<AppState>,
    Signed(session): Signed,
    form: FormData,
) -> Result<Response, PageError> {
    check_csrf(&session, &form)?;
    let email = form.get("email").trim().to_owned();
    let result =
        crate::accounts::invite_guardian(&state.accounts(), &session.account, &email).await;
    match result {
        Ok(()) => Ok(see_other("/foyer?info=invitation")),
        Err(e) => {
            let form = async {
                let mut template = household_page(&state, &session).await?;
                template.invite_email = email;
                Ok(template)
            };
            refused(e, form).await
        }
    }
}

#[derive(Template)]
#[template(path = "child_new.html")]
struct ChildPage {
    layout: Layout,
    error: Option<String>,
    first_name: String,
    last_name: String,
    birth_date: String,
    schools: Vec<Choice>,
    levels: Vec<Choice>,
    diets: Vec<Choice>,
    allergies: String,
    allergens: Vec<Choice>,
    pai: bool,
}

async fn child_page(
    state: &AppState,
    session: &crate::http::auth::Session,
    form: Option<&FormData>,
) -> Result<ChildPage, PageError> {
    let value = |name: &str| form.map_or_else(String::new, |f| f.get(name).to_owned());
    Ok(ChildPage {
        layout: Layout::new("Ajouter un enfant", Some(session)),
        error: None,
        first_name: value("prenom"),
        last_name: value("nom"),
        birth_date: value("naissance"),
        schools: school_choices(&state.pool, &[value("ecole")]).await?,
        levels: level_choices(form.map_or("", |f| f.get("classe"))),
        diets: diet_choices(form.map_or(Diet::Standard.code(), |f| f.get("regime"))),
        allergies: value("allergies"),
        allergens: allergen_choices(
            form.map(|f| f.all("allergenes").collect::<Vec<_>>())
                .unwrap_or_default(),
        ),
        pai: form.is_some_and(|f| f.checked("pai")),
    })
}

pub(super) async fn child_form(
    State(state): State<AppState>,
    Signed(session): Signed,
) -> Result<Response, PageError> {
    session.household()?;
    super::ok(&child_page(&state, &session, None).await?)
}

pub(super) async fn create_child(
    State(state): State<AppState>,
    Signed(session): Signed,
    form: FormData,
) -> Result<Response, PageError> {
    check_csrf(&session, &form)?;
    let household = session.household()?;
    let rules = state.rules();
    let result = async {
        households::create_child(&state.pool, household, rules.today(), child_field(&form)?).await
    }
    .await;
    match result {
        Ok(id) => Ok(see_other(&format!("/enfants/{id}/inscription"))),
        Err(e) => refused(e, child_page(&state, &session, Some(&form))).await,
    }
}

#[derive(Template)]
#[template(path = "enrollment.html")]
struct EnrollmentPage {
    layout: Layout,
    error: Option<String>,
    child_id: i64,
    child_name: String,
    school: String,
    year: String,
    /// When a request is already pending or validated, the form is not shown.
    status: Option<String>,
    days: Vec<DayChoice>,
}

async fn enrollment_page(
    state: &AppState,
    session: &crate::http::auth::Session,
    child_id: i64,
    wanted: Option<WeekdaySet>,
) -> Result<EnrollmentPage, PageError> {
    let year = state.rules().current_year()?;
    let child =
        households::child(&state.pool, session.household()?, ChildId(child_id), year).await?;
    let service = child.school_service_weekdays;
    let wanted = wanted.unwrap_or(service);
    let live = matches!(
        child.enrollment.as_ref().map(|e| &e.status),
        Some(EnrollmentStatus::Pending | EnrollmentStatus::Validated)
    );
    Ok(EnrollmentPage {
        layout: Layout::new(
            format!("Inscription à la cantine {}", fr::of(&child.first_name)),
            Some(session),
        ),
        error: None,
        child_id,
        child_name: child.full_name(),
        school: child.school_name.clone(),
        year: year.to_string(),
        status: if child.is_shared_with_us() {
            Some(format!(
                "{} Garde partagée : c'est l'autre foyer qui demande l'inscription.",
                enrollment_text(&child)
            ))
        } else {
            live.then(|| enrollment_text(&child))
        },
        days: DayChoice::list(service, wanted),
    })
}

pub(super) async fn enrollment_form(
    State(state): State<AppState>,
    Signed(session): Signed,
    PagePath(child_id): PagePath<i64>,
) -> Result<Response, PageError> {
    super::ok(&enrollment_page(&state, &session, child_id, None).await?)
}

pub(super) async fn request_enrollment(
    State(state): State<AppState>,
    Signed(session): Signed,
    PagePath(child_id): PagePath<i64>,
    form: FormData,
) -> Result<Response, PageError> {
    check_csrf(&session, &form)?;
    let household = session.household()?;
    let year = state.rules().current_year()?;
    let weekdays = weekdays_field(&form);
    let result = match weekdays {
        Ok(days) if days.is_empty() => Err(Error::form(FormProblem::NoWeekday)),
        Ok(days) => {
            enrollments::request_enrollment(
                &state.pool,
                household,
                session.account.account_id,
                ChildId(child_id),
                year,
                days,
            )
            .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(see_other("/foyer?info=demande")),
        Err(e) => {
            let wanted = weekdays_field(&form).ok();
            refused(e, enrollment_page(&state, &session, child_id, wanted)).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_coming_week_is_this_week_on_weekdays_and_the_next_at_the_weekend() {
        let d = |day| NaiveDate::from_ymd_opt(2026, 11, day).unwrap();
        assert_eq!(coming_week(d(25)), (d(23), d(27)));
        assert_eq!(coming_week(d(23)), (d(23), d(27)));
        assert_eq!(coming_week(d(28)), (d(30), d(30) + Days::new(4)));
        assert_eq!(coming_week(d(29)), (d(30), d(30) + Days::new(4)));
    }
}

form_page!(HouseholdPage, ChildPage, EnrollmentPage);
