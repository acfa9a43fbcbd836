//! 系统派单: generates the daily task list of everyone who answers for a
//! grid (its community officer, its grid workers) or a dispute case.
//! Sources: warnings not closed on buildings of their grids; for the cases
//! they answer for, follow-up visits due, mediation sessions planned and
//! cases without progress (`ServerSettings::stalled_disputes`); and routine
//! visits (each building at least once per `ServerSettings::visits` period,
//! spread over the period). Tasks assigned by hand come from `api/tasks.rs`.
//!
//! The job has no state of its own: every task has a natural key and the
//! store refuses a second one, so a list generated twice — at start-up, as
//! the day begins, on demand, by two instances at once — holds each task
//! once, and a restart simply generates again. `task_days` records which
//! days were generated, so the morning run happens once per day whichever
//! instance gets there first.

use std::str::FromStr;

use fengqiao_core::audit::{Actor, AuditAction, AuditEvent};
use fengqiao_core::china_time;
use fengqiao_core::china_time::ChinaDay;
use fengqiao_core::label::Label;
use fengqiao_core::role::{Permission, Role};
use fengqiao_core::task::{
    routine_visits_due, Assignee, AssigneeRole, DoneRecord, NewTask, Task, TaskError, TaskKind,
    TaskStatus, VisitCandidate,
};
use fengqiao_core::warning::WarningRule;
use fengqiao_store::StoreError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::access::Caller;
use super::idempotency::Outcome;
use super::{Error, Result};
use crate::state::AppState;

/// What a generation did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Generated {
    pub people: usize,
    pub created: usize,
    pub withdrawn: usize,
}

impl std::ops::AddAssign for Generated {
    fn add_assign(&mut self, other: Generated) {
        self.people += other.people;
        self.created += other.created;
        self.withdrawn += other.withdrawn;
    }
}

/// Generates today's list of everyone who answers for a grid and notes the
/// day as generated.
pub async fn generate_all(state: &AppState) -> Result<Generated, StoreError> {
    let today = ChinaDay::of(state.clock.now());
    let mut total = Generated::default();
    for user_id in state.store.task_doers().await? {
        total += generate_for(state, user_id).await?;
    }
    let mut tx = state.store.begin().await?;
    tx.mark_task_day(today, state.clock.now()).await?;
    tx.commit().await?;
    Ok(total)
}

/// The morning run: generates today's lists unless they were generated
/// today already (by this instance before a restart, or another one).
/// `None` when there was nothing to do.
pub async fn generate_if_new_day(state: &AppState) -> Result<Option<Generated>, StoreError> {
    let today = ChinaDay::of(state.clock.now());
    if state.store.task_day_generated(today).await?.is_some() {
        return Ok(None);
    }
    generate_all(state).await.map(Some)
}

