//! The price is shown before it is due (issue 12): the family's reservation listing and
//! calendar show each day's meal price (and on an unbooked day past its deadline, what eating
//! anyway costs), and an absence that leaves meals charged (declared late, or an illness's
//! carence days) is previewed — `previewAbsence` in the API, a confirmation step on the page —
//! before it is recorded. A cancellation in time charges nothing and asks nothing.
//! Real PostgreSQL, real HTTP.

use cantine_test_support::TestApp;
use cantine_test_support::fixtures::{self, Family};
use cantine_test_support::time::{date, paris};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const PASSWORD: &str = "un mot de passe solide";

/// One school, the 2026-2027 year with its tariff (QF under 800: 3,50 €; a walk-in pays
/// 1,50 € more; one carence day), the clock on Thursday 19 November 2026 at 08:30 in Paris:
/// Thursday's and Friday's booking deadlines (2 service days before, at 10:00) have passed,
/// Monday 30th's has not.
struct Town {
    app: TestApp,
    family: Family,
    child: i64,
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
    sqlx::raw_sql(
        "insert into tariff (school_year_id, applies_from, mode, pai_cents, non_resident_cents,
                             adult_cents, unbooked_surcharge_cents, carence_days)
         select id, first_day, 'brackets', 150, 620, 700, 150, 1 from school_year;
         insert into tariff_band (tariff_id, qf_min, qf_max, meal_price_cents)
         select id, 0, 800, 350 from tariff union all select id, 800, null, 520 from tariff;",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let family = fixtures::family(&app, "martin", PASSWORD).await;
    let child = fixtures::enrolled_child(&app, &family, school, "Lina").await;
    sqlx::query(
        "insert into quotient_familial (household_id, amount_euros, applies_from, document)
         values ($1, 640, '2026-09-01', 'Attestation CAF')",
    )
    .bind(family.household)
    .execute(&app.pool)
    .await
    .unwrap();
    // Booked from Thursday 19th on (Monday 16th and Tuesday 17th, past, were not), whatever
    // the enrollment booked.
    sqlx::query(
        "insert into reservation (child_id, service_date, booked)
         select $1, d::date, d >= '2026-11-19'
         from generate_series('2026-11-16'::date, '2026-11-30'::date, interval '1 day') d
         where extract(isodow from d) in (1, 2, 4, 5)
         on conflict (child_id, activity, service_date) do update set booked = excluded.booked",
    )
    .bind(child)
    .execute(&app.pool)
    .await
    .unwrap();
    Town { app, family, child }
}

impl Town {
    async fn preview(&self, body: Value) -> Value {
        let response = self
            .family
            .call(Method::POST, "/api/v1/absences/preview", Some(body))
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    async fn absences(&self) -> i64 {
        sqlx::query_scalar("select count(*) from absence")
            .fetch_one(&self.app.pool)
            .await
            .unwrap()
    }

    async fn post_page(&self, fields: &[(&str, &str)]) -> reqwest::Response {
        let boundary = "----cantine-price-boundary";
        let mut body = String::new();
        for (name, value) in fields {
            body.push_str(&format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            ));
        }
        body.push_str(&format!("--{boundary}--\r\n"));
        self.family
            .client
            .post(self.app.url("/absences"))
            .header("origin", self.app.origin())
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await
            .unwrap()
    }
}

/// The page answered 303 to `/absences?info=declaree` (the client follows it).
async fn assert_recorded(response: reqwest::Response) {
    assert_eq!(response.status(), StatusCode::OK, "after the redirect");
    assert_eq!(response.url().query(), Some("info=declaree"));
    let html = response.text().await.unwrap();
    assert!(html.contains("Absence déclarée"), "{html}");
    assert!(!html.contains("restera facturé"));
}

#[tokio::test]
async fn a_late_absence_is_previewed_as_charged_at_the_meal_price() {
    let town = town().await;
    let preview = town
        .preview(json!({"children": [town.child], "first_day": "2026-11-20",
                        "last_day": "2026-11-20", "reason": "other"}))
        .await;
    assert_eq!(preview["total_cents"], 350, "{preview}");
    assert_eq!(preview["confirmation_needed"], true);
    let day = &preview["charged_days"][0];
    assert_eq!(day["date"], "2026-11-20");
    assert_eq!(day["notice"], "late");
    assert_eq!(day["line_kind"], "late_absence");
    assert_eq!(day["amount_cents"], 350);
    assert_eq!(town.absences().await, 0, "a preview records nothing");
}

