//! Finds: a page of the records carrying all (or any) of some keys, read chunk by chunk
//! from the tag index (see [`super::chunk`]).
//!
//! A page takes one or two statements per window:
//!
//! 1. **Head.** For each key, its version and, unless the [`ChunkCache`] holds the
//!    key's chunk list at that version (and the chunks the page is expected to need),
//!    the numbers, sizes and versions of its next [`WINDOW`] chunks ([`ANY_WINDOW`] for
//!    a page of any of several keys) from the cursor's chunk on, with the stored
//!    chunks the page is expected to need (see [`Reach`]) and every small one (at most
//!    [`INLINE_IDS`] ids: 512 bytes, less than another round trip costs); the lists
//!    read are kept in the cache. The candidates are the chunks every key has (all-of)
//!    or any key has (any-of), up to the end of the shortest list that was cut (the
//!    window; 64 chunks are 2 million ids when ids are dense).
//! 2. **Chunks**, only when a candidate lacks a key's chunk and the [`ChunkCache`] does
//!    not hold it at the version the head listed: for each key, the ranges of its
//!    missing chunks over a run of candidates (at most [`RANGES`]), which the cache then
//!    keeps.
//!
//! Candidates are combined in order (`&` for all-of, `|` for any-of) until the page is
//! full. A run is as long as the estimates say the page needs — any-of: the largest
//! key's size, a lower bound of the union; all-of: the intersection of the chunks at
//! hand times the other keys' densities, twice — scaled by what the candidates seen so
//! far held against their estimates from sizes alone (an empty intersection takes the
//! rest of the window), and at least [`RUN_BYTES`] of stored chunks, which cost less to read in the
//! same statement than in another.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::cache::{ChunkCache, KeyHead};
use super::chunk::{self, Chunk};
use crate::error::{Result, StoreError};

/// How many chunks of each key a head statement lists.
pub(crate) const WINDOW: usize = 64;

/// How many chunks of each key a head statement lists for a page (not a whole result)
/// of any of several keys: their union fills a page sooner than any one of them, and
/// fewer rows cost less (p99 of first pages, three alternating rounds: SQLite 552–643
/// against 679–981 µs, PostgreSQL 693–906 against 930–1 110 µs). Whole results read
/// every chunk, in as few statements as [`WINDOW`] allows (PostgreSQL's any-of
/// throughput fell from 85 000 to 59 000 ids/ms with 16).
pub(crate) const ANY_WINDOW: usize = 16;

/// Chunks with at most this many ids come with the head statement.
pub(crate) const INLINE_IDS: i64 = 256;

/// What a head statement reads of each key: `len` chunks from chunk `from` on, and the
/// stored form of the first ones, until the ids they are expected to hold above the
/// cursor (`offset` ids into chunk `from`, as if its ids were spread evenly) reach
/// `need`, the ids the page still lacks. Carrying only the first chunk made a page
/// whose cursor sat near the end of a dense chunk read the next one in a second
/// statement (69 of the benchmark's 2 000 deep pages, which made their p99 on
/// PostgreSQL).
///
/// A page of one key or of any of several is bounded by each key's ids; a page of all
/// of several keys is not (their intersection may lie anywhere), so its heads, like a
/// whole result's, carry the first chunk only (`need` 1; with the page's need, deep
/// all-of pages measured slower on PostgreSQL: p50 274–451 against 250–341 µs in eight
/// alternating runs). The head statement computes the same rule in SQL: keep them in
/// step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Reach {
    pub(crate) from: i64,
    pub(crate) len: usize,
    pub(crate) offset: i64,
    pub(crate) need: i64,
}

impl Reach {
    /// The last chunk whose stored form a head carries, of a key's chunks `rows`
    /// (`(chunk, ids)`, ascending from `from`; the first `len` count): the first at
    /// which the ids expected so far reach `need`, or every one (`i64::MAX`).
    pub(crate) fn carries(&self, rows: impl IntoIterator<Item = (i64, i64)>) -> i64 {
        let mut expected = 0i64;
        for (c, ids) in rows.into_iter().take(self.len) {
            expected += if c == self.from {
                ids * (chunk::IDS as i64 - self.offset) / chunk::IDS as i64
            } else {
                ids
            };
            if expected >= self.need {
                return c;
            }
        }
        i64::MAX
    }
}

/// A chunks statement reads at least this many bytes of stored chunks (when the window
/// has them).
const RUN_BYTES: usize = 64 * 1024;

/// A chunks statement reads at most this many ranges of chunks (or one per key, when
/// there are more keys): near ranges of a key are joined, chunks cached between them
/// read again.
const RANGES: usize = 16;

/// Where a find reads the index: a database connection, or a model in tests.
pub(crate) trait ChunkSource {
    /// The version of each of `keys` (by its index) and, for the keys whose version is
    /// not the one `held` names, up to `reach.len` of its chunks from chunk `reach.from`
    /// on, ascending, with their sizes and versions, and the stored form of those
    /// [`Reach::carries`] and of those with at most [`INLINE_IDS`] ids; as of one moment.
    async fn head(
        &mut self,
        kind: &str,
        keys: &[String],
        reach: Reach,
        held: &[Option<i64>],
    ) -> Result<Heads>;

