//! Households: the search, a household's page (guardians, children, quotient familial, this
//! month's bookings) and the counter's forms (a child, an enrollment, a day, a new household).

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono::{Datelike, Days, Months, NaiveDate};
use serde::Deserialize;

use cantine_domain::calendar::NotBookable;
use cantine_domain::child::Diet;
use cantine_domain::ids::{ChildId, HouseholdId};

use super::{filled, notice};
use crate::custody::{self, Arrangement, Side};
use crate::error::{Error, FormProblem, Invalid};
use crate::households::{self, NewGuardian, NewQuotient, Viewer};
use crate::http::backoffice::{CUSTODY_WRITERS, MANAGER, QUOTIENT_WRITERS, Staff};
use crate::http::portal::widgets::{
    ChildLine, Choice, DayChoice, DayRow, allergen_choices, child_field, diet_choices,
    level_choices, month_code, month_field, parse_date, school_choices, weekdays_field,
};
use crate::http::portal::{
    FormData, Layout, PageError, PagePath, PageQuery, check_csrf, form_page, ok, refused, see_other,
};
use crate::http::{AppState, fr, routes};
use crate::reservations;

#[derive(Debug, Default, Deserialize)]
pub(super) struct SearchQuery {
    #[serde(default)]
    q: Option<String>,
}

struct FoundLine {
    id: i64,
    guardians: String,
    children: String,
}

#[derive(Template)]
#[template(path = "gestion/foyers.html")]
struct SearchPage {
    layout: Layout,
    error: Option<String>,
    q: String,
    searched: bool,
    found: Vec<FoundLine>,
    can_create: bool,
}

pub(super) async fn search(
    State(state): State<AppState>,
    staff: Staff,
    PageQuery(query): PageQuery<SearchQuery>,
) -> Result<Response, PageError> {
    let q = query.q.unwrap_or_default();
    let mut template = SearchPage {
        layout: Layout::new("Rechercher un foyer", Some(&staff.session)),
        error: None,
        q: q.clone(),
        searched: false,
        found: Vec::new(),
        can_create: staff.session.account.roles.any_of(MANAGER),
    };
    if q.trim().is_empty() {
        return ok(&template);
    }
    match households::search(&state.pool, &staff.scope(), &q).await {
        Ok(found) => {
            template.searched = true;
            template.found = found
                .into_iter()
                .map(|f| FoundLine {
                    id: f.id.get(),
                    guardians: f.guardians.join(", "),
                    children: f.children.join(", "),
                })
                .collect();
            ok(&template)
        }
        Err(e) => refused(e, async { Ok(template) }).await,
    }
}

form_page!(SearchPage);

struct GuardianLine {
    name: String,
    email: Option<String>,
    phone: String,
    postal_address: String,
}

/// A child's card: the portal's, with the counter's forms and this month's days.
struct ChildCard {
    line: ChildLine,
    days: Vec<DayChoice>,
    /// This month's days, for a manager.
    calendar: Vec<DayRow>,
    /// The shared custody recorded, if any, and the form's values.
    custody: Option<CustodyLine>,
    custody_form: CustodyForm,
}

/// A shared custody as the household's page shows it.
pub(super) struct CustodyLine {
    pub other_household: i64,
    pub text: String,
    pub reference: String,
    pub updated: String,
}

/// The custody form's values: the recorded arrangement, or what was typed.
pub(super) struct CustodyForm {
    pub other_household: String,
    /// `semaines`, `periodes` or `parts`; empty when none is chosen.
    pub kind: &'static str,
    pub first_has_even_weeks: bool,
    /// One range a line, `02/11/2026 au 13/11/2026`.
    pub ranges: String,
    /// The first household's share in percent, `50` or `33,33`.
    pub percent: String,
    pub reference: String,
}

