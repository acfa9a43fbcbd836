//! 扫码上报: the public page a building's QR plate opens. No sign-in; the
//! building's address is filled in; a resident writes what is wrong and may
//! leave a phone number, and gets a tracking code (查询码) to check progress.
//!
//! - The report goes through the one intake pipeline as source `qr_report`,
//!   actor anonymous, jurisdiction the station covering the building,
//!   location the building itself.
//! - Nothing about the sender is kept: the audit entry's source is the word
//!   `qr_plate`, never an address; no device data is read.
//! - Cross-site posts are refused: the form carries a token bound (by MAC) to
//!   a random SameSite=Strict cookie and the plate, so another site can
//!   neither send the cookie nor forge the token. The token is also the
//!   idempotency key: a double tap makes one incident.
//! - Each building's plate takes a few reports per 10 minutes and a daily
//!   number, counted in the report's own transaction (so the limit holds
//!   across instances and restarts, and a refused report stores nothing).
//! - The tracking code is the receipt number and a MAC of it, so receipt
//!   numbers, which count up, cannot be guessed into someone else's report.

use std::collections::BTreeSet;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Form;
use fengqiao_core::audit::Actor;
use fengqiao_core::china_time;
use fengqiao_core::incident::IncidentSource;
use fengqiao_core::org::{DivisionCode, OrgKind, Organisation};
use fengqiao_core::receipt::ReceiptNumber;
use fengqiao_store::Building;
use serde::Deserialize;

use crate::error::ApiResult;
use crate::i18n::Lang;
use crate::services::access::Caller;
use crate::services::addresses::plate_address;
use crate::services::incidents::public_status;
use crate::services::intake::{take_in_known, Known, PlateLimit, ReportIncident};
use crate::services::routing::best_cover;
use crate::services::routing::triage;
use crate::services::Error;
use crate::state::AppState;

const FORM_COOKIE: &str = "fq_report";
/// What the audit log records as the source of a plate report.
pub const PLATE_SOURCE: &str = "qr_plate";

pub(crate) const PLATE_LIMIT: PlateLimit = PlateLimit {
    per_ten_minutes: 3,
    per_day: 20,
};

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    lang: Lang,
    plate: String,
    address: String,
    form_id: String,
    token: String,
    text: String,
    phone: String,
    errors: Vec<String>,
}

#[derive(Template)]
#[template(path = "report_receipt.html")]
struct ReceiptPage {
    lang: Lang,
    receipt: String,
    tracking_code: String,
    address: String,
}

#[derive(Template)]
#[template(path = "report_track.html")]
struct TrackPage {
    lang: Lang,
    code: String,
    error: Option<String>,
    found: Option<TrackedReport>,
}

struct TrackedReport {
    receipt: String,
    category: String,
    received_at: String,
    closed: bool,
    note: String,
    agency: String,
}

#[derive(Template)]
#[template(path = "report_message.html")]
struct MessagePage {
    lang: Lang,
    title: String,
    message: String,
}

fn render(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(err) => Error::Internal(err.to_string()).into_response(),
    }
}

fn message(status: StatusCode, title: &str, text: &str) -> Response {
    render(
        status,
        &MessagePage {
            lang: Lang::Zh,
            title: title.into(),
            message: text.into(),
        },
    )
}

