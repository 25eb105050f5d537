//! What several pages, the family portal's and the back office's, show or read the same way:
//! a day's row, a child's card, the weekday checkboxes, the school, class and diet choices,
//! the child form, dates and months typed in forms, and a child's enrollment in words.

use cantine_domain::booking::DayView;
use cantine_domain::child::{ClassLevel, Diet};
use cantine_domain::custody::Side;
use cantine_domain::enrollment::EnrollmentStatus;
use cantine_domain::ids::SchoolId;
use cantine_domain::menu::Allergen;
use cantine_domain::weekdays::{WeekdaySet, weekday_code};
use chrono::{Datelike, NaiveDate};
use sqlx::PgPool;

use super::{FormData, fr};
use crate::error::{Error, FormProblem};
use crate::households::{self, Child, NewChild};

/// One day as pages show it: its state in words (never by colour alone) and, when it can
/// still change, the action its button does.
pub(in crate::http) struct DayRow {
    pub iso: String,
    pub label: String,
    /// CSS class: `reserve`, `libre`, `verrouille`, `ferme`.
    pub class: &'static str,
    pub symbol: &'static str,
    pub state: String,
    pub detail: Option<String>,
    /// `reserver` or `annuler` when the day can still change and buttons are wanted.
    pub action: Option<&'static str>,
    /// The button's visible text (the day is added for screen readers).
    pub button: &'static str,
}

impl DayRow {
    pub fn new(day: &DayView, with_buttons: bool) -> Self {
        let (class, symbol, state, detail, action) = match (&day.reason, day.locked) {
            (Some(reason), _) => {
                let label = fr::not_bookable(reason);
                let detail = (!label.starts_with("Pas de cantine"))
                    .then(|| "Pas de cantine ce jour-là.".to_owned());
                ("ferme", "–", label, detail, None)
            }
            (None, true) => (
                "verrouille",
                "⊘",
                if day.booked {
                    "Repas réservé".to_owned()
                } else {
                    "Pas de repas".to_owned()
                },
                Some("Verrouillé : la date limite est passée.".to_owned()),
                None,
            ),
            (None, false) => (
                if day.booked { "reserve" } else { "libre" },
                if day.booked { "✔" } else { "○" },
                if day.booked {
                    "Repas réservé".to_owned()
                } else {
                    "Pas de repas".to_owned()
                },
                day.deadline
                    .map(|at| format!("Modifiable jusqu'au {}", fr::deadline(at))),
                Some(if day.booked { "annuler" } else { "reserver" }),
            ),
        };
        Self {
            iso: day.date.to_string(),
            label: fr::capitalized(&fr::long_date(day.date)),
            class,
            symbol,
            state,
            detail,
            action: action.filter(|_| with_buttons),
            button: if day.booked { "Annuler" } else { "Réserver" },
        }
    }
}

impl DayRow {
    /// Under a shared custody, a day the child spends with the other household: shown greyed,
    /// with its state and the words that say whose day it is, and no button.
    pub fn other_household(day: &DayView) -> Self {
        let mut row = Self::new(day, false);
        if day.reason.is_none() {
            row.class = "autre-foyer";
            row.symbol = "⇄";
            row.state = format!(
                "Chez l'autre parent ({})",
                if day.booked {
                    "repas réservé"
                } else {
                    "pas de repas"
                }
            );
            row.detail = Some("C'est l'autre foyer qui réserve ce jour-là.".to_owned());
        }
        row
    }
}

/// A child as its card shows it, on the family's household page and on the back office's.
pub(in crate::http) struct ChildLine {
    pub id: i64,
    pub name: String,
    pub of_name: String,
    pub school: String,
    pub class_level: String,
    pub diet: String,
    pub allergies: String,
    /// The allergens ticked, in French ("arachides, lait"); empty when none.
    pub allergens: String,
    pub pai: bool,
    pub enrollment: String,
    pub enrolled: bool,
    /// No pending or validated enrollment this year: one may be requested (by the child's own
    /// household: never by the second of a shared custody).
    pub can_request: bool,
    /// Under a shared custody, what the household asking is for the child, in words.
    pub custody: Option<&'static str>,
}

impl ChildLine {
    pub fn new(c: &Child) -> Self {
        let status = c.enrollment.as_ref().map(|e| &e.status);
        let name = c.full_name();
        Self {
            id: c.id.get(),
            of_name: fr::of(&name),
            name,
            school: c.school_name.clone(),
            class_level: c.class_level.code().to_owned(),
            diet: fr::diet(c.diet).to_owned(),
            allergies: c.allergies.clone(),
            allergens: fr::allergen_list(&c.allergens),
            pai: c.pai,
            enrollment: enrollment_text(c),
            enrolled: c.is_enrolled(),
            can_request: !c.is_shared_with_us()
                && !matches!(
                    status,
                    Some(EnrollmentStatus::Validated | EnrollmentStatus::Pending)
                ),
            custody: c.custody.map(|side| match side {
                Side::First => {
                    "Garde partagée : votre foyer gère la fiche et l'inscription ; chaque foyer réserve ses jours."
                }
                Side::Second => {
                    "Garde partagée : l'autre foyer gère la fiche et l'inscription ; vous réservez vos jours."
                }
            }),
        }
    }
}

