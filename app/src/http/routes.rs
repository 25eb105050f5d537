//! The pages' paths, named once: the router mounts them and mails link to them, so a renamed
//! page cannot leave a dead link in a family's mailbox.

use url::Url;

use cantine_domain::calendar::SchoolYearLabel;
use chrono::NaiveDate;

use crate::absences::AbsenceMails;
use crate::accounts::AccountMails;
use crate::closures::ClosureMails;
use crate::enrollments::EnrollmentMails;
use crate::http::fr;
use crate::platform::mail::Mail;
use crate::staff::StaffMails;

pub const HOME: &str = "/";
pub const STYLESHEET: &str = "/static/app.css";
pub const SIGN_UP: &str = "/inscription";
pub const CONFIRM: &str = "/confirmer";
pub const LOG_IN: &str = "/connexion";
pub const LOG_OUT: &str = "/deconnexion";
pub const HOUSEHOLD: &str = "/foyer";
pub const INVITE: &str = "/foyer/invitation";
pub const NEW_CHILD: &str = "/enfants/nouveau";
pub const ENROLLMENT: &str = "/enfants/{child_id}/inscription";
pub const CALENDAR: &str = "/enfants/{child_id}/calendrier";
pub const DAY: &str = "/enfants/{child_id}/jours/{date}";
pub const PATTERN: &str = "/enfants/{child_id}/semaine-type";
pub const ABSENCES: &str = "/absences";
pub const ABSENCE_CERTIFICATE: &str = "/absences/{absence_id}/certificat";
// The family's billing.
pub const INVOICES: &str = "/factures";
pub const INVOICE: &str = "/factures/{invoice_id}";
pub const INVOICE_PDF: &str = "/factures/{invoice_id}/pdf";
pub const INVOICE_CONTEST: &str = "/factures/{invoice_id}/lignes/{line_id}/contestation";
pub const BILLING_ACCOUNT: &str = "/mon-compte";
/// The yearly statement as PDF, `?annee=2026`.
pub const YEARLY_STATEMENT: &str = "/mon-compte/releve-annuel";
/// The menus as SCDL `menus-collectifs` open data: public.
pub const OPEN_DATA_MENUS: &str = "/donnees/menus-collectifs.csv";
// Online payment (PayFiP): the family's button, PayFiP's return and its notification.
pub const PAY_INVOICE: &str = "/factures/{invoice_id}/payer";
/// The family's invoice page (served by the billing pages), where a payment comes back to.
pub const INVOICE_PAGE: &str = "/factures/{invoice_id}";
/// `urlredirect`: followed by the attempt's `refdet`.
pub const PAYMENT_RETURN_PREFIX: &str = "/paiements/retour/";
pub const PAYMENT_RETURN: &str = "/paiements/retour/{refdet}";
/// `urlnotif`: not a page, not an API; PayFiP calls it with the `idop`.
pub const PAYFIP_NOTIFICATION: &str = "/payfip/notification";

// The back office.
pub const SET_PASSWORD: &str = "/personnel/mot-de-passe";
pub const SECOND_FACTOR: &str = "/gestion/double-authentification";
pub const STAFF_HOME: &str = "/gestion";
pub const STAFF_KITCHEN: &str = "/gestion/cuisine";
pub const STAFF_KITCHEN_API: &str = "/api/v1/staff/kitchen/counts";
pub const STAFF_ENROLLMENTS: &str = "/gestion/inscriptions";
pub const STAFF_DECISION: &str = "/gestion/inscriptions/{enrollment_id}";
pub const STAFF_HOUSEHOLDS: &str = "/gestion/foyers";
pub const STAFF_HOUSEHOLD: &str = "/gestion/foyers/{household_id}";
pub const STAFF_QUOTIENT: &str = "/gestion/foyers/{household_id}/quotient-familial";
pub const STAFF_COUNTER_CHILD: &str = "/gestion/foyers/{household_id}/enfants";
pub const STAFF_COUNTER_ENROLLMENT: &str =
    "/gestion/foyers/{household_id}/enfants/{child_id}/inscription";
