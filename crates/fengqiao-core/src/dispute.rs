//! 矛盾纠纷: a dispute case, from registration through mediation to its
//! agreement, the follow-up visits that check the agreement holds, and its
//! closing.
//!
//! ```text
//! registered ──record_session──▶ mediating ──record_agreement──▶ resolved ──record_follow_up──▶ followed_up ──close──▶ closed
//!     │                            │   ▲                                          │ (broken: back to mediating)
//!     ├──fail────────────▶ failed ◀┘   └───────────────────────────────────────────┘
//!     └──transfer──▶ transferred ◀── (from registered, mediating, failed)
//!                    failed / transferred ──close──▶ closed
//! ```
//!
//! The record follows the national people's-mediation case record (Ministry
//! of Justice SF/T 0018-2019, 人民调解卷宗). Its sections map to:
//!
//! | SF/T 0018-2019 section            | here                                        |
//! |-----------------------------------|---------------------------------------------|
//! | 当事人 (parties)                   | [`Party`]: person or organisation, with the personal data encrypted by the store |
//! | 纠纷类型 (type)                    | [`DisputeType`]                             |
//! | 纠纷简要情况 (facts)               | [`Dispute::facts`], [`Dispute::address_text`] |
//! | 受理/登记 (registration)           | [`Dispute::registered_at`], [`DisputeSource`] |
//! | 调解过程 (mediation process)       | [`MediationSession`]: when, where, who, the note, what was agreed, the next step |
//! | 调解协议 (agreement)               | [`Agreement`]                               |
//! | 回访情况 (follow-up)               | [`FollowUp`]: due, holding or broken         |
//! | 调解员 (mediators)                 | [`Dispute::mediators`]                      |
//!
//! Beyond the record, a case carries its risk (风险等级, with the reason) and
//! the community officer who answers for it. Every transition returns the
//! new record and the events it caused, each with its actor and time; a
//! transition from the wrong state is refused and nothing changes.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::audit::Actor;
use crate::clock::Timestamp;
use crate::error::{FieldError, Reason};
use crate::label::labels;
use crate::personal::PersonalData;
use crate::text::bounded_text;
use crate::timeline::{TimelineEvent, Transition};

const DAY_MINUTES: i64 = 24 * 60;

/// A value given and not blank.
fn given(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|v| !v.is_empty())
}

fn unknown(field: &str, allowed: &[&str]) -> FieldError {
    FieldError::new(
        field,
        Reason::UnknownValue {
            allowed: allowed.iter().map(|a| (*a).to_owned()).collect(),
        },
    )
}

macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident, $field:literal { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = FieldError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let s = s.trim();
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| unknown($field, &[$($text),+]))
            }
        }
    };
}

named_enum! {
    /// 纠纷类型 (SF/T 0018-2019: type of the dispute).
    DisputeType, "dispute_type" {
        /// 邻里纠纷
        Neighbour = "neighbour",
        /// 婚姻家庭纠纷
        FamilyMarriage = "family_marriage",
        /// 劳动争议、欠薪
        LabourWages = "labour_wages",
        /// 物业纠纷
        PropertyManagement = "property_management",
        /// 土地征收、拆迁
        LandDemolition = "land_demolition",
        /// 房屋租赁
        Rental = "rental",
        /// 消费纠纷
        Consumer = "consumer",
        /// 交通事故
        Traffic = "traffic",
        Other = "other",
    }
}

impl DisputeType {
    /// The type a case registered from an incident of `category` (a code
    /// of the triage table) most likely has; the officer may choose
    /// another.
    pub fn suggested_for(category: &str) -> DisputeType {
        match category {
            "neighbour_dispute" | "noise" | "construction_noise" | "pet_nuisance" => {
                DisputeType::Neighbour
            }
            "family_dispute" | "domestic_violence" => DisputeType::FamilyMarriage,
            "wage_arrears" | "labour_dispute" => DisputeType::LabourWages,
            "property_management" => DisputeType::PropertyManagement,
            "illegal_building" => DisputeType::LandDemolition,
            "rental_dispute" => DisputeType::Rental,
            "consumer_dispute" => DisputeType::Consumer,
            "traffic_accident" => DisputeType::Traffic,
            _ => DisputeType::Other,
        }
    }
}

named_enum! {
    /// 风险等级: how likely the dispute is to turn violent (民转刑).
    RiskLevel, "risk_level" {
        Low = "low",
        Medium = "medium",
        High = "high",
        Critical = "critical",
    }
}

impl RiskLevel {
    /// Minutes from registration by which a first mediation session must be
    /// held: a critical dispute the same day, a high one within three days.
    pub fn mediation_minutes(self) -> i64 {
        match self {
            RiskLevel::Critical => DAY_MINUTES,
            RiskLevel::High => 3 * DAY_MINUTES,
            RiskLevel::Medium => 7 * DAY_MINUTES,
            RiskLevel::Low => 15 * DAY_MINUTES,
        }
    }

    /// High and critical disputes are warned about when not mediated in time.
    pub fn is_high(self) -> bool {
        matches!(self, RiskLevel::High | RiskLevel::Critical)
    }
}

