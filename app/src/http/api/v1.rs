//! The JSON API under `/api/v1`, for the family portal. Every route answers problems in
//! `application/problem+json` with a stable `code`; every child route is scoped to the caller's
//! household.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum_extra::extract::cookie::CookieJar;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::{KnownFormat, RefOr, SchemaFormat};
use utoipa::{IntoParams, ToSchema};

use cantine_domain::booking::{DayView, PatternRequest};
use cantine_domain::calendar::SchoolYearLabel;
use cantine_domain::child::{ClassLevel, Diet};
use cantine_domain::custody::Side;
use cantine_domain::ids::{ChildId, SchoolId};
use cantine_domain::menu::Allergen;
use cantine_domain::weekdays::{WeekdaySet, weekday_code};

use crate::accounts::{self, NewAccount};
use crate::billing;
use crate::custody;
use crate::enrollments;
use crate::error::{Error, Invalid, Result};
use crate::households::{self, NewChild};
use crate::http::AppState;
use crate::http::auth::{self, Session};
use crate::http::error::{Json, Path, Problem, Query};
use crate::http::fr;
use crate::reservations::{self, PatternResult};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/accounts", post(create_account))
        .route("/api/v1/accounts/confirmation", post(confirm_email))
        .route("/api/v1/session", post(login).delete(logout))
        .route("/api/v1/household/invitations", post(invite_guardian))
        .route("/api/v1/schools", get(list_schools))
        .route("/api/v1/children", get(list_children).post(create_child))
        .route("/api/v1/children/{child_id}", get(get_child))
        .route(
            "/api/v1/children/{child_id}/enrollment",
            post(request_enrollment),
        )
        .route(
            "/api/v1/children/{child_id}/reservations",
            get(list_reservations),
        )
        .route(
            "/api/v1/children/{child_id}/history",
            get(list_reservation_history),
        )
        .route(
            "/api/v1/children/{child_id}/reservations/{date}",
            put(book_meal).delete(cancel_meal),
        )
        .route("/api/v1/reservations/pattern", post(set_pattern))
}

// The request schemas carry the constraints the server enforces, so that a request valid for
// the OpenAPI file is not refused for its shape. Those that depend on stored data (an unknown
// school, a year not open yet, a weekday the school does not serve) are documented as 422.

/// The characters `str::trim` removes (Unicode `White_Space`), as the body of a regex class.
pub(crate) const TRIMMED: &str =
    r"\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000";

pub(crate) fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

/// Stored text: PostgreSQL cannot hold U+0000 (answered 422).
pub(crate) fn text_schema(max_length: usize, description: &str) -> Schema {
    string()
        .max_length(Some(max_length))
        .pattern(Some(r"^[^\u0000]*$"))
        .description(Some(description))
        .into()
}

pub(crate) fn phone_schema() -> Schema {
    text_schema(30, "Trimmed; 30 characters at most.")
}

pub(crate) fn allergies_schema() -> Schema {
    text_schema(1000, "1000 characters at most.")
}

/// A person's name: trimmed, then 1 to 100 characters (`accounts::sign_up`,
/// `households::create_child`).
pub(crate) fn name_schema() -> Schema {
    string()
        .min_length(Some(1))
        .max_length(Some(100))
        .pattern(Some(format!("^[^\\u0000]*[^{TRIMMED}\\u0000][^\\u0000]*$")))
        .description(Some(
            "Trimmed; at least one character that is not a space, 100 at most; no U+0000.",
        ))
        .into()
}

/// What `accounts::normalize_email` accepts: trimmed, `local@domain`, no space, a dot inside
/// the domain.
pub(crate) fn email_schema() -> Schema {
    email(string()).into()
}

/// [`email_schema`], or `null`.
pub(crate) fn optional_email_schema() -> Schema {
    use utoipa::openapi::schema::SchemaType;
    email(ObjectBuilder::new().schema_type(SchemaType::from_iter([Type::String, Type::Null])))
        .into()
}

fn email(builder: ObjectBuilder) -> ObjectBuilder {
    let s = TRIMMED;
    builder
        .max_length(Some(254))
        .pattern(Some(format!(
            "^[{s}]*[^@{s}\\u0000]+@[^@.{s}\\u0000][^@{s}\\u0000]*\\.[^@{s}\\u0000]*[^@.{s}\\u0000][{s}]*$"
        )))
        .description(Some(
            "Trimmed and lowercased; 254 bytes at most in UTF-8.",
        ))
        .examples(["parent@example.fr"])
}

