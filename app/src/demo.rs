//! The Techniville demonstration: three schools, forty families, a tariff grid, the current
//! school year and one pending absence with its certificate. Generated from a fixed seed, so
//! every demo is the same town.

use chrono::{Datelike, NaiveDate};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use sqlx::{PgPool, Postgres, Transaction};

use cantine_domain::calendar::SchoolYear;
use cantine_domain::ids::{AccountId, ChildId, EnrollmentId, HouseholdId, SchoolId};
use cantine_domain::roles::Role;
use cantine_domain::rules::Rules;

use crate::absences::{self, CertificateFiles, Declaration};
use crate::accounts::{self, password};
use crate::enrollments::{self, Decision};
use crate::staff;

#[path = "demo_billing.rs"]
mod billing;

pub const DOMAIN: &str = "techniville.test";
const FAMILIES: usize = 40;
const SCHOOLS: [(&str, &str); 3] = [
    ("École Jules-Ferry", "2 rue des Écoles, Techniville"),
    (
        "École Marie-Curie",
        "14 avenue de la République, Techniville",
    ),
    ("École Jean-Jaurès", "5 place du Marché, Techniville"),
];
const LAST_NAMES: [&str; 40] = [
    "Martin", "Bernard", "Petit", "Dubois", "Thomas", "Robert", "Richard", "Durand", "Leroy",
    "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David", "Bertrand", "Roux",
    "Vincent", "Fournier", "Morel", "Girard", "Andre", "Mercier", "Dupont", "Lambert", "Bonnet",
    "Francois", "Martinez", "Legrand", "Garnier", "Faure", "Rousseau", "Blanc", "Guerin", "Muller",
    "Henry", "Roussel", "Nicolas", "Perrin",
];
const ADULT_NAMES: [&str; 12] = [
    "Camille", "Julie", "Nicolas", "Sophie", "Thomas", "Aurélie", "Karim", "Nadia", "Julien",
    "Claire", "Mehdi", "Laura",
];
const CHILD_NAMES: [&str; 16] = [
    "Léa", "Hugo", "Chloé", "Louis", "Inès", "Gabriel", "Jade", "Adam", "Emma", "Raphaël",
    "Louise", "Arthur", "Alice", "Noah", "Lina", "Jules",
];
const LEVELS: [(&str, i32); 8] = [
    ("PS", 3),
    ("MS", 4),
    ("GS", 5),
    ("CP", 6),
    ("CE1", 7),
    ("CE2", 8),
    ("CM1", 9),
    ("CM2", 10),
];
/// Quotient familial bands in euros and meal prices in cents.
const TARIFFS: [(i32, Option<i32>, i32); 4] = [
    (0, Some(500), 150),
    (500, Some(900), 290),
    (900, Some(1400), 380),
    (1400, None, 450),
];
/// PAI packed meal, non-resident, adult and the surcharge of an unbooked meal, in cents.
const PAI_CENTS: i32 = 110;
const NON_RESIDENT_CENTS: i32 = 520;
const ADULT_CENTS: i32 = 600;
const UNBOOKED_SURCHARGE_CENTS: i32 = 100;
/// Monday, Tuesday, Thursday, Friday.
const USUAL_WEEKDAYS: [i16; 4] = [1, 2, 4, 5];

/// One staff account per role; the agent works at the first school.
pub const STAFF: [(&str, &str, &str, Role); 5] = [
    ("agent", "Awa", "Diallo", Role::SchoolStaff),
    ("cuisine", "Marc", "Lefort", Role::Kitchen),
    ("gestion", "Hélène", "Marchand", Role::Manager),
    ("finances", "Paul", "Chevalier", Role::Finance),
    ("admin", "Sandrine", "Roy", Role::Admin),
];

