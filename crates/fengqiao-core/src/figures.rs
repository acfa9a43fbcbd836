//! 统计: the figures of an organisation's period, computed from the facts of
//! its incidents. The store reads the facts (one row set, the same on both
//! backends); every figure is defined and counted here, once.
//!
//! Definitions (each rate is a share from 0 to 1, `None` when its
//! denominator is 0):
//!
//! - **incidents**: those received in the period that concern the
//!   organisation's subtree (received by a station in it, handled by an
//!   organisation in it, or with a work order for one), counted by group
//!   (`police`, `non_police`, `untriaged`) and by category code.
//! - **non-police diversion rate** (非警务分流率): non-police incidents with
//!   at least one work order ÷ non-police incidents.
//! - **linked-handling rate** (联动处置率): incidents whose work orders, not
//!   counting rejected ones, go to more than one organisation ÷ incidents
//!   with at least one work order.
//! - **on-scene resolution rate** (就地化解率): incidents now resolved or
//!   closed that never had a work order (the station handled them itself) ÷
//!   all incidents.
//! - **repeat-call rate** (重复报警率): incidents linked as repeats of
//!   earlier ones ÷ all incidents.
//! - **time to accept** / **time to finish**, in minutes, over the work
//!   orders of these incidents: from creation to acceptance (those
//!   accepted), from creation to the department's return with a result
//!   (those returned); the mean, and the 90th percentile by nearest rank
//!   (the smallest time that at least 90% of them did not exceed).
//! - **overdue work orders** (超期工单): work orders that missed a deadline:
//!   accepted after the accept deadline, returned after the finish deadline,
//!   or past a deadline at the moment of asking and still not accepted or
//!   returned (`WorkOrder::overdue`).
//! - **5-minute arrival rate** (5分钟到达率), police units and the street
//!   patrol force apart: incidents a unit of the force was sent to whose
//!   first unit of that force arrived within 5 minutes of the call's
//!   receipt (what the caller waits) ÷ incidents a unit of the force was
//!   sent to, arrived or already more than 5 minutes since receipt (one
//!   still within its 5 minutes is not judged yet).
//! - **time to arrival** (到场用时), in minutes, police units: from receipt
//!   to the first police unit's arrival, the mean and 90th percentile.
//! - **resolved on scene by a unit** (现场处置): incidents a unit settled
//!   on scene ÷ incidents a unit arrived at.
//! - **satisfaction** (满意度): the caller's latest answer (1 to 5) per
//!   incident: how many incidents have one, and their mean.
//! - **overdue work orders by department**: the overdue work orders above,
//!   counted by the organisation that owns each one; they add up to the
//!   overdue work orders.
//! - **incidents by building**: the incidents placed at a registry building,
//!   counted per building (an incident without one is on no building).
//! - **repeat-call addresses** (重复报警地址): buildings with at least one
//!   incident of the period linked as a repeat, and how many of them were.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::china_time::ChinaDay;
use crate::clock::Timestamp;
use crate::dispute::{FollowUpStatus, RiskLevel};
use crate::incident::{Group, IncidentStatus, Satisfaction};
use crate::unit::{Force, ARRIVAL_STANDARD_MINUTES};
use crate::work_order::{WorkOrder, WorkOrderStatus};

/// What the figures need to know of one incident.
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentFacts {
    pub id: i64,
    pub received_at: Timestamp,
    /// The registry building it was placed at, if any.
    pub building_id: Option<i64>,
    /// `None` while untriaged.
    pub group: Option<Group>,
    pub category: Option<String>,
    pub status: IncidentStatus,
    /// Linked as a repeat of at least one earlier incident.
    pub repeat: bool,
    /// The caller's latest answer, if any.
    pub satisfaction: Option<Satisfaction>,
    pub work_orders: Vec<WorkOrder>,
    /// The units sent to it, in the order they were sent.
    pub responses: Vec<UnitResponse>,
    /// A unit on scene settled it (`resolved_on_scene`).
    pub resolved_on_scene: bool,
}

/// One unit sent to an incident, from its timeline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UnitResponse {
    pub unit_id: i64,
    pub force: Force,
    pub dispatched_at: Timestamp,
    pub arrived_at: Option<Timestamp>,
}

/// The arrivals of one force.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ArrivalFigure {
    pub within_standard: Rate,
    pub time_to_arrival: Minutes,
}

/// A count over a denominator, with the share when there is one.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rate {
    pub count: u64,
    pub of: u64,
    pub rate: Option<f64>,
}

