//! Billing in French, for the families' pages, the JSON API's labels, the PDFs and the mails:
//! what happened on a line, why it costs what it costs, an invoice's state. Simple words:
//! some parents read with difficulty.

use cantine_domain::billing::LineKind;
use cantine_domain::tariff::{Bound, PriceBasis};

use super::{euros, long_date_year, percent};
use crate::billing::{
    ContestStatus, ContestSummary, DocumentKind, EntryKind, Explanation, InvoiceLine,
    InvoiceStatus, Month,
};

/// What happened that day, as the line says it.
pub fn line_kind(kind: LineKind) -> &'static str {
    match kind {
        LineKind::Meal => "Repas pris",
        LineKind::BookedNotRecorded => "Repas réservé (présence pas encore relevée)",
        LineKind::Unbooked => "Repas pris sans réservation",
        LineKind::NoShow => "Absent sans justificatif : repas réservé facturé",
        LineKind::IllnessCarence => "Maladie : jour de carence, facturé",
        LineKind::IllnessFree => "Maladie : non facturé",
        LineKind::ExcusedAbsence => "Absence signalée à temps : non facturée",
        LineKind::LateAbsence => "Absence signalée après la date limite : facturée",
        LineKind::Closure => "Cantine fermée ou grève : non facturé",
        LineKind::Regularisation => "Correction d'un mois déjà facturé",
        LineKind::Credit => "Avoir (remboursement)",
    }
}

/// The state a family reads, as a word of the list.
pub fn invoice_status(status: InvoiceStatus) -> &'static str {
    match status {
        InvoiceStatus::Draft => "En préparation",
        InvoiceStatus::Issued => "À payer",
        InvoiceStatus::PartiallyPaid => "Payée en partie",
        InvoiceStatus::Paid => "Payée",
        InvoiceStatus::Cancelled => "Annulée par un avoir",
    }
}

/// A CSS class for the status badge (the text says it too).
pub fn invoice_status_class(status: InvoiceStatus) -> &'static str {
    match status {
        InvoiceStatus::Draft | InvoiceStatus::Issued | InvoiceStatus::PartiallyPaid => "attente",
        InvoiceStatus::Paid | InvoiceStatus::Cancelled => "acceptee",
    }
}

pub fn document_kind(kind: DocumentKind) -> &'static str {
    match kind {
        DocumentKind::Invoice => "Facture",
        DocumentKind::CreditNote => "Avoir",
    }
}

pub fn entry_kind(kind: EntryKind) -> &'static str {
    match kind {
        EntryKind::Invoice => "Facture",
        EntryKind::CreditNote => "Avoir",
        EntryKind::Payment => "Paiement",
        EntryKind::Refund => "Remboursement",
        EntryKind::Reversal => "Prélèvement rejeté",
    }
}

/// "novembre 2026"
pub fn month(month: Month) -> String {
    use chrono::Datelike;
    super::month_year(month.0.year(), month.0.month())
}

/// A rate in millionths of a euro per QF euro as a percentage: `4500` is "0,45 %".
pub fn effort_rate(rate_millionths: u32) -> String {
    let units = rate_millionths / 10_000;
    let decimals = format!("{:04}", rate_millionths % 10_000);
    let decimals = decimals.trim_end_matches('0');
    if decimals.is_empty() {
        format!("{units}\u{a0}%")
    } else {
        format!("{units},{decimals}\u{a0}%")
    }
}

/// Why a meal costs its price: the QF bracket with the family's QF, the effort rate with the
/// QF used, or the special price that replaced them.
pub fn price_basis(basis: &PriceBasis) -> String {
    match basis {
        PriceBasis::Bracket {
            qf,
            qf_min,
            qf_max: Some(max),
        } => format!(
            "Tarif selon votre quotient familial ({qf}\u{a0}€) : tranche de {qf_min}\u{a0}€ à {}\u{a0}€",
            max.saturating_sub(1)
        ),
        PriceBasis::Bracket {
            qf,
            qf_min,
            qf_max: None,
        } => format!(
            "Tarif selon votre quotient familial ({qf}\u{a0}€) : tranche à partir de {qf_min}\u{a0}€"
        ),
        PriceBasis::TopBracketNoQf { qf_min } => format!(
            "Quotient familial non fourni : tarif de la tranche la plus haute (à partir de {qf_min}\u{a0}€)"
        ),
        PriceBasis::EffortRate {
            qf,
            rate_millionths,
            computed,
            bounded,
        } => {
            let bound = match bounded {
                Bound::None => String::new(),
                Bound::Minimum => ", porté au prix minimum".to_owned(),
                Bound::Maximum => ", ramené au prix maximum".to_owned(),
            };
            format!(
                "Taux d'effort de {} de votre quotient familial ({qf}\u{a0}€) = {}{bound}",
                effort_rate(*rate_millionths),
                euros(*computed)
            )
        }
        PriceBasis::EffortMaxNoQf => {
            "Quotient familial non fourni : prix maximum du taux d'effort".to_owned()
        }
        PriceBasis::Pai => "Panier-repas fourni par la famille (PAI)".to_owned(),
        PriceBasis::NonResident => "Tarif des familles habitant hors de la commune".to_owned(),
        PriceBasis::Adult => "Tarif adulte".to_owned(),
    }
}

