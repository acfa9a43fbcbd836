//! 我的工作清单: the officer's phone page. Today's list (late ones first),
//! one tap into a task, the outcome recorded with a plain form — no script,
//! so it works on any phone browser. The form posts to the page, which
//! records through the same code as `POST /api/v1/tasks/{id}/done`; the
//! session cookie is SameSite=Strict, so no other site can post it.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use fengqiao_core::china_time;
use fengqiao_core::china_time::ChinaDay;
use fengqiao_core::role::Permission;
use fengqiao_core::task::{DoneRecord, Task, TaskKind, TaskOutcome, TaskStatus};
use serde::Deserialize;

use crate::auth::ClientAddress;
use crate::error::ApiError;
use crate::i18n::Lang;
use crate::pages::{permitted_page_caller, render};
use crate::services::access::Caller;
use crate::services::tasks::{record_done, sort_list, visible_task, DoneBody};
use crate::services::Error;
use crate::state::AppState;

/// A task as a line of the list.
struct TaskLine {
    id: i64,
    kind: String,
    title: String,
    day: String,
    late: bool,
}

impl TaskLine {
    fn of(task: &Task, today: ChinaDay, lang: Lang) -> TaskLine {
        TaskLine {
            id: task.id,
            kind: lang.label(task.kind).to_owned(),
            title: task.title.clone(),
            day: task.day.to_string(),
            late: task.late(today),
        }
    }
}

#[derive(Template)]
#[template(path = "tasks.html")]
struct TasksPage {
    lang: Lang,
    day: String,
    tasks: Vec<TaskLine>,
    late: usize,
    /// The task just recorded as done, for the confirmation line.
    done: Option<String>,
}

struct OutcomeChoice {
    code: &'static str,
    name: &'static str,
    checked: bool,
}

/// What a done task's page shows of its record.
struct RecordView {
    outcome: String,
    place: String,
    note: String,
    done_at: String,
}

#[derive(Template)]
#[template(path = "task.html")]
struct TaskPage {
    lang: Lang,
    task: TaskLine,
    details: Option<String>,
    status: String,
    /// The caller may record it: their own task, still open.
    can_record: bool,
    outcomes: Vec<OutcomeChoice>,
    place: String,
    note: String,
    record: Option<RecordView>,
    /// Why the last submission was refused, sentence by sentence.
    problems: Vec<String>,
    /// The dispute case the task is about, where the session or follow-up
    /// itself is recorded.
    case_id: Option<i64>,
}

#[derive(Deserialize)]
pub struct ListQuery {
    done: Option<i64>,
}

#[derive(Deserialize)]
pub struct DoneForm {
    #[serde(default)]
    outcome: Option<String>,
    #[serde(default)]
    place: Option<String>,
    #[serde(default)]
    note: Option<String>,
}

