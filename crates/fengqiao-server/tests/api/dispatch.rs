//! 派警 through the real router on both backends: units registered and
//! crewed, a fight call's nearest unit recommended and dispatched, the
//! crew's taps through arrival to resolution on scene, the figures that
//! count it, war-zone reinforcement on an injected clock, two operators
//! racing for one unit, bad input that changes nothing, and the EIDO
//! export checked field by field.

use std::time::Duration;

use axum::http::{Method, StatusCode};
use fengqiao_address::registry::{AddressRecord, RawAddressRecord};
use fengqiao_core::org::OrgKind;
use fengqiao_core::role::Role;
use fengqiao_core::unit::UnitStatus;
use fengqiao_core::Clock;
use fengqiao_store::backend_tests;
use fengqiao_store::testing::TestDatabase;
use serde_json::{json, Value};

use crate::helpers::{add_account, add_desks, add_unit, new_org, TestApp, T0};

/// 锦里东苑1栋, a building of station A's street with coordinates.
const SCENE: &str = "成都市武侯区浆洗街锦里东苑1栋";
const SCENE_LAT: f64 = 30.6500;
const SCENE_LON: f64 = 104.0500;
const WAIT: Duration = Duration::from_secs(2);

async fn add_scene(app: &TestApp) {
    let record = AddressRecord::parse(&RawAddressRecord {
        community_code: "510107001001".into(),
        grid_code: "510107001001001".into(),
        compound: "锦里东苑".into(),
        building: "1栋".into(),
        unit: "1单元".into(),
        room: "101".into(),
        lat: SCENE_LAT.to_string(),
        lon: SCENE_LON.to_string(),
        ..Default::default()
    })
    .unwrap();
    let store = &app.db.store;
    let mut tx = store.begin().await.unwrap();
    let grid = tx
        .upsert_grid(record.grid_code.as_ref().unwrap(), T0)
        .await
        .unwrap();
    tx.upsert_address(&record, Some(grid), T0).await.unwrap();
    tx.commit().await.unwrap();
}

/// A position of the unit as its vehicle's GPS feed stores it, now.
async fn gps(app: &TestApp, unit: i64, lat: f64, lon: f64) {
    let mut tx = app.db.store.begin().await.unwrap();
    let report = fengqiao_store::PositionReport {
        unit_id: unit,
        at: app.clock.now(),
        position: fengqiao_core::unit::Position::parse(lat, lon).unwrap(),
    };
    tx.record_positions(&[report]).await.unwrap();
    tx.commit().await.unwrap();
}

/// A unit registered by the chief; its id.
async fn register(app: &TestApp, chief: &str, org_id: i64, call_sign: &str, kind: &str) -> i64 {
    let body = json!({"org_id": org_id, "call_sign": call_sign, "kind": kind});
    let response = app
        .request(Method::POST, "/api/v1/units", Some(chief), Some(&body))
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
    response.json()["id"].as_i64().unwrap()
}

async fn place(app: &TestApp, secret: &str, unit: i64, lat: f64, lon: f64) {
    let body = json!({"positions": [{"unit_id": unit, "lat": lat, "lon": lon}]});
    let response = app
        .request(
            Method::POST,
            "/api/v1/units/positions",
            Some(secret),
            Some(&body),
        )
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
}

async fn fight_call(app: &TestApp, operator: &str) -> i64 {
    let body = json!({"source": "call_110", "text": "锦里东苑门口有人打架，快来", "location_text": SCENE, "reporter_phone": "13812345678"});
    let response = app
        .request(
            Method::POST,
            "/api/v1/incidents",
            Some(operator),
            Some(&body),
        )
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
    let view = response.json();
    assert_eq!(view["status"], "dispatched", "{view}");
    view["id"].as_i64().unwrap()
}

