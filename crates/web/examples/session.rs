//! Server-side sessions and CSRF on SQLite, without an HTTP server: the headers a
//! browser would send and receive are plain strings.
//!
//! Run with `cargo run -p portcullis-web --example session`.

use std::error::Error;

use http::{HeaderMap, HeaderValue, Method};
use portcullis_store::Store;
use portcullis_web::csrf::{CsrfCheck, CsrfConfig, CsrfRequest, SessionCsrfStorage, form_field};
use portcullis_web::session::{SessionConfig, SessionManager, SqlSessionStore};

/// What the browser sends back: the `name=value` part of a `Set-Cookie`.
fn cookie_of(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap_or_default().to_owned()
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error>> {
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("app.sqlite").display());
    let store = Store::open(&url).await?; // creates the `sessions` table
    let sessions = SessionManager::new(SqlSessionStore::new(store.clone()), SessionConfig::new())?;
    let csrf = SessionCsrfStorage::new();
    let check = CsrfCheck::new(CsrfConfig::default());

    // 1. GET /login: an anonymous session holds the CSRF token rendered into the form.
    let mut session = sessions.create()?;
    let token = csrf.get_token(&mut session)?;
    let set_cookie = sessions.save(&mut session).await?.unwrap_or_default();
    println!("GET /login -> Set-Cookie: {set_cookie}");
    let anonymous = cookie_of(&set_cookie);

    // 2. POST /login from our own page: origin and token check, then the login rotates
    //    the session id (the anonymous id is dead from now on).
    let body = format!("login=alice&password=secret&csrf_token={token}");
    let mut headers = HeaderMap::new();
    headers.insert("host", HeaderValue::from_static("example.com"));
    headers.insert("origin", HeaderValue::from_static("https://example.com"));
    headers.insert(
        "content-type",
        HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    let field = form_field(body.as_bytes(), "csrf_token");
    let current = sessions.load(Some(&anonymous)).await?;
    let expected = current
        .as_ref()
        .and_then(|s| csrf.token(s))
        .map(str::to_owned);
    let req = CsrfRequest::new(&Method::POST, &headers, true).with_form_token(field.as_deref());
    check.check(&req, expected.as_deref())?;
    let (_, set_cookie) = sessions.remember(current, "42").await?;
    println!("POST /login -> Set-Cookie: {set_cookie}");
    let logged_in = cookie_of(&set_cookie);
    assert!(sessions.load(Some(&anonymous)).await?.is_none());

    // 3. A forged POST from another site is refused, and says why.
    headers.insert(
        "origin",
        HeaderValue::from_static("https://evil.example.net"),
    );
    let req = CsrfRequest::new(&Method::POST, &headers, true).with_form_token(field.as_deref());
    let err = check
        .check(&req, expected.as_deref())
        .expect_err("a foreign origin is refused");
    println!("forged POST -> 400 ({:?}): {err}", err.kind());

    // 4. Later requests are identified by the session; the database holds only a hash.
    let (user, session) = sessions
        .identify(Some(&logged_in))
        .await?
        .ok_or("not logged in")?;
    println!("identified user {user}, session handle {}", session.hash());
    for row in store.list_sessions_for_user("42").await? {
        println!(
            "stored row key: {} (sha-256 of the cookie value)",
            row.id_hash
        );
    }

    // 5. Password change: every session of the user ends.
    let revoked = sessions.revoke_user("42").await?;
    println!("revoked {revoked} session(s)");
    assert!(sessions.identify(Some(&logged_in)).await?.is_none());

    // 6. Logout of a (new) session deletes it server-side and expires the cookie.
    let (session, _) = sessions.remember(None, "42").await?;
    println!("logout -> Set-Cookie: {}", sessions.destroy(session).await?);
    Ok(())
}
