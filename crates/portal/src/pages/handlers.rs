//! The page handlers: thin adapters between forms and [`crate::flows`].

use std::collections::HashMap;

use axum::extract::{Request, State};
use axum::response::Response;
use http::{HeaderValue, StatusCode};
use portcullis_store::User;
use serde_json::{Value, json};

use crate::ctx::{Ctx, current};
use crate::flows::{
    self, ChangeEmailIn, ChangePasswordIn, LoginIn, MagicLinkIn, ProfileIn, RegisterIn, Registered,
    ResetIn, ResetRequestIn, Verified,
};
use crate::state::PortalState;

use super::form::*;
use super::page::*;

pub(super) async fn css(State(st): State<PortalState>) -> Response {
    crate::html::stylesheet(st.inner.pages.css())
}

/// A GET of a form page: renders `spec` with `values`; `notice` from the query flag.
pub(super) async fn show(
    st: &PortalState,
    ctx: &Ctx,
    q: &HashMap<String, String>,
    spec: &FormSpec,
    values: Value,
) -> Response {
    let mut page = Page::new(spec.template).set("values", values);
    if let Some(n) = q.get("notice").and_then(|k| notice(k)) {
        page = page.set("notice", n);
    }
    page.finish(st, ctx).await
}

/// A page handler's answer: `Err` is an answer made early (a refusal, a redirect).
pub(super) type Answer = Result<Response, Response>;

/// Splits a GET into its context and query (or answers 400).
pub(super) async fn get_parts(
    st: &PortalState,
    req: Request,
) -> Result<(Ctx, HashMap<String, String>), Response> {
    let (parts, _) = req.into_parts();
    let ctx = Ctx::new(st, &parts);
    match query(&parts) {
        Ok(q) => Ok((ctx, q)),
        Err(e) => Err(request_error(st, &ctx, e).await),
    }
}

/// A form post to the page of `spec`: its context and form, or the refusal's page.
pub(super) async fn post_form(
    st: &PortalState,
    req: Request,
    spec: &FormSpec,
) -> Result<(Ctx, Form), Response> {
    let (ctx, form) = read_post(st, req).await;
    match form {
        Ok(form) => Ok((ctx, form)),
        Err(why) => Err(refused(st, &ctx, why, spec).await),
    }
}

pub(super) async fn login_get(State(st): State<PortalState>, req: Request) -> Answer {
    let (ctx, q) = get_parts(&st, req).await?;
    let came_from = q
        .get("came_from")
        .and_then(|c| st.inner.config.safe_came_from(c))
        .unwrap_or_default();
    Ok(show(&st, &ctx, &q, &LOGIN, json!({"came_from": came_from})).await)
}

pub(super) async fn login_post(State(st): State<PortalState>, req: Request) -> Answer {
    let (ctx, form) = post_form(&st, req, &LOGIN).await?;
    let input = LoginIn {
        email: None,
        username: Some(form.get("username")),
        password: form.get("password"),
        remember: Some(form.opt("remember").is_some()),
    };
    Ok(match flows::login(&st, &ctx, input).await {
        Ok(done) => {
            let target = form
                .opt("came_from")
                .and_then(|c| st.inner.config.safe_came_from(&c))
                .filter(|c| HeaderValue::from_str(c).is_ok())
                .unwrap_or_else(|| "/auth/profile".to_owned());
            see_other(&st, &target, Some(&done.cookie))
        }
        Err(e) => form_error(&st, &ctx, &LOGIN, &form, e).await,
    })
}

pub(super) async fn register_get(State(st): State<PortalState>, req: Request) -> Answer {
    let (ctx, q) = get_parts(&st, req).await?;
    if q.get("done").is_some_and(|d| d == "check_mail") {
        let text = "If the address can be used, we sent it a message: open the link in it to activate your account.";
        return Ok(Page::done(
            "Check your mail",
            text,
            "Registration received.",
            &[("/auth/login", "Log in")],
        )
        .finish(&st, &ctx)
        .await);
    }
    if !st.inner.config.registration {
        return Ok(
            Page::message(StatusCode::FORBIDDEN, "Registration is closed", "")
                .alert("Registration is disabled on this site.")
                .finish(&st, &ctx)
                .await,
        );
    }
    Ok(show(&st, &ctx, &q, &REGISTER, json!({})).await)
}

