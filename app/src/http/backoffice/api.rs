//! The staff API under `/api/v1/staff`: the enrollment queue, households, the quotient
//! familial, closures, the counter, staff accounts and the audit log. Thin handlers: each
//! reads its body, calls one service with the acting [`Staff`] member, and answers.

use axum::extract::State;
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use cantine_domain::ids::{AccountId, ChildId, EnrollmentId, HouseholdId, SchoolId};
use cantine_domain::roles::Role;
use cantine_domain::weekdays::{WeekdaySet, weekday_code};

use super::{ADMIN, ANY_STAFF, Access, HOUSEHOLD_READERS, MANAGER, QUOTIENT_WRITERS, Staff, Table};
use crate::audit;
use crate::closures::{self, Closing};
use crate::enrollments::{self, Decision};
use crate::error::{Error, Invalid, Result};
use crate::households::{self, NewGuardian, NewQuotient, Viewer};
use crate::http::AppState;
use crate::http::api::v1::{
    ChildOut, CreateChild, Created, DayChanged, code_schema, email_schema, name_schema,
    optional_email_schema, phone_schema, weekdays_schema, year_or_current,
};
use crate::http::error::{Json, Path, Problem, Query};
use crate::reservations;
use crate::staff::{self, NewMember};

pub(super) fn declare(table: Table) -> Table {
    let any = Access::Roles(ANY_STAFF);
    let manager = Access::Roles(MANAGER);
    let admin = Access::Roles(ADMIN);
    let readers = Access::Roles(HOUSEHOLD_READERS);
    table
        .add(Method::GET, "/api/v1/staff/me", any, me)
        .add(
            Method::GET,
            "/api/v1/staff/enrollments",
            manager,
            list_pending_enrollments,
        )
        .add(
            Method::POST,
            "/api/v1/staff/enrollments/{enrollment_id}/decision",
            manager,
            decide_enrollment,
        )
        .add(
            Method::GET,
            "/api/v1/staff/households",
            readers,
            search_households,
        )
        .add(
            Method::POST,
            "/api/v1/staff/households",
            manager,
            create_household,
        )
        .add(
            Method::GET,
            "/api/v1/staff/households/{household_id}",
            readers,
            get_household,
        )
        .add(
            Method::POST,
            "/api/v1/staff/households/{household_id}/quotient-familial",
            Access::Roles(QUOTIENT_WRITERS),
            set_quotient_familial,
        )
        .add(
            Method::POST,
            "/api/v1/staff/households/{household_id}/children",
            manager,
            add_child,
        )
        .add(
            Method::POST,
            "/api/v1/staff/households/{household_id}/children/{child_id}/enrollment",
            manager,
            enroll_at_counter,
        )
        .add(
            Method::POST,
            "/api/v1/staff/households/{household_id}/children/{child_id}/reservations/{date}",
            manager,
            set_day_at_counter,
        )
        .add(Method::POST, "/api/v1/staff/closures", manager, close_days)
        .add(
            Method::POST,
            "/api/v1/staff/closures/reopening",
            manager,
            reopen_days,
        )
        .add(
            Method::POST,
            "/api/v1/staff/accounts",
            admin,
            create_staff_account,
        )
        .add(
            Method::PUT,
            "/api/v1/staff/accounts/{account_id}/roles",
            admin,
            set_staff_roles,
        )
        .add(
            Method::DELETE,
            "/api/v1/staff/accounts/{account_id}/second-factor",
            admin,
            reset_second_factor,
        )
        .add(Method::GET, "/api/v1/staff/audit", admin, audit_log)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    id: i64,
    email: String,
    first_name: String,
    /// `school_staff`, `kitchen`, `manager`, `finance`, `admin`.
    roles: Vec<String>,
    /// The schools of a `school_staff` member.
    schools: Vec<i64>,
}

/// The signed-in staff member, with roles and schools.
#[utoipa::path(get, path = "/api/v1/staff/me", operation_id = "staffMe", tag = "staff",
    security(("session" = [])), responses((status = 200, body = Me)))]
