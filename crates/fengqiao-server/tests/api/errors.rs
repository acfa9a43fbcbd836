//! Bad input gets a problem document that names the field, in the caller's
//! language, and changes nothing.

use axum::http::{Method, StatusCode};
use fengqiao_core::role::Role;
use fengqiao_store::backend_tests;
use fengqiao_store::testing::TestDatabase;
use serde_json::json;

use crate::helpers::TestApp;

backend_tests! {
    async fn malformed_bodies_name_the_field_in_chinese_by_default(db: TestDatabase) {
        let app = TestApp::new(db).await;
        let admin = app.session(Role::Administrator).await;
        let users_before = app.db.store.count_users().await.unwrap();
        let a = app.world.station_a.id;

        let wrong_type = json!({"username": "new.user", "password": "Password-2026", "org_id": "甲所", "roles": ["operator"]});
        let response = app.request(Method::POST, "/api/v1/users", Some(&admin), Some(&wrong_type)).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(response.headers["content-type"], "application/problem+json");
        let problem = response.json();
        assert_eq!(problem["status"], 422);
        assert_eq!(problem["title"], "输入有误");
        assert_eq!(problem["errors"][0]["field"], "org_id");
        assert_eq!(problem["errors"][0]["reason"], "应为整数");

        let missing = json!({"username": "new.user", "org_id": a, "roles": ["operator"]});
        let problem = app.request(Method::POST, "/api/v1/users", Some(&admin), Some(&missing)).await.json();
        assert_eq!(problem["errors"][0]["field"], "password");
        assert_eq!(problem["errors"][0]["reason"], "必填");

        // Several domain problems are reported together.
        let invalid = json!({"username": "新", "password": "short", "org_id": a, "roles": ["chief"]});
        let problem = app.request(Method::POST, "/api/v1/users", Some(&admin), Some(&invalid)).await.json();
        let fields: Vec<&str> = problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["username", "password", "roles"]);
        assert_eq!(problem["errors"][1]["reason"], "至少 8 个字符");

        let syntax = app
            .raw(Method::POST, "/api/v1/users", Some(&admin), Some("{\"username\": ".into()), &[("content-type", "application/json")])
            .await;
        assert_eq!(syntax.status, StatusCode::BAD_REQUEST);
        assert_eq!(syntax.json()["errors"][0]["field"], "body");
        let not_json = app
            .raw(Method::POST, "/api/v1/users", Some(&admin), Some("username=x".into()), &[("content-type", "application/x-www-form-urlencoded")])
            .await;
        assert_eq!(not_json.status, StatusCode::BAD_REQUEST);

        assert_eq!(app.db.store.count_users().await.unwrap(), users_before, "refused input changed nothing");
    }

    async fn english_on_request(db: TestDatabase) {
        let app = TestApp::new(db).await;
        let response = app
            .raw(Method::POST, "/api/v1/session", None, Some("{\"username\": 7}".into()),
                 &[("content-type", "application/json"), ("accept-language", "en-GB,en;q=0.9")])
            .await;
        let problem = response.json();
        assert_eq!(problem["title"], "Invalid input");
        assert_eq!(problem["errors"][0]["field"], "username");
        assert_eq!(problem["errors"][0]["reason"], "must be text");
        let unknown = app.raw(Method::GET, "/api/v1/nothing-here", None, None, &[("accept-language", "fr, en;q=0.5")]).await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND);
        assert_eq!(unknown.json()["title"], "Not found");
    }

    async fn duplicate_usernames_are_refused_by_field(db: TestDatabase) {
        let app = TestApp::new(db).await;
        let admin = app.session(Role::Administrator).await;
        let body = json!({"username": "a.operator", "password": "Password-2026", "org_id": app.world.station_a.id, "roles": ["operator"]});
        let response = app.request(Method::POST, "/api/v1/users", Some(&admin), Some(&body)).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(response.json()["errors"][0]["field"], "username");
        assert_eq!(response.json()["errors"][0]["reason"], "已存在");
    }
}
