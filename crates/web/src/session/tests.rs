//! Unit tests: ids, hashes, configuration, cookies (backends are tested for real in
//! `tests/it/session.rs`).

use std::sync::Arc;
use std::time::Duration;

use portcullis_store::{ManualClock, Store};

use super::id::SessionId;
use super::*;

#[test]
fn ids_are_256_bit_base64url_and_unique() {
    let a = SessionId::generate().unwrap();
    let b = SessionId::generate().unwrap();
    assert_eq!(a.as_str().len(), SESSION_ID_LEN);
    assert_ne!(a.as_str(), b.as_str());
    const { assert!(SESSION_ID_BYTES * 8 >= 128) };
    assert!(SessionId::parse(a.as_str()).is_some());
    assert_eq!(format!("{a:?}"), "SessionId(<redacted>)");
}

#[test]
fn malformed_ids_are_refused_before_any_lookup() {
    let good = SessionId::generate().unwrap();
    let s = good.as_str();
    assert!(SessionId::parse(&s[1..]).is_none());
    assert!(SessionId::parse(&format!("{s}A")).is_none());
    assert!(SessionId::parse(&format!("{}=", &s[1..])).is_none());
    assert!(SessionId::parse(&format!("+{}", &s[1..])).is_none());
    assert!(SessionId::parse("").is_none());
    assert!(SessionId::parse("' OR 1=1 --").is_none());
}

#[test]
fn hashes_are_sha256_hex_of_the_id() {
    let id = SessionId::parse("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").unwrap();
    let h = id.hash();
    // sha256 of 43 'A's
    assert_eq!(h.as_str().len(), 64);
    assert!(!h.as_str().contains(id.as_str()));
    assert_eq!(SessionHash::parse(h.as_str()), Some(h.clone()));
    assert!(SessionHash::parse(&h.as_str().to_uppercase()).is_none());
    assert!(format!("{h:?}").len() < 30);
    use sha2::Digest as _;
    let want = sha2::Sha256::digest(id.as_str().as_bytes());
    let want: String = want.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(h.as_str(), want);
}

#[test]
fn config_defaults_and_validation() {
    let c = SessionConfig::default();
    assert_eq!(c.name(), "portcullis_session");
    assert!(c.is_secure());
    assert_eq!(c.idle(), Duration::from_secs(1800));
    assert_eq!(c.absolute(), Duration::from_secs(43200));
    assert!(c.validate().is_ok());
    let bad = [
        SessionConfig::new().cookie_name("a b"),
        SessionConfig::new().cookie_name(""),
        SessionConfig::new().path("x"),
        SessionConfig::new().path("/a;b"),
        SessionConfig::new().domain(""),
        SessionConfig::new()
            .same_site(SameSite::None)
            .dangerous_insecure_cookies(),
        SessionConfig::new()
            .cookie_name("__Host-s")
            .dangerous_insecure_cookies(),
        SessionConfig::new().cookie_name("__Host-s").path("/app"),
        SessionConfig::new()
            .cookie_name("__Host-s")
            .domain("example.com"),
        SessionConfig::new()
            .cookie_name("__Secure-s")
            .dangerous_insecure_cookies(),
        SessionConfig::new().idle_timeout(Duration::ZERO),
        SessionConfig::new().idle_timeout(Duration::from_secs(100_000)),
        SessionConfig::new().touch_interval(Duration::from_secs(1800)),
    ];
    for c in bad {
        assert!(
            matches!(c.validate(), Err(SessionError::Config(_))),
            "{c:?}"
        );
    }
    assert!(
        SessionConfig::new()
            .cookie_name("__Host-portcullis_session")
            .validate()
            .is_ok()
    );
}

async fn manager(config: SessionConfig) -> (SessionManager, Arc<ManualClock>) {
    let store = Store::open("sqlite::memory:").await.unwrap();
    let clock = Arc::new(ManualClock::new(1_700_000_000));
    let m = SessionManager::new(SqlSessionStore::new(store), config)
        .unwrap()
        .with_clock(clock.clone());
    (m, clock)
}