pub(in crate::http) fn enrollment_text(child: &Child) -> String {
    match child.enrollment.as_ref().map(|e| &e.status) {
        None => "Pas encore inscrit à la cantine cette année.".to_owned(),
        Some(EnrollmentStatus::Rejected { reason }) => {
            format!("Inscription refusée : {reason}")
        }
        Some(status) => format!(
            "Inscription : {}",
            fr::enrollment_status(status).to_lowercase()
        ),
    }
}

pub(in crate::http) fn parse_date(text: &str, what: &'static str) -> Result<NaiveDate, Error> {
    let text = text.trim();
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(text, "%d/%m/%Y"))
        .map_err(|_| Error::form(FormProblem::Date { what }))
}

/// `2026-12` as the first of that month.
pub(in crate::http) fn parse_month(text: &str) -> Option<NaiveDate> {
    let (year, month) = text.split_once('-')?;
    if year.len() != 4 || month.len() != 2 {
        return None;
    }
    NaiveDate::from_ymd_opt(year.parse().ok()?, month.parse().ok()?, 1)
}

/// A month typed in a query (`2026-12`); anything else is a validation error.
pub(in crate::http) fn month_field(text: &str) -> Result<NaiveDate, Error> {
    parse_month(text).ok_or_else(|| Error::form(FormProblem::Month))
}

/// The month of `first` as [`parse_month`] reads it.
pub(in crate::http) fn month_code(first: NaiveDate) -> String {
    format!("{:04}-{:02}", first.year(), first.month())
}

/// The child form's fields, the family's and the counter's.
pub(in crate::http) fn child_field(form: &FormData) -> Result<NewChild, Error> {
    let birth_date = parse_date(form.get("naissance"), "Date de naissance")?;
    let school_id = form
        .get("ecole")
        .parse::<i64>()
        .map_err(|_| Error::form(FormProblem::School))?;
    Ok(NewChild {
        first_name: form.get("prenom").to_owned(),
        last_name: form.get("nom").to_owned(),
        birth_date,
        school_id: SchoolId(school_id),
        class_level: form.get("classe").to_owned(),
        diet: form.get("regime").to_owned(),
        allergies: form.get("allergies").to_owned(),
        allergens: form.all("allergenes").map(str::to_owned).collect(),
        pai: form.checked("pai"),
    })
}

/// A checkbox or option of a form.
pub(in crate::http) struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// The commune's schools, ticked or selected where `selected` has their id.
pub(in crate::http) async fn school_choices(
    pool: &PgPool,
    selected: &[String],
) -> Result<Vec<Choice>, Error> {
    Ok(households::schools(pool)
        .await?
        .into_iter()
        .map(|s| Choice {
            selected: selected.contains(&s.id.to_string()),
            value: s.id.to_string(),
            label: s.name,
        })
        .collect())
}

/// The class levels, `selected` (a code) selected.
pub(in crate::http) fn level_choices(selected: &str) -> Vec<Choice> {
    ClassLevel::ALL
        .into_iter()
        .map(|l| Choice {
            selected: l.code() == selected,
            value: l.code().to_owned(),
            label: format!("{} – {}", l.code(), fr::class_level(l)),
        })
        .collect()
}

/// The 14 allergens as checkboxes, ticked where `selected` has their code.
pub(in crate::http) fn allergen_choices<'a>(
    selected: impl IntoIterator<Item = &'a str> + Clone,
) -> Vec<Choice> {
    Allergen::ALL
        .iter()
        .map(|&a| Choice {
            selected: selected.clone().into_iter().any(|s| s == a.code()),
            value: a.code().to_owned(),
            label: format!(
                "{} ({})",
                fr::capitalized(fr::allergen(a)),
                fr::allergen_detail(a)
            ),
        })
        .collect()
}

/// The diets, `selected` (a code) selected.
pub(in crate::http) fn diet_choices(selected: &str) -> Vec<Choice> {
    Diet::ALL
        .into_iter()
        .map(|d| Choice {
            selected: d.code() == selected,
            value: d.code().to_owned(),
            label: fr::diet(d).to_owned(),
        })
        .collect()
}

/// A weekday checkbox of the enrollment and weekly-pattern forms.
pub(in crate::http) struct DayChoice {
    /// The weekday's code (`mon`).
    pub value: &'static str,
    pub label: String,
    pub selected: bool,
}

impl DayChoice {
    /// One checkbox per service weekday, ticked where `wanted` has it.
    pub fn list(service: WeekdaySet, wanted: WeekdaySet) -> Vec<Self> {
        service
            .iter()
            .map(|d| DayChoice {
                value: weekday_code(d),
                label: fr::capitalized(fr::weekday(d)),
                selected: wanted.contains(d),
            })
            .collect()
    }
}

/// The checked weekdays of a form; an unknown or repeated name is a validation error.
pub(in crate::http) fn weekdays_field(form: &FormData) -> Result<WeekdaySet, Error> {
    WeekdaySet::parse_list(form.all("jours")).map_err(|_| Error::form(FormProblem::Weekdays))
}
