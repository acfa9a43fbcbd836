//! 闭环流转: reading work orders (one, or a jurisdiction's inbox), locking an
//! incident with its work orders for a transition, writing back what the
//! core's transitions returned, and the routing rules.
//!
//! A transition reads the records it changes inside its own transaction
//! (`lock_incident`), so two concurrent actions on one work order are
//! decided one after the other and never both applied.

use fengqiao_core::incident::{Incident, IncidentText, Location};

use fengqiao_core::category::CategoryCode;
use fengqiao_core::org::DivisionCode;
use fengqiao_core::work_order::{WorkOrder, WorkOrderStatus};
use fengqiao_core::Timestamp;

use crate::rows::{
    corrupt, incident_from_row, work_order_from_row, INCIDENT_COLUMNS, WORK_ORDER_COLUMNS,
};
use crate::{get, Backend, Result, Store, StoredIncident, Tx};

/// A work order as a department's inbox lists it: with what its incident
/// says and where.
#[derive(Debug, Clone, PartialEq)]
pub struct InboxEntry {
    pub order: WorkOrder,
    pub receipt_number: String,
    pub incident_text: String,
    pub location_text: String,
}

/// 分流规则: `category` at `division_code` (and everything below it) goes
/// to `org_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutingRule {
    pub category: CategoryCode,
    pub division_code: DivisionCode,
    pub org_id: i64,
    pub updated_at: Timestamp,
}

impl StoredIncident {
    /// The core record, for its transitions. The reporter stays encrypted
    /// and out of it: no transition reads or changes the reporter, and
    /// `Tx::update_incident` writes only what transitions change.
    pub fn to_core(&self) -> Result<Incident> {
        Ok(Incident {
            id: self.id,
            receipt: self.receipt_number.clone(),
            station_id: self.station_org_id,
            source: self.source,
            received_at: self.received_at,
            reporter: None,
            text: IncidentText::parse(&self.text).map_err(|_| corrupt("text", self.id))?,
            location: Location::new(&self.location_text, self.building_id, self.coordinates)
                .map_err(|_| corrupt("location_text", self.id))?,
            triage: self.triage.clone(),
            status: self.status,
            owner_org_id: self.owner_org_id,
            repeat_of: Vec::new(),
            last_feedback: None,
        })
    }
}

fn rule_from_row(row: &sqlx::any::AnyRow) -> Result<RoutingRule> {
    let category: String = get(row, "category")?;
    let code: String = get(row, "division_code")?;
    Ok(RoutingRule {
        category: CategoryCode::parse("category", &category)
            .map_err(|_| corrupt("category", &category))?,
        division_code: DivisionCode::parse(&code).map_err(|_| corrupt("division_code", &code))?,
        org_id: get(row, "org_id")?,
        updated_at: Timestamp(get(row, "updated_at")?),
    })
}

