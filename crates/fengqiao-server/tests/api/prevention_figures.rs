//! GET /api/v1/figures/prevention through the real router on both backends:
//! field reports, dispute cases, their warnings and a day's tasks made
//! through the API, with every figure worked out by hand; the officer, the
//! grid and the jurisdiction bound what is counted.

use axum::http::{Method, StatusCode};
use fengqiao_core::role::Role;
use fengqiao_store::backend_tests;
use fengqiao_store::testing::TestDatabase;
use serde_json::{json, Value};

use crate::helpers::{Response, TestApp, T0};

const JINLI: &str = "成都市武侯区浆洗街锦里小区3栋";
const DAY: i64 = 24 * 60;
/// November 2025 in Beijing time, which holds T0 and the four days after.
const NOVEMBER: &str = "from=2025-11-01T00:00:00%2B08:00&to=2025-12-01T00:00:00%2B08:00";

async fn post(app: &TestApp, secret: &str, path: &str, body: &Value) -> Value {
    let response = app
        .request(Method::POST, path, Some(secret), Some(body))
        .await;
    assert!(response.status.is_success(), "{path}: {}", response.text);
    response.json()
}

async fn figures(app: &TestApp, secret: &str, query: &str) -> Response {
    let path = format!("/api/v1/figures/prevention?{query}");
    app.request(Method::GET, &path, Some(secret), None).await
}

/// A case registered at the station for the community officer.
async fn register(app: &TestApp, secret: &str, risk_level: &str) -> i64 {
    let body = json!({
        "source": "station",
        "dispute_type": "neighbour",
        "parties": [{"name": "张三"}, {"name": "李四"}],
        "address_text": JINLI,
        "facts": "楼上漏水，双方争执",
        "risk_level": risk_level,
        "risk_reason": "双方多次争吵",
        "officer_user_id": app.world.users[&Role::CommunityOfficer],
    });
    post(app, secret, "/api/v1/disputes", &body).await["id"]
        .as_i64()
        .unwrap()
}

/// One session, then an agreement with visits after 3 and 14 days; the
/// first visit's id.
async fn settle(app: &TestApp, secret: &str, id: i64) -> i64 {
    let session = json!({"place": "锦里社区调解室", "participants": "双方当事人", "note": "双方同意分担维修费用"});
    post(
        app,
        secret,
        &format!("/api/v1/disputes/{id}/sessions"),
        &session,
    )
    .await;
    let agreement = json!({"text": "楼上承担维修费用", "follow_up_days": [3, 14]});
    let dispute = post(
        app,
        secret,
        &format!("/api/v1/disputes/{id}/agreement"),
        &agreement,
    )
    .await;
    dispute["follow_ups"][0]["id"].as_i64().unwrap()
}

async fn case_warning(app: &TestApp, secret: &str, id: i64) -> i64 {
    let response = app
        .request(Method::GET, "/api/v1/warnings", Some(secret), None)
        .await;
    let list = response.json();
    let found: Vec<i64> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["subject"] == json!({"kind": "case", "id": id}))
        .map(|w| w["id"].as_i64().unwrap())
        .collect();
    assert_eq!(found.len(), 1, "{list}");
    found[0]
}

fn rates(f: &Value) -> Vec<(u64, u64)> {
    [
        "mediation_success",
        "resolved_within_deadline",
        "follow_ups_holding",
        "warnings_closed_on_time",
        "tasks_done_on_time",
    ]
    .iter()
    .map(|k| {
        (
            f[k]["count"].as_u64().unwrap(),
            f[k]["of"].as_u64().unwrap(),
        )
    })
    .collect()
}

fn counts(f: &Value) -> [u64; 3] {
    [
        "disputes_screened",
        "screened_registered",
        "disputes_registered",
    ]
    .map(|k| f[k].as_u64().unwrap())
}

