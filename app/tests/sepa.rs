//! SEPA direct debit against a real PostgreSQL and a real server: the families' mandates (a bad
//! IBAN refused at the edge, another household's mandate not found), finance's pain.008 export
//! of an issued run validated against the official ISO 20022 XSDs (PyPI `sepaxml`), FRST then
//! RCUR, a revoked mandate not collected, the pre-notification mail, and a rejection that
//! reverses the ledger exactly once.

use cantine::billing;
use cantine::platform::config::SepaConfig;
use cantine_domain::roles::Role;
use cantine_test_support::TestApp;
use cantine_test_support::fixtures::{self, Family, StaffMember};
use cantine_test_support::mail;
use cantine_test_support::time::{date, paris};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const PASSWORD: &str = "un mot de passe solide";
const PRICE: i64 = 350;
const IBAN: &str = "FR76 3000 6000 0112 3456 7890 189";
const PYTHON: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../var/test-venv/bin/python");

fn sepa_config(collection_days: u32, prenotification_days: u32) -> SepaConfig {
    SepaConfig {
        creditor_name: Some("Régie de la restauration scolaire de Techniville".into()),
        creditor_iban: Some("FR1420041010050500013M02606".into()),
        creditor_bic: Some("PSSTFRPPLIL".into()),
        ics: Some("FR72ZZZ123456".into()),
        rum_prefix: "TECHNIVILLE".into(),
        collection_days,
        prenotification_days,
        default_version: "08".into(),
    }
}

struct Town {
    app: TestApp,
    school: i64,
    hash: String,
}

/// One school, the 2026-2027 year, the clock on Monday 2 November 2026 at noon, `[sepa]` set
/// with the given delays.
async fn town(collection_days: u32, prenotification_days: u32) -> Town {
    let app = TestApp::builder()
        .clock(paris("2026-11-02 12:00:00"))
        .config(move |c| c.sepa = sepa_config(collection_days, prenotification_days))
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

    async fn family(&self, name: &str) -> Family {
        let family = fixtures::family(&self.app, name, PASSWORD).await;
        fixtures::enrolled_child(&self.app, &family, self.school, "Hugo").await;
        family
    }

    /// Finance sets a flat tariff, runs and issues `month`.
    async fn issue(&self, finance: &StaffMember, month: &str) {
        let tariffs: i64 = sqlx::query_scalar("select count(*) from tariff")
            .fetch_one(&self.app.pool)
            .await
            .unwrap();
        if tariffs == 0 {
            let body = json!({"year": "2026-2027", "applies_from": "2026-09-01", "tariff": {
                "pricing": {"mode": "brackets", "brackets": [{"qf_min": 0, "qf_max": null, "meal_cents": PRICE}]},
                "pai_cents": 100, "non_resident_cents": 500, "adult_cents": 600,
                "unbooked": {"kind": "surcharge", "cents": 100}, "carence_days": 1}});
            let r = finance
                .call(Method::POST, "/api/v1/staff/billing/tariffs", Some(body))
                .await;
            assert_eq!(
                r.status(),
                StatusCode::CREATED,
                "{}",
                r.text().await.unwrap()
            );
        }
        let run = json!({"regie": "CANT", "month": month});
        for path in [
            "/api/v1/staff/billing/runs",
            "/api/v1/staff/billing/runs/issue",
        ] {
            let r = finance.call(Method::POST, path, Some(run.clone())).await;
            assert!(
                r.status().is_success(),
                "{path}: {}",
                r.text().await.unwrap()
            );
        }
    }

    async fn export(&self, finance: &StaffMember, month: &str, version: &str) -> reqwest::Response {
        finance
            .call(
                Method::POST,
                &format!("/api/v1/staff/billing/exports/direct-debits.xml?regie=CANT&month={month}&version={version}"),
                None,
            )
            .await
    }

    async fn exported(&self, finance: &StaffMember, month: &str, version: &str) -> String {
        let r = self.export(finance, month, version).await;
        let status = r.status();
        let text = r.text().await.unwrap();
        assert_eq!(status, StatusCode::OK, "{text}");
        text
    }

    async fn invoice_of(&self, family: &Family, month: &str) -> Value {
        let list = json_of(
            family.call(Method::GET, "/api/v1/invoices", None).await,
            StatusCode::OK,
        )
        .await;
        list.as_array()
            .unwrap()
            .iter()
            .find(|i| i["month"] == month && i["kind"] == "invoice")
            .cloned()
            .unwrap_or_else(|| panic!("no invoice of {month} in {list}"))
    }
}

