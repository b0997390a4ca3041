//! The groupfinder: a user's effective principals, cached in process.
//!
//! Design: 16 shards, each a `RwLock<HashMap<user id, entry>>` plus a generation counter.
//! A warm lookup takes one shard read lock, one hash probe and one `Arc` clone (no
//! allocation). A miss reads the shard's generation, queries the database, and inserts
//! only if the generation did not move meanwhile, so an invalidation that races with a
//! slow read is never overwritten by the stale answer. Every change made through the
//! store that can alter an answer (membership, group deletion or rename, user status,
//! username, deletion, user tags) invalidates the affected users, or everything.
//!
//! Changes made by other processes (the CLI, other servers) are announced inside the
//! changing transaction:
//!
//! - PostgreSQL: `pg_notify('portcullis_principals', '<user id>' or '*')`, delivered at
//!   commit. The first cached lookup starts a listener task (its own connection, outside
//!   the pool) that invalidates the named user, or everything. Nothing is cached until the
//!   listener is listening, and while it is disconnected; on (re)connection everything is
//!   dropped, since notifications may have been lost meanwhile.
//! - SQLite: a counter, `portcullis_state.principals_generation`, bumped by the same
//!   transactions. A lookup re-reads it when the last read started more than
//!   `change_poll_interval` (250 ms) ago and drops everything when it moved; so a change
//!   committed elsewhere is seen by every lookup starting at most that long after it.
//!
//! The TTL stays as a safety net (a listener connection silently cut, a counter bumped
//! by hand).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::Deref;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use sqlx::Row;
use sqlx::postgres::{PgListener, PgPool, PgPoolOptions};

use crate::backend::{Backend, PRINCIPALS_CHANNEL, on_pool};
use crate::error::{Result, StoreError};
use crate::model::UserStatus;
use crate::store::Store;

/// A user's principals: the user id (`"42"`), optionally the username, `group:NAME` for
/// every group (sorted by name), optionally `tag:PATH` for every `users` tag.
///
/// Cheap to clone (an `Arc<[String]>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principals(Arc<[String]>);

impl Principals {
    /// The principals as a shared slice.
    pub fn as_arc(&self) -> &Arc<[String]> {
        &self.0
    }

    /// The user's own principal (its id as a decimal string).
    pub fn userid(&self) -> &str {
        self.0.first().map_or("", String::as_str)
    }

    /// True when `principal` is among them.
    pub fn contains(&self, principal: &str) -> bool {
        self.0.iter().any(|p| p == principal)
    }
}

impl Deref for Principals {
    type Target = [String];
    fn deref(&self) -> &[String] {
        &self.0
    }
}

