//! The demo's CSRF protection: a signed double-submit cookie plus an `Origin` check.
//!
//! Minimal on purpose (`portcullis-web`'s CSRF module was not available when the demo
//! was written; swap it in when it is). Every form carries a hidden `csrf_token` field; the
//! same token sits in a `csrf_token` cookie as `<token>.<mac>`, where the MAC is
//! HMAC-SHA256 under the CSRF key derived from the master secret ([`Purpose::Csrf`]), so a
//! cookie planted by someone else (a sibling subdomain, a network attacker on plain HTTP)
//! is refused. The cookie is `HttpOnly; SameSite=Strict` (the pages render the token, no
//! script needs it) and `Secure` unless the demo runs on a loopback address over plain
//! HTTP. A state-changing request passes when the cookie's MAC verifies and the submitted
//! token equals the cookie's token, both compared in constant time, and when its `Origin`
//! header, if any, names this host.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit as _, Mac as _};
use http::HeaderMap;
use http::header::{COOKIE, HOST, ORIGIN};
use portcullis_web::secret::{MasterSecret, Purpose, SubsystemKey};
use portcullis_web::ticket::cookie_value_from_header;
use sha2::Sha256;
use subtle::ConstantTimeEq as _;

/// The cookie that holds `<token>.<mac>` (Pyramid's default CSRF cookie name).
pub(crate) const COOKIE_NAME: &str = "csrf_token";

/// Random bytes per token (256 bits).
const TOKEN_BYTES: usize = 32;

/// Domain separation for the MAC.
const MAC_LABEL: &[u8] = b"portcullis-serve-csrf/v1\0";

/// Why a state-changing request was refused. Messages are shown to the visitor (400 page).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CsrfError {
    /// The form has no `csrf_token` field.
    MissingToken,
    /// No valid CSRF cookie (missing, or not minted by this server).
    MissingCookie,
    /// The submitted token is not the cookie's.
    Mismatch,
    /// The `Origin` header names another site.
    CrossOrigin,
}

impl std::fmt::Display for CsrfError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CsrfError::MissingToken => "the form has no CSRF token (`csrf_token`)",
            CsrfError::MissingCookie => {
                "the CSRF cookie is missing or invalid: reload the form and submit it again"
            }
            CsrfError::Mismatch => {
                "the CSRF token does not match: reload the form and submit it again"
            }
            CsrfError::CrossOrigin => "cross-origin form submissions are refused",
        })
    }
}

/// A token for a page, and the `Set-Cookie` value to send when it is new.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PageToken {
    /// The value of the hidden `csrf_token` field.
    pub(crate) token: String,
    /// `Some` when the cookie must be (re)set.
    pub(crate) set_cookie: Option<String>,
}

/// Issues and checks CSRF tokens.
#[derive(Debug, Clone)]
pub(crate) struct Csrf {
    key: SubsystemKey,
    secure: bool,
}

impl Csrf {
    /// Keyed with `master`'s CSRF key; `secure` sets the cookie's `Secure` attribute.
    pub(crate) fn new(master: &MasterSecret, secure: bool) -> Csrf {
        Csrf {
            key: master.derive(&Purpose::Csrf),
            secure,
        }
    }

    fn mac(&self, token: &str) -> Vec<u8> {
        // HMAC accepts keys of any length: this cannot fail for a 32-byte key.
        let mut mac = match <Hmac<Sha256>>::new_from_slice(self.key.as_bytes()) {
            Ok(m) => m,
            Err(_) => return Vec::new(),
        };
        mac.update(MAC_LABEL);
        mac.update(token.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    /// The token of a valid cookie in `headers`, if any.
    fn cookie_token(&self, headers: &HeaderMap) -> Option<String> {
        for header in headers.get_all(COOKIE) {
            let Ok(header) = header.to_str() else {
                continue;
            };
            let Some(value) = cookie_value_from_header(header, COOKIE_NAME) else {
                continue;
            };
            let Some((token, mac)) = value.split_once('.') else {
                continue;
            };
            let Ok(mac) = URL_SAFE_NO_PAD.decode(mac) else {
                continue;
            };
            let expected = self.mac(token);
            if !expected.is_empty() && bool::from(expected.ct_eq(&mac)) {
                return Some(token.to_owned());
            }
        }
        None
    }

    /// A fresh token and its cookie (after a login, so a token seen before it is useless).
    pub(crate) fn fresh(&self) -> anyhow::Result<PageToken> {
        let mut bytes = [0u8; TOKEN_BYTES];
        getrandom::fill(&mut bytes)
            .map_err(|e| anyhow::anyhow!("cannot read random bytes: {e}"))?;
        let token = URL_SAFE_NO_PAD.encode(bytes);
        let mac = URL_SAFE_NO_PAD.encode(self.mac(&token));
        let secure = if self.secure { "; Secure" } else { "" };
        let set_cookie =
            format!("{COOKIE_NAME}={token}.{mac}; Path=/; HttpOnly; SameSite=Strict{secure}");
        Ok(PageToken {
            token,
            set_cookie: Some(set_cookie),
        })
    }

    /// The token to render in a form: the cookie's, or a fresh one with its cookie.
    pub(crate) fn for_page(&self, headers: &HeaderMap) -> anyhow::Result<PageToken> {
        match self.cookie_token(headers) {
            Some(token) => Ok(PageToken {
                token,
                set_cookie: None,
            }),
            None => self.fresh(),
        }
    }

    /// Checks a state-changing request: its `Origin` (when sent), the cookie and the
    /// submitted token.
    pub(crate) fn check(
        &self,
        headers: &HeaderMap,
        supplied: Option<&str>,
    ) -> Result<(), CsrfError> {
        if !same_origin(headers) {
            return Err(CsrfError::CrossOrigin);
        }
        let supplied = supplied
            .filter(|s| !s.is_empty())
            .ok_or(CsrfError::MissingToken)?;
        let expected = self.cookie_token(headers).ok_or(CsrfError::MissingCookie)?;
        if bool::from(expected.as_bytes().ct_eq(supplied.as_bytes())) {
            Ok(())
        } else {
            Err(CsrfError::Mismatch)
        }
    }
}

/// True when there is no `Origin` header (same-origin form posts from older browsers,
/// non-browser clients: the token still has to match), or when it names the `Host`.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(ORIGIN) else {
        return true;
    };
    let (Ok(origin), Some(host)) = (
        origin.to_str(),
        headers.get(HOST).and_then(|h| h.to_str().ok()),
    ) else {
        return false;
    };
    let Some(rest) = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
    else {
        return false; // `null` (sandboxed or privacy-sensitive contexts) and other schemes
    };
    rest.eq_ignore_ascii_case(host)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn csrf() -> Csrf {
        let master = MasterSecret::new(b"0123456789abcdef0123456789abcdef".to_vec()).unwrap();
        Csrf::new(&master, false)
    }

