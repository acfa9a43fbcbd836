//! 接警台: the command room's intake desk, and the station's other hands at
//! it (the joint-duty station's staff, community officers). A walk-in, a
//! call to the station's own number or what an officer was told in the
//! street is typed here; the desk shows, before anything is saved, what
//! intake will make of it — the standard address with its grid, station
//! and officer, the rules' category with the words that decided it, and
//! the earlier calls at the same place or from the same phone within the
//! repeat-call window. Saving is [`intake::take_in`], the one pipeline.
//!
//! A grid worker's field report (e治采) that is police work or a
//! department's becomes an incident here too, through the same intake,
//! once per report.

use std::collections::BTreeMap;

use fengqiao_core::error::FieldError;
use fengqiao_core::incident::{IncidentSource, Location};
use fengqiao_core::org::{OrgKind, Organisation};
use fengqiao_core::personal::PersonalData;
use fengqiao_core::role::Permission;
use fengqiao_store::IncidentRecord;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::access::Caller;
use super::format::rfc3339;
use super::idempotency::Outcome;
use super::incidents::visible_incident;
use super::intake::{self, Known, ReportIncident};
use super::routing::{route_to_name, triage};
use super::{addresses, Error, Result};
use crate::state::AppState;

/// Earlier calls the desk lists at most, per place and per caller.
const EARLIER_LIMIT: i64 = 20;

/// What the operator has typed so far; every field may still be empty.
#[derive(Deserialize, Serialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct DeskDraft {
    /// What the caller said so far.
    pub text: Option<String>,
    /// Where, as the caller said it.
    pub location_text: Option<String>,
    /// The caller's phone, to find their earlier calls; never stored here.
    pub reporter_phone: Option<String>,
}

/// 标准地址: the registry's building the typed address resolved to.
#[derive(Serialize, ToSchema)]
pub struct DeskAddress {
    pub building_id: i64,
    /// As the building's plate reads: city, district, street, community,
    /// compound, building, then the room when one matched.
    pub standard: String,
    pub grid_code: Option<String>,
    /// The grid's station (派出所).
    pub station_name: Option<String>,
    /// The grid's community officer, name masked.
    pub officer: Option<String>,
}

/// 分类建议: what the rules make of the text.
#[derive(Serialize, ToSchema)]
pub struct DeskTriage {
    pub category: String,
    pub category_name: String,
    /// police or non_police.
    pub group: String,
    pub priority: u8,
    pub route_to: String,
    /// The words that decided it, in text order, each once.
    pub matched: Vec<String>,
    /// 0 when no word matched: the operator must choose.
    pub confidence: f32,
}

/// An earlier incident at the same place or from the same phone.
#[derive(Serialize, ToSchema)]
pub struct EarlierCallView {
    pub id: i64,
    pub receipt_number: String,
    pub received_at: String,
    pub category: Option<String>,
    pub status: String,
    pub text: String,
    pub same_place: bool,
    pub same_caller: bool,
}

#[derive(Serialize, ToSchema)]
pub struct DeskPreview {
    /// `None` until the address matches a building of the jurisdiction.
    pub address: Option<DeskAddress>,
    /// `None` until there is text.
    pub triage: Option<DeskTriage>,
    /// Newest first, within `window_days`.
    pub earlier: Vec<EarlierCallView>,
    /// The repeat-call window (重复报警) the earlier calls are counted in.
    pub window_days: u32,
    /// Which call this one would be at the place or from the caller: the
    /// earlier ones plus this one (本月第3次报警).
    pub call_number: usize,
}

fn given(text: &Option<String>) -> Option<&str> {
    text.as_deref().map(str::trim).filter(|t| !t.is_empty())
}