impl Rate {
    fn new(count: u64, of: u64) -> Rate {
        Rate {
            count,
            of,
            rate: (of > 0).then(|| count as f64 / of as f64),
        }
    }
}

/// Durations in minutes: how many, their mean and 90th percentile.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Minutes {
    pub count: u64,
    pub mean: Option<f64>,
    pub p90: Option<f64>,
}

impl Minutes {
    fn of(mut millis: Vec<i64>) -> Minutes {
        millis.sort_unstable();
        let count = millis.len();
        if count == 0 {
            return Minutes {
                count: 0,
                mean: None,
                p90: None,
            };
        }
        let minutes = |ms: i64| ms as f64 / 60_000.0;
        let mean = minutes(millis.iter().sum::<i64>()) / count as f64;
        // Nearest rank: the ceil(0.9 n)-th smallest.
        let rank = (count * 9).div_ceil(10);
        Minutes {
            count: count as u64,
            mean: Some(mean),
            p90: Some(minutes(millis[rank - 1])),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SatisfactionFigure {
    pub count: u64,
    pub mean: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    pub incidents: u64,
    /// police, non_police, untriaged → count.
    pub by_group: BTreeMap<String, u64>,
    /// Category code → count; untriaged incidents are not in it.
    pub by_category: BTreeMap<String, u64>,
    pub diversion: Rate,
    pub linked_handling: Rate,
    pub on_scene_resolution: Rate,
    pub repeat_calls: Rate,
    pub time_to_accept: Minutes,
    pub time_to_finish: Minutes,
    pub work_orders: u64,
    pub overdue_work_orders: u64,
    /// Owner organisation → its overdue work orders.
    pub overdue_by_owner: BTreeMap<i64, u64>,
    /// Building → incidents placed there.
    pub by_building: BTreeMap<i64, u64>,
    /// Building → incidents there linked as repeats (buildings with none
    /// are left out).
    pub repeats_by_building: BTreeMap<i64, u64>,
    pub satisfaction: SatisfactionFigure,
    pub police_arrival: ArrivalFigure,
    pub street_arrival: ArrivalFigure,
    pub resolved_on_scene: Rate,
}

/// Which incidents of a period a figure counts: the records behind one bar
/// or point, chosen by the same rule that counted them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IncidentSelector {
    All,
    /// `police`, `non_police` or `untriaged`.
    Group(String),
    Category(String),
    Building(i64),
    /// Incidents at the building linked as repeats.
    RepeatsAt(i64),
    /// Incidents with a work order of this owner that missed a deadline.
    OverdueFor(i64),
    /// Non-police incidents with at least one work order.
    Diverted,
    /// Incidents with a caller's answer.
    Answered,
}

impl IncidentSelector {
    /// Whether `incident` is one of the records behind the figure, as of
    /// `now` (which decides whether an open work order is overdue).
    pub fn selects(&self, incident: &IncidentFacts, now: Timestamp) -> bool {
        match self {
            IncidentSelector::All => true,
            IncidentSelector::Group(group) => group_name(incident) == group,
            IncidentSelector::Category(code) => incident.category.as_deref() == Some(code),
            IncidentSelector::Building(id) => incident.building_id == Some(*id),
            IncidentSelector::RepeatsAt(id) => incident.repeat && incident.building_id == Some(*id),
            IncidentSelector::OverdueFor(owner) => incident
                .work_orders
                .iter()
                .any(|w| w.owner_org_id == *owner && missed_a_deadline(w, now)),
            IncidentSelector::Diverted => {
                incident.group == Some(Group::NonPolice) && !incident.work_orders.is_empty()
            }
            IncidentSelector::Answered => incident.satisfaction.is_some(),
        }
    }
}

fn group_name(incident: &IncidentFacts) -> &'static str {
    incident.group.map_or("untriaged", Group::as_str)
}

/// Whether `order` missed a deadline, as of `now`.
fn missed_a_deadline(order: &WorkOrder, now: Timestamp) -> bool {
    let late_accept = order.accepted_at.is_some_and(|at| at > order.accept_by);
    let late_return = order.returned_at.is_some_and(|at| at > order.finish_by);
    late_accept || late_return || !order.overdue(now).is_empty()
}

/// The 5-minute arrival rate and the time to arrival of `force`.
fn arrivals(incidents: &[IncidentFacts], force: Force, now: Timestamp) -> ArrivalFigure {
    let standard = (ARRIVAL_STANDARD_MINUTES * 60_000.0) as i64;
    let (mut judged, mut within) = (0, 0);
    let mut times = Vec::new();
    for incident in incidents {
        let sent = incident.responses.iter().filter(|r| r.force == force);
        let Some(_) = sent.clone().next() else {
            continue;
        };
        let first = sent.filter_map(|r| r.arrived_at).min();
        match first {
            Some(at) => {
                let waited = at.0 - incident.received_at.0;
                judged += 1;
                within += u64::from(waited <= standard);
                times.push(waited);
            }
            None if now.0 - incident.received_at.0 > standard => judged += 1,
            None => {}
        }
    }
    ArrivalFigure {
        within_standard: Rate::new(within, judged),
        time_to_arrival: Minutes::of(times),
    }
}

/// The figures of `incidents` (already chosen for the organisation and
/// period), with `now` deciding which open work orders are overdue.
pub fn compute(incidents: &[IncidentFacts], now: Timestamp) -> Figures {
    let mut by_group = BTreeMap::new();
    let mut by_category = BTreeMap::new();
    let (mut non_police, mut diverted) = (0, 0);
    let (mut with_orders, mut linked) = (0, 0);
    let (mut on_scene, mut repeats) = (0, 0);
    let (mut accept, mut finish) = (Vec::new(), Vec::new());
    let (mut work_orders, mut overdue) = (0, 0);
    let mut satisfaction = Vec::new();
    let mut overdue_by_owner = BTreeMap::new();
    let (mut by_building, mut repeats_by_building) = (BTreeMap::new(), BTreeMap::new());
    for incident in incidents {
        *by_group.entry(group_name(incident).to_owned()).or_insert(0) += 1;
        if let Some(building) = incident.building_id {
            *by_building.entry(building).or_insert(0) += 1;
            if incident.repeat {
                *repeats_by_building.entry(building).or_insert(0) += 1;
            }
        }
        if let Some(category) = &incident.category {
            *by_category.entry(category.clone()).or_insert(0) += 1;
        }
        let has_orders = !incident.work_orders.is_empty();
        if incident.group == Some(Group::NonPolice) {
            non_police += 1;
            diverted += u64::from(has_orders);
        }
        if has_orders {
            with_orders += 1;
            let owners: BTreeSet<i64> = incident
                .work_orders
                .iter()
                .filter(|w| w.status != WorkOrderStatus::Rejected)
                .map(|w| w.owner_org_id)
                .collect();
            linked += u64::from(owners.len() > 1);
        }
        let done = matches!(
            incident.status,
            IncidentStatus::Resolved | IncidentStatus::Closed
        );
        on_scene += u64::from(done && !has_orders);
        repeats += u64::from(incident.repeat);
        satisfaction.extend(incident.satisfaction.map(|s| u64::from(s.get())));
        for order in &incident.work_orders {
            work_orders += 1;
            if missed_a_deadline(order, now) {
                overdue += 1;
                *overdue_by_owner.entry(order.owner_org_id).or_insert(0) += 1;
            }
            accept.extend(order.accepted_at.map(|at| at.0 - order.created_at.0));
            finish.extend(order.returned_at.map(|at| at.0 - order.created_at.0));
        }
    }
    let total = incidents.len() as u64;
    let attended = incidents
        .iter()
        .filter(|i| i.responses.iter().any(|r| r.arrived_at.is_some()))
        .count() as u64;
    let settled = incidents.iter().filter(|i| i.resolved_on_scene).count() as u64;
    Figures {
        police_arrival: arrivals(incidents, Force::Police, now),
        street_arrival: arrivals(incidents, Force::Street, now),
        resolved_on_scene: Rate::new(settled, attended),
        incidents: total,
        by_group,
        by_category,
        diversion: Rate::new(diverted, non_police),
        linked_handling: Rate::new(linked, with_orders),
        on_scene_resolution: Rate::new(on_scene, total),
        repeat_calls: Rate::new(repeats, total),
        time_to_accept: Minutes::of(accept),
        time_to_finish: Minutes::of(finish),
        work_orders,
        overdue_work_orders: overdue,
        overdue_by_owner,
        by_building,
        repeats_by_building,
        satisfaction: SatisfactionFigure {
            count: satisfaction.len() as u64,
            mean: (!satisfaction.is_empty())
                .then(|| satisfaction.iter().sum::<u64>() as f64 / satisfaction.len() as f64),
        },
    }
}

// ---------------------------------------------------------------------------
// Prevention figures (矛盾纠纷预防化解): disputes, warnings and daily tasks.
//
// Definitions, over the organisation's subtree and the period (narrowed, when
// asked, to one officer or one grid; the store chooses the facts):
//
// - **disputes screened** (排查): field reports of kind dispute filed in the
//   period; how many of them were registered as a case.
// - **disputes registered** (登记): cases registered in the period, from any
//   source. The figures below are over these cases, as they stand now.
// - **mediation success rate** (调解成功率): cases whose mediation ended with
//   an agreement ÷ cases whose mediation ended (agreement, failure or
//   transfer). A case back in mediation after a broken agreement has not
//   ended.
// - **resolved within deadline** (按期化解率): cases that ended with an
//   agreement recorded no later than the risk level's mediation deadline
//   (`Dispute::mediate_by`: 1, 3, 7 or 15 days after registration for
//   critical, high, medium, low) ÷ cases whose mediation ended or whose
//   deadline has passed by now.
// - **agreements holding at follow-up** (回访履约率): follow-up visits
//   recorded as holding ÷ follow-up visits recorded (holding or broken).
// - **warnings closed on time** (预警按期处置率): warnings raised in the
//   period now closed and acknowledged by their `acknowledge_by` ÷ warnings
//   raised in the period.
// - **tasks done on time** (任务按期完成率): tasks done on (or before) their
//   own day ÷ tasks due on a day of the period (withdrawn ones not counted).
// - **open disputes by risk** (未化解纠纷): cases registered in the period
//   whose mediation has not ended (registered, or mediating — also again
//   after a broken agreement), counted by risk level.
// - **warnings overdue** (超时预警): warnings raised in the period still
//   not acknowledged now, past their `acknowledge_by` (`Warning::overdue`).
// ---------------------------------------------------------------------------

/// How a case's mediation ended, as it stands now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediationEnd {
    Agreement,
    Failed,
    Transferred,
}

