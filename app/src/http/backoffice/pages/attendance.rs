//! The attendance page (`/gestion/appel`): a school's day on a tablet, one tap per child.
//!
//! Without JavaScript every button is a form post (CSRF field, Post/Redirect/Get), each form
//! carrying a mark id generated when the page was rendered, so a double tap or a resent form
//! records the mark once. With JavaScript (`/static/appel.js`) the taps go to a queue on the
//! device and the staff API; the page and its service worker keep working through a lost
//! network (see docs/architecture.md).

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono::NaiveDate;
use serde::Deserialize;
use uuid::Uuid;

use cantine_domain::child::{ClassLevel, Diet};
use cantine_domain::ids::{ChildId, SchoolId};
use cantine_domain::roles::Role;

use super::{filled, notice, number};
use crate::attendance::{self, DayList, NewMark, Outcome};
use crate::error::{Error, FormProblem};
use crate::http::backoffice::Staff;
use crate::http::backoffice::api_attendance::class_filter;
use crate::http::portal::widgets::{Choice, parse_date, school_choices};
use crate::http::portal::{
    FormData, Layout, PageError, PageQuery, check_csrf, form_page, ok, refused, see_other,
};
use crate::http::{AppState, fr, routes};

#[derive(Debug, Default, Deserialize)]
pub(super) struct AttendanceQuery {
    #[serde(default)]
    ecole: Option<String>,
    #[serde(default)]
    date: Option<String>,
    #[serde(default)]
    classe: Option<String>,
    #[serde(default)]
    info: Option<String>,
}

/// One child's line: everything in words and symbols, never by colour alone.
struct Row {
    id: i64,
    name: String,
    class_level: &'static str,
    /// A diet other than the standard menu, in words.
    diet: Option<&'static str>,
    allergens: Vec<&'static str>,
    details: String,
    pai: bool,
    warnings: Vec<&'static str>,
    walk_in: bool,
    /// An absence the family declared for the day, in words.
    absence: Option<&'static str>,
    /// CSS class and the state in symbol and words.
    state: &'static str,
    symbol: &'static str,
    state_text: &'static str,
    /// A fresh mark id for the line's form (both buttons): a double tap counts once.
    mark_id: Uuid,
}

#[derive(Template)]
#[template(path = "gestion/appel.html")]
struct AttendancePage {
    layout: Layout,
    info: Option<String>,
    error: Option<String>,
    schools: Vec<Choice>,
    classes: Vec<Choice>,
    /// The day shown, when a school is chosen.
    day: Option<DayView>,
}

struct DayView {
    school: i64,
    school_name: String,
    date: String,
    date_label: String,
    class: String,
    rows: Vec<Row>,
    present: usize,
    absent: usize,
    unmarked: usize,
    menu_known: bool,
    /// "Verrouillé le … par …".
    locked: Option<String>,
    manager: bool,
    /// Marks may be sent: not locked, or locked and the member is a manager.
    can_mark: bool,
    candidates: Vec<Choice>,
    walk_in_id: Uuid,
}

fn row(c: attendance::Expected) -> Row {
    let (state, symbol, state_text) = match c.present {
        Some(true) => ("present", "✔", "Présent"),
        Some(false) => ("absent", "✘", "Absent"),
        None => ("non-pointe", "○", "Non pointé"),
    };
    Row {
        id: c.child.get(),
        name: format!("{} {}", c.first_name, c.last_name),
        class_level: c.class_level.code(),
        diet: (c.diet != Diet::Standard).then(|| fr::diet(c.diet)),
        allergens: c.allergens.iter().map(|a| fr::allergen(*a)).collect(),
        details: c.allergies,
        pai: c.pai,
        warnings: c.menu_warnings.iter().map(|a| fr::allergen(*a)).collect(),
        walk_in: c.walk_in,
        absence: c.absence.map(fr::declared_absence),
        state,
        symbol,
        state_text,
        mark_id: Uuid::new_v4(),
    }
}

/// The schools the member may take attendance in.
async fn schools_for(state: &AppState, staff: &Staff, selected: i64) -> Result<Vec<Choice>, Error> {
    let scope = staff.scope();
    Ok(school_choices(&state.pool, &[selected.to_string()])
        .await?
        .into_iter()
        .filter(|c| c.value.parse().is_ok_and(|id| scope.covers(SchoolId(id))))
        .collect())
}

fn class_choices(selected: Option<ClassLevel>) -> Vec<Choice> {
    ClassLevel::ALL
        .into_iter()
        .map(|l| Choice {
            selected: Some(l) == selected,
            value: l.code().to_owned(),
            label: l.code().to_owned(),
        })
        .collect()
}

