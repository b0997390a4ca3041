//! The HTML pages of the portal: server-rendered forms over the same flows as the JSON
//! API ([`crate::flows`]), usable without JavaScript.
//!
//! | page | fields |
//! |---|---|
//! | `GET/POST /auth/login` | `username` (username or e-mail), `password`, `remember`, hidden `came_from` |
//! | `GET/POST /auth/register` | `email`, `username` (optional), `first_name`, `last_name`, `password`, `password2` |
//! | `GET/POST /auth/verify_email?token=` | hidden `token`: a confirm button (POST) |
//! | `GET/POST /auth/request_reset_password` | `email` |
//! | `GET/POST /auth/reset_password?token=` | hidden `token`, `new_password`, `new_password2` |
//! | `GET/POST /auth/magic_link` (`magic_links` on) | `email`, hidden `came_from` |
//! | `GET/POST /auth/magic_login?token=` (`magic_links` on) | hidden `token`, `came_from`: a confirm button (POST; mail scanners prefetch links) |
//! | `GET/POST /auth/profile` (login) | `first_name`, `last_name` |
//! | `GET/POST /auth/change_password` (login) | `old_password`, `new_password`, `new_password2` |
//! | `GET/POST /auth/change_email` (login) | `password`, `new_email` |
//! | `GET/POST /auth/logout` | a confirm button (POST) |
//!
//! Every form carries the session's CSRF token in the hidden `csrf_token` field, checked
//! on every POST (a present `Origin` must also be trusted). Answers: 200 pages; 303 after
//! a successful POST (POST/redirect/GET, the notice named by a `notice`/`done` query flag
//! from a fixed list, never text from the URL); the form re-rendered with the flow's
//! status on errors (400 validation, 401 wrong credentials, 403 wrong current password or
//! CSRF failure, 409 conflict, 429 throttled with `Retry-After`); a message page for a
//! bad body (413, 415, 400). Every page is `Cache-Control: no-store`, with a
//! Content-Security-Policy that allows no script at all, `X-Frame-Options: DENY`,
//! `frame-ancestors 'none'` and `Referrer-Policy: same-origin` (reset and verification
//! tokens are in URLs: they never leave the origin in a `Referer`).
//!
//! Templates (minijinja, auto-escaped) are built in and overridable file by file from
//! `templates_dir/pages/` (see [`PageTemplates`]).

mod form;
mod handlers;
mod page;
mod templates;

use axum::Router;
use axum::routing::get;

pub(crate) use templates::PageTemplates;

use crate::state::PortalState;
use handlers::*;

/// Path of the style sheet the pages link to.
pub(crate) const CSS_PATH: &str = "/auth/static/portal.css";

/// The pages' routes (state: [`PortalState`]).
pub(crate) fn router() -> Router<PortalState> {
    Router::new()
        .route("/auth/login", get(login_get).post(login_post))
        .route("/auth/register", get(register_get).post(register_post))
        .route("/auth/verify_email", get(verify_get).post(verify_post))
        .route(
            "/auth/request_reset_password",
            get(request_reset_get).post(request_reset_post),
        )
        .route("/auth/reset_password", get(reset_get).post(reset_post))
        .route(
            "/auth/magic_link",
            get(magic_link_get).post(magic_link_post),
        )
        .route(
            "/auth/magic_login",
            get(magic_login_get).post(magic_login_post),
        )
        .route("/auth/profile", get(profile_get).post(profile_post))
        .route(
            "/auth/change_password",
            get(change_password_get).post(change_password_post),
        )
        .route(
            "/auth/change_email",
            get(change_email_get).post(change_email_post),
        )
        .route("/auth/logout", get(logout_get).post(logout_post))
        .route(CSS_PATH, get(css))
}
