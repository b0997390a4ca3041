//! [`SessionManager`]: the session lifecycle over a [`SessionStore`].

use std::sync::Arc;

use portcullis_store::{Clock, SystemClock};
use serde_json::{Map, Value};

use super::SessionError;
use super::config::SessionConfig;
use super::cookie::{self, Attrs};
use super::id::{SessionHash, SessionId};
use super::record::{Session, SessionRecord};
use super::store::SessionStore;

/// How many cookies of the session's name are tried per request. A sibling subdomain
/// can add ("toss") a cookie of the same name; trying a few keeps the real session
/// usable, and rotation on login keeps a tossed one from ever becoming authenticated.
const MAX_CANDIDATES: usize = 4;

/// Creates, loads, rotates and destroys sessions, and builds their `Set-Cookie`
/// headers. Cheap to clone (the store and clock are shared).
#[derive(Clone)]
pub struct SessionManager {
    store: Arc<dyn SessionStore>,
    config: SessionConfig,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for SessionManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionManager")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

fn secs(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

impl SessionManager {
    /// A manager over `store`; fails if `config` is inconsistent
    /// ([`SessionConfig::validate`]). Uses the system clock.
    pub fn new(
        store: impl SessionStore,
        config: SessionConfig,
    ) -> Result<SessionManager, SessionError> {
        SessionManager::with_store(Arc::new(store), config)
    }

    /// Like [`SessionManager::new`] with a shared store.
    pub fn with_store(
        store: Arc<dyn SessionStore>,
        config: SessionConfig,
    ) -> Result<SessionManager, SessionError> {
        config.validate()?;
        Ok(SessionManager {
            store,
            config,
            clock: Arc::new(SystemClock),
        })
    }

    /// Uses `clock` instead of the system clock (tests of expiry).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> SessionManager {
        self.clock = clock;
        self
    }

    /// The configuration.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// The backend.
    pub fn store(&self) -> &Arc<dyn SessionStore> {
        &self.store
    }

    fn now(&self) -> i64 {
        self.clock.now().unix_timestamp()
    }

    fn attrs(&self) -> Attrs<'_> {
        Attrs {
            path: &self.config.path,
            domain: self.config.domain.as_deref(),
            secure: self.config.secure,
            http_only: true,
            same_site: self.config.same_site,
        }
    }

    /// True when `r` is past its idle or absolute timeout at `now`.
    fn expired(&self, r: &SessionRecord, now: i64) -> bool {
        now >= r.expires_at
            || now
                >= r.last_seen_at
                    .saturating_add(secs(self.config.idle_timeout))
    }

    /// Seconds `r` may still live: `min(idle, absolute remaining)`, at least 1.
    fn ttl(&self, r: &SessionRecord, now: i64) -> u64 {
        let idle = secs(self.config.idle_timeout);
        let left = r.expires_at.saturating_sub(now).min(idle).max(1);
        u64::try_from(left).unwrap_or(1)
    }

    /// Whether `s`'s cookie outlives the browser: every session's with
    /// [`SessionConfig::persistent`], or this one's because its user asked
    /// ([`SessionManager::remember_persistent`]).
    fn persistent(&self, s: &Session) -> bool {
        self.config.persistent
            || s.record.data.get(super::record::PERSISTENT_KEY) == Some(&Value::Bool(true))
    }

    fn cookie_for(&self, s: &Session, now: i64) -> String {
        let max_age = self
            .persistent(s)
            .then(|| u64::try_from(s.record.expires_at.saturating_sub(now).max(0)).unwrap_or(0));
        cookie::set_cookie(
            &self.config.cookie_name,
            s.id.as_str(),
            max_age,
            &self.attrs(),
        )
    }

    /// The `Set-Cookie` value that deletes the session cookie in the browser
    /// (`Max-Age=0`, an `Expires` in 1970, same name, path and domain).
    pub fn expire_cookie(&self) -> String {
        cookie::expire_cookie(&self.config.cookie_name, &self.attrs())
    }

    fn fresh_record(
        &self,
        now: i64,
        user_id: Option<String>,
        data: Map<String, serde_json::Value>,
    ) -> SessionRecord {
        SessionRecord {
            user_id,
            data,
            created_at: now,
            last_seen_at: now,
            expires_at: now.saturating_add(secs(self.config.absolute_timeout)),
        }
    }

