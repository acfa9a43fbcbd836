//! What the town's officers and grid workers make of the calls and of the
//! warnings and lists the system gives them: which quarrels become dispute
//! cases (some first found by a grid worker and reported from the field),
//! how each case is mediated and how it ends, how each warning is
//! acknowledged and closed (mostly in time, some late, a few never), and
//! how the daily task lists are worked through.
//!
//! Every plan is drawn from its own stream of the seed, keyed by what it is
//! about (a call's time and station, a day, the n-th warning, a task), so
//! the calls' own streams stay as they are and the same seed gives the same
//! casework. It writes nothing; `fengqiao` plays it through the API.

use fengqiao_core::Timestamp;
use rand::seq::SliceRandom;
use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::calls::{Call, Place};
use crate::names;
use crate::town::Town;

const DAY_MINUTES: i64 = 24 * 60;
const HOUR_MS: i64 = 3_600_000;

/// A party to a dispute: a person, or an organisation by its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartyPlan {
    pub name: String,
    pub phone: Option<String>,
    pub organisation: bool,
}

/// One mediation session, held `after_minutes` after the step before it
/// (registration or the previous session).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionPlan {
    pub after_minutes: i64,
    /// 调解记录, in the words mediators write.
    pub note: String,
    pub next_step: Option<String>,
}

/// How mediation ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// 调解协议: the text, then the follow-up visits (7 and 30 days).
    Agreement {
        text: String,
        follow_ups: Vec<FollowUpPlan>,
    },
    /// 调解不成, with the reason; the case is closed later.
    Failed { reason: String },
    /// 移交: court, shared_court or department, to whom, why.
    Transferred {
        target: &'static str,
        to: String,
        reason: String,
    },
}

/// A follow-up visit of an agreement, made `late_minutes` after it was due
/// (a day or more is missed and warned about).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowUpPlan {
    pub late_minutes: i64,
    pub holding: bool,
    pub note: String,
}

/// A dispute case as it will go: registered by the grid's community officer
/// `register_after_minutes` after the call (or the field report), mediated
/// in its sessions, ended by its outcome, closed `close_after_minutes`
/// after the last step. A broken agreement goes to the court.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisputePlan {
    /// A `DisputeType` code: neighbour, family_marriage, labour_wages…
    pub dispute_type: &'static str,
    /// Username of the community officer who registers and mediates it.
    pub officer: String,
    pub register_after_minutes: i64,
    pub parties: Vec<PartyPlan>,
    pub risk_level: &'static str,
    pub risk_reason: &'static str,
    pub mediators: Vec<String>,
    /// 调解地点
    pub place: String,
    pub participants: String,
    pub sessions: Vec<SessionPlan>,
    pub outcome: Outcome,
    pub close_after_minutes: i64,
}

/// e治采: a grid worker finds a quarrel on their round and reports it; the
/// community officer registers the report as a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldReportPlan {
    pub at: Timestamp,
    /// Username of the grid worker who files it.
    pub reporter: String,
    pub description: String,
    pub address_text: String,
    pub dispute: DisputePlan,
}

/// How a warning is handled by whoever answers for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WarningPlan {
    /// Never handled: it stays open (and escalates).
    pub left_open: bool,
    pub acknowledge_after_minutes: i64,
    /// After the acknowledgement.
    pub close_after_minutes: i64,
    /// visited, mediated, referred or no_risk_found.
    pub action: &'static str,
    pub note: &'static str,
}

/// How a task on a daily list is done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskPlan {
    /// Days after the task's day it is done; `None`: left undone.
    pub done_after_days: Option<i64>,
    /// Minutes after 08:00 (Beijing) of the day it is done.
    pub minutes_into_day: i64,
    /// completed, issue_found, nobody_met or referred.
    pub outcome: &'static str,
    pub note: &'static str,
}

/// The casework of a town, from a seed.
#[derive(Debug, Clone)]
pub struct Casework<'a> {
    town: &'a Town,
    seed: u64,
}

/// A call category that can become a dispute case: (category, dispute
/// type, share of its calls registered as a case).
const CASES_FROM_CALLS: &[(&str, &str, f64)] = &[
    ("neighbour_dispute", "neighbour", 0.14),
    ("noise", "neighbour", 0.03),
    ("pet_nuisance", "neighbour", 0.04),
    ("family_dispute", "family_marriage", 0.14),
    ("wage_arrears", "labour_wages", 0.16),
    ("labour_dispute", "labour_wages", 0.10),
    ("property_management", "property_management", 0.06),
    ("rental_dispute", "rental", 0.12),
    ("consumer_dispute", "consumer", 0.03),
];

