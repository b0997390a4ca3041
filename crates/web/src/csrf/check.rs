//! [`CsrfCheck`]: the per-request decision (Pyramid's `check_csrf_origin` +
//! `check_csrf_token`).

use http::header::{CONTENT_TYPE, HOST, ORIGIN, REFERER};
use http::{HeaderMap, Method};

use super::error::{BadOrigin, BadToken, CsrfError};
use super::token;

/// CSRF settings (Pyramid's `set_default_csrf_options` and
/// `pyramid.csrf_trusted_origins`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsrfConfig {
    /// Origins trusted besides the request's own host: `host` or `host:port` (ports
    /// only when non-standard). A leading dot admits the domain and all its subdomains:
    /// `.example.com` admits `example.com` and `a.example.com`, never
    /// `example.com.evil.com`. A leading `https://` is ignored. Default: none.
    pub trusted_origins: Vec<String>,
    /// The header carrying the token. Default `X-CSRF-Token`.
    pub header_name: String,
    /// The form field carrying the token. Default `csrf_token`.
    pub field_name: String,
    /// Check `Origin`/`Referer` on unsafe requests. Default true.
    pub check_origin: bool,
    /// Let an https request with neither `Origin` nor `Referer` pass the origin check
    /// (Pyramid 2's `allow_no_origin`). Default false.
    pub allow_no_origin: bool,
    /// Methods that are never checked. Default `GET`, `HEAD`, `OPTIONS`, `TRACE`
    /// (RFC 7231's safe methods): such requests must not change state.
    pub safe_methods: Vec<Method>,
}

impl Default for CsrfConfig {
    fn default() -> CsrfConfig {
        CsrfConfig {
            trusted_origins: Vec::new(),
            header_name: "X-CSRF-Token".to_owned(),
            field_name: "csrf_token".to_owned(),
            check_origin: true,
            allow_no_origin: false,
            safe_methods: vec![Method::GET, Method::HEAD, Method::OPTIONS, Method::TRACE],
        }
    }
}

/// What the check needs to know about a request. No framework types beyond `http`.
#[derive(Debug, Clone, Copy)]
pub struct CsrfRequest<'a> {
    /// The method.
    pub method: &'a Method,
    /// The request headers (`Origin`, `Referer`, `Host`, the token header, `Content-Type`).
    pub headers: &'a HeaderMap,
    /// Whether the request arrived over https (as seen by the application, i.e. after a
    /// trusted proxy's `X-Forwarded-Proto` was applied).
    pub https: bool,
    /// The token form field from the decoded body, if the body was read.
    pub form_token: Option<&'a str>,
    /// The request's host (`host[:port]`); `None` reads the `Host` header. Set it when a
    /// trusted proxy rewrites the host.
    pub host: Option<&'a str>,
}

