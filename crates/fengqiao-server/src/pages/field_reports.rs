//! 网格上报 (e治采) on a phone: the form a grid worker or cadre files a
//! report with — the address resolved as typed, kind, category,
//! description, a photo from the camera — and the reports of the
//! jurisdiction, kept current by the live stream. The server renders every
//! word; `web/static/field_reports.js` talks to `/api/v1/field-reports`.

use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use fengqiao_core::field_report::{FieldReportKind, Photo};
use fengqiao_core::role::Permission;

use crate::auth::ClientAddress;
use crate::i18n::Lang;
use crate::pages::{page_caller, render};
use crate::services::Error;
use crate::state::AppState;

struct Category {
    code: &'static str,
    name: &'static str,
}

struct Kind {
    code: &'static str,
    name: &'static str,
    categories: Vec<Category>,
}

/// A word the script shows, found by key.
struct Label {
    key: &'static str,
    text: &'static str,
}

#[derive(Template)]
#[template(path = "field_reports.html")]
struct FieldReportsPage {
    lang: Lang,
    org_name: String,
    can_file: bool,
    can_view: bool,
    /// May register a dispute report as a case (HandleDisputes).
    can_register: bool,
    /// May take a report in as an incident (ReportIncidents): 转为警情.
    can_take_in: bool,
    kinds: Vec<Kind>,
    labels: Vec<Label>,
    max_photo_mb: usize,
}

/// (key, Chinese, English) of the words the script shows.
const WORDS: &[(&str, &str, &str)] = &[
    ("resolving", "正在匹配标准地址…", "Matching the registry…"),
    ("resolved", "已匹配标准地址：", "Matched in the registry: "),
    (
        "unresolved",
        "辖区标准地址库中未找到该楼栋，请补充小区、楼栋",
        "No building of your jurisdiction matches: add the compound and building",
    ),
    ("grid", "网格", "Grid"),
    ("officer", "社区民警", "Community officer"),
    ("sending", "正在提交…", "Sending…"),
    ("sent", "已上报，编号", "Filed, number"),
    ("photo.reading", "正在处理照片…", "Preparing the photo…"),
    (
        "photo.unreadable",
        "无法读取这张照片，请换一张或重拍",
        "This photo cannot be read: choose or take another",
    ),
    ("photo.remove", "移除照片", "Remove photo"),
    ("reporter", "上报人", "Reported by"),
    ("empty", "暂无上报", "No reports"),
    (
        "dispute_registered",
        "已登记为纠纷",
        "Registered as dispute",
    ),
    ("error", "操作失败", "Failed"),
    ("take_in", "转为警情", "Take in as an incident"),
    ("incident_made", "已转为警情", "Taken in as incident"),
    ("register", "登记为纠纷", "Register as dispute"),
    ("party", "当事人姓名", "Party's name"),
    (
        "other_party",
        "另一方当事人（选填）",
        "Other party (optional)",
    ),
    ("risk_level", "风险等级", "Risk level"),
    ("risk_reason", "风险等级的理由", "Why this risk level"),
    ("risk.low", "低", "Low"),
    ("risk.medium", "中", "Medium"),
    ("risk.high", "高", "High"),
    ("risk.critical", "极高", "Critical"),
];

/// 网格上报: the form for those who file, the list for those who read.
pub async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientAddress(source): ClientAddress,
) -> Response {
    let lang = Lang::of_request(&headers);
    let caller = match page_caller(&state, &headers, source).await {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    let can_file = caller.permissions.contains(&Permission::FileFieldReports);
    let can_view = caller.permissions.contains(&Permission::ViewDisputes)
        && caller.permissions.contains(&Permission::ViewIncidents);
    if !can_file && !can_view {
        return Error::Forbidden.into_response();
    }
    let kinds = FieldReportKind::ALL
        .into_iter()
        .map(|kind| Kind {
            code: kind.as_str(),
            name: lang.label(kind),
            categories: kind
                .categories()
                .iter()
                .map(|(code, zh, en)| Category {
                    code,
                    name: lang.pick(zh, en),
                })
                .collect(),
        })
        .collect();
    let labels = WORDS
        .iter()
        .chain(crate::pages::board::LIVE_WORDS)
        .map(|(key, zh, en)| Label {
            key,
            text: lang.pick(zh, en),
        })
        .collect();
    render(&FieldReportsPage {
        lang,
        org_name: caller.org.name.clone(),
        can_file,
        can_view,
        can_register: caller.permissions.contains(&Permission::HandleDisputes),
        can_take_in: can_view && caller.permissions.contains(&Permission::ReportIncidents),
        kinds,
        labels,
        max_photo_mb: Photo::MAX_BYTES / (1024 * 1024),
    })
}
