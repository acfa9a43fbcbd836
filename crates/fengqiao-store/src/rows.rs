//! The rows of an incident and of a work order, each mapped in one place:
//! the columns an insert writes, how a record binds to them, and how a
//! read row becomes a record again. A single insert (intake's batch of
//! one) and a multi-row insert (group commit, `gen`) bind through the same
//! function, so a new column is added once.

use std::str::FromStr;

use fengqiao_core::category::Category;
use fengqiao_core::geo::Wgs84;
use fengqiao_core::incident::{Group, Incident, IncidentSource, Priority, Triage};
use fengqiao_core::receipt::ReceiptNumber;
use fengqiao_core::work_order::{HandlingNote, WorkOrder, WorkOrderStatus};
use fengqiao_core::Timestamp;
use sqlx::any::AnyRow;

use crate::incidents::{IncidentExtras, StoredIncident};
use crate::{bind_double, get, AnyQuery, Result, StoreError};

/// The columns of a table as an insert writes them, and how many.
pub(crate) struct Columns {
    pub table: &'static str,
    pub names: &'static str,
    pub count: usize,
}

impl Columns {
    /// `INSERT INTO table (…) VALUES ($1, …), (…)` for `rows` rows.
    pub fn insert(&self, rows: usize) -> String {
        format!(
            "INSERT INTO {} ({}) VALUES {}",
            self.table,
            self.names,
            placeholders(rows, self.count)
        )
    }
}

/// Rows a multi-row statement carries. Few enough parameters (under
/// 1,000) that sqlx's SQLite binding, which looks each parameter's name up
/// among all of the statement's, stays cheap: at 400 rows (9,200
/// parameters) that lookup was half of `gen`'s time and the rate fell to
/// ~600 incidents/s.
pub(crate) const ROWS_PER_STATEMENT: usize = 40;

/// `($1, $2, …), (…)` for `rows` rows of `columns` values.
pub(crate) fn placeholders(rows: usize, columns: usize) -> String {
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

pub(crate) fn corrupt(what: &str, value: impl std::fmt::Debug) -> StoreError {
    StoreError::Corrupt(format!("{what} {value:?}"))
}

/// A snake_case enum of the core from its stored name.
pub(crate) fn from_name<T: serde::de::DeserializeOwned>(what: &str, name: &str) -> Result<T> {
    serde_json::from_value(serde_json::Value::String(name.to_owned()))
        .map_err(|_| corrupt(what, name))
}

/// What a new incident row holds: the record its last transition returned,
/// what is written beside it, and its two times.
pub(crate) struct IncidentRow<'a> {
    pub incident: &'a Incident,
    pub extras: &'a IncidentExtras,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The incident row as an insert writes it.
pub(crate) const INCIDENT_INSERT: Columns = Columns {
    table: "incidents",
    names: "id, receipt_number, station_org_id, source, received_at,
        reporter_name, reporter_phone, reporter_phone_index, text, location_text,
        building_id, community_code, lat, lon, category, category_family, grp, priority,
        status, owner_org_id, triage_matched, created_at, updated_at, reporter_id_number",
    count: 24,
};

/// The incident row as reads select it, for [`incident_from_row`].
pub(crate) const INCIDENT_COLUMNS: &str = "id, receipt_number, station_org_id, source, received_at,
    reporter_name, reporter_phone, text, location_text, building_id, community_code, lat, lon,
    category, category_family, triage_matched, grp, priority, status, owner_org_id,
    reporter_id_number";

impl IncidentRow<'_> {
    /// Binds the row's values in [`INCIDENT_INSERT`]'s order.
    pub fn bind<'q>(&self, query: AnyQuery<'q>) -> Result<AnyQuery<'q>> {
        let (incident, extras) = (self.incident, self.extras);
        let triage = incident.triage.as_ref();
        let query = query
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
        let query = bind_double(query, incident.location.coordinates.map(|c| c.lat()));
        let query = bind_double(query, incident.location.coordinates.map(|c| c.lon()));
        Ok(query
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
            .bind(self.created_at.millis())
            .bind(self.updated_at.millis())
            .bind(extras.reporter_id_number.clone()))
    }

    /// The incident as a read of this row returns it, without reading it.
    pub fn stored(&self) -> StoredIncident {
        let (incident, extras) = (self.incident, self.extras);
        StoredIncident {
            id: incident.id,
            receipt_number: incident.receipt.clone(),
            station_org_id: incident.station_id,
            source: incident.source,
            received_at: incident.received_at,
            reporter_name: extras.reporter_name.clone(),
            reporter_phone: extras.reporter_phone.clone(),
            reporter_id_number: extras.reporter_id_number.clone(),
            text: incident.text.as_str().to_owned(),
            location_text: incident.location.text.clone(),
            building_id: incident.location.address_id,
            community_code: extras.community_code.clone(),
            coordinates: incident.location.coordinates,
            triage: incident.triage.clone(),
            triage_matched: extras.triage_matched.clone(),
            status: incident.status,
            owner_org_id: incident.owner_org_id,
        }
    }
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
        reporter_id_number: get(row, "reporter_id_number")?,
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

/// The work-order columns reads select, for [`work_order_from_row`].
pub(crate) const WORK_ORDER_COLUMNS: &str =
    "id, incident_id, category, originator_org_id, owner_org_id,
    supervisor_org_id, status, created_at, accept_by, finish_by, accepted_at, returned_at,
    result, rejection, replaces, escalated_accept, escalated_finish";

/// The work-order row as an insert writes it: what reads select, and when
/// it last changed.
pub(crate) const WORK_ORDER_INSERT: Columns = Columns {
    table: "work_orders",
    names: "id, incident_id, category, originator_org_id, owner_org_id,
        supervisor_org_id, status, created_at, accept_by, finish_by, accepted_at, returned_at,
        result, rejection, replaces, escalated_accept, escalated_finish, updated_at",
    count: 18,
};

/// A new work-order row: the order as its last transition left it, and
/// when that was.
pub(crate) struct WorkOrderRow<'a> {
    pub order: &'a WorkOrder,
    pub updated_at: Timestamp,
}

impl WorkOrderRow<'_> {
    /// Binds the row's values in [`WORK_ORDER_INSERT`]'s order.
    pub fn bind<'q>(&self, query: AnyQuery<'q>) -> AnyQuery<'q> {
        let order = self.order;
        query
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
            .bind(self.updated_at.millis())
    }
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
        category: fengqiao_core::category::CategoryCode::parse("category", &category)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_number_every_value_once() {
        assert_eq!(placeholders(2, 3), "($1, $2, $3), ($4, $5, $6)");
    }

    #[test]
    fn each_insert_names_as_many_columns_as_it_binds() {
        for columns in [INCIDENT_INSERT, WORK_ORDER_INSERT] {
            assert_eq!(columns.names.split(',').count(), columns.count);
        }
    }
}
