//! # portcullis-web
//!
//! The web building blocks of Portcullis. This crate holds the parts that speak HTTP
//! conventions without depending on an HTTP framework, so they can be reused by any
//! server integration:
//!
//! | module | what |
//! |---|---|
//! | [`ticket`] | auth ticket cookies byte-compatible with Pyramid's `AuthTktCookieHelper` (mod_auth_tkt) |
//! | [`secret`] | the master secret and HKDF-derived per-subsystem keys |
//! | [`policy`] | [`SecurityPolicy`]: tickets, Basic, Bearer, chains (identify, remember, forget) |
//! | [`groupfinder`] | [`Groupfinder`]: from a proven user id to principals (the store, or a function) |
//! | [`authorizer`] | [`Authorizer`]: requirements by path, default permission, denial views, debug logging |
//! | [`layer`] | [`AuthLayer`]: identifies every request and enforces its path's requirements |
//! | [`guard`] | route/router guards: `permission`, `permission_on`, `require`, `allow_only` |
//! | [`extract`] | extractors: [`RequestIdentity`], `Authenticated`, `Authz` (imperative checks) |
//! | [`denial`] | 401 / login redirect / 403 views, safe `came_from` redirects |
//! | [`session`] | server-side sessions (SQL or Redis): fixation-safe login, idle/absolute expiry, revoke all of a user's sessions |
//! | [`csrf`] | CSRF tokens (session or signed cookie) and Origin checks with Pyramid's semantics |
//! | [`csrf_layer`] | [`CsrfLayer`]: automatic checks of unsafe requests, [`CsrfToken`] for forms |
//!
//! # Example
//!
//! ```
//! use portcullis_web::secret::MasterSecret;
//! use portcullis_web::ticket::{AuthTktCookie, ClientIp, TicketRequest, TicketSecret, UserId};
//!
//! let master = MasterSecret::new(b"a 32+ byte secret from the config file".to_vec())?;
//! let policy = AuthTktCookie::builder(TicketSecret::derived(&master)).build()?;
//! let req = TicketRequest::new("example.com", ClientIp::UNSPECIFIED);
//! let set_cookie = policy.remember(&UserId::Int(42), &[], &req, 1_700_000_000)?;
//! assert!(set_cookie[0].starts_with("auth_tkt="));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Design decisions
//!
//! * **One master secret, one key per subsystem** (HKDF-SHA256), following Pyramid's
//!   admonishment against sharing a secret between signing subsystems; see [`secret`].
//! * **No framework types** in [`ticket`] or [`secret`]: time, client address and host
//!   are passed in, header values come back as strings.
#![forbid(unsafe_code)]

pub mod authorizer;
pub mod csrf;
pub mod csrf_layer;
pub mod denial;
pub mod extract;
pub mod groupfinder;
pub mod guard;
pub mod identity;
pub mod layer;
pub mod policy;
pub mod secret;
pub mod session;
pub mod ticket;

pub use authorizer::{Authorizer, AuthorizerBuilder, NO_PERMISSION_REQUIRED};
pub use csrf_layer::{CsrfLayer, CsrfToken};
pub use denial::{Denial, DenialKind};
pub use groupfinder::Groupfinder;
pub use identity::RequestIdentity;
pub use layer::{AuthLayer, ClientAddr};
pub use policy::{BasicPolicy, BearerPolicy, Claim, PolicyChain, SecurityPolicy, TicketPolicy};

/// The errors of this crate, one variant per module error (match on the module's
/// enum for details).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Master secret or key derivation ([`secret::SecretError`]).
    #[error(transparent)]
    Secret(#[from] secret::SecretError),
    /// A ticket cannot be issued or a ticket policy is misconfigured ([`ticket::TicketError`]).
    #[error(transparent)]
    Ticket(#[from] ticket::TicketError),
    /// A presented ticket was refused ([`ticket::BadTicket`]).
    #[error(transparent)]
    BadTicket(#[from] ticket::BadTicket),
    /// A session backend or configuration failed ([`session::SessionError`]).
    #[error(transparent)]
    Session(#[from] session::SessionError),
    /// A request failed the CSRF check ([`csrf::CsrfError`]).
    #[error(transparent)]
    Csrf(#[from] csrf::CsrfError),
}
