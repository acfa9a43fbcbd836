//! Organisations within a caller's jurisdiction.

use fengqiao_core::audit::AuditAction;
use fengqiao_core::org::{NewOrganisation, Organisation};
use fengqiao_core::role::Permission;

use super::access::Caller;
use super::{Error, Result};
use crate::state::AppState;

/// An organisation the caller may see, or 404 as if it did not exist.
pub async fn visible(state: &AppState, caller: &Caller, id: i64) -> Result<Organisation> {
    match state.store.organisation(id).await? {
        Some(org) if caller.sees(&org.path) => Ok(org),
        _ => Err(Error::NotFound),
    }
}

/// The organisation `org_id` names if the caller's jurisdiction holds it
/// (else 404, as for one that does not exist); the caller's own without one.
pub async fn in_jurisdiction(
    state: &AppState,
    caller: &Caller,
    org_id: Option<i64>,
) -> Result<Organisation> {
    match org_id {
        Some(id) => visible(state, caller, id).await,
        None => Ok(caller.org.clone()),
    }
}

/// Adds an organisation below one within the caller's jurisdiction (its
/// fields checked by the entry point), audited.
pub async fn create(
    state: &AppState,
    caller: &Caller,
    new: &NewOrganisation,
) -> Result<Organisation> {
    caller.require(Permission::ManageOrganisations)?;
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    let org = tx.insert_organisation(new, now).await?;
    tx.append_audit(
        &caller
            .audit(AuditAction::Create, "organisation")
            .object(org.id),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(org)
}

/// Writes an organisation's new name and jurisdiction, audited.
pub async fn update(state: &AppState, caller: &Caller, org: &Organisation) -> Result<()> {
    caller.require(Permission::ManageOrganisations)?;
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    tx.update_organisation(org.id, &org.name, &org.division_codes, now)
        .await?;
    tx.append_audit(
        &caller
            .audit(AuditAction::Update, "organisation")
            .object(org.id),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
