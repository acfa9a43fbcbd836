//! `fengqiao gen` (also `fengqiao demo --generate-only`): the demo's town
//! made N times larger and its calls of up to a year written into an empty
//! database without serving, for the benchmarks — ten million addresses
//! and ten million incidents at `--scale 150 --stations 5 --history-days
//! 365 --calls-per-day 40`.
//!
//! Both phases stream: the addresses go through the import path 1,000 rows
//! to a transaction as the town yields them, and the calls are drawn day by
//! day and written through `fengqiao_server::services::bulk_intake` 1,000 to a
//! transaction, so memory holds one batch, the town's plan, the registry's
//! buildings (to place each call) and the last 30 days' calls of each
//! station (for repeat-call linking), whatever the size.
//!
//! The seeding and the calls read no wall clock beyond the day the run
//! ends at, so one seed on one day makes the same database twice.

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use fengqiao_core::audit::Actor;
use fengqiao_core::china_time::ChinaDay;
use fengqiao_core::personal::PersonalDataCipher;
use fengqiao_core::repeat_call::RepeatCallPolicy;
use fengqiao_core::role::Role;
use fengqiao_core::user::PasswordHashing;
use fengqiao_core::{Clock, ManualClock, SystemClock, Timestamp};
use fengqiao_server::services::bulk_intake::{
    BulkIntake, BulkTotals, FollowPlan, GeneratedCall, KnownBuilding, StationPeople,
};
use fengqiao_server::{AppState, ServerSettings};
use fengqiao_store::Store;
use fengqiao_world::{Call, Calls, Place, Town, TownSpec};
use indicatif::{ProgressBar, ProgressStyle};

use crate::config::Settings;
use crate::demo::{self, Seeded};
use crate::serve;

const DAY_MS: i64 = 86_400_000;
/// Calls to a transaction: as the address import, a crash loses at most one.
pub const BATCH: usize = 1_000;

/// What `fengqiao gen` makes.
#[derive(Debug, Clone)]
pub struct GenOptions {
    /// `scale` multiplies the compounds (and so the addresses) and the calls.
    pub town: TownSpec,
    pub history_days: u32,
    /// Calls a station receives a day at scale 1; the town's scale
    /// multiplies it, since calls grow with the people living there.
    pub calls_per_day: f64,
}

impl GenOptions {
    /// From the command line, `gen` and `demo --generate-only` alike.
    pub fn new(
        seed: u64,
        stations: u32,
        scale: u32,
        history_days: u32,
        calls_per_day: f64,
    ) -> Self {
        GenOptions {
            town: TownSpec {
                seed,
                stations: stations as usize,
                scale,
            },
            history_days,
            calls_per_day: calls_per_day.clamp(0.0, 1000.0),
        }
    }
}

impl GenOptions {
    pub fn calls_per_station_per_day(&self) -> f64 {
        self.calls_per_day * f64::from(self.town.scale.max(1))
    }
}

/// What a generation wrote.
pub struct Generated {
    pub seeded: Seeded,
    pub addresses: u64,
    pub totals: BulkTotals,
    pub address_seconds: f64,
    pub incident_seconds: f64,
}

