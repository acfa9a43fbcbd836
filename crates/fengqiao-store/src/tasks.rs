//! The daily task list (工作清单). The core decides what a task is and how it
//! moves (`fengqiao_core::task`); this module writes it. Two unique indexes
//! make generation idempotent: one task per person, natural key and day, and
//! one open task per person and natural key, and inserting uses `ON CONFLICT
//! DO NOTHING`, so a list generated twice, or by two instances at once,
//! holds each task once.

use std::str::FromStr;

use fengqiao_core::audit::Actor;
use fengqiao_core::china_time::ChinaDay;
use fengqiao_core::task::{
    Assignee, AssigneeRole, DoneRecord, NewTask, Task, TaskKind, TaskOutcome, TaskStatus,
    VisitCandidate,
};
use fengqiao_core::warning::{SubjectKind, WarningSubject};
use fengqiao_core::work_order::HandlingNote;
use fengqiao_core::Timestamp;
use sqlx::any::AnyRow;

use crate::{get, Result, Store, StoreError, Tx};

const TASK_COLUMNS: &str = "t.id, t.org_id, t.assignee_user_id, t.assignee_role, t.kind,
    t.subject_id, t.natural_key, t.day, t.title, t.details, t.status, t.created_at,
    t.created_by, t.done_at, t.done_by, t.outcome, t.place, t.note, t.withdrawn_at";

/// The grids a person answers for, as the officer or as a grid worker.
const RESPONSIBLE: &str = "(g.officer_user_id = $1
    OR EXISTS (SELECT 1 FROM grid_workers gw WHERE gw.grid_id = g.id AND gw.user_id = $1))";

fn corrupt(what: &str, value: impl std::fmt::Debug) -> StoreError {
    StoreError::Corrupt(format!("{what} {value:?}"))
}

fn actor(row: &AnyRow, column: &str) -> Result<Option<Actor>> {
    let text: Option<String> = get(row, column)?;
    text.map(|t| Actor::from_stored(&t).ok_or_else(|| corrupt(column, &t)))
        .transpose()
}

fn task_from_row(row: &AnyRow) -> Result<Task> {
    let role: String = get(row, "assignee_role")?;
    let kind: String = get(row, "kind")?;
    let day: String = get(row, "day")?;
    let status: String = get(row, "status")?;
    let outcome: Option<String> = get(row, "outcome")?;
    let place: Option<String> = get(row, "place")?;
    let note: Option<String> = get(row, "note")?;
    let record = match (outcome, place, note) {
        (Some(outcome), Some(place), Some(note)) => Some(DoneRecord {
            outcome: TaskOutcome::from_str(&outcome).map_err(|_| corrupt("outcome", &outcome))?,
            place,
            note: HandlingNote::parse("note", &note).map_err(|_| corrupt("note", &note))?,
        }),
        _ => None,
    };
    Ok(Task {
        id: get(row, "id")?,
        org_id: get(row, "org_id")?,
        assignee: Assignee {
            user_id: get(row, "assignee_user_id")?,
            role: AssigneeRole::parse_stored(&role)
                .ok_or_else(|| corrupt("assignee_role", &role))?,
        },
        kind: TaskKind::from_str(&kind).map_err(|_| corrupt("kind", &kind))?,
        subject_id: get(row, "subject_id")?,
        natural_key: get(row, "natural_key")?,
        day: ChinaDay::parse("day", &day).map_err(|_| corrupt("day", &day))?,
        title: get(row, "title")?,
        details: get(row, "details")?,
        status: TaskStatus::from_str(&status).map_err(|_| corrupt("status", &status))?,
        created_at: Timestamp(get(row, "created_at")?),
        created_by: actor(row, "created_by")?.ok_or_else(|| corrupt("created_by", "none"))?,
        done_at: get::<Option<i64>>(row, "done_at")?.map(Timestamp),
        done_by: actor(row, "done_by")?,
        record,
        withdrawn_at: get::<Option<i64>>(row, "withdrawn_at")?.map(Timestamp),
    })
}

/// A task of a station's lists, with the username of the person it is for.
#[derive(Debug, Clone)]
pub struct StationTask {
    pub task: Task,
    pub assignee_username: String,
}

