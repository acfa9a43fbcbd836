//! The live stream through the real router: a subscriber receives the
//! changes of its jurisdiction as they are committed, never a foreign
//! station's, and is told to reload when it fell behind.

use std::time::Duration;

use axum::http::{Method, StatusCode};
use fengqiao_core::org::OrgKind;
use fengqiao_core::role::Role;
use fengqiao_server::live::{LiveEvent, LiveKind};
use fengqiao_store::backend_tests;
use fengqiao_store::testing::TestDatabase;
use serde_json::{json, Value};

use crate::helpers::{add_account, new_org, TestApp, PASSWORD, T0};

const JINLI: &str = "成都市武侯区浆洗街锦里小区3栋";
const WANGJIANG: &str = "成都市武侯区望江路望江小区1栋";
const WAIT: Duration = Duration::from_secs(2);
/// How long to wait for an event that must not come.
const QUIET: Duration = Duration::from_millis(300);

async fn post(app: &TestApp, secret: &str, body: Value) -> Value {
    let response = app
        .request(Method::POST, "/api/v1/incidents", Some(secret), Some(&body))
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
    response.json()
}

backend_tests! {
    async fn a_subscriber_receives_its_jurisdictions_incidents_only(db: TestDatabase) {
        let app = TestApp::new(db).await;
        let operator = app.session(Role::Operator).await;
        let mut board = app.subscribe(&operator).await;

        let foreign = app.sign_in_as("foreign.user", PASSWORD).await.session_cookie().unwrap();
        let theirs = post(&app, &foreign, json!({"source": "phone", "text": "望江小区门口有人打架", "location_text": WANGJIANG})).await;
        assert_eq!(theirs["station_org_id"], app.world.station_b.id);
        let ours = post(&app, &operator, json!({"source": "call_110", "text": "有人在小区门口打架", "location_text": JINLI})).await;

        // Events arrive in commit order, so had B's been delivered it would
        // come first.
        let event = board.next(WAIT).await.expect("the new incident is pushed");
        assert_eq!(event.name, "message");
        let data: Value = serde_json::from_str(&event.data).unwrap();
        assert_eq!(data, json!({"kind": "incident", "id": ours["id"], "incident_id": ours["id"], "change": "created"}));
        assert_eq!(board.next(QUIET).await, None, "B's incident is not delivered");

        // B's own operator does receive B's next one.
        let mut b_board = app.subscribe(&foreign).await;
        let next = post(&app, &foreign, json!({"source": "phone", "text": "望江小区有人吵架", "location_text": WANGJIANG})).await;
        let data: Value = serde_json::from_str(&b_board.next(WAIT).await.unwrap().data).unwrap();
        assert_eq!(data["id"], next["id"]);
        assert_eq!(board.next(QUIET).await, None);
    }

    async fn a_department_sees_the_work_orders_sent_to_it(db: TestDatabase) {
        let app = TestApp::new(db).await;
        let mut labour = new_org(Some(app.world.county.id), OrgKind::Department, "武侯区劳动保障监察大队", "510107");
        labour.department_type = Some("labour_inspection".into());
        let mut tx = app.db.store.begin().await.unwrap();
        let labour = tx.insert_organisation(&labour, T0).await.unwrap();
        tx.commit().await.unwrap();
        add_account(&app.state, "labour.handler", labour.id, Role::DepartmentHandler).await;
        let handler = app.sign_in_as("labour.handler", PASSWORD).await.session_cookie().unwrap();
        let mut inbox = app.subscribe(&handler).await;

        let operator = app.session(Role::Operator).await;
        post(&app, &operator, json!({"source": "phone", "text": "有人在小区门口打架", "location_text": JINLI})).await;
        let wages = post(&app, &operator, json!({"source": "phone", "text": "老板拖欠我们三个月工资不给", "location_text": JINLI})).await;
        assert_eq!(wages["work_orders"][0]["owner_org_id"], labour.id, "{wages}");

        let data: Value = serde_json::from_str(&inbox.next(WAIT).await.expect("the diverted incident").data).unwrap();
        assert_eq!(data["id"], wages["id"], "the police incident before it is not the department's");
        assert_eq!(inbox.next(QUIET).await, None);
    }

    async fn only_incident_viewers_subscribe(db: TestDatabase) {
        let app = TestApp::new(db).await;
        for role in [Role::Administrator, Role::SecurityAdministrator, Role::Auditor] {
            let secret = app.session(role).await;
            let response = app.request(Method::GET, "/api/v1/live", Some(&secret), None).await;
            assert_eq!(response.status, StatusCode::FORBIDDEN, "{role:?}");
            assert_eq!(response.headers["content-type"], "application/problem+json");
        }
        let response = app.request(Method::GET, "/api/v1/live", None, None).await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED);
    }

    async fn a_subscriber_that_fell_behind_is_told_to_reload(db: TestDatabase) {
        let app = TestApp::new(db).await;
        let operator = app.session(Role::Operator).await;
        let mut board = app.subscribe(&operator).await;
        // More changes than the channel keeps while this board reads none.
        for id in 0..5000 {
            app.state.live.publish(LiveEvent {
                kind: LiveKind::Incident,
                id,
                incident_id: Some(id),
                change: "created".into(),
                orgs: vec![app.world.station_a.path.clone()],
            });
        }
        let first = board.next(WAIT).await.unwrap();
        assert_eq!(first.name, "reload", "{first:?}");
        // It goes on with what the channel still holds.
        let next = board.next(WAIT).await.unwrap();
        assert_eq!(next.name, "message");
        let data: Value = serde_json::from_str(&next.data).unwrap();
        assert!(data["id"].as_i64().unwrap() > 0, "{data}");
    }

    async fn the_board_page_is_for_incident_viewers(db: TestDatabase) {
        let app = TestApp::new(db).await;
        let signed_out = app.request(Method::GET, "/board", None, None).await;
        assert_eq!(signed_out.status, StatusCode::SEE_OTHER);
        assert_eq!(signed_out.headers["location"], "/signin");

        let operator = app.session(Role::Operator).await;
        let page = app.request(Method::GET, "/board", Some(&operator), None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        assert!(page.text.contains("<h1>指挥室 · 实时警情</h1>"));
        assert!(page.text.contains(r#"<script src="/assets/board.js"></script>"#));
        assert!(page.text.contains(r#"<option value="wage_arrears" data-group="non_police" data-dispute-type="labour_wages">拖欠工资</option>"#), "categories from the triage table");
        assert!(page.text.contains(r#"<span data-key="work_order.created">待签收</span>"#), "the script's words come from the page");
        assert!(!page.text.contains("<script>") && !page.text.contains("style="), "nothing inline for the CSP to refuse");
        let home = app.request(Method::GET, "/", Some(&operator), None).await;
        assert!(home.text.contains(r#"href="/board""#));
        for asset in ["/assets/board.js", "/assets/live.js"] {
            let response = app.request(Method::GET, asset, None, None).await;
            assert_eq!(response.status, StatusCode::OK, "{asset}");
            assert!(response.headers["content-type"].to_str().unwrap().contains("javascript"), "{asset}");
        }

        let admin = app.session(Role::Administrator).await;
        let refused = app.request(Method::GET, "/board", Some(&admin), None).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        let home = app.request(Method::GET, "/", Some(&admin), None).await;
        assert!(!home.text.contains(r#"href="/board""#), "no link to a page the role cannot open");
    }

    async fn the_inbox_page_is_for_department_handlers(db: TestDatabase) {
        let app = TestApp::new(db).await;
        let handler = app.session(Role::DepartmentHandler).await;
        let page = app.request(Method::GET, "/inbox", Some(&handler), None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        assert!(page.text.contains("<h1>部门工单</h1>"));
        assert!(page.text.contains(r#"<script src="/assets/inbox.js"></script>"#));
        assert!(page.text.contains(r#"<span data-key="action.reject">退回</span>"#));
        let home = app.request(Method::GET, "/", Some(&handler), None).await;
        assert!(home.text.contains(r#"href="/inbox""#));
        let operator = app.session(Role::Operator).await;
        let refused = app.request(Method::GET, "/inbox", Some(&operator), None).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "operators do not handle work orders");
        let home = app.request(Method::GET, "/", Some(&operator), None).await;
        assert!(!home.text.contains(r#"href="/inbox""#));
        assert_eq!(app.request(Method::GET, "/inbox", None, None).await.status, StatusCode::SEE_OTHER);
    }

    async fn a_read_marks_the_deadlines_that_passed(db: TestDatabase) {
        let app = TestApp::new(db).await;
        let mut labour = new_org(Some(app.world.county.id), OrgKind::Department, "武侯区劳动保障监察大队", "510107");
        labour.department_type = Some("labour_inspection".into());
        let mut tx = app.db.store.begin().await.unwrap();
        tx.insert_organisation(&labour, T0).await.unwrap();
        tx.commit().await.unwrap();
        let operator = app.session(Role::Operator).await;
        let wages = post(&app, &operator, json!({"source": "phone", "text": "老板拖欠我们三个月工资不给", "location_text": JINLI})).await;
        let path = format!("/api/v1/incidents/{}", wages["id"]);
        let overdue = |incident: &Value| incident["work_orders"][0]["overdue"].clone();
        // A new session each time: hours pass between the reads.
        let read_now = || async {
            let operator = app.session(Role::Operator).await;
            let response = app.request(Method::GET, &path, Some(&operator), None).await;
            assert_eq!(response.status, StatusCode::OK, "{}", response.text);
            response.json()
        };
        assert_eq!(overdue(&wages), json!([]));
        // 60 minutes to accept, 7200 to finish (the category table's).
        app.clock.advance_minutes(60);
        let read = read_now().await;
        assert_eq!(overdue(&read), json!([]), "met at its last moment");
        app.clock.advance_minutes(1);
        let read = read_now().await;
        assert_eq!(overdue(&read), json!(["accept"]));
        app.clock.advance_minutes(7200);
        let read = read_now().await;
        assert_eq!(overdue(&read), json!(["accept", "finish"]));
        assert_eq!(read["org_names"][read["work_orders"][0]["owner_org_id"].to_string()], "武侯区劳动保障监察大队");
    }

    async fn streams_end_when_the_server_shuts_down(db: TestDatabase) {
        let app = TestApp::new(db).await;
        let operator = app.session(Role::Operator).await;
        let mut board = app.subscribe(&operator).await;
        app.state.live.close();
        assert_eq!(board.next(WAIT).await, None);
        assert!(board.ended(), "the response body ended");
    }
}
