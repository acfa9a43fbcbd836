//! `fengqiao bench dispatch`: the two hot paths of 派警 through the real
//! router (`fengqiao_server::client::Client`, in this process): ranking a
//! registry of units for one incident, and a GPS feed's batches of
//! positions, beside the store's own write of the same positions.
//!
//! The world is a district of Chengdu: police stations with their command
//! rooms, one war zone (战区) over them all, and the units spread over the
//! stations a few kilometres around 30.65 N 104.05 E. Setup (organisations,
//! units, first positions) goes straight to the store and is not timed;
//! what is timed goes through middleware, authentication, the handler and
//! the service as a client's request would.

use std::collections::BTreeSet;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::http::StatusCode;
use fengqiao_address::registry::{AddressRecord, RawAddressRecord};
use fengqiao_core::audit::{Actor, AuditAction, AuditEvent};
use fengqiao_core::org::{DivisionCode, NewOrganisation, OrgKind, Organisation};
use fengqiao_core::personal::PersonalDataCipher;
use fengqiao_core::role::{Permission, Role, Roles};
use fengqiao_core::secret::{self, API_TOKEN_PREFIX};
use fengqiao_core::unit::{CallSign, Position, UnitKind};
use fengqiao_core::user::{Password, PasswordHashing, Username};
use fengqiao_core::{Clock, SystemClock, Timestamp};
use fengqiao_server::client::Client;
use fengqiao_server::services::accounts::{self, NewAccount};
use fengqiao_server::services::format::rfc3339;
use fengqiao_server::{AppState, ServerSettings};
use fengqiao_store::testing::TestDatabase;
use fengqiao_store::{Backend, NewUnit, PositionReport, Store};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

use crate::bench_intake::verdict;

/// What to run; the defaults are the figures of the dispatch issue.
#[derive(Debug, Clone)]
pub struct Options {
    /// Units in the registry the recommendation ranks from.
    pub registry: usize,
    /// Timed recommendation requests per case, after a warm-up.
    pub requests: usize,
    /// Units of the position feed.
    pub units: usize,
    /// Positions per batch.
    pub batch: usize,
    /// The feed runs until this many positions or `seconds` of endpoint
    /// time, whichever comes first.
    pub positions: u64,
    pub seconds: f64,
    /// `postgres://…` to run in fresh schemas of that server, dropped
    /// after; a temporary SQLite file when absent.
    pub database_url: Option<String>,
    pub seed: u64,
}

/// Goals of the dispatch issue.
const GOAL_P99: Duration = Duration::from_millis(5);
const GOAL_PER_SECOND: f64 = 20_000.0;
/// Police stations of the district, each with its command room; the first
/// is the incident's.
const STATIONS: [(&str, &str); 9] = [
    ("浆洗街派出所", "510107001"),
    ("簇桥派出所", "510107002"),
    ("红牌楼派出所", "510107003"),
    ("望江路派出所", "510107004"),
    ("玉林派出所", "510107005"),
    ("火车南站派出所", "510107006"),
    ("跳伞塔派出所", "510107007"),
    ("芳草派出所", "510107008"),
    ("肖家河派出所", "510107009"),
];
/// The scene of the first incident; the station's own units stand within
/// [`OWN_RADIUS_M`] of it, so the nearest arrive within the standard.
const NEAR: (f64, f64) = (30.6500, 104.0500);
/// The second scene, 5 km south: every unit of the station is more than
/// 3 km away (over 8 minutes for the fastest, a patrol car), so the
/// station is overloaded and the war zone's units are ranked too.
const FAR: (f64, f64) = (30.6050, 104.0500);
const OWN_RADIUS_M: f64 = 2_000.0;
/// The other stations' units, and the feed's, in this box (about 10 × 10 km).
const AREA: ((f64, f64), (f64, f64)) = ((30.600, 104.000), (30.690, 104.100));
const WARM_UP: usize = 50;
const PASSWORD: &str = "压测专用-dispatch-2026";

pub async fn run(options: Options) -> anyhow::Result<ExitCode> {
    let mut failed = false;
    failed |= !recommendation(&options).await?;
    failed |= !ingestion(&options).await?;
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

async fn open(options: &Options) -> anyhow::Result<TestDatabase> {
    Ok(match options.database_url.as_deref() {
        None => TestDatabase::create(Backend::Sqlite)
            .await
            .context("a temporary SQLite database")?,
        Some(url) if url.starts_with("postgres") => TestDatabase::postgres_at(url).await,
        Some(url) => anyhow::bail!(
            "--database-url {url:?}: a postgres:// server (a fresh schema is made and dropped); \
             leave it out for a temporary SQLite file"
        ),
    })
}

fn describe(store: &Store) -> &'static str {
    match store.backend() {
        Backend::Sqlite => "SQLite: WAL, synchronous=FULL",
        Backend::Postgres => "PostgreSQL: synchronous_commit on",
    }
}

