//! Tags on `(kind, record id)` pairs, with py4web's hierarchical semantics.
//!
//! Each tag is stored in its [`Tag::key`] form (`/teacher/high-school/`) in table `tags`
//! (insertion order for "get", uniqueness per record). `LIKE` is never used: SQLite's
//! `LIKE` is case-insensitive, while tags are case-sensitive; PostgreSQL columns use
//! `COLLATE "C"` so that both backends compare bytes.
//!
//! Finds read the tag index (table `tag_bits`, [`index`]): per kind and key, the
//! records carrying the key or a tag below it, as compressed bitmaps of 32 768
//! consecutive ids ([`chunk`]). A page of a find reads the sizes of each tag's next
//! chunks (with the first and the small ones), then, if needed, the other chunks that
//! can hold matches, combined with `&` (all-of) or `|` (any-of) in memory and read in
//! id order until the page is full ([`find`]). Every find, hierarchical or not, reads
//! one key per tag, and a page costs one or two statements per window of 64 chunks,
//! however broad or sparse the result. Keys' chunk lists and large chunks read once are
//! kept in process ([`cache`]) and used while the database holds the same version of
//! them (every write of an index row gives it and its key new ones), so a find of tags
//! nobody wrote since is one statement that reads one row per tag.
//!
//! Kinds are free-form names: `users` and `groups` are cleaned up when a user or group
//! is deleted; an application's own kinds need no registration.

mod cache;
mod chunk;
mod find;
mod index;

use portcullis_authz::tag::Tag;
use sqlx::Row;

use crate::backend::{AnnounceChange, BeginWrite, Changed, on_pool};
use crate::error::{Result, StoreError};
use crate::model::TagMatch;
use crate::store::Store;

