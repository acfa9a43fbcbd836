//! Warnings (预警) through the real router: repeat calls linked at intake and
//! warned once at the threshold, overdue work orders escalated once across a
//! restart, and warnings acknowledged, then closed only with an action
//! record.

use axum::http::{Method, StatusCode};
use fengqiao_core::org::{OrgKind, Organisation};
use fengqiao_core::repeat_call::RepeatCallPolicy;
use fengqiao_core::role::Role;
use fengqiao_core::warning::{NewWarning, WarningStatus};
use fengqiao_server::live::LiveKind;
use fengqiao_server::services::escalation::escalate_due;
use fengqiao_server::ServerSettings;
use fengqiao_store::backend_tests;
use fengqiao_store::testing::TestDatabase;
use serde_json::{json, Value};

use crate::helpers::{add_account, new_org, Response, TestApp, T0};

const JINLI: &str = "成都市武侯区浆洗街锦里小区3栋";

const NOISE: [&str; 5] = [
    "楼上邻居半夜唱歌，音响声音太大了",
    "楼上又在放音乐，吵得睡不着",
    "还是楼上那家，半夜噪音扰民",
    "楼上KTV一样唱到凌晨，太吵了",
    "楼下广场舞音响太大声了，每天晚上跳到十点",
];

/// Station A's command room and governance centre, and the district's
/// labour inspection brigade (supervised by the county).
struct Desks {
    labour: Organisation,
}

async fn add_desks(app: &TestApp) -> Desks {
    let world = &app.world;
    let mut tx = app.state.store.begin().await.unwrap();
    let a = world.station_a.id;
    let room = new_org(
        Some(a),
        OrgKind::CommandRoom,
        "浆洗街派出所综合指挥室",
        "510107001",
    );
    tx.insert_organisation(&room, T0).await.unwrap();
    let centre = new_org(
        Some(world.county.id),
        OrgKind::GovernanceCentre,
        "浆洗街综治中心",
        "510107001",
    );
    tx.insert_organisation(&centre, T0).await.unwrap();
    let mut labour = new_org(
        Some(world.county.id),
        OrgKind::Department,
        "武侯区劳动保障监察大队",
        "510107",
    );
    labour.department_type = Some("labour_inspection".into());
    let labour = tx.insert_organisation(&labour, T0).await.unwrap();
    tx.commit().await.unwrap();
    Desks { labour }
}

async fn report(app: &TestApp, secret: &str, text: &str) -> Value {
    let body = json!({"source": "phone", "text": text, "location_text": JINLI});
    let response = app
        .request(Method::POST, "/api/v1/incidents", Some(secret), Some(&body))
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
    response.json()
}