named_enum! {
    /// Where a dispute was registered from.
    DisputeSource, "source" {
        /// From an incident (警情): the incident is linked.
        Incident = "incident",
        /// From a grid worker's field report (e治采).
        FieldReport = "field_report",
        /// At the station (来所登记).
        Station = "station",
    }
}

named_enum! {
    /// Where the lifecycle stands.
    DisputeStatus, "status" {
        /// 已登记
        Registered = "registered",
        /// 调解中
        Mediating = "mediating",
        /// 已达成协议
        Resolved = "resolved",
        /// 调解不成
        Failed = "failed",
        /// 已移交
        Transferred = "transferred",
        /// 已回访
        FollowedUp = "followed_up",
        /// 已结案
        Closed = "closed",
    }
}

named_enum! {
    /// 移交: where a dispute goes when mediation cannot settle it.
    TransferTarget, "target" {
        /// 法院 (诉讼)
        Court = "court",
        /// 共享法庭: a court service point in the community.
        SharedCourt = "shared_court",
        /// 职能部门: labour inspection, housing, market regulation…
        Department = "department",
    }
}

named_enum! {
    /// 回访结果
    FollowUpStatus, "status" {
        Pending = "pending",
        /// 协议履行良好
        Holding = "holding",
        /// 协议未履行 / 反悔
        Broken = "broken",
        /// The agreement broke earlier: this visit is no longer due.
        Cancelled = "cancelled",
    }
}

labels!(DisputeType {
    Neighbour => ("邻里纠纷", "Neighbours"),
    FamilyMarriage => ("婚姻家庭", "Marriage and family"),
    LabourWages => ("劳动欠薪", "Labour and wages"),
    PropertyManagement => ("物业纠纷", "Property management"),
    LandDemolition => ("征地拆迁", "Land and demolition"),
    Rental => ("房屋租赁", "Rental"),
    Consumer => ("消费纠纷", "Consumer"),
    Traffic => ("交通事故", "Traffic accident"),
    Other => ("其他纠纷", "Other"),
});

labels!(RiskLevel {
    Low => ("低风险", "Low"),
    Medium => ("中风险", "Medium"),
    High => ("高风险", "High"),
    Critical => ("重大风险", "Critical"),
});

labels!(DisputeStatus {
    Registered => ("已登记", "Registered"),
    Mediating => ("调解中", "Mediating"),
    Resolved => ("已达成协议", "Agreement reached"),
    Failed => ("调解不成", "Mediation failed"),
    Transferred => ("已移交", "Transferred"),
    FollowedUp => ("已回访", "Followed up"),
    Closed => ("已结案", "Closed"),
});

labels!(TransferTarget {
    Court => ("法院", "Court"),
    SharedCourt => ("共享法庭", "Shared court"),
    Department => ("职能部门", "Department"),
});

labels!(FollowUpStatus {
    Pending => ("待回访", "Due"),
    Holding => ("协议履行良好", "Agreement kept"),
    Broken => ("协议未履行", "Agreement broken"),
    Cancelled => ("已取消", "Cancelled"),
});

/// Checked free text of a case: trimmed, 1 to `max` characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CaseText(String);

impl CaseText {
    pub fn parse(field: &str, text: &str, max: usize) -> Result<Self, FieldError> {
        bounded_text(field, text, max).map(CaseText)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CaseText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// 风险等级 with why: a level without its reason is refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Risk {
    pub level: RiskLevel,
    pub reason: CaseText,
}

impl Risk {
    pub const MAX_REASON_CHARS: usize = 500;

    pub fn parse(level: Option<&str>, reason: Option<&str>) -> Result<Risk, Vec<FieldError>> {
        let mut errors = Vec::new();
        let level = match level.map(str::trim).filter(|l| !l.is_empty()) {
            None => {
                errors.push(FieldError::new("risk_level", Reason::Required));
                None
            }
            Some(l) => RiskLevel::from_str(l).map_err(|e| errors.push(e)).ok(),
        };
        let reason = CaseText::parse("risk_reason", reason.unwrap_or(""), Self::MAX_REASON_CHARS)
            .map_err(|e| errors.push(e))
            .ok();
        match (level, reason) {
            (Some(level), Some(reason)) => Ok(Risk { level, reason }),
            _ => Err(errors),
        }
    }
}

/// 当事人 (SF/T 0018-2019: parties). A person's name, phone and ID number
/// are personal data: encrypted at rest, shown masked. An organisation's
/// name is not personal data; its contact phone is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Party {
    Person {
        name: PersonalData,
        phone: Option<PersonalData>,
        id_number: Option<PersonalData>,
    },
    Organisation {
        name: CaseText,
        phone: Option<PersonalData>,
    },
}

impl Party {
    pub const MAX: usize = 20;
    pub const MAX_ORG_NAME_CHARS: usize = 100;

