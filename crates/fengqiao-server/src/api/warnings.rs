//! 预警: the warnings of the caller's jurisdiction, acknowledged and then
//! closed with an action record. The core decides every move
//! (`fengqiao_core::warning`); a move that lost a race to another caller is
//! refused like a move from the wrong state, and changes nothing.

use std::str::FromStr;

use axum::extract::{Path, Query, State};
use axum::Json;
use fengqiao_core::label::Label;
use fengqiao_core::role::Permission;
use fengqiao_core::warning::{Recipient, Warning, WarningStatus};
use fengqiao_core::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiResult, Problem};
use crate::json::ApiJson;
use crate::services::access::Caller;
use crate::services::format::rfc3339;
use crate::services::warnings::{
    acknowledge_warning, close_warning, visible_warning, visible_warnings,
};
use crate::services::Error;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct SubjectView {
    /// incident, work_order, address (a registry building) or case.
    kind: String,
    id: i64,
}

#[derive(Serialize, ToSchema)]
pub struct WarningView {
    id: i64,
    /// repeat_call, work_order_overdue, dispute_unmediated,
    /// agreement_failed, follow_up_missed, threat_words.
    rule: String,
    /// The rule in Chinese, e.g. 重复报警.
    rule_name: String,
    /// The organisation that must act on it.
    org_id: i64,
    subject: SubjectView,
    /// Which rule fired on what: incident ids, deadlines.
    #[schema(value_type = Object)]
    evidence: Value,
    /// open, acknowledged or closed.
    status: String,
    raised_at: String,
    /// 签收时限
    acknowledge_by: String,
    /// Not acknowledged by its deadline.
    overdue: bool,
    acknowledged_at: Option<String>,
    acknowledged_by: Option<String>,
    closed_at: Option<String>,
    closed_by: Option<String>,
    /// visited, mediated, referred or no_risk_found.
    action: Option<String>,
    note: Option<String>,
    /// 督办: when it escalated to the station chief, not acknowledged in
    /// time.
    escalated_at: Option<String>,
    /// Who it was delivered to (the grid's officer and grid workers, and
    /// the station chiefs it escalated to); only on a single warning.
    #[serde(skip_serializing_if = "Option::is_none")]
    recipients: Option<Vec<RecipientView>>,
}

#[derive(Serialize, ToSchema)]
pub struct RecipientView {
    user_id: i64,
    /// officer, grid_worker or station_chief.
    kind: String,
}

impl WarningView {
    fn of(warning: &Warning, now: Timestamp) -> ApiResult<WarningView> {
        Ok(WarningView {
            id: warning.id,
            rule: warning.rule().as_str().into(),
            rule_name: warning.rule().zh().into(),
            org_id: warning.org_id,
            subject: SubjectView {
                kind: warning.subject.kind.as_str().into(),
                id: warning.subject.id,
            },
            evidence: serde_json::to_value(&warning.evidence)
                .map_err(|e| Error::Internal(e.to_string()))?,
            status: warning.status.as_str().into(),
            raised_at: rfc3339(warning.raised_at),
            acknowledge_by: rfc3339(warning.acknowledge_by),
            overdue: warning.overdue(now),
            acknowledged_at: warning.acknowledged_at.map(rfc3339),
            acknowledged_by: warning.acknowledged_by.as_ref().map(|a| a.to_stored()),
            closed_at: warning.closed_at.map(rfc3339),
            closed_by: warning.closed_by.as_ref().map(|a| a.to_stored()),
            action: warning.action.as_ref().map(|a| a.action.as_str().into()),
            note: warning.action.as_ref().map(|a| a.note.as_str().into()),
            escalated_at: warning.escalated_at.map(rfc3339),
            recipients: None,
        })
    }

    fn with_recipients(mut self, recipients: &[Recipient]) -> WarningView {
        self.recipients = Some(
            recipients
                .iter()
                .map(|r| RecipientView {
                    user_id: r.user_id,
                    kind: r.kind.as_str().into(),
                })
                .collect(),
        );
        self
    }
}

#[derive(Deserialize, IntoParams)]
pub struct WarningQuery {
    /// open, acknowledged or closed; all when absent.
    status: Option<String>,
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseWarning {
    /// visited, mediated, referred or no_risk_found.
    action: Option<String>,
    /// What was found and done, 1 to 1000 characters.
    note: Option<String>,
}

/// The warnings raised for the caller's jurisdiction and those delivered
/// to the caller (as the grid's officer or grid worker, or as a chief they
/// escalated to), newest first (at most 200).
#[utoipa::path(get, path = "/api/v1/warnings", params(WarningQuery),
    responses((status = 200, body = [WarningView]), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<WarningQuery>,
) -> ApiResult<Json<Vec<WarningView>>> {
    caller.require(Permission::ViewWarnings)?;
    let status = query
        .status
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(WarningStatus::from_str)
        .transpose()?;
    let warnings = visible_warnings(&state, &caller, status).await?;
    let now = state.clock.now();
    let views = warnings
        .iter()
        .map(|w| WarningView::of(w, now))
        .collect::<ApiResult<_>>()?;
    Ok(Json(views))
}

/// One warning with the people it was delivered to.
#[utoipa::path(get, path = "/api/v1/warnings/{warning_id}",
    params(("warning_id" = i64, Path, description = "warning id")),
    responses((status = 200, body = WarningView), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(warning_id): Path<i64>,
) -> ApiResult<Json<WarningView>> {
    caller.require(Permission::ViewWarnings)?;
    let (warning, recipients) = visible_warning(&state, &caller, warning_id).await?;
    let view = WarningView::of(&warning, state.clock.now())?.with_recipients(&recipients);
    Ok(Json(view))
}

/// 签收: takes an open warning on. Any body is ignored.
#[utoipa::path(post, path = "/api/v1/warnings/{warning_id}/acknowledge",
    params(("warning_id" = i64, Path, description = "warning id")),
    responses((status = 200, body = WarningView), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn acknowledge(
    State(state): State<AppState>,
    caller: Caller,
    Path(warning_id): Path<i64>,
) -> ApiResult<Json<WarningView>> {
    let warning = acknowledge_warning(&state, &caller, warning_id).await?;
    Ok(Json(WarningView::of(&warning, state.clock.now())?))
}

/// 办结: closes an acknowledged warning with what was done; without an
/// action and a note it is a 422 and nothing changes.
#[utoipa::path(post, path = "/api/v1/warnings/{warning_id}/close", request_body = CloseWarning,
    params(("warning_id" = i64, Path, description = "warning id")),
    responses((status = 200, body = WarningView), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
pub async fn close(
    State(state): State<AppState>,
    caller: Caller,
    Path(warning_id): Path<i64>,
    ApiJson(body): ApiJson<CloseWarning>,
) -> ApiResult<Json<WarningView>> {
    let warning = close_warning(
        &state,
        &caller,
        warning_id,
        body.action.as_deref(),
        body.note.as_deref(),
    )
    .await?;
    Ok(Json(WarningView::of(&warning, state.clock.now())?))
}
