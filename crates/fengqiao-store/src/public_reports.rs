//! What the public ways in need besides intake: finding an incident by its
//! receipt number, listing the requests of one source for Open311, and the
//! per-building counts that limit reports from a plate's page.

use fengqiao_core::incident::IncidentSource;
use fengqiao_core::Timestamp;

use crate::{Result, Store, Tx};

/// Which incidents of one source to list, newest first. Empty lists and
/// `None` filter nothing.
#[derive(Debug, Clone)]
pub struct SourceQuery {
    pub source: IncidentSource,
    pub receipt_numbers: Vec<String>,
    pub categories: Vec<String>,
    pub received_from: Option<Timestamp>,
    pub received_until: Option<Timestamp>,
    /// Only incidents received by a station under this organisation path.
    pub station_scope: Option<String>,
    pub limit: i64,
}

impl Store {
    pub async fn incident_id_by_receipt(&self, receipt_number: &str) -> Result<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT id FROM incidents WHERE receipt_number = $1")
                .bind(receipt_number)
                .fetch_optional(self.reader())
                .await?,
        )
    }

    /// The ids of the incidents `query` selects, newest first.
    pub async fn incident_ids_from_source(&self, query: &SourceQuery) -> Result<Vec<i64>> {
        let mut sql = String::from("SELECT id FROM incidents WHERE source = $1");
        let mut n = 1;
        let mut next = || {
            n += 1;
            format!("${n}")
        };
        let list = |values: &[String], next: &mut dyn FnMut() -> String| {
            values.iter().map(|_| next()).collect::<Vec<_>>().join(", ")
        };
        if !query.receipt_numbers.is_empty() {
            sql += &format!(
                " AND receipt_number IN ({})",
                list(&query.receipt_numbers, &mut next)
            );
        }
        if !query.categories.is_empty() {
            sql += &format!(" AND category IN ({})", list(&query.categories, &mut next));
        }
        if query.received_from.is_some() {
            sql += &format!(" AND received_at >= {}", next());
        }
        if query.received_until.is_some() {
            sql += &format!(" AND received_at <= {}", next());
        }
        if query.station_scope.is_some() {
            sql += &format!(
                " AND station_org_id IN (SELECT id FROM organisations WHERE path LIKE {} || '%')",
                next()
            );
        }
        sql += &format!(" ORDER BY received_at DESC, id DESC LIMIT {}", next());
        let mut statement = sqlx::query_scalar(&sql).bind(query.source.as_str());
        for value in query.receipt_numbers.iter().chain(&query.categories) {
            statement = statement.bind(value.clone());
        }
        for at in [query.received_from, query.received_until]
            .into_iter()
            .flatten()
        {
            statement = statement.bind(at.millis());
        }
        if let Some(scope) = &query.station_scope {
            statement = statement.bind(scope.clone());
        }
        Ok(statement.bind(query.limit).fetch_all(self.reader()).await?)
    }
}

impl Tx {
    /// Counts one more report from `building_id`'s plate in the window of
    /// `window_ms` that starts at `window_start`, and returns the count with
    /// it. The row stays locked until the transaction ends, so concurrent
    /// reports are counted one after the other, and a rolled-back report
    /// gives its count back. Windows older than `forget_before` are dropped.
    pub async fn count_public_report(
        &mut self,
        building_id: i64,
        window_ms: i64,
        window_start: Timestamp,
        forget_before: Timestamp,
    ) -> Result<i64> {
        sqlx::query(
            "DELETE FROM public_report_counts WHERE building_id = $1 AND window_start < $2",
        )
        .bind(building_id)
        .bind(forget_before.millis())
        .execute(self.conn())
        .await?;
        Ok(sqlx::query_scalar(
            "INSERT INTO public_report_counts (building_id, window_ms, window_start, reports)
             VALUES ($1, $2, $3, 1)
             ON CONFLICT (building_id, window_ms, window_start)
             DO UPDATE SET reports = public_report_counts.reports + 1
             RETURNING reports",
        )
        .bind(building_id)
        .bind(window_ms)
        .bind(window_start.millis())
        .fetch_one(self.conn())
        .await?)
    }
}