    /// The stored chunks of each range: `(key, lo, hi)` is key `key`'s (an index of
    /// `keys`) chunks `lo..=hi`.
    async fn chunks(
        &mut self,
        kind: &str,
        keys: &[String],
        ranges: &[(usize, i64, i64)],
    ) -> Result<Vec<Stored>>;
}

/// A stored chunk read by a chunks statement.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Stored {
    /// The range it was read for (an index of the statement's ranges).
    pub(crate) range: usize,
    pub(crate) chunk: i64,
    pub(crate) v: i64,
    pub(crate) bits: Vec<u8>,
}

/// What a head statement read: each key's version (`None`: the key has never been
/// written), and the chunks of the keys whose version the caller did not hold.
#[derive(Debug, Default)]
pub(crate) struct Heads {
    pub(crate) versions: Vec<Option<i64>>,
    pub(crate) rows: Vec<Head>,
}

/// One key's chunk: how many ids it holds, its version, and maybe its stored form.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Head {
    pub(crate) key: usize,
    pub(crate) chunk: i64,
    pub(crate) ids: i64,
    pub(crate) v: i64,
    pub(crate) bits: Option<Arc<[u8]>>,
}

/// A key's chunk within a candidate.
struct Cell {
    ids: i64,
    bits: Option<Arc<Chunk>>,
}

/// A chunk that may hold matches: per key, its cell (`None`: the key lacks the chunk).
struct Slot {
    chunk: i64,
    cells: Vec<Option<Cell>>,
}

impl Slot {
    /// The cells whose chunks are needed and not read yet.
    fn missing(&self) -> impl Iterator<Item = (usize, &Cell)> {
        self.cells
            .iter()
            .enumerate()
            .filter_map(|(k, c)| c.as_ref().filter(|c| c.bits.is_none()).map(|c| (k, c)))
    }

    /// How many matches the slot is expected to hold by its keys' sizes alone.
    fn guess(&self, all: bool) -> f64 {
        let sizes = self.cells.iter().flatten().map(|c| c.ids as f64);
        if all {
            sizes.fold(chunk::IDS as f64, |acc, n| acc * n / chunk::IDS as f64)
        } else {
            sizes.fold(0.0, f64::max)
        }
    }

    /// How many matches the slot is expected to hold (see the module documentation).
    fn expected(&self, all: bool) -> f64 {
        let cells = self.cells.iter().flatten();
        if !all {
            return cells
                .map(|c| c.bits.as_ref().map_or(c.ids as f64, |b| f64::from(b.len())))
                .fold(0.0, f64::max);
        }
        let mut known: Option<Chunk> = None;
        let mut density = 1.0;
        for c in cells {
            match (&c.bits, &mut known) {
                (Some(b), None) => known = Some(Chunk::clone(b)),
                (Some(b), Some(k)) => k.intersect(b),
                (None, _) => density *= c.ids as f64 / chunk::IDS as f64,
            }
        }
        known.map_or(chunk::IDS as f64, |k| f64::from(k.len())) * density
    }
}

/// A stored chunk, or [`StoreError::Corrupt`] when the bytes are not one.
pub(crate) fn decode(bytes: &[u8]) -> Result<Chunk> {
    Chunk::decode(bytes).map_err(|reason| StoreError::Corrupt {
        column: "tag_bits.bits",
        reason: reason.to_owned(),
    })
}

/// The ids (ascending) greater than `after_id` of the records carrying every one
/// (`all`) or any of `keys`, at most `limit`.
pub(crate) async fn find_page<S: ChunkSource>(
    src: &mut S,
    cache: &ChunkCache,
    kind: &str,
    keys: &[String],
    all: bool,
    after_id: i64,
    limit: usize,
) -> Result<Vec<i64>> {
    let mut out = Vec::new();
    if limit == 0 || keys.is_empty() || after_id == i64::MAX {
        return Ok(out);
    }
    let names: Vec<String> = keys.iter().map(|k| ChunkCache::name(kind, k)).collect();
    let (first_chunk, first_offset) = chunk::split(after_id + 1);
    // The share of a candidate's ids above the cursor (as if spread evenly).
    let share = |c: i64| {
        if c == first_chunk {
            1.0 - f64::from(first_offset) / chunk::IDS as f64
        } else {
            1.0
        }
    };
    let mut from = first_chunk;
    loop {
        let len = if !all && keys.len() > 1 && limit != usize::MAX {
            ANY_WINDOW
        } else {
            WINDOW
        };
        let reach = Reach {
            from,
            len,
            offset: if from == first_chunk {
                i64::from(first_offset)
            } else {
                0
            },
            // A whole result reads every chunk anyway, and the ids of an intersection
            // are not bounded by any one key's: their heads carry the first chunk.
            need: if limit == usize::MAX || (all && keys.len() > 1) {
                1
            } else {
                i64::try_from(limit - out.len()).unwrap_or(i64::MAX)
            },
        };
        let heads = read_heads(src, cache, kind, (keys, &names), reach).await?;
        let (mut slots, end) = window(&names, cache, heads, all, len)?;
        // How many matches the slots seen so far were expected to hold by their sizes
        // alone, and how many they held: the scale of the next estimates.
        let (mut expected, mut held) = (0.0, 0.0);
        for i in 0..slots.len() {
            if slots[i].missing().next().is_some() {
                let scale = if expected > 0.0 { held / expected } else { 1.0 };
                let len = run_length(&slots[i..], limit - out.len(), all, scale, share);
                fetch(src, cache, kind, (keys, &names), &mut slots[i..i + len]).await?;
            }
            let slot = &mut slots[i];
            expected += slot.guess(all) * share(slot.chunk);
            let Some(ids) = combine(std::mem::take(&mut slot.cells), all) else {
                continue;
            };
            let start = if slot.chunk == first_chunk {
                first_offset
            } else {
                0
            };
            for offset in ids.offsets(start) {
                out.push(chunk::join(slot.chunk, offset));
                if out.len() == limit {
                    return Ok(out);
                }
                held += 1.0;
            }
        }
        match end.and_then(|e| e.checked_add(1)) {
            Some(next) => from = next,
            None => return Ok(out),
        }
    }
}

