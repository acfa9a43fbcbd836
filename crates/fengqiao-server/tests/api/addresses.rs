//! Address resolution against the registry, grids and their responsibility.

use axum::http::{Method, StatusCode};
use fengqiao_core::role::Role;
use fengqiao_store::backend_tests;
use fengqiao_store::testing::TestDatabase;
use serde_json::json;

use crate::helpers::{add_account, TestApp};

backend_tests! {
    async fn an_address_resolves_to_its_building_room_and_grid(db: TestDatabase) {
        let app = TestApp::new(db).await;
        let admin = app.session(Role::Administrator).await;
        let a = app.world.station_a.id;
        let officer = app.world.users[&Role::CommunityOfficer];
        let worker = app.world.users[&Role::GridWorker];
        let grid = app.world.own_grid;
        let body = json!({"station_org_id": a, "officer_user_id": officer, "grid_worker_ids": [worker]});
        let response = app.request(Method::PUT, &format!("/api/v1/grids/{grid}/responsibility"), Some(&admin), Some(&body)).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text);
        assert_eq!(response.json()["grid_worker_ids"], json!([worker]));
        let audit = app.db.store.audit_entries(0, 1000).await.unwrap().entries;
        assert!(audit.iter().any(|e| e.object_type == "grid" && e.detail.as_deref() == Some("responsibility")));

        let operator = app.session(Role::Operator).await;
        let q = "成都武侯区浆洗街锦里小区三幢2单元501室";
        let response = app
            .request(Method::GET, &format!("/api/v1/addresses/resolve?q={}", urlencode(q)), Some(&operator), None)
            .await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text);
        let found = response.json();
        assert_eq!(found["county_code"], "510107");
        assert_eq!(found["township_code"], "510107001");
        let registry = &found["registry"];
        assert_eq!(registry["building_id"], app.world.own_building.id, "{found}");
        assert_eq!(registry["plate_code"], app.world.own_building.plate_code.as_str());
        assert_eq!(registry["room"]["room"], "501");
        assert_eq!(registry["grid"]["station"]["name"], "浆洗街派出所");
        assert_eq!(registry["grid"]["officer"]["id"], officer);
        assert_eq!(registry["grid"]["officer"]["name"], "测**", "names are masked");
        assert_eq!(registry["grid"]["grid_workers"][0]["id"], worker);
    }

    async fn the_registry_answers_only_within_the_jurisdiction(db: TestDatabase) {
        let app = TestApp::new(db).await;
        let q = urlencode("成都市武侯区望江路街道望江小区1栋1单元101");
        let operator = app.session(Role::Operator).await;
        let response = app.request(Method::GET, &format!("/api/v1/addresses/resolve?q={q}"), Some(&operator), None).await;
        assert_eq!(response.status, StatusCode::OK);
        assert_eq!(response.json()["township_code"], "510107004", "the text still resolves");
        assert!(response.json()["registry"].is_null(), "but station A does not see B's building");

        // The county sees both streets.
        add_account(&app.state, "county.operator", app.world.county.id, Role::Operator).await;
        let county = app.sign_in_as("county.operator", crate::helpers::PASSWORD).await.session_cookie().unwrap();
        let response = app.request(Method::GET, &format!("/api/v1/addresses/resolve?q={q}"), Some(&county), None).await;
        assert_eq!(response.json()["registry"]["building_id"], app.world.foreign_building.id);
    }

    async fn a_compound_named_without_its_district_is_found_within_the_jurisdiction(db: TestDatabase) {
        let app = TestApp::new(db).await;
        // As a caller says it at the desk: no city, district or street.
        let q = urlencode("锦里小区3栋");
        let path = format!("/api/v1/addresses/resolve?q={q}");
        let operator = app.session(Role::Operator).await;
        let response = app.request(Method::GET, &path, Some(&operator), None).await;
        assert_eq!(response.json()["registry"]["building_id"], app.world.own_building.id);
        // Station B's operator searches the same registry and sees nothing
        // of station A's.
        add_account(&app.state, "b.operator", app.world.station_b.id, Role::Operator).await;
        let b = app.sign_in_as("b.operator", crate::helpers::PASSWORD).await.session_cookie().unwrap();
        let response = app.request(Method::GET, &path, Some(&b), None).await;
        assert!(response.json()["registry"].is_null(), "{}", response.text);
    }

    async fn responsibility_needs_the_right_people(db: TestDatabase) {
        let app = TestApp::new(db).await;
        let admin = app.session(Role::Administrator).await;
        let grid = app.world.own_grid;
        let auditor = app.world.users[&Role::Auditor];
        let body = json!({"station_org_id": app.world.station_a.id, "officer_user_id": auditor, "grid_worker_ids": [999999]});
        let response = app.request(Method::PUT, &format!("/api/v1/grids/{grid}/responsibility"), Some(&admin), Some(&body)).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
        let fields: Vec<String> = response.json()["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_owned()).collect();
        assert_eq!(fields, ["officer_user_id", "grid_worker_ids[0]"]);
        assert!(app.db.store.grid(grid).await.unwrap().unwrap().officer_user_id.is_none(), "nothing changed");
    }

    async fn a_building_plate_opens_its_report_page(db: TestDatabase) {
        let app = TestApp::new(db).await;
        let operator = app.session(Role::Operator).await;
        let building = &app.world.own_building;
        let url = format!("http://127.0.0.1:8080/r/{}", building.plate_code);

        let svg = app.request(Method::GET, &format!("/api/v1/buildings/{}/plate.svg", building.id), Some(&operator), None).await;
        assert_eq!(svg.status, StatusCode::OK);
        assert!(svg.headers["content-type"].to_str().unwrap().starts_with("image/svg+xml"));
        assert!(svg.text.contains("锦里小区"), "the plate carries the address");
        assert!(svg.text.contains("浆洗街街道"));
        assert!(svg.text.contains(&building.plate_code));

        let png = app.request(Method::GET, &format!("/api/v1/buildings/{}/plate.png", building.id), Some(&operator), None).await;
        assert_eq!(png.status, StatusCode::OK);
        let mut decoder = png::Decoder::new(std::io::Cursor::new(png.bytes.clone()));
        // One bit per pixel as served; expanded to a byte for scanning.
        decoder.set_transformations(png::Transformations::EXPAND);
        let mut reader = decoder.read_info().unwrap();
        let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
        let frame = reader.next_frame(&mut pixels).unwrap();
        let (width, height) = (frame.width as usize, frame.height as usize);
        let decoded = fengqiao_plates::scan::decode_grey(width, height, |x, y| pixels[y * frame.line_size + x]);
        assert_eq!(decoded, vec![url]);
    }

    async fn resolve_needs_a_query(db: TestDatabase) {
        let app = TestApp::new(db).await;
        let operator = app.session(Role::Operator).await;
        let response = app.request(Method::GET, "/api/v1/addresses/resolve", Some(&operator), None).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(response.json()["errors"][0]["field"], "q");
    }
}

pub fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
