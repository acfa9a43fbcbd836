//! Dispute cases (矛盾纠纷) through the real router: registered from an
//! incident, mediated in two sessions to an agreement whose follow-ups are
//! scheduled, with every step in the timeline; threat words in a session
//! note raising a warning on the case (and a negated one none); failed and
//! broken agreements, overdue mediation and missed follow-ups warned once.

use axum::http::{Method, StatusCode};
use fengqiao_core::role::Role;
use fengqiao_server::services::dispute_warnings::warn_due;
use fengqiao_store::backend_tests;
use fengqiao_store::testing::TestDatabase;
use serde_json::{json, Value};

use crate::helpers::{Response, TestApp};

const JINLI: &str = "成都市武侯区浆洗街锦里小区3栋";
const DAY: i64 = 24 * 60;

async fn post(app: &TestApp, secret: &str, path: &str, body: &Value) -> Response {
    app.request(Method::POST, path, Some(secret), Some(body))
        .await
}

async fn get(app: &TestApp, secret: &str, path: &str) -> Value {
    let response = app.request(Method::GET, path, Some(secret), None).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    response.json()
}

/// A neighbours' quarrel reported by phone at 锦里小区3栋.
async fn incident(app: &TestApp, secret: &str) -> i64 {
    let body = json!({
        "source": "phone",
        "text": "楼上楼下因为漏水吵起来了，双方在楼道里争执",
        "location_text": JINLI,
        "reporter_name": "张三",
        "reporter_phone": "13812345678",
    });
    let response = post(app, secret, "/api/v1/incidents", &body).await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
    response.json()["id"].as_i64().unwrap()
}

fn registration(incident_id: i64, risk_level: &str) -> Value {
    json!({
        "source": "incident",
        "incident_id": incident_id,
        "dispute_type": "neighbour",
        "parties": [
            {"kind": "person", "name": "张三", "phone": "13812345678", "id_number": "11010519491231002X"},
            {"name": "李四", "phone": "13987654321"},
            {"kind": "organisation", "name": "锦里物业服务有限公司"},
        ],
        "risk_level": risk_level,
        "risk_reason": "双方多次争吵，情绪激动",
        "mediators": ["王调解"],
    })
}

async fn register(app: &TestApp, secret: &str, risk_level: &str) -> Value {
    let incident_id = incident(app, secret).await;
    let response = post(
        app,
        secret,
        "/api/v1/disputes",
        &registration(incident_id, risk_level),
    )
    .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
    response.json()
}

fn session(note: &str) -> Value {
    json!({
        "place": "锦里社区调解室",
        "participants": "双方当事人、网格员、社区民警",
        "note": note,
    })
}

async fn add_session(app: &TestApp, secret: &str, id: i64, note: &str) -> Value {
    let path = format!("/api/v1/disputes/{id}/sessions");
    let response = post(app, secret, &path, &session(note)).await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
    response.json()
}

fn events(dispute: &Value) -> Vec<String> {
    dispute["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap().to_owned())
        .collect()
}

/// The warnings of the caller's jurisdiction on case `id`.
async fn case_warnings(app: &TestApp, secret: &str, id: i64) -> Vec<Value> {
    get(app, secret, "/api/v1/warnings")
        .await
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["subject"] == json!({"kind": "case", "id": id}))
        .cloned()
        .collect()
}

