//! 警情/事件: one incident record whatever its source, its state machine and
//! its timeline.
//!
//! A transition takes the current record and returns the next one with the
//! events it caused, or a typed error and no change. The store writes the new
//! record and the events in one transaction; the incident's full timeline is
//! its own events merged by time with those of its work orders.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize, Serializer};

use crate::audit::Actor;
use crate::category::Category;
use crate::clock::Timestamp;
use crate::error::{FieldError, Reason};
use crate::geo::Wgs84;
use crate::label::labels;
use crate::personal::{PersonalData, PersonalDataKind};
use crate::receipt::ReceiptNumber;
use crate::repeat_call::RepeatCallFinding;
use crate::text::bounded_text;
use crate::timeline::{TimelineEvent, Transition};
use crate::unit::Force;
use crate::work_order::{HandlingNote, NewWorkOrder, WorkOrder, WorkOrderEvent, WorkOrderStatus};

/// Where an incident came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentSource {
    /// 110 call pushed by a call-taking system.
    #[serde(rename = "call_110")]
    Call110,
    WalkIn,
    Phone,
    /// e治采: a grid worker's or cadre's field report.
    GridWorker,
    /// A resident's report from a building's QR plate: anonymous.
    QrReport,
    Sensor,
    VideoAnalytics,
    Open311,
    /// 民警当面: told in person to an officer in the street or at a
    /// joint-duty station, and entered by that officer.
    ToldOfficer,
}

impl IncidentSource {
    pub const ALL: [IncidentSource; 9] = [
        IncidentSource::Call110,
        IncidentSource::WalkIn,
        IncidentSource::Phone,
        IncidentSource::GridWorker,
        IncidentSource::QrReport,
        IncidentSource::Sensor,
        IncidentSource::VideoAnalytics,
        IncidentSource::Open311,
        IncidentSource::ToldOfficer,
    ];

    /// What a person at the station's desk (the command room, a joint-duty
    /// station, a community officer) enters by hand: 来所, 电话, 民警当面.
    pub const DESK: [IncidentSource; 3] = [
        IncidentSource::WalkIn,
        IncidentSource::Phone,
        IncidentSource::ToldOfficer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IncidentSource::Call110 => "call_110",
            IncidentSource::WalkIn => "walk_in",
            IncidentSource::Phone => "phone",
            IncidentSource::GridWorker => "grid_worker",
            IncidentSource::QrReport => "qr_report",
            IncidentSource::Sensor => "sensor",
            IncidentSource::VideoAnalytics => "video_analytics",
            IncidentSource::Open311 => "open311",
            IncidentSource::ToldOfficer => "told_officer",
        }
    }

    /// Machines report for nobody: there is no personal data to keep.
    pub fn is_machine(self) -> bool {
        matches!(
            self,
            IncidentSource::Sensor | IncidentSource::VideoAnalytics
        )
    }
}

impl fmt::Display for IncidentSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for IncidentSource {
    type Err = FieldError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        IncidentSource::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                FieldError::new(
                    "source",
                    Reason::UnknownValue {
                        allowed: IncidentSource::ALL
                            .iter()
                            .map(|k| k.as_str().to_owned())
                            .collect(),
                    },
                )
            })
    }
}

labels!(IncidentSource {
    Call110 => ("110接警", "110 call"),
    WalkIn => ("来所报警", "Walk-in"),
    Phone => ("电话报警", "Phone"),
    GridWorker => ("网格员上报", "Grid worker"),
    QrReport => ("扫码上报", "Plate report"),
    Sensor => ("感知设备", "Sensor"),
    VideoAnalytics => ("视频分析", "Video analytics"),
    Open311 => ("Open311", "Open311"),
    ToldOfficer => ("民警当面", "Told to an officer"),
});

/// How a call that is only a question ends at the desk: 当场答复 (the
/// operator answered it) or 告知转办 (the caller was referred to the
/// counter or hotline that serves it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Settlement {
    Answered,
    Referred,
}

impl Settlement {
    pub const ALL: [Settlement; 2] = [Settlement::Answered, Settlement::Referred];

    pub fn as_str(self) -> &'static str {
        match self {
            Settlement::Answered => "answered",
            Settlement::Referred => "referred",
        }
    }
}

impl FromStr for Settlement {
    type Err = FieldError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Settlement::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                FieldError::new(
                    "settlement",
                    Reason::UnknownValue {
                        allowed: Settlement::ALL
                            .iter()
                            .map(|k| k.as_str().to_owned())
                            .collect(),
                    },
                )
            })
    }
}

labels!(Settlement {
    Answered => ("当场答复", "Answered on the spot"),
    Referred => ("告知转办", "Referred"),
});

/// 警务类 / 非警务类: whether the police must handle an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Group {
    Police,
    NonPolice,
}

impl Group {
    pub fn as_str(self) -> &'static str {
        match self {
            Group::Police => "police",
            Group::NonPolice => "non_police",
        }
    }
}

impl FromStr for Group {
    type Err = FieldError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "police" => Ok(Group::Police),
            "non_police" => Ok(Group::NonPolice),
            _ => Err(FieldError::new(
                "group",
                Reason::UnknownValue {
                    allowed: vec!["police".into(), "non_police".into()],
                },
            )),
        }
    }
}

/// 1 is the most urgent, 4 the least.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Priority(u8);

impl Priority {
    pub fn parse(value: u8) -> Result<Self, FieldError> {
        if (1..=4).contains(&value) {
            Ok(Priority(value))
        } else {
            Err(FieldError::new(
                "priority",
                Reason::InvalidFormat {
                    expected: "priority 1..=4",
                },
            ))
        }
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for Priority {
    type Error = FieldError;

    fn try_from(value: u8) -> Result<Self, Self::Error> {
        Priority::parse(value)
    }
}

impl From<Priority> for u8 {
    fn from(p: Priority) -> Self {
        p.0
    }
}

/// Whether the category came from the rules or an operator chose it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriagedBy {
    Rules,
    Operator,
    /// The reporter chose it: an Open311 client names a service.
    Reporter,
}

/// 分类: what an incident is, whether it is police work, how urgent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Triage {
    pub category: Category,
    pub group: Group,
    pub priority: Priority,
}

/// The original words of a report, 1 to 2000 characters, kept as given
/// apart from surrounding whitespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IncidentText(String);

impl IncidentText {
    pub const MAX_CHARS: usize = 2000;

    pub fn parse(text: &str) -> Result<Self, FieldError> {
        bounded_text("text", text, Self::MAX_CHARS).map(IncidentText)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for IncidentText {
    type Error = FieldError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        IncidentText::parse(&value)
    }
}

impl From<IncidentText> for String {
    fn from(t: IncidentText) -> Self {
        t.0
    }
}

/// Where it happened: the words as given, and what resolution made of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Location {
    /// 1 to 200 characters, as the caller said it.
    pub text: String,
    /// The standard address (标准地址) it resolved to, if any.
    pub address_id: Option<i64>,
    pub coordinates: Option<Wgs84>,
}

impl Location {
    pub const MAX_CHARS: usize = 200;

