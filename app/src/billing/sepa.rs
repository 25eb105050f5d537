//! SEPA Core direct debit: a household's mandate (given and revoked by the family, revoked by
//! finance too), the `pain.008` export of an invoicing run, and the rejection finance enters.
//!
//! - **Export, once per run.** The first export of an issued run collects, in one transaction
//!   under the run's row lock, every invoice of the run with something left to pay whose
//!   household has an active mandate: one `sepa_debit` per invoice (unique: an invoice is
//!   collected once), a `sepa_debit` ledger payment recorded through `ledger::record_in` with
//!   the key `sepa:<EndToEndId>`, and a pre-notification queued in the billing outbox for its
//!   day. The file is written from the stored rows (message id, instant, collection date,
//!   creditor, each debit's mandate data), so exporting the run again gives the same bytes,
//!   in either version.
//! - **Sequence types.** `FRST` while no earlier debit under the mandate stands (exported and
//!   not rejected), `RCUR` after.
//! - **Rejection.** Under the debit's row lock: a `reversal` ledger entry naming the payment
//!   (unique), negative allocations giving back what the payment settled (the invoice is due
//!   again), the payment's allocation to the reversal (no credit left behind), the
//!   `sepa_rejection` row (unique per debit and per key), the audit entry and the family's mail,
//!   all in one commit. The same key again answers the first rejection; another key for a
//!   rejected debit is refused.

use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::Paris;
use serde::Serialize;
use serde_json::json;
use sqlx::PgPool;

use cantine_domain::ids::{AccountId, HouseholdId};
use cantine_domain::money::Cents;
use cantine_domain::sepa::{self, Bic, Creditor, Iban, Ics, SepaError, SequenceType, Version};

use super::ledger;
use super::ledger_store;
use super::sepa_store as store;
use super::{Means, Month, PaymentInput};
use crate::audit::{self, Action, Actor};
use crate::error::{Conflict, Error, Invalid, Result, SepaConflict};
use crate::platform::config::SepaConfig;

/// Who revokes a mandate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RevokedBy {
    Family,
    Finance,
}

/// A mandate as pages and the API show it: the IBAN masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mandate {
    pub id: i64,
    pub household: HouseholdId,
    pub rum: String,
    pub holder: String,
    /// `FR76 **** … 1234`.
    pub iban_masked: String,
    pub bic: String,
    pub signed_on: NaiveDate,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<RevokedBy>,
}

impl Mandate {
    pub fn active(&self) -> bool {
        self.revoked_at.is_none()
    }
}

fn mandate(r: store::MandateRow) -> Mandate {
    Mandate {
        id: r.id,
        household: HouseholdId(r.household_id),
        rum: r.rum,
        holder: r.holder,
        iban_masked: sepa::mask(&r.iban),
        bic: r.bic,
        signed_on: r.signed_on,
        created_at: r.created_at,
        revoked_at: r.revoked_at,
        revoked_by: match r.revoked_as.as_deref() {
            Some("family") => Some(RevokedBy::Family),
            Some("finance") => Some(RevokedBy::Finance),
            _ => None,
        },
    }
}

/// What a family gives: the account holder, the IBAN and BIC as typed, the signature day.
#[derive(Debug, Clone)]
pub struct NewMandate {
    pub holder: String,
    pub iban: String,
    pub bic: String,
    pub signed_on: NaiveDate,
}

fn invalid(e: SepaError) -> Error {
    Error::Invalid(Invalid::Sepa(e))
}

fn conflict(c: SepaConflict) -> Error {
    Error::Conflict(Conflict::Sepa(c))
}