/// A building of a person's grids, for the routine-visit source.
#[derive(Debug, Clone)]
pub struct VisitBuilding {
    pub candidate: VisitCandidate,
    /// The station of its grid.
    pub station_org_id: Option<i64>,
    /// The person is the grid's officer (else one of its grid workers).
    pub as_officer: bool,
    pub label: String,
}

/// An open dispute case a person answers for, as the task sources read it.
#[derive(Debug, Clone)]
pub struct DisputeWork {
    pub dispute_id: i64,
    /// The station of the case.
    pub org_id: i64,
    pub address_text: String,
    pub status: String,
    /// The next mediation session planned, if any.
    pub next_session_at: Option<Timestamp>,
    /// The last step of its lifecycle.
    pub progress_at: Timestamp,
}

/// A follow-up visit of a case, pending and due.
#[derive(Debug, Clone)]
pub struct FollowUpDue {
    pub follow_up_id: i64,
    pub dispute_id: i64,
    pub due_at: Timestamp,
    pub org_id: i64,
    pub address_text: String,
}

/// The cases a person answers for: their own, or, without an officer, those
/// on buildings of the grids they are the officer of.
const DISPUTE_OFFICER: &str = "(d.officer_user_id = $1
    OR (d.officer_user_id IS NULL AND d.building_id IN
        (SELECT b.id FROM buildings b JOIN grids g ON g.id = b.grid_id
         WHERE g.officer_user_id = $1)))";

/// A warning not yet closed that may be a person's to close.
#[derive(Debug, Clone)]
pub struct WarningToClose {
    pub warning_id: i64,
    pub rule: String,
    /// The organisation the warning was raised for.
    pub org_id: i64,
    pub subject: WarningSubject,
}

/// 锦里小区3栋, or 浆洗街12号1栋 where a building has no compound.
fn building_label(row: &AnyRow) -> Result<String> {
    let compound: Option<String> = get(row, "compound")?;
    let road: Option<String> = get(row, "road")?;
    let number: Option<String> = get(row, "road_number")?;
    let building: String = get(row, "building")?;
    let place = match (compound, road) {
        (Some(compound), _) => compound,
        (None, Some(road)) => format!("{road}{}", number.unwrap_or_default()),
        (None, None) => String::new(),
    };
    Ok(format!("{place}{building}"))
}

