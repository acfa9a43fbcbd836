//! 预警: what a caller may do with the warnings delivered to them or raised
//! in their jurisdiction. The core decides every move
//! (`fengqiao_core::warning`); a move that lost a race to another caller is
//! refused like a move from the wrong state, and changes nothing. Every
//! change is published live to the organisation that must act and to
//! everyone the warning was delivered to.

use fengqiao_core::audit::AuditAction;
use fengqiao_core::role::Permission;
use fengqiao_core::warning::{ActionRecord, Recipient, Warning, WarningError, WarningStatus};

use super::access::Caller;
use super::{Error, Result};
use crate::live::{LiveEvent, LiveKind};
use crate::state::AppState;

const LIST_LIMIT: i64 = 200;

/// The warnings the caller sees (their jurisdiction's and those delivered
/// to them), newest first, for the API and the board page.
pub async fn visible_warnings(
    state: &AppState,
    caller: &Caller,
    status: Option<WarningStatus>,
) -> Result<Vec<Warning>> {
    Ok(state
        .store
        .warnings_visible_to(
            caller.scope().as_str(),
            caller.user.as_ref().map(|u| u.id),
            status,
            LIST_LIMIT,
        )
        .await?)
}

/// 签收 for the API and the board page.
#[tracing::instrument(skip_all, err(level = "info"), fields(warning.id = warning_id))]
pub async fn acknowledge_warning(
    state: &AppState,
    caller: &Caller,
    warning_id: i64,
) -> Result<Warning> {
    caller.require(Permission::HandleWarnings)?;
    let (warning, _) = visible_warning(state, caller, warning_id).await?;
    let now = state.clock.now();
    let next = warning
        .acknowledge(caller.actor.clone(), now)
        .map_err(refused)?;
    store_move(state, caller, &warning, next, "acknowledged").await
}

/// 办结 for the API and the board page: without an action and a note it is
/// a validation error and nothing changes.
#[tracing::instrument(skip_all, err(level = "info"), fields(warning.id = warning_id))]
pub async fn close_warning(
    state: &AppState,
    caller: &Caller,
    warning_id: i64,
    action: Option<&str>,
    note: Option<&str>,
) -> Result<Warning> {
    caller.require(Permission::HandleWarnings)?;
    let (warning, _) = visible_warning(state, caller, warning_id).await?;
    let record = ActionRecord::parse(action, note).map_err(Error::Validation)?;
    let now = state.clock.now();
    let next = warning
        .close(record, caller.actor.clone(), now)
        .map_err(refused)?;
    store_move(state, caller, &warning, next, "closed").await
}

/// A 409 naming the state the warning is in. Nothing changed.
fn refused(err: WarningError) -> Error {
    let WarningError::NotAllowed { action, from } = &err;
    let state = match from {
        WarningStatus::Open => "待签收",
        WarningStatus::Acknowledged => "已签收",
        WarningStatus::Closed => "已办结",
    };
    let zh = match (*action, from) {
        ("closed", WarningStatus::Open) => format!("预警当前{state}，不能办结：请先签收。"),
        ("closed", _) => format!("预警{state}，不能再办结。"),
        (_, _) => format!("预警{state}，不能再签收。"),
    };
    Error::Conflict {
        zh,
        en: format!("{err}."),
    }
}

/// A warning raised for an organisation in the caller's subtree or
/// delivered to the caller, with its recipients, or
/// 404 as if it did not exist.
pub async fn visible_warning(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> Result<(Warning, Vec<Recipient>)> {
    let warning = state.store.warning(id).await?.ok_or(Error::NotFound)?;
    let org = state
        .store
        .organisation(warning.org_id)
        .await?
        .ok_or(Error::NotFound)?;
    let recipients = state.store.warning_recipients(id).await?;
    let delivered = caller
        .user
        .as_ref()
        .is_some_and(|u| recipients.iter().any(|r| r.user_id == u.id));
    if !caller.sees(&org.path) && !delivered {
        return Err(Error::NotFound);
    }
    Ok((warning, recipients))
}

/// Publishes a change of a warning to the organisation that must act and
/// to everyone it was delivered to, wherever their organisation lies. Call
/// after the commit: a lookup that fails here loses a live message, never
/// the change, so it is logged.
pub async fn publish(state: &AppState, warning_id: i64, change: &str) {
    let found = async {
        let warning = state.store.warning(warning_id).await?;
        let recipients = state.store.warning_recipients(warning_id).await?;
        let org = match &warning {
            Some(w) => state.store.organisation(w.org_id).await?,
            None => None,
        };
        Ok::<_, fengqiao_store::StoreError>((warning, org, recipients))
    };
    let (warning, org, recipients) = match found.await {
        Ok((Some(warning), org, recipients)) => (warning, org, recipients),
        Ok((None, ..)) => return,
        Err(err) => {
            tracing::warn!(error = %err, warning = warning_id, "warning change not published");
            return;
        }
    };
    let mut users: Vec<i64> = recipients.iter().map(|r| r.user_id).collect();
    users.dedup();
    state.live.publish_to(
        LiveEvent {
            kind: LiveKind::Warning,
            id: warning.id,
            incident_id: warning.evidence.incident_id(),
            change: change.into(),
            orgs: org.map(|o| vec![o.path]).unwrap_or_default(),
        },
        users,
    );
}

/// Writes the move with its audit entry, unless someone moved the warning
/// first (then 409 and nothing written), and publishes it.
async fn store_move(
    state: &AppState,
    caller: &Caller,
    before: &Warning,
    after: Warning,
    change: &'static str,
) -> Result<Warning> {
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    if !tx.update_warning(&after, before.status, now).await? {
        return Err(Error::Conflict {
            zh: "预警刚被他人处理，请刷新后重试。".into(),
            en: "The warning was changed meanwhile; reload it and try again.".into(),
        });
    }
    let detail = match &after.action {
        Some(record) => format!("{change} {}", record.action.as_str()),
        None => change.to_owned(),
    };
    let event = caller
        .audit(AuditAction::Update, "warning")
        .object(after.id)
        .detail(detail);
    tx.append_audit(&event, now).await?;
    tx.commit().await?;
    publish(state, after.id, change).await;
    Ok(after)
}