/// Records the household's mandate with a new RUM. One active mandate per household: a second
/// is refused until the first is revoked.
pub async fn create_mandate(
    pool: &PgPool,
    config: &SepaConfig,
    household: HouseholdId,
    account: AccountId,
    input: NewMandate,
    today: NaiveDate,
) -> Result<Mandate> {
    let iban = Iban::parse(&input.iban).map_err(invalid)?;
    let bic = Bic::parse(&input.bic).map_err(invalid)?;
    let holder = sepa::holder(&input.holder).map_err(invalid)?;
    if input.signed_on > today {
        return Err(invalid(SepaError::SignedInFuture));
    }
    let mut tx = pool.begin().await?;
    if !ledger_store::lock_household_if_any(&mut tx, household.get()).await? {
        return Err(Error::NotFound);
    }
    if store::mandates(&mut tx, Some(household.get()))
        .await?
        .iter()
        .any(|m| m.revoked_at.is_none())
    {
        return Err(conflict(SepaConflict::MandateActive));
    }
    let id = store::next_mandate_number(&mut tx).await?;
    let rum = sepa::rum(&config.rum_prefix, id);
    let row = store::insert_mandate(
        &mut tx,
        store::NewMandate {
            id,
            household_id: household.get(),
            rum: &rum,
            holder: &holder,
            iban: iban.as_str(),
            bic: bic.as_str(),
            signed_on: input.signed_on,
            created_by: account.get(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(mandate(row))
}

/// The household's mandates, newest first.
pub async fn mandates(pool: &PgPool, household: HouseholdId) -> Result<Vec<Mandate>> {
    let mut conn = pool.acquire().await?;
    Ok(store::mandates(&mut conn, Some(household.get()))
        .await?
        .into_iter()
        .map(mandate)
        .collect())
}

/// Every active mandate of the commune (finance's page).
pub async fn active_mandates(pool: &PgPool) -> Result<Vec<Mandate>> {
    let mut conn = pool.acquire().await?;
    Ok(store::mandates(&mut conn, None)
        .await?
        .into_iter()
        .map(mandate)
        .collect())
}

/// Who asks to revoke.
pub enum Revoker<'a> {
    /// The family: only its own household's mandate; another's is not found.
    Family(HouseholdId, AccountId),
    /// Finance, audited.
    Finance(&'a Actor),
}

/// Revokes a mandate: no later export collects under it (debits already exported stand).
pub async fn revoke_mandate(pool: &PgPool, who: Revoker<'_>, id: i64) -> Result<Mandate> {
    let mut tx = pool.begin().await?;
    let row = store::lock_mandate(&mut tx, id)
        .await?
        .ok_or(Error::NotFound)?;
    let (by, as_whom) = match &who {
        Revoker::Family(household, account) => {
            if row.household_id != household.get() {
                return Err(Error::NotFound);
            }
            (account.get(), "family")
        }
        Revoker::Finance(actor) => (actor.account.get(), "finance"),
    };
    if row.revoked_at.is_some() {
        return Err(conflict(SepaConflict::MandateRevoked));
    }
    let row = store::revoke_mandate(&mut tx, id, by, as_whom).await?;
    if let Revoker::Finance(actor) = who {
        audit::record(
            &mut tx,
            &audit::Entry::new(actor, Action::MandateRevoked)
                .household(HouseholdId(row.household_id))
                .detail(json!({ "mandate": row.id, "rum": row.rum })),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(mandate(row))
}

/// The creditor as the configuration gives it, or the keys it lacks.
pub fn creditor(config: &SepaConfig) -> Result<Creditor> {
    let mut missing = Vec::new();
    if config.creditor_name.is_none() {
        missing.push("sepa.creditor_name");
    }
    if config.creditor_iban.is_none() {
        missing.push("sepa.creditor_iban");
    }
    if config.creditor_bic.is_none() {
        missing.push("sepa.creditor_bic");
    }
    if config.ics.is_none() {
        missing.push("sepa.ics");
    }
    if !missing.is_empty() {
        return Err(conflict(SepaConflict::NotConfigured(missing)));
    }
    // Checked when the configuration was loaded; read again for their types.
    fn parse<T>(r: std::result::Result<T, SepaError>) -> Result<T> {
        r.map_err(|e| Error::Internal(anyhow::anyhow!("[sepa] passed its checks: {e}")))
    }
    Ok(Creditor {
        name: config.creditor_name.clone().unwrap_or_default(),
        iban: parse(Iban::parse(
            config.creditor_iban.as_deref().unwrap_or_default(),
        ))?,
        bic: parse(Bic::parse(
            config.creditor_bic.as_deref().unwrap_or_default(),
        ))?,
        ics: parse(Ics::parse(config.ics.as_deref().unwrap_or_default()))?,
    })
}

/// One exported debit, as finance's page and the rejection form show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DirectDebit {
    pub id: i64,
    pub household: HouseholdId,
    pub household_name: String,
    pub invoice_id: i64,
    pub invoice_number: String,
    pub end_to_end_id: String,
    pub amount: Cents,
    pub sequence: &'static str,
    pub rum: String,
    pub iban_masked: String,
    pub collection_date: NaiveDate,
    /// The ledger's payment the debit recorded.
    pub payment_id: i64,
    /// The bank's reason code, once finance entered the rejection.
    pub rejected: Option<String>,
    pub rejected_at: Option<DateTime<Utc>>,
}

fn debit(r: &store::DebitRow) -> DirectDebit {
    DirectDebit {
        id: r.id,
        household: HouseholdId(r.household_id),
        household_name: r.household_name.clone(),
        invoice_id: r.invoice_id,
        invoice_number: r.invoice_number.clone(),
        end_to_end_id: r.end_to_end_id.clone(),
        amount: Cents(r.amount_cents),
        sequence: SequenceType::from_code(&r.sequence_type)
            .unwrap_or(SequenceType::Rcur)
            .code(),
        rum: r.rum.clone(),
        iban_masked: sepa::mask(&r.iban),
        collection_date: r.collection_date,
        payment_id: r.payment_id,
        rejected: r.reason_code.clone(),
        rejected_at: r.rejected_at,
    }
}

/// A run's file.
#[derive(Debug, Clone)]
pub struct Export {
    pub file_name: String,
    pub xml: String,
    pub debits: Vec<DirectDebit>,
    /// False when the run had been exported before (the same file again).
    pub new: bool,
}

/// The export's message id: the régie, the month and the run, `CANT-202611-000001`.
fn msg_id(regie: &str, month: Month, run: i64) -> String {
    format!("{regie}-{}-{run:06}", month.first_day().format("%Y%m"))
}

/// The debit's end-to-end id: the invoice number when it is a SEPA identifier (as Cantine's
/// are), else the invoice's id.
fn end_to_end_id(number: &str, invoice: i64) -> String {
    if sepa::is_identifier(number) {
        number.to_owned()
    } else {
        format!("INV-{invoice}")
    }
}

/// The instant a pre-notification is due: 08:00 in Paris, `days` before the collection.
fn prenotification_at(collection: NaiveDate, days: u32) -> DateTime<Utc> {
    let day = collection
        .checked_sub_days(Days::new(u64::from(days)))
        .unwrap_or(collection);
    let local = day.and_hms_opt(8, 0, 0).unwrap_or_default();
    Paris
        .from_local_datetime(&local)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&local))
}

/// Exports the régie's issued run of `month` as `pain.008` (see the module's doc): the first
/// time it records what it collects; after, it gives the same file again.
pub async fn export_run(
    pool: &PgPool,
    actor: &Actor,
    config: &SepaConfig,
    regie: &str,
    month: Month,
    version: Version,
    now: DateTime<Utc>,
) -> Result<Export> {
    let mut tx = pool.begin().await?;
    let run = store::lock_run(&mut tx, regie, month.first_day())
        .await?
        .ok_or(Error::NotFound)?;
    if run.status != "issued" {
        return Err(conflict(SepaConflict::RunNotIssued));
    }
    let (export, new) = match store::export_of_run(&mut tx, run.id).await? {
        Some(e) => (e, false),
        None => {
            let creditor = creditor(config)?;
            let today = now.with_timezone(&Paris).date_naive();
            let candidates = store::candidates(&mut tx, run.id, today).await?;
            if candidates.is_empty() {
                return Err(conflict(SepaConflict::NothingToCollect));
            }
            let collection_date = today
                .checked_add_days(Days::new(u64::from(config.collection_days)))
                .ok_or_else(|| anyhow::anyhow!("collection date out of range"))?;
            let msg = msg_id(&run.regie_code, month, run.id);
            let export_id = store::insert_export(
                &mut tx,
                store::NewExport {
                    run: run.id,
                    msg_id: &msg,
                    created_at: now,
                    collection_date,
                    creditor_name: &creditor.name,
                    creditor_iban: creditor.iban.as_str(),
                    creditor_bic: creditor.bic.as_str(),
                    creditor_ics: creditor.ics.as_str(),
                    created_by: actor.account.get(),
                },
            )
            .await?;
            let announce = prenotification_at(collection_date, config.prenotification_days);
            let mut total = 0;
            for c in &candidates {
                let e2e = end_to_end_id(&c.number, c.invoice_id);
                let seq = SequenceType::for_mandate(usize::try_from(c.standing).unwrap_or(1));
                let paid = ledger::record_in(
                    &mut tx,
                    None,
                    &PaymentInput {
                        household: HouseholdId(c.household_id),
                        regie: run.regie_code.clone(),
                        amount: Cents(c.due),
                        means: Means::SepaDebit,
                        reference: format!("Prélèvement SEPA {e2e}"),
                        received_on: collection_date,
                        idempotency_key: format!("sepa:{e2e}"),
                        invoice: Some(c.invoice_id),
                    },
                )
                .await?;
                let id = store::insert_debit(
                    &mut tx,
                    store::NewDebit {
                        export_id,
                        c,
                        end_to_end_id: &e2e,
                        sequence_type: seq.code(),
                        remittance: &format!("Cantine facture {}", c.number),
                        payment_id: paid.payment_id,
                    },
                )
                .await?;
                store::queue_debit_mail(&mut tx, "debit_announced", c.household_id, id, announce)
                    .await?;
                total += c.due;
            }
            audit::record(
                &mut tx,
                &audit::Entry::new(actor, Action::DirectDebitsExported).detail(json!({
                    "regie": run.regie_code,
                    "month": month.to_string(),
                    "msg_id": msg,
                    "debits": candidates.len(),
                    "amount_cents": total,
                    "collection_date": collection_date,
                })),
            )
            .await?;
            let export = store::export_of_run(&mut tx, run.id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("export {export_id} vanished"))?;
            (export, true)
        }
    };
    let rows = store::debits(&mut tx, Some(export.id), None, None).await?;
    tx.commit().await?;
    let file = sepa::File {
        version,
        msg_id: export.msg_id.clone(),
        created_at: export.created_at.with_timezone(&Paris).naive_local(),
        collection_date: export.collection_date,
        creditor: Creditor {
            name: export.creditor_name.clone(),
            iban: Iban::parse(&export.creditor_iban)
                .map_err(|e| anyhow::anyhow!("stored creditor IBAN: {e}"))?,
            bic: Bic::parse(&export.creditor_bic)
                .map_err(|e| anyhow::anyhow!("stored creditor BIC: {e}"))?,
            ics: Ics::parse(&export.creditor_ics)
                .map_err(|e| anyhow::anyhow!("stored ICS: {e}"))?,
        },
        debits: rows
            .iter()
            .map(|r| sepa::Debit {
                end_to_end_id: r.end_to_end_id.clone(),
                amount: Cents(r.amount_cents),
                sequence: SequenceType::from_code(&r.sequence_type).unwrap_or(SequenceType::Rcur),
                rum: r.rum.clone(),
                signed_on: r.signed_on,
                debtor_name: r.holder.clone(),
                debtor_iban: r.iban.clone(),
                debtor_bic: r.bic.clone(),
                remittance: r.remittance.clone(),
            })
            .collect(),
    };
    let xml = file
        .to_xml()
        .map_err(|e| anyhow::anyhow!("pain.008 of run {}: {e}", run.id))?;
    Ok(Export {
        file_name: format!("prelevements-{}-{}.xml", export.msg_id, version.name()),
        xml,
        debits: rows.iter().map(debit).collect(),
        new,
    })
}

/// The latest debits (finance's page), newest first.
pub async fn debits(pool: &PgPool) -> Result<Vec<DirectDebit>> {
    let mut conn = pool.acquire().await?;
    Ok(store::debits(&mut conn, None, None, None)
        .await?
        .iter()
        .map(debit)
        .collect())
}

/// What a debit's mail says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebitNotice {
    pub invoice_id: i64,
    pub invoice_number: String,
    pub amount: Cents,
    pub collection_date: NaiveDate,
    pub rum: String,
    pub iban_masked: String,
    pub creditor_name: String,
    pub ics: String,
    pub reason_code: Option<String>,
}

pub(crate) async fn notice(conn: &mut sqlx::PgConnection, id: i64) -> Result<DebitNotice> {
    let r = store::debits(conn, None, None, Some(id))
        .await?
        .pop()
        .ok_or(Error::NotFound)?;
    Ok(DebitNotice {
        invoice_id: r.invoice_id,
        invoice_number: r.invoice_number,
        amount: Cents(r.amount_cents),
        collection_date: r.collection_date,
        rum: r.rum,
        iban_masked: sepa::mask(&r.iban),
        creditor_name: r.creditor_name,
        ics: r.creditor_ics,
        reason_code: r.reason_code,
    })
}

/// The outcome of entering a rejection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    pub debit_id: i64,
    pub reason_code: String,
    /// False when the key had already entered it.
    pub new: bool,
}

