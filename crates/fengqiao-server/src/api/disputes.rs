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
use fengqiao_core::dispute::{CaseText, Dispute, DisputeStatus, FollowUpPolicy, TransferTarget};
use fengqiao_core::error::{FieldError, Reason};
use fengqiao_core::personal::PersonalDataCipher;
use fengqiao_core::role::Permission;
use fengqiao_core::warning::{AgreementFailure, NewWarning};
use fengqiao_core::Timestamp;
use fengqiao_store::{DisputeRecord, DisputeSummary, StoredParty};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::{created_or_found, idempotency_key};
use crate::error::{ApiError, ApiResult, Problem};
use crate::json::ApiJson;
use crate::services::access::Caller;
use crate::services::disputes::{
    self, refused, required_text, visible_dispute, AddSession, Move, RegisterDispute,
};
use crate::services::format::{masked, rfc3339};
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
    // Refused before the header is read, as the service would.
    caller.require(Permission::HandleDisputes)?;
    let key = idempotency_key(&headers)?;
    let (outcome, record) = disputes::register(&state, &caller, key.as_deref(), &body).await?;
    Ok((
        created_or_found(outcome),
        Json(dispute_view(&state, &record).await?),
    ))
}

async fn answer(state: &AppState, caller: &Caller, id: i64) -> ApiResult<Json<DisputeView>> {
    let (record, _) = visible_dispute(state, caller, id).await?;
    Ok(Json(dispute_view(state, &record).await?))
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
    // Refused, and a case out of reach not found, before the header is read.
    caller.require(Permission::HandleDisputes)?;
    visible_dispute(&state, &caller, dispute_id).await?;
    let key = idempotency_key(&headers)?;
    let (outcome, record) =
        disputes::add_session(&state, &caller, key.as_deref(), dispute_id, &body).await?;
    Ok((
        created_or_found(outcome),
        Json(dispute_view(&state, &record).await?),
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
    disputes::apply(&state, &caller, dispute_id, async |tx, dispute, now| {
        let ids = tx.next_follow_up_ids(policy.days().len()).await?;
        let moved = dispute
            .record_agreement(text, &policy, &ids, caller.actor.clone(), now)
            .map_err(refused)?;
        Ok(Move::new(moved, "agreement_recorded", "agreement"))
    })
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
    disputes::apply(&state, &caller, dispute_id, async |_, dispute, now| {
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
        Ok(Move::new(moved, "failed", "failed").raising([warning]))
    })
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
    disputes::apply(&state, &caller, dispute_id, async |_, dispute, now| {
        let moved = dispute
            .transfer(target, to, reason, caller.actor.clone(), now)
            .map_err(refused)?;
        Ok(Move::new(
            moved,
            "transferred",
            format!("transferred {}", target.as_str()),
        ))
    })
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
    disputes::apply(&state, &caller, dispute_id, async |_, dispute, now| {
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
        Ok(Move::new(moved, "follow_up_recorded", detail).raising(broken))
    })
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
    disputes::apply(&state, &caller, dispute_id, async |_, dispute, now| {
        let moved = dispute
            .close(note, caller.actor.clone(), now)
            .map_err(refused)?;
        Ok(Move::new(moved, "closed", "closed"))
    })
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
    let record = disputes::link_incident(&state, &caller, dispute_id, incident_id).await?;
    Ok(Json(dispute_view(&state, &record).await?))
}
