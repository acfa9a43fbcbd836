//! The pages of the closed loop that stay current by themselves: the
//! command room's live board (指挥室 · 实时警情) and a department's inbox
//! (部门工单). The server renders the frame and every word the scripts show
//! (`#labels`); `web/static/board.js` and `inbox.js` fill in the records from
//! the JSON API and follow `/api/v1/live`.

use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use fengqiao_core::dispute::{DisputeType, RiskLevel};
use fengqiao_core::incident::{IncidentSource, IncidentStatus, Settlement};
use fengqiao_core::role::Permission;
use fengqiao_core::work_order::WorkOrderStatus;
use fengqiao_triage::Group;

use crate::auth::ClientAddress;
use crate::error::ApiError;
use crate::i18n::Lang;
use crate::pages::overview::{chart, Marker};
use crate::pages::{page_caller, render};
use crate::services::access::Caller;
use crate::services::routing::triage;
use crate::state::AppState;

/// A word the scripts show, found by key: `status.received` → 已接警.
/// Statuses and sources are the core's labels (`fengqiao_core::label`).
pub(crate) struct Label {
    pub(crate) key: String,
    pub(crate) text: &'static str,
}

impl Label {
    pub(crate) fn new(key: String, text: &'static str) -> Label {
        Label { key, text }
    }
}

pub(crate) struct Choice {
    code: String,
    name: String,
    /// For a category: the dispute type a case from it is suggested.
    dispute_type: &'static str,
}

impl Choice {
    fn of<T: Copy + fengqiao_core::label::Label>(lang: Lang, code: &str, value: T) -> Choice {
        Choice {
            code: code.into(),
            name: lang.label(value).into(),
            dispute_type: "",
        }
    }
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    lang: Lang,
    org_name: String,
    statuses: Vec<Choice>,
    police: Vec<Choice>,
    non_police: Vec<Choice>,
    labels: Vec<Label>,
}

#[derive(Template)]
#[template(path = "board.html")]
struct BoardPage {
    lang: Lang,
    org_name: String,
    /// The caller may triage and route (the command room): the detail
    /// pane offers the actions.
    may_dispatch: bool,
    /// The caller may take reports in at the desk (接警登记).
    may_report: bool,
    /// The caller may register a dispute case from an incident.
    may_register_cases: bool,
    /// 来所, 电话, 民警当面.
    sources: Vec<Choice>,
    dispute_types: Vec<Choice>,
    risk_levels: Vec<Choice>,
    statuses: Vec<Choice>,
    police: Vec<Choice>,
    non_police: Vec<Choice>,
    labels: Vec<Label>,
}

/// Timeline events of incidents and of work orders, as the core names them.
const EVENTS: &[(&str, &str, &str)] = &[
    ("received", "接警", "Received"),
    ("triaged", "分类", "Triaged"),
    ("overridden", "人工改类", "Category changed"),
    ("routed", "派转", "Routed"),
    ("work_order_created", "生成工单", "Work order made"),
    ("handling_started", "开始处置", "Handling started"),
    ("resolved", "办结", "Resolved"),
    ("feedback_recorded", "回访", "Feedback"),
    ("reopened", "重启", "Reopened"),
    ("closed", "结案", "Closed"),
    (
        "cancelled_as_duplicate",
        "重复警情撤销",
        "Cancelled as duplicate",
    ),
    ("linked_as_repeat", "关联重复报警", "Linked as repeat call"),
    (
        "repeat_call_warning_raised",
        "重复报警预警",
        "Repeat-call warning",
    ),
    ("created", "工单派发", "Work order sent"),
    ("accepted", "签收", "Accepted"),
    ("started", "开始办理", "Started"),
    ("returned", "反馈结果", "Result returned"),
    ("confirmed", "确认办结", "Confirmed"),
    ("rejected", "退回", "Rejected"),
    ("sent_back", "退回指挥室", "Sent back"),
    ("escalated", "超时督办", "Escalated"),
    ("unit_dispatched", "派出警力", "Unit dispatched"),
    ("unit_arrived", "警力到场", "Unit on scene"),
    ("unit_cleared", "警力撤离", "Unit cleared"),
    ("resolved_on_scene", "现场处置完毕", "Resolved on scene"),
    ("settled_on_the_spot", "当场办结", "Settled on the spot"),
    (
        "reinforcement_requested",
        "申请战区增援",
        "Reinforcement requested",
    ),
    (
        "reinforcement_accepted",
        "战区同意增援",
        "Reinforcement accepted",
    ),
    (
        "reinforcement_declined",
        "战区未同意增援",
        "Reinforcement declined",
    ),
];