    /// `at` is the field prefix, e.g. `parties[0]`: every error names the
    /// field inside the party.
    pub fn parse(
        at: &str,
        kind: Option<&str>,
        name: Option<&str>,
        phone: Option<&str>,
        id_number: Option<&str>,
    ) -> Result<Party, Vec<FieldError>> {
        let field = |f: &str| format!("{at}.{f}");
        let mut errors = Vec::new();
        let phone = given(phone)
            .map(|p| PersonalData::phone(&field("phone"), p))
            .transpose()
            .map_err(|e| errors.push(e))
            .ok()
            .flatten();
        let party = match given(kind).unwrap_or("person") {
            "person" => {
                let name = PersonalData::name(&field("name"), name.unwrap_or(""))
                    .map_err(|e| errors.push(e))
                    .ok();
                let id_number = given(id_number)
                    .map(|n| PersonalData::id_number(&field("id_number"), n))
                    .transpose()
                    .map_err(|e| errors.push(e))
                    .ok()
                    .flatten();
                name.map(|name| Party::Person {
                    name,
                    phone: phone.clone(),
                    id_number,
                })
            }
            "organisation" => {
                if given(id_number).is_some() {
                    errors.push(FieldError::new(
                        field("id_number"),
                        Reason::Conflict {
                            detail: "organisation_party",
                        },
                    ));
                }
                CaseText::parse(&field("name"), name.unwrap_or(""), Self::MAX_ORG_NAME_CHARS)
                    .map_err(|e| errors.push(e))
                    .ok()
                    .map(|name| Party::Organisation {
                        name,
                        phone: phone.clone(),
                    })
            }
            _ => {
                errors.push(unknown(&field("kind"), &["person", "organisation"]));
                None
            }
        };
        match party {
            Some(party) if errors.is_empty() => Ok(party),
            _ => Err(errors),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Party::Person { .. } => "person",
            Party::Organisation { .. } => "organisation",
        }
    }
}

/// 调解员: up to ten names of the mediators (people's mediators, cadres,
/// the officer), as they sign the record.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Mediators(Vec<String>);

impl Mediators {
    pub const MAX: usize = 10;
    pub const MAX_CHARS: usize = 50;

    pub fn parse(names: &[String]) -> Result<Mediators, FieldError> {
        if names.len() > Self::MAX {
            return Err(FieldError::new(
                "mediators",
                Reason::TooLong { max: Self::MAX },
            ));
        }
        names
            .iter()
            .enumerate()
            .map(|(i, n)| bounded_text(&format!("mediators[{i}]"), n, Self::MAX_CHARS))
            .collect::<Result<Vec<_>, _>>()
            .map(Mediators)
    }

    pub fn names(&self) -> &[String] {
        &self.0
    }
}

/// A dispute as submitted, before it has an id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDispute {
    pub org_id: i64,
    pub source: DisputeSource,
    /// The incident or field report it was registered from.
    pub source_id: Option<i64>,
    pub dispute_type: DisputeType,
    pub parties: Vec<Party>,
    pub building_id: Option<i64>,
    pub address_text: CaseText,
    pub facts: CaseText,
    pub risk: Risk,
    pub officer_user_id: Option<i64>,
    pub mediators: Mediators,
}

impl NewDispute {
    pub const MAX_FACTS_CHARS: usize = 2000;
    pub const MAX_ADDRESS_CHARS: usize = 200;
}

/// 调解协议 (SF/T 0018-2019: agreement): what the parties agreed, and how
/// it is to be carried out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agreement {
    pub text: CaseText,
    pub agreed_at: Timestamp,
}

impl Agreement {
    pub const MAX_CHARS: usize = 2000;
}

/// When follow-up visits fall after an agreement: by default at 7 and 30
/// days. Each visit is missed a day after it was due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUpPolicy {
    days: Vec<u32>,
}

impl Default for FollowUpPolicy {
    fn default() -> Self {
        FollowUpPolicy { days: vec![7, 30] }
    }
}

impl FollowUpPolicy {
    pub const MAX_VISITS: usize = 6;
    pub const MAX_DAY: u32 = 365;
    /// A visit may be made until the end of the day after it was due.
    pub const MISSED_AFTER_MINUTES: i64 = DAY_MINUTES;

    /// 1 to 6 visits, each 1 to 365 days after the agreement, strictly
    /// ascending.
    pub fn new(days: Vec<u32>) -> Result<Self, FieldError> {
        let valid = !days.is_empty()
            && days.len() <= Self::MAX_VISITS
            && days.iter().all(|d| (1..=Self::MAX_DAY).contains(d))
            && days.windows(2).all(|w| w[0] < w[1]);
        if valid {
            Ok(FollowUpPolicy { days })
        } else {
            Err(FieldError::new(
                "follow_up_days",
                Reason::InvalidFormat {
                    expected: "follow_up_days",
                },
            ))
        }
    }

    pub fn days(&self) -> &[u32] {
        &self.days
    }
}

/// 回访 (SF/T 0018-2019: follow-up): a visit that checks the agreement holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUp {
    pub id: i64,
    pub due_at: Timestamp,
    pub status: FollowUpStatus,
    pub done_at: Option<Timestamp>,
    pub done_by: Option<String>,
    pub note: Option<CaseText>,
    /// Set once the missed visit was warned about, so it never is twice.
    pub missed_warned: bool,
}

