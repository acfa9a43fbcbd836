//! The binary as an operator runs it: first administrator, audit
//! verification (exit code and the entry it names), configuration sources;
//! and the server killed while it takes incidents in (`crash`).

mod crash;

use std::process::{Command, Output};

use fengqiao_store::testing::TestDatabase;
use fengqiao_store::{backend_tests, Backend};

fn fengqiao(data_dir: &std::path::Path, database_url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fengqiao"))
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--database-url")
        .arg(database_url)
        .env_remove("FENGQIAO_DATABASE_URL")
        .output()
        .expect("run fengqiao")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

backend_tests! {
    async fn the_first_administrator_and_a_tampered_audit_log(db: TestDatabase) {
        let data = tempfile::tempdir().unwrap();
        let url = db.url.clone();
        let run = |args: &'static [&'static str]| {
            let (dir, url) = (data.path().to_owned(), url.clone());
            async move { tokio::task::spawn_blocking(move || fengqiao(&dir, &url, args)).await.unwrap() }
        };

        let added = run(&["user", "add", "--username", "first.admin", "--admin", "--org-name", "成都市公安局"]).await;
        assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
        let text = stdout(&added);
        assert!(text.contains("成都市公安局"), "{text}");
        assert!(text.contains("first.admin"), "{text}");
        let password_line = text.lines().find(|l| l.contains("password (shown once)")).unwrap();
        assert!(password_line.rsplit(": ").next().unwrap().len() >= 16);

        let again = run(&["user", "add", "--username", "first.admin", "--admin"]).await;
        assert!(!again.status.success());
        assert!(String::from_utf8_lossy(&again.stderr).contains("username"), "the refusal names the field");

        let listed = stdout(&run(&["user", "list"]).await);
        assert!(listed.contains("first.admin") && listed.contains("administrator"), "{listed}");

        let verified = run(&["audit", "verify"]).await;
        assert!(verified.status.success(), "{}", stdout(&verified));
        assert!(stdout(&verified).contains("2 entries verified"), "{}", stdout(&verified));

        let drop_guard = match db.store.backend() {
            Backend::Sqlite => "DROP TRIGGER audit_log_no_delete",
            Backend::Postgres => "DROP TRIGGER audit_log_append_only ON audit_log",
        };
        db.store.execute_raw_for_tests(drop_guard).await.unwrap();
        db.store.execute_raw_for_tests("DELETE FROM audit_log WHERE seq = 1").await.unwrap();
        let broken = run(&["audit", "verify"]).await;
        assert_eq!(broken.status.code(), Some(2), "{}", stdout(&broken));
        assert!(stdout(&broken).contains("entry 1"), "{}", stdout(&broken));
    }
}

#[test]
fn config_show_names_each_source_and_hides_secrets() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("fengqiao.toml"),
        "bind = \"127.0.0.1:9999\"\n",
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_fengqiao"))
        .current_dir(dir.path())
        .args(["config", "show", "--data-dir", "/srv/fengqiao"])
        .env("FENGQIAO_PERSONAL_DATA_KEY", "ab".repeat(32))
        .env(
            "FENGQIAO_DATABASE_URL",
            "postgres://fq:s3cret@db.internal/fq",
        )
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = stdout(&output);
    let line = |key: &str| {
        text.lines()
            .find(|l| l.starts_with(key))
            .unwrap()
            .to_owned()
    };
    assert!(
        line("bind").contains("127.0.0.1:9999") && line("bind").contains("TOML"),
        "{text}"
    );
    assert!(line("data_dir").contains("command-line flag"), "{text}");
    assert!(line("personal_data_key").contains("<redacted>"), "{text}");
    assert!(
        line("database_url").contains("fq:<redacted>@db.internal"),
        "{text}"
    );
    assert!(line("session_idle_minutes").contains("default"), "{text}");
    assert!(!text.contains("abab") && !text.contains("s3cret"), "{text}");
}

