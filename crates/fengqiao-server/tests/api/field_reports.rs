//! Field reports (e治采) through the real router: a grid worker files one
//! with a photo, the grid's officer, the station and the county see it at
//! once (and live), a foreign station does not; bad photos and addresses
//! are refused with a clear 422 and nothing is stored; a retry makes no
//! second report.

use std::time::Duration;

use axum::http::{Method, StatusCode};
use base64::Engine;
use fengqiao_core::role::Role;
use fengqiao_core::Timestamp;
use fengqiao_store::backend_tests;
use fengqiao_store::testing::TestDatabase;
use serde_json::{json, Value};

use crate::helpers::{add_account, TestApp, JPEG, PASSWORD, T0};

const WAIT: Duration = Duration::from_secs(2);
/// How long to wait for an event that must not come.
const QUIET: Duration = Duration::from_millis(300);

fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A PNG a phone might send: the signature and a header chunk.
fn png() -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0".to_vec();
    bytes.extend_from_slice(&[0x90, 0x77, 0x53, 0xDE]);
    bytes
}

/// Station A's grid of 锦里小区 answered for by A's community officer and
/// grid worker.
async fn staff_own_grid(app: &TestApp) {
    let world = &app.world;
    let mut tx = app.db.store.begin().await.unwrap();
    tx.set_grid_responsibility(
        world.own_grid,
        Some(world.station_a.id),
        Some(world.users[&Role::CommunityOfficer]),
        &[world.users[&Role::GridWorker]],
        T0,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

fn dispute_with_photo() -> Value {
    json!({
        "kind": "dispute",
        "category": "neighbour",
        "description": "3栋2单元501与401因楼上漏水多次争吵，401住户扬言要报复",
        "address_text": "成都市武侯区浆洗街锦里小区3栋2单元",
        "photo": format!("data:image/jpeg;base64,{}", base64(JPEG)),
    })
}

async fn file(app: &TestApp, secret: &str, body: &Value, key: Option<&str>) -> (StatusCode, Value) {
    let headers: Vec<(&str, &str)> = key.map(|k| ("Idempotency-Key", k)).into_iter().collect();
    let response = app
        .raw(
            Method::POST,
            "/api/v1/field-reports",
            Some(secret),
            Some(body.to_string()),
            &headers,
        )
        .await;
    let json = if response.text.is_empty() {
        Value::Null
    } else {
        response.json()
    };
    (response.status, json)
}

async fn list(app: &TestApp, secret: &str) -> Vec<Value> {
    let response = app
        .request(Method::GET, "/api/v1/field-reports", Some(secret), None)
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    response.json().as_array().unwrap().clone()
}

/// How many field reports and photos the database holds.
async fn stored(app: &TestApp) -> (usize, usize) {
    let mut tx = app.db.store.begin().await.unwrap();
    let mut reports = 0;
    let mut photos = 0;
    for id in 1..=20 {
        if let Some(report) = tx.field_report(id).await.unwrap() {
            reports += 1;
            photos += usize::from(report.photo.is_some());
        }
    }
    (reports, photos)
}

backend_tests! {
    async fn a_grid_workers_report_with_a_photo_reaches_the_officer_the_station_and_above(db: TestDatabase) {
        let app = TestApp::new(db).await;
        staff_own_grid(&app).await;
        let world = &app.world;
        let county_analyst = add_account(&app.state, "county.analyst", world.county.id, Role::Analyst).await;
        assert!(county_analyst > 0);
        let worker = app.session(Role::GridWorker).await;
        let officer = app.session(Role::CommunityOfficer).await;
        let chief = app.session(Role::StationChief).await;
        let county = app.sign_in_as("county.analyst", PASSWORD).await.session_cookie().unwrap();
        let foreign = app.sign_in_as("foreign.user", PASSWORD).await.session_cookie().unwrap();
        let mut officer_live = app.subscribe(&officer).await;
        let mut foreign_live = app.subscribe(&foreign).await;

        app.clock.set(Timestamp(T0.millis() + 60_000));
        let (status, report) = file(&app, &worker, &dispute_with_photo(), Some("e-zhicai-0001")).await;
        assert_eq!(status, StatusCode::CREATED, "{report}");
        assert_eq!(report["kind"], "dispute");
        assert_eq!(report["kind_name"], "矛盾纠纷");
        assert_eq!(report["category_name"], "邻里纠纷");
        assert_eq!(report["building_id"], world.own_building.id);
        assert_eq!(report["grid_id"], world.own_grid);
        assert_eq!(report["station_org_id"], world.station_a.id);
        assert_eq!(report["reporter"]["id"], world.users[&Role::GridWorker]);
        assert_eq!(report["reporter"]["name"], "测**", "the reporter's name is masked");
        assert_eq!(report["reported_at"], "2025-11-24T16:01:00.000Z");
        assert!(report["address"].as_str().unwrap().contains("锦里小区 3栋"), "{report}");
        assert_eq!(report["photo"]["media_type"], "image/jpeg");
        assert_eq!(report["photo"]["size"], JPEG.len());
        let id = report["id"].as_i64().unwrap();

        // Pushed at once to the officer of that grid; never to station B.
        let event = officer_live.next(WAIT).await.expect("the report is pushed to the officer");
        let data: Value = serde_json::from_str(&event.data).unwrap();
        assert_eq!(data, json!({"kind": "field_report", "id": id, "incident_id": null, "change": "created"}));
        assert_eq!(foreign_live.next(QUIET).await, None, "station B is not told");

        // The officer, the station chief and the county see it with its photo.
        let photo_url = report["photo"]["url"].as_str().unwrap().to_owned();
        for (who, secret) in [("officer", &officer), ("chief", &chief), ("county", &county), ("reporter", &worker)] {
            let listed = list(&app, secret).await;
            assert_eq!(listed[0]["id"], id, "{who}: newest first");
            // The county is above both stations: it sees B's report as well.
            let expected = if who == "county" { 2 } else { 1 };
            assert_eq!(listed.len(), expected, "{who}: {listed:?}");
            let one = app.request(Method::GET, &format!("/api/v1/field-reports/{id}"), Some(secret), None).await;
            assert_eq!(one.status, StatusCode::OK, "{who}: {}", one.text);
            let photo = app.request(Method::GET, &photo_url, Some(secret), None).await;
            assert_eq!(photo.status, StatusCode::OK, "{who}");
            assert_eq!(photo.headers["content-type"], "image/jpeg");
            assert_eq!(photo.bytes, JPEG, "{who}: the photo comes back as filed");
        }

        // A foreign station sees neither the report nor its photo.
        let theirs = list(&app, &foreign).await;
        assert!(theirs.iter().all(|r| r["id"] != id), "{theirs:?}");
        for path in [format!("/api/v1/field-reports/{id}"), photo_url.clone()] {
            let response = app.request(Method::GET, &path, Some(&foreign), None).await;
            assert_eq!(response.status, StatusCode::NOT_FOUND, "{path}: {}", response.text);
        }
        // Nor does station A see station B's report.
        let response = app
            .request(Method::GET, &format!("/api/v1/field-reports/{}/photo", world.foreign_field_report), Some(&chief), None)
            .await;
        assert_eq!(response.status, StatusCode::NOT_FOUND);

        // The filing is in the audit log, in its organisation.
        let entries = app.db.store.audit_entries(0, 1000).await.unwrap().entries;
        let entry = entries.iter().find(|e| e.object_type == "field_report").expect("audited");
        assert_eq!(entry.object_id.as_deref(), Some(id.to_string().as_str()));
        assert_eq!(entry.detail.as_deref(), Some("dispute neighbour"));
    }

    async fn a_retried_filing_makes_one_report(db: TestDatabase) {
        let app = TestApp::new(db).await;
        staff_own_grid(&app).await;
        let worker = app.session(Role::GridWorker).await;
        let body = json!({
            "kind": "safety_risk",
            "category": "fire",
            "description": "3栋楼道堆放杂物，有电动车在楼道飞线充电",
            "address_text": "锦里小区3栋",
            "building_id": app.world.own_building.id,
            "photo": base64(&png()),
        });
        let (status, first) = file(&app, &worker, &body, Some("retry-7")).await;
        assert_eq!(status, StatusCode::CREATED, "{first}");
        assert_eq!(first["photo"]["media_type"], "image/png", "typed by its bytes");
        let (status, again) = file(&app, &worker, &body, Some("retry-7")).await;
        assert_eq!(status, StatusCode::OK, "{again}");
        assert_eq!(again["id"], first["id"]);
        // The same key for something else is refused, not silently replayed.
        let mut other = body.clone();
        other["description"] = json!("另一件事");
        let (status, problem) = file(&app, &worker, &other, Some("retry-7")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem["errors"][0]["field"], "Idempotency-Key");
        assert_eq!(stored(&app).await, (2, 2), "the world's report and this one");
    }

    async fn bad_photos_and_addresses_are_refused_and_nothing_is_stored(db: TestDatabase) {
        let app = TestApp::new(db).await;
        staff_own_grid(&app).await;
        let worker = app.session(Role::GridWorker).await;
        let before = stored(&app).await;

        // A file that calls itself a JPEG but is not one.
        let mut body = dispute_with_photo();
        body["photo"] = json!(format!("data:image/jpeg;base64,{}", base64(b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>")));
        let (status, problem) = file(&app, &worker, &body, Some("bad-1")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(problem["title"], "输入有误");
        assert_eq!(problem["errors"], json!([{"field": "photo", "reason": "不是 JPEG、PNG 或 WebP 格式的图片"}]));

        // Not Base64 at all.
        body["photo"] = json!("这不是图片");
        let (status, problem) = file(&app, &worker, &body, None).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem["errors"], json!([{"field": "photo", "reason": "应为 Base64 编码的文件内容"}]));

        // Over 5 MB.
        let mut big = JPEG.to_vec();
        big.resize(5 * 1024 * 1024 + 1, 0);
        body["photo"] = json!(base64(&big));
        let (status, problem) = file(&app, &worker, &body, None).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(problem["errors"], json!([{"field": "photo", "reason": "文件过大，最大 5 MB"}]));

        // Every wrong field at once, and an address the registry lacks.
        let body = json!({"kind": "visit", "category": "neighbour", "description": " ", "address_text": "成都市武侯区浆洗街锦里小区99栋"});
        let (status, problem) = file(&app, &worker, &body, None).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let fields: Vec<&str> = problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["category", "description", "address_text"], "{problem}");

        // A building of another station's jurisdiction.
        let mut body = dispute_with_photo();
        body["building_id"] = json!(app.world.foreign_building.id);
        let (status, problem) = file(&app, &worker, &body, None).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem["errors"][0]["field"], "building_id");

        assert_eq!(stored(&app).await, before, "nothing was stored");
        let entries = app.db.store.audit_entries(0, 1000).await.unwrap().entries;
        assert!(entries.iter().all(|e| e.object_type != "field_report"));

        // Only those who file field reports may: the station chief reads them.
        let chief = app.session(Role::StationChief).await;
        let (status, _) = file(&app, &chief, &dispute_with_photo(), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }

    async fn the_phone_page_files_for_grid_workers_and_lists_for_the_station(db: TestDatabase) {
        let app = TestApp::new(db).await;
        let signed_out = app.request(Method::GET, "/field-reports", None, None).await;
        assert_eq!(signed_out.status, StatusCode::SEE_OTHER);

        let worker = app.session(Role::GridWorker).await;
        let page = app.request(Method::GET, "/field-reports", Some(&worker), None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        assert!(page.text.contains("<h1>网格上报 · e治采</h1>"));
        assert!(page.text.contains(r#"<meta name="viewport" content="width=device-width, initial-scale=1">"#), "laid out for a phone");
        assert!(page.text.contains(r#"<input id="photo" name="photo" type="file" accept="image/*" capture="environment">"#), "the camera opens");
        assert!(page.text.contains(r#"<option value="fire" data-kind="safety_risk">消防隐患（堵塞通道、飞线充电）</option>"#));
        assert!(page.text.contains(r#"<span data-key="unresolved">"#), "the script's words come from the page");
        assert!(page.text.contains(r#"<ol id="reports""#), "a grid worker also reads the grid's reports");
        assert!(page.text.contains(r#"<script src="/assets/field_reports.js"></script>"#));
        assert!(!page.text.contains("<script>") && !page.text.contains("style="), "nothing inline for the CSP to refuse");
        let home = app.request(Method::GET, "/", Some(&worker), None).await;
        assert!(home.text.contains(r#"href="/field-reports""#));
        let script = app.request(Method::GET, "/assets/field_reports.js", None, None).await;
        assert_eq!(script.status, StatusCode::OK);

        // The station chief reads the reports but does not file them.
        let chief = app.session(Role::StationChief).await;
        let page = app.request(Method::GET, "/field-reports", Some(&chief), None).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(!page.text.contains(r#"id="file-report""#));
        assert!(page.text.contains(r#"<ol id="reports""#));

        // Neither for an administrator.
        let admin = app.session(Role::Administrator).await;
        let refused = app.request(Method::GET, "/field-reports", Some(&admin), None).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        let home = app.request(Method::GET, "/", Some(&admin), None).await;
        assert!(!home.text.contains(r#"href="/field-reports""#));
    }

    async fn a_dispute_report_registers_as_a_case_once(db: TestDatabase) {
        let app = TestApp::new(db).await;
        staff_own_grid(&app).await;
        let worker = app.session(Role::GridWorker).await;
        let chief = app.session(Role::StationChief).await;
        let (_, report) = file(&app, &worker, &dispute_with_photo(), None).await;
        let report_id = report["id"].as_i64().unwrap();
        let register = json!({
            "source": "field_report",
            "field_report_id": report_id,
            "dispute_type": report["category"],
            "parties": [{"name": "张三"}, {"name": "李四"}],
            "risk_level": "high",
            "risk_reason": "一方扬言要报复",
        });
        let response = app.request(Method::POST, "/api/v1/disputes", Some(&chief), Some(&register)).await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
        let case = response.json();
        assert_eq!(case["source"], "field_report");
        assert_eq!(case["source_id"], report_id);
        assert_eq!(case["dispute_type"], "neighbour");
        assert_eq!(case["org_id"], app.world.station_a.id);
        assert_eq!(case["building_id"], app.world.own_building.id);
        assert_eq!(case["facts"], report["description"], "the report's description is the case's facts");
        assert_eq!(case["address_text"], report["address_text"]);
        let seen = app.request(Method::GET, &format!("/api/v1/field-reports/{report_id}"), Some(&worker), None).await;
        assert_eq!(seen.json()["dispute_id"], case["id"], "the report names its case");

        // Once: a second registration answers with the first case.
        let again = app.request(Method::POST, "/api/v1/disputes", Some(&chief), Some(&register)).await;
        assert_eq!(again.status, StatusCode::OK, "{}", again.text);
        assert_eq!(again.json()["id"], case["id"]);

        // A safety risk is not a dispute.
        let body = json!({"kind": "safety_risk", "category": "gas", "description": "燃气管道漏气味道明显",
            "address_text": "锦里小区3栋", "building_id": app.world.own_building.id});
        let (_, risk) = file(&app, &worker, &body, None).await;
        let mut refused = register.clone();
        refused["field_report_id"] = risk["id"].clone();
        let response = app.request(Method::POST, "/api/v1/disputes", Some(&chief), Some(&refused)).await;
        assert_eq!(response.status, StatusCode::CONFLICT, "{}", response.text);
        assert!(response.json()["detail"].as_str().unwrap().contains("矛盾纠纷"));

        // Nor is another station's report reachable.
        refused["field_report_id"] = json!(app.world.foreign_field_report);
        let response = app.request(Method::POST, "/api/v1/disputes", Some(&chief), Some(&refused)).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", response.text);
        assert_eq!(response.json()["errors"][0]["field"], "field_report_id");
        let foreign = app.db.store.field_report(app.world.foreign_field_report).await.unwrap().unwrap();
        assert_eq!(foreign.dispute_id, None);
    }
}