/// Which day a request or a form names: school (by default the member's first), date (by
/// default today) and class.
struct Day {
    school: Option<i64>,
    date: NaiveDate,
    class: Option<ClassLevel>,
}

fn day_of(
    state: &AppState,
    (school, date, class): (Option<&str>, Option<&str>, Option<&str>),
) -> Result<Day, Error> {
    Ok(Day {
        school: filled(school).map(|s| number(s, "École")).transpose()?,
        date: match filled(date) {
            Some(d) => parse_date(d, "Date")?,
            None => state.rules().today(),
        },
        class: class_filter(filled(class)).map_err(|_| Error::form(FormProblem::PageAddress))?,
    })
}

async fn view(state: &AppState, staff: &Staff, day: &Day) -> Result<AttendancePage, PageError> {
    let mut schools = schools_for(state, staff, day.school.unwrap_or(0)).await?;
    let school = match day.school {
        Some(id) => Some(id),
        None => schools.first_mut().map(|c| {
            c.selected = true;
            c.value.parse().expect("a school id")
        }),
    };
    let day_view = match school {
        None => None,
        Some(id) => Some(day_view(state, staff, SchoolId(id), day).await?),
    };
    Ok(AttendancePage {
        layout: Layout::new("Pointage de la cantine", Some(&staff.session)),
        info: None,
        error: None,
        schools,
        classes: class_choices(day.class),
        day: day_view,
    })
}

async fn day_view(
    state: &AppState,
    staff: &Staff,
    school: SchoolId,
    day: &Day,
) -> Result<DayView, Error> {
    let agent = staff.agent();
    let list: DayList =
        attendance::day_list(&state.pool, &agent, school, day.date, day.class).await?;
    let candidates =
        attendance::walk_in_candidates(&state.pool, &agent, school, day.date, day.class).await?;
    let manager = staff.session.account.roles.contains(Role::Manager);
    let present = list.present();
    let unmarked = list.waiting();
    let total = list.children.len();
    Ok(DayView {
        school: school.get(),
        school_name: list.school_name,
        date: day.date.to_string(),
        date_label: fr::capitalized(&fr::long_date_year(day.date)),
        class: day.class.map(|c| c.code().to_owned()).unwrap_or_default(),
        present,
        absent: total - present - unmarked,
        unmarked,
        menu_known: list.menu_known,
        can_mark: list.lock.is_none() || manager,
        locked: list.lock.map(|l| {
            format!(
                "Pointage verrouillé le {} par {}.",
                fr::deadline(l.locked_at),
                l.locked_by
            )
        }),
        manager,
        rows: list.children.into_iter().map(row).collect(),
        candidates: candidates
            .into_iter()
            .map(|c| Choice {
                value: c.child.get().to_string(),
                label: format!(
                    "{} {} ({})",
                    c.first_name,
                    c.last_name,
                    c.class_level.code()
                ),
                selected: false,
            })
            .collect(),
        walk_in_id: Uuid::new_v4(),
    })
}

pub(super) async fn attendance_page(
    State(state): State<AppState>,
    staff: Staff,
    PageQuery(query): PageQuery<AttendanceQuery>,
) -> Result<Response, PageError> {
    let day = day_of(
        &state,
        (
            query.ecole.as_deref(),
            query.date.as_deref(),
            query.classe.as_deref(),
        ),
    )?;
    let mut template = view(&state, &staff, &day).await?;
    template.info = notice(query.info.as_deref()).map(str::to_owned);
    ok(&template)
}

/// The day a form posts (its hidden `ecole`, `date`, `classe`).
fn form_day(state: &AppState, form: &FormData) -> Result<Day, Error> {
    day_of(
        state,
        (
            Some(form.get("ecole")),
            Some(form.get("date")),
            Some(form.get("classe")),
        ),
    )
}

/// Back to the day's page, at the child's line when there is one.
fn back_to(day: &Day, info: &str, child: Option<i64>) -> Response {
    let mut path = format!(
        "{}?ecole={}&date={}",
        routes::STAFF_ATTENDANCE,
        day.school.unwrap_or_default(),
        day.date
    );
    if let Some(class) = day.class {
        path.push_str(&format!("&classe={}", class.code()));
    }
    path.push_str(&format!("&info={info}"));
    if let Some(child) = child {
        path.push_str(&format!("#enfant-{child}"));
    }
    see_other(&path)
}