pub(super) async fn register_post(State(st): State<PortalState>, req: Request) -> Answer {
    let (ctx, form) = post_form(&st, req, &REGISTER).await?;
    let input = RegisterIn {
        email: form.get("email"),
        password: form.get("password"),
        password2: Some(form.get("password2")),
        username: form.opt("username"),
        first_name: form.get("first_name"),
        last_name: form.get("last_name"),
    };
    Ok(match flows::register(&st, &ctx, input).await {
        Ok(Registered::CheckMail) => see_other(&st, "/auth/register?done=check_mail", None),
        Ok(Registered::Done) => see_other(&st, "/auth/login?notice=registered", None),
        Err(e) => form_error(&st, &ctx, &REGISTER, &form, e).await,
    })
}

pub(super) async fn verify_get(State(st): State<PortalState>, req: Request) -> Answer {
    let (ctx, q) = get_parts(&st, req).await?;
    match q.get("done").map(String::as_str) {
        Some("verified") => {
            return Ok(Page::done(
                "E-mail address verified",
                "",
                "Your e-mail address is verified: you can log in now.",
                &[("/auth/login", "Log in")],
            )
            .finish(&st, &ctx)
            .await);
        }
        Some("email_changed") => {
            return Ok(Page::done(
                "E-mail address changed",
                "",
                "Your new e-mail address is confirmed and in use.",
                &[("/auth/profile", "Your profile"), ("/auth/login", "Log in")],
            )
            .finish(&st, &ctx)
            .await);
        }
        _ => {}
    }
    Ok(token_page(&st, &ctx, &q, &VERIFY).await)
}

/// The page of a mailed link that does not work, offering a new link of the same kind
/// where there is a way to ask for one.
pub(super) async fn bad_link(st: &PortalState, ctx: &Ctx, spec: &FormSpec, text: &str) -> Response {
    let again = match spec.template {
        t if t == RESET.template => Some((
            "/auth/request_reset_password",
            "Get a new password-reset link",
        )),
        t if t == MAGIC_LOGIN.template => Some(("/auth/magic_link", "Get a new sign-in link")),
        _ => None,
    };
    let mut links = vec![("/auth/login", "Log in")];
    links.extend(again);
    Page::message(StatusCode::BAD_REQUEST, "Invalid link", "")
        .alert(text)
        .links(&links)
        .finish(st, ctx)
        .await
}

/// The form page of a mailed link (`spec`) with its hidden `token`, or the bad-link page
/// when the link has none.
async fn token_page(
    st: &PortalState,
    ctx: &Ctx,
    q: &HashMap<String, String>,
    spec: &FormSpec,
) -> Response {
    match q.get("token").filter(|t| !t.is_empty()) {
        Some(token) => show(st, ctx, q, spec, json!({"token": token})).await,
        None => {
            let text = "This link has no token: copy the whole link from the mail.";
            bad_link(st, ctx, spec, text).await
        }
    }
}

pub(super) const EXPIRED: &str = "This link is invalid, was already used or has expired.";

pub(super) async fn verify_post(State(st): State<PortalState>, req: Request) -> Answer {
    let (ctx, form) = post_form(&st, req, &VERIFY).await?;
    Ok(
        match flows::verify_email(&st, &ctx, &form.get("token")).await {
            Ok(Verified::Account) => see_other(&st, "/auth/verify_email?done=verified", None),
            Ok(Verified::EmailChanged) => {
                see_other(&st, "/auth/verify_email?done=email_changed", None)
            }
            Err(e) if e.status == StatusCode::BAD_REQUEST => {
                bad_link(&st, &ctx, &VERIFY, EXPIRED).await
            }
            Err(e) => form_error(&st, &ctx, &VERIFY, &form, e).await,
        },
    )
}

pub(super) async fn request_reset_get(State(st): State<PortalState>, req: Request) -> Answer {
    let (ctx, q) = get_parts(&st, req).await?;
    if q.get("done").is_some_and(|d| d == "sent") {
        return Ok(Page::done(
            "Check your mail",
            "If the address belongs to an account, we sent it a link to choose a new password.",
            "Request received.",
            &[("/auth/login", "Log in")],
        )
        .finish(&st, &ctx)
        .await);
    }
    Ok(show(&st, &ctx, &q, &REQUEST_RESET, json!({})).await)
}

pub(super) async fn request_reset_post(State(st): State<PortalState>, req: Request) -> Answer {
    let (ctx, form) = post_form(&st, req, &REQUEST_RESET).await?;
    let input = ResetRequestIn {
        email: form.get("email"),
    };
    Ok(match flows::request_reset(&st, &ctx, input).await {
        Ok(()) => see_other(&st, "/auth/request_reset_password?done=sent", None),
        Err(e) => form_error(&st, &ctx, &REQUEST_RESET, &form, e).await,
    })
}

pub(super) async fn reset_get(State(st): State<PortalState>, req: Request) -> Answer {
    let (ctx, q) = get_parts(&st, req).await?;
    Ok(token_page(&st, &ctx, &q, &RESET).await)
}

