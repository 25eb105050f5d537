//! Finance's back office for billing, against a real PostgreSQL and a real server, staff
//! signed in with their second factor: who may run and issue invoices, the run reviewed then
//! issued (twice, once), credit notes, a contest answered with a credit note, tariffs saved and
//! refused in French, the accounting CSV and the PES V2 file, and the pages.

use cantine::billing::Month;
use cantine::platform::config::AccountingConfig;
use cantine_domain::ids::{AccountId, HouseholdId};
use cantine_domain::roles::Role;
use cantine_test_support::TestApp;
use cantine_test_support::fixtures::{self, Family, StaffMember};
use cantine_test_support::time::{date, paris};
use chrono::Datelike;
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

const PASSWORD: &str = "un mot de passe solide";
const REGIE: &str = "CANT";
const MONTH: &str = "2026-11";
const PRICE: i64 = 350;

struct Town {
    app: TestApp,
    school: i64,
    hash: String,
}

fn accounting() -> AccountingConfig {
    AccountingConfig {
        siret: Some("21990123400019".into()),
        cod_col: Some("052".into()),
        cod_bud: Some("01".into()),
        id_post: Some("099010".into()),
        budget_name: Some("Commune de Techniville".into()),
        cod_prod_loc: Some("CANT".into()),
        nature: Some("7067".into()),
        period: 1,
    }
}

/// One school, the 2026-2027 year, the clock on Monday 2 November 2026 at noon; with the
/// `[accounting]` identifiers when `configured`.
async fn town(configured: bool) -> Town {
    let mut builder = TestApp::builder().clock(paris("2026-11-02 12:00:00"));
    if configured {
        builder = builder.config(|c| c.accounting = accounting());
    }
    let app = builder.spawn().await;
    let school = fixtures::school(&app.pool, "École Jules-Ferry", "").await;
    fixtures::school_year(
        &app.pool,
        "2026-2027",
        date("2026-09-01"),
        date("2027-07-03"),
    )
    .await;
    Town {
        app,
        school,
        hash: fixtures::staff_password_hash(),
    }
}

impl Town {
    async fn staff(&self, name: &str, role: Role) -> StaffMember {
        fixtures::staff(&self.app, name, role, &[], &self.hash).await
    }

    /// A family with one child enrolled (and booked) from today, living in the commune at a
    /// full postal address.
    async fn family(&self, name: &str) -> (Family, i64) {
        let family = fixtures::family(&self.app, name, PASSWORD).await;
        let child = fixtures::enrolled_child(&self.app, &family, self.school, "Hugo").await;
        sqlx::query(
            "update household set address_line1 = '12 rue des Lilas', postcode = '99123',
             city = 'Techniville' where id = $1",
        )
        .bind(family.household)
        .execute(&self.app.pool)
        .await
        .unwrap();
        (family, child)
    }

    async fn booked_in_month(&self, child: i64) -> i64 {
        sqlx::query_scalar(
            "select count(*) from reservation where child_id = $1 and booked
             and service_date >= '2026-11-01' and service_date < '2026-12-01'",
        )
        .bind(child)
        .fetch_one(&self.app.pool)
        .await
        .unwrap()
    }
}

/// The PDF's text as `pdftotext -layout` reads it, the no-break spaces as plain ones.
fn pdf_text(bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("receipt.pdf");
    std::fs::write(&file, bytes).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args(["-layout", "-enc", "UTF-8"])
        .arg(&file)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils)");
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .replace(['\u{202f}', '\u{a0}'], " ")
}

async fn json_of(response: reqwest::Response, status: StatusCode) -> Value {
    let code = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(code, status, "{body}");
    body
}

async fn problem(response: reqwest::Response, status: StatusCode, code: &str) -> Value {
    let body = json_of(response, status).await;
    assert_eq!(body["code"], code, "{body}");
    body
}

/// A flat tariff: every QF pays [`PRICE`].
fn flat_tariff(price: i64) -> Value {
    json!({
        "pricing": {"mode": "brackets", "brackets": [{"qf_min": 0, "qf_max": null, "meal_cents": price}]},
        "pai_cents": 100, "non_resident_cents": 500, "adult_cents": 600,
        "unbooked": {"kind": "surcharge", "cents": 100}, "carence_days": 1
    })
}

