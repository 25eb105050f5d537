//! The words of data protection: the privacy page, the record of processing activities
//! (registre des traitements, RGPD art. 30) and the titles of the family's data export. The
//! controller's details come from `[privacy]`, the periods from `[retention]`: one source for
//! the page the families read and the document the DPO keeps.

use crate::platform::config::{PrivacyConfig, RetentionConfig};

/// What the service processes data for, with the data each purpose needs.
pub const PURPOSES: &[(&str, &str)] = &[
    (
        "Inscription des enfants à la cantine et gestion des comptes des familles",
        "identité, adresse électronique, téléphone et adresse postale des responsables ; nom, prénom, date de naissance, école et classe des enfants",
    ),
    (
        "Réservation et annulation des repas, pointage des présences, effectifs transmis à la cuisine",
        "jours réservés et leur historique, présences ; la cuisine ne reçoit que des nombres, sans nom",
    ),
    (
        "Sécurité alimentaire des enfants : régimes, allergies, projet d'accueil individualisé (PAI)",
        "régime, allergènes et précisions sur les allergies, PAI (données de santé, lues seulement par les agents qui servent les repas ; chaque lecture est journalisée)",
    ),
    (
        "Absences et leurs justificatifs",
        "dates, motif, commentaire de la famille, certificat médical éventuel",
    ),
    (
        "Facturation, tarification au quotient familial, paiements et recouvrement",
        "quotient familial et son justificatif, factures, paiements, contestations, paiements en ligne (PayFiP)",
    ),
    (
        "Sécurité du service et preuve des actions du personnel",
        "journal des actions et des lectures du personnel (compte, date, adresse IP du poste)",
    ),
];

/// One line of the retention table: what, how long, why (the source).
pub struct Period {
    pub data: &'static str,
    pub period: String,
    pub source: &'static str,
}

/// The retention periods, as configured.
pub fn periods(retention: &RetentionConfig) -> Vec<Period> {
    vec![
        Period {
            data: "Compte du foyer, responsables, enfants, données de santé, réservations à venir",
            period: format!(
                "tant que le foyer utilise le service ; clos et effacé à la demande de la famille, ou après {} jours sans activité",
                retention.inactive_household_days
            ),
            source: "RGPD art. 5.1.e ; CNIL, norme simplifiée NS-058 (délibération n° 2016-146) pour les services scolaires et périscolaires, reprise comme référence",
        },
        Period {
            data: "Factures, paiements, écritures du compte, quotient familial retenu",
            period: format!(
                "{} ans, avec l'identité réduite au numéro du foyer une fois le compte clos",
                retention.invoice_years
            ),
            source: "comptabilité publique : pièces justificatives des recettes, 10 ans (instruction DAF/DPACI/RES/2009/018 sur les archives communales) ; leur élimination se fait avec le visa du service des archives (code du patrimoine, art. L. 212-2)",
        },
        Period {
            data: "Journal des actions du personnel",
            period: format!("{} jours", retention.audit_days),
            source: "CNIL, recommandation relative à la journalisation (délibération n° 2021-122) : 6 mois à 1 an",
        },
        Period {
            data: "Sessions de connexion, liens de confirmation et d'invitation",
            period: "jusqu'à leur expiration, puis supprimés chaque jour".to_owned(),
            source: "RGPD art. 5.1.c et 5.1.e (minimisation, durée limitée)",
        },
    ]
}

/// The rights a family has, and the complaint.
pub const RIGHTS: &[&str] = &[
    "accès à vos données et copie de celles-ci (art. 15) : téléchargez-les à tout moment depuis « Mon foyer », page « Mes données »",
    "portabilité (art. 20) : le même téléchargement, au format JSON",
    "rectification (art. 16) : auprès de la mairie, ou depuis votre compte pour ce que vous avez saisi",
    "effacement (art. 17) : clôturez votre compte depuis « Mon foyer » ; ce que la comptabilité publique impose de garder (factures, paiements) est conservé sous le seul numéro du foyer",
    "limitation (art. 18) et opposition (art. 21), dans les limites de la mission de service public",
];

pub const COMPLAINT: &str = "Si vous estimez que vos droits ne sont pas respectés, vous pouvez adresser une réclamation à la CNIL (Commission nationale de l'informatique et des libertés, 3 place de Fontenoy, TSA 80715, 75334 Paris Cedex 07, www.cnil.fr).";

