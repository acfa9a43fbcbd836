//! A test server: the real router over a real test database (SQLite, or a
//! fresh PostgreSQL schema), a manual clock, and a small world of two
//! stations under one county with an account for every role in station A.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Method, StatusCode};
use fengqiao_address::registry::{AddressRecord, RawAddressRecord};
use fengqiao_core::audit::{Actor, AuditAction, AuditEvent};
use fengqiao_core::category::Category;
use fengqiao_core::china_time::ChinaDay;
use fengqiao_core::field_report::{FieldReportInput, NewFieldReport, ReportPlace};
use fengqiao_core::incident::{
    Group, Incident, IncidentInput, NewIncident, Priority, Triage as IncidentTriage, TriagedBy,
};
use fengqiao_core::org::{DivisionCode, NewOrganisation, OrgKind, Organisation};
use fengqiao_core::personal::{PersonalData, PersonalDataCipher};
use fengqiao_core::receipt::{ReceiptDate, ReceiptNumber, StationCode};
use fengqiao_core::repeat_call::{RepeatCallPolicy, RepeatCallWarning};
use fengqiao_core::role::{Permission, Role, Roles};
use fengqiao_core::secret::{self, API_TOKEN_PREFIX};
use fengqiao_core::task::{Assignee, AssigneeRole, NewTask, TaskKind};
use fengqiao_core::unit::{CallSign, Position, UnitKind};
use fengqiao_core::user::{Password, PasswordHashing, Username};
use fengqiao_core::warning::NewWarning;
use fengqiao_core::work_order::{DeadlinePolicy, HandlingNote, NewWorkOrder};
use fengqiao_core::{ManualClock, Timestamp};
use fengqiao_server::client::{self, Client};
use fengqiao_server::services::accounts::{self, NewAccount};
use fengqiao_server::{AppState, ServerSettings};
use fengqiao_store::testing::{two_stations, TestDatabase, TwoStations};
use fengqiao_store::{Building, IncidentExtras, NewReinforcement, NewUnit, PositionReport, Store};
use http_body_util::BodyExt;
use serde_json::Value;

pub const T0: Timestamp = Timestamp(1_764_000_000_000);
pub const PASSWORD: &str = "枫桥经验-2026";

pub struct TestApp {
    pub db: TestDatabase,
    pub state: AppState,
    pub clock: Arc<ManualClock>,
    pub key_hex: String,
    pub world: World,
}

pub struct World {
    pub county: Organisation,
    pub station_a: Organisation,
    pub station_b: Organisation,
    /// One account per role in station A (separated duties at the county
    /// would see B; they sit in A to probe A's limits).
    pub users: HashMap<Role, i64>,
    pub foreign_user: i64,
    pub foreign_token: i64,
    /// 锦里小区3栋 in station A's street, 望江小区1栋 in station B's.
    pub own_building: Building,
    pub foreign_building: Building,
    pub own_grid: i64,
    pub foreign_grid: i64,
    pub token_a_secret: String,
    /// A fight in 望江小区, received by station B and sent to its desk.
    pub foreign_incident: i64,
    /// A work order of that incident, from station B to station B.
    pub foreign_work_order: i64,
    /// A repeat-call warning on 望江小区1栋 for station B.
    pub foreign_warning: i64,
    /// A dispute case of station B at 望江小区1栋.
    pub foreign_dispute: i64,
    /// A field report with a photo on 望江小区1栋, filed in station B.
    pub foreign_field_report: i64,
    /// A routine visit of 望江小区1栋 on the list of station B's user.
    pub foreign_task: i64,
    /// A patrol car of station B with a position, available.
    pub foreign_unit: i64,
    /// Station B's request to its own war zone for the foreign incident.
    pub foreign_reinforcement: i64,
}

pub struct Response {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub text: String,
    pub bytes: Vec<u8>,
}

impl Response {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|_| panic!("not JSON: {}", self.text))
    }

    pub fn session_cookie(&self) -> Option<String> {
        self.cookie("fq_session")
    }

    /// The value the answer sets for cookie `name`, unless it clears it.
    pub fn cookie(&self, name: &str) -> Option<String> {
        client::set_cookie(&self.headers, name)
    }
}

pub fn username_of(role: Role) -> String {
    format!("a.{}", role.as_str().replace('_', "-"))
}

impl TestApp {
    pub async fn new(db: TestDatabase) -> TestApp {
        let key_hex = PersonalDataCipher::generate_key_hex();
        Self::with_key(db, key_hex).await
    }

