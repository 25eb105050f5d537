//! The back office's pages under `/gestion`, driven like a browser with JavaScript off: forms
//! posted as `application/x-www-form-urlencoded` with the CSRF field, redirects followed by hand.

use std::sync::LazyLock;

use cantine::accounts::{password, totp};
use cantine_domain::ids::{ChildId, HouseholdId};
use cantine_domain::roles::Role;
use cantine_test_support::fixtures::{self, Family};
use cantine_test_support::{TestApp, mail};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use reqwest::header::{ACCEPT, CONTENT_TYPE, LOCATION};
use reqwest::{Client, StatusCode};
use serde_json::json;

const STAFF_PASSWORD: &str = "mairie-de-techniville";
const FAMILY_PASSWORD: &str = "famille-techniville";
const SECRET: &[u8] = b"12345678901234567890";

/// One argon2 hash for every seeded staff member: hashing is the slow part of these tests.
static STAFF_HASH: LazyLock<String> = LazyLock::new(|| password::hash(STAFF_PASSWORD));

/// Monday 30 November 2026, 09:00 in Paris (a school day of the 2026-2027 year).
fn monday_9am() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 8, 0, 0).unwrap()
}

async fn app() -> TestApp {
    TestApp::builder().clock(monday_9am()).spawn().await
}

/// A school and the current school year, as a commune sets them up.
async fn school_and_year(app: &TestApp) -> i64 {
    fixtures::current_school_year(app).await;
    fixtures::school(&app.pool, "École des Tilleuls", "1 rue des Tilleuls").await
}

struct Page {
    status: StatusCode,
    location: Option<String>,
    html: String,
}

/// A browser without JavaScript: keeps cookies, does not follow redirects by itself.
struct Browser {
    client: Client,
    base_url: String,
    /// The CSRF token of the last page seen with a form, as the next form posts it.
    csrf: std::sync::Mutex<String>,
}

impl Browser {
    fn new(app: &TestApp) -> Self {
        Self {
            client: Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base_url: app.base_url.clone(),
            csrf: std::sync::Mutex::new(String::new()),
        }
    }

    async fn read(response: reqwest::Response) -> Page {
        Page {
            status: response.status(),
            location: response
                .headers()
                .get(LOCATION)
                .map(|v| v.to_str().unwrap().to_owned()),
            html: response.text().await.unwrap(),
        }
    }

    async fn get(&self, path: &str) -> Page {
        let request = self
            .client
            .get(format!("{}{path}", self.base_url))
            .header(ACCEPT, "text/html");
        let page = Self::read(request.send().await.unwrap()).await;
        if page.html.contains("name=\"csrf\"") {
            *self.csrf.lock().unwrap() = attribute_after(&page.html, "name=\"csrf\"", "value");
        }
        page
    }

    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let request = self
            .client
            .post(format!("{}{path}", self.base_url))
            .form(fields);
        Self::read(request.send().await.unwrap()).await
    }

    /// Posts a signed-in form (with the session's CSRF field) and checks the answer is a
    /// redirect (Post/Redirect/Get); answers its target.
    async fn submit(&self, path: &str, fields: &[(&str, &str)]) -> String {
        let page = self.post_with_csrf(path, fields).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}: {}", page.html);
        page.location.expect("a Location header")
    }

    async fn with_csrf<'a>(&self, fields: &[(&'a str, &'a str)]) -> Vec<(&'a str, String)> {
        let csrf = self.csrf.lock().unwrap().clone();
        assert!(!csrf.is_empty(), "a page with a form was seen");
        let mut all: Vec<(&str, String)> =
            fields.iter().map(|(k, v)| (*k, v.to_string())).collect();
        all.push(("csrf", csrf));
        all
    }

    async fn post_with_csrf(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let fields = self.with_csrf(fields).await;
        let request = self
            .client
            .post(format!("{}{path}", self.base_url))
            .form(&fields);
        Self::read(request.send().await.unwrap()).await
    }
}

/// The value of `attribute` in the tag where `marker` first appears.
fn attribute_after(html: &str, marker: &str, attribute: &str) -> String {
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in {html}"));
    let tag_start = html[..start].rfind('<').unwrap();
    let tag_end = start + html[start..].find('>').unwrap();
    let tag = &html[tag_start..tag_end];
    let key = format!(" {attribute}=\"");
    let value_start = tag.find(&key).unwrap() + key.len();
    let len = tag[value_start..].find('"').unwrap();
    tag[value_start..value_start + len].to_owned()
}

