//! The families' billing documents as PDF, worded in French: an invoice or a credit note, and
//! the yearly statement. The layout is `cantine_pdf`'s; this module only says what goes where
//! (from the billing service's data and the `[billing]` configuration), and renders off the
//! async runtime.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cantine_pdf::{Column, Document, Letterhead, Logo, Row, Section, Table};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Europe::Paris;

use cantine_domain::money::Cents;

use crate::billing::{DocumentKind, Invoice, Means, Receipt, Recipient, YearlyStatement};
use crate::error::{Error, Result};
use crate::http::fr::{self, billing as words};
use crate::http::{AppState, routes};
use crate::platform::config::{BillingConfig, BillingLogo};

fn letterhead(config: &BillingConfig) -> Letterhead {
    Letterhead {
        name: config.commune_name.clone(),
        address_lines: config.address_lines.clone(),
        logo: config.logo.as_deref().map(|logo| match logo {
            BillingLogo::Png(bytes) => Logo::Png(bytes.clone()),
            BillingLogo::Jpeg(bytes) => Logo::Jpeg(bytes.clone()),
        }),
    }
}

/// The address block, as an envelope's window shows it.
fn recipient_lines(to: &Recipient) -> Vec<String> {
    let mut lines = vec![fr::names_list(&to.names)];
    for line in [&to.address_line1, &to.address_line2] {
        if !line.trim().is_empty() {
            lines.push(line.clone());
        }
    }
    let city = format!("{} {}", to.postcode, to.city);
    if !city.trim().is_empty() {
        lines.push(city.trim().to_owned());
    }
    lines
}

fn paris_day(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&Paris).date_naive()
}

fn pdf_date(day: NaiveDate) -> cantine_pdf::Date {
    cantine_pdf::Date {
        year: u16::try_from(day.year()).unwrap_or(2000),
        month: day.month() as u8,
        day: day.day() as u8,
    }
}

/// How to pay, then how to contest: the same words on every invoice.
fn payment_sections(config: &BillingConfig, number: &str, page: &str, left: Cents) -> Vec<Section> {
    let mut sections = Vec::new();
    if left.get() > 0 {
        sections.push(Section {
            heading: "Comment payer".to_owned(),
            paragraphs: vec![
                format!(
                    "En ligne, par carte bancaire : {} avec la référence {number}.",
                    config.online_payment_url
                ),
                format!("Par prélèvement automatique : {}", config.direct_debit),
                format!(
                    "Au guichet : {}, {}. En espèces, par chèque ou en CESU, avec cette facture.",
                    config.counter_address, config.counter_hours
                ),
            ],
        });
    }
    sections.push(Section {
        heading: "Une erreur ? Une question ?".to_owned(),
        paragraphs: vec![format!(
            "Ouvrez cette facture dans votre espace Cantine ({page}) et choisissez «\u{a0}Contester cette ligne\u{a0}» sur la ligne qui ne va pas. La mairie vous répond par e-mail ; si elle vous donne raison, un avoir corrige la facture."
        )],
    });
    sections
}