/// What the prevention figures need to know of one dispute case.
#[derive(Debug, Clone, PartialEq)]
pub struct DisputeFacts {
    pub id: i64,
    pub risk: RiskLevel,
    pub mediate_by: Timestamp,
    /// `None` while registered or in mediation.
    pub ended: Option<MediationEnd>,
    /// When the (latest) agreement was recorded.
    pub agreed_at: Option<Timestamp>,
    pub follow_ups: Vec<FollowUpStatus>,
}

/// What the prevention figures need to know of one warning.
#[derive(Debug, Clone, PartialEq)]
pub struct WarningFacts {
    pub id: i64,
    pub acknowledge_by: Timestamp,
    pub acknowledged_at: Option<Timestamp>,
    pub closed: bool,
}

impl DisputeFacts {
    /// Open (未化解): its mediation has not ended.
    pub fn open(&self) -> bool {
        self.ended.is_none()
    }
}

impl WarningFacts {
    /// Open past its deadline: only an acknowledged warning can be closed,
    /// so one without an acknowledgement is open (`Warning::overdue`).
    pub fn overdue(&self, now: Timestamp) -> bool {
        self.acknowledged_at.is_none() && !self.closed && now > self.acknowledge_by
    }
}

/// What the prevention figures need to know of one task (not withdrawn).
#[derive(Debug, Clone, PartialEq)]
pub struct TaskFacts {
    pub day: ChinaDay,
    pub done_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct PreventionFacts {
    /// Field reports of kind dispute filed in the period.
    pub screened: u64,
    /// Of those, the ones registered as a case.
    pub screened_registered: u64,
    pub disputes: Vec<DisputeFacts>,
    pub warnings: Vec<WarningFacts>,
    pub tasks: Vec<TaskFacts>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PreventionFigures {
    pub disputes_screened: u64,
    pub screened_registered: u64,
    pub disputes_registered: u64,
    pub mediation_success: Rate,
    pub resolved_within_deadline: Rate,
    pub follow_ups_holding: Rate,
    pub warnings_closed_on_time: Rate,
    pub tasks_done_on_time: Rate,
    /// Risk level → cases still open; every level is present.
    pub open_disputes_by_risk: BTreeMap<String, u64>,
    pub warnings_overdue: u64,
}

/// The prevention figures of `facts`, with `now` deciding whose mediation
/// deadline has passed.
pub fn compute_prevention(facts: &PreventionFacts, now: Timestamp) -> PreventionFigures {
    let disputes = &facts.disputes;
    let ended = disputes.iter().filter(|d| d.ended.is_some()).count() as u64;
    let agreed = |d: &&DisputeFacts| d.ended == Some(MediationEnd::Agreement);
    let agreements = disputes.iter().filter(agreed).count() as u64;
    let in_time = disputes
        .iter()
        .filter(agreed)
        .filter(|d| d.agreed_at.is_some_and(|at| at <= d.mediate_by))
        .count() as u64;
    let decided = disputes
        .iter()
        .filter(|d| d.ended.is_some() || now > d.mediate_by)
        .count() as u64;
    let visits = disputes.iter().flat_map(|d| &d.follow_ups);
    let recorded = visits
        .clone()
        .filter(|s| matches!(s, FollowUpStatus::Holding | FollowUpStatus::Broken))
        .count() as u64;
    let holding = visits.filter(|s| **s == FollowUpStatus::Holding).count() as u64;
    let warnings_on_time = facts
        .warnings
        .iter()
        .filter(|w| w.closed && w.acknowledged_at.is_some_and(|at| at <= w.acknowledge_by))
        .count() as u64;
    let tasks_on_time = facts
        .tasks
        .iter()
        .filter(|t| t.done_at.is_some_and(|at| ChinaDay::of(at) <= t.day))
        .count() as u64;
    let mut open_disputes_by_risk: BTreeMap<String, u64> = RiskLevel::ALL
        .iter()
        .map(|level| (level.as_str().to_owned(), 0))
        .collect();
    for dispute in disputes.iter().filter(|d| d.open()) {
        *open_disputes_by_risk
            .entry(dispute.risk.as_str().to_owned())
            .or_insert(0) += 1;
    }
    let warnings_overdue = facts.warnings.iter().filter(|w| w.overdue(now)).count() as u64;
    PreventionFigures {
        disputes_screened: facts.screened,
        screened_registered: facts.screened_registered,
        disputes_registered: disputes.len() as u64,
        mediation_success: Rate::new(agreements, ended),
        resolved_within_deadline: Rate::new(in_time, decided),
        follow_ups_holding: Rate::new(holding, recorded),
        warnings_closed_on_time: Rate::new(warnings_on_time, facts.warnings.len() as u64),
        tasks_done_on_time: Rate::new(tasks_on_time, facts.tasks.len() as u64),
        open_disputes_by_risk,
        warnings_overdue,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::category::CategoryCode;

    const T: i64 = 1_764_000_000_000;
    const MINUTE: i64 = 60_000;

    fn at(minutes: i64) -> Timestamp {
        Timestamp(T + minutes * MINUTE)
    }

    /// A work order created at T to `owner`, due accepted in 60 minutes and
    /// finished in one day.
    fn order(id: i64, owner: i64, status: WorkOrderStatus) -> WorkOrder {
        WorkOrder {
            id,
            incident_id: 0,
            category: CategoryCode::parse("category", "noise").unwrap(),
            originator_org_id: 1,
            owner_org_id: owner,
            supervisor_org_id: None,
            status,
            created_at: at(0),
            accept_by: at(60),
            finish_by: at(24 * 60),
            accepted_at: None,
            returned_at: None,
            result: None,
            rejection: None,
            replaces: None,
            escalated_accept: false,
            escalated_finish: false,
        }
    }

    fn accepted(mut order: WorkOrder, minutes: i64) -> WorkOrder {
        order.accepted_at = Some(at(minutes));
        order
    }

    fn returned(mut order: WorkOrder, minutes: i64) -> WorkOrder {
        order.returned_at = Some(at(minutes));
        order
    }

    fn incident(
        group: Option<Group>,
        category: Option<&str>,
        status: IncidentStatus,
        work_orders: Vec<WorkOrder>,
    ) -> IncidentFacts {
        IncidentFacts {
            id: 0,
            received_at: at(0),
            building_id: None,
            group,
            category: category.map(str::to_owned),
            status,
            repeat: false,
            satisfaction: None,
            work_orders,
            responses: Vec::new(),
            resolved_on_scene: false,
        }
    }

    fn sent(mut facts: IncidentFacts, force: Force, arrived: Option<i64>) -> IncidentFacts {
        facts.responses.push(UnitResponse {
            unit_id: facts.responses.len() as i64 + 1,
            force,
            dispatched_at: at(1),
            arrived_at: arrived.map(at),
        });
        facts
    }

    fn satisfied(mut facts: IncidentFacts, value: u8) -> IncidentFacts {
        facts.satisfaction = Some(Satisfaction::parse(value).unwrap());
        facts
    }

    fn repeat(mut facts: IncidentFacts) -> IncidentFacts {
        facts.repeat = true;
        facts
    }

    /// Seven incidents whose figures were worked out by hand.
    fn seven() -> Vec<IncidentFacts> {
        use Group::{NonPolice, Police};
        use IncidentStatus as S;
        use WorkOrderStatus as W;
        vec![
            // 1: a theft the station resolved itself; caller very satisfied.
            satisfied(
                incident(Some(Police), Some("theft"), S::Resolved, vec![]),
                5,
            ),
            // 2: a fight, still with the command room; a repeat call.
            repeat(incident(Some(Police), Some("fight"), S::Dispatched, vec![])),
            // 3: noise, accepted after 30 min, returned after 120, closed.
            satisfied(
                incident(
                    Some(NonPolice),
                    Some("noise"),
                    S::Closed,
                    vec![returned(accepted(order(1, 10, W::Confirmed), 30), 120)],
                ),
                3,
            ),
            // 4: wages, two departments at once: one accepted late (90 > 60)
            // and returned after 600 min, one never accepted (overdue now).
            repeat(incident(
                Some(NonPolice),
                Some("wage_arrears"),
                S::InProgress,
                vec![
                    returned(accepted(order(2, 11, W::Returned), 90), 600),
                    order(3, 12, W::Created),
                ],
            )),
            // 5: noise that nobody covered: no work order.
            incident(Some(NonPolice), Some("noise"), S::Triaged, vec![]),
            // 6: not triaged yet.
            incident(None, None, S::Received, vec![]),
            // 7: rejected by one department, re-routed to another that
            // accepted after 10 min and still holds it past its finish
            // deadline: one organisation, not linked handling.
            incident(
                Some(NonPolice),
                Some("consultation"),
                S::InProgress,
                vec![
                    order(4, 10, W::Rejected),
                    accepted(order(5, 13, W::InProgress), 10),
                ],
            ),
        ]
    }

    /// The seven, numbered 1 to 7, with the theft and the fight (a repeat)
    /// at building 100, the noise of 3 and the wages (a repeat) at 200.
    fn seven_placed() -> Vec<IncidentFacts> {
        let mut seven = seven();
        for (i, incident) in seven.iter_mut().enumerate() {
            incident.id = i as i64 + 1;
            incident.building_id = match incident.id {
                1 | 2 => Some(100),
                3 | 4 => Some(200),
                _ => None,
            };
        }
        seven
    }

    #[test]
    fn seven_incidents_give_the_figures_worked_out_by_hand() {
        let now = at(10 * 24 * 60);
        let figures = compute(&seven_placed(), now);
        assert_eq!(figures.incidents, 7);
        let counts = |pairs: &[(&str, u64)]| {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), *v))
                .collect::<BTreeMap<_, _>>()
        };
        assert_eq!(
            figures.by_group,
            counts(&[("police", 2), ("non_police", 4), ("untriaged", 1)])
        );
        assert_eq!(
            figures.by_category,
            counts(&[
                ("theft", 1),
                ("fight", 1),
                ("noise", 2),
                ("wage_arrears", 1),
                ("consultation", 1)
            ])
        );
        assert_eq!(figures.diversion, Rate::new(3, 4));
        assert_eq!(figures.diversion.rate, Some(0.75));
        assert_eq!(figures.linked_handling, Rate::new(1, 3));
        assert_eq!(figures.on_scene_resolution, Rate::new(1, 7));
        assert_eq!(figures.repeat_calls, Rate::new(2, 7));
        assert_eq!(figures.time_to_accept.count, 3);
        assert!((figures.time_to_accept.mean.unwrap() - 130.0 / 3.0).abs() < 1e-9);
        assert_eq!(figures.time_to_accept.p90, Some(90.0));
        assert_eq!(figures.time_to_finish.count, 2);
        assert_eq!(figures.time_to_finish.mean, Some(360.0));
        assert_eq!(figures.time_to_finish.p90, Some(600.0));
        assert_eq!(figures.work_orders, 5);
        assert_eq!(figures.overdue_work_orders, 3);
        let ids = |pairs: &[(i64, u64)]| pairs.iter().copied().collect::<BTreeMap<_, _>>();
        assert_eq!(figures.overdue_by_owner, ids(&[(11, 1), (12, 1), (13, 1)]));
        assert_eq!(figures.by_building, ids(&[(100, 2), (200, 2)]));
        assert_eq!(figures.repeats_by_building, ids(&[(100, 1), (200, 1)]));
        assert_eq!(figures.satisfaction.count, 2);
        assert_eq!(figures.satisfaction.mean, Some(4.0));
    }

