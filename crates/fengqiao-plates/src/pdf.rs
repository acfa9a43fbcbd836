//! A printable A4 sheet of plates: two columns of four, the QR codes drawn as
//! vector rectangles so they stay sharp at any printer resolution.

use miniz_oxide::deflate::compress_to_vec_zlib;
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

use crate::font::{CjkFont, EmbeddedFont};
use crate::layout::wrap;
use crate::qr::{QrModules, QUIET_ZONE};
use crate::{Plate, PlateError, PLATE_HEADING};

const PAGE_WIDTH: f32 = 595.276;
const PAGE_HEIGHT: f32 = 841.89;
const PAGE_MARGIN: f32 = 28.35;
const COLUMNS: usize = 2;
const ROWS: usize = 4;
/// Space between neighbouring plates, for the cut.
const GUTTER: f32 = 10.0;
const BAND: f32 = 24.0;
const PADDING: f32 = 6.0;
const HEADING_SIZE: f32 = 12.0;
const ADDRESS_SIZE: f32 = 11.0;
const ADDRESS_LEADING: f32 = 14.5;
const CODE_SIZE: f32 = 9.0;
const URL_SIZE: f32 = 6.5;
/// Courier, the built-in font for ASCII, is monospaced at 600/1000 em.
const COURIER_ADVANCE: f32 = 600.0;
const PLATE_BLUE: (f32, f32, f32) = (0.114, 0.310, 0.569);

const FONT_CJK: Name = Name(b"Cjk");
const FONT_COURIER: Name = Name(b"Mono");
const FONT_COURIER_BOLD: Name = Name(b"MonoBold");
/// Marks each QR code in the content stream, so a reader (and our tests)
/// can find the codes without guessing from the drawing.
pub(crate) const QR_MARK: Name = Name(b"PlateQR");

/// An A4 sheet of eight plates per page, as many pages as needed.
///
/// `font` is the bytes of a TrueType or OpenType font (or collection) with
/// Chinese characters, e.g. from [`crate::find_system_cjk_font`]; only the
/// characters used are embedded. Without it the plates carry the code and the
/// report URL in a built-in PDF font, so a sheet can always be printed.
pub fn plates_pdf(plates: &[Plate], font: Option<&[u8]>) -> Result<Vec<u8>, PlateError> {
    if plates.is_empty() {
        return Err(PlateError::NoPlates);
    }
    let codes = plates
        .iter()
        .map(QrModules::of)
        .collect::<Result<Vec<_>, _>>()?;
    let cjk = font.map(CjkFont::parse).transpose()?;
    let mut embedded = cjk.as_ref().map(EmbeddedFont::new);

    let mut last_id = Ref::new(1);
    let mut next_id = move || last_id.bump();
    let (catalog, page_tree, info) = (next_id(), next_id(), next_id());
    let (courier, courier_bold, cjk_font) = (next_id(), next_id(), next_id());

    let mut pdf = Pdf::new();
    let mut pages = Vec::new();
    let per_page = COLUMNS * ROWS;
    for (page_plates, page_codes) in plates.chunks(per_page).zip(codes.chunks(per_page)) {
        let (page_id, content_id) = (next_id(), next_id());
        let mut content = Content::new();
        for (slot, (plate, qr)) in page_plates.iter().zip(page_codes).enumerate() {
            let frame = slot_frame(slot);
            draw_plate(&mut content, frame, plate, qr, embedded.as_mut());
        }
        let stream = compress_to_vec_zlib(&content.finish(), 6);
        pdf.stream(content_id, &stream).filter(Filter::FlateDecode);

        let mut page = pdf.page(page_id);
        page.media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT))
            .parent(page_tree)
            .contents(content_id);
        let mut resources = page.resources();
        let mut fonts = resources.fonts();
        fonts.pair(FONT_COURIER, courier);
        fonts.pair(FONT_COURIER_BOLD, courier_bold);
        if embedded.is_some() {
            fonts.pair(FONT_CJK, cjk_font);
        }
        fonts.finish();
        resources.finish();
        page.finish();
        pages.push(page_id);
    }

    pdf.catalog(catalog).pages(page_tree);
    pdf.pages(page_tree).count(pages.len() as i32).kids(pages);
    pdf.document_info(info)
        .title(TextStr("门牌二维码"))
        .producer(TextStr("Fengqiao"));
    pdf.type1_font(courier).base_font(Name(b"Courier"));
    pdf.type1_font(courier_bold)
        .base_font(Name(b"Courier-Bold"));
    if let Some(embedded) = embedded {
        embedded.write(&mut pdf, cjk_font, next_id)?;
    }
    Ok(pdf.finish())
}