pub async fn run(settings: &Settings, options: &GenOptions) -> anyhow::Result<ExitCode> {
    let store = serve::open_store(settings).await?;
    let cipher = serve::cipher(settings)?;
    let repeat_calls = RepeatCallPolicy::with_limits(
        settings.repeat_call_window_days,
        settings.repeat_call_threshold,
    )
    .map_err(|e| {
        anyhow::anyhow!(
            "配置项 repeat_call_{0} 无效 / invalid repeat_call_{0}",
            e.field
        )
    })?;
    ensure_empty(&store).await?;
    let until = ChinaDay::of(SystemClock.now()).starts_at();
    println!(
        "生成辖区 / generating: 种子 seed {}，{} 个派出所 stations，规模 scale {}，{} 天 days，每所每天约 {:.0} 起警情 calls per station a day",
        options.town.seed,
        options.town.stations,
        options.town.scale,
        options.history_days,
        options.calls_per_station_per_day()
    );
    let generated = generate(
        &store,
        &cipher,
        &PasswordHashing::recommended(),
        options,
        repeat_calls,
        until,
        true,
    )
    .await?;
    let url = format!("http://{}", settings.bind);
    demo::write_credentials(&settings.data_dir, &url, &generated.seeded.accounts)?;
    let t = &generated.totals;
    println!(
        "地址 / addresses: {} 条，{:.0} 秒，{:.0} 条/秒 rows/s",
        generated.addresses,
        generated.address_seconds,
        generated.addresses as f64 / generated.address_seconds.max(0.001)
    );
    println!(
        "警情 / incidents: {} 起（警务类 police {}），{:.0} 秒，{:.0} 起/秒 incidents/s",
        t.incidents,
        t.police,
        generated.incident_seconds,
        t.incidents as f64 / generated.incident_seconds.max(0.001)
    );
    println!(
        "工单 / work orders: {}，办结 confirmed {}，超时督办 escalations {}，预警 warnings {}，重复报警 repeat calls {}，被拒绝 refused {}",
        t.work_orders, t.work_orders_closed, t.escalations, t.warnings, t.repeats, t.refused
    );
    println!(
        "账号已写入 / accounts written to {}; `fengqiao demo` 在同一数据目录上直接服务这个辖区 / serves this world on the same data directory",
        settings.data_dir.join(demo::CREDENTIALS_FILE).display()
    );
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// Refuses anything but an empty database: a world is written whole or
/// not at all, never mixed into real data.
pub async fn ensure_empty(store: &Store) -> anyhow::Result<()> {
    let users = store.count_users().await?;
    let incidents = store.count_incidents().await?;
    anyhow::ensure!(
        users == 0 && incidents == 0,
        "数据库不是空的（{users} 个账号、{incidents} 起警情）：gen 只写入空数据库，请换一个 --data-dir 或 --database-url / \
         the database is not empty ({users} accounts, {incidents} incidents): gen writes only into an empty one"
    );
    Ok(())
}

/// Writes the town and its calls of the `history_days` days before
/// `until` into the empty `store`.
pub async fn generate(
    store: &Store,
    cipher: &PersonalDataCipher,
    hashing: &PasswordHashing,
    options: &GenOptions,
    repeat_calls: RepeatCallPolicy,
    until: Timestamp,
    show_progress: bool,
) -> anyhow::Result<Generated> {
    ensure_empty(store).await?;
    let town = Town::generate(options.town);
    let start = Timestamp(until.millis() - i64::from(options.history_days) * DAY_MS);

    let addresses = town.address_count();
    let bar = progress(
        show_progress,
        addresses,
        "地址 / addresses {bar:30} {pos}/{len} {per_sec} {eta}",
    );
    let begun = Instant::now();
    let seeded = demo::seed_with_progress(store, cipher, hashing, &town, start, &bar).await?;
    bar.finish();
    let address_seconds = begun.elapsed().as_secs_f64();

    let places = Places::load(store, &town).await?;
    let clock = Arc::new(ManualClock::new(until));
    let state = AppState::new(
        store.clone(),
        cipher.clone(),
        clock.clone() as Arc<dyn Clock>,
        hashing.clone(),
        ServerSettings {
            repeat_calls,
            ..ServerSettings::default()
        },
    );
    let mut intake = BulkIntake::new(state, stations(&town, &seeded), handlers(&town, &seeded))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let calls = Calls::new(
        &town,
        options.town.seed,
        options.calls_per_station_per_day(),
    );
    let expected = (options.calls_per_station_per_day()
        * town.streets.len() as f64
        * f64::from(options.history_days)) as u64;
    let bar = progress(
        show_progress,
        expected,
        "警情 / incidents {bar:30} {pos}/~{len} {per_sec} {eta}",
    );
    let begun = Instant::now();
    let mut batch = Vec::with_capacity(BATCH);
    let mut history = calls.history(until, u64::from(options.history_days));
    loop {
        batch.clear();
        batch.extend(
            history
                .by_ref()
                .take(BATCH)
                .map(|call| generated_call(&town, &seeded, &places, call))
                .collect::<anyhow::Result<Vec<_>>>()?,
        );
        if batch.is_empty() {
            break;
        }
        intake
            .take_in(&batch, until)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))
            .context("写入警情失败 / writing incidents failed")?;
        bar.inc(batch.len() as u64);
    }
    bar.set_length(bar.position());
    bar.finish();
    Ok(Generated {
        seeded,
        addresses,
        totals: intake.totals.clone(),
        address_seconds,
        incident_seconds: begun.elapsed().as_secs_f64(),
    })
}

fn progress(show: bool, len: u64, template: &str) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    bar.set_style(ProgressStyle::with_template(template).expect("a valid template"));
    bar
}

/// Each station's operator and the governance centre of its street.
fn stations(town: &Town, seeded: &Seeded) -> HashMap<i64, StationPeople> {
    town.streets
        .iter()
        .map(|street| {
            let operator = seeded.users[&format!("zhihui.{}", street.key)];
            (
                seeded.orgs[street.key],
                StationPeople {
                    operator: Actor::User(operator),
                    reroute_to: seeded.orgs.get(&format!("{}_centre", street.key)).copied(),
                },
            )
        })
        .collect()
}

