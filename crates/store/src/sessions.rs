//! Server-side session rows (the SQL backend of `portcullis-web`'s session manager).
//!
//! The store never sees a session id: callers pass the SHA-256 of the id (hex, the
//! `id_hash`), so a leaked database or backup holds no usable cookie values. Expiry
//! policy (idle and absolute timeouts) belongs to the caller, which passes the times it
//! computed with its own clock; the store only records them and filters on them when
//! purging.
//!
//! Writes never resurrect a session: [`Store::update_session`] and
//! [`Store::rotate_session`] only touch a row that still exists, so a session revoked
//! by another request ([`Store::delete_sessions_for_user`], logout elsewhere) stays
//! revoked even if a slower request later tries to save it.

use serde_json::json;
use sqlx::Row;
use subtle::ConstantTimeEq as _;
use time::OffsetDateTime;

use crate::audit::AuditEvent;
use crate::backend::{BeginWrite, on_pool};
use crate::clock::from_unix;
use crate::error::{Result, StoreError};
use crate::store::Store;

/// One stored session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    /// SHA-256 of the session id, 64 lowercase hex characters (the primary key).
    pub id_hash: String,
    /// The logged-in user, if any (the application's user id as text).
    pub user_id: Option<String>,
    /// The session data: a JSON object, as text.
    pub data: String,
    /// When the session was created.
    pub created_at: OffsetDateTime,
    /// When the session was last used (for the idle timeout).
    pub last_seen_at: OffsetDateTime,
    /// When the session ends regardless of activity (the absolute timeout).
    pub expires_at: OffsetDateTime,
}

const COLUMNS: &str = "id_hash, user_id, data, created_at, last_seen_at, expires_at";

macro_rules! session_from_row {
    ($row:expr) => {{
        let r = $row;
        StoredSession {
            id_hash: r.try_get("id_hash")?,
            user_id: r.try_get("user_id")?,
            data: r.try_get("data")?,
            created_at: from_unix(r.try_get("created_at")?),
            last_seen_at: from_unix(r.try_get("last_seen_at")?),
            expires_at: from_unix(r.try_get("expires_at")?),
        }
    }};
}

fn check_hash(id_hash: &str) -> Result<()> {
    if id_hash.len() == 64
        && id_hash
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(())
    } else {
        Err(StoreError::invalid(
            "session id_hash",
            "expected 64 lowercase hex characters (SHA-256 of the session id)",
        ))
    }
}

fn check_data(data: &str) -> Result<()> {
    match serde_json::from_str::<serde_json::Value>(data) {
        Ok(serde_json::Value::Object(_)) => Ok(()),
        _ => Err(StoreError::invalid(
            "session data",
            "expected a JSON object",
        )),
    }
}

