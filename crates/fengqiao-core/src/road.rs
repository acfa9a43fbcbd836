//! 道路网: a jurisdiction's roads as a graph, and how far a unit drives
//! over them to a scene.
//!
//! A road is a named line of points. Roads meet where they share a point
//! (as the ways of OpenStreetMap share their junction nodes): two points
//! within a decimetre are one junction, and lines that merely cross —
//! a flyover above a street — stay apart. A position off the roads (a unit
//! parked in a compound, a scene inside a building) joins the network at
//! the nearest point of the nearest road, as the crow flies, when one is
//! within [`MAX_OFF_ROAD_M`]; farther away the network does not cover it and
//! the estimate falls back to the straight line.
//!
//! The travel distance from every junction to one scene comes from one
//! Dijkstra search, so ranking all the units for an incident costs one
//! search and a lookup per unit.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};

use crate::error::{FieldError, Reason};
use crate::geo::Wgs84;
use crate::text::bounded_text;

/// A road's name is at most this many characters.
pub const MAX_NAME_CHARS: usize = 64;
/// A road has at most this many points (a long road is several lines).
pub const MAX_POINTS: usize = 10_000;
/// The farthest a position may lie from every road and still be reached
/// over the network: a compound's depth in a Chinese town.
pub const MAX_OFF_ROAD_M: f64 = 300.0;

/// Metres in a degree of latitude (and of longitude at the equator).
const M_PER_DEG: f64 = 111_195.0;
/// Points closer than this (in degrees, about a decimetre) are one junction.
const JUNCTION_DEG: f64 = 1e-6;
/// The side of a cell of the index of segments, in degrees (about 220 m).
const CELL_DEG: f64 = 0.002;

/// One named road, or a piece of one.
#[derive(Debug, Clone, PartialEq)]
pub struct RoadLine {
    pub name: String,
    pub points: Vec<Wgs84>,
}

impl RoadLine {
    /// A line of two to [`MAX_POINTS`] points with a name.
    pub fn new(name: &str, points: Vec<Wgs84>) -> Result<RoadLine, FieldError> {
        let name = bounded_text("name", name, MAX_NAME_CHARS)?;
        if points.len() < 2 {
            return Err(FieldError::new("points", Reason::TooShort { min: 2 }));
        }
        if points.len() > MAX_POINTS {
            return Err(FieldError::new(
                "points",
                Reason::TooLong { max: MAX_POINTS },
            ));
        }
        Ok(RoadLine { name, points })
    }

    /// Its length in metres.
    pub fn length_m(&self) -> f64 {
        self.points.windows(2).map(|w| w[0].distance_m(&w[1])).sum()
    }
}

/// A piece of road between two neighbouring points.
#[derive(Debug, Clone, Copy)]
struct Segment {
    a: usize,
    b: usize,
    length_m: f64,
}

/// Where a position joins the network.
#[derive(Debug, Clone, Copy)]
struct Join {
    segment: usize,
    /// How far along the segment from `a` to `b`, 0 to 1.
    along: f64,
    /// The straight leg from the position to the road.
    off_road_m: f64,
}

/// The roads as a graph of junctions and segments.
#[derive(Debug, Clone, Default)]
pub struct RoadNetwork {
    lines: Vec<RoadLine>,
    nodes: Vec<Wgs84>,
    segments: Vec<Segment>,
    /// Per node: (neighbour, metres).
    adjacency: Vec<Vec<(usize, f64)>>,
    /// Per cell of [`CELL_DEG`]: the segments whose box touches it.
    cells: HashMap<(i64, i64), Vec<usize>>,
}

fn cell_of(lat: f64, lon: f64) -> (i64, i64) {
    (
        (lat / CELL_DEG).floor() as i64,
        (lon / CELL_DEG).floor() as i64,
    )
}

/// Local plane coordinates in metres around `origin` (east, north): true
/// enough over the few hundred metres a join spans.
fn plane(origin: &Wgs84, p: &Wgs84) -> (f64, f64) {
    let shrink = origin.lat().to_radians().cos();
    (
        (p.lon() - origin.lon()) * shrink * M_PER_DEG,
        (p.lat() - origin.lat()) * M_PER_DEG,
    )
}