impl<'a> CsrfRequest<'a> {
    /// A request without a form field and with the host from the `Host` header.
    pub fn new(method: &'a Method, headers: &'a HeaderMap, https: bool) -> CsrfRequest<'a> {
        CsrfRequest {
            method,
            headers,
            https,
            form_token: None,
            host: None,
        }
    }

    /// Adds the form field's value.
    pub fn with_form_token(mut self, token: Option<&'a str>) -> CsrfRequest<'a> {
        self.form_token = token;
        self
    }

    /// Overrides the request's host.
    pub fn with_host(mut self, host: &'a str) -> CsrfRequest<'a> {
        self.host = Some(host);
        self
    }
}

/// Decides whether a request passes the CSRF checks.
///
/// For an unsafe method ([`CsrfConfig::safe_methods`] pass untouched):
///
/// 1. **Origin** ([`CsrfConfig::check_origin`]), as Pyramid's `check_csrf_origin`:
///    on https, the `Origin` header (its last value), or the `Referer` when there is
///    no `Origin`, must be an `https` URL whose `host[:port]` is the request's host or
///    matches a trusted origin; neither header at all fails ([`BadOrigin::Missing`])
///    unless [`CsrfConfig::allow_no_origin`]. On plain http Pyramid skips the check
///    (without TLS a network attacker can forge anything); Portcullis does the same for
///    a missing `Origin`, `Origin: null` and the `Referer`, but still refuses an `Origin`
///    naming a foreign host, which no same-site form sends.
/// 2. **Token**: the `X-CSRF-Token` header, or, when it is absent, the `csrf_token`
///    form field (only for `application/x-www-form-urlencoded` and
///    `multipart/form-data` bodies, never the query string), must equal the expected
///    token in constant time.
#[derive(Debug, Clone)]
pub struct CsrfCheck {
    config: CsrfConfig,
    trusted: Vec<String>,
}

/// Longest origin quoted in an error.
const MAX_QUOTED: usize = 120;

pub(super) fn quote(s: &str) -> String {
    let mut end = s.len().min(MAX_QUOTED);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}

/// `host[:port]` lowercased, with the default port for `https` removed.
pub(super) fn normalize_host(host: &str, https: bool) -> String {
    let h = host.trim().to_ascii_lowercase();
    let default = if https { ":443" } else { ":80" };
    match h.strip_suffix(default) {
        Some(stripped) if !stripped.is_empty() => stripped.to_owned(),
        _ => h,
    }
}

fn valid_host(h: &str) -> bool {
    !h.is_empty()
        && h.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b':' | b'[' | b']' | b'_')
        })
}

/// Splits `scheme://host[:port]/...` into the scheme and the lowercased authority.
/// Refuses user info (`https://example.com@evil.com`) and odd characters.
pub(super) fn parse_origin(value: &str) -> Option<(String, String)> {
    let (scheme, rest) = value.trim().split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    if authority.contains('@') || !valid_host(authority) {
        return None;
    }
    let scheme = scheme.to_ascii_lowercase();
    let https = scheme == "https";
    Some((scheme, normalize_host(authority, https)))
}

/// Pyramid's `is_same_domain`: a pattern with a leading dot admits the domain and
/// its subdomains, otherwise it must be equal.
pub(super) fn is_same_domain(host: &str, pattern: &str) -> bool {
    match pattern.strip_prefix('.') {
        Some(base) => host == base || host.ends_with(pattern),
        None => host == pattern,
    }
}

impl CsrfCheck {
    /// A checker with `config`.
    pub fn new(config: CsrfConfig) -> CsrfCheck {
        let trusted = config
            .trusted_origins
            .iter()
            .map(|o| {
                let o = o.trim();
                let o = o.strip_prefix("https://").unwrap_or(o);
                let o = o.strip_suffix('/').unwrap_or(o);
                normalize_host(o, true)
            })
            .filter(|o| !o.is_empty() && o != ".")
            .collect();
        CsrfCheck { config, trusted }
    }

    /// The configuration.
    pub fn config(&self) -> &CsrfConfig {
        &self.config
    }

    /// Whether `method` skips the checks.
    pub fn is_safe(&self, method: &Method) -> bool {
        self.config.safe_methods.contains(method)
    }