/// 我的工作清单
pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientAddress(source): ClientAddress,
    Query(query): Query<ListQuery>,
) -> Response {
    let lang = Lang::of_request(&headers);
    let caller = match permitted_page_caller(&state, &headers, source, Permission::DoTasks).await {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    let Some(user) = caller.user.as_ref() else {
        return Error::Forbidden.into_response();
    };
    let today = ChinaDay::of(state.clock.now());
    let mut tasks = match state.store.tasks_on_list(user.id, today).await {
        Ok(tasks) => tasks,
        Err(err) => return ApiError::from(err).into_response(),
    };
    sort_list(&mut tasks);
    let done = match query.done {
        Some(id) => match state.store.task(id).await {
            Ok(Some(task)) if task.assignee.user_id == user.id => Some(task.title),
            _ => None,
        },
        None => None,
    };
    render(&TasksPage {
        lang,
        day: today.to_string(),
        late: tasks.iter().filter(|t| t.late(today)).count(),
        tasks: tasks.iter().map(|t| TaskLine::of(t, today, lang)).collect(),
        done,
    })
}

/// One task, with the form that records it.
pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientAddress(source): ClientAddress,
    Path(task_id): Path<i64>,
) -> Response {
    let lang = Lang::of_request(&headers);
    let caller = match permitted_page_caller(&state, &headers, source, Permission::DoTasks).await {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    match visible_task(&state, &caller, task_id).await {
        Ok(task) => {
            let place = task
                .record
                .as_ref()
                .map(|r| r.place.clone())
                .unwrap_or_else(|| default_place(&task));
            let case_id = case_of(&state, &caller, &task).await;
            render(&task_page(
                &state,
                &caller,
                &task,
                lang,
                None,
                place,
                String::new(),
                Vec::new(),
                case_id,
            ))
        }
        Err(err) => err.into_response(),
    }
}

/// Records the outcome, then back to the list; a refusal shows the page
/// again with the server's reasons and what was typed.
pub async fn record(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientAddress(source): ClientAddress,
    Path(task_id): Path<i64>,
    Form(form): Form<DoneForm>,
) -> Response {
    let lang = Lang::of_request(&headers);
    let caller = match permitted_page_caller(&state, &headers, source, Permission::DoTasks).await {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    let body = DoneBody {
        outcome: form.outcome.clone(),
        place: form.place.clone(),
        note: form.note.clone(),
    };
    match record_done(&state, &caller, task_id, &body).await {
        Ok(task) => (
            StatusCode::SEE_OTHER,
            [(LOCATION, format!("/tasks?done={}", task.id))],
        )
            .into_response(),
        Err(err @ (Error::Validation(_) | Error::Conflict { .. })) => {
            let status = if matches!(err, Error::Validation(_)) {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                StatusCode::CONFLICT
            };
            let task = match visible_task(&state, &caller, task_id).await {
                Ok(task) => task,
                Err(err) => return err.into_response(),
            };
            let problem = ApiError::from(err).problem(lang);
            let mut problems: Vec<String> = problem
                .errors
                .iter()
                .map(|e| format!("{}：{}", field_name(&e.field, lang), e.reason))
                .collect();
            if problems.is_empty() {
                problems.push(problem.detail.clone());
            }
            let case_id = case_of(&state, &caller, &task).await;
            let page = task_page(
                &state,
                &caller,
                &task,
                lang,
                form.outcome.as_deref(),
                form.place.unwrap_or_default(),
                form.note.unwrap_or_default(),
                problems,
                case_id,
            );
            let mut response = render(&page);
            *response.status_mut() = status;
            response
        }
        Err(err) => err.into_response(),
    }
}

fn field_name(field: &str, lang: Lang) -> &'static str {
    match field {
        "outcome" => lang.pick("结果", "Outcome"),
        "place" => lang.pick("地点", "Place"),
        "note" => lang.pick("情况记录", "Note"),
        _ => lang.pick("内容", "Input"),
    }
}

/// Where a visit happens goes without saying: the building in its title.
fn default_place(task: &Task) -> String {
    task.title
        .strip_prefix("走访 ")
        .map(str::to_owned)
        .unwrap_or_default()
}

#[expect(clippy::too_many_arguments, reason = "the page and what was typed")]
fn task_page(
    state: &AppState,
    caller: &Caller,
    task: &Task,
    lang: Lang,
    outcome: Option<&str>,
    place: String,
    note: String,
    problems: Vec<String>,
    case_id: Option<i64>,
) -> TaskPage {
    let today = ChinaDay::of(state.clock.now());
    let own = caller
        .user
        .as_ref()
        .is_some_and(|u| u.id == task.assignee.user_id);
    TaskPage {
        lang,
        task: TaskLine::of(task, today, lang),
        details: task.details.clone(),
        status: lang.label(task.status).to_owned(),
        can_record: own && task.status == TaskStatus::Open,
        outcomes: TaskOutcome::ALL
            .iter()
            .map(|o| OutcomeChoice {
                code: o.as_str(),
                name: lang.label(*o),
                checked: outcome == Some(o.as_str()),
            })
            .collect(),
        place,
        note,
        record: record_view(task, lang),
        problems,
        case_id,
    }
}

/// The case of a session, stalled-case or follow-up task, for a caller who
/// may open dispute cases; a lookup that fails only loses the link.
async fn case_of(state: &AppState, caller: &Caller, task: &Task) -> Option<i64> {
    if caller.require(Permission::ViewDisputes).is_err() {
        return None;
    }
    let subject = task.subject_id?;
    match task.kind {
        TaskKind::MediationSession | TaskKind::StalledDispute => Some(subject),
        TaskKind::FollowUpVisit => state
            .store
            .dispute_of_follow_up(subject)
            .await
            .ok()
            .flatten(),
        _ => None,
    }
}

fn record_view(task: &Task, lang: Lang) -> Option<RecordView> {
    let (
        Some(DoneRecord {
            outcome,
            place,
            note,
        }),
        Some(at),
    ) = (&task.record, task.done_at)
    else {
        return None;
    };
    Some(RecordView {
        outcome: lang.label(*outcome).to_owned(),
        place: place.clone(),
        note: note.as_str().to_owned(),
        done_at: china_time::minutes(at),
    })
}
