//! `portcullis serve --demo` in a real browser: an anonymous visit to `/secret` goes to the
//! login page and, after logging in, back to `/secret` (`came_from`); a failed login shows
//! an error; a user without `topsecret` sees the 403 page; logout ends the login.

use std::sync::Arc;

use super::{Browser, Js, Server, demo_server, run};

async fn came_from_secret(b: Browser, server: Arc<Server>) {
    b.goto(&server.url("/secret")).await;
    let url = b.url().await;
    assert_eq!(url.path(), "/login", "{url:?}");
    assert_eq!(
        url.query("came_from").as_deref(),
        Some("/secret"),
        "{url:?}"
    );
    assert_eq!(b.h1().await, "Log in");
    assert_eq!(b.alerts().await, "");
    b.shot("anonymous-secret-is-login").await;

    // A wrong password: the form again, with one generic error.
    b.fill("login", "superuser").await;
    b.fill("password", "not-the-password").await;
    b.shot("wrong-password-typed").await;
    b.submit_form_of("password").await;
    assert_eq!(b.h1().await, "Log in");
    assert!(
        b.alerts().await.starts_with("Login failed"),
        "{}",
        b.body_text().await
    );
    assert_eq!(b.value("login").await, "superuser", "the login is kept");
    b.shot("login-failed").await;

    // The right one: back on /secret.
    b.fill("password", "secret123").await;
    b.submit_form_of("password").await;
    let url = b.url().await;
    assert_eq!(url.path(), "/secret", "{url:?}");
    assert_eq!(b.h1().await, "Top secret");
    assert!(
        b.body_text().await.contains("The secret is: 42"),
        "{}",
        b.body_text().await
    );
    b.shot("secret-after-login").await;

    // Home greets the user; logout goes to the login page and really logs out.
    b.follow("/").await;
    assert_eq!(b.h1().await, "Home");
    assert!(
        b.body_text().await.contains("Welcome back, superuser!"),
        "{}",
        b.body_text().await
    );
    b.shot("home").await;
    b.press("Log out").await;
    assert_eq!(b.url().await.path(), "/login");
    assert_eq!(b.h1().await, "Log in");
    b.shot("logged-out").await;
    b.goto(&server.url("/secret")).await;
    assert_eq!(b.url().await.path(), "/login", "logged out for real");

    // genericuser may enter but not read the secret: a 403 page naming the permission.
    b.fill("login", "genericuser").await;
    b.fill("password", "basic123").await;
    b.submit_form_of("password").await;
    assert_eq!(b.url().await.path(), "/secret");
    assert_eq!(b.h1().await, "403 Forbidden");
    let text = b.body_text().await;
    assert!(text.contains("requires the topsecret permission"), "{text}");
    b.shot("genericuser-forbidden").await;
}

#[test]
fn demo_anonymous_secret_login_returns_to_secret() {
    run(
        "demo_anonymous_secret_login_returns_to_secret",
        Js(true),
        demo_server,
        came_from_secret,
    );
}

#[test]
fn demo_anonymous_secret_login_returns_to_secret_without_javascript() {
    run(
        "demo_anonymous_secret_login_returns_to_secret_without_javascript",
        Js(false),
        demo_server,
        came_from_secret,
    );
}

/// Seed 001's admin side: an anonymous visit to `/admin/users` gets the "sign in as an
/// administrator" page, whose link leads to the login page and back; a user who is not an
/// administrator is back on that page, the administrator sees the users.
async fn admin_side_came_from(b: Browser, server: Arc<Server>) {
    b.goto(&server.url("/public")).await;
    assert_eq!(b.h1().await, "The public side");
    assert!(
        b.body_text()
            .await
            .contains("You are not signed in, and you need not be."),
        "{}",
        b.body_text().await
    );
    b.shot("public-side").await;
    b.goto(&server.url("/admin/users")).await;
    assert_eq!(b.h1().await, "Portcullis Group Auth Demo Admin");
    assert!(
        b.body_text()
            .await
            .contains("You need to sign in as an administrator to see this page."),
        "{}",
        b.body_text().await
    );
    b.shot("admin-sign-in-page").await;
    b.follow_text("Sign in").await;
    let url = b.url().await;
    assert_eq!(url.path(), "/login", "{url:?}");
    assert_eq!(url.query("came_from").as_deref(), Some("/admin/users"));

    // Not an administrator: back under /admin, told so.
    b.fill("login", "genericuser").await;
    b.fill("password", "basic123").await;
    b.submit_form_of("password").await;
    assert_eq!(b.url().await.path(), "/admin/users");
    assert!(
        b.body_text()
            .await
            .contains("You are signed in, but not as an administrator."),
        "{}",
        b.body_text().await
    );
    b.shot("genericuser-not-admin").await;

    // The administrator: the user list.
    b.follow_text("Sign in").await;
    b.fill("login", "admin").await;
    b.fill("password", "admin123").await;
    b.submit_form_of("password").await;
    assert_eq!(b.url().await.path(), "/admin/users");
    assert_eq!(b.h1().await, "Users");
    let table = b.body_text().await;
    for user in ["admin", "genericuser", "superuser"] {
        assert!(table.contains(user), "{user} is listed: {table}");
    }
    b.shot("admin-users").await;
}

#[test]
fn demo_admin_side_sign_in_returns_to_admin_users() {
    run(
        "demo_admin_side_sign_in_returns_to_admin_users",
        Js(true),
        demo_server,
        admin_side_came_from,
    );
}