/// Today's list of one person, in one transaction with an audit entry per
/// task created or withdrawn.
#[tracing::instrument(skip_all, err(level = "info"), fields(user.id = user_id))]
pub async fn generate_for(state: &AppState, user_id: i64) -> Result<Generated, StoreError> {
    let now = state.clock.now();
    let today = ChinaDay::of(now);
    let Some(user) = state.store.user(user_id).await? else {
        return Ok(Generated::default());
    };
    let fallback_org = user.user.org_id;
    let buildings = state.store.visit_buildings(user_id).await?;
    let mut wanted = sourced_tasks(state, user_id, today).await?;

    let mut tx = state.store.begin().await?;
    let mut done = Generated {
        people: 1,
        ..Generated::default()
    };
    // What a source no longer asks for leaves the list: the warning was
    // closed, the follow-up recorded, the session held, the case moved on.
    for task in tx.open_sourced_tasks(user_id).await? {
        if wanted.iter().any(|w| w.natural_key == task.natural_key) {
            continue;
        }
        let Ok(withdrawn) = task.withdraw(now) else {
            continue;
        };
        if tx.update_task(&withdrawn, now).await? {
            let audit = AuditEvent::new(Actor::System, AuditAction::Update, "task")
                .object(task.id)
                .org(Some(task.org_id))
                .detail(format!("withdrawn: {} no longer due", task.natural_key));
            tx.append_audit(&audit, now).await?;
            done.withdrawn += 1;
        }
    }
    let on_list = usize::try_from(tx.routine_visits_on_list(user_id, today).await?).unwrap_or(0);
    let candidates: Vec<VisitCandidate> = buildings.iter().map(|b| b.candidate.clone()).collect();
    for building_id in routine_visits_due(state.settings.visits, &candidates, on_list, today) {
        let Some(building) = buildings
            .iter()
            .find(|b| b.candidate.building_id == building_id)
        else {
            continue;
        };
        let details = match building.candidate.last_visited {
            Some(day) => format!("上次走访：{day}"),
            None => "尚无走访记录".to_owned(),
        };
        wanted.push(NewTask::generated(
            building.station_org_id.unwrap_or(fallback_org),
            assignee(user_id, building.as_officer),
            TaskKind::RoutineVisit,
            building_id,
            today,
            format!("走访 {}", building.label),
            Some(details),
            now,
        ));
    }
    for new in &wanted {
        if let Some(id) = tx.insert_task(new, now).await? {
            let audit = AuditEvent::new(Actor::System, AuditAction::Create, "task")
                .object(id)
                .org(Some(new.org_id))
                .detail(format!("{} for user {user_id} on {today}", new.kind));
            tx.append_audit(&audit, now).await?;
            done.created += 1;
        }
    }
    tx.commit().await?;
    Ok(done)
}

fn assignee(user_id: i64, as_officer: bool) -> Assignee {
    Assignee {
        user_id,
        role: if as_officer {
            AssigneeRole::CommunityOfficer
        } else {
            AssigneeRole::GridWorker
        },
    }
}

/// The tasks a person's warnings and dispute cases ask for today: each
/// warning not closed on their grids; for the cases they answer for, each
/// follow-up visit due by the end of today, the session planned for today
/// (or planned earlier and not yet held), and the case registered or in
/// mediation without progress for the stalled period. A session's or a
/// stalled case's key carries its time, so the next one is a new task.
async fn sourced_tasks(
    state: &AppState,
    user_id: i64,
    today: ChinaDay,
) -> Result<Vec<NewTask>, StoreError> {
    let now = state.clock.now();
    let tomorrow = today.plus_days(1).starts_at();
    let mut wanted = Vec::new();
    for warning in state.store.warnings_to_close(user_id).await? {
        // Who answers for the subject now: the warnings' own lookup.
        let answers = state.store.responsibility(warning.subject).await?;
        let as_officer = if answers.officer_user_id == Some(user_id) {
            true
        } else if answers.grid_worker_ids.contains(&user_id) {
            false
        } else {
            continue;
        };
        let building = match answers.building_id {
            Some(id) => state.store.building(id).await?,
            None => None,
        };
        let rule = WarningRule::from_str(&warning.rule).map_or("预警", Label::zh);
        let title = match building {
            Some(b) => format!("办结预警：{}（{}）", rule, building_label(&b)),
            None => format!("办结预警：{}", rule),
        };
        wanted.push(NewTask::generated(
            answers.station_org_id.unwrap_or(warning.org_id),
            assignee(user_id, as_officer),
            TaskKind::CloseWarning,
            warning.warning_id,
            today,
            title,
            None,
            now,
        ));
    }
    let officer = assignee(user_id, true);
    for due in state.store.follow_ups_due(user_id, tomorrow).await? {
        wanted.push(NewTask::generated(
            due.org_id,
            officer,
            TaskKind::FollowUpVisit,
            due.follow_up_id,
            today,
            format!("回访：{}", due.address_text),
            Some(format!(
                "纠纷 {} 的回访，{} 到期：核实协议是否履行。",
                due.dispute_id,
                ChinaDay::of(due.due_at)
            )),
            now,
        ));
    }
    for case in state.store.disputes_of_officer(user_id).await? {
        let active = matches!(case.status.as_str(), "registered" | "mediating");
        if !active {
            continue;
        }
        if let Some(at) = case.next_session_at.filter(|at| *at < tomorrow) {
            let mut task = NewTask::generated(
                case.org_id,
                officer,
                TaskKind::MediationSession,
                case.dispute_id,
                today,
                format!("调解：{}", case.address_text),
                Some(format!(
                    "纠纷 {} 约定调解时间：{}",
                    case.dispute_id,
                    china_time::minutes(at)
                )),
                now,
            );
            task.natural_key = format!("{}:{}", task.natural_key, at.millis());
            wanted.push(task);
        }
        let policy = state.settings.stalled_disputes;
        if policy.stalled(case.progress_at, now) {
            let mut task = NewTask::generated(
                case.org_id,
                officer,
                TaskKind::StalledDispute,
                case.dispute_id,
                today,
                format!("纠纷久未推进：{}", case.address_text),
                Some(format!(
                    "纠纷 {} 自 {} 起已 {} 天以上无进展，请推进调处。",
                    case.dispute_id,
                    ChinaDay::of(case.progress_at),
                    policy.days()
                )),
                now,
            );
            task.natural_key = format!("{}:{}", task.natural_key, case.progress_at.millis());
            wanted.push(task);
        }
    }
    Ok(wanted)
}

