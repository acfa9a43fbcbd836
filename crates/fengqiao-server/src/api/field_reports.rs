//! e治采: field reports by grid workers and village or community cadres.
//! A report is filed at a building of the registry (the address resolved as
//! typed, or the building the resolver offered), with an optional photo
//! whose type its bytes decide. It is visible at once — and pushed live —
//! to the station that answers for the building and every level above, to
//! the grid's community officer and to the reporter.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use fengqiao_core::field_report::{FieldReport, FieldReportKind};
use fengqiao_core::label::Label;
use fengqiao_core::role::Permission;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::{created_or_found, idempotency_key};
use crate::error::{ApiResult, Problem};
use crate::json::ApiJson;
use crate::services::access::Caller;
use crate::services::addresses::{self, PersonRef};
use crate::services::field_reports::{self, visible_report, FileFieldReport};
use crate::services::format::rfc3339;
use crate::services::Error;
use crate::state::AppState;

pub const PATH: &str = "/api/v1/field-reports";

/// A photo of 5 MB is 6.7 MB in Base64, with the other fields beside it.
pub const BODY_LIMIT: usize = 7 * 1024 * 1024;

const LIST_LIMIT: i64 = 200;

#[derive(Serialize, ToSchema)]
pub struct PhotoView {
    /// image/jpeg, image/png or image/webp, as the bytes said.
    media_type: String,
    size: usize,
    /// Where the photo is served to those who may see the report.
    url: String,
}

#[derive(Serialize, ToSchema)]
pub struct FieldReportView {
    id: i64,
    /// dispute, safety_risk or visit.
    kind: String,
    /// The kind in Chinese, e.g. 矛盾纠纷.
    kind_name: String,
    category: String,
    /// The category in Chinese, e.g. 邻里纠纷.
    category_name: String,
    description: String,
    /// As the reporter typed it.
    address_text: String,
    /// The standard address of the building, as its plate reads.
    address: String,
    building_id: i64,
    grid_id: Option<i64>,
    community_code: String,
    station_org_id: i64,
    /// The account that filed it, name masked.
    reporter: Option<PersonRef>,
    reported_at: String,
    photo: Option<PhotoView>,
    /// The dispute case it was registered as.
    dispute_id: Option<i64>,
    /// The incident the station took it in as (警情).
    incident_id: Option<i64>,
}

fn category_name(kind: FieldReportKind, code: &str) -> String {
    kind.categories()
        .iter()
        .find(|(c, _, _)| *c == code)
        .map_or_else(|| code.to_owned(), |(_, zh, _)| (*zh).to_owned())
}

impl FieldReportView {
    async fn of(state: &AppState, report: &FieldReport) -> ApiResult<FieldReportView> {
        let address = state
            .store
            .building(report.place.building_id)
            .await?
            .map(|b| addresses::plate_address(&b))
            .unwrap_or_default();
        let reporter =
            addresses::person(&state.store, &state.cipher, report.reporter_user_id).await?;
        Ok(FieldReportView {
            id: report.id,
            kind: report.kind.as_str().into(),
            kind_name: report.kind.zh().into(),
            category: report.category.clone(),
            category_name: category_name(report.kind, &report.category),
            description: report.description.clone(),
            address_text: report.address_text.clone(),
            address,
            building_id: report.place.building_id,
            grid_id: report.place.grid_id,
            community_code: report.place.community_code.clone(),
            station_org_id: report.place.station_org_id,
            reporter,
            reported_at: rfc3339(report.reported_at),
            photo: report.photo.map(|p| PhotoView {
                media_type: p.photo_type.media_type().into(),
                size: p.size,
                url: format!("{PATH}/{}/photo", report.id),
            }),
            dispute_id: report.dispute_id,
            incident_id: report.incident_id,
        })
    }
}

#[derive(Deserialize, IntoParams)]
pub struct FieldReportQuery {
    /// dispute, safety_risk or visit; all when absent.
    kind: Option<String>,
}

/// 上报: files a report from the field. With an `Idempotency-Key` header,
/// the same key and body answer 200 with the first report; the same key
/// with another body is a 422. A wrong field, a photo that is not a JPEG,
/// PNG or WebP image or is over 5 MB, or an address outside the registry
/// of the caller's jurisdiction is a 422, and nothing is stored.
#[utoipa::path(post, path = "/api/v1/field-reports", request_body = FileFieldReport,
    params(("Idempotency-Key" = Option<String>, Header, description = "makes a retry safe: one report per key")),
    responses((status = 201, body = FieldReportView), (status = 200, body = FieldReportView, description = "the report this key already made"),
        (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn file(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiJson(body): ApiJson<FileFieldReport>,
) -> ApiResult<(StatusCode, Json<FieldReportView>)> {
    // Refused before the header is read, as the service would.
    caller.require(Permission::FileFieldReports)?;
    let key = idempotency_key(&headers)?;
    let (outcome, report) = field_reports::file(&state, &caller, key.as_deref(), &body).await?;
    let status = created_or_found(outcome);
    Ok((status, Json(FieldReportView::of(&state, &report).await?)))
}

/// The reports the caller may see, newest first (at most 200).
#[utoipa::path(get, path = "/api/v1/field-reports", params(FieldReportQuery),
    responses((status = 200, body = [FieldReportView]), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<FieldReportQuery>,
) -> ApiResult<Json<Vec<FieldReportView>>> {
    caller.require(Permission::ViewDisputes)?;
    let kind = query
        .kind
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::parse::<FieldReportKind>)
        .transpose()?;
    let reports = state
        .store
        .field_reports_visible(
            caller.scope().as_str(),
            caller.user.as_ref().map(|u| u.id),
            kind,
            LIST_LIMIT,
        )
        .await?;
    let mut views = Vec::with_capacity(reports.len());
    for report in &reports {
        views.push(FieldReportView::of(&state, report).await?);
    }
    Ok(Json(views))
}

#[utoipa::path(get, path = "/api/v1/field-reports/{field_report_id}",
    params(("field_report_id" = i64, Path, description = "field report id")),
    responses((status = 200, body = FieldReportView), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(field_report_id): Path<i64>,
) -> ApiResult<Json<FieldReportView>> {
    caller.require(Permission::ViewDisputes)?;
    let report = visible_report(&state, &caller, field_report_id).await?;
    Ok(Json(FieldReportView::of(&state, &report).await?))
}

/// The report's photo, to those who may see the report; 404 without one.
#[utoipa::path(get, path = "/api/v1/field-reports/{field_report_id}/photo",
    params(("field_report_id" = i64, Path, description = "field report id")),
    responses((status = 200, content_type = "image/*", body = Vec<u8>, description = "the photo's bytes as filed"),
        (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn photo(
    State(state): State<AppState>,
    caller: Caller,
    Path(field_report_id): Path<i64>,
) -> ApiResult<Response> {
    caller.require(Permission::ViewDisputes)?;
    let report = visible_report(&state, &caller, field_report_id).await?;
    let (photo_type, bytes) = state
        .store
        .field_report_photo(report.id)
        .await?
        .ok_or(Error::NotFound)?;
    Ok((
        [
            (header::CONTENT_TYPE, photo_type.media_type()),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        bytes,
    )
        .into_response())
}
