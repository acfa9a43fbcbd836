//! Warning delivery and escalation (预警推送与督办) through the real router:
//! threat words at intake raise a warning that reaches the grid's community
//! officer and grid worker live (the grid worker sits in the street's
//! governance centre, not in the station), escalates once to the station
//! chief when nobody acknowledges it in time (also across a restart), and
//! closes only with an action record.

use std::time::Duration;

use axum::http::{Method, StatusCode};
use fengqiao_core::role::Role;
use fengqiao_server::services::escalation::escalate_warnings_due;
use fengqiao_store::backend_tests;
use fengqiao_store::testing::TestDatabase;
use serde_json::{json, Value};

use crate::helpers::{add_account, add_desks, EventStream, TestApp, PASSWORD, T0};

const JINLI: &str = "成都市武侯区浆洗街锦里小区3栋";
const WAIT: Duration = Duration::from_secs(5);
const QUIET: Duration = Duration::from_millis(300);

async fn report(app: &TestApp, secret: &str, text: &str) -> Value {
    let body = json!({"source": "phone", "text": text, "location_text": JINLI});
    let response = app
        .request(Method::POST, "/api/v1/incidents", Some(secret), Some(&body))
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
    response.json()
}

async fn sign_in(app: &TestApp, username: &str) -> String {
    let response = app.sign_in_as(username, PASSWORD).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    response.session_cookie().unwrap()
}

async fn warnings(app: &TestApp, secret: &str) -> Vec<Value> {
    let response = app
        .request(Method::GET, "/api/v1/warnings", Some(secret), None)
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    response.json().as_array().unwrap().clone()
}

async fn warning(app: &TestApp, secret: &str, id: i64) -> Value {
    let path = format!("/api/v1/warnings/{id}");
    let response = app.request(Method::GET, &path, Some(secret), None).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    response.json()
}

/// The next warning change on `stream`, as `(id, change)`, skipping other
/// kinds (the incident itself, for those who see it).
async fn next_warning(stream: &mut EventStream) -> Option<(i64, String)> {
    loop {
        let event = stream.next(WAIT).await?;
        let data: Value = serde_json::from_str(&event.data).unwrap();
        if data["kind"] == "warning" {
            return Some((
                data["id"].as_i64().unwrap(),
                data["change"].as_str().unwrap().to_owned(),
            ));
        }
    }
}

/// Nothing about warnings arrives on `stream` for a while.
async fn no_warning(stream: &mut EventStream) {
    while let Some(event) = stream.next(QUIET).await {
        assert!(!event.data.contains("\"warning\""), "{event:?}");
    }
}

