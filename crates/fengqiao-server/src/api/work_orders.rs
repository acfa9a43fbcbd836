//! 流转单: a department's inbox and its actions on a work order — accept,
//! start, return with a result, reject with a reason — and the originator's
//! confirmation. The core's transitions decide; one transaction writes the
//! work order, what it did to the incident (handling started, sent back to
//! the command room, resolved), their timeline events and the audit entry.

use axum::extract::{Path, Query, State};
use axum::Json;
use fengqiao_core::audit::AuditAction;
use fengqiao_core::error::{FieldError, Reason};
use fengqiao_core::incident::{Group, IncidentStatus};
use fengqiao_core::label::Label;
use fengqiao_core::org::Organisation;
use fengqiao_core::role::Permission;
use fengqiao_core::work_order::{
    HandlingNote, OrgActor, WorkOrder, WorkOrderError, WorkOrderStatus,
};
use fengqiao_core::Timestamp;
use fengqiao_store::InboxEntry;
use serde::Deserialize;
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult, Problem};
use crate::json::ApiJson;
use crate::live::{LiveEvent, LiveKind};
use crate::services::access::Caller;
use crate::services::format::rfc3339;
use crate::services::incidents::{awaiting_reroute, event_name, incident_refused};
use crate::services::Error;
use crate::state::AppState;

const LIST_LIMIT: i64 = 200;

#[derive(Serialize, ToSchema)]
pub struct WorkOrderItem {
    id: i64,
    incident_id: i64,
    /// The incident's 回执号.
    receipt_number: String,
    /// What the caller said.
    incident_text: String,
    /// Where, as the caller said it.
    location_text: String,
    category: String,
    /// created, accepted, in_progress, returned, confirmed or rejected.
    status: String,
    owner_org_id: i64,
    originator_org_id: i64,
    supervisor_org_id: Option<i64>,
    created_at: String,
    /// 签收时限
    accept_by: String,
    /// 办结时限
    finish_by: String,
    accepted_at: Option<String>,
    returned_at: Option<String>,
    result: Option<String>,
    rejection: Option<String>,
    /// The rejected work order this one re-routes.
    replaces: Option<i64>,
    /// The deadlines that have passed for the current state: accept, finish.
    overdue: Vec<String>,
}

impl WorkOrderItem {
    fn of(entry: &InboxEntry, now: Timestamp) -> WorkOrderItem {
        let w = &entry.order;
        WorkOrderItem {
            id: w.id,
            incident_id: w.incident_id,
            receipt_number: entry.receipt_number.clone(),
            incident_text: entry.incident_text.clone(),
            location_text: entry.location_text.clone(),
            category: w.category.as_str().into(),
            status: w.status.as_str().into(),
            owner_org_id: w.owner_org_id,
            originator_org_id: w.originator_org_id,
            supervisor_org_id: w.supervisor_org_id,
            created_at: rfc3339(w.created_at),
            accept_by: rfc3339(w.accept_by),
            finish_by: rfc3339(w.finish_by),
            accepted_at: w.accepted_at.map(rfc3339),
            returned_at: w.returned_at.map(rfc3339),
            result: w.result.as_ref().map(|n| n.as_str().into()),
            rejection: w.rejection.as_ref().map(|n| n.as_str().into()),
            replaces: w.replaces,
            overdue: w
                .overdue(now)
                .into_iter()
                .map(|d| match d {
                    fengqiao_core::work_order::Deadline::Accept => "accept".into(),
                    fengqiao_core::work_order::Deadline::Finish => "finish".into(),
                })
                .collect(),
        }
    }
}

#[derive(Deserialize, IntoParams)]
pub struct InboxQuery {
    /// Only work orders in this status: created, accepted, in_progress,
    /// returned, confirmed or rejected.
    status: Option<String>,
}

fn parse_status(text: &str) -> Result<WorkOrderStatus, FieldError> {
    const ALL: [WorkOrderStatus; 6] = [
        WorkOrderStatus::Created,
        WorkOrderStatus::Accepted,
        WorkOrderStatus::InProgress,
        WorkOrderStatus::Returned,
        WorkOrderStatus::Confirmed,
        WorkOrderStatus::Rejected,
    ];
    ALL.into_iter()
        .find(|s| s.as_str() == text.trim())
        .ok_or_else(|| {
            FieldError::new(
                "status",
                Reason::UnknownValue {
                    allowed: ALL.iter().map(|s| s.as_str().to_owned()).collect(),
                },
            )
        })
}