fn state_for(store: &Store) -> anyhow::Result<AppState> {
    let cipher = PersonalDataCipher::from_hex(&PersonalDataCipher::generate_key_hex())?;
    Ok(AppState::new(
        store.clone(),
        cipher,
        Arc::new(SystemClock),
        PasswordHashing::fast_for_tests(),
        ServerSettings::default(),
    ))
}

fn millis(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1e3)
}

/// The district: a county bureau, the stations each with a command room,
/// and one war zone whose divisions cover every station's.
struct District {
    county: Organisation,
    /// Each station and its command room.
    stations: Vec<(Organisation, Organisation)>,
}

async fn district(store: &Store, now: Timestamp) -> anyhow::Result<District> {
    let org = |parent: Option<i64>, kind, name: &str, codes: &[&str]| -> anyhow::Result<_> {
        Ok(NewOrganisation {
            parent_id: parent,
            kind,
            department_type: None,
            name: name.into(),
            division_codes: codes
                .iter()
                .map(|c| DivisionCode::parse(c))
                .collect::<Result<_, _>>()?,
        })
    };
    let mut tx = store.begin().await?;
    let county = tx
        .insert_organisation(
            &org(None, OrgKind::CountyBureau, "武侯区分局", &["510107"])?,
            now,
        )
        .await?;
    let mut stations = Vec::new();
    for (name, code) in STATIONS {
        let station = tx
            .insert_organisation(
                &org(Some(county.id), OrgKind::PoliceStation, name, &[code])?,
                now,
            )
            .await?;
        let room = tx
            .insert_organisation(
                &org(
                    Some(station.id),
                    OrgKind::CommandRoom,
                    &format!("{name}综合指挥室"),
                    &[code],
                )?,
                now,
            )
            .await?;
        stations.push((station, room));
    }
    let codes: Vec<&str> = STATIONS.iter().map(|(_, code)| *code).collect();
    tx.insert_organisation(
        &org(Some(county.id), OrgKind::WarZone, "武侯区第一战区", &codes)?,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(District { county, stations })
}

/// A point `metres` or less from `centre`, uniform over the disc.
fn near(rng: &mut ChaCha8Rng, centre: (f64, f64), metres: f64) -> (f64, f64) {
    let r = metres * rng.gen::<f64>().sqrt();
    let angle = rng.gen::<f64>() * std::f64::consts::TAU;
    let dlat = r * angle.cos() / 111_320.0;
    let dlon = r * angle.sin() / (111_320.0 * centre.0.to_radians().cos());
    (centre.0 + dlat, centre.1 + dlon)
}

fn in_area(rng: &mut ChaCha8Rng) -> (f64, f64) {
    let ((south, west), (north, east)) = AREA;
    (rng.gen_range(south..north), rng.gen_range(west..east))
}

/// Police kinds in a mix a district might have.
fn kind_of(n: usize) -> UnitKind {
    match n % 10 {
        0..=4 => UnitKind::PatrolCar,
        5 | 6 => UnitKind::Scooter,
        7 | 8 => UnitKind::FootPatrol,
        _ => UnitKind::JointDutyTeam,
    }
}

/// Registers `count` units, the `n`th on `org_of(n)` at `place(n)`, in
/// transactions of 10,000 through the store's own writes; their ids.
async fn add_units(
    store: &Store,
    count: usize,
    now: Timestamp,
    mut org_of: impl FnMut(usize) -> i64,
    mut place: impl FnMut(usize) -> (f64, f64),
) -> anyhow::Result<Vec<i64>> {
    let mut ids = Vec::with_capacity(count);
    let mut reports = Vec::with_capacity(10_000);
    for start in (0..count).step_by(10_000) {
        let mut tx = store.begin().await?;
        reports.clear();
        for n in start..count.min(start + 10_000) {
            let unit = NewUnit {
                org_id: org_of(n),
                call_sign: CallSign::parse(&format!("武侯巡{n}"))?,
                kind: kind_of(n),
            };
            let id = tx.insert_unit(&unit, now).await?;
            let (lat, lon) = place(n);
            reports.push(PositionReport {
                unit_id: id,
                at: now,
                position: Position::parse(lat, lon)?,
            });
            ids.push(id);
        }
        tx.record_positions(&reports).await?;
        tx.commit().await?;
    }
    Ok(ids)
}

// ---------------------------------------------------------------------------
// Recommendation

/// Ranks the registry for two incidents of the first station, one its own
/// units reach in time and one they do not; prints p50 and p99 of each.
/// False when a request failed or a case did not come out as meant.
async fn recommendation(options: &Options) -> anyhow::Result<bool> {
    let db = open(options).await?;
    let store = db.store.clone();
    let now = SystemClock.now();
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let world = district(&store, now).await?;
    let (station, room) = &world.stations[0];
    // The station's share, half on the station and half on its command
    // room, near the first scene; the rest over the other stations and
    // the whole area.
    let own = options.registry / STATIONS.len();
    let others = &world.stations[1..];
    add_units(
        &store,
        options.registry,
        now,
        |n| match n {
            n if n < own && n % 2 == 0 => station.id,
            n if n < own => room.id,
            n => {
                let (other, other_room) = &others[n % others.len()];
                if n % 2 == 0 {
                    other.id
                } else {
                    other_room.id
                }
            }
        },
        |n| {
            if n < own {
                near(&mut rng, NEAR, OWN_RADIUS_M)
            } else {
                in_area(&mut rng)
            }
        },
    )
    .await?;

    let state = state_for(&store)?;
    add_account(&state, "bench.operator", room.id, Role::Operator).await?;
    let client = Client::new(state);
    let operator = client
        .sign_in("bench.operator", PASSWORD)
        .await?
        .session_cookie()
        .context("the operator signs in")?;
    add_building(&store, "锦里东苑", "1栋", NEAR, now).await?;
    add_building(&store, "南苑新村", "3栋", FAR, now).await?;
    let near_incident = fight_call(&client, &operator, "成都市武侯区浆洗街锦里东苑1栋").await?;
    let far_incident = fight_call(&client, &operator, "成都市武侯区浆洗街南苑新村3栋").await?;

    println!(
        "recommendation: GET /api/v1/incidents/{{id}}/recommendations as an operator ({})",
        describe(&store)
    );
    println!(
        "  world                          {} units: {} of {} (station and command room), the rest over {} more stations of one war zone",
        options.registry,
        own,
        station.name,
        others.len()
    );
    let mut ok = true;
    for (case, incident, overloaded) in [
        ("own units within standard", near_incident, false),
        ("overloaded, war zone included", far_incident, true),
    ] {
        let path = format!("/api/v1/incidents/{incident}/recommendations");
        let answer = client.get(&path).auth(&operator).send().await?;
        anyhow::ensure!(
            answer.status == StatusCode::OK,
            "{case}: {} {}",
            answer.status,
            answer.text()
        );
        let found = answer.json()?;
        let first = &found["units"][0];
        if found["overloaded"] != overloaded || first["within_standard"] != true {
            println!(
                "  {case:<30} did not come out as meant: overloaded {}, first {first}",
                found["overloaded"]
            );
            ok = false;
        }
        for _ in 0..WARM_UP {
            client.get(&path).auth(&operator).send().await?;
        }
        let mut latencies = Vec::with_capacity(options.requests);
        let mut errors = 0;
        for _ in 0..options.requests {
            let sent = Instant::now();
            let answer = client.get(&path).auth(&operator).send().await?;
            latencies.push(sent.elapsed());
            if answer.status != StatusCode::OK {
                errors += 1;
            }
        }
        latencies.sort_unstable();
        let p99 = percentile(&latencies, 0.99);
        println!(
            "  {case:<30} p50 {}, p99 {} over {} requests ({} units in scope, {} returned{})   goal p99 < {} ms: {} (p99 ÷ goal {:.2})",
            millis(percentile(&latencies, 0.50)),
            millis(p99),
            options.requests,
            if overloaded { options.registry } else { own },
            found["units"].as_array().map_or(0, Vec::len),
            if errors > 0 { format!("; {errors} failed") } else { String::new() },
            GOAL_P99.as_millis(),
            verdict(p99 < GOAL_P99),
            p99.as_secs_f64() / GOAL_P99.as_secs_f64(),
        );
        ok &= errors == 0;
    }
    store.close().await;
    drop(db);
    Ok(ok)
}

fn percentile(sorted: &[Duration], share: f64) -> Duration {
    let rank = ((sorted.len() as f64 * share).ceil() as usize).saturating_sub(1);
    sorted.get(rank).copied().unwrap_or_default()
}

async fn add_account(
    state: &AppState,
    username: &str,
    org_id: i64,
    role: Role,
) -> anyhow::Result<i64> {
    let account = NewAccount {
        username: Username::parse(username)?,
        password: Password::parse(PASSWORD)?,
        org_id,
        roles: Roles::new([role])?,
        full_name: None,
        phone: None,
    };
    let by = AuditEvent::new(Actor::System, AuditAction::Create, "user").org(Some(org_id));
    Ok(accounts::create(state, account, by).await?)
}

/// A building of 浆洗街's first community with coordinates, as the
/// registry's import writes it.
async fn add_building(
    store: &Store,
    compound: &str,
    building: &str,
    (lat, lon): (f64, f64),
    now: Timestamp,
) -> anyhow::Result<()> {
    let record = AddressRecord::parse(&RawAddressRecord {
        community_code: "510107001001".into(),
        grid_code: "510107001001001".into(),
        compound: compound.into(),
        building: building.into(),
        unit: "1单元".into(),
        room: "101".into(),
        lat: lat.to_string(),
        lon: lon.to_string(),
        ..Default::default()
    })
    .map_err(|errors| anyhow::anyhow!("{errors:?}"))?;
    let mut tx = store.begin().await?;
    let grid = tx
        .upsert_grid(record.grid_code.as_ref().context("a grid")?, now)
        .await?;
    tx.upsert_address(&record, Some(grid), now).await?;
    tx.commit().await?;
    Ok(())
}

/// A fight reported at `place` through intake; the incident's id.
async fn fight_call(client: &Client, operator: &str, place: &str) -> anyhow::Result<i64> {
    let body = serde_json::json!({
        "source": "call_110",
        "text": "小区门口有人打架，快来",
        "location_text": place,
    });
    let answer = client
        .post("/api/v1/incidents")
        .auth(operator)
        .json(&body)?
        .send()
        .await?;
    anyhow::ensure!(
        answer.status == StatusCode::CREATED,
        "intake of {place}: {} {}",
        answer.status,
        answer.text()
    );
    answer.json()?["id"]
        .as_i64()
        .context("the new incident's id")
}

// ---------------------------------------------------------------------------
// Position ingestion

/// Batches of positions from a feed's token through the endpoint,
/// alternating with the same batches written straight by
/// `Tx::record_positions` (no HTTP, JSON, authentication or checks) into
/// the same database. False when a batch was refused.
async fn ingestion(options: &Options) -> anyhow::Result<bool> {
    let db = open(options).await?;
    let store = db.store.clone();
    let now = SystemClock.now();
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed ^ 0x5eed);
    let world = district(&store, now).await?;
    let setup = Instant::now();
    let orgs: Vec<i64> = world
        .stations
        .iter()
        .flat_map(|(station, room)| [station.id, room.id])
        .collect();
    let mut places = Vec::with_capacity(options.units);
    let ids = add_units(
        &store,
        options.units,
        now.plus_minutes(-5),
        |n| orgs[n % orgs.len()],
        |_| {
            let place = in_area(&mut rng);
            places.push(place);
            place
        },
    )
    .await?;
    let setup = setup.elapsed();

    // A feed of the county bureau, whose jurisdiction holds every unit.
    let token = secret::generate(API_TOKEN_PREFIX);
    let permissions: BTreeSet<Permission> = [Permission::ReportPositions].into();
    let mut tx = store.begin().await?;
    tx.insert_api_token(
        "车载定位平台（压测）",
        world.county.id,
        &permissions,
        &token.hash,
        "system",
        now,
    )
    .await?;
    tx.commit().await?;
    let client = Client::new(state_for(&store)?);

    println!(
        "position ingestion: POST /api/v1/units/positions with a report_positions token ({})",
        describe(&store)
    );
    println!(
        "  world                          {} units over {} stations and their command rooms, registered with a first position in {:.1} s (untimed)",
        options.units,
        STATIONS.len(),
        setup.as_secs_f64()
    );
    let batch = options.batch.clamp(1, options.units);
    let mut feed = Feed {
        ids,
        places,
        last: vec![now.plus_minutes(-5); options.units],
        next: 0,
    };
    let (mut endpoint, mut raw) = (Phase::default(), Phase::default());
    let mut first_error = None;
    let limit = Duration::from_secs_f64(options.seconds);
    let mut round = 0u64;
    while endpoint.positions < options.positions && endpoint.elapsed < limit {
        let reports = feed.batch(&mut rng, batch);
        // Each phase goes first every other round, so neither always finds
        // the pages the other just wrote in the cache.
        for phase in [round % 2 == 0, round % 2 == 1] {
            if phase {
                let body = body_of(&reports);
                let sent = Instant::now();
                let answer = client
                    .post("/api/v1/units/positions")
                    .auth(&token.text)
                    .json_text(body)
                    .send()
                    .await?;
                endpoint.elapsed += sent.elapsed();
                if answer.status == StatusCode::OK {
                    endpoint.positions += reports.len() as u64;
                } else {
                    endpoint.failed += 1;
                    first_error
                        .get_or_insert_with(|| format!("{} {}", answer.status, answer.text()));
                }
            } else {
                // One millisecond later than the endpoint's copy: a new
                // track point, and a newer last position to write.
                let later: Vec<PositionReport> = reports
                    .iter()
                    .map(|r| PositionReport {
                        at: Timestamp(r.at.millis() + 1),
                        ..*r
                    })
                    .collect();
                let started = Instant::now();
                let mut tx = store.begin().await?;
                tx.record_positions(&later).await?;
                tx.commit().await?;
                raw.elapsed += started.elapsed();
                raw.positions += later.len() as u64;
            }
        }
        round += 1;
    }
    let rate = endpoint.per_second();
    let ceiling = raw.per_second();
    println!(
        "  endpoint, batches of {batch:<6}    {rate:>9.0} positions/s  ({} positions in {} batches, {:.1} s{})   goal ≥ {GOAL_PER_SECOND:.0}/s: {} (÷ goal {:.2})",
        endpoint.positions,
        round,
        endpoint.elapsed.as_secs_f64(),
        if endpoint.failed > 0 { format!("; {} batches refused", endpoint.failed) } else { String::new() },
        verdict(rate >= GOAL_PER_SECOND),
        rate / GOAL_PER_SECOND,
    );
    println!(
        "  Tx::record_positions ceiling   {ceiling:>9.0} positions/s  ({} positions, same batches, {:.1} s)",
        raw.positions,
        raw.elapsed.as_secs_f64()
    );
    println!("  endpoint ÷ ceiling             {:>9.3}", rate / ceiling);
    if let Some(error) = &first_error {
        println!("  first refusal                  {error}");
    }
    let stored = store
        .unit_track(feed.ids[0], now, SystemClock.now().plus_minutes(2))
        .await?;
    println!(
        "  track of the first unit        {} points since the run began",
        stored.len()
    );
    store.close().await;
    drop(db);
    Ok(endpoint.failed == 0)
}

