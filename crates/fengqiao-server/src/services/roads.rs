//! 道路网: the roads that travel estimates and maps use. They are imported
//! whole (GeoJSON, the format road data is exported in), kept in memory by
//! each instance and read again when the store's revision moves, so an
//! import through one instance reaches the others at their next request.

use std::sync::{Arc, Mutex};

use fengqiao_core::audit::{Actor, AuditAction, AuditEvent};
use fengqiao_core::geo::{Gcj02, Wgs84};
use fengqiao_core::road::{RoadLine, RoadNetwork};
use fengqiao_core::Timestamp;
use fengqiao_store::Store;
use serde_json::Value;

use super::Result;
use crate::state::AppState;

/// What `Store::roads_revision` says: the roads' count and largest id.
type Revision = (i64, i64);

/// The network as last read, with the revision it was read at.
#[derive(Default)]
pub struct RoadCache(Mutex<Option<(Revision, Arc<RoadNetwork>)>>);

/// The current road network (empty where none was imported).
pub async fn network(state: &AppState) -> Result<Arc<RoadNetwork>> {
    let revision = state.store.roads_revision().await?;
    if let Some((seen, network)) = state.roads.0.lock().expect("not poisoned").as_ref() {
        if *seen == revision {
            return Ok(network.clone());
        }
    }
    let network = Arc::new(RoadNetwork::new(state.store.roads().await?));
    *state.roads.0.lock().expect("not poisoned") = Some((revision, network.clone()));
    Ok(network)
}

/// Replaces every road with `lines` in one transaction, audited.
pub async fn replace(
    store: &Store,
    lines: &[RoadLine],
    source: &str,
    now: Timestamp,
) -> Result<()> {
    let mut tx = store.begin().await?;
    tx.replace_roads(lines).await?;
    let event = AuditEvent::new(Actor::System, AuditAction::Update, "roads")
        .source(source)
        .detail(format!("{} roads", lines.len()));
    tx.append_audit(&event, now).await?;
    tx.commit().await?;
    Ok(())
}

/// The datum of the coordinates in a file: GeoJSON is WGS-84 by its
/// standard (RFC 7946), but road data drawn on Chinese web maps is GCJ-02.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Datum {
    Wgs84,
    Gcj02,
}

/// A feature that cannot be a road: its place in the file and why, in Chinese.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    /// 1-based, as people count features.
    pub feature: usize,
    pub reason: String,
}

/// The roads of a GeoJSON FeatureCollection: each LineString or
/// MultiLineString feature with a `name` property is a road (a
/// MultiLineString gives one line per part). Any feature that is not makes
/// the whole file refused, each with its reason: half a network would
/// send units the wrong way.
pub fn from_geojson(
    text: &str,
    datum: Datum,
) -> std::result::Result<Vec<RoadLine>, Vec<Rejection>> {
    let reject = |feature, reason: String| vec![Rejection { feature, reason }];
    let document: Value =
        serde_json::from_str(text).map_err(|e| reject(0, format!("文件不是有效的 JSON：{e}")))?;
    let Some(features) = document
        .get("features")
        .and_then(Value::as_array)
        .filter(|_| document.get("type").and_then(Value::as_str) == Some("FeatureCollection"))
    else {
        return Err(reject(
            0,
            "文件应为 GeoJSON FeatureCollection（含 features 数组）".into(),
        ));
    };
    let mut lines = Vec::new();
    let mut rejected = Vec::new();
    for (index, feature) in features.iter().enumerate() {
        match feature_lines(feature, datum) {
            Ok(found) => lines.extend(found),
            Err(reason) => rejected.push(Rejection {
                feature: index + 1,
                reason,
            }),
        }
    }
    if rejected.is_empty() {
        Ok(lines)
    } else {
        Err(rejected)
    }
}

