//! [`AuthTktCookie`]: Pyramid's `AuthTktCookieHelper` (remember, identify, forget).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use super::cookie::{self, CookieAttrs, SameSite};
use super::digest::HashAlg;
use super::error::{BadTicket, TicketError};
use super::format::{AuthTicket, parse_ticket};
use super::ip::ClientIp;
use super::secret::TicketSecret;

/// A userid as Pyramid's ticket policy stores it: the type is recorded in the user
/// data (`userid_type:int`, `userid_type:b64unicode`, `userid_type:b64str`) so
/// [`AuthTktCookie::identify`] returns the same type [`AuthTktCookie::remember`] got.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum UserId {
    /// An integer (`userid_type:int`, written in decimal). Python integers are
    /// unbounded; Portcullis reads those that fit an `i64`.
    Int(i64),
    /// Text (`userid_type:b64unicode`: UTF-8, base64, then percent-encoded).
    Text(String),
    /// Bytes (`userid_type:b64str`: base64, then percent-encoded).
    Bytes(Vec<u8>),
}

impl From<&str> for UserId {
    fn from(s: &str) -> Self {
        Self::Text(s.to_owned())
    }
}

impl From<String> for UserId {
    fn from(s: String) -> Self {
        Self::Text(s)
    }
}

impl From<i64> for UserId {
    fn from(i: i64) -> Self {
        Self::Int(i)
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Int(i) => write!(f, "{i}"),
            Self::Text(s) => f.write_str(s),
            Self::Bytes(b) => f.write_str(&String::from_utf8_lossy(b)),
        }
    }
}

/// What [`AuthTktCookie::identify`] found in a valid ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketIdentity {
    /// Issue time, seconds since the epoch.
    pub timestamp: u64,
    /// The userid, decoded per its `userid_type`.
    pub userid: UserId,
    /// The tokens (empty entries dropped).
    pub tokens: Vec<String>,
    /// The raw user data (e.g. `userid_type:int`).
    pub user_data: String,
    /// When `reissue_time` has passed: the `Set-Cookie` header values of a fresh
    /// ticket, to add to the response (Pyramid adds them in a response callback).
    pub reissue: Option<Vec<String>>,
}

/// What the ticket policy needs to know about the request (no HTTP types: the web
/// layer fills it in).
#[derive(Debug, Clone)]
pub struct TicketRequest<'a> {
    /// The `Host` header (or server name), port allowed: it decides the cookie domain.
    pub host: &'a str,
    /// The client address (used only with `include_ip`).
    pub remote_addr: ClientIp,
}

impl<'a> TicketRequest<'a> {
    /// A request from `remote_addr` to `host`.
    pub fn new(host: &'a str, remote_addr: ClientIp) -> Self {
        Self { host, remote_addr }
    }

    /// WebOb's `request.domain`: the host without its port.
    pub fn domain(&self) -> &'a str {
        let h = self.host;
        if h.contains(':') && !h.ends_with(']') {
            h.rsplit_once(':').map_or(h, |(d, _)| d)
        } else {
            h
        }
    }
}

/// Pyramid's `VALID_TOKEN`: `^[A-Za-z][A-Za-z0-9+_-]*$` (without Python's `$` also
/// accepting a trailing newline).
pub fn is_valid_token(token: &str) -> bool {
    let mut b = token.bytes();
    b.next().is_some_and(|c| c.is_ascii_alphabetic())
        && b.all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'_' | b'-'))
}

/// An auth ticket cookie policy: Pyramid's `AuthTktCookieHelper`.
///
/// Build with [`AuthTktCookie::builder`]. Cookies it sets are byte-identical to
/// Pyramid's (with the same options and clock), and it accepts Pyramid's tickets.
#[derive(Debug, Clone)]
pub struct AuthTktCookie {
    secret: TicketSecret,
    cookie_name: String,
    secure: bool,
    http_only: bool,
    same_site: Option<SameSite>,
    path: String,
    domain: Option<String>,
    parent_domain: bool,
    wild_domain: bool,
    timeout: Option<u64>,
    reissue_time: Option<u64>,
    max_age: Option<u64>,
    include_ip: bool,
    hashalg: HashAlg,
}

