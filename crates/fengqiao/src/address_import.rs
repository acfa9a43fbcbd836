//! `fengqiao address import`: CSV or JSON lines into the registry, streamed
//! in batches (ten million rows never sit in memory), idempotent (a re-run
//! updates, never duplicates), with every rejected row reported by line
//! number and reason while the good rows are kept.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;

use anyhow::Context;
use fengqiao_address::registry::{AddressRecord, RawAddressRecord};
use fengqiao_core::audit::{Actor, AuditAction, AuditEvent};
use fengqiao_core::error::{FieldError, Reason};
use fengqiao_core::{Clock, SystemClock};
use fengqiao_server::i18n::Lang;
use fengqiao_store::Store;
use indicatif::{ProgressBar, ProgressStyle};

/// Rows per transaction: large enough to amortise the commit, small enough
/// that a crash loses at most one uncommitted batch (which a re-run redoes).
const BATCH: usize = 1_000;

pub const COLUMNS: [&str; 12] = [
    "community_code",
    "grid_code",
    "compound",
    "road",
    "road_number",
    "building",
    "unit",
    "floor",
    "room",
    "lat",
    "lon",
    "compound_aliases",
];

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportReport {
    pub imported: u64,
    pub rejected: u64,
}

/// One input row: its line number and its fields, or why it could not be read.
pub type Row = (u64, Result<RawAddressRecord, FieldError>);

fn raw_from(mut field: impl FnMut(&str) -> String) -> RawAddressRecord {
    RawAddressRecord {
        community_code: field("community_code"),
        grid_code: field("grid_code"),
        compound: field("compound"),
        road: field("road"),
        road_number: field("road_number"),
        building: field("building"),
        unit: field("unit"),
        floor: field("floor"),
        room: field("room"),
        lat: field("lat"),
        lon: field("lon"),
        compound_aliases: field("compound_aliases"),
    }
}

/// Rows of a CSV file with a header naming (some of) [`COLUMNS`].
pub fn csv_rows(reader: impl Read) -> anyhow::Result<impl Iterator<Item = Row>> {
    let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
    let header = csv
        .headers()
        .context("the CSV file has no header line")?
        .clone();
    let index: HashMap<String, usize> = header
        .iter()
        .enumerate()
        .map(|(i, name)| (name.trim().trim_start_matches('\u{feff}').to_owned(), i))
        .collect();
    if !index.contains_key("community_code") || !index.contains_key("building") {
        anyhow::bail!(
            "CSV 表头须包含 community_code 和 building / the header must name community_code and building (columns: {})",
            COLUMNS.join(",")
        );
    }
    Ok(csv.into_records().map(move |record| match record {
        Ok(record) => {
            let line = record.position().map_or(0, |p| p.line());
            let raw = raw_from(|name| {
                index
                    .get(name)
                    .and_then(|&i| record.get(i))
                    .unwrap_or("")
                    .to_owned()
            });
            (line, Ok(raw))
        }
        Err(err) => {
            let line = err.position().map_or(0, |p| p.line());
            (
                line,
                Err(FieldError::new(
                    "line",
                    Reason::InvalidFormat { expected: "csv" },
                )),
            )
        }
    }))
}

/// Rows of a JSON-lines file: one object per line with keys from [`COLUMNS`]
/// (strings or numbers).
pub fn jsonl_rows(reader: impl BufRead) -> impl Iterator<Item = Row> {
    reader
        .lines()
        .enumerate()
        .filter(|(_, line)| line.as_ref().map_or(true, |l| !l.trim().is_empty()))
        .map(|(i, line)| {
            let line_no = i as u64 + 1;
            let parsed = line.ok().and_then(|text| {
                serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&text).ok()
            });
            match parsed {
                Some(object) => {
                    let raw = raw_from(|name| match object.get(name) {
                        Some(serde_json::Value::String(s)) => s.clone(),
                        Some(serde_json::Value::Number(n)) => n.to_string(),
                        _ => String::new(),
                    });
                    (line_no, Ok(raw))
                }
                None => (
                    line_no,
                    Err(FieldError::new(
                        "line",
                        Reason::InvalidFormat { expected: "json" },
                    )),
                ),
            }
        })
}

