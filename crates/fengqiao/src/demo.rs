//! The demonstration jurisdiction: the town `fengqiao-world` plans from a
//! seed — 成都市武侯区 with real streets and their codes, a station for each,
//! the partner departments and governance centres, generated communities,
//! grids, compounds and rooms, and an account for everyone who works there —
//! written through the store, each account with a generated password.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use fengqiao_address::registry::GridCode;
use fengqiao_core::audit::{Actor, AuditAction, AuditEvent};
use fengqiao_core::china_time::ChinaDay;
use fengqiao_core::label::Label;
use fengqiao_core::org::{DivisionCode, NewOrganisation, OrgKind};
use fengqiao_core::personal::{PersonalData, PersonalDataCipher};
use fengqiao_core::role::Roles;
use fengqiao_core::secret::{self, API_TOKEN_PREFIX};
use fengqiao_core::task::{Assignee, AssigneeRole, NewTask};
use fengqiao_core::user::{Password, PasswordHashing, Username};
use fengqiao_core::{Clock, ManualClock, SystemClock, Timestamp};
use fengqiao_store::{NewUser, Store};
use fengqiao_world::{Calls, Town, TownSpec};
use indicatif::ProgressBar;
use serde::{Deserialize, Serialize};

use crate::address_import;
use crate::config::write_private;
use crate::config::Settings;
use crate::history;

pub const CREDENTIALS_FILE: &str = "demo-credentials.json";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DemoAccount {
    pub username: String,
    pub password: String,
    pub role: String,
    pub role_name: String,
    pub organisation: String,
    /// One account per role is printed; the file lists them all.
    #[serde(default)]
    pub featured: bool,
}

#[derive(Debug, Serialize, Deserialize)]
struct CredentialsFile {
    url: String,
    note: String,
    accounts: Vec<DemoAccount>,
}

/// What `fengqiao demo` makes.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub town: TownSpec,
    pub history_days: u32,
    pub calls_per_day: f64,
    /// New calls a minute while serving; 0 turns the simulator off.
    pub live_rate: f64,
}

/// The demo on `settings`' database: on an empty one, the town as of
/// `history_days` ago and its calls since, played through the API; on one
/// made before, its accounts. Either way the town to describe and the
/// accounts to print.
pub async fn ensure(
    store: &Store,
    cipher: &PersonalDataCipher,
    hashing: &PasswordHashing,
    settings: &Settings,
    options: &DemoOptions,
) -> anyhow::Result<(Town, Vec<DemoAccount>)> {
    let town = Town::generate(options.town);
    let now = SystemClock.now();
    let today = ChinaDay::of(now).starts_at();
    let start = Timestamp(today.millis() - options.history_days as i64 * 86_400_000);
    let (seeded, fresh) =
        ensure_world(store, cipher, hashing, &settings.data_dir, &town, start).await?;
    if fresh && options.history_days > 0 && options.calls_per_day > 0.0 {
        let started = std::time::Instant::now();
        let calls = Calls::new(&town, options.town.seed, options.calls_per_day);
        // The days before today, then today's calls so far.
        let day = ChinaDay::of(today).number() as u64;
        let history = calls
            .history(today, options.history_days as u64)
            .chain(calls.day(day, today).into_iter().filter(|c| c.at < now));
        let clock = Arc::new(ManualClock::new(start));
        let played = history::play(store, cipher, &town, &seeded, history, clock, now).await?;
        println!(
            "演示历史 / demo history: {} 天、{} 起警情、{} 张工单办结、{} 次超时督办（{:.0} 秒）",
            options.history_days,
            played.incidents,
            played.work_orders_closed,
            played.escalations,
            started.elapsed().as_secs_f64()
        );
        println!(
            "  矛盾纠纷 / disputes: {} 件登记（{} 件来自网格上报），{} 次调解，{} 件达成协议，{} 件结案",
            played.disputes,
            played.field_reports,
            played.sessions,
            played.agreements,
            played.disputes_closed
        );
        println!(
            "  预警 / warnings: {} 条产生，{} 条办结，{} 条未办结",
            played.warnings_raised,
            played.warnings_closed,
            played.warnings_raised - played.warnings_closed
        );
        println!(
            "  工作清单 / tasks: {} 项派出，{} 项完成，{} 项撤销，{} 项未完成",
            played.tasks_created,
            played.tasks_done,
            played.tasks_withdrawn,
            played.tasks_created - played.tasks_done - played.tasks_withdrawn
        );
        println!(
            "  警力 / units: {} 起警情现场处置完毕",
            played.resolved_on_scene
        );
        if played.refused > 0 {
            let by: Vec<String> = played
                .refused_by
                .iter()
                .map(|(what, n)| format!("{what} ×{n}"))
                .collect();
            println!(
                "  {} 步被接口拒绝 / steps the API refused: {}",
                played.refused,
                by.join("、")
            );
        }
    }
    if fresh {
        let mut tx = store.begin().await?;
        let (station, officer, chief) = (
            seeded.orgs["jxj"],
            seeded.users["minjing.jxj"],
            seeded.users["suozhang.jxj"],
        );
        let now = SystemClock.now();
        seed_assigned_task(&mut tx, station, officer, chief, now).await?;
        seed_disputes(&mut tx, cipher, station, officer, now).await?;
        tx.commit().await?;
    }
    Ok((town, seeded.accounts))
}

