//! The QR code of a plate as a PNG, for the web page and for phones.

use crate::qr::{QrModules, QUIET_ZONE};
use crate::{Plate, PlateError};

/// The QR code alone, `scale` pixels per module (at least one), with its
/// quiet zone, as a black-and-white PNG. The address is left to the page
/// around it: text in a bitmap would need a font rasteriser for a few labels.
pub fn plate_png(plate: &Plate, scale: u32) -> Result<Vec<u8>, PlateError> {
    let qr = QrModules::of(plate)?;
    let scale = scale.max(1) as usize;
    let side = qr.width_with_quiet_zone() * scale;
    let row_bytes = side.div_ceil(8);
    // One bit per pixel, 1 = white, as PNG greyscale depth 1 stores it.
    let mut pixels = vec![0xffu8; row_bytes * side];
    for y in 0..side {
        for x in 0..side {
            let (mx, my) = (x / scale, y / scale);
            let inside = (QUIET_ZONE..QUIET_ZONE + qr.width()).contains(&mx)
                && (QUIET_ZONE..QUIET_ZONE + qr.width()).contains(&my);
            if inside && qr.is_dark(mx - QUIET_ZONE, my - QUIET_ZONE) {
                pixels[y * row_bytes + x / 8] &= !(0x80 >> (x % 8));
            }
        }
    }

    let mut out = Vec::new();
    let side = side as u32;
    let mut encoder = png::Encoder::new(&mut out, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::One);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&pixels)?;
    writer.finish()?;
    Ok(out)
}
