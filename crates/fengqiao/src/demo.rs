//! The demonstration jurisdiction: 成都市武侯区, three of its real streets
//! (with their official codes), their police stations and the partner
//! departments, and one account for every role with a generated password.

use std::path::Path;

use anyhow::Context;
use fengqiao_address::registry::{AddressRecord, GridCode, RawAddressRecord};
use fengqiao_core::audit::{Actor, AuditAction, AuditEvent};
use fengqiao_core::org::{DivisionCode, NewOrganisation, OrgKind};
use fengqiao_core::personal::{PersonalData, PersonalDataCipher};
use fengqiao_core::role::{Role, Roles};
use fengqiao_core::task::{Assignee, AssigneeRole, NewTask, TaskDay};
use fengqiao_core::user::{Password, PasswordHashing, Username};
use fengqiao_core::{Clock, SystemClock};
use fengqiao_store::{NewUser, Store};
use serde::{Deserialize, Serialize};

use crate::config::write_private;

pub const CREDENTIALS_FILE: &str = "demo-credentials.json";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DemoAccount {
    pub username: String,
    pub password: String,
    pub role: String,
    pub role_name: String,
    pub organisation: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct CredentialsFile {
    url: String,
    note: String,
    accounts: Vec<DemoAccount>,
}

/// (key, parent key, kind, department type, name, division codes)
type OrgSeed = (
    &'static str,
    Option<&'static str>,
    OrgKind,
    Option<&'static str>,
    &'static str,
    &'static [&'static str],
);

const ORGANISATIONS: &[OrgSeed] = &[
    (
        "province",
        None,
        OrgKind::ProvinceBureau,
        None,
        "四川省公安厅",
        &["510000"],
    ),
    (
        "city",
        Some("province"),
        OrgKind::CityBureau,
        None,
        "成都市公安局",
        &["510100"],
    ),
    (
        "county",
        Some("city"),
        OrgKind::CountyBureau,
        None,
        "成都市公安局武侯区分局",
        &["510107"],
    ),
    (
        "jxj",
        Some("county"),
        OrgKind::PoliceStation,
        None,
        "浆洗街派出所",
        &["510107001"],
    ),
    (
        "jxj_room",
        Some("jxj"),
        OrgKind::CommandRoom,
        None,
        "浆洗街派出所综合指挥室",
        &["510107001"],
    ),
    (
        "jxj_joint",
        Some("jxj"),
        OrgKind::JointDutyStation,
        None,
        "锦里联勤警务站",
        &["510107001"],
    ),
    (
        "wjl",
        Some("county"),
        OrgKind::PoliceStation,
        None,
        "望江路派出所",
        &["510107004"],
    ),
    (
        "wjl_room",
        Some("wjl"),
        OrgKind::CommandRoom,
        None,
        "望江路派出所综合指挥室",
        &["510107004"],
    ),
    (
        "yl",
        Some("county"),
        OrgKind::PoliceStation,
        None,
        "玉林派出所",
        &["510107005"],
    ),
    (
        "yl_room",
        Some("yl"),
        OrgKind::CommandRoom,
        None,
        "玉林派出所综合指挥室",
        &["510107005"],
    ),
    (
        "zone",
        Some("county"),
        OrgKind::WarZone,
        None,
        "武侯区第一战区",
        &["510107001", "510107004", "510107005"],
    ),
    (
        "urban",
        Some("county"),
        OrgKind::Department,
        Some("urban_management"),
        "武侯区综合行政执法局",
        &["510107"],
    ),
    (
        "market",
        Some("county"),
        OrgKind::Department,
        Some("market_regulation"),
        "武侯区市场监督管理局",
        &["510107"],
    ),
    (
        "labour",
        Some("county"),
        OrgKind::Department,
        Some("labour_inspection"),
        "武侯区劳动保障监察大队",
        &["510107"],
    ),
    (
        "housing",
        Some("county"),
        OrgKind::Department,
        Some("housing_property"),
        "武侯区住房建设和交通运输局",
        &["510107"],
    ),
    (
        "water",
        Some("county"),
        OrgKind::Department,
        Some("utilities_water"),
        "成都市自来水有限责任公司武侯营业所",
        &["510107"],
    ),
    (
        "jxj_centre",
        Some("county"),
        OrgKind::GovernanceCentre,
        None,
        "浆洗街街道综治中心",
        &["510107001"],
    ),
    (
        "wjl_centre",
        Some("county"),
        OrgKind::GovernanceCentre,
        None,
        "望江路街道综治中心",
        &["510107004"],
    ),
    (
        "yl_centre",
        Some("county"),
        OrgKind::GovernanceCentre,
        None,
        "玉林街道综治中心",
        &["510107005"],
    ),
];

