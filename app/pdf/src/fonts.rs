//! The two faces every document uses, and text measured exactly as it will be drawn.
//!
//! DejaVu Sans covers all of French (accents, ligatures œ/æ, « », €, the no-break space U+00A0
//! and the narrow no-break space U+202F) and comes from the `dejavu` crate as bytes compiled
//! into the binary, so no system font is read at run time. krilla embeds only the glyphs used.
//!
//! Lines are shaped here, with the same shaper and settings as krilla's own `draw_text`, and
//! drawn from these glyphs: the width used to wrap and right-align a line is the width drawn.

use std::sync::LazyLock;

use krilla::text::{Font, GlyphId, KrillaGlyph};
use rustybuzz::{Direction, Face, UnicodeBuffer};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Weight {
    Regular,
    Bold,
}

pub(crate) struct Typeface {
    pdf: Font,
    shaper: Face<'static>,
    units_per_em: f32,
}

pub(crate) struct Fonts {
    regular: Typeface,
    bold: Typeface,
}

/// Parsed once per process: parsing and hashing 700 KB of font data per document would be the
/// larger part of rendering a one-page invoice.
pub(crate) static FONTS: LazyLock<Fonts> = LazyLock::new(|| Fonts {
    regular: Typeface::new(dejavu::sans::regular()),
    bold: Typeface::new(dejavu::sans::bold()),
});

impl Typeface {
    fn new(data: &'static [u8]) -> Typeface {
        // The bytes are a fixed, known-good font compiled in: failing here is a build defect,
        // caught by every test, not something a document can cause.
        let shaper = Face::from_slice(data, 0).expect("the bundled DejaVu font parses");
        let pdf = Font::new(data.into(), 0).expect("krilla reads the bundled DejaVu font");
        Typeface {
            units_per_em: shaper.units_per_em() as f32,
            pdf,
            shaper,
        }
    }
}

impl Fonts {
    fn face(&self, weight: Weight) -> &Typeface {
        match weight {
            Weight::Regular => &self.regular,
            Weight::Bold => &self.bold,
        }
    }

    pub(crate) fn pdf_font(&self, weight: Weight) -> Font {
        self.face(weight).pdf.clone()
    }

    /// Ascender and descender (positive, below the baseline) in ems.
    pub(crate) fn vertical_metrics(&self, weight: Weight) -> (f32, f32) {
        let face = self.face(weight);
        (
            face.shaper.ascender() as f32 / face.units_per_em,
            -(face.shaper.descender() as f32) / face.units_per_em,
        )
    }

    /// Glyphs with advances in ems, as krilla's `KrillaGlyph` wants them.
    pub(crate) fn shape(&self, weight: Weight, text: &str) -> Vec<KrillaGlyph> {
        let face = self.face(weight);
        let mut buffer = UnicodeBuffer::new();
        buffer.push_str(text);
        buffer.guess_segment_properties();
        // Every string is Latin text; a fixed direction keeps digits and punctuation in order.
        buffer.set_direction(Direction::LeftToRight);
        let output = rustybuzz::shape(&face.shaper, &[], buffer);
        let infos = output.glyph_infos();
        let positions = output.glyph_positions();
        let em = face.units_per_em;
        (0..infos.len())
            .map(|i| {
                let start = infos[i].cluster as usize;
                // A cluster runs to the next glyph's cluster (left to right, clusters ascend).
                let end = infos[i + 1..]
                    .iter()
                    .map(|info| info.cluster as usize)
                    .find(|&c| c != start)
                    .unwrap_or(text.len());
                let p = positions[i];
                KrillaGlyph::new(
                    GlyphId::new(infos[i].glyph_id),
                    p.x_advance as f32 / em,
                    p.x_offset as f32 / em,
                    p.y_offset as f32 / em,
                    p.y_advance as f32 / em,
                    start..end,
                    None,
                )
            })
            .collect()
    }

    /// The drawn width of `text` at `size` points.
    pub(crate) fn width(&self, weight: Weight, size: f32, text: &str) -> f32 {
        self.shape(weight, text)
            .iter()
            .map(|g| g.x_advance)
            .sum::<f32>()
            * size
    }

    /// Whether the font has a glyph for every character (a missing one draws as a box).
    #[cfg(test)]
    pub(crate) fn covers(&self, weight: Weight, text: &str) -> bool {
        let face = &self.face(weight).shaper;
        text.chars().all(|c| face.glyph_index(c).is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_weights_cover_the_french_the_documents_print() {
        let french = "éèêëàâäîïôöùûüÿçœæÉÈÊÀÂÎÔÙÛÇŒÆ «\u{a0}guillemets\u{a0}» 1\u{202f}234,56\u{a0}€ n° – — ’";
        for weight in [Weight::Regular, Weight::Bold] {
            assert!(FONTS.covers(weight, french), "{weight:?}");
        }
    }

    #[test]
    fn bold_text_is_wider_than_regular_and_width_grows_with_size() {
        let regular = FONTS.width(Weight::Regular, 10.0, "Facture");
        assert!(FONTS.width(Weight::Bold, 10.0, "Facture") > regular);
        assert!((FONTS.width(Weight::Regular, 20.0, "Facture") - 2.0 * regular).abs() < 0.01);
        assert_eq!(FONTS.width(Weight::Regular, 10.0, ""), 0.0);
    }
}
