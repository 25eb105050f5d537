//! Invoices and credit notes as documents: their gapless numbers, reading them with their
//! lines, contests and recipients, and the credit notes finance writes.

use std::collections::BTreeMap;

use cantine_domain::billing::LineKind;
use cantine_domain::ids::{ChildId, HouseholdId};
use cantine_domain::money::Cents;
use chrono::{DateTime, Datelike, Utc};
use serde_json::json;
use sqlx::{PgConnection, PgPool};

use super::ledger_store::{self as store, SummaryFilter};
use super::{
    ChildName, ContestStatus, ContestSummary, CreditLine, DocumentKind, Explanation, Invoice,
    InvoiceLine, InvoiceStatus, InvoiceSummary, Month, Reader, Recipient,
};
use crate::audit::{self, Action, Actor};
use crate::error::{BillingConflict, Error, Field, Invalid, Result};

/// The longest reason a credit note (or a contest's message and answer) takes.
pub const MAX_TEXT: usize = 2000;

impl DocumentKind {
    pub fn code(self) -> &'static str {
        match self {
            DocumentKind::Invoice => "invoice",
            DocumentKind::CreditNote => "credit_note",
        }
    }

    pub(crate) fn from_code(code: &str) -> Result<Self> {
        match code {
            "invoice" => Ok(DocumentKind::Invoice),
            "credit_note" => Ok(DocumentKind::CreditNote),
            _ => Err(anyhow::anyhow!("stored invoice.kind {code:?}").into()),
        }
    }
}

/// The next number of the régie's `kind` for `year`, taken in the caller's transaction: the
/// sequence row stays locked until it commits, so concurrent issuers queue, and a rollback
/// gives the number back. `CANT-2026-000001`, credit notes `AV-CANT-2026-000001`.
pub(crate) async fn assign_number(
    tx: &mut PgConnection,
    regie_id: i64,
    year: i32,
    kind: DocumentKind,
) -> Result<String> {
    let (code, n) = store::next_number(tx, regie_id, year, kind.code()).await?;
    Ok(format_number(&code, year, kind, n))
}

/// [`assign_number`] for `count` documents at once, in order: one statement.
pub(crate) async fn assign_numbers(
    tx: &mut PgConnection,
    regie_id: i64,
    year: i32,
    kind: DocumentKind,
    count: usize,
) -> Result<Vec<String>> {
    if count == 0 {
        return Ok(Vec::new());
    }
    let n = i32::try_from(count).map_err(|e| anyhow::anyhow!("{count} documents: {e}"))?;
    let (code, last) = store::next_numbers(tx, regie_id, year, kind.code(), n).await?;
    Ok((last - n + 1..=last)
        .map(|number| format_number(&code, year, kind, number))
        .collect())
}

pub(crate) fn format_number(regie_code: &str, year: i32, kind: DocumentKind, n: i32) -> String {
    match kind {
        DocumentKind::Invoice => format!("{regie_code}-{year}-{n:06}"),
        DocumentKind::CreditNote => format!("AV-{regie_code}-{year}-{n:06}"),
    }
}

/// The state families see: `draft` and `issued` are stored, the rest derive from what
/// settles the invoice. Cancelled: credit notes correcting it cover its amount (whatever was
/// paid before then becomes credit). Paid: payments and credit notes allocated to it cover
/// it (an invoice of 0 is paid). A credit note stays `issued`.
pub(crate) fn status(
    kind: DocumentKind,
    stored: &str,
    amount: i64,
    settled: i64,
    credited: i64,
) -> InvoiceStatus {
    if stored == "draft" {
        return InvoiceStatus::Draft;
    }
    match kind {
        DocumentKind::CreditNote => InvoiceStatus::Issued,
        DocumentKind::Invoice if amount > 0 && credited >= amount => InvoiceStatus::Cancelled,
        DocumentKind::Invoice if settled >= amount => InvoiceStatus::Paid,
        DocumentKind::Invoice if settled > 0 => InvoiceStatus::PartiallyPaid,
        DocumentKind::Invoice => InvoiceStatus::Issued,
    }
}

