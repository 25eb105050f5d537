//! French public holidays (jours fériés) of metropolitan France, computed for any year.
//!
//! They are computed rather than listed in the calendar file because they follow fixed rules
//! (three depend on Easter) and a commune should never have to maintain them. Alsace-Moselle's
//! two extra days (Good Friday, 26 December) are not included.

use chrono::{Datelike, Days, NaiveDate};

/// A French public holiday.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PublicHoliday {
    /// 1 January.
    NewYearsDay,
    /// The Monday after Easter Sunday.
    EasterMonday,
    /// 1 May.
    LabourDay,
    /// 8 May, Victory in Europe Day.
    VictoryInEurope,
    /// Easter Sunday + 39 days (a Thursday).
    Ascension,
    /// Easter Sunday + 50 days.
    WhitMonday,
    /// 14 July.
    BastilleDay,
    /// 15 August.
    Assumption,
    /// 1 November.
    AllSaints,
    /// 11 November.
    Armistice,
    /// 25 December.
    Christmas,
}

impl PublicHoliday {
    /// Every public holiday, in calendar order.
    pub const ALL: [PublicHoliday; 11] = [
        PublicHoliday::NewYearsDay,
        PublicHoliday::EasterMonday,
        PublicHoliday::LabourDay,
        PublicHoliday::VictoryInEurope,
        PublicHoliday::Ascension,
        PublicHoliday::WhitMonday,
        PublicHoliday::BastilleDay,
        PublicHoliday::Assumption,
        PublicHoliday::AllSaints,
        PublicHoliday::Armistice,
        PublicHoliday::Christmas,
    ];

    /// The holiday's usual French name, as shown to families.
    pub fn name_fr(self) -> &'static str {
        match self {
            PublicHoliday::NewYearsDay => "Jour de l'an",
            PublicHoliday::EasterMonday => "Lundi de Pâques",
            PublicHoliday::LabourDay => "Fête du Travail",
            PublicHoliday::VictoryInEurope => "Victoire 1945",
            PublicHoliday::Ascension => "Ascension",
            PublicHoliday::WhitMonday => "Lundi de Pentecôte",
            PublicHoliday::BastilleDay => "Fête nationale",
            PublicHoliday::Assumption => "Assomption",
            PublicHoliday::AllSaints => "Toussaint",
            PublicHoliday::Armistice => "Armistice 1918",
            PublicHoliday::Christmas => "Noël",
        }
    }

    /// The date of this holiday in `year` (`None` only at the edges of chrono's date range).
    pub fn date_in(self, year: i32) -> Option<NaiveDate> {
        let fixed = |month, day| NaiveDate::from_ymd_opt(year, month, day);
        let after_easter = |days| easter_sunday(year)?.checked_add_days(Days::new(days));
        match self {
            PublicHoliday::NewYearsDay => fixed(1, 1),
            PublicHoliday::EasterMonday => after_easter(1),
            PublicHoliday::LabourDay => fixed(5, 1),
            PublicHoliday::VictoryInEurope => fixed(5, 8),
            PublicHoliday::Ascension => after_easter(39),
            PublicHoliday::WhitMonday => after_easter(50),
            PublicHoliday::BastilleDay => fixed(7, 14),
            PublicHoliday::Assumption => fixed(8, 15),
            PublicHoliday::AllSaints => fixed(11, 1),
            PublicHoliday::Armistice => fixed(11, 11),
            PublicHoliday::Christmas => fixed(12, 25),
        }
    }

    /// The public holiday falling on `date`, if any.
    pub fn on(date: NaiveDate) -> Option<PublicHoliday> {
        PublicHoliday::ALL
            .into_iter()
            .find(|h| h.date_in(date.year()) == Some(date))
    }

    /// The public holidays of `year` with their dates, in calendar order.
    pub fn in_year(year: i32) -> Vec<(NaiveDate, PublicHoliday)> {
        PublicHoliday::ALL
            .into_iter()
            .filter_map(|h| Some((h.date_in(year)?, h)))
            .collect()
    }
}

impl std::fmt::Display for PublicHoliday {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name_fr())
    }
}