impl FollowUp {
    /// Pending past the day after it was due.
    pub fn missed(&self, now: Timestamp) -> bool {
        self.status == FollowUpStatus::Pending
            && now
                > self
                    .due_at
                    .plus_minutes(FollowUpPolicy::MISSED_AFTER_MINUTES)
    }
}

/// 调解过程 (SF/T 0018-2019: mediation process): one session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediationSession {
    pub id: i64,
    pub held_at: Timestamp,
    /// 调解地点
    pub place: CaseText,
    /// 参加人员: who took part, as written in the record.
    pub participants: CaseText,
    /// 调解记录: what was said and done.
    pub note: CaseText,
    /// 达成的事项, if any.
    pub agreed: Option<CaseText>,
    /// 下一步
    pub next_step: Option<CaseText>,
    /// When the next session is planned, if one is.
    pub next_session_at: Option<Timestamp>,
}

impl MediationSession {
    pub const MAX_PLACE_CHARS: usize = 200;
    pub const MAX_PARTICIPANTS_CHARS: usize = 500;
    pub const MAX_NOTE_CHARS: usize = 2000;
    pub const MAX_STEP_CHARS: usize = 500;

    /// The words of the session a reader would find a threat in.
    pub fn text(&self) -> String {
        [
            Some(&self.note),
            self.agreed.as_ref(),
            self.next_step.as_ref(),
        ]
        .into_iter()
        .flatten()
        .map(CaseText::as_str)
        .collect::<Vec<_>>()
        .join("\n")
    }
}

/// What happened to a dispute; each is stored with its actor and time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum DisputeEvent {
    Registered {
        source: DisputeSource,
        source_id: Option<i64>,
        dispute_type: DisputeType,
        risk_level: RiskLevel,
        mediate_by: Timestamp,
    },
    IncidentLinked {
        incident_id: i64,
    },
    SessionRecorded {
        session_id: i64,
        held_at: Timestamp,
    },
    AgreementRecorded {
        agreed_at: Timestamp,
    },
    FollowUpScheduled {
        follow_up_id: i64,
        due_at: Timestamp,
    },
    Failed {
        reason: CaseText,
    },
    Transferred {
        target: TransferTarget,
        to: CaseText,
        reason: CaseText,
    },
    FollowUpRecorded {
        follow_up_id: i64,
        holding: bool,
    },
    /// The agreement broke: the visits still pending are no longer due and
    /// mediation resumes.
    FollowUpsCancelled {
        follow_up_ids: Vec<i64>,
    },
    Closed {
        note: CaseText,
    },
    /// A rule of the warnings fired on the case.
    WarningRaised {
        warning_id: i64,
        rule: String,
    },
}

/// Why a dispute transition was refused. Nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DisputeError {
    #[error("a dispute that is {from} cannot be {action}")]
    NotAllowed {
        action: &'static str,
        from: DisputeStatus,
    },
    #[error("an agreement needs at least one mediation session first")]
    NoSession,
    #[error("follow-up {id} is not a pending visit of this dispute")]
    FollowUpNotPending { id: i64 },
    #[error("follow-up visits {ids:?} are still pending")]
    FollowUpsPending { ids: Vec<i64> },
    #[error("the session cannot be held after it is recorded")]
    SessionInFuture,
}

/// 矛盾纠纷 as the transitions see it; the parties stay with the store,
/// encrypted, as no transition reads or changes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dispute {
    pub id: i64,
    /// The station (派出所) the case belongs to.
    pub org_id: i64,
    pub source: DisputeSource,
    pub source_id: Option<i64>,
    pub dispute_type: DisputeType,
    /// The standard address (registry building), when it resolved to one.
    pub building_id: Option<i64>,
    pub address_text: CaseText,
    /// 纠纷简要情况 (SF/T 0018-2019: facts).
    pub facts: CaseText,
    pub risk: Risk,
    /// 责任民警
    pub officer_user_id: Option<i64>,
    pub mediators: Mediators,
    pub status: DisputeStatus,
    pub registered_at: Timestamp,
    /// A first session is due by then (from the risk level).
    pub mediate_by: Timestamp,
    pub sessions: usize,
    pub agreement: Option<Agreement>,
    pub follow_ups: Vec<FollowUp>,
    /// Why mediation failed, or why it was transferred.
    pub outcome_reason: Option<CaseText>,
    pub transfer: Option<(TransferTarget, CaseText)>,
    pub closed_at: Option<Timestamp>,
    /// Set once the overdue mediation was warned about.
    pub mediation_warned: bool,
}

pub type DisputeResult = Result<Transition<Dispute, DisputeEvent>, DisputeError>;

