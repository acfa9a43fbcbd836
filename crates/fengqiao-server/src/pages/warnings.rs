//! 预警看板: the station's warning board, for phones as much as desks.
//! Tabs for open, acknowledged, closed and overdue warnings; acknowledge
//! with one tap, close with an action record (what was done, and a note).
//! No script: the forms post to the page, which moves the warning through
//! the same code as the API (`api::warnings`); the session cookie is
//! SameSite=Strict, so no other site can post them.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use fengqiao_core::china_time;
use fengqiao_core::label::Label;
use fengqiao_core::role::Permission;
use fengqiao_core::warning::{
    Evidence, SubjectKind, Warning, WarningAction, WarningStatus, WarningSubject,
};
use fengqiao_core::Timestamp;
use serde::Deserialize;

use crate::auth::ClientAddress;
use crate::error::{ApiError, ApiResult};
use crate::i18n::Lang;
use crate::pages::{permitted_page_caller, render};
use crate::services::access::Caller;
use crate::services::warnings::{acknowledge_warning, close_warning, visible_warnings};
use crate::services::Error;
use crate::state::AppState;

/// A tab of the board.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tab {
    Open,
    Acknowledged,
    Closed,
    Overdue,
}

impl Tab {
    const ALL: [Tab; 4] = [Tab::Open, Tab::Acknowledged, Tab::Closed, Tab::Overdue];

    fn code(self) -> &'static str {
        match self {
            Tab::Open => "open",
            Tab::Acknowledged => "acknowledged",
            Tab::Closed => "closed",
            Tab::Overdue => "overdue",
        }
    }

    fn name(self, lang: Lang) -> &'static str {
        match self {
            Tab::Open => lang.label(WarningStatus::Open),
            Tab::Acknowledged => lang.label(WarningStatus::Acknowledged),
            Tab::Closed => lang.label(WarningStatus::Closed),
            Tab::Overdue => lang.pick("超时", "Overdue"),
        }
    }

    fn parse(code: Option<&str>) -> Tab {
        Tab::ALL
            .into_iter()
            .find(|t| Some(t.code()) == code)
            .unwrap_or(Tab::Open)
    }

    fn holds(self, warning: &Warning, now: Timestamp) -> bool {
        match self {
            Tab::Open => warning.status == WarningStatus::Open,
            Tab::Acknowledged => warning.status == WarningStatus::Acknowledged,
            Tab::Closed => warning.status == WarningStatus::Closed,
            Tab::Overdue => warning.overdue(now),
        }
    }
}

struct TabLink {
    code: &'static str,
    name: &'static str,
    count: usize,
    current: bool,
}

struct ActionChoice {
    code: &'static str,
    name: &'static str,
    checked: bool,
}

/// A warning as a card of the board.
struct Card {
    id: i64,
    rule_name: &'static str,
    status: &'static str,
    overdue: bool,
    escalated: bool,
    subject: String,
    evidence: String,
    raised_at: String,
    acknowledge_by: String,
    escalated_at: Option<String>,
    acknowledged_at: Option<String>,
    closed_at: Option<String>,
    action: Option<String>,
    can_acknowledge: bool,
    can_close: bool,
    actions: Vec<ActionChoice>,
    note: String,
}

#[derive(Template)]
#[template(path = "warnings.html")]
struct BoardPage {
    lang: Lang,
    tabs: Vec<TabLink>,
    warnings: Vec<Card>,
    done: Option<&'static str>,
    /// Why the last action was refused, sentence by sentence.
    problems: Vec<String>,
}

#[derive(Deserialize)]
pub struct BoardQuery {
    status: Option<String>,
    done: Option<String>,
}

#[derive(Deserialize)]
pub struct CloseForm {
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    note: Option<String>,
}

/// What was typed into a refused close form, shown again with the reasons.
struct Typed {
    id: i64,
    action: Option<String>,
    note: String,
    problems: Vec<String>,
}

