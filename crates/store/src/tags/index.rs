//! The tag index: table `tag_bits`, one row per (kind, key, chunk) holding the chunk's
//! record ids (see [`super::chunk`]), kept in the same transaction as the tag rows.
//!
//! A record tagged `a/b/c` is indexed under `/a/`, `/a/b/` and `/a/b/c/`: every tag's
//! ancestors are materialized, so a hierarchical find reads one key per tag however
//! many tags lie below it. Adding a tag sets its record's bit under the tag and each
//! ancestor; removing one clears the bits that none of the record's remaining tags
//! still covers. Rows are read, changed and written back inside the write transaction
//! (SQLite's write lock, PostgreSQL's row locks via `SELECT ... FOR UPDATE` serialize
//! concurrent writers of one chunk).
//!
//! Every write first gives each key it may change a new version in table `tag_keys`,
//! in key order, before it touches an index row: the finds' head caches check those
//! versions ([`super::cache`]), and on PostgreSQL the key rows' locks make writers of a
//! key take turns, in one order for all writers, so none waits for another in a cycle.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use sqlx::AssertSqlSafe;

use super::chunk::{self, Chunk};
use super::find::{ChunkSource, Head, Heads, INLINE_IDS, Reach, Stored, decode};
use crate::backend::BackendKind;
use crate::error::Result;
use crate::import::chunks_by_size;

/// The key that pads key lists: no tag's key is empty (they are `/a/`, `/a/b/`), so it
/// matches nothing. Not NULL: PostgreSQL's custom plan of a statement drops the arms or
/// list items of NULL keys and so can look cheaper than the generic plan; then
/// PostgreSQL plans every run afresh. Measured at 1M users on a head statement of four
/// arms with two NULL keys: 0.40–0.60 ms of planning on every run, 0.01 ms with empty
/// keys (the finds' own shapes, one NULL key of four or three of eight, kept generic
/// plans even with NULLs; the empty key takes the question away).
const NO_KEY: &str = "";

/// Keys per statement when reading or deleting a chunk's rows.
const KEYS_PER_STATEMENT: usize = 128;
/// Tag rows per multi-row INSERT.
const TAG_ROWS: usize = 300;
/// Tag rows per page of the rebuild's scan.
const REBUILD_PAGE: i64 = 50_000;

/// `key` (`/a/b/`) and its ancestors' keys (`/a/`), shortest first.
pub(crate) fn key_and_ancestors(key: &str) -> impl Iterator<Item = &str> {
    key.match_indices('/').skip(1).map(|(i, _)| &key[..=i])
}

/// The index keys a record with tags `keys` is found under.
fn covered<'a>(keys: impl IntoIterator<Item = &'a str>) -> BTreeSet<&'a str> {
    keys.into_iter().flat_map(key_and_ancestors).collect()
}

/// On SQLite, `sql` with every parameter `$n` wrapped in a `CAST` (to `INTEGER` for the
/// `integers`, else `TEXT`, or `BLOB` for the `blobs`), so that the statement's plan
/// does not depend on the values bound to it.
///
/// SQLite (as bundled by sqlx: `SQLITE_ENABLE_STAT4`) consults the `sqlite_stat4`
/// samples that `ANALYZE` / `PRAGMA optimize` leave for a parameter compared with an
/// indexed column, and evaluates a parameter `LIMIT` while planning; either marks the
/// prepared statement so that binding a new value expires it, and the next step
/// prepares it again: every find was compiled afresh on each run (measured with the
/// bundled SQLite 3.51.3: `SQLITE_STMTSTATUS_REPREPARE` counted one re-prepare per run
/// without the casts, none with them). A `CAST` hides the value from the planner.
pub(crate) fn stable_plan(
    backend: BackendKind,
    sql: &str,
    integers: &[usize],
    blobs: &[usize],
) -> String {
    if backend != BackendKind::Sqlite {
        return sql.to_owned();
    }
    let mut out = String::with_capacity(sql.len() + sql.len() / 2);
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let digits = rest[at + 1..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        let var = &rest[at..at + 1 + digits];
        match var[1..].parse::<usize>() {
            Ok(n) => {
                let ty = if integers.contains(&n) {
                    "INTEGER"
                } else if blobs.contains(&n) {
                    "BLOB"
                } else {
                    "TEXT"
                };
                out.push_str(&format!("CAST({var} AS {ty})"));
            }
            Err(_) => out.push_str(var),
        }
        rest = &rest[at + 1 + digits..];
    }
    out.push_str(rest);
    out
}

