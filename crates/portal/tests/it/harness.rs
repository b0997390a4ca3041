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

    pub(crate) async fn post(&self, path: &str, body: Value, cookie: Option<&str>) -> Resp {
        self.send(H::request(
            "POST",
            path,
            Some("application/json"),
            body.to_string(),
            cookie,
        ))
        .await
    }

    pub(crate) async fn get(&self, path: &str, cookie: Option<&str>) -> Resp {
        self.send(H::request("GET", path, None, Body::empty(), cookie))
            .await
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

    /// The token in the link of the newest mail to `to`.
    pub(crate) fn token_for(&self, to: &str) -> String {
        let mail = self
            .mailer
            .sent()
            .into_iter()
            .rev()
            .find(|m| m.to == to && m.text.contains("token="))
            .expect("a mail with a link");
        let start = mail.text.find("token=").unwrap() + "token=".len();
        mail.text[start..]
            .split_whitespace()
            .next()
            .unwrap()
            .to_owned()
    }
}