impl Dispute {
    /// 登记: a checked submission becomes a case; the id comes from the store.
    pub fn register(
        id: i64,
        new: NewDispute,
        actor: Actor,
        at: Timestamp,
    ) -> Transition<Dispute, DisputeEvent> {
        let mediate_by = at.plus_minutes(new.risk.level.mediation_minutes());
        let dispute = Dispute {
            id,
            org_id: new.org_id,
            source: new.source,
            source_id: new.source_id,
            dispute_type: new.dispute_type,
            building_id: new.building_id,
            address_text: new.address_text,
            facts: new.facts,
            risk: new.risk,
            officer_user_id: new.officer_user_id,
            mediators: new.mediators,
            status: DisputeStatus::Registered,
            registered_at: at,
            mediate_by,
            sessions: 0,
            agreement: None,
            follow_ups: Vec::new(),
            outcome_reason: None,
            transfer: None,
            closed_at: None,
            mediation_warned: false,
        };
        let mut events = vec![DisputeEvent::Registered {
            source: dispute.source,
            source_id: dispute.source_id,
            dispute_type: dispute.dispute_type,
            risk_level: dispute.risk.level,
            mediate_by,
        }];
        if let (DisputeSource::Incident, Some(incident_id)) = (dispute.source, dispute.source_id) {
            events.push(DisputeEvent::IncidentLinked { incident_id });
        }
        Transition {
            state: dispute,
            events: events
                .into_iter()
                .map(|e| TimelineEvent::new(at, actor.clone(), e))
                .collect(),
        }
    }

    fn check(&self, action: &'static str, allowed: &[DisputeStatus]) -> Result<(), DisputeError> {
        if allowed.contains(&self.status) {
            Ok(())
        } else {
            Err(DisputeError::NotAllowed {
                action,
                from: self.status,
            })
        }
    }

    fn moved(
        &self,
        change: impl FnOnce(&mut Dispute),
        events: Vec<DisputeEvent>,
        actor: Actor,
        at: Timestamp,
    ) -> Transition<Dispute, DisputeEvent> {
        let mut state = self.clone();
        change(&mut state);
        Transition {
            state,
            events: events
                .into_iter()
                .map(|e| TimelineEvent::new(at, actor.clone(), e))
                .collect(),
        }
    }

    /// Whether the case is still open (not closed).
    pub fn is_open(&self) -> bool {
        self.status != DisputeStatus::Closed
    }

    /// A high or critical case still without a session past its deadline,
    /// not yet warned about.
    pub fn mediation_overdue(&self, now: Timestamp) -> bool {
        self.status == DisputeStatus::Registered
            && self.risk.level.is_high()
            && !self.mediation_warned
            && now > self.mediate_by
    }

    /// Marks the overdue mediation warned, so the scan warns once.
    pub fn mark_mediation_warned(&self) -> Dispute {
        Dispute {
            mediation_warned: true,
            ..self.clone()
        }
    }

    /// 关联警情: another incident about the same dispute.
    pub fn link_incident(&self, incident_id: i64, actor: Actor, at: Timestamp) -> DisputeResult {
        self.check(
            "linked",
            &[
                DisputeStatus::Registered,
                DisputeStatus::Mediating,
                DisputeStatus::Resolved,
                DisputeStatus::FollowedUp,
                DisputeStatus::Failed,
                DisputeStatus::Transferred,
            ],
        )?;
        Ok(self.moved(
            |_| {},
            vec![DisputeEvent::IncidentLinked { incident_id }],
            actor,
            at,
        ))
    }

    /// 调解: a session held (the first one starts mediation). The session
    /// id comes from the store; it cannot be dated after it is recorded.
    pub fn record_session(
        &self,
        session: &MediationSession,
        actor: Actor,
        at: Timestamp,
    ) -> DisputeResult {
        self.check(
            "mediated",
            &[DisputeStatus::Registered, DisputeStatus::Mediating],
        )?;
        if session.held_at > at {
            return Err(DisputeError::SessionInFuture);
        }
        Ok(self.moved(
            |d| {
                d.status = DisputeStatus::Mediating;
                d.sessions += 1;
            },
            vec![DisputeEvent::SessionRecorded {
                session_id: session.id,
                held_at: session.held_at,
            }],
            actor,
            at,
        ))
    }

    /// 达成调解协议: resolves the case and schedules its follow-up visits;
    /// `follow_up_ids` come from the store, one per day of the policy.
    pub fn record_agreement(
        &self,
        text: CaseText,
        policy: &FollowUpPolicy,
        follow_up_ids: &[i64],
        actor: Actor,
        at: Timestamp,
    ) -> DisputeResult {
        self.check("resolved", &[DisputeStatus::Mediating])?;
        if self.sessions == 0 {
            return Err(DisputeError::NoSession);
        }
        assert_eq!(
            follow_up_ids.len(),
            policy.days().len(),
            "one id per follow-up visit"
        );
        let follow_ups: Vec<FollowUp> = policy
            .days()
            .iter()
            .zip(follow_up_ids)
            .map(|(days, id)| FollowUp {
                id: *id,
                due_at: at.plus_minutes(i64::from(*days) * DAY_MINUTES),
                status: FollowUpStatus::Pending,
                done_at: None,
                done_by: None,
                note: None,
                missed_warned: false,
            })
            .collect();
        let mut events = vec![DisputeEvent::AgreementRecorded { agreed_at: at }];
        events.extend(follow_ups.iter().map(|f| DisputeEvent::FollowUpScheduled {
            follow_up_id: f.id,
            due_at: f.due_at,
        }));
        Ok(self.moved(
            |d| {
                d.status = DisputeStatus::Resolved;
                d.agreement = Some(Agreement {
                    text,
                    agreed_at: at,
                });
                d.follow_ups.extend(follow_ups);
            },
            events,
            actor,
            at,
        ))
    }

