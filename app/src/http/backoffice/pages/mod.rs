//! The back office's pages under `/gestion`, and the new member's password page. They mirror
//! the staff API (`api.rs`): each handler reads its form by hand, calls the same service with
//! the acting [`Staff`] member, and answers the way the family portal does (escaped askama
//! templates, the session's CSRF token in every form, Post/Redirect/Get, the form again with
//! the service's French message and a 4xx when refused).

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::Method;
use axum::response::Response;
use axum::routing::get;
use chrono::{Datelike, Days, Months, NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::Paris;
use serde::Deserialize;

use cantine_domain::calendar::NotBookable;
use cantine_domain::child::{ClassLevel, Diet};
use cantine_domain::enrollment::EnrollmentStatus;
use cantine_domain::ids::{AccountId, ChildId, EnrollmentId, HouseholdId, SchoolId};
use cantine_domain::roles::Role;

use super::{
    ADMIN, ANY_STAFF, Access, HOUSEHOLD_READERS, MANAGER, QUOTIENT_WRITERS, Staff, Table,
    api::audit_filter,
};
use crate::accounts::{self, MIN_PASSWORD_CHARS};
use crate::audit;
use crate::closures::{self, Closing};
use crate::enrollments::{self, Decision};
use crate::error::{Error, FormProblem, Invalid};
use crate::households::{self, NewChild, NewGuardian, NewQuotient, Viewer};
use crate::http::api::v1::year_or_current;
use crate::http::portal::widgets::{
    DayChoice, DayRow, enrollment_text, parse_date, weekdays_field,
};
use crate::http::portal::{
    FormData, Layout, PageError, PagePath, PageQuery, check_csrf, form_page, ok, refused, see_other,
};
use crate::http::{AppState, fr, routes};
use crate::reservations;
use crate::staff::{self, NewMember};

pub(super) fn declare(table: Table) -> Table {
    let any = Access::Roles(ANY_STAFF);
    let manager = Access::Roles(MANAGER);
    let admin = Access::Roles(ADMIN);
    let readers = Access::Roles(HOUSEHOLD_READERS);
    let quotient = Access::Roles(QUOTIENT_WRITERS);
    table
        .add(
            Method::GET,
            routes::SECOND_FACTOR,
            Access::Enrolling,
            enrolment_form,
        )
        .add(
            Method::POST,
            routes::SECOND_FACTOR,
            Access::Enrolling,
            confirm_enrolment,
        )
        .add(Method::GET, routes::STAFF_HOME, any, home)
        .add(Method::GET, routes::STAFF_ENROLLMENTS, manager, queue)
        .add(Method::POST, routes::STAFF_DECISION, manager, decide)
        .add(Method::GET, routes::STAFF_HOUSEHOLDS, readers, search)
        .add(Method::GET, routes::STAFF_HOUSEHOLD, readers, household)
        .add(Method::POST, routes::STAFF_QUOTIENT, quotient, set_quotient)
        .add(
            Method::POST,
            routes::STAFF_COUNTER_CHILD,
            manager,
            add_child,
        )
        .add(
            Method::POST,
            routes::STAFF_COUNTER_ENROLLMENT,
            manager,
            enroll,
        )
        .add(Method::POST, routes::STAFF_COUNTER_DAY, manager, set_day)
        .add(
            Method::GET,
            routes::STAFF_NEW_HOUSEHOLD,
            manager,
            new_household_form,
        )
        .add(
            Method::POST,
            routes::STAFF_NEW_HOUSEHOLD,
            manager,
            create_household,
        )
        .add(Method::GET, routes::STAFF_CLOSURES, manager, closures_page)
        .add(Method::POST, routes::STAFF_CLOSURES, manager, close_days)
        .add(Method::POST, routes::STAFF_REOPENING, manager, reopen_days)
        .add(Method::GET, routes::STAFF_MEMBERS, admin, members)
        .add(Method::POST, routes::STAFF_MEMBERS, admin, create_member)
        .add(
            Method::POST,
            routes::STAFF_MEMBER_SECOND_FACTOR,
            admin,
            reset_second_factor,
        )
        .add(Method::GET, routes::STAFF_AUDIT, admin, journal)
}

/// The page a new member reaches from their mail: it needs no session, so it is not in the
/// table.
pub(super) fn public_routes() -> Router<AppState> {
    Router::new().route(routes::SET_PASSWORD, get(password_form).post(set_password))
}

/// A field left empty in a filter form means "any".
fn filled(text: Option<&str>) -> Option<&str> {
    text.map(str::trim).filter(|t| !t.is_empty())
}

fn number(text: &str, what: &'static str) -> Result<i64, Error> {
    text.trim()
        .parse::<i64>()
        .map_err(|_| Error::form(FormProblem::Number { what }))
}

fn notice(code: Option<&str>) -> Option<&'static str> {
    code.and_then(fr::staff_notice)
}

