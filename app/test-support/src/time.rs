//! Instants and days as tests write them: wall-clock times in Europe/Paris, where the commune
//! lives (summer time included), and ISO dates.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Europe::Paris;

/// `"2026-12-07 10:00:00"` in Paris, as a UTC instant.
pub fn paris(text: &str) -> DateTime<Utc> {
    let local =
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").expect("YYYY-MM-DD HH:MM:SS");
    Paris
        .from_local_datetime(&local)
        .single()
        .expect("a time that exists once in Paris")
        .with_timezone(&Utc)
}

/// `"2026-12-07"`.
pub fn date(text: &str) -> NaiveDate {
    text.parse().expect("YYYY-MM-DD")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paris_knows_summer_time() {
        assert_eq!(
            paris("2027-06-15 10:00:00").to_rfc3339(),
            "2027-06-15T08:00:00+00:00"
        );
        assert_eq!(
            paris("2026-12-07 10:00:00").to_rfc3339(),
            "2026-12-07T09:00:00+00:00"
        );
    }
}
