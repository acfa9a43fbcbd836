//! Storage behind one interface, with two real backends: SQLite (the embedded
//! default) and PostgreSQL, chosen by the URL scheme.
//!
//! Both run the same queries through sqlx's `Any` driver; what differs per
//! backend — connecting, pragmas, migrations, the audit-chain lock — lives in
//! `sqlite.rs` and `postgres.rs`. Writes go through a [`Tx`], so a record and
//! the audit entry of its change commit together or not at all.

mod addresses;
mod audit;
mod bulk;
mod closed_loop;
mod deadlines;
mod directory;
mod disputes;
mod field_reports;
mod figures;
mod incidents;
mod orgs;
mod postgres;
mod public_reports;
mod reinforcements;
mod repeats;
mod responsibility;
mod roads;
mod rows;
mod sessions;
mod sqlite;
mod tasks;
mod tokens;
mod units;
mod users;
mod warnings;

#[cfg(feature = "testing")]
pub mod testing;

use std::sync::Arc;

use sqlx::any::AnyRow;
use sqlx::AnyPool;
use sqlx::{Any, Row, Transaction};

pub use addresses::{Building, BuildingQuery, Grid, Room};
pub use audit::AuditPage;
pub use bulk::{BulkEvent, BulkIncident};
pub use closed_loop::{InboxEntry, RoutingRule};
pub use disputes::{
    DisputeRecord, DisputeSummary, DisputeTimelineEntry, StoredParty, StoredSession,
};
pub use field_reports::ReportKey;
pub use figures::{BuildingPoint, Narrowing};
pub use incidents::{
    EarlierCall, IdempotencyRecord, IncidentExtras, IncidentRecord, NewIdempotencyKey,
    StoredIncident, TimelineEntry,
};
pub use public_reports::SourceQuery;
pub use reinforcements::NewReinforcement;
pub use repeats::{RepeatCandidate, RepeatLink};
pub use responsibility::Responsibility;
pub use sessions::Session;
pub use tasks::{DisputeWork, FollowUpDue, StationTask, VisitBuilding, WarningToClose};
pub use tokens::ApiToken;
pub use units::{NewUnit, PositionReport, UnitEntry};
pub use users::{NewUser, StoredUser};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    /// A unique constraint refused the write; names the column when known.
    #[error("a record with this {0} already exists")]
    Duplicate(&'static str),
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The database. Cheap to clone; all clones share the pools.
#[derive(Clone, Debug)]
pub struct Store {
    /// SQLite allows one writer at a time, so its writes queue on a single
    /// connection instead of failing with SQLITE_BUSY; PostgreSQL shares one
    /// pool for both.
    writer: AnyPool,
    reader: AnyPool,
    backend: Backend,
    /// Organisations and routing rules in memory (`directory.rs`).
    directory: Arc<directory::Directory>,
}

impl Store {
    /// Connects to `sqlite://PATH` (created if missing) or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        if url.starts_with("sqlite:") {
            let (writer, reader) = sqlite::connect(url).await?;
            Ok(Store {
                writer,
                reader,
                backend: Backend::Sqlite,
                directory: Arc::default(),
            })
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let pool = postgres::connect(url).await?;
            Ok(Store {
                writer: pool.clone(),
                reader: pool,
                backend: Backend::Postgres,
                directory: Arc::default(),
            })
        } else {
            Err(StoreError::UnsupportedUrl(url.to_owned()))
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies the embedded migrations of this backend that have not run yet.
    pub async fn migrate(&self) -> Result<()> {
        match self.backend {
            Backend::Sqlite => sqlite::MIGRATOR.run(&self.writer).await?,
            Backend::Postgres => postgres::MIGRATOR.run(&self.writer).await?,
        }
        Ok(())
    }

    /// For `/readyz`: the database answers a query.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.reader).await?;
        Ok(())
    }

    pub async fn begin(&self) -> Result<Tx> {
        Ok(Tx {
            inner: self.writer.begin().await?,
            backend: self.backend,
            directory: self.directory.clone(),
            directory_changed: false,
        })
    }

    pub async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }

    fn reader(&self) -> &AnyPool {
        &self.reader
    }
}

/// A write transaction. Dropped without `commit`, it rolls back.
pub struct Tx {
    inner: Transaction<'static, Any>,
    backend: Backend,
    directory: Arc<directory::Directory>,
    /// An organisation or routing rule was written: the store's snapshot
    /// of them is stale once this commits.
    directory_changed: bool,
}

impl Tx {
    pub async fn commit(self) -> Result<()> {
        self.inner.commit().await?;
        if self.directory_changed {
            self.directory.changed();
        }
        Ok(())
    }

    /// Marks where [`Tx::rollback_to_savepoint`] returns to: a group
    /// commit writes each of its changes after one, so a change refused in
    /// the database is undone alone and the others commit.
    pub async fn savepoint(&mut self) -> Result<()> {
        sqlx::Executor::execute(self.conn(), "SAVEPOINT change").await?;
        Ok(())
    }

    /// Forgets the savepoint, keeping what was written after it.
    pub async fn release_savepoint(&mut self) -> Result<()> {
        sqlx::Executor::execute(self.conn(), "RELEASE SAVEPOINT change").await?;
        Ok(())
    }

    /// Undoes what was written since the savepoint, which is forgotten;
    /// on PostgreSQL also after an error aborted the transaction.
    pub async fn rollback_to_savepoint(&mut self) -> Result<()> {
        sqlx::Executor::execute(self.conn(), "ROLLBACK TO SAVEPOINT change").await?;
        sqlx::Executor::execute(self.conn(), "RELEASE SAVEPOINT change").await?;
        Ok(())
    }

    fn conn(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.inner
    }
}

/// Maps a unique-constraint violation to `Duplicate(field)`.
fn duplicate_as(field: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |err| match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Duplicate(field),
        _ => StoreError::Database(err),
    }
}

type AnyQuery<'q> = sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>;

/// Binds an optional double. sqlx 0.8.6's `Any` driver swaps the null types
/// of f32 and f64 (sqlx-core `any/arguments.rs`): a `None::<f64>` reaches
/// PostgreSQL as float4, and the statement cached with it then refuses the
/// next real f64 ("incorrect binary data format"). A `None::<f32>` goes as
/// float8, which is what the column is.
fn bind_double(query: AnyQuery<'_>, value: Option<f64>) -> AnyQuery<'_> {
    match value {
        Some(v) => query.bind(v),
        None => query.bind(None::<f32>),
    }
}

fn get<'r, T>(row: &'r AnyRow, column: &str) -> Result<T>
where
    T: sqlx::Decode<'r, Any> + sqlx::Type<Any>,
{
    Ok(row.try_get(column)?)
}