/// Configuration of an [`AuthTktCookie`].
///
/// | option | Portcullis default | Pyramid default |
/// |---|---|---|
/// | `cookie_name` | `auth_tkt` | `auth_tkt` |
/// | `secure` | **true** | false |
/// | `http_only` | **true** | false |
/// | `same_site` | `Lax` | `Lax` |
/// | `path` | `/` | `/` |
/// | `domain` | none | none |
/// | `parent_domain` | false | false |
/// | `wild_domain` | **false** (host-only cookie) | true (`Domain=<request host>`) |
/// | `timeout`, `reissue_time`, `max_age` | none | none |
/// | `include_ip` | false | false |
/// | `hashalg` | `sha512` | `sha512` |
///
/// [`AuthTktCookieBuilder::pyramid_defaults`] switches the three differing options to
/// Pyramid's values.
#[derive(Debug, Clone)]
pub struct AuthTktCookieBuilder {
    inner: AuthTktCookie,
}

impl AuthTktCookie {
    /// Starts a configuration with Portcullis's (safe) defaults.
    pub fn builder(secret: TicketSecret) -> AuthTktCookieBuilder {
        AuthTktCookieBuilder {
            inner: AuthTktCookie {
                secret,
                cookie_name: "auth_tkt".to_owned(),
                secure: true,
                http_only: true,
                same_site: Some(SameSite::Lax),
                path: "/".to_owned(),
                domain: None,
                parent_domain: false,
                wild_domain: false,
                timeout: None,
                reissue_time: None,
                max_age: None,
                include_ip: false,
                hashalg: HashAlg::Sha512,
            },
        }
    }

    /// The cookie name.
    pub fn cookie_name(&self) -> &str {
        &self.cookie_name
    }

    /// The digest algorithm.
    pub fn hashalg(&self) -> HashAlg {
        self.hashalg
    }

    fn ticket_ip<'r>(&self, req: &'r TicketRequest<'_>) -> &'r ClientIp {
        if self.include_ip {
            &req.remote_addr
        } else {
            &ClientIp::UNSPECIFIED
        }
    }

    /// Checks a ticket cookie value (already unquoted, see
    /// [`super::cookie_value_from_header`]) like Pyramid's `identify`: digest, then
    /// `timeout` (expired when `timestamp + timeout < now`), then decodes the userid
    /// per `userid_type`, and when `reissue_time` has passed (`now - timestamp >
    /// reissue_time`) includes fresh `Set-Cookie` values in
    /// [`TicketIdentity::reissue`].
    ///
    /// Where Pyramid raises on an undecodable `userid_type` value (an internal error),
    /// this returns [`BadTicket::UseridDecode`].
    pub fn identify(
        &self,
        cookie_value: &str,
        req: &TicketRequest<'_>,
        now: u64,
    ) -> Result<TicketIdentity, BadTicket> {
        let ip = self.ticket_ip(req);
        let t = parse_ticket(&self.secret, cookie_value, ip, self.hashalg)?;
        let timestamp = t.timestamp();
        if let Some(timeout) = self.timeout.filter(|&t| t != 0)
            && u128::from(timestamp) + u128::from(timeout) < u128::from(now)
        {
            return Err(BadTicket::Expired {
                timestamp,
                timeout,
                now,
            });
        }
        let user_data = t.user_data();
        let mut userid = Decoded::Text(t.userid().into_owned());
        for datum in user_data.split('|').filter(|d| !d.is_empty()) {
            if let Some(kind) = datum.strip_prefix("userid_type:") {
                userid = userid.decode(kind).ok_or_else(|| BadTicket::UseridDecode {
                    userid_type: kind.to_owned(),
                })?;
            }
        }
        let userid = userid.into_userid();
        let tokens: Vec<String> = t.tokens().map(str::to_owned).collect();
        let reissue = match self.reissue_time {
            Some(r) if i128::from(now) - i128::from(timestamp) > i128::from(r) => {
                let toks: Vec<&str> = tokens.iter().map(String::as_str).collect();
                self.remember_max_age(&userid, &toks, req, now, self.max_age)
                    .ok()
            }
            _ => None,
        };
        Ok(TicketIdentity {
            timestamp,
            userid,
            tokens,
            user_data: user_data.to_owned(),
            reissue,
        })
    }

    /// Issues a ticket for `userid` with `tokens` at time `now`: the `Set-Cookie`
    /// header values (one), as Pyramid's `remember` returns them.
    pub fn remember(
        &self,
        userid: &UserId,
        tokens: &[&str],
        req: &TicketRequest<'_>,
        now: u64,
    ) -> Result<Vec<String>, TicketError> {
        self.remember_max_age(userid, tokens, req, now, self.max_age)
    }

