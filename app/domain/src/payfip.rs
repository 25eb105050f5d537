//! DGFiP's PayFiP Régie web service, as data: the SOAP envelopes Cantine sends, the answers and
//! faults it reads back, and the verdict on a payment attempt.
//!
//! The protocol (SOAP 1.1, document/literal, `soapAction=""`): `creerPaiementSecurise` opens an
//! operation and answers its `idOp`; the family pays on PayFiP's page; PayFiP then calls the
//! commune's `urlnotif` with nothing but the `idOp`, unsigned, so the notification is only a
//! hint: the result is what `recupererDetailPaiementSecurise` answers, asked server to server.
//! Only the operation's wrapper element is namespace-qualified on the wire; `arg0`, `return` and
//! every field are unqualified, and every field is a string (the server validates them).
//!
//! Everything here is pure: [`judge`] takes the stored attempt, the service's answer and `now`,
//! and says whether the ledger may be credited. The I/O (reqwest, retries, storage) is the
//! payments service's; what the rules rest on is gathered, with sources, in
//! `shared/reference/payments.md` §1 and `docs/payments.md`.

use std::fmt;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Europe::Paris;

use crate::money::Cents;

/// The namespace of the operations' wrappers and of the faults' detail elements.
pub const SERVICE_NAMESPACE: &str = "http://securite.service.tpa.cp.finances.gouv.fr/services/mas_securite/contrat_paiement_securise/PaiementSecuriseService";
pub const SOAP_NAMESPACE: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// The production SOAP endpoint; test and production differ by `saisie`, not by host.
pub const ENDPOINT: &str = "https://www.payfip.gouv.fr/tpa/services/securite";
/// The payment page, completed with `?idop=<idOp>`.
pub const PAYMENT_PAGE: &str = "https://www.payfip.gouv.fr/tpa/paiementws.web";

/// How long an `idOp` opens the payment page: no new attempt on the same invoice meanwhile.
pub const OPERATION_LIFETIME: Duration = Duration::minutes(15);
/// How long "result not known yet" (`P5`) keeps an attempt pending.
pub const UNDECIDED_WINDOW: Duration = Duration::hours(2);
/// An abandon this recent may still turn into a payment (the payer came back to the page).
pub const ABANDON_SETTLING: Duration = Duration::minutes(2);

/// 1 € to 100 000 €.
pub const MIN_AMOUNT: Cents = Cents(100);
pub const MAX_AMOUNT: Cents = Cents(10_000_000);

/// `saisie`: which PayFiP environment an operation belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Saisie {
    /// `T`: test payments, never money.
    Test,
    /// `X`: the activation phase, real cards on the commune's first payments.
    Activation,
    /// `W`: production.
    Production,
}

impl Saisie {
    pub fn code(self) -> &'static str {
        match self {
            Saisie::Test => "T",
            Saisie::Activation => "X",
            Saisie::Production => "W",
        }
    }

    pub fn parse(code: &str) -> Option<Saisie> {
        match code {
            "T" => Some(Saisie::Test),
            "X" => Some(Saisie::Activation),
            "W" => Some(Saisie::Production),
            _ => None,
        }
    }
}

/// What a request field breaks, before anything is sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("numcli must be 6 digits")]
    NumCli,
    #[error("exer must be a 4-digit year")]
    Exer,
    #[error("refdet must be 6 to 30 ASCII letters or digits")]
    RefDet,
    #[error("the amount must be from 1 € to 100,000 €")]
    Amount,
    #[error("the payer's e-mail must be 6 to 80 characters with an @")]
    Mel,
    #[error("{0} must be an absolute http(s) URL")]
    Url(&'static str),
}

/// A régie's client number at PayFiP: 6 digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NumCli(String);

