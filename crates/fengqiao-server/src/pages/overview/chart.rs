//! Charts drawn by the server as SVG text: bars and the jurisdiction's map.
//! No script and no style attribute (the CSP forbids inline style): colours
//! come from classes in `app.css`. Every bar and point is a link to the
//! records behind it and carries its figure (`data-figure`, `data-value`)
//! so a test can read what the page says.

use std::fmt::Write;

use super::geometry::{convex_hull, Point, Projection};

/// Text for SVG and HTML: the five characters that could break out.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A grid's name as the map prints it: a grid known only by its 15-digit
/// code (510107001003002) by its community's and its own number
/// (网格003-002), a name cut to eight characters.
fn short_grid_name(label: &str) -> String {
    if label.len() == 15 && label.bytes().all(|b| b.is_ascii_digit()) {
        format!("网格{}-{}", &label[9..12], &label[12..])
    } else {
        shorten(label, 8)
    }
}

/// A name cut to `max` characters, with an ellipsis when cut.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut short: String = text.chars().take(max - 1).collect();
        short.push('…');
        short
    }
}

/// One bar: what it counts, how many, where its records are.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub label: String,
    pub value: u64,
    pub href: String,
    /// The figure's path in the statistics API (`figures/by_group/police`).
    pub figure: String,
    /// A class for its colour (`police`, `risk-high`…).
    pub class: String,
}

const WIDTH: f64 = 320.0;
const ROW: f64 = 26.0;
const LABEL: f64 = 104.0;
const VALUE_ROOM: f64 = 44.0;

/// A horizontal bar chart, one row a bar, lengths to scale of the largest.
/// `title` is the chart's accessible name.
pub fn bar_chart(title: &str, bars: &[Bar]) -> String {
    let height = ROW * bars.len().max(1) as f64;
    let max = bars.iter().map(|b| b.value).max().unwrap_or(0).max(1) as f64;
    let room = WIDTH - LABEL - VALUE_ROOM;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart bars" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{}">"#,
        escape(title)
    );
    for (i, bar) in bars.iter().enumerate() {
        let y = i as f64 * ROW;
        // A bar of 0 still shows a sliver to click.
        let length = (bar.value as f64 / max * room).max(2.0);
        let _ = write!(
            svg,
            r#"<a href="{href}" class="bar {class}" data-figure="{figure}" data-value="{value}"><title>{label}: {value}</title><rect class="hit" x="0" y="{y}" width="{WIDTH}" height="{ROW}"/><text class="label" x="{tx}" y="{ty}" text-anchor="end">{short}</text><rect class="fill" x="{LABEL}" y="{by}" width="{length:.1}" height="{bh}" rx="2"/><text class="value" x="{vx:.1}" y="{ty}">{value}</text></a>"#,
            href = escape(&bar.href),
            class = escape(&bar.class),
            figure = escape(&bar.figure),
            value = bar.value,
            label = escape(&bar.label),
            short = escape(&shorten(&bar.label, 8)),
            tx = LABEL - 6.0,
            ty = y + ROW / 2.0 + 4.5,
            by = y + 5.0,
            bh = ROW - 10.0,
            vx = LABEL + length + 4.0,
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A grid's buildings: its outline is drawn around them.
#[derive(Debug, Clone, PartialEq)]
pub struct GridShape {
    pub label: String,
    pub points: Vec<(f64, f64)>,
}

/// The ground every map draws: grids and roads, each with its name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ground {
    pub grids: Vec<GridShape>,
    pub roads: Vec<fengqiao_core::road::RoadLine>,
}

/// A record drawn live on the board's map: a unit (a dot with its call
/// sign) or an open incident (a square); `class` carries its status, and
/// `late` marks one past the arrival standard.
#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    pub unit: bool,
    pub label: String,
    pub title: String,
    pub lat: f64,
    pub lon: f64,
    pub class: String,
    pub late: bool,
    pub id: i64,
}

/// A building with incidents, drawn as a dot sized by how many.
#[derive(Debug, Clone, PartialEq)]
pub struct Spot {
    pub label: String,
    pub lat: f64,
    pub lon: f64,
    pub incidents: u64,
    pub repeats: u64,
    pub href: String,
    pub figure: String,
    /// Among the buildings with most incidents, or with repeat calls.
    pub hot: bool,
}

pub const MAP_WIDTH: f64 = 320.0;
const MAP_MARGIN: f64 = 12.0;

