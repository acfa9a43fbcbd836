//! Open311 GeoReport v2 as a client uses it: list the services, post a
//! request with an API token, read its status until its work order is
//! confirmed; errors in the spec's shape; no personal data in reads.

use axum::http::{Method, StatusCode};
use fengqiao_core::org::{OrgKind, Organisation};
use fengqiao_core::role::{Permission, Role};
use fengqiao_core::secret::{self, API_TOKEN_PREFIX};
use fengqiao_store::backend_tests;
use fengqiao_store::testing::TestDatabase;
use serde_json::{json, Value};

use crate::helpers::{add_account, new_org, TestApp, PASSWORD, T0};

const JINLI: &str = "成都市武侯区浆洗街锦里小区3栋";

/// Station A's command room and the district's environment bureau.
pub struct Desks {
    pub command_room: Organisation,
    pub environment: Organisation,
}

pub async fn add_desks(app: &TestApp) -> Desks {
    let world = &app.world;
    let mut tx = app.db.store.begin().await.unwrap();
    let command_room = tx
        .insert_organisation(
            &new_org(
                Some(world.station_a.id),
                OrgKind::CommandRoom,
                "浆洗街派出所综合指挥室",
                "510107001",
            ),
            T0,
        )
        .await
        .unwrap();
    let mut environment = new_org(
        Some(world.county.id),
        OrgKind::Department,
        "武侯区生态环境局",
        "510107",
    );
    environment.department_type = Some("environment".into());
    let environment = tx.insert_organisation(&environment, T0).await.unwrap();
    tx.commit().await.unwrap();
    Desks {
        command_room,
        environment,
    }
}

