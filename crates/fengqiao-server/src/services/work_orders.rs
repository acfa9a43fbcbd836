//! 流转单: a work order read within the caller's jurisdiction, and its
//! moves — the department accepts, starts, returns it with a result or
//! rejects it with a reason; the originator confirms it. The core's
//! transitions decide; [`transition::apply`] writes the work order with
//! what it did to the incident (handling started, sent back to the command
//! room, resolved), their timeline events and the audit entry in one
//! transaction.

use fengqiao_core::incident::{Group, Incident, IncidentEvent, IncidentStatus};
use fengqiao_core::label::Label;
use fengqiao_core::org::Organisation;
use fengqiao_core::role::Permission;
use fengqiao_core::timeline::Transition;
use fengqiao_core::work_order::{
    HandlingNote, OrgActor, WorkOrder, WorkOrderError, WorkOrderEvent,
};
use fengqiao_core::Timestamp;
use fengqiao_store::{InboxEntry, StoredIncident, Tx};

use super::access::Caller;
use super::incidents::{self, awaiting_reroute, event_name, incident_refused, paths};
use super::transition::{self, Record};
use super::{Error, Result};
use crate::live::{LiveEvent, LiveKind};
use crate::state::AppState;

async fn org(state: &AppState, id: i64) -> Result<Organisation> {
    state
        .store
        .organisation(id)
        .await?
        .ok_or_else(|| Error::Internal(format!("organisation {id} vanished")))
}

/// The work order with its incident's words, when the caller sees its
/// owner or its originator; else 404 as if it did not exist.
pub async fn visible(state: &AppState, caller: &Caller, id: i64) -> Result<InboxEntry> {
    let order = state.store.work_order(id).await?.ok_or(Error::NotFound)?;
    let owner = org(state, order.owner_org_id).await?;
    let originator = org(state, order.originator_org_id).await?;
    if !caller.sees(&owner.path) && !caller.sees(&originator.path) {
        return Err(Error::NotFound);
    }
    let record = state
        .store
        .incident(order.incident_id)
        .await?
        .ok_or_else(|| Error::Internal("incident of a work order vanished".into()))?;
    Ok(entry(order, &record.incident))
}

fn entry(order: WorkOrder, incident: &StoredIncident) -> InboxEntry {
    InboxEntry {
        order,
        receipt_number: incident.receipt_number.to_string(),
        incident_text: incident.text.clone(),
        location_text: incident.location_text.clone(),
    }
}

/// What may be done to a work order.
pub enum Action {
    Accept,
    Start,
    Return(HandlingNote),
    Reject(HandlingNote),
    Confirm,
}

impl Action {
    /// The timeline's name of what the action does.
    fn change(&self) -> &'static str {
        match self {
            Action::Accept => "accepted",
            Action::Start => "started",
            Action::Return(_) => "returned",
            Action::Reject(_) => "rejected",
            Action::Confirm => "confirmed",
        }
    }
}

/// A refused work-order transition as a 409 that names the state.
fn refused(err: WorkOrderError) -> Error {
    let zh = match &err {
        WorkOrderError::NotAllowed { action, from } => {
            let action = match *action {
                "accepted" => "签收",
                "started" => "开始处置",
                "returned" => "反馈结果",
                "confirmed" => "确认办结",
                "rejected" => "退回",
                other => other,
            };
            format!("该流转单当前状态为「{}」，不能{action}。", from.zh())
        }
        WorkOrderError::NotOwner { .. } => "只有承办单位可以执行此操作。".into(),
        WorkOrderError::NotOriginator { .. } => "只有交办单位可以确认办结。".into(),
    };
    Error::Conflict {
        zh,
        en: format!("{err}."),
    }
}

/// What a work order's move made: the work order with its events, what it
/// did to its incident (if anything), and the incident as locked.
pub struct WorkOrderMove {
    pub moved: Transition<WorkOrder, WorkOrderEvent>,
    pub incident: StoredIncident,
    pub follow: Option<Transition<Incident, IncidentEvent>>,
    change: &'static str,
}

/// A work order moves within its incident: the incident is what is locked,
/// and the move may carry it along. Its owner, its originator and the
/// station see the work order's change; the incident's change is published
/// as every incident change is ([`incidents::publish`]).
impl Record for WorkOrder {
    const AUDITED_AS: &'static str = "work_order";
    /// The incident, with its work orders.
    type Locked = (StoredIncident, Vec<WorkOrder>);
    type Moved = WorkOrderMove;
    type Written = ();

    async fn lock(tx: &mut Tx, incident_id: i64) -> Result<Self::Locked> {
        <Incident as Record>::lock(tx, incident_id).await
    }

