//! Where the expected token lives: in the session ([`SessionCsrfStorage`]) or in a
//! signed cookie ([`CookieCsrfStorage`]).

use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::token;
use crate::secret::{MasterSecret, Purpose, SecretError, SubsystemKey};
use crate::session::cookie::{self, Attrs};
use crate::session::{CSRF_TOKEN_KEY, SameSite, Session};

/// CSRF tokens kept in the server-side session, under [`CSRF_TOKEN_KEY`] (Pyramid's
/// `SessionCSRFStoragePolicy`). The default and the strongest: the token never leaves
/// the server except in the pages it renders, and it dies with the session.
/// [`crate::session::SessionManager::remember`] drops it on login, so a token seen
/// before the login is useless after it.
///
/// [`SessionCsrfStorage::get_token`] and [`SessionCsrfStorage::new_token`] change the
/// session; save it afterwards.
#[derive(Debug, Clone, Copy, Default)]
pub struct SessionCsrfStorage;

impl SessionCsrfStorage {
    /// The session storage.
    pub fn new() -> SessionCsrfStorage {
        SessionCsrfStorage
    }

    /// The session's token, if one was issued.
    pub fn token<'s>(&self, session: &'s Session) -> Option<&'s str> {
        session.get(CSRF_TOKEN_KEY).and_then(|v| v.as_str())
    }

    /// The current token, or a new one stored in the session (Pyramid's `get_csrf_token`).
    pub fn get_token(&self, session: &mut Session) -> Result<String, SecretError> {
        if let Some(t) = self.token(session) {
            return Ok(t.to_owned());
        }
        self.new_token(session)
    }

    /// Replaces the token by a new one (Pyramid's `new_csrf_token`).
    pub fn new_token(&self, session: &mut Session) -> Result<String, SecretError> {
        let t = token::generate()?;
        session.insert(CSRF_TOKEN_KEY, t.clone());
        Ok(t)
    }

    /// Whether `supplied` is the session's token (constant time; false when none was
    /// issued or there is no session).
    pub fn check_token(&self, session: Option<&Session>, supplied: &str) -> bool {
        session
            .and_then(|s| self.token(s))
            .is_some_and(|t| token::same(t, supplied))
    }
}

/// The default name of the CSRF cookie (Pyramid's).
pub const DEFAULT_CSRF_COOKIE_NAME: &str = "csrf_token";

/// A token to render, and the `Set-Cookie` to send when it is new.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieToken {
    /// The token for forms (`csrf_token` field) and the `X-CSRF-Token` header.
    pub token: String,
    /// `Some` when a new cookie must be sent.
    pub set_cookie: Option<String>,
}

/// Double-submit CSRF tokens without a session (Pyramid's `CookieCSRFStoragePolicy`),
/// hardened: the cookie holds `<token>.<mac>`, where the MAC is HMAC-SHA256 with the
/// CSRF key derived from the [`MasterSecret`] ([`Purpose::Csrf`]) over the token and a
/// *binding* (the user id, or `""` for anonymous visitors).
///
/// A request passes when the cookie's MAC verifies for the current binding and the
/// submitted token equals the cookie's token (both in constant time). Plain double
/// submit trusts any cookie; here a cookie planted by a sibling subdomain or a network
/// attacker is refused unless it was minted by this server *for this binding*, and a
/// token issued before a login stops working after it (the binding changed).
///
/// The cookie is not `HttpOnly` by default (as in Pyramid), so scripts can read the
/// token part (before the `.`) for `X-CSRF-Token`; reading it gives an attacker nothing
/// a script on the page could not already do.
#[derive(Debug, Clone)]
pub struct CookieCsrfStorage {
    key: SubsystemKey,
    cookie_name: String,
    secure: bool,
    http_only: bool,
    same_site: SameSite,
    path: String,
    domain: Option<String>,
    max_age: Option<u64>,
}

const MAC_LABEL: &[u8] = b"portcullis-csrf-cookie/v1";

impl CookieCsrfStorage {
    /// Cookie storage keyed with `master`'s CSRF key. Cookie `csrf_token`, `Secure`,
    /// `SameSite=Lax`, `Path=/`, no `Max-Age` (a browser-session cookie).
    pub fn new(master: &MasterSecret) -> CookieCsrfStorage {
        CookieCsrfStorage {
            key: master.derive(&Purpose::Csrf),
            cookie_name: DEFAULT_CSRF_COOKIE_NAME.to_owned(),
            secure: true,
            http_only: false,
            same_site: SameSite::Lax,
            path: "/".to_owned(),
            domain: None,
            max_age: None,
        }
    }

