//! Incidents, their timeline and work orders, receipt sequences and
//! idempotency keys. The core's transitions decide what changes; this module
//! only writes what they returned, inside the caller's transaction, so an
//! incident, its events, its work orders, its idempotency key and its audit
//! entry commit together or not at all.

use std::collections::BTreeMap;
use std::ops::RangeInclusive;

use fengqiao_core::geo::Wgs84;
use fengqiao_core::incident::{Incident, IncidentSource, IncidentStatus, Triage};
use fengqiao_core::receipt::{ReceiptDate, ReceiptNumber};
use fengqiao_core::timeline::TimelineEvent;
use fengqiao_core::work_order::WorkOrder;
use fengqiao_core::Timestamp;
use serde::Serialize;

use crate::repeats::RepeatLink;
pub(crate) use crate::rows::{
    corrupt, from_name, incident_from_row, work_order_from_row, INCIDENT_COLUMNS,
    WORK_ORDER_COLUMNS,
};
use crate::rows::{
    placeholders, IncidentRow, WorkOrderRow, INCIDENT_INSERT, ROWS_PER_STATEMENT, WORK_ORDER_INSERT,
};
use crate::{duplicate_as, get, Backend, Result, Store, StoreError, Tx};

/// An incident as stored: personal data still encrypted, for the layer that
/// holds the key to mask it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredIncident {
    pub id: i64,
    pub receipt_number: ReceiptNumber,
    pub station_org_id: i64,
    pub source: IncidentSource,
    pub received_at: Timestamp,
    /// Encrypted (see `PersonalDataCipher`).
    pub reporter_name: Option<Vec<u8>>,
    pub reporter_phone: Option<Vec<u8>>,
    /// The caller's resident ID number, encrypted; never indexed.
    pub reporter_id_number: Option<Vec<u8>>,
    pub text: String,
    pub location_text: String,
    pub building_id: Option<i64>,
    pub community_code: Option<String>,
    pub coordinates: Option<Wgs84>,
    pub triage: Option<Triage>,
    /// The words that decided the rules' suggestion.
    pub triage_matched: Vec<String>,
    pub status: IncidentStatus,
    pub owner_org_id: Option<i64>,
}

/// What is written with a new incident besides the core record: the
/// reporter encrypted, the phone's blind index, the community it lies in.
#[derive(Debug, Clone, Default)]
pub struct IncidentExtras {
    pub reporter_name: Option<Vec<u8>>,
    pub reporter_phone: Option<Vec<u8>>,
    pub reporter_phone_index: Option<Vec<u8>>,
    /// 身份证号, encrypted: the desk may take it from a walk-in caller.
    pub reporter_id_number: Option<Vec<u8>>,
    pub community_code: Option<String>,
    pub triage_matched: Vec<String>,
}

/// One entry of an incident's timeline as stored; `event` is the core
/// event's JSON (`{"event": "routed", "to_org": 4}`).
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineEntry {
    pub at: Timestamp,
    pub actor: String,
    pub work_order_id: Option<i64>,
    pub event: serde_json::Value,
}

/// An incident with its timeline (oldest first), its work orders and the
/// earlier incidents it repeats.
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentRecord {
    pub incident: StoredIncident,
    pub timeline: Vec<TimelineEntry>,
    pub work_orders: Vec<WorkOrder>,
    pub repeats: Vec<RepeatLink>,
}

/// An earlier incident at the same place or from the same caller.
#[derive(Debug, Clone, PartialEq)]
pub struct EarlierCall {
    pub incident: StoredIncident,
    pub same_place: bool,
    pub same_caller: bool,
}

/// A key to record with the incident its request made.
#[derive(Debug, Clone, Copy)]
pub struct NewIdempotencyKey<'a> {
    pub actor: &'a str,
    pub key: &'a str,
    pub request_hash: &'a [u8],
    pub incident_id: i64,
}

/// An idempotency key already used: the hash of the request that used it
/// and the incident that request made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    pub request_hash: Vec<u8>,
    pub incident_id: i64,
}

impl Store {
    /// The incident's own row, without its timeline, work orders or
    /// repeats: what a reader that needs only the incident asks for.
    pub async fn incident_row(&self, id: i64) -> Result<Option<StoredIncident>> {
        let sql = format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = $1");
        sqlx::query(&sql)
            .bind(id)
            .fetch_optional(self.reader())
            .await?
            .as_ref()
            .map(incident_from_row)
            .transpose()
    }