impl RoadNetwork {
    pub fn new(lines: Vec<RoadLine>) -> RoadNetwork {
        let mut network = RoadNetwork::default();
        let mut junctions: HashMap<(i64, i64), usize> = HashMap::new();
        for line in &lines {
            let ids: Vec<usize> = line
                .points
                .iter()
                .map(|p| {
                    let key = (
                        (p.lat() / JUNCTION_DEG).round() as i64,
                        (p.lon() / JUNCTION_DEG).round() as i64,
                    );
                    *junctions.entry(key).or_insert_with(|| {
                        network.nodes.push(*p);
                        network.adjacency.push(Vec::new());
                        network.nodes.len() - 1
                    })
                })
                .collect();
            for pair in ids.windows(2) {
                let (a, b) = (pair[0], pair[1]);
                if a == b {
                    continue;
                }
                let length_m = network.nodes[a].distance_m(&network.nodes[b]);
                network.adjacency[a].push((b, length_m));
                network.adjacency[b].push((a, length_m));
                let segment = network.segments.len();
                network.segments.push(Segment { a, b, length_m });
                let (p, q) = (network.nodes[a], network.nodes[b]);
                let (low, high) = (
                    cell_of(p.lat().min(q.lat()), p.lon().min(q.lon())),
                    cell_of(p.lat().max(q.lat()), p.lon().max(q.lon())),
                );
                for row in low.0..=high.0 {
                    for column in low.1..=high.1 {
                        network
                            .cells
                            .entry((row, column))
                            .or_default()
                            .push(segment);
                    }
                }
            }
        }
        network.lines = lines;
        network
    }

    /// The roads as given, for drawing.
    pub fn lines(&self) -> &[RoadLine] {
        &self.lines
    }

    /// The nearest point of the nearest road within [`MAX_OFF_ROAD_M`].
    fn join(&self, position: &Wgs84) -> Option<Join> {
        let reach_deg = MAX_OFF_ROAD_M / M_PER_DEG / position.lat().to_radians().cos();
        let (low, high) = (
            cell_of(position.lat() - reach_deg, position.lon() - reach_deg),
            cell_of(position.lat() + reach_deg, position.lon() + reach_deg),
        );
        let mut best: Option<Join> = None;
        for row in low.0..=high.0 {
            for column in low.1..=high.1 {
                for &segment in self.cells.get(&(row, column)).into_iter().flatten() {
                    let s = self.segments[segment];
                    let (ax, ay) = plane(position, &self.nodes[s.a]);
                    let (bx, by) = plane(position, &self.nodes[s.b]);
                    let (dx, dy) = (bx - ax, by - ay);
                    let span = dx * dx + dy * dy;
                    let along = if span > 0.0 {
                        ((-ax * dx - ay * dy) / span).clamp(0.0, 1.0)
                    } else {
                        0.0
                    };
                    let off_road_m = (ax + along * dx).hypot(ay + along * dy);
                    if off_road_m <= MAX_OFF_ROAD_M
                        && best.is_none_or(|b| off_road_m < b.off_road_m)
                    {
                        best = Some(Join {
                            segment,
                            along,
                            off_road_m,
                        });
                    }
                }
            }
        }
        best
    }

    /// The distances over the roads from every junction to `scene`; `None`
    /// when the scene is farther than [`MAX_OFF_ROAD_M`] from every road.
    pub fn towards(&self, scene: &Wgs84) -> Option<Reach<'_>> {
        let join = self.join(scene)?;
        let s = self.segments[join.segment];
        let mut metres = vec![f64::INFINITY; self.nodes.len()];
        let mut queue = BinaryHeap::new();
        for (node, m) in [
            (s.a, join.off_road_m + join.along * s.length_m),
            (s.b, join.off_road_m + (1.0 - join.along) * s.length_m),
        ] {
            if m < metres[node] {
                metres[node] = m;
                queue.push(Next { metres: m, node });
            }
        }
        while let Some(Next { metres: m, node }) = queue.pop() {
            if m > metres[node] {
                continue;
            }
            for &(next, length) in &self.adjacency[node] {
                let through = m + length;
                if through < metres[next] {
                    metres[next] = through;
                    queue.push(Next {
                        metres: through,
                        node: next,
                    });
                }
            }
        }
        Some(Reach {
            network: self,
            scene: join,
            metres,
        })
    }
}

/// A node of the search, nearest first out of the heap.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Next {
    metres: f64,
    node: usize,
}

impl Eq for Next {}

impl Ord for Next {
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .metres
            .total_cmp(&self.metres)
            .then(other.node.cmp(&self.node))
    }
}