/// What grid workers find on their rounds: (dispute type, description).
const FOUND_ON_ROUNDS: &[(&str, &str)] = &[
    (
        "neighbour",
        "走访中发现两户邻居因楼道堆放杂物多次争吵，双方互不相让，已劝解，建议社区民警介入调解。",
    ),
    (
        "neighbour",
        "住户反映楼上装修噪音持续一个多月，双方已发生口角，情绪较大。",
    ),
    (
        "neighbour",
        "两户因共用墙体渗水问题长期不和，一方扬言要堵对方下水管。",
    ),
    (
        "family_marriage",
        "走访发现一户老人与儿媳因赡养和房屋问题长期争吵，老人多次到社区哭诉。",
    ),
    (
        "family_marriage",
        "夫妻二人闹离婚，因孩子抚养问题争执不下，邻居反映夜间经常吵闹。",
    ),
    (
        "rental",
        "租户反映房东以房屋损坏为由扣押押金不退，双方在小区门口争执。",
    ),
    (
        "property_management",
        "多名业主对物业费上涨不满，在业主群里组织拒交，物业扬言停水停电。",
    ),
    (
        "labour_wages",
        "小区内装修工人反映装修公司拖欠工钱两个月，工人情绪激动。",
    ),
];

/// 风险等级 and why: (level, weight, reasons).
const RISKS: &[(&str, u32, &[&str])] = &[
    (
        "low",
        40,
        &[
            "双方均愿意调解，情绪平稳",
            "矛盾较小，双方有和解意愿",
            "初次发生，尚无肢体冲突",
        ],
    ),
    (
        "medium",
        40,
        &[
            "双方多次争吵，情绪对立",
            "已发生推搡，需尽快调处",
            "涉及金额较大，双方分歧明显",
        ],
    ),
    (
        "high",
        15,
        &[
            "一方扬言采取过激行为",
            "涉及人数较多，有聚集苗头",
            "已发生肢体冲突，矛盾有激化趋势",
        ],
    ),
    (
        "critical",
        5,
        &[
            "一方有持械报复言语，随时可能激化",
            "当事人情绪极端，有自伤风险",
        ],
    ),
];

/// The steps of mediation in mediators' words, per dispute type: the first
/// session, then the sessions after it.
fn session_notes(dispute_type: &str) -> (&'static [&'static str], &'static [&'static str]) {
    match dispute_type {
        "neighbour" => (
            &[
                "双方分别陈述纠纷经过，对责任认定分歧较大，调解员释法说理，双方同意冷静后再谈。",
                "到现场查看情况，听取双方意见，初步明确问题所在，约定由物业协助核实。",
                "双方情绪激动，在调解室内互相指责，经民警和调解员劝解后平复，同意继续调解。",
            ],
            &[
                "物业出具核实情况，双方对责任划分基本认可，就费用分担进一步协商。",
                "双方各退一步，就整改时间和方式达成初步意见。",
            ],
        ),
        "family_marriage" => (
            &[
                "分别与双方谈话，了解家庭矛盾由来，双方都有和好意愿但分歧在财产问题。",
                "邀请双方亲属参加，讲解婚姻家庭相关法律规定，双方情绪有所缓和。",
            ],
            &[
                "再次组织家庭会议，子女就赡养费用和轮流照顾老人的安排基本达成一致。",
                "双方就子女抚养和探视安排进一步协商，分歧缩小。",
            ],
        ),
        "labour_wages" => (
            &[
                "约谈用工方负责人，核对工人出勤记录和欠薪金额，用工方承认部分欠款。",
                "联系劳动保障监察大队共同调处，用工方提出分期支付方案，工人暂未接受。",
            ],
            &[
                "用工方筹措资金，双方就首期付款金额和剩余款项支付时间协商一致。",
                "核对完毕欠薪清单，用工方同意按清单支付，工人代表认可。",
            ],
        ),
        "rental" => (
            &[
                "房东与租客到场，共同查看房屋现状，对损坏程度各执一词。",
                "核对租赁合同条款，向双方讲解押金退还的相关规定。",
            ],
            &["双方对照入住时的照片核对，同意按实际损坏扣除部分押金。"],
        ),
        "property_management" => (
            &[
                "组织业主代表与物业公司座谈，听取双方意见，物业承诺公开收费明细。",
                "邀请社区和街道参加，物业说明收费依据，业主代表提出整改要求。",
            ],
            &["物业公示整改计划，业主代表表示认可，同意暂停拒交行动。"],
        ),
        _ => (
            &["双方陈述经过，调解员讲解相关规定，双方同意协商解决。"],
            &["双方就赔偿金额进一步协商，基本达成一致。"],
        ),
    }
}