/// (username, role, organisation key, full name, phone) — synthetic people.
const ACCOUNTS: &[(&str, Role, &str, &str, &str)] = &[
    (
        "zhihui.jxj",
        Role::Operator,
        "jxj_room",
        "陈晓东",
        "13880012301",
    ),
    (
        "minjing.jxj",
        Role::CommunityOfficer,
        "jxj",
        "刘建华",
        "13880012302",
    ),
    (
        "fujing.jxj",
        Role::AuxiliaryOfficer,
        "jxj",
        "王磊",
        "13880012303",
    ),
    (
        "wangge.jxj",
        Role::GridWorker,
        "jxj_centre",
        "赵秀英",
        "13880012304",
    ),
    (
        "chuzhi.labour",
        Role::DepartmentHandler,
        "labour",
        "孙志强",
        "13880012305",
    ),
    (
        "chuzhi.urban",
        Role::DepartmentHandler,
        "urban",
        "周敏",
        "13880012306",
    ),
    (
        "suozhang.jxj",
        Role::StationChief,
        "jxj",
        "李国平",
        "13880012307",
    ),
    ("fenxi.wh", Role::Analyst, "county", "吴静", "13880012308"),
    (
        "admin.wh",
        Role::Administrator,
        "county",
        "郑凯",
        "13880012309",
    ),
    (
        "anquan.wh",
        Role::SecurityAdministrator,
        "county",
        "冯丽",
        "13880012310",
    ),
    ("shenji.wh", Role::Auditor, "county", "何军", "13880012311"),
];

/// Creates the demo world on an empty database, or reads back the accounts
/// of one created before. Returns the accounts to print.
pub async fn ensure_world(
    store: &Store,
    cipher: &PersonalDataCipher,
    hashing: &PasswordHashing,
    data_dir: &Path,
    url: &str,
) -> anyhow::Result<Vec<DemoAccount>> {
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
        return Ok(file.accounts);
    }
    let accounts = seed(store, cipher, hashing).await?;
    std::fs::create_dir_all(data_dir)?;
    let file = CredentialsFile {
        url: url.to_owned(),
        note: "演示数据生成的账号，仅供演示 / generated for demo data only".into(),
        accounts: accounts.clone(),
    };
    write_private(&path, &serde_json::to_string_pretty(&file)?)?;
    Ok(accounts)
}

