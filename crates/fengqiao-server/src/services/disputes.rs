//! 矛盾纠纷: reading a case within the caller's jurisdiction, and raising
//! the warnings a case's move calls for on its timeline.

use fengqiao_core::audit::{Actor, AuditAction, AuditEvent};
use fengqiao_core::dispute::{Dispute, DisputeEvent};
use fengqiao_core::incident::TimelineEvent;
use fengqiao_core::org::Organisation;
use fengqiao_core::warning::NewWarning;
use fengqiao_core::Timestamp;
use fengqiao_store::{DisputeRecord, StoreError, Tx};

use super::access::Caller;
use super::{Error, Result};
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
