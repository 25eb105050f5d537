//! The town hall's back office: the staff API under `/api/v1/staff` and the pages under
//! `/gestion`.
//!
//! Every back-office route that needs a session is declared in one [`Table`] with the roles it
//! admits (only the new member's password link, `/personnel/mot-de-passe`, is outside: there is
//! no session yet), and the table is the only way to mount one: the role check is a layer of
//! the route itself, run before any extractor, so a handler cannot forget it, and [`table`]
//! lists every route for the role matrix test. A refused page route answers like a page (the
//! login page, the second factor's enrolment, the French error page), an API route with its
//! problem. A handler reads who is acting through the [`Staff`] extractor, which only the
//! check provides (a handler mounted elsewhere answers 500, never data).

pub mod api;
pub mod api_absences;
pub mod api_attendance;
pub mod api_billing;
pub mod api_custody;
pub mod api_menus;
pub mod api_payments;
pub mod api_sepa;
pub mod billing_exports;
pub mod kitchen;
mod pages;
mod privacy;

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::handler::Handler;
use axum::http::Method;
use axum::http::request::Parts;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodFilter;

use cantine_domain::calendar::SchoolYearLabel;
use cantine_domain::ids::{ChildId, EnrollmentId, HouseholdId};
use cantine_domain::roles::{Role, Scope};
use cantine_domain::weekdays::WeekdaySet;

use super::AppState;
use super::auth::{self, MaybeSession, Session};
use super::portal::{PageError, local_path, see_other};
use super::routes;
use crate::accounts::Stage;
use crate::audit::Actor;
use crate::enrollments::{self, Decided, Decision};
use crate::error::{Error, Refusal};

/// Who may use a back-office route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// A fully signed-in staff member holding one of these roles.
    Roles(&'static [Role]),
    /// A staff member whose session is at the second-factor enrolment stage (or past it: the
    /// page then says it is done).
    Enrolling,
}

pub const ANY_STAFF: &[Role] = &Role::ALL;
pub const MANAGER: &[Role] = &[Role::Manager];
pub const ADMIN: &[Role] = &[Role::Admin];
/// Those who look families up: the agents (in their schools), the service, the finances.
pub const HOUSEHOLD_READERS: &[Role] = &[Role::SchoolStaff, Role::Manager, Role::Finance];
pub const QUOTIENT_WRITERS: &[Role] = &[Role::Manager, Role::Finance];
/// Those who enter the menus: the service and the kitchen.
pub const MENU_WRITERS: &[Role] = &[Role::Manager, Role::Kitchen];
/// Those who take attendance: the agents (in their schools) and the service.
pub const ATTENDANCE: &[Role] = &[Role::SchoolStaff, Role::Manager];
/// Those who read the kitchen's counts: the kitchen, the service.
pub const KITCHEN_READERS: &[Role] = &[Role::Kitchen, Role::Manager];
/// Those who record a shared custody (a judgement's arrangement): the service, the admin.
pub const CUSTODY_WRITERS: &[Role] = &[Role::Manager, Role::Admin];
/// Those who read the status page: the admin, the service.
pub const STATUS_READERS: &[Role] = &[Role::Admin, Role::Manager];

/// One back-office route, as declared.
#[derive(Debug, Clone)]
pub struct StaffRoute {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
}

/// The back-office routes being declared, with their router.
pub(super) struct Table {
    state: AppState,
    router: Router<AppState>,
    routes: Vec<StaffRoute>,
}

impl Table {
    fn new(state: &AppState) -> Self {
        Self {
            state: state.clone(),
            router: Router::new(),
            routes: Vec::new(),
        }
    }

    pub(super) fn add<H, T>(
        mut self,
        method: Method,
        path: &'static str,
        access: Access,
        handler: H,
    ) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let filter = MethodFilter::try_from(method.clone()).expect("a routable method");
        let route = axum::routing::on(filter, handler).route_layer(middleware::from_fn_with_state(
            self.state.clone(),
            move |State(state): State<AppState>, request: Request, next: Next| {
                require(state, access, request, next)
            },
        ));
        self.router = self.router.route(path, route);
        self.routes.push(StaffRoute {
            method,
            path,
            access,
        });
        self
    }
}

