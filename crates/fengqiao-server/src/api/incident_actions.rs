//! The command room's hand on an incident: override the category (改分类),
//! dispatch a held police incident (派警), route or re-route it to one or
//! several departments (分流, 联动), and record
//! the caller's feedback (回访), which closes the loop or reopens it.

use std::collections::BTreeSet;

use axum::extract::{Path, Query, State};
use axum::Json;
use fengqiao_core::audit::AuditAction;
use fengqiao_core::error::{FieldError, Reason};
use fengqiao_core::incident::{
    Category, Feedback, Group, Priority, Satisfaction, Triage as CoreTriage, TriagedBy,
};
use fengqiao_core::org::{DivisionCode, OrgKind, Organisation};
use fengqiao_core::role::Permission;
use fengqiao_core::work_order::{HandlingNote, NewWorkOrder};
use fengqiao_store::{IncidentRecord, StoredIncident};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::incidents::IncidentView;
use super::work_orders::{event_name, incident_refused};
use crate::error::{ApiError, ApiResult, Problem};
use crate::json::ApiJson;
use crate::live::{LiveEvent, LiveKind};
use crate::services::access::Caller;
use crate::services::incidents::{awaiting_reroute, visible_incident};
use crate::services::routing::{self, may_handle, triage};
use crate::services::Error;
use crate::state::AppState;

const MAX_OWNERS: usize = 10;

/// An incident the caller answers for as command room: its station or its
/// current owner lies in the caller's jurisdiction. A department that only
/// holds one of its work orders does not route it.
async fn commanded(state: &AppState, caller: &Caller, id: i64) -> ApiResult<StoredIncident> {
    Ok(commanded_record(state, caller, id).await?.incident)
}

/// [`commanded`] with the incident's work orders and timeline.
async fn commanded_record(state: &AppState, caller: &Caller, id: i64) -> ApiResult<IncidentRecord> {
    caller.require(Permission::DispatchIncidents)?;
    let record = visible_incident(state, caller, id).await?;
    let incident = &record.incident;
    for org_id in [incident.station_org_id]
        .into_iter()
        .chain(incident.owner_org_id)
    {
        if let Some(org) = state.store.organisation(org_id).await? {
            if caller.sees(&org.path) {
                return Ok(record);
            }
        }
    }
    Err(Error::NotFound.into())
}

