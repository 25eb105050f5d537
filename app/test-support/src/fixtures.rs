//! What a test starts from: a commune's school and school year, households with a confirmed
//! guardian, families signed in through the API, their children, enrolled or not.
//!
//! Rows a commune's staff would create are inserted directly (there is no staff interface yet);
//! what families do goes through the API, so a fixture child is one the service accepted.

use cantine::enrollments::{self, Decision};
use cantine_domain::ids::EnrollmentId;
use chrono::NaiveDate;
use reqwest::{Client, Method, Response};
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::TestApp;

/// A school serving Mon, Tue, Thu and Fri (the schema's default); answers its id.
pub async fn school(pool: &PgPool, name: &str, address: &str) -> i64 {
    sqlx::query_scalar("insert into school (name, address) values ($1, $2) returning id")
        .bind(name)
        .bind(address)
        .fetch_one(pool)
        .await
        .expect("insert a school")
}

/// A school year from `first_day` to `last_day` (`2026-2027`, `2026-09-01`, `2027-07-03`).
pub async fn school_year(pool: &PgPool, label: &str, first_day: NaiveDate, last_day: NaiveDate) {
    sqlx::query("insert into school_year (label, first_day, last_day) values ($1, $2, $3)")
        .bind(label)
        .bind(first_day)
        .bind(last_day)
        .execute(pool)
        .await
        .expect("insert a school year");
}

/// The school year current at the application's clock, with the dates of the holiday calendar.
pub async fn current_school_year(app: &TestApp) {
    let rules = app.rules();
    let label = rules.current_year().expect("a current school year");
    let year = rules
        .holidays
        .school_year(label)
        .expect("the year in the holiday calendar");
    school_year(
        &app.pool,
        &label.to_string(),
        year.first_day(),
        year.last_day(),
    )
    .await;
}

/// An empty household; answers its id.
pub async fn household(pool: &PgPool) -> i64 {
    sqlx::query_scalar("insert into household default values returning id")
        .fetch_one(pool)
        .await
        .expect("insert a household")
}

/// A guardian's account.
pub struct Guardian<'a> {
    pub email: &'a str,
    pub password: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
}

/// The account of `guardian` in `household`, its address already confirmed; answers its id.
pub async fn confirmed_guardian(pool: &PgPool, household: i64, guardian: &Guardian<'_>) -> i64 {
    let hash = cantine::accounts::password::hash(guardian.password);
    sqlx::query_scalar(
        "insert into account (household_id, email, password_hash, first_name, last_name, email_confirmed_at)
         values ($1, $2, $3, $4, $5, now()) returning id",
    )
    .bind(household)
    .bind(guardian.email)
    .bind(hash)
    .bind(guardian.first_name)
    .bind(guardian.last_name)
    .fetch_one(pool)
    .await
    .expect("insert an account")
}

/// A guardian signed in through the API, with the session's cookie and CSRF token.
pub struct Family {
    pub client: Client,
    pub csrf: String,
    pub household: i64,
    pub email: String,
    base_url: String,
    origin: String,
}

