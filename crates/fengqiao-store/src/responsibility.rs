//! Who answers for a warning's subject (责任网格): the building it concerns,
//! that building's grid, the grid's community officer and grid workers, and
//! the station. Warnings are pushed to these people, and their daily task
//! lists carry the warnings to close. A dispute case is located by its
//! building (`disputes.building_id`) and belongs to its station.

use fengqiao_core::warning::{SubjectKind, WarningSubject};
use sqlx::AnyConnection;

use crate::{Result, Store, Tx};

/// Where a subject lies and who answers for it. Every part may be missing:
/// an incident without a registry address has no building, a building may
/// lie in no grid, a grid may have nobody named yet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Responsibility {
    pub building_id: Option<i64>,
    pub grid_id: Option<i64>,
    /// The grid's community officer (社区民警, `grids.officer_user_id`);
    /// for a dispute case whose grid names none, the case's officer.
    pub officer_user_id: Option<i64>,
    /// The grid's grid workers (网格员), by id; their own organisation need
    /// not be the station.
    pub grid_worker_ids: Vec<i64>,
    /// The station of the subject itself (the incident's, the dispute's),
    /// else the grid's.
    pub station_org_id: Option<i64>,
}

impl Responsibility {
    /// The officer and the grid workers, each once.
    pub fn people(&self) -> Vec<i64> {
        let mut people: Vec<i64> = self.officer_user_id.into_iter().collect();
        for id in &self.grid_worker_ids {
            if !people.contains(id) {
                people.push(*id);
            }
        }
        people
    }
}

impl Store {
    /// Who answers for `subject`; all parts empty when it does not exist.
    pub async fn responsibility(&self, subject: WarningSubject) -> Result<Responsibility> {
        let mut conn = self.reader().acquire().await?;
        responsibility(&mut conn, subject).await
    }
}

impl Tx {
    /// As [`Store::responsibility`], inside the transaction (which may have
    /// just written the subject).
    pub async fn responsibility(&mut self, subject: WarningSubject) -> Result<Responsibility> {
        responsibility(self.conn(), subject).await
    }
}

async fn responsibility(
    conn: &mut AnyConnection,
    subject: WarningSubject,
) -> Result<Responsibility> {
    // The officer a dispute case names answers for it where its building's
    // grid names none.
    let mut case_officer = None;
    // The building and the station the subject itself names.
    let located: Option<(Option<i64>, Option<i64>)> = match subject.kind {
        SubjectKind::Incident => {
            sqlx::query_as("SELECT building_id, station_org_id FROM incidents WHERE id = $1")
                .bind(subject.id)
                .fetch_optional(&mut *conn)
                .await?
        }
        SubjectKind::WorkOrder => {
            sqlx::query_as(
                "SELECT i.building_id, i.station_org_id
                 FROM work_orders w JOIN incidents i ON i.id = w.incident_id
                 WHERE w.id = $1",
            )
            .bind(subject.id)
            .fetch_optional(&mut *conn)
            .await?
        }
        SubjectKind::Address => {
            let id: Option<i64> = sqlx::query_scalar("SELECT id FROM buildings WHERE id = $1")
                .bind(subject.id)
                .fetch_optional(&mut *conn)
                .await?;
            id.map(|id| (Some(id), None))
        }
        SubjectKind::Case => {
            let case: Option<(Option<i64>, i64, Option<i64>)> = sqlx::query_as(
                "SELECT building_id, org_id, officer_user_id FROM disputes WHERE id = $1",
            )
            .bind(subject.id)
            .fetch_optional(&mut *conn)
            .await?;
            case_officer = case.and_then(|(_, _, officer)| officer);
            case.map(|(building, station, _)| (building, Some(station)))
        }
    };
    let Some((building_id, station_org_id)) = located else {
        return Ok(Responsibility::default());
    };
    let mut found = Responsibility {
        building_id,
        station_org_id,
        officer_user_id: case_officer,
        ..Responsibility::default()
    };
    if let Some(building) = building_id {
        found.grid_id = sqlx::query_scalar("SELECT grid_id FROM buildings WHERE id = $1")
            .bind(building)
            .fetch_optional(&mut *conn)
            .await?
            .flatten();
    }
    let Some(grid) = found.grid_id else {
        return Ok(found);
    };
    let row: Option<(Option<i64>, Option<i64>)> =
        sqlx::query_as("SELECT station_org_id, officer_user_id FROM grids WHERE id = $1")
            .bind(grid)
            .fetch_optional(&mut *conn)
            .await?;
    if let Some((grid_station, officer)) = row {
        found.station_org_id = found.station_org_id.or(grid_station);
        found.officer_user_id = officer.or(found.officer_user_id);
    }
    found.grid_worker_ids =
        sqlx::query_scalar("SELECT user_id FROM grid_workers WHERE grid_id = $1 ORDER BY user_id")
            .bind(grid)
            .fetch_all(&mut *conn)
            .await?;
    Ok(found)
}
