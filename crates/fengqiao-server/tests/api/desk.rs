//! 接警台 through the real router on both backends: the desk's preview
//! (standard address, triage, earlier calls), a walk-in saved with the
//! operator's category and a double submission making one incident, bad
//! input refused at the field with nothing stored, a field report taken in
//! as one incident however often (and concurrently) it is asked, linked
//! both ways, a question settled on the spot counted as resolved on the
//! spot, and a case registered with the caller as a masked party.

use axum::http::{Method, StatusCode};
use fengqiao_core::role::Role;
use fengqiao_store::backend_tests;
use fengqiao_store::testing::TestDatabase;
use serde_json::{json, Value};

use crate::helpers::{add_desks, add_field_report, Response, TestApp};

const JINLI: &str = "成都市武侯区浆洗街锦里小区3栋";
/// The same building as a caller at the desk says it.
const JINLI_CARELESS: &str = "浆洗街 锦里小区3幢";
/// November 2025 in Beijing time, which holds T0.
const NOVEMBER: &str = "from=2025-11-01T00:00:00%2B08:00&to=2025-12-01T00:00:00%2B08:00";

async fn post(
    app: &TestApp,
    secret: &str,
    path: &str,
    body: &Value,
    key: Option<&str>,
) -> Response {
    let headers: Vec<(&str, &str)> = key.map(|k| ("Idempotency-Key", k)).into_iter().collect();
    app.raw(
        Method::POST,
        path,
        Some(secret),
        Some(body.to_string()),
        &headers,
    )
    .await
}

/// Incidents stored besides the world's own (station B's fight).
async fn incident_rows(app: &TestApp) -> i64 {
    app.db.store.count_incidents().await.unwrap() - 1
}

