//! 矛盾纠纷: reading a case within the caller's jurisdiction, and moving it:
//! every move checks the permission and the jurisdiction ([`apply`]) and
//! then takes the steps of [`transition::apply`] — the case locked in a
//! transaction, the core's transition, the case with its events, the
//! warnings it raises and the audit entry written, the commit, the live
//! event.

use std::str::FromStr;

use fengqiao_core::audit::{Actor, AuditAction, AuditEvent};
use fengqiao_core::dispute::{
    CaseText, Dispute, DisputeError, DisputeEvent, DisputeSource, DisputeType, MediationSession,
    Mediators, NewDispute, Party, Risk,
};
use fengqiao_core::error::{FieldError, Reason};
use fengqiao_core::label::Label;
use fengqiao_core::org::Organisation;
use fengqiao_core::personal::PersonalDataCipher;
use fengqiao_core::role::Permission;
use fengqiao_core::timeline::{TimelineEvent, Transition};
use fengqiao_core::warning::NewWarning;
use fengqiao_core::Timestamp;
use fengqiao_store::{DisputeRecord, StoreError, StoredParty, Tx};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::access::Caller;
use super::field_reports::visible_report;
use super::format::parse_time;
use super::idempotency::{self, request_hash, Outcome, Written};
use super::incidents::visible_incident;
use super::transition::{self, Record};
use super::{addresses, threat_words, Error, Result};
use crate::live::{LiveEvent, LiveKind};
use crate::state::AppState;

