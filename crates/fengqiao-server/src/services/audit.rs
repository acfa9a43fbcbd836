//! Reading the audit log: the auditor's alone, and itself audited — the
//! read is recorded before anything is shown.

use fengqiao_core::audit::{AuditAction, AuditEvent, ChainBreak};
use fengqiao_core::role::Permission;
use fengqiao_store::AuditPage;

use super::access::Caller;
use super::Result;
use crate::state::AppState;

/// Writes one audit entry in a transaction of its own: a read that must
/// leave a trace (the log itself, an account's personal data in full).
pub async fn record(state: &AppState, event: &AuditEvent) -> Result<()> {
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    tx.append_audit(event, now).await?;
    tx.commit().await?;
    Ok(())
}

/// The log's entries after `after`, oldest first, at most `limit`. The top
/// of the tree sees everything, including entries of no organisation
/// (commands, unknown accounts); below it, one's own subtree.
pub async fn entries(
    state: &AppState,
    caller: &Caller,
    after: i64,
    limit: i64,
) -> Result<AuditPage> {
    caller.require(Permission::ReadAuditLog)?;
    let read = caller
        .audit(AuditAction::ReadAuditLog, "audit_log")
        .detail(format!("after={after}"));
    record(state, &read).await?;
    Ok(if caller.org.parent_id.is_none() {
        state.store.audit_entries(after, limit).await?
    } else {
        let scope = caller.scope().as_str();
        state
            .store
            .audit_entries_within(scope, after, limit)
            .await?
    })
}

/// Walks the hash chain: the number of entries verified, or the first
/// broken one.
pub async fn verify(state: &AppState, caller: &Caller) -> Result<Result<i64, ChainBreak>> {
    caller.require(Permission::ReadAuditLog)?;
    let read = caller
        .audit(AuditAction::ReadAuditLog, "audit_log")
        .detail("verify");
    record(state, &read).await?;
    Ok(state.store.verify_audit_chain().await?)
}
