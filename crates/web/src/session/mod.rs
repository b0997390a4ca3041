//! Server-side sessions.
//!
//! The browser holds only a random id; everything else (the logged-in user, the CSRF
//! token, application values) lives on the server, in the identity store's SQL
//! database ([`SqlSessionStore`], SQLite or PostgreSQL) or in Redis
//! ([`RedisSessionStore`], cargo feature `redis`). [`SessionManager`] runs the lifecycle
//! and returns `Set-Cookie` header values as strings, so any HTTP framework can use it;
//! [`SessionPolicy`] plugs it into the [`crate::policy::SecurityPolicy`] chain.
//!
//! # Threats and what answers them
//!
//! | threat | defence |
//! |---|---|
//! | guessing an id | 256 random bits from the OS RNG (unpadded base64url, 43 characters); cookie values of any other shape are ignored without a lookup |
//! | theft from the database, a backup or a Redis dump | only SHA-256 of the id is stored ([`SessionHash`]); the table cannot be replayed as cookies |
//! | theft on the wire | `Secure` by default ([`SessionConfig::dangerous_insecure_cookies`] is the explicit opt-out for `http://localhost`) |
//! | theft by script (XSS) | `HttpOnly` always |
//! | a stolen id used for long | idle timeout (30 min) and absolute timeout (12 h) enforced on the server; logout deletes the session server-side ([`SessionManager::destroy`], [`SessionManager::forget`]); [`SessionManager::revoke_user`] ends every session of a user (password change, blocked account) |
//! | session fixation (an attacker makes the victim use an id he knows, then waits for the login) | [`SessionManager::remember`] and [`SessionManager::rotate`] move the data to a new id and delete the old one atomically, so an id known before a privilege change is dead afterwards |
//! | cross-site requests riding on the cookie | `SameSite=Lax` by default, plus [`crate::csrf`] (token in the session, Origin check) |
//! | a revoked session brought back by a concurrent request | backends only update or rotate sessions that still exist ([`SessionError::Gone`]) |
//! | a cookie planted by a sibling subdomain ("cookie tossing") | several cookies of the name are tried, so the real one still works, and rotation on login keeps a planted one from being authenticated; a `__Host-` cookie name forbids planting altogether ([`SessionConfig`] checks its rules) |
//!
//! Lookups go by the SHA-256 of the presented id. An index lookup's timing can at most
//! reveal something about a *hash*, which does not help to find an id; the SQL backend
//! confirms the found key with a constant-time comparison anyway.
//!
//! # Time
//!
//! Times are Unix seconds from a [`Clock`] (the system clock by default; tests use
//! [`ManualClock`] through [`SessionManager::with_clock`]), so the timeouts are tested
//! deterministically. Redis additionally gets a TTL of `min(idle, absolute remaining)`
//! on every write.
//!
//! # Example
//!
//! ```
//! use portcullis_store::Store;
//! use portcullis_web::session::{SessionConfig, SessionManager, SqlSessionStore};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let store = Store::open("sqlite::memory:").await?;
//! let sessions = SessionManager::new(SqlSessionStore::new(store), SessionConfig::new())?;
//!
//! // Login: a fresh id bound to the user.
//! let (mut session, set_cookie) = sessions.remember(None, "42").await?;
//! assert!(set_cookie.starts_with("portcullis_session="));
//! assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("Secure"));
//! session.insert("theme", "dark");
//! sessions.save(&mut session).await?;
//!
//! // A later request sends the cookie back.
//! let cookie = set_cookie.split(';').next().unwrap_or_default();
//! let (user, session) = sessions.identify(Some(cookie)).await?.expect("logged in");
//! assert_eq!(user, "42");
//! assert_eq!(session.get("theme"), Some(&"dark".into()));
//!
//! // Logout deletes it server-side.
//! let expired = sessions.destroy(session).await?;
//! assert!(expired.contains("Max-Age=0"));
//! assert!(sessions.load(Some(cookie)).await?.is_none());
//! # Ok(())
//! # }
//! ```

pub(crate) mod cookie;

mod config;
mod error;
mod id;
mod manager;
mod policy;
mod record;
#[cfg(feature = "redis")]
mod redis;
mod sql;
mod store;
#[cfg(test)]
mod tests;

pub use config::{DEFAULT_COOKIE_NAME, SameSite, SessionConfig};
pub use error::SessionError;
pub use id::{SESSION_ID_BYTES, SESSION_ID_LEN, SessionHash};
pub use manager::SessionManager;
pub use policy::SessionPolicy;
pub(crate) use policy::cookie_header;
pub use portcullis_store::{Clock, ManualClock, SystemClock};
pub use record::{CSRF_TOKEN_KEY, PERSISTENT_KEY, Session, SessionRecord};
#[cfg(feature = "redis")]
pub use redis::{DEFAULT_REDIS_PREFIX, RedisSessionStore};
pub use sql::SqlSessionStore;
pub use store::{BoxFuture, SessionStore};