/// Imports `rows`, committing every [`BATCH`] rows with one audit entry per
/// batch, and writes each rejected row to `rejected`.
pub async fn import(
    store: &Store,
    rows: impl Iterator<Item = Row>,
    mut rejected: impl Write,
    progress: &ProgressBar,
    source: &str,
    clock: &dyn Clock,
) -> anyhow::Result<ImportReport> {
    let mut report = ImportReport::default();
    let mut grids: HashMap<String, i64> = HashMap::new();
    let mut batch: Vec<(u64, AddressRecord)> = Vec::with_capacity(BATCH);
    let mut rows = rows.peekable();
    while rows.peek().is_some() {
        batch.clear();
        for (line, row) in rows.by_ref() {
            match row
                .map_err(|e| vec![e])
                .and_then(|raw| AddressRecord::parse(&raw))
            {
                Ok(record) => batch.push((line, record)),
                Err(errors) => {
                    report.rejected += 1;
                    let reasons: Vec<String> = errors
                        .iter()
                        .map(|e| format!("{}：{}", e.field, Lang::Zh.reason(&e.reason)))
                        .collect();
                    writeln!(
                        rejected,
                        "第 {line} 行 / line {line}: {}",
                        reasons.join("；")
                    )?;
                }
            }
            if batch.len() == BATCH {
                break;
            }
        }
        if batch.is_empty() {
            continue;
        }
        let now = clock.now();
        let mut tx = store.begin().await?;
        let mut upserts = Vec::with_capacity(batch.len());
        for (_, record) in &batch {
            let grid_id = match &record.grid_code {
                Some(code) => Some(match grids.get(code.as_str()) {
                    Some(&id) => id,
                    None => {
                        let id = tx.upsert_grid(code, now).await?;
                        grids.insert(code.as_str().to_owned(), id);
                        id
                    }
                }),
                None => None,
            };
            upserts.push((record, grid_id));
        }
        tx.upsert_addresses(&upserts, now).await?;
        let (first, last) = (batch[0].0, batch[batch.len() - 1].0);
        let event = AuditEvent::new(Actor::System, AuditAction::Update, "address_import")
            .source("cli")
            .detail(format!(
                "{source}: lines {first}-{last}, {} rows",
                batch.len()
            ));
        tx.append_audit(&event, now).await?;
        tx.commit().await?;
        report.imported += batch.len() as u64;
        progress.set_message(format!("{} 条已导入", report.imported));
    }
    Ok(report)
}

/// A progress bar over the bytes of the input file, hidden when stderr is
/// not a terminal.
pub fn file_progress(total_bytes: u64) -> ProgressBar {
    let bar = ProgressBar::new(total_bytes);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {msg} ({eta})")
            .expect("valid template"),
    );
    bar
}

pub async fn import_file(
    store: &Store,
    path: &Path,
) -> anyhow::Result<(ImportReport, std::path::PathBuf)> {
    let file =
        File::open(path).with_context(|| format!("无法打开 / cannot open {}", path.display()))?;
    let size = file.metadata()?.len();
    let progress = file_progress(size);
    let reader = BufReader::new(progress.wrap_read(file));
    let report_path = path.with_extension("rejected.txt");
    let rejected = std::io::BufWriter::new(
        File::create(&report_path)
            .with_context(|| format!("cannot write {}", report_path.display()))?,
    );
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let is_csv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let report = if is_csv {
        import(
            store,
            csv_rows(reader)?,
            rejected,
            &progress,
            &name,
            &SystemClock,
        )
        .await?
    } else {
        import(
            store,
            jsonl_rows(reader),
            rejected,
            &progress,
            &name,
            &SystemClock,
        )
        .await?
    };
    progress.finish_and_clear();
    Ok((report, report_path))
}

/// `fengqiao address import FILE`.
pub async fn run(
    settings: &crate::config::Settings,
    file: &Path,
) -> anyhow::Result<std::process::ExitCode> {
    let store = crate::serve::open_store(settings).await?;
    let started = std::time::Instant::now();
    let (report, rejected_path) = import_file(&store, file).await?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "导入完成 / imported: {} 行成功，{} 行被拒 / {} rows imported, {} rejected ({:.1} s, {:.0} rows/s)",
        report.imported,
        report.rejected,
        report.imported,
        report.rejected,
        seconds,
        report.imported as f64 / seconds.max(1e-9)
    );
    if report.rejected > 0 {
        println!(
            "被拒行及原因见 / rejected rows and reasons: {}",
            rejected_path.display()
        );
    } else {
        let _ = std::fs::remove_file(&rejected_path);
    }
    Ok(std::process::ExitCode::SUCCESS)
}

/// Lines `address resolve` reads before resolving them together.
const RESOLVE_CHUNK: usize = 4_096;