fn attrs(set_cookie: &str) -> Vec<&str> {
    set_cookie.split("; ").skip(1).collect()
}

#[tokio::test]
async fn set_cookie_attributes() {
    let (m, _) = manager(SessionConfig::new()).await;
    let mut s = m.create().unwrap();
    let c = m.save(&mut s).await.unwrap().unwrap();
    let (pair, _) = c.split_once("; ").unwrap();
    let (name, value) = pair.split_once('=').unwrap();
    assert_eq!(name, "portcullis_session");
    assert_eq!(value.len(), 43);
    assert_eq!(attrs(&c), ["Path=/", "HttpOnly", "Secure", "SameSite=Lax"]);
    // Unchanged: no write, no cookie.
    assert_eq!(m.save(&mut s).await.unwrap(), None);

    let e = m.expire_cookie();
    assert_eq!(
        attrs(&e),
        [
            "Path=/",
            "Max-Age=0",
            "HttpOnly",
            "Secure",
            "SameSite=Lax",
            "Expires=Thu, 01 Jan 1970 00:00:00 GMT"
        ]
    );
    assert!(e.starts_with("portcullis_session=;"));

    let (m, _) = manager(
        SessionConfig::new()
            .dangerous_insecure_cookies()
            .same_site(SameSite::Strict)
            .persistent(true)
            .path("/app")
            .domain("example.com"),
    )
    .await;
    let mut s = m.create().unwrap();
    let c = m.save(&mut s).await.unwrap().unwrap();
    assert_eq!(
        attrs(&c),
        [
            "Path=/app",
            "Domain=example.com",
            "Max-Age=43200",
            "HttpOnly",
            "SameSite=Strict"
        ]
    );
}

#[tokio::test]
async fn keep_me_logged_in_makes_only_that_session_persistent() {
    let (m, _) = manager(SessionConfig::new()).await;
    // Not asked: a browser-session cookie, no Max-Age.
    let (_, c) = m.remember(None, "7").await.unwrap();
    assert!(!c.contains("Max-Age"), "{c}");
    // Asked: Max-Age up to the absolute expiry (12 h by default), also after a rotation
    // of an existing session and on later writes.
    let (mut s, c) = m.remember_persistent(None, "7", true).await.unwrap();
    assert!(c.contains("Max-Age=43200"), "{c}");
    s.insert("k", serde_json::json!(1));
    let again = m.save(&mut s).await.unwrap().expect("a refreshed cookie");
    assert!(again.contains("Max-Age="), "{again}");
    let (s, c) = m.remember_persistent(Some(s), "7", true).await.unwrap();
    assert!(c.contains("Max-Age=43200"), "{c}");
    // A later login without the box on the same browser drops it.
    let (_, c) = m.remember_persistent(Some(s), "7", false).await.unwrap();
    assert!(!c.contains("Max-Age"), "{c}");
}

#[tokio::test]
async fn values_roundtrip_through_json() {
    let (m, _) = manager(SessionConfig::new()).await;
    let mut s = m.create().unwrap();
    assert!(s.is_new());
    s.insert("n", 3);
    s.insert_as("list", &vec!["a", "b"]).unwrap();
    assert_eq!(
        s.get_as::<Vec<String>>("list").unwrap().unwrap(),
        ["a", "b"]
    );
    assert!(s.get_as::<u8>("list").is_err());
    assert_eq!(s.get_as::<u8>("missing").unwrap(), None);
    let c = m.save(&mut s).await.unwrap().unwrap();
    let header = format!("other=1; {}", c.split(';').next().unwrap());
    let mut again = m.load(Some(&header)).await.unwrap().unwrap();
    assert!(!again.is_new() && !again.is_changed());
    assert_eq!(again.get("n"), Some(&3.into()));
    assert_eq!(again.remove("n"), Some(3.into()));
    assert!(again.is_changed());
    assert_eq!(m.save(&mut again).await.unwrap(), None);
    let third = m.load(Some(&header)).await.unwrap().unwrap();
    assert_eq!(third.get("n"), None);
    assert_eq!(third.hash(), s.hash());
}