pub(crate) async fn seed(
    store: &Store,
    cipher: &PersonalDataCipher,
    hashing: &PasswordHashing,
) -> anyhow::Result<Vec<DemoAccount>> {
    let now = SystemClock.now();
    let mut tx = store.begin().await?;
    let mut orgs: Vec<(&str, i64, &str)> = Vec::new();
    for &(key, parent, kind, department_type, name, codes) in ORGANISATIONS {
        let parent_id = parent.map(|p| {
            orgs.iter()
                .find(|(k, ..)| *k == p)
                .expect("parent seeded first")
                .1
        });
        let new = NewOrganisation {
            parent_id,
            kind,
            department_type: department_type.map(str::to_owned),
            name: name.to_owned(),
            division_codes: codes
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
        orgs.push((key, org.id, name));
    }
    let mut accounts = Vec::new();
    let mut accounts_by_name = Vec::new();
    for &(username, role, org_key, full_name, phone) in ACCOUNTS {
        let (_, org_id, org_name) = *orgs
            .iter()
            .find(|(k, ..)| *k == org_key)
            .expect("seeded org");
        let password = Password::generate();
        let phone = PersonalData::phone("phone", phone)?;
        let new = NewUser {
            username: Username::parse(username)?,
            org_id,
            roles: Roles::new([role])?,
            password_hash: hashing.hash(&password),
            full_name: Some(cipher.encrypt(&PersonalData::name("full_name", full_name)?)),
            phone: Some(cipher.encrypt(&phone)),
            phone_index: Some(cipher.blind_index(&phone)),
        };
        let id = tx.insert_user(&new, now).await?;
        let event = AuditEvent::new(Actor::System, AuditAction::Create, "user")
            .org(Some(org_id))
            .object(id)
            .source("demo");
        tx.append_audit(&event, now).await?;
        accounts_by_name.push((username, id));
        accounts.push(DemoAccount {
            username: username.to_owned(),
            password: password.expose().to_owned(),
            role: role.as_str().to_owned(),
            role_name: role.name_zh().to_owned(),
            organisation: org_name.to_owned(),
        });
    }
    seed_registry(&mut tx, &orgs, &accounts_by_name, now).await?;
    seed_assigned_task(&mut tx, &orgs, &accounts_by_name, now).await?;
    seed_disputes(&mut tx, cipher, &orgs, &accounts_by_name, now).await?;
    tx.commit().await?;
    Ok(accounts)
}

/// (street key, community code, community name, compounds)
pub(crate) const COMMUNITIES: &[(&str, &str, &str, &[&str])] = &[
    ("jxj", "510107001001", "锦里社区", &["锦里小区", "洗面桥苑"]),
    (
        "jxj",
        "510107001002",
        "浆洗街社区",
        &["蜀汉花园", "红墙巷新村"],
    ),
    ("wjl", "510107004001", "望江社区", &["望江家园", "锦江苑"]),
    ("yl", "510107005001", "玉林社区", &["玉林小区", "芳草新村"]),
];

/// A small registry: each compound has six buildings of two units, six
/// floors and two rooms a floor; each community is one grid, answered for by
/// its station, and in 浆洗街 by the demo officer and grid worker.
async fn seed_registry(
    tx: &mut fengqiao_store::Tx,
    orgs: &[(&str, i64, &str)],
    accounts: &[(&str, i64)],
    now: fengqiao_core::Timestamp,
) -> anyhow::Result<()> {
    let account = |name: &str| accounts.iter().find(|(n, _)| *n == name).map(|(_, id)| *id);
    for (c, &(station, community, _, compounds)) in COMMUNITIES.iter().enumerate() {
        let station_id = orgs
            .iter()
            .find(|(k, ..)| *k == station)
            .expect("seeded station")
            .1;
        let grid_code = GridCode::parse("grid_code", &format!("{community}001"))?;
        let grid = tx.upsert_grid(&grid_code, now).await?;
        let (officer, workers) = if station == "jxj" {
            (
                account("minjing.jxj"),
                account("wangge.jxj").into_iter().collect(),
            )
        } else {
            (None, Vec::new())
        };
        tx.set_grid_responsibility(grid, Some(station_id), officer, &workers, now)
            .await?;
        for (p, compound) in compounds.iter().enumerate() {
            for building in 1..=6 {
                for unit in 1..=2 {
                    for floor in 1..=6 {
                        for door in 1..=2 {
                            let raw = RawAddressRecord {
                                community_code: community.into(),
                                grid_code: grid_code.as_str().into(),
                                compound: (*compound).into(),
                                building: format!("{building}栋"),
                                unit: format!("{unit}单元"),
                                floor: floor.to_string(),
                                room: format!("{floor}0{door}"),
                                lat: format!(
                                    "{:.6}",
                                    30.640
                                        + c as f64 * 0.004
                                        + p as f64 * 0.0015
                                        + building as f64 * 0.0002
                                ),
                                lon: format!(
                                    "{:.6}",
                                    104.040
                                        + c as f64 * 0.005
                                        + p as f64 * 0.0012
                                        + unit as f64 * 0.0001
                                ),
                                ..Default::default()
                            };
                            let record = AddressRecord::parse(&raw)
                                .map_err(|errors| anyhow::anyhow!("demo address: {errors:?}"))?;
                            tx.upsert_address(&record, Some(grid), now).await?;
                        }
                    }
                }
            }
        }
        let event = AuditEvent::new(Actor::System, AuditAction::Update, "grid")
            .org(Some(station_id))
            .object(grid)
            .source("demo")
            .detail("responsibility");
        tx.append_audit(&event, now).await?;
    }
    Ok(())
}

/// 交办: the chief of 浆洗街 gives the demo officer a task for today, beside
/// the routine visits generated when the server starts.
async fn seed_assigned_task(
    tx: &mut fengqiao_store::Tx,
    orgs: &[(&str, i64, &str)],
    accounts: &[(&str, i64)],
    now: fengqiao_core::Timestamp,
) -> anyhow::Result<()> {
    let account = |name: &str| {
        accounts
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, id)| *id)
            .context("demo account")
    };
    let station = orgs
        .iter()
        .find(|(k, ..)| *k == "jxj")
        .context("demo station")?
        .1;
    let (officer, chief) = (account("minjing.jxj")?, account("suozhang.jxj")?);
    let new = NewTask::assigned(
        station,
        Assignee {
            user_id: officer,
            role: AssigneeRole::CommunityOfficer,
        },
        TaskDay::of(now),
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

/// 矛盾纠纷: two cases of 浆洗街 for the demo officer — a neighbours' leak
/// mediated twice to an agreement whose follow-ups are scheduled, and a
/// wage dispute at high risk still waiting for its first session.
async fn seed_disputes(
    tx: &mut fengqiao_store::Tx,
    cipher: &PersonalDataCipher,
    orgs: &[(&str, i64, &str)],
    accounts: &[(&str, i64)],
    now: fengqiao_core::Timestamp,
) -> anyhow::Result<()> {
    use fengqiao_core::dispute::{
        CaseText, Dispute, DisputeSource, DisputeType, FollowUpPolicy, MediationSession, Mediators,
        NewDispute, Party, Risk,
    };
    use fengqiao_store::StoredParty;

    let station = orgs
        .iter()
        .find(|(k, ..)| *k == "jxj")
        .context("demo station")?
        .1;
    let officer = accounts
        .iter()
        .find(|(n, _)| *n == "minjing.jxj")
        .map(|(_, id)| *id)
        .context("demo officer")?;
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

pub fn print_accounts(accounts: &[DemoAccount], url: &str, data_dir: &Path) {
    println!();
    println!("枫桥演示辖区：成都市武侯区（浆洗街、望江路、玉林三个派出所）");
    println!("打开 {url}/signin ，用下列任一演示账号登录（密码仅为演示数据生成）：");
    println!(
        "Open {url}/signin and sign in with any demo account below (generated for demo data only):"
    );
    println!();
    for account in accounts {
        println!(
            "  {:<16} {:<18} {}（{}）",
            account.username, account.password, account.role_name, account.organisation
        );
    }
    println!();
    println!(
        "账号与密码已写入 / written to {}",
        data_dir.join(CREDENTIALS_FILE).display()
    );
}