async fn save_flat_tariff(member: &StaffMember) {
    let body =
        json!({"year": "2026-2027", "applies_from": "2026-09-01", "tariff": flat_tariff(PRICE)});
    let saved = json_of(
        member
            .call(Method::POST, "/api/v1/staff/billing/tariffs", Some(body))
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        saved["tariff"]["pricing"]["brackets"][0]["meal_cents"],
        PRICE
    );
}

fn run_body() -> Value {
    json!({"regie": REGIE, "month": MONTH})
}

/// The year invoices are numbered in: the year of issue in Paris, on the database's clock.
fn issue_year() -> i32 {
    chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Paris)
        .year()
}

#[tokio::test]
async fn only_finance_runs_and_issues_a_month_and_families_or_strangers_never_do() {
    let town = town(false).await;
    let manager = town.staff("gestion", Role::Manager).await;
    let kitchen = town.staff("cuisine", Role::Kitchen).await;
    let (family, _) = town.family("martin").await;
    for (path, method) in [
        ("/api/v1/staff/billing/runs", Method::POST),
        ("/api/v1/staff/billing/runs/issue", Method::POST),
    ] {
        for member in [&manager, &kitchen] {
            problem(
                member.call(method.clone(), path, Some(run_body())).await,
                StatusCode::FORBIDDEN,
                "forbidden",
            )
            .await;
        }
        problem(
            family.call(method.clone(), path, Some(run_body())).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
        let anonymous = Client::new()
            .request(method, town.app.url(path))
            .header("origin", town.app.origin())
            .json(&run_body())
            .send()
            .await
            .unwrap();
        problem(anonymous, StatusCode::UNAUTHORIZED, "unauthorized").await;
    }
    // Nothing was computed by the refused calls.
    let runs: i64 = sqlx::query_scalar("select count(*) from billing_run")
        .fetch_one(&town.app.pool)
        .await
        .unwrap();
    assert_eq!(runs, 0);
    // The manager edits tariffs (with finance), but reads no export.
    save_flat_tariff(&manager).await;
    problem(
        manager
            .call(
                Method::GET,
                "/api/v1/staff/billing/exports/accounting.csv?regie=CANT&month=2026-11",
                None,
            )
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn a_month_is_run_reviewed_issued_once_and_corrected_by_a_credit_note() {
    let town = town(true).await;
    let finance = town.staff("finances", Role::Finance).await;
    let (_family, child) = town.family("martin").await;
    let days = town.booked_in_month(child).await;
    assert!(days >= 10, "{days} days booked in November");

    // No tariff yet: the run says which day lacks one.
    problem(
        finance
            .call(Method::POST, "/api/v1/staff/billing/runs", Some(run_body()))
            .await,
        StatusCode::CONFLICT,
        "no_tariff",
    )
    .await;
    save_flat_tariff(&finance).await;
    problem(
        finance
            .call(
                Method::POST,
                "/api/v1/staff/billing/runs",
                Some(json!({"regie": REGIE, "month": "2026-13"})),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
    )
    .await;
    problem(
        finance
            .call(
                Method::POST,
                "/api/v1/staff/billing/runs",
                Some(json!({"regie": "NOPE", "month": MONTH})),
            )
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    let review = json_of(
        finance
            .call(Method::POST, "/api/v1/staff/billing/runs", Some(run_body()))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(review["status"], "draft");
    assert_eq!(review["month"], MONTH);
    assert_eq!(review["total_cents"], days * PRICE, "{review}");
    assert_eq!(review["previous_total_cents"], 0);
    // Nothing of November is locked yet: every booked day is billed as booked, and said so.
    assert_eq!(review["unrecorded_days"], days);
    assert_eq!(review["invoices"].as_array().unwrap().len(), 1);
    assert_eq!(review["invoices"][0]["status"], "draft");
    assert!(review["invoices"][0]["number"].is_null());
    let differences = review["differences"].as_array().unwrap();
    assert_eq!(differences.len(), 1, "{review}");
    assert_eq!(differences[0]["this_month_cents"], days * PRICE);
    assert_eq!(differences[0]["previous_month_cents"], 0);

    let read = json_of(
        finance
            .call(
                Method::GET,
                "/api/v1/staff/billing/runs?regie=CANT&month=2026-11",
                None,
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(read["run_id"], review["run_id"]);
    problem(
        finance
            .call(
                Method::GET,
                "/api/v1/staff/billing/runs?regie=CANT&month=2026-10",
                None,
            )
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    // October has no draft to issue.
    problem(
        finance
            .call(
                Method::POST,
                "/api/v1/staff/billing/runs/issue",
                Some(json!({"regie": REGIE, "month": "2026-10"})),
            )
            .await,
        StatusCode::CONFLICT,
        "invalid_transition",
    )
    .await;

    let issued = json_of(
        finance
            .call(
                Method::POST,
                "/api/v1/staff/billing/runs/issue",
                Some(run_body()),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(issued["status"], "issued");
    let number = format!("CANT-{}-000001", issue_year());
    assert_eq!(issued["invoices"][0]["number"], number.as_str());
    assert_eq!(issued["invoices"][0]["status"], "issued");
    // Issuing again changes nothing: the same review, no second number.
    let again = json_of(
        finance
            .call(
                Method::POST,
                "/api/v1/staff/billing/runs/issue",
                Some(run_body()),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(again["invoices"], issued["invoices"]);
    let numbered: i64 = sqlx::query_scalar("select count(*) from invoice where number is not null")
        .fetch_one(&town.app.pool)
        .await
        .unwrap();
    assert_eq!(numbered, 1);
    // An issued month is not recomputed.
    problem(
        finance
            .call(Method::POST, "/api/v1/staff/billing/runs", Some(run_body()))
            .await,
        StatusCode::CONFLICT,
        "already_issued",
    )
    .await;

    // The invoice, its lines, and a credit note on its first line.
    let invoice_id = issued["invoices"][0]["id"].as_i64().unwrap();
    let path = format!("/api/v1/staff/billing/invoices/{invoice_id}");
    let invoice = json_of(finance.call(Method::GET, &path, None).await, StatusCode::OK).await;
    let lines = invoice["lines"].as_array().unwrap();
    assert_eq!(lines.len() as i64, days);
    assert!(lines.iter().all(|l| l["amount_cents"] == PRICE));
    assert_eq!(lines[0]["kind"], "booked_not_recorded");
    let line_id = lines[0]["id"].as_i64().unwrap();
    let notes = format!("{path}/credit-notes");
    problem(
        finance
            .call(
                Method::POST,
                &notes,
                Some(json!({"lines": [{"line_id": line_id, "amount_cents": 100}], "reason": "  "})),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
    )
    .await;
    problem(
        finance
            .call(
                Method::POST,
                &notes,
                Some(json!({"lines": [{"line_id": line_id, "amount_cents": PRICE + 1}], "reason": "Trop perçu"})),
            )
            .await,
        StatusCode::CONFLICT,
        "amount_exceeded",
    )
    .await;
    let note = json_of(
        finance
            .call(
                Method::POST,
                &notes,
                Some(json!({"lines": [{"line_id": line_id, "amount_cents": PRICE}], "reason": "Sortie scolaire : repas non servi"})),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(note["kind"], "credit_note");
    assert_eq!(
        note["number"],
        format!("AV-CANT-{}-000001", issue_year()).as_str()
    );
    assert_eq!(note["amount_cents"], PRICE);

    // The accounting CSV of the month the documents were issued in (today, in Paris).
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Paris)
        .date_naive();
    let month = Month::of(today).to_string();
    let response = finance
        .call(
            Method::GET,
            &format!("/api/v1/staff/billing/exports/accounting.csv?regie=CANT&month={month}"),
            None,
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    let bytes = response.bytes().await.unwrap();
    assert_eq!(&bytes[..3], b"\xef\xbb\xbf", "UTF-8 with BOM");
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    let rows: Vec<&str> = text.split("\r\n").collect();
    assert_eq!(
        rows[0],
        "Date;Type;Numéro;N° de foyer;Foyer;Montant (€);Moyen de paiement;Référence"
    );
    let euros = |cents: i64| format!("{},{:02}", cents / 100, cents % 100);
    let invoice_row = rows
        .iter()
        .find(|r| r.contains(&format!(";Facture;{number};")))
        .unwrap_or_else(|| panic!("no invoice row in {text}"));
    assert!(
        invoice_row.contains(&format!(";{};;", euros(days * PRICE))),
        "{invoice_row}"
    );
    assert!(
        rows.iter()
            .any(|r| r.contains(";Avoir;AV-CANT-") && r.contains(";-3,50;")),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            ";Total factures;1;;;{};;\r\n",
            euros(days * PRICE)
        )),
        "{text}"
    );
    assert!(text.contains(";Total avoirs;1;;;-3,50;;\r\n"), "{text}");
    assert!(
        text.contains(&format!(
            ";Mouvement net;2;;;{};;\r\n",
            euros(days * PRICE - PRICE)
        )),
        "{text}"
    );

    // The PES V2 file of November: well-formed, the bordereau's total the invoice's.
    let response = finance
        .call(
            Method::GET,
            "/api/v1/staff/billing/exports/pes.xml?regie=CANT&month=2026-11",
            None,
        )
        .await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("PES_ORMC_CANT_2026_11.xml")
    );
    let bytes = response.bytes().await.unwrap();
    // ISO-8859-1: every byte is the character of that code point.
    let xml: String = bytes.iter().map(|&b| char::from(b)).collect();
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let value = |name: &str| {
        doc.descendants()
            .find(|n| n.has_tag_name(name))
            .and_then(|n| n.attribute("V"))
            .unwrap_or_else(|| panic!("no {name} in {xml}"))
            .to_owned()
    };
    let total = format!("{}.{:02}", days * PRICE / 100, days * PRICE % 100);
    assert_eq!(value("MtBordHt"), total);
    assert_eq!(value("NbrPce"), "1");
    assert_eq!(value("IdColl"), "21990123400019");
    let year = issue_year();
    assert_eq!(value("NumDette"), format!("{year}000001"));
    assert_eq!(value("IdPce"), format!("{}000001", year % 100));
    assert_eq!(value("Adr2"), "12 rue des Lilas");
}

#[tokio::test]
async fn a_contest_answered_with_a_credit_note_is_closed_and_cannot_be_answered_twice() {
    let town = town(false).await;
    let finance = town.staff("finances", Role::Finance).await;
    let (family, _) = town.family("martin").await;
    save_flat_tariff(&finance).await;
    finance
        .call(Method::POST, "/api/v1/staff/billing/runs", Some(run_body()))
        .await;
    let issued = json_of(
        finance
            .call(
                Method::POST,
                "/api/v1/staff/billing/runs/issue",
                Some(run_body()),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let invoice_id = issued["invoices"][0]["id"].as_i64().unwrap();
    let invoice = json_of(
        finance
            .call(
                Method::GET,
                &format!("/api/v1/staff/billing/invoices/{invoice_id}"),
                None,
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let line_id = invoice["lines"][0]["id"].as_i64().unwrap();
    let account: i64 = sqlx::query_scalar("select id from account where household_id = $1")
        .bind(family.household)
        .fetch_one(&town.app.pool)
        .await
        .unwrap();
    let contest = cantine::billing::contest_line(
        &town.app.pool,
        HouseholdId(family.household),
        AccountId(account),
        line_id,
        "Hugo était malade ce jour-là.".into(),
    )
    .await
    .unwrap();

    let open = json_of(
        finance
            .call(
                Method::GET,
                "/api/v1/staff/billing/contests?state=open",
                None,
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(open.as_array().unwrap().len(), 1, "{open}");
    assert_eq!(open[0]["id"], contest.id);
    assert_eq!(open[0]["line"]["id"], line_id);
    assert_eq!(open[0]["invoice_id"], invoice_id);
    problem(
        finance
            .call(
                Method::GET,
                "/api/v1/staff/billing/contests?state=later",
                None,
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
    )
    .await;

    let path = format!("/api/v1/staff/billing/contests/{}/answer", contest.id);
    let answered = json_of(
        finance
            .call(
                Method::POST,
                &path,
                Some(json!({"answer": "Certificat reçu : le repas vous est remboursé.", "credit_cents": PRICE})),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(answered["status"], "answered");
    assert!(
        answered["credit_note_number"]
            .as_str()
            .unwrap()
            .starts_with("AV-CANT-"),
        "{answered}"
    );
    let credited: i64 = sqlx::query_scalar(
        "select amount_cents from invoice where kind = 'credit_note' and corrects_invoice_id = $1",
    )
    .bind(invoice_id)
    .fetch_one(&town.app.pool)
    .await
    .unwrap();
    assert_eq!(credited, PRICE);
    let open = json_of(
        finance
            .call(Method::GET, "/api/v1/staff/billing/contests", None)
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(open.as_array().unwrap().is_empty(), "{open}");
    let all = json_of(
        finance
            .call(
                Method::GET,
                "/api/v1/staff/billing/contests?state=all",
                None,
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(all[0]["status"], "answered");
    problem(
        finance
            .call(Method::POST, &path, Some(json!({"answer": "Encore ?"})))
            .await,
        StatusCode::CONFLICT,
        "invalid_transition",
    )
    .await;

    // A counter payment of the rest, recorded once for its key; then nothing to refund.
    let rest = issued["invoices"][0]["amount_cents"].as_i64().unwrap() - PRICE;
    let payments = format!(
        "/api/v1/staff/billing/households/{}/payments",
        family.household
    );
    let body = json!({"regie": REGIE, "amount_cents": rest + 500, "means": "cheque",
        "reference": "Chèque 1234567", "received_on": "2026-12-01",
        "idempotency_key": "guichet-1", "invoice_id": invoice_id});
    let first = json_of(
        finance
            .call(Method::POST, &payments, Some(body.clone()))
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(first["new"], true);
    let second = json_of(
        finance.call(Method::POST, &payments, Some(body)).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(second["new"], false);
    assert_eq!(second["payment_id"], first["payment_id"]);
    // Its receipt number, gapless per régie and year; the retry answers the same one.
    assert_eq!(first["receipt_number"], "RC-CANT-2026-000001", "{first}");
    assert_eq!(second["receipt_number"], first["receipt_number"]);
    let paid = json_of(
        finance
            .call(
                Method::GET,
                &format!("/api/v1/staff/billing/invoices/{invoice_id}"),
                None,
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let invoice_status = paid["status"].as_str().unwrap_or_default().to_owned();
    assert_eq!(invoice_status, "paid");
    let audited: i64 = sqlx::query_scalar(
        "select count(*) from audit_entry where action = 'payment_recorded'
         and detail->>'receipt' = 'RC-CANT-2026-000001'",
    )
    .fetch_one(&town.app.pool)
    .await
    .unwrap();
    assert_eq!(audited, 1);
    // A manager takes chèques vacances at the counter (the next number), and prints it.
    let manager = town.staff("gestion", Role::Manager).await;
    let vacances = json_of(
        manager
            .call(
                Method::POST,
                &payments,
                Some(
                    json!({"regie": REGIE, "amount_cents": 2000, "means": "cheques_vacances",
                    "reference": "ANCV 0042", "received_on": "2026-12-02",
                    "idempotency_key": "guichet-2"}),
                ),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        vacances["receipt_number"], "RC-CANT-2026-000002",
        "{vacances}"
    );
    let receipt_path = format!(
        "/api/v1/staff/billing/payments/{}/receipt.pdf",
        vacances["payment_id"]
    );
    let pdf = manager.call(Method::GET, &receipt_path, None).await;
    assert_eq!(pdf.status(), StatusCode::OK);
    let text = pdf_text(&pdf.bytes().await.unwrap());
    for expected in [
        "Reçu n° RC-CANT-2026-000002",
        "Chèques vacances",
        "20,00 €",
        "ANCV 0042",
        "Reçu établi par",
    ] {
        assert!(text.contains(expected), "{expected:?} not in {text}");
    }
    let kitchen = town.staff("cuisine", Role::Kitchen).await;
    assert_eq!(
        kitchen
            .call(Method::GET, &receipt_path, None)
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        kitchen
            .call(
                Method::POST,
                &payments,
                Some(json!({"regie": REGIE, "amount_cents": 100, "means": "cash",
                    "reference": "", "received_on": "2026-12-02", "idempotency_key": "guichet-3"})),
            )
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    // The 5 € paid over the invoice and the 20 € of chèques vacances are credit: more cannot
    // be refunded, less can.
    let refunds = format!(
        "/api/v1/staff/billing/households/{}/refunds",
        family.household
    );
    problem(
        finance
            .call(
                Method::POST,
                &refunds,
                Some(json!({"regie": REGIE, "amount_cents": 2501, "memo": "Virement"})),
            )
            .await,
        StatusCode::CONFLICT,
        "amount_exceeded",
    )
    .await;
    let refunded = finance
        .call(
            Method::POST,
            &refunds,
            Some(json!({"regie": REGIE, "amount_cents": 500, "memo": "Virement du 3 décembre"})),
        )
        .await;
    assert_eq!(refunded.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn a_tariff_with_a_gap_is_refused_in_french_and_versions_are_listed() {
    let town = town(false).await;
    let finance = town.staff("finances", Role::Finance).await;
    let mut gap = flat_tariff(PRICE);
    gap["pricing"]["brackets"] = json!([
        {"qf_min": 0, "qf_max": 500, "meal_cents": 150},
        {"qf_min": 600, "qf_max": null, "meal_cents": 400}
    ]);
    let body = problem(
        finance
            .call(
                Method::POST,
                "/api/v1/staff/billing/tariffs",
                Some(json!({"year": "2026-2027", "applies_from": "2026-09-01", "tariff": gap})),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
    )
    .await;
    assert_eq!(
        body["detail"],
        "La tranche 2 commence à 600 alors que la précédente s'arrête à 500 : les tranches doivent se suivre sans trou ni chevauchement."
    );
    save_flat_tariff(&finance).await;
    // A version is never edited: the same day again is refused, another day is a new version.
    problem(
        finance
            .call(
                Method::POST,
                "/api/v1/staff/billing/tariffs",
                Some(json!({"year": "2026-2027", "applies_from": "2026-09-01", "tariff": flat_tariff(360)})),
            )
            .await,
        StatusCode::CONFLICT,
        "invalid_transition",
    )
    .await;
    let effort = json!({
        "pricing": {"mode": "effort_rate", "rate_millionths": 4500, "min_cents": 100, "max_cents": 500},
        "pai_cents": 100, "non_resident_cents": 500, "adult_cents": 600,
        "unbooked": {"kind": "multiplier", "percent": 150}, "carence_days": 0
    });
    json_of(
        finance
            .call(
                Method::POST,
                "/api/v1/staff/billing/tariffs",
                Some(json!({"year": "2026-2027", "applies_from": "2027-01-04", "tariff": effort})),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let versions = json_of(
        finance
            .call(
                Method::GET,
                "/api/v1/staff/billing/tariffs?year=2026-2027",
                None,
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let versions = versions.as_array().unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0]["applies_from"], "2026-09-01");
    assert_eq!(versions[1]["tariff"]["pricing"]["mode"], "effort_rate");
    assert_eq!(versions[1]["tariff"]["unbooked"]["percent"], 150);
}

#[tokio::test]
async fn the_pes_export_says_when_the_accounting_identifiers_are_missing() {
    let town = town(false).await;
    let finance = town.staff("finances", Role::Finance).await;
    let body = problem(
        finance
            .call(
                Method::GET,
                "/api/v1/staff/billing/exports/pes.xml?regie=CANT&month=2026-11",
                None,
            )
            .await,
        StatusCode::CONFLICT,
        "not_configured",
    )
    .await;
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("[accounting]"), "{detail}");
    assert!(detail.contains("siret"), "{detail}");
}

#[tokio::test]
async fn the_pes_export_refuses_an_invoice_it_cannot_address_and_names_it() {
    let town = town(true).await;
    let finance = town.staff("finances", Role::Finance).await;
    let (family, _) = town.family("martin").await;
    save_flat_tariff(&finance).await;
    finance
        .call(Method::POST, "/api/v1/staff/billing/runs", Some(run_body()))
        .await;
    finance
        .call(
            Method::POST,
            "/api/v1/staff/billing/runs/issue",
            Some(run_body()),
        )
        .await;
    // The household's street is gone: no titre can reach it.
    sqlx::query("update household set address_line1 = '' where id = $1")
        .bind(family.household)
        .execute(&town.app.pool)
        .await
        .unwrap();
    let body = problem(
        finance
            .call(
                Method::GET,
                "/api/v1/staff/billing/exports/pes.xml?regie=CANT&month=2026-11",
                None,
            )
            .await,
        StatusCode::CONFLICT,
        "pes_rejected",
    )
    .await;
    let detail = body["detail"].as_str().unwrap();
    let article = format!("article {}000001", issue_year() % 100);
    assert!(
        detail.contains(&article) && detail.contains("Adr2"),
        "{detail}"
    );
}

/// A page form as the member's browser posts it.
async fn post_form(
    town: &Town,
    member: &StaffMember,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut form: Vec<(&str, &str)> = vec![("csrf", &member.csrf)];
    form.extend_from_slice(fields);
    member
        .client
        .post(town.app.url(path))
        .header("origin", town.app.origin())
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
async fn finance_runs_issues_and_corrects_a_month_from_the_pages() {
    let town = town(true).await;
    let finance = town.staff("finances", Role::Finance).await;
    let manager = town.staff("gestion", Role::Manager).await;
    town.family("martin").await;

    let (status, home) = page(&finance, "/gestion").await;
    assert_eq!(status, 200);
    assert!(home.contains("href=\"/gestion/facturation\""), "{home}");
    let (_, home) = page(&manager, "/gestion").await;
    assert!(!home.contains("href=\"/gestion/facturation\""));
    assert!(home.contains("href=\"/gestion/facturation/tarifs\""));

    // The tariff form: a gap is refused with its French message, then a grid saves.
    let tariffs = "/gestion/facturation/tarifs";
    let refused = post_form(
        &town,
        &finance,
        tariffs,
        &[
            ("annee", "2026-2027"),
            ("du", "2026-09-01"),
            ("mode", "tranches"),
            ("qf_min", "0"),
            ("qf_max", "500"),
            ("prix", "1,50"),
            ("qf_min", "600"),
            ("qf_max", ""),
            ("prix", "4,00"),
            ("qf_min", ""),
            ("qf_max", ""),
            ("prix", ""),
            ("pai", "1,00"),
            ("non_resident", "5,00"),
            ("adulte", "6,00"),
            ("hors_reservation", "majoration"),
            ("majoration", "1,00"),
            ("carence", "1"),
        ],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let text = refused.text().await.unwrap();
    assert!(
        text.contains("La tranche 2 commence à 600 alors que la précédente s&#x27;arrête à 500")
            || text
                .contains("La tranche 2 commence à 600 alors que la précédente s&#39;arrête à 500"),
        "{text}"
    );
    // The grid comes back as typed, for the agent to fix.
    assert!(text.contains("value=\"600\""), "{text}");
    let saved = post_form(
        &town,
        &manager,
        tariffs,
        &[
            ("annee", "2026-2027"),
            ("du", "2026-09-01"),
            ("mode", "tranches"),
            ("qf_min", "0"),
            ("qf_max", ""),
            ("prix", "3,50"),
            ("pai", "1,00"),
            ("non_resident", "5,00"),
            ("adulte", "6,00"),
            ("hors_reservation", "majoration"),
            ("majoration", "1,00"),
            ("carence", "1"),
        ],
    )
    .await;
    assert_eq!(saved.status(), 200, "{}", saved.text().await.unwrap());
    let (status, text) = page(&finance, "/gestion/facturation/tarifs?annee=2026-2027").await;
    assert_eq!(status, 200);
    assert!(text.contains("3,50"), "{text}");

    // The run: computed, reviewed, issued after confirming.
    let run = post_form(
        &town,
        &finance,
        "/gestion/facturation/calcul",
        &[("regie", REGIE), ("mois", MONTH)],
    )
    .await;
    assert_eq!(run.status(), 200);
    let text = run.text().await.unwrap();
    assert!(text.contains("Brouillon"), "{text}");
    assert!(text.contains("non pointés"), "{text}");
    assert!(text.contains("Émettre les factures"), "{text}");
    let unconfirmed = post_form(
        &town,
        &finance,
        "/gestion/facturation/emission",
        &[("regie", REGIE), ("mois", MONTH)],
    )
    .await;
    assert_eq!(unconfirmed.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let issued = post_form(
        &town,
        &finance,
        "/gestion/facturation/emission",
        &[("regie", REGIE), ("mois", MONTH), ("confirmation", "oui")],
    )
    .await;
    assert_eq!(issued.status(), 200);
    let text = issued.text().await.unwrap();
    assert!(text.contains("Émise"), "{text}");
    assert!(
        text.contains("exports/pes.xml?regie=CANT&#38;month=2026-11"),
        "{text}"
    );
    let invoice_id: i64 = sqlx::query_scalar("select id from invoice where kind = 'invoice'")
        .fetch_one(&town.app.pool)
        .await
        .unwrap();

    // The invoice page and its credit-note form.
    let path = format!("/gestion/facturation/factures/{invoice_id}");
    let (status, text) = page(&finance, &path).await;
    assert_eq!(status, 200);
    assert!(
        text.contains(&format!("CANT-{}-000001", issue_year())),
        "{text}"
    );
    assert!(text.contains("Faire un avoir"), "{text}");
    let note = post_form(
        &town,
        &finance,
        &format!("{path}/avoir"),
        &[
            ("ligne", ""),
            ("montant", "2,00"),
            ("motif", "Geste commercial"),
        ],
    )
    .await;
    assert_eq!(note.status(), 200);
    let text = note.text().await.unwrap();
    assert!(text.contains("AV-CANT-"), "{text}");
    let credited: i64 =
        sqlx::query_scalar("select amount_cents from invoice where kind = 'credit_note'")
            .fetch_one(&town.app.pool)
            .await
            .unwrap();
    assert_eq!(credited, 200);

    // The household's account: a cash payment at the counter, the same form sent twice
    // recorded once, then the surplus refunded.
    let household: i64 = sqlx::query_scalar("select household_id from invoice where id = $1")
        .bind(invoice_id)
        .fetch_one(&town.app.pool)
        .await
        .unwrap();
    let account = format!("/gestion/facturation/foyers/{household}");
    let (status, text) = page(&finance, &account).await;
    assert_eq!(status, 200);
    assert!(text.contains("Encaisser au guichet"), "{text}");
    let due: i64 = sqlx::query_scalar("select amount_cents - 200 from invoice where id = $1")
        .bind(invoice_id)
        .fetch_one(&town.app.pool)
        .await
        .unwrap();
    let paid = format!("{},{:02}", (due + 1000) / 100, (due + 1000) % 100);
    let fields = [
        ("cle", "guichet-test-1"),
        ("regie", REGIE),
        ("moyen", "especes"),
        ("montant", paid.as_str()),
        ("reference", ""),
        ("recu_le", "2026-12-01"),
    ];
    let first = post_form(&town, &finance, &format!("{account}/encaissement"), &fields).await;
    assert_eq!(first.status(), 200);
    assert!(
        first
            .text()
            .await
            .unwrap()
            .contains("Encaissement enregistré")
    );
    let again = post_form(&town, &finance, &format!("{account}/encaissement"), &fields).await;
    assert!(again.text().await.unwrap().contains("déjà enregistré"));
    let payments: i64 = sqlx::query_scalar("select count(*) from payment")
        .fetch_one(&town.app.pool)
        .await
        .unwrap();
    assert_eq!(payments, 1);
    let refunded = post_form(
        &town,
        &finance,
        &format!("{account}/remboursement"),
        &[
            ("regie", REGIE),
            ("montant", "10,00"),
            ("motif", "Virement"),
        ],
    )
    .await;
    assert_eq!(refunded.status(), 200);
    let text = refunded.text().await.unwrap();
    assert!(text.contains("Remboursement enregistré"), "{text}");
    assert!(
        !text.contains("Rembourser le crédit"),
        "no credit left: {text}"
    );

    // The contests page renders, empty.
    let (status, text) = page(&finance, "/gestion/facturation/contestations").await;
    assert_eq!(status, 200);
    assert!(text.contains("Aucune contestation"), "{text}");
}
