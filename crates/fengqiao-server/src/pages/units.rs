//! 我的警力: the crew's phone page. The unit and the incident it is sent
//! to arrive live; one tap for each status; resolved on scene with what
//! was done; the phone's position sent every few seconds while the page is
//! open. The server renders the frame and every word (`#labels`);
//! `web/static/unit.js` reads `/api/v1/units/mine` and follows the stream.

use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use fengqiao_core::role::Permission;
use fengqiao_core::unit::UnitStatus;

use crate::auth::ClientAddress;
use crate::i18n::Lang;
use crate::pages::board::Label;
use crate::pages::{permitted_page_caller, render};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "unit.html")]
struct UnitPage {
    lang: Lang,
    labels: Vec<Label>,
}

const WORDS: &[(&str, &str, &str)] = &[
    (
        "none",
        "您当前未编入警力，请联系指挥室上岗。",
        "You are on no unit's crew: ask the command room.",
    ),
    ("idle", "暂无派警任务，保持待命。", "No job: stand by."),
    ("job", "出警任务", "Job"),
    ("receipt", "回执号", "Receipt"),
    ("text", "警情内容", "Report"),
    ("location", "地点", "Location"),
    ("phone", "报警人电话", "Caller's phone"),
    ("received", "接警时间", "Received"),
    ("tap.en_route", "出发", "En route"),
    ("tap.on_scene", "到场", "On scene"),
    ("tap.transporting", "护送", "Transporting"),
    ("tap.available", "移交后撤离", "Hand on and clear"),
    ("tap.out_of_service", "暂停执勤", "Out of service"),
    ("tap.back", "恢复执勤", "Back in service"),
    ("resolve", "现场处置完毕", "Resolved on scene"),
    ("result", "处置结果", "What was done"),
    (
        "result.hint",
        "如：双方已劝离，现场调解完毕",
        "e.g. both parties calmed, settled on the spot",
    ),
    ("since", "状态起始", "Since"),
    ("gps.on", "定位上报中", "Sending position"),
    ("gps.off", "未开启定位", "Position not shared"),
    ("error", "操作失败", "Failed"),
    ("map", "在地图中查看", "Open in a map"),
];

/// 我的警力: for those who crew units.
pub async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientAddress(source): ClientAddress,
) -> Response {
    let lang = Lang::of_request(&headers);
    if let Err(response) =
        permitted_page_caller(&state, &headers, source, Permission::CrewUnits).await
    {
        return response;
    }
    let mut labels: Vec<Label> = WORDS
        .iter()
        .chain(crate::pages::board::LIVE_WORDS)
        .map(|(key, zh, en)| Label::new(key.to_string(), lang.pick(zh, en)))
        .collect();
    labels.extend(
        UnitStatus::ALL
            .into_iter()
            .map(|s| Label::new(format!("unit.{}", s.as_str()), lang.label(s))),
    );
    render(&UnitPage { lang, labels })
}