/// A checkbox or option of a form.
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

async fn school_choices(state: &AppState, selected: &[String]) -> Result<Vec<Choice>, Error> {
    Ok(households::schools(&state.pool)
        .await?
        .into_iter()
        .map(|s| Choice {
            selected: selected.contains(&s.id.to_string()),
            value: s.id.to_string(),
            label: s.name,
        })
        .collect())
}

// The password link.

#[derive(Debug, Default, Deserialize)]
pub(super) struct TokenQuery {
    #[serde(default)]
    token: Option<String>,
}

#[derive(Template)]
#[template(path = "gestion/mot_de_passe.html")]
struct PasswordPage {
    layout: Layout,
    error: Option<String>,
    token: String,
    min_password: usize,
}

fn password_page(token: String) -> PasswordPage {
    PasswordPage {
        layout: Layout::new("Choisir votre mot de passe", None),
        error: None,
        token,
        min_password: MIN_PASSWORD_CHARS,
    }
}

async fn password_form(PageQuery(query): PageQuery<TokenQuery>) -> Result<Response, PageError> {
    ok(&password_page(query.token.unwrap_or_default()))
}

async fn set_password(
    State(state): State<AppState>,
    form: FormData,
) -> Result<Response, PageError> {
    let token = form.get("token").trim().to_owned();
    let password = form.get("mot_de_passe");
    let result = if password != form.get("confirmation") {
        Err(Error::form(FormProblem::PasswordMismatch))
    } else {
        accounts::set_password(&state.pool, &token, password.to_owned(), state.clock.now()).await
    };
    match result {
        Ok(()) => Ok(see_other("/connexion?info=mot-de-passe")),
        Err(e) => refused(e, async { Ok(password_page(token)) }).await,
    }
}

// The second factor's enrolment.

#[derive(Template)]
#[template(path = "gestion/double_authentification.html")]
struct EnrolmentPage {
    layout: Layout,
    error: Option<String>,
    /// The session is already a full one: nothing to enrol.
    done: bool,
    /// The new secret, drawn by this GET; absent when a refused code is typed again (the
    /// secret the app holds is still the one stored).
    qr_svg: Option<String>,
    secret: Option<String>,
}

/// "ABCD EFGH …": a secret typed by hand is read in groups.
fn grouped(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect::<Vec<_>>()
        .join(" ")
}

async fn enrolment_form(
    State(state): State<AppState>,
    staff: Staff,
) -> Result<Response, PageError> {
    let mut template = EnrolmentPage {
        layout: Layout::new("Double authentification", Some(&staff.session)),
        error: None,
        done: staff.session.account.stage == accounts::Stage::Full,
        qr_svg: None,
        secret: None,
    };
    if !template.done {
        let enrolment = accounts::start_enrolment(&state.pool, &staff.session.account).await?;
        // Inline in HTML, the SVG needs no XML declaration.
        let svg = enrolment
            .qr_svg
            .find("<svg")
            .map_or(enrolment.qr_svg.as_str(), |at| &enrolment.qr_svg[at..]);
        template.qr_svg = Some(svg.to_owned());
        template.secret = Some(grouped(&enrolment.secret_base32));
    }
    ok(&template)
}

#[derive(Template)]
#[template(path = "gestion/codes_secours.html")]
struct RecoveryCodesPage {
    layout: Layout,
    codes: Vec<String>,
}

