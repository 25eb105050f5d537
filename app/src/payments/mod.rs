//! Online payments of invoices through the DGFiP's PayFiP web service.
//!
//! - **Start** ([`start_payment`]): the invoice's remaining due, one invoice per payment.
//!   `creerPaiementSecurise` first; the attempt is recorded only with the `idOp` it answered,
//!   in one statement, so a fault or a crash before leaves no attempt. A second attempt is
//!   refused while one may still succeed (pending: its page open for 15 minutes, or PayFiP
//!   undecided; or a mismatch finance has to look at), after asking PayFiP about the pending
//!   ones.
//! - **Check** ([`check_attempt`]): the notification, the return page, the API and the
//!   reconciliation all ask `recupererDetailPaiementSecurise` and apply
//!   `cantine_domain::payfip::judge`'s verdict in one transaction under the attempt's row
//!   lock; a paid answer credits the ledger in that transaction, with the idempotency key
//!   `payfip:<idOp>` as a second guard. A notification is never trusted: it only says when to
//!   ask.
//! - **Reconcile** ([`reconcile`], [`run`]): pending attempts are asked again when due, every
//!   minute while young, every 5 minutes after, with a doubling pause (1 minute to 1 hour)
//!   after technical faults; `P5` keeps an attempt pending for 2 hours, `P1` for 15 minutes.

pub mod mismatches;
mod soap;
pub mod store;

use std::sync::Arc;
use std::time::Duration;

use cantine_domain::ids::HouseholdId;
use cantine_domain::money::Cents;
use cantine_domain::payfip::{
    self, AnswerError, Attempt, Detail, Mismatch, NumCli, PaymentRequest, RefDet, Saisie, Verdict,
};
use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::Paris;
use serde::Serialize;
use serde_json::json;
use sqlx::PgPool;
use tokio::sync::watch;

pub use soap::PayfipClient;
use store::{AttemptRow, Filter};

use crate::billing::{self, DocumentKind, InvoiceStatus, PaymentInput, Reader};
use crate::error::{Conflict, Error, PaymentConflict, Result};
use crate::platform::clock::Clock;
use crate::platform::config::Config;
use crate::platform::metrics::Metrics;

/// An attempt's state as families and the API see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pending,
    Paid,
    Refused,
    Abandoned,
    Expired,
}

/// The stored state, which also says `mismatch` and `failed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Pending,
    Paid,
    Refused,
    Abandoned,
    Expired,
    /// PayFiP answered paid for something else: nothing credited, finance looks at it.
    Mismatch,
    /// A final fault or an unknown result: nothing was paid.
    Failed,
}

impl State {
    pub fn code(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Paid => "paid",
            State::Refused => "refused",
            State::Abandoned => "abandoned",
            State::Expired => "expired",
            State::Mismatch => "mismatch",
            State::Failed => "failed",
        }
    }

    fn from_code(code: &str) -> Result<State> {
        [
            State::Pending,
            State::Paid,
            State::Refused,
            State::Abandoned,
            State::Expired,
            State::Mismatch,
            State::Failed,
        ]
        .into_iter()
        .find(|s| s.code() == code)
        .ok_or_else(|| anyhow::anyhow!("stored payfip_attempt.state {code:?}").into())
    }

    /// What the family is told: a mismatch is still being looked at (the money may have been
    /// taken), a failure paid nothing.
    pub fn status(self) -> Status {
        match self {
            State::Pending | State::Mismatch => Status::Pending,
            State::Paid => Status::Paid,
            State::Refused | State::Failed => Status::Refused,
            State::Abandoned => Status::Abandoned,
            State::Expired => Status::Expired,
        }
    }
}

/// One online payment attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Payment {
    pub id: i64,
    pub invoice_id: i64,
    pub invoice_number: Option<String>,
    pub household: HouseholdId,
    pub regie: String,
    pub refdet: String,
    pub attempt: i32,
    pub amount: Cents,
    pub id_op: String,
    pub created_at: DateTime<Utc>,
    pub state: State,
    pub status: Status,
    /// `card` or `debit`, once PayFiP said.
    pub means: Option<String>,
    pub authorisation: Option<String>,
    pub transaction_at: Option<DateTime<Utc>>,
    pub payment_id: Option<i64>,
    pub decided_at: Option<DateTime<Utc>>,
    pub checked_at: Option<DateTime<Utc>>,
    pub tries: i32,
    pub last_fault: Option<String>,
}

