//! 工作清单 over HTTP: one's list for today (with the late ones carried
//! over), one task, done with its record; a station chief assigns tasks by
//! hand and sees the station's lists; anyone with a list can have it
//! generated on demand. The core decides every move (`fengqiao_core::task`).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use fengqiao_core::china_time::ChinaDay;
use fengqiao_core::label::Label;
use fengqiao_core::role::Permission;
use fengqiao_core::task::{parse_details, parse_title, NewTask, Task, TaskStatus};
use fengqiao_core::{FieldError, Reason};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::created_or_found;
use crate::error::{ApiError, ApiResult, Problem};
use crate::json::ApiJson;
use crate::services::access::Caller;
use crate::services::format::rfc3339;
use crate::services::tasks::{
    self, caller_user, generate_for, record_done, sort_list, task_doer_of, visible_task, DoneBody,
    Generated,
};
use crate::services::Error;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct DoneRecordView {
    /// completed, issue_found, nobody_met or referred.
    outcome: String,
    /// The outcome in Chinese.
    outcome_name: String,
    place: String,
    note: String,
    done_at: String,
    done_by: Option<String>,
    /// Done on or before the day it was for.
    on_time: bool,
}

#[derive(Serialize, ToSchema)]
pub struct TaskView {
    id: i64,
    /// close_warning, follow_up_visit, mediation_session, stalled_dispute,
    /// routine_visit or assigned.
    kind: String,
    /// The kind in Chinese, e.g. 日常走访.
    kind_name: String,
    title: String,
    details: Option<String>,
    /// The China day (Asia/Shanghai) it is for, YYYY-MM-DD.
    day: String,
    /// Carried over past its day, undone (逾期).
    late: bool,
    /// open, done or withdrawn.
    status: String,
    status_name: String,
    /// The organisation whose lists it is on.
    org_id: i64,
    assignee_user_id: i64,
    /// community_officer or grid_worker.
    assignee_role: String,
    /// The warning, follow-up, session, dispute or building it is about.
    subject_id: Option<i64>,
    created_at: String,
    created_by: String,
    done: Option<DoneRecordView>,
}

