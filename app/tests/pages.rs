//! The family portal's HTML pages, driven like a browser with JavaScript off: forms posted as
//! `application/x-www-form-urlencoded`, redirects followed by hand so that each step is seen.

use cantine_test_support::{TestApp, fixtures, mail};
use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, LOCATION};

const DEMO_PASSWORD: &str = "techniville-demo";
const MARTIN: &str = "famille.martin@techniville.test";

/// Monday 30 November 2026, 09:00 in Paris. With the default rule (2 service days before, at
/// 10:00), Monday and Tuesday are locked, Thursday 3 December is open until 10:00 today.
fn monday_9am() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 8, 0, 0).unwrap()
}

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

/// A browser without JavaScript: keeps cookies, does not follow redirects by itself.
struct Browser {
    /// The application, its clock stopped where the test puts it.
    app: TestApp,
    client: reqwest::Client,
}

struct Page {
    status: StatusCode,
    location: Option<String>,
    html: String,
}

impl Browser {
    async fn new() -> Self {
        let app = TestApp::builder().clock(monday_9am()).spawn().await;
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self { app, client }
    }

    async fn read(response: reqwest::Response) -> Page {
        let status = response.status();
        let location = response
            .headers()
            .get(LOCATION)
            .map(|v| v.to_str().unwrap().to_owned());
        Page {
            status,
            location,
            html: response.text().await.unwrap(),
        }
    }

    async fn get(&self, path: &str) -> Page {
        Self::read(self.client.get(self.app.url(path)).send().await.unwrap()).await
    }

    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        Self::read(
            self.client
                .post(self.app.url(path))
                .form(fields)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// Posts and checks the answer is a redirect (Post/Redirect/Get); answers its target.
    async fn post_redirected(&self, path: &str, fields: &[(&str, &str)]) -> String {
        let page = self.post(path, fields).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}: {}", page.html);
        page.location.expect("a Location header")
    }

    async fn log_in(&self, email: &str, password: &str) {
        let to = self
            .post_redirected(
                "/connexion",
                &[("email", email), ("mot_de_passe", password)],
            )
            .await;
        assert_eq!(to, "/");
    }

    /// The CSRF token of the signed-in session, as a page's forms carry it.
    async fn csrf(&self) -> String {
        attribute_after(&self.get("/foyer").await.html, "name=\"csrf\"", "value")
    }
}

/// The value of `attribute` in the tag where `marker` first appears.
fn attribute_after(html: &str, marker: &str, attribute: &str) -> String {
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in {html}"));
    let tag_start = html[..start].rfind('<').unwrap();
    let tag_end = start + html[start..].find('>').unwrap();
    attribute_of(&html[tag_start..tag_end], attribute).unwrap()
}

fn attribute_of(tag: &str, attribute: &str) -> Option<String> {
    let key = format!(" {attribute}=\"");
    let start = tag.find(&key)? + key.len();
    let len = tag[start..].find('"')?;
    Some(tag[start..start + len].to_owned())
}

/// The opening tags of every element named `name` (`input`, `select`…).
fn tags<'a>(html: &'a str, name: &str) -> Vec<&'a str> {
    let open = format!("<{name}");
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find(&open) {
        let tail = &rest[i..];
        let end = tail.find('>').unwrap();
        found.push(&tail[..=end]);
        rest = &tail[end..];
    }
    found
}

/// The days of a calendar page that have a button: (date, action).
fn day_buttons(html: &str, child: i64) -> Vec<(NaiveDate, String)> {
    let marker = format!("action=\"/enfants/{child}/jours/");
    html.match_indices(&marker)
        .map(|(i, _)| {
            let rest = &html[i + marker.len()..];
            let date: NaiveDate = rest[..10].parse().unwrap();
            let form = &rest[..rest.find("</form>").unwrap()];
            let button = tags(form, "button")[0];
            (date, attribute_of(button, "value").unwrap())
        })
        .collect()
}

/// The day's list item in a calendar page.
fn day_item(html: &str, date: NaiveDate) -> &str {
    let start = html.find(&format!("id=\"j-{date}\"")).unwrap();
    let end = start + html[start..].find("</li>").unwrap();
    &html[start..end]
}

/// The token of the link to `path` (`/confirmer?token=`) in the last mail of the spool.
fn link_token(browser: &Browser, path: &str) -> String {
    mail::last(browser.app.data_dir()).link_token(path)
}

