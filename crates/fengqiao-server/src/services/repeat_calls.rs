//! 重复报警 at intake: links a new incident to the earlier ones it repeats
//! and, at the threshold, raises one repeat-call warning for the station.
//! Runs inside the intake's transaction, after the incident row is written,
//! so the incident, its links, the warning and their audit entries commit
//! together or not at all.

use fengqiao_core::audit::{Actor, AuditAction, AuditEvent};
use fengqiao_core::incident::Incident;
use fengqiao_core::org::Organisation;
use fengqiao_core::repeat_call::{CallFacts, RepeatCallDetector};
use fengqiao_core::warning::{NewWarning, SubjectKind, WarningRule, WarningSubject};
use fengqiao_core::Timestamp;
use fengqiao_store::{RepeatLink, Tx};
use serde::Serialize;
use utoipa::ToSchema;

use super::{Error, Result};
use crate::services::format::rfc3339;
use crate::state::AppState;

/// Links `incident` (just written, received by `station`) to the earlier
/// incidents it repeats and raises the warning when due. Returns the id of
/// a raised warning, to publish once the transaction commits.
pub(crate) async fn link(
    state: &AppState,
    tx: &mut Tx,
    incident: &Incident,
    station: &Organisation,
    caller_index: Option<&[u8]>,
    now: Timestamp,
) -> Result<Option<i64>> {
    let Some(triage) = &incident.triage else {
        return Ok(None);
    };
    let detector = RepeatCallDetector::new(state.settings.repeat_calls.clone());
    let new = CallFacts {
        incident_id: incident.id,
        address_id: incident.location.address_id,
        caller_index: caller_index.map(<[u8]>::to_vec),
        category: triage.category.clone(),
        received_at: incident.received_at,
    };
    let earlier = tx
        .repeat_candidates(
            incident.station_id,
            new.address_id,
            caller_index,
            detector.window_start(new.received_at),
        )
        .await?;
    link_among(state, tx, incident, station, &new, &earlier, now).await
}

/// [`link`] with the earlier incidents already known (a generator that
/// holds the recent ones in memory): decides, warns and writes the same.
pub(crate) async fn link_among(
    state: &AppState,
    tx: &mut Tx,
    incident: &Incident,
    station: &Organisation,
    new: &CallFacts,
    earlier: &[CallFacts],
    now: Timestamp,
) -> Result<Option<i64>> {
    let detector = RepeatCallDetector::new(state.settings.repeat_calls.clone());
    let mut finding = detector.check(new, earlier, false);
    let mut raised = None;
    if let Some(found) = &finding.warning {
        // The chain already has a warning open when its building or any of
        // its incidents carries one (a chain linked by the caller alone is
        // warned on an incident, never on the caller).
        let subjects: Vec<WarningSubject> = found
            .address_id
            .map(|id| WarningSubject {
                kind: SubjectKind::Address,
                id,
            })
            .into_iter()
            .chain(found.incidents.iter().map(|&id| WarningSubject {
                kind: SubjectKind::Incident,
                id,
            }))
            .collect();
        let open = tx
            .open_warning_on(WarningRule::RepeatCall, &subjects)
            .await?;
        let warning =
            NewWarning::repeat_call(station.id, found, detector.policy(), now).filter(|_| !open);
        if let Some(warning) = warning {
            // `None` here: a concurrent intake raised it first.
            raised = tx.raise_warning(&warning, now).await?;
        }
    }
    if raised.is_none() {
        finding.warning = None;
    }
    let linked = incident
        .link_repeats(&finding, Actor::System, now)
        .map_err(|e| Error::Internal(e.to_string()))?;
    tx.append_timeline(incident.id, None, &linked.events)
        .await?;
    tx.insert_repeat_links(incident.id, &finding.linked).await?;
    let Some(warning_id) = raised else {
        return Ok(None);
    };
    let audit = AuditEvent::new(Actor::System, AuditAction::Create, "warning")
        .object(warning_id)
        .org(Some(station.id))
        .detail(format!("repeat_call incident {}", incident.id));
    tx.append_audit(&audit, now).await?;
    Ok(Some(warning_id))
}

/// An earlier incident a new one repeats, as the incident view lists it.
#[derive(Serialize, ToSchema)]
pub struct RepeatView {
    incident_id: i64,
    /// 回执号
    receipt_number: String,
    received_at: String,
}

pub(crate) fn views(links: &[RepeatLink]) -> Vec<RepeatView> {
    links
        .iter()
        .map(|link| RepeatView {
            incident_id: link.incident_id,
            receipt_number: link.receipt_number.to_string(),
            received_at: rfc3339(link.received_at),
        })
        .collect()
}