fn unknown_plate() -> Response {
    message(
        StatusCode::NOT_FOUND,
        "未找到该门牌",
        "没有找到这块门牌，请核对门牌上的编码后重新扫码。如遇紧急情况，请直接拨打 110。",
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// 256 random bits, URL-safe.
fn random_text() -> String {
    fengqiao_core::secret::generate("").text
}

/// Equal without saying where they differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn form_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().strip_prefix("fq_report="))
        .find(|v| v.len() >= 32)
        .map(str::to_owned)
}

fn form_token(state: &AppState, cookie: &str, plate: &str, form_id: &str) -> String {
    let data = format!("{cookie}\0{plate}\0{form_id}");
    hex(&state.cipher.tag("report-form", data.as_bytes())[..16])
}

/// Crockford base-32 (no I, L, O, U), as on the plates.
const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// 查询码: the receipt number and six characters of its MAC.
pub(crate) fn tracking_code(state: &AppState, receipt: &ReceiptNumber) -> String {
    let receipt = receipt.to_string();
    let tag = state.cipher.tag("receipt", receipt.as_bytes());
    let bits = u32::from_be_bytes([tag[0], tag[1], tag[2], tag[3]]);
    let check: String = (0..6)
        .map(|i| CROCKFORD[((bits >> (i * 5)) & 31) as usize] as char)
        .collect();
    format!("{receipt}-{check}")
}

/// The police station whose jurisdiction holds the building.
async fn covering_station(
    state: &AppState,
    building: &Building,
) -> ApiResult<Option<Organisation>> {
    let Ok(code) = DivisionCode::parse(&building.community_code) else {
        return Ok(None);
    };
    let stations = state
        .store
        .organisations_of_kind(OrgKind::PoliceStation)
        .await?;
    Ok(best_cover(stations, &code))
}

async fn building(state: &AppState, plate: &str) -> ApiResult<Option<(Building, Organisation)>> {
    let plate = plate.trim().to_ascii_uppercase();
    if plate.len() > 40 {
        return Ok(None);
    }
    let Some(building) = state.store.building_by_plate(&plate).await? else {
        return Ok(None);
    };
    Ok(covering_station(state, &building)
        .await?
        .map(|station| (building, station)))
}

fn form_page(
    state: &AppState,
    building: &Building,
    cookie: &str,
    text: String,
    phone: String,
    errors: Vec<String>,
) -> ReportPage {
    let form_id = random_text();
    ReportPage {
        lang: Lang::Zh,
        plate: building.plate_code.clone(),
        address: plate_address(building),
        token: form_token(state, cookie, &building.plate_code, &form_id),
        form_id,
        text,
        phone,
        errors,
    }
}

fn with_cookie(state: &AppState, mut response: Response, cookie: &str) -> Response {
    let secure = if state.settings.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    if let Ok(value) =
        format!("{FORM_COOKIE}={cookie}; Path=/r; HttpOnly; SameSite=Strict{secure}").parse()
    {
        response.headers_mut().append(SET_COOKIE, value);
    }
    response
}

/// GET /r/{plate}: the form, with the building's address filled in.
pub async fn form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(plate): Path<String>,
) -> Response {
    let (building, _) = match building(&state, &plate).await {
        Ok(Some(found)) => found,
        Ok(None) => return unknown_plate(),
        Err(e) => return e.into_response(),
    };
    let cookie = form_cookie(&headers).unwrap_or_else(random_text);
    let page = form_page(
        &state,
        &building,
        &cookie,
        String::new(),
        String::new(),
        Vec::new(),
    );
    with_cookie(&state, render(StatusCode::OK, &page), &cookie)
}

#[derive(Deserialize)]
pub struct ReportForm {
    #[serde(default)]
    form_id: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    phone: String,
}

