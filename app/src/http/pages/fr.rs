//! Dates and times written the French way, as plain text (templates escape it).

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Europe::Paris;

use crate::domain::weekdays::weekday_fr;

const MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

const MONTHS_SHORT: [&str; 12] = [
    "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.",
    "déc.",
];

fn day_number(day: u32) -> String {
    if day == 1 {
        "1er".to_owned()
    } else {
        day.to_string()
    }
}

pub fn month_name(month: u32) -> &'static str {
    MONTHS[(month as usize + 11) % 12]
}

/// "décembre 2026"
pub fn month_year(year: i32, month: u32) -> String {
    format!("{} {year}", month_name(month))
}

/// "jeudi 3 décembre"
pub fn long_date(date: NaiveDate) -> String {
    format!(
        "{} {} {}",
        weekday_fr(date.weekday()),
        day_number(date.day()),
        month_name(date.month())
    )
}

/// "jeudi 3 décembre 2026"
pub fn long_date_year(date: NaiveDate) -> String {
    format!("{} {}", long_date(date), date.year())
}

/// "jeudi 3 déc."
pub fn short_date(date: NaiveDate) -> String {
    format!(
        "{} {} {}",
        weekday_fr(date.weekday()),
        day_number(date.day()),
        MONTHS_SHORT[date.month0() as usize]
    )
}

/// "mardi 1er déc. à 10:00", in Paris time.
pub fn deadline(at: DateTime<Utc>) -> String {
    let local = at.with_timezone(&Paris);
    format!(
        "{} à {}",
        short_date(local.date_naive()),
        local.format("%H:%M")
    )
}

/// "de Lina", "d'Adam": French elides "de" before a vowel.
pub fn of(name: &str) -> String {
    let elided = name
        .chars()
        .next()
        .is_some_and(|c| "AEIOUYÂÉÈÊÎÏÔÛaeiouyâéèêîïôû".contains(c));
    if elided {
        format!("d'{name}")
    } else {
        format!("de {name}")
    }
}

/// "Lundi"
pub fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_the_french_way() {
        let d = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        assert_eq!(long_date(d), "mardi 1er décembre");
        assert_eq!(short_date(d), "mardi 1er déc.");
        assert_eq!(month_year(2027, 1), "janvier 2027");
        let winter = d.and_hms_opt(9, 0, 0).unwrap().and_utc();
        assert_eq!(deadline(winter), "mardi 1er déc. à 10:00");
        let summer = NaiveDate::from_ymd_opt(2027, 6, 1)
            .unwrap()
            .and_hms_opt(8, 0, 0)
            .unwrap()
            .and_utc();
        assert_eq!(deadline(summer), "mardi 1er juin à 10:00");
        assert_eq!(capitalized("lundi"), "Lundi");
        assert_eq!(of("Adam Martin"), "d'Adam Martin");
        assert_eq!(of("Élodie"), "d'Élodie");
        assert_eq!(of("Lina"), "de Lina");
    }
}
