//! Menus: the week's menus as entered, the form of a day (for every school or one), and the
//! import of a caterer's CSV file. For the managers and the kitchen.

use askama::Template;
use axum::extract::{Multipart, State};
use axum::response::Response;
use chrono::{Datelike, Days, NaiveDate};
use serde::Deserialize;

use cantine_domain::ids::SchoolId;
use cantine_domain::menu::{Allergen, Course, QualitySign, Regime};

use crate::error::{Error, FormProblem, ImportLine, ImportProblem, Invalid};
use crate::households;
use crate::http::backoffice::Staff;
use crate::http::portal::menus::MenuView;
use crate::http::portal::widgets::{Choice, parse_date};
use crate::http::portal::{
    FormData, Layout, PageError, PagePath, PageQuery, check_csrf, form_page, ok, refused, see_other,
};
use crate::http::{AppState, fr, routes};
use crate::menus::{self, Menu, NewDish, Set};

/// Free dish slots offered beyond one per course (a second main, a vegetarian alternative…).
const FREE_SLOTS: usize = 3;

fn monday_of(date: NaiveDate) -> NaiveDate {
    date - Days::new(u64::from(date.weekday().num_days_from_monday()))
}

fn day_path(date: NaiveDate) -> String {
    routes::STAFF_MENU_DAY.replace("{date}", &date.to_string())
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct WeekQuery {
    #[serde(default)]
    semaine: Option<String>,
    #[serde(default)]
    info: Option<String>,
    #[serde(default)]
    jours: Option<usize>,
    #[serde(default)]
    plats: Option<usize>,
}

struct EnteredMenu {
    /// "Toutes les écoles" or the school's name.
    scope: String,
    edit: String,
    view: MenuView,
}

struct WeekDay {
    label: String,
    edit: String,
    menus: Vec<EnteredMenu>,
}

#[derive(Template)]
#[template(path = "gestion/menus.html")]
struct WeekPage {
    layout: Layout,
    info: Option<String>,
    title: String,
    previous: String,
    next: String,
    days: Vec<WeekDay>,
    open_data: &'static str,
}

pub(super) async fn week(
    State(state): State<AppState>,
    staff: Staff,
    PageQuery(query): PageQuery<WeekQuery>,
) -> Result<Response, PageError> {
    let shown = match query.semaine.as_deref().map(str::trim) {
        None | Some("") => state.rules().today(),
        Some(text) => parse_date(text, "Semaine")?,
    };
    let monday = monday_of(shown);
    let friday = monday + Days::new(4);
    let schools = households::schools(&state.pool).await?;
    let entered = menus::entered(&state.pool, (monday, friday)).await?;
    let days = (0..5)
        .map(|i| {
            let date = monday + Days::new(i);
            WeekDay {
                label: fr::capitalized(&fr::long_date(date)),
                edit: day_path(date),
                menus: entered
                    .iter()
                    .filter(|m| m.date == date)
                    .map(|m| EnteredMenu {
                        scope: match m.school {
                            None => "Toutes les écoles".to_owned(),
                            Some(id) => schools
                                .iter()
                                .find(|s| s.id == id)
                                .map_or_else(|| id.to_string(), |s| s.name.clone()),
                        },
                        edit: match m.school {
                            None => day_path(date),
                            Some(id) => format!("{}?ecole={id}", day_path(date)),
                        },
                        view: MenuView::new(m, []),
                    })
                    .collect(),
            }
        })
        .collect();
    let info = match (query.info.as_deref(), query.jours, query.plats) {
        (Some("enregistre"), _, _) => Some("Menu enregistré.".to_owned()),
        (Some("supprime"), _, _) => Some("Menu supprimé.".to_owned()),
        (Some("importe"), Some(days), Some(dishes)) => Some(fr::menus_imported(days, dishes)),
        _ => None,
    };
    ok(&WeekPage {
        layout: Layout::new(
            format!("Menus de la semaine du {}", fr::long_date_year(monday)),
            Some(&staff.session),
        ),
        info,
        title: format!("Semaine du {}", fr::long_date_year(monday)),
        previous: (monday - Days::new(7)).to_string(),
        next: (monday + Days::new(7)).to_string(),
        days,
        open_data: routes::OPEN_DATA_MENUS,
    })
}

/// One dish of the day's form.
struct Slot {
    /// `plat-3`: the prefix of its fields' names and ids.
    prefix: String,
    legend: String,
    /// The course of a slot kept for it; `None` for a free slot, which has a course select.
    fixed: Option<&'static str>,
    courses: Vec<Choice>,
    name: String,
    allergens: Vec<Choice>,
    regimes: Vec<Choice>,
    signs: Vec<Choice>,
}

fn choices<T: Copy + PartialEq>(
    all: &[T],
    code: fn(T) -> &'static str,
    label: fn(T) -> String,
    ticked: &[&str],
) -> Vec<Choice> {
    all.iter()
        .map(|&v| Choice {
            value: code(v).to_owned(),
            label: label(v),
            selected: ticked.contains(&code(v)),
        })
        .collect()
}

impl Slot {
    fn new(index: usize, fixed: Option<Course>, values: SlotValues<'_>) -> Self {
        let course = fixed.map(Course::code).unwrap_or(values.course);
        Self {
            prefix: format!("plat-{index}"),
            legend: match fixed {
                Some(c) => fr::course(c).to_owned(),
                None => "Autre plat (facultatif)".to_owned(),
            },
            fixed: fixed.map(Course::code),
            courses: choices(
                Course::ALL,
                Course::code,
                |c| fr::course(c).to_owned(),
                &[course],
            ),
            name: values.name.to_owned(),
            allergens: choices(
                Allergen::ALL,
                Allergen::code,
                |a| fr::capitalized(fr::allergen(a)),
                &values.allergens,
            ),
            regimes: choices(
                Regime::ALL,
                Regime::code,
                |r| fr::capitalized(fr::regime(r)),
                &values.regimes,
            ),
            signs: choices(
                QualitySign::ALL,
                QualitySign::code,
                |q| fr::capitalized(fr::quality_sign(q)),
                &values.signs,
            ),
        }
    }
}

#[derive(Default)]
struct SlotValues<'a> {
    course: &'a str,
    name: &'a str,
    allergens: Vec<&'a str>,
    regimes: Vec<&'a str>,
    signs: Vec<&'a str>,
}

