//! 接警 over HTTP: a report posted to `services::intake`, incidents read
//! with their triage, work orders and timeline within the caller's
//! jurisdiction, and the command room's hand on an incident: override the
//! category (改分类), dispatch a held police incident (派警), route or
//! re-route it to one or several departments (分流, 联动), and record the
//! caller's feedback (回访), which closes the loop or reopens it.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use fengqiao_core::error::{FieldError, Reason};
use fengqiao_core::incident::Group;
use fengqiao_core::org::{OrgKind, Organisation};
use fengqiao_core::personal::PersonalDataCipher;
use fengqiao_core::role::Permission;
use fengqiao_core::work_order::Deadline;
use fengqiao_core::Timestamp;
use fengqiao_store::{IncidentRecord, StoredIncident};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::{created_or_found, idempotency_key};
use crate::error::{ApiResult, Problem};
use crate::json::ApiJson;
use crate::services::access::Caller;
use crate::services::desk::{self, DeskDraft, DeskPreview};
use crate::services::format::{masked, rfc3339};
use crate::services::incidents::{
    self, awaiting_reroute, commanded_record, org_names, station_and_place, visible_incident,
};
use crate::services::intake::{self, ReportIncident};
use crate::services::repeat_calls;
use crate::services::routing::{self, may_handle, route_to_name, triage};
use crate::state::AppState;

const LIST_LIMIT: i64 = 200;

#[derive(Serialize, ToSchema)]
pub struct LocationView {
    text: String,
    /// The registry's building, when the address matched one in the
    /// caller's jurisdiction.
    building_id: Option<i64>,
    community_code: Option<String>,
    /// WGS-84.
    lat: Option<f64>,
    lon: Option<f64>,
}

