//! 预警: a rule fired on an incident, a work order, an address or a dispute
//! case, and someone must act on it.
//!
//! ```text
//! open ──acknowledge──▶ acknowledged ──close (with an action record)──▶ closed
//! ```
//!
//! A warning attaches to a thing — never to a person or a group of people —
//! and carries the evidence of the rule that fired, so it explains itself.
//! At most one warning per subject and rule is not yet closed: the store
//! enforces it, and a rule that fires again while one is open adds nothing.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::audit::Actor;
use crate::clock::Timestamp;
use crate::dispute::{Dispute, FollowUp, RiskLevel};
use crate::error::{FieldError, Reason};
use crate::label::labels;
use crate::repeat_call::{RepeatCallPolicy, RepeatCallWarning};
use crate::work_order::{Deadline, Escalation, HandlingNote};

/// Which rule fired. Stored as its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningRule {
    /// 重复报警: the repeat-call threshold was reached.
    RepeatCall,
    /// 超时督办: a work order's deadline passed.
    WorkOrderOverdue,
    /// 高风险纠纷超期未调处: a high or critical dispute without a mediation
    /// session past its deadline.
    DisputeUnmediated,
    /// 调解失败 / 协议未履行: mediation failed, or a follow-up found the
    /// agreement broken.
    AgreementFailed,
    /// 回访超期: a follow-up visit of an agreement was not made in time.
    FollowUpMissed,
    /// 威胁暴力言语: threat or violence words in an incident's text or a
    /// mediation session's note, negation understood.
    ThreatWords,
}

labels!(WarningRule {
    RepeatCall => ("重复报警", "Repeat calls"),
    WorkOrderOverdue => ("流转单超时", "Work order overdue"),
    DisputeUnmediated => ("高风险纠纷超期未调处", "High-risk dispute not mediated in time"),
    AgreementFailed => ("调解失败或协议未履行", "Mediation failed or agreement broken"),
    FollowUpMissed => ("纠纷回访超期", "Dispute follow-up overdue"),
    ThreatWords => ("威胁暴力言语", "Threat or violence words"),
});

impl WarningRule {
    pub const ALL: [WarningRule; 6] = [
        WarningRule::RepeatCall,
        WarningRule::WorkOrderOverdue,
        WarningRule::DisputeUnmediated,
        WarningRule::AgreementFailed,
        WarningRule::FollowUpMissed,
        WarningRule::ThreatWords,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WarningRule::RepeatCall => "repeat_call",
            WarningRule::WorkOrderOverdue => "work_order_overdue",
            WarningRule::DisputeUnmediated => "dispute_unmediated",
            WarningRule::AgreementFailed => "agreement_failed",
            WarningRule::FollowUpMissed => "follow_up_missed",
            WarningRule::ThreatWords => "threat_words",
        }
    }

    /// Minutes to acknowledge a warning of this rule. Repeat calls are the
    /// first sign of a dispute that may turn violent: the station answers
    /// within the duty shift. An overdue work order is supervision: a day.
    /// A dispute that escaped mediation or whose agreement failed may turn
    /// violent: the shift; a missed follow-up visit: a day.
    /// Threat words may mean violence within hours (民转刑): within the hour.
    pub fn acknowledge_minutes(self) -> i64 {
        match self {
            WarningRule::RepeatCall => 4 * 60,
            WarningRule::WorkOrderOverdue => 24 * 60,
            WarningRule::DisputeUnmediated | WarningRule::AgreementFailed => 4 * 60,
            WarningRule::FollowUpMissed => 24 * 60,
            WarningRule::ThreatWords => 60,
        }
    }
}

impl fmt::Display for WarningRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for WarningRule {
    type Err = FieldError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        WarningRule::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| unknown("rule", WarningRule::ALL.map(WarningRule::as_str)))
    }
}

fn unknown<const N: usize>(field: &str, allowed: [&str; N]) -> FieldError {
    FieldError::new(
        field,
        Reason::UnknownValue {
            allowed: allowed.iter().map(|a| (*a).to_owned()).collect(),
        },
    )
}

/// What a warning can attach to. There is deliberately no person here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    Incident,
    WorkOrder,
    /// A building of the address registry (标准地址).
    Address,
    /// A dispute case (矛盾纠纷).
    Case,
}

