//! Standard addresses: resolution, grids and who answers for them, buildings.

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use fengqiao_core::error::{FieldError, Reason};
use fengqiao_core::geo::Wgs84;
use fengqiao_core::role::{Permission, Role};
use fengqiao_store::{Building, Grid, Room};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult, Problem};
use crate::json::ApiJson;
use crate::services::access::Caller;
use crate::services::addresses::{self, Resolution};
use crate::services::organisations::visible;
use crate::services::Error;
use crate::state::AppState;

#[derive(Deserialize, IntoParams)]
pub struct ResolveQuery {
    /// The address as typed, e.g. 成都武侯浆洗街锦里小区3栋2单元501.
    q: Option<String>,
}

const MAX_ADDRESS_CHARS: usize = 200;

/// Resolves a free-text address to the standard address and, within the
/// caller's jurisdiction, the registry's building, room and grid.
#[utoipa::path(get, path = "/api/v1/addresses/resolve", params(ResolveQuery),
    responses((status = 200, body = Resolution), (status = 422, body = Problem)))]
pub async fn resolve(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ResolveQuery>,
) -> ApiResult<Json<Resolution>> {
    caller.require(Permission::ViewAddresses)?;
    let text = query.q.unwrap_or_default();
    let text = text.trim();
    if text.is_empty() {
        return Err(FieldError::new("q", Reason::Required).into());
    }
    if text.chars().count() > MAX_ADDRESS_CHARS {
        return Err(FieldError::new(
            "q",
            Reason::TooLong {
                max: MAX_ADDRESS_CHARS,
            },
        )
        .into());
    }
    let resolution = addresses::resolve(&state.store, &state.cipher, text, |code| {
        caller.covers(code)
    })
    .await?;
    Ok(Json(resolution))
}

#[derive(Serialize, ToSchema)]
pub struct GridView {
    id: i64,
    code: String,
    community_code: String,
    name: Option<String>,
    station_org_id: Option<i64>,
    officer_user_id: Option<i64>,
    grid_worker_ids: Vec<i64>,
}

impl From<Grid> for GridView {
    fn from(grid: Grid) -> Self {
        GridView {
            id: grid.id,
            code: grid.code,
            community_code: grid.community_code,
            name: grid.name,
            station_org_id: grid.station_org_id,
            officer_user_id: grid.officer_user_id,
            grid_worker_ids: grid.grid_worker_ids,
        }
    }
}

async fn visible_grid(state: &AppState, caller: &Caller, id: i64) -> ApiResult<Grid> {
    match state.store.grid(id).await? {
        Some(grid) if caller.covers(&grid.community_code) => Ok(grid),
        _ => Err(Error::NotFound.into()),
    }
}

/// The grids within the caller's jurisdiction.
#[utoipa::path(get, path = "/api/v1/grids",
    responses((status = 200, body = [GridView]), (status = 403, body = Problem)))]
pub async fn list_grids(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<GridView>>> {
    caller.require(Permission::ViewAddresses)?;
    let prefixes: Vec<String> = caller
        .org
        .division_codes
        .iter()
        .map(|c| c.significant().to_owned())
        .collect();
    let grids = state.store.grids_under(&prefixes).await?;
    Ok(Json(grids.into_iter().map(GridView::from).collect()))
}

#[utoipa::path(get, path = "/api/v1/grids/{grid_id}",
    params(("grid_id" = i64, Path, description = "grid id")),
    responses((status = 200, body = GridView), (status = 404, body = Problem)))]