/// The incident's station and the place its work is done: the community
/// its address lies in, else the station's first division.
async fn station_and_place(
    state: &AppState,
    incident: &StoredIncident,
) -> ApiResult<(Organisation, Option<DivisionCode>)> {
    let station = state
        .store
        .organisation(incident.station_org_id)
        .await?
        .ok_or_else(|| Error::Internal("station vanished".into()))?;
    let place = incident
        .community_code
        .as_deref()
        .and_then(|c| DivisionCode::parse(c).ok())
        .or_else(|| station.division_codes.first().cloned());
    Ok((station, place))
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

async fn answer(state: &AppState, id: i64) -> ApiResult<Json<IncidentView>> {
    let record = state.store.incident(id).await?.ok_or(Error::NotFound)?;
    Ok(Json(IncidentView::of(
        &record,
        &state.cipher,
        state.clock.now(),
    )?))
}

async fn publish(
    state: &AppState,
    incident: &StoredIncident,
    change: String,
    owners: &[i64],
) -> ApiResult<()> {
    let mut orgs = Vec::new();
    for id in [incident.station_org_id]
        .iter()
        .chain(incident.owner_org_id.iter())
        .chain(owners)
    {
        if let Some(org) = state.store.organisation(*id).await? {
            orgs.push(org.path);
        }
    }
    state.live.publish(LiveEvent {
        kind: LiveKind::Incident,
        id: incident.id,
        incident_id: Some(incident.id),
        change,
        orgs,
    });
    Ok(())
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
    let stored = commanded(&state, &caller, incident_id).await?;
    let table = triage().table();
    let code = body.category.trim();
    let category = table.category(code).ok_or_else(|| {
        FieldError::new(
            "category",
            Reason::UnknownValue {
                allowed: table.categories.iter().map(|c| c.code.clone()).collect(),
            },
        )
    })?;
    let chosen = CoreTriage {
        category: Category::new(&category.code, &category.class)?,
        group: category.group,
        priority: Priority::parse(category.priority)?,
    };

    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    let (locked, _) = tx
        .lock_incident(incident_id)
        .await?
        .ok_or(Error::NotFound)?;
    let moved = locked
        .to_core()?
        .triage(chosen, TriagedBy::Operator, caller.actor.clone(), now)
        .map_err(incident_refused)?;
    tx.update_incident(&moved.state, now).await?;
    tx.append_timeline(incident_id, None, &moved.events).await?;
    let event = caller
        .audit(AuditAction::Update, "incident")
        .object(incident_id)
        .detail(format!("triage {}", category.code));
    tx.append_audit(&event, now).await?;
    tx.commit().await?;
    publish(&state, &stored, "triaged".into(), &[]).await?;
    answer(&state, incident_id).await
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
    let stored = commanded(&state, &caller, incident_id).await?;
    let (station, _) = station_and_place(&state, &stored).await?;
    let command_room = routing::command_room_of(&state.store, &station).await?;
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    let (locked, _) = tx
        .lock_incident(incident_id)
        .await?
        .ok_or(Error::NotFound)?;
    let moved = locked
        .to_core()?
        .dispatch(command_room.id, caller.actor.clone(), now)
        .map_err(incident_refused)?;
    tx.update_incident(&moved.state, now).await?;
    tx.append_timeline(incident_id, None, &moved.events).await?;
    let event = caller
        .audit(AuditAction::Update, "incident")
        .object(incident_id)
        .detail(format!("dispatch to {}", command_room.id));
    tx.append_audit(&event, now).await?;
    tx.commit().await?;
    publish(&state, &stored, "dispatched".into(), &[]).await?;
    answer(&state, incident_id).await
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
    let stored = commanded(&state, &caller, incident_id).await?;
    let field = "owner_org_ids";
    let unique: BTreeSet<i64> = body.owner_org_ids.iter().copied().collect();
    if body.owner_org_ids.is_empty() {
        return Err(FieldError::new(field, Reason::Required).into());
    }
    if body.owner_org_ids.len() > MAX_OWNERS || unique.len() != body.owner_org_ids.len() {
        return Err(FieldError::new(
            field,
            Reason::InvalidFormat {
                expected: "distinct organisation ids, at most 10",
            },
        )
        .into());
    }
    let (station, place) = station_and_place(&state, &stored).await?;
    let mut owners: Vec<Organisation> = Vec::new();
    for id in &body.owner_org_ids {
        let org = state.store.organisation(*id).await?;
        match org {
            Some(org) if may_handle(&caller, &org, place.as_ref()) => owners.push(org),
            _ => return Err(FieldError::new(field, Reason::NotFound).into()),
        }
    }
    let category = stored
        .triage
        .as_ref()
        .map(|t| t.category.code.as_str().to_owned());
    let command_room = routing::command_room_of(&state.store, &station).await?;

    let now = state.clock.now();
    let actor = caller.actor.clone();
    let mut tx = state.store.begin().await?;
    let (locked, mut orders) = tx
        .lock_incident(incident_id)
        .await?
        .ok_or(Error::NotFound)?;
    let mut incident = locked.to_core()?;
    let deadlines = match &category {
        Some(code) => Some(routing::deadlines(code)?),
        None => None,
    };
    let mut pending: Vec<_> = awaiting_reroute(&orders).into_iter().cloned().collect();
    let mut created = Vec::new();
    for owner in &owners {
        if orders
            .iter()
            .any(|o| o.owner_org_id == owner.id && o.status.is_open())
        {
            return Err(ApiError::from(Error::Conflict {
                zh: format!("{}已有该警情未办结的流转单。", owner.name),
                en: format!(
                    "{} already holds an open work order of this incident.",
                    owner.name
                ),
            }));
        }
        let Some(deadlines) = deadlines else {
            // Not triaged: the core says so.
            return Err(incident_refused(
                fengqiao_core::incident::IncidentError::NotTriaged,
            ));
        };
        let new = NewWorkOrder {
            id: tx.next_work_order_id().await?,
            originator_org_id: command_room.id,
            owner_org_id: owner.id,
            supervisor_org_id: owner.parent_id,
            deadlines,
        };
        let replaced = pending.iter().position(|r| r.owner_org_id != owner.id);
        let diversion = match replaced {
            Some(i) => incident.reroute(&pending.remove(i), new, actor.clone(), now),
            None => incident.divert(new, actor.clone(), now),
        }
        .map_err(incident_refused)?;
        tx.insert_work_order(&diversion.work_order.state, now)
            .await?;
        tx.append_timeline(incident_id, None, &diversion.incident.events)
            .await?;
        tx.append_timeline(
            incident_id,
            Some(diversion.work_order.state.id),
            &diversion.work_order.events,
        )
        .await?;
        incident = diversion.incident.state;
        created.push(diversion.work_order.state.id);
        orders.push(diversion.work_order.state);
    }
    tx.update_incident(&incident, now).await?;
    let event = caller
        .audit(AuditAction::Update, "incident")
        .object(incident_id)
        .detail(format!(
            "route to {}; work orders {}",
            body.owner_org_ids
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(","),
            created
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(",")
        ));
    tx.append_audit(&event, now).await?;
    tx.commit().await?;
    publish(&state, &stored, "routed".into(), &body.owner_org_ids).await?;
    for (id, owner) in created.iter().zip(&owners) {
        state.live.publish(LiveEvent {
            kind: LiveKind::WorkOrder,
            id: *id,
            incident_id: Some(incident_id),
            change: "created".into(),
            orgs: vec![
                owner.path.clone(),
                command_room.path.clone(),
                station.path.clone(),
            ],
        });
    }
    answer(&state, incident_id).await
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
    let stored = commanded(&state, &caller, incident_id).await?;
    let mut errors = Vec::new();
    let satisfaction = Satisfaction::parse(body.satisfaction)
        .map_err(|e| errors.push(e))
        .ok();
    let note = body
        .note
        .as_deref()
        .filter(|n| !n.trim().is_empty())
        .map(|n| HandlingNote::parse("note", n))
        .transpose()
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    let Some(satisfaction) = satisfaction.filter(|_| errors.is_empty()) else {
        return Err(ApiError::from(Error::Validation(errors)));
    };
    let answer_given = Feedback {
        resolved: body.resolved,
        satisfaction,
    };

    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    let (locked, orders) = tx
        .lock_incident(incident_id)
        .await?
        .ok_or(Error::NotFound)?;
    let moved = locked
        .to_core()?
        .record_feedback(answer_given, &orders, caller.actor.clone(), now)
        .map_err(incident_refused)?;
    tx.update_incident(&moved.state, now).await?;
    tx.append_timeline(incident_id, None, &moved.events).await?;
    let mut detail = format!(
        "feedback resolved={} satisfaction={}",
        body.resolved,
        satisfaction.get()
    );
    if let Some(note) = &note {
        detail.push_str("; ");
        detail.push_str(note.as_str());
    }
    let event = caller
        .audit(AuditAction::Update, "incident")
        .object(incident_id)
        .detail(detail);
    tx.append_audit(&event, now).await?;
    tx.commit().await?;
    let change = moved
        .events
        .last()
        .map(|e| event_name(&e.event))
        .unwrap_or_default();
    publish(&state, &stored, change, &[]).await?;
    answer(&state, incident_id).await
}