#[tokio::test]
async fn an_illness_charges_its_carence_day_only() {
    let town = town().await;
    let preview = town
        .preview(json!({"children": [town.child], "first_day": "2026-11-19",
                        "last_day": "2026-11-23", "reason": "illness"}))
        .await;
    let days = preview["days"].as_array().unwrap();
    let kinds: Vec<(&str, &str, i64)> = days
        .iter()
        .map(|d| {
            (
                d["date"].as_str().unwrap(),
                d["line_kind"].as_str().unwrap(),
                d["amount_cents"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("2026-11-19", "illness_carence", 350),
            ("2026-11-20", "illness_free", 0),
            ("2026-11-23", "illness_free", 0),
        ]
    );
    assert_eq!(preview["total_cents"], 350);
    assert_eq!(preview["charged_days"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_cancellation_in_time_charges_nothing_and_is_recorded_without_a_confirmation() {
    let town = town().await;
    let preview = town
        .preview(json!({"children": [town.child], "first_day": "2026-11-30",
                        "last_day": "2026-11-30", "reason": "other"}))
        .await;
    assert_eq!(preview["total_cents"], 0, "{preview}");
    assert_eq!(preview["confirmation_needed"], false);
    assert_eq!(preview["days"][0]["line_kind"], "excused_absence");
    assert_eq!(preview["days"][0]["charged"], false);

    let child = town.child.to_string();
    let response = town
        .post_page(&[
            ("csrf", &town.family.csrf),
            ("enfants", &child),
            ("du", "2026-11-30"),
            ("au", "2026-11-30"),
            ("motif", "other"),
        ])
        .await;
    assert_recorded(response).await;
    assert_eq!(town.absences().await, 1);
}

#[tokio::test]
async fn the_page_asks_to_confirm_a_late_absence_in_euros_before_recording_it() {
    let town = town().await;
    let child = town.child.to_string();
    let fields = [
        ("csrf", town.family.csrf.as_str()),
        ("enfants", child.as_str()),
        ("du", "2026-11-20"),
        ("au", "2026-11-20"),
        ("motif", "other"),
    ];
    let response = town.post_page(&fields).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.url().path(),
        "/absences",
        "no redirect: nothing recorded"
    );
    let html = response.text().await.unwrap();
    assert!(
        html.contains("Ce repas restera facturé 3,50\u{a0}€"),
        "{html}"
    );
    assert!(html.contains("absence déclarée après la date limite"));
    assert!(html.contains("Confirmer l&#39;absence") || html.contains("Confirmer l'absence"));
    assert!(html.contains(r#"name="confirme" value="350""#));
    assert_eq!(
        town.absences().await,
        0,
        "not recorded before it is confirmed"
    );

    let mut confirmed = fields.to_vec();
    confirmed.push(("confirme", "350"));
    let response = town.post_page(&confirmed).await;
    assert_recorded(response).await;
    assert_eq!(town.absences().await, 1);
}

#[tokio::test]
async fn the_listing_and_the_calendar_show_the_meal_price_and_a_walk_in_cost() {
    let town = town().await;
    let response = town
        .family
        .call(
            Method::GET,
            &format!(
                "/api/v1/children/{}/reservations?from=2026-11-16&to=2026-11-30",
                town.child
            ),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let days: Vec<Value> = response.json().await.unwrap();
    let day = |d: &str| days.iter().find(|x| x["date"] == d).unwrap().clone();
    // Monday 16th: past its deadline and not booked; a meal eaten anyway costs 3,50 + 1,50.
    assert_eq!(day("2026-11-16")["meal_price_cents"], 350);
    assert_eq!(day("2026-11-16")["walk_in_cents"], 500);
    // Monday 30th: booked, still open.
    assert_eq!(day("2026-11-30")["meal_price_cents"], 350);
    assert_eq!(day("2026-11-30")["walk_in_cents"], Value::Null);
    // Wednesday 18th: no canteen.
    assert_eq!(day("2026-11-18")["meal_price_cents"], Value::Null);

    let response = town
        .family
        .call(
            Method::GET,
            &format!("/enfants/{}/calendrier?mois=2026-11", town.child),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    assert!(html.contains("Repas : 3,50\u{a0}€"), "{html}");
    assert!(html.contains("sans réservation : 5,00\u{a0}€"), "{html}");
}
