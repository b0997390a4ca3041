//! Schema migrations.
//!
//! Design decision: `sqlx::migrate!` is a macro from `sqlx-macros`, which the workspace keeps
//! off, so the store runs its own tiny migrator. Migrations are SQL files embedded with
//! `include_str!`, one folder per backend (`migrations/sqlite`, `migrations/postgres`),
//! numbered from 1. Applied versions are recorded in `portcullis_migrations`
//! (`version`, `name`, `applied_at`). Each migration runs in its own transaction together
//! with its bookkeeping row, so a crash leaves the schema at a whole version. Concurrent
//! openers serialize on `BEGIN IMMEDIATE` (SQLite) or a transaction-scoped advisory lock
//! (PostgreSQL). A database whose version is newer than this build refuses to open.

use sqlx::{AssertSqlSafe, Row};

use crate::backend::{Backend, BackendKind, BeginWrite, on_pool};
use crate::error::{Result, StoreError};
use crate::tags::TagIndex as _;

struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
    /// What runs after the SQL, in the same transaction.
    then: Then,
}

/// A migration's step in Rust.
#[derive(Clone, Copy, PartialEq)]
enum Then {
    Nothing,
    /// Fill the tag index from the tag rows.
    RebuildTagIndex,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sqlite: include_str!("../migrations/sqlite/0001_init.sql"),
        postgres: include_str!("../migrations/postgres/0001_init.sql"),
        then: Then::Nothing,
    },
    Migration {
        // The change counter that tells other processes (SQLite) to drop cached principals.
        version: 2,
        name: "principals_generation",
        sqlite: include_str!("../migrations/sqlite/0002_principals_generation.sql"),
        postgres: include_str!("../migrations/postgres/0002_principals_generation.sql"),
        then: Then::Nothing,
    },
    Migration {
        // A covering (kind, record_id, key) index for get and removals (replaces `tags_get`).
        version: 3,
        name: "tags_probe_index",
        sqlite: include_str!("../migrations/sqlite/0003_tags_probe_index.sql"),
        postgres: include_str!("../migrations/postgres/0003_tags_probe_index.sql"),
        then: Then::Nothing,
    },
    Migration {
        // The tag index (bitmaps per key and chunk of ids) that finds read. Filled by
        // version 6's step, which writes the row and key versions that versions 5 and 6
        // add (a database from before the index gets all three in one opening).
        version: 4,
        name: "tag_index",
        sqlite: include_str!("../migrations/sqlite/0004_tag_index.sql"),
        postgres: include_str!("../migrations/postgres/0004_tag_index.sql"),
        then: Then::Nothing,
    },
    Migration {
        // Row versions of the tag index, which the finds' chunk caches check. Filled
        // by version 6's step.
        version: 5,
        name: "tag_bits_version",
        sqlite: include_str!("../migrations/sqlite/0005_tag_bits_version.sql"),
        postgres: include_str!("../migrations/postgres/0005_tag_bits_version.sql"),
        then: Then::Nothing,
    },
    Migration {
        // Key versions of the tag index, which the finds' head caches check; then the
        // index is (re)built, so every row and key has a version written by this build
        // (a database at version 4 or 5 is rebuilt once more: seconds for millions of
        // tags).
        version: 6,
        name: "tag_keys",
        sqlite: include_str!("../migrations/sqlite/0006_tag_keys.sql"),
        postgres: include_str!("../migrations/postgres/0006_tag_keys.sql"),
        then: Then::RebuildTagIndex,
    },
    Migration {
        // Server-side sessions (portcullis-web). Numbered 100 so the identity schema can
        // grow in 2..99 meanwhile; keep MIGRATIONS sorted by version.
        version: 100,
        name: "sessions",
        sqlite: include_str!("../migrations/sqlite/0100_sessions.sql"),
        postgres: include_str!("../migrations/postgres/0100_sessions.sql"),
        then: Then::Nothing,
    },
];

/// The newest schema version this build knows.
pub const SCHEMA_VERSION: i64 = 100;

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS portcullis_migrations (\
    version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)";

/// Applies the pending migrations; returns the versions applied.
pub(crate) async fn run(backend: &Backend, now: i64) -> Result<Vec<i64>> {
    let kind = backend.kind();
    let mut applied = Vec::new();
    on_pool!(backend, pool => {
        sqlx::raw_sql(CREATE_TABLE).execute(pool).await?;
        for m in MIGRATIONS {
            let mut tx = pool.begin_write().await?;
            if kind == BackendKind::Postgres {
                sqlx::query("SELECT pg_advisory_xact_lock(727384001)")
                    .execute(&mut *tx)
                    .await?;
            }
            let current: i64 =
                sqlx::query("SELECT COALESCE(MAX(version), 0) AS v FROM portcullis_migrations")
                    .fetch_one(&mut *tx)
                    .await?
                    .try_get("v")?;
            if current > SCHEMA_VERSION {
                return Err(StoreError::SchemaTooNew {
                    found: current,
                    supported: SCHEMA_VERSION,
                });
            }
            // Skip exactly the versions already applied (not everything below the newest one),
            // so a migration numbered between two applied ones still runs.
            let done = sqlx::query("SELECT 1 AS one FROM portcullis_migrations WHERE version = $1")
                .bind(m.version)
                .fetch_optional(&mut *tx)
                .await?
                .is_some();
            if done {
                tx.rollback().await?;
                continue;
            }
            let sql = match kind {
                BackendKind::Sqlite => m.sqlite,
                BackendKind::Postgres => m.postgres,
            };
            sqlx::raw_sql(AssertSqlSafe(sql))
                .execute(&mut *tx)
                .await
                .map_err(|e| StoreError::Migration {
                    version: m.version,
                    reason: StoreError::from(e).to_string(),
                })?;
            if m.then == Then::RebuildTagIndex {
                tx.rebuild_tag_index()
                    .await
                    .map_err(|e| StoreError::Migration {
                        version: m.version,
                        reason: e.to_string(),
                    })?;
            }
            sqlx::query("INSERT INTO portcullis_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
                .bind(m.version)
                .bind(m.name)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            applied.push(m.version);
        }
    });
    Ok(applied)
}

/// The schema version recorded in the database (0 when none).
pub(crate) async fn current_version(backend: &Backend) -> Result<i64> {
    on_pool!(backend, pool => {
        sqlx::raw_sql(CREATE_TABLE).execute(pool).await?;
        let v: i64 =
            sqlx::query("SELECT COALESCE(MAX(version), 0) AS v FROM portcullis_migrations")
                .fetch_one(pool)
                .await?
                .try_get("v")?;
        Ok(v)
    })
}
