//! Menus: entering them (API, form, caterer's file), families warned of their children's
//! allergens on the calendar, the home page and the API, and the SCDL open-data export checked
//! field by field against the schema's published rules.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use cantine_domain::roles::Role;
use cantine_test_support::TestApp;
use cantine_test_support::fixtures::{self, Family, StaffMember};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const FAMILY_PASSWORD: &str = "famille-techniville";
static STAFF_HASH: LazyLock<String> = LazyLock::new(fixtures::staff_password_hash);

/// Monday 30 November 2026, 09:00 in Paris, a school day of 2026-2027.
fn monday_9am() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 8, 0, 0).unwrap()
}

struct Town {
    app: TestApp,
    school_a: i64,
    school_b: i64,
    family: Family,
    /// Léa, at school A, allergic to peanuts, enrolled Mon, Tue, Thu, Fri.
    lea: i64,
    kitchen: StaffMember,
    manager: StaffMember,
}

async fn town() -> Town {
    let app = TestApp::builder().clock(monday_9am()).spawn().await;
    fixtures::current_school_year(&app).await;
    let school_a = fixtures::school(&app.pool, "École Jules-Ferry", "2 rue des Écoles").await;
    let school_b = fixtures::school(&app.pool, "École Jean-Jaurès", "5 place du Marché").await;
    let family = fixtures::family(&app, "martin", FAMILY_PASSWORD).await;
    let response = family
        .call(
            Method::POST,
            "/api/v1/children",
            Some(json!({
                "first_name": "Léa", "last_name": "Martin", "birth_date": "2019-03-14",
                "school_id": school_a, "class_level": "CE1",
                "allergens": ["peanuts"], "allergies": "réaction sévère, traces comprises"
            })),
        )
        .await;
    assert_eq!(response.status(), 201);
    let child: Value = response.json().await.unwrap();
    assert_eq!(child["allergens"], json!(["peanuts"]));
    assert_eq!(child["allergies"], "réaction sévère, traces comprises");
    let lea = child["id"].as_i64().unwrap();
    let enrollment = family
        .request_enrollment(lea, &["mon", "tue", "thu", "fri"])
        .await;
    fixtures::validate_enrollment(&app, enrollment).await;
    let kitchen = fixtures::staff(&app, "cuisine", Role::Kitchen, &[], &STAFF_HASH).await;
    let manager = fixtures::staff(&app, "gestion", Role::Manager, &[], &STAFF_HASH).await;
    Town {
        app,
        school_a,
        school_b,
        family,
        lea,
        kitchen,
        manager,
    }
}

fn peanut_menu() -> Value {
    json!({"dishes": [
        {"course": "starter", "name": "Carottes râpées", "quality_signs": ["organic"]},
        {"course": "main", "name": "Poulet sauce arachide", "allergens": ["peanuts", "milk"],
         "quality_signs": ["label_rouge"]},
        {"course": "side", "name": "Riz pilaf", "regimes": ["vegetarian"]},
        {"course": "dessert", "name": "Tarte aux noix", "allergens": ["gluten", "nuts", "eggs"],
         "quality_signs": ["home_made", "local"]},
    ]})
}

async fn set_menu(member: &StaffMember, date: &str, body: Value) -> reqwest::Response {
    member
        .call(
            Method::PUT,
            &format!("/api/v1/staff/menus/{date}"),
            Some(body),
        )
        .await
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.pool).await.unwrap()
}

