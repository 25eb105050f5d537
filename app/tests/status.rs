//! The back office's status page against a real PostgreSQL and a real server: the admin and
//! the service read real values with their state in words, a failed backup turns the page to
//! failing, and other roles are refused.

use cantine::backup::state;
use cantine_domain::roles::Role;
use cantine_test_support::TestApp;
use cantine_test_support::fixtures;
use cantine_test_support::time::paris;
use reqwest::StatusCode;

async fn page(client: &reqwest::Client, app: &TestApp) -> (StatusCode, String) {
    let response = client
        .get(app.url("/gestion/etat"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

/// The row of a fact: its value and state cells, from its label to the end of its line.
fn row<'a>(html: &'a str, label: &str) -> &'a str {
    let start = html
        .find(&format!("<th scope=\"row\">{label}</th>"))
        .unwrap_or_else(|| panic!("no row {label} in:\n{html}"));
    let rest = &html[start..];
    &rest[..rest.find("</tr>").unwrap()]
}

#[tokio::test]
async fn the_status_page_shows_real_values_and_fails_when_a_backup_fails() {
    let app = TestApp::builder()
        .clock(paris("2026-11-30 09:00:00"))
        .spawn()
        .await;
    fixtures::current_school_year(&app).await;
    fixtures::school(&app.pool, "École des Tilleuls", "").await;
    let hash = fixtures::staff_password_hash();
    let admin = fixtures::staff(&app, "admin", Role::Admin, &[], &hash).await;
    let manager = fixtures::staff(&app, "gestion", Role::Manager, &[], &hash).await;
    let kitchen = fixtures::staff(&app, "cuisine", Role::Kitchen, &[], &hash).await;
    let family = fixtures::family(&app, "martin", "un mot de passe solide").await;

    // Nothing recorded yet: a warning, in words.
    let (status, html) = page(&admin.client, &app).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains(cantine::platform::metrics::VERSION));
    assert!(row(&html, "Sauvegardes").contains("Attention"), "{html}");
    assert!(row(&html, "Taille de la base de données").contains(" Mo"));
    assert!(row(&html, "Espace disque du dossier de données").contains("libres sur"));
    assert!(row(&html, "École des Tilleuls").contains("repas"), "{html}");

    let now = app.state.clock.now().timestamp() as f64;
    state::record(app.data_dir(), "local", |s| {
        s.last_success = Some(now - 3600.0);
        s.last_run_success = Some(true);
        s.check_last_success = Some(now - 3600.0);
        s.check_last_run_success = Some(true);
        s.drill_last_success = Some(now - 3600.0);
        s.drill_last_run_success = Some(true);
    });
    let (_, html) = page(&admin.client, &app).await;
    let backup = row(&html, "Sauvegarde « local »");
    assert!(backup.contains("<strong>OK</strong>"), "{backup}");
    assert!(!backup.contains("En échec"));

    state::record(app.data_dir(), "local", |s| {
        s.last_failure = Some(now);
        s.last_run_success = Some(false);
        s.last_error = Some("repository locked".into());
    });
    let (_, html) = page(&admin.client, &app).await;
    let backup = row(&html, "Sauvegarde « local »");
    assert!(backup.contains("<strong>En échec</strong>"), "{backup}");
    assert!(backup.contains("repository locked"));
    // The check and drill still passed.
    assert!(row(&html, "Vérification « local »").contains("<strong>OK</strong>"));
    assert!(html.contains("État général : <strong class=\"etat-echec\">En échec</strong>"));

    // The service reads it too; the kitchen and a family do not.
    let (status, html) = page(&manager.client, &app).await;
    assert_eq!(status, StatusCode::OK);
    assert!(row(&html, "Sauvegarde « local »").contains("En échec"));
    let (status, html) = page(&kitchen.client, &app).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(!html.contains("Sauvegarde « local »"));
    let (status, html) = page(&family.client, &app).await;
    assert_ne!(status, StatusCode::OK);
    assert!(!html.contains("Sauvegarde « local »"));

    // The home page links it for the admin and the service only.
    for (client, linked) in [
        (&admin.client, true),
        (&manager.client, true),
        (&kitchen.client, false),
    ] {
        let home = client
            .get(app.url("/gestion"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(home.contains("href=\"/gestion/etat\""), linked);
    }
}
