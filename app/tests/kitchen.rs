//! Kitchen counts on generated data, against a real PostgreSQL and the real router: the counts
//! equal the bookings at the deadline and are frozen there, a later change shows as a
//! difference, the caterer's mail (with its CSV) goes exactly once, across a downtime and two
//! instances, and a failing mail is retried.

use std::collections::BTreeMap;
use std::time::Duration;

use cantine::kitchen;
use cantine_domain::roles::Role;
use cantine_test_support::fixtures::{self, StaffMember};
use cantine_test_support::time::{date, paris};
use cantine_test_support::{TestApp, TestAppBuilder, mail};
use chrono::{DateTime, NaiveDate, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;

/// Thursday 19 November 2026: its deadline is 2 service days before (Tuesday 17 and Monday
/// 16, the schools serving Mon, Tue, Thu, Fri), at 10:00 Paris: Monday 16 at 10:00.
const DAY: &str = "2026-11-19";
const SCHOOL_A: &str = "École Jules-Ferry";
const SCHOOL_B: &str = "École Marie-Curie";
const CATERER_ALL: &str = "commandes@traiteur.test";
const CATERER_A: &str = "ferry@traiteur.test";
const ADULTS_A: i64 = 3;

fn before_deadline() -> DateTime<Utc> {
    paris("2026-11-16 08:00:00")
}

fn deadline() -> DateTime<Utc> {
    paris("2026-11-16 10:00:00")
}

/// A small seeded generator (xorshift64*): the same children and bookings every run.
struct Seeded(u64);

impl Seeded {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// True with probability `percent` %.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// Meals by kind, as the API answers them: standard, vegetarian, no_pork, pai, adults.
type Kinds = [i64; 5];

fn kinds(meals: &Value) -> Kinds {
    ["standard", "vegetarian", "no_pork", "pai", "adults"].map(|k| meals[k].as_i64().unwrap())
}

struct GeneratedChild {
    id: i64,
    household: i64,
    school: i64,
    kind: usize,
    enrolled: bool,
    booked: bool,
    peanuts: bool,
}

struct Town {
    school_a: i64,
    school_b: i64,
    children: Vec<GeneratedChild>,
}

impl Town {
    /// What the kitchen must be told for the day: booked and enrolled children, by kind.
    fn expected(&self, school: i64) -> Kinds {
        let mut k = [0; 5];
        for c in &self.children {
            if c.school == school && c.enrolled && c.booked {
                k[c.kind] += 1;
            }
        }
        if school == self.school_a {
            k[4] = ADULTS_A;
        }
        k
    }

    fn peanut_children(&self, school: i64) -> i64 {
        self.children
            .iter()
            .filter(|c| c.school == school && c.enrolled && c.booked && c.peanuts)
            .count() as i64
    }
}

/// Two schools of 80 children each, diets, PAI and allergies drawn from a fixed seed; 90 %
/// validated (the others pending), 70 % booked on the day (pending ones too: they must not
/// count).
async fn generate(pool: &PgPool) -> Town {
    let school_a = fixtures::school(pool, SCHOOL_A, "").await;
    let school_b = fixtures::school(pool, SCHOOL_B, "").await;
    fixtures::school_year(pool, "2026-2027", date("2026-09-01"), date("2027-07-03")).await;
    let year: i64 = sqlx::query_scalar("select id from school_year where label = '2026-2027'")
        .fetch_one(pool)
        .await
        .unwrap();
    let mut random = Seeded(0x00C0_FFEE);
    let mut children = Vec::new();
    for (school, n) in [(school_a, 80), (school_b, 80)] {
        for i in 0..n {
            let household = fixtures::household(pool).await;
            let pai = random.chance(6);
            let diet = match random.next() % 10 {
                0..=5 => "standard",
                6 | 7 => "vegetarian",
                _ => "no_pork",
            };
            let peanuts = random.chance(10);
            let mut allergens = Vec::new();
            if peanuts {
                allergens.push("peanuts");
            }
            if random.chance(10) {
                allergens.push("milk");
            }
            let id: i64 = sqlx::query_scalar(
                "insert into child (household_id, first_name, last_name, birth_date, school_id,
                        class_level, diet, pai, allergens)
                 values ($1, $2, 'Généré', '2018-05-01', $3, 'CE1', $4, $5, $6) returning id",
            )
            .bind(household)
            .bind(format!("Enfant{i}"))
            .bind(school)
            .bind(diet)
            .bind(pai)
            .bind(&allergens)
            .fetch_one(pool)
            .await
            .unwrap();
            let enrolled = random.chance(90);
            sqlx::query(
                "insert into enrollment (child_id, school_year_id, weekdays, status, decided_at)
                 values ($1, $2, '{1,2,4,5}', $3, now())",
            )
            .bind(id)
            .bind(year)
            .bind(if enrolled { "validated" } else { "pending" })
            .execute(pool)
            .await
            .unwrap();
            let booked = random.chance(70);
            // Every child has a row for the day, booked or cancelled, as the booking paths
            // leave them; and the week's other days are booked too, which must not leak in.
            for (day, is_booked) in [(DAY, booked), ("2026-11-20", true), ("2026-11-17", true)] {
                sqlx::query(
                    "insert into reservation (child_id, service_date, booked) values ($1, $2, $3)",
                )
                .bind(id)
                .bind(date(day))
                .bind(is_booked)
                .execute(pool)
                .await
                .unwrap();
            }
            let kind = if pai {
                3
            } else {
                match diet {
                    "standard" => 0,
                    "vegetarian" => 1,
                    _ => 2,
                }
            };
            children.push(GeneratedChild {
                id,
                household,
                school,
                kind,
                enrolled,
                booked,
                peanuts,
            });
        }
    }
    // A menu with peanuts (arachides) in the dessert that day, for every school.
    let menu: i64 =
        sqlx::query_scalar("insert into menu_day (service_date) values ($1) returning id")
            .bind(date(DAY))
            .fetch_one(pool)
            .await
            .unwrap();
    sqlx::query(
        "insert into dish (menu_day_id, position, course, name, allergens)
         values ($1, 1, 'main', 'Poulet basquaise', '{}'),
                ($1, 2, 'dessert', 'Tarte aux arachides', '{peanuts,gluten}')",
    )
    .bind(menu)
    .execute(pool)
    .await
    .unwrap();
    Town {
        school_a,
        school_b,
        children,
    }
}

/// The caterers configured: one for school A, one for all the others; school A's adults.
fn kitchen_config(builder: TestAppBuilder) -> TestAppBuilder {
    builder.config(|c| {
        c.kitchen.caterer_email = Some(CATERER_ALL.to_owned());
        c.kitchen.schools = vec![cantine::platform::config::KitchenSchool {
            school: SCHOOL_A.to_owned(),
            caterer_email: Some(CATERER_A.to_owned()),
            adult_meals: ADULTS_A as u32,
        }];
    })
}

async fn manager(app: &TestApp) -> StaffMember {
    fixtures::staff(
        app,
        "gestion",
        Role::Manager,
        &[],
        &fixtures::staff_password_hash(),
    )
    .await
}

/// The day's entry of one school in `kitchenCounts`.
async fn counts_of(member: &StaffMember, school: i64) -> Value {
    let response = member
        .call(
            Method::GET,
            &format!("/api/v1/staff/kitchen/counts?from={DAY}&days=1"),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let days: Value = response.json().await.unwrap();
    days.as_array()
        .unwrap()
        .iter()
        .find(|d| d["school_id"] == school && d["date"] == DAY)
        .unwrap_or_else(|| panic!("{school} on {DAY} in {days}"))
        .clone()
}

/// The spooled mails about the day, by recipient.
fn day_mails(app_data: &std::path::Path) -> BTreeMap<String, Vec<mail::Mail>> {
    let mut by_recipient: BTreeMap<String, Vec<mail::Mail>> = BTreeMap::new();
    if !app_data.join("mail").exists() {
        return by_recipient;
    }
    for m in mail::spool(app_data) {
        if !m.headers.contains("19/11/2026") {
            continue;
        }
        let to = [CATERER_A, CATERER_ALL]
            .into_iter()
            .find(|a| m.headers.contains(&format!("To: {a}")))
            .unwrap_or_else(|| panic!("a caterer in {}", m.headers));
        by_recipient.entry(to.to_owned()).or_default().push(m);
    }
    by_recipient
}

/// The CSV's data line for a school, cut at `;`.
fn csv_line<'a>(csv: &'a str, school: &str) -> Vec<&'a str> {
    csv.lines()
        .find(|l| l.contains(school))
        .unwrap_or_else(|| panic!("{school} in {csv}"))
        .split(';')
        .collect()
}

