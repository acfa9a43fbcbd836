//! 流转单: the closed loop (闭环处置) of a non-police incident handed to a
//! department, with its deadlines and their escalation (超时督办).
//!
//! ```text
//! created ──accept──▶ accepted ──start──▶ in_progress ──return_result──▶ returned ──confirm──▶ confirmed
//!    │                   │  └──────────return_result───────────────────────▲    (originator)
//!    └──reject──▶ rejected ◀──reject──┘
//!                    └─ the incident re-routes: a new work order for another organisation
//! ```
//!
//! The owning department accepts, starts, returns and rejects; the
//! originator confirms. Deadlines to accept and to finish are fixed at
//! creation and stored with the work order, so a restart loses none of them.

use serde::{Deserialize, Serialize};

use crate::audit::Actor;
use crate::category::CategoryCode;
use crate::clock::Timestamp;
use crate::error::{FieldError, Reason};
use crate::label::labels;
use crate::text::bounded_text;
use crate::timeline::{TimelineEvent, Transition};

/// Minutes a department has, per category, counted from the creation of the
/// work order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlinePolicy {
    accept_minutes: u32,
    finish_minutes: u32,
}

impl DeadlinePolicy {
    /// Both positive, and finishing cannot be due before accepting.
    pub fn new(accept_minutes: u32, finish_minutes: u32) -> Result<Self, FieldError> {
        if accept_minutes == 0 {
            return Err(FieldError::new(
                "accept_minutes",
                Reason::InvalidFormat {
                    expected: "minutes > 0",
                },
            ));
        }
        if finish_minutes < accept_minutes {
            return Err(FieldError::new(
                "finish_minutes",
                Reason::Conflict {
                    detail: "finish_before_accept",
                },
            ));
        }
        Ok(DeadlinePolicy {
            accept_minutes,
            finish_minutes,
        })
    }

    pub fn accept_minutes(self) -> u32 {
        self.accept_minutes
    }

    pub fn finish_minutes(self) -> u32 {
        self.finish_minutes
    }
}

/// Which of a work order's two deadlines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Deadline {
    /// 签收时限
    Accept,
    /// 办结时限
    Finish,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkOrderStatus {
    Created,
    Accepted,
    InProgress,
    Returned,
    Confirmed,
    Rejected,
}

labels!(WorkOrderStatus {
    Created => ("待签收", "To accept"),
    Accepted => ("已签收", "Accepted"),
    InProgress => ("办理中", "In progress"),
    Returned => ("已反馈", "Result returned"),
    Confirmed => ("已办结", "Confirmed"),
    Rejected => ("已退回", "Rejected"),
});

impl WorkOrderStatus {
    pub const ALL: [WorkOrderStatus; 6] = [
        WorkOrderStatus::Created,
        WorkOrderStatus::Accepted,
        WorkOrderStatus::InProgress,
        WorkOrderStatus::Returned,
        WorkOrderStatus::Confirmed,
        WorkOrderStatus::Rejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WorkOrderStatus::Created => "created",
            WorkOrderStatus::Accepted => "accepted",
            WorkOrderStatus::InProgress => "in_progress",
            WorkOrderStatus::Returned => "returned",
            WorkOrderStatus::Confirmed => "confirmed",
            WorkOrderStatus::Rejected => "rejected",
        }
    }

    /// Not yet finished with: confirmed and rejected are the two ends. A
    /// returned work order is open until its originator confirms it.
    pub fn is_open(self) -> bool {
        !matches!(self, WorkOrderStatus::Confirmed | WorkOrderStatus::Rejected)
    }

    /// Still in the department's hands, so its finish deadline runs.
    fn with_owner(self) -> bool {
        matches!(
            self,
            WorkOrderStatus::Created | WorkOrderStatus::Accepted | WorkOrderStatus::InProgress
        )
    }
}

impl std::fmt::Display for WorkOrderStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text a department returns with, or the reason it rejects: 1 to 1000
/// characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct HandlingNote(String);

impl HandlingNote {
    pub const MAX_CHARS: usize = 1000;

    pub fn parse(field: &str, text: &str) -> Result<Self, FieldError> {
        bounded_text(field, text, Self::MAX_CHARS).map(HandlingNote)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for HandlingNote {
    type Error = FieldError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        HandlingNote::parse("note", &value)
    }
}

impl From<HandlingNote> for String {
    fn from(n: HandlingNote) -> Self {
        n.0
    }
}

/// Someone acting for an organisation: who is recorded in the timeline, the
/// organisation decides what they may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgActor {
    pub actor: Actor,
    pub org_id: i64,
}

