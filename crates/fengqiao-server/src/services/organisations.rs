//! Organisations within a caller's jurisdiction.

use fengqiao_core::org::Organisation;

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
