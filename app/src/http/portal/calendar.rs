//! A child's month calendar, where each open service day is a button, and the weekly pattern.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{Datelike, Days, Months, NaiveDate};
use serde::Deserialize;

use super::menus::MenuView;
use super::widgets::{
    Choice, DayChoice, DayRow, enrollment_text, month_code, month_field, parse_date, parse_month,
    weekdays_field,
};
use super::{
    FormData, Layout, PageError, PagePath, PageQuery, Signed, check_csrf, form_page, fr, page,
    refused, see_other,
};
use cantine_domain::activity::Activity;
use cantine_domain::booking::PatternRequest;
use cantine_domain::ids::ChildId;

use crate::error::{Error, FormProblem};
use crate::households::{self, Child};
use crate::http::AppState;
use crate::http::auth::Session;
use crate::reservations::PatternResult;
use crate::{billing, custody, menus, reservations};

struct Week {
    title: String,
    days: Vec<CalendarDay>,
}

struct CalendarDay {
    row: DayRow,
    /// The menu the child's school serves that day, with the child's allergen warnings.
    menu: Option<MenuView>,
    /// "Repas : 3,50 €", and on an unbooked day past its deadline what eating anyway costs.
    price: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct MonthQuery {
    #[serde(default)]
    mois: Option<String>,
    #[serde(default)]
    info: Option<String>,
    #[serde(default)]
    jour: Option<String>,
}

#[derive(Template)]
#[template(path = "calendar.html")]
struct CalendarPage {
    layout: Layout,
    error: Option<String>,
    info: Option<String>,
    child_id: i64,
    /// "d'Adam Martin"
    of_child: String,
    enrolled: bool,
    status: String,
    month: String,
    month_title: String,
    previous: String,
    previous_title: String,
    next: String,
    next_title: String,
    weeks: Vec<Week>,
    /// What the town hall changed this month for the family, with its reason.
    town_hall_changes: Vec<String>,
    /// Under a shared custody, what the greyed days are.
    custody: Option<&'static str>,
}

async fn calendar_page(
    state: &AppState,
    session: &Session,
    child_id: i64,
    first: NaiveDate,
) -> Result<CalendarPage, PageError> {
    let household = session.household()?;
    let rules = state.rules();
    let child = households::child(
        &state.pool,
        household,
        ChildId(child_id),
        rules.current_year()?,
    )
    .await?;
    let last = first + Months::new(1) - Days::new(1);
    let enrolled = child.is_enrolled();
    let views = reservations::list(&state.pool, &rules, household, child.id, first, last).await?;
    let holding = match child.custody {
        Some(_) => custody::holding_of(&state.pool, household, child.id).await?,
        None => None,
    };
    let theirs = |date| holding.as_ref().is_some_and(|h| !h.books(date));
    let town_hall_changes = reservations::history(&state.pool, household, child.id, first, last)
        .await?
        .into_iter()
        .filter(|e| e.by_town_hall())
        .map(|e| {
            fr::town_hall_change(
                e.service_date,
                e.new_booked,
                e.reason.as_deref(),
                e.created_at,
            )
        })
        .collect();
    let served = menus::served(
        &state.pool,
        Activity::Canteen,
        &[child.school_id],
        (first, last),
    )
    .await?;
    let prices = billing::meal_prices(&state.pool, household, child.id, first, last).await?;
    let price_text = |day: &cantine_domain::booking::DayView| {
        if day.reason.is_some() || theirs(day.date) {
            return None;
        }
        let price = prices.iter().find(|p| p.date == day.date)?;
        Some(if day.locked && !day.booked {
            format!(
                "Repas : {} ; sans réservation : {}",
                fr::euros(price.meal),
                fr::euros(price.walk_in)
            )
        } else {
            format!("Repas : {}", fr::euros(price.meal))
        })
    };
    let mut weeks: Vec<Week> = Vec::new();
    for day in views
        .iter()
        .filter(|d| d.date.weekday().number_from_monday() <= 5)
    {
        let row = CalendarDay {
            price: price_text(day),
            row: if theirs(day.date) {
                DayRow::other_household(day)
            } else {
                DayRow::new(day, enrolled)
            },
            menu: served
                .get(&(child.school_id, day.date))
                .filter(|_| day.reason.is_none())
                .map(|m| {
                    MenuView::new(m, [(child.first_name.as_str(), child.allergens.as_slice())])
                }),
        };
        if weeks.is_empty() || day.date.weekday() == chrono::Weekday::Mon {
            weeks.push(Week {
                title: format!("Semaine du {}", fr::long_date(day.date)),
                days: Vec::new(),
            });
        }
        if let Some(week) = weeks.last_mut() {
            week.days.push(row);
        }
    }
    let previous = first - Months::new(1);
    let next = first + Months::new(1);
    Ok(CalendarPage {
        layout: Layout::new(
            format!(
                "Calendrier {}, {}",
                fr::of(&child.first_name),
                fr::month_year(first.year(), first.month())
            ),
            Some(session),
        ),
        error: None,
        info: None,
        child_id,
        of_child: fr::of(&child.full_name()),
        enrolled,
        status: enrollment_text(&child),
        town_hall_changes,
        custody: holding.as_ref().and_then(|h| h.arrangement.as_ref()).map(
            |_| "⇄ chez l'autre parent : c'est l'autre foyer qui réserve ces jours-là (en grisé)",
        ),
        month: month_code(first),
        month_title: fr::month_year(first.year(), first.month()),
        previous: month_code(previous),
        previous_title: fr::month_year(previous.year(), previous.month()),
        next: month_code(next),
        next_title: fr::month_year(next.year(), next.month()),
        weeks,
    })
}

fn first_of_month(date: NaiveDate) -> NaiveDate {
    date.with_day(1).unwrap_or(date)
}

pub(super) async fn month(
    State(state): State<AppState>,
    Signed(session): Signed,
    PagePath(child_id): PagePath<i64>,
    PageQuery(query): PageQuery<MonthQuery>,
) -> Result<Response, PageError> {
    let first = match query.mois.as_deref() {
        None | Some("") => first_of_month(state.rules().today()),
        Some(text) => month_field(text)?,
    };
    let mut template = calendar_page(&state, &session, child_id, first).await?;
    let day = query
        .jour
        .as_deref()
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    template.info = match (query.info.as_deref(), day) {
        (Some("reserve"), Some(day)) => Some(format!("Repas du {} réservé.", fr::long_date(day))),
        (Some("annule"), Some(day)) => Some(format!("Repas du {} annulé.", fr::long_date(day))),
        _ => None,
    };
    super::ok(&template)
}

pub(super) async fn set_day(
    State(state): State<AppState>,
    Signed(session): Signed,
    PagePath((child_id, date)): PagePath<(i64, NaiveDate)>,
    form: FormData,
) -> Result<Response, PageError> {
    check_csrf(&session, &form)?;
    let household = session.household()?;
    let book = match form.get("action") {
        "reserver" => Ok(true),
        "annuler" => Ok(false),
        _ => Err(Error::form(FormProblem::Action)),
    };
    let result = match book {
        Ok(book) => reservations::set_day(
            &state.pool,
            &state.rules(),
            household,
            session.account.account_id,
            ChildId(child_id),
            date,
            book,
        )
        .await
        .map(|_| book),
        Err(e) => Err(e),
    };
    let shown = parse_month(form.get("mois")).unwrap_or_else(|| first_of_month(date));
    match result {
        Ok(book) => Ok(see_other(&format!(
            "/enfants/{child_id}/calendrier?mois={}&info={}&jour={date}#j-{date}",
            month_code(shown),
            if book { "reserve" } else { "annule" },
        ))),
        Err(e) => refused(e, calendar_page(&state, &session, child_id, shown)).await,
    }
}

struct Line {
    date: String,
    text: String,
}

struct ChildResult {
    name: String,
    changed: Vec<Line>,
    locked: Vec<Line>,
    not_service_days: usize,
    /// Under a shared custody, the other household's days the pattern left as they were.
    other_household_days: usize,
}

#[derive(Template)]
#[template(path = "pattern.html")]
struct PatternPage {
    layout: Layout,
    error: Option<String>,
    child_id: i64,
    of_child: String,
    from: String,
    to: String,
    days: Vec<DayChoice>,
    siblings: Vec<Choice>,
    results: Vec<ChildResult>,
}

async fn pattern_page(
    state: &AppState,
    session: &Session,
    child_id: i64,
    form: Option<&FormData>,
) -> Result<(PatternPage, Vec<Child>), PageError> {
    let household = session.household()?;
    let rules = state.rules();
    let year = rules.current_year()?;
    let children = households::children(&state.pool, household, year).await?;
    let child = children
        .iter()
        .find(|c| c.id == ChildId(child_id))
        .cloned()
        .ok_or(Error::NotFound)?;
    let service = child.school_service_weekdays;
    let wanted = match form {
        Some(f) => weekdays_field(f).unwrap_or_default(),
        None => child
            .enrollment
            .as_ref()
            .map(|e| e.weekdays)
            .unwrap_or(service),
    };
    let today = rules.today();
    let year_end = rules
        .holidays
        .school_year(year)
        .map_or(today, |y| y.last_day());
    let value = |name: &str, default: String| match form {
        Some(f) => f.get(name).to_owned(),
        None => default,
    };
    let ticked: Vec<&str> = form.map(|f| f.all("enfants").collect()).unwrap_or_default();
    let siblings = children
        .iter()
        .filter(|c| c.id != child.id && c.is_enrolled())
        .map(|c| Choice {
            selected: ticked.contains(&c.id.to_string().as_str()),
            value: c.id.to_string(),
            label: c.full_name(),
        })
        .collect();
    let template = PatternPage {
        layout: Layout::new(
            format!("Semaine type {}", fr::of(&child.first_name)),
            Some(session),
        ),
        error: None,
        child_id,
        of_child: fr::of(&child.full_name()),
        from: value("du", (today + Days::new(1)).to_string()),
        to: value("au", year_end.to_string()),
        days: DayChoice::list(service, wanted),
        siblings,
        results: Vec::new(),
    };
    Ok((template, children))
}

pub(super) async fn pattern_form(
    State(state): State<AppState>,
    Signed(session): Signed,
    PagePath(child_id): PagePath<i64>,
) -> Result<Response, PageError> {
    super::ok(&pattern_page(&state, &session, child_id, None).await?.0)
}

fn results(plans: Vec<PatternResult>, children: &[Child]) -> Vec<ChildResult> {
    let names: HashMap<ChildId, String> = children.iter().map(|c| (c.id, c.full_name())).collect();
    plans
        .into_iter()
        .map(
            |PatternResult {
                 child: id,
                 plan,
                 other_household_days,
             }| ChildResult {
                name: names.get(&id).cloned().unwrap_or_default(),
                other_household_days: other_household_days.len(),
                changed: plan
                    .changes
                    .iter()
                    .map(|c| Line {
                        date: fr::capitalized(&fr::long_date_year(c.date)),
                        text: if c.booked {
                            "repas réservé".to_owned()
                        } else {
                            "repas annulé".to_owned()
                        },
                    })
                    .collect(),
                locked: plan
                    .locked
                    .iter()
                    .map(|l| Line {
                        date: fr::capitalized(&fr::long_date_year(l.date)),
                        text: format!(
                            "{}, la date limite était le {}",
                            if l.wanted_booked {
                                "repas non réservé"
                            } else {
                                "repas non annulé"
                            },
                            fr::deadline(l.deadline)
                        ),
                    })
                    .collect(),
                not_service_days: plan.not_service_days.len(),
            },
        )
        .collect()
}

/// Applies the pattern and answers the report of what changed on the same page: it is a
/// one-off report, and posting the same pattern again changes nothing.
pub(super) async fn set_pattern(
    State(state): State<AppState>,
    Signed(session): Signed,
    PagePath(child_id): PagePath<i64>,
    form: FormData,
) -> Result<Response, PageError> {
    check_csrf(&session, &form)?;
    let household = session.household()?;
    let (mut template, children) = pattern_page(&state, &session, child_id, Some(&form)).await?;
    let result = async {
        let from = parse_date(form.get("du"), "Du")?;
        let to = parse_date(form.get("au"), "Au")?;
        let weekdays = weekdays_field(&form)?;
        let mut ids = vec![ChildId(child_id)];
        for text in form.all("enfants") {
            let id = ChildId(text.parse::<i64>().map_err(|_| Error::NotFound)?);
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        reservations::set_pattern(
            &state.pool,
            &state.rules(),
            household,
            session.account.account_id,
            &ids,
            &PatternRequest { from, to, weekdays },
        )
        .await
    }
    .await;
    match result {
        Ok(plans) => {
            template.results = results(plans, &children);
            page(StatusCode::OK, &template)
        }
        Err(e) => refused(e, async { Ok(template) }).await,
    }
}

form_page!(CalendarPage, PatternPage);