pub(crate) fn code_schema<'a>(
    codes: impl IntoIterator<Item = &'a str>,
    default: Option<&str>,
) -> Schema {
    string()
        .enum_values(Some(codes))
        .default(default.map(Into::into))
        .into()
}

/// The codes of the 14 allergens (a repeat is ignored, so no length limit).
pub(crate) fn allergens_schema() -> Schema {
    ArrayBuilder::new()
        .items(RefOr::T(code_schema(
            Allergen::ALL.iter().map(|a| a.code()),
            None,
        )))
        .description(Some(
            "Codes of the 14 allergens; a repeated code counts once.",
        ))
        .into()
}

pub(crate) fn class_level_schema() -> Schema {
    code_schema(ClassLevel::ALL.map(ClassLevel::code), None)
}

pub(crate) fn diet_schema() -> Schema {
    code_schema(Diet::ALL.map(Diet::code), Some(Diet::default().code()))
}

/// A set of weekdays on the wire: distinct names, Monday first or not (`WeekdaySet`).
pub(crate) fn weekdays_schema() -> Schema {
    use chrono::Weekday::{Fri, Mon, Sat, Sun, Thu, Tue, Wed};
    ArrayBuilder::new()
        .items(RefOr::T(code_schema(
            [Mon, Tue, Wed, Thu, Fri, Sat, Sun].map(weekday_code),
            None,
        )))
        .max_items(Some(7))
        .unique_items(true)
        .into()
}

/// The ids a family sends are those the server gave: 1 or more.
pub(crate) fn id_schema() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .minimum(Some(1))
}

pub(crate) fn children_schema() -> Schema {
    ArrayBuilder::new()
        .items(RefOr::T(id_schema().into()))
        .min_items(Some(1))
        .max_items(Some(10))
        .into()
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAccount {
    #[schema(schema_with = email_schema)]
    email: String,
    /// 10 to 128 characters.
    #[schema(min_length = 10, max_length = 128)]
    password: String,
    #[schema(schema_with = name_schema)]
    first_name: String,
    #[schema(schema_with = name_schema)]
    last_name: String,
    #[serde(default)]
    #[schema(schema_with = phone_schema)]
    phone: String,
    /// Token of a guardian invitation, to join that household.
    #[serde(default)]
    invitation: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    pub(crate) id: i64,
}

/// Creates a parent account and mails a confirmation link.
#[utoipa::path(post, path = "/api/v1/accounts", operation_id = "createAccount", tag = "accounts",
    request_body = CreateAccount,
    responses((status = 201, body = Created),
        (status = 409, body = Problem, description = "`email_taken`, `invalid_token`, `invitation_mismatch`"),
        (status = 429, body = Problem, description = "`too_many_requests`: 20 sign-ups an hour from one address")))]
pub async fn create_account(
    State(state): State<AppState>,
    peer: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Json(body): Json<CreateAccount>,
) -> Result<Response> {
    let ip = auth::client_ip(&headers, peer);
    let id = accounts::sign_up(
        &state.accounts(),
        &ip,
        NewAccount {
            email: body.email,
            password: body.password,
            first_name: body.first_name,
            last_name: body.last_name,
            phone: body.phone,
            invitation: body.invitation,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(Created { id: id.get() })).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Token {
    token: String,
}

/// Confirms an e-mail address with the token of the mailed link (single use, expires).
#[utoipa::path(post, path = "/api/v1/accounts/confirmation", operation_id = "confirmEmail",
    tag = "accounts", request_body = Token,
    responses((status = 204, description = "Confirmed"),
        (status = 409, body = Problem, description = "`invalid_token`: unknown, used or expired")))]