/// The first handler of each organisation, as the demo's history signs in.
fn handlers(town: &Town, seeded: &Seeded) -> HashMap<i64, Actor> {
    let mut handlers = HashMap::new();
    for person in &town.people {
        if person.role == Role::DepartmentHandler {
            handlers
                .entry(seeded.orgs[&person.org])
                .or_insert_with(|| Actor::User(seeded.users[&person.username]));
        }
    }
    handlers
}

/// The registry's buildings by what the town calls them: a compound's
/// building, or a house number on a road.
struct Places {
    in_compounds: HashMap<(String, String), KnownBuilding>,
    on_roads: HashMap<(String, String), KnownBuilding>,
}

impl Places {
    async fn load(store: &Store, town: &Town) -> anyhow::Result<Places> {
        let mut places = Places {
            in_compounds: HashMap::new(),
            on_roads: HashMap::new(),
        };
        for street in &town.streets {
            let mut after = 0;
            loop {
                let page = store.buildings_under(street.code, after, 10_000).await?;
                let Some(last) = page.last() else { break };
                after = last.id;
                for b in page {
                    let known = KnownBuilding {
                        id: b.id,
                        community_code: b.community_code.clone(),
                        lat: b.lat,
                        lon: b.lon,
                    };
                    match (&b.compound, &b.road, &b.road_number) {
                        (Some(compound), _, _) => {
                            places
                                .in_compounds
                                .insert((compound.clone(), b.building.clone()), known);
                        }
                        (None, Some(road), Some(number)) => {
                            places
                                .on_roads
                                .insert((road.clone(), number.clone()), known);
                        }
                        _ => {}
                    }
                }
            }
        }
        Ok(places)
    }

    fn of(&self, town: &Town, place: Place) -> Option<KnownBuilding> {
        match place {
            Place::Room {
                compound, building, ..
            } => {
                let name = town.compounds[compound].name.clone();
                self.in_compounds
                    .get(&(name, format!("{building}栋")))
                    .cloned()
            }
            Place::Frontage(f) => {
                let shop = &town.frontages[f];
                let road = town.roads[shop.road].name.clone();
                self.on_roads
                    .get(&(road, format!("{}号", shop.number)))
                    .cloned()
            }
        }
    }
}

