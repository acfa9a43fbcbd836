//! Dispute cases (矛盾纠纷): the case, its parties (encrypted by the caller),
//! linked incidents, mediation sessions, follow-up visits, timeline and the
//! idempotency keys of its writes. The core's transitions decide what
//! changes (`fengqiao_core::dispute`); this module writes what they returned
//! inside the caller's transaction, so a change, its events, its warnings
//! and its audit entry commit together.

use std::str::FromStr;

use fengqiao_core::dispute::{
    Agreement, CaseText, Dispute, DisputeSource, DisputeStatus, DisputeType, FollowUp,
    FollowUpStatus, MediationSession, Mediators, Risk, RiskLevel, TransferTarget,
};
use fengqiao_core::timeline::TimelineEvent;
use fengqiao_core::Timestamp;
use serde::Serialize;
use sqlx::any::AnyRow;

use crate::rows::corrupt;
use crate::{duplicate_as, get, Result, Store, StoreError, Tx};

/// A party as stored: a person's data encrypted (see `PersonalDataCipher`),
/// an organisation's name in plain text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StoredParty {
    /// person or organisation.
    pub kind: String,
    pub org_name: Option<String>,
    pub name: Option<Vec<u8>>,
    pub phone: Option<Vec<u8>>,
    pub phone_index: Option<Vec<u8>>,
    pub id_number: Option<Vec<u8>>,
    pub id_number_index: Option<Vec<u8>>,
}

/// A mediation session with who recorded it and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    pub session: MediationSession,
    pub recorded_by: String,
    pub recorded_at: Timestamp,
}

/// One entry of a dispute's timeline; `event` is the core event's JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct DisputeTimelineEntry {
    pub at: Timestamp,
    pub actor: String,
    pub event: serde_json::Value,
}

/// A dispute with everything its page shows.
#[derive(Debug, Clone, PartialEq)]
pub struct DisputeRecord {
    pub dispute: Dispute,
    pub community_code: Option<String>,
    pub next_session_at: Option<Timestamp>,
    pub progress_at: Timestamp,
    pub parties: Vec<StoredParty>,
    /// Incident ids, in the order they were linked.
    pub incidents: Vec<i64>,
    pub sessions: Vec<StoredSession>,
    pub timeline: Vec<DisputeTimelineEntry>,
}

/// A dispute as a list shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct DisputeSummary {
    pub dispute: Dispute,
    pub next_session_at: Option<Timestamp>,
    pub progress_at: Timestamp,
}

const DISPUTE_COLUMNS: &str = "id, org_id, source, source_id, dispute_type, building_id,
    community_code, address_text, facts, risk_level, risk_reason, officer_user_id, mediators,
    status, registered_at, mediate_by, mediation_warned, agreement, agreed_at, outcome_reason,
    transfer_target, transfer_to, closed_at, next_session_at, progress_at";

const FOLLOW_UP_COLUMNS: &str =
    "id, dispute_id, due_at, status, done_at, done_by, note, missed_warned";

fn parsed<T: FromStr>(row: &AnyRow, column: &str) -> Result<T> {
    let text: String = get(row, column)?;
    T::from_str(&text).map_err(|_| corrupt(column, &text))
}

fn text(row: &AnyRow, column: &str, max: usize) -> Result<CaseText> {
    let value: String = get(row, column)?;
    CaseText::parse(column, &value, max).map_err(|_| corrupt(column, &value))
}

fn optional_text(row: &AnyRow, column: &str, max: usize) -> Result<Option<CaseText>> {
    let value: Option<String> = get(row, column)?;
    value
        .map(|v| CaseText::parse(column, &v, max).map_err(|_| corrupt(column, &v)))
        .transpose()
}

fn time(row: &AnyRow, column: &str) -> Result<Option<Timestamp>> {
    Ok(get::<Option<i64>>(row, column)?.map(Timestamp))
}

const LONG: usize = 2000;

