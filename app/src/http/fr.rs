//! Everything a family or an agent reads, worded in French: dates, the domain's values, and
//! every error the services return. Only the HTTP edge (pages, API problems, mails) uses it;
//! the services and the domain say what happened as data.
//!
//! Plain text: the templates escape it.

pub mod billing;
pub mod privacy;

use cantine_domain::absence::{
    AbsenceError, CertificateProblem, Notice, Reason as AbsenceReason, Status as AbsenceStatus,
};
use cantine_domain::booking::BookingError;
use cantine_domain::calendar::NotBookable;
use cantine_domain::child::{ClassLevel, Diet};
use cantine_domain::custody::{Arrangement, CustodyError};
use cantine_domain::enrollment::{EnrollmentError, EnrollmentStatus};
use cantine_domain::menu::{Allergen, Course, QualitySign, Regime};
use cantine_domain::money::Cents;
use cantine_domain::tariff::{MAX_CARENCE_DAYS, MAX_MEAL_CENTS, TariffError};
use chrono::{DateTime, Datelike, NaiveDate, Utc, Weekday};
use chrono_tz::Europe::Paris;

use cantine_domain::roles::Role;

use crate::audit::Action;
use crate::error::{
    BillingConflict, Conflict, Error, Field, FormProblem, ImportLine, ImportProblem, Invalid,
    Malformed, MenuProblem, PaymentConflict, Refusal,
};

/// The French name of a weekday, lowercase as written inside a sentence (`"mercredi"`).
pub fn weekday(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "lundi",
        Weekday::Tue => "mardi",
        Weekday::Wed => "mercredi",
        Weekday::Thu => "jeudi",
        Weekday::Fri => "vendredi",
        Weekday::Sat => "samedi",
        Weekday::Sun => "dimanche",
    }
}

/// The full name of a class level (`"Cours élémentaire 1re année"`).
pub fn class_level(level: ClassLevel) -> &'static str {
    match level {
        ClassLevel::Ps => "Petite section",
        ClassLevel::Ms => "Moyenne section",
        ClassLevel::Gs => "Grande section",
        ClassLevel::Cp => "Cours préparatoire",
        ClassLevel::Ce1 => "Cours élémentaire 1re année",
        ClassLevel::Ce2 => "Cours élémentaire 2e année",
        ClassLevel::Cm1 => "Cours moyen 1re année",
        ClassLevel::Cm2 => "Cours moyen 2e année",
    }
}

pub fn diet(diet: Diet) -> &'static str {
    match diet {
        Diet::Standard => "Standard",
        Diet::Vegetarian => "Végétarien",
        Diet::NoPork => "Sans porc",
    }
}

pub fn enrollment_status(status: &EnrollmentStatus) -> &'static str {
    match status {
        EnrollmentStatus::Pending => "En attente de validation",
        EnrollmentStatus::Validated => "Validée",
        EnrollmentStatus::Rejected { .. } => "Refusée",
        EnrollmentStatus::Cancelled => "Annulée",
    }
}

/// A staff role, as the back office names it.
pub fn role(role: Role) -> &'static str {
    match role {
        Role::SchoolStaff => "Agent d'école",
        Role::Kitchen => "Cuisine",
        Role::Manager => "Gestionnaire",
        Role::Finance => "Finances",
        Role::Admin => "Administrateur",
    }
}

/// An audit log action, as the journal page shows it.
pub fn audit_action(action: Action) -> &'static str {
    match action {
        Action::StaffLogin => "Connexion du personnel",
        Action::SecondFactorFailed => "Code de double authentification refusé",
        Action::SecondFactorEnrolled => "Double authentification activée",
        Action::RecoveryCodeUsed => "Code de secours utilisé",
        Action::SecondFactorReset => "Double authentification réinitialisée",
        Action::StaffAccountCreated => "Compte du personnel créé",
        Action::RolesChanged => "Rôles modifiés",
        Action::EnrollmentRequested => "Inscription demandée",
        Action::EnrollmentDecided => "Inscription décidée",
        Action::QuotientFamilialSet => "Quotient familial enregistré",
        Action::DaysClosed => "Jours fermés",
        Action::DaysReopened => "Jours rouverts",
        Action::HouseholdCreated => "Foyer créé",
        Action::ChildAdded => "Enfant ajouté",
        Action::ReservationChanged => "Réservation modifiée",
        Action::HealthDataRead => "Données de santé consultées",
        Action::AbsenceDecided => "Absence décidée",
        Action::CertificateRead => "Certificat d'absence consulté",
        Action::MenuSet => "Menu enregistré",
        Action::MenuDeleted => "Menu supprimé",
        Action::MenusImported => "Menus importés",
        Action::AttendanceCorrected => "Pointage corrigé après verrouillage",
        Action::AttendanceLocked => "Pointage de la journée verrouillé",
        Action::TariffSaved => "Tarif enregistré",
        Action::BillingRun => "Facturation du mois calculée (brouillon)",
        Action::InvoicesIssued => "Factures du mois émises",
        Action::CreditNoteIssued => "Avoir émis",
        Action::ContestAnswered => "Contestation répondue",
        Action::PaymentRecorded => "Paiement enregistré",
        Action::RefundIssued => "Remboursement effectué",
        Action::PaymentMismatchResolved => "Anomalie PayFiP traitée",
        Action::CustodySet => "Garde partagée enregistrée",
        Action::CustodyRemoved => "Garde partagée supprimée",
        Action::HouseholdClosed => "Compte du foyer clos (RGPD)",
        Action::MandateRevoked => "Mandat de prélèvement révoqué",
        Action::DirectDebitsExported => "Prélèvements SEPA exportés",
        Action::DirectDebitRejected => "Prélèvement rejeté saisi",
    }
}