/// What was agreed, per dispute type.
fn agreements(dispute_type: &str) -> &'static [&'static str] {
    match dispute_type {
        "neighbour" => &[
            "漏水维修费用由上层住户承担七成、下层住户承担三成，一周内修复，双方不再追究。",
            "双方各自清理楼道杂物，今后保持楼道畅通，互相体谅，不再争吵。",
            "空调外机由安装方移位，费用自理，对方不再追究此前损失。",
            "装修方承诺中午和晚上不施工，并向对方赔礼道歉，对方表示谅解。",
        ],
        "family_marriage" => &[
            "子女按月各支付老人赡养费五百元，轮流照顾老人，房屋归属待老人百年后另行协商。",
            "双方同意暂不离婚，分居冷静三个月，期间孩子由女方照顾，男方每周探视。",
        ],
        "labour_wages" => &[
            "用工方于十日内支付拖欠工资的一半，余款一个月内付清，工人不再聚集讨薪。",
            "用工方一次性支付拖欠工资，工人出具收条，双方劳动关系解除。",
        ],
        "rental" => &[
            "房东退还押金的八成，扣除部分用于维修损坏家具，双方无其他争议。",
            "租客一周内搬离并结清房租，房东退还全部押金。",
        ],
        "property_management" => &["物业公开收费明细并维持原收费标准至年底，业主按期缴纳物业费。"],
        _ => &["商家退还部分款项，消费者不再投诉，双方无其他争议。"],
    }
}

/// Session notes with threat words in them, as they are written down: the
/// `threat_words` rule reads them.
const HEATED_NOTES: &[&str] = &[
    "调解中一方情绪失控，扬言“再这样就弄死你”，经民警严肃警告后平复，约定改日再调。",
    "一方称对方再不赔钱就“跟他拼了”，调解员做思想工作，双方同意冷静后再谈。",
    "当事人表示“大不了一起死”，民警当场教育并通知其家属陪同，调解暂停。",
];

/// The follow-up visit, as written down.
const HOLDING_NOTES: &[&str] = &[
    "电话回访双方，协议已履行，双方关系缓和，无新的矛盾。",
    "上门回访，协议内容已落实，当事人表示满意。",
    "回访了解，款项已按约定支付，双方无异议。",
];
const BROKEN_NOTES: &[&str] = &[
    "回访发现一方未按协议履行，双方再次发生争吵。",
    "当事人反映对方反悔，拒不履行协议约定的付款。",
];

impl<'a> Casework<'a> {
    pub fn new(town: &'a Town, seed: u64) -> Self {
        Casework { town, seed }
    }