/// 预判: what intake would make of a draft, without writing anything. A
/// phone that is not a phone number yet is a 422 naming the field; a text
/// or address too long likewise.
#[tracing::instrument(skip_all, err(level = "info"))]
pub async fn preview(state: &AppState, caller: &Caller, draft: &DeskDraft) -> Result<DeskPreview> {
    caller.require(Permission::ReportIncidents)?;
    caller.require(Permission::ViewIncidents)?;
    let mut errors = Vec::new();
    let location = given(&draft.location_text);
    if let Some(text) = location {
        if let Err(e) = Location::new(text, None, None) {
            errors.push(FieldError::new("location_text", e.reason));
        }
    }
    let text = given(&draft.text);
    if let Some(text) = text {
        if let Err(e) = fengqiao_core::incident::IncidentText::parse(text) {
            errors.push(e);
        }
    }
    let phone = given(&draft.reporter_phone)
        .map(|p| PersonalData::phone("reporter_phone", p))
        .transpose()
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }

    let address = match location {
        Some(text) => {
            let found = addresses::resolve(&state.store, &state.cipher, text, |code| {
                caller.covers(code)
            })
            .await?;
            match found.registry {
                Some(registry) => {
                    let building = state.store.building(registry.building_id).await?;
                    let mut standard = building
                        .as_ref()
                        .map(addresses::plate_address)
                        .unwrap_or_else(|| registry.building.clone());
                    if let Some(room) = &registry.room {
                        standard.push_str(&format!(" {}单元{}", room.unit, room.room));
                    }
                    Some(DeskAddress {
                        building_id: registry.building_id,
                        standard,
                        grid_code: registry.grid.as_ref().map(|g| g.code.clone()),
                        station_name: registry
                            .grid
                            .as_ref()
                            .and_then(|g| g.station.as_ref())
                            .map(|s| s.name.clone()),
                        officer: registry
                            .grid
                            .as_ref()
                            .and_then(|g| g.officer.as_ref())
                            .map(|o| o.name.clone().unwrap_or_else(|| o.username.clone())),
                    })
                }
                None => None,
            }
        }
        None => None,
    };

    let suggestion = text.map(|text| {
        let s = triage().suggest(text);
        let name = triage()
            .table()
            .category(&s.category)
            .map(|c| c.name_zh.clone())
            .unwrap_or_else(|| s.category.clone());
        let mut matched: Vec<String> = Vec::new();
        for m in &s.matched {
            if !matched.contains(&m.word) {
                matched.push(m.word.clone());
            }
        }
        DeskTriage {
            category: s.category.clone(),
            category_name: name,
            group: s.group.as_str().into(),
            priority: s.priority,
            route_to: route_to_name(s.route_to),
            matched,
            confidence: s.confidence,
        }
    });

    let window_days = state.settings.repeat_calls.window_days();
    let since = state
        .clock
        .now()
        .minus_minutes(i64::from(window_days) * 24 * 60);
    let index = phone.as_ref().map(|p| state.cipher.blind_index(p));
    let found = state
        .store
        .earlier_calls(
            address.as_ref().map(|a| a.building_id),
            index.as_deref(),
            since,
            EARLIER_LIMIT,
        )
        .await?;
    // Only what the caller may see: by the incident's station or whoever
    // holds it (a command room sees what it holds, not its station's
    // subtree), as reading the incident would decide.
    let mut sees: BTreeMap<i64, bool> = BTreeMap::new();
    let mut earlier = Vec::new();
    for call in found {
        let mut visible = false;
        for org in [call.incident.station_org_id]
            .into_iter()
            .chain(call.incident.owner_org_id)
        {
            let seen = match sees.get(&org) {
                Some(v) => *v,
                None => {
                    let v = state
                        .store
                        .organisation(org)
                        .await?
                        .is_some_and(|o| caller.sees(&o.path));
                    sees.insert(org, v);
                    v
                }
            };
            visible |= seen;
        }
        if !visible {
            continue;
        }
        let i = &call.incident;
        earlier.push(EarlierCallView {
            id: i.id,
            receipt_number: i.receipt_number.to_string(),
            received_at: rfc3339(i.received_at),
            category: i.triage.as_ref().map(|t| t.category.code.as_str().into()),
            status: i.status.as_str().into(),
            text: i.text.clone(),
            same_place: call.same_place,
            same_caller: call.same_caller,
        });
    }
    Ok(DeskPreview {
        address,
        triage: suggestion,
        call_number: earlier.len() + 1,
        earlier,
        window_days,
    })
}

/// 网格上报转警情: the station takes a grid worker's field report in as an
/// incident, through the one intake pipeline, at the report's building;
/// once per report — a second time answers with the first incident, also
/// when two requests race. The report names the incident, and the
/// incident's view names the report. Those who may report incidents and
/// act for the report's station (its jurisdiction, or its command room)
/// may do it; others get 404 as if the report did not exist.
#[tracing::instrument(skip_all, err(level = "info"), fields(field_report.id = report_id))]
pub async fn take_in_field_report(
    state: &AppState,
    caller: &Caller,
    report_id: i64,
) -> Result<(Outcome, IncidentRecord)> {
    caller.require(Permission::ReportIncidents)?;
    let report = state
        .store
        .field_report(report_id)
        .await?
        .ok_or(Error::NotFound)?;
    let station = state
        .store
        .organisation(report.place.station_org_id)
        .await?
        .ok_or(Error::NotFound)?;
    if !acts_for(caller, &station) {
        return Err(Error::NotFound);
    }
    if let Some(incident) = report.incident_id {
        return Ok((
            Outcome::Replayed,
            visible_incident(state, caller, incident).await?,
        ));
    }
    let building = state
        .store
        .building(report.place.building_id)
        .await?
        .ok_or_else(|| Error::Internal("a field report's building vanished".into()))?;
    let body = ReportIncident::new(
        IncidentSource::GridWorker,
        report.incident_text(),
        report.address_text.clone(),
        None,
        None,
    );
    let known = Known {
        building: Some(&building),
        field_report: Some(report.id),
        ..Known::default()
    };
    intake::take_in_known(state, caller, None, &body, &known).await
}

/// Whether the caller acts for `station`: the station lies in the caller's
/// jurisdiction, or the caller is the station's command room, which takes
/// its station's reports in (as it sends its station's units).
fn acts_for(caller: &Caller, station: &Organisation) -> bool {
    caller.sees(&station.path)
        || (caller.org.kind == OrgKind::CommandRoom && caller.org.parent_id == Some(station.id))
}