fn events(incident: &Value) -> Vec<(String, String)> {
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

/// An admin grants a user the crew role's place: the chief puts them on.
async fn crew(app: &TestApp, chief: &str, unit: i64, users: &[i64]) {
    let body = json!({"user_ids": users});
    let response = app
        .request(
            Method::PUT,
            &format!("/api/v1/units/{unit}/crew"),
            Some(chief),
            Some(&body),
        )
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
}

backend_tests! {
    async fn a_fight_call_gets_the_nearest_unit_which_resolves_it_on_scene(db: TestDatabase) {
        let app = TestApp::new(db).await;
        add_desks(&app).await;
        add_scene(&app).await;
        let a = app.world.station_a.id;
        let chief = app.session(Role::StationChief).await;
        let operator = app.session(Role::Operator).await;
        let officer = app.session(Role::CommunityOfficer).await;
        let officer_id = app.world.users[&Role::CommunityOfficer];
        let operator_id = app.world.users[&Role::Operator];

        let near = register(&app, &chief, a, "锦里巡1", "patrol_car").await;
        let far = register(&app, &chief, a, "锦里巡2", "foot_patrol").await;
        crew(&app, &chief, near, &[officer_id]).await;
        // The crew's phone sends its own position; the far unit's comes
        // from the chief's desk through the same endpoint being refused.
        place(&app, &officer, near, SCENE_LAT + 0.004, SCENE_LON).await;
        let refused = app.request(Method::POST, "/api/v1/units/positions", Some(&officer),
            Some(&json!({"positions": [{"unit_id": far, "lat": 30.66, "lon": 104.05}]}))).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.text);
        assert_eq!(refused.json()["errors"][0]["field"], "positions[0].unit_id");
        gps(&app, far, 30.6600, 104.0500).await;

        let mut phone = app.subscribe(&officer).await;
        let incident = fight_call(&app, &operator).await;
        let path = format!("/api/v1/incidents/{incident}/recommendations");
        let found = app.request(Method::GET, &path, Some(&operator), None).await;
        assert_eq!(found.status, StatusCode::OK, "{}", found.text);
        let found = found.json();
        assert_eq!(found["force"], "police");
        assert_eq!(found["overloaded"], false, "{found}");
        let first = &found["units"][0];
        assert_eq!(first["unit"]["call_sign"], "锦里巡1", "{found}");
        assert!(first["method"].as_str().unwrap().contains("直线距离"), "{first}");
        // 445 m × 1.4 at 30 km/h ≈ 1.2 minutes.
        let eta = first["minutes"].as_f64().unwrap();
        assert!((1.0..1.5).contains(&eta), "{eta}");
        assert_eq!(first["within_standard"], true);
        assert_eq!(found["units"][1]["unit"]["call_sign"], "锦里巡2");

        let sent = app.request(Method::POST, &format!("/api/v1/incidents/{incident}/units"), Some(&operator),
            Some(&json!({"unit_ids": [near]}))).await;
        assert_eq!(sent.status, StatusCode::OK, "{}", sent.text);

        // The crew's phone hears of it at once and reads the job.
        let mut heard = Vec::new();
        while let Some(event) = phone.next(WAIT).await {
            let data: Value = serde_json::from_str(&event.data).unwrap();
            let done = data["kind"] == "unit" && data["change"] == "dispatched";
            heard.push(data);
            if done { break; }
        }
        assert!(heard.iter().any(|d| d["kind"] == "unit" && d["id"] == near && d["incident_id"] == incident), "{heard:?}");
        let mine = app.request(Method::GET, "/api/v1/units/mine", Some(&officer), None).await;
        assert_eq!(mine.status, StatusCode::OK, "{}", mine.text);
        let mine = mine.json();
        assert_eq!(mine["unit"]["status"], "dispatched");
        assert_eq!(mine["incident"]["id"], incident);
        assert_eq!(mine["incident"]["reporter_phone"], "138****5678");

        // One tap each: en route, on scene after three minutes, resolved.
        let tap = |status: &'static str| json!({"status": status});
        app.clock.advance_minutes(1);
        let r = app.request(Method::POST, &format!("/api/v1/units/{near}/status"), Some(&officer), Some(&tap("en_route"))).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        app.clock.advance_minutes(2);
        let r = app.request(Method::POST, &format!("/api/v1/units/{near}/status"), Some(&officer), Some(&tap("on_scene"))).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        // A jump the state machine forbids is refused in Chinese.
        let r = app.request(Method::POST, &format!("/api/v1/units/{near}/status"), Some(&officer), Some(&tap("en_route"))).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
        assert!(r.json()["detail"].as_str().unwrap().contains("当前为「到场」"), "{}", r.text);
        app.clock.advance_minutes(6);
        let r = app.request(Method::POST, &format!("/api/v1/units/{near}/resolve"), Some(&officer),
            Some(&json!({"result": "双方已劝离，现场调解完毕"}))).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.json()["status"], "available");

        let view = app.request(Method::GET, &format!("/api/v1/incidents/{incident}"), Some(&operator), None).await.json();
        assert_eq!(view["status"], "resolved");
        let steps = events(&view);
        let officer_actor = format!("user:{officer_id}");
        let operator_actor = format!("user:{operator_id}");
        for expected in [
            ("unit_dispatched".to_owned(), operator_actor.clone()),
            ("unit_arrived".to_owned(), officer_actor.clone()),
            ("handling_started".to_owned(), officer_actor.clone()),
            ("resolved_on_scene".to_owned(), officer_actor.clone()),
            ("unit_cleared".to_owned(), officer_actor.clone()),
        ] {
            assert!(steps.contains(&expected), "{expected:?} in {steps:?}");
        }
        let arrived = view["timeline"].as_array().unwrap().iter().find(|e| e["event"] == "unit_arrived").unwrap();
        assert_eq!(arrived["at"], fengqiao_server::services::format::rfc3339(T0.plus_minutes(3)));

        // The unit's own timeline, and the figures: arrived within five
        // minutes (three after receipt), resolved on scene.
        let unit = app.request(Method::GET, &format!("/api/v1/units/{near}"), Some(&operator), None).await.json();
        let unit_events: Vec<&str> = unit["timeline"].as_array().unwrap().iter().map(|e| e["event"].as_str().unwrap()).collect();
        assert_eq!(unit_events, ["dispatched", "en_route", "arrived", "cleared"]);
        assert_eq!(unit["crew"], json!([officer_id]));
        let figures = app.request(Method::GET,
            "/api/v1/figures?from=2025-11-24T00:00:00%2B08:00&to=2025-11-26T00:00:00%2B08:00", Some(&chief), None).await;
        assert_eq!(figures.status, StatusCode::OK, "{}", figures.text);
        let figures = figures.json();
        assert_eq!(figures["police_arrival"]["within_standard"], json!({"count": 1, "of": 1, "rate": 1.0}), "{figures}");
        assert_eq!(figures["police_arrival"]["time_to_arrival"]["mean"], 3.0);
        assert_eq!(figures["resolved_on_scene"], json!({"count": 1, "of": 1, "rate": 1.0}));
    }

    async fn a_station_that_cannot_arrive_in_time_is_reinforced_by_its_war_zone(db: TestDatabase) {
        let app = TestApp::new(db).await;
        add_desks(&app).await;
        add_scene(&app).await;
        let (a, b) = (app.world.station_a.id, app.world.station_b.id);
        let chief = app.session(Role::StationChief).await;
        let operator = app.session(Role::Operator).await;
        // One war zone over both stations, with its commander.
        let mut tx = app.db.store.begin().await.unwrap();
        let zone = tx.insert_organisation(&fengqiao_core::org::NewOrganisation {
            division_codes: vec![
                fengqiao_core::org::DivisionCode::parse("510107001").unwrap(),
                fengqiao_core::org::DivisionCode::parse("510107004").unwrap(),
            ],
            ..new_org(Some(app.world.county.id), OrgKind::WarZone, "武侯区第一战区", "510107001")
        }, T0).await.unwrap();
        tx.commit().await.unwrap();
        add_account(&app.state, "zhanqu.commander", zone.id, Role::StationChief).await;
        let commander = app.sign_in_as("zhanqu.commander", crate::helpers::PASSWORD).await.session_cookie().unwrap();

        // Station A's only unit is 6 km away: 11 minutes at 30 km/h.
        let own = register(&app, &chief, a, "锦里巡9", "patrol_car").await;
        gps(&app, own, SCENE_LAT + 0.054, SCENE_LON).await;
        let theirs = add_unit(&app.db.store, b, "望江巡3", SCENE_LAT - 0.005, SCENE_LON).await;

        let incident = fight_call(&app, &operator).await;
        let found = app.request(Method::GET, &format!("/api/v1/incidents/{incident}/recommendations"), Some(&operator), None).await.json();
        assert_eq!(found["overloaded"], true, "{found}");
        assert_eq!(found["war_zone_name"], "武侯区第一战区");
        let first = &found["units"][0];
        assert_eq!(first["unit"]["id"], theirs, "{found}");
        assert_eq!(first["reinforcement"], true);
        assert_eq!(first["within_standard"], true);
        // Station B's other car (the world's) is further; A's own is last.
        let ids: Vec<i64> = found["units"].as_array().unwrap().iter().map(|u| u["unit"]["id"].as_i64().unwrap()).collect();
        assert_eq!(ids, [theirs, app.world.foreign_unit, own]);
        let last = &found["units"][2];
        assert_eq!(last["reinforcement"], false);
        assert_eq!(last["within_standard"], false);

        // The operator cannot send another station's unit directly…
        let direct = app.request(Method::POST, &format!("/api/v1/incidents/{incident}/units"), Some(&operator),
            Some(&json!({"unit_ids": [theirs]}))).await;
        assert_eq!(direct.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", direct.text);
        assert!(direct.text.contains("战区"), "{}", direct.text);
        // …but asks the war zone, and the request is recorded.
        let asked = app.request(Method::POST, &format!("/api/v1/incidents/{incident}/reinforcements"), Some(&operator),
            Some(&json!({"unit_ids": [theirs], "reason": "本所警力5分钟内无法到达"}))).await;
        assert_eq!(asked.status, StatusCode::CREATED, "{}", asked.text);
        let request = asked.json();
        assert_eq!(request["status"], "requested");
        assert_eq!(request["war_zone_org_id"], zone.id);
        let listed = app.request(Method::GET, "/api/v1/reinforcements?status=requested", Some(&commander), None).await.json();
        assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
        // The station's operator does not command the zone.
        let id = request["id"].as_i64().unwrap();
        let path = format!("/api/v1/reinforcements/{id}/decision");
        let by_station = app.request(Method::POST, &path, Some(&operator), Some(&json!({"accept": true}))).await;
        assert_eq!(by_station.status, StatusCode::NOT_FOUND, "{}", by_station.text);

        app.clock.advance_minutes(1);
        let accepted = app.request(Method::POST, &path, Some(&commander), Some(&json!({"accept": true, "note": "望江巡3前往"}))).await;
        assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.text);
        assert_eq!(accepted.json()["status"], "accepted");
        let unit = app.db.store.unit(theirs).await.unwrap().unwrap();
        assert_eq!(unit.status, UnitStatus::Dispatched);
        assert_eq!(unit.incident_id, Some(incident));
        let again = app.request(Method::POST, &path, Some(&commander), Some(&json!({"accept": false}))).await;
        assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
        let view = app.request(Method::GET, &format!("/api/v1/incidents/{incident}"), Some(&operator), None).await.json();
        let steps: Vec<String> = events(&view).into_iter().map(|(e, _)| e).collect();
        for step in ["reinforcement_requested", "unit_dispatched", "reinforcement_accepted"] {
            assert!(steps.iter().any(|s| s == step), "{step} in {steps:?}");
        }
    }

    async fn two_operators_never_send_one_unit_to_two_incidents(db: TestDatabase) {
        let app = TestApp::new(db).await;
        add_desks(&app).await;
        add_scene(&app).await;
        let a = app.world.station_a.id;
        let chief = app.session(Role::StationChief).await;
        let operator = app.session(Role::Operator).await;
        add_account(&app.state, "zhihui.second", a, Role::Operator).await;
        let second = app.sign_in_as("zhihui.second", crate::helpers::PASSWORD).await.session_cookie().unwrap();
        let unit = register(&app, &chief, a, "锦里巡5", "patrol_car").await;
        let first_call = fight_call(&app, &operator).await;
        let second_call = fight_call(&app, &second).await;
        for round in 0..5 {
            let body = json!({"unit_ids": [unit]});
            let (path_one, path_two) = (format!("/api/v1/incidents/{first_call}/units"), format!("/api/v1/incidents/{second_call}/units"));
            let (one, two) = tokio::join!(
                app.request(Method::POST, &path_one, Some(&operator), Some(&body)),
                app.request(Method::POST, &path_two, Some(&second), Some(&body)),
            );
            let statuses = [one.status, two.status];
            assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 1, "round {round}: {} / {}", one.text, two.text);
            let refused = if one.status == StatusCode::OK { &two } else { &one };
            assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
            assert!(refused.json()["detail"].as_str().unwrap().contains("锦里巡5"), "{}", refused.text);
            let stored = app.db.store.unit(unit).await.unwrap().unwrap();
            let winner = if one.status == StatusCode::OK { first_call } else { second_call };
            assert_eq!(stored.incident_id, Some(winner));
            // Exactly one incident's timeline names the unit this round.
            let mut dispatched = 0;
            for id in [first_call, second_call] {
                let record = app.db.store.incident(id).await.unwrap().unwrap();
                dispatched += record.timeline.iter().filter(|e| e.event["event"] == "unit_dispatched").count();
            }
            assert_eq!(dispatched, round + 1, "one dispatch per round");
            // The unit clears for the next round.
            let r = app.request(Method::POST, &format!("/api/v1/units/{unit}/status"), Some(&operator), Some(&json!({"status": "available"}))).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        }
    }

    async fn bad_input_gets_a_clear_answer_and_changes_nothing(db: TestDatabase) {
        let app = TestApp::new(db).await;
        add_desks(&app).await;
        add_scene(&app).await;
        let a = app.world.station_a.id;
        let chief = app.session(Role::StationChief).await;
        let operator = app.session(Role::Operator).await;
        let officer = app.session(Role::CommunityOfficer).await;
        let officer_id = app.world.users[&Role::CommunityOfficer];
        let unit = register(&app, &chief, a, "锦里巡7", "patrol_car").await;
        crew(&app, &chief, unit, &[officer_id]).await;

        // A position outside China.
        let body = json!({"positions": [{"unit_id": unit, "lat": 48.8566, "lon": 2.3522}]});
        let r = app.request(Method::POST, "/api/v1/units/positions", Some(&officer), Some(&body)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
        assert_eq!(r.json()["errors"][0]["field"], "positions[0].lat");
        assert!(r.text.contains("中国境内"), "{}", r.text);
        assert_eq!(app.db.store.unit(unit).await.unwrap().unwrap().position, None);

        // A duplicate call sign, a street patrol unit at a police station,
        // an unknown kind.
        let r = app.request(Method::POST, "/api/v1/units", Some(&chief), Some(&json!({"org_id": a, "call_sign": "锦里巡7", "kind": "patrol_car"}))).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
        assert_eq!(r.json()["errors"][0]["field"], "call_sign");
        let r = app.request(Method::POST, "/api/v1/units", Some(&chief), Some(&json!({"org_id": a, "call_sign": "路面1", "kind": "street_patrol"}))).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
        assert_eq!(r.json()["errors"][0]["field"], "kind");
        // A status jump: available → on scene.
        let r = app.request(Method::POST, &format!("/api/v1/units/{unit}/status"), Some(&officer), Some(&json!({"status": "on_scene"}))).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
        assert!(r.json()["detail"].as_str().unwrap().contains("锦里巡7"), "{}", r.text);
        // A unit of a foreign station.
        let incident = fight_call(&app, &operator).await;
        let foreign = app.world.foreign_unit;
        let r = app.request(Method::POST, &format!("/api/v1/incidents/{incident}/units"), Some(&operator),
            Some(&json!({"unit_ids": [unit, foreign]}))).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
        assert_eq!(r.json()["errors"][0]["field"], "unit_ids[1]");
        // All or none: the own unit was not sent either.
        let stored = app.db.store.unit(unit).await.unwrap().unwrap();
        assert_eq!(stored.status, UnitStatus::Available);
        let record = app.db.store.incident(incident).await.unwrap().unwrap();
        assert!(!record.timeline.iter().any(|e| e.event["event"] == "unit_dispatched"));
        // The foreign unit stays unseen.
        let r = app.request(Method::GET, &format!("/api/v1/units/{foreign}"), Some(&operator), None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);

        // A past track is read with a reason, and the read is audited.
        let r = app.request(Method::GET, &format!("/api/v1/units/{unit}/track?from=2025-11-24T00:00:00%2B08:00&to=2025-11-26T00:00:00%2B08:00"), Some(&chief), None).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
        assert_eq!(r.json()["errors"][0]["field"], "reason");
        place(&app, &officer, unit, SCENE_LAT, SCENE_LON).await;
        let r = app.request(Method::GET, &format!("/api/v1/units/{unit}/track?from=2025-11-24T00:00:00%2B08:00&to=2025-11-26T00:00:00%2B08:00&reason=%E6%A0%B8%E6%9F%A5%E5%87%BA%E8%AD%A6"), Some(&chief), None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.json().as_array().unwrap().len(), 1);
        let audit = app.db.store.audit_entries(0, 1000).await.unwrap();
        assert!(audit.entries.iter().any(|e| e.object_type == "unit_track" && e.action == "view_personal_data" && e.detail.as_deref().is_some_and(|d| d.contains("核查出警"))));

        // The phone's track, a point a minute for the ten minutes before.
        let earlier: Vec<_> = (1..=10)
            .map(|m| json!({"unit_id": unit, "lat": SCENE_LAT, "lon": SCENE_LON,
                "at": format!("2025-11-24T23:{:02}:00+08:00", 60 - m)}))
            .collect();
        let r = app.request(Method::POST, "/api/v1/units/positions", Some(&officer), Some(&json!({"positions": earlier}))).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let track_at = |track: Vec<fengqiao_store::PositionReport>| track.iter().map(|p| p.at).collect::<Vec<_>>();
        assert_eq!(app.db.store.unit_track(unit, T0.plus_minutes(-60), T0.plus_minutes(1)).await.unwrap().len(), 11);

        // Past the retention (30 days) the track is thinned to a point
        // every 5 minutes; a second run changes nothing.
        app.clock.advance_minutes(31 * 24 * 60);
        assert_eq!(fengqiao_server::jobs::Job::KeepTracks.run(&app.state).await.unwrap(), 8);
        assert_eq!(fengqiao_server::jobs::Job::KeepTracks.run(&app.state).await.unwrap(), 0);
        let track = app.db.store.unit_track(unit, T0.plus_minutes(-60), T0.plus_minutes(1)).await.unwrap();
        assert_eq!(track_at(track), [T0.plus_minutes(-10), T0.plus_minutes(-5), T0]);

        // A year later the thinned track is forgotten too (this unit's
        // three points and the world's foreign unit's one); the unit keeps
        // its last position.
        app.clock.advance_minutes(365 * 24 * 60);
        assert_eq!(fengqiao_server::jobs::Job::KeepTracks.run(&app.state).await.unwrap(), 4);
        let track = app.db.store.unit_track(unit, T0.plus_minutes(-60), app.clock.now()).await.unwrap();
        assert!(track.is_empty());
        assert!(app.db.store.unit(unit).await.unwrap().unwrap().position.is_some());
    }

    async fn the_eido_export_carries_units_statuses_and_times(db: TestDatabase) {
        let app = TestApp::new(db).await;
        add_desks(&app).await;
        add_scene(&app).await;
        let a = app.world.station_a.id;
        let chief = app.session(Role::StationChief).await;
        let operator = app.session(Role::Operator).await;
        let unit = register(&app, &chief, a, "锦里巡1", "patrol_car").await;
        gps(&app, unit, SCENE_LAT + 0.004, SCENE_LON).await;
        let incident = fight_call(&app, &operator).await;
        app.request(Method::POST, &format!("/api/v1/incidents/{incident}/units"), Some(&operator), Some(&json!({"unit_ids": [unit]}))).await;
        app.clock.advance_minutes(2);
        let r = app.request(Method::POST, &format!("/api/v1/units/{unit}/status"), Some(&operator), Some(&json!({"status": "on_scene"}))).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);

        let r = app.request(Method::GET, &format!("/api/v1/incidents/{incident}/eido"), Some(&operator), None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let eido = r.json();
        let receipt = app.db.store.incident(incident).await.unwrap().unwrap().incident.receipt_number.to_string();
        assert_eq!(eido["$id"], format!("urn:emergency:uid:incidentid:{receipt}:fengqiao"));
        assert_eq!(eido["eidoVersion"], "1.0");
        assert_eq!(eido["issuingElementIdentification"], "fengqiao");
        assert_eq!(eido["lastUpdateTimeStamp"], fengqiao_server::services::format::rfc3339(T0.plus_minutes(2)));
        let agency = format!("urn:fengqiao:agency:{a}");
        assert_eq!(eido["updatedByAgencyReference"]["$ref"], agency);

        let inc = &eido["incidentComponent"];
        assert_eq!(inc["internalIncidentId"], receipt);
        assert_eq!(inc["incidentTypeCommonRegistryText"], "Law Enforcement");
        assert_eq!(inc["incidentTypeInternalCode"], "fight");
        assert_eq!(inc["incidentStatusCommonRegistryText"], json!(["Open"]));
        assert_eq!(inc["incidentStatusInternalText"], json!(["处置中"]));
        assert!(inc["incidentCommonPriorityNumber"].is_u64());
        assert_eq!(inc["locationReference"][0]["$ref"], eido["locationComponent"][0]["$id"]);

        let agencies = eido["agencyComponent"].as_array().unwrap();
        assert_eq!(agencies.len(), 1);
        assert_eq!(agencies[0]["$id"], agency);
        assert_eq!(agencies[0]["agencyName"], "浆洗街派出所");
        assert_eq!(agencies[0]["incidentOwningAgencyIndicator"], true);

        let resources = eido["emergencyResourceComponent"].as_array().unwrap();
        assert_eq!(resources.len(), 1);
        let resource = &resources[0];
        assert_eq!(resource["$id"], format!("urn:fengqiao:unit:{unit}"));
        assert_eq!(resource["emergencyResourceName"], "锦里巡1");
        assert_eq!(resource["emergencyResourceTypeInternalText"], "巡逻车");
        assert_eq!(resource["primaryUnitStatusRegistryText"], "OnScene");
        let t0 = fengqiao_server::services::format::rfc3339(T0);
        let t2 = fengqiao_server::services::format::rfc3339(T0.plus_minutes(2));
        assert_eq!(resource["unitStatusInternal"], json!([format!("dispatched {t0}"), format!("arrived {t2}")]));
        assert_eq!(resource["lastUpdateTimeStamp"], t2);

        let dispatches = eido["dispatchComponent"].as_array().unwrap();
        assert_eq!(dispatches.len(), 1);
        assert_eq!(dispatches[0]["dispatchTimeStamp"], t0);
        assert_eq!(dispatches[0]["emergencyResourceReference"][0]["$ref"], resource["$id"]);
        assert_eq!(dispatches[0]["agentReference"]["$ref"], format!("user:{}", app.world.users[&Role::Operator]));

        let location = &eido["locationComponent"][0];
        assert_eq!(location["locationDescriptionText"], SCENE);
        let pidf = location["locationByValue"].as_str().unwrap();
        assert!(pidf.contains("<gml:pos>30.650000 104.050000</gml:pos>"), "{pidf}");
        let notes: Vec<&str> = eido["notesComponent"].as_array().unwrap().iter().map(|n| n["noteText"].as_str().unwrap()).collect();
        assert!(notes.contains(&"unit_dispatched") && notes.contains(&"unit_arrived"), "{notes:?}");
        // The caller's phone never travels in an export.
        assert!(!r.text.contains("13812345678") && !r.text.contains("5678"), "{}", r.text);
        assert!(eido.get("personComponent").is_none());
    }
}
