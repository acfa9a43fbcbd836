//! The daily task list (工作清单) through the real router: generating the
//! list twice (and twice at once) yields the same tasks; a done task leaves
//! it; an undone one carries over marked late, also across a restart; a
//! chief assigns by hand and sees the station's lists.

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use fengqiao_core::audit::Actor;
use fengqiao_core::dispute::{
    CaseText, Dispute, DisputeSource, DisputeType, FollowUpPolicy, MediationSession, Mediators,
    NewDispute, Risk,
};
use fengqiao_core::role::Role;
use fengqiao_core::task::VisitPolicy;
use fengqiao_core::{Clock, Timestamp};
use fengqiao_server::services::tasks::{generate_all, generate_if_new_day};
use fengqiao_server::ServerSettings;
use fengqiao_store::backend_tests;
use fengqiao_store::testing::TestDatabase;
use serde_json::{json, Value};

use crate::helpers::{add_building, add_warning, Response, TestApp, T0};

/// Station A's grid answered for by A's community officer and grid worker,
/// with four buildings, one of them under a repeat-call warning. Returns
/// the warning's id.
async fn grid_with_people(app: &mut TestApp, period_days: u32) -> i64 {
    let world = &app.world;
    let store = &app.db.store;
    for building in ["4栋", "5栋", "6栋"] {
        add_building(store, "510107001001", "锦里小区", building, "1单元", "101").await;
    }
    let officer = world.users[&Role::CommunityOfficer];
    let worker = world.users[&Role::GridWorker];
    let mut tx = store.begin().await.unwrap();
    tx.set_grid_responsibility(
        world.own_grid,
        Some(world.station_a.id),
        Some(officer),
        &[worker],
        T0,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let operator = app.session(Role::Operator).await;
    let body = json!({"source": "phone", "text": "楼上邻居天天吵架摔东西", "location_text": "成都市武侯区浆洗街锦里小区3栋"});
    let reported = app
        .request(
            Method::POST,
            "/api/v1/incidents",
            Some(&operator),
            Some(&body),
        )
        .await;
    assert_eq!(reported.status, StatusCode::CREATED, "{}", reported.text);
    let incident = reported.json()["id"].as_i64().unwrap();
    let world = &app.world;
    let warning = add_warning(
        &app.db.store,
        &world.station_a,
        world.own_building.id,
        incident,
    )
    .await;
    app.set_settings(ServerSettings {
        visits: VisitPolicy::with_period(period_days).unwrap(),
        ..ServerSettings::default()
    });
    warning
}

async fn my_list(app: &TestApp, secret: &str) -> Value {
    let response = app
        .request(Method::GET, "/api/v1/tasks", Some(secret), None)
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    response.json()
}

fn ids(list: &Value) -> Vec<i64> {
    list["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect()
}

fn kinds(list: &Value) -> Vec<String> {
    list["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["kind"].as_str().unwrap().to_owned())
        .collect()
}

async fn generate(app: &TestApp, secret: &str) -> Value {
    let response = app
        .request(Method::POST, "/api/v1/tasks/generate", Some(secret), None)
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    response.json()
}

async fn done(app: &TestApp, secret: &str, task: i64, body: &Value) -> Response {
    app.request(
        Method::POST,
        &format!("/api/v1/tasks/{task}/done"),
        Some(secret),
        Some(body),
    )
    .await
}

/// Every task row of the database, as (assignee, kind, subject, day).
async fn all_tasks(app: &TestApp) -> Vec<(i64, String, Option<i64>, String)> {
    let chief = app.session(Role::StationChief).await;
    let mut rows = Vec::new();
    for day in ["2025-11-25", "2025-11-26", "2025-11-27"] {
        let response = app
            .request(
                Method::GET,
                &format!("/api/v1/tasks/station?day={day}"),
                Some(&chief),
                None,
            )
            .await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text);
        for list in response.json()["lists"].as_array().unwrap() {
            for task in list["tasks"].as_array().unwrap() {
                if task["day"] == day {
                    rows.push((
                        task["assignee_user_id"].as_i64().unwrap(),
                        task["kind"].as_str().unwrap().to_owned(),
                        task["subject_id"].as_i64(),
                        day.to_owned(),
                    ));
                }
            }
        }
    }
    rows
}

backend_tests! {
    async fn generating_twice_yields_the_same_tasks_done_leaves_undone_carries_over_late(db: TestDatabase) {
        let mut app = TestApp::new(db).await;
        let warning = grid_with_people(&mut app, 2).await;
        let officer = app.session(Role::CommunityOfficer).await;
        let worker = app.session(Role::GridWorker).await;

        // Four buildings every two days: two visits a day each, plus the
        // warning on the grid to close.
        let first = generate(&app, &officer).await;
        assert_eq!(first["day"], "2025-11-25");
        assert_eq!(first["created"], 3, "{first}");
        let list = my_list(&app, &officer).await;
        assert_eq!(list["day"], "2025-11-25");
        assert_eq!(kinds(&list), ["close_warning", "routine_visit", "routine_visit"]);
        assert_eq!(list["late"], 0);
        let warning_task = &list["tasks"][0];
        assert_eq!(warning_task["subject_id"], warning);
        assert_eq!(warning_task["kind_name"], "预警待办结");
        assert!(warning_task["title"].as_str().unwrap().contains("重复报警"), "{warning_task}");
        assert_eq!(list["tasks"][1]["assignee_role"], "community_officer");

        // Twice, by the job, and by two runs at once: the same tasks.
        let again = generate(&app, &officer).await;
        assert_eq!(again["created"], 0, "{again}");
        assert_eq!(ids(&my_list(&app, &officer).await), ids(&list));
        let (a, b) = tokio::join!(generate_all(&app.state), generate_all(&app.state));
        let made = a.unwrap().created + b.unwrap().created;
        assert_eq!(made, 3, "only the grid worker's list was new");
        assert_eq!(ids(&my_list(&app, &officer).await), ids(&list));
        let rows = all_tasks(&app).await;
        let distinct: BTreeSet<_> = rows.iter().collect();
        assert_eq!(rows.len(), 6, "{rows:?}");
        assert_eq!(distinct.len(), rows.len(), "no task twice");
        // The grid worker visits other buildings than the officer.
        let worker_list = my_list(&app, &worker).await;
        assert_eq!(kinds(&worker_list), ["close_warning", "routine_visit", "routine_visit"]);
        assert_eq!(worker_list["tasks"][1]["assignee_role"], "grid_worker");
        let visited = |list: &Value| -> BTreeSet<i64> {
            list["tasks"].as_array().unwrap().iter()
                .filter(|t| t["kind"] == "routine_visit")
                .map(|t| t["subject_id"].as_i64().unwrap()).collect()
        };
        assert!(visited(&list).is_disjoint(&visited(&worker_list)));

        // Done with its record: it leaves the list; a retry is no second record.
        let visit = list["tasks"][1]["id"].as_i64().unwrap();
        let incomplete = done(&app, &officer, visit, &json!({"note": " "})).await;
        assert_eq!(incomplete.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", incomplete.text);
        let fields: Vec<String> = incomplete.json()["errors"].as_array().unwrap().iter()
            .map(|e| e["field"].as_str().unwrap().to_owned()).collect();
        assert_eq!(fields, ["outcome", "place", "note"]);
        assert_eq!(app.db.store.task(visit).await.unwrap().unwrap().status.as_str(), "open", "nothing stored");
        let record = json!({"outcome": "completed", "place": "锦里小区3栋", "note": "走访住户三户，无异常"});
        app.clock.advance_minutes(10 * 60);
        // Sessions end when idle: sign in again after the clock moves.
        let officer = app.session(Role::CommunityOfficer).await;
        let answered = done(&app, &officer, visit, &record).await;
        assert_eq!(answered.status, StatusCode::OK, "{}", answered.text);
        let answered = answered.json();
        assert_eq!(answered["status"], "done");
        assert_eq!(answered["done"]["outcome_name"], "已完成，无异常");
        assert_eq!(answered["done"]["on_time"], true);
        app.clock.advance_minutes(5);
        let retried = done(&app, &officer, visit, &record).await;
        assert_eq!(retried.status, StatusCode::OK, "{}", retried.text);
        assert_eq!(retried.json()["done"]["done_at"], answered["done"]["done_at"], "recorded once");
        let other = done(&app, &officer, visit, &json!({"outcome": "nobody_met", "place": "锦里小区", "note": "无人"})).await;
        assert_eq!(other.status, StatusCode::CONFLICT, "{}", other.text);
        assert!(other.json()["detail"].as_str().unwrap().contains("任务已完成"), "{}", other.text);
        let audits = app.db.store.audit_entries(0, 1000).await.unwrap().entries;
        let done_audits = audits.iter()
            .filter(|e| e.object_type == "task" && e.object_id == Some(visit.to_string()) && e.action == "update")
            .count();
        assert_eq!(done_audits, 1, "one audited change");
        // Someone else's task is not theirs to do, nor to see.
        let worker_task = worker_list["tasks"][1]["id"].as_i64().unwrap();
        assert_eq!(done(&app, &officer, worker_task, &record).await.status, StatusCode::NOT_FOUND);
        let list = my_list(&app, &officer).await;
        assert_eq!(list["tasks"].as_array().unwrap().len(), 2);
        assert!(!ids(&list).contains(&visit), "a done task leaves the list");
        let page = app.request(Method::GET, "/tasks", Some(&officer), None).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.text.contains("我的工作清单"));
        assert!(page.text.contains(list["tasks"][1]["title"].as_str().unwrap()));

        // The next day: the undone ones carry over, late, and nothing is
        // made twice. No building is due: one was visited yesterday, the
        // others are on someone's list.
        app.clock.advance_minutes(24 * 60);
        let officer = app.session(Role::CommunityOfficer).await;
        let next = generate(&app, &officer).await;
        assert_eq!(next["day"], "2025-11-26");
        assert_eq!(next["created"], 0, "{next}");
        let list = my_list(&app, &officer).await;
        assert_eq!(list["day"], "2025-11-26");
        assert_eq!(kinds(&list), ["close_warning", "routine_visit"]);
        let tasks = list["tasks"].as_array().unwrap();
        assert!(tasks.iter().all(|t| t["late"] == true && t["day"] == "2025-11-25"), "{list}");
        assert_eq!(list["late"], 2);
        let page = app.request(Method::GET, "/tasks", Some(&officer), None).await;
        assert!(page.text.contains("逾期"), "the page marks them late");

        // A restart remembers everything: generating again adds nothing.
        let before = ids(&list);
        app.restart().await;
        let officer = app.session(Role::CommunityOfficer).await;
        assert_eq!(generate(&app, &officer).await["created"], 0);
        assert_eq!(ids(&my_list(&app, &officer).await), before);
        let rows = all_tasks(&app).await;
        let distinct: BTreeSet<_> = rows.iter().collect();
        assert_eq!(distinct.len(), rows.len(), "no task twice: {rows:?}");
    }

    async fn the_morning_job_runs_once_a_day_and_a_closed_warning_leaves_the_list(db: TestDatabase) {
        let mut app = TestApp::new(db).await;
        let warning = grid_with_people(&mut app, 30).await;
        let first = generate_if_new_day(&app.state).await.unwrap().expect("a new day");
        assert_eq!(first.people, 2);
        assert_eq!(first.created, 4, "a warning and a visit each");
        assert!(generate_if_new_day(&app.state).await.unwrap().is_none(), "once a day");
        app.restart().await;
        assert!(generate_if_new_day(&app.state).await.unwrap().is_none(), "also after a restart");

        let officer = app.session(Role::CommunityOfficer).await;
        let warning_task = my_list(&app, &officer).await["tasks"][0]["id"].as_i64().unwrap();
        for step in ["acknowledge", "close"] {
            let body = json!({"action": "visited", "note": "已上门，双方已和解"});
            let response = app
                .request(Method::POST, &format!("/api/v1/warnings/{warning}/{step}"), Some(&officer), Some(&body))
                .await;
            assert_eq!(response.status, StatusCode::OK, "{}", response.text);
        }
        // 00:00 in Beijing: the morning run generates the new day's lists,
        // and the closed warning's task is withdrawn from both.
        app.clock.advance_minutes(24 * 60);
        let morning = generate_if_new_day(&app.state).await.unwrap().expect("the next day");
        let officer = app.session(Role::CommunityOfficer).await;
        assert_eq!(morning.withdrawn, 2);
        let list = my_list(&app, &officer).await;
        assert_eq!(kinds(&list), ["routine_visit"], "{list}");
        let withdrawn = app.request(Method::GET, &format!("/api/v1/tasks/{warning_task}"), Some(&officer), None).await;
        assert_eq!(withdrawn.json()["status"], "withdrawn", "{}", withdrawn.text);
        let late: Vec<&Value> = list["tasks"].as_array().unwrap().iter().filter(|t| t["late"] == true).collect();
        assert_eq!(late.len(), 1, "yesterday's visit, carried over: {list}");
        let record = json!({"outcome": "completed", "place": "锦里小区", "note": "已处理"});
        let refused = done(&app, &officer, warning_task, &record).await;
        assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
        assert!(refused.text.contains("已撤销"), "{}", refused.text);
    }

    async fn a_chief_assigns_by_hand_and_sees_the_station_lists(db: TestDatabase) {
        let mut app = TestApp::new(db).await;
        grid_with_people(&mut app, 30).await;
        let chief = app.session(Role::StationChief).await;
        let officer = app.session(Role::CommunityOfficer).await;
        let officer_id = app.world.users[&Role::CommunityOfficer];
        let body = json!({
            "assignee_user_id": officer_id,
            "title": "核查锦里小区3栋出租屋登记",
            "details": "三楼新租户未登记",
            "building_id": app.world.own_building.id,
        });
        let created = app.request(Method::POST, "/api/v1/tasks", Some(&chief), Some(&body)).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        let task = created.json();
        assert_eq!(task["kind"], "assigned");
        assert_eq!(task["day"], "2025-11-25");
        let retried = app.request(Method::POST, "/api/v1/tasks", Some(&chief), Some(&body)).await;
        assert_eq!(retried.status, StatusCode::OK, "{}", retried.text);
        assert_eq!(retried.json()["id"], task["id"], "a retried assignment is the same task");

        // Bad input: every field named, in Chinese, and nothing stored.
        let bad = json!({"assignee_user_id": app.world.foreign_user, "title": "", "day": "2025-11-24",
                         "building_id": app.world.foreign_building.id});
        let refused = app.request(Method::POST, "/api/v1/tasks", Some(&chief), Some(&bad)).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.text);
        let problem = refused.json();
        let fields: BTreeSet<&str> = problem["errors"].as_array().unwrap().iter()
            .map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(fields, BTreeSet::from(["assignee_user_id", "title", "day", "building_id"]));
        assert!(refused.text.contains("已过去的日期"), "{}", refused.text);
        let malformed = app.request(Method::POST, "/api/v1/tasks", Some(&chief),
            Some(&json!({"assignee_user_id": officer_id, "title": "走访", "day": "2025-13-01"}))).await;
        assert_eq!(malformed.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(malformed.text.contains("应为日期"), "{}", malformed.text);
        // Only a chief assigns; an operator keeps no list.
        assert_eq!(app.request(Method::POST, "/api/v1/tasks", Some(&officer), Some(&body)).await.status, StatusCode::FORBIDDEN);
        let operator = app.session(Role::Operator).await;
        assert_eq!(app.request(Method::GET, "/api/v1/tasks", Some(&operator), None).await.status, StatusCode::FORBIDDEN);

        // On the officer's list, with what the system generated.
        generate(&app, &chief).await;
        let list = my_list(&app, &officer).await;
        assert!(ids(&list).contains(&task["id"].as_i64().unwrap()));
        assert_eq!(kinds(&list), ["close_warning", "assigned", "routine_visit"]);
        // The chief sees the station's lists and each task, but does none.
        let lists = app.request(Method::GET, "/api/v1/tasks/station", Some(&chief), None).await;
        assert_eq!(lists.status, StatusCode::OK, "{}", lists.text);
        let lists = lists.json();
        let people: Vec<i64> = lists["lists"].as_array().unwrap().iter()
            .map(|l| l["assignee_user_id"].as_i64().unwrap()).collect();
        assert_eq!(people.len(), 2, "the officer and the grid worker: {lists}");
        assert!(people.contains(&officer_id));
        let id = task["id"].as_i64().unwrap();
        let one = app.request(Method::GET, &format!("/api/v1/tasks/{id}"), Some(&chief), None).await;
        assert_eq!(one.status, StatusCode::OK, "{}", one.text);
        let record = json!({"outcome": "issue_found", "place": "锦里小区3栋", "note": "新租户已登记"});
        assert_eq!(done(&app, &chief, id, &record).await.status, StatusCode::FORBIDDEN);
        let worker = app.session(Role::GridWorker).await;
        assert_eq!(app.request(Method::GET, &format!("/api/v1/tasks/{id}"), Some(&worker), None).await.status, StatusCode::NOT_FOUND);
        let answered = done(&app, &officer, id, &record).await;
        assert_eq!(answered.status, StatusCode::OK, "{}", answered.text);
        let lists = app.request(Method::GET, "/api/v1/tasks/station?day=2025-11-25", Some(&chief), None).await.json();
        let mine = lists["lists"].as_array().unwrap().iter().find(|l| l["assignee_user_id"] == officer_id).unwrap();
        assert_eq!(mine["done"], 1);
        assert_eq!(mine["open"], 2);
        let bad_day = app.request(Method::GET, "/api/v1/tasks/station?day=yesterday", Some(&chief), None).await;
        assert_eq!(bad_day.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
}

const DAY: i64 = 24 * 60;

/// A case on 锦里小区3栋 for A's community officer, written as the dispute
/// store writes a registration at `at`.
async fn add_dispute(app: &TestApp, at: Timestamp, facts: &str) -> Dispute {
    let officer = app.world.users[&Role::CommunityOfficer];
    let new = NewDispute {
        org_id: app.world.station_a.id,
        source: DisputeSource::Station,
        source_id: None,
        dispute_type: DisputeType::Neighbour,
        parties: Vec::new(),
        building_id: Some(app.world.own_building.id),
        address_text: CaseText::parse("address_text", "锦里小区3栋", 200).unwrap(),
        facts: CaseText::parse("facts", facts, 2000).unwrap(),
        risk: Risk::parse(Some("medium"), Some("双方多次争吵")).unwrap(),
        officer_user_id: Some(officer),
        mediators: Mediators::parse(&["王调解".to_owned()]).unwrap(),
    };
    let mut tx = app.db.store.begin().await.unwrap();
    let id = tx.next_dispute_id().await.unwrap();
    let registered = Dispute::register(id, new, Actor::User(officer), at);
    tx.insert_dispute(&registered.state, &[], Some("510107001001"), at)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    registered.state
}

/// A session held at `at`, planning the next one at `next`, written as the
/// dispute store writes it.
async fn hold_session(
    app: &TestApp,
    dispute: &Dispute,
    at: Timestamp,
    next: Option<Timestamp>,
) -> Dispute {
    let officer = app.world.users[&Role::CommunityOfficer];
    let mut tx = app.db.store.begin().await.unwrap();
    let session = MediationSession {
        id: tx.next_dispute_session_id().await.unwrap(),
        held_at: at,
        place: CaseText::parse("place", "社区调解室", 200).unwrap(),
        participants: CaseText::parse("participants", "双方当事人、调解员", 500).unwrap(),
        note: CaseText::parse("note", "双方陈述，同意继续协商", 2000).unwrap(),
        agreed: None,
        next_step: None,
        next_session_at: next,
    };
    let moved = dispute
        .record_session(&session, Actor::User(officer), at)
        .unwrap();
    tx.update_dispute(&moved.state, at).await.unwrap();
    tx.insert_dispute_session(dispute.id, &session, &Actor::User(officer).to_stored(), at)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    moved.state
}

backend_tests! {
    async fn dispute_cases_put_follow_ups_sessions_and_stalled_cases_on_the_officers_list(db: TestDatabase) {
        let mut app = TestApp::new(db).await;
        grid_with_people(&mut app, 30).await;
        let officer_id = app.world.users[&Role::CommunityOfficer];
        // Registered 20 days ago and left alone: stalled after 14 days.
        let stalled = add_dispute(&app, T0.minus_minutes(20 * DAY), "楼上漏水纠纷").await;
        // In mediation, the next session planned for 10:00 today.
        let mediating = add_dispute(&app, T0.minus_minutes(2 * DAY), "停车位纠纷").await;
        let ten = T0.plus_minutes(10 * 60);
        let mediating = hold_session(&app, &mediating, T0.minus_minutes(DAY), Some(ten)).await;
        // Agreed 7 days ago: the first follow-up visit is due today.
        let agreed = add_dispute(&app, T0.minus_minutes(10 * DAY), "噪音纠纷").await;
        let agreed = hold_session(&app, &agreed, T0.minus_minutes(9 * DAY), None).await;
        let mut tx = app.db.store.begin().await.unwrap();
        let follow_ups = tx.next_follow_up_ids(2).await.unwrap();
        let text = CaseText::parse("agreement", "楼上夜间十点后不再放音乐", 2000).unwrap();
        let resolved = agreed
            .record_agreement(text, &FollowUpPolicy::default(), &follow_ups, Actor::User(officer_id), T0.minus_minutes(7 * DAY))
            .unwrap();
        tx.update_dispute(&resolved.state, T0.minus_minutes(7 * DAY)).await.unwrap();
        tx.commit().await.unwrap();

        let officer = app.session(Role::CommunityOfficer).await;
        let made = generate(&app, &officer).await;
        assert_eq!(made["created"], 5, "{made}");
        let list = my_list(&app, &officer).await;
        assert_eq!(
            kinds(&list),
            ["close_warning", "mediation_session", "follow_up_visit", "stalled_dispute", "routine_visit"]
        );
        let task = |kind: &str| list["tasks"].as_array().unwrap().iter().find(|t| t["kind"] == kind).unwrap().clone();
        assert_eq!(task("mediation_session")["subject_id"], mediating.id);
        assert!(task("mediation_session")["details"].as_str().unwrap().contains("10:00"), "{list}");
        assert_eq!(task("follow_up_visit")["subject_id"], follow_ups[0]);
        assert_eq!(task("stalled_dispute")["subject_id"], stalled.id);
        assert_eq!(task("stalled_dispute")["kind_name"], "纠纷久未推进");
        assert_eq!(generate(&app, &officer).await["created"], 0, "generated twice: the same tasks");
        for (kind, case) in [("mediation_session", mediating.id), ("follow_up_visit", agreed.id), ("stalled_dispute", stalled.id)] {
            let id = task(kind)["id"].as_i64().unwrap();
            let page = app.request(Method::GET, &format!("/tasks/{id}"), Some(&officer), None).await;
            assert_eq!(page.status, StatusCode::OK);
            assert!(page.text.contains(&format!("href=\"/disputes/{case}\"")), "{kind} links its case");
        }
        assert_eq!(ids(&my_list(&app, &officer).await), ids(&list));

        // The session is held and the stalled case mediated: both tasks
        // leave the list, withdrawn; the follow-up stays until recorded.
        app.clock.advance_minutes(11 * 60);
        hold_session(&app, &mediating, app.clock.now(), None).await;
        hold_session(&app, &stalled, app.clock.now(), None).await;
        let officer = app.session(Role::CommunityOfficer).await;
        let again = generate(&app, &officer).await;
        assert_eq!(again["withdrawn"], 2, "{again}");
        assert_eq!(again["created"], 0, "{again}");
        let list = my_list(&app, &officer).await;
        assert_eq!(kinds(&list), ["close_warning", "follow_up_visit", "routine_visit"]);
    }
}
