//! Bulk writes for generated worlds (`fengqiao gen`): incidents in the
//! state their transitions left them in, with their work orders and
//! timelines, many to a statement and many statements to one transaction.
//! The rows are the ones `insert_incident`, `insert_work_order`,
//! `append_timeline`, `update_incident` and `update_work_order` write, column
//! for column; only the number of round trips differs, because ten million
//! incidents at one round trip per row would take hours.

use fengqiao_core::incident::{Incident, ReceiptDate, TimelineEvent};
use fengqiao_core::work_order::WorkOrder;
use fengqiao_core::Timestamp;
use serde::Serialize;

use crate::incidents::{IncidentExtras, WORK_ORDER_COLUMNS};
use crate::{bind_double, Backend, Result, StoreError, Tx};

/// An incident as its last transition left it, with everything the real
/// path would have written for it.
#[derive(Debug, Clone)]
pub struct BulkIncident {
    pub incident: Incident,
    pub extras: IncidentExtras,
    /// When the last change happened (`updated_at`); `received_at` is
    /// `created_at`, as intake writes it.
    pub updated_at: Timestamp,
    /// Each work order with the time of its last change.
    pub work_orders: Vec<(WorkOrder, Timestamp)>,
    /// The timeline in the order the real path appends it.
    pub events: Vec<BulkEvent>,
}

/// One timeline entry, serialised as `append_timeline` stores it.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkEvent {
    pub work_order_id: Option<i64>,
    pub at: Timestamp,
    pub actor: String,
    pub event: String,
}

impl BulkEvent {
    pub fn of<E: Serialize>(work_order_id: Option<i64>, event: &TimelineEvent<E>) -> Result<Self> {
        Ok(BulkEvent {
            work_order_id,
            at: event.at,
            actor: event.actor.to_stored(),
            event: serde_json::to_string(&event.event)
                .map_err(|e| StoreError::Corrupt(format!("event: {e}")))?,
        })
    }
}

/// Rows a statement carries. Few enough parameters (under 1,000) that
/// sqlx's SQLite binding, which looks each parameter's name up among all of
/// the statement's, stays cheap: at 400 rows (9,200 parameters) that lookup
/// was half of `gen`'s time and the rate fell to ~600 incidents/s.
const ROWS_PER_STATEMENT: usize = 40;

/// `($1, $2, …), (…)` for `rows` rows of `columns` values.
fn placeholders(rows: usize, columns: usize) -> String {
    let mut sql = String::with_capacity(rows * columns * 5);
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for column in 0..columns {
            if column > 0 {
                sql.push_str(", ");
            }
            sql.push('$');
            sql.push_str(&(row * columns + column + 1).to_string());
        }
        sql.push(')');
    }
    sql
}

impl Tx {
    /// `n` new ids of `table` (incidents, work_orders), ascending: with
    /// SQLite's one writer the next free ones, with PostgreSQL drawn from
    /// the identity sequence like every other insert's.
    pub async fn reserve_ids(&mut self, table: &'static str, n: usize) -> Result<Vec<i64>> {
        if n == 0 {
            return Ok(Vec::new());
        }
        match self.backend {
            Backend::Sqlite => {
                let first = self.next_id(table).await?;
                Ok((first..first + n as i64).collect())
            }
            Backend::Postgres => {
                let sql = format!(
                    "SELECT nextval(pg_get_serial_sequence('{table}', 'id'))
                     FROM generate_series(1, $1)"
                );
                let mut ids: Vec<i64> = sqlx::query_scalar(&sql)
                    .bind(n as i64)
                    .fetch_all(self.conn())
                    .await?;
                ids.sort_unstable();
                Ok(ids)
            }
        }
    }

    /// The last receipt sequence of `station_org_id` on `day` (0 before the
    /// first), for a writer that numbers a batch itself.
    pub async fn receipt_sequence(&mut self, station_org_id: i64, day: ReceiptDate) -> Result<u32> {
        let last: Option<i64> = sqlx::query_scalar(
            "SELECT last FROM receipt_sequences WHERE station_org_id = $1 AND day = $2",
        )
        .bind(station_org_id)
        .bind(day.to_string())
        .fetch_optional(self.conn())
        .await?;
        let last = last.unwrap_or(0);
        u32::try_from(last).map_err(|_| StoreError::Corrupt(format!("receipt sequence {last}")))
    }

