//! 接警: the one intake pipeline every source goes through — the API, the
//! command room's own entry, Open311, a building's plate, and later sensors
//! and detectors: validate, resolve the location against the registry,
//! triage the text, route it, link repeat calls, look for threat words and
//! store it all in one transaction, then publish.
//!
//! Nothing is stored when the report is wrong. The core's transitions decide
//! every change; one transaction writes the incident, its timeline, its work
//! order, its idempotency key and the audit entry.

use fengqiao_core::audit::Actor;
use fengqiao_core::category::Category;
use fengqiao_core::china_time::{ChinaDay, DAY_MS};
use fengqiao_core::error::{FieldError, Reason};
use fengqiao_core::geo::Wgs84;
use std::str::FromStr;

use fengqiao_core::incident::{
    IncidentInput, IncidentSource, IncidentStatus, NewIncident, Priority, Settlement,
    Triage as CoreTriage, TriagedBy,
};
use fengqiao_core::org::DivisionCode;
use fengqiao_core::personal::PersonalData;
use fengqiao_core::role::Permission;
use fengqiao_core::work_order::HandlingNote;
use fengqiao_core::Timestamp;
use fengqiao_store::{Building, IncidentExtras, IncidentRecord, Tx};
use fengqiao_triage::TriageSuggestion;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::access::Caller;
use super::group_commit::{self, Created, PreparedIntake};
use super::idempotency::{self, Outcome, Written};
use super::incidents::{self, visible_incident};
use super::routing::{route, triage, Target};
use super::{addresses, warnings, Error, Result};
use crate::state::AppState;

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportIncident {
    /// call_110, walk_in, phone, grid_worker, qr_report, sensor,
    /// video_analytics, open311 or told_officer.
    source: String,
    /// What the caller said, 1 to 2000 characters.
    text: String,
    /// Where, as the caller said it, 1 to 200 characters.
    location_text: String,
    /// Personal data: stored encrypted, shown masked.
    reporter_name: Option<String>,
    reporter_phone: Option<String>,
    /// 身份证号, from a caller at the desk: stored encrypted, shown masked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reporter_id_number: Option<String>,
    /// The category the operator chose over the rules' suggestion (a code
    /// of the triage table); needs `dispatch_incidents`. Both are kept in
    /// the timeline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    category: Option<String>,
    /// A call that is only a question, ended at the desk: answered (当场答复)
    /// or referred (告知转办), with `settlement_note`; needs
    /// `dispatch_incidents`. No work order is made, and the figures count
    /// it as resolved on the spot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    settlement: Option<String>,
    /// The answer given, or where the caller was referred: 1 to 1000
    /// characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    settlement_note: Option<String>,
    /// The operator at the desk routes or dispatches it from the board's
    /// pane: intake triages it and the command room holds it, handing
    /// nothing to anyone. Needs `dispatch_incidents`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hold_for_routing: Option<bool>,
}

impl ReportIncident {
    /// A report as another entry point (Open311, the plate page) received it.
    pub fn new(
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
            reporter_id_number: None,
            category: None,
            settlement: None,
            settlement_note: None,
            hold_for_routing: None,
        }
    }
}

const TEN_MINUTES_MS: i64 = 10 * 60_000;

/// The intake pipeline every source goes through — the API, Open311, the
/// public plate page: validate, resolve, triage, route and store in one
/// transaction, with `key` making a retry return the first incident. The
/// caller's permission is the entry point's business.
pub async fn take_in(
    state: &AppState,
    caller: &Caller,
    key: Option<&str>,
    body: &ReportIncident,
) -> Result<(Outcome, IncidentRecord)> {
    take_in_known(state, caller, key, body, &Known::default()).await
}

/// What an entry point knows before intake: the category its client chose
/// (an Open311 service), the building (a plate's page) and the
/// coordinates the client sent.
#[derive(Default)]
pub struct Known<'a> {
    pub category: Option<&'a str>,
    pub building: Option<&'a Building>,
    pub coordinates: Option<Wgs84>,
    /// Counted in the intake's transaction; over it, nothing is stored.
    pub limit: Option<&'a PlateLimit>,
    /// The field report (e治采) taken in: once per report.
    pub field_report: Option<i64>,
}

