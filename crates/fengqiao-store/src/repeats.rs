//! 重复报警: the earlier incidents a new one may repeat, and the links the
//! core's `RepeatCallDetector` decided, written in the intake transaction.

use fengqiao_core::category::Category;

use fengqiao_core::receipt::ReceiptNumber;
use fengqiao_core::repeat_call::CallFacts;
use fengqiao_core::Timestamp;

use crate::rows::{placeholders, ROWS_PER_STATEMENT};
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

/// An incident a new one may repeat, with what its view names it by.
#[derive(Debug, Clone)]
pub struct RepeatCandidate {
    pub station_org_id: i64,
    pub facts: CallFacts,
    pub receipt_number: ReceiptNumber,
}

impl RepeatCandidate {
    pub fn link(&self) -> RepeatLink {
        RepeatLink {
            incident_id: self.facts.incident_id,
            receipt_number: self.receipt_number.clone(),
            received_at: self.facts.received_at,
        }
    }
}

impl Tx {
    /// Incidents received from `since` on at any of `buildings` or from
    /// any of `callers` (blind indexes), of one of `families`, leaving out
    /// those cancelled as duplicates (one call reported twice is not a
    /// repeat): one look-up for a whole batch of intakes. The detector
    /// decides which of them each intake repeats; the station is the
    /// caller's to match.
    pub async fn repeat_candidates(
        &mut self,
        buildings: &[i64],
        callers: &[&[u8]],
        families: &[&str],
        since: Timestamp,
    ) -> Result<Vec<RepeatCandidate>> {
        if families.is_empty() {
            return Ok(Vec::new());
        }
        // One arm per thing to match, so each uses its own index; an arm
        // for callers the batch does not know would read the whole window.
        let columns = "id, station_org_id, receipt_number, building_id, reporter_phone_index, \
                       category, category_family, received_at";
        let list = |from: usize, count: usize| {
            (from..from + count)
                .map(|n| format!("${n}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let filter = format!(
            "received_at >= $1 AND status <> 'cancelled'
             AND category IS NOT NULL AND category_family IN ({})",
            list(2, families.len())
        );
        let mut arms = Vec::new();
        let mut next = 2 + families.len();
        for (column, count) in [
            ("building_id", buildings.len()),
            ("reporter_phone_index", callers.len()),
        ] {
            if count == 0 {
                continue;
            }
            arms.push(format!(
                "SELECT {columns} FROM incidents WHERE {column} IN ({}) AND {filter}",
                list(next, count)
            ));
            next += count;
        }
        if arms.is_empty() {
            return Ok(Vec::new());
        }
        let sql = arms.join(" UNION ");
        let mut query = sqlx::query(&sql).bind(since.millis());
        for family in families {
            query = query.bind(family.to_string());
        }
        for building in buildings {
            query = query.bind(*building);
        }
        for caller in callers {
            query = query.bind(caller.to_vec());
        }
        let rows = query.fetch_all(self.conn()).await?;
        rows.iter()
            .map(|row| {
                let code: String = get(row, "category")?;
                let family: String = get(row, "category_family")?;
                let receipt: String = get(row, "receipt_number")?;
                Ok(RepeatCandidate {
                    station_org_id: get(row, "station_org_id")?,
                    facts: CallFacts {
                        incident_id: get(row, "id")?,
                        address_id: get(row, "building_id")?,
                        caller_index: get(row, "reporter_phone_index")?,
                        category: Category::new(&code, &family)
                            .map_err(|_| corrupt("category", (&code, &family)))?,
                        received_at: Timestamp(get(row, "received_at")?),
                    },
                    receipt_number: ReceiptNumber::parse(&receipt)
                        .map_err(|_| corrupt("receipt", &receipt))?,
                })
            })
            .collect()
    }

    /// Records each `(incident, earlier)` link, a few statements for any
    /// number.
    pub async fn insert_repeat_links(&mut self, links: &[(i64, i64)]) -> Result<()> {
        for chunk in links.chunks(ROWS_PER_STATEMENT * 4) {
            let sql = format!(
                "INSERT INTO incident_repeats (incident_id, earlier_id) VALUES {}
                 ON CONFLICT DO NOTHING",
                placeholders(chunk.len(), 2)
            );
            let mut query = sqlx::query(&sql);
            for (incident_id, earlier_id) in chunk {
                query = query.bind(*incident_id).bind(*earlier_id);
            }
            query.execute(self.conn()).await?;
        }
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
