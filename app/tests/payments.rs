//! Paying an invoice online through PayFiP, end to end: the real application and PostgreSQL,
//! and the PayFiP simulator (`cantine::http::payfip_simulator`) on loopback ports, driven over
//! HTTP as the family's browser and PayFiP would. What is checked is the ledger: a paid answer
//! credits the invoice exactly once, whatever notifications come (replayed, forged, dropped,
//! concurrent), and nothing else credits anything.

use cantine::http::payfip_simulator::{self, Switches};
use cantine::payments;
use cantine::platform::clock::Clock;
use cantine::platform::config::PayfipRegie;
use cantine_domain::ids::HouseholdId;
use cantine_domain::money::Cents;
use cantine_domain::roles::Role;
use cantine_test_support::TestApp;
use cantine_test_support::fixtures::{self, Family};
use chrono::{DateTime, Duration, DurationRound, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::net::TcpListener;

include!("support/payfip_world.rs");

#[tokio::test]
async fn each_resultrans_ends_as_payfip_answers_and_only_a_payment_credits_once() {
    for (resultrans, status, heading) in [
        ("P", "paid", "Paiement accepté"),
        ("V", "paid", "Paiement accepté"),
        ("R", "refused", "Paiement refusé"),
        ("Z", "refused", "Paiement refusé"),
        ("A", "abandoned", "Paiement abandonné"),
    ] {
        let w = world().await;
        let (payment, id_op) = w.start().await;
        let back = w.choose(&id_op, resultrans).await;
        assert!(
            back.starts_with(&w.app.url("/paiements/retour/CANT2026")),
            "{resultrans}: {back}"
        );
        if resultrans == "A" {
            // An abandon may still turn into a payment for 2 minutes: pending until then.
            assert_eq!(w.state(&id_op).await, "pending");
            w.advance(Duration::minutes(3));
            assert_eq!(w.reconcile().await, 1);
        }
        assert_eq!(w.status(payment).await, status, "{resultrans}");
        // The return page asks the same question and words it.
        let page = w.family.client.get(&back).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        assert!(html.contains(heading), "{resultrans}: {html}");
        let ledger = w.ledger_payments().await;
        if status == "paid" {
            assert_eq!(
                ledger,
                vec![(AMOUNT, "payfip".to_owned(), format!("payfip:{id_op}"))],
                "{resultrans}"
            );
            assert_eq!(w.due().await, Cents::ZERO, "{resultrans}");
            let means: String =
                sqlx::query_scalar("select means from payfip_attempt where id_op = $1")
                    .bind(&id_op)
                    .fetch_one(&w.app.pool)
                    .await
                    .unwrap();
            assert_eq!(means, if resultrans == "P" { "card" } else { "debit" });
            // A replayed notification credits nothing more.
            assert_eq!(w.notify(&id_op).await, (StatusCode::OK, "OK".to_owned()));
            assert_eq!(w.ledger_payments().await.len(), 1);
            // Nothing left to pay: no new attempt.
            let again = w.start_on(w.invoice).await;
            assert_eq!(again.status(), 409);
            let body: Value = again.json().await.unwrap();
            assert_eq!(body["code"], "nothing_to_pay");
        } else {
            assert!(ledger.is_empty(), "{resultrans}: {ledger:?}");
            assert_eq!(w.due().await, Cents(AMOUNT));
            // Decided without payment: the family may try again, as attempt 2.
            let again = w.start_on(w.invoice).await;
            assert_eq!(again.status(), 201, "{resultrans}");
            let body: Value = again.json().await.unwrap();
            assert!(
                body["payment"]["reference"]
                    .as_str()
                    .unwrap()
                    .ends_with("T2")
            );
        }
        let list = w.family.call(Method::GET, "/api/v1/payments", None).await;
        let list: Value = list.json().await.unwrap();
        assert_eq!(
            list.as_array().unwrap().last().unwrap()["status"],
            status,
            "{resultrans}"
        );
    }
}

#[tokio::test]
async fn the_invoice_page_button_sends_the_family_to_payfip_and_back() {
    let w = world().await;
    let offered = || async {
        let invoice = cantine::billing::invoice(
            &w.app.pool,
            cantine::billing::Reader::Household(HouseholdId(w.family.household)),
            w.invoice,
        )
        .await
        .unwrap();
        payments::offered(&w.app.state.config, &invoice.summary)
    };
    assert!(offered().await, "the button is shown on an invoice to pay");
    let client = &w.family.client;
    let invoice_page = |client: reqwest::Client| {
        let url = w.app.url(&format!("/factures/{}", w.invoice));
        async move { client.get(url).send().await.unwrap().text().await.unwrap() }
    };
    let action = format!("action=\"/factures/{}/payer\"", w.invoice);
    let before = invoice_page(client.clone()).await;
    assert!(
        before.contains(&action) && before.contains("Payer 42,50\u{a0}€ en ligne"),
        "{before}"
    );
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // Without a session: to the login page, nothing opened.
    let anonymous = no_redirect
        .post(w.app.url(&format!("/factures/{}/payer", w.invoice)))
        .header("origin", w.app.origin())
        .form(&[("csrf", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 303);
    assert_eq!(w.attempts().await, 0);
    let response = client
        .post(w.app.url(&format!("/factures/{}/payer", w.invoice)))
        .header("origin", w.app.origin())
        .form(&[("csrf", w.family.csrf.as_str())])
        .send()
        .await
        .unwrap();
    // The family's browser follows to PayFiP's page.
    assert_eq!(response.status(), 200);
    assert!(
        response.url().as_str().starts_with(&w.sim),
        "{}",
        response.url()
    );
    let id_op = response
        .url()
        .query()
        .unwrap()
        .trim_start_matches("idop=")
        .to_owned();
    let back = w.choose(&id_op, "P").await;
    let page = client
        .get(&back)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Paiement accepté") && page.contains("42,50"),
        "{page}"
    );
    // The same way back posted from PayFiP's page.
    let posted = client
        .post(back.split('?').next().unwrap())
        .header("origin", "https://www.payfip.gouv.fr")
        .form(&[("idop", id_op.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 200);
    assert!(posted.text().await.unwrap().contains("Paiement accepté"));
    // A second click: nothing left to pay, said in French on a page of ours.
    let again = client
        .post(w.app.url(&format!("/factures/{}/payer", w.invoice)))
        .header("origin", w.app.origin())
        .form(&[("csrf", w.family.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 409);
    assert!(again.text().await.unwrap().contains("plus rien à payer"));
    assert!(!offered().await, "no button on a paid invoice");
    assert!(!invoice_page(client.clone()).await.contains(&action));
    assert_eq!(w.ledger_payments().await.len(), 1);
}

#[tokio::test]
async fn forged_unknown_or_empty_notifications_answer_200_and_change_nothing() {
    let w = world().await;
    let (_, id_op) = w.start().await;
    for forged in ["00000000-0000-0000-0000-000000000000", "x", "'%20or%201=1"] {
        assert_eq!(
            w.notify(forged).await,
            (StatusCode::OK, "ignored".to_owned())
        );
    }
    let empty = reqwest::get(w.app.url("/payfip/notification"))
        .await
        .unwrap();
    assert_eq!(empty.status(), 200);
    let long = reqwest::get(
        w.app
            .url(&format!("/payfip/notification?idOp={}", "a".repeat(5000))),
    )
    .await
    .unwrap();
    assert_eq!(long.status(), 200);
    // PayFiP's POST form, `idOp` spelling, for the real (undecided) operation: asked, pending.
    let posted = reqwest::Client::new()
        .post(w.app.url("/payfip/notification"))
        .form(&[("idOp", id_op.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 200);
    // Posted by PayFiP's site itself: no forgery check stands in the way.
    let from_payfip = reqwest::Client::new()
        .post(w.app.url("/payfip/notification"))
        .header("origin", "https://www.payfip.gouv.fr")
        .form(&[("idop", id_op.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(from_payfip.status(), 200);
    assert_eq!(from_payfip.text().await.unwrap(), "OK");
    assert_eq!(w.state(&id_op).await, "pending");
    assert!(w.last_fault(&id_op).await.unwrap().contains("P5"));
    assert!(w.ledger_payments().await.is_empty());
}

#[tokio::test]
async fn a_paid_answer_for_another_amount_or_refdet_is_recorded_as_a_mismatch_and_credits_nothing()
{
    for answer_override in [
        json!({"montant": 100}),
        json!({"refdet": "CANT2026999999T1"}),
    ] {
        let w = world().await;
        w.switches(json!({"answer_override": answer_override}))
            .await;
        let (payment, id_op) = w.start().await;
        w.choose(&id_op, "P").await;
        assert_eq!(w.state(&id_op).await, "mismatch", "{answer_override}");
        assert!(w.ledger_payments().await.is_empty());
        assert_eq!(w.due().await, Cents(AMOUNT));
        let found: Value = sqlx::query_scalar(
            "select m.found from payfip_mismatch m join payfip_attempt a on a.id = m.attempt_id
             where a.id_op = $1",
        )
        .bind(&id_op)
        .fetch_one(&w.app.pool)
        .await
        .unwrap();
        let field = if answer_override.get("montant").is_some() {
            "montant"
        } else {
            "refdet"
        };
        assert_eq!(found[0]["field"], field, "{found}");
        assert_eq!(w.app.state.metrics.payfip_mismatches.get(), 1);
        // Replays and the reconciliation change nothing; the family is told it is checked,
        // and may not pay again meanwhile.
        w.notify(&id_op).await;
        assert_eq!(w.status(payment).await, "pending");
        assert!(w.ledger_payments().await.is_empty());
        let again = w.start_on(w.invoice).await;
        assert_eq!(again.status(), 409);
        assert_eq!(
            again.json::<Value>().await.unwrap()["code"],
            "payment_in_progress"
        );
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
            matches!(
                report.differences.as_slice(),
                [payments::Difference::Mismatch { .. }]
            ),
            "{:?}",
            report.differences
        );
    }
}

#[tokio::test]
async fn a_dropped_notification_is_recovered_by_the_reconciliation() {
    let w = world().await;
    w.switches(json!({"drop_notifications": true})).await;
    let (_, id_op) = w.start().await;
    w.choose(&id_op, "V").await;
    assert_eq!(w.state(&id_op).await, "pending");
    // Not due yet: nothing asked.
    assert_eq!(w.reconcile().await, 0);
    w.advance(Duration::minutes(2));
    assert_eq!(w.reconcile().await, 1);
    assert_eq!(w.state(&id_op).await, "paid");
    assert_eq!(w.ledger_payments().await.len(), 1);
    assert_eq!(w.due().await, Cents::ZERO);
    // The report shows it paid and credited, with no difference.
    let day = w
        .app
        .clock()
        .now()
        .with_timezone(&chrono_tz::Europe::Paris)
        .date_naive();
    let report = payments::reconciliation_report(&w.app.pool, day)
        .await
        .unwrap();
    assert_eq!(report.paid_total, Cents(AMOUNT));
    assert_eq!(report.ledger_total, Cents(AMOUNT));
    assert!(report.differences.is_empty(), "{:?}", report.differences);
    // Finance reads the same report over the API; a family may not.
    let finance = fixtures::staff(
        &w.app,
        "compta",
        Role::Finance,
        &[],
        &fixtures::staff_password_hash(),
    )
    .await;
    let path = format!("/api/v1/staff/payments/reconciliation?day={day}");
    let response = finance.call(Method::GET, &path, None).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["lines"][0]["state"], "paid");
    assert_eq!(body["lines"][0]["ledger_amount_cents"], AMOUNT);
    assert_eq!(body["paid_total_cents"], AMOUNT);
    assert_eq!(body["differences"], json!([]));
    assert_eq!(w.family.call(Method::GET, &path, None).await.status(), 403);
}

#[tokio::test]
async fn p5_then_p1_expires_the_attempt_and_lets_the_family_try_again() {
    let w = world().await;
    let (payment, id_op) = w.start().await;
    // The family never chooses: PayFiP answers P5 (not decided).
    w.advance(Duration::minutes(1));
    assert_eq!(w.reconcile().await, 1);
    assert_eq!(w.state(&id_op).await, "pending");
    assert!(w.last_fault(&id_op).await.unwrap().contains("P5"));
    // A new attempt is refused while this one may still succeed.
    let refused = w.start_on(w.invoice).await;
    assert_eq!(refused.status(), 409);
    assert_eq!(
        refused.json::<Value>().await.unwrap()["code"],
        "payment_in_progress"
    );
    // Then PayFiP no longer knows the operation, past its 15 minutes: expired.
    w.switches(json!({"unknown_calls": 1})).await;
    w.advance(Duration::minutes(16));
    assert_eq!(w.reconcile().await, 1);
    assert_eq!(w.state(&id_op).await, "expired");
    assert_eq!(w.status(payment).await, "expired");
    assert!(w.ledger_payments().await.is_empty());
    let again = w.start_on(w.invoice).await;
    assert_eq!(again.status(), 201);
}

#[tokio::test]
async fn a_p1_before_15_minutes_keeps_the_attempt_pending() {
    let w = world().await;
    let (_, id_op) = w.start().await;
    w.switches(json!({"unknown_calls": 1})).await;
    w.notify(&id_op).await;
    assert_eq!(w.state(&id_op).await, "pending");
    assert!(w.last_fault(&id_op).await.unwrap().contains("P1"));
    w.choose(&id_op, "P").await;
    assert_eq!(w.state(&id_op).await, "paid");
}

#[tokio::test]
async fn concurrent_notifications_of_one_paid_operation_credit_once() {
    let w = world().await;
    w.switches(json!({"drop_notifications": true})).await;
    let (_, id_op) = w.start().await;
    w.choose(&id_op, "P").await;
    let answers = futures_util::future::join_all((0..6).map(|_| w.notify(&id_op))).await;
    for answer in answers {
        assert_eq!(answer, (StatusCode::OK, "OK".to_owned()));
    }
    assert_eq!(w.state(&id_op).await, "paid");
    assert_eq!(w.ledger_payments().await.len(), 1);
    assert_eq!(w.due().await, Cents::ZERO);
    let credited: i64 = sqlx::query_scalar(
        "select count(*) from ledger_entry where household_id = $1 and kind = 'payment'",
    )
    .bind(w.family.household)
    .fetch_one(&w.app.pool)
    .await
    .unwrap();
    assert_eq!(credited, 1);
}

#[tokio::test]
async fn technical_faults_are_asked_again_later_and_functional_ones_are_final() {
    let w = world().await;
    for (n, kind) in ["tech_malfunction", "tech_unavailable", "tech_protocol"]
        .into_iter()
        .enumerate()
    {
        let invoice = issued_invoice(&w.app, w.family.household, 10 + n as i64).await;
        let response = w.start_on(invoice).await;
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.unwrap();
        let id_op = body["redirect_url"]
            .as_str()
            .unwrap()
            .split("idop=")
            .nth(1)
            .unwrap()
            .to_owned();
        w.switches(json!({"faults": [{"kind": kind, "code": "", "operation": "detail"}]}))
            .await;
        w.choose(&id_op, "P").await;
        assert_eq!(w.state(&id_op).await, "pending", "{kind}");
        let fault = w.last_fault(&id_op).await.unwrap();
        let element = match kind {
            "tech_malfunction" => "TechDysfonctionnementErreur",
            "tech_unavailable" => "TechIndisponibiliteErreur",
            _ => "TechProtocolaireErreur",
        };
        assert!(fault.contains(element), "{kind}: {fault}");
        // Asked again after a pause, not at once.
        assert_eq!(w.reconcile().await, 0, "{kind}");
        w.advance(Duration::minutes(3));
        assert_eq!(w.reconcile().await, 1, "{kind}");
        assert_eq!(w.state(&id_op).await, "paid", "{kind}");
    }
    assert_eq!(w.ledger_payments().await.len(), 3);

    // A functional fault other than P5 and P1 on the detail: final, nothing paid.
    let (payment, id_op) = w.start().await;
    w.switches(json!({"faults": [{"kind": "functional", "code": "P4", "operation": "detail"}]}))
        .await;
    w.choose(&id_op, "P").await;
    assert_eq!(w.state(&id_op).await, "failed");
    assert!(w.last_fault(&id_op).await.unwrap().contains("P4"));
    assert_eq!(w.status(payment).await, "refused");
    assert_eq!(w.ledger_payments().await.len(), 3);
    w.advance(Duration::hours(1));
    assert_eq!(w.reconcile().await, 0);

    // Faults when opening: nothing recorded, a clear answer.
    let invoice = issued_invoice(&w.app, w.family.household, 20).await;
    let before = w.attempts().await;
    w.switches(json!({"faults": [{"kind": "tech_unavailable", "operation": "create"}]}))
        .await;
    let down = w.start_on(invoice).await;
    assert_eq!(down.status(), 503);
    let body: Value = down.json().await.unwrap();
    assert_eq!(body["code"], "payment_unavailable");
    assert!(body["detail"].as_str().unwrap().contains("réessayez"));
    w.switches(json!({"faults": [{"kind": "functional", "code": "T4", "operation": "create"}]}))
        .await;
    let refused = w.start_on(invoice).await;
    assert_eq!(refused.status(), 409);
    assert_eq!(
        refused.json::<Value>().await.unwrap()["code"],
        "payment_unavailable"
    );
    assert_eq!(w.attempts().await, before);
    // Once PayFiP answers again, the payment opens.
    assert_eq!(w.start_on(invoice).await.status(), 201);
}

#[tokio::test]
async fn another_households_invoice_and_payments_are_not_found() {
    let w = world().await;
    let (payment, _) = w.start().await;
    let other = fixtures::family(&w.app, "durand", PASSWORD).await;
    let start = other
        .call(
            Method::POST,
            &format!("/api/v1/invoices/{}/payments", w.invoice),
            None,
        )
        .await;
    assert_eq!(start.status(), 404);
    let get = other
        .call(Method::GET, &format!("/api/v1/payments/{payment}"), None)
        .await;
    assert_eq!(get.status(), 404);
    let list: Value = other
        .call(Method::GET, "/api/v1/payments", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list, json!([]));
}

#[tokio::test]
async fn a_client_number_is_verified_with_recuperer_detail_client() {
    let w = world().await;
    let client = &w.app.state.payfip;
    let numcli = cantine_domain::payfip::NumCli::new("012345").unwrap();
    let labels = payments::verify_numcli(client, &numcli).await.unwrap();
    assert!(!labels.is_empty());
    w.switches(json!({"faults": [{"kind": "functional", "code": "T2", "operation": "client"}]}))
        .await;
    let error = payments::verify_numcli(client, &numcli).await.unwrap_err();
    assert!(error.contains("T2"), "{error}");
}

/// After a random run of payments, refusals, abandons, replays, dropped notifications and
/// reconciliations over several invoices, every household's ledger balance is its invoices
/// minus what PayFiP said was paid, each paid attempt has exactly one ledger payment, and no
/// invoice is paid beyond its amount.
#[tokio::test]
async fn after_a_random_run_the_ledger_is_invoices_minus_what_payfip_said_was_paid() {
    use rand::{Rng, SeedableRng};
    let w = world().await;
    let mut rng = rand::rngs::StdRng::seed_from_u64(20261202);
    let mut invoices = vec![w.invoice];
    for n in 2..=4 {
        invoices.push(issued_invoice(&w.app, w.family.household, n).await);
    }
    let mut open: Vec<String> = Vec::new();
    for step in 0..24 {
        match rng.gen_range(0..5) {
            0 | 1 => {
                let invoice = invoices[rng.gen_range(0..invoices.len())];
                let drop = rng.gen_bool(0.3);
                w.switches(json!({"drop_notifications": drop, "repeat_notifications": rng.gen_range(0..3)}))
                    .await;
                let response = w.start_on(invoice).await;
                let status = response.status();
                let body: Value = response.json().await.unwrap();
                if status == 201 {
                    let url = body["redirect_url"].as_str().unwrap();
                    let id_op = url.split("idop=").nth(1).unwrap().to_owned();
                    let choice = ["P", "V", "R", "Z", "A"][rng.gen_range(0..5)];
                    w.choose(&id_op, choice).await;
                    open.push(id_op);
                } else {
                    assert!(
                        ["payment_in_progress", "nothing_to_pay"]
                            .contains(&body["code"].as_str().unwrap()),
                        "step {step}: {body}"
                    );
                }
            }
            2 if !open.is_empty() => {
                let id_op = open[rng.gen_range(0..open.len())].clone();
                futures_util::future::join_all((0..rng.gen_range(1..4)).map(|_| w.notify(&id_op)))
                    .await;
            }
            3 => {
                w.advance(Duration::minutes(rng.gen_range(1..5)));
                w.reconcile().await;
            }
            _ => {
                assert_eq!(w.notify("forged-id").await.1, "ignored");
            }
        }
    }
    w.advance(Duration::minutes(10));
    w.reconcile().await;
    let paid: Vec<(i64, i64, Option<i64>)> = sqlx::query_as(
        "select invoice_id, amount_cents, payment_id from payfip_attempt where state = 'paid'",
    )
    .fetch_all(&w.app.pool)
    .await
    .unwrap();
    assert!(!paid.is_empty(), "the run paid something");
    let ledger = w.ledger_payments().await;
    assert_eq!(
        ledger.len(),
        paid.len(),
        "one ledger payment per paid attempt"
    );
    let paid_total: i64 = paid.iter().map(|p| p.1).sum();
    let balance = cantine::billing::balance(&w.app.pool, HouseholdId(w.family.household))
        .await
        .unwrap();
    assert_eq!(
        balance.balance,
        Cents(AMOUNT * invoices.len() as i64 - paid_total)
    );
    for invoice in &invoices {
        let on_invoice: i64 = paid.iter().filter(|p| p.0 == *invoice).map(|p| p.1).sum();
        assert!(on_invoice <= AMOUNT, "invoice {invoice} paid {on_invoice}");
    }
    assert_eq!(balance.credit, Cents::ZERO);
}
