//! Warnings (预警). The core decides when one is raised and how it moves
//! (`fengqiao_core::warning`); this module writes what it decided. The
//! database holds the rule of one warning per subject and rule that is not
//! closed (a partial unique index), so two raises racing each other make one.

use std::str::FromStr;

use fengqiao_core::audit::Actor;
use fengqiao_core::role::Role;
use fengqiao_core::warning::{
    ActionRecord, Evidence, NewWarning, Recipient, RecipientKind, SubjectKind, Warning,
    WarningAction, WarningRule, WarningStatus, WarningSubject,
};
use fengqiao_core::work_order::HandlingNote;
use fengqiao_core::Timestamp;
use sqlx::any::AnyRow;

use crate::{get, Result, Store, StoreError, Tx};

fn recipient_from_row(row: &AnyRow) -> Result<Recipient> {
    let kind: String = get(row, "reason")?;
    Ok(Recipient {
        user_id: get(row, "user_id")?,
        kind: RecipientKind::from_str(&kind).map_err(|_| corrupt("reason", &kind))?,
    })
}

const WARNING_COLUMNS: &str = "id, rule, org_id, subject_kind, subject_id, evidence, status,
    raised_at, acknowledge_by, acknowledged_at, acknowledged_by, closed_at, closed_by,
    action, action_note, escalated_at";

fn corrupt(what: &str, value: impl std::fmt::Debug) -> StoreError {
    StoreError::Corrupt(format!("{what} {value:?}"))
}

fn actor(row: &AnyRow, column: &str) -> Result<Option<Actor>> {
    let text: Option<String> = get(row, column)?;
    text.map(|t| Actor::from_stored(&t).ok_or_else(|| corrupt(column, &t)))
        .transpose()
}

fn warning_from_row(row: &AnyRow) -> Result<Warning> {
    let rule: String = get(row, "rule")?;
    let kind: String = get(row, "subject_kind")?;
    let evidence: String = get(row, "evidence")?;
    let status: String = get(row, "status")?;
    let evidence: Evidence =
        serde_json::from_str(&evidence).map_err(|_| corrupt("evidence", &evidence))?;
    // The column is what the index de-duplicates on; it must agree with the
    // evidence that says which rule fired.
    if evidence.rule().as_str() != rule {
        return Err(corrupt("rule", &rule));
    }
    let action: Option<String> = get(row, "action")?;
    let note: Option<String> = get(row, "action_note")?;
    let action = match (action, note) {
        (Some(action), Some(note)) => Some(ActionRecord {
            action: WarningAction::from_str(&action).map_err(|_| corrupt("action", &action))?,
            note: HandlingNote::parse("note", &note).map_err(|_| corrupt("action_note", &note))?,
        }),
        _ => None,
    };
    Ok(Warning {
        id: get(row, "id")?,
        org_id: get(row, "org_id")?,
        subject: WarningSubject {
            kind: SubjectKind::from_str(&kind).map_err(|_| corrupt("subject_kind", &kind))?,
            id: get(row, "subject_id")?,
        },
        evidence,
        status: WarningStatus::from_str(&status).map_err(|_| corrupt("status", &status))?,
        raised_at: Timestamp(get(row, "raised_at")?),
        acknowledge_by: Timestamp(get(row, "acknowledge_by")?),
        acknowledged_at: get::<Option<i64>>(row, "acknowledged_at")?.map(Timestamp),
        acknowledged_by: actor(row, "acknowledged_by")?,
        closed_at: get::<Option<i64>>(row, "closed_at")?.map(Timestamp),
        closed_by: actor(row, "closed_by")?,
        action,
        escalated_at: get::<Option<i64>>(row, "escalated_at")?.map(Timestamp),
    })
}

