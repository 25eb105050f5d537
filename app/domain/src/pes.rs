//! The PES V2 "PES Recette Aller" file of an ORMC (ordre de recette multi-créanciers): how a
//! commune that bills by titres de recettes, not through a régie, hands a month's invoices to
//! its public accountant (DGFiP's Hélios). One file carries one bordereau (Hélios makes it a
//! rôle), one pièce per household (an article of the rôle, `TypPce` 15) and one line per
//! invoice line (a sous-article). DGFiP then collects; the commune never touches the money.
//!
//! [`write`] is pure: it takes the commune's identifiers ([`Collectivite`], from
//! configuration) and the month's [`Bordereau`], checks everything it knows how to check, and
//! returns the file's bytes, or the first [`PesError`] it met. It writes nothing when anything
//! is wrong: a file Hélios would reject costs the accountant a round trip, so the staff fix the
//! data first. `docs/pes.md` says field by field where each value comes from and what is and is
//! not checked here.
//!
//! What the rules rest on. The element order and value types follow DGFiP's PES V2 schemas
//! (release 5.17, as public projects carry them; Noethysweb's `utils_export_pes.py` writes the
//! same flow). The output was validated against that release's `PES_Aller.xsd` with `xmllint`,
//! and a test pins it to the validated sample; the schemas are not in this repository (no
//! licence says they may be). `Cle1` and `Cle2` are computed as Noethys and Noethysweb compute
//! them ([`cle1`], [`cle2`]); DGFiP's own description of the keys (its "annexe technique PES
//! SEPA ORMC") was not found.
//!
//! Encoding. The file is ISO-8859-1, as the flow expects. Text is kept as given (case and
//! accents), runs of white space become one space, and the few characters French text often
//! holds outside Latin-1 are replaced: `œ`/`Œ` by `oe`/`OE`, `Ÿ` by `Y`, typographic quotes and
//! dashes by their ASCII forms, `…` by `...`, `€` by `EUR`. Any other character Latin-1 cannot
//! hold (`Ł`, `ș`, an emoji) and any control character is refused with its field
//! ([`PesError::Unrepresentable`]), rather than guessed at. A text longer than its field is
//! refused too ([`PesError::TooLong`]), never cut: a postal address cut at 38 characters is a
//! wrong address on the debtor's notice.

use std::collections::HashSet;
use std::fmt;

use chrono::{Datelike, NaiveDate};

use crate::money::Cents;

/// The root element's namespace (`n:PES_Aller`); every other element is unqualified.
pub const NAMESPACE: &str = "http://www.minefi.gouv.fr/cp/helios/pes_v2/Rev0/aller";

/// `TypFic`: the flow is an ORMC.
pub const FILE_TYPE: &str = "PESORMC";

/// `TypBord` 06: a bordereau of ORMC, which Hélios turns into a rôle.
pub const BORDEREAU_TYPE: &str = "06";

/// `TypPce` 15: an ORMC titre, one debtor (an article of the rôle).
pub const PIECE_TYPE: &str = "15";

/// `NatPce` 01: an ordinary operating receipt ("fonctionnement").
pub const PIECE_NATURE: &str = "01";

/// Who wrote the file, in `Enveloppe/Emetteur`.
pub const EMITTER_SIGLE: &str = "Cantine";

/// The largest amount the schema's `Base_Montant` holds: 14 digits, 2 of them decimals.
pub const MAX_AMOUNT: Cents = Cents(99_999_999_999_999);

/// `NbrPce` is at most 5 digits.
pub const MAX_PIECES: usize = 99_999;

/// Invoice numbers become `NumDette`, which the keys read left-padded to 13 digits.
pub const MAX_DEBT_NUMBER_DIGITS: usize = 13;

/// The commune (more exactly its budget) as Hélios knows it; every value comes from the
/// commune's configuration, given by its accountant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collectivite {
    /// `IdPost`: the codique of the public accountant's office (poste comptable), 6 or 7
    /// digits, or `02A`/`02B` and 3 or 4 digits in Corsica.
    pub id_post: String,
    /// `IdColl`: the commune's SIRET, 14 digits.
    pub id_coll: String,
    /// `CodCol`: Hélios's code of the collectivité, 3 digits.
    pub cod_col: String,
    /// `CodBud`: Hélios's code of the budget, a digit or capital letter then a digit.
    pub cod_bud: String,
    /// `LibelleColBud`: the budget's name, at most 38 characters.
    pub name: String,
}

/// One month's ORMC: one bordereau, one [`Piece`] per household.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bordereau {
    /// `Exer`: the budget year the receipts belong to.
    pub exercise: i32,
    /// `IdBord`: the bordereau's number, which becomes the rôle's number in Hélios; unique and
    /// sequential per exercise and budget (Hélios rejects a number it already knows).
    pub id_bord: u32,
    /// `DteBordEm`: the day the ordonnateur issues the bordereau.
    pub emitted_on: NaiveDate,
    /// `DteAsp`: the day the commune sends the notices (its invoices) to the families, when it
    /// sends them itself; on or after [`Bordereau::emitted_on`].
    pub notices_sent_on: Option<NaiveDate>,
    /// `Objet`: the rôle's subject, e.g. "Restauration scolaire janvier 2025".
    pub object: String,
    /// The total the caller expects (the month's issued invoices); the lines must add up to it,
    /// and it is written as `MtBordHt`.
    pub total: Cents,
    pub pieces: Vec<Piece>,
    /// `NomFic`: the file's name, letters, digits, `.`, `-`, `_`, ending in `.xml`.
    pub file_name: String,
    /// `DteStr`: the day the file is produced.
    pub generated_on: NaiveDate,
}

/// One household's titre: an article of the rôle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    /// `IdPce`: the article's number, unique in the bordereau, 1 to 99 999 999.
    pub id_pce: u32,
    /// `ObjPce`: what the titre is for.
    pub object: String,
    /// `Per`: the article's period, one digit. It completes the debt number and enters both
    /// keys; see `docs/pes.md` for why it is not the month.
    pub period: u8,
    /// The invoice number, written as `NumDette`: digits only, at most 13, unique in the
    /// bordereau.
    pub invoice_number: String,
    pub lines: Vec<PieceLine>,
    pub debtor: Tiers,
}

/// One line of a household's invoice: a sous-article of the rôle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PieceLine {
    /// `IdLigne`: unique in its piece, 1 to 999 999.
    pub id_ligne: u32,
    /// `ObjLignePce`: the line's wording, e.g. "12 repas".
    pub object: String,
    /// `CodProdLoc`: the local product code Hélios maps to a national one, 1 to 4 letters or
    /// digits, agreed with the accountant.
    pub product_code: String,
    /// `Nature`: the budget account (compte nature), digits only; DGFiP suggests 588 for ORMC
    /// lines, many accountants use the revenue account (7067 for school meals).
    pub nature: String,
    /// `MtHT`: strictly positive. Credits are netted into the lines before, by billing.
    pub amount: Cents,
}

/// The debtor of a piece (`Tiers`): the household's paying adult, a private person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tiers {
    pub civility: Option<Civility>,
    /// `Nom`, at most 38 characters.
    pub last_name: String,
    /// `Prenom`, at most 38 characters; left out when empty.
    pub first_name: String,
    /// `RefTiers`: the commune's own reference for the debtor (the household number), at most
    /// 30 characters; it lets the accountant recognise the same debtor month after month.
    pub reference: Option<String>,
    pub address: PostalAddress,
}

/// `Civilite`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Civility {
    Monsieur,
    Madame,
}

impl Civility {
    /// The values Noethysweb writes and Hélios shows on the notice.
    pub fn code(self) -> &'static str {
        match self {
            Civility::Monsieur => "M",
            Civility::Madame => "MME",
        }
    }
}