async fn confirm_enrolment(
    State(state): State<AppState>,
    staff: Staff,
    form: FormData,
) -> Result<Response, PageError> {
    check_csrf(&staff.session, &form)?;
    let session = &staff.session;
    let result = accounts::confirm_enrolment(
        &state.pool,
        &session.account,
        &session.token,
        form.get("code").trim(),
        &staff.actor,
        state.clock.now(),
    )
    .await;
    match result {
        // Shown once, in the answer to the POST: only their digests are kept.
        Ok(codes) => ok(&RecoveryCodesPage {
            layout: Layout::new("Vos codes de secours", Some(session)),
            codes,
        }),
        Err(e) => {
            let done = matches!(
                e,
                Error::Conflict(crate::error::Conflict::SecondFactorEnrolled)
            );
            let template = EnrolmentPage {
                layout: Layout::new("Double authentification", Some(session)),
                error: None,
                done,
                qr_svg: None,
                secret: None,
            };
            refused(e, async { Ok(template) }).await
        }
    }
}

form_page!(PasswordPage, EnrolmentPage);

// The home page.

/// What the member's roles open; the template words the links.
#[derive(Template)]
#[template(path = "gestion/accueil.html")]
struct HomePage {
    layout: Layout,
    first_name: String,
    roles: Vec<&'static str>,
    manager: bool,
    household_reader: bool,
    admin: bool,
}

async fn home(staff: Staff) -> Result<Response, PageError> {
    let roles = staff.session.account.roles;
    ok(&HomePage {
        layout: Layout::new("Gestion", Some(&staff.session)),
        first_name: staff.session.account.first_name.clone(),
        roles: roles.iter().map(fr::role).collect(),
        manager: roles.any_of(MANAGER),
        household_reader: roles.any_of(HOUSEHOLD_READERS),
        admin: roles.any_of(ADMIN),
    })
}

// The enrollment queue.

#[derive(Debug, Default, Deserialize)]
pub(super) struct QueueQuery {
    #[serde(default)]
    ecole: Option<String>,
    #[serde(default)]
    annee: Option<String>,
    #[serde(default)]
    info: Option<String>,
}

struct PendingLine {
    id: i64,
    child_name: String,
    birth_date: String,
    class_level: String,
    school: String,
    year: String,
    weekdays: String,
    requested_at: String,
    household_id: i64,
    guardians: Vec<String>,
}

#[derive(Template)]
#[template(path = "gestion/inscriptions.html")]
struct QueuePage {
    layout: Layout,
    info: Option<&'static str>,
    error: Option<String>,
    schools: Vec<Choice>,
    /// The filter, for the decision forms to come back to.
    school: String,
    year: String,
    pending: Vec<PendingLine>,
}

async fn queue_page(
    state: &AppState,
    staff: &Staff,
    query: &QueueQuery,
) -> Result<QueuePage, PageError> {
    let school = filled(query.ecole.as_deref())
        .map(|s| number(s, "École").map(SchoolId))
        .transpose()?;
    let year_text = filled(query.annee.as_deref());
    let year = year_text
        .map(|y| year_or_current(state, Some(y)))
        .transpose()?;
    let pending = enrollments::pending(&state.pool, school, year).await?;
    let selected: Vec<String> = school.map(|s| s.to_string()).into_iter().collect();
    Ok(QueuePage {
        layout: Layout::new("Inscriptions à valider", Some(&staff.session)),
        info: None,
        error: None,
        schools: school_choices(state, &selected).await?,
        school: selected.first().cloned().unwrap_or_default(),
        year: year_text.unwrap_or_default().to_owned(),
        pending: pending
            .into_iter()
            .map(|p| PendingLine {
                id: p.id.get(),
                child_name: p.child_name,
                birth_date: p.birth_date.format("%d/%m/%Y").to_string(),
                class_level: p.class_level,
                school: p.school_name,
                year: p.year,
                weekdays: p
                    .weekdays
                    .iter()
                    .map(fr::weekday)
                    .collect::<Vec<_>>()
                    .join(", "),
                requested_at: fr::date_time(p.requested_at),
                household_id: p.household.get(),
                guardians: p.guardians,
            })
            .collect(),
    })
}

async fn queue(
    State(state): State<AppState>,
    staff: Staff,
    PageQuery(query): PageQuery<QueueQuery>,
) -> Result<Response, PageError> {
    let mut template = queue_page(&state, &staff, &query).await?;
    template.info = notice(query.info.as_deref());
    ok(&template)
}

