//! An A4 business document (an invoice, a credit note, a yearly statement) rendered to PDF.
//!
//! The caller words everything: this crate knows nothing of canteens or of French, it lays out
//! the strings it is given. The one piece of text it adds is the page number, "page 2 / 3",
//! after the footer of every page.
//!
//! ```text
//! ┌────────────────────────────────────────────┐
//! │ [logo]                                     │
//! │ Letterhead name                            │
//! │ address lines          recipient lines     │   (where a right-window envelope shows them)
//! │                                            │
//! │ Title                                      │
//! │ fact label   fact value                    │
//! │ ┌ header ─────────────────────┬─────────┐  │   header repeated on every page
//! │ │ Sub-heading spanning the table        │  │
//! │ │ cell (wrapped)              │   right │  │
//! │ └─────────────────────────────┴─────────┘  │
//! │                         Total label  value │
//! │                      **Last total  value** │
//! │ Section heading                            │
//! │ paragraphs…                                │
//! │ ────────────────────────────────────────── │
//! │ footer text                     page 1 / 3 │
//! └────────────────────────────────────────────┘
//! ```
//!
//! Text is set in DejaVu Sans (regular and bold), compiled into the binary and embedded as a
//! subset. Cells, facts, totals and paragraphs wrap at spaces, measured with the font's own
//! metrics; the no-break spaces U+00A0 and U+202F never break, so "1 234,56 €" stays on one line.
//! A `\n` in any string starts a new line. A word wider than its column breaks between letters.
//!
//! Rendering is synchronous CPU work, a few milliseconds for a one-page invoice (the figure is
//! measured by the `a_one_page_invoice_renders_in_a_few_milliseconds` test): run it under
//! `tokio::task::spawn_blocking`.
//!
//! The output is deterministic: krilla reads no clock and derives the PDF's file identifiers
//! and font subset names from the content, so the same [`Document`] gives the same bytes. The
//! only date in the file is [`Document::created`], when the caller gives one.

mod draw;
mod fonts;
mod layout;

/// A letterhead: the issuer's name and address, top left, under an optional logo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letterhead {
    pub name: String,
    pub address_lines: Vec<String>,
    pub logo: Option<Logo>,
}

/// The issuer's logo, drawn top left within 45 × 20 mm, its proportions kept.
#[derive(Clone, PartialEq, Eq)]
pub enum Logo {
    Png(Vec<u8>),
    Jpeg(Vec<u8>),
}

impl std::fmt::Debug for Logo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Logo::Png(bytes) => write!(f, "Logo::Png({} bytes)", bytes.len()),
            Logo::Jpeg(bytes) => write!(f, "Logo::Jpeg({} bytes)", bytes.len()),
        }
    }
}

/// A document, worded by the caller.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub letterhead: Letterhead,
    /// "Facture n° CANT-2026-000123": large, under the letterhead, and small at the top of
    /// every following page.
    pub title: String,
    /// The addressee's name and address, top right.
    pub recipient_lines: Vec<String>,
    /// Label and value pairs under the title (date, period, reference…).
    pub facts: Vec<(String, String)>,
    pub table: Table,
    /// Label and value pairs right-aligned under the table; the last one is emphasised.
    pub totals: Vec<(String, String)>,
    /// Headed paragraphs after the totals (how to pay, how to contest…).
    pub sections: Vec<Section>,
    /// Small text at the bottom of every page, followed by "page X / Y".
    pub footer: String,
    /// The PDF's creation date; `None` writes no date at all.
    pub created: Option<Date>,
}

/// A calendar date for the PDF's metadata (midnight UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Date {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
}

/// A column: its header, and how its cells and header align. Widths are computed from the
/// content: each column gets at least its longest word, and the room left goes to the columns
/// whose text would otherwise wrap (or, when nothing wraps, to the left-aligned ones).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub header: String,
    pub align: Align,
}

impl Column {
    pub fn left(header: impl Into<String>) -> Column {
        Column {
            header: header.into(),
            align: Align::Left,
        }
    }

    pub fn right(header: impl Into<String>) -> Column {
        Column {
            header: header.into(),
            align: Align::Right,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Row {
    /// One string per column.
    Cells(Vec<String>),
    /// A bold line spanning the table (a child's name above their meals); kept on the same page
    /// as the row that follows it.
    Heading(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub heading: String,
    pub paragraphs: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the logo is not a readable {format} image: {reason}")]
    Logo {
        format: &'static str,
        reason: String,
    },
    #[error("table row {row} has {cells} cells for {columns} columns")]
    RowWidth {
        row: usize,
        cells: usize,
        columns: usize,
    },
    #[error("the letterhead and the recipient's address do not fit on the first page")]
    HeadTooTall,
    #[error("the PDF could not be written: {0}")]
    Pdf(String),
}

/// The document as PDF bytes.
pub fn render(doc: &Document) -> Result<Vec<u8>, Error> {
    let logo = doc.letterhead.logo.as_ref().map(draw::logo).transpose()?;
    let pages = layout::lay_out(doc, logo.as_ref().map(|l| l.size))?;
    draw::pdf(doc, &pages, logo)
}