/// The head rows of a window: a key's from the cache when the head statement says the
/// key is still at the version of the head held, else from the statement (and then
/// kept in the cache).
async fn read_heads<S: ChunkSource>(
    src: &mut S,
    cache: &ChunkCache,
    kind: &str,
    (keys, names): (&[String], &[String]),
    reach: Reach,
) -> Result<Vec<Head>> {
    let Reach { from, len, .. } = reach;
    // A head statement carries the chunks the page is expected to need: a head held
    // serves only when those are at hand too, else a page would take a chunks
    // statement more.
    let at_hand = |name: &str, h: &KeyHead| {
        let rows = h.rows_from(from);
        let last = reach.carries(rows.iter().map(|r| (r.chunk, r.ids)));
        rows.iter()
            .take(len)
            .take_while(|r| r.chunk <= last)
            .all(|r| r.bits.is_some() || cache.get(name, r.chunk, r.v).is_some())
    };
    let held: Vec<Option<Arc<KeyHead>>> = names
        .iter()
        .map(|n| {
            cache
                .head(n)
                .filter(|h| h.serves(from, len) && at_hand(n, h))
        })
        .collect();
    let versions: Vec<Option<i64>> = held.iter().map(|h| h.as_ref().map(|h| h.v)).collect();
    let read = src.head(kind, keys, reach, &versions).await?;
    let mut read_rows: Vec<Vec<Head>> = vec![Vec::new(); keys.len()];
    for h in read.rows {
        if let Some(rows) = read_rows.get_mut(h.key) {
            rows.push(h);
        }
    }
    let mut heads = Vec::new();
    for (k, rows) in read_rows.into_iter().enumerate() {
        let v = read.versions.get(k).copied().flatten();
        match (&held[k], v) {
            (Some(h), Some(v)) if h.v == v => heads.extend(h.window(k, from, len)),
            _ => {
                if let Some(v) = v {
                    let complete = rows.len() < len;
                    let rows = rows
                        .iter()
                        .map(|r| Head {
                            key: 0,
                            bits: r.bits.clone().filter(|_| r.ids <= INLINE_IDS),
                            ..r.clone()
                        })
                        .collect();
                    cache.put_head(
                        &names[k],
                        KeyHead {
                            v,
                            from,
                            complete,
                            rows,
                        },
                    );
                }
                heads.extend(rows);
            }
        }
    }
    Ok(heads)
}

/// The candidates of a window, ascending, and the window's last chunk (`None`: every
/// key's list was read to its end). Chunks the head did not carry are taken from the
/// cache when it holds them at the listed version.
fn window(
    names: &[String],
    cache: &ChunkCache,
    heads: Vec<Head>,
    all: bool,
    len: usize,
) -> Result<(Vec<Slot>, Option<i64>)> {
    let keys = names.len();
    let mut counts = vec![0usize; keys];
    let mut last = vec![i64::MIN; keys];
    let mut by_chunk: BTreeMap<i64, Vec<Option<Cell>>> = BTreeMap::new();
    for h in heads {
        if h.key >= keys {
            continue;
        }
        counts[h.key] += 1;
        last[h.key] = last[h.key].max(h.chunk);
        let bits = match h.bits.as_deref() {
            Some(stored) => {
                let bits = Arc::new(decode(stored)?);
                if h.ids > INLINE_IDS {
                    // A large chunk the head carried: the cached head does not.
                    cache.put(&names[h.key], h.chunk, h.v, Arc::clone(&bits));
                }
                Some(bits)
            }
            None => cache.get(&names[h.key], h.chunk, h.v),
        };
        let cells = by_chunk
            .entry(h.chunk)
            .or_insert_with(|| (0..keys).map(|_| None).collect());
        cells[h.key] = Some(Cell { ids: h.ids, bits });
    }
    let end = (0..keys)
        .filter(|&k| counts[k] >= len)
        .map(|k| last[k])
        .min();
    if all && counts.contains(&0) {
        return Ok((Vec::new(), None));
    }
    let slots = by_chunk
        .into_iter()
        .filter(|(c, _)| end.is_none_or(|e| *c <= e))
        .filter(|(_, cells)| !all || cells.iter().all(Option::is_some))
        .map(|(chunk, cells)| Slot { chunk, cells })
        .collect();
    Ok((slots, end))
}