impl NumCli {
    pub fn new(text: &str) -> Result<NumCli, RequestError> {
        if text.len() == 6 && text.bytes().all(|b| b.is_ascii_digit()) {
            Ok(NumCli(text.to_owned()))
        } else {
            Err(RequestError::NumCli)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The attempt's reference: unique per attempt (PayFiP refuses a reused one in some setups), 6
/// to 30 letters and digits (the server refused 4 with `R3`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RefDet(String);

impl RefDet {
    pub fn new(text: &str) -> Result<RefDet, RequestError> {
        if (6..=30).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_alphanumeric()) {
            Ok(RefDet(text.to_owned()))
        } else {
            Err(RequestError::RefDet)
        }
    }

    /// The invoice number's letters and digits, `T`, and the attempt's counter:
    /// `CANT-2026-000123`, attempt 2 → `CANT2026000123T2`. The plain number goes in `objet`.
    pub fn for_attempt(invoice_number: &str, attempt: u32) -> Result<RefDet, RequestError> {
        let kept: String = invoice_number
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        RefDet::new(&format!("{kept}T{attempt}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `objet` as PayFiP takes it: ASCII letters, digits and spaces, at most 100. Accented Latin
/// letters lose their accents, apostrophes and dashes become spaces, anything else is dropped,
/// and blanks are collapsed, so "Facture n° CANT-2026-000123 – Léa" stays readable.
pub fn objet(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = true;
    for c in text.chars() {
        let folded = fold(c);
        for f in folded.chars() {
            if f.is_ascii_alphanumeric() {
                out.push(f);
                blank = false;
            } else if f == ' ' && !blank {
                out.push(' ');
                blank = true;
            }
        }
    }
    let mut out = out.trim_end().to_owned();
    out.truncate(100);
    out.trim_end().to_owned()
}

/// The ASCII form of one character for `objet`: an accented letter its base letter, a space,
/// apostrophe or dash a space, anything else nothing.
fn fold(c: char) -> &'static str {
    const LETTERS: &[(&str, &str)] = &[
        ("àáâãäå", "a"),
        ("ÀÁÂÃÄÅ", "A"),
        ("ç", "c"),
        ("Ç", "C"),
        ("èéêë", "e"),
        ("ÈÉÊË", "E"),
        ("ìíîï", "i"),
        ("ÌÍÎÏ", "I"),
        ("ñ", "n"),
        ("Ñ", "N"),
        ("òóôõöø", "o"),
        ("ÒÓÔÕÖØ", "O"),
        ("ùúûü", "u"),
        ("ÙÚÛÜ", "U"),
        ("ýÿ", "y"),
        ("ÝŸ", "Y"),
        ("œ", "oe"),
        ("Œ", "OE"),
        ("æ", "ae"),
        ("Æ", "AE"),
    ];
    const ASCII: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    if c.is_ascii_alphanumeric() {
        let i = ASCII.find(c).unwrap_or(0);
        return &ASCII[i..i + 1];
    }
    if c.is_whitespace() || matches!(c, '\'' | '’' | '-' | '–' | '—' | '_' | '/') {
        return " ";
    }
    LETTERS
        .iter()
        .find(|(from, _)| from.contains(c))
        .map_or("", |(_, to)| to)
}

/// `creerPaiementSecurise`'s input, checked field by field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRequest {
    pub numcli: NumCli,
    pub exer: i32,
    pub refdet: RefDet,
    pub objet: String,
    pub amount: Cents,
    pub mel: String,
    pub urlnotif: String,
    pub urlredirect: String,
    pub saisie: Saisie,
}

impl PaymentRequest {
    /// Checks what PayFiP would refuse, so that a fault is the platform's, not ours. `objet`
    /// is normalised with [`objet`].
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        numcli: NumCli,
        exer: i32,
        refdet: RefDet,
        objet_text: &str,
        amount: Cents,
        mel: &str,
        urlnotif: &str,
        urlredirect: &str,
        saisie: Saisie,
    ) -> Result<PaymentRequest, RequestError> {
        if !(1000..=9999).contains(&exer) {
            return Err(RequestError::Exer);
        }
        if amount < MIN_AMOUNT || amount > MAX_AMOUNT {
            return Err(RequestError::Amount);
        }
        if !(6..=80).contains(&mel.chars().count()) || !mel.contains('@') {
            return Err(RequestError::Mel);
        }
        for (name, url) in [("urlnotif", urlnotif), ("urlredirect", urlredirect)] {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(RequestError::Url(name));
            }
        }
        Ok(PaymentRequest {
            numcli,
            exer,
            refdet,
            objet: objet(objet_text),
            amount,
            mel: mel.to_owned(),
            urlnotif: urlnotif.to_owned(),
            urlredirect: urlredirect.to_owned(),
            saisie,
        })
    }
}

/// The SOAP envelope of `creerPaiementSecurise`, fields in the WSDL's order.
pub fn create_envelope(request: &PaymentRequest) -> String {
    let montant = request.amount.get().to_string();
    let exer = request.exer.to_string();
    envelope(
        "creerPaiementSecurise",
        &[
            ("exer", &exer),
            ("mel", &request.mel),
            ("montant", &montant),
            ("numcli", request.numcli.as_str()),
            ("objet", &request.objet),
            ("refdet", request.refdet.as_str()),
            ("saisie", request.saisie.code()),
            ("urlnotif", &request.urlnotif),
            ("urlredirect", &request.urlredirect),
        ],
    )
}

/// The SOAP envelope of `recupererDetailPaiementSecurise` (`idOp` with a capital O: `idop`
/// gets fault `P1`).
pub fn detail_envelope(id_op: &str) -> String {
    envelope("recupererDetailPaiementSecurise", &[("idOp", id_op)])
}

/// The SOAP envelope of `recupererDetailClient` (`numCli` with a capital C, unlike elsewhere).
pub fn client_envelope(numcli: &NumCli) -> String {
    envelope("recupererDetailClient", &[("numCli", numcli.as_str())])
}

fn envelope(operation: &str, fields: &[(&str, &str)]) -> String {
    let mut body = String::new();
    for (name, value) in fields {
        body.push_str(&format!("<{name}>{}</{name}>", escape(value)));
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
<soap-env:Envelope xmlns:soap-env=\"{SOAP_NAMESPACE}\"><soap-env:Body>\
<ns0:{operation} xmlns:ns0=\"{SERVICE_NAMESPACE}\"><arg0>{body}</arg0></ns0:{operation}>\
</soap-env:Body></soap-env:Envelope>"
    )
}

pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// The four fault elements of the service's schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaultKind {
    /// `FonctionnelleErreur`: the request or the operation's state, with a code (`P5`, `R3`…).
    Functional,
    /// `TechDysfonctionnementErreur`.
    TechMalfunction,
    /// `TechIndisponibiliteErreur`: the service is down.
    TechUnavailable,
    /// `TechProtocolaireErreur`.
    TechProtocol,
}

impl FaultKind {
    pub const ALL: [FaultKind; 4] = [
        FaultKind::Functional,
        FaultKind::TechMalfunction,
        FaultKind::TechUnavailable,
        FaultKind::TechProtocol,
    ];

    pub fn element(self) -> &'static str {
        match self {
            FaultKind::Functional => "FonctionnelleErreur",
            FaultKind::TechMalfunction => "TechDysfonctionnementErreur",
            FaultKind::TechUnavailable => "TechIndisponibiliteErreur",
            FaultKind::TechProtocol => "TechProtocolaireErreur",
        }
    }