impl SubjectKind {
    pub const ALL: [SubjectKind; 4] = [
        SubjectKind::Incident,
        SubjectKind::WorkOrder,
        SubjectKind::Address,
        SubjectKind::Case,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SubjectKind::Incident => "incident",
            SubjectKind::WorkOrder => "work_order",
            SubjectKind::Address => "address",
            SubjectKind::Case => "case",
        }
    }
}

impl FromStr for SubjectKind {
    type Err = FieldError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SubjectKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| unknown("subject_kind", SubjectKind::ALL.map(SubjectKind::as_str)))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct WarningSubject {
    pub kind: SubjectKind,
    pub id: i64,
}

/// A deadline that passed, as the evidence of an overdue work order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PassedDeadline {
    pub deadline: Deadline,
    pub due_at: Timestamp,
}

/// Where threat words were found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThreatSource {
    /// The text of an incident as it was taken in; the source id is the
    /// incident's.
    IncidentText,
    /// The note of a dispute's mediation session; the source id is the
    /// session's.
    SessionNote,
}

/// A threat word of the evidence, with the kind of threat it shows (the
/// code of the threat rule that lists it: threat_to_kill, weapon, self_harm…).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ThreatWord {
    pub word: String,
    pub kind: String,
}

/// A threat word as a detector found it in a text: byte offsets, end
/// exclusive (`fengqiao_triage::ThreatMatch` maps onto it field by field,
/// its `rule` being the `kind`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundThreat {
    pub word: String,
    pub kind: String,
    pub start: usize,
    pub end: usize,
}

/// Characters kept on either side of the first threat word in an excerpt.
const EXCERPT_CONTEXT: usize = 20;

/// The first threat word with up to 20 characters either side, `…` where
/// the text was cut: enough to judge the words without reading the whole
/// text again.
fn excerpt(text: &str, first: &FoundThreat) -> String {
    let at = |byte: usize| {
        text.char_indices()
            .map(|(i, _)| i)
            .position(|i| i >= byte)
            .unwrap_or_else(|| text.chars().count())
    };
    let chars: Vec<char> = text.chars().collect();
    let start = at(first.start.min(text.len()));
    let end = at(first.end.min(text.len())).max(start);
    let from = start.saturating_sub(EXCERPT_CONTEXT);
    let to = (end + EXCERPT_CONTEXT).min(chars.len());
    let mut out = String::new();
    if from > 0 {
        out.push('…');
    }
    out.extend(&chars[from..to]);
    if to < chars.len() {
        out.push('…');
    }
    out
}

/// What the rule fired on, tagged with the rule: stored as JSON and shown
/// as it is, so whoever reads the warning sees why it was raised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Evidence {
    RepeatCall {
        /// The building, when the chain is linked by address.
        address_id: Option<i64>,
        /// The chain, oldest first, ending with the incident that reached
        /// the threshold.
        incidents: Vec<i64>,
        window_days: u32,
        threshold: usize,
    },
    WorkOrderOverdue {
        work_order_id: i64,
        incident_id: i64,
        deadlines: Vec<PassedDeadline>,
    },
    DisputeUnmediated {
        dispute_id: i64,
        risk_level: RiskLevel,
        registered_at: Timestamp,
        mediate_by: Timestamp,
    },
    AgreementFailed {
        dispute_id: i64,
        /// mediation_failed, or broken at a follow-up visit.
        how: AgreementFailure,
        /// The follow-up visit that found it broken.
        follow_up_id: Option<i64>,
        /// Why mediation failed, or what the visit found.
        note: String,
    },
    FollowUpMissed {
        dispute_id: i64,
        follow_up_id: i64,
        due_at: Timestamp,
    },
    ThreatWords {
        source: ThreatSource,
        /// The incident or the session the text belongs to.
        source_id: i64,
        /// Each word found once, in text order.
        words: Vec<ThreatWord>,
        /// The text around the first word.
        excerpt: String,
    },
}

/// How an agreement failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgreementFailure {
    /// 调解不成: no agreement was reached.
    MediationFailed,
    /// 协议未履行: a follow-up visit found the agreement broken.
    Broken,
}

impl Evidence {
    pub fn rule(&self) -> WarningRule {
        match self {
            Evidence::RepeatCall { .. } => WarningRule::RepeatCall,
            Evidence::WorkOrderOverdue { .. } => WarningRule::WorkOrderOverdue,
            Evidence::DisputeUnmediated { .. } => WarningRule::DisputeUnmediated,
            Evidence::AgreementFailed { .. } => WarningRule::AgreementFailed,
            Evidence::FollowUpMissed { .. } => WarningRule::FollowUpMissed,
            Evidence::ThreatWords { .. } => WarningRule::ThreatWords,
        }
    }

