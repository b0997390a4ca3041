//! The [`Store`] handle: opening, options, migrations, retries.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::backend::{self, Backend, BackendKind, OpenSettings, on_pool};
use crate::clock::{Clock, SystemClock};
use crate::error::{Result, StoreError};
use crate::password::{PasswordConfig, PasswordHasher, PasswordPolicy};
use crate::principals::PrincipalCache;

/// What [`Store::principals_for`] returns, besides the user id and `group:NAME`.
#[derive(Debug, Clone)]
pub struct PrincipalsConfig {
    /// Also add the username as a principal (after the id). Off by default: Pyramid
    /// uses the userid as the principal, and usernames can be renamed.
    pub include_username: bool,
    /// Add each of the user's tags of kind `users` as `tag:PATH`. Off by default.
    pub include_user_tags: bool,
    /// Let `pending` (unverified) users authenticate. Off by default: a pending user
    /// gets `None`, like a blocked one.
    pub pending_authenticates: bool,
    /// How long a cached answer may be used before it is read again. Changes through this
    /// store invalidate at once, and changes by other processes (the CLI, another server)
    /// are announced (see [`PrincipalsConfig::change_poll_interval`]); the TTL is a safety
    /// net behind that. Default 30 s; `None` caches until invalidated.
    pub cache_ttl: Option<Duration>,
    /// SQLite only: how often, at most, a cached lookup re-reads the database's change
    /// counter (bumped by every process's changes to memberships, statuses, ...), dropping
    /// the whole cache when it moved. A change made elsewhere is seen after at most this
    /// long. Default 250 ms. (PostgreSQL announces changes with `NOTIFY` at commit.)
    pub change_poll_interval: Duration,
    /// Disable the cache entirely (every lookup reads the database).
    pub cache_disabled: bool,
    /// At most about this many users are cached (default 1 000 000); a full shard of
    /// the cache is emptied before it grows further.
    pub cache_capacity: usize,
}

impl Default for PrincipalsConfig {
    fn default() -> PrincipalsConfig {
        PrincipalsConfig {
            include_username: false,
            include_user_tags: false,
            pending_authenticates: false,
            cache_ttl: Some(Duration::from_secs(30)),
            change_poll_interval: Duration::from_millis(250),
            cache_disabled: false,
            cache_capacity: 1_000_000,
        }
    }
}

/// Options for [`Store::open_with`].
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// The clock (default: the system clock).
    pub clock: Arc<dyn Clock>,
    /// The password hasher (default: argon2id with OWASP parameters).
    pub hasher: PasswordHasher,
    /// The policy for new passwords (default: NIST SP 800-63B rules).
    pub policy: PasswordPolicy,
    /// Groupfinder settings.
    pub principals: PrincipalsConfig,
    /// Pool size (default 8; an in-memory SQLite database always uses one connection).
    pub max_connections: u32,
    /// SQLite busy timeout (default 5 s).
    pub busy_timeout: Duration,
    /// How long to wait for a connection (default 10 s).
    pub connect_timeout: Duration,
    /// Retries of idempotent operations that found SQLite locked (default 3).
    pub busy_retries: u32,
    /// Apply pending migrations when opening (default true).
    pub migrate: bool,
    /// About how many bytes of the tag index's large chunks finds keep in memory
    /// between finds (default 64 MiB: some 16 000 chunks of 32 768 ids; 0 keeps none).
    /// A kept chunk is used only while the database holds the same version of it, so
    /// writes by any process are seen at once (see `tags/cache.rs`).
    pub tag_cache_bytes: usize,
}

impl Default for StoreOptions {
    fn default() -> StoreOptions {
        StoreOptions {
            clock: Arc::new(SystemClock),
            hasher: PasswordHasher::new(PasswordConfig::default()),
            policy: PasswordPolicy::new(),
            principals: PrincipalsConfig::default(),
            max_connections: 8,
            busy_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(10),
            busy_retries: 3,
            migrate: true,
            tag_cache_bytes: 64 << 20,
        }
    }
}

pub(crate) struct Inner {
    pub(crate) backend: Backend,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) hasher: PasswordHasher,
    pub(crate) policy: PasswordPolicy,
    pub(crate) principals: PrincipalsConfig,
    pub(crate) cache: Arc<PrincipalCache>,
    /// The PostgreSQL change listener, started by the first cached lookup.
    pub(crate) listener: crate::principals::ListenerSlot,
    pub(crate) busy_retries: u32,
    pub(crate) busy_timeout: Duration,
    /// Chunks of the tag index that finds read (see `tags/cache.rs`).
    pub(crate) tag_cache: crate::tags::ChunkCache,
}

/// Who is acting, recorded in the audit log with every event the store writes.
#[derive(Debug, Clone, Default)]
pub(crate) struct Actor {
    pub(crate) actor: Option<String>,
    pub(crate) client_addr: Option<String>,
}

