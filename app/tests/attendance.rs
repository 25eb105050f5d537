//! Attendance through the staff API and the `/gestion/appel` page, against a real PostgreSQL
//! and a real server: the day's list (booked ∩ enrolled, health data, menu warnings), marks
//! applied once per client id, the later mark winning with both kept, walk-ins, the manager's
//! lock, schools out of scope, and the page without JavaScript.

use cantine::attendance;
use cantine_domain::activity::Activity;
use cantine_domain::ids::SchoolId;
use cantine_domain::roles::Role;
use cantine_test_support::TestApp;
use cantine_test_support::fixtures::{self, Family, StaffMember};
use cantine_test_support::time::{date, paris};
use reqwest::header::{CONTENT_TYPE, LOCATION};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

const PASSWORD: &str = "un mot de passe solide";
/// Monday 30 November 2026, a service day.
const DAY: &str = "2026-11-30";

/// Two schools; at school A, Léa (allergic to peanuts, PAI) and Hugo are enrolled and booked
/// on Mondays, but Hugo's family cancelled the 30th; Jade's enrollment waits for a decision;
/// Inès is enrolled at school B. The families booked on 16 November; the clock is then on
/// the 30th at 11:00, when the agents mark.
struct Canteen {
    app: TestApp,
    school_a: i64,
    school_b: i64,
    lea: i64,
    hugo: i64,
    jade: i64,
    ines: i64,
    hash: String,
    martin: Family,
}

async fn canteen() -> Canteen {
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
    let martin: Family = fixtures::family(&app, "martin", PASSWORD).await;
    let lea = fixtures::enrolled_child(&app, &martin, school_a, "Léa").await;
    let hugo = fixtures::enrolled_child(&app, &martin, school_a, "Hugo").await;
    let cancelled = martin
        .call(
            Method::DELETE,
            &format!("/api/v1/children/{hugo}/reservations/{DAY}"),
            None,
        )
        .await;
    assert_eq!(
        cancelled.status(),
        200,
        "{}",
        cancelled.text().await.unwrap()
    );
    let jade = martin.child(school_a, "Jade").await;
    martin.request_enrollment(jade, &["mon"]).await;
    let ines = fixtures::enrolled_child(&app, &martin, school_b, "Inès").await;
    sqlx::query(
        "update child set allergens = '{peanuts}', allergies = 'réaction sévère', pai = true where id = $1",
    )
    .bind(lea)
    .execute(&app.pool)
    .await
    .unwrap();
    app.clock().set(paris("2026-11-30 11:00:00"));
    Canteen {
        app,
        school_a,
        school_b,
        lea,
        hugo,
        jade,
        ines,
        hash: fixtures::staff_password_hash(),
        martin,
    }
}

impl Canteen {
    async fn agent(&self, name: &str) -> StaffMember {
        fixtures::staff(
            &self.app,
            name,
            Role::SchoolStaff,
            &[self.school_a],
            &self.hash,
        )
        .await
    }

    async fn manager(&self) -> StaffMember {
        fixtures::staff(&self.app, "gestion", Role::Manager, &[], &self.hash).await
    }

    async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(&self.app.pool)
            .await
            .unwrap()
    }
}

