//! The groupfinder: a user's effective principals, cached in process.
//!
//! Design: 16 shards, each a `RwLock<HashMap<user id, entry>>` plus a generation counter.
//! A warm lookup takes one shard read lock, one hash probe and one `Arc` clone (no
//! allocation). A miss reads the shard's generation, queries the database, and inserts
//! only if the generation did not move meanwhile, so an invalidation that races with a
//! slow read is never overwritten by the stale answer. Every change made through the
//! store that can alter an answer (membership, group deletion or rename, user status,
//! username, deletion, user tags) invalidates the affected users, or everything.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::Deref;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use sqlx::Row;

use crate::backend::on_pool;
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
}

impl PrincipalCache {
    pub(crate) fn new(ttl: Option<Duration>, capacity: usize) -> PrincipalCache {
        PrincipalCache {
            shards: std::array::from_fn(|_| RwLock::new(Shard::default())),
            ttl,
            shard_capacity: (capacity / SHARDS).max(1),
        }
    }

    fn shard(&self, user_id: i64) -> &RwLock<Shard> {
        let i = (user_id as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 60;
        // `i` < 16 by construction.
        &self.shards[i as usize % SHARDS]
    }

    /// `Ok(answer)` on a fresh hit, `Err(generation)` on a miss.
    fn get(&self, user_id: i64) -> std::result::Result<Option<Principals>, u64> {
        let shard = match self.shard(user_id).read() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        match shard.map.get(&user_id) {
            Some(e) if self.ttl.is_none_or(|ttl| e.at.elapsed() < ttl) => Ok(e.value.clone()),
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

impl Store {
    /// The groupfinder: the principals of user `user_id`, or `None` when there is no such
    /// user or it is blocked (or pending, unless configured otherwise), so that a still
    /// valid cookie of a deleted or blocked user authenticates nobody.
    ///
    /// Answers come from the in-process cache when warm (see [`crate::PrincipalsConfig`]).
    pub async fn principals_for(&self, user_id: i64) -> Result<Option<Principals>> {
        let disabled = self.inner.principals.cache_disabled;
        let generation = if disabled {
            0
        } else {
            match self.inner.cache.get(user_id) {
                Ok(hit) => return Ok(hit),
                Err(generation) => generation,
            }
        };
        let value = self.retry(|| self.load_principals(user_id)).await?;
        if !disabled {
            self.inner.cache.put(user_id, generation, value.clone());
        }
        Ok(value)
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
        let c = PrincipalCache::new(None, 1000);
        let g = c.get(7).unwrap_err();
        c.put(7, g, p(&["7"]));
        assert_eq!(c.get(7), Ok(p(&["7"])));
        c.invalidate(7);
        assert!(c.get(7).is_err());
        let g = c.get(8).unwrap_err();
        c.put(8, g, None);
        assert_eq!(c.get(8), Ok(None), "negative answers are cached too");
        c.invalidate_all();
        assert_eq!(c.len(), 0);
    }

    #[test]
    fn a_fill_that_raced_an_invalidation_is_dropped() {
        let c = PrincipalCache::new(None, 1000);
        let g = c.get(1).unwrap_err(); // a reader starts loading from the database...
        c.invalidate(1); // ...a membership changes meanwhile...
        c.put(1, g, p(&["1", "group:old"])); // ...the stale answer must not stick.
        assert!(c.get(1).is_err());
        let g = c.get(2).unwrap_err();
        c.invalidate_all();
        c.put(2, g, p(&["2"]));
        assert!(c.get(2).is_err());
    }

    #[test]
    fn ttl_and_capacity_bound_it() {
        let c = PrincipalCache::new(Some(Duration::ZERO), 1000);
        let g = c.get(1).unwrap_err();
        c.put(1, g, p(&["1"]));
        assert!(c.get(1).is_err(), "expired at once");
        let c = PrincipalCache::new(None, 32);
        for id in 0..10_000 {
            if let Err(g) = c.get(id) {
                c.put(id, g, None);
            }
        }
        assert!(c.len() <= 32, "{}", c.len());
    }
}
