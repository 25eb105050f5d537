//! The home page, the household, the child form and the enrollment request.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono::{Datelike, Days, NaiveDate, Weekday};
use serde::Deserialize;

use super::widgets::{DayChoice, DayRow, enrollment_text, parse_date, weekdays_field};
use super::{
    FormData, Layout, PageError, PagePath, PageQuery, Signed, check_csrf, form_page, fr, refused,
    see_other,
};
use cantine_domain::child::{ClassLevel, Diet};
use cantine_domain::enrollment::EnrollmentStatus;
use cantine_domain::ids::{ChildId, SchoolId};
use cantine_domain::weekdays::WeekdaySet;

use crate::enrollments;
use crate::error::{Error, FormProblem};
use crate::households::{self, NewChild};
use crate::http::AppState;
use crate::http::auth::MaybeSession;
use crate::reservations;

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
        let next_deadline = views
            .iter()
            .find(|d| d.reason.is_none() && !d.locked)
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
            .map(|d| DayRow::new(d, false))
            .collect();
        children.push(ChildWeek {
            id: child.id.get(),
            of_name: fr::of(&name),
            name,
            status: None,
            days,
            next_deadline,
        });
    }
    super::ok(&HomePage {
        layout: Layout::new("Accueil", Some(&session)),
        signed_in: true,
        week_title: format!("Semaine du {}", fr::long_date_year(monday)),
        children,
    })
}

struct ChildLine {
    id: i64,
    name: String,
    of_name: String,
    school: String,
    class_level: String,
    diet: String,
    allergies: String,
    pai: bool,
    enrollment: String,
    enrolled: bool,
    can_request: bool,
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
        .map(|c| {
            let status = c.enrollment.as_ref().map(|e| &e.status);
            let name = c.full_name();
            ChildLine {
                id: c.id.get(),
                of_name: fr::of(&name),
                name,
                school: c.school_name.clone(),
                class_level: c.class_level.code().to_owned(),
                diet: fr::diet(c.diet).to_owned(),
                allergies: c.allergies.clone(),
                pai: c.pai,
                enrollment: enrollment_text(&c),
                enrolled: c.is_enrolled(),
                can_request: !matches!(
                    status,
                    Some(EnrollmentStatus::Validated | EnrollmentStatus::Pending)
                ),
            }
        })
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

struct Choice {
    value: String,
    label: String,
    selected: bool,
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
    pai: bool,
}

async fn child_page(
    state: &AppState,
    session: &crate::http::auth::Session,
    form: Option<&FormData>,
) -> Result<ChildPage, PageError> {
    let value = |name: &str| form.map_or_else(String::new, |f| f.get(name).to_owned());
    let school = value("ecole");
    let level = value("classe");
    let diet = form.map_or("standard", |f| f.get("regime")).to_owned();
    let schools = households::schools(&state.pool)
        .await?
        .into_iter()
        .map(|s| Choice {
            selected: s.id.to_string() == school,
            value: s.id.to_string(),
            label: s.name,
        })
        .collect();
    Ok(ChildPage {
        layout: Layout::new("Ajouter un enfant", Some(session)),
        error: None,
        first_name: value("prenom"),
        last_name: value("nom"),
        birth_date: value("naissance"),
        schools,
        levels: ClassLevel::ALL
            .into_iter()
            .map(|l| Choice {
                selected: l.code() == level,
                value: l.code().to_owned(),
                label: format!("{} – {}", l.code(), fr::class_level(l)),
            })
            .collect(),
        diets: Diet::ALL
            .into_iter()
            .map(|d| Choice {
                selected: d.code() == diet,
                value: d.code().to_owned(),
                label: fr::diet(d).to_owned(),
            })
            .collect(),
        allergies: value("allergies"),
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
        let birth_date = parse_date(form.get("naissance"), "Date de naissance")?;
        let school_id = form
            .get("ecole")
            .parse::<i64>()
            .map_err(|_| Error::form(FormProblem::School))?;
        households::create_child(
            &state.pool,
            household,
            rules.today(),
            NewChild {
                first_name: form.get("prenom").to_owned(),
                last_name: form.get("nom").to_owned(),
                birth_date,
                school_id: SchoolId(school_id),
                class_level: form.get("classe").to_owned(),
                diet: form.get("regime").to_owned(),
                allergies: form.get("allergies").to_owned(),
                pai: form.checked("pai"),
            },
        )
        .await
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
        status: live.then(|| enrollment_text(&child)),
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