/// Seeds once; run again, it only resets the demo accounts' password if one is given, and the
/// staff's second factor if a secret is given.
pub async fn seed(
    pool: &PgPool,
    rules: &Rules<'_>,
    password: Option<String>,
    totp_secret: Option<Vec<u8>>,
) -> anyhow::Result<()> {
    let already = sqlx::query_scalar!(r#"select exists(select 1 from school) as "exists!""#)
        .fetch_one(pool)
        .await?;
    if already {
        match password {
            Some(pw) => {
                let hash = password::hash_off_thread(pw).await;
                let n = sqlx::query!(
                    "update account set password_hash = $1 where email like $2",
                    hash,
                    format!("%@{DOMAIN}"),
                )
                .execute(pool)
                .await?
                .rows_affected();
                println!("Demo already present; password of its {n} accounts reset.");
            }
            None => println!("Demo already present; nothing to do."),
        }
        if let Some(secret) = totp_secret {
            let mut tx = pool.begin().await?;
            for (name, ..) in STAFF {
                let email = format!("{name}@{DOMAIN}");
                if let Some(id) =
                    sqlx::query_scalar!("select id from account where email = $1", email)
                        .fetch_optional(&mut *tx)
                        .await?
                {
                    crate::accounts::reset_demo_secret(&mut tx, AccountId(id), &secret, rules.now)
                        .await?;
                }
            }
            tx.commit().await?;
            println!("Second factor of the staff accounts set to the secret given.");
        }
        // A demo seeded before menus existed gets its weeks of menus once.
        let menus = sqlx::query_scalar!(r#"select exists(select 1 from menu_day) as "exists!""#)
            .fetch_one(pool)
            .await?;
        if !menus {
            let days = seed_menus(pool, rules).await?;
            println!("Menus of {days} days added to the demo.");
        }
        return Ok(());
    }
    let (pw, generated) = match password {
        Some(pw) => (pw, false),
        None => (password::generate(), true),
    };
    let hash = {
        let pw = pw.clone();
        // Every demo account shares one hash: forty argon2 runs would only slow the demo down.
        password::hash_off_thread(pw).await
    };
    let label = rules.current_year()?;
    let year = rules
        .holidays
        .school_year(label)
        .ok_or_else(|| anyhow::anyhow!("no school year {label} in the holiday calendar"))?;
    let mut tx = pool.begin().await?;
    let (families, to_validate) = insert_town(&mut tx, &hash, year).await?;
    tx.commit().await?;
    let (secret, secret_generated) = match totp_secret {
        Some(secret) => (secret, false),
        None => (accounts::totp::new_secret(), true),
    };
    let first_school = sqlx::query_scalar!("select id from school order by id limit 1")
        .fetch_one(pool)
        .await?;
    for (name, first_name, last_name, role) in STAFF {
        let schools = if role == Role::SchoolStaff {
            vec![SchoolId(first_school)]
        } else {
            Vec::new()
        };
        staff::seed_member(
            pool,
            &format!("{name}@{DOMAIN}"),
            (first_name, last_name),
            role,
            &schools,
            (&hash, &secret),
            rules.now,
        )
        .await?;
    }
    // Validating through the domain books each child's usual days, as a manager's click would.
    // The demo town validated in August, so the whole year is booked, past weeks included.
    let august = Rules {
        now: cantine_domain::deadline::paris_to_utc(
            (year.first_day() - chrono::Duration::days(10))
                .and_hms_opt(12, 0, 0)
                .expect("valid time"),
        ),
        ..*rules
    };
    for enrollment in to_validate {
        enrollments::decide_enrollment(
            pool,
            &august,
            EnrollmentId(enrollment),
            None,
            Decision::Validate,
        )
        .await?;
    }

    let menus = seed_menus(pool, rules).await?;

    println!(
        "Techniville demo seeded: {} schools, {families} families, {menus} days of menus.",
        SCHOOLS.len()
    );
    println!(
        "Logins: famille.martin@{DOMAIN} (two children enrolled), famille.bernard@{DOMAIN} (pending enrollment), famille.petit@{DOMAIN} (unconfirmed)."
    );
    println!(
        "Staff: {} (roles {}), second factor already enrolled.",
        STAFF
            .map(|(name, ..)| format!("{name}@{DOMAIN}"))
            .join(", "),
        STAFF.map(|(.., role)| role.code()).join(", "),
    );
    if generated {
        println!("Password of every demo account (shown once): {pw}");
    }
    if secret_generated {
        println!(
            "Staff TOTP secret (shown once; add it to any authenticator app): {}",
            accounts::totp::to_base32(&secret)
        );
    } else {
        println!("Staff TOTP secret: the one given with --totp-secret.");
    }
    Ok(())
}

/// A minimal valid PDF of one A4 page showing `text` (ASCII letters, digits and spaces; any
/// other character becomes a space), with its cross-reference table computed: always the same
/// bytes for the same text, a few hundred of them.
pub fn minimal_pdf(text: &str) -> Vec<u8> {
    let text: String = text
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { ' ' })
        .collect();
    let stream = format!("BT /F1 18 Tf 72 770 Td ({text}) Tj ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_owned(),
        format!("<< /Length {} >>\nstream\n{stream}\nendstream", stream.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
    ];
    let mut pdf = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", i + 1).as_bytes());
    }
    let xref = pdf.len();
    pdf.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        pdf.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    pdf
}

/// One pending absence for the managers' queue: the Martin family's first child, ill from the
/// first service day on or after today (the school year's first day in summer) for a week,
/// with a certificate. Seeded once: nothing happens when any absence exists.
/// The previous month attended, invoiced and issued, once (also on a demo seeded before
/// billing existed).
pub async fn seed_billing(pool: &PgPool, rules: &Rules<'_>) -> anyhow::Result<()> {
    println!("{}", billing::seed(pool, rules).await?);
    Ok(())
}

pub async fn seed_absence(
    pool: &PgPool,
    rules: &Rules<'_>,
    files: &CertificateFiles,
) -> anyhow::Result<()> {
    let any = sqlx::query_scalar!(r#"select exists(select 1 from absence) as "exists!""#)
        .fetch_one(pool)
        .await?;
    if any {
        return Ok(());
    }
    let Some(martin) = sqlx::query!(
        "select a.id, a.household_id as \"household_id!\",
            (select min(c.id) from child c where c.household_id = a.household_id) as \"child!\"
         from account a where a.email = $1",
        format!("famille.martin@{DOMAIN}"),
    )
    .fetch_optional(pool)
    .await?
    else {
        return Ok(());
    };
    let label = rules.current_year()?;
    let year = rules
        .holidays
        .school_year(label)
        .ok_or_else(|| anyhow::anyhow!("no school year {label} in the holiday calendar"))?;
    let first = rules.today().max(year.first_day());
    let last = (first + chrono::Duration::days(6)).min(year.last_day());
    let declaration = Declaration {
        children: vec![ChildId(martin.child)],
        first_day: first,
        last_day: last,
        reason: cantine_domain::absence::Reason::Illness,
        comment: "Varicelle : certificat du médecin joint.".to_owned(),
    };
    let declared = absences::declare(
        pool,
        files,
        rules,
        (HouseholdId(martin.household_id), AccountId(martin.id)),
        &declaration,
        Some(minimal_pdf("Certificat medical Techniville")),
    )
    .await;
    match declared {
        Ok(_) => println!("One pending absence with its certificate, for famille.martin@{DOMAIN}."),
        // A week without any service day (a holiday week): the demo goes on without it.
        Err(e) => println!("No demo absence this week: {e}"),
    }
    Ok(())
}

async fn insert_town(
    tx: &mut Transaction<'_, Postgres>,
    hash: &str,
    year: &SchoolYear,
) -> anyhow::Result<(usize, Vec<i64>)> {
    let mut to_validate = Vec::new();
    let mut martin_allergic = false;
    let mut rng = StdRng::seed_from_u64(2026);
    let mut schools = Vec::new();
    for (name, address) in SCHOOLS {
        let id = sqlx::query_scalar!(
            "insert into school (name, address) values ($1, $2) returning id",
            name,
            address,
        )
        .fetch_one(&mut **tx)
        .await?;
        schools.push(id);
    }
    let first_day = year.first_day();
    let year_id = sqlx::query_scalar!(
        "insert into school_year (label, first_day, last_day) values ($1, $2, $3) returning id",
        year.label().to_string(),
        first_day,
        year.last_day(),
    )
    .fetch_one(&mut **tx)
    .await?;
    let tariff_id = sqlx::query_scalar!(
        "insert into tariff (school_year_id, applies_from, mode, pai_cents, non_resident_cents,
                             adult_cents, unbooked_surcharge_cents, carence_days)
         values ($1, $2, 'brackets', $3, $4, $5, $6, 1) returning id",
        year_id,
        first_day,
        PAI_CENTS,
        NON_RESIDENT_CENTS,
        ADULT_CENTS,
        UNBOOKED_SURCHARGE_CENTS,
    )
    .fetch_one(&mut **tx)
    .await?;
    for (qf_min, qf_max, meal) in TARIFFS {
        sqlx::query!(
            "insert into tariff_band (tariff_id, qf_min, qf_max, meal_price_cents)
             values ($1, $2, $3, $4)",
            tariff_id,
            qf_min,
            qf_max,
            meal,
        )
        .execute(&mut **tx)
        .await?;
    }

    for (index, last_name) in LAST_NAMES.iter().enumerate().take(FAMILIES) {
        let household = sqlx::query_scalar!("insert into household default values returning id")
            .fetch_one(&mut **tx)
            .await?;
        sqlx::query!(
            "insert into quotient_familial (household_id, amount_euros, applies_from, document)
             values ($1, $2, $3, 'Attestation CAF')",
            household,
            rng.gen_range(300..2000),
            first_day,
        )
        .execute(&mut **tx)
        .await?;
        let email = format!("famille.{}@{DOMAIN}", last_name.to_lowercase());
        // The Petit family has not clicked its confirmation link yet.
        let confirmed = *last_name != "Petit";
        let account = sqlx::query_scalar!(
            "insert into account (household_id, email, password_hash, first_name, last_name, phone, email_confirmed_at)
             values ($1, $2, $3, $4, $5, $6, case when $7 then now() end) returning id",
            household,
            &email,
            hash,
            *ADULT_NAMES.choose(&mut rng).expect("non-empty"),
            *last_name,
            format!("06 {:02} {:02} {:02} {:02}", index, rng.gen_range(0..100), rng.gen_range(0..100), rng.gen_range(0..100)),
            confirmed,
        )
        .fetch_one(&mut **tx)
        .await?;

        let children = match *last_name {
            "Martin" => 2,
            "Bernard" | "Petit" => 1,
            _ => rng.gen_range(1..=3),
        };
        let school = schools[index % schools.len()];
        for _ in 0..children {
            let (level, age) = *LEVELS.choose(&mut rng).expect("non-empty");
            let birth = NaiveDate::from_ymd_opt(
                first_day.year() - age,
                rng.gen_range(1..=12),
                rng.gen_range(1..=28),
            )
            .expect("valid date");
            let diet = ["standard", "standard", "standard", "vegetarian", "no_pork"]
                .choose(&mut rng)
                .expect("non-empty");
            let allergies = if rng.gen_ratio(1, 8) { "arachides" } else { "" };
            // The free text stays the details; the Martins' first child is allergic to peanuts
            // too, so that the demo shows the menus' warnings on a family's own pages.
            let first_martin = *last_name == "Martin" && !martin_allergic;
            martin_allergic |= *last_name == "Martin";
            let allergens: Vec<String> = if !allergies.is_empty() || first_martin {
                vec![cantine_domain::menu::Allergen::Peanuts.code().to_owned()]
            } else {
                Vec::new()
            };
            let details = if first_martin && allergies.is_empty() {
                "arachides, même en traces"
            } else {
                allergies
            };
            let child = sqlx::query_scalar!(
                "insert into child (household_id, first_name, last_name, birth_date, school_id, class_level, diet, allergies, allergens, pai)
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) returning id",
                household,
                *CHILD_NAMES.choose(&mut rng).expect("non-empty"),
                *last_name,
                birth,
                school,
                level,
                *diet,
                details,
                &allergens,
                !allergies.is_empty() && rng.gen_bool(0.5),
            )
            .fetch_one(&mut **tx)
            .await?;

            let status = match *last_name {
                "Martin" => Some("validated"),
                "Bernard" => Some("pending"),
                "Petit" => None,
                _ if rng.gen_ratio(3, 4) => Some("validated"),
                _ => None,
            };
            if let Some(status) = status {
                let enrollment = sqlx::query_scalar!(
                    "insert into enrollment (child_id, school_year_id, weekdays, requested_by)
                     values ($1, $2, $3, $4) returning id",
                    child,
                    year_id,
                    &USUAL_WEEKDAYS[..],
                    account,
                )
                .fetch_one(&mut **tx)
                .await?;
                if status == "validated" {
                    to_validate.push(enrollment);
                }
            }
        }
    }
    Ok((FAMILIES, to_validate))
}