impl OrgActor {
    pub fn new(actor: Actor, org_id: i64) -> Self {
        OrgActor { actor, org_id }
    }
}

/// A work order to create, as routing decided it. The id comes from the
/// store; the supervising organisation is the one told when a deadline
/// passes (one level above the owner).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWorkOrder {
    pub id: i64,
    pub originator_org_id: i64,
    pub owner_org_id: i64,
    pub supervisor_org_id: Option<i64>,
    pub deadlines: DeadlinePolicy,
}

/// What happened to a work order; each is stored with its actor and time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum WorkOrderEvent {
    Created {
        incident_id: i64,
        originator_org_id: i64,
        owner_org_id: i64,
        accept_by: Timestamp,
        finish_by: Timestamp,
        replaces: Option<i64>,
    },
    Accepted {
        org_id: i64,
    },
    Started {
        org_id: i64,
    },
    Returned {
        org_id: i64,
        result: HandlingNote,
    },
    Confirmed {
        org_id: i64,
    },
    Rejected {
        org_id: i64,
        reason: HandlingNote,
    },
    /// 督办: a deadline passed; the supervising organisation is told.
    Escalated {
        deadline: Deadline,
        due_at: Timestamp,
        to_org: Option<i64>,
    },
}

/// Why a work order transition was refused. Nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkOrderError {
    #[error("a work order that is {from} cannot be {action}")]
    NotAllowed {
        action: &'static str,
        from: WorkOrderStatus,
    },
    #[error("only the owning organisation may do this; organisation {org_id} is not it")]
    NotOwner { org_id: i64 },
    #[error("only the originating organisation may do this; organisation {org_id} is not it")]
    NotOriginator { org_id: i64 },
}

/// 流转单: a non-police incident handed to a department, followed until
/// closed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkOrder {
    pub id: i64,
    pub incident_id: i64,
    pub category: CategoryCode,
    /// Who handed it over and confirms the result: usually the command room.
    pub originator_org_id: i64,
    /// The department that must handle it.
    pub owner_org_id: i64,
    pub supervisor_org_id: Option<i64>,
    pub status: WorkOrderStatus,
    pub created_at: Timestamp,
    pub accept_by: Timestamp,
    pub finish_by: Timestamp,
    pub accepted_at: Option<Timestamp>,
    pub returned_at: Option<Timestamp>,
    pub result: Option<HandlingNote>,
    pub rejection: Option<HandlingNote>,
    /// The rejected work order this one re-routes.
    pub replaces: Option<i64>,
    /// Set once the accept deadline was escalated, so it never is twice.
    pub escalated_accept: bool,
    pub escalated_finish: bool,
}

type WorkOrderResult = Result<Transition<WorkOrder, WorkOrderEvent>, WorkOrderError>;

impl WorkOrder {
    /// Called by `Incident::divert` and `Incident::reroute`, which hold the
    /// rules on when an incident may create one.
    pub(crate) fn create(
        incident_id: i64,
        category: CategoryCode,
        new: NewWorkOrder,
        replaces: Option<i64>,
        actor: Actor,
        at: Timestamp,
    ) -> Transition<WorkOrder, WorkOrderEvent> {
        let accept_by = at.plus_minutes(i64::from(new.deadlines.accept_minutes));
        let finish_by = at.plus_minutes(i64::from(new.deadlines.finish_minutes));
        let order = WorkOrder {
            id: new.id,
            incident_id,
            category,
            originator_org_id: new.originator_org_id,
            owner_org_id: new.owner_org_id,
            supervisor_org_id: new.supervisor_org_id,
            status: WorkOrderStatus::Created,
            created_at: at,
            accept_by,
            finish_by,
            accepted_at: None,
            returned_at: None,
            result: None,
            rejection: None,
            replaces,
            escalated_accept: false,
            escalated_finish: false,
        };
        let event = WorkOrderEvent::Created {
            incident_id,
            originator_org_id: order.originator_org_id,
            owner_org_id: order.owner_org_id,
            accept_by,
            finish_by,
            replaces,
        };
        Transition {
            state: order,
            events: vec![TimelineEvent::new(at, actor, event)],
        }
    }