    fn from_element(name: &str) -> Option<FaultKind> {
        FaultKind::ALL.into_iter().find(|k| k.element() == name)
    }
}

/// A SOAP fault as PayFiP details it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub kind: FaultKind,
    pub code: String,
    pub label: String,
    pub description: String,
    pub severity: Option<i32>,
}

impl Fault {
    /// `P5`: the payment is not decided yet.
    pub fn undecided(&self) -> bool {
        self.kind == FaultKind::Functional && self.code == "P5"
    }

    /// `P1`: unknown `idOp`, purged or not received yet.
    pub fn unknown_operation(&self) -> bool {
        self.kind == FaultKind::Functional && self.code == "P1"
    }

    /// Technical faults (and transport errors, the caller's) are worth asking again; functional
    /// ones are final, except `P5`.
    pub fn retryable(&self) -> bool {
        self.kind != FaultKind::Functional || self.undecided()
    }

    /// The SOAP fault PayFiP would answer: what the simulator sends.
    pub fn envelope(&self) -> String {
        let kind = self.kind.element();
        let severity = self
            .severity
            .map(|s| format!("<severite>{s}</severite>"))
            .unwrap_or_default();
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
<S:Envelope xmlns:S=\"{SOAP_NAMESPACE}\"><S:Body><S:Fault>\
<faultcode>S:Server</faultcode>\
<faultstring>fr.gouv.finances.cp.tpa.webservice.exceptions.{kind}</faultstring>\
<detail><ns2:{kind} xmlns:ns2=\"{SERVICE_NAMESPACE}\"><code>{}</code>\
<descriptif>{}</descriptif><libelle>{}</libelle>{severity}</ns2:{kind}></detail>\
</S:Fault></S:Body></S:Envelope>",
            escape(&self.code),
            escape(&self.description),
            ascii_references(&self.label),
        )
    }
}

/// Non-ASCII characters as numeric character references, as PayFiP writes its `libelle`.
fn ascii_references(text: &str) -> String {
    escape(text)
        .chars()
        .map(|c| {
            if c.is_ascii() {
                c.to_string()
            } else {
                format!("&#{};", c as u32)
            }
        })
        .collect()
}

/// An answer that is not the expected one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerError {
    Fault(Fault),
    /// Not XML, not SOAP, or a field missing or malformed: treated like a technical fault.
    Malformed(String),
}

impl fmt::Display for AnswerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AnswerError::Fault(fault) => write!(
                f,
                "PayFiP {} {}: {}",
                fault.kind.element(),
                fault.code,
                fault.label
            ),
            AnswerError::Malformed(why) => write!(f, "malformed PayFiP answer: {why}"),
        }
    }
}

impl AnswerError {
    pub fn retryable(&self) -> bool {
        match self {
            AnswerError::Fault(fault) => fault.retryable(),
            AnswerError::Malformed(_) => true,
        }
    }
}

/// `resultrans`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TransactionResult {
    /// `P`: paid by card.
    PaidByCard,
    /// `V`: paid by one-off SEPA debit.
    PaidByDebit,
    /// `R`: card refused.
    Refused,
    /// `Z`: debit refused.
    DebitRefused,
    /// `A`: abandoned by the payer.
    Abandoned,
    /// Anything else: an error on PayFiP's side.
    Other(String),
}

impl TransactionResult {
    pub fn parse(code: &str) -> TransactionResult {
        match code {
            "P" => TransactionResult::PaidByCard,
            "V" => TransactionResult::PaidByDebit,
            "R" => TransactionResult::Refused,
            "Z" => TransactionResult::DebitRefused,
            "A" => TransactionResult::Abandoned,
            other => TransactionResult::Other(other.to_owned()),
        }
    }

    pub fn code(&self) -> &str {
        match self {
            TransactionResult::PaidByCard => "P",
            TransactionResult::PaidByDebit => "V",
            TransactionResult::Refused => "R",
            TransactionResult::DebitRefused => "Z",
            TransactionResult::Abandoned => "A",
            TransactionResult::Other(code) => code,
        }
    }
}

/// `recupererDetailPaiementSecurise`'s answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detail {
    pub id_op: String,
    pub result: TransactionResult,
    pub amount: Cents,
    pub numcli: String,
    pub refdet: String,
    /// As echoed, which is unreliable (a recorded answer says `20` for 2019).
    pub exer: String,
    pub authorisation: Option<String>,
    /// `dattrans` + `heurtrans`, Europe/Paris wall-clock time.
    pub at: Option<NaiveDateTime>,
    pub saisie: Option<Saisie>,
    pub mel: String,
    pub objet: String,
}

impl Detail {
    /// The transaction's instant (an ambiguous autumn hour takes its first occurrence).
    pub fn at_utc(&self) -> Option<DateTime<Utc>> {
        let local = self.at?;
        Paris
            .from_local_datetime(&local)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
    }