/// Easter Sunday of a Gregorian year, by the anonymous Gregorian algorithm
/// (Meeus/Jones/Butcher), valid for every year from 1583 on.
pub fn easter_sunday(year: i32) -> Option<NaiveDate> {
    let a = year.rem_euclid(19);
    let b = year.div_euclid(100);
    let c = year.rem_euclid(100);
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, u32::try_from(month).ok()?, u32::try_from(day).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Weekday;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn easter_sunday_matches_known_dates() {
        // Published dates of Easter Sunday.
        let known = [
            (2000, d(2000, 4, 23)),
            (2008, d(2008, 3, 23)),
            (2011, d(2011, 4, 24)),
            (2019, d(2019, 4, 21)),
            (2024, d(2024, 3, 31)),
            (2025, d(2025, 4, 20)),
            (2026, d(2026, 4, 5)),
            (2027, d(2027, 3, 28)),
            (2028, d(2028, 4, 16)),
            (2038, d(2038, 4, 25)),
        ];
        for (year, date) in known {
            assert_eq!(easter_sunday(year), Some(date), "Easter {year}");
        }
    }

    #[test]
    fn easter_is_always_a_sunday_between_22_march_and_25_april() {
        for year in 1583..=4099 {
            let easter = easter_sunday(year).unwrap();
            assert_eq!(easter.weekday(), Weekday::Sun, "{year}");
            assert!(
                easter >= d(year, 3, 22) && easter <= d(year, 4, 25),
                "{year}"
            );
        }
    }

    #[test]
    fn easter_based_holidays_of_2026_and_2027() {
        assert_eq!(
            PublicHoliday::on(d(2026, 4, 6)),
            Some(PublicHoliday::EasterMonday)
        );
        assert_eq!(
            PublicHoliday::on(d(2026, 5, 14)),
            Some(PublicHoliday::Ascension)
        );
        assert_eq!(
            PublicHoliday::on(d(2026, 5, 25)),
            Some(PublicHoliday::WhitMonday)
        );
        assert_eq!(
            PublicHoliday::on(d(2027, 3, 29)),
            Some(PublicHoliday::EasterMonday)
        );
        assert_eq!(
            PublicHoliday::on(d(2027, 5, 6)),
            Some(PublicHoliday::Ascension)
        );
        assert_eq!(
            PublicHoliday::on(d(2027, 5, 17)),
            Some(PublicHoliday::WhitMonday)
        );
    }

    #[test]
    fn ascension_is_a_thursday_and_whit_monday_a_monday() {
        for year in 1900..=2200 {
            let ascension = PublicHoliday::Ascension.date_in(year).unwrap();
            let whit = PublicHoliday::WhitMonday.date_in(year).unwrap();
            let easter_monday = PublicHoliday::EasterMonday.date_in(year).unwrap();
            assert_eq!(ascension.weekday(), Weekday::Thu);
            assert_eq!(whit.weekday(), Weekday::Mon);
            assert_eq!(easter_monday.weekday(), Weekday::Mon);
        }
    }

    #[test]
    fn fixed_holidays_have_their_french_names() {
        let names: Vec<(String, &str)> = PublicHoliday::in_year(2026)
            .into_iter()
            .map(|(date, h)| (date.to_string(), h.name_fr()))
            .collect();
        assert_eq!(
            names,
            [
                ("2026-01-01".to_string(), "Jour de l'an"),
                ("2026-04-06".to_string(), "Lundi de Pâques"),
                ("2026-05-01".to_string(), "Fête du Travail"),
                ("2026-05-08".to_string(), "Victoire 1945"),
                ("2026-05-14".to_string(), "Ascension"),
                ("2026-05-25".to_string(), "Lundi de Pentecôte"),
                ("2026-07-14".to_string(), "Fête nationale"),
                ("2026-08-15".to_string(), "Assomption"),
                ("2026-11-01".to_string(), "Toussaint"),
                ("2026-11-11".to_string(), "Armistice 1918"),
                ("2026-12-25".to_string(), "Noël"),
            ]
        );
    }

    #[test]
    fn ordinary_day_is_not_a_public_holiday() {
        assert_eq!(PublicHoliday::on(d(2026, 11, 12)), None);
        assert_eq!(
            PublicHoliday::on(d(2026, 4, 5)),
            None,
            "Easter Sunday itself"
        );
    }
}