fn declare(state: &AppState) -> Table {
    let table = api::declare(Table::new(state));
    let table = api_attendance::declare(api_absences::declare(api_menus::declare(table)));
    let table = api_custody::declare(table);
    let table = api_billing::declare(table);
    let table = api_sepa::declare(api_payments::declare(table));
    let table = privacy::declare(table);
    kitchen::declare(pages::declare(table))
}

/// The table's routes, and the one back-office page that needs no session: a new member's
/// password link.
pub(super) fn routes(state: &AppState) -> Router<AppState> {
    declare(state).router.merge(pages::public_routes())
}

/// Every back-office route with its access, as the router mounts them.
pub fn table(state: &AppState) -> Vec<StaffRoute> {
    declare(state).routes
}

/// A staff member past the role check, as handlers see them.
#[derive(Debug, Clone)]
pub struct Staff {
    pub session: Session,
    pub actor: Actor,
}

impl Staff {
    pub fn scope(&self) -> Scope {
        Scope::of(self.session.account.roles, &self.session.account.schools)
    }

    /// This member's decision on an enrollment, then the family's mail (for the API and the
    /// queue page alike).
    async fn decide(
        &self,
        state: &AppState,
        id: EnrollmentId,
        decision: Decision,
    ) -> Result<Decided, Error> {
        enrollments::decide_and_tell(
            &state.pool,
            &state.mailer,
            state.links.as_ref(),
            &state.rules(),
            &self.actor,
            id,
            decision,
        )
        .await
    }

    /// Counter mode: requests a child's enrollment for the family, then validates it when
    /// asked, which books the usual weekdays (for the API and the household page alike).
    async fn enroll_at_counter(
        &self,
        state: &AppState,
        (household, child): (HouseholdId, ChildId),
        year: SchoolYearLabel,
        weekdays: WeekdaySet,
        validate: bool,
    ) -> Result<EnrollmentId, Error> {
        let id = enrollments::request_at_counter(
            &state.pool,
            &self.actor,
            household,
            child,
            year,
            weekdays,
        )
        .await?;
        if validate {
            self.decide(state, id, Decision::Validate).await?;
        }
        Ok(id)
    }
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Error> {
        parts.extensions.get::<Staff>().cloned().ok_or_else(|| {
            Error::Internal(anyhow::anyhow!(
                "a handler reads Staff on a route not declared in the back-office table"
            ))
        })
    }
}

async fn check(parts: &mut Parts, state: &AppState, access: Access) -> Result<Staff, Error> {
    let MaybeSession(session) = MaybeSession::from_request_parts(parts, state).await?;
    let session = session.ok_or(Error::Unauthorized)?;
    let account = &session.account;
    let admitted = match access {
        Access::Roles(allowed) => {
            if account.roles.is_staff() && account.stage != Stage::Full {
                return Err(Error::Forbidden(Refusal::SecondFactorRequired));
            }
            account.roles.any_of(allowed)
        }
        Access::Enrolling => account.roles.is_staff(),
    };
    if !admitted {
        return Err(Error::Forbidden(Refusal::Role));
    }
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .copied()
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("no peer address")))?;
    let actor = session.actor(auth::client_ip(&parts.headers, peer));
    Ok(Staff { session, actor })
}

async fn require(state: AppState, access: Access, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    match check(&mut parts, &state, access).await {
        Ok(staff) => {
            parts.extensions.insert(staff);
            next.run(Request::from_parts(parts, body)).await
        }
        Err(error) => {
            if !matches!(error, Error::Unauthorized) {
                tracing::info!(path = %parts.uri.path(), code = %error.code(), "back-office access refused");
            }
            if parts.uri.path().starts_with("/api/") {
                error.into_response()
            } else {
                page_refusal(&parts, error)
            }
        }
    }
}

/// A refused page: signed out, to the login page (then back to the page, for a GET); a staff
/// member without their second factor, to its enrolment; anything else, the French error page.
fn page_refusal(parts: &Parts, error: Error) -> Response {
    match error {
        Error::Unauthorized => PageError::Login {
            back_to: (parts.method == Method::GET)
                .then(|| parts.uri.path_and_query().map(|p| p.as_str()))
                .flatten()
                .and_then(local_path)
                .map(str::to_owned),
        }
        .into_response(),
        Error::Forbidden(Refusal::SecondFactorRequired) => see_other(routes::SECOND_FACTOR),
        other => PageError::Error(other).into_response(),
    }
}
