//! The served OpenAPI file documents every answer an operation can get, errors as problems.

use cantine_test_support::TestApp;
use serde_json::Value;

async fn document() -> Value {
    let app = TestApp::spawn().await;
    reqwest::get(app.url("/api/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Every (path, method, operation) of the document.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut all = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            all.push((path.clone(), method.clone(), operation.clone()));
        }
    }
    assert!(all.len() >= 17, "{} operations", all.len());
    all
}

#[tokio::test]
async fn every_error_answer_is_documented_as_a_problem() {
    let doc = document().await;
    for (path, method, operation) in operations(&doc) {
        let id = operation["operationId"].as_str().unwrap().to_owned();
        let responses = operation["responses"].as_object().unwrap();
        for (status, response) in responses {
            assert!(
                response["description"]
                    .as_str()
                    .is_some_and(|d| !d.is_empty()),
                "{id} {status} has no description"
            );
            if !status.starts_with('4') {
                continue;
            }
            let content = response["content"].as_object();
            let media: Vec<&String> = content.iter().flat_map(|c| c.keys()).collect();
            assert_eq!(
                media,
                ["application/problem+json"],
                "{method} {path} {status}"
            );
            assert_eq!(
                response["content"]["application/problem+json"]["schema"]["$ref"],
                "#/components/schemas/Problem",
                "{id} {status}"
            );
        }
        for status in ["408", "500"] {
            assert!(responses.contains_key(status), "{id} lacks {status}");
        }
    }
}

#[tokio::test]
async fn operations_document_the_answers_of_what_they_take() {
    let doc = document().await;
    for (path, method, operation) in operations(&doc) {
        let id = operation["operationId"].as_str().unwrap().to_owned();
        let responses = operation["responses"].as_object().unwrap();
        let documents = |statuses: &[&str], why: &str| {
            for status in statuses {
                assert!(
                    responses.contains_key(*status),
                    "{id} ({why}) lacks {status}"
                );
            }
        };
        if id == "uploadCertificate" {
            // The file itself is the body: its size and type are judged, not JSON.
            assert!(
                operation["requestBody"]["content"]["application/octet-stream"].is_object(),
                "{id}"
            );
            documents(&["413", "422"], "file body");
        } else if operation.get("requestBody").is_some() {
            assert!(
                operation["requestBody"]["content"]["application/json"].is_object(),
                "{id}"
            );
            documents(&["400", "413", "415", "422"], "JSON body");
        }
        let parameters = operation["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if parameters.iter().any(|p| p["in"] == "path") {
            documents(&["404"], "path parameters");
        }
        if parameters.iter().any(|p| p["in"] == "query") {
            documents(&["422"], "query parameters");
        }
        if operation.get("security").is_some() {
            documents(&["401", "403"], "session");
        }
        if method != "get" {
            documents(&["403"], "unsafe method");
        }
        let signed_in = path.starts_with("/api/v1/children")
            || path.starts_with("/api/v1/reservations")
            || path.starts_with("/api/v1/household")
            || path.starts_with("/api/v1/absences")
            || path.starts_with("/api/v1/invoices")
            || path == "/api/v1/balance"
            || path == "/api/v1/ledger"
            || path == "/api/v1/yearly-statement"
            || path.starts_with("/api/v1/staff")
            || path.starts_with("/api/v1/invoices")
            || path.starts_with("/api/v1/payments")
            || path.starts_with("/api/v1/mandates")
            || id == "logout";
        assert_eq!(operation.get("security").is_some(), signed_in, "{id}");
    }
    let staff: Vec<_> = operations(&doc)
        .into_iter()
        .filter(|(path, _, _)| path.starts_with("/api/v1/staff"))
        .map(|(_, _, o)| o["operationId"].as_str().unwrap().to_owned())
        .collect();
    for id in [
        "listPendingEnrollments",
        "decideEnrollment",
        "searchHouseholds",
        "getHousehold",
        "setQuotientFamilial",
        "closeDays",
        "reopenDays",
        "createStaffAccount",
        "auditLog",
        "listPendingAbsences",
        "decideAbsence",
        "getAbsenceCertificate",
        "runInvoicing",
        "getInvoicingRun",
        "issueInvoices",
        "createCreditNote",
        "listContests",
        "answerContest",
        "listTariffs",
        "saveTariff",
        "refundCredit",
        "recordCounterPayment",
        "exportAccounting",
        "exportPes",
    ] {
        assert!(staff.iter().any(|s| s == id), "{id} is documented");
    }
    let billing: Vec<String> = operations(&doc)
        .into_iter()
        .filter(|(_, _, o)| o["tags"][0] == "billing")
        .map(|(_, _, o)| o["operationId"].as_str().unwrap().to_owned())
        .collect();
    for id in [
        "listInvoices",
        "getInvoice",
        "getInvoicePdf",
        "contestInvoiceLine",
        "getBalance",
        "listLedger",
        "getYearlyStatementPdf",
    ] {
        assert!(billing.iter().any(|s| s == id), "{id} is documented");
    }
    for id in ["createAccount", "login", "inviteGuardian"] {
        let (_, _, operation) = operations(&doc)
            .into_iter()
            .find(|(_, _, o)| o["operationId"] == id)
            .unwrap();
        assert!(
            operation["responses"]["429"].is_object(),
            "{id} is rate-limited"
        );
    }
}

