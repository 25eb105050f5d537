//! Absences and their certificates, through the real router and a real PostgreSQL: what a
//! family may declare (its own children, service days, late illness accepted), what a
//! certificate may be (PDF, JPEG or PNG by content, 5 MiB at most, nothing stored otherwise),
//! who reads it (the family, managers with an audit entry; another family gets 404), and the
//! manager's decision as the family sees it (API, page and mail).

use std::os::unix::fs::PermissionsExt;

use cantine_domain::roles::Role;
use cantine_test_support::fixtures::{self, Family, StaffMember};
use cantine_test_support::time::{date, paris};
use cantine_test_support::{TestApp, mail};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const PASSWORD: &str = "un mot de passe solide";

/// A minimal PDF: what the demo seeds, a few hundred bytes.
fn pdf() -> Vec<u8> {
    cantine::demo::minimal_pdf("Certificat médical de test")
}

/// The first bytes of a Linux executable, to be passed off as a PDF.
fn elf() -> Vec<u8> {
    let mut bytes = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0".to_vec();
    bytes.resize(4096, 0);
    bytes
}

/// One school, the 2026-2027 year, the clock on Thursday 19 November 2026 at 08:30 in Paris:
/// Thursday's booking deadline (2 service days before, at 10:00) was Monday 16th.
struct Town {
    app: TestApp,
    school: i64,
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
    Town { app, school }
}

impl Town {
    async fn family(&self, name: &str) -> (Family, i64) {
        let family = fixtures::family(&self.app, name, PASSWORD).await;
        let child = fixtures::enrolled_child(&self.app, &family, self.school, "Lina").await;
        (family, child)
    }

    async fn manager(&self) -> StaffMember {
        let hash = fixtures::staff_password_hash();
        fixtures::staff(&self.app, "gestion", Role::Manager, &[], &hash).await
    }

    async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(&self.app.pool)
            .await
            .unwrap()
    }

    fn stored_files(&self) -> Vec<std::path::PathBuf> {
        match std::fs::read_dir(self.app.data_dir().join("certificates")) {
            Ok(dir) => dir.map(|e| e.unwrap().path()).collect(),
            Err(_) => Vec::new(),
        }
    }

    /// A family's declaration through the API.
    async fn declare(&self, family: &Family, body: Value) -> reqwest::Response {
        family
            .call(Method::POST, "/api/v1/absences", Some(body))
            .await
    }

    /// Uploads through the API, the bytes as the body, under the `Content-Type` given.
    async fn upload(
        &self,
        family: &Family,
        absence: i64,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> reqwest::Response {
        family
            .client
            .put(
                self.app
                    .url(&format!("/api/v1/absences/{absence}/certificate")),
            )
            .header("origin", self.app.origin())
            .header("content-type", content_type)
            .body(bytes)
            .send()
            .await
            .unwrap()
    }

    /// Posts the page's form as a browser does: `multipart/form-data`, the file part named
    /// and typed as the client says.
    async fn post_form(
        &self,
        family: &Family,
        path: &str,
        fields: &[(&str, &str)],
        file: Option<(&str, &str, Vec<u8>)>,
    ) -> reqwest::Response {
        self.post_form_from(family, path, fields, file, true).await
    }

    /// [`post_form`](Self::post_form), with the service's `Origin` or none.
    async fn post_form_from(
        &self,
        family: &Family,
        path: &str,
        fields: &[(&str, &str)],
        file: Option<(&str, &str, Vec<u8>)>,
        with_origin: bool,
    ) -> reqwest::Response {
        let boundary = "----cantine-test-boundary-7d1f";
        let mut body = Vec::new();
        for (name, value) in fields {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
                )
                .as_bytes(),
            );
        }
        if let Some((file_name, content_type, bytes)) = file {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"certificat\"; filename=\"{file_name}\"\r\nContent-Type: {content_type}\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(&bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let mut request = family.client.post(self.app.url(path)).header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        );
        if with_origin {
            request = request.header("origin", self.app.origin());
        }
        request.body(body).send().await.unwrap()
    }
}

