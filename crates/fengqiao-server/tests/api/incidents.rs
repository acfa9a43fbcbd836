//! Incident intake through the real router: idempotency, triage, routing to
//! the command room or a department's work order, validation that stores
//! nothing, and reading within the jurisdiction.

use axum::http::{Method, StatusCode};
use fengqiao_core::role::Role;
use fengqiao_store::backend_tests;
use fengqiao_store::testing::TestDatabase;
use serde_json::{json, Value};

use crate::helpers::{add_desks, TestApp};

const JINLI: &str = "成都市武侯区浆洗街锦里小区3栋";

async fn report(
    app: &TestApp,
    secret: &str,
    body: &Value,
    key: Option<&str>,
) -> crate::helpers::Response {
    let headers: Vec<(&str, &str)> = key.map(|k| ("Idempotency-Key", k)).into_iter().collect();
    app.raw(
        Method::POST,
        "/api/v1/incidents",
        Some(secret),
        Some(body.to_string()),
        &headers,
    )
    .await
}

/// Incidents stored besides the world's foreign one.
async fn incident_rows(app: &TestApp) -> usize {
    let all = app.db.store.incidents_within("/", 1000).await.unwrap();
    all.iter()
        .filter(|i| i.id != app.world.foreign_incident)
        .count()
}

