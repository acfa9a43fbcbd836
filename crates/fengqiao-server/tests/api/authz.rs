//! The authorisation matrix: every role × every operation of the OpenAPI
//! document × records of a foreign jurisdiction. It is derived from the
//! generated document, so a route added later joins it without anyone
//! editing this file.

use axum::http::{Method, StatusCode};
use fengqiao_core::role::Role;
use fengqiao_core::warning::WarningStatus;
use fengqiao_server::PUBLIC_TAG;
use fengqiao_store::backend_tests;
use fengqiao_store::testing::TestDatabase;
use serde_json::{json, Map, Value};

use crate::helpers::TestApp;

pub struct Operation {
    pub method: Method,
    pub path: String,
    pub public: bool,
    pub path_params: Vec<String>,
    pub body_schema: Option<Value>,
}

/// Every operation in the generated OpenAPI document.
pub fn operations() -> (Vec<Operation>, Value) {
    let document = serde_json::to_value(fengqiao_server::openapi()).unwrap();
    let mut operations = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Ok(method) = method.to_uppercase().parse::<Method>() else {
                continue;
            };
            let public = op["tags"]
                .as_array()
                .is_some_and(|tags| tags.iter().any(|t| t == PUBLIC_TAG));
            let path_params = op["parameters"]
                .as_array()
                .map(|params| {
                    params
                        .iter()
                        .filter(|p| p["in"] == "path")
                        .map(|p| p["name"].as_str().unwrap().to_owned())
                        .collect()
                })
                .unwrap_or_default();
            let body_schema = op["requestBody"]["content"]["application/json"]["schema"]
                .as_object()
                .map(|s| Value::Object(s.clone()));
            operations.push(Operation {
                method,
                path: path.clone(),
                public,
                path_params,
                body_schema,
            });
        }
    }
    (operations, document)
}

/// A foreign record for each path parameter. A new parameter name fails
/// the test until a foreign record is named for it here.
fn foreign_path(app: &TestApp, op: &Operation) -> String {
    let world = &app.world;
    let mut path = op.path.clone();
    for param in &op.path_params {
        let id = match param.as_str() {
            // Categories are not records of a jurisdiction: the body's
            // rules point into the foreign one instead.
            "category" => {
                path = path.replace("{category}", "wage_arrears");
                continue;
            }
            "org_id" => world.station_b.id,
            "user_id" => world.foreign_user,
            "token_id" => world.foreign_token,
            "grid_id" => world.foreign_grid,
            "building_id" => world.foreign_building.id,
            "incident_id" => world.foreign_incident,
            "work_order_id" => world.foreign_work_order,
            "warning_id" => world.foreign_warning,
            "dispute_id" => world.foreign_dispute,
            "field_report_id" => world.foreign_field_report,
            "task_id" => world.foreign_task,
            "unit_id" => world.foreign_unit,
            "reinforcement_id" => world.foreign_reinforcement,
            other => panic!(
                "{} {}: no foreign record for path parameter `{other}`; add one to the authorisation matrix",
                op.method, op.path
            ),
        };
        path = path.replace(&format!("{{{param}}}"), &id.to_string());
    }
    path
}

/// Properties that point at another record; a body carrying one is a write
/// into that record's jurisdiction.
const REFERENCES: [&str; 14] = [
    "incident_id",
    "owner_org_ids",
    "rules",
    "parent_id",
    "org_id",
    "station_org_id",
    "officer_user_id",
    "grid_worker_ids",
    "assignee_user_id",
    "building_id",
    "field_report_id",
    "unit_ids",
    "user_ids",
    "positions",
];