/// The status line a back-office page shows after a form succeeded, by the code its redirect
/// carries (`?info=valide`).
pub fn staff_notice(code: &str) -> Option<&'static str> {
    Some(match code {
        "valide" => {
            "Inscription validée : les jours habituels sont réservés et la famille est prévenue par e-mail."
        }
        "refuse" => "Inscription refusée : la famille est prévenue par e-mail avec le motif.",
        "foyer-cree" => "Foyer créé.",
        "enfant-ajoute" => "Enfant ajouté au foyer.",
        "inscription-demandee" => "Demande d'inscription enregistrée : elle attend une décision.",
        "inscription-validee" => {
            "Inscription enregistrée et validée : les jours habituels sont réservés."
        }
        "jour-reserve" => "Repas réservé pour la famille.",
        "jour-annule" => "Repas annulé pour la famille.",
        "jour-inchange" => "Rien à changer : le jour était déjà dans cet état.",
        "quotient" => "Quotient familial enregistré.",
        "compte-clos" => {
            "Compte du foyer clos : les identités sont effacées, les factures et paiements conservés sous le numéro du foyer."
        }
        "garde" => "Garde partagée enregistrée : chaque foyer réserve désormais ses propres jours.",
        "garde-supprimee" => "Garde partagée supprimée : l'enfant ne dépend plus que de son foyer.",
        "absence-acceptee" => "Absence acceptée : la famille est prévenue par e-mail.",
        "absence-refusee" => "Absence refusée : la famille est prévenue par e-mail avec le motif.",
        "membre-cree" => {
            "Compte créé : la personne reçoit par e-mail un lien pour choisir son mot de passe."
        }
        "double-authentification" => {
            "Double authentification réinitialisée : la personne l'activera à nouveau à sa prochaine connexion."
        }
        "roles-modifies" => {
            "Rôles modifiés : les sessions de la personne sont fermées, ses nouveaux rôles valent dès sa prochaine connexion."
        }
        "pointe" => "Pointage enregistré.",
        "deja-pointe" => "Ce pointage était déjà enregistré : rien n'a changé.",
        "plus-recent" => {
            "Pointage gardé dans l'historique, mais un pointage plus récent d'un autre appareil s'applique."
        }
        "sans-reservation" => {
            "Enfant ajouté sans réservation : il est signalé pour la facturation."
        }
        "verrouille" => {
            "Pointage de la journée verrouillé : seul un gestionnaire peut encore le corriger."
        }
        "deja-verrouille" => "Ce pointage était déjà verrouillé.",
        _ => return None,
    })
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n <= 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

/// "3 repas annulés, 2 familles prévenues par e-mail."
pub fn closure_result(meals: usize, families: usize) -> String {
    format!(
        "Fermeture enregistrée : {}, {} par e-mail.",
        plural(meals, "repas annulé", "repas annulés"),
        plural(families, "famille prévenue", "familles prévenues")
    )
}

/// After a reopening: nothing is booked again.
pub fn reopening_result(closures: usize) -> String {
    format!(
        "Réouverture enregistrée ({}). Aucun repas n'est réservé à nouveau : les familles réservent les jours voulus.",
        plural(closures, "fermeture modifiée", "fermetures modifiées")
    )
}

/// "02/12/2026 à 10:05", in Paris time.
pub fn date_time(at: DateTime<Utc>) -> String {
    at.with_timezone(&Paris)
        .format("%d/%m/%Y à %H:%M")
        .to_string()
}

/// A short sentence for a day that cannot be booked, e.g. "Jour férié : Lundi de Pâques".
pub fn not_bookable(reason: &NotBookable) -> String {
    // U+00A0 before the colon, as French typography requires.
    match reason {
        NotBookable::OutsideSchoolYear => "En dehors de l'année scolaire".to_owned(),
        NotBookable::Weekend => "Week-end".to_owned(),
        NotBookable::NotAServiceWeekday { weekday: day } => {
            format!("Pas de cantine le {}", weekday(*day))
        }
        // The calendar file's names already say it ("Vacances d'hiver").
        NotBookable::SchoolHoliday { name } => name.clone(),
        NotBookable::PublicHoliday(h) => format!("Jour férié\u{a0}: {}", h.name_fr()),
        NotBookable::Closure { reason } => format!("Cantine fermée\u{a0}: {reason}"),
    }
}

/// "le mercredi", "les mercredi et samedi": the days a canteen does not serve.
fn weekday_list(days: cantine_domain::weekdays::WeekdaySet) -> String {
    let names: Vec<&str> = days.iter().map(weekday).collect();
    match names.as_slice() {
        [one] => format!("le {one}"),
        [init @ .., last] => format!("les {} et {last}", init.join(", ")),
        [] => "ces jours-là".to_owned(),
    }
}

fn field(field: Field) -> &'static str {
    match field {
        Field::FirstName => "prénom",
        Field::LastName => "nom",
        Field::Allergies => "allergies",
        Field::Reason => "motif",
        Field::Document => "justificatif",
        Field::PostalAddress => "adresse postale",
        Field::Confirmation => "confirmation",
    }
}

fn booking(e: &BookingError) -> String {
    match e {
        BookingError::NotEnrolled => {
            "L'enfant n'a pas d'inscription validée à la cantine pour cette année scolaire."
                .to_owned()
        }
        BookingError::NotAServiceDay { date, reason } => format!(
            "Pas de cantine le {} : {}.",
            date.format("%d/%m/%Y"),
            not_bookable(reason)
        ),
        BookingError::DeadlinePassed { date, deadline } => format!(
            "Le {} ne peut plus être modifié : la date limite était le {}.",
            date.format("%d/%m/%Y"),
            deadline.with_timezone(&Paris).format("%d/%m/%Y à %H:%M")
        ),
        BookingError::InvalidRange { .. } => {
            "La période est invalide : sa fin précède son début.".to_owned()
        }
        BookingError::RangeTooLong => format!(
            "La période est trop longue ({} jours au plus).",
            cantine_domain::booking::MAX_RANGE_DAYS
        ),
        BookingError::WeekdaysNotServed(days) => {
            format!("La cantine ne sert pas {}.", weekday_list(*days))
        }
    }
}

/// The French name of an absence's reason.
pub fn absence_reason(reason: AbsenceReason) -> &'static str {
    match reason {
        AbsenceReason::Illness => "Maladie",
        AbsenceReason::Other => "Autre motif",
    }
}

pub fn absence_status(status: &AbsenceStatus) -> &'static str {
    match status {
        AbsenceStatus::Pending => "En attente de décision",
        AbsenceStatus::Accepted => "Acceptée",
        AbsenceStatus::Refused { .. } => "Refusée",
    }
}

/// What the notice of a day means for the family or the manager.
pub fn absence_notice(notice: Notice) -> &'static str {
    match notice {
        Notice::BeforeDeadline => "déclarée avant la date limite de réservation",
        Notice::SameMorningIllness => "maladie déclarée le matin même",
        Notice::Late => "déclarée après la date limite",
    }
}

