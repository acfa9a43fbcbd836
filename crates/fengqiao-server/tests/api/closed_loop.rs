//! 闭环流转 through the real router: a department's inbox and actions, the
//! command room's re-routing, confirmation and the caller's feedback, with
//! every step in the incident's timeline under its actor; refusals that
//! change nothing; routing rules.

use axum::http::{Method, StatusCode};
use fengqiao_core::role::Role;
use fengqiao_store::backend_tests;
use fengqiao_store::testing::TestDatabase;
use serde_json::{json, Value};

use crate::helpers::{add_account, add_desks, TestApp, PASSWORD};

const JINLI: &str = "成都市武侯区浆洗街锦里小区3栋";
const WAGES: &str = "老板拖欠我们三个月工资不给";

/// Station A's command room, the district's labour inspection brigade and
/// the street's governance centre, each department with a handler.
struct Handler {
    id: i64,
    session: String,
}

async fn handler(app: &TestApp, username: &str, org_id: i64) -> Handler {
    let id = add_account(&app.state, username, org_id, Role::DepartmentHandler).await;
    Handler {
        id,
        session: sign_in(app, username).await,
    }
}

async fn sign_in(app: &TestApp, username: &str) -> String {
    let response = app.sign_in_as(username, PASSWORD).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    response.session_cookie().unwrap()
}

async fn report(app: &TestApp, session: &str, text: &str) -> Value {
    let body = json!({"source": "phone", "text": text, "location_text": JINLI});
    let response = app
        .request(
            Method::POST,
            "/api/v1/incidents",
            Some(session),
            Some(&body),
        )
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
    response.json()
}

async fn post(app: &TestApp, session: &str, path: &str, body: Value) -> crate::helpers::Response {
    app.request(Method::POST, path, Some(session), Some(&body))
        .await
}

/// POST that must succeed; returns the answer.
async fn ok(app: &TestApp, session: &str, path: &str, body: Value) -> Value {
    let response = post(app, session, path, body).await;
    assert_eq!(response.status, StatusCode::OK, "{path}: {}", response.text);
    response.json()
}

async fn incident(app: &TestApp, session: &str, id: i64) -> Value {
    let response = app
        .request(
            Method::GET,
            &format!("/api/v1/incidents/{id}"),
            Some(session),
            None,
        )
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    response.json()
}

async fn inbox(app: &TestApp, session: &str, query: &str) -> Vec<i64> {
    let response = app
        .request(
            Method::GET,
            &format!("/api/v1/work-orders{query}"),
            Some(session),
            None,
        )
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    response
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["id"].as_i64().unwrap())
        .collect()
}

