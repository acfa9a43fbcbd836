//! One way to move a record: every move of a dispute, an incident or a
//! work order takes the same steps, written once in [`apply`] — the time, a
//! transaction, the record locked, the core's transition (`decide`, given
//! the locked record), the record written with its events, the audit entry,
//! the commit, and only then the live event. A refusal anywhere writes
//! nothing.
//!
//! Only services open transactions; a way in (`api`, `pages`, `adapters`)
//! calls the record's module, which checks the caller's permission and
//! jurisdiction first — they depend on the action (the originator confirms
//! a work order, its owner handles it), not only on the record — and then
//! calls [`apply`] with the transition.

use std::future::Future;

use fengqiao_core::audit::AuditAction;
use fengqiao_core::Timestamp;
use fengqiao_store::Tx;

use super::access::Caller;
use super::Result;
use crate::state::AppState;

/// A record the core moves by transitions, as [`apply`] writes it.
pub trait Record {
    /// The record's name in the audit log.
    const AUDITED_AS: &'static str;
    /// The record as a move finds it, locked in the move's transaction.
    type Locked: Send;
    /// What a move made of it: the new state with its events, and what
    /// else the move writes or tells with them.
    type Moved: Send + Sync;
    /// What writing the move leaves to publish (the warnings it raised).
    type Written: Send;

    /// Locks the record `id` names for the move; 404 when it is gone.
    fn lock(tx: &mut Tx, id: i64) -> impl Future<Output = Result<Self::Locked>> + Send;

    /// The audit entry's object and what it says of the move.
    fn audited(moved: &Self::Moved) -> (i64, String);

    /// Writes the moved record and its events.
    fn write(
        tx: &mut Tx,
        caller: &Caller,
        moved: &Self::Moved,
        now: Timestamp,
    ) -> impl Future<Output = Result<Self::Written>> + Send;

    /// After the commit: tells those who see the record what changed (the
    /// move names it). A failure here is logged: the move is made.
    fn publish(
        state: &AppState,
        moved: &Self::Moved,
        written: Self::Written,
    ) -> impl Future<Output = ()> + Send;
}

/// One move of record `id` by `caller`: `decide` gets the locked record,
/// the transaction (for rows of its own, such as a session or the work
/// orders a routing creates) and the time, and returns the move; the
/// record, its events and the audit entry are written, committed, and the
/// change is published.
pub async fn apply<R: Record>(
    state: &AppState,
    caller: &Caller,
    id: i64,
    decide: impl AsyncFnOnce(&mut Tx, R::Locked, Timestamp) -> Result<R::Moved>,
) -> Result<R::Moved> {
    let moved = apply_unless_made::<R>(state, caller, id, async move |tx, locked, now| {
        decide(tx, locked, now).await.map(Some)
    })
    .await?;
    Ok(moved.expect("a move that always writes"))
}

/// [`apply`] for a move `decide` may find already made (`None`: the same
/// idempotency key used by a request that committed first): then the
/// transaction rolls back and nothing is written or published.
#[tracing::instrument(skip_all, err(level = "info"), fields(record = R::AUDITED_AS, id = id))]
pub async fn apply_unless_made<R: Record>(
    state: &AppState,
    caller: &Caller,
    id: i64,
    decide: impl AsyncFnOnce(&mut Tx, R::Locked, Timestamp) -> Result<Option<R::Moved>>,
) -> Result<Option<R::Moved>> {
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    let locked = R::lock(&mut tx, id).await?;
    let Some(moved) = decide(&mut tx, locked, now).await? else {
        return Ok(None);
    };
    let written = write::<R>(&mut tx, caller, &moved, now).await?;
    tx.commit().await?;
    R::publish(state, &moved, written).await;
    Ok(Some(moved))
}

async fn write<R: Record>(
    tx: &mut Tx,
    caller: &Caller,
    moved: &R::Moved,
    now: Timestamp,
) -> Result<R::Written> {
    let written = R::write(tx, caller, moved, now).await?;
    let (object, detail) = R::audited(moved);
    let audit = caller
        .audit(AuditAction::Update, R::AUDITED_AS)
        .object(object)
        .detail(detail);
    tx.append_audit(&audit, now).await?;
    Ok(written)
}