/// The case's row, without its follow-ups and session count.
fn dispute_from_row(row: &AnyRow) -> Result<Dispute> {
    let mediators: String = get(row, "mediators")?;
    let mediators: Vec<String> =
        serde_json::from_str(&mediators).map_err(|_| corrupt("mediators", &mediators))?;
    let agreement = match (
        optional_text(row, "agreement", LONG)?,
        time(row, "agreed_at")?,
    ) {
        (Some(text), Some(agreed_at)) => Some(Agreement { text, agreed_at }),
        _ => None,
    };
    let target: Option<String> = get(row, "transfer_target")?;
    let transfer = match (target, optional_text(row, "transfer_to", LONG)?) {
        (Some(target), Some(to)) => Some((
            TransferTarget::from_str(&target).map_err(|_| corrupt("transfer_target", &target))?,
            to,
        )),
        _ => None,
    };
    let warned: i64 = get(row, "mediation_warned")?;
    Ok(Dispute {
        id: get(row, "id")?,
        org_id: get(row, "org_id")?,
        source: parsed::<DisputeSource>(row, "source")?,
        source_id: get(row, "source_id")?,
        dispute_type: parsed::<DisputeType>(row, "dispute_type")?,
        building_id: get(row, "building_id")?,
        address_text: text(row, "address_text", LONG)?,
        facts: text(row, "facts", LONG)?,
        risk: Risk {
            level: parsed::<RiskLevel>(row, "risk_level")?,
            reason: text(row, "risk_reason", LONG)?,
        },
        officer_user_id: get(row, "officer_user_id")?,
        mediators: Mediators::parse(&mediators).map_err(|_| corrupt("mediators", &mediators))?,
        status: parsed::<DisputeStatus>(row, "status")?,
        registered_at: Timestamp(get(row, "registered_at")?),
        mediate_by: Timestamp(get(row, "mediate_by")?),
        sessions: 0,
        agreement,
        follow_ups: Vec::new(),
        outcome_reason: optional_text(row, "outcome_reason", LONG)?,
        transfer,
        closed_at: time(row, "closed_at")?,
        mediation_warned: warned != 0,
    })
}

fn follow_up_from_row(row: &AnyRow) -> Result<FollowUp> {
    let warned: i64 = get(row, "missed_warned")?;
    Ok(FollowUp {
        id: get(row, "id")?,
        due_at: Timestamp(get(row, "due_at")?),
        status: parsed::<FollowUpStatus>(row, "status")?,
        done_at: time(row, "done_at")?,
        done_by: get(row, "done_by")?,
        note: optional_text(row, "note", LONG)?,
        missed_warned: warned != 0,
    })
}

fn session_from_row(row: &AnyRow) -> Result<StoredSession> {
    Ok(StoredSession {
        session: MediationSession {
            id: get(row, "id")?,
            held_at: Timestamp(get(row, "held_at")?),
            place: text(row, "place", LONG)?,
            participants: text(row, "participants", LONG)?,
            note: text(row, "note", LONG)?,
            agreed: optional_text(row, "agreed", LONG)?,
            next_step: optional_text(row, "next_step", LONG)?,
            next_session_at: time(row, "next_session_at")?,
        },
        recorded_by: get(row, "recorded_by")?,
        recorded_at: Timestamp(get(row, "recorded_at")?),
    })
}

fn party_from_row(row: &AnyRow) -> Result<StoredParty> {
    Ok(StoredParty {
        kind: get(row, "kind")?,
        org_name: get(row, "org_name")?,
        name: get(row, "name")?,
        phone: get(row, "phone")?,
        phone_index: None,
        id_number: get(row, "id_number")?,
        id_number_index: None,
    })
}

fn summary_from_row(row: &AnyRow) -> Result<DisputeSummary> {
    Ok(DisputeSummary {
        dispute: dispute_from_row(row)?,
        next_session_at: time(row, "next_session_at")?,
        progress_at: Timestamp(get(row, "progress_at")?),
    })
}

