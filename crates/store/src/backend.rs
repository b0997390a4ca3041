//! The two database backends, opening, and dispatch.
//!
//! Every store method is written once, as a body that [`on_pool!`] instantiates for
//! each backend's pool type: the SQL is shared (both engines accept `$1` placeholders,
//! `RETURNING`, `ON CONFLICT DO NOTHING`, `INTERSECT`/`UNION`), and the few places that
//! differ ask [`Backend::kind`].

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{ConnectOptions, Connection, Transaction};

use crate::error::{Result, StoreError};

/// Which database engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BackendKind {
    /// SQLite (a file, or in memory).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

#[derive(Debug, Clone)]
pub(crate) enum Backend {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Backend {
    pub(crate) fn kind(&self) -> BackendKind {
        match self {
            Backend::Sqlite(_) => BackendKind::Sqlite,
            Backend::Postgres(_) => BackendKind::Postgres,
        }
    }

    pub(crate) async fn close(&self) {
        match self {
            Backend::Sqlite(p) => p.close().await,
            Backend::Postgres(p) => p.close().await,
        }
    }
}

/// Runs `$body` with `$pool` bound to the backend's concrete pool.
macro_rules! on_pool {
    ($backend:expr, $pool:ident => $body:expr) => {
        match $backend {
            $crate::backend::Backend::Sqlite($pool) => $body,
            $crate::backend::Backend::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

/// Begins a write transaction: `BEGIN IMMEDIATE` on SQLite (takes the write lock up
/// front, so the busy timeout applies instead of a deadlock-style `SQLITE_BUSY`
/// when a reader later upgrades), a plain `BEGIN` on PostgreSQL.
pub(crate) trait BeginWrite {
    type Db: sqlx::Database;
    async fn begin_write(&self) -> Result<Transaction<'static, Self::Db>>;
}

impl BeginWrite for SqlitePool {
    type Db = sqlx::Sqlite;
    async fn begin_write(&self) -> Result<Transaction<'static, sqlx::Sqlite>> {
        Ok(self.begin_with("BEGIN IMMEDIATE").await?)
    }
}

impl BeginWrite for PgPool {
    type Db = sqlx::Postgres;
    async fn begin_write(&self) -> Result<Transaction<'static, sqlx::Postgres>> {
        Ok(self.begin().await?)
    }
}

/// Whose principals a committed transaction changed, for other processes' caches.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Changed {
    /// One user's principals.
    User(i64),
    /// Possibly anyone's (a group was deleted, a bulk change).
    All,
}

/// The PostgreSQL channel on which principal changes are announced.
pub(crate) const PRINCIPALS_CHANNEL: &str = "portcullis_principals";

/// Tells other processes, inside a write transaction (so only if it commits), that
/// principals changed: `pg_notify` on PostgreSQL (delivered at commit), a bump of the
/// `portcullis_state.principals_generation` counter on SQLite (polled by readers).
pub(crate) trait AnnounceChange {
    async fn principals_changed(&mut self, who: Changed) -> Result<()>;
}

impl AnnounceChange for sqlx::SqliteConnection {
    async fn principals_changed(&mut self, _who: Changed) -> Result<()> {
        sqlx::query(
            "UPDATE portcullis_state SET principals_generation = principals_generation + 1 \
             WHERE id = 1",
        )
        .execute(self)
        .await?;
        Ok(())
    }
}

impl AnnounceChange for sqlx::PgConnection {
    async fn principals_changed(&mut self, who: Changed) -> Result<()> {
        let payload = match who {
            Changed::User(id) => id.to_string(),
            Changed::All => "*".to_owned(),
        };
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(PRINCIPALS_CHANNEL)
            .bind(payload)
            .execute(self)
            .await?;
        Ok(())
    }
}

/// Removes a password from a URL before it goes into an error message.
pub(crate) fn redact(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://")
        && let Some((userinfo, host)) = rest.split_once('@')
    {
        let user = userinfo.split(':').next().unwrap_or("");
        return format!("{scheme}://{user}:***@{host}");
    }
    url.to_owned()
}

/// How much of a SQLite file each connection maps into memory (1 GiB; address space
/// only: the pages are the operating system's file cache, shared by the connections).
const SQLITE_MMAP_SIZE: u64 = 1 << 30;

/// A PostgreSQL connection idle in the pool for longer than this is pinged before it is
/// handed out; one used more recently is handed out as it is. sqlx's default pings every
/// connection on every acquire, a whole round trip before each statement: it doubled the
/// cost of a trivial query (`SELECT 1` through the pool, p50 221 against 128 µs on the
/// 2-core build VM). A connection that broke within the window fails its statement with
/// `StoreError::Unavailable` and is dropped, as it would have been had it broken just
/// after a ping. HikariCP's `aliveBypassWindowMs` makes the same trade with 500 ms.
const PING_IDLE_AFTER: Duration = Duration::from_millis(500);

pub(crate) struct OpenSettings {
    pub(crate) max_connections: u32,
    pub(crate) busy_timeout: Duration,
    pub(crate) connect_timeout: Duration,
}

pub(crate) async fn connect(url: &str, s: &OpenSettings) -> Result<Backend> {
    let invalid = |reason: String| StoreError::InvalidUrl {
        url: redact(url),
        reason,
    };
    if url.starts_with("sqlite:") {
        let memory = url.contains(":memory:") || url.contains("mode=memory");
        let mut opts = SqliteConnectOptions::from_str(url)
            .map_err(|e| invalid(e.to_string()))?
            .create_if_missing(true)
            .foreign_keys(true)
            .busy_timeout(s.busy_timeout)
            .disable_statement_logging();
        // No ping before a connection is handed out: a SQLite connection is a file handle
        // on a worker thread, and the ping only a hand-off to that thread and back (half
        // the cost of a `SELECT 1`); a worker that stopped fails the statement itself.
        let mut pool = SqlitePoolOptions::new()
            .acquire_timeout(s.connect_timeout)
            .test_before_acquire(false);
        if memory {
            // Every connection to `:memory:` is its own database: keep exactly one, forever.
            pool = pool
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None);
        } else {
            // Memory-mapped reads: pages of the big indexes (tags, users) are read in place
            // from the operating system's cache instead of a `pread` and a copy into each
            // connection's 2 MiB page cache, which large tables mostly miss. Writes still
            // go through the WAL.
            opts = opts
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .pragma("mmap_size", SQLITE_MMAP_SIZE.to_string());
            pool = pool.max_connections(s.max_connections.max(1));
        }
        let pool = pool.connect_with(opts).await.map_err(|e| match e {
            sqlx::Error::Database(db) => StoreError::Unavailable(format!(
                "cannot open sqlite database `{}`: {}",
                redact(url),
                db.message()
            )),
            other => StoreError::Unavailable(format!(
                "cannot open sqlite database `{}`: {other}",
                redact(url)
            )),
        })?;
        Ok(Backend::Sqlite(pool))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let opts = PgConnectOptions::from_str(url)
            .map_err(|e| invalid(e.to_string()))?
            .disable_statement_logging();
        let pool = PgPoolOptions::new()
            .max_connections(s.max_connections.max(1))
            .acquire_timeout(s.connect_timeout)
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for > PING_IDLE_AFTER {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            })
            .connect_with(opts)
            .await
            .map_err(|e| {
                StoreError::Unavailable(format!(
                    "cannot connect to postgresql `{}`: {}",
                    redact(url),
                    StoreError::from(e)
                ))
            })?;
        Ok(Backend::Postgres(pool))
    } else {
        Err(invalid(
            "expected `sqlite:PATH`, `sqlite::memory:`, `postgres://...` or `postgresql://...`"
                .into(),
        ))
    }
}