    /// The incident the warning concerns, for boards that follow incidents:
    /// the newest of a repeat-call chain.
    pub fn incident_id(&self) -> Option<i64> {
        match self {
            Evidence::RepeatCall { incidents, .. } => incidents.last().copied(),
            Evidence::WorkOrderOverdue { incident_id, .. } => Some(*incident_id),
            Evidence::DisputeUnmediated { .. }
            | Evidence::AgreementFailed { .. }
            | Evidence::FollowUpMissed { .. } => None,
            Evidence::ThreatWords {
                source: ThreatSource::IncidentText,
                source_id,
                ..
            } => Some(*source_id),
            Evidence::ThreatWords { .. } => None,
        }
    }
}

/// A warning to raise. The store gives it an id, or says one for the same
/// subject and rule is still open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWarning {
    /// The organisation that must act: the station, the supervisor.
    pub org_id: i64,
    pub subject: WarningSubject,
    pub evidence: Evidence,
    pub raised_at: Timestamp,
    pub acknowledge_by: Timestamp,
}

impl NewWarning {
    fn new(org_id: i64, subject: WarningSubject, evidence: Evidence, at: Timestamp) -> Self {
        let acknowledge_by = at.plus_minutes(evidence.rule().acknowledge_minutes());
        NewWarning {
            org_id,
            subject,
            evidence,
            raised_at: at,
            acknowledge_by,
        }
    }

    pub fn rule(&self) -> WarningRule {
        self.evidence.rule()
    }

    /// 重复报警预警 for `station_org_id`: on the building when the chain is
    /// linked by address, else on the incident that reached the threshold
    /// (a chain linked only by the caller's number must not attach to the
    /// caller).
    pub fn repeat_call(
        station_org_id: i64,
        found: &RepeatCallWarning,
        policy: &RepeatCallPolicy,
        at: Timestamp,
    ) -> Option<Self> {
        let newest = *found.incidents.last()?;
        let subject = match found.address_id {
            Some(building) => WarningSubject {
                kind: SubjectKind::Address,
                id: building,
            },
            None => WarningSubject {
                kind: SubjectKind::Incident,
                id: newest,
            },
        };
        let evidence = Evidence::RepeatCall {
            address_id: found.address_id,
            incidents: found.incidents.clone(),
            window_days: policy.window_days(),
            threshold: policy.threshold(),
        };
        Some(NewWarning::new(station_org_id, subject, evidence, at))
    }

    /// 超时督办 for the organisation that supervises the work order, on the
    /// work order, with every deadline escalated at once. `None` when
    /// nothing was escalated.
    pub fn work_order_overdue(
        org_id: i64,
        escalations: &[Escalation],
        at: Timestamp,
    ) -> Option<Self> {
        let first = escalations.first()?;
        let evidence = Evidence::WorkOrderOverdue {
            work_order_id: first.work_order_id,
            incident_id: first.incident_id,
            deadlines: escalations
                .iter()
                .map(|e| PassedDeadline {
                    deadline: e.deadline,
                    due_at: e.due_at,
                })
                .collect(),
        };
        let subject = WarningSubject {
            kind: SubjectKind::WorkOrder,
            id: first.work_order_id,
        };
        Some(NewWarning::new(org_id, subject, evidence, at))
    }

    /// A warning on a dispute case for its station: the case, never its
    /// parties, is the subject.
    pub fn on_case(dispute: &Dispute, evidence: Evidence, at: Timestamp) -> Self {
        let subject = WarningSubject {
            kind: SubjectKind::Case,
            id: dispute.id,
        };
        NewWarning::new(dispute.org_id, subject, evidence, at)
    }

    /// 高风险纠纷超期未调处, or `None` when the case is not overdue.
    pub fn dispute_unmediated(dispute: &Dispute, now: Timestamp) -> Option<Self> {
        dispute.mediation_overdue(now).then(|| {
            let evidence = Evidence::DisputeUnmediated {
                dispute_id: dispute.id,
                risk_level: dispute.risk.level,
                registered_at: dispute.registered_at,
                mediate_by: dispute.mediate_by,
            };
            NewWarning::on_case(dispute, evidence, now)
        })
    }