impl Store {
    pub async fn warning(&self, id: i64) -> Result<Option<Warning>> {
        let sql = format!("SELECT {WARNING_COLUMNS} FROM warnings WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(self.reader())
            .await?;
        row.as_ref().map(warning_from_row).transpose()
    }

    /// The newest warnings (at most `limit`) raised for organisations whose
    /// path starts with `scope`, in `status` when given.
    pub async fn warnings_within(
        &self,
        scope: &str,
        status: Option<WarningStatus>,
        limit: i64,
    ) -> Result<Vec<Warning>> {
        let sql = format!(
            "SELECT {WARNING_COLUMNS} FROM warnings
             WHERE org_id IN (SELECT id FROM organisations WHERE path LIKE $1 || '%')
               AND ($2 = '' OR status = $2)
             ORDER BY raised_at DESC, id DESC LIMIT $3"
        );
        let rows = sqlx::query(&sql)
            .bind(scope)
            .bind(status.map_or("", WarningStatus::as_str))
            .bind(limit)
            .fetch_all(self.reader())
            .await?;
        rows.iter().map(warning_from_row).collect()
    }

    /// As [`Store::warnings_within`], and also the warnings delivered to
    /// `user_id` wherever they were raised: a grid worker's organisation
    /// need not be the station that must act.
    pub async fn warnings_visible_to(
        &self,
        scope: &str,
        user_id: Option<i64>,
        status: Option<WarningStatus>,
        limit: i64,
    ) -> Result<Vec<Warning>> {
        let sql = format!(
            "SELECT {WARNING_COLUMNS} FROM warnings
             WHERE (org_id IN (SELECT id FROM organisations WHERE path LIKE $1 || '%')
                    OR id IN (SELECT warning_id FROM warning_recipients WHERE user_id = $2))
               AND ($3 = '' OR status = $3)
             ORDER BY raised_at DESC, id DESC LIMIT $4"
        );
        let rows = sqlx::query(&sql)
            .bind(scope)
            .bind(user_id.unwrap_or(0))
            .bind(status.map_or("", WarningStatus::as_str))
            .bind(limit)
            .fetch_all(self.reader())
            .await?;
        rows.iter().map(warning_from_row).collect()
    }

    /// Who the warning was delivered to, in the order they were added.
    pub async fn warning_recipients(&self, warning_id: i64) -> Result<Vec<Recipient>> {
        let rows = sqlx::query(
            "SELECT user_id, reason FROM warning_recipients WHERE warning_id = $1
             ORDER BY added_at, user_id, reason",
        )
        .bind(warning_id)
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(recipient_from_row).collect()
    }

    /// Open warnings past their deadline to be acknowledged that have not
    /// escalated yet, oldest deadline first (at most `limit`).
    pub async fn warnings_due_escalation(&self, now: Timestamp, limit: i64) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM warnings
             WHERE status = 'open' AND escalated_at IS NULL AND acknowledge_by < $1
             ORDER BY acknowledge_by, id LIMIT $2",
        )
        .bind(now.millis())
        .bind(limit)
        .fetch_all(self.reader())
        .await?)
    }
}

impl Tx {
    /// Raises a warning and returns its id, or `None` when one for the same
    /// subject and rule is still open (acknowledged counts as open). Never
    /// fails on that conflict, so the transaction it is part of goes on.
    /// A raised warning is delivered to the community officer and the grid
    /// workers of its subject's grid (`Tx::responsibility`).
    pub async fn raise_warning(&mut self, new: &NewWarning, now: Timestamp) -> Result<Option<i64>> {
        let Some(id) = self.insert_warning(new, now).await? else {
            return Ok(None);
        };
        let responsible = self.responsibility(new.subject).await?;
        let recipients = responsible
            .officer_user_id
            .map(|user_id| Recipient {
                user_id,
                kind: RecipientKind::Officer,
            })
            .into_iter()
            .chain(
                responsible
                    .grid_worker_ids
                    .iter()
                    .map(|&user_id| Recipient {
                        user_id,
                        kind: RecipientKind::GridWorker,
                    }),
            );
        for recipient in recipients {
            self.add_warning_recipient(id, recipient, now).await?;
        }
        Ok(Some(id))
    }

    async fn add_warning_recipient(
        &mut self,
        warning_id: i64,
        recipient: Recipient,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO warning_recipients (warning_id, user_id, reason, added_at)
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(warning_id)
        .bind(recipient.user_id)
        .bind(recipient.kind.as_str())
        .bind(now.millis())
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// The enabled accounts of `org_id` with the station chief role (所长).
    pub async fn station_chiefs(&mut self, org_id: i64) -> Result<Vec<i64>> {
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT id, roles FROM users WHERE org_id = $1 AND disabled_at IS NULL ORDER BY id",
        )
        .bind(org_id)
        .fetch_all(self.conn())
        .await?;
        let mut chiefs = Vec::new();
        for (id, roles) in rows {
            let roles = fengqiao_core::role::Roles::parse_list(&roles)
                .map_err(|_| corrupt("roles", &roles))?;
            if roles.contains(Role::StationChief) {
                chiefs.push(id);
            }
        }
        Ok(chiefs)
    }