impl Store {
    /// A dispute with its parties, incidents, sessions, follow-ups and
    /// timeline.
    pub async fn dispute(&self, id: i64) -> Result<Option<DisputeRecord>> {
        let sql = format!("SELECT {DISPUTE_COLUMNS}, community_code FROM disputes WHERE id = $1");
        let Some(row) = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(self.reader())
            .await?
        else {
            return Ok(None);
        };
        let mut dispute = dispute_from_row(&row)?;
        let community_code: Option<String> = get(&row, "community_code")?;
        let next_session_at = time(&row, "next_session_at")?;
        let progress_at = Timestamp(get(&row, "progress_at")?);
        let sql = format!(
            "SELECT {FOLLOW_UP_COLUMNS} FROM dispute_follow_ups WHERE dispute_id = $1 ORDER BY due_at, id"
        );
        let rows = sqlx::query(&sql).bind(id).fetch_all(self.reader()).await?;
        dispute.follow_ups = rows.iter().map(follow_up_from_row).collect::<Result<_>>()?;
        let rows = sqlx::query(
            "SELECT id, held_at, place, participants, note, agreed, next_step, next_session_at,
                 recorded_by, recorded_at
             FROM dispute_sessions WHERE dispute_id = $1 ORDER BY held_at, id",
        )
        .bind(id)
        .fetch_all(self.reader())
        .await?;
        let sessions = rows
            .iter()
            .map(session_from_row)
            .collect::<Result<Vec<_>>>()?;
        dispute.sessions = sessions.len();
        let rows = sqlx::query(
            "SELECT kind, org_name, name, phone, id_number FROM dispute_parties
             WHERE dispute_id = $1 ORDER BY position",
        )
        .bind(id)
        .fetch_all(self.reader())
        .await?;
        let parties = rows.iter().map(party_from_row).collect::<Result<_>>()?;
        let incidents: Vec<i64> = sqlx::query_scalar(
            "SELECT incident_id FROM dispute_incidents WHERE dispute_id = $1
             ORDER BY linked_at, incident_id",
        )
        .bind(id)
        .fetch_all(self.reader())
        .await?;
        let rows = sqlx::query(
            "SELECT at, actor, event FROM dispute_events WHERE dispute_id = $1 ORDER BY at, id",
        )
        .bind(id)
        .fetch_all(self.reader())
        .await?;
        let timeline = rows
            .iter()
            .map(|row| {
                let event: String = get(row, "event")?;
                Ok(DisputeTimelineEntry {
                    at: Timestamp(get(row, "at")?),
                    actor: get(row, "actor")?,
                    event: serde_json::from_str(&event).map_err(|_| corrupt("event", &event))?,
                })
            })
            .collect::<Result<_>>()?;
        Ok(Some(DisputeRecord {
            dispute,
            community_code,
            next_session_at,
            progress_at,
            parties,
            incidents,
            sessions,
            timeline,
        }))
    }

    /// The newest disputes (at most `limit`) of stations whose path starts
    /// with `scope`, in `status` when given.
    pub async fn disputes_within(
        &self,
        scope: &str,
        status: Option<DisputeStatus>,
        limit: i64,
    ) -> Result<Vec<DisputeSummary>> {
        let sql = format!(
            "SELECT {DISPUTE_COLUMNS} FROM disputes
             WHERE org_id IN (SELECT id FROM organisations WHERE path LIKE $1 || '%')
               AND ($2 = '' OR status = $2)
             ORDER BY registered_at DESC, id DESC LIMIT $3"
        );
        let rows = sqlx::query(&sql)
            .bind(scope)
            .bind(status.map_or("", DisputeStatus::as_str))
            .bind(limit)
            .fetch_all(self.reader())
            .await?;
        rows.iter().map(summary_from_row).collect()
    }

