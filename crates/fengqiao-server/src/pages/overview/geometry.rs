//! Plane geometry for the overview's map: latitude and longitude projected
//! onto the drawing (equirectangular around the centre, which is true
//! enough for a district), and a grid's outline as the convex hull of its
//! buildings, since grids carry no polygons of their own.

/// A point of the drawing, x to the right and y downwards.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub x: f64,
    pub y: f64,
}

/// Where latitudes and longitudes land on a drawing of `width` × `height`
/// with `margin` kept free on every side.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Projection {
    lat0: f64,
    lon0: f64,
    /// cos(lat0): a degree of longitude is that much shorter than one of latitude.
    shrink: f64,
    scale: f64,
    width: f64,
    height: f64,
}

impl Projection {
    /// The projection that fits every `(lat, lon)` of `points` into the
    /// drawing, keeping the aspect of the ground; `None` without points.
    pub fn fitting(points: &[(f64, f64)], width: f64, height: f64, margin: f64) -> Option<Self> {
        let (first, rest) = points.split_first()?;
        let (mut south, mut north, mut west, mut east) = (first.0, first.0, first.1, first.1);
        for &(lat, lon) in rest {
            south = south.min(lat);
            north = north.max(lat);
            west = west.min(lon);
            east = east.max(lon);
        }
        let lat0 = (south + north) / 2.0;
        let lon0 = (west + east) / 2.0;
        let shrink = lat0.to_radians().cos();
        let span_x = (east - west) * shrink;
        let span_y = north - south;
        let room_x = (width - 2.0 * margin).max(1.0);
        let room_y = (height - 2.0 * margin).max(1.0);
        // One building alone (or all at one spot) is drawn in the middle.
        let scale = match (span_x > 0.0, span_y > 0.0) {
            (false, false) => 1.0,
            (true, false) => room_x / span_x,
            (false, true) => room_y / span_y,
            (true, true) => (room_x / span_x).min(room_y / span_y),
        };
        Some(Projection {
            lat0,
            lon0,
            shrink,
            scale,
            width,
            height,
        })
    }

    /// How tall the ground of `points` is for its width (north–south over
    /// east–west extent); `None` without points or for a single spot or line.
    pub fn aspect(points: &[(f64, f64)]) -> Option<f64> {
        let lat = points.iter().map(|p| p.0);
        let lon = points.iter().map(|p| p.1);
        let span = |values: &mut dyn Iterator<Item = f64>| {
            let (low, high) = values.fold((f64::MAX, f64::MIN), |(l, h), v| (l.min(v), h.max(v)));
            high - low
        };
        let south_north = span(&mut lat.clone());
        let mid = lat.sum::<f64>() / points.len().max(1) as f64;
        let west_east = span(&mut lon.clone()) * mid.to_radians().cos();
        (points.len() > 1 && south_north > 0.0 && west_east > 0.0).then(|| south_north / west_east)
    }

    pub fn project(&self, lat: f64, lon: f64) -> Point {
        Point {
            x: self.width / 2.0 + (lon - self.lon0) * self.shrink * self.scale,
            y: self.height / 2.0 - (lat - self.lat0) * self.scale,
        }
    }
}

fn cross(o: Point, a: Point, b: Point) -> f64 {
    (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x)
}

