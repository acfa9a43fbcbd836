//! Reading plates back as a phone would, for tests here and in the binary:
//! a sheet is printed with poppler's `pdftoppm` (150 dpi, grey) and every
//! cell of the 2 × 4 grid is scanned with rqrr.

use std::path::PathBuf;
use std::process::Command;

/// Every QR code rqrr finds in a greyscale image.
pub fn decode_grey(width: usize, height: usize, luma: impl Fn(usize, usize) -> u8) -> Vec<String> {
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(width, height, luma);
    image
        .detect_grids()
        .into_iter()
        .filter_map(|grid| grid.decode().ok().map(|(_, text)| text))
        .collect()
}

/// The codes on each page of a plate sheet, in cell order; `None` (with a
/// message) when poppler-utils is not installed.
pub fn scan_sheet(pdf: &[u8]) -> Option<Vec<Vec<String>>> {
    if Command::new("pdftoppm").arg("-v").output().is_err() {
        eprintln!("skipped: pdftoppm not installed (apt-get install poppler-utils)");
        return None;
    }
    let dir = scratch_dir();
    let file = dir.join("sheet.pdf");
    std::fs::write(&file, pdf).expect("write the sheet");
    let status = Command::new("pdftoppm")
        .args(["-r", "150", "-gray"])
        .arg(&file)
        .arg(dir.join("page"))
        .status()
        .expect("run pdftoppm");
    assert!(status.success(), "pdftoppm failed");
    let mut pages: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("read the scratch directory")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "pgm"))
        .collect();
    pages.sort();
    let scanned = pages
        .iter()
        .map(|page| {
            let bytes = std::fs::read(page).expect("read a rendered page");
            let (width, height, pixels) = read_pgm(&bytes);
            // One plate per cell: rqrr reads one code at a time far more
            // reliably than eight codes and their text at once.
            let (cell_width, cell_height) = (width / 2, height / 4);
            (0..8)
                .flat_map(|cell| {
                    let (left, top) = ((cell % 2) * cell_width, (cell / 2) * cell_height);
                    decode_grey(cell_width, cell_height, |x, y| {
                        pixels[(top + y) * width + left + x]
                    })
                })
                .collect()
        })
        .collect();
    let _ = std::fs::remove_dir_all(dir);
    Some(scanned)
}

fn scratch_dir() -> PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "fengqiao-plate-scan-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("create a scratch directory");
    dir
}

/// A binary greyscale PGM as `pdftoppm -gray` writes it.
fn read_pgm(bytes: &[u8]) -> (usize, usize, &[u8]) {
    let mut fields = Vec::new();
    let mut at = 0;
    while fields.len() < 4 {
        while bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        let start = at;
        while !bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        fields.push(String::from_utf8_lossy(&bytes[start..at]).into_owned());
    }
    assert_eq!(fields[0], "P5", "a binary greyscale PGM");
    let (width, height) = (
        fields[1].parse().expect("width"),
        fields[2].parse().expect("height"),
    );
    (width, height, &bytes[at + 1..])
}
