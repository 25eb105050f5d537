//! What a family sees of billing, on a real PostgreSQL and a real server: a small town billed
//! for November 2026 (attendance marked and locked, the month run and issued through the
//! billing service), then the JSON API (invoices and their statuses, lines explained, another
//! household's 404, contests, balance and ledger), the PDFs read back with `pdftotext`, the
//! mails sent by the worker that `serve` starts, and the family's pages.

use std::time::{Duration, Instant};

use cantine::audit::Actor;
use cantine::billing::{self, Means, Month, PaymentInput};
use cantine_domain::billing::LineKind;
use cantine_domain::calendar::SchoolYearLabel;
use cantine_domain::ids::{AccountId, ChildId, SchoolId};
use cantine_domain::money::Cents;
use cantine_domain::roles::{Role, Roles, Scope};
use cantine_domain::tariff::{Bracket, Pricing, Tariff, UnbookedRule};
use cantine_test_support::fixtures::{self, Family};
use cantine_test_support::time::{date, paris};
use cantine_test_support::{TestApp, mail};
use chrono::NaiveDate;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const PASSWORD: &str = "un mot de passe solide";
const REGIE: &str = "CANT";

/// Techniville billed for November 2026: the Martins (QF 650 €, bracket 0 to 699 € at
/// 2,50 €) with Léa, absent without notice on her first November day and present on the
/// others; the Duponts (no QF: the top bracket, 4,20 €) with Tom, present every day.
struct Town {
    app: TestApp,
    martin: Family,
    dupont: Family,
    lea: i64,
    actor: Actor,
    /// The Martins' November invoice.
    invoice: Value,
}

fn november() -> Month {
    Month(date("2026-11-01"))
}

