//! Open311 GeoReport v2 (JSON): outside systems list the services (the
//! non-police categories of the triage table), post service requests into
//! the one intake pipeline, and read their status.
//!
//! Decisions, as the spec leaves them to the server:
//! - `jurisdiction_id` is a police station's division code (its first one,
//!   e.g. `510107001`). It is optional: without it a request goes to the
//!   station of the API token, and reads cover every station.
//! - `api_key` is a Fengqiao API token (`fqt_…`) with `report_incidents`;
//!   only posting needs one. Reads are public, so they show requests that
//!   came in through Open311 only, and never personal data or the
//!   description (free text may name people): status, status notes, the
//!   service, the responsible organisation, times and the place.
//! - `service_request_id` is the receipt number (回执号).
//! - `email`, `device_id`, `account_id`, `media_url` and attributes are
//!   accepted and not stored; only JSON is served (`.json` paths).

use std::collections::HashMap;

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use chrono::DateTime;
use fengqiao_core::china_time;
use fengqiao_core::geo::Wgs84;
use fengqiao_core::incident::IncidentSource;
use fengqiao_core::org::{DivisionCode, OrgKind, Organisation};
use fengqiao_core::receipt::ReceiptNumber;
use fengqiao_core::role::Permission;
use fengqiao_core::secret::API_TOKEN_PREFIX;
use fengqiao_core::Timestamp;
use fengqiao_store::{IncidentRecord, SourceQuery};
use fengqiao_triage::{Category, Group, RouteTo};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::PUBLIC_TAG;
use crate::error::ApiError;
use crate::i18n::Lang;
use crate::services::access::Caller;
use crate::services::incidents::public_status;
use crate::services::intake::{take_in_known, Known, ReportIncident};
use crate::services::routing::triage;
use crate::services::{sessions, Error};
use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

const TAG: &str = "open311";
/// Reads answer at most this many requests, newest first.
const LIST_LIMIT: i64 = 200;
/// Without dates, reads cover the last 90 days, as the spec suggests.
const DEFAULT_DAYS: i64 = 90;

/// One error as the spec writes them: the HTTP status and a sentence.
#[derive(Debug, Serialize, ToSchema)]
pub struct Open311Error {
    code: u16,
    description: String,
}

/// Errors are answered as an array of `{code, description}`, in Chinese.
struct Open311Errors(StatusCode, Vec<Open311Error>);

impl Open311Errors {
    fn one(status: StatusCode, description: impl Into<String>) -> Self {
        Open311Errors(
            status,
            vec![Open311Error {
                code: status.as_u16(),
                description: description.into(),
            }],
        )
    }

    /// An error of the pipeline, with each refused field named as Open311
    /// names it.
    fn of(error: ApiError, lang: Lang) -> Self {
        match error {
            ApiError::Refused(Error::Validation(fields)) => {
                let status = StatusCode::BAD_REQUEST;
                let errors = fields
                    .iter()
                    .map(|f| Open311Error {
                        code: status.as_u16(),
                        description: format!(
                            "{}: {}",
                            open311_field(&f.field),
                            lang.reason(&f.reason)
                        ),
                    })
                    .collect();
                Open311Errors(status, errors)
            }
            other => {
                let problem = other.problem(lang);
                if let ApiError::Refused(Error::Internal(message)) = &other {
                    tracing::error!(error = %message, "open311 request failed");
                }
                let status = StatusCode::from_u16(problem.status)
                    .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                Open311Errors::one(status, format!("{}：{}", problem.title, problem.detail))
            }
        }
    }
}

impl IntoResponse for Open311Errors {
    fn into_response(self) -> Response {
        (self.0, Json(self.1)).into_response()
    }
}

/// The intake's field names in the words of the Open311 request.
fn open311_field(field: &str) -> &str {
    match field {
        "text" => "description",
        "location_text" | "location" => "address_string",
        "reporter_phone" => "phone",
        "reporter_name" | "reporter" => "last_name",
        "category" => "service_code",
        other => other,
    }
}