    #[test]
    fn each_selector_picks_the_records_its_figure_counts() {
        let now = at(10 * 24 * 60);
        let seven = seven_placed();
        let figures = compute(&seven, now);
        let picked = |selector: IncidentSelector| -> Vec<i64> {
            seven
                .iter()
                .filter(|i| selector.selects(i, now))
                .map(|i| i.id)
                .collect()
        };
        use IncidentSelector as S;
        for (group, count) in &figures.by_group {
            assert_eq!(
                picked(S::Group(group.clone())).len() as u64,
                *count,
                "{group}"
            );
        }
        for (category, count) in &figures.by_category {
            assert_eq!(picked(S::Category(category.clone())).len() as u64, *count);
        }
        for (building, count) in &figures.by_building {
            assert_eq!(picked(S::Building(*building)).len() as u64, *count);
        }
        assert_eq!(picked(S::RepeatsAt(100)), [2]);
        assert_eq!(picked(S::RepeatsAt(200)), [4]);
        assert_eq!(picked(S::OverdueFor(12)), [4]);
        assert_eq!(picked(S::OverdueFor(13)), [7]);
        // Owner 10 confirmed in time, and its rejected order is not late.
        assert!(picked(S::OverdueFor(10)).is_empty());
        assert_eq!(picked(S::Diverted).len() as u64, figures.diversion.count);
        assert_eq!(picked(S::Answered).len() as u64, figures.satisfaction.count);
        assert_eq!(picked(S::All).len(), 7);
    }

