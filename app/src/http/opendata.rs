//! The open-data export of the menus in the SCDL `menus-collectifs` schema (1.2.3): a public
//! CSV, one dish per line and per school (a commune's menu repeats in each school that eats
//! it, since the schema describes restaurants), with the schema's field names, its French
//! values (`cantine_domain::scdl`) and its list syntax. Who publishes, and each school's
//! restaurant type and UAI, come from the `[open_data]` configuration, checked at load.

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Datelike, Days, NaiveDate, SecondsFormat, Utc};
use chrono_tz::Europe::Paris;
use serde::Deserialize;

use cantine_domain::activity::Activity;
use cantine_domain::ids::SchoolId;
use cantine_domain::scdl;

use super::AppState;
use super::error::Query;
use super::routes;
use crate::error::Result;
use crate::households;
use crate::menus;
use crate::platform::config::OpenDataConfig;

pub fn routes() -> Router<AppState> {
    Router::new().route(routes::OPEN_DATA_MENUS, get(menus_collectifs))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Period {
    /// First day (AAAA-MM-JJ); by default the Monday of this week.
    #[serde(default)]
    du: Option<NaiveDate>,
    /// Last day included; by default four weeks after the first.
    #[serde(default)]
    au: Option<NaiveDate>,
}

/// The schema's date and time: ISO 8601 in Paris time, with its offset.
fn date_time(at: DateTime<Utc>) -> String {
    at.with_timezone(&Paris)
        .to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// A CSV cell, quoted when it holds the separator, a quote or a line break (RFC 4180).
fn cell(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// The export's lines, header first, for the schools' served menus.
pub fn lines(
    config: &OpenDataConfig,
    schools: &[(SchoolId, String)],
    served: &std::collections::BTreeMap<(SchoolId, NaiveDate), menus::Menu>,
) -> Vec<Vec<String>> {
    let mut out = vec![scdl::FIELDS.iter().map(|f| (*f).to_owned()).collect()];
    let mut days: Vec<(&NaiveDate, &str, &menus::Menu)> = served
        .iter()
        .filter_map(|((school, date), menu)| {
            schools
                .iter()
                .find(|(id, _)| id == school)
                .map(|(_, name)| (date, name.as_str(), menu))
        })
        .collect();
    days.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    for (date, school, menu) in days {
        let (restaurant_type, uai) = config.school(school);
        let modified = (menu.updated_at != menu.published_at).then(|| date_time(menu.updated_at));
        for dish in &menu.dishes {
            let fields: [String; 26] = [
                config.commune_name.clone(),
                config.commune_siret.clone(),
                config.producer_name.clone(),
                config.producer_siret.clone().unwrap_or_default(),
                school.to_owned(),
                config.commune_insee.clone(),
                uai.unwrap_or_default().to_owned(),
                if uai.is_some() { "EN" } else { "sans" }.to_owned(),
                restaurant_type.name().to_owned(),
                config.guests.clone(),
                date.format("%Y-%m-%d").to_string(),
                scdl::repas_type(dish.course).to_owned(),
                scdl::plat_type(dish.course).to_owned(),
                dish.name.clone(),
                String::new(),
                scdl::list(dish.quality_signs.iter().filter_map(|q| scdl::siqo(*q))),
                dish.quality_signs
                    .iter()
                    .filter_map(|q| scdl::label(*q))
                    .collect::<Vec<_>>()
                    .join(";"),
                String::new(),
                scdl::list(dish.regimes.iter().map(|r| scdl::regime(*r))),
                scdl::list(dish.allergens.iter().map(|a| scdl::allergen(*a))),
                String::new(),
                String::new(),
                String::new(),
                date_time(menu.published_at),
                modified.clone().unwrap_or_default(),
                String::new(),
            ];
            out.push(fields.into());
        }
    }
    out
}

/// `GET /donnees/menus-collectifs.csv?du=…&au=…`: public, UTF-8, `,`-separated.
pub async fn menus_collectifs(
    State(state): State<AppState>,
    Query(period): Query<Period>,
) -> Result<Response> {
    let today = state.rules().today();
    let from = period
        .du
        .unwrap_or_else(|| today - Days::new(u64::from(today.weekday().num_days_from_monday())));
    let to = period.au.unwrap_or(from + Days::new(27));
    menus::check_range(from, to)?;
    let schools: Vec<(SchoolId, String)> = households::schools(&state.pool)
        .await?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect();
    let ids: Vec<SchoolId> = schools.iter().map(|(id, _)| *id).collect();
    let served = menus::served(&state.pool, Activity::Canteen, &ids, (from, to)).await?;
    let mut body = String::new();
    for line in lines(&state.config.open_data, &schools, &served) {
        let cells: Vec<String> = line.iter().map(|c| cell(c)).collect();
        body.push_str(&cells.join(","));
        body.push_str("\r\n");
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"menus-collectifs-{from}-{to}.csv\""),
            ),
            (header::CACHE_CONTROL, "public, max-age=300".to_owned()),
        ],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_only_when_needed() {
        assert_eq!(cell("lait"), "lait");
        assert_eq!(cell(r#"["lait","soja"]"#), r#""[""lait"",""soja""]""#);
        assert_eq!(cell("a,b"), "\"a,b\"");
    }

    #[test]
    fn dates_are_iso_with_the_paris_offset() {
        let at = DateTime::parse_from_rfc3339("2026-12-01T08:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(date_time(at), "2026-12-01T09:30:00+01:00");
    }
}
