//! Units (警力), their crews, their tracks and their timelines. The core
//! decides every status change (`fengqiao_core::unit`); this module stores
//! what it returns in the caller's transaction, and `lock_unit` keeps a
//! unit's row for that transaction so one unit is never given to two
//! incidents.

use std::collections::BTreeMap;

use fengqiao_core::geo::Bounds;
use fengqiao_core::org::OrgPath;
use fengqiao_core::timeline::TimelineEvent;
use fengqiao_core::unit::{CallSign, Position, Unit, UnitEvent, UnitKind, UnitStatus};
use fengqiao_core::Timestamp;
use sqlx::any::AnyRow;

use crate::incidents::event_json;
use crate::rows::{corrupt, placeholders, ROWS_PER_STATEMENT};
use crate::{bind_double, duplicate_as, get, Result, Store, Tx};

const COLUMNS: &str = "u.id, u.org_id, u.call_sign, u.kind, u.status, u.status_since,
    u.incident_id, u.lat, u.lon, u.position_at";

fn unit_from_row(row: &AnyRow) -> Result<Unit> {
    let kind: String = get(row, "kind")?;
    let status: String = get(row, "status")?;
    let call_sign: String = get(row, "call_sign")?;
    let lat: Option<f64> = get(row, "lat")?;
    let lon: Option<f64> = get(row, "lon")?;
    let position = match (lat, lon) {
        (Some(lat), Some(lon)) => {
            Some(Position::parse(lat, lon).map_err(|_| corrupt("position", (lat, lon)))?)
        }
        _ => None,
    };
    Ok(Unit {
        id: get(row, "id")?,
        org_id: get(row, "org_id")?,
        call_sign: CallSign::parse(&call_sign).map_err(|_| corrupt("call_sign", &call_sign))?,
        kind: UnitKind::parse(&kind).map_err(|_| corrupt("kind", &kind))?,
        status: UnitStatus::parse(&status).map_err(|_| corrupt("status", &status))?,
        status_since: Timestamp(get(row, "status_since")?),
        incident_id: get(row, "incident_id")?,
        position,
        position_at: get::<Option<i64>>(row, "position_at")?.map(Timestamp),
    })
}

/// A new unit, checked by the core's parsers.
#[derive(Debug, Clone)]
pub struct NewUnit {
    pub org_id: i64,
    pub call_sign: CallSign,
    pub kind: UnitKind,
}

/// One reported position of a unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PositionReport {
    pub unit_id: i64,
    pub at: Timestamp,
    pub position: Position,
}

/// An entry of a unit's timeline, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitEntry {
    pub at: Timestamp,
    pub actor: String,
    pub incident_id: Option<i64>,
    pub event: serde_json::Value,
}

