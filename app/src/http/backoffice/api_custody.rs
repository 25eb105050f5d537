//! The staff API of shared custody under `/api/v1/staff/children/{child_id}/custody`: a
//! manager (or an admin) records, replaces or removes a child's arrangement, each change with
//! its audit entry.

use axum::extract::State;
use axum::http::{Method, StatusCode};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use cantine_domain::ids::{ChildId, HouseholdId};

use super::{Access, CUSTODY_WRITERS, Staff, Table};
use crate::custody::{self, Arrangement, Custody, NewCustody, Range};
use crate::error::Result;
use crate::http::AppState;
use crate::http::error::{Json, Path, Problem};

pub(super) fn declare(table: Table) -> Table {
    let writers = Access::Roles(CUSTODY_WRITERS);
    table
        .add(
            Method::PUT,
            "/api/v1/staff/children/{child_id}/custody",
            writers,
            set_custody,
        )
        .add(
            Method::DELETE,
            "/api/v1/staff/children/{child_id}/custody",
            writers,
            remove_custody,
        )
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RangeBody {
    first_day: NaiveDate,
    /// Included; on or after `first_day`.
    last_day: NaiveDate,
}

/// Which household books and pays each day. "First" is the child's own household, "second"
/// the other one.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ArrangementBody {
    /// By the parity of the ISO week number, as judgements write it ("semaines paires chez le
    /// père"); a year with a week 53 gives two odd weeks in a row.
    AlternateWeeks { first_has_even_weeks: bool },
    /// The days of these ranges are the second household's, every other day the first's. The
    /// ranges may not overlap.
    Ranges {
        #[schema(min_items = 1, max_items = 100)]
        second: Vec<RangeBody>,
    },
    /// Both households pay a fixed share of every meal and both book: the first household's
    /// share is `first_basis_points / 10000` of the price rounded to the nearest cent (halves
    /// up), the second pays the rest. 5000 is 50 %.
    Shares {
        #[schema(minimum = 1, maximum = 9999)]
        first_basis_points: u32,
    },
}

impl From<ArrangementBody> for Arrangement {
    fn from(body: ArrangementBody) -> Self {
        match body {
            ArrangementBody::AlternateWeeks {
                first_has_even_weeks,
            } => Arrangement::AlternateWeeks {
                first_has_even_weeks,
            },
            ArrangementBody::Ranges { second } => Arrangement::Ranges {
                second: second
                    .into_iter()
                    .map(|r| Range {
                        first_day: r.first_day,
                        last_day: r.last_day,
                    })
                    .collect(),
            },
            ArrangementBody::Shares { first_basis_points } => {
                Arrangement::Shares { first_basis_points }
            }
        }
    }
}

impl From<Arrangement> for ArrangementBody {
    fn from(arrangement: Arrangement) -> Self {
        match arrangement {
            Arrangement::AlternateWeeks {
                first_has_even_weeks,
            } => ArrangementBody::AlternateWeeks {
                first_has_even_weeks,
            },
            Arrangement::Ranges { second } => ArrangementBody::Ranges {
                second: second
                    .into_iter()
                    .map(|r| RangeBody {
                        first_day: r.first_day,
                        last_day: r.last_day,
                    })
                    .collect(),
            },
            Arrangement::Shares { first_basis_points } => {
                ArrangementBody::Shares { first_basis_points }
            }
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetCustody {
    /// The second household; the child's own is the first. It must exist and be another one.
    #[schema(minimum = 1)]
    other_household_id: i64,
    arrangement: ArrangementBody,
    /// The judgement or agreement it comes from ("Jugement du JAF de Lyon du 3 mars 2026"),
    /// 200 characters at most.
    #[schema(min_length = 1, max_length = 200)]
    reference: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustodyOut {
    child_id: i64,
    /// The child's own household.
    first_household_id: i64,
    other_household_id: i64,
    arrangement: ArrangementBody,
    reference: String,
    /// The e-mail of the staff member who last set it.
    updated_by: Option<String>,
    updated_at: DateTime<Utc>,
}

impl From<Custody> for CustodyOut {
    fn from(c: Custody) -> Self {
        Self {
            child_id: c.child.get(),
            first_household_id: c.first_household.get(),
            other_household_id: c.other_household.get(),
            arrangement: c.arrangement.into(),
            reference: c.reference,
            updated_by: c.updated_by,
            updated_at: c.updated_at,
        }
    }
}

/// Records a shared custody for a child, or replaces the one recorded: the second household
/// then sees the child, and each household books (and is billed for) its own days. Audited.
#[utoipa::path(put, path = "/api/v1/staff/children/{child_id}/custody", operation_id = "setCustody",
    tag = "staff", params(("child_id" = i64, Path, minimum = 1)), request_body = SetCustody,
    security(("session" = [], "csrf" = [])),
    responses((status = 200, body = CustodyOut),
        (status = 422, body = Problem, description = "`validation`: the other household unknown or the child's own, ranges reversed or overlapping, a share outside 1–9999, a blank reference")))]
pub async fn set_custody(
    State(state): State<AppState>,
    staff: Staff,
    Path(child): Path<i64>,
    Json(body): Json<SetCustody>,
) -> Result<Json<CustodyOut>> {
    let stored = custody::set(
        &state.pool,
        &staff.actor,
        ChildId(child),
        NewCustody {
            other_household: HouseholdId(body.other_household_id),
            arrangement: body.arrangement.into(),
            reference: body.reference,
        },
    )
    .await?;
    Ok(Json(stored.into()))
}

/// Removes a child's shared custody: the child is its own household's alone again (the other
/// household no longer sees it). Audited; a child without one is 404.
#[utoipa::path(delete, path = "/api/v1/staff/children/{child_id}/custody",
    operation_id = "removeCustody", tag = "staff", params(("child_id" = i64, Path, minimum = 1)),
    security(("session" = [], "csrf" = [])),
    responses((status = 204, description = "Removed")))]
pub async fn remove_custody(
    State(state): State<AppState>,
    staff: Staff,
    Path(child): Path<i64>,
) -> Result<StatusCode> {
    custody::remove(&state.pool, &staff.actor, ChildId(child)).await?;
    Ok(StatusCode::NO_CONTENT)
}
