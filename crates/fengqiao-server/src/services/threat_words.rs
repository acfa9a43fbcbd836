//! 威胁暴力言语预警: threat and violence words in a text, found by
//! `fengqiao-triage`'s detector (negation understood: "没有说要打人" is no
//! threat) — the one detector, for incidents and session notes alike —
//! raised as the core's `threat_words` warning. Intake calls
//! [`raise_on_incident`] inside its transaction; recording a mediation
//! session asks [`on_session`] for the warning on its case.

use std::sync::OnceLock;

use fengqiao_core::audit::{Actor, AuditAction, AuditEvent};
use fengqiao_core::dispute::{Dispute, MediationSession};
use fengqiao_core::incident::Incident;
use fengqiao_core::org::Organisation;
use fengqiao_core::warning::{
    FoundThreat, NewWarning, SubjectKind, ThreatSource, WarningRule, WarningSubject,
};
use fengqiao_core::Timestamp;
use fengqiao_store::Tx;
use fengqiao_triage::ThreatDetector;

use super::Result;

static DETECTOR: OnceLock<ThreatDetector> = OnceLock::new();

/// The detector of the threat rules shipped with Fengqiao.
pub fn detector() -> &'static ThreatDetector {
    DETECTOR.get_or_init(ThreatDetector::default)
}

/// The threat words in `text` that are not negated, as the core takes them.
pub fn found_in(text: &str) -> Vec<FoundThreat> {
    detector()
        .detect(text)
        .into_iter()
        .map(FoundThreat::from)
        .collect()
}

/// The `threat_words` warning on the case when the session's words hold a
/// threat that is not negated ("他说要弄死对方" does, "没有说要打人" does
/// not); `None` otherwise.
pub fn on_session(
    dispute: &Dispute,
    session: &MediationSession,
    at: Timestamp,
) -> Option<NewWarning> {
    let text = session.text();
    let subject = WarningSubject {
        kind: SubjectKind::Case,
        id: dispute.id,
    };
    NewWarning::threat_words(
        dispute.org_id,
        subject,
        ThreatSource::SessionNote,
        session.id,
        &text,
        &found_in(&text),
        at,
    )
}

/// Raises a `threat_words` warning for `station` when the incident's text
/// holds threat words: on its building when it has one (the place where
/// the quarrel lives), else on the incident. Returns the warning's id to
/// publish after the commit; `None` when nothing was found or a warning of
/// the rule is open on the subject already.
pub(crate) async fn raise_on_incident(
    tx: &mut Tx,
    incident: &Incident,
    station: &Organisation,
    now: Timestamp,
) -> Result<Option<i64>> {
    let text = incident.text.as_str();
    let found = found_in(text);
    let subject = match incident.location.address_id {
        Some(building) => WarningSubject {
            kind: SubjectKind::Address,
            id: building,
        },
        None => WarningSubject {
            kind: SubjectKind::Incident,
            id: incident.id,
        },
    };
    let Some(new) = NewWarning::threat_words(
        station.id,
        subject,
        ThreatSource::IncidentText,
        incident.id,
        text,
        &found,
        now,
    ) else {
        return Ok(None);
    };
    let Some(id) = tx.raise_warning(&new, now).await? else {
        return Ok(None);
    };
    let words: Vec<&str> = found.iter().map(|f| f.word.as_str()).collect();
    let audit = AuditEvent::new(Actor::System, AuditAction::Create, "warning")
        .object(id)
        .org(Some(station.id))
        .detail(format!(
            "{} incident {} words {}",
            WarningRule::ThreatWords,
            incident.id,
            words.join(",")
        ));
    tx.append_audit(&audit, now).await?;
    Ok(Some(id))
}