fn feature_lines(feature: &Value, datum: Datum) -> std::result::Result<Vec<RoadLine>, String> {
    let name = feature
        .pointer("/properties/name")
        .and_then(Value::as_str)
        .ok_or("缺少道路名称（properties.name）")?;
    let geometry = feature.get("geometry").ok_or("缺少几何（geometry）")?;
    let coordinates = geometry
        .get("coordinates")
        .ok_or("缺少坐标（coordinates）")?;
    let parts: Vec<&Value> = match geometry.get("type").and_then(Value::as_str) {
        Some("LineString") => vec![coordinates],
        Some("MultiLineString") => coordinates
            .as_array()
            .ok_or("MultiLineString 的坐标应为数组")?
            .iter()
            .collect(),
        other => {
            return Err(format!(
                "几何类型应为 LineString 或 MultiLineString，而不是 {}",
                other.unwrap_or("（无）")
            ))
        }
    };
    parts
        .into_iter()
        .map(|part| {
            let points = part
                .as_array()
                .ok_or("线的坐标应为数组")?
                .iter()
                .map(|pair| point(pair, datum))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            RoadLine::new(name, points).map_err(|e| match e.field.as_str() {
                "name" => format!("道路名称不合格（{name}）"),
                _ => format!(
                    "「{name}」的一段线应有 2 到 {} 个点",
                    fengqiao_core::road::MAX_POINTS
                ),
            })
        })
        .collect()
}

/// `[lon, lat]` (GeoJSON's order) in WGS-84.
fn point(pair: &Value, datum: Datum) -> std::result::Result<Wgs84, String> {
    let numbers: Option<Vec<f64>> = pair
        .as_array()
        .map(|values| values.iter().filter_map(Value::as_f64).collect());
    let Some([lon, lat, ..]) = numbers.as_deref() else {
        return Err(format!("坐标 {pair} 应为 [经度, 纬度]"));
    };
    let bad = |_| format!("坐标 {pair} 超出经纬度范围");
    match datum {
        Datum::Wgs84 => Wgs84::new(*lat, *lon).map_err(bad),
        Datum::Gcj02 => Gcj02::new(*lat, *lon).map(Gcj02::to_wgs84).map_err(bad),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_multi_line_features_become_roads() {
        let text = r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","properties":{"name":"南街"},
             "geometry":{"type":"LineString","coordinates":[[104.00,30.60],[104.02,30.60]]}},
            {"type":"Feature","properties":{"name":"西路","lanes":2},
             "geometry":{"type":"MultiLineString","coordinates":[
                [[104.00,30.60],[104.00,30.61]],[[104.00,30.61],[104.00,30.62,12.5]]]}}]}"#;
        let lines = from_geojson(text, Datum::Wgs84).unwrap();
        let names: Vec<&str> = lines.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["南街", "西路", "西路"]);
        assert_eq!(lines[0].points[1].lon(), 104.02);
        assert_eq!(lines[2].points[1].lat(), 30.62);
        // GCJ-02 in, WGS-84 stored: a few hundred metres apart in Chengdu.
        let mars = from_geojson(text, Datum::Gcj02).unwrap();
        let shift = mars[0].points[0].distance_m(&lines[0].points[0]);
        assert!((100.0..1000.0).contains(&shift), "{shift}");
    }

    #[test]
    fn one_bad_feature_refuses_the_file_with_every_reason() {
        let text = r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","properties":{"name":"南街"},
             "geometry":{"type":"LineString","coordinates":[[104.00,30.60],[104.02,30.60]]}},
            {"type":"Feature","properties":{},
             "geometry":{"type":"LineString","coordinates":[[104.00,30.60],[104.02,30.60]]}},
            {"type":"Feature","properties":{"name":"北街"},
             "geometry":{"type":"Point","coordinates":[104.00,30.60]}},
            {"type":"Feature","properties":{"name":"东路"},
             "geometry":{"type":"LineString","coordinates":[[104.00,30.60]]}},
            {"type":"Feature","properties":{"name":"外路"},
             "geometry":{"type":"LineString","coordinates":[[104.00,95.0],[104.0,30.0]]}}]}"#;
        let rejected = from_geojson(text, Datum::Wgs84).unwrap_err();
        let features: Vec<usize> = rejected.iter().map(|r| r.feature).collect();
        assert_eq!(features, [2, 3, 4, 5]);
        assert!(rejected[0].reason.contains("名称"));
        assert!(rejected[1].reason.contains("Point"));
        assert!(rejected[2].reason.contains("2 到"));
        assert!(rejected[3].reason.contains("范围"));
        assert_eq!(from_geojson("{", Datum::Wgs84).unwrap_err()[0].feature, 0);
        assert!(from_geojson(r#"{"type":"Feature"}"#, Datum::Wgs84).is_err());
    }
}
