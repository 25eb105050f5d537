//! The enrollment queue: the pending requests, filtered by school and year, and the
//! decision forms.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

use cantine_domain::ids::{EnrollmentId, SchoolId};

use super::{filled, notice, number};
use crate::enrollments::{self, Decision};
use crate::error::{Error, FormProblem};
use crate::http::api::v1::year_or_current;
use crate::http::backoffice::Staff;
use crate::http::portal::widgets::{Choice, school_choices};
use crate::http::portal::{
    FormData, Layout, PageError, PagePath, PageQuery, check_csrf, form_page, ok, refused, see_other,
};
use crate::http::{AppState, fr, routes};

#[derive(Debug, Default, Deserialize)]
pub(super) struct QueueQuery {
    #[serde(default)]
    ecole: Option<String>,
    #[serde(default)]
    annee: Option<String>,
    #[serde(default)]
    info: Option<String>,
}

struct PendingLine {
    id: i64,
    child_name: String,
    birth_date: String,
    class_level: String,
    school: String,
    year: String,
    weekdays: String,
    requested_at: String,
    household_id: i64,
    guardians: Vec<String>,
}

#[derive(Template)]
#[template(path = "gestion/inscriptions.html")]
struct QueuePage {
    layout: Layout,
    info: Option<&'static str>,
    error: Option<String>,
    schools: Vec<Choice>,
    /// The filter, for the decision forms to come back to.
    school: String,
    year: String,
    pending: Vec<PendingLine>,
}

async fn queue_page(
    state: &AppState,
    staff: &Staff,
    query: &QueueQuery,
) -> Result<QueuePage, PageError> {
    let school = filled(query.ecole.as_deref())
        .map(|s| number(s, "École").map(SchoolId))
        .transpose()?;
    let year_text = filled(query.annee.as_deref());
    let year = year_text
        .map(|y| year_or_current(state, Some(y)))
        .transpose()?;
    let pending = enrollments::pending(&state.pool, school, year).await?;
    let selected: Vec<String> = school.map(|s| s.to_string()).into_iter().collect();
    Ok(QueuePage {
        layout: Layout::new("Inscriptions à valider", Some(&staff.session)),
        info: None,
        error: None,
        schools: school_choices(&state.pool, &selected).await?,
        school: selected.first().cloned().unwrap_or_default(),
        year: year_text.unwrap_or_default().to_owned(),
        pending: pending
            .into_iter()
            .map(|p| PendingLine {
                id: p.id.get(),
                child_name: p.child_name,
                birth_date: p.birth_date.format("%d/%m/%Y").to_string(),
                class_level: p.class_level,
                school: p.school_name,
                year: p.year,
                weekdays: p
                    .weekdays
                    .iter()
                    .map(fr::weekday)
                    .collect::<Vec<_>>()
                    .join(", "),
                requested_at: fr::date_time(p.requested_at),
                household_id: p.household.get(),
                guardians: p.guardians,
            })
            .collect(),
    })
}

pub(super) async fn queue(
    State(state): State<AppState>,
    staff: Staff,
    PageQuery(query): PageQuery<QueueQuery>,
) -> Result<Response, PageError> {
    let mut template = queue_page(&state, &staff, &query).await?;
    template.info = notice(query.info.as_deref());
    ok(&template)
}

pub(super) async fn decide(
    State(state): State<AppState>,
    staff: Staff,
    PagePath(id): PagePath<i64>,
    form: FormData,
) -> Result<Response, PageError> {
    check_csrf(&staff.session, &form)?;
    let query = QueueQuery {
        ecole: Some(form.get("ecole").to_owned()),
        annee: Some(form.get("annee").to_owned()),
        info: None,
    };
    let decision = match form.get("decision") {
        "valider" => Ok(Decision::Validate),
        "refuser" => Ok(Decision::Reject(form.get("motif").to_owned())),
        _ => Err(Error::form(FormProblem::Action)),
    };
    let validated = matches!(decision, Ok(Decision::Validate));
    let result = match decision {
        Ok(decision) => staff
            .decide(&state, EnrollmentId(id), decision)
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => {
            let mut to = url::form_urlencoded::Serializer::new(String::new());
            to.append_pair("info", if validated { "valide" } else { "refuse" });
            for (name, value) in [("ecole", &query.ecole), ("annee", &query.annee)] {
                if let Some(v) = filled(value.as_deref()) {
                    to.append_pair(name, v);
                }
            }
            Ok(see_other(&format!(
                "{}?{}",
                routes::STAFF_ENROLLMENTS,
                to.finish()
            )))
        }
        Err(e) => refused(e, queue_page(&state, &staff, &query)).await,
    }
}

form_page!(QueuePage);
