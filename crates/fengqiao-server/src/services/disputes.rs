//! 矛盾纠纷: reading a case within the caller's jurisdiction, and moving it:
//! every move takes the same steps, written once in [`apply`] — the
//! permission, the jurisdiction, the case locked in a transaction, the
//! core's transition, the case with its events, the warnings it raises and
//! the audit entry written, the commit, the live event.

use fengqiao_core::audit::{Actor, AuditAction, AuditEvent};
use fengqiao_core::dispute::{Dispute, DisputeError, DisputeEvent};
use fengqiao_core::label::Label;
use fengqiao_core::org::Organisation;
use fengqiao_core::role::Permission;
use fengqiao_core::timeline::{TimelineEvent, Transition};
use fengqiao_core::warning::NewWarning;
use fengqiao_core::Timestamp;
use fengqiao_store::{DisputeRecord, StoreError, Tx};

use super::access::Caller;
use super::{Error, Result};
use crate::live::{LiveEvent, LiveKind};
use crate::state::AppState;

/// A case of a station in the caller's subtree, with that station; else
/// 404 as if it did not exist.
pub async fn visible_dispute(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> Result<(DisputeRecord, Organisation)> {
    let record = state.store.dispute(id).await?.ok_or(Error::NotFound)?;
    let org = state
        .store
        .organisation(record.dispute.org_id)
        .await?
        .ok_or(Error::NotFound)?;
    if !caller.sees(&org.path) {
        return Err(Error::NotFound);
    }
    Ok((record, org))
}

/// Raises each warning on the case (one open per case and rule: a rule
/// already open adds nothing), with its timeline event and audit entry.
pub async fn raise(
    tx: &mut Tx,
    dispute: &Dispute,
    warnings: Vec<NewWarning>,
    actor: Actor,
    now: Timestamp,
) -> Result<Vec<i64>, StoreError> {
    let mut raised = Vec::new();
    for warning in warnings {
        let Some(id) = tx.raise_warning(&warning, now).await? else {
            continue;
        };
        let event = DisputeEvent::WarningRaised {
            warning_id: id,
            rule: warning.rule().as_str().into(),
        };
        tx.append_dispute_events(dispute.id, &[TimelineEvent::new(now, actor.clone(), event)])
            .await?;
        let audit = AuditEvent::new(Actor::System, AuditAction::Create, "warning")
            .object(id)
            .org(Some(dispute.org_id))
            .detail(format!("{} dispute {}", warning.rule(), dispute.id));
        tx.append_audit(&audit, now).await?;
        raised.push(id);
    }
    Ok(raised)
}

/// After the commit: the station and everything above it see the change.
pub async fn publish(state: &AppState, dispute: &Dispute, change: &str, warnings: &[i64]) {
    let org = match state.store.organisation(dispute.org_id).await {
        Ok(Some(org)) => org,
        Ok(None) => return,
        Err(err) => {
            tracing::warn!(error = %err, dispute = dispute.id, "dispute change not published");
            return;
        }
    };
    state.live.publish(LiveEvent {
        kind: LiveKind::Dispute,
        id: dispute.id,
        incident_id: None,
        change: change.into(),
        orgs: vec![org.path.clone()],
    });
    // Warnings also reach the people they were delivered to.
    for warning in warnings {
        super::warnings::publish(state, *warning, "raised").await;
    }
}

/// A refused transition as a 409 that says why in Chinese. Nothing changed.
pub fn refused(err: DisputeError) -> Error {
    let zh = match &err {
        DisputeError::NotAllowed { action, from } => {
            let action = match *action {
                "mediated" => "记录调解",
                "resolved" => "登记调解协议",
                "failed" => "登记调解不成",
                "transferred" => "移交",
                "followed up" => "登记回访",
                "closed" => "结案",
                "linked" => "关联警情",
                other => other,
            };
            format!("该纠纷当前状态为「{}」，不能{action}。", from.zh())
        }
        DisputeError::NoSession => "尚无调解记录，请先记录至少一次调解。".into(),
        DisputeError::FollowUpNotPending { id } => {
            format!("回访 {id} 不是该纠纷待进行的回访（可能已登记或已取消）。")
        }
        DisputeError::FollowUpsPending { ids } => format!(
            "仍有未完成的回访（{}），不能结案。",
            ids.iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join("、")
        ),
        DisputeError::SessionInFuture => "调解时间不能晚于当前时间。".into(),
    };
    Error::Conflict {
        zh,
        en: format!("{err}."),
    }
}

/// A case the caller may handle, locked in `tx` for the move.
pub async fn handled(state: &AppState, caller: &Caller, tx: &mut Tx, id: i64) -> Result<Dispute> {
    caller.require(Permission::HandleDisputes)?;
    visible_dispute(state, caller, id).await?;
    tx.lock_dispute(id).await?.ok_or(Error::NotFound)
}

/// Writes a move: the case, its events, the warnings it raised (each a
/// `warning_raised` event and an audit entry) and its own audit entry.
/// Returns the ids of the warnings raised.
pub async fn write_move(
    tx: &mut Tx,
    caller: &Caller,
    moved: &Transition<Dispute, DisputeEvent>,
    warnings: Vec<NewWarning>,
    detail: String,
    now: Timestamp,
) -> Result<Vec<i64>> {
    let dispute = &moved.state;
    tx.update_dispute(dispute, now).await?;
    tx.append_dispute_events(dispute.id, &moved.events).await?;
    let raised = raise(tx, dispute, warnings, caller.actor.clone(), now).await?;
    let audit = caller
        .audit(AuditAction::Update, "dispute")
        .object(dispute.id)
        .detail(detail);
    tx.append_audit(&audit, now).await?;
    Ok(raised)
}

/// What a move writes besides the case: the warnings it raises and what the
/// audit entry says.
pub struct Move {
    pub moved: Transition<Dispute, DisputeEvent>,
    pub warnings: Vec<NewWarning>,
    pub detail: String,
}

impl Move {
    pub fn new(moved: Transition<Dispute, DisputeEvent>, detail: impl Into<String>) -> Move {
        Move {
            moved,
            warnings: Vec::new(),
            detail: detail.into(),
        }
    }

    pub fn raising(mut self, warnings: impl IntoIterator<Item = NewWarning>) -> Move {
        self.warnings.extend(warnings);
        self
    }
}

/// One move of case `id` by `caller`: `decide` gets the locked case, the
/// transaction (for rows of its own, such as a session) and the time, and
/// returns the core's transition; everything else every move does is done
/// here, and `change` is published after the commit. A refusal writes
/// nothing.
#[tracing::instrument(skip_all, err(level = "info"), fields(dispute.id = id, change = change))]
pub async fn apply(
    state: &AppState,
    caller: &Caller,
    id: i64,
    change: &str,
    decide: impl AsyncFnOnce(&mut Tx, Dispute, Timestamp) -> Result<Move>,
) -> Result<Dispute> {
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    let dispute = handled(state, caller, &mut tx, id).await?;
    let Move {
        moved,
        warnings,
        detail,
    } = decide(&mut tx, dispute, now).await?;
    let raised = write_move(&mut tx, caller, &moved, warnings, detail, now).await?;
    tx.commit().await?;
    publish(state, &moved.state, change, &raised).await;
    Ok(moved.state)
}
