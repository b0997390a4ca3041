//! The success path of every endpoint.

use http::StatusCode;
use portcullis_store::{AuditQuery, UserStatus};
use serde_json::json;

use crate::harness::{H, PW};

#[tokio::test]
async fn register_verify_login_profile_logout() {
    let h = H::new().await;
    let r = h
        .post(
            "/auth/api/register",
            json!({"email": "ann@example.org", "password": PW, "first_name": "Ann"}),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    assert_eq!(r.body["status"], "success");
    // Pending until verified: login refused with 403.
    let r = h
        .post(
            "/auth/api/login",
            json!({"email": "ann@example.org", "password": PW}),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let mail = h.mailer.sent().pop().unwrap();
    assert!(
        mail.text
            .contains("https://portal.test/auth/verify_email?token=")
    );
    // Rendered from the templates: a plain-text and an HTML part.
    assert!(mail.subject.contains("Portcullis"), "{}", mail.subject);
    assert!(
        mail.html
            .as_deref()
            .is_some_and(|h| h.contains("href=\"https://portal.test/auth/verify_email?token="))
    );
    let token = h.token_for("ann@example.org");
    assert!(token.len() >= 22, "at least 128 bits: {token}");
    let r = h
        .get(&format!("/auth/api/verify_email?token={token}"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    let user = h
        .store
        .get_user_by_email("ann@example.org")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.status, UserStatus::Active);

    // Login with the e-mail in `email`, the username is the e-mail by default.
    let r = h
        .post(
            "/auth/api/login",
            json!({"email": "ann@example.org", "password": PW}),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    assert_eq!(r.body["user"]["first_name"], "Ann");
    let cookie = r.cookie();

    let r = h.get("/auth/api/profile", Some(&cookie)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["user"]["email"], "ann@example.org");
    let r = h
        .post(
            "/auth/api/profile",
            json!({"last_name": "Lee"}),
            Some(&cookie),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    assert_eq!(r.body["user"]["last_name"], "Lee");

    let r = h.post("/auth/api/logout", json!({}), Some(&cookie)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.headers
            .get("set-cookie")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let r = h.get("/auth/api/profile", Some(&cookie)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.body["status"], "error");

    let kinds: Vec<String> = h
        .store
        .list_audit(&AuditQuery::default())
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    for k in [
        "registered",
        "email_verified",
        "session_started",
        "profile_updated",
        "logout",
    ] {
        assert!(kinds.iter().any(|x| x == k), "{k} in {kinds:?}");
    }
}

#[tokio::test]
async fn remember_keeps_the_cookie_after_the_browser_closes() {
    let h = H::new().await;
    h.user("ann", "ann@example.com").await;
    let set_cookie = |r: &crate::harness::Resp| {
        r.headers
            .get(http::header::SET_COOKIE)
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned()
    };
    let r = h
        .post(
            "/auth/api/login",
            json!({"username": "ann", "password": PW}),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    assert!(!set_cookie(&r).contains("Max-Age"), "{}", set_cookie(&r));
    let r = h
        .post(
            "/auth/api/login",
            json!({"username": "ann", "password": PW, "remember": true}),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    // Up to the session's absolute expiry (12 h).
    assert!(
        set_cookie(&r).contains("Max-Age=43200"),
        "{}",
        set_cookie(&r)
    );
}

#[tokio::test]
async fn login_accepts_username_or_email_in_either_field() {
    let h = H::new().await;
    h.user("bob", "bob@example.org").await;
    for body in [
        json!({"username": "bob", "password": PW}),
        json!({"email": "bob@example.org", "password": PW}),
        json!({"email": "bob", "password": PW}),
        json!({"username": "bob@example.org", "password": PW}),
    ] {
        let r = h.post("/auth/api/login", body, None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    }
    let r = h
        .post(
            "/auth/api/login",
            json!({"username": "bob", "password": "wrong password!"}),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn change_password_needs_current_and_rotates_sessions() {
    let h = H::new().await;
    h.user("cid", "cid@example.org").await;
    let cookie = h.login("cid", PW).await;
    let r = h
        .post(
            "/auth/api/change_password",
            json!({"old_password": "not my password", "new_password": "a brand new secret"}),
            Some(&cookie),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.raw);
    assert!(r.body["errors"]["old_password"].is_string());
    let r = h
        .post(
            "/auth/api/change_password",
            json!({"old_password": PW, "new_password": "a brand new secret"}),
            Some(&cookie),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    let fresh = r.cookie();
    // The old session died with the old password; the answer carries a new one.
    assert_eq!(
        h.get("/auth/api/profile", Some(&cookie)).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        h.get("/auth/api/profile", Some(&fresh)).await.status,
        StatusCode::OK
    );
    h.login("cid", "a brand new secret").await;
    assert!(
        h.mailer
            .sent()
            .iter()
            .any(|m| m.subject.contains("password was changed"))
    );
}

#[tokio::test]
async fn change_email_is_verified_at_the_new_address_and_old_one_notified() {
    let h = H::new().await;
    h.user("dee", "dee@example.org").await;
    let cookie = h.login("dee", PW).await;
    let r = h
        .post(
            "/auth/api/change_email",
            json!({"password": "wrong wrong wrong", "new_email": "dee@new.example"}),
            Some(&cookie),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = h
        .post(
            "/auth/api/change_email",
            json!({"password": PW, "new_email": "dee@new.example"}),
            Some(&cookie),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    // Not changed yet.
    let u = h.store.get_user_by_username("dee").await.unwrap().unwrap();
    assert_eq!(u.email.as_deref(), Some("dee@example.org"));
    let token = h.token_for("dee@new.example");
    let r = h
        .post("/auth/api/verify_email", json!({"token": token}), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    let u = h.store.get_user_by_username("dee").await.unwrap().unwrap();
    assert_eq!(u.email.as_deref(), Some("dee@new.example"));
    assert!(
        h.mailer
            .sent()
            .iter()
            .any(|m| m.to == "dee@example.org" && m.subject.contains("changed"))
    );
    // Used once.
    let r = h
        .post("/auth/api/verify_email", json!({"token": token}), None)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn reset_password_flow() {
    let h = H::new().await;
    h.user("eve", "eve@example.org").await;
    let r = h
        .post(
            "/auth/api/request_reset_password",
            json!({"email": "eve@example.org"}),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let token = h.token_for("eve@example.org");
    // A refused password does not spend the link.
    let r = h
        .post(
            "/auth/api/reset_password",
            json!({"token": token, "new_password": "short"}),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body["errors"]["new_password"].is_string());
    let r = h
        .post(
            "/auth/api/reset_password",
            json!({"token": token, "new_password": "reset to this one"}),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    h.login("eve", "reset to this one").await;
    let r = h
        .post(
            "/auth/api/reset_password",
            json!({"token": token, "new_password": "and again this one"}),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "single use");
}

#[tokio::test]
async fn config_lists_features() {
    let h = H::with(|c| c.registration = false).await;
    let r = h.get("/auth/api/config", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["features"]["register"], false);
    assert!(r.body["identity_providers"].is_array());
    let r = h
        .post(
            "/auth/api/register",
            json!({"email": "x@example.org", "password": PW}),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn form_posts_need_the_session_csrf_token() {
    let h = H::new().await;
    h.user("quinn", "quinn@example.org").await;
    let form =
        |body: &str, cookie: Option<&str>| H::form("/auth/api/login", body.to_owned(), cookie);
    let pw = PW.replace(' ', "+");
    let r = h
        .send(form(&format!("username=quinn&password={pw}"), None))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.raw);

    let cfg = h.get("/auth/api/config", None).await;
    let token = cfg.body["csrf_token"].as_str().unwrap().to_owned();
    let cookie = cfg.cookie();
    // A token without its session, or a wrong one, is refused.
    let r = h
        .send(form(
            &format!("username=quinn&password={pw}&csrf_token={token}"),
            None,
        ))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = h
        .send(form(
            &format!("username=quinn&password={pw}&csrf_token=x{token}"),
            Some(&cookie),
        ))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Bad form input with a good token is a 400.
    for bad in [
        "username=quinn&username=x",
        "username=%ff&password=x",
        "username=%zz",
        "username=q&password=x&admin=1",
    ] {
        let r = h
            .send(form(&format!("{bad}&csrf_token={token}"), Some(&cookie)))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.raw);
    }
    let r = h
        .send(form(
            &format!("username=quinn&password={pw}&remember=on&csrf_token={token}"),
            Some(&cookie),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    // The login rotated the session: the old id is dead.
    assert_ne!(r.cookie(), cookie);
}