fn summary(row: &store::SummaryRow) -> Result<InvoiceSummary> {
    let kind = DocumentKind::from_code(&row.kind)?;
    Ok(InvoiceSummary {
        id: row.id,
        kind,
        number: row.number.clone(),
        month: Month(row.month),
        regie: row.regie.clone(),
        household: HouseholdId(row.household_id),
        household_name: row.household_name.clone(),
        amount: Cents(row.amount_cents),
        // A credit note's "paid" is what it has settled so far.
        paid: Cents(match kind {
            DocumentKind::Invoice => row.settled,
            DocumentKind::CreditNote => row.used,
        }),
        status: status(
            kind,
            &row.status,
            row.amount_cents,
            row.settled,
            row.credited,
        ),
        issued_at: row.issued_at,
    })
}

pub(crate) async fn summaries(
    conn: &mut PgConnection,
    filter: SummaryFilter<'_>,
) -> Result<Vec<InvoiceSummary>> {
    store::summaries(conn, filter)
        .await?
        .iter()
        .map(summary)
        .collect()
}

pub(crate) async fn summary_of(conn: &mut PgConnection, id: i64) -> Result<InvoiceSummary> {
    summaries(
        conn,
        SummaryFilter {
            ids: Some(&[id]),
            ..Default::default()
        },
    )
    .await?
    .into_iter()
    .next()
    .ok_or(Error::NotFound)
}

/// A household's issued invoices and credit notes, newest first. Drafts are finance's until
/// issued.
pub(crate) async fn invoices(pool: &PgPool, household: HouseholdId) -> Result<Vec<InvoiceSummary>> {
    let mut conn = pool.acquire().await?;
    summaries(
        &mut conn,
        SummaryFilter {
            household: Some(household.get()),
            issued_only: true,
            ..Default::default()
        },
    )
    .await
}

pub(crate) fn recipient(row: store::RecipientRow) -> Recipient {
    Recipient {
        names: row.names,
        address_line1: row.address_line1,
        address_line2: row.address_line2,
        postcode: row.postcode,
        city: row.city,
        email: row.email,
    }
}

pub(crate) async fn recipients(
    conn: &mut PgConnection,
    households: &[i64],
) -> Result<BTreeMap<i64, Recipient>> {
    Ok(store::recipients(conn, households)
        .await?
        .into_iter()
        .map(|r| (r.id, recipient(r)))
        .collect())
}

pub(crate) async fn recipient_of(conn: &mut PgConnection, household: i64) -> Result<Recipient> {
    recipients(conn, &[household])
        .await?
        .remove(&household)
        .ok_or(Error::NotFound)
}

pub(crate) fn contest_summary(row: &store::ContestRow) -> Result<ContestSummary> {
    Ok(ContestSummary {
        id: row.id,
        status: match row.status.as_str() {
            "open" => ContestStatus::Open,
            "answered" => ContestStatus::Answered,
            other => return Err(anyhow::anyhow!("stored contest.status {other:?}").into()),
        },
        message: row.message.clone(),
        created_at: row.created_at,
        answer: row.answer.clone(),
        answered_at: row.answered_at,
        credit_note: row.credit_note_id.zip(row.credit_note_number.clone()),
    })
}

/// Lines of the invoices (or the lines named), each with its contest, by invoice.
pub(crate) async fn lines(
    conn: &mut PgConnection,
    invoices: &[i64],
    ids: Option<&[i64]>,
) -> Result<BTreeMap<i64, Vec<InvoiceLine>>> {
    let rows = store::lines(&mut *conn, invoices, ids).await?;
    let line_ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut contests: BTreeMap<i64, ContestSummary> = BTreeMap::new();
    for c in store::line_contests(&mut *conn, &line_ids).await? {
        contests.insert(c.invoice_line_id, contest_summary(&c)?);
    }
    let mut out: BTreeMap<i64, Vec<InvoiceLine>> = BTreeMap::new();
    for r in rows {
        let kind = LineKind::from_code(&r.kind)
            .ok_or_else(|| anyhow::anyhow!("stored invoice_line.kind {:?}", r.kind))?;
        let explanation: Explanation = serde_json::from_value(r.explanation)
            .map_err(|e| anyhow::anyhow!("stored invoice_line.explanation of {}: {e}", r.id))?;
        let child = match (r.child_id, r.first_name, r.last_name) {
            (Some(id), Some(first_name), Some(last_name)) => Some(ChildName {
                id: ChildId(id),
                first_name,
                last_name,
            }),
            _ => None,
        };
        out.entry(r.invoice_id).or_default().push(InvoiceLine {
            id: r.id,
            position: r.position,
            child,
            date: r.service_date,
            kind,
            amount: Cents(r.amount_cents),
            explanation,
            contest: contests.remove(&r.id),
        });
    }
    Ok(out)
}

