//! 重复报警 at intake: links a new incident to the earlier ones it repeats
//! and, at the threshold, raises one repeat-call warning for the station.
//! Runs inside the intake's transaction, after the incident rows are
//! written (`group_commit.rs`), so the incident, its links, the warning and
//! their audit entries commit together or not at all. The warning is
//! raised here; the links and their timeline events are returned for the
//! caller to write with those of the rest of its batch.

use fengqiao_core::audit::{Actor, AuditAction, AuditEvent};
use fengqiao_core::incident::{Incident, IncidentEvent};
use fengqiao_core::org::Organisation;
use fengqiao_core::repeat_call::{CallFacts, RepeatCallDetector};
use fengqiao_core::timeline::TimelineEvent;
use fengqiao_core::warning::{NewWarning, SubjectKind, WarningRule, WarningSubject};
use fengqiao_core::Timestamp;
use fengqiao_store::{RepeatLink, Tx};
use serde::Serialize;
use utoipa::ToSchema;

use super::format::rfc3339;
use super::{Error, Result};

/// What linking decided: the warning raised (written, to publish once the
/// transaction commits), and the timeline events and the earlier incidents
/// linked, for the caller to write.
pub(crate) struct Linked {
    pub warning: Option<i64>,
    pub events: Vec<TimelineEvent<IncidentEvent>>,
    pub earlier: Vec<i64>,
}

/// Decides which of `earlier` `incident` (just written, received by
/// `station`) repeats — the incidents before it at the same building or
/// from the same caller — and raises the warning when due.
pub(crate) async fn link_among(
    detector: &RepeatCallDetector,
    tx: &mut Tx,
    incident: &Incident,
    station: &Organisation,
    new: &CallFacts,
    earlier: &[CallFacts],
    now: Timestamp,
) -> Result<Linked> {
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
    if let Some(warning_id) = raised {
        let audit = AuditEvent::new(Actor::System, AuditAction::Create, "warning")
            .object(warning_id)
            .org(Some(station.id))
            .detail(format!("repeat_call incident {}", incident.id));
        tx.append_audit(&audit, now).await?;
    }
    Ok(Linked {
        warning: raised,
        events: linked.events,
        earlier: finding.linked,
    })
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
