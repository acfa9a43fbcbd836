//! GET /api/v1/figures through the real router on both backends: incidents
//! taken in through the API and incidents carried through the closed loop by
//! the core's transitions, with every figure worked out by hand; the period
//! and the jurisdiction bound what is counted.

use axum::http::{Method, StatusCode};
use fengqiao_core::audit::Actor;
use fengqiao_core::category::Category;
use fengqiao_core::incident::{
    Feedback, Group, Incident, IncidentInput, NewIncident, Priority, Satisfaction, Triage,
    TriagedBy,
};
use fengqiao_core::receipt::{ReceiptDate, ReceiptNumber, StationCode};
use fengqiao_core::repeat_call::RepeatCallFinding;
use fengqiao_core::role::Role;
use fengqiao_core::timeline::TimelineEvent;
use fengqiao_core::work_order::{DeadlinePolicy, HandlingNote, NewWorkOrder, OrgActor, WorkOrder};
use fengqiao_core::Timestamp;
use fengqiao_store::testing::TestDatabase;
use fengqiao_store::{backend_tests, IncidentExtras};
use serde_json::{json, Value};

use crate::helpers::{add_account, add_desks, Desks, TestApp, T0};

const JINLI: &str = "成都市武侯区浆洗街锦里小区3栋";
const MINUTE: i64 = 60_000;
const DAY: i64 = 24 * 60 * MINUTE;

fn at(minutes: i64) -> Timestamp {
    Timestamp(T0.0 + minutes * MINUTE)
}

/// A department's handling: accepted and returned so many minutes after
/// the work order was made, then confirmed by the command room.
pub struct Handling {
    pub owner: i64,
    pub accepted_after: i64,
    pub returned_after: i64,
}

/// What happens to an incident written through the core's transitions.
pub struct Story<'a> {
    pub received: Timestamp,
    pub category: (&'a str, &'a str),
    pub group: Group,
    pub handled_by: Vec<Handling>,
    /// Resolved by the station (or after its work orders), then the caller
    /// answers with this satisfaction.
    pub satisfaction: Option<u8>,
    pub repeat_of: Option<i64>,
}

