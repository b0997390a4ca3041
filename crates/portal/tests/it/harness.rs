//! A portal over a real SQLite file in a temporary directory, driven with `oneshot`.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use http::{HeaderMap, Request, StatusCode, header};
use portcullis_portal::{PortalConfig, PortalState, RecordingMailer, router};
use portcullis_store::password::PasswordPolicy;
use portcullis_store::{ManualClock, NewUser, Store, StoreOptions};
use serde_json::Value;
use tower::ServiceExt;

pub(crate) const T0: i64 = 1_800_000_000;
pub(crate) const PW: &str = "correct horse battery";
/// The content type of form posts.
pub(crate) const FORM: &str = "application/x-www-form-urlencoded";

pub(crate) struct H {
    pub(crate) app: Router,
    pub(crate) mailer: Arc<RecordingMailer>,
    pub(crate) clock: Arc<ManualClock>,
    pub(crate) store: Store,
    pub(crate) peer: SocketAddr,
    _dir: tempfile::TempDir,
}

pub(crate) struct Resp {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Value,
    pub(crate) raw: String,
}

impl Resp {
    /// The `name=value` of the `Set-Cookie` header.
    pub(crate) fn cookie(&self) -> String {
        let sc = self
            .headers
            .get(header::SET_COOKIE)
            .expect("set-cookie")
            .to_str()
            .unwrap();
        sc.split(';').next().unwrap().to_owned()
    }
}

impl H {
    pub(crate) async fn new() -> H {
        H::with(|_| {}).await
    }

    pub(crate) async fn with(edit: impl FnOnce(&mut PortalConfig)) -> H {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::new(T0));
        let opts = StoreOptions {
            clock: clock.clone(),
            ..StoreOptions::default()
        };
        let url = format!("sqlite:{}", dir.path().join("p.db").display());
        let store = Store::open_with(&url, opts).await.unwrap();
        let mut config = PortalConfig::from_toml("public_url = \"https://portal.test\"").unwrap();
        edit(&mut config);
        let mailer = Arc::new(RecordingMailer::new());
        let state =
            PortalState::new(store.clone(), mailer.clone(), config, PasswordPolicy::new()).unwrap();
        H {
            app: router(state),
            mailer,
            clock,
            store,
            peer: "192.0.2.10:5000".parse().unwrap(),
            _dir: dir,
        }
    }

    pub(crate) async fn send(&self, mut req: Request<Body>) -> Resp {
        if req.extensions().get::<ConnectInfo<SocketAddr>>().is_none() {
            req.extensions_mut().insert(ConnectInfo(self.peer));
        }
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .unwrap();
        let raw = String::from_utf8(bytes.to_vec()).unwrap();
        let body = serde_json::from_str(&raw).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            body,
            raw,
        }
    }

    pub(crate) fn request(
        method: &str,
        path: &str,
        ctype: Option<&str>,
        body: impl Into<Body>,
        cookie: Option<&str>,
    ) -> Request<Body> {
        let mut b = Request::builder().method(method).uri(path);
        if let Some(c) = ctype {
            b = b.header(header::CONTENT_TYPE, c);
        }
        if let Some(c) = cookie {
            b = b.header(header::COOKIE, c);
        }
        b.body(body.into()).unwrap()
    }

    /// A urlencoded form POST of `body` (see [`form_body`]).
    pub(crate) fn form(path: &str, body: impl Into<Body>, cookie: Option<&str>) -> Request<Body> {
        H::request("POST", path, Some(FORM), body, cookie)
    }

    /// `method` on `path`, with `body` as JSON or without a body.
    pub(crate) async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        cookie: Option<&str>,
    ) -> Resp {
        let req = match body {
            Some(b) => H::request(
                method,
                path,
                Some("application/json"),
                b.to_string(),
                cookie,
            ),
            None => H::request(method, path, None, Body::empty(), cookie),
        };
        self.send(req).await
    }

    pub(crate) async fn post(&self, path: &str, body: Value, cookie: Option<&str>) -> Resp {
        self.call("POST", path, Some(body), cookie).await
    }

    pub(crate) async fn get(&self, path: &str, cookie: Option<&str>) -> Resp {
        self.call("GET", path, None, cookie).await
    }

    /// An active user with password [`PW`].
    pub(crate) async fn user(&self, username: &str, email: &str) -> i64 {
        self.store
            .create_user(NewUser::new(username).email(email).password(PW))
            .await
            .unwrap()
            .id
    }

    /// Logs in and returns the session cookie.
    pub(crate) async fn login(&self, login: &str, password: &str) -> String {
        let r = self
            .post(
                "/auth/api/login",
                serde_json::json!({"username": login, "password": password}),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
        r.cookie()
    }

    /// The text of the newest mail to `to` with a link carrying a token.
    pub(crate) fn mail_with_link(&self, to: &str) -> String {
        self.mailer
            .sent()
            .into_iter()
            .rev()
            .find(|m| m.to == to && m.text.contains("token="))
            .expect("a mail with a link")
            .text
    }

    /// The token in the link of the newest mail to `to`.
    pub(crate) fn token_for(&self, to: &str) -> String {
        after(&self.mail_with_link(to), "token=")
    }
}