/// A postal address split the way PES (and the French postal standard) wants it; each line
/// at most 38 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostalAddress {
    /// `Adr1`: what comes before the street: flat, floor, building, residence.
    pub complement: Option<String>,
    /// `Adr2`: number and way, "12 rue des Lilas".
    pub street: String,
    /// `Adr3`: what comes after: lieu-dit, BP.
    pub locality: Option<String>,
    /// `CP`: five digits in France; abroad, the foreign postcode, written before the city.
    pub postcode: String,
    /// `Ville`.
    pub city: String,
    pub country: Country,
}

/// Where the debtor lives, for `CodRes` and `CodPays`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Country {
    France,
    /// Abroad: `CodRes` 1, `CodPays` the INSEE country code without its `99` prefix (Germany
    /// 99109 is `109`), `CP` 99999 and the foreign postcode in `Ville`, as DGFiP asks.
    Abroad {
        insee_code: String,
    },
}

/// Where an error was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum At {
    Collectivite,
    Bordereau,
    Piece { id_pce: u32 },
    Line { id_pce: u32, id_ligne: u32 },
}

impl fmt::Display for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            At::Collectivite => write!(f, "collectivité"),
            At::Bordereau => write!(f, "bordereau"),
            At::Piece { id_pce } => write!(f, "piece {id_pce}"),
            At::Line { id_pce, id_ligne } => write!(f, "piece {id_pce} line {id_ligne}"),
        }
    }
}

/// What a malformed value should have looked like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Expected {
    /// 6 or 7 digits, or `02A`/`02B` and 3 or 4 digits.
    Codique,
    /// 14 digits that pass the Luhn check.
    Siret,
    /// Exactly this many digits, not all zero.
    Digits(u8),
    /// 1 to this many digits, not all zero.
    UpToDigits(u8),
    /// A digit or capital letter, then a digit.
    BudgetCode,
    /// 1 to 4 letters or digits, not all zero.
    ProductCode,
    /// Letters, digits, `.`, `-`, `_`, ending in `.xml`, at most 100 characters.
    FileName,
    /// A whole number in this range.
    Between(u32, u32),
    /// Not `.`, not `nc`, not only zeros: values the schema's text types refuse.
    MeaningfulText,
}

/// Why no file was written. Variants say what is wrong as data; the HTTP edge words them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PesError {
    #[error("{at}: {field} is empty")]
    Empty { at: At, field: &'static str },
    #[error("{at}: {field} is {len} characters long, over {max}")]
    TooLong {
        at: At,
        field: &'static str,
        max: usize,
        len: usize,
    },
    #[error("{at}: {field} holds {character:?}, which ISO-8859-1 cannot carry")]
    Unrepresentable {
        at: At,
        field: &'static str,
        character: char,
    },
    #[error("{at}: {field} is malformed ({expected:?})")]
    Malformed {
        at: At,
        field: &'static str,
        expected: Expected,
    },
    #[error("{at}: the amount {amount} is not strictly positive")]
    NotPositive { at: At, amount: Cents },
    #[error("{at}: the amount {amount} is over the schema's largest")]
    TooLarge { at: At, amount: Cents },
    #[error("the bordereau has no piece")]
    NoPieces,
    #[error("the bordereau has {count} pieces, over {MAX_PIECES}")]
    TooManyPieces { count: usize },
    #[error("piece {id_pce} has no line")]
    NoLines { id_pce: u32 },
    #[error("piece {id_pce} appears twice")]
    DuplicatePiece { id_pce: u32 },
    #[error("piece {id_pce} has line {id_ligne} twice")]
    DuplicateLine { id_pce: u32, id_ligne: u32 },
    #[error("invoice number {invoice_number} appears in two pieces")]
    DuplicateInvoice { invoice_number: String },
    #[error("the lines add up to {lines}, the bordereau's total is {declared}")]
    TotalMismatch { declared: Cents, lines: Cents },
    #[error("the notices are sent on {sent_on}, before the bordereau is issued on {emitted_on}")]
    NoticesBeforeEmission {
        sent_on: NaiveDate,
        emitted_on: NaiveDate,
    },
}

/// The file's bytes (ISO-8859-1) for one month's bordereau, or the first problem found.
pub fn write(coll: &Collectivite, b: &Bordereau) -> Result<Vec<u8>, PesError> {
    let checked = Checked::new(coll, b)?;
    let text = checked.render();
    Ok(text
        .chars()
        .map(|c| u8::try_from(u32::from(c)).expect("every value was checked to be Latin-1"))
        .collect())
}

/// `Cle1`, the article's modulo-11 key, on the digits of `CodCol`, `IdBord`, the exercise's
/// last two digits, the period and the debt number left-padded with zeros to 13 digits, as
/// Noethys and Noethysweb assemble them. DGFiP's schema documentation names the inputs "code
/// collectivité + code nature + 2 derniers chiffres de l'exercice + période + numéro de
/// dette"; the public implementations put the bordereau's (the rôle's) number where it says
/// "code nature". The callers check the inputs; a non-digit counts as 0.
pub fn cle1(cod_col: &str, id_bord: u32, exercise: i32, period: u8, invoice_number: &str) -> u8 {
    let digits = format!(
        "{cod_col}{id_bord}{:02}{period}{invoice_number:0>13}",
        exercise.rem_euclid(100)
    );
    mod11_key(&digits)
}

/// `Cle2`, the article's modulo-23 letter, on the exercise's last two digits, the period,
/// `00` and the debt number left-padded to 13 digits (the inputs DGFiP's schema names, in
/// Noethys's order).
pub fn cle2(exercise: i32, period: u8, invoice_number: &str) -> char {
    let digits = format!(
        "{:02}{period}00{invoice_number:0>13}",
        exercise.rem_euclid(100)
    );
    mod23_letter(&digits)
}

/// Digits read from the right, weighted 2, 3, 4, 5, 6, 7, 2, 3…; the key is 11 minus the sum
/// modulo 11, and 1 when that gives 10 or 11 (Noethys's rule: the key is one digit).
fn mod11_key(digits: &str) -> u8 {
    const WEIGHTS: [u32; 6] = [2, 3, 4, 5, 6, 7];
    let total: u32 = digits
        .chars()
        .rev()
        .zip(WEIGHTS.iter().cycle())
        .map(|(c, w)| c.to_digit(10).unwrap_or(0) * w)
        .sum();
    let key = 11 - total % 11;
    if key > 9 { 1 } else { key as u8 }
}

/// The number modulo 23, as a letter of the alphabet without I, O and Z (0 is A, 22 is Y).
fn mod23_letter(digits: &str) -> char {
    const LETTERS: &[u8; 23] = b"ABCDEFGHJKLMNPQRSTUVWXY";
    // Horner's rule keeps the remainder small whatever the length.
    let rest = digits
        .chars()
        .fold(0u32, |r, c| (r * 10 + c.to_digit(10).unwrap_or(0)) % 23);
    char::from(LETTERS[rest as usize])
}

/// Everything [`write`] needs, checked: each text is Latin-1 and fits its field.
struct Checked {
    file_name: String,
    generated_on: NaiveDate,
    id_post: String,
    id_coll: String,
    cod_col: String,
    cod_bud: String,
    name: String,
    exercise: i32,
    id_bord: u32,
    emitted_on: NaiveDate,
    notices_sent_on: Option<NaiveDate>,
    total: Cents,
    object: String,
    pieces: Vec<CheckedPiece>,
}

struct CheckedPiece {
    id_pce: u32,
    object: String,
    invoice_number: String,
    period: u8,
    cle1: u8,
    cle2: char,
    lines: Vec<CheckedLine>,
    debtor: CheckedTiers,
}

struct CheckedLine {
    id_ligne: u32,
    object: String,
    product_code: String,
    nature: String,
    amount: Cents,
}

