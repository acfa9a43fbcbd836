//! The second backend, for a city or a province with several server instances.

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::AnyPool;

use crate::Result;

pub(crate) static MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

/// The advisory lock that orders audit appends across server instances: the
/// chain needs each entry to see the one before it.
pub(crate) const AUDIT_CHAIN_LOCK: &str = "SELECT pg_advisory_xact_lock(20190101)";

pub(crate) async fn connect(url: &str) -> Result<AnyPool> {
    let options = AnyConnectOptions::from_str(url)?;
    Ok(AnyPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(Duration::from_secs(30))
        .connect_with(options)
        .await?)
}
