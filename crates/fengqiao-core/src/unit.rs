//! 警力: units on the street — a patrol car, an officer on foot or on an
//! e-bike, a joint-duty station's team, the street's patrol force — their
//! statuses as a state machine, and which of them can reach an incident
//! first.
//!
//! ```text
//!                ┌──────────── recall / clear ───────────────┐
//!                ▼                                            │
//! out_of_service ⇄ available ──dispatch──▶ dispatched ──▶ en_route ──▶ on_scene ──▶ transporting
//!                                              └─────────── arrive ──────▲ │             │
//!                                                                          └── clear ────┘
//! ```
//!
//! A unit is assigned to one incident at a time: dispatch takes it only
//! while it is available, so two operators who pick the same unit at once
//! get one assignment and one refusal (the store locks the unit's row for
//! the transaction).

use serde::{Deserialize, Serialize};

use crate::audit::Actor;
use crate::clock::Timestamp;
use crate::error::{FieldError, Reason};
use crate::geo::{in_offset_region, Bounds, Wgs84};
use crate::label::labels;
use crate::road::{Reach, RoadNetwork};
use crate::text::bounded_text;
use crate::timeline::{TimelineEvent, Transition};

/// What kind of unit it is; the kind sets its speed on the road.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    PatrolCar,
    FootPatrol,
    Scooter,
    JointDutyTeam,
    /// 综治路面力量: the governance centre's patrol force, sent first to
    /// non-police incidents.
    StreetPatrol,
    Volunteers,
}

labels!(UnitKind {
    PatrolCar => ("巡逻车", "Patrol car"),
    FootPatrol => ("步巡", "Foot patrol"),
    Scooter => ("电动车巡逻", "E-bike patrol"),
    JointDutyTeam => ("联勤警务站", "Joint-duty station team"),
    StreetPatrol => ("综治路面力量", "Street patrol force"),
    Volunteers => ("志愿者队伍", "Volunteer team"),
});

impl UnitKind {
    pub const ALL: [UnitKind; 6] = [
        UnitKind::PatrolCar,
        UnitKind::FootPatrol,
        UnitKind::Scooter,
        UnitKind::JointDutyTeam,
        UnitKind::StreetPatrol,
        UnitKind::Volunteers,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::PatrolCar => "patrol_car",
            UnitKind::FootPatrol => "foot_patrol",
            UnitKind::Scooter => "scooter",
            UnitKind::JointDutyTeam => "joint_duty_team",
            UnitKind::StreetPatrol => "street_patrol",
            UnitKind::Volunteers => "volunteers",
        }
    }

    pub fn parse(value: &str) -> Result<Self, FieldError> {
        UnitKind::ALL
            .into_iter()
            .find(|k| k.as_str() == value)
            .ok_or_else(|| {
                FieldError::new(
                    "kind",
                    Reason::UnknownValue {
                        allowed: UnitKind::ALL
                            .iter()
                            .map(|k| k.as_str().to_owned())
                            .collect(),
                    },
                )
            })
    }

    /// Police units answer police incidents and count in the police
    /// arrival figures; the street force and volunteers do the first
    /// response to non-police ones and are counted apart.
    pub fn force(self) -> Force {
        match self {
            UnitKind::StreetPatrol | UnitKind::Volunteers => Force::Street,
            _ => Force::Police,
        }
    }

    /// Average speed through town, km/h, for the straight-line estimate.
    fn speed_kmh(self) -> f64 {
        match self {
            UnitKind::PatrolCar => 30.0,
            UnitKind::Scooter => 18.0,
            UnitKind::JointDutyTeam | UnitKind::StreetPatrol | UnitKind::Volunteers => 12.0,
            UnitKind::FootPatrol => 5.0,
        }
    }
}

/// Whose standard an arrival is measured against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Force {
    Police,
    Street,
}

/// Where a unit stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitStatus {
    Available,
    Dispatched,
    EnRoute,
    OnScene,
    Transporting,
    OutOfService,
}

labels!(UnitStatus {
    Available => ("空闲", "Available"),
    Dispatched => ("已派出", "Dispatched"),
    EnRoute => ("在途", "En route"),
    OnScene => ("到场", "On scene"),
    Transporting => ("护送中", "Transporting"),
    OutOfService => ("暂停执勤", "Out of service"),
});