    /// 调解失败 / 协议未履行.
    pub fn agreement_failed(
        dispute: &Dispute,
        how: AgreementFailure,
        follow_up_id: Option<i64>,
        note: &str,
        at: Timestamp,
    ) -> Self {
        let evidence = Evidence::AgreementFailed {
            dispute_id: dispute.id,
            how,
            follow_up_id,
            note: note.to_owned(),
        };
        NewWarning::on_case(dispute, evidence, at)
    }

    /// 回访超期 for one visit.
    pub fn follow_up_missed(dispute: &Dispute, follow_up: &FollowUp, now: Timestamp) -> Self {
        let evidence = Evidence::FollowUpMissed {
            dispute_id: dispute.id,
            follow_up_id: follow_up.id,
            due_at: follow_up.due_at,
        };
        NewWarning::on_case(dispute, evidence, now)
    }

    /// 威胁暴力言语预警 for `org_id` on `subject` (an incident's building,
    /// else the incident; a session note's case), with the words `found`
    /// in `text` (of the incident or session `source_id`). `None` when
    /// nothing was found: a negated threat ("没有说要打人") is not found.
    pub fn threat_words(
        org_id: i64,
        subject: WarningSubject,
        source: ThreatSource,
        source_id: i64,
        text: &str,
        found: &[FoundThreat],
        at: Timestamp,
    ) -> Option<Self> {
        let first = found.iter().min_by_key(|f| f.start)?;
        let mut in_order: Vec<&FoundThreat> = found.iter().collect();
        in_order.sort_by_key(|f| f.start);
        let mut words: Vec<ThreatWord> = Vec::new();
        for f in in_order {
            let word = ThreatWord {
                word: f.word.clone(),
                kind: f.kind.clone(),
            };
            if !words.contains(&word) {
                words.push(word);
            }
        }
        let evidence = Evidence::ThreatWords {
            source,
            source_id,
            words,
            excerpt: excerpt(text, first),
        };
        Some(NewWarning::new(org_id, subject, evidence, at))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningStatus {
    Open,
    Acknowledged,
    Closed,
}

labels!(WarningStatus {
    Open => ("待签收", "Open"),
    Acknowledged => ("已签收", "Acknowledged"),
    Closed => ("已办结", "Closed"),
});

impl WarningStatus {
    pub const ALL: [WarningStatus; 3] = [
        WarningStatus::Open,
        WarningStatus::Acknowledged,
        WarningStatus::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WarningStatus::Open => "open",
            WarningStatus::Acknowledged => "acknowledged",
            WarningStatus::Closed => "closed",
        }
    }
}

impl fmt::Display for WarningStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for WarningStatus {
    type Err = FieldError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        WarningStatus::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| unknown("status", WarningStatus::ALL.map(WarningStatus::as_str)))
    }
}

/// What was done about a warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningAction {
    /// 上门走访
    Visited,
    /// 调解
    Mediated,
    /// 移交: to a department, a court, the criminal investigators.
    Referred,
    /// 排查无风险
    NoRiskFound,
}

labels!(WarningAction {
    Visited => ("上门走访", "Visited"),
    Mediated => ("调解", "Mediated"),
    Referred => ("移交", "Referred"),
    NoRiskFound => ("排查无风险", "No risk found"),
});

impl WarningAction {
    pub const ALL: [WarningAction; 4] = [
        WarningAction::Visited,
        WarningAction::Mediated,
        WarningAction::Referred,
        WarningAction::NoRiskFound,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WarningAction::Visited => "visited",
            WarningAction::Mediated => "mediated",
            WarningAction::Referred => "referred",
            WarningAction::NoRiskFound => "no_risk_found",
        }
    }
}

impl FromStr for WarningAction {
    type Err = FieldError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        WarningAction::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| unknown("action", WarningAction::ALL.map(WarningAction::as_str)))
    }
}

/// 处置记录: without one a warning cannot be closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionRecord {
    pub action: WarningAction,
    /// What was found and done, 1 to 1000 characters.
    pub note: HandlingNote,
}

impl ActionRecord {
    /// Both are required; every missing or wrong one is reported.
    pub fn parse(action: Option<&str>, note: Option<&str>) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let action = match action.map(str::trim).filter(|a| !a.is_empty()) {
            None => {
                errors.push(FieldError::new("action", Reason::Required));
                None
            }
            Some(a) => WarningAction::from_str(a).map_err(|e| errors.push(e)).ok(),
        };
        let note = HandlingNote::parse("note", note.unwrap_or(""))
            .map_err(|e| errors.push(e))
            .ok();
        match (action, note) {
            (Some(action), Some(note)) => Ok(ActionRecord { action, note }),
            _ => Err(errors),
        }
    }
}