    fn headers(cookie: Option<&str>, origin: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(HOST, HeaderValue::from_static("127.0.0.1:8080"));
        if let Some(c) = cookie {
            h.insert(COOKIE, HeaderValue::from_str(c).unwrap());
        }
        if let Some(o) = origin {
            h.insert(ORIGIN, HeaderValue::from_str(o).unwrap());
        }
        h
    }

    fn cookie_pair(set_cookie: &str) -> String {
        set_cookie.split(';').next().unwrap().to_owned()
    }

    #[test]
    fn round_trip_and_refusals() {
        let c = csrf();
        let t = c.for_page(&HeaderMap::new()).unwrap();
        let set = t.set_cookie.clone().unwrap();
        assert!(set.contains("HttpOnly; SameSite=Strict"), "{set}");
        assert!(!set.contains("Secure"), "{set}");
        let pair = cookie_pair(&set);
        let h = headers(Some(&pair), None);
        assert_eq!(c.check(&h, Some(&t.token)), Ok(()));
        // The page reuses a valid cookie's token.
        let again = c.for_page(&h).unwrap();
        assert_eq!(again.token, t.token);
        assert!(again.set_cookie.is_none());
        assert_eq!(c.check(&h, None), Err(CsrfError::MissingToken));
        assert_eq!(c.check(&h, Some("")), Err(CsrfError::MissingToken));
        assert_eq!(c.check(&h, Some("nope")), Err(CsrfError::Mismatch));
        let no_cookie = headers(None, None);
        assert_eq!(
            c.check(&no_cookie, Some(&t.token)),
            Err(CsrfError::MissingCookie)
        );
        // A cookie whose MAC was made with another key (or forged) is refused.
        let forged = format!(
            "{COOKIE_NAME}={}.{}",
            t.token,
            URL_SAFE_NO_PAD.encode([0u8; 32])
        );
        assert_eq!(
            c.check(&headers(Some(&forged), None), Some(&t.token)),
            Err(CsrfError::MissingCookie)
        );
        let other = MasterSecret::new(b"another secret, 32 bytes or more!".to_vec()).unwrap();
        assert_eq!(
            Csrf::new(&other, false).check(&h, Some(&t.token)),
            Err(CsrfError::MissingCookie)
        );
    }

    #[test]
    fn origin_must_match_the_host() {
        let c = csrf();
        let t = c.fresh().unwrap();
        let pair = cookie_pair(t.set_cookie.as_deref().unwrap());
        for ok in ["http://127.0.0.1:8080", "https://127.0.0.1:8080"] {
            assert_eq!(
                c.check(&headers(Some(&pair), Some(ok)), Some(&t.token)),
                Ok(())
            );
        }
        for bad in ["http://evil.example", "null", "http://127.0.0.1:8081"] {
            assert_eq!(
                c.check(&headers(Some(&pair), Some(bad)), Some(&t.token)),
                Err(CsrfError::CrossOrigin),
                "{bad}"
            );
        }
        let secure = Csrf::new(
            &MasterSecret::new(b"0123456789abcdef0123456789abcdef".to_vec()).unwrap(),
            true,
        );
        assert!(
            secure
                .fresh()
                .unwrap()
                .set_cookie
                .unwrap()
                .ends_with("; Secure")
        );
    }
}
