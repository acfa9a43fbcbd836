//! 系统派单: generates the daily task list of everyone who answers for a
//! grid (its community officer, its grid workers). Sources: warnings not
//! closed on buildings of their grids, and routine visits (each building at
//! least once per `ServerSettings::visits` period, spread over the period).
//! Tasks assigned by hand come from `api/tasks.rs`.
//!
//! The job has no state of its own: every task has a natural key and the
//! store refuses a second one, so a list generated twice — at start-up, as
//! the day begins, on demand, by two instances at once — holds each task
//! once, and a restart simply generates again. `task_days` records which
//! days were generated, so the morning run happens once per day whichever
//! instance gets there first.

use fengqiao_core::audit::{Actor, AuditAction, AuditEvent};
use fengqiao_core::role::Role;
use fengqiao_core::task::{
    routine_visits_due, Assignee, AssigneeRole, NewTask, TaskDay, TaskKind, VisitCandidate,
};
use fengqiao_store::StoreError;

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
    let today = TaskDay::of(state.clock.now());
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
    let today = TaskDay::of(state.clock.now());
    if state.store.task_day_generated(today).await?.is_some() {
        return Ok(None);
    }
    generate_all(state).await.map(Some)
}

/// Today's list of one person, in one transaction with an audit entry per
/// task created or withdrawn.
pub async fn generate_for(state: &AppState, user_id: i64) -> Result<Generated, StoreError> {
    let now = state.clock.now();
    let today = TaskDay::of(now);
    let Some(user) = state.store.user(user_id).await? else {
        return Ok(Generated::default());
    };
    let fallback_org = user.user.org_id;
    let buildings = state.store.visit_buildings(user_id).await?;
    let warnings = state.store.warnings_to_close(user_id).await?;
    let assignee = |as_officer: bool| Assignee {
        user_id,
        role: if as_officer {
            AssigneeRole::CommunityOfficer
        } else {
            AssigneeRole::GridWorker
        },
    };

    let mut tx = state.store.begin().await?;
    let mut done = Generated {
        people: 1,
        ..Generated::default()
    };
    // A warning closed on the warning board takes its task off the list.
    for task in tx.tasks_of_closed_warnings(user_id).await? {
        let Ok(withdrawn) = task.withdraw(now) else {
            continue;
        };
        if tx.update_task(&withdrawn, now).await? {
            let audit = AuditEvent::new(Actor::System, AuditAction::Update, "task")
                .object(task.id)
                .org(Some(task.org_id))
                .detail("withdrawn: warning closed");
            tx.append_audit(&audit, now).await?;
            done.withdrawn += 1;
        }
    }
    let mut new_tasks = Vec::new();
    for warning in &warnings {
        new_tasks.push(NewTask::generated(
            warning.org_id,
            assignee(warning.as_officer),
            TaskKind::CloseWarning,
            warning.warning_id,
            today,
            format!(
                "办结预警：{}（{}）",
                rule_name(&warning.rule),
                warning.label
            ),
            None,
            now,
        ));
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
        new_tasks.push(NewTask::generated(
            building.station_org_id.unwrap_or(fallback_org),
            assignee(building.as_officer),
            TaskKind::RoutineVisit,
            building_id,
            today,
            format!("走访 {}", building.label),
            Some(details),
            now,
        ));
    }
    for new in &new_tasks {
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

/// The capacity a person does a task assigned by hand in.
pub fn assignee_role(roles: &fengqiao_core::role::Roles) -> AssigneeRole {
    if roles.iter().any(|r| r == Role::GridWorker) {
        AssigneeRole::GridWorker
    } else {
        AssigneeRole::CommunityOfficer
    }
}

/// The rule of a warning in Chinese, for a task's title.
fn rule_name(rule: &str) -> &'static str {
    match rule {
        "repeat_call" => "重复报警",
        "work_order_overdue" => "流转单超时",
        "threat_words" => "威胁言语",
        _ => "预警",
    }
}