fn values(d: &menus::Dish) -> SlotValues<'_> {
    SlotValues {
        course: d.course.code(),
        name: d.name.as_str(),
        allergens: d.allergens.iter().map(|a| a.code()).collect(),
        regimes: d.regimes.iter().map(|r| r.code()).collect(),
        signs: d.quality_signs.iter().map(|q| q.code()).collect(),
    }
}

/// A slot per course (the first dish of each), then the other dishes and a few free slots.
fn slots_of(menu: Option<&Menu>) -> Vec<Slot> {
    let dishes = menu.map_or(&[][..], |m| m.dishes.as_slice());
    let mut used = vec![false; dishes.len()];
    let mut slots = Vec::new();
    for &course in Course::ALL {
        let found = dishes
            .iter()
            .enumerate()
            .find(|(i, d)| d.course == course && !used[*i]);
        let v = match found {
            Some((i, d)) => {
                used[i] = true;
                values(d)
            }
            None => SlotValues::default(),
        };
        slots.push(Slot::new(slots.len(), Some(course), v));
    }
    for (i, d) in dishes.iter().enumerate() {
        if !used[i] {
            slots.push(Slot::new(slots.len(), None, values(d)));
        }
    }
    for _ in 0..FREE_SLOTS {
        let free = SlotValues {
            course: Course::Main.code(),
            ..SlotValues::default()
        };
        slots.push(Slot::new(slots.len(), None, free));
    }
    slots
}

/// The most slots a posted form is read for.
const MAX_SLOTS: usize = Course::ALL.len() + menus::MAX_DISHES + FREE_SLOTS;

