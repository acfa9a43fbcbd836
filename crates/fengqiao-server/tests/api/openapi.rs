//! The OpenAPI document is generated from the routes and served; every
//! operation in it is served, and no API route bypasses it.

use axum::http::{Method, StatusCode};
use fengqiao_server::jobs::Job;
use fengqiao_store::backend_tests;
use fengqiao_store::testing::TestDatabase;

use crate::authz::operations;
use crate::helpers::TestApp;

backend_tests! {
    async fn the_document_is_served_and_every_operation_answers(db: TestDatabase) {
        let app = TestApp::new(db).await;
        let response = app.request(Method::GET, "/api/openapi.json", None, None).await;
        assert_eq!(response.status, StatusCode::OK);
        let served = response.json();
        assert_eq!(served, serde_json::to_value(fengqiao_server::openapi()).unwrap());
        assert!(served["openapi"].as_str().unwrap().starts_with("3."));

        let (operations, _) = operations();
        assert!(operations.len() >= 18, "only {} operations documented", operations.len());
        for op in &operations {
            let path = op
                .path
                .replace("{org_id}", "1")
                .replace("{user_id}", "1")
                .replace("{token_id}", "1")
                .replace("{grid_id}", "1")
                .replace("{building_id}", "1");
            let response = app.request(op.method.clone(), &path, None, None).await;
            let expected = if op.public { "any answer but 404/405" } else { "401" };
            let ok = if op.public {
                response.status != StatusCode::NOT_FOUND && response.status != StatusCode::METHOD_NOT_ALLOWED
            } else {
                response.status == StatusCode::UNAUTHORIZED
            };
            assert!(ok, "{} {path}: expected {expected}, got {}", op.method, response.status);
        }
        for (method, path) in [("get", "/healthz"), ("get", "/readyz"), ("get", "/metrics"), ("post", "/api/v1/session")] {
            assert!(served["paths"][path][method].is_object(), "{method} {path} is not documented");
        }
    }

    async fn health_readiness_and_metrics_answer(db: TestDatabase) {
        let app = TestApp::new(db).await;
        assert_eq!(app.request(Method::GET, "/healthz", None, None).await.text, "ok");
        assert_eq!(app.request(Method::GET, "/readyz", None, None).await.text, "ready");
        let metrics = app.request(Method::GET, "/metrics", None, None).await;
        assert_eq!(metrics.status, StatusCode::OK);
        assert!(metrics.text.contains("fengqiao_http_requests_total"), "{}", metrics.text);
        // Each background job's runs show: when it last ran, and how.
        for job in Job::ALL {
            job.run_recorded(&app.state).await;
        }
        let metrics = app.request(Method::GET, "/metrics", None, None).await.text;
        for job in Job::ALL {
            let ran = format!("fengqiao_job_runs_total{{job=\"{}\",outcome=\"ok\"}}", job.name());
            let last = format!("fengqiao_job_last_success_timestamp_seconds{{job=\"{}\"}}", job.name());
            assert!(metrics.contains(&ran) && metrics.contains(&last), "{} not in\n{metrics}", job.name());
        }
        app.db.store.close().await;
        assert_eq!(app.request(Method::GET, "/readyz", None, None).await.status, StatusCode::SERVICE_UNAVAILABLE);
    }
}

/// API routes may only be added through `OpenApiRouter::routes`, which puts
/// them in the document. Only the document itself is routed by hand.
#[test]
fn no_api_route_bypasses_the_document() {
    let sources = [
        include_str!("../../src/app.rs"),
        include_str!("../../src/api/mod.rs"),
        include_str!("../../src/adapters/mod.rs"),
        include_str!("../../src/adapters/open311.rs"),
    ];
    for source in sources {
        for (i, line) in source.lines().enumerate() {
            if line.contains(".route(\"/api") {
                assert!(
                    line.contains("/api/openapi.json"),
                    "undocumented API route at line {}: {line}",
                    i + 1
                );
            }
        }
    }
}
