//! The tag cache: what finds read of the tag index (keys' chunk lists, decoded chunks),
//! kept in process and checked against the database at every use.
//!
//! Every write of a `tag_bits` row gives it a new version `v` (migration 5: a sequence
//! on PostgreSQL, a counter every writing statement bumps on SQLite), and every write
//! of a key's rows gives the key a new version in `tag_keys` (migration 6), so neither
//! a row's `(kind, key, chunk, v)` nor a key's `(kind, key, v)` ever names two
//! contents. A find's head statement reads the version of each key and, unless it is
//! the version of the key's [`KeyHead`] held here, the key's chunk list with each
//! chunk's version; a cached chunk is used only when its version is the listed one, and
//! what is read from the database replaces what the cache held. So the cache needs no
//! invalidation, in this process or any other: what another process wrote has versions
//! this cache has not seen.
//!
//! - **Heads** ([`KeyHead`]): a key's chunk list from some chunk on, with the stored
//!   form of its small chunks (at most [`super::find::INLINE_IDS`] ids): with it, a
//!   find of keys nobody wrote since reads one `tag_keys` row per key and nothing else.
//! - **Chunks**: the decoded larger chunks, which cost finds most to read (a sparse
//!   tag's candidates intersected with a dense one read every chunk of the dense one).
//!
//! The cache holds about [`ChunkCache::new`]'s `capacity` bytes (4 KiB and the key per
//! chunk: chunks are bitmaps in memory; a head's rows and stored forms); a shard that
//! would grow past its share drops entries in its map's order (arbitrary) until it is
//! an eighth under it (and the new entry fits).

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::chunk::{self, Chunk};
use super::find::Head;

const SHARDS: usize = 16;

/// A head's memory in the cache besides its rows and its key's text.
const HEAD_BYTES: usize = 96;

/// A head row's memory besides its stored form.
const ROW_BYTES: usize = std::mem::size_of::<Head>() + 16;

/// A head grows by the windows read after it up to this many rows.
const HEAD_ROWS: usize = 4096;

/// A key's chunk list as of the key's version `v`: its chunks from `from` on (every one
/// when `complete`, else the first `rows.len()`), ascending, with their sizes, versions
/// and the stored form of the small ones (`Head::key` is unused).
#[derive(Debug)]
pub(crate) struct KeyHead {
    pub(crate) v: i64,
    pub(crate) from: i64,
    pub(crate) complete: bool,
    pub(crate) rows: Vec<Head>,
}

impl KeyHead {
    /// The rows of chunks from `from` on.
    pub(crate) fn rows_from(&self, from: i64) -> &[Head] {
        &self.rows[self.rows.partition_point(|r| r.chunk < from)..]
    }

    /// Whether the head lists what a head statement would for chunks from `from` on,
    /// `len` of them.
    pub(crate) fn serves(&self, from: i64, len: usize) -> bool {
        self.from <= from && (self.complete || self.rows_from(from).len() >= len)
    }

    /// The head statement's rows for key `key`, chunks from `from` on, `len` of them.
    pub(crate) fn window(&self, key: usize, from: i64, len: usize) -> impl Iterator<Item = Head> {
        self.rows_from(from)
            .iter()
            .take(len)
            .map(move |r| Head { key, ..r.clone() })
    }

    fn bytes(&self) -> usize {
        HEAD_BYTES
            + self
                .rows
                .iter()
                .map(|r| ROW_BYTES + r.bits.as_ref().map_or(0, |b| b.len()))
                .sum::<usize>()
    }

    /// `self` followed by `next`, a window read after it at the same version, when the
    /// two lists meet.
    fn join(&self, next: &KeyHead) -> Option<KeyHead> {
        let last = self.rows.last()?.chunk;
        let meets = self.v == next.v
            && !self.complete
            && self.from < next.from
            && next.from <= last.saturating_add(1)
            && self.rows.len() + next.rows.len() <= HEAD_ROWS;
        meets.then(|| KeyHead {
            v: self.v,
            from: self.from,
            complete: next.complete,
            rows: self
                .rows
                .iter()
                .take_while(|r| r.chunk < next.from)
                .chain(&next.rows)
                .cloned()
                .collect(),
        })
    }
}

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
    /// `kind NUL key` → what is cached of the key.
    keys: HashMap<String, Key>,
    bytes: usize,
}

/// What is cached of a key: its head, and chunk number → (version, chunk).
#[derive(Default)]
struct Key {
    head: Option<Arc<KeyHead>>,
    chunks: HashMap<i64, (i64, Arc<Chunk>)>,
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

    /// The shard `name` belongs to, locked (a panic elsewhere leaves a shard whose
    /// entries are each whole: it is used as it is).
    fn shard(&self, name: &str) -> MutexGuard<'_, Shard> {
        let h = self.hasher.hash_one(name);
        self.shards[(h % SHARDS as u64) as usize]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn entry_bytes(name: &str) -> usize {
        ENTRY_BYTES + name.len()
    }