    fn check_owner(&self, by: &OrgActor) -> Result<(), WorkOrderError> {
        if by.org_id == self.owner_org_id {
            Ok(())
        } else {
            Err(WorkOrderError::NotOwner { org_id: by.org_id })
        }
    }

    fn check_status(
        &self,
        action: &'static str,
        allowed: &[WorkOrderStatus],
    ) -> Result<(), WorkOrderError> {
        if allowed.contains(&self.status) {
            Ok(())
        } else {
            Err(WorkOrderError::NotAllowed {
                action,
                from: self.status,
            })
        }
    }

    fn moved(
        &self,
        change: impl FnOnce(&mut WorkOrder),
        event: WorkOrderEvent,
        actor: Actor,
        at: Timestamp,
    ) -> Transition<WorkOrder, WorkOrderEvent> {
        let mut state = self.clone();
        change(&mut state);
        Transition {
            state,
            events: vec![TimelineEvent::new(at, actor, event)],
        }
    }

    /// 签收: the owning department takes it.
    pub fn accept(&self, by: &OrgActor, at: Timestamp) -> WorkOrderResult {
        self.check_owner(by)?;
        self.check_status("accepted", &[WorkOrderStatus::Created])?;
        Ok(self.moved(
            |s| {
                s.status = WorkOrderStatus::Accepted;
                s.accepted_at = Some(at);
            },
            WorkOrderEvent::Accepted { org_id: by.org_id },
            by.actor.clone(),
            at,
        ))
    }

    /// 处置中: the department is at work on it.
    pub fn start(&self, by: &OrgActor, at: Timestamp) -> WorkOrderResult {
        self.check_owner(by)?;
        self.check_status("started", &[WorkOrderStatus::Accepted])?;
        Ok(self.moved(
            |s| s.status = WorkOrderStatus::InProgress,
            WorkOrderEvent::Started { org_id: by.org_id },
            by.actor.clone(),
            at,
        ))
    }

    /// 反馈/办结: the department returns it with what it did. Allowed
    /// straight from accepted too: much is settled on the first visit.
    pub fn return_result(
        &self,
        by: &OrgActor,
        result: HandlingNote,
        at: Timestamp,
    ) -> WorkOrderResult {
        self.check_owner(by)?;
        self.check_status(
            "returned",
            &[WorkOrderStatus::Accepted, WorkOrderStatus::InProgress],
        )?;
        let event = WorkOrderEvent::Returned {
            org_id: by.org_id,
            result: result.clone(),
        };
        Ok(self.moved(
            |s| {
                s.status = WorkOrderStatus::Returned;
                s.returned_at = Some(at);
                s.result = Some(result);
            },
            event,
            by.actor.clone(),
            at,
        ))
    }

    /// 确认办结: the originator closes the loop.
    pub fn confirm(&self, by: &OrgActor, at: Timestamp) -> WorkOrderResult {
        if by.org_id != self.originator_org_id {
            return Err(WorkOrderError::NotOriginator { org_id: by.org_id });
        }
        self.check_status("confirmed", &[WorkOrderStatus::Returned])?;
        Ok(self.moved(
            |s| s.status = WorkOrderStatus::Confirmed,
            WorkOrderEvent::Confirmed { org_id: by.org_id },
            by.actor.clone(),
            at,
        ))
    }

    /// 退回: not ours. Only before work has started; afterwards the
    /// department returns a result instead.
    pub fn reject(&self, by: &OrgActor, reason: HandlingNote, at: Timestamp) -> WorkOrderResult {
        self.check_owner(by)?;
        self.check_status(
            "rejected",
            &[WorkOrderStatus::Created, WorkOrderStatus::Accepted],
        )?;
        let event = WorkOrderEvent::Rejected {
            org_id: by.org_id,
            reason: reason.clone(),
        };
        Ok(self.moved(
            |s| {
                s.status = WorkOrderStatus::Rejected;
                s.rejection = Some(reason);
            },
            event,
            by.actor.clone(),
            at,
        ))
    }

