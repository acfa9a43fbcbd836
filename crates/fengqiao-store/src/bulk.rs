//! Bulk writes for generated worlds (`fengqiao gen`): incidents in the
//! state their transitions left them in, with their work orders and
//! timelines, many to a statement and many statements to one transaction.
//! The rows are the ones `insert_incident`, `insert_work_order`,
//! `append_timeline`, `update_incident` and `update_work_order` write, column
//! for column; only the number of round trips differs, because ten million
//! incidents at one round trip per row would take hours.

use fengqiao_core::incident::Incident;

use fengqiao_core::receipt::ReceiptDate;

use fengqiao_core::timeline::TimelineEvent;
use fengqiao_core::work_order::WorkOrder;
use fengqiao_core::Timestamp;
use serde::Serialize;

use crate::incidents::IncidentExtras;
use crate::rows::{
    placeholders, IncidentRow, WorkOrderRow, INCIDENT_INSERT, ROWS_PER_STATEMENT, WORK_ORDER_INSERT,
};
use crate::{Backend, Result, StoreError, Tx};

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
            event: crate::incidents::event_json(event)?,
        })
    }
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
            let sql = INCIDENT_INSERT.insert(chunk.len());
            let mut query = sqlx::query(&sql);
            for row in chunk {
                query = IncidentRow {
                    incident: &row.incident,
                    extras: &row.extras,
                    created_at: row.incident.received_at,
                    updated_at: row.updated_at,
                }
                .bind(query)?;
            }
            query.execute(self.conn()).await?;
        }
        let orders: Vec<&(WorkOrder, Timestamp)> =
            batch.iter().flat_map(|b| &b.work_orders).collect();
        for chunk in orders.chunks(ROWS_PER_STATEMENT) {
            let sql = WORK_ORDER_INSERT.insert(chunk.len());
            let mut query = sqlx::query(&sql);
            for (order, updated_at) in chunk {
                query = WorkOrderRow {
                    order,
                    updated_at: *updated_at,
                }
                .bind(query);
            }
            query.execute(self.conn()).await?;
        }
        let events: Vec<(i64, &BulkEvent)> = batch
            .iter()
            .flat_map(|b| b.events.iter().map(|e| (b.incident.id, e)))
            .collect();
        self.insert_events_bulk(&events).await
    }

    /// Appends timeline entries of any number of incidents, a few
    /// statements for all of them, in the order given.
    pub async fn insert_events_bulk(&mut self, events: &[(i64, &BulkEvent)]) -> Result<()> {
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
