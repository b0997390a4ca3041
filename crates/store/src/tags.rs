//! Tags on `(kind, record id)` pairs, with py4web's hierarchical semantics.
//!
//! Each tag is stored in its [`Tag::key`] form (`/teacher/high-school/`), so "tagged with
//! `t` or anything below it" is the key range [`Tag::key_range`], an index range scan on
//! `(kind, key, record_id)` on both backends. `LIKE` is never used: SQLite's `LIKE` is
//! case-insensitive, while tags are case-sensitive. PostgreSQL columns use `COLLATE "C"`
//! so that the range compares bytes, like SQLite's `BINARY` collation.
//!
//! Kinds are free-form names: `users` and `groups` are cleaned up when a user or group
//! is deleted; an application's own kinds need no registration.

use portcullis_authz::tag::Tag;
use sqlx::{AssertSqlSafe, Row};

use crate::backend::{AnnounceChange, BeginWrite, Changed, on_pool};
use crate::error::{Result, StoreError};
use crate::model::TagMatch;
use crate::store::Store;

/// How far [`Store::find_tagged`] counts each tag's records to pick the most selective.
const DRIVER_COUNT_CAP: i64 = 5_000;

/// Pages of at most this many ids of an any-of find merge per-key lists.
const MERGE_MAX_LIMIT: u32 = 1_000;
/// ...when the tags' ranges hold at most this many distinct keys.
const MERGE_MAX_KEYS: i64 = 32;

/// The tag kind of users (`auth_user` records).
pub const USERS: &str = "users";
/// The tag kind of groups.
pub const GROUPS: &str = "groups";

fn check_kind(kind: &str) -> Result<()> {
    if kind.is_empty() || kind.len() > 64 {
        return Err(StoreError::invalid("kind", "must be 1 to 64 bytes long"));
    }
    if kind.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(StoreError::invalid(
            "kind",
            format!(
                "`{}` contains whitespace or a control character",
                kind.escape_debug()
            ),
        ));
    }
    Ok(())
}

impl Store {
    fn tags_changed(&self, kind: &str, id: i64) {
        if kind == USERS && self.inner.principals.include_user_tags {
            self.invalidate_principals(id);
        }
    }

    /// Adds `tags` to record `id` of `kind`, in order; tags it already has keep their
    /// place. Returns how many were new.
    pub async fn add_tags(&self, kind: &str, id: i64, tags: &[Tag]) -> Result<u64> {
        check_kind(kind)?;
        let added = self
            .retry(|| async {
                on_pool!(&self.inner.backend, pool => {
                    let mut tx = pool.begin_write().await?;
                    let mut added = 0;
                    for t in tags {
                        added += sqlx::query(
                            "INSERT INTO tags (kind, record_id, key) VALUES ($1, $2, $3) \
                             ON CONFLICT DO NOTHING",
                        )
                        .bind(kind)
                        .bind(id)
                        .bind(t.key())
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    }
                    if added > 0 && kind == USERS {
                        // Other processes may include user tags even when this one does not.
                        tx.principals_changed(Changed::User(id)).await?;
                    }
                    tx.commit().await?;
                    Ok(added)
                })
            })
            .await?;
        self.tags_changed(kind, id);
        Ok(added)
    }

    /// Removes exactly `tags` (not their descendants) from record `id` of `kind`.
    /// Returns how many were removed.
    pub async fn remove_tags(&self, kind: &str, id: i64, tags: &[Tag]) -> Result<u64> {
        check_kind(kind)?;
        let removed = self
            .retry(|| async {
                on_pool!(&self.inner.backend, pool => {
                    let mut tx = pool.begin_write().await?;
                    let mut removed = 0;
                    for t in tags {
                        removed += sqlx::query(
                            "DELETE FROM tags WHERE kind = $1 AND key = $2 AND record_id = $3",
                        )
                        .bind(kind)
                        .bind(t.key())
                        .bind(id)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    }
                    if removed > 0 && kind == USERS {
                        tx.principals_changed(Changed::User(id)).await?;
                    }
                    tx.commit().await?;
                    Ok(removed)
                })
            })
            .await?;
        self.tags_changed(kind, id);
        Ok(removed)
    }