fn events(incident: &Value) -> Vec<String> {
    incident["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap().to_owned())
        .collect()
}

fn on_scene(figures: &Value) -> (u64, u64) {
    let rate = &figures["on_scene_resolution"];
    (
        rate["count"].as_u64().unwrap(),
        rate["of"].as_u64().unwrap(),
    )
}

backend_tests! {
    async fn the_desk_previews_address_triage_and_earlier_calls_and_saves_once(db: TestDatabase) {
        let app = TestApp::new(db).await;
        add_desks(&app).await;
        let operator = app.session(Role::Operator).await;
        for text in ["楼上装修噪音太大了", "楼上又在半夜装修"] {
            let body = json!({"source": "phone", "text": text, "location_text": JINLI});
            let made = post(&app, &operator, "/api/v1/incidents", &body, None).await;
            assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
        }

        let draft = json!({"text": "楼上邻居天天吵架摔东西", "location_text": JINLI_CARELESS});
        let preview = post(&app, &operator, "/api/v1/incidents/preview", &draft, None).await;
        assert_eq!(preview.status, StatusCode::OK, "{}", preview.text);
        let preview = preview.json();
        assert_eq!(preview["address"]["building_id"], app.world.own_building.id, "{preview}");
        assert!(preview["address"]["standard"].as_str().unwrap().contains("锦里小区"), "{preview}");
        assert!(!preview["triage"]["matched"].as_array().unwrap().is_empty(), "{preview}");
        assert_eq!(preview["earlier"].as_array().unwrap().len(), 2, "{preview}");
        assert_eq!(preview["call_number"], 3);
        assert_eq!(preview["earlier"][0]["same_place"], true);
        assert_eq!(incident_rows(&app).await, 2, "a preview writes nothing");

        // The operator changes the category; a double click sends the key twice.
        let body = json!({
            "source": "walk_in", "text": "楼上邻居天天吵架摔东西", "location_text": JINLI_CARELESS,
            "reporter_name": "王小明", "reporter_phone": "13912345678",
            "reporter_id_number": "11010519491231002X", "category": "noise",
        });
        let (first, second) = tokio::join!(
            post(&app, &operator, "/api/v1/incidents", &body, Some("desk-1")),
            post(&app, &operator, "/api/v1/incidents", &body, Some("desk-1")),
        );
        let statuses = [first.status, second.status];
        assert!(statuses.contains(&StatusCode::CREATED), "{} {}", first.text, second.text);
        assert_eq!(first.json()["id"], second.json()["id"]);
        assert_eq!(incident_rows(&app).await, 3, "one incident for the double click");
        let saved = first.json();
        assert_eq!(saved["source"], "walk_in");
        assert_eq!(saved["triage"]["category"], "noise");
        assert!(saved["reporter_name"].as_str().unwrap().starts_with("王*"), "{saved}");
        assert_ne!(saved["reporter_id_number"], "11010519491231002X");
        assert!(saved["reporter_id_number"].as_str().unwrap().contains('*'), "{saved}");
        assert_eq!(saved["location"]["building_id"], app.world.own_building.id);
        assert!(events(&saved).contains(&"overridden".to_owned()), "{saved}");
    }

    async fn bad_input_at_the_desk_is_refused_at_the_field_and_saves_nothing(db: TestDatabase) {
        let app = TestApp::new(db).await;
        add_desks(&app).await;
        let operator = app.session(Role::Operator).await;
        let body = json!({
            "source": "told_officer", "text": "有人在楼下吵架", "location_text": JINLI,
            "reporter_phone": "1391234", "reporter_id_number": "12345", "category": "nonsense",
        });
        let refused = post(&app, &operator, "/api/v1/incidents", &body, Some("bad-1")).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.text);
        let fields: Vec<String> = refused.json()["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap().to_owned())
            .collect();
        for field in ["reporter_phone", "reporter_id_number", "category"] {
            assert!(fields.contains(&field.to_owned()), "{field} in {fields:?}");
        }
        assert!(refused.text.contains("reason"), "{}", refused.text);
        let no_note = json!({"source": "walk_in", "text": "请问办身份证要带什么", "location_text": JINLI,
            "settlement": "answered"});
        let refused = post(&app, &operator, "/api/v1/incidents", &no_note, None).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.text);
        assert_eq!(refused.json()["errors"][0]["field"], "settlement_note");
        assert_eq!(incident_rows(&app).await, 0);

        // Only the command room decides the category at intake.
        let officer = app.session(Role::CommunityOfficer).await;
        let chosen = json!({"source": "told_officer", "text": "有人在楼下吵架", "location_text": JINLI,
            "category": "noise"});
        let refused = post(&app, &officer, "/api/v1/incidents", &chosen, None).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
        let told = json!({"source": "told_officer", "text": "有人在楼下吵架", "location_text": JINLI});
        let made = post(&app, &officer, "/api/v1/incidents", &told, None).await;
        assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
        assert_eq!(made.json()["source"], "told_officer");
    }

    async fn a_field_report_taken_in_twice_is_one_incident_linked_both_ways(db: TestDatabase) {
        let app = TestApp::new(db).await;
        add_desks(&app).await;
        let world = &app.world;
        let report = add_field_report(
            &app.db.store,
            &world.station_a,
            &world.own_building,
            world.users[&Role::GridWorker],
        )
        .await;
        let operator = app.session(Role::Operator).await;
        let path = format!("/api/v1/field-reports/{report}/incident");
        let empty = json!({});
        let (a, b) = tokio::join!(
            post(&app, &operator, &path, &empty, None),
            post(&app, &operator, &path, &empty, None),
        );
        let mut statuses = [a.status, b.status];
        statuses.sort();
        assert_eq!(statuses, [StatusCode::OK, StatusCode::CREATED], "{} {}", a.text, b.text);
        assert_eq!(a.json()["id"], b.json()["id"]);
        let again = post(&app, &operator, &path, &json!({}), None).await;
        assert_eq!(again.status, StatusCode::OK, "{}", again.text);
        assert_eq!(again.json()["id"], a.json()["id"]);
        assert_eq!(incident_rows(&app).await, 1, "one incident per report");

        let incident_id = a.json()["id"].as_i64().unwrap();
        let incident = app
            .request(Method::GET, &format!("/api/v1/incidents/{incident_id}"), Some(&operator), None)
            .await
            .json();
        assert_eq!(incident["field_report_id"], report, "{incident}");
        assert_eq!(incident["source"], "grid_worker");
        assert_eq!(incident["location"]["building_id"], world.own_building.id);
        assert!(incident["text"].as_str().unwrap().contains("漏水"), "{incident}");
        let officer = app.session(Role::CommunityOfficer).await;
        let seen = app
            .request(Method::GET, &format!("/api/v1/field-reports/{report}"), Some(&officer), None)
            .await;
        assert_eq!(seen.status, StatusCode::OK, "{}", seen.text);
        assert_eq!(seen.json()["incident_id"], incident_id);

        // Another station's report is not there for this one.
        let foreign = format!("/api/v1/field-reports/{}/incident", world.foreign_field_report);
        let refused = post(&app, &operator, &foreign, &json!({}), None).await;
        assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.text);
        assert_eq!(incident_rows(&app).await, 1);
    }

    async fn a_question_settled_at_the_desk_counts_as_resolved_on_the_spot(db: TestDatabase) {
        let app = TestApp::new(db).await;
        add_desks(&app).await;
        let operator = app.session(Role::Operator).await;
        let chief = app.session(Role::StationChief).await;
        let figures = |secret: String| {
            let app = &app;
            async move {
                let r = app
                    .request(Method::GET, &format!("/api/v1/figures?{NOVEMBER}"), Some(&secret), None)
                    .await;
                assert_eq!(r.status, StatusCode::OK, "{}", r.text);
                r.json()
            }
        };
        let before = on_scene(&figures(chief.clone()).await);

        let body = json!({
            "source": "walk_in", "text": "我想咨询一下孩子落户的手续怎么办", "location_text": JINLI,
            "settlement": "answered", "settlement_note": "已告知需带户口簿、出生医学证明到户籍窗口办理",
        });
        let settled = post(&app, &operator, "/api/v1/incidents", &body, Some("ask-1")).await;
        assert_eq!(settled.status, StatusCode::CREATED, "{}", settled.text);
        let settled = settled.json();
        assert_eq!(settled["status"], "resolved", "{settled}");
        assert_eq!(settled["work_orders"].as_array().unwrap().len(), 0, "no department was handed it");
        assert!(events(&settled).contains(&"settled_on_the_spot".to_owned()), "{settled}");
        // A retry of the same save answers with the same settled incident.
        let again = post(&app, &operator, "/api/v1/incidents", &body, Some("ask-1")).await;
        assert_eq!(again.status, StatusCode::OK, "{}", again.text);
        assert_eq!(again.json()["id"], settled["id"]);
        assert_eq!(again.json()["status"], "resolved");

        // A question held on the board is referred from the pane.
        let held = json!({"source": "phone", "text": "请问出入境办证大厅几点上班", "location_text": JINLI,
            "category": "consultation"});
        let held = post(&app, &operator, "/api/v1/incidents", &held, None).await;
        assert_eq!(held.status, StatusCode::CREATED, "{}", held.text);
        let held_id = held.json()["id"].as_i64().unwrap();
        let work_orders = held.json()["work_orders"].as_array().unwrap().len();
        let referred = post(&app, &operator, &format!("/api/v1/incidents/{held_id}/settle"),
            &json!({"settlement": "referred", "settlement_note": "已告知拨打12345政务服务热线"}), None).await;
        if work_orders == 0 {
            assert_eq!(referred.status, StatusCode::OK, "{}", referred.text);
            assert_eq!(referred.json()["status"], "resolved");
        } else {
            // Routed to a governance centre at intake: no longer the desk's.
            assert_eq!(referred.status, StatusCode::CONFLICT, "{}", referred.text);
        }

        let after = on_scene(&figures(chief).await);
        let settled_count = 1 + u64::from(work_orders == 0);
        assert_eq!(after.0, before.0 + settled_count, "{before:?} → {after:?}");
        assert_eq!(after.1, before.1 + 2, "{before:?} → {after:?}");
    }

    async fn a_case_from_an_incident_carries_the_caller_as_a_masked_party(db: TestDatabase) {
        let app = TestApp::new(db).await;
        add_desks(&app).await;
        let operator = app.session(Role::Operator).await;
        let body = json!({
            "source": "walk_in", "text": "楼上邻居漏水不修，双方吵了好几次", "location_text": JINLI,
            "reporter_name": "王小明", "reporter_phone": "13912345678",
        });
        let incident = post(&app, &operator, "/api/v1/incidents", &body, None).await;
        assert_eq!(incident.status, StatusCode::CREATED, "{}", incident.text);
        let incident_id = incident.json()["id"].as_i64().unwrap();
        let case = json!({
            "source": "incident", "incident_id": incident_id, "dispute_type": "neighbour",
            "risk_level": "medium", "risk_reason": "双方多次争吵，情绪激动",
            "reporter_as_party": true,
        });
        // The community officer registers it: cases are the station's.
        let officer = app.session(Role::CommunityOfficer).await;
        let registered = post(&app, &officer, "/api/v1/disputes", &case, Some("case-1")).await;
        assert_eq!(registered.status, StatusCode::CREATED, "{}", registered.text);
        let registered = registered.json();
        let text = registered.to_string();
        assert!(text.contains("王*"), "{text}");
        assert!(!text.contains("王小明") && !text.contains("13912345678"), "{text}");
        assert!(text.contains(&incident_id.to_string()), "{text}");

        // A caller who gave no name cannot be a party without one.
        let unnamed = json!({"source": "walk_in", "text": "楼上吵架", "location_text": JINLI,
            "reporter_phone": "13912345679"});
        let unnamed = post(&app, &operator, "/api/v1/incidents", &unnamed, None).await;
        let id = unnamed.json()["id"].as_i64().unwrap();
        let refused = post(&app, &officer, "/api/v1/disputes", &json!({
            "source": "incident", "incident_id": id, "dispute_type": "neighbour",
            "risk_level": "low", "risk_reason": "口角", "reporter_as_party": true,
        }), None).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.text);
        assert_eq!(refused.json()["errors"][0]["field"], "reporter_as_party");
    }
}
