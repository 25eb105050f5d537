//! A family's contest of an invoice line, as the pages and the JSON API both take it.

use cantine_domain::ids::HouseholdId;

use crate::billing::{self, ContestSummary, Reader};
use crate::error::{Error, Result};
use crate::http::AppState;
use crate::http::auth::Session;

/// A contest on a line of the household's invoice `invoice_id` (pages and API alike): a line
/// of another invoice is not found, even the household's own.
pub async fn contest(
    state: &AppState,
    household: HouseholdId,
    session: &Session,
    (invoice_id, line_id): (i64, i64),
    message: String,
) -> Result<ContestSummary> {
    let invoice = billing::invoice(&state.pool, Reader::Household(household), invoice_id).await?;
    if !invoice.lines.iter().any(|l| l.id == line_id) {
        return Err(Error::NotFound);
    }
    billing::contest_line(
        &state.pool,
        household,
        session.account.account_id,
        line_id,
        message,
    )
    .await
}
