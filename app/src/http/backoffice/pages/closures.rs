//! Closures: the coming ones, and the forms that close days (cancelling their bookings and
//! mailing the families) or reopen them.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono::NaiveDate;
use serde::Deserialize;

use cantine_domain::ids::SchoolId;

use super::school_ids;
use crate::closures::{self, Closing};
use crate::error::Error;
use crate::http::backoffice::Staff;
use crate::http::portal::widgets::{Choice, parse_date, school_choices};
use crate::http::portal::{
    FormData, Layout, PageError, PageQuery, check_csrf, form_page, ok, refused, see_other,
};
use crate::http::{AppState, fr, routes};

#[derive(Debug, Default, Deserialize)]
pub(super) struct ClosuresQuery {
    #[serde(default)]
    repas: Option<usize>,
    #[serde(default)]
    familles: Option<usize>,
    #[serde(default)]
    rouvertes: Option<usize>,
}

struct ClosureLine {
    /// `None`: every school of the commune.
    school: Option<String>,
    first_day: String,
    /// When the closure lasts more than a day.
    last_day: Option<String>,
    reason: String,
}

#[derive(Template)]
#[template(path = "gestion/fermetures.html")]
struct ClosuresPage {
    layout: Layout,
    info: Option<String>,
    error: Option<String>,
    closures: Vec<ClosureLine>,
    schools: Vec<Choice>,
}

async fn closures_view(state: &AppState, staff: &Staff) -> Result<ClosuresPage, PageError> {
    let upcoming = closures::upcoming(&state.pool, state.rules().today()).await?;
    Ok(ClosuresPage {
        layout: Layout::new("Fermetures de la cantine", Some(&staff.session)),
        info: None,
        error: None,
        closures: upcoming
            .into_iter()
            .map(|c| ClosureLine {
                school: c.school_name,
                first_day: fr::long_date_year(c.first_day),
                last_day: (c.last_day != c.first_day).then(|| fr::long_date_year(c.last_day)),
                reason: c.reason,
            })
            .collect(),
        schools: school_choices(&state.pool, &[]).await?,
    })
}

pub(super) async fn closures_page(
    State(state): State<AppState>,
    staff: Staff,
    PageQuery(query): PageQuery<ClosuresQuery>,
) -> Result<Response, PageError> {
    let mut template = closures_view(&state, &staff).await?;
    template.info = match query {
        ClosuresQuery {
            repas: Some(meals),
            familles: Some(families),
            ..
        } => Some(fr::closure_result(meals, families)),
        ClosuresQuery {
            rouvertes: Some(n), ..
        } => Some(fr::reopening_result(n)),
        _ => None,
    };
    ok(&template)
}

/// What the closing and reopening forms share (the `closure_fields` macro): the schools
/// ticked, or `None` for "toutes les écoles", then the first and last days.
fn closure_fields(form: &FormData) -> Result<(Option<Vec<SchoolId>>, NaiveDate, NaiveDate), Error> {
    let schools = if form.checked("toutes") {
        None
    } else {
        Some(school_ids(form)?)
    };
    let from = parse_date(form.get("du"), "Premier jour")?;
    let to = parse_date(form.get("au"), "Dernier jour")?;
    Ok((schools, from, to))
}

pub(super) async fn close_days(
    State(state): State<AppState>,
    staff: Staff,
    form: FormData,
) -> Result<Response, PageError> {
    check_csrf(&staff.session, &form)?;
    let result = async {
        let (schools, from, to) = closure_fields(&form)?;
        let closing = Closing {
            schools,
            from,
            to,
            reason: form.get("motif").to_owned(),
        };
        closures::close_days(
            &state.pool,
            &state.mailer,
            state.links.as_ref(),
            &staff.actor,
            closing,
        )
        .await
    }
    .await;
    match result {
        Ok(closed) => Ok(see_other(&format!(
            "{}?repas={}&familles={}",
            routes::STAFF_CLOSURES,
            closed.bookings_cancelled,
            closed.families_mailed
        ))),
        Err(e) => refused(e, closures_view(&state, &staff)).await,
    }
}

pub(super) async fn reopen_days(
    State(state): State<AppState>,
    staff: Staff,
    form: FormData,
) -> Result<Response, PageError> {
    check_csrf(&staff.session, &form)?;
    let result = async {
        let (schools, from, to) = closure_fields(&form)?;
        closures::reopen_days(&state.pool, &staff.actor, schools, from, to).await
    }
    .await;
    match result {
        Ok(n) => Ok(see_other(&format!(
            "{}?rouvertes={n}",
            routes::STAFF_CLOSURES
        ))),
        Err(e) => refused(e, closures_view(&state, &staff)).await,
    }
}

form_page!(ClosuresPage);
