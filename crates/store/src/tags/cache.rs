//! The chunk cache: decoded chunks of the tag index that finds read, kept in process
//! and checked against the database at every use.
//!
//! Every write of a `tag_bits` row gives it a new version `v` (migration 5: a sequence
//! on PostgreSQL, a counter every writing statement bumps on SQLite), so a row's
//! `(kind, key, chunk, v)` never names two contents. A find's head statement lists the
//! version of each chunk it may read; a cached chunk is used only when its version is
//! the listed one, and chunks read from the database replace what the cache held. So
//! the cache needs no invalidation, in this process or any other: what another process
//! wrote has a version this cache has not seen.
//!
//! Only chunks that a head statement does not carry itself (more than
//! [`super::find::INLINE_IDS`] ids, not the first of their key in a window) come here:
//! the large chunks of popular keys, which cost finds most to read (a sparse tag's
//! candidates intersected with a dense one read every chunk of the dense one).
//!
//! The cache holds about [`ChunkCache::new`]'s `capacity` bytes (4 KiB and the key per
//! chunk: chunks are bitmaps in memory); a shard that would grow past its share drops
//! entries in its map's order (arbitrary) until it is an eighth under it (and the new
//! entry fits).

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex, PoisonError};

use super::chunk::{self, Chunk};

const SHARDS: usize = 16;

/// A chunk's memory in the cache besides its key's text.
const ENTRY_BYTES: usize = chunk::IDS / 8 + 64;

/// Decoded chunks by `(kind, key)`, chunk number and version.
pub(crate) struct ChunkCache {
    shards: [Mutex<Shard>; SHARDS],
    hasher: RandomState,
    shard_capacity: usize,
}

#[derive(Default)]
struct Shard {
    /// `kind NUL key` → chunk number → (version, chunk).
    keys: HashMap<String, HashMap<i64, (i64, Arc<Chunk>)>>,
    bytes: usize,
}

impl ChunkCache {
    /// A cache of about `capacity` bytes; 0 caches nothing.
    pub(crate) fn new(capacity: usize) -> ChunkCache {
        ChunkCache {
            shards: std::array::from_fn(|_| Mutex::new(Shard::default())),
            hasher: RandomState::new(),
            shard_capacity: capacity / SHARDS,
        }
    }

    /// The name a `(kind, key)` is cached under (kinds hold no NUL: they are checked).
    pub(crate) fn name(kind: &str, key: &str) -> String {
        format!("{kind}\0{key}")
    }

    fn shard(&self, name: &str) -> &Mutex<Shard> {
        let h = self.hasher.hash_one(name);
        &self.shards[(h % SHARDS as u64) as usize]
    }

    fn entry_bytes(name: &str) -> usize {
        ENTRY_BYTES + name.len()
    }

    /// The chunk `chunk` of `name` as of version `v`, if cached.
    pub(crate) fn get(&self, name: &str, chunk: i64, v: i64) -> Option<Arc<Chunk>> {
        if self.shard_capacity == 0 {
            return None;
        }
        let shard = self
            .shard(name)
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match shard.keys.get(name)?.get(&chunk) {
            Some((cached, c)) if *cached == v => Some(Arc::clone(c)),
            _ => None,
        }
    }

    /// Keeps chunk `chunk` of `name` as of version `v` (replacing any other version of
    /// it).
    pub(crate) fn put(&self, name: &str, chunk: i64, v: i64, c: Arc<Chunk>) {
        let cost = Self::entry_bytes(name);
        if cost > self.shard_capacity {
            return;
        }
        let mut guard = self
            .shard(name)
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let shard = &mut *guard;
        if let Some(entry) = shard.keys.get_mut(name).and_then(|m| m.get_mut(&chunk)) {
            *entry = (v, c);
            return;
        }
        if shard.bytes + cost > self.shard_capacity {
            let target = self.shard_capacity - self.shard_capacity / 8;
            shard.shrink_to(target.min(self.shard_capacity - cost));
        }
        shard
            .keys
            .entry(name.to_owned())
            .or_default()
            .insert(chunk, (v, c));
        shard.bytes += cost;
    }
}

impl Shard {
    /// Drops entries (in the maps' order) until the shard holds at most `target` bytes.
    fn shrink_to(&mut self, target: usize) {
        let mut bytes = self.bytes;
        self.keys.retain(|name, chunks| {
            let cost = ChunkCache::entry_bytes(name);
            chunks.retain(|_, _| {
                if bytes > target {
                    bytes -= cost;
                    false
                } else {
                    true
                }
            });
            !chunks.is_empty()
        });
        self.bytes = bytes;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk_of(offsets: &[u16]) -> Arc<Chunk> {
        let mut c = Chunk::empty();
        for &o in offsets {
            c.insert(o);
        }
        Arc::new(c)
    }

    #[test]
    fn a_chunk_is_found_only_at_its_version() {
        let cache = ChunkCache::new(1 << 20);
        let name = ChunkCache::name("users", "/a/");
        assert!(cache.get(&name, 3, 7).is_none());
        cache.put(&name, 3, 7, chunk_of(&[1, 2]));
        assert_eq!(*cache.get(&name, 3, 7).unwrap(), *chunk_of(&[1, 2]));
        assert!(cache.get(&name, 3, 8).is_none(), "another version");
        assert!(cache.get(&name, 4, 7).is_none(), "another chunk");
        assert!(
            cache
                .get(&ChunkCache::name("groups", "/a/"), 3, 7)
                .is_none()
        );
        // A newer version replaces the older one.
        cache.put(&name, 3, 9, chunk_of(&[5]));
        assert!(cache.get(&name, 3, 7).is_none());
        assert_eq!(*cache.get(&name, 3, 9).unwrap(), *chunk_of(&[5]));
    }

    #[test]
    fn the_cache_stays_within_its_capacity() {
        let capacity = 64 * ENTRY_BYTES;
        let cache = ChunkCache::new(capacity);
        for k in 0..200 {
            let name = ChunkCache::name("users", &format!("/k{k}/"));
            for c in 0..10 {
                cache.put(&name, c, 1, chunk_of(&[0]));
            }
        }
        let held: usize = cache.shards.iter().map(|s| s.lock().unwrap().bytes).sum();
        let counted: usize = cache
            .shards
            .iter()
            .map(|s| {
                let s = s.lock().unwrap();
                s.keys
                    .iter()
                    .map(|(n, m)| m.len() * ChunkCache::entry_bytes(n))
                    .sum::<usize>()
            })
            .sum();
        assert_eq!(held, counted, "the byte count matches the entries");
        assert!(held <= capacity, "{held} > {capacity}");
        assert!(held > capacity / 2, "the cache still holds chunks: {held}");
    }

    #[test]
    fn a_zero_capacity_caches_nothing() {
        let cache = ChunkCache::new(0);
        let name = ChunkCache::name("users", "/a/");
        cache.put(&name, 0, 1, chunk_of(&[1]));
        assert!(cache.get(&name, 0, 1).is_none());
    }
}
