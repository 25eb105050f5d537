//! Data protection pages: the public privacy page, the family's data (readable page and JSON
//! download) and the closure of its account, with a confirmation step.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;
use serde_json::Value;

use super::{FormData, Layout, PageError, Signed, check_csrf, form_page, ok, page};
use crate::error::{Error, Field, Invalid};
use crate::http::auth::{self, MaybeSession};
use crate::http::documents::attachment;
use crate::http::fr::privacy as words;
use crate::http::{AppState, routes};
use crate::privacy::{self, ClosedBy};

#[derive(Template)]
#[template(path = "confidentialite.html")]
struct PrivacyPage {
    layout: Layout,
    controller: String,
    address: String,
    dpo_contact: String,
    rights_contact: String,
    legal_basis: String,
    recipients: Vec<String>,
    purposes: Vec<(&'static str, &'static str)>,
    periods: Vec<words::Period>,
    rights: Vec<&'static str>,
    complaint: &'static str,
}

/// `/confidentialite`: what the commune does with the families' data, from `[privacy]` and
/// `[retention]`.
pub(super) async fn privacy_page(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
) -> Result<Response, PageError> {
    let p = &state.config.privacy;
    ok(&PrivacyPage {
        layout: Layout::new("Protection des données personnelles", session.as_ref()),
        controller: p.controller.clone(),
        address: p.address.clone(),
        dpo_contact: p.dpo_contact.clone(),
        rights_contact: p.rights_contact.clone(),
        legal_basis: p.legal_basis.clone(),
        recipients: p.recipients.clone(),
        purposes: words::PURPOSES.to_vec(),
        periods: words::periods(&state.config.retention),
        rights: words::RIGHTS.to_vec(),
        complaint: words::COMPLAINT,
    })
}

/// One exported table as the page shows it.
struct TableView {
    name: &'static str,
    title: &'static str,
    columns: Vec<String>,
    rows: Vec<Vec<String>>,
}

#[derive(Template)]
#[template(path = "mes_donnees.html")]
struct MyDataPage {
    layout: Layout,
    generated_at: String,
    tables: Vec<TableView>,
}

fn shown(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `/foyer/mes-donnees`: every stored row about the household, table by table.
pub(super) async fn my_data(
    State(state): State<AppState>,
    Signed(session): Signed,
) -> Result<Response, PageError> {
    let household = session.household()?;
    let export = privacy::export(&state.pool, household, state.clock.now()).await?;
    let tables = export
        .ordered()
        .map(|(name, rows)| {
            let columns: Vec<String> = rows
                .first()
                .and_then(Value::as_object)
                .map(|o| o.keys().cloned().collect())
                .unwrap_or_default();
            let rows = rows
                .iter()
                .map(|row| {
                    columns
                        .iter()
                        .map(|c| row.get(c).map(shown).unwrap_or_default())
                        .collect()
                })
                .collect();
            TableView {
                name,
                title: words::table_title(name),
                columns,
                rows,
            }
        })
        .collect();
    ok(&MyDataPage {
        layout: Layout::new("Mes données", Some(&session)),
        generated_at: export
            .generated_at
            .with_timezone(&chrono_tz::Europe::Paris)
            .format("%d/%m/%Y à %H:%M")
            .to_string(),
        tables,
    })
}

/// `/foyer/mes-donnees.json`: the same data as a download.
pub(super) async fn my_data_json(
    State(state): State<AppState>,
    Signed(session): Signed,
) -> Result<Response, PageError> {
    let household = session.household()?;
    let export = privacy::export(&state.pool, household, state.clock.now()).await?;
    let body = serde_json::to_vec_pretty(&export.to_json())
        .map_err(|e| Error::Internal(anyhow::anyhow!("export: {e}")))?;
    Ok(attachment(
        "application/json",
        "mes-donnees-cantine.json",
        body,
    ))
}

#[derive(Template)]
#[template(path = "cloture.html")]
struct ClosurePage {
    layout: Layout,
    error: Option<String>,
}

form_page!(ClosurePage);

/// The confirmation page: what closing erases and what it keeps.
pub(super) async fn closure_form(Signed(session): Signed) -> Result<Response, PageError> {
    session.household()?;
    ok(&ClosurePage {
        layout: Layout::new("Clôturer mon compte", Some(&session)),
        error: None,
    })
}

/// Closes the household's account once the family ticked the confirmation; every session of
/// its guardians ends, this one too.
pub(super) async fn close(
    State(state): State<AppState>,
    Signed(session): Signed,
    jar: CookieJar,
    form: FormData,
) -> Result<Response, PageError> {
    check_csrf(&session, &form)?;
    let household = session.household()?;
    if form.get("confirmation").trim() != "CLOTURER" {
        let mut template = ClosurePage {
            layout: Layout::new("Clôturer mon compte", Some(&session)),
            error: Some(crate::http::fr::message(&Error::Invalid(
                Invalid::Required {
                    field: Field::Confirmation,
                },
            ))),
        };
        template.layout.mark_failed();
        return page(StatusCode::UNPROCESSABLE_ENTITY, &template);
    }
    let now = state.clock.now();
    privacy::close_household(
        &state.pool,
        &state.config.data_dir,
        household,
        ClosedBy::Family,
        now,
        state.rules().today(),
    )
    .await?;
    // The session is gone with the others: clear the cookie and say so.
    Ok((
        jar.add(auth::removal_cookie(&state)),
        super::see_other(&format!("{}?info=compte-clos", routes::LOG_IN)),
    )
        .into_response())
}