fn client_id(form: &FormData) -> Result<Uuid, Error> {
    form.get("client_id")
        .trim()
        .parse()
        .map_err(|_| Error::form(FormProblem::PageAddress))
}

async fn mark_one(
    state: &AppState,
    staff: &Staff,
    form: &FormData,
    present: bool,
) -> Result<(i64, Outcome), Error> {
    let child = number(form.get("enfant"), "Enfant")?;
    let day = form_day(state, form)?;
    let outcomes = attendance::mark(
        &state.pool,
        &staff.agent(),
        state.rules().today(),
        state.clock.now(),
        &[NewMark {
            client_id: client_id(form)?,
            child: ChildId(child),
            date: day.date,
            present,
            marked_at: None,
            reason: filled(Some(form.get("motif"))).map(str::to_owned),
        }],
    )
    .await?;
    Ok((child, outcomes[0]))
}

fn outcome_notice(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Applied => "pointe",
        Outcome::Superseded => "plus-recent",
        Outcome::Duplicate => "deja-pointe",
    }
}

pub(super) async fn mark(
    State(state): State<AppState>,
    staff: Staff,
    form: FormData,
) -> Result<Response, PageError> {
    check_csrf(&staff.session, &form)?;
    let present = match form.get("present") {
        "1" => true,
        "0" => false,
        _ => return Err(Error::form(FormProblem::Action).into()),
    };
    let day = form_day(&state, &form)?;
    match mark_one(&state, &staff, &form, present).await {
        Ok((child, outcome)) => Ok(back_to(&day, outcome_notice(outcome), Some(child))),
        Err(e) => refused(e, view(&state, &staff, &day)).await,
    }
}

pub(super) async fn walk_in(
    State(state): State<AppState>,
    staff: Staff,
    form: FormData,
) -> Result<Response, PageError> {
    check_csrf(&staff.session, &form)?;
    let day = form_day(&state, &form)?;
    match mark_one(&state, &staff, &form, true).await {
        Ok((child, Outcome::Duplicate)) => Ok(back_to(&day, "deja-pointe", Some(child))),
        Ok((child, _)) => Ok(back_to(&day, "sans-reservation", Some(child))),
        Err(e) => refused(e, view(&state, &staff, &day)).await,
    }
}

pub(super) async fn lock(
    State(state): State<AppState>,
    staff: Staff,
    form: FormData,
) -> Result<Response, PageError> {
    check_csrf(&staff.session, &form)?;
    let day = form_day(&state, &form)?;
    let result = async {
        let school = day
            .school
            .ok_or(Error::form(FormProblem::School))
            .map(SchoolId)?;
        attendance::lock_day(
            &state.pool,
            &staff.agent(),
            school,
            day.date,
            (state.rules().today(), state.clock.now()),
        )
        .await
    }
    .await;
    match result {
        Ok(locked) => Ok(back_to(
            &day,
            if locked.newly {
                "verrouille"
            } else {
                "deja-verrouille"
            },
            None,
        )),
        Err(e) => refused(e, view(&state, &staff, &day)).await,
    }
}

form_page!(AttendancePage);

const SCRIPT: &str = include_str!("../../../../static/appel.js");
const WORKER: &str = include_str!("../../../../static/appel-sw.js");
const STYLESHEET: &str = include_str!("../../../../static/appel.css");

/// The page's script, service worker and styles. They hold no personal data and need no
/// session (the worker must be fetchable to install). The worker is served from `/static`
/// but controls the page: `Service-Worker-Allowed` lets it take the page's scope, and
/// `no-cache` makes the browser check for a new version at each visit.
pub(super) fn static_routes() -> axum::Router<AppState> {
    use axum::http::header;
    use axum::response::IntoResponse;
    use axum::routing::get;
    axum::Router::new()
        .route(
            routes::ATTENDANCE_SCRIPT,
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
                        (header::CACHE_CONTROL, "no-cache"),
                    ],
                    SCRIPT,
                )
                    .into_response()
            }),
        )
        .route(
            routes::ATTENDANCE_WORKER,
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
                        (header::CACHE_CONTROL, "no-cache"),
                        (
                            header::HeaderName::from_static("service-worker-allowed"),
                            routes::STAFF_ATTENDANCE,
                        ),
                    ],
                    WORKER,
                )
                    .into_response()
            }),
        )
        .route(
            routes::ATTENDANCE_STYLESHEET,
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "text/css; charset=utf-8"),
                        (header::CACHE_CONTROL, "no-cache"),
                    ],
                    STYLESHEET,
                )
                    .into_response()
            }),
        )
}