impl Store {
    /// Inserts a new session. Fails with [`StoreError::Conflict`] if the hash exists.
    pub async fn create_session(&self, s: &StoredSession) -> Result<()> {
        check_hash(&s.id_hash)?;
        check_data(&s.data)?;
        self.retry(|| async {
            on_pool!(&self.inner.backend, pool => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "INSERT INTO sessions ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"
                )))
                .bind(&s.id_hash)
                .bind(&s.user_id)
                .bind(&s.data)
                .bind(s.created_at.unix_timestamp())
                .bind(s.last_seen_at.unix_timestamp())
                .bind(s.expires_at.unix_timestamp())
                .execute(pool)
                .await?;
                Ok(())
            })
        })
        .await
    }

    /// The session stored under `id_hash`, whatever its times (the caller decides
    /// whether it has expired).
    pub async fn load_session(&self, id_hash: &str) -> Result<Option<StoredSession>> {
        check_hash(id_hash)?;
        let found = self
            .retry(|| async {
                on_pool!(&self.inner.backend, pool => {
                    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "SELECT {COLUMNS} FROM sessions WHERE id_hash = $1"
                    )))
                    .bind(id_hash)
                    .fetch_optional(pool)
                    .await?;
                    match row {
                        Some(r) => Ok(Some(session_from_row!(&r))),
                        None => Ok(None),
                    }
                })
            })
            .await?;
        // Defence in depth: the index found the row; confirm the key in constant time.
        Ok(found.filter(|s| bool::from(s.id_hash.as_bytes().ct_eq(id_hash.as_bytes()))))
    }

    /// Updates the user, data and times of an existing session. Returns false, and
    /// writes nothing, when the session no longer exists (it was deleted or revoked
    /// meanwhile): a save never brings a session back.
    pub async fn update_session(&self, s: &StoredSession) -> Result<bool> {
        check_hash(&s.id_hash)?;
        check_data(&s.data)?;
        self.retry(|| async {
            on_pool!(&self.inner.backend, pool => {
                let n = sqlx::query(
                    "UPDATE sessions SET user_id = $2, data = $3, last_seen_at = $4, expires_at = $5 \
                     WHERE id_hash = $1",
                )
                .bind(&s.id_hash)
                .bind(&s.user_id)
                .bind(&s.data)
                .bind(s.last_seen_at.unix_timestamp())
                .bind(s.expires_at.unix_timestamp())
                .execute(pool)
                .await?
                .rows_affected();
                Ok(n > 0)
            })
        })
        .await
    }

    /// Records a use of an existing session (sets `last_seen_at`) without touching its
    /// data, so a read-only request never overwrites a concurrent request's changes.
    /// Returns false when the session no longer exists.
    pub async fn touch_session(&self, id_hash: &str, last_seen_at: OffsetDateTime) -> Result<bool> {
        check_hash(id_hash)?;
        let at = last_seen_at.unix_timestamp();
        self.retry(|| async {
            on_pool!(&self.inner.backend, pool => {
                let n = sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE id_hash = $1")
                    .bind(id_hash)
                    .bind(at)
                    .execute(pool)
                    .await?
                    .rows_affected();
                Ok(n > 0)
            })
        })
        .await
    }

    /// Replaces session `old_hash` by `new` in one transaction (session fixation
    /// defence: the old id stops working the moment the new one exists). Returns false,
    /// and creates nothing, when `old_hash` no longer exists.
    pub async fn rotate_session(&self, old_hash: &str, new: &StoredSession) -> Result<bool> {
        check_hash(old_hash)?;
        check_hash(&new.id_hash)?;
        check_data(&new.data)?;
        self.retry(|| async {
            on_pool!(&self.inner.backend, pool => {
                let mut tx = pool.begin_write().await?;
                let n = sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
                    .bind(old_hash)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if n == 0 {
                    tx.rollback().await?;
                    return Ok(false);
                }
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "INSERT INTO sessions ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"
                )))
                .bind(&new.id_hash)
                .bind(&new.user_id)
                .bind(&new.data)
                .bind(new.created_at.unix_timestamp())
                .bind(new.last_seen_at.unix_timestamp())
                .bind(new.expires_at.unix_timestamp())
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(true)
            })
        })
        .await
    }

    /// Deletes one session; returns false when there was none.
    pub async fn delete_session(&self, id_hash: &str) -> Result<bool> {
        check_hash(id_hash)?;
        self.retry(|| async {
            on_pool!(&self.inner.backend, pool => {
                let n = sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
                    .bind(id_hash)
                    .execute(pool)
                    .await?
                    .rows_affected();
                Ok(n > 0)
            })
        })
        .await
    }

    /// The sessions of `user_id`, most recently used first (expired ones included until
    /// purged; the caller filters with its own timeouts).
    pub async fn list_sessions_for_user(&self, user_id: &str) -> Result<Vec<StoredSession>> {
        on_pool!(&self.inner.backend, pool => {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM sessions WHERE user_id = $1 \
                 ORDER BY last_seen_at DESC, id_hash"
            )))
            .bind(user_id)
            .fetch_all(pool)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                out.push(session_from_row!(r));
            }
            Ok(out)
        })
    }

    /// Deletes every session of `user_id` (logout everywhere; call it when the password
    /// changes); returns how many. When `user_id` is a store user id, a
    /// `sessions_revoked` audit event is written in the same transaction.
    pub async fn delete_sessions_for_user(&self, user_id: &str) -> Result<u64> {
        self.retry(|| async {
            on_pool!(&self.inner.backend, pool => {
                let mut tx = pool.begin_write().await?;
                let n = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if n > 0 {
                    let mut ev = AuditEvent::new("sessions_revoked").details(json!({"count": n}));
                    if let Ok(id) = user_id.parse::<i64>() {
                        ev = ev.user(id);
                    } else {
                        ev = ev.details(json!({"count": n, "user_id": user_id}));
                    }
                    self.audit_in(&mut *tx, ev).await?;
                }
                tx.commit().await?;
                Ok(n)
            })
        })
        .await
    }

    /// Deletes sessions past their absolute expiry (`expires_at <= now`) or idle since
    /// before `idle_cutoff` (`last_seen_at < idle_cutoff`); returns how many.
    pub async fn purge_sessions(
        &self,
        now: OffsetDateTime,
        idle_cutoff: OffsetDateTime,
    ) -> Result<u64> {
        let (now, cutoff) = (now.unix_timestamp(), idle_cutoff.unix_timestamp());
        self.retry(|| async {
            on_pool!(&self.inner.backend, pool => {
                Ok(sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at < $2")
                    .bind(now)
                    .bind(cutoff)
                    .execute(pool)
                    .await?
                    .rows_affected())
            })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_and_data_are_validated() {
        assert!(check_hash(&"a".repeat(64)).is_ok());
        assert!(check_hash(&"A".repeat(64)).is_err());
        assert!(check_hash(&"a".repeat(63)).is_err());
        assert!(check_hash("raw-session-id").is_err());
        assert!(check_data("{}").is_ok());
        assert!(check_data(r#"{"a":[1]}"#).is_ok());
        assert!(check_data("[]").is_err());
        assert!(check_data("nope").is_err());
    }
}
