//! Menus and what a child must not eat: the 14 allergens of Annex II of Regulation (EU)
//! No 1169/2011, the courses of a French school meal, regime flags and quality signs.
//!
//! Each value has one stable English code (`peanuts`, `main`, `label_rouge`) used on the wire,
//! in the database (the `text[]` columns of migration 0005 check the same lists) and in forms.
//! The French words and the SCDL `menus-collectifs` vocabulary are the edge's business.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::child::UnknownCode;

/// Declares a closed list of codes: the enum, `ALL`, `code()`, `Display` and a strict `FromStr`.
macro_rules! codes {
    ($(#[$doc:meta])* $name:ident, $kind:literal, { $($(#[$vdoc:meta])* $variant:ident = $code:literal,)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $code)] $variant,)+
        }

        impl $name {
            /// Every value, in the order pages list them.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The stored and wire code.
            pub fn code(self) -> &'static str {
                match self {
                    $($name::$variant => $code,)+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.code())
            }
        }

        impl FromStr for $name {
            type Err = UnknownCode;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::ALL.iter().copied().find(|v| v.code() == s).ok_or_else(|| UnknownCode {
                    kind: $kind,
                    value: s.to_owned(),
                    expected: concat!($($code, " "),+),
                })
            }
        }
    };
}

codes!(
    /// The 14 allergens that must be declared (Regulation (EU) No 1169/2011, Annex II).
    Allergen, "allergen", {
        /// Cereals containing gluten.
        Gluten = "gluten",
        Crustaceans = "crustaceans",
        Eggs = "eggs",
        Fish = "fish",
        Peanuts = "peanuts",
        Soybeans = "soybeans",
        Milk = "milk",
        /// Nuts (almonds, hazelnuts, walnuts…).
        Nuts = "nuts",
        Celery = "celery",
        Mustard = "mustard",
        Sesame = "sesame",
        /// Sulphur dioxide and sulphites above 10 mg/kg or 10 mg/l.
        Sulphites = "sulphites",
        Lupin = "lupin",
        Molluscs = "molluscs",
    }
);

codes!(
    /// The place of a dish in the meal.
    Course, "course", {
        Starter = "starter",
        Main = "main",
        /// The side dish served with the main (garniture).
        Side = "side",
        /// Cheese or yoghurt.
        Dairy = "dairy",
        Dessert = "dessert",
        Bread = "bread",
        /// The afternoon snack (goûter), where the commune serves one.
        Snack = "snack",
    }
);

codes!(
    /// What a dish suits.
    Regime, "regime", {
        /// No meat nor fish.
        Vegetarian = "vegetarian",
        /// Contains no pork: the alternative served to `no_pork` children.
        NoPork = "no_pork",
        NoAddedSugar = "no_added_sugar",
    }
);

codes!(
    /// Quality signs of the EGalim law and the commune's own labels.
    QualitySign, "quality sign", {
        /// Agriculture biologique.
        Organic = "organic",
        LabelRouge = "label_rouge",
        /// Appellation d'origine protégée (or contrôlée).
        Aop = "aop",
        /// Indication géographique protégée.
        Igp = "igp",
        /// From local producers.
        Local = "local",
        /// Cooked on site (fait maison).
        HomeMade = "home_made",
    }
);

/// The allergens a child must not eat that the dishes contain, each once, in `Allergen` order.
pub fn warnings<'a, I>(child: &[Allergen], dish_allergens: I) -> Vec<Allergen>
where
    I: IntoIterator<Item = &'a [Allergen]>,
{
    let mut found: Vec<Allergen> = dish_allergens
        .into_iter()
        .flatten()
        .copied()
        .filter(|a| child.contains(a))
        .collect();
    found.sort();
    found.dedup();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn there_are_fourteen_allergens_and_every_code_round_trips() {
        assert_eq!(Allergen::ALL.len(), 14);
        for &a in Allergen::ALL {
            assert_eq!(a.code().parse(), Ok(a));
            let value = toml::Value::try_from(a).unwrap();
            assert_eq!(value.as_str(), Some(a.code()));
        }
        for &c in Course::ALL {
            assert_eq!(c.code().parse(), Ok(c));
        }
        for &r in Regime::ALL {
            assert_eq!(r.code().parse(), Ok(r));
        }
        for &q in QualitySign::ALL {
            assert_eq!(q.code().parse(), Ok(q));
        }
    }

    #[test]
    fn unknown_codes_are_refused_with_the_list() {
        let err = "arachides".parse::<Allergen>().unwrap_err();
        assert_eq!(err.kind, "allergen");
        assert!(err.expected.contains("peanuts"), "{}", err.expected);
        assert!("Main".parse::<Course>().is_err());
    }

    #[test]
    fn warnings_name_each_concerning_allergen_once() {
        let dishes: [&[Allergen]; 3] = [
            &[Allergen::Milk, Allergen::Peanuts],
            &[Allergen::Gluten],
            &[Allergen::Peanuts],
        ];
        assert_eq!(
            warnings(&[Allergen::Peanuts, Allergen::Fish], dishes),
            vec![Allergen::Peanuts]
        );
        assert!(warnings(&[], dishes).is_empty());
        assert!(warnings(&[Allergen::Eggs], dishes).is_empty());
    }
}