/// Why someone receives a warning (预警推送): the grid's people when it is
/// raised, the station chief when it escalates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecipientKind {
    /// The community officer (社区民警) of the subject's grid.
    Officer,
    /// A grid worker (网格员) of the subject's grid.
    GridWorker,
    /// A station chief (所长), told of a warning nobody acknowledged in time.
    StationChief,
}

impl RecipientKind {
    pub const ALL: [RecipientKind; 3] = [
        RecipientKind::Officer,
        RecipientKind::GridWorker,
        RecipientKind::StationChief,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RecipientKind::Officer => "officer",
            RecipientKind::GridWorker => "grid_worker",
            RecipientKind::StationChief => "station_chief",
        }
    }
}

impl FromStr for RecipientKind {
    type Err = FieldError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RecipientKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| unknown("recipient", RecipientKind::ALL.map(RecipientKind::as_str)))
    }
}

/// A person a warning was delivered to, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Recipient {
    pub user_id: i64,
    pub kind: RecipientKind,
}

/// Why a warning transition was refused. Nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WarningError {
    #[error("a warning that is {from} cannot be {action}")]
    NotAllowed {
        action: &'static str,
        from: WarningStatus,
    },
}

/// 预警 as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub id: i64,
    pub org_id: i64,
    pub subject: WarningSubject,
    pub evidence: Evidence,
    pub status: WarningStatus,
    pub raised_at: Timestamp,
    pub acknowledge_by: Timestamp,
    pub acknowledged_at: Option<Timestamp>,
    pub acknowledged_by: Option<Actor>,
    pub closed_at: Option<Timestamp>,
    pub closed_by: Option<Actor>,
    pub action: Option<ActionRecord>,
    /// 督办: when it escalated to the station chief, not acknowledged by
    /// its deadline. At most once.
    pub escalated_at: Option<Timestamp>,
}

impl Warning {
    pub fn rule(&self) -> WarningRule {
        self.evidence.rule()
    }

    /// Not acknowledged, and its deadline to be has passed (met at its last
    /// millisecond, like a work order's).
    pub fn overdue(&self, now: Timestamp) -> bool {
        self.status == WarningStatus::Open && now > self.acknowledge_by
    }

    /// Whether it must escalate now: overdue and not escalated yet.
    pub fn escalation_due(&self, now: Timestamp) -> bool {
        self.overdue(now) && self.escalated_at.is_none()
    }

    /// 督办: escalates an overdue warning to the station chief, once;
    /// `None` when nothing is due (acknowledged in time, or escalated
    /// already), so a scan after a restart does nothing twice.
    pub fn escalate(&self, now: Timestamp) -> Option<Warning> {
        self.escalation_due(now).then(|| Warning {
            escalated_at: Some(now),
            ..self.clone()
        })
    }

    /// 签收: someone has seen it and takes it on.
    pub fn acknowledge(&self, by: Actor, at: Timestamp) -> Result<Warning, WarningError> {
        if self.status != WarningStatus::Open {
            return Err(WarningError::NotAllowed {
                action: "acknowledged",
                from: self.status,
            });
        }
        Ok(Warning {
            status: WarningStatus::Acknowledged,
            acknowledged_at: Some(at),
            acknowledged_by: Some(by),
            ..self.clone()
        })
    }

