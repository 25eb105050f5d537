//! The vocabulary of the SCDL `menus-collectifs` schema (version 1.2.3), the national open-data
//! format in which French communes publish canteen menus: its field names, the allowed values
//! it gives in French, its list syntax, and the words a caterer's file may use for our codes.
//!
//! It is a data format, kept in this one module: the configuration checks a restaurant type
//! against it when it loads (the platform layer may not name a service), the open-data export
//! (`http::opendata`) writes its lines with it, and the caterer's import (`menus::import`)
//! reads French names with it. Pages word values with `http::fr`, not with this.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::menu::{Allergen, Course, QualitySign, Regime};

/// The schema's fields, in the order of its documentation: the export's header.
pub const FIELDS: [&str; 26] = [
    "menuCollNom",
    "menuCollSiret",
    "menuEtablissementNom",
    "menuEtablissementSiret",
    "menuRestaurantNom",
    "menuRestaurantInsee",
    "menuRestaurantId",
    "menuRestaurantIdType",
    "menuRestaurantType",
    "menuRestaurantConvive",
    "menuDate",
    "menuRepasType",
    "menuPlatType",
    "menuPlatNom",
    "menuPlatCode",
    "menuPlatSiqo",
    "menuPlatLabel",
    "menuPlatPrecision",
    "menuPlatRegime",
    "menuPlatAllergene",
    "menuPlatTexture",
    "menuPlatNutriscore",
    "menuPlatPrix",
    "menuPublicationDate",
    "menuModificationDate",
    "menuModificationInfo",
];

/// `menuPlatNom` must be under 160 characters: what a dish name may hold.
pub const MAX_DISH_NAME_CHARS: usize = 159;

/// `menuRestaurantType`: the kind of place where the meal is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RestaurantType {
    #[serde(rename = "crèche")]
    Creche,
    #[serde(rename = "maternelle")]
    Maternelle,
    #[serde(rename = "élémentaire")]
    Elementaire,
    #[serde(rename = "collège")]
    College,
    #[serde(rename = "lycée")]
    Lycee,
    #[serde(rename = "université")]
    Universite,
    #[serde(rename = "centre de formation")]
    CentreDeFormation,
    #[serde(rename = "administration")]
    Administration,
    #[serde(rename = "résidence sénior")]
    ResidenceSenior,
    #[serde(rename = "EHPAD")]
    Ehpad,
    #[serde(rename = "repas à domicile")]
    RepasADomicile,
    #[serde(rename = "centre de loisirs")]
    CentreDeLoisirs,
    #[serde(rename = "restaurant d'entreprise")]
    RestaurantDEntreprise,
    #[serde(rename = "autre")]
    Autre,
}

impl RestaurantType {
    pub const ALL: [RestaurantType; 14] = [
        Self::Creche,
        Self::Maternelle,
        Self::Elementaire,
        Self::College,
        Self::Lycee,
        Self::Universite,
        Self::CentreDeFormation,
        Self::Administration,
        Self::ResidenceSenior,
        Self::Ehpad,
        Self::RepasADomicile,
        Self::CentreDeLoisirs,
        Self::RestaurantDEntreprise,
        Self::Autre,
    ];

    /// The schema's value.
    pub fn name(self) -> &'static str {
        match self {
            Self::Creche => "crèche",
            Self::Maternelle => "maternelle",
            Self::Elementaire => "élémentaire",
            Self::College => "collège",
            Self::Lycee => "lycée",
            Self::Universite => "université",
            Self::CentreDeFormation => "centre de formation",
            Self::Administration => "administration",
            Self::ResidenceSenior => "résidence sénior",
            Self::Ehpad => "EHPAD",
            Self::RepasADomicile => "repas à domicile",
            Self::CentreDeLoisirs => "centre de loisirs",
            Self::RestaurantDEntreprise => "restaurant d'entreprise",
            Self::Autre => "autre",
        }
    }
}

impl fmt::Display for RestaurantType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Not one of the schema's restaurant types.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a restaurant type of the SCDL schema (crèche, maternelle, élémentaire, …, autre)"
)]
pub struct UnknownRestaurantType(pub String);

impl FromStr for RestaurantType {
    type Err = UnknownRestaurantType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|t| t.name() == s)
            .ok_or_else(|| UnknownRestaurantType(s.to_owned()))
    }
}

/// `menuPlatAllergene`: the schema gives examples (`lait`, `fruits à coques`), not a closed
/// list; these are the usual French names of Annex II.
pub fn allergen(a: Allergen) -> &'static str {
    match a {
        Allergen::Gluten => "gluten",
        Allergen::Crustaceans => "crustacés",
        Allergen::Eggs => "œufs",
        Allergen::Fish => "poissons",
        Allergen::Peanuts => "arachides",
        Allergen::Soybeans => "soja",
        Allergen::Milk => "lait",
        Allergen::Nuts => "fruits à coques",
        Allergen::Celery => "céleri",
        Allergen::Mustard => "moutarde",
        Allergen::Sesame => "graines de sésame",
        Allergen::Sulphites => "anhydride sulfureux et sulfites",
        Allergen::Lupin => "lupin",
        Allergen::Molluscs => "mollusques",
    }
}