/// A `points` attribute: "x,y x,y …" to a tenth.
fn svg_points(points: &[Point]) -> String {
    points
        .iter()
        .map(|p| format!("{:.1},{:.1}", p.x, p.y))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The jurisdiction's map: each grid as the convex hull of its buildings,
/// each building with incidents as a dot whose area grows with their
/// number, hot spots drawn on top in their own colour. The drawing is 320
/// wide and as tall as the ground's shape asks (180 to 480). `None` when nothing
/// has coordinates.
pub fn map(title: &str, ground: &Ground, spots: &[Spot], markers: &[Marker]) -> Option<String> {
    let grids = &ground.grids;
    let everything: Vec<(f64, f64)> = grids
        .iter()
        .flat_map(|g| g.points.iter().copied())
        .chain(spots.iter().map(|s| (s.lat, s.lon)))
        .collect();
    // As tall as the ground is for its width, within reason for a phone.
    let room = MAP_WIDTH - 2.0 * MAP_MARGIN;
    let height = Projection::aspect(&everything)
        .map_or(MAP_WIDTH * 0.75, |a| room * a + 2.0 * MAP_MARGIN)
        .clamp(180.0, 480.0)
        .round();
    let projection = Projection::fitting(&everything, MAP_WIDTH, height, MAP_MARGIN)?;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart map" viewBox="0 0 {MAP_WIDTH} {height}" role="img" aria-label="{}"><rect class="ground" x="0" y="0" width="{MAP_WIDTH}" height="{height}"/>"#,
        escape(title)
    );
    let mut names = String::new();
    for grid in grids {
        let projected: Vec<Point> = grid
            .points
            .iter()
            .map(|&(lat, lon)| projection.project(lat, lon))
            .collect();
        let hull = convex_hull(&projected);
        let corners = svg_points(&hull);
        let label = escape(&grid.label);
        match hull.len() {
            0 => {}
            1 => {
                let _ = write!(
                    svg,
                    r#"<circle class="grid" cx="{:.1}" cy="{:.1}" r="4"><title>{label}</title></circle>"#,
                    hull[0].x, hull[0].y
                );
            }
            _ => {
                let _ = write!(
                    svg,
                    r#"<polygon class="grid" points="{corners}"><title>{label}</title></polygon>"#
                );
                // The grid's name at the middle of its outline, drawn
                // after everything so no shape covers it.
                let n = hull.len() as f64;
                let (x, y) = hull.iter().fold((0.0, 0.0), |(x, y), p| (x + p.x, y + p.y));
                let _ = write!(
                    names,
                    r#"<text class="grid-name" x="{:.1}" y="{:.1}">{}</text>"#,
                    x / n,
                    y / n,
                    escape(&short_grid_name(&grid.label))
                );
            }
        }
    }
    // A road in several pieces is named once, at its first piece's start.
    let mut named = std::collections::BTreeSet::new();
    for road in &ground.roads {
        let points: Vec<Point> = road
            .points
            .iter()
            .map(|p| projection.project(p.lat(), p.lon()))
            .collect();
        let line = svg_points(&points);
        let name = escape(&road.name);
        let _ = write!(
            svg,
            r#"<polyline class="road" points="{line}"><title>{name}</title></polyline>"#
        );
        if named.insert(road.name.as_str()) {
            let _ = write!(
                names,
                r#"<text class="road-name" x="{:.1}" y="{:.1}">{name}</text>"#,
                points[0].x + 1.0,
                points[0].y - 2.0,
            );
        }
    }
    let max = spots.iter().map(|s| s.incidents).max().unwrap_or(1).max(1) as f64;
    // Many buildings get smaller dots, so a district's map is not a blot.
    let largest = (7.0 * (40.0 / spots.len().max(1) as f64).sqrt()).clamp(2.0, 7.0);
    // Hot spots last, so they lie on top.
    let mut ordered: Vec<&Spot> = spots.iter().collect();
    ordered.sort_by_key(|s| (s.hot, s.incidents));
    for spot in ordered {
        let at = projection.project(spot.lat, spot.lon);
        let radius = 2.0 + largest * (spot.incidents as f64 / max).sqrt();
        let _ = write!(
            svg,
            r#"<a href="{href}" class="spot{hot}" data-figure="{figure}" data-value="{value}"><title>{label}: {value}</title><circle cx="{x:.1}" cy="{y:.1}" r="{radius:.1}"/></a>"#,
            href = escape(&spot.href),
            hot = if spot.hot { " hot" } else { "" },
            figure = escape(&spot.figure),
            value = spot.incidents,
            label = escape(&spot.label),
            x = at.x,
            y = at.y,
        );
    }
    svg.push_str(&names);
    for marker in markers {
        let at = projection.project(marker.lat, marker.lon);
        let late = if marker.late { " late" } else { "" };
        let title = escape(&marker.title);
        if marker.unit {
            let _ = write!(
                svg,
                r#"<g class="unit unit-{class}{late}" data-unit="{id}"><title>{title}</title><circle cx="{x:.1}" cy="{y:.1}" r="3.5"/><text class="unit-name" x="{tx:.1}" y="{y:.1}">{label}</text></g>"#,
                class = escape(&marker.class),
                id = marker.id,
                x = at.x,
                y = at.y,
                tx = at.x + 5.0,
                label = escape(&marker.label),
            );
        } else {
            let _ = write!(
                svg,
                r#"<g class="incident incident-{class}{late}" data-incident="{id}"><title>{title}</title><rect x="{x:.1}" y="{y:.1}" width="7" height="7"/></g>"#,
                class = escape(&marker.class),
                id = marker.id,
                x = at.x - 3.5,
                y = at.y - 3.5,
            );
        }
    }
    svg.push_str("</svg>");
    Some(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(label: &str, value: u64) -> Bar {
        Bar {
            label: label.into(),
            value,
            href: format!("/overview/records?category={label}&x=1"),
            figure: format!("figures/by_category/{label}"),
            class: "police".into(),
        }
    }

    #[test]
    fn each_bar_is_a_link_carrying_its_figure() {
        let svg = bar_chart("类别", &[bar("noise", 4), bar("<b>", 2)]);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<a ").count(), 2);
        assert!(svg.contains(r#"data-figure="figures/by_category/noise" data-value="4""#));
        assert!(svg.contains(r#"href="/overview/records?category=noise&amp;x=1""#));
        // Names are escaped, never markup.
        assert!(!svg.contains("<b>"));
        assert!(svg.contains("&lt;b&gt;"));
        // The largest bar fills the room, the other half of it.
        let room = WIDTH - LABEL - VALUE_ROOM;
        assert!(svg.contains(&format!(r#"width="{room:.1}""#)));
        assert!(svg.contains(&format!(r#"width="{:.1}""#, room / 2.0)));
        assert!(!svg.contains("style="), "the CSP forbids inline style");
    }

    #[test]
    fn long_names_are_shortened_on_the_bar_but_whole_in_its_title() {
        let svg = bar_chart("部门", &[bar("武侯区城市管理和综合执法局", 1)]);
        assert!(svg.contains(">武侯区城市管理…</text>"));
        assert!(svg.contains("<title>武侯区城市管理和综合执法局: 1</title>"));
    }

    #[test]
    fn the_map_draws_grids_as_hulls_and_buildings_as_linked_dots() {
        let grid = GridShape {
            label: "锦里社区第一网格".into(),
            points: vec![
                (30.60, 104.00),
                (30.61, 104.00),
                (30.61, 104.01),
                (30.605, 104.005),
            ],
        };
        let spot = |lat, incidents, hot| Spot {
            label: "锦里小区3栋".into(),
            lat,
            lon: 104.005,
            incidents,
            repeats: 0,
            href: "/overview/records?building_id=7".into(),
            figure: "overview/incidents_by_building/7/incidents".into(),
            hot,
        };
        let ground = Ground {
            grids: vec![grid],
            roads: ["锦里<路>", "锦里<路>"]
                .iter()
                .enumerate()
                .map(|(i, name)| {
                    let at = |lon| fengqiao_core::geo::Wgs84::new(30.607, lon).unwrap();
                    let west = 104.0 + 0.005 * i as f64;
                    fengqiao_core::road::RoadLine::new(name, vec![at(west), at(west + 0.005)])
                        .unwrap()
                })
                .collect(),
        };
        let unit = Marker {
            unit: true,
            label: "浆洗街巡1".into(),
            title: "浆洗街巡1 · 在途".into(),
            lat: 30.604,
            lon: 104.004,
            class: "en_route".into(),
            late: false,
            id: 3,
        };
        let svg = map(
            "辖区",
            &ground,
            &[spot(30.606, 9, true), spot(30.601, 1, false)],
            &[unit],
        )
        .unwrap();
        // Names are drawn, escaped; the unit carries its status and call
        // sign.
        assert!(svg.contains(r#"<text class="road-name""#) && svg.contains("锦里&lt;路&gt;"));
        assert_eq!(svg.matches(r#"<polyline class="road""#).count(), 2);
        assert_eq!(
            svg.matches(r#"class="road-name""#).count(),
            1,
            "one name a road"
        );
        assert!(svg.contains(r#"<text class="grid-name""#));
        assert!(svg.contains(r#"<g class="unit unit-en_route" data-unit="3">"#));
        assert!(svg.contains(">浆洗街巡1</text>"));
        // Three corners: the point inside is not one.
        let polygon = svg
            .split(r#"<polygon class="grid" points=""#)
            .nth(1)
            .unwrap();
        let corners = polygon.split('"').next().unwrap();
        assert_eq!(corners.split(' ').count(), 3, "{corners}");
        assert_eq!(
            svg.matches(r#"<a href="/overview/records?building_id=7""#)
                .count(),
            2
        );
        // The hot spot is drawn last (on top) and larger.
        let hot = svg.find("spot hot").unwrap();
        let cold = svg.find(r#"class="spot""#).unwrap();
        assert!(cold < hot);
        assert!(
            svg.contains(r#"r="9.0""#) && svg.contains(r#"r="4.3""#),
            "{svg}"
        );
        assert!(!svg.contains("style="));
        assert!(map("辖区", &Ground::default(), &[], &[]).is_none());
    }
}