/// A new household whose guardian Camille `<last_name>` (`<last_name>@example.test`, with
/// `password`) is confirmed and signed in through `POST /api/v1/session`.
pub async fn family(app: &TestApp, last_name: &str, password: &str) -> Family {
    let email = format!("{last_name}@example.test");
    let household = household(&app.pool).await;
    confirmed_guardian(
        &app.pool,
        household,
        &Guardian {
            email: &email,
            password,
            first_name: "Camille",
            last_name,
        },
    )
    .await;
    let client = Client::builder()
        .cookie_store(true)
        .build()
        .expect("HTTP client");
    let response = client
        .post(app.url("/api/v1/session"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .expect("log in");
    assert_eq!(response.status(), 200, "log in as {email}");
    let body: Value = response.json().await.expect("session JSON");
    Family {
        client,
        csrf: body["csrf_token"]
            .as_str()
            .expect("a CSRF token")
            .to_owned(),
        household,
        email,
        base_url: app.base_url.clone(),
        origin: app.origin(),
    }
}

impl Family {
    /// Signs in again with the same browser: a family coming back after the test moved the
    /// clock past its session's lifetime (sessions expire on the application's clock).
    pub async fn sign_in(&self, password: &str) {
        let response = self
            .client
            .post(format!("{}/api/v1/session", self.base_url))
            .json(&json!({"email": self.email, "password": password}))
            .send()
            .await
            .expect("log in");
        assert_eq!(response.status(), 200, "log in again as {}", self.email);
    }

    /// A request as the family's browser would send it: with the service's own `Origin`.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Response {
        browser_call(
            &self.client,
            (&self.base_url, &self.origin),
            method,
            path,
            body,
        )
        .await
    }

    /// A child of the family at `school` (CE1, born 14 March 2019), added through the API.
    pub async fn child(&self, school: i64, first_name: &str) -> i64 {
        let response = self
            .call(
                Method::POST,
                "/api/v1/children",
                Some(json!({
                    "first_name": first_name, "last_name": "Martin", "birth_date": "2019-03-14",
                    "school_id": school, "class_level": "CE1", "diet": "vegetarian",
                    "allergies": "arachides", "pai": false
                })),
            )
            .await;
        assert_eq!(response.status(), 201, "add {first_name}");
        id(response).await
    }

    /// Requests the enrollment of `child` on `weekdays` (`["mon", "tue"]`); answers its id.
    pub async fn request_enrollment(&self, child: i64, weekdays: &[&str]) -> i64 {
        let response = self
            .call(
                Method::POST,
                &format!("/api/v1/children/{child}/enrollment"),
                Some(json!({ "weekdays": weekdays })),
            )
            .await;
        assert_eq!(response.status(), 201, "enrollment of {child}");
        id(response).await
    }
}

async fn id(response: Response) -> i64 {
    response.json::<Value>().await.expect("JSON")["id"]
        .as_i64()
        .expect("an id")
}

/// Validates an enrollment as the commune's staff do, judged at the application's clock: the
/// usual days of the rest of the year are booked.
pub async fn validate_enrollment(app: &TestApp, enrollment: i64) {
    enrollments::decide_enrollment(
        &app.pool,
        &app.rules(),
        EnrollmentId(enrollment),
        None,
        Decision::Validate,
    )
    .await
    .expect("validate the enrollment");
}

/// A child of `family` at `school`, enrolled (Mon, Tue, Thu, Fri) and validated: every service
/// day from the application's `now` to the end of the year is booked.
pub async fn enrolled_child(app: &TestApp, family: &Family, school: i64, first_name: &str) -> i64 {
    let child = family.child(school, first_name).await;
    let enrollment = family
        .request_enrollment(child, &["mon", "tue", "thu", "fri"])
        .await;
    validate_enrollment(app, enrollment).await;
    child
}

/// The demo's and the tests' staff second factor: a fixed secret, so a test computes the codes
/// an authenticator app would show.
pub const STAFF_SECRET: &[u8; 20] = b"cantine-test-secret!";

/// A staff member signed in through `POST /api/v1/session` with password and TOTP code.
pub struct StaffMember {
    pub client: Client,
    pub csrf: String,
    pub id: i64,
    pub email: String,
    base_url: String,
    origin: String,
}

/// A staff member `<name>@mairie.test` with one role (and schools, for `school_staff`), their
/// second factor enrolled with [`STAFF_SECRET`], signed in at the application's clock.
pub async fn staff(
    app: &TestApp,
    name: &str,
    role: cantine_domain::roles::Role,
    schools: &[i64],
    password_hash: &str,
) -> StaffMember {
    let email = format!("{name}@mairie.test");
    let now = app.state.clock.now();
    let schools: Vec<cantine_domain::ids::SchoolId> = schools
        .iter()
        .copied()
        .map(cantine_domain::ids::SchoolId)
        .collect();
    let id = cantine::staff::seed_member(
        &app.pool,
        &email,
        ("Dominique", name),
        role,
        &schools,
        (password_hash, STAFF_SECRET),
        now,
    )
    .await
    .expect("a staff member");
    let client = Client::builder()
        .cookie_store(true)
        .build()
        .expect("HTTP client");
    let code = totp_now(app, 0);
    let response = client
        .post(app.url("/api/v1/session"))
        .json(&json!({"email": email, "password": STAFF_PASSWORD, "totp": code}))
        .send()
        .await
        .expect("log in");
    assert_eq!(response.status(), 200, "staff log in as {email}");
    let body: Value = response.json().await.expect("session JSON");
    StaffMember {
        client,
        csrf: body["csrf_token"].as_str().expect("CSRF").to_owned(),
        id: id.get(),
        email,
        base_url: app.base_url.clone(),
        origin: app.origin(),
    }
}

/// The password of [`staff`] members; hash it once with [`staff_password_hash`].
pub const STAFF_PASSWORD: &str = "mot de passe du personnel";

pub fn staff_password_hash() -> String {
    cantine::accounts::password::hash(STAFF_PASSWORD)
}

/// The six digits of [`STAFF_SECRET`] at the application's clock, `offset` steps away.
pub fn totp_now(app: &TestApp, offset: i64) -> String {
    use cantine::accounts::totp;
    let step = totp::step_at(app.state.clock.now()) + offset;
    format!("{:06}", totp::code(STAFF_SECRET, step))
}

impl StaffMember {
    /// A request as the member's browser sends it, with the service's own `Origin`.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Response {
        browser_call(
            &self.client,
            (&self.base_url, &self.origin),
            method,
            path,
            body,
        )
        .await
    }
}

/// A request from a signed-in browser: the service's own `Origin`, a JSON body if any.
async fn browser_call(
    client: &Client,
    (base_url, origin): (&str, &str),
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Response {
    let mut request = client
        .request(method, format!("{base_url}{path}"))
        .header("origin", origin);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.expect("request")
}
