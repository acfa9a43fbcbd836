//! The audit log records what the foundation promises, and its chain
//! catches tampering.

use axum::http::{Method, StatusCode};
use fengqiao_core::role::Role;
use fengqiao_store::testing::TestDatabase;
use fengqiao_store::{backend_tests, Backend};

use crate::helpers::{username_of, TestApp, PASSWORD};

async fn all_entries(app: &TestApp) -> Vec<serde_json::Value> {
    let page = app.db.store.audit_entries(0, 10_000).await.unwrap();
    page.entries
        .iter()
        .map(|e| serde_json::to_value(e).unwrap())
        .collect()
}

fn has(entries: &[serde_json::Value], action: &str, outcome: &str) -> bool {
    entries
        .iter()
        .any(|e| e["action"] == action && e["outcome"] == outcome)
}

backend_tests! {
    async fn security_events_are_recorded_without_secrets(db: TestDatabase) {
        let app = TestApp::new(db).await;
        let user = username_of(Role::GridWorker);
        let wrong = "Wrong-Password-Typed";
        for _ in 0..5 {
            app.sign_in_as(&user, wrong).await;
        }
        let security = app.session(Role::SecurityAdministrator).await;
        let id = app.world.users[&Role::GridWorker];
        app.request(Method::POST, &format!("/api/v1/users/{id}/unlock"), Some(&security), None).await;
        let session = app.session(Role::GridWorker).await;
        app.request(Method::DELETE, "/api/v1/session", Some(&session), None).await;

        let entries = all_entries(&app).await;
        for (action, outcome) in [
            ("sign_in", "failure"),
            ("sign_in", "success"),
            ("account_locked", "success"),
            ("account_unlocked", "success"),
            ("sign_out", "success"),
            ("create", "success"),
        ] {
            assert!(has(&entries, action, outcome), "no {action}/{outcome} entry");
        }
        let text = serde_json::to_string(&entries).unwrap();
        assert!(!text.contains(wrong), "a typed password reached the audit log");
        assert!(!text.contains(PASSWORD));
        assert!(!text.contains(&session), "a session secret reached the audit log");
        let failure = entries.iter().find(|e| e["outcome"] == "failure").unwrap();
        assert_eq!(failure["detail"], "wrong_password");
        assert_eq!(failure["source"], "unknown", "oneshot requests have no socket address");
        // Milliseconds, UTC.
        assert!(failure["at"].as_i64().unwrap() >= crate::helpers::T0.millis());
    }

    async fn only_the_auditor_reads_the_log_and_reading_is_recorded(db: TestDatabase) {
        let app = TestApp::new(db).await;
        for role in Role::ALL.into_iter().filter(|r| *r != Role::Auditor) {
            let session = app.session(role).await;
            let response = app.request(Method::GET, "/api/v1/audit", Some(&session), None).await;
            assert_eq!(response.status, StatusCode::FORBIDDEN, "{role}");
        }
        let auditor = app.session(Role::Auditor).await;
        let response = app.request(Method::GET, "/api/v1/audit?limit=5", Some(&auditor), None).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text);
        assert_eq!(response.json()["entries"].as_array().unwrap().len(), 5);
        assert!(has(&all_entries(&app).await, "read_audit_log", "success"));
    }

    async fn the_api_reports_the_first_tampered_entry(db: TestDatabase) {
        let app = TestApp::new(db).await;
        let auditor = app.session(Role::Auditor).await;
        let report = app.request(Method::GET, "/api/v1/audit/verify", Some(&auditor), None).await.json();
        assert_eq!(report["intact"], true, "{report}");

        let drop_guard = match app.db.store.backend() {
            Backend::Sqlite => "DROP TRIGGER audit_log_no_update",
            Backend::Postgres => "DROP TRIGGER audit_log_append_only ON audit_log",
        };
        app.db.store.execute_raw_for_tests(drop_guard).await.unwrap();
        app.db
            .store
            .execute_raw_for_tests("UPDATE audit_log SET outcome = 'failure' WHERE seq = 3")
            .await
            .unwrap();
        let report = app.request(Method::GET, "/api/v1/audit/verify", Some(&auditor), None).await.json();
        assert_eq!(report["intact"], false);
        assert_eq!(report["broken_at"], 3);
    }
}
