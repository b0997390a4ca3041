//! What the HTML the portal serves has in common: template sets (built-in templates,
//! each overridable by a file of the same name in a directory), the security headers of
//! every page, and the style sheets' answers. Pages, the admin UI and mail use it.

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::response::Response;
use http::{HeaderValue, header};
use minijinja::{AutoEscape, Environment, ErrorKind, escape_formatter};

use portcullis_web::denial::html_escape;

/// Built-in templates: `(file name, source)`.
pub(crate) type Builtin = &'static [(&'static str, &'static str)];

/// A template name that stays inside its directory.
fn plain_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && !name.contains(['/', '\\'])
        && !name.contains("..")
}

/// Reads `dir/name` when `dir` is set and the file exists.
pub(crate) fn read_override(
    dir: Option<&PathBuf>,
    name: &str,
) -> Result<Option<String>, std::io::Error> {
    let Some(dir) = dir else {
        return Ok(None);
    };
    match std::fs::read_to_string(dir.join(name)) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// An environment of `builtin`, each template overridden by `dir/NAME` when that file
/// exists (read when first used). `.html` is auto-escaped, without minijinja's `/` →
/// `&#x2f;` (links stay readable). An override that exists but cannot be read is an error
/// with the message `unreadable(name, path)`.
pub(crate) fn environment(
    builtin: Builtin,
    dir: Option<PathBuf>,
    unreadable: fn(&str, &Path) -> String,
) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_formatter(|out, state, value| match value.as_str() {
        Some(s) if matches!(state.auto_escape(), AutoEscape::Html) && !value.is_safe() => out
            .write_str(&html_escape(s))
            .map_err(|e| minijinja::Error::new(ErrorKind::WriteFailure, e.to_string())),
        _ => escape_formatter(out, state, value),
    });
    env.set_loader(move |name| {
        if !plain_name(name) {
            return Ok(None);
        }
        match read_override(dir.as_ref(), name) {
            Ok(Some(source)) => return Ok(Some(source)),
            Ok(None) => {}
            Err(e) => {
                let path = dir.as_deref().unwrap_or(Path::new("")).join(name);
                return Err(minijinja::Error::new(
                    ErrorKind::InvalidOperation,
                    unreadable(name, &path),
                )
                .with_source(e));
            }
        }
        Ok(builtin
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, s)| (*s).to_owned()))
    });
    env
}

/// A Content-Security-Policy without scripts: nothing by default, style sheets from
/// `'self'`, images from `img_src`, forms posting to `form_action`, no framing.
pub(crate) fn content_security_policy(img_src: &str, form_action: &str) -> String {
    format!(
        "default-src 'none'; style-src 'self'; img-src {img_src}; form-action {form_action}; \
         frame-ancestors 'none'; base-uri 'none'"
    )
}

/// The security headers of every page answer (and of its redirects): `csp` (left out
/// when it is not a valid header value), `X-Frame-Options: DENY`, `Referrer-Policy:
/// same-origin`, `X-Content-Type-Options: nosniff` and `Cache-Control: no-store`.
pub(crate) fn secure(mut resp: Response, csp: &str) -> Response {
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(csp) {
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

/// A style sheet's answer: `text/css`, cacheable for an hour, `nosniff`.
pub(crate) fn stylesheet(css: String) -> Response {
    let mut resp = Response::new(Body::from(css));
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

/// A JSON value as a template value (numbers as `i64`, else `u64`, else `f64`).
pub(crate) fn template_value(v: &serde_json::Value) -> minijinja::Value {
    use minijinja::Value;
    use serde_json::Value as J;
    match v {
        J::Null => Value::from(()),
        J::Bool(b) => Value::from(*b),
        J::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Value::from(i),
            (None, Some(u)) => Value::from(u),
            _ => Value::from(n.as_f64().unwrap_or(0.0)),
        },
        J::String(s) => Value::from(s.as_str()),
        J::Array(a) => Value::from(a.iter().map(template_value).collect::<Vec<_>>()),
        J::Object(o) => Value::from(
            o.iter()
                .map(|(k, v)| (k.clone(), template_value(v)))
                .collect::<std::collections::BTreeMap<String, Value>>(),
        ),
    }
}