/// How many of `slots` the next chunks statement covers: enough for `need` ids by the
/// estimates (scaled; twice for all-of, whose estimate is not a bound), and at least
/// [`RUN_BYTES`] of stored chunks.
fn run_length(
    slots: &[Slot],
    need: usize,
    all: bool,
    scale: f64,
    share: impl Fn(i64) -> f64,
) -> usize {
    let want = need as f64 * if all { 2.0 } else { 1.0 };
    let (mut sum, mut bytes) = (0.0, 0usize);
    let mut n = 0;
    for s in slots {
        if n > 0 && sum >= want && bytes >= RUN_BYTES {
            break;
        }
        n += 1;
        sum += s.expected(all) * scale * share(s.chunk);
        bytes += s
            .missing()
            .map(|(_, c)| usize::try_from(c.ids).map_or(0, chunk::stored_len))
            .sum::<usize>();
    }
    n.max(1)
}

/// Reads the missing chunks of `run` (one statement: for each key, the ranges of its
/// chunks that are missing), and keeps them in the cache.
async fn fetch<S: ChunkSource>(
    src: &mut S,
    cache: &ChunkCache,
    kind: &str,
    (keys, cached_names): (&[String], &[String]),
    run: &mut [Slot],
) -> Result<()> {
    let ranges = missing_ranges(run, keys.len());
    if ranges.is_empty() {
        return Ok(());
    }
    for stored in src.chunks(kind, keys, &ranges).await? {
        let c = stored.chunk;
        let (Some(&(key, _, _)), Ok(at)) = (
            ranges.get(stored.range),
            run.binary_search_by(|s| s.chunk.cmp(&c)),
        ) else {
            continue; // Not a candidate (another key lacks it).
        };
        if let Some(cell) = run[at].cells[key].as_mut().filter(|c| c.bits.is_none()) {
            let bits = Arc::new(decode(&stored.bits)?);
            cache.put(&cached_names[key], c, stored.v, Arc::clone(&bits));
            cell.bits = Some(bits);
        }
    }
    // A chunk the head listed and the table no longer has (a concurrent write) is
    // taken as empty.
    for s in run.iter_mut() {
        for cell in s.cells.iter_mut().flatten() {
            cell.bits.get_or_insert_with(|| Arc::new(Chunk::empty()));
        }
    }
    Ok(())
}

/// The ranges `(key, lo, hi)` of chunks missing in `run`, by key and chunk: each key's
/// runs of missing chunks (a chunk at hand ends one), then the closest ranges of a key
/// joined until there are at most [`RANGES`] (or one per key).
fn missing_ranges(run: &[Slot], keys: usize) -> Vec<(usize, i64, i64)> {
    let mut ranges: Vec<(usize, i64, i64)> = Vec::new();
    for k in 0..keys {
        let mut open: Option<(i64, i64)> = None;
        for s in run {
            match s.cells[k].as_ref() {
                None => {}
                Some(c) if c.bits.is_none() => {
                    open = Some(open.map_or((s.chunk, s.chunk), |(lo, _)| (lo, s.chunk)));
                }
                Some(_) => ranges.extend(open.take().map(|(lo, hi)| (k, lo, hi))),
            }
        }
        ranges.extend(open.map(|(lo, hi)| (k, lo, hi)));
    }
    let cap = RANGES.max(keys);
    while ranges.len() > cap {
        let closest = ranges
            .windows(2)
            .enumerate()
            .filter(|(_, w)| w[0].0 == w[1].0)
            .min_by_key(|(_, w)| w[1].1.saturating_sub(w[0].2))
            .map(|(i, _)| i);
        let Some(i) = closest else { break };
        ranges[i].2 = ranges[i + 1].2;
        ranges.remove(i + 1);
    }
    ranges
}