/// `fengqiao address resolve`: stdin lines → JSON lines, in order, at the
/// resolver's speed. Stdin is read as a stream, a chunk of lines at a time;
/// each chunk is resolved and written as JSON on every core (the resolver
/// is pure), and a thread of its own writes one chunk's answers while the
/// next is resolved. The registry is asked only about divisions it holds
/// buildings in, learnt once per division for the run, so a registry of
/// one county is not searched for the addresses of every other; an answer
/// it matches is written again with the building.
pub async fn resolve_stdin(
    settings: &crate::config::Settings,
) -> anyhow::Result<std::process::ExitCode> {
    use fengqiao_server::services::addresses;
    let store = crate::serve::open_store(settings).await?;
    let cipher = crate::serve::cipher(settings)?;
    addresses::load_villages(&store).await?;
    let resolver = addresses::resolver();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut registry = RegistryDivisions::default();
    let (chunks, written) = std::sync::mpsc::sync_channel::<Vec<u8>>(2 * threads);
    let writer = std::thread::spawn(move || -> std::io::Result<()> {
        let mut out = std::io::stdout().lock();
        for chunk in written {
            out.write_all(&chunk)?;
        }
        out.flush()
    });
    let mut stdin = std::io::stdin().lock();
    let mut lines: Vec<String> = Vec::with_capacity(RESOLVE_CHUNK);
    'read: loop {
        lines.clear();
        let mut line = String::new();
        while lines.len() < RESOLVE_CHUNK && stdin.read_line(&mut line)? > 0 {
            lines.push(std::mem::take(&mut line));
        }
        if lines.is_empty() {
            break;
        }
        for part in resolve_all(resolver, &lines, threads) {
            let mut held = Vec::with_capacity(part.prefixes.len());
            for prefix in &part.prefixes {
                held.push(registry.holds(&store, prefix).await?);
            }
            let out = if held.contains(&true) {
                let mut out = Vec::with_capacity(part.json.len());
                for ((line, range), prefix) in
                    part.lines.iter().zip(&part.ranges).zip(&part.prefix_of)
                {
                    if held[*prefix as usize] {
                        let text = line.trim();
                        let matched = addresses::match_in_registry(
                            &store,
                            &cipher,
                            text,
                            resolver.resolve(text),
                            |_| true,
                        )
                        .await
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                        serde_json::to_writer(&mut out, &matched)?;
                        out.push(b'\n');
                    } else {
                        out.extend_from_slice(&part.json[range.clone()]);
                    }
                }
                out
            } else {
                part.json
            };
            if chunks.send(out).is_err() {
                break 'read; // the writer stopped: its error is below
            }
        }
    }
    drop(chunks);
    writer
        .join()
        .map_err(|_| anyhow::anyhow!("the output thread panicked"))??;
    Ok(std::process::ExitCode::SUCCESS)
}

/// One share of a chunk, resolved and written as JSON lines without a
/// registry match: each line's range of `json` and the registry division
/// its address falls in, an index into the share's distinct `prefixes`.
struct ResolvedPart<'a> {
    lines: &'a [String],
    json: Vec<u8>,
    ranges: Vec<std::ops::Range<usize>>,
    prefixes: Vec<String>,
    prefix_of: Vec<u32>,
}

/// Each line resolved and written, in order, the lines shared among
/// `threads`.
fn resolve_all<'a>(
    resolver: &fengqiao_address::Resolver,
    lines: &'a [String],
    threads: usize,
) -> Vec<ResolvedPart<'a>> {
    use fengqiao_server::services::addresses::{registry_query, Resolution};
    let share = lines.len().div_ceil(threads.max(1)).max(1);
    std::thread::scope(|scope| {
        let parts: Vec<_> = lines
            .chunks(share)
            .map(|lines| {
                scope.spawn(move || {
                    let mut part = ResolvedPart {
                        lines,
                        json: Vec::with_capacity(lines.len() * 600),
                        ranges: Vec::with_capacity(lines.len()),
                        prefixes: Vec::new(),
                        prefix_of: Vec::with_capacity(lines.len()),
                    };
                    let mut seen: HashMap<String, u32> = HashMap::new();
                    for line in lines {
                        let text = line.trim();
                        let resolution = Resolution {
                            input: text.to_owned(),
                            address: resolver.resolve(text),
                            registry: None,
                        };
                        let prefix = registry_query(&resolution.address).division_prefix;
                        let index = match seen.get(&prefix) {
                            Some(&index) => index,
                            None => {
                                let index = part.prefixes.len() as u32;
                                seen.insert(prefix.clone(), index);
                                part.prefixes.push(prefix);
                                index
                            }
                        };
                        part.prefix_of.push(index);
                        let start = part.json.len();
                        serde_json::to_writer(&mut part.json, &resolution)
                            .expect("a resolution is always JSON");
                        part.json.push(b'\n');
                        part.ranges.push(start..part.json.len());
                    }
                    part
                })
            })
            .collect();
        parts
            .into_iter()
            .map(|part| part.join().expect("resolving does not panic"))
            .collect()
    })
}