#[derive(Default)]
struct Phase {
    positions: u64,
    failed: u64,
    elapsed: Duration,
}

impl Phase {
    fn per_second(&self) -> f64 {
        self.positions as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// The units of the feed, where each is and when it last reported; the
/// batches take them in turn.
struct Feed {
    ids: Vec<i64>,
    places: Vec<(f64, f64)>,
    last: Vec<Timestamp>,
    next: usize,
}

impl Feed {
    /// The next `size` units, each a few metres on from where it was, at a
    /// time within the last second and after its last report (and its
    /// raw copy's).
    fn batch(&mut self, rng: &mut ChaCha8Rng, size: usize) -> Vec<PositionReport> {
        let now = SystemClock.now();
        let mut reports = Vec::with_capacity(size);
        for _ in 0..size {
            let n = self.next;
            self.next = (self.next + 1) % self.ids.len();
            let (lat, lon) = &mut self.places[n];
            *lat += rng.gen_range(-0.0002..0.0002);
            *lon += rng.gen_range(-0.0002..0.0002);
            let at =
                Timestamp((now.millis() - rng.gen_range(0..1_000)).max(self.last[n].millis() + 2));
            self.last[n] = at;
            reports.push(PositionReport {
                unit_id: self.ids[n],
                at,
                position: Position::parse(*lat, *lon).expect("the area lies in China"),
            });
        }
        reports
    }
}

/// The feed's request body: times in RFC 3339 as a GPS platform sends them.
fn body_of(reports: &[PositionReport]) -> String {
    let positions: Vec<Value> = reports
        .iter()
        .map(|r| {
            serde_json::json!({
                "unit_id": r.unit_id,
                "at": rfc3339(r.at),
                "lat": r.position.point().lat(),
                "lon": r.position.point().lon(),
            })
        })
        .collect();
    serde_json::json!({ "positions": positions }).to_string()
}