pub async fn get_grid(
    State(state): State<AppState>,
    caller: Caller,
    Path(grid_id): Path<i64>,
) -> ApiResult<Json<GridView>> {
    caller.require(Permission::ViewAddresses)?;
    Ok(Json(visible_grid(&state, &caller, grid_id).await?.into()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GridResponsibility {
    /// The police station answering for the grid.
    station_org_id: i64,
    /// Its community officer (社区民警).
    officer_user_id: Option<i64>,
    /// Its grid workers (网格员).
    #[serde(default)]
    grid_worker_ids: Vec<i64>,
}

/// Sets who answers for a grid — station, community officer, grid workers —
/// as one audited change.
#[utoipa::path(put, path = "/api/v1/grids/{grid_id}/responsibility", request_body = GridResponsibility,
    params(("grid_id" = i64, Path, description = "grid id")),
    responses((status = 200, body = GridView), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn set_responsibility(
    State(state): State<AppState>,
    caller: Caller,
    Path(grid_id): Path<i64>,
    ApiJson(body): ApiJson<GridResponsibility>,
) -> ApiResult<Json<GridView>> {
    caller.require(Permission::ManageGrids)?;
    visible_grid(&state, &caller, grid_id).await?;
    let mut errors = Vec::new();
    if visible(&state, &caller, body.station_org_id).await.is_err() {
        errors.push(FieldError::new("station_org_id", Reason::NotFound));
    }
    let people = body
        .officer_user_id
        .map(|id| ("officer_user_id".to_owned(), id, Role::CommunityOfficer))
        .into_iter()
        .chain(
            body.grid_worker_ids
                .iter()
                .enumerate()
                .map(|(i, id)| (format!("grid_worker_ids[{i}]"), *id, Role::GridWorker)),
        );
    for (field, id, role) in people {
        let holds_role = match state.store.user(id).await? {
            Some(stored) if visible(&state, &caller, stored.user.org_id).await.is_ok() => {
                stored.user.roles.contains(role)
            }
            _ => {
                errors.push(FieldError::new(field, Reason::NotFound));
                continue;
            }
        };
        if !holds_role {
            errors.push(FieldError::new(
                field,
                Reason::UnknownValue {
                    allowed: vec![role.as_str().to_owned()],
                },
            ));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::from(Error::Validation(errors)));
    }
    addresses::set_responsibility(
        &state,
        &caller,
        grid_id,
        body.station_org_id,
        body.officer_user_id,
        &body.grid_worker_ids,
    )
    .await?;
    Ok(Json(visible_grid(&state, &caller, grid_id).await?.into()))
}

#[derive(Serialize, ToSchema)]
pub struct BuildingView {
    id: i64,
    plate_code: String,
    community_code: String,
    grid_id: Option<i64>,
    compound: Option<String>,
    road: Option<String>,
    road_number: Option<String>,
    building: String,
    /// WGS-84.
    lat: Option<f64>,
    lon: Option<f64>,
    /// The same point in GCJ-02 (latitude, longitude), for maps published in China.
    gcj02: Option<[f64; 2]>,
    rooms: Vec<RoomView>,
}

#[derive(Serialize, ToSchema)]
pub struct RoomView {
    id: i64,
    unit: String,
    floor: Option<String>,
    room: String,
}

pub(crate) async fn visible_building(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> ApiResult<Building> {
    match state.store.building(id).await? {
        Some(building) if caller.covers(&building.community_code) => Ok(building),
        _ => Err(Error::NotFound.into()),
    }
}

/// A building of the registry with its rooms.
#[utoipa::path(get, path = "/api/v1/buildings/{building_id}",
    params(("building_id" = i64, Path, description = "building id")),
    responses((status = 200, body = BuildingView), (status = 404, body = Problem)))]
pub async fn get_building(
    State(state): State<AppState>,
    caller: Caller,
    Path(building_id): Path<i64>,
) -> ApiResult<Json<BuildingView>> {
    caller.require(Permission::ViewAddresses)?;
    let building = visible_building(&state, &caller, building_id).await?;
    let rooms = state.store.rooms_of(building.id).await?;
    let gcj02 = building
        .lat
        .zip(building.lon)
        .and_then(|(lat, lon)| Wgs84::new(lat, lon).ok())
        .map(|point| {
            let shifted = point.to_gcj02();
            [shifted.lat(), shifted.lon()]
        });
    Ok(Json(BuildingView {
        gcj02,
        id: building.id,
        plate_code: building.plate_code,
        community_code: building.community_code,
        grid_id: building.grid_id,
        compound: building.compound,
        road: building.road,
        road_number: building.road_number,
        building: building.building,
        lat: building.lat,
        lon: building.lon,
        rooms: rooms
            .into_iter()
            .map(
                |Room {
                     id,
                     unit,
                     floor,
                     room,
                 }| RoomView {
                    id,
                    unit,
                    floor,
                    room,
                },
            )
            .collect(),
    }))
}

/// The plate of a building the caller may see.
async fn visible_plate(
    state: &AppState,
    caller: &Caller,
    building_id: i64,
) -> ApiResult<fengqiao_plates::Plate> {
    caller.require(Permission::ViewAddresses)?;
    let building = visible_building(state, caller, building_id).await?;
    Ok(addresses::plate(&building, &state.settings.public_url))
}

impl From<fengqiao_plates::PlateError> for ApiError {
    fn from(err: fengqiao_plates::PlateError) -> Self {
        ApiError::from(Error::Internal(err.to_string()))
    }
}

/// The building's QR address plate (e码) as SVG, ready to print.
#[utoipa::path(get, path = "/api/v1/buildings/{building_id}/plate.svg",
    params(("building_id" = i64, Path, description = "building id")),
    responses((status = 200, description = "the plate", content_type = "image/svg+xml"), (status = 404, body = Problem)))]
pub async fn plate_svg(
    State(state): State<AppState>,
    caller: Caller,
    Path(building_id): Path<i64>,
) -> ApiResult<Response> {
    let svg = fengqiao_plates::plate_svg(&visible_plate(&state, &caller, building_id).await?)?;
    Ok((
        [(header::CONTENT_TYPE, "image/svg+xml; charset=utf-8")],
        svg,
    )
        .into_response())
}

/// The building's plate QR code as PNG (the code alone, for other layouts).
#[utoipa::path(get, path = "/api/v1/buildings/{building_id}/plate.png",
    params(("building_id" = i64, Path, description = "building id")),
    responses((status = 200, description = "the QR code", content_type = "image/png"), (status = 404, body = Problem)))]
pub async fn plate_png(
    State(state): State<AppState>,
    caller: Caller,
    Path(building_id): Path<i64>,
) -> ApiResult<Response> {
    let png = fengqiao_plates::plate_png(&visible_plate(&state, &caller, building_id).await?, 8)?;
    Ok(([(header::CONTENT_TYPE, "image/png")], png).into_response())
}
