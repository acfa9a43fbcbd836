//! 接警: incident intake with idempotency, triage and routing (闭环流转), and
//! reading incidents with their timeline within the caller's jurisdiction.
//!
//! Intake checks the body (nothing is stored when it is wrong), resolves the
//! location against the registry, asks the rules for a category, and routes:
//! police work to the command room of the station covering the address,
//! non-police work as a work order to the department of the category's type
//! covering it, or else the governance centre. The core's transitions decide
//! every change; one transaction writes the incident, its timeline, its work
//! order, its idempotency key and the audit entry.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use fengqiao_core::audit::Actor;
use fengqiao_core::error::{FieldError, Reason};
use fengqiao_core::geo::Wgs84;
use fengqiao_core::incident::{
    Category, IncidentInput, IncidentSource, NewIncident, Priority, Triage as CoreTriage, TriagedBy,
};
use fengqiao_core::org::DivisionCode;
use fengqiao_core::personal::{PersonalData, PersonalDataCipher};
use fengqiao_core::role::Permission;
use fengqiao_core::secret;
use fengqiao_core::work_order::Deadline;
use fengqiao_core::Timestamp;
use fengqiao_store::{Building, IncidentExtras, IncidentRecord, StoredIncident};
use fengqiao_triage::TriageSuggestion;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::addresses;
use crate::api::rfc3339;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Problem};
use crate::group_commit::{Created, PreparedIntake, Written};
use crate::json::ApiJson;
use crate::live::{LiveEvent, LiveKind};
use crate::repeat_calls;
use crate::routing::{route, route_to_name, Target};
use crate::state::AppState;

pub const IDEMPOTENCY_KEY: &str = "Idempotency-Key";
const MAX_KEY_CHARS: usize = 200;
const LIST_LIMIT: i64 = 200;

pub use crate::routing::triage;

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportIncident {
    /// call_110, walk_in, phone, grid_worker, qr_report, sensor,
    /// video_analytics or open311.
    source: String,
    /// What the caller said, 1 to 2000 characters.
    text: String,
    /// Where, as the caller said it, 1 to 200 characters.
    location_text: String,
    /// Personal data: stored encrypted, shown masked.
    reporter_name: Option<String>,
    reporter_phone: Option<String>,
}

impl ReportIncident {
    /// A report as another entry point (Open311, the plate page) received it.
    pub(crate) fn new(
        source: IncidentSource,
        text: String,
        location_text: String,
        reporter_name: Option<String>,
        reporter_phone: Option<String>,
    ) -> Self {
        ReportIncident {
            source: source.as_str().into(),
            text,
            location_text,
            reporter_name,
            reporter_phone,
        }
    }
}

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
}

fn decrypt_masked(
    cipher: &PersonalDataCipher,
    stored: &Option<Vec<u8>>,
) -> ApiResult<Option<String>> {
    stored
        .as_deref()
        .map(|bytes| {
            cipher
                .decrypt(bytes)
                .map(|data| data.masked())
                .map_err(|e| ApiError::Internal(e.to_string()))
        })
        .transpose()
}

impl IncidentView {
    fn summary(incident: &StoredIncident, cipher: &PersonalDataCipher) -> ApiResult<IncidentView> {
        Ok(IncidentView {
            id: incident.id,
            receipt_number: incident.receipt_number.to_string(),
            station_org_id: incident.station_org_id,
            source: incident.source.as_str().into(),
            received_at: rfc3339(incident.received_at),
            reporter_name: decrypt_masked(cipher, &incident.reporter_name)?,
            reporter_phone: decrypt_masked(cipher, &incident.reporter_phone)?,
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
        })
    }

