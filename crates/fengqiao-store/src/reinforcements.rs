//! Reinforcement requests (增援) of a war zone, as the core decides them
//! (`fengqiao_core::reinforcement`).

use fengqiao_core::audit::Actor;
use fengqiao_core::reinforcement::{Reinforcement, ReinforcementStatus};
use fengqiao_core::work_order::HandlingNote;
use fengqiao_core::Timestamp;
use sqlx::any::AnyRow;

use crate::rows::{corrupt, placeholders};
use crate::{get, Result, Store, Tx};

const COLUMNS: &str = "id, incident_id, station_org_id, war_zone_org_id, unit_ids, reason,
    status, requested_by, requested_at, decided_by, decided_at, note";

fn actor(text: &str) -> Result<Actor> {
    Actor::from_stored(text).ok_or_else(|| corrupt("actor", text))
}

fn note(field: &str, text: &str) -> Result<HandlingNote> {
    HandlingNote::parse(field, text).map_err(|_| corrupt(field, text))
}

fn reinforcement_from_row(row: &AnyRow) -> Result<Reinforcement> {
    let unit_ids: String = get(row, "unit_ids")?;
    let status: String = get(row, "status")?;
    let requested_by: String = get(row, "requested_by")?;
    let reason: String = get(row, "reason")?;
    Ok(Reinforcement {
        id: get(row, "id")?,
        incident_id: get(row, "incident_id")?,
        station_org_id: get(row, "station_org_id")?,
        war_zone_org_id: get(row, "war_zone_org_id")?,
        unit_ids: serde_json::from_str(&unit_ids).map_err(|_| corrupt("unit_ids", &unit_ids))?,
        reason: note("reason", &reason)?,
        status: ReinforcementStatus::parse(&status).map_err(|_| corrupt("status", &status))?,
        requested_by: actor(&requested_by)?,
        requested_at: Timestamp(get(row, "requested_at")?),
        decided_by: get::<Option<String>>(row, "decided_by")?
            .as_deref()
            .map(actor)
            .transpose()?,
        decided_at: get::<Option<i64>>(row, "decided_at")?.map(Timestamp),
        note: get::<Option<String>>(row, "note")?
            .as_deref()
            .map(|n| note("note", n))
            .transpose()?,
    })
}

/// A request as it is first written.
#[derive(Debug, Clone)]
pub struct NewReinforcement {
    pub incident_id: i64,
    pub station_org_id: i64,
    pub war_zone_org_id: i64,
    pub unit_ids: Vec<i64>,
    pub reason: HandlingNote,
    pub requested_by: Actor,
}

impl Store {
    pub async fn reinforcement(&self, id: i64) -> Result<Option<Reinforcement>> {
        let sql = format!("SELECT {COLUMNS} FROM reinforcements WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(self.reader())
            .await?;
        row.as_ref().map(reinforcement_from_row).transpose()
    }

    /// The requests to these war zones, newest first; `status` narrows
    /// them when given.
    pub async fn reinforcements_to(
        &self,
        war_zone_org_ids: &[i64],
        status: Option<ReinforcementStatus>,
        limit: i64,
    ) -> Result<Vec<Reinforcement>> {
        if war_zone_org_ids.is_empty() {
            return Ok(Vec::new());
        }
        let n = war_zone_org_ids.len();
        let sql = format!(
            "SELECT {COLUMNS} FROM reinforcements
             WHERE war_zone_org_id IN {} AND (${} = '' OR status = ${})
             ORDER BY id DESC LIMIT ${}",
            placeholders(1, n),
            n + 1,
            n + 1,
            n + 2
        );
        let mut query = sqlx::query(&sql);
        for id in war_zone_org_ids {
            query = query.bind(*id);
        }
        let query = query
            .bind(status.map_or("", ReinforcementStatus::as_str))
            .bind(limit);
        let rows = query.fetch_all(self.reader()).await?;
        rows.iter().map(reinforcement_from_row).collect()
    }

    /// The requests made for one incident, oldest first.
    pub async fn reinforcements_for(&self, incident_id: i64) -> Result<Vec<Reinforcement>> {
        let sql =
            format!("SELECT {COLUMNS} FROM reinforcements WHERE incident_id = $1 ORDER BY id");
        let rows = sqlx::query(&sql)
            .bind(incident_id)
            .fetch_all(self.reader())
            .await?;
        rows.iter().map(reinforcement_from_row).collect()
    }

    /// Police incidents of the station handed to its command room that no
    /// unit has been sent to yet: the queue a station is judged overloaded
    /// by.
    pub async fn police_incidents_waiting(&self, station_org_id: i64) -> Result<i64> {
        let (count,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM incidents i
             WHERE i.station_org_id = $1 AND i.status = 'dispatched' AND i.grp = 'police'
               AND NOT EXISTS (SELECT 1 FROM unit_events e WHERE e.incident_id = i.id)",
        )
        .bind(station_org_id)
        .fetch_one(self.reader())
        .await?;
        Ok(count)
    }
}

impl Tx {
    pub async fn insert_reinforcement(
        &mut self,
        new: &NewReinforcement,
        now: Timestamp,
    ) -> Result<i64> {
        let unit_ids = serde_json::to_string(&new.unit_ids).map_err(|e| corrupt("unit_ids", e))?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO reinforcements (incident_id, station_org_id, war_zone_org_id, unit_ids,
                 reason, status, requested_by, requested_at)
             VALUES ($1, $2, $3, $4, $5, 'requested', $6, $7) RETURNING id",
        )
        .bind(new.incident_id)
        .bind(new.station_org_id)
        .bind(new.war_zone_org_id)
        .bind(unit_ids)
        .bind(new.reason.as_str())
        .bind(new.requested_by.to_stored())
        .bind(now.millis())
        .fetch_one(self.conn())
        .await?;
        Ok(id)
    }

    /// The request, kept from other writers until the transaction ends.
    pub async fn lock_reinforcement(&mut self, id: i64) -> Result<Option<Reinforcement>> {
        let lock = self.lock_clause();
        let sql = format!("SELECT {COLUMNS} FROM reinforcements WHERE id = $1{lock}");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(self.conn())
            .await?;
        row.as_ref().map(reinforcement_from_row).transpose()
    }

    pub async fn update_reinforcement(&mut self, decided: &Reinforcement) -> Result<()> {
        sqlx::query(
            "UPDATE reinforcements SET status = $2, decided_by = $3, decided_at = $4, note = $5
             WHERE id = $1",
        )
        .bind(decided.id)
        .bind(decided.status.as_str())
        .bind(decided.decided_by.as_ref().map(Actor::to_stored))
        .bind(decided.decided_at.map(Timestamp::millis))
        .bind(decided.note.as_ref().map(|n| n.as_str().to_owned()))
        .execute(self.conn())
        .await?;
        Ok(())
    }
}