#[test]
fn address_import_is_idempotent_and_reports_rejected_rows() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("addresses.csv");
    std::fs::write(
        &file,
        "community_code,grid_code,compound,road,road_number,building,unit,floor,room,lat,lon\n\
         510107001001,510107001001001,锦里小区,,,3栋,2单元,5,501,30.6465,104.0487\n\
         510107001001,510107001001001,锦里小区,,,3幢,2,5,502,,\n\
         5101070010,510107001001001,锦里小区,,,4栋,1,1,101,,\n\
         510107001001,,,,,5栋,,,,,\n\
         510107001001,510107001001001,锦里小区,,,三号楼,,,,,\n",
    )
    .unwrap();
    let data = dir.path().join("data");
    let url = format!("sqlite://{}", data.join("fengqiao.db").display());
    for _ in 0..2 {
        let output = fengqiao(&data, &url, &["address", "import", file.to_str().unwrap()]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            stdout(&output).contains("3 rows imported, 2 rejected"),
            "{}",
            stdout(&output)
        );
    }
    let report = std::fs::read_to_string(dir.path().join("addresses.rejected.txt")).unwrap();
    assert_eq!(
        report.lines().collect::<Vec<_>>(),
        [
            "第 4 行 / line 4: community_code：格式不正确",
            "第 5 行 / line 5: compound：必填"
        ]
    );
    let resolved = Command::new(env!("CARGO_BIN_EXE_fengqiao"))
        .args(["address", "resolve", "--data-dir"])
        .arg(&data)
        .args(["--database-url", &url])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                // A line outside the registry before one in it: a share
                // of lines that mixes them (on two cores, the first two).
                .write_all(
                    "浙江省嘉兴市秀洲区嘉州美都194栋2064商铺\n\
                     成都市武侯区浆洗街锦里小区3号楼2单元502\n\
                     浙江省嘉兴市秀洲区嘉州美都194栋2064商铺\n"
                        .as_bytes(),
                )?;
            child.wait_with_output()
        })
        .unwrap();
    let lines: Vec<serde_json::Value> = stdout(&resolved)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "one line out per line in");
    assert_eq!(lines[1]["registry"]["room"]["room"], "502");
    assert_eq!(lines[1]["registry"]["grid"]["code"], "510107001001001");
    for outside in [&lines[0], &lines[2]] {
        assert_eq!(outside["province_code"], "330000");
        assert_eq!(outside["city_code"], "330400");
        assert_eq!(outside["county_code"], "330411");
        assert!(outside["registry"].is_null());
    }
}

#[test]
fn villages_load_by_command_and_bad_files_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let url = format!("sqlite://{}", data.join("fengqiao.db").display());
    let bad = dir.path().join("bad.tsv");
    std::fs::write(
        &bad,
        "510107001001\t510107001\t锦里社区居委会\n510107001009\t999999001\t无此乡镇村\n",
    )
    .unwrap();
    let refused = fengqiao(
        &data,
        &url,
        &["address", "load-villages", bad.to_str().unwrap()],
    );
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("line 2"),
        "the error names the line"
    );

    let good = dir.path().join("villages.tsv");
    std::fs::write(&good, "510107001001\t510107001\t锦里社区居委会\n").unwrap();
    let loaded = fengqiao(
        &data,
        &url,
        &["address", "load-villages", good.to_str().unwrap()],
    );
    assert!(
        loaded.status.success(),
        "{}",
        String::from_utf8_lossy(&loaded.stderr)
    );
    assert!(stdout(&loaded).contains("loaded: 1"), "{}", stdout(&loaded));
    let verified = fengqiao(&data, &url, &["audit", "verify"]);
    assert!(
        stdout(&verified).contains("1 entries verified"),
        "only the good load was written: {}",
        stdout(&verified)
    );
}

