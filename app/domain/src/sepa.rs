//! SEPA Core direct debit: the identifiers a mandate carries (IBAN, BIC, RUM), the creditor's
//! ICS, and the `pain.008` file a régie hands to its bank, in `pain.008.001.08` (the EPC's
//! rulebooks since March 2024, the default) or `pain.008.001.02` (older bank channels).
//!
//! The writer is pure: it is given every value (message id, creation instant, collection date,
//! one line per debit) and answers the same bytes for the same input, so that a run exported
//! twice gives the same file. Texts are reduced to the SEPA Latin character set (accents
//! dropped, other characters replaced by a space) before they are written, as the EPC asks;
//! the XSD alone would admit more, and banks refuse it.

use std::fmt::Write as _;

use chrono::{NaiveDate, NaiveDateTime};
use iban::IbanLike as _;

use crate::money::Cents;

/// Why a SEPA value or file is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SepaError {
    #[error("IBAN: not a valid IBAN (checksum or country format)")]
    Iban,
    #[error("BIC: 8 or 11 characters, 4 letters, a country, 2 then optionally 3 letters or digits")]
    Bic,
    #[error(
        "ICS: FR, 2 check digits, a 3-character business code, 6 characters, check digits right"
    )]
    Ics,
    #[error("account holder: 1 to 70 characters")]
    Holder,
    #[error("signature date: after today")]
    SignedInFuture,
    #[error("no debit to write")]
    Empty,
    #[error("an amount of 0 or less, or above 999,999,999.99 €")]
    Amount,
    #[error("reason code: 4 letters or digits (AM04, MD01)")]
    ReasonCode,
    #[error("{0}: an identifier of 1 to 35 characters of A-Z, 0-9 and -")]
    Identifier(&'static str),
}

/// Keeps the SEPA Latin set (`a-z A-Z 0-9 / - ? : ( ) . , ' +` and space): French accents lose
/// their mark, `&` becomes `+`, anything else a space; blanks are collapsed and the result cut
/// to `max` characters.
pub fn latin(text: &str, max: usize) -> String {
    let mut out = String::new();
    for c in text.chars() {
        let mapped: &str = match c {
            'à' | 'â' | 'ä' | 'á' | 'ã' | 'å' => "a",
            'À' | 'Â' | 'Ä' | 'Á' | 'Ã' | 'Å' => "A",
            'é' | 'è' | 'ê' | 'ë' => "e",
            'É' | 'È' | 'Ê' | 'Ë' => "E",
            'î' | 'ï' | 'í' | 'ì' => "i",
            'Î' | 'Ï' | 'Í' | 'Ì' => "I",
            'ô' | 'ö' | 'ó' | 'ò' | 'õ' => "o",
            'Ô' | 'Ö' | 'Ó' | 'Ò' | 'Õ' => "O",
            'ù' | 'û' | 'ü' | 'ú' => "u",
            'Ù' | 'Û' | 'Ü' | 'Ú' => "U",
            'ç' => "c",
            'Ç' => "C",
            'ÿ' => "y",
            'Ÿ' => "Y",
            'ñ' => "n",
            'Ñ' => "N",
            'œ' => "oe",
            'Œ' => "OE",
            'æ' => "ae",
            'Æ' => "AE",
            '’' | '‘' => "'",
            '&' => "+",
            c if c.is_ascii_alphanumeric() || "/-?:().,'+ ".contains(c) => {
                out.push(c);
                continue;
            }
            _ => " ",
        };
        out.push_str(mapped);
    }
    let collapsed = out.split_whitespace().collect::<Vec<_>>().join(" ");
    collapsed.chars().take(max).collect()
}

/// A checked IBAN, kept in its electronic form (no spaces, upper case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Iban(String);