impl TryFrom<AttemptRow> for Payment {
    type Error = Error;

    fn try_from(r: AttemptRow) -> Result<Self> {
        let state = State::from_code(&r.state)?;
        Ok(Payment {
            id: r.id,
            invoice_id: r.invoice_id,
            invoice_number: r.invoice_number,
            household: HouseholdId(r.household_id),
            regie: r.regie,
            refdet: r.refdet,
            attempt: r.attempt,
            amount: Cents(r.amount_cents),
            id_op: r.id_op,
            created_at: r.created_at,
            state,
            status: state.status(),
            means: r.means,
            authorisation: r.authorisation,
            transaction_at: r.transaction_at,
            payment_id: r.payment_id,
            decided_at: r.decided_at,
            checked_at: r.checked_at,
            tries: r.tries,
            last_fault: r.last_fault,
        })
    }
}

/// Where PayFiP calls back: absolute URLs of this site, built by the edge.
#[derive(Debug, Clone)]
pub struct Callbacks {
    /// `urlnotif`.
    pub notification: String,
    /// `urlredirect` is this followed by the attempt's `refdet`.
    pub return_prefix: String,
}

/// What the payment services need: cheap to clone, so the worker owns one.
#[derive(Clone)]
pub struct Payments {
    pub pool: PgPool,
    pub config: Arc<Config>,
    pub client: PayfipClient,
    pub metrics: Arc<Metrics>,
    pub clock: Arc<dyn Clock>,
    pub callbacks: Callbacks,
}

/// A started payment: where to send the family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    pub payment: Payment,
    pub redirect_url: String,
}

/// Whether the invoice page should offer « Payer en ligne »: an issued invoice with something
/// left to pay, of a régie with a PayFiP client number, within PayFiP's amounts.
/// [`start_payment`] judges it again (and whether an earlier attempt is still live).
pub fn offered(config: &Config, invoice: &billing::InvoiceSummary) -> bool {
    let due = Cents(invoice.amount.get() - invoice.paid.get());
    invoice.kind == DocumentKind::Invoice
        && matches!(
            invoice.status,
            InvoiceStatus::Issued | InvoiceStatus::PartiallyPaid
        )
        && (payfip::MIN_AMOUNT..=payfip::MAX_AMOUNT).contains(&due)
        && config.payfip.numcli(&invoice.regie).is_some()
}

fn conflict(c: PaymentConflict) -> Error {
    Error::Conflict(Conflict::Payment(c))
}