pub const STAFF_COUNTER_DAY: &str = "/gestion/foyers/{household_id}/enfants/{child_id}/jour";
pub const STAFF_CUSTODY: &str = "/gestion/foyers/{household_id}/enfants/{child_id}/garde";
pub const STAFF_CUSTODY_REMOVAL: &str =
    "/gestion/foyers/{household_id}/enfants/{child_id}/garde/suppression";
pub const STAFF_NEW_HOUSEHOLD: &str = "/gestion/guichet/nouveau-foyer";
pub const STAFF_CLOSURES: &str = "/gestion/fermetures";
pub const STAFF_REOPENING: &str = "/gestion/fermetures/reouverture";
pub const STAFF_MEMBERS: &str = "/gestion/personnel";
pub const STAFF_MEMBER_SECOND_FACTOR: &str =
    "/gestion/personnel/{account_id}/double-authentification";
pub const STAFF_MEMBER_ROLES: &str = "/gestion/personnel/{account_id}/roles";
pub const STAFF_AUDIT: &str = "/gestion/journal";
pub const STAFF_STATUS: &str = "/gestion/etat";
pub const STAFF_ABSENCES: &str = "/gestion/absences";
pub const STAFF_ABSENCE_DECISION: &str = "/gestion/absences/{absence_id}";
pub const STAFF_ABSENCE_CERTIFICATE: &str = "/gestion/absences/{absence_id}/certificat";
pub const STAFF_MENUS: &str = "/gestion/menus";
pub const STAFF_MENU_DAY: &str = "/gestion/menus/{date}";
pub const STAFF_MENU_IMPORT: &str = "/gestion/menus/import";
/// The staff API's audit export, linked from the journal page.
pub const STAFF_AUDIT_API: &str = "/api/v1/staff/audit";
pub const STAFF_ATTENDANCE: &str = "/gestion/appel";
pub const STAFF_ATTENDANCE_MARK: &str = "/gestion/appel/pointage";
pub const STAFF_ATTENDANCE_WALK_IN: &str = "/gestion/appel/sans-reservation";
pub const STAFF_ATTENDANCE_LOCK: &str = "/gestion/appel/verrouillage";
/// The attendance page's script, and its service worker, whose scope is the page
/// ([`STAFF_ATTENDANCE`], allowed by its `Service-Worker-Allowed` header).
pub const ATTENDANCE_SCRIPT: &str = "/static/appel.js";
pub const ATTENDANCE_WORKER: &str = "/static/appel-sw.js";
pub const ATTENDANCE_STYLESHEET: &str = "/static/appel.css";

// Finance's billing pages.
pub const STAFF_BILLING: &str = "/gestion/facturation";
pub const STAFF_BILLING_RUN: &str = "/gestion/facturation/calcul";
pub const STAFF_BILLING_ISSUE: &str = "/gestion/facturation/emission";
pub const STAFF_INVOICE: &str = "/gestion/facturation/factures/{invoice_id}";
pub const STAFF_CREDIT_NOTE: &str = "/gestion/facturation/factures/{invoice_id}/avoir";
pub const STAFF_CONTESTS: &str = "/gestion/facturation/contestations";
pub const STAFF_CONTEST_ANSWER: &str = "/gestion/facturation/contestations/{contest_id}";
pub const STAFF_TARIFFS: &str = "/gestion/facturation/tarifs";
pub const STAFF_BILLING_ACCOUNT: &str = "/gestion/facturation/foyers/{household_id}";
pub const STAFF_BILLING_PAYMENT: &str = "/gestion/facturation/foyers/{household_id}/encaissement";
pub const STAFF_BILLING_REFUND: &str = "/gestion/facturation/foyers/{household_id}/remboursement";
pub const STAFF_RECEIPT: &str = "/gestion/facturation/recus/{payment_id}";
/// PayFiP's mismatches, and finance's decision on one.
pub const STAFF_PAYMENT_MISMATCHES: &str = "/gestion/paiements/anomalies";
pub const STAFF_PAYMENT_MISMATCH: &str = "/gestion/paiements/anomalies/{attempt_id}";