    /// 调解不成: mediation ended without an agreement.
    pub fn fail(&self, reason: CaseText, actor: Actor, at: Timestamp) -> DisputeResult {
        self.check(
            "failed",
            &[DisputeStatus::Registered, DisputeStatus::Mediating],
        )?;
        let event = DisputeEvent::Failed {
            reason: reason.clone(),
        };
        Ok(self.moved(
            |d| {
                d.status = DisputeStatus::Failed;
                d.outcome_reason = Some(reason);
            },
            vec![event],
            actor,
            at,
        ))
    }

    /// 移交: to a court, the shared court or a department (`to` names it).
    pub fn transfer(
        &self,
        target: TransferTarget,
        to: CaseText,
        reason: CaseText,
        actor: Actor,
        at: Timestamp,
    ) -> DisputeResult {
        self.check(
            "transferred",
            &[
                DisputeStatus::Registered,
                DisputeStatus::Mediating,
                DisputeStatus::Failed,
            ],
        )?;
        let event = DisputeEvent::Transferred {
            target,
            to: to.clone(),
            reason: reason.clone(),
        };
        Ok(self.moved(
            |d| {
                d.status = DisputeStatus::Transferred;
                d.transfer = Some((target, to));
                d.outcome_reason = Some(reason);
            },
            vec![event],
            actor,
            at,
        ))
    }

    /// 回访: a visit recorded as holding or broken. A broken agreement
    /// sends the case back to mediation and cancels the visits still
    /// pending.
    pub fn record_follow_up(
        &self,
        follow_up_id: i64,
        holding: bool,
        note: CaseText,
        actor: Actor,
        at: Timestamp,
    ) -> DisputeResult {
        self.check(
            "followed up",
            &[DisputeStatus::Resolved, DisputeStatus::FollowedUp],
        )?;
        let pending = self
            .follow_ups
            .iter()
            .any(|f| f.id == follow_up_id && f.status == FollowUpStatus::Pending);
        if !pending {
            return Err(DisputeError::FollowUpNotPending { id: follow_up_id });
        }
        let mut events = vec![DisputeEvent::FollowUpRecorded {
            follow_up_id,
            holding,
        }];
        let cancelled: Vec<i64> = if holding {
            Vec::new()
        } else {
            self.follow_ups
                .iter()
                .filter(|f| f.id != follow_up_id && f.status == FollowUpStatus::Pending)
                .map(|f| f.id)
                .collect()
        };
        if !cancelled.is_empty() {
            events.push(DisputeEvent::FollowUpsCancelled {
                follow_up_ids: cancelled.clone(),
            });
        }
        let by = actor.to_stored();
        Ok(self.moved(
            |d| {
                for f in &mut d.follow_ups {
                    if f.id == follow_up_id {
                        f.status = if holding {
                            FollowUpStatus::Holding
                        } else {
                            FollowUpStatus::Broken
                        };
                        f.done_at = Some(at);
                        f.done_by = Some(by.clone());
                        f.note = Some(note.clone());
                    } else if cancelled.contains(&f.id) {
                        f.status = FollowUpStatus::Cancelled;
                    }
                }
                d.status = if holding {
                    DisputeStatus::FollowedUp
                } else {
                    DisputeStatus::Mediating
                };
            },
            events,
            actor,
            at,
        ))
    }

    /// 结案: after every follow-up visit held, or after a failure or a
    /// transfer.
    pub fn close(&self, note: CaseText, actor: Actor, at: Timestamp) -> DisputeResult {
        self.check(
            "closed",
            &[
                DisputeStatus::FollowedUp,
                DisputeStatus::Failed,
                DisputeStatus::Transferred,
            ],
        )?;
        let pending: Vec<i64> = self
            .follow_ups
            .iter()
            .filter(|f| f.status == FollowUpStatus::Pending)
            .map(|f| f.id)
            .collect();
        if !pending.is_empty() {
            return Err(DisputeError::FollowUpsPending { ids: pending });
        }
        Ok(self.moved(
            |d| {
                d.status = DisputeStatus::Closed;
                d.closed_at = Some(at);
            },
            vec![DisputeEvent::Closed { note }],
            actor,
            at,
        ))
    }

    /// The pending follow-up visits missed by `now` and not yet warned about.
    pub fn missed_follow_ups(&self, now: Timestamp) -> Vec<&FollowUp> {
        self.follow_ups
            .iter()
            .filter(|f| f.missed(now) && !f.missed_warned)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, ManualClock};

    const T0: Timestamp = Timestamp(1_764_000_000_000);
    const OFFICER: Actor = Actor::User(7);

    fn text(s: &str) -> CaseText {
        CaseText::parse("text", s, 2000).unwrap()
    }