/// A plate's rectangle: left, bottom, width, height in points.
#[derive(Clone, Copy)]
struct Frame {
    x: f32,
    y: f32,
    width: f32,
    height: f32,
}

fn slot_frame(slot: usize) -> Frame {
    let cell_width = (PAGE_WIDTH - 2.0 * PAGE_MARGIN) / COLUMNS as f32;
    let cell_height = (PAGE_HEIGHT - 2.0 * PAGE_MARGIN) / ROWS as f32;
    let (column, row) = (slot % COLUMNS, slot / COLUMNS);
    Frame {
        x: PAGE_MARGIN + column as f32 * cell_width + GUTTER / 2.0,
        y: PAGE_HEIGHT - PAGE_MARGIN - (row + 1) as f32 * cell_height + GUTTER / 2.0,
        width: cell_width - GUTTER,
        height: cell_height - GUTTER,
    }
}

fn draw_plate(
    content: &mut Content,
    frame: Frame,
    plate: &Plate,
    qr: &QrModules,
    font: Option<&mut EmbeddedFont>,
) {
    let (r, g, b) = PLATE_BLUE;
    content.save_state();
    content.set_stroke_rgb(r, g, b).set_line_width(1.2);
    content
        .rect(frame.x, frame.y, frame.width, frame.height)
        .stroke();
    content.set_fill_rgb(r, g, b);
    content
        .rect(frame.x, frame.y + frame.height - BAND, frame.width, BAND)
        .fill_nonzero();
    content.restore_state();

    let qr_size = frame.height - BAND - 2.0 * PADDING;
    let qr_x = frame.x + PADDING;
    let qr_top = frame.y + frame.height - BAND - PADDING;
    draw_qr(content, qr, qr_x, qr_top, qr_size);

    let text_x = qr_x + qr_size + PADDING;
    let text_width = frame.x + frame.width - PADDING - text_x;
    let text_top = qr_top - PADDING;
    match font {
        Some(font) => {
            let heading = heading_for(font.font());
            let heading_width = text_width_cjk(font.font(), &heading, HEADING_SIZE);
            let heading_x = frame.x + (frame.width - heading_width) / 2.0;
            let heading_y = frame.y + frame.height - BAND / 2.0 - HEADING_SIZE * 0.35;
            content.set_fill_gray(1.0);
            show_mixed(
                content,
                font,
                PLATE_HEADING,
                heading_x,
                heading_y,
                HEADING_SIZE,
            );
            content.set_fill_gray(0.0);
            let cjk = font.font();
            let lines = wrap(&plate.address, text_width / ADDRESS_SIZE, |c| {
                em_width(cjk, c)
            });
            let mut y = text_top - ADDRESS_SIZE;
            for line in &lines {
                show_mixed(content, font, line, text_x, y, ADDRESS_SIZE);
                y -= ADDRESS_LEADING;
            }
        }
        None => {
            content.set_fill_gray(0.0);
            let lines = wrap(&plate.url, text_width / URL_SIZE, |_| {
                COURIER_ADVANCE / 1000.0
            });
            let mut y = text_top - URL_SIZE;
            for line in &lines {
                show_ascii(content, FONT_COURIER, line, text_x, y, URL_SIZE);
                y -= URL_SIZE * 1.3;
            }
        }
    }
    content.set_fill_rgb(r, g, b);
    let code_lines = wrap(&plate.code, text_width / CODE_SIZE, |_| {
        COURIER_ADVANCE / 1000.0
    });
    let mut y = frame.y + PADDING + (code_lines.len() as f32 - 1.0) * CODE_SIZE * 1.2 + 2.0;
    for line in &code_lines {
        show_ascii(content, FONT_COURIER_BOLD, line, text_x, y, CODE_SIZE);
        y -= CODE_SIZE * 1.2;
    }
    content.set_fill_gray(0.0);
}