backend_tests! {
    async fn the_warning_reaches_the_grid_escalates_once_and_closes_only_with_an_action_record(db: TestDatabase) {
        let mut app = TestApp::new(db).await;
        let desks = add_desks(&app).await;
        let world = &app.world;
        // 锦里小区3栋's grid: station A, its community officer, and a grid
        // worker of the street's governance centre; another worker of the
        // centre answers for no grid here.
        let officer_id = world.users[&Role::CommunityOfficer];
        let worker_id = add_account(&app.state, "grid.worker.jinli", desks.governance.id, Role::GridWorker).await;
        add_account(&app.state, "grid.worker.other", desks.governance.id, Role::GridWorker).await;
        let mut tx = app.db.store.begin().await.unwrap();
        tx.set_grid_responsibility(world.own_grid, Some(world.station_a.id), Some(officer_id), &[worker_id], T0)
            .await
            .unwrap();
        tx.commit().await.unwrap();

        let officer = app.session(Role::CommunityOfficer).await;
        let worker = sign_in(&app, "grid.worker.jinli").await;
        let other = sign_in(&app, "grid.worker.other").await;
        let foreign = sign_in(&app, "foreign.user").await;
        let mut officer_live = app.subscribe(&officer).await;
        let mut worker_live = app.subscribe(&worker).await;
        let mut other_live = app.subscribe(&other).await;
        let mut foreign_live = app.subscribe(&foreign).await;

        // A negated threat raises nothing; a threat raises one warning,
        // on the building, naming the rule and the words.
        let operator = app.session(Role::Operator).await;
        report(&app, &operator, "邻居吵架，但没有说要打人").await;
        let incident = report(&app, &operator, "楼上邻居吵架，他说要弄死对方").await;
        let listed = warnings(&app, &officer).await;
        assert_eq!(listed.len(), 1, "{listed:?}");
        let id = listed[0]["id"].as_i64().unwrap();
        assert_eq!(listed[0]["rule"], "threat_words");
        assert_eq!(listed[0]["rule_name"], "威胁暴力言语");
        assert_eq!(listed[0]["subject"], json!({"kind": "address", "id": world.own_building.id}));
        let evidence = &listed[0]["evidence"];
        assert_eq!(evidence["source"], "incident_text");
        assert_eq!(evidence["source_id"], incident["id"]);
        assert_eq!(evidence["words"], json!([{"word": "弄死", "kind": "threat_to_kill"}]));
        assert_eq!(evidence["excerpt"], "楼上邻居吵架，他说要弄死对方");

        // Live for the grid's officer and its grid worker, whose own
        // organisation is not the station; not for anyone else.
        assert_eq!(next_warning(&mut officer_live).await, Some((id, "raised".into())));
        assert_eq!(next_warning(&mut worker_live).await, Some((id, "raised".into())));
        no_warning(&mut other_live).await;
        no_warning(&mut foreign_live).await;
        // The grid worker sees it in the list and on its own; the other
        // worker and station B do not.
        assert_eq!(warnings(&app, &worker).await.len(), 1);
        assert!(warnings(&app, &other).await.is_empty());
        assert!(warnings(&app, &foreign).await.iter().all(|w| w["id"] != id), "station B sees its own only");
        let path = format!("/api/v1/warnings/{id}");
        assert_eq!(app.request(Method::GET, &path, Some(&other), None).await.status, StatusCode::NOT_FOUND);
        let view = warning(&app, &worker, id).await;
        assert_eq!(
            view["recipients"],
            json!([{"user_id": officer_id, "kind": "officer"}, {"user_id": worker_id, "kind": "grid_worker"}])
        );

        // Nobody acknowledges within the hour; the deadline passes while
        // the server is stopped. After the restart the scan escalates it to
        // the station chief, once.
        let acknowledge_by = view["acknowledge_by"].clone();
        assert_eq!(escalate_warnings_due(&app.state).await.unwrap(), 0, "not due yet");
        app.clock.advance_minutes(60);
        assert_eq!(escalate_warnings_due(&app.state).await.unwrap(), 0, "met at its last moment");
        app.clock.advance_minutes(1);
        app.restart().await;
        let chief = app.session(Role::StationChief).await;
        let worker = sign_in(&app, "grid.worker.jinli").await;
        let mut chief_live = app.subscribe(&chief).await;
        let mut worker_live = app.subscribe(&worker).await;
        assert_eq!(escalate_warnings_due(&app.state).await.unwrap(), 1);
        assert_eq!(escalate_warnings_due(&app.state).await.unwrap(), 0, "exactly once");
        assert_eq!(next_warning(&mut chief_live).await, Some((id, "escalated".into())));
        assert_eq!(next_warning(&mut worker_live).await, Some((id, "escalated".into())));
        let chief_id = app.world.users[&Role::StationChief];
        let view = warning(&app, &chief, id).await;
        assert_eq!(view["status"], "open");
        assert_eq!(view["overdue"], true);
        assert_eq!(view["acknowledge_by"], acknowledge_by);
        let escalated_at = chrono::DateTime::from_timestamp_millis(T0.plus_minutes(61).millis()).unwrap();
        assert_eq!(view["escalated_at"], escalated_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
        assert_eq!(view["recipients"][2], json!({"user_id": chief_id, "kind": "station_chief"}));
        // (Station B's own warning is due four hours after T0.)
        app.clock.advance_minutes(120);
        assert_eq!(escalate_warnings_due(&app.state).await.unwrap(), 0, "still once, two hours later");
        let officer = app.session(Role::CommunityOfficer).await;
        let worker = sign_in(&app, "grid.worker.jinli").await;

        // Closed only with an action record, after someone acknowledged it.
        let act = |secret: String, action: &'static str, body: Value| {
            let app = &app;
            async move {
                let path = format!("/api/v1/warnings/{id}/{action}");
                app.request(Method::POST, &path, Some(&secret), Some(&body)).await
            }
        };
        let early = act(worker.clone(), "close", json!({"action": "visited", "note": "已上门"})).await;
        assert_eq!(early.status, StatusCode::CONFLICT, "{}", early.text);
        assert!(early.json()["detail"].as_str().unwrap().contains("请先签收"), "{}", early.text);
        let acknowledged = act(worker.clone(), "acknowledge", json!({})).await;
        assert_eq!(acknowledged.status, StatusCode::OK, "{}", acknowledged.text);
        assert_eq!(acknowledged.json()["acknowledged_by"], format!("user:{worker_id}"));
        for body in [json!({}), json!({"action": "visited"}), json!({"note": "已上门走访"}), json!({"action": "shrugged", "note": "看过了"})] {
            let refused = act(worker.clone(), "close", body.clone()).await;
            assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", refused.text);
        }
        assert_eq!(warning(&app, &officer, id).await["status"], "acknowledged", "nothing stored");
        let closed = act(worker.clone(), "close", json!({"action": "mediated", "note": "已上门调解，双方和解"})).await;
        assert_eq!(closed.status, StatusCode::OK, "{}", closed.text);
        let closed = closed.json();
        assert_eq!((&closed["status"], &closed["action"], &closed["note"]), (&json!("closed"), &json!("mediated"), &json!("已上门调解，双方和解")));
        assert_eq!(next_warning(&mut worker_live).await, Some((id, "acknowledged".into())));
        assert_eq!(next_warning(&mut worker_live).await, Some((id, "closed".into())));
        assert_eq!(next_warning(&mut chief_live).await, Some((id, "acknowledged".into())));
        assert_eq!(next_warning(&mut chief_live).await, Some((id, "closed".into())));

        // Every change is in the audit log: raised, escalated to the chief,
        // acknowledged, closed.
        let page = app.state.store.audit_entries(0, 10_000).await.unwrap();
        let text = serde_json::to_string(&page.entries).unwrap();
        assert!(text.contains("threat_words incident"), "{text}");
        assert!(text.contains(&format!("escalated to users {chief_id}")), "{text}");
        assert!(text.contains("closed mediated"), "{text}");
    }
}