#[tokio::test]
async fn a_peanut_dish_on_a_booked_day_warns_the_family_of_a_peanut_allergic_child() {
    let town = town().await;
    // Thursday 3 December is booked for Léa (her usual days).
    let response = set_menu(&town.kitchen, "2026-12-03", peanut_menu()).await;
    assert_eq!(response.status(), 200);
    let set: Value = response.json().await.unwrap();
    assert_eq!(set["saved"], true);
    assert_eq!(set["dishes"], 4);

    let calendar = town
        .family
        .call(
            Method::GET,
            &format!("/enfants/{}/calendrier?mois=2026-12", town.lea),
            None,
        )
        .await;
    assert_eq!(calendar.status(), 200);
    let html = calendar.text().await.unwrap();
    let day = &html[html.find("id=\"j-2026-12-03\"").unwrap()..];
    let day = &day[..day.find("</li>\n    <li").unwrap_or(day.len())];
    assert!(day.contains("Repas réservé"), "{day}");
    assert!(
        day.contains("⚠ Contient : arachides (allergie de Léa)"),
        "{day}"
    );
    assert!(day.contains("Poulet sauce arachide"), "{day}");
    assert!(day.contains("Allergènes : arachides, lait"), "{day}");
    // Friday has no menu: no warning there.
    let friday = &html[html.find("id=\"j-2026-12-04\"").unwrap()..];
    let friday = &friday[..friday.find("</li>").unwrap()];
    assert!(!friday.contains("Contient"), "{friday}");

    // The API says it too, to the family only.
    let menus: Value = town
        .family
        .call(
            Method::GET,
            "/api/v1/menus?from=2026-12-03&to=2026-12-03",
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(menus.as_array().unwrap().len(), 1, "{menus}");
    assert_eq!(menus[0]["school_id"], Value::Null);
    assert_eq!(
        menus[0]["dishes"][1]["allergens"],
        json!(["peanuts", "milk"])
    );
    let warnings = &menus[0]["warnings"];
    assert_eq!(warnings.as_array().unwrap().len(), 1, "{warnings}");
    assert_eq!(warnings[0]["child_id"], town.lea);
    assert_eq!(warnings[0]["allergens"], json!(["peanuts"]));
    assert_eq!(
        warnings[0]["message"],
        "⚠ Contient : arachides (allergie de Léa)"
    );
    let public: Value = reqwest::get(town.app.url("/api/v1/menus?from=2026-12-03&to=2026-12-03"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(public[0]["warnings"], json!([]), "no child for a stranger");

    // The home page shows today's menu with the warning.
    assert_eq!(
        set_menu(&town.kitchen, "2026-11-30", peanut_menu())
            .await
            .status(),
        200
    );
    let home = town.family.call(Method::GET, "/", None).await;
    let html = home.text().await.unwrap();
    assert!(html.contains("Menu d&#39;aujourd&#39;hui"), "{html}");
    assert!(
        html.contains("⚠ Contient : arachides (allergie de Léa)"),
        "{html}"
    );
    // The household page lists her allergens beside the details.
    let html = town
        .family
        .call(Method::GET, "/foyer", None)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Allergènes</dt><dd><span aria-hidden=\"true\">⚠</span> arachides"),
        "{html}"
    );
    assert!(html.contains("réaction sévère, traces comprises"), "{html}");
}

#[tokio::test]
async fn the_child_form_offers_the_fourteen_allergens_and_saves_the_ticked_ones() {
    let town = town().await;
    let html = town
        .family
        .call(Method::GET, "/enfants/nouveau", None)
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(html.matches("name=\"allergenes\"").count(), 14, "{html}");
    let response = town
        .family
        .client
        .post(town.app.url("/enfants/nouveau"))
        .header("origin", town.app.origin())
        .form(&[
            ("csrf", town.family.csrf.as_str()),
            ("prenom", "Hugo"),
            ("nom", "Martin"),
            ("naissance", "2018-05-02"),
            ("ecole", &town.school_b.to_string()),
            ("classe", "CE2"),
            ("regime", "standard"),
            ("allergenes", "milk"),
            ("allergenes", "sesame"),
            ("allergies", "lactose seulement"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "followed to the enrollment form");
    let children: Value = town
        .family
        .call(Method::GET, "/api/v1/children", None)
        .await
        .json()
        .await
        .unwrap();
    let hugo = children
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["first_name"] == "Hugo")
        .unwrap();
    assert_eq!(hugo["allergens"], json!(["milk", "sesame"]));
    assert_eq!(hugo["allergies"], "lactose seulement");
    // An unknown code is refused and nothing is added.
    let response = town
        .family
        .call(
            Method::POST,
            "/api/v1/children",
            Some(json!({
                "first_name": "Zoé", "last_name": "Martin", "birth_date": "2019-03-14",
                "school_id": town.school_a, "class_level": "CE1", "allergens": ["chocolate"]
            })),
        )
        .await;
    assert_eq!(response.status(), 422);
    assert_eq!(count(&town.app, "select count(*) from child").await, 2);
}

/// The schema's published rules (`menus-collectifs` 1.2.3), written here from its field list
/// and not from the code under test: required fields, patterns, allowed values, list syntax.
mod scdl_schema {
    use super::*;

    pub const FIELDS: [(&str, bool); 26] = [
        ("menuCollNom", true),
        ("menuCollSiret", true),
        ("menuEtablissementNom", true),
        ("menuEtablissementSiret", false),
        ("menuRestaurantNom", true),
        ("menuRestaurantInsee", false),
        ("menuRestaurantId", false),
        ("menuRestaurantIdType", true),
        ("menuRestaurantType", true),
        ("menuRestaurantConvive", true),
        ("menuDate", true),
        ("menuRepasType", true),
        ("menuPlatType", true),
        ("menuPlatNom", true),
        ("menuPlatCode", false),
        ("menuPlatSiqo", false),
        ("menuPlatLabel", false),
        ("menuPlatPrecision", false),
        ("menuPlatRegime", false),
        ("menuPlatAllergene", false),
        ("menuPlatTexture", false),
        ("menuPlatNutriscore", false),
        ("menuPlatPrix", false),
        ("menuPublicationDate", true),
        ("menuModificationDate", false),
        ("menuModificationInfo", false),
    ];

    const RESTAURANT_TYPES: &[&str] = &[
        "crèche",
        "maternelle",
        "élémentaire",
        "collège",
        "lycée",
        "université",
        "centre de formation",
        "administration",
        "résidence sénior",
        "EHPAD",
        "repas à domicile",
        "centre de loisirs",
        "restaurant d'entreprise",
        "autre",
    ];
    const ID_TYPES: &[&str] = &["SIRET", "EN", "autre", "sans"];
    const MEALS: &[&str] = &[
        "petit-déjeuner",
        "déjeuner",
        "goûter",
        "dîner",
        "collation",
        "pique-nique",
        "autre",
    ];
    const DISH_TYPES: &[&str] = &[
        "entrée",
        "plat principal",
        "garniture",
        "dessert",
        "produit laitier",
        "pain",
        "autre",
    ];
    const NUTRISCORES: &[&str] = &["A", "B", "C", "D", "E"];
    /// The official signs of quality and origin the schema names.
    const SIQO: &[&str] = &[
        "agriculture biologique",
        "appellation d'origine protégée",
        "appellation d'origine contrôlée",
        "indication géographique protégée",
        "spécialité traditionnelle garantie",
        "label rouge",
    ];
    /// The 14 allergens' usual French names (Annex II), with the schema's own spelling of its
    /// example `fruits à coques`.
    const ALLERGENS: &[&str] = &[
        "gluten",
        "céréales contenant du gluten",
        "crustacés",
        "œufs",
        "poissons",
        "arachides",
        "soja",
        "lait",
        "fruits à coque",
        "fruits à coques",
        "céleri",
        "moutarde",
        "graines de sésame",
        "anhydride sulfureux et sulfites",
        "lupin",
        "mollusques",
    ];
    const REGIMES: &[&str] = &[
        "végétarien",
        "sans viande",
        "sans porc",
        "sans sucre ajouté",
    ];

    fn digits(text: &str, n: usize) -> bool {
        text.chars().count() == n && text.chars().all(|c| c.is_ascii_digit())
    }

    /// `^([013-9]\d|2[AB1-9])\d{3}$`
    fn insee(text: &str) -> bool {
        let c: Vec<char> = text.chars().collect();
        c.len() == 5
            && match c[0] {
                '0' | '1' | '3'..='9' => c[1].is_ascii_digit(),
                '2' => matches!(c[1], 'A' | 'B' | '1'..='9'),
                _ => false,
            }
            && c[2..].iter().all(char::is_ascii_digit)
    }

    /// A list cell: a JSON array of strings, each allowed.
    fn list(text: &str, allowed: &[&str]) -> Result<(), String> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| format!("{text:?} is no list: {e}"))?;
        let items = value.as_array().ok_or(format!("{text:?} is no array"))?;
        if items.is_empty() {
            return Err("an empty list is written as an empty cell".into());
        }
        for item in items {
            let item = item.as_str().ok_or(format!("{item} is no string"))?;
            if !allowed.contains(&item) {
                return Err(format!("{item:?} is not an allowed value"));
            }
        }
        Ok(())
    }

    fn one_of(text: &str, allowed: &[&str]) -> Result<(), String> {
        if allowed.contains(&text) {
            Ok(())
        } else {
            Err(format!("{text:?} is not one of {allowed:?}"))
        }
    }

    fn date_time(text: &str) -> Result<(), String> {
        DateTime::parse_from_rfc3339(text)
            .map(|_| ())
            .map_err(|e| format!("{text:?}: {e}"))
    }

    /// Every problem of one line (field name and why), empty when the line is valid.
    pub fn check(line: &BTreeMap<&str, String>) -> Vec<String> {
        let mut problems = Vec::new();
        for (field, required) in FIELDS {
            let Some(value) = line.get(field) else {
                problems.push(format!("{field}: missing"));
                continue;
            };
            if value.is_empty() {
                if required {
                    problems.push(format!("{field}: required"));
                }
                continue;
            }
            let result = match field {
                "menuCollSiret" | "menuEtablissementSiret" => digits(value, 14)
                    .then_some(())
                    .ok_or(format!("{value:?} is not ^\\d{{14}}$")),
                "menuRestaurantInsee" => insee(value)
                    .then_some(())
                    .ok_or(format!("{value:?} is no INSEE code")),
                "menuRestaurantIdType" => one_of(value, ID_TYPES),
                "menuRestaurantType" => one_of(value, RESTAURANT_TYPES),
                "menuDate" => NaiveDate::parse_from_str(value, "%Y-%m-%d")
                    .ok()
                    .filter(|d| d.format("%Y-%m-%d").to_string() == *value)
                    .map(|_| ())
                    .ok_or(format!("{value:?} is not YYYY-MM-DD")),
                "menuRepasType" => one_of(value, MEALS),
                "menuPlatType" => one_of(value, DISH_TYPES),
                "menuPlatNom" => (value.chars().count() < 160)
                    .then_some(())
                    .ok_or("160 characters or more".into()),
                "menuPlatCode" => (value.chars().count() < 16)
                    .then_some(())
                    .ok_or("16 characters or more".into()),
                "menuPlatSiqo" => list(value, SIQO),
                "menuPlatRegime" => list(value, REGIMES),
                "menuPlatAllergene" => list(value, ALLERGENS),
                "menuPlatTexture" => serde_json::from_str::<Vec<String>>(value)
                    .map(|_| ())
                    .map_err(|e| e.to_string()),
                "menuPlatNutriscore" => one_of(value, NUTRISCORES),
                "menuPlatPrix" => value
                    .parse::<f64>()
                    .ok()
                    .filter(|_| value.chars().all(|c| c.is_ascii_digit() || c == '.'))
                    .map(|_| ())
                    .ok_or(format!("{value:?} is no decimal number")),
                "menuPublicationDate" | "menuModificationDate" => date_time(value),
                _ => Ok(()),
            };
            if let Err(why) = result {
                problems.push(format!("{field}: {why}"));
            }
        }
        // The identifier's type says what the identifier is.
        let id = line.get("menuRestaurantId").map_or("", String::as_str);
        match line.get("menuRestaurantIdType").map(String::as_str) {
            Some("sans") if !id.is_empty() => {
                problems.push("menuRestaurantId: set for `sans`".into())
            }
            Some("SIRET") if !digits(id, 14) => problems.push("menuRestaurantId: no SIRET".into()),
            Some("EN") if id.chars().count() != 8 => {
                problems.push("menuRestaurantId: no UAI".into())
            }
            _ => {}
        }
        problems
    }

    /// RFC 4180: `,` between cells, `"` around those that need it, `""` for a quote.
    pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
        let mut rows = Vec::new();
        let mut row = Vec::new();
        let mut cell = String::new();
        let mut quoted = false;
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match (quoted, c) {
                (true, '"') if chars.peek() == Some(&'"') => {
                    chars.next();
                    cell.push('"');
                }
                (true, '"') => quoted = false,
                (true, c) => cell.push(c),
                (false, '"') => quoted = true,
                (false, ',') => row.push(std::mem::take(&mut cell)),
                (false, '\r') => {}
                (false, '\n') => {
                    row.push(std::mem::take(&mut cell));
                    rows.push(std::mem::take(&mut row));
                }
                (false, c) => cell.push(c),
            }
        }
        assert!(!quoted, "a quote left open");
        if !cell.is_empty() || !row.is_empty() {
            row.push(cell);
            rows.push(row);
        }
        rows
    }
}