/// Opens a PayFiP operation for what is left to pay on the household's invoice and answers
/// the payment page to send the family to. `mel` is the payer's address (PayFiP mails the
/// receipt there).
pub async fn start_payment(
    p: &Payments,
    household: HouseholdId,
    invoice_id: i64,
    mel: &str,
) -> Result<Started> {
    let invoice = billing::invoice(&p.pool, Reader::Household(household), invoice_id).await?;
    let s = &invoice.summary;
    let payable = s.kind == DocumentKind::Invoice
        && matches!(
            s.status,
            InvoiceStatus::Issued | InvoiceStatus::PartiallyPaid
        );
    let due = Cents(s.amount.get() - s.paid.get());
    let Some(number) = s.number.as_deref().filter(|_| payable && due > Cents::ZERO) else {
        return Err(conflict(PaymentConflict::NothingToPay));
    };
    let numcli = p
        .config
        .payfip
        .numcli(&s.regie)
        .ok_or(conflict(PaymentConflict::NotOffered))?;
    if due < payfip::MIN_AMOUNT || due > payfip::MAX_AMOUNT {
        return Err(conflict(PaymentConflict::NotOffered));
    }
    // An earlier attempt may have been decided without a notification: ask before refusing.
    let earlier = {
        let mut conn = p.pool.acquire().await?;
        store::attempts(
            &mut conn,
            Filter {
                household: Some(household.get()),
                ..Filter::default()
            },
        )
        .await?
    };
    // (A mismatch finance has not resolved is refused below, under the lock.)
    let mut live = false;
    for a in earlier
        .iter()
        .filter(|a| a.invoice_id == invoice_id && a.state == "pending")
    {
        let state = check_attempt(p, &a.id_op)
            .await?
            .map_or(State::Pending, |p| p.state);
        live |= matches!(state, State::Pending | State::Mismatch);
    }
    if live {
        return Err(conflict(PaymentConflict::InProgress));
    }
    // From here to the attempt's insert, one start at a time per invoice: a concurrent one
    // waits, then finds this attempt and is told `payment_in_progress` without opening a
    // second PayFiP operation (with the same `refdet`). The transaction waits on PayFiP
    // (at most `payfip.timeout_secs`), but only starts of this invoice wait on it.
    let mut tx = p.pool.begin().await?;
    store::lock_invoice_starts(&mut tx, invoice_id).await?;
    if store::live_attempts(&mut tx, invoice_id).await? > 0 {
        return Err(conflict(PaymentConflict::InProgress));
    }
    let attempt = store::next_attempt(&mut tx, invoice_id).await?;
    let refdet = RefDet::for_attempt(number, u32::try_from(attempt).unwrap_or(u32::MAX))
        .map_err(|e| anyhow::anyhow!("refdet of invoice {number}: {e}"))?;
    let issued = s.issued_at.unwrap_or_else(|| p.clock.now());
    let exer = issued.with_timezone(&Paris).year();
    let saisie = p.config.payfip.saisie();
    let return_url = format!("{}{}", p.callbacks.return_prefix, refdet.as_str());
    let request = PaymentRequest::new(
        numcli.clone(),
        exer,
        refdet.clone(),
        &format!("Facture {number}"),
        due,
        mel,
        &p.callbacks.notification,
        &return_url,
        saisie,
    )
    .map_err(|e| match e {
        payfip::RequestError::Mel => Error::Invalid(crate::error::Invalid::Email),
        other => anyhow::anyhow!("PayFiP request for invoice {number}: {other}").into(),
    })?;
    let id_op = match p.client.create(&request).await {
        Ok(id_op) => id_op,
        Err(e) => {
            tracing::warn!(invoice = invoice_id, refdet = refdet.as_str(), fault = %e,
                "PayFiP refused to open a payment");
            return Err(conflict(match &e {
                AnswerError::Fault(f) if !e.retryable() => PaymentConflict::Refused {
                    code: f.code.clone(),
                },
                _ => PaymentConflict::Unavailable,
            }));
        }
    };
    let now = p.clock.now();
    let id = store::insert_attempt(
        &mut tx,
        store::NewAttempt {
            invoice_id,
            household_id: household.get(),
            regie: &s.regie,
            numcli: numcli.as_str(),
            exer,
            refdet: refdet.as_str(),
            attempt,
            amount_cents: due.get(),
            saisie: saisie.code(),
            mel,
            id_op: &id_op,
            created_at: now,
            next_check_at: now + chrono::Duration::minutes(1),
        },
    )
    .await
    .map_err(|e| {
        crate::error::on_constraint(e, |name| {
            matches!(
                name,
                "payfip_attempt_one_pending"
                    | "payfip_attempt_number_unique"
                    | "payfip_attempt_refdet_unique"
            )
            .then(|| conflict(PaymentConflict::InProgress))
        })
    })?;
    tx.commit().await?;
    tracing::info!(invoice = invoice_id, refdet = refdet.as_str(), id_op = %id_op,
        amount_cents = due.get(), "PayFiP payment opened");
    let payment = one(
        &p.pool,
        Filter {
            id: Some(id),
            ..Filter::default()
        },
    )
    .await?
    .ok_or_else(|| anyhow::anyhow!("attempt {id} just recorded is gone"))?;
    let mut page = p.config.payfip.payment_page.clone();
    page.query_pairs_mut().append_pair("idop", &id_op);
    Ok(Started {
        payment,
        redirect_url: page.to_string(),
    })
}