    /// The case registered from this incident or field report, if any.
    pub async fn dispute_from_source(
        &self,
        source: DisputeSource,
        source_id: i64,
    ) -> Result<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT id FROM disputes WHERE source = $1 AND source_id = $2")
                .bind(source.as_str())
                .bind(source_id)
                .fetch_optional(self.reader())
                .await?,
        )
    }

    /// The cases an incident is linked to.
    pub async fn disputes_of_incident(&self, incident_id: i64) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT dispute_id FROM dispute_incidents WHERE incident_id = $1 ORDER BY dispute_id",
        )
        .bind(incident_id)
        .fetch_all(self.reader())
        .await?)
    }

    /// The request an idempotency key of `actor` was first used with on a
    /// dispute write, and the dispute it concerned.
    pub async fn dispute_request_key(
        &self,
        actor: &str,
        key: &str,
    ) -> Result<Option<(Vec<u8>, i64)>> {
        Ok(sqlx::query_as(
            "SELECT request_hash, dispute_id FROM dispute_request_keys
             WHERE actor = $1 AND key = $2",
        )
        .bind(actor)
        .bind(key)
        .fetch_optional(self.reader())
        .await?)
    }

    /// High and critical cases still without a session past their deadline
    /// and not warned about, oldest deadline first. Reads a partial index
    /// of exactly those.
    pub async fn disputes_unmediated(&self, now: Timestamp, limit: i64) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM disputes
             WHERE status = 'registered' AND mediation_warned = 0
               AND risk_level IN ('high', 'critical') AND mediate_by < $1
             ORDER BY mediate_by, id LIMIT $2",
        )
        .bind(now.millis())
        .bind(limit)
        .fetch_all(self.reader())
        .await?)
    }

    /// Cases with a follow-up visit missed by `now` (pending a day past due)
    /// and not warned about.
    pub async fn disputes_with_missed_follow_ups(
        &self,
        now: Timestamp,
        limit: i64,
    ) -> Result<Vec<i64>> {
        let cutoff =
            now.minus_minutes(fengqiao_core::dispute::FollowUpPolicy::MISSED_AFTER_MINUTES);
        Ok(sqlx::query_scalar(
            "SELECT DISTINCT dispute_id FROM dispute_follow_ups
             WHERE status = 'pending' AND missed_warned = 0 AND due_at < $1
             ORDER BY dispute_id LIMIT $2",
        )
        .bind(cutoff.millis())
        .bind(limit)
        .fetch_all(self.reader())
        .await?)
    }
}

impl Tx {
    pub async fn next_dispute_id(&mut self) -> Result<i64> {
        self.next_id("disputes").await
    }

    pub async fn next_dispute_session_id(&mut self) -> Result<i64> {
        self.next_id("dispute_sessions").await
    }

    /// `count` ids for new follow-up visits.
    pub async fn next_follow_up_ids(&mut self, count: usize) -> Result<Vec<i64>> {
        let mut ids = Vec::with_capacity(count);
        for _ in 0..count {
            let id = self.next_id("dispute_follow_ups").await?;
            // SQLite counts from the table's maximum: the rows are not
            // written yet, so step past the ids already handed out here.
            let id = match ids.last() {
                Some(last) if id <= *last => last + 1,
                _ => id,
            };
            ids.push(id);
        }
        Ok(ids)
    }

    /// The dispute with its follow-ups and session count, read inside this
    /// transaction and kept from other writers until it ends.
    pub async fn lock_dispute(&mut self, id: i64) -> Result<Option<Dispute>> {
        let lock = self.lock_clause();
        let sql = format!("SELECT {DISPUTE_COLUMNS} FROM disputes WHERE id = $1{lock}");
        let Some(row) = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(self.conn())
            .await?
        else {
            return Ok(None);
        };
        let mut dispute = dispute_from_row(&row)?;
        let sql = format!(
            "SELECT {FOLLOW_UP_COLUMNS} FROM dispute_follow_ups WHERE dispute_id = $1 ORDER BY due_at, id"
        );
        let rows = sqlx::query(&sql).bind(id).fetch_all(self.conn()).await?;
        dispute.follow_ups = rows.iter().map(follow_up_from_row).collect::<Result<_>>()?;
        let sessions: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM dispute_sessions WHERE dispute_id = $1")
                .bind(id)
                .fetch_one(self.conn())
                .await?;
        dispute.sessions = usize::try_from(sessions).map_err(|_| corrupt("sessions", sessions))?;
        Ok(Some(dispute))
    }