type Open311Result<T> = Result<T, Open311Errors>;

#[derive(Debug, Serialize, ToSchema)]
pub struct Open311Service {
    /// The category code of the triage table, e.g. `noise`.
    service_code: String,
    service_name: String,
    description: String,
    /// Always false: no service asks for extra attributes.
    metadata: bool,
    /// Always `realtime`: the answer to a post carries the request's id.
    r#type: String,
    /// Words that point to this service, comma-separated.
    keywords: String,
    /// The category family, e.g. 矛盾纠纷.
    group: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Open311ServiceDefinition {
    service_code: String,
    attributes: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Open311Created {
    /// The receipt number (回执号).
    service_request_id: String,
    service_notice: String,
    account_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Open311Request {
    service_request_id: String,
    /// open or closed.
    status: String,
    /// Where it stands, in Chinese: the department's result or why it
    /// came back.
    status_notes: String,
    service_name: String,
    service_code: String,
    /// The organisation handling it now.
    agency_responsible: Option<String>,
    service_notice: Option<String>,
    requested_datetime: String,
    updated_datetime: String,
    /// The finishing deadline of the open work order.
    expected_datetime: Option<String>,
    address: String,
    /// The registry building, when the address matched one.
    address_id: Option<i64>,
    lat: Option<f64>,
    long: Option<f64>,
}

/// The form of `POST requests.json` (application/x-www-form-urlencoded).
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)] // read from the form as a map; this documents it
pub struct Open311Post {
    /// A Fengqiao API token (`fqt_…`) with the report_incidents permission.
    api_key: String,
    /// A police station's division code, e.g. 510107001.
    jurisdiction_id: Option<String>,
    service_code: String,
    /// WGS-84; `lat` and `long`, or `address_string`, or both.
    lat: Option<f64>,
    long: Option<f64>,
    address_string: Option<String>,
    description: Option<String>,
    /// Personal data: stored encrypted, never shown by reads.
    first_name: Option<String>,
    last_name: Option<String>,
    phone: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct JurisdictionQuery {
    /// A police station's division code.
    jurisdiction_id: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct RequestsQuery {
    jurisdiction_id: Option<String>,
    /// Comma-separated receipt numbers; the other filters are then ignored.
    service_request_id: Option<String>,
    /// Comma-separated service codes.
    service_code: Option<String>,
    /// W3C date-time: requests received at or after it.
    start_date: Option<String>,
    end_date: Option<String>,
    /// open, closed, or both comma-separated.
    status: Option<String>,
}

fn services_offered() -> impl Iterator<Item = &'static Category> {
    triage()
        .table()
        .categories
        .iter()
        .filter(|c| c.group == Group::NonPolice)
}

fn service(code: &str) -> Option<&'static Category> {
    services_offered().find(|c| c.code == code)
}

fn family_name(class: &str) -> &str {
    match class {
        "dispute" => "矛盾纠纷",
        "labour" => "劳动保障",
        "consumer" => "消费维权",
        "property" => "物业房屋",
        "city_management" => "城市管理",
        "utilities" => "水电气",
        "municipal" => "市政设施",
        "environment" => "生态环境",
        "animals" => "动物管理",
        "assistance" => "社会救助",
        "consultation" => "政策咨询",
        "other" => "其他",
        other => other,
    }
}

fn handler_name(route: RouteTo) -> &'static str {
    match route {
        RouteTo::CommandRoom => "派出所综合指挥室",
        RouteTo::UrbanManagement => "综合行政执法（城管）部门",
        RouteTo::MarketRegulation => "市场监管部门",
        RouteTo::LabourInspection => "劳动保障监察部门",
        RouteTo::HousingProperty => "住建与物业管理部门",
        RouteTo::UtilitiesWater => "供水单位",
        RouteTo::UtilitiesPower => "供电单位",
        RouteTo::UtilitiesGas => "燃气单位",
        RouteTo::MunicipalFacilities => "市政设施管理部门",
        RouteTo::Environment => "生态环境部门",
        RouteTo::AnimalControl => "犬类管理与动物防疫部门",
        RouteTo::CivilAffairs => "民政救助部门",
        RouteTo::JusticeMediation => "司法所（人民调解）",
        RouteTo::GovernanceCentre => "街道综治中心",
        RouteTo::Emergency => "应急部门",
    }
}

