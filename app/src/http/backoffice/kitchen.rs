//! The kitchen's counts at the edge: the `kitchenCounts` operation (JSON or CSV), the
//! `/gestion/cuisine` page with its print layout, the CSV French spreadsheets open as they
//! are (`;`, UTF-8 with BOM, `JJ/MM/AAAA`), and the caterer's mail with that CSV attached.

use askama::Template;
use axum::extract::State;
use axum::http::{Method, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use cantine_domain::ids::SchoolId;
use cantine_domain::menu::Allergen;

use super::{Access, KITCHEN_READERS, Staff, Table};
use crate::error::{Error, Invalid, Result};
use crate::http::api::v1::code_schema;
use crate::http::error::{Json, Query};
use crate::http::portal::widgets::{Choice, parse_date, school_choices};
use crate::http::portal::{Layout, PageError, PageQuery, form_page, ok, refused};
use crate::http::routes::{self, Links};
use crate::http::{AppState, fr};
use crate::kitchen::{self, KitchenMails, Meals, SchoolDay};
use crate::platform::mail::{Attachment, Mail};

pub(super) fn declare(table: Table) -> Table {
    let readers = Access::Roles(KITCHEN_READERS);
    table
        .add(
            Method::GET,
            routes::STAFF_KITCHEN_API,
            readers,
            kitchen_counts,
        )
        .add(Method::GET, routes::STAFF_KITCHEN, readers, kitchen_page)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CountsQuery {
    /// The first day (`2026-12-03`); today in Europe/Paris by default.
    from: Option<NaiveDate>,
    /// How many service days from `from`: 1 (default, the day itself) to 31.
    #[param(minimum = 1, maximum = 31)]
    days: Option<i64>,
    /// Only this school.
    #[param(minimum = 1)]
    school: Option<i64>,
    /// `json` (default) or `csv` (`;`, UTF-8 with BOM, French dates and headers).
    #[param(schema_with = format_schema)]
    format: Option<String>,
}

fn format_schema() -> utoipa::openapi::Schema {
    code_schema(["json", "csv"], Some("json"))
}

/// Meals by kind.
#[derive(Debug, Serialize, ToSchema)]
pub struct MealsOut {
    standard: i64,
    vegetarian: i64,
    no_pork: i64,
    /// Packed meals of children with a PAI (whatever their diet).
    pai: i64,
    /// Staff meals, as configured for the school (`[[kitchen.schools]] adult_meals`).
    adults: i64,
    total: i64,
}

impl From<&Meals> for MealsOut {
    fn from(m: &Meals) -> Self {
        Self {
            standard: m.standard,
            vegetarian: m.vegetarian,
            no_pork: m.no_pork,
            pai: m.pai,
            adults: m.adults,
            total: m.total(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AllergenChildren {
    /// An allergen code (`peanuts`).
    allergen: String,
    /// How many booked children declared it.
    children: i64,
}

/// One school's day.
#[derive(Debug, Serialize, ToSchema)]
pub struct KitchenDayOut {
    date: NaiveDate,
    school_id: i64,
    school_name: String,
    /// The day's booking deadline, when its counts freeze.
    deadline: DateTime<Utc>,
    /// Whether the school serves that day now (false: closed after its freeze).
    served: bool,
    /// When the counts were frozen; null until the deadline has passed and the freeze ran.
    frozen_at: Option<DateTime<Utc>>,
    /// What the kitchen was told at the freeze; never changes.
    frozen: Option<MealsOut>,
    /// The bookings now.
    live: MealsOut,
    /// `live − frozen`, kind by kind, once frozen (a closure, a manager's override).
    difference: Option<MealsOut>,
    /// The allergen codes of the day's menu.
    menu_allergens: Vec<String>,
    /// The allergens the booked children declared, with how many children each.
    child_allergens: Vec<AllergenChildren>,
}

impl From<&SchoolDay> for KitchenDayOut {
    fn from(d: &SchoolDay) -> Self {
        Self {
            date: d.date,
            school_id: d.school.get(),
            school_name: d.school_name.clone(),
            deadline: d.deadline,
            served: d.served,
            frozen_at: d.frozen.as_ref().map(|f| f.at),
            frozen: d.frozen.as_ref().map(|f| (&f.meals).into()),
            live: (&d.live).into(),
            difference: d.difference().as_ref().map(Into::into),
            menu_allergens: d
                .menu_allergens
                .iter()
                .map(|a| a.code().to_owned())
                .collect(),
            child_allergens: d
                .child_allergens
                .iter()
                .map(|(a, n)| AllergenChildren {
                    allergen: a.code().to_owned(),
                    children: *n,
                })
                .collect(),
        }
    }
}

/// What a request asks for, checked.
struct Wanted {
    from: NaiveDate,
    days: usize,
    school: Option<SchoolId>,
}

fn wanted(
    state: &AppState,
    from: Option<NaiveDate>,
    days: i64,
    school: Option<i64>,
) -> Result<Wanted> {
    let max = kitchen::MAX_DAYS as i64;
    if !(1..=max).contains(&days) {
        return Err(Error::Invalid(Invalid::Request(format!(
            "days: 1 to {max}"
        ))));
    }
    if school.is_some_and(|s| s < 1) {
        return Err(Error::Invalid(Invalid::Request("school: 1 or more".into())));
    }
    Ok(Wanted {
        from: from.unwrap_or_else(|| state.rules().today()),
        days: days as usize,
        school: school.map(SchoolId),
    })
}

async fn load(state: &AppState, w: &Wanted) -> Result<Vec<SchoolDay>> {
    kitchen::counts(
        &state.pool,
        &state.rules(),
        &state.config,
        w.school,
        w.from,
        w.days,
    )
    .await
}

fn csv_response(days: &[SchoolDay], from: NaiveDate) -> Response {
    let disposition = format!("attachment; filename=\"effectifs-cuisine-{from}.csv\"");
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        csv(days),
    )
        .into_response()
}

/// The meals per school and kind for a day or the next service days, frozen at the deadline
/// and live with their difference, and the allergens to handle; as JSON, or as the CSV sent
/// to the caterer with `format=csv`. An unknown school answers 404.
#[utoipa::path(get, path = "/api/v1/staff/kitchen/counts", operation_id = "kitchenCounts",
    tag = "staff", params(CountsQuery), security(("session" = [])),
    responses(
        (status = 200, body = [KitchenDayOut],
            content((Vec<KitchenDayOut> = "application/json"), (String = "text/csv"))),
        (status = 404, body = crate::http::error::Problem, description = "No such school")))]
pub async fn kitchen_counts(
    State(state): State<AppState>,
    _staff: Staff,
    Query(q): Query<CountsQuery>,
) -> Result<Response> {
    let as_csv = match q.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => {
            return Err(Error::Invalid(Invalid::Request(format!(
                "format: `json` or `csv`, not `{other}`"
            ))));
        }
    };
    let w = wanted(&state, q.from, q.days.unwrap_or(1), q.school)?;
    let days = load(&state, &w).await?;
    if as_csv {
        return Ok(csv_response(&days, w.from));
    }
    Ok(Json(days.iter().map(KitchenDayOut::from).collect::<Vec<_>>()).into_response())
}

// The page.

#[derive(Debug, Default, Deserialize)]
pub(super) struct PageParams {
    #[serde(default)]
    du: Option<String>,
    #[serde(default)]
    jours: Option<String>,
    #[serde(default)]
    ecole: Option<String>,
}

/// One number as the page shows it: what the kitchen goes by, and the change since.
struct Cell {
    told: i64,
    /// "+2", "−1"; `None` when nothing changed or not frozen.
    change: Option<String>,
}

struct SchoolLine {
    school: String,
    status: String,
    closed_since: bool,
    cells: Vec<Cell>,
    menu_allergens: String,
    child_allergens: String,
}

struct DayBlock {
    date: String,
    lines: Vec<SchoolLine>,
}

#[derive(Template)]
#[template(path = "gestion/cuisine.html")]
struct KitchenPage {
    layout: Layout,
    error: Option<String>,
    from: String,
    days: String,
    schools: Vec<Choice>,
    kinds: Vec<&'static str>,
    blocks: Vec<DayBlock>,
    csv: String,
}

form_page!(KitchenPage);

/// The kinds in the order of the page's columns and the CSV's.
const KINDS: [&str; 6] = [
    "Standard",
    "Végétarien",
    "Sans porc",
    "Panier repas PAI",
    "Adultes",
    "Total",
];

fn by_kind(m: &Meals) -> [i64; 6] {
    [
        m.standard,
        m.vegetarian,
        m.no_pork,
        m.pai,
        m.adults,
        m.total(),
    ]
}

fn signed(n: i64) -> String {
    if n > 0 {
        format!("+{n}")
    } else {
        // U+2212, the minus sign, reads better than a hyphen on screen and in print.
        format!("\u{2212}{}", n.unsigned_abs())
    }
}

fn status(day: &SchoolDay) -> String {
    match &day.frozen {
        Some(f) if day.served => format!("Figé le {}", fr::date_time(f.at)),
        Some(f) => format!("Figé le {}, jour fermé depuis", fr::date_time(f.at)),
        None => format!(
            "Provisoire : figé à la limite du {}",
            fr::date_time(day.deadline)
        ),
    }
}

fn allergen_list(allergens: &[Allergen]) -> String {
    allergens
        .iter()
        .map(|a| fr::allergen(*a))
        .collect::<Vec<_>>()
        .join(", ")
}

fn declared_list(allergens: &[(Allergen, i64)]) -> String {
    allergens
        .iter()
        .map(|(a, n)| format!("{} ({n})", fr::allergen(*a)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The allergens the kitchen goes by: the frozen lists once frozen.
fn told_allergens(day: &SchoolDay) -> (&[Allergen], &[(Allergen, i64)]) {
    match &day.frozen {
        Some(f) => (&f.menu_allergens, &f.child_allergens),
        None => (&day.menu_allergens, &day.child_allergens),
    }
}

pub(super) async fn kitchen_page(
    State(state): State<AppState>,
    staff: Staff,
    PageQuery(params): PageQuery<PageParams>,
) -> Result<Response, PageError> {
    let selected: Vec<String> = params.ecole.iter().cloned().collect();
    let schools = school_choices(&state.pool, &selected).await?;
    let mut template = KitchenPage {
        layout: Layout::new("Effectifs de la cuisine", Some(&staff.session)),
        error: None,
        from: params.du.clone().unwrap_or_default(),
        days: params.jours.clone().unwrap_or_else(|| "5".to_owned()),
        schools,
        kinds: KINDS.to_vec(),
        blocks: Vec::new(),
        csv: String::new(),
    };
    let parsed = (|| -> Result<Wanted, Error> {
        let filled = |t: Option<&str>| {
            t.map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
        };
        let from = filled(params.du.as_deref())
            .map(|d| parse_date(&d, "Du"))
            .transpose()?;
        let days = match filled(params.jours.as_deref()) {
            Some(d) => d.parse::<i64>().map_err(|_| {
                Error::form(crate::error::FormProblem::Number {
                    what: "Nombre de jours",
                })
            })?,
            None => 5,
        };
        let school = filled(params.ecole.as_deref())
            .map(|s| {
                s.parse::<i64>()
                    .map_err(|_| Error::form(crate::error::FormProblem::Number { what: "École" }))
            })
            .transpose()?;
        wanted(&state, from, days, school)
    })();
    let w = match parsed {
        Ok(w) => w,
        Err(e) => return refused(e, async { Ok(template) }).await,
    };
    template.from = w.from.to_string();
    let days = match load(&state, &w).await {
        Ok(days) => days,
        Err(e) => return refused(e, async { Ok(template) }).await,
    };
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("format", "csv");
    query.append_pair("from", &w.from.to_string());
    query.append_pair("days", &w.days.to_string());
    if let Some(s) = w.school {
        query.append_pair("school", &s.to_string());
    }
    template.csv = format!("{}?{}", routes::STAFF_KITCHEN_API, query.finish());
    for day in &days {
        if template
            .blocks
            .last()
            .is_none_or(|b| b.date != day_title(day.date))
        {
            template.blocks.push(DayBlock {
                date: day_title(day.date),
                lines: Vec::new(),
            });
        }
        let told = by_kind(day.told());
        let change = day.difference().map(|d| by_kind(&d));
        let (menu, declared) = told_allergens(day);
        let line = SchoolLine {
            school: day.school_name.clone(),
            status: status(day),
            closed_since: !day.served,
            cells: (0..KINDS.len())
                .map(|i| Cell {
                    told: told[i],
                    change: change.and_then(|c| (c[i] != 0).then(|| signed(c[i]))),
                })
                .collect(),
            menu_allergens: allergen_list(menu),
            child_allergens: declared_list(declared),
        };
        if let Some(block) = template.blocks.last_mut() {
            block.lines.push(line);
        }
    }
    ok(&template)
}

fn day_title(date: NaiveDate) -> String {
    fr::capitalized(&fr::long_date_year(date))
}

// The CSV.

const CSV_HEADERS: [&str; 19] = [
    "Date",
    "École",
    "Statut",
    "Limite de réservation",
    "Figé le",
    "Standard",
    "Végétarien",
    "Sans porc",
    "Panier repas PAI",
    "Adultes",
    "Total",
    "Écart standard",
    "Écart végétarien",
    "Écart sans porc",
    "Écart PAI",
    "Écart adultes",
    "Écart total",
    "Allergènes du menu",
    "Allergènes déclarés par les enfants (nombre d'enfants)",
];

/// A text cell: quoted when it holds the separator, a quote or a line break, and defused
/// when a spreadsheet would run it as a formula (a school named `=…` by mistake).
fn text_cell(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([';', '"', '\r', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// The counts as French spreadsheets read them: UTF-8 with a byte-order mark (without it
/// Excel reads "Ã©"), `;` between cells (`,` is the decimal separator), `JJ/MM/AAAA` dates,
/// CRLF line ends. A frozen day gives its frozen numbers and the live − frozen differences;
/// a day not frozen yet its live numbers, marked provisional, differences empty.
pub fn csv(days: &[SchoolDay]) -> String {
    let mut out = String::from('\u{feff}');
    out.push_str(&CSV_HEADERS.join(";"));
    out.push_str("\r\n");
    for day in days {
        let (menu, declared) = told_allergens(day);
        let status = match (&day.frozen, day.served) {
            (Some(_), true) => "Figé",
            (Some(_), false) => "Figé, jour fermé depuis",
            (None, _) => "Provisoire",
        };
        let mut cells = vec![
            fr::numeric_date(day.date),
            text_cell(&day.school_name),
            status.to_owned(),
            fr::numeric_date_time(day.deadline),
            day.frozen
                .as_ref()
                .map(|f| fr::numeric_date_time(f.at))
                .unwrap_or_default(),
        ];
        cells.extend(by_kind(day.told()).iter().map(i64::to_string));
        match day.difference() {
            Some(d) => cells.extend(by_kind(&d).iter().map(i64::to_string)),
            None => cells.extend(std::iter::repeat_n(String::new(), KINDS.len())),
        }
        cells.push(text_cell(&allergen_list(menu)));
        cells.push(text_cell(&declared_list(declared)));
        out.push_str(&cells.join(";"));
        out.push_str("\r\n");
    }
    out
}

impl KitchenMails for Links {
    fn caterer(&self, to: &str, day: &SchoolDay) -> (Mail, Attachment) {
        let m = day.told();
        let (menu, declared) = told_allergens(day);
        let none = |text: String| {
            if text.is_empty() {
                "aucun".to_owned()
            } else {
                text
            }
        };
        let body = format!(
            "Bonjour,\n\nVoici les effectifs arrêtés à la limite de réservation ({limit}) pour le repas du {date} à {school} :\n\n\
             - repas standard : {standard}\n- repas végétariens : {vegetarian}\n- repas sans porc : {no_pork}\n\
             - paniers repas PAI (apportés par les familles) : {pai}\n- repas adultes : {adults}\n- total : {total}\n\n\
             Allergènes du menu : {menu}\nAllergènes déclarés par les enfants inscrits (nombre d'enfants) : {declared}\n\n\
             Le fichier joint reprend ces chiffres (tableur, séparateur point-virgule). Un changement ultérieur \
             (fermeture, modification par le service) vous sera signalé par le service de la cantine.\n",
            limit = fr::date_time(day.deadline),
            date = fr::long_date_year(day.date),
            school = day.school_name,
            standard = m.standard,
            vegetarian = m.vegetarian,
            no_pork = m.no_pork,
            pai = m.pai,
            adults = m.adults,
            total = m.total(),
            menu = none(allergen_list(menu)),
            declared = none(declared_list(declared)),
        );
        (
            Mail {
                to: to.to_owned(),
                subject: format!(
                    "Effectifs cantine du {} – {}",
                    fr::numeric_date(day.date),
                    day.school_name
                ),
                body,
            },
            Attachment {
                filename: format!("effectifs-{}-ecole-{}.csv", day.date, day.school),
                content_type: "text/csv; charset=utf-8".to_owned(),
                content: csv(std::slice::from_ref(day)).into_bytes(),
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kitchen::Frozen;

    fn day(frozen: bool) -> SchoolDay {
        let at = "2026-11-16T09:00:00Z".parse().unwrap();
        let meals = Meals {
            standard: 10,
            vegetarian: 2,
            no_pork: 3,
            pai: 1,
            adults: 4,
        };
        SchoolDay {
            school: SchoolId(7),
            school_name: "École \"Les Pins\"; annexe".to_owned(),
            date: "2026-11-19".parse().unwrap(),
            deadline: at,
            served: true,
            live: Meals {
                standard: 9,
                ..meals
            },
            frozen: frozen.then(|| Frozen {
                at,
                deadline: at,
                meals,
                menu_allergens: vec![Allergen::Gluten, Allergen::Peanuts],
                child_allergens: vec![(Allergen::Peanuts, 2)],
            }),
            menu_allergens: vec![Allergen::Gluten],
            child_allergens: vec![],
        }
    }

    #[test]
    fn the_csv_is_french_spreadsheet_csv() {
        let text = csv(&[day(true), day(false)]);
        assert!(text.starts_with("\u{feff}Date;École;Statut;"));
        let lines: Vec<&str> = text.trim_start_matches('\u{feff}').split("\r\n").collect();
        assert_eq!(lines.len(), 4, "header, two days, and the last line end");
        assert_eq!(
            lines[1],
            "19/11/2026;\"École \"\"Les Pins\"\"; annexe\";Figé;16/11/2026 10:00;16/11/2026 10:00;\
             10;2;3;1;4;20;-1;0;0;0;0;-1;gluten, arachides;arachides (2)"
        );
        assert!(lines[2].contains(";Provisoire;16/11/2026 10:00;;9;2;3;1;4;19;;;;;;;gluten;"));
    }

    #[test]
    fn formulas_are_defused_and_separators_quoted() {
        assert_eq!(text_cell("=1+1"), "'=1+1");
        assert_eq!(text_cell("a;b"), "\"a;b\"");
        assert_eq!(text_cell("École, annexe"), "École, annexe");
        assert_eq!(signed(2), "+2");
        assert_eq!(signed(-3), "\u{2212}3");
    }
}