/// The test: print the plate sheet, scan it as a phone would, and
/// find each building's report address.
#[test]
fn a_printed_plate_sheet_scans_to_each_buildings_report_page() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("addresses.csv");
    let mut csv = String::from("community_code,grid_code,compound,building,unit,room\n");
    for building in 1..=9 {
        csv.push_str(&format!(
            "510107001001,510107001001001,锦里小区,{building}栋,1单元,101\n"
        ));
    }
    std::fs::write(&file, csv).unwrap();
    let data = dir.path().join("data");
    let url = format!("sqlite://{}", data.join("fengqiao.db").display());
    assert!(
        fengqiao(&data, &url, &["address", "import", file.to_str().unwrap()])
            .status
            .success()
    );

    let sheet = dir.path().join("plates.pdf");
    let output = Command::new(env!("CARGO_BIN_EXE_fengqiao"))
        .args([
            "qr",
            "--community",
            "510107001001",
            "--out",
            sheet.to_str().unwrap(),
        ])
        .arg("--data-dir")
        .arg(&data)
        .args(["--database-url", &url])
        .env("FENGQIAO_PUBLIC_URL", "https://fq.example.cn/")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout(&output).contains("9 plates on 2 pages"),
        "{}",
        stdout(&output)
    );
    let pdf = std::fs::read(&sheet).unwrap();
    assert!(pdf.starts_with(b"%PDF"));

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let store = runtime
        .block_on(fengqiao_store::Store::connect(&url))
        .unwrap();
    let buildings = runtime
        .block_on(store.buildings_under("510107001001", 0, 100))
        .unwrap();
    assert_eq!(buildings.len(), 9);
    let mut expected: Vec<String> = buildings
        .iter()
        .map(|b| format!("https://fq.example.cn/r/{}", b.plate_code))
        .collect();
    let Some(pages) = fengqiao_plates::scan::scan_sheet(&pdf) else {
        return;
    };
    let mut scanned: Vec<String> = pages.into_iter().flatten().collect();
    scanned.sort();
    expected.sort();
    assert_eq!(scanned, expected);

    let nothing = fengqiao(
        &data,
        &url,
        &["qr", "--community", "510107004001", "--out", "/dev/null"],
    );
    assert!(!nothing.status.success());
    assert!(String::from_utf8_lossy(&nothing.stderr).contains("no buildings"));
}

/// `bench intake` with tiny numbers, so the benchmark cannot rot: every
/// acknowledged incident is stored, nothing failed, every figure printed.
fn bench_intake_with_tiny_numbers(extra: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_fengqiao"))
        .current_dir(dir.path())
        .args(["bench", "intake", "--clients", "2", "--seconds", "0.5"])
        .args(["--rate", "20", "--raw-seconds", "0.1"])
        .args(extra)
        .env_remove("FENGQIAO_DATABASE_URL")
        .output()
        .unwrap();
    let text = stdout(&output);
    assert!(
        output.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for figure in [
        "incidents/s",
        "p99",
        "matched a registry building",
        "1 row per transaction",
        "1,000 rows per transaction",
        "intake ÷ 1 row per tx",
    ] {
        assert!(text.contains(figure), "{figure} missing: {text}");
    }
    let counts = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("acknowledged / stored"))
        .unwrap();
    let (acknowledged, rest) = counts.trim().split_once(" / ").unwrap();
    let stored = rest.split(';').next().unwrap();
    assert_eq!(acknowledged, stored, "{text}");
    assert!(acknowledged.parse::<u64>().unwrap() > 0, "{text}");
    assert!(rest.contains("; 0 failed"), "{text}");
}

#[test]
fn bench_intake_runs_on_sqlite() {
    bench_intake_with_tiny_numbers(&[]);
}

#[test]
fn bench_intake_runs_on_postgres() {
    match std::env::var(fengqiao_store::testing::PG_URL_VARIABLE) {
        Ok(url) => bench_intake_with_tiny_numbers(&["--pg", &url]),
        Err(_) => eprintln!("skipped on postgres: set FENGQIAO_TEST_PG_URL to run it"),
    }
}