pub async fn confirm_email(
    State(state): State<AppState>,
    Json(body): Json<Token>,
) -> Result<StatusCode> {
    accounts::confirm_email(&state.pool, &body.token, state.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Login {
    email: String,
    password: String,
    /// Staff only: the six digits of the authenticator app, or a recovery code.
    #[serde(default)]
    totp: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoggedIn {
    /// Send it back as `X-CSRF-Token` on unsafe requests made without an `Origin` header.
    csrf_token: String,
    first_name: String,
    /// True for a staff member's first login: the session may only enrol the second factor
    /// (the `/gestion/double-authentification` page) until then.
    second_factor_enrolment_required: bool,
}

/// Opens a session: sets the session cookie.
#[utoipa::path(post, path = "/api/v1/session", operation_id = "login", tag = "accounts",
    request_body = Login,
    responses((status = 200, body = LoggedIn),
        (status = 403, body = Problem, description = "`email_not_confirmed`, `csrf`; `second_factor_required`: a staff member sent no `totp`"),
        (status = 422, body = Problem, description = "`invalid_credentials`, `invalid_second_factor`, `validation`"),
        (status = 429, body = Problem, description = "`too_many_requests`: 10 attempts per address, 50 per client, in 15 minutes")))]
pub async fn login(
    State(state): State<AppState>,
    peer: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
    Json(body): Json<Login>,
) -> Result<Response> {
    let login = accounts::Login {
        email: &body.email,
        password: &body.password,
        second_factor: body.totp.as_deref(),
    };
    let (jar, session) = auth::log_in(&state, &headers, peer, jar, login).await?;
    Ok((
        jar,
        Json(LoggedIn {
            csrf_token: session.csrf_token,
            first_name: session.first_name,
            second_factor_enrolment_required: session.stage == accounts::Stage::EnrolSecondFactor,
        }),
    )
        .into_response())
}

/// Closes the session.
#[utoipa::path(delete, path = "/api/v1/session", operation_id = "logout", tag = "accounts",
    security(("session" = [], "csrf" = [])),
    responses((status = 204, description = "Closed; the cookie is removed")))]
pub async fn logout(
    State(state): State<AppState>,
    session: Session,
    jar: CookieJar,
) -> Result<Response> {
    accounts::close_session(&state.pool, &session.token).await?;
    Ok((
        jar.add(auth::removal_cookie(&state)),
        StatusCode::NO_CONTENT,
    )
        .into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Invitation {
    #[schema(schema_with = email_schema)]
    email: String,
}

/// Invites another guardian to the household by e-mail.
#[utoipa::path(post, path = "/api/v1/household/invitations", operation_id = "inviteGuardian",
    tag = "accounts", request_body = Invitation, security(("session" = [], "csrf" = [])),
    responses((status = 202, description = "The invitation is mailed"),
        (status = 429, body = Problem, description = "`too_many_requests`: 10 invitations an hour")))]
pub async fn invite_guardian(
    State(state): State<AppState>,
    session: Session,
    Json(body): Json<Invitation>,
) -> Result<StatusCode> {
    accounts::invite_guardian(&state.accounts(), &session.account, &body.email).await?;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SchoolOut {
    id: i64,
    name: String,
    address: String,
    /// ISO weekday numbers (1 = Monday) on which the canteen serves.
    service_weekdays: Vec<i16>,
}

/// The commune's schools.
#[utoipa::path(get, path = "/api/v1/schools", operation_id = "listSchools", tag = "family",
    responses((status = 200, body = [SchoolOut])))]