/// (event, actor) of each timeline entry, oldest first.
fn steps(incident: &Value) -> Vec<(String, String)> {
    incident["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["event"].as_str().unwrap().to_owned(),
                e["actor"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

backend_tests! {
    async fn a_labour_dispute_goes_round_the_whole_loop(db: TestDatabase) {
        let app = TestApp::new(db).await;
        let desks = add_desks(&app).await;
        let labour = handler(&app, "labour.handler", desks.labour.id).await;
        let centre = handler(&app, "centre.handler", desks.governance.id).await;
        let operator = app.session(Role::Operator).await;
        let op = format!("user:{}", app.world.users[&Role::Operator]);
        let (lab, cen) = (format!("user:{}", labour.id), format!("user:{}", centre.id));

        let reported = report(&app, &operator, WAGES).await;
        let id = reported["id"].as_i64().unwrap();
        let first = reported["work_orders"][0]["id"].as_i64().unwrap();
        assert_eq!(reported["work_orders"][0]["owner_org_id"], desks.labour.id);

        // In labour inspection's inbox, not in the governance centre's.
        assert_eq!(inbox(&app, &labour.session, "").await, [first]);
        assert_eq!(inbox(&app, &labour.session, "?status=created").await, [first]);
        assert!(inbox(&app, &labour.session, "?status=accepted").await.is_empty());
        assert!(inbox(&app, &centre.session, "").await.is_empty());
        let item = app.request(Method::GET, &format!("/api/v1/work-orders/{first}"), Some(&labour.session), None).await.json();
        assert_eq!(item["incident_id"], id);
        assert_eq!(item["incident_text"], WAGES);
        assert_eq!(item["location_text"], JINLI);
        assert_eq!(item["receipt_number"], reported["receipt_number"]);
        assert_eq!(item["category"], "wage_arrears");
        assert_eq!(item["overdue"], json!([]));
        // An hour and a minute later nobody has accepted it: overdue. (The
        // idle sessions have ended meanwhile: everyone signs in again.)
        app.clock.advance_minutes(61);
        let labour = Handler { id: labour.id, session: sign_in(&app, "labour.handler").await };
        let centre = Handler { id: centre.id, session: sign_in(&app, "centre.handler").await };
        let operator = app.session(Role::Operator).await;
        let late = app.request(Method::GET, &format!("/api/v1/work-orders/{first}"), Some(&labour.session), None).await.json();
        assert_eq!(late["overdue"], json!(["accept"]));

        // Not ours: rejected with a reason, back to the command room.
        app.clock.advance_minutes(1);
        let rejected = ok(&app, &labour.session, &format!("/api/v1/work-orders/{first}/reject"),
            json!({"reason": "该企业注册地不在本区，请转属地综治中心"})).await;
        assert_eq!(rejected["status"], "rejected");
        assert_eq!(rejected["rejection"], "该企业注册地不在本区，请转属地综治中心");
        let back = incident(&app, &operator, id).await;
        assert_eq!(back["owner_org_id"], desks.command_room.id);
        assert_eq!(back["awaiting_reroute"], json!([first]));
        let last = back["timeline"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["event"], "sent_back", "{back}");
        assert_eq!(last["detail"]["to_org"], desks.command_room.id);

        // Re-routed to the governance centre: the new work order replaces it.
        app.clock.advance_minutes(1);
        let routed = ok(&app, &operator, &format!("/api/v1/incidents/{id}/route"),
            json!({"owner_org_ids": [desks.governance.id]})).await;
        let orders = routed["work_orders"].as_array().unwrap();
        assert_eq!(orders.len(), 2);
        let second = orders[1]["id"].as_i64().unwrap();
        assert_eq!(orders[1]["replaces"], first);
        assert_eq!(orders[1]["owner_org_id"], desks.governance.id);
        assert_eq!(orders[1]["originator_org_id"], desks.command_room.id);
        assert_eq!(routed["awaiting_reroute"], json!([]));
        assert_eq!(inbox(&app, &centre.session, "").await, [second]);

        app.clock.advance_minutes(1);
        let accepted = ok(&app, &centre.session, &format!("/api/v1/work-orders/{second}/accept"), json!({})).await;
        assert_eq!(accepted["status"], "accepted");
        assert_eq!(incident(&app, &operator, id).await["status"], "in_progress");
        app.clock.advance_minutes(1);
        assert_eq!(ok(&app, &centre.session, &format!("/api/v1/work-orders/{second}/start"), json!({})).await["status"], "in_progress");
        app.clock.advance_minutes(1);
        let returned = ok(&app, &centre.session, &format!("/api/v1/work-orders/{second}/return"),
            json!({"result": "已约谈企业负责人，承诺本周内补发工资"})).await;
        assert_eq!(returned["status"], "returned");
        assert_eq!(returned["result"], "已约谈企业负责人，承诺本周内补发工资");
        app.clock.advance_minutes(1);
        assert_eq!(ok(&app, &operator, &format!("/api/v1/work-orders/{second}/confirm"), json!({})).await["status"], "confirmed");
        assert_eq!(incident(&app, &operator, id).await["status"], "resolved");
        app.clock.advance_minutes(1);
        let closed = ok(&app, &operator, &format!("/api/v1/incidents/{id}/feedback"),
            json!({"resolved": true, "satisfaction": 5, "note": "工资已到账"})).await;
        assert_eq!(closed["status"], "closed");

        let sys = "system".to_owned();
        let expected: Vec<(&str, &String)> = vec![
            ("received", &op), ("triaged", &sys), ("routed", &sys), ("work_order_created", &sys), ("created", &sys),
            ("rejected", &lab), ("sent_back", &lab),
            ("routed", &op), ("work_order_created", &op), ("created", &op),
            ("accepted", &cen), ("handling_started", &cen), ("started", &cen), ("returned", &cen),
            ("confirmed", &op), ("resolved", &op),
            ("feedback_recorded", &op), ("closed", &op),
        ];
        let expected: Vec<(String, String)> = expected.into_iter().map(|(e, a)| (e.to_owned(), a.clone())).collect();
        assert_eq!(steps(&closed), expected);
        let timeline = closed["timeline"].as_array().unwrap();
        assert_eq!(timeline[5]["work_order_id"], first);
        assert_eq!(timeline[5]["detail"]["reason"], "该企业注册地不在本区，请转属地综治中心");
        assert_eq!(timeline[12]["work_order_id"], second);

        // Each change has its audit entry.
        let audit = app.db.store.audit_entries(0, 1000).await.unwrap().entries;
        assert_eq!(audit.iter().filter(|e| e.object_type == "work_order").count(), 5);
        assert_eq!(audit.iter().filter(|e| e.object_type == "incident").count(), 3, "intake, route, feedback");
    }

    async fn an_action_in_the_wrong_state_is_409_and_changes_nothing(db: TestDatabase) {
        let app = TestApp::new(db).await;
        let desks = add_desks(&app).await;
        let labour = handler(&app, "labour.handler", desks.labour.id).await;
        let operator = app.session(Role::Operator).await;
        let reported = report(&app, &operator, WAGES).await;
        let id = reported["id"].as_i64().unwrap();
        let order = reported["work_orders"][0]["id"].as_i64().unwrap();
        let before = incident(&app, &operator, id).await;
        let audit_before = app.db.store.audit_entries(0, 1000).await.unwrap().entries.len();
        let mut live = app.state.live.subscribe();

        let start = post(&app, &labour.session, &format!("/api/v1/work-orders/{order}/start"), json!({})).await;
        assert_eq!(start.status, StatusCode::CONFLICT, "{}", start.text);
        assert!(start.headers["content-type"].to_str().unwrap().starts_with("application/problem+json"));
        assert_eq!(start.json()["detail"], "该流转单当前状态为「待签收」，不能开始处置。");
        let confirm = post(&app, &operator, &format!("/api/v1/work-orders/{order}/confirm"), json!({})).await;
        assert_eq!(confirm.status, StatusCode::CONFLICT);
        assert!(confirm.json()["detail"].as_str().unwrap().contains("待签收"), "{}", confirm.text);
        let returned = post(&app, &labour.session, &format!("/api/v1/work-orders/{order}/return"), json!({"result": "已处理"})).await;
        assert_eq!(returned.status, StatusCode::CONFLICT);
        // Feedback before the incident is resolved.
        let feedback = post(&app, &operator, &format!("/api/v1/incidents/{id}/feedback"), json!({"resolved": true, "satisfaction": 4})).await;
        assert_eq!(feedback.status, StatusCode::CONFLICT);
        assert_eq!(feedback.json()["detail"], "该警情当前状态为「已分流」，不能回访。");
        // A triage override once routed; routing again to the same owner.
        let triage = post(&app, &operator, &format!("/api/v1/incidents/{id}/triage"), json!({"category": "labour_dispute"})).await;
        assert_eq!(triage.status, StatusCode::CONFLICT, "{}", triage.text);
        let twice = post(&app, &operator, &format!("/api/v1/incidents/{id}/route"), json!({"owner_org_ids": [desks.labour.id]})).await;
        assert_eq!(twice.status, StatusCode::CONFLICT, "{}", twice.text);
        // In English on request.
        let english = app.raw(Method::POST, &format!("/api/v1/work-orders/{order}/start"), Some(&labour.session),
            Some("{}".into()), &[("Accept-Language", "en"), ("Content-Type", "application/json")]).await;
        assert_eq!(english.json()["detail"], "a work order that is created cannot be started.");

        // Wrong roles and bad bodies.
        let by_operator = post(&app, &operator, &format!("/api/v1/work-orders/{order}/accept"), json!({})).await;
        assert_eq!(by_operator.status, StatusCode::FORBIDDEN);
        let by_handler = post(&app, &labour.session, &format!("/api/v1/work-orders/{order}/confirm"), json!({})).await;
        assert_eq!(by_handler.status, StatusCode::FORBIDDEN);
        let empty = post(&app, &labour.session, &format!("/api/v1/work-orders/{order}/reject"), json!({"reason": "  "})).await;
        assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(empty.json()["errors"][0]["field"], "reason");
        let status = app.request(Method::GET, "/api/v1/work-orders?status=lost", Some(&labour.session), None).await;
        assert_eq!(status.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(status.json()["errors"][0]["field"], "status");

        assert_eq!(incident(&app, &operator, id).await, before, "nothing changed");
        assert_eq!(app.db.store.audit_entries(0, 1000).await.unwrap().entries.len(), audit_before);
        assert!(live.try_recv().is_err(), "a refusal publishes nothing");

        // Accept, then a second accept is refused the same way.
        ok(&app, &labour.session, &format!("/api/v1/work-orders/{order}/accept"), json!({})).await;
        let published = [live.try_recv().unwrap(), live.try_recv().unwrap()];
        assert_eq!((published[0].id, published[0].change.as_str()), (order, "accepted"));
        assert_eq!((published[1].id, published[1].change.as_str()), (id, "handling_started"));
        for event in &published {
            assert_eq!(event.incident_id, Some(id));
            assert!(event.visible_within(&desks.labour.path) && event.visible_within(&app.world.station_a.path));
            assert!(!event.visible_within(&app.world.station_b.path));
        }
        let again = post(&app, &labour.session, &format!("/api/v1/work-orders/{order}/accept"), json!({})).await;
        assert_eq!(again.status, StatusCode::CONFLICT);
        assert_eq!(again.json()["detail"], "该流转单当前状态为「已签收」，不能签收。");
    }

    async fn concurrent_accepts_apply_once(db: TestDatabase) {
        let app = TestApp::new(db).await;
        let desks = add_desks(&app).await;
        let labour = handler(&app, "labour.handler", desks.labour.id).await;
        let operator = app.session(Role::Operator).await;
        let reported = report(&app, &operator, WAGES).await;
        let id = reported["id"].as_i64().unwrap();
        let order = reported["work_orders"][0]["id"].as_i64().unwrap();
        let path = format!("/api/v1/work-orders/{order}/accept");
        let one = || post(&app, &labour.session, &path, json!({}));
        let (a, b, c, d, e, f) = tokio::join!(one(), one(), one(), one(), one(), one());
        let answers = [a, b, c, d, e, f];
        let statuses: Vec<u16> = answers.iter().map(|r| r.status.as_u16()).collect();
        assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
        assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 5, "{statuses:?}");
        let events = steps(&incident(&app, &operator, id).await);
        assert_eq!(events.iter().filter(|(e, _)| e == "accepted").count(), 1);
        assert_eq!(events.iter().filter(|(e, _)| e == "handling_started").count(), 1);
    }

    async fn another_stations_work_orders_are_not_found(db: TestDatabase) {
        let app = TestApp::new(db).await;
        let desks = add_desks(&app).await;
        let labour = handler(&app, "labour.handler", desks.labour.id).await;
        let operator = app.session(Role::Operator).await;
        let foreign = app.world.foreign_work_order;
        for session in [&operator, &labour.session] {
            let read = app.request(Method::GET, &format!("/api/v1/work-orders/{foreign}"), Some(session), None).await;
            assert_eq!(read.status, StatusCode::NOT_FOUND, "{}", read.text);
            assert!(!inbox(&app, session, "").await.contains(&foreign));
        }
        let accept = post(&app, &labour.session, &format!("/api/v1/work-orders/{foreign}/accept"), json!({})).await;
        assert_eq!(accept.status, StatusCode::NOT_FOUND);
        let confirm = post(&app, &operator, &format!("/api/v1/work-orders/{foreign}/confirm"), json!({})).await;
        assert_eq!(confirm.status, StatusCode::NOT_FOUND);
        let route = post(&app, &operator, &format!("/api/v1/incidents/{}/route", app.world.foreign_incident),
            json!({"owner_org_ids": [desks.labour.id]})).await;
        assert_eq!(route.status, StatusCode::NOT_FOUND);
        // A department cannot route the incident it holds a work order of.
        let reported = report(&app, &operator, WAGES).await;
        let id = reported["id"].as_i64().unwrap();
        let by_department = post(&app, &labour.session, &format!("/api/v1/incidents/{id}/route"),
            json!({"owner_org_ids": [desks.governance.id]})).await;
        assert_eq!(by_department.status, StatusCode::FORBIDDEN);
        // Nor may the operator route to station B.
        let to_b = post(&app, &operator, &format!("/api/v1/incidents/{id}/route"),
            json!({"owner_org_ids": [app.world.station_b.id]})).await;
        assert_eq!(to_b.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", to_b.text);
        assert_eq!(to_b.json()["errors"][0]["field"], "owner_org_ids");
    }

    async fn a_routing_rule_sends_a_category_where_it_says(db: TestDatabase) {
        let app = TestApp::new(db).await;
        let desks = add_desks(&app).await;
        let chief = app.session(Role::StationChief).await;
        let operator = app.session(Role::Operator).await;
        // The street's wage arrears to the governance centre, instead of
        // the labour inspection its type would choose.
        let street = json!({"rules": [{"division_code": "510107001", "org_id": desks.governance.id}]});
        let set = app.request(Method::PUT, "/api/v1/routing-rules/wage_arrears", Some(&chief), Some(&street)).await;
        assert_eq!(set.status, StatusCode::OK, "{}", set.text);
        let reported = report(&app, &operator, WAGES).await;
        assert_eq!(reported["work_orders"][0]["owner_org_id"], desks.governance.id, "{reported}");

        // Except in 锦里社区: the more specific code wins.
        let rules = json!({"rules": [
            {"division_code": "510107001", "org_id": desks.governance.id},
            {"division_code": "510107001001", "org_id": desks.labour.id},
        ]});
        let set = app.request(Method::PUT, "/api/v1/routing-rules/wage_arrears", Some(&chief), Some(&rules)).await;
        assert_eq!(set.status, StatusCode::OK, "{}", set.text);
        assert_eq!(set.json().as_array().unwrap().len(), 2);
        let listed = app.request(Method::GET, "/api/v1/routing-rules", Some(&chief), None).await.json();
        assert_eq!(listed[0]["org_name"], "浆洗街综治中心", "{listed}");
        assert_eq!(listed[0]["category_name"], "拖欠工资", "{listed}");
        assert_eq!(listed[1]["division_code"], "510107001001", "{listed}");
        let reported = report(&app, &operator, WAGES).await;
        assert_eq!(reported["work_orders"][0]["owner_org_id"], desks.labour.id, "{reported}");

        // Only the chief's places and organisations that serve them.
        let foreign_code = json!({"rules": [{"division_code": "510107004", "org_id": desks.labour.id}]});
        let refused = app.request(Method::PUT, "/api/v1/routing-rules/wage_arrears", Some(&chief), Some(&foreign_code)).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(refused.json()["errors"][0]["field"], "rules[0].division_code");
        let foreign_org = json!({"rules": [{"division_code": "510107001", "org_id": app.world.station_b.id}]});
        let refused = app.request(Method::PUT, "/api/v1/routing-rules/wage_arrears", Some(&chief), Some(&foreign_org)).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(refused.json()["errors"][0]["field"], "rules[0].org_id");
        let police = app.request(Method::PUT, "/api/v1/routing-rules/fight", Some(&chief), Some(&json!({"rules": []}))).await;
        assert_eq!(police.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(police.json()["errors"][0]["field"], "category");
        let unknown = app.request(Method::PUT, "/api/v1/routing-rules/no_such", Some(&chief), Some(&json!({"rules": []}))).await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND);
        let by_operator = app.request(Method::PUT, "/api/v1/routing-rules/wage_arrears", Some(&operator), Some(&rules)).await;
        assert_eq!(by_operator.status, StatusCode::FORBIDDEN);
        let audit = app.db.store.audit_entries(0, 1000).await.unwrap().entries;
        assert_eq!(audit.iter().filter(|e| e.object_type == "routing_rule").count(), 2, "refusals write nothing");

        // An empty list removes the chief's rules.
        let cleared = app.request(Method::PUT, "/api/v1/routing-rules/wage_arrears", Some(&chief), Some(&json!({"rules": []}))).await;
        assert_eq!(cleared.status, StatusCode::OK);
        assert_eq!(cleared.json(), json!([]));
        assert_eq!(app.request(Method::GET, "/api/v1/routing-rules", Some(&chief), None).await.json(), json!([]));
    }

    async fn feedback_closes_or_reopens_the_loop(db: TestDatabase) {
        let app = TestApp::new(db).await;
        let desks = add_desks(&app).await;
        let labour = handler(&app, "labour.handler", desks.labour.id).await;
        let operator = app.session(Role::Operator).await;
        let reported = report(&app, &operator, WAGES).await;
        let id = reported["id"].as_i64().unwrap();
        let order = reported["work_orders"][0]["id"].as_i64().unwrap();
        ok(&app, &labour.session, &format!("/api/v1/work-orders/{order}/accept"), json!({})).await;
        // Settled on the first visit: returned straight from accepted.
        ok(&app, &labour.session, &format!("/api/v1/work-orders/{order}/return"), json!({"result": "已责令补发"})).await;
        ok(&app, &operator, &format!("/api/v1/work-orders/{order}/confirm"), json!({})).await;

        let path = format!("/api/v1/incidents/{id}/feedback");
        let bad = post(&app, &operator, &path, json!({"resolved": true, "satisfaction": 9})).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(bad.json()["errors"][0]["field"], "satisfaction");
        let reopened = ok(&app, &operator, &path, json!({"resolved": false, "satisfaction": 1, "note": "工资还没发"})).await;
        assert_eq!(reopened["status"], "reopened");
        let tail: Vec<String> = steps(&reopened).into_iter().rev().take(2).map(|(e, _)| e).collect();
        assert_eq!(tail, ["reopened", "feedback_recorded"]);
        let audit = app.db.store.audit_entries(0, 1000).await.unwrap().entries;
        assert!(audit.iter().any(|e| e.detail.as_deref().is_some_and(|d| d.contains("工资还没发"))));

        // Reopened, it is routed again, and the loop runs once more.
        let routed = ok(&app, &operator, &format!("/api/v1/incidents/{id}/route"), json!({"owner_org_ids": [desks.labour.id]})).await;
        assert_eq!(routed["status"], "diverted");
        let again = routed["work_orders"][1]["id"].as_i64().unwrap();
        assert_eq!(routed["work_orders"][1]["replaces"], Value::Null);
        ok(&app, &labour.session, &format!("/api/v1/work-orders/{again}/accept"), json!({})).await;
        ok(&app, &labour.session, &format!("/api/v1/work-orders/{again}/return"), json!({"result": "已全额补发"})).await;
        ok(&app, &operator, &format!("/api/v1/work-orders/{again}/confirm"), json!({})).await;
        let closed = ok(&app, &operator, &path, json!({"resolved": true, "satisfaction": 5})).await;
        assert_eq!(closed["status"], "closed");
    }

    async fn an_operator_overrides_the_category_and_routes_by_hand(db: TestDatabase) {
        // No department or centre yet: intake leaves the incident triaged.
        let app = TestApp::new(db).await;
        let operator = app.session(Role::Operator).await;
        let reported = report(&app, &operator, WAGES).await;
        assert_eq!(reported["status"], "triaged", "{reported}");
        let id = reported["id"].as_i64().unwrap();
        let path = format!("/api/v1/incidents/{id}/triage");
        let unknown = post(&app, &operator, &path, json!({"category": "no_such_thing"})).await;
        assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(unknown.json()["errors"][0]["field"], "category");
        let overridden = ok(&app, &operator, &path, json!({"category": "labour_dispute"})).await;
        assert_eq!(overridden["triage"]["category"], "labour_dispute");
        let last = overridden["timeline"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["event"], "overridden");
        assert_eq!(last["actor"], format!("user:{}", app.world.users[&Role::Operator]));
        assert_eq!(last["detail"]["from"]["category"]["code"], "wage_arrears");

        // Now a department exists: routed by hand to two at once (联动).
        let desks = add_desks(&app).await;
        let routed = ok(&app, &operator, &format!("/api/v1/incidents/{id}/route"),
            json!({"owner_org_ids": [desks.labour.id, desks.governance.id]})).await;
        assert_eq!(routed["status"], "diverted");
        let owners: Vec<i64> = routed["work_orders"].as_array().unwrap().iter().map(|w| w["owner_org_id"].as_i64().unwrap()).collect();
        assert_eq!(owners, [desks.labour.id, desks.governance.id]);
        assert_eq!(routed["work_orders"][0]["category"], "labour_dispute");
        assert_eq!(routed["owner_org_id"], desks.command_room.id);
    }
}

backend_tests! {
    async fn a_call_the_rules_cannot_read_waits_for_the_command_room(db: TestDatabase) {
        let app = TestApp::new(db).await;
        let desks = add_desks(&app).await;
        // An operator of the command room itself, as in the demo: the held
        // incident must be theirs to see and route.
        add_account(&app.state, "room.operator", desks.command_room.id, Role::Operator).await;
        let operator = sign_in(&app, "room.operator").await;
        let reported = report(&app, &operator, "你好，麻烦你们派人过来看一下").await;
        assert_eq!(reported["triage"]["category"], "other", "{reported}");
        assert_eq!(reported["status"], "triaged", "nothing decided: no one is sent");
        assert_eq!(reported["work_orders"], json!([]));
        assert_eq!(reported["owner_org_id"], desks.command_room.id, "the command room holds it");
        let id = reported["id"].as_i64().unwrap();
        let listed = app.request(Method::GET, "/api/v1/incidents", Some(&operator), None).await.json();
        assert!(listed.as_array().unwrap().iter().any(|i| i["id"] == id), "on the command room's board");

        // Where it may go for a category: the routing's choice first.
        let owners = |category: &str| {
            let path = format!("/api/v1/incidents/{id}/owners?category={category}");
            let app = &app;
            let operator = operator.clone();
            async move { app.request(Method::GET, &path, Some(&operator), None).await }
        };
        let wages = owners("wage_arrears").await;
        assert_eq!(wages.status, StatusCode::OK, "{}", wages.text);
        let wages = wages.json();
        let choices = wages["organisations"].as_array().unwrap();
        assert_eq!(choices[0]["id"], desks.labour.id);
        assert_eq!(choices[0]["suggested"], true);
        assert_eq!(choices[0]["name"], "武侯区劳动保障监察大队");
        assert!(choices.iter().any(|c| c["id"] == desks.governance.id && c["suggested"] == false));
        assert_eq!(choices.iter().filter(|c| c["suggested"] == true).count(), 1);
        assert!(!choices.iter().any(|c| c["id"] == desks.command_room.id), "work goes out of the room");
        assert!(!wages.to_string().contains("望江"), "no other station's organisations: {wages}");
        // Without a category: the incident's own (其他 goes to the centre).
        let own = app.request(Method::GET, &format!("/api/v1/incidents/{id}/owners"), Some(&operator), None).await.json();
        assert_eq!(own["category"], "other");
        assert_eq!(own["organisations"][0]["id"], desks.governance.id);
        assert_eq!(own["organisations"][0]["suggested"], true);
        let unknown = owners("no_such_thing").await;
        assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(unknown.json()["errors"][0]["field"], "category");

        // The operator reads it, changes the category and routes it.
        ok(&app, &operator, &format!("/api/v1/incidents/{id}/triage"), json!({"category": "wage_arrears"})).await;
        let routed = ok(&app, &operator, &format!("/api/v1/incidents/{id}/route"), json!({"owner_org_ids": [desks.labour.id]})).await;
        assert_eq!(routed["status"], "diverted");
        assert_eq!(routed["work_orders"][0]["owner_org_id"], desks.labour.id);
        assert_eq!(routed["work_orders"][0]["category"], "wage_arrears");
        let after = owners("wage_arrears").await.json();
        let labour = after["organisations"].as_array().unwrap().iter().find(|c| c["id"] == desks.labour.id).unwrap().clone();
        assert_eq!(labour["holds_open_work_order"], true);

        // A department handler does not route.
        let handler = handler(&app, "labour.handler", desks.labour.id).await;
        let refused = app.request(Method::GET, &format!("/api/v1/incidents/{id}/owners"), Some(&handler.session), None).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
    }
}

backend_tests! {
    async fn a_held_call_read_as_police_work_is_dispatched_to_the_command_room(db: TestDatabase) {
        let app = TestApp::new(db).await;
        let desks = add_desks(&app).await;
        add_account(&app.state, "room.operator", desks.command_room.id, Role::Operator).await;
        let operator = sign_in(&app, "room.operator").await;
        let reported = report(&app, &operator, "你好，麻烦你们派人过来看一下").await;
        assert_eq!(reported["status"], "triaged", "{reported}");
        let id = reported["id"].as_i64().unwrap();
        let dispatch = format!("/api/v1/incidents/{id}/dispatch");

        // Read as non-police work, it is routed, not dispatched.
        let refused = post(&app, &operator, &dispatch, json!({})).await;
        assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
        assert_eq!(incident(&app, &operator, id).await["status"], "triaged", "nothing changed");

        ok(&app, &operator, &format!("/api/v1/incidents/{id}/triage"), json!({"category": "suspicious_activity"})).await;
        let to_labour = post(&app, &operator, &format!("/api/v1/incidents/{id}/route"), json!({"owner_org_ids": [desks.labour.id]})).await;
        assert_eq!(to_labour.status, StatusCode::CONFLICT, "police work is not a department's: {}", to_labour.text);
        let dispatched = ok(&app, &operator, &dispatch, json!({})).await;
        assert_eq!(dispatched["status"], "dispatched");
        assert_eq!(dispatched["owner_org_id"], desks.command_room.id);
        let (event, actor) = steps(&dispatched).last().unwrap().clone();
        assert_eq!(event, "routed");
        assert!(actor.starts_with("user:"), "{actor}");
        let again = post(&app, &operator, &dispatch, json!({})).await;
        assert_eq!(again.status, StatusCode::CONFLICT);
        // Once the command room has it, a department may be added (联动).
        let linked = ok(&app, &operator, &format!("/api/v1/incidents/{id}/route"), json!({"owner_org_ids": [desks.governance.id]})).await;
        assert_eq!(linked["status"], "dispatched");
        assert_eq!(linked["work_orders"][0]["owner_org_id"], desks.governance.id);
    }
}
