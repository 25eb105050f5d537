//! What finance hands the public accountant each month, per régie: the accounting CSV of the
//! month's ledger movements, and the PES V2 ORMC file of the month's issued invoices.
//!
//! The CSV is what French spreadsheets open as is: UTF-8 with a byte-order mark, `;` between
//! cells, CRLF line ends, `JJ/MM/AAAA` dates, and amounts in **euros with a decimal comma**
//! (`-12,34`, no thousands separator, no currency sign), signed as in the ledger: invoices
//! positive, credit notes and payments negative, refunds positive. A cell holding `;`, `"` or
//! a line break is quoted as RFC 4180 says (its quotes doubled); one starting with `=`, `+`,
//! `-` or `@` (text, not an amount) is prefixed with `'` so that no spreadsheet runs it as a
//! formula. After the rows come the month's totals by kind, then the net movement.
//!
//! The PES file is written by `cantine_domain::pes::write` from [`bordereau`]; how invoice
//! numbers become PES's numeric identifiers is [`pes_numbers`] (documented in `docs/pes.md`).

use chrono::{Datelike, NaiveDate};

use cantine_domain::money::Cents;
use cantine_domain::pes::{
    Bordereau, Collectivite, Country, Piece, PieceLine, PostalAddress, Tiers,
};

use crate::billing::{AccountingRow, EntryKind, Invoice, Means, Month};
use crate::error::{Conflict, Error, Result};
use crate::http::fr;
use crate::platform::config::{AccountingConfig, Config};

// The accounting CSV.

const CSV_HEADERS: [&str; 8] = [
    "Date",
    "Type",
    "Numéro",
    "N° de foyer",
    "Foyer",
    "Montant (€)",
    "Moyen de paiement",
    "Référence",
];

/// Euros with a decimal comma and the sign, the way a French spreadsheet reads a number.
pub fn decimal_euros(amount: Cents) -> String {
    amount.to_string().replace('.', ",")
}