/// The demo world as written: its accounts, and on a fresh database the id
/// of each organisation by its key in the town plan.
pub struct Seeded {
    pub accounts: Vec<DemoAccount>,
    pub orgs: HashMap<String, i64>,
    /// Account id by username.
    pub users: HashMap<String, i64>,
}

/// Creates the demo world on an empty database as of `now`, or reads back
/// the accounts of one created before (then `fresh` is false).
pub async fn ensure_world(
    store: &Store,
    cipher: &PersonalDataCipher,
    hashing: &PasswordHashing,
    data_dir: &Path,
    town: &Town,
    now: Timestamp,
) -> anyhow::Result<(Seeded, bool)> {
    let path = data_dir.join(CREDENTIALS_FILE);
    if store.count_users().await? > 0 {
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "这个数据库已有账号，但没有 {} / the database has accounts but no {}: \
                 use an empty --data-dir for the demo",
                path.display(),
                CREDENTIALS_FILE
            )
        })?;
        let file: CredentialsFile = serde_json::from_str(&text)?;
        let seeded = Seeded {
            accounts: file.accounts,
            orgs: HashMap::new(),
            users: HashMap::new(),
        };
        return Ok((seeded, false));
    }
    Ok((seed(store, cipher, hashing, town, now).await?, true))
}

/// Writes the accounts and the address they sign in at, readable only by
/// the owner: the passwords exist nowhere else.
pub fn write_credentials(
    data_dir: &Path,
    url: &str,
    accounts: &[DemoAccount],
) -> anyhow::Result<()> {
    std::fs::create_dir_all(data_dir)?;
    let file = CredentialsFile {
        url: url.to_owned(),
        note: "演示数据生成的账号，仅供演示 / generated for demo data only".into(),
        accounts: accounts.to_vec(),
    };
    write_private(
        &data_dir.join(CREDENTIALS_FILE),
        &serde_json::to_string_pretty(&file)?,
    )?;
    Ok(())
}

/// Writes `town` into an empty store as of `now`: organisations, accounts
/// (each with a generated password), communities, grids with who answers
/// for them, then every address in batches through the import path.
pub(crate) async fn seed(
    store: &Store,
    cipher: &PersonalDataCipher,
    hashing: &PasswordHashing,
    town: &Town,
    now: Timestamp,
) -> anyhow::Result<Seeded> {
    seed_with_progress(store, cipher, hashing, town, now, &ProgressBar::hidden()).await
}

