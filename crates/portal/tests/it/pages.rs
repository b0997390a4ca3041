//! The HTML pages (`/auth/login`, ...): rendering, forms, CSRF, headers, the full flow
//! through the mailed links, template overrides, escaping, bad input.

use http::{StatusCode, header};
use portcullis_store::AuditQuery;

use crate::harness::{
    B, FORM, H, PW, Resp, after, attr_value, csrf, form_body, location, with_origin,
};

const NEW_PW: &str = "another fine passphrase";

/// The path and query of the link in the newest mail to `to` (the part after the host).
fn mailed_path(h: &H, to: &str) -> String {
    format!("/{}", after(&h.mail_with_link(to), "https://portal.test/"))
}

fn assert_page_headers(r: &Resp) {
    let get = |n: header::HeaderName| {
        r.headers
            .get(&n)
            .unwrap_or_else(|| panic!("{n} missing"))
            .to_str()
            .unwrap()
            .to_owned()
    };
    assert!(get(header::CONTENT_TYPE).starts_with("text/html"));
    let csp = get(header::CONTENT_SECURITY_POLICY);
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(
        !csp.contains("script-src") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(get(header::X_FRAME_OPTIONS), "DENY");
    assert_eq!(get(header::REFERRER_POLICY), "same-origin");
    assert_eq!(get(header::CACHE_CONTROL), "no-store");
    assert_eq!(get(header::X_CONTENT_TYPE_OPTIONS), "nosniff");
}

/// Every visible input has `id` = its name and a `<label for>`; one `<h1>`; submit
/// buttons; no script.
fn assert_accessible(html: &str) {
    assert_eq!(html.matches("<h1").count(), 1, "one h1: {html}");
    assert!(!html.contains("<script"), "{html}");
    for (i, _) in html.match_indices("<input ") {
        let tag = &html[i..i + html[i..].find('>').unwrap()];
        if tag.contains("type=\"hidden\"") {
            continue;
        }
        let id = tag
            .split("id=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap_or_else(|| panic!("input without id: {tag}"));
        assert!(tag.contains(&format!("name=\"{id}\"")), "id = name: {tag}");
        assert!(
            html.contains(&format!("<label for=\"{id}\"")),
            "label for {id}"
        );
    }
    if html.contains("<form") {
        assert!(html.contains("<button type=\"submit\""), "{html}");
        assert!(html.contains("name=\"csrf_token\""), "{html}");
    }
}

#[tokio::test]
async fn every_page_renders_with_headers_and_labels() {
    let h = H::new().await;
    h.user("ann", "ann@example.org").await;
    let mut b = B::new(&h);
    for path in [
        "/auth/login",
        "/auth/login?came_from=/docs",
        "/auth/register",
        "/auth/request_reset_password",
        "/auth/logout",
        "/auth/verify_email?token=abc",
        "/auth/reset_password?token=abc",
        "/auth/register?done=check_mail",
        "/auth/request_reset_password?done=sent",
        "/auth/verify_email?done=verified",
    ] {
        let r = b.get(path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.raw);
        assert_page_headers(&r);
        assert_accessible(&r.raw);
    }
    // The first GET started a session for the CSRF token.
    assert!(b.cookie.is_some());
    // Autocomplete hints.
    let login = b.get("/auth/login").await.raw;
    assert!(login.contains("autocomplete=\"username\""));
    assert!(login.contains("autocomplete=\"current-password\""));
    assert!(login.contains("Username or e-mail"));
    assert!(login.contains("name=\"remember\" type=\"checkbox\""));
    let register = b.get("/auth/register").await.raw;
    for hint in [
        "email",
        "new-password",
        "given-name",
        "family-name",
        "username",
    ] {
        assert!(
            register.contains(&format!("autocomplete=\"{hint}\"")),
            "{hint}"
        );
    }
    // Login required: anonymous visitors are sent to the login page.
    for path in [
        "/auth/profile",
        "/auth/change_password",
        "/auth/change_email",
    ] {
        let r = b.get(path).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(location(&r), format!("/auth/login?came_from={path}"));
    }
    // Logged in, they render.
    let r = b
        .submit("/auth/login", &[("username", "ann"), ("password", PW)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.raw);
    for path in [
        "/auth/profile",
        "/auth/change_password",
        "/auth/change_email",
    ] {
        let r = b.get(path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.raw);
        assert_page_headers(&r);
        assert_accessible(&r.raw);
    }
    let profile = b.get("/auth/profile").await.raw;
    for link in [
        "/auth/change_password",
        "/auth/change_email",
        "/auth/logout",
    ] {
        assert!(profile.contains(&format!("href=\"{link}\"")), "{link}");
    }
    // Links without a token are a 400 page, not a crash.
    for path in ["/auth/verify_email", "/auth/reset_password?token="] {
        let r = b.get(path).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}");
        assert!(r.raw.contains("role=\"alert\""));
    }
    // The style sheet is the portal's own.
    let css = b.get("/auth/static/portal.css").await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(
        css.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    assert!(css.raw.contains("font"));
}

#[tokio::test]
async fn full_flow_through_the_mailed_links() {
    let h = H::new().await;
    let mut b = B::new(&h);
    // Register.
    let r = b
        .submit(
            "/auth/register",
            &[
                ("email", "zoe@example.org"),
                ("username", "zoe"),
                ("first_name", "Zoe"),
                ("last_name", "Quill"),
                ("password", PW),
                ("password2", PW),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.raw);
    let done = location(&r);
    let page = b.get(&done).await;
    assert!(page.raw.contains("Check your mail"), "{}", page.raw);
    assert!(page.raw.contains("role=\"status\""));
    // Not verified yet: login refused.
    let r = b
        .submit("/auth/login", &[("username", "zoe"), ("password", PW)])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.raw);
    assert!(r.raw.contains("not verified"));
    // The mailed link opens a confirm page; the GET alone verifies nothing.
    let link = mailed_path(&h, "zoe@example.org");
    assert!(link.starts_with("/auth/verify_email?token="), "{link}");
    let confirm = b.get(&link).await;
    assert_eq!(confirm.status, StatusCode::OK);
    let r = b
        .submit("/auth/login", &[("username", "zoe"), ("password", PW)])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "a GET must not verify");
    let r = b.submit(&link, &[("token", &link[25..])]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.raw);
    let verified = b.get(&location(&r)).await;
    assert!(verified.raw.contains("verified"), "{}", verified.raw);
    assert!(verified.raw.contains("href=\"/auth/login\""));
    // The link works once.
    let again = b.submit(&link, &[("token", &link[25..])]).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert!(again.raw.contains("role=\"alert\""));
    // Login (with the e-mail address) → profile.
    let r = b
        .submit(
            "/auth/login",
            &[
                ("username", "zoe@example.org"),
                ("password", PW),
                ("remember", "on"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.raw);
    assert_eq!(location(&r), "/auth/profile");
    let profile = b.get("/auth/profile").await;
    assert_eq!(profile.status, StatusCode::OK);
    assert!(profile.raw.contains("zoe@example.org") && profile.raw.contains("value=\"Quill\""));
    // Profile update.
    let r = b
        .submit(
            "/auth/profile",
            &[("first_name", "Zoë"), ("last_name", "Quill-Smith")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.raw);
    let profile = b.get(&location(&r)).await;
    assert!(profile.raw.contains("value=\"Quill-Smith\""));
    assert!(profile.raw.contains("role=\"status\""));
    // Change password (needs the current one; other sessions end).
    let mut other = B::new(&h);
    other
        .submit("/auth/login", &[("username", "zoe"), ("password", PW)])
        .await;
    assert_eq!(other.get("/auth/profile").await.status, StatusCode::OK);
    let r = b
        .submit(
            "/auth/change_password",
            &[
                ("old_password", PW),
                ("new_password", NEW_PW),
                ("new_password2", NEW_PW),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.raw);
    assert_eq!(location(&r), "/auth/profile?notice=password_changed");
    assert_eq!(b.get("/auth/profile").await.status, StatusCode::OK);
    assert_eq!(
        other.get("/auth/profile").await.status,
        StatusCode::SEE_OTHER,
        "the other session ended"
    );
    assert!(
        h.mailer
            .sent()
            .iter()
            .any(|m| m.to == "zoe@example.org" && m.subject.contains("password was changed"))
    );
    // Logout: GET confirms, POST logs out.
    let confirm = b.get("/auth/logout").await;
    assert!(confirm.raw.contains("action=\"/auth/logout\""));
    let r = b.submit("/auth/logout", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/auth/login?notice=logged_out");
    assert!(
        b.get("/auth/login?notice=logged_out")
            .await
            .raw
            .contains("You are logged out")
    );
    assert_eq!(b.get("/auth/profile").await.status, StatusCode::SEE_OTHER);
    // Forgot password → mailed reset link → new password → login.
    let r = b
        .submit(
            "/auth/request_reset_password",
            &[("email", "zoe@example.org")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/auth/request_reset_password?done=sent");
    let link = mailed_path(&h, "zoe@example.org");
    assert!(link.starts_with("/auth/reset_password?token="), "{link}");
    let token = link["/auth/reset_password?token=".len()..].to_owned();
    let form = b.get(&link).await;
    assert_eq!(
        attr_value(&form.raw, "token").as_deref(),
        Some(token.as_str())
    );
    // Mismatch: 400, the token stays in the form and is not spent.
    let r = b
        .submit(
            &link,
            &[
                ("token", &token),
                ("new_password", "third time lucky yes"),
                ("new_password2", "third time lucky no"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.raw.contains("id=\"new_password2-error\""));
    assert_eq!(attr_value(&r.raw, "token").as_deref(), Some(token.as_str()));
    let r = b
        .submit(
            &link,
            &[
                ("token", &token),
                ("new_password", "third time lucky yes"),
                ("new_password2", "third time lucky yes"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.raw);
    assert_eq!(location(&r), "/auth/login?notice=password_reset");
    let r = b
        .submit(
            "/auth/login",
            &[("username", "zoe"), ("password", "third time lucky yes")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.raw);
    let r = b
        .submit("/auth/login", &[("username", "zoe"), ("password", NEW_PW)])
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "the old password is gone"
    );
}

#[tokio::test]
async fn change_email_through_the_page() {
    let h = H::new().await;
    h.user("ann", "ann@example.org").await;
    let mut b = B::new(&h);
    b.submit("/auth/login", &[("username", "ann"), ("password", PW)])
        .await;
    // Wrong current password: 403, field error, the new address kept.
    let r = b
        .submit(
            "/auth/change_email",
            &[
                ("new_email", "ann@new.example"),
                ("password", "nope nope nope"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.raw);
    assert!(
        r.raw
            .contains("aria-invalid=\"true\" aria-describedby=\"password-error\"")
    );
    assert!(r.raw.contains("value=\"ann@new.example\""));
    assert!(
        !r.raw.contains("nope nope nope"),
        "passwords are never echoed"
    );
    let r = b
        .submit(
            "/auth/change_email",
            &[("new_email", "ann@new.example"), ("password", PW)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.raw);
    let link = mailed_path(&h, "ann@new.example");
    assert!(link.starts_with("/auth/verify_email?token="), "{link}");
    let r = b.submit(&link, &[("token", &link[25..])]).await;
    assert_eq!(location(&r), "/auth/verify_email?done=email_changed");
    let profile = b.get("/auth/profile").await;
    assert!(profile.raw.contains("ann@new.example"));
    assert!(
        h.mailer
            .sent()
            .iter()
            .any(|m| m.to == "ann@example.org" && m.text.contains("ann@new.example"))
    );
}

#[tokio::test]
async fn csrf_origin_and_validation_errors() {
    let h = H::new().await;
    h.user("ann", "ann@example.org").await;
    let mut b = B::new(&h);
    let page = b.get("/auth/login").await;
    let token = csrf(&page.raw);
    // No token, a wrong token, no session at all: 403, the form again with an alert.
    for fields in [
        vec![("username", "ann"), ("password", PW)],
        vec![
            ("csrf_token", "forged"),
            ("username", "ann"),
            ("password", PW),
        ],
    ] {
        let r = b.post("/auth/login", &fields).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.raw);
        assert!(r.raw.contains("role=\"alert\""));
        assert!(r.raw.contains("value=\"ann\""), "the username is kept");
        assert!(r.headers.get(header::SET_COOKIE).is_none() || b.cookie.is_some());
    }
    let r = h
        .send(H::form(
            "/auth/login",
            form_body(&[
                ("csrf_token", &token),
                ("username", "ann"),
                ("password", PW),
            ]),
            None,
        ))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // A foreign Origin is refused even with the right token.
    let req = with_origin(
        H::form(
            "/auth/login",
            form_body(&[
                ("csrf_token", &token),
                ("username", "ann"),
                ("password", PW),
            ]),
            b.cookie.as_deref(),
        ),
        "https://evil.test",
    );
    let r = h.send(req).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_page_headers(&r);
    // The portal's own Origin is fine.
    let req = with_origin(
        H::form(
            "/auth/login",
            form_body(&[
                ("csrf_token", &token),
                ("username", "ann"),
                ("password", PW),
            ]),
            b.cookie.as_deref(),
        ),
        "https://portal.test",
    );
    assert_eq!(h.send(req).await.status, StatusCode::SEE_OTHER);
    let audit = h.store.list_audit(&AuditQuery::default()).await.unwrap();
    assert!(audit.iter().any(|e| e.kind == "csrf_refused"));

    // Validation: 400, per-field errors beside the fields, values kept, passwords not.
    let mut b = B::new(&h);
    let r = b
        .submit(
            "/auth/register",
            &[
                ("email", "not-an-address"),
                ("username", "newbie"),
                ("first_name", "New"),
                ("last_name", ""),
                ("password", "secret words here"),
                ("password2", "other words here"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.raw);
    assert!(
        r.raw.contains("id=\"email-error\" role=\"alert\""),
        "{}",
        r.raw
    );
    assert!(r.raw.contains("id=\"password2-error\""));
    assert!(r.raw.contains("aria-describedby=\"email-error\""));
    assert!(r.raw.contains("value=\"not-an-address\"") && r.raw.contains("value=\"newbie\""));
    assert!(!r.raw.contains("secret words here") && !r.raw.contains("other words here"));
    assert_accessible(&r.raw);
    // A weak password is a field error too.
    let r = b
        .submit(
            "/auth/register",
            &[
                ("email", "x@example.org"),
                ("password", "a"),
                ("password2", "a"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.raw.contains("id=\"password-error\""));
}

#[tokio::test]
async fn wrong_password_then_throttled() {
    let h = H::new().await;
    h.user("ann", "ann@example.org").await;
    let mut b = B::new(&h);
    for _ in 0..5 {
        let r = b
            .submit(
                "/auth/login",
                &[("username", "ann"), ("password", "wrong guess")],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(r.raw.contains("role=\"alert\""));
        assert!(r.raw.contains("value=\"ann\""));
        assert!(!r.raw.contains("wrong guess"));
    }
    let r = b
        .submit("/auth/login", &[("username", "ann"), ("password", PW)])
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.raw);
    assert!(r.headers.contains_key(header::RETRY_AFTER));
    assert!(r.raw.contains("role=\"alert\"") && r.raw.contains("retry in"));
    // Unknown accounts answer exactly like wrong passwords.
    let mut c = B::new(&h);
    let x = c
        .submit(
            "/auth/login",
            &[("username", "nobody"), ("password", "wrong guess")],
        )
        .await;
    assert_eq!(x.status, StatusCode::UNAUTHORIZED);
    // Current-password checks on the pages are throttled as well.
    let mut d = B::new(&h);
    h.user("bob", "bob@example.org").await;
    h.clock.advance(3600);
    d.submit("/auth/login", &[("username", "bob"), ("password", PW)])
        .await;
    let mut last = StatusCode::OK;
    for _ in 0..6 {
        last = d
            .submit(
                "/auth/change_password",
                &[
                    ("old_password", "not it at all"),
                    ("new_password", NEW_PW),
                    ("new_password2", NEW_PW),
                ],
            )
            .await
            .status;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn came_from_is_followed_only_when_safe() {
    let h = H::with(|c| c.trusted_origins = vec!["https://app.test".to_owned()]).await;
    h.user("ann", "ann@example.org").await;
    for (came_from, expected) in [
        ("/docs?page=2", "/docs?page=2"),
        ("https://app.test/admin", "https://app.test/admin"),
        ("https://portal.test/x", "https://portal.test/x"),
        ("https://evil.test/", "/auth/profile"),
        ("//evil.test/", "/auth/profile"),
        ("/\\evil.test", "/auth/profile"),
        ("javascript:alert(1)", "/auth/profile"),
        ("https://app.test@evil.test/", "/auth/profile"),
        ("", "/auth/profile"),
    ] {
        let mut b = B::new(&h);
        let page = b.get("/auth/login").await;
        let token = csrf(&page.raw);
        let r = b
            .post(
                "/auth/login",
                &[
                    ("csrf_token", &token),
                    ("came_from", came_from),
                    ("username", "ann"),
                    ("password", PW),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{came_from}: {}", r.raw);
        assert_eq!(location(&r), expected, "{came_from}");
    }
    // The GET puts a safe came_from into the form, and drops an unsafe one.
    let mut b = B::new(&h);
    let page = b.get("/auth/login?came_from=%2Fdocs%3Fa%3D1").await;
    assert_eq!(
        attr_value(&page.raw, "came_from").as_deref(),
        Some("/docs?a=1")
    );
    let page = b
        .get("/auth/login?came_from=https%3A%2F%2Fevil.test%2F")
        .await;
    assert_eq!(attr_value(&page.raw, "came_from").as_deref(), Some(""));
    // The form-action of the CSP allows the trusted origin the login may redirect to.
    let csp = page.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(
        csp.contains("form-action 'self' https://portal.test https://app.test"),
        "{csp}"
    );
}

#[tokio::test]
async fn hostile_input_is_escaped() {
    let h = H::new().await;
    let hostile = "<script>alert(\"x\")</script>&'";
    let mut b = B::new(&h);
    let r = b
        .submit(
            "/auth/register",
            &[
                ("email", hostile),
                ("first_name", hostile),
                ("password", PW),
                ("password2", PW),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(!r.raw.contains("<script>"), "{}", r.raw);
    assert!(
        r.raw
            .contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#x27;")
    );
    // A stored hostile name is escaped on the profile page.
    let uid = h.user("eve", "eve@example.org").await;
    h.store
        .update_user(
            uid,
            &portcullis_store::UserUpdate {
                first_name: Some(hostile.to_owned()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    b.submit("/auth/login", &[("username", "eve"), ("password", PW)])
        .await;
    let profile = b.get("/auth/profile").await;
    assert!(!profile.raw.contains("<script>"));
    assert!(profile.raw.contains("&lt;script&gt;"));
    // A hostile notice key shows nothing; a hostile came_from is not echoed.
    let page = b
        .get("/auth/login?notice=%3Cscript%3E&came_from=%22%3E%3Cscript%3E")
        .await;
    assert!(!page.raw.contains("<script>"));
    assert!(!page.raw.contains("role=\"status\""));
}

#[tokio::test]
async fn templates_dir_overrides_pages_and_mails() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("pages")).unwrap();
    std::fs::create_dir_all(dir.path().join("mail")).unwrap();
    std::fs::write(
        dir.path().join("pages/login.html"),
        "{% extends \"base.html\" %}{% block title %}Sign in{% endblock %}\
         {% block content %}<h1>Welcome to {{ site_name }}</h1>\
         <form method=\"post\" action=\"/auth/login\"><input type=\"hidden\" name=\"csrf_token\" value=\"{{ csrf_token }}\">\
         <label for=\"username\">Who</label><input id=\"username\" name=\"username\">\
         <label for=\"password\">Secret</label><input id=\"password\" name=\"password\" type=\"password\">\
         <button type=\"submit\">Go</button></form>{% endblock %}",
    )
    .unwrap();
    std::fs::write(dir.path().join("pages/portal.css"), "body { color: teal; }").unwrap();
    std::fs::write(
        dir.path().join("mail/verify_email.txt"),
        "Subject: Hi from {{ site_name }}\n\nClick {{ link }}\n",
    )
    .unwrap();
    let path = dir.path().to_owned();
    let h = H::with(move |c| {
        c.templates_dir = Some(path);
        c.site_name = "Acme".to_owned();
    })
    .await;
    let mut b = B::new(&h);
    let page = b.get("/auth/login").await;
    assert!(
        page.raw.contains("<h1>Welcome to Acme</h1>"),
        "{}",
        page.raw
    );
    assert!(
        page.raw.contains("<title>Sign in · Acme</title>"),
        "the base layout is still built in"
    );
    assert_eq!(
        b.get("/auth/static/portal.css").await.raw,
        "body { color: teal; }"
    );
    // Other pages stay built in.
    assert!(
        b.get("/auth/register")
            .await
            .raw
            .contains("Create an account")
    );
    // The overridden mail text; the HTML part stays built in.
    b.submit(
        "/auth/register",
        &[
            ("email", "new@example.org"),
            ("password", PW),
            ("password2", PW),
        ],
    )
    .await;
    let mail = h.mailer.sent().pop().unwrap();
    assert_eq!(mail.subject, "Hi from Acme");
    assert!(
        mail.text
            .starts_with("Click https://portal.test/auth/verify_email?token=")
    );
    assert!(mail.html.unwrap().contains("Confirm my address"));
}

#[tokio::test]
async fn mail_bombing_is_limited_without_changing_answers() {
    let h = H::new().await;
    h.user("ann", "ann@example.org").await;
    let mut b = B::new(&h);
    let mut answers = Vec::new();
    for _ in 0..8 {
        let r = b
            .submit(
                "/auth/request_reset_password",
                &[("email", "ann@example.org")],
            )
            .await;
        answers.push((r.status, location(&r)));
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
    let to_ann = h
        .mailer
        .sent()
        .iter()
        .filter(|m| m.to == "ann@example.org")
        .count();
    assert_eq!(to_ann, 5, "per-recipient limit (default 5 an hour)");
    let audit = h.store.list_audit(&AuditQuery::default()).await.unwrap();
    assert!(audit.iter().any(|e| e.kind == "mail_throttled"));
    // Registrations with a taken address are limited the same way (JSON API too).
    for _ in 0..3 {
        let r = h
            .post(
                "/auth/api/register",
                serde_json::json!({"email": "ann@example.org", "password": PW}),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK);
    }
    let to_ann_now = h
        .mailer
        .sent()
        .iter()
        .filter(|m| m.to == "ann@example.org")
        .count();
    assert_eq!(to_ann_now, 5);
    // An hour later the address can get mail again.
    h.clock.advance(3601);
    b.submit(
        "/auth/request_reset_password",
        &[("email", "ann@example.org")],
    )
    .await;
    assert_eq!(
        h.mailer
            .sent()
            .iter()
            .filter(|m| m.to == "ann@example.org")
            .count(),
        6
    );
}

#[tokio::test]
async fn bad_input_gets_a_4xx_page() {
    let h = H::new().await;
    let mut b = B::new(&h);
    let page = b.get("/auth/login").await;
    let token = csrf(&page.raw);
    let cookie = b.cookie.clone();
    let big = format!("csrf_token={token}&username={}", "a".repeat(40_000));
    let cases: Vec<(&str, Option<&str>, Vec<u8>, StatusCode)> = vec![
        (
            "/auth/login",
            Some(FORM),
            big.into_bytes(),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            "/auth/login",
            Some("application/json"),
            b"{\"username\":\"a\"}".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "/auth/register",
            Some("multipart/form-data; boundary=x"),
            b"--x--".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "/auth/register",
            None,
            b"a=b".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "/auth/login",
            Some(FORM),
            b"username=%FF%FE&password=x".to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/auth/login",
            Some(FORM),
            vec![b'u', b'=', 0xff, 0xfe],
            StatusCode::BAD_REQUEST,
        ),
        (
            "/auth/login",
            Some(FORM),
            b"username=%G1".to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/auth/reset_password",
            Some(FORM),
            b"token=a&token=b".to_vec(),
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (path, ctype, body, status) in cases {
        let r = h
            .send(H::request("POST", path, ctype, body, cookie.as_deref()))
            .await;
        assert_eq!(r.status, status, "{path} {ctype:?}: {}", r.raw);
        assert_page_headers(&r);
        assert!(r.raw.contains("role=\"alert\""), "{}", r.raw);
    }
    // Absurdly long values with a valid token: a 400 form, never a 500.
    let long = "x".repeat(5000);
    let r = b
        .submit(
            "/auth/register",
            &[
                ("email", "long@example.org"),
                ("first_name", &long),
                ("password", PW),
                ("password2", PW),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.raw);
    assert!(r.raw.contains("id=\"first_name-error\""));
    let r = b
        .submit(
            "/auth/reset_password?token=abc",
            &[
                ("token", &long),
                ("new_password", PW),
                ("new_password2", PW),
            ],
        )
        .await;
    assert!(r.status.is_client_error(), "{}", r.status);
    // A malformed query on a page is a 400 page.
    let r = b.get("/auth/login?came_from=%FF").await;
    assert!(
        r.status.is_client_error() || r.status == StatusCode::OK,
        "{}",
        r.status
    );
    assert_ne!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn every_form_checks_csrf_origin_and_fields() {
    let h = H::new().await;
    h.user("ann", "ann@example.org").await;
    let mut b = B::new(&h);
    b.submit("/auth/login", &[("username", "ann"), ("password", PW)])
        .await;
    let forms = [
        "/auth/login",
        "/auth/register",
        "/auth/verify_email",
        "/auth/request_reset_password",
        "/auth/reset_password",
        "/auth/profile",
        "/auth/change_password",
        "/auth/change_email",
        "/auth/logout",
    ];
    let token = csrf(&b.get("/auth/profile").await.raw);
    for path in forms {
        // Without the token, and with another session's token: 403, nothing done.
        let r = b.post(path, &[("first_name", "Mallory")]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}: {}", r.raw);
        assert!(r.raw.contains("role=\"alert\""), "{path}");
        assert_page_headers(&r);
        let mut other = B::new(&h);
        let theirs = csrf(&other.get("/auth/login").await.raw);
        let r = b
            .post(path, &[("csrf_token", &theirs), ("first_name", "Mallory")])
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}");
        // The right token from a foreign Origin: 403 as well.
        let req = with_origin(
            H::form(
                path,
                form_body(&[("csrf_token", &token), ("first_name", "Mallory")]),
                b.cookie.as_deref(),
            ),
            "null",
        );
        assert_eq!(h.send(req).await.status, StatusCode::FORBIDDEN, "{path}");
    }
    // Still logged in, nothing changed.
    let profile = b.get("/auth/profile").await;
    assert_eq!(profile.status, StatusCode::OK);
    assert!(!profile.raw.contains("Mallory"));
    // Field errors on each logged-in form and the reset request.
    let long = "n".repeat(300);
    for (path, fields, field) in [
        (
            "/auth/profile",
            vec![("first_name", long.as_str()), ("last_name", "x")],
            "first_name",
        ),
        (
            "/auth/change_password",
            vec![
                ("old_password", PW),
                ("new_password", NEW_PW),
                ("new_password2", "something else entirely"),
            ],
            "new_password2",
        ),
        (
            "/auth/change_email",
            vec![("new_email", "no at sign"), ("password", PW)],
            "new_email",
        ),
        (
            "/auth/change_email",
            vec![("new_email", "ann@example.org"), ("password", PW)],
            "new_email",
        ),
        ("/auth/request_reset_password", vec![("email", "")], "email"),
        (
            "/auth/login",
            vec![("username", ""), ("password", "")],
            "username",
        ),
    ] {
        let r = b.submit(path, &fields).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}: {}", r.raw);
        assert!(
            r.raw
                .contains(&format!("id=\"{field}-error\" role=\"alert\"")),
            "{path}: {}",
            r.raw
        );
        assert_accessible(&r.raw);
    }
}

#[tokio::test]
async fn a_broken_link_offers_a_new_link_of_its_own_kind() {
    let h = H::with(|c| c.magic_links = true).await;
    for (path, offer, not) in [
        (
            "/auth/verify_email",
            None,
            ["Get a new password-reset link", "Get a new sign-in link"],
        ),
        (
            "/auth/reset_password",
            Some("href=\"/auth/request_reset_password\""),
            ["Get a new sign-in link", "verify"],
        ),
        (
            "/auth/magic_login",
            Some("href=\"/auth/magic_link\""),
            ["Get a new password-reset link", "verify"],
        ),
    ] {
        let r = h.get(path, None).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}: {}", r.raw);
        assert!(r.raw.contains("Invalid link"), "{path}");
        assert!(r.raw.contains("href=\"/auth/login\""), "{path}");
        if let Some(offer) = offer {
            assert!(r.raw.contains(offer), "{path}: {}", r.raw);
        }
        for text in not {
            assert!(!r.raw.contains(text), "{path} offers `{text}`: {}", r.raw);
        }
    }
}