/// A case of a station in the caller's subtree, with that station; else
/// 404 as if it did not exist.
pub async fn visible_dispute(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> Result<(DisputeRecord, Organisation)> {
    let record = state.store.dispute(id).await?.ok_or(Error::NotFound)?;
    let org = state
        .store
        .organisation(record.dispute.org_id)
        .await?
        .ok_or(Error::NotFound)?;
    if !caller.sees(&org.path) {
        return Err(Error::NotFound);
    }
    Ok((record, org))
}

/// Raises each warning on the case (one open per case and rule: a rule
/// already open adds nothing), with its timeline event and audit entry.
pub async fn raise(
    tx: &mut Tx,
    dispute: &Dispute,
    warnings: Vec<NewWarning>,
    actor: Actor,
    now: Timestamp,
) -> Result<Vec<i64>, StoreError> {
    let mut raised = Vec::new();
    for warning in warnings {
        let Some(id) = tx.raise_warning(&warning, now).await? else {
            continue;
        };
        let event = DisputeEvent::WarningRaised {
            warning_id: id,
            rule: warning.rule().as_str().into(),
        };
        tx.append_dispute_events(dispute.id, &[TimelineEvent::new(now, actor.clone(), event)])
            .await?;
        let audit = AuditEvent::new(Actor::System, AuditAction::Create, "warning")
            .object(id)
            .org(Some(dispute.org_id))
            .detail(format!("{} dispute {}", warning.rule(), dispute.id));
        tx.append_audit(&audit, now).await?;
        raised.push(id);
    }
    Ok(raised)
}

/// After the commit: the station and everything above it see the change.
pub async fn publish(state: &AppState, dispute: &Dispute, change: &str, warnings: &[i64]) {
    let org = match state.store.organisation(dispute.org_id).await {
        Ok(Some(org)) => org,
        Ok(None) => return,
        Err(err) => {
            tracing::warn!(error = %err, dispute = dispute.id, "dispute change not published");
            return;
        }
    };
    state.live.publish(LiveEvent {
        kind: LiveKind::Dispute,
        id: dispute.id,
        incident_id: None,
        change: change.into(),
        orgs: vec![org.path.clone()],
    });
    // Warnings also reach the people they were delivered to.
    for warning in warnings {
        super::warnings::publish(state, *warning, "raised").await;
    }
}

/// A refused transition as a 409 that says why in Chinese. Nothing changed.
pub fn refused(err: DisputeError) -> Error {
    let zh = match &err {
        DisputeError::NotAllowed { action, from } => {
            let action = match *action {
                "mediated" => "记录调解",
                "resolved" => "登记调解协议",
                "failed" => "登记调解不成",
                "transferred" => "移交",
                "followed up" => "登记回访",
                "closed" => "结案",
                "linked" => "关联警情",
                other => other,
            };
            format!("该纠纷当前状态为「{}」，不能{action}。", from.zh())
        }
        DisputeError::NoSession => "尚无调解记录，请先记录至少一次调解。".into(),
        DisputeError::FollowUpNotPending { id } => {
            format!("回访 {id} 不是该纠纷待进行的回访（可能已登记或已取消）。")
        }
        DisputeError::FollowUpsPending { ids } => format!(
            "仍有未完成的回访（{}），不能结案。",
            ids.iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join("、")
        ),
        DisputeError::SessionInFuture => "调解时间不能晚于当前时间。".into(),
    };
    Error::Conflict {
        zh,
        en: format!("{err}."),
    }
}

/// What a move writes besides the case: the warnings it raises, the change
/// it publishes and what the audit entry says.
pub struct Move {
    pub moved: Transition<Dispute, DisputeEvent>,
    pub warnings: Vec<NewWarning>,
    pub change: &'static str,
    pub detail: String,
}

impl Move {
    pub fn new(
        moved: Transition<Dispute, DisputeEvent>,
        change: &'static str,
        detail: impl Into<String>,
    ) -> Move {
        Move {
            moved,
            warnings: Vec::new(),
            change,
            detail: detail.into(),
        }
    }

    pub fn raising(mut self, warnings: impl IntoIterator<Item = NewWarning>) -> Move {
        self.warnings.extend(warnings);
        self
    }
}

/// A move writes the case, its events and the warnings it raised (each a
/// `warning_raised` event and an audit entry); the station and everything
/// above it see it, and each warning the people it was delivered to.
impl Record for Dispute {
    const AUDITED_AS: &'static str = "dispute";
    type Locked = Dispute;
    type Moved = Move;
    /// The ids of the warnings raised.
    type Written = Vec<i64>;

    async fn lock(tx: &mut Tx, id: i64) -> Result<Dispute> {
        tx.lock_dispute(id).await?.ok_or(Error::NotFound)
    }

    fn audited(moved: &Move) -> (i64, String) {
        (moved.moved.state.id, moved.detail.clone())
    }

    async fn write(tx: &mut Tx, caller: &Caller, moved: &Move, now: Timestamp) -> Result<Vec<i64>> {
        let dispute = &moved.moved.state;
        tx.update_dispute(dispute, now).await?;
        tx.append_dispute_events(dispute.id, &moved.moved.events)
            .await?;
        Ok(raise(
            tx,
            dispute,
            moved.warnings.clone(),
            caller.actor.clone(),
            now,
        )
        .await?)
    }

    async fn publish(state: &AppState, moved: &Move, raised: Vec<i64>) {
        publish(state, &moved.moved.state, moved.change, &raised).await;
    }
}

/// One move of case `id` by `caller`, who must handle disputes within its
/// jurisdiction: `decide` gets the locked case, the transaction (for rows of
/// its own, such as a session) and the time, and returns the core's
/// move; [`transition::apply`] does the rest.
pub async fn apply(
    state: &AppState,
    caller: &Caller,
    id: i64,
    decide: impl AsyncFnOnce(&mut Tx, Dispute, Timestamp) -> Result<Move>,
) -> Result<Dispute> {
    caller.require(Permission::HandleDisputes)?;
    visible_dispute(state, caller, id).await?;
    let moved = transition::apply::<Dispute>(state, caller, id, decide).await?;
    Ok(moved.moved.state)
}

// ---------------------------------------------------------------------------
// Registration, sessions and links

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
    /// 1 to 20 parties, besides the incident's caller when
    /// `reporter_as_party`.
    #[serde(default)]
    parties: Vec<PartyInput>,
    /// From an incident: its caller (报警人) becomes the first party, read
    /// from the incident's encrypted record — the page that offers it only
    /// ever shows the caller masked. The caller must have given a name.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    reporter_as_party: bool,
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

/// The incident's caller as a party: their name, phone and ID number as
/// the incident keeps them. A caller who gave no name cannot be one.
fn reporter_party(
    state: &AppState,
    incident: &fengqiao_store::StoredIncident,
) -> std::result::Result<Party, FieldError> {
    let open = |stored: &Option<Vec<u8>>| {
        stored
            .as_deref()
            .and_then(|bytes| state.cipher.decrypt(bytes).ok())
    };
    let unnamed = || {
        FieldError::new(
            "reporter_as_party",
            Reason::Conflict {
                detail: "reporter_unnamed",
            },
        )
    };
    let name = open(&incident.reporter_name).ok_or_else(unnamed)?;
    Ok(Party::Person {
        name,
        phone: open(&incident.reporter_phone),
        id_number: open(&incident.reporter_id_number),
    })
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
) -> Result<Result<(), FieldError>> {
    let refused = || Err(FieldError::new("officer_user_id", Reason::NotFound));
    let Some(user) = state.store.user(id).await? else {
        return Ok(refused());
    };
    match state.store.organisation(user.user.org_id).await? {
        Some(org) if caller.sees(&org.path) => Ok(Ok(())),
        _ => Ok(refused()),
    }
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
) -> Result<bool> {
    match tx
        .insert_dispute_request_key(&caller.actor.to_stored(), key, hash, dispute_id, now)
        .await
    {
        Ok(()) => Ok(true),
        Err(StoreError::Duplicate(_)) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

pub fn optional_text(
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

pub fn required_text(
    field: &str,
    text: &Option<String>,
    max: usize,
    errors: &mut Vec<FieldError>,
) -> Option<CaseText> {
    CaseText::parse(field, text.as_deref().unwrap_or(""), max)
        .map_err(|e| errors.push(e))
        .ok()
}

pub fn optional_time(
    field: &'static str,
    text: &Option<String>,
    errors: &mut Vec<FieldError>,
) -> Option<Timestamp> {
    let text = text.as_deref().map(str::trim).filter(|t| !t.is_empty())?;
    parse_time(field, Some(text))
        .map_err(|e| errors.push(e))
        .ok()
}

/// The hash a dispute key was used with and the case it made or changed.
async fn keyed(state: &AppState, caller: &Caller, key: &str) -> Result<Option<(Vec<u8>, i64)>> {
    let actor = caller.actor.to_stored();
    Ok(state.store.dispute_request_key(&actor, key).await?)
}

/// A case within the caller's jurisdiction, as it is now.
async fn case(state: &AppState, caller: &Caller, id: i64) -> Result<DisputeRecord> {
    Ok(visible_dispute(state, caller, id).await?.0)
}

/// 登记: a new dispute case, from an incident or a field report (one case
/// per source: a second registration answers with the first case) or at
/// the station. With a key, a retry answers with the case it made.
#[tracing::instrument(skip_all, err(level = "info"))]
pub async fn register(
    state: &AppState,
    caller: &Caller,
    key: Option<&str>,
    body: &RegisterDispute,
) -> Result<(Outcome, DisputeRecord)> {
    caller.require(Permission::HandleDisputes)?;
    let hash = request_hash("register", body)?;
    idempotency::once(
        key,
        &hash,
        |key| keyed(state, caller, key),
        |id| case(state, caller, id),
        register_once(state, caller, key, &hash, body),
    )
    .await
}

async fn register_once(
    state: &AppState,
    caller: &Caller,
    key: Option<&str>,
    hash: &[u8],
    body: &RegisterDispute,
) -> Result<Written<DisputeRecord>> {
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
    let mut parties = if body.reporter_as_party && body.parties.is_empty() {
        Vec::new()
    } else {
        parse_parties(&body.parties, &mut errors)
    };
    if body.reporter_as_party && source != Some(DisputeSource::Incident) {
        errors.push(FieldError::new(
            "reporter_as_party",
            Reason::Conflict {
                detail: "reporter_needs_incident",
            },
        ));
    }
    let risk = Risk::parse(Some(&body.risk_level), Some(&body.risk_reason))
        .map_err(|e| errors.extend(e))
        .ok();
    let mediators = Mediators::parse(&body.mediators)
        .map_err(|e| errors.push(e))
        .ok();
    if let Some(officer) = body.officer_user_id {
        if let Err(e) = check_officer(state, caller, officer).await? {
            errors.push(e);
        }
    }

    // Where the case is and whose it is: the incident's, or as given.
    let mut place = None;
    match source {
        Some(DisputeSource::Incident) => match body.incident_id {
            None => errors.push(FieldError::new("incident_id", Reason::Required)),
            Some(incident_id) => {
                let record = visible_incident(state, caller, incident_id)
                    .await
                    .map_err(|_| Error::field(FieldError::new("incident_id", Reason::NotFound)))?;
                if let Some(existing) = state
                    .store
                    .dispute_from_source(DisputeSource::Incident, incident_id)
                    .await?
                {
                    let (record, _) = visible_dispute(state, caller, existing).await?;
                    return Ok(Written::Found(record));
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
                if body.reporter_as_party {
                    match reporter_party(state, &i) {
                        Ok(party) => parties.insert(0, party),
                        Err(e) => errors.push(e),
                    }
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
                let report = visible_report(state, caller, report_id)
                    .await
                    .map_err(|_| {
                        Error::field(FieldError::new("field_report_id", Reason::NotFound))
                    })?;
                if let Some(existing) = state
                    .store
                    .dispute_from_source(DisputeSource::FieldReport, report_id)
                    .await?
                {
                    let (record, _) = visible_dispute(state, caller, existing).await?;
                    return Ok(Written::Found(record));
                }
                // Only a report of a dispute becomes a case (the core's rule).
                if let Err(refusal) = report.register_as_dispute(0) {
                    return Err(Error::Conflict {
                        zh: "只有“矛盾纠纷”类的网格上报才能登记为纠纷案件。".into(),
                        en: format!("{refusal}."),
                    });
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
        return Err(Error::Validation(errors));
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
            let (record, _) = visible_dispute(state, caller, existing).await?;
            return Ok(Written::Found(record));
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
            return Err(Error::Internal(format!(
                "field report {report_id} was registered without its case"
            )));
        }
    }
    tx.append_dispute_events(id, &registered.events).await?;
    if let Some(key) = key {
        if !record_key(&mut tx, caller, key, hash, id, now).await? {
            return Ok(Written::KeyUsed);
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
    publish(state, &registered.state, "registered", &[]).await;
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
    let (record, _) = visible_dispute(state, caller, id).await?;
    Ok(Written::Created(record))
}

/// 调解: records a session (the first starts mediation). Threat or
/// violence words in it (negation understood) raise a `threat_words`
/// warning on the case. With a key, a retry answers with the case as the
/// session left it, without a second session.
pub async fn add_session(
    state: &AppState,
    caller: &Caller,
    key: Option<&str>,
    dispute_id: i64,
    body: &AddSession,
) -> Result<(Outcome, DisputeRecord)> {
    caller.require(Permission::HandleDisputes)?;
    visible_dispute(state, caller, dispute_id).await?;
    let hash = request_hash(&format!("session {dispute_id}"), body)?;
    let session = async {
        let moved = record_session(state, caller, key, &hash, dispute_id, body).await?;
        Ok(match moved {
            Some(_) => Written::Created(case(state, caller, dispute_id).await?),
            None => Written::KeyUsed,
        })
    };
    idempotency::once(
        key,
        &hash,
        |key| keyed(state, caller, key),
        |id| case(state, caller, id),
        session,
    )
    .await
}

/// The session's move; `None` when a request with the same key committed
/// first.
async fn record_session(
    state: &AppState,
    caller: &Caller,
    key: Option<&str>,
    hash: &[u8],
    dispute_id: i64,
    body: &AddSession,
) -> Result<Option<Move>> {
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
        return Err(Error::Validation(errors));
    };

    transition::apply_unless_made::<Dispute>(state, caller, dispute_id, async |tx, dispute, now| {
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
        if let Some(key) = key {
            if !record_key(tx, caller, key, hash, dispute_id, now).await? {
                return Ok(None);
            }
        }
        let warnings = threat_words::on_session(&moved.state, &session, now);
        let detail = format!("session {}", session.id);
        Ok(Some(
            Move::new(moved, "session_recorded", detail).raising(warnings),
        ))
    })
    .await
}

/// 关联警情: links another incident of the jurisdiction to the case;
/// linking one already linked changes nothing. Not a [`transition::apply`]
/// move: the case's row is not written (a link is no progress of the
/// mediation, whose clock `update_dispute` would restart), only the link,
/// its event and the audit entry.
pub async fn link_incident(
    state: &AppState,
    caller: &Caller,
    dispute_id: i64,
    incident_id: i64,
) -> Result<DisputeRecord> {
    caller.require(Permission::HandleDisputes)?;
    visible_dispute(state, caller, dispute_id).await?;
    visible_incident(state, caller, incident_id)
        .await
        .map_err(|_| Error::field(FieldError::new("incident_id", Reason::NotFound)))?;
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    let dispute = Dispute::lock(&mut tx, dispute_id).await?;
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
        publish(state, &moved.state, "incident_linked", &[]).await;
    }
    case(state, caller, dispute_id).await
}