/// Whether the registry has any building under a division prefix, asked
/// once per prefix for the run, from the province down: a registry without
/// a building in a province is not asked about its counties.
#[derive(Default)]
struct RegistryDivisions {
    known: HashMap<String, bool>,
}

impl RegistryDivisions {
    async fn holds(&mut self, store: &Store, division_prefix: &str) -> anyhow::Result<bool> {
        // "" (the whole registry), province, city, county, then the prefix.
        for level in [0, 2, 4, 6] {
            if let Some(ancestor) = division_prefix.get(..level) {
                if level < division_prefix.len() && !self.holds_exactly(store, ancestor).await? {
                    return Ok(false);
                }
            }
        }
        self.holds_exactly(store, division_prefix).await
    }

    async fn holds_exactly(&mut self, store: &Store, prefix: &str) -> anyhow::Result<bool> {
        if let Some(&holds) = self.known.get(prefix) {
            return Ok(holds);
        }
        let holds = !store.buildings_under(prefix, 0, 1).await?.is_empty();
        self.known.insert(prefix.to_owned(), holds);
        Ok(holds)
    }
}

/// Synthetic rows for the import benchmark: rooms of buildings of compounds
/// spread over the communities of 成都市武侯区's streets, as an import file
/// would list them.
pub fn synthetic_rows(count: u64) -> impl Iterator<Item = Row> {
    const STREETS: [&str; 13] = [
        "001", "002", "003", "004", "005", "006", "007", "008", "009", "010", "011", "012", "013",
    ];
    const NAMES: [&str; 12] = [
        "锦", "华", "桐", "玉", "望", "江", "新", "龙", "祥", "和", "福", "安",
    ];
    const KINDS: [&str; 5] = ["花园", "苑", "小区", "新村", "家园"];
    (0..count).map(|n| {
        // 6 units × 30 rooms per building, 20 buildings per compound.
        let room_index = n % 180;
        let building = (n / 180) % 20 + 1;
        let compound = n / 3_600;
        let street = STREETS[(compound % 13) as usize];
        let community = format!("510107{street}{:03}", compound / 13 % 40 + 1);
        let name = format!(
            "{}{}{}",
            NAMES[(compound % 12) as usize],
            NAMES[(compound / 12 % 12) as usize],
            KINDS[(compound / 144 % 5) as usize]
        );
        let compound_name = format!("{name}{}期", compound / 720 + 1);
        let floor = room_index % 30 / 2 + 1;
        let raw = RawAddressRecord {
            grid_code: format!("{community}{:03}", building % 4 + 1),
            community_code: community,
            compound: compound_name,
            building: format!("{building}栋"),
            unit: format!("{}单元", room_index / 30 + 1),
            floor: floor.to_string(),
            room: format!("{floor}{:02}", room_index % 2 + 1),
            lat: format!("{:.6}", 30.60 + (compound % 100) as f64 * 0.0005),
            lon: format!("{:.6}", 104.02 + (compound / 100 % 100) as f64 * 0.0005),
            ..Default::default()
        };
        (n + 2, Ok(raw))
    })
}