    /// The tags of record `id` of `kind`, in insertion order.
    pub async fn get_tags(&self, kind: &str, id: i64) -> Result<Vec<Tag>> {
        check_kind(kind)?;
        self.retry(|| async {
            on_pool!(&self.inner.backend, pool => {
                let rows = sqlx::query(
                    "SELECT key FROM tags WHERE kind = $1 AND record_id = $2 ORDER BY id",
                )
                .bind(kind)
                .bind(id)
                .fetch_all(pool)
                .await?;
                let mut out = Vec::with_capacity(rows.len());
                for r in &rows {
                    let key: String = r.try_get("key")?;
                    out.push(Tag::from_key(&key).map_err(|e| StoreError::Corrupt {
                        column: "tags.key",
                        reason: e.to_string(),
                    })?);
                }
                Ok(out)
            })
        })
        .await
    }

    /// The ids (ascending) of the records of `kind` carrying every one (`TagMatch::All`)
    /// or any (`TagMatch::Any`) of `tags`, hierarchically: a record tagged `a/b/c` is
    /// found by `a`, `a/b` and `a/b/c`, never by `b` or `A`.
    pub async fn find_tagged(&self, kind: &str, tags: &[Tag], mode: TagMatch) -> Result<Vec<i64>> {
        self.find_tagged_page(kind, tags, mode, i64::MIN, None)
            .await
    }

    /// Like [`Store::find_tagged`], for ids greater than `after_id`, at most `limit`.
    pub async fn find_tagged_page(
        &self,
        kind: &str,
        tags: &[Tag],
        mode: TagMatch,
        after_id: i64,
        limit: Option<u32>,
    ) -> Result<Vec<i64>> {
        check_kind(kind)?;
        if tags.is_empty() {
            return Err(StoreError::invalid("tags", "at least one tag is needed"));
        }
        // A page of an any-of (or one-tag) find: merge the first `limit` ids of each key.
        if let Some(n) = limit
            && n <= MERGE_MAX_LIMIT
            && (mode == TagMatch::Any || tags.len() == 1)
            && let Some(ids) = self.find_page_by_keys(kind, tags, after_id, n).await?
        {
            return Ok(ids);
        }
        // SQLite's planner, without statistics, may prefer the `tags_probe` index (which
        // yields record_id in order) and scan every row of the kind; pin the indexes.
        let sqlite = self.backend() == crate::BackendKind::Sqlite;
        let (find_index, get_index) = if sqlite {
            (" INDEXED BY tags_find", " INDEXED BY tags_probe")
        } else {
            ("", "")
        };
        let mut ranges: Vec<(String, String)> = tags.iter().map(Tag::key_range).collect();
        // All-of: when one tag is selective (fewer than DRIVER_COUNT_CAP records, by a
        // bounded count of each key range), drive from it and probe each candidate's own
        // tags for the others; the cost then follows the most selective tag. When every
        // tag is broad, intersect the ranges (sequential index scans beat many probes).
        let mut driver = None;
        if mode == TagMatch::All && ranges.len() > 1 {
            let mut best = (usize::MAX, 0);
            for (i, (lo, hi)) in ranges.iter().enumerate() {
                let n = self.count_range(kind, lo, hi, DRIVER_COUNT_CAP).await?;
                if n < best.0 {
                    best = (n, i);
                }
            }
            if i64::try_from(best.0).is_ok_and(|n| n < DRIVER_COUNT_CAP) {
                driver = Some(best.1);
            }
        }
        let sql = if let Some(best) = driver {
            ranges.swap(0, best);
            let mut sql = format!(
                "SELECT DISTINCT t0.record_id FROM tags AS t0{find_index} WHERE t0.kind = $1 \
                 AND t0.key >= $4 AND t0.key < $5 AND t0.record_id > $2"
            );
            for i in 1..ranges.len() {
                let lo = 4 + 2 * i;
                sql.push_str(&format!(
                    " AND EXISTS (SELECT 1 FROM tags AS t{i}{get_index} WHERE t{i}.kind = $1 \
                     AND t{i}.record_id = t0.record_id AND t{i}.key >= ${lo} AND t{i}.key < ${})",
                    lo + 1
                ));
            }
            sql.push_str(" ORDER BY t0.record_id LIMIT $3");
            sql
        } else {
            let op = match mode {
                TagMatch::All => " INTERSECT ",
                TagMatch::Any => " UNION ",
            };
            // One range can hold a record under several keys (`a/b` and `a/b/c`); two or
            // more are deduplicated by INTERSECT / UNION.
            let mut sql = String::from(if ranges.len() == 1 {
                "SELECT DISTINCT record_id FROM ("
            } else {
                "SELECT record_id FROM ("
            });
            for i in 0..ranges.len() {
                if i > 0 {
                    sql.push_str(op);
                }
                let lo = 4 + 2 * i;
                sql.push_str(&format!(
                    "SELECT record_id FROM tags{find_index} WHERE kind = $1 AND key >= ${lo} \
                     AND key < ${} AND record_id > $2",
                    lo + 1
                ));
            }
            sql.push_str(") AS found ORDER BY record_id LIMIT $3");
            sql
        };
        let limit = limit.map_or(i64::MAX, i64::from);
        self.retry(|| async {
            on_pool!(&self.inner.backend, pool => {
                let mut q = sqlx::query(AssertSqlSafe(sql.clone()))
                    .bind(kind)
                    .bind(after_id)
                    .bind(limit);
                for (lo, hi) in &ranges {
                    q = q.bind(lo.clone()).bind(hi.clone());
                }
                let rows = q.fetch_all(pool).await?;
                rows.iter()
                    .map(|r| r.try_get::<i64, _>("record_id").map_err(StoreError::from))
                    .collect()
            })
        })
        .await
    }