/// The code an authenticator app shows at the application's `now`.
fn code_now(app: &TestApp, secret: &[u8]) -> String {
    format!(
        "{:06}",
        totp::code(secret, totp::step_at(app.state.clock.now()))
    )
}

/// A staff member seeded with the shared password and secret, signed in through the API.
async fn staff(app: &TestApp, name: &str, role: Role, schools: &[i64]) -> Browser {
    let email = format!("{name}@mairie.test");
    let schools: Vec<_> = schools
        .iter()
        .copied()
        .map(cantine_domain::ids::SchoolId)
        .collect();
    cantine::staff::seed_member(
        &app.pool,
        &email,
        ("Awa", name),
        role,
        &schools,
        (&STAFF_HASH, SECRET),
        app.state.clock.now(),
    )
    .await
    .unwrap();
    let browser = Browser::new(app);
    let response = browser
        .client
        .post(app.url("/api/v1/session"))
        .json(&json!({
            "email": email, "password": STAFF_PASSWORD, "totp": code_now(app, SECRET),
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "log in as {email}");
    assert_eq!(browser.get("/gestion").await.status, StatusCode::OK);
    browser
}

/// A family (Camille Martin) with a child Lina at `school` whose enrollment is pending.
async fn family_with_pending_child(app: &TestApp, school: i64) -> (Family, i64, i64) {
    let family = fixtures::family(app, "martin", FAMILY_PASSWORD).await;
    let child = family.child(school, "Lina").await;
    let enrollment = family
        .request_enrollment(child, &["mon", "tue", "thu", "fri"])
        .await;
    (family, child, enrollment)
}

#[tokio::test]
async fn a_new_member_sets_a_password_enrols_a_second_factor_and_reaches_the_back_office() {
    let app = app().await;
    cantine::staff::create_member(
        &app.pool,
        &app.state.mailer,
        app.state.links.as_ref(),
        None,
        cantine::staff::NewMember {
            email: "nadia@mairie.test".into(),
            first_name: "Nadia".into(),
            last_name: "Benali".into(),
            roles: vec!["manager".into()],
            schools: Vec::new(),
        },
        app.state.clock.now(),
    )
    .await
    .unwrap();
    let token = mail::last(app.data_dir()).link_token("/personnel/mot-de-passe?token=");
    let browser = Browser::new(&app);

    let form = browser
        .get(&format!("/personnel/mot-de-passe?token={token}"))
        .await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(
        form.html.contains("Choisir votre mot de passe"),
        "{}",
        form.html
    );
    let differ = browser
        .post(
            "/personnel/mot-de-passe",
            &[
                ("token", &token),
                ("mot_de_passe", STAFF_PASSWORD),
                ("confirmation", "autre-chose-encore"),
            ],
        )
        .await;
    assert_eq!(differ.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        differ.html.contains("ne sont pas identiques"),
        "{}",
        differ.html
    );

    let set = browser
        .post(
            "/personnel/mot-de-passe",
            &[
                ("token", &token),
                ("mot_de_passe", STAFF_PASSWORD),
                ("confirmation", STAFF_PASSWORD),
            ],
        )
        .await;
    assert_eq!(set.status, StatusCode::SEE_OTHER, "{}", set.html);
    let to = set.location.unwrap();
    assert_eq!(to, "/connexion?info=mot-de-passe");
    assert!(
        browser
            .get(&to)
            .await
            .html
            .contains("Mot de passe enregistré")
    );

    // The first login, by password alone, leads to the enrolment, and nowhere else.
    let login = browser
        .post(
            "/connexion",
            &[
                ("email", "nadia@mairie.test"),
                ("mot_de_passe", STAFF_PASSWORD),
            ],
        )
        .await;
    assert_eq!(
        login.location.as_deref(),
        Some("/gestion/double-authentification")
    );
    let home = browser.get("/gestion").await;
    assert_eq!(home.status, StatusCode::SEE_OTHER);
    assert_eq!(
        home.location.as_deref(),
        Some("/gestion/double-authentification")
    );

    let enrol = browser.get("/gestion/double-authentification").await;
    assert_eq!(enrol.status, StatusCode::OK);
    assert!(
        enrol.html.contains("<svg"),
        "an inline QR code: {}",
        enrol.html
    );
    let start = enrol.html.find("<code>").unwrap() + "<code>".len();
    let len = enrol.html[start..].find("</code>").unwrap();
    let secret = totp::from_base32(&enrol.html[start..start + len].replace(' ', ""))
        .expect("the secret written in base32");

    let wrong = browser
        .post_with_csrf("/gestion/double-authentification", &[("code", "000000")])
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        wrong.html.contains("Code de sécurité incorrect"),
        "{}",
        wrong.html
    );

    let code = code_now(&app, &secret);
    let done = browser
        .post_with_csrf("/gestion/double-authentification", &[("code", &code)])
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.html);
    assert!(
        done.html.contains("ils ne seront plus affichés"),
        "{}",
        done.html
    );
    let codes = done.html.matches("<li><code>").count();
    assert_eq!(codes, 10, "{}", done.html);

    let home = browser.get("/gestion").await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.html);
    assert!(
        home.html.contains("Inscriptions à valider"),
        "{}",
        home.html
    );
    assert!(home.html.contains("Gestionnaire"), "{}", home.html);
    assert!(
        !home.html.contains("href=\"/gestion/journal\""),
        "not an admin's: {}",
        home.html
    );
    let again = browser.get("/gestion/double-authentification").await;
    assert!(again.html.contains("déjà activée"), "{}", again.html);
}

