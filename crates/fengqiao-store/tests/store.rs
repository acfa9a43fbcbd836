//! The storage suite: every test runs on SQLite and, when
//! FENGQIAO_TEST_PG_URL is set, on PostgreSQL (`NAME::sqlite`, `NAME::postgres`).

use std::collections::BTreeSet;

use fengqiao_core::audit::{Actor, AuditAction, AuditEvent, ChainBreak};
use fengqiao_core::role::{Permission, Role, Roles};
use fengqiao_core::user::Username;
use fengqiao_core::Timestamp;
use fengqiao_store::testing::TestDatabase;
use fengqiao_store::{backend_tests, NewUser, Store, StoreError};

const T0: Timestamp = Timestamp(1_764_000_000_000);

fn new_user(username: &str, org_id: i64) -> NewUser {
    NewUser {
        username: Username::parse(username).unwrap(),
        org_id,
        roles: Roles::new([Role::CommunityOfficer]).unwrap(),
        password_hash: "$argon2id$v=19$m=256,t=1,p=1$c2FsdHNhbHQ$aGFzaA".into(),
        full_name: Some(vec![1, 2, 3]),
        phone: None,
        phone_index: None,
    }
}

/// county → station A, station B; returns (county, a, b) ids.
async fn three_orgs(store: &Store) -> (i64, i64, i64) {
    let world = fengqiao_store::testing::two_stations(store, T0).await;
    (world.county.id, world.station_a.id, world.station_b.id)
}

