//! The tariffs page, for finance and the service: a school year's versions as they apply, and
//! the form of a new version from a day (QF brackets or an effort rate with its bounds, the
//! non-resident, adult and PAI prices, what an unbooked meal costs, the carence days). A
//! version is never edited; a refused grid comes back with the French reason.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono::NaiveDate;
use serde::Deserialize;

use cantine_domain::calendar::SchoolYearLabel;
use cantine_domain::tariff::{Bracket, Pricing, Tariff, UnbookedRule};

use super::billing::{billing_notice, parse_decimal, parse_euros};
use crate::billing::{self, TariffVersion};
use crate::error::{Error, FormProblem, Invalid};
use crate::http::backoffice::Staff;
use crate::http::portal::widgets::parse_date;
use crate::http::portal::{
    FormData, Layout, PageError, PageQuery, check_csrf, form_page, ok, refused, see_other,
};
use crate::http::{AppState, fr, routes};

/// Bracket rows the form offers; blank ones are ignored.
const BRACKET_ROWS: usize = 6;

#[derive(Debug, Default, Deserialize)]
pub(super) struct TariffsQuery {
    #[serde(default)]
    annee: Option<String>,
    #[serde(default)]
    info: Option<String>,
}

struct VersionView {
    from: String,
    pricing: Vec<String>,
    others: Vec<String>,
}

struct BracketRow {
    /// 1-based, for the labels.
    number: usize,
    min: String,
    max: String,
    price: String,
}

/// The new version's form as typed: blank at first, the agent's values when it comes back
/// refused.
struct TariffForm {
    from: String,
    brackets: bool,
    rows: Vec<BracketRow>,
    rate: String,
    min: String,
    max: String,
    pai: String,
    non_resident: String,
    adult: String,
    surcharge: bool,
    surcharge_amount: String,
    multiplier: String,
    carence: String,
}

impl TariffForm {
    fn blank() -> Self {
        Self {
            from: String::new(),
            brackets: true,
            rows: (1..=BRACKET_ROWS)
                .map(|number| BracketRow {
                    number,
                    min: String::new(),
                    max: String::new(),
                    price: String::new(),
                })
                .collect(),
            rate: String::new(),
            min: String::new(),
            max: String::new(),
            pai: String::new(),
            non_resident: String::new(),
            adult: String::new(),
            surcharge: true,
            surcharge_amount: String::new(),
            multiplier: String::new(),
            carence: "0".to_owned(),
        }
    }

    fn typed(form: &FormData) -> Self {
        let column = |name: &str| -> Vec<String> { form.all(name).map(str::to_owned).collect() };
        let (mins, maxs, prices) = (column("qf_min"), column("qf_max"), column("prix"));
        let rows = (0..BRACKET_ROWS.max(mins.len()))
            .map(|i| BracketRow {
                number: i + 1,
                min: mins.get(i).cloned().unwrap_or_default(),
                max: maxs.get(i).cloned().unwrap_or_default(),
                price: prices.get(i).cloned().unwrap_or_default(),
            })
            .collect();
        let carence = form.get("carence");
        Self {
            from: form.get("du").to_owned(),
            brackets: form.get("mode") != "taux",
            rows,
            rate: form.get("taux").to_owned(),
            min: form.get("prix_min").to_owned(),
            max: form.get("prix_max").to_owned(),
            pai: form.get("pai").to_owned(),
            non_resident: form.get("non_resident").to_owned(),
            adult: form.get("adulte").to_owned(),
            surcharge: form.get("hors_reservation") != "coefficient",
            surcharge_amount: form.get("majoration").to_owned(),
            multiplier: form.get("coefficient").to_owned(),
            carence: if carence.is_empty() { "0" } else { carence }.to_owned(),
        }
    }
}

#[derive(Template)]
#[template(path = "gestion/tarifs.html")]
struct TariffsPage {
    layout: Layout,
    info: Option<&'static str>,
    error: Option<String>,
    year: String,
    versions: Vec<VersionView>,
    form: TariffForm,
}

form_page!(TariffsPage);

fn qf_range(b: &Bracket) -> String {
    match b.qf_max {
        Some(max) => format!("QF de {} à moins de {max} €", b.qf_min),
        None => format!("QF de {} € et plus (et sans QF connu)", b.qf_min),
    }
}

/// Millionths of a euro per QF euro as a French percentage of the QF: 4500 is "0,45 %".
fn rate_percent(millionths: u32) -> String {
    let units = millionths / 10_000;
    let rest = format!("{:04}", millionths % 10_000);
    let rest = rest.trim_end_matches('0');
    if rest.is_empty() {
        format!("{units}\u{a0}%")
    } else {
        format!("{units},{rest}\u{a0}%")
    }
}

fn version_view(v: &TariffVersion) -> VersionView {
    let t = &v.tariff;
    let pricing = match &t.pricing {
        Pricing::Brackets { brackets } => brackets
            .iter()
            .map(|b| format!("{} : {} le repas", qf_range(b), fr::euros(b.meal)))
            .collect(),
        Pricing::EffortRate {
            rate_millionths,
            min,
            max,
        } => vec![format!(
            "Taux d'effort : {} du QF par repas, au moins {}, au plus {} (sans QF connu : {})",
            rate_percent(*rate_millionths),
            fr::euros(*min),
            fr::euros(*max),
            fr::euros(*max)
        )],
    };
    let unbooked = match t.unbooked {
        UnbookedRule::Surcharge { cents } => {
            format!(
                "Repas sans réservation : prix du repas + {}",
                fr::euros(cents)
            )
        }
        UnbookedRule::Multiplier { percent } => {
            format!("Repas sans réservation : prix du repas × {percent}\u{a0}%")
        }
    };
    VersionView {
        from: fr::long_date_year(v.applies_from),
        pricing,
        others: vec![
            format!("Hors commune : {}", fr::euros(t.non_resident)),
            format!("Adulte : {}", fr::euros(t.adult)),
            format!("Panier repas PAI : {}", fr::euros(t.pai)),
            unbooked,
            format!("Jours de carence en cas de maladie : {}", t.carence_days),
        ],
    }
}