pub async fn me(staff: Staff) -> Json<Me> {
    let a = &staff.session.account;
    Json(Me {
        id: a.account_id.get(),
        email: a.email.clone(),
        first_name: a.first_name.clone(),
        roles: a.roles.iter().map(|r| r.code().to_owned()).collect(),
        schools: a.schools.iter().map(|s| s.get()).collect(),
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct QueueFilter {
    /// Only this school's children.
    #[param(minimum = 1)]
    school: Option<i64>,
    /// Only this school year (`2026-2027`).
    #[param(pattern = r"^\d{4}-\d{4}$")]
    school_year: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PendingOut {
    id: i64,
    child_id: i64,
    child_name: String,
    birth_date: NaiveDate,
    class_level: String,
    school_id: i64,
    school_name: String,
    school_year: String,
    weekdays: Vec<String>,
    requested_at: DateTime<Utc>,
    household_id: i64,
    /// Each guardian's name, address and phone, as one line.
    guardians: Vec<String>,
}

/// The enrollments waiting for a decision, oldest first.
#[utoipa::path(get, path = "/api/v1/staff/enrollments", operation_id = "listPendingEnrollments",
    tag = "staff", params(QueueFilter), security(("session" = [])),
    responses((status = 200, body = [PendingOut])))]
pub async fn list_pending_enrollments(
    State(state): State<AppState>,
    _staff: Staff,
    Query(filter): Query<QueueFilter>,
) -> Result<Json<Vec<PendingOut>>> {
    let year = filter
        .school_year
        .as_deref()
        .map(|y| year_or_current(&state, Some(y)))
        .transpose()?;
    let school = positive("school", filter.school)?.map(SchoolId);
    let pending = enrollments::pending(&state.pool, school, year).await?;
    Ok(Json(
        pending
            .into_iter()
            .map(|p| PendingOut {
                id: p.id.get(),
                child_id: p.child.get(),
                child_name: p.child_name,
                birth_date: p.birth_date,
                class_level: p.class_level,
                school_id: p.school.get(),
                school_name: p.school_name,
                school_year: p.year,
                weekdays: p
                    .weekdays
                    .iter()
                    .map(|d| weekday_code(d).to_owned())
                    .collect(),
                requested_at: p.requested_at,
                household_id: p.household.get(),
                guardians: p.guardians,
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    Validate,
    Reject,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecideEnrollment {
    decision: DecisionKind,
    /// Required to reject (500 characters at most): the family reads it.
    #[serde(default)]
    #[schema(max_length = 500)]
    reason: Option<String>,
}

/// Validates (which books the usual weekdays from today on) or rejects with a reason; the
/// family is mailed either way.
#[utoipa::path(post, path = "/api/v1/staff/enrollments/{enrollment_id}/decision",
    operation_id = "decideEnrollment", tag = "staff",
    params(("enrollment_id" = i64, Path, minimum = 1)), request_body = DecideEnrollment,
    security(("session" = [], "csrf" = [])),
    responses((status = 204, description = "Decided; the family is mailed"),
        (status = 409, body = Problem, description = "`invalid_transition`: already decided; `rejection_reason_required`")))]
pub async fn decide_enrollment(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Json(body): Json<DecideEnrollment>,
) -> Result<StatusCode> {
    let decision = match body.decision {
        DecisionKind::Validate => Decision::Validate,
        DecisionKind::Reject => Decision::Reject(body.reason.unwrap_or_default()),
    };
    staff.decide(&state, EnrollmentId(id), decision).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct Search {
    /// A guardian's or child's name, an e-mail address or a phone number, or part of one
    /// (2 to 100 characters; accents and case are ignored).
    q: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FoundOut {
    id: i64,
    guardians: Vec<String>,
    children: Vec<String>,
}

/// Households by guardian or child name, e-mail or phone (50 at most). A `school_staff`
/// member finds only households with a child in their schools.
#[utoipa::path(get, path = "/api/v1/staff/households", operation_id = "searchHouseholds",
    tag = "staff", params(Search), security(("session" = [])),
    responses((status = 200, body = [FoundOut]),
        (status = 422, body = Problem, description = "`validation`: fewer than 2 characters, or over 100")))]
pub async fn search_households(
    State(state): State<AppState>,
    staff: Staff,
    Query(search): Query<Search>,
) -> Result<Json<Vec<FoundOut>>> {
    let found = households::search(&state.pool, &staff.scope(), &search.q).await?;
    Ok(Json(
        found
            .into_iter()
            .map(|f| FoundOut {
                id: f.id.get(),
                guardians: f.guardians,
                children: f.children,
            })
            .collect(),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GuardianOut {
    id: i64,
    first_name: String,
    last_name: String,
    /// Null for a family met at the counter without an address.
    email: Option<String>,
    phone: String,
    postal_address: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuotientOut {
    amount_euros: i32,
    applies_from: NaiveDate,
    document: String,
    recorded_by: Option<String>,
    recorded_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HouseholdOut {
    id: i64,
    guardians: Vec<GuardianOut>,
    /// This school year's enrollment of each child. Allergies and PAI are blank (and
    /// `health_data_shown` false) for roles that do not serve meals.
    children: Vec<ChildOut>,
    /// Newest first: the value applying on a day is the newest whose `applies_from` is on or
    /// before it.
    quotient_familial: Vec<QuotientOut>,
    health_data_shown: bool,
}

/// A household: guardians, children (with diet, allergies and PAI for the roles that serve
/// meals: each such read is audited), enrollments and the quotient familial's history.
#[utoipa::path(get, path = "/api/v1/staff/households/{household_id}", operation_id = "getHousehold",
    tag = "staff", params(("household_id" = i64, Path, minimum = 1)), security(("session" = [])),
    responses((status = 200, body = HouseholdOut)))]
pub async fn get_household(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> Result<Json<HouseholdOut>> {
    let year = state.rules().current_year()?;
    let view = households::household_view(
        &state.pool,
        &Viewer {
            actor: &staff.actor,
            roles: staff.session.account.roles,
            scope: staff.scope(),
        },
        HouseholdId(id),
        year,
    )
    .await?;
    Ok(Json(HouseholdOut {
        id: view.id.get(),
        guardians: view
            .guardians
            .into_iter()
            .map(|g| GuardianOut {
                id: g.id.get(),
                first_name: g.first_name,
                last_name: g.last_name,
                email: g.email,
                phone: g.phone,
                postal_address: g.postal_address,
            })
            .collect(),
        children: view.children.into_iter().map(Into::into).collect(),
        quotient_familial: view
            .quotient_familial
            .into_iter()
            .map(|q| QuotientOut {
                amount_euros: q.amount_euros,
                applies_from: q.applies_from,
                document: q.document,
                recorded_by: q.recorded_by,
                recorded_at: q.recorded_at,
            })
            .collect(),
        health_data_shown: view.health_data_shown,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetQuotient {
    /// In euros, as the CAF states it (0 to 100,000).
    #[schema(minimum = 0, maximum = 100000)]
    amount_euros: i32,
    /// The day it applies from; earlier days keep the earlier value.
    applies_from: NaiveDate,
    /// The document seen (e.g. "Attestation CAF de novembre 2026"), 200 characters at most.
    #[schema(min_length = 1, max_length = 200)]
    document: String,
}

/// Records a new quotient familial; the history keeps every earlier value.
#[utoipa::path(post, path = "/api/v1/staff/households/{household_id}/quotient-familial",
    operation_id = "setQuotientFamilial", tag = "staff",
    params(("household_id" = i64, Path, minimum = 1)), request_body = SetQuotient,
    security(("session" = [], "csrf" = [])),
    responses((status = 204, description = "Recorded")))]
pub async fn set_quotient_familial(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Json(body): Json<SetQuotient>,
) -> Result<StatusCode> {
    households::set_quotient_familial(
        &state.pool,
        &staff.actor,
        HouseholdId(id),
        NewQuotient {
            amount_euros: body.amount_euros,
            applies_from: body.applies_from,
            document: body.document,
        },
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateHousehold {
    #[schema(schema_with = name_schema)]
    first_name: String,
    #[schema(schema_with = name_schema)]
    last_name: String,
    /// Optional: a family met at the counter may have none (its letters are printed).
    #[serde(default)]
    #[schema(schema_with = optional_email_schema)]
    email: Option<String>,
    #[serde(default)]
    #[schema(schema_with = phone_schema)]
    phone: String,
    /// For printed letters; 300 characters at most.
    #[serde(default)]
    #[schema(max_length = 300)]
    postal_address: String,
}

/// Counter mode: creates a household with its first guardian, who may have no e-mail address.
#[utoipa::path(post, path = "/api/v1/staff/households", operation_id = "createHousehold",
    tag = "staff", request_body = CreateHousehold, security(("session" = [], "csrf" = [])),
    responses((status = 201, body = Created),
        (status = 409, body = Problem, description = "`email_taken`")))]
pub async fn create_household(
    State(state): State<AppState>,
    staff: Staff,
    Json(body): Json<CreateHousehold>,
) -> Result<Response> {
    let id = households::create_at_counter(
        &state.pool,
        &staff.actor,
        NewGuardian {
            first_name: body.first_name,
            last_name: body.last_name,
            email: body.email,
            phone: body.phone,
            postal_address: body.postal_address,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(Created { id: id.get() })).into_response())
}

/// Counter mode: adds a child to a household.
#[utoipa::path(post, path = "/api/v1/staff/households/{household_id}/children",
    operation_id = "addChildAtCounter", tag = "staff",
    params(("household_id" = i64, Path, minimum = 1)), request_body = CreateChild,
    security(("session" = [], "csrf" = [])),
    responses((status = 201, body = Created)))]
pub async fn add_child(
    State(state): State<AppState>,
    staff: Staff,
    Path(household): Path<i64>,
    Json(body): Json<CreateChild>,
) -> Result<Response> {
    let id = households::add_child_at_counter(
        &state.pool,
        &staff.actor,
        HouseholdId(household),
        state.rules().today(),
        body.into(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(Created { id: id.get() })).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CounterEnrollment {
    /// The weekdays the child usually eats, among those the school serves.
    #[schema(schema_with = weekdays_schema, example = json!(["mon", "tue", "thu", "fri"]))]
    weekdays: WeekdaySet,
    /// Defaults to the current school year.
    #[serde(default)]
    #[schema(value_type = Option<String>, pattern = r"^\d{4}-\d{4}$", example = "2026-2027")]
    school_year: Option<String>,
    /// Validate at once (the manager decides at the counter): the usual days are booked.
    #[serde(default)]
    validate: bool,
}

/// Counter mode: requests a child's enrollment for the family, and validates it if asked.
#[utoipa::path(post, path = "/api/v1/staff/households/{household_id}/children/{child_id}/enrollment",
    operation_id = "enrollAtCounter", tag = "staff",
    params(("household_id" = i64, Path, minimum = 1), ("child_id" = i64, Path, minimum = 1)),
    request_body = CounterEnrollment, security(("session" = [], "csrf" = [])),
    responses((status = 201, body = Created),
        (status = 409, body = Problem, description = "`already_enrolled`")))]
pub async fn enroll_at_counter(
    State(state): State<AppState>,
    staff: Staff,
    Path((household, child)): Path<(i64, i64)>,
    Json(body): Json<CounterEnrollment>,
) -> Result<Response> {
    let year = year_or_current(&state, body.school_year.as_deref())?;
    let id = staff
        .enroll_at_counter(
            &state,
            (HouseholdId(household), ChildId(child)),
            year,
            body.weekdays,
            body.validate,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(Created { id: id.get() })).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CounterDay {
    booked: bool,
    /// Why the manager changes the day for the family (the family reads it in its history);
    /// 1 to 300 characters.
    #[schema(min_length = 1, max_length = 300)]
    reason: String,
}

/// Counter mode: books or cancels a day for the family, even after the deadline (a manager's
/// override, with its reason).
#[utoipa::path(post, path = "/api/v1/staff/households/{household_id}/children/{child_id}/reservations/{date}",
    operation_id = "setDayAtCounter", tag = "staff",
    params(("household_id" = i64, Path, minimum = 1), ("child_id" = i64, Path, minimum = 1),
        ("date" = NaiveDate, Path)),
    request_body = CounterDay, security(("session" = [], "csrf" = [])),
    responses((status = 200, body = DayChanged),
        (status = 409, body = Problem, description = "`not_enrolled`"),
        (status = 422, body = Problem, description = "`not_a_service_day`")))]
pub async fn set_day_at_counter(
    State(state): State<AppState>,
    staff: Staff,
    Path((household, child, date)): Path<(i64, i64, NaiveDate)>,
    Json(body): Json<CounterDay>,
) -> Result<Json<DayChanged>> {
    let changed = reservations::set_day_at_counter(
        &state.pool,
        &state.rules(),
        &staff.actor,
        HouseholdId(household),
        ChildId(child),
        date,
        body.booked,
        &body.reason,
    )
    .await?;
    Ok(Json(DayChanged {
        date,
        booked: body.booked,
        changed,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseDays {
    /// The schools to close; null or absent for every school of the commune.
    #[serde(default)]
    schools: Option<Vec<i64>>,
    from: NaiveDate,
    /// Included; less than a year after `from`.
    to: NaiveDate,
    /// Strike, works, outing… (the families read it); 1 to 300 characters.
    #[schema(min_length = 1, max_length = 300)]
    reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClosedOut {
    bookings_cancelled: usize,
    families_mailed: usize,
}

/// Closes schools on days: every booking there is cancelled (with its history event) and each
/// family concerned gets one mail listing its children and days.
#[utoipa::path(post, path = "/api/v1/staff/closures", operation_id = "closeDays", tag = "staff",
    request_body = CloseDays, security(("session" = [], "csrf" = [])),
    responses((status = 200, body = ClosedOut)))]
pub async fn close_days(
    State(state): State<AppState>,
    staff: Staff,
    Json(body): Json<CloseDays>,
) -> Result<Json<ClosedOut>> {
    let closed = closures::close_days(
        &state.pool,
        &state.mailer,
        state.links.as_ref(),
        &staff.actor,
        Closing {
            schools: body.schools.map(|s| s.into_iter().map(SchoolId).collect()),
            from: body.from,
            to: body.to,
            reason: body.reason,
        },
    )
    .await?;
    Ok(Json(ClosedOut {
        bookings_cancelled: closed.bookings_cancelled,
        families_mailed: closed.families_mailed,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReopenDays {
    /// Null or absent: every school (commune-wide closures included).
    #[serde(default)]
    schools: Option<Vec<i64>>,
    from: NaiveDate,
    to: NaiveDate,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReopenedOut {
    /// Closure records cut back or removed.
    closures_changed: usize,
}

/// Reopens closed days. Nothing is booked again: families book the days they want.
#[utoipa::path(post, path = "/api/v1/staff/closures/reopening", operation_id = "reopenDays",
    tag = "staff", request_body = ReopenDays, security(("session" = [], "csrf" = [])),
    responses((status = 200, body = ReopenedOut)))]
pub async fn reopen_days(
    State(state): State<AppState>,
    staff: Staff,
    Json(body): Json<ReopenDays>,
) -> Result<Json<ReopenedOut>> {
    let changed = closures::reopen_days(
        &state.pool,
        &staff.actor,
        body.schools.map(|s| s.into_iter().map(SchoolId).collect()),
        body.from,
        body.to,
    )
    .await?;
    Ok(Json(ReopenedOut {
        closures_changed: changed,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateStaffAccount {
    #[schema(schema_with = email_schema)]
    email: String,
    #[schema(schema_with = name_schema)]
    first_name: String,
    #[schema(schema_with = name_schema)]
    last_name: String,
    /// One or more of `school_staff`, `kitchen`, `manager`, `finance`, `admin`.
    #[schema(schema_with = roles_schema)]
    roles: Vec<String>,
    /// The schools of a `school_staff` member (required for that role, refused for the others).
    #[serde(default)]
    schools: Vec<i64>,
}

/// Creates a staff account; the member is mailed a single-use link to set a password, and
/// enrols a second factor at first login.
#[utoipa::path(post, path = "/api/v1/staff/accounts", operation_id = "createStaffAccount",
    tag = "staff", request_body = CreateStaffAccount, security(("session" = [], "csrf" = [])),
    responses((status = 201, body = Created),
        (status = 409, body = Problem, description = "`email_taken`")))]
pub async fn create_staff_account(
    State(state): State<AppState>,
    staff: Staff,
    Json(body): Json<CreateStaffAccount>,
) -> Result<Response> {
    let created = staff::create_member(
        &state.pool,
        &state.mailer,
        state.links.as_ref(),
        Some(&staff.actor),
        NewMember {
            email: body.email,
            first_name: body.first_name,
            last_name: body.last_name,
            roles: body.roles,
            schools: body.schools.into_iter().map(SchoolId).collect(),
        },
        state.clock.now(),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(Created {
            id: created.id.get(),
        }),
    )
        .into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetStaffRoles {
    #[schema(schema_with = roles_schema)]
    roles: Vec<String>,
    /// The schools of a `school_staff` member (required for that role, refused for the others).
    #[serde(default)]
    schools: Vec<i64>,
}

/// Replaces a member's roles (and schools); their sessions close so the change applies at once.
#[utoipa::path(put, path = "/api/v1/staff/accounts/{account_id}/roles", operation_id = "setStaffRoles",
    tag = "staff", params(("account_id" = i64, Path, minimum = 1)), request_body = SetStaffRoles,
    security(("session" = [], "csrf" = [])),
    responses((status = 204, description = "Changed")))]
pub async fn set_staff_roles(
    State(state): State<AppState>,
    staff: Staff,
    Path(account): Path<i64>,
    Json(body): Json<SetStaffRoles>,
) -> Result<StatusCode> {
    staff::set_roles(
        &state.pool,
        &staff.actor,
        AccountId(account),
        body.roles,
        body.schools.into_iter().map(SchoolId).collect(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Resets a member's second factor (a lost phone): their sessions close and they enrol again
/// at next login.
#[utoipa::path(delete, path = "/api/v1/staff/accounts/{account_id}/second-factor",
    operation_id = "resetSecondFactor", tag = "staff",
    params(("account_id" = i64, Path, minimum = 1)), security(("session" = [], "csrf" = [])),
    responses((status = 204, description = "Reset")))]
pub async fn reset_second_factor(
    State(state): State<AppState>,
    staff: Staff,
    Path(account): Path<i64>,
) -> Result<StatusCode> {
    crate::accounts::reset_second_factor(&state.pool, &staff.actor, AccountId(account)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditFilter {
    /// Entries at or after this instant.
    from: Option<DateTime<Utc>>,
    /// Entries before this instant.
    to: Option<DateTime<Utc>>,
    /// Part of the acting member's e-mail address.
    actor: Option<String>,
    /// One action code, e.g. `health_data_read`.
    #[param(schema_with = action_schema)]
    action: Option<String>,
    #[param(minimum = 1)]
    household: Option<i64>,
    #[param(minimum = 1)]
    child: Option<i64>,
    /// Entries older than this id: the next page.
    #[param(minimum = 1)]
    before: Option<i64>,
    /// 1 to 10,000; 100 by default.
    #[param(minimum = 1, maximum = 10000)]
    limit: Option<i64>,
    /// `json` (default) or `csv`.
    #[param(schema_with = format_schema)]
    format: Option<String>,
}

fn action_schema() -> utoipa::openapi::Schema {
    code_schema(audit::Action::ALL.map(audit::Action::code), None)
}

fn format_schema() -> utoipa::openapi::Schema {
    code_schema(["json", "csv"], Some("json"))
}

/// Distinct role codes, one at least.
fn roles_schema() -> utoipa::openapi::Schema {
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(utoipa::openapi::RefOr::T(code_schema(
            Role::ALL.map(Role::code),
            None,
        )))
        .min_items(Some(1))
        .max_items(Some(Role::ALL.len()))
        .unique_items(true)
        .into()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditOut {
    id: i64,
    at: DateTime<Utc>,
    actor_account_id: Option<i64>,
    actor_email: Option<String>,
    action: String,
    household_id: Option<i64>,
    child_id: Option<i64>,
    client_ip: Option<String>,
    detail: serde_json::Value,
}

/// An id given in a query string: 1 or more, as the file says.
fn positive(name: &str, id: Option<i64>) -> Result<Option<i64>> {
    match id {
        Some(id) if id < 1 => Err(Error::Invalid(Invalid::Request(format!(
            "{name}: 1 or more"
        )))),
        other => Ok(other),
    }
}

pub(super) fn audit_filter(
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    actor: Option<String>,
    action: Option<String>,
    (household, child): (Option<i64>, Option<i64>),
    (before, limit): (Option<i64>, Option<i64>),
) -> Result<audit::Filter> {
    let limit = limit.unwrap_or(100);
    if !(1..=10_000).contains(&limit) {
        return Err(Error::Invalid(Invalid::Request("limit: 1 to 10000".into())));
    }
    if let Some(code) = &action
        && audit::Action::from_code(code).is_none()
    {
        return Err(Error::Invalid(Invalid::Request(format!(
            "action: unknown `{code}`"
        ))));
    }
    Ok(audit::Filter {
        from,
        to,
        actor: actor.filter(|a| !a.trim().is_empty()),
        action,
        household: positive("household", household)?,
        child: positive("child", child)?,
        before: positive("before", before)?,
        limit,
    })
}

/// The audit log, newest first, filtered; as JSON, or as a CSV file with `format=csv`.
#[utoipa::path(get, path = "/api/v1/staff/audit", operation_id = "auditLog", tag = "staff",
    params(AuditFilter), security(("session" = [])),
    responses((status = 200, body = [AuditOut],
        content((Vec<AuditOut> = "application/json"), (String = "text/csv")))))]
pub async fn audit_log(
    State(state): State<AppState>,
    _staff: Staff,
    Query(f): Query<AuditFilter>,
) -> Result<Response> {
    let csv = match f.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => {
            return Err(Error::Invalid(Invalid::Request(format!(
                "format: `json` or `csv`, not `{other}`"
            ))));
        }
    };
    let filter = audit_filter(
        f.from,
        f.to,
        f.actor,
        f.action,
        (f.household, f.child),
        (f.before, f.limit),
    )?;
    let rows = audit::list(&state.pool, &filter).await?;
    if csv {
        return Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"journal-audit.csv\"",
                ),
            ],
            audit::to_csv(&rows),
        )
            .into_response());
    }
    Ok(Json(
        rows.into_iter()
            .map(|r| AuditOut {
                id: r.id,
                at: r.at,
                actor_account_id: r.actor_account_id,
                actor_email: r.actor_email,
                action: r.action,
                household_id: r.household_id,
                child_id: r.child_id,
                client_ip: r.client_ip,
                detail: r.detail,
            })
            .collect::<Vec<_>>(),
    )
    .into_response())
}
