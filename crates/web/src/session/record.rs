//! What a backend stores ([`SessionRecord`]) and what a request works with ([`Session`]).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::SessionError;
use super::id::{SessionHash, SessionId};

/// The data key under which [`crate::csrf::SessionCsrfStorage`] keeps the CSRF token
/// (Pyramid's key).
pub const CSRF_TOKEN_KEY: &str = "_csrft_";

/// The data key marking a session whose user asked to be remembered ("keep me logged
/// in"): its cookie carries `Max-Age` up to the absolute expiry, as with
/// [`super::SessionConfig::persistent`] for every session.
pub const PERSISTENT_KEY: &str = "_persistent_";

/// A session as stored by a [`super::SessionStore`]: everything except the id.
///
/// Times are Unix seconds from the manager's clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionRecord {
    /// The logged-in user, if any.
    pub user_id: Option<String>,
    /// Application values (and the CSRF token under [`CSRF_TOKEN_KEY`]).
    pub data: Map<String, Value>,
    /// When the session was created (or, after a login, re-created).
    pub created_at: i64,
    /// When the session was last used: the idle timeout counts from here.
    pub last_seen_at: i64,
    /// When the session ends regardless of activity (the absolute timeout).
    pub expires_at: i64,
}

/// One session, as loaded or created by [`super::SessionManager`].
///
/// Values are JSON; change them with [`Session::insert`] / [`Session::remove`] and
/// persist with [`super::SessionManager::save`]. The user id changes only through
/// [`super::SessionManager::remember`] / [`super::SessionManager::forget`], which rotate
/// the id, so a logged-in session never keeps a pre-login id (session fixation).
///
/// `Debug` shows the hash handle, never the id.
#[derive(Debug, Clone)]
pub struct Session {
    pub(crate) id: SessionId,
    pub(crate) hash: SessionHash,
    pub(crate) record: SessionRecord,
    pub(crate) is_new: bool,
    pub(crate) changed: bool,
}

impl Session {
    pub(crate) fn new(id: SessionId, record: SessionRecord) -> Session {
        Session {
            hash: id.hash(),
            id,
            record,
            is_new: true,
            changed: true,
        }
    }

    pub(crate) fn loaded(id: SessionId, hash: SessionHash, record: SessionRecord) -> Session {
        Session {
            id,
            hash,
            record,
            is_new: false,
            changed: false,
        }
    }

    /// The stored handle of this session (SHA-256 of its id; not a credential).
    pub fn hash(&self) -> &SessionHash {
        &self.hash
    }

    /// The logged-in user, if any.
    pub fn user_id(&self) -> Option<&str> {
        self.record.user_id.as_deref()
    }

    /// A value.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.record.data.get(key)
    }

    /// A value deserialized as `T` (`Ok(None)` when absent).
    pub fn get_as<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, SessionError> {
        self.record
            .data
            .get(key)
            .map(|v| {
                serde_json::from_value(v.clone()).map_err(|e| SessionError::Value {
                    key: key.to_owned(),
                    reason: e.to_string(),
                })
            })
            .transpose()
    }

    /// Sets a value; returns the previous one.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<Value>) -> Option<Value> {
        self.changed = true;
        self.record.data.insert(key.into(), value.into())
    }

    /// Sets a serializable value.
    pub fn insert_as<T: Serialize>(&mut self, key: &str, value: &T) -> Result<(), SessionError> {
        let v = serde_json::to_value(value).map_err(|e| SessionError::Value {
            key: key.to_owned(),
            reason: e.to_string(),
        })?;
        self.insert(key, v);
        Ok(())
    }

    /// Removes a value.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let old = self.record.data.remove(key);
        if old.is_some() {
            self.changed = true;
        }
        old
    }

    /// All values.
    pub fn data(&self) -> &Map<String, Value> {
        &self.record.data
    }

    /// The stored record (user, data, times).
    pub fn record(&self) -> &SessionRecord {
        &self.record
    }

    /// True until the session has been saved for the first time (no cookie sent yet).
    pub fn is_new(&self) -> bool {
        self.is_new
    }

    /// True when values changed since the session was loaded or saved.
    pub fn is_changed(&self) -> bool {
        self.changed
    }
}
