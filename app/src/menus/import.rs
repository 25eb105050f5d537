//! A caterer's menu file: CSV, one line per dish, read whole before anything is written.
//!
//! The format (README, "Menus"): UTF-8 (a byte-order mark is skipped), `;` between cells (or
//! `,` when the header uses it), cells quoted with `"` when they hold the separator, a quote
//! or a line break. The first line is the header `date;école;type;plat;allergènes;régimes;
//! qualité` (case and accents ignored); the last three columns may be left empty:
//!
//! - `date`: `JJ/MM/AAAA` or `AAAA-MM-JJ`, inside a school year;
//! - `école`: a school's name as the town hall spells it (case and accents ignored), or empty
//!   for every school;
//! - `type`: `entrée`, `plat principal` (or `plat`), `garniture` (or `accompagnement`),
//!   `produit laitier`, `dessert`, `pain`, `goûter`, or our codes (`starter`, `main`…);
//! - `plat`: the dish's name, 1 to 159 characters;
//! - `allergènes`, `régimes`, `qualité`: lists separated by `,` or `|`, of French names
//!   (`arachides`, `fruits à coque`, `végétarien`, `bio`, `label rouge`, `fait maison`…) or
//!   codes (`peanuts`, `vegetarian`, `organic`…).
//!
//! Every bad line is reported with its number (the header is line 1, as a spreadsheet counts).

use std::collections::BTreeMap;

use chrono::NaiveDate;

use cantine_domain::ids::SchoolId;
use cantine_domain::scdl;

use super::{Dish, MAX_DISHES, NewDish, dish};
use crate::error::{ImportLine, ImportProblem, MenuProblem};

/// The header's columns, folded (`scdl::fold`).
pub const HEADER: [&str; 7] = [
    "date",
    "ecole",
    "type",
    "plat",
    "allergenes",
    "regimes",
    "qualite",
];
/// The most dish lines one file holds: a term of menus for several schools.
pub const MAX_LINES: usize = 3000;

/// The days of the file with their dishes, by (date, school); `None` is every school.
pub type Days = BTreeMap<(NaiveDate, Option<SchoolId>), Vec<Dish>>;

/// Reads the file; `date_ok` says whether a date is a day of a school year.
pub fn parse(
    text: &str,
    schools: &[(SchoolId, String)],
    date_ok: impl Fn(NaiveDate) -> bool,
) -> Result<Days, Vec<ImportProblem>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first_line = text.lines().next().unwrap_or("");
    let separator = if first_line.contains(';') { ';' } else { ',' };
    let records = records(text, separator)?;
    let problem = |line, kind| ImportProblem { line, kind };
    let mut records = records.into_iter();
    let header_ok = records.next().is_some_and(|(_, cells)| {
        cells.len() == HEADER.len() && cells.iter().zip(HEADER).all(|(c, h)| scdl::fold(c) == h)
    });
    if !header_ok {
        return Err(vec![problem(1, ImportLine::Header)]);
    }
    let folded_schools: Vec<(SchoolId, String)> = schools
        .iter()
        .map(|(id, name)| (*id, scdl::fold(name)))
        .collect();
    let mut days = Days::new();
    let mut problems = Vec::new();
    let mut lines = 0;
    for (line, cells) in records {
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        lines += 1;
        if lines > MAX_LINES {
            problems.push(problem(line, ImportLine::TooManyLines { max: MAX_LINES }));
            break;
        }
        match read_line(&cells, &folded_schools, &date_ok) {
            Ok((key, dish)) => {
                let day = days.entry(key).or_default();
                if day.len() == MAX_DISHES {
                    problems.push(problem(
                        line,
                        ImportLine::Menu(MenuProblem::TooManyDishes { max: MAX_DISHES }),
                    ));
                } else {
                    day.push(dish);
                }
            }
            Err(kind) => problems.push(problem(line, kind)),
        }
    }
    if problems.is_empty() && days.is_empty() {
        problems.push(problem(2, ImportLine::Empty));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    for dishes in days.values_mut() {
        dishes.sort_by_key(|d| d.course);
    }
    Ok(days)
}

