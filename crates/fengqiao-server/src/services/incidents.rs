//! Reading incidents: within a caller's jurisdiction, and what a reporter
//! may know of their own.

use std::collections::BTreeMap;

use fengqiao_core::incident::{Group, IncidentError, IncidentStatus};
use fengqiao_core::label::Label;
use fengqiao_core::role::Permission;
use fengqiao_core::work_order::{WorkOrder, WorkOrderStatus};
use fengqiao_store::{IncidentRecord, StoredIncident};
use serde::Serialize;
use serde_json::Value;

use super::access::Caller;
use super::{Error, Result};
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