    async fn with_key(db: TestDatabase, key_hex: String) -> TestApp {
        let clock = Arc::new(ManualClock::new(T0));
        let state = state_for(&db.store, &key_hex, clock.clone());
        let world = build_world(&state).await;
        TestApp {
            db,
            state,
            clock,
            key_hex,
            world,
        }
    }

    /// The same server with other settings, e.g. another repeat-call policy.
    pub fn set_settings(&mut self, settings: ServerSettings) {
        self.state = AppState::new(
            self.db.store.clone(),
            PersonalDataCipher::from_hex(&self.key_hex).unwrap(),
            self.clock.clone(),
            PasswordHashing::fast_for_tests(),
            settings,
        );
    }

    /// A server process started anew on the same database: nothing is kept
    /// in memory from the one before.
    pub async fn restart(&mut self) {
        self.db.store.close().await;
        let store = Store::connect(&self.db.url).await.unwrap();
        self.state = state_for(&store, &self.key_hex, self.clock.clone());
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        session: Option<&str>,
        body: Option<&Value>,
    ) -> Response {
        self.raw(method, path, session, body.map(|b| b.to_string()), &[])
            .await
    }

    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        session: Option<&str>,
        body: Option<String>,
        headers: &[(&str, &str)],
    ) -> Response {
        let mut request = self.client().request(method, path).auth_opt(session);
        if let Some(body) = body {
            request = request.json_text(body);
        }
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let response = request.open().await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = if is_event_stream(&headers) {
            // A live stream never ends: keep what it sends on opening.
            let mut body = response.into_body();
            let first = tokio::time::timeout(Duration::from_secs(5), body.frame())
                .await
                .expect("an event stream opens at once");
            first
                .and_then(|frame| frame.ok()?.into_data().ok())
                .unwrap_or_default()
        } else {
            response.into_body().collect().await.unwrap().to_bytes()
        };
        Response {
            status,
            headers,
            text: String::from_utf8_lossy(&bytes).into_owned(),
            bytes: bytes.to_vec(),
        }
    }

    /// The in-process client of this server as it is now (its settings,
    /// its store after a restart).
    pub fn client(&self) -> Client {
        Client::new(self.state.clone())
    }

    /// Opens `/api/v1/live` and returns the stream, already subscribed.
    pub async fn subscribe(&self, session: &str) -> EventStream {
        let response = self
            .client()
            .get("/api/v1/live")
            .auth(session)
            .open()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(is_event_stream(response.headers()));
        EventStream {
            body: response.into_body(),
            pending: String::new(),
            ended: false,
        }
    }

    pub async fn sign_in_as(&self, username: &str, password: &str) -> Response {
        let body = serde_json::json!({ "username": username, "password": password });
        self.request(Method::POST, "/api/v1/session", None, Some(&body))
            .await
    }

    /// Signs in and returns the session secret.
    pub async fn session(&self, role: Role) -> String {
        let response = self.sign_in_as(&username_of(role), PASSWORD).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text);
        response.session_cookie().expect("session cookie")
    }
}

fn is_event_stream(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"))
}

/// One server-sent event: its name (`message` unless named) and data.
#[derive(Debug, PartialEq)]
pub struct ServerEvent {
    pub name: String,
    pub data: String,
}

/// An open `/api/v1/live` response, read event by event.
pub struct EventStream {
    body: Body,
    pending: String,
    ended: bool,
}

impl EventStream {
    /// Whether the server ended the response.
    pub fn ended(&self) -> bool {
        self.ended
    }

    /// The next event, skipping comments; `None` when nothing comes within
    /// `wait` or the stream ended.
    pub async fn next(&mut self, wait: Duration) -> Option<ServerEvent> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            while let Some(end) = self.pending.find("\n\n") {
                let block: String = self.pending.drain(..end + 2).collect();
                let mut event = ServerEvent {
                    name: "message".into(),
                    data: String::new(),
                };
                let mut is_event = false;
                for line in block.lines() {
                    if let Some(name) = line.strip_prefix("event:") {
                        event.name = name.trim().into();
                        is_event = true;
                    } else if let Some(data) = line.strip_prefix("data:") {
                        event.data.push_str(data.strip_prefix(' ').unwrap_or(data));
                        is_event = true;
                    }
                }
                if is_event {
                    return Some(event);
                }
            }
            let Some(frame) = tokio::time::timeout_at(deadline, self.body.frame())
                .await
                .ok()?
            else {
                self.ended = true;
                return None;
            };
            let frame = frame.ok()?;
            if let Ok(data) = frame.into_data() {
                self.pending.push_str(&String::from_utf8_lossy(&data));
            }
        }
    }
}

