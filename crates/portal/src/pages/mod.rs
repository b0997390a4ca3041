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

mod templates;

use std::collections::HashMap;

use axum::Router;
use axum::body::Body;
use axum::extract::{Query, Request, State};
use axum::response::Response;
use axum::routing::get;
use http::request::Parts;
use http::{HeaderValue, StatusCode, header};
use portcullis_store::{AuditEvent, User};
use serde_json::{Map, Value, json};

pub(crate) use templates::PageTemplates;

use crate::api::{CSRF_FIELD, check_origin, csrf_token, csrf_valid};
use crate::ctx::{Ctx, current};
use crate::envelope::{ApiError, Incoming, read_body};
use crate::flows::{
    self, ChangeEmailIn, ChangePasswordIn, LoginIn, ProfileIn, RegisterIn, Registered, ResetIn,
    ResetRequestIn, Verified,
};
use crate::state::PortalState;

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

// ---------------------------------------------------------------------------------------
// Answers

/// The security headers of every page answer (and of its redirects).
fn secure(st: &PortalState, mut resp: Response) -> Response {
    let c = &st.inner.config;
    // Login may send the browser on to a trusted origin (forward auth): form-action must
    // allow the redirect target. Only well-formed origins make it into the header.
    let mut form_action = String::from("'self'");
    for o in std::iter::once(c.public_origin()).chain(c.trusted_origins.iter().cloned()) {
        let clean = o.trim_end_matches('/');
        if !clean.is_empty()
            && clean
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ":/.-[]".contains(ch))
        {
            form_action.push(' ');
            form_action.push_str(clean);
        }
    }
    let csp = format!(
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action {form_action}; \
         frame-ancestors 'none'; base-uri 'none'"
    );
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // `same-origin`, not `no-referrer`: tokens in URLs never leave the portal's origin,
    // and browsers still send the real `Origin` with the forms' POSTs (under
    // `no-referrer` Chromium sends `Origin: null`, which the Origin check must refuse).
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn add_cookie(resp: &mut Response, cookie: Option<&str>) {
    if let Some(v) = cookie.and_then(|c| HeaderValue::from_str(c).ok()) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// `303 See Other` to `location` (POST/redirect/GET).
fn see_other(st: &PortalState, location: &str, cookie: Option<&str>) -> Response {
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = StatusCode::SEE_OTHER;
    let loc = HeaderValue::from_str(location)
        .unwrap_or_else(|_| HeaderValue::from_static("/auth/profile"));
    resp.headers_mut().insert(header::LOCATION, loc);
    add_cookie(&mut resp, cookie);
    secure(st, resp)
}

/// A page in the making: template, status, context.
#[derive(Debug)]
struct Page {
    template: &'static str,
    status: StatusCode,
    ctx: Map<String, Value>,
    cookie: Option<String>,
    retry_after: Option<u64>,
}

impl Page {
    fn new(template: &'static str) -> Page {
        Page {
            template,
            status: StatusCode::OK,
            ctx: Map::new(),
            cookie: None,
            retry_after: None,
        }
    }

    /// `message.html` with a title and a paragraph.
    fn message(status: StatusCode, title: &str, text: &str) -> Page {
        Page::new("message.html")
            .status(status)
            .set("title", title)
            .set("text", text)
    }

    fn status(mut self, status: StatusCode) -> Page {
        self.status = status;
        self
    }

    fn set(mut self, key: &str, value: impl Into<Value>) -> Page {
        self.ctx.insert(key.to_owned(), value.into());
        self
    }

    fn links(self, links: &[(&str, &str)]) -> Page {
        let links: Vec<Value> = links
            .iter()
            .map(|(href, label)| json!({"href": href, "label": label}))
            .collect();
        self.set("links", links)
    }

    fn alert(self, text: &str) -> Page {
        self.set("error", text)
    }

    /// Renders with the common context (site name, CSRF token, the logged-in user).
    async fn finish(mut self, st: &PortalState, ctx: &Ctx) -> Response {
        let c = &st.inner.config;
        self.ctx
            .insert("site_name".into(), c.site_name.clone().into());
        self.ctx
            .insert("registration".into(), c.registration.into());
        for key in ["values", "errors"] {
            self.ctx
                .entry(key)
                .or_insert_with(|| Value::Object(Map::new()));
        }
        if !self.ctx.contains_key("user") {
            let user = current(st, ctx).await.ok().flatten().map(|(u, _)| u);
            if let Some(u) = user {
                self.ctx.insert("user".into(), user_value(&u));
            }
        }
        let mut cookie = self.cookie.take();
        match csrf_token(st, ctx).await {
            Ok((token, set)) => {
                self.ctx.insert("csrf_token".into(), token.into());
                if set.is_some() {
                    cookie = set;
                }
            }
            Err(_) => return internal(st),
        }
        let html = match st
            .inner
            .pages
            .render(self.template, &Value::Object(self.ctx))
        {
            Ok(html) => html,
            Err(reason) => {
                tracing::error!(template = self.template, %reason, "cannot render page");
                return internal(st);
            }
        };
        let mut resp = Response::new(Body::from(html));
        *resp.status_mut() = self.status;
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        add_cookie(&mut resp, cookie.as_deref());
        secure(st, resp)
    }
}

/// A bare 500 page (no template: the templates may be what failed).
fn internal(st: &PortalState) -> Response {
    let mut resp = Response::new(Body::from(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Error</title></head>\
         <body><h1>Something went wrong</h1><p role=\"alert\">Please try again later.</p></body></html>",
    ));
    *resp.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    secure(st, resp)
}

fn user_value(u: &User) -> Value {
    json!({
        "username": u.username,
        "email": u.email,
        "first_name": u.first_name,
        "last_name": u.last_name,
    })
}

/// An error message as a sentence for people.
fn sentence(e: &ApiError) -> String {
    if e.status == StatusCode::UNAUTHORIZED {
        return "The username, e-mail address or password is wrong.".to_owned();
    }
    if e.message == "invalid input" {
        return "Please correct the marked fields.".to_owned();
    }
    let mut chars = e.message.chars();
    let mut out: String = chars
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_default();
    out.extend(chars);
    out.push('.');
    out
}

/// The notices a `notice=` query flag may name.
fn notice(key: &str) -> Option<&'static str> {
    Some(match key {
        "logged_out" => "You are logged out.",
        "password_reset" => "Your password was changed: you can log in with it now.",
        "registered" => "Your account is ready: you can log in now.",
        "profile_updated" => "Your profile was saved.",
        "password_changed" => "Your password was changed. Your other sessions were ended.",
        "email_change_requested" => {
            "Check the inbox of the new address: the change takes effect when you open the link we sent there."
        }
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------
// Reading requests

/// A decoded form post. Fields the page does not know are ignored; a missing field
/// reads as empty.
#[derive(Debug, Default)]
struct Form(HashMap<String, String>);

impl Form {
    fn get(&self, key: &str) -> String {
        self.0.get(key).cloned().unwrap_or_default()
    }

    fn opt(&self, key: &str) -> Option<String> {
        self.0.get(key).filter(|v| !v.is_empty()).cloned()
    }

    /// The fields in `keep` as the template's `values` (never passwords).
    fn values(&self, keep: &[&str]) -> Value {
        let mut m = Map::new();
        for k in keep {
            if let Some(v) = self.0.get(*k) {
                m.insert((*k).to_owned(), Value::String(v.clone()));
            }
        }
        Value::Object(m)
    }
}

/// Why a page POST was not read.
enum Refused {
    /// Bad Origin or body: a message page with this error.
    Request(ApiError),
    /// The CSRF token is missing or wrong: the form again.
    Csrf(Form),
}

/// Reads a page POST: trusted `Origin` (when present), a urlencoded body within the size
/// limit, valid UTF-8, the session's CSRF token.
async fn read_post(st: &PortalState, req: Request) -> (Ctx, Result<Form, Refused>) {
    let (parts, body): (Parts, Body) = req.into_parts();
    let ctx = Ctx::new(st, &parts);
    if let Err(e) = check_origin(st, &parts) {
        ctx.audit(AuditEvent::new("csrf_refused").details(json!({"reason": "origin"})))
            .await;
        return (ctx, Err(Refused::Request(e)));
    }
    let pairs = match read_body(&parts.headers, body, st.inner.config.max_body_bytes).await {
        Ok(Incoming::Form(pairs)) => pairs,
        Ok(Incoming::Json(_)) => {
            let e = ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "this page takes form posts (`application/x-www-form-urlencoded`), not json",
            );
            return (ctx, Err(Refused::Request(e)));
        }
        Err(e) => return (ctx, Err(Refused::Request(e))),
    };
    let form = Form(pairs.into_iter().collect());
    if !csrf_valid(st, &ctx, form.0.get(CSRF_FIELD).map(String::as_str)).await {
        ctx.audit(AuditEvent::new("csrf_refused")).await;
        return (ctx, Err(Refused::Csrf(form)));
    }
    (ctx, Ok(form))
}

/// The query of a GET, or a 400 page.
fn query(parts: &Parts) -> Result<HashMap<String, String>, ApiError> {
    Query::<HashMap<String, String>>::try_from_uri(&parts.uri)
        .map(|Query(q)| q)
        .map_err(|e| ApiError::bad(format!("invalid query: {}", e.body_text())))
}

/// What a form page re-renders on an error: its template and the fields echoed back.
struct FormSpec {
    template: &'static str,
    keep: &'static [&'static str],
}

const LOGIN: FormSpec = FormSpec {
    template: "login.html",
    keep: &["username", "came_from", "remember"],
};
const REGISTER: FormSpec = FormSpec {
    template: "register.html",
    keep: &["email", "username", "first_name", "last_name"],
};
const VERIFY: FormSpec = FormSpec {
    template: "verify_email.html",
    keep: &["token"],
};
const REQUEST_RESET: FormSpec = FormSpec {
    template: "request_reset_password.html",
    keep: &["email"],
};
const RESET: FormSpec = FormSpec {
    template: "reset_password.html",
    keep: &["token"],
};
const PROFILE: FormSpec = FormSpec {
    template: "profile.html",
    keep: &["first_name", "last_name"],
};
const CHANGE_PASSWORD: FormSpec = FormSpec {
    template: "change_password.html",
    keep: &[],
};
const CHANGE_EMAIL: FormSpec = FormSpec {
    template: "change_email.html",
    keep: &["new_email"],
};
const LOGOUT: FormSpec = FormSpec {
    template: "logout.html",
    keep: &[],
};

/// A message page for a request that could not be read.
async fn request_error(st: &PortalState, ctx: &Ctx, e: ApiError) -> Response {
    let title = match e.status {
        StatusCode::PAYLOAD_TOO_LARGE => "Request too large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "Unsupported request",
        StatusCode::FORBIDDEN => "Request refused",
        StatusCode::INTERNAL_SERVER_ERROR => "Something went wrong",
        _ => "Bad request",
    };
    Page::message(e.status, title, "")
        .alert(&sentence(&e))
        .finish(st, ctx)
        .await
}

/// The answer to a refused POST: a message page, or the form again (CSRF).
async fn refused(st: &PortalState, ctx: &Ctx, why: Refused, spec: &FormSpec) -> Response {
    match why {
        Refused::Request(e) => request_error(st, ctx, e).await,
        Refused::Csrf(form) => Page::new(spec.template)
            .status(StatusCode::FORBIDDEN)
            .set("values", safe_values(st, &form, spec))
            .alert(
                "This form has expired or was not sent from this site. Please check it and submit it again.",
            )
            .finish(st, ctx)
            .await,
    }
}

/// The echoed values of `form`, with `came_from` only when safe.
fn safe_values(st: &PortalState, form: &Form, spec: &FormSpec) -> Value {
    let mut v = form.values(spec.keep);
    if let Some(obj) = v.as_object_mut()
        && let Some(cf) = obj.get("came_from").and_then(Value::as_str)
    {
        let safe = st.inner.config.safe_came_from(cf).unwrap_or_default();
        obj.insert("came_from".into(), Value::String(safe));
    }
    v
}

/// The form again, with the flow's status, message and per-field messages.
async fn form_error(
    st: &PortalState,
    ctx: &Ctx,
    spec: &FormSpec,
    form: &Form,
    e: ApiError,
) -> Response {
    if e.status.is_server_error() {
        return request_error(st, ctx, e).await;
    }
    let mut page = Page::new(spec.template)
        .status(e.status)
        .set("values", safe_values(st, form, spec))
        .set("errors", Value::Object(e.errors.clone()))
        .alert(&sentence(&e));
    page.retry_after = e.retry_after;
    page.finish(st, ctx).await
}

/// `303` to the login page, coming back to `path` afterwards.
fn to_login(st: &PortalState, path: &str) -> Response {
    see_other(st, &format!("/auth/login?came_from={path}"), None)
}

// ---------------------------------------------------------------------------------------
// Handlers

async fn css(State(st): State<PortalState>) -> Response {
    let mut resp = Response::new(Body::from(st.inner.pages.css()));
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    resp
}

/// A GET of a form page: renders `spec` with `values`; `notice` from the query flag.
async fn show(
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

/// Splits a GET into its context and query (or answers 400).
async fn get_parts(
    st: &PortalState,
    req: Request,
) -> (Ctx, Result<HashMap<String, String>, Response>) {
    let (parts, _) = req.into_parts();
    let ctx = Ctx::new(st, &parts);
    match query(&parts) {
        Ok(q) => (ctx, Ok(q)),
        Err(e) => {
            let resp = request_error(st, &ctx, e).await;
            (ctx, Err(resp))
        }
    }
}

async fn login_get(State(st): State<PortalState>, req: Request) -> Response {
    let (ctx, q) = get_parts(&st, req).await;
    let q = match q {
        Ok(q) => q,
        Err(resp) => return resp,
    };
    let came_from = q
        .get("came_from")
        .and_then(|c| st.inner.config.safe_came_from(c))
        .unwrap_or_default();
    show(&st, &ctx, &q, &LOGIN, json!({"came_from": came_from})).await
}

async fn login_post(State(st): State<PortalState>, req: Request) -> Response {
    let (ctx, form) = read_post(&st, req).await;
    let form = match form {
        Ok(f) => f,
        Err(why) => return refused(&st, &ctx, why, &LOGIN).await,
    };
    let input = LoginIn {
        email: None,
        username: Some(form.get("username")),
        password: form.get("password"),
        remember: Some(form.opt("remember").is_some()),
    };
    match flows::login(&st, &ctx, input).await {
        Ok(done) => {
            let target = form
                .opt("came_from")
                .and_then(|c| st.inner.config.safe_came_from(&c))
                .filter(|c| HeaderValue::from_str(c).is_ok())
                .unwrap_or_else(|| "/auth/profile".to_owned());
            see_other(&st, &target, Some(&done.cookie))
        }
        Err(e) => form_error(&st, &ctx, &LOGIN, &form, e).await,
    }
}

async fn register_get(State(st): State<PortalState>, req: Request) -> Response {
    let (ctx, q) = get_parts(&st, req).await;
    let q = match q {
        Ok(q) => q,
        Err(resp) => return resp,
    };
    if q.get("done").is_some_and(|d| d == "check_mail") {
        return Page::message(
            StatusCode::OK,
            "Check your mail",
            "If the address can be used, we sent it a message: open the link in it to activate your account.",
        )
        .set("notice", "Registration received.")
        .links(&[("/auth/login", "Log in")])
        .finish(&st, &ctx)
        .await;
    }
    if !st.inner.config.registration {
        return Page::message(StatusCode::FORBIDDEN, "Registration is closed", "")
            .alert("Registration is disabled on this site.")
            .finish(&st, &ctx)
            .await;
    }
    show(&st, &ctx, &q, &REGISTER, json!({})).await
}

async fn register_post(State(st): State<PortalState>, req: Request) -> Response {
    let (ctx, form) = read_post(&st, req).await;
    let form = match form {
        Ok(f) => f,
        Err(why) => return refused(&st, &ctx, why, &REGISTER).await,
    };
    let input = RegisterIn {
        email: form.get("email"),
        password: form.get("password"),
        password2: Some(form.get("password2")),
        username: form.opt("username"),
        first_name: form.get("first_name"),
        last_name: form.get("last_name"),
    };
    match flows::register(&st, &ctx, input).await {
        Ok(Registered::CheckMail) => see_other(&st, "/auth/register?done=check_mail", None),
        Ok(Registered::Done) => see_other(&st, "/auth/login?notice=registered", None),
        Err(e) => form_error(&st, &ctx, &REGISTER, &form, e).await,
    }
}

async fn verify_get(State(st): State<PortalState>, req: Request) -> Response {
    let (ctx, q) = get_parts(&st, req).await;
    let q = match q {
        Ok(q) => q,
        Err(resp) => return resp,
    };
    match q.get("done").map(String::as_str) {
        Some("verified") => {
            return Page::message(StatusCode::OK, "E-mail address verified", "")
                .set(
                    "notice",
                    "Your e-mail address is verified: you can log in now.",
                )
                .links(&[("/auth/login", "Log in")])
                .finish(&st, &ctx)
                .await;
        }
        Some("email_changed") => {
            return Page::message(StatusCode::OK, "E-mail address changed", "")
                .set("notice", "Your new e-mail address is confirmed and in use.")
                .links(&[("/auth/profile", "Your profile"), ("/auth/login", "Log in")])
                .finish(&st, &ctx)
                .await;
        }
        _ => {}
    }
    match q.get("token").filter(|t| !t.is_empty()) {
        Some(token) => show(&st, &ctx, &q, &VERIFY, json!({"token": token})).await,
        None => {
            bad_link(
                &st,
                &ctx,
                "This link has no token: copy the whole link from the mail.",
            )
            .await
        }
    }
}

async fn bad_link(st: &PortalState, ctx: &Ctx, text: &str) -> Response {
    Page::message(StatusCode::BAD_REQUEST, "Invalid link", "")
        .alert(text)
        .links(&[
            ("/auth/login", "Log in"),
            (
                "/auth/request_reset_password",
                "Get a new password-reset link",
            ),
        ])
        .finish(st, ctx)
        .await
}

const EXPIRED: &str = "This link is invalid, was already used or has expired.";

async fn verify_post(State(st): State<PortalState>, req: Request) -> Response {
    let (ctx, form) = read_post(&st, req).await;
    let form = match form {
        Ok(f) => f,
        Err(why) => return refused(&st, &ctx, why, &VERIFY).await,
    };
    match flows::verify_email(&st, &ctx, &form.get("token")).await {
        Ok(Verified::Account) => see_other(&st, "/auth/verify_email?done=verified", None),
        Ok(Verified::EmailChanged) => see_other(&st, "/auth/verify_email?done=email_changed", None),
        Err(e) if e.status == StatusCode::BAD_REQUEST => bad_link(&st, &ctx, EXPIRED).await,
        Err(e) => form_error(&st, &ctx, &VERIFY, &form, e).await,
    }
}

async fn request_reset_get(State(st): State<PortalState>, req: Request) -> Response {
    let (ctx, q) = get_parts(&st, req).await;
    let q = match q {
        Ok(q) => q,
        Err(resp) => return resp,
    };
    if q.get("done").is_some_and(|d| d == "sent") {
        return Page::message(
            StatusCode::OK,
            "Check your mail",
            "If the address belongs to an account, we sent it a link to choose a new password.",
        )
        .set("notice", "Request received.")
        .links(&[("/auth/login", "Log in")])
        .finish(&st, &ctx)
        .await;
    }
    show(&st, &ctx, &q, &REQUEST_RESET, json!({})).await
}

async fn request_reset_post(State(st): State<PortalState>, req: Request) -> Response {
    let (ctx, form) = read_post(&st, req).await;
    let form = match form {
        Ok(f) => f,
        Err(why) => return refused(&st, &ctx, why, &REQUEST_RESET).await,
    };
    let input = ResetRequestIn {
        email: form.get("email"),
    };
    match flows::request_reset(&st, &ctx, input).await {
        Ok(()) => see_other(&st, "/auth/request_reset_password?done=sent", None),
        Err(e) => form_error(&st, &ctx, &REQUEST_RESET, &form, e).await,
    }
}

async fn reset_get(State(st): State<PortalState>, req: Request) -> Response {
    let (ctx, q) = get_parts(&st, req).await;
    let q = match q {
        Ok(q) => q,
        Err(resp) => return resp,
    };
    match q.get("token").filter(|t| !t.is_empty()) {
        Some(token) => show(&st, &ctx, &q, &RESET, json!({"token": token})).await,
        None => {
            bad_link(
                &st,
                &ctx,
                "This link has no token: copy the whole link from the mail.",
            )
            .await
        }
    }
}

async fn reset_post(State(st): State<PortalState>, req: Request) -> Response {
    let (ctx, form) = read_post(&st, req).await;
    let form = match form {
        Ok(f) => f,
        Err(why) => return refused(&st, &ctx, why, &RESET).await,
    };
    let input = ResetIn {
        token: form.get("token"),
        new_password: form.get("new_password"),
        new_password2: Some(form.get("new_password2")),
    };
    match flows::reset_password(&st, &ctx, input).await {
        Ok(()) => see_other(&st, "/auth/login?notice=password_reset", None),
        Err(e) if e.errors.contains_key("token") => bad_link(&st, &ctx, EXPIRED).await,
        Err(e) => form_error(&st, &ctx, &RESET, &form, e).await,
    }
}

/// A logged-in GET: the page with the user's values, or `303` to the login page.
async fn user_get(
    st: &PortalState,
    req: Request,
    path: &str,
    spec: &FormSpec,
    values: impl FnOnce(&User) -> Value,
) -> Response {
    let (ctx, q) = get_parts(st, req).await;
    let q = match q {
        Ok(q) => q,
        Err(resp) => return resp,
    };
    match current(st, &ctx).await {
        Ok(Some((user, _))) => {
            let v = values(&user);
            show(st, &ctx, &q, spec, v).await
        }
        Ok(None) => to_login(st, path),
        Err(e) => request_error(st, &ctx, e).await,
    }
}

/// A logged-in POST: the form and the user, or the answer already made.
async fn user_post(
    st: &PortalState,
    req: Request,
    path: &str,
    spec: &FormSpec,
) -> Result<(Ctx, Form, User), Response> {
    let (ctx, form) = read_post(st, req).await;
    let form = match form {
        Ok(f) => f,
        Err(why) => return Err(refused(st, &ctx, why, spec).await),
    };
    match current(st, &ctx).await {
        Ok(Some((user, _))) => Ok((ctx, form, user)),
        Ok(None) => Err(to_login(st, path)),
        Err(e) => Err(request_error(st, &ctx, e).await),
    }
}

async fn profile_get(State(st): State<PortalState>, req: Request) -> Response {
    user_get(
        &st,
        req,
        "/auth/profile",
        &PROFILE,
        |u| json!({"first_name": u.first_name, "last_name": u.last_name}),
    )
    .await
}

async fn profile_post(State(st): State<PortalState>, req: Request) -> Response {
    let (ctx, form, user) = match user_post(&st, req, "/auth/profile", &PROFILE).await {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    let input = ProfileIn {
        first_name: Some(form.get("first_name")),
        last_name: Some(form.get("last_name")),
    };
    match flows::update_profile(&ctx, &user, input).await {
        Ok(_) => see_other(&st, "/auth/profile?notice=profile_updated", None),
        Err(e) => form_error(&st, &ctx, &PROFILE, &form, e).await,
    }
}

async fn change_password_get(State(st): State<PortalState>, req: Request) -> Response {
    user_get(&st, req, "/auth/change_password", &CHANGE_PASSWORD, |_| {
        json!({})
    })
    .await
}

async fn change_password_post(State(st): State<PortalState>, req: Request) -> Response {
    let (ctx, form, user) =
        match user_post(&st, req, "/auth/change_password", &CHANGE_PASSWORD).await {
            Ok(x) => x,
            Err(resp) => return resp,
        };
    let input = ChangePasswordIn {
        old_password: form.get("old_password"),
        new_password: form.get("new_password"),
        new_password2: Some(form.get("new_password2")),
    };
    match flows::change_password(&st, &ctx, &user, input).await {
        Ok(cookie) => see_other(&st, "/auth/profile?notice=password_changed", Some(&cookie)),
        Err(e) => form_error(&st, &ctx, &CHANGE_PASSWORD, &form, e).await,
    }
}

async fn change_email_get(State(st): State<PortalState>, req: Request) -> Response {
    user_get(&st, req, "/auth/change_email", &CHANGE_EMAIL, |_| json!({})).await
}

async fn change_email_post(State(st): State<PortalState>, req: Request) -> Response {
    let (ctx, form, user) = match user_post(&st, req, "/auth/change_email", &CHANGE_EMAIL).await {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    let input = ChangeEmailIn {
        password: form.get("password"),
        new_email: form.get("new_email"),
    };
    match flows::change_email(&st, &ctx, &user, input).await {
        Ok(()) => see_other(&st, "/auth/profile?notice=email_change_requested", None),
        Err(e) => form_error(&st, &ctx, &CHANGE_EMAIL, &form, e).await,
    }
}

async fn logout_get(State(st): State<PortalState>, req: Request) -> Response {
    let (ctx, q) = get_parts(&st, req).await;
    match q {
        Ok(q) => show(&st, &ctx, &q, &LOGOUT, json!({})).await,
        Err(resp) => resp,
    }
}

async fn logout_post(State(st): State<PortalState>, req: Request) -> Response {
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
