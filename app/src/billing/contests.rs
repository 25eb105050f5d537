//! A family contests a line of its own issued invoice; finance answers, with a credit note
//! on that line or without, and the family is mailed through the outbox.

use cantine_domain::ids::{AccountId, HouseholdId};
use cantine_domain::money::Cents;
use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::{PgConnection, PgPool};

use super::documents::{self, checked_text};
use super::ledger_store::{self as store, SummaryFilter};
use super::{Contest, ContestSummary, CreditLine};
use crate::audit::{self, Action, Actor};
use crate::error::{BillingConflict, Error, Result};

/// Opens a contest on `line`: the household's own issued invoice only (anything else is not
/// found), one open contest per line.
pub(crate) async fn contest_line(
    pool: &PgPool,
    household: HouseholdId,
    account: AccountId,
    line: i64,
    message: String,
) -> Result<ContestSummary> {
    let message = checked_text(&message)?;
    let mut tx = pool.begin().await?;
    if store::contestable_line(&mut tx, household.get(), account.get(), line)
        .await?
        .is_none()
    {
        return Err(Error::NotFound);
    }
    let Some(id) =
        store::insert_contest(&mut tx, line, household.get(), account.get(), &message).await?
    else {
        return Err(super::ledger::conflict(BillingConflict::ContestOpen));
    };
    let row = store::contests(&mut tx, false, Some(id))
        .await?
        .pop()
        .ok_or(Error::NotFound)?;
    tx.commit().await?;
    documents::contest_summary(&row)
}

/// Answers an open contest; with `credit`, a credit note of that amount on the contested
/// line, in the same transaction. A second answer is refused.
pub(crate) async fn answer_contest(
    pool: &PgPool,
    actor: &Actor,
    contest: i64,
    answer: String,
    credit: Option<Cents>,
    now: DateTime<Utc>,
) -> Result<Contest> {
    let answer = checked_text(&answer)?;
    let mut tx = pool.begin().await?;
    let Some(head) = store::lock_contest(&mut tx, contest).await? else {
        return Err(Error::NotFound);
    };
    if head.status != "open" {
        return Err(super::ledger::conflict(BillingConflict::ContestAnswered));
    }
    let credit_note = match credit {
        Some(amount) => Some(
            documents::issue_credit_note(
                &mut tx,
                actor,
                head.invoice_id,
                &[CreditLine {
                    line: Some(head.invoice_line_id),
                    amount,
                }],
                &answer,
                now,
            )
            .await?,
        ),
        None => None,
    };
    store::answer_contest(&mut tx, contest, &answer, actor.account.get(), credit_note).await?;
    store::queue_mail(
        &mut tx,
        "contest_answered",
        head.household_id,
        None,
        Some(contest),
    )
    .await?;
    audit::record(
        &mut tx,
        &audit::Entry::new(actor, Action::ContestAnswered)
            .household(HouseholdId(head.household_id))
            .detail(json!({
                "contest": contest,
                "line": head.invoice_line_id,
                "invoice": head.invoice_id,
                "credit_note": credit_note,
                "credit_cents": credit.map(Cents::get),
            })),
    )
    .await?;
    let answered = load(&mut tx, false, Some(contest))
        .await?
        .pop()
        .ok_or(Error::NotFound)?;
    tx.commit().await?;
    Ok(answered)
}

pub(crate) async fn contests(pool: &PgPool, open_only: bool) -> Result<Vec<Contest>> {
    let mut conn = pool.acquire().await?;
    load(&mut conn, open_only, None).await
}

/// Contests with their line, invoice and household, oldest first.
pub(crate) async fn load(
    conn: &mut PgConnection,
    open_only: bool,
    id: Option<i64>,
) -> Result<Vec<Contest>> {
    let rows = store::contests(&mut *conn, open_only, id).await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let line_ids: Vec<i64> = rows.iter().map(|r| r.invoice_line_id).collect();
    let mut lines = Vec::new();
    let mut invoice_of = std::collections::BTreeMap::new();
    for (invoice, of_invoice) in documents::lines(&mut *conn, &[], Some(&line_ids)).await? {
        for line in of_invoice {
            invoice_of.insert(line.id, invoice);
            lines.push(line);
        }
    }
    let mut invoice_ids: Vec<i64> = invoice_of.values().copied().collect();
    invoice_ids.sort_unstable();
    invoice_ids.dedup();
    let invoices = documents::summaries(
        &mut *conn,
        SummaryFilter {
            ids: Some(&invoice_ids),
            ..Default::default()
        },
    )
    .await?;
    rows.iter()
        .map(|row| {
            let line = lines
                .iter()
                .find(|l| l.id == row.invoice_line_id)
                .cloned()
                .ok_or_else(|| anyhow::anyhow!("contest {}: line vanished", row.id))?;
            let invoice_id = invoice_of[&row.invoice_line_id];
            let invoice = invoices
                .iter()
                .find(|i| i.id == invoice_id)
                .ok_or_else(|| anyhow::anyhow!("contest {}: invoice vanished", row.id))?;
            Ok(Contest {
                summary: documents::contest_summary(row)?,
                household: HouseholdId(row.household_id),
                household_name: invoice.household_name.clone(),
                invoice_id,
                invoice_number: invoice.number.clone().unwrap_or_default(),
                line,
            })
        })
        .collect()
}