impl Store {
    pub async fn task(&self, id: i64) -> Result<Option<Task>> {
        let sql = format!("SELECT {TASK_COLUMNS} FROM tasks t WHERE t.id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(self.reader())
            .await?;
        row.as_ref().map(task_from_row).transpose()
    }

    /// A person's list for `today`: the open tasks of today and of earlier
    /// days (carried over), oldest day first.
    pub async fn tasks_on_list(&self, user_id: i64, today: ChinaDay) -> Result<Vec<Task>> {
        let sql = format!(
            "SELECT {TASK_COLUMNS} FROM tasks t
             WHERE t.assignee_user_id = $1 AND t.status = 'open' AND t.day <= $2
             ORDER BY t.day, t.id"
        );
        let rows = sqlx::query(&sql)
            .bind(user_id)
            .bind(today.to_string())
            .fetch_all(self.reader())
            .await?;
        rows.iter().map(task_from_row).collect()
    }

    /// The lists of `day` of the organisations under `scope`: every task of
    /// that day, and the open ones carried over from before it.
    pub async fn tasks_within(&self, scope: &str, day: ChinaDay) -> Result<Vec<StationTask>> {
        let sql = format!(
            "SELECT {TASK_COLUMNS}, u.username FROM tasks t JOIN users u ON u.id = t.assignee_user_id
             WHERE t.org_id IN (SELECT id FROM organisations WHERE path LIKE $1 || '%')
               AND (t.day = $2 OR (t.status = 'open' AND t.day < $2))
             ORDER BY u.username, t.day, t.id"
        );
        let rows = sqlx::query(&sql)
            .bind(scope)
            .bind(day.to_string())
            .fetch_all(self.reader())
            .await?;
        rows.iter()
            .map(|row| {
                Ok(StationTask {
                    task: task_from_row(row)?,
                    assignee_username: get(row, "username")?,
                })
            })
            .collect()
    }

    /// Everyone who answers for a grid (its officer, its grid workers) or
    /// for a dispute case and can still sign in: the people who get a
    /// generated list.
    pub async fn task_doers(&self) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT u.id FROM users u
             WHERE u.disabled_at IS NULL
               AND (u.id IN (SELECT officer_user_id FROM grids WHERE officer_user_id IS NOT NULL)
                    OR u.id IN (SELECT user_id FROM grid_workers)
                    OR u.id IN (SELECT officer_user_id FROM disputes
                                WHERE officer_user_id IS NOT NULL AND status <> 'closed'))
             ORDER BY u.id",
        )
        .fetch_all(self.reader())
        .await?)
    }

    /// Whether `user_id` answers for a grid of the station at `station_id`.
    pub async fn answers_for_station(&self, user_id: i64, station_id: i64) -> Result<bool> {
        let sql =
            format!("SELECT COUNT(*) FROM grids g WHERE g.station_org_id = $2 AND {RESPONSIBLE}");
        let count: i64 = sqlx::query_scalar(&sql)
            .bind(user_id)
            .bind(station_id)
            .fetch_one(self.reader())
            .await?;
        Ok(count > 0)
    }

    /// The buildings of a person's grids with their last done visit (by
    /// anyone) and whether a visit of them is open on anyone's list.
    pub async fn visit_buildings(&self, user_id: i64) -> Result<Vec<VisitBuilding>> {
        let sql = format!(
            "SELECT b.id, b.compound, b.road, b.road_number, b.building, g.station_org_id,
                    CAST(CASE WHEN g.officer_user_id = $1 THEN 1 ELSE 0 END AS BIGINT) AS as_officer,
                    (SELECT MAX(t.done_at) FROM tasks t
                      WHERE t.kind = 'routine_visit' AND t.subject_id = b.id AND t.status = 'done')
                      AS last_visit,
                    (SELECT COUNT(*) FROM tasks t
                      WHERE t.kind = 'routine_visit' AND t.subject_id = b.id AND t.status = 'open')
                      AS open_visits
             FROM buildings b JOIN grids g ON g.id = b.grid_id
             WHERE {RESPONSIBLE}
             ORDER BY b.id"
        );
        let rows = sqlx::query(&sql)
            .bind(user_id)
            .fetch_all(self.reader())
            .await?;
        rows.iter()
            .map(|row| {
                let last: Option<i64> = get(row, "last_visit")?;
                let open: i64 = get(row, "open_visits")?;
                let as_officer: i64 = get(row, "as_officer")?;
                Ok(VisitBuilding {
                    candidate: VisitCandidate {
                        building_id: get(row, "id")?,
                        last_visited: last.map(|at| ChinaDay::of(Timestamp(at))),
                        visit_open: open > 0,
                    },
                    station_org_id: get(row, "station_org_id")?,
                    as_officer: as_officer == 1,
                    label: building_label(row)?,
                })
            })
            .collect()
    }

    /// The warnings not closed that may be a person's to close: delivered
    /// to them as officer or grid worker, on a building of their grids (on
    /// the building, an incident or work order there, a dispute case
    /// there), or on a case they are the officer of. Who really answers for
    /// each is `Store::responsibility`'s to say.
    pub async fn warnings_to_close(&self, user_id: i64) -> Result<Vec<WarningToClose>> {
        let sql = format!(
            "SELECT w.id, w.rule, w.org_id, w.subject_kind, w.subject_id
             FROM warnings w
             WHERE w.status <> 'closed'
               AND (w.id IN (SELECT r.warning_id FROM warning_recipients r
                             WHERE r.user_id = $1 AND r.reason IN ('officer', 'grid_worker'))
                    OR (w.subject_kind = 'case' AND w.subject_id IN
                        (SELECT d.id FROM disputes d WHERE d.officer_user_id = $1))
                    OR (CASE w.subject_kind
                          WHEN 'address' THEN w.subject_id
                          WHEN 'incident' THEN (SELECT i.building_id FROM incidents i
                                                WHERE i.id = w.subject_id)
                          WHEN 'work_order' THEN (SELECT i.building_id FROM work_orders o
                              JOIN incidents i ON i.id = o.incident_id WHERE o.id = w.subject_id)
                          WHEN 'case' THEN (SELECT d.building_id FROM disputes d
                                            WHERE d.id = w.subject_id)
                        END) IN (SELECT b.id FROM buildings b JOIN grids g ON g.id = b.grid_id
                                 WHERE {RESPONSIBLE}))
             ORDER BY w.id"
        );
        let rows = sqlx::query(&sql)
            .bind(user_id)
            .fetch_all(self.reader())
            .await?;
        rows.iter()
            .map(|row| {
                let kind: String = get(row, "subject_kind")?;
                Ok(WarningToClose {
                    warning_id: get(row, "id")?,
                    rule: get(row, "rule")?,
                    org_id: get(row, "org_id")?,
                    subject: WarningSubject {
                        kind: SubjectKind::from_str(&kind)
                            .map_err(|_| corrupt("subject_kind", &kind))?,
                        id: get(row, "subject_id")?,
                    },
                })
            })
            .collect()
    }

    /// The open dispute cases a person answers for: as their officer, or as
    /// the officer of the grid of a case that has none.
    pub async fn disputes_of_officer(&self, user_id: i64) -> Result<Vec<DisputeWork>> {
        let sql = format!(
            "SELECT d.id, d.org_id, d.address_text, d.status, d.next_session_at, d.progress_at
             FROM disputes d
             WHERE d.status <> 'closed' AND {DISPUTE_OFFICER}
             ORDER BY d.id"
        );
        let rows = sqlx::query(&sql)
            .bind(user_id)
            .fetch_all(self.reader())
            .await?;
        rows.iter()
            .map(|row| {
                Ok(DisputeWork {
                    dispute_id: get(row, "id")?,
                    org_id: get(row, "org_id")?,
                    address_text: get(row, "address_text")?,
                    status: get(row, "status")?,
                    next_session_at: get::<Option<i64>>(row, "next_session_at")?.map(Timestamp),
                    progress_at: Timestamp(get(row, "progress_at")?),
                })
            })
            .collect()
    }

    /// Follow-up visits (回访) still pending and due before `before`, of the
    /// cases a person answers for.
    pub async fn follow_ups_due(
        &self,
        user_id: i64,
        before: Timestamp,
    ) -> Result<Vec<FollowUpDue>> {
        let sql = format!(
            "SELECT f.id, f.dispute_id, f.due_at, d.org_id, d.address_text
             FROM dispute_follow_ups f JOIN disputes d ON d.id = f.dispute_id
             WHERE f.status = 'pending' AND f.due_at < $2 AND d.status <> 'closed'
               AND {DISPUTE_OFFICER}
             ORDER BY f.due_at, f.id"
        );
        let rows = sqlx::query(&sql)
            .bind(user_id)
            .bind(before.millis())
            .fetch_all(self.reader())
            .await?;
        rows.iter()
            .map(|row| {
                Ok(FollowUpDue {
                    follow_up_id: get(row, "id")?,
                    dispute_id: get(row, "dispute_id")?,
                    due_at: Timestamp(get(row, "due_at")?),
                    org_id: get(row, "org_id")?,
                    address_text: get(row, "address_text")?,
                })
            })
            .collect()
    }

    /// The case a follow-up visit belongs to.
    pub async fn dispute_of_follow_up(&self, follow_up_id: i64) -> Result<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT dispute_id FROM dispute_follow_ups WHERE id = $1")
                .bind(follow_up_id)
                .fetch_optional(self.reader())
                .await?,
        )
    }

    /// When the lists of `day` were last generated.
    pub async fn task_day_generated(&self, day: ChinaDay) -> Result<Option<Timestamp>> {
        let at: Option<i64> =
            sqlx::query_scalar("SELECT generated_at FROM task_days WHERE day = $1")
                .bind(day.to_string())
                .fetch_optional(self.reader())
                .await?;
        Ok(at.map(Timestamp))
    }
}