// Data protection (RGPD).
/// The privacy page, public.
pub const PRIVACY: &str = "/confidentialite";
/// The family's data: the readable page, and its JSON download.
pub const MY_DATA: &str = "/foyer/mes-donnees";
pub const MY_DATA_JSON: &str = "/foyer/mes-donnees.json";
/// The family closes its account (a confirmation page, then the form's post).
pub const ACCOUNT_CLOSURE: &str = "/foyer/cloture";
/// `exportHouseholdData`.
pub const MY_DATA_API: &str = "/api/v1/household/export";
/// A manager closes a household's account at the counter.
pub const STAFF_HOUSEHOLD_CLOSURE: &str = "/gestion/foyers/{household_id}/cloture";
/// The record of processing activities, for the DPO (Markdown).
pub const STAFF_PROCESSING_RECORD: &str = "/gestion/registre-des-traitements";

/// A path with its `{placeholders}` filled in order, for links and redirects.
pub fn fill(path: &str, values: &[i64]) -> String {
    let mut out = String::with_capacity(path.len());
    let mut rest = path;
    let mut values = values.iter();
    while let Some(open) = rest.find('{') {
        let close = open + rest[open..].find('}').expect("a closed placeholder");
        out.push_str(&rest[..open]);
        out.push_str(&values.next().expect("a value per placeholder").to_string());
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

/// Links in mails point at the public URL the families use.
pub struct Links {
    pub public_url: Url,
}

impl Links {
    /// A page of this site with a single-use token.
    pub fn link(&self, path: &str, token: &str) -> String {
        let mut url = self.public_url.join(path).expect("static path");
        url.query_pairs_mut().append_pair("token", token);
        url.to_string()
    }
}

/// The accounts' mails, in French, with links to this site's pages.
impl AccountMails for Links {
    fn confirm_email(&self, to: &str, first_name: &str, token: &str) -> Mail {
        Mail {
            to: to.to_owned(),
            subject: "Confirmez votre adresse e-mail".into(),
            body: format!(
                "Bonjour {first_name},\n\nPour activer votre compte Cantine, ouvrez ce lien dans les 48 heures :\n{}\n\nSi vous n'avez pas créé de compte, ignorez ce message.\n",
                self.link(CONFIRM, token)
            ),
        }
    }

    fn invite_guardian(&self, to: &str, inviter_first_name: &str, token: &str) -> Mail {
        Mail {
            to: to.to_owned(),
            subject: "Invitation à rejoindre un foyer sur Cantine".into(),
            body: format!(
                "Bonjour,\n\n{inviter_first_name} vous invite à gérer la cantine de vos enfants avec lui ou elle.\nCréez votre compte avec ce lien (valable 7 jours) :\n{}\n",
                self.link(SIGN_UP, token)
            ),
        }
    }
}

impl StaffMails for Links {
    fn set_password(&self, to: &str, first_name: &str, token: &str) -> Mail {
        Mail {
            to: to.to_owned(),
            subject: "Votre compte Cantine (personnel de la mairie)".into(),
            body: format!(
                "Bonjour {first_name},\n\nUn compte vous a été ouvert sur Cantine, l'outil du service de restauration scolaire.\nChoisissez votre mot de passe avec ce lien (valable 7 jours, utilisable une fois) :\n{}\n\nÀ la première connexion, vous activerez la double authentification avec une application comme FreeOTP, Aegis ou Google Authenticator.\n",
                self.link(SET_PASSWORD, token)
            ),
        }
    }
}

impl EnrollmentMails for Links {
    fn decided(
        &self,
        to: &str,
        guardian: &str,
        child: &str,
        year: SchoolYearLabel,
        rejected_for: Option<&str>,
    ) -> Mail {
        let home = self.public_url.join(HOME).expect("static path");
        let (subject, news) = match rejected_for {
            None => (
                format!("Inscription {} à la cantine validée", fr::of(child)),
                format!(
                    "L'inscription {} à la cantine pour l'année {year} est validée. Ses jours habituels sont réservés ; vous pouvez les modifier sur {home}",
                    fr::of(child)
                ),
            ),
            Some(reason) => (
                format!("Inscription {} à la cantine refusée", fr::of(child)),
                format!(
                    "L'inscription {} à la cantine pour l'année {year} n'a pas pu être acceptée.\nMotif : {reason}\n\nPour en parler, contactez le service de restauration scolaire de la mairie.",
                    fr::of(child)
                ),
            ),
        };
        Mail {
            to: to.to_owned(),
            subject,
            body: format!("Bonjour {guardian},\n\n{news}\n"),
        }
    }
}

impl ClosureMails for Links {
    fn closed(&self, to: &str, reason: &str, meals: &[(String, NaiveDate)]) -> Mail {
        let lines: Vec<String> = meals
            .iter()
            .map(|(child, day)| {
                format!(
                    "- {} : repas {} annulé",
                    fr::capitalized(&fr::long_date_year(*day)),
                    fr::of(child)
                )
            })
            .collect();
        Mail {
            to: to.to_owned(),
            subject: "Cantine fermée : repas annulés".into(),
            body: format!(
                "Bonjour,\n\nLa cantine sera fermée ({reason}). Ces repas réservés sont annulés et ne seront pas facturés :\n{}\n\nSi la cantine rouvre, réservez à nouveau les jours voulus sur {}\n",
                lines.join("\n"),
                self.public_url.join(HOME).expect("static path")
            ),
        }
    }
}

impl AbsenceMails for Links {
    fn absence_decided(
        &self,
        to: &str,
        children: &[String],
        (first, last): (NaiveDate, NaiveDate),
        refused_for: Option<&str>,
    ) -> Mail {
        let who = fr::of(&fr::names_list(children));
        let days = if first == last {
            format!("le {}", fr::long_date_year(first))
        } else {
            format!(
                "du {} au {}",
                fr::long_date_year(first),
                fr::long_date_year(last)
            )
        };
        let page = self.public_url.join(ABSENCES).expect("static path");
        let (subject, news) = match refused_for {
            None => (
                "Absence acceptée".to_owned(),
                format!(
                    "L'absence {who} {days} est acceptée par le service de restauration scolaire."
                ),
            ),
            Some(reason) => (
                "Absence refusée".to_owned(),
                format!(
                    "L'absence {who} {days} n'a pas été acceptée par le service de restauration scolaire.\nMotif : {reason}\n\nPour en parler, contactez le service de restauration scolaire de la mairie."
                ),
            ),
        };
        Mail {
            to: to.to_owned(),
            subject,
            body: format!("Bonjour,\n\n{news}\n\nVos absences déclarées : {page}\n"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_in_order() {
        assert_eq!(fill(STAFF_HOUSEHOLD, &[7]), "/gestion/foyers/7");
        assert_eq!(
            fill(STAFF_COUNTER_DAY, &[7, 12]),
            "/gestion/foyers/7/enfants/12/jour"
        );
        assert_eq!(fill(STAFF_HOME, &[]), "/gestion");
    }

    #[test]
    fn mail_links_lead_to_the_pages_with_their_token() {
        let links = Links {
            public_url: "https://cantine.techniville.fr/".parse().unwrap(),
        };
        let mail = links.confirm_email("a@b.fr", "Élodie", "t0k");
        assert!(
            mail.body
                .contains("https://cantine.techniville.fr/confirmer?token=t0k"),
            "{}",
            mail.body
        );
        let mail = links.invite_guardian("a@b.fr", "Élodie", "t0k");
        assert!(
            mail.body.contains("/inscription?token=t0k"),
            "{}",
            mail.body
        );
    }
}