    /// The answer PayFiP would send: what the simulator sends.
    pub fn envelope(&self) -> String {
        let (dattrans, heurtrans) = self.at.map_or((String::new(), String::new()), |at| {
            (
                at.format("%d%m%Y").to_string(),
                at.format("%H%M").to_string(),
            )
        });
        let fields = [
            ("dattrans", dattrans.as_str()),
            ("exer", self.exer.as_str()),
            ("heurtrans", heurtrans.as_str()),
            ("idOp", self.id_op.as_str()),
            ("mel", self.mel.as_str()),
            ("montant", &self.amount.get().to_string()),
            ("numauto", self.authorisation.as_deref().unwrap_or("")),
            ("numcli", self.numcli.as_str()),
            ("objet", self.objet.as_str()),
            ("refdet", self.refdet.as_str()),
            ("resultrans", self.result.code()),
            ("saisie", self.saisie.map_or("", Saisie::code)),
        ]
        .iter()
        .map(|(name, value)| format!("<{name}>{}</{name}>", escape(value)))
        .collect::<String>();
        response_envelope("recupererDetailPaiementSecurise", &fields)
    }
}

/// `creerPaiementSecurise`'s answer, as PayFiP writes it: what the simulator sends.
pub fn create_answer_envelope(id_op: &str) -> String {
    response_envelope(
        "creerPaiementSecurise",
        &format!("<idOp>{}</idOp>", escape(id_op)),
    )
}

fn response_envelope(operation: &str, fields: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
<S:Envelope xmlns:S=\"{SOAP_NAMESPACE}\"><S:Body>\
<ns2:{operation}Response xmlns:ns2=\"{SERVICE_NAMESPACE}\"><return>{fields}</return>\
</ns2:{operation}Response></S:Body></S:Envelope>"
    )
}

/// `recupererDetailClient`'s answer: the régie's labels, to check a `numcli` at configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub numcli: String,
    pub labels: Vec<String>,
}

impl Client {
    /// The answer PayFiP would send: what the simulator sends.
    pub fn envelope(&self) -> String {
        let mut fields = String::new();
        for (name, label) in ["libelleN1", "libelleN2", "libelleN3"]
            .iter()
            .zip(&self.labels)
        {
            fields.push_str(&format!("<{name}>{}</{name}>", escape(label)));
        }
        fields.push_str(&format!("<numcli>{}</numcli>", escape(&self.numcli)));
        response_envelope("recupererDetailClient", &fields)
    }
}

/// The `idOp` of `creerPaiementSecurise`'s answer.
pub fn parse_create(xml: &str) -> Result<String, AnswerError> {
    let fields = read_return(xml, "creerPaiementSecuriseResponse")?;
    let id_op = required(&fields, "idOp")?;
    if id_op.is_empty() || id_op.len() > 64 {
        return Err(AnswerError::Malformed(format!("idOp {id_op:?}")));
    }
    Ok(id_op)
}

pub fn parse_detail(xml: &str) -> Result<Detail, AnswerError> {
    let fields = read_return(xml, "recupererDetailPaiementSecuriseResponse")?;
    let amount = required(&fields, "montant")?;
    let amount = amount
        .parse::<i64>()
        .map_err(|_| AnswerError::Malformed(format!("montant {amount:?}")))?;
    let at = match (
        optional(&fields, "dattrans"),
        optional(&fields, "heurtrans"),
    ) {
        (Some(d), Some(h)) => Some(paris_wall_clock(&d, &h)?),
        (Some(d), None) => Some(paris_wall_clock(&d, "0000")?),
        _ => None,
    };
    Ok(Detail {
        id_op: required(&fields, "idOp")?,
        result: TransactionResult::parse(&required(&fields, "resultrans")?),
        amount: Cents(amount),
        numcli: required(&fields, "numcli")?,
        refdet: required(&fields, "refdet")?,
        exer: optional(&fields, "exer").unwrap_or_default(),
        authorisation: optional(&fields, "numauto"),
        at,
        saisie: optional(&fields, "saisie").and_then(|s| Saisie::parse(&s)),
        mel: optional(&fields, "mel").unwrap_or_default(),
        objet: optional(&fields, "objet").unwrap_or_default(),
    })
}

pub fn parse_client(xml: &str) -> Result<Client, AnswerError> {
    let fields = read_return(xml, "recupererDetailClientResponse")?;
    Ok(Client {
        numcli: required(&fields, "numcli")?,
        labels: ["libelleN1", "libelleN2", "libelleN3"]
            .iter()
            .filter_map(|name| optional(&fields, name))
            .collect(),
    })
}

/// `DDMMYYYY` and `HHMM`, Paris time.
fn paris_wall_clock(date: &str, time: &str) -> Result<NaiveDateTime, AnswerError> {
    let bad = || AnswerError::Malformed(format!("dattrans {date:?} heurtrans {time:?}"));
    let date = NaiveDate::parse_from_str(date, "%d%m%Y").map_err(|_| bad())?;
    let time = NaiveTime::parse_from_str(time, "%H%M").map_err(|_| bad())?;
    Ok(date.and_time(time))
}

type Fields = Vec<(String, String)>;

fn required(fields: &Fields, name: &'static str) -> Result<String, AnswerError> {
    optional(fields, name).ok_or_else(|| AnswerError::Malformed(format!("no {name}")))
}