/// The subject in words: a building by its address, others by their kind
/// and number.
async fn subject_text(state: &AppState, subject: WarningSubject, lang: Lang) -> ApiResult<String> {
    Ok(match subject.kind {
        SubjectKind::Address => match state.store.building(subject.id).await? {
            Some(b) => {
                let place = b
                    .compound
                    .clone()
                    .or_else(|| {
                        Some(format!(
                            "{}{}",
                            b.road.clone()?,
                            b.road_number.clone().unwrap_or_default()
                        ))
                    })
                    .unwrap_or_default();
                format!(
                    "{}{}{}",
                    lang.pick("地址：", "Address: "),
                    place,
                    b.building
                )
            }
            None => format!("{}{}", lang.pick("地址 #", "Address #"), subject.id),
        },
        SubjectKind::Incident => format!("{}{}", lang.pick("警情 #", "Incident #"), subject.id),
        SubjectKind::WorkOrder => {
            format!("{}{}", lang.pick("流转单 #", "Work order #"), subject.id)
        }
        SubjectKind::Case => format!("{}{}", lang.pick("纠纷 #", "Dispute #"), subject.id),
    })
}

/// Why it fired, in one sentence.
fn evidence_text(evidence: &Evidence, lang: Lang) -> String {
    match evidence {
        Evidence::RepeatCall {
            incidents,
            window_days,
            ..
        } => match lang {
            Lang::Zh => format!("{window_days}天内第{}次报警", incidents.len()),
            Lang::En => format!("call {} within {window_days} days", incidents.len()),
        },
        Evidence::WorkOrderOverdue { work_order_id, .. } => match lang {
            Lang::Zh => format!("流转单 #{work_order_id} 超过办理时限"),
            Lang::En => format!("work order #{work_order_id} is past its deadline"),
        },
        Evidence::ThreatWords { words, excerpt, .. } => {
            let words: Vec<&str> = words.iter().map(|w| w.word.as_str()).collect();
            match lang {
                Lang::Zh => format!("词语：{}；原文：“{excerpt}”", words.join("、")),
                Lang::En => format!("words: {}; text: “{excerpt}”", words.join(", ")),
            }
        }
        Evidence::DisputeUnmediated { dispute_id, .. } => match lang {
            Lang::Zh => format!("纠纷 #{dispute_id} 超过调处时限"),
            Lang::En => format!("dispute #{dispute_id} not mediated in time"),
        },
        Evidence::AgreementFailed { note, .. } => match lang {
            Lang::Zh => format!("调解失败或协议未履行：{note}"),
            Lang::En => format!("mediation failed or agreement broken: {note}"),
        },
        Evidence::FollowUpMissed { dispute_id, .. } => match lang {
            Lang::Zh => format!("纠纷 #{dispute_id} 回访超期"),
            Lang::En => format!("a follow-up of dispute #{dispute_id} was missed"),
        },
    }
}

/// 预警看板
pub async fn board(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientAddress(source): ClientAddress,
    Query(query): Query<BoardQuery>,
) -> Response {
    let lang = Lang::of_request(&headers);
    let caller =
        match permitted_page_caller(&state, &headers, source, Permission::ViewWarnings).await {
            Ok(caller) => caller,
            Err(response) => return response,
        };
    let done = match query.done.as_deref() {
        Some("acknowledged") => Some(lang.pick("已签收。", "Acknowledged.")),
        Some("closed") => Some(lang.pick("已办结。", "Closed.")),
        _ => None,
    };
    let tab = Tab::parse(query.status.as_deref());
    match board_page(&state, &caller, lang, tab, done, None).await {
        Ok(page) => render(&page),
        Err(err) => err.into_response(),
    }
}

async fn board_page(
    state: &AppState,
    caller: &Caller,
    lang: Lang,
    tab: Tab,
    done: Option<&'static str>,
    typed: Option<&Typed>,
) -> ApiResult<BoardPage> {
    let now = state.clock.now();
    let all = visible_warnings(state, caller, None).await?;
    let tabs = Tab::ALL
        .into_iter()
        .map(|t| TabLink {
            code: t.code(),
            name: t.name(lang),
            count: all.iter().filter(|w| t.holds(w, now)).count(),
            current: t == tab,
        })
        .collect();
    let handles = caller.permissions.contains(&Permission::HandleWarnings);
    let mut warnings = Vec::new();
    for w in all.iter().filter(|w| tab.holds(w, now)) {
        let typed = typed.filter(|t| t.id == w.id);
        warnings.push(Card {
            id: w.id,
            rule_name: w.rule().zh(),
            status: lang.label(w.status),
            overdue: w.overdue(now),
            escalated: w.escalated_at.is_some(),
            subject: subject_text(state, w.subject, lang).await?,
            evidence: evidence_text(&w.evidence, lang),
            raised_at: china_time::minutes(w.raised_at),
            acknowledge_by: china_time::minutes(w.acknowledge_by),
            escalated_at: w.escalated_at.map(china_time::minutes),
            acknowledged_at: w.acknowledged_at.map(china_time::minutes),
            closed_at: w.closed_at.map(china_time::minutes),
            action: w
                .action
                .as_ref()
                .map(|a| format!("{}：{}", lang.label(a.action), a.note.as_str())),
            can_acknowledge: handles && w.status == WarningStatus::Open,
            can_close: handles && w.status == WarningStatus::Acknowledged,
            actions: WarningAction::ALL
                .into_iter()
                .map(|a| ActionChoice {
                    code: a.as_str(),
                    name: lang.label(a),
                    checked: typed.and_then(|t| t.action.as_deref()) == Some(a.as_str()),
                })
                .collect(),
            note: typed.map(|t| t.note.clone()).unwrap_or_default(),
        });
    }
    Ok(BoardPage {
        lang,
        tabs,
        warnings,
        done,
        problems: typed.map(|t| t.problems.clone()).unwrap_or_default(),
    })
}

