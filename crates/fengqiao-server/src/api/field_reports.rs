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
use base64::Engine;
use fengqiao_core::audit::AuditAction;
use fengqiao_core::error::{FieldError, Reason};
use fengqiao_core::field_report::{
    FieldReport, FieldReportInput, FieldReportKind, NewFieldReport, ReportPlace,
};
use fengqiao_core::label::Label;
use fengqiao_core::org::{DivisionCode, OrgKind, Organisation};
use fengqiao_core::role::Permission;
use fengqiao_core::secret;
use fengqiao_store::{Building, ReportKey, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::idempotency_key;
use crate::error::{ApiError, ApiResult, Problem};
use crate::json::ApiJson;
use crate::live::{LiveEvent, LiveKind};
use crate::services::access::Caller;
use crate::services::addresses::{self, PersonRef};
use crate::services::field_reports::visible_report;
use crate::services::format::rfc3339;
use crate::services::idempotency::{self};
use crate::services::routing::{best_cover, own_station};
use crate::services::Error;
use crate::state::AppState;

pub const PATH: &str = "/api/v1/field-reports";

/// A photo of 5 MB is 6.7 MB in Base64, with the other fields beside it.
pub const BODY_LIMIT: usize = 7 * 1024 * 1024;

const LIST_LIMIT: i64 = 200;

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileFieldReport {
    /// dispute (矛盾纠纷), safety_risk (安全隐患) or visit (走访).
    kind: Option<String>,
    /// A category of the kind, e.g. neighbour, fire, routine.
    category: Option<String>,
    /// What was found, 1 to 2000 characters.
    description: Option<String>,
    /// The address as typed, 1 to 200 characters.
    address_text: Option<String>,
    /// The registry building `GET /api/v1/addresses/resolve` offered; when
    /// absent the server resolves `address_text` itself.
    building_id: Option<i64>,
    /// The photo's bytes in Base64 (a `data:` URL is accepted): a JPEG,
    /// PNG or WebP image of at most 5 MB.
    photo: Option<String>,
}

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
    caller.require(Permission::FileFieldReports)?;
    // The reporter is a signed-in person; machines file incidents instead.
    let reporter = caller.user.as_ref().ok_or(Error::Forbidden)?.id;
    let key = idempotency_key(&headers)?;
    let request_hash =
        secret::hash(&serde_json::to_string(&body).map_err(|e| Error::Internal(e.to_string()))?);
    if let Some(key) = &key {
        if let Some(first) = replay(&state, &caller, reporter, key, &request_hash).await? {
            return Ok((StatusCode::OK, Json(first)));
        }
    }

    let mut errors = Vec::new();
    let photo = match body
        .photo
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        None => None,
        Some(text) => decode_photo(text).map_err(|e| errors.push(e)).ok(),
    };
    let new = NewFieldReport::parse(FieldReportInput {
        kind: body.kind.as_deref(),
        category: body.category.as_deref(),
        description: body.description.as_deref(),
        address_text: body.address_text.as_deref(),
        photo,
    })
    .map_err(|e| errors.extend(e))
    .ok();
    let building = locate(&state, &caller, &body)
        .await?
        .map_err(|e| errors.extend(e))
        .ok();
    let (Some(new), Some(building)) = (new, building) else {
        return Err(ApiError::from(Error::Validation(errors)));
    };
    if !errors.is_empty() {
        return Err(ApiError::from(Error::Validation(errors)));
    }
    let (place, station) = place_of(&state, &caller, &building).await?;

    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    let report_key = key.as_deref().map(|key| ReportKey {
        key,
        request_hash: &request_hash,
    });
    let id = match tx
        .insert_field_report(&new, &place, reporter, report_key, now)
        .await
    {
        Ok(id) => id,
        Err(StoreError::Duplicate(_)) if key.is_some() => {
            // A concurrent request with the same key committed first: this
            // one rolls back and the first one answers.
            drop(tx);
            let key = key.as_deref().unwrap_or_default();
            let first = replay(&state, &caller, reporter, key, &request_hash)
                .await?
                .ok_or_else(|| Error::Internal("idempotency key vanished".into()))?;
            return Ok((StatusCode::OK, Json(first)));
        }
        Err(e) => return Err(e.into()),
    };
    let event = caller
        .audit(AuditAction::Create, "field_report")
        .object(id)
        .detail(format!("{} {}", new.kind.as_str(), new.category));
    tx.append_audit(&event, now).await?;
    tx.commit().await?;
    state.live.publish(LiveEvent {
        kind: LiveKind::FieldReport,
        id,
        incident_id: None,
        change: "created".into(),
        orgs: vec![station.path],
    });
    let report = state.store.field_report(id).await?.ok_or(Error::NotFound)?;
    Ok((
        StatusCode::CREATED,
        Json(FieldReportView::of(&state, &report).await?),
    ))
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