impl PartialOrd for Next {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The network searched towards one scene.
#[derive(Debug, Clone)]
pub struct Reach<'a> {
    network: &'a RoadNetwork,
    scene: Join,
    metres: Vec<f64>,
}

impl Reach<'_> {
    /// Metres over the roads from `from` to the scene, both off-road legs
    /// included; `None` when `from` is off the network or on roads that do
    /// not lead to the scene.
    pub fn metres_from(&self, from: &Wgs84) -> Option<f64> {
        let join = self.network.join(from)?;
        let s = self.network.segments[join.segment];
        let via_a = self.metres[s.a] + join.along * s.length_m;
        let via_b = self.metres[s.b] + (1.0 - join.along) * s.length_m;
        let mut best = via_a.min(via_b) + join.off_road_m;
        if join.segment == self.scene.segment {
            // Along the one segment both stand on.
            let along = (join.along - self.scene.along).abs() * s.length_m;
            best = best.min(join.off_road_m + along + self.scene.off_road_m);
        }
        best.is_finite().then_some(best)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(lat: f64, lon: f64) -> Wgs84 {
        Wgs84::new(lat, lon).unwrap()
    }

    fn line(name: &str, points: &[(f64, f64)]) -> RoadLine {
        RoadLine::new(
            name,
            points.iter().map(|&(lat, lon)| at(lat, lon)).collect(),
        )
        .unwrap()
    }

    /// Two east–west roads 0.01° (1.1 km) apart, joined only at their west
    /// ends by a north–south road; a fourth road crosses both in the middle
    /// without sharing a point with them (a flyover).
    fn town() -> RoadNetwork {
        RoadNetwork::new(vec![
            line("南街", &[(30.60, 104.00), (30.60, 104.01), (30.60, 104.02)]),
            line("北街", &[(30.61, 104.00), (30.61, 104.02)]),
            line("西路", &[(30.60, 104.00), (30.61, 104.00)]),
            line("高架", &[(30.595, 104.0101), (30.615, 104.0101)]),
        ])
    }

    #[test]
    fn the_way_round_is_the_roads_not_the_crow() {
        let network = town();
        let scene = at(30.61, 104.02); // the east end of 北街
        let reach = network.towards(&scene).unwrap();
        let from = at(30.60, 104.02); // the east end of 南街, 1.1 km south
        let metres = reach.metres_from(&from).unwrap();
        // West along 南街, up 西路, east along 北街: 2 km + 1.1 km + 2 km.
        let expected = 2.0 * at(30.60, 104.00).distance_m(&at(30.60, 104.02))
            + at(30.60, 104.00).distance_m(&at(30.61, 104.00));
        assert!((metres - expected).abs() < 1.0, "{metres} vs {expected}");
        assert!(metres > 4.0 * from.distance_m(&scene));
    }

    #[test]
    fn a_position_off_the_road_walks_to_it_and_along_the_segment_it_shares() {
        let network = town();
        let scene = at(30.6005, 104.005); // 55 m north of 南街
        let reach = network.towards(&scene).unwrap();
        let from = at(30.5995, 104.015); // 55 m south of 南街, 960 m east
        let metres = reach.metres_from(&from).unwrap();
        let along = at(30.60, 104.005).distance_m(&at(30.60, 104.015));
        let legs = 2.0 * at(30.60, 104.005).distance_m(&at(30.6005, 104.005));
        assert!((metres - (along + legs)).abs() < 2.0, "{metres}");
    }

    #[test]
    fn far_from_every_road_or_on_a_road_that_leads_nowhere_is_no_answer() {
        let network = town();
        assert!(network.towards(&at(30.70, 104.10)).is_none());
        let reach = network.towards(&at(30.61, 104.02)).unwrap();
        assert!(reach.metres_from(&at(30.70, 104.10)).is_none());
        // On the flyover, which shares no junction with the streets.
        assert!(reach.metres_from(&at(30.597, 104.0101)).is_none());
    }

    #[test]
    fn a_road_needs_a_name_and_two_points() {
        assert_eq!(
            RoadLine::new(" ", vec![at(30.6, 104.0), at(30.6, 104.1)])
                .unwrap_err()
                .reason,
            Reason::Required
        );
        assert_eq!(
            RoadLine::new("南街", vec![at(30.6, 104.0)])
                .unwrap_err()
                .reason,
            Reason::TooShort { min: 2 }
        );
        assert!(RoadNetwork::new(Vec::new())
            .towards(&at(30.6, 104.0))
            .is_none());
    }
}
