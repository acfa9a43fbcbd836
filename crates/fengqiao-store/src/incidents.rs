//! Incidents, their timeline and work orders, receipt sequences and
//! idempotency keys. The core's transitions decide what changes; this module
//! only writes what they returned, inside the caller's transaction, so an
//! incident, its events, its work orders, its idempotency key and its audit
//! entry commit together or not at all.

use std::str::FromStr;

use fengqiao_core::geo::Wgs84;
use fengqiao_core::incident::{
    Category, Group, Incident, IncidentSource, IncidentStatus, Priority, ReceiptDate,
    ReceiptNumber, TimelineEvent, Triage,
};
use fengqiao_core::work_order::{HandlingNote, WorkOrder, WorkOrderStatus};
use fengqiao_core::Timestamp;
use serde::Serialize;
use sqlx::any::AnyRow;

use crate::repeats::RepeatLink;
use crate::{bind_double, duplicate_as, get, Backend, Result, Store, StoreError, Tx};

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

/// An idempotency key already used: the hash of the request that used it
/// and the incident that request made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    pub request_hash: Vec<u8>,
    pub incident_id: i64,
}

pub(crate) const INCIDENT_COLUMNS: &str = "id, receipt_number, station_org_id, source, received_at,
    reporter_name, reporter_phone, text, location_text, building_id, community_code, lat, lon,
    category, category_family, triage_matched, grp, priority, status, owner_org_id";

pub(crate) const WORK_ORDER_COLUMNS: &str =
    "id, incident_id, category, originator_org_id, owner_org_id,
    supervisor_org_id, status, created_at, accept_by, finish_by, accepted_at, returned_at,
    result, rejection, replaces, escalated_accept, escalated_finish";

pub(crate) fn corrupt(what: &str, value: impl std::fmt::Debug) -> StoreError {
    StoreError::Corrupt(format!("{what} {value:?}"))
}

/// A snake_case enum of the core from its stored name.
pub(crate) fn from_name<T: serde::de::DeserializeOwned>(what: &str, name: &str) -> Result<T> {
    serde_json::from_value(serde_json::Value::String(name.to_owned()))
        .map_err(|_| corrupt(what, name))
}

pub(crate) fn incident_from_row(row: &AnyRow) -> Result<StoredIncident> {
    let receipt: String = get(row, "receipt_number")?;
    let source: String = get(row, "source")?;
    let status: String = get(row, "status")?;
    let lat: Option<f64> = get(row, "lat")?;
    let lon: Option<f64> = get(row, "lon")?;
    let coordinates = match (lat, lon) {
        (Some(lat), Some(lon)) => {
            Some(Wgs84::new(lat, lon).map_err(|_| corrupt("lat/lon", (lat, lon)))?)
        }
        _ => None,
    };
    let category: Option<String> = get(row, "category")?;
    let family: Option<String> = get(row, "category_family")?;
    let group: Option<String> = get(row, "grp")?;
    let priority: Option<i64> = get(row, "priority")?;
    let triage = match (category, family, group, priority) {
        (Some(category), Some(family), Some(group), Some(priority)) => Some(Triage {
            category: Category::new(&category, &family)
                .map_err(|_| corrupt("category", &category))?,
            group: Group::from_str(&group).map_err(|_| corrupt("group", &group))?,
            priority: u8::try_from(priority)
                .ok()
                .and_then(|p| Priority::parse(p).ok())
                .ok_or_else(|| corrupt("priority", priority))?,
        }),
        _ => None,
    };
    let matched: Option<String> = get(row, "triage_matched")?;
    let triage_matched = match matched {
        Some(json) => serde_json::from_str(&json).map_err(|_| corrupt("triage_matched", &json))?,
        None => Vec::new(),
    };
    Ok(StoredIncident {
        id: get(row, "id")?,
        receipt_number: ReceiptNumber::parse(&receipt).map_err(|_| corrupt("receipt", &receipt))?,
        station_org_id: get(row, "station_org_id")?,
        source: IncidentSource::from_str(&source).map_err(|_| corrupt("source", &source))?,
        received_at: Timestamp(get(row, "received_at")?),
        reporter_name: get(row, "reporter_name")?,
        reporter_phone: get(row, "reporter_phone")?,
        text: get(row, "text")?,
        location_text: get(row, "location_text")?,
        building_id: get(row, "building_id")?,
        community_code: get(row, "community_code")?,
        coordinates,
        triage,
        triage_matched,
        status: from_name("status", &status)?,
        owner_org_id: get(row, "owner_org_id")?,
    })
}

fn note(row: &AnyRow, column: &str) -> Result<Option<HandlingNote>> {
    let text: Option<String> = get(row, column)?;
    text.map(|t| HandlingNote::parse(column, &t).map_err(|_| corrupt(column, &t)))
        .transpose()
}

