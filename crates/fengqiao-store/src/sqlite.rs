//! The embedded default: one file in the data directory.

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::AnyPool;
use sqlx::Executor;

use crate::Result;

pub(crate) static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

/// WAL lets readers work while one writer commits; `synchronous=FULL` makes an
/// acknowledged commit survive a power cut; the busy timeout covers the brief
/// moments when a checkpoint holds the file.
const PRAGMAS: &str = "PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;
PRAGMA busy_timeout = 10000;
PRAGMA foreign_keys = ON;";

pub(crate) async fn connect(url: &str) -> Result<(AnyPool, AnyPool)> {
    let url = with_create_mode(url);
    let options = AnyConnectOptions::from_str(&url)?;
    let pool = |max: u32| {
        AnyPoolOptions::new()
            .max_connections(max)
            .acquire_timeout(Duration::from_secs(30))
            // A connection to a file in this process cannot be dropped by
            // a server: the ping sqlx sends before handing one out was a
            // round trip to the connection's thread before every query.
            .test_before_acquire(false)
            .after_connect(|conn, _meta| {
                Box::pin(async move {
                    conn.execute(PRAGMAS).await?;
                    Ok(())
                })
            })
    };
    let writer = pool(1).connect_with(options.clone()).await?;
    let reader = pool(8).connect_with(options).await?;
    Ok((writer, reader))
}

/// Creates the database file on first use unless the URL says otherwise.
fn with_create_mode(url: &str) -> String {
    if url.contains("mode=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}