impl Iban {
    /// Reads an IBAN as a person types it (spaces allowed, any case) and checks its checksum
    /// and its country's structure (`iban_validate`).
    pub fn parse(text: &str) -> Result<Self, SepaError> {
        let compact: String = text
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect::<String>()
            .to_ascii_uppercase();
        let iban: iban::Iban = compact.parse().map_err(|_| SepaError::Iban)?;
        Ok(Self(iban.electronic_str().to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What a page or a mail shows: the country and check digits, then the last four
    /// characters (`FR76 **** … 1234`).
    pub fn masked(&self) -> String {
        mask(&self.0)
    }
}

/// [`Iban::masked`] for a stored IBAN.
pub fn mask(iban: &str) -> String {
    let chars: Vec<char> = iban.chars().collect();
    if chars.len() < 8 {
        return "****".to_owned();
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head} **** … {tail}")
}

/// A checked BIC (8 or 11 characters, upper case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bic(String);

impl Bic {
    pub fn parse(text: &str) -> Result<Self, SepaError> {
        let bic: String = text
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase();
        let b = bic.as_bytes();
        let ok = (b.len() == 8 || b.len() == 11)
            && b[..4].iter().all(u8::is_ascii_uppercase)
            && b[4..6].iter().all(u8::is_ascii_uppercase)
            && b[6..].iter().all(u8::is_ascii_alphanumeric);
        if ok {
            Ok(Self(bic))
        } else {
            Err(SepaError::Bic)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The creditor identifier (ICS) the bank gave the commune, check digits verified (EPC262-08:
/// the national identifier, then the country and `00`, letters as 10 to 35, 98 − n mod 97).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ics(String);

impl Ics {
    pub fn parse(text: &str) -> Result<Self, SepaError> {
        let ics: String = text
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase();
        if ics.len() < 8 || ics.len() > 35 || !ics.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(SepaError::Ics);
        }
        let country = &ics[..2];
        let check = &ics[2..4];
        let national = &ics[7..];
        if !country.chars().all(|c| c.is_ascii_uppercase())
            || !check.chars().all(|c| c.is_ascii_digit())
            || (country == "FR" && ics.len() != 13)
        {
            return Err(SepaError::Ics);
        }
        if ics_check_digits(country, national) != check {
            return Err(SepaError::Ics);
        }
        Ok(Self(ics))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The two check digits of a creditor identifier of `country` with `national` identifier.
pub fn ics_check_digits(country: &str, national: &str) -> String {
    let mut remainder: u32 = 0;
    for c in national.chars().chain(country.chars()).chain("00".chars()) {
        let value = match c {
            '0'..='9' => c as u32 - '0' as u32,
            'A'..='Z' => c as u32 - 'A' as u32 + 10,
            _ => continue,
        };
        for digit in value.to_string().chars() {
            remainder = (remainder * 10 + (digit as u32 - '0' as u32)) % 97;
        }
    }
    format!("{:02}", 98 - remainder)
}

/// The account holder's name as the mandate states it (1 to 70 characters once trimmed).
pub fn holder(text: &str) -> Result<String, SepaError> {
    let name = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() || name.chars().count() > 70 || latin(&name, 70).is_empty() {
        return Err(SepaError::Holder);
    }
    Ok(name)
}

/// The unique mandate reference (RUM) Cantine gives a mandate: the configured prefix and the
/// mandate's number, `CANTINE-00000042` (at most 35 characters of `A-Z 0-9 -`).
pub fn rum(prefix: &str, number: i64) -> String {
    format!("{prefix}-{number:08}")
}

/// Whether `text` is a SEPA identifier as Cantine writes them (MsgId, PmtInfId, EndToEndId,
/// RUM, the RUM prefix): 1 to 35 characters of `A-Z`, `0-9` and `-`.
pub fn is_identifier(text: &str) -> bool {
    (1..=35).contains(&text.len())
        && text
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-')
}

/// The file versions Cantine writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// `pain.008.001.08`, the default.
    V08,
    /// `pain.008.001.02`, for banks that still take it.
    V02,
}

impl Version {
    /// `08`, `02`, or the full name `pain.008.001.08`.
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "08" | "8" | "pain.008.001.08" => Some(Self::V08),
            "02" | "2" | "pain.008.001.02" => Some(Self::V02),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::V08 => "pain.008.001.08",
            Self::V02 => "pain.008.001.02",
        }
    }

    fn bic_tag(self) -> &'static str {
        match self {
            Self::V08 => "BICFI",
            Self::V02 => "BIC",
        }
    }
}

/// The sequence type of a collection under a mandate: `FRST` for its first use (or the next
/// one after a first collection that was rejected), `RCUR` after.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SequenceType {
    Frst,
    Rcur,
}

impl SequenceType {
    pub fn code(self) -> &'static str {
        match self {
            Self::Frst => "FRST",
            Self::Rcur => "RCUR",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "FRST" => Some(Self::Frst),
            "RCUR" => Some(Self::Rcur),
            _ => None,
        }
    }

    /// `FRST` while no earlier collection under the mandate stands (was exported and not
    /// rejected), `RCUR` once one does.
    pub fn for_mandate(earlier_collections_standing: usize) -> Self {
        if earlier_collections_standing == 0 {
            Self::Frst
        } else {
            Self::Rcur
        }
    }
}

/// The creditor: the commune's régie, from the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Creditor {
    pub name: String,
    pub iban: Iban,
    pub bic: Bic,
    pub ics: Ics,
}

/// One collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Debit {
    pub end_to_end_id: String,
    pub amount: Cents,
    pub sequence: SequenceType,
    pub rum: String,
    pub signed_on: NaiveDate,
    pub debtor_name: String,
    pub debtor_iban: String,
    pub debtor_bic: String,
    /// The unstructured remittance text (the invoice number), cut to 140.
    pub remittance: String,
}