async fn decide(
    State(state): State<AppState>,
    staff: Staff,
    PagePath(id): PagePath<i64>,
    form: FormData,
) -> Result<Response, PageError> {
    check_csrf(&staff.session, &form)?;
    let query = QueueQuery {
        ecole: Some(form.get("ecole").to_owned()),
        annee: Some(form.get("annee").to_owned()),
        info: None,
    };
    let decision = match form.get("decision") {
        "valider" => Ok(Decision::Validate),
        "refuser" => Ok(Decision::Reject(form.get("motif").to_owned())),
        _ => Err(Error::form(FormProblem::Action)),
    };
    let validated = matches!(decision, Ok(Decision::Validate));
    let result = match decision {
        Ok(decision) => enrollments::decide_and_tell(
            &state.pool,
            &state.mailer,
            state.links.as_ref(),
            &state.rules(),
            &staff.actor,
            EnrollmentId(id),
            decision,
        )
        .await
        .map(|_| ()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => {
            let mut to = url::form_urlencoded::Serializer::new(String::new());
            to.append_pair("info", if validated { "valide" } else { "refuse" });
            for (name, value) in [("ecole", &query.ecole), ("annee", &query.annee)] {
                if let Some(v) = filled(value.as_deref()) {
                    to.append_pair(name, v);
                }
            }
            Ok(see_other(&format!(
                "{}?{}",
                routes::STAFF_ENROLLMENTS,
                to.finish()
            )))
        }
        Err(e) => refused(e, queue_page(&state, &staff, &query)).await,
    }
}

form_page!(QueuePage);

// Households: search and page.

#[derive(Debug, Default, Deserialize)]
pub(super) struct SearchQuery {
    #[serde(default)]
    q: Option<String>,
}

struct FoundLine {
    id: i64,
    guardians: String,
    children: String,
}

#[derive(Template)]
#[template(path = "gestion/foyers.html")]
struct SearchPage {
    layout: Layout,
    error: Option<String>,
    q: String,
    searched: bool,
    found: Vec<FoundLine>,
    can_create: bool,
}

async fn search(
    State(state): State<AppState>,
    staff: Staff,
    PageQuery(query): PageQuery<SearchQuery>,
) -> Result<Response, PageError> {
    let q = query.q.unwrap_or_default();
    let mut template = SearchPage {
        layout: Layout::new("Rechercher un foyer", Some(&staff.session)),
        error: None,
        q: q.clone(),
        searched: false,
        found: Vec::new(),
        can_create: staff.session.account.roles.any_of(MANAGER),
    };
    if q.trim().is_empty() {
        return ok(&template);
    }
    match households::search(&state.pool, &staff.scope(), &q).await {
        Ok(found) => {
            template.searched = true;
            template.found = found
                .into_iter()
                .map(|f| FoundLine {
                    id: f.id.get(),
                    guardians: f.guardians.join(", "),
                    children: f.children.join(", "),
                })
                .collect();
            ok(&template)
        }
        Err(e) => refused(e, async { Ok(template) }).await,
    }
}

form_page!(SearchPage);

struct GuardianLine {
    name: String,
    email: Option<String>,
    phone: String,
    postal_address: String,
}

struct ChildCard {
    id: i64,
    name: String,
    of_name: String,
    school: String,
    class_level: String,
    diet: String,
    allergies: String,
    pai: bool,
    enrollment: String,
    enrolled: bool,
    /// No pending or validated enrollment this year: the counter may request one.
    can_request: bool,
    days: Vec<DayChoice>,
    /// This month's days, for a manager.
    calendar: Vec<DayRow>,
}

struct QuotientLine {
    amount_euros: i32,
    applies_from: String,
    document: String,
    recorded_at: String,
    recorded_by: Option<String>,
}

#[derive(Template)]
#[template(path = "gestion/foyer.html")]
struct HouseholdPage {
    layout: Layout,
    info: Option<&'static str>,
    error: Option<String>,
    id: i64,
    guardians: Vec<GuardianLine>,
    children: Vec<ChildCard>,
    health_data_shown: bool,
    quotients: Vec<QuotientLine>,
    can_set_quotient: bool,
    manager: bool,
    month_title: String,
    previous_month: String,
    previous_title: String,
    next_month: String,
    next_title: String,
    today: String,
    // The counter's child form.
    schools: Vec<Choice>,
    levels: Vec<Choice>,
    diets: Vec<Choice>,
}

/// `2026-12` as the first of that month.
fn parse_month(text: &str) -> Option<NaiveDate> {
    let (year, month) = text.split_once('-')?;
    if year.len() != 4 || month.len() != 2 {
        return None;
    }
    NaiveDate::from_ymd_opt(year.parse().ok()?, month.parse().ok()?, 1)
}

fn month_code(first: NaiveDate) -> String {
    format!("{:04}-{:02}", first.year(), first.month())
}

/// The household's page, its calendars showing the month of `first` (the current one when
/// `None`).
async fn household_page(
    state: &AppState,
    staff: &Staff,
    id: i64,
    first: Option<NaiveDate>,
) -> Result<HouseholdPage, PageError> {
    let rules = state.rules();
    let year = rules.current_year()?;
    let account = &staff.session.account;
    let household = HouseholdId(id);
    let view = households::household_view(
        &state.pool,
        &Viewer {
            actor: &staff.actor,
            roles: account.roles,
            scope: staff.scope(),
        },
        household,
        year,
    )
    .await?;
    let manager = account.roles.any_of(MANAGER);
    let today = rules.today();
    let first = first.unwrap_or_else(|| today.with_day(1).expect("the first of a month"));
    let last = first + Months::new(1) - Days::new(1);
    let previous = first - Months::new(1);
    let next = first + Months::new(1);
    let mut children = Vec::new();
    for c in view.children {
        let status = c.enrollment.as_ref().map(|e| &e.status);
        let calendar = if manager && c.is_enrolled() {
            reservations::list(&state.pool, &rules, household, c.id, first, last)
                .await?
                .iter()
                // Weekends only lengthen a month's list.
                .filter(|d| !matches!(d.reason, Some(NotBookable::Weekend)))
                .map(|d| DayRow::new(d, false))
                .collect()
        } else {
            Vec::new()
        };
        let name = c.full_name();
        children.push(ChildCard {
            id: c.id.get(),
            of_name: fr::of(&name),
            name,
            school: c.school_name.clone(),
            class_level: c.class_level.code().to_owned(),
            diet: fr::diet(c.diet).to_owned(),
            allergies: c.allergies.clone(),
            pai: c.pai,
            enrollment: enrollment_text(&c),
            enrolled: c.is_enrolled(),
            can_request: !matches!(
                status,
                Some(EnrollmentStatus::Validated | EnrollmentStatus::Pending)
            ),
            days: DayChoice::list(c.school_service_weekdays, c.school_service_weekdays),
            calendar,
        });
    }
    Ok(HouseholdPage {
        layout: Layout::new(format!("Foyer n° {id}"), Some(&staff.session)),
        info: None,
        error: None,
        id,
        guardians: view
            .guardians
            .into_iter()
            .map(|g| GuardianLine {
                name: format!("{} {}", g.first_name, g.last_name),
                email: g.email,
                phone: g.phone,
                postal_address: g.postal_address,
            })
            .collect(),
        children,
        health_data_shown: view.health_data_shown,
        quotients: view
            .quotient_familial
            .into_iter()
            .map(|q| QuotientLine {
                amount_euros: q.amount_euros,
                applies_from: q.applies_from.format("%d/%m/%Y").to_string(),
                document: q.document,
                recorded_at: fr::date_time(q.recorded_at),
                recorded_by: q.recorded_by,
            })
            .collect(),
        can_set_quotient: account.roles.any_of(QUOTIENT_WRITERS),
        manager,
        month_title: fr::month_year(first.year(), first.month()),
        previous_month: month_code(previous),
        previous_title: fr::month_year(previous.year(), previous.month()),
        next_month: month_code(next),
        next_title: fr::month_year(next.year(), next.month()),
        today: today.to_string(),
        schools: if manager {
            school_choices(state, &[]).await?
        } else {
            Vec::new()
        },
        levels: ClassLevel::ALL
            .into_iter()
            .map(|l| Choice {
                selected: false,
                value: l.code().to_owned(),
                label: format!("{} – {}", l.code(), fr::class_level(l)),
            })
            .collect(),
        diets: Diet::ALL
            .into_iter()
            .map(|d| Choice {
                selected: d == Diet::Standard,
                value: d.code().to_owned(),
                label: fr::diet(d).to_owned(),
            })
            .collect(),
    })
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct InfoQuery {
    #[serde(default)]
    info: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct HouseholdQuery {
    #[serde(default)]
    info: Option<String>,
    /// The calendars' month, `2026-12`.
    #[serde(default)]
    mois: Option<String>,
}

async fn household(
    State(state): State<AppState>,
    staff: Staff,
    PagePath(id): PagePath<i64>,
    PageQuery(query): PageQuery<HouseholdQuery>,
) -> Result<Response, PageError> {
    let first = match filled(query.mois.as_deref()) {
        Some(text) => Some(parse_month(text).ok_or(Error::form(FormProblem::Month))?),
        None => None,
    };
    let mut template = household_page(&state, &staff, id, first).await?;
    template.info = notice(query.info.as_deref());
    ok(&template)
}

form_page!(HouseholdPage);

/// Back to the household's page with its status line, or the page again with the refusal.
async fn household_answer(
    state: &AppState,
    staff: &Staff,
    id: i64,
    result: Result<&'static str, Error>,
) -> Result<Response, PageError> {
    match result {
        Ok(info) => Ok(see_other(&format!(
            "{}?info={info}",
            routes::fill(routes::STAFF_HOUSEHOLD, &[id])
        ))),
        Err(e) => refused(e, household_page(state, staff, id, None)).await,
    }
}

async fn set_quotient(
    State(state): State<AppState>,
    staff: Staff,
    PagePath(id): PagePath<i64>,
    form: FormData,
) -> Result<Response, PageError> {
    check_csrf(&staff.session, &form)?;
    let result = async {
        let amount_euros = form
            .get("montant")
            .trim()
            .parse::<i32>()
            .map_err(|_| Error::Invalid(Invalid::QuotientFamilial))?;
        let applies_from = parse_date(form.get("date"), "Date d'effet")?;
        households::set_quotient_familial(
            &state.pool,
            &staff.actor,
            HouseholdId(id),
            NewQuotient {
                amount_euros,
                applies_from,
                document: form.get("justificatif").to_owned(),
            },
        )
        .await
        .map(|()| "quotient")
    }
    .await;
    household_answer(&state, &staff, id, result).await
}

async fn add_child(
    State(state): State<AppState>,
    staff: Staff,
    PagePath(id): PagePath<i64>,
    form: FormData,
) -> Result<Response, PageError> {
    check_csrf(&staff.session, &form)?;
    let result = async {
        let birth_date = parse_date(form.get("naissance"), "Date de naissance")?;
        let school_id = form
            .get("ecole")
            .parse::<i64>()
            .map_err(|_| Error::form(FormProblem::School))?;
        households::add_child_at_counter(
            &state.pool,
            &staff.actor,
            HouseholdId(id),
            state.rules().today(),
            NewChild {
                first_name: form.get("prenom").to_owned(),
                last_name: form.get("nom").to_owned(),
                birth_date,
                school_id: SchoolId(school_id),
                class_level: form.get("classe").to_owned(),
                diet: form.get("regime").to_owned(),
                allergies: form.get("allergies").to_owned(),
                pai: form.checked("pai"),
            },
        )
        .await
        .map(|_| "enfant-ajoute")
    }
    .await;
    household_answer(&state, &staff, id, result).await
}

async fn enroll(
    State(state): State<AppState>,
    staff: Staff,
    PagePath((id, child)): PagePath<(i64, i64)>,
    form: FormData,
) -> Result<Response, PageError> {
    check_csrf(&staff.session, &form)?;
    let validate = form.checked("valider");
    let result = async {
        let weekdays = weekdays_field(&form)?;
        if weekdays.is_empty() {
            return Err(Error::form(FormProblem::NoWeekday));
        }
        let year = state.rules().current_year()?;
        let enrollment = enrollments::request_at_counter(
            &state.pool,
            &staff.actor,
            HouseholdId(id),
            ChildId(child),
            year,
            weekdays,
        )
        .await?;
        if !validate {
            return Ok("inscription-demandee");
        }
        enrollments::decide_and_tell(
            &state.pool,
            &state.mailer,
            state.links.as_ref(),
            &state.rules(),
            &staff.actor,
            enrollment,
            Decision::Validate,
        )
        .await?;
        Ok("inscription-validee")
    }
    .await;
    household_answer(&state, &staff, id, result).await
}

async fn set_day(
    State(state): State<AppState>,
    staff: Staff,
    PagePath((id, child)): PagePath<(i64, i64)>,
    form: FormData,
) -> Result<Response, PageError> {
    check_csrf(&staff.session, &form)?;
    let result = async {
        let book = match form.get("action") {
            "reserver" => true,
            "annuler" => false,
            _ => return Err(Error::form(FormProblem::Action)),
        };
        let date = parse_date(form.get("date"), "Jour")?;
        let changed = reservations::set_day_at_counter(
            &state.pool,
            &state.rules(),
            &staff.actor,
            HouseholdId(id),
            ChildId(child),
            date,
            book,
            form.get("motif"),
        )
        .await?;
        Ok(match (changed, book) {
            (false, _) => "jour-inchange",
            (true, true) => "jour-reserve",
            (true, false) => "jour-annule",
        })
    }
    .await;
    household_answer(&state, &staff, id, result).await
}

// The counter's new household.

#[derive(Template)]
#[template(path = "gestion/nouveau_foyer.html")]
struct NewHouseholdPage {
    layout: Layout,
    error: Option<String>,
    first_name: String,
    last_name: String,
    email: String,
    phone: String,
    postal_address: String,
}

fn new_household_page(staff: &Staff, form: Option<&FormData>) -> NewHouseholdPage {
    let value = |name: &str| form.map_or_else(String::new, |f| f.get(name).to_owned());
    NewHouseholdPage {
        layout: Layout::new("Créer un foyer au guichet", Some(&staff.session)),
        error: None,
        first_name: value("prenom"),
        last_name: value("nom"),
        email: value("email"),
        phone: value("telephone"),
        postal_address: value("adresse"),
    }
}

async fn new_household_form(staff: Staff) -> Result<Response, PageError> {
    ok(&new_household_page(&staff, None))
}

async fn create_household(
    State(state): State<AppState>,
    staff: Staff,
    form: FormData,
) -> Result<Response, PageError> {
    check_csrf(&staff.session, &form)?;
    let result = households::create_at_counter(
        &state.pool,
        &staff.actor,
        NewGuardian {
            first_name: form.get("prenom").to_owned(),
            last_name: form.get("nom").to_owned(),
            // A blank field: a family without an address (its letters are printed).
            email: Some(form.get("email").trim().to_owned()).filter(|e| !e.is_empty()),
            phone: form.get("telephone").to_owned(),
            postal_address: form.get("adresse").to_owned(),
        },
    )
    .await;
    match result {
        Ok(id) => Ok(see_other(&format!(
            "{}?info=foyer-cree",
            routes::fill(routes::STAFF_HOUSEHOLD, &[id.get()])
        ))),
        Err(e) => refused(e, async { Ok(new_household_page(&staff, Some(&form))) }).await,
    }
}

form_page!(NewHouseholdPage);

// Closures.

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
        schools: school_choices(state, &[]).await?,
    })
}