/// 待办: the work orders owned by organisations in the caller's
/// jurisdiction, newest first (at most 200).
#[utoipa::path(get, path = "/api/v1/work-orders", params(InboxQuery),
    responses((status = 200, body = [WorkOrderItem]), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<InboxQuery>,
) -> ApiResult<Json<Vec<WorkOrderItem>>> {
    caller.require(Permission::ViewIncidents)?;
    let status = query.status.as_deref().map(parse_status).transpose()?;
    let entries = state
        .store
        .work_orders_within(caller.scope().as_str(), status, LIST_LIMIT)
        .await?;
    let now = state.clock.now();
    Ok(Json(
        entries.iter().map(|e| WorkOrderItem::of(e, now)).collect(),
    ))
}

async fn org(state: &AppState, id: i64) -> crate::services::Result<Organisation> {
    state
        .store
        .organisation(id)
        .await?
        .ok_or_else(|| Error::Internal(format!("organisation {id} vanished")))
}

/// The work order with its incident's words, when the caller sees its
/// owner or its originator; else 404 as if it did not exist.
async fn visible(state: &AppState, caller: &Caller, id: i64) -> ApiResult<InboxEntry> {
    let order = state.store.work_order(id).await?.ok_or(Error::NotFound)?;
    let owner = org(state, order.owner_org_id).await?;
    let originator = org(state, order.originator_org_id).await?;
    if !caller.sees(&owner.path) && !caller.sees(&originator.path) {
        return Err(Error::NotFound.into());
    }
    entry_of(state, order).await
}

async fn entry_of(state: &AppState, order: WorkOrder) -> ApiResult<InboxEntry> {
    let record = state
        .store
        .incident(order.incident_id)
        .await?
        .ok_or_else(|| Error::Internal("incident of a work order vanished".into()))?;
    Ok(InboxEntry {
        order,
        receipt_number: record.incident.receipt_number.to_string(),
        incident_text: record.incident.text,
        location_text: record.incident.location_text,
    })
}

