//! Issue 4's stories told through the core alone: a work order rejected and
//! re-routed until the caller is satisfied, deadlines that fall due while the
//! server is down, and three noise complaints at one address.

use fengqiao_core::audit::Actor;
use fengqiao_core::category::Category;
use fengqiao_core::incident::{
    Feedback, Group, Incident, IncidentEvent, IncidentInput, IncidentStatus, NewIncident, Priority,
    Satisfaction, Triage, TriagedBy,
};
use fengqiao_core::personal::PersonalData;
use fengqiao_core::receipt::{ReceiptNumber, StationCode};
use fengqiao_core::repeat_call::{CallFacts, RepeatCallDetector};
use fengqiao_core::timeline::TimelineEvent;
use fengqiao_core::work_order::{
    scan_deadlines, Deadline, DeadlinePolicy, HandlingNote, NewWorkOrder, OrgActor, WorkOrder,
    WorkOrderEvent, WorkOrderStatus,
};
use fengqiao_core::{Clock, ManualClock, Timestamp};
use proptest::prelude::*;

const START: Timestamp = Timestamp(1_795_500_000_000);
const COMMAND_ROOM: i64 = 20;
const STATION_CHIEF_ORG: i64 = 9;
const URBAN_MANAGEMENT: i64 = 40;
const LABOUR_INSPECTION: i64 = 41;
const OPERATOR: Actor = Actor::User(7);

fn receive(id: i64, text: &str, clock: &ManualClock) -> Incident {
    let new = NewIncident::parse(IncidentInput {
        source: "call_110",
        text,
        location_text: "成都武侯浆洗街某小区3栋2单元501",
        address_id: Some(501),
        reporter: Some(PersonalData::phone("reporter", "13812345678").unwrap()),
        ..Default::default()
    })
    .unwrap();
    let station = StationCode::parse("JXJ").unwrap();
    let receipt = ReceiptNumber::new(station, clock.now(), id as u32).unwrap();
    Incident::receive(
        id,
        STATION_CHIEF_ORG,
        receipt,
        new,
        Actor::Token(1),
        clock.now(),
    )
    .state
}

fn wage_arrears() -> Triage {
    Triage {
        category: Category::new("wage_arrears", "labour").unwrap(),
        group: Group::NonPolice,
        priority: Priority::parse(2).unwrap(),
    }
}

fn order_for(id: i64, owner: i64) -> NewWorkOrder {
    NewWorkOrder {
        id,
        originator_org_id: COMMAND_ROOM,
        owner_org_id: owner,
        supervisor_org_id: Some(STATION_CHIEF_ORG),
        deadlines: DeadlinePolicy::new(60, 7200).unwrap(),
    }
}

fn note(text: &str) -> HandlingNote {
    HandlingNote::parse("note", text).unwrap()
}

/// The timeline a page shows: the incident's events and its work orders',
/// merged by time (stable, so same-millisecond events keep their order).
#[derive(Debug, PartialEq)]
enum Step {
    Incident(IncidentEvent),
    WorkOrder(i64, WorkOrderEvent),
}