async fn json_of(response: reqwest::Response, status: StatusCode) -> Value {
    let code = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(code, status, "{text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

async fn problem(response: reqwest::Response, status: StatusCode, code: &str) -> Value {
    let body = json_of(response, status).await;
    assert_eq!(body["code"], code, "{body}");
    body
}

async fn give_mandate(family: &Family) -> Value {
    json_of(
        family
            .call(
                Method::POST,
                "/api/v1/mandates",
                Some(
                    json!({"holder": "Camille Martin", "iban": IBAN, "bic": "AGRIFRPP",
                            "signed_on": "2026-10-15"}),
                ),
            )
            .await,
        StatusCode::CREATED,
    )
    .await
}

/// Validates `xml` against sepaxml's copy of the official XSD of `version` (`02`, `08`), with
/// xmlschema; fails closed (a missing venv or schema fails the test).
fn assert_valid(xml: &str, version: &str) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pain.xml");
    std::fs::write(&file, xml).unwrap();
    let script = format!(
        "import sys, pathlib, sepaxml, xmlschema\n\
         xsd = pathlib.Path(sepaxml.__file__).parent / 'schemas' / 'pain.008.001.{version}.xsd'\n\
         xmlschema.XMLSchema(str(xsd)).validate(sys.argv[1])\n\
         print('valid')"
    );
    let out = std::process::Command::new(PYTHON)
        .args(["-c", &script])
        .arg(&file)
        .output()
        .expect("var/test-venv (scripts/install-deps test)");
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("valid"),
        "pain.008.001.{version} refused:\n{}\n{xml}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn count(xml: &str, needle: &str) -> usize {
    xml.matches(needle).count()
}

#[tokio::test]
async fn both_versions_validate_against_the_official_xsd_and_a_re_export_gives_the_same_file() {
    let town = town(14, 14).await;
    let finance = town.staff("finances", Role::Finance).await;
    let martin = town.family("martin").await;
    let _bernard = town.family("bernard").await;
    let mandate = give_mandate(&martin).await;
    assert_eq!(mandate["iban"], "FR76 **** … 0189");
    assert_eq!(mandate["status"], "active");
    let rum = mandate["rum"].as_str().unwrap().to_owned();
    assert!(rum.starts_with("TECHNIVILLE-"), "{rum}");
    town.issue(&finance, "2026-11").await;
    let invoice = town.invoice_of(&martin, "2026-11").await;
    let amount = invoice["amount_cents"].as_i64().unwrap();
    assert!(amount > 0);

    let v08 = town.exported(&finance, "2026-11", "08").await;
    assert_valid(&v08, "08");
    // Only the household under mandate, for what its invoice says, as decimal euros.
    assert_eq!(count(&v08, "<DrctDbtTxInf>"), 1);
    let euros = format!("{}.{:02}", amount / 100, amount % 100);
    assert!(
        v08.contains(&format!("<InstdAmt Ccy=\"EUR\">{euros}</InstdAmt>")),
        "{v08}"
    );
    assert!(v08.contains(&format!("<MndtId>{rum}</MndtId>")));
    assert!(v08.contains("<SeqTp>FRST</SeqTp>"));
    assert!(v08.contains("<Id>FR72ZZZ123456</Id>"));
    assert!(
        v08.contains("<ReqdColltnDt>2026-11-16</ReqdColltnDt>"),
        "14 days after the export"
    );
    assert!(v08.contains("<BICFI>AGRIFRPP</BICFI>"));
    let number = invoice["number"].as_str().unwrap();
    assert!(v08.contains(&format!("<EndToEndId>{number}</EndToEndId>")));

    // Again, later (a staff session of that day): the same bytes, nothing collected twice.
    town.app.clock().set(paris("2026-11-05 09:00:00"));
    let finance = town.staff("finances2", Role::Finance).await;
    assert_eq!(town.exported(&finance, "2026-11", "08").await, v08);
    let v02 = town.exported(&finance, "2026-11", "02").await;
    assert_valid(&v02, "02");
    assert!(v02.contains("<BIC>AGRIFRPP</BIC>") && !v02.contains("BICFI"));
    assert_eq!(
        v02.split("<MsgId>").nth(1).map(|s| s.split('<').next()),
        v08.split("<MsgId>").nth(1).map(|s| s.split('<').next()),
        "the same message id in both versions"
    );
    let debits: i64 = sqlx::query_scalar("select count(*) from sepa_debit")
        .fetch_one(&town.app.pool)
        .await
        .unwrap();
    assert_eq!(debits, 1);
    // The invoice is settled by the SEPA payment recorded at the export.
    let after = town.invoice_of(&martin, "2026-11").await;
    assert_eq!(after["paid_cents"], amount, "{after}");
    // The export is audited.
    let audited: i64 = sqlx::query_scalar(
        "select count(*) from audit_entry where action = 'direct_debits_exported'",
    )
    .fetch_one(&town.app.pool)
    .await
    .unwrap();
    assert_eq!(audited, 1);
    // A version the writer does not know is refused.
    problem(
        town.export(&finance, "2026-11", "09").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
    )
    .await;
}

#[tokio::test]
async fn a_bad_iban_is_refused_at_the_edge_with_a_clear_problem_and_nothing_is_stored() {
    let town = town(14, 14).await;
    let martin = town.family("martin").await;
    for (iban, bic, code) in [
        (
            "FR76 3000 6000 0112 3456 7890 188",
            "AGRIFRPP",
            "invalid_iban",
        ),
        ("FR76 3000 6000", "AGRIFRPP", "invalid_iban"),
        ("pas un iban", "AGRIFRPP", "invalid_iban"),
        (IBAN, "AGRI", "validation"),
    ] {
        let body = problem(
            martin
                .call(
                    Method::POST,
                    "/api/v1/mandates",
                    Some(json!({"holder": "Camille Martin", "iban": iban, "bic": bic,
                                "signed_on": "2026-10-15"})),
                )
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            code,
        )
        .await;
        let detail = body["detail"].as_str().unwrap_or_default();
        let word = if code == "invalid_iban" {
            "IBAN"
        } else {
            "BIC"
        };
        assert!(detail.contains(word), "{body}");
    }
    // A signature in the future.
    problem(
        martin
            .call(
                Method::POST,
                "/api/v1/mandates",
                Some(
                    json!({"holder": "Camille Martin", "iban": IBAN, "bic": "AGRIFRPP",
                            "signed_on": "2026-12-01"}),
                ),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
    )
    .await;
    let stored: i64 = sqlx::query_scalar("select count(*) from sepa_mandate")
        .fetch_one(&town.app.pool)
        .await
        .unwrap();
    assert_eq!(stored, 0);
    // One good one, then a second is refused while it is active.
    give_mandate(&martin).await;
    problem(
        martin
            .call(
                Method::POST,
                "/api/v1/mandates",
                Some(
                    json!({"holder": "Camille Martin", "iban": IBAN, "bic": "AGRIFRPP",
                            "signed_on": "2026-10-15"}),
                ),
            )
            .await,
        StatusCode::CONFLICT,
        "mandate_active",
    )
    .await;
}

#[tokio::test]
async fn a_revoked_mandate_is_not_collected() {
    let town = town(14, 14).await;
    let finance = town.staff("finances", Role::Finance).await;
    let martin = town.family("martin").await;
    let mandate = give_mandate(&martin).await;
    let id = mandate["mandate_id"].as_i64().unwrap();
    let revoked = json_of(
        martin
            .call(Method::POST, &format!("/api/v1/mandates/{id}/revoke"), None)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(revoked["status"], "revoked");
    assert_eq!(revoked["revoked_by"], "family");
    problem(
        martin
            .call(Method::POST, &format!("/api/v1/mandates/{id}/revoke"), None)
            .await,
        StatusCode::CONFLICT,
        "invalid_transition",
    )
    .await;
    town.issue(&finance, "2026-11").await;
    problem(
        town.export(&finance, "2026-11", "08").await,
        StatusCode::CONFLICT,
        "nothing_to_pay",
    )
    .await;
    let debits: i64 = sqlx::query_scalar("select count(*) from sepa_debit")
        .fetch_one(&town.app.pool)
        .await
        .unwrap();
    assert_eq!(debits, 0);
}

#[tokio::test]
async fn the_first_collection_of_a_mandate_is_frst_and_the_next_rcur() {
    let town = town(14, 14).await;
    let finance = town.staff("finances", Role::Finance).await;
    let martin = town.family("martin").await;
    give_mandate(&martin).await;
    town.issue(&finance, "2026-11").await;
    let november = town.exported(&finance, "2026-11", "08").await;
    assert!(november.contains("<SeqTp>FRST</SeqTp>") && !november.contains("RCUR"));
    town.app.clock().set(paris("2026-12-01 12:00:00"));
    let finance = town.staff("finances2", Role::Finance).await;
    town.issue(&finance, "2026-12").await;
    let december = town.exported(&finance, "2026-12", "08").await;
    assert_valid(&december, "08");
    assert!(
        december.contains("<SeqTp>RCUR</SeqTp>") && !december.contains("FRST"),
        "{december}"
    );
    assert_ne!(
        november.split("<MsgId>").nth(1),
        december.split("<MsgId>").nth(1),
        "each run its own message id"
    );
}

#[tokio::test]
async fn the_pre_notification_is_mailed_the_configured_days_before_the_collection() {
    // Collection 10 days after the export, notice 3 days before: due on 9 November at 08:00.
    let town = town(10, 3).await;
    let finance = town.staff("finances", Role::Finance).await;
    let martin = town.family("martin").await;
    let mandate = give_mandate(&martin).await;
    town.issue(&finance, "2026-11").await;
    town.exported(&finance, "2026-11", "08").await;
    let due: chrono::DateTime<chrono::Utc> = sqlx::query_scalar(
        "select next_attempt_at from billing_mail where kind = 'debit_announced'",
    )
    .fetch_one(&town.app.pool)
    .await
    .unwrap();
    // The database's clock runs in real time: the queued instant is the later of the two.
    let expected = paris("2026-11-09 08:00:00");
    assert!(due >= expected, "{due}");
    // Due now: the outbox sends it.
    sqlx::query("update billing_mail set next_attempt_at = now() where kind = 'debit_announced'")
        .execute(&town.app.pool)
        .await
        .unwrap();
    billing::send_due_mails(
        &town.app.pool,
        &cantine::http::FamilyMails::new(&town.app.state),
    )
    .await
    .unwrap();
    let mails = mail::spool(town.app.data_dir());
    let notice = mails
        .iter()
        .find(|m| m.body.contains("sera prélevée le"))
        .unwrap_or_else(|| panic!("no pre-notification in {} mails", mails.len()));
    assert!(
        notice.headers.contains("martin@example.test"),
        "{}",
        notice.headers
    );
    let invoice = town.invoice_of(&martin, "2026-11").await;
    let body = notice.body.replace(['\u{202f}', '\u{a0}'], " ");
    assert!(body.contains("12 novembre 2026"), "{body}");
    assert!(body.contains(mandate["rum"].as_str().unwrap()), "{body}");
    assert!(body.contains("FR72ZZZ123456"), "{body}");
    assert!(body.contains("FR76 **** … 0189"), "{body}");
    assert!(
        !body.contains("30006000011234567890"),
        "the IBAN is masked: {body}"
    );
    assert!(body.contains(invoice["number"].as_str().unwrap()), "{body}");
}

#[tokio::test]
async fn a_rejection_reverses_the_payment_exactly_once_and_the_invoice_is_due_again() {
    let town = town(14, 14).await;
    let finance = town.staff("finances", Role::Finance).await;
    let martin = town.family("martin").await;
    give_mandate(&martin).await;
    town.issue(&finance, "2026-11").await;
    town.exported(&finance, "2026-11", "08").await;
    let amount = town.invoice_of(&martin, "2026-11").await["amount_cents"]
        .as_i64()
        .unwrap();
    let debits = json_of(
        finance
            .call(Method::GET, "/api/v1/staff/billing/direct-debits", None)
            .await,
        StatusCode::OK,
    )
    .await;
    let debit = debits[0]["debit_id"].as_i64().unwrap();
    assert_eq!(debits[0]["sequence_type"], "FRST");
    let balance = json_of(
        martin.call(Method::GET, "/api/v1/balance", None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(balance["due_cents"], 0, "{balance}");

    let path = format!("/api/v1/staff/billing/direct-debits/{debit}/rejection");
    let body = json!({"reason_code": "am04", "idempotency_key": "rejet-1"});
    let first = json_of(
        finance.call(Method::POST, &path, Some(body.clone())).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(first["new"], true);
    assert_eq!(first["reason_code"], "AM04");
    let again = json_of(
        finance.call(Method::POST, &path, Some(body)).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(again["new"], false, "the same key is the same rejection");
    problem(
        finance
            .call(
                Method::POST,
                &path,
                Some(json!({"reason_code": "MD01", "idempotency_key": "rejet-2"})),
            )
            .await,
        StatusCode::CONFLICT,
        "invalid_transition",
    )
    .await;
    problem(
        finance
            .call(
                Method::POST,
                &path,
                Some(json!({"reason_code": "AM0", "idempotency_key": "rejet-3"})),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
    )
    .await;

    // One reversal, the invoice due again, the balance back to what the invoice says.
    let reversals: i64 =
        sqlx::query_scalar("select count(*) from ledger_entry where kind = 'reversal'")
            .fetch_one(&town.app.pool)
            .await
            .unwrap();
    assert_eq!(reversals, 1);
    let invoice = town.invoice_of(&martin, "2026-11").await;
    assert_eq!(invoice["paid_cents"], 0, "{invoice}");
    let balance = json_of(
        martin.call(Method::GET, "/api/v1/balance", None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(balance["due_cents"], amount, "{balance}");
    assert_eq!(balance["credit_cents"], 0, "{balance}");
    assert_eq!(balance["balance_cents"], amount, "{balance}");
    let ledger = json_of(
        martin.call(Method::GET, "/api/v1/ledger", None).await,
        StatusCode::OK,
    )
    .await;
    assert!(
        ledger
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "reversal"),
        "{ledger}"
    );
    // A rejected first collection leaves the mandate unused: the next is FRST again.
    let standing: i64 = sqlx::query_scalar(
        "select count(*) from sepa_debit d where not exists
         (select 1 from sepa_rejection r where r.debit_id = d.id)",
    )
    .fetch_one(&town.app.pool)
    .await
    .unwrap();
    assert_eq!(standing, 0);

    // The family is told.
    billing::send_due_mails(
        &town.app.pool,
        &cantine::http::FamilyMails::new(&town.app.state),
    )
    .await
    .unwrap();
    let mails = mail::spool(town.app.data_dir());
    let told = mails
        .iter()
        .find(|m| m.body.contains("a rejeté le prélèvement"))
        .expect("the rejection's mail");
    assert!(told.body.contains("AM04"), "{}", told.body);
    let audited: i64 = sqlx::query_scalar(
        "select count(*) from audit_entry where action = 'direct_debit_rejected'",
    )
    .fetch_one(&town.app.pool)
    .await
    .unwrap();
    assert_eq!(audited, 1);
}

#[tokio::test]
async fn a_family_cannot_see_or_revoke_another_households_mandate() {
    let town = town(14, 14).await;
    let martin = town.family("martin").await;
    let bernard = town.family("bernard").await;
    let mandate = give_mandate(&martin).await;
    let id = mandate["mandate_id"].as_i64().unwrap();
    let seen = json_of(
        bernard.call(Method::GET, "/api/v1/mandates", None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(seen, json!([]));
    problem(
        bernard
            .call(Method::POST, &format!("/api/v1/mandates/{id}/revoke"), None)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let mine = json_of(
        martin.call(Method::GET, "/api/v1/mandates", None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(mine[0]["status"], "active", "{mine}");
    // Nor any finance route.
    problem(
        bernard
            .call(Method::GET, "/api/v1/staff/billing/mandates", None)
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn kitchen_and_school_staff_are_refused_on_the_finance_routes_and_finance_revokes_audited() {
    let town = town(14, 14).await;
    let kitchen = town.staff("cuisine", Role::Kitchen).await;
    let agent = fixtures::staff(
        &town.app,
        "agent",
        Role::SchoolStaff,
        &[town.school],
        &town.hash,
    )
    .await;
    let finance = town.staff("finances", Role::Finance).await;
    let martin = town.family("martin").await;
    let id = give_mandate(&martin).await["mandate_id"].as_i64().unwrap();
    let routes = [
        (
            Method::POST,
            "/api/v1/staff/billing/exports/direct-debits.xml?regie=CANT&month=2026-11".to_owned(),
            None,
        ),
        (
            Method::GET,
            "/api/v1/staff/billing/direct-debits".to_owned(),
            None,
        ),
        (
            Method::POST,
            "/api/v1/staff/billing/direct-debits/1/rejection".to_owned(),
            Some(json!({"reason_code": "AM04", "idempotency_key": "k"})),
        ),
        (
            Method::GET,
            "/api/v1/staff/billing/mandates".to_owned(),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/staff/billing/mandates/{id}/revoke"),
            None,
        ),
    ];
    for member in [&kitchen, &agent] {
        for (method, path, body) in &routes {
            problem(
                member.call(method.clone(), path, body.clone()).await,
                StatusCode::FORBIDDEN,
                "forbidden",
            )
            .await;
        }
    }
    let listed = json_of(
        finance
            .call(Method::GET, "/api/v1/staff/billing/mandates", None)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(listed[0]["iban"], "FR76 **** … 0189", "{listed}");
    assert_eq!(listed[0]["household_id"], martin.household);
    json_of(
        finance
            .call(
                Method::POST,
                &format!("/api/v1/staff/billing/mandates/{id}/revoke"),
                None,
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let mine = json_of(
        martin.call(Method::GET, "/api/v1/mandates", None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(mine[0]["revoked_by"], "finance", "{mine}");
    let audited: i64 =
        sqlx::query_scalar("select count(*) from audit_entry where action = 'mandate_revoked'")
            .fetch_one(&town.app.pool)
            .await
            .unwrap();
    assert_eq!(audited, 1);
}