/// The posted slots again, as typed, for a refused form.
fn slots_of_form(form: &FormData) -> Vec<Slot> {
    (0..MAX_SLOTS)
        .map_while(|i| {
            let p = format!("plat-{i}");
            let course = form.get(&format!("{p}-type"));
            if course.is_empty() {
                return None;
            }
            let fixed = form
                .checked(&format!("{p}-fixe"))
                .then(|| course.parse::<Course>().ok())
                .flatten();
            Some(Slot::new(
                i,
                fixed,
                SlotValues {
                    course,
                    name: form.get(&format!("{p}-nom")),
                    allergens: form.all(&format!("{p}-allergenes")).collect(),
                    regimes: form.all(&format!("{p}-regimes")).collect(),
                    signs: form.all(&format!("{p}-qualite")).collect(),
                },
            ))
        })
        .collect()
}

/// The posted dishes: a slot without a name nor anything ticked is no dish; one with ticks
/// but no name is refused by the service (a name is required).
fn dishes_of_form(form: &FormData) -> Vec<NewDish> {
    (0..MAX_SLOTS)
        .map_while(|i| {
            let p = format!("plat-{i}");
            let course = form.get(&format!("{p}-type"));
            (!course.is_empty()).then(|| NewDish {
                course: course.to_owned(),
                name: form.get(&format!("{p}-nom")).to_owned(),
                allergens: form
                    .all(&format!("{p}-allergenes"))
                    .map(str::to_owned)
                    .collect(),
                regimes: form
                    .all(&format!("{p}-regimes"))
                    .map(str::to_owned)
                    .collect(),
                quality_signs: form
                    .all(&format!("{p}-qualite"))
                    .map(str::to_owned)
                    .collect(),
            })
        })
        .filter(|d| {
            !d.name.trim().is_empty()
                || !d.allergens.is_empty()
                || !d.regimes.is_empty()
                || !d.quality_signs.is_empty()
        })
        .collect()
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct DayQuery {
    #[serde(default)]
    ecole: Option<String>,
}

#[derive(Template)]
#[template(path = "gestion/menu.html")]
struct DayPage {
    layout: Layout,
    error: Option<String>,
    date_label: String,
    action: String,
    week: String,
    /// The school of a school's own menu, `None` for the commune's.
    school: Option<i64>,
    scope: String,
    schools: Vec<Choice>,
    slots: Vec<Slot>,
    exists: bool,
    /// For a school's own menu: the commune's that the school serves without one.
    commune: Option<MenuView>,
}

fn school_field(text: Option<&str>) -> Result<Option<SchoolId>, Error> {
    match text.map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) => t
            .parse::<i64>()
            .map(|id| Some(SchoolId(id)))
            .map_err(|_| Error::form(FormProblem::School)),
    }
}

async fn day_page(
    state: &AppState,
    staff: &Staff,
    date: NaiveDate,
    school: Option<SchoolId>,
    form: Option<&FormData>,
) -> Result<DayPage, PageError> {
    let schools = households::schools(&state.pool).await?;
    let scope = match school {
        None => "Toutes les écoles".to_owned(),
        Some(id) => schools
            .iter()
            .find(|s| s.id == id)
            .map(|s| s.name.clone())
            .ok_or(Error::NotFound)?,
    };
    let entered = menus::entered(&state.pool, (date, date)).await?;
    let own = entered.iter().find(|m| m.school == school);
    let commune = school
        .and_then(|_| entered.iter().find(|m| m.school.is_none()))
        .map(|m| MenuView::new(m, []));
    Ok(DayPage {
        layout: Layout::new(
            format!("Menu du {}, {}", fr::long_date_year(date), scope),
            Some(&staff.session),
        ),
        error: None,
        date_label: fr::long_date_year(date),
        action: day_path(date),
        week: monday_of(date).to_string(),
        school: school.map(|s| s.get()),
        scope,
        schools: schools
            .iter()
            .map(|s| Choice {
                value: s.id.to_string(),
                label: s.name.clone(),
                selected: Some(s.id) == school,
            })
            .collect(),
        slots: match form {
            Some(f) => slots_of_form(f),
            None => slots_of(own),
        },
        exists: own.is_some(),
        commune,
    })
}

