//! # portcullis-portal
//!
//! py4web's `Auth` REST API, ported: a ready-made [`axum::Router`] with the endpoints
//! under `/auth/api/`, over the identity store of `portcullis-store` and the server-side
//! sessions of `portcullis-web`. `portcullis serve` mounts it; an application can mount it
//! too (see `examples/embed.rs`).
//!
//! | endpoint | method | login | body (JSON) |
//! |---|---|---|---|
//! | `register` | POST | | `email`, `password`, optional `password2`, `username` (default: the e-mail), `first_name`, `last_name` |
//! | `login` | POST | | `email` *or* `username` (either may hold the username or the e-mail), `password`, optional `remember` |
//! | `logout` | POST | | empty or `{}` |
//! | `request_reset_password` | POST | | `email` |
//! | `reset_password` | POST | | `token`, `new_password`, optional `new_password2` |
//! | `verify_email` | GET `?token=` / POST | | `token` |
//! | `request_magic_link` | POST | | `email`, optional `came_from` (`magic_links` on) |
//! | `magic_login` | POST | | `token` (`magic_links` on) |
//! | `profile` | GET / POST | yes | POST: `first_name`, `last_name` |
//! | `change_password` | POST | yes | `old_password`, `new_password`, optional `new_password2` |
//! | `change_email` | POST | yes | `password`, `new_email` |
//! | `config` | GET | | - (enabled `features`, `identity_providers`) |
//! | `openapi.json` | GET | | - (the OpenAPI 3.1 document of the API, generated from the routes: see [`openapi_document`]) |
//!
//! Answers use py4web's envelope: `{"status": "success", "message": ...}` or
//! `{"status": "error", "message": ..., "code": N, "errors": {"field": "why"}}`, with
//! 400 (validation, malformed JSON, invalid UTF-8, unknown or missing fields, values too
//! long, bad token), 401 (not logged in, bad credentials), 403 (wrong current password,
//! untrusted `Origin`, form post without the CSRF token, unverified account,
//! registration disabled), 409 (the e-mail was
//! taken meanwhile), 413 (body larger than `max_body_bytes`), 415 (not
//! JSON or a urlencoded form), 429 (throttled, with `Retry-After`).
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use portcullis_portal::{PortalConfig, PortalState, RecordingMailer, router};
//! use portcullis_store::{Store, password::PasswordPolicy};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let store = Store::open("sqlite::memory:").await?;
//! let config = PortalConfig::from_toml("public_url = \"https://app.example\"")?;
//! let state = PortalState::new(store, Arc::new(RecordingMailer::new()), config, PasswordPolicy::new())?;
//! let app: axum::Router = axum::Router::new().merge(router(state));
//! # let _ = app;
//! # Ok(())
//! # }
//! ```
//!
//! # Design decisions
//!
//! * **Server-side sessions, not auth tickets.** A login creates a session in the store's
//!   SQL database ([`portcullis_web::session::SqlSessionStore`]); the browser holds only a
//!   random id. Unlike a signed ticket, a session can be ended from the server, which the
//!   flows need: a password change or reset deletes every session of the user (the store
//!   does it in the same transaction), and logout really logs out. The session id rotates
//!   on login (no fixation).
//! * **No account enumeration.** `register`, `login` and `request_reset_password` answer
//!   the same status and body whether the account exists or not; `login` for an unknown
//!   user runs a dummy hash of equal cost (the store does); a registration for a taken
//!   address sends the owner a mail instead of answering 409.
//! * **One-time tokens** come from the store (`ActionPurpose`): 256 random bits, stored as
//!   SHA-256, expiring (reset 1 h, verification 24 h by default), consumed atomically, and
//!   deleted when the password or the e-mail changes.
//! * **E-mail changes** are confirmed at the new address before they take effect (the
//!   pending address is bound to the token's hash); the old address is then notified.
//! * **JSON or forms**: JSON requests need no CSRF token (a cross-site form cannot send
//!   `application/json` without CORS); `application/x-www-form-urlencoded` posts must carry
//!   the session's CSRF token in `csrf_token` (`config` answers it and starts a session
//!   when needed). A present `Origin` must be `public_url`'s or one of `trusted_origins`.
//!   Other content types get 415.
//! * **HTML pages** (`/auth/login`, `/auth/register`, `/auth/verify_email`, ...;
//!   docs/portal.md "HTML pages") are server-rendered forms over the same flows as the
//!   JSON API: one module holds the flows, the API handlers and the pages only adapt
//!   input and answers. Templates (pages, admin UI and mails) are built in and
//!   overridable from `templates_dir` through one loader, and every HTML answer gets one
//!   set of security headers (module `html`; the Content-Security-Policy differs only in
//!   `img-src` and `form-action`). Verification links open a page whose button POSTs the token, so a
//!   mail scanner prefetching the link cannot spend it.
//! * **Throttling** of password guesses in process: see [`throttle`]; mail a requester
//!   can trigger is limited per recipient and per client address
//!   ([`mail::MailLimit`]) without changing any answer.
//! * **Mail** goes through the [`Mailer`] trait; failures are logged and audited but never
//!   change an answer (that would reveal whether an account exists).
//! * The client address is the peer's (`ConnectInfo<SocketAddr>` or
//!   [`portcullis_web::ClientAddr`]); `X-Forwarded-For` is read only when the peer is one
//!   of `trusted_proxies`.
//! * **Forward auth** for reverse proxies (nginx `auth_request`, Traefik, Caddy) at
//!   `/auth/verify`: see [`forward_auth`] (a separate router, merged beside this one).
//! * **Administration** (permission `admin`, checked on every request): the admin API
//!   under `/auth/api/admin/` (users with search and pages, block/unblock, forced reset,
//!   delete; groups, memberships, permissions, tags, API tokens, the audit log with
//!   filters) and the admin UI under `/auth/admin/` (HTML forms, no JavaScript), both
//!   over one function per action; docs/admin.md has the contract.

pub mod config;
pub mod forward_auth;
pub mod mail;
pub mod mailer;
pub mod throttle;

mod admin;
mod api;
mod ctx;
mod envelope;
mod error;
mod flows;
mod html;
mod openapi;
mod pages;
mod proxy;
mod routes;
mod state;

pub use config::PortalConfig;
pub use error::PortalError;
pub use mailer::{BoxFuture, MailError, Mailer, OutgoingMail, RecordingMailer};
pub use routes::{OPENAPI_PATH, openapi_document, router};
pub use state::{PortalState, open_store};
pub use throttle::{Throttle, ThrottleConfig};