/// An invoice or a credit note, as the family receives it.
pub fn invoice(config: &BillingConfig, public_url: &url::Url, doc: &Invoice) -> Document {
    let s = &doc.summary;
    let number = s.number.clone().unwrap_or_default();
    let kind = words::document_kind(s.kind);
    let page = public_url
        .join(&routes::fill(routes::INVOICE, &[s.id]))
        .map(|u| u.to_string())
        .unwrap_or_default();
    let mut facts = vec![
        (
            "Période".to_owned(),
            fr::capitalized(&words::month(s.month)),
        ),
        (
            "Date".to_owned(),
            s.issued_at
                .map(|at| fr::long_date_year(paris_day(at)))
                .unwrap_or_default(),
        ),
        ("Référence à rappeler".to_owned(), number.clone()),
    ];
    if let Some((_, corrected)) = &doc.corrects {
        facts.push(("Corrige la facture".to_owned(), corrected.clone()));
    }
    if let Some(reason) = doc.reason.as_deref().filter(|r| !r.is_empty()) {
        facts.push(("Motif".to_owned(), reason.to_owned()));
    }
    let rows = doc
        .lines
        .iter()
        .map(|line| {
            Row::Cells(vec![
                line.date.map(fr::short_date).unwrap_or_default(),
                words::child_of(line),
                words::line_kind(line.kind).to_owned(),
                line.explanation
                    .price
                    .as_ref()
                    .map(|p| words::price_basis_short(&p.basis))
                    .into_iter()
                    .chain(
                        line.explanation
                            .share
                            .map(|sh| format!("garde partagée : {}", fr::percent(sh.basis_points))),
                    )
                    .chain(line.explanation.memo.clone())
                    .collect::<Vec<_>>()
                    .join(" ; "),
                fr::euros(line.amount),
            ])
        })
        .collect();
    let left = Cents(s.amount.get() - s.paid.get());
    let totals = match s.kind {
        DocumentKind::Invoice => {
            let mut totals = vec![("Total du mois".to_owned(), fr::euros(s.amount))];
            if s.paid.get() != 0 {
                totals.push(("Déjà réglé".to_owned(), fr::euros(s.paid)));
            }
            totals.push(("Reste à payer".to_owned(), fr::euros(left.max(Cents(0)))));
            totals
        }
        DocumentKind::CreditNote => vec![(
            "Total de l'avoir (en votre faveur)".to_owned(),
            fr::euros(s.amount),
        )],
    };
    let mut sections = Vec::new();
    // The table says the tariff in a few words; here it is in full, once per basis.
    let mut bases: Vec<String> = Vec::new();
    for price in doc
        .lines
        .iter()
        .filter_map(|l| l.explanation.price.as_ref())
    {
        let text = format!(
            "{} : repas à {}.",
            words::price_basis(&price.basis),
            fr::euros(price.cents)
        );
        if !bases.contains(&text) {
            bases.push(text);
        }
    }
    if !bases.is_empty() {
        sections.push(Section {
            heading: "Votre tarif".to_owned(),
            paragraphs: bases,
        });
    }
    sections.extend(match s.kind {
        DocumentKind::Invoice => payment_sections(config, &number, &page, left),
        DocumentKind::CreditNote => vec![Section {
            heading: "Ce que devient cet avoir".to_owned(),
            paragraphs: vec![
                "Le montant de cet avoir est déduit de ce que vous devez : il règle d'abord la facture corrigée, puis vos prochaines factures.".to_owned(),
            ],
        }],
    });
    Document {
        letterhead: letterhead(config),
        title: format!("{kind} n° {number}"),
        recipient_lines: recipient_lines(&doc.recipient),
        facts,
        table: Table {
            columns: vec![
                Column::left("Date"),
                Column::left("Enfant"),
                Column::left("Ce qui s'est passé"),
                Column::left("Tarif appliqué"),
                Column::right("Montant"),
            ],
            rows,
        },
        totals,
        sections,
        footer: format!("{} – {} – {kind} {number}", config.commune_name, s.regie),
        created: s.issued_at.map(|at| pdf_date(paris_day(at))),
    }
}

/// What a household was invoiced and paid over a calendar year, child by child.
pub fn yearly_statement(
    config: &BillingConfig,
    statement: &YearlyStatement,
    today: NaiveDate,
) -> Document {
    let year = statement.year;
    let rows = statement
        .children
        .iter()
        .map(|c| {
            Row::Cells(vec![
                format!("{} {}", c.child.first_name, c.child.last_name),
                c.meals.to_string(),
                fr::euros(c.invoiced),
            ])
        })
        .collect();
    Document {
        letterhead: letterhead(config),
        title: format!("Relevé annuel de cantine {year}"),
        recipient_lines: recipient_lines(&statement.recipient),
        facts: vec![
            (
                "Période".to_owned(),
                format!("du 1er janvier au 31 décembre {year}"),
            ),
            ("Établi le".to_owned(), fr::long_date_year(today)),
        ],
        table: Table {
            columns: vec![
                Column::left("Enfant"),
                Column::right("Repas facturés"),
                Column::right("Montant facturé"),
            ],
            rows,
        },
        totals: vec![
            ("Total facturé".to_owned(), fr::euros(statement.invoiced)),
            ("Avoirs".to_owned(), fr::euros(statement.credited)),
            ("Total payé".to_owned(), fr::euros(statement.paid)),
        ],
        sections: vec![Section {
            heading: "À quoi sert ce relevé".to_owned(),
            paragraphs: vec![format!(
                "Il récapitule ce qui a été facturé et payé pour la cantine de vos enfants en {year}. Gardez-le : il peut vous servir de justificatif."
            )],
        }],
        footer: format!("{} – relevé annuel {year}", config.commune_name),
        created: Some(pdf_date(today)),
    }
}

fn means_words(means: Means) -> &'static str {
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