fn events(incident: &Value) -> Vec<String> {
    incident["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap().to_owned())
        .collect()
}

backend_tests! {
    async fn one_idempotency_key_makes_one_incident(db: TestDatabase) {
        let app = TestApp::new(db).await;
        add_desks(&app).await;
        let operator = app.session(Role::Operator).await;
        let body = json!({"source": "phone", "text": "楼上装修噪音太大了", "location_text": JINLI, "reporter_phone": "13812345678"});
        let first = report(&app, &operator, &body, Some("call-0001")).await;
        assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
        let again = report(&app, &operator, &body, Some("call-0001")).await;
        assert_eq!(again.status, StatusCode::OK, "{}", again.text);
        assert_eq!(again.json()["id"], first.json()["id"]);
        assert_eq!(again.json()["receipt_number"], first.json()["receipt_number"]);
        assert_eq!(incident_rows(&app).await, 1, "the retry made nothing new");

        let other = json!({"source": "phone", "text": "楼下有人打架", "location_text": JINLI});
        let refused = report(&app, &operator, &other, Some("call-0001")).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.text);
        assert_eq!(refused.json()["errors"][0]["field"], "Idempotency-Key");
        assert_eq!(incident_rows(&app).await, 1);

        // Keys belong to their caller; without a key every post is new.
        let officer = app.session(Role::CommunityOfficer).await;
        assert_eq!(report(&app, &officer, &body, Some("call-0001")).await.status, StatusCode::CREATED);
        let second = report(&app, &operator, &body, None).await;
        assert_eq!(second.status, StatusCode::CREATED);
        assert_ne!(second.json()["id"], first.json()["id"]);
        assert_eq!(incident_rows(&app).await, 3);
        let receipts: Vec<String> = [&first, &second].iter().map(|r| r.json()["receipt_number"].as_str().unwrap().to_owned()).collect();
        let a = app.world.station_a.id;
        assert_eq!(receipts, [format!("P{a}-20251125-0001"), format!("P{a}-20251125-0003")]);

        let bad_key = report(&app, &operator, &body, Some("带中文的键")).await;
        assert_eq!(bad_key.status, StatusCode::UNPROCESSABLE_ENTITY);
        let audit = app.db.store.audit_entries(0, 1000).await.unwrap().entries;
        assert_eq!(audit.iter().filter(|e| e.object_type == "incident").count(), 3, "one audit entry per incident");
    }

    async fn wage_arrears_become_a_work_order_for_labour_inspection(db: TestDatabase) {
        let app = TestApp::new(db).await;
        let desks = add_desks(&app).await;
        let worker = app.session(Role::GridWorker).await;
        let body = json!({"source": "grid_worker", "text": "老板拖欠我们三个月工资不给", "location_text": JINLI,
                          "reporter_name": "王小明", "reporter_phone": "13812345678"});
        let response = report(&app, &worker, &body, None).await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
        let incident = response.json();
        assert_eq!(incident["triage"]["category"], "wage_arrears", "{incident}");
        assert_eq!(incident["triage"]["group"], "non_police");
        assert_eq!(incident["triage"]["route_to"], "labour_inspection");
        assert!(incident["triage"]["matched"].as_array().unwrap().iter().any(|w| w.as_str().unwrap().contains("工资")), "{incident}");
        assert_eq!(incident["status"], "diverted");
        assert_eq!(incident["station_org_id"], app.world.station_a.id);
        assert_eq!(incident["owner_org_id"], desks.command_room.id, "the command room originates and confirms");
        assert_eq!(incident["location"]["building_id"], app.world.own_building.id);
        assert_eq!(incident["location"]["community_code"], "510107001001");
        assert_eq!(incident["reporter_name"], "王**");
        assert_eq!(incident["reporter_phone"], "138****5678");
        let orders = incident["work_orders"].as_array().unwrap();
        assert_eq!(orders.len(), 1);
        assert_eq!(orders[0]["owner_org_id"], desks.labour.id, "the department, not the governance centre {}", desks.governance.id);
        assert_eq!(orders[0]["originator_org_id"], desks.command_room.id);
        assert_eq!(orders[0]["supervisor_org_id"], app.world.county.id);
        assert_eq!(orders[0]["status"], "created");
        assert_eq!(orders[0]["accept_by"], "2025-11-24T17:00:00.000Z", "60 minutes to accept");
        assert_eq!(orders[0]["finish_by"], "2025-11-29T16:00:00.000Z", "7200 minutes to finish");
        assert_eq!(events(&incident), ["received", "triaged", "routed", "work_order_created", "created"]);
        let timeline = incident["timeline"].as_array().unwrap();
        let worker_id = app.world.users[&Role::GridWorker];
        assert_eq!(timeline[0]["actor"], format!("user:{worker_id}"));
        assert_eq!(timeline[1]["actor"], "system");
        assert_eq!(timeline[1]["detail"]["by"], "rules");
        assert_eq!(timeline[4]["work_order_id"], orders[0]["id"]);

        // Read back, and the reporter is stored only encrypted.
        let id = incident["id"].as_i64().unwrap();
        let operator = app.session(Role::Operator).await;
        let read = app.request(Method::GET, &format!("/api/v1/incidents/{id}"), Some(&operator), None).await;
        assert_eq!(read.status, StatusCode::OK, "{}", read.text);
        let mut read = read.json();
        let names = read.as_object_mut().unwrap().remove("org_names").expect("a read names the organisations");
        assert_eq!(read, incident, "besides the names, the read is what intake answered");
        assert_eq!(names[desks.labour.id.to_string()], "武侯区劳动保障监察大队");
        assert_eq!(names[desks.command_room.id.to_string()], "浆洗街派出所综合指挥室");
        assert_eq!(names[app.world.county.id.to_string()], app.world.county.name, "the supervisor");
        assert_eq!(orders[0]["overdue"], json!([]));
        let stored = app.db.store.table_text_for_tests("incidents").await.unwrap();
        assert!(!stored.contains("13812345678") && !stored.contains("王小明"));
        let list = app.request(Method::GET, "/api/v1/incidents", Some(&operator), None).await.json();
        assert_eq!(list.as_array().unwrap().len(), 1, "B's incident is not listed: {list}");
        assert_eq!(list[0]["id"], id);
    }

    async fn a_fight_goes_to_the_command_room(db: TestDatabase) {
        let app = TestApp::new(db).await;
        let desks = add_desks(&app).await;
        let operator = app.session(Role::Operator).await;
        let body = json!({"source": "call_110", "text": "有人在小区门口打架，一个人头上流血了", "location_text": JINLI});
        let response = report(&app, &operator, &body, Some("110-20251124-7")).await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
        let incident = response.json();
        assert_eq!(incident["triage"]["group"], "police", "{incident}");
        assert_eq!(incident["triage"]["priority"], 1);
        assert_eq!(incident["status"], "dispatched");
        assert_eq!(incident["owner_org_id"], desks.command_room.id);
        assert!(incident["work_orders"].as_array().unwrap().is_empty());
        assert_eq!(events(&incident), ["received", "triaged", "routed"]);
        assert_eq!(incident["timeline"][2]["detail"]["to_org"], desks.command_room.id);
    }

    async fn bad_input_names_every_field_and_stores_nothing(db: TestDatabase) {
        let app = TestApp::new(db).await;
        add_desks(&app).await;
        let operator = app.session(Role::Operator).await;
        let audit_before = app.db.store.audit_entries(0, 1000).await.unwrap().entries.len();
        let body = json!({"source": "fax", "text": "  ", "location_text": "路".repeat(201), "reporter_phone": "123"});
        let response = report(&app, &operator, &body, Some("bad-1")).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", response.text);
        let fields: Vec<String> = response.json()["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_owned()).collect();
        assert_eq!(fields, ["reporter_phone", "source", "text", "location_text"]);
        assert!(response.text.contains("必填"), "Chinese first: {}", response.text);

        let anonymous = json!({"source": "qr_report", "text": "井盖丢了", "location_text": JINLI, "reporter_name": "张三"});
        let response = report(&app, &operator, &anonymous, Some("bad-2")).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(response.json()["errors"][0]["field"], "reporter_name");
        let unknown = json!({"source": "phone", "text": "打架", "location_text": JINLI, "station": 1});
        assert_eq!(report(&app, &operator, &unknown, None).await.status, StatusCode::UNPROCESSABLE_ENTITY);

        assert_eq!(incident_rows(&app).await, 0);
        assert!(app.db.store.idempotency_key(&format!("user:{}", app.world.users[&Role::Operator]), "bad-1").await.unwrap().is_none());
        assert_eq!(app.db.store.audit_entries(0, 1000).await.unwrap().entries.len(), audit_before);
        // Valid now, the same key is free to use.
        let fixed = json!({"source": "phone", "text": "井盖丢了", "location_text": JINLI});
        assert_eq!(report(&app, &operator, &fixed, Some("bad-1")).await.status, StatusCode::CREATED);
    }

    async fn incidents_are_read_within_the_jurisdiction(db: TestDatabase) {
        let app = TestApp::new(db).await;
        let foreign = app.world.foreign_incident;
        let operator = app.session(Role::Operator).await;
        let response = app.request(Method::GET, &format!("/api/v1/incidents/{foreign}"), Some(&operator), None).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND);
        let b = app.sign_in_as("foreign.user", crate::helpers::PASSWORD).await.session_cookie().unwrap();
        let response = app.request(Method::GET, &format!("/api/v1/incidents/{foreign}"), Some(&b), None).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text);
        // Dispatched, with a work order for B's own hands (联动).
        assert_eq!(events(&response.json()), ["received", "triaged", "routed", "routed", "work_order_created", "created"]);
        // The auditor reads the log, not incidents; a token may report only
        // when granted report_incidents.
        let auditor = app.session(Role::Auditor).await;
        assert_eq!(app.request(Method::GET, "/api/v1/incidents", Some(&auditor), None).await.status, StatusCode::FORBIDDEN);
        let body = json!({"source": "call_110", "text": "有人打架", "location_text": JINLI});
        assert_eq!(report(&app, &app.world.token_a_secret, &body, None).await.status, StatusCode::FORBIDDEN);
        let admin = app.session(Role::Administrator).await;
        let token = app.request(Method::POST, "/api/v1/tokens", Some(&admin),
            Some(&json!({"name": "甲所110接警", "org_id": app.world.station_a.id, "permissions": ["report_incidents"]}))).await;
        assert_eq!(token.status, StatusCode::CREATED, "{}", token.text);
        let secret = token.json()["secret"].as_str().unwrap().to_owned();
        let response = report(&app, &secret, &body, None).await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
        assert!(response.json()["timeline"][0]["actor"].as_str().unwrap().starts_with("token:"));
    }

    async fn concurrent_retries_with_one_key_make_one_incident(db: TestDatabase) {
        let app = TestApp::new(db).await;
        add_desks(&app).await;
        let operator = app.session(Role::Operator).await;
        let body = json!({"source": "call_110", "text": "小区里有人打架", "location_text": JINLI});
        let (first, second) = tokio::join!(
            report(&app, &operator, &body, Some("race-1")),
            report(&app, &operator, &body, Some("race-1")),
        );
        let mut statuses = [first.status, second.status];
        statuses.sort();
        assert_eq!(statuses, [StatusCode::OK, StatusCode::CREATED], "{} / {}", first.text, second.text);
        assert_eq!(first.json()["id"], second.json()["id"]);
        assert_eq!(incident_rows(&app).await, 1);
    }

    async fn an_address_outside_the_jurisdiction_stays_with_the_callers_station(db: TestDatabase) {
        let app = TestApp::new(db).await;
        add_desks(&app).await;
        let operator = app.session(Role::Operator).await;
        let body = json!({"source": "phone", "text": "有人打架", "location_text": "成都市武侯区望江路街道望江小区1栋"});
        let response = report(&app, &operator, &body, None).await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
        let incident = response.json();
        assert_eq!(incident["station_org_id"], app.world.station_a.id, "A never writes into B");
        assert!(incident["location"]["building_id"].is_null(), "B's building is not A's to see");
    }
}
