//! [`CsrfLayer`]: automatic CSRF checks of every unsafe request (Pyramid's
//! `require_csrf`), with the token in the server-side session ([`CsrfLayer::with_sessions`])
//! or in a MACed cookie bound to the user ([`CsrfLayer::new`]).
//!
//! * Safe methods (`GET`, `HEAD`, `OPTIONS`, `TRACE`) pass; the layer makes sure the client has
//!   a token (setting the cookie when it is new) and hands it to handlers as a [`CsrfToken`]
//!   extension/extractor, to render into forms (`<input type="hidden" name="csrf_token">`) or
//!   give to scripts (`X-CSRF-Token`).
//! * Unsafe methods need the token (header, or the `csrf_token` field of a form body, read up
//!   to a size limit and handed on unchanged) and a trusted `Origin`/`Referer`; failures are
//!   400 with a body that says `bad csrf token` or `bad csrf origin`.
//! * Per-route opt-out: [`CsrfLayer::exempt`] a path prefix (webhooks, token-authenticated
//!   APIs), or leave the layer off a router.
//!
//! Put it inside the [`crate::AuthLayer`] (`.layer(csrf).layer(authz.layer())`), so that tokens
//! are bound to the identified user: a token issued before a login stops working after it.

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use http::header::{CONTENT_LENGTH, SET_COOKIE};
use http::request::Parts;
use http::{HeaderValue, Request, StatusCode};
use tower::{Layer, Service};

use crate::csrf::{
    CookieCsrfStorage, CsrfCheck, CsrfConfig, CsrfError, CsrfRequest, SessionCsrfStorage,
    form_field,
};
use crate::identity::RequestIdentity;
use crate::policy::BoxFuture;
use crate::session::SessionManager;

/// The client's current CSRF token, for forms and scripts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsrfToken(pub String);

impl<S: Send + Sync> FromRequestParts<S> for CsrfToken {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<CsrfToken>().cloned().ok_or_else(|| {
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "csrf protection is misconfigured: CsrfLayer missing",
            )
                .into_response()
        })
    }
}

/// The CSRF layer (see the module docs).
#[derive(Clone, Debug)]
pub struct CsrfLayer {
    inner: Arc<Inner>,
}

#[derive(Debug, Clone)]
enum Storage {
    Cookie(CookieCsrfStorage),
    Session(SessionManager),
}

#[derive(Debug, Clone)]
struct Inner {
    check: CsrfCheck,
    storage: Storage,
    exempt: Vec<String>,
    https: bool,
    body_limit: usize,
}

impl CsrfLayer {
    /// Checks with `config`, keeping tokens in `storage`. `https` says whether requests reach
    /// the application over TLS (it decides how strict the origin check is).
    pub fn new(config: CsrfConfig, storage: CookieCsrfStorage, https: bool) -> CsrfLayer {
        CsrfLayer::with_storage(config, Storage::Cookie(storage), https)
    }

    /// Checks with `config`, keeping tokens in the server-side session (Pyramid's default
    /// `SessionCSRFStoragePolicy`): a visitor without a session gets one on their first
    /// request; the token dies with the session and is dropped at login.
    pub fn with_sessions(config: CsrfConfig, sessions: SessionManager, https: bool) -> CsrfLayer {
        CsrfLayer::with_storage(config, Storage::Session(sessions), https)
    }

    fn with_storage(config: CsrfConfig, storage: Storage, https: bool) -> CsrfLayer {
        CsrfLayer {
            inner: Arc::new(Inner {
                check: CsrfCheck::new(config),
                storage,
                exempt: Vec::new(),
                https,
                body_limit: 1 << 20,
            }),
        }
    }

    /// Exempts requests at or below `path` (a route-level opt-out).
    #[must_use]
    pub fn exempt(mut self, path: &str) -> CsrfLayer {
        Arc::make_mut(&mut self.inner)
            .exempt
            .push(portcullis_authz::tree::canonical_path(path));
        self
    }

    /// The largest form body read to find the token (default 1 MiB); larger forms are 413.
    #[must_use]
    pub fn body_limit(mut self, bytes: usize) -> CsrfLayer {
        Arc::make_mut(&mut self.inner).body_limit = bytes;
        self
    }

    fn is_exempt(&self, path: &str) -> bool {
        let path = portcullis_authz::tree::canonical_path(path);
        self.inner.exempt.iter().any(|e| {
            e == "/"
                || path == *e
                || path
                    .strip_prefix(e.as_str())
                    .is_some_and(|rest| rest.starts_with('/'))
        })
    }
}