/// A text cell, quoted when it holds the separator, a quote or a line break, defused when a
/// spreadsheet would run it as a formula.
pub fn text_cell(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([';', '"', '\r', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

pub fn entry_kind(kind: EntryKind) -> &'static str {
    match kind {
        EntryKind::Invoice => "Facture",
        EntryKind::CreditNote => "Avoir",
        EntryKind::Payment => "Encaissement",
        EntryKind::Refund => "Remboursement",
        EntryKind::Reversal => "Prélèvement rejeté",
    }
}

pub fn means(means: Means) -> &'static str {
    match means {
        Means::Card => "Carte bancaire",
        Means::SepaDebit => "Prélèvement SEPA",
        Means::Cash => "Espèces",
        Means::Cheque => "Chèque",
        Means::Transfer => "Virement",
        Means::Cesu => "CESU",
        Means::ChequesVacances => "Chèques vacances",
        Means::Payfip => "PayFiP",
    }
}

/// The month's movements of a régie, then one total per kind and the net movement.
pub fn accounting_csv(rows: &[AccountingRow]) -> String {
    let mut out = String::from('\u{feff}');
    out.push_str(&CSV_HEADERS.join(";"));
    out.push_str("\r\n");
    for r in rows {
        let cells = [
            fr::numeric_date(r.date),
            entry_kind(r.kind).to_owned(),
            text_cell(r.number.as_deref().unwrap_or("")),
            r.household.get().to_string(),
            text_cell(&r.household_name),
            decimal_euros(r.amount),
            r.means.map(means).unwrap_or("").to_owned(),
            text_cell(&r.reference),
        ];
        out.push_str(&cells.join(";"));
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    let kinds = [
        (EntryKind::Invoice, "Total factures"),
        (EntryKind::CreditNote, "Total avoirs"),
        (EntryKind::Payment, "Total encaissements"),
        (EntryKind::Refund, "Total remboursements"),
        (EntryKind::Reversal, "Total prélèvements rejetés"),
    ];
    for (kind, label) in kinds {
        let total: Cents = rows
            .iter()
            .filter(|r| r.kind == kind)
            .map(|r| r.amount)
            .sum();
        let count = rows.iter().filter(|r| r.kind == kind).count();
        out.push_str(&format!(
            ";{label};{count};;;{};;\r\n",
            decimal_euros(total)
        ));
    }
    let net: Cents = rows.iter().map(|r| r.amount).sum();
    out.push_str(&format!(
        ";Mouvement net;{};;;{};;\r\n",
        rows.len(),
        decimal_euros(net)
    ));
    out
}

// The PES V2 ORMC file.

/// The `[accounting]` keys a PES file cannot go without.
fn collectivite(accounting: &AccountingConfig, commune_name: &str) -> Result<Collectivite> {
    let keys: [(&'static str, &Option<String>); 6] = [
        ("siret", &accounting.siret),
        ("cod_col", &accounting.cod_col),
        ("cod_bud", &accounting.cod_bud),
        ("id_post", &accounting.id_post),
        ("cod_prod_loc", &accounting.cod_prod_loc),
        ("nature", &accounting.nature),
    ];
    let missing: Vec<&'static str> = keys
        .iter()
        .filter(|(_, v)| v.is_none())
        .map(|(k, _)| *k)
        .collect();
    if !missing.is_empty() {
        return Err(Error::Conflict(Conflict::AccountingNotConfigured(missing)));
    }
    let get = |v: &Option<String>| v.clone().unwrap_or_default();
    Ok(Collectivite {
        id_post: get(&accounting.id_post),
        id_coll: get(&accounting.siret),
        cod_col: get(&accounting.cod_col),
        cod_bud: get(&accounting.cod_bud),
        name: accounting
            .budget_name
            .clone()
            .unwrap_or_else(|| commune_name.to_owned()),
    })
}

/// PES's numeric identifiers of an invoice numbered `<RÉGIE>-<YYYY>-<NNNNNN>`: the debt number
/// (`NumDette`, ≤ 13 digits) is `YYYY` then `NNNNNN` (`CANT-2026-000123` → `2026000123`), the
/// article number (`IdPce`, ≤ 8 digits) the year's last two digits then `NNNNNN`
/// (`26000123`). Both are unique in a bordereau, which holds one régie's invoices, and stable:
/// the same invoice gets the same numbers in every export. `None` for another shape (or a
/// sequence over 999 999).
pub fn pes_numbers(number: &str) -> Option<(String, u32)> {
    let mut parts = number.rsplit('-');
    let sequence = parts.next()?;
    let year = parts.next()?;
    parts.next()?;
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(sequence, 6) || !digits(year, 4) {
        return None;
    }
    let n: u32 = sequence.parse().ok()?;
    let y: u32 = year.parse().ok()?;
    Some((format!("{year}{sequence}"), (y % 100) * 1_000_000 + n))
}

/// "Hugo Martin" as PES wants a debtor: first name up to the first space, the rest the last
/// name (a guardian's name is stored as first and last, joined by the billing service).
fn split_name(full: &str) -> (String, String) {
    match full.trim().split_once(' ') {
        Some((first, last)) => (first.to_owned(), last.trim().to_owned()),
        None => (String::new(), full.trim().to_owned()),
    }
}

/// One invoice's PES lines: one per child (its month's lines netted), so that every line is
/// strictly positive as PES wants; when a child's lines net to zero or less (a regularisation
/// outweighing the month), the invoice goes as one line of its total.
fn piece_lines(invoice: &Invoice, subject: &str, accounting: &AccountingConfig) -> Vec<PieceLine> {
    let mut groups: Vec<(Option<i64>, String, Cents)> = Vec::new();
    for line in &invoice.lines {
        let key = line.child.as_ref().map(|c| c.id.get());
        let name = line
            .child
            .as_ref()
            .map(|c| format!("{} {}", c.first_name, c.last_name))
            .unwrap_or_default();
        match groups.iter_mut().find(|g| g.0 == key) {
            Some(g) => g.2 = g.2 + line.amount,
            None => groups.push((key, name, line.amount)),
        }
    }
    groups.retain(|g| g.2 != Cents::ZERO);
    let product_code = accounting.cod_prod_loc.clone().unwrap_or_default();
    let nature = accounting.nature.clone().unwrap_or_default();
    let line = |id_ligne: u32, object: String, amount: Cents| PieceLine {
        id_ligne,
        object,
        product_code: product_code.clone(),
        nature: nature.clone(),
        amount,
    };
    if groups.is_empty() || groups.iter().any(|g| g.2 < Cents::ZERO) {
        return vec![line(1, subject.to_owned(), invoice.summary.amount)];
    }
    groups
        .into_iter()
        .zip(1..)
        .map(|((_, name, amount), id)| {
            let object = if name.is_empty() {
                subject.to_owned()
            } else {
                format!("{subject}, {name}")
            };
            line(id, object, amount)
        })
        .collect()
}

/// The month's bordereau of a régie: one piece per issued invoice of a positive amount (an
/// invoice of 0 € is no debt). `IdBord` is the month's number in the exercise (one bordereau a
/// month per régie), the exercise the billed month's year; both to agree with the accountant.
pub fn bordereau(
    config: &Config,
    regie: &str,
    month: Month,
    invoices: &[Invoice],
    today: NaiveDate,
) -> Result<(Collectivite, Bordereau)> {
    let accounting = &config.accounting;
    let coll = collectivite(accounting, &config.open_data.commune_name)?;
    let first = month.first_day();
    let month_words = fr::month_year(first.year(), first.month());
    let subject = format!("Restauration scolaire {month_words}");
    let mut pieces = Vec::new();
    for invoice in invoices.iter().filter(|i| i.summary.amount > Cents::ZERO) {
        let number = invoice.summary.number.clone().unwrap_or_default();
        let (debt, id_pce) = pes_numbers(&number).ok_or_else(|| {
            Error::Internal(anyhow::anyhow!(
                "invoice number {number:?} has no PES mapping"
            ))
        })?;
        let r = &invoice.recipient;
        let full = r
            .names
            .first()
            .cloned()
            .unwrap_or_else(|| invoice.summary.household_name.clone());
        let (first_name, last_name) = split_name(&full);
        let filled = |t: &str| Some(t.trim().to_owned()).filter(|t| !t.is_empty());
        pieces.push(Piece {
            id_pce,
            object: format!("Cantine {month_words}, facture {number}"),
            period: accounting.period,
            invoice_number: debt,
            lines: piece_lines(invoice, &subject, accounting),
            debtor: Tiers {
                civility: None,
                last_name,
                first_name,
                reference: Some(invoice.summary.household.get().to_string()),
                address: PostalAddress {
                    complement: None,
                    street: r.address_line1.clone(),
                    locality: filled(&r.address_line2),
                    postcode: r.postcode.clone(),
                    city: r.city.clone(),
                    country: Country::France,
                },
            },
        });
    }
    let total = pieces
        .iter()
        .flat_map(|p| p.lines.iter())
        .map(|l| l.amount)
        .sum();
    Ok((
        coll,
        Bordereau {
            exercise: first.year(),
            id_bord: first.month(),
            emitted_on: today,
            notices_sent_on: None,
            object: subject,
            total,
            pieces,
            file_name: pes_file_name(regie, month),
            generated_on: today,
        },
    ))
}

pub fn pes_file_name(regie: &str, month: Month) -> String {
    let first = month.first_day();
    format!(
        "PES_ORMC_{regie}_{:04}_{:02}.xml",
        first.year(),
        first.month()
    )
}

/// The file's bytes, or the writer's refusal as a conflict finance can read.
pub fn pes_file(coll: &Collectivite, b: &Bordereau) -> Result<Vec<u8>> {
    cantine_domain::pes::write(coll, b).map_err(|e| Error::Conflict(Conflict::Pes(e)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use cantine_domain::ids::HouseholdId;

    #[test]
    fn invoice_numbers_map_to_pes_digits_deterministically() {
        assert_eq!(
            pes_numbers("CANT-2026-000123"),
            Some(("2026000123".to_owned(), 26_000_123))
        );
        assert_eq!(
            pes_numbers("R2-2027-999999"),
            Some(("2027999999".to_owned(), 27_999_999))
        );
        for bad in [
            "AV-CANT-2026-00012",
            "CANT-26-000001",
            "2026-000001",
            "CANT-2026-1000000",
        ] {
            assert_eq!(pes_numbers(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_csv_quotes_only_what_needs_it_and_totals_each_kind() {
        let row = |kind, amount, name: &str| AccountingRow {
            date: NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
            kind,
            number: Some("CANT-2026-000001".into()),
            household: HouseholdId(7),
            household_name: name.to_owned(),
            amount: Cents(amount),
            means: None,
            reference: String::new(),
        };
        let text = accounting_csv(&[
            row(EntryKind::Invoice, 4250, "Martin; \"Camille\""),
            row(EntryKind::Payment, -1000, "=Dupont"),
        ]);
        assert!(text.starts_with("\u{feff}Date;Type;Numéro;"));
        assert!(
            text.contains(
                "30/11/2026;Facture;CANT-2026-000001;7;\"Martin; \"\"Camille\"\"\";42,50;;\r\n"
            ),
            "{text}"
        );
        assert!(text.contains(";'=Dupont;-10,00;"), "{text}");
        assert!(text.contains(";Total factures;1;;;42,50;;\r\n"), "{text}");
        assert!(text.contains(";Mouvement net;2;;;32,50;;\r\n"), "{text}");
    }
}
