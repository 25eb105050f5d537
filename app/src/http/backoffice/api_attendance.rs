//! The attendance operations of the staff API: the day's list, the marks (in batches, each
//! with its device's id, as the offline page sends its queue) and the manager's lock.

use axum::extract::State;
use axum::http::Method;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::openapi::Schema;
use utoipa::openapi::schema::ArrayBuilder;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use cantine_domain::child::ClassLevel;
use cantine_domain::ids::{ChildId, SchoolId};
use cantine_domain::menu::Allergen;

use super::{ATTENDANCE, Access, MANAGER, Staff, Table};
use crate::attendance::{self, Agent, DayList, NewMark};
use crate::error::{Error, Invalid, Result};
use crate::http::AppState;
use crate::http::api::v1::{class_level_schema, code_schema, diet_schema};
use crate::http::error::{Json, Problem, Query};

pub const LIST: &str = "/api/v1/staff/attendance";
pub const MARKS: &str = "/api/v1/staff/attendance/marks";
pub const LOCKS: &str = "/api/v1/staff/attendance/locks";

pub(super) fn declare(table: Table) -> Table {
    table
        .add(
            Method::GET,
            LIST,
            Access::Roles(ATTENDANCE),
            attendance_list,
        )
        .add(
            Method::POST,
            MARKS,
            Access::Roles(ATTENDANCE),
            mark_attendance,
        )
        .add(Method::POST, LOCKS, Access::Roles(MANAGER), lock_attendance)
}

impl Staff {
    pub(super) fn agent(&self) -> Agent<'_> {
        Agent {
            actor: &self.actor,
            roles: self.session.account.roles,
            scope: self.scope(),
        }
    }
}

fn allergens_schema() -> Schema {
    ArrayBuilder::new()
        .items(utoipa::openapi::RefOr::T(code_schema(
            Allergen::ALL.iter().map(|a| a.code()),
            None,
        )))
        .unique_items(true)
        .into()
}

fn class_filter_schema() -> Schema {
    class_level_schema()
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    #[param(minimum = 1)]
    school: i64,
    date: NaiveDate,
    /// Only this class level.
    #[param(schema_with = class_filter_schema)]
    class: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttendanceChildOut {
    child_id: i64,
    first_name: String,
    last_name: String,
    #[schema(schema_with = class_level_schema)]
    class_level: String,
    #[schema(schema_with = diet_schema)]
    diet: String,
    /// The allergens declared (codes of Annex II of Regulation (EU) 1169/2011).
    #[schema(schema_with = allergens_schema)]
    allergies: Vec<String>,
    /// The family's free-text details of the allergies.
    allergy_details: String,
    /// A projet d'accueil individualisé: the child brings a packed meal.
    pai: bool,
    booked: bool,
    /// Null while not marked.
    present: Option<bool>,
    /// Marked while not booked: a child who ate without a booking.
    walk_in: bool,
    marked_at: Option<DateTime<Utc>>,
    /// The allergens of the day's menu that the child must not eat.
    #[schema(schema_with = allergens_schema)]
    menu_warnings: Vec<String>,
    /// An absence the family declared for the day: `pending` (not decided yet), `accepted`, or
    /// `none` (none declared, or refused).
    #[schema(schema_with = declared_absence_schema)]
    declared_absence: &'static str,
}

fn declared_absence_schema() -> Schema {
    code_schema(["none", "pending", "accepted"], None)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttendanceListOut {
    school_id: i64,
    school_name: String,
    date: NaiveDate,
    locked: bool,
    locked_at: Option<DateTime<Utc>>,
    /// Whether a menu was entered for the day (no menu, no warning).
    menu_known: bool,
    children: Vec<AttendanceChildOut>,
}

pub(super) fn class_filter(class: Option<&str>) -> Result<Option<ClassLevel>> {
    class
        .map(|c| {
            c.parse::<ClassLevel>()
                .map_err(|_| Error::Invalid(Invalid::ClassLevel))
        })
        .transpose()
}

impl From<DayList> for AttendanceListOut {
    fn from(list: DayList) -> Self {
        let codes = |a: &[Allergen]| a.iter().map(|a| a.code().to_owned()).collect();
        Self {
            school_id: list.school.get(),
            school_name: list.school_name,
            date: list.date,
            locked: list.lock.is_some(),
            locked_at: list.lock.map(|l| l.locked_at),
            menu_known: list.menu_known,
            children: list
                .children
                .into_iter()
                .map(|c| AttendanceChildOut {
                    child_id: c.child.get(),
                    first_name: c.first_name,
                    last_name: c.last_name,
                    class_level: c.class_level.code().to_owned(),
                    diet: c.diet.code().to_owned(),
                    allergies: codes(&c.allergens),
                    allergy_details: c.allergies,
                    pai: c.pai,
                    booked: c.booked,
                    present: c.present,
                    walk_in: c.walk_in,
                    marked_at: c.marked_at,
                    menu_warnings: codes(&c.menu_warnings),
                    declared_absence: c.absence.map_or("none", |a| a.code()),
                })
                .collect(),
        }
    }
}

/// A school's day: every child expected (booked and enrolled) and every walk-in marked, with
/// diet, allergies, PAI and the day's menu warnings. A read of health data: audited. A
/// `school_staff` member sees only their schools (another school answers 404).
#[utoipa::path(get, path = "/api/v1/staff/attendance", operation_id = "attendanceList",
    tag = "staff", params(ListQuery), security(("session" = [])),
    responses((status = 200, body = AttendanceListOut),
        (status = 404, body = Problem, description = "`not_found`: no such school, or not one of the member's")))]
