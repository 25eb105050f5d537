//! The PayFiP SOAP client: a POST of the envelope `cantine_domain::payfip` writes, and its
//! answer read back by the same module. Hand-written over reqwest (SOAP 1.1,
//! document/literal, `SOAPAction: ""`), one timeout per call. Which host it reaches is the
//! configuration's alone (`payfip.endpoint`): the simulator and the real service are asked the
//! same way.

use std::time::Duration;

use cantine_domain::payfip::{self, AnswerError, Client, Detail, NumCli, PaymentRequest};
use url::Url;

/// One client per process: it keeps connections and the TLS configuration.
#[derive(Clone)]
pub struct PayfipClient {
    http: reqwest::Client,
    endpoint: Url,
}

impl PayfipClient {
    pub fn new(endpoint: Url, timeout: Duration) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("cantine/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { http, endpoint })
    }

    /// `creerPaiementSecurise`: the new operation's `idOp`.
    pub async fn create(&self, request: &PaymentRequest) -> Result<String, AnswerError> {
        let xml = self.call(payfip::create_envelope(request)).await?;
        payfip::parse_create(&xml)
    }

    /// `recupererDetailPaiementSecurise`: the operation's result, or the fault saying why not.
    pub async fn detail(&self, id_op: &str) -> Result<Detail, AnswerError> {
        let xml = self.call(payfip::detail_envelope(id_op)).await?;
        payfip::parse_detail(&xml)
    }

    /// `recupererDetailClient`: the régie's labels, to check a `numcli`.
    pub async fn client(&self, numcli: &NumCli) -> Result<Client, AnswerError> {
        let xml = self.call(payfip::client_envelope(numcli)).await?;
        payfip::parse_client(&xml)
    }

    /// The answer's body whatever its HTTP status: a SOAP fault comes with a 500. A transport
    /// error (refused, timed out, cut) reads as a malformed answer, which is retryable.
    async fn call(&self, envelope: String) -> Result<String, AnswerError> {
        let response = self
            .http
            .post(self.endpoint.clone())
            .header("content-type", "text/xml; charset=utf-8")
            .header("soapaction", "\"\"")
            .body(envelope)
            .send()
            .await
            .map_err(|e| AnswerError::Malformed(format!("transport: {}", without_url(&e))))?;
        let status = response.status();
        let body = response
            .text()
            .await
            .map_err(|e| AnswerError::Malformed(format!("transport: {}", without_url(&e))))?;
        if body.trim().is_empty() {
            return Err(AnswerError::Malformed(format!(
                "HTTP {status} with no body"
            )));
        }
        Ok(body)
    }
}

fn without_url(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    let mut source = std::error::Error::source(e);
    let mut detail = String::new();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind} ({detail})")
    }
}
