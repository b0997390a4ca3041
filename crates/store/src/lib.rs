//! The Portcullis identity store.
//!
//! - [`password`]: password hashing (argon2id), verification of legacy hash formats
//!   (salted SHA-1, web2py/py4web `CRYPT`, Django, bcrypt, argon2) and the password policy.
//! - [`Store`]: users (py4web's `auth_user`), groups, memberships, group permissions,
//!   hierarchical tags, API tokens, one-time action tokens and an append-only audit log,
//!   over SQLite or PostgreSQL behind one async API, with the cached groupfinder
//!   [`Store::principals_for`].
//! - Server-side session rows ([`StoredSession`], keyed by the SHA-256 of the session id,
//!   indexed by user) for `portcullis-web`'s SQL session backend.
//!
//! # Example
//!
//! ```
//! use portcullis_store::{NewUser, Store};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), portcullis_store::StoreError> {
//! let store = Store::open("sqlite::memory:").await?;
//! let alice = store.create_user(NewUser::new("alice").email("alice@example.org")).await?;
//! store.create_group("editors", "may edit pages").await?;
//! store.add_member(alice.id, "editors").await?;
//! let principals = store.principals_for(alice.id).await?.expect("alice is active");
//! assert_eq!(&principals[..], [alice.id.to_string(), "group:editors".to_owned()]);
//! # Ok(())
//! # }
//! ```
//!
//! # Design decisions
//!
//! - **One API, two backends.** [`Store`] dispatches on an enum of `sqlx` pools; every
//!   query is written once in SQL both engines accept (`$1` placeholders, `RETURNING`,
//!   `ON CONFLICT DO NOTHING`). No `sqlx` type is public. `sqlx` macros stay off, so
//!   queries are checked at run time by the integration tests on both backends.
//! - **Migrations** are embedded SQL files, one folder per backend, applied on open by a
//!   small migrator of our own (see [`SCHEMA_VERSION`] and `migrate.rs`), since
//!   `sqlx::migrate!` needs the macros.
//! - **Every write is one transaction**, and the audit event describing it is written in
//!   the same transaction. SQLite write transactions start with `BEGIN IMMEDIATE` and a
//!   busy timeout (5 s), and idempotent operations are retried a bounded number of times
//!   when the database stays locked ([`StoreError::Locked`]).
//! - **Uniqueness is the database's job.** Usernames (exact, byte-wise), e-mails (ignoring
//!   case, through a normalized column), SSO ids and group names have unique indexes, so
//!   concurrent registrations yield one user and [`StoreError::Conflict`] for the others.
//! - **Groupfinder.** [`Store::principals_for`] returns `"<user id>"`, `group:NAME` for
//!   each group, and optionally the username and `tag:PATH` for the user's `users` tags
//!   ([`PrincipalsConfig`]); `None` for unknown, blocked and (by default) pending users.
//!   Answers are cached in process (sharded `RwLock<HashMap>`, `Arc<[String]>` values, a
//!   generation counter against stale fills) and invalidated by every change made through
//!   the store. Changes made by other processes are announced in the changing transaction:
//!   `pg_notify` on PostgreSQL (a listener task invalidates at commit), a change counter
//!   on SQLite (re-read at most every 250 ms by lookups). A TTL (30 s) is the safety net.
//! - **Tags** are stored in [`portcullis_authz::tag::Tag::key`] form (never compared
//!   with `LIKE`, case-insensitive on SQLite); PostgreSQL columns use `COLLATE "C"` so
//!   both backends compare bytes.
//! - **Secrets at rest are hashes.** API and action tokens are stored as SHA-256 of
//!   32 random bytes; passwords as argon2id (legacy hashes are upgraded at login).
//! - **Bulk paths use multi-row statements** (import, [`Store::add_tags_bulk`]) of at most
//!   about 12 KiB of parameters: `sqlx` 0.9.0 leaves Nagle's algorithm on, and larger
//!   statements to PostgreSQL over TCP stalled 40 ms each on the server's delayed ACK.
//!   [`Store::optimize`] refreshes planner statistics after a bulk load.
//! - **Tag finds** read a bitmap index kept in the tag writes' transaction: per kind
//!   and key (each tag's ancestors included), the records carrying it, in chunks of
//!   32 768 ids; a page reads the chunks' sizes, then the chunks that can hold matches,
//!   combined with `&` or `|` in memory (docs/store.md, "The tag index").
//! - **Time is injected** with a [`Clock`] ([`ManualClock`] in tests), stored as Unix
//!   seconds.

pub mod password;

mod audit;
mod backend;
mod clock;
mod credentials;
mod error;
mod groups;
mod import;
mod migrate;
mod model;
mod principals;
mod sessions;
mod store;
mod tags;
mod tokens;
mod users;

pub use audit::{AuditEvent, AuditQuery, AuditRecord};
pub use backend::BackendKind;
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{Result, StoreError};
pub use groups::Without;
pub use import::{ImportStats, ImportUser};
pub use migrate::SCHEMA_VERSION;
pub use model::{Group, Identity, NewUser, TagMatch, User, UserQuery, UserStatus, UserUpdate};
pub use principals::Principals;
pub use sessions::StoredSession;
pub use store::{PrincipalsConfig, Store, StoreOptions};
pub use tags::{GROUPS, USERS};
pub use tokens::{ActionPurpose, ApiToken, NewApiToken};

/// Hierarchical tags (re-exported from `portcullis-authz`).
pub use portcullis_authz::tag::Tag;