/// A school and the current school year, as a commune sets them up.
async fn school_and_year(app: &TestApp) -> i64 {
    fixtures::current_school_year(app).await;
    fixtures::school(&app.pool, "École des Tilleuls", "1 rue des Tilleuls").await
}

async fn demo() -> Browser {
    let browser = Browser::new().await;
    cantine::demo::seed(
        &browser.app.pool,
        &browser.app.rules(),
        Some(DEMO_PASSWORD.into()),
        None,
    )
    .await
    .unwrap();
    browser
}

/// The demo, signed in as the Martin family (two children, enrolled and booked).
async fn demo_as_martin() -> Browser {
    let browser = demo().await;
    browser.log_in(MARTIN, DEMO_PASSWORD).await;
    browser
}

async fn child_of(browser: &Browser, email: &str) -> i64 {
    sqlx::query_scalar(
        "select c.id from child c join account a on a.household_id = c.household_id
         where a.email = $1 order by c.id limit 1",
    )
    .bind(email)
    .fetch_one(&browser.app.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_parent_signs_up_confirms_by_mail_logs_in_adds_a_child_and_requests_enrollment() {
    let browser = Browser::new().await;
    let school = school_and_year(&browser.app).await;

    let form = browser.get("/inscription").await;
    assert_eq!(form.status, StatusCode::OK);
    let to = browser
        .post_redirected(
            "/inscription",
            &[
                ("invitation", ""),
                ("prenom", "Élodie"),
                ("nom", "Durand"),
                ("email", "elodie.durand@example.test"),
                ("telephone", ""),
                ("mot_de_passe", "un-mot-de-passe-solide"),
            ],
        )
        .await;
    assert_eq!(to, "/connexion?info=inscrit");
    assert!(browser.get(&to).await.html.contains("Ouvrez le lien"));

    // Following the mailed link shows a button and confirms nothing by itself.
    let token = link_token(&browser, "/confirmer?token=");
    let confirm = browser.get(&format!("/confirmer?token={token}")).await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(confirm.html.contains("Confirmer mon adresse"));
    let refused = browser
        .post(
            "/connexion",
            &[
                ("email", "elodie.durand@example.test"),
                ("mot_de_passe", "un-mot-de-passe-solide"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.html.contains("pas encore confirmée"));

    let to = browser
        .post_redirected("/confirmer", &[("token", &token)])
        .await;
    assert_eq!(to, "/connexion?info=confirme");
    browser
        .log_in("elodie.durand@example.test", "un-mot-de-passe-solide")
        .await;
    let home = browser.get("/").await;
    assert!(home.html.contains("Bonjour Élodie"), "{}", home.html);

    let csrf = browser.csrf().await;
    let new_child = browser.get("/enfants/nouveau").await;
    assert!(new_child.html.contains("École des Tilleuls"));
    let birth = (browser.app.rules().today() - Days::new(7 * 365)).to_string();
    let school = school.to_string();
    let to = browser
        .post_redirected(
            "/enfants/nouveau",
            &[
                ("csrf", &csrf),
                ("prenom", "Lucas"),
                ("nom", "Durand"),
                ("naissance", &birth),
                ("ecole", &school),
                ("classe", "CE1"),
                ("regime", "vegetarian"),
                ("allergies", "arachides"),
                ("pai", "oui"),
            ],
        )
        .await;
    let child: i64 = to
        .strip_prefix("/enfants/")
        .and_then(|rest| rest.strip_suffix("/inscription"))
        .unwrap()
        .parse()
        .unwrap();

    let enrollment = browser.get(&to).await;
    assert_eq!(enrollment.status, StatusCode::OK);
    for day in ["mon", "tue", "thu", "fri"] {
        assert!(enrollment.html.contains(&format!("value=\"{day}\"")));
    }
    assert!(
        !enrollment.html.contains("value=\"wed\""),
        "Wednesday is not served"
    );
    let to = browser
        .post_redirected(
            &to,
            &[
                ("csrf", &csrf),
                ("jours", "mon"),
                ("jours", "tue"),
                ("jours", "thu"),
            ],
        )
        .await;
    assert_eq!(to, "/foyer?info=demande");
    let household = browser.get(&to).await;
    assert!(household.html.contains("Lucas Durand"));
    assert!(household.html.contains("en attente de validation"));

    let (status, weekdays): (String, Vec<i16>) =
        sqlx::query_as("select status, weekdays from enrollment where child_id = $1")
            .bind(child)
            .fetch_one(&browser.app.pool)
            .await
            .unwrap();
    assert_eq!((status.as_str(), weekdays), ("pending", vec![1, 2, 4]));
}

#[tokio::test]
async fn a_refused_form_comes_back_with_its_message_its_values_and_a_4xx() {
    let browser = Browser::new().await;
    let page = browser
        .post(
            "/inscription",
            &[
                ("prenom", "Paul"),
                ("nom", "Petit"),
                ("email", "paul@example.test"),
                ("mot_de_passe", "court"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.html.contains("role=\"alert\""));
    assert!(
        page.html.contains("au moins 10 caractères"),
        "{}",
        page.html
    );
    assert!(page.html.contains("value=\"paul@example.test\""));
}

#[tokio::test]
async fn the_month_calendar_books_and_cancels_a_day_through_its_buttons() {
    let browser = demo_as_martin().await;
    let child = child_of(&browser, MARTIN).await;
    let csrf = browser.csrf().await;
    let thursday = day("2026-12-03");

    // Validation booked the usual days; Thursday is still open: it can be cancelled.
    let page = browser
        .get(&format!("/enfants/{child}/calendrier?mois=2026-12"))
        .await;
    assert!(day_buttons(&page.html, child).contains(&(thursday, "annuler".to_owned())));
    let to = browser
        .post_redirected(
            &format!("/enfants/{child}/jours/{thursday}"),
            &[("csrf", &csrf), ("mois", "2026-12"), ("action", "annuler")],
        )
        .await;
    assert!(
        to.starts_with(&format!("/enfants/{child}/calendrier?mois=2026-12")),
        "{to}"
    );
    let page = browser.get(&to).await;
    assert!(page.html.contains("Repas du jeudi 3 décembre annulé."));
    let item = day_item(&page.html, thursday);
    assert!(item.contains("Pas de repas"), "{item}");
    assert!(item.contains("value=\"reserver\""), "{item}");

    browser
        .post_redirected(
            &format!("/enfants/{child}/jours/{thursday}"),
            &[("csrf", &csrf), ("mois", "2026-12"), ("action", "reserver")],
        )
        .await;
    let page = browser
        .get(&format!("/enfants/{child}/calendrier?mois=2026-12"))
        .await;
    let item = day_item(&page.html, thursday);
    assert!(item.contains("Repas réservé"), "{item}");
    assert!(item.contains("value=\"annuler\""), "{item}");

    let history: i64 = sqlx::query_scalar(
        "select count(*) from reservation_event where child_id = $1 and service_date = $2 and source = 'parent'",
    )
    .bind(child)
    .bind(thursday)
    .fetch_one(&browser.app.pool)
    .await
    .unwrap();
    assert_eq!(history, 2);
}

#[tokio::test]
async fn a_change_at_the_deadline_is_refused_and_the_calendar_says_why() {
    let browser = demo_as_martin().await;
    let child = child_of(&browser, MARTIN).await;
    let csrf = browser.csrf().await;
    let thursday = day("2026-12-03");
    let path = format!("/enfants/{child}/jours/{thursday}");

    browser
        .app
        .clock()
        .set(Utc.with_ymd_and_hms(2026, 11, 30, 8, 59, 59).unwrap());
    browser
        .post_redirected(&path, &[("csrf", &csrf), ("action", "annuler")])
        .await;

    browser
        .app
        .clock()
        .set(Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap());
    let refused = browser
        .post(
            &path,
            &[("csrf", &csrf), ("mois", "2026-12"), ("action", "reserver")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(refused.html.contains("role=\"alert\""));
    assert!(
        refused.html.contains("ne peut plus être modifié"),
        "{}",
        refused.html
    );
    let item = day_item(&refused.html, thursday);
    assert!(item.contains("Verrouillé"), "{item}");
    assert!(item.contains("Pas de repas"), "{item}");
    assert!(!item.contains("<button"), "{item}");
}

#[tokio::test]
async fn locked_and_non_service_days_say_why_in_text_and_have_no_button() {
    let browser = demo_as_martin().await;
    let child = child_of(&browser, MARTIN).await;
    let page = browser
        .get(&format!("/enfants/{child}/calendrier?mois=2026-12"))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("<h2>décembre 2026</h2>"));
    assert!(page.html.contains("?mois=2026-11"));
    assert!(page.html.contains("?mois=2027-01"));

    let wednesday = day_item(&page.html, day("2026-12-02"));
    assert!(
        wednesday.contains("Pas de cantine le mercredi"),
        "{wednesday}"
    );
    let tuesday = day_item(&page.html, day("2026-12-01"));
    assert!(tuesday.contains("Verrouillé"), "{tuesday}");
    let christmas = day_item(&page.html, day("2026-12-25"));
    assert!(christmas.contains("Pas de cantine"), "{christmas}");
    assert!(christmas.contains("Noël"), "{christmas}");
    for item in [wednesday, tuesday, christmas] {
        assert!(!item.contains("<button"), "{item}");
    }
    // Weekends are left out of the month.
    assert!(!page.html.contains("id=\"j-2026-12-05\""));
}

#[tokio::test]
async fn a_form_post_without_its_csrf_field_and_without_origin_is_refused() {
    let browser = demo_as_martin().await;
    let child = child_of(&browser, MARTIN).await;
    let day = day("2026-12-03");

    let page = browser
        .post(
            &format!("/enfants/{child}/jours/{day}"),
            &[("action", "annuler")],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.html.contains("lang=\"fr\""));
    let wrong = browser
        .post(
            &format!("/enfants/{child}/jours/{day}"),
            &[("csrf", "pas-le-bon-jeton"), ("action", "annuler")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    let logout = browser.post("/deconnexion", &[]).await;
    assert_eq!(logout.status, StatusCode::FORBIDDEN);

    let booked: bool = sqlx::query_scalar(
        "select booked from reservation where child_id = $1 and service_date = $2",
    )
    .bind(child)
    .bind(day)
    .fetch_one(&browser.app.pool)
    .await
    .unwrap();
    assert!(booked, "nothing changed");
    assert_eq!(
        browser.get("/foyer").await.status,
        StatusCode::OK,
        "still signed in"
    );
}

#[tokio::test]
async fn another_households_child_answers_404_on_every_page() {
    let browser = demo_as_martin().await;
    let csrf = browser.csrf().await;
    let stranger = child_of(&browser, "famille.bernard@techniville.test").await;
    let day = "2026-12-03";

    for path in ["calendrier", "semaine-type", "inscription"] {
        let page = browser.get(&format!("/enfants/{stranger}/{path}")).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
        assert!(page.html.contains("Page introuvable"), "{path}");
    }
    let post = browser
        .post(
            &format!("/enfants/{stranger}/jours/{day}"),
            &[("csrf", &csrf), ("action", "reserver")],
        )
        .await;
    assert_eq!(post.status, StatusCode::NOT_FOUND);
    let pattern = browser
        .post(
            &format!("/enfants/{stranger}/semaine-type"),
            &[("csrf", &csrf), ("du", day), ("au", day), ("jours", "mon")],
        )
        .await;
    assert_eq!(pattern.status, StatusCode::NOT_FOUND);
    let malformed = browser.get("/enfants/pas-un-nombre/calendrier").await;
    assert_eq!(malformed.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn pages_that_need_a_session_send_visitors_to_log_in_and_back() {
    let browser = demo().await;
    for path in [
        "/foyer",
        "/enfants/nouveau",
        "/enfants/1/calendrier",
        "/enfants/1/semaine-type",
    ] {
        let page = browser.get(path).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
        let location = page.location.unwrap();
        assert!(location.starts_with("/connexion?suite=%2F"), "{location}");
    }
    let home = browser.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.html.contains("href=\"/connexion\""));
    assert!(home.html.contains("href=\"/inscription\""));

    // The login form carries the page asked for, and goes there once logged in.
    let to = browser
        .get("/enfants/1/calendrier?mois=2026-12")
        .await
        .location
        .unwrap();
    let form = browser.get(&to).await;
    let back_to = attribute_after(&form.html, "name=\"suite\"", "value");
    assert_eq!(back_to, "/enfants/1/calendrier?mois=2026-12");
    let to = browser
        .post_redirected(
            "/connexion",
            &[
                ("email", MARTIN),
                ("mot_de_passe", DEMO_PASSWORD),
                ("suite", &back_to),
            ],
        )
        .await;
    assert_eq!(to, back_to);

    // Logging out closes the session: the pages ask to log in again.
    let csrf = browser.csrf().await;
    let to = browser
        .post_redirected("/deconnexion", &[("csrf", &csrf)])
        .await;
    assert_eq!(to, "/connexion?info=deconnecte");
    assert_eq!(browser.get("/foyer").await.status, StatusCode::SEE_OTHER);

    // Never to another site.
    let to = browser
        .post_redirected(
            "/connexion",
            &[
                ("email", MARTIN),
                ("mot_de_passe", DEMO_PASSWORD),
                ("suite", "//evil.example/"),
            ],
        )
        .await;
    assert_eq!(to, "/");
}

#[tokio::test]
async fn the_home_page_shows_each_childs_coming_week_and_next_deadline() {
    let browser = demo_as_martin().await;
    let home = browser.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.html.contains("Semaine du lundi 30 novembre 2026"));
    assert_eq!(
        home.html.matches("class=\"carte\"").count(),
        2,
        "two children"
    );
    assert_eq!(
        home.html
            .matches("Prochaine échéance : le repas du jeudi 3 déc. est modifiable jusqu&#39;au lundi 30 nov. à 10:00.")
            .count(),
        2,
        "{}",
        home.html
    );
    // Five weekdays per child, each with its state in words.
    assert_eq!(home.html.matches("class=\"jour-etat\"").count(), 10);
    assert_eq!(home.html.matches("Pas de cantine le mercredi").count(), 2);
    assert!(home.html.contains("Verrouillé"));
    assert!(home.html.contains("Repas réservé"));

    // At the weekend, the coming week is the next one.
    browser
        .app
        .clock()
        .set(Utc.with_ymd_and_hms(2026, 12, 5, 12, 0, 0).unwrap());
    let home = browser.get("/").await;
    assert!(home.html.contains("Semaine du lundi 7 décembre 2026"));
}

#[tokio::test]
async fn the_weekly_pattern_reports_which_days_changed_and_which_were_locked() {
    let browser = demo_as_martin().await;
    let csrf = browser.csrf().await;
    let children: Vec<i64> = sqlx::query_scalar(
        "select c.id from child c join account a on a.household_id = c.household_id
         where a.email = $1 order by c.id",
    )
    .bind(MARTIN)
    .fetch_all(&browser.app.pool)
    .await
    .unwrap();
    let path = format!("/enfants/{}/semaine-type", children[0]);

    let form = browser.get(&path).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(
        form.html.contains(&format!("value=\"{}\"", children[1])),
        "the sibling is offered"
    );

    // Mondays only, for both siblings, over two weeks.
    let sibling = children[1].to_string();
    let page = browser
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("du", "2026-11-30"),
                ("au", "2026-12-11"),
                ("jours", "mon"),
                ("enfants", &sibling),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    assert!(page.html.contains("Semaine type appliquée"));
    assert_eq!(page.html.matches("<h3>").count(), 2, "one report per child");
    // The demo booked the whole year: Thursday 3 and the other open days are cancelled.
    assert!(page.html.contains("Jeudi 3 décembre 2026 : repas annulé"));
    assert!(
        page.html
            .contains("Vendredi 11 décembre 2026 : repas annulé")
    );
    assert!(
        !page.html.contains("Lundi 7 décembre 2026 : repas"),
        "Monday stays booked"
    );
    // Tuesday 1 December is past its deadline: kept booked, and said so.
    assert!(
        page.html.contains(
            "Mardi 1er décembre 2026 : repas non annulé, la date limite était le vendredi 27 nov. à 10:00"
        ),
        "{}",
        page.html
    );

    // Posting the same pattern again changes nothing and says so.
    let again = browser
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("du", "2026-11-30"),
                ("au", "2026-12-11"),
                ("jours", "mon"),
            ],
        )
        .await;
    assert!(again.html.contains("Aucun jour modifié"), "{}", again.html);
}

#[tokio::test]
async fn pages_are_french_and_label_every_field() {
    let browser = demo().await;
    let mut pages = Vec::new();
    for path in ["/", "/connexion", "/inscription", "/confirmer?token=abc"] {
        pages.push((path.to_owned(), browser.get(path).await));
    }
    browser.log_in(MARTIN, DEMO_PASSWORD).await;
    let child = child_of(&browser, MARTIN).await;
    for path in [
        "/".to_owned(),
        "/foyer".to_owned(),
        "/enfants/nouveau".to_owned(),
        format!("/enfants/{child}/calendrier"),
        format!("/enfants/{child}/semaine-type"),
        format!("/enfants/{child}/calendrier?mois=2000-01"),
    ] {
        pages.push((path.clone(), browser.get(&path).await));
    }
    let csrf = browser.csrf().await;
    browser
        .post_redirected("/deconnexion", &[("csrf", &csrf)])
        .await;
    let bernard = &browser;
    bernard
        .log_in("famille.bernard@techniville.test", DEMO_PASSWORD)
        .await;
    // Without an enrollment, the child's page offers the request form.
    let pending = child_of(bernard, "famille.bernard@techniville.test").await;
    sqlx::query("delete from enrollment where child_id = $1")
        .bind(pending)
        .execute(&bernard.app.pool)
        .await
        .unwrap();
    pages.push((
        "enrollment".to_owned(),
        bernard
            .get(&format!("/enfants/{pending}/inscription"))
            .await,
    ));

    for (path, page) in &pages {
        let html = &page.html;
        assert!(html.contains("<html lang=\"fr\">"), "{path}");
        assert!(html.contains("href=\"#contenu\""), "{path}: skip link");
        assert_eq!(html.matches("<h1").count(), 1, "{path}: one h1");
        let fields = tags(html, "input")
            .into_iter()
            .filter(|t| !t.contains("type=\"hidden\""))
            .chain(tags(html, "select"))
            .chain(tags(html, "textarea"));
        for field in fields {
            let id =
                attribute_of(field, "id").unwrap_or_else(|| panic!("{path}: {field} has no id"));
            assert!(
                html.contains(&format!("<label for=\"{id}\"")),
                "{path}: no label for {field}"
            );
        }
    }
}

#[tokio::test]
async fn the_stylesheet_is_served_and_pages_use_no_inline_style_or_script() {
    let browser = Browser::new().await;
    let css = browser
        .client
        .get(browser.app.url("/static/app.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(css.status(), StatusCode::OK);
    assert!(
        css.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    for path in ["/", "/connexion", "/inscription"] {
        let html = browser.get(path).await.html;
        assert!(!html.contains("style="), "{path}");
        assert!(!html.contains("<style"), "{path}");
        assert!(!html.contains("<script"), "{path}");
    }
}

#[tokio::test]
async fn an_invited_guardian_signs_up_from_the_mailed_link_and_sees_the_same_children() {
    let browser = demo_as_martin().await;
    let csrf = browser.csrf().await;
    let to = browser
        .post_redirected(
            "/foyer/invitation",
            &[("csrf", &csrf), ("email", "second.parent@example.test")],
        )
        .await;
    assert_eq!(to, "/foyer?info=invitation");
    assert!(browser.get(&to).await.html.contains("Invitation envoyée"));
    let bad = browser
        .post(
            "/foyer/invitation",
            &[("csrf", &csrf), ("email", "pas-une-adresse")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.html.contains("Adresse e-mail invalide"));
    assert!(bad.html.contains("<title>Erreur – Mon foyer"));
    browser
        .post_redirected("/deconnexion", &[("csrf", &csrf)])
        .await;

    let token = link_token(&browser, "/inscription?token=");
    let form = browser.get(&format!("/inscription?token={token}")).await;
    assert_eq!(
        attribute_after(&form.html, "name=\"invitation\"", "value"),
        token
    );
    let to = browser
        .post_redirected(
            "/inscription",
            &[
                ("invitation", &token),
                ("prenom", "Sam"),
                ("nom", "Martin"),
                ("email", "second.parent@example.test"),
                ("telephone", "06 00 00 00 00"),
                ("mot_de_passe", "un-autre-mot-de-passe"),
            ],
        )
        .await;
    assert_eq!(to, "/connexion?info=invite", "no confirmation needed");
    browser
        .log_in("second.parent@example.test", "un-autre-mot-de-passe")
        .await;
    let household = browser.get("/foyer").await;
    assert_eq!(
        household.html.matches("Martin</h3>").count(),
        2,
        "{}",
        household.html
    );

    // The link is single-use.
    let again = browser
        .post(
            "/inscription",
            &[
                ("invitation", &token),
                ("prenom", "Sam"),
                ("nom", "Martin"),
                ("email", "troisieme@example.test"),
                ("mot_de_passe", "un-autre-mot-de-passe"),
            ],
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.html.contains("déjà utilisé"));
}

#[tokio::test]
async fn an_unknown_address_is_a_french_page_for_browsers_and_a_problem_for_api_clients() {
    let browser = Browser::new().await;
    let page = browser
        .client
        .get(browser.app.url("/page-inexistante"))
        .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    let html = page.text().await.unwrap();
    assert!(html.contains("<html lang=\"fr\">"));
    assert!(html.contains("Page introuvable"));

    let api = browser
        .client
        .get(browser.app.url("/page-inexistante"))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::NOT_FOUND);
    assert_eq!(api.headers()[CONTENT_TYPE], "application/problem+json");
}
