//! Finance's contests page: the families' contested invoice lines, open or all, each with its
//! answer form (the answer is mailed; an optional credit note on the line).

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

use super::billing::{LineRow, billing_notice, line_row, parse_euros};
use crate::billing::{self, ContestStatus};
use crate::http::backoffice::Staff;
use crate::http::portal::{
    FormData, Layout, PageError, PagePath, PageQuery, check_csrf, form_page, ok, refused, see_other,
};
use crate::http::{AppState, fr, routes};

#[derive(Debug, Default, Deserialize)]
pub(super) struct ContestsQuery {
    /// `toutes` for answered ones too.
    #[serde(default)]
    etat: Option<String>,
    #[serde(default)]
    info: Option<String>,
}

struct ContestCard {
    id: i64,
    open: bool,
    household: String,
    household_link: String,
    invoice: String,
    invoice_link: String,
    line: LineRow,
    message: String,
    created: String,
    answer: Option<String>,
    answered: Option<String>,
    credit_note: Option<String>,
}

#[derive(Template)]
#[template(path = "gestion/contestations.html")]
struct ContestsPage {
    layout: Layout,
    info: Option<&'static str>,
    error: Option<String>,
    all: bool,
    contests: Vec<ContestCard>,
}

form_page!(ContestsPage);

async fn contests_view(
    state: &AppState,
    staff: &Staff,
    all: bool,
) -> Result<ContestsPage, PageError> {
    let contests = billing::contests(&state.pool, !all).await?;
    Ok(ContestsPage {
        layout: Layout::new("Contestations", Some(&staff.session)),
        info: None,
        error: None,
        all,
        contests: contests
            .iter()
            .map(|c| ContestCard {
                id: c.summary.id,
                open: c.summary.status == ContestStatus::Open,
                household: c.household_name.clone(),
                household_link: routes::fill(routes::STAFF_HOUSEHOLD, &[c.household.get()]),
                invoice: c.invoice_number.clone(),
                invoice_link: routes::fill(routes::STAFF_INVOICE, &[c.invoice_id]),
                line: line_row(&c.line),
                message: c.summary.message.clone(),
                created: fr::date_time(c.summary.created_at),
                answer: c.summary.answer.clone(),
                answered: c.summary.answered_at.map(fr::date_time),
                credit_note: c.summary.credit_note.as_ref().map(|n| n.1.clone()),
            })
            .collect(),
    })
}

pub(super) async fn contests_page(
    State(state): State<AppState>,
    staff: Staff,
    PageQuery(query): PageQuery<ContestsQuery>,
) -> Result<Response, PageError> {
    let all = query.etat.as_deref() == Some("toutes");
    let mut template = contests_view(&state, &staff, all).await?;
    template.info = billing_notice(query.info.as_deref());
    ok(&template)
}

pub(super) async fn answer(
    State(state): State<AppState>,
    staff: Staff,
    PagePath(id): PagePath<i64>,
    form: FormData,
) -> Result<Response, PageError> {
    check_csrf(&staff.session, &form)?;
    let result = async {
        let credit = match form.get("avoir").trim() {
            "" => None,
            text => Some(parse_euros(text, "Avoir")?),
        };
        billing::answer_contest_at(
            &state.pool,
            &staff.actor,
            id,
            form.get("reponse").to_owned(),
            credit,
            state.clock.now(),
        )
        .await
    }
    .await;
    match result {
        Ok(_) => Ok(see_other(&format!(
            "{}?etat=toutes&info=reponse",
            routes::STAFF_CONTESTS
        ))),
        Err(e) => refused(e, contests_view(&state, &staff, false)).await,
    }
}