#[test]
fn a_rejected_work_order_is_rerouted_and_the_loop_closes_with_feedback() {
    let clock = ManualClock::new(START);
    let mut timeline: Vec<(Timestamp, Actor, Step)> = Vec::new();
    let log_incident = |events: Vec<TimelineEvent<IncidentEvent>>,
                        timeline: &mut Vec<(Timestamp, Actor, Step)>| {
        for e in events {
            timeline.push((e.at, e.actor, Step::Incident(e.event)));
        }
    };
    let log_order = |id: i64,
                     events: Vec<TimelineEvent<WorkOrderEvent>>,
                     timeline: &mut Vec<(Timestamp, Actor, Step)>| {
        for e in events {
            timeline.push((e.at, e.actor, Step::WorkOrder(id, e.event)));
        }
    };

    let incident = receive(1, "工地老板拖欠我们三个月工资不给", &clock);
    assert_eq!(incident.receipt.to_string(), "JXJ-20261124-0001");

    clock.advance_minutes(1);
    let t = incident
        .triage(wage_arrears(), TriagedBy::Rules, Actor::System, clock.now())
        .unwrap();
    log_incident(t.events, &mut timeline);
    let incident = t.state;

    // Routed by mistake to urban management, which rejects it.
    clock.advance_minutes(2);
    let d = incident
        .divert(order_for(100, URBAN_MANAGEMENT), OPERATOR, clock.now())
        .unwrap();
    log_incident(d.incident.events, &mut timeline);
    log_order(100, d.work_order.events, &mut timeline);
    let incident = d.incident.state;
    assert_eq!(incident.status, IncidentStatus::Diverted);

    clock.advance_minutes(20);
    let urban = OrgActor::new(Actor::User(40), URBAN_MANAGEMENT);
    let r = d
        .work_order
        .state
        .reject(&urban, note("欠薪不属于城管职责"), clock.now())
        .unwrap();
    log_order(100, r.events, &mut timeline);
    let rejected = r.state;

    clock.advance_minutes(5);
    let d = incident
        .reroute(
            &rejected,
            order_for(101, LABOUR_INSPECTION),
            OPERATOR,
            clock.now(),
        )
        .unwrap();
    log_incident(d.incident.events, &mut timeline);
    log_order(101, d.work_order.events, &mut timeline);
    let incident = d.incident.state;
    let labour = OrgActor::new(Actor::User(41), LABOUR_INSPECTION);

    clock.advance_minutes(30);
    let a = d.work_order.state.accept(&labour, clock.now()).unwrap();
    log_order(101, a.events, &mut timeline);
    let t = incident.start_handling(Actor::System, clock.now()).unwrap();
    log_incident(t.events, &mut timeline);
    let incident = t.state;

    clock.advance_minutes(60);
    let s = a.state.start(&labour, clock.now()).unwrap();
    log_order(101, s.events, &mut timeline);

    clock.advance_minutes(2 * 24 * 60);
    let ret = s
        .state
        .return_result(&labour, note("已约谈老板，工资本周五前补发"), clock.now())
        .unwrap();
    log_order(101, ret.events, &mut timeline);

    // Not confirmed yet: the incident cannot be resolved.
    assert!(incident
        .resolve(
            &[rejected.clone(), ret.state.clone()],
            OPERATOR,
            clock.now()
        )
        .is_err());

    clock.advance_minutes(10);
    let command_room = OrgActor::new(OPERATOR, COMMAND_ROOM);
    let c = ret.state.confirm(&command_room, clock.now()).unwrap();
    log_order(101, c.events, &mut timeline);
    let orders = [rejected, c.state];
    let t = incident.resolve(&orders, OPERATOR, clock.now()).unwrap();
    log_incident(t.events, &mut timeline);

    clock.advance_minutes(24 * 60);
    let feedback = Feedback {
        resolved: true,
        satisfaction: Satisfaction::parse(5).unwrap(),
    };
    let t = t
        .state
        .record_feedback(feedback, &orders, Actor::User(8), clock.now())
        .unwrap();
    log_incident(t.events, &mut timeline);
    assert_eq!(t.state.status, IncidentStatus::Closed);

    timeline.sort_by_key(|(at, _, _)| *at);
    let steps: Vec<(String, String)> = timeline
        .iter()
        .map(|(_, actor, step)| {
            let name = match step {
                Step::Incident(e) => serde_json::to_value(e).unwrap()["event"].to_string(),
                Step::WorkOrder(id, e) => format!(
                    "{id}:{}",
                    serde_json::to_value(e).unwrap()["event"].as_str().unwrap()
                ),
            };
            (name.trim_matches('"').to_owned(), actor.to_stored())
        })
        .collect();
    let expected = [
        ("triaged", "system"),
        ("routed", "user:7"),
        ("work_order_created", "user:7"),
        ("100:created", "user:7"),
        ("100:rejected", "user:40"),
        ("routed", "user:7"),
        ("work_order_created", "user:7"),
        ("101:created", "user:7"),
        ("101:accepted", "user:41"),
        ("handling_started", "system"),
        ("101:started", "user:41"),
        ("101:returned", "user:41"),
        ("101:confirmed", "user:7"),
        ("resolved", "user:7"),
        ("feedback_recorded", "user:8"),
        ("closed", "user:8"),
    ];
    assert_eq!(
        steps,
        expected
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect::<Vec<_>>()
    );
    assert_eq!(orders[1].replaces, Some(100));
    assert_eq!(orders[0].status, WorkOrderStatus::Rejected);
}

/// The escalation job as the server will run it: scan, escalate, store.
fn run_escalation_job(store: &mut [WorkOrder], now: Timestamp) -> Vec<(i64, Deadline)> {
    let due = scan_deadlines(store.iter(), now);
    let mut raised = Vec::new();
    for order in store.iter_mut() {
        let t = order.escalate(now);
        for event in &t.events {
            if let WorkOrderEvent::Escalated {
                deadline, to_org, ..
            } = event.event
            {
                assert_eq!(to_org, Some(STATION_CHIEF_ORG));
                raised.push((order.id, deadline));
            }
        }
        *order = t.state;
    }
    assert_eq!(
        due.iter()
            .map(|e| (e.work_order_id, e.deadline))
            .collect::<std::collections::BTreeSet<_>>(),
        raised.iter().copied().collect(),
        "the scan lists exactly what escalate raises"
    );
    raised
}

