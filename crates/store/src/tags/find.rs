//! Finds: a page of the records carrying all (or any) of some keys, read chunk by chunk
//! from the tag index (see [`super::chunk`]).
//!
//! A page takes two kinds of statement:
//!
//! 1. **Sizes.** For each key, the numbers and sizes of its next [`WINDOW`] chunks from
//!    the cursor's chunk on (an index range scan per key; no bitmap is read). The
//!    candidate chunks are those every key has (all-of) or any key has (any-of), up to
//!    the end of the shortest truncated list (the window).
//! 2. **Chunks.** The stored chunks of every key over a run of candidates, combined here
//!    (`&` for all-of, `|` for any-of) and read in id order until the page is full.
//!
//! How many candidates the first run covers comes from the sizes: for any-of the largest
//! key's size is a lower bound of the union, for all-of the sizes' product (as if the
//! keys were independent) estimates the intersection. When a run yields fewer ids than
//! estimated, the estimates of the rest are scaled by what it did yield (an empty
//! intersection takes the whole rest of the window next), so a page costs one sizes
//! statement and one or two chunk statements per window, and a window is up to 64
//! chunks per key (2 million ids when ids are dense).

use super::chunk::{self, Chunk};
use crate::error::{Result, StoreError};

/// How many chunks of each key a sizes statement lists.
pub(crate) const WINDOW: usize = 64;

/// Where a find reads the index: a database connection, or a model in tests.
pub(crate) trait ChunkSource {
    /// For each of `keys` (by its index), the numbers and sizes of up to [`WINDOW`] of
    /// its chunks from chunk `from` on, ascending.
    async fn sizes(&mut self, kind: &str, keys: &[String], from: i64) -> Result<Vec<Size>>;

    /// The stored chunks `lo..=hi` of each of `keys` (by its index).
    async fn chunks(
        &mut self,
        kind: &str,
        keys: &[String],
        lo: i64,
        hi: i64,
    ) -> Result<Vec<(usize, i64, Vec<u8>)>>;
}

/// One key's chunk and how many ids it holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Size {
    pub(crate) key: usize,
    pub(crate) chunk: i64,
    pub(crate) ids: i64,
}

/// A chunk that may hold matches, and how many it is expected to hold.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Candidate {
    chunk: i64,
    expected: f64,
}

/// The ids (ascending) greater than `after_id` of the records carrying every one
/// (`all`) or any of `keys`, at most `limit`.
pub(crate) async fn find_page<S: ChunkSource>(
    src: &mut S,
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
    let (first_chunk, first_offset) = chunk::split(after_id + 1);
    let mut from = first_chunk;
    loop {
        let sizes = src.sizes(kind, keys, from).await?;
        let (candidates, end) = candidates(keys.len(), &sizes, all);
        let mut scale = 1.0;
        let mut at = 0;
        let mut taken = 0;
        while at < candidates.len() {
            let need = limit - out.len();
            taken = run_length(&candidates[at..], need, all, scale, taken, |c| {
                if c.chunk == first_chunk {
                    1.0 - f64::from(first_offset) / chunk::IDS as f64
                } else {
                    1.0
                }
            });
            let run = &candidates[at..at + taken];
            let (lo, hi) = (run[0].chunk, run[taken - 1].chunk);
            let stored = src.chunks(kind, keys, lo, hi).await?;
            let mut loaded: Vec<Vec<Option<Chunk>>> = vec![vec![None; keys.len()]; taken];
            for (key, c, bytes) in stored {
                let Ok(slot) = run.binary_search_by(|r| r.chunk.cmp(&c)) else {
                    continue; // Not a candidate (another key lacks it).
                };
                let decoded = Chunk::decode(&bytes).map_err(|reason| StoreError::Corrupt {
                    column: "tag_bits.bits",
                    reason: reason.to_owned(),
                })?;
                if let Some(cell) = loaded[slot].get_mut(key) {
                    *cell = Some(decoded);
                }
            }
            let before = out.len();
            for (candidate, per_key) in run.iter().zip(loaded) {
                let Some(ids) = combine(per_key, all) else {
                    continue;
                };
                let from = if candidate.chunk == first_chunk {
                    first_offset
                } else {
                    0
                };
                for offset in ids.offsets(from) {
                    out.push(chunk::join(candidate.chunk, offset));
                    if out.len() == limit {
                        return Ok(out);
                    }
                }
            }
            let expected: f64 = run.iter().map(|c| c.expected).sum();
            if expected > 0.0 {
                scale = (out.len() - before) as f64 / expected;
            }
            at += taken;
        }
        match end.and_then(|e| e.checked_add(1)) {
            Some(next) => from = next,
            None => return Ok(out),
        }
    }
}