fn see_other(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(LOCATION, to.to_owned())]).into_response()
}

/// 签收, then to the acknowledged tab; a refusal shows the board with why.
pub async fn acknowledge(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientAddress(source): ClientAddress,
    Path(warning_id): Path<i64>,
) -> Response {
    let lang = Lang::of_request(&headers);
    let caller =
        match permitted_page_caller(&state, &headers, source, Permission::ViewWarnings).await {
            Ok(caller) => caller,
            Err(response) => return response,
        };
    match acknowledge_warning(&state, &caller, warning_id).await {
        Ok(_) => see_other("/warnings?status=acknowledged&done=acknowledged"),
        Err(err) => {
            refused(
                &state,
                &caller,
                lang,
                Tab::Open,
                warning_id,
                err.into(),
                None,
                "",
            )
            .await
        }
    }
}

/// 办结 with the action record, then to the closed tab; without an action
/// and a note the board comes back with the reasons and what was typed,
/// and nothing changes.
pub async fn close(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientAddress(source): ClientAddress,
    Path(warning_id): Path<i64>,
    Form(form): Form<CloseForm>,
) -> Response {
    let lang = Lang::of_request(&headers);
    let caller =
        match permitted_page_caller(&state, &headers, source, Permission::ViewWarnings).await {
            Ok(caller) => caller,
            Err(response) => return response,
        };
    let (action, note) = (form.action.as_deref(), form.note.as_deref());
    match close_warning(&state, &caller, warning_id, action, note).await {
        Ok(_) => see_other("/warnings?status=closed&done=closed"),
        Err(err) => {
            let note = note.unwrap_or_default();
            refused(
                &state,
                &caller,
                lang,
                Tab::Acknowledged,
                warning_id,
                err.into(),
                action,
                note,
            )
            .await
        }
    }
}

/// A 422 or 409 shows the board again, the reasons at the warning; any
/// other error answers as the API would.
#[expect(clippy::too_many_arguments, reason = "the page and what was typed")]
async fn refused(
    state: &AppState,
    caller: &Caller,
    lang: Lang,
    tab: Tab,
    warning_id: i64,
    err: ApiError,
    action: Option<&str>,
    note: &str,
) -> Response {
    let status = match &err {
        ApiError::Refused(Error::Validation(_)) => StatusCode::UNPROCESSABLE_ENTITY,
        ApiError::Refused(Error::Conflict { .. }) => StatusCode::CONFLICT,
        _ => return err.into_response(),
    };
    let problem = err.problem(lang);
    let mut problems: Vec<String> = problem
        .errors
        .iter()
        .map(|e| format!("{}：{}", field_name(&e.field, lang), e.reason))
        .collect();
    if problems.is_empty() {
        problems.push(problem.detail.clone());
    }
    let typed = Typed {
        id: warning_id,
        action: action.map(str::to_owned),
        note: note.to_owned(),
        problems,
    };
    match board_page(state, caller, lang, tab, None, Some(&typed)).await {
        Ok(page) => {
            let mut response = render(&page);
            *response.status_mut() = status;
            response
        }
        Err(err) => err.into_response(),
    }
}

fn field_name(field: &str, lang: Lang) -> &'static str {
    match field {
        "action" => lang.pick("处置方式", "What was done"),
        "note" => lang.pick("处置情况", "Note"),
        _ => lang.pick("内容", "Input"),
    }
}