impl Store {
    pub async fn unit(&self, id: i64) -> Result<Option<Unit>> {
        let sql = format!("SELECT {COLUMNS} FROM units u WHERE u.id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(self.reader())
            .await?;
        row.as_ref().map(unit_from_row).transpose()
    }

    /// The units of organisations whose path starts with `scope`, by call
    /// sign; `query` (when not empty) narrows them to call signs that
    /// contain it.
    pub async fn units_within(&self, scope: &str, query: &str) -> Result<Vec<Unit>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM units u JOIN organisations o ON o.id = u.org_id
             WHERE o.path LIKE $1 || '%' AND ($2 = '' OR u.call_sign LIKE '%' || $2 || '%')
             ORDER BY u.org_id, u.call_sign"
        );
        let rows = sqlx::query(&sql)
            .bind(scope)
            .bind(query)
            .fetch_all(self.reader())
            .await?;
        rows.iter().map(unit_from_row).collect()
    }

    /// The available units of these organisations that have a position.
    pub async fn available_units(&self, org_ids: &[i64]) -> Result<Vec<Unit>> {
        if org_ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {COLUMNS} FROM units u
             WHERE u.org_id IN {} AND u.status = 'available' AND u.lat IS NOT NULL",
            placeholders(1, org_ids.len())
        );
        let mut query = sqlx::query(&sql);
        for id in org_ids {
            query = query.bind(*id);
        }
        let rows = query.fetch_all(self.reader()).await?;
        rows.iter().map(unit_from_row).collect()
    }

    /// [`available_units`](Self::available_units) standing within
    /// `bounds`: the database drops the far ones before they are read, the
    /// rows being most of the cost of ranking a war zone's units.
    pub async fn available_units_within(
        &self,
        org_ids: &[i64],
        bounds: &Bounds,
    ) -> Result<Vec<Unit>> {
        if org_ids.is_empty() {
            return Ok(Vec::new());
        }
        let n = org_ids.len();
        let sql = format!(
            "SELECT {COLUMNS} FROM units u
             WHERE u.org_id IN {} AND u.status = 'available'
             AND u.lat BETWEEN ${} AND ${} AND u.lon BETWEEN ${} AND ${}",
            placeholders(1, n),
            n + 1,
            n + 2,
            n + 3,
            n + 4
        );
        let mut query = sqlx::query(&sql);
        for id in org_ids {
            query = query.bind(*id);
        }
        for edge in [bounds.south, bounds.north, bounds.west, bounds.east] {
            query = bind_double(query, Some(edge));
        }
        let rows = query.fetch_all(self.reader()).await?;
        rows.iter().map(unit_from_row).collect()
    }

    /// The path of each unit's organisation, for the units of `ids` that
    /// exist.
    pub async fn unit_org_paths(&self, ids: &[i64]) -> Result<BTreeMap<i64, OrgPath>> {
        let mut paths = BTreeMap::new();
        for chunk in ids.chunks(500) {
            let sql = format!(
                "SELECT u.id, o.path FROM units u JOIN organisations o ON o.id = u.org_id
                 WHERE u.id IN {}",
                placeholders(1, chunk.len())
            );
            let mut query = sqlx::query(&sql);
            for id in chunk {
                query = query.bind(*id);
            }
            for row in query.fetch_all(self.reader()).await? {
                paths.insert(get(&row, "id")?, OrgPath::from_stored(get(&row, "path")?));
            }
        }
        Ok(paths)
    }

    /// The units assigned to an incident now.
    pub async fn units_on(&self, incident_id: i64) -> Result<Vec<Unit>> {
        let sql = format!("SELECT {COLUMNS} FROM units u WHERE u.incident_id = $1 ORDER BY u.id");
        let rows = sqlx::query(&sql)
            .bind(incident_id)
            .fetch_all(self.reader())
            .await?;
        rows.iter().map(unit_from_row).collect()
    }

    /// The unit whose crew `user_id` is on, if any.
    pub async fn unit_of_user(&self, user_id: i64) -> Result<Option<Unit>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM units u JOIN unit_crew c ON c.unit_id = u.id
             WHERE c.user_id = $1"
        );
        let row = sqlx::query(&sql)
            .bind(user_id)
            .fetch_optional(self.reader())
            .await?;
        row.as_ref().map(unit_from_row).transpose()
    }

    /// The accounts on a unit's crew.
    pub async fn crew(&self, unit_id: i64) -> Result<Vec<i64>> {
        let rows: Vec<(i64,)> =
            sqlx::query_as("SELECT user_id FROM unit_crew WHERE unit_id = $1 ORDER BY user_id")
                .bind(unit_id)
                .fetch_all(self.reader())
                .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// A unit's timeline, oldest first.
    pub async fn unit_timeline(&self, unit_id: i64) -> Result<Vec<UnitEntry>> {
        let rows = sqlx::query(
            "SELECT at, actor, incident_id, event FROM unit_events WHERE unit_id = $1
             ORDER BY at, id",
        )
        .bind(unit_id)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|row| {
                let event: String = get(row, "event")?;
                Ok(UnitEntry {
                    at: Timestamp(get(row, "at")?),
                    actor: get(row, "actor")?,
                    incident_id: get(row, "incident_id")?,
                    event: serde_json::from_str(&event).map_err(|_| corrupt("event", &event))?,
                })
            })
            .collect()
    }

    /// The positions a unit reported in `[from, to)`, oldest first.
    pub async fn unit_track(
        &self,
        unit_id: i64,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<PositionReport>> {
        let rows: Vec<(i64, f64, f64)> = sqlx::query_as(
            "SELECT at, lat, lon FROM unit_positions WHERE unit_id = $1 AND at >= $2 AND at < $3
             ORDER BY at",
        )
        .bind(unit_id)
        .bind(from.millis())
        .bind(to.millis())
        .fetch_all(self.reader())
        .await?;
        rows.into_iter()
            .map(|(at, lat, lon)| {
                Ok(PositionReport {
                    unit_id,
                    at: Timestamp(at),
                    position: Position::parse(lat, lon)
                        .map_err(|_| corrupt("position", (lat, lon)))?,
                })
            })
            .collect()
    }
}

