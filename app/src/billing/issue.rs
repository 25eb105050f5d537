//! Issuing a month's draft: in one transaction holding the run's row, each document gets its
//! gapless number, becomes issued, is posted to its household's ledger (using any credit), and
//! its mail is queued. An issued month issued again is a no-op that answers its review.

use chrono::{DateTime, Datelike, Utc};
use sqlx::PgPool;

use super::run_store as store;
use super::{DocumentKind, Month, RunReview, documents, ledger, review};
use crate::audit::{self, Action, Actor, Entry};
use crate::error::{BillingConflict, Conflict, Error, Result};

pub async fn issue(
    pool: &PgPool,
    actor: Option<&Actor>,
    regie: &str,
    month: Month,
    now: DateTime<Utc>,
) -> Result<RunReview> {
    let mut tx = pool.begin().await?;
    let regie = store::regie(&mut tx, regie).await?;
    let run = store::find_run_locked(&mut tx, regie.id, month.first_day())
        .await?
        .ok_or(Error::Conflict(Conflict::Billing(BillingConflict::NoDraft)))?;
    if run.status == "issued" {
        let answer = review::of_run(&mut tx, &regie, month, run.id).await?;
        tx.commit().await?;
        return Ok(answer);
    }
    // Numbered by the year of issue, in Paris, by the clock the caller gives: a December
    // issued in January takes the new year's numbers.
    let year = now.with_timezone(&chrono_tz::Europe::Paris).year();
    let drafts = store::draft_documents(&mut tx, run.id).await?;
    let mut ids = Vec::with_capacity(drafts.len());
    let mut numbers = Vec::with_capacity(drafts.len());
    for (id, kind) in &drafts {
        let kind = if kind == "credit_note" {
            DocumentKind::CreditNote
        } else {
            DocumentKind::Invoice
        };
        numbers.push(documents::assign_number(&mut tx, regie.id, year, kind).await?);
        ids.push(*id);
    }
    store::mark_issued(&mut tx, &ids, &numbers).await?;
    for id in &ids {
        ledger::post_document(&mut tx, *id).await?;
    }
    store::queue_mails(&mut tx, run.id).await?;
    store::mark_run_issued(&mut tx, run.id, actor.map(|a| a.account.get())).await?;
    audit::record(
        &mut tx,
        &Entry {
            actor,
            action: Action::InvoicesIssued,
            household: None,
            child: None,
            detail: serde_json::json!({
                "regie": regie.code, "month": month.to_string(), "run_id": run.id,
                "documents": ids.len(), "first": numbers.first(), "last": numbers.last(),
                "console": actor.is_none(),
            }),
        },
    )
    .await?;
    let answer = review::of_run(&mut tx, &regie, month, run.id).await?;
    tx.commit().await?;
    Ok(answer)
}