async fn tariffs_view(
    state: &AppState,
    staff: &Staff,
    year: Option<&str>,
) -> Result<TariffsPage, PageError> {
    let year = match year.map(str::trim).filter(|y| !y.is_empty()) {
        Some(text) => text
            .parse::<SchoolYearLabel>()
            .map_err(|_| Error::Invalid(Invalid::SchoolYear))?,
        None => SchoolYearLabel::containing(state.rules().today()),
    };
    let versions = billing::tariffs(&state.pool, year).await?;
    Ok(TariffsPage {
        layout: Layout::new("Tarifs de la cantine", Some(&staff.session)),
        info: None,
        error: None,
        year: year.to_string(),
        versions: versions.iter().map(version_view).collect(),
        form: TariffForm::blank(),
    })
}

pub(super) async fn tariffs_page(
    State(state): State<AppState>,
    staff: Staff,
    PageQuery(query): PageQuery<TariffsQuery>,
) -> Result<Response, PageError> {
    let view = tariffs_view(&state, &staff, query.annee.as_deref()).await;
    let mut template = match view {
        Ok(t) => t,
        Err(PageError::Error(e @ Error::Invalid(_))) => {
            return refused(e, tariffs_view(&state, &staff, None)).await;
        }
        Err(e) => return Err(e),
    };
    template.info = billing_notice(query.info.as_deref());
    ok(&template)
}

fn whole(text: &str, what: &'static str) -> Result<u32, Error> {
    text.trim()
        .parse::<u32>()
        .map_err(|_| Error::form(FormProblem::Number { what }))
}

/// The grid as typed; `Tariff::validate` (in the service) judges it.
fn tariff_field(form: &FormData) -> Result<Tariff, Error> {
    let pricing = match form.get("mode") {
        "tranches" => {
            let mins: Vec<&str> = form.all("qf_min").collect();
            let maxs: Vec<&str> = form.all("qf_max").collect();
            let prices: Vec<&str> = form.all("prix").collect();
            let mut brackets = Vec::new();
            for (i, min) in mins.iter().enumerate() {
                let max = maxs.get(i).copied().unwrap_or("").trim();
                let price = prices.get(i).copied().unwrap_or("").trim();
                if min.trim().is_empty() && max.is_empty() && price.is_empty() {
                    continue;
                }
                brackets.push(Bracket {
                    qf_min: whole(min, "QF minimum")?,
                    qf_max: (!max.is_empty())
                        .then(|| whole(max, "QF maximum"))
                        .transpose()?,
                    meal: parse_euros(price, "Prix du repas")?,
                });
            }
            Pricing::Brackets { brackets }
        }
        "taux" => Pricing::EffortRate {
            rate_millionths: parse_decimal(form.get("taux"), 4)
                .and_then(|r| u32::try_from(r).ok())
                .ok_or(Error::form(FormProblem::Decimal {
                    what: "Taux d'effort",
                }))?,
            min: parse_euros(form.get("prix_min"), "Prix minimum")?,
            max: parse_euros(form.get("prix_max"), "Prix maximum")?,
        },
        _ => return Err(Error::form(FormProblem::Action)),
    };
    let unbooked = match form.get("hors_reservation") {
        "majoration" => UnbookedRule::Surcharge {
            cents: parse_euros(form.get("majoration"), "Majoration")?,
        },
        "coefficient" => UnbookedRule::Multiplier {
            percent: whole(form.get("coefficient"), "Coefficient")?,
        },
        _ => return Err(Error::form(FormProblem::Action)),
    };
    Ok(Tariff {
        pricing,
        pai: parse_euros(form.get("pai"), "Panier repas PAI")?,
        non_resident: parse_euros(form.get("non_resident"), "Prix hors commune")?,
        adult: parse_euros(form.get("adulte"), "Prix adulte")?,
        unbooked,
        carence_days: whole(form.get("carence"), "Jours de carence")?,
    })
}

pub(super) async fn save(
    State(state): State<AppState>,
    staff: Staff,
    form: FormData,
) -> Result<Response, PageError> {
    check_csrf(&staff.session, &form)?;
    let year_text = form.get("annee").trim().to_owned();
    let result = async {
        let year: SchoolYearLabel = year_text
            .parse()
            .map_err(|_| Error::Invalid(Invalid::SchoolYear))?;
        let from: NaiveDate = parse_date(form.get("du"), "À partir du")?;
        let tariff = tariff_field(&form)?;
        billing::save_tariff(&state.pool, &staff.actor, year, from, tariff).await
    }
    .await;
    match result {
        Ok(saved) => Ok(see_other(&format!(
            "{}?annee={}&info=tarif",
            routes::STAFF_TARIFFS,
            saved.year
        ))),
        Err(e) => {
            let year = year_text
                .parse::<SchoolYearLabel>()
                .ok()
                .map(|y| y.to_string());
            refused(e, async {
                let mut page = tariffs_view(&state, &staff, year.as_deref()).await?;
                page.form = TariffForm::typed(&form);
                Ok(page)
            })
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn effort_rates_read_as_a_percentage_of_the_qf() {
        assert_eq!(rate_percent(4500), "0,45\u{a0}%");
        assert_eq!(rate_percent(10_000), "1\u{a0}%");
        assert_eq!(rate_percent(12_345), "1,2345\u{a0}%");
    }
}
