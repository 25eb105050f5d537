//! Data protection in the back office: a manager closes a household's account at the counter
//! (the family's erasure request, RGPD art. 17), and the record of processing activities
//! (art. 30) is downloaded by the DPO's correspondents (admin, manager).

use axum::extract::State;
use axum::http::Method;
use axum::response::Response;

use cantine_domain::ids::HouseholdId;

use super::{Access, MANAGER, STATUS_READERS, Staff, Table};
use crate::error::{Error, Field, Invalid};
use crate::http::documents::attachment;
use crate::http::fr::privacy as words;
use crate::http::portal::{FormData, PageError, PagePath, check_csrf, see_other};
use crate::http::{AppState, routes};
use crate::privacy::{self, ClosedBy};

pub(super) fn declare(table: Table) -> Table {
    table
        .add(
            Method::POST,
            routes::STAFF_HOUSEHOLD_CLOSURE,
            Access::Roles(MANAGER),
            close_household,
        )
        .add(
            Method::GET,
            routes::STAFF_PROCESSING_RECORD,
            Access::Roles(STATUS_READERS),
            processing_record,
        )
}

/// Closes the household's account once the member typed the confirmation; audited in the
/// closure's transaction.
async fn close_household(
    State(state): State<AppState>,
    staff: Staff,
    PagePath(id): PagePath<i64>,
    form: FormData,
) -> Result<Response, PageError> {
    check_csrf(&staff.session, &form)?;
    if form.get("confirmation").trim() != "CLOTURER" {
        return Err(Error::Invalid(Invalid::Required {
            field: Field::Confirmation,
        })
        .into());
    }
    privacy::close_household(
        &state.pool,
        &state.config.data_dir,
        HouseholdId(id),
        ClosedBy::Counter(&staff.actor),
        state.clock.now(),
        state.rules().today(),
    )
    .await?;
    Ok(see_other(&format!(
        "{}?info=compte-clos",
        routes::fill(routes::STAFF_HOUSEHOLD, &[id])
    )))
}

/// The record of processing activities, as a Markdown download.
async fn processing_record(State(state): State<AppState>, _staff: Staff) -> Response {
    let text = words::processing_record(
        &state.config.privacy,
        &state.config.retention,
        state.rules().today(),
    );
    attachment(
        "text/markdown; charset=utf-8",
        "registre-des-traitements.md",
        text.into_bytes(),
    )
}
