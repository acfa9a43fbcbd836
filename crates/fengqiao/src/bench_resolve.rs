//! `fengqiao bench resolve`: how fast and how well free-text addresses resolve,
//! on one core, beside the best peers measured on the same machine and files.
//! The scoring lives in `fengqiao_address::eval`, shared with the accuracy test.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use fengqiao_address::{eval, Resolver};

/// Each set is resolved repeatedly for at least this long.
const MIN_TIME: Duration = Duration::from_secs(2);

/// `shared_eval_dir` is `shared/eval` (holding `address/`) or `address/` itself.
pub fn run(shared_eval_dir: &Path) -> anyhow::Result<()> {
    let dir = address_dir(shared_eval_dir);
    let read = |name: &str| {
        let path = dir.join(name);
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
    };
    let ncap_test =
        eval::parse_labelled(&read("ncap_test.jsonl")?).context("parsing ncap_test.jsonl")?;
    let messy_text = read("geocoding_test_address_10k.txt")?;
    let messy: Vec<&str> = messy_text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();

    let resident_before = resident_bytes();
    let resolver = Resolver::new();
    let resident_after = resident_bytes();

    let mut report = eval::benchmark(&resolver, &ncap_test, &messy, MIN_TIME);
    report.index_resident_bytes = resident_before
        .zip(resident_after)
        .map(|(before, after)| after.saturating_sub(before));
    println!("{report}");
    Ok(())
}

fn address_dir(shared_eval_dir: &Path) -> PathBuf {
    let nested = shared_eval_dir.join("address");
    if nested.join("ncap_test.jsonl").exists() {
        nested
    } else {
        shared_eval_dir.to_path_buf()
    }
}

/// Resident set size of this process, where `/proc` tells it.
fn resident_bytes() -> Option<usize> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: usize = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}
