//! Documents rendered and read back with poppler's `pdftotext`, `pdfinfo`, `pdfimages` and
//! `pdffonts` (Debian's poppler-utils, which `scripts/install-deps test` installs): what a
//! family's PDF reader shows, not what this crate thinks it wrote.

use std::process::Command;
use std::time::Instant;

use cantine_pdf::{Column, Date, Document, Error, Letterhead, Logo, Row, Section, Table, render};

const NNBSP: char = '\u{202f}';
const NBSP: char = '\u{a0}';

/// "1 234,56 €" the French way, as the caller gives it.
fn euros(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let units = (cents.abs() / 100).to_string();
    let mut grouped = String::new();
    for (i, digit) in units.chars().enumerate() {
        if i > 0 && (units.len() - i).is_multiple_of(3) {
            grouped.push(NNBSP);
        }
        grouped.push(digit);
    }
    format!("{sign}{grouped},{:02}{NBSP}€", cents.abs() % 100)
}

fn letterhead(logo: Option<Logo>) -> Letterhead {
    Letterhead {
        name: "Mairie de Techniville".into(),
        address_lines: vec![
            "Service de restauration scolaire".into(),
            "1 place de l'Hôtel-de-Ville".into(),
            "99999 Techniville".into(),
        ],
        logo,
    }
}

const CHILDREN: [&str; 3] = ["Lina Martin", "Adam Martin", "Zoé Martin"];

/// A month of meals for three children: about 70 rows under three sub-headings.
fn statement_rows() -> Vec<Row> {
    let mut rows = Vec::new();
    for child in CHILDREN {
        rows.push(Row::Heading(child.into()));
        for day in 1..=23 {
            rows.push(Row::Cells(vec![
                format!("{day:02}/11/2026"),
                format!("Déjeuner {child} n° {day}"),
                "1".into(),
                euros(360),
                euros(360),
            ]));
        }
    }
    rows
}

fn document(rows: Vec<Row>, logo: Option<Logo>) -> Document {
    Document {
        letterhead: letterhead(logo),
        title: "Facture n° CANT-2026-000123".into(),
        recipient_lines: vec![
            "Famille Martin".into(),
            "12 rue des Écoles".into(),
            "99999 Techniville".into(),
        ],
        facts: vec![
            ("Date".into(), "05/11/2026".into()),
            ("Période".into(), "novembre 2026".into()),
            ("Référence à rappeler".into(), "CANT-2026-000123".into()),
        ],
        table: Table {
            columns: vec![
                Column::left("Date"),
                Column::left("Désignation"),
                Column::right("Qté"),
                Column::right("Prix unitaire"),
                Column::right("Montant"),
            ],
            rows,
        },
        totals: vec![
            ("Sous-total".into(), euros(123_456)),
            ("Avoir du mois précédent".into(), euros(-360)),
            ("Reste à payer".into(), euros(123_096)),
        ],
        sections: vec![
            Section {
                heading: "Comment payer".into(),
                paragraphs: vec![
                    "Par prélèvement, par carte sur le portail des familles, ou en espèces \
                     à la régie de la mairie."
                        .into(),
                    "Mention\u{a0}: «\u{a0}paiement à réception\u{a0}».".into(),
                ],
            },
            Section {
                heading: "Contester cette facture".into(),
                paragraphs: vec![
                    "Écrivez à la mairie dans les deux mois qui suivent sa réception.".into(),
                    "Passé ce délai, la facture est réputée acceptée.".into(),
                ],
            },
        ],
        footer: "Mairie de Techniville · SIRET 000 000 000 00000 · régie de la cantine".into(),
        created: None,
    }
}

fn one_row_invoice() -> Document {
    document(
        vec![Row::Cells(vec![
            "02/11/2026".into(),
            "Déjeuner".into(),
            "1".into(),
            euros(360),
            euros(360),
        ])],
        None,
    )
}