#[tokio::test]
async fn request_schemas_carry_the_servers_constraints() {
    let doc = document().await;
    let schemas = &doc["components"]["schemas"];
    let child = &schemas["CreateChild"]["properties"];
    assert_eq!(child["first_name"]["minLength"], 1);
    assert_eq!(child["first_name"]["maxLength"], 100);
    // One required character outside what `str::trim` removes (space, tab, …) and U+0000.
    let name_pattern = child["first_name"]["pattern"].as_str().unwrap();
    assert!(
        name_pattern.starts_with(r"^[^\u0000]*[^\t-\r \u0085"),
        "{name_pattern}"
    );
    assert_eq!(child["allergies"]["maxLength"], 1000);
    assert_eq!(child["school_id"]["minimum"], 1);
    assert_eq!(child["birth_date"]["format"], "date");
    assert_eq!(
        child["class_level"]["enum"],
        serde_json::json!(["PS", "MS", "GS", "CP", "CE1", "CE2", "CM1", "CM2"])
    );
    assert_eq!(
        child["diet"]["enum"],
        serde_json::json!(["standard", "vegetarian", "no_pork"])
    );
    let account = &schemas["CreateAccount"]["properties"];
    assert_eq!(account["password"]["minLength"], 10);
    assert_eq!(account["password"]["maxLength"], 128);
    assert_eq!(account["phone"]["maxLength"], 30);
    assert_eq!(account["email"]["maxLength"], 254);
    let pattern = &schemas["SetPattern"]["properties"];
    assert_eq!(pattern["children"]["minItems"], 1);
    assert_eq!(pattern["children"]["maxItems"], 10);
    assert_eq!(pattern["children"]["items"]["minimum"], 1);
    assert_eq!(pattern["weekdays"]["uniqueItems"], true);
    assert_eq!(
        pattern["weekdays"]["items"]["enum"],
        serde_json::json!(["mon", "tue", "wed", "thu", "fri", "sat", "sun"])
    );
    let enrollment = &schemas["RequestEnrollment"]["properties"];
    assert_eq!(enrollment["school_year"]["pattern"], r"^\d{4}-\d{4}$");
}

#[tokio::test]
async fn bare_errors_of_the_layers_are_problems_too() {
    let app = TestApp::spawn().await;
    let response = reqwest::Client::new()
        .patch(app.url("/api/v1/children"))
        .header("origin", "http://127.0.0.1:8080")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert!(response.headers().contains_key("allow"));
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "method_not_allowed");
}

/// utoipa names a component after its Rust type, so two `InvoiceOut`s in two modules make one
/// schema in the document, and one of them answers under the other's description (the family's
/// invoices were once described by finance's). Every schema type of the edge has a name of its
/// own.
#[test]
fn schema_names_are_unique_across_the_edge() {
    fn files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut paths = Vec::new();
    files(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http"),
        &mut paths,
    );
    let mut seen: std::collections::BTreeMap<String, String> = Default::default();
    let mut clashes = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path).unwrap();
        let mut pending = false;
        let mut renamed = false;
        for line in text.lines() {
            let line = line.trim();
            if line.starts_with("#[derive(") && line.contains("ToSchema") {
                pending = true;
                renamed = false;
            } else if pending && line.starts_with("#[schema(") && line.contains("as =") {
                renamed = true;
            } else if pending && !line.starts_with('#') && !line.starts_with("//") {
                let name = line
                    .trim_start_matches("pub ")
                    .trim_start_matches("pub(crate) ")
                    .trim_start_matches("pub(super) ")
                    .split_whitespace()
                    .nth(1)
                    .map(|n| n.split(['<', '{', '(']).next().unwrap().to_owned());
                if let (Some(name), false) = (name, renamed) {
                    let here = path.display().to_string();
                    if let Some(first) = seen.insert(name.clone(), here.clone()) {
                        clashes.push(format!("{name}: {first} and {here}"));
                    }
                }
                pending = false;
            }
        }
    }
    assert!(seen.len() > 50, "schema types found: {}", seen.len());
    assert!(clashes.is_empty(), "schema names used twice: {clashes:#?}");
}