/// Binds `(unit_id, at, lat, lon)` for each report, in order.
fn bind_reports<'q>(
    mut query: crate::AnyQuery<'q>,
    reports: impl Iterator<Item = &'q PositionReport>,
) -> crate::AnyQuery<'q> {
    for report in reports {
        query = query.bind(report.unit_id).bind(report.at.millis());
        query = bind_double(query, Some(report.position.point().lat()));
        query = bind_double(query, Some(report.position.point().lon()));
    }
    query
}

impl Tx {
    pub async fn insert_unit(&mut self, unit: &NewUnit, now: Timestamp) -> Result<i64> {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO units (org_id, call_sign, kind, status, status_since, created_at)
             VALUES ($1, $2, $3, 'available', $4, $4) RETURNING id",
        )
        .bind(unit.org_id)
        .bind(unit.call_sign.as_str())
        .bind(unit.kind.as_str())
        .bind(now.millis())
        .fetch_one(self.conn())
        .await
        .map_err(duplicate_as("call_sign"))?;
        Ok(id)
    }

    /// The unit, read inside this transaction and kept from other writers
    /// until it ends. Lock the incident first, then its units in id order.
    pub async fn lock_unit(&mut self, id: i64) -> Result<Option<Unit>> {
        let lock = self.lock_clause();
        let sql = format!("SELECT {COLUMNS} FROM units u WHERE u.id = $1{lock}");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(self.conn())
            .await?;
        row.as_ref().map(unit_from_row).transpose()
    }

    /// Writes what a unit transition changed, and its events.
    pub async fn update_unit(
        &mut self,
        unit: &Unit,
        events: &[TimelineEvent<UnitEvent>],
    ) -> Result<()> {
        sqlx::query(
            "UPDATE units SET status = $2, status_since = $3, incident_id = $4 WHERE id = $1",
        )
        .bind(unit.id)
        .bind(unit.status.as_str())
        .bind(unit.status_since.millis())
        .bind(unit.incident_id)
        .execute(self.conn())
        .await?;
        if events.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "INSERT INTO unit_events (unit_id, incident_id, at, actor, event) VALUES {}",
            placeholders(events.len(), 5)
        );
        let mut query = sqlx::query(&sql);
        for event in events {
            let incident = match &event.event {
                UnitEvent::Dispatched { incident_id }
                | UnitEvent::EnRoute { incident_id }
                | UnitEvent::Arrived { incident_id }
                | UnitEvent::Transporting { incident_id }
                | UnitEvent::Cleared { incident_id } => Some(*incident_id),
                UnitEvent::OutOfService | UnitEvent::BackInService => None,
            };
            query = query
                .bind(unit.id)
                .bind(incident)
                .bind(event.at.millis())
                .bind(event.actor.to_stored())
                .bind(event_json(event)?);
        }
        query.execute(self.conn()).await?;
        Ok(())
    }

    /// Puts these accounts on the unit's crew, taking each off any other
    /// unit, and takes off whoever else was on it.
    pub async fn set_crew(&mut self, unit_id: i64, user_ids: &[i64]) -> Result<()> {
        sqlx::query("DELETE FROM unit_crew WHERE unit_id = $1")
            .bind(unit_id)
            .execute(self.conn())
            .await?;
        for user_id in user_ids {
            sqlx::query("DELETE FROM unit_crew WHERE user_id = $1")
                .bind(*user_id)
                .execute(self.conn())
                .await?;
            sqlx::query("INSERT INTO unit_crew (user_id, unit_id) VALUES ($1, $2)")
                .bind(*user_id)
                .bind(unit_id)
                .execute(self.conn())
                .await?;
        }
        Ok(())
    }

    /// Stores reported positions on the track (a repeat of the same unit
    /// and time is stored once) and moves each unit's last position to its
    /// newest report, never back to an older one. A few statements per
    /// [`ROWS_PER_STATEMENT`] reports.
    pub async fn record_positions(&mut self, reports: &[PositionReport]) -> Result<()> {
        for chunk in reports.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO unit_positions (unit_id, at, lat, lon) VALUES {}
                 ON CONFLICT (unit_id, at) DO NOTHING",
                placeholders(chunk.len(), 4)
            );
            bind_reports(sqlx::query(&sql), chunk.iter())
                .execute(self.conn())
                .await?;
        }
        // The newest report of each unit in this batch.
        let mut newest: BTreeMap<i64, &PositionReport> = BTreeMap::new();
        for report in reports {
            let kept = newest.entry(report.unit_id).or_insert(report);
            if kept.at < report.at {
                *kept = report;
            }
        }
        let newest: Vec<&PositionReport> = newest.into_values().collect();
        for chunk in newest.chunks(ROWS_PER_STATEMENT) {
            let values = placeholders(chunk.len(), 4);
            let sql = match self.backend {
                crate::Backend::Sqlite => format!(
                    "WITH v(id, at, lat, lon) AS (VALUES {values})
                     UPDATE units SET lat = v.lat, lon = v.lon, position_at = v.at FROM v
                     WHERE units.id = v.id AND (units.position_at IS NULL OR units.position_at < v.at)"
                ),
                crate::Backend::Postgres => format!(
                    "UPDATE units SET lat = v.lat, lon = v.lon, position_at = v.at
                     FROM (VALUES {values}) AS v(id, at, lat, lon)
                     WHERE units.id = v.id AND (units.position_at IS NULL OR units.position_at < v.at)"
                ),
            };
            bind_reports(sqlx::query(&sql), chunk.iter().copied())
                .execute(self.conn())
                .await?;
        }
        Ok(())
    }

    /// Thins track points older than `before` to the first of every
    /// `every_ms` of each unit (buckets counted from the epoch, so a run
    /// repeated keeps what the first kept); the count removed.
    pub async fn thin_positions_before(&mut self, before: Timestamp, every_ms: i64) -> Result<u64> {
        let done = sqlx::query(
            "DELETE FROM unit_positions WHERE at < $1 AND EXISTS (
                 SELECT 1 FROM unit_positions earlier
                 WHERE earlier.unit_id = unit_positions.unit_id
                   AND earlier.at < unit_positions.at
                   AND earlier.at >= unit_positions.at - unit_positions.at % $2)",
        )
        .bind(before.millis())
        .bind(every_ms)
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected())
    }

    /// Forgets track points older than `before` (the end of the retention).
    pub async fn forget_positions_before(&mut self, before: Timestamp) -> Result<u64> {
        let done = sqlx::query("DELETE FROM unit_positions WHERE at < $1")
            .bind(before.millis())
            .execute(self.conn())
            .await?;
        Ok(done.rows_affected())
    }
}