#[test]
fn deadlines_that_fell_due_while_the_server_was_down_escalate_once_after_restart() {
    let clock = ManualClock::new(START);
    let incident = receive(2, "拖欠工资", &clock)
        .triage(wage_arrears(), TriagedBy::Rules, Actor::System, clock.now())
        .unwrap()
        .state;
    let d = incident
        .divert(order_for(200, LABOUR_INSPECTION), OPERATOR, clock.now())
        .unwrap();
    let mut store = vec![d.work_order.state];

    // Running normally: nothing due yet.
    clock.advance_minutes(30);
    assert!(run_escalation_job(&mut store, clock.now()).is_empty());

    // The server stops; both deadlines (60 minutes, 5 days) pass; it
    // starts again ten days later and the job runs at once.
    clock.advance_minutes(10 * 24 * 60);
    let raised = run_escalation_job(&mut store, clock.now());
    assert_eq!(raised, [(200, Deadline::Accept), (200, Deadline::Finish)]);
    assert!(store[0].escalated_accept && store[0].escalated_finish);

    // The next run, and one after another restart, raise nothing.
    assert!(run_escalation_job(&mut store, clock.now()).is_empty());
    clock.advance_minutes(60);
    assert!(run_escalation_job(&mut store, clock.now()).is_empty());
    assert!(scan_deadlines(store.iter(), clock.now()).is_empty());
    assert_eq!(store[0].next_deadline(), None);
}

#[test]
fn three_noise_complaints_raise_one_warning_and_a_fourth_no_second() {
    let clock = ManualClock::new(START);
    let detector = RepeatCallDetector::default();
    let noise = Triage {
        category: Category::new("noise", "environment").unwrap(),
        group: Group::NonPolice,
        priority: Priority::parse(3).unwrap(),
    };
    let mut earlier: Vec<CallFacts> = Vec::new();
    let mut warning_open = false;
    let mut warnings = Vec::new();
    for (id, text) in [
        (11, "楼上半夜跺脚，吵得睡不着"),
        (12, "楼上又在半夜放音乐"),
        (13, "还是楼上，凌晨两点还在吵"),
        (14, "楼上噪音，第四次打电话了"),
    ] {
        let incident = receive(id, text, &clock)
            .triage(noise.clone(), TriagedBy::Rules, Actor::System, clock.now())
            .unwrap()
            .state;
        let facts = CallFacts {
            incident_id: id,
            address_id: incident.location.address_id,
            caller_index: None,
            category: noise.category.clone(),
            received_at: clock.now(),
        };
        let finding = detector.check(&facts, &earlier, warning_open);
        let linked = incident
            .link_repeats(&finding, Actor::System, clock.now())
            .unwrap();
        for event in linked.events {
            if let IncidentEvent::RepeatCallWarningRaised { incidents, .. } = event.event {
                warnings.push(incidents);
                warning_open = true;
            }
        }
        assert_eq!(linked.state.repeat_of.len(), earlier.len());
        earlier.push(facts);
        clock.advance_minutes(5 * 24 * 60);
    }
    assert_eq!(warnings, [vec![11, 12, 13]]);
}

proptest! {
    /// Whatever times the job runs at, in any order, each deadline escalates
    /// at most once, and exactly once when some run came after it.
    #[test]
    fn escalation_is_at_most_once_per_deadline(scans in proptest::collection::vec(0i64..20_000, 0..12)) {
        let clock = ManualClock::new(START);
        let incident = receive(3, "拖欠工资", &clock)
            .triage(wage_arrears(), TriagedBy::Rules, Actor::System, clock.now())
            .unwrap()
            .state;
        let mut store = vec![incident
            .divert(order_for(300, LABOUR_INSPECTION), OPERATOR, clock.now())
            .unwrap()
            .work_order
            .state];
        let mut raised = Vec::new();
        for minutes in &scans {
            raised.extend(run_escalation_job(&mut store, START.plus_minutes(*minutes)));
        }
        let latest = scans.iter().max().copied().unwrap_or(0);
        let accept = raised.iter().filter(|(_, d)| *d == Deadline::Accept).count();
        let finish = raised.iter().filter(|(_, d)| *d == Deadline::Finish).count();
        prop_assert_eq!(accept, usize::from(latest > 60));
        prop_assert_eq!(finish, usize::from(latest > 7200));
    }

    #[test]
    fn receipt_numbers_read_back_as_written(
        station in "[A-Z][A-Z0-9]{1,7}",
        millis in 946_684_800_000i64..4_102_444_800_000,
        sequence in 1u32..=99_999,
    ) {
        let receipt = ReceiptNumber::new(StationCode::parse(&station).unwrap(), Timestamp(millis), sequence).unwrap();
        prop_assert_eq!(ReceiptNumber::parse(&receipt.to_string()).unwrap(), receipt);
    }
}
