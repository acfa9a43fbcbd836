//! 矛盾纠纷 pages: the list of the jurisdiction's cases and one case with its
//! parties (masked), sessions, agreement, follow-ups, linked incidents and
//! timeline, and the forms of what may be done next. The server renders
//! what the API would say (`api::disputes::dispute_view`); the forms post to
//! the JSON API through `web/static/dispute.js`, so a refusal shows the
//! API's own Chinese problem document. Times in Asia/Shanghai.

use std::str::FromStr;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use fengqiao_core::china_time;
use fengqiao_core::dispute::{
    DisputeStatus, DisputeType, FollowUpStatus, RiskLevel, TransferTarget,
};
use fengqiao_core::label::Label;
use fengqiao_core::role::Permission;
use fengqiao_core::warning::WarningRule;
use fengqiao_core::Timestamp;
use serde::Deserialize;

use crate::api::disputes::{dispute_view, DisputeView};
use crate::auth::ClientAddress;
use crate::error::ApiError;
use crate::i18n::Lang;
use crate::pages::{permitted_page_caller, render};
use crate::services::disputes::visible_dispute;
use crate::state::AppState;

const LIST_LIMIT: i64 = 200;

fn event_zh(event: &str) -> &'static str {
    match event {
        "registered" => "登记",
        "incident_linked" => "关联警情",
        "session_recorded" => "调解",
        "agreement_recorded" => "达成调解协议",
        "follow_up_scheduled" => "安排回访",
        "failed" => "调解不成",
        "transferred" => "移交",
        "follow_up_recorded" => "回访",
        "follow_ups_cancelled" => "取消后续回访",
        "closed" => "结案",
        "warning_raised" => "触发预警",
        _ => "其他",
    }
}

/// RFC 3339 text from the API as a China time, e.g. 2026-11-25 09:30.
fn local(text: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| china_time::minutes(Timestamp(t.timestamp_millis())))
        .unwrap_or_default()
}

fn local_opt(text: &Option<String>) -> String {
    text.as_deref().map(local).unwrap_or_default()
}

struct Row {
    id: i64,
    kind: &'static str,
    risk: &'static str,
    risk_level: String,
    status: &'static str,
    address: String,
    facts: String,
    registered_at: String,
    overdue: bool,
}

struct StatusChoice {
    code: &'static str,
    name: &'static str,
    selected: bool,
}

#[derive(Template)]
#[template(path = "disputes.html")]
struct ListPage {
    lang: Lang,
    org_name: String,
    statuses: Vec<StatusChoice>,
    rows: Vec<Row>,
}

#[derive(Deserialize)]
pub struct ListQuery {
    status: Option<String>,
}

/// 矛盾纠纷台账: the cases of the caller's jurisdiction, newest first.
pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientAddress(source): ClientAddress,
    Query(query): Query<ListQuery>,
) -> Response {
    let caller =
        match permitted_page_caller(&state, &headers, source, Permission::ViewDisputes).await {
            Ok(caller) => caller,
            Err(response) => return response,
        };
    let status = query
        .status
        .as_deref()
        .and_then(|s| DisputeStatus::from_str(s).ok());
    let found = match state
        .store
        .disputes_within(caller.scope().as_str(), status, LIST_LIMIT)
        .await
    {
        Ok(found) => found,
        Err(err) => return ApiError::from(err).into_response(),
    };
    let now = state.clock.now();
    let rows = found
        .iter()
        .map(|s| {
            let d = &s.dispute;
            Row {
                id: d.id,
                kind: d.dispute_type.zh(),
                risk: d.risk.level.zh(),
                risk_level: d.risk.level.as_str().into(),
                status: d.status.zh(),
                address: d.address_text.to_string(),
                facts: d.facts.as_str().chars().take(60).collect(),
                registered_at: china_time::minutes(d.registered_at),
                overdue: d.status == DisputeStatus::Registered && now > d.mediate_by,
            }
        })
        .collect();
    let statuses = DisputeStatus::ALL
        .iter()
        .map(|s| StatusChoice {
            code: s.as_str(),
            name: s.zh(),
            selected: Some(*s) == status,
        })
        .collect();
    render(&ListPage {
        lang: Lang::of_request(&headers),
        org_name: caller.org.name.clone(),
        statuses,
        rows,
    })
}

