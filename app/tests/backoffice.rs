//! The town hall's back office through the staff API, against a real PostgreSQL and a real
//! server: the role matrix read from the router's own table, the second factor, closures,
//! counter mode and its audit trail, and household search.

use std::collections::{BTreeMap, BTreeSet};

use cantine::accounts::{self, totp};
use cantine::http::backoffice::{self, Access};
use cantine_domain::roles::Role;
use cantine_test_support::fixtures::{self, Family, STAFF_PASSWORD, STAFF_SECRET, StaffMember};
use cantine_test_support::time::{date, paris};
use cantine_test_support::{TestApp, mail};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

const PASSWORD: &str = "un mot de passe solide";

/// Two schools, the 2026-2027 year, the clock on Monday 16 November 2026 at noon.
struct Town {
    app: TestApp,
    school_a: i64,
    school_b: i64,
    hash: String,
}

async fn town() -> Town {
    let app = TestApp::builder()
        .clock(paris("2026-11-16 12:00:00"))
        .spawn()
        .await;
    let school_a = fixtures::school(&app.pool, "École Jules-Ferry", "").await;
    let school_b = fixtures::school(&app.pool, "École Marie-Curie", "").await;
    fixtures::school_year(
        &app.pool,
        "2026-2027",
        date("2026-09-01"),
        date("2027-07-03"),
    )
    .await;
    Town {
        app,
        school_a,
        school_b,
        hash: fixtures::staff_password_hash(),
    }
}

impl Town {
    async fn staff(&self, name: &str, role: Role) -> StaffMember {
        let schools = if role == Role::SchoolStaff {
            vec![self.school_a]
        } else {
            vec![]
        };
        fixtures::staff(&self.app, name, role, &schools, &self.hash).await
    }

    async fn family(&self, name: &str) -> Family {
        fixtures::family(&self.app, name, PASSWORD).await
    }

    async fn audit_count(&self, action: &str) -> i64 {
        sqlx::query_scalar("select count(*) from audit_entry where action = $1")
            .bind(action)
            .fetch_one(&self.app.pool)
            .await
            .unwrap()
    }

    async fn login(&self, email: &str, totp: Option<&str>) -> reqwest::Response {
        let mut body = json!({"email": email, "password": STAFF_PASSWORD});
        if let Some(code) = totp {
            body["totp"] = json!(code);
        }
        Client::new()
            .post(self.app.url("/api/v1/session"))
            .json(&body)
            .send()
            .await
            .unwrap()
    }
}

async fn problem(response: reqwest::Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
    body
}