/// Whether `code` is an ISO 20022 reason code (`AM04`, `MD01`, `AC04`…): 4 letters or digits.
fn reason_code(code: &str) -> Result<String> {
    let code = code.trim().to_ascii_uppercase();
    if code.len() == 4 && code.chars().all(|c| c.is_ascii_alphanumeric()) {
        Ok(code)
    } else {
        Err(invalid(SepaError::ReasonCode))
    }
}

/// Enters the bank's rejection of a debit (see the module's doc).
pub async fn reject_debit(
    pool: &PgPool,
    actor: &Actor,
    id: i64,
    reason: &str,
    key: &str,
) -> Result<Rejection> {
    let reason = reason_code(reason)?;
    let key = key.trim();
    if key.is_empty() || key.len() > 200 {
        return Err(Error::Invalid(Invalid::Request(
            "idempotency_key: 1 to 200 characters".into(),
        )));
    }
    let mut tx = pool.begin().await?;
    let (household, payment, amount) = store::lock_debit(&mut tx, id)
        .await?
        .ok_or(Error::NotFound)?;
    if let Some(first) = store::rejection_by_key(&mut tx, key).await? {
        if first.debit_id != id || first.reason_code != reason {
            return Err(Error::Conflict(Conflict::Billing(
                crate::error::BillingConflict::IdempotencyKeyReused,
            )));
        }
        return Ok(Rejection {
            debit_id: id,
            reason_code: first.reason_code,
            new: false,
        });
    }
    if store::rejection_of(&mut tx, id).await?.is_some() {
        return Err(conflict(SepaConflict::AlreadyRejected));
    }
    ledger_store::lock_household(&mut tx, household).await?;
    let (payment_entry, regie) = store::payment_entry(&mut tx, payment).await?;
    let reversal = store::insert_reversal(
        &mut tx,
        household,
        regie,
        payment,
        amount,
        &format!("Prélèvement rejeté ({reason})"),
        actor.account.get(),
    )
    .await?;
    let given_back = store::settled_by(&mut tx, payment_entry).await?;
    store::insert_reversal_allocations(&mut tx, payment_entry, reversal, &given_back, amount)
        .await?;
    store::insert_rejection(&mut tx, id, &reason, key, reversal, actor.account.get()).await?;
    store::queue_debit_mail(&mut tx, "debit_rejected", household, id, Utc::now()).await?;
    audit::record(
        &mut tx,
        &audit::Entry::new(actor, Action::DirectDebitRejected)
            .household(HouseholdId(household))
            .detail(json!({
                "debit": id,
                "payment": payment,
                "amount_cents": amount,
                "reason_code": reason,
            })),
    )
    .await?;
    tx.commit().await?;
    Ok(Rejection {
        debit_id: id,
        reason_code: reason,
        new: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_id_names_the_regie_month_and_run() {
        let month: Month = "2026-11".parse().unwrap();
        assert_eq!(msg_id("CANT", month, 7), "CANT-202611-000007");
        assert!(sepa::is_identifier(&msg_id("CANT", month, 7)));
    }

    #[test]
    fn the_pre_notification_goes_out_at_eight_in_paris() {
        let at = prenotification_at(NaiveDate::from_ymd_opt(2026, 12, 15).unwrap(), 5);
        assert_eq!(at.to_rfc3339(), "2026-12-10T07:00:00+00:00");
    }

    #[test]
    fn reason_codes_are_four_letters_or_digits() {
        assert_eq!(reason_code(" am04 ").unwrap(), "AM04");
        assert!(reason_code("MD0").is_err());
        assert!(reason_code("MD01X").is_err());
    }
}