    pub fn new(
        text: &str,
        address_id: Option<i64>,
        coordinates: Option<Wgs84>,
    ) -> Result<Self, FieldError> {
        Ok(Location {
            text: bounded_text("location", text, Self::MAX_CHARS)?,
            address_id,
            coordinates,
        })
    }
}

/// An incident as submitted, before it has a number.
#[derive(Debug, Clone, PartialEq)]
pub struct NewIncident {
    pub source: IncidentSource,
    pub text: IncidentText,
    pub location: Location,
    pub reporter: Option<PersonalData>,
}

/// The raw fields of an intake, as any adapter receives them.
#[derive(Debug, Clone, Default)]
pub struct IncidentInput<'a> {
    pub source: &'a str,
    pub text: &'a str,
    pub location_text: &'a str,
    pub address_id: Option<i64>,
    pub coordinates: Option<Wgs84>,
    pub reporter: Option<PersonalData>,
}

impl NewIncident {
    /// Checks every field and reports all that are wrong at once.
    ///
    /// A QR-plate report is anonymous: it may carry a callback phone number
    /// the resident chose to give (the public report page offers one), never
    /// a name or an ID number. Sensors and video analytics report for nobody
    /// and carry no reporter at all.
    pub fn parse(input: IncidentInput<'_>) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let source = IncidentSource::from_str(input.source)
            .map_err(|e| errors.push(e))
            .ok();
        let text = IncidentText::parse(input.text)
            .map_err(|e| errors.push(e))
            .ok();
        let location = Location::new(input.location_text, input.address_id, input.coordinates)
            .map_err(|e| errors.push(e))
            .ok();
        if let (Some(source), Some(reporter)) = (source, &input.reporter) {
            let refused = source.is_machine()
                || (source == IncidentSource::QrReport
                    && reporter.kind() != PersonalDataKind::Phone);
            if refused {
                errors.push(FieldError::new(
                    "reporter",
                    Reason::Conflict {
                        detail: "anonymous_source",
                    },
                ));
            }
        }
        match (source, text, location) {
            (Some(source), Some(text), Some(location)) if errors.is_empty() => Ok(NewIncident {
                source,
                text,
                location,
                reporter: input.reporter,
            }),
            _ => Err(errors),
        }
    }
}

/// Where an incident stands.
///
/// ```text
/// received ──triage──▶ triaged ──dispatch (police)──▶ dispatched ─┐
///    │                    │ └────divert (non-police)──▶ diverted ──┤ start_handling
///    │                    │                                        ▼
///    └──cancel_as_duplicate┴──▶ cancelled                     in_progress
///                                                                  │ resolve (no open work orders)
///                                                                  ▼
///              reopened ◀──negative feedback── resolved ──positive feedback / close──▶ closed
///                 │  (also from closed)                                  (no open work orders)
///                 └── triage again, dispatch or divert as from triaged
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentStatus {
    Received,
    Triaged,
    Dispatched,
    Diverted,
    InProgress,
    Resolved,
    Closed,
    Reopened,
    Cancelled,
}

impl IncidentStatus {
    pub const ALL: [IncidentStatus; 9] = [
        IncidentStatus::Received,
        IncidentStatus::Triaged,
        IncidentStatus::Dispatched,
        IncidentStatus::Diverted,
        IncidentStatus::InProgress,
        IncidentStatus::Resolved,
        IncidentStatus::Closed,
        IncidentStatus::Reopened,
        IncidentStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IncidentStatus::Received => "received",
            IncidentStatus::Triaged => "triaged",
            IncidentStatus::Dispatched => "dispatched",
            IncidentStatus::Diverted => "diverted",
            IncidentStatus::InProgress => "in_progress",
            IncidentStatus::Resolved => "resolved",
            IncidentStatus::Closed => "closed",
            IncidentStatus::Reopened => "reopened",
            IncidentStatus::Cancelled => "cancelled",
        }
    }

    /// Whether routing decisions may still be made from here.
    fn awaits_routing(self) -> bool {
        matches!(self, IncidentStatus::Triaged | IncidentStatus::Reopened)
    }
}

impl fmt::Display for IncidentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

labels!(IncidentStatus {
    Received => ("已接警", "Received"),
    Triaged => ("待派转", "Awaiting routing"),
    Dispatched => ("已派警", "Dispatched"),
    Diverted => ("已分流", "With a department"),
    InProgress => ("处置中", "In progress"),
    Resolved => ("已办结", "Resolved"),
    Closed => ("已结案", "Closed"),
    Reopened => ("已重启", "Reopened"),
    Cancelled => ("已撤销", "Cancelled"),
});

/// 回访满意度: 1 (very dissatisfied) to 5 (very satisfied).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Satisfaction(u8);

impl Satisfaction {
    pub fn parse(value: u8) -> Result<Self, FieldError> {
        if (1..=5).contains(&value) {
            Ok(Satisfaction(value))
        } else {
            Err(FieldError::new(
                "satisfaction",
                Reason::InvalidFormat {
                    expected: "satisfaction 1..=5",
                },
            ))
        }
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for Satisfaction {
    type Error = FieldError;

    fn try_from(value: u8) -> Result<Self, Self::Error> {
        Satisfaction::parse(value)
    }
}

impl From<Satisfaction> for u8 {
    fn from(s: Satisfaction) -> Self {
        s.0
    }
}

/// 回访: the caller's answer when asked whether it was solved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Feedback {
    pub resolved: bool,
    pub satisfaction: Satisfaction,
}

/// What happened to an incident; each is stored with its actor and time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum IncidentEvent {
    Received {
        source: IncidentSource,
        receipt: ReceiptNumber,
    },
    Triaged {
        category: Category,
        group: Group,
        priority: Priority,
        by: TriagedBy,
    },
    /// An operator changed the category, group or priority; both are kept
    /// so the figures can tell how often the suggestion was wrong.
    Overridden {
        from: Triage,
        to: Triage,
    },
    /// The incident was handed to an organisation: the command room for a
    /// police incident, a department for a work order.
    Routed {
        to_org: i64,
    },
    WorkOrderCreated {
        work_order_id: i64,
        owner_org_id: i64,
        /// The rejected work order this one re-routes.
        replaces: Option<i64>,
    },
    /// 退回: a department rejected a work order; the incident is back with
    /// the organisation that sent it, to be re-routed.
    SentBack {
        work_order_id: i64,
        to_org: i64,
    },
    HandlingStarted,
    Resolved,
    FeedbackRecorded {
        resolved: bool,
        satisfaction: Satisfaction,
    },
    Reopened,
    Closed,
    CancelledAsDuplicate {
        of: i64,
    },
    LinkedAsRepeat {
        earlier: Vec<i64>,
    },
    /// 重复报警预警: the repeat-call threshold was reached.
    RepeatCallWarningRaised {
        address_id: Option<i64>,
        incidents: Vec<i64>,
    },
    /// 派警: a unit was sent to it.
    UnitDispatched {
        unit_id: i64,
        call_sign: String,
        force: Force,
    },
    /// 到场: a unit it was sent to arrived.
    UnitArrived {
        unit_id: i64,
    },
    /// A unit it was sent to is free again.
    UnitCleared {
        unit_id: i64,
    },
    /// 现场处置完毕: a unit on scene settled it, with what it did.
    ResolvedOnScene {
        unit_id: i64,
        result: HandlingNote,
    },
    /// 当场答复 / 告知转办: a question answered at the desk, or referred to
    /// the counter that serves it, with the answer or the referral.
    SettledOnTheSpot {
        how: Settlement,
        note: HandlingNote,
    },
}