async fn export(app: &TestApp, query: &str) -> (Vec<String>, Vec<BTreeMap<&'static str, String>>) {
    let response = reqwest::get(app.url(&format!("/donnees/menus-collectifs.csv{query}")))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    let text = response.text().await.unwrap();
    let mut rows = scdl_schema::parse_csv(&text).into_iter();
    let header = rows.next().expect("a header");
    let lines = rows
        .map(|row| {
            assert_eq!(row.len(), header.len(), "{row:?}");
            scdl_schema::FIELDS
                .iter()
                .map(|(f, _)| {
                    let i = header.iter().position(|h| h == f).expect("every field");
                    (*f, row[i].clone())
                })
                .collect()
        })
        .collect();
    (header, lines)
}

#[tokio::test]
async fn the_scdl_export_passes_every_rule_of_the_schema_and_a_tampered_line_does_not() {
    let town = town().await;
    assert_eq!(
        set_menu(&town.kitchen, "2026-12-03", peanut_menu())
            .await
            .status(),
        200
    );
    let snack = json!({"dishes": [
        {"course": "bread", "name": "Pain de campagne", "allergens": ["gluten"]},
        {"course": "dairy", "name": "Comté AOP", "allergens": ["milk"], "quality_signs": ["aop"]},
        {"course": "snack", "name": "Compote \"maison\", sans sucre", "regimes": ["no_added_sugar"]},
    ]});
    assert_eq!(
        set_menu(&town.manager, "2026-12-04", snack).await.status(),
        200
    );
    let (header, lines) = export(&town.app, "?du=2026-11-30&au=2026-12-04").await;
    let fields: Vec<&str> = scdl_schema::FIELDS.iter().map(|(f, _)| *f).collect();
    assert_eq!(header, fields, "the schema's field names, in its order");
    // 4 + 3 dishes, served in both schools.
    assert_eq!(lines.len(), 14);
    for line in &lines {
        let problems = scdl_schema::check(line);
        assert!(problems.is_empty(), "{problems:?} in {line:?}");
    }
    let main = lines
        .iter()
        .find(|l| l["menuPlatNom"] == "Poulet sauce arachide")
        .unwrap();
    assert_eq!(main["menuPlatAllergene"], r#"["arachides","lait"]"#);
    assert_eq!(main["menuPlatSiqo"], r#"["label rouge"]"#);
    assert_eq!(main["menuPlatType"], "plat principal");
    assert_eq!(main["menuRepasType"], "déjeuner");
    assert_eq!(main["menuDate"], "2026-12-03");
    assert_eq!(main["menuCollSiret"], "21990123400019");
    let tart = lines
        .iter()
        .find(|l| l["menuPlatNom"] == "Tarte aux noix")
        .unwrap();
    assert_eq!(
        tart["menuPlatAllergene"],
        r#"["gluten","œufs","fruits à coques"]"#
    );
    assert_eq!(tart["menuPlatLabel"], "produit local;fait maison");
    assert_eq!(tart["menuPlatSiqo"], "");
    let snack = lines.iter().find(|l| l["menuPlatType"] == "autre").unwrap();
    assert_eq!(snack["menuRepasType"], "goûter");
    assert_eq!(snack["menuPlatNom"], "Compote \"maison\", sans sucre");
    assert_eq!(snack["menuPlatRegime"], r#"["sans sucre ajouté"]"#);

    // The validator is no rubber stamp: each tampered field fails it.
    for (field, bad) in [
        ("menuCollSiret", "2199012340001"),
        ("menuCollNom", ""),
        ("menuRestaurantInsee", "2C123"),
        ("menuRestaurantType", "école"),
        ("menuDate", "03/12/2026"),
        ("menuRepasType", "dejeuner"),
        ("menuPlatType", "plat"),
        ("menuPlatAllergene", "[lait]"),
        ("menuPlatAllergene", r#"["chocolat"]"#),
        ("menuPlatAllergene", "arachides, lait"),
        ("menuPlatSiqo", r#"["bio"]"#),
        ("menuPublicationDate", "2026-12-01"),
    ] {
        let mut tampered = main.clone();
        tampered.insert(field, bad.to_owned());
        assert!(
            !scdl_schema::check(&tampered).is_empty(),
            "{field} = {bad:?} passed"
        );
    }
    let mut long = main.clone();
    long.insert("menuPlatNom", "x".repeat(160));
    assert!(!scdl_schema::check(&long).is_empty());
    // A name of 160 characters is refused when entered.
    let response = set_menu(
        &town.kitchen,
        "2026-12-07",
        json!({"dishes": [{"course": "main", "name": "x".repeat(160)}]}),
    )
    .await;
    assert_eq!(response.status(), 422);
}

#[tokio::test]
async fn a_schools_own_menu_replaces_the_communes_that_day() {
    let town = town().await;
    assert_eq!(
        set_menu(&town.kitchen, "2026-12-03", peanut_menu())
            .await
            .status(),
        200
    );
    let own = json!({"school_id": town.school_b, "dishes": [
        {"course": "main", "name": "Omelette aux fines herbes", "allergens": ["eggs"]},
    ]});
    assert_eq!(
        set_menu(&town.manager, "2026-12-03", own).await.status(),
        200
    );

    let served = |school: i64| {
        let url = town.app.url(&format!(
            "/api/v1/menus?from=2026-12-03&to=2026-12-03&school_id={school}"
        ));
        async move {
            let menus: Value = reqwest::get(url).await.unwrap().json().await.unwrap();
            menus
        }
    };
    let b = served(town.school_b).await;
    assert_eq!(b.as_array().unwrap().len(), 1, "{b}");
    assert_eq!(b[0]["school_id"], town.school_b);
    assert_eq!(b[0]["dishes"][0]["name"], "Omelette aux fines herbes");
    assert_eq!(b[0]["dishes"].as_array().unwrap().len(), 1);
    let a = served(town.school_a).await;
    assert_eq!(a[0]["school_id"], Value::Null);
    assert_eq!(a[0]["dishes"].as_array().unwrap().len(), 4);

    let (_, lines) = export(&town.app, "?du=2026-12-03&au=2026-12-03").await;
    let dishes = |school: &str| -> Vec<String> {
        lines
            .iter()
            .filter(|l| l["menuRestaurantNom"] == school)
            .map(|l| l["menuPlatNom"].clone())
            .collect()
    };
    assert_eq!(
        dishes("École Jean-Jaurès"),
        vec!["Omelette aux fines herbes"]
    );
    assert_eq!(dishes("École Jules-Ferry").len(), 4);

    // Removing the school's own menu gives it the commune's again.
    let removed = set_menu(
        &town.manager,
        "2026-12-03",
        json!({"school_id": town.school_b, "dishes": []}),
    )
    .await;
    assert_eq!(removed.json::<Value>().await.unwrap()["saved"], false);
    let b = served(town.school_b).await;
    assert_eq!(b[0]["school_id"], Value::Null);
    let actions: Vec<String> =
        sqlx::query_scalar("select action from audit_entry where action like 'menu%' order by id")
            .fetch_all(&town.app.pool)
            .await
            .unwrap();
    assert_eq!(actions, ["menu_set", "menu_set", "menu_deleted"]);
}

#[tokio::test]
async fn only_the_kitchen_and_managers_set_menus() {
    let town = town().await;
    let agent = fixtures::staff(
        &town.app,
        "agent",
        Role::SchoolStaff,
        &[town.school_a],
        &STAFF_HASH,
    )
    .await;
    let finance = fixtures::staff(&town.app, "finances", Role::Finance, &[], &STAFF_HASH).await;
    let family = town
        .family
        .call(
            Method::PUT,
            "/api/v1/staff/menus/2026-12-03",
            Some(peanut_menu()),
        )
        .await;
    assert_eq!(family.status(), StatusCode::FORBIDDEN);
    for member in [&agent, &finance] {
        let response = set_menu(member, "2026-12-03", peanut_menu()).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{}", member.email);
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["code"], "forbidden");
    }
    let anonymous = reqwest::Client::new()
        .put(town.app.url("/api/v1/staff/menus/2026-12-03"))
        .header("origin", town.app.origin())
        .json(&peanut_menu())
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(count(&town.app, "select count(*) from menu_day").await, 0);
    assert_eq!(
        set_menu(&town.kitchen, "2026-12-03", peanut_menu())
            .await
            .status(),
        200
    );
    assert_eq!(
        set_menu(&town.manager, "2026-12-03", peanut_menu())
            .await
            .status(),
        200,
        "setting the same day again replaces it"
    );
    assert_eq!(count(&town.app, "select count(*) from menu_day").await, 1);
    assert_eq!(count(&town.app, "select count(*) from dish").await, 4);
    // A date outside every school year, an unknown code, an unknown school: refused.
    for (date, body, code) in [
        ("2026-08-10", peanut_menu(), "not_a_service_day"),
        (
            "2026-12-04",
            json!({"dishes": [{"course": "main", "name": "Frites", "allergens": ["chocolate"]}]}),
            "validation",
        ),
        (
            "2026-12-04",
            json!({"dishes": [{"course": "aperitif", "name": "Chips"}]}),
            "validation",
        ),
        (
            "2026-12-04",
            json!({"school_id": 999_999, "dishes": [{"course": "main", "name": "Frites"}]}),
            "validation",
        ),
    ] {
        let response = set_menu(&town.kitchen, date, body.clone()).await;
        assert_eq!(response.status(), 422, "{body}");
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["code"], code, "{problem}");
    }
    assert_eq!(count(&town.app, "select count(*) from menu_day").await, 1);
}

/// A file posted as a browser's file input sends it.
async fn post_file(member: &StaffMember, app: &TestApp, csv: &str) -> reqwest::Response {
    let boundary = "----cantine-test-boundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"fichier\"; filename=\"menus.csv\"\r\n\
         Content-Type: text/csv\r\n\r\n{csv}\r\n--{boundary}--\r\n",
        member.csrf
    );
    member
        .client
        .post(app.url("/gestion/menus/import"))
        .header("origin", app.origin())
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_bad_import_line_is_named_by_its_number_and_nothing_of_the_file_is_written() {
    let town = town().await;
    // What was entered before must survive a refused file.
    assert_eq!(
        set_menu(&town.kitchen, "2026-12-03", peanut_menu())
            .await
            .status(),
        200
    );
    let bad = "date;école;type;plat;allergènes;régimes;qualité\n\
               07/12/2026;;entrée;Salade verte;;;bio\n\
               03/12/2026;;plat principal;Lasagnes;gluten|lait|chocolat;;\n\
               2026-12-08;École Inconnue;dessert;Pomme;;;\n";
    let response = post_file(&town.manager, &town.app, bad).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    assert!(
        html.contains("Fichier refusé : rien n'a été importé"),
        "{html}"
    );
    assert!(
        html.contains("Ligne 3 : allergène inconnu « chocolat »"),
        "{html}"
    );
    assert!(
        html.contains("Ligne 4 : école inconnue « École Inconnue »"),
        "{html}"
    );
    assert!(!html.contains("Ligne 2 "), "{html}");
    assert_eq!(count(&town.app, "select count(*) from menu_day").await, 1);
    assert_eq!(count(&town.app, "select count(*) from dish").await, 4);
    let names: Vec<String> = sqlx::query_scalar("select name from dish order by position")
        .fetch_all(&town.app.pool)
        .await
        .unwrap();
    assert_eq!(names[1], "Poulet sauce arachide", "3 December untouched");
    assert_eq!(
        count(
            &town.app,
            "select count(*) from audit_entry where action = 'menus_imported'"
        )
        .await,
        0
    );

    // Corrected, the whole file goes in: 3 December replaced, two days added.
    let good = bad
        .replace("|chocolat", "")
        .replace("École Inconnue", "ecole jean-jaures");
    let response = post_file(&town.manager, &town.app, &good).await;
    assert_eq!(response.status(), 200, "followed to the week's menus");
    assert_eq!(response.url().path(), "/gestion/menus");
    let html = response.text().await.unwrap();
    assert!(
        html.contains("Import réussi : 3 menus du jour, 3 plats."),
        "{html}"
    );
    assert_eq!(count(&town.app, "select count(*) from menu_day").await, 3);
    assert_eq!(count(&town.app, "select count(*) from dish").await, 3);
    let lasagne: (Vec<String>, Option<i64>) = sqlx::query_as(
        "select d.allergens, m.school_id from dish d join menu_day m on m.id = d.menu_day_id
         where d.name = 'Lasagnes'",
    )
    .fetch_one(&town.app.pool)
    .await
    .unwrap();
    assert_eq!(
        lasagne,
        (vec!["gluten".to_owned(), "milk".to_owned()], None)
    );
    let pomme: Option<i64> = sqlx::query_scalar(
        "select m.school_id from dish d join menu_day m on m.id = d.menu_day_id where d.name = 'Pomme'",
    )
    .fetch_one(&town.app.pool)
    .await
    .unwrap();
    assert_eq!(pomme, Some(town.school_b));
}

#[tokio::test]
async fn the_day_form_saves_a_menu_and_a_refused_one_keeps_what_was_typed() {
    let town = town().await;
    let page = town
        .kitchen
        .call(Method::GET, "/gestion/menus/2026-12-07", None)
        .await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("name=\"plat-1-allergenes\" type=\"checkbox\" value=\"peanuts\""),
        "{html}"
    );
    let csrf = town.kitchen.csrf.clone();
    let post = |fields: Vec<(&'static str, String)>| {
        let request = town
            .kitchen
            .client
            .post(town.app.url("/gestion/menus/2026-12-07"))
            .header("origin", town.app.origin())
            .form(&fields);
        async move { request.send().await.unwrap() }
    };
    let too_long = "y".repeat(160);
    let refused = post(vec![
        ("csrf", csrf.clone()),
        ("ecole", String::new()),
        ("plat-0-type", "starter".into()),
        ("plat-0-fixe", "1".into()),
        ("plat-0-nom", "Betteraves".into()),
        ("plat-1-type", "main".into()),
        ("plat-1-fixe", "1".into()),
        ("plat-1-nom", too_long),
        ("plat-1-allergenes", "peanuts".into()),
        ("action", "enregistrer".into()),
    ])
    .await;
    assert_eq!(refused.status(), 422);
    let html = refused.text().await.unwrap();
    assert!(
        html.contains("Le nom du plat est obligatoire (159 caractères au plus)."),
        "{html}"
    );
    assert!(html.contains("value=\"Betteraves\""), "{html}");
    assert_eq!(count(&town.app, "select count(*) from menu_day").await, 0);

    let saved = post(vec![
        ("csrf", csrf.clone()),
        ("ecole", town.school_a.to_string()),
        ("plat-0-type", "starter".into()),
        ("plat-0-fixe", "1".into()),
        ("plat-0-nom", "Betteraves".into()),
        ("plat-1-type", "main".into()),
        ("plat-1-fixe", "1".into()),
        ("plat-1-nom", "Satay de poulet".into()),
        ("plat-1-allergenes", "peanuts".into()),
        ("plat-1-qualite", "label_rouge".into()),
        ("plat-7-type", "main".into()),
        ("plat-7-nom", String::new()),
        ("action", "enregistrer".into()),
    ])
    .await;
    assert_eq!(saved.status(), 200);
    assert_eq!(saved.url().path(), "/gestion/menus");
    let html = saved.text().await.unwrap();
    assert!(html.contains("Menu enregistré."), "{html}");
    assert!(html.contains("Satay de poulet"), "{html}");
    assert!(html.contains("École Jules-Ferry"), "{html}");
    assert_eq!(count(&town.app, "select count(*) from dish").await, 2);
    let school: Option<i64> = sqlx::query_scalar("select school_id from menu_day")
        .fetch_one(&town.app.pool)
        .await
        .unwrap();
    assert_eq!(school, Some(town.school_a));
    // The family of Léa (school A) is warned on Monday 7 December.
    let html = town
        .family
        .call(
            Method::GET,
            &format!("/enfants/{}/calendrier?mois=2026-12", town.lea),
            None,
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("⚠ Contient : arachides (allergie de Léa)"),
        "{html}"
    );
    // A wrong token is refused (sent without `Origin`, the hidden field is what counts).
    let forged = town
        .kitchen
        .client
        .post(town.app.url("/gestion/menus/2026-12-07"))
        .form(&[("csrf", "faux"), ("action", "supprimer")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert_eq!(count(&town.app, "select count(*) from menu_day").await, 1);
}

#[tokio::test]
async fn the_demo_warns_the_martins_of_the_peanut_dish_on_a_booked_day() {
    let app = TestApp::builder().clock(monday_9am()).spawn().await;
    let password = "techniville-demo";
    cantine::demo::seed(&app.pool, &app.rules(), Some(password.into()), None)
        .await
        .unwrap();
    // This week and next, Monday, Tuesday, Thursday, Friday; one school's own Friday.
    assert_eq!(count(&app, "select count(*) from menu_day").await, 9);
    // A demo seeded before menus existed gets them at its next `cantine demo`, once.
    sqlx::query("delete from menu_day")
        .execute(&app.pool)
        .await
        .unwrap();
    for _ in 0..2 {
        cantine::demo::seed(&app.pool, &app.rules(), Some(password.into()), None)
            .await
            .unwrap();
        assert_eq!(count(&app, "select count(*) from menu_day").await, 9);
    }
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let login = client
        .post(app.url("/api/v1/session"))
        .json(&json!({"email": "famille.martin@techniville.test", "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let children: Value = client
        .get(app.url("/api/v1/children"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let allergic = children
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["allergens"] == json!(["peanuts"]))
        .expect("a Martin child allergic to peanuts");
    let html = client
        .get(app.url(&format!(
            "/enfants/{}/calendrier?mois=2026-12",
            allergic["id"]
        )))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let day = &html[html.find("id=\"j-2026-12-03\"").unwrap()..];
    let day = &day[..day.find("</li>").unwrap()];
    assert!(day.contains("Repas réservé"), "{day}");
    let warning = format!(
        "⚠ Contient : arachides (allergie {})",
        cantine::http::fr::of(allergic["first_name"].as_str().unwrap())
    )
    .replace('\'', "&#39;");
    assert!(day.contains(&warning), "{day}");
    // The export covers the demo's schools.
    let (_, lines) = export(&app, "?du=2026-11-30&au=2026-12-11").await;
    assert!(lines.iter().all(|l| scdl_schema::check(l).is_empty()));
    assert!(
        lines
            .iter()
            .any(|l| l["menuRestaurantNom"] == "École Marie-Curie")
    );
}