pub(crate) use cache::ChunkCache;
pub(crate) use index::TagIndex;

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
        let pairs: Vec<(i64, String)> = tags.iter().map(|t| (id, t.key())).collect();
        let added = self.write_tags(kind, &pairs, Changed::User(id)).await?;
        self.tags_changed(kind, id);
        Ok(added)
    }

    /// Adds many `(record id, tag)` pairs of `kind` in one transaction (bulk loads and
    /// imports); pairs already present are skipped. Returns how many were new.
    pub async fn add_tags_bulk(&self, kind: &str, pairs: &[(i64, Tag)]) -> Result<u64> {
        check_kind(kind)?;
        let pairs: Vec<(i64, String)> = pairs.iter().map(|(id, t)| (*id, t.key())).collect();
        let added = self.write_tags(kind, &pairs, Changed::All).await?;
        if kind == USERS && self.inner.principals.include_user_tags {
            self.invalidate_all_principals();
        }
        Ok(added)
    }

    async fn write_tags(&self, kind: &str, pairs: &[(i64, String)], who: Changed) -> Result<u64> {
        self.retry(|| async {
            on_pool!(&self.inner.backend, pool => {
                let mut tx = pool.begin_write().await?;
                let added = tx.insert_tags(kind, pairs).await?;
                if added > 0 && kind == USERS {
                    // Other processes may include user tags even when this one does not.
                    tx.principals_changed(who).await?;
                }
                tx.commit().await?;
                Ok(added)
            })
        })
        .await
    }

    /// Removes exactly `tags` (not their descendants) from record `id` of `kind`.
    /// Returns how many were removed.
    pub async fn remove_tags(&self, kind: &str, id: i64, tags: &[Tag]) -> Result<u64> {
        check_kind(kind)?;
        let keys: Vec<String> = tags.iter().map(Tag::key).collect();
        let removed = self
            .retry(|| async {
                on_pool!(&self.inner.backend, pool => {
                    let mut tx = pool.begin_write().await?;
                    let removed = tx.delete_tags(kind, id, &keys).await?;
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

    /// Removes every tag of record `id` of `kind`; returns how many.
    pub async fn clear_tags(&self, kind: &str, id: i64) -> Result<u64> {
        check_kind(kind)?;
        let n = self
            .retry(|| async {
                on_pool!(&self.inner.backend, pool => {
                    let mut tx = pool.begin_write().await?;
                    let n = tx.delete_record_tags(kind, id).await?;
                    if n > 0 && kind == USERS {
                        tx.principals_changed(Changed::User(id)).await?;
                    }
                    tx.commit().await?;
                    Ok(n)
                })
            })
            .await?;
        self.tags_changed(kind, id);
        Ok(n)
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
    ///
    /// This is keyset pagination: pass the last id of a page as the next `after_id`.
    /// A page costs about what its ids cost, not what the whole result costs (see the
    /// module's design notes).
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
        let limit = limit.map_or(usize::MAX, |l| l as usize);
        let mut keys: Vec<String> = tags.iter().map(Tag::key).collect();
        keys.sort_unstable();
        keys.dedup();
        let all = mode == TagMatch::All;
        self.retry(|| async {
            on_pool!(&self.inner.backend, pool => {
                // Every statement of the page on one connection: one pool acquisition,
                // and the connection's cache of prepared statements serves them all.
                let mut conn = pool.acquire().await?;
                find::find_page(&mut *conn, &self.inner.tag_cache, kind, &keys, all, after_id, limit)
                    .await
            })
        })
        .await
    }

    /// Rebuilds the tag index (`tag_bits`) from the tag rows, in one transaction; returns
    /// how many index rows it wrote. The store keeps the index up to date itself (the
    /// migration that adds it builds it too): this is for a database whose `tags` table
    /// was changed by hand.
    pub async fn rebuild_tag_index(&self) -> Result<u64> {
        on_pool!(&self.inner.backend, pool => {
            let mut tx = pool.begin_write().await?;
            let n = tx.rebuild_tag_index().await?;
            tx.commit().await?;
            Ok(n)
        })
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use portcullis_authz::tag::Tag;
    use sqlx::postgres::PgConnectOptions;
    use sqlx::{ConnectOptions as _, Connection as _};

    use super::chunk;
    use super::find::{ChunkSource, INLINE_IDS, Reach};
    use crate::backend::on_pool;
    use crate::store::Store;

    /// The head statement carries the stored form of exactly the chunks that
    /// [`Reach::carries`] names (and the small ones): the SQL and the Rust agree, which
    /// is what lets a held head stand for a statement.
    async fn head_carries_what_reach_names(store: &Store) {
        let ids = chunk::IDS as i64;
        // `dense`: 1 024 ids in each of 8 chunks, then 10 ids; `mixed`: small and
        // large chunks alternating.
        let mut pairs: Vec<(i64, Tag)> = (0..8 * ids)
            .filter(|i| i % 32 == 0)
            .chain((0..10).map(|i| 8 * ids + 1000 + i))
            .map(|i| (i, Tag::from_str("dense").unwrap()))
            .collect();
        for c in 0..8 {
            let every = if c % 2 == 0 { 1000 } else { 64 };
            pairs.extend(
                (c * ids..(c + 1) * ids)
                    .filter(|i| i % every == 0)
                    .map(|i| (i, Tag::from_str("mixed").unwrap())),
            );
        }
        store.add_tags_bulk("items", &pairs).await.unwrap();
        let keys = vec!["/dense/".to_owned(), "/mixed/".to_owned()];
        let reaches = [
            (0, 0, 100),
            (0, ids - 40, 100),
            (2, ids - 3_000, 100),
            (4, ids - 200, 1_500),
            (0, 0, 1),
            (0, ids - 1, 1),
            (3, 5, 100_000),
            (7, ids - 64, 5),
        ];
        for (from, offset, need) in reaches {
            for len in [2, 64] {
                let reach = Reach {
                    from,
                    len,
                    offset,
                    need,
                };
                let heads = on_pool!(&store.inner.backend, pool => {
                    let mut conn = pool.acquire().await.unwrap();
                    conn.head("items", &keys, reach, &[None, None]).await.unwrap()
                });
                for (k, key) in keys.iter().enumerate() {
                    let rows: Vec<_> = heads.rows.iter().filter(|h| h.key == k).collect();
                    assert!(!rows.is_empty() && rows.len() <= len);
                    let last = reach.carries(rows.iter().map(|h| (h.chunk, h.ids)));
                    for h in rows {
                        let want = h.chunk <= last || h.ids <= INLINE_IDS;
                        assert_eq!(
                            h.bits.is_some(),
                            want,
                            "{key} chunk {} ({} ids), {reach:?}",
                            h.chunk,
                            h.ids
                        );
                    }
                }
            }
        }
    }

    #[tokio::test]
    async fn sqlite_head_carries_what_reach_names() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("head.sqlite").display());
        let store = Store::open(&url).await.unwrap();
        head_carries_what_reach_names(&store).await;
        store.close().await;
    }

    #[tokio::test]
    async fn postgres_head_carries_what_reach_names() {
        let base = match std::env::var("PORTCULLIS_TEST_POSTGRES_URL") {
            Ok(url) if !url.is_empty() => url,
            _ => {
                println!("skipped: PORTCULLIS_TEST_POSTGRES_URL not set");
                return;
            }
        };
        let mut random = [0u8; 8];
        getrandom::fill(&mut random).unwrap();
        let name = format!("portcullis_u_{}", hex::encode(random));
        let mut admin = sqlx::PgConnection::connect(&base).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .unwrap();
        let url = PgConnectOptions::from_str(&base)
            .unwrap()
            .database(&name)
            .to_url_lossy()
            .to_string();
        let store = Store::open(&url).await.unwrap();
        head_carries_what_reach_names(&store).await;
        store.close().await;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE {name} WITH (FORCE)"
        )))
        .execute(&mut admin)
        .await
        .unwrap();
    }
}