/// The demo's menus, course by course: (course, name, allergens, regimes, quality signs).
type DemoDish = (
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
    &'static [&'static str],
);

/// Ten days of menus, served in turn. The third holds peanuts, on a day the Martins' first
/// child (allergic to them) is booked.
const DEMO_MENUS: [&[DemoDish]; 10] = [
    &[
        (
            "starter",
            "Carottes râpées vinaigrette",
            &["mustard"],
            &["vegetarian"],
            &["organic"],
        ),
        (
            "main",
            "Sauté de dinde au paprika",
            &[],
            &[],
            &["label_rouge"],
        ),
        ("side", "Riz pilaf", &[], &["vegetarian"], &[]),
        ("dairy", "Yaourt nature", &["milk"], &[], &["local"]),
        (
            "dessert",
            "Pomme",
            &[],
            &["vegetarian"],
            &["organic", "local"],
        ),
        ("bread", "Pain de campagne", &["gluten"], &[], &["local"]),
    ],
    &[
        (
            "starter",
            "Potage de légumes",
            &["celery"],
            &["vegetarian"],
            &["home_made"],
        ),
        (
            "main",
            "Filet de colin meunière",
            &["fish", "gluten"],
            &[],
            &[],
        ),
        (
            "side",
            "Purée de pommes de terre",
            &["milk"],
            &["vegetarian"],
            &["home_made"],
        ),
        ("dairy", "Comté", &["milk"], &[], &["aop"]),
        (
            "dessert",
            "Compote de poires",
            &[],
            &["vegetarian", "no_added_sugar"],
            &[],
        ),
        ("bread", "Pain", &["gluten"], &[], &[]),
    ],
    &[
        (
            "starter",
            "Salade de chou",
            &["mustard"],
            &["vegetarian"],
            &[],
        ),
        (
            "main",
            "Poulet sauce satay (cacahuètes)",
            &["peanuts", "soybeans"],
            &[],
            &["label_rouge"],
        ),
        (
            "side",
            "Nouilles sautées",
            &["gluten", "eggs", "sesame"],
            &[],
            &[],
        ),
        ("dairy", "Fromage blanc", &["milk"], &[], &[]),
        ("dessert", "Ananas frais", &[], &["vegetarian"], &[]),
        ("bread", "Pain", &["gluten"], &[], &[]),
    ],
    &[
        (
            "starter",
            "Betteraves en salade",
            &[],
            &["vegetarian"],
            &["organic"],
        ),
        (
            "main",
            "Lasagnes aux légumes",
            &["gluten", "milk", "eggs"],
            &["vegetarian"],
            &["home_made"],
        ),
        ("side", "Salade verte", &[], &["vegetarian"], &[]),
        ("dairy", "Emmental", &["milk"], &[], &[]),
        (
            "dessert",
            "Mousse au chocolat",
            &["milk", "eggs"],
            &[],
            &["home_made"],
        ),
        ("bread", "Pain", &["gluten"], &[], &[]),
    ],
    &[
        (
            "starter",
            "Concombre à la crème",
            &["milk"],
            &["vegetarian"],
            &[],
        ),
        (
            "main",
            "Bœuf bourguignon",
            &["sulphites", "celery"],
            &[],
            &["label_rouge", "local"],
        ),
        ("side", "Carottes vichy", &[], &["vegetarian"], &["organic"]),
        ("dairy", "Camembert", &["milk"], &[], &["aop"]),
        ("dessert", "Clémentines", &[], &["vegetarian"], &[]),
        (
            "bread",
            "Pain aux céréales",
            &["gluten", "sesame"],
            &[],
            &[],
        ),
    ],
    &[
        (
            "starter",
            "Œuf dur mayonnaise",
            &["eggs", "mustard"],
            &["vegetarian"],
            &[],
        ),
        (
            "main",
            "Dos de cabillaud sauce citron",
            &["fish", "milk"],
            &[],
            &[],
        ),
        ("side", "Haricots verts", &[], &["vegetarian"], &["local"]),
        ("dairy", "Petit-suisse", &["milk"], &[], &[]),
        (
            "dessert",
            "Gâteau aux noisettes",
            &["gluten", "eggs", "nuts", "milk"],
            &[],
            &["home_made"],
        ),
        ("bread", "Pain", &["gluten"], &[], &[]),
    ],
    &[
        (
            "starter",
            "Velouté de potiron",
            &["milk"],
            &["vegetarian"],
            &["organic"],
        ),
        (
            "main",
            "Chili sin carne",
            &[],
            &["vegetarian"],
            &["home_made"],
        ),
        ("side", "Riz complet", &[], &["vegetarian"], &["organic"]),
        ("dairy", "Tomme de Savoie", &["milk"], &[], &["igp"]),
        ("dessert", "Poire", &[], &["vegetarian"], &["local"]),
        ("bread", "Pain", &["gluten"], &[], &[]),
    ],
    &[
        (
            "starter",
            "Taboulé",
            &["gluten"],
            &["vegetarian"],
            &["home_made"],
        ),
        ("main", "Rôti de porc à la moutarde", &["mustard"], &[], &[]),
        ("main", "Omelette (sans porc)", &["eggs"], &["no_pork"], &[]),
        ("side", "Petits pois", &[], &["vegetarian"], &[]),
        ("dairy", "Yaourt aux fruits", &["milk"], &[], &["local"]),
        ("dessert", "Banane", &[], &["vegetarian"], &[]),
    ],
    &[
        (
            "starter",
            "Salade de lentilles",
            &["mustard"],
            &["vegetarian"],
            &["local"],
        ),
        (
            "main",
            "Moules marinières",
            &["molluscs", "sulphites"],
            &[],
            &[],
        ),
        ("side", "Frites au four", &[], &["vegetarian"], &[]),
        ("dairy", "Saint-Nectaire", &["milk"], &[], &["aop"]),
        ("dessert", "Crème vanille", &["milk", "eggs"], &[], &[]),
        ("bread", "Pain", &["gluten"], &[], &[]),
    ],
    &[
        (
            "starter",
            "Radis beurre",
            &["milk"],
            &["vegetarian"],
            &["organic"],
        ),
        (
            "main",
            "Hachis parmentier",
            &["milk", "celery"],
            &[],
            &["home_made"],
        ),
        ("side", "Salade verte", &[], &["vegetarian"], &[]),
        ("dairy", "Fromage de chèvre", &["milk"], &[], &[]),
        (
            "dessert",
            "Tarte aux pommes",
            &["gluten", "eggs", "milk"],
            &[],
            &["home_made"],
        ),
        (
            "snack",
            "Pain d'épices et lait",
            &["gluten", "milk"],
            &[],
            &[],
        ),
    ],
];

