//! Every GET route answers with the security headers, and nothing private is cached: the routes
//! are read from the router's own declarations (the back-office table, and every `.route(` of
//! `app/src/http`), so a new route is checked without anyone adding it here.

use std::collections::BTreeSet;
use std::path::Path;

use cantine_domain::roles::Role;
use cantine_test_support::{TestApp, fixtures};
use reqwest::Client;
use reqwest::header::HeaderMap;

/// The answers a browser or a proxy may keep: public assets holding no personal data.
const CACHEABLE: &[&str] = &[
    "/static/app.css",
    "/donnees/menus-collectifs.csv",
    // The offline attendance page's script, worker and styles: `no-cache` (revalidated).
    "/static/appel.js",
    "/static/appel-sw.js",
    "/static/appel.css",
];

/// The first argument of every `.route(` in `source`, when its method router serves GET.
fn get_routes_in(source: &str, consts: &dyn Fn(&str) -> Option<String>, found: &mut Vec<String>) {
    let mut rest = source;
    while let Some(at) = rest.find(".route(") {
        rest = &rest[at + ".route(".len()..];
        // The call's text, up to its closing parenthesis.
        let mut depth = 1;
        let mut end = 0;
        for (i, c) in rest.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i;
                        break;
                    }
                }
                _ => {}
            }
        }
        let call = &rest[..end];
        let Some((path, methods)) = call.split_once(',') else {
            continue;
        };
        if !methods.contains("get(") {
            continue;
        }
        let path = path.trim();
        let resolved = if let Some(literal) = path.strip_prefix('"') {
            Some(literal.trim_end_matches('"').to_owned())
        } else {
            consts(path.rsplit("::").next().unwrap())
        };
        found.push(resolved.unwrap_or_else(|| panic!("cannot resolve the route {path:?}")));
    }
}

/// `pub const NAME: &str = "/path";` of every file under `app/src/http`.
fn path_consts(files: &[(String, String)]) -> Vec<(String, String)> {
    let mut consts = Vec::new();
    for (_, source) in files {
        for line in source.lines() {
            let line = line.trim();
            let Some(rest) = line
                .strip_prefix("pub const ")
                .or_else(|| line.strip_prefix("const "))
            else {
                continue;
            };
            if let Some((name, value)) = rest.split_once(": &str = \"") {
                consts.push((
                    name.to_owned(),
                    value
                        .trim_end_matches("\";")
                        .trim_end_matches('"')
                        .to_owned(),
                ));
            }
        }
    }
    consts
}

fn sources(dir: &Path, files: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push((
                path.display().to_string(),
                std::fs::read_to_string(&path).unwrap(),
            ));
        }
    }
}

/// Every GET path the service's router mounts.
fn get_routes(app: &TestApp) -> BTreeSet<String> {
    let mut files = Vec::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http"),
        &mut files,
    );
    let consts = path_consts(&files);
    let lookup = |name: &str| {
        consts
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let mut found = Vec::new();
    for (file, source) in &files {
        // The simulator is a server of its own (`cantine payfip-simulator`); the back-office
        // table's generic `.route(path, route)` is read from the table below.
        if file.ends_with("payfip_simulator.rs") || file.ends_with("backoffice/mod.rs") {
            continue;
        }
        get_routes_in(source, &lookup, &mut found);
    }
    for route in cantine::http::backoffice::table(&app.state) {
        if route.method == axum::http::Method::GET {
            found.push(route.path.to_owned());
        }
    }
    found.into_iter().collect()
}

/// A path with its `{placeholders}` filled with the seeded family's ids (or any number).
fn fill(path: &str, ids: &[(&str, String)]) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}').unwrap() + open;
        let name = &rest[open + 1..close];
        let value = ids
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| "1".to_owned());
        out.push_str(&value);
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