impl CustodyForm {
    fn of(custody: Option<&custody::Custody>) -> Self {
        let Some(c) = custody else {
            return Self {
                other_household: String::new(),
                kind: "",
                first_has_even_weeks: true,
                ranges: String::new(),
                percent: "50".to_owned(),
                reference: String::new(),
            };
        };
        let (kind, even, ranges, percent) = match &c.arrangement {
            Arrangement::AlternateWeeks {
                first_has_even_weeks,
            } => (
                "semaines",
                *first_has_even_weeks,
                String::new(),
                String::new(),
            ),
            Arrangement::Ranges { second } => (
                "periodes",
                true,
                second
                    .iter()
                    .map(|r| {
                        format!(
                            "{} au {}",
                            r.first_day.format("%d/%m/%Y"),
                            r.last_day.format("%d/%m/%Y")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n"),
                String::new(),
            ),
            Arrangement::Shares { first_basis_points } => (
                "parts",
                true,
                String::new(),
                fr::percent(*first_basis_points)
                    .trim_end_matches("\u{a0}%")
                    .to_owned(),
            ),
        };
        Self {
            other_household: c.other_household.get().to_string(),
            kind,
            first_has_even_weeks: even,
            ranges,
            percent,
            reference: c.reference.clone(),
        }
    }
}

/// A child shared with this household, whose own household's page has its forms.
struct SharedLine {
    name: String,
    first_household: i64,
}

struct QuotientLine {
    amount_euros: i32,
    applies_from: String,
    document: String,
    recorded_at: String,
    recorded_by: Option<String>,
}

#[derive(Template)]
#[template(path = "gestion/foyer.html")]
struct HouseholdPage {
    layout: Layout,
    info: Option<&'static str>,
    error: Option<String>,
    id: i64,
    guardians: Vec<GuardianLine>,
    children: Vec<ChildCard>,
    health_data_shown: bool,
    quotients: Vec<QuotientLine>,
    can_set_quotient: bool,
    manager: bool,
    can_set_custody: bool,
    /// The children this household holds as the second of a shared custody.
    shared: Vec<SharedLine>,
    month_title: String,
    previous_month: String,
    previous_title: String,
    next_month: String,
    next_title: String,
    today: String,
    // The counter's child form.
    schools: Vec<Choice>,
    levels: Vec<Choice>,
    diets: Vec<Choice>,
    allergens: Vec<Choice>,
}

/// The household's page, its calendars showing the month of `first` (the current one when
/// `None`).
async fn household_page(
    state: &AppState,
    staff: &Staff,
    id: i64,
    first: Option<NaiveDate>,
) -> Result<HouseholdPage, PageError> {
    let rules = state.rules();
    let year = rules.current_year()?;
    let account = &staff.session.account;
    let household = HouseholdId(id);
    let view = households::household_view(
        &state.pool,
        &Viewer {
            actor: &staff.actor,
            roles: account.roles,
            scope: staff.scope(),
        },
        household,
        year,
    )
    .await?;
    let manager = account.roles.any_of(MANAGER);
    let today = rules.today();
    let first = first.unwrap_or_else(|| today.with_day(1).expect("the first of a month"));
    let last = first + Months::new(1) - Days::new(1);
    let previous = first - Months::new(1);
    let next = first + Months::new(1);
    let mut children = Vec::new();
    for c in view.children {
        let recorded = match c.custody {
            Some(_) => custody::get(&state.pool, c.id).await?,
            None => None,
        };
        let calendar = if manager && c.is_enrolled() {
            // The second household's days say so, as in the families' calendars.
            let theirs = |date| {
                recorded
                    .as_ref()
                    .is_some_and(|r| !r.arrangement.books(Side::First, date))
            };
            reservations::list(&state.pool, &rules, household, c.id, first, last)
                .await?
                .iter()
                // Weekends only lengthen a month's list.
                .filter(|d| !matches!(d.reason, Some(NotBookable::Weekend)))
                .map(|d| {
                    if theirs(d.date) {
                        DayRow::other_household(d)
                    } else {
                        DayRow::new(d, false)
                    }
                })
                .collect()
        } else {
            Vec::new()
        };
        children.push(ChildCard {
            line: ChildLine::new(&c),
            days: DayChoice::list(c.school_service_weekdays, c.school_service_weekdays),
            calendar,
            custody_form: CustodyForm::of(recorded.as_ref()),
            custody: recorded.map(|r| CustodyLine {
                other_household: r.other_household.get(),
                text: fr::arrangement(&r.arrangement),
                reference: r.reference,
                updated: match r.updated_by {
                    Some(by) => format!("le {} par {by}", fr::date_time(r.updated_at)),
                    None => format!("le {}", fr::date_time(r.updated_at)),
                },
            }),
        });
    }
    let scope = staff.scope();
    let mut shared = Vec::new();
    for s in custody::shared_with(&state.pool, household).await? {
        if scope.covers(s.school) {
            shared.push(SharedLine {
                name: s.name,
                first_household: s.first_household.get(),
            });
        }
    }
    Ok(HouseholdPage {
        layout: Layout::new(format!("Foyer n° {id}"), Some(&staff.session)),
        info: None,
        error: None,
        id,
        guardians: view
            .guardians
            .into_iter()
            .map(|g| GuardianLine {
                name: format!("{} {}", g.first_name, g.last_name),
                email: g.email,
                phone: g.phone,
                postal_address: g.postal_address,
            })
            .collect(),
        children,
        health_data_shown: view.health_data_shown,
        quotients: view
            .quotient_familial
            .into_iter()
            .map(|q| QuotientLine {
                amount_euros: q.amount_euros,
                applies_from: q.applies_from.format("%d/%m/%Y").to_string(),
                document: q.document,
                recorded_at: fr::date_time(q.recorded_at),
                recorded_by: q.recorded_by,
            })
            .collect(),
        can_set_quotient: account.roles.any_of(QUOTIENT_WRITERS),
        manager,
        can_set_custody: account.roles.any_of(CUSTODY_WRITERS),
        shared,
        month_title: fr::month_year(first.year(), first.month()),
        previous_month: month_code(previous),
        previous_title: fr::month_year(previous.year(), previous.month()),
        next_month: month_code(next),
        next_title: fr::month_year(next.year(), next.month()),
        today: today.to_string(),
        schools: if manager {
            school_choices(&state.pool, &[]).await?
        } else {
            Vec::new()
        },
        levels: level_choices(""),
        diets: diet_choices(Diet::Standard.code()),
        allergens: allergen_choices(Vec::new()),
    })
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct HouseholdQuery {
    #[serde(default)]
    info: Option<String>,
    /// The calendars' month, `2026-12`.
    #[serde(default)]
    mois: Option<String>,
}

pub(super) async fn household(
    State(state): State<AppState>,
    staff: Staff,
    PagePath(id): PagePath<i64>,
    PageQuery(query): PageQuery<HouseholdQuery>,
) -> Result<Response, PageError> {
    let first = match filled(query.mois.as_deref()) {
        Some(text) => Some(month_field(text)?),
        None => None,
    };
    let mut template = household_page(&state, &staff, id, first).await?;
    template.info = notice(query.info.as_deref());
    ok(&template)
}

form_page!(HouseholdPage);

/// Back to the household's page with its status line, or the page again with the refusal.
pub(super) async fn household_answer(
    state: &AppState,
    staff: &Staff,
    id: i64,
    result: Result<&'static str, Error>,
) -> Result<Response, PageError> {
    match result {
        Ok(info) => Ok(see_other(&format!(
            "{}?info={info}",
            routes::fill(routes::STAFF_HOUSEHOLD, &[id])
        ))),
        Err(e) => refused(e, household_page(state, staff, id, None)).await,
    }
}

pub(super) async fn set_quotient(
    State(state): State<AppState>,
    staff: Staff,
    PagePath(id): PagePath<i64>,
    form: FormData,
) -> Result<Response, PageError> {
    check_csrf(&staff.session, &form)?;
    let result = async {
        let amount_euros = form
            .get("montant")
            .trim()
            .parse::<i32>()
            .map_err(|_| Error::Invalid(Invalid::QuotientFamilial))?;
        let applies_from = parse_date(form.get("date"), "Date d'effet")?;
        households::set_quotient_familial(
            &state.pool,
            &staff.actor,
            HouseholdId(id),
            NewQuotient {
                amount_euros,
                applies_from,
                document: form.get("justificatif").to_owned(),
            },
        )
        .await
        .map(|()| "quotient")
    }
    .await;
    household_answer(&state, &staff, id, result).await
}

pub(super) async fn add_child(
    State(state): State<AppState>,
    staff: Staff,
    PagePath(id): PagePath<i64>,
    form: FormData,
) -> Result<Response, PageError> {
    check_csrf(&staff.session, &form)?;
    let result = async {
        households::add_child_at_counter(
            &state.pool,
            &staff.actor,
            HouseholdId(id),
            state.rules().today(),
            child_field(&form)?,
        )
        .await
        .map(|_| "enfant-ajoute")
    }
    .await;
    household_answer(&state, &staff, id, result).await
}

pub(super) async fn enroll(
    State(state): State<AppState>,
    staff: Staff,
    PagePath((id, child)): PagePath<(i64, i64)>,
    form: FormData,
) -> Result<Response, PageError> {
    check_csrf(&staff.session, &form)?;
    let validate = form.checked("valider");
    let result = async {
        let weekdays = weekdays_field(&form)?;
        if weekdays.is_empty() {
            return Err(Error::form(FormProblem::NoWeekday));
        }
        let year = state.rules().current_year()?;
        staff
            .enroll_at_counter(
                &state,
                (HouseholdId(id), ChildId(child)),
                year,
                weekdays,
                validate,
            )
            .await?;
        Ok(if validate {
            "inscription-validee"
        } else {
            "inscription-demandee"
        })
    }
    .await;
    household_answer(&state, &staff, id, result).await
}

pub(super) async fn set_day(
    State(state): State<AppState>,
    staff: Staff,
    PagePath((id, child)): PagePath<(i64, i64)>,
    form: FormData,
) -> Result<Response, PageError> {
    check_csrf(&staff.session, &form)?;
    let result = async {
        let book = match form.get("action") {
            "reserver" => true,
            "annuler" => false,
            _ => return Err(Error::form(FormProblem::Action)),
        };
        let date = parse_date(form.get("date"), "Jour")?;
        let changed = reservations::set_day_at_counter(
            &state.pool,
            &state.rules(),
            &staff.actor,
            HouseholdId(id),
            ChildId(child),
            date,
            book,
            form.get("motif"),
        )
        .await?;
        Ok(match (changed, book) {
            (false, _) => "jour-inchange",
            (true, true) => "jour-reserve",
            (true, false) => "jour-annule",
        })
    }
    .await;
    household_answer(&state, &staff, id, result).await
}

// The counter's new household.

#[derive(Template)]
#[template(path = "gestion/nouveau_foyer.html")]
struct NewHouseholdPage {
    layout: Layout,
    error: Option<String>,
    first_name: String,
    last_name: String,
    email: String,
    phone: String,
    postal_address: String,
}

fn new_household_page(staff: &Staff, form: Option<&FormData>) -> NewHouseholdPage {
    let value = |name: &str| form.map_or_else(String::new, |f| f.get(name).to_owned());
    NewHouseholdPage {
        layout: Layout::new("Créer un foyer au guichet", Some(&staff.session)),
        error: None,
        first_name: value("prenom"),
        last_name: value("nom"),
        email: value("email"),
        phone: value("telephone"),
        postal_address: value("adresse"),
    }
}

pub(super) async fn new_household_form(staff: Staff) -> Result<Response, PageError> {
    ok(&new_household_page(&staff, None))
}

pub(super) async fn create_household(
    State(state): State<AppState>,
    staff: Staff,
    form: FormData,
) -> Result<Response, PageError> {
    check_csrf(&staff.session, &form)?;
    let result = households::create_at_counter(
        &state.pool,
        &staff.actor,
        NewGuardian {
            first_name: form.get("prenom").to_owned(),
            last_name: form.get("nom").to_owned(),
            // A blank field: a family without an address (its letters are printed).
            email: Some(form.get("email").trim().to_owned()).filter(|e| !e.is_empty()),
            phone: form.get("telephone").to_owned(),
            postal_address: form.get("adresse").to_owned(),
        },
    )
    .await;
    match result {
        Ok(id) => Ok(see_other(&format!(
            "{}?info=foyer-cree",
            routes::fill(routes::STAFF_HOUSEHOLD, &[id.get()])
        ))),
        Err(e) => refused(e, async { Ok(new_household_page(&staff, Some(&form))) }).await,
    }
}

form_page!(NewHouseholdPage);