/// [`price_basis`] in a few words, for a table's cell: "QF 650 € : tranche 0 à 699 €".
pub fn price_basis_short(basis: &PriceBasis) -> String {
    match basis {
        PriceBasis::Bracket {
            qf,
            qf_min,
            qf_max: Some(max),
        } => format!(
            "QF {qf}\u{a0}€ : tranche {qf_min} à {}\u{a0}€",
            max.saturating_sub(1)
        ),
        PriceBasis::Bracket {
            qf,
            qf_min,
            qf_max: None,
        } => format!("QF {qf}\u{a0}€ : tranche dès {qf_min}\u{a0}€"),
        PriceBasis::TopBracketNoQf { .. } => "Sans QF : tranche la plus haute".to_owned(),
        PriceBasis::EffortRate {
            qf,
            rate_millionths,
            bounded,
            ..
        } => format!(
            "{} × QF {qf}\u{a0}€{}",
            effort_rate(*rate_millionths),
            match bounded {
                Bound::None => "",
                Bound::Minimum => " (minimum)",
                Bound::Maximum => " (maximum)",
            }
        ),
        PriceBasis::EffortMaxNoQf => "Sans QF : prix maximum".to_owned(),
        PriceBasis::Pai => "PAI : panier-repas".to_owned(),
        PriceBasis::NonResident => "Hors commune".to_owned(),
        PriceBasis::Adult => "Adulte".to_owned(),
    }
}

/// Everything a line's explanation says, in sentences: the price and its basis, a shared
/// custody's share, what a correction changes, finance's words on a credit note.
pub fn explanation(explanation: &Explanation) -> String {
    let mut parts = Vec::new();
    if let Some(price) = &explanation.price {
        parts.push(format!(
            "Prix du repas {} : {}.",
            euros(price.cents),
            price_basis(&price.basis)
        ));
    }
    if let Some(share) = &explanation.share {
        parts.push(format!(
            "Garde partagée : votre part est de {} de {}.",
            percent(share.basis_points),
            euros(share.full)
        ));
    }
    if let Some(r) = &explanation.regularises {
        let now = match r.kind_now {
            Some(kind) => format!("{} ({})", euros(r.now), line_kind(kind).to_lowercase()),
            None => "plus rien".to_owned(),
        };
        parts.push(format!(
            "Ce jour avait été facturé {} ; il est maintenant facturé {now}.",
            euros(r.billed_before)
        ));
    }
    if let Some(memo) = &explanation.memo {
        parts.push(memo.clone());
    }
    parts.join(" ")
}

/// Where a contest stands, in a sentence.
pub fn contest(contest: &ContestSummary) -> String {
    use chrono_tz::Europe::Paris;
    let sent = long_date_year(contest.created_at.with_timezone(&Paris).date_naive());
    match contest.status {
        ContestStatus::Open => {
            format!("Contestation envoyée le {sent} : en attente de réponse de la mairie.")
        }
        ContestStatus::Answered => {
            let answered = contest
                .answered_at
                .map(|at| {
                    format!(
                        " le {}",
                        long_date_year(at.with_timezone(&Paris).date_naive())
                    )
                })
                .unwrap_or_default();
            let credit = contest
                .credit_note
                .as_ref()
                .map(|(_, number)| format!(" Un avoir a été fait : {number}."))
                .unwrap_or_default();
            format!(
                "Contestation traitée{answered}. Réponse de la mairie : {}{credit}",
                contest.answer.as_deref().unwrap_or("")
            )
        }
    }
}

/// The child's name on a line, or "" for a line about no child.
pub fn child_of(line: &InvoiceLine) -> String {
    line.child
        .as_ref()
        .map(|c| format!("{} {}", c.first_name, c.last_name))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use cantine_domain::money::Cents;

    #[test]
    fn effort_rates_read_as_percentages() {
        assert_eq!(effort_rate(4_500), "0,45\u{a0}%");
        assert_eq!(effort_rate(10_000), "1\u{a0}%");
        assert_eq!(effort_rate(12_345), "1,2345\u{a0}%");
    }

    #[test]
    fn a_bracket_says_the_qf_used_and_its_bounds() {
        let text = price_basis(&PriceBasis::Bracket {
            qf: 750,
            qf_min: 600,
            qf_max: Some(900),
        });
        assert!(text.contains("750\u{a0}€"), "{text}");
        assert!(text.contains("600\u{a0}€ à 899\u{a0}€"), "{text}");
        let text = price_basis(&PriceBasis::EffortRate {
            qf: 800,
            rate_millionths: 4_500,
            computed: Cents(360),
            bounded: Bound::Minimum,
        });
        assert!(
            text.contains("0,45\u{a0}%") && text.contains("3,60\u{a0}€"),
            "{text}"
        );
        assert!(text.contains("minimum"), "{text}");
    }
}
