//! QR address plates (e码 / 门牌二维码): the plate on each building that a
//! resident scans to report a problem at that address.
//!
//! Pure rendering: a [`Plate`] becomes an SVG, a PNG of its QR code, or a
//! printable A4 PDF sheet of many plates. The only I/O is
//! [`find_system_cjk_font`], which looks for a Chinese font where Debian
//! installs them, so that the caller can pass its bytes to [`plates_pdf`].

mod font;
mod layout;
mod pdf;
mod qr;
mod raster;
#[cfg(feature = "scan")]
pub mod scan;
mod svg;

use std::path::PathBuf;

pub use pdf::plates_pdf;
pub use raster::plate_png;
pub use svg::plate_svg;

/// 门牌二维码: one building's address plate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plate {
    /// The building's stable plate code, printed under the QR code so that
    /// a caller can read it out over the phone.
    pub code: String,
    /// The standard address as people read it, e.g.
    /// "成都市武侯区浆洗街街道 锦里小区 3栋".
    pub address: String,
    /// The public report page the QR code opens.
    pub url: String,
}

/// The heading printed on every plate.
pub const PLATE_HEADING: &str = "门牌二维码 · 扫码报事";

#[derive(Debug, thiserror::Error)]
pub enum PlateError {
    #[error("the report URL of plate {code} is {len} bytes, too long for a QR code a phone can read from a wall")]
    UrlTooLong { code: String, len: usize },
    #[error("no plates to print")]
    NoPlates,
    #[error("the font is not a TrueType or OpenType font: {0}")]
    FontUnreadable(String),
    #[error("the font cannot be subset for embedding: {0}")]
    FontSubset(String),
    #[error("PNG encoding failed: {0}")]
    Png(#[from] png::EncodingError),
}

/// Where Debian's CJK font packages put their files, best first:
/// fonts-noto-cjk, fonts-droid-fallback, fonts-wqy-microhei, fonts-wqy-zenhei,
/// fonts-arphic-uming.
pub const DEBIAN_CJK_FONT_PATHS: &[&str] = &[
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
];

/// The first installed font of [`DEBIAN_CJK_FONT_PATHS`]; the one function of
/// this crate that touches the file system. Nothing is searched beyond those
/// paths, so the result does not depend on what a user happens to have.
pub fn find_system_cjk_font() -> Option<PathBuf> {
    DEBIAN_CJK_FONT_PATHS
        .iter()
        .map(PathBuf::from)
        .find(|path| path.is_file())
}
