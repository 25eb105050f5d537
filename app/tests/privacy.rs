//! Data rights and retention (RGPD), through the real router and a real PostgreSQL: the
//! family's export covers every table that refers to a household, a child or an account (read
//! from the schema's foreign keys), closing an account leaves no name of the child nor the
//! guardians' addresses in any column of any table while invoices and payments stay, and the
//! retention job erases what is past its period with the clock moved.

use std::collections::BTreeSet;

use cantine::billing::{self, Means, Month, PaymentInput};
use cantine::platform::clock::Clock;
use cantine::privacy::{self, EXCLUDED, EXPORTED};
use cantine_domain::ids::HouseholdId;
use cantine_domain::money::Cents;
use cantine_domain::roles::Role;
use cantine_test_support::TestApp;
use cantine_test_support::fixtures::{self, Family};
use cantine_test_support::time::{date, paris};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const PASSWORD: &str = "un mot de passe solide";
const CHILD_FIRST: &str = "Zéphyrine";
const FAMILY_NAME: &str = "quintavalle";
const INVITED: &str = "second.parent.quintavalle@example.test";

/// One school, the 2026-2027 year and its tariff, the clock on Thursday 19 November 2026.
async fn town() -> (TestApp, i64) {
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
         select id, first_day, 'brackets', 150, 350, 700, 150, 1 from school_year;
         insert into tariff_band (tariff_id, qf_min, qf_max, meal_price_cents)
         select id, 0, null, 350 from tariff;",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    (app, school)
}

