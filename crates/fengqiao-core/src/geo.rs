//! Coordinates: WGS-84 as stored, GCJ-02 and BD-09 as Chinese web maps want them.
//!
//! Fengqiao stores every position in WGS-84, the datum of GPS receivers and of
//! its own SVG maps. Maps published in China are drawn in GCJ-02 (国测局坐标,
//! "Mars coordinates"), an obfuscated datum offset by a few hundred metres, and
//! Baidu adds a second offset of its own, BD-09. The forward transforms below are
//! the published ones that every map vendor's SDK reproduces; GCJ-02 has no
//! closed-form inverse, so [`Gcj02::to_wgs84`] iterates until it is exact to a
//! fraction of a millimetre.

use serde::{Deserialize, Serialize};

use crate::error::{FieldError, Reason};

/// A checked latitude/longitude pair, shared by the three datums so that the
/// range check is written once.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct LatLon {
    lat: f64,
    lon: f64,
}

impl LatLon {
    fn parse(lat: f64, lon: f64) -> Result<Self, FieldError> {
        if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
            return Err(FieldError::new(
                "lat",
                Reason::InvalidFormat {
                    expected: "a latitude in degrees between -90 and 90",
                },
            ));
        }
        if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
            return Err(FieldError::new(
                "lon",
                Reason::InvalidFormat {
                    expected: "a longitude in degrees between -180 and 180",
                },
            ));
        }
        Ok(LatLon { lat, lon })
    }

    /// Keeps a transformed point inside the valid range. Only BD-09 needs it:
    /// its offset is applied everywhere and can push a point just past a pole
    /// or across the antimeridian.
    fn normalised(lat: f64, lon: f64) -> Self {
        let lat = lat.clamp(-90.0, 90.0);
        let lon = if lon > 180.0 {
            lon - 360.0
        } else if lon < -180.0 {
            lon + 360.0
        } else {
            lon
        };
        LatLon { lat, lon }
    }
}

macro_rules! datum_point {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
        #[serde(try_from = "LatLonInput")]
        pub struct $name(LatLon);

        impl $name {
            /// Checks that both values are finite and within range; the error
            /// names the field (`lat` or `lon`) that is wrong.
            pub fn new(lat: f64, lon: f64) -> Result<Self, FieldError> {
                LatLon::parse(lat, lon).map($name)
            }

            /// Latitude in degrees, north positive.
            pub fn lat(&self) -> f64 {
                self.0.lat
            }

            /// Longitude in degrees, east positive.
            pub fn lon(&self) -> f64 {
                self.0.lon
            }
        }

        impl TryFrom<LatLonInput> for $name {
            type Error = FieldError;

            fn try_from(input: LatLonInput) -> Result<Self, FieldError> {
                $name::new(input.lat, input.lon)
            }
        }
    };
}

/// The unchecked shape a point arrives in, so that deserialising goes through
/// the same range check as [`Wgs84::new`].
#[derive(Deserialize)]
struct LatLonInput {
    lat: f64,
    lon: f64,
}

datum_point!(
    /// 经纬度 (WGS-84): a position as GPS reports it and as Fengqiao stores it.
    Wgs84
);
datum_point!(
    /// 国测局坐标 (GCJ-02): the offset datum of maps published in China
    /// (Amap, Tencent); equal to WGS-84 outside China.
    Gcj02
);
datum_point!(
    /// 百度坐标 (BD-09): Baidu's further offset of GCJ-02.
    Bd09
);

/// Krasovsky 1940 ellipsoid, as the published GCJ-02 algorithm uses it.
const KRASOVSKY_SEMI_MAJOR_AXIS: f64 = 6_378_245.0;
const KRASOVSKY_ECCENTRICITY_SQUARED: f64 = 0.006_693_421_622_965_943;

/// Mean Earth radius for distances (IUGG), in metres.
const EARTH_MEAN_RADIUS_M: f64 = 6_371_008.8;

/// The inverse stops when the forward image is this close (degrees, about
/// 0.1 mm); it needs four or five rounds inside China.
const INVERSE_TOLERANCE_DEG: f64 = 1e-9;
const INVERSE_MAX_ROUNDS: usize = 30;

/// The published algorithm offsets only points in this rectangle around
/// China (it includes some neighbours); outside it GCJ-02 equals WGS-84.
/// Map vendors draw the same rectangle, so matching it keeps us aligned with
/// their tiles even where it is not the real border.
pub fn in_offset_region(lat: f64, lon: f64) -> bool {
    (72.004..=137.8347).contains(&lon) && (0.8293..=55.8271).contains(&lat)
}

impl Wgs84 {
    /// The GCJ-02 position a Chinese web map shows for this point.
    pub fn to_gcj02(self) -> Gcj02 {
        let (lat, lon) = wgs84_to_gcj02_raw(self.lat(), self.lon());
        Gcj02(LatLon { lat, lon })
    }

