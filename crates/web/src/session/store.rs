//! The [`SessionStore`] trait implemented by the backends.

use std::future::Future;
use std::pin::Pin;

use super::SessionError;
use super::id::SessionHash;
use super::record::SessionRecord;

/// A boxed, sendable future (stores are used as trait objects).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where sessions live. Keys are [`SessionHash`]es: a backend never sees a session id.
///
/// Implementations must never bring a deleted session back: [`SessionStore::save`] and
/// [`SessionStore::rotate`] only act on a session that still exists, so a session
/// revoked by one request (logout elsewhere, [`SessionStore::delete_for_user`]) is not
/// re-created by a slower request that loaded it before.
///
/// `ttl_secs` is the time the session may still live, `min(idle timeout, absolute
/// expiry - now)`; backends with native expiry (Redis) use it, SQL stores the times
/// from the record and is purged with [`SessionStore::purge`].
pub trait SessionStore: Send + Sync + 'static {
    /// The session stored under `hash`, whatever its times (the manager checks expiry).
    fn load<'a>(
        &'a self,
        hash: &'a SessionHash,
    ) -> BoxFuture<'a, Result<Option<SessionRecord>, SessionError>>;

    /// Stores a new session.
    fn create<'a>(
        &'a self,
        hash: &'a SessionHash,
        record: &'a SessionRecord,
        ttl_secs: u64,
    ) -> BoxFuture<'a, Result<(), SessionError>>;

    /// Updates an existing session; `false` (and nothing written) when it is gone.
    fn save<'a>(
        &'a self,
        hash: &'a SessionHash,
        record: &'a SessionRecord,
        ttl_secs: u64,
    ) -> BoxFuture<'a, Result<bool, SessionError>>;

    /// Records a use: sets `last_seen_at` and (Redis) the TTL, leaving user and data
    /// alone, so a read-only request cannot undo a concurrent save. `false` when gone.
    fn touch<'a>(
        &'a self,
        hash: &'a SessionHash,
        last_seen_at: i64,
        ttl_secs: u64,
    ) -> BoxFuture<'a, Result<bool, SessionError>>;

    /// Atomically deletes `old` and stores `record` under `new`; `false` (and nothing
    /// written) when `old` is gone.
    fn rotate<'a>(
        &'a self,
        old: &'a SessionHash,
        new: &'a SessionHash,
        record: &'a SessionRecord,
        ttl_secs: u64,
    ) -> BoxFuture<'a, Result<bool, SessionError>>;

    /// Deletes one session; `false` when there was none.
    fn delete<'a>(&'a self, hash: &'a SessionHash) -> BoxFuture<'a, Result<bool, SessionError>>;

    /// Deletes every session of `user_id`; returns how many.
    fn delete_for_user<'a>(&'a self, user_id: &'a str) -> BoxFuture<'a, Result<u64, SessionError>>;

    /// The sessions of `user_id` (possibly including expired ones not yet purged).
    fn list_for_user<'a>(
        &'a self,
        user_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<(SessionHash, SessionRecord)>, SessionError>>;

    /// Deletes sessions with `expires_at <= now` or `last_seen_at < idle_cutoff`;
    /// returns how many. Backends that expire entries themselves return `Ok(0)`.
    fn purge<'a>(&'a self, now: i64, idle_cutoff: i64) -> BoxFuture<'a, Result<u64, SessionError>> {
        let _ = (now, idle_cutoff);
        Box::pin(async { Ok(0) })
    }
}