pub(crate) fn work_order_from_row(row: &AnyRow) -> Result<WorkOrder> {
    let category: String = get(row, "category")?;
    let status: String = get(row, "status")?;
    let status: WorkOrderStatus = from_name("work order status", &status)?;
    let escalated_accept: i64 = get(row, "escalated_accept")?;
    let escalated_finish: i64 = get(row, "escalated_finish")?;
    Ok(WorkOrder {
        id: get(row, "id")?,
        incident_id: get(row, "incident_id")?,
        category: fengqiao_core::incident::CategoryCode::parse("category", &category)
            .map_err(|_| corrupt("category", &category))?,
        originator_org_id: get(row, "originator_org_id")?,
        owner_org_id: get(row, "owner_org_id")?,
        supervisor_org_id: get(row, "supervisor_org_id")?,
        status,
        created_at: Timestamp(get(row, "created_at")?),
        accept_by: Timestamp(get(row, "accept_by")?),
        finish_by: Timestamp(get(row, "finish_by")?),
        accepted_at: get::<Option<i64>>(row, "accepted_at")?.map(Timestamp),
        returned_at: get::<Option<i64>>(row, "returned_at")?.map(Timestamp),
        result: note(row, "result")?,
        rejection: note(row, "rejection")?,
        replaces: get(row, "replaces")?,
        escalated_accept: escalated_accept != 0,
        escalated_finish: escalated_finish != 0,
    })
}

impl Store {
    /// An incident with its timeline and work orders.
    pub async fn incident(&self, id: i64) -> Result<Option<IncidentRecord>> {
        let sql = format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = $1");
        let Some(row) = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(self.reader())
            .await?
        else {
            return Ok(None);
        };
        let incident = incident_from_row(&row)?;
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
        let last: i64 = sqlx::query_scalar(
            "INSERT INTO receipt_sequences (station_org_id, day, last) VALUES ($1, $2, 1)
             ON CONFLICT (station_org_id, day) DO UPDATE SET last = receipt_sequences.last + 1
             RETURNING last",
        )
        .bind(station_org_id)
        .bind(day.to_string())
        .fetch_one(self.conn())
        .await?;
        u32::try_from(last).map_err(|_| corrupt("receipt sequence", last))
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
        sqlx::query(
            "INSERT INTO idempotency_keys (actor, key, request_hash, incident_id, created_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(actor)
        .bind(key)
        .bind(request_hash.to_vec())
        .bind(incident_id)
        .bind(now.millis())
        .execute(self.conn())
        .await
        .map_err(duplicate_as("idempotency_key"))?;
        Ok(())
    }

    /// Writes a new incident in the state its last transition returned.
    pub async fn insert_incident(
        &mut self,
        incident: &Incident,
        extras: &IncidentExtras,
        now: Timestamp,
    ) -> Result<()> {
        let triage = incident.triage.as_ref();
        let query = sqlx::query(
            "INSERT INTO incidents (id, receipt_number, station_org_id, source, received_at,
                 reporter_name, reporter_phone, reporter_phone_index, text, location_text,
                 building_id, community_code, lat, lon, category, category_family, grp, priority,
                 status, owner_org_id, triage_matched, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                     $18, $19, $20, $21, $22, $22)",
        )
        .bind(incident.id)
        .bind(incident.receipt.to_string())
        .bind(incident.station_id)
        .bind(incident.source.as_str())
        .bind(incident.received_at.millis())
        .bind(extras.reporter_name.clone())
        .bind(extras.reporter_phone.clone())
        .bind(extras.reporter_phone_index.clone())
        .bind(incident.text.as_str())
        .bind(incident.location.text.clone())
        .bind(incident.location.address_id)
        .bind(extras.community_code.clone());
        let query = bind_double(query, incident.location.coordinates.map(|c| c.lat()));
        let query = bind_double(query, incident.location.coordinates.map(|c| c.lon()));
        query
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
            .bind(now.millis())
            .execute(self.conn())
            .await
            .map_err(duplicate_as("receipt_number"))?;
        Ok(())
    }

    /// Writes a new work order in the state its creation returned.
    pub async fn insert_work_order(&mut self, order: &WorkOrder, now: Timestamp) -> Result<()> {
        let sql = format!(
            "INSERT INTO work_orders ({WORK_ORDER_COLUMNS}, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)"
        );
        sqlx::query(&sql)
            .bind(order.id)
            .bind(order.incident_id)
            .bind(order.category.as_str())
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
            .bind(now.millis())
            .execute(self.conn())
            .await
            .map_err(duplicate_as("replaces"))?;
        Ok(())
    }

    /// Appends a transition's events to the incident's timeline; those of a
    /// work order name it.
    pub async fn append_timeline<E: Serialize>(
        &mut self,
        incident_id: i64,
        work_order_id: Option<i64>,
        events: &[TimelineEvent<E>],
    ) -> Result<()> {
        for event in events {
            let json = serde_json::to_string(&event.event)
                .map_err(|e| StoreError::Corrupt(format!("event: {e}")))?;
            sqlx::query(
                "INSERT INTO incident_events (incident_id, work_order_id, at, actor, event)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(incident_id)
            .bind(work_order_id)
            .bind(event.at.millis())
            .bind(event.actor.to_stored())
            .bind(json)
            .execute(self.conn())
            .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
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
