//! 站情概览: yesterday and the last 30 days of an organisation at a glance.
//!
//! The page (`pages::overview`) and the statistics API (`/api/v1/figures`,
//! `/api/v1/figures/prevention`, `/api/v1/figures/overview`) read one
//! [`Overview`] gathered here from the core's computations, so every figure
//! on the page is the API's figure for the same period.

use std::collections::BTreeMap;

use fengqiao_core::china_time::ChinaDay;
use fengqiao_core::figures::{self, Figures, PreventionFigures};
use fengqiao_core::org::Organisation;
use fengqiao_core::Timestamp;
use fengqiao_store::{BuildingPoint, Narrowing};

use super::Result;
use crate::state::AppState;

/// Everything the overview shows of one organisation and period.
pub struct Overview {
    pub org: Organisation,
    pub from: Timestamp,
    pub to: Timestamp,
    pub figures: Figures,
    pub prevention: PreventionFigures,
    /// The owners of overdue work orders → their names.
    pub departments: BTreeMap<i64, String>,
    /// The buildings with incidents of the period.
    pub buildings: BTreeMap<i64, BuildingPoint>,
}

impl Overview {
    /// Buildings with at least one repeat call in the period.
    pub fn repeat_addresses(&self) -> u64 {
        self.figures.repeats_by_building.len() as u64
    }

    /// Incidents placed at no registry building (so on no map).
    pub fn incidents_without_building(&self) -> u64 {
        self.figures.incidents - self.figures.by_building.values().sum::<u64>()
    }
}

/// Reads the facts of `org`'s subtree for [`from`, `to`) with a few plain
/// queries (no query per record: the demo's 30 days are tens of thousands
/// of rows) and computes the figures as the statistics API does.
pub async fn gather(
    state: &AppState,
    org: Organisation,
    from: Timestamp,
    to: Timestamp,
) -> Result<Overview> {
    let now = state.clock.now();
    let scope = org.path.as_str();
    let facts = state.store.figure_facts(scope, from, to).await?;
    let figures = figures::compute(&facts, now);
    let prevention = state
        .store
        .prevention_facts(scope, from, to, Narrowing::default())
        .await?;
    let prevention = figures::compute_prevention(&prevention, now);
    let mut departments = BTreeMap::new();
    // A handful of departments, one read each.
    for &owner in figures.overdue_by_owner.keys() {
        let name = state
            .store
            .organisation(owner)
            .await?
            .map_or_else(|| format!("#{owner}"), |o| o.name);
        departments.insert(owner, name);
    }
    let ids: Vec<i64> = figures.by_building.keys().copied().collect();
    let buildings = state
        .store
        .building_points(&ids)
        .await?
        .into_iter()
        .map(|b| (b.id, b))
        .collect();
    Ok(Overview {
        org,
        from,
        to,
        figures,
        prevention,
        departments,
        buildings,
    })
}

/// A period the page shows: yesterday, or the 30 China days before today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub key: &'static str,
    pub from: Timestamp,
    pub to: Timestamp,
}

/// Yesterday and the last 30 days, as whole days in Beijing time ending
/// where today begins, so the figures of a morning stay put all day.
pub fn periods(now: Timestamp) -> [Period; 2] {
    let today = ChinaDay::of(now);
    [
        Period {
            key: "yesterday",
            from: today.plus_days(-1).starts_at(),
            to: today.starts_at(),
        },
        Period {
            key: "last_30_days",
            from: today.plus_days(-30).starts_at(),
            to: today.starts_at(),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_periods_are_whole_beijing_days_before_today() {
        // 2025-11-25 00:30 Beijing time is 2025-11-24 16:30 UTC.
        let now = Timestamp(1_764_001_800_000);
        let [yesterday, month] = periods(now);
        let midnight = Timestamp(1_764_000_000_000); // 2025-11-25 00:00 +08:00
        assert_eq!(yesterday.to, midnight);
        assert_eq!(yesterday.from, Timestamp(midnight.0 - 86_400_000));
        assert_eq!(month.to, midnight);
        assert_eq!(month.from, Timestamp(midnight.0 - 30 * 86_400_000));
    }
}
