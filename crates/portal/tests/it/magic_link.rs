//! Passwordless sign-in by a mailed one-time link (`magic_links`): the JSON API, the
//! pages, no enumeration, the mail limit, single use, expiry, refused accounts.

use http::{StatusCode, header};
use portcullis_store::{AuditQuery, NewUser, UserStatus};
use serde_json::{Value, json};

use crate::harness::{B, H, PW, Resp, after, csrf, location};

const REQUEST: &str = "/auth/api/request_magic_link";
const LOGIN: &str = "/auth/api/magic_login";

async fn enabled() -> H {
    H::with(|c| c.magic_links = true).await
}

async fn request(h: &H, email: &str) -> Resp {
    h.post(REQUEST, json!({"email": email}), None).await
}

async fn magic_login(h: &H, token: &str, cookie: Option<&str>) -> Resp {
    h.post(LOGIN, json!({"token": token}), cookie).await
}

fn mails_to(h: &H, to: &str) -> usize {
    h.mailer.sent().iter().filter(|m| m.to == to).count()
}

#[tokio::test]
async fn disabled_by_default_answers_403() {
    let h = H::new().await;
    h.user("ann", "ann@example.org").await;
    let r = request(&h, "ann@example.org").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.raw);
    assert_eq!(r.body["message"], "magic links are disabled");
    let r = magic_login(&h, "whatever", None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.raw);
    assert!(h.mailer.sent().is_empty());

    let r = h.get("/auth/api/config", None).await;
    assert_eq!(r.body["features"]["magic_link"], false);
    assert_eq!(r.body["identity_providers"], json!([]));

    // The pages say so too; the login page offers no link.
    let r = h.get("/auth/magic_link", None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.raw.contains("role=\"alert\""), "{}", r.raw);
    let r = h.get("/auth/magic_login?token=abc", None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = h
        .send(H::form("/auth/magic_link", "email=ann%40example.org", None))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(h.mailer.sent().is_empty());
    let r = h.get("/auth/login", None).await;
    assert!(!r.raw.contains("E-mail me a sign-in link"), "{}", r.raw);
}

#[tokio::test]
async fn config_lists_the_feature_and_the_email_provider() {
    let h = enabled().await;
    let r = h.get("/auth/api/config", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["features"]["magic_link"], true);
    assert_eq!(r.body["identity_providers"], json!(["email"]));
    // The existing fields stay.
    assert_eq!(r.body["features"]["login"], true);
    assert_eq!(r.body["features"]["register"], true);
    assert!(r.body["csrf_token"].as_str().is_some_and(|t| !t.is_empty()));
}

#[tokio::test]
async fn answers_do_not_tell_whether_an_account_exists() {
    let h = enabled().await;
    h.user("ann", "ann@example.org").await;
    let bob = h.user("bob", "bob@example.org").await;
    h.store.set_status(bob, UserStatus::Blocked).await.unwrap();
    let mut answers = Vec::new();
    for email in ["ann@example.org", "nobody@example.org", "bob@example.org"] {
        let r = request(&h, email).await;
        answers.push((r.status, r.body.clone()));
    }
    assert_eq!(answers[0].0, StatusCode::OK, "{:?}", answers[0]);
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
    // Only the account that may log in gets a mail.
    assert_eq!(mails_to(&h, "ann@example.org"), 1);
    assert_eq!(mails_to(&h, "nobody@example.org"), 0);
    assert_eq!(mails_to(&h, "bob@example.org"), 0);
    let audit = h.store.list_audit(&AuditQuery::default()).await.unwrap();
    let requested = audit
        .iter()
        .filter(|e| e.kind == "magic_link_requested")
        .count();
    assert_eq!(requested, 3);
}