struct CheckedTiers {
    civility: Option<Civility>,
    reference: Option<String>,
    last_name: String,
    first_name: Option<String>,
    complement: Option<String>,
    street: String,
    locality: Option<String>,
    postcode: String,
    city: String,
    abroad: Option<String>,
}

impl Checked {
    fn new(coll: &Collectivite, b: &Bordereau) -> Result<Checked, PesError> {
        let c = At::Collectivite;
        let id_post = identifier(c, "IdPost", &coll.id_post, Expected::Codique, is_codique)?;
        let id_coll = identifier(c, "IdColl", &coll.id_coll, Expected::Siret, is_siret)?;
        let cod_col = identifier(c, "CodCol", &coll.cod_col, Expected::Digits(3), |s| {
            digits_between(s, 3, 3)
        })?;
        let cod_bud = identifier(c, "CodBud", &coll.cod_bud, Expected::BudgetCode, |s| {
            let s = s.as_bytes();
            s.len() == 2
                && (s[0].is_ascii_digit() || s[0].is_ascii_uppercase())
                && s[1].is_ascii_digit()
        })?;
        let name = text(c, "LibelleColBud", &coll.name, 38)?;

        let at = At::Bordereau;
        let file_name = identifier(at, "NomFic", &b.file_name, Expected::FileName, |s| {
            s.len() <= 100
                && s.len() > ".xml".len()
                && s.ends_with(".xml")
                && s.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_'))
        })?;
        if !(1000..=9999).contains(&b.exercise) {
            return Err(PesError::Malformed {
                at,
                field: "Exer",
                expected: Expected::Between(1000, 9999),
            });
        }
        let id_bord = number(at, "IdBord", b.id_bord, 9_999_999)?;
        if let Some(sent_on) = b.notices_sent_on
            && sent_on < b.emitted_on
        {
            return Err(PesError::NoticesBeforeEmission {
                sent_on,
                emitted_on: b.emitted_on,
            });
        }
        let object = text(at, "Objet", &b.object, 160)?;
        if b.pieces.is_empty() {
            return Err(PesError::NoPieces);
        }
        if b.pieces.len() > MAX_PIECES {
            return Err(PesError::TooManyPieces {
                count: b.pieces.len(),
            });
        }

        let mut seen_pieces = HashSet::new();
        let mut seen_invoices = HashSet::new();
        let mut sum = Cents::ZERO;
        let mut pieces = Vec::with_capacity(b.pieces.len());
        for p in &b.pieces {
            let at = At::Piece { id_pce: p.id_pce };
            let id_pce = number(at, "IdPce", p.id_pce, 99_999_999)?;
            if !seen_pieces.insert(id_pce) {
                return Err(PesError::DuplicatePiece { id_pce });
            }
            let invoice_number = identifier(
                at,
                "NumDette",
                &p.invoice_number,
                Expected::UpToDigits(MAX_DEBT_NUMBER_DIGITS as u8),
                |s| digits_between(s, 1, MAX_DEBT_NUMBER_DIGITS),
            )?;
            if !seen_invoices.insert(invoice_number.clone()) {
                return Err(PesError::DuplicateInvoice { invoice_number });
            }
            if p.period > 9 {
                return Err(PesError::Malformed {
                    at,
                    field: "Per",
                    expected: Expected::Between(0, 9),
                });
            }
            let object = text(at, "ObjPce", &p.object, 160)?;
            if p.lines.is_empty() {
                return Err(PesError::NoLines { id_pce });
            }
            let mut seen_lines = HashSet::new();
            let mut lines = Vec::with_capacity(p.lines.len());
            for l in &p.lines {
                let at = At::Line {
                    id_pce,
                    id_ligne: l.id_ligne,
                };
                let id_ligne = number(at, "IdLigne", l.id_ligne, 999_999)?;
                if !seen_lines.insert(id_ligne) {
                    return Err(PesError::DuplicateLine { id_pce, id_ligne });
                }
                if l.amount <= Cents::ZERO {
                    return Err(PesError::NotPositive {
                        at,
                        amount: l.amount,
                    });
                }
                if l.amount > MAX_AMOUNT {
                    return Err(PesError::TooLarge {
                        at,
                        amount: l.amount,
                    });
                }
                sum = sum
                    .checked_add(l.amount)
                    .filter(|s| *s <= MAX_AMOUNT)
                    .ok_or(PesError::TooLarge {
                        at: At::Bordereau,
                        amount: MAX_AMOUNT,
                    })?;
                lines.push(CheckedLine {
                    id_ligne,
                    object: text(at, "ObjLignePce", &l.object, 160)?,
                    product_code: identifier(
                        at,
                        "CodProdLoc",
                        &l.product_code,
                        Expected::ProductCode,
                        |s| {
                            (1..=4).contains(&s.len())
                                && s.bytes().all(|c| c.is_ascii_alphanumeric())
                                && s.bytes().any(|c| c != b'0')
                        },
                    )?,
                    nature: identifier(at, "Nature", &l.nature, Expected::UpToDigits(12), |s| {
                        digits_between(s, 1, 12)
                    })?,
                    amount: l.amount,
                });
            }
            pieces.push(CheckedPiece {
                id_pce,
                object,
                cle1: cle1(&cod_col, id_bord, b.exercise, p.period, &invoice_number),
                cle2: cle2(b.exercise, p.period, &invoice_number),
                invoice_number,
                period: p.period,
                lines,
                debtor: CheckedTiers::new(at, &p.debtor)?,
            });
        }
        if sum != b.total {
            return Err(PesError::TotalMismatch {
                declared: b.total,
                lines: sum,
            });
        }

        Ok(Checked {
            file_name,
            generated_on: b.generated_on,
            id_post,
            id_coll,
            cod_col,
            cod_bud,
            name,
            exercise: b.exercise,
            id_bord,
            emitted_on: b.emitted_on,
            notices_sent_on: b.notices_sent_on,
            total: sum,
            object,
            pieces,
        })
    }

    fn render(&self) -> String {
        let mut x = Xml::default();
        x.out
            .push_str("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n");
        x.out
            .push_str(&format!("<n:PES_Aller xmlns:n=\"{NAMESPACE}\">\n"));
        x.depth = 1;
        x.open("Enveloppe");
        x.open("Parametres");
        x.value("Version", "2");
        x.value("TypFic", FILE_TYPE);
        x.value("NomFic", &self.file_name);
        x.close("Parametres");
        x.open("Emetteur");
        x.value("Sigle", EMITTER_SIGLE);
        x.value(
            "Adresse",
            &format!("{EMITTER_SIGLE} {}", env!("CARGO_PKG_VERSION")),
        );
        x.close("Emetteur");
        x.close("Enveloppe");

        x.open("EnTetePES");
        x.value("DteStr", &date(self.generated_on));
        x.value("IdPost", &self.id_post);
        x.value("IdColl", &self.id_coll);
        x.value("CodCol", &self.cod_col);
        x.value("CodBud", &self.cod_bud);
        x.value("LibelleColBud", &self.name);
        x.close("EnTetePES");

        x.open("PES_RecetteAller");
        x.open("EnTeteRecette");
        x.value("IdVer", "2");
        // 0: not dematerialised, so no electronic signature is expected (1 without one is a
        // rejection).
        x.value("InfoDematerialisee", "0");
        x.close("EnTeteRecette");
        x.open("Bordereau");
        x.open("BlocBordereau");
        x.value("Exer", &self.exercise.to_string());
        x.value("IdBord", &self.id_bord.to_string());
        x.value("DteBordEm", &date(self.emitted_on));
        x.value("TypBord", BORDEREAU_TYPE);
        x.value("NbrPce", &self.pieces.len().to_string());
        x.value("MtBordHt", &self.total.to_string());
        if let Some(sent_on) = self.notices_sent_on {
            x.value("DteAsp", &date(sent_on));
        }
        x.value("Objet", &self.object);
        x.close("BlocBordereau");
        for p in &self.pieces {
            x.open("Piece");
            x.open("BlocPiece");
            x.value("IdPce", &p.id_pce.to_string());
            x.value("TypPce", PIECE_TYPE);
            x.value("NatPce", PIECE_NATURE);
            x.value("ObjPce", &p.object);
            x.value("NumDette", &p.invoice_number);
            x.value("Per", &p.period.to_string());
            x.value("Cle1", &p.cle1.to_string());
            x.value("Cle2", &p.cle2.to_string());
            x.close("BlocPiece");
            for l in &p.lines {
                x.open("LigneDePiece");
                x.open("BlocLignePiece");
                x.open("InfoLignePiece");
                x.value("IdLigne", &l.id_ligne.to_string());
                x.value("ObjLignePce", &l.object);
                x.value("CodProdLoc", &l.product_code);
                x.value("Nature", &l.nature);
                x.value("Majo", "0");
                x.value("TvaIntraCom", "0");
                x.value("MtHT", &l.amount.to_string());
                x.close("InfoLignePiece");
                x.close("BlocLignePiece");
                // An ORMC titre has one debtor; each line names it, as Noethysweb's
                // multi-line export does.
                p.debtor.render(&mut x);
                x.close("LigneDePiece");
            }
            x.close("Piece");
        }
        x.close("Bordereau");
        x.close("PES_RecetteAller");
        x.out.push_str("</n:PES_Aller>\n");
        x.out
    }
}