/// A form posted from a page, as a browser posts it.
async fn post_form(
    app: &TestApp,
    secret: &str,
    path: &str,
    body: &str,
) -> (StatusCode, String, Option<String>) {
    let response = app
        .client()
        .post(path)
        .auth(secret)
        .form(body)
        .send()
        .await
        .unwrap();
    let location = response
        .headers
        .get(axum::http::header::LOCATION)
        .map(|l| l.to_str().unwrap().to_owned());
    (response.status, response.text(), location)
}

backend_tests! {
    async fn the_station_board_shows_open_acknowledged_closed_and_overdue_and_closes_only_with_a_record(db: TestDatabase) {
        let app = TestApp::new(db).await;
        add_desks(&app).await;
        let signed_out = app.request(Method::GET, "/warnings", None, None).await;
        assert_eq!(signed_out.status, StatusCode::SEE_OTHER);
        let admin = app.session(Role::Administrator).await;
        assert_eq!(app.request(Method::GET, "/warnings", Some(&admin), None).await.status, StatusCode::FORBIDDEN);
        assert!(!app.request(Method::GET, "/", Some(&admin), None).await.text.contains(r#"href="/warnings""#));
        let chief = app.session(Role::StationChief).await;
        assert!(app.request(Method::GET, "/", Some(&chief), None).await.text.contains(r#"href="/warnings""#), "linked from home");

        let operator = app.session(Role::Operator).await;
        report(&app, &operator, "楼上邻居吵架，他说要弄死对方").await;
        let id = warnings(&app, &chief).await[0]["id"].as_i64().unwrap();
        let page = app.request(Method::GET, "/warnings", Some(&chief), None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        let text = &page.text;
        assert!(text.contains("<h1>预警看板</h1>"), "{text}");
        assert!(text.contains("威胁暴力言语") && text.contains("地址：锦里小区3栋") && text.contains("词语：弄死"), "{text}");
        assert!(text.contains(r#"id="tab-open""#) && text.contains("待签收 <b>1</b>"), "{text}");
        assert!(text.contains(&format!(r#"action="/warnings/{id}/acknowledge""#)), "{text}");
        assert!(!text.contains("<script"), "no script: plain forms");
        // Times in Asia/Shanghai.
        assert!(text.contains("2025-11-25 00:00"), "T0, 16:00 UTC, in Beijing time: {text}");

        // Past the hour it is overdue.
        app.clock.advance_minutes(61);
        let chief = app.session(Role::StationChief).await;
        let overdue = app.request(Method::GET, "/warnings?status=overdue", Some(&chief), None).await;
        assert!(overdue.text.contains("超时 <b>1</b>") && overdue.text.contains("超时未签收"), "{}", overdue.text);

        let (status, _, location) = post_form(&app, &chief, &format!("/warnings/{id}/acknowledge"), "").await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(location.as_deref(), Some("/warnings?status=acknowledged&done=acknowledged"));
        let (status, text, _) = post_form(&app, &chief, &format!("/warnings/{id}/acknowledge"), "").await;
        assert_eq!(status, StatusCode::CONFLICT, "{text}");
        assert!(text.contains("不能再签收"), "{text}");

        let close = format!("/warnings/{id}/close");
        let (status, text, _) = post_form(&app, &chief, &close, "action=&note=%E5%B7%B2%E8%B5%B0%E8%AE%BF").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{text}");
        assert!(text.contains("处置方式："), "{text}");
        assert!(text.contains("已走访</textarea>"), "what was typed comes back: {text}");
        assert_eq!(warning(&app, &chief, id).await["status"], "acknowledged", "nothing stored");
        let (status, _, location) = post_form(&app, &chief, &close, "action=visited&note=%E5%B7%B2%E4%B8%8A%E9%97%A8%E8%B5%B0%E8%AE%BF").await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(location.as_deref(), Some("/warnings?status=closed&done=closed"));
        let closed = app.request(Method::GET, "/warnings?status=closed&done=closed", Some(&chief), None).await;
        assert!(closed.text.contains("上门走访：已上门走访") && closed.text.contains("已办结。"), "{}", closed.text);
        assert_eq!(warning(&app, &chief, id).await["action"], "visited");
    }
}