impl TaskView {
    pub(crate) fn of(task: &Task, today: ChinaDay) -> TaskView {
        TaskView {
            id: task.id,
            kind: task.kind.as_str().into(),
            kind_name: task.kind.zh().into(),
            title: task.title.clone(),
            details: task.details.clone(),
            day: task.day.to_string(),
            late: task.late(today),
            status: task.status.as_str().into(),
            status_name: task.status.zh().into(),
            org_id: task.org_id,
            assignee_user_id: task.assignee.user_id,
            assignee_role: task.assignee.role.as_str().into(),
            subject_id: task.subject_id,
            created_at: rfc3339(task.created_at),
            created_by: task.created_by.to_stored(),
            done: match (&task.record, task.done_at) {
                (Some(record), Some(at)) => Some(DoneRecordView {
                    outcome: record.outcome.as_str().into(),
                    outcome_name: record.outcome.zh().into(),
                    place: record.place.clone(),
                    note: record.note.as_str().into(),
                    done_at: rfc3339(at),
                    done_by: task.done_by.as_ref().map(|a| a.to_stored()),
                    on_time: task.done_on_time().unwrap_or(false),
                }),
                _ => None,
            },
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct MyList {
    /// Today in Asia/Shanghai, YYYY-MM-DD.
    day: String,
    /// Open tasks of today and carried over, late ones first, then by
    /// urgency.
    tasks: Vec<TaskView>,
    late: usize,
}

#[derive(Serialize, ToSchema)]
pub struct PersonList {
    assignee_user_id: i64,
    username: String,
    open: usize,
    late: usize,
    done: usize,
    tasks: Vec<TaskView>,
}

#[derive(Serialize, ToSchema)]
pub struct StationLists {
    day: String,
    lists: Vec<PersonList>,
}

#[derive(Serialize, ToSchema)]
pub struct GeneratedView {
    day: String,
    /// People whose list was generated.
    people: usize,
    /// Tasks put on lists now; 0 when generated before today.
    created: usize,
    /// Tasks taken off because what they were for went away.
    withdrawn: usize,
}

#[derive(Deserialize, IntoParams)]
pub struct DayQuery {
    /// YYYY-MM-DD (Asia/Shanghai); today when absent.
    day: Option<String>,
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignTask {
    /// A community officer, auxiliary officer or grid worker of the
    /// station (or answering for one of its grids).
    assignee_user_id: Option<i64>,
    /// 1 to 100 characters.
    title: Option<String>,
    /// Up to 1000 characters.
    details: Option<String>,
    /// YYYY-MM-DD, today or later; today when absent.
    day: Option<String>,
    /// A building of the jurisdiction the task is about.
    building_id: Option<i64>,
}

/// 我的工作清单: the caller's open tasks of today and carried over.
#[utoipa::path(get, path = "/api/v1/tasks",
    responses((status = 200, body = MyList), (status = 403, body = Problem)))]
pub async fn mine(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<MyList>> {
    caller.require(Permission::DoTasks)?;
    let user_id = caller_user(&caller)?;
    let today = ChinaDay::of(state.clock.now());
    let mut tasks = state.store.tasks_on_list(user_id, today).await?;
    sort_list(&mut tasks);
    let late = tasks.iter().filter(|t| t.late(today)).count();
    Ok(Json(MyList {
        day: today.to_string(),
        tasks: tasks.iter().map(|t| TaskView::of(t, today)).collect(),
        late,
    }))
}

/// 交办: a station chief puts a task on someone's list. The same task
/// (same person, text, building and day) assigned again is answered with
/// the one already there (200), not made twice.
#[utoipa::path(post, path = "/api/v1/tasks", request_body = AssignTask,
    responses((status = 201, body = TaskView), (status = 200, body = TaskView),
        (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn assign(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<AssignTask>,
) -> ApiResult<(StatusCode, Json<TaskView>)> {
    caller.require(Permission::AssignTasks)?;
    let now = state.clock.now();
    let today = ChinaDay::of(now);
    let mut errors = Vec::new();
    let title = parse_title(body.title.as_deref().unwrap_or(""))
        .map_err(|e| errors.push(e))
        .ok();
    let details = parse_details(body.details.as_deref())
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    let day = match body.day.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        None => Some(today),
        Some(text) => match ChinaDay::parse("day", text) {
            Ok(day) if day < today => {
                errors.push(FieldError::new(
                    "day",
                    Reason::Conflict {
                        detail: "day_in_the_past",
                    },
                ));
                None
            }
            Ok(day) => Some(day),
            Err(e) => {
                errors.push(e);
                None
            }
        },
    };
    let assignee = match body.assignee_user_id {
        None => {
            errors.push(FieldError::new("assignee_user_id", Reason::Required));
            None
        }
        Some(id) => match task_doer_of(&state, &caller, id).await? {
            Some(assignee) => Some(assignee),
            None => {
                errors.push(FieldError::new("assignee_user_id", Reason::NotFound));
                None
            }
        },
    };
    if let Some(building_id) = body.building_id {
        let visible = state
            .store
            .building(building_id)
            .await?
            .is_some_and(|b| caller.covers(&b.community_code));
        if !visible {
            errors.push(FieldError::new("building_id", Reason::NotFound));
        }
    }
    let (Some(title), Some(day), Some(assignee), true) = (title, day, assignee, errors.is_empty())
    else {
        return Err(ApiError::from(Error::Validation(errors)));
    };
    let new = NewTask::assigned(
        caller.org.id,
        assignee,
        day,
        title,
        details,
        body.building_id,
        caller.actor.clone(),
        now,
    );
    let (outcome, task) = tasks::assign(&state, &caller, &new).await?;
    let status = created_or_found(outcome);
    Ok((status, Json(TaskView::of(&task, today))))
}

/// 所内工作清单: the lists of the caller's station (and below) for a day:
/// every task of that day and the open ones carried over, per person.
#[utoipa::path(get, path = "/api/v1/tasks/station", params(DayQuery),
    responses((status = 200, body = StationLists), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
pub async fn station(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<DayQuery>,
) -> ApiResult<Json<StationLists>> {
    caller.require(Permission::AssignTasks)?;
    let today = ChinaDay::of(state.clock.now());
    let day = match query
        .day
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
    {
        Some(text) => ChinaDay::parse("day", text)?,
        None => today,
    };
    let rows = state
        .store
        .tasks_within(caller.scope().as_str(), day)
        .await?;
    let mut lists: Vec<PersonList> = Vec::new();
    for row in rows {
        let task = &row.task;
        let index = match lists
            .iter()
            .position(|l| l.assignee_user_id == task.assignee.user_id)
        {
            Some(index) => index,
            None => {
                lists.push(PersonList {
                    assignee_user_id: task.assignee.user_id,
                    username: row.assignee_username.clone(),
                    open: 0,
                    late: 0,
                    done: 0,
                    tasks: Vec::new(),
                });
                lists.len() - 1
            }
        };
        let list = &mut lists[index];
        match task.status {
            TaskStatus::Open => list.open += 1,
            TaskStatus::Done => list.done += 1,
            TaskStatus::Withdrawn => {}
        }
        if task.late(day) {
            list.late += 1;
        }
        list.tasks.push(TaskView::of(task, day));
    }
    Ok(Json(StationLists {
        day: day.to_string(),
        lists,
    }))
}

/// 生成清单: generates today's list now — the caller's own, and for a
/// station chief those of everyone answering for the station's grids.
/// Generating again adds nothing that is there already.
#[utoipa::path(post, path = "/api/v1/tasks/generate",
    responses((status = 200, body = GeneratedView), (status = 403, body = Problem)))]
pub async fn generate(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<GeneratedView>> {
    let does = caller.require(Permission::DoTasks).is_ok();
    let assigns = caller.require(Permission::AssignTasks).is_ok();
    if !does && !assigns {
        return Err(Error::Forbidden.into());
    }
    let mut total = Generated::default();
    if does {
        total += generate_for(&state, caller_user(&caller)?).await?;
    }
    if assigns {
        for user_id in state.store.task_doers().await? {
            if task_doer_of(&state, &caller, user_id).await?.is_some() {
                total += generate_for(&state, user_id).await?;
            }
        }
    }
    Ok(Json(GeneratedView {
        day: ChinaDay::of(state.clock.now()).to_string(),
        people: total.people,
        created: total.created,
        withdrawn: total.withdrawn,
    }))
}

/// One task: the caller's own, or one of the station's lists for a chief.
#[utoipa::path(get, path = "/api/v1/tasks/{task_id}",
    params(("task_id" = i64, Path, description = "task id")),
    responses((status = 200, body = TaskView), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(task_id): Path<i64>,
) -> ApiResult<Json<TaskView>> {
    let task = visible_task(&state, &caller, task_id).await?;
    Ok(Json(TaskView::of(&task, ChinaDay::of(state.clock.now()))))
}

/// 完成: records what was done (outcome, place, note; the time is now) and
/// takes the task off the list. Sent again with the same record, it answers
/// with the task as done, once.
#[utoipa::path(post, path = "/api/v1/tasks/{task_id}/done", request_body = DoneBody,
    params(("task_id" = i64, Path, description = "task id")),
    responses((status = 200, body = TaskView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn done(
    State(state): State<AppState>,
    caller: Caller,
    Path(task_id): Path<i64>,
    ApiJson(body): ApiJson<DoneBody>,
) -> ApiResult<Json<TaskView>> {
    let task = record_done(&state, &caller, task_id, &body).await?;
    Ok(Json(TaskView::of(&task, ChinaDay::of(state.clock.now()))))
}
