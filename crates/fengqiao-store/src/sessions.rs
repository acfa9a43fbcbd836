//! Server-side sessions, keyed by the hash of the cookie's secret so a copy
//! of the database cannot be used to sign in.

use fengqiao_core::Timestamp;

use crate::{Result, Store, Tx};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Session {
    pub user_id: i64,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
}

impl Store {
    pub async fn session(&self, token_hash: &[u8]) -> Result<Option<Session>> {
        let row: Option<(i64, i64, i64)> = sqlx::query_as(
            "SELECT user_id, created_at, last_seen_at FROM sessions WHERE token_hash = $1",
        )
        .bind(token_hash.to_vec())
        .fetch_optional(self.reader())
        .await?;
        Ok(row.map(|(user_id, created, seen)| Session {
            user_id,
            created_at: Timestamp(created),
            last_seen_at: Timestamp(seen),
        }))
    }

    /// Marks the session as used. A plain write outside any transaction: it
    /// changes nothing that the audit log records.
    pub async fn touch_session(&self, token_hash: &[u8], now: Timestamp) -> Result<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
            .bind(now.millis())
            .bind(token_hash.to_vec())
            .execute(&self.writer)
            .await?;
        Ok(())
    }
}

impl Tx {
    pub async fn insert_session(
        &mut self,
        token_hash: &[u8],
        user_id: i64,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at)
             VALUES ($1, $2, $3, $3)",
        )
        .bind(token_hash.to_vec())
        .bind(user_id)
        .bind(now.millis())
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Returns whether a session was there to end.
    pub async fn delete_session(&mut self, token_hash: &[u8]) -> Result<bool> {
        let done = sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash.to_vec())
            .execute(self.conn())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn delete_sessions_of(&mut self, user_id: i64) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    pub async fn delete_idle_sessions(&mut self, idle_since: Timestamp) -> Result<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE last_seen_at < $1")
            .bind(idle_since.millis())
            .execute(self.conn())
            .await?;
        Ok(done.rows_affected())
    }
}