    /// Whether the body is a form whose token field counts.
    pub fn is_form(headers: &HeaderMap) -> bool {
        headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|ct| {
                let mime = ct.split(';').next().unwrap_or("").trim();
                mime.eq_ignore_ascii_case("application/x-www-form-urlencoded")
                    || mime.eq_ignore_ascii_case("multipart/form-data")
            })
            .unwrap_or(false)
    }

    /// Whether the layer must read the body to find the token: an unsafe method, no
    /// token header, and a form content type.
    pub fn needs_form_field(&self, method: &Method, headers: &HeaderMap) -> bool {
        !self.is_safe(method) && self.header_token(headers).is_none() && CsrfCheck::is_form(headers)
    }

    fn header_token<'h>(&self, headers: &'h HeaderMap) -> Option<&'h str> {
        headers
            .get(self.config.header_name.as_str())
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|t| !t.is_empty())
    }

    /// The token the request supplies: the header, else the form field (form bodies
    /// only).
    pub fn supplied_token<'r>(&self, req: &CsrfRequest<'r>) -> Option<&'r str> {
        self.header_token(req.headers).or_else(|| {
            if CsrfCheck::is_form(req.headers) {
                req.form_token.map(str::trim).filter(|t| !t.is_empty())
            } else {
                None
            }
        })
    }

    fn request_host(req: &CsrfRequest<'_>) -> Option<String> {
        let host = match req.host {
            Some(h) => h,
            None => req.headers.get(HOST)?.to_str().ok()?,
        };
        let h = normalize_host(host, req.https);
        valid_host(&h).then_some(h)
    }

    fn trusted_host(&self, host: &str, req: &CsrfRequest<'_>) -> bool {
        CsrfCheck::request_host(req).is_some_and(|own| own == host)
            || self.trusted.iter().any(|p| is_same_domain(host, p))
    }

    /// The origin check alone (step 1 above).
    pub fn check_origin(&self, req: &CsrfRequest<'_>) -> Result<(), CsrfError> {
        let bad = |b| Err(CsrfError::BadOrigin(b));
        let header = |name| {
            req.headers
                .get_all(name)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .next_back()
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        // Several values: the last one is the closest to us (Pyramid).
        let origin = header(ORIGIN).and_then(|o| o.split(' ').rfind(|s| !s.is_empty()));
        if !req.https {
            // Pyramid does not check plain http; we only refuse a foreign Origin.
            return match origin.filter(|o| *o != "null").map(parse_origin) {
                Some(Some((_, host))) if !self.trusted_host(&host, req) => {
                    bad(BadOrigin::Untrusted(quote(origin.unwrap_or_default())))
                }
                _ => Ok(()),
            };
        }
        let Some(value) = origin.or_else(|| header(REFERER)) else {
            return if self.config.allow_no_origin {
                Ok(())
            } else {
                bad(BadOrigin::Missing)
            };
        };
        let Some((scheme, host)) = parse_origin(value) else {
            return bad(BadOrigin::Malformed(quote(value)));
        };
        if scheme != "https" {
            return bad(BadOrigin::Insecure(quote(value)));
        }
        if !self.trusted_host(&host, req) {
            return bad(BadOrigin::Untrusted(quote(value)));
        }
        Ok(())
    }

    /// The token check alone (step 2 above): `expected` is the issued token
    /// ([`super::SessionCsrfStorage::token`] or [`super::CookieCsrfStorage::token`]).
    pub fn check_token(
        &self,
        req: &CsrfRequest<'_>,
        expected: Option<&str>,
    ) -> Result<(), CsrfError> {
        let Some(supplied) = self.supplied_token(req) else {
            return Err(CsrfError::BadToken(BadToken::Missing {
                header: self.config.header_name.clone(),
                field: self.config.field_name.clone(),
            }));
        };
        let Some(expected) = expected else {
            return Err(CsrfError::BadToken(BadToken::NotIssued));
        };
        if token::same(expected, supplied) {
            Ok(())
        } else {
            Err(CsrfError::BadToken(BadToken::Mismatch))
        }
    }

    /// The full check: safe methods pass; otherwise the origin (when enabled), then the
    /// token against `expected`.
    pub fn check(&self, req: &CsrfRequest<'_>, expected: Option<&str>) -> Result<(), CsrfError> {
        if self.is_safe(req.method) {
            return Ok(());
        }
        if self.config.check_origin {
            self.check_origin(req)?;
        }
        self.check_token(req, expected)
    }
}

/// The value of `field` in an `application/x-www-form-urlencoded` body (the first
/// occurrence), percent- and `+`-decoded; `None` when absent or not UTF-8.
pub fn form_field(body: &[u8], field: &str) -> Option<String> {
    body.split(|&b| b == b'&').find_map(|pair| {
        let (k, v) = match pair.iter().position(|&b| b == b'=') {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, &[][..]),
        };
        (decode(k)?.as_str() == field).then(|| decode(v)).flatten()
    })
}

fn decode(s: &[u8]) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < s.len() => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (hex(s[i + 1]), hex(s[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}