#[tokio::test]
async fn full_api_flow_logs_in_once_with_a_fresh_session() {
    let h = enabled().await;
    let ann = h.user("ann", "ann@example.org").await;
    let r = request(&h, "ann@example.org").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    let mail = h.mail_with_link("ann@example.org");
    assert!(
        mail.contains("https://portal.test/auth/magic_login?token="),
        "{mail}"
    );
    assert!(mail.contains("15 minutes"), "{mail}");
    let token = h.token_for("ann@example.org");

    // The session a browser already has is rotated, not reused (no fixation).
    let before = h.get("/auth/api/config", None).await.cookie();
    let r = magic_login(&h, &token, Some(&before)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    assert_eq!(r.body["user"]["id"], ann);
    assert_eq!(r.body["user"]["username"], "ann");
    let cookie = r.cookie();
    assert_ne!(cookie, before);
    let r = h.get("/auth/api/profile", Some(&cookie)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    assert_eq!(r.body["user"]["username"], "ann");
    let r = h.get("/auth/api/profile", Some(&before)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.raw);

    // Single use.
    let r = magic_login(&h, &token, None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.raw);
    assert!(r.body["errors"]["token"].is_string(), "{}", r.raw);
    assert!(r.headers.get(header::SET_COOKIE).is_none());

    let audit = h.store.list_audit(&AuditQuery::default()).await.unwrap();
    assert!(audit.iter().any(|e| e.kind == "session_started"
        && e.user_id == Some(ann)
        && e.details["method"] == "magic_link"));
    assert!(audit.iter().any(|e| e.kind == "magic_login_failed"));
}

#[tokio::test]
async fn links_expire_after_15_minutes() {
    let h = enabled().await;
    h.user("ann", "ann@example.org").await;
    request(&h, "ann@example.org").await;
    let old = h.token_for("ann@example.org");
    h.clock.advance(15 * 60 + 1);
    let r = magic_login(&h, &old, None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.raw);

    // A fresh link used just in time works.
    request(&h, "ann@example.org").await;
    let fresh = h.token_for("ann@example.org");
    assert_ne!(fresh, old);
    h.clock.advance(14 * 60);
    let r = magic_login(&h, &fresh, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
}

#[tokio::test]
async fn blocked_accounts_are_refused_and_pending_ones_activated() {
    let h = enabled().await;
    let ann = h.user("ann", "ann@example.org").await;
    request(&h, "ann@example.org").await;
    let token = h.token_for("ann@example.org");
    // Blocked after the link went out: the link does not log in.
    h.store.set_status(ann, UserStatus::Blocked).await.unwrap();
    let r = magic_login(&h, &token, None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.raw);
    assert!(r.headers.get(header::SET_COOKIE).is_none());

    // Pending: the mailed link proves the address, so the account becomes active.
    let pat = h
        .store
        .create_user(
            NewUser::new("pat")
                .email("pat@example.org")
                .password(PW)
                .status(UserStatus::Pending),
        )
        .await
        .unwrap()
        .id;
    let r = request(&h, "pat@example.org").await;
    assert_eq!(r.status, StatusCode::OK);
    let r = magic_login(&h, &h.token_for("pat@example.org"), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    let pat = h.store.get_user(pat).await.unwrap().unwrap();
    assert_eq!(pat.status, UserStatus::Active);
}

#[tokio::test]
async fn mail_limit_applies_without_changing_the_answer() {
    let h = enabled().await;
    h.user("ann", "ann@example.org").await;
    let mut answers = Vec::new();
    for _ in 0..8 {
        let r = request(&h, "ann@example.org").await;
        answers.push((r.status, r.body.clone()));
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
    assert_eq!(mails_to(&h, "ann@example.org"), 5, "per-recipient limit");
    let audit = h.store.list_audit(&AuditQuery::default()).await.unwrap();
    assert!(audit.iter().any(|e| e.kind == "mail_throttled"));
}

#[tokio::test]
async fn page_flow_with_csrf_and_a_confirm_button() {
    let h = enabled().await;
    h.user("ann", "ann@example.org").await;
    let mut b = B::new(&h);

    // The login page links to the form, keeping came_from.
    let r = b.get("/auth/login?came_from=/app/x").await;
    assert!(r.raw.contains("E-mail me a sign-in link"), "{}", r.raw);
    assert!(
        r.raw
            .contains("href=\"/auth/magic_link?came_from=%2Fapp%2Fx\""),
        "{}",
        r.raw
    );

    let page = b.get("/auth/magic_link?came_from=/app/x").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.raw);
    assert!(page.raw.contains("<label for=\"email\""), "{}", page.raw);
    assert!(
        page.raw.contains("id=\"email\" name=\"email\""),
        "{}",
        page.raw
    );
    assert_eq!(page.headers.get(header::X_FRAME_OPTIONS).unwrap(), "DENY");
    assert!(page.headers.contains_key(header::CONTENT_SECURITY_POLICY));
    let token = csrf(&page.raw);

    // Without the CSRF token: refused, no mail.
    let r = b
        .post("/auth/magic_link", &[("email", "ann@example.org")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.raw);
    assert!(r.raw.contains("role=\"alert\""));
    assert!(h.mailer.sent().is_empty());

    // Invalid address: 400 with the message beside the field.
    let r = b
        .post(
            "/auth/magic_link",
            &[("csrf_token", &token), ("email", "nope")],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.raw);
    assert!(r.raw.contains("id=\"email-error\""), "{}", r.raw);

    let r = b
        .post(
            "/auth/magic_link",
            &[
                ("csrf_token", &token),
                ("email", "ann@example.org"),
                ("came_from", "/app/x"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.raw);
    assert_eq!(location(&r), "/auth/magic_link?done=sent");
    let r = b.get("/auth/magic_link?done=sent").await;
    assert!(r.raw.contains("role=\"status\""), "{}", r.raw);

    // The mailed link shows a confirm button and does not log in by itself.
    let path = format!(
        "/{}",
        after(&h.mail_with_link("ann@example.org"), "https://portal.test/")
    );
    assert!(
        path.starts_with("/auth/magic_login?came_from=%2Fapp%2Fx&token="),
        "{path}"
    );
    let page = b.get(&path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.raw);
    assert!(page.raw.contains("<button type=\"submit\""));
    let r = b.get("/auth/profile").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "not logged in by the GET");
    let magic = crate::harness::attr_value(&page.raw, "token").unwrap();
    let token = csrf(&page.raw);

    // POST without the CSRF token: refused, the link is not spent.
    let r = b.post("/auth/magic_login", &[("token", &magic)]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.raw);

    let fields = [
        ("csrf_token", token.as_str()),
        ("token", magic.as_str()),
        ("came_from", "/app/x"),
    ];
    let r = b.post("/auth/magic_login", &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.raw);
    assert_eq!(location(&r), "/app/x");
    let r = b.get("/auth/profile").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    assert!(r.raw.contains("ann"));

    // Used once: the same link again is a bad link; an unsafe came_from is dropped.
    let page = b.get("/auth/magic_link").await;
    let token = csrf(&page.raw);
    let again = [
        ("csrf_token", token.as_str()),
        ("token", magic.as_str()),
        ("came_from", "https://evil.test/"),
    ];
    let r = b.post("/auth/magic_login", &again).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.raw);
    assert!(r.raw.contains("role=\"alert\""));
}

#[tokio::test]
async fn bad_input_is_a_4xx() {
    let h = enabled().await;
    let cases: [(&str, Value); 7] = [
        (LOGIN, json!({})),
        (LOGIN, json!({"token": ""})),
        (LOGIN, json!({"token": "x".repeat(300)})),
        (LOGIN, json!({"token": "abc", "extra": 1})),
        (REQUEST, json!({})),
        (REQUEST, json!({"email": "not-an-address"})),
        (REQUEST, json!({"email": "a@example.org", "password": "x"})),
    ];
    for (path, body) in cases {
        let r = h.post(path, body.clone(), None).await;
        assert_eq!(
            r.status,
            StatusCode::BAD_REQUEST,
            "{path} {body}: {}",
            r.raw
        );
        assert_eq!(r.body["status"], "error");
    }
    let r = h
        .send(H::request(
            "POST",
            LOGIN,
            Some("application/json"),
            "{not json",
            None,
        ))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.raw);
    let r = h
        .send(H::request("POST", REQUEST, Some("text/plain"), "x", None))
        .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", r.raw);
    // A link without its token.
    let r = h.get("/auth/magic_login", None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.raw);
    // An unknown token: 400, and a form post to the page without a session: 403.
    let r = magic_login(&h, "pc_nope", None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.raw);
    let r = h
        .send(H::form("/auth/magic_login", "token=abc", None))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.raw);
}

#[tokio::test]
async fn the_openapi_document_lists_both_operations() {
    let doc = portcullis_portal::openapi_document();
    for p in [REQUEST, LOGIN] {
        let op = &doc["paths"][p]["post"];
        assert!(op.is_object(), "{p} missing");
        assert!(op["responses"]["403"].is_object(), "{p}: 403 not listed");
    }
    assert!(doc["paths"][LOGIN]["post"]["responses"]["429"].is_object());
}
