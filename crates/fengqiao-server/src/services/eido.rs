//! An incident as a NENA-STA-021 Emergency Incident Data Object (EIDO,
//! JSON), the standard for handing an incident between dispatch systems.
//!
//! Mapped: the document's `$id` (the receipt number under the issuer
//! `fengqiao`), `eidoVersion`, `lastUpdateTimeStamp` and
//! `updatedByAgencyReference`; `incidentComponent` (internal id, internal
//! type code and Chinese name, common type "Law Enforcement" for police
//! work and "Public Service" otherwise, status, priority, disposition when
//! resolved on scene); `agencyComponent` (the station, owning, and every
//! organisation whose unit responded); `locationComponent` (the caller's
//! words as `locationDescriptionText`, the coordinates as a PIDF-LO point
//! in `locationByValue`); one `emergencyResourceComponent` per unit sent
//! (call sign, kind, its status now in the Primary Unit Status registry's
//! words, and its status changes for this incident with their times in
//! `unitStatusInternal`); one `dispatchComponent` per dispatch (the agency,
//! the units); `notesComponent` for the timeline (each entry's time,
//! actor and event).
//!
//! Left out: `callComponent` and `callbackComponent` (Fengqiao receives the
//! call's text, not the call's signalling); `personComponent` (the caller's
//! name and phone are personal data, encrypted at rest: a receiving system
//! asks for them through Fengqiao's audited unmasking, they never travel in
//! an export); `vehicleComponent`, `alarmsSensorsComponent`,
//! `additionalDataComponent`, `mergeComponent` and `linkComponent` (not
//! recorded yet; repeat-call links stay in Fengqiao's own API).

use fengqiao_core::incident::{Group, IncidentStatus};
use fengqiao_core::label::Label;
use fengqiao_core::unit::{Force, Unit, UnitStatus};
use fengqiao_core::Timestamp;
use fengqiao_store::IncidentRecord;
use serde_json::{json, Value};

use super::dispatch::responding_units;
use super::format::rfc3339;
use super::routing::triage;
use super::Result;
use crate::state::AppState;

const ISSUER: &str = "fengqiao";

fn agency_id(org_id: i64) -> String {
    format!("urn:fengqiao:agency:{org_id}")
}

fn unit_id(unit_id: i64) -> String {
    format!("urn:fengqiao:unit:{unit_id}")
}

/// The Primary Unit Status registry's word for a unit's status.
fn primary_status(status: UnitStatus) -> &'static str {
    match status {
        UnitStatus::Available => "Available",
        UnitStatus::Dispatched => "Dispatched",
        UnitStatus::EnRoute => "Enroute",
        UnitStatus::OnScene => "OnScene",
        UnitStatus::Transporting => "Transporting",
        UnitStatus::OutOfService => "OutOfService",
    }
}

/// A PIDF-LO presence document with one WGS-84 point.
fn pidf_point(lat: f64, lon: f64, at: Timestamp) -> String {
    format!(
        concat!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
            "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" ",
            "xmlns:gp=\"urn:ietf:params:xml:ns:pidf:geopriv10\" ",
            "xmlns:gml=\"http://www.opengis.net/gml\" entity=\"pres:incident@{issuer}\">",
            "<tuple id=\"location\"><status><gp:geopriv><gp:location-info>",
            "<gml:Point srsName=\"urn:ogc:def:crs:EPSG::4326\"><gml:pos>{lat:.6} {lon:.6}</gml:pos></gml:Point>",
            "</gp:location-info><gp:usage-rules/></gp:geopriv></status>",
            "<timestamp>{at}</timestamp></tuple></presence>"
        ),
        issuer = ISSUER,
        lat = lat,
        lon = lon,
        at = rfc3339(at)
    )
}

