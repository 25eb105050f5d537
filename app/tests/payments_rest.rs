//! The rest of PayFiP (issue 13), end to end over real HTTP with the simulator: finance's
//! decision on a mismatch (page and API, audited, crediting once or nothing, and the invoice
//! payable online again), concurrent starts opening one PayFiP operation, and `getPayment`'s
//! throttle on a pending attempt.

#![allow(dead_code)]

use cantine::http::payfip_simulator::{self, Switches};
use cantine::payments;
use cantine::platform::clock::Clock;
use cantine::platform::config::PayfipRegie;
use cantine_domain::ids::HouseholdId;
use cantine_domain::money::Cents;
use cantine_domain::roles::Role;
use cantine_test_support::TestApp;
use cantine_test_support::fixtures::{self, Family, StaffMember};
use chrono::{DateTime, Duration, DurationRound, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::net::TcpListener;

include!("support/payfip_world.rs");

impl World {
    async fn staff(&self, name: &str, role: Role) -> StaffMember {
        fixtures::staff(&self.app, name, role, &[], &fixtures::staff_password_hash()).await
    }

    async fn operations(&self) -> Vec<Value> {
        self.browser
            .get(format!("{}/simulator/operations", self.sim))
            .send()
            .await
            .unwrap()
            .json::<Vec<Value>>()
            .await
            .unwrap()
    }

    /// An attempt PayFiP answers paid for 1,00 € instead of 42,50 €: (payment id, idOp).
    async fn mismatch(&self) -> (i64, String) {
        self.switches(json!({"answer_override": {"montant": 100}}))
            .await;
        let (payment, id_op) = self.start().await;
        self.choose(&id_op, "P").await;
        assert_eq!(self.state(&id_op).await, "mismatch");
        self.switches(json!({"answer_override": null})).await;
        (payment, id_op)
    }
}

async fn post_form(
    w: &World,
    member: &StaffMember,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut form: Vec<(&str, &str)> = vec![("csrf", &member.csrf)];
    form.extend_from_slice(fields);
    member
        .client
        .post(w.app.url(path))
        .header("origin", w.app.origin())
        .form(&form)
        .send()
        .await
        .unwrap()
}

async fn page(member: &StaffMember, path: &str) -> (StatusCode, String) {
    let response = member.call(Method::GET, path, None).await;
    (response.status(), response.text().await.unwrap())
}

#[tokio::test]
async fn finance_accepts_a_mismatch_from_the_page_crediting_once_what_payfip_took() {
    let w = world().await;
    let (payment, id_op) = w.mismatch().await;
    let finance = w.staff("finances", Role::Finance).await;
    let manager = w.staff("service", Role::Manager).await;

    // The service reads the page, without the form, and may not decide.
    let (status, html) = page(&manager, "/gestion/paiements/anomalies").await;
    assert_eq!(status, 200);
    assert!(html.contains("Montant pris selon PayFiP"), "{html}");
    assert!(!html.contains("Enregistrer la décision"), "{html}");
    let refused = post_form(
        &w,
        &manager,
        &format!("/gestion/paiements/anomalies/{payment}"),
        &[("decision", "accept"), ("motif", "vu")],
    )
    .await;
    assert_eq!(refused.status(), 403);

    // Finance: the form; without a reason it is refused and nothing is credited.
    let (status, html) = page(&finance, "/gestion/paiements/anomalies").await;
    assert_eq!(status, 200);
    assert!(html.contains("Enregistrer la décision"), "{html}");
    let blank = post_form(
        &w,
        &finance,
        &format!("/gestion/paiements/anomalies/{payment}"),
        &[("decision", "accept"), ("motif", "  ")],
    )
    .await;
    assert_eq!(blank.status(), 422);
    assert!(w.ledger_payments().await.is_empty());

    let accepted = post_form(
        &w,
        &finance,
        &format!("/gestion/paiements/anomalies/{payment}"),
        &[
            ("decision", "accept"),
            ("motif", "Relevé DGFiP : 1,00 € pris"),
        ],
    )
    .await;
    assert_eq!(accepted.status(), 200, "followed to the page");
    let html = accepted.text().await.unwrap();
    assert!(html.contains("Anomalie acceptée"), "{html}");
    assert!(html.contains("Relevé DGFiP : 1,00 € pris"), "{html}");
    assert_eq!(
        w.ledger_payments().await,
        vec![(
            100,
            "payfip".to_owned(),
            format!("payfip-resolution:{id_op}")
        )]
    );
    assert_eq!(w.due().await, Cents(AMOUNT - 100));

    // Once: a second decision, by the page or the API, is refused and credits nothing more.
    let again = finance
        .call(
            Method::POST,
            &format!("/api/v1/staff/payments/mismatches/{payment}/resolution"),
            Some(json!({"decision": "accept", "reason": "encore"})),
        )
        .await;
    assert_eq!(again.status(), 409);
    assert_eq!(
        again.json::<Value>().await.unwrap()["code"],
        "mismatch_not_open"
    );
    assert_eq!(w.ledger_payments().await.len(), 1);

    // Audited, with the reason.
    let audited: Value = sqlx::query_scalar(
        "select detail from audit_entry where action = 'payment_mismatch_resolved'",
    )
    .fetch_one(&w.app.pool)
    .await
    .unwrap();
    assert_eq!(audited["decision"], "accepted");
    assert_eq!(audited["reason"], "Relevé DGFiP : 1,00 € pris");

    // The rest of the invoice may be paid online again, as attempt 2.
    let next = w.start_on(w.invoice).await;
    assert_eq!(next.status(), 201);
    let body: Value = next.json().await.unwrap();
    assert_eq!(body["payment"]["amount_cents"], AMOUNT - 100);
    assert!(
        body["payment"]["reference"]
            .as_str()
            .unwrap()
            .ends_with("T2")
    );

    // The day's report no longer counts it as a difference, nor its ledger payment as unknown.
    let day = w
        .app
        .clock()
        .now()
        .with_timezone(&chrono_tz::Europe::Paris)
        .date_naive();
    let report = payments::reconciliation_report(&w.app.pool, day)
        .await
        .unwrap();
    assert!(
        !report.differences.iter().any(|d| matches!(
            d,
            payments::Difference::Mismatch { .. }
                | payments::Difference::UnknownLedgerPayment { .. }
        )),
        "{:?}",
        report.differences
    );
}

#[tokio::test]
async fn finance_dismisses_a_mismatch_over_the_api_crediting_nothing() {
    let w = world().await;
    let (payment, _) = w.mismatch().await;
    let finance = w.staff("finances", Role::Finance).await;
    let kitchen = w.staff("cuisine", Role::Kitchen).await;
    let path = format!("/api/v1/staff/payments/mismatches/{payment}/resolution");

    // Neither the family, nor the kitchen, may list or decide.
    let response = w
        .family
        .call(Method::GET, "/api/v1/staff/payments/mismatches", None)
        .await;
    assert_eq!(response.status(), 403);
    let response = kitchen
        .call(
            Method::POST,
            &path,
            Some(json!({"decision": "dismiss", "reason": "x"})),
        )
        .await;
    assert_eq!(response.status(), 403);

    let open = finance
        .call(Method::GET, "/api/v1/staff/payments/mismatches", None)
        .await;
    assert_eq!(open.status(), 200);
    let open: Value = open.json().await.unwrap();
    assert_eq!(open.as_array().unwrap().len(), 1, "{open}");
    assert_eq!(open[0]["payment_id"], payment);
    assert_eq!(open[0]["answered_amount_cents"], 100);
    assert_eq!(open[0]["found"][0]["field"], "montant");

    let bad = finance
        .call(
            Method::POST,
            &path,
            Some(json!({"decision": "pay", "reason": "x"})),
        )
        .await;
    assert_eq!(bad.status(), 422);
    let unknown = finance
        .call(
            Method::POST,
            "/api/v1/staff/payments/mismatches/999999/resolution",
            Some(json!({"decision": "dismiss", "reason": "x"})),
        )
        .await;
    assert_eq!(unknown.status(), 404);

    let dismissed = finance
        .call(
            Method::POST,
            &path,
            Some(json!({"decision": "dismiss", "reason": "Remboursé par la DGFiP"})),
        )
        .await;
    assert_eq!(dismissed.status(), 200);
    let body: Value = dismissed.json().await.unwrap();
    assert_eq!(body["resolution"]["decision"], "dismissed");
    assert_eq!(body["resolution"]["ledger_payment_id"], Value::Null);
    assert!(w.ledger_payments().await.is_empty());
    assert_eq!(w.due().await, Cents(AMOUNT));

    let open = finance
        .call(Method::GET, "/api/v1/staff/payments/mismatches", None)
        .await;
    assert_eq!(open.json::<Value>().await.unwrap(), json!([]));
    let all = finance
        .call(
            Method::GET,
            "/api/v1/staff/payments/mismatches?state=all",
            None,
        )
        .await;
    assert_eq!(
        all.json::<Value>().await.unwrap().as_array().unwrap().len(),
        1
    );

    // Payable online again, in full.
    let next = w.start_on(w.invoice).await;
    assert_eq!(next.status(), 201);
}

#[tokio::test]
async fn two_concurrent_starts_on_one_invoice_open_one_payfip_operation() {
    let w = world().await;
    // Each start asks PayFiP slowly enough for the other to arrive meanwhile.
    for round in 1..=3 {
        let invoice = if round == 1 {
            w.invoice
        } else {
            issued_invoice(&w.app, w.family.household, round).await
        };
        let (a, b) = tokio::join!(w.start_on(invoice), w.start_on(invoice));
        let mut statuses = [a.status().as_u16(), b.status().as_u16()];
        statuses.sort_unstable();
        assert_eq!(statuses, [201, 409], "round {round}");
        let refused = if a.status() == 409 { a } else { b };
        assert_eq!(
            refused.json::<Value>().await.unwrap()["code"],
            "payment_in_progress"
        );
        let ops = w.operations().await;
        assert_eq!(
            ops.len(),
            round as usize,
            "one operation per invoice: {ops:?}"
        );
        let mut refdets: Vec<_> = ops.iter().map(|o| o["refdet"].as_str().unwrap()).collect();
        refdets.dedup();
        assert_eq!(refdets.len(), ops.len());
    }
    assert_eq!(w.attempts().await, 3);
}

#[tokio::test]
async fn get_payment_asks_payfip_about_a_pending_attempt_at_most_once_per_refresh_secs() {
    let w = world().await;
    w.switches(json!({"drop_notifications": true})).await;
    let (payment, id_op) = w.start().await;
    let detail_calls = || async { w.operations().await[0]["detail_calls"].as_u64().unwrap() };
    // First read: asked (undecided yet).
    assert_eq!(w.status(payment).await, "pending");
    assert_eq!(detail_calls().await, 1);
    // Paid at PayFiP, the notification lost: a client polling in a loop reads the stored
    // state and PayFiP is not asked again within the 10 seconds.
    w.choose(&id_op, "P").await;
    for _ in 0..5 {
        assert_eq!(w.status(payment).await, "pending");
    }
    assert_eq!(detail_calls().await, 1);
    assert!(w.ledger_payments().await.is_empty());
    // Past the window, the next read asks, and credits.
    w.advance(Duration::seconds(11));
    assert_eq!(w.status(payment).await, "paid");
    assert_eq!(detail_calls().await, 2);
    assert_eq!(w.ledger_payments().await.len(), 1);
    // Decided: never asked again.
    w.advance(Duration::seconds(60));
    assert_eq!(w.status(payment).await, "paid");
    assert_eq!(detail_calls().await, 2);
}
