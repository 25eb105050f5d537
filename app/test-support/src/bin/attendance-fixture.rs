//! The server the offline attendance browser test (`scripts/browser-test`) drives: the real
//! application on a loopback port, on a throwaway database, its clock stopped on a service day
//! (Monday 30 November 2026 at 11:00 in Paris) so the test does not depend on today's date.
//!
//! It prints one JSON line (the address, the agent's credentials and the stopped clock for
//! their TOTP code, the school, the day and its children), then answers each `marks` line on
//! its standard input with the attendance history as one JSON line, and stops at end of input.

use std::io::BufRead;

use cantine_domain::ids::SchoolId;
use cantine_domain::roles::Role;
use cantine_test_support::TestApp;
use cantine_test_support::fixtures::{self, STAFF_PASSWORD, STAFF_SECRET};
use cantine_test_support::time::{date, paris};
use serde_json::json;

#[tokio::main]
async fn main() {
    let app = TestApp::builder()
        .clock(paris("2026-11-16 12:00:00"))
        .config(|c| {
            // The browser's Origin must be the service's own.
            c.public_url = format!("http://{}", c.listen).parse().expect("a URL");
        })
        .spawn()
        .await;
    let school = fixtures::school(&app.pool, "École Jules-Ferry", "2 rue des Écoles").await;
    fixtures::school_year(
        &app.pool,
        "2026-2027",
        date("2026-09-01"),
        date("2027-07-03"),
    )
    .await;
    let family = fixtures::family(&app, "martin", "un mot de passe solide").await;
    let mut children = Vec::new();
    for name in ["Léa", "Hugo", "Chloé", "Louis"] {
        children.push(fixtures::enrolled_child(&app, &family, school, name).await);
    }
    let now = paris("2026-11-30 11:00:00");
    app.clock().set(now);
    let email = "agent@mairie.test";
    cantine::staff::seed_member(
        &app.pool,
        email,
        ("Awa", "Diallo"),
        Role::SchoolStaff,
        &[SchoolId(school)],
        (&fixtures::staff_password_hash(), STAFF_SECRET),
        now,
    )
    .await
    .expect("the agent");
    let secret: String = STAFF_SECRET.iter().map(|b| format!("{b:02x}")).collect();
    println!(
        "{}",
        json!({
            "url": app.base_url, "email": email, "password": STAFF_PASSWORD,
            "totp_secret_hex": secret, "now": now.timestamp(),
            "school": school, "date": "2026-11-30", "children": children,
        })
    );
    // Standard input is read on a thread of its own; each line is answered in turn.
    let (send, mut receive) = tokio::sync::mpsc::unbounded_channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines().map_while(Result::ok) {
            if send.send(line).is_err() {
                break;
            }
        }
    });
    while let Some(line) = receive.recv().await {
        if line.trim() == "marks" {
            let rows: Vec<(i64, String, bool)> = sqlx::query_as(
                "select child_id, client_id::text, present from attendance_mark order by id",
            )
            .fetch_all(&app.pool)
            .await
            .expect("the marks");
            let marks: Vec<_> = rows
                .into_iter()
                .map(|(child, client_id, present)| {
                    json!({"child_id": child, "client_id": client_id, "present": present})
                })
                .collect();
            println!("{}", json!(marks));
        }
    }
}
