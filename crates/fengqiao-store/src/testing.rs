//! Test databases: a temporary SQLite file always, and a fresh PostgreSQL
//! schema when `FENGQIAO_TEST_PG_URL` names a server. Several test runs can
//! share one PostgreSQL server: each test gets its own schema, dropped after.

use std::sync::atomic::{AtomicU64, Ordering};

use rand::Rng;

use crate::{Backend, Store};

pub const PG_URL_VARIABLE: &str = "FENGQIAO_TEST_PG_URL";

/// A migrated store that is removed when dropped.
pub struct TestDatabase {
    pub store: Store,
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[allow(dead_code, reason = "kept alive until drop")] tempfile::TempDir),
    Postgres { admin_url: String, schema: String },
}

impl TestDatabase {
    /// `None` when the backend is PostgreSQL and no test server is configured.
    pub async fn create(backend: Backend) -> Option<TestDatabase> {
        let (url, cleanup) = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let url = format!("sqlite://{}", dir.path().join("fengqiao.db").display());
                (url, Cleanup::Sqlite(dir))
            }
            Backend::Postgres => {
                let admin_url = std::env::var(PG_URL_VARIABLE).ok()?;
                return Some(TestDatabase::postgres_at(&admin_url).await);
            }
        };
        Some(TestDatabase::migrated(url, cleanup).await)
    }

    /// A fresh schema on the PostgreSQL server at `admin_url`, dropped with
    /// the value: for tests and for benchmarks that must leave nothing behind.
    pub async fn postgres_at(admin_url: &str) -> TestDatabase {
        let schema = unique_schema_name();
        let admin = Store::connect(admin_url)
            .await
            .expect("connect to test PostgreSQL");
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&admin.writer)
            .await
            .expect("create test schema");
        admin.close().await;
        let separator = if admin_url.contains('?') { '&' } else { '?' };
        let url = format!("{admin_url}{separator}options=-c%20search_path%3D{schema}");
        let cleanup = Cleanup::Postgres {
            admin_url: admin_url.to_owned(),
            schema,
        };
        TestDatabase::migrated(url, cleanup).await
    }

    async fn migrated(url: String, cleanup: Cleanup) -> TestDatabase {
        let store = Store::connect(&url)
            .await
            .expect("connect to test database");
        store.migrate().await.expect("migrate test database");
        TestDatabase {
            store,
            url,
            cleanup,
        }
    }
}

fn unique_schema_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    format!(
        "fq_test_{}_{}_{:08x}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        rand::thread_rng().gen::<u32>()
    )
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin_url, schema } = &self.cleanup {
            // Drop runs outside async code: use a runtime of its own on a
            // separate thread so this works inside or outside a runtime.
            let (admin_url, schema) = (admin_url.clone(), schema.clone());
            let store = self.store.clone();
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime for cleanup");
                runtime.block_on(async move {
                    store.close().await;
                    if let Ok(admin) = Store::connect(&admin_url).await {
                        let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                            .execute(&admin.writer)
                            .await;
                        admin.close().await;
                    }
                });
            })
            .join();
        }
    }
}

/// Declares one test per backend: `NAME::sqlite` and `NAME::postgres`, so the
/// test output shows which backend ran. The PostgreSQL one says it skipped
/// when `FENGQIAO_TEST_PG_URL` is unset.
#[macro_export]
macro_rules! backend_tests {
    ($(async fn $name:ident($db:ident: $ty:ty) $body:block)*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($db: $ty) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let db = $crate::testing::TestDatabase::create($crate::Backend::Sqlite)
                    .await
                    .expect("sqlite is always available");
                run(db).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                match $crate::testing::TestDatabase::create($crate::Backend::Postgres).await {
                    Some(db) => run(db).await,
                    None => eprintln!(
                        "skipped on postgres: set {} to run it",
                        $crate::testing::PG_URL_VARIABLE
                    ),
                }
            }
        }
    )*};
}

