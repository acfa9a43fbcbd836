//! API tokens for machine clients, issued and revoked by an administrator;
//! only the secret's hash is stored, and the secret is shown once.

use std::collections::BTreeSet;

use fengqiao_core::audit::AuditAction;
use fengqiao_core::role::Permission;
use fengqiao_core::secret::{self, API_TOKEN_PREFIX};
use fengqiao_store::ApiToken;

use super::access::Caller;
use super::organisations::visible;
use super::{Error, Result};
use crate::state::AppState;

/// Issues a token of an organisation in the caller's jurisdiction (checked
/// by the entry point with the other fields), audited. Returns it with its
/// secret, which is never stored.
pub async fn issue(
    state: &AppState,
    caller: &Caller,
    name: &str,
    org_id: i64,
    permissions: &BTreeSet<Permission>,
) -> Result<(ApiToken, String)> {
    caller.require(Permission::ManageTokens)?;
    let secret = secret::generate(API_TOKEN_PREFIX);
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    let id = tx
        .insert_api_token(
            name,
            org_id,
            permissions,
            &secret.hash,
            &caller.actor.to_stored(),
            now,
        )
        .await?;
    tx.append_audit(
        &caller
            .audit(AuditAction::TokenCreated, "api_token")
            .object(id),
        now,
    )
    .await?;
    tx.commit().await?;
    let token = state.store.api_token(id).await?.ok_or(Error::NotFound)?;
    Ok((token, secret.text))
}

/// Revokes a token of the caller's jurisdiction at once; revoking it again
/// changes nothing.
pub async fn revoke(state: &AppState, caller: &Caller, token_id: i64) -> Result<()> {
    caller.require(Permission::ManageTokens)?;
    let token = state
        .store
        .api_token(token_id)
        .await?
        .ok_or(Error::NotFound)?;
    visible(state, caller, token.org_id).await?;
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    if tx.revoke_api_token(token_id, now).await? {
        tx.append_audit(
            &caller
                .audit(AuditAction::TokenRevoked, "api_token")
                .object(token_id),
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