/// This week's and next week's menus, on the days the schools serve (Monday, Tuesday,
/// Thursday, Friday) inside the school year, and one school's own menu on this week's Friday.
/// Answers how many days were written.
async fn seed_menus(pool: &PgPool, rules: &Rules<'_>) -> anyhow::Result<usize> {
    use crate::menus::{self, NewDish};
    let today = rules.today();
    let monday = today - chrono::Duration::days(i64::from(today.weekday().num_days_from_monday()));
    let to_new = |dishes: &[DemoDish]| -> Vec<NewDish> {
        dishes
            .iter()
            .map(|(course, name, allergens, regimes, signs)| NewDish {
                course: (*course).to_owned(),
                name: (*name).to_owned(),
                allergens: allergens.iter().map(|s| (*s).to_owned()).collect(),
                regimes: regimes.iter().map(|s| (*s).to_owned()).collect(),
                quality_signs: signs.iter().map(|s| (*s).to_owned()).collect(),
            })
            .collect()
    };
    let mut days = menus::import::Days::new();
    let served = (0..14)
        .map(|i| monday + chrono::Duration::days(i))
        .filter(|d| USUAL_WEEKDAYS.contains(&(d.weekday().number_from_monday() as i16)))
        .filter(|d| rules.year_of(*d).is_some());
    for (i, date) in served.enumerate() {
        let dishes = menus::dishes(&to_new(DEMO_MENUS[i % DEMO_MENUS.len()]))?;
        days.insert((date, None), dishes);
    }
    let friday = monday + chrono::Duration::days(4);
    if days.contains_key(&(friday, None)) {
        let jaures = sqlx::query_scalar!("select id from school where name = $1", SCHOOLS[2].0)
            .fetch_one(pool)
            .await?;
        let own: &[DemoDish] = &[
            (
                "starter",
                "Soupe à l'oignon (classe de découverte)",
                &["gluten", "milk"],
                &["vegetarian"],
                &["home_made"],
            ),
            ("main", "Croque-monsieur", &["gluten", "milk"], &[], &[]),
            (
                "dessert",
                "Crêpe au sucre",
                &["gluten", "eggs", "milk"],
                &["vegetarian"],
                &["home_made"],
            ),
        ];
        days.insert(
            (friday, Some(SchoolId(jaures))),
            menus::dishes(&to_new(own))?,
        );
    }
    menus::seed(pool, rules.now, &days).await?;
    Ok(days.len())
}
