//! A day's menu as pages show it, families' and staff's alike: one line per dish with its
//! allergens, regimes and quality signs in words, and the warnings for the children who must
//! not eat some of it (a symbol and text, never a colour alone).

use cantine_domain::menu::Allergen;

use super::fr;
use crate::menus::{Dish, Menu};

pub(in crate::http) struct DishLine {
    /// "Plat"
    pub course: &'static str,
    pub name: String,
    /// "Allergènes : gluten, lait"; empty when none.
    pub allergens: String,
    /// "végétarien · bio · fait maison"; empty when none.
    pub signs: String,
}

impl DishLine {
    pub fn new(d: &Dish) -> Self {
        let signs: Vec<&str> = d
            .regimes
            .iter()
            .map(|r| fr::regime(*r))
            .chain(d.quality_signs.iter().map(|q| fr::quality_sign(*q)))
            .collect();
        Self {
            course: fr::course(d.course),
            name: d.name.clone(),
            allergens: if d.allergens.is_empty() {
                String::new()
            } else {
                format!("Allergènes : {}", fr::allergen_list(&d.allergens))
            },
            signs: signs.join(" · "),
        }
    }
}

/// A menu with the warnings for the children who eat it.
pub(in crate::http) struct MenuView {
    pub dishes: Vec<DishLine>,
    /// "⚠ Contient : arachides (allergie de Léa)", one per child concerned.
    pub warnings: Vec<String>,
}

impl MenuView {
    /// `children`: (first name, allergens) of those who eat this menu.
    pub fn new<'a>(
        menu: &Menu,
        children: impl IntoIterator<Item = (&'a str, &'a [Allergen])>,
    ) -> Self {
        Self {
            dishes: menu.dishes.iter().map(DishLine::new).collect(),
            warnings: children
                .into_iter()
                .filter_map(|(name, allergens)| {
                    let found = menu.warnings(allergens);
                    (!found.is_empty()).then(|| fr::allergen_warning(&found, name))
                })
                .collect(),
        }
    }
}
