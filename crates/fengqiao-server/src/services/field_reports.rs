//! e治采: reading a field report within the caller's reach.

use fengqiao_core::field_report::FieldReport;

use super::access::Caller;
use super::{Error, Result};
use crate::state::AppState;

/// A report the caller may see, or 404 as if it did not exist: within the
/// caller's subtree by its station, filed by the caller, or of a grid the
/// caller is the community officer of.
pub async fn visible_report(state: &AppState, caller: &Caller, id: i64) -> Result<FieldReport> {
    let report = state.store.field_report(id).await?.ok_or(Error::NotFound)?;
    let me = caller.user.as_ref().map(|u| u.id);
    if me == Some(report.reporter_user_id) {
        return Ok(report);
    }
    if let Some(station) = state
        .store
        .organisation(report.place.station_org_id)
        .await?
    {
        if caller.sees(&station.path) {
            return Ok(report);
        }
    }
    if let Some(grid_id) = report.place.grid_id {
        let grid = state.store.grid(grid_id).await?;
        if me.is_some() && grid.is_some_and(|g| g.officer_user_id == me) {
            return Ok(report);
        }
    }
    Err(Error::NotFound)
}