    /// A page of an any-of find as a merge of per-key lists: the distinct keys in the
    /// tags' ranges (one index probe each), then, for each key, the first `limit` ids above
    /// `after_id` (an index seek in `(kind, key, record_id)` order), merged, deduplicated
    /// and cut to `limit`. Each id of the page is among the first `limit` of each of its
    /// keys, so the result is exact; the cost follows the page, not the result (a key
    /// range scan cannot yield ids in order, so the plain query reads every match).
    /// `None` when the ranges hold more than [`MERGE_MAX_KEYS`] keys.
    async fn find_page_by_keys(
        &self,
        kind: &str,
        tags: &[Tag],
        after_id: i64,
        limit: u32,
    ) -> Result<Option<Vec<i64>>> {
        let index = if self.backend() == crate::BackendKind::Sqlite {
            " INDEXED BY tags_find"
        } else {
            ""
        };
        let keys_sql = format!(
            "WITH RECURSIVE k(key) AS (\
             SELECT (SELECT key FROM tags{index} WHERE kind = $1 AND key >= $2 AND key < $3 \
             ORDER BY key LIMIT 1) \
             UNION ALL \
             SELECT (SELECT key FROM tags{index} WHERE kind = $1 AND key > k.key AND key < $3 \
             ORDER BY key LIMIT 1) FROM k WHERE k.key IS NOT NULL) \
             SELECT key FROM k WHERE key IS NOT NULL LIMIT $4"
        );
        let mut keys: Vec<String> = Vec::new();
        for (lo, hi) in tags.iter().map(Tag::key_range) {
            let room = MERGE_MAX_KEYS + 1 - keys.len() as i64;
            let found: Vec<String> = self
                .retry(|| async {
                    on_pool!(&self.inner.backend, pool => {
                        let rows = sqlx::query(AssertSqlSafe(keys_sql.clone()))
                            .bind(kind)
                            .bind(&lo)
                            .bind(&hi)
                            .bind(room)
                            .fetch_all(pool)
                            .await?;
                        rows.iter()
                            .map(|r| r.try_get::<String, _>("key").map_err(StoreError::from))
                            .collect::<Result<Vec<String>>>()
                    })
                })
                .await?;
            keys.extend(found);
            if keys.len() as i64 > MERGE_MAX_KEYS {
                return Ok(None);
            }
        }
        keys.sort_unstable();
        keys.dedup();
        if keys.is_empty() {
            return Ok(Some(Vec::new()));
        }
        let mut sql = String::from("SELECT DISTINCT record_id FROM (");
        for i in 0..keys.len() {
            if i > 0 {
                sql.push_str(" UNION ALL ");
            }
            sql.push_str(&format!(
                "SELECT record_id FROM (SELECT record_id FROM tags{index} WHERE kind = $1 \
                 AND key = ${} AND record_id > $2 ORDER BY record_id LIMIT $3) AS p{i}",
                i + 4
            ));
        }
        sql.push_str(") AS found ORDER BY record_id LIMIT $3");
        let ids = self
            .retry(|| async {
                on_pool!(&self.inner.backend, pool => {
                    let mut q = sqlx::query(AssertSqlSafe(sql.clone()))
                        .bind(kind)
                        .bind(after_id)
                        .bind(i64::from(limit));
                    for key in &keys {
                        q = q.bind(key.clone());
                    }
                    let rows = q.fetch_all(pool).await?;
                    rows.iter()
                        .map(|r| r.try_get::<i64, _>("record_id").map_err(StoreError::from))
                        .collect::<Result<Vec<i64>>>()
                })
            })
            .await?;
        Ok(Some(ids))
    }