impl UnitStatus {
    pub const ALL: [UnitStatus; 6] = [
        UnitStatus::Available,
        UnitStatus::Dispatched,
        UnitStatus::EnRoute,
        UnitStatus::OnScene,
        UnitStatus::Transporting,
        UnitStatus::OutOfService,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            UnitStatus::Available => "available",
            UnitStatus::Dispatched => "dispatched",
            UnitStatus::EnRoute => "en_route",
            UnitStatus::OnScene => "on_scene",
            UnitStatus::Transporting => "transporting",
            UnitStatus::OutOfService => "out_of_service",
        }
    }

    pub fn parse(value: &str) -> Result<Self, FieldError> {
        UnitStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == value)
            .ok_or_else(|| {
                FieldError::new(
                    "status",
                    Reason::UnknownValue {
                        allowed: UnitStatus::ALL
                            .iter()
                            .map(|s| s.as_str().to_owned())
                            .collect(),
                    },
                )
            })
    }

    /// Assigned to an incident.
    pub fn is_assigned(self) -> bool {
        matches!(
            self,
            UnitStatus::Dispatched
                | UnitStatus::EnRoute
                | UnitStatus::OnScene
                | UnitStatus::Transporting
        )
    }
}

/// A position reported by a crew's phone or a vehicle's GPS: WGS-84 and
/// within China.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Position(Wgs84);

impl Position {
    pub fn parse(lat: f64, lon: f64) -> Result<Self, FieldError> {
        let point = Wgs84::new(lat, lon)?;
        if !in_offset_region(lat, lon) {
            return Err(FieldError::new(
                "lat",
                Reason::InvalidFormat {
                    expected: "position_in_china",
                },
            ));
        }
        Ok(Position(point))
    }

    pub fn point(&self) -> Wgs84 {
        self.0
    }
}

/// A call sign as the radio says it (浙A·巡12, 锦里步巡1组): 1 to 20
/// characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallSign(String);

impl CallSign {
    pub fn parse(value: &str) -> Result<Self, FieldError> {
        bounded_text("call_sign", value, 20).map(CallSign)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What happened to a unit; each is stored with its actor and time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum UnitEvent {
    Dispatched {
        incident_id: i64,
    },
    EnRoute {
        incident_id: i64,
    },
    Arrived {
        incident_id: i64,
    },
    Transporting {
        incident_id: i64,
    },
    /// Free again: the job is done, or it was recalled before arriving.
    Cleared {
        incident_id: i64,
    },
    OutOfService,
    BackInService,
}

/// Why a unit transition was refused. Nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnitError {
    #[error("a unit that is {from:?} cannot become {to:?}")]
    NotAllowed { from: UnitStatus, to: UnitStatus },
    #[error("the unit is assigned to incident {incident_id}")]
    Busy { incident_id: i64 },
}

/// 警力: one unit and where it stands now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unit {
    pub id: i64,
    /// The station (or governance centre, joint-duty station) it serves.
    pub org_id: i64,
    pub call_sign: CallSign,
    pub kind: UnitKind,
    pub status: UnitStatus,
    pub status_since: Timestamp,
    /// The incident it is assigned to while dispatched, en route, on scene
    /// or transporting.
    pub incident_id: Option<i64>,
    pub position: Option<Position>,
    pub position_at: Option<Timestamp>,
}

type UnitResult = Result<Transition<Unit, UnitEvent>, UnitError>;

impl Unit {
    fn moved(
        &self,
        status: UnitStatus,
        incident: Option<i64>,
        event: UnitEvent,
        actor: Actor,
        at: Timestamp,
    ) -> Transition<Unit, UnitEvent> {
        let mut state = self.clone();
        state.status = status;
        state.status_since = at;
        state.incident_id = incident;
        Transition {
            state,
            events: vec![TimelineEvent::new(at, actor, event)],
        }
    }

    /// 派警: assigns an available unit to an incident.
    pub fn dispatch(&self, incident_id: i64, actor: Actor, at: Timestamp) -> UnitResult {
        if let Some(busy) = self.incident_id {
            return Err(UnitError::Busy { incident_id: busy });
        }
        if self.status != UnitStatus::Available {
            return Err(UnitError::NotAllowed {
                from: self.status,
                to: UnitStatus::Dispatched,
            });
        }
        Ok(self.moved(
            UnitStatus::Dispatched,
            Some(incident_id),
            UnitEvent::Dispatched { incident_id },
            actor,
            at,
        ))
    }