async fn booked_days(app: &TestApp, child: i64) -> Vec<NaiveDate> {
    sqlx::query_scalar(
        "select service_date from reservation where child_id = $1 and booked
         and service_date >= '2026-11-01' and service_date < '2026-12-01' order by service_date",
    )
    .bind(child)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

async fn town() -> Town {
    town_with(|_| {}).await
}

async fn town_with(
    configure: impl FnOnce(&mut cantine::platform::config::Config) + Send + 'static,
) -> Town {
    // A Wednesday before the autumn holidays: every November day is still open to booking.
    let app = TestApp::builder()
        .clock(paris("2026-10-14 12:00:00"))
        .config(configure)
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
    let mut martin = fixtures::family(&app, "martin", PASSWORD).await;
    let mut dupont = fixtures::family(&app, "dupont", PASSWORD).await;
    let lea = fixtures::enrolled_child(&app, &martin, school, "Léa").await;
    let tom = fixtures::enrolled_child(&app, &dupont, school, "Tom").await;
    sqlx::query(
        "update household set address_line1 = '3 rue des Lilas', postcode = '99123', city = 'Techniville' where id = $1",
    )
    .bind(martin.household)
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query(
        "insert into quotient_familial (household_id, amount_euros, applies_from, document)
         values ($1, 650, '2026-09-01', 'Attestation CAF')",
    )
    .bind(martin.household)
    .execute(&app.pool)
    .await
    .unwrap();

    let manager = fixtures::staff(
        &app,
        "gestion",
        Role::Manager,
        &[],
        &fixtures::staff_password_hash(),
    )
    .await;
    let actor = Actor {
        account: AccountId(manager.id),
        email: manager.email.clone(),
        ip: "127.0.0.1".to_owned(),
    };
    billing::save_tariff(
        &app.pool,
        &actor,
        "2026-2027".parse::<SchoolYearLabel>().unwrap(),
        date("2026-09-01"),
        Tariff {
            pricing: Pricing::Brackets {
                brackets: vec![
                    Bracket {
                        qf_min: 0,
                        qf_max: Some(700),
                        meal: Cents(250),
                    },
                    Bracket {
                        qf_min: 700,
                        qf_max: None,
                        meal: Cents(420),
                    },
                ],
            },
            pai: Cents(150),
            non_resident: Cents(600),
            adult: Cents(700),
            unbooked: UnbookedRule::Surcharge { cents: Cents(100) },
            carence_days: 1,
        },
    )
    .await
    .expect("the year's tariff");

    // December 1st: the agents marked November, the manager locked each day.
    app.clock().set(paris("2026-12-01 09:00:00"));
    let agent = cantine::attendance::Agent {
        actor: &actor,
        roles: Roles::from_iter([Role::Manager]),
        scope: Scope::Commune,
    };
    let lea_days = booked_days(&app, lea).await;
    let tom_days = booked_days(&app, tom).await;
    assert!(lea_days.len() >= 10, "{lea_days:?}");
    let mut marks = Vec::new();
    for (child, days) in [(lea, &lea_days), (tom, &tom_days)] {
        for (i, day) in days.iter().enumerate() {
            marks.push(cantine::attendance::NewMark {
                client_id: uuid::Uuid::new_v4(),
                child: ChildId(child),
                date: *day,
                // Léa missed her first day without telling anyone.
                present: !(child == lea && i == 0),
                marked_at: None,
                reason: None,
            });
        }
    }
    for batch in marks.chunks(50) {
        cantine::attendance::mark(
            &app.pool,
            &agent,
            date("2026-12-01"),
            app.state.clock.now(),
            batch,
        )
        .await
        .expect("marks");
    }
    for day in &lea_days {
        cantine::attendance::lock_day(
            &app.pool,
            &agent,
            SchoolId(school),
            *day,
            (date("2026-12-01"), app.state.clock.now()),
        )
        .await
        .expect("lock");
    }
    // The families come back after their sessions expired.
    for family in [&mut martin, &mut dupont] {
        family.csrf = sign_in_again(&app, family).await;
    }
    billing::run(&app.pool, None, REGIE, november())
        .await
        .expect("run");
    let review = billing::issue(&app.pool, None, REGIE, november())
        .await
        .expect("issue");
    assert_eq!(review.invoices.len(), 2);

    let list: Value = martin
        .call(Method::GET, "/api/v1/invoices", None)
        .await
        .json()
        .await
        .unwrap();
    let invoice = list[0].clone();
    Town {
        app,
        martin,
        dupont,
        lea,
        actor,
        invoice,
    }
}

/// Signs the family in again; answers the new session's CSRF token.
async fn sign_in_again(app: &TestApp, family: &Family) -> String {
    let response = family
        .client
        .post(app.url("/api/v1/session"))
        .json(&json!({"email": family.email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let body = json(response, StatusCode::OK).await;
    body["csrf_token"].as_str().unwrap().to_owned()
}

async fn json(response: reqwest::Response, status: StatusCode) -> Value {
    let got = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(got, status, "{text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// The PDF's text as `pdftotext -layout` reads it, the no-break spaces as plain ones.
fn pdf_text(bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("document.pdf");
    std::fs::write(&file, bytes).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args(["-layout", "-enc", "UTF-8"])
        .arg(&file)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils, scripts/install-deps test)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    plain(&String::from_utf8(out.stdout).unwrap())
}

fn plain(text: &str) -> String {
    text.replace(['\u{202f}', '\u{a0}'], " ")
}

/// "2,50 €" as the PDF and the pages write it, spaces plain.
fn euros(cents: i64) -> String {
    plain(&cantine::http::fr::euros(Cents(cents)))
}

async fn pdf(family: &Family, path: &str) -> Vec<u8> {
    let response = family.call(Method::GET, path, None).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    assert_eq!(response.headers()["content-type"], "application/pdf");
    assert_eq!(response.headers()["cache-control"], "no-store");
    let bytes = response.bytes().await.unwrap().to_vec();
    assert!(bytes.starts_with(b"%PDF-"), "{path}");
    bytes
}

#[tokio::test]
async fn a_family_lists_its_issued_invoices_with_amount_paid_and_status() {
    let town = town().await;
    let list: Value = json(
        town.martin
            .call(Method::GET, "/api/v1/invoices", None)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    let invoice = &list[0];
    let days = booked_days(&town.app, town.lea).await.len() as i64;
    assert_eq!(invoice["month"], "2026-11");
    assert_eq!(invoice["kind"], "invoice");
    // Every booked day at 2,50 €: the no-show too.
    assert_eq!(invoice["amount_cents"], days * 250, "{invoice}");
    assert_eq!(invoice["paid_cents"], 0);
    assert_eq!(invoice["status"], "issued");
    assert_eq!(invoice["status_label"], "À payer");
    let number = invoice["number"].as_str().unwrap();
    assert!(number.starts_with("CANT-2026-"), "{number}");

    // A part paid, then the rest: the status follows.
    let id = invoice["id"].as_i64().unwrap();
    for (key, amount, status) in [
        ("first", 250, "partially_paid"),
        ("rest", days * 250 - 250, "paid"),
    ] {
        billing::record_payment(
            &town.app.pool,
            None,
            PaymentInput {
                household: cantine_domain::ids::HouseholdId(town.martin.household),
                regie: REGIE.to_owned(),
                amount: Cents(amount),
                means: Means::Card,
                reference: "carte".to_owned(),
                received_on: date("2026-12-01"),
                idempotency_key: format!("test-{key}"),
                invoice: Some(id),
            },
        )
        .await
        .unwrap();
        let list: Value = town
            .martin
            .call(Method::GET, "/api/v1/invoices", None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(list[0]["status"], status, "{list}");
    }
    let list: Value = town
        .martin
        .call(Method::GET, "/api/v1/invoices", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list[0]["paid_cents"], days * 250);
}

#[tokio::test]
async fn each_line_says_the_day_the_child_what_happened_and_the_tariff_basis() {
    let town = town().await;
    let id = town.invoice["id"].as_i64().unwrap();
    let detail = json(
        town.martin
            .call(Method::GET, &format!("/api/v1/invoices/{id}"), None)
            .await,
        StatusCode::OK,
    )
    .await;
    let lines = detail["lines"].as_array().unwrap();
    let days = booked_days(&town.app, town.lea).await;
    assert_eq!(lines.len(), days.len(), "{detail}");
    assert_eq!(detail["number"], town.invoice["number"]);
    let first = &lines[0];
    assert_eq!(first["date"], days[0].to_string());
    assert_eq!(first["kind"], LineKind::NoShow.code());
    assert_eq!(
        first["label"],
        "Absent sans justificatif : repas réservé facturé"
    );
    assert_eq!(first["child"]["first_name"], "Léa");
    for line in &lines[1..] {
        assert_eq!(line["kind"], "meal", "{line}");
        assert_eq!(line["label"], "Repas pris");
    }
    for line in lines {
        assert_eq!(line["amount_cents"], 250);
        assert_eq!(line["meal_price_cents"], 250);
        let why = plain(line["explanation"].as_str().unwrap());
        assert!(
            why.contains("quotient familial (650 €)") && why.contains("tranche de 0 € à 699 €"),
            "{why}"
        );
        assert!(line["contest"].is_null());
    }

    // The Duponts, without a QF, pay the top bracket, and say so.
    let theirs: Value = town
        .dupont
        .call(Method::GET, "/api/v1/invoices", None)
        .await
        .json()
        .await
        .unwrap();
    let their_id = theirs[0]["id"].as_i64().unwrap();
    let detail = json(
        town.dupont
            .call(Method::GET, &format!("/api/v1/invoices/{their_id}"), None)
            .await,
        StatusCode::OK,
    )
    .await;
    let line = &detail["lines"][0];
    assert_eq!(line["amount_cents"], 420);
    assert!(
        line["explanation"]
            .as_str()
            .unwrap()
            .contains("Quotient familial non fourni"),
        "{line}"
    );
}

#[tokio::test]
async fn another_households_invoice_is_not_found_anywhere() {
    let town = town().await;
    let id = town.invoice["id"].as_i64().unwrap();
    let detail = json(
        town.martin
            .call(Method::GET, &format!("/api/v1/invoices/{id}"), None)
            .await,
        StatusCode::OK,
    )
    .await;
    let line = detail["lines"][0]["id"].as_i64().unwrap();
    for path in [
        format!("/api/v1/invoices/{id}"),
        format!("/api/v1/invoices/{id}/pdf"),
        format!("/factures/{id}"),
        format!("/factures/{id}/pdf"),
    ] {
        let response = town.dupont.call(Method::GET, &path, None).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let response = town
        .dupont
        .call(
            Method::POST,
            &format!("/api/v1/invoices/{id}/lines/{line}/contest"),
            Some(json!({"message": "Ce n'est pas à moi"})),
        )
        .await;
    assert_eq!(
        json(response, StatusCode::NOT_FOUND).await["code"],
        "not_found"
    );
    // Nor is a line of the family's own invoice named under another invoice.
    let theirs: Value = town
        .dupont
        .call(Method::GET, "/api/v1/invoices", None)
        .await
        .json()
        .await
        .unwrap();
    let their_id = theirs[0]["id"].as_i64().unwrap();
    let response = town
        .martin
        .call(
            Method::POST,
            &format!("/api/v1/invoices/{their_id}/lines/{line}/contest"),
            Some(json!({"message": "Erreur"})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let open: i64 = sqlx::query_scalar("select count(*) from contest")
        .fetch_one(&town.app.pool)
        .await
        .unwrap();
    assert_eq!(open, 0);
}

#[tokio::test]
async fn a_contested_line_shows_its_open_contest_and_cannot_be_contested_twice() {
    let town = town().await;
    let id = town.invoice["id"].as_i64().unwrap();
    let detail: Value = town
        .martin
        .call(Method::GET, &format!("/api/v1/invoices/{id}"), None)
        .await
        .json()
        .await
        .unwrap();
    let line = detail["lines"][0]["id"].as_i64().unwrap();
    let path = format!("/api/v1/invoices/{id}/lines/{line}/contest");
    for bad in [
        json!({"message": "   "}),
        json!({"message": "x".repeat(2001)}),
    ] {
        let response = town.martin.call(Method::POST, &path, Some(bad)).await;
        assert_eq!(
            json(response, StatusCode::UNPROCESSABLE_ENTITY).await["code"],
            "validation"
        );
    }
    let message = "Léa était malade ce jour-là : le certificat est en mairie.";
    let contest = json(
        town.martin
            .call(Method::POST, &path, Some(json!({ "message": message })))
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(contest["status"], "open");
    assert_eq!(contest["message"], message);
    let again = town
        .martin
        .call(Method::POST, &path, Some(json!({"message": "Encore"})))
        .await;
    assert_eq!(
        json(again, StatusCode::CONFLICT).await["code"],
        "contest_open"
    );

    let detail: Value = town
        .martin
        .call(Method::GET, &format!("/api/v1/invoices/{id}"), None)
        .await
        .json()
        .await
        .unwrap();
    let shown = &detail["lines"][0]["contest"];
    assert_eq!(shown["status"], "open", "{detail}");
    assert_eq!(shown["message"], message);
    assert!(detail["lines"][1]["contest"].is_null());

    // Finance answers with a credit note of the line: the family is mailed, and sees both.
    let contest_id = contest["id"].as_i64().unwrap();
    billing::answer_contest(
        &town.app.pool,
        &town.actor,
        contest_id,
        "Vous avez raison, le repas est remboursé.".to_owned(),
        Some(Cents(250)),
    )
    .await
    .unwrap();
    let sent = billing::send_due_mails(
        &town.app.pool,
        &cantine::http::FamilyMails::new(&town.app.state),
    )
    .await
    .unwrap();
    // The two invoices of the month, the credit note and the answer.
    assert_eq!(sent, 4);
    let mails = mail::spool(town.app.data_dir());
    let answer = mails
        .iter()
        .find(|m| m.body.contains("Vous avez raison, le repas est rembours"))
        .expect("the answer's mail");
    assert!(
        answer.headers.contains("martin@example.test"),
        "{}",
        answer.headers
    );
    assert!(answer.body.contains("AV-CANT-2026-"), "{}", answer.body);
    let detail: Value = town
        .martin
        .call(Method::GET, &format!("/api/v1/invoices/{id}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["lines"][0]["contest"]["status"], "answered");
    let list: Value = town
        .martin
        .call(Method::GET, "/api/v1/invoices", None)
        .await
        .json()
        .await
        .unwrap();
    let credit_note = list
        .as_array()
        .unwrap()
        .iter()
        .find(|i| {
            i["kind"] == "credit_note" && i["amount_cents"].as_i64().map(i64::abs) == Some(250)
        })
        .unwrap_or_else(|| panic!("a credit note of 2,50 € in {list}"));
    // Its PDF names the invoice it corrects.
    let text = pdf_text(
        &pdf(
            &town.martin,
            &format!("/api/v1/invoices/{}/pdf", credit_note["id"]),
        )
        .await,
    );
    let number = credit_note["number"].as_str().unwrap();
    assert!(number.starts_with("AV-CANT-2026-"), "{number}");
    assert!(text.contains(&format!("Avoir n° {number}")), "{text}");
    assert!(
        text.contains("Corrige la facture")
            && text.contains(town.invoice["number"].as_str().unwrap()),
        "{text}"
    );
    assert!(text.contains(&euros(250)), "{text}");
}

#[tokio::test]
async fn the_balance_and_the_ledger_follow_the_invoice_and_the_payment() {
    let town = town().await;
    let amount = town.invoice["amount_cents"].as_i64().unwrap();
    let balance = json(
        town.martin.call(Method::GET, "/api/v1/balance", None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(balance["due_cents"], amount);
    assert_eq!(balance["balance_cents"], amount);
    assert_eq!(balance["credit_cents"], 0);
    billing::record_payment(
        &town.app.pool,
        None,
        PaymentInput {
            household: cantine_domain::ids::HouseholdId(town.martin.household),
            regie: REGIE.to_owned(),
            amount: Cents(amount + 500),
            means: Means::Cheque,
            reference: "chèque 123".to_owned(),
            received_on: date("2026-12-01"),
            idempotency_key: "test-cheque".to_owned(),
            invoice: Some(town.invoice["id"].as_i64().unwrap()),
        },
    )
    .await
    .unwrap();
    let balance = json(
        town.martin.call(Method::GET, "/api/v1/balance", None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(balance["due_cents"], 0);
    assert_eq!(balance["credit_cents"], 500);
    assert_eq!(balance["balance_cents"], -500);
    let ledger = json(
        town.martin.call(Method::GET, "/api/v1/ledger", None).await,
        StatusCode::OK,
    )
    .await;
    let entries = ledger.as_array().unwrap();
    assert_eq!(entries.len(), 2, "{ledger}");
    assert_eq!(entries[0]["kind"], "invoice");
    assert_eq!(entries[0]["amount_cents"], amount);
    assert_eq!(entries[0]["number"], town.invoice["number"]);
    assert_eq!(entries[0]["balance_after_cents"], amount);
    assert_eq!(entries[1]["kind"], "payment");
    assert_eq!(entries[1]["amount_cents"], -(amount + 500));
    assert_eq!(entries[1]["balance_after_cents"], -500);
    // The Duponts' account is theirs alone.
    let theirs = json(
        town.dupont.call(Method::GET, "/api/v1/ledger", None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(theirs.as_array().unwrap().len(), 1);
    assert_ne!(theirs[0]["number"], town.invoice["number"]);
}

#[tokio::test]
async fn the_invoice_pdf_reads_its_number_every_line_and_the_total() {
    let town = town().await;
    let id = town.invoice["id"].as_i64().unwrap();
    let number = town.invoice["number"].as_str().unwrap();
    let started = Instant::now();
    let bytes = pdf(&town.martin, &format!("/api/v1/invoices/{id}/pdf")).await;
    eprintln!(
        "invoice PDF over HTTP: {} ms, {} bytes",
        started.elapsed().as_millis(),
        bytes.len()
    );
    let text = pdf_text(&bytes);
    assert!(text.contains(&format!("Facture n° {number}")), "{text}");
    assert!(text.contains("Novembre 2026"), "{text}");
    assert!(
        text.contains("3 rue des Lilas") && text.contains("99123 Techniville"),
        "{text}"
    );
    assert!(text.contains("Commune de Techniville"), "{text}");
    let days = booked_days(&town.app, town.lea).await;
    for day in &days {
        let shown = plain(&cantine::http::fr::short_date(*day));
        let row = text
            .lines()
            .find(|l| l.contains(&shown))
            .unwrap_or_else(|| panic!("no line for {shown} in:\n{text}"));
        assert!(row.contains(&euros(250)), "{row}");
    }
    let total = euros(days.len() as i64 * 250);
    assert!(
        text.lines()
            .any(|l| l.contains("Reste à payer") && l.contains(&total)),
        "{total} in:\n{text}"
    );
    assert!(
        text.contains("Comment payer") && text.contains("payfip"),
        "{text}"
    );
    assert!(text.contains("Contester cette ligne"), "{text}");
    // The page's link gives the same document.
    let again = pdf(&town.martin, &format!("/factures/{id}/pdf")).await;
    assert_eq!(pdf_text(&again), text);
}

/// A 1 × 1 PNG, as a commune's logo file.
const LOGO_PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

#[tokio::test]
async fn the_communes_logo_and_address_head_the_invoice() {
    use base64::Engine;
    let dir = tempfile::tempdir().unwrap();
    let logo = dir.path().join("logo.png");
    std::fs::write(
        &logo,
        base64::engine::general_purpose::STANDARD
            .decode(LOGO_PNG)
            .unwrap(),
    )
    .unwrap();
    let file = format!(
        "[billing]\ncommune_name = \"Ville de Lyon\"\naddress_lines = [\"Régie cantine\", \"69001 Lyon\"]\nlogo_file = \"{}\"\n",
        logo.display()
    );
    let path = dir.path().join("cantine.toml");
    std::fs::write(&path, file).unwrap();
    let loaded = cantine::platform::config::Config::load_from(
        &cantine::platform::config::Source {
            file: Some(path),
            skip_default_file: true,
        },
        |_| None,
    )
    .unwrap();
    let billing_config = loaded.billing.clone();
    let town = town_with(move |c| c.billing = billing_config).await;
    let id = town.invoice["id"].as_i64().unwrap();
    let bytes = pdf(&town.martin, &format!("/api/v1/invoices/{id}/pdf")).await;
    let text = pdf_text(&bytes);
    assert!(
        text.contains("Ville de Lyon") && text.contains("69001 Lyon"),
        "{text}"
    );
    assert!(
        !text.contains("Commune de Techniville"),
        "the default letterhead is gone"
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("invoice.pdf");
    std::fs::write(&file, &bytes).unwrap();
    let images = std::process::Command::new("pdfimages")
        .arg("-list")
        .arg(&file)
        .output()
        .expect("pdfimages (poppler-utils)");
    let listed = String::from_utf8(images.stdout).unwrap();
    // One image on page 1 (its transparency comes as a second, `smask`, entry).
    let drawn: Vec<&str> = listed
        .lines()
        .filter(|l| l.split_whitespace().nth(2) == Some("image"))
        .collect();
    assert_eq!(drawn.len(), 1, "{listed}");
    assert!(drawn[0].trim_start().starts_with("1 "), "{listed}");
}

#[tokio::test]
async fn the_yearly_statement_sums_the_childs_meals_and_the_payments() {
    let town = town().await;
    let amount = town.invoice["amount_cents"].as_i64().unwrap();
    billing::record_payment(
        &town.app.pool,
        None,
        PaymentInput {
            household: cantine_domain::ids::HouseholdId(town.martin.household),
            regie: REGIE.to_owned(),
            amount: Cents(1000),
            means: Means::Cash,
            reference: "espèces".to_owned(),
            received_on: date("2026-12-01"),
            idempotency_key: "test-cash".to_owned(),
            invoice: None,
        },
    )
    .await
    .unwrap();
    let bytes = pdf(&town.martin, "/api/v1/yearly-statement?year=2026").await;
    let text = pdf_text(&bytes);
    assert!(text.contains("Relevé annuel de cantine 2026"), "{text}");
    let row = text
        .lines()
        .find(|l| l.contains("Léa Martin"))
        .unwrap_or_else(|| panic!("no line for Léa in:\n{text}"));
    assert!(row.contains(&euros(amount)), "{row}");
    assert!(
        text.lines()
            .any(|l| l.contains("Total payé") && l.contains(&euros(1000))),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.contains("Total facturé") && l.contains(&euros(amount))),
        "{text}"
    );
    for bad in [
        "/api/v1/yearly-statement?year=1999",
        "/api/v1/yearly-statement",
    ] {
        let response = town.martin.call(Method::GET, bad, None).await;
        assert_eq!(
            json(response, StatusCode::UNPROCESSABLE_ENTITY).await["code"],
            "validation",
            "{bad}"
        );
    }
    let page = pdf(&town.martin, "/mon-compte/releve-annuel?annee=2026").await;
    assert!(pdf_text(&page).contains("Léa Martin"));
}

#[tokio::test]
async fn the_worker_started_with_the_server_mails_the_issued_invoice() {
    let town = town().await;
    // The same database served with the worker on: its first run, at start, finds the
    // invoices queued when the month was issued.
    let served = TestApp::builder()
        .pool(town.app.pool.clone())
        .clock(paris("2026-12-01 09:05:00"))
        .config(|c| c.billing.mail_worker = true)
        .spawn()
        .await;
    let number = town.invoice["number"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(20);
    let found = loop {
        let spool = served.data_dir().join("mail");
        if spool.exists()
            && let Some(found) = mail::spool(served.data_dir())
                .into_iter()
                .find(|m| m.body.contains(&number))
        {
            break found;
        }
        assert!(Instant::now() < deadline, "no invoice mail within 20 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        found.headers.contains("martin@example.test"),
        "{}",
        found.headers
    );
    assert!(found.body.contains("novembre 2026"), "{}", found.body);
    let id = town.invoice["id"].as_i64().unwrap();
    assert!(
        found.body.contains(&format!("/factures/{id}")),
        "{}",
        found.body
    );
    let amount = town.invoice["amount_cents"].as_i64().unwrap();
    assert!(
        plain(&found.body).contains(&euros(amount)),
        "{}",
        found.body
    );
    // Sent once: the row is marked sent in the transaction that sent it.
    let unsent: i64 = sqlx::query_scalar("select count(*) from billing_mail where sent_at is null")
        .fetch_one(&served.pool)
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut unsent = unsent;
    while unsent > 0 {
        assert!(
            Instant::now() < deadline,
            "{unsent} billing mails still unsent"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        unsent = sqlx::query_scalar("select count(*) from billing_mail where sent_at is null")
            .fetch_one(&served.pool)
            .await
            .unwrap();
    }
    assert_eq!(mail::spool(served.data_dir()).len(), 2);
}

#[tokio::test]
async fn the_family_pages_list_explain_and_take_a_contest() {
    let town = town().await;
    let id = town.invoice["id"].as_i64().unwrap();
    let number = town.invoice["number"].as_str().unwrap();
    let get = |path: String| {
        let client = town.martin.client.clone();
        let url = town.app.url(&path);
        async move {
            let response = client.get(url).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            response.text().await.unwrap()
        }
    };
    let home = get("/".to_owned()).await;
    assert!(
        home.contains("href=\"/factures\""),
        "the menu links to the invoices"
    );
    let list = get("/factures".to_owned()).await;
    assert!(list.contains("Facture de novembre 2026"), "{list}");
    assert!(list.contains(number), "{list}");
    assert!(list.contains("À payer"), "{list}");
    assert!(list.contains(&format!("/factures/{id}/pdf")), "{list}");

    let page = get(format!("/factures/{id}")).await;
    let days = booked_days(&town.app, town.lea).await;
    for day in &days {
        let shown = cantine::http::fr::capitalized(&cantine::http::fr::long_date(*day));
        assert!(page.contains(&shown), "{shown} in {page}");
    }
    assert!(page.contains("Absent sans justificatif"), "{page}");
    assert!(page.contains("Contester cette ligne"), "{page}");
    assert!(page.contains("Comment payer"), "{page}");

    // The contest form, posted as a browser without script sends it (CSRF in the form).
    let detail: Value = town
        .martin
        .call(Method::GET, &format!("/api/v1/invoices/{id}"), None)
        .await
        .json()
        .await
        .unwrap();
    let line = detail["lines"][0]["id"].as_i64().unwrap();
    let action = town
        .app
        .url(&format!("/factures/{id}/lignes/{line}/contestation"));
    let forged = town
        .martin
        .client
        .post(&action)
        .form(&[("csrf", "faux"), ("message", "Erreur")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let empty = town
        .martin
        .client
        .post(&action)
        .form(&[("csrf", town.martin.csrf.as_str()), ("message", " ")])
        .send()
        .await
        .unwrap();
    assert_eq!(empty.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(empty.text().await.unwrap().contains("Le formulaire n"));
    let posted = town
        .martin
        .client
        .post(&action)
        .form(&[
            ("csrf", town.martin.csrf.as_str()),
            ("message", "Elle était malade."),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), StatusCode::OK);
    let after = posted.text().await.unwrap();
    assert!(after.contains("Votre contestation est envoyée"), "{after}");
    assert!(after.contains("en attente de réponse"), "{after}");

    let account = get("/mon-compte".to_owned()).await;
    assert!(account.contains("Reste à payer"), "{account}");
    assert!(account.contains(number), "{account}");
    assert!(
        account.contains("/mon-compte/releve-annuel?annee=2026"),
        "{account}"
    );
}

#[tokio::test]
async fn a_mail_that_fails_waits_for_its_retry_and_the_issue_stands() {
    let town = town().await;
    // A relay that refuses connections.
    let unreachable = cantine::platform::config::Config::load_from(
        &cantine::platform::config::Source {
            file: None,
            skip_default_file: true,
        },
        |name| (name == "CANTINE_MAIL__SMTP_URL").then(|| "smtp://127.0.0.1:1".to_owned()),
    )
    .unwrap();
    let failing = cantine::http::FamilyMails {
        links: town.app.state.links.clone(),
        mailer: std::sync::Arc::new(
            cantine::platform::mail::Mailer::from_config(&unreachable).unwrap(),
        ),
    };
    let sent = billing::send_due_mails(&town.app.pool, &failing)
        .await
        .unwrap();
    assert_eq!(sent, 0);
    let rows: Vec<(i32, Option<String>, bool)> = sqlx::query_as(
        "select attempts, last_error, next_attempt_at > clock_timestamp() + interval '50 seconds'
         from billing_mail order by id",
    )
    .fetch_all(&town.app.pool)
    .await
    .unwrap();
    assert_eq!(rows.len(), 2);
    for (attempts, error, later) in &rows {
        assert_eq!(*attempts, 1);
        assert!(error.is_some());
        assert!(later, "retried in a minute, not at once");
    }
    // The invoice is issued and readable all the same.
    let list = json(
        town.martin
            .call(Method::GET, "/api/v1/invoices", None)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(list[0]["status"], "issued");
    // Not due yet: a working relay sends nothing before the retry time…
    let working = cantine::http::FamilyMails::new(&town.app.state);
    assert_eq!(
        billing::send_due_mails(&town.app.pool, &working)
            .await
            .unwrap(),
        0
    );
    // …and both once it comes.
    sqlx::query("update billing_mail set next_attempt_at = clock_timestamp()")
        .execute(&town.app.pool)
        .await
        .unwrap();
    assert_eq!(
        billing::send_due_mails(&town.app.pool, &working)
            .await
            .unwrap(),
        2
    );
    assert!(
        mail::spool(town.app.data_dir())
            .iter()
            .any(|m| m.body.contains(town.invoice["number"].as_str().unwrap()))
    );
}
