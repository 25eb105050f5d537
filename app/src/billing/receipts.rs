//! Counter receipts: what a printed receipt says of a payment taken at the counter. The number
//! is taken with the payment (see `ledger::record_payment`); this reads it back.

use cantine_domain::ids::HouseholdId;
use cantine_domain::money::Cents;
use chrono::NaiveDate;
use sqlx::PgPool;

use super::{Means, Recipient, documents};
use crate::error::{Error, Result};

/// A payment's receipt, for the PDF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub payment_id: i64,
    pub number: String,
    pub regie: String,
    pub household: HouseholdId,
    pub recipient: Recipient,
    pub received_on: NaiveDate,
    pub means: Means,
    pub reference: String,
    pub amount: Cents,
    /// The invoice it named (paid first), by its number.
    pub invoice: Option<String>,
    /// Who took it: « Reçu établi par ».
    pub recorded_by: String,
}

/// The receipt of a counter payment; a payment without one (PayFiP) is not found.
pub(crate) async fn receipt(pool: &PgPool, payment_id: i64) -> Result<Receipt> {
    let mut conn = pool.acquire().await?;
    let row = sqlx::query!(
        r#"select p.household_id, p.receipt_number as "receipt_number!", r.code as regie,
                  p.received_on, p.means, p.reference, p.amount_cents,
                  i.number as "invoice_number?",
                  coalesce(a.first_name || ' ' || a.last_name, '') as "recorded_by!"
           from payment p
           join regie r on r.id = p.regie_id
           left join invoice i on i.id = p.invoice_id
           left join account a on a.id = p.recorded_by
           where p.id = $1 and p.receipt_number is not null"#,
        payment_id
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(Error::NotFound)?;
    let means = Means::from_code(&row.means)
        .ok_or_else(|| anyhow::anyhow!("stored payment.means {:?}", row.means))?;
    let recipient = documents::recipient_of(&mut conn, row.household_id).await?;
    Ok(Receipt {
        payment_id,
        number: row.receipt_number,
        regie: row.regie,
        household: HouseholdId(row.household_id),
        recipient,
        received_on: row.received_on,
        means,
        reference: row.reference,
        amount: Cents(row.amount_cents),
        invoice: row.invoice_number,
        recorded_by: row.recorded_by.trim().to_owned(),
    })
}