    /// An incident with its timeline and work orders.
    pub async fn incident(&self, id: i64) -> Result<Option<IncidentRecord>> {
        let Some(incident) = self.incident_row(id).await? else {
            return Ok(None);
        };
        let rows = sqlx::query(
            "SELECT at, actor, work_order_id, event FROM incident_events
             WHERE incident_id = $1 ORDER BY at, id",
        )
        .bind(id)
        .fetch_all(self.reader())
        .await?;
        let timeline = rows
            .iter()
            .map(|row| {
                let event: String = get(row, "event")?;
                Ok(TimelineEntry {
                    at: Timestamp(get(row, "at")?),
                    actor: get(row, "actor")?,
                    work_order_id: get(row, "work_order_id")?,
                    event: serde_json::from_str(&event).map_err(|_| corrupt("event", &event))?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let sql = format!(
            "SELECT {WORK_ORDER_COLUMNS} FROM work_orders WHERE incident_id = $1 ORDER BY id"
        );
        let rows = sqlx::query(&sql).bind(id).fetch_all(self.reader()).await?;
        let work_orders = rows
            .iter()
            .map(work_order_from_row)
            .collect::<Result<Vec<_>>>()?;
        Ok(Some(IncidentRecord {
            incident,
            timeline,
            work_orders,
            repeats: self.repeats_of(id).await?,
        }))
    }

    /// The newest incidents (at most `limit`) that concern the organisations
    /// whose path starts with `scope`: received by a station there, owned by
    /// one, or with a work order for one.
    pub async fn incidents_within(&self, scope: &str, limit: i64) -> Result<Vec<StoredIncident>> {
        let sql = format!(
            "SELECT {INCIDENT_COLUMNS} FROM incidents i WHERE
                 i.station_org_id IN (SELECT id FROM organisations WHERE path LIKE $1 || '%')
              OR i.owner_org_id IN (SELECT id FROM organisations WHERE path LIKE $1 || '%')
              OR i.id IN (SELECT w.incident_id FROM work_orders w JOIN organisations o
                          ON o.id = w.owner_org_id WHERE o.path LIKE $1 || '%')
             ORDER BY i.received_at DESC, i.id DESC LIMIT $2"
        );
        let rows = sqlx::query(&sql)
            .bind(scope)
            .bind(limit)
            .fetch_all(self.reader())
            .await?;
        rows.iter().map(incident_from_row).collect()
    }

    /// The incidents received since `since` at `building_id` and those
    /// from the caller whose phone has the blind index `caller_index`
    /// (cancelled duplicates left out), at most `limit` of each, newest
    /// first, each once with whether it was the place and whether the
    /// caller that matched: what the intake desk shows before a call is
    /// saved. Each arm uses its own index.
    pub async fn earlier_calls(
        &self,
        building_id: Option<i64>,
        caller_index: Option<&[u8]>,
        since: Timestamp,
        limit: i64,
    ) -> Result<Vec<EarlierCall>> {
        let mut found: Vec<EarlierCall> = Vec::new();
        for (column, by_building) in [("building_id", true), ("reporter_phone_index", false)] {
            let sql = format!(
                "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE {column} = $1
                 AND received_at >= $2 AND status <> 'cancelled'
                 ORDER BY received_at DESC, id DESC LIMIT $3"
            );
            let query = sqlx::query(&sql);
            let query = match (by_building, building_id, caller_index) {
                (true, Some(building), _) => query.bind(building),
                (false, _, Some(index)) => query.bind(index.to_vec()),
                _ => continue,
            };
            let rows = query
                .bind(since.millis())
                .bind(limit)
                .fetch_all(self.reader())
                .await?;
            for row in &rows {
                let incident = incident_from_row(row)?;
                match found.iter_mut().find(|e| e.incident.id == incident.id) {
                    Some(known) => known.same_caller = true,
                    None => found.push(EarlierCall {
                        incident,
                        same_place: by_building,
                        same_caller: !by_building,
                    }),
                }
            }
        }
        found.sort_by(|a, b| {
            (b.incident.received_at, b.incident.id).cmp(&(a.incident.received_at, a.incident.id))
        });
        Ok(found)
    }

    /// How many incidents are stored: a benchmark checks that every
    /// acknowledged intake is there.
    pub async fn count_incidents(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM incidents")
            .fetch_one(self.reader())
            .await?)
    }

    /// The request an idempotency key of `actor` was first used with.
    pub async fn idempotency_key(
        &self,
        actor: &str,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>> {
        let row: Option<(Vec<u8>, i64)> = sqlx::query_as(
            "SELECT request_hash, incident_id FROM idempotency_keys WHERE actor = $1 AND key = $2",
        )
        .bind(actor)
        .bind(key)
        .fetch_optional(self.reader())
        .await?;
        Ok(row.map(|(request_hash, incident_id)| IdempotencyRecord {
            request_hash,
            incident_id,
        }))
    }
}

impl Tx {
    /// The next receipt sequence of `station_org_id` on `day`, counted in
    /// this transaction: a rolled-back intake gives its number back.
    pub async fn next_receipt_sequence(
        &mut self,
        station_org_id: i64,
        day: ReceiptDate,
    ) -> Result<u32> {
        Ok(*self
            .next_receipt_sequences(station_org_id, day, 1)
            .await?
            .start())
    }

    /// The next `count` receipt sequences of `station_org_id` on `day`.
    pub async fn next_receipt_sequences(
        &mut self,
        station_org_id: i64,
        day: ReceiptDate,
        count: u32,
    ) -> Result<RangeInclusive<u32>> {
        self.receipt_ranges(day, &[(station_org_id, count)])
            .await?
            .remove(&station_org_id)
            .ok_or_else(|| corrupt("receipt sequence of station", station_org_id))
    }

    /// The next receipt sequences of each `(station, count)` on `day`, in
    /// one statement, for a group of intakes committed together; the rows
    /// stay locked to this transaction, so another server's intake numbers
    /// after it. The stations are locked in ascending order, so two servers
    /// on one PostgreSQL database lock them in the same order.
    pub async fn receipt_ranges(
        &mut self,
        day: ReceiptDate,
        counts: &[(i64, u32)],
    ) -> Result<BTreeMap<i64, RangeInclusive<u32>>> {
        if counts.is_empty() {
            return Ok(BTreeMap::new());
        }
        let mut counts = counts.to_vec();
        counts.sort_unstable();
        let sql = format!(
            "INSERT INTO receipt_sequences (station_org_id, day, last) VALUES {}
             ON CONFLICT (station_org_id, day)
                 DO UPDATE SET last = receipt_sequences.last + excluded.last
             RETURNING station_org_id, last",
            placeholders(counts.len(), 3)
        );
        let day = day.to_string();
        let mut query = sqlx::query_as::<_, (i64, i64)>(&sql);
        for (station, count) in &counts {
            query = query
                .bind(*station)
                .bind(day.clone())
                .bind(i64::from(*count));
        }
        let mut ranges = BTreeMap::new();
        for (station, last) in query.fetch_all(self.conn()).await? {
            let count = counts
                .iter()
                .find(|(s, _)| *s == station)
                .map_or(1, |(_, c)| (*c).max(1));
            let last = u32::try_from(last).map_err(|_| corrupt("receipt sequence", last))?;
            ranges.insert(station, last + 1 - count..=last);
        }
        Ok(ranges)
    }

    /// An id for a new incident: the core needs it before the row exists.
    pub async fn next_incident_id(&mut self) -> Result<i64> {
        self.next_id("incidents").await
    }

    /// An id for a new work order.
    pub async fn next_work_order_id(&mut self) -> Result<i64> {
        self.next_id("work_orders").await
    }

    pub(crate) async fn next_id(&mut self, table: &'static str) -> Result<i64> {
        let sql = match self.backend {
            // One writer: nobody else can take the same id before commit.
            Backend::Sqlite => format!("SELECT COALESCE(MAX(id), 0) + 1 FROM {table}"),
            // The identity sequence: never handed out twice, even across
            // concurrent transactions.
            Backend::Postgres => format!("SELECT nextval(pg_get_serial_sequence('{table}', 'id'))"),
        };
        Ok(sqlx::query_scalar(&sql).fetch_one(self.conn()).await?)
    }

    /// Records that `actor` used `key` for the request with `request_hash`,
    /// which made `incident_id`. A key already used is `Duplicate`.
    pub async fn insert_idempotency_key(
        &mut self,
        actor: &str,
        key: &str,
        request_hash: &[u8],
        incident_id: i64,
        now: Timestamp,
    ) -> Result<()> {
        self.insert_idempotency_keys(
            &[NewIdempotencyKey {
                actor,
                key,
                request_hash,
                incident_id,
            }],
            now,
        )
        .await
    }

    /// [`Tx::insert_idempotency_key`] for many keys, a few statements in
    /// all. One key already used makes the whole call `Duplicate`.
    pub async fn insert_idempotency_keys(
        &mut self,
        keys: &[NewIdempotencyKey<'_>],
        now: Timestamp,
    ) -> Result<()> {
        for chunk in keys.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO idempotency_keys (actor, key, request_hash, incident_id, created_at)
                 VALUES {}",
                placeholders(chunk.len(), 5)
            );
            let mut query = sqlx::query(&sql);
            for key in chunk {
                query = query
                    .bind(key.actor)
                    .bind(key.key)
                    .bind(key.request_hash.to_vec())
                    .bind(key.incident_id)
                    .bind(now.millis());
            }
            query
                .execute(self.conn())
                .await
                .map_err(duplicate_as("idempotency_key"))?;
        }
        Ok(())
    }

    /// Writes a new incident in the state its last transition returned.
    pub async fn insert_incident(
        &mut self,
        incident: &Incident,
        extras: &IncidentExtras,
        now: Timestamp,
    ) -> Result<()> {
        let row = IncidentRow {
            incident,
            extras,
            created_at: now,
            updated_at: now,
        };
        let sql = INCIDENT_INSERT.insert(1);
        row.bind(sqlx::query(&sql))?
            .execute(self.conn())
            .await
            .map_err(duplicate_as("receipt_number"))?;
        Ok(())
    }

    /// Writes a new work order in the state its creation returned.
    pub async fn insert_work_order(&mut self, order: &WorkOrder, now: Timestamp) -> Result<()> {
        let sql = WORK_ORDER_INSERT.insert(1);
        WorkOrderRow {
            order,
            updated_at: now,
        }
        .bind(sqlx::query(&sql))
        .execute(self.conn())
        .await
        .map_err(duplicate_as("replaces"))?;
        Ok(())
    }

    /// Appends a transition's events to the incident's timeline, in one
    /// statement; those of a work order name it.
    pub async fn append_timeline<E: Serialize>(
        &mut self,
        incident_id: i64,
        work_order_id: Option<i64>,
        events: &[TimelineEvent<E>],
    ) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "INSERT INTO incident_events (incident_id, work_order_id, at, actor, event) VALUES {}",
            placeholders(events.len(), 5)
        );
        let mut query = sqlx::query(&sql);
        for event in events {
            query = query
                .bind(incident_id)
                .bind(work_order_id)
                .bind(event.at.millis())
                .bind(event.actor.to_stored())
                .bind(event_json(event)?);
        }
        query.execute(self.conn()).await?;
        Ok(())
    }
}

/// A timeline event as `incident_events.event` stores it.
pub(crate) fn event_json<E: Serialize>(event: &TimelineEvent<E>) -> Result<String> {
    serde_json::to_string(&event.event).map_err(|e| StoreError::Corrupt(format!("event: {e}")))
}

impl TimelineEntry {
    /// The entry a read of the timeline returns for `event`, as written.
    pub fn of<E: Serialize>(work_order_id: Option<i64>, event: &TimelineEvent<E>) -> Result<Self> {
        let json = event_json(event)?;
        Ok(TimelineEntry {
            at: event.at,
            actor: event.actor.to_stored(),
            work_order_id,
            event: serde_json::from_str(&json).map_err(|_| corrupt("event", &json))?,
        })
    }
}

impl StoredIncident {
    /// The incident a read returns after `insert_incident` wrote it, so a
    /// writer answers without reading its own row again.
    pub fn written(incident: &Incident, extras: &IncidentExtras) -> StoredIncident {
        IncidentRow {
            incident,
            extras,
            created_at: incident.received_at,
            updated_at: incident.received_at,
        }
        .stored()
    }
}

#[cfg(test)]
mod tests {
    use fengqiao_core::work_order::WorkOrderStatus;

    use super::*;

    #[test]
    fn enum_names_round_trip() {
        for status in [IncidentStatus::Received, IncidentStatus::InProgress] {
            assert_eq!(
                from_name::<IncidentStatus>("status", status.as_str()).unwrap(),
                status
            );
        }
        assert!(from_name::<WorkOrderStatus>("status", "lost").is_err());
    }
}