    #[test]
    fn an_open_work_order_is_overdue_only_once_its_deadline_has_passed() {
        let waiting = vec![incident(
            Some(Group::NonPolice),
            Some("noise"),
            IncidentStatus::Diverted,
            vec![order(1, 10, WorkOrderStatus::Created)],
        )];
        assert_eq!(compute(&waiting, at(60)).overdue_work_orders, 0);
        assert_eq!(compute(&waiting, at(61)).overdue_work_orders, 1);
    }

    #[test]
    fn the_90th_percentile_is_the_nearest_rank() {
        let minutes = |values: &[i64]| Minutes::of(values.iter().map(|m| m * MINUTE).collect());
        let ten: Vec<i64> = (1..=10).collect();
        assert_eq!(minutes(&ten).p90, Some(9.0));
        let eleven: Vec<i64> = (1..=11).collect();
        assert_eq!(minutes(&eleven).p90, Some(10.0));
        assert_eq!(minutes(&[7]).p90, Some(7.0));
        assert_eq!(minutes(&[]).mean, None);
    }

    #[test]
    fn no_incidents_have_no_rates() {
        let figures = compute(&[], at(0));
        assert_eq!(figures.incidents, 0);
        assert_eq!(figures.diversion.rate, None);
        assert_eq!(figures.satisfaction.mean, None);
    }

