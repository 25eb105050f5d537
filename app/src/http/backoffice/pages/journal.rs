//! The audit log: its entries filtered by day, author, action and household, a page at a
//! time, and the link to the same filter's CSV export from the staff API.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono::{Days, NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::Paris;
use serde::Deserialize;

use super::{filled, number};
use crate::audit;
use crate::error::Error;
use crate::http::backoffice::Staff;
use crate::http::backoffice::api::audit_filter;
use crate::http::portal::widgets::{Choice, parse_date};
use crate::http::portal::{Layout, PageError, PageQuery, form_page, ok, refused};
use crate::http::{AppState, fr, routes};

/// Entries on one page of the journal.
const JOURNAL_PAGE: i64 = 50;
/// The export's limit: the API's largest.
const EXPORT_LIMIT: i64 = 10_000;

#[derive(Debug, Default, Deserialize)]
pub(super) struct JournalQuery {
    #[serde(default)]
    du: Option<String>,
    #[serde(default)]
    au: Option<String>,
    #[serde(default)]
    acteur: Option<String>,
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    foyer: Option<String>,
    #[serde(default)]
    avant: Option<String>,
}

struct JournalLine {
    at: String,
    /// `None`: the appliance's console.
    actor: Option<String>,
    action: String,
    household_id: Option<i64>,
    child_id: Option<i64>,
    client_ip: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "gestion/journal.html")]
struct JournalPage {
    layout: Layout,
    error: Option<String>,
    from: String,
    to: String,
    actor: String,
    household: String,
    actions: Vec<Choice>,
    entries: Vec<JournalLine>,
    /// The next (older) page's query string, when there may be one.
    older: Option<String>,
    csv: String,
}

/// The first instant of a day in Paris.
fn paris_midnight(day: NaiveDate) -> chrono::DateTime<Utc> {
    Paris
        .from_local_datetime(&day.and_hms_opt(0, 0, 0).expect("midnight"))
        .earliest()
        .map_or_else(
            || day.and_hms_opt(0, 0, 0).expect("midnight").and_utc(),
            |t| t.to_utc(),
        )
}

pub(super) async fn journal(
    State(state): State<AppState>,
    staff: Staff,
    PageQuery(query): PageQuery<JournalQuery>,
) -> Result<Response, PageError> {
    let mut template = JournalPage {
        layout: Layout::new("Journal d'audit", Some(&staff.session)),
        error: None,
        from: query.du.clone().unwrap_or_default(),
        to: query.au.clone().unwrap_or_default(),
        actor: query.acteur.clone().unwrap_or_default(),
        household: query.foyer.clone().unwrap_or_default(),
        actions: audit::Action::ALL
            .into_iter()
            .map(|a| Choice {
                selected: query.action.as_deref() == Some(a.code()),
                value: a.code().to_owned(),
                label: fr::audit_action(a).to_owned(),
            })
            .collect(),
        entries: Vec::new(),
        older: None,
        csv: String::new(),
    };
    let parsed = (|| -> Result<_, Error> {
        let from = filled(query.du.as_deref())
            .map(|d| parse_date(d, "Du"))
            .transpose()?;
        let to = filled(query.au.as_deref())
            .map(|d| parse_date(d, "Au"))
            .transpose()?;
        let household = filled(query.foyer.as_deref())
            .map(|h| number(h, "Foyer"))
            .transpose()?;
        let before = filled(query.avant.as_deref())
            .map(|b| number(b, "Page"))
            .transpose()?;
        let action = filled(query.action.as_deref()).map(str::to_owned);
        let actor = filled(query.acteur.as_deref()).map(str::to_owned);
        Ok((from, to, household, before, action, actor))
    })();
    let (from, to, household, before, action, actor) = match parsed {
        Ok(p) => p,
        Err(e) => return refused(e, async { Ok(template) }).await,
    };
    let from_at = from.map(paris_midnight);
    let to_at = to.map(|d| paris_midnight(d + Days::new(1)));
    let filter = audit_filter(
        from_at,
        to_at,
        actor.clone(),
        action.clone(),
        (household, None),
        (before, Some(JOURNAL_PAGE)),
    );
    let filter = match filter {
        Ok(f) => f,
        Err(e) => return refused(e, async { Ok(template) }).await,
    };
    let rows = audit::list(&state.pool, &filter).await?;

    // The filters as the page's own query, and as the API's.
    let mut page_query = url::form_urlencoded::Serializer::new(String::new());
    let mut api_query = url::form_urlencoded::Serializer::new(String::new());
    api_query.append_pair("format", "csv");
    for (name, value) in [
        ("du", query.du.as_deref()),
        ("au", query.au.as_deref()),
        ("acteur", actor.as_deref()),
        ("action", action.as_deref()),
        ("foyer", query.foyer.as_deref()),
    ] {
        if let Some(v) = filled(value) {
            page_query.append_pair(name, v);
        }
    }
    if let Some(at) = from_at {
        api_query.append_pair("from", &at.to_rfc3339());
    }
    if let Some(at) = to_at {
        api_query.append_pair("to", &at.to_rfc3339());
    }
    if let Some(a) = &actor {
        api_query.append_pair("actor", a);
    }
    if let Some(a) = &action {
        api_query.append_pair("action", a);
    }
    if let Some(h) = household {
        api_query.append_pair("household", &h.to_string());
    }
    api_query.append_pair("limit", &EXPORT_LIMIT.to_string());
    template.csv = format!("{}?{}", routes::STAFF_AUDIT_API, api_query.finish());
    if rows.len() as i64 == JOURNAL_PAGE
        && let Some(last) = rows.last()
    {
        page_query.append_pair("avant", &last.id.to_string());
        template.older = Some(page_query.finish());
    }
    template.entries = rows
        .into_iter()
        .map(|r| JournalLine {
            at: fr::date_time(r.at),
            actor: r.actor_email,
            action: audit::Action::from_code(&r.action)
                .map_or(r.action.clone(), |a| fr::audit_action(a).to_owned()),
            household_id: r.household_id,
            child_id: r.child_id,
            client_ip: r.client_ip.unwrap_or_default(),
            detail: r.detail.to_string(),
        })
        .collect();
    ok(&template)
}

form_page!(JournalPage);
