//! The billing mails, worded in French with links to the family's pages, and sent: the
//! billing outbox (`billing::send_due_mails`) calls them once the deciding transaction has
//! committed, and records a failure for a later attempt.

use std::sync::Arc;

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
}
