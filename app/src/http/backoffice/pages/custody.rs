//! A child's shared custody, from its household's page: the form that records or replaces the
//! arrangement, and the button that removes it. Both answer like the page's other forms.

use axum::extract::State;
use axum::response::Response;

use cantine_domain::custody::FULL_SHARE;
use cantine_domain::ids::{ChildId, HouseholdId};

use super::households::household_answer;
use super::number;
use crate::custody::{self, Arrangement, CustodyError, NewCustody, Range, Side};
use crate::error::{Error, FormProblem, Invalid};
use crate::http::AppState;
use crate::http::backoffice::Staff;
use crate::http::portal::widgets::parse_date;
use crate::http::portal::{FormData, PageError, PagePath, check_csrf};

/// The page's child must be the household's own: the arrangement is recorded from the first
/// household's page, which has the child's other forms.
async fn own_child(state: &AppState, household: i64, child: i64) -> Result<ChildId, Error> {
    let child = ChildId(child);
    match custody::side_of(&state.pool, HouseholdId(household), child).await? {
        Some(Side::First) => Ok(child),
        _ => Err(Error::NotFound),
    }
}

/// A percentage typed with at most two decimals (`50`, `33,33`, `12.5`) in basis points.
fn basis_points(text: &str) -> Option<u32> {
    let text = text.trim().trim_end_matches('%').trim().replace(',', ".");
    let (units, decimals) = text.split_once('.').unwrap_or((&text, ""));
    if units.is_empty()
        || decimals.len() > 2
        || !units
            .chars()
            .chain(decimals.chars())
            .all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let units: u32 = units.parse().ok()?;
    let hundredths: u32 = format!("{decimals:0<2}").parse().ok()?;
    units.checked_mul(100)?.checked_add(hundredths)
}

/// One range a line: two dates (`02/11/2026 au 13/11/2026`, `2026-11-02 – 2026-11-13`).
fn ranges(text: &str) -> Result<Vec<Range>, Error> {
    let mut ranges = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let dates = line
            .split(|c: char| c.is_whitespace() || c == '–' || c == ';' || c == ',')
            .filter(|w| {
                !w.is_empty() && !["du", "au", "-", "à"].contains(&w.to_lowercase().as_str())
            })
            .map(|w| parse_date(w, "Périodes"))
            .collect::<Result<Vec<_>, _>>()?;
        let [first_day, last_day] = dates[..] else {
            return Err(Error::form(FormProblem::Date { what: "Périodes" }));
        };
        ranges.push(Range {
            first_day,
            last_day,
        });
    }
    Ok(ranges)
}

fn new_custody(form: &FormData) -> Result<NewCustody, Error> {
    let other = number(form.get("autre_foyer"), "N° de l'autre foyer")?;
    let arrangement = match form.get("modalite") {
        "semaines" => Arrangement::AlternateWeeks {
            first_has_even_weeks: form.get("semaines_paires") == "ce-foyer",
        },
        "periodes" => Arrangement::Ranges {
            second: ranges(form.get("periodes"))?,
        },
        "parts" => Arrangement::Shares {
            first_basis_points: basis_points(form.get("part"))
                .filter(|bp| *bp < FULL_SHARE)
                .ok_or(Error::Invalid(Invalid::Custody(
                    CustodyError::ShareOutOfRange,
                )))?,
        },
        _ => return Err(Error::form(FormProblem::CustodyKind)),
    };
    Ok(NewCustody {
        other_household: HouseholdId(other),
        arrangement,
        reference: form.get("reference").to_owned(),
    })
}

pub(super) async fn set(
    State(state): State<AppState>,
    staff: Staff,
    PagePath((id, child)): PagePath<(i64, i64)>,
    form: FormData,
) -> Result<Response, PageError> {
    check_csrf(&staff.session, &form)?;
    let result = async {
        let child = own_child(&state, id, child).await?;
        custody::set(&state.pool, &staff.actor, child, new_custody(&form)?).await?;
        Ok("garde")
    }
    .await;
    household_answer(&state, &staff, id, result).await
}

pub(super) async fn remove(
    State(state): State<AppState>,
    staff: Staff,
    PagePath((id, child)): PagePath<(i64, i64)>,
    form: FormData,
) -> Result<Response, PageError> {
    check_csrf(&staff.session, &form)?;
    let result = async {
        let child = own_child(&state, id, child).await?;
        custody::remove(&state.pool, &staff.actor, child).await?;
        Ok("garde-supprimee")
    }
    .await;
    household_answer(&state, &staff, id, result).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_are_read_to_the_hundredth() {
        assert_eq!(basis_points("50"), Some(5000));
        assert_eq!(basis_points("33,33"), Some(3333));
        assert_eq!(basis_points("12.5 %"), Some(1250));
        assert_eq!(basis_points("0,01"), Some(1));
        assert_eq!(basis_points("33,333"), None);
        assert_eq!(basis_points("-5"), None);
        assert_eq!(basis_points(""), None);
        assert_eq!(basis_points("moitié"), None);
    }

    #[test]
    fn ranges_are_one_a_line_with_two_dates() {
        let read = ranges("du 02/11/2026 au 13/11/2026\n\n2026-12-21 – 2027-01-01").unwrap();
        assert_eq!(read.len(), 2);
        assert_eq!(read[0].first_day.to_string(), "2026-11-02");
        assert_eq!(read[1].last_day.to_string(), "2027-01-01");
        assert!(ranges("02/11/2026").is_err());
        assert!(ranges("02/11/2026 au 13/11/2026 au 20/11/2026").is_err());
    }
}
