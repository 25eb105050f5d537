//! `cantine payfip-simulator`: PayFiP's web service and payment page on a loopback port, for
//! the demo, the tests and an appliance's test mode. It speaks the same SOAP on
//! `POST /tpa/services/securite` (the answers and faults written by `cantine_domain::payfip`)
//! and serves the payment page `GET /tpa/paiementws.web?idop=…`, a form on which the tester
//! chooses the outcome as a person would click it (`resultrans` `P`, `V`, `R`, `Z` or `A`).
//! The choice then notifies `urlnotif` (GET with `idop`) and sends the browser to
//! `urlredirect`. Cantine reaches it by configuration alone (`payfip.endpoint`,
//! `payfip.payment_page`): no code of the service knows it is not the real one.
//!
//! Before a decision, the detail call answers `P5`; an unknown `idOp`, `P1`. Switches (flags,
//! or `PUT /simulator/switches` with JSON) drop, delay or repeat notifications, answer given
//! faults to the next calls, `P5` or `P1` to the next detail calls, or a paid answer that is
//! not the operation's (another amount, refdet…). `GET /simulator/operations` lists what it
//! was asked.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use chrono_tz::Europe::Paris;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

use cantine_domain::money::Cents;
use cantine_domain::payfip::{
    self, Client, Detail, Fault, FaultKind, NumCli, PaymentRequest, RefDet, Saisie,
    TransactionResult,
};

pub const SOAP_PATH: &str = "/tpa/services/securite";
pub const PAGE_PATH: &str = "/tpa/paiementws.web";

/// A fault to answer to the next call (of one operation, or of any).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSwitch {
    /// `functional`, `tech_malfunction`, `tech_unavailable` or `tech_protocol`.
    pub kind: String,
    #[serde(default)]
    pub code: String,
    /// `create`, `detail` or `client`; none: the next call of any.
    #[serde(default)]
    pub operation: Option<String>,
}

/// What a paid detail answer says instead of the operation's own fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerOverride {
    pub montant: Option<i64>,
    pub refdet: Option<String>,
    pub numcli: Option<String>,
    pub exer: Option<String>,
    pub saisie: Option<String>,
}

/// The simulator's switches, as `PUT /simulator/switches` takes them (every field optional).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Switches {
    /// Never call `urlnotif`.
    pub drop_notifications: bool,
    /// Call `urlnotif` this long after the decision (0: before redirecting the browser).
    pub notification_delay_ms: u64,
    /// Call `urlnotif` this many more times.
    pub repeat_notifications: u32,
    /// Answered to the next calls, one each, in order.
    pub faults: VecDeque<FaultSwitch>,
    /// The next detail calls answer `P5` (not decided), this many.
    pub undecided_calls: u32,
    /// The next detail calls answer `P1` (unknown), this many.
    pub unknown_calls: u32,
    /// Paid detail answers say this instead (until switched off).
    pub answer_override: Option<AnswerOverride>,
}

/// One operation opened by `creerPaiementSecurise`.
#[derive(Debug, Clone, Serialize)]
pub struct Operation {
    pub id_op: String,
    pub numcli: String,
    pub exer: String,
    pub refdet: String,
    pub objet: String,
    pub montant: i64,
    pub mel: String,
    pub urlnotif: String,
    pub urlredirect: String,
    pub saisie: String,
    pub created_at: DateTime<Utc>,
    /// `resultrans` once the tester chose.
    pub resultrans: Option<String>,
    pub decided_at: Option<chrono::NaiveDateTime>,
    pub numauto: Option<String>,
    /// How many detail calls asked about it, and notifications sent.
    pub detail_calls: u32,
    pub notifications: u32,
}

#[derive(Default)]
struct Inner {
    switches: Switches,
    operations: Vec<Operation>,
}

#[derive(Clone)]
pub struct Simulator {
    inner: Arc<Mutex<Inner>>,
    http: reqwest::Client,
}

impl Simulator {
    pub fn new(switches: Switches) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Inner {
                switches,
                operations: Vec::new(),
            })),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(15))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("HTTP client"),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub fn router(sim: Simulator) -> Router {
    Router::new()
        .route(SOAP_PATH, post(soap))
        .route(PAGE_PATH, get(page).post(decide))
        .route("/simulator/switches", get(switches).put(set_switches))
        .route("/simulator/operations", get(operations))
        .with_state(sim)
}