/// `n` rounded up to a power of two: lists of keys are padded with [`NO_KEY`] so that a
/// connection prepares a few statement shapes, not one per length.
fn padded_len(n: usize) -> usize {
    n.max(1).next_power_of_two()
}

/// The `i`th of `keys`, or [`NO_KEY`] past their end: what a padded list binds.
fn key_or_pad<S: AsRef<str>>(keys: &[S], i: usize) -> &str {
    keys.get(i).map_or(NO_KEY, AsRef::as_ref)
}

/// `$first, $first+1, ...`, `n` of them.
fn params(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `{verb} FROM tag_bits` of chunk `$2` of kind `$1` and `n` keys from `$3` on (a padded
/// list: see [`key_or_pad`]).
fn chunk_keys_sql(backend: BackendKind, verb: &str, n: usize) -> String {
    stable_plan(
        backend,
        &format!(
            "{verb} FROM tag_bits WHERE kind = $1 AND chunk = $2 AND key IN ({})",
            params(3, n)
        ),
        &[2],
        &[],
    )
}

/// One pair of arms per key of the head statement (`$1` kind, `$2` first chunk, keys
/// from `$3`, then the versions of the keys' lists the caller holds, then the cursor's
/// offset in the first chunk and the ids the page needs: [`Reach`]): the key's version
/// (a row with `n` = -1), and, unless it is the version the caller holds, the key's
/// next chunks with their sizes and versions, and the stored form of the small ones and
/// of those [`Reach::carries`] (the chunks up to the first at which the running sum of
/// ids expected above the cursor reaches the need; all of them if it never does). The
/// first such chunk is found by `ORDER BY .. LIMIT 1`, which stops the running sum
/// there: `MIN` read the whole window (43 against 32 µs an arm on PostgreSQL for a key
/// of 22 chunks; 29 µs without the carry rule). One statement reads both, so they agree.
fn head_sql(backend: BackendKind, keys: usize, window: usize) -> String {
    let offset = 2 * keys + 3;
    let need = 2 * keys + 4;
    let ids = chunk::IDS;
    let arms: Vec<String> = (0..keys)
        .map(|i| {
            let k = i + 3;
            let held = keys + i + 3;
            format!(
                "SELECT CAST({i} AS BIGINT) AS i, CAST(0 AS BIGINT) AS chunk, \
                 CAST(-1 AS BIGINT) AS n, v, NULL AS bits FROM tag_keys \
                 WHERE kind = $1 AND key = ${k} \
                 UNION ALL \
                 SELECT * FROM (SELECT CAST({i} AS BIGINT) AS i, chunk, n, v, \
                 CASE WHEN n <= {INLINE_IDS} OR chunk <= COALESCE((SELECT w.chunk FROM \
                 (SELECT f.chunk, SUM(CASE WHEN f.chunk = $2 THEN f.n * ({ids} - ${offset}) / {ids} \
                 ELSE f.n END) OVER (ORDER BY f.chunk ROWS UNBOUNDED PRECEDING) AS expected \
                 FROM tag_bits AS f WHERE f.kind = $1 AND f.key = ${k} AND f.chunk >= $2 \
                 ORDER BY f.chunk LIMIT {window}) AS w WHERE w.expected >= ${need} \
                 ORDER BY w.chunk LIMIT 1), \
                 {max}) THEN bits END AS bits \
                 FROM tag_bits WHERE kind = $1 AND key = ${k} AND chunk >= $2 \
                 AND (${held} IS NULL OR ${held} IS DISTINCT FROM (SELECT h.v FROM tag_keys AS h \
                 WHERE h.kind = $1 AND h.key = ${k})) \
                 ORDER BY chunk LIMIT {window}) AS a{i}",
                max = i64::MAX
            )
        })
        .collect();
    let integers: Vec<usize> = std::iter::once(2)
        .chain((0..keys).map(|i| keys + i + 3))
        .chain([offset, need])
        .collect();
    stable_plan(backend, &arms.join(" UNION ALL "), &integers, &[])
}

/// The chunks statement (`$1` kind, then per range its key and first and last chunks).
fn chunks_sql(backend: BackendKind, ranges: usize) -> String {
    let arms: Vec<String> = (0..ranges)
        .map(|i| {
            let k = 3 * i + 2;
            format!(
                "SELECT CAST({i} AS BIGINT) AS i, chunk, v, bits FROM tag_bits \
                 WHERE kind = $1 AND key = ${k} AND chunk >= ${} AND chunk <= ${}",
                k + 1,
                k + 2
            )
        })
        .collect();
    let integers: Vec<usize> = (0..ranges).flat_map(|i| [3 * i + 3, 3 * i + 4]).collect();
    stable_plan(backend, &arms.join(" UNION ALL "), &integers, &[])
}

/// Changes to one chunk's rows: per key, offsets to set (`true`) or clear.
type ChunkChanges<'a> = BTreeMap<&'a str, Vec<(u16, bool)>>;

/// The steps of the index's writes (one implementation per backend's connection).
trait Rows {
    /// Applies `changes` (chunk → key → offsets) to the index rows.
    async fn apply_bits(
        &mut self,
        kind: &str,
        changes: BTreeMap<i64, ChunkChanges<'_>>,
    ) -> Result<()>;
    /// The keys of record `id`'s tags.
    async fn record_keys(&mut self, kind: &str, id: i64) -> Result<Vec<String>>;
    /// Clears record `id`'s bits under `gone` (tags removed) that none of its remaining
    /// tags covers.
    async fn clear_uncovered(&mut self, kind: &str, id: i64, gone: &[String]) -> Result<()>;
    /// Gives `keys` (ascending) of `kind` new versions in `tag_keys`, locking their rows
    /// (PostgreSQL) until the transaction ends.
    async fn stamp_keys(&mut self, kind: &str, keys: &[&str]) -> Result<()>;
    /// Writes index rows `(key, chunk, ids, stored form)` of `kind`, replacing those
    /// present.
    async fn upsert_rows(&mut self, kind: &str, rows: &[(&str, i64, i64, Vec<u8>)]) -> Result<()>;
}

/// Writes the rebuild's finished keys: their index rows, then their versions.
async fn write_finished<R: Rows>(conn: &mut R, finished: &[Finished]) -> Result<u64> {
    let mut written = 0;
    for done in finished {
        let rows = done.rows();
        conn.upsert_rows(&done.kind, &rows).await?;
        written += rows.len() as u64;
    }
    for same_kind in finished.chunk_by(|a, b| a.kind == b.kind) {
        let mut keys: Vec<&str> = same_kind.iter().map(|f| f.key.as_str()).collect();
        keys.sort_unstable();
        conn.stamp_keys(&same_kind[0].kind, &keys).await?;
    }
    Ok(written)
}

/// The index's writes, inside a write transaction.
pub(crate) trait TagIndex {
    /// Inserts tag rows (skipping those present) in order and indexes them; returns how
    /// many were new.
    async fn insert_tags(&mut self, kind: &str, pairs: &[(i64, String)]) -> Result<u64>;

    /// Deletes exactly the tags `keys` of record `id`; returns how many were there.
    async fn delete_tags(&mut self, kind: &str, id: i64, keys: &[String]) -> Result<u64>;

    /// Deletes every tag of record `id`; returns how many.
    async fn delete_record_tags(&mut self, kind: &str, id: i64) -> Result<u64>;

    /// Rebuilds the whole index from the tag rows; returns how many index rows it wrote.
    async fn rebuild_tag_index(&mut self) -> Result<u64>;
}

/// Reads a chunk's index rows for a write, a statement's worth of keys at a time.
trait ChunkRows {
    /// The keys and stored forms of `keys`' rows of `kind` in chunk `c` (keys without a
    /// row are absent), locked until the transaction ends (PostgreSQL).
    async fn chunk_rows(
        &mut self,
        kind: &str,
        c: i64,
        keys: &[&str],
    ) -> Result<Vec<(String, Vec<u8>)>>;
}

impl ChunkRows for sqlx::SqliteConnection {
    async fn chunk_rows(
        &mut self,
        kind: &str,
        c: i64,
        keys: &[&str],
    ) -> Result<Vec<(String, Vec<u8>)>> {
        let n = padded_len(keys.len());
        let sql = chunk_keys_sql(BackendKind::Sqlite, "SELECT key, bits", n);
        let mut q = sqlx::query_as(AssertSqlSafe(sql)).bind(kind).bind(c);
        for i in 0..n {
            q = q.bind(key_or_pad(keys, i));
        }
        Ok(q.fetch_all(&mut *self).await?)
    }
}

/// PostgreSQL looks each key up by the whole primary key, from an array: with `key IN
/// (...)`, a connection's generic plan made while `tag_bits` was small scanned the
/// chunk's rows of every key and filtered them (`Index Cond: kind, chunk`, 20 ms a
/// statement of 128 keys by the end of a bulk load of 250 000 tags, `auto_explain`),
/// and it stays cached as the table grows. A lookup by every column of the primary key
/// has one plan at any size (the row lock keeps PostgreSQL from flattening the lateral
/// lookup into a join it could plan by size).
impl ChunkRows for sqlx::PgConnection {
    async fn chunk_rows(
        &mut self,
        kind: &str,
        c: i64,
        keys: &[&str],
    ) -> Result<Vec<(String, Vec<u8>)>> {
        Ok(sqlx::query_as(
            "SELECT t.key, t.bits FROM unnest(CAST($3 AS TEXT[])) AS k(key) CROSS JOIN \
             LATERAL (SELECT key, bits FROM tag_bits WHERE kind = $1 AND key = k.key \
             AND chunk = $2 FOR UPDATE) AS t",
        )
        .bind(kind)
        .bind(c)
        .bind(keys)
        .fetch_all(&mut *self)
        .await?)
    }
}

/// Implements [`TagIndex`] and [`ChunkSource`] for a backend's connection: the SQL is
/// the same on both (`$n` placeholders, `ON CONFLICT ... DO UPDATE`, `excluded`), the
/// types are not.
macro_rules! impl_tag_index {
    ($conn:ty, $backend:expr, $placeholders:literal, $version:literal, $bump:expr) => {
        impl Rows for $conn {
            /// Applies `changes` (chunk → key → offsets) to the index rows.
            async fn apply_bits(
                &mut self,
                kind: &str,
                changes: BTreeMap<i64, ChunkChanges<'_>>,
            ) -> Result<()> {
                // Every key this may write gets a new version first, in key order: a
                // writer holds its keys' rows (PostgreSQL) before any index row, so
                // writers of a key take turns and two writers never wait for each other.
                let keys: BTreeSet<&str> = changes
                    .values()
                    .flat_map(|per_key| per_key.keys().copied())
                    .collect();
                self.stamp_keys(kind, &keys.into_iter().collect::<Vec<_>>())
                    .await?;
                for (c, per_key) in changes {
                    let names: Vec<&str> = per_key.keys().copied().collect();
                    if $placeholders {
                        // Rows that bits will be set in exist before they are locked, so
                        // that two writers of a new row take turns instead of the second
                        // overwriting the first's bits.
                        let setting: Vec<&str> = per_key
                            .iter()
                            .filter(|(_, ops)| ops.iter().any(|(_, set)| *set))
                            .map(|(k, _)| *k)
                            .collect();
                        for batch in chunks_by_size(&setting, KEYS_PER_STATEMENT, |k| k.len() + 8) {
                            let values: Vec<String> = (0..batch.len())
                                .map(|i| format!("($1, ${}, $2, 0, '')", i + 3))
                                .collect();
                            let sql = format!(
                                "INSERT INTO tag_bits (kind, key, chunk, n, bits) VALUES {} \
                                 ON CONFLICT DO NOTHING",
                                values.join(", ")
                            );
                            let mut q = sqlx::query(AssertSqlSafe(sql)).bind(kind).bind(c);
                            for key in batch {
                                q = q.bind(*key);
                            }
                            q.execute(&mut *self).await?;
                        }
                    }
                    let mut stored: HashMap<String, Vec<u8>> = HashMap::new();
                    for batch in chunks_by_size(&names, KEYS_PER_STATEMENT, |k| k.len() + 8) {
                        stored.extend(self.chunk_rows(kind, c, batch).await?);
                    }
                    let mut upserts: Vec<(&str, i64, i64, Vec<u8>)> = Vec::new();
                    let mut deletes: Vec<&str> = Vec::new();
                    for (key, ops) in &per_key {
                        let mut bits = match stored.get(*key) {
                            Some(b) => decode(b)?,
                            None => Chunk::empty(),
                        };
                        let mut changed = false;
                        for &(offset, set) in ops {
                            changed |= if set {
                                bits.insert(offset)
                            } else {
                                bits.remove(offset)
                            };
                        }
                        if bits.is_empty() {
                            if changed || stored.contains_key(*key) {
                                deletes.push(key);
                            }
                        } else if changed {
                            upserts.push((key, c, i64::from(bits.len()), bits.encode()));
                        }
                    }
                    self.upsert_rows(kind, &upserts).await?;
                    for batch in chunks_by_size(&deletes, KEYS_PER_STATEMENT, |k| k.len() + 8) {
                        let n = padded_len(batch.len());
                        let sql = chunk_keys_sql($backend, "DELETE", n);
                        let mut q = sqlx::query(AssertSqlSafe(sql)).bind(kind).bind(c);
                        for i in 0..n {
                            q = q.bind(key_or_pad(batch, i));
                        }
                        q.execute(&mut *self).await?;
                    }
                }
                Ok(())
            }

            /// The keys of record `id`'s tags.
            async fn record_keys(&mut self, kind: &str, id: i64) -> Result<Vec<String>> {
                Ok(sqlx::query_scalar::<_, String>(
                    "SELECT key FROM tags WHERE kind = $1 AND record_id = $2",
                )
                .bind(kind)
                .bind(id)
                .fetch_all(&mut *self)
                .await?)
            }

            /// Clears record `id`'s bits under `gone` (tags removed) that none of its
            /// remaining tags covers.
            async fn clear_uncovered(
                &mut self,
                kind: &str,
                id: i64,
                gone: &[String],
            ) -> Result<()> {
                let remaining = self.record_keys(kind, id).await?;
                let still = covered(remaining.iter().map(String::as_str));
                let (c, offset) = chunk::split(id);
                let per_key: ChunkChanges<'_> = covered(gone.iter().map(String::as_str))
                    .into_iter()
                    .filter(|k| !still.contains(k))
                    .map(|k| (k, vec![(offset, false)]))
                    .collect();
                if per_key.is_empty() {
                    return Ok(());
                }
                self.apply_bits(kind, BTreeMap::from([(c, per_key)])).await
            }
            async fn stamp_keys(&mut self, kind: &str, keys: &[&str]) -> Result<()> {
                for batch in chunks_by_size(keys, KEYS_PER_STATEMENT, |k| k.len() + 8) {
                    if let Some(bump) = $bump {
                        sqlx::query(bump).execute(&mut *self).await?;
                    }
                    let values: Vec<String> = (0..batch.len())
                        .map(|i| format!("($1, ${}, {})", i + 2, $version))
                        .collect();
                    let sql = format!(
                        "INSERT INTO tag_keys (kind, key, v) VALUES {} \
                         ON CONFLICT (kind, key) DO UPDATE SET v = excluded.v",
                        values.join(", ")
                    );
                    let mut q = sqlx::query(AssertSqlSafe(sql)).bind(kind);
                    for key in batch {
                        q = q.bind(*key);
                    }
                    q.execute(&mut *self).await?;
                }
                Ok(())
            }

            async fn upsert_rows(
                &mut self,
                kind: &str,
                rows: &[(&str, i64, i64, Vec<u8>)],
            ) -> Result<()> {
                for batch in chunks_by_size(rows, KEYS_PER_STATEMENT, |(k, _, _, b)| {
                    k.len() + b.len() + 24
                }) {
                    if let Some(bump) = $bump {
                        sqlx::query(bump).execute(&mut *self).await?;
                    }
                    let values: Vec<String> = (0..batch.len())
                        .map(|i| {
                            format!(
                                "($1, ${}, ${}, ${}, ${}, {})",
                                4 * i + 2,
                                4 * i + 3,
                                4 * i + 4,
                                4 * i + 5,
                                $version
                            )
                        })
                        .collect();
                    let integers: Vec<usize> = (0..batch.len())
                        .flat_map(|i| [4 * i + 3, 4 * i + 4])
                        .collect();
                    let blobs: Vec<usize> = (0..batch.len()).map(|i| 4 * i + 5).collect();
                    let sql = stable_plan(
                        $backend,
                        &format!(
                            "INSERT INTO tag_bits (kind, key, chunk, n, bits, v) VALUES {} \
                             ON CONFLICT (kind, key, chunk) DO UPDATE \
                             SET n = excluded.n, bits = excluded.bits, v = excluded.v",
                            values.join(", ")
                        ),
                        &integers,
                        &blobs,
                    );
                    let mut q = sqlx::query(AssertSqlSafe(sql)).bind(kind);
                    for (key, c, n, bytes) in batch {
                        q = q.bind(*key).bind(*c).bind(*n).bind(bytes.as_slice());
                    }
                    q.execute(&mut *self).await?;
                }
                Ok(())
            }
        }

        impl TagIndex for $conn {
            async fn insert_tags(&mut self, kind: &str, pairs: &[(i64, String)]) -> Result<u64> {
                let mut added = 0;
                for rows in chunks_by_size(pairs, TAG_ROWS, |(_, k)| k.len() + 16) {
                    let values: Vec<String> = (0..rows.len())
                        .map(|i| format!("($1, ${}, ${})", 2 * i + 2, 2 * i + 3))
                        .collect();
                    let sql = format!(
                        "INSERT INTO tags (kind, record_id, key) VALUES {} ON CONFLICT DO NOTHING",
                        values.join(", ")
                    );
                    let mut q = sqlx::query(AssertSqlSafe(sql)).bind(kind);
                    for (id, key) in rows {
                        q = q.bind(*id).bind(key.as_str());
                    }
                    added += q.execute(&mut *self).await?.rows_affected();
                }
                // Setting a bit that is already set changes nothing, so every pair is
                // indexed, new or not.
                let mut changes: BTreeMap<i64, ChunkChanges<'_>> = BTreeMap::new();
                for (id, key) in pairs {
                    let (c, offset) = chunk::split(*id);
                    let per_key = changes.entry(c).or_default();
                    for k in key_and_ancestors(key) {
                        per_key.entry(k).or_default().push((offset, true));
                    }
                }
                self.apply_bits(kind, changes).await?;
                Ok(added)
            }

            async fn delete_tags(&mut self, kind: &str, id: i64, keys: &[String]) -> Result<u64> {
                let mut removed = 0;
                for key in keys {
                    removed += sqlx::query(
                        "DELETE FROM tags WHERE kind = $1 AND key = $2 AND record_id = $3",
                    )
                    .bind(kind)
                    .bind(key.as_str())
                    .bind(id)
                    .execute(&mut *self)
                    .await?
                    .rows_affected();
                }
                if removed > 0 {
                    self.clear_uncovered(kind, id, keys).await?;
                }
                Ok(removed)
            }

            async fn delete_record_tags(&mut self, kind: &str, id: i64) -> Result<u64> {
                let keys = self.record_keys(kind, id).await?;
                if keys.is_empty() {
                    return Ok(0);
                }
                let n = sqlx::query("DELETE FROM tags WHERE kind = $1 AND record_id = $2")
                    .bind(kind)
                    .bind(id)
                    .execute(&mut *self)
                    .await?
                    .rows_affected();
                self.clear_uncovered(kind, id, &keys).await?;
                Ok(n)
            }

            async fn rebuild_tag_index(&mut self) -> Result<u64> {
                sqlx::query("DELETE FROM tag_bits")
                    .execute(&mut *self)
                    .await?;
                sqlx::query("DELETE FROM tag_keys")
                    .execute(&mut *self)
                    .await?;
                // Every (kind, key) with its row count, in byte order: keys below an
                // ancestor are contiguous, so the scan closes each key once it leaves it.
                let keys: Vec<(String, String, i64)> = sqlx::query_as(
                    "SELECT kind, key, COUNT(*) FROM tags GROUP BY kind, key ORDER BY kind, key",
                )
                .fetch_all(&mut *self)
                .await?;
                // Then the rows of a run of consecutive keys of one kind at a time, about
                // REBUILD_PAGE rows each: an exact key range, which both planners read
                // from (kind, key, record_id) whatever their statistics say (a keyset scan
                // over the whole table was sorted 50 000 rows at a time by PostgreSQL
                // right after a bulk load: 10 minutes for 5M tags).
                let sql = stable_plan(
                    $backend,
                    "SELECT key, record_id FROM tags WHERE kind = $1 AND key >= $2 AND key <= $3 \
                     ORDER BY key, record_id",
                    &[],
                    &[],
                );
                let mut rebuild = Rebuild::default();
                let mut written = 0;
                let mut at = 0;
                while at < keys.len() {
                    let kind = &keys[at].0;
                    let mut end = at;
                    let mut rows = 0;
                    while end < keys.len()
                        && &keys[end].0 == kind
                        && (end == at || rows + keys[end].2 <= REBUILD_PAGE)
                    {
                        rows += keys[end].2;
                        end += 1;
                    }
                    let found: Vec<(String, i64)> = sqlx::query_as(AssertSqlSafe(sql.clone()))
                        .bind(kind)
                        .bind(&keys[at].1)
                        .bind(&keys[end - 1].1)
                        .fetch_all(&mut *self)
                        .await?;
                    let mut finished = Vec::new();
                    for (key, id) in &found {
                        finished.extend(rebuild.add(kind, key, *id));
                    }
                    written += write_finished(self, &finished).await?;
                    at = end;
                }
                written += write_finished(self, &rebuild.finish()).await?;
                Ok(written)
            }
        }

        impl ChunkSource for $conn {
            async fn head(
                &mut self,
                kind: &str,
                keys: &[String],
                reach: Reach,
                held: &[Option<i64>],
            ) -> Result<Heads> {
                let n = padded_len(keys.len());
                let mut q = sqlx::query_as::<_, (i64, i64, i64, i64, Option<Vec<u8>>)>(
                    AssertSqlSafe(head_sql($backend, n, reach.len)),
                )
                .bind(kind)
                .bind(reach.from);
                for i in 0..n {
                    q = q.bind(key_or_pad(keys, i));
                }
                for i in 0..n {
                    q = q.bind(held.get(i).copied().flatten());
                }
                q = q.bind(reach.offset).bind(reach.need);
                let mut heads = Heads {
                    versions: vec![None; keys.len()],
                    rows: Vec::new(),
                };
                for (key, chunk, ids, v, bits) in q.fetch_all(&mut *self).await? {
                    let key = usize::try_from(key).unwrap_or(usize::MAX);
                    if ids < 0 {
                        if let Some(slot) = heads.versions.get_mut(key) {
                            *slot = Some(v);
                        }
                    } else {
                        heads.rows.push(Head {
                            key,
                            chunk,
                            ids,
                            v,
                            bits: bits.map(Arc::from),
                        });
                    }
                }
                Ok(heads)
            }

            async fn chunks(
                &mut self,
                kind: &str,
                keys: &[String],
                ranges: &[(usize, i64, i64)],
            ) -> Result<Vec<Stored>> {
                let n = padded_len(ranges.len());
                let mut q = sqlx::query_as::<_, (i64, i64, i64, Vec<u8>)>(AssertSqlSafe(
                    chunks_sql($backend, n),
                ))
                .bind(kind);
                for i in 0..n {
                    let (key, lo, hi) = match ranges.get(i) {
                        Some(&(k, lo, hi)) => (key_or_pad(keys, k), lo, hi),
                        None => (NO_KEY, 0, -1),
                    };
                    q = q.bind(key).bind(lo).bind(hi);
                }
                let rows = q.fetch_all(&mut *self).await?;
                Ok(rows
                    .into_iter()
                    .map(|(range, chunk, v, bits)| Stored {
                        range: usize::try_from(range).unwrap_or(usize::MAX),
                        chunk,
                        v,
                        bits,
                    })
                    .collect())
            }
        }
    };
}

// SQLite: `BEGIN IMMEDIATE` holds the database's write lock for the whole transaction;
// each statement that writes index rows bumps the version counter first and stores it.
impl_tag_index!(
    sqlx::SqliteConnection,
    BackendKind::Sqlite,
    false,
    "(SELECT tag_bits_version FROM portcullis_state WHERE id = 1)",
    Some("UPDATE portcullis_state SET tag_bits_version = tag_bits_version + 1 WHERE id = 1")
);
// PostgreSQL: rows are locked (`FOR UPDATE`), and created first when bits are set;
// versions come from a sequence (placeholder rows take its default).
impl_tag_index!(
    sqlx::PgConnection,
    BackendKind::Postgres,
    true,
    "nextval('tag_bits_version')",
    None::<&str>
);

/// A key whose records the rebuild has all seen.
struct Finished {
    kind: String,
    key: String,
    chunks: BTreeMap<i64, Chunk>,
}

impl Finished {
    /// The key's index rows.
    fn rows(&self) -> Vec<(&str, i64, i64, Vec<u8>)> {
        self.chunks
            .iter()
            .map(|(c, bits)| (self.key.as_str(), *c, i64::from(bits.len()), bits.encode()))
            .collect()
    }
}

/// The rebuild's state: the keys open at the current tag row (its key and ancestors).
#[derive(Default)]
struct Rebuild {
    kind: String,
    open: Vec<(String, BTreeMap<i64, Chunk>)>,
}

impl Rebuild {
    /// Adds a tag row (in (kind, key, id) order); returns the keys this row closes.
    fn add(&mut self, kind: &str, key: &str, id: i64) -> Vec<Finished> {
        let mut done = Vec::new();
        if kind != self.kind {
            done = self.finish();
            self.kind = kind.to_owned();
        }
        let chain: Vec<&str> = key_and_ancestors(key).collect();
        // Keys below an ancestor are contiguous in byte order, so an open key that is
        // not on this row's chain is complete.
        while let Some((open, _)) = self.open.last() {
            let depth = self.open.len() - 1;
            if chain.get(depth) == Some(&open.as_str()) {
                break;
            }
            if let Some((key, chunks)) = self.open.pop() {
                done.push(Finished {
                    kind: self.kind.clone(),
                    key,
                    chunks,
                });
            }
        }
        for k in &chain[self.open.len()..] {
            self.open.push(((*k).to_owned(), BTreeMap::new()));
        }
        let (c, offset) = chunk::split(id);
        for (_, chunks) in &mut self.open {
            chunks.entry(c).or_insert_with(Chunk::empty).insert(offset);
        }
        done
    }

    /// Closes every open key.
    fn finish(&mut self) -> Vec<Finished> {
        let kind = self.kind.clone();
        self.open
            .drain(..)
            .rev()
            .map(|(key, chunks)| Finished {
                kind: kind.clone(),
                key,
                chunks,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_cover_their_ancestors() {
        assert_eq!(
            key_and_ancestors("/a/b/c/").collect::<Vec<_>>(),
            ["/a/", "/a/b/", "/a/b/c/"]
        );
        assert_eq!(key_and_ancestors("/a/").collect::<Vec<_>>(), ["/a/"]);
        let c = covered(["/a/b/", "/a/c/", "/d/"]);
        assert_eq!(
            c.into_iter().collect::<Vec<_>>(),
            ["/a/", "/a/b/", "/a/c/", "/d/"]
        );
    }

    #[test]
    fn the_rebuild_closes_keys_as_the_scan_leaves_them() {
        let mut r = Rebuild::default();
        let mut done: Vec<(String, String, Vec<i64>)> = Vec::new();
        let rows = [
            ("k", "/a/", 1),
            ("k", "/a/", 2),
            ("k", "/a/b/", 3),
            ("k", "/a/b/c/", 4),
            ("k", "/a/d/", 5),
            ("k", "/a0/", 6),
            ("z", "/a/", 7),
        ];
        let mut collect = |f: Vec<Finished>| {
            for f in f {
                let ids = f
                    .chunks
                    .iter()
                    .flat_map(|(c, bits)| {
                        bits.offsets(0)
                            .map(|o| chunk::join(*c, o))
                            .collect::<Vec<_>>()
                    })
                    .collect();
                done.push((f.kind, f.key, ids));
            }
        };
        for (kind, key, id) in rows {
            collect(r.add(kind, key, id));
        }
        collect(r.finish());
        let want: Vec<(String, String, Vec<i64>)> = [
            ("k", "/a/b/c/", vec![4]),
            ("k", "/a/b/", vec![3, 4]),
            ("k", "/a/d/", vec![5]),
            ("k", "/a/", vec![1, 2, 3, 4, 5]),
            ("k", "/a0/", vec![6]),
            ("z", "/a/", vec![7]),
        ]
        .into_iter()
        .map(|(k, key, ids)| (k.to_owned(), key.to_owned(), ids))
        .collect();
        assert_eq!(done, want);
    }

    #[test]
    fn sqlite_statements_hide_their_parameters_from_the_planner() {
        let sql = stable_plan(
            BackendKind::Sqlite,
            "SELECT 1 WHERE kind = $1 AND chunk >= $2 AND bits = $3",
            &[2],
            &[3],
        );
        assert_eq!(
            sql,
            "SELECT 1 WHERE kind = CAST($1 AS TEXT) AND chunk >= CAST($2 AS INTEGER) \
             AND bits = CAST($3 AS BLOB)"
        );
        assert_eq!(
            stable_plan(BackendKind::Postgres, "a = $1", &[], &[]),
            "a = $1"
        );
    }
}
