//! 矛盾纠纷: dispute cases of the caller's jurisdiction — registered from an
//! incident or at the station, mediated in sessions, settled by an agreement
//! whose follow-up visits check it holds, failed, transferred, closed. The
//! core decides every move (`fengqiao_core::dispute`); one transaction
//! writes the case, its timeline, the warnings the move raised (threat
//! words in a session, a failed or broken agreement) and the audit entry.
//! Parties are encrypted at rest and shown masked.

use std::str::FromStr;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use fengqiao_core::audit::AuditAction;
use fengqiao_core::dispute::{
    CaseText, Dispute, DisputeSource, DisputeStatus, DisputeType, FollowUpPolicy, MediationSession,
    Mediators, NewDispute, Party, Risk, TransferTarget,
};
use fengqiao_core::error::{FieldError, Reason};
use fengqiao_core::personal::PersonalDataCipher;
use fengqiao_core::role::Permission;
use fengqiao_core::warning::{AgreementFailure, NewWarning};
use fengqiao_core::Timestamp;
use fengqiao_store::{DisputeRecord, DisputeSummary, StoreError, StoredParty, Tx};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::idempotency_key;
use crate::error::{ApiError, ApiResult, Problem};
use crate::json::ApiJson;
use crate::live::{LiveEvent, LiveKind};
use crate::services::access::Caller;
use crate::services::addresses;
use crate::services::disputes::{
    self, handled, publish, refused, visible_dispute, write_move, Move,
};
use crate::services::field_reports::visible_report;
use crate::services::format::{masked, parse_time, rfc3339};
use crate::services::idempotency::{self, request_hash};
use crate::services::incidents::visible_incident;
use crate::services::threat_words;
use crate::services::Error;
use crate::state::AppState;

const LIST_LIMIT: i64 = 200;