    /// One tap on the crew's phone: en route, on scene, transporting,
    /// available (clear or recall), out of service and back.
    pub fn advance(&self, to: UnitStatus, actor: Actor, at: Timestamp) -> UnitResult {
        use UnitStatus::*;
        let refused = Err(UnitError::NotAllowed {
            from: self.status,
            to,
        });
        let incident = self.incident_id;
        let event = match (self.status, to, incident) {
            (Dispatched, EnRoute, Some(id)) => UnitEvent::EnRoute { incident_id: id },
            (Dispatched | EnRoute, OnScene, Some(id)) => UnitEvent::Arrived { incident_id: id },
            (OnScene, Transporting, Some(id)) => UnitEvent::Transporting { incident_id: id },
            (Dispatched | EnRoute | OnScene | Transporting, Available, Some(id)) => {
                UnitEvent::Cleared { incident_id: id }
            }
            (Available, OutOfService, _) => UnitEvent::OutOfService,
            (OutOfService, Available, _) => UnitEvent::BackInService,
            _ => return refused,
        };
        let incident = if to.is_assigned() { incident } else { None };
        Ok(self.moved(to, incident, event, actor, at))
    }
}

/// How far the road is taken to be longer than the straight line in a
/// Chinese town's grid of streets and compounds.
pub const ROAD_FACTOR: f64 = 1.4;

/// Minutes to arrive, and how they were estimated.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    /// The distance the minutes come from: over the roads, or as the crow
    /// flies for the straight-line estimate.
    pub distance_m: f64,
    pub minutes: f64,
    pub method: EstimateMethod,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EstimateMethod {
    /// The shortest way over the jurisdiction's roads at the kind's town speed.
    RoadNetwork,
    /// Straight-line distance × [`ROAD_FACTOR`] at the kind's town speed,
    /// where Fengqiao has no roads or the unit or the scene is off them.
    StraightLine,
}

labels!(EstimateMethod {
    RoadNetwork => ("按道路网最短路径估算", "shortest way over the road network"),
    StraightLine => ("直线距离×道路系数1.4估算", "straight-line distance × road factor 1.4"),
});

impl Estimate {
    pub fn straight_line(distance_m: f64, kind: UnitKind) -> Estimate {
        Estimate {
            distance_m,
            minutes: distance_m * ROAD_FACTOR / 1000.0 / kind.speed_kmh() * 60.0,
            method: EstimateMethod::StraightLine,
        }
    }

    pub fn over_roads(road_m: f64, kind: UnitKind) -> Estimate {
        Estimate {
            distance_m: road_m,
            minutes: road_m / 1000.0 / kind.speed_kmh() * 60.0,
            method: EstimateMethod::RoadNetwork,
        }
    }
}

/// 5分钟到达: the arrival standard of police and street force alike.
pub const ARRIVAL_STANDARD_MINUTES: f64 = 5.0;

/// How arrival at one scene is estimated: over the roads when the scene and
/// the unit are both on the network, else by the straight line.
#[derive(Debug, Clone)]
pub struct Travel<'a> {
    scene: Wgs84,
    roads: Option<Reach<'a>>,
}