/// POST /r/{plate}: takes the report in and answers the receipt.
pub async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(plate): Path<String>,
    Form(form): Form<ReportForm>,
) -> Response {
    let (building, station) = match building(&state, &plate).await {
        Ok(Some(found)) => found,
        Ok(None) => return unknown_plate(),
        Err(e) => return e.into_response(),
    };
    let cross_site = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "cross-site");
    let cookie = form_cookie(&headers);
    let genuine = cookie.as_deref().is_some_and(|cookie| {
        !form.form_id.is_empty()
            && same(
                &form.token,
                &form_token(&state, cookie, &building.plate_code, &form.form_id),
            )
    });
    if cross_site || !genuine {
        return message(
            StatusCode::FORBIDDEN,
            "页面已失效",
            "请重新扫描门牌上的二维码，在打开的页面中填写并提交。",
        );
    }
    let cookie = cookie.unwrap_or_default();
    let text = form.text.trim().to_owned();
    let phone = form.phone.trim().to_owned();
    let address = plate_address(&building);
    let body = ReportIncident::new(
        IncidentSource::QrReport,
        text.clone(),
        address.clone(),
        None,
        Some(phone.clone()).filter(|p| !p.is_empty()),
    );
    let caller = Caller {
        actor: Actor::Anonymous,
        org: station,
        permissions: BTreeSet::new(),
        user: None,
        source: PLATE_SOURCE.into(),
    };
    let known = Known {
        building: Some(&building),
        limit: Some(&PLATE_LIMIT),
        ..Known::default()
    };
    let key = format!(
        "plate:{}",
        form.form_id.chars().take(64).collect::<String>()
    );
    match take_in_known(&state, &caller, Some(&key), &body, &known).await {
        Ok((_, record)) => render(
            StatusCode::OK,
            &ReceiptPage {
                lang: Lang::Zh,
                tracking_code: tracking_code(&state, &record.incident.receipt_number),
                receipt: record.incident.receipt_number.to_string(),
                address,
            },
        ),
        Err(Error::Validation(fields)) => {
            let lang = Lang::Zh;
            let errors = fields
                .iter()
                .map(|f| {
                    let label = match f.field.as_str() {
                        "text" => "情况描述",
                        "reporter_phone" | "reporter" => "联系电话",
                        other => other,
                    };
                    format!("{label}：{}", lang.reason(&f.reason))
                })
                .collect();
            let page = form_page(&state, &building, &cookie, text, phone, errors);
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(Error::TooManyRequests) => message(
            StatusCode::TOO_MANY_REQUESTS,
            "上报过于频繁",
            "这栋楼近期通过门牌上报的次数已达上限，本次内容未保存。请稍后再试；如遇紧急情况，请直接拨打 110。",
        ),
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
pub struct TrackQuery {
    code: Option<String>,
}

/// GET /r/track: a tracking code in, the report's public status out.
pub async fn track(State(state): State<AppState>, Query(query): Query<TrackQuery>) -> Response {
    let code = query.code.unwrap_or_default().trim().to_ascii_uppercase();
    let mut page = TrackPage {
        lang: Lang::Zh,
        code: code.chars().take(40).collect(),
        error: None,
        found: None,
    };
    if code.is_empty() {
        return render(StatusCode::OK, &page);
    }
    match tracked(&state, &code).await {
        Ok(Some(found)) => page.found = Some(found),
        Ok(None) => {
            page.error = Some("查询码不正确，请核对后重试。".into());
            return render(StatusCode::NOT_FOUND, &page);
        }
        Err(e) => return e.into_response(),
    }
    render(StatusCode::OK, &page)
}

async fn tracked(state: &AppState, code: &str) -> ApiResult<Option<TrackedReport>> {
    let Some((receipt, _)) = code.rsplit_once('-') else {
        return Ok(None);
    };
    let Ok(receipt) = ReceiptNumber::parse(receipt) else {
        return Ok(None);
    };
    if !same(code, &tracking_code(state, &receipt)) {
        return Ok(None);
    }
    let Some(id) = state
        .store
        .incident_id_by_receipt(&receipt.to_string())
        .await?
    else {
        return Ok(None);
    };
    let Some(record) = state.store.incident(id).await? else {
        return Ok(None);
    };
    let (closed, note, agency) = public_status(state, &record).await?;
    let category = record
        .incident
        .triage
        .as_ref()
        .and_then(|t| triage().table().category(t.category.code.as_str()))
        .map(|c| c.name_zh.clone())
        .unwrap_or_else(|| "待分类".into());
    let received = china_time::minutes(record.incident.received_at);
    Ok(Some(TrackedReport {
        receipt: receipt.to_string(),
        category,
        received_at: received,
        closed,
        note,
        agency: agency.unwrap_or_default(),
    }))
}