impl Store {
    pub async fn work_order(&self, id: i64) -> Result<Option<WorkOrder>> {
        let sql = format!("SELECT {WORK_ORDER_COLUMNS} FROM work_orders WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(self.reader())
            .await?;
        row.as_ref().map(work_order_from_row).transpose()
    }

    /// 待办: the newest work orders (at most `limit`) owned by organisations
    /// whose path starts with `scope`, optionally only those in `status`.
    pub async fn work_orders_within(
        &self,
        scope: &str,
        status: Option<WorkOrderStatus>,
        limit: i64,
    ) -> Result<Vec<InboxEntry>> {
        let columns = WORK_ORDER_COLUMNS
            .split(',')
            .map(|c| format!("w.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {columns}, i.receipt_number, i.text AS incident_text, i.location_text
             FROM work_orders w
             JOIN incidents i ON i.id = w.incident_id
             JOIN organisations o ON o.id = w.owner_org_id
             WHERE o.path LIKE $1 || '%' AND ($2 IS NULL OR w.status = $2)
             ORDER BY w.created_at DESC, w.id DESC LIMIT $3"
        );
        let rows = sqlx::query(&sql)
            .bind(scope)
            .bind(status.map(WorkOrderStatus::as_str))
            .bind(limit)
            .fetch_all(self.reader())
            .await?;
        rows.iter()
            .map(|row| {
                Ok(InboxEntry {
                    order: work_order_from_row(row)?,
                    receipt_number: get(row, "receipt_number")?,
                    incident_text: get(row, "incident_text")?,
                    location_text: get(row, "location_text")?,
                })
            })
            .collect()
    }

    /// Every routing rule, by category and code.
    pub async fn routing_rules(&self) -> Result<Vec<RoutingRule>> {
        let rows = sqlx::query(
            "SELECT category, division_code, org_id, updated_at FROM routing_rules
             ORDER BY category, division_code",
        )
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(rule_from_row).collect()
    }

    /// The rules of one category, by division code.
    pub async fn routing_rules_for(&self, category: &str) -> Result<Vec<RoutingRule>> {
        Ok(self
            .directory()
            .await?
            .rules_for(category)
            .cloned()
            .collect())
    }
}

impl Tx {
    /// ` FOR UPDATE` where the backend needs it to keep a row for this
    /// transaction; SQLite's single writer already does.
    pub(crate) fn lock_clause(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
        }
    }

    /// The incident and all its work orders, read inside this transaction
    /// and kept from other writers until it ends. Lock the incident first,
    /// always, so two transitions never wait on each other in a cycle.
    pub async fn lock_incident(
        &mut self,
        id: i64,
    ) -> Result<Option<(StoredIncident, Vec<WorkOrder>)>> {
        let lock = self.lock_clause();
        let sql = format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = $1{lock}");
        let Some(row) = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(self.conn())
            .await?
        else {
            return Ok(None);
        };
        let incident = incident_from_row(&row)?;
        let sql = format!(
            "SELECT {WORK_ORDER_COLUMNS} FROM work_orders WHERE incident_id = $1 ORDER BY id{lock}"
        );
        let rows = sqlx::query(&sql).bind(id).fetch_all(self.conn()).await?;
        let orders = rows
            .iter()
            .map(work_order_from_row)
            .collect::<Result<Vec<_>>>()?;
        Ok(Some((incident, orders)))
    }

    /// Writes what an incident transition changes: status, triage and owner.
    pub async fn update_incident(&mut self, incident: &Incident, now: Timestamp) -> Result<()> {
        let triage = incident.triage.as_ref();
        sqlx::query(
            "UPDATE incidents SET status = $2, category = $3, category_family = $4, grp = $5,
                 priority = $6, owner_org_id = $7, updated_at = $8
             WHERE id = $1",
        )
        .bind(incident.id)
        .bind(incident.status.as_str())
        .bind(triage.map(|t| t.category.code.as_str().to_owned()))
        .bind(triage.map(|t| t.category.family.as_str().to_owned()))
        .bind(triage.map(|t| t.group.as_str()))
        .bind(triage.map(|t| i64::from(t.priority.get())))
        .bind(incident.owner_org_id)
        .bind(now.millis())
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Writes what a department's or originator's action changes. The
    /// escalation flags are the deadline job's and are left alone.
    pub async fn update_work_order(&mut self, order: &WorkOrder, now: Timestamp) -> Result<()> {
        sqlx::query(
            "UPDATE work_orders SET status = $2, accepted_at = $3, returned_at = $4, result = $5,
                 rejection = $6, updated_at = $7
             WHERE id = $1",
        )
        .bind(order.id)
        .bind(order.status.as_str())
        .bind(order.accepted_at.map(Timestamp::millis))
        .bind(order.returned_at.map(Timestamp::millis))
        .bind(order.result.as_ref().map(|n| n.as_str().to_owned()))
        .bind(order.rejection.as_ref().map(|n| n.as_str().to_owned()))
        .bind(now.millis())
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Replaces the rules of `category` whose code `mine` accepts with
    /// `rules`: a jurisdiction rewrites its own rules and no one else's.
    pub async fn replace_routing_rules(
        &mut self,
        category: &CategoryCode,
        mine: impl Fn(&DivisionCode) -> bool,
        rules: &[(DivisionCode, i64)],
        now: Timestamp,
    ) -> Result<()> {
        self.directory_changed = true;
        let sql = format!(
            "SELECT category, division_code, org_id, updated_at FROM routing_rules
             WHERE category = $1{}",
            self.lock_clause()
        );
        let rows = sqlx::query(&sql)
            .bind(category.as_str())
            .fetch_all(self.conn())
            .await?;
        for rule in rows.iter().map(rule_from_row) {
            let rule = rule?;
            if !mine(&rule.division_code) {
                continue;
            }
            sqlx::query("DELETE FROM routing_rules WHERE category = $1 AND division_code = $2")
                .bind(category.as_str())
                .bind(rule.division_code.as_str())
                .execute(self.conn())
                .await?;
        }
        for (code, org_id) in rules {
            sqlx::query(
                "INSERT INTO routing_rules (category, division_code, org_id, updated_at)
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(category.as_str())
            .bind(code.as_str())
            .bind(*org_id)
            .bind(now.millis())
            .execute(self.conn())
            .await
            .map_err(crate::duplicate_as("division_code"))?;
        }
        Ok(())
    }
}