/// The candidate chunks among `sizes`, ascending, and the last chunk of the window
/// (`None`: every key's list was read to its end).
fn candidates(keys: usize, sizes: &[Size], all: bool) -> (Vec<Candidate>, Option<i64>) {
    let mut per_key: Vec<Vec<Size>> = vec![Vec::new(); keys];
    for s in sizes {
        if let Some(list) = per_key.get_mut(s.key) {
            list.push(*s);
        }
    }
    for list in &mut per_key {
        list.sort_by_key(|s| s.chunk);
    }
    let end = per_key
        .iter()
        .filter(|list| list.len() >= WINDOW)
        .filter_map(|list| list.last().map(|s| s.chunk))
        .min();
    if all && per_key.iter().any(Vec::is_empty) {
        return (Vec::new(), None);
    }
    let mut merged: Vec<Size> = per_key.into_iter().flatten().collect();
    merged.sort_by_key(|s| s.chunk);
    let mut out: Vec<Candidate> = Vec::new();
    let mut i = 0;
    while i < merged.len() {
        let c = merged[i].chunk;
        let mut j = i;
        let mut holders = 0;
        let mut expected: f64 = if all { chunk::IDS as f64 } else { 0.0 };
        while j < merged.len() && merged[j].chunk == c {
            let n = merged[j].ids as f64;
            holders += 1;
            expected = if all {
                expected * n / chunk::IDS as f64
            } else {
                expected.max(n)
            };
            j += 1;
        }
        if end.is_none_or(|e| c <= e) && (!all || holders == keys) {
            out.push(Candidate { chunk: c, expected });
        }
        i = j;
    }
    (out, end)
}

/// How many of `candidates` the next run reads: enough for `need` ids by the estimates
/// (scaled by what the previous run yielded; twice as many for all-of, whose estimate
/// is not a bound), and at least twice the previous run.
fn run_length(
    candidates: &[Candidate],
    need: usize,
    all: bool,
    scale: f64,
    previous: usize,
    share: impl Fn(&Candidate) -> f64,
) -> usize {
    let want = need as f64 * if all { 2.0 } else { 1.0 };
    let mut sum = 0.0;
    let mut n = 0;
    for c in candidates {
        n += 1;
        sum += c.expected * scale * share(c);
        if sum >= want {
            break;
        }
    }
    n.max(previous * 2).clamp(1, candidates.len())
}

/// The ids of one chunk that carry all (or any) of the keys; `None` when none can.
fn combine(per_key: Vec<Option<Chunk>>, all: bool) -> Option<Chunk> {
    let mut acc: Option<Chunk> = None;
    for c in per_key {
        match (c, &mut acc) {
            (None, _) if all => return None,
            (None, _) => {}
            (Some(c), None) => acc = Some(c),
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

    /// The index as a map, counting the statements a find runs.
    #[derive(Default)]
    struct Model {
        chunks: BTreeMap<(String, i64), Chunk>,
        statements: usize,
    }

    impl Model {
        fn tag(&mut self, key: &str, ids: impl IntoIterator<Item = i64>) {
            for id in ids {
                let (c, o) = chunk::split(id);
                self.chunks
                    .entry((key.to_owned(), c))
                    .or_insert_with(Chunk::empty)
                    .insert(o);
            }
        }
    }

    impl ChunkSource for Model {
        async fn sizes(&mut self, _: &str, keys: &[String], from: i64) -> Result<Vec<Size>> {
            self.statements += 1;
            let mut out = Vec::new();
            for (i, k) in keys.iter().enumerate() {
                let range = (k.clone(), from)..=(k.clone(), i64::MAX);
                for ((_, c), bits) in self.chunks.range(range).take(WINDOW) {
                    out.push(Size {
                        key: i,
                        chunk: *c,
                        ids: i64::from(bits.len()),
                    });
                }
            }
            Ok(out)
        }

        async fn chunks(
            &mut self,
            _: &str,
            keys: &[String],
            lo: i64,
            hi: i64,
        ) -> Result<Vec<(usize, i64, Vec<u8>)>> {
            self.statements += 1;
            let mut out = Vec::new();
            for (i, k) in keys.iter().enumerate() {
                for ((_, c), bits) in self.chunks.range((k.clone(), lo)..=(k.clone(), hi)) {
                    out.push((i, *c, bits.encode()));
                }
            }
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
            let whole = run(find_page(&mut m, "k", &k, *all, i64::MIN, usize::MAX)).unwrap();
            same(&whole, &want, &format!("{q:?} all={all}"));
            for limit in [1, 100, 4_000] {
                let mut after = i64::MIN;
                let mut paged = Vec::new();
                let mut pages = 0;
                loop {
                    let page = run(find_page(&mut m, "k", &k, *all, after, limit)).unwrap();
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
                let page = run(find_page(&mut m, "k", &k, *all, cursor, 10)).unwrap();
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

    /// Windows: keys with more chunks than one sizes statement lists are read window
    /// by window, and a page that the estimates get wrong still costs few statements.
    #[test]
    fn windows_and_statement_counts() {
        let mut m = Model::default();
        // 200 chunks, one id each: the key needs four windows.
        m.tag("spread", (0..200).map(|c| c * chunk::IDS as i64 + 5));
        // Dense keys that never meet: an empty intersection over 31 chunks.
        m.tag("even", (0..1_000_000).filter(|i| i % 2 == 0));
        m.tag("odd", (0..1_000_000).filter(|i| i % 2 == 1));
        let all = run(find_page(&mut m, "k", &keys(&["spread"]), true, -1, 1_000)).unwrap();
        assert_eq!(all.len(), 200);
        m.statements = 0;
        let none = run(find_page(
            &mut m,
            "k",
            &keys(&["even", "odd"]),
            true,
            -1,
            100,
        ))
        .unwrap();
        assert!(none.is_empty());
        assert!(m.statements <= 3, "{} statements", m.statements);
        m.statements = 0;
        let page = run(find_page(&mut m, "k", &keys(&["even"]), true, -1, 100)).unwrap();
        assert_eq!(page, (0..100).map(|i| 2 * i).collect::<Vec<_>>());
        assert_eq!(m.statements, 2, "one sizes and one chunks statement");
    }
}