/// Writes an incident of station A as intake and the work-order actions
/// would: every state comes from a core transition, every event goes to the
/// timeline. Work orders allow 60 minutes to accept and a day to finish.
pub async fn write(app: &TestApp, desks: &Desks, story: Story<'_>) -> i64 {
    let store = &app.db.store;
    let station = &app.world.station_a;
    let room = desks.command_room.id;
    let system = Actor::System;
    let new = NewIncident::parse(IncidentInput {
        source: "phone",
        text: "测试用的报警内容",
        location_text: JINLI,
        ..Default::default()
    })
    .unwrap();
    let t = story.received;
    let mut tx = store.begin().await.unwrap();
    let id = tx.next_incident_id().await.unwrap();
    let sequence = tx
        .next_receipt_sequence(station.id, ReceiptDate::of(t))
        .await
        .unwrap();
    let receipt = ReceiptNumber::new(StationCode::parse("JXJ").unwrap(), t, sequence).unwrap();
    let mut events: Vec<TimelineEvent<_>> = Vec::new();
    let mut step = |transition: fengqiao_core::timeline::Transition<Incident, _>| {
        events.extend(transition.events);
        transition.state
    };
    let mut incident = step(Incident::receive(
        id,
        station.id,
        receipt,
        new,
        system.clone(),
        t,
    ));
    let triage = Triage {
        category: Category::new(story.category.0, story.category.1).unwrap(),
        group: story.group,
        priority: Priority::parse(3).unwrap(),
    };
    incident = step(
        incident
            .triage(triage, TriagedBy::Rules, system.clone(), t)
            .unwrap(),
    );
    let mut orders: Vec<WorkOrder> = Vec::new();
    let mut order_timelines = Vec::new();
    let mut last_order_id = 0;
    if story.handled_by.is_empty() {
        incident = step(incident.dispatch(room, system.clone(), t).unwrap());
        incident = step(incident.start_handling(system.clone(), t).unwrap());
    }
    for handling in &story.handled_by {
        let new_order = NewWorkOrder {
            // SQLite counts from the rows written, which these are not yet.
            id: tx
                .next_work_order_id()
                .await
                .unwrap()
                .max(last_order_id + 1),
            originator_org_id: room,
            owner_org_id: handling.owner,
            supervisor_org_id: Some(app.world.county.id),
            deadlines: DeadlinePolicy::new(60, 24 * 60).unwrap(),
        };
        let diversion = incident.divert(new_order, system.clone(), t).unwrap();
        incident = step(diversion.incident);
        let mut order_events = diversion.work_order.events;
        let owner = OrgActor::new(system.clone(), handling.owner);
        let accepted_at = Timestamp(t.0 + handling.accepted_after * MINUTE);
        let returned_at = Timestamp(t.0 + handling.returned_after * MINUTE);
        let accepted = diversion
            .work_order
            .state
            .accept(&owner, accepted_at)
            .unwrap();
        order_events.extend(accepted.events);
        if incident.status == fengqiao_core::incident::IncidentStatus::Diverted {
            incident = step(
                incident
                    .start_handling(system.clone(), accepted_at)
                    .unwrap(),
            );
        }
        let note = HandlingNote::parse("result", "已协调处理").unwrap();
        let returned = accepted
            .state
            .return_result(&owner, note, returned_at)
            .unwrap();
        order_events.extend(returned.events);
        let confirmed = returned
            .state
            .confirm(&OrgActor::new(system.clone(), room), returned_at)
            .unwrap();
        order_events.extend(confirmed.events);
        last_order_id = confirmed.state.id;
        order_timelines.push(order_events);
        orders.push(confirmed.state);
    }
    if let Some(satisfaction) = story.satisfaction {
        let done = t.plus_minutes(24 * 60);
        incident = step(incident.resolve(&orders, system.clone(), done).unwrap());
        let feedback = Feedback {
            resolved: true,
            satisfaction: Satisfaction::parse(satisfaction).unwrap(),
        };
        incident = step(
            incident
                .record_feedback(feedback, &orders, system.clone(), done)
                .unwrap(),
        );
    }
    if let Some(earlier) = story.repeat_of {
        let finding = RepeatCallFinding {
            linked: vec![earlier],
            warning: None,
        };
        incident = step(incident.link_repeats(&finding, system.clone(), t).unwrap());
    }
    tx.insert_incident(&incident, &IncidentExtras::default(), t)
        .await
        .unwrap();
    tx.append_timeline(id, None, &events).await.unwrap();
    for (order, timeline) in orders.iter().zip(&order_timelines) {
        tx.insert_work_order(order, t).await.unwrap();
        tx.append_timeline(id, Some(order.id), timeline)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    id
}

async fn figures(app: &TestApp, secret: &str, query: &str) -> crate::helpers::Response {
    app.request(
        Method::GET,
        &format!("/api/v1/figures?{query}"),
        Some(secret),
        None,
    )
    .await
}

/// The month of November 2025 in Beijing time, which holds T0.
const NOVEMBER: &str = "from=2025-11-01T00:00:00%2B08:00&to=2025-12-01T00:00:00%2B08:00";

fn rate(value: &Value) -> (u64, u64) {
    (
        value["count"].as_u64().unwrap(),
        value["of"].as_u64().unwrap(),
    )
}

backend_tests! {
    async fn figures_of_a_station_and_of_its_county(db: TestDatabase) {
        let app = TestApp::new(db).await;
        let desks = add_desks(&app).await;
        let operator = app.session(Role::Operator).await;
        // Two incidents taken in through the API at T0: a fight for the
        // command room, wage arrears as a work order nobody accepts.
        let fight = json!({"source": "call_110", "text": "有人在小区门口打架，一个人头上流血了", "location_text": JINLI});
        let response = app.request(Method::POST, "/api/v1/incidents", Some(&operator), Some(&fight)).await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
        let fight_category = response.json()["triage"]["category"].as_str().unwrap().to_owned();
        let wages = json!({"source": "phone", "text": "老板拖欠我们三个月工资不给", "location_text": JINLI});
        let response = app.request(Method::POST, "/api/v1/incidents", Some(&operator), Some(&wages)).await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
        assert_eq!(response.json()["work_orders"].as_array().unwrap().len(), 1);

        let labour = ("wage_arrears", "labour");
        // Accepted in 30 minutes, returned in 120; caller gives 4.
        let first = write(&app, &desks, Story {
            received: at(10), category: labour, group: Group::NonPolice,
            handled_by: vec![Handling { owner: desks.labour.id, accepted_after: 30, returned_after: 120 }],
            satisfaction: Some(4), repeat_of: None,
        }).await;
        // Two organisations at once (labour accepted late: 90 > 60), a
        // repeat of the first; caller gives 2.
        write(&app, &desks, Story {
            received: at(20), category: labour, group: Group::NonPolice,
            handled_by: vec![
                Handling { owner: desks.labour.id, accepted_after: 90, returned_after: 600 },
                Handling { owner: desks.governance.id, accepted_after: 20, returned_after: 60 },
            ],
            satisfaction: Some(2), repeat_of: Some(first),
        }).await;
        // A fight the station resolved itself; caller gives 5.
        write(&app, &desks, Story {
            received: at(30), category: ("fight", "public_order"), group: Group::Police,
            handled_by: vec![], satisfaction: Some(5), repeat_of: None,
        }).await;
        // October: outside the period.
        write(&app, &desks, Story {
            received: Timestamp(T0.0 - 40 * DAY), category: ("fight", "public_order"), group: Group::Police,
            handled_by: vec![], satisfaction: Some(1), repeat_of: None,
        }).await;

        app.clock.set(Timestamp(T0.0 + 3 * DAY));
        let chief = app.session(Role::StationChief).await;
        let a = app.world.station_a.id;
        let response = figures(&app, &chief, &format!("org_id={a}&{NOVEMBER}")).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text);
        let f = response.json();
        assert_eq!(f["org_id"], a);
        assert_eq!(f["incidents"], 5, "{f}");
        assert_eq!(f["by_group"], json!({"police": 2, "non_police": 3}), "{f}");
        let mut categories = serde_json::Map::new();
        categories.insert("wage_arrears".into(), json!(3));
        categories.insert("fight".into(), json!(1));
        let n = categories.get(&fight_category).and_then(Value::as_u64).unwrap_or(0);
        categories.insert(fight_category, json!(n + 1));
        assert_eq!(f["by_category"], Value::Object(categories), "{f}");
        assert_eq!(rate(&f["diversion"]), (3, 3), "{f}");
        assert_eq!(f["diversion"]["rate"], 1.0);
        assert_eq!(rate(&f["linked_handling"]), (1, 3), "{f}");
        assert_eq!(rate(&f["on_scene_resolution"]), (1, 5), "{f}");
        assert_eq!(f["on_scene_resolution"]["rate"], 0.2);
        assert_eq!(rate(&f["repeat_calls"]), (1, 5), "{f}");
        assert_eq!(f["time_to_accept"]["count"], 3, "{f}");
        let mean = f["time_to_accept"]["mean"].as_f64().unwrap();
        assert!((mean - 140.0 / 3.0).abs() < 1e-9, "{f}");
        assert_eq!(f["time_to_accept"]["p90"], 90.0);
        assert_eq!(f["time_to_finish"], json!({"count": 3, "mean": 260.0, "p90": 600.0}), "{f}");
        assert_eq!(f["work_orders"], 4, "{f}");
        // The API's work order was never accepted (its deadline passed by
        // now) and the labour brigade accepted one late.
        assert_eq!(f["overdue_work_orders"], 2, "{f}");
        assert_eq!(f["satisfaction"]["count"], 3, "{f}");
        let mean = f["satisfaction"]["mean"].as_f64().unwrap();
        assert!((mean - 11.0 / 3.0).abs() < 1e-9, "{f}");

        // Without org_id: the caller's own organisation, the same figures.
        let own = figures(&app, &chief, NOVEMBER).await.json();
        assert_eq!(own, f);

        // The county also counts station B's fight of T0.
        let county_analyst = add_account(&app.state, "county.analyst", app.world.county.id, Role::Analyst).await;
        assert!(county_analyst > 0);
        let session = app.sign_in_as("county.analyst", crate::helpers::PASSWORD).await.session_cookie().unwrap();
        let county = figures(&app, &session, NOVEMBER).await.json();
        assert_eq!(county["incidents"], 6, "{county}");
        assert_eq!(county["by_group"]["police"], 3, "{county}");

        // A period that holds only October's incident.
        let october = figures(&app, &chief, "from=2025-10-01T00:00:00%2B08:00&to=2025-11-01T00:00:00%2B08:00").await.json();
        assert_eq!(october["incidents"], 1, "{october}");
        assert_eq!(october["satisfaction"], json!({"count": 1, "mean": 1.0}), "{october}");
    }

    async fn figures_stay_within_the_jurisdiction_and_check_their_query(db: TestDatabase) {
        let app = TestApp::new(db).await;
        let b = app.world.station_b.id;
        for role in [Role::StationChief, Role::Analyst] {
            let session = app.session(role).await;
            let foreign = figures(&app, &session, &format!("org_id={b}&{NOVEMBER}")).await;
            assert_eq!(foreign.status, StatusCode::NOT_FOUND, "{role:?}: {}", foreign.text);
            let missing = figures(&app, &session, "org_id=999999&from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z").await;
            assert_eq!(missing.status, StatusCode::NOT_FOUND, "the same answer as a foreign one");
        }
        for role in [Role::Operator, Role::DepartmentHandler, Role::Administrator, Role::Auditor] {
            let session = app.session(role).await;
            let response = figures(&app, &session, NOVEMBER).await;
            assert_eq!(response.status, StatusCode::FORBIDDEN, "{role:?}: {}", response.text);
        }
        let chief = app.session(Role::StationChief).await;
        let fields = |response: &crate::helpers::Response| -> Vec<String> {
            response.json()["errors"].as_array().unwrap().iter()
                .map(|e| e["field"].as_str().unwrap().to_owned()).collect()
        };
        let bad = figures(&app, &chief, "org_id=x&from=yesterday").await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
        assert_eq!(fields(&bad), ["org_id", "from", "to"], "{}", bad.text);
        assert!(bad.text.contains("RFC 3339"), "the problem says what a time looks like: {}", bad.text);
        let backwards = figures(&app, &chief, "from=2026-12-01T00:00:00Z&to=2026-11-01T00:00:00Z").await;
        assert_eq!(backwards.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", backwards.text);
        assert_eq!(fields(&backwards), ["to"], "{}", backwards.text);
    }
}