    mod prevention {
        use super::super::*;
        use super::at;

        fn dispute(
            deadline_minutes: i64,
            ended: Option<MediationEnd>,
            agreed: Option<i64>,
            follow_ups: Vec<FollowUpStatus>,
        ) -> DisputeFacts {
            DisputeFacts {
                id: deadline_minutes,
                risk: RiskLevel::High,
                mediate_by: at(deadline_minutes),
                ended,
                agreed_at: agreed.map(at),
                follow_ups,
            }
        }

        #[test]
        fn hand_made_facts_give_the_figures_worked_out_by_hand() {
            use FollowUpStatus::{Broken, Cancelled, Holding, Pending};
            use MediationEnd::{Agreement, Failed, Transferred};
            let day = 24 * 60;
            let facts = PreventionFacts {
                screened: 3,
                screened_registered: 2,
                disputes: vec![
                    // Agreed within its deadline, both visits holding.
                    dispute(
                        3 * day,
                        Some(Agreement),
                        Some(2 * day),
                        vec![Holding, Holding],
                    ),
                    // Agreed after its deadline; first visit holding, second due.
                    dispute(day, Some(Agreement), Some(2 * day), vec![Holding, Pending]),
                    // Failed; transferred.
                    dispute(7 * day, Some(Failed), None, vec![]),
                    dispute(7 * day, Some(Transferred), None, vec![]),
                    // Broken at the first visit, back in mediation: not
                    // ended, its deadline (day 1) passed by now.
                    dispute(day, None, Some(12 * 60), vec![Broken, Cancelled]),
                    // Still registered, deadline not yet passed: not counted.
                    dispute(15 * day, None, None, vec![]),
                ],
                warnings: vec![
                    // Acknowledged in time and closed.
                    WarningFacts {
                        id: 1,
                        acknowledge_by: at(60),
                        acknowledged_at: Some(at(30)),
                        closed: true,
                    },
                    // Acknowledged late, closed.
                    WarningFacts {
                        id: 1,
                        acknowledge_by: at(60),
                        acknowledged_at: Some(at(61)),
                        closed: true,
                    },
                    // Acknowledged in time, still open.
                    WarningFacts {
                        id: 1,
                        acknowledge_by: at(60),
                        acknowledged_at: Some(at(60)),
                        closed: false,
                    },
                    // Never acknowledged: overdue now.
                    WarningFacts {
                        id: 4,
                        acknowledge_by: at(60),
                        acknowledged_at: None,
                        closed: false,
                    },
                ],
                tasks: vec![
                    // T is 2025-11-25 00:00 Beijing time (16:00 UTC the day before).
                    TaskFacts {
                        day: ChinaDay::of(at(0)),
                        done_at: Some(at(23 * 60)),
                    },
                    TaskFacts {
                        day: ChinaDay::of(at(0)),
                        done_at: Some(at(24 * 60)),
                    },
                    TaskFacts {
                        day: ChinaDay::of(at(0)),
                        done_at: None,
                    },
                    TaskFacts {
                        day: ChinaDay::of(at(0)).plus_days(1),
                        done_at: Some(at(0)),
                    },
                ],
            };
            let f = compute_prevention(&facts, at(10 * day));
            assert_eq!(f.disputes_screened, 3);
            assert_eq!(f.screened_registered, 2);
            assert_eq!(f.disputes_registered, 6);
            assert_eq!(f.mediation_success, Rate::new(2, 4));
            assert_eq!(f.resolved_within_deadline, Rate::new(1, 5));
            assert_eq!(f.follow_ups_holding, Rate::new(3, 4));
            assert_eq!(f.warnings_closed_on_time, Rate::new(1, 4));
            assert_eq!(f.tasks_done_on_time, Rate::new(2, 4));
            // The two not ended, both high; the fourth warning is overdue.
            let open: Vec<(&str, u64)> = f
                .open_disputes_by_risk
                .iter()
                .map(|(k, v)| (k.as_str(), *v))
                .collect();
            assert_eq!(
                open,
                [("critical", 0), ("high", 2), ("low", 0), ("medium", 0)]
            );
            assert_eq!(f.warnings_overdue, 1);
        }