    /// The session named by the `Cookie` request header, if it exists and has not
    /// expired. Unknown, malformed or expired ids give `Ok(None)` (an expired one is
    /// deleted). Each use slides the idle timeout (written at most once per touch
    /// interval).
    pub async fn load(&self, cookie_header: Option<&str>) -> Result<Option<Session>, SessionError> {
        let Some(header) = cookie_header else {
            return Ok(None);
        };
        let now = self.now();
        for value in cookie::values(header, &self.config.cookie_name, MAX_CANDIDATES) {
            let Some(id) = SessionId::parse(value) else {
                continue;
            };
            let hash = id.hash();
            let Some(mut record) = self.store.load(&hash).await? else {
                continue;
            };
            if self.expired(&record, now) {
                self.store.delete(&hash).await?;
                continue;
            }
            if now.saturating_sub(record.last_seen_at) >= secs(self.config.touch_interval) {
                record.last_seen_at = now;
                if !self.store.touch(&hash, now, self.ttl(&record, now)).await? {
                    continue;
                }
            }
            return Ok(Some(Session::loaded(id, hash, record)));
        }
        Ok(None)
    }

    /// A new, empty, anonymous session with a fresh 256-bit id. It is stored by
    /// [`SessionManager::save`], which also returns its cookie.
    pub fn create(&self) -> Result<Session, SessionError> {
        let now = self.now();
        Ok(Session::new(
            SessionId::generate()?,
            self.fresh_record(now, None, Map::new()),
        ))
    }

    /// Stores `session` if it is new or changed. Returns the `Set-Cookie` header when
    /// the browser must receive the cookie (a new session; with
    /// [`SessionConfig::persistent`], also refreshed on every write).
    ///
    /// Fails with [`SessionError::Gone`] when the session was deleted meanwhile (logout
    /// elsewhere, [`SessionManager::revoke_user`], expiry): it is not re-created; answer
    /// as anonymous and send [`SessionManager::expire_cookie`].
    pub async fn save(&self, session: &mut Session) -> Result<Option<String>, SessionError> {
        let now = self.now();
        if session.is_new {
            session.record.last_seen_at = now;
            self.store
                .create(
                    &session.hash,
                    &session.record,
                    self.ttl(&session.record, now),
                )
                .await?;
            session.is_new = false;
            session.changed = false;
            return Ok(Some(self.cookie_for(session, now)));
        }
        if !session.changed {
            return Ok(None);
        }
        if self.expired(&session.record, now) {
            self.store.delete(&session.hash).await?;
            return Err(SessionError::Gone);
        }
        session.record.last_seen_at = now;
        if !self
            .store
            .save(
                &session.hash,
                &session.record,
                self.ttl(&session.record, now),
            )
            .await?
        {
            return Err(SessionError::Gone);
        }
        session.changed = false;
        Ok(self
            .persistent(session)
            .then(|| self.cookie_for(session, now)))
    }

    /// Gives `session` a new id, keeping its data; the old id stops working at once.
    /// Returns the new cookie. Call it whenever privileges change (login, sudo mode,
    /// role change): an id the attacker planted or saw before is then worthless
    /// (session fixation). A new, unsaved session is simply stored under a new id.
    pub async fn rotate(&self, session: &mut Session) -> Result<String, SessionError> {
        self.rotate_inner(session, false).await
    }

    async fn rotate_inner(
        &self,
        session: &mut Session,
        restart: bool,
    ) -> Result<String, SessionError> {
        let now = self.now();
        let old_hash = session.hash.clone();
        let was_new = session.is_new;
        if !was_new && self.expired(&session.record, now) {
            self.store.delete(&old_hash).await?;
            return Err(SessionError::Gone);
        }
        let id = SessionId::generate()?;
        session.hash = id.hash();
        session.id = id;
        session.record.last_seen_at = now;
        if restart {
            session.record.created_at = now;
            session.record.expires_at = now.saturating_add(secs(self.config.absolute_timeout));
        }
        let ttl = self.ttl(&session.record, now);
        if was_new {
            self.store
                .create(&session.hash, &session.record, ttl)
                .await?;
        } else if !self
            .store
            .rotate(&old_hash, &session.hash, &session.record, ttl)
            .await?
        {
            return Err(SessionError::Gone);
        }
        session.is_new = false;
        session.changed = false;
        Ok(self.cookie_for(session, now))
    }