struct Fact {
    label: &'static str,
    value: String,
}

struct SessionRow {
    held_at: String,
    place: String,
    participants: String,
    note: String,
    agreed: String,
    next_step: String,
    next_session_at: String,
}

struct FollowUpRow {
    id: i64,
    due_at: String,
    status: &'static str,
    pending: bool,
    missed: bool,
    note: String,
    done_at: String,
}

struct EventRow {
    at: String,
    name: &'static str,
    actor: String,
    note: String,
}

struct IncidentRow {
    receipt: String,
    text: String,
    received_at: String,
}

#[derive(Template)]
#[template(path = "dispute.html")]
struct CasePage {
    lang: Lang,
    id: i64,
    kind: &'static str,
    status: &'static str,
    risk: &'static str,
    risk_level: String,
    overdue: bool,
    facts: Vec<Fact>,
    parties: Vec<Fact>,
    incidents: Vec<IncidentRow>,
    sessions: Vec<SessionRow>,
    agreement: Option<Fact>,
    follow_ups: Vec<FollowUpRow>,
    timeline: Vec<EventRow>,
    /// Which forms to show: what the caller may do in this state.
    can_mediate: bool,
    /// 关联警情: further incidents about the same dispute.
    can_link: bool,
    can_agree: bool,
    can_transfer: bool,
    can_follow_up: bool,
    can_close: bool,
    default_follow_up_days: String,
}

