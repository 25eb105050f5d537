//! The laid-out pages written with krilla: glyphs in the embedded font, filled rectangles,
//! stroked rules and the logo image. krilla subsets the font, compresses the streams and
//! writes the XMP metadata.

use krilla::color::rgb;
use krilla::error::KrillaError;
use krilla::geom::{PathBuilder, Point, Rect, Size, Transform};
use krilla::image::Image;
use krilla::metadata::{DateTime, Metadata};
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};

use crate::fonts::FONTS;
use crate::layout::{Op, PAGE_HEIGHT, PAGE_WIDTH, Page};
use crate::{Document, Error, Logo};

pub(crate) struct LoadedLogo {
    image: Image,
    format: &'static str,
    /// In pixels; only the proportions matter.
    pub size: (f32, f32),
}

/// Reads the logo's header, so a file that is no image is refused before any layout. krilla
/// decodes the pixels only when it writes the PDF: a file damaged past its header is refused
/// then, as the same [`Error::Logo`].
pub(crate) fn logo(logo: &Logo) -> Result<LoadedLogo, Error> {
    let (format, image) = match logo {
        Logo::Png(bytes) => ("PNG", Image::from_png(bytes.clone().into(), true)),
        Logo::Jpeg(bytes) => ("JPEG", Image::from_jpeg(bytes.clone().into(), true)),
    };
    let image = image.map_err(|reason| Error::Logo { format, reason })?;
    let (width, height) = image.size();
    if width == 0 || height == 0 {
        return Err(Error::Logo {
            format,
            reason: format!("{width} × {height} pixels"),
        });
    }
    Ok(LoadedLogo {
        image,
        format,
        size: (width as f32, height as f32),
    })
}

fn gray(level: u8) -> rgb::Color {
    rgb::Color::new(level, level, level)
}

pub(crate) fn pdf(
    doc: &Document,
    pages: &[Page],
    logo: Option<LoadedLogo>,
) -> Result<Vec<u8>, Error> {
    let mut pdf = krilla::Document::new();
    let mut metadata = Metadata::new()
        .title(doc.title.clone())
        .authors(vec![doc.letterhead.name.clone()]);
    if let Some(date) = doc.created {
        metadata = metadata.creation_date(DateTime::new(date.year).month(date.month).day(date.day));
    }
    pdf.set_metadata(metadata);

    let a4 = PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT).expect("A4 is a valid page size");
    for ops in pages {
        let mut page = pdf.start_page_with(a4.clone());
        let mut surface = page.surface();
        for op in ops {
            match op {
                Op::Text {
                    x,
                    baseline,
                    style,
                    text,
                } => {
                    surface.set_stroke(None);
                    surface.set_fill(Some(Fill {
                        paint: gray(style.gray).into(),
                        ..Fill::default()
                    }));
                    let glyphs = FONTS.shape(style.weight, text);
                    surface.draw_glyphs(
                        Point::from_xy(*x, *baseline),
                        &glyphs,
                        FONTS.pdf_font(style.weight),
                        text,
                        style.size,
                        false,
                    );
                }
                Op::Fill {
                    x,
                    y,
                    width,
                    height,
                    gray: level,
                } => {
                    let mut path = PathBuilder::new();
                    let Some(rect) = Rect::from_xywh(*x, *y, *width, *height) else {
                        continue;
                    };
                    path.push_rect(rect);
                    if let Some(path) = path.finish() {
                        surface.set_stroke(None);
                        surface.set_fill(Some(Fill {
                            paint: gray(*level).into(),
                            ..Fill::default()
                        }));
                        surface.draw_path(&path);
                    }
                }
                Op::Rule {
                    x1,
                    x2,
                    y,
                    thickness,
                    gray: level,
                } => {
                    let mut path = PathBuilder::new();
                    path.move_to(*x1, *y);
                    path.line_to(*x2, *y);
                    if let Some(path) = path.finish() {
                        surface.set_fill(None);
                        surface.set_stroke(Some(Stroke {
                            paint: gray(*level).into(),
                            width: *thickness,
                            ..Stroke::default()
                        }));
                        surface.draw_path(&path);
                    }
                }
                Op::Logo {
                    x,
                    y,
                    width,
                    height,
                } => {
                    if let (Some(logo), Some(size)) = (&logo, Size::from_wh(*width, *height)) {
                        surface.push_transform(&Transform::from_translate(*x, *y));
                        surface.draw_image(logo.image.clone(), size);
                        surface.pop();
                    }
                }
            }
        }
        surface.finish();
        page.finish();
    }
    pdf.finish().map_err(|error| match error {
        KrillaError::Image(_, _, reason) => Error::Logo {
            format: logo.as_ref().map_or("image", |l| l.format),
            reason,
        },
        other => Error::Pdf(other.to_string()),
    })
}
