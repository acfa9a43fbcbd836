//! Account changes shared by the API and the command line, so both check,
//! encrypt and audit the same way.

use fengqiao_core::audit::{AuditAction, AuditEvent};
use fengqiao_core::error::{FieldError, Reason};
use fengqiao_core::personal::PersonalData;
use fengqiao_core::role::Permission;
use fengqiao_core::role::Roles;
use fengqiao_core::user::{Password, Username};
use fengqiao_store::{NewUser, StoreError, StoredUser};

use super::access::Caller;
use super::{Error, Result};
use crate::state::AppState;

/// A checked request for a new account.
pub struct NewAccount {
    pub username: Username,
    pub password: Password,
    pub org_id: i64,
    pub roles: Roles,
    pub full_name: Option<PersonalData>,
    pub phone: Option<PersonalData>,
}

/// Creates the account with its personal data encrypted, and audits it as
/// `by` (an event naming the actor and source). Returns the new id.
pub async fn create(state: &AppState, account: NewAccount, by: AuditEvent) -> Result<i64> {
    let hashing = state.hashing.clone();
    let password = account.password;
    let password_hash = tokio::task::spawn_blocking(move || hashing.hash(&password))
        .await
        .map_err(|e| Error::Internal(e.to_string()))?;
    let cipher = &state.cipher;
    let new = NewUser {
        username: account.username,
        org_id: account.org_id,
        roles: account.roles,
        password_hash,
        full_name: account.full_name.as_ref().map(|v| cipher.encrypt(v)),
        phone: account.phone.as_ref().map(|v| cipher.encrypt(v)),
        phone_index: account.phone.as_ref().map(|v| cipher.blind_index(v)),
    };
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    let id = tx.insert_user(&new, now).await.map_err(|e| match e {
        StoreError::Duplicate(_) => {
            Error::field(FieldError::new("username", Reason::AlreadyExists))
        }
        other => other.into(),
    })?;
    let mut event = by.object(id);
    event.action = AuditAction::Create;
    event.object_type = "user";
    tx.append_audit(&event, now).await?;
    tx.commit().await?;
    Ok(id)
}

/// Sets a new password, ending the account's sessions and lifting a lock.
pub async fn set_password(
    state: &AppState,
    user_id: i64,
    password: Password,
    by: AuditEvent,
) -> Result<()> {
    let hashing = state.hashing.clone();
    let hash = tokio::task::spawn_blocking(move || hashing.hash(&password))
        .await
        .map_err(|e| Error::Internal(e.to_string()))?;
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    tx.set_password_hash(user_id, &hash, now).await?;
    let mut event = by.object(user_id);
    event.action = AuditAction::PasswordReset;
    event.object_type = "user";
    tx.append_audit(&event, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Sets an account's roles and/or disables it (which ends its sessions),
/// each audited, in one transaction; the caller's checks (its own account,
/// the jurisdiction) are the entry point's. Returns the account as it is
/// now.
pub async fn change(
    state: &AppState,
    caller: &Caller,
    user_id: i64,
    roles: Option<&Roles>,
    disable: bool,
) -> Result<StoredUser> {
    if roles.is_some() {
        caller.require(Permission::AssignRoles)?;
    }
    if disable {
        caller.require(Permission::ManageUsers)?;
    }
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    if let Some(roles) = roles {
        tx.set_roles(user_id, roles, now).await?;
        let event = caller
            .audit(AuditAction::RolesChanged, "user")
            .object(user_id)
            .detail(roles.to_list());
        tx.append_audit(&event, now).await?;
    }
    if disable {
        tx.disable_user(user_id, now).await?;
        tx.append_audit(
            &caller.audit(AuditAction::Disable, "user").object(user_id),
            now,
        )
        .await?;
    }
    tx.commit().await?;
    state.store.user(user_id).await?.ok_or(Error::NotFound)
}

/// Lifts the lock that failed sign-ins put on an account, audited.
pub async fn unlock(state: &AppState, caller: &Caller, user_id: i64) -> Result<StoredUser> {
    caller.require(Permission::UnlockUsers)?;
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    tx.unlock_user(user_id, now).await?;
    tx.append_audit(
        &caller
            .audit(AuditAction::AccountUnlocked, "user")
            .object(user_id),
        now,
    )
    .await?;
    tx.commit().await?;
    state.store.user(user_id).await?.ok_or(Error::NotFound)
}