#[tokio::test]
async fn a_manager_validates_a_pending_enrollment_from_the_queue_and_the_family_is_mailed() {
    let app = app().await;
    let school = school_and_year(&app).await;
    let (family, _, enrollment) = family_with_pending_child(&app, school).await;
    let manager = staff(&app, "gestion", Role::Manager, &[]).await;

    let queue = manager.get("/gestion/inscriptions").await;
    assert_eq!(queue.status, StatusCode::OK);
    assert!(queue.html.contains("Lina Martin"), "{}", queue.html);
    assert!(queue.html.contains("École des Tilleuls"), "{}", queue.html);
    assert!(
        queue.html.contains(&family.email),
        "the guardians' contacts: {}",
        queue.html
    );
    let path = format!("/gestion/inscriptions/{enrollment}");

    // A refusal needs its reason: the queue comes back with the message.
    let unexplained = manager
        .post_with_csrf(&path, &[("decision", "refuser"), ("motif", " ")])
        .await;
    assert_eq!(unexplained.status, StatusCode::CONFLICT);
    assert!(
        unexplained.html.contains("doit être motivé"),
        "{}",
        unexplained.html
    );

    let to = manager.submit(&path, &[("decision", "valider")]).await;
    assert_eq!(to, "/gestion/inscriptions?info=valide");
    let after = manager.get(&to).await;
    assert!(after.html.contains("Inscription validée"), "{}", after.html);
    assert!(
        !after.html.contains("Lina Martin"),
        "no longer pending: {}",
        after.html
    );

    let mails = mail::spool(app.data_dir());
    assert_eq!(mails.len(), 1, "one mail, to the family");
    let mail = mails.last().unwrap();
    assert!(mail.headers.contains(&family.email), "{}", mail.headers);
    // The spool decodes only `=3D` of quoted-printable: assert on ASCII text.
    assert!(mail.body.contains("de Lina"), "{}", mail.body);
    assert!(mail.body.contains("2026-2027 est valid"), "{}", mail.body);

    // Deciding twice is refused in words.
    let twice = manager
        .post_with_csrf(&path, &[("decision", "valider")])
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    assert!(twice.html.contains("déjà été traitée"), "{}", twice.html);
}