/// Who may use each back-office route, as intended. The router's table must list exactly
/// these routes: a route added without its line here fails the test.
fn intended() -> BTreeMap<(&'static str, &'static str), Option<&'static [Role]>> {
    use Role::*;
    const ALL: &[Role] = &[SchoolStaff, Kitchen, Manager, Finance, Admin];
    const READERS: &[Role] = &[SchoolStaff, Manager, Finance];
    let mut m: BTreeMap<(&'static str, &'static str), Option<&'static [Role]>> = BTreeMap::new();
    for (method, path, roles) in [
        ("GET", "/api/v1/staff/me", ALL),
        ("GET", "/api/v1/staff/enrollments", &[Manager][..]),
        (
            "POST",
            "/api/v1/staff/enrollments/{enrollment_id}/decision",
            &[Manager],
        ),
        ("GET", "/api/v1/staff/households", READERS),
        ("POST", "/api/v1/staff/households", &[Manager]),
        ("GET", "/api/v1/staff/households/{household_id}", READERS),
        (
            "POST",
            "/api/v1/staff/households/{household_id}/quotient-familial",
            &[Manager, Finance],
        ),
        (
            "POST",
            "/api/v1/staff/households/{household_id}/children",
            &[Manager],
        ),
        (
            "POST",
            "/api/v1/staff/households/{household_id}/children/{child_id}/enrollment",
            &[Manager],
        ),
        (
            "POST",
            "/api/v1/staff/households/{household_id}/children/{child_id}/reservations/{date}",
            &[Manager],
        ),
        ("POST", "/api/v1/staff/closures", &[Manager]),
        ("POST", "/api/v1/staff/closures/reopening", &[Manager]),
        ("POST", "/api/v1/staff/accounts", &[Admin]),
        ("PUT", "/api/v1/staff/accounts/{account_id}/roles", &[Admin]),
        (
            "DELETE",
            "/api/v1/staff/accounts/{account_id}/second-factor",
            &[Admin],
        ),
        ("GET", "/api/v1/staff/audit", &[Admin]),
        ("GET", "/api/v1/staff/absences", &[Manager]),
        (
            "POST",
            "/api/v1/staff/absences/{absence_id}/decision",
            &[Manager],
        ),
        (
            "GET",
            "/api/v1/staff/absences/{absence_id}/certificate",
            &[Manager],
        ),
        ("PUT", "/api/v1/staff/menus/{date}", &[Manager, Kitchen]),
        ("GET", "/api/v1/staff/kitchen/counts", &[Kitchen, Manager]),
        // The pages.
        ("GET", "/gestion/double-authentification", ALL),
        ("POST", "/gestion/double-authentification", ALL),
        ("GET", "/gestion", ALL),
        ("GET", "/gestion/inscriptions", &[Manager]),
        ("POST", "/gestion/inscriptions/{enrollment_id}", &[Manager]),
        ("GET", "/gestion/foyers", READERS),
        ("GET", "/gestion/foyers/{household_id}", READERS),
        (
            "POST",
            "/gestion/foyers/{household_id}/quotient-familial",
            &[Manager, Finance],
        ),
        ("POST", "/gestion/foyers/{household_id}/enfants", &[Manager]),
        (
            "POST",
            "/gestion/foyers/{household_id}/enfants/{child_id}/inscription",
            &[Manager],
        ),
        (
            "POST",
            "/gestion/foyers/{household_id}/enfants/{child_id}/jour",
            &[Manager],
        ),
        ("GET", "/gestion/guichet/nouveau-foyer", &[Manager]),
        ("POST", "/gestion/guichet/nouveau-foyer", &[Manager]),
        ("GET", "/gestion/fermetures", &[Manager]),
        ("POST", "/gestion/fermetures", &[Manager]),
        ("POST", "/gestion/fermetures/reouverture", &[Manager]),
        ("GET", "/gestion/personnel", &[Admin]),
        ("POST", "/gestion/personnel", &[Admin]),
        (
            "POST",
            "/gestion/personnel/{account_id}/double-authentification",
            &[Admin],
        ),
        ("POST", "/gestion/personnel/{account_id}/roles", &[Admin]),
        ("GET", "/gestion/journal", &[Admin]),
        ("GET", "/gestion/etat", &[Admin, Manager]),
        (
            "GET",
            "/gestion/registre-des-traitements",
            &[Admin, Manager],
        ),
        ("POST", "/gestion/foyers/{household_id}/cloture", &[Manager]),
        ("GET", "/gestion/absences", &[Manager]),
        ("POST", "/gestion/absences/{absence_id}", &[Manager]),
        (
            "GET",
            "/gestion/absences/{absence_id}/certificat",
            &[Manager],
        ),
        ("GET", "/gestion/menus", &[Manager, Kitchen]),
        ("GET", "/gestion/menus/import", &[Manager, Kitchen]),
        ("POST", "/gestion/menus/import", &[Manager, Kitchen]),
        ("GET", "/gestion/menus/{date}", &[Manager, Kitchen]),
        ("POST", "/gestion/menus/{date}", &[Manager, Kitchen]),
        // Attendance: the agents (their schools) and the service; the service locks.
        ("GET", "/api/v1/staff/attendance", &[SchoolStaff, Manager]),
        (
            "POST",
            "/api/v1/staff/attendance/marks",
            &[SchoolStaff, Manager],
        ),
        ("POST", "/api/v1/staff/attendance/locks", &[Manager]),
        ("GET", "/gestion/appel", &[SchoolStaff, Manager]),
        ("POST", "/gestion/appel/pointage", &[SchoolStaff, Manager]),
        (
            "POST",
            "/gestion/appel/sans-reservation",
            &[SchoolStaff, Manager],
        ),
        ("POST", "/gestion/appel/verrouillage", &[Manager]),
        ("GET", "/gestion/cuisine", &[Kitchen, Manager]),
        // Shared custody: the service and the admin record a judgement's arrangement.
        (
            "PUT",
            "/api/v1/staff/children/{child_id}/custody",
            &[Manager, Admin],
        ),
        (
            "DELETE",
            "/api/v1/staff/children/{child_id}/custody",
            &[Manager, Admin],
        ),
        (
            "POST",
            "/gestion/foyers/{household_id}/enfants/{child_id}/garde",
            &[Manager, Admin],
        ),
        (
            "POST",
            "/gestion/foyers/{household_id}/enfants/{child_id}/garde/suppression",
            &[Manager, Admin],
        ),
        // Billing: finance runs, issues, corrects and exports; tariffs with the service.
        ("POST", "/api/v1/staff/billing/runs", &[Finance]),
        ("GET", "/api/v1/staff/billing/runs", &[Finance]),
        ("POST", "/api/v1/staff/billing/runs/issue", &[Finance]),
        (
            "GET",
            "/api/v1/staff/billing/invoices/{invoice_id}",
            &[Finance],
        ),
        (
            "POST",
            "/api/v1/staff/billing/invoices/{invoice_id}/credit-notes",
            &[Finance],
        ),
        ("GET", "/api/v1/staff/billing/contests", &[Finance]),
        (
            "POST",
            "/api/v1/staff/billing/contests/{contest_id}/answer",
            &[Finance],
        ),
        ("GET", "/api/v1/staff/billing/tariffs", &[Finance, Manager]),
        ("POST", "/api/v1/staff/billing/tariffs", &[Finance, Manager]),
        (
            "POST",
            "/api/v1/staff/billing/households/{household_id}/payments",
            &[Finance, Manager],
        ),
        (
            "GET",
            "/api/v1/staff/billing/payments/{payment_id}/receipt.pdf",
            &[Finance, Manager],
        ),
        (
            "POST",
            "/api/v1/staff/billing/households/{household_id}/refunds",
            &[Finance],
        ),
        (
            "GET",
            "/api/v1/staff/billing/exports/accounting.csv",
            &[Finance],
        ),
        ("GET", "/api/v1/staff/billing/exports/pes.xml", &[Finance]),
        ("GET", "/gestion/facturation", &[Finance]),
        ("POST", "/gestion/facturation/calcul", &[Finance]),
        ("POST", "/gestion/facturation/emission", &[Finance]),
        (
            "GET",
            "/gestion/facturation/factures/{invoice_id}",
            &[Finance],
        ),
        (
            "POST",
            "/gestion/facturation/factures/{invoice_id}/avoir",
            &[Finance],
        ),
        ("GET", "/gestion/facturation/contestations", &[Finance]),
        (
            "POST",
            "/gestion/facturation/contestations/{contest_id}",
            &[Finance],
        ),
        ("GET", "/gestion/facturation/tarifs", &[Finance, Manager]),
        ("POST", "/gestion/facturation/tarifs", &[Finance, Manager]),
        // Online payments: finance reconciles PayFiP against the ledger.
        ("GET", "/api/v1/staff/payments/reconciliation", &[Finance]),
        // PayFiP mismatches: the service reads them, finance decides.
        (
            "GET",
            "/api/v1/staff/payments/mismatches",
            &[Finance, Manager],
        ),
        (
            "POST",
            "/api/v1/staff/payments/mismatches/{attempt_id}/resolution",
            &[Finance],
        ),
        ("GET", "/gestion/paiements/anomalies", &[Finance, Manager]),
        (
            "POST",
            "/gestion/paiements/anomalies/{attempt_id}",
            &[Finance],
        ),
        (
            "POST",
            "/api/v1/staff/billing/exports/direct-debits.xml",
            &[Finance],
        ),
        ("GET", "/api/v1/staff/billing/direct-debits", &[Finance]),
        (
            "POST",
            "/api/v1/staff/billing/direct-debits/{debit_id}/rejection",
            &[Finance],
        ),
        ("GET", "/api/v1/staff/billing/mandates", &[Finance]),
        (
            "POST",
            "/api/v1/staff/billing/mandates/{mandate_id}/revoke",
            &[Finance],
        ),
        (
            "GET",
            "/gestion/facturation/foyers/{household_id}",
            &[Finance, Manager],
        ),
        (
            "POST",
            "/gestion/facturation/foyers/{household_id}/encaissement",
            &[Finance, Manager],
        ),
        (
            "GET",
            "/gestion/facturation/recus/{payment_id}",
            &[Finance, Manager],
        ),
        (
            "POST",
            "/gestion/facturation/foyers/{household_id}/remboursement",
            &[Finance],
        ),
    ] {
        m.insert((method, path), Some(roles));
    }
    m
}