async fn one(pool: &PgPool, filter: Filter<'_>) -> Result<Option<Payment>> {
    let mut conn = pool.acquire().await?;
    store::one(&mut conn, filter)
        .await?
        .map(Payment::try_from)
        .transpose()
}

/// The household's attempts, newest first.
pub async fn payments(pool: &PgPool, household: HouseholdId) -> Result<Vec<Payment>> {
    let mut conn = pool.acquire().await?;
    store::attempts(
        &mut conn,
        Filter {
            household: Some(household.get()),
            ..Filter::default()
        },
    )
    .await?
    .into_iter()
    .map(Payment::try_from)
    .collect()
}

/// One of the household's attempts, asked again at PayFiP while pending; another household's
/// is not found.
pub async fn payment(p: &Payments, household: HouseholdId, id: i64) -> Result<Payment> {
    let filter = Filter {
        id: Some(id),
        household: Some(household.get()),
        ..Filter::default()
    };
    refreshed(p, one(&p.pool, filter).await?).await
}

/// The household's attempt by its `refdet` (the return page's address), asked again while
/// pending.
pub async fn payment_by_refdet(
    p: &Payments,
    household: HouseholdId,
    refdet: &str,
) -> Result<Payment> {
    let filter = Filter {
        refdet: Some(refdet),
        household: Some(household.get()),
        ..Filter::default()
    };
    refreshed(p, one(&p.pool, filter).await?).await
}

/// A pending attempt is asked again at PayFiP at most once per `payfip.refresh_secs` (by
/// whichever of the notification, the reconciliation, `getPayment` or the return page asked
/// last): a client polling in a loop reads the stored state in between and costs PayFiP
/// nothing.
async fn refreshed(p: &Payments, found: Option<Payment>) -> Result<Payment> {
    let found = found.ok_or(Error::NotFound)?;
    if found.state != State::Pending {
        return Ok(found);
    }
    let now = p.clock.now();
    let every = i64::try_from(p.config.payfip.refresh_secs).unwrap_or(i64::MAX);
    let not_since = now - chrono::Duration::seconds(every);
    let claimed = every == 0 || {
        let mut conn = p.pool.acquire().await?;
        store::claim_refresh(&mut conn, found.id, now, not_since).await?
    };
    if !claimed {
        return Ok(found);
    }
    Ok(check_attempt(p, &found.id_op).await?.unwrap_or(found))
}

/// Asks PayFiP about the operation and applies the verdict. An unknown `idOp` (a forged or
/// stray notification) changes nothing and answers `None`; a decided attempt is not asked
/// again.
pub async fn check_attempt(p: &Payments, id_op: &str) -> Result<Option<Payment>> {
    if id_op.is_empty() || id_op.len() > 64 {
        return Ok(None);
    }
    let Some(found) = one(
        &p.pool,
        Filter {
            id_op: Some(id_op),
            ..Filter::default()
        },
    )
    .await?
    else {
        tracing::info!(id_op, "PayFiP notification for no attempt of ours: ignored");
        return Ok(None);
    };
    if found.state != State::Pending {
        return Ok(Some(found));
    }
    // Asked before the row lock is taken: no transaction waits on the network.
    let answer = p.client.detail(id_op).await;
    apply(p, id_op, &answer).await
}

