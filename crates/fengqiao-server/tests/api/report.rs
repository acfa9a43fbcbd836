//! The public report page a building's QR plate opens: a report through
//! intake, a tracking code that shows its status, nothing about the sender
//! stored, cross-site posts refused, and a per-building limit that holds
//! across a restart and stores nothing when it refuses.

use std::net::SocketAddr;

use axum::http::{header, Method, StatusCode};
use fengqiao_store::backend_tests;
use fengqiao_store::testing::TestDatabase;

use crate::helpers::TestApp;
use crate::open311::{add_desks, form};

const SENDER_IP: [u8; 4] = [203, 0, 113, 7];
const USER_AGENT: &str = "TestPhone/9.1 (Fengqiao e2e)";

struct Page {
    status: StatusCode,
    html: String,
    cookie: Option<String>,
}

async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    cookie: Option<&str>,
    body: Option<String>,
    cross_site: bool,
) -> Page {
    let mut request = app
        .client()
        .request(method, path)
        .header(header::USER_AGENT.as_str(), USER_AGENT)
        .header(
            "sec-fetch-site",
            if cross_site {
                "cross-site"
            } else {
                "same-origin"
            },
        )
        .peer(SocketAddr::from((SENDER_IP, 40_000)));
    if let Some(cookie) = cookie {
        request = request.cookie("fq_report", cookie);
    }
    if let Some(body) = body {
        request = request.form(body);
    }
    let response = request.send().await.unwrap();
    let status = response.status;
    let cookie = response.cookie("fq_report");
    let bytes = response.bytes;
    Page {
        status,
        html: String::from_utf8_lossy(&bytes).into_owned(),
        cookie,
    }
}

/// The value of the first `name="…" value="…"` input, or the text of the
/// element with this id.
fn field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

fn element(html: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no #{id} in {html}"));
    let rest = &html[start..];
    let open = rest.find('>').unwrap() + 1;
    rest[open..].split('<').next().unwrap().trim().to_owned()
}

/// A resident's visit: opens the plate's page, fills it in, sends it.
struct Visit {
    cookie: String,
    form_id: String,
    token: String,
}

async fn open_plate(app: &TestApp, plate: &str) -> Visit {
    let page = send(app, Method::GET, &format!("/r/{plate}"), None, None, false).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    Visit {
        cookie: page.cookie.expect("a form cookie"),
        form_id: field(&page.html, "form_id"),
        token: field(&page.html, "token"),
    }
}

async fn submit(app: &TestApp, plate: &str, visit: &Visit, text: &str, phone: &str) -> Page {
    let body = form(&[
        ("form_id", &visit.form_id),
        ("token", &visit.token),
        ("text", text),
        ("phone", phone),
    ]);
    send(
        app,
        Method::POST,
        &format!("/r/{plate}"),
        Some(&visit.cookie),
        Some(body),
        false,
    )
    .await
}

async fn report(app: &TestApp, plate: &str, text: &str) -> Page {
    let visit = open_plate(app, plate).await;
    submit(app, plate, &visit, text, "").await
}

async fn incident_count(app: &TestApp) -> usize {
    app.state
        .store
        .incidents_within("/", 1000)
        .await
        .unwrap()
        .len()
}

