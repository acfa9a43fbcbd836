//! Reading the audit log: the auditor's alone, and itself audited.

use axum::extract::{Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiResult, Problem};
use crate::services::access::Caller;
use crate::services::audit;
use crate::services::format::rfc3339;
use crate::state::AppState;

#[derive(Deserialize, IntoParams)]
pub struct AuditQuery {
    /// Entries after this sequence number (default 0).
    after: Option<i64>,
    /// At most this many (default 100, at most 1000).
    limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditEntryView {
    seq: i64,
    at: String,
    actor: String,
    org_id: Option<i64>,
    action: String,
    object_type: String,
    object_id: Option<String>,
    outcome: String,
    source: String,
    detail: Option<String>,
    hash: String,
}

#[derive(Serialize, ToSchema)]
pub struct AuditPageView {
    entries: Vec<AuditEntryView>,
    next_after: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct ChainReport {
    intact: bool,
    verified: i64,
    /// The first entry that was edited, deleted or reordered.
    broken_at: Option<i64>,
    problem: Option<String>,
}

/// The audit log, oldest first, in pages. Reading it is itself recorded.
#[utoipa::path(get, path = "/api/v1/audit", params(AuditQuery),
    responses((status = 200, body = AuditPageView), (status = 403, body = Problem)))]
pub async fn entries(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<AuditQuery>,
) -> ApiResult<Json<AuditPageView>> {
    let after = query.after.unwrap_or(0).max(0);
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    let page = audit::entries(&state, &caller, after, limit).await?;
    Ok(Json(AuditPageView {
        entries: page
            .entries
            .into_iter()
            .map(|e| AuditEntryView {
                seq: e.seq,
                at: rfc3339(e.at),
                actor: e.actor,
                org_id: e.org_id,
                action: e.action,
                object_type: e.object_type,
                object_id: e.object_id,
                outcome: e.outcome,
                source: e.source,
                detail: e.detail,
                hash: e.hash.iter().map(|b| format!("{b:02x}")).collect(),
            })
            .collect(),
        next_after: page.next_after,
    }))
}

/// Walks the hash chain and reports the first broken entry.
#[utoipa::path(get, path = "/api/v1/audit/verify",
    responses((status = 200, body = ChainReport), (status = 403, body = Problem)))]
pub async fn verify(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<ChainReport>> {
    Ok(Json(match audit::verify(&state, &caller).await? {
        Ok(verified) => ChainReport {
            intact: true,
            verified,
            broken_at: None,
            problem: None,
        },
        Err(broken) => ChainReport {
            intact: false,
            verified: broken.seq() - 1,
            broken_at: Some(broken.seq()),
            problem: Some(broken.to_string()),
        },
    }))
}
