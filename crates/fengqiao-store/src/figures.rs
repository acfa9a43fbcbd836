//! The facts the figures are computed from (`fengqiao_core::figures`): the
//! incidents of a subtree and period, their work orders, and from their
//! timelines the repeat links and the callers' latest answers. Three plain
//! queries that read the same on both backends; the counting is the core's.

use std::collections::HashMap;
use std::str::FromStr;

use fengqiao_core::china_time::ChinaDay;
use fengqiao_core::dispute::{FollowUpStatus, RiskLevel};
use fengqiao_core::figures::{
    DisputeFacts, IncidentFacts, MediationEnd, PreventionFacts, TaskFacts, UnitResponse,
    WarningFacts,
};
use fengqiao_core::incident::{Group, Satisfaction};
use fengqiao_core::warning::{SubjectKind, WarningSubject};
use fengqiao_core::Timestamp;

use crate::incidents::{
    from_name, incident_from_row, work_order_from_row, StoredIncident, INCIDENT_COLUMNS,
    WORK_ORDER_COLUMNS,
};
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
            "SELECT id, received_at, building_id, grp, category, status FROM incidents
             WHERE id IN ({CONCERNED}) ORDER BY id"
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
                id,
                received_at: Timestamp(get(row, "received_at")?),
                building_id: get(row, "building_id")?,
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
                responses: Vec::new(),
                resolved_on_scene: false,
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

        // The timeline is the record of what happened: a link as a repeat,
        // each answer of the caller, each unit sent and arrived are events
        // there, oldest first.
        let sql = format!(
            "SELECT incident_id, at, event FROM incident_events
             WHERE incident_id IN ({CONCERNED})
               AND (event LIKE '{{\"event\":\"linked_as_repeat\"%'
                 OR event LIKE '{{\"event\":\"feedback_recorded\"%'
                 OR event LIKE '{{\"event\":\"unit_%'
                 OR event LIKE '{{\"event\":\"resolved_on_scene\"%')
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
                Some("unit_dispatched") => {
                    let force = event["force"].as_str().unwrap_or_default();
                    facts[i].responses.push(UnitResponse {
                        unit_id: event["unit_id"].as_i64().unwrap_or_default(),
                        force: from_name("force", force)?,
                        dispatched_at: Timestamp(get(row, "at")?),
                        arrived_at: None,
                    });
                }
                Some("unit_arrived") => {
                    let unit = event["unit_id"].as_i64();
                    let at = Timestamp(get(row, "at")?);
                    // The latest dispatch of that unit not yet arrived.
                    if let Some(response) = facts[i]
                        .responses
                        .iter_mut()
                        .rev()
                        .find(|r| Some(r.unit_id) == unit && r.arrived_at.is_none())
                    {
                        response.arrived_at = Some(at);
                    }
                }
                Some("resolved_on_scene") => facts[i].resolved_on_scene = true,
                _ => {}
            }
        }
        Ok(facts)
    }
}

/// Narrows the prevention figures to one community officer or one grid
/// (both at once: the officer's work in that grid).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Narrowing {
    pub officer_user_id: Option<i64>,
    pub grid_id: Option<i64>,
}