/// Applies PayFiP's answer to the attempt, in one transaction under its row lock.
async fn apply(
    p: &Payments,
    id_op: &str,
    answer: &Result<Detail, AnswerError>,
) -> Result<Option<Payment>> {
    let now = p.clock.now();
    let mut tx = p.pool.begin().await?;
    let Some(row) = store::lock_by_id_op(&mut tx, id_op).await? else {
        return Ok(None);
    };
    if row.state != "pending" {
        // Another notification applied a verdict while we asked.
        tx.rollback().await?;
        return Payment::try_from(row).map(Some);
    }
    let attempt = Attempt {
        id_op: row.id_op.clone(),
        numcli: NumCli::new(&row.numcli).map_err(|e| anyhow::anyhow!("stored numcli: {e}"))?,
        refdet: RefDet::new(&row.refdet).map_err(|e| anyhow::anyhow!("stored refdet: {e}"))?,
        exer: row.exer,
        amount: Cents(row.amount_cents),
        saisie: Saisie::parse(&row.saisie)
            .ok_or_else(|| anyhow::anyhow!("stored saisie {:?}", row.saisie))?,
        created_at: row.created_at,
    };
    let verdict = payfip::judge(&attempt, answer, now);
    p.metrics
        .payfip_checks
        .with_label_values(&[verdict_name(&verdict)])
        .inc();
    let fault = answer.as_ref().err().map(ToString::to_string);
    let decision = |state: &'static str| store::Decision {
        state,
        means: None,
        authorisation: None,
        transaction_at: None,
        payment_id: None,
        fault: None,
        now,
    };
    match &verdict {
        Verdict::Paid {
            means,
            amount,
            authorisation,
            at,
        } => {
            let received_on = at.unwrap_or(now).with_timezone(&Paris).date_naive();
            let outcome = billing::record_payment_in(
                &mut tx,
                &PaymentInput {
                    household: HouseholdId(row.household_id),
                    regie: row.regie.clone(),
                    amount: *amount,
                    means: billing::Means::Payfip,
                    reference: format!(
                        "PayFiP {} {}",
                        row.refdet,
                        authorisation.as_deref().unwrap_or("")
                    ),
                    received_on,
                    idempotency_key: format!("payfip:{}", row.id_op),
                    invoice: Some(row.invoice_id),
                },
            )
            .await?;
            store::decide(
                &mut tx,
                row.id,
                store::Decision {
                    means: Some(means_code(*means)),
                    authorisation: authorisation.as_deref(),
                    transaction_at: *at,
                    payment_id: Some(outcome.payment_id),
                    ..decision("paid")
                },
            )
            .await?;
            tracing::info!(id_op, refdet = %row.refdet, amount_cents = amount.get(),
                payment = outcome.payment_id, new = outcome.new, "PayFiP payment credited");
        }
        Verdict::Refused { means } => {
            store::decide(
                &mut tx,
                row.id,
                store::Decision {
                    means: Some(means_code(*means)),
                    ..decision("refused")
                },
            )
            .await?;
            tracing::info!(id_op, refdet = %row.refdet, "PayFiP payment refused");
        }
        Verdict::Abandoned => {
            store::decide(&mut tx, row.id, decision("abandoned")).await?;
            tracing::info!(id_op, refdet = %row.refdet, "PayFiP payment abandoned");
        }
        Verdict::Expired => {
            store::decide(
                &mut tx,
                row.id,
                store::Decision {
                    fault: fault.as_deref(),
                    ..decision("expired")
                },
            )
            .await?;
            tracing::info!(id_op, refdet = %row.refdet, fault = ?fault,
                "PayFiP payment expired undecided");
        }
        Verdict::Failed(why) => {
            store::decide(
                &mut tx,
                row.id,
                store::Decision {
                    fault: Some(why),
                    ..decision("failed")
                },
            )
            .await?;
            tracing::warn!(id_op, refdet = %row.refdet, fault = %why, "PayFiP payment failed");
        }
        Verdict::Mismatch(found) => {
            let found_json: Vec<_> = found.iter().map(mismatch_json).collect();
            let answer_json = answer.as_ref().map(detail_json).unwrap_or_default();
            store::insert_mismatch(
                &mut tx,
                row.id,
                &serde_json::Value::Array(found_json.clone()),
                &answer_json,
            )
            .await?;
            store::decide(&mut tx, row.id, decision("mismatch")).await?;
            p.metrics.payfip_mismatches.inc();
            tracing::error!(id_op, refdet = %row.refdet, found = %serde_json::Value::Array(found_json),
                "PayFiP answered paid for something else than the attempt: nothing credited");
        }
        Verdict::Pending => {
            let next = now + pending_pause(now - row.created_at);
            store::keep_pending(&mut tx, row.id, now, next, fault.as_deref()).await?;
        }
        Verdict::Retry(why) => {
            let next = now + retry_pause(row.tries);
            store::keep_pending(&mut tx, row.id, now, next, Some(why)).await?;
            tracing::warn!(id_op, refdet = %row.refdet, fault = %why, tries = row.tries + 1,
                next_check_at = %next, "PayFiP could not be asked: will ask again");
        }
    }
    tx.commit().await?;
    one(
        &p.pool,
        Filter {
            id_op: Some(id_op),
            ..Filter::default()
        },
    )
    .await
}