    fn audited(moved: &WorkOrderMove) -> (i64, String) {
        let detail = format!(
            "{}; incident {}",
            moved.change, moved.incident.receipt_number
        );
        (moved.moved.state.id, detail)
    }

    async fn write(tx: &mut Tx, _: &Caller, moved: &WorkOrderMove, now: Timestamp) -> Result<()> {
        let order = &moved.moved.state;
        tx.update_work_order(order, now).await?;
        tx.append_timeline(order.incident_id, Some(order.id), &moved.moved.events)
            .await?;
        if let Some(follow) = &moved.follow {
            tx.update_incident(&follow.state, now).await?;
            tx.append_timeline(order.incident_id, None, &follow.events)
                .await?;
        }
        Ok(())
    }

    async fn publish(state: &AppState, moved: &WorkOrderMove, (): ()) {
        let order = &moved.moved.state;
        let station = moved.incident.station_org_id;
        publish(state, order, station, moved.change).await;
        let Some(follow) = &moved.follow else {
            return;
        };
        let Some(change) = follow.events.last().map(|e| event_name(&e.event)) else {
            return;
        };
        let orgs = [order.owner_org_id, order.originator_org_id]
            .into_iter()
            .chain(moved.incident.owner_org_id)
            .chain(follow.state.owner_org_id);
        incidents::publish(state, order.incident_id, station, &change, orgs).await;
    }
}

/// After the commit: the work order's owner, its originator and the
/// incident's station see its change.
pub async fn publish(state: &AppState, order: &WorkOrder, station_org_id: i64, change: &str) {
    let ids = [order.owner_org_id, order.originator_org_id, station_org_id];
    let Some(orgs) = paths(state, &ids).await else {
        tracing::warn!(
            work_order = order.id,
            change,
            "work order change not published"
        );
        return;
    };
    state.live.publish(LiveEvent {
        kind: LiveKind::WorkOrder,
        id: order.id,
        incident_id: Some(order.incident_id),
        change: change.into(),
        orgs,
    });
}

/// One action on work order `id`. The department handles; the originator
/// confirms. Each acts for its side's organisation when that organisation
/// is within its jurisdiction.
pub async fn act(state: &AppState, caller: &Caller, id: i64, action: Action) -> Result<InboxEntry> {
    let confirming = matches!(action, Action::Confirm);
    caller.require(if confirming {
        Permission::DispatchIncidents
    } else {
        Permission::HandleWorkOrders
    })?;
    let order = state.store.work_order(id).await?.ok_or(Error::NotFound)?;
    let side = org(
        state,
        if confirming {
            order.originator_org_id
        } else {
            order.owner_org_id
        },
    )
    .await?;
    if !caller.sees(&side.path) {
        return Err(Error::NotFound);
    }
    let by = OrgActor::new(caller.actor.clone(), side.id);
    let actor = caller.actor.clone();
    let decide = async |_: &mut Tx, (stored, mut orders): (StoredIncident, Vec<WorkOrder>), now| {
        let index = orders
            .iter()
            .position(|o| o.id == id)
            .ok_or(Error::NotFound)?;
        let current = &orders[index];
        let moved = match &action {
            Action::Accept => current.accept(&by, now),
            Action::Start => current.start(&by, now),
            Action::Return(result) => current.return_result(&by, result.clone(), now),
            Action::Reject(reason) => current.reject(&by, reason.clone(), now),
            Action::Confirm => current.confirm(&by, now),
        }
        .map_err(refused)?;
        orders[index] = moved.state.clone();

        // What the work order's move does to its incident.
        let incident = stored.to_core()?;
        let non_police = incident.triage.as_ref().map(|t| t.group) == Some(Group::NonPolice);
        let follow = match action {
            Action::Accept if incident.status == IncidentStatus::Diverted => {
                Some(incident.start_handling(actor.clone(), now))
            }
            Action::Reject(_) => Some(incident.send_back(&moved.state, actor.clone(), now)),
            Action::Confirm
                if non_police
                    && incident.status == IncidentStatus::InProgress
                    && !orders.iter().any(|o| o.status.is_open())
                    && awaiting_reroute(&orders).is_empty() =>
            {
                Some(incident.resolve(&orders, actor.clone(), now))
            }
            _ => None,
        };
        Ok(WorkOrderMove {
            follow: follow.transpose().map_err(incident_refused)?,
            change: action.change(),
            moved,
            incident: stored,
        })
    };
    let moved = transition::apply::<WorkOrder>(state, caller, order.incident_id, decide).await?;
    Ok(entry(moved.moved.state, &moved.incident))
}
