//! The managers' absence queue: the pending declarations, the decision forms, and the
//! certificates (each read audited).

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

use cantine_domain::ids::AbsenceId;

use super::notice;
use crate::absences;
use crate::error::{Error, FormProblem};
use crate::http::backoffice::Staff;
use crate::http::certificates::{certificate_files, certificate_response};
use crate::http::portal::absences::{AbsenceLine, line};
use crate::http::portal::{
    FormData, Layout, PageError, PagePath, PageQuery, check_csrf, form_page, ok, refused, see_other,
};
use crate::http::{AppState, routes};

#[derive(Debug, Default, Deserialize)]
pub(super) struct QueueQuery {
    #[serde(default)]
    info: Option<String>,
}

#[derive(Template)]
#[template(path = "gestion/absences.html")]
struct AbsencesPage {
    layout: Layout,
    info: Option<&'static str>,
    error: Option<String>,
    pending: Vec<AbsenceLine>,
}

form_page!(AbsencesPage);

async fn queue_page(state: &AppState, staff: &Staff) -> Result<AbsencesPage, PageError> {
    let pending = absences::pending(&state.pool).await?;
    Ok(AbsencesPage {
        layout: Layout::new("Absences à traiter", Some(&staff.session)),
        info: None,
        error: None,
        pending: pending.into_iter().map(line).collect(),
    })
}

pub(super) async fn queue(
    State(state): State<AppState>,
    staff: Staff,
    PageQuery(query): PageQuery<QueueQuery>,
) -> Result<Response, PageError> {
    let mut template = queue_page(&state, &staff).await?;
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
    let accept = match form.get("decision") {
        "accepter" => Ok(true),
        "refuser" => Ok(false),
        _ => Err(Error::form(FormProblem::Action)),
    };
    let result = match accept {
        Ok(accept) => absences::decide_and_tell(
            &state.pool,
            &state.mailer,
            state.links.as_ref(),
            &staff.actor,
            (AbsenceId(id), state.clock.now()),
            accept,
            Some(form.get("motif")).filter(|_| !accept),
        )
        .await
        .map(|_| accept),
        Err(e) => Err(e),
    };
    match result {
        Ok(accepted) => {
            let code = if accepted {
                "absence-acceptee"
            } else {
                "absence-refusee"
            };
            Ok(see_other(&format!(
                "{}?info={code}",
                routes::STAFF_ABSENCES
            )))
        }
        Err(e) => refused(e, queue_page(&state, &staff)).await,
    }
}

pub(super) async fn certificate(
    State(state): State<AppState>,
    staff: Staff,
    PagePath(id): PagePath<i64>,
) -> Result<Response, PageError> {
    let file = absences::certificate_for_staff(
        &state.pool,
        &certificate_files(&state),
        &staff.actor,
        AbsenceId(id),
    )
    .await?;
    Ok(certificate_response(file))
}
