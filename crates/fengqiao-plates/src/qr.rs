//! The QR code of a plate as a grid of modules, shared by every output format.

use qrcode::{Color, EcLevel, QrCode};

use crate::{Plate, PlateError};

/// Light modules required around the code by ISO/IEC 18004.
pub(crate) const QUIET_ZONE: usize = 4;

/// A plate hangs outdoors for years; level Q still reads with a quarter of
/// the code dirty or scratched, and the short report URL keeps it small.
const ERROR_CORRECTION: EcLevel = EcLevel::Q;

/// Longest URL accepted: still a version-10 code (57 modules), which reads
/// from a phone at arm's length when printed a few centimetres wide.
const MAX_URL_BYTES: usize = 151;

pub(crate) struct QrModules {
    width: usize,
    dark: Vec<bool>,
}

impl QrModules {
    pub(crate) fn of(plate: &Plate) -> Result<Self, PlateError> {
        let too_long = || PlateError::UrlTooLong {
            code: plate.code.clone(),
            len: plate.url.len(),
        };
        if plate.url.len() > MAX_URL_BYTES {
            return Err(too_long());
        }
        let code = QrCode::with_error_correction_level(plate.url.as_bytes(), ERROR_CORRECTION)
            .map_err(|_| too_long())?;
        Ok(QrModules {
            width: code.width(),
            dark: code
                .to_colors()
                .into_iter()
                .map(|color| color == Color::Dark)
                .collect(),
        })
    }

    /// Modules per side, without the quiet zone.
    pub(crate) fn width(&self) -> usize {
        self.width
    }

    /// Modules per side including the quiet zone on both sides.
    pub(crate) fn width_with_quiet_zone(&self) -> usize {
        self.width + 2 * QUIET_ZONE
    }

    pub(crate) fn is_dark(&self, x: usize, y: usize) -> bool {
        self.dark[y * self.width + x]
    }

    /// Horizontal runs of dark modules as (row, first column, length): one
    /// rectangle per run keeps the SVG path and the PDF content stream short.
    pub(crate) fn dark_runs(&self) -> Vec<(usize, usize, usize)> {
        let mut runs = Vec::new();
        for y in 0..self.width {
            let mut x = 0;
            while x < self.width {
                if self.is_dark(x, y) {
                    let start = x;
                    while x < self.width && self.is_dark(x, y) {
                        x += 1;
                    }
                    runs.push((y, start, x - start));
                } else {
                    x += 1;
                }
            }
        }
        runs
    }
}