/// [`take_in`] with what the entry point already knows used instead of
/// asking the resolver and the rules.
#[tracing::instrument(skip_all, err(level = "info"), fields(source = %body.source))]
pub async fn take_in_known(
    state: &AppState,
    caller: &Caller,
    key: Option<&str>,
    body: &ReportIncident,
    known: &Known<'_>,
) -> Result<(Outcome, IncidentRecord)> {
    let settlement = desk_choices(caller, body)?;
    let hold = settlement.is_some() || body.hold_for_routing == Some(true);
    let hash = idempotency::body_hash(body)?;
    let actor = caller.actor.to_stored();
    let actor = &actor;
    let (outcome, record) = idempotency::once(
        key,
        &hash,
        |key| async move {
            let first = state.store.idempotency_key(actor, key).await?;
            Ok(first.map(|first| (first.request_hash, first.incident_id)))
        },
        |id| visible_incident(state, caller, id),
        take_in_new(state, caller, key, &hash, body, known, hold),
    )
    .await?;
    // A question ends at the desk: the incident the intake held is settled
    // (a replay finds it settled already). Held and durable before this
    // step, it waits on the board should the step fail.
    match settlement {
        Some((how, note)) if awaits_routing(&record) => {
            let settled =
                incidents::settle_on_the_spot(state, caller, record.incident.id, how, note).await?;
            Ok((outcome, settled))
        }
        _ => Ok((outcome, record)),
    }
}

fn awaits_routing(record: &IncidentRecord) -> bool {
    matches!(
        record.incident.status,
        IncidentStatus::Triaged | IncidentStatus::Reopened
    )
}

/// What only the command room may decide at intake — the category over
/// the rules' and a settlement on the spot — checked before anything is
/// written: the permission, then every field at once.
fn desk_choices(
    caller: &Caller,
    body: &ReportIncident,
) -> Result<Option<(Settlement, HandlingNote)>> {
    if body.category.is_some() || body.settlement.is_some() || body.hold_for_routing.is_some() {
        caller.require(Permission::DispatchIncidents)?;
    }
    let Some(how) = optional(&body.settlement) else {
        return match optional(&body.settlement_note) {
            Some(_) => Err(FieldError::new("settlement", Reason::Required).into()),
            None => Ok(None),
        };
    };
    let mut errors = Vec::new();
    let how = Settlement::from_str(how).map_err(|e| errors.push(e)).ok();
    let note = HandlingNote::parse(
        "settlement_note",
        body.settlement_note.as_deref().unwrap_or(""),
    )
    .map_err(|e| errors.push(e))
    .ok();
    match (how, note) {
        (Some(how), Some(note)) => Ok(Some((how, note))),
        _ => Err(Error::Validation(errors)),
    }
}