/// [`seed`], counting the addresses on `progress` as they are imported.
pub(crate) async fn seed_with_progress(
    store: &Store,
    cipher: &PersonalDataCipher,
    hashing: &PasswordHashing,
    town: &Town,
    now: Timestamp,
    progress: &ProgressBar,
) -> anyhow::Result<Seeded> {
    let mut tx = store.begin().await?;
    let mut orgs: HashMap<&str, (i64, &str)> = HashMap::new();
    for plan in &town.orgs {
        let new = NewOrganisation {
            parent_id: plan.parent.as_deref().map(|p| orgs[p].0),
            kind: plan.kind,
            department_type: plan.department_type.map(str::to_owned),
            name: plan.name.clone(),
            division_codes: plan
                .division_codes
                .iter()
                .map(|c| DivisionCode::parse(c))
                .collect::<Result<_, _>>()?,
        };
        let org = tx.insert_organisation(&new, now).await?;
        let event = AuditEvent::new(Actor::System, AuditAction::Create, "organisation")
            .org(Some(org.id))
            .object(org.id)
            .source("demo");
        tx.append_audit(&event, now).await?;
        orgs.insert(&plan.key, (org.id, &plan.name));
    }
    let mut accounts = Vec::new();
    let mut user_ids = Vec::with_capacity(town.people.len());
    for person in &town.people {
        let (org_id, org_name) = orgs[person.org.as_str()];
        let password = Password::generate();
        let phone = PersonalData::phone("phone", &person.phone)?;
        let new = NewUser {
            username: Username::parse(&person.username)?,
            org_id,
            roles: Roles::new([person.role])?,
            password_hash: hashing.hash(&password),
            full_name: Some(cipher.encrypt(&PersonalData::name("full_name", &person.full_name)?)),
            phone: Some(cipher.encrypt(&phone)),
            phone_index: Some(cipher.blind_index(&phone)),
        };
        let id = tx.insert_user(&new, now).await?;
        let event = AuditEvent::new(Actor::System, AuditAction::Create, "user")
            .org(Some(org_id))
            .object(id)
            .source("demo");
        tx.append_audit(&event, now).await?;
        user_ids.push(id);
        accounts.push(DemoAccount {
            username: person.username.clone(),
            password: password.expose().to_owned(),
            role: person.role.as_str().to_owned(),
            role_name: person.role.zh().to_owned(),
            organisation: org_name.to_owned(),
            featured: person.featured,
        });
    }
    for community in &town.communities {
        let street = town.streets[community.street].code;
        tx.upsert_community(&community.code, street, &community.name)
            .await?;
    }
    for grid in &town.grids {
        let code = GridCode::parse("grid_code", &grid.code)?;
        let id = tx.upsert_grid(&code, now).await?;
        let station = orgs[town.streets[town.communities[grid.community].street].key].0;
        let workers: Vec<i64> = grid.workers.iter().map(|&w| user_ids[w]).collect();
        tx.set_grid_responsibility(
            id,
            Some(station),
            Some(user_ids[grid.officer]),
            &workers,
            now,
        )
        .await?;
        let event = AuditEvent::new(Actor::System, AuditAction::Update, "grid")
            .org(Some(station))
            .object(id)
            .source("demo")
            .detail("responsibility");
        tx.append_audit(&event, now).await?;
    }
    tx.commit().await?;
    fengqiao_server::services::roads::replace(store, &town.road_lines(), "demo", now)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let rows = town
        .addresses()
        .inspect(|_| progress.inc(1))
        .enumerate()
        .map(|(i, raw)| (i as u64 + 1, Ok(raw)));
    let clock = ManualClock::new(now);
    let report =
        address_import::import(store, rows, std::io::sink(), progress, "demo", &clock).await?;
    anyhow::ensure!(
        report.rejected == 0,
        "the demo town made {} addresses the registry rejects",
        report.rejected
    );
    Ok(Seeded {
        accounts,
        users: town
            .people
            .iter()
            .zip(&user_ids)
            .map(|(p, id)| (p.username.clone(), *id))
            .collect(),
        orgs: orgs
            .into_iter()
            .map(|(key, (id, _))| (key.to_owned(), id))
            .collect(),
    })
}

/// 交办: the chief of 浆洗街 gives the demo officer a task for today, beside
/// the routine visits generated when the server starts. Like the demo's
/// disputes it is set after the history, on the real clock.
async fn seed_assigned_task(
    tx: &mut fengqiao_store::Tx,
    station: i64,
    officer: i64,
    chief: i64,
    now: Timestamp,
) -> anyhow::Result<()> {
    let new = NewTask::assigned(
        station,
        Assignee {
            user_id: officer,
            role: AssigneeRole::CommunityOfficer,
        },
        ChinaDay::of(now),
        "核查锦里小区3栋出租屋登记".into(),
        Some("三楼新搬来的租户尚未登记，请上门核实并登记。".into()),
        None,
        Actor::User(chief),
        now,
    );
    if let Some(id) = tx.insert_task(&new, now).await? {
        let event = AuditEvent::new(Actor::User(chief), AuditAction::Create, "task")
            .org(Some(station))
            .object(id)
            .source("demo");
        tx.append_audit(&event, now).await?;
    }
    Ok(())
}