impl CheckedTiers {
    fn new(at: At, t: &Tiers) -> Result<CheckedTiers, PesError> {
        let a = &t.address;
        let (postcode, city, abroad) = match &a.country {
            Country::France => (
                identifier(at, "CP", &a.postcode, Expected::Digits(5), |s| {
                    digits_between(s, 5, 5)
                })?,
                text(at, "Ville", &a.city, 38)?,
                None,
            ),
            Country::Abroad { insee_code } => {
                let code = identifier(
                    at,
                    "CodPays",
                    insee_code,
                    Expected::Between(101, 599),
                    |s| {
                        // `[1-5][0-9]{2}`, France (100) aside: a resident is `Country::France`.
                        s.len() == 3
                            && s.bytes().all(|c| c.is_ascii_digit())
                            && (b'1'..=b'5').contains(&s.as_bytes()[0])
                            && s != "100"
                    },
                )?;
                let city = format!("{} {}", normalize(&a.postcode), normalize(&a.city));
                (
                    "99999".to_owned(),
                    text(at, "Ville", &city, 38)?,
                    Some(code),
                )
            }
        };
        Ok(CheckedTiers {
            civility: t.civility,
            reference: optional_text(at, "RefTiers", t.reference.as_deref(), 30)?,
            last_name: text(at, "Nom", &t.last_name, 38)?,
            first_name: optional_text(at, "Prenom", Some(&t.first_name), 38)?,
            complement: optional_text(at, "Adr1", a.complement.as_deref(), 38)?,
            street: text(at, "Adr2", &a.street, 38)?,
            locality: optional_text(at, "Adr3", a.locality.as_deref(), 38)?,
            postcode,
            city,
            abroad,
        })
    }

    fn render(&self, x: &mut Xml) {
        x.open("Tiers");
        x.open("InfoTiers");
        if let Some(reference) = &self.reference {
            x.value("RefTiers", reference);
        }
        // 01, 01, 01: a private person ("personne physique", "particulier"), the main debtor.
        x.value("CatTiers", "01");
        x.value("NatJur", "01");
        x.value("TypTiers", "01");
        if let Some(civility) = self.civility {
            x.value("Civilite", civility.code());
        }
        x.value("Nom", &self.last_name);
        if let Some(first_name) = &self.first_name {
            x.value("Prenom", first_name);
        }
        x.close("InfoTiers");
        x.open("Adresse");
        // 1: the main address.
        x.value("TypAdr", "1");
        if let Some(complement) = &self.complement {
            x.value("Adr1", complement);
        }
        x.value("Adr2", &self.street);
        if let Some(locality) = &self.locality {
            x.value("Adr3", locality);
        }
        x.value("CP", &self.postcode);
        x.value("Ville", &self.city);
        match &self.abroad {
            None => x.value("CodRes", "0"),
            Some(code) => {
                x.value("CodRes", "1");
                x.value("CodPays", code);
            }
        }
        x.close("Adresse");
        x.close("Tiers");
    }
}

/// A small indenting writer: every PES value is an empty element with a `V` attribute.
#[derive(Default)]
struct Xml {
    out: String,
    depth: usize,
}

impl Xml {
    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
    }

    fn open(&mut self, name: &str) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        self.out.push_str(">\n");
        self.depth += 1;
    }

    fn close(&mut self, name: &str) {
        self.depth -= 1;
        self.indent();
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
    }

    fn value(&mut self, name: &str, value: &str) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        self.out.push_str(" V=\"");
        for c in value.chars() {
            match c {
                '&' => self.out.push_str("&amp;"),
                '<' => self.out.push_str("&lt;"),
                '>' => self.out.push_str("&gt;"),
                '"' => self.out.push_str("&quot;"),
                '\'' => self.out.push_str("&apos;"),
                c => self.out.push(c),
            }
        }
        self.out.push_str("\"/>\n");
    }
}

fn date(d: NaiveDate) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
}

/// A whole number the schema types as 1 to `max`.
fn number(at: At, field: &'static str, value: u32, max: u32) -> Result<u32, PesError> {
    if (1..=max).contains(&value) {
        Ok(value)
    } else {
        Err(PesError::Malformed {
            at,
            field,
            expected: Expected::Between(1, max),
        })
    }
}

/// An identifier is taken as given, surrounding spaces aside, and must match its rule.
fn identifier(
    at: At,
    field: &'static str,
    value: &str,
    expected: Expected,
    valid: impl Fn(&str) -> bool,
) -> Result<String, PesError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(PesError::Empty { at, field });
    }
    if valid(value) {
        Ok(value.to_owned())
    } else {
        Err(PesError::Malformed {
            at,
            field,
            expected,
        })
    }
}

fn digits_between(s: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&s.len())
        && s.bytes().all(|c| c.is_ascii_digit())
        && s.bytes().any(|c| c != b'0')
}

/// The poste comptable's codique (the schema's `V_TexteCodique7`).
fn is_codique(s: &str) -> bool {
    let b = s.as_bytes();
    let corsica = b.len() >= 6
        && (b.starts_with(b"02A") || b.starts_with(b"02B"))
        && b[3..].iter().all(u8::is_ascii_digit);
    let digits = b.iter().all(u8::is_ascii_digit);
    (6..=7).contains(&b.len()) && (digits || corsica)
}

/// 14 digits whose Luhn sum is a multiple of 10, as INSEE computes SIRET keys (La Poste's
/// establishments follow another rule; a commune is not one of them).
fn is_siret(s: &str) -> bool {
    crate::scdl::is_siret(s)
        && s.bytes()
            .rev()
            .enumerate()
            .map(|(i, c)| {
                let d = u32::from(c - b'0');
                if i % 2 == 1 {
                    if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
                } else {
                    d
                }
            })
            .sum::<u32>()
            % 10
            == 0
}