fn service_view(category: &Category) -> Open311Service {
    let mut words: Vec<(&String, &f32)> =
        category.words.iter().filter(|(_, w)| **w > 0.0).collect();
    words.sort_by(|a, b| b.1.total_cmp(a.1).then(a.0.cmp(b.0)));
    Open311Service {
        service_code: category.code.clone(),
        service_name: category.name_zh.clone(),
        description: format!(
            "{}：由{}办理，{}分钟内签收，{}小时内办结。",
            category.name_zh,
            handler_name(category.route_to),
            category.accept_minutes,
            category.finish_minutes.div_ceil(60)
        ),
        metadata: false,
        r#type: "realtime".into(),
        keywords: words
            .iter()
            .take(6)
            .map(|(w, _)| w.as_str())
            .collect::<Vec<_>>()
            .join(","),
        group: family_name(&category.class).into(),
    }
}

/// The police station whose first division code is `code`.
async fn jurisdiction(state: &AppState, code: &str) -> Open311Result<Organisation> {
    let not_found = || {
        Open311Errors::one(
            StatusCode::NOT_FOUND,
            format!("jurisdiction_id {code} 不存在。"),
        )
    };
    let code = DivisionCode::parse(code.trim()).map_err(|_| not_found())?;
    let stations = state
        .store
        .organisations_of_kind(OrgKind::PoliceStation)
        .await
        .map_err(|e| Open311Errors::of(e.into(), Lang::Zh))?;
    stations
        .into_iter()
        .find(|s| s.division_codes.first() == Some(&code))
        .ok_or_else(not_found)
}

async fn optional_jurisdiction(
    state: &AppState,
    code: &Option<String>,
) -> Open311Result<Option<Organisation>> {
    match code.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        Some(code) => Ok(Some(jurisdiction(state, code).await?)),
        None => Ok(None),
    }
}

/// `name.json` → `name`; other formats are not served.
fn strip_json(file: &str) -> Open311Result<&str> {
    file.strip_suffix(".json").ok_or_else(|| {
        Open311Errors::one(
            StatusCode::BAD_REQUEST,
            "仅支持 JSON 格式（路径以 .json 结尾）。",
        )
    })
}

/// The services: the non-police categories of the triage table.
#[utoipa::path(get, path = "/open311/v2/services.json", tags = [PUBLIC_TAG, TAG], security(()),
    params(JurisdictionQuery),
    responses((status = 200, body = [Open311Service]), (status = 404, body = [Open311Error])))]
pub async fn services(
    State(state): State<AppState>,
    Query(query): Query<JurisdictionQuery>,
) -> Response {
    if let Err(e) = optional_jurisdiction(&state, &query.jurisdiction_id).await {
        return e.into_response();
    }
    Json(services_offered().map(service_view).collect::<Vec<_>>()).into_response()
}

/// A service's definition: no service has extra attributes.
#[utoipa::path(get, path = "/open311/v2/services/{service_code}.json", tags = [PUBLIC_TAG, TAG], security(()),
    params(("service_code" = String, Path, description = "e.g. noise"), JurisdictionQuery),
    responses((status = 200, body = Open311ServiceDefinition), (status = 400, body = [Open311Error]),
        (status = 404, body = [Open311Error])))]
pub async fn service_definition(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Query(query): Query<JurisdictionQuery>,
) -> Response {
    let answer = async {
        optional_jurisdiction(&state, &query.jurisdiction_id).await?;
        let code = strip_json(&file)?;
        let valid = !code.is_empty()
            && code
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !valid {
            return Err(Open311Errors::one(
                StatusCode::BAD_REQUEST,
                "service_code 格式错误。",
            ));
        }
        let category = service(code).ok_or_else(|| {
            Open311Errors::one(StatusCode::NOT_FOUND, format!("没有代码为 {code} 的服务。"))
        })?;
        Ok(Open311ServiceDefinition {
            service_code: category.code.clone(),
            attributes: Vec::new(),
        })
    };
    match answer.await {
        Ok(definition) => Json(definition).into_response(),
        Err(e) => e.into_response(),
    }
}