/// The live stream's state, as every live page (`live.js`) shows it.
pub(crate) const LIVE_WORDS: &[(&str, &str, &str)] = &[
    ("live.connecting", "连接中…", "Connecting…"),
    ("live.live", "实时", "Live"),
    (
        "live.offline",
        "连接中断，正在重连…",
        "Disconnected, reconnecting…",
    ),
    (
        "live.signed_out",
        "登录已失效，请重新登录",
        "Signed out: sign in again",
    ),
];

/// Words of the pages themselves.
const WORDS: &[(&str, &str, &str)] = &[
    ("group.police", "警情", "Police"),
    ("group.non_police", "非警情", "Non-police"),
    ("deadline.accept", "签收超时", "Accept overdue"),
    ("deadline.finish", "办结超时", "Finish overdue"),
    ("priority", "级", "P"),
    ("count", "条", "shown"),
    ("empty", "暂无警情", "No incidents"),
    ("empty.work_orders", "暂无工单", "No work orders"),
    ("received_at", "接警时间", "Received"),
    ("source", "来源", "Source"),
    ("location", "地点", "Location"),
    ("reporter", "报警人", "Reporter"),
    ("category", "类别", "Category"),
    ("matched", "判定依据", "Decided by"),
    ("text", "警情内容", "Report"),
    ("owner", "当前承办", "Held by"),
    ("work_orders", "工单", "Work orders"),
    ("timeline", "处置经过", "Timeline"),
    ("accept_by", "签收时限", "Accept by"),
    ("finish_by", "办结时限", "Finish by"),
    ("result", "办理结果", "Result"),
    ("reason", "退回理由", "Reason"),
    ("actor.system", "系统", "System"),
    ("actor.user", "账号", "Account"),
    ("actor.token", "接口", "API token"),
    ("close", "关闭", "Close"),
    ("unnamed_org", "单位", "Organisation"),
    ("error", "操作失败", "Failed"),
    ("action.accept", "签收", "Accept"),
    ("action.start", "开始办理", "Start"),
    ("action.return", "反馈结果", "Return result"),
    ("action.reject", "退回", "Reject"),
    ("note.return", "办理结果", "What was done"),
    (
        "note.reject",
        "退回理由（如：不属于本部门职责）",
        "Why (e.g. not ours)",
    ),
    ("submit", "提交", "Submit"),
    ("dispatch.title", "研判分流", "Triage and route"),
    ("dispatch.suggested", "规则建议", "Rules suggest"),
    ("dispatch.decided_by", "依据", "decided by"),
    (
        "dispatch.unread",
        "规则未能识别，请人工判断类别",
        "The rules could not read it: choose a category",
    ),
    ("dispatch.category", "类别", "Category"),
    ("dispatch.override", "改分类", "Change category"),
    (
        "dispatch.owners",
        "分流至（可多选，多个单位即联动处置）",
        "Route to (several for linked handling)",
    ),
    ("dispatch.route", "分流", "Route"),
    ("dispatch.dispatch", "派警", "Dispatch"),
    (
        "dispatch.police",
        "警务类警情由本所指挥室派警处置，派警后可再联动部门",
        "Police work goes to the station's own units; departments can join after",
    ),
    ("dispatch.link", "联动分流", "Add departments"),
    ("dispatch.reroute", "重新分流", "Re-route"),
    ("dispatch.suggested_owner", "建议", "suggested"),
    ("dispatch.holds", "已有工单", "holds a work order"),
    (
        "dispatch.none_chosen",
        "请至少选择一个承办单位",
        "Choose at least one organisation",
    ),
    (
        "dispatch.no_owners",
        "没有可分流的单位",
        "No organisation to route to",
    ),
    (
        "dispatch.loading",
        "正在读取可分流单位…",
        "Reading organisations…",
    ),
    (
        "dispatch.waiting",
        "待派转：请确认类别并分流",
        "Awaiting routing: confirm the category and route it",
    ),
    (
        "dispatch.sent_back",
        "部门已退回，请重新分流",
        "Rejected by a department: route it again",
    ),
    ("dispatch.routed", "已分流", "Routed"),
    ("dispatch.overridden", "已改分类", "Category changed"),
    (
        "units.title",
        "派警 · 推荐警力",
        "Dispatch · Recommended units",
    ),
    ("units.minutes", "分钟", "min"),
    ("units.within", "5分钟内可达", "within 5 min"),
    ("units.late", "预计超过5分钟", "over 5 min"),
    ("units.reinforcement", "战区增援", "war-zone reinforcement"),
    ("units.send", "派出所选警力", "Dispatch the chosen units"),
    (
        "units.request",
        "申请战区增援",
        "Ask the war zone for the chosen units",
    ),
    (
        "units.reason",
        "本所警力5分钟内无法到达，申请战区增援",
        "Our units cannot arrive within 5 minutes",
    ),
    ("units.none", "暂无可派的空闲警力", "No available unit"),
    ("units.assigned", "在处置警力", "Units on it"),
    (
        "units.overloaded",
        "本所警力不足：已列出战区其他派出所的空闲警力",
        "Station overloaded: the war zone's other units are listed",
    ),
    (
        "units.none_chosen",
        "请至少选择一个警力",
        "Choose at least one unit",
    ),
    (
        "units.requested",
        "已申请增援，待战区决定",
        "Requested: the war zone decides",
    ),
    ("cancel", "取消", "Cancel"),
    ("rejection", "退回理由", "Reason"),
    ("desk.resolving", "正在识别地址…", "Resolving the address…"),
    (
        "desk.unresolved",
        "未匹配到辖区标准地址，请补充小区、楼栋",
        "No standard address of the jurisdiction yet: add the compound and building",
    ),
    ("desk.grid", "网格", "Grid"),
    ("desk.station", "派出所", "Station"),
    ("desk.officer", "社区民警", "Community officer"),
    ("desk.suggested", "规则建议", "Rules suggest"),
    ("desk.decided_by", "依据", "decided by"),
    (
        "desk.unread",
        "规则未能识别，请选择类别",
        "The rules could not read it: choose a category",
    ),
    (
        "desk.no_earlier",
        "窗口期内无此前报警",
        "No earlier call in the window",
    ),
    ("desk.same_place", "同地址", "same address"),
    ("desk.same_caller", "同号码", "same phone"),
    ("desk.call_number_pre", "近", "Call no. "),
    ("desk.call_number_mid", "天内第", " within "),
    ("desk.call_number_post", "次报警", " days"),
    ("desk.saved", "已登记", "Saved"),
    (
        "desk.note_required",
        "请填写答复内容或转办去向",
        "Write the answer or where the caller was referred",
    ),
    (
        "desk.network",
        "网络连接失败，请稍后重试。",
        "Network error: try again.",
    ),
    ("case.title", "登记矛盾纠纷", "Register a dispute case"),
    ("case.type", "纠纷类型", "Type"),
    ("case.risk", "风险等级", "Risk level"),
    ("case.reason", "定级理由", "Why this level"),
    ("case.reporter", "报警人列为当事人", "The caller is a party"),
    (
        "case.reporter_unnamed",
        "报警人未留姓名，请填写当事人",
        "The caller gave no name: enter a party",
    ),
    ("case.party", "其他当事人姓名", "Another party's name"),
    (
        "case.party_phone",
        "其他当事人电话",
        "Another party's phone",
    ),
    ("case.submit", "登记案件", "Register"),
    (
        "case.registered",
        "已登记纠纷案件",
        "Dispute case registered",
    ),
    ("case.open", "查看案件", "Open the case"),
    ("field.source", "来源", "source"),
    ("field.text", "报警内容", "report"),
    ("field.location_text", "地点", "location"),
];

