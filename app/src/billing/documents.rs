//! Invoices and credit notes as documents: their gapless numbers, reading them, and the
//! credit notes finance writes.

use sqlx::PgConnection;

use super::DocumentKind;
use super::ledger_store as store;
use crate::error::Result;

impl DocumentKind {
    pub fn code(self) -> &'static str {
        match self {
            DocumentKind::Invoice => "invoice",
            DocumentKind::CreditNote => "credit_note",
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

pub(crate) fn format_number(regie_code: &str, year: i32, kind: DocumentKind, n: i32) -> String {
    match kind {
        DocumentKind::Invoice => format!("{regie_code}-{year}-{n:06}"),
        DocumentKind::CreditNote => format!("AV-{regie_code}-{year}-{n:06}"),
    }
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
