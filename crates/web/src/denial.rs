//! Denials and the views that answer them: 401 / login redirect for anonymous requests, 403 for
//! authenticated ones.

use std::sync::Arc;

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::{HeaderValue, StatusCode, header};
use portcullis_authz::Decision;

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DenialKind {
    /// Anonymous, and logging in could help: HTTP 401 (or a redirect to the login page).
    Unauthenticated,
    /// Authenticated but not allowed: HTTP 403.
    Forbidden,
}

/// A refused request: what was required, and why it was not met.
#[derive(Debug, Clone)]
pub struct Denial {
    /// 401 or 403.
    pub kind: DenialKind,
    /// A message that describes the requirement (a predicate's message, or the permission).
    pub message: String,
    /// The permission that was required, for ACL denials.
    pub permission: Option<String>,
    /// The explained ACL decision, for ACL denials.
    pub decision: Option<Box<Decision>>,
    /// `WWW-Authenticate` for API clients (from the security policy).
    pub challenge: Option<HeaderValue>,
}

impl Denial {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self.kind {
            DenialKind::Unauthenticated => StatusCode::UNAUTHORIZED,
            DenialKind::Forbidden => StatusCode::FORBIDDEN,
        }
    }
}

/// A view that answers a denial (replace the defaults with [`crate::AuthorizerBuilder::forbidden_view`]
/// and [`crate::AuthorizerBuilder::unauthenticated_view`]).
pub type DenialView = Arc<dyn Fn(&Parts, &Denial) -> Response + Send + Sync>;

/// True when the client prefers HTML (a browser): `Accept` mentions `text/html`.
pub fn wants_html(parts: &Parts) -> bool {
    parts
        .headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}

/// The default view for anonymous requests: browsers are redirected (303) to `login_url` with
/// `came_from` set to where they were going; API clients get 401 with a JSON body and the
/// policy's `WWW-Authenticate` challenge.
pub fn default_unauthenticated(login_url: &str, parts: &Parts, denial: &Denial) -> Response {
    if wants_html(parts) {
        let target = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
        let sep = if login_url.contains('?') { '&' } else { '?' };
        let location = format!("{login_url}{sep}came_from={}", form_urlencode(target));
        let mut resp = Response::new(Body::empty());
        *resp.status_mut() = StatusCode::SEE_OTHER;
        if let Ok(v) = HeaderValue::from_str(&location) {
            resp.headers_mut().insert(header::LOCATION, v);
        }
        return resp;
    }
    let mut resp = json_denial(StatusCode::UNAUTHORIZED, denial);
    if let Some(c) = &denial.challenge {
        resp.headers_mut()
            .insert(header::WWW_AUTHENTICATE, c.clone());
    }
    resp
}

/// The default view for authenticated requests without permission: 403, as an HTML page that
/// says what is missing, or JSON for API clients.
pub fn default_forbidden(parts: &Parts, denial: &Denial) -> Response {
    if wants_html(parts) {
        let body = format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Forbidden</title></head>\
             <body><h1>403 Forbidden</h1><p>{}</p></body></html>",
            html_escape(&denial.message)
        );
        return (
            StatusCode::FORBIDDEN,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            body,
        )
            .into_response();
    }
    json_denial(StatusCode::FORBIDDEN, denial)
}

fn json_denial(status: StatusCode, denial: &Denial) -> Response {
    let body = serde_json::json!({
        "status": "error",
        "code": status.as_u16(),
        "message": denial.message,
        "permission": denial.permission,
    });
    (status, axum::Json(body)).into_response()
}

/// Escapes text for HTML element content and attribute values.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

/// `application/x-www-form-urlencoded` encoding of one value.
pub fn form_urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (
                (b[i + 1] as char).to_digit(16),
                (b[i + 2] as char).to_digit(16),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// A `came_from` target that is safe to redirect to, or `None`.
///
/// Only same-site relative paths are honoured: the target must start with a single `/`, and
/// neither it nor any percent-decoding of it (up to three rounds) may start with `//` or `/\`,
/// contain a backslash, a control character, or a scheme. So `//evil.example`,
/// `/\evil.example`, `/%2F%2Fevil.example`, `/%5Cevil.example` and `https://evil.example` are
/// all refused (no open redirect).
///
/// ```
/// use portcullis_web::denial::safe_redirect;
/// assert_eq!(safe_redirect("/secret?x=1"), Some("/secret?x=1"));
/// assert_eq!(safe_redirect("//evil.example/"), None);
/// assert_eq!(safe_redirect("/\\evil.example"), None);
/// assert_eq!(safe_redirect("/%2f%2fevil.example"), None);
/// assert_eq!(safe_redirect("https://evil.example"), None);
/// ```
pub fn safe_redirect(target: &str) -> Option<&str> {
    fn bad(s: &[u8]) -> bool {
        s.first() != Some(&b'/')
            || s.get(1) == Some(&b'/')
            || s.contains(&b'\\')
            || s.iter().any(|c| c.is_ascii_control())
    }
    if target.len() > 2048 || bad(target.as_bytes()) {
        return None;
    }
    let mut cur = target.to_owned();
    for _ in 0..3 {
        let decoded = percent_decode(&cur);
        if bad(&decoded) {
            return None;
        }
        let Ok(next) = String::from_utf8(decoded) else {
            return None;
        };
        if next == cur {
            break;
        }
        cur = next;
    }
    Some(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_redirects_are_refused() {
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "https://evil.example",
            "javascript:alert(1)",
            "/%2F%2Fevil.example",
            "/%2f/evil.example",
            "/%5Cevil.example",
            "/%252F%252Fevil.example",
            "/\tevil",
            "/a\r\nLocation: x",
            "",
            "evil.example",
        ] {
            assert_eq!(safe_redirect(bad), None, "{bad}");
        }
        for good in ["/", "/secret", "/a/b?c=%2F&d=1", "/blog/2024/hello#top"] {
            assert_eq!(safe_redirect(good), Some(good), "{good}");
        }
    }

    #[test]
    fn encoding() {
        assert_eq!(form_urlencode("/a b?c=1&d"), "/a%20b%3Fc%3D1%26d");
        assert_eq!(
            html_escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#x27;&amp;&#x27;&lt;/a&gt;"
        );
    }
}
