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
use crate::clock::Timestamp;
use crate::error::{FieldError, Reason};
use crate::incident::{bounded_text, CategoryCode, TimelineEvent, Transition};

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

impl WorkOrderStatus {
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
