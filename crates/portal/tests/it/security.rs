//! No enumeration, token lifetimes, throttling, Origin and client address.

use axum::body::Body;
use http::{Request, StatusCode, header};
use portcullis_store::AuditQuery;
use serde_json::json;

use crate::harness::{H, PW};

#[tokio::test]
async fn answers_do_not_reveal_accounts() {
    let h = H::new().await;
    h.user("known", "known@example.org").await;

    let a = h
        .post(
            "/auth/api/login",
            json!({"email": "known@example.org", "password": "wrong one here"}),
            None,
        )
        .await;
    let b = h
        .post(
            "/auth/api/login",
            json!({"email": "nobody@example.org", "password": "wrong one here"}),
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!((a.status, &a.raw), (b.status, &b.raw));

    let a = h
        .post(
            "/auth/api/request_reset_password",
            json!({"email": "known@example.org"}),
            None,
        )
        .await;
    let b = h
        .post(
            "/auth/api/request_reset_password",
            json!({"email": "nobody@example.org"}),
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!((a.status, &a.raw), (b.status, &b.raw));

    let a = h
        .post(
            "/auth/api/register",
            json!({"email": "known@example.org", "password": PW}),
            None,
        )
        .await;
    let b = h
        .post(
            "/auth/api/register",
            json!({"email": "fresh@example.org", "password": PW}),
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.raw);
    assert_eq!((a.status, &a.raw), (b.status, &b.raw));
    // The owner of the taken address is told, by mail.
    assert!(
        h.mailer
            .sent()
            .iter()
            .any(|m| m.to == "known@example.org" && m.subject.starts_with("Your registration"))
    );
}

#[tokio::test]
async fn tokens_expire() {
    let h = H::new().await;
    h.user("fay", "fay@example.org").await;
    h.post(
        "/auth/api/request_reset_password",
        json!({"email": "fay@example.org"}),
        None,
    )
    .await;
    let token = h.token_for("fay@example.org");
    h.clock.advance(3601);
    let r = h
        .post(
            "/auth/api/reset_password",
            json!({"token": token, "new_password": "another good secret"}),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    h.post(
        "/auth/api/register",
        json!({"email": "gus@example.org", "password": PW}),
        None,
    )
    .await;
    let token = h.token_for("gus@example.org");
    h.clock.advance(23 * 3600);
    h.clock.advance(3600 + 1);
    // Not after 24 h (valid before: `verification_within_24h_works`).
    let r = h
        .get(&format!("/auth/api/verify_email?token={token}"), None)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn verification_within_24h_works() {
    let h = H::new().await;
    h.post(
        "/auth/api/register",
        json!({"email": "hal@example.org", "password": PW}),
        None,
    )
    .await;
    let token = h.token_for("hal@example.org");
    h.clock.advance(24 * 3600 - 10);
    let r = h
        .get(&format!("/auth/api/verify_email?token={token}"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
}

#[tokio::test]
async fn tokens_die_when_the_password_or_email_changes() {
    let h = H::new().await;
    h.user("ida", "ida@example.org").await;
    h.post(
        "/auth/api/request_reset_password",
        json!({"email": "ida@example.org"}),
        None,
    )
    .await;
    let reset = h.token_for("ida@example.org");
    let cookie = h.login("ida", PW).await;
    let r = h
        .post(
            "/auth/api/change_password",
            json!({"old_password": PW, "new_password": "changed meanwhile!"}),
            Some(&cookie),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    let r = h
        .post(
            "/auth/api/reset_password",
            json!({"token": reset, "new_password": "attacker's choice"}),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // A pending e-mail change dies with a password change too.
    let cookie = h.login("ida", "changed meanwhile!").await;
    h.post(
        "/auth/api/change_email",
        json!({"password": "changed meanwhile!", "new_email": "ida@new.example"}),
        Some(&cookie),
    )
    .await;
    let verify = h.token_for("ida@new.example");
    h.post(
        "/auth/api/change_password",
        json!({"old_password": "changed meanwhile!", "new_password": "third password here"}),
        Some(&cookie),
    )
    .await;
    let r = h
        .post("/auth/api/verify_email", json!({"token": verify}), None)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let u = h.store.get_user_by_username("ida").await.unwrap().unwrap();
    assert_eq!(u.email.as_deref(), Some("ida@example.org"));
}

#[tokio::test]
async fn only_the_latest_email_change_token_sets_its_own_address() {
    let h = H::new().await;
    h.user("jo", "jo@example.org").await;
    let cookie = h.login("jo", PW).await;
    h.post(
        "/auth/api/change_email",
        json!({"password": PW, "new_email": "first@new.example"}),
        Some(&cookie),
    )
    .await;
    let first = h.token_for("first@new.example");
    h.post(
        "/auth/api/change_email",
        json!({"password": PW, "new_email": "second@new.example"}),
        Some(&cookie),
    )
    .await;
    // The first link must not apply the second (unverified) address.
    h.post("/auth/api/verify_email", json!({"token": first}), None)
        .await;
    let u = h.store.get_user_by_username("jo").await.unwrap().unwrap();
    assert_ne!(u.email.as_deref(), Some("second@new.example"));
}

#[tokio::test]
async fn logins_are_throttled_per_account_and_address_but_not_the_real_user() {
    let h = H::new().await;
    h.user("kim", "kim@example.org").await;
    // The real user logged in from home before.
    let home: std::net::SocketAddr = "198.51.100.1:1".parse().unwrap();
    let login = |pw: &str| {
        Request::builder()
            .method("POST")
            .uri("/auth/api/login")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                json!({"username": "kim", "password": pw}).to_string(),
            ))
            .unwrap()
    };
    let mut req = login(PW);
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(home));
    assert_eq!(h.send(req).await.status, StatusCode::OK);

    for _ in 0..5 {
        let r = h.send(login("guess guess guess")).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let r = h.send(login(PW)).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.raw);
    assert!(r.headers.get(header::RETRY_AFTER).is_some());
    assert_eq!(r.body["status"], "error");
    // The real user from another address is not locked out.
    let mut req = login(PW);
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(home));
    assert_eq!(h.send(req).await.status, StatusCode::OK);
    // The window slides.
    h.clock.advance(901);
    assert_eq!(h.send(login(PW)).await.status, StatusCode::OK);
    let audit = h.store.list_audit(&AuditQuery::default()).await.unwrap();
    assert!(audit.iter().any(|e| e.kind == "login_throttled"));
    assert!(
        audit
            .iter()
            .any(|e| e.client_addr.as_deref() == Some("192.0.2.10"))
    );
}

#[tokio::test]
async fn forwarded_for_is_believed_only_from_trusted_proxies() {
    let h = H::with(|c| c.trusted_proxies = vec!["10.0.0.1".parse().unwrap()]).await;
    h.user("lou", "lou@example.org").await;
    let attempt = |peer: &str, xff: &str| {
        let mut req = Request::builder()
            .method("POST")
            .uri("/auth/api/login")
            .header(header::CONTENT_TYPE, "application/json")
            .header("x-forwarded-for", xff)
            .body(Body::from(
                json!({"username": "lou", "password": "nope nope nope"}).to_string(),
            ))
            .unwrap();
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo::<std::net::SocketAddr>(
                peer.parse().unwrap(),
            ));
        req
    };
    // Through the proxy, each forwarded client has its own bucket.
    for i in 0..6 {
        let r = h
            .send(attempt("10.0.0.1:1", &format!("203.0.113.{i}")))
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    // An untrusted peer cannot dodge its bucket by forging the header.
    for i in 0..5 {
        h.send(attempt("192.0.2.99:1", &format!("203.0.113.{}", 50 + i)))
            .await;
    }
    let r = h.send(attempt("192.0.2.99:1", "203.0.113.77")).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn untrusted_origin_is_refused() {
    let h = H::with(|c| c.trusted_origins = vec!["https://spa.test".to_owned()]).await;
    h.user("max", "max@example.org").await;
    let req = |origin: &str| {
        Request::builder()
            .method("POST")
            .uri("/auth/api/login")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ORIGIN, origin)
            .body(Body::from(
                json!({"username": "max", "password": PW}).to_string(),
            ))
            .unwrap()
    };
    assert_eq!(
        h.send(req("https://evil.test")).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        h.send(req("https://portal.test")).await.status,
        StatusCode::OK
    );
    assert_eq!(h.send(req("https://spa.test")).await.status, StatusCode::OK);
}