/// Posts a service request into intake: source open311, the category of
/// the service chosen, routed like every other incident.
#[utoipa::path(post, path = "/open311/v2/requests.json", tags = [PUBLIC_TAG, TAG], security(()),
    request_body(content = Open311Post, content_type = "application/x-www-form-urlencoded"),
    responses((status = 201, body = [Open311Created]), (status = 400, body = [Open311Error]),
        (status = 403, body = [Open311Error]), (status = 404, body = [Open311Error])))]
pub async fn post_request(
    State(state): State<AppState>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let lang = Lang::Zh;
    match post(&state, lang, form).await {
        Ok(created) => (StatusCode::CREATED, Json(vec![created])).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn post(
    state: &AppState,
    lang: Lang,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Open311Result<Open311Created> {
    let Form(form) = form.map_err(|_| {
        Open311Errors::one(
            StatusCode::BAD_REQUEST,
            "请求体须为 application/x-www-form-urlencoded 表单。",
        )
    })?;
    let field = |name: &str| {
        form.get(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let forbidden = || Open311Errors::one(StatusCode::FORBIDDEN, "api_key 无效或缺失。");
    let key = field("api_key")
        .filter(|k| k.starts_with(API_TOKEN_PREFIX))
        .ok_or_else(forbidden)?;
    let mut caller = sessions::token_caller(state, &key, "open311".into())
        .await
        .map_err(|e| match e {
            Error::Unauthenticated => forbidden(),
            other => Open311Errors::of(ApiError::from(other), lang),
        })?;
    caller
        .require(Permission::ReportIncidents)
        .map_err(|_| Open311Errors::one(StatusCode::FORBIDDEN, "该 api_key 无权提交服务请求。"))?;
    if let Some(station) = optional_jurisdiction(state, &field("jurisdiction_id")).await? {
        // A jurisdiction outside the token's answers as one that does not exist.
        if !caller.sees(&station.path) {
            return Err(Open311Errors::one(
                StatusCode::NOT_FOUND,
                format!(
                    "jurisdiction_id {} 不存在。",
                    field("jurisdiction_id").unwrap_or_default()
                ),
            ));
        }
        caller = Caller {
            org: station,
            ..caller
        };
    }

    let mut errors = Vec::new();
    let bad = |errors: &mut Vec<Open311Error>, text: String| {
        errors.push(Open311Error {
            code: 400,
            description: text,
        })
    };
    let category = match field("service_code") {
        None => {
            bad(&mut errors, "service_code: 必填。".into());
            None
        }
        Some(code) => match service(&code) {
            Some(category) => Some(category),
            None => {
                bad(
                    &mut errors,
                    format!("service_code: 没有代码为 {code} 的服务。"),
                );
                None
            }
        },
    };
    let coordinates = match (field("lat"), field("long")) {
        (None, None) => None,
        (Some(lat), Some(lon)) => match (lat.parse::<f64>(), lon.parse::<f64>()) {
            (Ok(lat), Ok(lon)) => match Wgs84::new(lat, lon) {
                Ok(point) => Some(point),
                Err(_) => {
                    bad(&mut errors, "lat/long: 坐标超出范围。".into());
                    None
                }
            },
            _ => {
                bad(&mut errors, "lat/long: 须为十进制度数（WGS-84）。".into());
                None
            }
        },
        _ => {
            bad(&mut errors, "lat/long: 须同时提供。".into());
            None
        }
    };
    let address = field("address_string");
    if address.is_none() && coordinates.is_none() && errors.is_empty() {
        bad(
            &mut errors,
            "address_string: 须提供地址，或提供 lat 与 long。".into(),
        );
    }
    let (Some(category), true) = (category, errors.is_empty()) else {
        return Err(Open311Errors(StatusCode::BAD_REQUEST, errors));
    };
    let location = match (address, coordinates) {
        (Some(address), _) => address,
        (None, Some(point)) => format!("北纬{:.6} 东经{:.6}", point.lat(), point.lon()),
        (None, None) => unreachable!("checked above"),
    };
    // 姓 before 名, as Chinese names are written.
    let name = [field("last_name"), field("first_name")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("");
    let body = ReportIncident::new(
        IncidentSource::Open311,
        field("description").unwrap_or_else(|| category.name_zh.clone()),
        location,
        Some(name).filter(|n| !n.is_empty()),
        field("phone"),
    );
    let known = Known {
        category: Some(&category.code),
        coordinates,
        ..Known::default()
    };
    let (_, record) = take_in_known(state, &caller, None, &body, &known)
        .await
        .map_err(|e| Open311Errors::of(e.into(), lang))?;
    Ok(Open311Created {
        service_notice: format!(
            "已受理，回执号 {}，将由{}办理。",
            record.incident.receipt_number,
            handler_name(category.route_to)
        ),
        service_request_id: record.incident.receipt_number.to_string(),
        account_id: None,
    })
}

/// Service requests received through Open311, newest first (at most 200;
/// without dates, the last 90 days).
#[utoipa::path(get, path = "/open311/v2/requests.json", tags = [PUBLIC_TAG, TAG], security(()),
    params(RequestsQuery),
    responses((status = 200, body = [Open311Request]), (status = 400, body = [Open311Error]),
        (status = 404, body = [Open311Error])))]
pub async fn list_requests(
    State(state): State<AppState>,
    Query(query): Query<RequestsQuery>,
) -> Response {
    let lang = Lang::Zh;
    match list(&state, lang, &query).await {
        Ok(requests) => Json(requests).into_response(),
        Err(e) => e.into_response(),
    }
}

fn comma_list(text: &Option<String>) -> Vec<String> {
    text.as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .collect()
}

fn date(name: &str, text: &Option<String>) -> Open311Result<Option<Timestamp>> {
    match text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(text) => DateTime::parse_from_rfc3339(text)
            .map(|d| Some(Timestamp(d.timestamp_millis())))
            .map_err(|_| {
                Open311Errors::one(
                    StatusCode::BAD_REQUEST,
                    format!("{name}: 须为带时区的 W3C 日期时间，如 2026-11-25T08:00:00+08:00。"),
                )
            }),
    }
}

async fn list(
    state: &AppState,
    lang: Lang,
    query: &RequestsQuery,
) -> Open311Result<Vec<Open311Request>> {
    let station = optional_jurisdiction(state, &query.jurisdiction_id).await?;
    let mut receipts = Vec::new();
    for id in comma_list(&query.service_request_id) {
        receipts.push(receipt(&id)?.to_string());
    }
    let statuses = comma_list(&query.status);
    if let Some(wrong) = statuses.iter().find(|s| *s != "open" && *s != "closed") {
        return Err(Open311Errors::one(
            StatusCode::BAD_REQUEST,
            format!("status: {wrong} 无效，应为 open 或 closed。"),
        ));
    }
    let mut from = date("start_date", &query.start_date)?;
    let until = date("end_date", &query.end_date)?;
    if receipts.is_empty() && from.is_none() && until.is_none() {
        from = Some(state.clock.now().plus_minutes(-DEFAULT_DAYS * 24 * 60));
    }
    let by_id = !receipts.is_empty();
    let source_query = SourceQuery {
        source: IncidentSource::Open311,
        receipt_numbers: receipts,
        categories: if by_id {
            Vec::new()
        } else {
            comma_list(&query.service_code)
        },
        received_from: if by_id { None } else { from },
        received_until: if by_id { None } else { until },
        station_scope: station.map(|s| s.path.as_str().to_owned()),
        limit: LIST_LIMIT,
    };
    let ids = state
        .store
        .incident_ids_from_source(&source_query)
        .await
        .map_err(|e| Open311Errors::of(e.into(), lang))?;
    let mut requests = Vec::new();
    for id in ids {
        let Some(record) = state
            .store
            .incident(id)
            .await
            .map_err(|e| Open311Errors::of(e.into(), lang))?
        else {
            continue;
        };
        let view = request_view(state, &record)
            .await
            .map_err(|e| Open311Errors::of(e, lang))?;
        if by_id || statuses.is_empty() || statuses.contains(&view.status) {
            requests.push(view);
        }
    }
    Ok(requests)
}

fn receipt(id: &str) -> Open311Result<ReceiptNumber> {
    ReceiptNumber::parse(id).map_err(|_| {
        Open311Errors::one(
            StatusCode::BAD_REQUEST,
            format!("service_request_id {id} 格式错误，应为回执号，如 P2-20261125-0001。"),
        )
    })
}

/// One service request received through Open311.
#[utoipa::path(get, path = "/open311/v2/requests/{service_request_id}.json", tags = [PUBLIC_TAG, TAG], security(()),
    params(("service_request_id" = String, Path, description = "the receipt number, e.g. P2-20261125-0001"), JurisdictionQuery),
    responses((status = 200, body = [Open311Request]), (status = 400, body = [Open311Error]),
        (status = 404, body = [Open311Error])))]
pub async fn get_request(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Query(query): Query<JurisdictionQuery>,
) -> Response {
    let lang = Lang::Zh;
    let answer = async {
        let id = receipt(strip_json(&file)?)?.to_string();
        let query = RequestsQuery {
            jurisdiction_id: query.jurisdiction_id,
            service_request_id: Some(id.clone()),
            service_code: None,
            start_date: None,
            end_date: None,
            status: None,
        };
        let found = list(&state, lang, &query).await?;
        if found.is_empty() {
            return Err(Open311Errors::one(
                StatusCode::NOT_FOUND,
                format!("没有回执号为 {id} 的服务请求。"),
            ));
        }
        Ok(found)
    };
    match answer.await {
        Ok(found) => Json(found).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn request_view(
    state: &AppState,
    record: &IncidentRecord,
) -> Result<Open311Request, ApiError> {
    let incident = &record.incident;
    let (closed, status_notes, agency) = public_status(state, record).await?;
    let category = incident
        .triage
        .as_ref()
        .and_then(|t| triage().table().category(t.category.code.as_str()));
    let updated = record
        .timeline
        .iter()
        .map(|e| e.at)
        .max()
        .unwrap_or(incident.received_at);
    let expected = record
        .work_orders
        .iter()
        .filter(|w| w.status.is_open())
        .map(|w| w.finish_by)
        .max();
    let address = match incident.building_id {
        Some(id) => match state.store.building(id).await? {
            Some(building) => crate::services::addresses::plate_address(&building),
            None => incident.location_text.clone(),
        },
        None => incident.location_text.clone(),
    };
    Ok(Open311Request {
        service_request_id: incident.receipt_number.to_string(),
        status: if closed { "closed" } else { "open" }.into(),
        status_notes,
        service_name: category.map(|c| c.name_zh.clone()).unwrap_or_default(),
        service_code: category.map(|c| c.code.clone()).unwrap_or_default(),
        agency_responsible: agency,
        service_notice: None,
        requested_datetime: china_time::rfc3339(incident.received_at),
        updated_datetime: china_time::rfc3339(updated),
        expected_datetime: if closed {
            None
        } else {
            expected.map(china_time::rfc3339)
        },
        address,
        address_id: incident.building_id,
        lat: incident.coordinates.map(|c| c.lat()),
        long: incident.coordinates.map(|c| c.lon()),
    })
}

// Open311 names files `{id}.json`, which the router cannot match as one
// parameter: app.rs routes these two by hand, documented here.
#[derive(utoipa::OpenApi)]
#[openapi(paths(service_definition, get_request))]
struct Open311Doc;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(<Open311Doc as utoipa::OpenApi>::openapi())
        .routes(routes!(services))
        .routes(routes!(list_requests, post_request))
}