    /// The deadlines that have passed at `now` for the current state: accept
    /// while nobody has accepted, finish while the department still holds it.
    /// A deadline is met at its last millisecond, passed after it.
    pub fn overdue(&self, now: Timestamp) -> Vec<Deadline> {
        let mut passed = Vec::new();
        if self.status == WorkOrderStatus::Created && now > self.accept_by {
            passed.push(Deadline::Accept);
        }
        if self.status.with_owner() && now > self.finish_by {
            passed.push(Deadline::Finish);
        }
        passed
    }

    fn due_at(&self, deadline: Deadline) -> Timestamp {
        match deadline {
            Deadline::Accept => self.accept_by,
            Deadline::Finish => self.finish_by,
        }
    }

    fn escalated(&self, deadline: Deadline) -> bool {
        match deadline {
            Deadline::Accept => self.escalated_accept,
            Deadline::Finish => self.escalated_finish,
        }
    }

    /// The overdue deadlines not yet escalated.
    pub fn escalations_due(&self, now: Timestamp) -> Vec<Escalation> {
        self.overdue(now)
            .into_iter()
            .filter(|&d| !self.escalated(d))
            .map(|deadline| Escalation {
                work_order_id: self.id,
                incident_id: self.incident_id,
                deadline,
                due_at: self.due_at(deadline),
                to_org: self.supervisor_org_id,
            })
            .collect()
    }

    /// 督办: marks each overdue deadline escalated and returns one event for
    /// each, the first time only. With nothing due it returns the work order
    /// unchanged and no events, so a job that runs again after a restart, or
    /// long after both deadlines fell due, escalates each deadline once.
    pub fn escalate(&self, now: Timestamp) -> Transition<WorkOrder, WorkOrderEvent> {
        let mut state = self.clone();
        let mut events = Vec::new();
        for escalation in self.escalations_due(now) {
            match escalation.deadline {
                Deadline::Accept => state.escalated_accept = true,
                Deadline::Finish => state.escalated_finish = true,
            }
            events.push(TimelineEvent::new(
                now,
                Actor::System,
                WorkOrderEvent::Escalated {
                    deadline: escalation.deadline,
                    due_at: escalation.due_at,
                    to_org: escalation.to_org,
                },
            ));
        }
        Transition { state, events }
    }

    /// When the deadline scanner next has something to do for this work
    /// order, if ever: lets a scheduler sleep until then instead of polling.
    pub fn next_deadline(&self) -> Option<Timestamp> {
        let accept = (self.status == WorkOrderStatus::Created && !self.escalated_accept)
            .then_some(self.accept_by);
        let finish = (self.status.with_owner() && !self.escalated_finish).then_some(self.finish_by);
        accept.into_iter().chain(finish).min()
    }
}

/// One escalation that is due: which work order, which deadline, whom to tell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Escalation {
    pub work_order_id: i64,
    pub incident_id: i64,
    pub deadline: Deadline,
    pub due_at: Timestamp,
    pub to_org: Option<i64>,
}