        #[test]
        fn a_warning_is_overdue_while_unacknowledged_past_its_deadline() {
            let warning = |acknowledged: Option<i64>, closed| WarningFacts {
                id: 1,
                acknowledge_by: at(60),
                acknowledged_at: acknowledged.map(at),
                closed,
            };
            assert!(!warning(None, false).overdue(at(60)));
            assert!(warning(None, false).overdue(at(61)));
            assert!(!warning(Some(90), false).overdue(at(120)));
            assert!(!warning(Some(90), true).overdue(at(120)));
        }

        #[test]
        fn nothing_to_count_has_no_rates() {
            let f = compute_prevention(&PreventionFacts::default(), at(0));
            assert_eq!(f.disputes_registered, 0);
            assert_eq!(f.mediation_success.rate, None);
            assert_eq!(f.tasks_done_on_time.rate, None);
        }
    }

    #[test]
    fn arrivals_count_from_receipt_per_force_and_judge_a_pending_one_only_after_five_minutes() {
        use Group::{NonPolice, Police};
        let police = || {
            incident(
                Some(Police),
                Some("fight"),
                IncidentStatus::InProgress,
                vec![],
            )
        };
        let mut settled = sent(police(), Force::Police, Some(4));
        settled.resolved_on_scene = true;
        let incidents = vec![
            settled,
            // The second unit arrived first: the first arrival counts.
            sent(sent(police(), Force::Police, None), Force::Police, Some(6)),
            sent(police(), Force::Police, Some(5)),
            // Not arrived, 10 minutes after receipt: judged late.
            sent(police(), Force::Police, None),
            sent(
                incident(
                    Some(NonPolice),
                    Some("noise"),
                    IncidentStatus::InProgress,
                    vec![],
                ),
                Force::Street,
                Some(3),
            ),
        ];
        let figures = compute(&incidents, at(10));
        assert_eq!(figures.police_arrival.within_standard, Rate::new(2, 4));
        assert_eq!(figures.police_arrival.time_to_arrival.count, 3);
        assert_eq!(figures.police_arrival.time_to_arrival.mean, Some(5.0));
        assert_eq!(figures.street_arrival.within_standard, Rate::new(1, 1));
        assert_eq!(figures.resolved_on_scene, Rate::new(1, 4));
        // Asked three minutes after receipt, the one not arrived is not judged.
        let early = compute(&incidents, at(3));
        assert_eq!(early.police_arrival.within_standard, Rate::new(2, 3));
    }
}
