//! Finance's PayFiP mismatches page: the attempts PayFiP answered paid for something else
//! than what was sent (open ones, or all), each with what differed and, for finance, the
//! decision form (accept with the amount PayFiP took, or dismiss: refunded outside), with a
//! reason. The service (manager) reads it without the forms.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use cantine_domain::roles::Role;
use serde::Deserialize;

use crate::http::backoffice::Staff;
use crate::http::portal::{
    FormData, Layout, PageError, PagePath, PageQuery, check_csrf, form_page, ok, refused, see_other,
};
use crate::http::{AppState, fr, routes};
use crate::payments::mismatches::{self, Decision};

#[derive(Debug, Default, Deserialize)]
pub(super) struct MismatchesQuery {
    /// `toutes` for resolved ones too.
    #[serde(default)]
    etat: Option<String>,
    #[serde(default)]
    info: Option<String>,
}

struct Difference {
    field: String,
    answered: String,
}

struct MismatchCard {
    id: i64,
    household: String,
    household_link: String,
    invoice: String,
    invoice_link: String,
    refdet: String,
    amount: String,
    answered_amount: Option<String>,
    differences: Vec<Difference>,
    recorded: String,
    /// « Acceptée (12,00 € crédités) » or « Écartée », with who, when and why.
    resolution: Option<String>,
    reason: Option<String>,
}

#[derive(Template)]
#[template(path = "gestion/anomalies_payfip.html")]
struct MismatchesPage {
    layout: Layout,
    info: Option<&'static str>,
    error: Option<String>,
    all: bool,
    /// Finance sees the forms; the service reads.
    can_resolve: bool,
    cases: Vec<MismatchCard>,
}

form_page!(MismatchesPage);

fn field_name(field: &str) -> &str {
    match field {
        "montant" => "Montant",
        "refdet" => "Référence (refdet)",
        "numcli" => "Numéro client (numcli)",
        "exer" => "Exercice",
        "idOp" => "Opération (idOp)",
        "saisie" => "Paiement de test en production",
        other => other,
    }
}

async fn view(state: &AppState, staff: &Staff, all: bool) -> Result<MismatchesPage, PageError> {
    let cases = mismatches::cases(&state.pool, !all).await?;
    Ok(MismatchesPage {
        layout: Layout::new("Anomalies PayFiP", Some(&staff.session)),
        info: None,
        error: None,
        all,
        can_resolve: staff.session.account.roles.any_of(&[Role::Finance]),
        cases: cases
            .into_iter()
            .map(|c| MismatchCard {
                id: c.attempt_id,
                household_link: routes::fill(routes::STAFF_BILLING_ACCOUNT, &[c.household.get()]),
                household: c.household_name,
                invoice_link: routes::fill(routes::STAFF_INVOICE, &[c.invoice_id]),
                invoice: c.invoice_number.unwrap_or_default(),
                refdet: c.refdet,
                amount: fr::euros(c.amount),
                answered_amount: c.answered_amount.map(fr::euros),
                differences: c
                    .found
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|d| Difference {
                        field: field_name(d["field"].as_str().unwrap_or("?")).to_owned(),
                        answered: match &d["answered"] {
                            serde_json::Value::String(s) => s.clone(),
                            other => other.to_string(),
                        },
                    })
                    .collect(),
                recorded: fr::date_time(c.recorded_at),
                resolution: c.resolution.as_ref().map(|r| {
                    let what = match (r.decision, r.amount) {
                        (Decision::Accept, Some(a)) => {
                            format!("Acceptée : {} crédités au compte du foyer", fr::euros(a))
                        }
                        (Decision::Accept, None) => "Acceptée".to_owned(),
                        (Decision::Dismiss, _) => {
                            "Écartée : remboursée hors de Cantine, rien crédité".to_owned()
                        }
                    };
                    format!(
                        "{what} – par {} le {}",
                        r.resolved_by.as_deref().unwrap_or("?"),
                        fr::date_time(r.resolved_at)
                    )
                }),
                reason: c.resolution.map(|r| r.reason),
            })
            .collect(),
    })
}

pub(super) async fn mismatches_page(
    State(state): State<AppState>,
    staff: Staff,
    PageQuery(query): PageQuery<MismatchesQuery>,
) -> Result<Response, PageError> {
    let all = query.etat.as_deref() == Some("toutes");
    let mut template = view(&state, &staff, all).await?;
    template.info = match query.info.as_deref() {
        Some("acceptee") => Some(
            "Anomalie acceptée : le montant pris par PayFiP est crédité au compte du foyer, et la facture peut de nouveau être payée en ligne.",
        ),
        Some("ecartee") => Some(
            "Anomalie écartée : rien n'est crédité, et la facture peut de nouveau être payée en ligne.",
        ),
        _ => None,
    };
    ok(&template)
}

pub(super) async fn resolve(
    State(state): State<AppState>,
    staff: Staff,
    PagePath(id): PagePath<i64>,
    form: FormData,
) -> Result<Response, PageError> {
    check_csrf(&staff.session, &form)?;
    let decision = Decision::parse(form.get("decision"));
    let result = async {
        let decision = decision.ok_or(crate::error::Error::Invalid(
            crate::error::Invalid::Request("decision".into()),
        ))?;
        mismatches::resolve(
            &state.pool,
            &staff.actor,
            id,
            decision,
            form.get("motif"),
            state.clock.now(),
        )
        .await
    }
    .await;
    match result {
        Ok(case) => {
            let info = match case.resolution.map(|r| r.decision) {
                Some(Decision::Dismiss) => "ecartee",
                _ => "acceptee",
            };
            Ok(see_other(&format!(
                "{}?etat=toutes&info={info}",
                routes::STAFF_PAYMENT_MISMATCHES
            )))
        }
        Err(e) => refused(e, view(&state, &staff, false)).await,
    }
}