/// A token for a 110 call-taking system of `org_id`'s jurisdiction: it may
/// report incidents and nothing else. Returns the secret, shown only here.
/// It replaces the live tokens of the same name and organisation, revoked in
/// the same transaction, so each demo start leaves exactly one usable.
pub async fn issue_intake_token(
    store: &Store,
    org_id: i64,
    name: &str,
    source: &str,
) -> anyhow::Result<String> {
    issue_token(store, org_id, name, "report_incidents", source).await
}

/// As [`issue_intake_token`], for a machine client holding `permission`
/// (a vehicle GPS feed: `report_positions`).
pub async fn issue_token(
    store: &Store,
    org_id: i64,
    name: &str,
    permission: &str,
    source: &str,
) -> anyhow::Result<String> {
    let permissions = fengqiao_core::role::token_permissions(&[permission.into()])?;
    let secret = secret::generate(API_TOKEN_PREFIX);
    let now = SystemClock.now();
    let org = store
        .organisation(org_id)
        .await?
        .context("the token's organisation exists")?;
    let earlier: Vec<_> = store
        .api_tokens_within(org.path.as_str())
        .await?
        .into_iter()
        .filter(|t| t.org_id == org_id && t.name == name && t.revoked_at.is_none())
        .collect();
    let mut tx = store.begin().await?;
    for token in earlier {
        if tx.revoke_api_token(token.id, now).await? {
            let event = AuditEvent::new(Actor::System, AuditAction::TokenRevoked, "api_token")
                .org(Some(org_id))
                .object(token.id)
                .source(source);
            tx.append_audit(&event, now).await?;
        }
    }
    let id = tx
        .insert_api_token(name, org_id, &permissions, &secret.hash, "system", now)
        .await?;
    let event = AuditEvent::new(Actor::System, AuditAction::TokenCreated, "api_token")
        .org(Some(org_id))
        .object(id)
        .source(source);
    tx.append_audit(&event, now).await?;
    tx.commit().await?;
    Ok(secret.text)
}

/// 矛盾纠纷: two cases of 浆洗街 for the demo officer — a neighbours' leak
/// mediated twice to an agreement whose follow-ups are scheduled, and a
/// wage dispute at high risk still waiting for its first session.
async fn seed_disputes(
    tx: &mut fengqiao_store::Tx,
    cipher: &PersonalDataCipher,
    station: i64,
    officer: i64,
    now: Timestamp,
) -> anyhow::Result<()> {
    use fengqiao_core::dispute::{
        CaseText, Dispute, DisputeSource, DisputeType, FollowUpPolicy, MediationSession, Mediators,
        NewDispute, Party, Risk,
    };
    use fengqiao_store::StoredParty;

    let actor = Actor::User(officer);
    let text = |s: &str| CaseText::parse("text", s, 2000);
    let person = |name: &str, phone: &str| -> anyhow::Result<StoredParty> {
        let name = PersonalData::name("name", name)?;
        let phone = PersonalData::phone("phone", phone)?;
        Ok(StoredParty {
            kind: "person".into(),
            name: Some(cipher.encrypt(&name)),
            phone: Some(cipher.encrypt(&phone)),
            phone_index: Some(cipher.blind_index(&phone)),
            ..Default::default()
        })
    };
    let cases = [
        (
            DisputeType::Neighbour,
            "锦里小区3栋",
            "502室卫生间漏水至402室，双方多次在楼道争吵，402室住户称要找人“讨个说法”。",
            "medium",
            "双方情绪激动，已发生推搡",
            vec![
                person("周志明", "13880020401")?,
                person("吴秀兰", "13880020502")?,
            ],
        ),
        (
            DisputeType::LabourWages,
            "洗面桥苑工地",
            "十余名工人被拖欠三个月工资共计约二十万元，劳务公司负责人失联。",
            "high",
            "工人扬言到街道聚集讨薪",
            vec![
                person("郑国强", "13880020611")?,
                StoredParty {
                    kind: "organisation".into(),
                    org_name: Some("蓉安建筑劳务有限公司".into()),
                    ..Default::default()
                },
            ],
        ),
    ];
    for (i, (kind, address, facts, level, reason, parties)) in cases.into_iter().enumerate() {
        let registered_at = now.minus_minutes(if i == 0 { 3 * 24 * 60 } else { 5 * 60 });
        let new = NewDispute {
            org_id: station,
            source: DisputeSource::Station,
            source_id: None,
            dispute_type: kind,
            parties: Vec::<Party>::new(),
            building_id: None,
            address_text: text(address)?,
            facts: text(facts)?,
            risk: Risk::parse(Some(level), Some(reason))
                .map_err(|e| anyhow::anyhow!("demo risk: {e:?}"))?,
            officer_user_id: Some(officer),
            mediators: Mediators::parse(&["刘淑芬（锦里社区人民调解员）".into()])?,
        };
        let id = tx.next_dispute_id().await?;
        let mut moved = Dispute::register(id, new, actor.clone(), registered_at);
        tx.insert_dispute(&moved.state, &parties, None, now).await?;
        tx.append_dispute_events(id, &moved.events).await?;
        if i == 0 {
            for (days_ago, note) in [
                (2, "双方陈述漏水经过，同意由物业上门查明漏水原因。"),
                (
                    1,
                    "物业确认为502室防水层老化，双方同意按七三比例分担维修费用。",
                ),
            ] {
                let held_at = now.minus_minutes(days_ago * 24 * 60);
                let session = MediationSession {
                    id: tx.next_dispute_session_id().await?,
                    held_at,
                    place: text("锦里社区人民调解室")?,
                    participants: text("双方当事人、社区民警、网格员、物业经理")?,
                    note: text(note)?,
                    agreed: None,
                    next_step: None,
                    next_session_at: None,
                };
                let next = moved
                    .state
                    .record_session(&session, actor.clone(), held_at)?;
                tx.insert_dispute_session(id, &session, &actor.to_stored(), held_at)
                    .await?;
                tx.update_dispute(&next.state, held_at).await?;
                tx.append_dispute_events(id, &next.events).await?;
                moved = next;
            }
            let policy = FollowUpPolicy::default();
            let ids = tx.next_follow_up_ids(policy.days().len()).await?;
            let agreed = moved.state.record_agreement(
                text("502室承担维修费用七成、402室三成，维修于一周内完成，双方不再追究。")?,
                &policy,
                &ids,
                actor.clone(),
                now,
            )?;
            tx.update_dispute(&agreed.state, now).await?;
            tx.append_dispute_events(id, &agreed.events).await?;
        }
        let event = AuditEvent::new(actor.clone(), AuditAction::Create, "dispute")
            .org(Some(station))
            .object(id)
            .source("demo");
        tx.append_audit(&event, now).await?;
    }
    Ok(())
}