impl Store {
    /// The facts of the prevention figures (`fengqiao_core::figures::
    /// compute_prevention`) of the subtree whose path starts with `scope`,
    /// from `from` (inclusive) to `to` (exclusive):
    ///
    /// - dispute field reports filed there (`station_org_id`), narrowed by
    ///   their grid, or the grids the officer answers for;
    /// - dispute cases of its stations registered then, with their
    ///   follow-up visits, narrowed by the case's officer and the grid of
    ///   its building;
    /// - warnings its organisations must act on, raised then, narrowed by
    ///   who answers for the subject (`Store::responsibility`);
    /// - tasks on its lists for the China days that start in the period
    ///   (withdrawn ones left out), narrowed by the assignee, or the grid's
    ///   officer and grid workers.
    ///
    /// The narrowing ids are integers, written into the SQL as such.
    pub async fn prevention_facts(
        &self,
        scope: &str,
        from: Timestamp,
        to: Timestamp,
        narrowing: Narrowing,
    ) -> Result<PreventionFacts> {
        let mut facts = PreventionFacts::default();

        let mut sql = String::from(
            "SELECT f.dispute_id FROM field_reports f JOIN organisations o ON o.id = f.station_org_id
             WHERE o.path LIKE $1 || '%' AND f.kind = 'dispute'
               AND f.reported_at >= $2 AND f.reported_at < $3",
        );
        if let Some(officer) = narrowing.officer_user_id {
            sql += &format!(
                " AND f.grid_id IN (SELECT id FROM grids WHERE officer_user_id = {officer})"
            );
        }
        if let Some(grid) = narrowing.grid_id {
            sql += &format!(" AND f.grid_id = {grid}");
        }
        let rows = sqlx::query(&sql)
            .bind(scope)
            .bind(from.millis())
            .bind(to.millis())
            .fetch_all(self.reader())
            .await?;
        for row in &rows {
            let dispute_id: Option<i64> = get(row, "dispute_id")?;
            facts.screened += 1;
            facts.screened_registered += u64::from(dispute_id.is_some());
        }

        let mut cases = String::from(
            "SELECT d.id FROM disputes d JOIN organisations o ON o.id = d.org_id
             WHERE o.path LIKE $1 || '%' AND d.registered_at >= $2 AND d.registered_at < $3",
        );
        if let Some(officer) = narrowing.officer_user_id {
            cases += &format!(" AND d.officer_user_id = {officer}");
        }
        if let Some(grid) = narrowing.grid_id {
            cases +=
                &format!(" AND d.building_id IN (SELECT id FROM buildings WHERE grid_id = {grid})");
        }
        let sql = format!(
            "SELECT id, status, risk_level, mediate_by, agreed_at, outcome_reason, transfer_target
             FROM disputes WHERE id IN ({cases}) ORDER BY id"
        );
        let rows = sqlx::query(&sql)
            .bind(scope)
            .bind(from.millis())
            .bind(to.millis())
            .fetch_all(self.reader())
            .await?;
        let mut index = HashMap::with_capacity(rows.len());
        for row in &rows {
            let id: i64 = get(row, "id")?;
            let status: String = get(row, "status")?;
            let outcome_reason: Option<String> = get(row, "outcome_reason")?;
            let transfer_target: Option<String> = get(row, "transfer_target")?;
            // A reason is written only when mediation fails or the case is
            // transferred, and neither can be undone; an agreement that
            // broke sends the case back to mediating.
            let ended = if transfer_target.is_some() {
                Some(MediationEnd::Transferred)
            } else if outcome_reason.is_some() {
                Some(MediationEnd::Failed)
            } else if matches!(status.as_str(), "resolved" | "followed_up" | "closed") {
                Some(MediationEnd::Agreement)
            } else {
                None
            };
            index.insert(id, facts.disputes.len());
            let risk: String = get(row, "risk_level")?;
            facts.disputes.push(DisputeFacts {
                id,
                risk: RiskLevel::from_str(&risk)
                    .map_err(|_| StoreError::Corrupt(format!("risk_level {risk}")))?,
                mediate_by: Timestamp(get(row, "mediate_by")?),
                ended,
                agreed_at: get::<Option<i64>>(row, "agreed_at")?.map(Timestamp),
                follow_ups: Vec::new(),
            });
        }
        let sql = format!(
            "SELECT dispute_id, status FROM dispute_follow_ups WHERE dispute_id IN ({cases})
             ORDER BY id"
        );
        let rows = sqlx::query(&sql)
            .bind(scope)
            .bind(from.millis())
            .bind(to.millis())
            .fetch_all(self.reader())
            .await?;
        for row in &rows {
            let dispute_id: i64 = get(row, "dispute_id")?;
            let status: String = get(row, "status")?;
            let status = FollowUpStatus::from_str(&status)
                .map_err(|_| StoreError::Corrupt(format!("follow-up status {status}")))?;
            if let Some(&i) = index.get(&dispute_id) {
                facts.disputes[i].follow_ups.push(status);
            }
        }

        let rows = sqlx::query(
            "SELECT w.id, w.subject_kind, w.subject_id, w.status, w.acknowledge_by, w.acknowledged_at
             FROM warnings w JOIN organisations o ON o.id = w.org_id
             WHERE o.path LIKE $1 || '%' AND w.raised_at >= $2 AND w.raised_at < $3
             ORDER BY w.id",
        )
        .bind(scope)
        .bind(from.millis())
        .bind(to.millis())
        .fetch_all(self.reader())
        .await?;
        for row in &rows {
            if narrowing != Narrowing::default() {
                let kind: String = get(row, "subject_kind")?;
                let subject = WarningSubject {
                    kind: SubjectKind::from_str(&kind)
                        .map_err(|_| StoreError::Corrupt(format!("subject_kind {kind}")))?,
                    id: get(row, "subject_id")?,
                };
                let answers = self.responsibility(subject).await?;
                let officer = narrowing
                    .officer_user_id
                    .is_none_or(|id| answers.officer_user_id == Some(id));
                let grid = narrowing
                    .grid_id
                    .is_none_or(|id| answers.grid_id == Some(id));
                if !(officer && grid) {
                    continue;
                }
            }
            let status: String = get(row, "status")?;
            facts.warnings.push(WarningFacts {
                id: get(row, "id")?,
                acknowledge_by: Timestamp(get(row, "acknowledge_by")?),
                acknowledged_at: get::<Option<i64>>(row, "acknowledged_at")?.map(Timestamp),
                closed: status == "closed",
            });
        }

        let mut sql = String::from(
            "SELECT t.day, t.done_at FROM tasks t JOIN organisations o ON o.id = t.org_id
             WHERE o.path LIKE $1 || '%' AND t.status <> 'withdrawn'
               AND t.day >= $2 AND t.day < $3",
        );
        if let Some(officer) = narrowing.officer_user_id {
            sql += &format!(" AND t.assignee_user_id = {officer}");
        }
        if let Some(grid) = narrowing.grid_id {
            sql += &format!(
                " AND (t.assignee_user_id IN (SELECT officer_user_id FROM grids WHERE id = {grid})
                    OR t.assignee_user_id IN (SELECT user_id FROM grid_workers WHERE grid_id = {grid}))"
            );
        }
        sql += " ORDER BY t.id";
        let rows = sqlx::query(&sql)
            .bind(scope)
            .bind(ChinaDay::first_from(from).to_string())
            .bind(ChinaDay::first_from(to).to_string())
            .fetch_all(self.reader())
            .await?;
        for row in &rows {
            let day: String = get(row, "day")?;
            facts.tasks.push(TaskFacts {
                day: ChinaDay::parse("day", &day)
                    .map_err(|_| StoreError::Corrupt(format!("task day {day}")))?,
                done_at: get::<Option<i64>>(row, "done_at")?.map(Timestamp),
            });
        }
        Ok(facts)
    }
}