/// The answer to a key already used: the first report for the same body,
/// a 422 for another; `None` when the key is new.
async fn replay(
    state: &AppState,
    caller: &Caller,
    reporter: i64,
    key: &str,
    request_hash: &[u8],
) -> ApiResult<Option<FieldReportView>> {
    let Some((first, first_hash)) = state.store.field_report_by_key(reporter, key).await? else {
        return Ok(None);
    };
    idempotency::same_request(&first_hash, request_hash)?;
    let first = visible_report(state, caller, first.id).await?;
    Ok(Some(FieldReportView::of(state, &first).await?))
}

/// Base64 (standard alphabet, padding optional), or a `data:` URL of it.
fn decode_photo(text: &str) -> Result<Vec<u8>, FieldError> {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let encoded = match text.strip_prefix("data:") {
        Some(url) => url.split_once(',').map_or("", |(_, data)| data),
        None => text,
    };
    let encoded: String = encoded.chars().filter(|c| !c.is_whitespace()).collect();
    LENIENT
        .decode(encoded)
        .map_err(|_| FieldError::new("photo", Reason::InvalidFormat { expected: "base64" }))
}

/// The building the report is at: the one named by `building_id`, or the
/// one `address_text` resolves to, within the caller's jurisdiction. The
/// inner error names what the reporter must fix; `None` when the core
/// already refuses the text itself.
async fn locate(
    state: &AppState,
    caller: &Caller,
    body: &FileFieldReport,
) -> ApiResult<Result<Building, Option<FieldError>>> {
    if let Some(id) = body.building_id {
        return Ok(match state.store.building(id).await? {
            Some(building) if caller.covers(&building.community_code) => Ok(building),
            _ => Err(Some(FieldError::new("building_id", Reason::NotFound))),
        });
    }
    let text = body.address_text.as_deref().map(str::trim).unwrap_or("");
    if text.is_empty() || text.chars().count() > NewFieldReport::MAX_ADDRESS_CHARS {
        return Ok(Err(None));
    }
    let resolution = addresses::resolve(&state.store, &state.cipher, text, |code| {
        caller.covers(code)
    })
    .await?;
    Ok(match resolution.registry {
        Some(found) => match state.store.building(found.building_id).await? {
            Some(building) => Ok(building),
            None => Err(Some(not_in_registry())),
        },
        None => Err(Some(not_in_registry())),
    })
}

fn not_in_registry() -> FieldError {
    FieldError::new(
        "address_text",
        Reason::Conflict {
            detail: "not_in_registry",
        },
    )
}

/// Where the report lies and the station that answers for it: the grid's
/// station, else the station covering the community most specifically,
/// else the reporter's own.
async fn place_of(
    state: &AppState,
    caller: &Caller,
    building: &Building,
) -> ApiResult<(ReportPlace, Organisation)> {
    let grid = match building.grid_id {
        Some(id) => state.store.grid(id).await?,
        None => None,
    };
    let mut station = None;
    if let Some(org) = grid.as_ref().and_then(|g| g.station_org_id) {
        station = state.store.organisation(org).await?;
    }
    if station.is_none() {
        if let Ok(code) = DivisionCode::parse(&building.community_code) {
            let stations = state
                .store
                .organisations_of_kind(OrgKind::PoliceStation)
                .await?;
            station = best_cover(stations, &code);
        }
    }
    let station = match station {
        Some(station) => station,
        None => own_station(state, caller).await?,
    };
    Ok((
        ReportPlace {
            building_id: building.id,
            grid_id: building.grid_id,
            community_code: building.community_code.clone(),
            station_org_id: station.id,
        },
        station,
    ))
}
