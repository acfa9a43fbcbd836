//! The append-only, hash-chained audit log.

use fengqiao_core::audit::{AuditEntry, AuditEvent, ChainBreak, ChainVerifier, GENESIS_HASH};
use fengqiao_core::Timestamp;
use sqlx::any::AnyRow;

use crate::rows::{placeholders, ROWS_PER_STATEMENT};
use crate::{get, postgres, Backend, Result, Store, Tx};

/// One page of the log, oldest first, and where the next page starts.
#[derive(Debug, Clone)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub next_after: Option<i64>,
}

const COLUMNS: &str =
    "seq, at, actor, org_id, action, object_type, object_id, outcome, source, detail, prev_hash, hash";

fn from_row(row: &AnyRow) -> Result<AuditEntry> {
    Ok(AuditEntry {
        seq: get(row, "seq")?,
        at: Timestamp(get(row, "at")?),
        actor: get(row, "actor")?,
        org_id: get(row, "org_id")?,
        action: get(row, "action")?,
        object_type: get(row, "object_type")?,
        object_id: get(row, "object_id")?,
        outcome: get(row, "outcome")?,
        source: get(row, "source")?,
        detail: get(row, "detail")?,
        prev_hash: get(row, "prev_hash")?,
        hash: get(row, "hash")?,
    })
}

impl Store {
    /// Entries after `after_seq`, oldest first, at most `limit`.
    pub async fn audit_entries(&self, after_seq: i64, limit: i64) -> Result<AuditPage> {
        self.audit_page(None, after_seq, limit).await
    }

    /// Like [`Store::audit_entries`], but only the entries of organisations
    /// whose path starts with `scope`: an auditor below the top of the tree
    /// sees their own jurisdiction.
    pub async fn audit_entries_within(
        &self,
        scope: &str,
        after_seq: i64,
        limit: i64,
    ) -> Result<AuditPage> {
        self.audit_page(Some(scope), after_seq, limit).await
    }

    async fn audit_page(
        &self,
        scope: Option<&str>,
        after_seq: i64,
        limit: i64,
    ) -> Result<AuditPage> {
        let filter = if scope.is_some() {
            "AND org_id IN (SELECT id FROM organisations WHERE path LIKE $3 || '%')"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM audit_log WHERE seq > $1 {filter} ORDER BY seq LIMIT $2"
        );
        let mut query = sqlx::query(&sql).bind(after_seq).bind(limit);
        if let Some(scope) = scope {
            query = query.bind(scope);
        }
        let rows = query.fetch_all(self.reader()).await?;
        let entries = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
        let next_after = (entries.len() as i64 == limit)
            .then(|| entries.last().map(|e| e.seq))
            .flatten();
        Ok(AuditPage {
            entries,
            next_after,
        })
    }

    /// Walks the whole log in pages and returns how many entries verified,
    /// or the first break in the chain.
    pub async fn verify_audit_chain(&self) -> Result<Result<i64, ChainBreak>> {
        let mut verifier = ChainVerifier::default();
        let mut after = 0;
        loop {
            let page = self.audit_entries(after, 5_000).await?;
            for entry in &page.entries {
                if let Err(broken) = verifier.check(entry) {
                    return Ok(Err(broken));
                }
            }
            match page.next_after {
                Some(next) => after = next,
                None => return Ok(Ok(verifier.verified())),
            }
        }
    }
}

impl Tx {
    /// Appends an entry chained to the last one. Runs inside the transaction
    /// of the change it records, so both commit or neither does.
    pub async fn append_audit(&mut self, event: &AuditEvent, now: Timestamp) -> Result<AuditEntry> {
        let mut entries = self
            .append_audit_many(std::slice::from_ref(event), now)
            .await?;
        entries
            .pop()
            .ok_or_else(|| crate::StoreError::Corrupt("no audit entry appended".into()))
    }

    /// Appends `events` in order, each chained to the one before and the
    /// first to the last entry stored: one read of the chain's end and a
    /// few multi-row statements, for a group of changes committed together.
    pub async fn append_audit_many(
        &mut self,
        events: &[AuditEvent],
        now: Timestamp,
    ) -> Result<Vec<AuditEntry>> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        if self.backend == Backend::Postgres {
            // SQLite already has a single writer; PostgreSQL needs the lock.
            sqlx::query(postgres::AUDIT_CHAIN_LOCK)
                .execute(self.conn())
                .await?;
        }
        let last: Option<(i64, Vec<u8>)> =
            sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
                .fetch_optional(self.conn())
                .await?;
        let (mut seq, mut prev_hash) = match last {
            Some((seq, hash)) => (seq + 1, hash),
            None => (1, GENESIS_HASH.to_vec()),
        };
        let mut entries = Vec::with_capacity(events.len());
        for event in events {
            let entry = AuditEntry::chain(event, seq, now, &prev_hash);
            seq += 1;
            prev_hash.clone_from(&entry.hash);
            entries.push(entry);
        }
        for chunk in entries.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO audit_log ({COLUMNS}) VALUES {}",
                placeholders(chunk.len(), 12)
            );
            let mut query = sqlx::query(&sql);
            for entry in chunk {
                query = query
                    .bind(entry.seq)
                    .bind(entry.at.millis())
                    .bind(entry.actor.clone())
                    .bind(entry.org_id)
                    .bind(entry.action.clone())
                    .bind(entry.object_type.clone())
                    .bind(entry.object_id.clone())
                    .bind(entry.outcome.clone())
                    .bind(entry.source.clone())
                    .bind(entry.detail.clone())
                    .bind(entry.prev_hash.clone())
                    .bind(entry.hash.clone());
            }
            query.execute(self.conn()).await?;
        }
        Ok(entries)
    }
}