/// The EIDO of one incident, its units and its timeline.
pub async fn document(state: &AppState, record: &IncidentRecord) -> Result<Value> {
    let incident = &record.incident;
    let base = format!(
        "urn:emergency:uid:incidentid:{}:{ISSUER}",
        incident.receipt_number
    );
    let updated = record
        .timeline
        .iter()
        .map(|e| e.at)
        .max()
        .unwrap_or(incident.received_at);
    let station = agency_id(incident.station_org_id);
    let prologue = |id: String, at: Timestamp| {
        json!({
            "$id": id,
            "lastUpdateTimeStamp": rfc3339(at),
            "updatedByAgencyReference": { "$ref": station },
        })
    };
    let merge = |mut base: Value, more: Value| {
        if let (Some(b), Value::Object(m)) = (base.as_object_mut(), more) {
            b.extend(m);
        }
        base
    };

    // The incident.
    let category = incident.triage.as_ref().and_then(|t| {
        triage()
            .table()
            .category(t.category.code.as_str())
            .map(|c| (c.code.clone(), c.name_zh.clone()))
    });
    let common_type = match incident.triage.as_ref().map(|t| t.group) {
        Some(Group::Police) => "Law Enforcement",
        _ => "Public Service",
    };
    let open = !matches!(
        incident.status,
        IncidentStatus::Resolved | IncidentStatus::Closed | IncidentStatus::Cancelled
    );
    let on_scene = record
        .timeline
        .iter()
        .rev()
        .find(|e| e.event.get("event").and_then(Value::as_str) == Some("resolved_on_scene"));
    let mut incident_component = merge(
        prologue(format!("{base}:incident"), updated),
        json!({
            "internalIncidentId": incident.receipt_number.to_string(),
            "incidentTypeCommonRegistryText": common_type,
            "incidentTypeInternalCode": category.as_ref().map(|c| c.0.clone()),
            "incidentTypeInternalText": category.as_ref().map(|c| c.1.clone()),
            "incidentStatusCommonRegistryText": [if open { "Open" } else { "Closed" }],
            "incidentStatusInternalText": [incident.status.zh()],
            "incidentCommonPriorityNumber": incident.triage.as_ref().map(|t| t.priority.get()),
            "locationReference": [{ "$ref": format!("{base}:location:0") }],
        }),
    );
    if let Some(entry) = on_scene {
        incident_component["dispositionComponent"] = json!([{
            "dispositionCommonRegistryCode": "Resolved",
            "dispositionPrimaryIndicator": true,
            "dispositionCategoryText": "现场处置",
            "dispositionDescriptionText": entry.event.get("result").cloned().unwrap_or(Value::Null),
        }]);
    }

    // The units, each with its status changes for this incident.
    let units = responding_units(state, record).await?;
    let mut resources = Vec::new();
    let mut agencies = vec![incident.station_org_id];
    for unit in units.values() {
        agencies.push(unit.org_id);
        resources.push(resource(state, record, unit, &prologue, &merge).await?);
    }
    agencies.sort_unstable();
    agencies.dedup();
    let mut agency_components = Vec::new();
    for org_id in &agencies {
        let org = state.store.organisation(*org_id).await?;
        agency_components.push(merge(
            prologue(agency_id(*org_id), updated),
            json!({
                "agencyName": org.map(|o| o.name),
                "agencyRoleDescriptionRegistryText": if *org_id == incident.station_org_id {
                    vec!["CallReceiving", "Dispatch"]
                } else {
                    vec!["Responding"]
                },
                "agencyType": ["urn:emergency:service:responder.police"],
                "incidentOwningAgencyIndicator": *org_id == incident.station_org_id,
            }),
        ));
    }

    // One dispatch per unit sent, and the timeline as notes.
    let mut dispatches = Vec::new();
    let mut notes = Vec::new();
    for (i, entry) in record.timeline.iter().enumerate() {
        let event = entry
            .event
            .get("event")
            .and_then(Value::as_str)
            .unwrap_or("");
        if event == "unit_dispatched" {
            if let Some(id) = entry.event.get("unit_id").and_then(Value::as_i64) {
                dispatches.push(merge(
                    prologue(format!("{base}:dispatch:{}", dispatches.len()), entry.at),
                    json!({
                        "dispatchTimeStamp": rfc3339(entry.at),
                        "agencyReference": { "$ref": station },
                        "agentReference": { "$ref": entry.actor },
                        "emergencyResourceReference": [{ "$ref": unit_id(id) }],
                    }),
                ));
            }
        }
        notes.push(merge(
            prologue(format!("{base}:note:{i}"), entry.at),
            json!({
                "noteDateTimeStamp": rfc3339(entry.at),
                "noteText": event,
                "authorReference": { "$ref": entry.actor },
            }),
        ));
    }

    let location = merge(
        prologue(format!("{base}:location:0"), incident.received_at),
        json!({
            "locationTypeDescriptionRegistryText": "Incident",
            "locationDescriptionText": incident.location_text,
            "locationByValue": incident
                .coordinates
                .map(|c| pidf_point(c.lat(), c.lon(), incident.received_at)),
        }),
    );

    Ok(merge(
        prologue(base.clone(), updated),
        json!({
            "eidoVersion": "1.0",
            "issuingElementIdentification": ISSUER,
            "incidentComponent": incident_component,
            "agencyComponent": agency_components,
            "dispatchComponent": dispatches,
            "emergencyResourceComponent": resources,
            "locationComponent": [location],
            "notesComponent": notes,
            "@context": { "@vocab": "https://github.com/NENA911/EIDO-JSON/Schema/JSON-LD_Contexts/EmergencyIncidentDataObjectType.jsonld" },
        }),
    ))
}

async fn resource(
    state: &AppState,
    record: &IncidentRecord,
    unit: &Unit,
    prologue: &impl Fn(String, Timestamp) -> Value,
    merge: &impl Fn(Value, Value) -> Value,
) -> Result<Value> {
    let timeline = state.store.unit_timeline(unit.id).await?;
    let changes: Vec<_> = timeline
        .iter()
        .filter(|e| e.incident_id == Some(record.incident.id))
        .collect();
    let last = changes.last().map_or(unit.status_since, |e| e.at);
    // Its status as far as this incident goes: free once it cleared.
    let status = if unit.incident_id == Some(record.incident.id) {
        unit.status
    } else {
        UnitStatus::Available
    };
    Ok(merge(
        prologue(unit_id(unit.id), last),
        json!({
            "emergencyResourceName": unit.call_sign.as_str(),
            "emergencyResourceTypeCommonRegistryText": match unit.kind.force() {
                Force::Police => "Law Enforcement",
                Force::Street => "Public Service",
            },
            "emergencyResourceTypeInternalText": unit.kind.zh(),
            "primaryUnitStatusRegistryText": primary_status(status),
            "secondaryUnitStatusRegistryText": [],
            "resourceAttributeRegistryText": [],
            "unitStatusInternal": changes
                .iter()
                .map(|e| format!(
                    "{} {}",
                    e.event.get("event").and_then(Value::as_str).unwrap_or(""),
                    rfc3339(e.at)
                ))
                .collect::<Vec<_>>(),
            "agencyReference": { "$ref": agency_id(unit.org_id) },
        }),
    ))
}