/// The French title of each exported table, for the readable page.
pub fn table_title(table: &str) -> &'static str {
    match table {
        "household" => "Foyer",
        "household_closure" => "Clôture du compte",
        "account" => "Responsables (comptes)",
        "account_role" => "Rôles des comptes",
        "session" => "Sessions de connexion ouvertes",
        "email_token" => "Liens envoyés par e-mail (confirmation, invitation)",
        "child" => "Enfants",
        "custody" => "Garde partagée",
        "custody_range" => "Périodes de garde",
        "enrollment" => "Inscriptions à la cantine",
        "reservation" => "Réservations",
        "reservation_event" => "Historique des réservations",
        "absence" => "Absences déclarées",
        "absence_day" => "Jours d'absence",
        "certificate" => "Justificatifs (fichiers)",
        "attendance" => "Présences",
        "attendance_mark" => "Historique du pointage",
        "quotient_familial" => "Quotient familial",
        "invoice" => "Factures et avoirs",
        "invoice_line" => "Lignes de facture",
        "contest" => "Contestations",
        "payment" => "Paiements",
        "ledger_entry" => "Écritures du compte",
        "allocation" => "Affectations des paiements",
        "payfip_attempt" => "Paiements en ligne (PayFiP)",
        "payfip_mismatch" => "Anomalies de paiement en ligne",
        "payfip_resolution" => "Décisions sur les anomalies de paiement",
        "sepa_mandate" => "Mandats de prélèvement",
        "sepa_debit" => "Prélèvements",
        "sepa_rejection" => "Prélèvements rejetés",
        "billing_mail" => "Courriels de facturation",
        "audit_entry" => "Actions et lectures du personnel vous concernant",
        _ => "Autres données",
    }
}

/// The record of processing activities (RGPD art. 30.1) as Markdown, for the DPO.
pub fn processing_record(
    privacy: &PrivacyConfig,
    retention: &RetentionConfig,
    today: chrono::NaiveDate,
) -> String {
    let mut md = String::new();
    md.push_str("# Registre des activités de traitement – restauration scolaire\n\n");
    md.push_str(&format!(
        "Établi par l'application Cantine le {} (RGPD, article 30.1).\n\n",
        today.format("%d/%m/%Y")
    ));
    md.push_str("## Responsable du traitement\n\n");
    md.push_str(&format!(
        "- Responsable : {}\n- Adresse : {}\n- Délégué à la protection des données : {}\n\n",
        privacy.controller, privacy.address, privacy.dpo_contact
    ));
    md.push_str("## Finalités et catégories de données\n\n");
    md.push_str("| Finalité | Données |\n| --- | --- |\n");
    for (purpose, data) in PURPOSES {
        md.push_str(&format!("| {} | {} |\n", cell(purpose), cell(data)));
    }
    md.push_str("\n## Personnes concernées\n\n");
    md.push_str("Les enfants inscrits à la cantine et leurs responsables légaux ; les agents de la commune qui utilisent le service.\n\n");
    md.push_str("## Base légale\n\n");
    md.push_str(&format!("{}.\n\n", privacy.legal_basis));
    md.push_str("## Destinataires\n\n");
    for r in &privacy.recipients {
        md.push_str(&format!("- {r}\n"));
    }
    md.push_str("\nAucun transfert hors de l'Union européenne : les données restent sur le serveur de la mairie et ses sauvegardes chiffrées.\n\n");
    md.push_str("## Durées de conservation\n\n");
    md.push_str("| Données | Durée | Source |\n| --- | --- | --- |\n");
    for p in periods(retention) {
        md.push_str(&format!(
            "| {} | {} | {} |\n",
            cell(p.data),
            cell(&p.period),
            cell(p.source)
        ));
    }
    md.push_str("\n## Mesures de sécurité (art. 32)\n\n");
    md.push_str("- accès du personnel par rôle, avec double authentification, chaque action et chaque lecture de données de santé journalisée ;\n");
    md.push_str("- mots de passe hachés (argon2id), sessions côté serveur ;\n");
    md.push_str("- sauvegardes chiffrées, restauration testée ;\n");
    md.push_str("- effacement des identités à la clôture d'un compte, historique pseudonymisé ;\n");
    md.push_str(
        "- tâche quotidienne d'effacement des données dont la durée de conservation est échue.\n\n",
    );
    md.push_str("## Exercice des droits\n\n");
    md.push_str(&format!("{}.\n\n", privacy.rights_contact));
    for r in RIGHTS {
        md.push_str(&format!("- {r}\n"));
    }
    md.push_str(&format!("\n{COMPLAINT}\n"));
    md
}

/// A Markdown table cell: no line breaks, no column separator.
fn cell(text: &str) -> String {
    text.replace(['\n', '\r'], " ").replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_exported_table_has_a_french_title() {
        for table in crate::privacy::EXPORTED {
            assert_ne!(table_title(table), "Autres données", "{table}");
        }
    }

    #[test]
    fn markdown_cells_cannot_break_the_table() {
        assert_eq!(cell("a|b\nc"), "a\\|b c");
    }
}