    /// [`AuthTktCookie::remember`] with a `max_age` overriding the configured one
    /// (`None`: a browser-session cookie).
    pub fn remember_max_age(
        &self,
        userid: &UserId,
        tokens: &[&str],
        req: &TicketRequest<'_>,
        now: u64,
        max_age: Option<u64>,
    ) -> Result<Vec<String>, TicketError> {
        if let Some(bad) = tokens.iter().find(|t| !is_valid_token(t)) {
            return Err(TicketError::InvalidToken((*bad).to_owned()));
        }
        let (encoded, kind) = match userid {
            UserId::Int(i) => (i.to_string(), "int"),
            UserId::Text(s) => (B64.encode(s.as_bytes()), "b64unicode"),
            UserId::Bytes(b) => (B64.encode(b), "b64str"),
        };
        let user_data = format!("userid_type:{kind}");
        let ticket = AuthTicket {
            secret: &self.secret,
            userid: &encoded,
            ip: self.ticket_ip(req),
            tokens,
            user_data: &user_data,
            time: now,
            hashalg: self.hashalg,
        };
        let value = ticket.cookie_value();
        if value.len() > 4093 {
            return Err(TicketError::CookieTooLong(value.len()));
        }
        Ok(vec![cookie::set_cookie(
            &self.attrs(req),
            Some(&value),
            max_age,
            now,
        )])
    }

    /// `Set-Cookie` header values that delete the ticket cookie (Pyramid's `forget`).
    pub fn forget(&self, req: &TicketRequest<'_>) -> Vec<String> {
        vec![cookie::set_cookie(&self.attrs(req), None, None, 0)]
    }

    /// The cookie attributes for this request; Pyramid's `_get_cookies` domain rules:
    /// a configured `domain` wins; else `parent_domain` drops the first label when the
    /// host has more than one dot; else `wild_domain` uses the host; else no `Domain`.
    fn attrs<'s>(&'s self, req: &TicketRequest<'s>) -> CookieAttrs<'s> {
        let domain = match self.domain.as_deref().filter(|d| !d.is_empty()) {
            Some(d) => Some(d),
            None => {
                let cur = req.domain();
                if self.parent_domain && cur.matches('.').count() > 1 {
                    cur.split_once('.').map(|(_, parent)| parent)
                } else if self.wild_domain {
                    Some(cur)
                } else {
                    None
                }
            }
        };
        CookieAttrs {
            name: &self.cookie_name,
            path: &self.path,
            domain,
            secure: self.secure,
            http_only: self.http_only,
            same_site: self.same_site,
        }
    }
}

/// A userid while its `userid_type` decoders are applied in order (as Pyramid does).
enum Decoded {
    Text(String),
    Bytes(Vec<u8>),
    Int(i64),
}

impl Decoded {
    fn decode(self, kind: &str) -> Option<Self> {
        Some(match (kind, self) {
            ("int", Self::Text(s)) => Self::Int(parse_py_int(s.as_bytes())?),
            ("int", Self::Bytes(b)) => Self::Int(parse_py_int(&b)?),
            ("int", v @ Self::Int(_)) => v,
            // Pyramid's bw-compat 'unicode' decoder only works on bytes.
            ("unicode", v @ Self::Text(_)) => v,
            ("unicode", Self::Bytes(b)) => Self::Text(String::from_utf8(b).ok()?),
            ("b64unicode", Self::Text(s)) => {
                Self::Text(String::from_utf8(B64.decode(s).ok()?).ok()?)
            }
            ("b64unicode", Self::Bytes(b)) => {
                Self::Text(String::from_utf8(B64.decode(b).ok()?).ok()?)
            }
            ("b64str", Self::Text(s)) => Self::Bytes(B64.decode(s).ok()?),
            ("b64str", Self::Bytes(b)) => Self::Bytes(B64.decode(b).ok()?),
            ("unicode" | "b64unicode" | "b64str", Self::Int(_)) => return None,
            // Unknown types leave the userid as it is.
            (_, v) => v,
        })
    }

    fn into_userid(self) -> UserId {
        match self {
            Self::Text(s) => UserId::Text(s),
            Self::Bytes(b) => UserId::Bytes(b),
            Self::Int(i) => UserId::Int(i),
        }
    }
}

/// Python's `int(s)` for base 10: surrounding whitespace, an optional sign, digits
/// with single `_` between them.
fn parse_py_int(s: &[u8]) -> Option<i64> {
    let s = s.trim_ascii();
    let (neg, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, s),
    };
    if digits.first().is_none_or(|c| !c.is_ascii_digit())
        || digits.last().is_none_or(|c| !c.is_ascii_digit())
        || digits.windows(2).any(|w| w == b"__")
    {
        return None;
    }
    let mut v: i64 = 0;
    for &c in digits {
        if c == b'_' {
            continue;
        }
        if !c.is_ascii_digit() {
            return None;
        }
        let d = i64::from(c - b'0');
        v = v.checked_mul(10)?;
        v = if neg {
            v.checked_sub(d)?
        } else {
            v.checked_add(d)?
        };
    }
    Some(v)
}