    fn new_dispute(level: &str) -> NewDispute {
        NewDispute {
            org_id: 3,
            source: DisputeSource::Incident,
            source_id: Some(41),
            dispute_type: DisputeType::Neighbour,
            parties: vec![Party::parse(
                "parties[0]",
                Some("person"),
                Some("张三"),
                Some("13812345678"),
                None,
            )
            .unwrap()],
            building_id: Some(9),
            address_text: text("锦里小区3栋"),
            facts: text("楼上漏水，双方多次争吵"),
            risk: Risk::parse(Some(level), Some("双方情绪激动")).unwrap(),
            officer_user_id: Some(7),
            mediators: Mediators::parse(&["王调解".into()]).unwrap(),
        }
    }

    fn session(id: i64, at: Timestamp) -> MediationSession {
        MediationSession {
            id,
            held_at: at,
            place: text("社区调解室"),
            participants: text("双方当事人、网格员"),
            note: text("双方陈述，同意分担维修费用"),
            agreed: None,
            next_step: None,
            next_session_at: None,
        }
    }

    #[test]
    fn from_registration_through_two_sessions_to_an_agreement_and_follow_ups() {
        let clock = ManualClock::new(T0);
        let registered = Dispute::register(1, new_dispute("medium"), OFFICER, clock.now());
        let events: Vec<_> = registered.events.iter().map(|e| &e.event).collect();
        assert!(matches!(events[0], DisputeEvent::Registered { .. }));
        assert_eq!(events[1], &DisputeEvent::IncidentLinked { incident_id: 41 });
        let d = registered.state;
        assert_eq!(d.status, DisputeStatus::Registered);
        assert_eq!(d.mediate_by, T0.plus_minutes(7 * DAY_MINUTES));

        assert_eq!(
            d.record_agreement(text("x"), &FollowUpPolicy::default(), &[1, 2], OFFICER, T0)
                .unwrap_err(),
            DisputeError::NotAllowed {
                action: "resolved",
                from: DisputeStatus::Registered
            }
        );
        clock.advance_minutes(60);
        let d = d
            .record_session(&session(10, clock.now()), OFFICER, clock.now())
            .unwrap()
            .state;
        assert_eq!(d.status, DisputeStatus::Mediating);
        clock.advance_minutes(DAY_MINUTES);
        let d = d
            .record_session(&session(11, clock.now()), OFFICER, clock.now())
            .unwrap()
            .state;
        assert_eq!(d.sessions, 2);
        let agreed_at = clock.now();
        let resolved = d
            .record_agreement(
                text("楼上承担维修费用八成"),
                &FollowUpPolicy::default(),
                &[20, 21],
                OFFICER,
                agreed_at,
            )
            .unwrap();
        assert_eq!(resolved.state.status, DisputeStatus::Resolved);
        let due: Vec<_> = resolved.state.follow_ups.iter().map(|f| f.due_at).collect();
        assert_eq!(
            due,
            [
                agreed_at.plus_minutes(7 * DAY_MINUTES),
                agreed_at.plus_minutes(30 * DAY_MINUTES)
            ]
        );
        assert_eq!(resolved.events.len(), 3, "agreement and two visits");

        let d = resolved.state;
        assert!(matches!(
            d.close(text("结案"), OFFICER, agreed_at).unwrap_err(),
            DisputeError::NotAllowed { .. }
        ));
        clock.advance_minutes(7 * DAY_MINUTES);
        let d = d
            .record_follow_up(20, true, text("履行良好"), OFFICER, clock.now())
            .unwrap()
            .state;
        assert_eq!(d.status, DisputeStatus::FollowedUp);
        assert_eq!(
            d.close(text("结案"), OFFICER, clock.now()).unwrap_err(),
            DisputeError::FollowUpsPending { ids: vec![21] }
        );
        assert!(d
            .record_follow_up(20, true, text("再次"), OFFICER, clock.now())
            .is_err());
        clock.advance_minutes(23 * DAY_MINUTES);
        let d = d
            .record_follow_up(21, true, text("双方已和好"), OFFICER, clock.now())
            .unwrap()
            .state;
        let closed = d.close(text("协议履行完毕"), OFFICER, clock.now()).unwrap();
        assert_eq!(closed.state.status, DisputeStatus::Closed);
        assert!(closed
            .state
            .record_session(&session(12, clock.now()), OFFICER, clock.now())
            .is_err());
    }

    #[test]
    fn an_agreement_needs_a_session_and_a_broken_one_reopens_mediation() {
        let d = Dispute::register(1, new_dispute("low"), OFFICER, T0).state;
        let d = d
            .record_session(&session(1, T0), OFFICER, T0)
            .unwrap()
            .state;
        let mut no_session = d.clone();
        no_session.sessions = 0;
        assert_eq!(
            no_session
                .record_agreement(text("x"), &FollowUpPolicy::default(), &[1, 2], OFFICER, T0)
                .unwrap_err(),
            DisputeError::NoSession
        );
        let policy = FollowUpPolicy::new(vec![3, 10, 60]).unwrap();
        let d = d
            .record_agreement(text("赔偿"), &policy, &[5, 6, 7], OFFICER, T0)
            .unwrap()
            .state;
        let broken = d
            .record_follow_up(5, false, text("一方反悔"), OFFICER, T0)
            .unwrap();
        assert_eq!(broken.state.status, DisputeStatus::Mediating);
        assert_eq!(
            broken.events[1].event,
            DisputeEvent::FollowUpsCancelled {
                follow_up_ids: vec![6, 7]
            }
        );
        let statuses: Vec<_> = broken.state.follow_ups.iter().map(|f| f.status).collect();
        assert_eq!(
            statuses,
            [
                FollowUpStatus::Broken,
                FollowUpStatus::Cancelled,
                FollowUpStatus::Cancelled
            ]
        );
    }