backend_tests! {
    async fn a_resident_reports_through_the_plate_and_tracks_it(db: TestDatabase) {
        let app = TestApp::new(db).await;
        add_desks(&app).await;
        let plate = app.world.own_building.plate_code.clone();
        let page = send(&app, Method::GET, &format!("/r/{plate}"), None, None, false).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.html.contains("锦里小区 3栋"), "{}", page.html);
        assert!(page.html.contains("<textarea name=\"text\""));
        assert!(page.html.contains("name=\"phone\""));
        assert!(page.html.contains("width=device-width"));

        let visit = open_plate(&app, &plate).await;
        let receipt = submit(&app, &plate, &visit, "楼上每天半夜装修电钻噪音太吵", "13912345678").await;
        assert_eq!(receipt.status, StatusCode::OK, "{}", receipt.html);
        let code = element(&receipt.html, "tracking-code");
        let number = element(&receipt.html, "receipt");
        assert!(code.starts_with(&format!("{number}-")), "{code}");

        // A double tap sends the same form again: still one incident.
        let again = submit(&app, &plate, &visit, "楼上每天半夜装修电钻噪音太吵", "13912345678").await;
        assert_eq!(element(&again.html, "tracking-code"), code);
        assert_eq!(incident_count(&app).await, 2, "the world's and this one");

        let id = app.db.store.incident_id_by_receipt(&number).await.unwrap().unwrap();
        let record = app.db.store.incident(id).await.unwrap().unwrap();
        let incident = &record.incident;
        assert_eq!(incident.source.as_str(), "qr_report");
        assert_eq!(incident.building_id, Some(app.world.own_building.id));
        assert_eq!(incident.station_org_id, app.world.station_a.id);
        assert_eq!(incident.triage.as_ref().unwrap().category.code.as_str(), "noise");
        assert!(incident.reporter_phone.is_some() && incident.reporter_name.is_none());
        assert_eq!(record.timeline[0].actor, "anonymous");

        // The tracking code shows the status and no personal data; a code
        // with a wrong check shows nothing.
        let tracked = send(&app, Method::GET, &format!("/r/track?code={}", code.to_lowercase()), None, None, false).await;
        assert_eq!(tracked.status, StatusCode::OK, "{}", tracked.html);
        assert_eq!(element(&tracked.html, "state"), "处理中");
        assert_eq!(element(&tracked.html, "note"), "已转交武侯区生态环境局，等待签收。");
        assert!(tracked.html.contains("噪声扰民"));
        for private in ["13912345678", "139****5678", "电钻"] {
            assert!(!tracked.html.contains(private), "{private} on the tracking page");
        }
        let forged = format!("{number}-000000");
        let refused = send(&app, Method::GET, &format!("/r/track?code={forged}"), None, None, false).await;
        assert_eq!(refused.status, StatusCode::NOT_FOUND);
        assert!(refused.html.contains("查询码不正确"));
        assert!(!refused.html.contains("噪声扰民"));

        // Nothing about the sender is stored anywhere.
        let audit = app.db.store.table_text_for_tests("audit_log").await.unwrap();
        assert!(audit.contains("qr_plate"), "{audit}");
        for table in ["incidents", "incident_events", "work_orders", "audit_log", "idempotency_keys", "public_report_counts"] {
            let text = app.db.store.table_text_for_tests(table).await.unwrap();
            for sender in ["203.0.113.7", "TestPhone", &visit.cookie] {
                assert!(!text.contains(sender), "{sender} stored in {table}");
            }
            assert!(!text.contains("13912345678"), "phone in clear in {table}");
        }
    }

    async fn wrong_input_cross_site_posts_and_unknown_plates_store_nothing(db: TestDatabase) {
        let app = TestApp::new(db).await;
        let plate = app.world.own_building.plate_code.clone();
        let visit = open_plate(&app, &plate).await;

        let page = submit(&app, &plate, &visit, "   ", "12345").await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.html.contains("情况描述") && page.html.contains("联系电话"), "{}", page.html);

        let body = form(&[("form_id", &visit.form_id), ("token", &visit.token), ("text", "楼道堆满杂物")]);
        let cross = send(&app, Method::POST, &format!("/r/{plate}"), Some(&visit.cookie), Some(body.clone()), true).await;
        assert_eq!(cross.status, StatusCode::FORBIDDEN);
        let no_cookie = send(&app, Method::POST, &format!("/r/{plate}"), None, Some(body.clone()), false).await;
        assert_eq!(no_cookie.status, StatusCode::FORBIDDEN);
        assert!(no_cookie.html.contains("重新扫描"));
        let foreign_plate = app.world.foreign_building.plate_code.clone();
        let elsewhere = send(&app, Method::POST, &format!("/r/{foreign_plate}"), Some(&visit.cookie), Some(body), false).await;
        assert_eq!(elsewhere.status, StatusCode::FORBIDDEN, "a form is for its own plate only");

        let unknown = send(&app, Method::GET, "/r/510107-ZZZZZZZZ", None, None, false).await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND);
        assert!(unknown.html.contains("未找到该门牌") && unknown.html.contains("110"));
        assert_eq!(incident_count(&app).await, 1, "only the world's incident");
    }

    async fn reports_over_the_limit_sent_at_once_are_refused_alone(db: TestDatabase) {
        let app = TestApp::new(db).await;
        crate::helpers::add_desks(&app).await;
        let operator = app.session(fengqiao_core::role::Role::Operator).await;
        let plate = app.world.own_building.plate_code.clone();
        let mut visits = Vec::new();
        for _ in 0..6 {
            visits.push(open_plate(&app, &plate).await);
        }
        let before = incident_count(&app).await;
        // Six reports at one plate (three are allowed in ten minutes) and
        // six calls elsewhere, all at once: they share transactions.
        let texts: Vec<String> = (0..visits.len()).map(|i| format!("楼道灯坏了第{i}次")).collect();
        let plates = futures_util::future::join_all(
            visits.iter().zip(&texts).map(|(visit, text)| submit(&app, &plate, visit, text, "")),
        );
        let body = serde_json::json!({"source": "call_110", "text": "小区里有人打架", "location_text": "成都市武侯区浆洗街锦里小区3栋"});
        let calls = futures_util::future::join_all((0..6).map(|_| {
            app.raw(Method::POST, "/api/v1/incidents", Some(&operator), Some(body.to_string()), &[])
        }));
        let (plates, calls) = tokio::join!(plates, calls);
        let mut statuses: Vec<StatusCode> = plates.iter().map(|p| p.status).collect();
        statuses.sort();
        assert_eq!(statuses, [StatusCode::OK, StatusCode::OK, StatusCode::OK,
            StatusCode::TOO_MANY_REQUESTS, StatusCode::TOO_MANY_REQUESTS, StatusCode::TOO_MANY_REQUESTS]);
        assert!(calls.iter().all(|c| c.status == StatusCode::CREATED), "{:?}", calls.iter().map(|c| &c.text).collect::<Vec<_>>());
        assert_eq!(incident_count(&app).await, before + 9);
        assert!(app.state.store.verify_audit_chain().await.unwrap().is_ok());
    }

    async fn a_plate_takes_a_few_reports_per_ten_minutes_and_a_day_even_across_a_restart(db: TestDatabase) {
        let mut app = TestApp::new(db).await;
        let plate = app.world.own_building.plate_code.clone();
        for i in 0..3 {
            let page = report(&app, &plate, &format!("楼道灯坏了第{i}次")).await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.html);
        }
        app.restart().await;
        let refused = report(&app, &plate, "楼道灯还是坏的").await;
        assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(element(&refused.html, "message").contains("已达上限，本次内容未保存"), "{}", refused.html);
        assert_eq!(incident_count(&app).await, 4);
        // Another building's plate is not affected.
        let other = report(&app, &app.world.foreign_building.plate_code.clone(), "井盖丢了").await;
        assert_eq!(other.status, StatusCode::OK, "{}", other.html);

        // Ten minutes later three more, until the day's twenty.
        let mut accepted = 3;
        while accepted < 20 {
            app.clock.advance_minutes(10);
            for _ in 0..3 {
                if accepted == 20 {
                    break;
                }
                let page = report(&app, &plate, "楼道灯坏了").await;
                assert_eq!(page.status, StatusCode::OK, "report {accepted}: {}", page.html);
                accepted += 1;
            }
        }
        app.clock.advance_minutes(10);
        let refused = report(&app, &plate, "楼道灯坏了").await;
        assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "the day's cap");
        assert_eq!(incident_count(&app).await, 1 + 20 + 1);
    }
}