impl<'a> Travel<'a> {
    /// Searches `roads` towards the scene once, when there are roads.
    pub fn to(scene: Wgs84, roads: &'a RoadNetwork) -> Travel<'a> {
        Travel {
            scene,
            roads: roads.towards(&scene),
        }
    }

    /// The estimate from the unit's last position, if it has one.
    pub fn estimate(&self, unit: &Unit) -> Option<Estimate> {
        let from = unit.position?.point();
        let over_roads = self.roads.as_ref().and_then(|r| r.metres_from(&from));
        Some(match over_roads {
            Some(metres) => Estimate::over_roads(metres, unit.kind),
            None => Estimate::straight_line(from.distance_m(&self.scene), unit.kind),
        })
    }

    /// The straight-line distance within which any unit of any kind must
    /// stand to be estimated at `minutes` or less: a unit farther away is
    /// estimated at more. The way over the roads is never shorter than the
    /// straight line (1% is left for the flat approximation of the legs to
    /// the road).
    pub fn reach_m(&self, minutes: f64) -> f64 {
        let fastest = UnitKind::ALL
            .into_iter()
            .map(UnitKind::speed_kmh)
            .fold(0.0, f64::max);
        let factor = if self.roads.is_some() {
            0.99
        } else {
            ROAD_FACTOR
        };
        minutes / 60.0 * fastest * 1000.0 / factor
    }

    /// The box around the scene holding every unit that may arrive within
    /// `minutes`: what a query filters on first.
    pub fn bounds_within(&self, minutes: f64) -> Bounds {
        self.scene.bounds_within(self.reach_m(minutes))
    }
}

/// What a deployment sets about dispatch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DispatchPolicy {
    /// A station with more police incidents waiting for a unit than this is
    /// overloaded, and its war zone reinforces it.
    pub max_waiting: usize,
    /// Days a unit's track is kept as reported: one point every few
    /// seconds, what a review of an arrival needs.
    pub track_retention_days: i64,
    /// Then thinned to the first point of every this many minutes…
    pub thinned_track_minutes: i64,
    /// …and kept so for this many days more before it is forgotten: a
    /// patrol's coverage over the months, without its every step.
    pub thinned_track_days: i64,
}

impl DispatchPolicy {
    /// The limits a deployment may set, checked once at start.
    pub fn new(
        track_retention_days: i64,
        thinned_track_minutes: i64,
        thinned_track_days: i64,
    ) -> Result<Self, FieldError> {
        let check = |field: &'static str, value: i64, max: i64, expected: &'static str| {
            if (1..=max).contains(&value) {
                Ok(value)
            } else {
                Err(FieldError::new(field, Reason::InvalidFormat { expected }))
            }
        };
        Ok(DispatchPolicy {
            track_retention_days: check(
                "track_retention_days",
                track_retention_days,
                365,
                "1 to 365 days",
            )?,
            thinned_track_minutes: check(
                "thinned_track_minutes",
                thinned_track_minutes,
                1440,
                "1 to 1440 minutes",
            )?,
            thinned_track_days: check(
                "thinned_track_days",
                thinned_track_days,
                3650,
                "1 to 3650 days",
            )?,
            ..DispatchPolicy::default()
        })
    }
}

impl Default for DispatchPolicy {
    fn default() -> Self {
        DispatchPolicy {
            max_waiting: 3,
            track_retention_days: 30,
            thinned_track_minutes: 5,
            thinned_track_days: 365,
        }
    }
}

/// One unit proposed for an incident.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommendation {
    pub unit: Unit,
    pub estimate: Estimate,
    /// The estimate is within the 5-minute standard.
    pub within_standard: bool,
    /// Of another station of the war zone (增援).
    pub reinforcement: bool,
}

/// Available units with a position, fastest first; `local` says which
/// organisations' units are the incident's own (the others reinforce).
pub fn recommend(
    units: &[Unit],
    travel: &Travel,
    force: Force,
    local: impl Fn(i64) -> bool,
) -> Vec<Recommendation> {
    let mut ranked: Vec<Recommendation> = units
        .iter()
        .filter(|u| u.status == UnitStatus::Available && u.kind.force() == force)
        .filter_map(|unit| {
            let estimate = travel.estimate(unit)?;
            Some(Recommendation {
                unit: unit.clone(),
                within_standard: estimate.minutes <= ARRIVAL_STANDARD_MINUTES,
                reinforcement: !local(unit.org_id),
                estimate,
            })
        })
        .collect();
    ranked.sort_by(|a, b| {
        a.estimate
            .minutes
            .total_cmp(&b.estimate.minutes)
            .then(a.unit.id.cmp(&b.unit.id))
    });
    ranked
}