/// The identity store: one async API over SQLite or PostgreSQL.
///
/// Cloning is cheap and shares the pool and the principals cache.
#[derive(Clone)]
pub struct Store {
    pub(crate) inner: Arc<Inner>,
    pub(crate) actor: Arc<Actor>,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.inner.backend.kind())
            .field("actor", &self.actor.actor)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens the store at `url` with default options and applies pending migrations.
    ///
    /// `sqlite:PATH`, `sqlite://PATH` (created if missing), `sqlite::memory:`,
    /// `postgres://...` or `postgresql://...`.
    pub async fn open(url: &str) -> Result<Store> {
        Store::open_with(url, StoreOptions::default()).await
    }

    /// Opens the store at `url` with `options`.
    pub async fn open_with(url: &str, options: StoreOptions) -> Result<Store> {
        let settings = OpenSettings {
            max_connections: options.max_connections,
            busy_timeout: options.busy_timeout,
            connect_timeout: options.connect_timeout,
        };
        let backend = backend::connect(url, &settings).await?;
        let sqlite = backend.kind() == BackendKind::Sqlite;
        let store = Store {
            inner: Arc::new(Inner {
                backend,
                clock: options.clock,
                hasher: options.hasher,
                policy: options.policy,
                cache: Arc::new(PrincipalCache::new(
                    options.principals.cache_ttl,
                    options.principals.cache_capacity,
                    options.principals.change_poll_interval,
                    // On PostgreSQL nothing is cached until the listener is listening.
                    sqlite,
                )),
                listener: crate::principals::ListenerSlot::default(),
                principals: options.principals,
                busy_retries: options.busy_retries,
                busy_timeout: options.busy_timeout,
                tag_cache: crate::tags::ChunkCache::new(options.tag_cache_bytes),
            }),
            actor: Arc::new(Actor::default()),
        };
        if options.migrate {
            store.migrate().await?;
        }
        Ok(store)
    }

    /// Applies pending migrations; returns the versions applied (empty when up to date).
    pub async fn migrate(&self) -> Result<Vec<i64>> {
        let now = self.now_unix();
        self.retry(|| crate::migrate::run(&self.inner.backend, now))
            .await
    }

    /// The schema version recorded in the database.
    pub async fn schema_version(&self) -> Result<i64> {
        crate::migrate::current_version(&self.inner.backend).await
    }

    /// Runs one trivial statement (`SELECT 1`) on a pooled connection: a health check
    /// (is the database reachable?), and the floor under the store's latencies.
    pub async fn ping(&self) -> Result<()> {
        on_pool!(&self.inner.backend, pool => {
            sqlx::query("SELECT 1").execute(pool).await?;
            Ok(())
        })
    }

    /// Refreshes the planner's statistics after bulk changes (imports): `ANALYZE` on
    /// SQLite, `VACUUM (ANALYZE)` of the big tables on PostgreSQL (which also lets tag
    /// finds use index-only scans) and of `tag_keys`, whose rows every tag write updates
    /// (a bulk load leaves dead versions behind that every find's key lookup would
    /// step over until autovacuum comes).
    pub async fn optimize(&self) -> Result<()> {
        match &self.inner.backend {
            Backend::Sqlite(pool) => {
                sqlx::raw_sql("ANALYZE").execute(pool).await?;
            }
            Backend::Postgres(pool) => {
                sqlx::raw_sql(
                    "VACUUM (ANALYZE) users, memberships, groups, tags, tag_bits, tag_keys",
                )
                .execute(pool)
                .await?;
            }
        }
        Ok(())
    }

    /// The backend in use.
    pub fn backend(&self) -> BackendKind {
        self.inner.backend.kind()
    }

    /// A handle that records `actor` (and the client address) in the audit log for every
    /// event it writes. Shares everything else with `self`.
    pub fn acting_as(&self, actor: &str, client_addr: Option<&str>) -> Store {
        Store {
            inner: Arc::clone(&self.inner),
            actor: Arc::new(Actor {
                actor: Some(actor.to_owned()),
                client_addr: client_addr.map(str::to_owned),
            }),
        }
    }

    /// The password hasher this store uses.
    pub fn hasher(&self) -> &PasswordHasher {
        &self.inner.hasher
    }

    /// The clock this store uses.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// Closes the pool (waits for connections in use to be returned).
    pub async fn close(&self) {
        self.inner.listener.stop();
        self.inner.backend.close().await;
    }

    pub(crate) fn now_unix(&self) -> i64 {
        self.inner.clock.now().unix_timestamp()
    }

    /// Runs an idempotent operation, retrying a bounded number of times (with backoff)
    /// when SQLite reports the database locked after its busy timeout.
    pub(crate) async fn retry<T, F, Fut>(&self, mut op: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let mut attempt = 0u32;
        let mut waited = Duration::ZERO;
        loop {
            match op().await {
                Err(StoreError::Locked { .. }) if attempt < self.inner.busy_retries => {
                    attempt += 1;
                    let pause = Duration::from_millis(25 << attempt.min(6));
                    waited += self.inner.busy_timeout + pause;
                    tokio::time::sleep(pause).await;
                }
                Err(StoreError::Locked { .. }) => {
                    return Err(StoreError::Locked {
                        waited: waited + self.inner.busy_timeout,
                    });
                }
                other => return other,
            }
        }
    }
}