/// Runs of white space (new lines included) become one space, and the ends are trimmed.
fn normalize(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A text field that may be left out: absent or blank gives `None`.
fn optional_text(
    at: At,
    field: &'static str,
    value: Option<&str>,
    max: usize,
) -> Result<Option<String>, PesError> {
    match value {
        Some(v) if !v.trim().is_empty() => text(at, field, v, max).map(Some),
        _ => Ok(None),
    }
}

/// A free text field: normalised, mapped to Latin-1 (see the module documentation), at most
/// `max` characters, and not one of the values the schema's text types refuse.
fn text(at: At, field: &'static str, value: &str, max: usize) -> Result<String, PesError> {
    let mut out = String::with_capacity(value.len());
    for c in normalize(value).chars() {
        match c {
            'œ' => out.push_str("oe"),
            'Œ' => out.push_str("OE"),
            'Ÿ' => out.push('Y'),
            '‘' | '’' | '‚' | '‛' | '′' => out.push('\''),
            '“' | '”' | '„' | '″' => out.push('"'),
            '‐' | '‑' | '‒' | '–' | '—' | '−' => out.push('-'),
            '…' => out.push_str("..."),
            '€' => out.push_str("EUR"),
            c if u32::from(c) <= 0xFF && !c.is_control() => out.push(c),
            character => {
                return Err(PesError::Unrepresentable {
                    at,
                    field,
                    character,
                });
            }
        }
    }
    if out.is_empty() {
        return Err(PesError::Empty { at, field });
    }
    let len = out.chars().count();
    if len > max {
        return Err(PesError::TooLong {
            at,
            field,
            max,
            len,
        });
    }
    if out == "." || out == "nc" || out.chars().all(|c| c == '0') {
        return Err(PesError::Malformed {
            at,
            field,
            expected: Expected::MeaningfulText,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commune() -> Collectivite {
        Collectivite {
            id_post: "099010".into(),
            // The Techniville demo's SIRET; its Luhn sum is a multiple of 10.
            id_coll: "21990123400019".into(),
            cod_col: "052".into(),
            cod_bud: "01".into(),
            name: "Techniville".into(),
        }
    }

    fn line(id_ligne: u32, object: &str, amount: i64) -> PieceLine {
        PieceLine {
            id_ligne,
            object: object.into(),
            product_code: "CANT".into(),
            nature: "7067".into(),
            amount: Cents(amount),
        }
    }

    fn address(street: &str, postcode: &str, city: &str) -> PostalAddress {
        PostalAddress {
            complement: None,
            street: street.into(),
            locality: None,
            postcode: postcode.into(),
            city: city.into(),
            country: Country::France,
        }
    }

    /// Two households in January 2025: Hélène Cœur (two lines, meals and after-school care)
    /// and Karim Benali (one line, living in Germany).
    fn january() -> Bordereau {
        let mut coeur = address("12 rue des Lilas", "99100", "Techniville");
        coeur.complement = Some("Bâtiment B, appartement 4".into());
        Bordereau {
            exercise: 2025,
            id_bord: 12,
            emitted_on: NaiveDate::from_ymd_opt(2025, 2, 3).unwrap(),
            notices_sent_on: Some(NaiveDate::from_ymd_opt(2025, 2, 5).unwrap()),
            object: "Restauration scolaire janvier 2025".into(),
            total: Cents(4200 + 350 + 1850),
            pieces: vec![
                Piece {
                    id_pce: 1,
                    object: "Cantine janvier 2025, facture 20250001".into(),
                    period: 1,
                    invoice_number: "20250001".into(),
                    lines: vec![line(1, "12 repas", 4200), line(2, "Garderie", 350)],
                    debtor: Tiers {
                        civility: Some(Civility::Madame),
                        last_name: "Cœur".into(),
                        first_name: "Hélène".into(),
                        reference: Some("F-0042".into()),
                        address: coeur,
                    },
                },
                Piece {
                    id_pce: 2,
                    object: "Cantine janvier 2025, facture 20250002".into(),
                    period: 1,
                    invoice_number: "20250002".into(),
                    lines: vec![line(1, "5 repas", 1850)],
                    debtor: Tiers {
                        civility: Some(Civility::Monsieur),
                        last_name: "Benali".into(),
                        first_name: "Karim".into(),
                        reference: None,
                        address: PostalAddress {
                            country: Country::Abroad {
                                insee_code: "109".into(),
                            },
                            ..address("3 Hauptstraße", "79539", "Lörrach")
                        },
                    },
                },
            ],
            file_name: "PES_ORMC_2025_01.xml".into(),
            generated_on: NaiveDate::from_ymd_opt(2025, 2, 3).unwrap(),
        }
    }

    /// ISO-8859-1 maps each byte to the code point of the same value.
    fn latin1(bytes: &[u8]) -> String {
        bytes.iter().map(|&b| char::from(b)).collect()
    }

    fn child<'a, 'i>(node: roxmltree::Node<'a, 'i>, name: &str) -> roxmltree::Node<'a, 'i> {
        node.children()
            .find(|n| n.has_tag_name(name))
            .unwrap_or_else(|| panic!("no <{name}> under <{}>", node.tag_name().name()))
    }

    fn children<'a, 'i>(
        node: roxmltree::Node<'a, 'i>,
        name: &'static str,
    ) -> impl Iterator<Item = roxmltree::Node<'a, 'i>> {
        node.children().filter(move |n| n.has_tag_name(name))
    }

    /// The `V` of the element at `path` under `node`.
    fn v<'a>(node: roxmltree::Node<'a, '_>, path: &str) -> &'a str {
        let leaf = path.split('/').fold(node, child);
        leaf.attribute("V")
            .unwrap_or_else(|| panic!("no V on {path}"))
    }

    fn names<'a>(node: roxmltree::Node<'a, '_>) -> Vec<&'a str> {
        node.children()
            .filter(|n| n.is_element())
            .map(|n| n.tag_name().name())
            .collect()
    }

    #[test]
    fn a_two_household_bordereau_has_the_ormc_structure_counts_and_totals() {
        let bytes = write(&commune(), &january()).unwrap();
        let xml = latin1(&bytes);
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n"));
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "PES_Aller");
        assert_eq!(root.tag_name().namespace(), Some(NAMESPACE));
        assert_eq!(
            names(root),
            ["Enveloppe", "EnTetePES", "PES_RecetteAller"],
            "the schema's order, nothing else at the top"
        );
        // Children are unqualified (the schema's elementFormDefault).
        assert_eq!(child(root, "Enveloppe").tag_name().namespace(), None);

        assert_eq!(v(root, "Enveloppe/Parametres/Version"), "2");
        assert_eq!(v(root, "Enveloppe/Parametres/TypFic"), "PESORMC");
        assert_eq!(
            v(root, "Enveloppe/Parametres/NomFic"),
            "PES_ORMC_2025_01.xml"
        );
        assert_eq!(v(root, "Enveloppe/Emetteur/Sigle"), "Cantine");

        let head = child(root, "EnTetePES");
        assert_eq!(
            names(head),
            [
                "DteStr",
                "IdPost",
                "IdColl",
                "CodCol",
                "CodBud",
                "LibelleColBud"
            ]
        );
        assert_eq!(v(head, "DteStr"), "2025-02-03");
        assert_eq!(v(head, "IdPost"), "099010");
        assert_eq!(v(head, "IdColl"), "21990123400019");
        assert_eq!(v(head, "CodCol"), "052");
        assert_eq!(v(head, "CodBud"), "01");

        let recette = child(root, "PES_RecetteAller");
        assert_eq!(v(recette, "EnTeteRecette/IdVer"), "2");
        assert_eq!(v(recette, "EnTeteRecette/InfoDematerialisee"), "0");
        let bordereaux: Vec<_> = children(recette, "Bordereau").collect();
        assert_eq!(bordereaux.len(), 1, "one bordereau for the month");
        let bordereau = bordereaux[0];
        let bloc = child(bordereau, "BlocBordereau");
        assert_eq!(
            names(bloc),
            [
                "Exer",
                "IdBord",
                "DteBordEm",
                "TypBord",
                "NbrPce",
                "MtBordHt",
                "DteAsp",
                "Objet"
            ]
        );
        assert_eq!(v(bloc, "Exer"), "2025");
        assert_eq!(v(bloc, "IdBord"), "12");
        assert_eq!(v(bloc, "DteBordEm"), "2025-02-03");
        assert_eq!(v(bloc, "TypBord"), "06");
        assert_eq!(v(bloc, "DteAsp"), "2025-02-05");
        assert_eq!(v(bloc, "Objet"), "Restauration scolaire janvier 2025");

        let pieces: Vec<_> = children(bordereau, "Piece").collect();
        assert_eq!(v(bloc, "NbrPce"), "2");
        assert_eq!(pieces.len(), 2, "NbrPce counts the pieces written");
        // MtBordHt is the sum of every MtHT: 42.00 + 3.50 + 18.50.
        assert_eq!(v(bloc, "MtBordHt"), "64.00");
        let mt_ht: Vec<&str> = pieces
            .iter()
            .flat_map(|p| children(*p, "LigneDePiece"))
            .map(|l| v(l, "BlocLignePiece/InfoLignePiece/MtHT"))
            .collect();
        assert_eq!(mt_ht, ["42.00", "3.50", "18.50"]);
        let cents: i64 = mt_ht
            .iter()
            .map(|a| a.replace('.', "").parse::<i64>().unwrap())
            .sum();
        assert_eq!(cents, 6400);

        let first = child(pieces[0], "BlocPiece");
        assert_eq!(
            names(first),
            [
                "IdPce", "TypPce", "NatPce", "ObjPce", "NumDette", "Per", "Cle1", "Cle2"
            ]
        );
        assert_eq!(v(first, "IdPce"), "1");
        assert_eq!(v(first, "TypPce"), "15");
        assert_eq!(v(first, "NatPce"), "01");
        assert_eq!(v(first, "NumDette"), "20250001");
        assert_eq!(v(first, "Per"), "1");
        // Worked by hand in `keys_match_the_published_algorithm_worked_by_hand`.
        assert_eq!(v(first, "Cle1"), "9");
        assert_eq!(v(first, "Cle2"), "K");
        let second = child(pieces[1], "BlocPiece");
        assert_eq!(v(second, "IdPce"), "2");
        assert_eq!(v(second, "Cle1"), "7");
        assert_eq!(v(second, "Cle2"), "L");

        let lines: Vec<_> = children(pieces[0], "LigneDePiece").collect();
        assert_eq!(lines.len(), 2, "one LigneDePiece per invoice line");
        let info = child(child(lines[1], "BlocLignePiece"), "InfoLignePiece");
        assert_eq!(
            names(info),
            [
                "IdLigne",
                "ObjLignePce",
                "CodProdLoc",
                "Nature",
                "Majo",
                "TvaIntraCom",
                "MtHT"
            ]
        );
        assert_eq!(v(info, "IdLigne"), "2");
        assert_eq!(v(info, "ObjLignePce"), "Garderie");
        assert_eq!(v(info, "CodProdLoc"), "CANT");
        assert_eq!(v(info, "Nature"), "7067");
        assert_eq!(v(info, "Majo"), "0");

        // Each line names the piece's one debtor.
        for l in &lines {
            let tiers = child(*l, "Tiers");
            assert_eq!(names(tiers), ["InfoTiers", "Adresse"]);
            let who = child(tiers, "InfoTiers");
            assert_eq!(
                names(who),
                [
                    "RefTiers", "CatTiers", "NatJur", "TypTiers", "Civilite", "Nom", "Prenom"
                ]
            );
            assert_eq!(v(who, "RefTiers"), "F-0042");
            assert_eq!(v(who, "CatTiers"), "01");
            assert_eq!(v(who, "NatJur"), "01");
            assert_eq!(v(who, "TypTiers"), "01");
            assert_eq!(v(who, "Civilite"), "MME");
            assert_eq!(v(who, "Nom"), "Coeur");
            assert_eq!(v(who, "Prenom"), "Hélène");
            let at = child(tiers, "Adresse");
            assert_eq!(
                names(at),
                ["TypAdr", "Adr1", "Adr2", "CP", "Ville", "CodRes"]
            );
            assert_eq!(v(at, "Adr1"), "Bâtiment B, appartement 4");
            assert_eq!(v(at, "Adr2"), "12 rue des Lilas");
            assert_eq!(v(at, "CP"), "99100");
            assert_eq!(v(at, "Ville"), "Techniville");
            assert_eq!(v(at, "CodRes"), "0");
        }

        // Abroad: CP 99999, the foreign postcode before the city, CodRes 1 and CodPays.
        let abroad = child(child(child(pieces[1], "LigneDePiece"), "Tiers"), "Adresse");
        assert_eq!(v(abroad, "CP"), "99999");
        assert_eq!(v(abroad, "Ville"), "79539 Lörrach");
        assert_eq!(v(abroad, "CodRes"), "1");
        assert_eq!(v(abroad, "CodPays"), "109");
        assert_eq!(
            v(
                child(child(pieces[1], "LigneDePiece"), "Tiers"),
                "InfoTiers/Civilite"
            ),
            "M"
        );
    }

    #[test]
    fn text_is_iso_8859_1_and_oe_becomes_two_letters() {
        let bytes = write(&commune(), &january()).unwrap();
        let needle = |s: &[u8]| bytes.windows(s.len()).any(|w| w == s);
        // "Hélène": é is the single byte 0xE9 and è 0xE8, as Latin-1 writes them.
        assert!(needle(b"V=\"H\xE9l\xE8ne\""));
        // "Cœur": œ is not in ISO-8859-1; it is written as the two letters "oe".
        assert!(needle(b"V=\"Coeur\""));
        // No UTF-8 anywhere: every é or ö would start with the byte 0xC3.
        assert!(!bytes.contains(&0xC3));
        assert!(std::str::from_utf8(&bytes).is_err(), "not UTF-8 bytes");
        // "Lörrach" and "Bâtiment" too.
        assert!(needle(b"L\xF6rrach"));
        assert!(needle(b"B\xE2timent"));
    }

    #[test]
    fn typographic_punctuation_becomes_ascii_and_spaces_collapse() {
        let mut b = january();
        b.pieces[0].lines[0].object = "Repas  d’été\n– menu “bio” …".into();
        b.object = "Cantine 50 €".into();
        let xml = latin1(&write(&commune(), &b).unwrap());
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let first_line = doc
            .descendants()
            .find(|n| n.has_tag_name("ObjLignePce"))
            .unwrap();
        assert_eq!(
            first_line.attribute("V"),
            Some("Repas d'été - menu \"bio\" ...")
        );
        let objet = doc.descendants().find(|n| n.has_tag_name("Objet")).unwrap();
        assert_eq!(objet.attribute("V"), Some("Cantine 50 EUR"));
    }

    #[test]
    fn a_character_latin_1_cannot_hold_is_refused_with_its_field_and_piece() {
        let mut b = january();
        b.pieces[1].debtor.first_name = "Łukasz".into();
        assert_eq!(
            write(&commune(), &b),
            Err(PesError::Unrepresentable {
                at: At::Piece { id_pce: 2 },
                field: "Prenom",
                character: 'Ł',
            })
        );
        let mut b = january();
        b.pieces[0].lines[1].object = "Goûter 🍎".into();
        assert_eq!(
            write(&commune(), &b),
            Err(PesError::Unrepresentable {
                at: At::Line {
                    id_pce: 1,
                    id_ligne: 2
                },
                field: "ObjLignePce",
                character: '🍎',
            })
        );
        // A control character is not text either, in Latin-1's range (U+0090) or not.
        let mut b = january();
        b.object = "Cantine\u{90}".into();
        assert!(matches!(
            write(&commune(), &b),
            Err(PesError::Unrepresentable {
                field: "Objet",
                character: '\u{90}',
                ..
            })
        ));
    }

    #[test]
    fn markup_characters_are_escaped_and_read_back_unchanged() {
        let mut b = january();
        let name = r#"L'Hôte & <Fils> "aîné""#;
        b.pieces[0].debtor.last_name = name.into();
        let xml = latin1(&write(&commune(), &b).unwrap());
        assert!(xml.contains("V=\"L&apos;Hôte &amp; &lt;Fils&gt; &quot;aîné&quot;\""));
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let nom = doc.descendants().find(|n| n.has_tag_name("Nom")).unwrap();
        assert_eq!(nom.attribute("V"), Some(name));
    }

    #[test]
    fn keys_match_the_published_algorithm_worked_by_hand() {
        // Cle1 for CodCol 052, IdBord 12, exercise 2025, period 1, NumDette 20250001:
        // the digits are 052 | 12 | 25 | 1 | 0000020250001 = 052122510000020250001.
        // From the right, weights 2,3,4,5,6,7,2,…:
        //   1×2 + 0×3 + 0×4 + 0×5 + 5×6 + 2×7 + 0×2 + 2×3 + 0×4 + 0×5 + 0×6 + 0×7 + 0×2
        //   + 1×3 + 5×4 + 2×5 + 2×6 + 1×7 + 2×2 + 5×3 + 0×4
        //   = 2 + 30 + 14 + 6 + 3 + 20 + 10 + 12 + 7 + 4 + 15 = 123;
        // 123 mod 11 = 2 and 11 − 2 = 9.
        assert_eq!(mod11_key("052122510000020250001"), 9);
        assert_eq!(cle1("052", 12, 2025, 1, "20250001"), 9);
        // NumDette 20250002 adds one more 2 on the rightmost digit: 125, 125 mod 11 = 4, 7.
        assert_eq!(cle1("052", 12, 2025, 1, "20250002"), 7);

        // When 11 − r is 10 or 11 the key is 1. NumDette 3: the debt's digit gives 3×2 = 6,
        // the rest 1×3 + 5×4 + 2×5 + 2×6 + 1×7 + 2×2 + 5×3 = 71; 77 = 7×11, r = 0, 11 → 1.
        assert_eq!(cle1("052", 12, 2025, 1, "3"), 1);
        // NumDette 9: 18 + 71 = 89 = 8×11 + 1, r = 1, 10 → 1.
        assert_eq!(cle1("052", 12, 2025, 1, "9"), 1);

        // Cle2 for exercise 2025, period 1, NumDette 20250001: 25 | 1 | 00 | 0000020250001
        // = 251000000020250001. Remainders digit by digit (r = (10r + d) mod 23):
        //   2, 2, 21, 3, 7, 1, 10, 8, 11, 18, 21, 3, 9, 3, 7, 1, 10, 9 → 9, the tenth letter
        //   of ABCDEFGHJKLMNPQRSTUVWXY (no I, no O): K.
        assert_eq!(mod23_letter("251000000020250001"), 'K');
        assert_eq!(cle2(2025, 1, "20250001"), 'K');
        // One more: remainder 10, L.
        assert_eq!(cle2(2025, 1, "20250002"), 'L');
        // NumDette 3: 251×10^15 + 3. 10^15 ≡ 5 (10^8 ≡ 2, 10^7 ≡ 14, 2×14 = 28 ≡ 5) and
        // 251 ≡ 21, so 21×5 + 3 = 108 ≡ 16: S.
        assert_eq!(cle2(2025, 1, "3"), 'S');
        // The edges of the alphabet: 0 is A, 22 is Y.
        assert_eq!(mod23_letter("23"), 'A');
        assert_eq!(mod23_letter("22"), 'Y');
        // The exercise counts by its last two digits: 2105 and 2005 share keys.
        assert_eq!(cle2(2105, 1, "3"), cle2(2005, 1, "3"));
        assert_eq!(cle1("052", 12, 2105, 1, "3"), cle1("052", 12, 2005, 1, "3"));
    }

    #[test]
    fn the_collectivites_identifiers_are_checked() {
        let refused = |edit: fn(&mut Collectivite), field: &str| {
            let mut c = commune();
            edit(&mut c);
            match write(&c, &january()) {
                Err(PesError::Malformed { at, field: f, .. })
                | Err(PesError::Empty { at, field: f }) => {
                    assert_eq!((at, f), (At::Collectivite, field));
                }
                other => panic!("{field}: {other:?}"),
            }
        };
        refused(|c| c.id_post = "09901".into(), "IdPost");
        refused(|c| c.id_post = "09901000".into(), "IdPost");
        refused(|c| c.id_post = "0990A1".into(), "IdPost");
        refused(|c| c.id_post = String::new(), "IdPost");
        refused(|c| c.id_coll = "2199012340001".into(), "IdColl");
        refused(|c| c.id_coll = "2199012340001A".into(), "IdColl");
        // One digit off: the Luhn check catches the typing mistake.
        refused(|c| c.id_coll = "21990123400018".into(), "IdColl");
        refused(|c| c.cod_col = "52".into(), "CodCol");
        refused(|c| c.cod_col = "A52".into(), "CodCol");
        refused(|c| c.cod_col = "000".into(), "CodCol");
        refused(|c| c.cod_bud = "1".into(), "CodBud");
        refused(|c| c.cod_bud = "0A".into(), "CodBud");
        refused(|c| c.cod_bud = "a1".into(), "CodBud");
        refused(|c| c.cod_bud = "0123456789".into(), "CodBud");

        // Corsican codiques and 7-digit ones are fine; so are surrounding spaces.
        for id_post in ["02A0101", "02B123", "0990101", " 099010 "] {
            let c = Collectivite {
                id_post: id_post.into(),
                ..commune()
            };
            assert!(write(&c, &january()).is_ok(), "{id_post}");
        }
        let c = Collectivite {
            cod_bud: "B2".into(),
            ..commune()
        };
        assert!(write(&c, &january()).is_ok());
    }

    #[test]
    fn the_bordereaus_and_pieces_identifiers_are_checked() {
        let malformed = |b: Bordereau| match write(&commune(), &b) {
            Err(PesError::Malformed { at, field, .. }) => (at, field),
            other => panic!("{other:?}"),
        };
        let mut b = january();
        b.id_bord = 0;
        assert_eq!(malformed(b), (At::Bordereau, "IdBord"));
        let mut b = january();
        b.id_bord = 10_000_000;
        assert_eq!(malformed(b), (At::Bordereau, "IdBord"));
        let mut b = january();
        b.exercise = 25;
        assert_eq!(malformed(b), (At::Bordereau, "Exer"));
        let mut b = january();
        b.file_name = "janvier 2025.xml".into();
        assert_eq!(malformed(b), (At::Bordereau, "NomFic"));
        let mut b = january();
        b.file_name = "janvier.txt".into();
        assert_eq!(malformed(b), (At::Bordereau, "NomFic"));

        let piece = At::Piece { id_pce: 1 };
        let mut b = january();
        b.pieces[0].invoice_number = "F2025-01".into();
        assert_eq!(malformed(b), (piece, "NumDette"));
        let mut b = january();
        b.pieces[0].invoice_number = "12345678901234".into();
        assert_eq!(
            malformed(b),
            (piece, "NumDette"),
            "14 digits do not fit the keys"
        );
        let mut b = january();
        b.pieces[0].period = 10;
        assert_eq!(malformed(b), (piece, "Per"), "one digit");
        let mut b = january();
        b.pieces[0].debtor.address.postcode = "9910".into();
        assert_eq!(malformed(b), (piece, "CP"));
        let mut b = january();
        b.pieces[1].debtor.address.country = Country::Abroad {
            insee_code: "100".into(),
        };
        assert_eq!(malformed(b), (At::Piece { id_pce: 2 }, "CodPays"));

        let line = At::Line {
            id_pce: 1,
            id_ligne: 1,
        };
        let mut b = january();
        b.pieces[0].lines[0].product_code = "CANTI".into();
        assert_eq!(malformed(b), (line, "CodProdLoc"));
        let mut b = january();
        b.pieces[0].lines[0].nature = "70-67".into();
        assert_eq!(malformed(b), (line, "Nature"));
        let mut b = january();
        b.pieces[0].lines[0].object = "nc".into();
        assert_eq!(malformed(b), (line, "ObjLignePce"), "the schema refuses nc");

        let mut b = january();
        b.pieces[1].id_pce = 1;
        assert_eq!(
            write(&commune(), &b),
            Err(PesError::DuplicatePiece { id_pce: 1 })
        );
        let mut b = january();
        b.pieces[1].invoice_number = "20250001".into();
        assert_eq!(
            write(&commune(), &b),
            Err(PesError::DuplicateInvoice {
                invoice_number: "20250001".into()
            })
        );
        let mut b = january();
        b.pieces[0].lines[1].id_ligne = 1;
        assert_eq!(
            write(&commune(), &b),
            Err(PesError::DuplicateLine {
                id_pce: 1,
                id_ligne: 1
            })
        );
    }

    #[test]
    fn amounts_are_positive_and_add_up_to_the_bordereaus_total() {
        let mut b = january();
        b.pieces[0].lines[1].amount = Cents(-350);
        b.total = Cents(4200 - 350 + 1850);
        assert_eq!(
            write(&commune(), &b),
            Err(PesError::NotPositive {
                at: At::Line {
                    id_pce: 1,
                    id_ligne: 2
                },
                amount: Cents(-350),
            })
        );
        let mut b = january();
        b.pieces[0].lines[1].amount = Cents::ZERO;
        assert!(matches!(
            write(&commune(), &b),
            Err(PesError::NotPositive { .. })
        ));

        // A line left out by the caller shows as a total that does not match.
        let mut b = january();
        b.pieces[0].lines.pop();
        assert_eq!(
            write(&commune(), &b),
            Err(PesError::TotalMismatch {
                declared: Cents(6400),
                lines: Cents(6050),
            })
        );

        let mut b = january();
        b.pieces[0].lines[0].amount = Cents(MAX_AMOUNT.0 + 1);
        assert!(matches!(
            write(&commune(), &b),
            Err(PesError::TooLarge { .. })
        ));
        let mut b = january();
        b.pieces[0].lines[0].amount = MAX_AMOUNT;
        b.pieces[1].lines[0].amount = MAX_AMOUNT;
        b.total = Cents(MAX_AMOUNT.0 * 2 + 350);
        assert!(matches!(
            write(&commune(), &b),
            Err(PesError::TooLarge {
                at: At::Bordereau,
                ..
            })
        ));

        // Cents are written as euros with a dot and two decimals.
        let mut b = january();
        b.pieces[0].lines[0].amount = Cents(5);
        b.pieces[0].lines[1].amount = Cents(123_450);
        b.total = Cents(5 + 123_450 + 1850);
        let xml = latin1(&write(&commune(), &b).unwrap());
        assert!(xml.contains("<MtHT V=\"0.05\"/>"));
        assert!(xml.contains("<MtHT V=\"1234.50\"/>"));
        assert!(xml.contains("<MtBordHt V=\"1253.05\"/>"));
    }

    #[test]
    fn a_bordereau_needs_pieces_and_a_piece_needs_lines() {
        let mut b = january();
        b.pieces.clear();
        b.total = Cents::ZERO;
        assert_eq!(write(&commune(), &b), Err(PesError::NoPieces));
        let mut b = january();
        b.pieces[1].lines.clear();
        b.total = Cents(4550);
        assert_eq!(write(&commune(), &b), Err(PesError::NoLines { id_pce: 2 }));
    }

    #[test]
    fn a_text_too_long_for_its_field_is_refused_not_cut() {
        let mut b = january();
        // 40 characters; the postal standard and the schema allow 38 a line.
        b.pieces[0].debtor.address.street = "Avenue du Maréchal de Lattre de Tassigny".into();
        assert_eq!(
            write(&commune(), &b),
            Err(PesError::TooLong {
                at: At::Piece { id_pce: 1 },
                field: "Adr2",
                max: 38,
                len: 40,
            })
        );
        // œ counts as the two letters it becomes.
        let mut b = january();
        b.pieces[0].debtor.last_name = format!("{}œ", "a".repeat(37));
        assert!(matches!(
            write(&commune(), &b),
            Err(PesError::TooLong {
                field: "Nom",
                len: 39,
                ..
            })
        ));
        let mut b = january();
        b.pieces[0].debtor.last_name = "  ".into();
        assert_eq!(
            write(&commune(), &b),
            Err(PesError::Empty {
                at: At::Piece { id_pce: 1 },
                field: "Nom"
            })
        );
    }

    #[test]
    fn optional_fields_are_left_out_when_blank() {
        let mut b = january();
        b.notices_sent_on = None;
        b.pieces[0].debtor.first_name = " ".into();
        b.pieces[0].debtor.civility = None;
        b.pieces[0].debtor.reference = Some(String::new());
        b.pieces[0].debtor.address.complement = None;
        b.pieces[0].debtor.address.locality = Some("BP 12".into());
        let xml = latin1(&write(&commune(), &b).unwrap());
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let bloc = doc
            .descendants()
            .find(|n| n.has_tag_name("BlocBordereau"))
            .unwrap();
        assert!(!names(bloc).contains(&"DteAsp"));
        let tiers = doc.descendants().find(|n| n.has_tag_name("Tiers")).unwrap();
        assert_eq!(
            names(child(tiers, "InfoTiers")),
            ["CatTiers", "NatJur", "TypTiers", "Nom"]
        );
        assert_eq!(
            names(child(tiers, "Adresse")),
            ["TypAdr", "Adr2", "Adr3", "CP", "Ville", "CodRes"]
        );
        assert_eq!(v(tiers, "Adresse/Adr3"), "BP 12");
    }

    #[test]
    fn notices_cannot_be_sent_before_the_bordereau_is_issued() {
        let mut b = january();
        b.notices_sent_on = Some(NaiveDate::from_ymd_opt(2025, 2, 2).unwrap());
        assert_eq!(
            write(&commune(), &b),
            Err(PesError::NoticesBeforeEmission {
                sent_on: NaiveDate::from_ymd_opt(2025, 2, 2).unwrap(),
                emitted_on: NaiveDate::from_ymd_opt(2025, 2, 3).unwrap(),
            })
        );
    }

    /// `tests/pes/ormc-sample.xml` is this writer's output for [`january`], validated with
    /// `xmllint --schema PES_V2/Rev0/PES_Aller.xsd` against DGFiP's schemas v5.17 (see
    /// `docs/pes.md`); the schemas are not in this repository, so CI checks the next best
    /// thing: that the output has not moved from that file. When it must move, the test leaves
    /// the new output in `target/`: validate it again, then copy it over the sample.
    #[test]
    fn the_output_is_the_sample_validated_against_dgfips_schema() {
        let sample_path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/pes/ormc-sample.xml");
        let sample = std::fs::read(sample_path).unwrap_or_default();
        // The emitter's version changes with every release; the sample says VERSION.
        let actual = latin1(&write(&commune(), &january()).unwrap()).replace(
            &format!("{EMITTER_SIGLE} {}\"", env!("CARGO_PKG_VERSION")),
            &format!("{EMITTER_SIGLE} VERSION\""),
        );
        let actual: Vec<u8> = actual.chars().map(|c| u8::try_from(c).unwrap()).collect();
        if actual != sample {
            let target = concat!(env!("CARGO_MANIFEST_DIR"), "/../../target");
            let out = format!("{target}/pes-ormc-sample.actual.xml");
            std::fs::create_dir_all(target).unwrap();
            std::fs::write(&out, &actual).unwrap();
            panic!(
                "the PES output differs from {sample_path}; the new output is in {out}: \
                 validate it against the schemas (docs/pes.md) before replacing the sample"
            );
        }
    }
}
