//! Every code on every output must scan to its plate's report URL: decoded
//! with rqrr from the PNG, from the SVG path, from the PDF content streams
//! and, when poppler-utils is installed, from the PDF as a printer renders it.

use std::path::PathBuf;
use std::process::Command;

use fengqiao_plates::scan::{decode_grey, scan_sheet};
use fengqiao_plates::{
    find_system_cjk_font, plate_png, plate_svg, plates_pdf, Plate, PlateError,
    DEBIAN_CJK_FONT_PATHS, PLATE_HEADING,
};

const COMPOUNDS: [&str; 5] = [
    "锦里小区",
    "浆洗街社区",
    "玉林北路12号院",
    "桐梓林花园",
    "龙港镇泰和小区",
];
const STREETS: [&str; 3] = [
    "成都市武侯区浆洗街街道",
    "成都市武侯区玉林街道",
    "成都市锦江区春熙路街道",
];

fn sample_plates(count: usize) -> Vec<Plate> {
    (0..count)
        .map(|i| {
            let code = format!("510107{:08X}", 0x3A5F_0000_u32 + i as u32 * 7919);
            Plate {
                address: format!(
                    "{} {} {}栋",
                    STREETS[i % STREETS.len()],
                    COMPOUNDS[i % COMPOUNDS.len()],
                    i + 1
                ),
                url: format!("https://fengqiao.example.cn/report/{code}"),
                code,
            }
        })
        .collect()
}

/// Decodes a code given as dark module rectangles (x, y, width, height) in
/// module units, the quiet zone included in the coordinates.
fn decode_modules(rects: &[[f32; 4]]) -> Vec<String> {
    const PIXELS: usize = 4;
    let side = rects
        .iter()
        .map(|r| (r[0] + r[2]).max(r[1] + r[3]))
        .fold(0.0_f32, f32::max) as usize
        + 4;
    let mut dark = vec![false; side * side];
    for r in rects {
        for y in r[1] as usize..(r[1] + r[3]) as usize {
            for x in r[0] as usize..(r[0] + r[2]) as usize {
                dark[y * side + x] = true;
            }
        }
    }
    let pixels = side * PIXELS;
    decode_grey(pixels, pixels, |x, y| {
        if dark[(y / PIXELS) * side + x / PIXELS] {
            0
        } else {
            255
        }
    })
}

#[test]
fn the_png_decodes_to_the_plate_url() {
    for plate in sample_plates(3) {
        let png = plate_png(&plate, 6).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(&png));
        let mut reader = decoder.read_info().unwrap();
        let mut buffer = vec![0; reader.output_buffer_size().unwrap()];
        let frame = reader.next_frame(&mut buffer).unwrap();
        assert_eq!(frame.bit_depth, png::BitDepth::One);
        let (width, height) = (frame.width as usize, frame.height as usize);
        let row_bytes = frame.line_size;
        let decoded = decode_grey(width, height, |x, y| {
            if buffer[y * row_bytes + x / 8] & (0x80 >> (x % 8)) != 0 {
                255
            } else {
                0
            }
        });
        assert_eq!(decoded, [plate.url.as_str()]);
    }
}

#[test]
fn png_scale_zero_is_one_pixel_per_module() {
    let plate = &sample_plates(1)[0];
    assert_eq!(plate_png(plate, 0).unwrap(), plate_png(plate, 1).unwrap());
}

#[test]
fn the_svg_shows_the_plate_and_its_path_decodes() {
    let mut plate = sample_plates(1).remove(0);
    plate.address.push_str(" <东门> & \"侧门\"");
    let svg = plate_svg(&plate).unwrap();
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(svg.ends_with("</svg>"));
    assert!(svg.contains(PLATE_HEADING));
    assert!(svg.contains(&plate.code));
    assert!(svg.contains("&lt;东门&gt; &amp; &quot;侧门&quot;"));
    assert!(!svg.contains("<东门>"));

    // The path is a run of "M{x} {y}h{run}v1h-{run}z" in module units.
    let path = svg
        .split("<path fill=\"#000\" d=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap();
    let rects: Vec<[f32; 4]> = path
        .split('M')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (x, rest) = part.split_once(' ').unwrap();
            let (y, rest) = rest.split_once('h').unwrap();
            let run = rest.split('v').next().unwrap();
            [
                x.parse().unwrap(),
                y.parse().unwrap(),
                run.parse().unwrap(),
                1.0,
            ]
        })
        .collect();
    assert_eq!(decode_modules(&rects), [plate.url.as_str()]);
}