#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 =
                (self.0.rotate_left(5) ^ u64::from(*b)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
    fn write_i64(&mut self, n: i64) {
        // Fibonacci hashing of the id: ids are dense, so this spreads them well.
        self.0 = (n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

type IdMap<V> = HashMap<i64, V, BuildHasherDefault<IdHasher>>;

struct Entry {
    value: Option<Principals>,
    at: Instant,
}

#[derive(Default)]
struct Shard {
    generation: u64,
    map: IdMap<Entry>,
}

const SHARDS: usize = 16;

pub(crate) struct PrincipalCache {
    shards: [RwLock<Shard>; SHARDS],
    ttl: Option<Duration>,
    shard_capacity: usize,
    /// Whether answers may be stored: always on SQLite; on PostgreSQL only while the
    /// change listener is listening.
    fillable: AtomicBool,
    /// SQLite: the change counter value the cache is consistent with (`i64::MIN`: unknown).
    seen_generation: AtomicI64,
    /// SQLite: when the last counter read that the cache is consistent with started, in
    /// nanoseconds after `base`, plus one (0: never).
    checked_at: AtomicU64,
    poll_nanos: u64,
    base: Instant,
}

impl PrincipalCache {
    pub(crate) fn new(
        ttl: Option<Duration>,
        capacity: usize,
        poll: Duration,
        fillable: bool,
    ) -> PrincipalCache {
        PrincipalCache {
            shards: std::array::from_fn(|_| RwLock::new(Shard::default())),
            ttl,
            shard_capacity: (capacity / SHARDS).max(1),
            fillable: AtomicBool::new(fillable),
            seen_generation: AtomicI64::new(i64::MIN),
            checked_at: AtomicU64::new(0),
            poll_nanos: u64::try_from(poll.as_nanos()).unwrap_or(u64::MAX),
            base: Instant::now(),
        }
    }

    fn stamp(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.base).as_nanos())
            .unwrap_or(u64::MAX - 1)
            .saturating_add(1)
    }

    /// SQLite: true when the change counter must be read before trusting the cache.
    fn poll_due(&self, now: Instant) -> bool {
        let at = self.checked_at.load(Ordering::Acquire);
        at == 0 || self.stamp(now).saturating_sub(at) >= self.poll_nanos
    }

    /// SQLite: records the counter value `generation`, read by a query started at
    /// `started`; drops everything when it differs from the one the cache had seen.
    fn counter_read(&self, generation: i64, started: Instant) {
        if self.seen_generation.swap(generation, Ordering::AcqRel) != generation {
            self.invalidate_all();
        }
        self.checked_at
            .fetch_max(self.stamp(started), Ordering::AcqRel);
    }

    fn set_fillable(&self, on: bool) {
        self.fillable.store(on, Ordering::SeqCst);
    }

    fn fillable(&self) -> bool {
        self.fillable.load(Ordering::SeqCst)
    }

    fn shard(&self, user_id: i64) -> &RwLock<Shard> {
        let i = (user_id as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 60;
        // `i` < 16 by construction.
        &self.shards[i as usize % SHARDS]
    }

    /// `Ok(answer)` on a fresh hit, `Err(generation)` on a miss.
    fn get(&self, user_id: i64, now: Instant) -> std::result::Result<Option<Principals>, u64> {
        let shard = match self.shard(user_id).read() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        match shard.map.get(&user_id) {
            Some(e)
                if self
                    .ttl
                    .is_none_or(|ttl| now.saturating_duration_since(e.at) < ttl) =>
            {
                Ok(e.value.clone())
            }
            _ => Err(shard.generation),
        }
    }

    fn put(&self, user_id: i64, generation: u64, value: Option<Principals>) {
        let mut shard = match self.shard(user_id).write() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        if shard.generation == generation {
            if shard.map.len() >= self.shard_capacity && !shard.map.contains_key(&user_id) {
                // Bounded memory: a full shard starts over (cheap, and rare in practice).
                shard.map.clear();
            }
            shard.map.insert(
                user_id,
                Entry {
                    value,
                    at: Instant::now(),
                },
            );
        }
    }

    pub(crate) fn invalidate(&self, user_id: i64) {
        let mut shard = match self.shard(user_id).write() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        shard.generation = shard.generation.wrapping_add(1);
        shard.map.remove(&user_id);
    }

    pub(crate) fn invalidate_all(&self) {
        for s in &self.shards {
            let mut shard = match s.write() {
                Ok(g) => g,
                Err(poisoned) => poisoned.into_inner(),
            };
            shard.generation = shard.generation.wrapping_add(1);
            shard.map.clear();
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.read().map(|g| g.map.len()).unwrap_or(0))
            .sum()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// A store's PostgreSQL change listener: started by the first cached lookup (so that
/// short-lived processes such as the CLI never open it), stopped by `close` or drop.
#[derive(Default)]
pub(crate) struct ListenerSlot {
    started: AtomicBool,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl ListenerSlot {
    fn ensure_started(&self, pool: &PgPool, cache: &Arc<PrincipalCache>) {
        if self.started.load(Ordering::Relaxed) || self.started.swap(true, Ordering::AcqRel) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            // No runtime to run it on: nothing gets cached (every lookup reads the database).
            self.started.store(false, Ordering::Release);
            return;
        };
        // Its own connection, outside the store's pool: it is held for good.
        let listen_pool = PgPoolOptions::new()
            .max_connections(1)
            .connect_lazy_with((*pool.connect_options()).clone());
        let task = runtime.spawn(listen_for_changes(listen_pool, Arc::clone(cache)));
        if let Some(old) = lock(&self.task).replace(task) {
            old.abort();
        }
    }

    pub(crate) fn stop(&self) {
        self.started.store(true, Ordering::Release);
        if let Some(task) = lock(&self.task).take() {
            task.abort();
        }
    }
}

impl Drop for ListenerSlot {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Listens on [`PRINCIPALS_CHANNEL`] and invalidates what each notification names;
/// reconnects with backoff, dropping everything around a disconnection.
async fn listen_for_changes(pool: PgPool, cache: Arc<PrincipalCache>) {
    let mut backoff = Duration::from_millis(100);
    loop {
        if let Ok(mut listener) = PgListener::connect_with(&pool).await {
            // Reconnect here, not inside `try_recv`, to know when we listen again.
            listener.eager_reconnect(false);
            listener.ignore_pool_close_event(true);
            if listener.listen(PRINCIPALS_CHANNEL).await.is_ok() {
                backoff = Duration::from_millis(100);
                // Anything may have changed while nobody listened.
                cache.invalidate_all();
                cache.set_fillable(true);
                while let Ok(Some(n)) = listener.try_recv().await {
                    match n.payload().parse::<i64>() {
                        Ok(user_id) => cache.invalidate(user_id),
                        Err(_) => cache.invalidate_all(),
                    }
                }
                // Disconnected: stop caching (reads go to the database) until listening.
                cache.set_fillable(false);
                cache.invalidate_all();
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

impl Store {
    /// The groupfinder: the principals of user `user_id`, or `None` when there is no such
    /// user or it is blocked (or pending, unless configured otherwise), so that a still
    /// valid cookie of a deleted or blocked user authenticates nobody.
    ///
    /// Answers come from the in-process cache when warm (see [`crate::PrincipalsConfig`]).
    pub async fn principals_for(&self, user_id: i64) -> Result<Option<Principals>> {
        if self.inner.principals.cache_disabled {
            return self.retry(|| self.load_principals(user_id)).await;
        }
        let cache = &*self.inner.cache;
        let now = Instant::now();
        match &self.inner.backend {
            Backend::Sqlite(_) => {
                if cache.poll_due(now) {
                    self.read_change_counter().await?;
                }
            }
            Backend::Postgres(pool) => self.inner.listener.ensure_started(pool, &self.inner.cache),
        }
        let generation = match cache.get(user_id, now) {
            Ok(hit) => return Ok(hit),
            Err(generation) => generation,
        };
        // Read after the shard generation: a listener that disconnects after this check
        // invalidates everything, which makes `put` drop this answer.
        let fill = cache.fillable();
        let value = self.retry(|| self.load_principals(user_id)).await?;
        if fill {
            cache.put(user_id, generation, value.clone());
        }
        Ok(value)
    }

    /// SQLite: reads the change counter, dropping the cache when another process moved it.
    async fn read_change_counter(&self) -> Result<()> {
        let Backend::Sqlite(pool) = &self.inner.backend else {
            return Ok(());
        };
        let started = Instant::now();
        let generation: i64 = self
            .retry(|| async {
                let row =
                    sqlx::query("SELECT principals_generation FROM portcullis_state WHERE id = 1")
                        .fetch_one(pool)
                        .await?;
                Ok(row.try_get::<i64, _>("principals_generation")?)
            })
            .await?;
        self.inner.cache.counter_read(generation, started);
        Ok(())
    }

    /// Reads principals from the database, bypassing the cache.
    pub async fn load_principals(&self, user_id: i64) -> Result<Option<Principals>> {
        let cfg = &self.inner.principals;
        on_pool!(&self.inner.backend, pool => {
            // One statement: the user and its groups, consistent with each other.
            let rows = sqlx::query(
                "SELECT u.username, u.status, g.name FROM users u \
                 LEFT JOIN memberships m ON m.user_id = u.id \
                 LEFT JOIN groups g ON g.id = m.group_id \
                 WHERE u.id = $1 ORDER BY g.name",
            )
            .bind(user_id)
            .fetch_all(pool)
            .await?;
            let Some(first) = rows.first() else {
                return Ok(None);
            };
            let status: String = first.try_get("status")?;
            let status = UserStatus::parse(&status).ok_or_else(|| StoreError::Corrupt {
                column: "users.status",
                reason: format!("unknown status `{status}`"),
            })?;
            let allowed = match status {
                UserStatus::Active => true,
                UserStatus::Pending => cfg.pending_authenticates,
                UserStatus::Blocked => false,
            };
            if !allowed {
                return Ok(None);
            }
            let mut out = Vec::with_capacity(rows.len() + 2);
            out.push(user_id.to_string());
            if cfg.include_username {
                out.push(first.try_get::<String, _>("username")?);
            }
            for g in &rows {
                if let Some(name) = g.try_get::<Option<String>, _>("name")? {
                    out.push(format!("group:{name}"));
                }
            }
            if cfg.include_user_tags {
                let tags = sqlx::query(
                    "SELECT key FROM tags WHERE kind = 'users' AND record_id = $1 ORDER BY id",
                )
                .bind(user_id)
                .fetch_all(pool)
                .await?;
                for t in tags {
                    let key: String = t.try_get("key")?;
                    out.push(format!("tag:{}", key.trim_matches('/')));
                }
            }
            Ok(Some(Principals(out.into())))
        })
    }

    /// Drops the cached principals of `user_id`.
    pub fn invalidate_principals(&self, user_id: i64) {
        self.inner.cache.invalidate(user_id);
    }

    /// Drops every cached principal set (after changes made outside this store).
    pub fn invalidate_all_principals(&self) {
        self.inner.cache.invalidate_all();
    }

    /// How many users have a cached answer.
    pub fn cached_principals(&self) -> usize {
        self.inner.cache.len()
    }

    /// The sorted, distinct permissions granted to the groups of `user_id`.
    pub async fn permissions_for(&self, user_id: i64) -> Result<Vec<String>> {
        self.retry(|| async {
            on_pool!(&self.inner.backend, pool => {
                let rows = sqlx::query(
                    "SELECT DISTINCT p.permission FROM memberships m \
                     JOIN group_permissions p ON p.group_id = m.group_id \
                     WHERE m.user_id = $1 ORDER BY p.permission",
                )
                .bind(user_id)
                .fetch_all(pool)
                .await?;
                rows.iter()
                    .map(|r| r.try_get::<String, _>("permission").map_err(StoreError::from))
                    .collect()
            })
        })
        .await
    }

    /// A TurboGears-style identity (user, groups, permissions), or `None` when the user
    /// does not exist or may not authenticate (same rule as [`Store::principals_for`]).
    pub async fn identity_for(&self, user_id: i64) -> Result<Option<crate::Identity>> {
        let Some(user) = self.get_user(user_id).await? else {
            return Ok(None);
        };
        let allowed = match user.status {
            UserStatus::Active => true,
            UserStatus::Pending => self.inner.principals.pending_authenticates,
            UserStatus::Blocked => false,
        };
        if !allowed {
            return Ok(None);
        }
        let groups = self.groups_of(user_id).await?;
        let permissions = self.permissions_for(user_id).await?;
        Ok(Some(crate::Identity {
            user,
            groups: groups.into_iter().map(|g| g.name).collect(),
            permissions,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(v: &[&str]) -> Option<Principals> {
        Some(Principals(v.iter().map(|s| (*s).to_owned()).collect()))
    }

    #[test]
    fn hit_miss_and_invalidation() {
        let c = PrincipalCache::new(None, 1000, Duration::ZERO, true);
        let g = c.get(7, Instant::now()).unwrap_err();
        c.put(7, g, p(&["7"]));
        assert_eq!(c.get(7, Instant::now()), Ok(p(&["7"])));
        c.invalidate(7);
        assert!(c.get(7, Instant::now()).is_err());
        let g = c.get(8, Instant::now()).unwrap_err();
        c.put(8, g, None);
        assert_eq!(
            c.get(8, Instant::now()),
            Ok(None),
            "negative answers are cached too"
        );
        c.invalidate_all();
        assert_eq!(c.len(), 0);
    }

    #[test]
    fn a_fill_that_raced_an_invalidation_is_dropped() {
        let c = PrincipalCache::new(None, 1000, Duration::ZERO, true);
        let g = c.get(1, Instant::now()).unwrap_err(); // a reader starts loading from the database...
        c.invalidate(1); // ...a membership changes meanwhile...
        c.put(1, g, p(&["1", "group:old"])); // ...the stale answer must not stick.
        assert!(c.get(1, Instant::now()).is_err());
        let g = c.get(2, Instant::now()).unwrap_err();
        c.invalidate_all();
        c.put(2, g, p(&["2"]));
        assert!(c.get(2, Instant::now()).is_err());
    }

    #[test]
    fn ttl_and_capacity_bound_it() {
        let c = PrincipalCache::new(Some(Duration::ZERO), 1000, Duration::ZERO, true);
        let g = c.get(1, Instant::now()).unwrap_err();
        c.put(1, g, p(&["1"]));
        assert!(c.get(1, Instant::now()).is_err(), "expired at once");
        let c = PrincipalCache::new(None, 32, Duration::ZERO, true);
        for id in 0..10_000 {
            if let Err(g) = c.get(id, Instant::now()) {
                c.put(id, g, None);
            }
        }
        assert!(c.len() <= 32, "{}", c.len());
    }
}