/// Whole documents from their summary rows: lines, contests and recipients in three queries.
async fn assemble(conn: &mut PgConnection, rows: Vec<store::SummaryRow>) -> Result<Vec<Invoice>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut households: Vec<i64> = rows.iter().map(|r| r.household_id).collect();
    households.sort_unstable();
    households.dedup();
    let mut lines = lines(&mut *conn, &ids, None).await?;
    let recipients = recipients(&mut *conn, &households).await?;
    rows.into_iter()
        .map(|row| {
            Ok(Invoice {
                summary: summary(&row)?,
                recipient: recipients
                    .get(&row.household_id)
                    .cloned()
                    .ok_or_else(|| anyhow::anyhow!("household {} vanished", row.household_id))?,
                lines: lines.remove(&row.id).unwrap_or_default(),
                corrects: row.corrects_invoice_id.zip(row.corrects_number),
                reason: row.reason,
            })
        })
        .collect()
}

/// One document with its lines. A family reads only its own issued ones: any other looks
/// like one that does not exist.
pub(crate) async fn invoice(pool: &PgPool, reader: Reader, id: i64) -> Result<Invoice> {
    let mut conn = pool.acquire().await?;
    let rows = store::summaries(
        &mut conn,
        SummaryFilter {
            ids: Some(&[id]),
            household: match reader {
                Reader::Household(h) => Some(h.get()),
                Reader::Staff => None,
            },
            issued_only: matches!(reader, Reader::Household(_)),
            ..Default::default()
        },
    )
    .await?;
    if rows.is_empty() {
        return Err(Error::NotFound);
    }
    assemble(&mut conn, rows)
        .await?
        .pop()
        .ok_or(Error::NotFound)
}

/// The régie's issued invoices billing `month`, whole, in number order.
pub(crate) async fn issued_invoices(
    pool: &PgPool,
    regie: &str,
    month: Month,
) -> Result<Vec<Invoice>> {
    let mut conn = pool.acquire().await?;
    if store::regie_id(&mut conn, regie).await?.is_none() {
        return Err(Error::NotFound);
    }
    let mut rows = store::summaries(
        &mut conn,
        SummaryFilter {
            regie: Some(regie),
            month: Some(month.0),
            kind: Some("invoice"),
            issued_only: true,
            ..Default::default()
        },
    )
    .await?;
    rows.sort_by(|a, b| a.number.cmp(&b.number));
    assemble(&mut conn, rows).await
}

/// A reason, message or answer: trimmed, 1 to [`MAX_TEXT`] characters.
pub(crate) fn checked_text(text: &str) -> Result<String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::Invalid(Invalid::Required {
            field: Field::Reason,
        }));
    }
    if text.chars().count() > MAX_TEXT {
        return Err(Error::Invalid(Invalid::TooLong {
            field: Field::Reason,
            max: Some(MAX_TEXT),
        }));
    }
    if text.contains('\0') {
        return Err(Error::Invalid(Invalid::Character));
    }
    Ok(text.to_owned())
}

pub(crate) async fn create_credit_note(
    pool: &PgPool,
    actor: &Actor,
    invoice: i64,
    lines: Vec<CreditLine>,
    reason: String,
    now: DateTime<Utc>,
) -> Result<InvoiceSummary> {
    let reason = checked_text(&reason)?;
    let mut tx = pool.begin().await?;
    let id = issue_credit_note(&mut tx, actor, invoice, &lines, &reason, now).await?;
    let summary = summary_of(&mut tx, id).await?;
    tx.commit().await?;
    Ok(summary)
}

