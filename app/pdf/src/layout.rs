//! Where everything goes: the document becomes pages of positioned text, rules, fills and the
//! logo, in points from the page's top-left corner. Nothing here writes PDF, so pagination is
//! decided (and tested) before krilla is called, and "page X / Y" knows Y.

use std::ops::Range;

use crate::fonts::{FONTS, Weight};
use crate::{Align, Document, Error, Row};

const MM: f32 = 72.0 / 25.4;
pub(crate) const PAGE_WIDTH: f32 = 210.0 * MM;
pub(crate) const PAGE_HEIGHT: f32 = 297.0 * MM;
const LEFT: f32 = 20.0 * MM;
const RIGHT: f32 = PAGE_WIDTH - 20.0 * MM;
const WIDTH: f32 = RIGHT - LEFT;
const TOP: f32 = 15.0 * MM;
/// The footer's last line ends here.
const BOTTOM: f32 = PAGE_HEIGHT - 12.0 * MM;
/// Where a right-window envelope (C5, DL) shows the address through its window.
const RECIPIENT_X: f32 = 110.0 * MM;
const RECIPIENT_Y: f32 = 45.0 * MM;
const LOGO_WIDTH: f32 = 45.0 * MM;
const LOGO_HEIGHT: f32 = 20.0 * MM;
/// Inside a table cell.
const PAD_X: f32 = 4.0;
const PAD_Y: f32 = 2.5;
const COLUMN_GAP: f32 = 12.0;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Style {
    pub weight: Weight,
    pub size: f32,
    /// 0 is black.
    pub gray: u8,
}

const fn style(weight: Weight, size: f32, gray: u8) -> Style {
    Style { weight, size, gray }
}

const NAME: Style = style(Weight::Bold, 12.0, 0x11);
const ADDRESS: Style = style(Weight::Regular, 9.0, 0x33);
const RECIPIENT: Style = style(Weight::Regular, 10.0, 0x11);
const TITLE: Style = style(Weight::Bold, 15.0, 0x11);
const RUNNING_TITLE: Style = style(Weight::Regular, 8.0, 0x66);
const FACT_LABEL: Style = style(Weight::Regular, 9.5, 0x55);
const FACT_VALUE: Style = style(Weight::Regular, 9.5, 0x11);
const HEADER: Style = style(Weight::Bold, 9.0, 0x11);
const CELL: Style = style(Weight::Regular, 9.0, 0x22);
const SUB_HEADING: Style = style(Weight::Bold, 9.0, 0x11);
const TOTAL: Style = style(Weight::Regular, 9.5, 0x22);
const LAST_TOTAL: Style = style(Weight::Bold, 10.5, 0x00);
const SECTION_HEADING: Style = style(Weight::Bold, 10.5, 0x11);
const PARAGRAPH: Style = style(Weight::Regular, 9.0, 0x22);
const FOOTER: Style = style(Weight::Regular, 7.5, 0x66);

const HEADER_FILL: u8 = 0xe8;
const SUB_HEADING_FILL: u8 = 0xf4;

fn line_height(style: Style) -> f32 {
    style.size * 1.3
}