/// 增援: a station needs its war zone's help when none of its own units can
/// arrive within the standard, or it has more police incidents waiting than
/// `max_waiting`.
pub fn needs_reinforcement(own: &[Recommendation], waiting: usize, max_waiting: usize) -> bool {
    waiting > max_waiting || !own.iter().any(|r| r.within_standard)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::road::RoadLine;

    const T0: Timestamp = Timestamp(1_700_000_000_000);
    const OPERATOR: Actor = Actor::System;

    fn unit(id: i64, kind: UnitKind, lat: f64, lon: f64) -> Unit {
        Unit {
            id,
            org_id: 10,
            call_sign: CallSign::parse(&format!("巡{id}")).unwrap(),
            kind,
            status: UnitStatus::Available,
            status_since: T0,
            incident_id: None,
            position: Some(Position::parse(lat, lon).unwrap()),
            position_at: Some(T0),
        }
    }

    #[test]
    fn no_unit_beyond_the_reach_of_a_time_arrives_within_it() {
        let scene = Wgs84::new(30.65, 104.05).unwrap();
        let no_roads = RoadNetwork::default();
        let radius = Travel::to(scene, &no_roads).reach_m(ARRIVAL_STANDARD_MINUTES);
        for kind in UnitKind::ALL {
            let just_beyond = Estimate::straight_line(radius * 1.001, kind);
            assert!(just_beyond.minutes > ARRIVAL_STANDARD_MINUTES, "{kind:?}");
        }
        let fastest = Estimate::straight_line(radius, UnitKind::PatrolCar);
        assert!((fastest.minutes - ARRIVAL_STANDARD_MINUTES).abs() < 1e-9);
        // Points just inside the radius, whichever way, lie inside the box.
        let bounds = scene.bounds_within(radius);
        for step in 0..360 {
            let angle = f64::from(step).to_radians();
            let r = radius * 0.995;
            let lat = 30.65 + r * angle.cos() / 111_195.0;
            let lon = 104.05 + r * angle.sin() / (111_195.0 * 30.65_f64.to_radians().cos());
            let point = Wgs84::new(lat, lon).unwrap();
            assert!(point.distance_m(&scene) <= radius, "{step}");
            assert!((bounds.south..=bounds.north).contains(&lat), "{step}");
            assert!((bounds.west..=bounds.east).contains(&lon), "{step}");
        }
    }

    #[test]
    fn a_unit_goes_out_arrives_and_clears() {
        let car = unit(1, UnitKind::PatrolCar, 30.65, 104.05);
        let sent = car.dispatch(7, OPERATOR, T0).unwrap().state;
        assert_eq!(
            (sent.status, sent.incident_id),
            (UnitStatus::Dispatched, Some(7))
        );
        let on_way = sent
            .advance(UnitStatus::EnRoute, OPERATOR, T0)
            .unwrap()
            .state;
        let there = on_way.advance(UnitStatus::OnScene, OPERATOR, T0).unwrap();
        assert_eq!(there.events[0].event, UnitEvent::Arrived { incident_id: 7 });
        let free = there
            .state
            .advance(UnitStatus::Available, OPERATOR, T0)
            .unwrap();
        assert_eq!(free.state.incident_id, None);
        assert_eq!(free.events[0].event, UnitEvent::Cleared { incident_id: 7 });
    }

    #[test]
    fn an_assigned_unit_is_never_dispatched_twice_and_jumps_are_refused() {
        let car = unit(1, UnitKind::PatrolCar, 30.65, 104.05);
        let sent = car.dispatch(7, OPERATOR, T0).unwrap().state;
        assert_eq!(
            sent.dispatch(8, OPERATOR, T0).unwrap_err(),
            UnitError::Busy { incident_id: 7 }
        );
        assert!(
            car.advance(UnitStatus::OnScene, OPERATOR, T0).is_err(),
            "no arrival without a call"
        );
        assert!(sent
            .advance(UnitStatus::Transporting, OPERATOR, T0)
            .is_err());
        assert!(sent
            .advance(UnitStatus::OutOfService, OPERATOR, T0)
            .is_err());
        let off = car
            .advance(UnitStatus::OutOfService, OPERATOR, T0)
            .unwrap()
            .state;
        assert!(off.dispatch(9, OPERATOR, T0).is_err());
        assert_eq!(
            off.advance(UnitStatus::Available, OPERATOR, T0)
                .unwrap()
                .events[0]
                .event,
            UnitEvent::BackInService
        );
    }

    #[test]
    fn positions_outside_china_are_refused() {
        assert!(Position::parse(30.65, 104.05).is_ok());
        assert_eq!(Position::parse(48.85, 2.35).unwrap_err().field, "lat");
        assert!(Position::parse(f64::NAN, 104.0).is_err());
    }

    #[test]
    fn the_fastest_available_unit_of_the_force_comes_first() {
        let scene = Wgs84::new(30.650, 104.050).unwrap();
        let mut busy = unit(1, UnitKind::PatrolCar, 30.650, 104.051);
        busy.status = UnitStatus::OnScene;
        let units = [
            busy,
            unit(2, UnitKind::FootPatrol, 30.652, 104.050), // 222 m on foot
            unit(3, UnitKind::PatrolCar, 30.670, 104.050),  // 2.2 km by car
            unit(4, UnitKind::StreetPatrol, 30.650, 104.050),
            Unit {
                position: None,
                ..unit(5, UnitKind::PatrolCar, 30.65, 104.05)
            },
        ];
        let no_roads = RoadNetwork::default();
        let travel = Travel::to(scene, &no_roads);
        let ranked = recommend(&units, &travel, Force::Police, |_| true);
        let ids: Vec<i64> = ranked.iter().map(|r| r.unit.id).collect();
        assert_eq!(ids, [2, 3]);
        // 222 m × 1.4 at 5 km/h ≈ 3.7 min; 2.2 km × 1.4 at 30 km/h ≈ 6.2 min.
        assert!(
            (ranked[0].estimate.minutes - 3.73).abs() < 0.05,
            "{:?}",
            ranked[0].estimate
        );
        assert!(ranked[0].within_standard && !ranked[1].within_standard);
        assert!(!needs_reinforcement(&ranked, 0, 3));
        assert!(
            needs_reinforcement(&ranked[1..], 0, 3),
            "none within five minutes"
        );
        assert!(needs_reinforcement(&ranked, 4, 3), "too many waiting");
        let street = recommend(&units, &travel, Force::Street, |id| id == 99);
        assert_eq!(street.len(), 1);
        assert!(street[0].reinforcement);
        assert!(ranked
            .iter()
            .all(|r| r.estimate.method == EstimateMethod::StraightLine));
    }

    #[test]
    fn over_the_roads_the_way_round_counts_and_the_reach_still_holds() {
        let at = |lat, lon| Wgs84::new(lat, lon).unwrap();
        let line = |name: &str, points: [(f64, f64); 2]| {
            RoadLine::new(name, points.iter().map(|&(a, o)| at(a, o)).collect()).unwrap()
        };
        // Two east–west streets 1.1 km apart, joined only 2 km to the west.
        let roads = RoadNetwork::new(vec![
            line("南街", [(30.60, 104.00), (30.60, 104.02)]),
            line("北街", [(30.61, 104.00), (30.61, 104.02)]),
            line("西路", [(30.60, 104.00), (30.61, 104.00)]),
        ]);
        let scene = at(30.61, 104.02);
        let travel = Travel::to(scene, &roads);
        let units = [
            // 1.1 km as the crow flies, 5 km by road.
            unit(1, UnitKind::PatrolCar, 30.60, 104.02),
            // 1.9 km on the scene's street.
            unit(2, UnitKind::PatrolCar, 30.61, 104.00),
            // Off every road: the straight line.
            unit(3, UnitKind::PatrolCar, 30.65, 104.02),
        ];
        let ranked = recommend(&units, &travel, Force::Police, |_| true);
        let ids: Vec<i64> = ranked.iter().map(|r| r.unit.id).collect();
        assert_eq!(ids, [2, 1, 3]);
        assert_eq!(ranked[0].estimate.method, EstimateMethod::RoadNetwork);
        assert!((ranked[0].estimate.minutes - 1914.0 / 500.0).abs() < 0.05);
        assert!(ranked[1].estimate.distance_m > 4_900.0);
        assert_eq!(ranked[2].estimate.method, EstimateMethod::StraightLine);
        // No unit outside the reach arrives within the time, by either way.
        let radius = travel.reach_m(ARRIVAL_STANDARD_MINUTES);
        assert!(radius > Travel::to(scene, &RoadNetwork::default()).reach_m(5.0));
        for r in &ranked {
            let crow = units[(r.unit.id - 1) as usize]
                .position
                .unwrap()
                .point()
                .distance_m(&scene);
            assert!(crow <= radius || r.estimate.minutes > ARRIVAL_STANDARD_MINUTES);
        }
    }
}
