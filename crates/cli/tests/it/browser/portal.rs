//! The portal's HTML pages (`portcullis serve` without `--demo`) in a real browser: the
//! whole account life cycle through e-mailed links, and `came_from` after a login.

use std::sync::Arc;

use super::{Browser, Js, Server, mailbox, portal_server, run};

/// Passwords the policy accepts (long, not common).
const FIRST: &str = "Quartz-Lantern-Meadow-4817";
const SECOND: &str = "Velvet-Orbit-Harbor-2593";
const THIRD: &str = "Copper-Willow-Sundial-7306";

/// The error of a used, expired or forged link from a mail.
const USED_LINK: &str = "This link is invalid, was already used or has expired.";

/// The one error of a failed login (wrong password, unknown account alike).
const WRONG_LOGIN: &str = "The username, e-mail address or password is wrong.";

/// Logs in through the login form (the page must be open) and returns when the next
/// page has loaded.
async fn log_in(b: &Browser, login: &str, password: &str) {
    b.fill("username", login).await;
    b.fill("password", password).await;
    b.submit_form_of("password").await;
}

/// register → verify through the e-mailed link → login → profile → change password →
/// logout → forgot password → reset through the e-mailed link → login with the new password.
async fn account_life_cycle(b: Browser, server: Arc<Server>) {
    let mail = mailbox(&server);
    let email = "ada@example.org";

    // Register.
    b.goto(&server.url("/auth/register")).await;
    assert_eq!(b.h1().await, "Create an account");
    b.fill("email", email).await;
    b.fill("username", "ada").await;
    b.fill("first_name", "Ada").await;
    b.fill("last_name", "Lovelace").await;
    b.fill("password", FIRST).await;
    b.fill("password2", FIRST).await;
    b.shot("register-filled").await;
    let before = mail.count();
    b.submit_form_of("password2").await;
    assert_eq!(b.alerts().await, "", "{}", b.body_text().await);
    assert_eq!(b.h1().await, "Check your mail");
    assert_eq!(b.notices().await, "Registration received.");
    b.shot("registered-check-mail").await;

    // Not verified yet: the login is refused.
    b.goto(&server.url("/auth/login")).await;
    log_in(&b, "ada", FIRST).await;
    assert_eq!(b.url().await.path(), "/auth/login");
    assert!(
        b.alerts().await.contains("not verified"),
        "an unverified login says why: {}",
        b.body_text().await
    );
    b.shot("login-before-verification-refused").await;

    // Verify through the link in the mail: a page with a confirm button, then "verified".
    let verify = mail.wait_for(before, email, "verify_email?token=").await;
    b.keep_mail("verification-mail", &verify);
    let link = verify.link(&server.base(), "verify_email?token=").unwrap();
    b.goto(&link).await;
    assert_eq!(b.h1().await, "Confirm your e-mail address");
    b.shot("verify-page").await;
    b.press("").await;
    assert_eq!(b.alerts().await, "", "{}", b.body_text().await);
    assert_eq!(b.h1().await, "E-mail address verified");
    assert!(
        b.notices().await.contains("verified"),
        "{}",
        b.body_text().await
    );
    b.shot("verified").await;
    let login_link = b
        .link_containing("/auth/login")
        .await
        .expect("the verified page links to the login page");
    b.click_and_wait(&login_link).await;
    assert_eq!(b.url().await.path(), "/auth/login");
    assert_eq!(b.h1().await, "Log in");

    // The link works once.
    b.goto(&link).await;
    b.press("").await;
    assert_eq!(b.h1().await, "Invalid link");
    assert_eq!(b.alerts().await, USED_LINK);
    b.shot("verify-link-used-again").await;

    // Log in: the profile, with the registered names.
    b.goto(&server.url("/auth/login")).await;
    b.shot("login-page").await;
    log_in(&b, "ada", FIRST).await;
    assert_eq!(b.alerts().await, "", "{}", b.body_text().await);
    assert_eq!(b.url().await.path(), "/auth/profile");
    assert_eq!(b.h1().await, "Your profile");
    assert_eq!(b.value("first_name").await, "Ada");
    assert_eq!(b.value("last_name").await, "Lovelace");
    b.shot("profile").await;

    // Edit the profile: a notice, and the new value is kept.
    b.fill("last_name", "King").await;
    b.submit_form_of("last_name").await;
    assert_eq!(b.alerts().await, "", "{}", b.body_text().await);
    assert_eq!(b.notices().await, "Your profile was saved.");
    b.shot("profile-saved-notice").await;
    b.goto(&server.url("/auth/profile")).await;
    assert_eq!(b.value("last_name").await, "King");
    b.shot("profile-saved").await;

    // Change the password: a wrong current password is refused, the right one accepted.
    b.follow("/auth/change_password").await;
    assert_eq!(b.h1().await, "Change your password");
    b.fill("old_password", "not-my-password").await;
    b.fill("new_password", SECOND).await;
    b.fill("new_password2", SECOND).await;
    b.submit_form_of("new_password2").await;
    assert!(
        b.alerts().await.contains("The current password is wrong."),
        "{}",
        b.body_text().await
    );
    b.shot("change-password-wrong-old").await;
    b.goto(&server.url("/auth/change_password")).await;
    b.fill("old_password", FIRST).await;
    b.fill("new_password", SECOND).await;
    b.fill("new_password2", SECOND).await;
    b.shot("change-password-filled").await;
    b.submit_form_of("new_password2").await;
    assert_eq!(b.alerts().await, "", "{}", b.body_text().await);
    assert_eq!(b.url().await.path(), "/auth/profile");
    assert!(
        b.notices().await.starts_with("Your password was changed."),
        "{}",
        b.body_text().await
    );
    b.shot("password-changed").await;

    // Log out: a confirm page, then the login page; the profile is closed again.
    b.goto(&server.url("/auth/profile")).await;
    b.follow("/auth/logout").await;
    assert_eq!(b.url().await.path(), "/auth/logout");
    assert_eq!(b.h1().await, "Log out");
    b.shot("logout-confirm").await;
    b.press("").await;
    assert_eq!(b.url().await.path(), "/auth/login");
    assert_eq!(b.notices().await, "You are logged out.");
    b.shot("logged-out").await;
    b.goto(&server.url("/auth/profile")).await;
    assert_eq!(b.url().await.path(), "/auth/login", "logged out for real");

    // The old password no longer works.
    log_in(&b, "ada", FIRST).await;
    assert_eq!(b.url().await.path(), "/auth/login");
    assert_eq!(b.alerts().await, WRONG_LOGIN);
    b.shot("old-password-refused").await;

    // Forgot password: request a reset link by e-mail.
    b.follow("/auth/request_reset_password").await;
    assert_eq!(b.h1().await, "Forgot your password?");
    b.fill("email", email).await;
    let before = mail.count();
    b.submit_form_of("email").await;
    assert_eq!(b.alerts().await, "", "{}", b.body_text().await);
    assert_eq!(b.h1().await, "Check your mail");
    assert_eq!(b.notices().await, "Request received.");
    b.shot("reset-requested").await;

    // Reset through the link in the mail.
    let reset = mail.wait_for(before, email, "reset_password?token=").await;
    b.keep_mail("reset-mail", &reset);
    let link = reset.link(&server.base(), "reset_password?token=").unwrap();
    b.goto(&link).await;
    assert_eq!(b.h1().await, "Choose a new password");
    b.fill("new_password", THIRD).await;
    b.fill("new_password2", THIRD).await;
    b.shot("reset-filled").await;
    b.submit_form_of("new_password2").await;
    assert_eq!(b.alerts().await, "", "{}", b.body_text().await);
    assert_eq!(b.url().await.path(), "/auth/login");
    assert!(
        b.notices().await.starts_with("Your password was changed"),
        "{}",
        b.body_text().await
    );
    b.shot("password-reset").await;

    // The reset link works once.
    b.goto(&link).await;
    b.fill("new_password", SECOND).await;
    b.fill("new_password2", SECOND).await;
    b.submit_form_of("new_password2").await;
    assert_eq!(b.h1().await, "Invalid link");
    assert_eq!(b.alerts().await, USED_LINK);
    b.shot("reset-link-used-again").await;

    // Log in with the new password, by e-mail address this time.
    b.goto(&server.url("/auth/login")).await;
    log_in(&b, email, SECOND).await;
    assert_eq!(
        b.alerts().await,
        WRONG_LOGIN,
        "the password before the reset is refused"
    );
    log_in(&b, email, THIRD).await;
    assert_eq!(b.alerts().await, "", "{}", b.body_text().await);
    assert_eq!(b.url().await.path(), "/auth/profile");
    assert_eq!(b.value("first_name").await, "Ada");
    b.shot("logged-in-with-new-password").await;
}