pub fn print_accounts(accounts: &[DemoAccount], town: &Town, url: &str, data_dir: &Path) {
    let stations: Vec<&str> = town
        .orgs
        .iter()
        .filter(|o| o.kind == OrgKind::PoliceStation)
        .map(|o| o.name.as_str())
        .collect();
    println!();
    println!(
        "枫桥演示辖区：成都市武侯区，{} 个派出所（{}），{} 个社区、{} 个网格、{} 个小区、{} 个地址",
        stations.len(),
        stations.join("、"),
        town.communities.len(),
        town.grids.len(),
        town.compounds.len(),
        town.address_count()
    );
    println!("打开 {url}/signin ，用下列任一演示账号登录（密码仅为演示数据生成）：");
    println!(
        "Open {url}/signin and sign in with any demo account below (generated for demo data only):"
    );
    println!();
    for account in accounts.iter().filter(|a| a.featured) {
        println!(
            "  {:<16} {:<18} {}（{}）",
            account.username, account.password, account.role_name, account.organisation
        );
    }
    println!();
    println!(
        "全部 {} 个账号与密码已写入 / all {} accounts written to {}",
        accounts.len(),
        accounts.len(),
        data_dir.join(CREDENTIALS_FILE).display()
    );
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use fengqiao_store::backend_tests;
    use fengqiao_store::testing::TestDatabase;

    /// Columns that differ between two runs by design: secrets drawn at
    /// random (password hashes, session ids) and personal data encrypted
    /// with a random nonce.
    pub(crate) const RANDOM: &[&str] = &[
        "password_hash",
        "full_name",
        "phone",
        "reporter_name",
        "reporter_phone",
        // A dispute party's name and ID number (only there: an
        // organisation's name is compared).
        "dispute_parties.name",
        "dispute_parties.id_number",
        "secret_hash",
        "id_hash",
        // The vehicle GPS token's secret, drawn fresh.
        "api_tokens.token_hash",
    ];

    /// The town of one station, as of 2026-11-16 00:00 in China, and the
    /// calls and casework of its next four days, played through the API.
    async fn generate(db: &TestDatabase, key: &str, seed_value: u64) -> history::Played {
        let start = Timestamp(1_795_104_000_000 - 4 * 86_400_000);
        let spec = TownSpec {
            seed: seed_value,
            stations: 1,
            scale: 1,
        };
        let town = Town::generate(spec);
        let cipher = PersonalDataCipher::from_hex(key).unwrap();
        let hashing = PasswordHashing::fast_for_tests();
        let seeded = seed(&db.store, &cipher, &hashing, &town, start)
            .await
            .unwrap();
        let end = Timestamp(start.millis() + 4 * 86_400_000);
        let calls = Calls::new(&town, spec.seed, 20.0);
        let clock = Arc::new(ManualClock::new(start));
        history::play(
            &db.store,
            &cipher,
            &town,
            &seeded,
            calls.history(end, 4),
            clock,
            end,
        )
        .await
        .unwrap()
    }

    backend_tests! {
        async fn one_seed_makes_the_same_world_twice_record_by_record(first: TestDatabase) {
            let key = PersonalDataCipher::generate_key_hex();
            let second = TestDatabase::create(first.store.backend()).await.unwrap();
            let played = generate(&first, &key, 7).await;
            assert_eq!(generate(&second, &key, 7).await, played);
            assert!(played.incidents > 10, "{played:?}");
            assert!(played.work_orders_closed > 0, "{played:?}");
            // The casework is compared too: cases with their sessions,
            // warnings handled, task lists generated and done.
            assert!(played.disputes > 0 && played.sessions > 0, "{played:?}");
            assert!(played.warnings_closed > 0, "{played:?}");
            assert!(played.tasks_done > 0, "{played:?}");
            let tables = first.store.tables_for_tests().await.unwrap();
            for table in ["incidents", "disputes", "dispute_sessions", "warnings", "tasks"] {
                assert!(tables.iter().any(|t| t == table), "{tables:?}");
                let rows = first.store.rows_for_tests(table, RANDOM).await.unwrap();
                assert!(!rows.is_empty(), "{table} is empty");
            }
            for table in tables.iter().filter(|t| *t != "sessions") {
                let a = first.store.rows_for_tests(table, RANDOM).await.unwrap();
                let b = second.store.rows_for_tests(table, RANDOM).await.unwrap();
                assert_eq!(a.len(), b.len(), "{table}: row counts");
                for (x, y) in a.iter().zip(&b) {
                    assert_eq!(x, y, "{table}");
                }
            }
            // The comparison sees what a seed changes.
            let other = TestDatabase::create(first.store.backend()).await.unwrap();
            generate(&other, &key, 8).await;
            assert_ne!(
                first.store.rows_for_tests("incidents", RANDOM).await.unwrap(),
                other.store.rows_for_tests("incidents", RANDOM).await.unwrap()
            );
        }
    }
}

