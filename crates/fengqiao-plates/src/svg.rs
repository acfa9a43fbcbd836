//! One plate as a self-contained SVG, for the web page and for sign makers.

use std::fmt::Write;

use crate::layout::{estimated_em, wrap};
use crate::qr::{QrModules, QUIET_ZONE};
use crate::{Plate, PlateError, PLATE_HEADING};

/// Plate size in millimetres: the common 12 × 8 cm aluminium door plate.
const WIDTH_MM: f32 = 120.0;
const HEIGHT_MM: f32 = 80.0;
const BAND_MM: f32 = 12.0;
const QR_MM: f32 = 60.0;
const MARGIN_MM: f32 = 4.0;
const ADDRESS_SIZE_MM: f32 = 4.6;
const CODE_SIZE_MM: f32 = 3.6;
/// The blue of Chinese street and house-number plates.
const PLATE_BLUE: &str = "#1d4f91";
const FONT_FAMILY: &str =
    "'Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei','PingFang SC',sans-serif";

/// A 120 × 80 mm plate: a blue band with the heading, the QR code on the
/// left, the address and the plate code on the right. Text is left to the
/// viewer's fonts, so the SVG stays a few kilobytes.
pub fn plate_svg(plate: &Plate) -> Result<String, PlateError> {
    let qr = QrModules::of(plate)?;
    let module = QR_MM / qr.width_with_quiet_zone() as f32;
    let qr_x = MARGIN_MM;
    let qr_y = BAND_MM + (HEIGHT_MM - BAND_MM - QR_MM) / 2.0;
    let text_x = qr_x + QR_MM + MARGIN_MM / 2.0;
    let text_width = WIDTH_MM - text_x - MARGIN_MM;

    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH_MM}mm" height="{HEIGHT_MM}mm" viewBox="0 0 {WIDTH_MM} {HEIGHT_MM}" font-family="{FONT_FAMILY}">"##
    );
    let _ = write!(svg, "<title>{}</title>", escape(&plate.address));
    let _ = write!(
        svg,
        r##"<rect x="0.5" y="0.5" width="{}" height="{}" rx="3" fill="#fff" stroke="{PLATE_BLUE}" stroke-width="1"/>"##,
        WIDTH_MM - 1.0,
        HEIGHT_MM - 1.0
    );
    let _ = write!(
        svg,
        r##"<path d="M0.5 {BAND_MM}V3.5a3 3 0 0 1 3-3H{}a3 3 0 0 1 3 3V{BAND_MM}z" fill="{PLATE_BLUE}"/>"##,
        WIDTH_MM - 3.5
    );
    let _ = write!(
        svg,
        r##"<text x="{}" y="{}" font-size="6" fill="#fff" text-anchor="middle" font-weight="bold">{}</text>"##,
        WIDTH_MM / 2.0,
        BAND_MM / 2.0 + 2.2,
        escape(PLATE_HEADING)
    );

    // The code in module units, scaled once: integers keep the path short.
    let _ = write!(
        svg,
        r##"<g transform="translate({qr_x} {qr_y}) scale({module})"><path fill="#000" d=""##
    );
    for (row, column, run) in qr.dark_runs() {
        let _ = write!(
            svg,
            "M{} {}h{run}v1h-{run}z",
            column + QUIET_ZONE,
            row + QUIET_ZONE
        );
    }
    svg.push_str(r##""/></g>"##);

    let lines = wrap(&plate.address, text_width / ADDRESS_SIZE_MM, estimated_em);
    let mut y = BAND_MM + MARGIN_MM + ADDRESS_SIZE_MM + 2.0;
    for line in &lines {
        let _ = write!(
            svg,
            r##"<text x="{text_x}" y="{y}" font-size="{ADDRESS_SIZE_MM}" fill="#000">{}</text>"##,
            escape(line)
        );
        y += ADDRESS_SIZE_MM * 1.35;
    }
    let _ = write!(
        svg,
        r##"<text x="{text_x}" y="{}" font-size="{CODE_SIZE_MM}" fill="{PLATE_BLUE}" font-family="'DejaVu Sans Mono',monospace">{}</text>"##,
        HEIGHT_MM - MARGIN_MM - 2.0,
        escape(&plate.code)
    );
    svg.push_str("</svg>");
    Ok(svg)
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}