#[derive(Serialize, ToSchema)]
pub struct TriageView {
    category: String,
    category_family: String,
    /// police or non_police.
    group: String,
    /// 1 is the most urgent, 4 the least.
    priority: u8,
    /// The type of organisation the category goes to.
    route_to: Option<String>,
    /// The words that decided the suggestion.
    matched: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct WorkOrderView {
    id: i64,
    category: String,
    originator_org_id: i64,
    owner_org_id: i64,
    supervisor_org_id: Option<i64>,
    status: String,
    created_at: String,
    /// 签收时限
    accept_by: String,
    /// 办结时限
    finish_by: String,
    /// The deadlines passed by now that the work order has not met:
    /// accept, finish.
    overdue: Vec<String>,
    replaces: Option<i64>,
    /// What the department returned with.
    result: Option<String>,
    /// Why the department rejected it.
    rejection: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TimelineView {
    at: String,
    /// "user:7", "token:3", "system".
    actor: String,
    work_order_id: Option<i64>,
    /// received, triaged, routed, work_order_created, created…
    event: String,
    /// The event's fields.
    #[schema(value_type = Object)]
    detail: Value,
}

#[derive(Serialize, ToSchema)]
pub struct IncidentView {
    id: i64,
    /// 回执号, e.g. P12-20261125-0001.
    receipt_number: String,
    station_org_id: i64,
    source: String,
    received_at: String,
    /// Masked: 张*.
    reporter_name: Option<String>,
    /// Masked: 138****5678.
    reporter_phone: Option<String>,
    /// Masked: 5101**********1234; given at the desk only.
    #[serde(skip_serializing_if = "Option::is_none")]
    reporter_id_number: Option<String>,
    text: String,
    location: LocationView,
    triage: Option<TriageView>,
    status: String,
    /// Who handles it now: the command room (also while it awaits routing
    /// by hand), or the originator of its work orders.
    owner_org_id: Option<i64>,
    work_orders: Vec<WorkOrderView>,
    /// Rejected work orders not yet re-routed: the incident is back with
    /// the command room for them.
    awaiting_reroute: Vec<i64>,
    /// 重复报警: the earlier incidents this one repeats, oldest first.
    repeats: Vec<repeat_calls::RepeatView>,
    timeline: Vec<TimelineView>,
    /// On reading one incident: the name of every organisation it mentions
    /// (station, owner, work orders, timeline), by id.
    #[serde(skip_serializing_if = "Option::is_none")]
    org_names: Option<BTreeMap<i64, String>>,
    /// On reading one incident: the field report (e治采) it was taken in
    /// from, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    field_report_id: Option<i64>,
}

impl IncidentView {
    fn summary(incident: &StoredIncident, cipher: &PersonalDataCipher) -> ApiResult<IncidentView> {
        Ok(IncidentView {
            id: incident.id,
            receipt_number: incident.receipt_number.to_string(),
            station_org_id: incident.station_org_id,
            source: incident.source.as_str().into(),
            received_at: rfc3339(incident.received_at),
            reporter_name: masked(cipher, &incident.reporter_name)?,
            reporter_phone: masked(cipher, &incident.reporter_phone)?,
            reporter_id_number: masked(cipher, &incident.reporter_id_number)?,
            text: incident.text.clone(),
            location: LocationView {
                text: incident.location_text.clone(),
                building_id: incident.building_id,
                community_code: incident.community_code.clone(),
                lat: incident.coordinates.map(|c| c.lat()),
                lon: incident.coordinates.map(|c| c.lon()),
            },
            triage: incident.triage.as_ref().map(|t| TriageView {
                category: t.category.code.as_str().into(),
                category_family: t.category.family.as_str().into(),
                group: t.group.as_str().into(),
                priority: t.priority.get(),
                route_to: triage()
                    .table()
                    .category(t.category.code.as_str())
                    .map(|c| route_to_name(c.route_to)),
                matched: incident.triage_matched.clone(),
            }),
            status: incident.status.as_str().into(),
            owner_org_id: incident.owner_org_id,
            work_orders: Vec::new(),
            awaiting_reroute: Vec::new(),
            repeats: Vec::new(),
            timeline: Vec::new(),
            org_names: None,
            field_report_id: None,
        })
    }

    pub(crate) fn of(
        record: &IncidentRecord,
        cipher: &PersonalDataCipher,
        now: Timestamp,
    ) -> ApiResult<IncidentView> {
        let mut view = IncidentView::summary(&record.incident, cipher)?;
        view.work_orders = record
            .work_orders
            .iter()
            .map(|w| WorkOrderView {
                id: w.id,
                category: w.category.as_str().into(),
                originator_org_id: w.originator_org_id,
                owner_org_id: w.owner_org_id,
                supervisor_org_id: w.supervisor_org_id,
                status: w.status.as_str().into(),
                created_at: rfc3339(w.created_at),
                accept_by: rfc3339(w.accept_by),
                finish_by: rfc3339(w.finish_by),
                overdue: w
                    .overdue(now)
                    .into_iter()
                    .map(|d| deadline_name(d).to_owned())
                    .collect(),
                replaces: w.replaces,
                result: w.result.as_ref().map(|n| n.as_str().into()),
                rejection: w.rejection.as_ref().map(|n| n.as_str().into()),
            })
            .collect();
        view.awaiting_reroute = awaiting_reroute(&record.work_orders)
            .iter()
            .map(|w| w.id)
            .collect();
        view.repeats = repeat_calls::views(&record.repeats);
        view.timeline = record
            .timeline
            .iter()
            .map(|entry| {
                let mut detail = entry.event.clone();
                let event = detail
                    .as_object_mut()
                    .and_then(|o| o.remove("event"))
                    .and_then(|e| e.as_str().map(str::to_owned))
                    .unwrap_or_default();
                TimelineView {
                    at: rfc3339(entry.at),
                    actor: entry.actor.clone(),
                    work_order_id: entry.work_order_id,
                    event,
                    detail,
                }
            })
            .collect();
        Ok(view)
    }
}

fn deadline_name(deadline: Deadline) -> &'static str {
    match deadline {
        Deadline::Accept => "accept",
        Deadline::Finish => "finish",
    }
}

/// The incidents of the caller's jurisdiction, newest first (at most 200).
#[utoipa::path(get, path = "/api/v1/incidents",
    responses((status = 200, body = [IncidentView]), (status = 403, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<IncidentView>>> {
    caller.require(Permission::ViewIncidents)?;
    let incidents = state
        .store
        .incidents_within(caller.scope().as_str(), LIST_LIMIT)
        .await?;
    let views = incidents
        .iter()
        .map(|i| IncidentView::summary(i, &state.cipher))
        .collect::<ApiResult<_>>()?;
    Ok(Json(views))
}

/// An incident with its triage, work orders and timeline.
#[utoipa::path(get, path = "/api/v1/incidents/{incident_id}",
    params(("incident_id" = i64, Path, description = "incident id")),
    responses((status = 200, body = IncidentView), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(incident_id): Path<i64>,
) -> ApiResult<Json<IncidentView>> {
    caller.require(Permission::ViewIncidents)?;
    let record = visible_incident(&state, &caller, incident_id).await?;
    let mut view = IncidentView::of(&record, &state.cipher, state.clock.now())?;
    view.org_names = Some(org_names(&state, &record).await?);
    view.field_report_id = state.store.field_report_of_incident(incident_id).await?;
    Ok(Json(view))
}

/// 接警台预判: what intake would make of what the desk has typed so far —
/// the standard address with its grid, station and officer, the rules'
/// category with its words, and the earlier calls at the place or from the
/// phone within the repeat-call window. Writes nothing. A POST so the
/// caller's phone number stays out of URLs and access logs.
#[utoipa::path(post, path = "/api/v1/incidents/preview", request_body = DeskDraft,
    responses((status = 200, body = DeskPreview), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn preview(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<DeskDraft>,
) -> ApiResult<Json<DeskPreview>> {
    Ok(Json(desk::preview(&state, &caller, &body).await?))
}

/// 网格上报转警情: the station takes a grid worker's field report in as an
/// incident, once: 201 with the incident made, 200 with the one made
/// before. The report's `incident_id` and the incident's
/// `field_report_id` name each other.
#[utoipa::path(post, path = "/api/v1/field-reports/{field_report_id}/incident",
    params(("field_report_id" = i64, Path, description = "field report id")),
    responses((status = 201, body = IncidentView), (status = 200, body = IncidentView, description = "the incident the report already became"),
        (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn take_in_field_report(
    State(state): State<AppState>,
    caller: Caller,
    Path(field_report_id): Path<i64>,
) -> ApiResult<(StatusCode, Json<IncidentView>)> {
    let (outcome, record) = desk::take_in_field_report(&state, &caller, field_report_id).await?;
    let mut view = IncidentView::of(&record, &state.cipher, state.clock.now())?;
    view.field_report_id = Some(field_report_id);
    Ok((created_or_found(outcome), Json(view)))
}

/// Takes an incident in: validates it, resolves the location, triages the
/// text and routes it. With an `Idempotency-Key` header, the same key and
/// body answer 200 with the first incident; the same key with another body
/// is a 422.
#[utoipa::path(post, path = "/api/v1/incidents", request_body = ReportIncident,
    params(("Idempotency-Key" = Option<String>, Header, description = "makes a retry safe: one incident per key")),
    responses((status = 201, body = IncidentView), (status = 200, body = IncidentView, description = "the incident this key already made"),
        (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn report(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiJson(body): ApiJson<ReportIncident>,
) -> ApiResult<(StatusCode, Json<IncidentView>)> {
    caller.require(Permission::ReportIncidents)?;
    let key = idempotency_key(&headers)?;
    let (outcome, record) = intake::take_in(&state, &caller, key.as_deref(), &body).await?;
    let status = created_or_found(outcome);
    let view = IncidentView::of(&record, &state.cipher, state.clock.now())?;
    Ok((status, Json(view)))
}

#[derive(Deserialize, IntoParams)]
pub struct OwnersQuery {
    /// The category to choose for (a code of the triage table); the
    /// incident's own when absent, as when an operator is about to change it.
    category: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct OwnerChoice {
    id: i64,
    name: String,
    /// department, governance_centre, joint_duty_station…
    kind: String,
    department_type: Option<String>,
    /// The one intake would route the category to here (routing rule,
    /// else the department of the category's type, else the centre).
    suggested: bool,
    /// Holds an open work order of this incident already: routing to it
    /// again is refused.
    holds_open_work_order: bool,
}

#[derive(Serialize, ToSchema)]
pub struct OwnerChoices {
    category: String,
    /// police or non_police.
    group: String,
    /// The suggested one first, then departments of the category's type,
    /// other departments, governance centres and the caller's own
    /// organisations, each by name.
    organisations: Vec<OwnerChoice>,
}

/// 可分流单位: the organisations an incident may be routed to for a
/// category — departments and governance centres serving its place, and
/// organisations within the caller's jurisdiction — with the one the
/// routing would choose marked.
#[utoipa::path(get, path = "/api/v1/incidents/{incident_id}/owners", params(
        ("incident_id" = i64, Path, description = "incident id"), OwnersQuery),
    responses((status = 200, body = OwnerChoices), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn owners(
    State(state): State<AppState>,
    caller: Caller,
    Path(incident_id): Path<i64>,
    Query(query): Query<OwnersQuery>,
) -> ApiResult<Json<OwnerChoices>> {
    let record = commanded_record(&state, &caller, incident_id).await?;
    let table = triage().table();
    let code = match query.category.as_deref().map(str::trim) {
        Some(code) => code.to_owned(),
        None => record
            .incident
            .triage
            .as_ref()
            .map(|t| t.category.code.as_str().to_owned())
            .unwrap_or_default(),
    };
    let category = table.category(&code).ok_or_else(|| {
        FieldError::new(
            "category",
            Reason::UnknownValue {
                allowed: table.categories.iter().map(|c| c.code.clone()).collect(),
            },
        )
    })?;
    let (_, place) = station_and_place(&state, &record.incident).await?;
    let suggested = match (&place, category.group) {
        (Some(place), Group::NonPolice) => {
            routing::department_for(&state.store, &category.code, place).await?
        }
        _ => None,
    };
    let wanted = routing::route_to_name(category.route_to);

    let mut found: Vec<Organisation> = Vec::new();
    for kind in [OrgKind::Department, OrgKind::GovernanceCentre] {
        found.extend(state.store.organisations_of_kind(kind).await?);
    }
    found.extend(state.store.organisations_within(caller.scope()).await?);
    // Work goes out of the command room, not back to it.
    found.retain(|o| {
        !matches!(
            o.kind,
            OrgKind::CommandRoom | OrgKind::PoliceStation | OrgKind::WarZone
        ) && may_handle(&caller, o, place.as_ref())
    });
    found.sort_by_key(|o| o.id);
    found.dedup_by_key(|o| o.id);
    let rank = |o: &Organisation| {
        let suggested = suggested.as_ref().is_some_and(|s| s.id == o.id);
        let own_type = o.department_type.as_deref() == Some(wanted.as_str());
        let kind = match o.kind {
            OrgKind::Department => 0,
            OrgKind::GovernanceCentre => 1,
            _ => 2,
        };
        (!suggested, !own_type, kind)
    };
    found.sort_by(|a, b| rank(a).cmp(&rank(b)).then_with(|| a.name.cmp(&b.name)));
    let organisations = found
        .into_iter()
        .map(|o| OwnerChoice {
            suggested: suggested.as_ref().is_some_and(|s| s.id == o.id),
            holds_open_work_order: record
                .work_orders
                .iter()
                .any(|w| w.owner_org_id == o.id && w.status.is_open()),
            id: o.id,
            kind: o.kind.as_str().to_owned(),
            department_type: o.department_type,
            name: o.name,
        })
        .collect();
    Ok(Json(OwnerChoices {
        category: category.code.clone(),
        group: category.group.as_str().to_owned(),
        organisations,
    }))
}

fn answer(state: &AppState, record: &IncidentRecord) -> ApiResult<Json<IncidentView>> {
    Ok(Json(IncidentView::of(
        record,
        &state.cipher,
        state.clock.now(),
    )?))
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TriageOverride {
    /// A category code of the triage table (`wage_arrears`, `noise`…).
    category: String,
}

/// 改分类: the operator sets the category; group and priority follow from
/// the table. Allowed while the incident awaits routing; the timeline keeps
/// the rules' suggestion and the override.
#[utoipa::path(post, path = "/api/v1/incidents/{incident_id}/triage", request_body = TriageOverride,
    params(("incident_id" = i64, Path, description = "incident id")),
    responses((status = 200, body = IncidentView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn override_triage(
    State(state): State<AppState>,
    caller: Caller,
    Path(incident_id): Path<i64>,
    ApiJson(body): ApiJson<TriageOverride>,
) -> ApiResult<Json<IncidentView>> {
    let record = incidents::override_triage(&state, &caller, incident_id, &body.category).await?;
    answer(&state, &record)
}

/// 派警: a police incident the command room held (its category set by the
/// operator) goes to the station's command room for a unit to attend, as
/// intake does for police calls it can read.
#[utoipa::path(post, path = "/api/v1/incidents/{incident_id}/dispatch",
    params(("incident_id" = i64, Path, description = "incident id")),
    responses((status = 200, body = IncidentView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)))]
pub async fn dispatch(
    State(state): State<AppState>,
    caller: Caller,
    Path(incident_id): Path<i64>,
) -> ApiResult<Json<IncidentView>> {
    let record = incidents::dispatch(&state, &caller, incident_id).await?;
    answer(&state, &record)
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteIncident {
    /// The organisations that get a work order each (联动 when several):
    /// departments or governance centres serving the incident's place, or
    /// organisations within the caller's jurisdiction. 1 to 10.
    owner_org_ids: Vec<i64>,
}

/// 分流 / 重新分流: a work order for each organisation named. A work order
/// rejected and not yet replaced is re-routed first: the new one names it
/// as the one it replaces.
#[utoipa::path(post, path = "/api/v1/incidents/{incident_id}/route", request_body = RouteIncident,
    params(("incident_id" = i64, Path, description = "incident id")),
    responses((status = 200, body = IncidentView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn route(
    State(state): State<AppState>,
    caller: Caller,
    Path(incident_id): Path<i64>,
    ApiJson(body): ApiJson<RouteIncident>,
) -> ApiResult<Json<IncidentView>> {
    let record = incidents::route(&state, &caller, incident_id, &body.owner_org_ids).await?;
    answer(&state, &record)
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettleIncident {
    /// answered (当场答复) or referred (告知转办).
    settlement: String,
    /// The answer given, or where the caller was referred: 1 to 1000
    /// characters.
    settlement_note: String,
}

/// 当场答复 / 告知转办: a call that is only a question, awaiting routing,
/// ends with the command room, the answer or referral in its timeline. No
/// work order is made; the figures count it resolved on the spot.
#[utoipa::path(post, path = "/api/v1/incidents/{incident_id}/settle", request_body = SettleIncident,
    params(("incident_id" = i64, Path, description = "incident id")),
    responses((status = 200, body = IncidentView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn settle(
    State(state): State<AppState>,
    caller: Caller,
    Path(incident_id): Path<i64>,
    ApiJson(body): ApiJson<SettleIncident>,
) -> ApiResult<Json<IncidentView>> {
    let record = incidents::settle(
        &state,
        &caller,
        incident_id,
        &body.settlement,
        &body.settlement_note,
    )
    .await?;
    answer(&state, &record)
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordFeedback {
    /// Whether the caller says the matter is solved.
    resolved: bool,
    /// 1 (very dissatisfied) to 5 (very satisfied).
    satisfaction: u8,
    /// What the caller said, up to 1000 characters; kept in the audit log.
    note: Option<String>,
}

/// 回访: the caller's answer. Solved closes a resolved incident; not solved
/// reopens it for routing again.
#[utoipa::path(post, path = "/api/v1/incidents/{incident_id}/feedback", request_body = RecordFeedback,
    params(("incident_id" = i64, Path, description = "incident id")),
    responses((status = 200, body = IncidentView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn feedback(
    State(state): State<AppState>,
    caller: Caller,
    Path(incident_id): Path<i64>,
    ApiJson(body): ApiJson<RecordFeedback>,
) -> ApiResult<Json<IncidentView>> {
    let note = body.note.as_deref();
    let record = incidents::feedback(
        &state,
        &caller,
        incident_id,
        body.resolved,
        body.satisfaction,
        note,
    )
    .await?;
    answer(&state, &record)
}