/// A well-formed body whose references point into the foreign jurisdiction,
/// built from the operation's schema so the request reaches the handler's
/// own checks instead of failing validation.
fn foreign_body(app: &TestApp, op: &Operation, document: &Value) -> Option<Value> {
    let schema = op.body_schema.as_ref()?;
    let reference = schema["$ref"]
        .as_str()
        .expect("request bodies are named schemas");
    let name = reference.rsplit('/').next().unwrap();
    let properties = document["components"]["schemas"][name]["properties"]
        .as_object()
        .unwrap();
    let b = app.world.station_b.id;
    let mut body = Map::new();
    for property in properties.keys() {
        let value = match property.as_str() {
            "parent_id" | "org_id" | "station_org_id" => json!(b),
            "officer_user_id" => json!(app.world.foreign_user),
            "grid_worker_ids" => json!([app.world.foreign_user]),
            "name" => json!("越权测试"),
            "kind" => json!("police_station"),
            "department_type" => Value::Null,
            "division_codes" => json!(["510107004"]),
            "username" => json!("intruder.user"),
            "password" => json!("Intruder-2026!"),
            "roles" => json!(["operator"]),
            "full_name" => json!("越权者"),
            "phone" => json!("13900000000"),
            "permissions" => json!(["view_organisations"]),
            "reason" => json!("越权测试原因"),
            "disabled" => json!(true),
            "source" => json!("walk_in"),
            "text" => json!("越权测试：门口有人打架"),
            "location_text" => json!("成都市武侯区浆洗街锦里小区3栋"),
            "reporter_name" => json!("越权者"),
            "reporter_phone" => json!("13900000000"),
            "category" => json!("wage_arrears"),
            "owner_org_ids" => json!([b]),
            "result" => json!("越权测试结果"),
            "resolved" => json!(true),
            "satisfaction" => json!(5),
            "note" => json!("越权测试回访"),
            "rules" => json!([{"division_code": "510107004", "org_id": b}]),
            "action" => json!("visited"),
            "incident_id" => json!(app.world.foreign_incident),
            "dispute_type" => json!("neighbour"),
            "parties" => json!([{"name": "越权者", "phone": "13900000000"}]),
            "facts" => json!("越权测试：邻里纠纷"),
            "risk_level" => json!("high"),
            "risk_reason" => json!("越权测试原因"),
            "mediators" => json!(["越权者"]),
            "held_at" => json!("2025-11-24T10:00:00+08:00"),
            "place" => json!("越权测试地点"),
            "participants" => json!("越权者"),
            "agreed" => json!("越权测试事项"),
            "next_step" => json!("越权测试下一步"),
            "next_session_at" => json!("2025-11-25T10:00:00+08:00"),
            "follow_up_days" => json!([7, 30]),
            "target" => json!("court"),
            "to" => json!("越权测试法院"),
            "holding" => json!(true),
            "follow_up_id" => json!(1),
            "description" => json!("越权测试：楼上楼下争吵"),
            "address_text" => json!("望江小区1栋"),
            "building_id" => json!(app.world.foreign_building.id),
            "field_report_id" => json!(app.world.foreign_field_report),
            "photo" => Value::Null,
            "assignee_user_id" => json!(app.world.foreign_user),
            "title" => json!("越权测试任务"),
            "details" => json!("越权测试"),
            "day" => Value::Null,
            "outcome" => json!("completed"),
            "call_sign" => json!("越权巡1"),
            "user_ids" => json!([app.world.foreign_user]),
            "unit_ids" => json!([app.world.foreign_unit]),
            "status" => json!("en_route"),
            "positions" => json!([{"unit_id": app.world.foreign_unit, "lat": 30.64, "lon": 104.07}]),
            "accept" => json!(true),
            "reporter_as_party" => json!(false),
            "reporter_id_number" | "settlement" | "settlement_note" | "hold_for_routing" => {
                Value::Null
            }
            other => panic!(
                "{} {}: no test value for body property `{other}`; add one to the authorisation matrix",
                op.method, op.path
            ),
        };
        body.insert(property.clone(), value);
    }
    Some(Value::Object(body))
}

fn references_foreign_records(body: &Option<Value>) -> bool {
    body.as_ref()
        .and_then(Value::as_object)
        .is_some_and(|b| REFERENCES.iter().any(|r| b.contains_key(*r)))
}