pub(super) async fn reset_post(State(st): State<PortalState>, req: Request) -> Answer {
    let (ctx, form) = post_form(&st, req, &RESET).await?;
    let input = ResetIn {
        token: form.get("token"),
        new_password: form.get("new_password"),
        new_password2: Some(form.get("new_password2")),
    };
    Ok(match flows::reset_password(&st, &ctx, input).await {
        Ok(()) => see_other(&st, "/auth/login?notice=password_reset", None),
        Err(e) if e.errors.contains_key("token") => bad_link(&st, &ctx, &RESET, EXPIRED).await,
        Err(e) => form_error(&st, &ctx, &RESET, &form, e).await,
    })
}

/// The 403 page of the magic-link pages when `magic_links` is off.
async fn magic_links_off(st: &PortalState, ctx: &Ctx) -> Response {
    Page::message(StatusCode::FORBIDDEN, "Sign-in links are off", "")
        .alert("Signing in by e-mail link is disabled on this site.")
        .links(&[("/auth/login", "Log in")])
        .finish(st, ctx)
        .await
}

/// The safe `came_from` of a form, else the profile page.
fn target(st: &PortalState, came_from: Option<&str>) -> String {
    came_from
        .and_then(|c| st.inner.config.safe_came_from(c))
        .filter(|c| HeaderValue::from_str(c).is_ok())
        .unwrap_or_else(|| "/auth/profile".to_owned())
}

pub(super) async fn magic_link_get(State(st): State<PortalState>, req: Request) -> Answer {
    let (ctx, q) = get_parts(&st, req).await?;
    if !st.inner.config.magic_links {
        return Ok(magic_links_off(&st, &ctx).await);
    }
    if q.get("done").is_some_and(|d| d == "sent") {
        return Ok(Page::done(
            "Check your mail",
            "If the address belongs to an account, we sent it a link that signs you in. It works once, within 15 minutes.",
            "Request received.",
            &[("/auth/login", "Log in with a password")],
        )
        .finish(&st, &ctx)
        .await);
    }
    let came_from = q
        .get("came_from")
        .and_then(|c| st.inner.config.safe_came_from(c))
        .unwrap_or_default();
    Ok(show(&st, &ctx, &q, &MAGIC_LINK, json!({"came_from": came_from})).await)
}

pub(super) async fn magic_link_post(State(st): State<PortalState>, req: Request) -> Answer {
    if !st.inner.config.magic_links {
        let (parts, _) = req.into_parts();
        return Ok(magic_links_off(&st, &Ctx::new(&st, &parts)).await);
    }
    let (ctx, form) = post_form(&st, req, &MAGIC_LINK).await?;
    let input = MagicLinkIn {
        email: form.get("email"),
        came_from: form.opt("came_from"),
    };
    Ok(match flows::request_magic_link(&st, &ctx, input).await {
        Ok(()) => see_other(&st, "/auth/magic_link?done=sent", None),
        Err(e) => form_error(&st, &ctx, &MAGIC_LINK, &form, e).await,
    })
}

pub(super) async fn magic_login_get(State(st): State<PortalState>, req: Request) -> Answer {
    let (ctx, q) = get_parts(&st, req).await?;
    if !st.inner.config.magic_links {
        return Ok(magic_links_off(&st, &ctx).await);
    }
    // A confirm button, never a login on GET: mail scanners prefetch links.
    match q.get("token").filter(|t| !t.is_empty()) {
        Some(token) => {
            let came_from = q
                .get("came_from")
                .and_then(|c| st.inner.config.safe_came_from(c))
                .unwrap_or_default();
            let values = json!({"token": token, "came_from": came_from});
            Ok(show(&st, &ctx, &q, &MAGIC_LOGIN, values).await)
        }
        None => {
            let text = "This link has no token: copy the whole link from the mail.";
            Ok(bad_link(&st, &ctx, &MAGIC_LOGIN, text).await)
        }
    }
}

pub(super) async fn magic_login_post(State(st): State<PortalState>, req: Request) -> Answer {
    if !st.inner.config.magic_links {
        let (parts, _) = req.into_parts();
        return Ok(magic_links_off(&st, &Ctx::new(&st, &parts)).await);
    }
    let (ctx, form) = post_form(&st, req, &MAGIC_LOGIN).await?;
    Ok(
        match flows::magic_login(&st, &ctx, &form.get("token")).await {
            Ok(done) => {
                let to = target(&st, form.opt("came_from").as_deref());
                see_other(&st, &to, Some(&done.cookie))
            }
            Err(e) if e.errors.contains_key("token") => {
                bad_link(&st, &ctx, &MAGIC_LOGIN, EXPIRED).await
            }
            Err(e) => form_error(&st, &ctx, &MAGIC_LOGIN, &form, e).await,
        },
    )
}

