//! The warnings a dispute case raises (民转刑预警): threat or violence words in
//! a mediation session (`threat_words::on_session`, raised with the
//! session), a failed or broken agreement (raised with the move), and,
//! scanned by the deadline job with the injected clock, a high-risk case not
//! mediated in time and a follow-up visit missed. Every one attaches to the
//! case — never to a party — and its evidence says why.
//!
//! The scan keeps no state of its own: a flag on the case or the visit
//! says it was warned, written only if still unset, so a scan after a
//! restart catches up and nothing is warned twice.

use fengqiao_core::audit::Actor;
use fengqiao_core::warning::NewWarning;
use fengqiao_store::StoreError;

use crate::state::AppState;

/// Cases loaded per scan; the job scans again while batches are full.
const BATCH: i64 = 500;

/// Warns about every high-risk case not mediated by its deadline and every
/// follow-up visit missed by now, each case in its own transaction.
/// Returns how many cases were flagged (a flagged case whose rule already
/// has an open warning adds no second one).
pub async fn warn_due(state: &AppState) -> Result<usize, StoreError> {
    let mut raised = 0;
    loop {
        let due = state
            .store
            .disputes_unmediated(state.clock.now(), BATCH)
            .await?;
        let mut progress = 0;
        for id in &due {
            progress += warn_one(state, *id).await?;
        }
        raised += progress;
        if (due.len() as i64) < BATCH || progress == 0 {
            break;
        }
    }
    loop {
        let due = state
            .store
            .disputes_with_missed_follow_ups(state.clock.now(), BATCH)
            .await?;
        let mut progress = 0;
        for id in &due {
            progress += warn_one(state, *id).await?;
        }
        raised += progress;
        if (due.len() as i64) < BATCH || progress == 0 {
            break;
        }
    }
    Ok(raised)
}

/// One case: its overdue mediation and its missed visits, flagged and
/// warned in one transaction. A flag someone else set first is left alone.
async fn warn_one(state: &AppState, id: i64) -> Result<usize, StoreError> {
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    let Some(dispute) = tx.lock_dispute(id).await? else {
        return Ok(0);
    };
    let mut warnings = Vec::new();
    if let Some(warning) = NewWarning::dispute_unmediated(&dispute, now) {
        if tx.mark_mediation_warned(dispute.id, now).await? {
            warnings.push(warning);
        }
    }
    // One open warning per case and rule: a second missed visit while the
    // first is open is flagged and adds nothing.
    for follow_up in dispute.missed_follow_ups(now) {
        if tx.mark_follow_up_warned(follow_up.id).await? {
            warnings.push(NewWarning::follow_up_missed(&dispute, follow_up, now));
        }
    }
    let flagged = !warnings.is_empty();
    let raised =
        crate::services::disputes::raise(&mut tx, &dispute, warnings, Actor::System, now).await?;
    tx.commit().await?;
    if flagged {
        tracing::info!(
            dispute = dispute.id,
            warnings = raised.len(),
            "dispute deadlines warned"
        );
    }
    publish(state, &raised).await;
    Ok(usize::from(flagged).max(raised.len()))
}

/// After the commit: to the station and to whom each warning was delivered
/// (the grid's officer and grid workers); a lookup that fails loses a live
/// message, never the warning.
async fn publish(state: &AppState, warnings: &[i64]) {
    for warning in warnings {
        crate::services::warnings::publish(state, *warning, "raised").await;
    }
}