pub async fn attendance_list(
    State(state): State<AppState>,
    staff: Staff,
    Query(query): Query<ListQuery>,
) -> Result<Json<AttendanceListOut>> {
    if query.school < 1 {
        return Err(Error::Invalid(Invalid::Request("school: 1 or more".into())));
    }
    let class = class_filter(query.class.as_deref())?;
    let list = attendance::day_list(
        &state.pool,
        &staff.agent(),
        SchoolId(query.school),
        query.date,
        class,
    )
    .await?;
    Ok(Json(list.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkIn {
    /// Generated by the device for this mark (`crypto.randomUUID()`): a mark sent again with
    /// the same id changes nothing.
    client_id: Uuid,
    #[schema(minimum = 1)]
    child_id: i64,
    /// The service day; today or earlier.
    date: NaiveDate,
    present: bool,
    /// When the agent tapped, by the device's clock (a later instant is taken as now). The
    /// mark made last wins; absent: now.
    #[serde(default)]
    marked_at: Option<DateTime<Utc>>,
    /// Required to correct a locked day (managers only); 300 characters at most.
    #[serde(default)]
    #[schema(max_length = 300)]
    reason: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkAttendance {
    /// 1 to 100 marks (`attendance::MAX_BATCH`).
    #[schema(min_items = 1, max_items = 100)]
    marks: Vec<MarkIn>,
}

fn outcome_schema() -> Schema {
    code_schema(["applied", "superseded", "duplicate"], None)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MarkOut {
    client_id: Uuid,
    /// `applied`: recorded, now the child's state; `superseded`: recorded in the history, but
    /// a mark made later holds; `duplicate`: this id was recorded before, nothing changed.
    #[schema(schema_with = outcome_schema)]
    outcome: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MarkedOut {
    /// One per mark, in the order sent.
    results: Vec<MarkOut>,
}

/// Records a batch of marks, all or none. Each carries its device's id and is applied once;
/// the mark made last (by `marked_at`) is the child's state, and every mark stays in the
/// history. A day locked by a manager is corrected by a manager only, with a reason (audited).
#[utoipa::path(post, path = "/api/v1/staff/attendance/marks", operation_id = "markAttendance",
    tag = "staff", request_body(content = MarkAttendance, content_type = "application/json",
        description = "1 to 100 marks"),
    security(("session" = [], "csrf" = [])),
    responses((status = 200, body = MarkedOut),
        (status = 404, body = Problem, description = "`not_found`: no such child, or not of the member's schools"),
        (status = 409, body = Problem, description = "`not_enrolled`: no validated enrollment for the day's school year; `attendance_locked`: the day is locked (only a manager corrects it)"),
        (status = 422, body = Problem, description = "`validation`: a day still to come, a locked day corrected without a reason")))]
pub async fn mark_attendance(
    State(state): State<AppState>,
    staff: Staff,
    Json(body): Json<MarkAttendance>,
) -> Result<Json<MarkedOut>> {
    if let Some(bad) = body.marks.iter().find(|m| m.child_id < 1) {
        return Err(Error::Invalid(Invalid::Request(format!(
            "child_id: 1 or more, not {}",
            bad.child_id
        ))));
    }
    let marks: Vec<NewMark> = body
        .marks
        .iter()
        .map(|m| NewMark {
            client_id: m.client_id,
            child: ChildId(m.child_id),
            date: m.date,
            present: m.present,
            marked_at: m.marked_at,
            reason: m.reason.clone(),
        })
        .collect();
    let outcomes = attendance::mark(
        &state.pool,
        &staff.agent(),
        state.rules().today(),
        state.clock.now(),
        &marks,
    )
    .await?;
    Ok(Json(MarkedOut {
        results: marks
            .iter()
            .zip(outcomes)
            .map(|(m, o)| MarkOut {
                client_id: m.client_id,
                outcome: o.code().to_owned(),
            })
            .collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LockAttendance {
    #[schema(minimum = 1)]
    school_id: i64,
    /// Today or earlier.
    date: NaiveDate,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LockOut {
    school_id: i64,
    date: NaiveDate,
    locked_at: DateTime<Utc>,
    /// False when the day was locked already (nothing changed).
    newly_locked: bool,
}

/// Locks a school's day of attendance: afterwards only a manager corrects it, with a reason.
/// Billing reads locked days. Locking again changes nothing.
#[utoipa::path(post, path = "/api/v1/staff/attendance/locks", operation_id = "lockAttendance",
    tag = "staff", request_body = LockAttendance, security(("session" = [], "csrf" = [])),
    responses((status = 200, body = LockOut),
        (status = 404, body = Problem, description = "`not_found`: no such school"),
        (status = 422, body = Problem, description = "`validation`: a day still to come")))]
pub async fn lock_attendance(
    State(state): State<AppState>,
    staff: Staff,
    Json(body): Json<LockAttendance>,
) -> Result<Json<LockOut>> {
    if body.school_id < 1 {
        return Err(Error::Invalid(Invalid::Request(
            "school_id: 1 or more".into(),
        )));
    }
    let locked = attendance::lock_day(
        &state.pool,
        &staff.agent(),
        SchoolId(body.school_id),
        body.date,
        (state.rules().today(), state.clock.now()),
    )
    .await?;
    Ok(Json(LockOut {
        school_id: body.school_id,
        date: body.date,
        locked_at: locked.locked_at,
        newly_locked: locked.newly,
    }))
}