fn absence(e: &AbsenceError) -> String {
    use cantine_domain::absence::{MAX_COMMENT_CHARS, MAX_PAST_DAYS, MAX_RANGE_DAYS};
    match e {
        AbsenceError::InvalidRange => format!(
            "La période est invalide : le dernier jour précède le premier, ou elle dépasse {MAX_RANGE_DAYS} jours."
        ),
        AbsenceError::TooFarInThePast => {
            format!("Une absence se déclare au plus {MAX_PAST_DAYS} jours après son premier jour.")
        }
        AbsenceError::OutsideSchoolYear => {
            "La période doit être comprise dans une même année scolaire.".to_owned()
        }
        AbsenceError::NoServiceDay => {
            "Aucun jour de cantine de l'école de l'enfant dans cette période.".to_owned()
        }
        AbsenceError::CommentTooLong => {
            format!("Le commentaire est trop long ({MAX_COMMENT_CHARS} caractères au plus).")
        }
        AbsenceError::AlreadyDecided => "Cette absence a déjà été traitée.".to_owned(),
        AbsenceError::RefusalReasonRequired => {
            "Un refus doit être motivé pour la famille.".to_owned()
        }
        AbsenceError::ReasonTooLong => format!(
            "Le motif est trop long ({} caractères au plus).",
            cantine_domain::enrollment::MAX_REASON_CHARS
        ),
    }
}

fn certificate(problem: CertificateProblem) -> String {
    match problem {
        CertificateProblem::Empty => "Le fichier du certificat est vide.".to_owned(),
        CertificateProblem::TooLarge => format!(
            "Le certificat dépasse {} Mo : envoyez un fichier plus léger (une photo moins grande, un scan en PDF).",
            cantine_domain::absence::MAX_CERTIFICATE_BYTES / (1024 * 1024)
        ),
        CertificateProblem::Type => {
            "Le certificat doit être un fichier PDF, JPEG ou PNG.".to_owned()
        }
    }
}

fn enrollment(e: &EnrollmentError) -> String {
    match e {
        EnrollmentError::InvalidTransition { .. } => {
            "Cette inscription a déjà été traitée.".to_owned()
        }
        EnrollmentError::RejectionReasonRequired => {
            "Un refus doit être motivé pour la famille.".to_owned()
        }
        EnrollmentError::RejectionReasonTooLong => format!(
            "Le motif du refus est trop long ({} caractères au plus).",
            cantine_domain::enrollment::MAX_REASON_CHARS
        ),
        EnrollmentError::WeekdaysNotServed(days) => {
            format!("La cantine ne sert pas {}.", weekday_list(*days))
        }
    }
}

fn form(problem: &FormProblem) -> String {
    match problem {
        FormProblem::Month => "Mois invalide : utilisez la forme 2026-12.".to_owned(),
        FormProblem::Action => "Action inconnue.".to_owned(),
        FormProblem::Date { what } => format!("{what} : date invalide (jj/mm/aaaa attendu)."),
        FormProblem::School => "Choisissez une école.".to_owned(),
        FormProblem::Weekdays => "Jours de la semaine invalides.".to_owned(),
        FormProblem::NoWeekday => "Cochez au moins un jour de cantine.".to_owned(),
        FormProblem::PageAddress => "Adresse de page invalide.".to_owned(),
        FormProblem::PasswordMismatch => {
            "Les deux mots de passe saisis ne sont pas identiques.".to_owned()
        }
        FormProblem::Number { what } => format!("{what} : nombre entier attendu."),
        FormProblem::Euros { what } => {
            format!("{what} : montant en euros attendu (par exemple 3,50).")
        }
        FormProblem::Decimal { what } => {
            format!("{what} : nombre attendu (par exemple 0,45).")
        }
        FormProblem::Confirmation => {
            "Cochez la case de confirmation : l'émission est définitive.".to_owned()
        }
        FormProblem::CustodyKind => {
            "Choisissez comment la garde est partagée : semaines alternées, périodes ou parts fixes.".to_owned()
        }
    }
}

fn invalid(invalid: &Invalid) -> String {
    match invalid {
        Invalid::Name { field: f, max } => {
            format!(
                "Le champ « {} » est obligatoire ({max} caractères au plus).",
                field(*f)
            )
        }
        Invalid::Required { field: f } => format!("Le champ « {} » est obligatoire.", field(*f)),
        Invalid::TooLong {
            field: f,
            max: Some(max),
        } => {
            format!(
                "Le champ « {} » est trop long ({max} caractères au plus).",
                field(*f)
            )
        }
        Invalid::TooLong {
            field: f,
            max: None,
        } => {
            format!("Le champ « {} » est trop long.", field(*f))
        }
        Invalid::Email => "Adresse e-mail invalide.".to_owned(),
        Invalid::PasswordTooShort { min } => {
            format!("Le mot de passe doit contenir au moins {min} caractères.")
        }
        Invalid::PasswordTooLong => "Mot de passe trop long.".to_owned(),
        Invalid::PhoneTooLong => "Numéro de téléphone trop long.".to_owned(),
        Invalid::ClassLevel => {
            "Niveau de classe inconnu (PS, MS, GS, CP, CE1, CE2, CM1 ou CM2).".to_owned()
        }
        Invalid::Diet => "Régime inconnu (standard, vegetarian ou no_pork).".to_owned(),
        Invalid::BirthDate => "Date de naissance invalide pour un enfant scolarisé.".to_owned(),
        Invalid::UnknownSchool => "École inconnue.".to_owned(),
        Invalid::ChildrenCount { max } => format!("Choisissez de 1 à {max} enfants."),
        Invalid::SchoolYear => "Année scolaire invalide (ex. 2026-2027).".to_owned(),
        Invalid::YearNotOpen(year) => {
            format!("Les inscriptions pour {year} ne sont pas ouvertes.")
        }
        Invalid::OutsideSchoolYear(date) => format!(
            "Pas de cantine le {} : en dehors de l'année scolaire.",
            date.format("%d/%m/%Y")
        ),
        Invalid::Credentials => "Adresse e-mail ou mot de passe incorrect.".to_owned(),
        Invalid::SecondFactor => {
            "Code de sécurité incorrect ou déjà utilisé. Attendez le code suivant.".to_owned()
        }
        Invalid::Roles => {
            "Rôles invalides : un agent d'école doit avoir au moins une école, et seuls les agents d'école en ont.".to_owned()
        }
        Invalid::Search => "Tapez de 2 à 100 caractères pour chercher.".to_owned(),
        Invalid::QuotientFamilial => {
            "Quotient familial invalide (un nombre d'euros de 0 à 100 000).".to_owned()
        }
        Invalid::Character => "Le texte contient un caractère non autorisé (U+0000).".to_owned(),
        Invalid::AttendanceDay(date) => format!(
            "Le pointage du {} ne peut pas encore être fait : ce jour n'est pas arrivé.",
            long_date_year(*date)
        ),
        Invalid::Enrollment(e) => enrollment(e),
        Invalid::Booking(e) => booking(e),
        Invalid::Absence(e) => absence(e),
        Invalid::Certificate(problem) => certificate(*problem),
        Invalid::Form(problem) => form(problem),
        Invalid::Request(text) => text.clone(),
        Invalid::Tariff(e) => tariff(e),
        Invalid::Month => "Mois invalide (ex. 2026-11).".to_owned(),
        Invalid::Amount => "Montant invalide.".to_owned(),
        Invalid::Custody(e) => custody(e),
        Invalid::Sepa(e) => sepa_problem(e).to_owned(),
        Invalid::OtherHousehold => {
            "Choisissez l'autre foyer : un foyer existant, différent de celui de l'enfant.".to_owned()
        }
        Invalid::RangeCount { max } => {
            format!("Donnez de 1 à {max} périodes passées chez le second foyer.")
        }
        Invalid::Menu(problem) => menu_problem(problem),
        Invalid::Import(lines) => {
            let mut text = format!(
                "Fichier refusé, rien n'a été importé : {}.",
                plural(lines.len(), "ligne à corriger", "lignes à corriger")
            );
            for line in import_lines(lines) {
                text.push(' ');
                text.push_str(&line);
            }
            text
        }
    }
}

