//! Accounts, sign-in failures and locks.

use fengqiao_core::role::Roles;
use fengqiao_core::user::{User, Username};
use fengqiao_core::Timestamp;
use sqlx::any::AnyRow;

use crate::{duplicate_as, get, Result, Store, StoreError, Tx};

/// An account with its stored secrets, for the layers that check passwords
/// and decrypt personal data. Never serialised as a whole.
#[derive(Debug, Clone)]
pub struct StoredUser {
    pub user: User,
    pub password_hash: String,
    /// Encrypted personal data (see `PersonalDataCipher`).
    pub full_name: Option<Vec<u8>>,
    pub phone: Option<Vec<u8>>,
}

pub struct NewUser {
    pub username: Username,
    pub org_id: i64,
    pub roles: Roles,
    pub password_hash: String,
    pub full_name: Option<Vec<u8>>,
    pub phone: Option<Vec<u8>>,
    pub phone_index: Option<Vec<u8>>,
}

const COLUMNS: &str = "u.id, u.username, u.org_id, u.roles, u.password_hash, u.full_name, u.phone,
                       u.disabled_at, u.locked_at, u.created_at";

fn from_row(row: &AnyRow) -> Result<StoredUser> {
    let username: String = get(row, "username")?;
    let roles: String = get(row, "roles")?;
    let disabled_at: Option<i64> = get(row, "disabled_at")?;
    let locked_at: Option<i64> = get(row, "locked_at")?;
    Ok(StoredUser {
        user: User {
            id: get(row, "id")?,
            username: Username::parse(&username)
                .map_err(|_| StoreError::Corrupt(format!("username {username}")))?,
            org_id: get(row, "org_id")?,
            roles: Roles::parse_list(&roles)
                .map_err(|_| StoreError::Corrupt(format!("roles {roles}")))?,
            disabled: disabled_at.is_some(),
            locked_at: locked_at.map(Timestamp),
            created_at: Timestamp(get(row, "created_at")?),
        },
        password_hash: get(row, "password_hash")?,
        full_name: get(row, "full_name")?,
        phone: get(row, "phone")?,
    })
}

impl Store {
    pub async fn user(&self, id: i64) -> Result<Option<StoredUser>> {
        let sql = format!("SELECT {COLUMNS} FROM users u WHERE u.id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(self.reader())
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    pub async fn user_by_username(&self, username: &Username) -> Result<Option<StoredUser>> {
        let sql = format!("SELECT {COLUMNS} FROM users u WHERE u.username = $1");
        let row = sqlx::query(&sql)
            .bind(username.as_str())
            .fetch_optional(self.reader())
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Accounts of the organisations whose path starts with `scope`.
    pub async fn users_within(&self, scope: &str) -> Result<Vec<StoredUser>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM users u JOIN organisations o ON o.id = u.org_id
             WHERE o.path LIKE $1 || '%' ORDER BY u.username"
        );
        let rows = sqlx::query(&sql)
            .bind(scope)
            .fetch_all(self.reader())
            .await?;
        rows.iter().map(from_row).collect()
    }

    pub async fn count_users(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(self.reader())
            .await?)
    }
}

impl Tx {
    pub async fn insert_user(&mut self, new: &NewUser, now: Timestamp) -> Result<i64> {
        let id = sqlx::query_scalar(
            "INSERT INTO users (username, org_id, roles, password_hash, full_name, phone,
                                phone_index, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
        )
        .bind(new.username.as_str())
        .bind(new.org_id)
        .bind(new.roles.to_list())
        .bind(new.password_hash.clone())
        .bind(new.full_name.clone())
        .bind(new.phone.clone())
        .bind(new.phone_index.clone())
        .bind(now.millis())
        .fetch_one(self.conn())
        .await
        .map_err(duplicate_as("username"))?;
        Ok(id)
    }

    pub async fn set_roles(&mut self, user_id: i64, roles: &Roles, now: Timestamp) -> Result<()> {
        sqlx::query("UPDATE users SET roles = $1, updated_at = $2 WHERE id = $3")
            .bind(roles.to_list())
            .bind(now.millis())
            .bind(user_id)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Disabling also ends every session of the account.
    pub async fn disable_user(&mut self, user_id: i64, now: Timestamp) -> Result<()> {
        sqlx::query("UPDATE users SET disabled_at = $1, updated_at = $1 WHERE id = $2")
            .bind(now.millis())
            .bind(user_id)
            .execute(self.conn())
            .await?;
        self.delete_sessions_of(user_id).await
    }

    /// A new password ends every session of the account and lifts a lock.
    pub async fn set_password_hash(
        &mut self,
        user_id: i64,
        password_hash: &str,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE users SET password_hash = $1, locked_at = NULL, updated_at = $2 WHERE id = $3",
        )
        .bind(password_hash)
        .bind(now.millis())
        .bind(user_id)
        .execute(self.conn())
        .await?;
        self.clear_sign_in_failures(user_id).await?;
        self.delete_sessions_of(user_id).await
    }

    /// Records a failed sign-in and returns how many there were since
    /// `window_start`, this one included.
    pub async fn record_sign_in_failure(
        &mut self,
        user_id: i64,
        now: Timestamp,
        window_start: Timestamp,
    ) -> Result<u32> {
        sqlx::query("INSERT INTO sign_in_failures (user_id, at) VALUES ($1, $2)")
            .bind(user_id)
            .bind(now.millis())
            .execute(self.conn())
            .await?;
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sign_in_failures WHERE user_id = $1 AND at > $2",
        )
        .bind(user_id)
        .bind(window_start.millis())
        .fetch_one(self.conn())
        .await?;
        Ok(count as u32)
    }

    pub async fn clear_sign_in_failures(&mut self, user_id: i64) -> Result<()> {
        sqlx::query("DELETE FROM sign_in_failures WHERE user_id = $1")
            .bind(user_id)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    pub async fn lock_user(&mut self, user_id: i64, now: Timestamp) -> Result<()> {
        sqlx::query("UPDATE users SET locked_at = $1, updated_at = $1 WHERE id = $2")
            .bind(now.millis())
            .bind(user_id)
            .execute(self.conn())
            .await?;
        self.delete_sessions_of(user_id).await
    }

    pub async fn unlock_user(&mut self, user_id: i64, now: Timestamp) -> Result<()> {
        sqlx::query("UPDATE users SET locked_at = NULL, updated_at = $1 WHERE id = $2")
            .bind(now.millis())
            .bind(user_id)
            .execute(self.conn())
            .await?;
        self.clear_sign_in_failures(user_id).await
    }
}
