//! The billing mails, worded in French with links to the family's pages, and sent: the
//! billing outbox (`billing::send_due_mails`) calls them once the deciding transaction has
//! committed, and records a failure for a later attempt.

use std::sync::Arc;

use crate::billing::sepa::DebitNotice;
use crate::billing::{BillingMails, ContestSummary, DocumentKind, InvoiceSummary, Recipient};
use crate::http::fr::{self, billing as words};
use crate::http::{AppState, routes};
use crate::platform::mail::{Mail, Mailer};

/// What the billing outbox's worker sends with.
#[derive(Clone)]
pub struct FamilyMails {
    pub links: Arc<routes::Links>,
    pub mailer: Arc<Mailer>,
}

impl FamilyMails {
    pub fn new(state: &AppState) -> Self {
        Self {
            links: state.links.clone(),
            mailer: state.mailer.clone(),
        }
    }

    fn page(&self, path: &str) -> String {
        self.links
            .public_url
            .join(path)
            .expect("static path")
            .to_string()
    }

    /// The mail telling of an issued invoice or credit note.
    pub fn invoice_mail(&self, to: &str, invoice: &InvoiceSummary) -> Mail {
        let number = invoice.number.as_deref().unwrap_or_default();
        let month = words::month(invoice.month);
        let page = self.page(&routes::fill(routes::INVOICE, &[invoice.id]));
        let (subject, news) = match invoice.kind {
            DocumentKind::Invoice => (
                format!("Votre facture de {month} est disponible"),
                format!(
                    "Votre facture de cantine de {month} est disponible.\n\nMontant : {}\nNuméro : {number}\n\nVoir le détail, télécharger la facture et payer :\n{page}\n\nUne ligne vous semble fausse ? Ouvrez la facture et choisissez « Contester cette ligne ».",
                    fr::euros(invoice.amount)
                ),
            ),
            DocumentKind::CreditNote => (
                format!("Un avoir sur votre facture de {month}"),
                format!(
                    "La mairie a fait un avoir en votre faveur sur la cantine de {month}.\n\nMontant de l'avoir : {}\nNuméro : {number}\n\nIl est déduit de ce que vous devez. Le voir :\n{page}",
                    fr::euros(invoice.amount)
                ),
            ),
        };
        Mail {
            to: to.to_owned(),
            subject,
            body: format!("Bonjour,\n\n{news}\n"),
        }
    }

    /// The mail telling of finance's answer to a contest.
    pub fn contest_mail(&self, to: &str, contest: &ContestSummary, invoice_number: &str) -> Mail {
        let credit = contest
            .credit_note
            .as_ref()
            .map(|(_, number)| {
                format!("\n\nUn avoir a été fait pour corriger la facture : {number}.")
            })
            .unwrap_or_default();
        Mail {
            to: to.to_owned(),
            subject: "Réponse à votre contestation".to_owned(),
            body: format!(
                "Bonjour,\n\nLa mairie a répondu à votre contestation sur la facture {invoice_number}.\n\nVotre message : « {} »\nRéponse : « {} »{credit}\n\nVos factures : {}\n",
                contest.message,
                contest.answer.as_deref().unwrap_or_default(),
                self.page(routes::INVOICES)
            ),
        }
    }
}

impl FamilyMails {
    /// The pre-notification of a direct debit (EPC: amount, date, mandate, creditor).
    pub fn debit_announced_mail(&self, to: &str, d: &DebitNotice) -> Mail {
        let page = self.page(&routes::fill(routes::INVOICE, &[d.invoice_id]));
        Mail {
            to: to.to_owned(),
            subject: format!("Prélèvement de votre facture {}", d.invoice_number),
            body: format!(
                "Bonjour,\n\nVotre facture de cantine {} sera prélevée le {} sur votre compte {}.\n\nMontant prélevé : {}\nRéférence unique du mandat (RUM) : {}\nCréancier : {} (identifiant créancier SEPA {})\n\nVous n'avez rien à faire. Pour voir la facture :\n{page}\n\nPour ne plus être prélevé, révoquez le mandat sur la page « Mon compte » avant cette date.\n",
                d.invoice_number,
                fr::long_date_year(d.collection_date),
                d.iban_masked,
                fr::euros(d.amount),
                d.rum,
                d.creditor_name,
                d.ics,
            ),
        }
    }

    /// The bank rejected a direct debit: the invoice is due again.
    pub fn debit_rejected_mail(&self, to: &str, d: &DebitNotice) -> Mail {
        let page = self.page(&routes::fill(routes::INVOICE, &[d.invoice_id]));
        Mail {
            to: to.to_owned(),
            subject: format!("Prélèvement rejeté : facture {}", d.invoice_number),
            body: format!(
                "Bonjour,\n\nVotre banque a rejeté le prélèvement de {} de la facture de cantine {} (motif bancaire : {}).\n\nCette somme reste donc à payer. Vous pouvez la régler en ligne ou en mairie :\n{page}\n\nSi votre compte a changé, donnez un nouveau mandat sur la page « Mon compte ».\n",
                fr::euros(d.amount),
                d.invoice_number,
                d.reason_code.as_deref().unwrap_or("non précisé"),
            ),
        }
    }
}

/// A household without an address on file is told nothing: not an error to retry.
fn address(to: &Recipient) -> Option<&str> {
    to.email.as_deref().filter(|e| !e.trim().is_empty())
}

impl BillingMails for FamilyMails {
    async fn invoice_issued(&self, to: &Recipient, invoice: &InvoiceSummary) -> anyhow::Result<()> {
        let Some(address) = address(to) else {
            tracing::info!(
                invoice = invoice.id,
                "invoice mail: the household has no address"
            );
            return Ok(());
        };
        self.mailer.send(self.invoice_mail(address, invoice)).await
    }

    async fn contest_answered(
        &self,
        to: &Recipient,
        contest: &ContestSummary,
        invoice_number: &str,
    ) -> anyhow::Result<()> {
        let Some(address) = address(to) else {
            tracing::info!(
                contest = contest.id,
                "contest mail: the household has no address"
            );
            return Ok(());
        };
        self.mailer
            .send(self.contest_mail(address, contest, invoice_number))
            .await
    }

    async fn debit_announced(&self, to: &Recipient, debit: &DebitNotice) -> anyhow::Result<()> {
        let Some(address) = address(to) else {
            tracing::info!(
                invoice = debit.invoice_id,
                "debit notice: the household has no address"
            );
            return Ok(());
        };
        self.mailer
            .send(self.debit_announced_mail(address, debit))
            .await
    }

    async fn debit_rejected(&self, to: &Recipient, debit: &DebitNotice) -> anyhow::Result<()> {
        let Some(address) = address(to) else {
            tracing::info!(
                invoice = debit.invoice_id,
                "debit rejection: the household has no address"
            );
            return Ok(());
        };
        self.mailer
            .send(self.debit_rejected_mail(address, debit))
            .await
    }
}
