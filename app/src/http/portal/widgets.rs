//! What several pages show or read the same way: a day's row, the weekday checkboxes, dates
//! typed in forms, and a child's enrollment in words.

use cantine_domain::booking::DayView;
use cantine_domain::enrollment::EnrollmentStatus;
use cantine_domain::weekdays::{WeekdaySet, weekday_code};
use chrono::NaiveDate;

use super::{FormData, fr};
use crate::error::{Error, FormProblem};
use crate::households::Child;

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

/// A weekday checkbox of the enrollment and weekly-pattern forms.
pub(in crate::http) struct DayChoice {
    pub code: &'static str,
    pub label: String,
    pub checked: bool,
}

impl DayChoice {
    /// One checkbox per service weekday, ticked where `wanted` has it.
    pub fn list(service: WeekdaySet, wanted: WeekdaySet) -> Vec<Self> {
        service
            .iter()
            .map(|d| DayChoice {
                code: weekday_code(d),
                label: fr::capitalized(fr::weekday(d)),
                checked: wanted.contains(d),
            })
            .collect()
    }
}

/// The checked weekdays of a form; an unknown or repeated name is a validation error.
pub(in crate::http) fn weekdays_field(form: &FormData) -> Result<WeekdaySet, Error> {
    WeekdaySet::parse_list(form.all("jours")).map_err(|_| Error::form(FormProblem::Weekdays))
}
