//! The station overview (`/overview`) through the real router on both
//! backends: a station's two days of incidents (taken in through the API
//! and carried through the closed loop), repeat calls, disputes and
//! warnings; every figure the page shows (`data-figure`) must be the
//! statistics API's for the same period, every bar and dot must lead to as
//! many records as it says, and nothing on the page points off the server.

use axum::http::{Method, StatusCode};
use fengqiao_address::registry::{AddressRecord, RawAddressRecord};
use fengqiao_core::incident::Group;
use fengqiao_core::role::Role;
use fengqiao_core::Timestamp;
use fengqiao_store::backend_tests;
use fengqiao_store::testing::TestDatabase;
use serde_json::{json, Value};

use crate::figures::{write, Handling, Story};
use crate::helpers::{add_desks, TestApp, T0};

const JINLI: &str = "成都市武侯区浆洗街锦里小区3栋";
const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

/// Hour `hour` of day `day` after T0 (2025-11-25 00:00 Beijing time).
fn at(day: i64, hour: i64) -> Timestamp {
    Timestamp(T0.0 + day * DAY + hour * HOUR)
}

fn unescape(text: &str) -> String {
    text.replace("&#x2f;", "/")
        .replace("&#47;", "/")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The value of attribute `name` in `tag` (the text of one start tag).
fn attribute(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let end = tag[start..].find('"')? + start;
    Some(unescape(&tag[start..end]))
}

/// Every start tag of `html` that carries `data-figure`.
fn figure_tags(html: &str) -> Vec<&str> {
    html.match_indices('<')
        .filter_map(|(i, _)| {
            let end = html[i..].find('>')? + i;
            let tag = &html[i..=end];
            tag.contains(" data-figure=\"").then_some(tag)
        })
        .collect()
}

/// The page's periods: key, from, to and the HTML of the section.
fn periods(html: &str) -> Vec<(String, String, String, String)> {
    let starts: Vec<usize> = html
        .match_indices("<section class=\"card period\"")
        .map(|(i, _)| i)
        .collect();
    starts
        .iter()
        .enumerate()
        .map(|(n, &start)| {
            let end = starts.get(n + 1).copied().unwrap_or(html.len());
            let section = &html[start..end];
            let tag = &section[..section.find('>').unwrap() + 1];
            (
                attribute(tag, "data-period").unwrap(),
                attribute(tag, "data-from").unwrap(),
                attribute(tag, "data-to").unwrap(),
                section.to_owned(),
            )
        })
        .collect()
}

async fn get_ok(app: &TestApp, secret: &str, path: &str) -> crate::helpers::Response {
    let response = app.request(Method::GET, path, Some(secret), None).await;
    assert_eq!(response.status, StatusCode::OK, "{path}: {}", response.text);
    response
}

async fn intake(app: &TestApp, secret: &str, text: &str) -> Value {
    let body = json!({"source": "call_110", "text": text, "location_text": JINLI});
    let response = app
        .request(Method::POST, "/api/v1/incidents", Some(secret), Some(&body))
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
    response.json()
}

async fn register_dispute(app: &TestApp, secret: &str, incident_id: i64, risk: &str) {
    let body = json!({
        "source": "incident",
        "incident_id": incident_id,
        "dispute_type": "neighbour",
        "parties": [{"kind": "person", "name": "张三", "phone": "13812345678"}],
        "risk_level": risk,
        "risk_reason": "双方多次争吵，情绪激动",
        "mediators": ["王调解"],
    });
    let response = app
        .request(Method::POST, "/api/v1/disputes", Some(secret), Some(&body))
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
}

/// 锦里小区 located: building 3 (where the calls come from) and 1 and 2
/// beside it, all in the grid of station A's test world.
async fn locate_jinli(app: &TestApp) {
    let mut tx = app.db.store.begin().await.unwrap();
    for (building, lat, lon) in [
        ("3栋", "30.6420", "104.0480"),
        ("1栋", "30.6430", "104.0470"),
        ("2栋", "30.6410", "104.0495"),
    ] {
        let record = AddressRecord::parse(&RawAddressRecord {
            community_code: "510107001001".into(),
            grid_code: "510107001001001".into(),
            compound: "锦里小区".into(),
            building: building.into(),
            unit: "2单元".into(),
            room: "501".into(),
            lat: lat.into(),
            lon: lon.into(),
            ..Default::default()
        })
        .unwrap();
        tx.upsert_address(&record, Some(app.world.own_grid), T0)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
}

/// Two days of a station: the day before yesterday and yesterday.
async fn two_days(app: &TestApp) {
    locate_jinli(app).await;
    let desks = add_desks(app).await;
    let labour = ("wage_arrears", "labour");
    // The day before yesterday: a fight taken in, wages handled late by
    // the labour brigade, a theft the station resolved itself.
    app.clock.set(at(0, 9));
    let operator = app.session(Role::Operator).await;
    intake(app, &operator, "有人在小区门口打架，一个人头上流血了").await;
    write(
        app,
        &desks,
        Story {
            received: at(0, 10),
            category: labour,
            group: Group::NonPolice,
            handled_by: vec![Handling {
                owner: desks.labour.id,
                accepted_after: 90,
                returned_after: 600,
            }],
            satisfaction: Some(2),
            repeat_of: None,
        },
    )
    .await;
    write(
        app,
        &desks,
        Story {
            received: at(0, 11),
            category: ("theft", "property"),
            group: Group::Police,
            handled_by: vec![],
            satisfaction: Some(5),
            repeat_of: None,
        },
    )
    .await;

    // Yesterday: the same building calls about noise three times (repeat
    // links and a repeat-call warning nobody acknowledges), wages nobody
    // accepts, two dispute cases, one handled well.
    app.clock.set(at(1, 20));
    let operator = app.session(Role::Operator).await;
    let mut noise = Vec::new();
    for text in [
        "楼上装修噪音太吵了，晚上还在施工",
        "楼上又在装修，噪音很大，影响休息",
        "楼上装修噪音还是很大，已经第三次反映了",
    ] {
        noise.push(intake(app, &operator, text).await["id"].as_i64().unwrap());
    }
    intake(app, &operator, "老板拖欠我们三个月工资不给").await;
    let quarrel = intake(app, &operator, "楼上楼下因为漏水吵起来了，双方在楼道里争执").await;
    let chief = app.session(Role::StationChief).await;
    register_dispute(app, &chief, quarrel["id"].as_i64().unwrap(), "high").await;
    register_dispute(app, &chief, noise[0], "low").await;
    write(
        app,
        &desks,
        Story {
            received: at(1, 10),
            category: labour,
            group: Group::NonPolice,
            handled_by: vec![Handling {
                owner: desks.labour.id,
                accepted_after: 30,
                returned_after: 120,
            }],
            satisfaction: Some(4),
            repeat_of: None,
        },
    )
    .await;
}

backend_tests! {
    async fn the_overviews_figures_are_the_statistics_apis(db: TestDatabase) {
        let app = TestApp::new(db).await;
        two_days(&app).await;
        // This morning.
        app.clock.set(at(2, 8));
        let chief = app.session(Role::StationChief).await;
        let html = get_ok(&app, &chief, "/overview").await.text;
        let periods = periods(&html);
        assert_eq!(
            periods.iter().map(|p| p.0.as_str()).collect::<Vec<_>>(),
            ["yesterday", "last_30_days"]
        );
        let org = app.world.station_a.id;
        let mut checked = 0;
        let mut seen = std::collections::BTreeMap::new();
        for (key, from, to, section) in &periods {
            let query = format!("org_id={org}&from={from}&to={to}");
            let mut answers = std::collections::HashMap::new();
            for (name, path) in [
                ("figures", "/api/v1/figures"),
                ("prevention", "/api/v1/figures/prevention"),
                ("overview", "/api/v1/figures/overview"),
            ] {
                let answer = get_ok(&app, &chief, &format!("{path}?{query}")).await.json();
                assert_eq!(answer["from"].as_str(), Some(from.as_str()));
                answers.insert(name, answer);
            }
            for tag in figure_tags(section) {
                let figure = attribute(tag, "data-figure").unwrap();
                let shown = attribute(tag, "data-value").unwrap();
                let (api, pointer) = figure.split_once('/').unwrap();
                let value = answers[api]
                    .pointer(&format!("/{pointer}"))
                    .unwrap_or_else(|| panic!("{key}: the API has no {figure}"));
                match value {
                    Value::Null => assert_eq!(shown, "", "{key} {figure}"),
                    Value::Number(n) => {
                        let shown: f64 = shown.parse().unwrap_or_else(|_| panic!("{key} {figure}: {shown}"));
                        assert_eq!(shown, n.as_f64().unwrap(), "{key} {figure}");
                    }
                    other => panic!("{key} {figure}: not a number: {other}"),
                }
                seen.insert(format!("{key} {figure}"), shown);
                checked += 1;
            }
            // Every bar and dot leads to as many records as it counts.
            for tag in figure_tags(section).into_iter().filter(|t| t.starts_with("<a ")) {
                let href = attribute(tag, "href").unwrap();
                assert!(href.starts_with("/overview/records?"), "{href}");
                let records = get_ok(&app, &chief, &href).await.text;
                let total = records.split("data-total=\"").nth(1).unwrap().split('"').next().unwrap();
                assert_eq!(total, attribute(tag, "data-value").unwrap(), "{href}");
            }
        }
        assert!(checked > 30, "only {checked} figures on the page");
        // The story shows: not a page of zeros.
        let figure = |name: &str| seen.get(name).cloned().unwrap_or_else(|| panic!("no {name} in {seen:#?}"));
        let labour = {
            let answer = get_ok(&app, &chief, &format!(
                "/api/v1/figures/overview?org_id={org}&from={}&to={}", periods[1].1, periods[1].2
            )).await.json();
            answer["overdue_by_department"].as_object().unwrap().keys().cloned().collect::<Vec<_>>()
        };
        assert!(!labour.is_empty(), "a department has overdue work orders");
        assert_eq!(figure("yesterday figures/incidents"), "6");
        assert_eq!(figure("last_30_days figures/incidents"), "9");
        assert_eq!(figure("last_30_days figures/satisfaction/count"), "3");
        assert_eq!(figure("last_30_days prevention/open_disputes_by_risk/high"), "1");
        assert_eq!(figure("last_30_days prevention/open_disputes_by_risk/low"), "1");
        assert_eq!(figure("yesterday overview/repeat_addresses"), "1");
        assert_ne!(figure("yesterday prevention/warnings_overdue"), "0");
        assert!(html.contains("暂无数据：期内未派出警力"), "no unit was sent: said so");
        // Nothing on the page is fetched or linked from another host.
        assert!(!html.contains("http://") && !html.contains("https://"), "an outside URL");
        let map = html.split("<svg class=\"chart map\"").nth(2).expect("the map of the 30 days is drawn");
        assert!(map.contains("<polygon class=\"grid\""), "the grid drawn around its buildings");
        assert!(map.contains("class=\"spot hot\""), "锦里小区3栋 is a hot spot");
    }

    async fn the_overview_keeps_to_the_jurisdiction(db: TestDatabase) {
        let app = TestApp::new(db).await;
        two_days(&app).await;
        app.clock.set(at(2, 8));
        let chief = app.session(Role::StationChief).await;
        let b = app.world.station_b.id;
        let response = app.request(Method::GET, &format!("/overview?org_id={b}"), Some(&chief), None).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND);
        let (from, to) = ("2025-11-01T00:00:00Z", "2025-12-01T00:00:00Z");
        let response = app
            .request(Method::GET, &format!("/overview/records?org_id={b}&from={from}&to={to}"), Some(&chief), None)
            .await;
        assert_eq!(response.status, StatusCode::NOT_FOUND);
        // Station B's building asked for by id: no record, and not named.
        let foreign = app.world.foreign_building.id;
        let records = get_ok(&app, &chief, &format!("/overview/records?from={from}&to={to}&building_id={foreign}")).await.text;
        assert!(records.contains("data-total=\"0\""));
        assert!(!records.contains("望江"), "{records}");
        // The analyst sees it too.
        let analyst = app.session(Role::Analyst).await;
        get_ok(&app, &analyst, "/overview").await;
        // Those who may not see figures are refused, as by the API.
        let operator = app.session(Role::Operator).await;
        let response = app.request(Method::GET, "/overview", Some(&operator), None).await;
        assert_eq!(response.status, StatusCode::FORBIDDEN);
        let response = app.request(Method::GET, "/overview", None, None).await;
        assert_eq!(response.status, StatusCode::SEE_OTHER);
        // A period the wrong way round is named, not guessed.
        let response = app
            .request(Method::GET, &format!("/overview/records?from={to}&to={from}"), Some(&chief), None)
            .await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
}