    /// The BD-09 position Baidu Maps shows for this point.
    pub fn to_bd09(self) -> Bd09 {
        self.to_gcj02().to_bd09()
    }

    /// Great-circle distance in metres (haversine on a sphere); good to a
    /// fraction of a percent, which is all a "nearest unit" or a tolerance
    /// needs.
    pub fn distance_m(&self, other: &Wgs84) -> f64 {
        let (phi1, phi2) = (self.lat().to_radians(), other.lat().to_radians());
        let d_phi = phi2 - phi1;
        let d_lambda = (other.lon() - self.lon()).to_radians();
        let h =
            (d_phi / 2.0).sin().powi(2) + phi1.cos() * phi2.cos() * (d_lambda / 2.0).sin().powi(2);
        2.0 * EARTH_MEAN_RADIUS_M * h.sqrt().min(1.0).asin()
    }

    /// A box of latitudes and longitudes holding every point within
    /// `radius_m` of this one by [`distance_m`](Self::distance_m), a little
    /// larger than needed: what a query can filter on before the exact
    /// distance is taken.
    pub fn bounds_within(&self, radius_m: f64) -> Bounds {
        // The angle at the centre of the sphere, widened by 1% for rounding.
        let angle = radius_m / EARTH_MEAN_RADIUS_M * 1.01;
        let dlat = angle.to_degrees();
        // Longitudes narrow towards the pole: take the cosine at the box's
        // poleward edge.
        let poleward = (self.lat().abs() + dlat).min(89.0).to_radians();
        let dlon = (angle / poleward.cos()).to_degrees();
        Bounds {
            south: self.lat() - dlat,
            north: self.lat() + dlat,
            west: self.lon() - dlon,
            east: self.lon() + dlon,
        }
    }
}

/// Latitudes `south..=north` and longitudes `west..=east`, in degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bounds {
    pub south: f64,
    pub north: f64,
    pub west: f64,
    pub east: f64,
}

impl Bounds {
    pub fn contains(&self, point: &Wgs84) -> bool {
        (self.south..=self.north).contains(&point.lat())
            && (self.west..=self.east).contains(&point.lon())
    }
}

impl Gcj02 {
    /// The WGS-84 point whose GCJ-02 image is this one, found by fixed-point
    /// iteration (the offset changes slowly, so each round shrinks the error
    /// by about a thousand times).
    pub fn to_wgs84(self) -> Wgs84 {
        let (target_lat, target_lon) = (self.lat(), self.lon());
        if !in_offset_region(target_lat, target_lon) {
            return Wgs84(self.0);
        }
        let (mut lat, mut lon) = (target_lat, target_lon);
        for _ in 0..INVERSE_MAX_ROUNDS {
            let (image_lat, image_lon) = wgs84_to_gcj02_raw(lat, lon);
            let (err_lat, err_lon) = (image_lat - target_lat, image_lon - target_lon);
            lat -= err_lat;
            lon -= err_lon;
            if err_lat.abs() < INVERSE_TOLERANCE_DEG && err_lon.abs() < INVERSE_TOLERANCE_DEG {
                break;
            }
        }
        Wgs84(LatLon::normalised(lat, lon))
    }

    /// Baidu's offset of this point. Applied everywhere, as Baidu's published
    /// formula does, not only inside the offset region.
    pub fn to_bd09(self) -> Bd09 {
        let (x, y) = (self.lon(), self.lat());
        let z = x.hypot(y) + 0.00002 * (y * BAIDU_X_PI).sin();
        let theta = y.atan2(x) + 0.000003 * (x * BAIDU_X_PI).cos();
        Bd09(LatLon::normalised(
            z * theta.sin() + 0.006,
            z * theta.cos() + 0.0065,
        ))
    }
}

impl Bd09 {
    /// Removes Baidu's offset (the published approximate inverse, good to
    /// a few centimetres).
    pub fn to_gcj02(self) -> Gcj02 {
        let (x, y) = (self.lon() - 0.0065, self.lat() - 0.006);
        let z = x.hypot(y) - 0.00002 * (y * BAIDU_X_PI).sin();
        let theta = y.atan2(x) - 0.000003 * (x * BAIDU_X_PI).cos();
        Gcj02(LatLon::normalised(z * theta.sin(), z * theta.cos()))
    }

    /// The WGS-84 position of a point taken from Baidu Maps.
    pub fn to_wgs84(self) -> Wgs84 {
        self.to_gcj02().to_wgs84()
    }
}

const BAIDU_X_PI: f64 = std::f64::consts::PI * 3000.0 / 180.0;