/// The word of `text` that follows `marker` (up to white space).
pub(crate) fn after(text: &str, marker: &str) -> String {
    let start = text.find(marker).expect("the marker") + marker.len();
    text[start..].split_whitespace().next().unwrap().to_owned()
}

/// Percent-encodes all but RFC 3986's unreserved characters.
pub(crate) fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// `fields` as a urlencoded form body.
pub(crate) fn form_body(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// `req` with the `Origin` header `origin`.
pub(crate) fn with_origin(mut req: Request<Body>, origin: &str) -> Request<Body> {
    req.headers_mut()
        .insert(header::ORIGIN, origin.parse().unwrap());
    req
}

/// The `Location` of a redirect.
pub(crate) fn location(r: &Resp) -> String {
    r.headers
        .get(header::LOCATION)
        .expect("a Location")
        .to_str()
        .unwrap()
        .to_owned()
}

/// The `value` of the input named `name`.
pub(crate) fn attr_value(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\""))?;
    let rest = &html[at..];
    let end = rest.find('>')?;
    let tag = &rest[..end];
    let v = tag.find("value=\"")? + "value=\"".len();
    Some(tag[v..].split('"').next()?.to_owned())
}

/// The value of a page's hidden `csrf_token` field.
pub(crate) fn csrf(html: &str) -> String {
    attr_value(html, "csrf_token").expect("a csrf_token field")
}

/// A browser for the HTML pages: one cookie jar (the session cookie) over the harness.
pub(crate) struct B<'a> {
    h: &'a H,
    /// The session cookie (`name=value`), when the portal set one.
    pub(crate) cookie: Option<String>,
}

impl<'a> B<'a> {
    pub(crate) fn new(h: &'a H) -> B<'a> {
        B { h, cookie: None }
    }

    fn keep_cookie(&mut self, r: &Resp) {
        for sc in r.headers.get_all(header::SET_COOKIE) {
            let sc = sc.to_str().unwrap();
            let pair = sc.split(';').next().unwrap().trim().to_owned();
            let expired = sc.to_ascii_lowercase().contains("max-age=0") || pair.ends_with('=');
            self.cookie = if expired { None } else { Some(pair) };
        }
    }

    pub(crate) async fn get(&mut self, path: &str) -> Resp {
        let r = self.h.get(path, self.cookie.as_deref()).await;
        self.keep_cookie(&r);
        r
    }

    pub(crate) async fn send(&mut self, req: Request<Body>) -> Resp {
        let r = self.h.send(req).await;
        self.keep_cookie(&r);
        r
    }

    /// POSTs `fields` (urlencoded) to `path`.
    pub(crate) async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let body = form_body(fields);
        self.send(H::form(path, body, self.cookie.as_deref())).await
    }

    /// GETs the form page `path`, then POSTs `fields` with its CSRF token.
    pub(crate) async fn submit(&mut self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let page = self.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.raw);
        let token = csrf(&page.raw);
        let action = path.split('?').next().unwrap();
        let mut all: Vec<(&str, &str)> = vec![("csrf_token", &token)];
        all.extend_from_slice(fields);
        self.post(action, &all).await
    }
}
