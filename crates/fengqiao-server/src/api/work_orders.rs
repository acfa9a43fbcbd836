//! 流转单: a department's inbox and its actions on a work order — accept,
//! start, return with a result, reject with a reason — and the originator's
//! confirmation, each one call of `services::work_orders::act`.

use axum::extract::{Path, Query, State};
use axum::Json;
use fengqiao_core::error::{FieldError, Reason};
use fengqiao_core::role::Permission;
use fengqiao_core::work_order::{HandlingNote, WorkOrderStatus};
use fengqiao_core::Timestamp;
use fengqiao_store::InboxEntry;
use serde::Deserialize;
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiResult, Problem};
use crate::json::ApiJson;
use crate::services::access::Caller;
use crate::services::format::rfc3339;
use crate::services::work_orders::{self, Action};
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
    let entry = work_orders::visible(&state, &caller, work_order_id).await?;
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

async fn act(
    state: &AppState,
    caller: &Caller,
    id: i64,
    action: Action,
) -> ApiResult<Json<WorkOrderItem>> {
    let entry = work_orders::act(state, caller, id, action).await?;
    Ok(Json(WorkOrderItem::of(&entry, state.clock.now())))
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