fn check(who: &str, path: &str, status: u16, headers: &HeaderMap) {
    let header = |name: &str| {
        headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_else(|| panic!("{who} GET {path} ({status}): no {name}"))
    };
    let csp = header("content-security-policy");
    for directive in [
        "default-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "form-action 'self'",
    ] {
        assert!(csp.contains(directive), "{who} GET {path}: CSP {csp:?}");
    }
    assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
    assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
    assert_eq!(header("x-frame-options"), "DENY", "{path}");
    assert_eq!(header("referrer-policy"), "same-origin", "{path}");
    let permissions = header("permissions-policy");
    for feature in ["camera=()", "microphone=()", "geolocation=()"] {
        assert!(permissions.contains(feature), "{path}: {permissions}");
    }
    let cache = header("cache-control");
    if !CACHEABLE.contains(&path) {
        assert_eq!(cache, "no-store", "{who} GET {path} ({status})");
    }
}

#[tokio::test]
async fn every_get_route_answers_with_the_security_headers_and_private_ones_are_not_stored() {
    let app = TestApp::spawn().await;
    fixtures::current_school_year(&app).await;
    let school = fixtures::school(&app.pool, "École Jules Ferry", "").await;
    let family = fixtures::family(&app, "martin", "mot de passe de la famille").await;
    let child = family.child(school, "Léa").await;
    let enrollment = family.request_enrollment(child, &["mon", "tue"]).await;
    let hash = fixtures::staff_password_hash();
    let manager = fixtures::staff(&app, "gestion", Role::Manager, &[], &hash).await;
    let admin = fixtures::staff(&app, "admin", Role::Admin, &[], &hash).await;
    let ids = [
        ("child_id", child.to_string()),
        ("household_id", family.household.to_string()),
        ("enrollment_id", enrollment.to_string()),
        ("account_id", manager.id.to_string()),
        ("date", "2026-12-03".to_owned()),
        ("school_id", school.to_string()),
    ];

    let routes = get_routes(&app);
    // Enough to know the scan read the router, not an empty folder.
    assert!(
        routes.len() >= 60,
        "{} GET routes: {routes:?}",
        routes.len()
    );
    for must in ["/", "/foyer", "/gestion", "/readyz", "/api/v1/children"] {
        assert!(routes.contains(must), "{must} not found among {routes:?}");
    }
    let anonymous = Client::new();
    let mut checked = 0;
    for route in routes.iter().chain(["/no/such/page".to_owned()].iter()) {
        let path = fill(route, &ids);
        for (who, client) in [
            ("anonymous", &anonymous),
            ("family", &family.client),
            ("manager", &manager.client),
            ("admin", &admin.client),
        ] {
            let response = client
                .get(app.url(&path))
                .header("accept", "text/html")
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            check(who, &path, status, response.headers());
            assert!(status < 500, "{who} GET {path}: {status}");
            checked += 1;
        }
    }
    assert!(checked >= 240, "{checked}");
}

#[tokio::test]
async fn a_signed_in_family_s_api_answers_are_not_stored_while_the_stylesheet_caches() {
    let app = TestApp::spawn().await;
    let family = fixtures::family(&app, "durand", "mot de passe de la famille").await;
    for path in [
        "/api/v1/children",
        "/foyer",
        "/mon-compte",
        "/api/v1/balance",
    ] {
        let response = family.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.headers()["cache-control"], "no-store", "{path}");
    }
    let css = reqwest::get(app.url("/static/app.css")).await.unwrap();
    assert_eq!(css.headers()["cache-control"], "public, max-age=3600");
}

#[tokio::test]
async fn readiness_does_not_tell_the_database_error_to_the_caller() {
    // A pool towards a database that does not exist on the test cluster: every check fails
    // with the server's message, which names the database.
    let options = cantine_test_support::cluster::cluster()
        .connect_options("no_such_database_for_readyz")
        .application_name("readyz-test");
    let pool = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(std::time::Duration::from_secs(2))
        .connect_lazy_with(options);
    let app = TestApp::builder().pool(pool).spawn().await;
    let response = reqwest::get(app.url("/readyz")).await.unwrap();
    assert_eq!(response.status(), 503);
    let body = response.text().await.unwrap();
    assert_eq!(body, "not ready\n");
    assert!(!body.contains("no_such_database"), "{body}");
}