pub async fn list_schools(State(state): State<AppState>) -> Result<Json<Vec<SchoolOut>>> {
    Ok(Json(
        households::schools(&state.pool)
            .await?
            .into_iter()
            .map(|s| SchoolOut {
                id: s.id.get(),
                name: s.name,
                address: s.address,
                service_weekdays: crate::platform::sql::weekdays_to_sql(s.service_weekdays),
            })
            .collect(),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChildOut {
    id: i64,
    first_name: String,
    last_name: String,
    birth_date: NaiveDate,
    school_id: i64,
    school_name: String,
    class_level: String,
    diet: String,
    /// Free-text details of the allergies.
    allergies: String,
    /// The allergens among the 14 of Annex II (codes, `Allergen` order).
    #[schema(schema_with = allergens_schema)]
    allergens: Vec<String>,
    pai: bool,
    /// This school year's enrollment: `pending`, `validated`, `rejected`, `cancelled`, or null.
    enrollment_status: Option<String>,
    enrollment_reason: Option<String>,
    /// Under a shared custody, which household this is for the child: `first` (the child's
    /// own, which keeps its record and enrollment) or `second` (which sees the child and books
    /// its own days); null when the child is not shared.
    #[schema(value_type = Option<String>, pattern = "^(first|second)$")]
    shared_custody: Option<&'static str>,
}

impl From<households::Child> for ChildOut {
    fn from(c: households::Child) -> Self {
        let (enrollment_status, enrollment_reason) = match c.enrollment {
            Some(e) => {
                let reason = match &e.status {
                    cantine_domain::enrollment::EnrollmentStatus::Rejected { reason } => {
                        Some(reason.clone())
                    }
                    _ => None,
                };
                (Some(e.status.code().to_owned()), reason)
            }
            None => (None, None),
        };
        Self {
            id: c.id.get(),
            first_name: c.first_name,
            last_name: c.last_name,
            birth_date: c.birth_date,
            school_id: c.school_id.get(),
            school_name: c.school_name,
            class_level: c.class_level.code().to_owned(),
            diet: c.diet.code().to_owned(),
            allergies: c.allergies,
            allergens: c.allergens.iter().map(|a| a.code().to_owned()).collect(),
            pai: c.pai,
            enrollment_status,
            enrollment_reason,
            shared_custody: c.custody.map(|side| match side {
                Side::First => "first",
                Side::Second => "second",
            }),
        }
    }
}

/// The household's children.
#[utoipa::path(get, path = "/api/v1/children", operation_id = "listChildren", tag = "family",
    security(("session" = [])), responses((status = 200, body = [ChildOut])))]
pub async fn list_children(
    State(state): State<AppState>,
    session: Session,
) -> Result<Json<Vec<ChildOut>>> {
    let year = state.rules().current_year()?;
    let children = households::children(&state.pool, session.household()?, year).await?;
    Ok(Json(children.into_iter().map(Into::into).collect()))
}

/// One child of the household.
#[utoipa::path(get, path = "/api/v1/children/{child_id}", operation_id = "getChild", tag = "family",
    params(("child_id" = i64, Path, minimum = 1)), security(("session" = [])),
    responses((status = 200, body = ChildOut)))]
