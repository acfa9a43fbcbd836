//! Sign-in, session rotation, idle expiry, sign-out and the lock after
//! repeated failures — including across a restart.

use axum::http::{Method, StatusCode};
use fengqiao_core::role::Role;
use fengqiao_store::backend_tests;
use fengqiao_store::testing::TestDatabase;

use crate::helpers::{username_of, TestApp, PASSWORD};

backend_tests! {
    async fn sign_in_sets_a_strict_http_only_cookie(db: TestDatabase) {
        let app = TestApp::new(db).await;
        let response = app.sign_in_as(&username_of(Role::Operator), PASSWORD).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text);
        let cookie = response.headers.get("set-cookie").unwrap().to_str().unwrap();
        assert!(cookie.contains("HttpOnly"), "{cookie}");
        assert!(cookie.contains("SameSite=Strict"), "{cookie}");
        assert!(!cookie.contains("Secure"), "plain HTTP: no Secure flag: {cookie}");
        let me = response.json();
        assert_eq!(me["org_name"], "浆洗街派出所");
        assert_eq!(me["roles"], serde_json::json!(["operator"]));
    }

    async fn a_new_session_id_at_every_sign_in(db: TestDatabase) {
        let app = TestApp::new(db).await;
        let first = app.session(Role::Operator).await;
        // Signing in again while holding a session replaces it.
        let response = app
            .raw(
                Method::POST,
                "/api/v1/session",
                Some(&first),
                Some(serde_json::json!({"username": username_of(Role::Operator), "password": PASSWORD}).to_string()),
                &[],
            )
            .await;
        assert_eq!(response.status, StatusCode::OK);
        let second = response.session_cookie().unwrap();
        assert_ne!(first, second);
        let old = app.request(Method::GET, "/api/v1/me", Some(&first), None).await;
        assert_eq!(old.status, StatusCode::UNAUTHORIZED, "the old session id no longer works");
        let new = app.request(Method::GET, "/api/v1/me", Some(&second), None).await;
        assert_eq!(new.status, StatusCode::OK);
    }

    async fn sessions_end_after_thirty_idle_minutes(db: TestDatabase) {
        let app = TestApp::new(db).await;
        let session = app.session(Role::Operator).await;
        app.clock.advance_minutes(29);
        assert_eq!(app.request(Method::GET, "/api/v1/me", Some(&session), None).await.status, StatusCode::OK);
        // Activity moved the idle window: 29 more minutes are still fine.
        app.clock.advance_minutes(29);
        assert_eq!(app.request(Method::GET, "/api/v1/me", Some(&session), None).await.status, StatusCode::OK);
        app.clock.advance_minutes(30);
        let expired = app.request(Method::GET, "/api/v1/me", Some(&session), None).await;
        assert_eq!(expired.status, StatusCode::UNAUTHORIZED);
        // Gone on the server, not merely refused once.
        app.clock.advance_minutes(-60);
        assert_eq!(app.request(Method::GET, "/api/v1/me", Some(&session), None).await.status, StatusCode::UNAUTHORIZED);
    }

    async fn sign_out_ends_the_session_on_the_server(db: TestDatabase) {
        let app = TestApp::new(db).await;
        let session = app.session(Role::GridWorker).await;
        let response = app.request(Method::DELETE, "/api/v1/session", Some(&session), None).await;
        assert_eq!(response.status, StatusCode::NO_CONTENT);
        assert!(response.headers.get("set-cookie").unwrap().to_str().unwrap().contains("Max-Age=0"));
        let after = app.request(Method::GET, "/api/v1/me", Some(&session), None).await;
        assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    }

    async fn five_failures_lock_the_account_across_a_restart(db: TestDatabase) {
        let mut app = TestApp::new(db).await;
        let victim = username_of(Role::CommunityOfficer);
        for _ in 0..4 {
            let response = app.sign_in_as(&victim, "wrong-password").await;
            assert_eq!(response.status, StatusCode::UNAUTHORIZED);
        }
        app.restart().await;
        // The fifth failure, after the restart, still counts and locks.
        let response = app.sign_in_as(&victim, "wrong-password").await;
        assert_eq!(response.status, StatusCode::LOCKED, "{}", response.text);
        assert_eq!(response.json()["title"], "账号已锁定");

        app.restart().await;
        let response = app.sign_in_as(&victim, PASSWORD).await;
        assert_eq!(response.status, StatusCode::LOCKED, "the lock survives a restart");

        // Only an administrator's unlock lifts it.
        let security = app.session(Role::SecurityAdministrator).await;
        let id = app.world.users[&Role::CommunityOfficer];
        let response = app.request(Method::POST, &format!("/api/v1/users/{id}/unlock"), Some(&security), None).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text);
        assert_eq!(app.sign_in_as(&victim, PASSWORD).await.status, StatusCode::OK);
    }

    async fn failures_outside_fifteen_minutes_do_not_lock(db: TestDatabase) {
        let app = TestApp::new(db).await;
        let user = username_of(Role::GridWorker);
        for _ in 0..4 {
            assert_eq!(app.sign_in_as(&user, "wrong-password").await.status, StatusCode::UNAUTHORIZED);
        }
        app.clock.advance_minutes(16);
        assert_eq!(app.sign_in_as(&user, "wrong-password").await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(app.sign_in_as(&user, PASSWORD).await.status, StatusCode::OK);
    }

    async fn unknown_accounts_and_wrong_passwords_look_alike(db: TestDatabase) {
        let app = TestApp::new(db).await;
        let unknown = app.sign_in_as("nobody.here", "whatever-123").await;
        let wrong = app.sign_in_as(&username_of(Role::Operator), "whatever-123").await;
        assert_eq!(unknown.status, wrong.status);
        assert_eq!(unknown.text, wrong.text);
    }

    async fn disabling_an_account_ends_its_sessions(db: TestDatabase) {
        let app = TestApp::new(db).await;
        let officer = app.session(Role::CommunityOfficer).await;
        let admin = app.session(Role::Administrator).await;
        let id = app.world.users[&Role::CommunityOfficer];
        let body = serde_json::json!({"disabled": true});
        let response = app.request(Method::PATCH, &format!("/api/v1/users/{id}"), Some(&admin), Some(&body)).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text);
        assert_eq!(app.request(Method::GET, "/api/v1/me", Some(&officer), None).await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(app.sign_in_as(&username_of(Role::CommunityOfficer), PASSWORD).await.status, StatusCode::UNAUTHORIZED);
    }

    async fn revoked_tokens_stop_working(db: TestDatabase) {
        let app = TestApp::new(db).await;
        let token = app.world.token_a_secret.clone();
        assert_eq!(app.request(Method::GET, "/api/v1/organisations", Some(&token), None).await.status, StatusCode::OK);
        // A token cannot do what its permissions do not name.
        assert_eq!(app.request(Method::GET, "/api/v1/users", Some(&token), None).await.status, StatusCode::FORBIDDEN);
        let admin = app.session(Role::Administrator).await;
        let tokens = app.request(Method::GET, "/api/v1/tokens", Some(&admin), None).await.json();
        let id = tokens[0]["id"].as_i64().unwrap();
        let response = app.request(Method::DELETE, &format!("/api/v1/tokens/{id}"), Some(&admin), None).await;
        assert_eq!(response.status, StatusCode::NO_CONTENT);
        assert_eq!(app.request(Method::GET, "/api/v1/organisations", Some(&token), None).await.status, StatusCode::UNAUTHORIZED);
    }
}