    /// Writes the escalation of `escalated` (the core's `Warning::escalate`)
    /// and delivers it to `chiefs`; `false` when it was acknowledged or
    /// escalated meanwhile, and nothing is written.
    pub async fn record_warning_escalation(
        &mut self,
        escalated: &Warning,
        chiefs: &[i64],
        now: Timestamp,
    ) -> Result<bool> {
        let Some(at) = escalated.escalated_at else {
            return Ok(false);
        };
        let done = sqlx::query(
            "UPDATE warnings SET escalated_at = $1, updated_at = $2
             WHERE id = $3 AND status = 'open' AND escalated_at IS NULL",
        )
        .bind(at.millis())
        .bind(now.millis())
        .bind(escalated.id)
        .execute(self.conn())
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        for &user_id in chiefs {
            let chief = Recipient {
                user_id,
                kind: RecipientKind::StationChief,
            };
            self.add_warning_recipient(escalated.id, chief, now).await?;
        }
        Ok(true)
    }

    async fn insert_warning(&mut self, new: &NewWarning, now: Timestamp) -> Result<Option<i64>> {
        let evidence = serde_json::to_string(&new.evidence)
            .map_err(|e| StoreError::Corrupt(format!("evidence: {e}")))?;
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO warnings (rule, org_id, subject_kind, subject_id, evidence, status,
                 raised_at, acknowledge_by, updated_at)
             VALUES ($1, $2, $3, $4, $5, 'open', $6, $7, $8)
             ON CONFLICT (subject_kind, subject_id, rule) WHERE status <> 'closed' DO NOTHING
             RETURNING id",
        )
        .bind(new.rule().as_str())
        .bind(new.org_id)
        .bind(new.subject.kind.as_str())
        .bind(new.subject.id)
        .bind(evidence)
        .bind(new.raised_at.millis())
        .bind(new.acknowledge_by.millis())
        .bind(now.millis())
        .fetch_optional(self.conn())
        .await?;
        Ok(id)
    }

    /// Whether a warning of `rule` on any of `subjects` is not yet closed.
    pub async fn open_warning_on(
        &mut self,
        rule: WarningRule,
        subjects: &[WarningSubject],
    ) -> Result<bool> {
        if subjects.is_empty() {
            return Ok(false);
        }
        // One indexed search per subject, in one statement: SQLite plans an
        // OR over the subjects as a scan of the whole open-warning index,
        // which grows with every warning ever left open.
        let sql = (0..subjects.len())
            .map(|n| {
                format!(
                    "SELECT id FROM warnings
                     WHERE subject_kind = ${} AND subject_id = ${} AND rule = $1
                       AND status <> 'closed'",
                    2 * n + 2,
                    2 * n + 3
                )
            })
            .collect::<Vec<_>>()
            .join(" UNION ALL ")
            + " LIMIT 1";
        let mut query = sqlx::query_scalar::<_, i64>(&sql).bind(rule.as_str());
        for subject in subjects {
            query = query.bind(subject.kind.as_str()).bind(subject.id);
        }
        Ok(query.fetch_optional(self.conn()).await?.is_some())
    }

    /// Writes a transition of the warning `from` the status it was read in;
    /// `false` when someone else moved it first, and nothing is written.
    pub async fn update_warning(
        &mut self,
        warning: &Warning,
        from: WarningStatus,
        now: Timestamp,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE warnings SET status = $1, acknowledged_at = $2, acknowledged_by = $3,
                 closed_at = $4, closed_by = $5, action = $6, action_note = $7, updated_at = $8
             WHERE id = $9 AND status = $10",
        )
        .bind(warning.status.as_str())
        .bind(warning.acknowledged_at.map(Timestamp::millis))
        .bind(warning.acknowledged_by.as_ref().map(Actor::to_stored))
        .bind(warning.closed_at.map(Timestamp::millis))
        .bind(warning.closed_by.as_ref().map(Actor::to_stored))
        .bind(warning.action.as_ref().map(|a| a.action.as_str()))
        .bind(warning.action.as_ref().map(|a| a.note.as_str().to_owned()))
        .bind(now.millis())
        .bind(warning.id)
        .bind(from.as_str())
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
