//! Unit tests of the origin parsing, form decoding and the cookie MAC.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::check::{form_field, is_same_domain, normalize_host, parse_origin, quote};
use super::*;
use crate::secret::{MasterSecret, Purpose};

#[test]
fn same_domain_follows_pyramid() {
    assert!(is_same_domain("example.com", "example.com"));
    assert!(!is_same_domain("a.example.com", "example.com"));
    assert!(is_same_domain("a.example.com", ".example.com"));
    assert!(is_same_domain("a.b.example.com", ".example.com"));
    assert!(is_same_domain("example.com", ".example.com"));
    assert!(!is_same_domain("example.com.evil.com", ".example.com"));
    assert!(!is_same_domain("evilexample.com", ".example.com"));
    assert!(!is_same_domain("a.example.com:8443", ".example.com"));
    assert!(is_same_domain("example.com:8443", "example.com:8443"));
}

#[test]
fn origins_are_parsed_strictly() {
    let p = |s| parse_origin(s);
    assert_eq!(
        p("https://Example.COM"),
        Some(("https".into(), "example.com".into()))
    );
    assert_eq!(
        p("https://example.com:443/path?q#f"),
        Some(("https".into(), "example.com".into()))
    );
    assert_eq!(
        p("https://example.com:8443"),
        Some(("https".into(), "example.com:8443".into()))
    );
    assert_eq!(
        p("http://example.com:80/"),
        Some(("http".into(), "example.com".into()))
    );
    assert_eq!(
        p("https://[::1]:8443"),
        Some(("https".into(), "[::1]:8443".into()))
    );
    assert_eq!(p("https://example.com@evil.com"), None);
    assert_eq!(p("https://"), None);
    assert_eq!(p("null"), None);
    assert_eq!(p("example.com"), None);
    assert_eq!(p("https://exa mple.com"), None);
    assert_eq!(normalize_host("Example.com:443", true), "example.com");
    assert_eq!(normalize_host("example.com:443", false), "example.com:443");
    assert_eq!(normalize_host(":443", true), ":443");
}

#[test]
fn quoted_origins_are_bounded() {
    let long = "é".repeat(200);
    let q = quote(&long);
    assert!(q.len() <= 120 && long.starts_with(&q));
}

#[test]
fn urlencoded_form_fields() {
    let body = b"a=1&csrf_token=ab%2Bc+d%3D&csrf_token=second";
    assert_eq!(form_field(body, "csrf_token").as_deref(), Some("ab+c d="));
    assert_eq!(form_field(body, "a").as_deref(), Some("1"));
    assert_eq!(form_field(body, "b"), None);
    assert_eq!(
        form_field(b"csrf%5Ftoken=x", "csrf_token").as_deref(),
        Some("x")
    );
    assert_eq!(form_field(b"flag&x=%zz%", "flag").as_deref(), Some(""));
    assert_eq!(form_field(b"x=%zz%", "x").as_deref(), Some("%zz%"));
    assert_eq!(form_field(b"x=%ff", "x"), None, "not utf-8");
    assert_eq!(form_field(b"", "x"), None);
}

#[test]
fn cookie_mac_is_plain_hmac_sha256_with_the_csrf_key() {
    let master = MasterSecret::new(vec![9u8; 32]).unwrap();
    let storage = CookieCsrfStorage::new(&master);
    let issued = storage.new_token("42").unwrap();
    let set_cookie = issued.set_cookie.unwrap();
    let value = set_cookie
        .strip_prefix("csrf_token=")
        .and_then(|s| s.split(';').next())
        .unwrap();
    let (token, tag) = value.split_once('.').unwrap();
    assert_eq!(token, issued.token);
    // Recompute independently with the variable-length key constructor.
    let key = master.derive(&Purpose::Csrf);
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(b"portcullis-csrf-cookie/v1");
    mac.update(&2u64.to_be_bytes());
    mac.update(b"42");
    mac.update(token.as_bytes());
    use base64::Engine as _;
    let want = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    assert_eq!(tag, want);
}

#[test]
fn tokens_are_256_bit_and_errors_have_kinds() {
    const { assert!(CSRF_TOKEN_BYTES * 8 >= 128) };
    let a = super::token::generate().unwrap();
    assert_eq!(a.len(), 43);
    assert_ne!(a, super::token::generate().unwrap());
    let e = CsrfError::BadToken(BadToken::Mismatch);
    assert_eq!(e.kind(), CsrfFailure::BadToken);
    assert_eq!(e.to_string(), "bad csrf token: the token does not match");
    let e = CsrfError::BadOrigin(BadOrigin::Untrusted("https://evil.com".into()));
    assert_eq!(e.kind(), CsrfFailure::BadOrigin);
    assert_eq!(
        e.to_string(),
        "bad csrf origin: `https://evil.com` does not match any trusted origin"
    );
}