async fn list(member: &StaffMember, school: i64, day: &str) -> Value {
    let response = member
        .call(
            Method::GET,
            &format!("/api/v1/staff/attendance?school={school}&date={day}"),
            None,
        )
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn child(list: &Value, id: i64) -> Option<&Value> {
    list["children"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["child_id"] == id)
}

fn a_mark(child: i64, present: bool) -> Value {
    json!({"client_id": Uuid::new_v4(), "child_id": child, "date": DAY, "present": present})
}

async fn mark(member: &StaffMember, marks: Vec<Value>) -> reqwest::Response {
    member
        .call(
            Method::POST,
            "/api/v1/staff/attendance/marks",
            Some(json!({ "marks": marks })),
        )
        .await
}

async fn outcomes(member: &StaffMember, marks: Vec<Value>) -> Vec<String> {
    let response = mark(member, marks).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outcome"].as_str().unwrap().to_owned())
        .collect()
}

async fn problem(response: reqwest::Response, status: StatusCode, code: &str) {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
}

/// A dish with peanuts on the commune's menu of the day, as the menus page would enter it.
async fn peanut_menu(app: &TestApp) {
    let menu: i64 =
        sqlx::query_scalar("insert into menu_day (service_date) values ($1::date) returning id")
            .bind(DAY)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    for (position, course, name, allergens) in [
        (1_i16, "main", "Poulet sauce satay", "{peanuts,soybeans}"),
        (2, "dessert", "Yaourt nature", "{milk}"),
    ] {
        sqlx::query(
            "insert into dish (menu_day_id, position, course, name, allergens) values ($1, $2, $3, $4, $5::text[])",
        )
        .bind(menu)
        .bind(position)
        .bind(course)
        .bind(name)
        .bind(allergens)
        .execute(&app.pool)
        .await
        .unwrap();
    }
}

#[tokio::test]
async fn the_list_is_the_booked_and_enrolled_children_with_health_data_and_menu_warnings() {
    let c = canteen().await;
    peanut_menu(&c.app).await;
    let agent = c.agent("agent").await;
    let reads = c
        .count("select count(*) from audit_entry where action = 'health_data_read'")
        .await;

    let day = list(&agent, c.school_a, DAY).await;
    let ids: Vec<i64> = day["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["child_id"].as_i64().unwrap())
        .collect();
    // Hugo cancelled, Jade is not enrolled yet, Inès is at the other school.
    assert_eq!(ids, vec![c.lea], "{day}");
    let lea = child(&day, c.lea).unwrap();
    assert_eq!(lea["allergies"], json!(["peanuts"]));
    assert_eq!(lea["allergy_details"], "réaction sévère");
    assert_eq!(lea["pai"], true);
    assert_eq!(lea["diet"], "vegetarian");
    assert_eq!(lea["booked"], true);
    assert_eq!(lea["present"], Value::Null);
    assert_eq!(lea["walk_in"], false);
    // The satay's soybeans concern nobody here; its peanuts concern Léa.
    assert_eq!(lea["menu_warnings"], json!(["peanuts"]));
    assert_eq!(lea["declared_absence"], "none");
    assert_eq!(day["menu_known"], true);
    assert_eq!(day["locked"], false);
    // A class with nobody of it: an empty list, not an error.
    let response = agent
        .call(
            Method::GET,
            &format!(
                "/api/v1/staff/attendance?school={}&date={DAY}&class=CM2",
                c.school_a
            ),
            None,
        )
        .await;
    let cm2: Value = response.json().await.unwrap();
    assert_eq!(cm2["children"], json!([]));

    // Reading the list is a read of health data: one audit entry per read, naming the children.
    let after = c
        .count("select count(*) from audit_entry where action = 'health_data_read'")
        .await;
    assert_eq!(after, reads + 2);
    let detail: Value = sqlx::query_scalar(
        "select detail from audit_entry where action = 'health_data_read' order by id limit 1",
    )
    .fetch_one(&c.app.pool)
    .await
    .unwrap();
    assert_eq!(detail["children"], json!([c.lea]));

    // The page says it in words and symbols.
    let html = agent
        .call(
            Method::GET,
            &format!("/gestion/appel?ecole={}&date={DAY}", c.school_a),
            None,
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Menu du jour : contient arachides"), "{html}");
    assert!(html.contains("<strong>PAI</strong>"));
    assert!(html.contains("<strong>Allergies</strong> : arachides – réaction sévère"));
    assert!(html.contains("Régime : <strong>Végétarien</strong>"));
    assert!(!html.contains(&format!("id=\"enfant-{}\"", c.hugo)));
    // Hugo and Jade? Only Hugo is enrolled: he is the one a walk-in can be.
    assert!(html.contains(&format!(
        "<option value=\"{}\">Hugo Martin (CE1)</option>",
        c.hugo
    )));
    assert!(!html.contains(&format!("<option value=\"{}\">", c.jade)));
}

#[tokio::test]
async fn a_replayed_client_id_changes_nothing() {
    let c = canteen().await;
    let agent = c.agent("agent").await;
    let once = a_mark(c.lea, true);
    assert_eq!(outcomes(&agent, vec![once.clone()]).await, ["applied"]);
    // The answer was lost; the tablet sends its queue again, then once more in a batch.
    assert_eq!(outcomes(&agent, vec![once.clone()]).await, ["duplicate"]);
    assert_eq!(
        outcomes(&agent, vec![once.clone(), once.clone()]).await,
        ["duplicate", "duplicate"]
    );
    // Even a replay carrying other values changes nothing: the id was applied.
    let mut altered = once.clone();
    altered["present"] = json!(false);
    assert_eq!(outcomes(&agent, vec![altered]).await, ["duplicate"]);
    assert_eq!(
        c.count("select count(*) from attendance_mark").await,
        1,
        "one mark in the history"
    );
    assert_eq!(
        child(&list(&agent, c.school_a, DAY).await, c.lea).unwrap()["present"],
        true
    );
    // The history is append-only.
    let changed = sqlx::query("update attendance_mark set present = false")
        .execute(&c.app.pool)
        .await;
    assert!(changed.is_err());
}

#[tokio::test]
async fn the_later_mark_wins_and_both_stay_in_the_history() {
    let c = canteen().await;
    let first = c.agent("agent").await;
    let second = c.agent("agent2").await;
    // Agent 2 tapped "absent" at 11:50 on a tablet that was offline; agent 1 tapped "present"
    // at 11:55 and was online. Agent 2's queue arrives last, but agent 1's mark is later.
    let mut present = a_mark(c.lea, true);
    present["marked_at"] = json!("2026-11-30T10:55:00Z");
    let mut absent = a_mark(c.lea, false);
    absent["marked_at"] = json!("2026-11-30T10:50:00Z");
    c.app.clock().set(paris("2026-11-30 12:00:00"));
    assert_eq!(outcomes(&first, vec![present]).await, ["applied"]);
    assert_eq!(outcomes(&second, vec![absent]).await, ["superseded"]);
    let lea = child(&list(&first, c.school_a, DAY).await, c.lea)
        .unwrap()
        .clone();
    assert_eq!(lea["present"], true);
    assert_eq!(lea["marked_at"], "2026-11-30T10:55:00Z");
    let history: Vec<(bool, i64)> = sqlx::query_as(
        "select m.present, m.marked_by from attendance_mark m where child_id = $1 order by marked_at",
    )
    .bind(c.lea)
    .fetch_all(&c.app.pool)
    .await
    .unwrap();
    assert_eq!(history, vec![(false, second.id), (true, first.id)]);

    // A device clock ahead of the server's counts as now: it cannot win the future.
    let mut ahead = a_mark(c.lea, false);
    ahead["marked_at"] = json!("2027-01-01T00:00:00Z");
    assert_eq!(outcomes(&second, vec![ahead]).await, ["applied"]);
    let lea = child(&list(&first, c.school_a, DAY).await, c.lea)
        .unwrap()
        .clone();
    assert_eq!(lea["present"], false);
    assert_eq!(lea["marked_at"], "2026-11-30T11:00:00Z");
}

#[tokio::test]
async fn an_absence_the_family_declared_shows_on_the_list_until_refused() {
    let c = canteen().await;
    let agent = c.agent("agent").await;
    // 11:00 on the day: Léa's parents say she is ill (accepted after the booking deadline).
    let response = c
        .martin
        .call(
            Method::POST,
            "/api/v1/absences",
            Some(
                json!({"children": [c.lea], "first_day": DAY, "last_day": DAY,
                        "reason": "illness", "comment": "Fièvre"}),
            ),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let absence: Value = response.json().await.unwrap();
    let day = list(&agent, c.school_a, DAY).await;
    assert_eq!(child(&day, c.lea).unwrap()["declared_absence"], "pending");
    let page = format!("/gestion/appel?ecole={}&date={DAY}", c.school_a);
    let html = agent
        .call(Method::GET, &page, None)
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Absence signalée par la famille (pas encore examinée)"));

    // Accepted: still on the list (the agent marks her), said so.
    let manager = c.manager().await;
    let path = format!("/api/v1/staff/absences/{}/decision", absence["id"]);
    let decided = manager
        .call(Method::POST, &path, Some(json!({"decision": "accept"})))
        .await;
    assert_eq!(decided.status(), StatusCode::OK);
    let day = list(&agent, c.school_a, DAY).await;
    let lea = child(&day, c.lea).unwrap();
    assert_eq!(lea["declared_absence"], "accepted");
    assert_eq!(lea["booked"], true, "an absence does not touch the booking");
    let html = agent
        .call(Method::GET, &page, None)
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Absence signalée par la famille, acceptée"));
}

#[tokio::test]
async fn an_unbooked_child_who_eats_is_a_flagged_walk_in() {
    let c = canteen().await;
    let agent = c.agent("agent").await;
    assert_eq!(
        outcomes(&agent, vec![a_mark(c.hugo, true)]).await,
        ["applied"]
    );
    let day = list(&agent, c.school_a, DAY).await;
    let hugo = child(&day, c.hugo).expect("the walk-in on the list");
    assert_eq!(hugo["booked"], false);
    assert_eq!(hugo["walk_in"], true);
    assert_eq!(hugo["present"], true);
    assert_eq!(
        child(&day, c.lea).unwrap()["walk_in"],
        false,
        "a booked child is no walk-in"
    );
    // A child without a validated enrollment cannot be added.
    problem(
        mark(&agent, vec![a_mark(c.jade, true)]).await,
        StatusCode::CONFLICT,
        "not_enrolled",
    )
    .await;
    // A day still to come cannot be marked.
    let mut tomorrow = a_mark(c.lea, true);
    tomorrow["date"] = json!("2026-12-01");
    problem(
        mark(&agent, vec![tomorrow]).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
    )
    .await;
    // One refused mark refuses its whole batch: nothing of it is written.
    let before = c.count("select count(*) from attendance_mark").await;
    problem(
        mark(&agent, vec![a_mark(c.lea, true), a_mark(c.jade, true)]).await,
        StatusCode::CONFLICT,
        "not_enrolled",
    )
    .await;
    assert_eq!(
        c.count("select count(*) from attendance_mark").await,
        before
    );
}

#[tokio::test]
async fn after_the_lock_only_a_manager_corrects_with_a_reason_and_it_is_audited() {
    let c = canteen().await;
    let agent = c.agent("agent").await;
    let manager = c.manager().await;
    let early = a_mark(c.lea, true);
    assert_eq!(outcomes(&agent, vec![early.clone()]).await, ["applied"]);
    // Same-day correction by the agent, before the lock.
    assert_eq!(
        outcomes(&agent, vec![a_mark(c.lea, false)]).await,
        ["applied"]
    );
    assert_eq!(
        outcomes(&agent, vec![a_mark(c.lea, true)]).await,
        ["applied"]
    );

    let lock = json!({"school_id": c.school_a, "date": DAY});
    let response = agent
        .call(
            Method::POST,
            "/api/v1/staff/attendance/locks",
            Some(lock.clone()),
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = manager
        .call(
            Method::POST,
            "/api/v1/staff/attendance/locks",
            Some(lock.clone()),
        )
        .await;
    assert_eq!(response.status(), 200);
    let locked: Value = response.json().await.unwrap();
    assert_eq!(locked["newly_locked"], true);
    let again: Value = manager
        .call(Method::POST, "/api/v1/staff/attendance/locks", Some(lock))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["newly_locked"], false);
    assert_eq!(again["locked_at"], locked["locked_at"]);
    assert_eq!(
        c.count("select count(*) from audit_entry where action = 'attendance_locked'")
            .await,
        1
    );

    // The agent can no longer change it; a replay of an applied mark still says it is in.
    problem(
        mark(&agent, vec![a_mark(c.lea, false)]).await,
        StatusCode::CONFLICT,
        "attendance_locked",
    )
    .await;
    assert_eq!(outcomes(&agent, vec![early]).await, ["duplicate"]);
    // The manager must say why.
    problem(
        mark(&manager, vec![a_mark(c.lea, false)]).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
    )
    .await;
    let mut blank = a_mark(c.lea, false);
    blank["reason"] = json!("   ");
    problem(
        mark(&manager, vec![blank]).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
    )
    .await;
    let mut correction = a_mark(c.lea, false);
    correction["reason"] = json!("Partie à 11 h 30 avec sa mère (appel de la famille)");
    assert_eq!(outcomes(&manager, vec![correction]).await, ["applied"]);
    let entry: (i64, Value) = sqlx::query_as(
        "select child_id, detail from audit_entry where action = 'attendance_corrected'",
    )
    .fetch_one(&c.app.pool)
    .await
    .unwrap();
    assert_eq!(entry.0, c.lea);
    assert_eq!(
        entry.1["reason"],
        "Partie à 11 h 30 avec sa mère (appel de la famille)"
    );
    assert_eq!(entry.1["present"], false);
    assert_eq!(
        c.count("select count(*) from attendance_mark where after_lock")
            .await,
        1
    );

    // Billing reads the locked day as it stands.
    let days = attendance::locked(
        &c.app.pool,
        Activity::Canteen,
        Some(&[SchoolId(c.school_a)]),
        (date("2026-11-30"), date("2026-12-04")),
    )
    .await
    .unwrap();
    assert_eq!(days.len(), 1);
    assert_eq!(days[0].date, date(DAY));
    assert_eq!(days[0].children.len(), 1);
    assert!(!days[0].children[0].present);
    assert_eq!(days[0].children[0].child.get(), c.lea);
    // A day not locked is not read.
    let none = attendance::locked(
        &c.app.pool,
        Activity::Canteen,
        None,
        (date("2026-12-01"), date("2026-12-04")),
    )
    .await
    .unwrap();
    assert!(none.is_empty());
}

#[tokio::test]
async fn an_agent_sees_and_marks_only_their_schools() {
    let c = canteen().await;
    let agent = c.agent("agent").await;
    problem(
        agent
            .call(
                Method::GET,
                &format!("/api/v1/staff/attendance?school={}&date={DAY}", c.school_b),
                None,
            )
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    problem(
        mark(&agent, vec![a_mark(c.ines, true)]).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let page = agent
        .call(
            Method::GET,
            &format!("/gestion/appel?ecole={}&date={DAY}", c.school_b),
            None,
        )
        .await;
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    assert!(!page.text().await.unwrap().contains("Inès"));
    // The school picker offers only school A.
    let html = agent
        .call(Method::GET, "/gestion/appel", None)
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("École Jules-Ferry"));
    assert!(!html.contains("École Marie-Curie"));
    // The manager sees school B.
    let manager = c.manager().await;
    let day = list(&manager, c.school_b, DAY).await;
    assert!(child(&day, c.ines).is_some());
    // An unknown school looks the same as another's.
    problem(
        manager
            .call(
                Method::GET,
                "/api/v1/staff/attendance?school=999999&date=2026-11-30",
                None,
            )
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

/// The page without JavaScript: a form post per tap, with its CSRF field and the mark id
/// rendered in the form, then Post/Redirect/Get.
#[tokio::test]
async fn the_page_marks_without_javascript() {
    let c = canteen().await;
    let agent = c.agent("agent").await;
    let browser = Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // The agent's session cookie, in a browser that does not follow redirects.
    let login = browser
        .post(c.app.url("/api/v1/session"))
        .json(
            &json!({"email": agent.email, "password": fixtures::STAFF_PASSWORD,
            "totp": fixtures::totp_now(&c.app, 1)}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let csrf = login.json::<Value>().await.unwrap()["csrf_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let page_path = format!("/gestion/appel?ecole={}&date={DAY}", c.school_a);
    let page = browser.get(c.app.url(&page_path)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.starts_with("default-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"));
    let html = page.text().await.unwrap();
    assert!(html.contains("<script src=\"/static/appel.js\" defer></script>"));
    assert_eq!(html.matches("<script").count(), 1, "no inline script");
    assert!(html.contains("○</span> <span data-etat-texte>Non pointé"));

    let client_id = Uuid::new_v4().to_string();
    let form = [
        ("csrf", csrf.as_str()),
        ("ecole", &c.school_a.to_string()),
        ("date", DAY),
        ("classe", ""),
        ("enfant", &c.lea.to_string()),
        ("present", "1"),
        ("client_id", &client_id),
    ];
    let posted = browser
        .post(c.app.url("/gestion/appel/pointage"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), StatusCode::SEE_OTHER);
    let to = posted.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(to.contains("info=pointe"), "{to}");
    assert!(to.ends_with(&format!("#enfant-{}", c.lea)), "{to}");
    let html = browser
        .get(c.app.url(&to))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Pointage enregistré."));
    assert!(html.contains("✔</span> <span data-etat-texte>Présent"));
    // The same form sent again (a double tap): recorded once.
    let again = browser
        .post(c.app.url("/gestion/appel/pointage"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert!(
        again.headers()[LOCATION]
            .to_str()
            .unwrap()
            .contains("info=deja-pointe")
    );
    assert_eq!(c.count("select count(*) from attendance_mark").await, 1);
    // Without the CSRF field (and no Origin), refused.
    let forged = browser
        .post(c.app.url("/gestion/appel/pointage"))
        .form(&form[1..])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);

    // The walk-in form adds Hugo, flagged.
    let walk_in_id = Uuid::new_v4().to_string();
    let posted = browser
        .post(c.app.url("/gestion/appel/sans-reservation"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("ecole", &c.school_a.to_string()),
            ("date", DAY),
            ("classe", ""),
            ("enfant", &c.hugo.to_string()),
            ("client_id", &walk_in_id),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), StatusCode::SEE_OTHER);
    let to = posted.headers()[LOCATION].to_str().unwrap().to_owned();
    let html = browser
        .get(c.app.url(&to))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("＋ Sans réservation"));
    assert!(html.contains("Hugo Martin"));

    // A day still to come: the form again with the French reason and a 422.
    let mut future = form;
    let fresh = Uuid::new_v4().to_string();
    future[2] = ("date", "2026-12-03");
    future[6] = ("client_id", &fresh);
    let refused = browser
        .post(c.app.url("/gestion/appel/pointage"))
        .form(&future)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text().await.unwrap().contains("est pas arrivé"));
}

/// The offline script and its service worker: served as JavaScript from /static, the worker
/// allowed to control the attendance page.
#[tokio::test]
async fn the_offline_script_and_worker_are_served_as_javascript() {
    let app = TestApp::spawn().await;
    for path in ["/static/appel.js", "/static/appel-sw.js"] {
        let response = reqwest::get(app.url(path)).await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(
            response.headers()[CONTENT_TYPE],
            "text/javascript; charset=utf-8"
        );
        if path.ends_with("-sw.js") {
            assert_eq!(
                response.headers()["service-worker-allowed"],
                "/gestion/appel"
            );
        }
        let text = response.text().await.unwrap();
        assert!(text.contains("\"use strict\""), "{path}");
    }
    let css = reqwest::get(app.url("/static/appel.css")).await.unwrap();
    assert_eq!(css.headers()[CONTENT_TYPE], "text/css; charset=utf-8");
    assert!(css.text().await.unwrap().contains("@media print"));
}