/// Serves until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    switches: Switches,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(Simulator::new(switches)))
        .with_graceful_shutdown(shutdown)
        .await
}

async fn switches(State(sim): State<Simulator>) -> Response {
    axum::Json(sim.lock().switches.clone()).into_response()
}

async fn set_switches(
    State(sim): State<Simulator>,
    axum::Json(switches): axum::Json<Switches>,
) -> Response {
    sim.lock().switches = switches.clone();
    axum::Json(switches).into_response()
}

async fn operations(State(sim): State<Simulator>) -> Response {
    axum::Json(sim.lock().operations.clone()).into_response()
}

fn fault(kind: FaultKind, code: &str, label: &str) -> Fault {
    Fault {
        kind,
        code: code.to_owned(),
        label: label.to_owned(),
        description: String::new(),
        severity: Some(2),
    }
}

fn fault_answer(f: &Fault) -> Response {
    soap_answer(StatusCode::INTERNAL_SERVER_ERROR, f.envelope())
}

fn soap_answer(status: StatusCode, xml: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        xml,
    )
        .into_response()
}

/// The operation's name and `arg0`'s fields of a request, as PayFiP reads them.
fn read_request(xml: &str) -> Option<(String, Vec<(String, String)>)> {
    let doc = roxmltree::Document::parse(xml).ok()?;
    let body = doc
        .root_element()
        .children()
        .find(|n| n.is_element() && n.tag_name().name() == "Body")?;
    let op = body.children().find(|n| n.is_element())?;
    let arg0 = op
        .children()
        .find(|n| n.is_element() && n.tag_name().name() == "arg0")?;
    let fields = arg0
        .children()
        .filter(|n| n.is_element())
        .map(|n| {
            (
                n.tag_name().name().to_owned(),
                n.text().unwrap_or("").trim().to_owned(),
            )
        })
        .collect();
    Some((op.tag_name().name().to_owned(), fields))
}

async fn soap(State(sim): State<Simulator>, body: String) -> Response {
    let Some((operation, fields)) = read_request(&body) else {
        return fault_answer(&fault(
            FaultKind::TechProtocol,
            "",
            "Requête SOAP illisible",
        ));
    };
    let field = |name: &str| {
        fields
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
            .to_owned()
    };
    let short = match operation.as_str() {
        "creerPaiementSecurise" => "create",
        "recupererDetailPaiementSecurise" => "detail",
        "recupererDetailClient" => "client",
        _ => {
            return fault_answer(&fault(FaultKind::TechProtocol, "", "Opération inconnue"));
        }
    };
    let mut inner = sim.lock();
    let switched = {
        let faults = &mut inner.switches.faults;
        let at = faults
            .iter()
            .position(|f| f.operation.as_deref().is_none_or(|o| o == short));
        at.and_then(|i| faults.remove(i))
    };
    if let Some(f) = switched {
        let kind = match f.kind.as_str() {
            "functional" => FaultKind::Functional,
            "tech_malfunction" => FaultKind::TechMalfunction,
            "tech_protocol" => FaultKind::TechProtocol,
            _ => FaultKind::TechUnavailable,
        };
        return fault_answer(&fault(kind, &f.code, "Erreur simulée"));
    }
    match short {
        "create" => create(&mut inner, &field),
        "detail" => detail(&mut inner, &field("idOp")),
        _ => match NumCli::new(&field("numCli")) {
            Ok(numcli) => soap_answer(
                StatusCode::OK,
                Client {
                    numcli: numcli.as_str().to_owned(),
                    labels: vec!["REGIE SIMULEE".into(), "PAYFIP SIMULATEUR".into()],
                }
                .envelope(),
            ),
            Err(_) => fault_answer(&fault(FaultKind::Functional, "T2", "Numéro client inconnu")),
        },
    }
}