backend_tests! {
    async fn prevention_figures_of_a_station_an_officer_and_a_grid(db: TestDatabase) {
        let app = TestApp::new(db).await;
        let world = &app.world;
        let officer_id = world.users[&Role::CommunityOfficer];
        let worker_id = world.users[&Role::GridWorker];
        let mut tx = app.db.store.begin().await.unwrap();
        tx.set_grid_responsibility(world.own_grid, Some(world.station_a.id), Some(officer_id), &[worker_id], T0)
            .await.unwrap();
        tx.commit().await.unwrap();
        let officer = app.session(Role::CommunityOfficer).await;
        let worker = app.session(Role::GridWorker).await;
        let chief = app.session(Role::StationChief).await;

        // Screened: two dispute reports, one registered as a low-risk case (E).
        let report = |text: &str| json!({"kind": "dispute", "category": "neighbour", "description": text,
            "address_text": "锦里小区3栋", "building_id": world.own_building.id});
        let first = post(&app, &worker, "/api/v1/field-reports", &report("楼上楼下因漏水争吵")).await;
        post(&app, &worker, "/api/v1/field-reports", &report("邻居因停车位争执")).await;
        let register_report = json!({"source": "field_report", "field_report_id": first["id"],
            "dispute_type": "neighbour", "parties": [{"name": "王五"}], "risk_level": "low", "risk_reason": "情绪平稳"});
        post(&app, &chief, "/api/v1/disputes", &register_report).await;

        // A (medium, 7 days) agreed at once; B (critical, 1 day) agreed
        // after 2 days; C (low) waiting; D (medium) failed at once.
        let a = register(&app, &officer, "medium").await;
        let b = register(&app, &officer, "critical").await;
        register(&app, &officer, "low").await;
        let d = register(&app, &officer, "medium").await;
        let a_visit = settle(&app, &officer, a).await;
        post(&app, &officer, &format!("/api/v1/disputes/{d}/fail"), &json!({"reason": "双方拒绝调解"})).await;
        // Its warning acknowledged at once and closed with an action record.
        let w = case_warning(&app, &officer, d).await;
        post(&app, &officer, &format!("/api/v1/warnings/{w}/acknowledge"), &json!({})).await;
        post(&app, &officer, &format!("/api/v1/warnings/{w}/close"), &json!({"action": "mediated", "note": "已引导诉讼"})).await;

        app.clock.advance_minutes(2 * DAY);
        let officer = app.session(Role::CommunityOfficer).await;
        let b_visit = settle(&app, &officer, b).await;

        // Day 4: A's first visit holds, B's is broken (B back in mediation,
        // its warning left open).
        app.clock.advance_minutes(2 * DAY);
        let officer = app.session(Role::CommunityOfficer).await;
        let chief = app.session(Role::StationChief).await;
        post(&app, &officer, &format!("/api/v1/disputes/{a}/follow-ups"), &json!({"follow_up_id": a_visit, "holding": true, "note": "已修复"})).await;
        post(&app, &officer, &format!("/api/v1/disputes/{b}/follow-ups"), &json!({"follow_up_id": b_visit, "holding": false, "note": "一方反悔"})).await;
        case_warning(&app, &officer, b).await;

        // Two tasks for today: one done today, one left undone.
        let task = |title: &str| json!({"assignee_user_id": officer_id, "title": title, "building_id": world.own_building.id});
        let done = post(&app, &chief, "/api/v1/tasks", &task("核查出租屋登记")).await;
        post(&app, &chief, "/api/v1/tasks", &task("走访锦里小区3栋")).await;
        let record = json!({"outcome": "completed", "place": "锦里小区3栋", "note": "已核查"});
        post(&app, &officer, &format!("/api/v1/tasks/{}/done", done["id"]), &record).await;

        let a_org = world.station_a.id;
        let response = figures(&app, &chief, &format!("org_id={a_org}&{NOVEMBER}")).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text);
        let f = response.json();
        assert_eq!(f["org_id"], a_org);
        assert_eq!(counts(&f), [2, 1, 5], "{f}");
        // Mediation ended for A (agreement) and D (failed); A within its
        // deadline, B past its deadline still mediating, C and E not due.
        assert_eq!(rates(&f), [(1, 2), (1, 3), (1, 2), (1, 2), (1, 2)], "{f}");
        assert_eq!(f["mediation_success"]["rate"], 0.5);
        assert_eq!(figures(&app, &chief, NOVEMBER).await.json(), f, "the caller's own station by default");

        // The grid holds all of it; another grid and another person nothing.
        let grid = figures(&app, &chief, &format!("grid_id={}&{NOVEMBER}", world.own_grid)).await.json();
        assert_eq!((counts(&grid), rates(&grid)), (counts(&f), rates(&f)), "{grid}");
        assert_eq!(grid["grid_id"], world.own_grid);
        let nobody = figures(&app, &chief, &format!("officer_user_id={worker_id}&{NOVEMBER}")).await.json();
        assert_eq!(counts(&nobody), [0, 0, 0], "{nobody}");
        assert_eq!(rates(&nobody), [(0, 0); 5], "{nobody}");
        assert_eq!(nobody["tasks_done_on_time"]["rate"], Value::Null);
        let elsewhere = figures(&app, &chief, &format!("grid_id={}&{NOVEMBER}", world.foreign_grid)).await.json();
        assert_eq!(counts(&elsewhere), [0, 0, 0], "{elsewhere}");
        // The officer's own work: the four cases they answer for (the
        // reported one names no officer); the
        // reports of their grid; the warnings and tasks of their grid.
        let mine = figures(&app, &chief, &format!("officer_user_id={officer_id}&{NOVEMBER}")).await.json();
        assert_eq!(counts(&mine), [2, 1, 4], "{mine}");
        assert_eq!(rates(&mine), rates(&f), "{mine}");

        // October holds nothing.
        let october = figures(&app, &chief, "from=2025-10-01T00:00:00%2B08:00&to=2025-11-01T00:00:00%2B08:00").await.json();
        assert_eq!(counts(&october), [0, 0, 0], "{october}");
        assert_eq!(rates(&october), [(0, 0); 5], "{october}");
    }

    async fn prevention_figures_stay_within_the_jurisdiction_and_check_their_query(db: TestDatabase) {
        let app = TestApp::new(db).await;
        let b = app.world.station_b.id;
        let chief = app.session(Role::StationChief).await;
        let foreign = figures(&app, &chief, &format!("org_id={b}&{NOVEMBER}")).await;
        assert_eq!(foreign.status, StatusCode::NOT_FOUND, "{}", foreign.text);
        for role in [Role::Operator, Role::GridWorker] {
            let session = app.session(role).await;
            let response = figures(&app, &session, NOVEMBER).await;
            assert_eq!(response.status, StatusCode::FORBIDDEN, "{role:?}: {}", response.text);
        }
        let bad = figures(&app, &chief, "org_id=x&from=yesterday&officer_user_id=王&grid_id=1.5").await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
        let problem = bad.json();
        let fields: Vec<&str> = problem["errors"].as_array().unwrap().iter()
            .map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["org_id", "from", "to", "officer_user_id", "grid_id"], "{}", bad.text);
        assert!(bad.text.contains("输入有误"), "{}", bad.text);
    }
}