/// A building as the overview's map draws it.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildingPoint {
    pub id: i64,
    pub grid_id: Option<i64>,
    /// The compound (or road and number) and the building: 锦里小区3栋.
    pub label: String,
    /// `None` for a building not located yet: counted, but on no map.
    pub lat: Option<f64>,
    pub lon: Option<f64>,
}

/// Ids written into the SQL as integers, a few hundred at a time.
const ID_CHUNK: usize = 500;

fn id_list(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

fn point_from_row(row: &sqlx::any::AnyRow) -> Result<BuildingPoint> {
    let lat: Option<f64> = get(row, "lat")?;
    let lon: Option<f64> = get(row, "lon")?;
    let compound: Option<String> = get(row, "compound")?;
    let road: Option<String> = get(row, "road")?;
    let number: Option<String> = get(row, "road_number")?;
    let building: String = get(row, "building")?;
    let place = compound
        .or_else(|| road.map(|r| format!("{r}{}", number.unwrap_or_default())))
        .unwrap_or_default();
    Ok(BuildingPoint {
        id: get(row, "id")?,
        grid_id: get(row, "grid_id")?,
        label: format!("{place}{building}"),
        lat,
        lon,
    })
}

const POINT_COLUMNS: &str = "id, grid_id, compound, road, road_number, building, lat, lon";

impl Store {
    /// The located buildings (those with coordinates) of the communities
    /// under any of `division_prefixes`, in id order: the grids' shapes.
    pub async fn building_points_under(
        &self,
        division_prefixes: &[String],
    ) -> Result<Vec<BuildingPoint>> {
        let sql = format!(
            "SELECT {POINT_COLUMNS} FROM buildings
             WHERE community_code LIKE $1 || '%' AND lat IS NOT NULL AND lon IS NOT NULL
             ORDER BY id"
        );
        let mut points = Vec::new();
        for prefix in division_prefixes {
            let rows = sqlx::query(&sql)
                .bind(prefix.clone())
                .fetch_all(self.reader())
                .await?;
            for row in &rows {
                points.push(point_from_row(row)?);
            }
        }
        points.sort_by_key(|p| p.id);
        points.dedup_by_key(|p| p.id);
        Ok(points)
    }

    /// The buildings of `ids` as map points, in id order.
    pub async fn building_points(&self, ids: &[i64]) -> Result<Vec<BuildingPoint>> {
        let mut points = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(ID_CHUNK) {
            let sql = format!(
                "SELECT {POINT_COLUMNS} FROM buildings WHERE id IN ({}) ORDER BY id",
                id_list(chunk)
            );
            let rows = sqlx::query(&sql).fetch_all(self.reader()).await?;
            for row in &rows {
                points.push(point_from_row(row)?);
            }
        }
        points.sort_by_key(|p| p.id);
        Ok(points)
    }

    /// The incidents of `ids`, newest first: the records behind a figure,
    /// whose ids the figure's own facts chose.
    pub async fn incidents_by_ids(&self, ids: &[i64]) -> Result<Vec<StoredIncident>> {
        let mut incidents = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(ID_CHUNK) {
            let sql = format!(
                "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id IN ({})",
                id_list(chunk)
            );
            let rows = sqlx::query(&sql).fetch_all(self.reader()).await?;
            for row in &rows {
                incidents.push(incident_from_row(row)?);
            }
        }
        incidents.sort_by_key(|i| std::cmp::Reverse((i.received_at, i.id)));
        Ok(incidents)
    }
}