/// The convex hull of `points` (Andrew's monotone chain), corners only,
/// starting from the leftmost; collinear and repeated points are dropped,
/// so two distinct points give a segment and one gives itself.
pub fn convex_hull(points: &[Point]) -> Vec<Point> {
    let mut sorted: Vec<Point> = points
        .iter()
        .copied()
        .filter(|p| p.x.is_finite() && p.y.is_finite())
        .collect();
    sorted.sort_by(|a, b| a.x.total_cmp(&b.x).then(a.y.total_cmp(&b.y)));
    sorted.dedup();
    if sorted.len() < 3 {
        return sorted;
    }
    let mut hull: Vec<Point> = Vec::with_capacity(sorted.len() * 2);
    for pass in [false, true] {
        let start = hull.len();
        let ordered: Box<dyn Iterator<Item = &Point>> = if pass {
            Box::new(sorted.iter().rev())
        } else {
            Box::new(sorted.iter())
        };
        for &p in ordered {
            while hull.len() >= start + 2
                && cross(hull[hull.len() - 2], hull[hull.len() - 1], p) <= 0.0
            {
                hull.pop();
            }
            hull.push(p);
        }
        // The last point of each chain starts the other one.
        hull.pop();
    }
    if hull.len() < 3 {
        // All on one line: its two ends.
        hull.truncate(2);
    }
    hull
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(x: f64, y: f64) -> Point {
        Point { x, y }
    }

    #[test]
    fn the_hull_of_a_square_with_points_inside_is_its_corners() {
        let points = [
            p(0.0, 0.0),
            p(2.0, 2.0),
            p(1.0, 1.0),
            p(0.0, 2.0),
            p(2.0, 0.0),
            p(1.0, 0.5),
            p(1.0, 0.0), // on an edge
            p(2.0, 2.0), // twice
        ];
        let hull = convex_hull(&points);
        assert_eq!(hull.len(), 4, "{hull:?}");
        for corner in [p(0.0, 0.0), p(2.0, 0.0), p(2.0, 2.0), p(0.0, 2.0)] {
            assert!(hull.contains(&corner), "{corner:?} missing from {hull:?}");
        }
        // Every turn goes the same way: a convex polygon.
        let n = hull.len();
        let turns: Vec<bool> = (0..n)
            .map(|i| cross(hull[i], hull[(i + 1) % n], hull[(i + 2) % n]) > 0.0)
            .collect();
        assert!(turns.iter().all(|t| *t == turns[0]));
    }

    #[test]
    fn few_or_collinear_points_give_a_point_or_a_segment() {
        assert!(convex_hull(&[]).is_empty());
        assert_eq!(convex_hull(&[p(1.0, 1.0), p(1.0, 1.0)]), [p(1.0, 1.0)]);
        let line = convex_hull(&[p(0.0, 0.0), p(1.0, 1.0), p(2.0, 2.0), p(3.0, 3.0)]);
        assert_eq!(line, [p(0.0, 0.0), p(3.0, 3.0)]);
    }

    #[test]
    fn the_projection_fits_every_point_with_north_up() {
        // Two corners of Wuhou district, roughly.
        let places = [(30.60, 104.00), (30.66, 104.07), (30.63, 104.03)];
        let projection = Projection::fitting(&places, 320.0, 240.0, 10.0).unwrap();
        for (lat, lon) in places {
            let q = projection.project(lat, lon);
            assert!((10.0 - 1e-9..=310.0 + 1e-9).contains(&q.x), "{q:?}");
            assert!((10.0 - 1e-9..=230.0 + 1e-9).contains(&q.y), "{q:?}");
        }
        let south_west = projection.project(30.60, 104.00);
        let north_east = projection.project(30.66, 104.07);
        assert!(north_east.y < south_west.y, "north is up");
        assert!(north_east.x > south_west.x, "east is right");
        // A degree east is shorter than a degree north by cos(latitude).
        let east = projection.project(30.63, 104.01).x - projection.project(30.63, 104.00).x;
        let north = projection.project(30.63, 104.00).y - projection.project(30.64, 104.00).y;
        assert!((east / north - 30.63f64.to_radians().cos()).abs() < 1e-3);
    }

    #[test]
    fn the_aspect_is_the_grounds_height_over_its_width() {
        // 0.02° of latitude over 0.02° of longitude at 60° north: twice as tall.
        let aspect = Projection::aspect(&[(59.99, 10.0), (60.01, 10.02)]).unwrap();
        assert!((aspect - 2.0).abs() < 1e-3, "{aspect}");
        assert!(Projection::aspect(&[(30.6, 104.0)]).is_none());
        assert!(Projection::aspect(&[(30.6, 104.0), (30.7, 104.0)]).is_none());
    }

    #[test]
    fn one_place_is_drawn_in_the_middle() {
        let projection = Projection::fitting(&[(30.6, 104.0)], 320.0, 240.0, 10.0).unwrap();
        assert_eq!(projection.project(30.6, 104.0), p(160.0, 120.0));
        assert!(Projection::fitting(&[], 320.0, 240.0, 10.0).is_none());
    }
}