#[tokio::test]
async fn every_back_office_route_admits_exactly_its_roles() {
    let town = town().await;
    let mut members = Vec::new();
    for role in Role::ALL {
        members.push((role, town.staff(role.code(), role).await));
    }
    // An account whose second factor the admin may reset without closing a tester's session.
    let spare = town.staff("spare", Role::Kitchen).await;
    let family = town.family("martin").await;
    // The family's child is at school B: the agent of school A must not see it.
    let child = family.child(town.school_b, "Hugo").await;
    let enrollment = family.request_enrollment(child, &["mon"]).await;

    let table = backoffice::table(&town.app.state);
    let declared: BTreeSet<(String, String)> = table
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_owned()))
        .collect();
    let intended = intended();
    let expected: BTreeSet<(String, String)> = intended
        .keys()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(
        declared, expected,
        "the router's table and the intended matrix differ"
    );

    for route in &table {
        let path = route
            .path
            .replace("{household_id}", &family.household.to_string())
            .replace("{child_id}", &child.to_string())
            .replace("{enrollment_id}", &enrollment.to_string())
            .replace("{account_id}", &spare.id.to_string())
            .replace("{date}", "2026-12-03")
            // No such absence: the roles admitted get 404, the others 403.
            .replace("{absence_id}", "999999")
            .replace("{invoice_id}", "999999")
            .replace("{contest_id}", "999999");
        let page = !route.path.starts_with("/api/");
        let body = (!page && route.method != Method::GET && route.method != Method::DELETE)
            .then(|| json!({}));
        let allowed = intended[&(route.method.as_str(), route.path)].unwrap_or(&[]);
        let mut declared = match route.access {
            Access::Roles(roles) => roles.to_vec(),
            // The enrolment page: any staff member (it says so when already enrolled).
            Access::Enrolling => Role::ALL.to_vec(),
        };
        declared.sort();
        let mut intended_roles = allowed.to_vec();
        intended_roles.sort();
        assert_eq!(declared, intended_roles, "{} {}", route.method, route.path);
        for (role, member) in &members {
            let response = member.call(route.method.clone(), &path, body.clone()).await;
            let status = response.status();
            let case = format!("{role} {} {path}", route.method);
            let sent_to_login = response.url().path() == "/connexion";
            if allowed.contains(role) {
                assert!(
                    status != StatusCode::FORBIDDEN
                        && status != StatusCode::UNAUTHORIZED
                        && !sent_to_login,
                    "{case}: {status} {}",
                    response.text().await.unwrap()
                );
            } else {
                assert_eq!(status, StatusCode::FORBIDDEN, "{case}");
                if page {
                    let text = response.text().await.unwrap();
                    assert!(
                        text.contains("Votre rôle ne permet pas cette action"),
                        "{case}"
                    );
                } else {
                    let problem: Value = response.json().await.unwrap();
                    assert_eq!(problem["code"], "forbidden", "{case}");
                }
            }
        }
        let response = family.call(route.method.clone(), &path, body.clone()).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "family {path}");
        let response = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .request(route.method.clone(), town.app.url(&path))
            .header("origin", town.app.origin())
            .send()
            .await
            .unwrap();
        if page {
            assert_eq!(response.status(), StatusCode::SEE_OTHER, "anonymous {path}");
            let to = response.headers()["location"].to_str().unwrap().to_owned();
            assert!(to.starts_with("/connexion"), "anonymous {path}: {to}");
        } else {
            assert_eq!(
                response.status(),
                StatusCode::UNAUTHORIZED,
                "anonymous {path}"
            );
        }
    }

    // The agent of school A asks for school B's family: "not found", and search finds nothing.
    let agent = &members[0].1;
    let path = format!("/api/v1/staff/households/{}", family.household);
    problem(
        agent.call(Method::GET, &path, None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let found: Vec<Value> = agent
        .call(Method::GET, "/api/v1/staff/households?q=hugo", None)
        .await
        .json()
        .await
        .unwrap();
    assert!(found.is_empty(), "{found:?}");
    // The manager sees it; the agent sees a household of school A.
    let manager = &members[2].1;
    assert_eq!(manager.call(Method::GET, &path, None).await.status(), 200);
    let other = town.family("bernard").await;
    other.child(town.school_a, "Louis").await;
    let path = format!("/api/v1/staff/households/{}", other.household);
    let seen: Value = agent
        .call(Method::GET, &path, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(seen["children"][0]["first_name"], "Louis");
}

#[tokio::test]
async fn a_second_factor_code_is_good_in_its_window_and_once() {
    let town = town().await;
    let member = town.staff("gestion", Role::Manager).await;
    let email = member.email.clone();
    // The fixture signed in with the current step's code: it cannot be used again.
    let current = fixtures::totp_now(&town.app, 0);
    problem(
        town.login(&email, Some(&current)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_second_factor",
    )
    .await;
    problem(
        town.login(&email, None).await,
        StatusCode::FORBIDDEN,
        "second_factor_required",
    )
    .await;
    // Two steps ahead is outside the window.
    let far = fixtures::totp_now(&town.app, 2);
    problem(
        town.login(&email, Some(&far)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_second_factor",
    )
    .await;
    // The next step is accepted, once; then the previous step is older than the last used.
    let next = fixtures::totp_now(&town.app, 1);
    assert_eq!(town.login(&email, Some(&next)).await.status(), 200);
    problem(
        town.login(&email, Some(&next)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_second_factor",
    )
    .await;
    // Thirty seconds later, the step that was "next" is current, and the new next is accepted;
    // a minute later, the step before the current one (unused) is still accepted.
    let now = town.app.state.clock.now();
    town.app.clock().set(now + chrono::Duration::seconds(90));
    let previous = fixtures::totp_now(&town.app, -1);
    assert_eq!(town.login(&email, Some(&previous)).await.status(), 200);
    // The reused current code, the far one and the reused next one (a missing code is no try).
    assert_eq!(town.audit_count("second_factor_failed").await, 3);
    assert_eq!(town.audit_count("staff_login").await, 3);
}

#[tokio::test]
async fn a_new_member_sets_a_password_enrols_and_a_recovery_code_works_once() {
    let town = town().await;
    let admin = town.staff("admin", Role::Admin).await;
    let response = admin
        .call(
            Method::POST,
            "/api/v1/staff/accounts",
            Some(
                json!({"email": "nouvelle@mairie.test", "first_name": "Inès", "last_name": "Roy",
                        "roles": ["school_staff"], "schools": [town.school_a]}),
            ),
        )
        .await;
    assert_eq!(response.status(), 201);
    let mail = mail::last(town.app.data_dir());
    assert!(mail.headers.contains("nouvelle@mairie.test"));
    let token = mail.link_token("/personnel/mot-de-passe?token=");
    let now = town.app.state.clock.now();
    accounts::set_password(&town.app.pool, &token, STAFF_PASSWORD.into(), now)
        .await
        .unwrap();
    // Single use.
    assert!(
        accounts::set_password(&town.app.pool, &token, STAFF_PASSWORD.into(), now)
            .await
            .is_err()
    );

    // The first login, by password alone, opens a session that may only enrol.
    let client = Client::builder().cookie_store(true).build().unwrap();
    let body: Value = client
        .post(town.app.url("/api/v1/session"))
        .json(&json!({"email": "nouvelle@mairie.test", "password": STAFF_PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["second_factor_enrolment_required"], true);
    let me = client
        .get(town.app.url("/api/v1/staff/me"))
        .send()
        .await
        .unwrap();
    problem(me, StatusCode::FORBIDDEN, "second_factor_required").await;

    // Enrolling: the service draws a secret, a first code confirms it, ten codes come back.
    let logged = accounts::log_in(
        &town.app.pool,
        &town.app.state.limiter,
        "127.0.0.1",
        accounts::Login {
            email: "nouvelle@mairie.test",
            password: STAFF_PASSWORD,
            second_factor: None,
        },
        now,
    )
    .await
    .unwrap();
    let session = accounts::session(&town.app.pool, &logged.token, now)
        .await
        .unwrap()
        .unwrap();
    let enrolment = accounts::start_enrolment(&town.app.pool, &session)
        .await
        .unwrap();
    assert!(enrolment.qr_svg.contains("<svg"));
    let secret = totp::from_base32(&enrolment.secret_base32).unwrap();
    let actor = cantine::audit::Actor {
        account: session.account_id,
        email: session.email.clone(),
        ip: "127.0.0.1".into(),
    };
    let code = format!("{:06}", totp::code(&secret, totp::step_at(now)));
    let codes =
        accounts::confirm_enrolment(&town.app.pool, &session, &logged.token, &code, &actor, now)
            .await
            .unwrap();
    assert_eq!(codes.len(), 10);
    let stored: i64 =
        sqlx::query_scalar("select count(*) from recovery_code where account_id = $1")
            .bind(session.account_id.get())
            .fetch_one(&town.app.pool)
            .await
            .unwrap();
    assert_eq!(stored, 10);
    let plain: i64 = sqlx::query_scalar(
        "select count(*) from recovery_code where code_hash = convert_to($1, 'UTF8')",
    )
    .bind(&codes[0])
    .fetch_one(&town.app.pool)
    .await
    .unwrap();
    assert_eq!(plain, 0, "recovery codes are stored hashed");

    // Now the password alone is not enough; a recovery code works once.
    problem(
        town.login("nouvelle@mairie.test", None).await,
        StatusCode::FORBIDDEN,
        "second_factor_required",
    )
    .await;
    assert_eq!(
        town.login("nouvelle@mairie.test", Some(&codes[3]))
            .await
            .status(),
        200
    );
    problem(
        town.login("nouvelle@mairie.test", Some(&codes[3])).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_second_factor",
    )
    .await;
    assert_eq!(town.audit_count("recovery_code_used").await, 1);

    // The admin changes the member's roles: the member's sessions close, and the new roles
    // apply at the next login; audited with the roles before and after.
    let path = format!("/api/v1/staff/accounts/{}/roles", session.account_id);
    let refused = admin
        .call(Method::PUT, &path, Some(json!({"roles": ["school_staff"]})))
        .await;
    problem(refused, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
    let changed = admin
        .call(
            Method::PUT,
            &path,
            Some(json!({"roles": ["manager", "finance"]})),
        )
        .await;
    assert_eq!(changed.status(), 204);
    let (before, after): (Value, Value) = sqlx::query_as(
        "select detail->'before', detail->'roles' from audit_entry where action = 'roles_changed' order by id desc limit 1",
    )
    .fetch_one(&town.app.pool)
    .await
    .unwrap();
    assert_eq!(
        (before, after),
        (json!(["school_staff"]), json!(["manager", "finance"]))
    );
    let sessions: i64 = sqlx::query_scalar("select count(*) from session where account_id = $1")
        .bind(session.account_id.get())
        .fetch_one(&town.app.pool)
        .await
        .unwrap();
    assert_eq!(sessions, 0);
    let path = format!("/api/v1/staff/accounts/{}/roles", admin.id + 1000);
    let unknown = admin
        .call(Method::PUT, &path, Some(json!({"roles": ["kitchen"]})))
        .await;
    problem(unknown, StatusCode::NOT_FOUND, "not_found").await;

    // The admin resets it (a lost phone): audited, and the next login enrols again.
    let path = format!(
        "/api/v1/staff/accounts/{}/second-factor",
        session.account_id
    );
    assert_eq!(admin.call(Method::DELETE, &path, None).await.status(), 204);
    assert_eq!(town.audit_count("second_factor_reset").await, 1);
    let body: Value = town
        .login("nouvelle@mairie.test", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["second_factor_enrolment_required"], true);
    let _ = STAFF_SECRET;
}

/// Validated children, every service day from now booked.
async fn enrolled(town: &Town, family: &Family, school: i64, name: &str) -> i64 {
    fixtures::enrolled_child(&town.app, family, school, name).await
}

async fn booked(town: &Town, child: i64, day: &str) -> bool {
    sqlx::query_scalar("select coalesce((select booked from reservation where child_id = $1 and service_date = $2), false)")
        .bind(child)
        .bind(date(day))
        .fetch_one(&town.app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_closure_cancels_one_schools_bookings_and_mails_each_family_once() {
    let town = town().await;
    let manager = town.staff("gestion", Role::Manager).await;
    let martins = town.family("martin").await;
    let hugo = enrolled(&town, &martins, town.school_a, "Hugo").await;
    let nina = enrolled(&town, &martins, town.school_a, "Nina").await;
    let bernards = town.family("bernard").await;
    let louis = enrolled(&town, &bernards, town.school_b, "Louis").await;
    let before = town
        .app
        .data_dir()
        .join("mail")
        .read_dir()
        .map_or(0, |d| d.count());
    for child in [hugo, nina, louis] {
        assert!(
            booked(&town, child, "2026-11-26").await && booked(&town, child, "2026-11-27").await
        );
    }

    let response = manager
        .call(
            Method::POST,
            "/api/v1/staff/closures",
            Some(json!({"schools": [town.school_a], "from": "2026-11-26", "to": "2026-11-27", "reason": "grève"})),
        )
        .await;
    assert_eq!(response.status(), 200);
    let outcome: Value = response.json().await.unwrap();
    assert_eq!(
        outcome,
        json!({"bookings_cancelled": 4, "families_mailed": 1})
    );
    for child in [hugo, nina] {
        for day in ["2026-11-26", "2026-11-27"] {
            assert!(!booked(&town, child, day).await, "{child} {day}");
        }
    }
    assert!(booked(&town, louis, "2026-11-26").await && booked(&town, louis, "2026-11-27").await);
    let events: i64 = sqlx::query_scalar(
        "select count(*) from reservation_event where source = 'closure' and reason = 'grève' and not new_booked",
    )
    .fetch_one(&town.app.pool)
    .await
    .unwrap();
    assert_eq!(events, 4);

    let mails = mail::spool(town.app.data_dir());
    assert_eq!(mails.len(), before + 1, "one mail, for the Martins only");
    let mail = &mails[before];
    assert!(mail.headers.contains("martin@example.test"));
    for text in ["Hugo", "Nina", "26 novembre 2026", "27 novembre 2026"] {
        assert!(mail.body.contains(text), "{text} in {}", mail.body);
    }

    // The day is closed for the family's calendar, and booking it again is refused.
    let day = martins
        .call(
            Method::GET,
            &format!("/api/v1/children/{hugo}/reservations?from=2026-11-26&to=2026-11-26"),
            None,
        )
        .await
        .json::<Vec<Value>>()
        .await
        .unwrap();
    assert_eq!(day[0]["reason"], "closure");
    let refused = martins
        .call(
            Method::PUT,
            &format!("/api/v1/children/{hugo}/reservations/2026-11-27"),
            None,
        )
        .await;
    problem(
        refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "not_a_service_day",
    )
    .await;

    // The family reads in its history what the town hall did, and why; a manager's change at
    // the counter, after the deadline, shows the same way.
    let response = manager
        .call(
            Method::POST,
            &format!(
                "/api/v1/staff/households/{}/children/{hugo}/reservations/2026-11-17",
                martins.household
            ),
            Some(json!({"booked": true, "reason": "Repas demandé au guichet par téléphone"})),
        )
        .await;
    assert_eq!(response.json::<Value>().await.unwrap()["changed"], true);
    let history: Vec<Value> = martins
        .call(
            Method::GET,
            &format!("/api/v1/children/{hugo}/history?from=2026-11-17&to=2026-11-27"),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    let by_town_hall: Vec<(String, String, String)> = history
        .iter()
        .filter(|e| e["by_town_hall"] == true)
        .map(|e| {
            (
                e["date"].as_str().unwrap().to_owned(),
                e["source"].as_str().unwrap().to_owned(),
                e["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        by_town_hall,
        [
            ("2026-11-26".into(), "closure".into(), "grève".into()),
            ("2026-11-27".into(), "closure".into(), "grève".into()),
            (
                "2026-11-17".into(),
                "staff".into(),
                "Repas demandé au guichet par téléphone".into()
            ),
        ]
    );
    let page = martins
        .client
        .get(
            town.app
                .url(&format!("/enfants/{hugo}/calendrier?mois=2026-11")),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Changements faits par la mairie"), "{page}");
    assert!(page.contains("Repas demandé au guichet par téléphone"));
    // Another family's child has no history to show.
    let foreign = bernards
        .call(
            Method::GET,
            &format!("/api/v1/children/{hugo}/history?from=2026-11-17&to=2026-11-27"),
            None,
        )
        .await;
    assert_eq!(foreign.status(), StatusCode::NOT_FOUND);

    // Reopening Thursday restores nothing: the family books again if it wants.
    let response = manager
        .call(
            Method::POST,
            "/api/v1/staff/closures/reopening",
            Some(json!({"schools": [town.school_a], "from": "2026-11-26", "to": "2026-11-26"})),
        )
        .await;
    assert_eq!(
        response.json::<Value>().await.unwrap()["closures_changed"],
        1
    );
    assert!(!booked(&town, hugo, "2026-11-26").await);
    let rebook = martins
        .call(
            Method::PUT,
            &format!("/api/v1/children/{hugo}/reservations/2026-11-26"),
            None,
        )
        .await;
    assert_eq!(rebook.status(), 200);
    let still_closed = martins
        .call(
            Method::PUT,
            &format!("/api/v1/children/{hugo}/reservations/2026-11-27"),
            None,
        )
        .await;
    assert_eq!(still_closed.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(town.audit_count("days_closed").await, 1);
    assert_eq!(town.audit_count("days_reopened").await, 1);
}

#[tokio::test]
async fn counter_actions_and_health_reads_leave_one_audit_entry_each_and_the_log_cannot_change() {
    let town = town().await;
    let manager = town.staff("gestion", Role::Manager).await;
    let finance = town.staff("finances", Role::Finance).await;

    let response = manager
        .call(
            Method::POST,
            "/api/v1/staff/households",
            Some(
                json!({"first_name": "Fatou", "last_name": "Ndiaye", "phone": "06 11 22 33 44",
                        "postal_address": "3 rue des Lilas, Techniville"}),
            ),
        )
        .await;
    assert_eq!(response.status(), 201);
    let household = response.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    assert_eq!(town.audit_count("household_created").await, 1);

    let response = manager
        .call(
            Method::POST,
            &format!("/api/v1/staff/households/{household}/children"),
            Some(json!({"first_name": "Aminata", "last_name": "Ndiaye", "birth_date": "2019-05-02",
                        "school_id": town.school_a, "class_level": "CE1", "allergies": "arachides", "pai": true})),
        )
        .await;
    assert_eq!(response.status(), 201);
    let child = response.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    assert_eq!(town.audit_count("child_added").await, 1);

    let response = manager
        .call(
            Method::POST,
            &format!("/api/v1/staff/households/{household}/children/{child}/enrollment"),
            Some(json!({"weekdays": ["mon", "tue", "thu", "fri"], "validate": true})),
        )
        .await;
    assert_eq!(response.status(), 201);
    assert_eq!(town.audit_count("enrollment_requested").await, 1);
    assert_eq!(town.audit_count("enrollment_decided").await, 1);
    // Validation booked from the next open day: Tuesday 17 (tomorrow) is past its deadline.
    assert!(!booked(&town, child, "2026-11-17").await);
    assert!(booked(&town, child, "2026-11-26").await);

    // After the deadline, with a reason: the manager's override.
    let response = manager
        .call(
            Method::POST,
            &format!("/api/v1/staff/households/{household}/children/{child}/reservations/2026-11-17"),
            Some(json!({"booked": true, "reason": "Inscription au guichet, repas demandé par la mère"})),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert!(booked(&town, child, "2026-11-17").await);
    assert_eq!(town.audit_count("reservation_changed").await, 1);
    let (actor, source, reason): (Option<i64>, String, Option<String>) = sqlx::query_as(
        "select actor_account_id, source, reason from reservation_event
         where child_id = $1 and service_date = '2026-11-17'",
    )
    .bind(child)
    .fetch_one(&town.app.pool)
    .await
    .unwrap();
    assert_eq!((actor, source.as_str()), (Some(manager.id), "staff"));
    assert!(reason.unwrap().contains("guichet"));
    // Without a reason, refused.
    let response = manager
        .call(
            Method::POST,
            &format!(
                "/api/v1/staff/households/{household}/children/{child}/reservations/2026-11-19"
            ),
            Some(json!({"booked": false, "reason": "  "})),
        )
        .await;
    problem(response, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;

    // The manager reads health data: one entry. Finance sees no health data, and no entry.
    let path = format!("/api/v1/staff/households/{household}");
    let seen: Value = manager
        .call(Method::GET, &path, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(seen["children"][0]["allergies"], "arachides");
    assert_eq!(seen["children"][0]["pai"], true);
    assert_eq!(seen["guardians"][0]["email"], Value::Null);
    assert_eq!(town.audit_count("health_data_read").await, 1);
    let seen: Value = finance
        .call(Method::GET, &path, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(seen["children"][0]["allergies"], "");
    assert_eq!(seen["health_data_shown"], false);
    assert_eq!(town.audit_count("health_data_read").await, 1);

    // The quotient familial is a history, never overwritten.
    for (amount, from) in [(640, "2026-09-01"), (720, "2027-01-01")] {
        let response = finance
            .call(
                Method::POST,
                &format!("/api/v1/staff/households/{household}/quotient-familial"),
                Some(json!({"amount_euros": amount, "applies_from": from, "document": "Attestation CAF"})),
            )
            .await;
        assert_eq!(response.status(), 204);
    }
    let seen: Value = finance
        .call(Method::GET, &path, None)
        .await
        .json()
        .await
        .unwrap();
    let history: Vec<i64> = seen["quotient_familial"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["amount_euros"].as_i64().unwrap())
        .collect();
    assert_eq!(history, [720, 640]);
    assert_eq!(town.audit_count("quotient_familial_set").await, 2);

    let entry: (Option<i64>, Option<i64>, Option<String>) = sqlx::query_as(
        "select household_id, child_id, client_ip from audit_entry where action = 'reservation_changed'",
    )
    .fetch_one(&town.app.pool)
    .await
    .unwrap();
    assert_eq!(
        entry,
        (Some(household), Some(child), Some("127.0.0.1".into()))
    );

    // Append-only: no UPDATE, DELETE nor TRUNCATE.
    for statement in [
        "update audit_entry set action = 'x'",
        "delete from audit_entry",
        "truncate audit_entry",
    ] {
        let refused = sqlx::query(statement).execute(&town.app.pool).await;
        assert!(refused.is_err(), "{statement} must fail");
    }
    assert!(town.audit_count("household_created").await == 1);

    // The admin's export lists them.
    let admin = town.staff("admin", Role::Admin).await;
    let csv = admin
        .call(
            Method::GET,
            &format!("/api/v1/staff/audit?format=csv&household={household}"),
            None,
        )
        .await;
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let text = csv.text().await.unwrap();
    assert!(
        text.starts_with("id,at,actor_account_id,actor_email,action"),
        "{text}"
    );
    for action in [
        "household_created",
        "child_added",
        "reservation_changed",
        "health_data_read",
    ] {
        assert!(text.contains(action), "{action} in {text}");
    }
    let filtered: Vec<Value> = admin
        .call(
            Method::GET,
            "/api/v1/staff/audit?action=health_data_read",
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(filtered.len(), 1);
    assert_eq!(filtered[0]["actor_email"], "gestion@mairie.test");
}

#[tokio::test]
async fn household_search_ignores_accents_and_case_and_finds_phones() {
    let town = town().await;
    let manager = town.staff("gestion", Role::Manager).await;
    let household = fixtures::household(&town.app.pool).await;
    fixtures::confirmed_guardian(
        &town.app.pool,
        household,
        &fixtures::Guardian {
            email: "h.lefevre@exemple.fr",
            password: PASSWORD,
            first_name: "Hélène",
            last_name: "Lefèvre",
        },
    )
    .await;
    sqlx::query("update account set phone = '06 12 34 56 78' where household_id = $1")
        .bind(household)
        .execute(&town.app.pool)
        .await
        .unwrap();
    let family = town.family("bernard").await;
    family.child(town.school_a, "Zoé").await;
    sqlx::query("insert into child (household_id, first_name, last_name, birth_date, school_id, class_level)
                 values ($1, 'Zoé', 'Lefèvre', '2018-02-01', $2, 'CE2')")
        .bind(household)
        .bind(town.school_a)
        .execute(&town.app.pool)
        .await
        .unwrap();
    let search = |q: &'static str| {
        let manager = &manager;
        async move {
            let response = manager
                .call(
                    Method::GET,
                    &format!("/api/v1/staff/households?q={}", urlencode(q)),
                    None,
                )
                .await;
            assert_eq!(response.status(), 200, "{q}");
            response
                .json::<Vec<Value>>()
                .await
                .unwrap()
                .iter()
                .map(|h| h["id"].as_i64().unwrap())
                .collect::<Vec<_>>()
        }
    };
    for q in [
        "lefevre",
        "LEFÈVRE",
        "helene",
        "H.Lefevre@Exemple.fr",
        "0612345678",
        "06 12 34",
        "06.12.34.56",
    ] {
        assert_eq!(search(q).await, [household], "{q}");
    }
    // "Zoé" is a child of both households.
    let mut both = search("zoe").await;
    both.sort();
    assert_eq!(
        both,
        [
            household.min(family.household),
            household.max(family.household)
        ]
    );
    assert!(search("dupont").await.is_empty());
    let response = manager
        .call(Method::GET, "/api/v1/staff/households?q=a", None)
        .await;
    problem(response, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
    // A renamed child is found under the new name: the search text follows the rows.
    sqlx::query("update child set first_name = 'Capucine' where household_id = $1")
        .bind(household)
        .execute(&town.app.pool)
        .await
        .unwrap();
    assert_eq!(search("capucine").await, [household]);
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[tokio::test]
async fn the_queue_lists_pending_requests_and_a_decision_mails_the_family() {
    let town = town().await;
    let manager = town.staff("gestion", Role::Manager).await;
    let family = town.family("martin").await;
    let child = family.child(town.school_b, "Hugo").await;
    let enrollment = family.request_enrollment(child, &["mon", "thu"]).await;
    let queue: Vec<Value> = manager
        .call(
            Method::GET,
            &format!("/api/v1/staff/enrollments?school={}", town.school_b),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0]["id"], enrollment);
    assert_eq!(queue[0]["weekdays"], json!(["mon", "thu"]));
    assert!(
        queue[0]["guardians"][0]
            .as_str()
            .unwrap()
            .contains("martin@example.test")
    );
    let other_school: Vec<Value> = manager
        .call(
            Method::GET,
            &format!("/api/v1/staff/enrollments?school={}", town.school_a),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(other_school.is_empty());

    let path = format!("/api/v1/staff/enrollments/{enrollment}/decision");
    let no_reason = manager
        .call(Method::POST, &path, Some(json!({"decision": "reject"})))
        .await;
    problem(no_reason, StatusCode::CONFLICT, "rejection_reason_required").await;
    let response = manager
        .call(
            Method::POST,
            &path,
            Some(json!({"decision": "reject", "reason": "Dossier incomplet"})),
        )
        .await;
    assert_eq!(response.status(), 204);
    let mail = mail::last(town.app.data_dir());
    assert!(mail.headers.contains("martin@example.test"));
    assert!(mail.body.contains("Dossier incomplet"), "{}", mail.body);
    let again = manager
        .call(Method::POST, &path, Some(json!({"decision": "validate"})))
        .await;
    problem(again, StatusCode::CONFLICT, "invalid_transition").await;
    let seen: Value = family
        .call(Method::GET, &format!("/api/v1/children/{child}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(seen["enrollment_status"], "rejected");
    assert_eq!(seen["enrollment_reason"], "Dossier incomplet");
}

#[tokio::test]
async fn the_demo_seeds_one_staff_account_per_role_with_the_given_secret() {
    let app = TestApp::builder()
        .clock(paris("2026-11-16 12:00:00"))
        .spawn()
        .await;
    let secret = totp::to_base32(STAFF_SECRET);
    cantine::demo::seed(
        &app.pool,
        &app.rules(),
        Some("demo-password-1234".into()),
        totp::from_base32(&secret),
    )
    .await
    .unwrap();
    for (name, role) in [
        ("agent", "school_staff"),
        ("cuisine", "kitchen"),
        ("gestion", "manager"),
        ("finances", "finance"),
        ("admin", "admin"),
    ] {
        let client = Client::builder().cookie_store(true).build().unwrap();
        let response = client
            .post(app.url("/api/v1/session"))
            .json(&json!({"email": format!("{name}@techniville.test"), "password": "demo-password-1234",
                          "totp": fixtures::totp_now(&app, 0)}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{name}");
        let me: Value = client
            .get(app.url("/api/v1/staff/me"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(me["roles"], json!([role]), "{name}");
        if name == "agent" {
            assert_eq!(me["schools"].as_array().unwrap().len(), 1);
        }
    }
}

#[tokio::test]
async fn a_booking_racing_a_closure_never_leaves_a_meal_on_a_closed_day() {
    let town = town().await;
    let manager = town.staff("gestion", Role::Manager).await;
    let family = town.family("martin").await;
    let hugo = enrolled(&town, &family, town.school_a, "Hugo").await;
    for day in [
        "2026-12-03",
        "2026-12-04",
        "2026-12-07",
        "2026-12-08",
        "2026-12-10",
    ] {
        let path = format!("/api/v1/children/{hugo}/reservations/{day}");
        assert_eq!(family.call(Method::DELETE, &path, None).await.status(), 200);
        let close = manager.call(
            Method::POST,
            "/api/v1/staff/closures",
            Some(json!({"schools": [town.school_a], "from": day, "to": day, "reason": "travaux"})),
        );
        let (book, closed) = tokio::join!(family.call(Method::PUT, &path, None), close);
        assert_eq!(closed.status(), 200, "{day}");
        // Either the booking came first and the closure cancelled it, or it came after and
        // was refused: never a meal on a closed day.
        assert!(
            !booked(&town, hugo, day).await,
            "{day}: booked on a closed day"
        );
        assert!(
            [
                StatusCode::OK,
                StatusCode::UNPROCESSABLE_ENTITY,
                StatusCode::CONFLICT
            ]
            .contains(&book.status()),
            "{day}: {}",
            book.status()
        );
    }
}
