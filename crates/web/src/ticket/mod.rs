//! Auth tickets compatible with Pyramid's `AuthTktCookieHelper` (the mod_auth_tkt format).
//!
//! A ticket is a cookie value
//!
//! ```text
//! hexdigest  %08x timestamp  quote(userid) "!"  [tokens "!"]  user_data
//! ```
//!
//! signed with Pyramid's double hash (not an HMAC):
//! `hex(H(hex(H(ip_timestamp ‖ secret ‖ userid ‖ 0 ‖ tokens ‖ 0 ‖ user_data)) ‖ secret))`
//! where `H` is the configured [`HashAlg`] (`sha512` by default) and `ip_timestamp` is
//! the four IPv4 octets plus the 32-bit big-endian timestamp, or for an IPv6 address its
//! text followed by the decimal timestamp (see [`ClientIp`]).
//!
//! Three layers, from low to high:
//!
//! * [`AuthTicket::cookie_value`] / [`parse_ticket`]: Pyramid's `AuthTicket` and
//!   `parse_ticket`, byte for byte.
//! * [`AuthTktCookie`]: Pyramid's `AuthTktCookieHelper`: [`remember`](AuthTktCookie::remember)
//!   returns the `Set-Cookie` header values, [`identify`](AuthTktCookie::identify)
//!   checks a cookie (timeout, reissue, typed userids), [`forget`](AuthTktCookie::forget)
//!   returns the deleting `Set-Cookie`.
//! * [`cookie_value_from_header`] / [`unquote_cookie_value`]: read the cookie back as
//!   WebOb does (a ticket with several tokens is sent quoted, `,` as `\054`).
//!
//! Time is always passed in (`now`, seconds since the epoch), so expiry is testable.
//! Nothing here depends on an HTTP library: the web layer passes the `Host` header and
//! the client address in a [`TicketRequest`] and sets the returned header values.
//!
//! # Example
//!
//! ```
//! use portcullis_web::ticket::{AuthTktCookie, ClientIp, TicketRequest, TicketSecret, UserId};
//!
//! let policy = AuthTktCookie::builder(TicketSecret::verbatim("seekrit")?)
//!     .timeout(Some(1200))
//!     .reissue_time(Some(120))
//!     .build()?;
//! let req = TicketRequest::new("example.com", ClientIp::parse("192.0.2.7")?);
//!
//! let headers = policy.remember(&UserId::from("alice"), &["editors", "staff"], &req, 1_700_000_000)?;
//! // WebOb-style quoting: the `,` between tokens is sent as `\054` inside quotes.
//! assert!(headers[0].starts_with("auth_tkt=\""));
//! assert!(headers[0].ends_with("; Path=/; secure; HttpOnly; SameSite=Lax"));
//!
//! // The browser sends it back; the web layer reads it from the Cookie header.
//! let cookie_header = headers[0].split(';').next().unwrap_or("");
//! let value = portcullis_web::ticket::cookie_value_from_header(cookie_header, "auth_tkt").unwrap();
//! let id = policy.identify(&value, &req, 1_700_000_060)?;
//! assert_eq!(id.userid, UserId::from("alice"));
//! assert_eq!(id.tokens, ["editors", "staff"]);
//! assert!(id.reissue.is_none());
//!
//! // 20 minutes later the ticket has expired.
//! assert!(policy.identify(&value, &req, 1_700_001_201).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Design decisions
//!
//! * **Wire compatibility first.** Pyramid's format is kept even where it is odd (the
//!   double hash, IPv6 as text, `!` in user data without tokens being unreadable), so a
//!   Portcullis service and a Pyramid application can share logins. Parsing is stricter
//!   than Pyramid only on inputs Pyramid never produces (see [`parse_ticket`]).
//! * **Safer defaults than Pyramid** for new deployments (`Secure`, `HttpOnly`, host-only
//!   cookie); [`AuthTktCookieBuilder::pyramid_defaults`] mirrors Pyramid exactly.
//! * **Secrets.** [`TicketSecret::derived`] derives the key from the
//!   [`crate::secret::MasterSecret`]; [`TicketSecret::verbatim`] takes a Pyramid
//!   application's secret as is (to share logins) and must then be used for tickets only.
//! * **Fast path.** Verification hashes into stack buffers and compares in constant
//!   time; the only allocation is the percent-decoded userid.

mod cookie;
mod digest;
mod error;
mod format;
mod ip;
mod policy;
mod secret;
#[cfg(test)]
mod tests;

pub use cookie::{SameSite, cookie_value_from_header, unquote_cookie_value};
pub use digest::HashAlg;
pub use error::{BadTicket, TicketError};
pub use format::{AuthTicket, MAX_TICKET_LEN, ParsedTicket, calculate_digest, parse_ticket, quote};
pub use ip::ClientIp;
pub use policy::{
    AuthTktCookie, AuthTktCookieBuilder, TicketIdentity, TicketRequest, UserId, is_valid_token,
};
pub use secret::TicketSecret;
