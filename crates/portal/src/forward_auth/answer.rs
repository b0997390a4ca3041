//! The answers of `/auth/verify`.

use axum::body::Body;
use axum::response::Response;
use http::{HeaderName, HeaderValue, StatusCode, header};
use portcullis_web::denial::{form_urlencode, html_escape};

/// `X-Auth-User`: the username.
pub const X_AUTH_USER: HeaderName = HeaderName::from_static("x-auth-user");
/// `X-Auth-User-Id`: the store's numeric user id.
pub const X_AUTH_USER_ID: HeaderName = HeaderName::from_static("x-auth-user-id");
/// `X-Auth-Email`: the user's e-mail address (absent when the user has none).
pub const X_AUTH_EMAIL: HeaderName = HeaderName::from_static("x-auth-email");
/// `X-Auth-Groups`: the user's group names, comma-separated.
pub const X_AUTH_GROUPS: HeaderName = HeaderName::from_static("x-auth-groups");
/// `X-Auth-Login`: on 401 (and 302, 403), where to log in, with `came_from`.
pub const X_AUTH_LOGIN: HeaderName = HeaderName::from_static("x-auth-login");

/// Percent-encodes `%`, `,`, and every byte outside visible ASCII and space, so a value
/// always fits a header and a comma always separates list items. ASCII names other than
/// `%` and `,` pass unchanged.
pub(crate) fn header_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'%' | b',' => out.push_str(&format!("%{b:02X}")),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn value(s: &str) -> HeaderValue {
    // INVARIANT: `header_text` leaves only visible ASCII and spaces.
    HeaderValue::from_str(&header_text(s)).unwrap_or(HeaderValue::from_static(""))
}

fn base(status: StatusCode, content_type: &'static str, body: String) -> Response {
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// Who was let through.
#[derive(Debug, Clone)]
pub(crate) struct Allowed {
    pub(crate) user_id: i64,
    pub(crate) username: String,
    pub(crate) email: Option<String>,
    pub(crate) groups: Vec<String>,
}

/// 200: allowed. The four identity headers are always present, empty for an anonymous
/// request to a public path (and `X-Auth-Email` for a user without one): a proxy that
/// copies them (Traefik `authResponseHeaders`, Caddy `copy_headers`) then always
/// overwrites a client's own copies, and nginx drops empty ones.
pub(crate) fn allow(user: Option<&Allowed>) -> Response {
    let mut resp = base(
        StatusCode::OK,
        "text/plain; charset=utf-8",
        "allowed\n".to_owned(),
    );
    let h = resp.headers_mut();
    let empty = HeaderValue::from_static("");
    for name in [X_AUTH_USER, X_AUTH_USER_ID, X_AUTH_EMAIL, X_AUTH_GROUPS] {
        h.insert(name, empty.clone());
    }
    if let Some(u) = user {
        h.insert(X_AUTH_USER, value(&u.username));
        h.insert(X_AUTH_USER_ID, value(&u.user_id.to_string()));
        if let Some(e) = &u.email {
            h.insert(X_AUTH_EMAIL, value(e));
        }
        let groups: Vec<String> = u.groups.iter().map(|g| header_text(g)).collect();
        // INVARIANT: each item is visible ASCII and spaces; commas join them.
        if let Ok(v) = HeaderValue::from_str(&groups.join(",")) {
            h.insert(X_AUTH_GROUPS, v);
        }
    }
    resp
}

fn login_headers(resp: &mut Response, login_url: &str) {
    if let Ok(v) = HeaderValue::from_str(login_url) {
        resp.headers_mut().insert(X_AUTH_LOGIN, v.clone());
        resp.headers_mut().insert(header::LOCATION, v);
    }
}

/// 401: log in first. The login URL is in `X-Auth-Login` and `Location`.
pub(crate) fn unauthenticated(
    message: &str,
    login_url: &str,
    challenge: Option<HeaderValue>,
) -> Response {
    let mut resp = base(
        StatusCode::UNAUTHORIZED,
        "text/plain; charset=utf-8",
        format!("{message}\nlog in at {login_url}\n"),
    );
    login_headers(&mut resp, login_url);
    if let Some(c) = challenge {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, c);
    }
    resp
}

/// 302 to the login page (`?redirect=1`, browsers behind Traefik or Caddy).
pub(crate) fn redirect_to_login(login_url: &str) -> Response {
    let mut resp = base(
        StatusCode::FOUND,
        "text/plain; charset=utf-8",
        format!("log in at {login_url}\n"),
    );
    login_headers(&mut resp, login_url);
    resp
}

/// 403: logged in (or not, for a predicate that logging in cannot satisfy), not allowed.
/// An HTML page for browsers (the proxy may pass it on), plain text otherwise.
pub(crate) fn forbidden(message: &str, login_url: &str, html: bool) -> Response {
    let mut resp = if html {
        base(
            StatusCode::FORBIDDEN,
            "text/html; charset=utf-8",
            format!(
                "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
                 <title>Forbidden</title></head><body><main><h1>403 Forbidden</h1>\
                 <p>{}</p><p><a href=\"{}\">Log in as another user</a></p></main></body></html>\n",
                html_escape(message),
                html_escape(login_url)
            ),
        )
    } else {
        base(
            StatusCode::FORBIDDEN,
            "text/plain; charset=utf-8",
            format!("{message}\n"),
        )
    };
    if let Ok(v) = HeaderValue::from_str(login_url) {
        resp.headers_mut().insert(X_AUTH_LOGIN, v);
    }
    resp
}

/// 400: the proxy's headers are unusable, or the peer is not a trusted proxy.
pub(crate) fn bad_request(message: &str) -> Response {
    base(
        StatusCode::BAD_REQUEST,
        "text/plain; charset=utf-8",
        format!("{message}\n"),
    )
}

/// 503: the identity store or the session store failed (details are logged).
pub(crate) fn unavailable() -> Response {
    base(
        StatusCode::SERVICE_UNAVAILABLE,
        "text/plain; charset=utf-8",
        "the identity store is unavailable\n".to_owned(),
    )
}

/// `{base}/auth/login?came_from=<target>`, `target` url-encoded.
pub(crate) fn login_url(base_url: &str, target: &str) -> String {
    format!("{base_url}/auth/login?came_from={}", form_urlencode(target))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_text_keeps_ascii_and_escapes_separators() {
        assert_eq!(header_text("alice"), "alice");
        assert_eq!(header_text("a,b%c"), "a%2Cb%25c");
        assert_eq!(header_text("José"), "Jos%C3%A9");
        assert_eq!(header_text("two words"), "two words");
    }

    #[test]
    fn login_url_encodes_the_target() {
        assert_eq!(
            login_url("https://p.example", "https://app.example/a?b=1&c"),
            "https://p.example/auth/login?came_from=https%3A//app.example/a%3Fb%3D1%26c"
        );
    }
}