/// The code as one filled path of module-sized rectangles, in a coordinate
/// system of modules with the y axis pointing down like the code's rows.
fn draw_qr(content: &mut Content, qr: &QrModules, left: f32, top: f32, size: f32) {
    let module = size / qr.width_with_quiet_zone() as f32;
    content.begin_marked_content(QR_MARK);
    content.save_state();
    content.transform([module, 0.0, 0.0, -module, left, top]);
    content.set_fill_gray(0.0);
    for (row, column, run) in qr.dark_runs() {
        content.rect(
            (column + QUIET_ZONE) as f32,
            (row + QUIET_ZONE) as f32,
            run as f32,
            1.0,
        );
    }
    content.fill_nonzero();
    content.restore_state();
    content.end_marked_content();
}

/// The heading with its separator dot, or a plain space where the font has
/// no dot (Droid Sans Fallback), rather than a missing-glyph box.
fn heading_for(font: &CjkFont) -> String {
    PLATE_HEADING
        .chars()
        .map(|c| if font.has_glyph(c) { c } else { ' ' })
        .collect()
}

/// Width of a character in em: from the font where it has the glyph, else
/// Courier's, which is what [`show_mixed`] falls back to for ASCII.
fn em_width(font: &CjkFont, c: char) -> f32 {
    if !font.has_glyph(c) && c.is_ascii() {
        COURIER_ADVANCE / 1000.0
    } else {
        font.advance(c) / 1000.0
    }
}

fn text_width_cjk(font: &CjkFont, text: &str, size: f32) -> f32 {
    text.chars().map(|c| em_width(font, c)).sum::<f32>() * size
}

/// Shows text in the CJK font, switching to Courier for ASCII characters the
/// font lacks (some CJK fallback fonts carry no Latin letters).
fn show_mixed(
    content: &mut Content,
    font: &mut EmbeddedFont,
    text: &str,
    x: f32,
    y: f32,
    size: f32,
) {
    let cjk = font.font();
    let uses_courier = |c: char| !cjk.has_glyph(c) && c.is_ascii();
    content.begin_text();
    content.next_line(x, y);
    let mut run = String::new();
    let mut run_is_courier = false;
    let flush = |content: &mut Content, font: &mut EmbeddedFont, run: &str, courier: bool| {
        if run.is_empty() {
            return;
        }
        if courier {
            content
                .set_font(FONT_COURIER, size)
                .show(Str(run.as_bytes()));
        } else {
            content
                .set_font(FONT_CJK, size)
                .show(Str(&font.encode(run)));
        }
    };
    for c in text.chars() {
        if uses_courier(c) != run_is_courier {
            flush(content, font, &run, run_is_courier);
            run.clear();
            run_is_courier = uses_courier(c);
        }
        run.push(c);
    }
    flush(content, font, &run, run_is_courier);
    content.end_text();
}

/// Shows ASCII text in a built-in font; anything else becomes '?', since the
/// built-in fonts cannot draw it.
fn show_ascii(content: &mut Content, font: Name, text: &str, x: f32, y: f32, size: f32) {
    let bytes: Vec<u8> = text
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c as u8
            } else {
                b'?'
            }
        })
        .collect();
    content
        .begin_text()
        .set_font(font, size)
        .next_line(x, y)
        .show(Str(&bytes))
        .end_text();
}