fn labels(lang: Lang) -> Vec<Label> {
    let prefixed = |prefix: &str, table: &'static [(&str, &str, &str)]| {
        table
            .iter()
            .map(|(code, zh, en)| Label {
                key: format!("{prefix}{code}"),
                text: lang.pick(zh, en),
            })
            .collect::<Vec<_>>()
    };
    let word = |key: String, text: &'static str| Label { key, text };
    let mut labels: Vec<Label> = IncidentStatus::ALL
        .into_iter()
        .map(|s| word(format!("status.{s}"), lang.label(s)))
        .collect();
    labels.extend(
        WorkOrderStatus::ALL
            .into_iter()
            .map(|s| word(format!("work_order.{s}"), lang.label(s))),
    );
    labels.extend(prefixed("event.", EVENTS));
    labels.extend(
        IncidentSource::ALL
            .into_iter()
            .map(|s| word(format!("source.{s}"), lang.label(s))),
    );
    labels.extend(
        Settlement::ALL
            .into_iter()
            .map(|s| word(format!("settlement.{}", s.as_str()), lang.label(s))),
    );
    labels.extend(prefixed("", WORDS));
    labels.extend(prefixed("", LIVE_WORDS));
    labels.extend(
        fengqiao_core::unit::UnitStatus::ALL
            .into_iter()
            .map(|s| word(format!("unit.{}", s.as_str()), lang.label(s))),
    );
    labels
}

