//! 重复报警: the earlier incidents a new one may repeat, and the links the
//! core's `RepeatCallDetector` decided, written in the intake transaction.

use fengqiao_core::category::Category;

use fengqiao_core::receipt::ReceiptNumber;
use fengqiao_core::repeat_call::CallFacts;
use fengqiao_core::Timestamp;

use crate::rows::placeholders;
use crate::{get, Result, Store, StoreError, Tx};

/// An earlier incident a new one repeats, as its view names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepeatLink {
    pub incident_id: i64,
    pub receipt_number: ReceiptNumber,
    pub received_at: Timestamp,
}

fn corrupt(what: &str, value: impl std::fmt::Debug) -> StoreError {
    StoreError::Corrupt(format!("{what} {value:?}"))
}

impl Tx {
    /// Incidents of `station_org_id` received from `since` on at the same
    /// building or from the same caller (blind index), with a category,
    /// leaving out those cancelled as duplicates (one call reported twice is
    /// not a repeat). The detector decides which of them are repeats.
    pub async fn repeat_candidates(
        &mut self,
        station_org_id: i64,
        building_id: Option<i64>,
        caller_index: Option<&[u8]>,
        since: Timestamp,
    ) -> Result<Vec<CallFacts>> {
        if building_id.is_none() && caller_index.is_none() {
            return Ok(Vec::new());
        }
        // One arm per thing to match, so each uses its own index; an arm
        // for a caller the intake does not know would read the station's
        // whole window.
        let columns =
            "id, building_id, reporter_phone_index, category, category_family, received_at";
        let filter = "station_org_id = $1 AND received_at >= $2 AND status <> 'cancelled'
                      AND category IS NOT NULL AND category_family IS NOT NULL";
        let mut arms = Vec::new();
        if building_id.is_some() {
            arms.push("building_id");
        }
        if caller_index.is_some() {
            arms.push("reporter_phone_index");
        }
        let sql = arms
            .iter()
            .enumerate()
            .map(|(n, column)| {
                format!(
                    "SELECT {columns} FROM incidents WHERE {column} = ${} AND {filter}",
                    n + 3
                )
            })
            .collect::<Vec<_>>()
            .join(" UNION ");
        let mut query = sqlx::query(&sql).bind(station_org_id).bind(since.millis());
        if let Some(building_id) = building_id {
            query = query.bind(building_id);
        }
        if let Some(caller_index) = caller_index {
            query = query.bind(caller_index.to_vec());
        }
        let rows = query.fetch_all(self.conn()).await?;
        rows.iter()
            .map(|row| {
                let code: String = get(row, "category")?;
                let family: String = get(row, "category_family")?;
                Ok(CallFacts {
                    incident_id: get(row, "id")?,
                    address_id: get(row, "building_id")?,
                    caller_index: get(row, "reporter_phone_index")?,
                    category: Category::new(&code, &family)
                        .map_err(|_| corrupt("category", (&code, &family)))?,
                    received_at: Timestamp(get(row, "received_at")?),
                })
            })
            .collect()
    }

    /// Records that `incident_id` repeats each of `earlier`, in one
    /// statement.
    pub async fn insert_repeat_links(&mut self, incident_id: i64, earlier: &[i64]) -> Result<()> {
        if earlier.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "INSERT INTO incident_repeats (incident_id, earlier_id) VALUES {}
             ON CONFLICT DO NOTHING",
            placeholders(earlier.len(), 2)
        );
        let mut query = sqlx::query(&sql);
        for earlier_id in earlier {
            query = query.bind(incident_id).bind(*earlier_id);
        }
        query.execute(self.conn()).await?;
        Ok(())
    }
}

impl Store {
    /// The earlier incidents `incident_id` repeats, oldest first.
    pub async fn repeats_of(&self, incident_id: i64) -> Result<Vec<RepeatLink>> {
        let rows = sqlx::query(
            "SELECT i.id, i.receipt_number, i.received_at FROM incident_repeats r
             JOIN incidents i ON i.id = r.earlier_id
             WHERE r.incident_id = $1 ORDER BY i.received_at, i.id",
        )
        .bind(incident_id)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|row| {
                let receipt: String = get(row, "receipt_number")?;
                Ok(RepeatLink {
                    incident_id: get(row, "id")?,
                    receipt_number: ReceiptNumber::parse(&receipt)
                        .map_err(|_| corrupt("receipt", &receipt))?,
                    received_at: Timestamp(get(row, "received_at")?),
                })
            })
            .collect()
    }
}