fn events(incident: &Value) -> Vec<String> {
    incident["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap().to_owned())
        .collect()
}

fn repeat_ids(incident: &Value) -> Vec<i64> {
    incident["repeats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["incident_id"].as_i64().unwrap())
        .collect()
}

fn id(value: &Value) -> i64 {
    value["id"].as_i64().unwrap()
}

async fn warnings(app: &TestApp, secret: &str, query: &str) -> Vec<Value> {
    let response = app
        .request(
            Method::GET,
            &format!("/api/v1/warnings{query}"),
            Some(secret),
            None,
        )
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    response.json().as_array().unwrap().clone()
}

async fn act(
    app: &TestApp,
    secret: &str,
    warning: i64,
    action: &str,
    body: Option<Value>,
) -> Response {
    let path = format!("/api/v1/warnings/{warning}/{action}");
    app.request(
        Method::POST,
        &path,
        Some(secret),
        Some(&body.unwrap_or_else(|| json!({}))),
    )
    .await
}

/// The world's work order in station B (60 minutes to accept, 1440 to
/// finish, from T0) escalates both its deadlines first, so that what the
/// job does afterwards is ours alone. The clock ends at T0 + 1441 minutes.
async fn past_the_worlds_deadlines(app: &TestApp) {
    app.clock.advance_minutes(1441);
    assert_eq!(
        escalate_due(&app.state).await.unwrap(),
        2,
        "station B's work order"
    );
}

/// Three noise complaints at 锦里小区3栋, with the repeat-call warning they
/// raise; returns the warning.
async fn three_complaints(app: &TestApp, secret: &str) -> Value {
    for text in &NOISE[..3] {
        report(app, secret, text).await;
        // Less than a session's idle time, so the caller stays signed in.
        app.clock.advance_minutes(20);
    }
    let open = warnings(app, secret, "?status=open").await;
    assert_eq!(open.len(), 1, "{open:?}");
    open[0].clone()
}

backend_tests! {
    async fn three_noise_complaints_at_one_address_raise_one_repeat_call_warning(db: TestDatabase) {
        let app = TestApp::new(db).await;
        add_desks(&app).await;
        let operator = app.session(Role::Operator).await;
        let mut live = app.state.live.subscribe();

        let first = report(&app, &operator, NOISE[0]).await;
        assert_eq!(first["triage"]["category"], "noise", "{first}");
        assert!(repeat_ids(&first).is_empty());
        app.clock.advance_minutes(24 * 60);
        let (operator, officer) = (app.session(Role::Operator).await, app.session(Role::CommunityOfficer).await);
        // Another problem at the same address is not a repeat.
        let wages = report(&app, &operator, "老板拖欠我们三个月工资不给").await;
        assert_eq!(wages["triage"]["category_family"], "labour");
        assert!(repeat_ids(&wages).is_empty(), "{wages}");
        let second = report(&app, &officer, NOISE[1]).await;
        assert_eq!(repeat_ids(&second), [id(&first)]);
        assert_eq!(second["repeats"][0]["receipt_number"], first["receipt_number"]);
        assert!(events(&second).contains(&"linked_as_repeat".to_owned()), "{second}");
        assert!(!events(&second).contains(&"repeat_call_warning_raised".to_owned()));
        assert!(warnings(&app, &officer, "").await.is_empty(), "two calls are below the threshold");

        app.clock.advance_minutes(10 * 24 * 60);
        let (operator, officer) = (app.session(Role::Operator).await, app.session(Role::CommunityOfficer).await);
        let third = report(&app, &operator, NOISE[2]).await;
        assert_eq!(repeat_ids(&third), [id(&first), id(&second)]);
        let raised = third["timeline"].as_array().unwrap().iter()
            .find(|e| e["event"] == "repeat_call_warning_raised").expect("the third call raises the warning").clone();
        assert_eq!(raised["detail"]["incidents"], json!([id(&first), id(&second), id(&third)]));

        let listed = warnings(&app, &officer, "").await;
        assert_eq!(listed.len(), 1, "{listed:?}");
        let warning = &listed[0];
        assert_eq!(warning["rule"], "repeat_call");
        assert_eq!(warning["rule_name"], "重复报警");
        assert_eq!(warning["org_id"], app.world.station_a.id, "raised for the station");
        assert_eq!(warning["subject"], json!({"kind": "address", "id": app.world.own_building.id}));
        assert_eq!(warning["evidence"]["incidents"], json!([id(&first), id(&second), id(&third)]));
        assert_eq!(warning["evidence"]["window_days"], 30);
        assert_eq!(warning["evidence"]["threshold"], 3);
        assert_eq!(warning["status"], "open");
        assert_eq!(warning["overdue"], false);
        assert_eq!(warning["raised_at"], third["received_at"]);

        // A fourth call links to all three and raises no second warning.
        let fourth = report(&app, &operator, NOISE[3]).await;
        assert_eq!(repeat_ids(&fourth).len(), 3);
        assert!(!events(&fourth).contains(&"repeat_call_warning_raised".to_owned()), "{fourth}");
        assert_eq!(warnings(&app, &officer, "").await.len(), 1);

        // The same chain as the board reads it, and the audit trail.
        let read = app.request(Method::GET, &format!("/api/v1/incidents/{}", id(&third)), Some(&officer), None).await;
        assert_eq!(read.json()["repeats"], third["repeats"]);
        let audit = app.state.store.audit_entries(0, 1000).await.unwrap().entries;
        assert_eq!(audit.iter().filter(|e| e.object_type == "warning").count(), 1);
        let mut raised_live = 0;
        while let Ok(event) = live.try_recv() {
            if event.kind == LiveKind::Warning {
                assert_eq!(event.change, "raised");
                assert_eq!(event.incident_id, Some(id(&third)));
                assert!(event.visible_within(&app.world.station_a.path));
                assert!(!event.visible_within(&app.world.station_b.path));
                raised_live += 1;
            }
        }
        assert_eq!(raised_live, 1);
    }

    async fn the_window_and_threshold_are_settings(db: TestDatabase) {
        let mut app = TestApp::new(db).await;
        add_desks(&app).await;
        app.set_settings(ServerSettings {
            repeat_calls: RepeatCallPolicy::with_limits(7, 2).unwrap(),
            ..ServerSettings::default()
        });
        let operator = app.session(Role::Operator).await;
        let first = report(&app, &operator, NOISE[0]).await;
        app.clock.advance_minutes(8 * 24 * 60);
        let operator = app.session(Role::Operator).await;
        let late = report(&app, &operator, NOISE[1]).await;
        assert!(repeat_ids(&late).is_empty(), "eight days is outside a seven-day window");
        assert!(warnings(&app, &operator, "").await.is_empty());
        app.clock.advance_minutes(20);
        let second = report(&app, &operator, NOISE[2]).await;
        assert_eq!(repeat_ids(&second), [id(&late)], "not {}", id(&first));
        let listed = warnings(&app, &operator, "").await;
        assert_eq!(listed.len(), 1, "two calls reach a threshold of two");
        assert_eq!(listed[0]["evidence"]["window_days"], 7);
    }

    async fn a_caller_who_calls_again_is_linked_by_blind_index(db: TestDatabase) {
        let app = TestApp::new(db).await;
        add_desks(&app).await;
        let operator = app.session(Role::Operator).await;
        let call = |text: &str, place: &str| json!({"source": "phone", "text": text, "location_text": place, "reporter_phone": "13812345678"});
        let first = app.request(Method::POST, "/api/v1/incidents", Some(&operator), Some(&call(NOISE[0], JINLI))).await.json();
        // The same number about noise from somewhere the registry does not know.
        let second = app.request(Method::POST, "/api/v1/incidents", Some(&operator), Some(&call(NOISE[4], "浆洗街一带"))).await.json();
        assert!(second["location"]["building_id"].is_null(), "{second}");
        assert_eq!(repeat_ids(&second), [id(&first)]);
        let stored = app.state.store.table_text_for_tests("incident_repeats").await.unwrap();
        assert!(!stored.contains("13812345678"));
    }

    async fn concurrent_calls_at_the_threshold_raise_one_warning(db: TestDatabase) {
        let app = TestApp::new(db).await;
        add_desks(&app).await;
        let operator = app.session(Role::Operator).await;
        let officer = app.session(Role::CommunityOfficer).await;
        for text in &NOISE[..2] {
            report(&app, &operator, text).await;
        }
        let bodies = NOISE[2..].iter().map(|text| json!({"source": "phone", "text": text, "location_text": JINLI})).collect::<Vec<_>>();
        let (a, b, c) = tokio::join!(
            app.request(Method::POST, "/api/v1/incidents", Some(&operator), Some(&bodies[0])),
            app.request(Method::POST, "/api/v1/incidents", Some(&officer), Some(&bodies[1])),
            app.request(Method::POST, "/api/v1/incidents", Some(&operator), Some(&bodies[2])),
        );
        for response in [&a, &b, &c] {
            assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
        }
        assert_eq!(warnings(&app, &officer, "").await.len(), 1, "one open warning per address and rule");

        // The database holds the rule even against a raise that skips the check.
        let found = fengqiao_core::repeat_call::RepeatCallWarning {
            address_id: Some(app.world.own_building.id),
            incidents: vec![id(&a.json())],
        };
        let again = NewWarning::repeat_call(app.world.station_a.id, &found, &RepeatCallPolicy::default(), T0).unwrap();
        let mut tx = app.state.store.begin().await.unwrap();
        assert_eq!(tx.raise_warning(&again, T0).await.unwrap(), None);
        tx.commit().await.unwrap();
    }

    async fn a_warning_is_acknowledged_then_closed_only_with_an_action_record(db: TestDatabase) {
        let app = TestApp::new(db).await;
        add_desks(&app).await;
        let operator = app.session(Role::Operator).await;
        let warning = three_complaints(&app, &operator).await;
        let w = id(&warning);
        let worker = app.session(Role::GridWorker).await;
        let officer = app.session(Role::CommunityOfficer).await;

        // Closing before anyone took it on is refused and changes nothing.
        let early = act(&app, &officer, w, "close", Some(json!({"action": "visited", "note": "已上门"}))).await;
        assert_eq!(early.status, StatusCode::CONFLICT, "{}", early.text);
        assert_eq!(early.json()["type"], "urn:fengqiao:problem:conflict");
        assert!(early.json()["detail"].as_str().unwrap().contains("签收"), "{}", early.text);
        // Roles without the permission cannot act; the analyst may look.
        for role in [Role::AuxiliaryOfficer, Role::Analyst, Role::DepartmentHandler] {
            let secret = app.session(role).await;
            assert_eq!(act(&app, &secret, w, "acknowledge", None).await.status, StatusCode::FORBIDDEN, "{role}");
        }
        let analyst = app.session(Role::Analyst).await;
        assert_eq!(warnings(&app, &analyst, "").await.len(), 1);

        let warning_audit = || async {
            let entries = app.state.store.audit_entries(0, 1000).await.unwrap().entries;
            entries.iter().filter(|e| e.object_type == "warning").count()
        };
        let audit_before = warning_audit().await;
        let acknowledged = act(&app, &worker, w, "acknowledge", None).await;
        assert_eq!(acknowledged.status, StatusCode::OK, "{}", acknowledged.text);
        let view = acknowledged.json();
        assert_eq!(view["status"], "acknowledged");
        assert_eq!(view["acknowledged_by"], format!("user:{}", app.world.users[&Role::GridWorker]));
        assert_eq!(view["acknowledged_at"], "2025-11-24T17:00:00.000Z");
        let twice = act(&app, &officer, w, "acknowledge", None).await;
        assert_eq!(twice.status, StatusCode::CONFLICT, "{}", twice.text);

        // No action record, an unknown action, no note: 422, nothing changes.
        let missing = act(&app, &officer, w, "close", None).await;
        assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", missing.text);
        let problem = missing.json();
        let fields: Vec<&str> = problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["action", "note"]);
        let unknown = act(&app, &officer, w, "close", Some(json!({"action": "ignored", "note": "没事"}))).await;
        assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(unknown.text.contains("no_risk_found"), "the choices are named: {}", unknown.text);
        let no_note = act(&app, &officer, w, "close", Some(json!({"action": "visited"}))).await;
        assert_eq!(no_note.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(no_note.json()["errors"][0]["field"], "note");
        let stored = app.state.store.warning(w).await.unwrap().unwrap();
        assert_eq!(stored.status, WarningStatus::Acknowledged);
        assert!(stored.action.is_none());

        app.clock.advance_minutes(90);
        let officer = app.session(Role::CommunityOfficer).await;
        let closed = act(&app, &officer, w, "close", Some(json!({"action": "mediated", "note": "上门调解，楼上住户同意晚十点后不再放音乐"}))).await;
        assert_eq!(closed.status, StatusCode::OK, "{}", closed.text);
        let view = closed.json();
        assert_eq!(view["status"], "closed");
        assert_eq!(view["action"], "mediated");
        assert_eq!(view["note"], "上门调解，楼上住户同意晚十点后不再放音乐");
        assert_eq!(view["closed_by"], format!("user:{}", app.world.users[&Role::CommunityOfficer]));
        let again = act(&app, &officer, w, "close", Some(json!({"action": "visited", "note": "再次走访"}))).await;
        assert_eq!(again.status, StatusCode::CONFLICT);
        assert_eq!(warning_audit().await, audit_before + 2, "one entry per change, none for refusals");

        assert_eq!(warnings(&app, &officer, "?status=closed").await.len(), 1);
        assert!(warnings(&app, &officer, "?status=open").await.is_empty());
        let bad = app.request(Method::GET, "/api/v1/warnings?status=gone", Some(&officer), None).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(bad.json()["errors"][0]["field"], "status");

        // Once closed, the next call at the address may warn again.
        let next = report(&app, &app.session(Role::Operator).await, NOISE[3]).await;
        assert!(events(&next).contains(&"repeat_call_warning_raised".to_owned()), "{next}");
        let open = warnings(&app, &officer, "?status=open").await;
        assert_eq!(open.len(), 1);
        assert_ne!(id(&open[0]), w);
    }

    async fn an_unacknowledged_warning_is_overdue_after_its_deadline(db: TestDatabase) {
        let app = TestApp::new(db).await;
        add_desks(&app).await;
        let operator = app.session(Role::Operator).await;
        let warning = three_complaints(&app, &operator).await;
        assert_eq!(warning["overdue"], false);
        assert_eq!(warning["acknowledge_by"], "2025-11-24T20:40:00.000Z", "four hours after the third call");
        app.clock.advance_minutes(4 * 60);
        let operator = app.session(Role::Operator).await;
        assert_eq!(warnings(&app, &operator, "").await[0]["overdue"], true);
        let acknowledged = act(&app, &operator, id(&warning), "acknowledge", None).await.json();
        assert_eq!(acknowledged["overdue"], false, "late, but acknowledged");
    }

    async fn a_deadline_that_passes_while_the_server_is_stopped_escalates_once_after_restart(db: TestDatabase) {
        let mut app = TestApp::new(db).await;
        let desks = add_desks(&app).await;
        past_the_worlds_deadlines(&app).await;
        let operator = app.session(Role::Operator).await;
        let incident = report(&app, &operator, "老板拖欠我们三个月工资不给").await;
        let order = incident["work_orders"][0].clone();
        assert_eq!(order["owner_org_id"], desks.labour.id);
        assert_eq!(order["accept_by"], "2025-11-25T17:01:00.000Z");
        assert_eq!(escalate_due(&app.state).await.unwrap(), 0, "nothing is due yet");

        // The server stops; the deadline passes; a new process starts.
        app.restart().await;
        app.clock.advance_minutes(61);
        let mut live = app.state.live.subscribe();
        assert_eq!(escalate_due(&app.state).await.unwrap(), 1);

        add_account(&app.state, "county.chief", app.world.county.id, Role::StationChief).await;
        let county = app.sign_in_as("county.chief", crate::helpers::PASSWORD).await.session_cookie().unwrap();
        let read = app.request(Method::GET, &format!("/api/v1/incidents/{}", id(&incident)), Some(&county), None).await.json();
        let escalations: Vec<&Value> = read["timeline"].as_array().unwrap().iter().filter(|e| e["event"] == "escalated").collect();
        assert_eq!(escalations.len(), 1, "{read}");
        assert_eq!(escalations[0]["actor"], "system");
        assert_eq!(escalations[0]["work_order_id"], order["id"]);
        assert_eq!(escalations[0]["detail"]["deadline"], "accept");
        assert_eq!(escalations[0]["detail"]["to_org"], app.world.county.id);
        // The county also sees station B's warnings; these are ours.
        let ours = |w: &Value| w["evidence"]["incident_id"] == incident["id"];
        let listed: Vec<Value> = warnings(&app, &county, "").await.into_iter().filter(ours).collect();
        assert_eq!(listed.len(), 1, "{listed:?}");
        assert_eq!(listed[0]["rule"], "work_order_overdue");
        assert_eq!(listed[0]["org_id"], app.world.county.id, "the supervising organisation");
        assert_eq!(listed[0]["subject"], json!({"kind": "work_order", "id": order["id"]}));
        assert_eq!(listed[0]["evidence"]["deadlines"], json!([{"deadline": "accept", "due_at": T0.plus_minutes(1441 + 60).millis()}]));
        let a = app.session(Role::CommunityOfficer).await;
        assert!(warnings(&app, &a, "").await.is_empty(), "the station does not supervise the county's brigade");
        let kinds: Vec<(LiveKind, String)> = std::iter::from_fn(|| live.try_recv().ok()).map(|e| (e.kind, e.change.clone())).collect();
        assert_eq!(kinds, [(LiveKind::WorkOrder, "escalated".to_owned()), (LiveKind::Warning, "raised".to_owned())]);

        // Running again, or after another restart, finds nothing new.
        assert_eq!(escalate_due(&app.state).await.unwrap(), 0);
        app.restart().await;
        app.clock.advance_minutes(30);
        assert_eq!(escalate_due(&app.state).await.unwrap(), 0);
        let county = app.sign_in_as("county.chief", crate::helpers::PASSWORD).await.session_cookie().unwrap();
        let read = app.request(Method::GET, &format!("/api/v1/incidents/{}", id(&incident)), Some(&county), None).await.json();
        assert_eq!(read["timeline"].as_array().unwrap().iter().filter(|e| e["event"] == "escalated").count(), 1);
        assert_eq!(warnings(&app, &county, "?status=open").await.iter().filter(|w| ours(w)).count(), 1);
        let audit = app.state.store.audit_entries(0, 1000).await.unwrap().entries;
        let order_id = order["id"].to_string();
        assert_eq!(audit.iter().filter(|e| e.object_type == "work_order" && e.object_id.as_ref() == Some(&order_id)).count(), 1);
    }

    async fn both_deadlines_passed_during_a_long_stop_escalate_together_once(db: TestDatabase) {
        let mut app = TestApp::new(db).await;
        add_desks(&app).await;
        past_the_worlds_deadlines(&app).await;
        let operator = app.session(Role::Operator).await;
        let incident = report(&app, &operator, "老板拖欠我们三个月工资不给").await;
        app.restart().await;
        app.clock.advance_minutes(7200 + 1);
        assert_eq!(escalate_due(&app.state).await.unwrap(), 2, "accept and finish");
        assert_eq!(escalate_due(&app.state).await.unwrap(), 0);
        let record = app.state.store.incident(id(&incident)).await.unwrap().unwrap();
        let deadlines: Vec<&str> = record.timeline.iter().filter(|e| e.event["event"] == "escalated")
            .map(|e| e.event["deadline"].as_str().unwrap()).collect();
        assert_eq!(deadlines, ["accept", "finish"]);
        assert!(record.work_orders[0].escalated_accept && record.work_orders[0].escalated_finish);
        let county = app.world.county.path.as_str().to_owned();
        let raised = app.state.store.warnings_within(&county, None, 10).await.unwrap();
        let overdue: Vec<_> = raised.iter().filter(|w| w.evidence.incident_id() == Some(id(&incident))).collect();
        assert_eq!(overdue.len(), 1, "one warning naming both deadlines");
        let evidence = serde_json::to_value(&overdue[0].evidence).unwrap();
        assert_eq!(evidence["deadlines"].as_array().unwrap().len(), 2);
    }

    async fn a_work_order_accepted_in_time_escalates_only_its_finish_deadline(db: TestDatabase) {
        let app = TestApp::new(db).await;
        let desks = add_desks(&app).await;
        past_the_worlds_deadlines(&app).await;
        let operator = app.session(Role::Operator).await;
        let incident = report(&app, &operator, "老板拖欠我们三个月工资不给").await;
        let order = id(&incident["work_orders"][0]);
        add_account(&app.state, "labour.handler", desks.labour.id, Role::DepartmentHandler).await;
        let handler = app.sign_in_as("labour.handler", crate::helpers::PASSWORD).await.session_cookie().unwrap();
        app.clock.advance_minutes(20);
        let accepted = app.request(Method::POST, &format!("/api/v1/work-orders/{order}/accept"), Some(&handler), None).await;
        assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.text);
        app.clock.advance_minutes(24 * 60);
        assert_eq!(escalate_due(&app.state).await.unwrap(), 0, "accepted within its deadline, finish not due");
        app.clock.advance_minutes(7200);
        assert_eq!(escalate_due(&app.state).await.unwrap(), 1, "the finish deadline passed");
        let record = app.state.store.incident(id(&incident)).await.unwrap().unwrap();
        let deadlines: Vec<&str> = record.timeline.iter().filter(|e| e.event["event"] == "escalated")
            .map(|e| e.event["deadline"].as_str().unwrap()).collect();
        assert_eq!(deadlines, ["finish"]);
    }
}