impl Tx {
    /// Puts a task on a list and returns its id, or `None` when the same
    /// task is there already (for the day, or still open from before).
    /// Never fails on that conflict, so the transaction goes on.
    pub async fn insert_task(&mut self, new: &NewTask, now: Timestamp) -> Result<Option<i64>> {
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO tasks (org_id, assignee_user_id, assignee_role, kind, subject_id,
                 natural_key, day, title, details, status, created_at, created_by, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'open', $10, $11, $12)
             ON CONFLICT DO NOTHING
             RETURNING id",
        )
        .bind(new.org_id)
        .bind(new.assignee.user_id)
        .bind(new.assignee.role.as_str())
        .bind(new.kind.as_str())
        .bind(new.subject_id)
        .bind(new.natural_key.clone())
        .bind(new.day.to_string())
        .bind(new.title.clone())
        .bind(new.details.clone())
        .bind(new.created_at.millis())
        .bind(new.created_by.to_stored())
        .bind(now.millis())
        .fetch_optional(self.conn())
        .await?;
        Ok(id)
    }

    /// The task a person already has under `natural_key` for `day` or still
    /// open: what a retried assignment answers with.
    pub async fn same_task(
        &mut self,
        user_id: i64,
        natural_key: &str,
        day: ChinaDay,
    ) -> Result<Option<Task>> {
        let sql = format!(
            "SELECT {TASK_COLUMNS} FROM tasks t
             WHERE t.assignee_user_id = $1 AND t.natural_key = $2
               AND (t.day = $3 OR t.status = 'open')
             ORDER BY t.id LIMIT 1"
        );
        let row = sqlx::query(&sql)
            .bind(user_id)
            .bind(natural_key)
            .bind(day.to_string())
            .fetch_optional(self.conn())
            .await?;
        row.as_ref().map(task_from_row).transpose()
    }

    /// Routine visits on a person's list of `today`: today's, whatever
    /// their state, and those carried over that were still open when the
    /// day began (open now, or done today).
    pub async fn routine_visits_on_list(&mut self, user_id: i64, today: ChinaDay) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM tasks
             WHERE assignee_user_id = $1 AND kind = 'routine_visit'
               AND (day = $2 OR (day < $2 AND (status = 'open' OR done_at >= $3)))",
        )
        .bind(user_id)
        .bind(today.to_string())
        .bind(today.starts_at().millis())
        .fetch_one(self.conn())
        .await?)
    }

    /// Writes a task that was done (or withdrawn) while it was still open;
    /// `false` when someone else moved it first, and nothing is written.
    pub async fn update_task(&mut self, task: &Task, now: Timestamp) -> Result<bool> {
        let record = task.record.as_ref();
        let done = sqlx::query(
            "UPDATE tasks SET status = $1, done_at = $2, done_by = $3, outcome = $4, place = $5,
                 note = $6, withdrawn_at = $7, updated_at = $8
             WHERE id = $9 AND status = 'open'",
        )
        .bind(task.status.as_str())
        .bind(task.done_at.map(Timestamp::millis))
        .bind(task.done_by.as_ref().map(Actor::to_stored))
        .bind(record.map(|r| r.outcome.as_str()))
        .bind(record.map(|r| r.place.clone()))
        .bind(record.map(|r| r.note.as_str().to_owned()))
        .bind(task.withdrawn_at.map(Timestamp::millis))
        .bind(now.millis())
        .bind(task.id)
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// A person's open tasks generated from a warning or a dispute case:
    /// generation withdraws those whose source no longer asks for them.
    pub async fn open_sourced_tasks(&mut self, user_id: i64) -> Result<Vec<Task>> {
        let sql = format!(
            "SELECT {TASK_COLUMNS} FROM tasks t
             WHERE t.assignee_user_id = $1 AND t.status = 'open'
               AND t.kind IN ('close_warning', 'follow_up_visit', 'mediation_session',
                              'stalled_dispute')"
        );
        let rows = sqlx::query(&sql)
            .bind(user_id)
            .fetch_all(self.conn())
            .await?;
        rows.iter().map(task_from_row).collect()
    }

    /// Notes that the lists of `day` were generated (again) at `now`.
    pub async fn mark_task_day(&mut self, day: ChinaDay, now: Timestamp) -> Result<()> {
        sqlx::query(
            "INSERT INTO task_days (day, generated_at, runs) VALUES ($1, $2, 1)
             ON CONFLICT (day) DO UPDATE SET generated_at = $2, runs = task_days.runs + 1",
        )
        .bind(day.to_string())
        .bind(now.millis())
        .execute(self.conn())
        .await?;
        Ok(())
    }
}
