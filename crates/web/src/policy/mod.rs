//! Security policies: who does this request claim to be, and how to remember or forget it.
//!
//! A [`SecurityPolicy`] reads a request and returns a [`Claim`] (a user id the request carries
//! proof for: a valid ticket, a session, a password, an API token). The claim is not trusted
//! blindly: the [`crate::Authorizer`] passes it through the [`crate::Groupfinder`], so a user
//! who was deleted or blocked is anonymous at once, whatever their cookie says (seed 000's
//! "don't blindly trust the cookie").
//!
//! | policy | reads | remember / forget |
//! |---|---|---|
//! | [`TicketPolicy`] | Pyramid-compatible `auth_tkt` cookie | sets / expires the cookie |
//! | [`BasicPolicy`] | `Authorization: Basic` checked against the store | nothing (the client resends) |
//! | [`BearerPolicy`] | `Authorization: Bearer` API token from the store | nothing |
//! | [`PolicyChain`] | the first of several that identifies the request wins | remember with the first, forget with all |

mod basic;
mod bearer;
mod chain;
mod ticket;

use std::future::Future;
use std::pin::Pin;

use http::HeaderValue;
use http::request::Parts;

pub use basic::BasicPolicy;
pub use bearer::BearerPolicy;
pub use chain::PolicyChain;
pub use ticket::TicketPolicy;

/// A boxed, sendable future (policies are used as trait objects).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a request proved: the user id, and headers to add to the response (a reissued ticket).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The user id the request carries proof for.
    pub userid: String,
    /// Which policy identified it (for logs): `"ticket"`, `"basic"`, `"bearer"`, `"session"`.
    pub via: &'static str,
    /// `Set-Cookie` (or other) headers to add to the response, e.g. a reissued ticket.
    pub response_headers: Vec<(http::HeaderName, HeaderValue)>,
}

impl Claim {
    /// A claim without response headers.
    pub fn new(userid: impl Into<String>, via: &'static str) -> Claim {
        Claim {
            userid: userid.into(),
            via,
            response_headers: Vec::new(),
        }
    }
}

/// A failure of the machinery (a database that is down), not of the credentials: wrong
/// credentials are simply "no claim".
#[derive(Debug, thiserror::Error)]
#[error("{policy} policy failed: {message}")]
pub struct PolicyError {
    /// The policy's name.
    pub policy: &'static str,
    /// What went wrong.
    pub message: String,
}

/// Reads identities from requests and writes them into responses.
///
/// Implement it for your own mechanism; the built-in policies are listed in the module docs.
pub trait SecurityPolicy: Send + Sync + 'static {
    /// A short name for logs (`"ticket"`).
    fn name(&self) -> &'static str;

    /// The user id the request proves, if any.
    fn identify<'a>(&'a self, req: &'a Parts) -> BoxFuture<'a, Result<Option<Claim>, PolicyError>>;

    /// Headers that make later requests identify as `userid` (Pyramid's `remember`).
    fn remember<'a>(
        &'a self,
        req: &'a Parts,
        userid: &'a str,
    ) -> BoxFuture<'a, Result<Vec<(http::HeaderName, HeaderValue)>, PolicyError>>;

    /// Headers that end the identification (Pyramid's `forget`).
    fn forget<'a>(
        &'a self,
        req: &'a Parts,
    ) -> BoxFuture<'a, Result<Vec<(http::HeaderName, HeaderValue)>, PolicyError>>;

    /// A `WWW-Authenticate` challenge for 401 answers to API clients (Basic, Bearer).
    fn challenge(&self) -> Option<HeaderValue> {
        None
    }
}

/// The `Authorization` header's credentials for `scheme` (case-insensitive), if present.
pub(crate) fn authorization<'a>(req: &'a Parts, scheme: &str) -> Option<&'a str> {
    let value = req
        .headers
        .get(http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (s, rest) = value.split_once(' ')?;
    s.eq_ignore_ascii_case(scheme).then(|| rest.trim())
}