/// `menuPlatType`. The snack is a dish of another meal (`menuRepasType` `goûter`): `autre`.
pub fn plat_type(c: Course) -> &'static str {
    match c {
        Course::Starter => "entrée",
        Course::Main => "plat principal",
        Course::Side => "garniture",
        Course::Dairy => "produit laitier",
        Course::Dessert => "dessert",
        Course::Bread => "pain",
        Course::Snack => "autre",
    }
}

/// `menuRepasType`: the snack is the afternoon `goûter`, every other course the lunch.
pub fn repas_type(c: Course) -> &'static str {
    match c {
        Course::Snack => "goûter",
        _ => "déjeuner",
    }
}

/// `menuPlatRegime`.
pub fn regime(r: Regime) -> &'static str {
    match r {
        Regime::Vegetarian => "végétarien",
        Regime::NoPork => "sans porc",
        Regime::NoAddedSugar => "sans sucre ajouté",
    }
}

/// `menuPlatSiqo`: the official signs of quality and origin; `None` for the others.
pub fn siqo(q: QualitySign) -> Option<&'static str> {
    match q {
        QualitySign::Organic => Some("agriculture biologique"),
        QualitySign::LabelRouge => Some("label rouge"),
        QualitySign::Aop => Some("appellation d'origine protégée"),
        QualitySign::Igp => Some("indication géographique protégée"),
        QualitySign::Local | QualitySign::HomeMade => None,
    }
}

/// `menuPlatLabel`: the commune's own labels, which are no official sign; `None` for SIQO.
pub fn label(q: QualitySign) -> Option<&'static str> {
    match q {
        QualitySign::Local => Some("produit local"),
        QualitySign::HomeMade => Some("fait maison"),
        _ => None,
    }
}

/// A list field: `["a","b"]`, each item a JSON string; an empty list is an empty cell (every
/// list field is optional).
pub fn list<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let items: Vec<String> = items
        .into_iter()
        .map(|item| {
            let mut quoted = String::with_capacity(item.len() + 2);
            quoted.push('"');
            for c in item.chars() {
                match c {
                    '"' => quoted.push_str("\\\""),
                    '\\' => quoted.push_str("\\\\"),
                    c if (c as u32) < 0x20 => quoted.push_str(&format!("\\u{:04x}", c as u32)),
                    c => quoted.push(c),
                }
            }
            quoted.push('"');
            quoted
        })
        .collect();
    if items.is_empty() {
        String::new()
    } else {
        format!("[{}]", items.join(","))
    }
}

/// `^\d{14}$`: a SIRET (SIREN 9 digits + NIC 5).
pub fn is_siret(text: &str) -> bool {
    text.len() == 14 && text.bytes().all(|b| b.is_ascii_digit())
}

/// `^([013-9]\d|2[AB1-9])\d{3}$`: an INSEE commune code (Corsica's `2A`/`2B` included).
pub fn is_insee(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 5
        && match (b[0], b[1]) {
            (b'2', second) => matches!(second, b'A' | b'B' | b'1'..=b'9'),
            (first, second) => first.is_ascii_digit() && second.is_ascii_digit(),
        }
        && b[2..].iter().all(u8::is_ascii_digit)
}

/// An Éducation nationale UAI: 7 digits (or `2A`/`2B` in Corsica) and a letter.
pub fn is_uai(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 8
        && b[..7]
            .iter()
            .enumerate()
            .all(|(i, c)| c.is_ascii_digit() || (i == 1 && matches!(c, b'A' | b'B')))
        && b[7].is_ascii_uppercase()
}