type Key = (NaiveDate, Option<SchoolId>);

fn read_line(
    cells: &[String],
    schools: &[(SchoolId, String)],
    date_ok: &impl Fn(NaiveDate) -> bool,
) -> Result<(Key, Dish), ImportLine> {
    if !(4..=HEADER.len()).contains(&cells.len()) {
        return Err(ImportLine::Columns {
            expected: HEADER.len(),
            found: cells.len(),
        });
    }
    let cell = |i: usize| cells.get(i).map_or("", |c| c.trim());
    let date_text = cell(0);
    let date = NaiveDate::parse_from_str(date_text, "%d/%m/%Y")
        .or_else(|_| NaiveDate::parse_from_str(date_text, "%Y-%m-%d"))
        .map_err(|_| ImportLine::Date(date_text.to_owned()))?;
    if !date_ok(date) {
        return Err(ImportLine::OutsideSchoolYear(date));
    }
    let school = match cell(1) {
        "" => None,
        name => {
            let folded = scdl::fold(name);
            Some(
                schools
                    .iter()
                    .find(|(_, n)| *n == folded)
                    .map(|(id, _)| *id)
                    .ok_or_else(|| ImportLine::School(name.to_owned()))?,
            )
        }
    };
    let course = scdl::read_course(cell(2))
        .map(|c| c.code().to_owned())
        .ok_or_else(|| ImportLine::Menu(MenuProblem::Course(cell(2).to_owned())))?;
    let new = NewDish {
        course,
        name: cell(3).to_owned(),
        allergens: words(cell(4), scdl::read_allergen, MenuProblem::Allergen)?,
        regimes: words(cell(5), scdl::read_regime, MenuProblem::Regime)?,
        quality_signs: words(cell(6), scdl::read_quality_sign, MenuProblem::QualitySign)?,
    };
    let dish = dish(&new).map_err(ImportLine::Menu)?;
    Ok(((date, school), dish))
}

/// A list cell (`arachides, lait` or `peanuts|milk`) as codes.
fn words<T: std::fmt::Display>(
    cell: &str,
    read: fn(&str) -> Option<T>,
    unknown: fn(String) -> MenuProblem,
) -> Result<Vec<String>, ImportLine> {
    cell.split([',', '|'])
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(|w| {
            read(w)
                .map(|v| v.to_string())
                .ok_or_else(|| ImportLine::Menu(unknown(w.to_owned())))
        })
        .collect()
}