impl AuthTktCookieBuilder {
    /// Pyramid's defaults for the options where Portcullis is stricter: `secure`
    /// false, `http_only` false, `wild_domain` true. Use only to mirror an existing
    /// Pyramid configuration.
    pub fn pyramid_defaults(mut self) -> Self {
        self.inner.secure = false;
        self.inner.http_only = false;
        self.inner.wild_domain = true;
        self
    }

    /// The cookie name (default `auth_tkt`).
    pub fn cookie_name(mut self, name: impl Into<String>) -> Self {
        self.inner.cookie_name = name.into();
        self
    }

    /// Send the cookie over HTTPS only (`secure`).
    pub fn secure(mut self, on: bool) -> Self {
        self.inner.secure = on;
        self
    }

    /// Hide the cookie from JavaScript (`HttpOnly`).
    pub fn http_only(mut self, on: bool) -> Self {
        self.inner.http_only = on;
        self
    }

    /// The `SameSite` attribute; `None` leaves it out.
    pub fn same_site(mut self, same_site: Option<SameSite>) -> Self {
        self.inner.same_site = same_site;
        self
    }

    /// The cookie path (default `/`).
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.inner.path = path.into();
        self
    }

    /// A fixed cookie domain (overrides `parent_domain` and `wild_domain`).
    pub fn domain(mut self, domain: Option<String>) -> Self {
        self.inner.domain = domain;
        self
    }

    /// Set the cookie for the parent domain of the request host (`www.example.com` →
    /// `example.com`) when the host has more than one dot.
    pub fn parent_domain(mut self, on: bool) -> Self {
        self.inner.parent_domain = on;
        self
    }

    /// Set `Domain=<request host>` (the cookie then also reaches subdomains).
    pub fn wild_domain(mut self, on: bool) -> Self {
        self.inner.wild_domain = on;
        self
    }

    /// Seconds after issue when a ticket stops being accepted (`None` or 0: never).
    pub fn timeout(mut self, secs: Option<u64>) -> Self {
        self.inner.timeout = secs;
        self
    }

    /// Seconds after issue when [`AuthTktCookie::identify`] reissues the ticket
    /// (0: on every request).
    pub fn reissue_time(mut self, secs: Option<u64>) -> Self {
        self.inner.reissue_time = secs;
        self
    }

    /// The cookie's `Max-Age` (and `expires`); `None`: a browser-session cookie.
    pub fn max_age(mut self, secs: Option<u64>) -> Self {
        self.inner.max_age = secs;
        self
    }

    /// Bind tickets to the client address.
    pub fn include_ip(mut self, on: bool) -> Self {
        self.inner.include_ip = on;
        self
    }

    /// The digest algorithm (default `sha512`).
    pub fn hashalg(mut self, alg: HashAlg) -> Self {
        self.inner.hashalg = alg;
        self
    }

    /// Checks the configuration: a valid cookie name, and `SameSite=None` only with
    /// `secure` (WebOb refuses it otherwise).
    pub fn build(self) -> Result<AuthTktCookie, TicketError> {
        let c = self.inner;
        if !cookie::is_valid_cookie_name(&c.cookie_name) {
            return Err(TicketError::InvalidCookieName(c.cookie_name));
        }
        if c.same_site == Some(SameSite::None) && !c.secure {
            return Err(TicketError::SameSiteNoneWithoutSecure);
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_int_syntax() {
        assert_eq!(parse_py_int(b"42"), Some(42));
        assert_eq!(parse_py_int(b" -1_000 "), Some(-1000));
        assert_eq!(parse_py_int(b"+007"), Some(7));
        assert_eq!(parse_py_int(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_py_int(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b""[..],
            b"-",
            b"_1",
            b"1_",
            b"1__0",
            b"0x10",
            b"1.0",
            b"9223372036854775808",
        ] {
            assert_eq!(parse_py_int(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn tokens() {
        for ok in ["a", "editors", "Z9+_-x"] {
            assert!(is_valid_token(ok), "{ok}");
        }
        for bad in ["", "9a", "_a", "a,b", "a!", "a b", "caf\u{e9}", "a\n"] {
            assert!(!is_valid_token(bad), "{bad:?}");
        }
    }

    #[test]
    fn request_domain_like_webob() {
        let r = |h| TicketRequest::new(h, ClientIp::UNSPECIFIED).domain();
        assert_eq!(r("example.com:8080"), "example.com");
        assert_eq!(r("example.com"), "example.com");
        assert_eq!(r("[::1]:8080"), "[::1]");
        assert_eq!(r("[::1]"), "[::1]");
    }
}
