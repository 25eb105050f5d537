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
    // Invoices first, then credit notes (the drafts' order): each kind's numbers reserved in
    // one statement, the invoices posted together; the few credit notes one by one, as they
    // settle what is due.
    let (invoices, credit_notes): (Vec<_>, Vec<_>) =
        drafts.iter().partition(|(_, kind)| kind != "credit_note");
    let invoice_ids: Vec<i64> = invoices.iter().map(|(id, _)| *id).collect();
    let credit_note_ids: Vec<i64> = credit_notes.iter().map(|(id, _)| *id).collect();
    let mut numbers = documents::assign_numbers(
        &mut tx,
        regie.id,
        year,
        DocumentKind::Invoice,
        invoice_ids.len(),
    )
    .await?;
    numbers.extend(
        documents::assign_numbers(
            &mut tx,
            regie.id,
            year,
            DocumentKind::CreditNote,
            credit_note_ids.len(),
        )
        .await?,
    );
    let ids: Vec<i64> = invoice_ids
        .iter()
        .chain(&credit_note_ids)
        .copied()
        .collect();
    store::mark_issued(&mut tx, &ids, &numbers).await?;
    ledger::post_invoices(&mut tx, regie.id, &invoice_ids).await?;
    for id in &credit_note_ids {
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