/// Why an incident transition was refused. Nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IncidentError {
    #[error("an incident that is {from} cannot be {action}")]
    NotAllowed {
        action: &'static str,
        from: IncidentStatus,
    },
    #[error("the incident has no category yet")]
    NotTriaged,
    #[error("a {group:?} incident cannot be {action}")]
    WrongGroup { action: &'static str, group: Group },
    #[error("work orders {ids:?} are still open")]
    OpenWorkOrders { ids: Vec<i64> },
    #[error("work order {id} belongs to another incident")]
    ForeignWorkOrder { id: i64 },
    #[error("work order {id} was not rejected, so it cannot be re-routed")]
    NotRejected { id: i64 },
    #[error("a re-routed work order must go to another organisation than {org_id}")]
    SameOwner { org_id: i64 },
    #[error("an incident cannot duplicate itself")]
    DuplicateOfItself,
    #[error("the street patrol force cannot be sent alone to a police incident")]
    PoliceNeedPolice,
    #[error("a priority-1 incident is never settled at the desk")]
    UrgentNotSettled,
}

/// An incident and the first work order it created, or a re-routed one.
#[derive(Debug, Clone, PartialEq)]
pub struct Diversion {
    pub incident: Transition<Incident, IncidentEvent>,
    pub work_order: Transition<WorkOrder, WorkOrderEvent>,
}

/// 警情/事件: anything reported to the station, whatever its source.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Incident {
    pub id: i64,
    pub receipt: ReceiptNumber,
    /// The station whose receipt series and command room it belongs to.
    pub station_id: i64,
    pub source: IncidentSource,
    pub received_at: Timestamp,
    /// Shown masked; only an audited reveal shows it in full.
    #[serde(serialize_with = "masked_reporter")]
    pub reporter: Option<PersonalData>,
    pub text: IncidentText,
    pub location: Location,
    pub triage: Option<Triage>,
    pub status: IncidentStatus,
    /// The organisation handling it now: the command room or the originator
    /// of its work orders.
    pub owner_org_id: Option<i64>,
    /// Earlier incidents this one repeats (重复报警).
    pub repeat_of: Vec<i64>,
    pub last_feedback: Option<Feedback>,
}

fn masked_reporter<S: Serializer>(
    reporter: &Option<PersonalData>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match reporter {
        Some(data) => s.serialize_some(&data.masked()),
        None => s.serialize_none(),
    }
}

type IncidentResult = Result<Transition<Incident, IncidentEvent>, IncidentError>;

impl Incident {
    /// 接警: takes a checked submission in. Ids and the receipt sequence
    /// come from the store, which counts them inside its transaction.
    pub fn receive(
        id: i64,
        station_id: i64,
        receipt: ReceiptNumber,
        new: NewIncident,
        actor: Actor,
        at: Timestamp,
    ) -> Transition<Incident, IncidentEvent> {
        let incident = Incident {
            id,
            receipt: receipt.clone(),
            station_id,
            source: new.source,
            received_at: at,
            reporter: new.reporter,
            text: new.text,
            location: new.location,
            triage: None,
            status: IncidentStatus::Received,
            owner_org_id: None,
            repeat_of: Vec::new(),
            last_feedback: None,
        };
        let event = IncidentEvent::Received {
            source: incident.source,
            receipt,
        };
        Transition {
            state: incident,
            events: vec![TimelineEvent::new(at, actor, event)],
        }
    }

    fn refuse(&self, action: &'static str) -> IncidentError {
        IncidentError::NotAllowed {
            action,
            from: self.status,
        }
    }

