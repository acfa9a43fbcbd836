//! 成组提交 through the real router: intakes sent at once share
//! transactions, and each keeps what one intake alone is promised — its
//! own answer, one incident per idempotency key, repeat calls linked to the
//! incidents before it (those of its own batch too), one audit chain.

use axum::http::{Method, StatusCode};
use fengqiao_core::receipt::ReceiptDate;
use fengqiao_core::role::Role;
use fengqiao_core::Clock;
use fengqiao_store::backend_tests;
use fengqiao_store::testing::TestDatabase;
use futures_util::future::join_all;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

use crate::helpers::{add_desks, Response, TestApp};

const JINLI: &str = "成都市武侯区浆洗街锦里小区3栋";

const NOISE: [&str; 4] = [
    "楼上邻居半夜唱歌，音响声音太大了",
    "楼上又在放音乐，吵得睡不着",
    "还是楼上那家，半夜噪音扰民",
    "楼上KTV一样唱到凌晨，太吵了",
];

async fn post(app: &TestApp, secret: &str, body: &Value, key: Option<&str>) -> Response {
    let headers: Vec<(&str, &str)> = key.map(|k| ("Idempotency-Key", k)).into_iter().collect();
    app.raw(
        Method::POST,
        "/api/v1/incidents",
        Some(secret),
        Some(body.to_string()),
        &headers,
    )
    .await
}

/// Sends `bodies` all at once; the answers in the order of the bodies.
async fn post_all(
    app: &TestApp,
    secret: &str,
    bodies: &[(Value, Option<String>)],
) -> Vec<Response> {
    join_all(
        bodies
            .iter()
            .map(|(body, key)| post(app, secret, body, key.as_deref())),
    )
    .await
}

fn ids(answers: &[Response]) -> Vec<i64> {
    answers
        .iter()
        .map(|a| a.json()["id"].as_i64().unwrap())
        .collect()
}