/// The capacity a person does a task assigned by hand in.
pub fn assignee_role(roles: &fengqiao_core::role::Roles) -> AssigneeRole {
    if roles.iter().any(|r| r == Role::GridWorker) {
        AssigneeRole::GridWorker
    } else {
        AssigneeRole::CommunityOfficer
    }
}

/// 锦里小区3栋, or 浆洗街12号1栋 where a building has no compound.
fn building_label(building: &fengqiao_store::Building) -> String {
    let place = match (&building.compound, &building.road) {
        (Some(compound), _) => compound.clone(),
        (None, Some(road)) => format!("{road}{}", building.road_number.as_deref().unwrap_or("")),
        (None, None) => String::new(),
    };
    format!("{place}{}", building.building)
}

/// Sorted as a list reads: late first (oldest day), then what cannot wait.
pub fn sort_list(tasks: &mut [Task]) {
    tasks.sort_by_key(|t| (t.day, t.kind.urgency(), t.id));
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DoneBody {
    /// completed, issue_found, nobody_met or referred.
    pub(crate) outcome: Option<String>,
    /// Where it was done, 1 to 200 characters.
    pub(crate) place: Option<String>,
    /// What was found and done, 1 to 1000 characters.
    pub(crate) note: Option<String>,
}

/// Done by the caller with the record in `body`; shared by the API and the
/// officer's page.
#[tracing::instrument(skip_all, err(level = "info"), fields(task.id = task_id))]
pub async fn record_done(
    state: &AppState,
    caller: &Caller,
    task_id: i64,
    body: &DoneBody,
) -> Result<Task> {
    caller.require(Permission::DoTasks)?;
    let user_id = caller_user(caller)?;
    let task = own_task(state, user_id, task_id).await?;
    let record = DoneRecord::parse(
        body.outcome.as_deref(),
        body.place.as_deref(),
        body.note.as_deref(),
    )
    .map_err(Error::Validation)?;
    if same_record(&task, &record) {
        return Ok(task);
    }
    let now = state.clock.now();
    let after = task.done(record.clone(), user_id, now).map_err(refused)?;
    let mut tx = state.store.begin().await?;
    if !tx.update_task(&after, now).await? {
        drop(tx);
        // Done meanwhile: by this very record (a retry racing itself) is
        // the answer; anything else is a conflict.
        let current = own_task(state, user_id, task_id).await?;
        if same_record(&current, &record) {
            return Ok(current);
        }
        return Err(refused(TaskError::NotOpen(current.status)));
    }
    let audit = caller
        .audit(AuditAction::Update, "task")
        .object(task.id)
        .detail(format!("done {}", record.outcome.as_str()));
    tx.append_audit(&audit, now).await?;
    tx.commit().await?;
    Ok(after)
}

/// A done task whose record is the one given: a retried "done".
fn same_record(task: &Task, record: &DoneRecord) -> bool {
    task.status == TaskStatus::Done && task.record.as_ref() == Some(record)
}

/// A 409 naming the state the task is in. Nothing changed.
fn refused(err: TaskError) -> Error {
    let zh = match &err {
        TaskError::NotOpen(TaskStatus::Done) => {
            "任务已完成，不能再次提交不同的完成记录。".to_owned()
        }
        TaskError::NotOpen(TaskStatus::Withdrawn) => {
            "任务已撤销（对应事项已处理），无需再完成。".to_owned()
        }
        TaskError::NotOpen(status) => format!("任务当前{}，不能完成。", status.zh()),
        TaskError::NotAssignee => "只有任务的承办人才能完成此任务。".to_owned(),
    };
    Error::Conflict {
        zh,
        en: format!("{err}."),
    }
}

pub fn caller_user(caller: &Caller) -> Result<i64> {
    caller.user.as_ref().map(|u| u.id).ok_or(Error::Forbidden)
}

/// The caller's own task, or 404 as if it did not exist.
async fn own_task(state: &AppState, user_id: i64, id: i64) -> Result<Task> {
    match state.store.task(id).await? {
        Some(task) if task.assignee.user_id == user_id => Ok(task),
        _ => Err(Error::NotFound),
    }
}

/// A task the caller may read: their own, or, for a chief, one on the lists
/// of an organisation in their subtree; else 404.
pub async fn visible_task(state: &AppState, caller: &Caller, id: i64) -> Result<Task> {
    let does = caller.require(Permission::DoTasks).is_ok();
    let assigns = caller.require(Permission::AssignTasks).is_ok();
    if !does && !assigns {
        return Err(Error::Forbidden);
    }
    let task = state.store.task(id).await?.ok_or(Error::NotFound)?;
    if does
        && caller
            .user
            .as_ref()
            .is_some_and(|u| u.id == task.assignee.user_id)
    {
        return Ok(task);
    }
    if assigns {
        let org = state.store.organisation(task.org_id).await?;
        if org.is_some_and(|o| caller.sees(&o.path)) {
            return Ok(task);
        }
    }
    Err(Error::NotFound)
}

/// The person `user_id` as someone the caller may give a task to: an
/// account that keeps a task list, enabled, in the caller's subtree or
/// answering for a grid of the caller's station.
pub async fn task_doer_of(
    state: &AppState,
    caller: &Caller,
    user_id: i64,
) -> Result<Option<Assignee>> {
    let Some(stored) = state.store.user(user_id).await? else {
        return Ok(None);
    };
    let user = stored.user;
    if user.disabled || !user.roles.permissions().contains(&Permission::DoTasks) {
        return Ok(None);
    }
    let in_subtree = match state.store.organisation(user.org_id).await? {
        Some(org) => caller.sees(&org.path),
        None => false,
    };
    if !in_subtree
        && !state
            .store
            .answers_for_station(user.id, caller.org.id)
            .await?
    {
        return Ok(None);
    }
    Ok(Some(Assignee {
        user_id: user.id,
        role: assignee_role(&user.roles),
    }))
}

/// 交办: puts a task a station chief assigned on its assignee's list,
/// audited. The same task (same person, text, building and day) assigned
/// again answers with the one already there, not made twice.
pub async fn assign(state: &AppState, caller: &Caller, new: &NewTask) -> Result<(Outcome, Task)> {
    caller.require(Permission::AssignTasks)?;
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    let Some(id) = tx.insert_task(new, now).await? else {
        // Assigned before (a retry): the task already there answers.
        let existing = tx
            .same_task(new.assignee.user_id, &new.natural_key, new.day)
            .await?
            .ok_or_else(|| Error::Internal("assigned task vanished".into()))?;
        return Ok((Outcome::Replayed, existing));
    };
    let audit = caller
        .audit(AuditAction::Create, "task")
        .object(id)
        .detail(format!(
            "assigned to user {} for {}",
            new.assignee.user_id, new.day
        ));
    tx.append_audit(&audit, now).await?;
    tx.commit().await?;
    let task = state
        .store
        .task(id)
        .await?
        .ok_or_else(|| Error::Internal("task not stored".into()))?;
    Ok((Outcome::Created, task))
}