fn conflict(conflict: &Conflict) -> String {
    match conflict {
        Conflict::EmailTaken => {
            "Un compte existe déjà avec cette adresse. Connectez-vous ou demandez un nouveau lien."
                .to_owned()
        }
        Conflict::InvitationMismatch => {
            "Cette invitation a été envoyée à une autre adresse.".to_owned()
        }
        Conflict::InvalidInvitation => {
            "Lien d'invitation invalide, déjà utilisé ou expiré.".to_owned()
        }
        Conflict::InvalidConfirmation => {
            "Lien de confirmation invalide, déjà utilisé ou expiré.".to_owned()
        }
        Conflict::InvalidPasswordLink => {
            "Lien de création du mot de passe invalide, déjà utilisé ou expiré. Demandez-en un nouveau à l'administrateur.".to_owned()
        }
        Conflict::SecondFactorEnrolled => {
            "La double authentification est déjà activée pour ce compte.".to_owned()
        }
        Conflict::AlreadyEnrolled => {
            "Une inscription est déjà en cours ou validée pour cet enfant cette année.".to_owned()
        }
        Conflict::DayClosed => "La cantine vient d'être fermée ce jour-là.".to_owned(),
        Conflict::Enrollment(e) => enrollment(e),
        Conflict::Booking(e) => booking(e),
        Conflict::Absence(e) => absence(e),
        Conflict::AttendanceLocked => {
            "Le pointage de ce jour est verrouillé : seul un gestionnaire peut le corriger, avec un motif.".to_owned()
        }
        Conflict::Billing(e) => billing(e),
        Conflict::Payment(e) => payment(e).to_owned(),
        Conflict::OtherHouseholdsDay { child, date } => format!(
            "Le {}, {child} est chez l'autre parent : c'est lui qui réserve ce jour-là.",
            long_date(*date)
        ),
        Conflict::OtherHouseholdsDays { child } => format!(
            "Sur ces jours, {child} est chez l'autre parent : c'est lui qui déclare ses absences."
        ),
        Conflict::AccountingNotConfigured(keys) => format!(
            "Export PES impossible : les identifiants de la collectivité ne sont pas configurés (section [accounting] : {}). Demandez-les à votre comptable public.",
            keys.join(", ")
        ),
        Conflict::Pes(e) => pes(e),
        Conflict::Sepa(e) => sepa_conflict(e),
    }
}

/// A mandate's or a rejection's refused value, worded for the family or finance.
pub fn sepa_problem(e: &cantine_domain::sepa::SepaError) -> &'static str {
    use cantine_domain::sepa::SepaError;
    match e {
        SepaError::Iban => {
            "Cet IBAN n'est pas valide : vérifiez-le sur votre RIB (il commence par FR76 pour un compte français et compte 27 caractères)."
        }
        SepaError::Bic => {
            "Ce BIC n'est pas valide : il compte 8 ou 11 lettres et chiffres (ex. AGRIFRPP), et figure sur votre RIB."
        }
        SepaError::Holder => "Indiquez le titulaire du compte (70 caractères au plus).",
        SepaError::SignedInFuture => "La date de signature ne peut pas être dans le futur.",
        SepaError::ReasonCode => {
            "Le motif du rejet est un code de 4 lettres ou chiffres donné par la banque (ex. AM04, MD01)."
        }
        SepaError::Ics => "L'identifiant créancier SEPA (ICS) n'est pas valide.",
        SepaError::Empty | SepaError::Amount | SepaError::Identifier(_) => {
            "Le fichier de prélèvement ne peut pas être écrit."
        }
    }
}

fn sepa_conflict(e: &crate::error::SepaConflict) -> String {
    use crate::error::SepaConflict;
    match e {
        SepaConflict::MandateActive => "Un mandat de prélèvement est déjà actif pour votre foyer : révoquez-le avant d'en donner un nouveau.".to_owned(),
        SepaConflict::MandateRevoked => "Ce mandat est déjà révoqué.".to_owned(),
        SepaConflict::RunNotIssued => "Ce mois n'est pas encore émis : seules les factures émises sont prélevées.".to_owned(),
        SepaConflict::NothingToCollect => "Aucune facture de ce mois n'est à prélever : aucun foyer sous mandat actif n'a de reste à payer.".to_owned(),
        SepaConflict::AlreadyRejected => "Le rejet de ce prélèvement est déjà saisi.".to_owned(),
        SepaConflict::NotConfigured(keys) => format!(
            "Export des prélèvements impossible : le créancier n'est pas configuré (section [sepa] : {}).",
            keys.join(", ")
        ),
    }
}

/// Where the PES writer found a problem, for finance: the settings, the month's bordereau, or
/// an invoice by its article number (`docs/pes.md` says how invoice numbers map to it).
fn pes_at(at: cantine_domain::pes::At) -> String {
    use cantine_domain::pes::At;
    match at {
        At::Collectivite => "paramètres [accounting]".to_owned(),
        At::Bordereau => "bordereau du mois".to_owned(),
        At::Piece { id_pce } => format!("article {id_pce}"),
        At::Line { id_pce, id_ligne } => format!("article {id_pce}, ligne {id_ligne}"),
    }
}