/// Validates the request as PayFiP does (with the domain's own checks) and opens it.
fn create(inner: &mut Inner, field: &dyn Fn(&str) -> String) -> Response {
    let refuse = |code: &str, label: &str| fault_answer(&fault(FaultKind::Functional, code, label));
    let Ok(numcli) = NumCli::new(&field("numcli")) else {
        return refuse("T1", "Numéro client invalide");
    };
    let Ok(refdet) = RefDet::new(&field("refdet")) else {
        return refuse("R3", "Référence invalide");
    };
    let Some(saisie) = Saisie::parse(&field("saisie")) else {
        return refuse("S1", "Saisie invalide");
    };
    let Ok(montant) = field("montant").parse::<i64>() else {
        return refuse("M1", "Montant invalide");
    };
    let Ok(exer) = field("exer").parse::<i32>() else {
        return refuse("E1", "Exercice invalide");
    };
    let objet = field("objet");
    let request = PaymentRequest::new(
        numcli,
        exer,
        refdet,
        &objet,
        Cents(montant),
        &field("mel"),
        &field("urlnotif"),
        &field("urlredirect"),
        saisie,
    );
    let request = match request {
        Ok(r) => r,
        Err(payfip::RequestError::Amount) if montant < 100 => {
            return refuse("M3", "Montant inférieur au minimum");
        }
        Err(payfip::RequestError::Amount) => return refuse("M5", "Montant supérieur au maximum"),
        Err(payfip::RequestError::Mel) => return refuse("A2", "Adresse mél invalide"),
        Err(payfip::RequestError::Url(_)) => return refuse("N1", "URL invalide"),
        Err(_) => return refuse("E1", "Exercice invalide"),
    };
    let id_op = uuid::Uuid::new_v4().to_string();
    inner.operations.push(Operation {
        id_op: id_op.clone(),
        numcli: request.numcli.as_str().to_owned(),
        exer: request.exer.to_string(),
        refdet: request.refdet.as_str().to_owned(),
        objet,
        montant,
        mel: request.mel,
        urlnotif: request.urlnotif,
        urlredirect: request.urlredirect,
        saisie: request.saisie.code().to_owned(),
        created_at: Utc::now(),
        resultrans: None,
        decided_at: None,
        numauto: None,
        detail_calls: 0,
        notifications: 0,
    });
    soap_answer(StatusCode::OK, payfip::create_answer_envelope(&id_op))
}

fn detail(inner: &mut Inner, id_op: &str) -> Response {
    let undecided = || {
        fault_answer(&fault(
            FaultKind::Functional,
            "P5",
            "Résultat de la transaction non connu.",
        ))
    };
    let unknown = || fault_answer(&fault(FaultKind::Functional, "P1", "IdOp incorrect."));
    if inner.switches.undecided_calls > 0 {
        inner.switches.undecided_calls -= 1;
        return undecided();
    }
    if inner.switches.unknown_calls > 0 {
        inner.switches.unknown_calls -= 1;
        return unknown();
    }
    let answer_override = inner.switches.answer_override.clone().unwrap_or_default();
    let Some(op) = inner.operations.iter_mut().find(|o| o.id_op == id_op) else {
        return unknown();
    };
    op.detail_calls += 1;
    let Some(result) = op.resultrans.as_deref().map(TransactionResult::parse) else {
        return undecided();
    };
    let paid = matches!(
        result,
        TransactionResult::PaidByCard | TransactionResult::PaidByDebit
    );
    let over = |value: &Option<String>, own: &str| {
        value
            .as_ref()
            .filter(|_| paid)
            .cloned()
            .unwrap_or_else(|| own.to_owned())
    };
    let detail = Detail {
        id_op: op.id_op.clone(),
        result,
        amount: Cents(
            answer_override
                .montant
                .filter(|_| paid)
                .unwrap_or(op.montant),
        ),
        numcli: over(&answer_override.numcli, &op.numcli),
        refdet: over(&answer_override.refdet, &op.refdet),
        exer: over(&answer_override.exer, &op.exer),
        authorisation: op.numauto.clone(),
        at: op.decided_at,
        saisie: Saisie::parse(&over(&answer_override.saisie, &op.saisie)),
        mel: op.mel.clone(),
        objet: op.objet.clone(),
    };
    soap_answer(StatusCode::OK, detail.envelope())
}