#[tokio::test]
async fn the_household_page_shows_allergies_to_a_manager_but_not_to_finance() {
    let app = app().await;
    let school = school_and_year(&app).await;
    let (family, _, _) = family_with_pending_child(&app, school).await;
    let manager = staff(&app, "gestion", Role::Manager, &[]).await;
    let finance = staff(&app, "finances", Role::Finance, &[]).await;
    let household = format!("/gestion/foyers/{}", family.household);

    let found = finance.get("/gestion/foyers?q=martin").await;
    assert_eq!(found.status, StatusCode::OK);
    assert!(
        found.html.contains(&format!("href=\"{household}\"")),
        "{}",
        found.html
    );

    let seen = manager.get(&household).await;
    assert_eq!(seen.status, StatusCode::OK, "{}", seen.html);
    assert!(seen.html.contains("Lina Martin"), "{}", seen.html);
    assert!(seen.html.contains("arachides"), "{}", seen.html);
    assert!(
        seen.html.contains("Ajouter un enfant au guichet"),
        "{}",
        seen.html
    );

    let hidden = finance.get(&household).await;
    assert_eq!(hidden.status, StatusCode::OK, "{}", hidden.html);
    assert!(hidden.html.contains("Lina Martin"), "{}", hidden.html);
    assert!(!hidden.html.contains("arachides"), "{}", hidden.html);
    assert!(
        hidden.html.contains("ne sont pas affichés"),
        "{}",
        hidden.html
    );
    assert!(
        !hidden.html.contains("Ajouter un enfant au guichet"),
        "{}",
        hidden.html
    );

    // Finance records the quotient familial; the history shows it.
    let to = finance
        .submit(
            &format!("{household}/quotient-familial"),
            &[
                ("montant", "850"),
                ("date", "2026-12-01"),
                ("justificatif", "Attestation CAF"),
            ],
        )
        .await;
    assert_eq!(to, format!("{household}?info=quotient"));
    let page = finance.get(&to).await;
    assert!(page.html.contains("850 €"), "{}", page.html);
    assert!(page.html.contains("Attestation CAF"), "{}", page.html);
    let bad = finance
        .post_with_csrf(
            &format!("{household}/quotient-familial"),
            &[
                ("montant", "beaucoup"),
                ("date", "2026-12-01"),
                ("justificatif", "x"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.html.contains("Quotient familial invalide"),
        "{}",
        bad.html
    );

    // The counter's forms are the manager's: finance is refused in French.
    let refused = finance
        .post_with_csrf(&format!("{household}/enfants"), &[("prenom", "Adam")])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        refused
            .html
            .contains("Votre rôle ne permet pas cette action"),
        "{}",
        refused.html
    );
}

/// Whether the child's meal of `day` is booked.
async fn booked(app: &TestApp, household: i64, child: i64, day: NaiveDate) -> bool {
    cantine::reservations::list(
        &app.pool,
        &app.rules(),
        HouseholdId(household),
        ChildId(child),
        day,
        day,
    )
    .await
    .unwrap()[0]
        .booked
}

#[tokio::test]
async fn a_closure_posted_from_the_page_cancels_a_booking_and_mails_the_family() {
    let app = app().await;
    let school = school_and_year(&app).await;
    let family = fixtures::family(&app, "martin", FAMILY_PASSWORD).await;
    let child = fixtures::enrolled_child(&app, &family, school, "Lina").await;
    let manager = staff(&app, "gestion", Role::Manager, &[]).await;
    let thursday: NaiveDate = "2026-12-10".parse().unwrap();
    assert!(
        booked(&app, family.household, child, thursday).await,
        "the enrollment booked the usual days"
    );

    let page = manager.get("/gestion/fermetures").await;
    assert!(
        page.html.contains("Aucune fermeture prévue"),
        "{}",
        page.html
    );
    let to = manager
        .submit(
            "/gestion/fermetures",
            &[
                ("toutes", "1"),
                ("du", "2026-12-10"),
                ("au", "2026-12-10"),
                ("motif", "grève"),
            ],
        )
        .await;
    let result = manager.get(&to).await;
    assert!(
        result
            .html
            .contains("1 repas annulé, 1 famille prévenue par e-mail"),
        "{}",
        result.html
    );
    assert!(
        result.html.contains("grève"),
        "the closure is listed: {}",
        result.html
    );
    assert!(
        !booked(&app, family.household, child, thursday).await,
        "the closure cancelled the meal"
    );
    let mail = mail::last(app.data_dir());
    assert!(mail.body.contains("Jeudi 10 d"), "{}", mail.body);
    assert!(mail.body.contains("repas de Lina"), "{}", mail.body);

    // A closure without a school nor "toutes" is refused on the form.
    let none = manager
        .post_with_csrf(
            "/gestion/fermetures",
            &[
                ("du", "2026-12-11"),
                ("au", "2026-12-11"),
                ("motif", "travaux"),
            ],
        )
        .await;
    assert_eq!(none.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(none.html.contains("Choisissez une école"), "{}", none.html);
}

/// Every page route of the back-office table, its placeholders filled with 1.
fn page_routes(app: &TestApp) -> Vec<(reqwest::Method, String)> {
    let routes: Vec<_> = cantine::http::backoffice::table(&app.state)
        .into_iter()
        .filter(|r| !r.path.starts_with("/api/"))
        .map(|r| {
            let mut path = String::new();
            let mut rest = r.path;
            while let Some(open) = rest.find('{') {
                path.push_str(&rest[..open]);
                path.push('1');
                rest = &rest[open + rest[open..].find('}').unwrap() + 1..];
            }
            path.push_str(rest);
            (
                reqwest::Method::from_bytes(r.method.as_str().as_bytes()).unwrap(),
                path,
            )
        })
        .collect();
    assert!(routes.len() >= 20, "the pages are in the table: {routes:?}");
    routes
}

#[tokio::test]
async fn a_family_account_gets_the_french_403_page_on_every_back_office_page() {
    let app = app().await;
    let family = fixtures::family(&app, "martin", FAMILY_PASSWORD).await;
    for (method, path) in page_routes(&app) {
        let response = family
            .client
            .request(method.clone(), app.url(&path))
            .header(ACCEPT, "text/html")
            .form(&[("csrf", family.csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{method} {path}");
        let html = response.text().await.unwrap();
        assert!(html.contains("Action refusée"), "{method} {path}: {html}");
        assert!(
            html.contains("Votre rôle ne permet pas cette action"),
            "{method} {path}: {html}"
        );
    }
}

#[tokio::test]
async fn a_signed_out_visitor_is_sent_to_the_login_page_from_every_back_office_page() {
    let app = app().await;
    let browser = Browser::new(&app);
    for (method, path) in page_routes(&app) {
        let page = Browser::read(
            browser
                .client
                .request(method.clone(), app.url(&path))
                .form(&[("motif", "x")])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{method} {path}");
        let to = page.location.unwrap();
        if method == reqwest::Method::GET {
            assert!(
                to.starts_with("/connexion?suite=%2Fgestion"),
                "{path}: {to}"
            );
        } else {
            assert_eq!(to, "/connexion", "{method} {path}: a form is not replayed");
        }
    }
}

#[tokio::test]
async fn a_signed_out_visitor_is_sent_to_the_login_page_and_back_while_the_api_answers_401() {
    let app = app().await;
    let browser = Browser::new(&app);
    let page = browser.get("/gestion/foyers?q=martin").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(
        page.location.as_deref(),
        Some("/connexion?suite=%2Fgestion%2Ffoyers%3Fq%3Dmartin")
    );
    let posted = browser.post("/gestion/fermetures", &[("motif", "x")]).await;
    assert_eq!(posted.status, StatusCode::SEE_OTHER);
    assert_eq!(posted.location.as_deref(), Some("/connexion"));

    let api = browser
        .client
        .get(app.url("/api/v1/staff/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::UNAUTHORIZED);
    let content_type = api.headers()[CONTENT_TYPE].to_str().unwrap().to_owned();
    assert!(
        content_type.starts_with("application/problem+json"),
        "{content_type}"
    );
}

#[tokio::test]
async fn a_staff_login_on_the_page_lands_in_the_back_office() {
    let app = app().await;
    cantine::staff::seed_member(
        &app.pool,
        "admin@mairie.test",
        ("Awa", "Admin"),
        Role::Admin,
        &[],
        (&STAFF_HASH, SECRET),
        app.state.clock.now(),
    )
    .await
    .unwrap();
    let browser = Browser::new(&app);
    let code = code_now(&app, SECRET);
    let login = browser
        .post(
            "/connexion",
            &[
                ("email", "admin@mairie.test"),
                ("mot_de_passe", STAFF_PASSWORD),
                ("code", &code),
                ("suite", "/"),
            ],
        )
        .await;
    assert_eq!(login.status, StatusCode::SEE_OTHER, "{}", login.html);
    assert_eq!(login.location.as_deref(), Some("/gestion"));
    let home = browser.get("/gestion").await;
    assert!(
        home.html.contains("href=\"/gestion\">Gestion</a>"),
        "the menu: {}",
        home.html
    );
    assert!(!home.html.contains("Mon foyer"), "{}", home.html);
    assert!(
        home.html.contains("href=\"/gestion/journal\""),
        "{}",
        home.html
    );

    // The journal lists the login, and its export link carries the filter.
    let journal = browser.get("/gestion/journal?action=staff_login").await;
    assert_eq!(journal.status, StatusCode::OK, "{}", journal.html);
    assert!(
        journal.html.contains("Connexion du personnel"),
        "{}",
        journal.html
    );
    assert!(
        journal.html.contains("admin@mairie.test"),
        "{}",
        journal.html
    );
    let csv = attribute_after(&journal.html, ">Exporter en CSV", "href")
        .replace("&#38;", "&")
        .replace("&amp;", "&");
    assert!(csv.contains("action=staff_login"), "{csv}");
    let export = browser.get(&csv).await;
    assert_eq!(export.status, StatusCode::OK, "{}", export.html);
    assert!(export.html.contains("staff_login"), "{}", export.html);
}

#[tokio::test]
async fn at_the_counter_a_manager_creates_a_household_enrols_a_child_and_cancels_a_locked_day() {
    let app = app().await;
    let school = school_and_year(&app).await;
    let manager = staff(&app, "gestion", Role::Manager, &[]).await;

    assert_eq!(
        manager.get("/gestion/guichet/nouveau-foyer").await.status,
        StatusCode::OK
    );
    let to = manager
        .submit(
            "/gestion/guichet/nouveau-foyer",
            &[
                ("prenom", "Josette"),
                ("nom", "Perrin"),
                ("email", ""),
                ("telephone", "06 12 34 56 78"),
                ("adresse", "3 place de l'Église"),
            ],
        )
        .await;
    let household: i64 = to
        .strip_prefix("/gestion/foyers/")
        .and_then(|rest| rest.strip_suffix("?info=foyer-cree"))
        .unwrap_or_else(|| panic!("{to}"))
        .parse()
        .unwrap();
    let page = manager.get(&to).await;
    assert!(page.html.contains("Foyer créé"), "{}", page.html);
    assert!(
        page.html.contains("sans adresse e-mail – courrier papier"),
        "{}",
        page.html
    );

    let base = format!("/gestion/foyers/{household}");
    let school_id = school.to_string();
    let to = manager
        .submit(
            &format!("{base}/enfants"),
            &[
                ("prenom", "Hugo"),
                ("nom", "Perrin"),
                ("naissance", "2018-05-02"),
                ("ecole", &school_id),
                ("classe", "CE2"),
                ("regime", "standard"),
                ("allergies", ""),
            ],
        )
        .await;
    assert_eq!(to, format!("{base}?info=enfant-ajoute"));
    let child: i64 = sqlx::query_scalar("select id from child where household_id = $1")
        .bind(household)
        .fetch_one(&app.pool)
        .await
        .unwrap();

    let to = manager
        .submit(
            &format!("{base}/enfants/{child}/inscription"),
            &[("jours", "mon"), ("jours", "tue"), ("valider", "1")],
        )
        .await;
    assert_eq!(to, format!("{base}?info=inscription-validee"));
    let page = manager.get(&to).await;
    assert!(
        page.html.contains("Réservations de novembre 2026"),
        "{}",
        page.html
    );
    let december = manager.get(&format!("{base}?mois=2026-12")).await;
    assert!(
        december.html.contains("Réservations de décembre 2026"),
        "{}",
        december.html
    );
    assert!(
        december.html.contains("Lundi 7 décembre"),
        "{}",
        december.html
    );
    // Validating booked the usual days still open to the family (Monday 7 December), not
    // Tuesday 1 December, already locked for the family: the counter books it anyway.
    let monday: NaiveDate = "2026-12-07".parse().unwrap();
    let tuesday: NaiveDate = "2026-12-01".parse().unwrap();
    assert!(booked(&app, household, child, monday).await);
    assert!(!booked(&app, household, child, tuesday).await);

    let day = format!("{base}/enfants/{child}/jour");
    let no_reason = manager
        .post_with_csrf(
            &day,
            &[
                ("date", "2026-12-01"),
                ("action", "reserver"),
                ("motif", ""),
            ],
        )
        .await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        no_reason.html.contains("« motif » est obligatoire"),
        "{}",
        no_reason.html
    );
    assert!(!booked(&app, household, child, tuesday).await);

    let to = manager
        .submit(
            &day,
            &[
                ("date", "2026-12-01"),
                ("action", "reserver"),
                ("motif", "Inscription au guichet ce matin"),
            ],
        )
        .await;
    assert_eq!(to, format!("{base}?info=jour-reserve"));
    assert!(booked(&app, household, child, tuesday).await);

    let to = manager
        .submit(
            &day,
            &[
                ("date", "2026-12-01"),
                ("action", "annuler"),
                ("motif", "Enfant malade, appel de la mère"),
            ],
        )
        .await;
    assert_eq!(to, format!("{base}?info=jour-annule"));
    assert!(!booked(&app, household, child, tuesday).await);
}

#[tokio::test]
async fn an_admin_creates_a_member_from_the_staff_page_and_resets_a_second_factor() {
    let app = app().await;
    let school = school_and_year(&app).await;
    let admin = staff(&app, "admin", Role::Admin, &[]).await;
    let agent = staff(&app, "agent", Role::SchoolStaff, &[school]).await;

    let page = admin.get("/gestion/personnel").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("agent@mairie.test"), "{}", page.html);
    assert!(page.html.contains("Agent d&#39;école") || page.html.contains("Agent d'école"));

    // An agent needs a school: the form comes back with the names typed.
    let refused = admin
        .post_with_csrf(
            "/gestion/personnel",
            &[
                ("email", "paul@mairie.test"),
                ("prenom", "Paul"),
                ("nom", "Roux"),
                ("roles", "school_staff"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.html.contains("Rôles invalides"), "{}", refused.html);
    assert!(refused.html.contains("value=\"Roux\""), "{}", refused.html);

    let school_id = school.to_string();
    let to = admin
        .submit(
            "/gestion/personnel",
            &[
                ("email", "paul@mairie.test"),
                ("prenom", "Paul"),
                ("nom", "Roux"),
                ("roles", "school_staff"),
                ("ecoles", &school_id),
            ],
        )
        .await;
    assert_eq!(to, "/gestion/personnel?info=membre-cree");
    let mail = mail::last(app.data_dir());
    assert!(
        mail.headers.contains("paul@mairie.test"),
        "{}",
        mail.headers
    );
    assert!(
        mail.body.contains("/personnel/mot-de-passe?token="),
        "{}",
        mail.body
    );
    let page = admin.get(&to).await;
    assert!(page.html.contains("paul@mairie.test"), "{}", page.html);
    assert!(page.html.contains("Pas encore choisi"), "{}", page.html);

    let agent_id: i64 = sqlx::query_scalar("select id from account where email = $1")
        .bind("agent@mairie.test")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let to = admin
        .submit(
            &format!("/gestion/personnel/{agent_id}/double-authentification"),
            &[],
        )
        .await;
    assert_eq!(to, "/gestion/personnel?info=double-authentification");
    // The agent's session is closed: back to the login page.
    let gone = agent.get("/gestion").await;
    assert_eq!(gone.status, StatusCode::SEE_OTHER);
    assert_eq!(
        gone.location.as_deref(),
        Some("/connexion?suite=%2Fgestion")
    );

    // The agent becomes a manager: one role replaces the other, the school goes with it.
    let path = format!("/gestion/personnel/{agent_id}/roles");
    let refused = admin
        .post_with_csrf(&path, &[("roles", "manager"), ("ecoles", &school_id)])
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let to = admin.submit(&path, &[("roles", "manager")]).await;
    assert_eq!(to, "/gestion/personnel?info=roles-modifies");
    let roles: Vec<String> =
        sqlx::query_scalar("select role from account_role where account_id = $1")
            .bind(agent_id)
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(roles, ["manager"]);
    let page = admin.get(&to).await;
    assert!(page.html.contains("Rôles modifiés"), "{}", page.html);
}