    /// Writes a new case as registration returned it, with its parties. A
    /// second case from the same incident or field report is
    /// `Duplicate("source_id")`.
    pub async fn insert_dispute(
        &mut self,
        dispute: &Dispute,
        parties: &[StoredParty],
        community_code: Option<&str>,
        now: Timestamp,
    ) -> Result<()> {
        let mediators = serde_json::to_string(dispute.mediators.names())
            .map_err(|e| StoreError::Corrupt(format!("mediators: {e}")))?;
        sqlx::query(
            "INSERT INTO disputes (id, org_id, source, source_id, dispute_type, building_id,
                 community_code, address_text, facts, risk_level, risk_reason, officer_user_id,
                 mediators, status, registered_at, mediate_by, progress_at, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
                     $17, $17, $17)",
        )
        .bind(dispute.id)
        .bind(dispute.org_id)
        .bind(dispute.source.as_str())
        .bind(dispute.source_id)
        .bind(dispute.dispute_type.as_str())
        .bind(dispute.building_id)
        .bind(community_code.map(str::to_owned))
        .bind(dispute.address_text.as_str().to_owned())
        .bind(dispute.facts.as_str().to_owned())
        .bind(dispute.risk.level.as_str())
        .bind(dispute.risk.reason.as_str().to_owned())
        .bind(dispute.officer_user_id)
        .bind(mediators)
        .bind(dispute.status.as_str())
        .bind(dispute.registered_at.millis())
        .bind(dispute.mediate_by.millis())
        .bind(now.millis())
        .execute(self.conn())
        .await
        .map_err(duplicate_as("source_id"))?;
        for (position, party) in parties.iter().enumerate() {
            sqlx::query(
                "INSERT INTO dispute_parties (dispute_id, position, kind, org_name, name, phone,
                     phone_index, id_number, id_number_index)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(dispute.id)
            .bind(position as i64)
            .bind(party.kind.clone())
            .bind(party.org_name.clone())
            .bind(party.name.clone())
            .bind(party.phone.clone())
            .bind(party.phone_index.clone())
            .bind(party.id_number.clone())
            .bind(party.id_number_index.clone())
            .execute(self.conn())
            .await?;
        }
        Ok(())
    }

    /// Writes what a lifecycle transition changed, and its follow-ups
    /// (new ones inserted, existing ones updated); the case's progress
    /// time moves to `now`.
    pub async fn update_dispute(&mut self, dispute: &Dispute, now: Timestamp) -> Result<()> {
        let transfer = dispute.transfer.as_ref();
        sqlx::query(
            "UPDATE disputes SET status = $2, agreement = $3, agreed_at = $4, outcome_reason = $5,
                 transfer_target = $6, transfer_to = $7, closed_at = $8, progress_at = $9,
                 updated_at = $9
             WHERE id = $1",
        )
        .bind(dispute.id)
        .bind(dispute.status.as_str())
        .bind(
            dispute
                .agreement
                .as_ref()
                .map(|a| a.text.as_str().to_owned()),
        )
        .bind(dispute.agreement.as_ref().map(|a| a.agreed_at.millis()))
        .bind(
            dispute
                .outcome_reason
                .as_ref()
                .map(|r| r.as_str().to_owned()),
        )
        .bind(transfer.map(|(target, _)| target.as_str()))
        .bind(transfer.map(|(_, to)| to.as_str().to_owned()))
        .bind(dispute.closed_at.map(Timestamp::millis))
        .bind(now.millis())
        .execute(self.conn())
        .await?;
        for f in &dispute.follow_ups {
            sqlx::query(
                "INSERT INTO dispute_follow_ups (id, dispute_id, due_at, status, done_at, done_by,
                     note, missed_warned, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                 ON CONFLICT (id) DO UPDATE SET status = excluded.status,
                     done_at = excluded.done_at, done_by = excluded.done_by,
                     note = excluded.note",
            )
            .bind(f.id)
            .bind(dispute.id)
            .bind(f.due_at.millis())
            .bind(f.status.as_str())
            .bind(f.done_at.map(Timestamp::millis))
            .bind(f.done_by.clone())
            .bind(f.note.as_ref().map(|n| n.as_str().to_owned()))
            .bind(i64::from(f.missed_warned))
            .bind(now.millis())
            .execute(self.conn())
            .await?;
        }
        Ok(())
    }

    /// Writes a session and, when it plans the next one, the case's next
    /// session time.
    pub async fn insert_dispute_session(
        &mut self,
        dispute_id: i64,
        session: &MediationSession,
        recorded_by: &str,
        now: Timestamp,
    ) -> Result<()> {
        let optional = |t: &Option<CaseText>| t.as_ref().map(|t| t.as_str().to_owned());
        sqlx::query(
            "INSERT INTO dispute_sessions (id, dispute_id, held_at, place, participants, note,
                 agreed, next_step, next_session_at, recorded_by, recorded_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(session.id)
        .bind(dispute_id)
        .bind(session.held_at.millis())
        .bind(session.place.as_str().to_owned())
        .bind(session.participants.as_str().to_owned())
        .bind(session.note.as_str().to_owned())
        .bind(optional(&session.agreed))
        .bind(optional(&session.next_step))
        .bind(session.next_session_at.map(Timestamp::millis))
        .bind(recorded_by.to_owned())
        .bind(now.millis())
        .execute(self.conn())
        .await?;
        sqlx::query("UPDATE disputes SET next_session_at = $2 WHERE id = $1")
            .bind(dispute_id)
            .bind(session.next_session_at.map(Timestamp::millis))
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Links an incident to the case; `false` when it already was.
    pub async fn link_dispute_incident(
        &mut self,
        dispute_id: i64,
        incident_id: i64,
        now: Timestamp,
    ) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO dispute_incidents (dispute_id, incident_id, linked_at)
             VALUES ($1, $2, $3) ON CONFLICT (dispute_id, incident_id) DO NOTHING",
        )
        .bind(dispute_id)
        .bind(incident_id)
        .bind(now.millis())
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Appends a transition's events to the case's timeline.
    pub async fn append_dispute_events<E: Serialize>(
        &mut self,
        dispute_id: i64,
        events: &[TimelineEvent<E>],
    ) -> Result<()> {
        for event in events {
            let json = serde_json::to_string(&event.event)
                .map_err(|e| StoreError::Corrupt(format!("event: {e}")))?;
            sqlx::query(
                "INSERT INTO dispute_events (dispute_id, at, actor, event) VALUES ($1, $2, $3, $4)",
            )
            .bind(dispute_id)
            .bind(event.at.millis())
            .bind(event.actor.to_stored())
            .bind(json)
            .execute(self.conn())
            .await?;
        }
        Ok(())
    }

    /// Records that `actor` used `key` for a request on `dispute_id`. A key
    /// already used is `Duplicate("idempotency_key")`.
    pub async fn insert_dispute_request_key(
        &mut self,
        actor: &str,
        key: &str,
        request_hash: &[u8],
        dispute_id: i64,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO dispute_request_keys (actor, key, request_hash, dispute_id, created_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(actor)
        .bind(key)
        .bind(request_hash.to_vec())
        .bind(dispute_id)
        .bind(now.millis())
        .execute(self.conn())
        .await
        .map_err(duplicate_as("idempotency_key"))?;
        Ok(())
    }

    /// Marks the overdue mediation of a case warned; `false` when another
    /// scan did first (then nothing is written).
    pub async fn mark_mediation_warned(&mut self, dispute_id: i64, now: Timestamp) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE disputes SET mediation_warned = 1, updated_at = $2
             WHERE id = $1 AND mediation_warned = 0",
        )
        .bind(dispute_id)
        .bind(now.millis())
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Marks a missed follow-up visit warned; `false` when another scan did
    /// first or it is no longer pending.
    pub async fn mark_follow_up_warned(&mut self, follow_up_id: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE dispute_follow_ups SET missed_warned = 1
             WHERE id = $1 AND missed_warned = 0 AND status = 'pending'",
        )
        .bind(follow_up_id)
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