/// The ids of one chunk that carry all (or any) of the keys; `None` when none can.
fn combine(cells: Vec<Option<Cell>>, all: bool) -> Option<Chunk> {
    let mut acc: Option<Chunk> = None;
    for cell in cells {
        match (cell.and_then(|c| c.bits), &mut acc) {
            (None, _) if all => return None,
            (None, _) => {}
            (Some(c), None) => acc = Some(Arc::unwrap_or_clone(c)),
            (Some(c), Some(a)) if all => a.intersect(&c),
            (Some(c), Some(a)) => a.unite(&c),
        }
    }
    acc
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// The index as a map (chunks with their versions), counting the statements a find
    /// runs and the chunks a chunks statement returns.
    #[derive(Default)]
    struct Model {
        chunks: BTreeMap<(String, i64), (i64, Chunk)>,
        /// Key versions (`tag_keys`).
        keys: BTreeMap<String, i64>,
        clock: i64,
        statements: usize,
        /// Chunks returned by chunks statements.
        read: usize,
        /// Chunk rows returned by head statements.
        listed: usize,
    }

    impl Model {
        /// Sets (`set`) or clears the bits of `ids` under `key`; each chunk written gets
        /// a new version, as the database's writes give it.
        fn write(&mut self, key: &str, ids: impl IntoIterator<Item = i64>, set: bool) {
            self.clock += 1;
            self.keys.insert(key.to_owned(), self.clock);
            for id in ids {
                let (c, o) = chunk::split(id);
                self.clock += 1;
                let (v, bits) = self
                    .chunks
                    .entry((key.to_owned(), c))
                    .or_insert_with(|| (0, Chunk::empty()));
                *v = self.clock;
                if set {
                    bits.insert(o);
                } else {
                    bits.remove(o);
                }
            }
            self.chunks.retain(|_, (_, bits)| !bits.is_empty());
        }

        fn tag(&mut self, key: &str, ids: impl IntoIterator<Item = i64>) {
            self.write(key, ids, true);
        }
    }

    impl ChunkSource for Model {
        async fn head(
            &mut self,
            _: &str,
            keys: &[String],
            reach: Reach,
            held: &[Option<i64>],
        ) -> Result<Heads> {
            self.statements += 1;
            let mut out = Vec::new();
            let versions: Vec<Option<i64>> =
                keys.iter().map(|k| self.keys.get(k).copied()).collect();
            for (i, k) in keys.iter().enumerate() {
                if held[i].is_some() && held[i] == versions[i] {
                    continue;
                }
                let range = (k.clone(), reach.from)..=(k.clone(), i64::MAX);
                let rows: Vec<_> = self.chunks.range(range).take(reach.len).collect();
                let last =
                    reach.carries(rows.iter().map(|((_, c), (_, b))| (*c, i64::from(b.len()))));
                for ((_, c), (v, bits)) in rows {
                    let ids = i64::from(bits.len());
                    out.push(Head {
                        key: i,
                        chunk: *c,
                        ids,
                        v: *v,
                        bits: (*c <= last || ids <= INLINE_IDS).then(|| bits.encode().into()),
                    });
                }
            }
            self.listed += out.len();
            Ok(Heads {
                versions,
                rows: out,
            })
        }

        async fn chunks(
            &mut self,
            _: &str,
            keys: &[String],
            ranges: &[(usize, i64, i64)],
        ) -> Result<Vec<Stored>> {
            self.statements += 1;
            let mut out = Vec::new();
            for (i, &(key, lo, hi)) in ranges.iter().enumerate() {
                let k = &keys[key];
                for ((_, c), (v, bits)) in self.chunks.range((k.clone(), lo)..=(k.clone(), hi)) {
                    out.push(Stored {
                        range: i,
                        chunk: *c,
                        v: *v,
                        bits: bits.encode(),
                    });
                }
            }
            self.read += out.len();
            Ok(out)
        }
    }

    fn run<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime")
            .block_on(f)
    }

    /// Equal lists, or a panic that shows where they part (not both whole lists).
    fn same(got: &[i64], want: &[i64], what: &str) {
        if let Some(i) = (0..got.len().min(want.len())).find(|&i| got[i] != want[i]) {
            panic!("{what}: at {i} got {} want {}", got[i], want[i]);
        }
        assert_eq!(got.len(), want.len(), "{what}: lengths");
    }

    /// The whole result of a find in the model's kind `k`.
    fn whole(m: &mut Model, cache: &ChunkCache, keys: &[String], all: bool) -> Vec<i64> {
        run(find_page(m, cache, "k", keys, all, i64::MIN, usize::MAX)).unwrap()
    }

    fn keys(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    /// Every page of every query equals the brute-force answer, ids of all signs and
    /// far apart included, and whole results too.
    #[test]
    fn pages_match_brute_force() {
        let ids: Vec<i64> = (-70_000..300_000)
            .step_by(7)
            .chain([i64::MIN + 1, -1, 0, 1 << 40, i64::MAX])
            .collect::<std::collections::BTreeSet<i64>>()
            .into_iter()
            .collect();
        let has = |key: &str, id: i64| match key {
            "a" => id % 2 == 0,
            "b" => id % 3 == 0,
            "rare" => id.rem_euclid(10_007) == 5 || id == i64::MAX,
            "none" => false,
            _ => true,
        };
        let mut m = Model::default();
        for k in ["a", "b", "rare", "every"] {
            m.tag(k, ids.iter().copied().filter(|&id| has(k, id)));
        }
        let queries: &[(&[&str], bool)] = &[
            (&["a"], true),
            (&["rare"], true),
            (&["a", "b"], true),
            (&["a", "rare"], true),
            (&["b", "a", "rare"], true),
            (&["a", "none"], true),
            (&["a", "b"], false),
            (&["rare", "none"], false),
            (&["none"], false),
            (&["every"], true),
        ];
        // Without a cache, and with one that the queries share.
        for cache in [ChunkCache::new(0), ChunkCache::new(64 << 20)] {
            for (q, all) in queries {
                let k = keys(q);
                let want: Vec<i64> = ids
                    .iter()
                    .copied()
                    .filter(|&id| {
                        if *all {
                            q.iter().all(|key| has(key, id))
                        } else {
                            q.iter().any(|key| has(key, id))
                        }
                    })
                    .collect();
                let whole = whole(&mut m, &cache, &k, *all);
                same(&whole, &want, &format!("{q:?} all={all}"));
                for limit in [1, 100, 4_000] {
                    let mut after = i64::MIN;
                    let mut paged = Vec::new();
                    let mut pages = 0;
                    loop {
                        let page =
                            run(find_page(&mut m, &cache, "k", &k, *all, after, limit)).unwrap();
                        assert!(page.len() <= limit);
                        pages += 1;
                        let Some(&last) = page.last() else { break };
                        paged.extend(page);
                        after = last;
                        if limit == 1 && pages > 50 {
                            break;
                        }
                    }
                    let expect: Vec<i64> = if limit == 1 && pages > 50 {
                        want.iter().copied().take(paged.len()).collect()
                    } else {
                        want.clone()
                    };
                    same(&paged, &expect, &format!("{q:?} all={all} by {limit}"));
                }
                for cursor in [-70_001, -1, 0, 3, 32_767, 32_768, 299_990, i64::MAX - 1] {
                    let page = run(find_page(&mut m, &cache, "k", &k, *all, cursor, 10)).unwrap();
                    let expect: Vec<i64> = want
                        .iter()
                        .copied()
                        .filter(|&r| r > cursor)
                        .take(10)
                        .collect();
                    assert_eq!(page, expect, "{q:?} all={all} after {cursor}");
                }
            }
        }
    }

    /// Windows: keys with more chunks than one head statement lists are read window
    /// by window, and a page costs one or two statements, even when the estimates are
    /// wrong.
    #[test]
    fn windows_and_statement_counts() {
        let mut m = Model::default();
        // 200 chunks, one id each: the key needs four windows.
        m.tag("spread", (0..200).map(|c| c * chunk::IDS as i64 + 5));
        // Dense keys that never meet: an empty intersection over 31 chunks.
        m.tag("even", (0..1_000_000).filter(|i| i % 2 == 0));
        m.tag("odd", (0..1_000_000).filter(|i| i % 2 == 1));
        let none_cached = ChunkCache::new(0);
        let count = |m: &mut Model, k: &[&str], all: bool, after: i64, limit: usize| {
            m.statements = 0;
            let found = run(find_page(m, &none_cached, "k", &keys(k), all, after, limit)).unwrap();
            (found, m.statements)
        };
        let (spread, n) = count(&mut m, &["spread"], true, -1, 1_000);
        assert_eq!(spread.len(), 200);
        assert_eq!(n, 4, "four windows, every chunk small enough to come along");
        // Any-of pages of several keys list 16 chunks per head; whole results 64.
        m.tag("spread9", (0..200).map(|c| c * chunk::IDS as i64 + 9));
        let want: Vec<i64> = (0..200)
            .flat_map(|c| [c * chunk::IDS as i64 + 5, c * chunk::IDS as i64 + 9])
            .collect();
        let (page, n) = count(&mut m, &["spread", "spread9"], false, -1, 1_000);
        assert_eq!(page, want);
        assert_eq!(n, 13, "200 chunks in windows of 16");
        let (whole, n) = count(&mut m, &["spread", "spread9"], false, -1, usize::MAX);
        assert_eq!(whole, want);
        assert_eq!(n, 4, "whole results: windows of 64");
        let (page, n) = count(&mut m, &["spread", "spread9"], false, want[41], 3);
        assert_eq!(page, want[42..45]);
        assert_eq!(n, 1);
        let (none, n) = count(&mut m, &["even", "odd"], true, -1, 100);
        assert!(none.is_empty());
        assert_eq!(n, 2, "the head, then the rest of the window at once");
        let (page, n) = count(&mut m, &["even"], true, -1, 100);
        assert_eq!(page, (0..100).map(|i| 2 * i).collect::<Vec<_>>());
        assert_eq!(n, 1, "the head's first chunk holds the page");
        let (page, n) = count(&mut m, &["even", "odd"], false, 50, 100);
        assert_eq!(page, (51..151).collect::<Vec<_>>());
        assert_eq!(n, 1, "any-of from the first chunks");
        let (page, n) = count(&mut m, &["odd", "spread"], true, 1 << 18, 3);
        assert_eq!(page, [(8 << 15) + 5, (9 << 15) + 5, (10 << 15) + 5]);
        assert!(n <= 2, "{n} statements");
    }

    /// A page whose cursor sits near the end of a dense chunk is one statement: the head
    /// carries the next chunks too, as many as the page is expected to need.
    #[test]
    fn a_cursor_near_a_chunks_end_takes_one_statement() {
        let mut m = Model::default();
        // 1 024 ids in each of 8 chunks (one id in 32), then a chunk of 10 ids.
        let ids = chunk::IDS as i64;
        let all_ids: Vec<i64> = (0..8 * ids)
            .filter(|i| i % 32 == 0)
            .chain((0..10).map(|i| 8 * ids + 1000 + i))
            .collect();
        m.tag("dense", all_ids.iter().copied());
        // A page of `dense` after `after`, and the statements and chunks it took.
        let page = |m: &mut Model, cache: &ChunkCache, after: i64, limit: usize| {
            m.statements = 0;
            m.read = 0;
            let found = run(find_page(
                m,
                cache,
                "k",
                &keys(&["dense"]),
                true,
                after,
                limit,
            ));
            (found.unwrap(), (m.statements, m.read))
        };
        let none_cached = ChunkCache::new(0);
        for (after, limit) in [
            (ids - 40, 100),        // 1 id left in chunk 0
            (3 * ids - 3_000, 100), // 93 left in chunk 2
            (5 * ids - 200, 1_500), // the page spans two more chunks
            (8 * ids - 64, 5),      // into the small last chunk
            (-1, 100),
        ] {
            let (found, counts) = page(&mut m, &none_cached, after, limit);
            let want: Vec<i64> = all_ids
                .iter()
                .copied()
                .filter(|&i| i > after)
                .take(limit)
                .collect();
            same(&found, &want, "page");
            assert_eq!(counts, (1, 0), "after {after}, {limit} ids");
        }
        // The same page from a held head: the chunks it needs must be at hand too.
        let cache = ChunkCache::new(64 << 20);
        assert_eq!(page(&mut m, &cache, -1, 100).0.len(), 100);
        let (found, counts) = page(&mut m, &cache, ids - 40, 100);
        same(&found, &all_ids[1023..1123], "page from a held head");
        assert_eq!(counts, (1, 0), "one head statement, no chunks statement");
    }

    #[test]
    fn reach_carries_until_the_expected_ids_reach_the_need() {
        let ids = chunk::IDS as i64;
        let reach = |offset, need| Reach {
            from: 4,
            len: 64,
            offset,
            need,
        };
        let rows = [(4, 1_000), (5, 1_000), (7, 300), (9, 5_000)];
        assert_eq!(reach(0, 100).carries(rows), 4);
        assert_eq!(reach(0, 1_000).carries(rows), 4);
        assert_eq!(reach(0, 1_001).carries(rows), 5);
        // Half the first chunk lies below the cursor: 500 expected above it.
        assert_eq!(reach(ids / 2, 500).carries(rows), 4);
        assert_eq!(reach(ids / 2, 501).carries(rows), 5);
        assert_eq!(reach(ids - 1, 100).carries(rows), 5);
        assert_eq!(reach(0, 2_301).carries(rows), 9);
        assert_eq!(
            reach(0, 10_000).carries(rows),
            i64::MAX,
            "never reached: all"
        );
        // Only `len` rows count; the first row need not be the cursor's chunk.
        let short = Reach {
            len: 2,
            ..reach(0, 2_100)
        };
        assert_eq!(short.carries(rows), i64::MAX);
        assert_eq!(reach(ids - 1, 100).carries([(6, 150)]), 6);
        assert_eq!(reach(0, 1).carries(std::iter::empty()), i64::MAX);
    }

    /// The cache serves the chunks a find read before, and only while their versions
    /// are the ones the head lists: a chunk written since is read again.
    #[test]
    fn cached_chunks_serve_only_their_version() {
        let mut m = Model::default();
        m.tag("even", (0..1_000_000).filter(|i| i % 2 == 0));
        m.tag("rare", (0..1_000_000).filter(|i| i % 10_007 == 3));
        let cache = ChunkCache::new(64 << 20);
        let find = |m: &mut Model| {
            m.statements = 0;
            m.read = 0;
            m.listed = 0;
            let found = run(find_page(
                m,
                &cache,
                "k",
                &keys(&["rare", "even"]),
                true,
                -1,
                1_000,
            ))
            .unwrap();
            (found, m.statements, m.read, m.listed)
        };
        let want = |m: &Model| -> Vec<i64> {
            let has = |k: &str, id: i64| {
                let (c, o) = chunk::split(id);
                m.chunks
                    .get(&(k.to_owned(), c))
                    .is_some_and(|(_, b)| b.offsets(o).next() == Some(o))
            };
            (0..1_000_000)
                .filter(|&i| has("rare", i) && has("even", i))
                .collect()
        };
        let (first, n, read, listed) = find(&mut m);
        assert_eq!(first, want(&m));
        assert_eq!(n, 2, "the head, then the dense key's chunks");
        assert_eq!(read, 30, "every chunk of `even` but the first (the head's)");
        assert_eq!(listed, 31 + 31, "both keys' chunk lists");
        let (again, n, read, listed) = find(&mut m);
        assert_eq!(again, first);
        assert_eq!(
            (n, read, listed),
            (1, 0, 0),
            "the head statement alone, which lists nothing: both keys are unchanged"
        );

        // `even` gains an odd id that `rare` has (10 007 * 50 + 3, in chunk 15), and
        // loses an even one it had (10 007 * 99 + 3, in chunk 30): both chunks have
        // new versions, and only they are read again.
        let gained = 10_007 * 50 + 3;
        let lost = 10_007 * 99 + 3;
        assert_eq!(
            (gained % 2, gained >> 15, lost % 2, lost >> 15),
            (1, 15, 0, 30)
        );
        m.write("even", [gained], true);
        m.write("even", [lost], false);
        let (changed, n, read, listed) = find(&mut m);
        assert_eq!(changed, want(&m));
        assert!(changed.contains(&gained) && !changed.contains(&lost));
        assert_eq!((n, read), (2, 2), "the two chunks written since");
        assert_eq!(listed, 31, "the written key's list only");
        let (again, n, read, listed) = find(&mut m);
        assert_eq!(again, changed);
        assert_eq!((n, read, listed), (1, 0, 0));
    }

    /// A deep page of a key whose head is held but whose chunk at the cursor is not
    /// cached reads the head again (which carries that chunk): one statement, not the
    /// head's version and then the chunk. The next such page is served by the cache.
    #[test]
    fn a_held_head_serves_when_the_first_chunk_is_at_hand() {
        let mut m = Model::default();
        m.tag("even", (0..1_000_000).filter(|i| i % 2 == 0));
        let cache = ChunkCache::new(64 << 20);
        let k = keys(&["even"]);
        let mut page = |after: i64| {
            m.statements = 0;
            m.listed = 0;
            let found = run(find_page(&mut m, &cache, "k", &k, true, after, 10)).unwrap();
            (found, m.statements, m.listed)
        };
        let deep = 20 << 15;
        let want: Vec<i64> = (1..=10).map(|i| deep + 2 * i).collect();
        assert_eq!(page(-1).1, 1);
        let (found, n, listed) = page(deep + 1);
        assert_eq!(found, want);
        assert_eq!(
            (n, listed),
            (1, 11),
            "chunk 20 was not cached: the head again"
        );
        let (found, n, listed) = page(deep + 1);
        assert_eq!(found, want);
        assert_eq!((n, listed), (1, 0), "now it is");
    }

    /// A key written between two pages of a walk (the second page continuing the
    /// head that the first one left in the cache) is listed afresh by the next find.
    #[test]
    fn a_key_written_between_pages_is_listed_afresh() {
        let mut m = Model::default();
        let id = |c: i64| c * chunk::IDS as i64 + 5;
        m.tag("spread", (0..200).map(id));
        let cache = ChunkCache::new(64 << 20);
        let k = keys(&["spread"]);
        let page = |m: &mut Model, after: i64, limit: usize| {
            run(find_page(m, &cache, "k", &k, true, after, limit)).unwrap()
        };
        assert_eq!(page(&mut m, -1, 3), [id(0), id(1), id(2)]);
        // The head held lists chunks 0..=63; the key changes in chunk 10; the next
        // page starts in chunk 63, at the end of the head held.
        m.write("spread", [id(10) + 1], true);
        assert_eq!(page(&mut m, id(63), 2), [id(64), id(65)]);
        let want: Vec<i64> = (0..200)
            .map(id)
            .chain([id(10) + 1])
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        same(&page(&mut m, -1, usize::MAX), &want, "after the write");
        assert_eq!(page(&mut m, id(10), 1), [id(10) + 1]);
    }

    /// With a cache shared by every find, finds interleaved with writes of any key
    /// (setting and clearing ids, emptying a key, creating one) equal the brute-force
    /// answer, for whole results read window by window and for pages; and a find
    /// repeated with no write in between lists no chunk.
    #[test]
    fn cached_heads_follow_writes() {
        let mut m = Model::default();
        // 200 chunks of one id: four windows of 64, or 13 of 16 for any-of pages.
        m.tag("spread", (0..200).map(|c| c * chunk::IDS as i64 + 5));
        m.tag("even", (0..100_000).filter(|i| i % 2 == 0));
        m.tag("third", (0..100_000).filter(|i| i % 3 == 0));
        let cache = ChunkCache::new(64 << 20);
        let names = ["spread", "even", "third", "new"];
        let queries: &[(&[&str], bool)] = &[
            (&["spread"], true),
            (&["even", "third"], true),
            (&["spread", "even"], true),
            (&["spread", "third"], false),
            (&["even", "new"], false),
            (&["new"], true),
        ];
        let brute = |m: &Model, q: &[&str], all: bool| -> Vec<i64> {
            let ids: std::collections::BTreeSet<i64> = m
                .chunks
                .iter()
                .filter(|((k, _), _)| q.contains(&k.as_str()))
                .flat_map(|((_, c), (_, b))| {
                    b.offsets(0).map(|o| chunk::join(*c, o)).collect::<Vec<_>>()
                })
                .collect();
            let has = |k: &str, id: i64| {
                let (c, o) = chunk::split(id);
                m.chunks
                    .get(&(k.to_owned(), c))
                    .is_some_and(|(_, b)| b.offsets(o).next() == Some(o))
            };
            ids.into_iter()
                .filter(|&id| {
                    if all {
                        q.iter().all(|k| has(k, id))
                    } else {
                        q.iter().any(|k| has(k, id))
                    }
                })
                .collect()
        };
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for round in 0..30 {
            // A write: a few ids set or cleared under one key; every tenth round
            // clears a whole key.
            let key = names[next(names.len() as u64) as usize];
            if round % 10 == 9 {
                let all: Vec<i64> = brute(&m, &[key], true);
                m.write(key, all, false);
            } else {
                let ids: Vec<i64> = (0..5).map(|_| next(6_600_000) as i64).collect();
                m.write(key, ids, next(3) > 0);
            }
            for (q, all) in queries {
                let k = keys(q);
                let want = brute(&m, q, *all);
                let whole = whole(&mut m, &cache, &k, *all);
                same(&whole, &want, &format!("round {round}: {q:?} all={all}"));
                let cursor = next(6_600_000) as i64;
                let page = run(find_page(&mut m, &cache, "k", &k, *all, cursor, 100)).unwrap();
                let expect: Vec<i64> = want
                    .iter()
                    .copied()
                    .filter(|&r| r > cursor)
                    .take(100)
                    .collect();
                same(
                    &page,
                    &expect,
                    &format!("round {round}: {q:?} all={all} after {cursor}"),
                );
                m.listed = 0;
                let again = run(find_page(&mut m, &cache, "k", &k, *all, cursor, 100)).unwrap();
                assert_eq!(again, page);
                assert_eq!(m.listed, 0, "round {round}: {q:?}: nothing written since");
            }
        }
    }
}