impl Town {
    /// The page's declaration of an illness from Thursday 19 to Friday 20 November, with a
    /// file named and typed as given.
    async fn declare_on_page(
        &self,
        family: &Family,
        child: i64,
        file: (&str, &str, Vec<u8>),
    ) -> reqwest::Response {
        let child = child.to_string();
        let fields = [
            ("csrf", family.csrf.as_str()),
            ("enfants", child.as_str()),
            ("du", "2026-11-19"),
            ("au", "2026-11-20"),
            ("motif", "illness"),
            ("commentaire", "Gastro"),
        ];
        self.post_form(family, "/absences", &fields, Some(file))
            .await
    }
}

fn illness_today(child: i64) -> Value {
    json!({"children": [child], "first_day": "2026-11-19", "last_day": "2026-11-19",
           "reason": "illness", "comment": "Fièvre ce matin"})
}

#[tokio::test]
async fn a_sick_child_declared_the_same_morning_after_the_deadline_is_accepted() {
    let town = town().await;
    let (family, child) = town.family("martin").await;
    let response = town.declare(&family, illness_today(child)).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let absence: Value = response.json().await.unwrap();
    assert_eq!(absence["status"], "pending");
    assert_eq!(
        absence["children"][0]["days"],
        json!([{"date": "2026-11-19", "notice": "same_morning_illness"}])
    );
    // Another reason, the same morning: not refused either, recorded as late for billing.
    let mut other = illness_today(child);
    other["reason"] = json!("other");
    let response = town.declare(&family, other).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let absence: Value = response.json().await.unwrap();
    assert_eq!(absence["children"][0]["days"][0]["notice"], "late");
    // After noon, an illness of the day is late too, and still accepted.
    town.app.clock().set(paris("2026-11-19 12:30:00"));
    let response = town.declare(&family, illness_today(child)).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let absence: Value = response.json().await.unwrap();
    assert_eq!(absence["children"][0]["days"][0]["notice"], "late");
}