fn poppler(tool: &str, pdf: &[u8], args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("document.pdf");
    std::fs::write(&file, pdf).unwrap();
    let output = Command::new(tool)
        .args(args)
        .arg(&file)
        .args(if tool == "pdftotext" {
            &["-"][..]
        } else {
            &[][..]
        })
        .output()
        .unwrap_or_else(|e| {
            panic!("{tool} did not run ({e}): install poppler-utils (scripts/install-deps test)")
        });
    assert!(
        output.status.success(),
        "{tool}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// The text of each page, as `pdftotext -layout` lays it out.
fn pages_text(pdf: &[u8]) -> Vec<String> {
    let text = poppler("pdftotext", pdf, &["-layout", "-enc", "UTF-8"]);
    let mut pages: Vec<String> = text.split('\u{c}').map(str::to_owned).collect();
    if pages.last().is_some_and(|p| p.trim().is_empty()) {
        pages.pop();
    }
    pages
}

fn page_count(pdf: &[u8]) -> usize {
    let info = poppler("pdfinfo", pdf, &[]);
    let line = info.lines().find(|l| l.starts_with("Pages:")).unwrap();
    line["Pages:".len()..].trim().parse().unwrap()
}

/// `text` as pdftotext prints it: poppler writes every Unicode space as an ASCII space (the
/// PDF keeps them: see `no_break_spaces_copy_out_as_no_break_spaces`).
fn seen(text: &str) -> String {
    text.replace([NBSP, NNBSP], " ")
}

/// Whether some line of `text` holds all of `cells`, in that order.
fn has_row(text: &str, cells: &[&str]) -> bool {
    text.lines().any(|line| {
        let mut rest = line;
        cells.iter().all(|cell| match rest.find(&seen(cell)) {
            Some(at) => {
                rest = &rest[at + seen(cell).len()..];
                true
            }
            None => false,
        })
    })
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().unwrap();
    let pixels: Vec<u8> = (0..width * height)
        .flat_map(|i| [(i % 256) as u8, 0x40, 0x80])
        .collect();
    writer.write_image_data(&pixels).unwrap();
    writer.finish().unwrap();
    bytes
}

#[test]
fn a_month_for_three_children_runs_over_three_pages_with_every_row_and_page_numbers() {
    let rows = statement_rows();
    assert_eq!(rows.len(), 72);
    let pdf = render(&document(rows.clone(), Some(Logo::Png(png(120, 40))))).unwrap();
    assert_eq!(page_count(&pdf), 3);
    let pages = pages_text(&pdf);
    assert_eq!(pages.len(), 3);
    let all = pages.concat();

    assert!(
        pages[0].contains("Facture n° CANT-2026-000123"),
        "{}",
        pages[0]
    );
    assert!(pages[0].contains("Mairie de Techniville"));
    assert!(pages[0].contains("12 rue des Écoles"));
    assert!(has_row(&pages[0], &["Période", "novembre 2026"]));
    for (i, page) in pages.iter().enumerate() {
        assert!(
            has_row(
                page,
                &["Date", "Désignation", "Qté", "Prix unitaire", "Montant"]
            ),
            "no header row on page {}:\n{page}",
            i + 1
        );
        assert!(page.contains(&format!("page {} / 3", i + 1)), "{page}");
        assert!(page.contains("SIRET 000 000 000 00000"), "{page}");
        // The title runs at the top of the following pages.
        assert!(page.contains("Facture n° CANT-2026-000123"), "{page}");
    }
    for row in &rows {
        match row {
            Row::Heading(child) => assert!(all.contains(child.as_str()), "{child}"),
            Row::Cells(cells) => {
                let cells: Vec<&str> = cells.iter().map(String::as_str).collect();
                assert!(has_row(&all, &cells), "{cells:?} missing");
            }
        }
    }
    assert!(
        has_row(&all, &["Sous-total", "1\u{202f}234,56\u{a0}€"]),
        "{all}"
    );
    assert!(has_row(&all, &["Avoir du mois précédent", "-3,60\u{a0}€"]));
    assert!(has_row(&all, &["Reste à payer", "1\u{202f}230,96\u{a0}€"]));
    assert!(
        all.contains(&seen("«\u{a0}paiement à réception\u{a0}»")),
        "{all}"
    );
    assert!(all.contains("Contester cette facture"));
    assert!(all.contains("Passé ce délai, la facture est réputée acceptée."));
}

#[test]
fn a_one_row_invoice_is_one_page() {
    let pdf = render(&one_row_invoice()).unwrap();
    assert_eq!(page_count(&pdf), 1);
    let text = pages_text(&pdf).concat();
    assert!(text.contains("page 1 / 1"), "{text}");
    assert!(has_row(
        &text,
        &["02/11/2026", "Déjeuner", "1", "3,60\u{a0}€"]
    ));
}

#[test]
fn the_logo_is_drawn_once_at_its_pixel_size() {
    let pdf = render(&document(statement_rows(), Some(Logo::Png(png(120, 40))))).unwrap();
    let list = poppler("pdfimages", &pdf, &["-list"]);
    // page num type width height color …
    let images: Vec<Vec<&str>> = list
        .lines()
        .skip(2)
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(images.len(), 1, "{list}");
    assert_eq!(&images[0][..5], ["1", "0", "image", "120", "40"], "{list}");

    let without = render(&document(statement_rows(), None)).unwrap();
    assert_eq!(
        poppler("pdfimages", &without, &["-list"]).lines().count(),
        2
    );
}

#[test]
fn a_jpeg_logo_is_drawn_too() {
    // A 1 × 1 baseline JPEG (grey), the smallest a camera or an editor writes.
    let jpeg: &[u8] = &[
        0xff, 0xd8, 0xff, 0xdb, 0x00, 0x43, 0x00, 0x08, 0x06, 0x06, 0x07, 0x06, 0x05, 0x08, 0x07,
        0x07, 0x07, 0x09, 0x09, 0x08, 0x0a, 0x0c, 0x14, 0x0d, 0x0c, 0x0b, 0x0b, 0x0c, 0x19, 0x12,
        0x13, 0x0f, 0x14, 0x1d, 0x1a, 0x1f, 0x1e, 0x1d, 0x1a, 0x1c, 0x1c, 0x20, 0x24, 0x2e, 0x27,
        0x20, 0x22, 0x2c, 0x23, 0x1c, 0x1c, 0x28, 0x37, 0x29, 0x2c, 0x30, 0x31, 0x34, 0x34, 0x34,
        0x1f, 0x27, 0x39, 0x3d, 0x38, 0x32, 0x3c, 0x2e, 0x33, 0x34, 0x32, 0xff, 0xc0, 0x00, 0x0b,
        0x08, 0x00, 0x01, 0x00, 0x01, 0x01, 0x01, 0x11, 0x00, 0xff, 0xc4, 0x00, 0x14, 0x00, 0x01,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x09, 0xff, 0xc4, 0x00, 0x14, 0x10, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xda, 0x00, 0x08, 0x01,
        0x01, 0x00, 0x00, 0x3f, 0x00, 0x2a, 0x9f, 0xff, 0xd9,
    ];
    let pdf = render(&document(vec![], Some(Logo::Jpeg(jpeg.to_vec())))).unwrap();
    let list = poppler("pdfimages", &pdf, &["-list"]);
    let image: Vec<&str> = list.lines().nth(2).unwrap().split_whitespace().collect();
    assert_eq!(&image[3..5], ["1", "1"], "{list}");
    assert_eq!(image[8], "jpeg", "{list}");
}

#[test]
fn a_logo_that_is_no_image_is_an_error_not_a_panic() {
    for logo in [
        Logo::Png(b"GIF89a not a png at all".to_vec()),
        Logo::Jpeg(Vec::new()),
        Logo::Png(png(120, 40)[..60].to_vec()),
    ] {
        let result = render(&document(vec![], Some(logo.clone())));
        assert!(
            matches!(result, Err(Error::Logo { .. })),
            "{logo:?}: {result:?}"
        );
    }
}

#[test]
fn both_weights_of_the_font_are_embedded_as_subsets() {
    let pdf = render(&one_row_invoice()).unwrap();
    let fonts = poppler("pdffonts", &pdf, &[]);
    // name type encoding emb sub uni
    let rows: Vec<Vec<&str>> = fonts
        .lines()
        .skip(2)
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows.len(), 2, "{fonts}");
    let mut names: Vec<&str> = rows
        .iter()
        .map(|r| r[0].split('+').nth(1).unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["DejaVuSans", "DejaVuSans-Bold"], "{fonts}");
    for row in &rows {
        // … emb sub uni object ID
        let flags = &row[row.len() - 5..row.len() - 2];
        assert_eq!(flags, ["yes", "yes", "yes"], "emb sub uni: {fonts}");
    }
    // A subset: far smaller than the two fonts it comes from (1.4 MB).
    assert!(pdf.len() < 60_000, "{} bytes", pdf.len());
}

/// The text every `ToUnicode` map of the PDF gives its glyphs: what a reader copies out.
fn unicode_of_glyphs(pdf: &[u8]) -> Vec<char> {
    use std::io::Read;
    let mut chars = Vec::new();
    let mut rest = pdf;
    while let Some(at) = find(rest, b"stream\n") {
        let body = &rest[at + b"stream\n".len()..];
        let end = find(body, b"endstream").unwrap();
        let mut text = String::new();
        let inflated = flate2::read::ZlibDecoder::new(&body[..end]).read_to_string(&mut text);
        if inflated.is_ok() && text.contains("beginbfchar") {
            // `<0007> <00A0>` lines: a glyph, then the UTF-16 it stands for.
            for line in text.lines().filter(|l| l.starts_with('<')) {
                let target = line.rsplit('<').next().unwrap().trim_end_matches('>');
                let units: Vec<u16> = (0..target.len())
                    .step_by(4)
                    .map(|i| u16::from_str_radix(&target[i..i + 4], 16).unwrap())
                    .collect();
                chars.extend(char::decode_utf16(units).map(Result::unwrap));
            }
        }
        rest = &body[end + b"endstream".len()..];
    }
    chars
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[test]
fn no_break_spaces_copy_out_as_no_break_spaces() {
    let pdf = render(&one_row_invoice()).unwrap();
    let chars = unicode_of_glyphs(&pdf);
    // Each is a glyph of its own, mapped back to itself, not to a plain space.
    for c in [NBSP, NNBSP, '€', 'é', '«', '»', ' '] {
        assert!(chars.contains(&c), "{c:?} not in {chars:?}");
    }
}

#[test]
fn the_same_document_gives_the_same_bytes_and_no_date_unless_given() {
    let doc = document(statement_rows(), Some(Logo::Png(png(120, 40))));
    let first = render(&doc).unwrap();
    assert_eq!(first, render(&doc).unwrap());
    assert!(!poppler("pdfinfo", &first, &[]).contains("CreationDate"));

    let dated = Document {
        created: Some(Date {
            year: 2026,
            month: 11,
            day: 5,
        }),
        ..doc
    };
    let info = poppler("pdfinfo", &render(&dated).unwrap(), &["-isodates"]);
    let line = info.lines().find(|l| l.starts_with("CreationDate:"));
    assert!(
        line.is_some_and(|l| l.contains("2026-11-05T00:00:00")),
        "{info}"
    );
    assert!(
        info.contains("Title:           Facture n° CANT-2026-000123"),
        "{info}"
    );
}

#[test]
fn long_designations_wrap_inside_their_cell() {
    let long = "Déjeuner avec supplément goûter et accueil périscolaire du soir, \
                tarif réduit selon le quotient familial de la famille";
    let doc = document(
        vec![Row::Cells(vec![
            "02/11/2026".into(),
            long.into(),
            "1".into(),
            euros(360),
            euros(360),
        ])],
        None,
    );
    let text = pages_text(&render(&doc).unwrap()).concat();
    // Every word is there, and the amounts stay on the first line of the row.
    let words: Vec<&str> = long.split(' ').collect();
    for word in &words {
        assert!(text.contains(word), "{word}: {text}");
    }
    assert!(
        has_row(&text, &["02/11/2026", words[0], "3,60\u{a0}€"]),
        "{text}"
    );
    assert!(!has_row(&text, &[long]), "not wrapped: {text}");
}

/// Typical figures on the 2-core CI machine: about 6 ms per one-page invoice in a release
/// build, about 40 ms unoptimised (`cargo test`). The bound only catches an accident (a font
/// parsed per call, a quadratic layout).
#[test]
fn a_one_page_invoice_renders_in_a_few_milliseconds() {
    let doc = one_row_invoice();
    render(&doc).unwrap();
    let runs = 20;
    let start = Instant::now();
    for _ in 0..runs {
        render(&doc).unwrap();
    }
    let each = start.elapsed() / runs;
    eprintln!("one-page invoice: {each:?} per render");
    assert!(each.as_millis() < 500, "{each:?}");
}
