//! 超时督办: the work orders whose deadlines passed and have not escalated
//! yet, and the write that marks them escalated exactly once.

use fengqiao_core::work_order::WorkOrder;
use fengqiao_core::Timestamp;

use crate::{Result, Store, Tx};

impl Store {
    /// Work orders with a deadline passed before `now` and not escalated,
    /// as (work order, incident) ids, oldest deadline first, at most
    /// `limit`. Both arms read partial indexes that hold only deadlines
    /// still waiting, so the scan costs what is due, not what is stored.
    /// The core decides what escalates.
    pub async fn work_orders_due(&self, now: Timestamp, limit: i64) -> Result<Vec<(i64, i64)>> {
        let rows: Vec<(i64, i64, i64)> = sqlx::query_as(
            "SELECT id, incident_id, accept_by AS due FROM work_orders
             WHERE status = 'created' AND escalated_accept = 0 AND accept_by < $1
             UNION
             SELECT id, incident_id, finish_by AS due FROM work_orders
             WHERE status IN ('created', 'accepted', 'in_progress') AND escalated_finish = 0
               AND finish_by < $1
             ORDER BY due, id LIMIT $2",
        )
        .bind(now.millis())
        .bind(limit)
        .fetch_all(self.reader())
        .await?;
        let mut due: Vec<(i64, i64)> = Vec::with_capacity(rows.len());
        for (id, incident_id, _) in rows {
            if !due.iter().any(|(seen, _)| *seen == id) {
                due.push((id, incident_id));
            }
        }
        Ok(due)
    }
}

impl Tx {
    /// Stores the escalation flags of `after`, only if the work order is
    /// still as `before` was read: `false` when another instance escalated
    /// it or its department moved it meanwhile, and nothing is written.
    pub async fn record_escalation(
        &mut self,
        before: &WorkOrder,
        after: &WorkOrder,
        now: Timestamp,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE work_orders SET escalated_accept = $1, escalated_finish = $2, updated_at = $3
             WHERE id = $4 AND status = $5 AND escalated_accept = $6 AND escalated_finish = $7",
        )
        .bind(i64::from(after.escalated_accept))
        .bind(i64::from(after.escalated_finish))
        .bind(now.millis())
        .bind(before.id)
        .bind(before.status.as_str())
        .bind(i64::from(before.escalated_accept))
        .bind(i64::from(before.escalated_finish))
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