fn optional(fields: &Fields, name: &str) -> Option<String> {
    fields
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// The `return` element's fields of the expected response, or the fault the body holds.
fn read_return(xml: &str, response: &str) -> Result<Fields, AnswerError> {
    let doc = roxmltree::Document::parse(xml)
        .map_err(|e| AnswerError::Malformed(format!("not XML: {e}")))?;
    let body = doc
        .root_element()
        .children()
        .find(|n| n.is_element() && n.tag_name().name() == "Body")
        .ok_or_else(|| AnswerError::Malformed("no SOAP Body".into()))?;
    let first = body
        .children()
        .find(|n| n.is_element())
        .ok_or_else(|| AnswerError::Malformed("empty SOAP Body".into()))?;
    if first.tag_name().name() == "Fault" {
        return Err(read_fault(first));
    }
    if first.tag_name().name() != response {
        return Err(AnswerError::Malformed(format!(
            "expected {response}, got {}",
            first.tag_name().name()
        )));
    }
    let ret = first
        .children()
        .find(|n| n.is_element() && n.tag_name().name() == "return")
        .ok_or_else(|| AnswerError::Malformed("no return element".into()))?;
    Ok(ret
        .children()
        .filter(|n| n.is_element())
        .map(|n| {
            (
                n.tag_name().name().to_owned(),
                n.text().unwrap_or("").to_owned(),
            )
        })
        .collect())
}

fn read_fault(fault: roxmltree::Node) -> AnswerError {
    let detail = fault
        .children()
        .find(|n| n.is_element() && n.tag_name().name() == "detail")
        .and_then(|d| {
            d.children()
                .filter(|n| n.is_element())
                .find_map(|n| FaultKind::from_element(n.tag_name().name()).map(|k| (k, n)))
        });
    let Some((kind, node)) = detail else {
        let text = fault
            .descendants()
            .find(|n| n.tag_name().name() == "faultstring")
            .and_then(|n| n.text())
            .unwrap_or("")
            .to_owned();
        return AnswerError::Malformed(format!("unknown SOAP fault {text:?}"));
    };
    let field = |name: &str| {
        node.children()
            .find(|n| n.is_element() && n.tag_name().name() == name)
            .and_then(|n| n.text())
            .unwrap_or("")
            .trim()
            .to_owned()
    };
    AnswerError::Fault(Fault {
        kind,
        code: field("code"),
        label: field("libelle"),
        description: field("descriptif"),
        severity: field("severite").parse().ok(),
    })
}

/// What Cantine stored when it opened the operation, before redirecting the family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub id_op: String,
    pub numcli: NumCli,
    pub refdet: RefDet,
    pub exer: i32,
    pub amount: Cents,
    pub saisie: Saisie,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Means {
    Card,
    Debit,
}

/// A field of a paid answer that is not the attempt's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mismatch {
    IdOp {
        answered: String,
    },
    Amount {
        answered: Cents,
    },
    NumCli {
        answered: String,
    },
    RefDet {
        answered: String,
    },
    Exer {
        answered: String,
    },
    /// A test payment (`saisie` `T`) answered for an attempt outside test mode.
    TestPayment,
}

/// What to do with an attempt after asking PayFiP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Credit the ledger, once.
    Paid {
        means: Means,
        amount: Cents,
        authorisation: Option<String>,
        at: Option<DateTime<Utc>>,
    },
    Refused {
        means: Means,
    },
    Abandoned,
    /// Not decided yet: ask again later.
    Pending,
    /// Past the operation's windows with no decision: nothing was paid.
    Expired,
    /// A paid answer that is not this attempt's: credit nothing, alert.
    Mismatch(Vec<Mismatch>),
    /// A final fault or an unknown result: nothing was paid; logged with its code.
    Failed(String),
    /// A technical fault or a malformed answer: ask again after a pause.
    Retry(String),
}

/// Judges PayFiP's answer about an attempt, at `now`.
///
/// - A paid answer credits only when `idOp`, amount, `numcli` and `refdet` are the attempt's,
///   the echoed `exer` is the year or its truncation (the service echoes `20` for 2019), and a
///   test payment does not answer a real attempt.
/// - `P5` (not decided) stays pending for [`UNDECIDED_WINDOW`] after the attempt opened, then
///   expires; `P1` (unknown operation) is also what an operation not yet registered answers, so
///   it expires only after [`OPERATION_LIFETIME`].
/// - An abandon younger than [`ABANDON_SETTLING`] may still be followed by a payment.
pub fn judge(
    attempt: &Attempt,
    answer: &Result<Detail, AnswerError>,
    now: DateTime<Utc>,
) -> Verdict {
    let age = now - attempt.created_at;
    let detail = match answer {
        Ok(detail) => detail,
        Err(AnswerError::Fault(fault)) if fault.undecided() => {
            return if age < UNDECIDED_WINDOW {
                Verdict::Pending
            } else {
                Verdict::Expired
            };
        }
        Err(AnswerError::Fault(fault)) if fault.unknown_operation() => {
            return if age < OPERATION_LIFETIME {
                Verdict::Pending
            } else {
                Verdict::Expired
            };
        }
        Err(error) if error.retryable() => return Verdict::Retry(error.to_string()),
        Err(error) => return Verdict::Failed(error.to_string()),
    };
    let means = match detail.result {
        TransactionResult::PaidByCard | TransactionResult::Refused => Means::Card,
        TransactionResult::PaidByDebit | TransactionResult::DebitRefused => Means::Debit,
        TransactionResult::Abandoned => {
            let recent = detail
                .at_utc()
                .is_some_and(|at| now - at < ABANDON_SETTLING);
            return if recent {
                Verdict::Pending
            } else {
                Verdict::Abandoned
            };
        }
        TransactionResult::Other(ref code) => {
            return Verdict::Failed(format!("PayFiP resultrans {code:?}"));
        }
    };
    if matches!(
        detail.result,
        TransactionResult::Refused | TransactionResult::DebitRefused
    ) {
        return Verdict::Refused { means };
    }
    let mismatches = mismatches(attempt, detail);
    if !mismatches.is_empty() {
        return Verdict::Mismatch(mismatches);
    }
    Verdict::Paid {
        means,
        amount: detail.amount,
        authorisation: detail.authorisation.clone(),
        at: detail.at_utc(),
    }
}