fn state_for(store: &Store, key_hex: &str, clock: Arc<ManualClock>) -> AppState {
    AppState::new(
        store.clone(),
        PersonalDataCipher::from_hex(key_hex).unwrap(),
        clock,
        PasswordHashing::fast_for_tests(),
        ServerSettings::default(),
    )
}

pub fn new_org(parent: Option<i64>, kind: OrgKind, name: &str, code: &str) -> NewOrganisation {
    NewOrganisation {
        parent_id: parent,
        kind,
        department_type: None,
        name: name.into(),
        division_codes: vec![DivisionCode::parse(code).unwrap()],
    }
}

pub async fn add_account(state: &AppState, username: &str, org_id: i64, role: Role) -> i64 {
    let account = NewAccount {
        username: Username::parse(username).unwrap(),
        password: Password::parse(PASSWORD).unwrap(),
        org_id,
        roles: Roles::new([role]).unwrap(),
        full_name: Some(PersonalData::name("full_name", "测试员").unwrap()),
        phone: None,
    };
    let by = AuditEvent::new(Actor::System, AuditAction::Create, "user").org(Some(org_id));
    accounts::create(state, account, by).await.unwrap()
}

async fn build_world(state: &AppState) -> World {
    let store = &state.store;
    let TwoStations {
        county,
        station_a,
        station_b,
    } = two_stations(store, T0).await;
    let mut tx = store.begin().await.unwrap();
    let permissions = [Permission::ViewOrganisations].into();
    let token_a = secret::generate(API_TOKEN_PREFIX);
    tx.insert_api_token(
        "甲所接警系统",
        station_a.id,
        &permissions,
        &token_a.hash,
        "system",
        T0,
    )
    .await
    .unwrap();
    let token_b = secret::generate(API_TOKEN_PREFIX);
    let foreign_token = tx
        .insert_api_token(
            "乙所接警系统",
            station_b.id,
            &permissions,
            &token_b.hash,
            "system",
            T0,
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut users = HashMap::new();
    for role in Role::ALL {
        let id = add_account(state, &username_of(role), station_a.id, role).await;
        users.insert(role, id);
    }
    let foreign_user = add_account(state, "foreign.user", station_b.id, Role::Operator).await;
    let (own_grid, own_building) =
        add_building(store, "510107001001", "锦里小区", "3栋", "2单元", "501").await;
    let (foreign_grid, foreign_building) =
        add_building(store, "510107004001", "望江小区", "1栋", "1单元", "101").await;
    let foreign_incident = add_incident(store, &station_b, foreign_user).await;
    let foreign_work_order =
        add_work_order(store, foreign_incident, station_b.id, station_b.id).await;
    let foreign_warning =
        add_warning(store, &station_b, foreign_building.id, foreign_incident).await;
    let foreign_dispute = add_dispute(store, &station_b, Some(foreign_building.id)).await;
    let foreign_field_report =
        add_field_report(store, &station_b, &foreign_building, foreign_user).await;
    let foreign_task = add_visit_task(store, &station_b, foreign_user, foreign_building.id).await;
    let foreign_unit = add_unit(store, station_b.id, "望江巡1", 30.6436, 104.0766).await;
    let foreign_reinforcement =
        add_foreign_reinforcement(store, &county, &station_b, foreign_incident, foreign_unit).await;
    World {
        county,
        station_a,
        station_b,
        users,
        foreign_user,
        foreign_token,
        token_a_secret: token_a.text,
        own_building,
        foreign_building,
        own_grid,
        foreign_grid,
        foreign_incident,
        foreign_work_order,
        foreign_warning,
        foreign_field_report,
        foreign_task,
        foreign_dispute,
        foreign_unit,
        foreign_reinforcement,
    }
}

/// An available patrol car of `org_id` standing at (lat, lon).
pub async fn add_unit(store: &Store, org_id: i64, call_sign: &str, lat: f64, lon: f64) -> i64 {
    let mut tx = store.begin().await.unwrap();
    let new = NewUnit {
        org_id,
        call_sign: CallSign::parse(call_sign).unwrap(),
        kind: UnitKind::PatrolCar,
    };
    let id = tx.insert_unit(&new, T0).await.unwrap();
    tx.record_positions(&[PositionReport {
        unit_id: id,
        at: T0,
        position: Position::parse(lat, lon).unwrap(),
    }])
    .await
    .unwrap();
    tx.commit().await.unwrap();
    id
}

/// A war zone of station B alone, and B's request to it.
async fn add_foreign_reinforcement(
    store: &Store,
    county: &Organisation,
    station_b: &Organisation,
    incident: i64,
    unit: i64,
) -> i64 {
    let mut tx = store.begin().await.unwrap();
    let zone = tx
        .insert_organisation(
            &new_org(Some(county.id), OrgKind::WarZone, "乙所战区", "510107004"),
            T0,
        )
        .await
        .unwrap();
    let new = NewReinforcement {
        incident_id: incident,
        station_org_id: station_b.id,
        war_zone_org_id: zone.id,
        unit_ids: vec![unit],
        reason: HandlingNote::parse("reason", "乙所警力不足").unwrap(),
        requested_by: Actor::System,
    };
    let id = tx.insert_reinforcement(&new, T0).await.unwrap();
    tx.commit().await.unwrap();
    id
}

/// A routine visit of `building` for `user`, on `station`'s list of T0's
/// day, as generation puts it there.
pub async fn add_visit_task(
    store: &Store,
    station: &Organisation,
    user: i64,
    building: i64,
) -> i64 {
    let new = NewTask::generated(
        station.id,
        Assignee {
            user_id: user,
            role: AssigneeRole::CommunityOfficer,
        },
        TaskKind::RoutineVisit,
        building,
        ChinaDay::of(T0),
        "走访 望江小区1栋".into(),
        None,
        T0,
    );
    let mut tx = store.begin().await.unwrap();
    let id = tx.insert_task(&new, T0).await.unwrap().expect("a new task");
    tx.commit().await.unwrap();
    id
}

/// A building with one room in the community's first grid; returns the
/// grid's id and the building.
pub async fn add_building(
    store: &Store,
    community: &str,
    compound: &str,
    building: &str,
    unit: &str,
    room: &str,
) -> (i64, Building) {
    let record = AddressRecord::parse(&RawAddressRecord {
        community_code: community.into(),
        grid_code: format!("{community}001"),
        compound: compound.into(),
        building: building.into(),
        unit: unit.into(),
        room: room.into(),
        ..Default::default()
    })
    .unwrap();
    let mut tx = store.begin().await.unwrap();
    let grid = tx
        .upsert_grid(record.grid_code.as_ref().unwrap(), T0)
        .await
        .unwrap();
    let id = tx.upsert_address(&record, Some(grid), T0).await.unwrap();
    tx.commit().await.unwrap();
    (grid, store.building(id).await.unwrap().unwrap())
}

/// A police incident received by `station` and dispatched to it, written
/// through the core's transitions as intake writes them.
pub async fn add_incident(store: &Store, station: &Organisation, reporter_user: i64) -> i64 {
    let new = NewIncident::parse(IncidentInput {
        source: "phone",
        text: "望江小区门口有人打架",
        location_text: "望江小区1栋",
        ..Default::default()
    })
    .unwrap();
    let mut tx = store.begin().await.unwrap();
    let id = tx.next_incident_id().await.unwrap();
    let sequence = tx
        .next_receipt_sequence(station.id, ReceiptDate::of(T0))
        .await
        .unwrap();
    let receipt = ReceiptNumber::new(StationCode::parse("WJL").unwrap(), T0, sequence).unwrap();
    let received = Incident::receive(id, station.id, receipt, new, Actor::User(reporter_user), T0);
    let triage = IncidentTriage {
        category: Category::new("fight", "public_order").unwrap(),
        group: Group::Police,
        priority: Priority::parse(1).unwrap(),
    };
    let triaged = received
        .state
        .triage(triage, TriagedBy::Rules, Actor::System, T0)
        .unwrap();
    let dispatched = triaged
        .state
        .dispatch(station.id, Actor::System, T0)
        .unwrap();
    tx.insert_incident(&dispatched.state, &IncidentExtras::default(), T0)
        .await
        .unwrap();
    for events in [&received.events, &triaged.events, &dispatched.events] {
        tx.append_timeline(id, None, events).await.unwrap();
    }
    tx.commit().await.unwrap();
    id
}

/// A work order for `owner` on an incident, written as the route endpoint
/// writes it (the core's `divert`); returns its id.
pub async fn add_work_order(store: &Store, incident_id: i64, originator: i64, owner: i64) -> i64 {
    let mut tx = store.begin().await.unwrap();
    let (stored, _) = tx.lock_incident(incident_id).await.unwrap().unwrap();
    let order = NewWorkOrder {
        id: tx.next_work_order_id().await.unwrap(),
        originator_org_id: originator,
        owner_org_id: owner,
        supervisor_org_id: None,
        deadlines: DeadlinePolicy::new(60, 1440).unwrap(),
    };
    let diversion = stored
        .to_core()
        .unwrap()
        .divert(order, Actor::System, T0)
        .unwrap();
    tx.update_incident(&diversion.incident.state, T0)
        .await
        .unwrap();
    tx.append_timeline(incident_id, None, &diversion.incident.events)
        .await
        .unwrap();
    let id = diversion.work_order.state.id;
    tx.insert_work_order(&diversion.work_order.state, T0)
        .await
        .unwrap();
    tx.append_timeline(incident_id, Some(id), &diversion.work_order.events)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

/// A repeat-call warning for `station` on `building`, raised as intake
/// raises it.
pub async fn add_warning(
    store: &Store,
    station: &Organisation,
    building: i64,
    incident: i64,
) -> i64 {
    let found = RepeatCallWarning {
        address_id: Some(building),
        incidents: vec![incident],
    };
    let new =
        NewWarning::repeat_call(station.id, &found, &RepeatCallPolicy::default(), T0).unwrap();
    let mut tx = store.begin().await.unwrap();
    let id = tx
        .raise_warning(&new, T0)
        .await
        .unwrap()
        .expect("no warning open yet");
    tx.commit().await.unwrap();
    id
}

/// The first bytes of a JPEG file: enough for the type check.
pub const JPEG: &[u8] = &[
    0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0x01, 0x01, 0x00, 0xFF, 0xD9,
];

/// A dispute reported with a photo at `building` for `station`, written
/// as the field-report endpoint writes it.
pub async fn add_field_report(
    store: &Store,
    station: &Organisation,
    building: &Building,
    reporter_user: i64,
) -> i64 {
    let new = NewFieldReport::parse(FieldReportInput {
        kind: Some("dispute"),
        category: Some("neighbour"),
        description: Some("望江小区1栋楼上楼下因漏水争吵"),
        address_text: Some("望江小区1栋"),
        photo: Some(JPEG.to_vec()),
    })
    .unwrap();
    let place = ReportPlace {
        building_id: building.id,
        grid_id: building.grid_id,
        community_code: building.community_code.clone(),
        station_org_id: station.id,
    };
    let mut tx = store.begin().await.unwrap();
    let id = tx
        .insert_field_report(&new, &place, reporter_user, None, T0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

/// A neighbours' dispute of `station`, registered at the desk as the API
/// registers it (no parties: the store test covers them).
pub async fn add_dispute(store: &Store, station: &Organisation, building: Option<i64>) -> i64 {
    use fengqiao_core::dispute::{
        CaseText, Dispute, DisputeSource, DisputeType, Mediators, NewDispute, Risk,
    };
    let text = |s: &str| CaseText::parse("text", s, 2000).unwrap();
    let new = NewDispute {
        org_id: station.id,
        source: DisputeSource::Station,
        source_id: None,
        dispute_type: DisputeType::Neighbour,
        parties: Vec::new(),
        building_id: building,
        address_text: text("望江小区1栋"),
        facts: text("望江小区楼上楼下噪音纠纷"),
        risk: Risk::parse(Some("medium"), Some("多次争吵")).unwrap(),
        officer_user_id: None,
        mediators: Mediators::default(),
    };
    let mut tx = store.begin().await.unwrap();
    let id = tx.next_dispute_id().await.unwrap();
    let registered = Dispute::register(id, new, Actor::System, T0);
    tx.insert_dispute(&registered.state, &[], None, T0)
        .await
        .unwrap();
    tx.append_dispute_events(id, &registered.events)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

/// Station A's command room, a labour inspection brigade for the district
/// and the street's governance centre.
pub struct Desks {
    pub command_room: Organisation,
    pub labour: Organisation,
    pub governance: Organisation,
}

pub async fn add_desks(app: &TestApp) -> Desks {
    let world = &app.world;
    let mut tx = app.db.store.begin().await.unwrap();
    let command_room = tx
        .insert_organisation(
            &new_org(
                Some(world.station_a.id),
                OrgKind::CommandRoom,
                "浆洗街派出所综合指挥室",
                "510107001",
            ),
            T0,
        )
        .await
        .unwrap();
    let mut labour = new_org(
        Some(world.county.id),
        OrgKind::Department,
        "武侯区劳动保障监察大队",
        "510107",
    );
    labour.department_type = Some("labour_inspection".into());
    let labour = tx.insert_organisation(&labour, T0).await.unwrap();
    let governance = tx
        .insert_organisation(
            &new_org(
                Some(world.county.id),
                OrgKind::GovernanceCentre,
                "浆洗街综治中心",
                "510107001",
            ),
            T0,
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    Desks {
        command_room,
        labour,
        governance,
    }
}