/// A whole `pain.008` message: one `PmtInf` per sequence type present, `FRST` first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    pub version: Version,
    pub msg_id: String,
    /// Paris local time, written without an offset as banks expect.
    pub created_at: NaiveDateTime,
    pub collection_date: NaiveDate,
    pub creditor: Creditor,
    pub debits: Vec<Debit>,
}

/// `1234` cents as `12.34`.
pub fn euros(amount: Cents) -> String {
    let c = amount.get();
    format!("{}.{:02}", c / 100, c % 100)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\'', "&apos;")
        .replace('"', "&quot;")
}

impl File {
    /// The payment information id of the `seq` block: the message id and the sequence type.
    pub fn pmt_inf_id(msg_id: &str, seq: SequenceType) -> String {
        format!("{msg_id}-{}", seq.code())
    }

    /// The file, UTF-8 XML; the same input always gives the same bytes.
    pub fn to_xml(&self) -> Result<String, SepaError> {
        if self.debits.is_empty() {
            return Err(SepaError::Empty);
        }
        if !is_identifier(&self.msg_id) || self.msg_id.len() > 30 {
            return Err(SepaError::Identifier("MsgId"));
        }
        for d in &self.debits {
            if d.amount <= Cents::ZERO || d.amount.get() > 99_999_999_999 {
                return Err(SepaError::Amount);
            }
            if !is_identifier(&d.end_to_end_id) {
                return Err(SepaError::Identifier("EndToEndId"));
            }
            if !is_identifier(&d.rum) {
                return Err(SepaError::Identifier("MndtId"));
            }
            Iban::parse(&d.debtor_iban)?;
            Bic::parse(&d.debtor_bic)?;
        }
        let bic = self.version.bic_tag();
        let total: i64 = self.debits.iter().map(|d| d.amount.get()).sum();
        let mut x = String::new();
        let w = &mut x;
        let _ = write!(
            w,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:{}\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n<CstmrDrctDbtInitn>\n",
            self.version.name()
        );
        let creditor_name = escape(&latin(&self.creditor.name, 70));
        let _ = writeln!(
            w,
            "<GrpHdr><MsgId>{}</MsgId><CreDtTm>{}</CreDtTm><NbOfTxs>{}</NbOfTxs><CtrlSum>{}</CtrlSum><InitgPty><Nm>{creditor_name}</Nm></InitgPty></GrpHdr>",
            self.msg_id,
            self.created_at.format("%Y-%m-%dT%H:%M:%S"),
            self.debits.len(),
            euros(Cents(total)),
        );
        for seq in [SequenceType::Frst, SequenceType::Rcur] {
            let block: Vec<&Debit> = self.debits.iter().filter(|d| d.sequence == seq).collect();
            if block.is_empty() {
                continue;
            }
            let sum: i64 = block.iter().map(|d| d.amount.get()).sum();
            let _ = writeln!(
                w,
                "<PmtInf><PmtInfId>{}</PmtInfId><PmtMtd>DD</PmtMtd><BtchBookg>true</BtchBookg><NbOfTxs>{}</NbOfTxs><CtrlSum>{}</CtrlSum>\
<PmtTpInf><SvcLvl><Cd>SEPA</Cd></SvcLvl><LclInstrm><Cd>CORE</Cd></LclInstrm><SeqTp>{}</SeqTp></PmtTpInf>\
<ReqdColltnDt>{}</ReqdColltnDt><Cdtr><Nm>{creditor_name}</Nm></Cdtr>\
<CdtrAcct><Id><IBAN>{}</IBAN></Id></CdtrAcct><CdtrAgt><FinInstnId><{bic}>{}</{bic}></FinInstnId></CdtrAgt>\
<ChrgBr>SLEV</ChrgBr><CdtrSchmeId><Id><PrvtId><Othr><Id>{}</Id><SchmeNm><Prtry>SEPA</Prtry></SchmeNm></Othr></PrvtId></Id></CdtrSchmeId>",
                Self::pmt_inf_id(&self.msg_id, seq),
                block.len(),
                euros(Cents(sum)),
                seq.code(),
                self.collection_date.format("%Y-%m-%d"),
                self.creditor.iban.as_str(),
                self.creditor.bic.as_str(),
                self.creditor.ics.as_str(),
            );
            for d in block {
                let name = latin(&d.debtor_name, 70);
                let _ = writeln!(
                    w,
                    "<DrctDbtTxInf><PmtId><EndToEndId>{}</EndToEndId></PmtId><InstdAmt Ccy=\"EUR\">{}</InstdAmt>\
<DrctDbtTx><MndtRltdInf><MndtId>{}</MndtId><DtOfSgntr>{}</DtOfSgntr></MndtRltdInf></DrctDbtTx>\
<DbtrAgt><FinInstnId><{bic}>{}</{bic}></FinInstnId></DbtrAgt><Dbtr><Nm>{}</Nm></Dbtr>\
<DbtrAcct><Id><IBAN>{}</IBAN></Id></DbtrAcct><RmtInf><Ustrd>{}</Ustrd></RmtInf></DrctDbtTxInf>",
                    d.end_to_end_id,
                    euros(d.amount),
                    d.rum,
                    d.signed_on.format("%Y-%m-%d"),
                    d.debtor_bic,
                    escape(if name.is_empty() {
                        "NOTPROVIDED"
                    } else {
                        &name
                    }),
                    d.debtor_iban,
                    escape(&latin(&d.remittance, 140)),
                );
            }
            w.push_str("</PmtInf>\n");
        }
        w.push_str("</CstmrDrctDbtInitn>\n</Document>\n");
        Ok(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IBAN: &str = "FR76 3000 6000 0112 3456 7890 189";

    fn creditor() -> Creditor {
        Creditor {
            name: "Régie de la restauration scolaire & co".into(),
            iban: Iban::parse("FR1420041010050500013M02606").unwrap(),
            bic: Bic::parse("PSSTFRPPLIL").unwrap(),
            ics: Ics::parse("FR72ZZZ123456").unwrap(),
        }
    }

    fn debit(e2e: &str, cents: i64, seq: SequenceType) -> Debit {
        Debit {
            end_to_end_id: e2e.into(),
            amount: Cents(cents),
            sequence: seq,
            rum: "CANTINE-00000001".into(),
            signed_on: NaiveDate::from_ymd_opt(2026, 9, 1).unwrap(),
            debtor_name: "Hélène Martin-Dupré".into(),
            debtor_iban: "FR7630006000011234567890189".into(),
            debtor_bic: "AGRIFRPP".into(),
            remittance: "Facture CANT-2026-000001".into(),
        }
    }

    fn file(version: Version, debits: Vec<Debit>) -> File {
        File {
            version,
            msg_id: "CANT-2026-11-R000001".into(),
            created_at: NaiveDate::from_ymd_opt(2026, 12, 1)
                .unwrap()
                .and_hms_opt(9, 30, 0)
                .unwrap(),
            collection_date: NaiveDate::from_ymd_opt(2026, 12, 15).unwrap(),
            creditor: creditor(),
            debits,
        }
    }

    #[test]
    fn an_iban_is_read_as_typed_and_masked_to_its_last_four() {
        let iban = Iban::parse(IBAN).unwrap();
        assert_eq!(iban.as_str(), "FR7630006000011234567890189");
        assert_eq!(iban.masked(), "FR76 **** … 0189");
        assert_eq!(
            Iban::parse("fr7630006000011234567890189").unwrap(),
            iban,
            "lower case is the same IBAN"
        );
    }

    #[test]
    fn an_iban_with_a_wrong_checksum_or_country_format_is_refused() {
        assert_eq!(
            Iban::parse("FR7630006000011234567890188"),
            Err(SepaError::Iban)
        );
        assert_eq!(Iban::parse("FR76300060000112345"), Err(SepaError::Iban));
        assert_eq!(Iban::parse(""), Err(SepaError::Iban));
        assert_eq!(Iban::parse("not an iban"), Err(SepaError::Iban));
    }

    #[test]
    fn a_bic_has_8_or_11_characters() {
        assert!(Bic::parse("AGRIFRPP").is_ok());
        assert!(Bic::parse("agrifrppxxx").is_ok());
        assert_eq!(Bic::parse("AGRIFRP"), Err(SepaError::Bic));
        assert_eq!(Bic::parse("1GRIFRPP"), Err(SepaError::Bic));
        assert_eq!(Bic::parse("AGRIFRPPXX"), Err(SepaError::Bic));
    }

    #[test]
    fn the_ics_check_digits_follow_epc262() {
        // The EPC's and the Banque de France's example.
        assert_eq!(ics_check_digits("FR", "123456"), "72");
        assert!(Ics::parse("FR72ZZZ123456").is_ok());
        assert!(
            Ics::parse("FR72ABC123456").is_ok(),
            "the business code is not checked"
        );
        assert_eq!(Ics::parse("FR73ZZZ123456"), Err(SepaError::Ics));
        assert_eq!(Ics::parse("FR72ZZZ12345"), Err(SepaError::Ics));
    }

    #[test]
    fn the_first_collection_of_a_mandate_is_frst_and_the_next_rcur() {
        assert_eq!(SequenceType::for_mandate(0), SequenceType::Frst);
        assert_eq!(SequenceType::for_mandate(1), SequenceType::Rcur);
        assert_eq!(SequenceType::for_mandate(7), SequenceType::Rcur);
    }

    #[test]
    fn texts_are_reduced_to_the_sepa_latin_set() {
        assert_eq!(
            latin("Hélène Œuvray & fils — «ok»", 70),
            "Helene OEuvray + fils ok"
        );
        assert_eq!(latin("a\u{0}b<c>", 70), "a b c");
        assert_eq!(latin("abcdef", 3), "abc");
    }

    #[test]
    fn amounts_are_written_as_decimal_euros() {
        assert_eq!(euros(Cents(1)), "0.01");
        assert_eq!(euros(Cents(4550)), "45.50");
        assert_eq!(euros(Cents(123_456)), "1234.56");
    }

    #[test]
    fn the_file_groups_frst_before_rcur_with_their_sums() {
        let xml = file(
            Version::V08,
            vec![
                debit("E-1", 1000, SequenceType::Rcur),
                debit("E-2", 2550, SequenceType::Frst),
                debit("E-3", 5, SequenceType::Rcur),
            ],
        )
        .to_xml()
        .unwrap();
        let frst = xml.find("<SeqTp>FRST</SeqTp>").unwrap();
        let rcur = xml.find("<SeqTp>RCUR</SeqTp>").unwrap();
        assert!(frst < rcur);
        assert!(xml.contains("<NbOfTxs>3</NbOfTxs><CtrlSum>35.55</CtrlSum>"));
        assert!(xml.contains("<PmtInfId>CANT-2026-11-R000001-RCUR</PmtInfId>"));
        assert!(xml.contains("<NbOfTxs>2</NbOfTxs><CtrlSum>10.05</CtrlSum>"));
        assert!(xml.contains("<BICFI>AGRIFRPP</BICFI>"));
        assert!(xml.contains("<Nm>Helene Martin-Dupre</Nm>"));
        assert!(xml.contains("<Nm>Regie de la restauration scolaire + co</Nm>"));
        assert!(xml.contains("urn:iso:std:iso:20022:tech:xsd:pain.008.001.08"));
    }

    #[test]
    fn version_02_names_the_bic_bic() {
        let xml = file(Version::V02, vec![debit("E-1", 1000, SequenceType::Frst)])
            .to_xml()
            .unwrap();
        assert!(xml.contains("<BIC>AGRIFRPP</BIC>"));
        assert!(!xml.contains("BICFI"));
        assert!(xml.contains("urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"));
    }

    #[test]
    fn the_same_input_gives_the_same_bytes() {
        let f = file(Version::V08, vec![debit("E-1", 1000, SequenceType::Frst)]);
        assert_eq!(f.to_xml().unwrap(), f.clone().to_xml().unwrap());
    }

    #[test]
    fn a_file_without_debits_or_with_a_bad_one_is_refused() {
        assert_eq!(file(Version::V08, vec![]).to_xml(), Err(SepaError::Empty));
        assert_eq!(
            file(Version::V08, vec![debit("E-1", 0, SequenceType::Frst)]).to_xml(),
            Err(SepaError::Amount)
        );
        assert_eq!(
            file(Version::V08, vec![debit("e 1", 10, SequenceType::Frst)]).to_xml(),
            Err(SepaError::Identifier("EndToEndId"))
        );
    }

    #[test]
    fn the_rum_is_the_prefix_and_the_mandate_number() {
        assert_eq!(rum("CANTINE", 42), "CANTINE-00000042");
        assert!(is_identifier(&rum("CANTINE", 42)));
        assert!(!is_identifier("lower"));
    }
}
