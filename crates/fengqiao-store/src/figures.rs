//! The facts the figures are computed from (`fengqiao_core::figures`): the
//! incidents of a subtree and period, their work orders, and from their
//! timelines the repeat links and the callers' latest answers. Three plain
//! queries that read the same on both backends; the counting is the core's.

use std::collections::HashMap;
use std::str::FromStr;

use fengqiao_core::figures::IncidentFacts;
use fengqiao_core::incident::{Group, Satisfaction};
use fengqiao_core::Timestamp;

use crate::incidents::{from_name, work_order_from_row, WORK_ORDER_COLUMNS};
use crate::{get, Result, Store, StoreError};

/// The incidents received in [$2, $3) that concern the subtree at $1:
/// received by a station there, handled by an organisation there, or with a
/// work order for one — the incidents its people may see.
const CONCERNED: &str = "SELECT i.id FROM incidents i
    WHERE i.received_at >= $2 AND i.received_at < $3
      AND (i.station_org_id IN (SELECT id FROM organisations WHERE path LIKE $1 || '%')
        OR i.owner_org_id IN (SELECT id FROM organisations WHERE path LIKE $1 || '%')
        OR i.id IN (SELECT w.incident_id FROM work_orders w JOIN organisations o
                    ON o.id = w.owner_org_id WHERE o.path LIKE $1 || '%'))";

impl Store {
    /// The facts of every incident received from `from` (inclusive) to `to`
    /// (exclusive) that concerns the organisations whose path starts with
    /// `scope`, in id order.
    pub async fn figure_facts(
        &self,
        scope: &str,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<IncidentFacts>> {
        let sql = format!(
            "SELECT id, grp, category, status FROM incidents WHERE id IN ({CONCERNED}) ORDER BY id"
        );
        let rows = sqlx::query(&sql)
            .bind(scope)
            .bind(from.millis())
            .bind(to.millis())
            .fetch_all(self.reader())
            .await?;
        let mut facts = Vec::with_capacity(rows.len());
        let mut index = HashMap::with_capacity(rows.len());
        for row in &rows {
            let id: i64 = get(row, "id")?;
            let group: Option<String> = get(row, "grp")?;
            let status: String = get(row, "status")?;
            index.insert(id, facts.len());
            facts.push(IncidentFacts {
                group: group
                    .map(|g| {
                        Group::from_str(&g).map_err(|_| StoreError::Corrupt(format!("group {g}")))
                    })
                    .transpose()?,
                category: get(row, "category")?,
                status: from_name("status", &status)?,
                repeat: false,
                satisfaction: None,
                work_orders: Vec::new(),
            });
        }

        let sql = format!(
            "SELECT {WORK_ORDER_COLUMNS} FROM work_orders WHERE incident_id IN ({CONCERNED})
             ORDER BY id"
        );
        let rows = sqlx::query(&sql)
            .bind(scope)
            .bind(from.millis())
            .bind(to.millis())
            .fetch_all(self.reader())
            .await?;
        for row in &rows {
            let order = work_order_from_row(row)?;
            if let Some(&i) = index.get(&order.incident_id) {
                facts[i].work_orders.push(order);
            }
        }

        // The timeline is the record of what happened: a link as a repeat
        // and each answer of the caller are events there, oldest first.
        let sql = format!(
            "SELECT incident_id, event FROM incident_events
             WHERE incident_id IN ({CONCERNED})
               AND (event LIKE '{{\"event\":\"linked_as_repeat\"%'
                 OR event LIKE '{{\"event\":\"feedback_recorded\"%')
             ORDER BY at, id"
        );
        let rows = sqlx::query(&sql)
            .bind(scope)
            .bind(from.millis())
            .bind(to.millis())
            .fetch_all(self.reader())
            .await?;
        for row in &rows {
            let incident_id: i64 = get(row, "incident_id")?;
            let text: String = get(row, "event")?;
            let Some(&i) = index.get(&incident_id) else {
                continue;
            };
            let event: serde_json::Value = serde_json::from_str(&text)
                .map_err(|_| StoreError::Corrupt(format!("event {text}")))?;
            match event["event"].as_str() {
                Some("linked_as_repeat") => {
                    let earlier = event["earlier"].as_array().map_or(0, Vec::len);
                    facts[i].repeat |= earlier > 0;
                }
                Some("feedback_recorded") => {
                    let satisfaction = event["satisfaction"]
                        .as_u64()
                        .and_then(|s| u8::try_from(s).ok())
                        .and_then(|s| Satisfaction::parse(s).ok())
                        .ok_or_else(|| StoreError::Corrupt(format!("feedback {text}")))?;
                    facts[i].satisfaction = Some(satisfaction);
                }
                _ => {}
            }
        }
        Ok(facts)
    }
}