fn categories(lang: Lang, group: Group) -> Vec<Choice> {
    triage()
        .table()
        .categories
        .iter()
        .filter(|c| c.group == group)
        .map(|c| Choice {
            code: c.code.clone(),
            name: lang.pick(&c.name_zh, &c.name_en).to_owned(),
            dispute_type: DisputeType::suggested_for(&c.code).as_str(),
        })
        .collect()
}

/// 指挥室 · 实时警情: the incidents of the caller's jurisdiction, live.
pub async fn board(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientAddress(source): ClientAddress,
) -> Response {
    let lang = Lang::of_request(&headers);
    let caller: Caller = match page_caller(&state, &headers, source).await {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    if let Err(err) = caller.require(Permission::ViewIncidents) {
        return ApiError::from(err).into_response();
    }
    let statuses = IncidentStatus::ALL
        .into_iter()
        .map(|s| Choice::of(lang, s.as_str(), s))
        .collect();
    render(&BoardPage {
        lang,
        org_name: caller.org.name.clone(),
        may_dispatch: caller.require(Permission::DispatchIncidents).is_ok(),
        may_report: caller.require(Permission::ReportIncidents).is_ok(),
        may_register_cases: caller.require(Permission::HandleDisputes).is_ok(),
        sources: IncidentSource::DESK
            .into_iter()
            .map(|s| Choice::of(lang, s.as_str(), s))
            .collect(),
        dispute_types: DisputeType::ALL
            .iter()
            .map(|t| Choice::of(lang, t.as_str(), *t))
            .collect(),
        risk_levels: RiskLevel::ALL
            .iter()
            .map(|r| Choice::of(lang, r.as_str(), *r))
            .collect(),
        statuses,
        police: categories(lang, Group::Police),
        non_police: categories(lang, Group::NonPolice),
        labels: labels(lang),
    })
}

/// 部门工单: the work orders of the caller's department, with accept,
/// start, return and reject.
pub async fn inbox(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientAddress(source): ClientAddress,
) -> Response {
    let lang = Lang::of_request(&headers);
    let caller: Caller = match page_caller(&state, &headers, source).await {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    let allowed = caller
        .require(Permission::HandleWorkOrders)
        .and_then(|()| caller.require(Permission::ViewIncidents));
    if let Err(err) = allowed {
        return ApiError::from(err).into_response();
    }
    let statuses = WorkOrderStatus::ALL
        .into_iter()
        .map(|s| Choice::of(lang, s.as_str(), s))
        .collect();
    render(&InboxPage {
        lang,
        org_name: caller.org.name.clone(),
        statuses,
        police: categories(lang, Group::Police),
        non_police: categories(lang, Group::NonPolice),
        labels: labels(lang),
    })
}

/// 实时地图: the board's map pane, drawn by the server from Fengqiao's own
/// geometry — grids and roads with their names — with the open incidents
/// of the jurisdiction (a square, marked late when no unit has arrived
/// within the standard) and the units the caller sends (a dot with its
/// call sign and status). The board fetches it again on every unit or
/// incident change; no tile server, no outside script.
pub async fn map(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientAddress(source): ClientAddress,
) -> Response {
    let lang = Lang::of_request(&headers);
    let caller: Caller = match page_caller(&state, &headers, source).await {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    match draw_map(&state, &caller, lang).await {
        // A document of its own names its namespace; drawn inline in a
        // page it needs none.
        Ok(svg) => (
            [
                (
                    axum::http::header::CONTENT_TYPE,
                    "image/svg+xml; charset=utf-8",
                ),
                (axum::http::header::CACHE_CONTROL, "no-store"),
            ],
            svg.replacen("<svg ", r#"<svg xmlns="http://www.w3.org/2000/svg" "#, 1),
        )
            .into_response(),
        Err(err) => err.into_response(),
    }
}

async fn draw_map(state: &AppState, caller: &Caller, lang: Lang) -> Result<String, ApiError> {
    caller.require(Permission::ViewIncidents)?;
    let ground = crate::pages::overview::ground(state, &caller.org.division_codes).await?;
    let now = state.clock.now();
    let mut markers = Vec::new();
    for incident in state
        .store
        .incidents_within(caller.scope().as_str(), 200)
        .await?
    {
        let open = matches!(
            incident.status,
            IncidentStatus::Triaged | IncidentStatus::Dispatched | IncidentStatus::Diverted
        );
        let Some(point) = incident.coordinates.filter(|_| open) else {
            continue;
        };
        let waited = (now.millis() - incident.received_at.millis()) as f64 / 60_000.0;
        markers.push(Marker {
            unit: false,
            label: incident.receipt_number.to_string(),
            title: format!(
                "{} {} · {}",
                incident.receipt_number,
                lang.label(incident.status),
                incident.location_text
            ),
            lat: point.lat(),
            lon: point.lon(),
            class: incident.status.as_str().into(),
            late: incident.status == IncidentStatus::Dispatched
                && waited > fengqiao_core::unit::ARRIVAL_STANDARD_MINUTES,
            id: incident.id,
        });
    }
    // Units only for those who send them; their positions are officers'.
    if let Ok(units) = crate::services::dispatch::list(state, caller, "").await {
        for unit in units {
            let Some(position) = unit.position else {
                continue;
            };
            markers.push(Marker {
                unit: true,
                label: unit.call_sign.as_str().into(),
                title: format!("{} · {}", unit.call_sign.as_str(), lang.label(unit.status)),
                lat: position.point().lat(),
                lon: position.point().lon(),
                class: unit.status.as_str().into(),
                late: false,
                id: unit.id,
            });
        }
    }
    let title = lang.pick("辖区实时地图", "Live map of the jurisdiction");
    Ok(chart::map(title, &ground, &[], &markers).unwrap_or_else(|| {
        format!(
            r#"<svg class="chart map" viewBox="0 0 320 60" role="img" aria-label="{title}"><text x="10" y="30">{}</text></svg>"#,
            lang.pick("辖区楼栋尚无坐标，无法绘制地图。", "No building has coordinates yet.")
        )
    }))
}