/// The published forward transform on raw degrees, shared by the conversion
/// and by the iteration of its inverse.
fn wgs84_to_gcj02_raw(lat: f64, lon: f64) -> (f64, f64) {
    if !in_offset_region(lat, lon) {
        return (lat, lon);
    }
    let (d_lat, d_lon) = gcj02_offset(lat, lon);
    (lat + d_lat, lon + d_lon)
}

/// The GCJ-02 offset in degrees: a polynomial-and-sine distortion in metres on
/// the Krasovsky ellipsoid, turned into degrees at this latitude.
fn gcj02_offset(lat: f64, lon: f64) -> (f64, f64) {
    use std::f64::consts::PI;
    let x = lon - 105.0;
    let y = lat - 35.0;
    let wave = |a: f64, b: f64| (a.sin() * 20.0 + b.sin() * 40.0) * 2.0 / 3.0;
    let common = (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;

    let shift_lat = -100.0
        + 2.0 * x
        + 3.0 * y
        + 0.2 * y * y
        + 0.1 * x * y
        + 0.2 * x.abs().sqrt()
        + common
        + wave(y * PI, y / 3.0 * PI)
        + (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    let shift_lon = 300.0
        + x
        + 2.0 * y
        + 0.1 * x * x
        + 0.1 * x * y
        + 0.1 * x.abs().sqrt()
        + common
        + wave(x * PI, x / 3.0 * PI)
        + (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;

    let rad_lat = lat.to_radians();
    let magic = 1.0 - KRASOVSKY_ECCENTRICITY_SQUARED * rad_lat.sin().powi(2);
    let sqrt_magic = magic.sqrt();
    let metres_per_degree_lat = KRASOVSKY_SEMI_MAJOR_AXIS * (1.0 - KRASOVSKY_ECCENTRICITY_SQUARED)
        / (magic * sqrt_magic)
        * PI
        / 180.0;
    let metres_per_degree_lon = KRASOVSKY_SEMI_MAJOR_AXIS / sqrt_magic * rad_lat.cos() * PI / 180.0;
    (
        shift_lat / metres_per_degree_lat,
        shift_lon / metres_per_degree_lon,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wgs(lat: f64, lon: f64) -> Wgs84 {
        Wgs84::new(lat, lon).unwrap()
    }

    fn assert_close(what: &str, got: (f64, f64), want: (f64, f64), tolerance_deg: f64) {
        assert!(
            (got.0 - want.0).abs() <= tolerance_deg && (got.1 - want.1).abs() <= tolerance_deg,
            "{what}: got {got:?}, want {want:?} within {tolerance_deg}°"
        );
    }

    /// (place, WGS-84 (lat, lon), GCJ-02 (lat, lon)).
    type ReferencePair = (&'static str, (f64, f64), (f64, f64));

    /// Published reference pairs (WGS-84 → GCJ-02) from the test suite of the
    /// eviltransform library, which its ports in many languages share.
    const EVILTRANSFORM_PAIRS: [ReferencePair; 3] = [
        (
            "Shanghai",
            (31.1774276, 121.5272106),
            (31.17530398364597, 121.531541859215),
        ),
        (
            "Shenzhen",
            (22.543847, 113.912316),
            (22.540796131694766, 113.9171764808363),
        ),
        (
            "Beijing",
            (39.911954, 116.377817),
            (39.91334545536069, 116.38404722455657),
        ),
    ];

    #[test]
    fn wgs84_to_gcj02_matches_published_pairs() {
        // 1e-9° is 0.1 mm: the pairs are printed to full double precision, so
        // only rounding in the last digits may differ.
        for (city, (lat, lon), want) in EVILTRANSFORM_PAIRS {
            let got = wgs(lat, lon).to_gcj02();
            assert_close(city, (got.lat(), got.lon()), want, 1e-9);
        }
    }

    #[test]
    fn gcj02_to_wgs84_inverts_published_pairs_within_a_centimetre() {
        for (city, want, (lat, lon)) in EVILTRANSFORM_PAIRS {
            let got = Gcj02::new(lat, lon).unwrap().to_wgs84();
            let error_m = got.distance_m(&wgs(want.0, want.1));
            assert!(error_m < 0.01, "{city}: inverse is {error_m} m off");
        }
    }

    #[test]
    fn wandergis_reference_point_in_beijing() {
        // The example of the coordtransform library (lon 116.404, lat 39.915),
        // whose README and tests give each conversion's result.
        let gcj = wgs(39.915, 116.404).to_gcj02();
        assert_close(
            "wgs84→gcj02",
            (gcj.lat(), gcj.lon()),
            (39.91640428150164, 116.41024449916938),
            1e-9,
        );
        let bd = Gcj02::new(39.915, 116.404).unwrap().to_bd09();
        assert_close(
            "gcj02→bd09",
            (bd.lat(), bd.lon()),
            (39.92133699351021, 116.41036949371029),
            1e-9,
        );
        let back = Bd09::new(39.915, 116.404).unwrap().to_gcj02();
        assert_close(
            "bd09→gcj02",
            (back.lat(), back.lon()),
            (39.90865673957631, 116.39762729119315),
            1e-9,
        );
    }

    #[test]
    fn outside_china_there_is_no_gcj02_offset() {
        // Denver, Brisbane, Rio de Janeiro and London: the eviltransform suite's
        // edge cases plus one west of the rectangle.
        for (lat, lon) in [
            (39.7392, -104.9903),
            (-27.4698, 153.0251),
            (-22.9068, -43.1729),
            (51.5074, -0.1278),
        ] {
            let point = wgs(lat, lon);
            let gcj = point.to_gcj02();
            assert_eq!((gcj.lat(), gcj.lon()), (lat, lon));
            assert_eq!(gcj.to_wgs84(), point);
        }
    }

    #[test]
    fn the_offset_inside_china_is_a_few_hundred_metres() {
        let point = wgs(30.6434, 104.0433); // Chengdu, Wuhou district
        let gcj = point.to_gcj02();
        let shift = point.distance_m(&wgs(gcj.lat(), gcj.lon()));
        assert!((100.0..1000.0).contains(&shift), "shift {shift} m");
    }

    #[test]
    fn construction_names_the_bad_field() {
        assert_eq!(Wgs84::new(91.0, 0.0).unwrap_err().field, "lat");
        assert_eq!(Wgs84::new(-90.5, 0.0).unwrap_err().field, "lat");
        assert_eq!(Wgs84::new(f64::NAN, 0.0).unwrap_err().field, "lat");
        assert_eq!(Wgs84::new(0.0, 180.1).unwrap_err().field, "lon");
        assert_eq!(Wgs84::new(0.0, f64::INFINITY).unwrap_err().field, "lon");
        assert!(Wgs84::new(90.0, -180.0).is_ok());
        assert!(Gcj02::new(0.0, 200.0).is_err());
        assert!(Bd09::new(-100.0, 0.0).is_err());
    }

    #[test]
    fn deserialising_checks_the_range() {
        use serde::de::value::{Error, MapDeserializer};
        let point = |lat: f64, lon: f64| {
            Wgs84::deserialize(MapDeserializer::<_, Error>::new(
                [("lat", lat), ("lon", lon)].into_iter(),
            ))
        };
        let ok = point(30.5, 104.1).unwrap();
        assert_eq!((ok.lat(), ok.lon()), (30.5, 104.1));
        let err = point(30.5, 190.0).unwrap_err();
        assert!(err.to_string().contains("lon"), "{err}");
    }

    /// A fixed-seed generator, so the round-trip property below is checked on
    /// the same twenty thousand points on every run without a dependency.
    struct XorShift(u64);

    impl XorShift {
        fn unit(&mut self) -> f64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    #[test]
    fn gcj02_inverse_returns_within_half_a_metre_everywhere_in_china() {
        // The rectangle shrunk by 0.1°: right at its edge the published forward
        // transform jumps (no offset outside), so a point whose image lands
        // across the edge has no inverse in any implementation.
        let mut random = XorShift(0x2545_f491_4f6c_dd1d);
        let mut worst = 0.0_f64;
        for _ in 0..20_000 {
            let lat = 0.93 + random.unit() * (55.72 - 0.93);
            let lon = 72.11 + random.unit() * (137.73 - 72.11);
            let point = wgs(lat, lon);
            let back = point.to_gcj02().to_wgs84();
            worst = worst.max(point.distance_m(&back));
        }
        assert!(worst < 0.5, "worst round trip {worst} m");
        assert!(
            worst < 1e-3,
            "the iteration should be far better: {worst} m"
        );
    }

    #[test]
    fn bd09_round_trip_is_within_half_a_metre_everywhere_in_china() {
        let mut random = XorShift(0x9e37_79b9_7f4a_7c15);
        for _ in 0..20_000 {
            let lat = 0.93 + random.unit() * (55.72 - 0.93);
            let lon = 72.11 + random.unit() * (137.73 - 72.11);
            let point = wgs(lat, lon);
            let error_m = point.distance_m(&point.to_bd09().to_wgs84());
            assert!(error_m < 0.5, "{point:?} comes back {error_m} m off");
        }
    }

    #[test]
    fn bd09_stays_in_range_at_the_antimeridian_and_poles() {
        for (lat, lon) in [(90.0, 180.0), (-90.0, -180.0), (89.999, 179.999)] {
            let bd = Gcj02::new(lat, lon).unwrap().to_bd09();
            assert!(Bd09::new(bd.lat(), bd.lon()).is_ok(), "{bd:?}");
            let gcj = bd.to_gcj02();
            assert!(Gcj02::new(gcj.lat(), gcj.lon()).is_ok(), "{gcj:?}");
        }
    }
}