/// Issues a credit note correcting `invoice` in `tx`: checked against what is left to
/// credit (on the invoice, and on each line named), numbered in the Paris year of `now`,
/// posted, audited, mailed.
pub(crate) async fn issue_credit_note(
    tx: &mut PgConnection,
    actor: &Actor,
    invoice: i64,
    lines: &[CreditLine],
    reason: &str,
    now: DateTime<Utc>,
) -> Result<i64> {
    if lines.is_empty() || lines.iter().any(|l| l.amount <= Cents::ZERO) {
        return Err(Error::Invalid(Invalid::Amount));
    }
    let Some(head) = store::creditable(&mut *tx, invoice).await? else {
        return Err(Error::NotFound);
    };
    if head.kind != "invoice" || head.status != "issued" {
        return Err(Error::NotFound);
    }
    // The household's lock, then a fresh look: two credit notes on one invoice queue here.
    store::lock_household(&mut *tx, head.household_id).await?;
    let head = store::creditable(&mut *tx, invoice)
        .await?
        .ok_or(Error::NotFound)?;
    let total: i64 = lines
        .iter()
        .try_fold(0_i64, |sum, l| sum.checked_add(l.amount.get()))
        .ok_or(Error::Invalid(Invalid::Amount))?;
    let max = (head.amount_cents - head.credited).max(0);
    if total > max {
        return Err(super::ledger::conflict(BillingConflict::AmountExceeded {
            max: Cents(max),
        }));
    }
    let invoice_lines = store::creditable_lines(&mut *tx, invoice).await?;
    let mut asked: BTreeMap<i64, i64> = BTreeMap::new();
    for l in lines {
        if let Some(line) = l.line {
            *asked.entry(line).or_default() += l.amount.get();
        }
    }
    for (line, amount) in &asked {
        let Some(&(_, billed, credited)) = invoice_lines.iter().find(|l| l.0 == *line) else {
            return Err(Error::NotFound);
        };
        let left = (billed - credited).max(0);
        if *amount > left {
            return Err(super::ledger::conflict(BillingConflict::AmountExceeded {
                max: Cents(left),
            }));
        }
    }
    let year = now.with_timezone(&chrono_tz::Europe::Paris).year();
    let number = assign_number(&mut *tx, head.regie_id, year, DocumentKind::CreditNote).await?;
    let explanation = serde_json::to_value(Explanation {
        memo: Some(reason.to_owned()),
        ..Default::default()
    })
    .map_err(anyhow::Error::from)?;
    let pairs: Vec<(Option<i64>, i64)> = lines.iter().map(|l| (l.line, l.amount.get())).collect();
    let id = store::insert_credit_note(
        &mut *tx,
        store::NewCreditNote {
            regie_id: head.regie_id,
            household_id: head.household_id,
            month: head.month,
            number: &number,
            amount: total,
            corrects: invoice,
            reason,
            created_by: actor.account.get(),
        },
        &pairs,
        explanation,
    )
    .await?;
    super::ledger::post_document(&mut *tx, id).await?;
    audit::record(
        &mut *tx,
        &audit::Entry::new(actor, Action::CreditNoteIssued)
            .household(HouseholdId(head.household_id))
            .detail(json!({
                "credit_note": id,
                "number": number,
                "invoice": invoice,
                "amount_cents": total,
                "reason": reason,
            })),
    )
    .await?;
    store::queue_mail(
        &mut *tx,
        "credit_note_issued",
        head.household_id,
        Some(id),
        None,
    )
    .await?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_carry_the_regie_the_year_and_six_digits() {
        assert_eq!(
            format_number("CANT", 2026, DocumentKind::Invoice, 42),
            "CANT-2026-000042"
        );
        assert_eq!(
            format_number("CANT", 2027, DocumentKind::CreditNote, 1),
            "AV-CANT-2027-000001"
        );
    }
}