    /// How many rows of `kind` have a key in `[lo, hi)`, counting at most `cap`.
    async fn count_range(&self, kind: &str, lo: &str, hi: &str, cap: i64) -> Result<usize> {
        let sql = if self.backend() == crate::BackendKind::Sqlite {
            "SELECT COUNT(*) AS n FROM (SELECT 1 FROM tags INDEXED BY tags_find \
             WHERE kind = $1 AND key >= $2 AND key < $3 LIMIT $4) AS c"
        } else {
            "SELECT COUNT(*) AS n FROM (SELECT 1 FROM tags \
             WHERE kind = $1 AND key >= $2 AND key < $3 LIMIT $4) AS c"
        };
        self.retry(|| async {
            on_pool!(&self.inner.backend, pool => {
                let row = sqlx::query(sql)
                    .bind(kind)
                    .bind(lo)
                    .bind(hi)
                    .bind(cap)
                    .fetch_one(pool)
                    .await?;
                let n: i64 = row.try_get("n")?;
                Ok(usize::try_from(n).unwrap_or(usize::MAX))
            })
        })
        .await
    }

    /// Adds many `(record id, tag)` pairs of `kind` in one transaction (bulk loads and
    /// imports); pairs already present are skipped. Returns how many were new.
    pub async fn add_tags_bulk(&self, kind: &str, pairs: &[(i64, Tag)]) -> Result<u64> {
        check_kind(kind)?;
        const ROWS: usize = 300;
        let keys: Vec<(i64, String)> = pairs.iter().map(|(id, t)| (*id, t.key())).collect();
        let added = self
            .retry(|| async {
                on_pool!(&self.inner.backend, pool => {
                    let mut tx = pool.begin_write().await?;
                    let mut added = 0;
                    for chunk in crate::import::chunks_by_size(&keys, ROWS, |(_, k)| k.len() + 16) {
                        let mut sql = String::from("INSERT INTO tags (kind, record_id, key) VALUES ");
                        for i in 0..chunk.len() {
                            if i > 0 {
                                sql.push_str(", ");
                            }
                            sql.push_str(&format!("($1, ${}, ${})", 2 * i + 2, 2 * i + 3));
                        }
                        sql.push_str(" ON CONFLICT DO NOTHING");
                        let mut q = sqlx::query(AssertSqlSafe(sql)).bind(kind);
                        for (id, key) in chunk {
                            q = q.bind(*id).bind(key.clone());
                        }
                        added += q.execute(&mut *tx).await?.rows_affected();
                    }
                    if added > 0 && kind == USERS {
                        tx.principals_changed(Changed::All).await?;
                    }
                    tx.commit().await?;
                    Ok(added)
                })
            })
            .await?;
        if kind == USERS && self.inner.principals.include_user_tags {
            self.invalidate_all_principals();
        }
        Ok(added)
    }

    /// Removes every tag of record `id` of `kind`; returns how many.
    pub async fn clear_tags(&self, kind: &str, id: i64) -> Result<u64> {
        check_kind(kind)?;
        let n = on_pool!(&self.inner.backend, pool => {
            let mut tx = pool.begin_write().await?;
            let n = sqlx::query("DELETE FROM tags WHERE kind = $1 AND record_id = $2")
                .bind(kind)
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if n > 0 && kind == USERS {
                tx.principals_changed(Changed::User(id)).await?;
            }
            tx.commit().await?;
            n
        });
        self.tags_changed(kind, id);
        Ok(n)
    }
}