async fn closures_page(
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

/// The schools ticked, or `None` for "toutes les écoles".
fn closure_schools(form: &FormData) -> Result<Option<Vec<SchoolId>>, Error> {
    if form.checked("toutes") {
        return Ok(None);
    }
    form.all("ecoles")
        .map(|s| number(s, "École").map(SchoolId))
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

async fn close_days(
    State(state): State<AppState>,
    staff: Staff,
    form: FormData,
) -> Result<Response, PageError> {
    check_csrf(&staff.session, &form)?;
    let result = async {
        let closing = Closing {
            schools: closure_schools(&form)?,
            from: parse_date(form.get("du"), "Premier jour")?,
            to: parse_date(form.get("au"), "Dernier jour")?,
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

async fn reopen_days(
    State(state): State<AppState>,
    staff: Staff,
    form: FormData,
) -> Result<Response, PageError> {
    check_csrf(&staff.session, &form)?;
    let result = async {
        closures::reopen_days(
            &state.pool,
            &staff.actor,
            closure_schools(&form)?,
            parse_date(form.get("du"), "Premier jour")?,
            parse_date(form.get("au"), "Dernier jour")?,
        )
        .await
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

// Staff members.

struct MemberLine {
    id: i64,
    name: String,
    email: String,
    roles: String,
    schools: String,
    password_set: bool,
    second_factor_since: Option<String>,
}

struct RoleChoice {
    code: &'static str,
    label: &'static str,
    checked: bool,
}

#[derive(Template)]
#[template(path = "gestion/personnel.html")]
struct MembersPage {
    layout: Layout,
    info: Option<&'static str>,
    error: Option<String>,
    members: Vec<MemberLine>,
    email: String,
    first_name: String,
    last_name: String,
    roles: Vec<RoleChoice>,
    schools: Vec<Choice>,
}

async fn members_page(
    state: &AppState,
    staff: &Staff,
    form: Option<&FormData>,
) -> Result<MembersPage, PageError> {
    let value = |name: &str| form.map_or_else(String::new, |f| f.get(name).to_owned());
    let ticked = |name: &str| -> Vec<String> {
        form.map(|f| f.all(name).map(str::to_owned).collect())
            .unwrap_or_default()
    };
    let roles_ticked = ticked("roles");
    Ok(MembersPage {
        layout: Layout::new("Personnel", Some(&staff.session)),
        info: None,
        error: None,
        members: staff::members(&state.pool)
            .await?
            .into_iter()
            .map(|m| MemberLine {
                id: m.id.get(),
                name: format!("{} {}", m.first_name, m.last_name),
                email: m.email,
                roles: m
                    .roles
                    .iter()
                    .map(|r| fr::role(*r))
                    .collect::<Vec<_>>()
                    .join(", "),
                schools: m.schools.join(", "),
                password_set: m.password_set,
                second_factor_since: m.second_factor_since.map(fr::date_time),
            })
            .collect(),
        email: value("email"),
        first_name: value("prenom"),
        last_name: value("nom"),
        roles: Role::ALL
            .into_iter()
            .map(|r| RoleChoice {
                code: r.code(),
                label: fr::role(r),
                checked: roles_ticked.iter().any(|t| t == r.code()),
            })
            .collect(),
        schools: school_choices(state, &ticked("ecoles")).await?,
    })
}

async fn members(
    State(state): State<AppState>,
    staff: Staff,
    PageQuery(query): PageQuery<InfoQuery>,
) -> Result<Response, PageError> {
    let mut template = members_page(&state, &staff, None).await?;
    template.info = notice(query.info.as_deref());
    ok(&template)
}

async fn create_member(
    State(state): State<AppState>,
    staff: Staff,
    form: FormData,
) -> Result<Response, PageError> {
    check_csrf(&staff.session, &form)?;
    let result = async {
        let schools = form
            .all("ecoles")
            .map(|s| number(s, "École").map(SchoolId))
            .collect::<Result<Vec<_>, _>>()?;
        staff::create_member(
            &state.pool,
            &state.mailer,
            state.links.as_ref(),
            Some(&staff.actor),
            NewMember {
                email: form.get("email").to_owned(),
                first_name: form.get("prenom").to_owned(),
                last_name: form.get("nom").to_owned(),
                roles: form.all("roles").map(str::to_owned).collect(),
                schools,
            },
            state.clock.now(),
        )
        .await
    }
    .await;
    match result {
        Ok(_) => Ok(see_other(&format!(
            "{}?info=membre-cree",
            routes::STAFF_MEMBERS
        ))),
        Err(e) => refused(e, members_page(&state, &staff, Some(&form))).await,
    }
}

async fn reset_second_factor(
    State(state): State<AppState>,
    staff: Staff,
    PagePath(account): PagePath<i64>,
    form: FormData,
) -> Result<Response, PageError> {
    check_csrf(&staff.session, &form)?;
    match accounts::reset_second_factor(&state.pool, &staff.actor, AccountId(account)).await {
        Ok(()) => Ok(see_other(&format!(
            "{}?info=double-authentification",
            routes::STAFF_MEMBERS
        ))),
        Err(e) => refused(e, members_page(&state, &staff, None)).await,
    }
}

form_page!(MembersPage);

// The audit log.

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

async fn journal(
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