fn mismatches(attempt: &Attempt, detail: &Detail) -> Vec<Mismatch> {
    let mut found = Vec::new();
    if detail.id_op != attempt.id_op {
        found.push(Mismatch::IdOp {
            answered: detail.id_op.clone(),
        });
    }
    if detail.amount != attempt.amount {
        found.push(Mismatch::Amount {
            answered: detail.amount,
        });
    }
    if detail.numcli != attempt.numcli.as_str() {
        found.push(Mismatch::NumCli {
            answered: detail.numcli.clone(),
        });
    }
    if detail.refdet != attempt.refdet.as_str() {
        found.push(Mismatch::RefDet {
            answered: detail.refdet.clone(),
        });
    }
    let year = attempt.exer.to_string();
    let echoed = detail.exer.as_str();
    let truncation = echoed.len() >= 2 && year.starts_with(echoed);
    if !echoed.is_empty() && !truncation {
        found.push(Mismatch::Exer {
            answered: detail.exer.clone(),
        });
    }
    if detail.saisie == Some(Saisie::Test) && attempt.saisie != Saisie::Test {
        found.push(Mismatch::TestPayment);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> PaymentRequest {
        PaymentRequest::new(
            NumCli::new("012345").unwrap(),
            2026,
            RefDet::for_attempt("CANT-2026-000123", 1).unwrap(),
            "Facture n° CANT-2026-000123 – cantine de Léa & Zoé",
            Cents(4_250),
            "famille.martin@techniville.test",
            "https://cantine.techniville.test/paiements/payfip/notification",
            "https://cantine.techniville.test/paiements/retour",
            Saisie::Test,
        )
        .unwrap()
    }

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    fn attempt() -> Attempt {
        let r = request();
        Attempt {
            id_op: "5b4d2c1e-9a7f-11f1-8c2e-0242ac120002".into(),
            numcli: r.numcli,
            refdet: r.refdet,
            exer: r.exer,
            amount: r.amount,
            saisie: r.saisie,
            created_at: utc("2026-12-02T10:00:00Z"),
        }
    }

    fn paid(result: TransactionResult) -> Detail {
        let a = attempt();
        Detail {
            id_op: a.id_op,
            result,
            amount: a.amount,
            numcli: "012345".into(),
            refdet: "CANT2026000123T1".into(),
            exer: "2026".into(),
            authorisation: Some("A12345".into()),
            at: Some(
                NaiveDate::from_ymd_opt(2026, 12, 2)
                    .unwrap()
                    .and_hms_opt(11, 4, 0)
                    .unwrap(),
            ),
            saisie: Some(Saisie::Test),
            mel: "famille.martin@techniville.test".into(),
            objet: "Facture n CANT 2026 000123 cantine de Lea Zoe".into(),
        }
    }

    fn fault(kind: FaultKind, code: &str) -> AnswerError {
        AnswerError::Fault(Fault {
            kind,
            code: code.into(),
            label: "Résultat de la transaction non connu.".into(),
            description: String::new(),
            severity: Some(2),
        })
    }

    #[test]
    fn the_create_envelope_has_unqualified_fields_in_the_wsdls_order() {
        let xml = create_envelope(&request());
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let op = doc
            .descendants()
            .find(|n| n.tag_name().name() == "creerPaiementSecurise")
            .unwrap();
        assert_eq!(op.tag_name().namespace(), Some(SERVICE_NAMESPACE));
        let arg0 = op.first_element_child().unwrap();
        assert_eq!(arg0.tag_name().name(), "arg0");
        assert_eq!(arg0.tag_name().namespace(), None);
        let fields: Vec<(&str, &str)> = arg0
            .children()
            .filter(|n| n.is_element())
            .map(|n| (n.tag_name().name(), n.text().unwrap_or("")))
            .collect();
        assert_eq!(
            fields,
            [
                ("exer", "2026"),
                ("mel", "famille.martin@techniville.test"),
                ("montant", "4250"),
                ("numcli", "012345"),
                ("objet", "Facture n CANT 2026 000123 cantine de Lea Zoe"),
                ("refdet", "CANT2026000123T1"),
                ("saisie", "T"),
                (
                    "urlnotif",
                    "https://cantine.techniville.test/paiements/payfip/notification"
                ),
                (
                    "urlredirect",
                    "https://cantine.techniville.test/paiements/retour"
                ),
            ]
        );
        assert!(detail_envelope("x-1").contains("<idOp>x-1</idOp>"));
        assert!(
            client_envelope(&NumCli::new("012345").unwrap()).contains("<numCli>012345</numCli>")
        );
    }

    #[test]
    fn request_fields_are_checked_before_anything_is_sent() {
        assert_eq!(NumCli::new("12345"), Err(RequestError::NumCli));
        assert_eq!(NumCli::new("12345a"), Err(RequestError::NumCli));
        assert_eq!(RefDet::new("ABCD"), Err(RequestError::RefDet));
        assert_eq!(RefDet::new("ABC-DEF"), Err(RequestError::RefDet));
        assert_eq!(RefDet::new(&"A".repeat(31)), Err(RequestError::RefDet));
        assert!(RefDet::new(&"A".repeat(30)).is_ok());
        let r = request();
        let with = |amount: Cents, mel: &str, url: &str| {
            PaymentRequest::new(
                r.numcli.clone(),
                2026,
                r.refdet.clone(),
                "x",
                amount,
                mel,
                url,
                url,
                Saisie::Production,
            )
        };
        let url = "https://a.test/";
        assert_eq!(with(Cents(99), "a@b.fr", url), Err(RequestError::Amount));
        assert!(with(Cents(100), "a@b.fr", url).is_ok());
        assert!(with(Cents(10_000_000), "a@b.fr", url).is_ok());
        assert_eq!(
            with(Cents(10_000_001), "a@b.fr", url),
            Err(RequestError::Amount)
        );
        assert_eq!(with(Cents(100), "a@b", url), Err(RequestError::Mel));
        assert_eq!(with(Cents(100), "abcdefgh", url), Err(RequestError::Mel));
        assert_eq!(
            with(Cents(100), "a@b.fr", "/relative"),
            Err(RequestError::Url("urlnotif"))
        );
    }

    #[test]
    fn objet_keeps_ascii_letters_digits_and_single_spaces_up_to_100() {
        assert_eq!(
            objet("  Cantine d'Œdipe — décembre   2026 ! "),
            "Cantine d OEdipe decembre 2026"
        );
        assert_eq!(objet("€€€"), "");
        let long = objet(&"é".repeat(150));
        assert_eq!(long, "e".repeat(100));
        assert!(objet(&"ab ".repeat(60)).len() <= 100);
        assert!(!objet(&"ab ".repeat(60)).ends_with(' '));
    }

    /// The wire form of PayFiP's answers (namespace prefixes `S`/`ns2`, fields unqualified,
    /// accents as numeric references), as recorded exchanges of the real service show it.
    #[test]
    fn answers_and_faults_are_read_as_payfip_writes_them() {
        let create = "<S:Envelope xmlns:S=\"http://schemas.xmlsoap.org/soap/envelope/\">\n  <S:Body>\n    <ns2:creerPaiementSecuriseResponse xmlns:ns2=\"http://securite.service.tpa.cp.finances.gouv.fr/services/mas_securite/contrat_paiement_securise/PaiementSecuriseService\">\n      <return>\n        <idOp>9f1c2e3a-0b4d-11f1-8a6b-0242ac120003</idOp>\n      </return>\n    </ns2:creerPaiementSecuriseResponse>\n  </S:Body>\n</S:Envelope>\n";
        assert_eq!(
            parse_create(create).unwrap(),
            "9f1c2e3a-0b4d-11f1-8a6b-0242ac120003"
        );
        let detail = "<S:Envelope xmlns:S=\"http://schemas.xmlsoap.org/soap/envelope/\"><S:Body><ns2:recupererDetailPaiementSecuriseResponse xmlns:ns2=\"http://securite.service.tpa.cp.finances.gouv.fr/services/mas_securite/contrat_paiement_securise/PaiementSecuriseService\"><return>\n   <dattrans>29032026</dattrans><exer>20</exer><heurtrans>0230</heurtrans><idOp>9f1c</idOp><mel>a@b.fr</mel><montant>1000</montant><numauto>998877-tip</numauto><numcli>012345</numcli><objet>x</objet><refdet>ABCDEF12</refdet><resultrans>V</resultrans><saisie>T</saisie>\n</return></ns2:recupererDetailPaiementSecuriseResponse></S:Body></S:Envelope>";
        let d = parse_detail(detail).unwrap();
        assert_eq!(d.result, TransactionResult::PaidByDebit);
        assert_eq!(d.amount, Cents(1000));
        assert_eq!(d.exer, "20");
        assert_eq!(d.authorisation.as_deref(), Some("998877-tip"));
        assert_eq!(d.saisie, Some(Saisie::Test));
        // 29 March 2026 02:30 does not exist in Paris (the clocks jump to 03:00): no instant.
        assert_eq!(d.at_utc(), None);
        let fault_xml = "<S:Envelope xmlns:S=\"http://schemas.xmlsoap.org/soap/envelope/\"><S:Body><S:Fault xmlns:ns4=\"http://www.w3.org/2003/05/soap-envelope\"><faultcode>S:Server</faultcode><faultstring>fr.gouv.finances.cp.tpa.webservice.exceptions.FonctionnelleErreur</faultstring><detail><ns2:FonctionnelleErreur xmlns:ns2=\"http://securite.service.tpa.cp.finances.gouv.fr/services/mas_securite/contrat_paiement_securise/PaiementSecuriseService\"><code>P5</code><descriptif/>\n <libelle>R&#233;sultat de la transaction non connu.</libelle><severite>2</severite></ns2:FonctionnelleErreur></detail></S:Fault></S:Body></S:Envelope>";
        match parse_detail(fault_xml) {
            Err(AnswerError::Fault(f)) => {
                assert_eq!(f.kind, FaultKind::Functional);
                assert_eq!(f.code, "P5");
                assert_eq!(f.label, "Résultat de la transaction non connu.");
                assert_eq!(f.severity, Some(2));
                assert!(f.undecided() && f.retryable());
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse_detail("<html>502 Bad Gateway</html>"),
            Err(AnswerError::Malformed(_))
        ));
        assert!(matches!(
            parse_create("not xml"),
            Err(AnswerError::Malformed(_))
        ));
    }

    #[test]
    fn each_fault_kind_round_trips_and_is_classified() {
        for kind in FaultKind::ALL {
            let f = Fault {
                kind,
                code: "T2".into(),
                label: "Numéro client inconnu".into(),
                description: "d".into(),
                severity: Some(3),
            };
            match parse_detail(&f.envelope()) {
                Err(AnswerError::Fault(read)) => assert_eq!(read, f),
                other => panic!("{other:?}"),
            }
            assert_eq!(f.retryable(), kind != FaultKind::Functional);
        }
        let p1 = Fault {
            kind: FaultKind::Functional,
            code: "P1".into(),
            label: String::new(),
            description: String::new(),
            severity: None,
        };
        assert!(!p1.retryable() && p1.unknown_operation());
    }

    #[test]
    fn the_simulators_answers_read_back_identically() {
        let d = paid(TransactionResult::PaidByCard);
        assert_eq!(parse_detail(&d.envelope()).unwrap(), d);
        assert_eq!(parse_create(&create_answer_envelope("abc")).unwrap(), "abc");
        let client = response_envelope(
            "recupererDetailClient",
            "<libelleN1>REGIE CANTINE</libelleN1><libelleN2>TECHNIVILLE</libelleN2><numcli>012345</numcli>",
        );
        let expected = Client {
            numcli: "012345".into(),
            labels: vec!["REGIE CANTINE".into(), "TECHNIVILLE".into()],
        };
        assert_eq!(parse_client(&client).unwrap(), expected);
        assert_eq!(parse_client(&expected.envelope()).unwrap(), expected);
    }

    #[test]
    fn a_matching_paid_answer_credits_with_its_paris_instant() {
        let now = utc("2026-12-02T10:30:00Z");
        assert_eq!(
            judge(&attempt(), &Ok(paid(TransactionResult::PaidByCard)), now),
            Verdict::Paid {
                means: Means::Card,
                amount: Cents(4_250),
                authorisation: Some("A12345".into()),
                // 11:04 in Paris in December is 10:04 UTC.
                at: Some(utc("2026-12-02T10:04:00Z")),
            }
        );
        let mut truncated = paid(TransactionResult::PaidByDebit);
        truncated.exer = "20".into();
        assert!(matches!(
            judge(&attempt(), &Ok(truncated), now),
            Verdict::Paid {
                means: Means::Debit,
                ..
            }
        ));
    }

    #[test]
    fn a_paid_answer_for_anything_else_credits_nothing() {
        let now = utc("2026-12-02T10:30:00Z");
        type Change = fn(&mut Detail);
        let cases: [(Change, Mismatch); 6] = [
            (
                |d| d.amount = Cents(4_249),
                Mismatch::Amount {
                    answered: Cents(4_249),
                },
            ),
            (
                |d| d.numcli = "999999".into(),
                Mismatch::NumCli {
                    answered: "999999".into(),
                },
            ),
            (
                |d| d.refdet = "CANT2026000124T1".into(),
                Mismatch::RefDet {
                    answered: "CANT2026000124T1".into(),
                },
            ),
            (
                |d| d.exer = "2025".into(),
                Mismatch::Exer {
                    answered: "2025".into(),
                },
            ),
            (
                |d| d.id_op = "other".into(),
                Mismatch::IdOp {
                    answered: "other".into(),
                },
            ),
            (
                |d| d.exer = "2".into(),
                Mismatch::Exer {
                    answered: "2".into(),
                },
            ),
        ];
        for (change, expected) in cases {
            let mut d = paid(TransactionResult::PaidByCard);
            change(&mut d);
            assert_eq!(
                judge(&attempt(), &Ok(d), now),
                Verdict::Mismatch(vec![expected])
            );
        }
        let mut production = attempt();
        production.saisie = Saisie::Production;
        assert_eq!(
            judge(&production, &Ok(paid(TransactionResult::PaidByCard)), now),
            Verdict::Mismatch(vec![Mismatch::TestPayment])
        );
    }

    #[test]
    fn refusals_abandons_and_undecided_answers_follow_the_windows() {
        let a = attempt();
        let at = |m: i64| a.created_at + Duration::minutes(m);
        assert_eq!(
            judge(&a, &Ok(paid(TransactionResult::Refused)), at(10)),
            Verdict::Refused { means: Means::Card }
        );
        assert_eq!(
            judge(&a, &Ok(paid(TransactionResult::DebitRefused)), at(10)),
            Verdict::Refused {
                means: Means::Debit
            }
        );
        // The abandon was at 11:04 Paris (10:04 UTC): pending for two minutes after that.
        let abandoned = Ok(paid(TransactionResult::Abandoned));
        assert_eq!(judge(&a, &abandoned, at(5)), Verdict::Pending);
        assert_eq!(judge(&a, &abandoned, at(6)), Verdict::Abandoned);
        let p5 = Err(fault(FaultKind::Functional, "P5"));
        assert_eq!(judge(&a, &p5, at(119)), Verdict::Pending);
        assert_eq!(judge(&a, &p5, at(120)), Verdict::Expired);
        let p1 = Err(fault(FaultKind::Functional, "P1"));
        assert_eq!(judge(&a, &p1, at(14)), Verdict::Pending);
        assert_eq!(judge(&a, &p1, at(15)), Verdict::Expired);
        assert!(matches!(
            judge(&a, &Err(fault(FaultKind::Functional, "R3")), at(1)),
            Verdict::Failed(_)
        ));
        for kind in [
            FaultKind::TechMalfunction,
            FaultKind::TechUnavailable,
            FaultKind::TechProtocol,
        ] {
            assert!(matches!(
                judge(&a, &Err(fault(kind, "")), at(1)),
                Verdict::Retry(_)
            ));
        }
        assert!(matches!(
            judge(&a, &Err(AnswerError::Malformed("x".into())), at(1)),
            Verdict::Retry(_)
        ));
        assert!(matches!(
            judge(&a, &Ok(paid(TransactionResult::Other("E".into()))), at(1)),
            Verdict::Failed(_)
        ));
    }
}
