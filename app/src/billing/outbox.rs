//! The billing mail outbox (`billing_mail`): rows queued by the transaction that decided
//! them (an issue, a credit note, an answer), sent afterwards by [`send_due_mails`]. A row
//! is claimed with `for update skip locked`, sent, and marked sent in the same transaction;
//! a failure records its error and waits twice as long each time (1 minute, then 2, 4… up
//! to an hour). A queued row never holds up the run that queued it: inserting takes no lock
//! a sender holds. A crash between the relay's acceptance and the commit sends twice.

use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::watch;

use super::BillingMails;
use super::documents;
use super::ledger_store as store;
use crate::error::Result;

/// The longest wait between two attempts at a failing mail.
const MAX_RETRY_SECS: i64 = 3600;

/// How often the worker looks for due mails.
const TICK: Duration = Duration::from_secs(30);

/// The wait after a mail's `attempts`-th failure (0 before the first).
pub(crate) fn backoff_secs(attempts: i32) -> i64 {
    60_i64
        .saturating_mul(1 << attempts.clamp(0, 6))
        .min(MAX_RETRY_SECS)
}

/// Sends the due mails, one claimed row at a time; answers how many were sent. A credit
/// note is told through [`BillingMails::invoice_issued`] with its summary (`kind`
/// `credit_note`), which the wording tells apart.
pub(crate) async fn send_due_mails(pool: &PgPool, mails: &impl BillingMails) -> Result<usize> {
    let mut sent = 0;
    // A failed row waits for its next attempt, so each row comes up once per call at most.
    loop {
        let mut tx = pool.begin().await?;
        let Some(row) = store::claim_mail(&mut tx).await? else {
            break;
        };
        let to = documents::recipient_of(&mut tx, row.household_id).await?;
        let result = match (row.kind.as_str(), row.invoice_id, row.contest_id) {
            ("invoice_issued" | "credit_note_issued", Some(invoice), _) => {
                let summary = documents::summary_of(&mut tx, invoice).await?;
                mails.invoice_issued(&to, &summary).await
            }
            ("contest_answered", _, Some(contest)) => {
                match super::contests::load(&mut tx, false, Some(contest))
                    .await?
                    .pop()
                {
                    Some(c) => {
                        mails
                            .contest_answered(&to, &c.summary, &c.invoice_number)
                            .await
                    }
                    None => Err(anyhow::anyhow!("contest {contest} not found")),
                }
            }
            ("debit_announced" | "debit_rejected", _, _) if row.sepa_debit_id.is_some() => {
                let debit = row.sepa_debit_id.unwrap_or_default();
                let notice = super::sepa::notice(&mut tx, debit).await?;
                if row.kind == "debit_announced" {
                    mails.debit_announced(&to, &notice).await
                } else {
                    mails.debit_rejected(&to, &notice).await
                }
            }
            (kind, _, _) => Err(anyhow::anyhow!(
                "billing mail {} of kind {kind} names nothing",
                row.id
            )),
        };
        match result {
            Ok(()) => {
                store::mail_sent(&mut tx, row.id).await?;
                sent += 1;
            }
            Err(e) => {
                let wait = backoff_secs(row.attempts);
                tracing::warn!(error = %e, mail = row.id, kind = %row.kind,
                    attempts = row.attempts + 1, retry_in_secs = wait, "billing mail not sent");
                store::mail_failed(&mut tx, row.id, wait, &format!("{e:#}")).await?;
            }
        }
        tx.commit().await?;
    }
    Ok(sent)
}

/// The worker `serve` runs beside the kitchen's: the due billing mails every 30 s, until
/// `stop` changes or its sender is dropped.
pub async fn run(pool: PgPool, mails: impl BillingMails, mut stop: watch::Receiver<()>) {
    loop {
        match send_due_mails(&pool, &mails).await {
            Ok(0) => {}
            Ok(sent) => tracing::info!(sent, "billing mails sent"),
            Err(e) => tracing::warn!(error = %e, "billing mails: run failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(TICK) => {}
            _ = stop.changed() => break,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_up_to_an_hour() {
        assert_eq!(backoff_secs(0), 60);
        assert_eq!(backoff_secs(1), 120);
        assert_eq!(backoff_secs(5), 1920);
        assert_eq!(backoff_secs(6), 3600);
        assert_eq!(backoff_secs(40), 3600);
    }
}