backend_tests! {
    async fn a_dispute_from_an_incident_goes_through_two_sessions_to_an_agreement(db: TestDatabase) {
        let app = TestApp::new(db).await;
        let officer = app.session(Role::CommunityOfficer).await;
        let incident_id = incident(&app, &officer).await;

        // Bad input is named field by field, and nothing is stored.
        let mut bad = registration(incident_id, "extreme");
        bad["parties"][0]["phone"] = json!("12345");
        bad["dispute_type"] = json!("quarrel");
        let response = post(&app, &officer, "/api/v1/disputes", &bad).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", response.text);
        let problem = response.json();
        assert_eq!(problem["title"], "输入有误");
        let fields: Vec<&str> = problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["dispute_type", "parties[0].phone", "risk_level"]);
        assert!(get(&app, &officer, "/api/v1/disputes").await.as_array().unwrap().is_empty());

        let response = post(&app, &officer, "/api/v1/disputes", &registration(incident_id, "medium")).await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
        let dispute = response.json();
        let id = dispute["id"].as_i64().unwrap();
        assert_eq!(dispute["status"], "registered");
        assert_eq!(dispute["org_id"], app.world.station_a.id);
        assert_eq!(dispute["building_id"], app.world.own_building.id);
        assert_eq!(dispute["facts"], "楼上楼下因为漏水吵起来了，双方在楼道里争执");
        assert_eq!(dispute["incidents"][0]["id"], incident_id);
        // Parties masked in the answer, encrypted at rest.
        assert_eq!(dispute["parties"][0], json!({"kind": "person", "name": "张*", "phone": "138****5678", "id_number": "1101**********002X"}));
        assert_eq!(dispute["parties"][1]["name"], "李*");
        assert_eq!(dispute["parties"][2]["name"], "锦里物业服务有限公司");
        let stored = app.db.store.table_text_for_tests("dispute_parties").await.unwrap();
        for plain in ["张三", "13812345678", "11010519491231002X", "李四"] {
            assert!(!stored.contains(plain), "{plain} stored in plain text");
        }

        // Registering the incident again finds the same case.
        let again = post(&app, &officer, "/api/v1/disputes", &registration(incident_id, "medium")).await;
        assert_eq!(again.status, StatusCode::OK, "{}", again.text);
        assert_eq!(again.json()["id"], id);

        // An agreement before any session is refused in Chinese.
        let agreement = json!({"text": "楼上承担维修费用八成，三日内修复"});
        let path = format!("/api/v1/disputes/{id}/agreement");
        let refused = post(&app, &officer, &path, &agreement).await;
        assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
        assert_eq!(refused.json()["detail"], "该纠纷当前状态为「已登记」，不能登记调解协议。");

        // Two sessions; a retried one with its key records nothing twice.
        app.clock.advance_minutes(60);
        // Sessions end when idle: sign in again.
        let officer = app.session(Role::CommunityOfficer).await;
        let sessions = format!("/api/v1/disputes/{id}/sessions");
        let first = session("双方陈述漏水经过，同意请物业查明原因");
        for expected in [StatusCode::CREATED, StatusCode::OK] {
            let response = app
                .raw(Method::POST, &sessions, Some(&officer), Some(first.to_string()), &[("Idempotency-Key", "session-1")])
                .await;
            assert_eq!(response.status, expected, "{}", response.text);
            assert_eq!(response.json()["sessions"].as_array().unwrap().len(), 1);
        }
        app.clock.advance_minutes(DAY);
        // Sessions end when idle: sign in again.
        let officer = app.session(Role::CommunityOfficer).await;
        let dispute = add_session(&app, &officer, id, "物业出具报告，双方同意分担维修费用").await;
        assert_eq!(dispute["status"], "mediating");
        assert_eq!(dispute["sessions"].as_array().unwrap().len(), 2);

        app.clock.advance_minutes(60);

        // Sessions end when idle: sign in again.

        let officer = app.session(Role::CommunityOfficer).await;
        let agreed_at = fengqiao_core::Clock::now(&*app.clock).millis();
        let response = post(&app, &officer, &path, &agreement).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text);
        let dispute = response.json();
        assert_eq!(dispute["status"], "resolved");
        assert_eq!(dispute["agreement"], "楼上承担维修费用八成，三日内修复");
        let due: Vec<&str> = dispute["follow_ups"].as_array().unwrap().iter().map(|f| f["due_at"].as_str().unwrap()).collect();
        assert_eq!(due, [rfc3339(agreed_at + 7 * DAY * 60_000), rfc3339(agreed_at + 30 * DAY * 60_000)]);
        assert!(dispute["follow_ups"].as_array().unwrap().iter().all(|f| f["status"] == "pending"));
        assert_eq!(
            events(&dispute),
            ["registered", "incident_linked", "session_recorded", "session_recorded", "agreement_recorded", "follow_up_scheduled", "follow_up_scheduled"]
        );
        assert!(dispute["timeline"].as_array().unwrap().iter().all(|e| e["actor"] == format!("user:{}", app.world.users[&Role::CommunityOfficer])));
        // Read back as the page reads it, and audited.
        let read = get(&app, &officer, &format!("/api/v1/disputes/{id}")).await;
        assert_eq!(events(&read), events(&dispute));
        let audit = app.db.store.table_text_for_tests("audit_log").await.unwrap();
        // SQLite rows are tab-separated, PostgreSQL's are JSON.
        let entries = audit.matches("\tdispute\t").count() + audit.matches("\"object_type\":\"dispute\"").count();
        assert_eq!(entries, 4, "registered, two sessions, the agreement");
        // A second agreement is a wrong state.
        let twice = post(&app, &officer, &path, &agreement).await;
        assert_eq!(twice.status, StatusCode::CONFLICT);
        assert!(case_warnings(&app, &officer, id).await.is_empty(), "nothing to warn about");

        // The follow-ups: holding at 7 days, then the case closes at 30.
        let visits = format!("/api/v1/disputes/{id}/follow-ups");
        let first_visit = dispute["follow_ups"][0]["id"].as_i64().unwrap();
        let second_visit = dispute["follow_ups"][1]["id"].as_i64().unwrap();
        app.clock.advance_minutes(7 * DAY);
        // Sessions end when idle: sign in again.
        let officer = app.session(Role::CommunityOfficer).await;
        let response = post(&app, &officer, &visits, &json!({"follow_up_id": first_visit, "holding": true, "note": "已修复，双方无异议"})).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text);
        assert_eq!(response.json()["status"], "followed_up");
        let close = format!("/api/v1/disputes/{id}/close");
        let early = post(&app, &officer, &close, &json!({"note": "结案"})).await;
        assert_eq!(early.status, StatusCode::CONFLICT);
        assert!(early.json()["detail"].as_str().unwrap().contains("仍有未完成的回访"));
        app.clock.advance_minutes(23 * DAY);
        // Sessions end when idle: sign in again.
        let officer = app.session(Role::CommunityOfficer).await;
        post(&app, &officer, &visits, &json!({"follow_up_id": second_visit, "holding": true, "note": "关系缓和"})).await;
        let response = post(&app, &officer, &close, &json!({"note": "协议履行完毕，结案"})).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text);
        assert_eq!(response.json()["status"], "closed");
    }

    async fn a_threat_in_a_session_note_raises_a_warning_naming_the_rule_and_the_words(db: TestDatabase) {
        let app = TestApp::new(db).await;
        let officer = app.session(Role::CommunityOfficer).await;
        let threatened = register(&app, &officer, "medium").await["id"].as_i64().unwrap();
        let calm = register(&app, &officer, "medium").await["id"].as_i64().unwrap();

        let dispute = add_session(&app, &officer, threatened, "他说要弄死对方").await;
        let warnings = case_warnings(&app, &officer, threatened).await;
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        let warning = &warnings[0];
        assert_eq!(warning["rule"], "threat_words");
        assert_eq!(warning["org_id"], app.world.station_a.id);
        assert_eq!(warning["evidence"]["source"], "session_note");
        assert_eq!(warning["evidence"]["source_id"], dispute["sessions"][0]["id"]);
        let words: Vec<&str> = warning["evidence"]["words"].as_array().unwrap().iter().map(|w| w["word"].as_str().unwrap()).collect();
        assert_eq!(words, ["弄死"]);
        assert!(events(&dispute).contains(&"warning_raised".to_owned()));

        let dispute = add_session(&app, &officer, calm, "没有说要打人").await;
        assert!(case_warnings(&app, &officer, calm).await.is_empty());
        assert!(!events(&dispute).contains(&"warning_raised".to_owned()));
    }

    async fn failed_and_broken_agreements_and_missed_deadlines_warn_the_case_once(db: TestDatabase) {
        let app = TestApp::new(db).await;
        let officer = app.session(Role::CommunityOfficer).await;

        // A critical case not mediated within a day.
        let critical = register(&app, &officer, "critical").await["id"].as_i64().unwrap();
        let quiet = register(&app, &officer, "low").await["id"].as_i64().unwrap();
        app.clock.advance_minutes(DAY);
        // Sessions end when idle: sign in again.
        let officer = app.session(Role::CommunityOfficer).await;
        warn_due(&app.state).await.unwrap();
        assert!(case_warnings(&app, &officer, critical).await.is_empty(), "due at its last minute");
        app.clock.advance_minutes(1);
        // Sessions end when idle: sign in again.
        let officer = app.session(Role::CommunityOfficer).await;
        warn_due(&app.state).await.unwrap();
        warn_due(&app.state).await.unwrap();
        let warnings = case_warnings(&app, &officer, critical).await;
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert_eq!(warnings[0]["rule"], "dispute_unmediated");
        assert_eq!(warnings[0]["evidence"]["risk_level"], "critical");
        assert!(case_warnings(&app, &officer, quiet).await.is_empty(), "low risk is not warned");
        let dispute = get(&app, &officer, &format!("/api/v1/disputes/{critical}")).await;
        assert_eq!(dispute["mediation_overdue"], true);

        // Mediation fails: warned at once.
        let response = post(&app, &officer, &format!("/api/v1/disputes/{critical}/fail"), &json!({"reason": "双方拒绝调解"})).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text);
        let failed = case_warnings(&app, &officer, critical).await;
        assert!(failed.iter().any(|w| w["rule"] == "agreement_failed" && w["evidence"]["how"] == "mediation_failed"), "{failed:?}");
        let response = post(&app, &officer, &format!("/api/v1/disputes/{critical}/transfer"),
            &json!({"target": "shared_court", "to": "浆洗街共享法庭", "reason": "调解不成，引导诉讼"})).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text);
        assert_eq!(response.json()["transfer_target"], "shared_court");

        // An agreement whose first visit is missed, then found broken.
        let id = register(&app, &officer, "medium").await["id"].as_i64().unwrap();
        add_session(&app, &officer, id, "双方同意赔偿").await;
        let dispute = post(&app, &officer, &format!("/api/v1/disputes/{id}/agreement"),
            &json!({"text": "赔偿五百元", "follow_up_days": [3, 14]})).await.json();
        let visit = dispute["follow_ups"][0]["id"].as_i64().unwrap();
        app.clock.advance_minutes(4 * DAY);
        // Sessions end when idle: sign in again.
        let officer = app.session(Role::CommunityOfficer).await;
        warn_due(&app.state).await.unwrap();
        assert!(case_warnings(&app, &officer, id).await.is_empty(), "a visit may be made the day after");
        app.clock.advance_minutes(1);
        // Sessions end when idle: sign in again.
        let officer = app.session(Role::CommunityOfficer).await;
        warn_due(&app.state).await.unwrap();
        warn_due(&app.state).await.unwrap();
        let warnings = case_warnings(&app, &officer, id).await;
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert_eq!(warnings[0]["rule"], "follow_up_missed");
        assert_eq!(warnings[0]["evidence"]["follow_up_id"], visit);
        let response = post(&app, &officer, &format!("/api/v1/disputes/{id}/follow-ups"),
            &json!({"follow_up_id": visit, "holding": false, "note": "一方拒不支付"})).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text);
        let dispute = response.json();
        assert_eq!(dispute["status"], "mediating");
        assert_eq!(dispute["follow_ups"][1]["status"], "cancelled");
        let warnings = case_warnings(&app, &officer, id).await;
        assert!(warnings.iter().any(|w| w["rule"] == "agreement_failed" && w["evidence"]["how"] == "broken"), "{warnings:?}");
        // No warning anywhere names a party.
        let all = app.request(Method::GET, "/api/v1/warnings", Some(&officer), None).await.text;
        assert!(!all.contains("张三") && !all.contains("13812345678"));
    }

    async fn a_case_at_the_station_needs_its_fields_and_stays_in_its_jurisdiction(db: TestDatabase) {
        let app = TestApp::new(db).await;
        let officer = app.session(Role::CommunityOfficer).await;
        let body = json!({
            "source": "station",
            "dispute_type": "labour_wages",
            "parties": [{"name": "王五", "phone": "13700000000"}, {"kind": "organisation", "name": "锦城建筑劳务公司"}],
            "address_text": JINLI,
            "facts": "工地拖欠三个月工资共计两万元",
            "risk_level": "high",
            "risk_reason": "工人扬言聚集讨薪",
            "officer_user_id": app.world.users[&Role::CommunityOfficer],
        });
        for expected in [StatusCode::CREATED, StatusCode::OK] {
            let response = app
                .raw(Method::POST, "/api/v1/disputes", Some(&officer), Some(body.to_string()), &[("Idempotency-Key", "desk-1")])
                .await;
            assert_eq!(response.status, expected, "{}", response.text);
            assert_eq!(response.json()["building_id"], app.world.own_building.id);
        }
        assert_eq!(get(&app, &officer, "/api/v1/disputes").await.as_array().unwrap().len(), 1);

        let mut missing = body.clone();
        missing["risk_reason"] = json!(" ");
        missing["facts"] = json!("");
        let response = post(&app, &officer, "/api/v1/disputes", &missing).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", response.text);
        let problem = response.json();
        let fields: Vec<&str> = problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["risk_reason", "facts"]);

        let mut foreign = body.clone();
        foreign["officer_user_id"] = json!(app.world.foreign_user);
        let response = post(&app, &officer, "/api/v1/disputes", &foreign).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(response.json()["errors"][0]["field"], "officer_user_id");

        // Another station's officer sees none of it; an analyst reads, never writes.
        let response = app.request(Method::GET, &format!("/api/v1/disputes/{}", app.world.foreign_dispute), Some(&officer), None).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND);
        let analyst = app.session(Role::Analyst).await;
        assert_eq!(get(&app, &analyst, "/api/v1/disputes").await.as_array().unwrap().len(), 1);
        let response = post(&app, &analyst, "/api/v1/disputes", &body).await;
        assert_eq!(response.status, StatusCode::FORBIDDEN);
    }

    async fn the_case_page_shows_sessions_timeline_and_the_next_forms(db: TestDatabase) {
        let app = TestApp::new(db).await;
        let officer = app.session(Role::CommunityOfficer).await;
        let id = register(&app, &officer, "high").await["id"].as_i64().unwrap();
        add_session(&app, &officer, id, "双方同意先由物业查明漏水原因").await;

        let page = app.request(Method::GET, &format!("/disputes/{id}"), Some(&officer), None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        for shown in ["邻里纠纷", "调解中", "高风险", "张*", "138****5678", "锦里物业服务有限公司",
                      "双方同意先由物业查明漏水原因", "锦里社区调解室", "关联警情", "处置经过", "登记", "调解",
                      "id=\"add-session\"", "id=\"record-agreement\"", "/assets/dispute.js"] {
            assert!(page.text.contains(shown), "{shown} missing from the case page");
        }
        assert!(!page.text.contains("张三") && !page.text.contains("13812345678"), "a party unmasked");
        assert!(!page.text.contains("id=\"record-follow-up\""), "no follow-up before an agreement");

        let list = app.request(Method::GET, "/disputes", Some(&officer), None).await;
        assert_eq!(list.status, StatusCode::OK);
        assert!(list.text.contains(&format!("href=\"/disputes/{id}\"")));
        assert!(!list.text.contains("望江小区"), "another station's case listed");
        let foreign = app.request(Method::GET, &format!("/disputes/{}", app.world.foreign_dispute), Some(&officer), None).await;
        assert_eq!(foreign.status, StatusCode::NOT_FOUND);
        let home = app.request(Method::GET, "/", Some(&officer), None).await;
        assert!(home.text.contains("href=\"/disputes\""));
        let script = app.request(Method::GET, "/assets/dispute.js", None, None).await;
        assert_eq!(script.status, StatusCode::OK);
    }
}

fn rfc3339(millis: i64) -> String {
    chrono::DateTime::from_timestamp_millis(millis)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