/// An API token of `org_id` that may report incidents.
pub async fn reporting_token(app: &TestApp, org_id: i64) -> String {
    let token = secret::generate(API_TOKEN_PREFIX);
    let mut tx = app.db.store.begin().await.unwrap();
    tx.insert_api_token(
        "市民服务平台",
        org_id,
        &[Permission::ReportIncidents].into(),
        &token.hash,
        "system",
        T0,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    token.text
}

pub fn form(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub async fn post_form(app: &TestApp, path: &str, body: String) -> (StatusCode, Value) {
    let response = app.client().post(path).form(body).send().await.unwrap();
    let json = response
        .json()
        .unwrap_or_else(|_| panic!("not JSON: {}", response.text()));
    (response.status, json)
}

async fn get(app: &TestApp, path: &str) -> (StatusCode, Value) {
    let response = app.request(Method::GET, path, None, None).await;
    (response.status, response.json())
}

/// A work-order action through the API of the closed loop.
async fn act(app: &TestApp, session: &str, order: i64, action: &str, body: Value) {
    let path = format!("/api/v1/work-orders/{order}/{action}");
    let response = app
        .request(Method::POST, &path, Some(session), Some(&body))
        .await;
    assert_eq!(response.status, StatusCode::OK, "{path}: {}", response.text);
}

/// Posts a noise complaint for 锦里小区3栋 and returns its receipt number.
async fn post_noise(app: &TestApp, token: &str) -> String {
    let body = form(&[
        ("api_key", token),
        ("jurisdiction_id", "510107001"),
        ("service_code", "noise"),
        ("address_string", JINLI),
        ("description", "楼下酒吧每天半夜音响声音很大"),
        ("last_name", "王"),
        ("first_name", "小明"),
        ("phone", "13912345678"),
        ("device_id", "iPhone-ABC"),
    ]);
    let (status, created) = post_form(app, "/open311/v2/requests.json", body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created[0]["service_request_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(created[0]["service_notice"].as_str().unwrap().contains(&id));
    id
}

backend_tests! {
    async fn a_client_lists_services_posts_a_request_and_reads_its_status(db: TestDatabase) {
        let app = TestApp::new(db).await;
        let desks = add_desks(&app).await;
        let token = reporting_token(&app, app.world.station_a.id).await;

        let (status, services) = get(&app, "/open311/v2/services.json?jurisdiction_id=510107001").await;
        assert_eq!(status, StatusCode::OK);
        let services = services.as_array().unwrap();
        let noise = services.iter().find(|s| s["service_code"] == "noise").expect("noise is a service");
        assert_eq!(noise["service_name"], "噪声扰民");
        assert_eq!(noise["metadata"], false);
        assert_eq!(noise["type"], "realtime");
        assert_eq!(noise["group"], "生态环境");
        assert!(noise["keywords"].as_str().unwrap().contains("噪音"));
        assert!(noise["description"].as_str().unwrap().contains("生态环境部门"));
        assert!(!services.iter().any(|s| s["service_code"] == "fight"), "police work is no service");
        let (status, definition) = get(&app, "/open311/v2/services/noise.json").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(definition["attributes"], serde_json::json!([]));

        let id = post_noise(&app, &token).await;
        let (status, found) = get(&app, &format!("/open311/v2/requests/{id}.json")).await;
        assert_eq!(status, StatusCode::OK, "{found}");
        let request = &found[0];
        assert_eq!(request["service_request_id"], id.as_str());
        assert_eq!(request["status"], "open");
        assert_eq!(request["service_code"], "noise");
        assert_eq!(request["service_name"], "噪声扰民");
        assert_eq!(request["agency_responsible"], "武侯区生态环境局");
        assert_eq!(request["status_notes"], "已转交武侯区生态环境局，等待签收。");
        assert_eq!(request["address_id"], app.world.own_building.id);
        assert!(request["requested_datetime"].as_str().unwrap().ends_with("+08:00"));
        assert!(request["expected_datetime"].is_string());
        // Reads are public: no name, phone or free text.
        let text = found.to_string();
        for private in ["13912345678", "139****5678", "王小明", "王*", "酒吧", "iPhone"] {
            assert!(!text.contains(private), "{private} leaked: {text}");
        }

        // The incident behind it: source open311, the service as category,
        // chosen by the reporter, routed to the department, reporter masked.
        let incident_id = app.db.store.incident_id_by_receipt(&id).await.unwrap().unwrap();
        let record = app.db.store.incident(incident_id).await.unwrap().unwrap();
        assert_eq!(record.incident.source.as_str(), "open311");
        assert_eq!(record.incident.triage.as_ref().unwrap().category.code.as_str(), "noise");
        assert_eq!(record.incident.station_org_id, app.world.station_a.id);
        assert_eq!(record.work_orders[0].owner_org_id, desks.environment.id);
        assert_eq!(record.work_orders[0].originator_org_id, desks.command_room.id);
        let triaged = record.timeline.iter().find(|e| e.event["event"] == "triaged").unwrap();
        assert_eq!(triaged.event["by"], "reporter");
        assert!(triaged.actor.starts_with("token:"));
        let stored = app.db.store.table_text_for_tests("incidents").await.unwrap();
        assert!(!stored.contains("13912345678") && !stored.contains("王小明"), "personal data in clear");
        assert!(!stored.contains("iPhone"), "device data stored");

        // Filters: by service, by status, by ids.
        let (_, listed) = get(&app, "/open311/v2/requests.json?service_code=noise&status=open").await;
        assert_eq!(listed.as_array().unwrap().len(), 1);
        let (_, listed) = get(&app, "/open311/v2/requests.json?status=closed").await;
        assert!(listed.as_array().unwrap().is_empty());
        let (_, listed) = get(&app, "/open311/v2/requests.json?service_code=street_light").await;
        assert_eq!(listed.as_array().unwrap().len(), 0);
        let (_, listed) = get(&app, "/open311/v2/requests.json?jurisdiction_id=510107004").await;
        assert_eq!(listed.as_array().unwrap().len(), 0, "station B received nothing");
        let (_, listed) = get(&app, &format!("/open311/v2/requests.json?service_request_id={id}")).await;
        assert_eq!(listed[0]["service_request_id"], id.as_str());
        let (_, listed) = get(&app, "/open311/v2/requests.json?start_date=2030-01-01T00:00:00%2B08:00").await;
        assert_eq!(listed.as_array().unwrap().len(), 0);

        // The department accepts and returns; open until the command room
        // confirms, then closed with the department's result as the note.
        add_account(&app.state, "env.handler", desks.environment.id, Role::DepartmentHandler).await;
        let handler = app.sign_in_as("env.handler", PASSWORD).await.session_cookie().unwrap();
        let operator = app.session(Role::Operator).await;
        let order = record.work_orders[0].id;
        act(&app, &handler, order, "accept", json!({})).await;
        let (_, found) = get(&app, &format!("/open311/v2/requests/{id}.json")).await;
        assert_eq!(found[0]["status_notes"], "武侯区生态环境局已签收。");
        act(&app, &handler, order, "return", json!({"result": "已责令酒吧夜间关闭外放音响"})).await;
        let (_, found) = get(&app, &format!("/open311/v2/requests/{id}.json")).await;
        assert_eq!(found[0]["status"], "open");
        act(&app, &operator, order, "confirm", json!({})).await;
        let (_, found) = get(&app, &format!("/open311/v2/requests/{id}.json")).await;
        assert_eq!(found[0]["status"], "closed", "{found}");
        assert_eq!(found[0]["status_notes"], "已办结：已责令酒吧夜间关闭外放音响");
        assert!(found[0]["expected_datetime"].is_null());
        let (_, listed) = get(&app, "/open311/v2/requests.json?status=closed").await;
        assert_eq!(listed.as_array().unwrap().len(), 1);

        // Other sources are not Open311 requests.
        let foreign = app.db.store.incident(app.world.foreign_incident).await.unwrap().unwrap();
        let receipt = foreign.incident.receipt_number.to_string();
        let (status, _) = get(&app, &format!("/open311/v2/requests/{receipt}.json")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }

    async fn errors_come_in_the_spec_shape_and_store_nothing(db: TestDatabase) {
        let app = TestApp::new(db).await;
        add_desks(&app).await;
        let token = reporting_token(&app, app.world.station_a.id).await;
        let post = |fields: Vec<(&'static str, String)>| {
            let body = fields.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect::<Vec<_>>().join("&");
            post_form(&app, "/open311/v2/requests.json", body)
        };
        type Case<'a> = (Vec<(&'a str, String)>, StatusCode, &'a str);
        let cases: Vec<Case> = vec![
            (vec![("service_code", "noise".into()), ("address_string", JINLI.into())], StatusCode::FORBIDDEN, "api_key"),
            (vec![("api_key", "fqt_forged".into()), ("service_code", "noise".into()), ("address_string", JINLI.into())], StatusCode::FORBIDDEN, "api_key"),
            (vec![("api_key", app.world.token_a_secret.clone()), ("service_code", "noise".into()), ("address_string", JINLI.into())], StatusCode::FORBIDDEN, "无权"),
            (vec![("api_key", token.clone()), ("service_code", "fight".into()), ("address_string", JINLI.into())], StatusCode::BAD_REQUEST, "service_code"),
            (vec![("api_key", token.clone()), ("service_code", "noise".into())], StatusCode::BAD_REQUEST, "address_string"),
            (vec![("api_key", token.clone()), ("service_code", "noise".into()), ("lat", "95".into()), ("long", "104".into())], StatusCode::BAD_REQUEST, "lat/long"),
            (vec![("api_key", token.clone()), ("service_code", "noise".into()), ("address_string", JINLI.into()), ("phone", "12345".into())], StatusCode::BAD_REQUEST, "phone"),
            (vec![("api_key", token.clone()), ("jurisdiction_id", "999999999".into()), ("service_code", "noise".into()), ("address_string", JINLI.into())], StatusCode::NOT_FOUND, "jurisdiction_id"),
        ];
        for (fields, expected, mentions) in cases {
            let (status, errors) = post(fields.clone()).await;
            assert_eq!(status, expected, "{fields:?}: {errors}");
            let first = &errors[0];
            assert_eq!(first["code"], expected.as_u16(), "{errors}");
            let description = first["description"].as_str().unwrap();
            assert!(description.contains(mentions), "{description}");
            assert!(description.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "not Chinese: {description}");
        }
        // A token of station A cannot post into station B's jurisdiction.
        let token_b_station = form(&[("api_key", &token), ("jurisdiction_id", "510107004"), ("service_code", "noise"), ("address_string", JINLI)]);
        let (status, _) = post_form(&app, "/open311/v2/requests.json", token_b_station).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, errors) = post_form(&app, "/open311/v2/requests.json", "%%%".into()).await;
        assert!(status == StatusCode::BAD_REQUEST || status == StatusCode::FORBIDDEN, "{errors}");
        assert_eq!(app.db.store.incidents_within("/", 1000).await.unwrap().len(), 1, "only the world's incident");

        let (status, errors) = get(&app, "/open311/v2/requests/not-a-receipt.json").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{errors}");
        let (status, _) = get(&app, "/open311/v2/requests/P2-20261125-0001.xml").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let (status, _) = get(&app, "/open311/v2/services/fight.json").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = get(&app, "/open311/v2/requests.json?status=pending").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let (status, _) = get(&app, "/open311/v2/requests.json?start_date=yesterday").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }

    async fn coordinates_alone_locate_a_request(db: TestDatabase) {
        let app = TestApp::new(db).await;
        add_desks(&app).await;
        let token = reporting_token(&app, app.world.station_a.id).await;
        let body = form(&[("api_key", &token), ("service_code", "street_light"), ("lat", "30.6431"), ("long", "104.0434")]);
        let (status, created) = post_form(&app, "/open311/v2/requests.json", body).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let id = created[0]["service_request_id"].as_str().unwrap();
        let (_, found) = get(&app, &format!("/open311/v2/requests/{id}.json")).await;
        assert_eq!(found[0]["lat"], 30.6431);
        assert_eq!(found[0]["long"], 104.0434);
        assert_eq!(found[0]["service_name"], "路灯故障");
        // No department for street lights here: the governance centre is
        // missing too, so it waits for an operator of station A.
        assert_eq!(found[0]["status"], "open");
    }
}
