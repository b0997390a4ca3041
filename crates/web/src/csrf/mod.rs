//! Cross-site request forgery (CSRF) protection with Pyramid's semantics.
//!
//! A forged request comes from another site's page: the browser attaches the user's
//! cookies, so the cookie alone cannot tell the user's own form from the attacker's.
//! Two independent checks stop it, both run by [`CsrfCheck`] on every request whose
//! method is not safe (`GET`, `HEAD`, `OPTIONS`, `TRACE` pass):
//!
//! * **A secret token** the site rendered into its own pages (hidden field
//!   `csrf_token`, or header `X-CSRF-Token` for scripts): another site cannot read it
//!   (same-origin policy), so it cannot submit it. Tokens are 256 random bits,
//!   compared in constant time, and kept either in the server-side session
//!   ([`SessionCsrfStorage`], the default) or in a cookie MACed with the CSRF key
//!   derived from the master secret ([`CookieCsrfStorage`], for pages without a
//!   session). A missing or wrong token is [`CsrfError::BadToken`].
//! * **The origin**: on https, the `Origin` header (or the `Referer` when there is
//!   none) must be `https` and name the request's own host or a configured trusted
//!   origin (`.example.com` admits its subdomains, `example.com.evil.com` is refused).
//!   This also stops an active network attacker who injects a form into a plain-http
//!   page of the same site. Failures are [`CsrfError::BadOrigin`].
//!
//! Both errors mean "answer 400"; [`CsrfError::kind`] says which. The HTTP layer
//! (routes that opt out, reading the form body) lives in the crate's tower layer; this
//! module needs only `http` types.
//!
//! Deviations from Pyramid, all stricter: on plain http an `Origin` naming a foreign
//! host is refused (Pyramid checks nothing on http; a missing `Origin` still passes, as
//! documented there); the cookie storage MACs its token and binds it to the user;
//! default ports are normalized and origins with user info are refused.
//!
//! # Example
//!
//! ```
//! use http::{HeaderMap, HeaderValue, Method};
//! use portcullis_web::csrf::{CsrfCheck, CsrfConfig, CsrfFailure, CsrfRequest};
//!
//! let check = CsrfCheck::new(CsrfConfig {
//!     trusted_origins: vec![".example.com".into()],
//!     ..CsrfConfig::default()
//! });
//! let issued = "pretend-this-came-from-SessionCsrfStorage";
//! let mut headers = HeaderMap::new();
//! headers.insert("host", HeaderValue::from_static("www.example.com"));
//! headers.insert("origin", HeaderValue::from_static("https://app.example.com"));
//! headers.insert("x-csrf-token", HeaderValue::from_static("pretend-this-came-from-SessionCsrfStorage"));
//! let post = Method::POST;
//! assert!(check.check(&CsrfRequest::new(&post, &headers, true), Some(issued)).is_ok());
//!
//! headers.insert("origin", HeaderValue::from_static("https://example.com.evil.com"));
//! let err = check.check(&CsrfRequest::new(&post, &headers, true), Some(issued)).unwrap_err();
//! assert_eq!(err.kind(), CsrfFailure::BadOrigin);
//! ```

mod check;
mod error;
mod storage;
#[cfg(test)]
mod tests;
mod token;

pub use check::{CsrfCheck, CsrfConfig, CsrfRequest, form_field};
pub use error::{BadOrigin, BadToken, CsrfError, CsrfFailure};
pub use storage::{CookieCsrfStorage, CookieToken, DEFAULT_CSRF_COOKIE_NAME, SessionCsrfStorage};
pub use token::CSRF_TOKEN_BYTES;