#[tokio::test]
async fn counts_freeze_at_the_deadline_and_later_changes_show_as_a_difference() {
    let app = kitchen_config(TestApp::builder().clock(before_deadline()))
        .spawn()
        .await;
    let town = generate(&app.pool).await;
    let manager = manager(&app).await;
    let kitchen = app.state.kitchen();

    // Before the deadline: live counts, nothing frozen.
    let day = counts_of(&manager, town.school_a).await;
    assert_eq!(kinds(&day["live"]), town.expected(town.school_a), "{day}");
    assert!(
        day["frozen_at"].is_null() && day["frozen"].is_null(),
        "{day}"
    );
    assert_eq!(day["deadline"], json!("2026-11-16T09:00:00Z"));
    assert_eq!(day["menu_allergens"], json!(["gluten", "peanuts"]));
    let peanuts = day["child_allergens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["allergen"] == "peanuts")
        .map_or(0, |a| a["children"].as_i64().unwrap());
    assert_eq!(peanuts, town.peanut_children(town.school_a));
    let b = counts_of(&manager, town.school_b).await;
    assert_eq!(kinds(&b["live"]), town.expected(town.school_b), "{b}");

    // One second before the deadline, the run freezes other days but not this one.
    let early = paris("2026-11-16 09:59:59");
    kitchen::catch_up(&kitchen, early).await.unwrap();
    assert!(counts_of(&manager, town.school_a).await["frozen"].is_null());

    // At the deadline: frozen, equal to the bookings, and the caterers' mails enqueued.
    let done = kitchen::catch_up(&kitchen, deadline()).await.unwrap();
    assert_eq!(done.frozen, 2, "{done:?}");
    for school in [town.school_a, town.school_b] {
        let day = counts_of(&manager, school).await;
        assert_eq!(kinds(&day["frozen"]), town.expected(school), "{day}");
        assert_eq!(day["frozen_at"], json!("2026-11-16T09:00:00Z"));
        assert_eq!(kinds(&day["difference"]), [0; 5], "{day}");
    }

    // After the deadline a manager cancels a booked child and books an unbooked one, at the
    // counter: the frozen numbers stay, the difference shows both.
    let cancelled = town
        .children
        .iter()
        .find(|c| c.school == town.school_a && c.enrolled && c.booked && c.kind == 0)
        .unwrap();
    let added = town
        .children
        .iter()
        .find(|c| c.school == town.school_a && c.enrolled && !c.booked && c.kind == 1)
        .unwrap();
    app.clock().set(paris("2026-11-16 11:00:00"));
    for (child, book) in [(cancelled, false), (added, true)] {
        let response = manager
            .call(
                Method::POST,
                &format!(
                    "/api/v1/staff/households/{}/children/{}/reservations/{DAY}",
                    child.household, child.id
                ),
                Some(json!({"booked": book, "reason": "appel de la famille"})),
            )
            .await;
        assert!(response.status().is_success(), "{}", response.status());
    }
    kitchen::catch_up(&kitchen, app.state.clock.now())
        .await
        .unwrap();
    let day = counts_of(&manager, town.school_a).await;
    let expected = town.expected(town.school_a);
    assert_eq!(
        kinds(&day["frozen"]),
        expected,
        "the frozen counts never change"
    );
    let mut live = expected;
    live[0] -= 1;
    live[1] += 1;
    assert_eq!(kinds(&day["live"]), live);
    assert_eq!(kinds(&day["difference"]), [-1, 1, 0, 0, 0]);
    assert_eq!(day["difference"]["total"], 0);

    // On the day, an unbooked child eats anyway: the attendance list records a walk-in, which
    // counts in the live numbers and so in the difference, the frozen ones still unchanged.
    let walk_in = town
        .children
        .iter()
        .find(|c| c.school == town.school_a && c.enrolled && !c.booked && c.id != added.id)
        .unwrap();
    app.clock().set(paris("2026-11-19 12:30:00"));
    // (the day's agent marks: three days later, the manager's session has expired)
    let agent = fixtures::staff(
        &app,
        "agent",
        Role::SchoolStaff,
        &[town.school_a],
        &fixtures::staff_password_hash(),
    )
    .await;
    let response = agent
        .call(
            Method::POST,
            "/api/v1/staff/attendance/marks",
            Some(json!({"marks": [{
                "client_id": "7f1c1a52-3c1e-4a57-9d2e-0c6b1f0e5a11",
                "child_id": walk_in.id,
                "date": DAY,
                "present": true,
            }]})),
        )
        .await;
    assert!(response.status().is_success(), "{}", response.status());
    // (the manager's session, idle since 11:00 on Monday, reads the counts at that hour)
    app.clock().set(paris("2026-11-16 11:00:00"));
    let day = counts_of(&manager, town.school_a).await;
    assert_eq!(
        kinds(&day["frozen"]),
        expected,
        "the frozen counts never change"
    );
    let mut difference = [-1, 1, 0, 0, 0];
    difference[walk_in.kind] += 1;
    assert_eq!(kinds(&day["difference"]), difference, "{day}");
    assert_eq!(day["difference"]["total"], 1);

    // The freeze is append-only, in the database itself.
    let refused = sqlx::query("update kitchen_count set standard = standard + 1")
        .execute(&app.pool)
        .await;
    assert!(refused.is_err(), "kitchen_count must refuse UPDATE");
    assert!(
        sqlx::query("delete from kitchen_count")
            .execute(&app.pool)
            .await
            .is_err()
    );

    // One mail per school for the day, to each school's caterer, with the frozen CSV.
    let mails = day_mails(app.data_dir());
    assert_eq!(
        mails.get(CATERER_A).map(Vec::len),
        Some(1),
        "school A's caterer"
    );
    assert_eq!(mails.get(CATERER_ALL).map(Vec::len), Some(1), "the others'");
    let m = &mails[CATERER_A][0];
    assert!(m.body.contains(SCHOOL_A), "{}", m.body);
    assert!(m.body.contains("arachides"), "{}", m.body);
    assert_eq!(m.attachments.len(), 1);
    let (name, bytes) = &m.attachments[0];
    assert!(name.ends_with(".csv"), "{name}");
    let csv = String::from_utf8(bytes.clone()).unwrap();
    assert!(csv.starts_with('\u{feff}'), "a BOM first");
    let line = csv_line(&csv, SCHOOL_A);
    assert_eq!(line[0], "19/11/2026");
    assert_eq!(line[2], "Figé");
    let numbers: Vec<i64> = line[5..10].iter().map(|n| n.parse().unwrap()).collect();
    assert_eq!(numbers, expected.to_vec());
}

#[tokio::test]
async fn the_csv_export_is_what_french_spreadsheets_expect() {
    let app = kitchen_config(TestApp::builder().clock(deadline()))
        .spawn()
        .await;
    let town = generate(&app.pool).await;
    let member = fixtures::staff(
        &app,
        "cuisine",
        Role::Kitchen,
        &[],
        &fixtures::staff_password_hash(),
    )
    .await;
    kitchen::catch_up(&app.state.kitchen(), deadline())
        .await
        .unwrap();
    let response = member
        .call(
            Method::GET,
            &format!("/api/v1/staff/kitchen/counts?from={DAY}&days=2&format=csv"),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains(".csv")
    );
    let bytes = response.bytes().await.unwrap();
    assert_eq!(&bytes[..3], b"\xef\xbb\xbf", "UTF-8 with BOM");
    let csv = String::from_utf8(bytes.to_vec()).unwrap();
    let mut lines = csv.trim_start_matches('\u{feff}').split("\r\n");
    let header: Vec<&str> = lines.next().unwrap().split(';').collect();
    assert_eq!(&header[..3], ["Date", "École", "Statut"]);
    assert!(header.contains(&"Panier repas PAI") && header.contains(&"Écart total"));
    let rows: Vec<Vec<&str>> = lines
        .filter(|l| !l.is_empty())
        .map(|l| l.split(';').collect())
        .collect();
    // Thursday 19 (frozen) and Friday 20 (not yet), for both schools.
    assert_eq!(rows.len(), 4, "{csv}");
    for row in &rows {
        assert_eq!(row.len(), header.len(), "{row:?}");
        assert!(["19/11/2026", "20/11/2026"].contains(&row[0]), "{row:?}");
    }
    let thursday = rows
        .iter()
        .find(|r| r[0] == "19/11/2026" && r[1] == SCHOOL_B)
        .unwrap();
    assert_eq!(thursday[2], "Figé");
    assert_eq!(
        thursday[3], "16/11/2026 10:00",
        "the deadline in Paris time"
    );
    let total: i64 = thursday[10].parse().unwrap();
    assert_eq!(total, town.expected(town.school_b).iter().sum::<i64>());
    assert_eq!(thursday[16], "0", "no change since the freeze");
    let friday = rows.iter().find(|r| r[0] == "20/11/2026").unwrap();
    assert_eq!(friday[2], "Provisoire");
    assert_eq!(friday[11], "", "no difference before the freeze");

    // The page, as the kitchen sees it: both days, the frozen state in words, the export.
    let page = member
        .call(
            Method::GET,
            &format!("/gestion/cuisine?du={DAY}&jours=2"),
            None,
        )
        .await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    for text in [
        "Jeudi 19 novembre 2026",
        "Vendredi 20 novembre 2026",
        "Figé le 16/11/2026 à 10:00",
        "Provisoire",
        "arachides",
        "format=csv",
        SCHOOL_A,
    ] {
        assert!(html.contains(text), "{text} in the page");
    }
    // A bad number of days is a clear refusal on the page, not an error page.
    let page = member
        .call(Method::GET, "/gestion/cuisine?jours=99", None)
        .await;
    assert_eq!(page.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn only_the_kitchen_and_the_managers_read_the_counts() {
    let app = TestApp::builder().clock(before_deadline()).spawn().await;
    let school = fixtures::school(&app.pool, SCHOOL_A, "").await;
    fixtures::school_year(
        &app.pool,
        "2026-2027",
        date("2026-09-01"),
        date("2027-07-03"),
    )
    .await;
    let hash = fixtures::staff_password_hash();
    for role in Role::ALL {
        let schools = if role == Role::SchoolStaff {
            vec![school]
        } else {
            vec![]
        };
        let member = fixtures::staff(&app, role.code(), role, &schools, &hash).await;
        let allowed = matches!(role, Role::Kitchen | Role::Manager);
        for path in ["/api/v1/staff/kitchen/counts", "/gestion/cuisine"] {
            let status = member.call(Method::GET, path, None).await.status();
            let expected = if allowed {
                StatusCode::OK
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(status, expected, "{role} {path}");
        }
    }
    let family = fixtures::family(&app, "martin", "un mot de passe solide").await;
    let status = family
        .call(Method::GET, "/api/v1/staff/kitchen/counts", None)
        .await
        .status();
    assert_eq!(status, StatusCode::FORBIDDEN);
    let status = reqwest::get(app.url("/api/v1/staff/kitchen/counts"))
        .await
        .unwrap()
        .status();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// Waits until `check` holds, polling; panics after 30 s.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..300 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn frozen_count(pool: &PgPool, day: NaiveDate) -> i64 {
    sqlx::query_scalar("select count(*) from kitchen_count where service_date = $1")
        .bind(day)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_caterer_is_mailed_once_even_when_the_app_was_down_across_the_deadline() {
    let db = cantine_test_support::database().await;
    let data = tempfile::tempdir().unwrap();
    let spawn = |at: DateTime<Utc>| {
        kitchen_config(
            TestApp::builder()
                .clock(at)
                .pool(db.pool.clone())
                .data_dir(data.path()),
        )
        .config(|c| {
            c.kitchen.worker = true;
            c.kitchen.tick_secs = 1;
        })
        .spawn()
    };
    let town = generate(&db.pool).await;

    // The first instance runs before the deadline: its worker freezes Tuesday 17 (whose
    // deadline is past), not Thursday 19.
    let first = spawn(before_deadline()).await;
    eventually("Tuesday's freeze", || async {
        frozen_count(&db.pool, date("2026-11-17")).await == 2
    })
    .await;
    assert_eq!(frozen_count(&db.pool, date(DAY)).await, 0);
    drop(first);
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Down across Monday 10:00; the next start catches up and mails each caterer once.
    let second = spawn(paris("2026-11-16 14:00:00")).await;
    eventually("the day's mails", || async {
        day_mails(data.path()).values().map(Vec::len).sum::<usize>() == 2
    })
    .await;
    let frozen_at: DateTime<Utc> = sqlx::query_scalar(
        "select frozen_at from kitchen_count where service_date = $1 and school_id = $2",
    )
    .bind(date(DAY))
    .bind(town.school_a)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(
        frozen_at,
        paris("2026-11-16 14:00:00"),
        "caught up at start"
    );
    drop(second);
    tokio::time::sleep(Duration::from_millis(300)).await;

    // A third start, and a few of its runs, send nothing again.
    let third = spawn(paris("2026-11-16 14:05:00")).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let mails = day_mails(data.path());
    assert_eq!(mails.get(CATERER_A).map(Vec::len), Some(1));
    assert_eq!(mails.get(CATERER_ALL).map(Vec::len), Some(1));
    let csv = String::from_utf8(mails[CATERER_ALL][0].attachments[0].1.clone()).unwrap();
    let line = csv_line(&csv, SCHOOL_B);
    let numbers: Vec<i64> = line[5..10].iter().map(|n| n.parse().unwrap()).collect();
    assert_eq!(numbers, town.expected(town.school_b).to_vec());
    let unsent: i64 = sqlx::query_scalar("select count(*) from kitchen_mail where sent_at is null")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(unsent, 0);
    drop(third);
}

#[tokio::test]
async fn two_instances_running_at_once_send_each_mail_once() {
    let db = cantine_test_support::database().await;
    let data = tempfile::tempdir().unwrap();
    let mut apps = Vec::new();
    for _ in 0..2 {
        apps.push(
            kitchen_config(
                TestApp::builder()
                    .clock(deadline())
                    .pool(db.pool.clone())
                    .data_dir(data.path()),
            )
            .spawn()
            .await,
        );
    }
    generate(&db.pool).await;
    let (a, b) = (apps[0].state.kitchen(), apps[1].state.kitchen());
    let (ra, rb) = tokio::join!(
        kitchen::catch_up(&a, deadline()),
        kitchen::catch_up(&b, deadline())
    );
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    // The week before (9, 10, 12, 13: caught up, not mailed) and Monday 16, Tuesday 17 and
    // Thursday 19 (mailed) are due, for two schools: fourteen freezes, six mails.
    assert_eq!(ra.frozen + rb.frozen, 14, "{ra:?} {rb:?}");
    assert_eq!(ra.sent + rb.sent, 6, "{ra:?} {rb:?}");
    let mails = day_mails(data.path());
    assert_eq!(mails.values().map(Vec::len).sum::<usize>(), 2);
}

#[tokio::test]
async fn a_mail_that_cannot_go_is_retried_later() {
    let db = cantine_test_support::database().await;
    let data = tempfile::tempdir().unwrap();
    // No SMTP server listens on port 1.
    let broken = kitchen_config(TestApp::builder().clock(deadline()).pool(db.pool.clone()))
        .config(|c| {
            let source = cantine::platform::config::Source {
                file: None,
                skip_default_file: true,
            };
            let smtp = cantine::platform::config::Config::load_from(&source, |name| {
                (name == "CANTINE_MAIL__SMTP_URL").then(|| "smtp://127.0.0.1:1".to_owned())
            })
            .unwrap();
            c.mail = smtp.mail;
        })
        .spawn()
        .await;
    generate(&db.pool).await;
    let done = kitchen::catch_up(&broken.state.kitchen(), deadline())
        .await
        .unwrap();
    assert_eq!(done.sent, 0);
    assert!(done.failed > 0, "{done:?}");
    let (attempts, next, error): (i32, DateTime<Utc>, Option<String>) = sqlx::query_as(
        "select attempts, next_attempt_at, last_error from kitchen_mail
         where service_date = $1 order by id limit 1",
    )
    .bind(date(DAY))
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(attempts, 1);
    assert_eq!(next, deadline() + chrono::TimeDelta::seconds(60));
    assert!(error.is_some());
    // Not due again within the minute, even for a working instance.
    let working = kitchen_config(
        TestApp::builder()
            .clock(deadline())
            .pool(db.pool.clone())
            .data_dir(data.path()),
    )
    .spawn()
    .await;
    let done = kitchen::catch_up(&working.state.kitchen(), deadline())
        .await
        .unwrap();
    assert_eq!((done.frozen, done.sent), (0, 0), "{done:?}");
    let later = deadline() + chrono::TimeDelta::seconds(61);
    let done = kitchen::catch_up(&working.state.kitchen(), later)
        .await
        .unwrap();
    assert!(done.sent > 0, "{done:?}");
    assert_eq!(
        day_mails(data.path()).values().map(Vec::len).sum::<usize>(),
        2
    );
}