fn pes(e: &cantine_domain::pes::PesError) -> String {
    use cantine_domain::pes::PesError;
    let detail = match e {
        PesError::Empty { at, field } => format!("{} : {field} est vide", pes_at(*at)),
        PesError::TooLong {
            at,
            field,
            max,
            len,
        } => format!(
            "{} : {field} fait {len} caractères, {max} au plus",
            pes_at(*at)
        ),
        PesError::Unrepresentable {
            at,
            field,
            character,
        } => format!(
            "{} : {field} contient le caractère « {character} », que le format PES ne peut pas transporter",
            pes_at(*at)
        ),
        PesError::Malformed { at, field, .. } => {
            format!("{} : {field} n'a pas la forme attendue", pes_at(*at))
        }
        PesError::NotPositive { at, amount } => format!(
            "{} : le montant {} n'est pas strictement positif",
            pes_at(*at),
            euros(*amount)
        ),
        PesError::TooLarge { at, amount } => {
            format!(
                "{} : le montant {} est trop élevé",
                pes_at(*at),
                euros(*amount)
            )
        }
        PesError::NoPieces => "aucune facture émise à transmettre ce mois-ci".to_owned(),
        PesError::TooManyPieces { count } => format!("{count} factures, trop pour un bordereau"),
        PesError::NoLines { id_pce } => format!("article {id_pce} : aucune ligne"),
        PesError::DuplicatePiece { id_pce } => format!("article {id_pce} en double"),
        PesError::DuplicateLine { id_pce, id_ligne } => {
            format!("article {id_pce} : ligne {id_ligne} en double")
        }
        PesError::DuplicateInvoice { invoice_number } => {
            format!("dette n° {invoice_number} en double")
        }
        PesError::TotalMismatch { declared, lines } => format!(
            "les lignes font {}, le total du bordereau {}",
            euros(*lines),
            euros(*declared)
        ),
        PesError::NoticesBeforeEmission { .. } => {
            "date d'envoi des avis antérieure à l'émission du bordereau".to_owned()
        }
    };
    format!("Fichier PES non produit : {detail}. Corrigez la donnée puis relancez l'export.")
}

/// A shared custody's arrangement in a sentence, for the back office's household page.
pub fn arrangement(arrangement: &Arrangement) -> String {
    match arrangement {
        Arrangement::AlternateWeeks {
            first_has_even_weeks,
        } => format!(
            "Semaines alternées : les semaines {} chez ce foyer, les semaines {} chez l'autre.",
            if *first_has_even_weeks {
                "paires"
            } else {
                "impaires"
            },
            if *first_has_even_weeks {
                "impaires"
            } else {
                "paires"
            },
        ),
        Arrangement::Ranges { second } => {
            let ranges: Vec<String> = second
                .iter()
                .map(|r| {
                    format!(
                        "du {} au {}",
                        r.first_day.format("%d/%m/%Y"),
                        r.last_day.format("%d/%m/%Y")
                    )
                })
                .collect();
            format!(
                "Périodes chez l'autre foyer : {} ; les autres jours chez ce foyer.",
                ranges.join(", ")
            )
        }
        Arrangement::Shares { first_basis_points } => format!(
            "Parts fixes de chaque repas : {} pour ce foyer, {} pour l'autre (la part de ce foyer arrondie au centime le plus proche, l'autre foyer paie le reste).",
            percent(*first_basis_points),
            percent(cantine_domain::custody::FULL_SHARE - first_basis_points),
        ),
    }
}

/// Basis points as a French percentage: `5000` is "50 %", `3333` is "33,33 %".
pub fn percent(basis_points: u32) -> String {
    let (units, hundredths) = (basis_points / 100, basis_points % 100);
    if hundredths == 0 {
        format!("{units}\u{a0}%")
    } else {
        format!(
            "{units},{}\u{a0}%",
            format!("{hundredths:02}").trim_end_matches('0')
        )
    }
}

fn billing(e: &BillingConflict) -> String {
    match e {
        BillingConflict::RunIssued => "La facturation de ce mois est déjà émise : les changements iront en régularisation sur le mois suivant.".to_owned(),
        BillingConflict::NoDraft => "Aucun brouillon de facturation à émettre pour ce mois : lancez d'abord le calcul.".to_owned(),
        BillingConflict::InvoiceIssued => "Une facture émise ne se modifie pas : faites un avoir.".to_owned(),
        BillingConflict::ContestOpen => "Cette ligne est déjà contestée ; la réponse vous sera envoyée par e-mail.".to_owned(),
        BillingConflict::ContestAnswered => "Cette contestation a déjà reçu une réponse.".to_owned(),
        BillingConflict::AmountExceeded { max } => format!("Le montant dépasse ce qui est possible ({} au plus).", euros(*max)),
        BillingConflict::TariffVersionExists(date) => format!("Une version du tarif s'applique déjà à partir du {} : une version enregistrée ne se modifie pas, saisissez-en une nouvelle à partir d'un autre jour.", long_date(*date)),
        BillingConflict::NoTariff(date) => format!("Aucun tarif ne s'applique au {} : saisissez les tarifs de l'année.", long_date(*date)),
        BillingConflict::IdempotencyKeyReused => "Cette clé d'idempotence a déjà servi pour un autre paiement : une nouvelle tentative doit reprendre la même demande (même foyer, même montant, même facture).".to_owned(),
    }
}

fn payment(e: &PaymentConflict) -> &'static str {
    match e {
        PaymentConflict::InProgress => {
            "Un paiement en ligne de cette facture est déjà en cours. Attendez son résultat (au plus quelques minutes, parfois deux heures) avant d'en commencer un autre : vous risqueriez de payer deux fois."
        }
        PaymentConflict::NothingToPay => "Cette facture n'a plus rien à payer.",
        PaymentConflict::MismatchNotOpen => {
            "Ce paiement n'est pas une anomalie en attente : elle a déjà été traitée, ou PayFiP n'a rien signalé."
        }
        PaymentConflict::NotOffered => {
            "Cette facture ne peut pas être payée en ligne. Vous pouvez la régler en mairie."
        }
        PaymentConflict::Unavailable => {
            "Le service de paiement en ligne de la DGFiP (PayFiP) ne répond pas pour le moment. Rien n'a été payé ; réessayez dans quelques minutes."
        }
        PaymentConflict::Refused { .. } => {
            "Le service de paiement en ligne (PayFiP) a refusé d'ouvrir ce paiement. Rien n'a été payé ; la mairie a été prévenue, vous pouvez régler la facture en mairie."
        }
    }
}

/// An online payment's state, as the family reads it.
pub fn payment_status(status: crate::payments::Status) -> &'static str {
    use crate::payments::Status;
    match status {
        Status::Pending => "en cours",
        Status::Paid => "payé",
        Status::Refused => "refusé",
        Status::Abandoned => "abandonné",
        Status::Expired => "expiré",
    }
}