impl<S> Layer<S> for CsrfLayer {
    type Service = CsrfService<S>;
    fn layer(&self, inner: S) -> CsrfService<S> {
        CsrfService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service made by [`CsrfLayer`].
#[derive(Clone, Debug)]
pub struct CsrfService<S> {
    inner: S,
    layer: CsrfLayer,
}

/// The client's token (issued now if it has none) and the `Set-Cookie` to send with it.
async fn issue(
    storage: &Storage,
    session: Option<crate::session::Session>,
    cookie_header: Option<&str>,
    binding: &str,
) -> Result<(String, Option<String>), String> {
    match storage {
        Storage::Cookie(c) => c
            .get_token(cookie_header, binding)
            .map(|t| (t.token, t.set_cookie))
            .map_err(|e| e.to_string()),
        Storage::Session(m) => {
            let mut session = match session {
                Some(s) => s,
                None => m.create().map_err(|e| e.to_string())?,
            };
            let token = SessionCsrfStorage::new()
                .get_token(&mut session)
                .map_err(|e| e.to_string())?;
            let cookie = m.save(&mut session).await.map_err(|e| e.to_string())?;
            Ok((token, cookie))
        }
    }
}

/// 400 with a body that says which check failed: an HTML page for browsers, JSON otherwise.
fn reject(parts: &Parts, err: &CsrfError) -> Response {
    tracing::info!(target: "portcullis::csrf", error = %err, "request refused");
    if crate::denial::wants_html(parts) {
        let page = format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Bad request</title></head>\
             <body><h1>400 Bad request</h1><p>{}</p><p>Reload the form and submit it again.</p></body></html>",
            crate::denial::html_escape(&err.to_string())
        );
        return (
            StatusCode::BAD_REQUEST,
            [(http::header::CONTENT_TYPE, "text/html; charset=utf-8")],
            page,
        )
            .into_response();
    }
    let body = serde_json::json!({"status": "error", "code": 400, "message": err.to_string()});
    (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
}

impl<S> Service<Request<Body>> for CsrfService<S>
where
    S: Service<Request<Body>, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let layer = self.layer.clone();
        Box::pin(async move {
            let cfg = &layer.inner;
            let (mut parts, body) = req.into_parts();
            let binding = parts
                .extensions
                .get::<RequestIdentity>()
                .and_then(|i| i.userid().map(str::to_owned))
                .unwrap_or_default();
            let cookie_header = crate::session::cookie_header(&parts);
            let mut session = match &cfg.storage {
                Storage::Session(m) => match m.load(cookie_header.as_deref()).await {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::error!(target: "portcullis::csrf", error = %e, "cannot load the session");
                        return Ok(
                            (StatusCode::SERVICE_UNAVAILABLE, "sessions are unavailable")
                                .into_response(),
                        );
                    }
                },
                Storage::Cookie(_) => None,
            };
            let mut body = body;
            if !cfg.check.is_safe(&parts.method) && !layer.is_exempt(parts.uri.path()) {
                let mut form_token: Option<String> = None;
                if cfg.check.needs_form_field(&parts.method, &parts.headers) {
                    let declared = parts
                        .headers
                        .get(CONTENT_LENGTH)
                        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
                    if declared.is_some_and(|n| n > cfg.body_limit) {
                        return Ok(
                            (StatusCode::PAYLOAD_TOO_LARGE, "form body too large").into_response()
                        );
                    }
                    let bytes = match axum::body::to_bytes(body, cfg.body_limit).await {
                        Ok(b) => b,
                        Err(_) => {
                            return Ok((StatusCode::PAYLOAD_TOO_LARGE, "form body too large")
                                .into_response());
                        }
                    };
                    form_token = form_field(&bytes, &cfg.check.config().field_name);
                    body = Body::from(bytes);
                }
                let creq = CsrfRequest::new(&parts.method, &parts.headers, cfg.https)
                    .with_form_token(form_token.as_deref());
                let expected = match &mut session {
                    Some(s) => SessionCsrfStorage::new().token(s).map(str::to_owned),
                    None => match &cfg.storage {
                        Storage::Cookie(c) => c.token(cookie_header.as_deref(), &binding),
                        Storage::Session(_) => None,
                    },
                };
                if let Err(e) = cfg.check.check(&creq, expected.as_deref()) {
                    return Ok(reject(&parts, &e));
                }
            }
            let issued = match issue(&cfg.storage, session, cookie_header.as_deref(), &binding)
                .await
            {
                Ok(t) => t,
                Err(e) => {
                    tracing::error!(target: "portcullis::csrf", error = %e, "cannot issue a csrf token");
                    return Ok(
                        (StatusCode::SERVICE_UNAVAILABLE, "cannot issue a csrf token")
                            .into_response(),
                    );
                }
            };
            parts.extensions.insert(CsrfToken(issued.0));
            let mut resp = inner.call(Request::from_parts(parts, body)).await?;
            if let Some(set) = issued.1.and_then(|c| HeaderValue::from_str(&c).ok()) {
                resp.headers_mut().append(SET_COOKIE, set);
            }
            Ok(resp)
        })
    }
}
