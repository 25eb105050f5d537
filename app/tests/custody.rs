//! Shared custody through the real router and a real PostgreSQL: a manager records a child's
//! arrangement (audited), the second household then sees the child and each household books
//! and cancels only its own days (alternate weeks, ranges), or both book (shares); a third
//! household still sees nothing; a bad arrangement is refused with its French words.

use cantine_domain::roles::Role;
use cantine_test_support::TestApp;
use cantine_test_support::fixtures::{self, Family, StaffMember};
use cantine_test_support::time::{date, paris};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const PASSWORD: &str = "un mot de passe solide";

/// One school, the 2026-2027 year, the clock on Thursday 19 November 2026 at 08:30 in Paris.
/// ISO weeks: 30 November–4 December is week 49 (odd), 7–11 December week 50 (even), 14–18
/// December week 51 (odd). Every day from 30 November on is still open to changes.
///
/// Léa is the Martin household's own child (the first household), enrolled Mon, Tue, Thu,
/// Fri, so every such day is booked; the Dupont household will be the second; the Durand
/// household has nothing to do with her.
struct Town {
    app: TestApp,
    first: Family,
    second: Family,
    third: Family,
    lea: i64,
    manager: StaffMember,
}

async fn town() -> Town {
    let app = TestApp::builder()
        .clock(paris("2026-11-19 08:30:00"))
        .spawn()
        .await;
    let school = fixtures::school(&app.pool, "École Jules-Ferry", "").await;
    fixtures::school_year(
        &app.pool,
        "2026-2027",
        date("2026-09-01"),
        date("2027-07-03"),
    )
    .await;
    let first = fixtures::family(&app, "martin", PASSWORD).await;
    let second = fixtures::family(&app, "dupont", PASSWORD).await;
    let third = fixtures::family(&app, "durand", PASSWORD).await;
    let lea = fixtures::enrolled_child(&app, &first, school, "Léa").await;
    let hash = fixtures::staff_password_hash();
    let manager = fixtures::staff(&app, "gestion", Role::Manager, &[], &hash).await;
    Town {
        app,
        first,
        second,
        third,
        lea,
        manager,
    }
}

impl Town {
    async fn set(&self, arrangement: Value) -> reqwest::Response {
        self.manager
            .call(
                Method::PUT,
                &format!("/api/v1/staff/children/{}/custody", self.lea),
                Some(json!({
                    "other_household_id": self.second.household,
                    "arrangement": arrangement,
                    "reference": "Jugement du JAF de Lyon du 3 mars 2026",
                })),
            )
            .await
    }

    async fn set_ok(&self, arrangement: Value) {
        let response = self.set(arrangement).await;
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "{:?}",
            response.text().await
        );
    }

    /// Books (`true`) or cancels a day of Léa's as `family`, through the API.
    async fn day(&self, family: &Family, date: &str, book: bool) -> reqwest::Response {
        let method = if book { Method::PUT } else { Method::DELETE };
        family
            .call(
                method,
                &format!("/api/v1/children/{}/reservations/{date}", self.lea),
                None,
            )
            .await
    }

    async fn booked(&self, date: &str) -> bool {
        sqlx::query_scalar(
            "select coalesce((select booked from reservation
              where child_id = $1 and service_date = $2::date), false)",
        )
        .bind(self.lea)
        .bind(date)
        .fetch_one(&self.app.pool)
        .await
        .unwrap()
    }

    async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(&self.app.pool)
            .await
            .unwrap()
    }

    async fn page(&self, family: &Family, path: &str) -> (StatusCode, String) {
        let response = family.call(Method::GET, path, None).await;
        (response.status(), page_text(response).await)
    }
}

/// A page's text with the apostrophes the templates escape put back, to search for words.
async fn page_text(response: reqwest::Response) -> String {
    response
        .text()
        .await
        .unwrap()
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
}

async fn refused_as_the_other_households_day(response: reqwest::Response) {
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "other_households_day", "{problem}");
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("Léa est chez l'autre parent : c'est lui qui réserve ce jour-là"),
        "{detail}"
    );
}

