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
use fengqiao_core::incident::{
    IncidentInput, IncidentSource, NewIncident, Priority, Triage as CoreTriage, TriagedBy,
};
use fengqiao_core::org::DivisionCode;
use fengqiao_core::personal::PersonalData;
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
    let hash = idempotency::body_hash(body)?;
    let actor = caller.actor.to_stored();
    let actor = &actor;
    idempotency::once(
        key,
        &hash,
        |key| async move {
            let first = state.store.idempotency_key(actor, key).await?;
            Ok(first.map(|first| (first.request_hash, first.incident_id)))
        },
        |id| visible_incident(state, caller, id),
        take_in_new(state, caller, key, &hash, body, known),
    )
    .await
}

/// The intake of a request its key (if any) has not made yet.
async fn take_in_new(
    state: &AppState,
    caller: &Caller,
    key: Option<&str>,
    request_hash: &[u8],
    body: &ReportIncident,
    known: &Known<'_>,
) -> Result<Written<IncidentRecord>> {
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
    };
    let created = match state.intake.write(prepared).await? {
        group_commit::Written::Created(created) => created,
        // An intake with the same key committed first: it answers.
        group_commit::Written::KeyUsed => return Ok(Written::KeyUsed),
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
