//! 超时督办: the job that escalates work orders whose deadline to accept or
//! to finish has passed. The flags that say a deadline escalated live with
//! the work order, so the job has no state of its own: run at start-up it
//! catches up on deadlines that passed while the server was stopped, and
//! run again it finds nothing new. Each deadline escalates exactly once,
//! also with two server instances racing (see `Tx::record_escalation`).
//!
//! The same job escalates warnings (督办) nobody acknowledged by their
//! deadline to the chiefs of the station that must act: the time it
//! escalated lives with the warning and is written only where it is still
//! empty, so each warning escalates once, after a restart as well.

use fengqiao_core::audit::{Actor, AuditAction, AuditEvent};
use fengqiao_core::warning::{NewWarning, Warning};
use fengqiao_core::work_order::{Deadline, WorkOrder};
use fengqiao_store::StoreError;

use crate::live::{LiveEvent, LiveKind};
use crate::state::AppState;

/// Work orders loaded per scan; the job scans again while batches are full.
const BATCH: i64 = 500;

/// Escalates every deadline due now that has not escalated yet: the flags,
/// a timeline event and a `work_order_overdue` warning for the supervising
/// organisation, one transaction per work order, then published live.
/// Returns how many deadlines escalated.
pub async fn escalate_due(state: &AppState) -> Result<usize, StoreError> {
    let mut escalated = 0;
    loop {
        let now = state.clock.now();
        let due = state.store.work_orders_due(now, BATCH).await?;
        let mut progress = 0;
        for &(id, incident_id) in &due {
            progress += escalate_one(state, id, incident_id).await?;
        }
        escalated += progress;
        // A full batch may hide more; an empty round means the rest of the
        // batch was not due after all (accepted meanwhile), so stop.
        if (due.len() as i64) < BATCH || progress == 0 {
            return Ok(escalated);
        }
    }
}

/// One work order in its own transaction; 0 when nothing was due any more.
async fn escalate_one(state: &AppState, id: i64, incident_id: i64) -> Result<usize, StoreError> {
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    // Locked through its incident, in the order every closed-loop action
    // locks, so the job and a department's action never wait on each other
    // in a cycle; read now, the work order is as it is.
    let Some((_, orders)) = tx.lock_incident(incident_id).await? else {
        return Ok(0);
    };
    let Some(before) = orders.into_iter().find(|o| o.id == id) else {
        return Ok(0);
    };
    let due = before.escalations_due(now);
    if due.is_empty() {
        return Ok(0);
    }
    let after = before.escalate(now);
    if !tx.record_escalation(&before, &after.state, now).await? {
        // Escalated by another instance, or moved by its department.
        return Ok(0);
    }
    tx.append_timeline(before.incident_id, Some(before.id), &after.events)
        .await?;
    // One level up; an organisation at the top of the tree is supervised
    // by nobody, so the originator (the command room) follows it up.
    let to_org = before.supervisor_org_id.unwrap_or(before.originator_org_id);
    let deadlines: Vec<&str> = due.iter().map(|e| deadline_name(e.deadline)).collect();
    let audit = AuditEvent::new(Actor::System, AuditAction::Update, "work_order")
        .object(before.id)
        .org(Some(before.owner_org_id))
        .detail(format!("escalated {}", deadlines.join(",")));
    tx.append_audit(&audit, now).await?;
    // `None` when the warning of an earlier deadline is still open: the
    // supervisor is already on it, and the timeline shows the new one.
    let warning = match NewWarning::work_order_overdue(to_org, &due, now) {
        Some(new) => tx.raise_warning(&new, now).await?,
        None => None,
    };
    if let Some(warning_id) = warning {
        let audit = AuditEvent::new(Actor::System, AuditAction::Create, "warning")
            .object(warning_id)
            .org(Some(to_org))
            .detail(format!("work_order_overdue work order {}", before.id));
        tx.append_audit(&audit, now).await?;
    }
    tx.commit().await?;
    tracing::info!(work_order = before.id, deadlines = ?deadlines, to_org, "work order escalated");
    publish(state, &before, to_org, warning).await;
    Ok(due.len())
}

/// Escalates every open warning past its deadline to be acknowledged that
/// has not escalated yet: to the station chiefs of the organisation that
/// must act, recorded with the warning (when, and to whom) and in the
/// audit log, one transaction per warning, then published live. Returns
/// how many escalated.
pub async fn escalate_warnings_due(state: &AppState) -> Result<usize, StoreError> {
    let mut escalated = 0;
    loop {
        let now = state.clock.now();
        let due = state.store.warnings_due_escalation(now, BATCH).await?;
        let mut progress = 0;
        for &id in &due {
            if escalate_warning(state, id).await? {
                progress += 1;
            }
        }
        escalated += progress;
        if (due.len() as i64) < BATCH || progress == 0 {
            return Ok(escalated);
        }
    }
}

/// One warning in its own transaction; `false` when it was acknowledged or
/// escalated meanwhile (the write is conditional, so that is decided by the
/// database, not by this read).
async fn escalate_warning(state: &AppState, id: i64) -> Result<bool, StoreError> {
    let now = state.clock.now();
    let Some(escalated) = state
        .store
        .warning(id)
        .await?
        .as_ref()
        .and_then(|w: &Warning| w.escalate(now))
    else {
        return Ok(false);
    };
    let mut tx = state.store.begin().await?;
    let chiefs = tx.station_chiefs(escalated.org_id).await?;
    if !tx
        .record_warning_escalation(&escalated, &chiefs, now)
        .await?
    {
        return Ok(false);
    }
    let to: Vec<String> = chiefs.iter().map(i64::to_string).collect();
    let audit = AuditEvent::new(Actor::System, AuditAction::Update, "warning")
        .object(id)
        .org(Some(escalated.org_id))
        .detail(format!("escalated to users {}", to.join(",")));
    tx.append_audit(&audit, now).await?;
    tx.commit().await?;
    if chiefs.is_empty() {
        tracing::warn!(
            warning = id,
            org = escalated.org_id,
            "warning escalated, but the organisation has no station chief"
        );
    } else {
        tracing::info!(warning = id, chiefs = ?chiefs, "warning escalated");
    }
    crate::services::warnings::publish(state, id, "escalated").await;
    Ok(true)
}

fn deadline_name(deadline: Deadline) -> &'static str {
    match deadline {
        Deadline::Accept => "accept",
        Deadline::Finish => "finish",
    }
}

/// After the commit: a lookup that fails here loses a live message, never
/// the escalation, so it is logged and the job goes on.
async fn publish(state: &AppState, order: &WorkOrder, to_org: i64, warning: Option<i64>) {
    let mut orgs = Vec::new();
    for id in [order.owner_org_id, order.originator_org_id, to_org] {
        match state.store.organisation(id).await {
            Ok(Some(org)) => orgs.push(org.path),
            Ok(None) => {}
            Err(err) => {
                tracing::warn!(error = %err, org = id, "escalation not published to an organisation")
            }
        }
    }
    state.live.publish(LiveEvent {
        kind: LiveKind::WorkOrder,
        id: order.id,
        incident_id: Some(order.incident_id),
        change: "escalated".into(),
        orgs: orgs.clone(),
    });
    if let Some(warning_id) = warning {
        crate::services::warnings::publish(state, warning_id, "raised").await;
    }
}