#[cfg(test)]
mod token_tests {
    use super::*;
    use fengqiao_store::backend_tests;
    use fengqiao_store::testing::TestDatabase;

    backend_tests! {
        async fn a_new_simulator_token_revokes_the_one_before(db: TestDatabase) {
            let town = Town::generate(TownSpec { seed: 3, stations: 1, scale: 1 });
            let cipher = PersonalDataCipher::from_hex(&PersonalDataCipher::generate_key_hex()).unwrap();
            let hashing = PasswordHashing::fast_for_tests();
            let seeded = seed(&db.store, &cipher, &hashing, &town, Timestamp(1_795_104_000_000))
                .await
                .unwrap();
            let county = seeded.orgs["county"];
            let name = "110 接警系统（演示模拟）";
            let first = issue_intake_token(&db.store, county, name, "demo").await.unwrap();
            let second = issue_intake_token(&db.store, county, name, "demo").await.unwrap();
            let other = issue_intake_token(&db.store, county, "另一接警系统", "demo").await.unwrap();
            let live = |text: &str| {
                let hash = fengqiao_core::secret::hash(text);
                let store = db.store.clone();
                async move { store.api_token_by_hash(&hash).await.unwrap().is_some() }
            };
            assert!(!live(&first).await, "the earlier token is revoked");
            assert!(live(&second).await);
            assert!(live(&other).await, "a token of another name is left alone");
        }
    }
}