    /// 办结: closed with what was done. Only an acknowledged warning: the
    /// record shows who took it on before it shows what they did.
    pub fn close(
        &self,
        record: ActionRecord,
        by: Actor,
        at: Timestamp,
    ) -> Result<Warning, WarningError> {
        if self.status != WarningStatus::Acknowledged {
            return Err(WarningError::NotAllowed {
                action: "closed",
                from: self.status,
            });
        }
        Ok(Warning {
            status: WarningStatus::Closed,
            closed_at: Some(at),
            closed_by: Some(by),
            action: Some(record),
            ..self.clone()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Timestamp = Timestamp(1_764_000_000_000);

    fn raised() -> Warning {
        let found = RepeatCallWarning {
            address_id: Some(501),
            incidents: vec![1, 2, 3],
        };
        let new = NewWarning::repeat_call(7, &found, &RepeatCallPolicy::default(), T0).unwrap();
        Warning {
            id: 1,
            org_id: new.org_id,
            subject: new.subject,
            evidence: new.evidence,
            status: WarningStatus::Open,
            raised_at: new.raised_at,
            acknowledge_by: new.acknowledge_by,
            acknowledged_at: None,
            acknowledged_by: None,
            closed_at: None,
            closed_by: None,
            action: None,
            escalated_at: None,
        }
    }

    fn record() -> ActionRecord {
        ActionRecord::parse(Some("visited"), Some("已上门走访，双方同意调解")).unwrap()
    }

    #[test]
    fn repeat_calls_attach_to_the_building_or_else_the_newest_incident() {
        let warning = raised();
        assert_eq!(
            warning.subject,
            WarningSubject {
                kind: SubjectKind::Address,
                id: 501
            }
        );
        assert_eq!(warning.rule(), WarningRule::RepeatCall);
        assert_eq!(warning.acknowledge_by, T0.plus_minutes(240));
        let by_caller = RepeatCallWarning {
            address_id: None,
            incidents: vec![4, 9],
        };
        let new = NewWarning::repeat_call(7, &by_caller, &RepeatCallPolicy::default(), T0).unwrap();
        assert_eq!(
            new.subject,
            WarningSubject {
                kind: SubjectKind::Incident,
                id: 9
            }
        );
    }

    #[test]
    fn open_then_acknowledged_then_closed_with_a_record() {
        let open = raised();
        assert_eq!(
            open.close(record(), Actor::User(2), T0).unwrap_err(),
            WarningError::NotAllowed {
                action: "closed",
                from: WarningStatus::Open
            }
        );
        let acknowledged = open
            .acknowledge(Actor::User(2), T0.plus_minutes(5))
            .unwrap();
        assert_eq!(acknowledged.status, WarningStatus::Acknowledged);
        assert_eq!(acknowledged.acknowledged_by, Some(Actor::User(2)));
        assert!(acknowledged.acknowledge(Actor::User(3), T0).is_err());
        let closed = acknowledged
            .close(record(), Actor::User(3), T0.plus_minutes(60))
            .unwrap();
        assert_eq!(closed.status, WarningStatus::Closed);
        assert_eq!(closed.action, Some(record()));
        assert_eq!(closed.closed_by, Some(Actor::User(3)));
        assert!(closed.acknowledge(Actor::User(2), T0).is_err());
        assert!(closed.close(record(), Actor::User(2), T0).is_err());
    }

    #[test]
    fn overdue_only_while_unacknowledged_past_the_deadline() {
        let open = raised();
        assert!(!open.overdue(open.acknowledge_by));
        let late = Timestamp(open.acknowledge_by.0 + 1);
        assert!(open.overdue(late));
        let acknowledged = open.acknowledge(Actor::User(2), late).unwrap();
        assert!(!acknowledged.overdue(late.plus_minutes(600)));
    }

    #[test]
    fn an_overdue_warning_escalates_once_and_stays_open() {
        let open = raised();
        assert!(
            open.escalate(open.acknowledge_by).is_none(),
            "met at its last millisecond"
        );
        let late = Timestamp(open.acknowledge_by.0 + 1);
        let escalated = open.escalate(late).unwrap();
        assert_eq!(escalated.escalated_at, Some(late));
        assert_eq!(escalated.status, WarningStatus::Open);
        assert!(
            escalated.escalate(late.plus_minutes(60)).is_none(),
            "only once"
        );
        let acknowledged = escalated.acknowledge(Actor::User(2), late).unwrap();
        assert_eq!(acknowledged.escalated_at, Some(late), "the record keeps it");
        let in_time = open.acknowledge(Actor::User(2), T0).unwrap();
        assert!(in_time.escalate(late).is_none());
    }

    #[test]
    fn an_action_record_needs_an_action_and_a_note() {
        let errors = ActionRecord::parse(None, None).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["action", "note"]);
        let errors = ActionRecord::parse(Some("shrugged"), Some("看过了")).unwrap_err();
        assert!(matches!(errors[0].reason, Reason::UnknownValue { .. }));
        assert!(ActionRecord::parse(Some("no_risk_found"), Some("  ")).is_err());
        assert_eq!(
            ActionRecord::parse(Some("no_risk_found"), Some("经排查无风险"))
                .unwrap()
                .action,
            WarningAction::NoRiskFound
        );
    }

    #[test]
    fn overdue_work_orders_carry_every_deadline_escalated_at_once() {
        let escalations = [Deadline::Accept, Deadline::Finish].map(|deadline| Escalation {
            work_order_id: 5,
            incident_id: 1,
            deadline,
            due_at: T0,
            to_org: Some(30),
        });
        let new = NewWarning::work_order_overdue(30, &escalations, T0).unwrap();
        assert_eq!(new.rule(), WarningRule::WorkOrderOverdue);
        assert_eq!(new.subject.kind, SubjectKind::WorkOrder);
        match &new.evidence {
            Evidence::WorkOrderOverdue { deadlines, .. } => assert_eq!(deadlines.len(), 2),
            other => panic!("{other:?}"),
        }
        assert!(NewWarning::work_order_overdue(30, &[], T0).is_none());
    }

    fn found(text: &str, word: &str, kind: &str) -> FoundThreat {
        let start = text.find(word).unwrap();
        FoundThreat {
            word: word.into(),
            kind: kind.into(),
            start,
            end: start + word.len(),
        }
    }

    #[test]
    fn threat_words_name_the_words_once_in_order_with_an_excerpt() {
        let text = "他说要弄死对方";
        let subject = WarningSubject {
            kind: SubjectKind::Case,
            id: 3,
        };
        let new = NewWarning::threat_words(
            7,
            subject,
            ThreatSource::SessionNote,
            12,
            text,
            &[found(text, "弄死", "threat_to_kill")],
            T0,
        )
        .unwrap();
        assert_eq!(new.rule(), WarningRule::ThreatWords);
        assert_eq!(new.subject, subject);
        assert_eq!(new.acknowledge_by, T0.plus_minutes(60));
        assert_eq!(new.evidence.incident_id(), None);
        assert_eq!(
            new.evidence,
            Evidence::ThreatWords {
                source: ThreatSource::SessionNote,
                source_id: 12,
                words: vec![ThreatWord {
                    word: "弄死".into(),
                    kind: "threat_to_kill".into()
                }],
                excerpt: text.into(),
            }
        );
        let json = serde_json::to_string(&new.evidence).unwrap();
        assert!(
            json.starts_with("{\"rule\":\"threat_words\",\"source\":\"session_note\""),
            "{json}"
        );

        let long = format!(
            "{}拿着菜刀说要砍死他，菜刀还在手里{}",
            "前".repeat(30),
            "后".repeat(30)
        );
        let hits = [
            found(&long, "砍死", "threat_to_kill"),
            found(&long, "菜刀", "weapon"),
            FoundThreat {
                start: long.rfind("菜刀").unwrap(),
                end: long.rfind("菜刀").unwrap() + "菜刀".len(),
                ..found(&long, "菜刀", "weapon")
            },
        ];
        let incident = WarningSubject {
            kind: SubjectKind::Incident,
            id: 40,
        };
        let new = NewWarning::threat_words(
            7,
            incident,
            ThreatSource::IncidentText,
            40,
            &long,
            &hits,
            T0,
        )
        .unwrap();
        assert_eq!(new.evidence.incident_id(), Some(40));
        let Evidence::ThreatWords { words, excerpt, .. } = &new.evidence else {
            panic!("{:?}", new.evidence);
        };
        let words: Vec<&str> = words.iter().map(|w| w.word.as_str()).collect();
        assert_eq!(words, ["菜刀", "砍死"]);
        assert_eq!(
            excerpt,
            &format!(
                "…{}拿着菜刀说要砍死他，菜刀还在手里{}…",
                "前".repeat(18),
                "后".repeat(8)
            )
        );
        assert!(NewWarning::threat_words(
            7,
            incident,
            ThreatSource::IncidentText,
            40,
            &long,
            &[],
            T0
        )
        .is_none());
    }

    #[test]
    fn evidence_names_its_rule_in_json() {
        let json = serde_json::to_string(&raised().evidence).unwrap();
        assert!(json.starts_with("{\"rule\":\"repeat_call\""), "{json}");
        assert_eq!(
            serde_json::from_str::<Evidence>(&json).unwrap(),
            raised().evidence
        );
        assert_eq!(
            "closed".parse::<WarningStatus>().unwrap(),
            WarningStatus::Closed
        );
        assert!("gone".parse::<WarningStatus>().is_err());
    }
}