/// A family that used everything: a child with allergies, an enrollment with its bookings, a
/// cancelled day, an absence with a comment and a certificate, an invitation, the household's
/// page read by a manager; [`bill`] adds November's invoice and a payment.
async fn seeded_family(app: &TestApp, school: i64, name: &str, first: &str) -> (Family, i64) {
    let family = fixtures::family(app, name, PASSWORD).await;
    let response = family
        .call(
            Method::POST,
            "/api/v1/children",
            Some(json!({
                "first_name": first, "last_name": capitalised(name), "birth_date": "2019-03-14",
                "school_id": school, "class_level": "CE1", "diet": "vegetarian",
                "allergies": format!("arachides : {first} a une trousse"), "allergens": ["peanuts"],
                "pai": true
            })),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let child = response.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let enrollment = family
        .request_enrollment(child, &["mon", "tue", "thu", "fri"])
        .await;
    fixtures::validate_enrollment(app, enrollment).await;
    let response = family
        .call(
            Method::DELETE,
            &format!("/api/v1/children/{child}/reservations/2026-11-30"),
            None,
        )
        .await;
    assert!(response.status().is_success(), "{}", response.status());
    let response = family
        .call(
            Method::POST,
            "/api/v1/absences",
            Some(
                json!({"children": [child], "first_day": "2026-11-27", "last_day": "2026-11-27",
                        "reason": "illness", "comment": format!("{first} a de la fièvre")}),
            ),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let absence = response.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let response = family
        .client
        .put(app.url(&format!("/api/v1/absences/{absence}/certificate")))
        .header("origin", app.origin())
        .header("content-type", "application/pdf")
        .body(cantine::demo::minimal_pdf(&format!(
            "Certificat de {first}"
        )))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let response = family
        .call(
            Method::POST,
            "/api/v1/household/invitations",
            Some(json!({ "email": format!("second.parent.{name}@example.test") })),
        )
        .await;
    assert!(response.status().is_success(), "{}", response.status());
    (family, child)
}

/// November's invoices issued, and a payment at the counter from each household.
async fn bill(app: &TestApp, families: &[&Family]) {
    let month = Month(date("2026-11-01"));
    billing::run(&app.pool, None, "CANT", month).await.unwrap();
    billing::issue(&app.pool, None, "CANT", month)
        .await
        .unwrap();
    for family in families {
        billing::record_payment(
            &app.pool,
            None,
            PaymentInput {
                household: HouseholdId(family.household),
                regie: "CANT".to_owned(),
                amount: Cents(700),
                means: Means::Cash,
                reference: "guichet".to_owned(),
                received_on: date("2026-11-19"),
                idempotency_key: format!("paiement-{}", family.household),
                invoice: None,
            },
        )
        .await
        .unwrap();
    }
}

fn capitalised(name: &str) -> String {
    let mut chars = name.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

async fn manager(app: &TestApp) -> fixtures::StaffMember {
    let hash = fixtures::staff_password_hash();
    fixtures::staff(app, "gestion", Role::Manager, &[], &hash).await
}

/// The tables that refer to a household, a child or an account: by a foreign key, or by a
/// column named after them (the audit log keeps ids without a key, to outlive nothing).
async fn tables_about_people(app: &TestApp) -> BTreeSet<String> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "select distinct tc.table_name::text
         from information_schema.table_constraints tc
         join information_schema.constraint_column_usage ccu
           on ccu.constraint_schema = tc.constraint_schema and ccu.constraint_name = tc.constraint_name
         where tc.constraint_type = 'FOREIGN KEY' and tc.table_schema = 'public'
           and ccu.table_name in ('household', 'child', 'account')
         union
         select distinct table_name::text from information_schema.columns
         where table_schema = 'public'
           and column_name in ('household_id', 'child_id', 'account_id')
         union select 'household' union select 'child' union select 'account'",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    rows.into_iter().map(|(t,)| t).collect()
}

#[tokio::test]
async fn every_table_about_a_household_is_exported_or_excluded_with_a_reason() {
    let (app, _) = town().await;
    let schema = tables_about_people(&app).await;
    let exported: BTreeSet<String> = EXPORTED.iter().map(|t| (*t).to_owned()).collect();
    let excluded: BTreeSet<String> = EXCLUDED.iter().map(|(t, _)| (*t).to_owned()).collect();
    assert!(exported.is_disjoint(&excluded), "a table in both lists");
    for (table, reason) in EXCLUDED {
        assert!(reason.len() > 10, "{table} needs a reason");
    }
    let missing: Vec<&String> = schema
        .iter()
        .filter(|t| !exported.contains(*t) && !excluded.contains(*t))
        .collect();
    assert!(
        missing.is_empty(),
        "tables about people neither exported nor excluded: {missing:?}"
    );
    // Exported tables that hold no key to a person are listed as well when they hang off one
    // (allocation, payfip_mismatch, absence_day); none is a table the schema lacks.
    let all: Vec<(String,)> = sqlx::query_as(
        "select table_name::text from information_schema.tables where table_schema = 'public'",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let all: BTreeSet<String> = all.into_iter().map(|(t,)| t).collect();
    for table in exported.iter().chain(&excluded) {
        assert!(all.contains(table), "{table} is not a table");
    }
}

#[tokio::test]
async fn the_export_holds_every_row_of_the_household_and_nothing_of_another() {
    let (app, school) = town().await;
    let (family, child) = seeded_family(&app, school, FAMILY_NAME, CHILD_FIRST).await;
    let (other, other_child) = seeded_family(&app, school, "villeneuve", "Anatole").await;
    bill(&app, &[&family, &other]).await;
    let manager = manager(&app).await;
    let response = manager
        .call(
            Method::GET,
            &format!("/gestion/foyers/{}", family.household),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);

    let response = family
        .call(Method::GET, "/api/v1/household/export", None)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let export: Value = response.json().await.unwrap();
    assert_eq!(export["household_id"], family.household);
    let tables = export["tables"].as_object().unwrap();
    let keys: BTreeSet<&str> = tables.keys().map(String::as_str).collect();
    let expected: BTreeSet<&str> = EXPORTED.iter().copied().collect();
    assert_eq!(keys, expected);
    // Each table the seeding filled has exactly the household's rows, counted independently.
    let h = family.household;
    for (table, count_sql) in [
        (
            "account",
            format!("select count(*) from account where household_id = {h}"),
        ),
        (
            "child",
            format!("select count(*) from child where household_id = {h}"),
        ),
        (
            "enrollment",
            format!("select count(*) from enrollment where child_id = {child}"),
        ),
        (
            "reservation",
            format!("select count(*) from reservation where child_id = {child}"),
        ),
        (
            "reservation_event",
            format!("select count(*) from reservation_event where child_id = {child}"),
        ),
        (
            "absence",
            format!("select count(*) from absence where household_id = {h}"),
        ),
        (
            "absence_day",
            format!("select count(*) from absence_day where child_id = {child}"),
        ),
        (
            "certificate",
            format!("select count(*) from certificate where household_id = {h}"),
        ),
        (
            "email_token",
            format!("select count(*) from email_token where household_id = {h}"),
        ),
        (
            "session",
            format!(
                "select count(*) from session s join account a on a.id = s.account_id where a.household_id = {h}"
            ),
        ),
        (
            "invoice",
            format!("select count(*) from invoice where household_id = {h}"),
        ),
        (
            "invoice_line",
            format!(
                "select count(*) from invoice_line l join invoice i on i.id = l.invoice_id where i.household_id = {h}"
            ),
        ),
        (
            "payment",
            format!("select count(*) from payment where household_id = {h}"),
        ),
        (
            "ledger_entry",
            format!("select count(*) from ledger_entry where household_id = {h}"),
        ),
        (
            "audit_entry",
            format!(
                "select count(*) from audit_entry where household_id = {h} or child_id = {child}"
            ),
        ),
    ] {
        let count: i64 = sqlx::query_scalar(&count_sql)
            .fetch_one(&app.pool)
            .await
            .unwrap();
        let rows = tables[table].as_array().unwrap();
        assert!(count > 0, "the seed left {table} empty");
        assert_eq!(rows.len() as i64, count, "{table}");
    }
    let text = export.to_string();
    assert!(text.contains(CHILD_FIRST));
    assert!(text.contains("second.parent.quintavalle@example.test"));
    assert!(!text.contains("Anatole"), "another household's child");
    assert!(!text.contains(&format!("\"child_id\":{other_child},")));
    for secret in ["password_hash", "token_hash", "csrf_token", "client_ip"] {
        assert!(!text.contains(secret), "{secret} in the export");
    }

    // The readable page and the download say the same.
    let page = family.call(Method::GET, "/foyer/mes-donnees", None).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()["cache-control"], "no-store");
    let page = page.text().await.unwrap();
    assert!(page.contains("Historique des réservations"));
    assert!(page.contains(CHILD_FIRST));
    let download = family
        .call(Method::GET, "/foyer/mes-donnees.json", None)
        .await;
    assert_eq!(download.status(), StatusCode::OK);
    assert!(
        download.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let downloaded: Value = download.json().await.unwrap();
    assert_eq!(downloaded["tables"]["child"], export["tables"]["child"]);

    // Signed out: nothing.
    let anonymous = reqwest::Client::new()
        .get(app.url("/api/v1/household/export"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

/// Every value of every text, JSON and array column of every table that contains `needle`,
/// case-insensitively, as `table.column`.
async fn columns_containing(app: &TestApp, needle: &str) -> Vec<String> {
    let columns: Vec<(String, String)> = sqlx::query_as(
        "select c.table_name::text, c.column_name::text from information_schema.columns c
         join information_schema.tables t using (table_schema, table_name)
         where c.table_schema = 'public' and t.table_type = 'BASE TABLE'
           and c.data_type in ('text', 'character varying', 'jsonb', 'json', 'ARRAY', 'bytea')",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let mut found = Vec::new();
    for (table, column) in columns {
        let sql = format!(
            "select count(*) from \"{table}\" where strpos(lower(\"{column}\"::text), lower($1)) > 0"
        );
        let count: i64 = sqlx::query_scalar(&sql)
            .bind(needle)
            .fetch_one(&app.pool)
            .await
            .unwrap();
        if count > 0 {
            found.push(format!("{table}.{column}"));
        }
    }
    found
}

#[tokio::test]
async fn closing_the_account_leaves_no_name_of_the_child_nor_the_guardians_address() {
    let (app, school) = town().await;
    let (family, child) = seeded_family(&app, school, FAMILY_NAME, CHILD_FIRST).await;
    let (other, _) = seeded_family(&app, school, "villeneuve", "Anatole").await;
    bill(&app, &[&family, &other]).await;
    let manager = manager(&app).await;
    manager
        .call(
            Method::GET,
            &format!("/gestion/foyers/{}", family.household),
            None,
        )
        .await;
    let files_before = std::fs::read_dir(app.data_dir().join("certificates"))
        .unwrap()
        .count();
    assert_eq!(files_before, 2);
    // Before: the names are there (the scan finds what it looks for).
    assert!(!columns_containing(&app, CHILD_FIRST).await.is_empty());
    assert!(!columns_containing(&app, "quintavalle").await.is_empty());

    // The confirmation page, then a post without the word: nothing happens.
    let page = family.call(Method::GET, "/foyer/cloture", None).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("CLOTURER"));
    let refused = family
        .client
        .post(app.url("/foyer/cloture"))
        .header("origin", app.origin())
        .form(&[("csrf", family.csrf.as_str()), ("confirmation", "oui")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!columns_containing(&app, CHILD_FIRST).await.is_empty());
    // A form from another site is refused whatever it says.
    let foreign = family
        .client
        .post(app.url("/foyer/cloture"))
        .header("origin", "https://evil.example")
        .form(&[("csrf", "x"), ("confirmation", "CLOTURER")])
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);

    let closed = family
        .client
        .post(app.url("/foyer/cloture"))
        .header("origin", app.origin())
        .form(&[("csrf", family.csrf.as_str()), ("confirmation", "CLOTURER")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        closed.status(),
        StatusCode::OK,
        "followed to the login page"
    );
    assert_eq!(closed.url().path(), "/connexion");

    for needle in [
        CHILD_FIRST,
        "Zephyrine",
        "quintavalle",
        "quintavalle@example.test",
        INVITED,
    ] {
        let found = columns_containing(&app, needle).await;
        assert!(found.is_empty(), "{needle:?} still in {found:?}");
    }
    // The other family is untouched.
    assert!(!columns_containing(&app, "Anatole").await.is_empty());
    assert!(
        !columns_containing(&app, "villeneuve@example.test")
            .await
            .is_empty()
    );
    // Public accounting keeps the invoices, payments and ledger, under the household's id.
    for table in ["invoice", "payment", "ledger_entry"] {
        let count: i64 = sqlx::query_scalar(&format!(
            "select count(*) from {table} where household_id = $1"
        ))
        .bind(family.household)
        .fetch_one(&app.pool)
        .await
        .unwrap();
        assert!(count > 0, "{table} kept");
    }
    let lines: i64 = sqlx::query_scalar("select count(*) from invoice_line where child_id = $1")
        .bind(child)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(lines > 0, "the invoice lines still name the child's id");
    // Health data and future bookings are gone, the past ones stay for the invoices.
    let (allergies, pai, birth): (String, bool, chrono::NaiveDate) =
        sqlx::query_as("select allergies, pai, birth_date from child where id = $1")
            .bind(child)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!((allergies.as_str(), pai), ("", false));
    assert_eq!(birth, date("2019-01-01"));
    let future: i64 = sqlx::query_scalar(
        "select count(*) from reservation where child_id = $1 and service_date > '2026-11-19'",
    )
    .bind(child)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(future, 0);
    // The certificate's file is erased; the other family's stays.
    let files_after = std::fs::read_dir(app.data_dir().join("certificates"))
        .unwrap()
        .count();
    assert_eq!(files_after, 1);
    // Every session ended: this browser's, and nobody can log in with the old address.
    let response = family.call(Method::GET, "/api/v1/children", None).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let login = reqwest::Client::new()
        .post(app.url("/api/v1/session"))
        .json(&json!({"email": family.email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = login.json().await.unwrap();
    assert_eq!(problem["code"], "invalid_credentials");
    // The other family still works.
    let response = other.call(Method::GET, "/api/v1/children", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let via: String =
        sqlx::query_scalar("select via from household_closure where household_id = $1")
            .bind(family.household)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(via, "family");
}

#[tokio::test]
async fn a_manager_closes_an_account_at_the_counter_with_an_audit_entry() {
    let (app, school) = town().await;
    let (family, _) = seeded_family(&app, school, FAMILY_NAME, CHILD_FIRST).await;
    bill(&app, &[&family]).await;
    let manager = manager(&app).await;
    let path = format!("/gestion/foyers/{}/cloture", family.household);
    let refused = manager
        .client
        .post(app.url(&path))
        .header("origin", app.origin())
        .form(&[("csrf", manager.csrf.as_str()), ("confirmation", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let done = manager
        .client
        .post(app.url(&path))
        .header("origin", app.origin())
        .form(&[
            ("csrf", manager.csrf.as_str()),
            ("confirmation", "CLOTURER"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::OK);
    assert!(done.text().await.unwrap().contains("Compte du foyer clos"));
    let found = columns_containing(&app, CHILD_FIRST).await;
    assert!(found.is_empty(), "{found:?}");
    let (actor, detail): (Option<i64>, Value) = sqlx::query_as(
        "select actor_account_id, detail from audit_entry
         where action = 'household_closed' and household_id = $1",
    )
    .bind(family.household)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(actor, Some(manager.id));
    assert_eq!(detail["via"], "counter");
    let response = family.call(Method::GET, "/api/v1/children", None).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_privacy_page_and_the_record_of_processing_come_from_the_configuration() {
    let app = TestApp::builder()
        .clock(paris("2026-11-19 08:30:00"))
        .config(|c| {
            c.privacy.controller = "Commune de Saint-Test, représentée par son maire".to_owned();
            c.privacy.dpo_contact = "dpo@saint-test.fr".to_owned();
            c.retention.audit_days = 200;
        })
        .spawn()
        .await;
    let page = reqwest::get(app.url("/confidentialite")).await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    for text in [
        "Commune de Saint-Test, représentée par son maire",
        "dpo@saint-test.fr",
        "200 jours",
        "10 ans",
        "CNIL",
        "730 jours",
    ] {
        assert!(page.contains(text), "{text} not on the privacy page");
    }
    let manager = manager(&app).await;
    let record = manager
        .call(Method::GET, "/gestion/registre-des-traitements", None)
        .await;
    assert_eq!(record.status(), StatusCode::OK);
    assert!(
        record.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/markdown")
    );
    let record = record.text().await.unwrap();
    assert!(record.starts_with("# Registre des activités de traitement"));
    assert!(record.contains("dpo@saint-test.fr"));
    assert!(record.contains("| Journal des actions du personnel | 200 jours |"));
    // A family does not get it.
    let family = fixtures::family(&app, "martin", PASSWORD).await;
    let response = family
        .call(Method::GET, "/gestion/registre-des-traitements", None)
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_retention_job_erases_what_is_past_its_period_with_the_clock_moved() {
    let (app, school) = town().await;
    let (active, _) = seeded_family(&app, school, "villeneuve", "Anatole").await;
    let (gone, gone_child) = seeded_family(&app, school, FAMILY_NAME, CHILD_FIRST).await;
    bill(&app, &[&active, &gone]).await;
    // An audit entry a year and a half old, and one of today.
    sqlx::query(
        "insert into audit_entry (action, household_id, detail, at)
         values ('household_created', $1, '{}', now() - interval '540 days'),
                ('household_created', $1, '{}', now())",
    )
    .bind(active.household)
    .execute(&app.pool)
    .await
    .unwrap();
    // Nobody may delete a recent entry, the job included.
    let refused = sqlx::query("delete from audit_entry where at > now() - interval '1 day'")
        .execute(&app.pool)
        .await;
    assert!(refused.is_err(), "a recent audit entry was deleted");
    let audit_before: i64 = sqlx::query_scalar("select count(*) from audit_entry")
        .fetch_one(&app.pool)
        .await
        .unwrap();

    // Today nothing is past its period but the audit entry.
    let config = app.state.config.retention.clone();
    let now = app.clock().now();
    let today = date("2026-11-19");
    let swept = privacy::retention(&app.pool, app.data_dir(), &config, now, today, true)
        .await
        .unwrap();
    assert_eq!(swept.audit_entries, 1);
    assert_eq!(swept.inactive_households, 0);
    assert_eq!(swept.sessions, 0);

    // Three years later: the Quintavalles never came back; the Villeneuves signed in.
    let later = paris("2030-01-07 03:00:00");
    app.clock().set(later);
    active.sign_in(PASSWORD).await;
    let dry = privacy::retention(
        &app.pool,
        app.data_dir(),
        &config,
        later,
        date("2030-01-07"),
        true,
    )
    .await
    .unwrap();
    assert_eq!(dry.inactive_households, 1);
    assert!(dry.sessions >= 2, "the old sessions have expired: {dry:?}");
    assert!(
        dry.email_tokens >= 2,
        "the invitations have expired: {dry:?}"
    );
    // A dry run changes nothing.
    let count: i64 = sqlx::query_scalar("select count(*) from audit_entry")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, audit_before);
    assert!(!columns_containing(&app, CHILD_FIRST).await.is_empty());

    let swept = privacy::retention(
        &app.pool,
        app.data_dir(),
        &config,
        later,
        date("2030-01-07"),
        false,
    )
    .await
    .unwrap();
    assert_eq!(swept, dry);
    let found = columns_containing(&app, CHILD_FIRST).await;
    assert!(found.is_empty(), "{found:?}");
    assert!(!columns_containing(&app, "Anatole").await.is_empty());
    let via: String =
        sqlx::query_scalar("select via from household_closure where household_id = $1")
            .bind(gone.household)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(via, "retention");
    let kept: i64 = sqlx::query_scalar("select count(*) from invoice_line where child_id = $1")
        .bind(gone_child)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(kept > 0);
    let sessions: i64 = sqlx::query_scalar("select count(*) from session where expires_at < $1")
        .bind(later)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(sessions, 0);
    // The old audit entry is gone, today's stays (the database refuses younger deletions).
    let old: i64 = sqlx::query_scalar(
        "select count(*) from audit_entry where at < now() - interval '183 days'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(old, 0);
    let recent: i64 = sqlx::query_scalar(
        "select count(*) from audit_entry where household_id = $1 and action = 'household_created'",
    )
    .bind(active.household)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(recent, 1);
    // The active family's session still works, and its data is whole.
    let response = active
        .call(Method::GET, "/api/v1/household/export", None)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let export: Value = response.json().await.unwrap();
    assert_eq!(export["tables"]["child"][0]["first_name"], "Anatole");
    // A second run has nothing left to do.
    let again = privacy::retention(
        &app.pool,
        app.data_dir(),
        &config,
        later,
        date("2030-01-07"),
        false,
    )
    .await
    .unwrap();
    assert_eq!(again.inactive_households, 0);
    assert_eq!(again.audit_entries, 0);
}