/// The file's records with the line each starts on. A quoted cell may hold the separator, a
/// doubled quote or a line break; a quote never closed is refused at its line.
fn records(text: &str, separator: char) -> Result<Vec<(usize, Vec<String>)>, Vec<ImportProblem>> {
    let mut records = Vec::new();
    let mut cells: Vec<String> = Vec::new();
    let mut cell = String::new();
    let mut line = 1;
    let mut start = 1;
    let mut quoted = false;
    let mut quote_line = 0;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => {
                if c == '\n' {
                    line += 1;
                }
                cell.push(c);
            }
            (false, '"') if cell.trim().is_empty() => {
                cell.clear();
                quoted = true;
                quote_line = line;
            }
            (false, c) if c == separator => cells.push(std::mem::take(&mut cell)),
            (false, '\r') => {}
            (false, '\n') => {
                cells.push(std::mem::take(&mut cell));
                records.push((start, std::mem::take(&mut cells)));
                line += 1;
                start = line;
            }
            (false, c) => cell.push(c),
        }
    }
    if quoted {
        return Err(vec![ImportProblem {
            line: quote_line,
            kind: ImportLine::Quote,
        }]);
    }
    if !cell.is_empty() || !cells.is_empty() {
        cells.push(cell);
        records.push((start, cells));
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cantine_domain::menu::{Allergen, Course, QualitySign, Regime};

    fn schools() -> Vec<(SchoolId, String)> {
        vec![
            (SchoolId(1), "École Jules-Ferry".to_owned()),
            (SchoolId(2), "École Jean-Jaurès".to_owned()),
        ]
    }

    const HEAD: &str = "date;école;type;plat;allergènes;régimes;qualité\n";

    #[test]
    fn a_good_file_gives_each_day_its_dishes_in_course_order() {
        let text = format!(
            "\u{feff}{HEAD}\
             07/12/2026;;dessert;Tarte aux noix;gluten, fruits à coque|œufs;;fait maison\n\
             07/12/2026;;plat principal;\"Poulet; sauce arachide\";arachides;;label rouge\n\
             2026-12-07;ecole jean-jaures;Plat;Omelette;eggs;végétarien;bio\n"
        );
        let days = parse(&text, &schools(), |_| true).unwrap();
        let d = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        let all = &days[&(d, None)];
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].course, Course::Main);
        assert_eq!(all[0].name, "Poulet; sauce arachide");
        assert_eq!(all[0].allergens, vec![Allergen::Peanuts]);
        assert_eq!(all[0].quality_signs, vec![QualitySign::LabelRouge]);
        assert_eq!(
            all[1].allergens,
            vec![Allergen::Gluten, Allergen::Eggs, Allergen::Nuts]
        );
        let own = &days[&(d, Some(SchoolId(2)))];
        assert_eq!(own[0].regimes, vec![Regime::Vegetarian]);
    }

    #[test]
    fn every_bad_line_is_named_by_its_number() {
        let text = format!(
            "{HEAD}\
             07/12/2026;;entrée;Carottes;;;\n\
             31/02/2026;;entrée;Carottes;;;\n\
             07/12/2026;École inconnue;entrée;Carottes;;;\n\
             \n\
             07/12/2026;;apéritif;Chips;;;\n\
             07/12/2026;;entrée;\"Betteraves\nen salade\";chocolat;;\n\
             07/12/2026;;entrée\n\
             01/08/2026;;entrée;Melon;;;\n"
        );
        let problems = parse(&text, &schools(), |d| d.month() != 8).unwrap_err();
        let lines: Vec<(usize, &ImportLine)> = problems.iter().map(|p| (p.line, &p.kind)).collect();
        assert_eq!(
            lines,
            vec![
                (3, &ImportLine::Date("31/02/2026".into())),
                (4, &ImportLine::School("École inconnue".into())),
                (6, &ImportLine::Menu(MenuProblem::Course("apéritif".into()))),
                (
                    7,
                    &ImportLine::Menu(MenuProblem::Allergen("chocolat".into()))
                ),
                (
                    9,
                    &ImportLine::Columns {
                        expected: 7,
                        found: 3
                    }
                ),
                (
                    10,
                    &ImportLine::OutsideSchoolYear(NaiveDate::from_ymd_opt(2026, 8, 1).unwrap())
                ),
            ]
        );
    }

    #[test]
    fn a_wrong_header_an_empty_file_and_an_open_quote_are_refused() {
        let kinds = |text: &str| -> Vec<ImportLine> {
            parse(text, &schools(), |_| true)
                .unwrap_err()
                .into_iter()
                .map(|p| p.kind)
                .collect()
        };
        assert_eq!(kinds("jour;plat\n"), vec![ImportLine::Header]);
        assert_eq!(kinds(""), vec![ImportLine::Header]);
        assert_eq!(kinds(HEAD), vec![ImportLine::Empty]);
        assert_eq!(
            kinds(&format!("{HEAD}07/12/2026;;entrée;\"Carottes;;;\n")),
            vec![ImportLine::Quote]
        );
        let long = "x".repeat(160);
        assert_eq!(
            kinds(&format!("{HEAD}07/12/2026;;entrée;{long};;;\n")),
            vec![ImportLine::Menu(MenuProblem::DishName { max: 159 })]
        );
    }

    #[test]
    fn a_comma_separated_file_is_read_too() {
        let text = "date,école,type,plat,allergènes,régimes,qualité\r\n\
                    2026-12-07,,dessert,Yaourt,\"lait, soja\",,bio\r\n";
        let days = parse(text, &schools(), |_| true).unwrap();
        let dishes = days.values().next().unwrap();
        assert_eq!(
            dishes[0].allergens,
            vec![Allergen::Soybeans, Allergen::Milk]
        );
    }

    use chrono::Datelike;
}