impl Store {
    /// Runs arbitrary SQL, bypassing the interface: for tests that play an
    /// intruder (tampering with the audit log, reading raw rows).
    pub async fn execute_raw_for_tests(&self, sql: &str) -> crate::Result<()> {
        sqlx::raw_sql(sql).execute(&self.writer).await?;
        // It may have changed organisations or routing rules.
        self.directory.changed();
        Ok(())
    }
}

impl Store {
    /// Every row of `table` as text, for tests that search stored data for
    /// values that must not be there in plain text.
    /// The tables of the schema, migrations' bookkeeping aside, by name.
    pub async fn tables_for_tests(&self) -> crate::Result<Vec<String>> {
        let sql = match self.backend {
            Backend::Sqlite => {
                "SELECT name FROM sqlite_master WHERE type = 'table'
                 AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations' ORDER BY name"
            }
            Backend::Postgres => {
                "SELECT table_name::text FROM information_schema.tables
                 WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
                 AND table_name <> '_sqlx_migrations' ORDER BY table_name"
            }
        };
        Ok(sqlx::query_scalar(sql).fetch_all(&self.reader).await?)
    }

    /// Every row of `table` as `column=value` pairs in column order, the
    /// columns named in `skip` (as `column` or `table.column`) left out, rows
    /// sorted: for comparing two databases record by record.
    pub async fn rows_for_tests(&self, table: &str, skip: &[&str]) -> crate::Result<Vec<String>> {
        use sqlx::{Column, Row, ValueRef};
        let rows = sqlx::query(&format!("SELECT * FROM {table}"))
            .fetch_all(&self.reader)
            .await?;
        let mut lines = Vec::with_capacity(rows.len());
        for row in rows {
            let mut line = String::new();
            for (i, column) in row.columns().iter().enumerate() {
                let qualified = format!("{table}.{}", column.name());
                if skip.contains(&column.name()) || skip.contains(&qualified.as_str()) {
                    continue;
                }
                let value = if row.try_get_raw(i)?.is_null() {
                    "NULL".to_owned()
                } else if let Ok(value) = row.try_get::<i64, _>(i) {
                    value.to_string()
                } else if let Ok(value) = row.try_get::<f64, _>(i) {
                    format!("{value:.6}")
                } else if let Ok(value) = row.try_get::<String, _>(i) {
                    value
                } else if let Ok(value) = row.try_get::<Vec<u8>, _>(i) {
                    value.iter().map(|b| format!("{b:02x}")).collect()
                } else if let Ok(value) = row.try_get::<bool, _>(i) {
                    value.to_string()
                } else {
                    "?".to_owned()
                };
                line.push_str(column.name());
                line.push('=');
                line.push_str(&value);
                line.push('\t');
            }
            lines.push(line);
        }
        lines.sort();
        Ok(lines)
    }

    pub async fn table_text_for_tests(&self, table: &str) -> crate::Result<String> {
        let sql = match self.backend {
            Backend::Sqlite => format!("SELECT * FROM {table}"),
            Backend::Postgres => format!("SELECT row_to_json(t)::text AS row FROM {table} t"),
        };
        let rows = sqlx::query(&sql).fetch_all(&self.reader).await?;
        let mut text = String::new();
        for row in rows {
            use sqlx::{Row, ValueRef};
            for i in 0..row.columns().len() {
                if row.try_get_raw(i)?.is_null() {
                    continue;
                }
                if let Ok(value) = row.try_get::<String, _>(i) {
                    text.push_str(&value);
                } else if let Ok(value) = row.try_get::<Vec<u8>, _>(i) {
                    text.push_str(&String::from_utf8_lossy(&value));
                } else if let Ok(value) = row.try_get::<i64, _>(i) {
                    text.push_str(&value.to_string());
                }
                text.push('\t');
            }
            text.push('\n');
        }
        Ok(text)
    }
}