#[derive(Deserialize)]
struct PageQuery {
    #[serde(default)]
    idop: String,
}

#[derive(Template)]
#[template(path = "payfip_simulateur.html")]
struct PaymentPage {
    found: bool,
    id_op: String,
    refdet: String,
    objet: String,
    amount: String,
    mel: String,
    saisie: String,
    decided: Option<String>,
}

fn html(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(text) => (status, Html(text)).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("template: {e}")).into_response(),
    }
}

async fn page(State(sim): State<Simulator>, Query(q): Query<PageQuery>) -> Response {
    let inner = sim.lock();
    let Some(op) = inner.operations.iter().find(|o| o.id_op == q.idop) else {
        return html(
            StatusCode::NOT_FOUND,
            &PaymentPage {
                found: false,
                id_op: q.idop.clone(),
                refdet: String::new(),
                objet: String::new(),
                amount: String::new(),
                mel: String::new(),
                saisie: String::new(),
                decided: None,
            },
        );
    };
    html(
        StatusCode::OK,
        &PaymentPage {
            found: true,
            id_op: op.id_op.clone(),
            refdet: op.refdet.clone(),
            objet: op.objet.clone(),
            amount: format!("{},{:02} €", op.montant / 100, op.montant % 100),
            mel: op.mel.clone(),
            saisie: op.saisie.clone(),
            decided: op.resultrans.clone(),
        },
    )
}

#[derive(Deserialize)]
struct Choice {
    idop: String,
    resultrans: String,
}

/// The tester's choice: recorded, notified (unless dropped), and the browser sent back.
async fn decide(State(sim): State<Simulator>, axum::Form(choice): axum::Form<Choice>) -> Response {
    if !matches!(choice.resultrans.as_str(), "P" | "V" | "R" | "Z" | "A") {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            "resultrans: P, V, R, Z or A",
        )
            .into_response();
    }
    let (urlnotif, urlredirect, switches) = {
        let mut inner = sim.lock();
        let switches = inner.switches.clone();
        let Some(op) = inner.operations.iter_mut().find(|o| o.id_op == choice.idop) else {
            return (StatusCode::NOT_FOUND, "opération inconnue").into_response();
        };
        if op.resultrans.is_none() {
            op.resultrans = Some(choice.resultrans.clone());
            op.decided_at = Some(Utc::now().with_timezone(&Paris).naive_local());
            if matches!(choice.resultrans.as_str(), "P" | "V") {
                op.numauto = Some(format!("{:06}", rand::random::<u32>() % 1_000_000));
            }
        }
        (op.urlnotif.clone(), op.urlredirect.clone(), switches)
    };
    let id_op = choice.idop.clone();
    if !switches.drop_notifications {
        let notify = {
            let sim = sim.clone();
            let id_op = id_op.clone();
            async move {
                for _ in 0..=switches.repeat_notifications {
                    let sent = sim
                        .http
                        .get(&urlnotif)
                        .query(&[("idop", id_op.as_str())])
                        .send()
                        .await;
                    if let Err(e) = sent {
                        tracing::warn!(error = %e, "simulator: notification not delivered");
                    }
                    let mut inner = sim.lock();
                    if let Some(op) = inner.operations.iter_mut().find(|o| o.id_op == id_op) {
                        op.notifications += 1;
                    }
                }
            }
        };
        if switches.notification_delay_ms == 0 {
            notify.await;
        } else {
            let delay = Duration::from_millis(switches.notification_delay_ms);
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                notify.await;
            });
        }
    }
    let mut back = match url::Url::parse(&urlredirect) {
        Ok(url) => url,
        Err(_) => return (StatusCode::OK, "paiement enregistré").into_response(),
    };
    back.query_pairs_mut().append_pair("idop", &id_op);
    Redirect::to(back.as_str()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_read_as_the_domain_writes_them() {
        let xml = payfip::detail_envelope("abc-1");
        let (op, fields) = read_request(&xml).unwrap();
        assert_eq!(op, "recupererDetailPaiementSecurise");
        assert_eq!(fields, vec![("idOp".to_owned(), "abc-1".to_owned())]);
    }
}