/// The deadline scan: every escalation due at `now` across `orders`, oldest
/// deadline first (ties by work order and deadline), so the result depends
/// only on the input. Applying `WorkOrder::escalate` to each listed work
/// order and storing it makes the next scan yield nothing for them.
pub fn scan_deadlines<'a>(
    orders: impl IntoIterator<Item = &'a WorkOrder>,
    now: Timestamp,
) -> Vec<Escalation> {
    let mut due: Vec<Escalation> = orders
        .into_iter()
        .flat_map(|o| o.escalations_due(now))
        .collect();
    due.sort_by_key(|e| (e.due_at, e.work_order_id, e.deadline));
    due
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Timestamp = Timestamp(1_764_000_000_000);
    const ORIGINATOR: i64 = 20;
    const OWNER: i64 = 40;

    fn owner() -> OrgActor {
        OrgActor::new(Actor::User(4), OWNER)
    }

    fn originator() -> OrgActor {
        OrgActor::new(Actor::User(2), ORIGINATOR)
    }

    fn stranger() -> OrgActor {
        OrgActor::new(Actor::User(9), 99)
    }

    fn note(text: &str) -> HandlingNote {
        HandlingNote::parse("note", text).unwrap()
    }

    fn created() -> WorkOrder {
        WorkOrder::create(
            1,
            CategoryCode::parse("category", "wage_arrears").unwrap(),
            NewWorkOrder {
                id: 5,
                originator_org_id: ORIGINATOR,
                owner_org_id: OWNER,
                supervisor_org_id: Some(30),
                deadlines: DeadlinePolicy::new(60, 7200).unwrap(),
            },
            None,
            Actor::User(2),
            T0,
        )
        .state
    }

    fn in_status(status: WorkOrderStatus) -> WorkOrder {
        WorkOrder {
            status,
            ..created()
        }
    }

    const ALL: [WorkOrderStatus; 6] = [
        WorkOrderStatus::Created,
        WorkOrderStatus::Accepted,
        WorkOrderStatus::InProgress,
        WorkOrderStatus::Returned,
        WorkOrderStatus::Confirmed,
        WorkOrderStatus::Rejected,
    ];

    #[test]
    fn every_transition_is_allowed_or_refused_as_the_diagram_says() {
        use WorkOrderStatus::*;
        type Action = fn(&WorkOrder, &OrgActor) -> WorkOrderResult;
        type Moves = &'static [(WorkOrderStatus, WorkOrderStatus)];
        type Row = (&'static str, &'static str, fn() -> OrgActor, Action, Moves);
        let actions: [Row; 5] = [
            (
                "accept",
                "accepted",
                owner,
                |w, by| w.accept(by, T0),
                &[(Created, Accepted)],
            ),
            (
                "start",
                "started",
                owner,
                |w, by| w.start(by, T0),
                &[(Accepted, InProgress)],
            ),
            (
                "return_result",
                "returned",
                owner,
                |w, by| w.return_result(by, note("已协调企业补发工资"), T0),
                &[(Accepted, Returned), (InProgress, Returned)],
            ),
            (
                "confirm",
                "confirmed",
                originator,
                |w, by| w.confirm(by, T0),
                &[(Returned, Confirmed)],
            ),
            (
                "reject",
                "rejected",
                owner,
                |w, by| w.reject(by, note("不属于本部门职责"), T0),
                &[(Created, Rejected), (Accepted, Rejected)],
            ),
        ];
        for (name, past, who, action, allowed) in actions {
            for from in ALL {
                let order = in_status(from);
                match allowed.iter().find(|(f, _)| *f == from) {
                    Some((_, to)) => {
                        let t = action(&order, &who()).unwrap();
                        assert_eq!(t.state.status, *to, "{name} from {from}");
                        assert_eq!(t.events.len(), 1);
                        assert_eq!(t.events[0].actor, who().actor);
                        // Anyone else is refused, whatever the status.
                        assert!(matches!(
                            action(&order, &stranger()).unwrap_err(),
                            WorkOrderError::NotOwner { org_id: 99 }
                                | WorkOrderError::NotOriginator { org_id: 99 }
                        ));
                    }
                    None => assert_eq!(
                        action(&order, &who()).unwrap_err(),
                        WorkOrderError::NotAllowed { action: past, from },
                        "{name} from {from}"
                    ),
                }
            }
        }
    }

    #[test]
    fn the_owner_handles_and_the_originator_confirms() {
        let returned = created()
            .accept(&owner(), T0)
            .unwrap()
            .state
            .return_result(&owner(), note("已处理"), T0)
            .unwrap()
            .state;
        assert_eq!(
            returned.confirm(&owner(), T0).unwrap_err(),
            WorkOrderError::NotOriginator { org_id: OWNER }
        );
        assert_eq!(
            created().accept(&originator(), T0).unwrap_err(),
            WorkOrderError::NotOwner { org_id: ORIGINATOR }
        );
        assert_eq!(
            created().reject(&originator(), note("x"), T0).unwrap_err(),
            WorkOrderError::NotOwner { org_id: ORIGINATOR }
        );
        assert_eq!(returned.result, Some(note("已处理")));
    }

    #[test]
    fn deadlines_are_counted_from_creation_and_checked() {
        let order = created();
        assert_eq!(order.accept_by, T0.plus_minutes(60));
        assert_eq!(order.finish_by, T0.plus_minutes(7200));
        assert!(DeadlinePolicy::new(0, 10).is_err());
        assert_eq!(
            DeadlinePolicy::new(60, 30).unwrap_err().field,
            "finish_minutes"
        );
        assert!(DeadlinePolicy::new(30, 30).is_ok());
        assert!(HandlingNote::parse("reason", " ").is_err());
        assert!(HandlingNote::parse("reason", &"字".repeat(1001)).is_err());
    }

    #[test]
    fn overdue_names_the_deadline_that_passed_for_the_current_state() {
        let order = created();
        assert!(
            order.overdue(order.accept_by).is_empty(),
            "met at its last millisecond"
        );
        assert_eq!(
            order.overdue(Timestamp(order.accept_by.0 + 1)),
            [Deadline::Accept]
        );
        let late = Timestamp(order.finish_by.0 + 1);
        assert_eq!(order.overdue(late), [Deadline::Accept, Deadline::Finish]);
        let accepted = order.accept(&owner(), T0).unwrap().state;
        assert_eq!(accepted.overdue(late), [Deadline::Finish]);
        let started = accepted.start(&owner(), T0).unwrap().state;
        assert_eq!(started.overdue(late), [Deadline::Finish]);
        let returned = started
            .return_result(&owner(), note("好了"), T0)
            .unwrap()
            .state;
        assert!(
            returned.overdue(late).is_empty(),
            "no longer in the department's hands"
        );
        let rejected = created()
            .reject(&owner(), note("非本部门"), T0)
            .unwrap()
            .state;
        assert!(rejected.overdue(late).is_empty());
    }

    #[test]
    fn each_deadline_escalates_once() {
        let order = created();
        let nothing = order.escalate(order.accept_by);
        assert!(nothing.events.is_empty());
        assert_eq!(nothing.state, order);

        let after_accept = order.accept_by.plus_minutes(1);
        let first = order.escalate(after_accept);
        assert_eq!(
            first.events,
            vec![TimelineEvent::new(
                after_accept,
                Actor::System,
                WorkOrderEvent::Escalated {
                    deadline: Deadline::Accept,
                    due_at: order.accept_by,
                    to_org: Some(30)
                }
            )]
        );
        assert!(first.state.escalated_accept && !first.state.escalated_finish);
        assert!(first
            .state
            .escalate(after_accept.plus_minutes(5))
            .events
            .is_empty());
        assert_eq!(first.state.next_deadline(), Some(order.finish_by));

        // Accepted late, then the finish deadline passes too.
        let accepted = first.state.accept(&owner(), after_accept).unwrap().state;
        let after_finish = order.finish_by.plus_minutes(1);
        let second = accepted.escalate(after_finish);
        assert_eq!(second.events.len(), 1);
        assert!(matches!(
            second.events[0].event,
            WorkOrderEvent::Escalated {
                deadline: Deadline::Finish,
                ..
            }
        ));
        assert!(second
            .state
            .escalate(after_finish.plus_minutes(600))
            .events
            .is_empty());
        assert_eq!(second.state.next_deadline(), None);
    }

    #[test]
    fn the_scan_is_ordered_and_deterministic() {
        let a = created();
        let b = WorkOrder {
            id: 6,
            accept_by: T0.plus_minutes(10),
            ..created()
        };
        let c = WorkOrder {
            id: 7,
            status: WorkOrderStatus::Confirmed,
            ..created()
        };
        let now = T0.plus_minutes(61);
        let due = scan_deadlines([&a, &b, &c], now);
        assert_eq!(
            due.iter()
                .map(|e| (e.work_order_id, e.deadline))
                .collect::<Vec<_>>(),
            [(6, Deadline::Accept), (5, Deadline::Accept)]
        );
        assert_eq!(due, scan_deadlines([&c, &b, &a], now));
        assert!(scan_deadlines([&a], T0).is_empty());
        assert_eq!(created().next_deadline(), Some(T0.plus_minutes(60)));
    }

    #[test]
    fn events_serialise_in_snake_case() {
        let event = TimelineEvent::new(
            T0,
            Actor::System,
            WorkOrderEvent::Escalated {
                deadline: Deadline::Finish,
                due_at: T0,
                to_org: Some(30),
            },
        );
        let json = serde_json::to_string(&event).unwrap();
        assert!(json.contains("\"event\":\"escalated\""), "{json}");
        assert!(json.contains("\"deadline\":\"finish\""), "{json}");
        assert!(json.contains("\"actor\":\"system\""), "{json}");
        assert_eq!(
            serde_json::from_str::<TimelineEvent<WorkOrderEvent>>(&json).unwrap(),
            event
        );
        let record = serde_json::to_string(&in_status(WorkOrderStatus::InProgress)).unwrap();
        assert!(record.contains("\"status\":\"in_progress\""), "{record}");
    }
}