/// The inflated content streams of a PDF written by this crate, in file
/// order (which is page order).
fn content_streams(pdf: &[u8]) -> Vec<String> {
    let mut streams = Vec::new();
    let mut rest = pdf;
    while let Some(start) = find(rest, b"stream\n") {
        let body = &rest[start + 7..];
        let Some(end) = find(body, b"\nendstream") else {
            break;
        };
        if let Ok(inflated) = miniz_oxide::inflate::decompress_to_vec_zlib(&body[..end]) {
            if let Ok(text) = String::from_utf8(inflated) {
                streams.push(text);
            }
        }
        rest = &body[end + b"\nendstream".len()..];
    }
    streams
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Reads back each marked QR code from the content stream: the `cm` that
/// places it and the `re` rectangles of its dark modules.
fn qr_codes_in_pdf(pdf: &[u8]) -> Vec<(Vec<[f32; 4]>, [f32; 6])> {
    let mut codes = Vec::new();
    for stream in content_streams(pdf) {
        for block in stream.split("/PlateQR BMC").skip(1) {
            let block = block.split("EMC").next().unwrap();
            let mut numbers = Vec::new();
            let mut rects = Vec::new();
            let mut matrix = [0.0; 6];
            for token in block.split_whitespace() {
                match token {
                    "re" => {
                        let n = numbers.len();
                        rects.push([
                            numbers[n - 4],
                            numbers[n - 3],
                            numbers[n - 2],
                            numbers[n - 1],
                        ]);
                        numbers.clear();
                    }
                    "cm" => {
                        matrix.copy_from_slice(&numbers[numbers.len() - 6..]);
                        numbers.clear();
                    }
                    other => match other.parse::<f32>() {
                        Ok(number) => numbers.push(number),
                        Err(_) => numbers.clear(),
                    },
                }
            }
            codes.push((rects, matrix));
        }
    }
    codes
}

fn page_count(pdf: &[u8]) -> usize {
    pdf.windows(11)
        .enumerate()
        .filter(|(i, w)| *w == b"/Type /Page" && pdf.get(i + 11) != Some(&b's'))
        .count()
}

#[test]
fn without_a_font_the_sheet_still_prints_code_and_url_and_every_code_reads_back() {
    let plates = sample_plates(11);
    let pdf = plates_pdf(&plates, None).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    assert_eq!(page_count(&pdf), 2);

    let codes = qr_codes_in_pdf(&pdf);
    assert_eq!(codes.len(), plates.len());
    for ((rects, matrix), plate) in codes.iter().zip(&plates) {
        assert_eq!(decode_modules(rects), [plate.url.as_str()]);
        let (module, left, top) = (matrix[0], matrix[4], matrix[5]);
        assert!(module > 2.0, "a module of {module} pt is too small to scan");
        assert!((0.0..595.0).contains(&left) && (0.0..842.0).contains(&top));
    }
    let text = content_streams(&pdf).concat();
    for plate in &plates {
        assert!(text.contains(&plate.code), "code {} missing", plate.code);
    }
    // The URL is wrapped, so look for its start and its code part.
    assert!(text.contains("(https://fengqiao.exampl"));
}

fn installed_fonts() -> Vec<(PathBuf, Vec<u8>)> {
    let fonts: Vec<_> = DEBIAN_CJK_FONT_PATHS
        .iter()
        .map(PathBuf::from)
        .filter_map(|path| std::fs::read(&path).ok().map(|bytes| (path, bytes)))
        .collect();
    if fonts.is_empty() {
        eprintln!("skipped: no CJK font installed (apt-get install fonts-noto-cjk or fonts-droid-fallback)");
    }
    fonts
}

fn tool(name: &str) -> bool {
    let found = Command::new(name).arg("-v").output().is_ok();
    if !found {
        eprintln!("skipped: {name} not installed (apt-get install poppler-utils)");
    }
    found
}

fn scratch_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fengqiao-plates-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn with_each_installed_cjk_font_the_sheet_embeds_a_small_subset_and_carries_the_addresses() {
    let plates = sample_plates(8);
    for (path, font) in installed_fonts() {
        let pdf = plates_pdf(&plates, Some(&font)).unwrap();
        eprintln!("{}: 8 plates, {} bytes", path.display(), pdf.len());
        assert!(pdf.starts_with(b"%PDF-"));
        assert_eq!(page_count(&pdf), 1);
        assert!(
            pdf.len() < 200_000,
            "{} bytes with {}",
            pdf.len(),
            path.display()
        );
        let codes = qr_codes_in_pdf(&pdf);
        assert_eq!(codes.len(), 8);
        for ((rects, _), plate) in codes.iter().zip(&plates) {
            assert_eq!(decode_modules(rects), [plate.url.as_str()]);
        }

        if !tool("pdftotext") {
            continue;
        }
        let dir = scratch_dir("text");
        let file = dir.join("sheet.pdf");
        std::fs::write(&file, &pdf).unwrap();
        let output = Command::new("pdftotext")
            .arg(&file)
            .arg("-")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let text: String = String::from_utf8(output.stdout)
            .unwrap()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let squeeze = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
        // The separator dot is left out where a font lacks it.
        for part in PLATE_HEADING.split(" · ") {
            assert!(text.contains(part), "{}: {text}", path.display());
        }
        for plate in &plates {
            assert!(
                text.contains(&squeeze(&plate.address)),
                "{}: {} not in {text}",
                path.display(),
                plate.address
            );
            assert!(text.contains(&plate.code));
        }
        std::fs::remove_dir_all(dir).unwrap();
    }
}

/// The test the issue asks for: print the sheet as a printer would (poppler
/// at 150 dpi) and scan every code on every page.
#[test]
fn every_code_on_the_rendered_sheet_scans_to_its_building() {
    let plates = sample_plates(10);
    let font = find_system_cjk_font().map(|path| std::fs::read(path).unwrap());
    if font.is_none() {
        eprintln!("no CJK font installed: rendering the sheet without addresses");
    }
    let pdf = plates_pdf(&plates, font.as_deref()).unwrap();
    let Some(pages) = scan_sheet(&pdf) else {
        return;
    };
    assert_eq!(pages.len(), 2);
    for (mut decoded, expected) in pages.into_iter().zip(plates.chunks(8)) {
        let mut want: Vec<String> = expected.iter().map(|plate| plate.url.clone()).collect();
        decoded.sort();
        want.sort();
        assert_eq!(decoded, want);
    }
}

#[test]
fn a_hundred_plates_make_thirteen_pages_of_modest_size() {
    let plates = sample_plates(100);
    let font = find_system_cjk_font().map(|path| std::fs::read(path).unwrap());
    let pdf = plates_pdf(&plates, font.as_deref()).unwrap();
    eprintln!("100 plates (font: {}): {} bytes", font.is_some(), pdf.len());
    assert_eq!(page_count(&pdf), 13);
    assert!(pdf.len() < 600_000, "{} bytes", pdf.len());
    assert_eq!(qr_codes_in_pdf(&pdf).len(), 100);
}

#[test]
fn bad_input_is_refused_with_a_reason() {
    assert!(matches!(plates_pdf(&[], None), Err(PlateError::NoPlates)));

    let mut plate = sample_plates(1).remove(0);
    plate.url = format!("https://fengqiao.example.cn/report/{}", "x".repeat(200));
    assert!(matches!(
        plate_svg(&plate),
        Err(PlateError::UrlTooLong { .. })
    ));
    assert!(matches!(
        plate_png(&plate, 4),
        Err(PlateError::UrlTooLong { .. })
    ));
    assert!(matches!(
        plates_pdf(&[plate], None),
        Err(PlateError::UrlTooLong { .. })
    ));

    let plates = sample_plates(1);
    assert!(matches!(
        plates_pdf(&plates, Some(b"not a font")),
        Err(PlateError::FontUnreadable(_))
    ));
    let latin_only = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
    match std::fs::read(latin_only) {
        Ok(font) => assert!(matches!(
            plates_pdf(&plates, Some(&font)),
            Err(PlateError::FontUnreadable(_))
        )),
        Err(_) => eprintln!("skipped the Latin-only font case: {latin_only} not installed (apt-get install fonts-dejavu-core)"),
    }
}
