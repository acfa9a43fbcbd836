//! Reading incidents: within a caller's jurisdiction, and what a reporter
//! may know of their own; and the command room's moves of an incident, each
//! through [`transition::apply`]: override the category (改分类), dispatch a
//! held police incident (派警), route or re-route it to one or several
//! departments (分流, 联动), record the caller's feedback (回访), settle a
//! question at the desk (当场答复, 告知转办).

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use fengqiao_core::category::Category;
use fengqiao_core::error::{FieldError, Reason};
use fengqiao_core::incident::{
    Feedback, Group, Incident, IncidentError, IncidentEvent, IncidentStatus, Priority,
    Satisfaction, Settlement, Triage as CoreTriage, TriagedBy,
};
use fengqiao_core::label::Label;
use fengqiao_core::org::{DivisionCode, OrgPath, Organisation};
use fengqiao_core::role::Permission;
use fengqiao_core::timeline::Transition;
use fengqiao_core::work_order::{HandlingNote, NewWorkOrder, WorkOrder, WorkOrderStatus};
use fengqiao_core::Timestamp;
use fengqiao_store::{IncidentRecord, StoredIncident, Tx};
use serde::Serialize;
use serde_json::Value;

use super::access::Caller;
use super::routing::{self, may_handle, triage};
use super::transition::{self, Record};
use super::{work_orders, Error, Result};
use crate::live::{LiveEvent, LiveKind};
use crate::state::AppState;

/// The names of the organisations an incident mentions, so a reader sees
/// who holds it without a lookup per id (departments usually lie outside the
/// reader's own subtree).
pub async fn org_names(state: &AppState, record: &IncidentRecord) -> Result<BTreeMap<i64, String>> {
    let incident = &record.incident;
    let mut ids: Vec<i64> = [incident.station_org_id]
        .into_iter()
        .chain(incident.owner_org_id)
        .chain(record.work_orders.iter().flat_map(|w| {
            [w.originator_org_id, w.owner_org_id]
                .into_iter()
                .chain(w.supervisor_org_id)
        }))
        .collect();
    // Timeline events name organisations in these fields.
    for entry in &record.timeline {
        for field in ["to_org", "owner_org_id", "org_id"] {
            ids.extend(entry.event.get(field).and_then(Value::as_i64));
        }
    }
    ids.sort_unstable();
    ids.dedup();
    let mut names = BTreeMap::new();
    for id in ids {
        if let Some(org) = state.store.organisation(id).await? {
            names.insert(id, org.name);
        }
    }
    Ok(names)
}