impl Store {
    /// What the database's own consistency check finds wrong, empty when
    /// nothing: SQLite's `PRAGMA integrity_check`; on PostgreSQL amcheck
    /// over the schema — every table's heap (`verify_heapam`) and every
    /// B-tree index against it (`bt_index_check` with `heapallindexed`).
    /// For tests that kill the server mid-write.
    pub async fn integrity_problems_for_tests(&self) -> crate::Result<Vec<String>> {
        match self.backend {
            Backend::Sqlite => {
                let rows: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
                    .fetch_all(&self.reader)
                    .await?;
                Ok(rows.into_iter().filter(|row| row != "ok").collect())
            }
            Backend::Postgres => {
                // In `public`, so a test schema dropped with CASCADE does not
                // take the extension from runs beside it; a concurrent run
                // creating it first is fine.
                let _ = sqlx::raw_sql("CREATE EXTENSION IF NOT EXISTS amcheck SCHEMA public")
                    .execute(&self.writer)
                    .await;
                let relations: Vec<(i64, String, String)> = sqlx::query_as(
                    "SELECT c.oid::bigint, c.relname::text, c.relkind::text FROM pg_class c
                     JOIN pg_namespace n ON n.oid = c.relnamespace
                     LEFT JOIN pg_am a ON a.oid = c.relam
                     WHERE n.nspname = current_schema()
                       AND (c.relkind = 'r' OR (c.relkind = 'i' AND a.amname = 'btree'))
                     ORDER BY c.relname",
                )
                .fetch_all(&self.reader)
                .await?;
                let mut problems = Vec::new();
                for (oid, name, kind) in relations {
                    if kind == "r" {
                        let sql = format!(
                            "SELECT COUNT(*)::bigint FROM public.verify_heapam({oid}::oid::regclass)"
                        );
                        let corrupt: i64 = sqlx::query_scalar(&sql).fetch_one(&self.reader).await?;
                        if corrupt > 0 {
                            problems.push(format!("table {name}: {corrupt} corrupt tuples"));
                        }
                    } else {
                        let sql =
                            format!("SELECT public.bt_index_check({oid}::oid::regclass, true)");
                        if let Err(err) = sqlx::raw_sql(&sql).execute(&self.reader).await {
                            problems.push(format!("index {name}: {err}"));
                        }
                    }
                }
                Ok(problems)
            }
        }
    }
}

/// The organisations most tests start from: a county bureau with two
/// police stations in two of its streets, so one station's records are
/// foreign to the other.
pub struct TwoStations {
    pub county: fengqiao_core::org::Organisation,
    pub station_a: fengqiao_core::org::Organisation,
    pub station_b: fengqiao_core::org::Organisation,
}

pub async fn two_stations(store: &Store, at: fengqiao_core::Timestamp) -> TwoStations {
    use fengqiao_core::org::{DivisionCode, NewOrganisation, OrgKind};
    let org = |parent: Option<i64>, kind, name: &str, code: &str| NewOrganisation {
        parent_id: parent,
        kind,
        department_type: None,
        name: name.into(),
        division_codes: vec![DivisionCode::parse(code).expect("a valid code")],
    };
    let mut tx = store.begin().await.expect("begin");
    let county = tx
        .insert_organisation(
            &org(None, OrgKind::CountyBureau, "武侯区分局", "510107"),
            at,
        )
        .await
        .expect("county");
    let station_a = tx
        .insert_organisation(
            &org(
                Some(county.id),
                OrgKind::PoliceStation,
                "浆洗街派出所",
                "510107001",
            ),
            at,
        )
        .await
        .expect("station A");
    let station_b = tx
        .insert_organisation(
            &org(
                Some(county.id),
                OrgKind::PoliceStation,
                "望江路派出所",
                "510107004",
            ),
            at,
        )
        .await
        .expect("station B");
    tx.commit().await.expect("commit");
    TwoStations {
        county,
        station_a,
        station_b,
    }
}