    /// The cookie name.
    pub fn cookie_name(mut self, name: impl Into<String>) -> CookieCsrfStorage {
        self.cookie_name = name.into();
        self
    }

    /// Drops `Secure` (local `http://` development only).
    pub fn dangerous_insecure_cookies(mut self) -> CookieCsrfStorage {
        self.secure = false;
        self
    }

    /// Adds `HttpOnly` (when tokens are only rendered server-side).
    pub fn http_only(mut self, on: bool) -> CookieCsrfStorage {
        self.http_only = on;
        self
    }

    /// The `SameSite` attribute.
    pub fn same_site(mut self, same_site: SameSite) -> CookieCsrfStorage {
        self.same_site = same_site;
        self
    }

    /// The `Path` attribute.
    pub fn path(mut self, path: impl Into<String>) -> CookieCsrfStorage {
        self.path = path.into();
        self
    }

    /// A `Domain` attribute.
    pub fn domain(mut self, domain: impl Into<String>) -> CookieCsrfStorage {
        self.domain = Some(domain.into());
        self
    }

    /// A `Max-Age`, in seconds.
    pub fn max_age(mut self, secs: u64) -> CookieCsrfStorage {
        self.max_age = Some(secs);
        self
    }

    fn attrs(&self) -> Attrs<'_> {
        Attrs {
            path: &self.path,
            domain: self.domain.as_deref(),
            secure: self.secure,
            http_only: self.http_only,
            same_site: self.same_site,
        }
    }

    fn mac(&self, binding: &str, token: &str) -> Hmac<Sha256> {
        // HMAC zero-pads keys shorter than the block (64 bytes): padding the 32-byte key
        // ourselves gives the same MAC through the infallible fixed-size constructor.
        let mut block = Zeroizing::new([0u8; 64]);
        block[..32].copy_from_slice(self.key.as_bytes());
        let mut mac = <Hmac<Sha256> as KeyInit>::new(&(*block).into());
        mac.update(MAC_LABEL);
        mac.update(&(binding.len() as u64).to_be_bytes());
        mac.update(binding.as_bytes());
        mac.update(token.as_bytes());
        mac
    }

    fn cookie_value(&self, binding: &str, token: &str) -> String {
        let tag = self.mac(binding, token).finalize().into_bytes();
        let mut s = String::with_capacity(token.len() + 44);
        s.push_str(token);
        s.push('.');
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode_string(tag, &mut s);
        s
    }

    /// The token of the first cookie whose MAC verifies for `binding`.
    pub fn token(&self, cookie_header: Option<&str>, binding: &str) -> Option<String> {
        let header = cookie_header?;
        cookie::values(header, &self.cookie_name, 4)
            .into_iter()
            .find_map(|v| {
                let (token, tag) = v.split_once('.')?;
                if token.len() != 43 {
                    return None;
                }
                let tag = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(tag)
                    .ok()?;
                self.mac(binding, token)
                    .verify_slice(&tag)
                    .ok()
                    .map(|()| token.to_owned())
            })
    }

    /// The current token, or a new one with its `Set-Cookie` (Pyramid's `get_csrf_token`).
    pub fn get_token(
        &self,
        cookie_header: Option<&str>,
        binding: &str,
    ) -> Result<CookieToken, SecretError> {
        match self.token(cookie_header, binding) {
            Some(token) => Ok(CookieToken {
                token,
                set_cookie: None,
            }),
            None => self.new_token(binding),
        }
    }

    /// A new token and its `Set-Cookie` (Pyramid's `new_csrf_token`).
    pub fn new_token(&self, binding: &str) -> Result<CookieToken, SecretError> {
        let token = token::generate()?;
        let value = self.cookie_value(binding, &token);
        let set_cookie = cookie::set_cookie(&self.cookie_name, &value, self.max_age, &self.attrs());
        Ok(CookieToken {
            token,
            set_cookie: Some(set_cookie),
        })
    }

    /// Whether `supplied` equals the token of a valid cookie for `binding`.
    pub fn check_token(&self, cookie_header: Option<&str>, binding: &str, supplied: &str) -> bool {
        self.token(cookie_header, binding)
            .is_some_and(|t| token::same(&t, supplied))
    }

    /// The `Set-Cookie` that removes the CSRF cookie.
    pub fn expire_cookie(&self) -> String {
        cookie::expire_cookie(&self.cookie_name, &self.attrs())
    }
}