/// A logged-in GET: the page with the user's values, or `303` to the login page.
pub(super) async fn user_get(
    st: &PortalState,
    req: Request,
    path: &str,
    spec: &FormSpec,
    values: impl FnOnce(&User) -> Value,
) -> Answer {
    let (ctx, q) = get_parts(st, req).await?;
    Ok(match current(st, &ctx).await {
        Ok(Some((user, _))) => show(st, &ctx, &q, spec, values(&user)).await,
        Ok(None) => to_login(st, path),
        Err(e) => request_error(st, &ctx, e).await,
    })
}

/// A logged-in POST: the form and the user, or the answer already made.
pub(super) async fn user_post(
    st: &PortalState,
    req: Request,
    path: &str,
    spec: &FormSpec,
) -> Result<(Ctx, Form, User), Response> {
    let (ctx, form) = post_form(st, req, spec).await?;
    match current(st, &ctx).await {
        Ok(Some((user, _))) => Ok((ctx, form, user)),
        Ok(None) => Err(to_login(st, path)),
        Err(e) => Err(request_error(st, &ctx, e).await),
    }
}

pub(super) async fn profile_get(State(st): State<PortalState>, req: Request) -> Answer {
    user_get(
        &st,
        req,
        "/auth/profile",
        &PROFILE,
        |u| json!({"first_name": u.first_name, "last_name": u.last_name}),
    )
    .await
}

pub(super) async fn profile_post(State(st): State<PortalState>, req: Request) -> Answer {
    let (ctx, form, user) = user_post(&st, req, "/auth/profile", &PROFILE).await?;
    let input = ProfileIn {
        first_name: Some(form.get("first_name")),
        last_name: Some(form.get("last_name")),
    };
    Ok(match flows::update_profile(&ctx, &user, input).await {
        Ok(_) => see_other(&st, "/auth/profile?notice=profile_updated", None),
        Err(e) => form_error(&st, &ctx, &PROFILE, &form, e).await,
    })
}

pub(super) async fn change_password_get(State(st): State<PortalState>, req: Request) -> Answer {
    user_get(&st, req, "/auth/change_password", &CHANGE_PASSWORD, |_| {
        json!({})
    })
    .await
}

pub(super) async fn change_password_post(State(st): State<PortalState>, req: Request) -> Answer {
    let (ctx, form, user) = user_post(&st, req, "/auth/change_password", &CHANGE_PASSWORD).await?;
    let input = ChangePasswordIn {
        old_password: form.get("old_password"),
        new_password: form.get("new_password"),
        new_password2: Some(form.get("new_password2")),
    };
    Ok(
        match flows::change_password(&st, &ctx, &user, input).await {
            Ok(cookie) => see_other(&st, "/auth/profile?notice=password_changed", Some(&cookie)),
            Err(e) => form_error(&st, &ctx, &CHANGE_PASSWORD, &form, e).await,
        },
    )
}

pub(super) async fn change_email_get(State(st): State<PortalState>, req: Request) -> Answer {
    user_get(&st, req, "/auth/change_email", &CHANGE_EMAIL, |_| json!({})).await
}

pub(super) async fn change_email_post(State(st): State<PortalState>, req: Request) -> Answer {
    let (ctx, form, user) = user_post(&st, req, "/auth/change_email", &CHANGE_EMAIL).await?;
    let input = ChangeEmailIn {
        password: form.get("password"),
        new_email: form.get("new_email"),
    };
    Ok(match flows::change_email(&st, &ctx, &user, input).await {
        Ok(()) => see_other(&st, "/auth/profile?notice=email_change_requested", None),
        Err(e) => form_error(&st, &ctx, &CHANGE_EMAIL, &form, e).await,
    })
}

pub(super) async fn logout_get(State(st): State<PortalState>, req: Request) -> Answer {
    let (ctx, q) = get_parts(&st, req).await?;
    Ok(show(&st, &ctx, &q, &LOGOUT, json!({})).await)
}

pub(super) async fn logout_post(State(st): State<PortalState>, req: Request) -> Response {
    let (ctx, form) = read_post(&st, req).await;
    if let Err(why) = form {
        return refused(&st, &ctx, why, &LOGOUT).await;
    }
    let user = current(&st, &ctx).await.ok().flatten().map(|(u, _)| u);
    match flows::logout(&st, &ctx, user.as_ref()).await {
        Ok(cookie) => see_other(&st, "/auth/login?notice=logged_out", Some(&cookie)),
        Err(e) => request_error(&st, &ctx, e).await,
    }
}