/// One work order, for its owner's or its originator's jurisdiction.
#[utoipa::path(get, path = "/api/v1/work-orders/{work_order_id}",
    params(("work_order_id" = i64, Path, description = "work order id")),
    responses((status = 200, body = WorkOrderItem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(work_order_id): Path<i64>,
) -> ApiResult<Json<WorkOrderItem>> {
    caller.require(Permission::ViewIncidents)?;
    let entry = visible(&state, &caller, work_order_id).await?;
    Ok(Json(WorkOrderItem::of(&entry, state.clock.now())))
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnResult {
    /// What the department did, 1 to 1000 characters.
    result: String,
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectWorkOrder {
    /// Why it is not this department's, 1 to 1000 characters.
    reason: String,
}

enum Action {
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
fn refused(err: WorkOrderError) -> ApiError {
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
    ApiError::from(Error::Conflict {
        zh,
        en: format!("{err}."),
    })
}

async fn act(
    state: &AppState,
    caller: &Caller,
    id: i64,
    action: Action,
) -> ApiResult<Json<WorkOrderItem>> {
    // The department handles; the originator confirms. Each acts for its
    // side's organisation when that organisation is within its jurisdiction.
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
        return Err(Error::NotFound.into());
    }
    let by = OrgActor::new(caller.actor.clone(), side.id);
    let actor = caller.actor.clone();

    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    let (stored, mut orders) = tx
        .lock_incident(order.incident_id)
        .await?
        .ok_or(Error::NotFound)?;
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
    tx.update_work_order(&moved.state, now).await?;
    tx.append_timeline(stored.id, Some(id), &moved.events)
        .await?;
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
    let mut incident_change = None;
    if let Some(follow) = follow {
        let follow = follow.map_err(incident_refused)?;
        tx.update_incident(&follow.state, now).await?;
        tx.append_timeline(stored.id, None, &follow.events).await?;
        incident_change = follow.events.last().map(|e| event_name(&e.event));
    }
    let change = action.change();
    let event = caller
        .audit(AuditAction::Update, "work_order")
        .object(id)
        .detail(format!("{change}; incident {}", stored.receipt_number));
    tx.append_audit(&event, now).await?;
    tx.commit().await?;

    let owner = org(state, moved.state.owner_org_id).await?;
    let originator = org(state, moved.state.originator_org_id).await?;
    let station = org(state, stored.station_org_id).await?;
    let orgs = vec![owner.path, originator.path, station.path];
    state.live.publish(LiveEvent {
        kind: LiveKind::WorkOrder,
        id,
        incident_id: Some(stored.id),
        change: change.into(),
        orgs: orgs.clone(),
    });
    if let Some(change) = incident_change {
        state.live.publish(LiveEvent {
            kind: LiveKind::Incident,
            id: stored.id,
            incident_id: Some(stored.id),
            change,
            orgs,
        });
    }
    let entry = InboxEntry {
        order: moved.state,
        receipt_number: stored.receipt_number.to_string(),
        incident_text: stored.text,
        location_text: stored.location_text,
    };
    Ok(Json(WorkOrderItem::of(&entry, now)))
}

/// 签收: the owning department takes the work order. The first acceptance
/// puts a diverted incident in progress.
#[utoipa::path(post, path = "/api/v1/work-orders/{work_order_id}/accept",
    params(("work_order_id" = i64, Path, description = "work order id")),
    responses((status = 200, body = WorkOrderItem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn accept(
    State(state): State<AppState>,
    caller: Caller,
    Path(work_order_id): Path<i64>,
) -> ApiResult<Json<WorkOrderItem>> {
    act(&state, &caller, work_order_id, Action::Accept).await
}

/// 开始处置: the department is at work on it.
#[utoipa::path(post, path = "/api/v1/work-orders/{work_order_id}/start",
    params(("work_order_id" = i64, Path, description = "work order id")),
    responses((status = 200, body = WorkOrderItem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn start(
    State(state): State<AppState>,
    caller: Caller,
    Path(work_order_id): Path<i64>,
) -> ApiResult<Json<WorkOrderItem>> {
    act(&state, &caller, work_order_id, Action::Start).await
}

/// 反馈: the department returns the work order with what it did; the
/// originator then confirms it.
#[utoipa::path(post, path = "/api/v1/work-orders/{work_order_id}/return", request_body = ReturnResult,
    params(("work_order_id" = i64, Path, description = "work order id")),
    responses((status = 200, body = WorkOrderItem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn return_result(
    State(state): State<AppState>,
    caller: Caller,
    Path(work_order_id): Path<i64>,
    ApiJson(body): ApiJson<ReturnResult>,
) -> ApiResult<Json<WorkOrderItem>> {
    let result = HandlingNote::parse("result", &body.result)?;
    act(&state, &caller, work_order_id, Action::Return(result)).await
}

/// 退回: not this department's; the incident goes back to the command room
/// to be re-routed.
#[utoipa::path(post, path = "/api/v1/work-orders/{work_order_id}/reject", request_body = RejectWorkOrder,
    params(("work_order_id" = i64, Path, description = "work order id")),
    responses((status = 200, body = WorkOrderItem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn reject(
    State(state): State<AppState>,
    caller: Caller,
    Path(work_order_id): Path<i64>,
    ApiJson(body): ApiJson<RejectWorkOrder>,
) -> ApiResult<Json<WorkOrderItem>> {
    let reason = HandlingNote::parse("reason", &body.reason)?;
    act(&state, &caller, work_order_id, Action::Reject(reason)).await
}

/// 确认办结: the originator closes the work order. When it was the last
/// open one of a non-police incident in progress, the incident is resolved
/// and awaits the caller's feedback.
#[utoipa::path(post, path = "/api/v1/work-orders/{work_order_id}/confirm",
    params(("work_order_id" = i64, Path, description = "work order id")),
    responses((status = 200, body = WorkOrderItem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn confirm(
    State(state): State<AppState>,
    caller: Caller,
    Path(work_order_id): Path<i64>,
) -> ApiResult<Json<WorkOrderItem>> {
    act(&state, &caller, work_order_id, Action::Confirm).await
}