    fn moved(
        &self,
        change: impl FnOnce(&mut Incident),
        events: Vec<IncidentEvent>,
        actor: Actor,
        at: Timestamp,
    ) -> Transition<Incident, IncidentEvent> {
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

    fn group(&self) -> Result<Group, IncidentError> {
        self.triage
            .as_ref()
            .map(|t| t.group)
            .ok_or(IncidentError::NotTriaged)
    }

    /// 分类: sets category, group and priority. The first time (or after a
    /// reopening) it is a triage; while the incident still awaits routing a
    /// second one is an override that keeps both versions in the timeline.
    pub fn triage(
        &self,
        triage: Triage,
        by: TriagedBy,
        actor: Actor,
        at: Timestamp,
    ) -> IncidentResult {
        let event = match (self.status, &self.triage) {
            (IncidentStatus::Received, _) | (IncidentStatus::Reopened, None) => {
                IncidentEvent::Triaged {
                    category: triage.category.clone(),
                    group: triage.group,
                    priority: triage.priority,
                    by,
                }
            }
            (IncidentStatus::Triaged | IncidentStatus::Reopened, Some(previous)) => {
                IncidentEvent::Overridden {
                    from: previous.clone(),
                    to: triage.clone(),
                }
            }
            _ => return Err(self.refuse("triaged")),
        };
        let status = match self.status {
            IncidentStatus::Reopened => IncidentStatus::Reopened,
            _ => IncidentStatus::Triaged,
        };
        Ok(self.moved(
            |s| {
                s.triage = Some(triage);
                s.status = status;
            },
            vec![event],
            actor,
            at,
        ))
    }

    /// 派警: a police incident goes to the station's command room.
    pub fn dispatch(
        &self,
        command_room_org_id: i64,
        actor: Actor,
        at: Timestamp,
    ) -> IncidentResult {
        if !self.status.awaits_routing() {
            return Err(self.refuse("dispatched"));
        }
        let group = self.group()?;
        if group != Group::Police {
            return Err(IncidentError::WrongGroup {
                action: "dispatched",
                group,
            });
        }
        Ok(self.moved(
            |s| {
                s.status = IncidentStatus::Dispatched;
                s.owner_org_id = Some(command_room_org_id);
            },
            vec![IncidentEvent::Routed {
                to_org: command_room_org_id,
            }],
            actor,
            at,
        ))
    }

    /// 待派转: intake found no one to hand a triaged incident to, so the
    /// station's command room holds it until an operator triages and routes
    /// it by hand. Its status stays; only the holder is named, so the
    /// command room's board shows it.
    pub fn hold(&self, command_room_org_id: i64, actor: Actor, at: Timestamp) -> IncidentResult {
        if !self.status.awaits_routing() {
            return Err(self.refuse("held for routing"));
        }
        Ok(self.moved(
            |s| s.owner_org_id = Some(command_room_org_id),
            Vec::new(),
            actor,
            at,
        ))
    }

    /// 分流: hands the incident to a department as a work order. A
    /// non-police incident awaiting routing becomes diverted; one already
    /// being handled may add work orders for more departments (联动处置),
    /// whatever its group.
    pub fn divert(
        &self,
        order: NewWorkOrder,
        actor: Actor,
        at: Timestamp,
    ) -> Result<Diversion, IncidentError> {
        let status = match self.status {
            s if s.awaits_routing() => IncidentStatus::Diverted,
            s @ (IncidentStatus::Dispatched
            | IncidentStatus::Diverted
            | IncidentStatus::InProgress) => s,
            _ => return Err(self.refuse("diverted")),
        };
        let group = self.group()?;
        if self.status.awaits_routing() && group != Group::NonPolice {
            return Err(IncidentError::WrongGroup {
                action: "diverted",
                group,
            });
        }
        Ok(self.create_work_order(order, None, status, actor, at))
    }

    /// 重新分流: a rejected work order is followed by a new one for another
    /// organisation; the rejected one stays in the history.
    pub fn reroute(
        &self,
        rejected: &WorkOrder,
        order: NewWorkOrder,
        actor: Actor,
        at: Timestamp,
    ) -> Result<Diversion, IncidentError> {
        self.group()?;
        if rejected.incident_id != self.id {
            return Err(IncidentError::ForeignWorkOrder { id: rejected.id });
        }
        if rejected.status != WorkOrderStatus::Rejected {
            return Err(IncidentError::NotRejected { id: rejected.id });
        }
        if order.owner_org_id == rejected.owner_org_id {
            return Err(IncidentError::SameOwner {
                org_id: rejected.owner_org_id,
            });
        }
        if !matches!(
            self.status,
            IncidentStatus::Diverted | IncidentStatus::InProgress | IncidentStatus::Dispatched
        ) {
            return Err(self.refuse("re-routed"));
        }
        Ok(self.create_work_order(order, Some(rejected.id), self.status, actor, at))
    }

    fn create_work_order(
        &self,
        order: NewWorkOrder,
        replaces: Option<i64>,
        status: IncidentStatus,
        actor: Actor,
        at: Timestamp,
    ) -> Diversion {
        let category = self
            .triage
            .as_ref()
            .map(|t| t.category.code.clone())
            .expect("callers check that the incident is triaged");
        let work_order = WorkOrder::create(self.id, category, order, replaces, actor.clone(), at);
        let created = &work_order.state;
        let events = vec![
            IncidentEvent::Routed {
                to_org: created.owner_org_id,
            },
            IncidentEvent::WorkOrderCreated {
                work_order_id: created.id,
                owner_org_id: created.owner_org_id,
                replaces,
            },
        ];
        let originator = created.originator_org_id;
        // Routed from waiting, the originator holds it now; handed on while
        // handled (联动, re-routing), whoever held it keeps it.
        let first_routing = self.status.awaits_routing();
        let incident = self.moved(
            |s| {
                s.status = status;
                if first_routing {
                    s.owner_org_id = Some(originator);
                } else {
                    s.owner_org_id.get_or_insert(originator);
                }
            },
            events,
            actor,
            at,
        );
        Diversion {
            incident,
            work_order,
        }
    }

    /// 退回指挥室: records that `rejected` came back, and hands the incident
    /// to the work order's originator, who re-routes it (`reroute`). The
    /// status stays: other departments may still be at work on it.
    pub fn send_back(&self, rejected: &WorkOrder, actor: Actor, at: Timestamp) -> IncidentResult {
        if rejected.incident_id != self.id {
            return Err(IncidentError::ForeignWorkOrder { id: rejected.id });
        }
        if rejected.status != WorkOrderStatus::Rejected {
            return Err(IncidentError::NotRejected { id: rejected.id });
        }
        if !matches!(
            self.status,
            IncidentStatus::Diverted | IncidentStatus::InProgress | IncidentStatus::Dispatched
        ) {
            return Err(self.refuse("sent back"));
        }
        let to_org = rejected.originator_org_id;
        Ok(self.moved(
            |s| s.owner_org_id = Some(to_org),
            vec![IncidentEvent::SentBack {
                work_order_id: rejected.id,
                to_org,
            }],
            actor,
            at,
        ))
    }

    /// 处置中: a unit arrived, or a department accepted a work order.
    pub fn start_handling(&self, actor: Actor, at: Timestamp) -> IncidentResult {
        match self.status {
            IncidentStatus::Dispatched | IncidentStatus::Diverted => Ok(self.moved(
                |s| s.status = IncidentStatus::InProgress,
                vec![IncidentEvent::HandlingStarted],
                actor,
                at,
            )),
            _ => Err(self.refuse("started")),
        }
    }

    /// 处结: handling is over. `work_orders` are all of this incident's;
    /// none may still be open (created, accepted, in progress or returned
    /// but not yet confirmed).
    pub fn resolve(
        &self,
        work_orders: &[WorkOrder],
        actor: Actor,
        at: Timestamp,
    ) -> IncidentResult {
        self.resolved_with(IncidentEvent::Resolved, work_orders, actor, at)
    }

    fn resolved_with(
        &self,
        event: IncidentEvent,
        work_orders: &[WorkOrder],
        actor: Actor,
        at: Timestamp,
    ) -> IncidentResult {
        if self.status != IncidentStatus::InProgress {
            return Err(self.refuse("resolved"));
        }
        self.check_no_open_work_orders(work_orders)?;
        Ok(self.moved(
            |s| s.status = IncidentStatus::Resolved,
            vec![event],
            actor,
            at,
        ))
    }

    /// 回访: the caller's answer. Solved closes a resolved incident (a late
    /// answer on a closed one is only recorded); not solved reopens it, from
    /// resolved or closed.
    pub fn record_feedback(
        &self,
        feedback: Feedback,
        work_orders: &[WorkOrder],
        actor: Actor,
        at: Timestamp,
    ) -> IncidentResult {
        let recorded = IncidentEvent::FeedbackRecorded {
            resolved: feedback.resolved,
            satisfaction: feedback.satisfaction,
        };
        let (status, events) = match (self.status, feedback.resolved) {
            (IncidentStatus::Resolved | IncidentStatus::Closed, false) => (
                IncidentStatus::Reopened,
                vec![recorded, IncidentEvent::Reopened],
            ),
            (IncidentStatus::Resolved, true) => {
                self.check_no_open_work_orders(work_orders)?;
                (
                    IncidentStatus::Closed,
                    vec![recorded, IncidentEvent::Closed],
                )
            }
            (IncidentStatus::Closed, true) => (IncidentStatus::Closed, vec![recorded]),
            _ => return Err(self.refuse("given feedback")),
        };
        Ok(self.moved(
            |s| {
                s.status = status;
                s.last_feedback = Some(feedback);
            },
            events,
            actor,
            at,
        ))
    }

    /// 结案 without feedback: an anonymous caller, or one who cannot be
    /// reached.
    pub fn close(&self, work_orders: &[WorkOrder], actor: Actor, at: Timestamp) -> IncidentResult {
        if self.status != IncidentStatus::Resolved {
            return Err(self.refuse("closed"));
        }
        self.check_no_open_work_orders(work_orders)?;
        Ok(self.moved(
            |s| s.status = IncidentStatus::Closed,
            vec![IncidentEvent::Closed],
            actor,
            at,
        ))
    }

    /// 派警到人: a unit is sent to the incident once it is routed — a
    /// police incident to the command room, a non-police one to a
    /// department (the street force's first response). A police incident
    /// gets police units only: a life in danger never leaves the police.
    pub fn send_unit(
        &self,
        unit_id: i64,
        call_sign: &str,
        force: Force,
        actor: Actor,
        at: Timestamp,
    ) -> IncidentResult {
        if !matches!(
            self.status,
            IncidentStatus::Dispatched | IncidentStatus::Diverted | IncidentStatus::InProgress
        ) {
            return Err(self.refuse("sent a unit"));
        }
        if self.group()? == Group::Police && force != Force::Police {
            return Err(IncidentError::PoliceNeedPolice);
        }
        Ok(self.moved(
            |_| {},
            vec![IncidentEvent::UnitDispatched {
                unit_id,
                call_sign: call_sign.to_owned(),
                force,
            }],
            actor,
            at,
        ))
    }

    /// 到场: the first unit on scene starts the handling.
    pub fn unit_arrived(&self, unit_id: i64, actor: Actor, at: Timestamp) -> IncidentResult {
        let arrived = IncidentEvent::UnitArrived { unit_id };
        match self.status {
            IncidentStatus::Dispatched | IncidentStatus::Diverted => Ok(self.moved(
                |s| s.status = IncidentStatus::InProgress,
                vec![arrived, IncidentEvent::HandlingStarted],
                actor,
                at,
            )),
            IncidentStatus::InProgress | IncidentStatus::Resolved => {
                Ok(self.moved(|_| {}, vec![arrived], actor, at))
            }
            _ => Err(self.refuse("attended")),
        }
    }

    /// A unit is free again; the incident keeps its status.
    pub fn unit_cleared(
        &self,
        unit_id: i64,
        actor: Actor,
        at: Timestamp,
    ) -> Transition<Incident, IncidentEvent> {
        self.moved(
            |_| {},
            vec![IncidentEvent::UnitCleared { unit_id }],
            actor,
            at,
        )
    }

    /// 现场处置: the unit on scene settled it. Like [`Incident::resolve`],
    /// only with no work order still open.
    pub fn resolve_on_scene(
        &self,
        unit_id: i64,
        result: HandlingNote,
        work_orders: &[WorkOrder],
        actor: Actor,
        at: Timestamp,
    ) -> IncidentResult {
        let event = IncidentEvent::ResolvedOnScene { unit_id, result };
        self.resolved_with(event, work_orders, actor, at)
    }

    /// 当场答复 / 告知转办: a call that is only a question ends at the desk
    /// while it still awaits routing — answered, or referred to the counter
    /// that serves it — and the command room that settled it holds it.
    /// No work order was made, so the figures count it as resolved on the
    /// spot. Priority 1 (danger to life) is never settled this way.
    pub fn settle_on_the_spot(
        &self,
        how: Settlement,
        note: HandlingNote,
        command_room_org_id: i64,
        work_orders: &[WorkOrder],
        actor: Actor,
        at: Timestamp,
    ) -> IncidentResult {
        if !self.status.awaits_routing() {
            return Err(self.refuse("settled on the spot"));
        }
        let triage = self.triage.as_ref().ok_or(IncidentError::NotTriaged)?;
        if triage.priority.get() == 1 {
            return Err(IncidentError::UrgentNotSettled);
        }
        self.check_no_open_work_orders(work_orders)?;
        Ok(self.moved(
            |s| {
                s.status = IncidentStatus::Resolved;
                s.owner_org_id = Some(command_room_org_id);
            },
            vec![IncidentEvent::SettledOnTheSpot { how, note }],
            actor,
            at,
        ))
    }

    /// The same event reported twice: only before anyone was sent.
    pub fn cancel_as_duplicate(&self, of: i64, actor: Actor, at: Timestamp) -> IncidentResult {
        if of == self.id {
            return Err(IncidentError::DuplicateOfItself);
        }
        if !matches!(
            self.status,
            IncidentStatus::Received | IncidentStatus::Triaged
        ) {
            return Err(self.refuse("cancelled as a duplicate"));
        }
        Ok(self.moved(
            |s| s.status = IncidentStatus::Cancelled,
            vec![IncidentEvent::CancelledAsDuplicate { of }],
            actor,
            at,
        ))
    }

    /// Records what the `RepeatCallDetector` found: the links, and the
    /// warning when one is due. Links already known are not repeated, so
    /// running it twice adds nothing.
    pub fn link_repeats(
        &self,
        finding: &RepeatCallFinding,
        actor: Actor,
        at: Timestamp,
    ) -> IncidentResult {
        if self.status == IncidentStatus::Cancelled {
            return Err(self.refuse("linked"));
        }
        let new_links: Vec<i64> = finding
            .linked
            .iter()
            .copied()
            .filter(|id| !self.repeat_of.contains(id))
            .collect();
        let mut events = Vec::new();
        if !new_links.is_empty() {
            events.push(IncidentEvent::LinkedAsRepeat {
                earlier: new_links.clone(),
            });
        }
        if let Some(warning) = &finding.warning {
            events.push(IncidentEvent::RepeatCallWarningRaised {
                address_id: warning.address_id,
                incidents: warning.incidents.clone(),
            });
        }
        Ok(self.moved(|s| s.repeat_of.extend(new_links), events, actor, at))
    }

    fn check_no_open_work_orders(&self, work_orders: &[WorkOrder]) -> Result<(), IncidentError> {
        if let Some(foreign) = work_orders.iter().find(|w| w.incident_id != self.id) {
            return Err(IncidentError::ForeignWorkOrder { id: foreign.id });
        }
        let open: Vec<i64> = work_orders
            .iter()
            .filter(|w| w.status.is_open())
            .map(|w| w.id)
            .collect();
        if open.is_empty() {
            Ok(())
        } else {
            Err(IncidentError::OpenWorkOrders { ids: open })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::receipt::StationCode;
    use crate::work_order::{DeadlinePolicy, HandlingNote, OrgActor};

    const T0: Timestamp = Timestamp(1_764_000_000_000);
    const OPERATOR: Actor = Actor::User(7);

    fn triage(code: &str, family: &str, group: Group) -> Triage {
        Triage {
            category: Category::new(code, family).unwrap(),
            group,
            priority: Priority::parse(3).unwrap(),
        }
    }

    fn received() -> Incident {
        let new = NewIncident::parse(IncidentInput {
            source: "phone",
            text: "楼上每天半夜装修，吵得睡不着",
            location_text: "浆洗街某小区3栋2单元501",
            address_id: Some(501),
            reporter: Some(PersonalData::phone("reporter", "13812345678").unwrap()),
            ..Default::default()
        })
        .unwrap();
        let receipt = ReceiptNumber::new(StationCode::parse("JXJ").unwrap(), T0, 42).unwrap();
        Incident::receive(1, 9, receipt, new, OPERATOR, T0).state
    }

    fn in_status(status: IncidentStatus, group: Group) -> Incident {
        let mut incident = received();
        if status != IncidentStatus::Received {
            incident.triage = Some(triage("noise", "environment", group));
        }
        incident.status = status;
        incident
    }

    #[test]
    fn a_question_is_settled_at_the_desk_only_while_it_awaits_routing() {
        let note = HandlingNote::parse("note", "已告知落户所需材料").unwrap();
        let waiting = in_status(IncidentStatus::Triaged, Group::NonPolice);
        let settled = waiting
            .settle_on_the_spot(Settlement::Answered, note.clone(), 20, &[], OPERATOR, T0)
            .unwrap();
        assert_eq!(settled.state.status, IncidentStatus::Resolved);
        assert_eq!(settled.state.owner_org_id, Some(20));
        assert!(matches!(
            settled.events[0].event,
            IncidentEvent::SettledOnTheSpot {
                how: Settlement::Answered,
                ..
            }
        ));
        let diverted = in_status(IncidentStatus::Diverted, Group::NonPolice);
        assert!(diverted
            .settle_on_the_spot(Settlement::Referred, note.clone(), 20, &[], OPERATOR, T0)
            .is_err());
        let mut urgent = in_status(IncidentStatus::Triaged, Group::Police);
        urgent.triage.as_mut().unwrap().priority = Priority::parse(1).unwrap();
        assert_eq!(
            urgent.settle_on_the_spot(Settlement::Answered, note, 20, &[], OPERATOR, T0),
            Err(IncidentError::UrgentNotSettled)
        );
    }

    fn new_order(id: i64, owner: i64) -> NewWorkOrder {
        NewWorkOrder {
            id,
            originator_org_id: 20,
            owner_org_id: owner,
            supervisor_org_id: Some(30),
            deadlines: DeadlinePolicy::new(60, 1440).unwrap(),
        }
    }

    fn feedback(resolved: bool) -> Feedback {
        Feedback {
            resolved,
            satisfaction: Satisfaction::parse(if resolved { 5 } else { 1 }).unwrap(),
        }
    }

    /// Every action from every status: the allowed ones land where the
    /// diagram says, the others are refused with the status named.
    #[test]
    fn a_unit_sent_arrives_starts_the_handling_and_resolves_on_scene() {
        use crate::unit::Force;
        let police = in_status(IncidentStatus::Dispatched, Group::Police);
        assert_eq!(
            police
                .send_unit(3, "巡3", Force::Street, OPERATOR, T0)
                .unwrap_err(),
            IncidentError::PoliceNeedPolice
        );
        let sent = police
            .send_unit(3, "巡3", Force::Police, OPERATOR, T0)
            .unwrap();
        assert_eq!(sent.state.status, IncidentStatus::Dispatched);
        let arrived = sent.state.unit_arrived(3, OPERATOR, T0).unwrap();
        assert_eq!(arrived.state.status, IncidentStatus::InProgress);
        assert_eq!(arrived.events.len(), 2);
        let note = HandlingNote::parse("result", "双方已劝离，现场恢复秩序").unwrap();
        let done = arrived
            .state
            .resolve_on_scene(3, note.clone(), &[], OPERATOR, T0)
            .unwrap();
        assert_eq!(done.state.status, IncidentStatus::Resolved);
        assert!(
            police.resolve_on_scene(3, note, &[], OPERATOR, T0).is_err(),
            "not on scene yet"
        );
        let waiting = in_status(IncidentStatus::Triaged, Group::Police);
        assert!(
            waiting
                .send_unit(3, "巡3", Force::Police, OPERATOR, T0)
                .is_err(),
            "routed first"
        );
        let diverted = in_status(IncidentStatus::Diverted, Group::NonPolice);
        assert!(diverted
            .send_unit(4, "综治1", Force::Street, OPERATOR, T0)
            .is_ok());
    }

    #[test]
    fn every_transition_is_allowed_or_refused_as_the_diagram_says() {
        use IncidentStatus::*;
        type Action = fn(&Incident) -> IncidentResult;
        type Moves = &'static [(IncidentStatus, IncidentStatus)];
        let actions: [(&str, Group, Action, Moves); 9] = [
            (
                "triage",
                Group::NonPolice,
                |i| {
                    i.triage(
                        triage("noise", "environment", Group::NonPolice),
                        TriagedBy::Rules,
                        OPERATOR,
                        T0,
                    )
                },
                &[
                    (Received, Triaged),
                    (Triaged, Triaged),
                    (Reopened, Reopened),
                ],
            ),
            (
                "dispatch",
                Group::Police,
                |i| i.dispatch(20, OPERATOR, T0),
                &[(Triaged, Dispatched), (Reopened, Dispatched)],
            ),
            (
                "divert",
                Group::NonPolice,
                |i| i.divert(new_order(5, 40), OPERATOR, T0).map(|d| d.incident),
                &[
                    (Triaged, Diverted),
                    (Reopened, Diverted),
                    (Dispatched, Dispatched),
                    (Diverted, Diverted),
                    (InProgress, InProgress),
                ],
            ),
            (
                "start_handling",
                Group::Police,
                |i| i.start_handling(OPERATOR, T0),
                &[(Dispatched, InProgress), (Diverted, InProgress)],
            ),
            (
                "resolve",
                Group::Police,
                |i| i.resolve(&[], OPERATOR, T0),
                &[(InProgress, Resolved)],
            ),
            (
                "positive feedback",
                Group::Police,
                |i| i.record_feedback(feedback(true), &[], OPERATOR, T0),
                &[(Resolved, Closed), (Closed, Closed)],
            ),
            (
                "negative feedback",
                Group::Police,
                |i| i.record_feedback(feedback(false), &[], OPERATOR, T0),
                &[(Resolved, Reopened), (Closed, Reopened)],
            ),
            (
                "close",
                Group::Police,
                |i| i.close(&[], OPERATOR, T0),
                &[(Resolved, Closed)],
            ),
            (
                "cancel_as_duplicate",
                Group::Police,
                |i| i.cancel_as_duplicate(99, OPERATOR, T0),
                &[(Received, Cancelled), (Triaged, Cancelled)],
            ),
        ];
        for (name, group, action, allowed) in actions {
            for from in IncidentStatus::ALL {
                let incident = in_status(from, group);
                let result = action(&incident);
                match allowed.iter().find(|(f, _)| *f == from) {
                    Some((_, to)) => {
                        let t = result.unwrap_or_else(|e| panic!("{name} from {from}: {e}"));
                        assert_eq!(t.state.status, *to, "{name} from {from}");
                        assert!(!t.events.is_empty(), "{name} from {from} left no event");
                    }
                    None => assert_eq!(
                        result.unwrap_err(),
                        IncidentError::NotAllowed {
                            action: match name {
                                "triage" => "triaged",
                                "dispatch" => "dispatched",
                                "divert" => "diverted",
                                "start_handling" => "started",
                                "resolve" => "resolved",
                                "close" => "closed",
                                "cancel_as_duplicate" => "cancelled as a duplicate",
                                _ => "given feedback",
                            },
                            from
                        },
                        "{name} from {from}"
                    ),
                }
            }
        }
    }

    #[test]
    fn routing_follows_the_group() {
        let police = in_status(IncidentStatus::Triaged, Group::Police);
        let non_police = in_status(IncidentStatus::Triaged, Group::NonPolice);
        assert_eq!(
            non_police.dispatch(20, OPERATOR, T0).unwrap_err(),
            IncidentError::WrongGroup {
                action: "dispatched",
                group: Group::NonPolice
            }
        );
        assert_eq!(
            police.divert(new_order(5, 40), OPERATOR, T0).unwrap_err(),
            IncidentError::WrongGroup {
                action: "diverted",
                group: Group::Police
            }
        );
        // Once the command room has it, a department may be added (联动处置).
        let dispatched = police.dispatch(20, OPERATOR, T0).unwrap().state;
        let linked = dispatched.divert(new_order(5, 40), OPERATOR, T0).unwrap();
        assert_eq!(linked.incident.state.status, IncidentStatus::Dispatched);
        assert_eq!(linked.work_order.state.owner_org_id, 40);
    }

    #[test]
    fn the_command_room_holds_an_incident_only_while_it_awaits_routing() {
        let triaged = in_status(IncidentStatus::Triaged, Group::NonPolice);
        let held = triaged.hold(20, Actor::System, T0).unwrap();
        assert_eq!(held.state.owner_org_id, Some(20));
        assert_eq!(held.state.status, IncidentStatus::Triaged);
        assert!(held.events.is_empty());
        // Held, it is still the operator's to override and route.
        let diverted = held.state.divert(new_order(5, 40), OPERATOR, T0).unwrap();
        assert_eq!(diverted.incident.state.status, IncidentStatus::Diverted);
        let dispatched = in_status(IncidentStatus::Dispatched, Group::Police);
        assert!(dispatched.hold(20, Actor::System, T0).is_err());
    }

    #[test]
    fn a_second_triage_is_an_override_that_keeps_both() {
        let triaged = received()
            .triage(
                triage("noise", "environment", Group::NonPolice),
                TriagedBy::Rules,
                Actor::System,
                T0,
            )
            .unwrap();
        assert!(matches!(
            triaged.events[0].event,
            IncidentEvent::Triaged {
                by: TriagedBy::Rules,
                ..
            }
        ));
        let corrected = triage("construction_noise", "city_management", Group::NonPolice);
        let overridden = triaged
            .state
            .triage(corrected.clone(), TriagedBy::Operator, OPERATOR, T0)
            .unwrap();
        assert_eq!(
            overridden.events[0].event,
            IncidentEvent::Overridden {
                from: triage("noise", "environment", Group::NonPolice),
                to: corrected.clone()
            }
        );
        assert_eq!(overridden.state.triage, Some(corrected));
    }

    #[test]
    fn open_work_orders_keep_an_incident_from_resolving_or_closing() {
        let incident = in_status(IncidentStatus::Triaged, Group::NonPolice);
        let diversion = incident.divert(new_order(5, 40), OPERATOR, T0).unwrap();
        let incident = diversion
            .incident
            .state
            .start_handling(OPERATOR, T0)
            .unwrap()
            .state;
        let order = diversion.work_order.state;
        assert_eq!(
            incident
                .resolve(std::slice::from_ref(&order), OPERATOR, T0)
                .unwrap_err(),
            IncidentError::OpenWorkOrders { ids: vec![5] }
        );
        // Returned is still open: the originator has not confirmed it.
        let dept = OrgActor::new(Actor::User(40), 40);
        let returned = order
            .accept(&dept, T0)
            .unwrap()
            .state
            .return_result(
                &dept,
                HandlingNote::parse("result", "已上门劝导").unwrap(),
                T0,
            )
            .unwrap()
            .state;
        assert!(incident
            .resolve(std::slice::from_ref(&returned), OPERATOR, T0)
            .is_err());

        let mut foreign = returned.clone();
        foreign.incident_id = 2;
        assert_eq!(
            incident.resolve(&[foreign], OPERATOR, T0).unwrap_err(),
            IncidentError::ForeignWorkOrder { id: 5 }
        );

        let mut resolved = incident.clone();
        resolved.status = IncidentStatus::Resolved;
        assert_eq!(
            resolved
                .close(std::slice::from_ref(&returned), OPERATOR, T0)
                .unwrap_err(),
            IncidentError::OpenWorkOrders { ids: vec![5] }
        );
        assert!(resolved
            .record_feedback(
                feedback(true),
                std::slice::from_ref(&returned),
                OPERATOR,
                T0
            )
            .is_err());
        let confirmed = returned
            .confirm(&OrgActor::new(OPERATOR, 20), T0)
            .unwrap()
            .state;
        assert!(incident.resolve(&[confirmed], OPERATOR, T0).is_ok());
    }

    #[test]
    fn negative_feedback_reopens_and_the_incident_is_routed_again() {
        let closed = in_status(IncidentStatus::Closed, Group::NonPolice);
        let reopened = closed
            .record_feedback(feedback(false), &[], OPERATOR, T0)
            .unwrap();
        assert_eq!(reopened.state.status, IncidentStatus::Reopened);
        assert_eq!(
            reopened
                .events
                .iter()
                .map(|e| e.event.clone())
                .collect::<Vec<_>>(),
            vec![
                IncidentEvent::FeedbackRecorded {
                    resolved: false,
                    satisfaction: Satisfaction::parse(1).unwrap()
                },
                IncidentEvent::Reopened
            ]
        );
        let again = reopened
            .state
            .divert(new_order(6, 41), OPERATOR, T0)
            .unwrap();
        assert_eq!(again.incident.state.status, IncidentStatus::Diverted);

        let resolved = in_status(IncidentStatus::Resolved, Group::NonPolice);
        let closed = resolved
            .record_feedback(feedback(true), &[], OPERATOR, T0)
            .unwrap();
        assert_eq!(closed.state.status, IncidentStatus::Closed);
        assert_eq!(closed.events.len(), 2);
        assert_eq!(closed.state.last_feedback, Some(feedback(true)));
    }

    #[test]
    fn reroute_needs_a_rejected_order_of_this_incident_and_another_owner() {
        let incident = in_status(IncidentStatus::Triaged, Group::NonPolice);
        let first = incident.divert(new_order(5, 40), OPERATOR, T0).unwrap();
        let incident = first.incident.state;
        let order = first.work_order.state;
        assert_eq!(
            incident
                .reroute(&order, new_order(6, 41), OPERATOR, T0)
                .unwrap_err(),
            IncidentError::NotRejected { id: 5 }
        );
        let rejected = order
            .reject(
                &OrgActor::new(Actor::User(40), 40),
                HandlingNote::parse("reason", "不属于本部门职责").unwrap(),
                T0,
            )
            .unwrap()
            .state;
        assert_eq!(
            incident
                .reroute(&rejected, new_order(6, 40), OPERATOR, T0)
                .unwrap_err(),
            IncidentError::SameOwner { org_id: 40 }
        );
        let mut foreign = rejected.clone();
        foreign.incident_id = 2;
        assert_eq!(
            incident
                .reroute(&foreign, new_order(6, 41), OPERATOR, T0)
                .unwrap_err(),
            IncidentError::ForeignWorkOrder { id: 5 }
        );
        let rerouted = incident
            .reroute(&rejected, new_order(6, 41), OPERATOR, T0)
            .unwrap();
        assert_eq!(rerouted.work_order.state.replaces, Some(5));
        assert!(rerouted.incident.events.iter().any(|e| e.event
            == IncidentEvent::WorkOrderCreated {
                work_order_id: 6,
                owner_org_id: 41,
                replaces: Some(5)
            }));
        let mut cancelled = incident.clone();
        cancelled.status = IncidentStatus::Cancelled;
        assert!(cancelled
            .reroute(&rejected, new_order(6, 41), OPERATOR, T0)
            .is_err());
    }

    #[test]
    fn a_rejected_work_order_sends_the_incident_back_to_its_originator() {
        let incident = in_status(IncidentStatus::Triaged, Group::NonPolice);
        let first = incident.divert(new_order(5, 40), OPERATOR, T0).unwrap();
        let (incident, order) = (first.incident.state, first.work_order.state);
        assert_eq!(
            incident.send_back(&order, OPERATOR, T0).unwrap_err(),
            IncidentError::NotRejected { id: 5 }
        );
        let dept = OrgActor::new(Actor::User(40), 40);
        let rejected = order
            .reject(
                &dept,
                HandlingNote::parse("reason", "非本部门职责").unwrap(),
                T0,
            )
            .unwrap()
            .state;
        let back = incident.send_back(&rejected, Actor::User(40), T0).unwrap();
        assert_eq!(back.state.status, IncidentStatus::Diverted);
        assert_eq!(back.state.owner_org_id, Some(rejected.originator_org_id));
        assert_eq!(
            back.events[0].event,
            IncidentEvent::SentBack {
                work_order_id: 5,
                to_org: rejected.originator_org_id
            }
        );
        assert!(back
            .state
            .reroute(&rejected, new_order(6, 41), OPERATOR, T0)
            .is_ok());
        let mut closed = incident.clone();
        closed.status = IncidentStatus::Closed;
        assert!(closed.send_back(&rejected, OPERATOR, T0).is_err());
    }

    #[test]
    fn duplicates_and_repeat_links() {
        let incident = received();
        assert_eq!(
            incident.cancel_as_duplicate(1, OPERATOR, T0).unwrap_err(),
            IncidentError::DuplicateOfItself
        );
        let finding = RepeatCallFinding {
            linked: vec![3, 4],
            warning: None,
        };
        let linked = incident.link_repeats(&finding, Actor::System, T0).unwrap();
        assert_eq!(linked.state.repeat_of, vec![3, 4]);
        assert_eq!(linked.events.len(), 1);
        let again = linked
            .state
            .link_repeats(&finding, Actor::System, T0)
            .unwrap();
        assert!(again.events.is_empty(), "known links are not repeated");
        let cancelled = in_status(IncidentStatus::Cancelled, Group::Police);
        assert!(cancelled.link_repeats(&finding, Actor::System, T0).is_err());
    }

    #[test]
    fn intake_reports_every_bad_field_at_once() {
        let errors = NewIncident::parse(IncidentInput {
            source: "fax",
            text: "  ",
            location_text: &"路".repeat(201),
            ..Default::default()
        })
        .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["source", "text", "location"]);
        assert_eq!(errors[1].reason, Reason::Required);
        assert_eq!(errors[2].reason, Reason::TooLong { max: 200 });

        let long = "吵".repeat(2001);
        let err = NewIncident::parse(IncidentInput {
            source: "walk_in",
            text: &long,
            location_text: "浆洗街",
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(err[0].reason, Reason::TooLong { max: 2000 });
        assert!(IncidentText::parse(&long[..long.len() - 3]).is_ok());
    }

    #[test]
    fn anonymous_and_machine_sources_keep_no_identity() {
        let input = |source, reporter| IncidentInput {
            source,
            text: "井盖丢了",
            location_text: "浆洗街12号",
            reporter,
            ..Default::default()
        };
        let name = PersonalData::name("reporter", "张三").unwrap();
        let phone = PersonalData::phone("reporter", "13812345678").unwrap();
        let refused = NewIncident::parse(input("qr_report", Some(name.clone()))).unwrap_err();
        assert_eq!(refused[0].field, "reporter");
        assert!(NewIncident::parse(input("qr_report", None)).is_ok());
        assert!(NewIncident::parse(input("qr_report", Some(phone.clone()))).is_ok());
        assert!(NewIncident::parse(input("sensor", Some(phone.clone()))).is_err());
        assert!(NewIncident::parse(input("video_analytics", Some(name.clone()))).is_err());
        assert!(NewIncident::parse(input("call_110", Some(name))).is_ok());
    }

    #[test]
    fn values_parse_on_construction() {
        assert!(Priority::parse(0).is_err());
        assert!(Priority::parse(5).is_err());
        assert_eq!(Priority::parse(1).unwrap().get(), 1);
        assert!(Satisfaction::parse(0).is_err());
        assert!(Satisfaction::parse(6).is_err());
        assert_eq!(
            "call_110".parse::<IncidentSource>().unwrap(),
            IncidentSource::Call110
        );
        for source in IncidentSource::ALL {
            assert_eq!(source.as_str().parse::<IncidentSource>().unwrap(), source);
            assert_eq!(serde_json_string(&source), format!("\"{source}\""));
        }
        assert_eq!("non_police".parse::<Group>().unwrap(), Group::NonPolice);
    }

    fn serde_json_string<T: Serialize>(value: &T) -> String {
        serde_json::to_string(value).unwrap()
    }

    #[test]
    fn events_and_records_serialise_in_snake_case_with_masked_reporters() {
        let incident = received()
            .triage(
                triage("noise", "environment", Group::NonPolice),
                TriagedBy::Operator,
                OPERATOR,
                T0,
            )
            .unwrap();
        let json = serde_json_string(&incident.events[0]);
        assert!(json.contains("\"event\":\"triaged\""), "{json}");
        assert!(json.contains("\"actor\":\"user:7\""), "{json}");
        assert!(json.contains("\"group\":\"non_police\""), "{json}");
        let back: TimelineEvent<IncidentEvent> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, incident.events[0]);

        let record = serde_json_string(&incident.state);
        assert!(record.contains("\"reporter\":\"138****5678\""), "{record}");
        assert!(!record.contains("13812345678"));
        assert!(record.contains("\"status\":\"triaged\""));
        assert!(record.contains("\"source\":\"phone\""));

        for actor in [Actor::System, Actor::Anonymous, Actor::Token(3)] {
            let event = TimelineEvent::new(T0, actor, IncidentEvent::Closed);
            let text = serde_json_string(&event);
            assert_eq!(
                serde_json::from_str::<TimelineEvent<IncidentEvent>>(&text).unwrap(),
                event
            );
        }
    }
}