pub(super) async fn day_form(
    State(state): State<AppState>,
    staff: Staff,
    PagePath(date): PagePath<NaiveDate>,
    PageQuery(query): PageQuery<DayQuery>,
) -> Result<Response, PageError> {
    let school = school_field(query.ecole.as_deref())?;
    ok(&day_page(&state, &staff, date, school, None).await?)
}

pub(super) async fn save_day(
    State(state): State<AppState>,
    staff: Staff,
    PagePath(date): PagePath<NaiveDate>,
    form: FormData,
) -> Result<Response, PageError> {
    check_csrf(&staff.session, &form)?;
    let school = school_field(Some(form.get("ecole")))?;
    let dishes = if form.get("action") == "supprimer" {
        Vec::new()
    } else {
        dishes_of_form(&form)
    };
    let result = menus::set_day(
        &state.pool,
        &state.rules(),
        &staff.actor,
        date,
        school,
        &dishes,
    )
    .await;
    match result {
        Ok(set) => Ok(see_other(&format!(
            "{}?semaine={}&info={}",
            routes::STAFF_MENUS,
            monday_of(date),
            if set == Set::Saved {
                "enregistre"
            } else {
                "supprime"
            }
        ))),
        Err(e) => refused(e, day_page(&state, &staff, date, school, Some(&form))).await,
    }
}

#[derive(Template)]
#[template(path = "gestion/menus_import.html")]
struct ImportPage {
    layout: Layout,
    error: Option<String>,
    /// Each bad line of a refused file.
    lines: Vec<String>,
    action: &'static str,
}

fn import_page(staff: &Staff) -> ImportPage {
    ImportPage {
        layout: Layout::new("Importer les menus du prestataire", Some(&staff.session)),
        error: None,
        lines: Vec::new(),
        action: routes::STAFF_MENU_IMPORT,
    }
}

pub(super) async fn import_form(staff: Staff) -> Result<Response, PageError> {
    ok(&import_page(&staff))
}

/// The file's text, or the line of its first byte that is not UTF-8.
fn utf8(bytes: &[u8]) -> Result<&str, Error> {
    std::str::from_utf8(bytes).map_err(|e| {
        let line = 1 + bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        Error::Invalid(Invalid::Import(vec![ImportProblem {
            line,
            kind: ImportLine::Encoding,
        }]))
    })
}

pub(super) async fn import(
    State(state): State<AppState>,
    staff: Staff,
    mut multipart: Multipart,
) -> Result<Response, PageError> {
    let mut csrf = String::new();
    let mut file: Option<Vec<u8>> = None;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|_| Error::Malformed(crate::error::Malformed::Form))?
    {
        match field.name() {
            Some("csrf") => {
                csrf = field
                    .text()
                    .await
                    .map_err(|_| Error::Malformed(crate::error::Malformed::Form))?;
            }
            Some("fichier") => {
                file = Some(field.bytes().await.map_err(|_| Error::TooLarge)?.to_vec());
            }
            _ => {}
        }
    }
    staff.session.check_form_token(&csrf)?;
    let result = async {
        let bytes = file.ok_or(Error::Invalid(Invalid::Import(vec![ImportProblem {
            line: 1,
            kind: ImportLine::Header,
        }])))?;
        let text = utf8(&bytes)?;
        menus::import_file(&state.pool, &state.rules(), &staff.actor, text).await
    }
    .await;
    match result {
        Ok(imported) => Ok(see_other(&format!(
            "{}?info=importe&jours={}&plats={}",
            routes::STAFF_MENUS,
            imported.days,
            imported.dishes
        ))),
        Err(Error::Invalid(Invalid::Import(problems))) => {
            let mut page = import_page(&staff);
            page.lines = fr::import_lines(&problems);
            let error = Error::Invalid(Invalid::Import(problems));
            refused(error, async { Ok(page) }).await
        }
        Err(e) => refused(e, async { Ok(import_page(&staff)) }).await,
    }
}

form_page!(DayPage, ImportPage);
