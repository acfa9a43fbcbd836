//! API tokens for machine clients (110 call-taking systems, sensors): stored
//! as hashes, scoped to an organisation and a set of permissions, revocable.

use std::collections::BTreeSet;
use std::str::FromStr;

use fengqiao_core::role::Permission;
use fengqiao_core::Timestamp;
use sqlx::any::AnyRow;

use crate::{duplicate_as, get, Result, Store, StoreError, Tx};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub org_id: i64,
    pub permissions: BTreeSet<Permission>,
    pub created_by: String,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

fn permissions_text(permissions: &BTreeSet<Permission>) -> String {
    permissions
        .iter()
        .map(|p| p.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

const COLUMNS: &str =
    "t.id, t.name, t.org_id, t.permissions, t.created_by, t.created_at, t.revoked_at";

fn from_row(row: &AnyRow) -> Result<ApiToken> {
    let text: String = get(row, "permissions")?;
    let permissions = text
        .split(',')
        .filter(|p| !p.is_empty())
        .map(|p| {
            Permission::from_str(p).map_err(|_| StoreError::Corrupt(format!("permission {p}")))
        })
        .collect::<Result<_>>()?;
    Ok(ApiToken {
        id: get(row, "id")?,
        name: get(row, "name")?,
        org_id: get(row, "org_id")?,
        permissions,
        created_by: get(row, "created_by")?,
        created_at: Timestamp(get(row, "created_at")?),
        revoked_at: get::<Option<i64>>(row, "revoked_at")?.map(Timestamp),
    })
}

impl Store {
    /// The live (not revoked) token with this secret hash.
    pub async fn api_token_by_hash(&self, token_hash: &[u8]) -> Result<Option<ApiToken>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM api_tokens t WHERE t.token_hash = $1 AND t.revoked_at IS NULL"
        );
        let row = sqlx::query(&sql)
            .bind(token_hash.to_vec())
            .fetch_optional(self.reader())
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    pub async fn api_token(&self, id: i64) -> Result<Option<ApiToken>> {
        let sql = format!("SELECT {COLUMNS} FROM api_tokens t WHERE t.id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(self.reader())
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    pub async fn api_tokens_within(&self, scope: &str) -> Result<Vec<ApiToken>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM api_tokens t JOIN organisations o ON o.id = t.org_id
             WHERE o.path LIKE $1 || '%' ORDER BY t.id"
        );
        let rows = sqlx::query(&sql)
            .bind(scope)
            .fetch_all(self.reader())
            .await?;
        rows.iter().map(from_row).collect()
    }
}

impl Tx {
    pub async fn insert_api_token(
        &mut self,
        name: &str,
        org_id: i64,
        permissions: &BTreeSet<Permission>,
        token_hash: &[u8],
        created_by: &str,
        now: Timestamp,
    ) -> Result<i64> {
        sqlx::query_scalar(
            "INSERT INTO api_tokens (name, org_id, permissions, token_hash, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(name)
        .bind(org_id)
        .bind(permissions_text(permissions))
        .bind(token_hash.to_vec())
        .bind(created_by)
        .bind(now.millis())
        .fetch_one(self.conn())
        .await
        .map_err(duplicate_as("token"))
    }

    /// Returns false when the token was already revoked.
    pub async fn revoke_api_token(&mut self, id: i64, now: Timestamp) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(now.millis())
        .bind(id)
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() > 0)
    }
}
