//! 警力 over HTTP: the unit registry and crews, recommendation and dispatch
//! from an incident, the crew's one-tap statuses, positions from phones and
//! AVL feeds, war-zone reinforcement, and the incident as a NENA EIDO.
//! Every use case is `services::dispatch`; these handlers parse and answer.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use fengqiao_core::error::{FieldError, Reason};
use fengqiao_core::label::Label;
use fengqiao_core::reinforcement::{Reinforcement, ReinforcementStatus};
use fengqiao_core::unit::{Recommendation, Unit, UnitStatus};
use fengqiao_core::work_order::HandlingNote;
use fengqiao_store::UnitEntry;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiResult, Problem};
use crate::json::ApiJson;
use crate::services::access::Caller;
use crate::services::dispatch::{self, PositionInput, Tap, UnitInput};
use crate::services::eido;
use crate::services::format::{masked, parse_time, rfc3339};
use crate::services::incidents::visible_incident;
use crate::state::AppState;

const LIST_LIMIT: i64 = 200;

#[derive(Serialize, ToSchema)]
pub struct UnitView {
    id: i64,
    org_id: i64,
    call_sign: String,
    /// patrol_car, foot_patrol, scooter, joint_duty_team, street_patrol,
    /// volunteers.
    kind: String,
    kind_name: String,
    /// available, dispatched, en_route, on_scene, transporting,
    /// out_of_service.
    status: String,
    status_name: String,
    status_since: String,
    incident_id: Option<i64>,
    /// WGS-84, the last reported.
    lat: Option<f64>,
    lon: Option<f64>,
    position_at: Option<String>,
}