fn verdict_name(v: &Verdict) -> &'static str {
    match v {
        Verdict::Paid { .. } => "paid",
        Verdict::Refused { .. } => "refused",
        Verdict::Abandoned => "abandoned",
        Verdict::Pending => "pending",
        Verdict::Expired => "expired",
        Verdict::Mismatch(_) => "mismatch",
        Verdict::Failed(_) => "failed",
        Verdict::Retry(_) => "retry",
    }
}

fn means_code(m: payfip::Means) -> &'static str {
    match m {
        payfip::Means::Card => "card",
        payfip::Means::Debit => "debit",
    }
}

/// While the operation is young (its page open), ask every minute; after, every 5 minutes.
fn pending_pause(age: chrono::Duration) -> chrono::Duration {
    if age < payfip::OPERATION_LIFETIME {
        chrono::Duration::minutes(1)
    } else {
        chrono::Duration::minutes(5)
    }
}

/// After a technical fault: 1, 2, 4… minutes, at most an hour.
fn retry_pause(tries: i32) -> chrono::Duration {
    let doublings = u32::try_from(tries.clamp(0, 6)).unwrap_or(6);
    chrono::Duration::minutes((1i64 << doublings).min(60))
}

fn mismatch_json(m: &Mismatch) -> serde_json::Value {
    match m {
        Mismatch::IdOp { answered } => json!({"field": "idOp", "answered": answered}),
        Mismatch::Amount { answered } => json!({"field": "montant", "answered": answered.get()}),
        Mismatch::NumCli { answered } => json!({"field": "numcli", "answered": answered}),
        Mismatch::RefDet { answered } => json!({"field": "refdet", "answered": answered}),
        Mismatch::Exer { answered } => json!({"field": "exer", "answered": answered}),
        Mismatch::TestPayment => json!({"field": "saisie", "answered": "T"}),
    }
}

fn detail_json(d: &Detail) -> serde_json::Value {
    json!({
        "idOp": d.id_op,
        "resultrans": d.result.code(),
        "montant": d.amount.get(),
        "numcli": d.numcli,
        "refdet": d.refdet,
        "exer": d.exer,
        "numauto": d.authorisation,
        "at": d.at.map(|t| t.to_string()),
        "saisie": d.saisie.map(Saisie::code),
    })
}

/// Asks PayFiP about every pending attempt whose next check is due; answers how many were
/// asked. One attempt's failure is logged and does not stop the others.
pub async fn reconcile(p: &Payments) -> Result<usize> {
    let due = {
        let mut conn = p.pool.acquire().await?;
        store::due(&mut conn, p.clock.now(), 200).await?
    };
    for id_op in &due {
        if let Err(e) = check_attempt(p, id_op).await {
            tracing::warn!(id_op = %id_op, error = %e, "PayFiP reconciliation: check failed");
        }
    }
    Ok(due.len())
}

/// The reconciliation worker: at start, then every `payfip.tick_secs`, until `stop`.
pub async fn run(p: Payments, mut stop: watch::Receiver<()>) {
    let period = Duration::from_secs(p.config.payfip.tick_secs);
    loop {
        match reconcile(&p).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(asked = n, "PayFiP reconciliation: run done"),
            Err(e) => tracing::warn!(error = %e, "PayFiP reconciliation: run failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(period) => {}
            _ = stop.changed() => break,
        }
    }
}

/// Asks PayFiP whether the client number is known, for `check-config`: its labels.
pub async fn verify_numcli(client: &PayfipClient, numcli: &NumCli) -> Result<Vec<String>, String> {
    client
        .client(numcli)
        .await
        .map(|c| c.labels)
        .map_err(|e| e.to_string())
}

/// One line of the daily report: an attempt and what the ledger holds for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportLine {
    pub payment: Payment,
    /// The ledger's payment credited for it, and its amount.
    pub ledger_payment: Option<(i64, Cents)>,
}