/// Lowercase, accents and ligatures folded, apostrophes unified, spaces collapsed: how the
/// caterer's words are compared (`Fruits à coque`, `fruits a coques`, `ŒUFS`).
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.trim().chars().flat_map(char::to_lowercase) {
        match c {
            'à' | 'â' | 'ä' => out.push('a'),
            'é' | 'è' | 'ê' | 'ë' => out.push('e'),
            'î' | 'ï' => out.push('i'),
            'ô' | 'ö' => out.push('o'),
            'ù' | 'û' | 'ü' => out.push('u'),
            'ç' => out.push('c'),
            'œ' => out.push_str("oe"),
            '’' | '`' => out.push('\''),
            '-' | '_' => out.push(' '),
            c if c.is_whitespace() => {
                if !out.ends_with(' ') {
                    out.push(' ');
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// A caterer's word for an allergen: our code or a French name (singular or plural).
pub fn read_allergen(text: &str) -> Option<Allergen> {
    let folded = fold(text);
    let singular = folded.trim_end_matches('s');
    Allergen::ALL.iter().copied().find(|&a| {
        let name = fold(allergen(a));
        let aliases: &[&str] = match a {
            Allergen::Gluten => &["cereales contenant du gluten", "ble"],
            Allergen::Fish => &["poisson"],
            Allergen::Nuts => &["fruits a coque", "fruit a coque", "noix"],
            Allergen::Sesame => &["sesame"],
            Allergen::Sulphites => &["sulfites", "sulfite", "anhydride sulfureux"],
            Allergen::Milk => &["lactose"],
            _ => &[],
        };
        a.code() == folded
            || name == folded
            || name.trim_end_matches('s') == singular
            || aliases.contains(&folded.as_str())
    })
}

/// A caterer's word for a course: our code, or the schema's `menuPlatType` (and `goûter`).
pub fn read_course(text: &str) -> Option<Course> {
    let folded = fold(text);
    Course::ALL.iter().copied().find(|&c| {
        let aliases: &[&str] = match c {
            Course::Starter => &["entree"],
            Course::Main => &["plat principal", "plat"],
            Course::Side => &["garniture", "accompagnement"],
            Course::Dairy => &["produit laitier", "laitage", "fromage"],
            Course::Dessert => &["dessert"],
            Course::Bread => &["pain"],
            Course::Snack => &["gouter"],
        };
        c.code() == folded || aliases.contains(&folded.as_str())
    })
}

/// A caterer's word for a regime: our code or the schema's French.
pub fn read_regime(text: &str) -> Option<Regime> {
    let folded = fold(text);
    Regime::ALL.iter().copied().find(|&r| {
        r.code() == folded.replace(' ', "_")
            || fold(regime(r)) == folded
            || (r == Regime::Vegetarian && folded == "vegetarienne")
    })
}

/// A caterer's word for a quality sign: our code, the SIQO's name or its acronym, the label.
pub fn read_quality_sign(text: &str) -> Option<QualitySign> {
    let folded = fold(text);
    QualitySign::ALL.iter().copied().find(|&q| {
        let aliases: &[&str] = match q {
            QualitySign::Organic => &["bio", "ab"],
            QualitySign::Aop => &["aoc", "appellation d'origine controlee"],
            QualitySign::Local => &["local"],
            _ => &[],
        };
        q.code() == folded.replace(' ', "_")
            || siqo(q).is_some_and(|n| fold(n) == folded)
            || label(q).is_some_and(|n| fold(n) == folded)
            || aliases.contains(&folded.as_str())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_has_the_schemas_twenty_six_fields() {
        assert_eq!(FIELDS.len(), 26);
        assert_eq!(FIELDS[0], "menuCollNom");
        assert_eq!(FIELDS[25], "menuModificationInfo");
    }

    #[test]
    fn lists_are_bracketed_quoted_json() {
        assert_eq!(
            list(["lait", "fruits à coques"]),
            r#"["lait","fruits à coques"]"#
        );
        assert_eq!(list([]), "");
        assert_eq!(list([r#"a "b""#]), r#"["a \"b\""]"#);
    }

    #[test]
    fn identifiers_follow_the_schemas_patterns() {
        assert!(is_siret("21990123400019"));
        assert!(!is_siret("2199012340001"));
        assert!(!is_siret("2199012340001A"));
        for good in ["75056", "2A004", "2B033", "97411", "01004"] {
            assert!(is_insee(good), "{good}");
        }
        for bad in ["20004", "2C004", "7505", "750561", "A5056"] {
            assert!(!is_insee(bad), "{bad}");
        }
        assert!(is_uai("0999001A"));
        assert!(!is_uai("0999001"));
        assert!(!is_uai("0999001a"));
    }

    #[test]
    fn every_value_has_its_french_name_and_reads_back() {
        for &a in Allergen::ALL {
            assert_eq!(read_allergen(allergen(a)), Some(a));
            assert_eq!(read_allergen(a.code()), Some(a));
        }
        assert_eq!(read_allergen("Fruits à coque"), Some(Allergen::Nuts));
        assert_eq!(read_allergen("ŒUFS"), Some(Allergen::Eggs));
        assert_eq!(read_allergen("Arachide"), Some(Allergen::Peanuts));
        assert_eq!(read_allergen("chocolat"), None);
        for &c in Course::ALL {
            assert_eq!(read_course(c.code()), Some(c));
        }
        assert_eq!(read_course("Plat principal"), Some(Course::Main));
        assert_eq!(read_course("goûter"), Some(Course::Snack));
        for &r in Regime::ALL {
            assert_eq!(read_regime(regime(r)), Some(r));
            assert_eq!(read_regime(r.code()), Some(r));
        }
        for &q in QualitySign::ALL {
            let name = siqo(q).or(label(q)).unwrap();
            assert_eq!(read_quality_sign(name), Some(q));
            assert_eq!(read_quality_sign(q.code()), Some(q));
            assert!(
                siqo(q).is_some() != label(q).is_some(),
                "{q}: one or the other"
            );
        }
        assert_eq!(read_quality_sign("Bio"), Some(QualitySign::Organic));
        for t in RestaurantType::ALL {
            assert_eq!(t.name().parse(), Ok(t));
        }
    }
}