/// An incident the caller may see — received by, owned by or sent to an
/// organisation in the caller's subtree — or 404 as if it did not exist.
pub async fn visible_incident(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> Result<IncidentRecord> {
    let record = state.store.incident(id).await?.ok_or(Error::NotFound)?;
    let incident = &record.incident;
    let orgs = [incident.station_org_id]
        .into_iter()
        .chain(incident.owner_org_id)
        .chain(record.work_orders.iter().map(|w| w.owner_org_id));
    for org_id in orgs {
        if let Some(org) = state.store.organisation(org_id).await? {
            if caller.sees(&org.path) {
                return Ok(record);
            }
        }
    }
    Err(Error::NotFound)
}

/// An incident the caller answers for as command room, with its work
/// orders and timeline: its station or its current owner lies in the
/// caller's jurisdiction. A department that only holds one of its work
/// orders does not route it, nor send units to it.
pub async fn commanded_record(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> Result<IncidentRecord> {
    caller.require(Permission::DispatchIncidents)?;
    let record = state.store.incident(id).await?.ok_or(Error::NotFound)?;
    commands(state, caller, &record.incident).await?;
    Ok(record)
}

/// [`commanded_record`]'s incident alone, for what needs neither its
/// timeline nor its work orders (recommending and sending units): one
/// read instead of four.
pub async fn commanded_incident(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> Result<StoredIncident> {
    caller.require(Permission::DispatchIncidents)?;
    let incident = state.store.incident_row(id).await?.ok_or(Error::NotFound)?;
    commands(state, caller, &incident).await?;
    Ok(incident)
}

/// Whether the incident's station or current owner lies in the caller's
/// jurisdiction; 404 as if it did not exist when not.
async fn commands(state: &AppState, caller: &Caller, incident: &StoredIncident) -> Result<()> {
    for org_id in [incident.station_org_id]
        .into_iter()
        .chain(incident.owner_org_id)
    {
        if let Some(org) = state.store.organisation(org_id).await? {
            if caller.sees(&org.path) {
                return Ok(());
            }
        }
    }
    Err(Error::NotFound)
}

/// The rejected work orders of an incident that no later one replaces: the
/// command room still has to re-route them.
pub fn awaiting_reroute(orders: &[WorkOrder]) -> Vec<&WorkOrder> {
    orders
        .iter()
        .filter(|w| w.status == WorkOrderStatus::Rejected)
        .filter(|w| !orders.iter().any(|o| o.replaces == Some(w.id)))
        .collect()
}

async fn org_name(state: &AppState, id: Option<i64>) -> Result<Option<String>> {
    Ok(match id {
        Some(id) => state.store.organisation(id).await?.map(|o| o.name),
        None => None,
    })
}

/// open or closed, and the note that says why, from the incident and its
/// work orders. The department's result and rejection reason are written
/// for the reporter; nothing else of the record is shown.
pub async fn public_status(
    state: &AppState,
    record: &IncidentRecord,
) -> Result<(bool, String, Option<String>)> {
    let incident = &record.incident;
    let latest = record.work_orders.iter().max_by_key(|w| w.id);
    let agency = match latest {
        Some(order) if order.status != WorkOrderStatus::Rejected => {
            org_name(state, Some(order.owner_org_id)).await?
        }
        _ => {
            org_name(
                state,
                incident.owner_org_id.or(Some(incident.station_org_id)),
            )
            .await?
        }
    };
    let by = agency.clone().unwrap_or_else(|| "承办单位".into());
    let open_orders = record.work_orders.iter().any(|w| w.status.is_open());
    let confirmed = record
        .work_orders
        .iter()
        .filter(|w| w.status == WorkOrderStatus::Confirmed)
        .max_by_key(|w| w.id);
    let (closed, note) = match incident.status {
        IncidentStatus::Reopened => (false, "已重新受理，正在重新处置。".to_owned()),
        IncidentStatus::Cancelled => (true, "与已受理的同一事件重复，已合并处理。".to_owned()),
        IncidentStatus::Resolved | IncidentStatus::Closed => {
            let result = confirmed.and_then(|w| w.result.as_ref());
            (
                true,
                match result {
                    Some(result) => format!("已办结：{}", result.as_str()),
                    None => "已办结。".to_owned(),
                },
            )
        }
        _ if !open_orders && confirmed.is_some() => {
            let result = confirmed.and_then(|w| w.result.as_ref());
            (
                true,
                match result {
                    Some(result) => format!("已办结：{}", result.as_str()),
                    None => "已办结。".to_owned(),
                },
            )
        }
        _ => {
            let note = match latest {
                None if incident.owner_org_id.is_some() => format!("已受理，{by}正在处置。"),
                None => "已受理，等待分派。".to_owned(),
                Some(order) => match order.status {
                    WorkOrderStatus::Created => format!("已转交{by}，等待签收。"),
                    WorkOrderStatus::Accepted => format!("{by}已签收。"),
                    WorkOrderStatus::InProgress => format!("{by}正在处置。"),
                    WorkOrderStatus::Returned => format!(
                        "{by}已反馈：{}，待确认办结。",
                        order.result.as_ref().map_or("", |r| r.as_str())
                    ),
                    WorkOrderStatus::Rejected => format!(
                        "被退回（{}），正在重新分派。",
                        order.rejection.as_ref().map_or("", |r| r.as_str())
                    ),
                    WorkOrderStatus::Confirmed => "已办结。".to_owned(),
                },
            };
            (false, note)
        }
    };
    Ok((closed, note, agency))
}

/// A refused incident transition as a 409 that says why in Chinese.
pub fn incident_refused(err: IncidentError) -> Error {
    let zh = match &err {
        IncidentError::NotAllowed { action, from } => {
            let action = match *action {
                "triaged" => "改分类",
                "dispatched" => "派警",
                "diverted" => "分流",
                "re-routed" => "重新分流",
                "started" => "开始处置",
                "resolved" => "办结",
                "given feedback" => "回访",
                "closed" => "结案",
                "sent back" => "退回指挥室",
                "sent a unit" => "派出警力",
                "attended" => "到场",
                "settled on the spot" => "当场答复或告知转办",
                other => other,
            };
            format!("该警情当前状态为「{}」，不能{action}。", from.zh())
        }
        IncidentError::NotTriaged => "该警情尚未分类，请先分类。".into(),
        IncidentError::WrongGroup { group, .. } => match group {
            Group::Police => "警务类警情由指挥室派警处置，不能分流给部门。".into(),
            Group::NonPolice => "非警务类警情应分流给部门，不能派警。".into(),
        },
        IncidentError::OpenWorkOrders { ids } => format!(
            "仍有未办结的流转单（{}），请先办结。",
            ids.iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join("、")
        ),
        IncidentError::ForeignWorkOrder { id } => format!("流转单 {id} 不属于该警情。"),
        IncidentError::NotRejected { id } => {
            format!("流转单 {id} 未被退回，不能重新分流。")
        }
        IncidentError::SameOwner { .. } => "重新分流须交给退回单位以外的单位。".into(),
        IncidentError::DuplicateOfItself => "警情不能与自身重复。".into(),
        IncidentError::PoliceNeedPolice => {
            "警务类警情必须派出民警警力，不能只派综治路面力量或志愿者。".into()
        }
        IncidentError::UrgentNotSettled => {
            "一级警情（危及生命）必须派警处置，不能当场答复结束。".into()
        }
    };
    Error::Conflict {
        zh,
        en: format!("{err}."),
    }
}

/// The snake_case name of a timeline event (`sent_back`, `resolved`).
pub fn event_name<E: Serialize>(event: &E) -> String {
    serde_json::to_value(event)
        .ok()
        .and_then(|v| v.get("event").and_then(|e| e.as_str()).map(str::to_owned))
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------
// The command room's hand on an incident: 改分类, 派警, 分流, 回访

/// Work orders asked for in one routing (联动).
const MAX_OWNERS: usize = 10;

/// What a move of an incident made: the incident with its events, the work
/// orders it handed out (written by the move, each with its events in
/// order with the incident's), the change it publishes and what the audit
/// entry says.
pub struct IncidentMove {
    pub moved: Transition<Incident, IncidentEvent>,
    /// Who held it before the move: told of the change too.
    held_by: Option<i64>,
    pub created: Vec<WorkOrder>,
    change: String,
    detail: String,
}

impl IncidentMove {
    fn new(
        locked: &StoredIncident,
        moved: Transition<Incident, IncidentEvent>,
        change: impl Into<String>,
        detail: String,
    ) -> IncidentMove {
        IncidentMove {
            moved,
            held_by: locked.owner_org_id,
            created: Vec::new(),
            change: change.into(),
            detail,
        }
    }
}

/// A move writes the incident and its events; its station, whoever held or
/// holds it and each organisation handed a work order see it.
impl Record for Incident {
    const AUDITED_AS: &'static str = "incident";
    /// The incident with its work orders.
    type Locked = (StoredIncident, Vec<WorkOrder>);
    type Moved = IncidentMove;
    type Written = ();

    async fn lock(tx: &mut Tx, id: i64) -> Result<Self::Locked> {
        tx.lock_incident(id).await?.ok_or(Error::NotFound)
    }

    fn audited(moved: &IncidentMove) -> (i64, String) {
        (moved.moved.state.id, moved.detail.clone())
    }

    async fn write(tx: &mut Tx, _: &Caller, moved: &IncidentMove, now: Timestamp) -> Result<()> {
        let incident = &moved.moved.state;
        tx.update_incident(incident, now).await?;
        tx.append_timeline(incident.id, None, &moved.moved.events)
            .await?;
        Ok(())
    }

    async fn publish(state: &AppState, moved: &IncidentMove, (): ()) {
        let incident = &moved.moved.state;
        let orgs = [moved.held_by, incident.owner_org_id]
            .into_iter()
            .flatten()
            .chain(moved.created.iter().map(|w| w.owner_org_id));
        publish(state, incident.id, incident.station_id, &moved.change, orgs).await;
        for order in &moved.created {
            work_orders::publish(state, order, incident.station_id, "created").await;
        }
    }
}

/// After the commit: the one way an incident's change is told — to its
/// station and to `orgs` (who held it before the change and holds it now,
/// those it was handed to), each once.
pub async fn publish(
    state: &AppState,
    incident_id: i64,
    station_org_id: i64,
    change: &str,
    orgs: impl IntoIterator<Item = i64>,
) {
    let mut ids = vec![station_org_id];
    for id in orgs {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    let Some(orgs) = paths(state, &ids).await else {
        tracing::warn!(
            incident = incident_id,
            change,
            "incident change not published"
        );
        return;
    };
    state.live.publish(LiveEvent {
        kind: LiveKind::Incident,
        id: incident_id,
        incident_id: Some(incident_id),
        change: change.to_owned(),
        orgs,
    });
}

/// The paths of the organisations that exist among `ids`; `None` when the
/// store cannot say (the failure is logged).
pub async fn paths(state: &AppState, ids: &[i64]) -> Option<Vec<OrgPath>> {
    let mut paths = Vec::new();
    for id in ids {
        match state.store.organisation(*id).await {
            Ok(Some(org)) => paths.push(org.path),
            Ok(None) => {}
            Err(err) => {
                tracing::warn!(error = %err, org = id, "organisation not read");
                return None;
            }
        }
    }
    Some(paths)
}

/// The incident as it is after a move, for the answer.
async fn reread(state: &AppState, id: i64) -> Result<IncidentRecord> {
    state.store.incident(id).await?.ok_or(Error::NotFound)
}

/// The incident's station and the place its work is done: the community
/// its address lies in, else the station's first division.
pub async fn station_and_place(
    state: &AppState,
    incident: &StoredIncident,
) -> Result<(Organisation, Option<DivisionCode>)> {
    let station = state
        .store
        .organisation(incident.station_org_id)
        .await?
        .ok_or_else(|| Error::Internal("station vanished".into()))?;
    let place = incident
        .community_code
        .as_deref()
        .and_then(|c| DivisionCode::parse(c).ok())
        .or_else(|| station.division_codes.first().cloned());
    Ok((station, place))
}

/// 改分类: the operator sets the category (a code of the triage table);
/// group and priority follow from the table. Allowed while the incident
/// awaits routing; the timeline keeps the rules' suggestion and the
/// override.
pub async fn override_triage(
    state: &AppState,
    caller: &Caller,
    id: i64,
    category: &str,
) -> Result<IncidentRecord> {
    commanded_incident(state, caller, id).await?;
    let table = triage().table();
    let code = category.trim();
    let category = table.category(code).ok_or_else(|| {
        FieldError::new(
            "category",
            Reason::UnknownValue {
                allowed: table.categories.iter().map(|c| c.code.clone()).collect(),
            },
        )
    })?;
    let chosen = CoreTriage {
        category: Category::new(&category.code, &category.class)?,
        group: category.group,
        priority: Priority::parse(category.priority)?,
    };
    transition::apply::<Incident>(state, caller, id, async |_, (locked, _), now| {
        let moved = locked
            .to_core()?
            .triage(chosen, TriagedBy::Operator, caller.actor.clone(), now)
            .map_err(incident_refused)?;
        let detail = format!("triage {}", category.code);
        Ok(IncidentMove::new(&locked, moved, "triaged", detail))
    })
    .await?;
    reread(state, id).await
}

/// 派警: a police incident the command room held (its category set by the
/// operator) goes to the station's command room for a unit to attend, as
/// intake does for police calls it can read.
pub async fn dispatch(state: &AppState, caller: &Caller, id: i64) -> Result<IncidentRecord> {
    let record = commanded_record(state, caller, id).await?;
    let (station, _) = station_and_place(state, &record.incident).await?;
    let command_room = routing::command_room_of(&state.store, &station).await?;
    transition::apply::<Incident>(state, caller, id, async |_, (locked, _), now| {
        let moved = locked
            .to_core()?
            .dispatch(command_room.id, caller.actor.clone(), now)
            .map_err(incident_refused)?;
        let detail = format!("dispatch to {}", command_room.id);
        Ok(IncidentMove::new(&locked, moved, "dispatched", detail))
    })
    .await?;
    reread(state, id).await
}

/// 分流 / 重新分流: a work order for each organisation named (1 to 10,
/// distinct; 联动 when several), each serving the incident's place or
/// within the caller's jurisdiction. A work order rejected and not yet
/// replaced is re-routed first: the new one names it as the one it
/// replaces.
pub async fn route(
    state: &AppState,
    caller: &Caller,
    id: i64,
    owner_org_ids: &[i64],
) -> Result<IncidentRecord> {
    let stored = commanded_incident(state, caller, id).await?;
    let field = "owner_org_ids";
    let unique: BTreeSet<i64> = owner_org_ids.iter().copied().collect();
    if owner_org_ids.is_empty() {
        return Err(FieldError::new(field, Reason::Required).into());
    }
    if owner_org_ids.len() > MAX_OWNERS || unique.len() != owner_org_ids.len() {
        return Err(FieldError::new(
            field,
            Reason::InvalidFormat {
                expected: "distinct organisation ids, at most 10",
            },
        )
        .into());
    }
    let (station, place) = station_and_place(state, &stored).await?;
    let mut owners: Vec<Organisation> = Vec::new();
    for owner_id in owner_org_ids {
        let org = state.store.organisation(*owner_id).await?;
        match org {
            Some(org) if may_handle(caller, &org, place.as_ref()) => owners.push(org),
            _ => return Err(FieldError::new(field, Reason::NotFound).into()),
        }
    }
    let category = stored
        .triage
        .as_ref()
        .map(|t| t.category.code.as_str().to_owned());
    let command_room = routing::command_room_of(&state.store, &station).await?;

    let actor = caller.actor.clone();
    transition::apply::<Incident>(state, caller, id, async |tx, (locked, mut orders), now| {
        let mut incident = locked.to_core()?;
        let deadlines = match &category {
            Some(code) => Some(routing::deadlines(code)?),
            None => None,
        };
        let mut pending: Vec<_> = awaiting_reroute(&orders).into_iter().cloned().collect();
        let mut created = Vec::new();
        for owner in &owners {
            if orders
                .iter()
                .any(|o| o.owner_org_id == owner.id && o.status.is_open())
            {
                return Err(Error::Conflict {
                    zh: format!("{}已有该警情未办结的流转单。", owner.name),
                    en: format!(
                        "{} already holds an open work order of this incident.",
                        owner.name
                    ),
                });
            }
            let Some(deadlines) = deadlines else {
                // Not triaged: the core says so.
                return Err(incident_refused(IncidentError::NotTriaged));
            };
            let new = NewWorkOrder {
                id: tx.next_work_order_id().await?,
                originator_org_id: command_room.id,
                owner_org_id: owner.id,
                supervisor_org_id: owner.parent_id,
                deadlines,
            };
            let replaced = pending.iter().position(|r| r.owner_org_id != owner.id);
            let diversion = match replaced {
                Some(i) => incident.reroute(&pending.remove(i), new, actor.clone(), now),
                None => incident.divert(new, actor.clone(), now),
            }
            .map_err(incident_refused)?;
            tx.insert_work_order(&diversion.work_order.state, now)
                .await?;
            tx.append_timeline(id, None, &diversion.incident.events)
                .await?;
            tx.append_timeline(
                id,
                Some(diversion.work_order.state.id),
                &diversion.work_order.events,
            )
            .await?;
            incident = diversion.incident.state;
            created.push(diversion.work_order.state.clone());
            orders.push(diversion.work_order.state);
        }
        let detail = format!(
            "route to {}; work orders {}",
            joined(owner_org_ids.iter()),
            joined(created.iter().map(|w| &w.id))
        );
        // Each diversion's events are written above, in order with its
        // work order's.
        let moved = Transition {
            state: incident,
            events: Vec::new(),
        };
        let mut routed = IncidentMove::new(&locked, moved, "routed", detail);
        routed.created = created;
        Ok(routed)
    })
    .await?;
    reread(state, id).await
}

/// 当场答复 / 告知转办: a call that is only a question, awaiting routing,
/// ends with the command room — answered, or the caller referred to the
/// counter that serves it — with what was said in the timeline. No work
/// order is made, so the figures count it resolved on the spot.
pub async fn settle_on_the_spot(
    state: &AppState,
    caller: &Caller,
    id: i64,
    how: Settlement,
    note: HandlingNote,
) -> Result<IncidentRecord> {
    let record = commanded_record(state, caller, id).await?;
    let (station, _) = station_and_place(state, &record.incident).await?;
    let command_room = routing::command_room_of(&state.store, &station).await?;
    transition::apply::<Incident>(state, caller, id, async |_, (locked, orders), now| {
        let moved = locked
            .to_core()?
            .settle_on_the_spot(
                how,
                note.clone(),
                command_room.id,
                &orders,
                caller.actor.clone(),
                now,
            )
            .map_err(incident_refused)?;
        let detail = format!("settled on the spot: {}", how.as_str());
        Ok(IncidentMove::new(
            &locked,
            moved,
            "settled_on_the_spot",
            detail,
        ))
    })
    .await?;
    reread(state, id).await
}

/// [`settle_on_the_spot`] from the words of a request: `how` is answered
/// or referred, `note` 1 to 1000 characters; every wrong field at once.
pub async fn settle(
    state: &AppState,
    caller: &Caller,
    id: i64,
    how: &str,
    note: &str,
) -> Result<IncidentRecord> {
    commanded_incident(state, caller, id).await?;
    let mut errors = Vec::new();
    let how = Settlement::from_str(how.trim())
        .map_err(|e| errors.push(e))
        .ok();
    let note = HandlingNote::parse("settlement_note", note)
        .map_err(|e| errors.push(e))
        .ok();
    match (how, note) {
        (Some(how), Some(note)) => settle_on_the_spot(state, caller, id, how, note).await,
        _ => Err(Error::Validation(errors)),
    }
}

fn joined<'a>(ids: impl Iterator<Item = &'a i64>) -> String {
    ids.map(i64::to_string).collect::<Vec<_>>().join(",")
}

/// 回访: the caller's answer (satisfaction 1 to 5, a note of up to 1000
/// characters kept in the audit log). Solved closes a resolved incident;
/// not solved reopens it for routing again.
pub async fn feedback(
    state: &AppState,
    caller: &Caller,
    id: i64,
    resolved: bool,
    satisfaction: u8,
    note: Option<&str>,
) -> Result<IncidentRecord> {
    commanded_incident(state, caller, id).await?;
    let mut errors = Vec::new();
    let satisfaction = Satisfaction::parse(satisfaction)
        .map_err(|e| errors.push(e))
        .ok();
    let note = note
        .filter(|n| !n.trim().is_empty())
        .map(|n| HandlingNote::parse("note", n))
        .transpose()
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    let Some(satisfaction) = satisfaction.filter(|_| errors.is_empty()) else {
        return Err(Error::Validation(errors));
    };
    let answer = Feedback {
        resolved,
        satisfaction,
    };
    transition::apply::<Incident>(state, caller, id, async |_, (locked, orders), now| {
        let moved = locked
            .to_core()?
            .record_feedback(answer, &orders, caller.actor.clone(), now)
            .map_err(incident_refused)?;
        let mut detail = format!(
            "feedback resolved={resolved} satisfaction={}",
            satisfaction.get()
        );
        if let Some(note) = &note {
            detail.push_str("; ");
            detail.push_str(note.as_str());
        }
        let change = moved
            .events
            .last()
            .map(|e| event_name(&e.event))
            .unwrap_or_default();
        Ok(IncidentMove::new(&locked, moved, change, detail))
    })
    .await?;
    reread(state, id).await
}