backend_tests! {
    async fn intakes_sent_at_once_share_transactions_and_keep_one_audit_chain(db: TestDatabase) {
        let app = TestApp::new(db).await;
        add_desks(&app).await;
        let operator = app.session(Role::Operator).await;
        let texts = ["小区里有人打架", "老板拖欠我们三个月工资不给", "路灯坏了一个星期没人修"];
        let bodies: Vec<(Value, Option<String>)> = (0..24)
            .map(|i| {
                let body = json!({"source": "call_110", "text": texts[i % 3], "location_text": JINLI});
                (body, Some(format!("batch-{i}")))
            })
            .collect();
        // The station's receipt counter held by another transaction: the
        // writer's first batch waits for it, the other intakes queue behind
        // it, and once it is let go the next batch takes them all.
        let (batches_before, intakes_before) = app.state.intake.batches();
        let mut hold = app.db.store.begin().await.unwrap();
        let day = ReceiptDate::of(app.clock.now());
        hold.receipt_ranges(day, &[(app.world.station_a.id, 1)]).await.unwrap();
        let release = async {
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                let (_, taken) = app.state.intake.batches();
                if (taken - intakes_before) as usize + app.state.intake.queued() == bodies.len() {
                    break;
                }
                assert!(Instant::now() < deadline, "the intakes never reached the writer");
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            drop(hold);
        };
        let (answers, ()) = tokio::join!(post_all(&app, &operator, &bodies), release);
        for answer in &answers {
            assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
        }
        let (batches, _) = app.state.intake.batches();
        assert!(app.state.intake.largest_batch() >= 12);
        assert!(batches - batches_before <= 2, "{} transactions for 24 intakes", batches - batches_before);
        let mut distinct = ids(&answers);
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), 24);
        let mut receipts: Vec<String> = answers.iter().map(|a| a.json()["receipt_number"].as_str().unwrap().to_owned()).collect();
        receipts.sort();
        receipts.dedup();
        assert_eq!(receipts.len(), 24, "one receipt number each");

        // Each answer, built from what was written, is what a read returns.
        for answer in &answers {
            let created = answer.json();
            let read = app.request(Method::GET, &format!("/api/v1/incidents/{}", created["id"]), Some(&operator), None).await;
            let mut read = read.json();
            read.as_object_mut().unwrap().remove("org_names");
            assert_eq!(read, created);
        }
        let verified = app.db.store.verify_audit_chain().await.unwrap().expect("the chain verifies");
        assert!(verified >= 24, "{verified}");
    }

    async fn one_key_sent_many_times_at_once_makes_one_incident(db: TestDatabase) {
        let app = TestApp::new(db).await;
        add_desks(&app).await;
        let operator = app.session(Role::Operator).await;
        let same = json!({"source": "call_110", "text": "小区里有人打架", "location_text": JINLI});
        let mut bodies: Vec<(Value, Option<String>)> = (0..8).map(|_| (same.clone(), Some("retry-1".to_owned()))).collect();
        // Others in the same batches, each with its own key.
        bodies.extend((0..8).map(|i| (same.clone(), Some(format!("other-{i}")))));
        let answers = post_all(&app, &operator, &bodies).await;
        let (retries, others) = answers.split_at(8);
        let created = retries.iter().filter(|a| a.status == StatusCode::CREATED).count();
        assert_eq!(created, 1, "{:?}", retries.iter().map(|a| a.status).collect::<Vec<_>>());
        assert!(retries.iter().all(|a| a.status == StatusCode::OK || a.status == StatusCode::CREATED));
        let first = ids(retries);
        assert!(first.iter().all(|&id| id == first[0]), "{first:?}");
        assert!(others.iter().all(|a| a.status == StatusCode::CREATED));
        assert!(!ids(others).contains(&first[0]));
        let stored = app.db.store.incidents_within("/", 1000).await.unwrap();
        let ours = stored.iter().filter(|i| i.id != app.world.foreign_incident).count();
        assert_eq!(ours, 9);
    }

    async fn repeat_calls_of_one_batch_link_to_the_calls_before_them(db: TestDatabase) {
        let app = TestApp::new(db).await;
        add_desks(&app).await;
        let operator = app.session(Role::Operator).await;
        let bodies: Vec<(Value, Option<String>)> = NOISE
            .iter()
            .chain(NOISE.iter())
            .map(|text| (json!({"source": "call_110", "text": text, "location_text": JINLI}), None))
            .collect();
        let answers = post_all(&app, &operator, &bodies).await;
        assert!(answers.iter().all(|a| a.status == StatusCode::CREATED));
        let mut created: Vec<Value> = answers.iter().map(Response::json).collect();
        created.sort_by_key(|c| c["id"].as_i64());
        for (n, incident) in created.iter().enumerate() {
            let repeats: Vec<i64> = incident["repeats"].as_array().unwrap().iter().map(|r| r["incident_id"].as_i64().unwrap()).collect();
            let before: Vec<i64> = created[..n].iter().map(|c| c["id"].as_i64().unwrap()).collect();
            assert_eq!(repeats, before, "incident {n} repeats every call before it");
            // The writer's answer is what a read of the stored links says.
            let path = format!("/api/v1/incidents/{}", incident["id"]);
            let read = app.request(Method::GET, &path, Some(&operator), None).await.json();
            assert_eq!(read["repeats"], incident["repeats"], "incident {n}");
        }
        // The third call reached the threshold: one warning for the chain.
        let open = app.request(Method::GET, "/api/v1/warnings?status=open", Some(&operator), None).await.json();
        let repeat_warnings: Vec<&Value> = open.as_array().unwrap().iter()
            .filter(|w| w["rule"] == "repeat_call" && w["subject"]["kind"] == "address").collect();
        assert_eq!(repeat_warnings.len(), 1, "{open}");
        assert!(app.db.store.verify_audit_chain().await.unwrap().is_ok());
    }
}