/// `fengqiao bench import`: synthetic rows through the real import path into
/// a fresh SQLite database with the production durability settings.
pub async fn bench(rows: u64) -> anyhow::Result<std::process::ExitCode> {
    let dir = std::env::temp_dir().join(format!("fengqiao-bench-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let url = format!("sqlite://{}", dir.join("bench.db").display());
    let store = Store::connect(&url).await?;
    store.migrate().await?;
    let progress = ProgressBar::new(rows);
    progress.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} rows ({per_sec}, {eta})")
            .expect("valid template"),
    );
    let counted = synthetic_rows(rows).inspect(|_| progress.inc(1));
    let started = std::time::Instant::now();
    let report = import(
        &store,
        counted,
        std::io::sink(),
        &ProgressBar::hidden(),
        "bench",
        &SystemClock,
    )
    .await?;
    let seconds = started.elapsed().as_secs_f64();
    progress.finish_and_clear();
    store.close().await;
    let size: u64 = std::fs::read_dir(&dir)?
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum();
    std::fs::remove_dir_all(&dir)?;
    println!("address import into SQLite (WAL, synchronous=FULL, {BATCH} rows per transaction)");
    println!("  rows imported       {:>12}", report.imported);
    println!("  seconds             {seconds:>12.1}");
    println!(
        "  rows per second     {:>12.0}",
        report.imported as f64 / seconds
    );
    println!(
        "  database size       {:>9.1} MB ({:.0} bytes per row)",
        size as f64 / 1e6,
        size as f64 / report.imported.max(1) as f64
    );
    Ok(std::process::ExitCode::SUCCESS)
}

/// `fengqiao address load-villages FILE`: every village and community of the
/// file, checked against the embedded townships, upserted in batches.
pub async fn load_villages(
    settings: &crate::config::Settings,
    file: &Path,
) -> anyhow::Result<std::process::ExitCode> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("无法读取 / cannot read {}", file.display()))?;
    let villages =
        fengqiao_address::parse_villages(&text).with_context(|| format!("{}", file.display()))?;
    // Checks every township exists before anything is written.
    fengqiao_address::DivisionTable::embedded()
        .add_villages(villages.clone())
        .with_context(|| format!("{}", file.display()))?;
    let store = crate::serve::open_store(settings).await?;
    let progress = ProgressBar::new(villages.len() as u64);
    for chunk in villages.chunks(5_000) {
        let now = SystemClock.now();
        let mut tx = store.begin().await?;
        for village in chunk {
            tx.upsert_community(
                &village.code.to_string(),
                &village.township_code.to_string(),
                &village.name,
            )
            .await?;
        }
        let event = AuditEvent::new(Actor::System, AuditAction::Update, "communities")
            .source("cli")
            .detail(format!("{} rows", chunk.len()));
        tx.append_audit(&event, now).await?;
        tx.commit().await?;
        progress.inc(chunk.len() as u64);
    }
    progress.finish_and_clear();
    println!(
        "已载入村（社区）/ villages and communities loaded: {}",
        villages.len()
    );
    Ok(std::process::ExitCode::SUCCESS)
}

/// `fengqiao qr --community CODE --out FILE`: every building's plate under
/// the division, eight to an A4 page.
pub async fn print_plates(
    settings: &crate::config::Settings,
    division: &str,
    out: &Path,
    font: Option<&Path>,
) -> anyhow::Result<std::process::ExitCode> {
    let division = fengqiao_core::org::DivisionCode::parse(division).map_err(|_| {
        anyhow::anyhow!(
            "--community 应为 6、9 或 12 位行政区划代码 / must be a 6, 9 or 12-digit division code"
        )
    })?;
    let store = crate::serve::open_store(settings).await?;
    fengqiao_server::services::addresses::load_villages(&store).await?;
    let public_url = settings.public_url();
    let mut plates = Vec::new();
    let mut after = 0;
    loop {
        let page = store
            .buildings_under(division.significant(), after, 1_000)
            .await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        plates.extend(
            page.iter()
                .map(|b| fengqiao_server::services::addresses::plate(b, &public_url)),
        );
    }
    if plates.is_empty() {
        anyhow::bail!(
            "{} 下没有登记楼栋 / no buildings registered under {}",
            division.as_str(),
            division.as_str()
        );
    }
    let font_path = font
        .map(Path::to_path_buf)
        .or_else(fengqiao_plates::find_system_cjk_font);
    let font_bytes = match &font_path {
        Some(path) => Some(
            std::fs::read(path)
                .with_context(|| format!("cannot read the font {}", path.display()))?,
        ),
        None => {
            eprintln!("未找到中文字体，门牌只印编码和网址 / no CJK font found: plates carry code and URL only (apt-get install fonts-noto-cjk, or --font)");
            None
        }
    };
    let pdf = fengqiao_plates::plates_pdf(&plates, font_bytes.as_deref())?;
    std::fs::write(out, &pdf).with_context(|| format!("cannot write {}", out.display()))?;
    println!(
        "已生成 {} 块门牌，共 {} 页 / {} plates on {} pages: {}",
        plates.len(),
        plates.len().div_ceil(8),
        plates.len(),
        plates.len().div_ceil(8),
        out.display()
    );
    Ok(std::process::ExitCode::SUCCESS)
}