/// What finance checks each day: the day's attempts beside the ledger's PayFiP payments, and
/// every difference in a sentence-like code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub day: NaiveDate,
    pub lines: Vec<ReportLine>,
    /// Paid at PayFiP per the attempts, and credited in the ledger that day.
    pub paid_total: Cents,
    pub ledger_total: Cents,
    pub differences: Vec<Difference>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Difference {
    /// An attempt PayFiP answered paid for something else.
    Mismatch {
        attempt: i64,
        found: serde_json::Value,
    },
    /// An attempt paid whose ledger payment is missing or of another amount.
    NotCredited { attempt: i64 },
    /// A PayFiP payment of the ledger that no paid attempt accounts for.
    UnknownLedgerPayment { payment: i64, amount: Cents },
    /// Still undecided at the end of the report: asked again by the reconciliation.
    Pending { attempt: i64 },
}

/// The report of a Paris day.
pub async fn reconciliation_report(pool: &PgPool, day: NaiveDate) -> Result<Report> {
    let bound = |d: NaiveDate| {
        Paris
            .from_local_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight"))
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| anyhow::anyhow!("no Paris midnight on {d}"))
    };
    let (from, to) = (bound(day)?, bound(day.succ_opt().unwrap_or(day))?);
    let mut conn = pool.acquire().await?;
    let attempts: Vec<Payment> = store::attempts(
        &mut conn,
        Filter {
            opened_from: Some(from),
            opened_before: Some(to),
            ..Filter::default()
        },
    )
    .await?
    .into_iter()
    .rev()
    .map(Payment::try_from)
    .collect::<Result<_>>()?;
    let ledger = store::ledger_payments_between(&mut conn, from, to).await?;
    let ids: Vec<i64> = attempts.iter().map(|a| a.id).collect();
    let mismatches = store::mismatches_of(&mut conn, &ids).await?;
    let resolved = store::resolved_attempts(&mut conn, &ids).await?;
    let mut differences = Vec::new();
    let mut lines = Vec::new();
    for a in attempts {
        let key = format!("payfip:{}", a.id_op);
        let credited = ledger
            .iter()
            .find(|l| l.idempotency_key == key)
            .map(|l| (l.id, Cents(l.amount_cents)));
        match a.state {
            // Credited another day is fine: only a payment missing or of another amount is a
            // difference.
            State::Paid if credited.is_some_and(|c| c.1 != a.amount) || a.payment_id.is_none() => {
                differences.push(Difference::NotCredited { attempt: a.id });
            }
            // Finance's decision closes it (an accepted one is credited under its own key).
            State::Mismatch if resolved.contains(&a.id) => {}
            State::Mismatch => {
                for m in mismatches.iter().filter(|m| m.attempt_id == a.id) {
                    differences.push(Difference::Mismatch {
                        attempt: a.id,
                        found: m.found.clone(),
                    });
                }
            }
            State::Pending => differences.push(Difference::Pending { attempt: a.id }),
            _ => {}
        }
        lines.push(ReportLine {
            payment: a,
            ledger_payment: credited,
        });
    }
    // A ledger payment of the day for an attempt opened earlier is accounted for by it.
    let known: Vec<i64> = ledger.iter().map(|l| l.id).collect();
    let by_resolution = store::resolution_payments(&mut conn, &known).await?;
    let older = store::attempts(
        &mut conn,
        Filter {
            payments: Some(&known),
            ..Filter::default()
        },
    )
    .await?;
    for l in &ledger {
        let accounted = by_resolution.contains(&l.id)
            || older
                .iter()
                .any(|a| a.payment_id == Some(l.id) && a.state == "paid");
        if !accounted {
            differences.push(Difference::UnknownLedgerPayment {
                payment: l.id,
                amount: Cents(l.amount_cents),
            });
        }
    }
    let paid_total = Cents(
        lines
            .iter()
            .filter(|l| l.payment.state == State::Paid)
            .map(|l| l.payment.amount.get())
            .sum(),
    );
    let ledger_total = Cents(ledger.iter().map(|l| l.amount_cents).sum());
    Ok(Report {
        day,
        lines,
        paid_total,
        ledger_total,
        differences,
    })
}