/// A counter receipt: « Reçu n° RC-CANT-2026-000001 », what was received, how, for which
/// invoice, and who took it.
pub fn receipt(config: &BillingConfig, r: &Receipt) -> Document {
    let means = means_words(r.means);
    let mut facts = vec![
        ("Reçu le".to_owned(), fr::long_date_year(r.received_on)),
        ("Moyen de paiement".to_owned(), means.to_owned()),
    ];
    if !r.reference.is_empty() {
        facts.push(("Référence".to_owned(), r.reference.clone()));
    }
    facts.push((
        "Affecté à".to_owned(),
        match &r.invoice {
            Some(number) => format!("la facture n° {number}"),
            None => "l'avoir du foyer (factures dues d'abord)".to_owned(),
        },
    ));
    Document {
        letterhead: letterhead(config),
        title: format!("Reçu n° {}", r.number),
        recipient_lines: recipient_lines(&r.recipient),
        facts,
        table: Table {
            columns: vec![
                Column::left("Moyen de paiement"),
                Column::left("Référence"),
                Column::right("Montant"),
            ],
            rows: vec![Row::Cells(vec![
                means.to_owned(),
                r.reference.clone(),
                fr::euros(r.amount),
            ])],
        },
        totals: vec![("Montant reçu".to_owned(), fr::euros(r.amount))],
        sections: vec![Section {
            heading: "Reçu établi par".to_owned(),
            paragraphs: vec![format!(
                "Reçu établi par {}, pour la régie {}.",
                if r.recorded_by.is_empty() {
                    "la régie"
                } else {
                    &r.recorded_by
                },
                r.regie
            )],
        }],
        footer: format!("{} – {} – reçu {}", config.commune_name, r.regie, r.number),
        created: Some(pdf_date(r.received_on)),
    }
}

/// A counter payment's receipt as a PDF answer, for staff.
pub async fn receipt_pdf(state: &AppState, payment_id: i64) -> Result<Response> {
    let r = crate::billing::receipt(&state.pool, payment_id).await?;
    let bytes = render(receipt(&state.config.billing, &r)).await?;
    Ok(pdf_response(bytes, &format!("recu-{}.pdf", r.number)))
}

/// Renders on the blocking pool: a few milliseconds of CPU that must not hold up a runtime
/// thread. A logo the PDF library cannot read (checked only by its first bytes at load) is
/// logged and left out, so that a family still gets its invoice.
pub async fn render(doc: Document) -> Result<Vec<u8>> {
    let joined = tokio::task::spawn_blocking(move || match cantine_pdf::render(&doc) {
        Err(cantine_pdf::Error::Logo { format, reason }) => {
            tracing::warn!(
                format,
                reason,
                "billing.logo_file cannot be drawn; PDF without it"
            );
            let mut doc = doc;
            doc.letterhead.logo = None;
            cantine_pdf::render(&doc)
        }
        other => other,
    })
    .await
    .map_err(|e| Error::Internal(anyhow::anyhow!("PDF rendering task: {e}")))?;
    joined.map_err(|e| Error::Internal(anyhow::anyhow!("PDF rendering: {e}")))
}

/// A file to save (CSV, XML, Markdown, JSON); the security layer adds `no-store`.
pub fn attachment(content_type: &'static str, file_name: &str, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// A PDF download: never sniffed, never cached (it is personal data).
pub fn pdf_response(bytes: Vec<u8>, filename: &str) -> Response {
    let mut response = (StatusCode::OK, bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!("inline; filename=\"{filename}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The household's invoice (or credit note) as a PDF answer; another household's is not found.
pub async fn invoice_pdf(
    state: &AppState,
    household: cantine_domain::ids::HouseholdId,
    id: i64,
) -> Result<Response> {
    let doc = crate::billing::invoice(
        &state.pool,
        crate::billing::Reader::Household(household),
        id,
    )
    .await?;
    let bytes = render(invoice(
        &state.config.billing,
        &state.config.public_url,
        &doc,
    ))
    .await?;
    let name = format!(
        "{}-{}.pdf",
        match doc.summary.kind {
            DocumentKind::Invoice => "facture",
            DocumentKind::CreditNote => "avoir",
        },
        doc.summary.number.as_deref().unwrap_or("brouillon")
    );
    Ok(pdf_response(bytes, &name))
}

/// The lowest and highest years a statement is asked for: outside, a typing slip.
pub const FIRST_YEAR: i32 = 2000;
pub const LAST_YEAR: i32 = 2200;

/// The household's yearly statement as a PDF answer.
pub async fn yearly_pdf(
    state: &AppState,
    household: cantine_domain::ids::HouseholdId,
    year: i32,
) -> Result<Response> {
    if !(FIRST_YEAR..=LAST_YEAR).contains(&year) {
        return Err(Error::Invalid(crate::error::Invalid::Request(format!(
            "L'année doit être comprise entre {FIRST_YEAR} et {LAST_YEAR}."
        ))));
    }
    let statement = crate::billing::yearly_statement(&state.pool, household, year).await?;
    let today = state.clock.now().with_timezone(&Paris).date_naive();
    let bytes = render(yearly_statement(&state.config.billing, &statement, today)).await?;
    Ok(pdf_response(bytes, &format!("releve-cantine-{year}.pdf")))
}