    #[test]
    fn fail_transfer_and_close() {
        let d = Dispute::register(1, new_dispute("high"), OFFICER, T0).state;
        let failed = d.fail(text("双方分歧过大"), OFFICER, T0).unwrap().state;
        assert_eq!(failed.status, DisputeStatus::Failed);
        let transferred = failed
            .transfer(
                TransferTarget::SharedCourt,
                text("浆洗街共享法庭"),
                text("调解不成，引导诉讼"),
                OFFICER,
                T0,
            )
            .unwrap()
            .state;
        assert_eq!(transferred.status, DisputeStatus::Transferred);
        assert!(transferred.fail(text("x"), OFFICER, T0).is_err());
        assert!(transferred
            .transfer(TransferTarget::Court, text("法院"), text("x"), OFFICER, T0)
            .is_err());
        let closed = transferred
            .close(text("已移交"), OFFICER, T0)
            .unwrap()
            .state;
        assert_eq!(closed.status, DisputeStatus::Closed);
        assert!(closed.link_incident(3, OFFICER, T0).is_err());
    }

    #[test]
    fn sessions_cannot_be_dated_after_they_are_recorded() {
        let d = Dispute::register(1, new_dispute("low"), OFFICER, T0).state;
        assert_eq!(
            d.record_session(&session(1, T0.plus_minutes(5)), OFFICER, T0)
                .unwrap_err(),
            DisputeError::SessionInFuture
        );
    }

    #[test]
    fn high_risk_overdue_mediation_and_missed_follow_ups_follow_the_clock() {
        let clock = ManualClock::new(T0);
        let d = Dispute::register(1, new_dispute("critical"), OFFICER, clock.now()).state;
        assert_eq!(d.mediate_by, T0.plus_minutes(DAY_MINUTES));
        assert!(!d.mediation_overdue(d.mediate_by));
        clock.set(Timestamp(d.mediate_by.0 + 1));
        assert!(d.mediation_overdue(clock.now()));
        assert!(!d.mark_mediation_warned().mediation_overdue(clock.now()));
        let low = Dispute::register(2, new_dispute("low"), OFFICER, T0).state;
        assert!(!low.mediation_overdue(T0.plus_minutes(100 * DAY_MINUTES)));

        let d = d
            .record_session(&session(1, clock.now()), OFFICER, clock.now())
            .unwrap()
            .state;
        assert!(!d.mediation_overdue(clock.now()), "mediated now");
        let at = clock.now();
        let d = d
            .record_agreement(
                text("赔偿"),
                &FollowUpPolicy::default(),
                &[8, 9],
                OFFICER,
                at,
            )
            .unwrap()
            .state;
        let due = at.plus_minutes(7 * DAY_MINUTES);
        assert!(d
            .missed_follow_ups(due.plus_minutes(DAY_MINUTES))
            .is_empty());
        let missed = d.missed_follow_ups(due.plus_minutes(DAY_MINUTES + 1));
        assert_eq!(missed.len(), 1);
        assert_eq!(missed[0].id, 8);
    }

    #[test]
    fn input_is_checked_field_by_field() {
        let errors = Risk::parse(Some("extreme"), Some(" ")).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["risk_level", "risk_reason"]);
        assert_eq!(
            Risk::parse(None, Some("原因")).unwrap_err()[0].reason,
            Reason::Required
        );
        let errors = Party::parse(
            "parties[1]",
            Some("person"),
            Some(""),
            Some("123"),
            Some("110105194912310021"),
        )
        .unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "parties[1].phone",
                "parties[1].name",
                "parties[1].id_number"
            ]
        );
        let org = Party::parse(
            "parties[0]",
            Some("organisation"),
            Some("锦里物业公司"),
            None,
            None,
        )
        .unwrap();
        assert_eq!(org.kind(), "organisation");
        assert!(Party::parse("p", Some("robot"), Some("x"), None, None).is_err());
        assert!(FollowUpPolicy::new(vec![30, 7]).is_err());
        assert!(FollowUpPolicy::new(vec![]).is_err());
        assert!(FollowUpPolicy::new(vec![0]).is_err());
        assert_eq!(FollowUpPolicy::default().days(), [7, 30]);
        assert!("neighbour".parse::<DisputeType>().is_ok());
        assert_eq!(
            DisputeType::suggested_for("wage_arrears"),
            DisputeType::LabourWages
        );
        assert_eq!(DisputeType::suggested_for("theft"), DisputeType::Other);
        assert!("shared_court".parse::<TransferTarget>().is_ok());
        assert!(Mediators::parse(&vec!["甲".to_owned(); 11]).is_err());
    }
}