fn case_page(view: &DisputeView, lang: Lang, handles: bool, follow_up_days: &[u32]) -> CasePage {
    let status = DisputeStatus::from_str(&view.status).unwrap_or(DisputeStatus::Registered);
    let kind = DisputeType::from_str(&view.dispute_type).unwrap_or(DisputeType::Other);
    let risk = RiskLevel::from_str(&view.risk_level).unwrap_or(RiskLevel::Low);
    let mut facts = vec![
        Fact {
            label: "地点",
            value: view.address_text.clone(),
        },
        Fact {
            label: "纠纷简要情况",
            value: view.facts.clone(),
        },
        Fact {
            label: "风险评估理由",
            value: view.risk_reason.clone(),
        },
        Fact {
            label: "登记时间",
            value: local(&view.registered_at),
        },
        Fact {
            label: "调处时限",
            value: local(&view.mediate_by),
        },
    ];
    if let Some(org) = &view.org_name {
        facts.push(Fact {
            label: "所属派出所",
            value: org.clone(),
        });
    }
    if !view.mediators.is_empty() {
        facts.push(Fact {
            label: "调解员",
            value: view.mediators.join("、"),
        });
    }
    if let (Some(target), Some(to)) = (&view.transfer_target, &view.transfer_to) {
        facts.push(Fact {
            label: "移交至",
            value: format!(
                "{}：{to}",
                TransferTarget::from_str(target).map_or("其他", Label::zh)
            ),
        });
    }
    if let Some(reason) = &view.outcome_reason {
        facts.push(Fact {
            label: "原因",
            value: reason.clone(),
        });
    }
    let parties = view
        .parties
        .iter()
        .map(|p| Fact {
            label: if p.kind == "organisation" {
                "单位"
            } else {
                "个人"
            },
            value: [Some(p.name.clone()), p.phone.clone(), p.id_number.clone()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" · "),
        })
        .collect();
    let timeline = view
        .timeline
        .iter()
        .map(|e| {
            let note = match e.event.as_str() {
                "warning_raised" => e.detail["rule"]
                    .as_str()
                    .map(|r| WarningRule::from_str(r).map_or("预警", Label::zh))
                    .unwrap_or("")
                    .into(),
                "failed" => e.detail["reason"].as_str().unwrap_or("").into(),
                "transferred" => e.detail["to"].as_str().unwrap_or("").into(),
                "closed" => e.detail["note"].as_str().unwrap_or("").into(),
                "follow_up_recorded" => {
                    if e.detail["holding"] == true {
                        "协议履行良好".into()
                    } else {
                        "协议未履行".into()
                    }
                }
                "follow_up_scheduled" => e.detail["due_at"]
                    .as_i64()
                    .map(|ms| {
                        format!(
                            "应于 {} 前",
                            local(&crate::services::format::rfc3339(fengqiao_core::Timestamp(
                                ms
                            )))
                        )
                    })
                    .unwrap_or_default(),
                _ => String::new(),
            };
            EventRow {
                at: local(&e.at),
                name: event_zh(&e.event),
                actor: if e.actor == "system" {
                    "系统".into()
                } else {
                    e.actor.replace("user:", "账号 ")
                },
                note,
            }
        })
        .collect();
    let pending = view.follow_ups.iter().any(|f| f.status == "pending");
    CasePage {
        lang,
        id: view.id,
        kind: kind.zh(),
        status: status.zh(),
        risk: risk.zh(),
        risk_level: view.risk_level.clone(),
        overdue: view.mediation_overdue,
        facts,
        parties,
        incidents: view
            .incidents
            .iter()
            .map(|i| IncidentRow {
                receipt: i.receipt_number.clone(),
                text: i.text.clone(),
                received_at: local(&i.received_at),
            })
            .collect(),
        sessions: view
            .sessions
            .iter()
            .map(|s| SessionRow {
                held_at: local(&s.held_at),
                place: s.place.clone(),
                participants: s.participants.clone(),
                note: s.note.clone(),
                agreed: s.agreed.clone().unwrap_or_default(),
                next_step: s.next_step.clone().unwrap_or_default(),
                next_session_at: local_opt(&s.next_session_at),
            })
            .collect(),
        agreement: view.agreement.as_ref().map(|text| Fact {
            label: "调解协议",
            value: format!("{text}（{}）", local_opt(&view.agreed_at)),
        }),
        follow_ups: view
            .follow_ups
            .iter()
            .map(|f| FollowUpRow {
                id: f.id,
                due_at: local(&f.due_at),
                status: FollowUpStatus::from_str(&f.status)
                    .map(Label::zh)
                    .unwrap_or(""),
                pending: f.status == "pending",
                missed: f.missed,
                note: f.note.clone().unwrap_or_default(),
                done_at: local_opt(&f.done_at),
            })
            .collect(),
        timeline,
        can_link: handles,
        can_mediate: handles
            && matches!(status, DisputeStatus::Registered | DisputeStatus::Mediating),
        can_agree: handles && status == DisputeStatus::Mediating && !view.sessions.is_empty(),
        can_transfer: handles
            && matches!(
                status,
                DisputeStatus::Registered | DisputeStatus::Mediating | DisputeStatus::Failed
            ),
        can_follow_up: handles
            && matches!(status, DisputeStatus::Resolved | DisputeStatus::FollowedUp)
            && pending,
        can_close: handles
            && (matches!(status, DisputeStatus::Failed | DisputeStatus::Transferred)
                || (status == DisputeStatus::FollowedUp && !pending)),
        default_follow_up_days: follow_up_days
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(","),
    }
}

/// 纠纷详情: one case with the forms of its next steps.
pub async fn case(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientAddress(source): ClientAddress,
    Path(id): Path<i64>,
) -> Response {
    let caller =
        match permitted_page_caller(&state, &headers, source, Permission::ViewDisputes).await {
            Ok(caller) => caller,
            Err(response) => return response,
        };
    let view = match visible_dispute(&state, &caller, id).await {
        Ok((record, _)) => dispute_view(&state, &record).await,
        Err(err) => Err(err.into()),
    };
    match view {
        Ok(view) => render(&case_page(
            &view,
            Lang::of_request(&headers),
            caller.require(Permission::HandleDisputes).is_ok(),
            state.settings.dispute_follow_ups.days(),
        )),
        Err(err) => err.into_response(),
    }
}