backend_tests! {
    async fn no_role_reaches_a_foreign_jurisdiction(db: TestDatabase) {
        let app = TestApp::new(db).await;
        let (operations, document) = operations();
        let b = app.world.station_b.id;
        let markers = [
            "望江路派出所".to_owned(),
            "foreign.user".to_owned(),
            "乙所接警系统".to_owned(),
            "望江小区".to_owned(),
            app.world.foreign_building.plate_code.clone(),
            "510107004001001".to_owned(),
            format!("\"org_id\":{b}"),
        ];
        let mut checked = 0;
        for op in operations.iter().filter(|op| !op.public) {
            let path = foreign_path(&app, op);
            let body = foreign_body(&app, op, &document);
            let writes_foreign = references_foreign_records(&body);
            // Fresh sessions for every operation: one of them is sign-out.
            let mut callers: Vec<(String, String)> = Vec::new();
            for role in Role::ALL {
                callers.push((role.as_str().to_owned(), app.session(role).await));
            }
            callers.push(("api_token".into(), app.world.token_a_secret.clone()));
            for (who, secret) in &callers {
                let response = app.request(op.method.clone(), &path, Some(secret), body.as_ref()).await;
                let what = format!("{who} {} {path} → {} {}", op.method, response.status, response.text);
                if !op.path_params.is_empty() || writes_foreign {
                    assert!(!response.status.is_success(), "unauthorised success: {what}");
                    assert!(
                        matches!(response.status, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN | StatusCode::UNPROCESSABLE_ENTITY),
                        "unexpected answer: {what}"
                    );
                }
                if response.status.is_success() {
                    for marker in &markers {
                        assert!(!response.text.contains(marker.as_str()), "foreign record leaked ({marker}): {what}");
                    }
                }
                if response.status == StatusCode::FORBIDDEN || response.status == StatusCode::NOT_FOUND {
                    for marker in &markers {
                        assert!(!response.text.contains(marker.as_str()), "details in a refusal: {what}");
                    }
                }
                checked += 1;
            }
        }
        assert!(checked > 100, "the matrix covered only {checked} requests");
        let warning = app.db.store.warning(app.world.foreign_warning).await.unwrap().unwrap();
        assert_eq!(warning.status, WarningStatus::Open, "the foreign warning was not touched");
        let task = app.db.store.task(app.world.foreign_task).await.unwrap().unwrap();
        assert_eq!(task.status.as_str(), "open", "the foreign task was not touched");
    }

    async fn every_private_operation_needs_credentials(db: TestDatabase) {
        let app = TestApp::new(db).await;
        let (operations, document) = operations();
        for op in operations.iter().filter(|op| !op.public) {
            let path = foreign_path(&app, op);
            let body = foreign_body(&app, op, &document);
            let response = app.request(op.method.clone(), &path, None, body.as_ref()).await;
            assert_eq!(response.status, StatusCode::UNAUTHORIZED, "{} {path}: {}", op.method, response.text);
            let bogus = app.request(op.method.clone(), &path, Some("fqs_forged"), body.as_ref()).await;
            assert_eq!(bogus.status, StatusCode::UNAUTHORIZED, "{} {path} with a forged session", op.method);
        }
    }

    async fn own_jurisdiction_is_reachable(db: TestDatabase) {
        // The positive control: the matrix's refusals are not an accident of
        // everything being refused.
        let app = TestApp::new(db).await;
        let a = app.world.station_a.id;
        let admin = app.session(Role::Administrator).await;
        let response = app.request(Method::GET, &format!("/api/v1/organisations/{a}"), Some(&admin), None).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text);
        let officer_id = app.world.users[&Role::CommunityOfficer];
        let response = app.request(Method::GET, &format!("/api/v1/users/{officer_id}"), Some(&admin), None).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text);
        let body = json!({"parent_id": a, "kind": "joint_duty_station", "name": "锦里联勤警务站", "division_codes": ["510107001"]});
        let response = app.request(Method::POST, "/api/v1/organisations", Some(&admin), Some(&body)).await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
        // The county sees both stations.
        let names: Vec<String> = app
            .request(Method::GET, "/api/v1/organisations", Some(&app.world.token_a_secret), None)
            .await
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["name"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(names, ["浆洗街派出所", "锦里联勤警务站"]);
        assert!(app.world.county.path.contains(&app.world.station_b.path));
    }

    async fn separated_duties_stay_separate(db: TestDatabase) {
        let app = TestApp::new(db).await;
        let a = app.world.station_a.id;
        let admin = app.session(Role::Administrator).await;
        // The administrator cannot create the auditor who would audit them…
        let body = json!({"username": "new.auditor", "password": "Auditor-2026!", "org_id": a, "roles": ["auditor"]});
        let response = app.request(Method::POST, "/api/v1/users", Some(&admin), Some(&body)).await;
        assert_eq!(response.status, StatusCode::FORBIDDEN, "{}", response.text);
        // …cannot read the audit log…
        let response = app.request(Method::GET, "/api/v1/audit", Some(&admin), None).await;
        assert_eq!(response.status, StatusCode::FORBIDDEN);
        // …and nobody holds two separated duties.
        let security = app.session(Role::SecurityAdministrator).await;
        let officer = app.world.users[&Role::CommunityOfficer];
        let body = json!({"roles": ["administrator", "auditor"]});
        let response = app.request(Method::PATCH, &format!("/api/v1/users/{officer}"), Some(&security), Some(&body)).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", response.text);
        assert_eq!(response.json()["errors"][0]["field"], "roles");
        let body = json!({"roles": ["station_chief"]});
        let response = app.request(Method::PATCH, &format!("/api/v1/users/{officer}"), Some(&security), Some(&body)).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text);
        assert_eq!(response.json()["roles"], json!(["station_chief"]));
    }
}