#[derive(Serialize, ToSchema)]
pub struct PartyView {
    /// person or organisation.
    pub(crate) kind: String,
    /// A person's name masked (张*); an organisation's name in full.
    pub(crate) name: String,
    /// Masked: 138****5678.
    pub(crate) phone: Option<String>,
    /// Masked: 5101**********1234.
    pub(crate) id_number: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SessionView {
    pub(crate) id: i64,
    pub(crate) held_at: String,
    pub(crate) place: String,
    pub(crate) participants: String,
    pub(crate) note: String,
    pub(crate) agreed: Option<String>,
    pub(crate) next_step: Option<String>,
    pub(crate) next_session_at: Option<String>,
    pub(crate) recorded_by: String,
    pub(crate) recorded_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct FollowUpView {
    pub(crate) id: i64,
    pub(crate) due_at: String,
    /// pending, holding, broken or cancelled.
    pub(crate) status: String,
    /// Pending a day past due.
    pub(crate) missed: bool,
    pub(crate) done_at: Option<String>,
    pub(crate) done_by: Option<String>,
    pub(crate) note: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct DisputeTimelineView {
    pub(crate) at: String,
    /// "user:7", "system".
    pub(crate) actor: String,
    /// registered, incident_linked, session_recorded, agreement_recorded,
    /// follow_up_scheduled, failed, transferred, follow_up_recorded,
    /// follow_ups_cancelled, closed, warning_raised.
    pub(crate) event: String,
    #[schema(value_type = Object)]
    pub(crate) detail: Value,
}

#[derive(Serialize, ToSchema)]
pub struct LinkedIncidentView {
    pub(crate) id: i64,
    pub(crate) receipt_number: String,
    pub(crate) text: String,
    pub(crate) status: String,
    pub(crate) received_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct DisputeView {
    pub(crate) id: i64,
    /// The station the case belongs to.
    pub(crate) org_id: i64,
    pub(crate) org_name: Option<String>,
    /// incident, field_report or station.
    pub(crate) source: String,
    pub(crate) source_id: Option<i64>,
    /// neighbour, family_marriage, labour_wages, property_management,
    /// land_demolition, rental, consumer, traffic or other.
    pub(crate) dispute_type: String,
    pub(crate) building_id: Option<i64>,
    pub(crate) address_text: String,
    /// 纠纷简要情况
    pub(crate) facts: String,
    /// low, medium, high or critical.
    pub(crate) risk_level: String,
    pub(crate) risk_reason: String,
    pub(crate) officer_user_id: Option<i64>,
    pub(crate) mediators: Vec<String>,
    /// registered, mediating, resolved, failed, transferred, followed_up
    /// or closed.
    pub(crate) status: String,
    pub(crate) registered_at: String,
    /// A first session is due by then.
    pub(crate) mediate_by: String,
    /// No session yet and past `mediate_by`.
    pub(crate) mediation_overdue: bool,
    pub(crate) agreement: Option<String>,
    pub(crate) agreed_at: Option<String>,
    /// Why mediation failed or the case was transferred.
    pub(crate) outcome_reason: Option<String>,
    /// court, shared_court or department.
    pub(crate) transfer_target: Option<String>,
    pub(crate) transfer_to: Option<String>,
    pub(crate) closed_at: Option<String>,
    pub(crate) next_session_at: Option<String>,
    /// The last step of its lifecycle.
    pub(crate) progress_at: String,
    pub(crate) parties: Vec<PartyView>,
    pub(crate) sessions: Vec<SessionView>,
    pub(crate) follow_ups: Vec<FollowUpView>,
    pub(crate) incidents: Vec<LinkedIncidentView>,
    pub(crate) timeline: Vec<DisputeTimelineView>,
}

#[derive(Serialize, ToSchema)]
pub struct DisputeItem {
    pub(crate) id: i64,
    pub(crate) org_id: i64,
    pub(crate) source: String,
    pub(crate) dispute_type: String,
    pub(crate) address_text: String,
    pub(crate) facts: String,
    pub(crate) risk_level: String,
    pub(crate) status: String,
    pub(crate) registered_at: String,
    pub(crate) mediate_by: String,
    pub(crate) mediation_overdue: bool,
    pub(crate) officer_user_id: Option<i64>,
    pub(crate) next_session_at: Option<String>,
    pub(crate) progress_at: String,
}

impl DisputeItem {
    fn of(summary: &DisputeSummary, now: Timestamp) -> DisputeItem {
        let d = &summary.dispute;
        DisputeItem {
            id: d.id,
            org_id: d.org_id,
            source: d.source.as_str().into(),
            dispute_type: d.dispute_type.as_str().into(),
            address_text: d.address_text.to_string(),
            facts: d.facts.to_string(),
            risk_level: d.risk.level.as_str().into(),
            status: d.status.as_str().into(),
            registered_at: rfc3339(d.registered_at),
            mediate_by: rfc3339(d.mediate_by),
            mediation_overdue: unmediated(d, now),
            officer_user_id: d.officer_user_id,
            next_session_at: summary.next_session_at.map(rfc3339),
            progress_at: rfc3339(summary.progress_at),
        }
    }
}

fn unmediated(d: &Dispute, now: Timestamp) -> bool {
    d.status == DisputeStatus::Registered && now > d.mediate_by
}

fn party_view(cipher: &PersonalDataCipher, party: &StoredParty) -> ApiResult<PartyView> {
    let name = match &party.org_name {
        Some(org) => org.clone(),
        None => masked(cipher, &party.name)?.unwrap_or_default(),
    };
    Ok(PartyView {
        kind: party.kind.clone(),
        name,
        phone: masked(cipher, &party.phone)?,
        id_number: masked(cipher, &party.id_number)?,
    })
}

pub(crate) async fn dispute_view(
    state: &AppState,
    record: &DisputeRecord,
) -> ApiResult<DisputeView> {
    let d = &record.dispute;
    let now = state.clock.now();
    let text = |t: &Option<CaseText>| t.as_ref().map(|t| t.to_string());
    let mut incidents = Vec::new();
    for id in &record.incidents {
        if let Some(linked) = state.store.incident(*id).await? {
            let i = linked.incident;
            incidents.push(LinkedIncidentView {
                id: i.id,
                receipt_number: i.receipt_number.to_string(),
                text: i.text,
                status: i.status.as_str().into(),
                received_at: rfc3339(i.received_at),
            });
        }
    }
    let org_name = state.store.organisation(d.org_id).await?.map(|o| o.name);
    Ok(DisputeView {
        id: d.id,
        org_id: d.org_id,
        org_name,
        source: d.source.as_str().into(),
        source_id: d.source_id,
        dispute_type: d.dispute_type.as_str().into(),
        building_id: d.building_id,
        address_text: d.address_text.to_string(),
        facts: d.facts.to_string(),
        risk_level: d.risk.level.as_str().into(),
        risk_reason: d.risk.reason.to_string(),
        officer_user_id: d.officer_user_id,
        mediators: d.mediators.names().to_vec(),
        status: d.status.as_str().into(),
        registered_at: rfc3339(d.registered_at),
        mediate_by: rfc3339(d.mediate_by),
        mediation_overdue: unmediated(d, now),
        agreement: d.agreement.as_ref().map(|a| a.text.to_string()),
        agreed_at: d.agreement.as_ref().map(|a| rfc3339(a.agreed_at)),
        outcome_reason: text(&d.outcome_reason),
        transfer_target: d.transfer.as_ref().map(|(t, _)| t.as_str().into()),
        transfer_to: d.transfer.as_ref().map(|(_, to)| to.to_string()),
        closed_at: d.closed_at.map(rfc3339),
        next_session_at: record.next_session_at.map(rfc3339),
        progress_at: rfc3339(record.progress_at),
        parties: record
            .parties
            .iter()
            .map(|p| party_view(&state.cipher, p))
            .collect::<ApiResult<_>>()?,
        sessions: record
            .sessions
            .iter()
            .map(|s| SessionView {
                id: s.session.id,
                held_at: rfc3339(s.session.held_at),
                place: s.session.place.to_string(),
                participants: s.session.participants.to_string(),
                note: s.session.note.to_string(),
                agreed: text(&s.session.agreed),
                next_step: text(&s.session.next_step),
                next_session_at: s.session.next_session_at.map(rfc3339),
                recorded_by: s.recorded_by.clone(),
                recorded_at: rfc3339(s.recorded_at),
            })
            .collect(),
        follow_ups: d
            .follow_ups
            .iter()
            .map(|f| FollowUpView {
                id: f.id,
                due_at: rfc3339(f.due_at),
                status: f.status.as_str().into(),
                missed: f.missed(now),
                done_at: f.done_at.map(rfc3339),
                done_by: f.done_by.clone(),
                note: text(&f.note),
            })
            .collect(),
        incidents,
        timeline: record
            .timeline
            .iter()
            .map(|entry| {
                let mut detail = entry.event.clone();
                let event = detail
                    .as_object_mut()
                    .and_then(|o| o.remove("event"))
                    .and_then(|e| e.as_str().map(str::to_owned))
                    .unwrap_or_default();
                DisputeTimelineView {
                    at: rfc3339(entry.at),
                    actor: entry.actor.clone(),
                    event,
                    detail,
                }
            })
            .collect(),
    })
}

#[derive(Deserialize, IntoParams)]
pub struct DisputeQuery {
    /// registered, mediating, resolved, failed, transferred, followed_up or
    /// closed; all when absent.
    status: Option<String>,
}

/// The dispute cases of the caller's jurisdiction, newest first (at most
/// 200).
#[utoipa::path(get, path = "/api/v1/disputes", params(DisputeQuery),
    responses((status = 200, body = [DisputeItem]), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<DisputeQuery>,
) -> ApiResult<Json<Vec<DisputeItem>>> {
    caller.require(Permission::ViewDisputes)?;
    let status = query
        .status
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(DisputeStatus::from_str)
        .transpose()?;
    let found = state
        .store
        .disputes_within(caller.scope().as_str(), status, LIST_LIMIT)
        .await?;
    let now = state.clock.now();
    Ok(Json(
        found.iter().map(|s| DisputeItem::of(s, now)).collect(),
    ))
}

/// One case: parties masked, sessions, follow-ups, linked incidents and
/// the timeline.
#[utoipa::path(get, path = "/api/v1/disputes/{dispute_id}",
    params(("dispute_id" = i64, Path, description = "dispute id")),
    responses((status = 200, body = DisputeView), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(dispute_id): Path<i64>,
) -> ApiResult<Json<DisputeView>> {
    caller.require(Permission::ViewDisputes)?;
    let (record, _) = visible_dispute(&state, &caller, dispute_id).await?;
    Ok(Json(dispute_view(&state, &record).await?))
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartyInput {
    /// person (default) or organisation.
    kind: Option<String>,
    name: Option<String>,
    /// Personal data: stored encrypted, shown masked.
    phone: Option<String>,
    /// A person's resident ID number: stored encrypted, shown masked.
    id_number: Option<String>,
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterDispute {
    /// incident (with `incident_id`), field_report (with
    /// `field_report_id`: a grid worker's report of a dispute) or station
    /// (at the desk).
    source: String,
    incident_id: Option<i64>,
    /// The field report (e治采) of a dispute the case is registered from;
    /// its station, place and description become the case's.
    field_report_id: Option<i64>,
    /// The station of the case; the caller's organisation when absent.
    /// From an incident, always the incident's station.
    org_id: Option<i64>,
    dispute_type: String,
    /// 1 to 20 parties.
    parties: Vec<PartyInput>,
    /// Where, 1 to 200 characters; from an incident, its location.
    address_text: Option<String>,
    /// 纠纷简要情况, 1 to 2000 characters; from an incident, its text when
    /// absent.
    facts: Option<String>,
    /// low, medium, high or critical.
    risk_level: String,
    /// Why this risk level, 1 to 500 characters.
    risk_reason: String,
    /// The responsible community officer, an account in the jurisdiction.
    officer_user_id: Option<i64>,
    /// Up to ten mediators' names.
    #[serde(default)]
    mediators: Vec<String>,
}

/// The case a key already made or changed, for the same request; a 422 for
/// another; `None` when the key is new.
async fn replay(
    state: &AppState,
    caller: &Caller,
    key: &str,
    hash: &[u8],
) -> ApiResult<Option<DisputeView>> {
    let actor = caller.actor.to_stored();
    let Some((first_hash, dispute_id)) = state.store.dispute_request_key(&actor, key).await? else {
        return Ok(None);
    };
    idempotency::same_request(&first_hash, hash)?;
    let (record, _) = visible_dispute(state, caller, dispute_id).await?;
    Ok(Some(dispute_view(state, &record).await?))
}

fn parse_parties(parties: &[PartyInput], errors: &mut Vec<FieldError>) -> Vec<Party> {
    if parties.is_empty() {
        errors.push(FieldError::new("parties", Reason::Required));
    }
    if parties.len() > Party::MAX {
        errors.push(FieldError::new(
            "parties",
            Reason::TooLong { max: Party::MAX },
        ));
        return Vec::new();
    }
    parties
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            Party::parse(
                &format!("parties[{i}]"),
                p.kind.as_deref(),
                p.name.as_deref(),
                p.phone.as_deref(),
                p.id_number.as_deref(),
            )
            .map_err(|e| errors.extend(e))
            .ok()
        })
        .collect()
}

fn stored_party(cipher: &PersonalDataCipher, party: &Party) -> StoredParty {
    match party {
        Party::Person {
            name,
            phone,
            id_number,
        } => StoredParty {
            kind: "person".into(),
            org_name: None,
            name: Some(cipher.encrypt(name)),
            phone: phone.as_ref().map(|p| cipher.encrypt(p)),
            phone_index: phone.as_ref().map(|p| cipher.blind_index(p)),
            id_number: id_number.as_ref().map(|n| cipher.encrypt(n)),
            id_number_index: id_number.as_ref().map(|n| cipher.blind_index(n)),
        },
        Party::Organisation { name, phone } => StoredParty {
            kind: "organisation".into(),
            org_name: Some(name.to_string()),
            phone: phone.as_ref().map(|p| cipher.encrypt(p)),
            phone_index: phone.as_ref().map(|p| cipher.blind_index(p)),
            ..Default::default()
        },
    }
}

/// An organisation or account the body names must lie in the caller's
/// jurisdiction; else the field is refused as not found.
async fn check_officer(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> ApiResult<Result<(), FieldError>> {
    let refused = || Err(FieldError::new("officer_user_id", Reason::NotFound));
    let Some(user) = state.store.user(id).await? else {
        return Ok(refused());
    };
    match state.store.organisation(user.user.org_id).await? {
        Some(org) if caller.sees(&org.path) => Ok(Ok(())),
        _ => Ok(refused()),
    }
}

/// 登记: a new dispute case, from an incident (one case per incident: a
/// second registration answers 200 with the first case) or at the station
/// (an `Idempotency-Key` makes a retry answer 200 with the first case).
#[utoipa::path(post, path = "/api/v1/disputes", request_body = RegisterDispute,
    params(("Idempotency-Key" = Option<String>, Header, description = "makes a retry safe: one case per key")),
    responses((status = 201, body = DisputeView), (status = 200, body = DisputeView, description = "the case this incident or key already made"),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn register(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiJson(body): ApiJson<RegisterDispute>,
) -> ApiResult<(StatusCode, Json<DisputeView>)> {
    caller.require(Permission::HandleDisputes)?;
    let key = idempotency_key(&headers)?;
    let hash = request_hash("register", &body)?;
    if let Some(key) = &key {
        if let Some(first) = replay(&state, &caller, key, &hash).await? {
            return Ok((StatusCode::OK, Json(first)));
        }
    }
    let mut errors = Vec::new();
    let source = DisputeSource::from_str(&body.source).ok();
    if source.is_none() {
        errors.push(FieldError::new(
            "source",
            Reason::UnknownValue {
                allowed: vec!["incident".into(), "field_report".into(), "station".into()],
            },
        ));
    }
    let dispute_type = DisputeType::from_str(&body.dispute_type)
        .map_err(|e| errors.push(e))
        .ok();
    let parties = parse_parties(&body.parties, &mut errors);
    let risk = Risk::parse(Some(&body.risk_level), Some(&body.risk_reason))
        .map_err(|e| errors.extend(e))
        .ok();
    let mediators = Mediators::parse(&body.mediators)
        .map_err(|e| errors.push(e))
        .ok();
    if let Some(officer) = body.officer_user_id {
        if let Err(e) = check_officer(&state, &caller, officer).await? {
            errors.push(e);
        }
    }

    // Where the case is and whose it is: the incident's, or as given.
    let mut place = None;
    match source {
        Some(DisputeSource::Incident) => match body.incident_id {
            None => errors.push(FieldError::new("incident_id", Reason::Required)),
            Some(incident_id) => {
                let record = visible_incident(&state, &caller, incident_id)
                    .await
                    .map_err(|_| Error::field(FieldError::new("incident_id", Reason::NotFound)))?;
                if let Some(existing) = state
                    .store
                    .dispute_from_source(DisputeSource::Incident, incident_id)
                    .await?
                {
                    let (record, _) = visible_dispute(&state, &caller, existing).await?;
                    return Ok((StatusCode::OK, Json(dispute_view(&state, &record).await?)));
                }
                let i = record.incident;
                let station = state
                    .store
                    .organisation(i.station_org_id)
                    .await?
                    .ok_or(Error::NotFound)?;
                if !caller.sees(&station.path) {
                    errors.push(FieldError::new("incident_id", Reason::NotFound));
                }
                if body.org_id.is_some_and(|o| o != station.id) {
                    errors.push(FieldError::new(
                        "org_id",
                        Reason::Conflict {
                            detail: "incident_station",
                        },
                    ));
                }
                let facts = body.facts.clone().unwrap_or_else(|| i.text.clone());
                let address = body
                    .address_text
                    .clone()
                    .unwrap_or_else(|| i.location_text.clone());
                place = Some((
                    station.id,
                    Some(i.id),
                    address,
                    facts,
                    i.building_id,
                    i.community_code,
                ));
            }
        },
        Some(DisputeSource::FieldReport) => match body.field_report_id {
            None => errors.push(FieldError::new("field_report_id", Reason::Required)),
            Some(report_id) => {
                let report = visible_report(&state, &caller, report_id)
                    .await
                    .map_err(|_| {
                        Error::field(FieldError::new("field_report_id", Reason::NotFound))
                    })?;
                if let Some(existing) = state
                    .store
                    .dispute_from_source(DisputeSource::FieldReport, report_id)
                    .await?
                {
                    let (record, _) = visible_dispute(&state, &caller, existing).await?;
                    return Ok((StatusCode::OK, Json(dispute_view(&state, &record).await?)));
                }
                // Only a report of a dispute becomes a case (the core's rule).
                if let Err(refusal) = report.register_as_dispute(0) {
                    return Err(ApiError::from(Error::Conflict {
                        zh: "只有“矛盾纠纷”类的网格上报才能登记为纠纷案件。".into(),
                        en: format!("{refusal}."),
                    }));
                }
                let station = state
                    .store
                    .organisation(report.place.station_org_id)
                    .await?
                    .ok_or(Error::NotFound)?;
                // The reporter sees their own report; registering it is the
                // station's business.
                if !caller.sees(&station.path) {
                    errors.push(FieldError::new("field_report_id", Reason::NotFound));
                }
                if body.org_id.is_some_and(|o| o != station.id) {
                    errors.push(FieldError::new(
                        "org_id",
                        Reason::Conflict {
                            detail: "incident_station",
                        },
                    ));
                }
                place = Some((
                    station.id,
                    Some(report.id),
                    body.address_text
                        .clone()
                        .unwrap_or_else(|| report.address_text.clone()),
                    body.facts
                        .clone()
                        .unwrap_or_else(|| report.description.clone()),
                    Some(report.place.building_id),
                    Some(report.place.community_code.clone()),
                ));
            }
        },
        Some(_) => {
            let org_id = body.org_id.unwrap_or(caller.org.id);
            let org = state.store.organisation(org_id).await?;
            let org_id = match org {
                Some(org) if caller.sees(&org.path) => Some(org.id),
                _ => {
                    errors.push(FieldError::new("org_id", Reason::NotFound));
                    None
                }
            };
            let address = body.address_text.clone().unwrap_or_default();
            let resolved = if address.trim().is_empty() {
                None
            } else {
                addresses::resolve(&state.store, &state.cipher, &address, |code| {
                    caller.covers(code)
                })
                .await?
                .registry
            };
            if let Some(org_id) = org_id {
                place = Some((
                    org_id,
                    None,
                    address,
                    body.facts.clone().unwrap_or_default(),
                    resolved.as_ref().map(|r| r.building_id),
                    resolved.map(|r| r.community_code),
                ));
            }
        }
        None => {}
    }
    let (address_text, facts) = match &place {
        Some((_, _, address, facts, _, _)) => (
            CaseText::parse("address_text", address, NewDispute::MAX_ADDRESS_CHARS)
                .map_err(|e| errors.push(e))
                .ok(),
            CaseText::parse("facts", facts, NewDispute::MAX_FACTS_CHARS)
                .map_err(|e| errors.push(e))
                .ok(),
        ),
        None => (None, None),
    };
    let (
        Some(source),
        Some(dispute_type),
        Some(risk),
        Some(mediators),
        Some((org_id, source_id, _, _, building_id, community_code)),
        Some(address_text),
        Some(facts),
        true,
    ) = (
        source,
        dispute_type,
        risk,
        mediators,
        place,
        address_text,
        facts,
        errors.is_empty(),
    )
    else {
        return Err(ApiError::from(Error::Validation(errors)));
    };
    let new = NewDispute {
        org_id,
        source,
        source_id,
        dispute_type,
        parties,
        building_id,
        address_text,
        facts,
        risk,
        officer_user_id: body.officer_user_id,
        mediators,
    };
    let stored: Vec<StoredParty> = new
        .parties
        .iter()
        .map(|p| stored_party(&state.cipher, p))
        .collect();

    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    let id = tx.next_dispute_id().await?;
    let registered = Dispute::register(id, new, caller.actor.clone(), now);
    match tx
        .insert_dispute(&registered.state, &stored, community_code.as_deref(), now)
        .await
    {
        Ok(()) => {}
        Err(StoreError::Duplicate(_)) => {
            // A concurrent registration of the same incident committed first.
            drop(tx);
            let existing = state
                .store
                .dispute_from_source(source, source_id.unwrap_or_default())
                .await?
                .ok_or_else(|| Error::Internal("registered case vanished".into()))?;
            let (record, _) = visible_dispute(&state, &caller, existing).await?;
            return Ok((StatusCode::OK, Json(dispute_view(&state, &record).await?)));
        }
        Err(e) => return Err(e.into()),
    }
    if let Some(incident_id) = source_id.filter(|_| source == DisputeSource::Incident) {
        tx.link_dispute_incident(id, incident_id, now).await?;
    }
    let from_report = source_id.filter(|_| source == DisputeSource::FieldReport);
    if let Some(report_id) = from_report {
        // The case's unique source already refused a second registration.
        if !tx.set_field_report_dispute(report_id, id).await? {
            return Err(ApiError::from(Error::Internal(format!(
                "field report {report_id} was registered without its case"
            ))));
        }
    }
    tx.append_dispute_events(id, &registered.events).await?;
    if let Some(key) = &key {
        if !record_key(&mut tx, &caller, key, &hash, id, now).await? {
            drop(tx);
            let first = replay(&state, &caller, key, &hash)
                .await?
                .ok_or_else(|| Error::Internal("idempotency key vanished".into()))?;
            return Ok((StatusCode::OK, Json(first)));
        }
    }
    let audit = caller
        .audit(AuditAction::Create, "dispute")
        .object(id)
        .detail(format!(
            "{} {}",
            source.as_str(),
            registered.state.risk.level
        ));
    tx.append_audit(&audit, now).await?;
    tx.commit().await?;
    publish(&state, &registered.state, "registered", &[]).await;
    if let Some(report_id) = from_report {
        if let Ok(Some(org)) = state.store.organisation(registered.state.org_id).await {
            state.live.publish(LiveEvent {
                kind: LiveKind::FieldReport,
                id: report_id,
                incident_id: None,
                change: "registered_as_dispute".into(),
                orgs: vec![org.path],
            });
        }
    }
    let (record, _) = visible_dispute(&state, &caller, id).await?;
    Ok((
        StatusCode::CREATED,
        Json(dispute_view(&state, &record).await?),
    ))
}

/// Writes the key in the transaction of its change; `false` when a
/// concurrent request with the same key committed first.
async fn record_key(
    tx: &mut Tx,
    caller: &Caller,
    key: &str,
    hash: &[u8],
    dispute_id: i64,
    now: Timestamp,
) -> ApiResult<bool> {
    match tx
        .insert_dispute_request_key(&caller.actor.to_stored(), key, hash, dispute_id, now)
        .await
    {
        Ok(()) => Ok(true),
        Err(StoreError::Duplicate(_)) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

async fn answer(state: &AppState, caller: &Caller, id: i64) -> ApiResult<Json<DisputeView>> {
    let (record, _) = visible_dispute(state, caller, id).await?;
    Ok(Json(dispute_view(state, &record).await?))
}

fn optional_text(
    field: &str,
    text: &Option<String>,
    max: usize,
    errors: &mut Vec<FieldError>,
) -> Option<CaseText> {
    let text = text.as_deref().map(str::trim).filter(|t| !t.is_empty())?;
    CaseText::parse(field, text, max)
        .map_err(|e| errors.push(e))
        .ok()
}

fn required_text(
    field: &str,
    text: &Option<String>,
    max: usize,
    errors: &mut Vec<FieldError>,
) -> Option<CaseText> {
    CaseText::parse(field, text.as_deref().unwrap_or(""), max)
        .map_err(|e| errors.push(e))
        .ok()
}

fn optional_time(
    field: &'static str,
    text: &Option<String>,
    errors: &mut Vec<FieldError>,
) -> Option<Timestamp> {
    let text = text.as_deref().map(str::trim).filter(|t| !t.is_empty())?;
    parse_time(field, Some(text))
        .map_err(|e| errors.push(e))
        .ok()
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddSession {
    /// When it was held (RFC 3339); now when absent.
    held_at: Option<String>,
    /// 调解地点, 1 to 200 characters.
    place: Option<String>,
    /// 参加人员, 1 to 500 characters.
    participants: Option<String>,
    /// 调解记录, 1 to 2000 characters: read for threat words.
    note: Option<String>,
    /// What was agreed in this session, if anything.
    agreed: Option<String>,
    /// 下一步
    next_step: Option<String>,
    /// When the next session is planned (RFC 3339).
    next_session_at: Option<String>,
}

/// 调解: records a session (the first starts mediation). Threat or
/// violence words in it (negation understood) raise a `threat_words`
/// warning on the case. An `Idempotency-Key` makes a retry answer 200
/// without a second session.
#[utoipa::path(post, path = "/api/v1/disputes/{dispute_id}/sessions", request_body = AddSession,
    params(("dispute_id" = i64, Path, description = "dispute id"),
        ("Idempotency-Key" = Option<String>, Header, description = "makes a retry safe: one session per key")),
    responses((status = 201, body = DisputeView), (status = 200, body = DisputeView, description = "the session this key already recorded"),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn add_session(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(dispute_id): Path<i64>,
    ApiJson(body): ApiJson<AddSession>,
) -> ApiResult<(StatusCode, Json<DisputeView>)> {
    caller.require(Permission::HandleDisputes)?;
    visible_dispute(&state, &caller, dispute_id).await?;
    let key = idempotency_key(&headers)?;
    let hash = request_hash(&format!("session {dispute_id}"), &body)?;
    if let Some(key) = &key {
        if let Some(first) = replay(&state, &caller, key, &hash).await? {
            return Ok((StatusCode::OK, Json(first)));
        }
    }
    let now = state.clock.now();
    let mut errors = Vec::new();
    let held_at = optional_time("held_at", &body.held_at, &mut errors).unwrap_or(now);
    let place = required_text(
        "place",
        &body.place,
        MediationSession::MAX_PLACE_CHARS,
        &mut errors,
    );
    let participants = required_text(
        "participants",
        &body.participants,
        MediationSession::MAX_PARTICIPANTS_CHARS,
        &mut errors,
    );
    let note = required_text(
        "note",
        &body.note,
        MediationSession::MAX_NOTE_CHARS,
        &mut errors,
    );
    let agreed = optional_text(
        "agreed",
        &body.agreed,
        MediationSession::MAX_STEP_CHARS,
        &mut errors,
    );
    let next_step = optional_text(
        "next_step",
        &body.next_step,
        MediationSession::MAX_STEP_CHARS,
        &mut errors,
    );
    let next_session_at = optional_time("next_session_at", &body.next_session_at, &mut errors);
    if next_session_at.is_some_and(|next| next <= held_at) {
        errors.push(FieldError::new(
            "next_session_at",
            Reason::Conflict {
                detail: "after_session",
            },
        ));
    }
    let (Some(place), Some(participants), Some(note), true) =
        (place, participants, note, errors.is_empty())
    else {
        return Err(ApiError::from(Error::Validation(errors)));
    };

    let mut tx = state.store.begin().await?;
    let dispute = handled(&state, &caller, &mut tx, dispute_id).await?;
    let session = MediationSession {
        id: tx.next_dispute_session_id().await?,
        held_at,
        place,
        participants,
        note,
        agreed,
        next_step,
        next_session_at,
    };
    let moved = dispute
        .record_session(&session, caller.actor.clone(), now)
        .map_err(refused)?;
    tx.insert_dispute_session(dispute_id, &session, &caller.actor.to_stored(), now)
        .await?;
    let warnings = threat_words::on_session(&moved.state, &session, now)
        .into_iter()
        .collect();
    let raised = write_move(
        &mut tx,
        &caller,
        &moved,
        warnings,
        format!("session {}", session.id),
        now,
    )
    .await?;
    if let Some(key) = &key {
        if !record_key(&mut tx, &caller, key, &hash, dispute_id, now).await? {
            drop(tx);
            let first = replay(&state, &caller, key, &hash)
                .await?
                .ok_or_else(|| Error::Internal("idempotency key vanished".into()))?;
            return Ok((StatusCode::OK, Json(first)));
        }
    }
    tx.commit().await?;
    publish(&state, &moved.state, "session_recorded", &raised).await;
    Ok((
        StatusCode::CREATED,
        answer(&state, &caller, dispute_id).await?,
    ))
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordAgreement {
    /// 调解协议: what the parties agreed, 1 to 2000 characters.
    text: Option<String>,
    /// Days after the agreement the follow-up visits fall; the server's
    /// setting (7 and 30 by default) when absent.
    follow_up_days: Option<Vec<u32>>,
}

/// 达成协议: resolves the case and schedules its follow-up visits.
#[utoipa::path(post, path = "/api/v1/disputes/{dispute_id}/agreement", request_body = RecordAgreement,
    params(("dispute_id" = i64, Path, description = "dispute id")),
    responses((status = 200, body = DisputeView), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
pub async fn record_agreement(
    State(state): State<AppState>,
    caller: Caller,
    Path(dispute_id): Path<i64>,
    ApiJson(body): ApiJson<RecordAgreement>,
) -> ApiResult<Json<DisputeView>> {
    caller.require(Permission::HandleDisputes)?;
    visible_dispute(&state, &caller, dispute_id).await?;
    let mut errors = Vec::new();
    let text = required_text(
        "text",
        &body.text,
        fengqiao_core::dispute::Agreement::MAX_CHARS,
        &mut errors,
    );
    let policy = match &body.follow_up_days {
        Some(days) => FollowUpPolicy::new(days.clone())
            .map_err(|e| errors.push(e))
            .ok(),
        None => Some(state.settings.dispute_follow_ups.clone()),
    };
    let (Some(text), Some(policy), true) = (text, policy, errors.is_empty()) else {
        return Err(ApiError::from(Error::Validation(errors)));
    };
    disputes::apply(
        &state,
        &caller,
        dispute_id,
        "agreement_recorded",
        async |tx, dispute, now| {
            let ids = tx.next_follow_up_ids(policy.days().len()).await?;
            let moved = dispute
                .record_agreement(text, &policy, &ids, caller.actor.clone(), now)
                .map_err(refused)?;
            Ok(Move::new(moved, "agreement"))
        },
    )
    .await?;
    answer(&state, &caller, dispute_id).await
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FailDispute {
    /// Why mediation failed, 1 to 1000 characters.
    reason: Option<String>,
}

/// 调解不成: ends mediation without an agreement, and raises an
/// `agreement_failed` warning on the case.
#[utoipa::path(post, path = "/api/v1/disputes/{dispute_id}/fail", request_body = FailDispute,
    params(("dispute_id" = i64, Path, description = "dispute id")),
    responses((status = 200, body = DisputeView), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
pub async fn fail(
    State(state): State<AppState>,
    caller: Caller,
    Path(dispute_id): Path<i64>,
    ApiJson(body): ApiJson<FailDispute>,
) -> ApiResult<Json<DisputeView>> {
    caller.require(Permission::HandleDisputes)?;
    visible_dispute(&state, &caller, dispute_id).await?;
    let mut errors = Vec::new();
    let Some(reason) = required_text("reason", &body.reason, 1000, &mut errors) else {
        return Err(ApiError::from(Error::Validation(errors)));
    };
    disputes::apply(
        &state,
        &caller,
        dispute_id,
        "failed",
        async |_, dispute, now| {
            let moved = dispute
                .fail(reason.clone(), caller.actor.clone(), now)
                .map_err(refused)?;
            let warning = NewWarning::agreement_failed(
                &moved.state,
                AgreementFailure::MediationFailed,
                None,
                reason.as_str(),
                now,
            );
            Ok(Move::new(moved, "failed").raising([warning]))
        },
    )
    .await?;
    answer(&state, &caller, dispute_id).await
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferDispute {
    /// court, shared_court (共享法庭) or department.
    target: Option<String>,
    /// Which court or department, 1 to 200 characters.
    to: Option<String>,
    /// Why, 1 to 1000 characters.
    reason: Option<String>,
}

/// 移交: to a court, the shared court or a department.
#[utoipa::path(post, path = "/api/v1/disputes/{dispute_id}/transfer", request_body = TransferDispute,
    params(("dispute_id" = i64, Path, description = "dispute id")),
    responses((status = 200, body = DisputeView), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
pub async fn transfer(
    State(state): State<AppState>,
    caller: Caller,
    Path(dispute_id): Path<i64>,
    ApiJson(body): ApiJson<TransferDispute>,
) -> ApiResult<Json<DisputeView>> {
    caller.require(Permission::HandleDisputes)?;
    visible_dispute(&state, &caller, dispute_id).await?;
    let mut errors = Vec::new();
    let target = match body
        .target
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        None => {
            errors.push(FieldError::new("target", Reason::Required));
            None
        }
        Some(t) => TransferTarget::from_str(t).map_err(|e| errors.push(e)).ok(),
    };
    let to = required_text("to", &body.to, 200, &mut errors);
    let reason = required_text("reason", &body.reason, 1000, &mut errors);
    let (Some(target), Some(to), Some(reason), true) = (target, to, reason, errors.is_empty())
    else {
        return Err(ApiError::from(Error::Validation(errors)));
    };
    disputes::apply(
        &state,
        &caller,
        dispute_id,
        "transferred",
        async |_, dispute, now| {
            let moved = dispute
                .transfer(target, to, reason, caller.actor.clone(), now)
                .map_err(refused)?;
            Ok(Move::new(moved, format!("transferred {}", target.as_str())))
        },
    )
    .await?;
    answer(&state, &caller, dispute_id).await
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordFollowUp {
    /// The pending visit of this case.
    follow_up_id: Option<i64>,
    /// Whether the agreement holds; a broken one sends the case back to
    /// mediation and raises an `agreement_failed` warning.
    holding: Option<bool>,
    /// What the visit found, 1 to 1000 characters.
    note: Option<String>,
}

/// 回访: records a follow-up visit as holding or broken.
#[utoipa::path(post, path = "/api/v1/disputes/{dispute_id}/follow-ups", request_body = RecordFollowUp,
    params(("dispute_id" = i64, Path, description = "dispute id")),
    responses((status = 200, body = DisputeView), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
pub async fn record_follow_up(
    State(state): State<AppState>,
    caller: Caller,
    Path(dispute_id): Path<i64>,
    ApiJson(body): ApiJson<RecordFollowUp>,
) -> ApiResult<Json<DisputeView>> {
    caller.require(Permission::HandleDisputes)?;
    visible_dispute(&state, &caller, dispute_id).await?;
    let mut errors = Vec::new();
    if body.follow_up_id.is_none() {
        errors.push(FieldError::new("follow_up_id", Reason::Required));
    }
    if body.holding.is_none() {
        errors.push(FieldError::new("holding", Reason::Required));
    }
    let note = required_text("note", &body.note, 1000, &mut errors);
    let (Some(follow_up_id), Some(holding), Some(note), true) =
        (body.follow_up_id, body.holding, note, errors.is_empty())
    else {
        return Err(ApiError::from(Error::Validation(errors)));
    };
    disputes::apply(
        &state,
        &caller,
        dispute_id,
        "follow_up_recorded",
        async |_, dispute, now| {
            let moved = dispute
                .record_follow_up(
                    follow_up_id,
                    holding,
                    note.clone(),
                    caller.actor.clone(),
                    now,
                )
                .map_err(refused)?;
            let broken = (!holding).then(|| {
                NewWarning::agreement_failed(
                    &moved.state,
                    AgreementFailure::Broken,
                    Some(follow_up_id),
                    note.as_str(),
                    now,
                )
            });
            let detail = format!(
                "follow_up {follow_up_id} {}",
                if holding { "holding" } else { "broken" }
            );
            Ok(Move::new(moved, detail).raising(broken))
        },
    )
    .await?;
    answer(&state, &caller, dispute_id).await
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseDispute {
    /// 结案意见, 1 to 1000 characters.
    note: Option<String>,
}

/// 结案: after every follow-up held, or after a failure or a transfer.
#[utoipa::path(post, path = "/api/v1/disputes/{dispute_id}/close", request_body = CloseDispute,
    params(("dispute_id" = i64, Path, description = "dispute id")),
    responses((status = 200, body = DisputeView), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
pub async fn close(
    State(state): State<AppState>,
    caller: Caller,
    Path(dispute_id): Path<i64>,
    ApiJson(body): ApiJson<CloseDispute>,
) -> ApiResult<Json<DisputeView>> {
    caller.require(Permission::HandleDisputes)?;
    visible_dispute(&state, &caller, dispute_id).await?;
    let mut errors = Vec::new();
    let Some(note) = required_text("note", &body.note, 1000, &mut errors) else {
        return Err(ApiError::from(Error::Validation(errors)));
    };
    disputes::apply(
        &state,
        &caller,
        dispute_id,
        "closed",
        async |_, dispute, now| {
            let moved = dispute
                .close(note, caller.actor.clone(), now)
                .map_err(refused)?;
            Ok(Move::new(moved, "closed"))
        },
    )
    .await?;
    answer(&state, &caller, dispute_id).await
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkIncident {
    /// An incident of the jurisdiction about the same dispute.
    incident_id: Option<i64>,
}

/// 关联警情: links another incident to the case; linking one already
/// linked changes nothing.
#[utoipa::path(post, path = "/api/v1/disputes/{dispute_id}/incidents", request_body = LinkIncident,
    params(("dispute_id" = i64, Path, description = "dispute id")),
    responses((status = 200, body = DisputeView), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
pub async fn link_incident(
    State(state): State<AppState>,
    caller: Caller,
    Path(dispute_id): Path<i64>,
    ApiJson(body): ApiJson<LinkIncident>,
) -> ApiResult<Json<DisputeView>> {
    caller.require(Permission::HandleDisputes)?;
    visible_dispute(&state, &caller, dispute_id).await?;
    let incident_id = body
        .incident_id
        .ok_or_else(|| FieldError::new("incident_id", Reason::Required))?;
    visible_incident(&state, &caller, incident_id)
        .await
        .map_err(|_| Error::field(FieldError::new("incident_id", Reason::NotFound)))?;
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    let dispute = handled(&state, &caller, &mut tx, dispute_id).await?;
    let moved = dispute
        .link_incident(incident_id, caller.actor.clone(), now)
        .map_err(refused)?;
    if tx
        .link_dispute_incident(dispute_id, incident_id, now)
        .await?
    {
        tx.append_dispute_events(dispute_id, &moved.events).await?;
        let audit = caller
            .audit(AuditAction::Update, "dispute")
            .object(dispute_id)
            .detail(format!("incident {incident_id} linked"));
        tx.append_audit(&audit, now).await?;
        tx.commit().await?;
        publish(&state, &moved.state, "incident_linked", &[]).await;
    }
    answer(&state, &caller, dispute_id).await
}