    /// Logs `user_id` in (Pyramid's `remember`): takes the current session if there is
    /// one (keeping its data, e.g. a basket), sets the user, rotates the id and restarts
    /// the absolute lifetime; otherwise creates a session. Returns the session and its
    /// `Set-Cookie`. A session the request carried that has vanished meanwhile is
    /// replaced by a fresh one.
    pub async fn remember(
        &self,
        current: Option<Session>,
        user_id: &str,
    ) -> Result<(Session, String), SessionError> {
        self.remember_persistent(current, user_id, false).await
    }

    /// [`SessionManager::remember`] for a login form's "keep me logged in": with
    /// `persistent`, this session's cookie carries `Max-Age` up to the absolute expiry
    /// (the browser keeps it after closing), whatever [`SessionConfig::persistent`] says;
    /// without, the configuration decides. The lifetimes on the server are unchanged.
    pub async fn remember_persistent(
        &self,
        current: Option<Session>,
        user_id: &str,
        persistent: bool,
    ) -> Result<(Session, String), SessionError> {
        let mark = |data: &mut Map<String, Value>| {
            if persistent {
                data.insert(super::record::PERSISTENT_KEY.to_owned(), Value::Bool(true));
            } else {
                data.remove(super::record::PERSISTENT_KEY);
            }
        };
        if let Some(mut s) = current {
            // A different user logging in on this browser keeps no data of the previous one.
            if s.record.user_id.as_deref().is_some_and(|u| u != user_id) {
                s.record.data.clear();
            }
            // A CSRF token seen before the login must not work after it.
            s.record.data.remove(super::record::CSRF_TOKEN_KEY);
            mark(&mut s.record.data);
            s.record.user_id = Some(user_id.to_owned());
            match self.rotate_inner(&mut s, true).await {
                Ok(cookie) => return Ok((s, cookie)),
                Err(SessionError::Gone) => {}
                Err(e) => return Err(e),
            }
        }
        let now = self.now();
        let mut data = Map::new();
        mark(&mut data);
        let mut s = Session::new(
            SessionId::generate()?,
            self.fresh_record(now, Some(user_id.to_owned()), data),
        );
        let cookie = self.save(&mut s).await?.unwrap_or_default();
        Ok((s, cookie))
    }

    /// The user id and session of the request, if its session is logged in.
    pub async fn identify(
        &self,
        cookie_header: Option<&str>,
    ) -> Result<Option<(String, Session)>, SessionError> {
        Ok(self
            .load(cookie_header)
            .await?
            .and_then(|s| s.record.user_id.clone().map(|u| (u, s))))
    }

    /// Deletes `session` server-side (logout) and returns the `Set-Cookie` that removes
    /// it from the browser. Deleting a session that is already gone is not an error.
    pub async fn destroy(&self, session: Session) -> Result<String, SessionError> {
        if !session.is_new {
            self.store.delete(&session.hash).await?;
        }
        Ok(self.expire_cookie())
    }

    /// Pyramid's `forget`: deletes every session the `Cookie` header names and returns
    /// the expiring `Set-Cookie`.
    pub async fn forget(&self, cookie_header: Option<&str>) -> Result<String, SessionError> {
        if let Some(header) = cookie_header {
            for value in cookie::values(header, &self.config.cookie_name, MAX_CANDIDATES) {
                if let Some(id) = SessionId::parse(value) {
                    self.store.delete(&id.hash()).await?;
                }
            }
        }
        Ok(self.expire_cookie())
    }

    /// Deletes every session of `user_id` (logout everywhere; call on password change
    /// and when a user is blocked); returns how many.
    pub async fn revoke_user(&self, user_id: &str) -> Result<u64, SessionError> {
        self.store.delete_for_user(user_id).await
    }

    /// Deletes one session by its handle (e.g. "log out that other device").
    pub async fn revoke(&self, hash: &SessionHash) -> Result<bool, SessionError> {
        self.store.delete(hash).await
    }

    /// The live sessions of `user_id`, most recently used first, by handle.
    pub async fn list_user_sessions(
        &self,
        user_id: &str,
    ) -> Result<Vec<(SessionHash, SessionRecord)>, SessionError> {
        let now = self.now();
        let mut all = self.store.list_for_user(user_id).await?;
        all.retain(|(_, r)| !self.expired(r, now));
        Ok(all)
    }

    /// Deletes expired sessions from backends that keep them (SQL); returns how many.
    /// Run it periodically.
    pub async fn purge_expired(&self) -> Result<u64, SessionError> {
        let now = self.now();
        self.store
            .purge(
                now,
                now.saturating_sub(secs(self.config.idle_timeout))
                    .saturating_add(1),
            )
            .await
    }
}