#[test]
fn portal_register_verify_login_change_logout_reset_login() {
    run(
        "portal_register_verify_login_change_logout_reset_login",
        Js(true),
        portal_server,
        account_life_cycle,
    );
}

#[test]
fn portal_register_verify_login_change_logout_reset_login_without_javascript() {
    run(
        "portal_register_verify_login_change_logout_reset_login_without_javascript",
        Js(false),
        portal_server,
        account_life_cycle,
    );
}

/// An anonymous visit to `/auth/profile` → the login page → after logging in, the profile.
async fn came_from_profile(b: Browser, server: Arc<Server>) {
    let init = crate::util::run(&[
        "--database",
        server.database(),
        "init",
        "--email",
        "root@example.org",
    ]);
    assert_eq!(init.code, 0, "{init:?}");
    let password = init.stdout.trim().to_owned();

    b.goto(&server.url("/auth/profile")).await;
    let url = b.url().await;
    assert_eq!(url.path(), "/auth/login", "{url:?}");
    assert_eq!(
        url.query("came_from").as_deref(),
        Some("/auth/profile"),
        "{url:?}"
    );
    assert_eq!(b.h1().await, "Log in");
    assert_eq!(b.alerts().await, "");
    b.shot("anonymous-profile-is-login").await;
    b.fill("username", "admin").await;
    b.fill("password", "wrong-password-here").await;
    b.submit_form_of("password").await;
    assert_eq!(b.alerts().await, WRONG_LOGIN);
    b.shot("login-failed").await;
    log_in(&b, "admin", &password).await;
    assert_eq!(b.alerts().await, "", "{}", b.body_text().await);
    let url = b.url().await;
    assert_eq!(url.path(), "/auth/profile", "{url:?}");
    assert_eq!(b.h1().await, "Your profile");
    b.shot("back-on-profile").await;
}

#[test]
fn portal_anonymous_profile_login_returns_to_profile() {
    run(
        "portal_anonymous_profile_login_returns_to_profile",
        Js(true),
        portal_server,
        came_from_profile,
    );
}