    /// The chunk `chunk` of `name` as of version `v`, if cached.
    pub(crate) fn get(&self, name: &str, chunk: i64, v: i64) -> Option<Arc<Chunk>> {
        if self.shard_capacity == 0 {
            return None;
        }
        let shard = self.shard(name);
        match shard.keys.get(name)?.chunks.get(&chunk) {
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
        let mut guard = self.shard(name);
        let shard = &mut *guard;
        if let Some(entry) = shard
            .keys
            .get_mut(name)
            .and_then(|k| k.chunks.get_mut(&chunk))
        {
            *entry = (v, c);
            return;
        }
        self.make_room(shard, cost);
        shard
            .keys
            .entry(name.to_owned())
            .or_default()
            .chunks
            .insert(chunk, (v, c));
        shard.bytes += cost;
    }

    /// The head of `name` held, whatever its version.
    pub(crate) fn head(&self, name: &str) -> Option<Arc<KeyHead>> {
        if self.shard_capacity == 0 {
            return None;
        }
        self.shard(name).keys.get(name)?.head.clone()
    }

    /// Keeps `head` as `name`'s head: joined to the one held when it continues it,
    /// else in its place.
    pub(crate) fn put_head(&self, name: &str, head: KeyHead) {
        let mut guard = self.shard(name);
        let shard = &mut *guard;
        let held = shard.keys.get_mut(name).and_then(|k| k.head.take());
        if let Some(old) = &held {
            shard.bytes -= old.bytes() + name.len();
        }
        let head = match held {
            // A head read for a deep page of a key whose list the cache holds from
            // before (the window's first chunk was not at hand): keep the longer list.
            Some(old) if old.v == head.v && old.serves(head.from, head.rows.len()) => old,
            Some(old) => Arc::new(old.join(&head).unwrap_or(head)),
            None => Arc::new(head),
        };
        let cost = head.bytes() + name.len();
        if cost > self.shard_capacity {
            return;
        }
        self.make_room(shard, cost);
        shard.keys.entry(name.to_owned()).or_default().head = Some(head);
        shard.bytes += cost;
    }

    /// Drops entries of `shard` until `cost` more bytes fit (and an eighth more).
    fn make_room(&self, shard: &mut Shard, cost: usize) {
        if shard.bytes + cost > self.shard_capacity {
            let target = self.shard_capacity - self.shard_capacity / 8;
            shard.shrink_to(target.min(self.shard_capacity - cost));
        }
    }
}

impl Shard {
    /// Drops entries (in the maps' order) until the shard holds at most `target` bytes.
    fn shrink_to(&mut self, target: usize) {
        let mut bytes = self.bytes;
        self.keys.retain(|name, key| {
            if bytes > target
                && let Some(head) = key.head.take()
            {
                bytes -= head.bytes() + name.len();
            }
            let cost = ChunkCache::entry_bytes(name);
            key.chunks.retain(|_, _| {
                if bytes > target {
                    bytes -= cost;
                    false
                } else {
                    true
                }
            });
            key.head.is_some() || !key.chunks.is_empty()
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
            cache.put_head(&name, head(1, 0, 0..(k % 40), k % 3 == 0));
            cache.put_head(&name, head(2, 0, 0..(k % 7), true));
        }
        let held: usize = cache.shards.iter().map(|s| s.lock().unwrap().bytes).sum();
        let counted: usize = cache
            .shards
            .iter()
            .map(|s| {
                let s = s.lock().unwrap();
                s.keys
                    .iter()
                    .map(|(n, k)| {
                        k.chunks.len() * ChunkCache::entry_bytes(n)
                            + k.head.as_ref().map_or(0, |h| h.bytes() + n.len())
                    })
                    .sum::<usize>()
            })
            .sum();
        assert_eq!(held, counted, "the byte count matches the entries");
        assert!(held <= capacity, "{held} > {capacity}");
        assert!(held > capacity / 2, "the cache still holds chunks: {held}");
    }

    fn head(v: i64, from: i64, chunks: std::ops::Range<i64>, complete: bool) -> KeyHead {
        KeyHead {
            v,
            from,
            complete,
            rows: chunks
                .map(|chunk| Head {
                    key: 0,
                    chunk,
                    ids: 1,
                    v: 1,
                    bits: None,
                })
                .collect(),
        }
    }

    fn held(cache: &ChunkCache, name: &str) -> (i64, i64, bool, Vec<i64>) {
        let h = cache.head(name).expect("a head");
        (
            h.v,
            h.from,
            h.complete,
            h.rows.iter().map(|r| r.chunk).collect(),
        )
    }

    #[test]
    fn heads_are_joined_kept_or_replaced() {
        let cache = ChunkCache::new(1 << 20);
        let name = ChunkCache::name("users", "/a/");
        // A window, then the next one at the same version: one list.
        cache.put_head(&name, head(7, 0, 0..3, false));
        cache.put_head(&name, head(7, 3, 3..6, true));
        assert_eq!(held(&cache, &name), (7, 0, true, (0..6).collect()));
        assert!(cache.head(&name).unwrap().serves(4, 64));
        assert!(!cache.head(&name).unwrap().serves(-1, 64));
        // A deep window of the same version adds nothing: the longer list stays.
        cache.put_head(&name, head(7, 4, 4..6, true));
        assert_eq!(held(&cache, &name), (7, 0, true, (0..6).collect()));
        // Another version replaces it, even from further on.
        cache.put_head(&name, head(8, 4, 4..6, true));
        assert_eq!(held(&cache, &name), (8, 4, true, vec![4, 5]));
        // A window that does not meet the list held replaces it.
        cache.put_head(&name, head(9, 0, 0..2, false));
        cache.put_head(&name, head(9, 5, 5..7, true));
        assert_eq!(held(&cache, &name), (9, 5, true, vec![5, 6]));
    }

    #[test]
    fn a_zero_capacity_caches_nothing() {
        let cache = ChunkCache::new(0);
        let name = ChunkCache::name("users", "/a/");
        cache.put(&name, 0, 1, chunk_of(&[1]));
        assert!(cache.get(&name, 0, 1).is_none());
    }
}