/// The intake of a request its key (if any) has not made yet.
async fn take_in_new(
    state: &AppState,
    caller: &Caller,
    key: Option<&str>,
    request_hash: &[u8],
    body: &ReportIncident,
    known: &Known<'_>,
    hold: bool,
) -> Result<Written<IncidentRecord>> {
    let new = parse_body(body)?;
    let (name, phone) = (reporter_name(body)?, reporter_phone(body)?);
    let id_number = reporter_id_number(body)?;
    let overridden = optional(&body.category).map(chosen).transpose()?;

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
    // The operator's category decides who handles it.
    let decided = overridden.as_ref().unwrap_or(&suggestion);
    let mut route = route(state, caller, location_code.as_ref(), decided).await?;
    if hold {
        // To be settled at the desk: the command room holds it, no one
        // else is handed anything.
        route.target = Target::Unrouted;
    }
    let overridden = match overridden {
        Some(chosen) if chosen.category != suggestion.category => Some(self::core_triage(&chosen)?),
        _ => None,
    };

    let extras = IncidentExtras {
        reporter_name: name.as_ref().map(|n| state.cipher.encrypt(n)),
        reporter_phone: phone.as_ref().map(|p| state.cipher.encrypt(p)),
        reporter_phone_index: phone.as_ref().map(|p| state.cipher.blind_index(p)),
        reporter_id_number: id_number.as_ref().map(|n| state.cipher.encrypt(n)),
        community_code: location_code.map(|c| c.as_str().to_owned()),
        triage_matched: suggestion.matched.iter().map(|m| m.word.clone()).collect(),
    };
    let (station, mut orgs) = (route.station.id, vec![route.command_room.id]);
    if let Target::Department { owner, .. } = &route.target {
        orgs.push(owner.id);
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
        overridden,
        field_report: known.field_report,
    };
    let created = match state.intake.write(prepared).await? {
        group_commit::Written::Created(created) => created,
        // An intake with the same key committed first: it answers.
        group_commit::Written::KeyUsed => return Ok(Written::KeyUsed),
        // The field report is an incident already: that one answers.
        group_commit::Written::Found(id) => {
            return Ok(Written::Found(visible_incident(state, caller, id).await?))
        }
    };
    let Created {
        record,
        warnings: raised,
    } = *created;
    let id = record.incident.id;
    incidents::publish(state, id, station, "created", orgs).await;
    for warning_id in raised {
        warnings::publish(state, warning_id, "raised").await;
    }
    Ok(Written::Created(record))
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

fn reporter_id_number(body: &ReportIncident) -> Result<Option<PersonalData>, FieldError> {
    optional(&body.reporter_id_number)
        .map(|n| PersonalData::id_number("reporter_id_number", n))
        .transpose()
}

/// Every wrong field at once, named as the body names them.
fn parse_body(body: &ReportIncident) -> Result<NewIncident> {
    let mut errors = Vec::new();
    let name = reporter_name(body)
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    let phone = reporter_phone(body)
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    let id_number = reporter_id_number(body)
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    if let Some(code) = optional(&body.category) {
        if let Err(e) = chosen(code) {
            errors.extend(match e {
                Error::Validation(fields) => fields,
                _ => Vec::new(),
            });
        }
    }
    // The core decides which sources may carry whom: a name or an ID
    // number says more than a phone, so it is the one checked when given.
    let reporter_field = if name.is_some() {
        "reporter_name"
    } else if id_number.is_some() {
        "reporter_id_number"
    } else {
        "reporter_phone"
    };
    let parsed = NewIncident::parse(IncidentInput {
        source: &body.source,
        text: &body.text,
        location_text: &body.location_text,
        reporter: name.or(id_number).or(phone),
        ..Default::default()
    });
    match parsed {
        Ok(new) if errors.is_empty() => Ok(new),
        Ok(_) => Err(Error::Validation(errors)),
        Err(core) => {
            errors.extend(core.into_iter().map(|mut e| {
                e.field = match e.field.as_str() {
                    "location" => "location_text".into(),
                    "reporter" => reporter_field.into(),
                    _ => e.field,
                };
                e
            }));
            Err(Error::Validation(errors))
        }
    }
}

/// The category a client chose, as if the rules had suggested it.
fn chosen(code: &str) -> Result<TriageSuggestion> {
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

pub fn core_triage(suggestion: &TriageSuggestion) -> Result<CoreTriage> {
    let category = triage()
        .table()
        .category(&suggestion.category)
        .ok_or_else(|| {
            Error::Internal(format!("category {} not in the table", suggestion.category))
        })?;
    Ok(CoreTriage {
        category: Category::new(&category.code, &category.class)?,
        group: suggestion.group,
        priority: Priority::parse(suggestion.priority)?,
    })
}

/// How many reports one building's plate takes: per 10-minute slot and per
/// China day.
#[derive(Debug, Clone, Copy)]
pub struct PlateLimit {
    pub per_ten_minutes: i64,
    pub per_day: i64,
}

impl PlateLimit {
    /// Counts the report in `tx`; over a limit, the error rolls it back.
    pub async fn count(&self, tx: &mut Tx, building_id: i64, now: Timestamp) -> Result<()> {
        let slot = Timestamp(now.millis() - now.millis().rem_euclid(TEN_MINUTES_MS));
        let day = ChinaDay::of(now).starts_at();
        let forget = Timestamp(day.millis() - DAY_MS);
        for (window, start, max) in [
            (TEN_MINUTES_MS, slot, self.per_ten_minutes),
            (DAY_MS, day, self.per_day),
        ] {
            if tx
                .count_public_report(building_id, window, start, forget)
                .await?
                > max
            {
                return Err(Error::TooManyRequests);
            }
        }
        Ok(())
    }
}