backend_tests! {
    async fn organisation_subtrees_are_prefix_queries(db: TestDatabase) {
        let store = &db.store;
        let (county, a, b) = three_orgs(store).await;
        let county_org = store.organisation(county).await.unwrap().unwrap();
        let a_org = store.organisation(a).await.unwrap().unwrap();
        assert!(county_org.path.contains(&a_org.path));
        assert_eq!(a_org.name, "浆洗街派出所");
        assert_eq!(a_org.division_codes[0].as_str(), "510107001");

        let under_county: Vec<i64> = store
            .organisations_within(&county_org.path)
            .await
            .unwrap()
            .iter()
            .map(|o| o.id)
            .collect();
        assert_eq!(under_county, vec![county, a, b]);
        let under_a = store.organisations_within(&a_org.path).await.unwrap();
        assert_eq!(under_a.len(), 1);
    }

    async fn usernames_are_unique_and_rollback_leaves_nothing(db: TestDatabase) {
        let store = &db.store;
        let (_, a, _) = three_orgs(store).await;
        let mut tx = store.begin().await.unwrap();
        tx.insert_user(&new_user("li.si", a), T0).await.unwrap();
        tx.commit().await.unwrap();

        let mut tx = store.begin().await.unwrap();
        let err = tx.insert_user(&new_user("li.si", a), T0).await.unwrap_err();
        assert!(matches!(err, StoreError::Duplicate("username")), "{err:?}");
        drop(tx);

        // A transaction dropped without commit changes nothing.
        let mut tx = store.begin().await.unwrap();
        tx.insert_user(&new_user("wang.wu", a), T0).await.unwrap();
        drop(tx);
        assert!(store
            .user_by_username(&Username::parse("wang.wu").unwrap())
            .await
            .unwrap()
            .is_none());
        assert_eq!(store.count_users().await.unwrap(), 1);
        let stored = store
            .user_by_username(&Username::parse("li.si").unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.full_name, Some(vec![1, 2, 3]));
        assert!(stored.user.roles.contains(Role::CommunityOfficer));
    }

    async fn users_are_listed_within_a_subtree(db: TestDatabase) {
        let store = &db.store;
        let (county, a, b) = three_orgs(store).await;
        let mut tx = store.begin().await.unwrap();
        tx.insert_user(&new_user("in.a", a), T0).await.unwrap();
        tx.insert_user(&new_user("in.b", b), T0).await.unwrap();
        tx.commit().await.unwrap();
        let a_path = store.organisation(a).await.unwrap().unwrap().path;
        let county_path = store.organisation(county).await.unwrap().unwrap().path;
        let names = |users: Vec<fengqiao_store::StoredUser>| {
            users.into_iter().map(|u| u.user.username.as_str().to_owned()).collect::<Vec<_>>()
        };
        assert_eq!(names(store.users_within(a_path.as_str()).await.unwrap()), ["in.a"]);
        assert_eq!(names(store.users_within(county_path.as_str()).await.unwrap()), ["in.a", "in.b"]);
    }

    async fn sign_in_failures_and_locks_survive_a_reconnect(db: TestDatabase) {
        let (_, a, _) = three_orgs(&db.store).await;
        let mut tx = db.store.begin().await.unwrap();
        let id = tx.insert_user(&new_user("zhao.liu", a), T0).await.unwrap();
        let window = T0.minus_minutes(15);
        for expected in 1..=4 {
            assert_eq!(tx.record_sign_in_failure(id, T0, window).await.unwrap(), expected);
        }
        tx.lock_user(id, T0).await.unwrap();
        tx.commit().await.unwrap();
        db.store.close().await;

        // A new connection, as after a restart.
        let store = Store::connect(&db.url).await.unwrap();
        let user = store.user(id).await.unwrap().unwrap().user;
        assert_eq!(user.locked_at, Some(T0));
        assert!(!user.can_sign_in());
        let mut tx = store.begin().await.unwrap();
        // Failures older than the window do not count.
        assert_eq!(tx.record_sign_in_failure(id, T0.plus_minutes(20), T0.plus_minutes(5)).await.unwrap(), 1);
        tx.unlock_user(id, T0).await.unwrap();
        tx.commit().await.unwrap();
        assert!(store.user(id).await.unwrap().unwrap().user.can_sign_in());
    }

    async fn sessions_are_found_by_hash_and_end(db: TestDatabase) {
        let store = &db.store;
        let (_, a, _) = three_orgs(store).await;
        let mut tx = store.begin().await.unwrap();
        let id = tx.insert_user(&new_user("officer", a), T0).await.unwrap();
        tx.insert_session(b"hash-1", id, T0).await.unwrap();
        tx.insert_session(b"hash-2", id, T0).await.unwrap();
        tx.commit().await.unwrap();

        store.touch_session(b"hash-1", T0.plus_minutes(5)).await.unwrap();
        let session = store.session(b"hash-1").await.unwrap().unwrap();
        assert_eq!(session.user_id, id);
        assert_eq!(session.last_seen_at, T0.plus_minutes(5));

        let mut tx = store.begin().await.unwrap();
        assert!(tx.delete_session(b"hash-1").await.unwrap());
        assert!(!tx.delete_session(b"hash-1").await.unwrap());
        assert_eq!(tx.delete_idle_sessions(T0.plus_minutes(1)).await.unwrap(), 1);
        tx.commit().await.unwrap();
        assert!(store.session(b"hash-2").await.unwrap().is_none());
    }

    async fn api_tokens_are_revocable(db: TestDatabase) {
        let store = &db.store;
        let (_, a, _) = three_orgs(store).await;
        let permissions: BTreeSet<Permission> = [Permission::ViewOrganisations].into();
        let mut tx = store.begin().await.unwrap();
        let id = tx
            .insert_api_token("110 接警系统", a, &permissions, b"secret-hash", "user:1", T0)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let token = store.api_token_by_hash(b"secret-hash").await.unwrap().unwrap();
        assert_eq!((token.id, token.org_id), (id, a));
        assert_eq!(token.permissions, permissions);

        let mut tx = store.begin().await.unwrap();
        assert!(tx.revoke_api_token(id, T0).await.unwrap());
        assert!(!tx.revoke_api_token(id, T0).await.unwrap());
        tx.commit().await.unwrap();
        assert!(store.api_token_by_hash(b"secret-hash").await.unwrap().is_none());
        assert_eq!(store.api_token(id).await.unwrap().unwrap().revoked_at, Some(T0));
    }

    async fn the_audit_chain_verifies_and_detects_tampering(db: TestDatabase) {
        let store = &db.store;
        for i in 0..12 {
            let mut tx = store.begin().await.unwrap();
            let event = AuditEvent::new(Actor::User(i), AuditAction::SignIn, "session").source("127.0.0.1");
            tx.append_audit(&event, T0.plus_minutes(i)).await.unwrap();
            tx.commit().await.unwrap();
        }
        assert_eq!(store.verify_audit_chain().await.unwrap(), Ok(12));
        let page = store.audit_entries(10, 100).await.unwrap();
        assert_eq!(page.entries.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![11, 12]);

        // The application cannot rewrite the log…
        let raw = sqlx_raw(store).await;
        assert!(raw.execute("UPDATE audit_log SET actor = 'user:99' WHERE seq = 5").await.is_err());
        assert!(raw.execute("DELETE FROM audit_log WHERE seq = 5").await.is_err());
        // …and whoever drops the guard is caught by the chain.
        raw.drop_guards().await;
        raw.execute("UPDATE audit_log SET actor = 'user:99' WHERE seq = 5").await.unwrap();
        assert_eq!(store.verify_audit_chain().await.unwrap(), Err(ChainBreak::Edited { seq: 5 }));
        raw.execute("UPDATE audit_log SET actor = 'user:4' WHERE seq = 5").await.unwrap();
        assert_eq!(store.verify_audit_chain().await.unwrap(), Ok(12));
        raw.execute("DELETE FROM audit_log WHERE seq = 7").await.unwrap();
        assert_eq!(
            store.verify_audit_chain().await.unwrap(),
            Err(ChainBreak::Missing { expected: 7, found: 8 })
        );
    }

    async fn concurrent_audit_appends_keep_one_chain(db: TestDatabase) {
        let store = db.store.clone();
        let tasks: Vec<_> = (0..8)
            .map(|worker| {
                let store = store.clone();
                tokio::spawn(async move {
                    for i in 0..10 {
                        let mut tx = store.begin().await.unwrap();
                        let event = AuditEvent::new(Actor::User(worker), AuditAction::Update, "user").object(i);
                        tx.append_audit(&event, T0).await.unwrap();
                        tx.commit().await.unwrap();
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(store.verify_audit_chain().await.unwrap(), Ok(80));
    }

    async fn entries_appended_together_chain_like_entries_appended_alone(db: TestDatabase) {
        let store = &db.store;
        let mut tx = store.begin().await.unwrap();
        tx.append_audit(&AuditEvent::new(Actor::System, AuditAction::Create, "incident").object(1), T0).await.unwrap();
        tx.commit().await.unwrap();
        // A group commit's entries: 90 in one call, more than one statement holds.
        let events: Vec<AuditEvent> = (2..92)
            .map(|i| AuditEvent::new(Actor::Token(3), AuditAction::Create, "incident").object(i))
            .collect();
        let mut tx = store.begin().await.unwrap();
        let entries = tx.append_audit_many(&events, T0).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(entries.iter().map(|e| e.seq).collect::<Vec<_>>(), (2..92).collect::<Vec<_>>());
        assert_eq!(entries[0].prev_hash, store.audit_entries(0, 1).await.unwrap().entries[0].hash);
        let mut tx = store.begin().await.unwrap();
        tx.append_audit(&AuditEvent::new(Actor::System, AuditAction::Create, "warning").object(1), T0).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(store.verify_audit_chain().await.unwrap(), Ok(92));
        let stored = store.audit_entries(1, 90).await.unwrap().entries;
        assert_eq!(stored, entries);
    }

    async fn an_organisation_change_is_read_as_soon_as_it_commits(db: TestDatabase) {
        let store = &db.store;
        let (county, a, _) = three_orgs(store).await;
        // Read once, so the store holds the organisations in memory.
        assert_eq!(store.organisation(a).await.unwrap().unwrap().name, "浆洗街派出所");
        let codes = store.organisation(a).await.unwrap().unwrap().division_codes;

        let mut tx = store.begin().await.unwrap();
        tx.update_organisation(a, "浆洗街派出所（新）", &codes, T0).await.unwrap();
        drop(tx);
        assert_eq!(store.organisation(a).await.unwrap().unwrap().name, "浆洗街派出所");

        let mut tx = store.begin().await.unwrap();
        tx.update_organisation(a, "浆洗街派出所（新）", &codes, T0).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(store.organisation(a).await.unwrap().unwrap().name, "浆洗街派出所（新）");

        let county_path = store.organisation(county).await.unwrap().unwrap().path;
        let mut tx = store.begin().await.unwrap();
        let new = fengqiao_core::org::NewOrganisation {
            parent_id: Some(county),
            kind: fengqiao_core::org::OrgKind::PoliceStation,
            department_type: None,
            name: "望江路派出所".into(),
            division_codes: codes.clone(),
        };
        let added = tx.insert_organisation(&new, T0).await.unwrap();
        tx.commit().await.unwrap();
        let within: Vec<i64> = store.organisations_within(&county_path).await.unwrap().iter().map(|o| o.id).collect();
        assert!(within.contains(&added.id), "{within:?}");
        let stations = store.organisations_of_kind(fengqiao_core::org::OrgKind::PoliceStation).await.unwrap();
        assert_eq!(stations.last().map(|o| o.id), Some(added.id));
    }
}

/// Plain SQL against the test database, as an intruder with file or server
/// access would run it.
struct RawSql {
    store: Store,
}

async fn sqlx_raw(store: &Store) -> RawSql {
    RawSql {
        store: store.clone(),
    }
}

impl RawSql {
    async fn execute(&self, sql: &str) -> Result<(), fengqiao_store::StoreError> {
        self.store.execute_raw_for_tests(sql).await
    }

    async fn drop_guards(&self) {
        let statements = match self.store.backend() {
            fengqiao_store::Backend::Sqlite => {
                "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;"
            }
            fengqiao_store::Backend::Postgres => "DROP TRIGGER audit_log_append_only ON audit_log",
        };
        for statement in statements.split(';').filter(|s| !s.trim().is_empty()) {
            self.execute(statement).await.unwrap();
        }
    }
}

mod address_registry {
    use fengqiao_address::registry::{AddressRecord, RawAddressRecord};
    use fengqiao_store::BuildingQuery;

    use super::*;

    pub(crate) fn record(building: &str, unit: &str, room: &str) -> AddressRecord {
        AddressRecord::parse(&RawAddressRecord {
            community_code: "510107001001".into(),
            grid_code: "510107001001002".into(),
            compound: "锦里小区".into(),
            building: building.into(),
            unit: unit.into(),
            room: room.into(),
            lat: "30.6465".into(),
            lon: "104.0487".into(),
            compound_aliases: "锦里苑；锦里花园".into(),
            ..Default::default()
        })
        .unwrap()
    }

    async fn count(store: &Store, table: &str) -> usize {
        store
            .table_text_for_tests(table)
            .await
            .unwrap()
            .lines()
            .count()
    }

    backend_tests! {
        async fn importing_twice_updates_and_never_duplicates(db: TestDatabase) {
            let store = &db.store;
            let rows = [record("3栋", "2单元", "501"), record("3幢", "2", "502"), record("三号楼", "", ""), record("4栋", "1", "101")];
            let mut first_ids = Vec::new();
            for round in 0..2 {
                let mut tx = store.begin().await.unwrap();
                let mut ids = Vec::new();
                for row in &rows {
                    let grid = tx.upsert_grid(row.grid_code.as_ref().unwrap(), T0).await.unwrap();
                    ids.push(tx.upsert_address(row, Some(grid), T0.plus_minutes(round)).await.unwrap());
                }
                tx.commit().await.unwrap();
                if round == 0 {
                    first_ids = ids;
                } else {
                    assert_eq!(ids, first_ids, "the same buildings on re-import");
                }
            }
            assert_eq!(first_ids[0], first_ids[1], "3栋 and 3幢 are one building");
            assert_eq!(first_ids[0], first_ids[2], "三号楼 too");
            assert_eq!(count(store, "buildings").await, 2);
            assert_eq!(count(store, "rooms").await, 3);
            assert_eq!(count(store, "grids").await, 1);

            let building = store.building(first_ids[0]).await.unwrap().unwrap();
            assert_eq!(building.plate_code, rows[0].plate_code());
            assert_eq!(store.building_by_plate(&building.plate_code).await.unwrap(), Some(building.clone()));
            let rooms: Vec<String> = store.rooms_of(building.id).await.unwrap().into_iter().map(|r| format!("{}-{}", r.unit, r.room)).collect();
            assert_eq!(rooms, ["2-501", "2-502"]);

            let found = store
                .match_buildings(&BuildingQuery {
                    division_prefix: "510107001".into(),
                    compound: Some("锦里小区".into()),
                    building: Some("3号楼".into()),
                    ..Default::default()
                })
                .await
                .unwrap();
            assert_eq!(found.iter().map(|b| b.id).collect::<Vec<_>>(), vec![building.id]);
            let elsewhere = store
                .match_buildings(&BuildingQuery {
                    division_prefix: "510107004".into(),
                    compound: Some("锦里小区".into()),
                    building: Some("3".into()),
                    ..Default::default()
                })
                .await
                .unwrap();
            assert!(elsewhere.is_empty(), "another street's 锦里小区 is not this one");
            let by_alias = store
                .match_buildings(&BuildingQuery {
                    division_prefix: "510107001".into(),
                    compound: Some("锦里花园".into()),
                    building: Some("3".into()),
                    ..Default::default()
                })
                .await
                .unwrap();
            assert_eq!(by_alias.iter().map(|b| b.id).collect::<Vec<_>>(), vec![building.id], "found by the compound's alias");
            assert_eq!(store.buildings_under("510107", 0, 10).await.unwrap().len(), 2);
        }

        async fn a_road_and_house_number_find_the_one_building_there(db: TestDatabase) {
            let store = &db.store;
            let house = |road: &str, number: &str, building: &str| {
                AddressRecord::parse(&RawAddressRecord {
                    community_code: "510107001001".into(),
                    grid_code: "510107001001002".into(),
                    road: road.into(),
                    road_number: number.into(),
                    building: building.into(),
                    ..Default::default()
                })
                .unwrap()
            };
            let rows = [
                house("高升桥路", "35号", "35号"),
                house("高升桥路", "37号", "1栋"),
                house("高升桥路", "37号", "2栋"),
            ];
            let mut tx = store.begin().await.unwrap();
            let ids = tx.upsert_addresses(&rows.iter().map(|r| (r, None)).collect::<Vec<_>>(), T0).await.unwrap();
            tx.commit().await.unwrap();
            let at = |number: &str| BuildingQuery {
                division_prefix: "510107".into(),
                road: Some("高升桥路".into()),
                road_number: Some(number.into()),
                ..Default::default()
            };
            let found = store.match_buildings(&at("35号")).await.unwrap();
            assert_eq!(found.iter().map(|b| b.id).collect::<Vec<_>>(), vec![ids[0]]);
            assert!(store.match_buildings(&at("37号")).await.unwrap().is_empty(), "two buildings at 37号: which one is not said");
            assert!(store.match_buildings(&at("39号")).await.unwrap().is_empty());
        }

        async fn a_batch_writes_each_building_once_and_the_last_row_wins(db: TestDatabase) {
            let store = &db.store;
            let mut moved = record("3栋", "2单元", "501");
            moved.floor = Some("5".into());
            moved.location = Some(fengqiao_core::geo::Wgs84::new(30.7, 104.1).unwrap());
            let rows = [record("3栋", "2单元", "501"), record("4栋", "1", "101"), record("3幢", "2", "502"), moved];
            let mut tx = store.begin().await.unwrap();
            let batch: Vec<_> = rows.iter().map(|r| (r, None)).collect();
            let ids = tx.upsert_addresses(&batch, T0).await.unwrap();
            tx.commit().await.unwrap();
            assert_eq!(ids[0], ids[2]);
            assert_eq!(ids[0], ids[3]);
            assert_ne!(ids[0], ids[1]);
            let building = store.building(ids[0]).await.unwrap().unwrap();
            assert_eq!((building.lat, building.lon), (Some(30.7), Some(104.1)), "the last row's location");
            let rooms = store.rooms_of(ids[0]).await.unwrap();
            assert_eq!(rooms.len(), 2, "501 once, 502 once");
            assert_eq!(rooms[0].floor.as_deref(), Some("5"), "the last row's floor");
        }

        async fn grid_responsibility_is_replaced_whole(db: TestDatabase) {
            let store = &db.store;
            let (_, a, _) = three_orgs(store).await;
            let mut tx = store.begin().await.unwrap();
            let officer = tx.insert_user(&new_user("officer.a", a), T0).await.unwrap();
            let worker1 = tx.insert_user(&new_user("worker.one", a), T0).await.unwrap();
            let worker2 = tx.insert_user(&new_user("worker.two", a), T0).await.unwrap();
            let grid = tx.upsert_grid(record("1", "", "").grid_code.as_ref().unwrap(), T0).await.unwrap();
            tx.set_grid_responsibility(grid, Some(a), Some(officer), &[worker1, worker2], T0).await.unwrap();
            tx.set_grid_responsibility(grid, Some(a), Some(officer), &[worker2], T0).await.unwrap();
            tx.commit().await.unwrap();
            let stored = store.grid(grid).await.unwrap().unwrap();
            assert_eq!(stored.station_org_id, Some(a));
            assert_eq!(stored.officer_user_id, Some(officer));
            assert_eq!(stored.grid_worker_ids, vec![worker2]);
            assert_eq!(stored.community_code, "510107001001");
            assert_eq!(store.grids_under(&["510107001".into()]).await.unwrap().len(), 1);
            assert!(store.grids_under(&["510107004".into()]).await.unwrap().is_empty());
        }
    }
}

mod incidents {
    use fengqiao_core::audit::{Actor, AuditAction, AuditEvent};
    use fengqiao_core::category::Category;
    use fengqiao_core::geo::Wgs84;
    use fengqiao_core::incident::{
        Group, Incident, IncidentInput, NewIncident, Priority, Triage, TriagedBy,
    };
    use fengqiao_core::receipt::{ReceiptDate, ReceiptNumber, StationCode};
    use fengqiao_core::repeat_call::{RepeatCallPolicy, RepeatCallWarning};
    use fengqiao_core::role::{Role, Roles};
    use fengqiao_core::warning::{
        ActionRecord, FoundThreat, NewWarning, RecipientKind, SubjectKind, ThreatSource,
        WarningStatus, WarningSubject,
    };
    use fengqiao_core::work_order::{DeadlinePolicy, NewWorkOrder};
    use fengqiao_core::Timestamp;
    use fengqiao_store::testing::TestDatabase;
    use fengqiao_store::{
        backend_tests, IncidentExtras, NewIdempotencyKey, Responsibility, Store, StoreError,
        StoredIncident, TimelineEntry, Tx,
    };

    use super::{three_orgs, T0};

    /// Receives, triages as wage arrears and diverts to `department` inside
    /// `tx`, as intake does; returns the incident's id.
    async fn divert_wage_arrears(tx: &mut Tx, station: i64, department: i64, at: Timestamp) -> i64 {
        divert_wage_arrears_at(tx, station, department, None, at).await
    }

    /// As `divert_wage_arrears`, reported at a registry building.
    async fn divert_wage_arrears_at(
        tx: &mut Tx,
        station: i64,
        department: i64,
        building: Option<i64>,
        at: Timestamp,
    ) -> i64 {
        let new = NewIncident::parse(IncidentInput {
            source: "phone",
            text: "老板拖欠我们三个月工资不给",
            location_text: "浆洗街锦里小区3栋",
            address_id: building,
            ..Default::default()
        })
        .unwrap();
        let id = tx.next_incident_id().await.unwrap();
        let sequence = tx
            .next_receipt_sequence(station, ReceiptDate::of(at))
            .await
            .unwrap();
        let receipt = ReceiptNumber::new(
            StationCode::parse(&format!("P{station}")).unwrap(),
            at,
            sequence,
        )
        .unwrap();
        let received = Incident::receive(id, station, receipt, new, Actor::User(7), at);
        let triage = Triage {
            category: Category::new("wage_arrears", "labour").unwrap(),
            group: Group::NonPolice,
            priority: Priority::parse(2).unwrap(),
        };
        let triaged = received
            .state
            .triage(triage, TriagedBy::Rules, Actor::System, at)
            .unwrap();
        let order = NewWorkOrder {
            id: tx.next_work_order_id().await.unwrap(),
            originator_org_id: station,
            owner_org_id: department,
            supervisor_org_id: None,
            deadlines: DeadlinePolicy::new(60, 7200).unwrap(),
        };
        let diversion = triaged.state.divert(order, Actor::System, at).unwrap();
        let extras = IncidentExtras {
            reporter_phone: Some(b"sealed".to_vec()),
            community_code: Some("510107001001".into()),
            triage_matched: vec!["拖欠".into(), "工资".into()],
            ..Default::default()
        };
        tx.insert_incident(&diversion.incident.state, &extras, at)
            .await
            .unwrap();
        for events in [
            &received.events,
            &triaged.events,
            &diversion.incident.events,
        ] {
            tx.append_timeline(id, None, events).await.unwrap();
        }
        let order = &diversion.work_order;
        tx.insert_work_order(&order.state, at).await.unwrap();
        tx.append_timeline(id, Some(order.state.id), &order.events)
            .await
            .unwrap();
        id
    }

    async fn incident_count(store: &Store) -> usize {
        store.incidents_within("/", 1000).await.unwrap().len()
    }

    backend_tests! {
        async fn an_incident_reads_back_with_its_timeline_and_work_order(db: TestDatabase) {
            let store = &db.store;
            let (county, a, _) = three_orgs(store).await;
            let mut tx = store.begin().await.unwrap();
            let id = divert_wage_arrears(&mut tx, a, county, T0).await;
            tx.commit().await.unwrap();

            let record = store.incident(id).await.unwrap().unwrap();
            let incident = &record.incident;
            assert_eq!(incident.receipt_number.to_string(), format!("P{a}-20251125-0001"));
            assert_eq!(incident.station_org_id, a);
            assert_eq!(incident.status.as_str(), "diverted");
            assert_eq!(incident.owner_org_id, Some(a));
            assert_eq!(incident.triage.as_ref().unwrap().category.code.as_str(), "wage_arrears");
            assert_eq!(incident.triage.as_ref().unwrap().group, Group::NonPolice);
            assert_eq!(incident.triage_matched, ["拖欠", "工资"]);
            assert_eq!(incident.reporter_phone.as_deref(), Some(&b"sealed"[..]));
            assert_eq!(incident.community_code.as_deref(), Some("510107001001"));
            let events: Vec<&str> = record.timeline.iter().map(|e| e.event["event"].as_str().unwrap()).collect();
            assert_eq!(events, ["received", "triaged", "routed", "work_order_created", "created"]);
            assert_eq!(record.timeline[0].actor, "user:7");
            assert_eq!(record.timeline[4].work_order_id, Some(record.work_orders[0].id));
            let order = &record.work_orders[0];
            assert_eq!((order.owner_org_id, order.originator_org_id), (county, a));
            assert_eq!(order.accept_by, T0.plus_minutes(60));
            assert_eq!(order.finish_by, T0.plus_minutes(7200));
            assert!(!order.escalated_accept && !order.escalated_finish);
            assert!(store.incident(id + 1000).await.unwrap().is_none());
        }

        async fn receipt_sequences_count_per_station_and_china_day(db: TestDatabase) {
            let store = &db.store;
            let (_, a, b) = three_orgs(store).await;
            let day = ReceiptDate::of(T0);
            let next_day = ReceiptDate::of(T0.plus_minutes(24 * 60));
            let mut tx = store.begin().await.unwrap();
            assert_eq!(tx.next_receipt_sequence(a, day).await.unwrap(), 1);
            assert_eq!(tx.next_receipt_sequence(a, day).await.unwrap(), 2);
            assert_eq!(tx.next_receipt_sequence(b, day).await.unwrap(), 1);
            assert_eq!(tx.next_receipt_sequence(a, next_day).await.unwrap(), 1);
            tx.commit().await.unwrap();
            // A rolled-back intake gives its number back.
            let mut tx = store.begin().await.unwrap();
            assert_eq!(tx.next_receipt_sequence(a, day).await.unwrap(), 3);
            drop(tx);
            let mut tx = store.begin().await.unwrap();
            assert_eq!(tx.next_receipt_sequence(a, day).await.unwrap(), 3);
            tx.commit().await.unwrap();
        }

        async fn an_idempotency_key_commits_with_its_incident_or_not_at_all(db: TestDatabase) {
            let store = &db.store;
            let (county, a, _) = three_orgs(store).await;
            // Crash before commit: neither the incident nor the key remain.
            let mut tx = store.begin().await.unwrap();
            let id = divert_wage_arrears(&mut tx, a, county, T0).await;
            tx.insert_idempotency_key("user:7", "call-1", b"hash-1", id, T0).await.unwrap();
            drop(tx);
            assert_eq!(incident_count(store).await, 0);
            assert!(store.idempotency_key("user:7", "call-1").await.unwrap().is_none());

            let mut tx = store.begin().await.unwrap();
            let id = divert_wage_arrears(&mut tx, a, county, T0).await;
            tx.insert_idempotency_key("user:7", "call-1", b"hash-1", id, T0).await.unwrap();
            tx.append_audit(&AuditEvent::new(Actor::User(7), AuditAction::Create, "incident").object(id), T0).await.unwrap();
            tx.commit().await.unwrap();
            let first = store.idempotency_key("user:7", "call-1").await.unwrap().unwrap();
            assert_eq!((first.incident_id, first.request_hash.as_slice()), (id, &b"hash-1"[..]));

            // The retry finds the key taken and rolls its own work back.
            let mut tx = store.begin().await.unwrap();
            let second = divert_wage_arrears(&mut tx, a, county, T0).await;
            let err = tx.insert_idempotency_key("user:7", "call-1", b"hash-1", second, T0).await.unwrap_err();
            assert!(matches!(err, StoreError::Duplicate("idempotency_key")), "{err}");
            drop(tx);
            assert_eq!(incident_count(store).await, 1);
            // Another caller's key of the same text is another key.
            let mut tx = store.begin().await.unwrap();
            let other = divert_wage_arrears(&mut tx, a, county, T0).await;
            tx.insert_idempotency_key("token:3", "call-1", b"hash-1", other, T0).await.unwrap();
            tx.commit().await.unwrap();
            assert_eq!(incident_count(store).await, 2);
        }

        async fn a_batch_takes_its_receipt_numbers_in_one_range(db: TestDatabase) {
            let store = &db.store;
            let (_, a, b) = three_orgs(store).await;
            let day = ReceiptDate::of(T0);
            let mut tx = store.begin().await.unwrap();
            assert_eq!(tx.next_receipt_sequence(a, day).await.unwrap(), 1);
            assert_eq!(tx.next_receipt_sequences(a, day, 5).await.unwrap(), 2..=6);
            assert_eq!(tx.next_receipt_sequences(b, day, 3).await.unwrap(), 1..=3);
            assert_eq!(tx.next_receipt_sequence(a, day).await.unwrap(), 7);
            // Several stations in one statement, each its own range.
            let mut counts = [(a, 2), (b, 4)];
            counts.sort_unstable();
            let ranges = tx.receipt_ranges(day, &counts).await.unwrap();
            assert_eq!(ranges[&a], 8..=9);
            assert_eq!(ranges[&b], 4..=7);
            tx.commit().await.unwrap();
        }

        async fn a_savepoint_undoes_one_change_and_keeps_the_others(db: TestDatabase) {
            let store = &db.store;
            let (county, a, _) = three_orgs(store).await;
            let mut tx = store.begin().await.unwrap();
            tx.savepoint().await.unwrap();
            let kept = divert_wage_arrears(&mut tx, a, county, T0).await;
            tx.insert_idempotency_key("token:3", "call-1", b"hash-1", kept, T0).await.unwrap();
            tx.release_savepoint().await.unwrap();
            // The second change fails in the database (its key is taken):
            // on PostgreSQL that aborts the transaction until the rollback.
            tx.savepoint().await.unwrap();
            let refused = divert_wage_arrears(&mut tx, a, county, T0).await;
            let err = tx.insert_idempotency_key("token:3", "call-1", b"hash-2", refused, T0).await.unwrap_err();
            assert!(matches!(err, StoreError::Duplicate("idempotency_key")), "{err}");
            tx.rollback_to_savepoint().await.unwrap();
            tx.savepoint().await.unwrap();
            let after = divert_wage_arrears(&mut tx, a, county, T0).await;
            tx.release_savepoint().await.unwrap();
            tx.commit().await.unwrap();
            let ids: Vec<i64> = store.incidents_within("/", 10).await.unwrap().iter().map(|i| i.id).collect();
            assert_eq!(ids.len(), 2);
            assert!(ids.contains(&kept) && ids.contains(&after), "{ids:?}");
            assert_eq!(store.idempotency_key("token:3", "call-1").await.unwrap().unwrap().incident_id, kept);
        }

        async fn many_keys_are_written_together_and_a_used_one_refuses_them_all(db: TestDatabase) {
            let store = &db.store;
            let (county, a, _) = three_orgs(store).await;
            let mut tx = store.begin().await.unwrap();
            let mut ids = Vec::new();
            for _ in 0..3 {
                ids.push(divert_wage_arrears(&mut tx, a, county, T0).await);
            }
            let names: Vec<String> = (0..ids.len()).map(|n| format!("call-{n}")).collect();
            let keys: Vec<NewIdempotencyKey> = ids
                .iter()
                .zip(&names)
                .map(|(&incident_id, key)| NewIdempotencyKey { actor: "token:3", key, request_hash: b"h", incident_id })
                .collect();
            tx.insert_idempotency_keys(&keys, T0).await.unwrap();
            tx.commit().await.unwrap();
            for (id, key) in ids.iter().zip(&names) {
                assert_eq!(store.idempotency_key("token:3", key).await.unwrap().unwrap().incident_id, *id);
            }
            let mut tx = store.begin().await.unwrap();
            let another = divert_wage_arrears(&mut tx, a, county, T0).await;
            let again = [
                NewIdempotencyKey { actor: "token:3", key: "call-9", request_hash: b"h", incident_id: another },
                NewIdempotencyKey { actor: "token:3", key: "call-1", request_hash: b"h", incident_id: another },
            ];
            let err = tx.insert_idempotency_keys(&again, T0).await.unwrap_err();
            assert!(matches!(err, StoreError::Duplicate("idempotency_key")), "{err}");
        }

        async fn a_written_incident_is_what_a_read_returns(db: TestDatabase) {
            let store = &db.store;
            let (county, a, _) = three_orgs(store).await;
            let mut tx = store.begin().await.unwrap();
            let id = divert_wage_arrears(&mut tx, a, county, T0).await;
            tx.commit().await.unwrap();
            let record = store.incident(id).await.unwrap().unwrap();
            let core = record.incident.to_core().unwrap();
            let extras = IncidentExtras {
                reporter_name: record.incident.reporter_name.clone(),
                reporter_phone: record.incident.reporter_phone.clone(),
                reporter_phone_index: None,
                reporter_id_number: record.incident.reporter_id_number.clone(),
                community_code: record.incident.community_code.clone(),
                triage_matched: record.incident.triage_matched.clone(),
            };
            assert_eq!(StoredIncident::written(&core, &extras), record.incident);
            let event = fengqiao_core::timeline::TimelineEvent {
                at: T0,
                actor: Actor::User(7),
                event: serde_json::json!({"event": "received", "source": "phone"}),
            };
            let entry = TimelineEntry::of(None, &event).unwrap();
            assert_eq!((entry.at, entry.actor.as_str(), entry.event["source"].as_str()), (T0, "user:7", Some("phone")));
        }

        async fn incidents_are_listed_within_a_scope(db: TestDatabase) {
            let store = &db.store;
            let (county, a, b) = three_orgs(store).await;
            let mut tx = store.begin().await.unwrap();
            let in_a = divert_wage_arrears(&mut tx, a, county, T0).await;
            let in_b = divert_wage_arrears(&mut tx, b, county, T0.plus_minutes(1)).await;
            tx.commit().await.unwrap();
            let path = |id: i64| async move { store.organisation(id).await.unwrap().unwrap().path };
            let ids = |list: Vec<fengqiao_store::StoredIncident>| list.iter().map(|i| i.id).collect::<Vec<_>>();
            assert_eq!(ids(store.incidents_within(path(a).await.as_str(), 10).await.unwrap()), [in_a]);
            assert_eq!(ids(store.incidents_within(path(b).await.as_str(), 10).await.unwrap()), [in_b]);
            assert_eq!(ids(store.incidents_within(path(county).await.as_str(), 10).await.unwrap()), [in_b, in_a], "newest first");
            assert_eq!(store.incidents_within(path(county).await.as_str(), 1).await.unwrap().len(), 1);
        }

        async fn an_incident_with_coordinates_after_one_without_on_one_connection(db: TestDatabase) {
            let store = &db.store;
            let (_, a, _) = three_orgs(store).await;
            // One transaction is one connection: the second insert reuses the
            // statement the first one prepared.
            let mut tx = store.begin().await.unwrap();
            for (i, coordinates) in [None, Some(Wgs84::new(30.6431, 104.0434).unwrap())].into_iter().enumerate() {
                let new = NewIncident::parse(IncidentInput {
                    source: "open311",
                    text: "路灯不亮了",
                    location_text: "浆洗街",
                    coordinates,
                    ..Default::default()
                })
                .unwrap();
                let id = tx.next_incident_id().await.unwrap();
                let receipt = ReceiptNumber::new(StationCode::parse("JXJ").unwrap(), T0, i as u32 + 1).unwrap();
                let received = Incident::receive(id, a, receipt, new, Actor::System, T0);
                tx.insert_incident(&received.state, &IncidentExtras::default(), T0).await.unwrap();
            }
            tx.commit().await.unwrap();
            let stored = store.incidents_within("/", 10).await.unwrap();
            assert_eq!(stored.iter().filter(|i| i.coordinates.is_some()).count(), 1);
        }

        async fn one_warning_per_subject_and_rule_is_open_even_when_raised_concurrently(db: TestDatabase) {
            let store = &db.store;
            let (_, a, _) = three_orgs(store).await;
            let found = RepeatCallWarning { address_id: Some(501), incidents: vec![1, 2, 3] };
            let new = NewWarning::repeat_call(a, &found, &RepeatCallPolicy::default(), T0).unwrap();
            let mut first = store.begin().await.unwrap();
            let id = first.raise_warning(&new, T0).await.unwrap().expect("the first raise");
            // The second waits for the first (a row lock, or SQLite's one
            // writer) and then finds the warning open: no error, no second row.
            let second = tokio::spawn({
                let (store, new) = (store.clone(), new.clone());
                async move {
                    let mut tx = store.begin().await.unwrap();
                    let raised = tx.raise_warning(&new, T0).await.unwrap();
                    tx.commit().await.unwrap();
                    raised
                }
            });
            first.commit().await.unwrap();
            assert_eq!(second.await.unwrap(), None);
            let scope = store.organisation(a).await.unwrap().unwrap().path;
            assert_eq!(store.warnings_within(scope.as_str(), None, 10).await.unwrap().len(), 1);

            // Acknowledged is still open; closed frees the subject for a new one.
            let warning = store.warning(id).await.unwrap().unwrap();
            let acknowledged = warning.acknowledge(Actor::User(7), T0).unwrap();
            let mut tx = store.begin().await.unwrap();
            assert!(tx.update_warning(&acknowledged, WarningStatus::Open, T0).await.unwrap());
            assert!(!tx.update_warning(&acknowledged, WarningStatus::Open, T0).await.unwrap(), "a stale move writes nothing");
            assert_eq!(tx.raise_warning(&new, T0).await.unwrap(), None);
            let record = ActionRecord::parse(Some("no_risk_found"), Some("经排查无风险")).unwrap();
            let closed = acknowledged.close(record, Actor::User(7), T0).unwrap();
            assert!(tx.update_warning(&closed, WarningStatus::Acknowledged, T0).await.unwrap());
            let again = tx.raise_warning(&new, T0).await.unwrap().expect("a new warning after the close");
            tx.commit().await.unwrap();
            assert_ne!(again, id);
            assert_eq!(store.warning(id).await.unwrap().unwrap(), closed, "read back as written");
            let listed = store.warnings_within(scope.as_str(), Some(WarningStatus::Open), 10).await.unwrap();
            assert_eq!(listed.iter().map(|w| w.id).collect::<Vec<_>>(), [again]);
        }

        async fn a_subject_is_answered_for_by_its_buildings_grid(db: TestDatabase) {
            let store = &db.store;
            let (county, a, b) = three_orgs(store).await;
            let mut tx = store.begin().await.unwrap();
            let officer = tx.insert_user(&crate::new_user("officer.a", a), T0).await.unwrap();
            // A grid worker of the street, not of the station.
            let worker1 = tx.insert_user(&crate::new_user("worker.one", county), T0).await.unwrap();
            let worker2 = tx.insert_user(&crate::new_user("worker.two", a), T0).await.unwrap();
            let row = crate::address_registry::record("3栋", "2单元", "501");
            let grid = tx.upsert_grid(row.grid_code.as_ref().unwrap(), T0).await.unwrap();
            let building = tx.upsert_address(&row, Some(grid), T0).await.unwrap();
            tx.set_grid_responsibility(grid, Some(b), Some(officer), &[worker2, worker1], T0).await.unwrap();
            let at_building = divert_wage_arrears_at(&mut tx, a, county, Some(building), T0).await;
            let nowhere = divert_wage_arrears(&mut tx, a, county, T0).await;
            let subject = |kind, id| WarningSubject { kind, id };
            // Inside the transaction that wrote the incident.
            let in_tx = tx.responsibility(subject(SubjectKind::Incident, at_building)).await.unwrap();
            tx.commit().await.unwrap();

            let expected = Responsibility {
                building_id: Some(building),
                grid_id: Some(grid),
                officer_user_id: Some(officer),
                grid_worker_ids: vec![worker1.min(worker2), worker1.max(worker2)],
                // The incident's own station, not the grid's.
                station_org_id: Some(a),
            };
            assert_eq!(in_tx, expected);
            assert_eq!(expected.people().len(), 3);
            let order = store.incident(at_building).await.unwrap().unwrap().work_orders[0].id;
            assert_eq!(store.responsibility(subject(SubjectKind::WorkOrder, order)).await.unwrap(), expected);
            let address = store.responsibility(subject(SubjectKind::Address, building)).await.unwrap();
            assert_eq!(address, Responsibility { station_org_id: Some(b), ..expected.clone() }, "the grid's station");
            let unplaced = store.responsibility(subject(SubjectKind::Incident, nowhere)).await.unwrap();
            assert_eq!(unplaced, Responsibility { station_org_id: Some(a), ..Responsibility::default() });
            assert!(unplaced.people().is_empty());
            for kind in [SubjectKind::Incident, SubjectKind::WorkOrder, SubjectKind::Address, SubjectKind::Case] {
                assert_eq!(store.responsibility(subject(kind, 9_999)).await.unwrap(), Responsibility::default());
            }

            // A raised warning is delivered to the grid's people, and they
            // see it though station A is not within their organisation.
            let text = "他说要弄死对方";
            let found = FoundThreat { word: "弄死".into(), kind: "threat_to_kill".into(), start: 9, end: 15 };
            let new = NewWarning::threat_words(a, subject(SubjectKind::Address, building), ThreatSource::IncidentText, at_building, text, &[found], T0).unwrap();
            let mut tx = store.begin().await.unwrap();
            let id = tx.raise_warning(&new, T0).await.unwrap().unwrap();
            let mut chief = crate::new_user("chief.a", a);
            chief.roles = Roles::new([Role::StationChief]).unwrap();
            let chief = tx.insert_user(&chief, T0).await.unwrap();
            assert_eq!(tx.station_chiefs(a).await.unwrap(), [chief]);
            tx.commit().await.unwrap();
            let delivered: Vec<(i64, RecipientKind)> = store.warning_recipients(id).await.unwrap().iter().map(|r| (r.user_id, r.kind)).collect();
            assert_eq!(delivered[0], (officer, RecipientKind::Officer));
            assert_eq!(delivered.len(), 3);
            let county_path = store.organisation(county).await.unwrap().unwrap().path;
            let b_path = store.organisation(b).await.unwrap().unwrap().path;
            assert!(store.warnings_visible_to(b_path.as_str(), None, None, 10).await.unwrap().is_empty());
            let seen = store.warnings_visible_to(b_path.as_str(), Some(worker1), None, 10).await.unwrap();
            assert_eq!(seen.iter().map(|w| w.id).collect::<Vec<_>>(), [id]);
            assert_eq!(store.warnings_visible_to(county_path.as_str(), None, None, 10).await.unwrap().len(), 1);

            // Escalated once, to the chief, and only while open.
            let warning = store.warning(id).await.unwrap().unwrap();
            assert!(store.warnings_due_escalation(warning.acknowledge_by, 10).await.unwrap().is_empty());
            let late = warning.acknowledge_by.plus_minutes(1);
            assert_eq!(store.warnings_due_escalation(late, 10).await.unwrap(), [id]);
            let escalated = warning.escalate(late).unwrap();
            let mut tx = store.begin().await.unwrap();
            assert!(tx.record_warning_escalation(&escalated, &[chief], late).await.unwrap());
            assert!(!tx.record_warning_escalation(&escalated, &[chief], late).await.unwrap(), "once");
            tx.commit().await.unwrap();
            assert!(store.warnings_due_escalation(late, 10).await.unwrap().is_empty());
            assert_eq!(store.warning(id).await.unwrap().unwrap(), escalated, "read back as written");
            let last = *store.warning_recipients(id).await.unwrap().last().unwrap();
            assert_eq!((last.user_id, last.kind), (chief, RecipientKind::StationChief));
        }

        async fn the_deadline_scan_lists_a_work_order_until_it_escalates(db: TestDatabase) {
            let store = &db.store;
            let (county, a, _) = three_orgs(store).await;
            let mut tx = store.begin().await.unwrap();
            let incident = divert_wage_arrears(&mut tx, a, county, T0).await;
            tx.commit().await.unwrap();
            let order = store.incident(incident).await.unwrap().unwrap().work_orders[0].clone();
            assert!(store.work_orders_due(order.accept_by, 10).await.unwrap().is_empty(), "met at its last millisecond");
            let late = order.accept_by.plus_minutes(1);
            assert_eq!(store.work_orders_due(late, 10).await.unwrap(), [(order.id, incident)]);
            let escalated = order.escalate(late).state;
            let mut tx = store.begin().await.unwrap();
            assert!(tx.record_escalation(&order, &escalated, late).await.unwrap());
            assert!(!tx.record_escalation(&order, &escalated, late).await.unwrap(), "only from the state it was read in");
            tx.commit().await.unwrap();
            assert!(store.work_orders_due(late, 10).await.unwrap().is_empty());
            let reloaded = store.incident(incident).await.unwrap().unwrap().work_orders[0].clone();
            assert_eq!(reloaded, escalated);
            assert_eq!(store.work_orders_due(order.finish_by.plus_minutes(1), 10).await.unwrap(), [(order.id, incident)]);
        }
    }
}

mod disputes {
    use fengqiao_core::audit::Actor;
    use fengqiao_core::dispute::{
        CaseText, Dispute, DisputeSource, DisputeStatus, DisputeType, FollowUpPolicy,
        FollowUpStatus, MediationSession, Mediators, NewDispute, Risk,
    };
    use fengqiao_core::Timestamp;
    use fengqiao_store::testing::{two_stations, TestDatabase};
    use fengqiao_store::{backend_tests, Store, StoreError, StoredParty};

    const T0: Timestamp = Timestamp(1_764_000_000_000);
    const DAY: i64 = 24 * 60;

    fn text(s: &str) -> CaseText {
        CaseText::parse("text", s, 2000).unwrap()
    }

    fn new_dispute(org_id: i64, level: &str, source_id: Option<i64>) -> NewDispute {
        NewDispute {
            org_id,
            source: if source_id.is_some() {
                DisputeSource::FieldReport
            } else {
                DisputeSource::Station
            },
            source_id,
            dispute_type: DisputeType::PropertyManagement,
            parties: Vec::new(),
            building_id: None,
            address_text: text("锦里小区3栋"),
            facts: text("物业费纠纷"),
            risk: Risk::parse(Some(level), Some("业主多次扬言停缴")).unwrap(),
            officer_user_id: None,
            mediators: Mediators::parse(&["王调解".into()]).unwrap(),
        }
    }

    async fn register(store: &Store, new: NewDispute, at: Timestamp) -> Result<i64, StoreError> {
        let mut tx = store.begin().await?;
        let id = tx.next_dispute_id().await?;
        let registered = Dispute::register(id, new, Actor::User(1), at);
        let party = StoredParty {
            kind: "organisation".into(),
            org_name: Some("锦里物业公司".into()),
            ..Default::default()
        };
        tx.insert_dispute(&registered.state, &[party], Some("510107001001"), at)
            .await?;
        tx.append_dispute_events(id, &registered.events).await?;
        tx.commit().await?;
        Ok(id)
    }

    backend_tests! {
        async fn a_case_is_answered_for_by_its_buildings_grid_or_its_officer(db: TestDatabase) {
            use fengqiao_core::warning::{SubjectKind, WarningSubject};
            use fengqiao_store::Responsibility;
            let store = &db.store;
            let world = two_stations(store, T0).await;
            let a = world.station_a.id;
            let mut tx = store.begin().await.unwrap();
            let grid_officer = tx.insert_user(&crate::new_user("officer.grid", a), T0).await.unwrap();
            let case_officer = tx.insert_user(&crate::new_user("officer.case", a), T0).await.unwrap();
            let worker = tx.insert_user(&crate::new_user("worker.grid", world.county.id), T0).await.unwrap();
            let row = crate::address_registry::record("3栋", "2单元", "501");
            let grid = tx.upsert_grid(row.grid_code.as_ref().unwrap(), T0).await.unwrap();
            let building = tx.upsert_address(&row, Some(grid), T0).await.unwrap();
            tx.set_grid_responsibility(grid, Some(a), Some(grid_officer), &[worker], T0).await.unwrap();
            tx.commit().await.unwrap();
            let at_building = NewDispute { building_id: Some(building), officer_user_id: Some(case_officer), ..new_dispute(a, "high", None) };
            let at_building = register(store, at_building, T0).await.unwrap();
            let unplaced = NewDispute { officer_user_id: Some(case_officer), ..new_dispute(a, "low", None) };
            let unplaced = register(store, unplaced, T0).await.unwrap();
            let case = |id| WarningSubject { kind: SubjectKind::Case, id };
            assert_eq!(
                store.responsibility(case(at_building)).await.unwrap(),
                Responsibility {
                    building_id: Some(building),
                    grid_id: Some(grid),
                    officer_user_id: Some(grid_officer),
                    grid_worker_ids: vec![worker],
                    station_org_id: Some(a),
                }
            );
            assert_eq!(
                store.responsibility(case(unplaced)).await.unwrap(),
                Responsibility { officer_user_id: Some(case_officer), station_org_id: Some(a), ..Responsibility::default() },
                "no grid: the case's own officer"
            );
        }

        async fn a_case_reads_back_through_its_lifecycle(db: TestDatabase) {
            let store = &db.store;
            let world = two_stations(store, T0).await;
            let id = register(store, new_dispute(world.station_a.id, "high", None), T0).await.unwrap();

            let mut tx = store.begin().await.unwrap();
            let dispute = tx.lock_dispute(id).await.unwrap().unwrap();
            let session = MediationSession {
                id: tx.next_dispute_session_id().await.unwrap(),
                held_at: T0,
                place: text("社区调解室"),
                participants: text("业主代表、物业经理"),
                note: text("双方同意分期缴纳"),
                agreed: Some(text("分三期缴纳")),
                next_step: None,
                next_session_at: Some(T0.plus_minutes(DAY)),
            };
            let moved = dispute.record_session(&session, Actor::User(1), T0).unwrap();
            tx.insert_dispute_session(id, &session, "user:1", T0).await.unwrap();
            tx.update_dispute(&moved.state, T0).await.unwrap();
            tx.append_dispute_events(id, &moved.events).await.unwrap();
            let ids = tx.next_follow_up_ids(2).await.unwrap();
            assert_ne!(ids[0], ids[1]);
            let agreed = moved
                .state
                .record_agreement(text("分三期缴纳物业费"), &FollowUpPolicy::default(), &ids, Actor::User(1), T0)
                .unwrap();
            tx.update_dispute(&agreed.state, T0).await.unwrap();
            tx.append_dispute_events(id, &agreed.events).await.unwrap();
            tx.commit().await.unwrap();

            let record = store.dispute(id).await.unwrap().unwrap();
            assert_eq!(record.dispute.status, DisputeStatus::Resolved);
            assert_eq!(record.dispute.sessions, 1);
            assert_eq!(record.sessions[0].session, session);
            assert_eq!(record.next_session_at, Some(T0.plus_minutes(DAY)));
            assert_eq!(record.parties[0].org_name.as_deref(), Some("锦里物业公司"));
            assert_eq!(record.community_code.as_deref(), Some("510107001001"));
            assert_eq!(record.dispute.follow_ups.len(), 2);
            assert!(record.dispute.follow_ups.iter().all(|f| f.status == FollowUpStatus::Pending));
            let events: Vec<&str> = record.timeline.iter().map(|e| e.event["event"].as_str().unwrap()).collect();
            assert_eq!(events, ["registered", "session_recorded", "agreement_recorded", "follow_up_scheduled", "follow_up_scheduled"]);
            let listed = store.disputes_within(world.station_a.path.as_str(), Some(DisputeStatus::Resolved), 10).await.unwrap();
            assert_eq!(listed.len(), 1);
            assert!(store.disputes_within(world.station_b.path.as_str(), None, 10).await.unwrap().is_empty());

            // A visit is missed a day after it was due, and warned once.
            let due = record.dispute.follow_ups[0].due_at;
            assert!(store.disputes_with_missed_follow_ups(due.plus_minutes(DAY), 10).await.unwrap().is_empty());
            assert_eq!(store.disputes_with_missed_follow_ups(due.plus_minutes(DAY + 1), 10).await.unwrap(), [id]);
            let mut tx = store.begin().await.unwrap();
            assert!(tx.mark_follow_up_warned(record.dispute.follow_ups[0].id).await.unwrap());
            assert!(!tx.mark_follow_up_warned(record.dispute.follow_ups[0].id).await.unwrap());
            tx.commit().await.unwrap();
            assert!(store.disputes_with_missed_follow_ups(due.plus_minutes(DAY + 1), 10).await.unwrap().is_empty());
        }

        async fn one_case_per_source_and_high_risk_cases_wait_for_a_session(db: TestDatabase) {
            let store = &db.store;
            let world = two_stations(store, T0).await;
            let a = world.station_a.id;
            let first = register(store, new_dispute(a, "critical", Some(77)), T0).await.unwrap();
            let again = register(store, new_dispute(a, "critical", Some(77)), T0).await;
            assert!(matches!(again, Err(StoreError::Duplicate("source_id"))), "{again:?}");
            assert_eq!(store.dispute_from_source(DisputeSource::FieldReport, 77).await.unwrap(), Some(first));
            register(store, new_dispute(a, "low", None), T0).await.unwrap();

            let deadline = T0.plus_minutes(DAY);
            assert!(store.disputes_unmediated(deadline, 10).await.unwrap().is_empty());
            assert_eq!(store.disputes_unmediated(deadline.plus_minutes(1), 10).await.unwrap(), [first]);
            let mut tx = store.begin().await.unwrap();
            assert!(tx.mark_mediation_warned(first, deadline).await.unwrap());
            assert!(!tx.mark_mediation_warned(first, deadline).await.unwrap());
            tx.commit().await.unwrap();
            assert!(store.disputes_unmediated(deadline.plus_minutes(100 * DAY), 10).await.unwrap().is_empty());
        }
    }
}

mod units {
    use fengqiao_core::audit::Actor;
    use fengqiao_core::unit::{CallSign, Position, UnitKind, UnitStatus};
    use fengqiao_store::testing::TestDatabase;
    use fengqiao_store::{backend_tests, NewUnit, PositionReport, StoreError};

    use super::{new_user, three_orgs, T0};

    fn at(seconds: i64) -> fengqiao_core::Timestamp {
        fengqiao_core::Timestamp(T0.millis() + seconds * 1000)
    }

    fn report(unit_id: i64, seconds: i64, lat: f64) -> PositionReport {
        PositionReport {
            unit_id,
            at: fengqiao_core::Timestamp(T0.millis() + seconds * 1000),
            position: Position::parse(lat, 104.05).unwrap(),
        }
    }

    backend_tests! {
        async fn units_keep_their_status_crew_and_newest_position(db: TestDatabase) {
            let store = &db.store;
            let (_, a, _) = three_orgs(store).await;
            let new = NewUnit { org_id: a, call_sign: CallSign::parse("锦里步巡1组").unwrap(), kind: UnitKind::FootPatrol };
            let mut tx = store.begin().await.unwrap();
            let id = tx.insert_unit(&new, T0).await.unwrap();
            let officer = tx.insert_user(&new_user("crew.one", a), T0).await.unwrap();
            tx.set_crew(id, &[officer]).await.unwrap();
            tx.commit().await.unwrap();

            let mut tx = store.begin().await.unwrap();
            assert!(matches!(tx.insert_unit(&new, T0).await, Err(StoreError::Duplicate(_))), "one call sign per organisation");
            drop(tx);

            let mut tx = store.begin().await.unwrap();
            let unit = tx.lock_unit(id).await.unwrap().unwrap();
            let off = unit.advance(UnitStatus::OutOfService, Actor::User(officer), T0).unwrap();
            tx.update_unit(&off.state, &off.events).await.unwrap();
            // Out of order, and one report twice: the newest wins, each is kept once.
            tx.record_positions(&[report(id, 20, 30.652), report(id, 10, 30.651), report(id, 20, 30.652)]).await.unwrap();
            tx.commit().await.unwrap();
            let mut tx = store.begin().await.unwrap();
            tx.record_positions(&[report(id, 5, 30.640)]).await.unwrap();
            tx.commit().await.unwrap();

            let stored = store.unit(id).await.unwrap().unwrap();
            assert_eq!(stored.status, UnitStatus::OutOfService);
            assert_eq!(stored.position_at, Some(at(20)));
            assert_eq!(stored.position.unwrap().point().lat(), 30.652);
            assert_eq!(store.unit_of_user(officer).await.unwrap().map(|u| u.id), Some(id));
            assert_eq!(store.crew(id).await.unwrap(), [officer]);
            let track = store.unit_track(id, T0, at(60)).await.unwrap();
            assert_eq!(track.iter().map(|r| r.at).collect::<Vec<_>>(), [at(5), at(10), at(20)]);
            let timeline = store.unit_timeline(id).await.unwrap();
            assert_eq!(timeline.len(), 1);
            assert_eq!(timeline[0].event["event"], "out_of_service");
            // Not available: no recommendation sees it.
            assert!(store.available_units(&[a]).await.unwrap().is_empty());
            let org = store.organisation(a).await.unwrap().unwrap();
            assert_eq!(store.units_within(org.path.as_str(), "步巡").await.unwrap().len(), 1);
            assert!(store.units_within(org.path.as_str(), "巡逻车").await.unwrap().is_empty());
        }
    }
}

mod roads {
    use fengqiao_core::geo::Wgs84;
    use fengqiao_core::road::RoadLine;
    use fengqiao_store::backend_tests;
    use fengqiao_store::testing::TestDatabase;

    fn line(name: &str, points: &[(f64, f64)]) -> RoadLine {
        let points = points
            .iter()
            .map(|&(lat, lon)| Wgs84::new(lat, lon).unwrap())
            .collect();
        RoadLine::new(name, points).unwrap()
    }

    backend_tests! {
        async fn roads_are_replaced_whole_and_the_revision_moves(db: TestDatabase) {
            let store = &db.store;
            let south = line("南街", &[(30.60, 104.00), (30.60, 104.01), (30.60, 104.02)]);
            let west = line("西路", &[(30.60, 104.00), (30.61, 104.00)]);
            assert!(store.roads().await.unwrap().is_empty());
            let empty = store.roads_revision().await.unwrap();
            let mut tx = store.begin().await.unwrap();
            tx.replace_roads(&[south.clone(), west.clone()]).await.unwrap();
            tx.commit().await.unwrap();
            assert_eq!(store.roads().await.unwrap(), [south.clone(), west.clone()]);
            let first = store.roads_revision().await.unwrap();
            assert_ne!(first, empty);
            // The same two again: the same roads, a new revision.
            let mut tx = store.begin().await.unwrap();
            tx.replace_roads(&[south.clone(), west]).await.unwrap();
            tx.commit().await.unwrap();
            assert_eq!(store.roads().await.unwrap().len(), 2);
            let second = store.roads_revision().await.unwrap();
            assert_ne!(second, first);
            // A replacement rolled back changes nothing.
            let mut tx = store.begin().await.unwrap();
            tx.replace_roads(&[south]).await.unwrap();
            drop(tx);
            assert_eq!(store.roads_revision().await.unwrap(), second);
            assert_eq!(store.roads().await.unwrap().len(), 2);
        }
    }
}
