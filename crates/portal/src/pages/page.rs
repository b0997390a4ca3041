//! Page answers: rendering with the common context, redirects, security headers.

use axum::body::Body;
use axum::response::Response;
use http::{HeaderValue, StatusCode, header};
use portcullis_store::User;
use serde_json::{Map, Value, json};

use crate::api::csrf_token;
use crate::ctx::{Ctx, current};
use crate::envelope::ApiError;
use crate::html;
use crate::state::PortalState;

/// The security headers of every page answer (and of its redirects).
pub(super) fn secure(st: &PortalState, resp: Response) -> Response {
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
    let csp = html::content_security_policy("'self' data:", &form_action);
    html::secure(resp, &csp)
}

pub(super) fn add_cookie(resp: &mut Response, cookie: Option<&str>) {
    if let Some(v) = cookie.and_then(|c| HeaderValue::from_str(c).ok()) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// `303 See Other` to `location` (POST/redirect/GET).
pub(super) fn see_other(st: &PortalState, location: &str, cookie: Option<&str>) -> Response {
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
pub(super) struct Page {
    template: &'static str,
    status: StatusCode,
    ctx: Map<String, Value>,
    cookie: Option<String>,
    pub(super) retry_after: Option<u64>,
}

impl Page {
    pub(super) fn new(template: &'static str) -> Page {
        Page {
            template,
            status: StatusCode::OK,
            ctx: Map::new(),
            cookie: None,
            retry_after: None,
        }
    }

    /// `message.html` with a title and a paragraph.
    pub(super) fn message(status: StatusCode, title: &str, text: &str) -> Page {
        Page::new("message.html")
            .status(status)
            .set("title", title)
            .set("text", text)
    }

    pub(super) fn status(mut self, status: StatusCode) -> Page {
        self.status = status;
        self
    }

    pub(super) fn set(mut self, key: &str, value: impl Into<Value>) -> Page {
        self.ctx.insert(key.to_owned(), value.into());
        self
    }

    /// A 200 message page after a finished step: `title`, `text`, the `notice` and
    /// `links` onward.
    pub(super) fn done(title: &str, text: &str, notice: &str, links: &[(&str, &str)]) -> Page {
        Page::message(StatusCode::OK, title, text)
            .set("notice", notice)
            .links(links)
    }

    pub(super) fn links(self, links: &[(&str, &str)]) -> Page {
        let links: Vec<Value> = links
            .iter()
            .map(|(href, label)| json!({"href": href, "label": label}))
            .collect();
        self.set("links", links)
    }

    pub(super) fn alert(self, text: &str) -> Page {
        self.set("error", text)
    }

    /// Renders with the common context (site name, CSRF token, the logged-in user).
    pub(super) async fn finish(mut self, st: &PortalState, ctx: &Ctx) -> Response {
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
        self.ctx.insert("magic_links".into(), c.magic_links.into());
        // The login page's "E-mail me a sign-in link" keeps the (already safe) came_from.
        let came_from = self
            .ctx
            .get("values")
            .and_then(|v| v.get("came_from"))
            .and_then(Value::as_str)
            .filter(|c| !c.is_empty())
            .map(crate::flows::query_value);
        let href = match came_from {
            Some(c) => format!("/auth/magic_link?came_from={c}"),
            None => "/auth/magic_link".to_owned(),
        };
        self.ctx.insert("magic_link_href".into(), href.into());
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
pub(super) fn internal(st: &PortalState) -> Response {
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

pub(super) fn user_value(u: &User) -> Value {
    json!({
        "username": u.username,
        "email": u.email,
        "first_name": u.first_name,
        "last_name": u.last_name,
    })
}

/// An error message as a sentence for people.
pub(super) fn sentence(e: &ApiError) -> String {
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
pub(super) fn notice(key: &str) -> Option<&'static str> {
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