    /// Sets the last receipt sequences a batch used, never lowering one.
    pub async fn set_receipt_sequences(&mut self, used: &[(i64, ReceiptDate, u32)]) -> Result<()> {
        for chunk in used.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO receipt_sequences (station_org_id, day, last) VALUES {}
                 ON CONFLICT (station_org_id, day) DO UPDATE SET last = CASE
                     WHEN excluded.last > receipt_sequences.last THEN excluded.last
                     ELSE receipt_sequences.last END",
                placeholders(chunk.len(), 3)
            );
            let mut query = sqlx::query(&sql);
            for (station, day, last) in chunk {
                query = query
                    .bind(*station)
                    .bind(day.to_string())
                    .bind(i64::from(*last));
            }
            query.execute(self.conn()).await?;
        }
        Ok(())
    }

    /// Writes `batch`: every incident row, then every work order, then
    /// every timeline entry, each table a few statements of many rows.
    pub async fn insert_incidents_bulk(&mut self, batch: &[BulkIncident]) -> Result<()> {
        for chunk in batch.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO incidents (id, receipt_number, station_org_id, source, received_at,
                     reporter_name, reporter_phone, reporter_phone_index, text, location_text,
                     building_id, community_code, lat, lon, category, category_family, grp,
                     priority, status, owner_org_id, triage_matched, created_at, updated_at)
                 VALUES {}",
                placeholders(chunk.len(), 23)
            );
            let mut query = sqlx::query(&sql);
            for row in chunk {
                let incident = &row.incident;
                let extras = &row.extras;
                let triage = incident.triage.as_ref();
                query = query
                    .bind(incident.id)
                    .bind(incident.receipt.to_string())
                    .bind(incident.station_id)
                    .bind(incident.source.as_str())
                    .bind(incident.received_at.millis())
                    .bind(extras.reporter_name.clone())
                    .bind(extras.reporter_phone.clone())
                    .bind(extras.reporter_phone_index.clone())
                    .bind(incident.text.as_str().to_owned())
                    .bind(incident.location.text.clone())
                    .bind(incident.location.address_id)
                    .bind(extras.community_code.clone());
                query = bind_double(query, incident.location.coordinates.map(|c| c.lat()));
                query = bind_double(query, incident.location.coordinates.map(|c| c.lon()));
                query = query
                    .bind(triage.map(|t| t.category.code.as_str().to_owned()))
                    .bind(triage.map(|t| t.category.family.as_str().to_owned()))
                    .bind(triage.map(|t| t.group.as_str()))
                    .bind(triage.map(|t| i64::from(t.priority.get())))
                    .bind(incident.status.as_str())
                    .bind(incident.owner_org_id)
                    .bind(
                        serde_json::to_string(&extras.triage_matched)
                            .map_err(|e| StoreError::Corrupt(format!("matched: {e}")))?,
                    )
                    .bind(incident.received_at.millis())
                    .bind(row.updated_at.millis());
            }
            query.execute(self.conn()).await?;
        }
        let orders: Vec<&(WorkOrder, Timestamp)> =
            batch.iter().flat_map(|b| &b.work_orders).collect();
        for chunk in orders.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO work_orders ({WORK_ORDER_COLUMNS}, updated_at) VALUES {}",
                placeholders(chunk.len(), 18)
            );
            let mut query = sqlx::query(&sql);
            for (order, updated_at) in chunk {
                query = query
                    .bind(order.id)
                    .bind(order.incident_id)
                    .bind(order.category.as_str().to_owned())
                    .bind(order.originator_org_id)
                    .bind(order.owner_org_id)
                    .bind(order.supervisor_org_id)
                    .bind(order.status.as_str())
                    .bind(order.created_at.millis())
                    .bind(order.accept_by.millis())
                    .bind(order.finish_by.millis())
                    .bind(order.accepted_at.map(Timestamp::millis))
                    .bind(order.returned_at.map(Timestamp::millis))
                    .bind(order.result.as_ref().map(|n| n.as_str().to_owned()))
                    .bind(order.rejection.as_ref().map(|n| n.as_str().to_owned()))
                    .bind(order.replaces)
                    .bind(i64::from(order.escalated_accept))
                    .bind(i64::from(order.escalated_finish))
                    .bind(updated_at.millis());
            }
            query.execute(self.conn()).await?;
        }
        let events: Vec<(i64, &BulkEvent)> = batch
            .iter()
            .flat_map(|b| b.events.iter().map(|e| (b.incident.id, e)))
            .collect();
        for chunk in events.chunks(ROWS_PER_STATEMENT * 2) {
            let sql = format!(
                "INSERT INTO incident_events (incident_id, work_order_id, at, actor, event)
                 VALUES {}",
                placeholders(chunk.len(), 5)
            );
            let mut query = sqlx::query(&sql);
            for (incident_id, event) in chunk {
                query = query
                    .bind(*incident_id)
                    .bind(event.work_order_id)
                    .bind(event.at.millis())
                    .bind(event.actor.clone())
                    .bind(event.event.clone());
            }
            query.execute(self.conn()).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_number_every_value_once() {
        assert_eq!(placeholders(2, 3), "($1, $2, $3), ($4, $5, $6)");
    }
}