    /// The stream of one thing: `domain` says which kind, `key` which one.
    fn rng(&self, domain: u64, key: u64) -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(
            self.seed.wrapping_mul(0x2545_f491_4f6c_dd1d) ^ domain.rotate_left(40) ^ key,
        )
    }

    /// The case a call becomes, if it does: most quarrels are settled on
    /// the phone or at the door; some are registered and mediated.
    pub fn dispute_for(&self, call: &Call) -> Option<DisputePlan> {
        let &(_, dispute_type, share) = CASES_FROM_CALLS
            .iter()
            .find(|(category, ..)| *category == call.category)?;
        let key = (call.at.millis() as u64).wrapping_mul(31) ^ call.station as u64;
        let mut rng = self.rng(1, key);
        if !rng.gen_bool(share) {
            return None;
        }
        let grid = self.grid_of(call.place);
        let caller = PartyPlan {
            name: call
                .reporter_name
                .clone()
                .unwrap_or_else(|| names::person(&mut rng)),
            phone: call.reporter_phone.clone(),
            organisation: false,
        };
        let register_after = rng.gen_range(30..DAY_MINUTES);
        Some(self.plan(&mut rng, dispute_type, grid, caller, register_after))
    }

    /// The disputes grid workers report from their rounds on the local day
    /// that starts at `midnight` (`day` numbers it, as for the calls): about
    /// one a station every four days.
    pub fn field_reports(&self, day: u64, midnight: Timestamp) -> Vec<FieldReportPlan> {
        let mut rng = self.rng(2, day);
        let mut found = Vec::new();
        for station in 0..self.town.streets.len() {
            if !rng.gen_bool(0.25) {
                continue;
            }
            let compounds: Vec<usize> = (0..self.town.compounds.len())
                .filter(|&c| self.town.street_of_grid(self.town.compounds[c].grid) == station)
                .collect();
            let Some(&compound) = compounds.choose(&mut rng) else {
                continue;
            };
            let c = &self.town.compounds[compound];
            let building = rng.gen_range(1..=c.buildings);
            let unit = rng.gen_range(1..=c.units);
            let address_text = format!("{}{building}栋{unit}单元", c.name);
            let &(dispute_type, description) = FOUND_ON_ROUNDS.choose(&mut rng).expect("non-empty");
            // On the round: between nine and five.
            let at = Timestamp(midnight.millis() + 9 * HOUR_MS + rng.gen_range(0..8 * HOUR_MS));
            let grid = c.grid;
            let reporter = self.town.people[self.town.grids[grid].workers[0]]
                .username
                .clone();
            let first = PartyPlan {
                name: names::person(&mut rng),
                phone: Some(names::phone(&mut rng)),
                organisation: false,
            };
            let register_after = rng.gen_range(60..2 * DAY_MINUTES);
            let dispute = self.plan(&mut rng, dispute_type, grid, first, register_after);
            found.push(FieldReportPlan {
                at,
                reporter,
                description: description.to_owned(),
                address_text,
                dispute,
            });
        }
        found
    }

    fn grid_of(&self, place: Place) -> usize {
        match place {
            Place::Room { compound, .. } => self.town.compounds[compound].grid,
            Place::Frontage(f) => self.town.frontages[f].grid,
        }
    }

    fn plan(
        &self,
        rng: &mut ChaCha8Rng,
        dispute_type: &'static str,
        grid: usize,
        first: PartyPlan,
        register_after_minutes: i64,
    ) -> DisputePlan {
        let town = self.town;
        let officer = town.people[town.grids[grid].officer].username.clone();
        let community = &town.communities[town.grids[grid].community].name;
        let other = if dispute_type == "labour_wages" || dispute_type == "property_management" {
            let kind = if dispute_type == "labour_wages" {
                "劳务有限公司"
            } else {
                "物业服务有限公司"
            };
            let name = names::person(rng);
            let surname: String = name.chars().take(1).collect();
            PartyPlan {
                name: format!("成都{surname}氏{kind}"),
                phone: None,
                organisation: true,
            }
        } else {
            PartyPlan {
                name: names::person(rng),
                phone: Some(names::phone(rng)),
                organisation: false,
            }
        };
        let total: u32 = RISKS.iter().map(|r| r.1).sum();
        let mut pick = rng.gen_range(0..total);
        let &(risk_level, _, reasons) = RISKS
            .iter()
            .find(|r| {
                let hit = pick < r.1;
                pick = pick.saturating_sub(r.1);
                hit
            })
            .expect("pick is below the total");
        let risk_reason = reasons.choose(rng).expect("non-empty");
        let mediator = format!("{}（{community}人民调解员）", names::person(rng));
        // The first session by the risk level's deadline, mostly well
        // before it; one case in ten later.
        let deadline = match risk_level {
            "critical" => DAY_MINUTES,
            "high" => 3 * DAY_MINUTES,
            "medium" => 7 * DAY_MINUTES,
            _ => 15 * DAY_MINUTES,
        };
        let first_after = if rng.gen_bool(0.1) {
            rng.gen_range(deadline + 60..deadline + 3 * DAY_MINUTES)
        } else {
            rng.gen_range(deadline / 10..deadline * 6 / 10)
        };
        let (firsts, laters) = session_notes(dispute_type);
        let count = *[1, 2, 2, 2, 3].choose(rng).expect("non-empty");
        let mut sessions = Vec::new();
        for i in 0..count {
            let mut note = if i == 0 {
                firsts.choose(rng)
            } else {
                laters.choose(rng)
            }
            .expect("non-empty")
            .to_string();
            // One session in fifteen is heated enough to write down a threat.
            if rng.gen_bool(0.07) {
                note = HEATED_NOTES.choose(rng).expect("non-empty").to_string();
            }
            let last = i + 1 == count;
            sessions.push(SessionPlan {
                after_minutes: if i == 0 {
                    first_after
                } else {
                    rng.gen_range(2 * DAY_MINUTES..6 * DAY_MINUTES)
                },
                note,
                next_step: (!last).then(|| "约定下次调解，双方回去各自考虑".to_owned()),
            });
        }
        let roll: f64 = rng.gen();
        let outcome = if roll < 0.76 {
            let follow_ups = (0..2)
                .map(|_| {
                    let holding = rng.gen_bool(0.92);
                    FollowUpPlan {
                        late_minutes: if rng.gen_bool(0.08) {
                            rng.gen_range(DAY_MINUTES + 60..3 * DAY_MINUTES)
                        } else {
                            rng.gen_range(-12 * 60..12 * 60)
                        },
                        holding,
                        note: if holding {
                            HOLDING_NOTES.choose(rng)
                        } else {
                            BROKEN_NOTES.choose(rng)
                        }
                        .expect("non-empty")
                        .to_string(),
                    }
                })
                .collect();
            Outcome::Agreement {
                text: agreements(dispute_type)
                    .choose(rng)
                    .expect("non-empty")
                    .to_string(),
                follow_ups,
            }
        } else if roll < 0.88 {
            Outcome::Failed {
                reason: "双方分歧过大，一方拒绝继续调解，已告知当事人可通过诉讼途径解决。"
                    .to_owned(),
            }
        } else if dispute_type == "labour_wages" {
            Outcome::Transferred {
                target: "department",
                to: "武侯区劳动保障监察大队".to_owned(),
                reason: "用工方拒不支付，涉嫌拒不支付劳动报酬，移交劳动保障监察部门依法处理。"
                    .to_owned(),
            }
        } else {
            Outcome::Transferred {
                target: "shared_court",
                to: format!("{community}共享法庭"),
                reason: "双方同意由共享法庭进行诉前调解，出具司法确认。".to_owned(),
            }
        };
        DisputePlan {
            dispute_type,
            officer,
            register_after_minutes,
            parties: vec![first, other],
            risk_level,
            risk_reason,
            mediators: vec![mediator],
            place: format!("{community}人民调解室"),
            participants: "双方当事人、社区民警、人民调解员、网格员".to_owned(),
            sessions,
            outcome,
            close_after_minutes: rng.gen_range(60..2 * DAY_MINUTES),
        }
    }

    /// How the `n`-th warning the history raises is handled, given its
    /// rule's minutes to acknowledge: most in time and closed within a day
    /// or two, about one in ten late (it escalates to the chief), one in
    /// forty never.
    pub fn warning(&self, n: u64, rule: &str, acknowledge_minutes: i64) -> WarningPlan {
        let mut rng = self.rng(3, n);
        let left_open = rng.gen_bool(0.025);
        let acknowledge_after_minutes = if rng.gen_bool(0.1) {
            rng.gen_range(acknowledge_minutes + 10..acknowledge_minutes * 3 + 20)
        } else {
            rng.gen_range(acknowledge_minutes / 20 + 1..acknowledge_minutes * 4 / 5)
        };
        let close_after_minutes = rng.gen_range(30..DAY_MINUTES);
        let (action, notes): (&str, &[&str]) = match rule {
            "work_order_overdue" => (
                "referred",
                &[
                    "已电话督促承办部门，部门说明延误原因并承诺尽快办结。",
                    "已联系承办部门负责人督办，部门已安排人员到场处置。",
                ],
            ),
            "repeat_call" => (
                "mediated",
                &[
                    "上门走访报警人及相关住户，组织双方当面沟通，矛盾已化解。",
                    "联合网格员入户调解，双方达成口头约定，列入重点回访。",
                ],
            ),
            "threat_words" => (
                "visited",
                &[
                    "已上门核实，当事人系一时气话，已进行法治教育，暂无现实危险。",
                    "民警到场了解情况，对相关人员严肃警告，落实专人跟踪。",
                    "已核实报警人安全，对方已离开，叮嘱有情况随时报警。",
                ],
            ),
            "follow_up_missed" => ("visited", &["已补做回访，协议履行正常，当事人无异议。"]),
            _ => (
                "mediated",
                &[
                    "已组织双方再次调解，稳控到位，列入重点关注。",
                    "已与当事人及家属谈话，情绪稳定，后续由社区跟进。",
                ],
            ),
        };
        WarningPlan {
            left_open,
            acknowledge_after_minutes,
            close_after_minutes,
            action,
            note: notes.choose(&mut rng).expect("non-empty"),
        }
    }

    /// How the task with the store's `task_id` on a daily list is done:
    /// most on their day, some a day or two late, a few never.
    pub fn task(&self, task_id: i64, kind: &str) -> TaskPlan {
        let mut rng = self.rng(4, task_id as u64);
        let roll: f64 = rng.gen();
        let done_after_days = if roll < 0.86 {
            Some(0)
        } else if roll < 0.95 {
            Some(rng.gen_range(1..3))
        } else {
            None
        };
        let (outcome, note) = match kind {
            "routine_visit" => *[
                (
                    "completed",
                    "入户走访，住户在家，了解近期情况，无矛盾纠纷。",
                ),
                (
                    "completed",
                    "走访楼栋住户和物业，楼道消防通道畅通，无异常。",
                ),
                (
                    "completed",
                    "走访出租屋，核对租客登记信息，已提醒防范电信诈骗。",
                ),
                ("nobody_met", "上门走访，住户不在家，已留联系卡。"),
                ("issue_found", "走访发现楼道堆放杂物，已告知物业限期清理。"),
            ]
            .choose(&mut rng)
            .expect("non-empty"),
            "assigned" => ("completed", "已按要求办理完毕。"),
            _ => ("completed", "已按安排办理。"),
        };
        TaskPlan {
            done_after_days,
            minutes_into_day: rng.gen_range(60..9 * 60),
            outcome,
            note,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calls::Calls;
    use crate::town::TownSpec;

    /// 2026-11-26 00:00 in China.
    const MIDNIGHT: Timestamp = Timestamp(1_795_622_400_000);

    #[test]
    fn the_same_seed_plans_the_same_cases_and_some_calls_become_cases() {
        let town = Town::generate(TownSpec::default());
        let calls: Vec<Call> = Calls::new(&town, 5, 20.0).history(MIDNIGHT, 30).collect();
        let work = Casework::new(&town, 5);
        let plans: Vec<DisputePlan> = calls.iter().filter_map(|c| work.dispute_for(c)).collect();
        let again: Vec<DisputePlan> = calls
            .iter()
            .filter_map(|c| Casework::new(&town, 5).dispute_for(c))
            .collect();
        assert_eq!(plans, again);
        // About two cases a day in a town of four stations.
        assert!((25..120).contains(&plans.len()), "{}", plans.len());
        let agreed = plans
            .iter()
            .filter(|p| matches!(p.outcome, Outcome::Agreement { .. }))
            .count();
        assert!(agreed * 2 > plans.len(), "most reach an agreement");
        assert!(plans
            .iter()
            .any(|p| !matches!(p.outcome, Outcome::Agreement { .. })));
        for plan in &plans {
            assert!(!plan.sessions.is_empty());
            assert!(town.people.iter().any(|p| p.username == plan.officer));
        }
        let reports: usize = (0..30)
            .map(|d| work.field_reports(20_000 + d, MIDNIGHT).len())
            .sum();
        assert!((10..60).contains(&reports), "{reports} field reports");
    }

    #[test]
    fn warnings_are_mostly_handled_in_time() {
        let town = Town::generate(TownSpec::default());
        let work = Casework::new(&town, 5);
        let plans: Vec<WarningPlan> = (0..1000)
            .map(|n| work.warning(n, "repeat_call", 240))
            .collect();
        assert_eq!(
            plans,
            (0..1000)
                .map(|n| work.warning(n, "repeat_call", 240))
                .collect::<Vec<_>>()
        );
        let open = plans.iter().filter(|p| p.left_open).count();
        let late = plans
            .iter()
            .filter(|p| !p.left_open && p.acknowledge_after_minutes > 240)
            .count();
        assert!((5..60).contains(&open), "{open} left open");
        assert!((40..200).contains(&late), "{late} late");
    }
}