pub async fn get_child(
    State(state): State<AppState>,
    session: Session,
    Path(child_id): Path<i64>,
) -> Result<Json<ChildOut>> {
    let year = state.rules().current_year()?;
    Ok(Json(
        households::child(&state.pool, session.household()?, ChildId(child_id), year)
            .await?
            .into(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateChild {
    #[schema(schema_with = name_schema)]
    first_name: String,
    #[schema(schema_with = name_schema)]
    last_name: String,
    /// In the past, for a child of 1 to 14 (by year of birth); otherwise 422.
    birth_date: NaiveDate,
    /// One of `listSchools`; another id is answered 422.
    #[schema(minimum = 1)]
    school_id: i64,
    /// PS, MS, GS, CP, CE1, CE2, CM1 or CM2.
    #[schema(schema_with = class_level_schema)]
    class_level: String,
    /// `standard`, `vegetarian` or `no_pork`.
    #[serde(default = "standard")]
    #[schema(schema_with = diet_schema)]
    diet: String,
    /// Free-text details (severity, traces…); the allergens themselves go in `allergens`.
    #[serde(default)]
    #[schema(schema_with = allergies_schema)]
    allergies: String,
    /// Allergen codes among the 14 (`peanuts`, `milk`…), each once.
    #[serde(default)]
    #[schema(schema_with = allergens_schema)]
    allergens: Vec<String>,
    /// Projet d'accueil individualisé: the child brings a packed meal.
    #[serde(default)]
    pai: bool,
}

pub(crate) fn standard() -> String {
    "standard".into()
}

impl From<CreateChild> for NewChild {
    fn from(body: CreateChild) -> Self {
        NewChild {
            first_name: body.first_name,
            last_name: body.last_name,
            birth_date: body.birth_date,
            school_id: SchoolId(body.school_id),
            class_level: body.class_level,
            diet: body.diet,
            allergies: body.allergies,
            allergens: body.allergens,
            pai: body.pai,
        }
    }
}

/// Adds a child to the household.
#[utoipa::path(post, path = "/api/v1/children", operation_id = "createChild", tag = "family",
    request_body = CreateChild, security(("session" = [], "csrf" = [])),
    responses((status = 201, body = ChildOut),
        (status = 422, body = Problem, description = "`validation`: also an unknown school or an impossible birth date")))]
pub async fn create_child(
    State(state): State<AppState>,
    session: Session,
    Json(body): Json<CreateChild>,
) -> Result<Response> {
    let household = session.household()?;
    let rules = state.rules();
    let id = households::create_child(&state.pool, household, rules.today(), body.into()).await?;
    let child: ChildOut = households::child(&state.pool, household, id, rules.current_year()?)
        .await?
        .into();
    Ok((StatusCode::CREATED, Json(child)).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestEnrollment {
    /// The weekdays the child usually eats, e.g. `["mon", "tue", "thu", "fri"]`, among those the
    /// school serves (otherwise 422); none for a child booked day by day.
    #[schema(schema_with = weekdays_schema, example = json!(["mon", "tue", "thu", "fri"]))]
    weekdays: WeekdaySet,
    /// Defaults to the current school year (the next one during the summer). Two consecutive
    /// years of a year open for enrollment; otherwise 422.
    #[serde(default)]
    #[schema(value_type = Option<String>, pattern = r"^\d{4}-\d{4}$", example = "2026-2027")]
    school_year: Option<String>,
}

/// Asks for the canteen for a child; it starts `pending` until a manager decides. Under a
/// shared custody only the child's own household asks (403 `forbidden` for the second).
#[utoipa::path(post, path = "/api/v1/children/{child_id}/enrollment", operation_id = "requestEnrollment",
    tag = "family", params(("child_id" = i64, Path, minimum = 1)), request_body = RequestEnrollment,
    security(("session" = [], "csrf" = [])),
    responses((status = 201, body = Created),
        (status = 409, body = Problem, description = "`already_enrolled`"),
        (status = 422, body = Problem, description = "`weekday_not_served`; `validation`: also a school year not open")))]
pub async fn request_enrollment(
    State(state): State<AppState>,
    session: Session,
    Path(child_id): Path<i64>,
    Json(body): Json<RequestEnrollment>,
) -> Result<Response> {
    let year = year_or_current(&state, body.school_year.as_deref())?;
    let id = enrollments::request_enrollment(
        &state.pool,
        session.household()?,
        session.account.account_id,
        ChildId(child_id),
        year,
        body.weekdays,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(Created { id: id.get() })).into_response())
}

/// The school year named, or the current one.
pub(crate) fn year_or_current(state: &AppState, text: Option<&str>) -> Result<SchoolYearLabel> {
    match text {
        Some(text) => text
            .parse::<SchoolYearLabel>()
            .map_err(|_| Error::Invalid(Invalid::SchoolYear)),
        None => Ok(state.rules().current_year()?),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct Range {
    /// First day (YYYY-MM-DD).
    from: NaiveDate,
    /// Last day, included (YYYY-MM-DD).
    to: NaiveDate,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DayOut {
    date: NaiveDate,
    booked: bool,
    /// True when the family can no longer change the day.
    locked: bool,
    /// When changes close, for service days.
    deadline: Option<DateTime<Utc>>,
    /// Why the day is not bookable: `school_holiday`, `public_holiday`, `closure`, …
    reason: Option<String>,
    /// The reason in French, for people.
    reason_label: Option<String>,
    /// Under a shared custody, a day the child spends with the other household: that household
    /// books it, and this one cannot change it (`locked` is true).
    other_household: bool,
    /// The meal's price for this household on a service day, in cents, at the tariff of the
    /// day; null on other days, on the other household's days, or when no tariff applies yet.
    meal_price_cents: Option<i64>,
    /// On a day whose deadline has passed and that is not booked: what a meal eaten anyway
    /// costs (the meal with the tariff's unbooked surcharge), in cents; null otherwise.
    walk_in_cents: Option<i64>,
}

impl DayOut {
    fn new(d: DayView, other_household: bool) -> Self {
        Self {
            meal_price_cents: None,
            walk_in_cents: None,
            date: d.date,
            booked: d.booked,
            locked: d.locked || other_household,
            deadline: d.deadline,
            reason: d.reason.as_ref().map(|r| r.code().to_owned()),
            reason_label: d.reason.as_ref().map(fr::not_bookable),
            other_household,
        }
    }
}

/// Each day of a range for one child: booked or not, locked or not, and why; under a shared
/// custody, whether the day is the other household's.
#[utoipa::path(get, path = "/api/v1/children/{child_id}/reservations", operation_id = "listReservations",
    tag = "reservations", params(("child_id" = i64, Path, minimum = 1), Range),
    security(("session" = [])),
    responses((status = 200, body = [DayOut]),
        (status = 422, body = Problem, description = "`validation`: also `from` after `to`, or a range of a year or more")))]
pub async fn list_reservations(
    State(state): State<AppState>,
    session: Session,
    Path(child_id): Path<i64>,
    Query(range): Query<Range>,
) -> Result<Json<Vec<DayOut>>> {
    let household = session.household()?;
    let child = ChildId(child_id);
    let days = reservations::list(
        &state.pool,
        &state.rules(),
        household,
        child,
        range.from,
        range.to,
    )
    .await?;
    let holding = custody::holding_of(&state.pool, household, child).await?;
    let prices = billing::meal_prices(&state.pool, household, child, range.from, range.to).await?;
    Ok(Json(
        days.into_iter()
            .map(|d| {
                let theirs = holding.as_ref().is_some_and(|h| !h.books(d.date));
                let price = prices.iter().find(|p| p.date == d.date);
                let service_day = d.reason.is_none() && !theirs;
                let walk_in = service_day && d.locked && !d.booked;
                let mut out = DayOut::new(d, theirs);
                if service_day && let Some(price) = price {
                    out.meal_price_cents = Some(price.meal.get());
                    out.walk_in_cents = walk_in.then_some(price.walk_in.get());
                }
                out
            })
            .collect(),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryOut {
    date: NaiveDate,
    booked: bool,
    /// `parent`, `pattern` (the family), `enrollment` (booked at validation), `staff` (the
    /// town hall, for the family), `closure` (cancelled by a closure).
    source: String,
    /// True for what the town hall did on the family's behalf.
    by_town_hall: bool,
    /// The town hall's reason, for `staff` and `closure`.
    reason: Option<String>,
    at: DateTime<Utc>,
}

/// The changes to one child's days over a range, oldest first: the family's, and those the
/// town hall made for it, with their reason.
#[utoipa::path(get, path = "/api/v1/children/{child_id}/history", operation_id = "listReservationHistory",
    tag = "reservations", params(("child_id" = i64, Path, minimum = 1), Range),
    security(("session" = [])),
    responses((status = 200, body = [HistoryOut]),
        (status = 422, body = Problem, description = "`validation`: also `from` after `to`, or a range of more than 400 days")))]
pub async fn list_reservation_history(
    State(state): State<AppState>,
    session: Session,
    Path(child_id): Path<i64>,
    Query(range): Query<Range>,
) -> Result<Json<Vec<HistoryOut>>> {
    let household = session.household()?;
    let child = ChildId(child_id);
    // A child of another household is "not found", not an empty history.
    households::child(&state.pool, household, child, state.rules().current_year()?).await?;
    let events = reservations::history(&state.pool, household, child, range.from, range.to).await?;
    Ok(Json(
        events
            .into_iter()
            .map(|e| HistoryOut {
                date: e.service_date,
                booked: e.new_booked,
                by_town_hall: e.by_town_hall(),
                source: e.source,
                reason: e.reason,
                at: e.created_at,
            })
            .collect(),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DayChanged {
    pub(crate) date: NaiveDate,
    pub(crate) booked: bool,
    /// False when the day was already in that state.
    pub(crate) changed: bool,
}

async fn set_day(
    state: &AppState,
    session: &Session,
    child_id: i64,
    date: NaiveDate,
    book: bool,
) -> Result<Json<DayChanged>> {
    let changed = reservations::set_day(
        &state.pool,
        &state.rules(),
        session.household()?,
        session.account.account_id,
        ChildId(child_id),
        date,
        book,
    )
    .await?;
    Ok(Json(DayChanged {
        date,
        booked: book,
        changed,
    }))
}

/// Books one meal, before the day's deadline.
#[utoipa::path(put, path = "/api/v1/children/{child_id}/reservations/{date}", operation_id = "bookMeal",
    tag = "reservations", params(("child_id" = i64, Path, minimum = 1), ("date" = NaiveDate, Path)),
    security(("session" = [], "csrf" = [])),
    responses((status = 200, body = DayChanged),
        (status = 409, body = Problem, description = "`deadline_passed`, `not_enrolled`; `other_households_day`: under a shared custody, the other household's day"),
        (status = 422, body = Problem, description = "`not_a_service_day`")))]
pub async fn book_meal(
    State(state): State<AppState>,
    session: Session,
    Path((child_id, date)): Path<(i64, NaiveDate)>,
) -> Result<Json<DayChanged>> {
    set_day(&state, &session, child_id, date, true).await
}

/// Cancels one meal, before the day's deadline.
#[utoipa::path(delete, path = "/api/v1/children/{child_id}/reservations/{date}", operation_id = "cancelMeal",
    tag = "reservations", params(("child_id" = i64, Path, minimum = 1), ("date" = NaiveDate, Path)),
    security(("session" = [], "csrf" = [])),
    responses((status = 200, body = DayChanged),
        (status = 409, body = Problem, description = "`deadline_passed`, `not_enrolled`; `other_households_day`: under a shared custody, the other household's day"),
        (status = 422, body = Problem, description = "`not_a_service_day`")))]
pub async fn cancel_meal(
    State(state): State<AppState>,
    session: Session,
    Path((child_id, date)): Path<(i64, NaiveDate)>,
) -> Result<Json<DayChanged>> {
    set_day(&state, &session, child_id, date, false).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPattern {
    /// One child, or several siblings at once (1 to 10; repeated ids count once).
    #[schema(schema_with = children_schema)]
    children: Vec<i64>,
    /// First day, in a school year; otherwise 422.
    from: NaiveDate,
    /// Last day, included: on or after `from`, less than a year later; otherwise 422.
    to: NaiveDate,
    /// Weekdays to book, among those the school serves (otherwise 422); the other service days
    /// of the range are cancelled.
    #[schema(schema_with = weekdays_schema, example = json!(["mon", "thu"]))]
    weekdays: WeekdaySet,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LockedOut {
    date: NaiveDate,
    wanted_booked: bool,
    deadline: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SkippedOut {
    date: NaiveDate,
    reason: String,
    reason_label: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PatternOut {
    child_id: i64,
    changed: Vec<DayChanged>,
    skipped_locked: Vec<LockedOut>,
    not_service_days: Vec<SkippedOut>,
    /// Under a shared custody, the days the pattern would have changed that are the other
    /// household's: left as they are.
    other_household_days: Vec<NaiveDate>,
}

pub(crate) fn pattern_out(result: PatternResult) -> PatternOut {
    let PatternResult {
        child,
        plan,
        other_household_days,
    } = result;
    PatternOut {
        child_id: child.get(),
        other_household_days,
        changed: plan
            .changes
            .into_iter()
            .map(|c| DayChanged {
                date: c.date,
                booked: c.booked,
                changed: true,
            })
            .collect(),
        skipped_locked: plan
            .locked
            .into_iter()
            .map(|l| LockedOut {
                date: l.date,
                wanted_booked: l.wanted_booked,
                deadline: l.deadline,
            })
            .collect(),
        not_service_days: plan
            .not_service_days
            .into_iter()
            .map(|n| SkippedOut {
                date: n.date,
                reason: n.reason.code().to_owned(),
                reason_label: fr::not_bookable(&n.reason),
            })
            .collect(),
    }
}

/// Applies a weekly pattern over a range to one or several children; days past their deadline
/// are skipped and listed, and so are, under a shared custody, the other household's days.
#[utoipa::path(post, path = "/api/v1/reservations/pattern", operation_id = "setPattern",
    tag = "reservations", request_body = SetPattern, security(("session" = [], "csrf" = [])),
    responses((status = 200, body = [PatternOut]),
        (status = 404, body = Problem, description = "`not_found`: a child not of the household"),
        (status = 409, body = Problem, description = "`not_enrolled`"),
        (status = 422, body = Problem, description = "`validation`: also a range outside a school year, reversed or of a year or more, or a weekday not served")))]
pub async fn set_pattern(
    State(state): State<AppState>,
    session: Session,
    Json(body): Json<SetPattern>,
) -> Result<Json<Vec<PatternOut>>> {
    let plans = reservations::set_pattern(
        &state.pool,
        &state.rules(),
        session.household()?,
        session.account.account_id,
        &body
            .children
            .iter()
            .copied()
            .map(ChildId)
            .collect::<Vec<_>>(),
        &PatternRequest {
            from: body.from,
            to: body.to,
            weekdays: body.weekdays,
        },
    )
    .await?;
    Ok(Json(plans.into_iter().map(pattern_out).collect()))
}