impl UnitView {
    pub(crate) fn of(unit: &Unit) -> UnitView {
        let point = unit.position.map(|p| p.point());
        UnitView {
            id: unit.id,
            org_id: unit.org_id,
            call_sign: unit.call_sign.as_str().into(),
            kind: unit.kind.as_str().into(),
            kind_name: unit.kind.zh().into(),
            status: unit.status.as_str().into(),
            status_name: unit.status.zh().into(),
            status_since: rfc3339(unit.status_since),
            incident_id: unit.incident_id,
            lat: point.map(|p| p.lat()),
            lon: point.map(|p| p.lon()),
            position_at: unit.position_at.map(rfc3339),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct UnitEntryView {
    at: String,
    actor: String,
    incident_id: Option<i64>,
    /// dispatched, en_route, arrived, transporting, cleared,
    /// out_of_service, back_in_service.
    event: String,
}

impl UnitEntryView {
    fn of(entry: &UnitEntry) -> UnitEntryView {
        UnitEntryView {
            at: rfc3339(entry.at),
            actor: entry.actor.clone(),
            incident_id: entry.incident_id,
            event: entry.event["event"].as_str().unwrap_or_default().into(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct UnitDetail {
    #[serde(flatten)]
    unit: UnitView,
    /// Account ids on the crew for this shift.
    crew: Vec<i64>,
    timeline: Vec<UnitEntryView>,
}

#[derive(Deserialize, IntoParams)]
pub struct UnitQuery {
    /// Part of a call sign.
    q: Option<String>,
}

/// The units of the caller's jurisdiction, by organisation and call sign.
#[utoipa::path(get, path = "/api/v1/units", params(UnitQuery),
    responses((status = 200, body = [UnitView]), (status = 403, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<UnitQuery>,
) -> ApiResult<Json<Vec<UnitView>>> {
    let units = dispatch::list(&state, &caller, query.q.as_deref().unwrap_or("")).await?;
    Ok(Json(units.iter().map(UnitView::of).collect()))
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUnitBody {
    /// A station, command room, joint-duty station (police units) or
    /// governance centre (street patrol force) in your jurisdiction.
    org_id: i64,
    /// 呼号, e.g. 锦里巡1; unique within the organisation.
    call_sign: String,
    kind: String,
}

/// 警力登记: a new unit, available, without a position until it sends one.
#[utoipa::path(post, path = "/api/v1/units", request_body = NewUnitBody,
    responses((status = 201, body = UnitView), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn register(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<NewUnitBody>,
) -> ApiResult<(StatusCode, Json<UnitView>)> {
    let input = UnitInput {
        org_id: body.org_id,
        call_sign: &body.call_sign,
        kind: &body.kind,
    };
    let unit = dispatch::register(&state, &caller, &input).await?;
    Ok((StatusCode::CREATED, Json(UnitView::of(&unit))))
}

/// One unit with its crew and its timeline.
#[utoipa::path(get, path = "/api/v1/units/{unit_id}",
    params(("unit_id" = i64, Path, description = "unit id")),
    responses((status = 200, body = UnitDetail), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(unit_id): Path<i64>,
) -> ApiResult<Json<UnitDetail>> {
    let (unit, crew) = dispatch::get(&state, &caller, unit_id).await?;
    let timeline = state.store.unit_timeline(unit_id).await?;
    Ok(Json(UnitDetail {
        unit: UnitView::of(&unit),
        crew,
        timeline: timeline.iter().map(UnitEntryView::of).collect(),
    }))
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CrewBody {
    /// Accounts (community officers, auxiliary officers, grid workers) on
    /// the unit for this shift; an empty list stands the crew down.
    user_ids: Vec<i64>,
}

/// 上岗: sets the unit's crew for the shift.
#[utoipa::path(put, path = "/api/v1/units/{unit_id}/crew", request_body = CrewBody,
    params(("unit_id" = i64, Path, description = "unit id")),
    responses((status = 200, body = CrewBody), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn set_crew(
    State(state): State<AppState>,
    caller: Caller,
    Path(unit_id): Path<i64>,
    ApiJson(body): ApiJson<CrewBody>,
) -> ApiResult<Json<CrewBody>> {
    let user_ids = dispatch::set_crew(&state, &caller, unit_id, &body.user_ids).await?;
    Ok(Json(CrewBody { user_ids }))
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusBody {
    /// en_route, on_scene, transporting, available (clear or recall),
    /// out_of_service.
    status: String,
}

/// One tap: the unit's next status. Arrival and clearing are written on
/// the incident's timeline with the actor and time.
#[utoipa::path(post, path = "/api/v1/units/{unit_id}/status", request_body = StatusBody,
    params(("unit_id" = i64, Path, description = "unit id")),
    responses((status = 200, body = UnitView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn set_status(
    State(state): State<AppState>,
    caller: Caller,
    Path(unit_id): Path<i64>,
    ApiJson(body): ApiJson<StatusBody>,
) -> ApiResult<Json<UnitView>> {
    let to = UnitStatus::parse(body.status.trim())?;
    let unit = dispatch::tap(&state, &caller, unit_id, Tap::Status(to)).await?;
    Ok(Json(UnitView::of(&unit)))
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveBody {
    /// What was done on scene, 1 to 1000 characters.
    result: String,
}

/// 现场处置完毕: the unit on scene settled the incident (the on-scene
/// resolution the figures count) and is free again.
#[utoipa::path(post, path = "/api/v1/units/{unit_id}/resolve", request_body = ResolveBody,
    params(("unit_id" = i64, Path, description = "unit id")),
    responses((status = 200, body = UnitView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn resolve(
    State(state): State<AppState>,
    caller: Caller,
    Path(unit_id): Path<i64>,
    ApiJson(body): ApiJson<ResolveBody>,
) -> ApiResult<Json<UnitView>> {
    let result = HandlingNote::parse("result", &body.result)?;
    let unit = dispatch::tap(&state, &caller, unit_id, Tap::ResolveOnScene(result)).await?;
    Ok(Json(UnitView::of(&unit)))
}

#[derive(Deserialize, IntoParams)]
pub struct TrackQuery {
    /// RFC 3339.
    from: Option<String>,
    to: Option<String>,
    /// Why the track is read (audited).
    reason: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TrackPoint {
    at: String,
    lat: f64,
    lon: f64,
}

/// A unit's track: officers' movements are personal data, so the read is
/// audited with its reason.
#[utoipa::path(get, path = "/api/v1/units/{unit_id}/track", params(("unit_id" = i64, Path, description = "unit id"), TrackQuery),
    responses((status = 200, body = [TrackPoint]), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn track(
    State(state): State<AppState>,
    caller: Caller,
    Path(unit_id): Path<i64>,
    Query(query): Query<TrackQuery>,
) -> ApiResult<Json<Vec<TrackPoint>>> {
    let mut errors = Vec::new();
    let from = parse_time("from", query.from.as_deref()).map_err(|e| errors.push(e));
    let to = parse_time("to", query.to.as_deref()).map_err(|e| errors.push(e));
    let reason = query.reason.unwrap_or_default();
    if reason.trim().is_empty() {
        errors.push(FieldError::new("reason", Reason::Required));
    }
    let (Ok(from), Ok(to), true) = (from, to, errors.is_empty()) else {
        return Err(crate::services::Error::Validation(errors).into());
    };
    let points = dispatch::track(&state, &caller, unit_id, from, to, &reason).await?;
    Ok(Json(
        points
            .iter()
            .map(|p| TrackPoint {
                at: rfc3339(p.at),
                lat: p.position.point().lat(),
                lon: p.position.point().lon(),
            })
            .collect(),
    ))
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PositionBody {
    unit_id: i64,
    /// RFC 3339; now when absent.
    at: Option<String>,
    /// WGS-84.
    lat: f64,
    lon: f64,
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PositionsBody {
    /// 1 to 10,000 positions: the crew's own unit from its phone, or the
    /// units of your jurisdiction from an AVL/GPS feed (a token with
    /// report_positions).
    positions: Vec<PositionBody>,
}

#[derive(Serialize, ToSchema)]
pub struct PositionsStored {
    stored: usize,
}

/// 定位上报: all positions stored, or none with every wrong one named.
#[utoipa::path(post, path = "/api/v1/units/positions", request_body = PositionsBody,
    responses((status = 200, body = PositionsStored), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn report_positions(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<PositionsBody>,
) -> ApiResult<Json<PositionsStored>> {
    let mut errors = Vec::new();
    let mut positions = Vec::with_capacity(body.positions.len());
    for (i, p) in body.positions.iter().enumerate() {
        let at = match p.at.as_deref() {
            None => None,
            Some(text) => match parse_time("at", Some(text)) {
                Ok(at) => Some(at),
                Err(e) => {
                    errors.push(FieldError::new(format!("positions[{i}].at"), e.reason));
                    None
                }
            },
        };
        positions.push(PositionInput {
            unit_id: p.unit_id,
            at,
            lat: p.lat,
            lon: p.lon,
        });
    }
    if !errors.is_empty() {
        return Err(crate::services::Error::Validation(errors).into());
    }
    let stored = dispatch::report_positions(&state, &caller, &positions).await?;
    Ok(Json(PositionsStored { stored }))
}

#[derive(Serialize, ToSchema)]
pub struct MyUnit {
    unit: UnitView,
    /// The incident it is assigned to: where, what, and the caller's
    /// phone masked.
    incident: Option<AssignedIncident>,
}

#[derive(Serialize, ToSchema)]
pub struct AssignedIncident {
    id: i64,
    receipt_number: String,
    text: String,
    location_text: String,
    lat: Option<f64>,
    lon: Option<f64>,
    category: Option<String>,
    /// Masked: 138****5678.
    reporter_phone: Option<String>,
    received_at: String,
    status: String,
}

/// 我的警力: the crew member's unit and the incident it is on.
#[utoipa::path(get, path = "/api/v1/units/mine",
    responses((status = 200, body = MyUnit), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn mine(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<MyUnit>> {
    let unit = dispatch::my_unit(&state, &caller).await?;
    let incident = match unit.incident_id {
        None => None,
        Some(id) => match state.store.incident(id).await? {
            None => None,
            Some(record) => {
                let i = &record.incident;
                Some(AssignedIncident {
                    id: i.id,
                    receipt_number: i.receipt_number.to_string(),
                    text: i.text.clone(),
                    location_text: i.location_text.clone(),
                    lat: i.coordinates.map(|c| c.lat()),
                    lon: i.coordinates.map(|c| c.lon()),
                    category: i
                        .triage
                        .as_ref()
                        .map(|t| t.category.code.as_str().to_owned()),
                    reporter_phone: masked(&state.cipher, &i.reporter_phone)?,
                    received_at: rfc3339(i.received_at),
                    status: i.status.as_str().into(),
                })
            }
        },
    };
    Ok(Json(MyUnit {
        unit: UnitView::of(&unit),
        incident,
    }))
}

// ---------------------------------------------------------------------------
// From an incident

#[derive(Serialize, ToSchema)]
pub struct RecommendedUnit {
    unit: UnitView,
    distance_m: f64,
    minutes: f64,
    /// How the minutes were estimated, in Chinese.
    method: String,
    within_standard: bool,
    /// Of another station of the war zone (增援).
    reinforcement: bool,
}

impl RecommendedUnit {
    fn of(r: &Recommendation) -> RecommendedUnit {
        RecommendedUnit {
            unit: UnitView::of(&r.unit),
            distance_m: r.estimate.distance_m.round(),
            minutes: (r.estimate.minutes * 10.0).round() / 10.0,
            method: r.estimate.method.zh().into(),
            within_standard: r.within_standard,
            reinforcement: r.reinforcement,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct RecommendationsView {
    incident_id: i64,
    /// police or street.
    force: String,
    standard_minutes: f64,
    waiting: i64,
    overloaded: bool,
    war_zone_org_id: Option<i64>,
    war_zone_name: Option<String>,
    /// Fastest first.
    units: Vec<RecommendedUnit>,
    /// The units on the incident now.
    assigned: Vec<UnitView>,
}

/// 推荐警力: the available units ranked by estimated arrival, with the war
/// zone's when the station is overloaded.
#[utoipa::path(get, path = "/api/v1/incidents/{incident_id}/recommendations",
    params(("incident_id" = i64, Path, description = "incident id")),
    responses((status = 200, body = RecommendationsView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)))]
pub async fn recommendations(
    State(state): State<AppState>,
    caller: Caller,
    Path(incident_id): Path<i64>,
) -> ApiResult<Json<RecommendationsView>> {
    let found = dispatch::recommend(&state, &caller, incident_id).await?;
    let assigned = state.store.units_on(incident_id).await?;
    Ok(Json(RecommendationsView {
        incident_id,
        force: match found.force {
            fengqiao_core::unit::Force::Police => "police".into(),
            fengqiao_core::unit::Force::Street => "street".into(),
        },
        standard_minutes: found.standard_minutes,
        waiting: found.waiting,
        overloaded: found.overloaded,
        war_zone_org_id: found.war_zone.as_ref().map(|z| z.id),
        war_zone_name: found.war_zone.map(|z| z.name),
        units: found.units.iter().map(RecommendedUnit::of).collect(),
        assigned: assigned.iter().map(UnitView::of).collect(),
    }))
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DispatchBody {
    /// 1 to 5 units of the command room's own.
    unit_ids: Vec<i64>,
}

/// 派警: sends the units in one action, all or none; each crew's phone
/// gets it live. The answer is the units as sent.
#[utoipa::path(post, path = "/api/v1/incidents/{incident_id}/units", request_body = DispatchBody,
    params(("incident_id" = i64, Path, description = "incident id")),
    responses((status = 200, body = [UnitView]), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn dispatch_units(
    State(state): State<AppState>,
    caller: Caller,
    Path(incident_id): Path<i64>,
    ApiJson(body): ApiJson<DispatchBody>,
) -> ApiResult<Json<Vec<UnitView>>> {
    let sent = dispatch::dispatch(&state, &caller, incident_id, &body.unit_ids).await?;
    Ok(Json(sent.iter().map(UnitView::of).collect()))
}

#[derive(Serialize, ToSchema)]
pub struct ReinforcementView {
    id: i64,
    incident_id: i64,
    station_org_id: i64,
    war_zone_org_id: i64,
    unit_ids: Vec<i64>,
    reason: String,
    /// requested, accepted, declined.
    status: String,
    status_name: String,
    requested_by: String,
    requested_at: String,
    decided_by: Option<String>,
    decided_at: Option<String>,
    note: Option<String>,
}

impl ReinforcementView {
    fn of(r: &Reinforcement) -> ReinforcementView {
        ReinforcementView {
            id: r.id,
            incident_id: r.incident_id,
            station_org_id: r.station_org_id,
            war_zone_org_id: r.war_zone_org_id,
            unit_ids: r.unit_ids.clone(),
            reason: r.reason.as_str().into(),
            status: r.status.as_str().into(),
            status_name: r.status.zh().into(),
            requested_by: r.requested_by.to_stored(),
            requested_at: rfc3339(r.requested_at),
            decided_by: r.decided_by.as_ref().map(|a| a.to_stored()),
            decided_at: r.decided_at.map(rfc3339),
            note: r.note.as_ref().map(|n| n.as_str().into()),
        }
    }
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReinforcementBody {
    /// 1 to 5 available units of the war zone's other stations.
    unit_ids: Vec<i64>,
    /// Why, e.g. 本所警力5分钟内无法到达.
    reason: String,
}

/// 申请增援: asks the station's war zone for units of its other stations.
#[utoipa::path(post, path = "/api/v1/incidents/{incident_id}/reinforcements", request_body = ReinforcementBody,
    params(("incident_id" = i64, Path, description = "incident id")),
    responses((status = 201, body = ReinforcementView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn request_reinforcement(
    State(state): State<AppState>,
    caller: Caller,
    Path(incident_id): Path<i64>,
    ApiJson(body): ApiJson<ReinforcementBody>,
) -> ApiResult<(StatusCode, Json<ReinforcementView>)> {
    let request =
        dispatch::request_reinforcement(&state, &caller, incident_id, &body.unit_ids, &body.reason)
            .await?;
    Ok((StatusCode::CREATED, Json(ReinforcementView::of(&request))))
}

#[derive(Deserialize, IntoParams)]
pub struct ReinforcementQuery {
    /// requested, accepted or declined; all when absent.
    status: Option<String>,
}

/// The requests to the war zones the caller commands, newest first (at
/// most 200).
#[utoipa::path(get, path = "/api/v1/reinforcements", params(ReinforcementQuery),
    responses((status = 200, body = [ReinforcementView]), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn reinforcements(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ReinforcementQuery>,
) -> ApiResult<Json<Vec<ReinforcementView>>> {
    let status = query
        .status
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(ReinforcementStatus::parse)
        .transpose()?;
    let found = dispatch::reinforcements(&state, &caller, status, LIST_LIMIT).await?;
    Ok(Json(found.iter().map(ReinforcementView::of).collect()))
}

/// One request.
#[utoipa::path(get, path = "/api/v1/reinforcements/{reinforcement_id}",
    params(("reinforcement_id" = i64, Path, description = "reinforcement request id")),
    responses((status = 200, body = ReinforcementView), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn reinforcement(
    State(state): State<AppState>,
    caller: Caller,
    Path(reinforcement_id): Path<i64>,
) -> ApiResult<Json<ReinforcementView>> {
    let found = dispatch::reinforcement(&state, &caller, reinforcement_id).await?;
    Ok(Json(ReinforcementView::of(&found)))
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// true: the units are dispatched; false: declined.
    accept: bool,
    note: Option<String>,
}

/// 战区决定: the war zone's commander accepts (the units are dispatched) or
/// declines a request.
#[utoipa::path(post, path = "/api/v1/reinforcements/{reinforcement_id}/decision", request_body = DecisionBody,
    params(("reinforcement_id" = i64, Path, description = "reinforcement request id")),
    responses((status = 200, body = ReinforcementView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn decide(
    State(state): State<AppState>,
    caller: Caller,
    Path(reinforcement_id): Path<i64>,
    ApiJson(body): ApiJson<DecisionBody>,
) -> ApiResult<Json<ReinforcementView>> {
    let decided = dispatch::decide_reinforcement(
        &state,
        &caller,
        reinforcement_id,
        body.accept,
        body.note.as_deref(),
    )
    .await?;
    Ok(Json(ReinforcementView::of(&decided)))
}

/// The incident as a NENA-STA-021 Emergency Incident Data Object (JSON),
/// with its units, their statuses and times, and its location; see
/// `services::eido` for the fields mapped and those left out.
#[utoipa::path(get, path = "/api/v1/incidents/{incident_id}/eido",
    params(("incident_id" = i64, Path, description = "incident id")),
    responses((status = 200, body = Object), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn eido_export(
    State(state): State<AppState>,
    caller: Caller,
    Path(incident_id): Path<i64>,
) -> ApiResult<Json<Value>> {
    caller.require(fengqiao_core::role::Permission::ViewIncidents)?;
    let record = visible_incident(&state, &caller, incident_id).await?;
    Ok(Json(eido::document(&state, &record).await?))
}
