//! Personal data: canary values go in through the API and are then looked
//! for everywhere they must not be — logs, error bodies, audit entries and
//! the database itself.

use std::io::Write;
use std::sync::{Mutex, OnceLock};

use axum::http::{Method, StatusCode};
use fengqiao_core::role::Role;
use fengqiao_store::testing::TestDatabase;
use fengqiao_store::{backend_tests, Backend};
use serde_json::json;

use crate::helpers::TestApp;

const CANARY_NAME: &str = "钟馗金丝雀";
const CANARY_PHONE: &str = "13912345678";
const CANARY_BAD_PHONE: &str = "1391234567999";

/// Everything the process logs while these tests run, at every level.
fn captured_logs() -> &'static Mutex<Vec<u8>> {
    static LOGS: OnceLock<&'static Mutex<Vec<u8>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer: &'static Mutex<Vec<u8>> = Box::leak(Box::new(Mutex::new(Vec::new())));
        struct Sink(&'static Mutex<Vec<u8>>);
        impl Write for Sink {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(bytes);
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || Sink(buffer))
            .try_init();
        buffer
    })
}

fn hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

fn assert_no_canary(place: &str, text: &str) {
    for canary in [CANARY_NAME, CANARY_PHONE, CANARY_BAD_PHONE] {
        assert!(!text.contains(canary), "{canary} in plain text in {place}");
        assert!(
            !text.contains(&hex(canary)),
            "{canary} hex-encoded in {place}"
        );
    }
}

backend_tests! {
    async fn canaries_never_appear_in_plain_text(db: TestDatabase) {
        let logs = captured_logs();
        let app = TestApp::new(db).await;
        let admin = app.session(Role::Administrator).await;
        let a = app.world.station_a.id;

        let body = json!({"username": "canary.user", "password": "Canary-2026!", "org_id": a,
                          "roles": ["grid_worker"], "full_name": CANARY_NAME, "phone": CANARY_PHONE});
        let created = app.request(Method::POST, "/api/v1/users", Some(&admin), Some(&body)).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        assert_eq!(created.json()["phone"], "139****5678");
        assert_eq!(created.json()["full_name"], "钟****");
        let id = created.json()["id"].as_i64().unwrap();

        let mut responses = vec![created.text.clone()];
        responses.push(app.request(Method::GET, &format!("/api/v1/users/{id}"), Some(&admin), None).await.text);
        responses.push(app.request(Method::GET, "/api/v1/users", Some(&admin), None).await.text);
        responses.push(app.raw(Method::GET, "/", Some(&admin), None, &[]).await.text);
        // Refused input that carries personal data is not echoed back.
        let bad = json!({"username": "canary.two", "password": "Canary-2026!", "org_id": a,
                         "roles": ["grid_worker"], "full_name": CANARY_NAME, "phone": CANARY_BAD_PHONE});
        let refused = app.request(Method::POST, "/api/v1/users", Some(&admin), Some(&bad)).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(refused.json()["errors"][0]["field"], "phone");
        responses.push(refused.text);
        let wrong_type = format!(r#"{{"username": "canary.three", "phone": {CANARY_PHONE}}}"#);
        responses.push(app.raw(Method::POST, "/api/v1/users", Some(&admin), Some(wrong_type), &[("content-type", "application/json")]).await.text);
        for (i, text) in responses.iter().enumerate() {
            assert_no_canary(&format!("response {i}"), text);
        }

        // The one way to see the values: a permitted role, a reason, an audit entry.
        let chief = app.session(Role::StationChief).await;
        let reveal = json!({"reason": "回访核实身份"});
        let path = format!("/api/v1/users/{id}/personal-data");
        let shown = app.request(Method::POST, &path, Some(&chief), Some(&reveal)).await;
        assert_eq!(shown.status, StatusCode::OK, "{}", shown.text);
        assert_eq!(shown.json()["phone"], CANARY_PHONE);
        let operator = app.session(Role::AuxiliaryOfficer).await;
        assert_eq!(app.request(Method::POST, &path, Some(&operator), Some(&reveal)).await.status, StatusCode::FORBIDDEN);
        let no_reason = app.request(Method::POST, &path, Some(&chief), Some(&json!({"reason": " "}))).await;
        assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);

        let audit = app.db.store.audit_entries(0, 10_000).await.unwrap().entries;
        let views: Vec<_> = audit.iter().filter(|e| e.action == "view_personal_data").collect();
        assert_eq!(views.len(), 1, "exactly one unmasked view, audited");
        assert_eq!(views[0].detail.as_deref(), Some("回访核实身份"));
        assert_no_canary("the audit log", &serde_json::to_string(&audit).unwrap());

        for table in ["users", "audit_log", "sessions", "organisations", "api_tokens", "sign_in_failures"] {
            let text = app.db.store.table_text_for_tests(table).await.unwrap();
            assert_no_canary(&format!("table {table}"), &text);
        }
        if app.db.store.backend() == Backend::Sqlite {
            let path = app.db.url.trim_start_matches("sqlite://").to_owned();
            for file in [path.clone(), format!("{path}-wal")] {
                if let Ok(bytes) = std::fs::read(&file) {
                    assert_no_canary(&file, &String::from_utf8_lossy(&bytes));
                }
            }
        }
        assert_no_canary("the logs", &String::from_utf8_lossy(&logs.lock().unwrap()));
    }
}