fn generated_call(
    town: &Town,
    seeded: &Seeded,
    places: &Places,
    call: Call,
) -> anyhow::Result<GeneratedCall> {
    let key = town.streets[call.station].key;
    let station_org_id = *seeded
        .orgs
        .get(key)
        .with_context(|| format!("no station {key}"))?;
    Ok(GeneratedCall {
        received_at: call.at,
        station_org_id,
        source: call.source.to_owned(),
        building: places.of(town, call.place),
        text: call.text,
        location_text: call.location_text,
        reporter_name: call.reporter_name,
        reporter_phone: call.reporter_phone,
        plan: FollowPlan {
            rejected_first: call.follow.rejected_first,
            accept_after_minutes: call.follow.accept_after_minutes,
            finish_after_minutes: call.follow.finish_after_minutes,
            resolved: call.follow.resolved,
            satisfaction: call.follow.satisfaction,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{Method, StatusCode};
    use fengqiao_server::client::Client;
    use fengqiao_store::backend_tests;
    use fengqiao_store::testing::TestDatabase;
    use serde_json::{json, Value};

    /// As in `demo::tests`: secrets drawn at random and personal data
    /// encrypted with a random nonce differ between runs by design.
    use crate::demo::tests::RANDOM;

    /// 2026-11-23 00:00 in China.
    const UNTIL: Timestamp = Timestamp(1_795_363_200_000);

    /// One station at scale 2 and three days of its calls, doubled.
    async fn small(db: &TestDatabase, key: &str, seed: u64) -> Generated {
        let options = GenOptions {
            town: TownSpec {
                seed,
                stations: 1,
                scale: 2,
            },
            history_days: 3,
            calls_per_day: 30.0,
        };
        generate(
            &db.store,
            &PersonalDataCipher::from_hex(key).unwrap(),
            &PasswordHashing::fast_for_tests(),
            &options,
            RepeatCallPolicy::default(),
            UNTIL,
            false,
        )
        .await
        .unwrap()
    }

    /// A request through the client, as its status, JSON body and the
    /// session it set.
    async fn call(
        client: &Client,
        session: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value, Option<String>) {
        let mut request = client.request(method, path).auth_opt(session);
        if let Some(body) = body {
            request = request.json(&body).unwrap();
        }
        let response = request.send().await.unwrap();
        (
            response.status,
            response.json().unwrap_or(Value::Null),
            response.session_cookie(),
        )
    }

    backend_tests! {
        async fn gen_writes_one_world_per_seed_that_the_api_reads_and_counts(first: TestDatabase) {
            let key = PersonalDataCipher::generate_key_hex();
            let generated = small(&first, &key, 11).await;
            let totals = generated.totals.clone();
            assert!(generated.addresses > 20_000, "{}", generated.addresses);
            assert!(totals.incidents > 150, "{totals:?}");
            assert!(totals.police > 0 && totals.police < totals.incidents, "{totals:?}");
            assert!(totals.work_orders_closed > 0, "{totals:?}");
            // A call the governance centre itself refused cannot go back to
            // it: the core refuses that re-route, as it does in the demo.
            assert!(totals.refused * 20 <= totals.incidents, "{totals:?}");
            assert_eq!(
                first.store.count_incidents().await.unwrap() as u64,
                totals.incidents
            );

            // The same seed twice: the same rows in every table.
            let second = TestDatabase::create(first.store.backend()).await.unwrap();
            let twin = small(&second, &key, 11).await;
            assert_eq!(twin.totals, totals);
            let tables = first.store.tables_for_tests().await.unwrap();
            for table in tables.iter().filter(|t| *t != "sessions") {
                let a = first.store.rows_for_tests(table, RANDOM).await.unwrap();
                let b = second.store.rows_for_tests(table, RANDOM).await.unwrap();
                assert_eq!(a.len(), b.len(), "{table}: row counts");
                for (x, y) in a.iter().zip(&b) {
                    assert_eq!(x, y, "{table}");
                }
            }

            // Written into a database that is not empty, nothing happens.
            let again = generate(
                &first.store,
                &PersonalDataCipher::from_hex(&key).unwrap(),
                &PasswordHashing::fast_for_tests(),
                &GenOptions {
                    town: TownSpec { seed: 11, stations: 1, scale: 1 },
                    history_days: 1,
                    calls_per_day: 5.0,
                },
                RepeatCallPolicy::default(),
                UNTIL,
                false,
            )
            .await;
            let refusal = format!("{:#}", again.err().expect("refused"));
            assert!(refusal.contains("数据库不是空的"), "{refusal}");
            assert_eq!(
                first.store.count_incidents().await.unwrap() as u64,
                totals.incidents
            );

            // The normal reads see what gen reports: the analyst's list,
            // one incident with its timeline, and the figures of the period.
            let state = AppState::new(
                first.store.clone(),
                PersonalDataCipher::from_hex(&key).unwrap(),
                Arc::new(ManualClock::new(UNTIL)),
                PasswordHashing::fast_for_tests(),
                ServerSettings::default(),
            );
            let client = Client::new(state);
            let analyst = generated
                .seeded
                .accounts
                .iter()
                .find(|a| a.username == "fenxi.wh")
                .unwrap();
            let (status, _, cookie) = call(
                &client,
                None,
                Method::POST,
                "/api/v1/session",
                Some(json!({ "username": analyst.username, "password": analyst.password })),
            )
            .await;
            assert!(status.is_success(), "{status}");
            let cookie = cookie.unwrap();
            let (status, list, _) =
                call(&client, Some(&cookie), Method::GET, "/api/v1/incidents", None).await;
            assert_eq!(status, StatusCode::OK);
            let list = list.as_array().unwrap();
            assert_eq!(list.len() as u64, totals.incidents.min(200));
            let closed = list
                .iter()
                .find(|i| i["status"] == "closed")
                .or_else(|| list.iter().find(|i| i["status"] == "resolved"))
                .expect("a closed incident among the newest");
            let path = format!("/api/v1/incidents/{}", closed["id"]);
            let (status, one, _) = call(&client, Some(&cookie), Method::GET, &path, None).await;
            assert_eq!(status, StatusCode::OK);
            let events: Vec<&str> = one["timeline"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["event"].as_str().unwrap())
                .collect();
            for wanted in ["received", "triaged", "work_order_created", "accepted", "returned", "confirmed", "resolved"] {
                assert!(events.contains(&wanted), "{wanted} in {events:?}");
            }
            assert!(one["location"]["building_id"].is_i64(), "{one}");
            assert!(one["reporter_phone"].is_null() || one["reporter_phone"].as_str().unwrap().contains('*'));

            // The three days before UNTIL, in UTC.
            let county = generated.seeded.orgs["county"];
            let path = format!(
                "/api/v1/figures?org_id={county}&from=2026-11-19T16:00:00Z&to=2026-11-22T16:00:00Z"
            );
            let (status, figures, _) = call(&client, Some(&cookie), Method::GET, &path, None).await;
            assert_eq!(status, StatusCode::OK, "{figures}");
            assert_eq!(figures["incidents"], totals.incidents);
            assert_eq!(figures["by_group"]["police"], totals.police);
            assert_eq!(figures["by_group"]["non_police"], totals.incidents - totals.police);
            assert_eq!(figures["work_orders"], totals.work_orders);
            assert_eq!(figures["repeat_calls"]["count"], totals.repeats);

        }
    }
}