fn tariff(e: &TariffError) -> String {
    match e {
        TariffError::NoBracket => "Saisissez au moins une tranche.".to_owned(),
        TariffError::FirstBracketNotAtZero(qf) => {
            format!("La première tranche doit commencer à un QF de 0 (elle commence à {qf}).")
        }
        TariffError::Gap {
            index,
            expected,
            found,
        } => format!(
            "La tranche {} commence à {found} alors que la précédente s'arrête à {expected} : les tranches doivent se suivre sans trou ni chevauchement.",
            index + 1
        ),
        TariffError::EmptyBracket { index } => {
            format!("La tranche {} est vide ou inversée.", index + 1)
        }
        TariffError::OpenBracketNotLast { index } => format!(
            "Seule la dernière tranche peut être sans plafond (la tranche {} ne l'est pas).",
            index + 1
        ),
        TariffError::LastBracketClosed => "La dernière tranche doit être sans plafond.".to_owned(),
        TariffError::ZeroRate => "Le taux d'effort doit être positif.".to_owned(),
        TariffError::MinAboveMax => "Le prix minimum dépasse le prix maximum.".to_owned(),
        TariffError::PriceOutOfRange => format!(
            "Un prix doit être compris entre 0 et {}.",
            euros(Cents(MAX_MEAL_CENTS))
        ),
        TariffError::MultiplierOutOfRange => {
            "Le coefficient doit être compris entre 100 % et 1000 %.".to_owned()
        }
        TariffError::CarenceTooLong => {
            format!("Le délai de carence est de {MAX_CARENCE_DAYS} jours au plus.")
        }
    }
}

fn custody(e: &CustodyError) -> String {
    match e {
        CustodyError::ShareOutOfRange => {
            "La part doit être comprise entre 0,01 % et 99,99 %.".to_owned()
        }
        CustodyError::RangeReversed => "Une période se termine avant de commencer.".to_owned(),
        CustodyError::RangesOverlap => "Deux périodes se chevauchent.".to_owned(),
    }
}

/// French money: `1 234,56 €`, a narrow no-break space between thousands and a no-break space
/// before the sign, as French typography writes it and as no line break can split it.
pub fn euros(amount: Cents) -> String {
    let sign = if amount.get() < 0 { "-" } else { "" };
    let abs = amount.get().unsigned_abs();
    let units = (abs / 100).to_string();
    let mut grouped = String::new();
    for (i, digit) in units.chars().enumerate() {
        if i > 0 && (units.len() - i).is_multiple_of(3) {
            grouped.push('\u{202f}');
        }
        grouped.push(digit);
    }
    format!("{sign}{grouped},{:02}\u{a0}€", abs % 100)
}

/// Why an action is refused, in a sentence.
pub fn refused(refusal: Refusal) -> &'static str {
    match refusal {
        Refusal::Csrf => {
            "Le formulaire a expiré ou ne vient pas de ce site. Rechargez la page et réessayez."
        }
        Refusal::NotAGuardian => "Cette page est réservée aux familles.",
        Refusal::EmailNotConfirmed => {
            "Votre adresse e-mail n'est pas encore confirmée : ouvrez le lien reçu par e-mail."
        }
        Refusal::Role => "Votre rôle ne permet pas cette action.",
        Refusal::FirstHouseholdOnly => {
            "Garde partagée : seul le foyer principal de l'enfant modifie sa fiche et son inscription."
        }
        Refusal::SecondFactorRequired => {
            "Saisissez le code à 6 chiffres de votre application d'authentification (ou un code de secours)."
        }
    }
}

/// What a family reads for an error: never a cause chain, never SQL.
pub fn message(error: &Error) -> String {
    match error {
        Error::NotFound => "Ressource introuvable.".into(),
        Error::Unauthorized => "Connexion requise.".into(),
        Error::Forbidden(refusal) => refused(*refusal).into(),
        Error::Invalid(e) => invalid(e),
        Error::Conflict(e) => conflict(e),
        Error::Malformed(Malformed::Json) => {
            "Le corps de la requête n'est pas du JSON valide.".into()
        }
        Error::Malformed(Malformed::Form) => "Formulaire illisible.".into(),
        Error::Malformed(Malformed::Other(text)) => text.clone(),
        Error::TooLarge => "Requête trop volumineuse.".into(),
        Error::UnsupportedMediaType => "Content-Type: application/json attendu.".into(),
        Error::TooManyRequests => "Trop de tentatives. Réessayez dans quelques minutes.".into(),
        Error::Internal(_) => "Erreur interne. Réessayez plus tard.".into(),
    }
}

const MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

const MONTHS_SHORT: [&str; 12] = [
    "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.",
    "déc.",
];

fn day_number(day: u32) -> String {
    if day == 1 {
        "1er".to_owned()
    } else {
        day.to_string()
    }
}

pub fn month_name(month: u32) -> &'static str {
    MONTHS[(month as usize + 11) % 12]
}

/// "décembre 2026"
pub fn month_year(year: i32, month: u32) -> String {
    format!("{} {year}", month_name(month))
}

/// "jeudi 3 décembre"
pub fn long_date(date: NaiveDate) -> String {
    format!(
        "{} {} {}",
        weekday(date.weekday()),
        day_number(date.day()),
        month_name(date.month())
    )
}

/// "jeudi 3 décembre 2026"
pub fn long_date_year(date: NaiveDate) -> String {
    format!("{} {}", long_date(date), date.year())
}

/// "jeudi 3 déc."
pub fn short_date(date: NaiveDate) -> String {
    format!(
        "{} {} {}",
        weekday(date.weekday()),
        day_number(date.day()),
        MONTHS_SHORT[date.month0() as usize]
    )
}

/// "mardi 1er déc. à 10:00", in Paris time.
pub fn deadline(at: DateTime<Utc>) -> String {
    let local = at.with_timezone(&Paris);
    format!(
        "{} à {}",
        short_date(local.date_naive()),
        local.format("%H:%M")
    )
}

/// "Jeudi 26 novembre : repas annulé par la mairie le mardi 24 nov. à 09:12 (grève)."
pub fn town_hall_change(
    day: NaiveDate,
    booked: bool,
    reason: Option<&str>,
    at: DateTime<Utc>,
) -> String {
    let what = if booked { "réservé" } else { "annulé" };
    let why = reason.map(|r| format!(" ({r})")).unwrap_or_default();
    format!(
        "{}\u{a0}: repas {what} par la mairie le {}{why}.",
        capitalized(&long_date(day)),
        deadline(at)
    )
}

/// "de Lina", "d'Adam": French elides "de" before a vowel.
pub fn of(name: &str) -> String {
    let elided = name
        .chars()
        .next()
        .is_some_and(|c| "AEIOUYÂÉÈÊÎÏÔÛaeiouyâéèêîïôû".contains(c));
    if elided {
        format!("d'{name}")
    } else {
        format!("de {name}")
    }
}