/// The `<li>` of a day on a calendar page.
fn day_row<'a>(html: &'a str, date: &str) -> &'a str {
    let id = html
        .find(&format!("id=\"j-{date}\""))
        .unwrap_or_else(|| panic!("{date} on the page"));
    let start = html[..id].rfind("<li").unwrap();
    let end = start + html[start..].find("</li>").unwrap();
    &html[start..end]
}

#[tokio::test]
async fn alternate_weeks_let_each_household_book_its_own_weeks_only() {
    let town = town().await;
    town.set_ok(json!({"kind": "alternate_weeks", "first_has_even_weeks": true}))
        .await;

    // Monday 30 November, week 49 (odd): the second household's.
    refused_as_the_other_households_day(town.day(&town.first, "2026-11-30", false).await).await;
    assert!(
        town.booked("2026-11-30").await,
        "the refusal changed nothing"
    );
    let response = town.day(&town.second, "2026-11-30", false).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.unwrap()["changed"], true);
    assert!(!town.booked("2026-11-30").await);
    let response = town.day(&town.second, "2026-11-30", true).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(town.booked("2026-11-30").await);
    // Tuesday 8 December, week 50 (even): the first household's.
    refused_as_the_other_households_day(town.day(&town.second, "2026-12-08", false).await).await;
    let response = town.day(&town.first, "2026-12-08", false).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(!town.booked("2026-12-08").await);

    // Each household's list says which days are the other's, and those are locked for it.
    let days: Vec<Value> = town
        .second
        .call(
            Method::GET,
            &format!(
                "/api/v1/children/{}/reservations?from=2026-11-30&to=2026-12-11",
                town.lea
            ),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    let day = |date: &str| days.iter().find(|d| d["date"] == date).unwrap().clone();
    assert_eq!(day("2026-12-01")["other_household"], false);
    assert_eq!(day("2026-12-01")["locked"], false);
    assert_eq!(day("2026-12-08")["other_household"], true);
    assert_eq!(day("2026-12-08")["locked"], true);

    // The calendar page: the other household's days greyed, in words and with a symbol, and
    // without a button; its own days with theirs.
    let (status, html) = town
        .page(
            &town.second,
            &format!("/enfants/{}/calendrier?mois=2026-12", town.lea),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let theirs = day_row(&html, "2026-12-08");
    assert!(theirs.contains("jour-autre-foyer"), "{theirs}");
    assert!(theirs.contains("⇄"), "{theirs}");
    assert!(theirs.contains("Chez l'autre parent"), "{theirs}");
    assert!(!theirs.contains("<form"), "{theirs}");
    let own = day_row(&html, "2026-12-01");
    assert!(own.contains("<form"), "{own}");
    assert!(!own.contains("autre-foyer"), "{own}");
    assert!(html.contains("chez l'autre parent : c'est l'autre foyer qui réserve"));
    // The day's form posted for the other household's day anyway: the page says why.
    let response = town
        .second
        .client
        .post(
            town.app
                .url(&format!("/enfants/{}/jours/2026-12-10", town.lea)),
        )
        .header("origin", town.app.origin())
        .form(&[
            ("csrf", town.second.csrf.as_str()),
            ("action", "annuler"),
            ("mois", "2026-12"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let html = page_text(response).await;
    assert!(
        html.contains("Léa est chez l'autre parent : c'est lui qui réserve ce jour-là"),
        "{html}"
    );
    assert!(town.booked("2026-12-10").await);

    // A weekly pattern over three weeks: the second household's Mondays only, everything
    // else of its weeks cancelled, the first household's week left as it was and listed.
    let response = town
        .second
        .call(
            Method::POST,
            "/api/v1/reservations/pattern",
            Some(
                json!({"children": [town.lea], "from": "2026-11-30", "to": "2026-12-18",
                        "weekdays": ["mon"]}),
            ),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let result: Vec<Value> = response.json().await.unwrap();
    let changed: Vec<&str> = result[0]["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["date"].as_str().unwrap())
        .collect();
    assert_eq!(
        changed,
        [
            "2026-12-01",
            "2026-12-03",
            "2026-12-04",
            "2026-12-15",
            "2026-12-17",
            "2026-12-18"
        ]
    );
    // The first household's week: what the pattern would have cancelled, left as it was
    // (8 December it had cancelled itself: nothing to change there).
    assert_eq!(
        result[0]["other_household_days"],
        json!(["2026-12-10", "2026-12-11"])
    );
    assert!(town.booked("2026-12-07").await);
    assert!(town.booked("2026-12-10").await);
    assert!(town.booked("2026-12-14").await);
    assert!(!town.booked("2026-12-15").await);
}

#[tokio::test]
async fn ranges_give_their_days_to_the_second_household() {
    let town = town().await;
    town.set_ok(json!({"kind": "ranges", "second": [
        {"first_day": "2026-12-01", "last_day": "2026-12-04"},
        {"first_day": "2026-12-14", "last_day": "2026-12-15"},
    ]}))
    .await;
    for (date, own, other) in [
        ("2026-12-03", &town.second, &town.first),
        ("2026-12-15", &town.second, &town.first),
        ("2026-11-30", &town.first, &town.second),
        ("2026-12-10", &town.first, &town.second),
    ] {
        refused_as_the_other_households_day(town.day(other, date, false).await).await;
        let response = town.day(own, date, false).await;
        assert_eq!(response.status(), StatusCode::OK, "{date}");
        assert!(!town.booked(date).await, "{date}");
    }
}

#[tokio::test]
async fn shares_let_both_households_book_every_day() {
    let town = town().await;
    town.set_ok(json!({"kind": "shares", "first_basis_points": 5000}))
        .await;
    let response = town.day(&town.first, "2026-12-03", false).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(!town.booked("2026-12-03").await);
    let response = town.day(&town.second, "2026-12-03", true).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(town.booked("2026-12-03").await);
    let response = town.day(&town.second, "2026-12-08", false).await;
    assert_eq!(response.status(), StatusCode::OK);
    let days: Vec<Value> = town
        .second
        .call(
            Method::GET,
            &format!(
                "/api/v1/children/{}/reservations?from=2026-11-30&to=2026-12-11",
                town.lea
            ),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(days.iter().all(|d| d["other_household"] == false));
}

#[tokio::test]
async fn the_second_household_sees_the_child_and_a_third_sees_nothing() {
    let town = town().await;
    let lea = town.lea;
    // Before any arrangement, the Dupont household does not see Léa either.
    let response = town
        .second
        .call(Method::GET, &format!("/api/v1/children/{lea}"), None)
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    town.set_ok(json!({"kind": "alternate_weeks", "first_has_even_weeks": false}))
        .await;

    let children: Vec<Value> = town
        .second
        .call(Method::GET, "/api/v1/children", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(children.len(), 1);
    assert_eq!(children[0]["id"], lea);
    assert_eq!(children[0]["shared_custody"], "second");
    assert_eq!(children[0]["enrollment_status"], "validated");
    let children: Vec<Value> = town
        .first
        .call(Method::GET, "/api/v1/children", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(children[0]["shared_custody"], "first");
    let response = town
        .second
        .call(Method::GET, &format!("/api/v1/children/{lea}"), None)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let (status, html) = town.page(&town.second, "/foyer").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Léa Martin"), "{html}");
    assert!(html.contains("l'autre foyer gère la fiche et l'inscription"));
    let (status, html) = town.page(&town.second, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Léa Martin"));
    let (status, _) = town
        .page(&town.second, &format!("/enfants/{lea}/calendrier"))
        .await;
    assert_eq!(status, StatusCode::OK);
    // Her enrollment stays with the first household: a refusal that says so.
    let response = town
        .second
        .call(
            Method::POST,
            &format!("/api/v1/children/{lea}/enrollment"),
            Some(json!({"weekdays": ["mon"], "school_year": "2027-2028"})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "forbidden");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("seul le foyer principal")
    );

    // The Durand household: nothing, everywhere a child is looked up.
    let children: Vec<Value> = town
        .third
        .call(Method::GET, "/api/v1/children", None)
        .await
        .json()
        .await
        .unwrap();
    assert!(children.is_empty(), "{children:?}");
    for (method, path, body) in [
        (Method::GET, format!("/api/v1/children/{lea}"), None),
        (
            Method::GET,
            format!("/api/v1/children/{lea}/reservations?from=2026-11-30&to=2026-12-11"),
            None,
        ),
        (
            Method::GET,
            format!("/api/v1/children/{lea}/history?from=2026-11-30&to=2026-12-11"),
            None,
        ),
        (
            Method::PUT,
            format!("/api/v1/children/{lea}/reservations/2026-11-30"),
            None,
        ),
        (
            Method::DELETE,
            format!("/api/v1/children/{lea}/reservations/2026-12-07"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/children/{lea}/enrollment"),
            Some(json!({"weekdays": ["mon"], "school_year": "2027-2028"})),
        ),
        (
            Method::POST,
            "/api/v1/reservations/pattern".to_owned(),
            Some(
                json!({"children": [lea], "from": "2026-11-30", "to": "2026-12-18",
                        "weekdays": ["mon"]}),
            ),
        ),
        (
            Method::POST,
            "/api/v1/absences".to_owned(),
            Some(json!({"children": [lea], "first_day": "2026-11-30",
                        "last_day": "2026-12-11", "reason": "other"})),
        ),
        (Method::GET, format!("/enfants/{lea}/calendrier"), None),
        (Method::GET, format!("/enfants/{lea}/semaine-type"), None),
        (Method::GET, format!("/enfants/{lea}/inscription"), None),
    ] {
        let response = town.third.call(method.clone(), &path, body).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{method} {path}");
    }
    let (_, html) = town.page(&town.third, "/foyer").await;
    assert!(!html.contains("Léa"), "{html}");
    assert!(town.booked("2026-11-30").await && town.booked("2026-12-07").await);

    // Once removed, the second household no longer sees her.
    let response = town
        .manager
        .call(
            Method::DELETE,
            &format!("/api/v1/staff/children/{lea}/custody"),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let response = town
        .second
        .call(Method::GET, &format!("/api/v1/children/{lea}"), None)
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = town.day(&town.second, "2026-12-01", false).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn each_household_declares_the_absences_of_its_own_days() {
    let town = town().await;
    town.set_ok(json!({"kind": "alternate_weeks", "first_has_even_weeks": true}))
        .await;
    // 3 to 8 December: Thursday 3 and Friday 4 are the second household's, 7 and 8 the first's.
    let response = town
        .second
        .call(
            Method::POST,
            "/api/v1/absences",
            Some(json!({"children": [town.lea], "first_day": "2026-12-03",
                        "last_day": "2026-12-08", "reason": "other"})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let absence: Value = response.json().await.unwrap();
    let days: Vec<&str> = absence["children"][0]["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["date"].as_str().unwrap())
        .collect();
    assert_eq!(days, ["2026-12-03", "2026-12-04"]);
    // A range wholly the first household's week: refused, with words.
    let response = town
        .second
        .call(
            Method::POST,
            "/api/v1/absences",
            Some(json!({"children": [town.lea], "first_day": "2026-12-07",
                        "last_day": "2026-12-11", "reason": "other"})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "other_households_day");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("c'est lui qui déclare ses absences")
    );
    // The first household does not see the second's declaration.
    let mine: Vec<Value> = town
        .first
        .call(Method::GET, "/api/v1/absences", None)
        .await
        .json()
        .await
        .unwrap();
    assert!(mine.is_empty(), "{mine:?}");
}

#[tokio::test]
async fn staff_set_replace_and_remove_a_custody_with_audit_entries() {
    let town = town().await;
    let lea = town.lea;
    let response = town
        .set(json!({"kind": "shares", "first_basis_points": 6000}))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let stored: Value = response.json().await.unwrap();
    assert_eq!(stored["child_id"], lea);
    assert_eq!(stored["first_household_id"], town.first.household);
    assert_eq!(stored["other_household_id"], town.second.household);
    assert_eq!(
        stored["arrangement"],
        json!({"kind": "shares", "first_basis_points": 6000})
    );
    assert_eq!(stored["updated_by"], "gestion@mairie.test");
    let page = town
        .manager
        .call(
            Method::GET,
            &format!("/gestion/foyers/{}", town.first.household),
            None,
        )
        .await;
    let page = page_text(page).await;
    assert!(
        page.contains("60\u{a0}% pour ce foyer, 40\u{a0}% pour l'autre"),
        "{page}"
    );
    assert!(page.contains("name=\"part\" type=\"text\" inputmode=\"decimal\" value=\"60\""));
    town.set_ok(json!({"kind": "ranges", "second": [
        {"first_day": "2026-12-01", "last_day": "2026-12-04"}]}))
        .await;
    assert_eq!(
        town.count("select count(*) from custody_range").await,
        1,
        "the ranges of the arrangement"
    );
    let (household, child, detail): (i64, i64, Value) = sqlx::query_as(
        "select household_id, child_id, detail from audit_entry
         where action = 'custody_set' order by id desc limit 1",
    )
    .fetch_one(&town.app.pool)
    .await
    .unwrap();
    assert_eq!((household, child), (town.first.household, lea));
    assert_eq!(detail["other_household_id"], town.second.household);
    assert_eq!(detail["arrangement"]["arrangement"], "ranges");
    assert_eq!(
        detail["replaced"]["arrangement"],
        json!({"arrangement": "shares", "first_basis_points": 6000})
    );
    assert_eq!(
        detail["reference"],
        "Jugement du JAF de Lyon du 3 mars 2026"
    );

    // The household page shows it, and the other household's page lists the child.
    let page = town
        .manager
        .call(
            Method::GET,
            &format!("/gestion/foyers/{}", town.first.household),
            None,
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!("foyer n° {}", town.second.household)),
        "{page}"
    );
    assert!(page.contains("du 01/12/2026 au 04/12/2026"), "{page}");
    let page = town
        .manager
        .call(
            Method::GET,
            &format!("/gestion/foyers/{}", town.second.household),
            None,
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Enfants en garde partagée avec ce foyer"),
        "{page}"
    );
    assert!(page.contains("Léa Martin"), "{page}");

    // The page's form: alternate weeks, the other household's even weeks.
    let form = |household: i64, fields: Vec<(&'static str, String)>| {
        let mut fields = fields;
        fields.push(("csrf", town.manager.csrf.clone()));
        town.manager
            .client
            .post(
                town.app
                    .url(&format!("/gestion/foyers/{household}/enfants/{lea}/garde")),
            )
            .header("origin", town.app.origin())
            .form(&fields)
            .send()
    };
    let fields = |kind: &str, part: &str| {
        vec![
            ("autre_foyer", town.second.household.to_string()),
            ("modalite", kind.to_owned()),
            ("semaines_paires", "autre-foyer".to_owned()),
            ("periodes", String::new()),
            ("part", part.to_owned()),
            (
                "reference",
                "Convention homologuée du 2 février 2026".to_owned(),
            ),
        ]
    };
    let response = form(town.first.household, fields("semaines", ""))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response
            .url()
            .query()
            .unwrap_or_default()
            .contains("info=garde"),
        "{}",
        response.url()
    );
    let page = page_text(response).await;
    assert!(page.contains("Garde partagée enregistrée"), "{page}");
    assert!(
        page.contains("les semaines impaires chez ce foyer, les semaines paires chez l'autre"),
        "{page}"
    );
    assert_eq!(town.count("select count(*) from custody_range").await, 0);
    // From the second household's page, the child is not its own: not found.
    let response = form(town.second.household, fields("semaines", ""))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    // A share of 100 %: the page again, with the reason.
    let response = form(town.first.household, fields("parts", "100"))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page_text(response)
            .await
            .contains("La part doit être comprise entre 0,01 % et 99,99 %.")
    );

    // Removal, from the page, then the API has nothing left to remove.
    let response = town
        .manager
        .client
        .post(town.app.url(&format!(
            "/gestion/foyers/{}/enfants/{lea}/garde/suppression",
            town.first.household
        )))
        .header("origin", town.app.origin())
        .form(&[("csrf", town.manager.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        page_text(response)
            .await
            .contains("Garde partagée supprimée")
    );
    assert_eq!(town.count("select count(*) from custody").await, 0);
    let (detail,): (Value,) = sqlx::query_as(
        "select detail from audit_entry where action = 'custody_removed' order by id desc limit 1",
    )
    .fetch_one(&town.app.pool)
    .await
    .unwrap();
    assert_eq!(
        detail["arrangement"],
        json!({"arrangement": "alternate_weeks", "first_has_even_weeks": false})
    );
    let response = town
        .manager
        .call(
            Method::DELETE,
            &format!("/api/v1/staff/children/{lea}/custody"),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        town.count("select count(*) from audit_entry where action like 'custody_%'")
            .await,
        4
    );
}

#[tokio::test]
async fn a_bad_arrangement_is_refused_with_its_reason_and_nothing_is_stored() {
    let town = town().await;
    let lea = town.lea;
    let reference = "Jugement du JAF de Lyon du 3 mars 2026";
    for (case, other, arrangement, reference, detail) in [
        (
            "overlapping ranges",
            town.second.household,
            json!({"kind": "ranges", "second": [
                {"first_day": "2026-12-01", "last_day": "2026-12-10"},
                {"first_day": "2026-12-10", "last_day": "2026-12-18"}]}),
            reference,
            "Deux périodes se chevauchent.",
        ),
        (
            "a reversed range",
            town.second.household,
            json!({"kind": "ranges", "second": [
                {"first_day": "2026-12-10", "last_day": "2026-12-01"}]}),
            reference,
            "Une période se termine avant de commencer.",
        ),
        (
            "no range",
            town.second.household,
            json!({"kind": "ranges", "second": []}),
            reference,
            "Donnez de 1 à 100 périodes",
        ),
        (
            "a 100 % share",
            town.second.household,
            json!({"kind": "shares", "first_basis_points": 10000}),
            reference,
            "La part doit être comprise entre 0,01 % et 99,99 %.",
        ),
        (
            "a 0 % share",
            town.second.household,
            json!({"kind": "shares", "first_basis_points": 0}),
            reference,
            "La part doit être comprise entre 0,01 % et 99,99 %.",
        ),
        (
            "the child's own household",
            town.first.household,
            json!({"kind": "alternate_weeks", "first_has_even_weeks": true}),
            reference,
            "un foyer existant, différent de celui de l'enfant",
        ),
        (
            "an unknown household",
            999_999,
            json!({"kind": "alternate_weeks", "first_has_even_weeks": true}),
            reference,
            "un foyer existant, différent de celui de l'enfant",
        ),
        (
            "a blank reference",
            town.second.household,
            json!({"kind": "alternate_weeks", "first_has_even_weeks": true}),
            "   ",
            "« justificatif » est obligatoire",
        ),
        (
            "a field of another kind",
            town.second.household,
            json!({"kind": "alternate_weeks", "first_has_even_weeks": true,
                   "first_basis_points": 5000}),
            reference,
            "first_basis_points",
        ),
    ] {
        let response = town
            .manager
            .call(
                Method::PUT,
                &format!("/api/v1/staff/children/{lea}/custody"),
                Some(
                    json!({"other_household_id": other, "arrangement": arrangement,
                            "reference": reference}),
                ),
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{case}"
        );
        let problem: Value = response.json().await.unwrap();
        let text = problem["detail"].as_str().unwrap();
        assert!(text.contains(detail), "{case}: {text}");
    }
    assert_eq!(town.count("select count(*) from custody").await, 0);
    assert_eq!(
        town.count("select count(*) from audit_entry where action like 'custody_%'")
            .await,
        0
    );
    // An unknown child: not found.
    let response = town
        .manager
        .call(
            Method::PUT,
            "/api/v1/staff/children/999999/custody",
            Some(json!({"other_household_id": town.second.household,
                        "arrangement": {"kind": "alternate_weeks", "first_has_even_weeks": true},
                        "reference": reference})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}