#[tokio::test]
async fn a_range_keeps_each_childs_service_days_only() {
    let town = town().await;
    let (family, lina) = town.family("martin").await;
    let adam = fixtures::enrolled_child(&town.app, &family, town.school, "Adam").await;
    // Monday 23 to Friday 27 November: Wednesday is not served.
    let response = town
        .declare(
            &family,
            json!({"children": [lina, adam, lina], "first_day": "2026-11-23",
                   "last_day": "2026-11-27", "reason": "other"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let absence: Value = response.json().await.unwrap();
    let children = absence["children"].as_array().unwrap();
    assert_eq!(children.len(), 2);
    for child in children {
        let days: Vec<&str> = child["days"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["date"].as_str().unwrap())
            .collect();
        assert_eq!(
            days,
            ["2026-11-23", "2026-11-24", "2026-11-26", "2026-11-27"]
        );
    }
    assert_eq!(town.count("select count(*) from absence_day").await, 8);
}

#[tokio::test]
async fn nonsense_declarations_are_refused_and_nothing_is_recorded() {
    let town = town().await;
    let (family, child) = town.family("martin").await;
    let (_, other_child) = town.family("durand").await;
    let cases = [
        // Another household's child: as if it did not exist.
        (
            json!({"children": [other_child], "first_day": "2026-11-19", "last_day": "2026-11-19", "reason": "illness"}),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            json!({"children": [child, other_child], "first_day": "2026-11-19", "last_day": "2026-11-19", "reason": "illness"}),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        // A weekend: no service day in the range.
        (
            json!({"children": [child], "first_day": "2026-11-21", "last_day": "2026-11-22", "reason": "illness"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_a_service_day",
        ),
        // The summer holidays.
        (
            json!({"children": [child], "first_day": "2027-07-20", "last_day": "2027-07-22", "reason": "other"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_a_service_day",
        ),
        // More than 30 days ago.
        (
            json!({"children": [child], "first_day": "2026-10-15", "last_day": "2026-10-16", "reason": "illness"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
        ),
        // Reversed.
        (
            json!({"children": [child], "first_day": "2026-11-20", "last_day": "2026-11-19", "reason": "illness"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
        ),
        (
            json!({"children": [], "first_day": "2026-11-19", "last_day": "2026-11-19", "reason": "illness"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
        ),
        (
            json!({"children": [child], "first_day": "2026-11-19", "last_day": "2026-11-19", "reason": "vacances"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
        ),
    ];
    for (body, status, code) in cases {
        let response = town.declare(&family, body.clone()).await;
        assert_eq!(response.status(), status, "{body}");
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["code"], code, "{body}");
        assert!(!problem["detail"].as_str().unwrap().is_empty());
    }
    assert_eq!(town.count("select count(*) from absence").await, 0);
}

#[tokio::test]
async fn a_renamed_executable_is_refused_as_a_certificate() {
    let town = town().await;
    let (family, child) = town.family("martin").await;
    // Through the page, named `.pdf` and typed `application/pdf` by the client.
    let response = town
        .declare_on_page(&family, child, ("certificat.pdf", "application/pdf", elf()))
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("Le certificat doit être un fichier PDF, JPEG ou PNG."),
        "{page}"
    );
    assert_eq!(town.count("select count(*) from absence").await, 0);
    // Through the API, on a declared absence.
    let absence: Value = town
        .declare(&family, illness_today(child))
        .await
        .json()
        .await
        .unwrap();
    let id = absence["id"].as_i64().unwrap();
    let response = town.upload(&family, id, "application/pdf", elf()).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "unsupported_certificate");
    assert_eq!(town.count("select count(*) from certificate").await, 0);
    assert!(town.stored_files().is_empty(), "{:?}", town.stored_files());
}

#[tokio::test]
async fn an_oversized_certificate_is_refused_and_nothing_is_stored() {
    let town = town().await;
    let (family, child) = town.family("martin").await;
    let mut big = pdf();
    big.resize(5 * 1024 * 1024 + 1, b' ');
    let response = town
        .declare_on_page(&family, child, ("scan.pdf", "application/pdf", big.clone()))
        .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let page = response.text().await.unwrap();
    assert!(page.contains("Le certificat dépasse 5 Mo"), "{page}");
    assert_eq!(town.count("select count(*) from absence").await, 0);
    assert_eq!(town.count("select count(*) from certificate").await, 0);
    assert!(town.stored_files().is_empty());
    // The API answers a French problem, not a reset connection.
    let absence: Value = town
        .declare(&family, illness_today(child))
        .await
        .json()
        .await
        .unwrap();
    let id = absence["id"].as_i64().unwrap();
    let response = town
        .upload(&family, id, "application/octet-stream", big)
        .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "payload_too_large");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("Le certificat dépasse 5 Mo")
    );
    // Far over the route's limit too.
    let response = town
        .upload(&family, id, "image/png", vec![0; 7 * 1024 * 1024])
        .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(town.count("select count(*) from certificate").await, 0);
    assert!(town.stored_files().is_empty());
}

#[tokio::test]
async fn a_valid_pdf_is_accepted_stored_privately_and_read_back_by_its_family_only() {
    let town = town().await;
    let (family, child) = town.family("martin").await;
    let (durand, _) = town.family("durand").await;
    // The name and the client's type say nothing true: the content decides.
    let response = town
        .declare_on_page(&family, child, ("photo.png", "image/png", pdf()))
        .await;
    assert_eq!(response.status(), StatusCode::OK, "after the redirect");
    assert_eq!(response.url().path(), "/absences");
    let page = response.text().await.unwrap();
    assert!(page.contains("Absence déclarée"), "{page}");
    assert!(page.contains("Télécharger le certificat"), "{page}");
    let (id, media_type, size): (i64, String, i32) = sqlx::query_as(
        "select a.id, c.media_type, c.size_bytes from absence a join certificate c on c.id = a.certificate_id",
    )
    .fetch_one(&town.app.pool)
    .await
    .unwrap();
    assert_eq!(media_type, "application/pdf");
    assert_eq!(size as usize, pdf().len());
    let files = town.stored_files();
    assert_eq!(files.len(), 1, "{files:?}");
    let mode = std::fs::metadata(&files[0]).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    assert_eq!(std::fs::read(&files[0]).unwrap(), pdf());

    for path in [
        format!("/api/v1/absences/{id}/certificate"),
        format!("/absences/{id}/certificat"),
    ] {
        let response = family.call(Method::GET, &path, None).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let headers = response.headers().clone();
        assert_eq!(headers["content-type"], "application/pdf");
        assert!(
            headers["content-disposition"]
                .to_str()
                .unwrap()
                .starts_with("attachment;")
        );
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(response.bytes().await.unwrap().to_vec(), pdf());
        // Another family: not found, exactly as an absence that does not exist.
        let response = durand.call(Method::GET, &path, None).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let response = durand
        .call(Method::GET, "/api/v1/absences/999999/certificate", None)
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    // Nor may it attach one to another family's absence.
    let response = town.upload(&durand, id, "application/pdf", pdf()).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    // A JPEG replaces the PDF through the API; the PDF's row and file are kept.
    let jpeg = b"\xFF\xD8\xFF\xE0\0\x10JFIF\0\x01".to_vec();
    let response = town.upload(&family, id, "text/plain", jpeg.clone()).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let response = family
        .call(
            Method::GET,
            &format!("/api/v1/absences/{id}/certificate"),
            None,
        )
        .await;
    assert_eq!(response.headers()["content-type"], "image/jpeg");
    assert_eq!(response.bytes().await.unwrap().to_vec(), jpeg);
    assert_eq!(town.count("select count(*) from certificate").await, 2);
    assert_eq!(town.stored_files().len(), 2);
}

#[tokio::test]
async fn a_manager_reads_a_certificate_and_each_read_is_audited() {
    let town = town().await;
    let (family, child) = town.family("martin").await;
    let absence: Value = town
        .declare(&family, illness_today(child))
        .await
        .json()
        .await
        .unwrap();
    let id = absence["id"].as_i64().unwrap();
    let response = town.upload(&family, id, "application/pdf", pdf()).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let manager = town.manager().await;
    let reads = "select count(*) from audit_entry where action = 'certificate_read'";
    assert_eq!(
        town.count(reads).await,
        0,
        "the family's reads are not staff reads"
    );
    for path in [
        format!("/api/v1/staff/absences/{id}/certificate"),
        format!("/gestion/absences/{id}/certificat"),
    ] {
        let response = manager.call(Method::GET, &path, None).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(response.headers()["content-type"], "application/pdf");
        assert_eq!(response.bytes().await.unwrap().to_vec(), pdf());
    }
    assert_eq!(town.count(reads).await, 2);
    let (actor, household, detail): (String, i64, Value) = sqlx::query_as(
        "select a.email as actor_email, e.household_id, e.detail from audit_entry e join account a on a.id = e.actor_account_id where e.action = 'certificate_read' limit 1",
    )
    .fetch_one(&town.app.pool)
    .await
    .unwrap();
    assert_eq!(actor, manager.email);
    assert_eq!(household, family.household);
    assert_eq!(detail["absence_id"], id);
    // The queue page links to it.
    let page = manager
        .call(Method::GET, "/gestion/absences", None)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!("/gestion/absences/{id}/certificat")),
        "{page}"
    );
}

#[tokio::test]
async fn a_manager_decides_once_a_refusal_needs_a_reason_and_the_family_sees_the_decision() {
    let town = town().await;
    let (family, child) = town.family("martin").await;
    let first: Value = town
        .declare(&family, illness_today(child))
        .await
        .json()
        .await
        .unwrap();
    let mut other = illness_today(child);
    other["first_day"] = json!("2026-11-20");
    other["last_day"] = json!("2026-11-20");
    other["reason"] = json!("other");
    let second: Value = town.declare(&family, other).await.json().await.unwrap();
    let manager = town.manager().await;
    let queue: Value = manager
        .call(Method::GET, "/api/v1/staff/absences", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(queue.as_array().unwrap().len(), 2);
    let decide = |id: &Value, body: Value| {
        let path = format!("/api/v1/staff/absences/{id}/decision");
        let manager = &manager;
        async move { manager.call(Method::POST, &path, Some(body)).await }
    };

    let response = decide(&second["id"], json!({"decision": "refuse", "reason": "  "})).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "rejection_reason_required");

    let response = decide(
        &second["id"],
        json!({"decision": "refuse", "reason": "Sortie scolaire : le repas est fourni"}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let mail = mail::last(town.app.data_dir());
    assert!(
        mail.headers.contains("martin@example.test"),
        "{}",
        mail.headers
    );
    // (The spool's quoted-printable accents stay encoded: the assertions read ASCII.)
    assert!(
        mail.body
            .contains("L'absence de Lina le vendredi 20 novembre 2026 n'a pas"),
        "{}",
        mail.body
    );
    assert!(
        mail.body
            .contains("Motif : Sortie scolaire : le repas est fourni"),
        "{}",
        mail.body
    );

    let response = decide(&first["id"], json!({"decision": "accept"})).await;
    assert_eq!(response.status(), StatusCode::OK);
    let decided: Value = response.json().await.unwrap();
    assert_eq!(decided["status"], "accepted");
    let mail = mail::last(town.app.data_dir());
    assert!(mail.body.contains("de Lina"), "{}", mail.body);
    assert!(mail.body.contains("est accept"), "{}", mail.body);
    assert!(
        mail.body.contains("jeudi 19 novembre 2026"),
        "{}",
        mail.body
    );

    // Once.
    let response = decide(&first["id"], json!({"decision": "refuse", "reason": "Non"})).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "invalid_transition");
    let response = decide(&json!(999999), json!({"decision": "accept"})).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    // A decided absence takes no new certificate.
    let response = town
        .upload(
            &family,
            first["id"].as_i64().unwrap(),
            "application/pdf",
            pdf(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);

    // Audited, with the reason.
    let details: Vec<Value> = sqlx::query_scalar(
        "select detail from audit_entry where action = 'absence_decided' order by id",
    )
    .fetch_all(&town.app.pool)
    .await
    .unwrap();
    assert_eq!(details.len(), 2);
    assert_eq!(details[0]["status"], "refused");
    assert_eq!(
        details[0]["reason"],
        "Sortie scolaire : le repas est fourni"
    );
    assert_eq!(details[1]["status"], "accepted");

    // The family sees both decisions, in the API and on its page.
    let list: Value = family
        .call(Method::GET, "/api/v1/absences", None)
        .await
        .json()
        .await
        .unwrap();
    let by_id = |id: &Value| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == *id)
            .cloned()
            .unwrap()
    };
    assert_eq!(by_id(&first["id"])["status"], "accepted");
    let refused = by_id(&second["id"]);
    assert_eq!(refused["status"], "refused");
    assert_eq!(
        refused["decision_reason"],
        "Sortie scolaire : le repas est fourni"
    );
    let page = family
        .call(Method::GET, "/absences", None)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Refusée"), "{page}");
    assert!(page.contains("Acceptée"), "{page}");
    assert!(
        page.contains("Sortie scolaire : le repas est fourni"),
        "{page}"
    );
    // Another family sees none of it.
    let (durand, _) = town.family("durand").await;
    let list: Value = durand
        .call(Method::GET, "/api/v1/absences", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list, json!([]));
    // The queue is empty now.
    let queue: Value = manager
        .call(Method::GET, "/api/v1/staff/absences", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(queue, json!([]));
}

#[tokio::test]
async fn the_managers_page_accepts_and_refuses_with_a_reason() {
    let town = town().await;
    let (family, child) = town.family("martin").await;
    let absence: Value = town
        .declare(&family, illness_today(child))
        .await
        .json()
        .await
        .unwrap();
    let id = absence["id"].as_i64().unwrap();
    let manager = town.manager().await;
    let page = manager
        .call(Method::GET, "/gestion/absences", None)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Lina Martin"), "{page}");
    assert!(page.contains("maladie déclarée le matin même"), "{page}");
    let form = |decision: &str, reason: &str| {
        manager
            .client
            .post(town.app.url(&format!("/gestion/absences/{id}")))
            .header("origin", town.app.origin())
            .form(&[
                ("csrf", manager.csrf.as_str()),
                ("decision", decision),
                ("motif", reason),
            ])
            .send()
    };
    let response = form("refuser", "").await.unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Un refus doit être motivé")
    );
    let response = form("accepter", "").await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.url().path(), "/gestion/absences");
    assert!(response.text().await.unwrap().contains("Absence acceptée"));
    let status: String = sqlx::query_scalar("select status from absence where id = $1")
        .bind(id)
        .fetch_one(&town.app.pool)
        .await
        .unwrap();
    assert_eq!(status, "accepted");
}

#[tokio::test]
async fn a_certificate_is_attached_later_from_the_page() {
    let town = town().await;
    let (family, child) = town.family("martin").await;
    let absence: Value = town
        .declare(&family, illness_today(child))
        .await
        .json()
        .await
        .unwrap();
    let id = absence["id"].as_i64().unwrap();
    let path = format!("/absences/{id}/certificat");
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    let response = town
        .post_form(
            &family,
            &path,
            &[("csrf", &family.csrf)],
            Some(("ordonnance", "application/octet-stream", png.clone())),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.text().await.unwrap().contains("Certificat ajouté"));
    let response = family.call(Method::GET, &path, None).await;
    assert_eq!(response.headers()["content-type"], "image/png");
    assert_eq!(response.bytes().await.unwrap().to_vec(), png);
    // Without the service's `Origin` nor the session's token, refused, and nothing stored.
    let response = town
        .post_form_from(
            &family,
            &path,
            &[("csrf", "faux")],
            Some(("ordonnance.pdf", "application/pdf", pdf())),
            false,
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(town.count("select count(*) from certificate").await, 1);
}

#[tokio::test]
async fn the_demo_seeds_one_pending_absence_with_a_valid_pdf_once() {
    let pdf = pdf();
    assert!(pdf.starts_with(b"%PDF-1.4\n") && pdf.ends_with(b"%%EOF\n"));
    assert!(pdf.len() < 1024, "{} bytes", pdf.len());
    assert_eq!(
        pdf,
        cantine::demo::minimal_pdf("Certificat médical de test")
    );
    // The cross-reference table points at each object.
    let text = String::from_utf8(pdf.clone()).unwrap();
    let xref = text.find("xref\n").unwrap();
    let startxref: usize = text
        .split("startxref\n")
        .nth(1)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(startxref, xref);
    for (n, line) in text[xref..].lines().skip(3).take(5).enumerate() {
        let offset: usize = line[..10].parse().unwrap();
        assert!(
            text[offset..].starts_with(&format!("{} 0 obj", n + 1)),
            "{line}"
        );
    }

    // The demo's own town, on the same Thursday morning.
    let app = TestApp::builder()
        .clock(paris("2026-11-19 08:30:00"))
        .spawn()
        .await;
    let rules = app.rules();
    cantine::demo::seed(&app.pool, &rules, Some("techniville".into()), None)
        .await
        .unwrap();
    let files = cantine::absences::CertificateFiles::in_data_dir(app.data_dir());
    for _ in 0..2 {
        cantine::demo::seed_absence(&app.pool, &rules, &files)
            .await
            .unwrap();
    }
    let (status, email, media_type): (String, String, String) = sqlx::query_as(
        "select a.status, ac.email, c.media_type from absence a
         join account ac on ac.id = a.declared_by join certificate c on c.id = a.certificate_id",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(status, "pending");
    assert_eq!(email, "famille.martin@techniville.test");
    assert_eq!(media_type, "application/pdf");
    let files: Vec<_> = std::fs::read_dir(files.dir()).unwrap().collect();
    assert_eq!(files.len(), 1);
}
