//! `fengqiao road import`: a GeoJSON file of roads replaces the road
//! network, or, when any feature is not a road, nothing changes and every
//! bad feature is listed with its reason.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use fengqiao_core::{Clock, SystemClock};
use fengqiao_server::services::roads::{self, Datum};

pub async fn run(
    settings: &crate::config::Settings,
    file: &Path,
    gcj02: bool,
) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("无法读取 / cannot read {}", file.display()))?;
    let datum = if gcj02 { Datum::Gcj02 } else { Datum::Wgs84 };
    let lines = match roads::from_geojson(&text, datum) {
        Ok(lines) => lines,
        Err(rejected) => {
            for r in &rejected {
                eprintln!(
                    "第 {} 个要素 / feature {}: {}",
                    r.feature, r.feature, r.reason
                );
            }
            eprintln!(
                "未导入：{} 个要素不合格，道路网未改变 / nothing imported: {} bad features, the network is unchanged",
                rejected.len(),
                rejected.len()
            );
            return Ok(ExitCode::FAILURE);
        }
    };
    let store = crate::serve::open_store(settings).await?;
    let source = format!("cli:{}", file.display());
    roads::replace(&store, &lines, &source, SystemClock.now())
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let km: f64 = lines.iter().map(|l| l.length_m()).sum::<f64>() / 1000.0;
    println!(
        "道路网已更新：{} 条线，共 {km:.1} 公里 / road network replaced: {} lines, {km:.1} km",
        lines.len(),
        lines.len()
    );
    Ok(ExitCode::SUCCESS)
}