/// "Lina", "Lina et Adam", "Lina, Adam et Zoé".
pub fn names_list(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} et {last}", init.join(", ")),
    }
}

/// "Lundi"
pub fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

// Menus: the domain's values and the menu errors, as families and the kitchen read them.

/// An allergen's French name, as the child form and the menus show it (lowercase).
pub fn allergen(a: Allergen) -> &'static str {
    match a {
        Allergen::Gluten => "gluten",
        Allergen::Crustaceans => "crustacés",
        Allergen::Eggs => "œufs",
        Allergen::Fish => "poisson",
        Allergen::Peanuts => "arachides",
        Allergen::Soybeans => "soja",
        Allergen::Milk => "lait",
        Allergen::Nuts => "fruits à coque",
        Allergen::Celery => "céleri",
        Allergen::Mustard => "moutarde",
        Allergen::Sesame => "sésame",
        Allergen::Sulphites => "sulfites",
        Allergen::Lupin => "lupin",
        Allergen::Molluscs => "mollusques",
    }
}

/// What an allergen covers, for the child form's checkboxes (Annex II's wording).
pub fn allergen_detail(a: Allergen) -> &'static str {
    match a {
        Allergen::Gluten => "céréales contenant du gluten : blé, seigle, orge, avoine…",
        Allergen::Crustaceans => "crevettes, crabes, langoustines…",
        Allergen::Eggs => "œufs et produits à base d'œufs",
        Allergen::Fish => "poissons et produits à base de poisson",
        Allergen::Peanuts => "cacahuètes et produits à base d'arachides",
        Allergen::Soybeans => "soja et produits à base de soja",
        Allergen::Milk => "lait et produits laitiers, lactose compris",
        Allergen::Nuts => "amandes, noisettes, noix, pistaches…",
        Allergen::Celery => "céleri et produits à base de céleri",
        Allergen::Mustard => "moutarde et produits à base de moutarde",
        Allergen::Sesame => "graines de sésame",
        Allergen::Sulphites => "anhydride sulfureux et sulfites (plus de 10 mg/kg)",
        Allergen::Lupin => "lupin et produits à base de lupin",
        Allergen::Molluscs => "moules, huîtres, calamars…",
    }
}

/// Allergens in a sentence: "arachides, lait".
pub fn allergen_list(list: &[Allergen]) -> String {
    list.iter()
        .map(|a| allergen(*a))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A course, capitalized as a menu's line starts.
pub fn course(c: Course) -> &'static str {
    match c {
        Course::Starter => "Entrée",
        Course::Main => "Plat",
        Course::Side => "Accompagnement",
        Course::Dairy => "Produit laitier",
        Course::Dessert => "Dessert",
        Course::Bread => "Pain",
        Course::Snack => "Goûter",
    }
}

pub fn regime(r: Regime) -> &'static str {
    match r {
        Regime::Vegetarian => "végétarien",
        Regime::NoPork => "sans porc",
        Regime::NoAddedSugar => "sans sucre ajouté",
    }
}

pub fn quality_sign(q: QualitySign) -> &'static str {
    match q {
        QualitySign::Organic => "bio",
        QualitySign::LabelRouge => "Label Rouge",
        QualitySign::Aop => "AOP",
        QualitySign::Igp => "IGP",
        QualitySign::Local => "local",
        QualitySign::HomeMade => "fait maison",
    }
}

/// The warning beside a menu: "⚠ Contient : arachides (allergie de Léa)". The symbol and the
/// words carry it, not a colour.
pub fn allergen_warning(found: &[Allergen], first_name: &str) -> String {
    format!(
        "⚠ Contient : {} (allergie {})",
        allergen_list(found),
        of(first_name)
    )
}

fn menu_problem(problem: &MenuProblem) -> String {
    let codes = |all: &[&str]| all.join(", ");
    match problem {
        MenuProblem::Course(v) => format!(
            "Type de plat inconnu « {v} » (entrée, plat, accompagnement, produit laitier, dessert, pain ou goûter ; codes : {})",
            codes(&Course::ALL.iter().map(|c| c.code()).collect::<Vec<_>>())
        ),
        MenuProblem::DishName { max } => {
            format!("Le nom du plat est obligatoire ({max} caractères au plus).")
        }
        MenuProblem::Allergen(v) => format!(
            "Allergène inconnu « {v} » (un des 14 : {}).",
            allergen_list(Allergen::ALL)
        ),
        MenuProblem::Regime(v) => format!(
            "Régime inconnu « {v} » ({}).",
            codes(&Regime::ALL.iter().map(|r| regime(*r)).collect::<Vec<_>>())
        ),
        MenuProblem::QualitySign(v) => format!(
            "Signe de qualité inconnu « {v} » ({}).",
            codes(
                &QualitySign::ALL
                    .iter()
                    .map(|q| quality_sign(*q))
                    .collect::<Vec<_>>()
            )
        ),
        MenuProblem::TooManyDishes { max } => format!("Un menu a {max} plats au plus."),
        MenuProblem::RangeTooLong { max_days } => {
            format!("Période trop longue : {max_days} jours au plus.")
        }
    }
}

/// What an import wrote: "Import réussi : 10 menus, 52 plats."
pub fn menus_imported(days: usize, dishes: usize) -> String {
    format!(
        "Import réussi : {}, {}.",
        plural(days, "menu du jour", "menus du jour"),
        plural(dishes, "plat", "plats")
    )
}

/// Each bad line of a caterer's file, "Ligne 4 : …", in file order.
pub fn import_lines(lines: &[ImportProblem]) -> Vec<String> {
    lines
        .iter()
        .map(|p| {
            let what = match &p.kind {
                ImportLine::Header => {
                    "l'en-tête attendu est « date;école;type;plat;allergènes;régimes;qualité »."
                        .to_owned()
                }
                ImportLine::Empty => "aucun plat après l'en-tête.".to_owned(),
                ImportLine::Quote => "guillemet ouvert et jamais fermé.".to_owned(),
                ImportLine::Encoding => {
                    "le fichier n'est pas en UTF-8 (enregistrez-le en « CSV UTF-8 »).".to_owned()
                }
                ImportLine::Columns { expected, found } => {
                    format!("{found} colonnes au lieu de {expected}.")
                }
                ImportLine::Date(v) => {
                    format!("date invalide « {v} » (JJ/MM/AAAA ou AAAA-MM-JJ attendu).")
                }
                ImportLine::OutsideSchoolYear(d) => format!(
                    "le {} est en dehors de l'année scolaire.",
                    d.format("%d/%m/%Y")
                ),
                ImportLine::School(v) => {
                    format!("école inconnue « {v} » (laissez vide pour toutes les écoles).")
                }
                ImportLine::Menu(problem) => {
                    let mut text = menu_problem(problem);
                    if let Some(first) = text.get(..1) {
                        text = format!("{}{}", first.to_lowercase(), &text[1..]);
                    }
                    text
                }
                ImportLine::TooManyLines { max } => {
                    format!("un fichier a {max} lignes au plus.")
                }
            };
            format!("Ligne {} : {what}", p.line)
        })
        .collect()
}