    pub(super) fn of(
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
        view.awaiting_reroute = super::work_orders::awaiting_reroute(&record.work_orders)
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

/// The names of the organisations an incident mentions, so a reader sees
/// who holds it without a lookup per id (departments usually lie outside the
/// reader's own subtree).
async fn org_names(state: &AppState, record: &IncidentRecord) -> ApiResult<BTreeMap<i64, String>> {
    let incident = &record.incident;
    let mut ids: Vec<i64> = [incident.station_org_id]
        .into_iter()
        .chain(incident.owner_org_id)
        .chain(record.work_orders.iter().flat_map(|w| {
            [w.originator_org_id, w.owner_org_id]
                .into_iter()
                .chain(w.supervisor_org_id)
        }))
        .collect();
    // Timeline events name organisations in these fields.
    for entry in &record.timeline {
        for field in ["to_org", "owner_org_id", "org_id"] {
            ids.extend(entry.event.get(field).and_then(Value::as_i64));
        }
    }
    ids.sort_unstable();
    ids.dedup();
    let mut names = BTreeMap::new();
    for id in ids {
        if let Some(org) = state.store.organisation(id).await? {
            names.insert(id, org.name);
        }
    }
    Ok(names)
}

/// An incident the caller may see — received by, owned by or sent to an
/// organisation in the caller's subtree — or 404 as if it did not exist.
pub(super) async fn visible_incident(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> ApiResult<IncidentRecord> {
    let record = state.store.incident(id).await?.ok_or(ApiError::NotFound)?;
    let incident = &record.incident;
    let orgs = [incident.station_org_id]
        .into_iter()
        .chain(incident.owner_org_id)
        .chain(record.work_orders.iter().map(|w| w.owner_org_id));
    for org_id in orgs {
        if let Some(org) = state.store.organisation(org_id).await? {
            if caller.sees(&org.path) {
                return Ok(record);
            }
        }
    }
    Err(ApiError::NotFound)
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
    Ok(Json(view))
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
    let (outcome, record) = take_in(&state, &caller, key.as_deref(), &body).await?;
    let status = match outcome {
        Intake::Created => StatusCode::CREATED,
        Intake::Replayed => StatusCode::OK,
    };
    let view = IncidentView::of(&record, &state.cipher, state.clock.now())?;
    Ok((status, Json(view)))
}

/// Whether intake made a new incident or found the one its key made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intake {
    Created,
    Replayed,
}

/// The intake pipeline every source goes through — the API, Open311, the
/// public plate page: validate, resolve, triage, route and store in one
/// transaction, with `key` making a retry return the first incident. The
/// caller's permission is the entry point's business.
pub(crate) async fn take_in(
    state: &AppState,
    caller: &Caller,
    key: Option<&str>,
    body: &ReportIncident,
) -> ApiResult<(Intake, IncidentRecord)> {
    take_in_known(state, caller, key, body, &Known::default()).await
}

/// What an entry point knows before intake: the category its client chose
/// (an Open311 service), the building (a plate's page) and the
/// coordinates the client sent.
#[derive(Default)]
pub(crate) struct Known<'a> {
    pub category: Option<&'a str>,
    pub building: Option<&'a Building>,
    pub coordinates: Option<Wgs84>,
    /// Counted in the intake's transaction; over it, nothing is stored.
    pub limit: Option<&'a crate::report::PlateLimit>,
}

/// [`take_in`] with what the entry point already knows used instead of
/// asking the resolver and the rules.
pub(crate) async fn take_in_known(
    state: &AppState,
    caller: &Caller,
    key: Option<&str>,
    body: &ReportIncident,
    known: &Known<'_>,
) -> ApiResult<(Intake, IncidentRecord)> {
    let request_hash =
        secret::hash(&serde_json::to_string(body).map_err(|e| ApiError::Internal(e.to_string()))?);
    let actor = caller.actor.to_stored();
    if let Some(key) = key {
        if let Some(first) = replay(state, caller, &actor, key, &request_hash).await? {
            return Ok((Intake::Replayed, first));
        }
    }
    let new = parse_body(body)?;
    let (name, phone) = (reporter_name(body)?, reporter_phone(body)?);

    let (address, found) = addresses::locate(&state.store, new.location.text.as_str(), |code| {
        caller.covers(code)
    })
    .await?;
    // What the entry point knows wins over what the words matched.
    let building = known.building.or(found.as_ref());
    let location_code = building
        .map(|b| b.community_code.clone())
        .or_else(|| address.township_code.clone())
        .or_else(|| address.county_code.clone())
        .and_then(|c| DivisionCode::parse(&c).ok());
    let coordinates = building.and_then(|b| Wgs84::new(b.lat?, b.lon?).ok());
    let mut new = new;
    new.location.address_id = building.map(|b| b.id);
    new.location.coordinates = coordinates.or(known.coordinates);

    let (suggestion, triaged_by, triage_actor) = match known.category {
        Some(code) => (chosen(code)?, TriagedBy::Reporter, caller.actor.clone()),
        None => (
            triage().suggest(new.text.as_str()),
            TriagedBy::Rules,
            Actor::System,
        ),
    };
    let core_triage = core_triage(&suggestion)?;
    let route = route(state, caller, location_code.as_ref(), &suggestion).await?;
    let extras = IncidentExtras {
        reporter_name: name.as_ref().map(|n| state.cipher.encrypt(n)),
        reporter_phone: phone.as_ref().map(|p| state.cipher.encrypt(p)),
        reporter_phone_index: phone.as_ref().map(|p| state.cipher.blind_index(p)),
        community_code: location_code.map(|c| c.as_str().to_owned()),
        triage_matched: suggestion.matched.iter().map(|m| m.word.clone()).collect(),
    };
    let mut orgs = vec![route.station.path.clone(), route.command_room.path.clone()];
    if let Target::Department { owner, .. } = &route.target {
        orgs.push(owner.path.clone());
    }
    let limit = known.limit.zip(building).map(|(l, b)| (*l, b.id));
    let prepared = PreparedIntake {
        caller: caller.clone(),
        key: key.map(|k| (k.to_owned(), request_hash.to_vec())),
        new,
        extras,
        triage: core_triage,
        triaged_by,
        triage_actor,
        route,
        limit,
    };
    let created = match state.intake.write(prepared).await? {
        Written::Created(created) => created,
        Written::KeyUsed => {
            // An intake with the same key committed first: it answers.
            let key = key.ok_or_else(|| ApiError::Internal("a key used without a key".into()))?;
            let first = replay(state, caller, &actor, key, &request_hash)
                .await?
                .ok_or_else(|| ApiError::Internal("idempotency key vanished".into()))?;
            return Ok((Intake::Replayed, first));
        }
    };
    let Created {
        mut record,
        linked,
        warnings,
    } = *created;
    let id = record.incident.id;
    state.live.publish(LiveEvent {
        kind: LiveKind::Incident,
        id,
        incident_id: Some(id),
        change: "created".into(),
        orgs,
    });
    for warning_id in warnings {
        crate::api::warnings::publish(state, warning_id, "raised").await;
    }
    if linked {
        record.repeats = state.store.repeats_of(id).await?;
    }
    Ok((Intake::Created, record))
}

/// The key as sent: 1 to 200 visible ASCII characters.
pub(crate) fn idempotency_key(headers: &HeaderMap) -> ApiResult<Option<String>> {
    let Some(value) = headers.get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    let key = value.to_str().unwrap_or("").trim();
    let valid =
        !key.is_empty() && key.len() <= MAX_KEY_CHARS && key.bytes().all(|b| b.is_ascii_graphic());
    if !valid {
        return Err(FieldError::new(
            IDEMPOTENCY_KEY,
            Reason::InvalidFormat {
                expected: "idempotency_key",
            },
        )
        .into());
    }
    Ok(Some(key.to_owned()))
}

/// The answer to a key already used: the first incident for the same body,
/// a 422 for another; `None` when the key is new.
async fn replay(
    state: &AppState,
    caller: &Caller,
    actor: &str,
    key: &str,
    request_hash: &[u8],
) -> ApiResult<Option<IncidentRecord>> {
    let Some(first) = state.store.idempotency_key(actor, key).await? else {
        return Ok(None);
    };
    if first.request_hash != request_hash {
        return Err(FieldError::new(
            IDEMPOTENCY_KEY,
            Reason::Conflict {
                detail: "idempotency_key_reused",
            },
        )
        .into());
    }
    Ok(Some(
        visible_incident(state, caller, first.incident_id).await?,
    ))
}

fn optional(text: &Option<String>) -> Option<&str> {
    text.as_deref().map(str::trim).filter(|t| !t.is_empty())
}

fn reporter_name(body: &ReportIncident) -> Result<Option<PersonalData>, FieldError> {
    optional(&body.reporter_name)
        .map(|n| PersonalData::name("reporter_name", n))
        .transpose()
}

fn reporter_phone(body: &ReportIncident) -> Result<Option<PersonalData>, FieldError> {
    optional(&body.reporter_phone)
        .map(|p| PersonalData::phone("reporter_phone", p))
        .transpose()
}

/// Every wrong field at once, named as the body names them.
fn parse_body(body: &ReportIncident) -> ApiResult<NewIncident> {
    let mut errors = Vec::new();
    let name = reporter_name(body)
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    let phone = reporter_phone(body)
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    // The core decides which sources may carry whom: a name says more than
    // a phone, so it is the one checked when both are given.
    let reporter_field = if name.is_some() {
        "reporter_name"
    } else {
        "reporter_phone"
    };
    let parsed = NewIncident::parse(IncidentInput {
        source: &body.source,
        text: &body.text,
        location_text: &body.location_text,
        reporter: name.or(phone),
        ..Default::default()
    });
    match parsed {
        Ok(new) if errors.is_empty() => Ok(new),
        Ok(_) => Err(ApiError::Validation(errors)),
        Err(core) => {
            errors.extend(core.into_iter().map(|mut e| {
                e.field = match e.field.as_str() {
                    "location" => "location_text".into(),
                    "reporter" => reporter_field.into(),
                    _ => e.field,
                };
                e
            }));
            Err(ApiError::Validation(errors))
        }
    }
}

/// The category a client chose, as if the rules had suggested it.
fn chosen(code: &str) -> ApiResult<TriageSuggestion> {
    let category = triage().table().category(code).ok_or_else(|| {
        FieldError::new(
            "category",
            Reason::UnknownValue {
                allowed: Vec::new(),
            },
        )
    })?;
    Ok(TriageSuggestion {
        category: category.code.clone(),
        group: category.group,
        priority: category.priority,
        route_to: category.route_to,
        matched: Vec::new(),
        negated: Vec::new(),
        confidence: 1.0,
    })
}

pub(crate) fn core_triage(suggestion: &TriageSuggestion) -> ApiResult<CoreTriage> {
    let category = triage()
        .table()
        .category(&suggestion.category)
        .ok_or_else(|| {
            ApiError::Internal(format!("category {} not in the table", suggestion.category))
        })?;
    Ok(CoreTriage {
        category: Category::new(&category.code, &category.class)?,
        group: suggestion.group,
        priority: Priority::parse(suggestion.priority)?,
    })
}
