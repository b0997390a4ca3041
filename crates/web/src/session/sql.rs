//! The SQL backend: the `sessions` table of the identity store (SQLite or PostgreSQL).

use portcullis_store::{Store, StoredSession};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::SessionError;
use super::id::SessionHash;
use super::record::SessionRecord;
use super::store::{BoxFuture, SessionStore};

/// Sessions in the identity store's `sessions` table (created by the store's
/// migrations): one row per session, keyed by the SHA-256 of the id, with the user id
/// in an indexed column and the data as JSON text.
///
/// Expired rows are filtered when loading and removed by [`SessionStore::purge`]
/// (call [`super::SessionManager::purge_expired`] from a periodic task).
#[derive(Debug, Clone)]
pub struct SqlSessionStore {
    store: Store,
}

impl SqlSessionStore {
    /// Uses `store`'s database (its migrations must have run, which `Store::open` does).
    pub fn new(store: Store) -> SqlSessionStore {
        SqlSessionStore { store }
    }

    /// The underlying identity store.
    pub fn store(&self) -> &Store {
        &self.store
    }
}

fn time(unix: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(unix).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn to_row(hash: &SessionHash, r: &SessionRecord) -> StoredSession {
    StoredSession {
        id_hash: hash.as_str().to_owned(),
        user_id: r.user_id.clone(),
        data: Value::Object(r.data.clone()).to_string(),
        created_at: time(r.created_at),
        last_seen_at: time(r.last_seen_at),
        expires_at: time(r.expires_at),
    }
}

fn from_row(row: StoredSession) -> Result<(SessionHash, SessionRecord), SessionError> {
    let hash = SessionHash::parse(&row.id_hash)
        .ok_or_else(|| SessionError::Corrupt("id_hash is not a sha-256 hex string".into()))?;
    let data: Map<String, Value> = serde_json::from_str(&row.data)
        .map_err(|e| SessionError::Corrupt(format!("data is not a json object: {e}")))?;
    Ok((
        hash,
        SessionRecord {
            user_id: row.user_id,
            data,
            created_at: row.created_at.unix_timestamp(),
            last_seen_at: row.last_seen_at.unix_timestamp(),
            expires_at: row.expires_at.unix_timestamp(),
        },
    ))
}

impl SessionStore for SqlSessionStore {
    fn load<'a>(
        &'a self,
        hash: &'a SessionHash,
    ) -> BoxFuture<'a, Result<Option<SessionRecord>, SessionError>> {
        Box::pin(async move {
            match self.store.load_session(hash.as_str()).await? {
                Some(row) => Ok(Some(from_row(row)?.1)),
                None => Ok(None),
            }
        })
    }

    fn create<'a>(
        &'a self,
        hash: &'a SessionHash,
        record: &'a SessionRecord,
        _ttl_secs: u64,
    ) -> BoxFuture<'a, Result<(), SessionError>> {
        Box::pin(async move { Ok(self.store.create_session(&to_row(hash, record)).await?) })
    }

    fn save<'a>(
        &'a self,
        hash: &'a SessionHash,
        record: &'a SessionRecord,
        _ttl_secs: u64,
    ) -> BoxFuture<'a, Result<bool, SessionError>> {
        Box::pin(async move { Ok(self.store.update_session(&to_row(hash, record)).await?) })
    }

    fn touch<'a>(
        &'a self,
        hash: &'a SessionHash,
        last_seen_at: i64,
        _ttl_secs: u64,
    ) -> BoxFuture<'a, Result<bool, SessionError>> {
        Box::pin(async move {
            Ok(self
                .store
                .touch_session(hash.as_str(), time(last_seen_at))
                .await?)
        })
    }

    fn rotate<'a>(
        &'a self,
        old: &'a SessionHash,
        new: &'a SessionHash,
        record: &'a SessionRecord,
        _ttl_secs: u64,
    ) -> BoxFuture<'a, Result<bool, SessionError>> {
        Box::pin(async move {
            Ok(self
                .store
                .rotate_session(old.as_str(), &to_row(new, record))
                .await?)
        })
    }

    fn delete<'a>(&'a self, hash: &'a SessionHash) -> BoxFuture<'a, Result<bool, SessionError>> {
        Box::pin(async move { Ok(self.store.delete_session(hash.as_str()).await?) })
    }

    fn delete_for_user<'a>(&'a self, user_id: &'a str) -> BoxFuture<'a, Result<u64, SessionError>> {
        Box::pin(async move { Ok(self.store.delete_sessions_for_user(user_id).await?) })
    }

    fn list_for_user<'a>(
        &'a self,
        user_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<(SessionHash, SessionRecord)>, SessionError>> {
        Box::pin(async move {
            self.store
                .list_sessions_for_user(user_id)
                .await?
                .into_iter()
                .map(from_row)
                .collect()
        })
    }

    fn purge<'a>(&'a self, now: i64, idle_cutoff: i64) -> BoxFuture<'a, Result<u64, SessionError>> {
        Box::pin(async move {
            Ok(self
                .store
                .purge_sessions(time(now), time(idle_cutoff))
                .await?)
        })
    }
}