/// The baseline of a line whose box starts at `top`: the glyphs' extent centred in the box.
fn baseline(style: Style, top: f32) -> f32 {
    let (ascent, descent) = FONTS.vertical_metrics(style.weight);
    top + (line_height(style) - (ascent + descent) * style.size) / 2.0 + ascent * style.size
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Op {
    Text {
        x: f32,
        baseline: f32,
        style: Style,
        text: String,
    },
    Fill {
        x: f32,
        y: f32,
        width: f32,
        height: f32,
        gray: u8,
    },
    Rule {
        x1: f32,
        x2: f32,
        y: f32,
        thickness: f32,
        gray: u8,
    },
    Logo {
        x: f32,
        y: f32,
        width: f32,
        height: f32,
    },
}

pub(crate) type Page = Vec<Op>;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Line {
    pub text: String,
    pub width: f32,
}

fn measured(style: Style, text: String) -> Line {
    Line {
        width: FONTS.width(style.weight, style.size, &text),
        text,
    }
}

/// Tabs and other control characters have no glyph: they print as spaces.
fn clean(text: &str) -> String {
    text.chars()
        .filter(|&c| c != '\r')
        .map(|c| if c.is_control() && c != '\n' { ' ' } else { c })
        .collect()
}

/// `text` broken into lines no wider than `max`: at `\n`, then at spaces (never at U+00A0 or
/// U+202F), then, for a word wider than `max` on its own, between characters.
pub(crate) fn wrap(style: Style, text: &str, max: f32) -> Vec<Line> {
    let fits = |s: &str| FONTS.width(style.weight, style.size, s) <= max;
    let mut lines = Vec::new();
    for paragraph in clean(text).split('\n') {
        let mut current = String::new();
        for word in paragraph.split(' ').filter(|w| !w.is_empty()) {
            let candidate = if current.is_empty() {
                word.to_owned()
            } else {
                format!("{current} {word}")
            };
            if fits(&candidate) {
                current = candidate;
                continue;
            }
            if !current.is_empty() {
                lines.push(std::mem::take(&mut current));
            }
            if fits(word) {
                current = word.to_owned();
                continue;
            }
            for c in word.chars() {
                current.push(c);
                if !fits(&current) && current.chars().count() > 1 {
                    current.pop();
                    lines.push(std::mem::replace(&mut current, c.to_string()));
                }
            }
        }
        lines.push(current);
    }
    lines.into_iter().map(|l| measured(style, l)).collect()
}

/// The widest unbreakable piece of `text`, and its widest line if nothing wrapped.
fn extents(style: Style, text: &str) -> (f32, f32) {
    let text = clean(text);
    let width = |s: &str| FONTS.width(style.weight, style.size, s);
    let word = text.split(['\n', ' ']).map(width).fold(0.0, f32::max);
    let line = text.split('\n').map(width).fold(0.0, f32::max);
    (word, line)
}

#[derive(Debug, Clone, Copy)]
struct Cell {
    x: f32,
    width: f32,
    align: Align,
}

/// Column widths filling the page. Each column wants its widest line and needs at least its
/// widest word. When everything fits, the spare room goes to the widest left-aligned column
/// (the description), the dates and amounts staying tight. When it does not, the widest columns are capped
/// at one common width, so the narrow ones (dates, amounts, their headers) keep a single line
/// and only the long texts wrap; when even the words do not fit, all columns shrink alike and
/// long words break.
fn column_widths(doc: &Document) -> Vec<f32> {
    let columns = &doc.table.columns;
    let mut min = vec![0.0f32; columns.len()];
    let mut max = vec![0.0f32; columns.len()];
    let mut take = |i: usize, (word, line): (f32, f32)| {
        min[i] = min[i].max(word + 2.0 * PAD_X);
        max[i] = max[i].max(line + 2.0 * PAD_X);
    };
    for (i, column) in columns.iter().enumerate() {
        take(i, extents(HEADER, &column.header));
    }
    for row in &doc.table.rows {
        if let Row::Cells(cells) = row {
            for (i, cell) in cells.iter().enumerate() {
                take(i, extents(CELL, cell));
            }
        }
    }
    let min_sum: f32 = min.iter().sum();
    let max_sum: f32 = max.iter().sum();
    if min_sum >= WIDTH {
        return min.iter().map(|w| w * WIDTH / min_sum).collect();
    }
    if max_sum <= WIDTH {
        let mut widths = max.clone();
        // The widest left-aligned column is the description; without one, the last column.
        let description = (0..columns.len())
            .filter(|&i| columns[i].align == Align::Left)
            .max_by(|&a, &b| max[a].total_cmp(&max[b]))
            .unwrap_or(columns.len() - 1);
        widths[description] += WIDTH - max_sum;
        return widths;
    }
    // The cap whose clamped widths add up to the page: found by bisection, the sum growing
    // with the cap from `min_sum` (< WIDTH) to `max_sum` (> WIDTH).
    let capped = |cap: f32| -> Vec<f32> {
        (0..columns.len())
            .map(|i| cap.clamp(min[i], max[i]))
            .collect()
    };
    let (mut low, mut high) = (0.0f32, max.iter().copied().fold(0.0, f32::max));
    for _ in 0..40 {
        let cap = (low + high) / 2.0;
        if capped(cap).iter().sum::<f32>() > WIDTH {
            high = cap;
        } else {
            low = cap;
        }
    }
    let mut widths = capped(low);
    // What bisection left over (a fraction of a point) goes to the widest column.
    let rest = WIDTH - widths.iter().sum::<f32>();
    if let Some(widest) = (0..widths.len()).max_by(|&a, &b| widths[a].total_cmp(&widths[b])) {
        widths[widest] += rest;
    }
    widths
}

/// A table row broken into lines, cell by cell.
struct Block {
    cells: Vec<Cell>,
    lines: Vec<Vec<Line>>,
    style: Style,
    fill: Option<u8>,
    rule: (f32, u8),
}

impl Block {
    fn new(cells: &[Cell], texts: &[&str], style: Style) -> Block {
        let lines = cells
            .iter()
            .zip(texts)
            .map(|(cell, text)| wrap(style, text, cell.width - 2.0 * PAD_X))
            .collect();
        Block {
            cells: cells.to_vec(),
            lines,
            style,
            fill: None,
            rule: (0.3, 0xcc),
        }
    }

    fn line_count(&self) -> usize {
        self.lines.iter().map(Vec::len).max().unwrap_or(0).max(1)
    }

    fn height(&self, lines: usize) -> f32 {
        lines as f32 * line_height(self.style) + 2.0 * PAD_Y
    }
}

/// The flow of content down the pages, opening a new page when the next piece does not fit.
struct Flow {
    pages: Vec<Page>,
    y: f32,
    bottom: f32,
    /// Nothing but the page's running head drawn yet: a new page would give no more room.
    fresh: bool,
    running_title: Vec<Line>,
    /// The table's header row, repeated at the top of each page while the table runs.
    header: Option<Block>,
}

impl Flow {
    fn page(&mut self) -> &mut Page {
        self.pages.last_mut().expect("the flow starts with a page")
    }

    fn room(&self) -> f32 {
        self.bottom - self.y
    }

    fn continuation_top(&self) -> f32 {
        let title = self.running_title.len() as f32 * line_height(RUNNING_TITLE);
        let header = self
            .header
            .as_ref()
            .map_or(0.0, |h| h.height(h.line_count()));
        TOP + title + 8.0 + header
    }

    /// The room on a page that is yet to be opened.
    fn fresh_room(&self) -> f32 {
        self.bottom - self.continuation_top()
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = TOP;
        let lines = std::mem::take(&mut self.running_title);
        for line in &lines {
            self.text(RUNNING_TITLE, LEFT, Align::Left, WIDTH, line);
            self.y += line_height(RUNNING_TITLE);
        }
        self.running_title = lines;
        self.y += 8.0;
        if let Some(header) = self.header.take() {
            self.chunk(&header, 0..header.line_count());
            self.header = Some(header);
        }
        self.fresh = true;
    }

    /// Opens a new page unless `height` fits here or would not fit on a new page either.
    fn keep(&mut self, height: f32) {
        if height > self.room() && !self.fresh && height <= self.fresh_room() {
            self.new_page();
        }
    }

    fn text(&mut self, style: Style, x: f32, align: Align, width: f32, line: &Line) {
        let x = match align {
            Align::Left => x,
            Align::Right => x + width - line.width,
        };
        let baseline = baseline(style, self.y);
        self.page().push(Op::Text {
            x,
            baseline,
            style,
            text: line.text.clone(),
        });
        self.fresh = false;
    }

    /// Lines one under the other, each page-broken on its own.
    fn lines(&mut self, style: Style, lines: &[Line]) {
        for line in lines {
            self.keep(line_height(style));
            self.text(style, LEFT, Align::Left, WIDTH, line);
            self.y += line_height(style);
        }
    }

    /// Lines `range` of every cell of `block`, at the current position.
    fn chunk(&mut self, block: &Block, range: Range<usize>) {
        let height = block.height(range.len());
        let top = self.y;
        if let Some(gray) = block.fill {
            self.page().push(Op::Fill {
                x: LEFT,
                y: top,
                width: WIDTH,
                height,
                gray,
            });
        }
        for (cell, lines) in block.cells.iter().zip(&block.lines) {
            let end = range.end.min(lines.len());
            for (k, line) in lines
                .get(range.start..end)
                .unwrap_or_default()
                .iter()
                .enumerate()
            {
                self.y = top + PAD_Y + k as f32 * line_height(block.style);
                self.text(
                    block.style,
                    cell.x + PAD_X,
                    cell.align,
                    cell.width - 2.0 * PAD_X,
                    line,
                );
            }
        }
        self.y = top + height;
        let (thickness, gray) = block.rule;
        let y = self.y;
        self.page().push(Op::Rule {
            x1: LEFT,
            x2: RIGHT,
            y,
            thickness,
            gray,
        });
        self.fresh = false;
    }

    /// A table row, on this page if it fits together with `keep_with` points of what follows,
    /// else on the next; a row taller than a whole page is split between lines.
    fn block(&mut self, block: &Block, keep_with: f32) {
        let total = block.line_count();
        let mut start = 0;
        while start < total {
            let need = block.height(total - start);
            let room = self.room();
            if need + keep_with <= room {
                return self.chunk(block, start..total);
            }
            if !self.fresh && need + keep_with <= self.fresh_room() {
                self.new_page();
                continue;
            }
            if need <= room {
                return self.chunk(block, start..total);
            }
            if !self.fresh && need <= self.fresh_room() {
                self.new_page();
                continue;
            }
            let fit = ((room - 2.0 * PAD_Y) / line_height(block.style)).floor();
            if fit < 1.0 && !self.fresh {
                self.new_page();
                continue;
            }
            // On a fresh page at least one line goes, so the loop always ends.
            let end = (start + (fit as usize).max(1)).min(total);
            self.chunk(block, start..end);
            start = end;
            if start < total {
                self.new_page();
            }
        }
    }
}

pub(crate) fn lay_out(doc: &Document, logo: Option<(f32, f32)>) -> Result<Vec<Page>, Error> {
    let columns = doc.table.columns.len();
    for (row, r) in doc.table.rows.iter().enumerate() {
        let cells = match r {
            Row::Cells(cells) => cells.len(),
            Row::Heading(_) if columns == 0 => 0,
            Row::Heading(_) => columns,
        };
        if cells != columns || columns == 0 {
            return Err(Error::RowWidth {
                row,
                cells,
                columns,
            });
        }
    }

    let page_label_width = FONTS.width(FOOTER.weight, FOOTER.size, "page 9999 / 9999");
    let footer = wrap(FOOTER, &doc.footer, WIDTH - page_label_width - COLUMN_GAP);
    let footer_top = BOTTOM - footer.len() as f32 * line_height(FOOTER);

    let mut flow = Flow {
        pages: vec![Vec::new()],
        y: TOP,
        bottom: footer_top - 4.0 * MM,
        fresh: false,
        running_title: wrap(RUNNING_TITLE, &doc.title, WIDTH),
        header: None,
    };

    // The head: letterhead on the left, recipient on the right, side by side.
    let head_width = RECIPIENT_X - LEFT - COLUMN_GAP;
    if let Some((width, height)) = logo {
        let scale = (LOGO_WIDTH / width).min(LOGO_HEIGHT / height);
        flow.page().push(Op::Logo {
            x: LEFT,
            y: TOP,
            width: width * scale,
            height: height * scale,
        });
        flow.y += height * scale + 3.0 * MM;
    }
    let head = |flow: &mut Flow, style: Style, x: f32, width: f32, text: &str| {
        for line in wrap(style, text, width) {
            flow.text(style, x, Align::Left, width, &line);
            flow.y += line_height(style);
        }
    };
    head(&mut flow, NAME, LEFT, head_width, &doc.letterhead.name);
    flow.y += 2.0;
    for line in &doc.letterhead.address_lines {
        head(&mut flow, ADDRESS, LEFT, head_width, line);
    }
    let letterhead_bottom = flow.y;
    flow.y = RECIPIENT_Y;
    for line in &doc.recipient_lines {
        head(&mut flow, RECIPIENT, RECIPIENT_X, RIGHT - RECIPIENT_X, line);
    }
    flow.y = flow.y.max(letterhead_bottom);
    if flow.y > flow.bottom {
        return Err(Error::HeadTooTall);
    }
    flow.y += 10.0 * MM;

    flow.lines(TITLE, &wrap(TITLE, &doc.title, WIDTH));
    flow.y += 2.0 * MM;

    // Facts: labels in a column as wide as the widest (up to 40 % of the page).
    let label_width = doc
        .facts
        .iter()
        .map(|(label, _)| extents(FACT_LABEL, label).1)
        .fold(0.0, f32::max)
        .min(0.4 * WIDTH);
    let value_x = LEFT + label_width + COLUMN_GAP;
    for (label, value) in &doc.facts {
        let labels = wrap(FACT_LABEL, label, label_width);
        let values = wrap(FACT_VALUE, value, RIGHT - value_x);
        let lh = line_height(FACT_VALUE);
        flow.keep(labels.len().max(values.len()) as f32 * lh);
        let top = flow.y;
        for (k, line) in labels.iter().enumerate() {
            flow.y = top + k as f32 * lh;
            flow.text(FACT_LABEL, LEFT, Align::Left, label_width, line);
        }
        for (k, line) in values.iter().enumerate() {
            flow.y = top + k as f32 * lh;
            flow.text(FACT_VALUE, value_x, Align::Left, RIGHT - value_x, line);
        }
        flow.y = top + labels.len().max(values.len()) as f32 * lh;
    }
    flow.y += 6.0 * MM;

    if columns > 0 {
        table(&mut flow, doc);
        flow.y += 4.0 * MM;
    }
    totals(&mut flow, &doc.totals);
    sections(&mut flow, doc);

    // Footers last, now that the page count is known.
    let count = flow.pages.len();
    for (i, page) in flow.pages.iter_mut().enumerate() {
        page.push(Op::Rule {
            x1: LEFT,
            x2: RIGHT,
            y: footer_top - 2.0 * MM,
            thickness: 0.3,
            gray: 0x99,
        });
        for (k, line) in footer.iter().enumerate() {
            let top = footer_top + k as f32 * line_height(FOOTER);
            page.push(Op::Text {
                x: LEFT,
                baseline: baseline(FOOTER, top),
                style: FOOTER,
                text: line.text.clone(),
            });
        }
        let label = measured(FOOTER, format!("page {} / {count}", i + 1));
        page.push(Op::Text {
            x: RIGHT - label.width,
            baseline: baseline(FOOTER, footer_top),
            style: FOOTER,
            text: label.text,
        });
    }
    Ok(flow.pages)
}

fn table(flow: &mut Flow, doc: &Document) {
    let mut x = LEFT;
    let cells: Vec<Cell> = column_widths(doc)
        .into_iter()
        .zip(&doc.table.columns)
        .map(|(width, column)| {
            let cell = Cell {
                x,
                width,
                align: column.align,
            };
            x += width;
            cell
        })
        .collect();
    let spanning = [Cell {
        x: LEFT,
        width: WIDTH,
        align: Align::Left,
    }];
    let headers: Vec<&str> = doc
        .table
        .columns
        .iter()
        .map(|c| c.header.as_str())
        .collect();
    let mut header = Block::new(&cells, &headers, HEADER);
    header.fill = Some(HEADER_FILL);
    header.rule = (0.6, 0x99);

    let blocks: Vec<Block> = doc
        .table
        .rows
        .iter()
        .map(|row| match row {
            Row::Cells(texts) => {
                let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
                Block::new(&cells, &texts, CELL)
            }
            Row::Heading(text) => {
                let mut block = Block::new(&spanning, &[text.as_str()], SUB_HEADING);
                block.fill = Some(SUB_HEADING_FILL);
                block
            }
        })
        .collect();

    flow.keep(header.height(header.line_count()) + blocks.first().map_or(0.0, |b| b.height(1)));
    flow.chunk(&header, 0..header.line_count());
    flow.header = Some(header);
    for (i, block) in blocks.iter().enumerate() {
        let heading = matches!(doc.table.rows[i], Row::Heading(_));
        // A sub-heading stays with (the first line of) the row under it.
        let keep_with = match blocks.get(i + 1) {
            Some(next) if heading => next.height(1),
            _ => 0.0,
        };
        flow.block(block, keep_with);
    }
    flow.header = None;
}

fn totals(flow: &mut Flow, totals: &[(String, String)]) {
    if totals.is_empty() {
        return;
    }
    let last = totals.len() - 1;
    let style_of = |i: usize| if i == last { LAST_TOTAL } else { TOTAL };
    let value_width = totals
        .iter()
        .enumerate()
        .map(|(i, (_, value))| extents(style_of(i), value).1)
        .fold(0.0, f32::max)
        .min(0.35 * WIDTH);
    let value_x = RIGHT - PAD_X - value_width;
    let label_x = LEFT + 0.35 * WIDTH;
    let label_width = value_x - COLUMN_GAP - label_x;
    let rows: Vec<(Style, Vec<Line>, Vec<Line>)> = totals
        .iter()
        .enumerate()
        .map(|(i, (label, value))| {
            let style = style_of(i);
            let labels = wrap(style, label, label_width);
            (style, labels, wrap(style, value, value_width))
        })
        .collect();
    let gap = 3.0;
    let height: f32 = rows
        .iter()
        .map(|(style, l, v)| l.len().max(v.len()) as f32 * line_height(*style) + gap)
        .sum();
    flow.keep(height + gap);
    for (i, (style, labels, values)) in rows.iter().enumerate() {
        if i == last && last > 0 {
            flow.y += gap;
            let y = flow.y - gap / 2.0;
            flow.page().push(Op::Rule {
                x1: label_x,
                x2: RIGHT,
                y,
                thickness: 0.6,
                gray: 0x44,
            });
        }
        let top = flow.y;
        for (k, line) in labels.iter().enumerate() {
            flow.y = top + k as f32 * line_height(*style);
            flow.text(*style, label_x, Align::Right, label_width, line);
        }
        for (k, line) in values.iter().enumerate() {
            flow.y = top + k as f32 * line_height(*style);
            flow.text(*style, value_x, Align::Right, value_width, line);
        }
        flow.y = top + labels.len().max(values.len()) as f32 * line_height(*style) + gap;
    }
}

fn sections(flow: &mut Flow, doc: &Document) {
    for section in &doc.sections {
        flow.y += 5.0 * MM;
        let heading = wrap(SECTION_HEADING, &section.heading, WIDTH);
        let first: Vec<Line> = section
            .paragraphs
            .first()
            .map(|p| wrap(PARAGRAPH, p, WIDTH))
            .unwrap_or_default();
        // A heading is never left alone at the bottom of a page.
        flow.keep(
            heading.len() as f32 * line_height(SECTION_HEADING)
                + 2.0
                + first.len().min(2) as f32 * line_height(PARAGRAPH),
        );
        flow.lines(SECTION_HEADING, &heading);
        flow.y += 2.0;
        for (i, paragraph) in section.paragraphs.iter().enumerate() {
            if i > 0 {
                flow.y += 3.0;
            }
            flow.lines(PARAGRAPH, &wrap(PARAGRAPH, paragraph, WIDTH));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Column, Letterhead, Section, Table};

    fn texts(lines: &[Line]) -> Vec<&str> {
        lines.iter().map(|l| l.text.as_str()).collect()
    }

    #[test]
    fn wrapping_breaks_at_spaces_and_keeps_every_line_within_the_width() {
        let text = "Repas du midi avec un supplément pour le goûter et une longue explication";
        let lines = wrap(CELL, text, 100.0);
        assert!(lines.len() > 2, "{:?}", texts(&lines));
        assert!(lines.iter().all(|l| l.width <= 100.0));
        assert_eq!(texts(&lines).join(" "), text);
    }

    #[test]
    fn no_break_spaces_never_break_and_newlines_always_do() {
        let amount = "1\u{202f}234,56\u{a0}€";
        let width = FONTS.width(CELL.weight, CELL.size, amount);
        let lines = wrap(CELL, &format!("Total {amount}"), width + 1.0);
        assert_eq!(texts(&lines), ["Total", amount]);
        assert_eq!(texts(&wrap(CELL, "un\ndeux", 500.0)), ["un", "deux"]);
    }

    #[test]
    fn a_word_wider_than_the_column_breaks_between_letters() {
        let lines = wrap(CELL, "CANT-2026-000123-ANNULATION-REMBOURSEMENT", 60.0);
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| l.width <= 60.0));
        assert_eq!(
            texts(&lines).concat(),
            "CANT-2026-000123-ANNULATION-REMBOURSEMENT"
        );
    }

    fn document(rows: Vec<Row>) -> Document {
        Document {
            letterhead: Letterhead {
                name: "Mairie".into(),
                address_lines: vec!["1 place de la Mairie".into()],
                logo: None,
            },
            title: "Facture".into(),
            recipient_lines: vec!["Famille".into()],
            facts: vec![("Date".into(), "05/11/2026".into())],
            table: Table {
                columns: vec![Column::left("Jour"), Column::right("Montant")],
                rows,
            },
            totals: vec![("Total".into(), "10,00 €".into())],
            sections: vec![Section {
                heading: "Paiement".into(),
                paragraphs: vec!["Par virement.".into()],
            }],
            footer: "Mairie".into(),
            created: None,
        }
    }

    fn row(i: usize) -> Row {
        Row::Cells(vec![format!("Jour {i}"), "3,60 €".into()])
    }

    fn texts_on(page: &Page) -> Vec<&str> {
        page.iter()
            .filter_map(|op| match op {
                Op::Text { text, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }

    fn assert_inside_the_page(pages: &[Page]) {
        for page in pages {
            for op in page {
                if let Op::Text {
                    x,
                    baseline,
                    style,
                    text,
                } = op
                {
                    let width = FONTS.width(style.weight, style.size, text);
                    assert!(*x >= LEFT - 0.01 && *x + width <= RIGHT + 0.01, "{op:?}");
                    assert!(*baseline - 0.93 * style.size >= TOP - 0.01, "{op:?}");
                    assert!(*baseline + 0.24 * style.size <= BOTTOM + 0.01, "{op:?}");
                }
            }
        }
    }

    #[test]
    fn the_header_row_is_repeated_on_every_page_the_table_runs_over() {
        let pages = lay_out(&document((0..150).map(row).collect()), None).unwrap();
        assert!(pages.len() >= 3, "{}", pages.len());
        for page in &pages {
            let texts = texts_on(page);
            assert!(texts.contains(&"Montant"), "{texts:?}");
        }
        let all: Vec<&str> = pages.iter().flat_map(texts_on).collect();
        for i in 0..150 {
            let label = format!("Jour {i}");
            assert_eq!(all.iter().filter(|t| **t == label).count(), 1, "{label}");
        }
        assert_inside_the_page(&pages);
    }

    #[test]
    fn a_sub_heading_is_never_the_last_line_of_a_page() {
        for rows_before in 30..70 {
            let mut rows: Vec<Row> = (0..rows_before).map(row).collect();
            rows.push(Row::Heading("Lina".into()));
            rows.extend((100..110).map(row));
            let pages = lay_out(&document(rows), None).unwrap();
            let page = pages
                .iter()
                .find(|p| texts_on(p).contains(&"Lina"))
                .unwrap();
            assert!(
                texts_on(page).contains(&"Jour 100"),
                "{rows_before} rows before"
            );
        }
    }

    #[test]
    fn a_cell_taller_than_a_page_is_split_over_pages_within_their_margins() {
        let long = vec!["mot"; 3000].join(" ");
        let pages = lay_out(
            &document(vec![
                row(1),
                Row::Cells(vec![long, "1,00 €".into()]),
                row(2),
            ]),
            None,
        )
        .unwrap();
        assert!(pages.len() >= 2);
        assert_inside_the_page(&pages);
        let words: usize = pages
            .iter()
            .flat_map(texts_on)
            .map(|t| t.split(' ').filter(|w| *w == "mot").count())
            .sum();
        assert_eq!(words, 3000);
    }

    #[test]
    fn a_row_with_the_wrong_number_of_cells_is_refused() {
        let error = lay_out(&document(vec![Row::Cells(vec!["seul".into()])]), None).unwrap_err();
        assert!(matches!(
            error,
            Error::RowWidth {
                row: 0,
                cells: 1,
                columns: 2
            }
        ));
    }

    #[test]
    fn amounts_stay_tight_and_the_description_takes_the_spare_width() {
        let widths = column_widths(&document(vec![row(1)]));
        assert!((widths.iter().sum::<f32>() - WIDTH).abs() < 0.01);
        assert!(widths[1] < 60.0 && widths[0] > 300.0, "{widths:?}");
    }

    #[test]
    fn a_long_text_wraps_and_the_narrow_columns_keep_one_line() {
        let long = "une très longue désignation ".repeat(20);
        let mut doc = document(vec![Row::Cells(vec![long.clone(), "3,60 €".into()])]);
        doc.table.columns.push(Column::left("Prix unitaire"));
        doc.table.rows = vec![Row::Cells(vec![long.clone(), "3,60 €".into(), "x".into()])];
        let widths = column_widths(&doc);
        assert!(
            (widths.iter().sum::<f32>() - WIDTH).abs() < 0.01,
            "{widths:?}"
        );
        let header = FONTS.width(HEADER.weight, HEADER.size, "Prix unitaire") + 2.0 * PAD_X;
        assert!((widths[2] - header).abs() < 0.01, "{widths:?}");

        // Two long texts share the room alike.
        doc.table.rows = vec![Row::Cells(vec![long.clone(), "3,60 €".into(), long])];
        let widths = column_widths(&doc);
        assert!((widths[0] - widths[2]).abs() < 0.5, "{widths:?}");
    }
}