/// An absence a family declared for the day, as the attendance list shows it.
pub fn declared_absence(absence: crate::attendance::DeclaredAbsence) -> &'static str {
    match absence {
        crate::attendance::DeclaredAbsence::Pending => {
            "Absence signalée par la famille (pas encore examinée)"
        }
        crate::attendance::DeclaredAbsence::Accepted => "Absence signalée par la famille, acceptée",
    }
}

/// "02/12/2026": the date as French spreadsheets read it.
pub fn numeric_date(date: NaiveDate) -> String {
    date.format("%d/%m/%Y").to_string()
}

/// "02/12/2026 10:05", in Paris time, for a spreadsheet cell.
pub fn numeric_date_time(at: DateTime<Utc>) -> String {
    at.with_timezone(&Paris)
        .format("%d/%m/%Y %H:%M")
        .to_string()
}

/// A status page fact's state, in words (never colour alone).
pub fn status_level(level: crate::status::Level) -> &'static str {
    match level {
        crate::status::Level::Ok => "OK",
        crate::status::Level::Warning => "Attention",
        crate::status::Level::Failing => "En échec",
    }
}

/// "3 j 4 h", "2 h 05 min", "12 min", "40 s".
pub fn duration(secs: u64) -> String {
    let (days, hours, minutes) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    if days > 0 {
        format!("{days} j {hours} h")
    } else if hours > 0 {
        format!("{hours} h {minutes:02} min")
    } else if minutes > 0 {
        format!("{minutes} min")
    } else {
        format!("{secs} s")
    }
}

/// A size in bytes, in the French way: "1,5 Go".
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["o", "Ko", "Mo", "Go", "To"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} o")
    } else {
        format!("{value:.1} {}", UNITS[unit]).replace('.', ",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_the_french_way() {
        let d = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        assert_eq!(long_date(d), "mardi 1er décembre");
        assert_eq!(short_date(d), "mardi 1er déc.");
        assert_eq!(month_year(2027, 1), "janvier 2027");
        let winter = d.and_hms_opt(9, 0, 0).unwrap().and_utc();
        assert_eq!(deadline(winter), "mardi 1er déc. à 10:00");
        let summer = NaiveDate::from_ymd_opt(2027, 6, 1)
            .unwrap()
            .and_hms_opt(8, 0, 0)
            .unwrap()
            .and_utc();
        assert_eq!(deadline(summer), "mardi 1er juin à 10:00");
        assert_eq!(capitalized("lundi"), "Lundi");
        assert_eq!(of("Adam Martin"), "d'Adam Martin");
        assert_eq!(of("Élodie"), "d'Élodie");
        assert_eq!(of("Lina"), "de Lina");
    }

    #[test]
    fn the_domain_values_read_in_french() {
        assert_eq!(class_level(ClassLevel::Ce1), "Cours élémentaire 1re année");
        assert_eq!(diet(Diet::NoPork), "Sans porc");
        assert_eq!(weekday(Weekday::Wed), "mercredi");
        assert_eq!(
            not_bookable(&NotBookable::NotAServiceWeekday {
                weekday: Weekday::Wed
            }),
            "Pas de cantine le mercredi"
        );
        assert_eq!(
            not_bookable(&NotBookable::PublicHoliday(
                cantine_domain::calendar::PublicHoliday::EasterMonday
            )),
            "Jour férié\u{a0}: Lundi de Pâques"
        );
        assert_eq!(
            not_bookable(&NotBookable::SchoolHoliday {
                name: "Vacances d'hiver".into()
            }),
            "Vacances d'hiver"
        );
        assert_eq!(
            not_bookable(&NotBookable::Closure {
                reason: "grève".into()
            }),
            "Cantine fermée\u{a0}: grève"
        );
    }

    #[test]
    fn no_error_reaches_a_family_in_english() {
        use cantine_domain::weekdays::WeekdaySet;
        let wednesday = WeekdaySet::from_days([Weekday::Wed]);
        for error in [
            Error::Invalid(Invalid::Booking(BookingError::WeekdaysNotServed(wednesday))),
            Error::Invalid(Invalid::Enrollment(EnrollmentError::WeekdaysNotServed(
                wednesday,
            ))),
            Error::Invalid(Invalid::Booking(BookingError::RangeTooLong)),
            Error::Conflict(Conflict::Enrollment(
                EnrollmentError::RejectionReasonRequired,
            )),
        ] {
            let text = message(&error);
            assert!(text.contains("mercredi") || !text.contains("wed"), "{text}");
            assert!(
                !text.contains("the canteen") && !text.contains("range"),
                "{text}"
            );
        }
        assert_eq!(
            message(&Error::Invalid(Invalid::Booking(
                BookingError::WeekdaysNotServed(wednesday)
            ))),
            "La cantine ne sert pas le mercredi."
        );
    }

    #[test]
    fn euros_group_thousands_with_narrow_spaces_and_keep_the_sign() {
        assert_eq!(euros(Cents(123_456)), "1\u{202f}234,56\u{a0}€");
        assert_eq!(euros(Cents(-360)), "-3,60\u{a0}€");
        assert_eq!(euros(Cents(0)), "0,00\u{a0}€");
        assert_eq!(
            euros(Cents(100_000_000)),
            "1\u{202f}000\u{202f}000,00\u{a0}€"
        );
    }

    #[test]
    fn durations_and_sizes_read_the_french_way() {
        assert_eq!(super::duration(40), "40 s");
        assert_eq!(super::duration(12 * 60 + 5), "12 min");
        assert_eq!(super::duration(2 * 3600 + 5 * 60), "2 h 05 min");
        assert_eq!(super::duration(3 * 86_400 + 4 * 3600), "3 j 4 h");
        assert_eq!(super::bytes(512), "512 o");
        assert_eq!(super::bytes(1536 * 1024 * 1024), "1,5 Go");
        assert_eq!(
            super::status_level(crate::status::Level::Failing),
            "En échec"
        );
    }
}
