//! Forward auth (`/auth/verify`) over a real SQLite store: sessions from the portal's own
//! login, API tokens, the policy file's ACLs and predicates, trusted proxies.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use http::{HeaderMap, Request, StatusCode, header};
use portcullis_portal::forward_auth::{ForwardAuth, ForwardAuthError};
use portcullis_portal::{PortalConfig, PortalState, RecordingMailer, router};
use portcullis_store::password::PasswordPolicy;
use portcullis_store::{NewUser, Store};
use tower::ServiceExt;

const PW: &str = "correct horse battery";
const PROXY: &str = "10.0.0.1:40000";
const CLIENT: &str = "192.0.2.77:5000";

const POLICY: &str = r#"
[[resource]]
path = "/"
acl = [["Allow", "system.Authenticated", "view"]]

[[resource]]
path = "/public"
permission = "NO_PERMISSION_REQUIRED"

[[resource]]
path = "/edit"
acl = [["Allow", "group:editors", "edit"]]
permission = "edit"

[[resource]]
path = "/staff"
require = 'in_group("staff")'
"#;

struct Fa {
    app: Router,
    store: Store,
    state: PortalState,
    _dir: tempfile::TempDir,
}

struct Resp {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
}

impl Fa {
    async fn new(policy: Option<&str>) -> Fa {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("fa.db").display());
        let store = Store::open(&url).await.unwrap();
        let config = PortalConfig::from_toml(
            "public_url = \"https://portal.test\"\n\
             trusted_proxies = [\"10.0.0.1\"]\n\
             trusted_origins = [\"https://app.test\"]\n",
        )
        .unwrap();
        let state = PortalState::new(
            store.clone(),
            Arc::new(RecordingMailer::new()),
            config,
            PasswordPolicy::new(),
        )
        .unwrap();
        let mut fa = ForwardAuth::builder(state.clone());
        if let Some(p) = policy {
            fa = fa.policy_toml(p);
        }
        let fa = fa.build().unwrap();
        Fa {
            app: router(state.clone()).merge(fa.router()),
            store,
            state,
            _dir: dir,
        }
    }

    async fn send(&self, peer: &str, mut req: Request<Body>) -> Resp {
        let peer: SocketAddr = peer.parse().unwrap();
        req.extensions_mut().insert(ConnectInfo(peer));
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .unwrap();
        Resp {
            status,
            headers,
            body: String::from_utf8(bytes.to_vec()).unwrap(),
        }
    }

    async fn user(&self, name: &str, groups: &[&str]) -> i64 {
        let id = self
            .store
            .create_user(
                NewUser::new(name)
                    .email(format!("{name}@example.test"))
                    .password(PW),
            )
            .await
            .unwrap()
            .id;
        for g in groups {
            if self.store.get_group(g).await.unwrap().is_none() {
                self.store.create_group(g, "").await.unwrap();
            }
            self.store.add_member(id, g).await.unwrap();
        }
        id
    }

    /// Logs in through the portal's JSON API and returns `name=value` of the session.
    async fn login(&self, name: &str) -> String {
        let req = Request::post("/auth/api/login")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                serde_json::json!({"username": name, "password": PW}).to_string(),
            ))
            .unwrap();
        let r = self.send(CLIENT, req).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let sc = r.header("set-cookie").unwrap();
        sc.split(';').next().unwrap().to_owned()
    }

    /// Asks `/auth/verify` as the proxy, about `uri` on `app.test`.
    async fn verify(&self, uri: &str, extra: &[(&str, &str)]) -> Resp {
        self.verify_at("/auth/verify", PROXY, uri, extra).await
    }

    async fn verify_at(&self, path: &str, peer: &str, uri: &str, extra: &[(&str, &str)]) -> Resp {
        let mut b = Request::get(path)
            .header("x-forwarded-method", "GET")
            .header("x-forwarded-proto", "https")
            .header("x-forwarded-host", "app.test")
            .header("x-forwarded-uri", uri);
        for (k, v) in extra {
            b = b.header(*k, *v);
        }
        self.send(peer, b.body(Body::empty()).unwrap()).await
    }
}

#[tokio::test]
async fn anonymous_is_sent_to_login_with_the_original_url() {
    let fa = Fa::new(Some(POLICY)).await;
    let r = fa.verify("/docs/a?x=1&y=2", &[]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    let login =
        "https://portal.test/auth/login?came_from=https%3A//app.test/docs/a%3Fx%3D1%26y%3D2";
    assert_eq!(r.header("x-auth-login"), Some(login));
    assert_eq!(r.header("location"), Some(login));
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert!(r.header("x-auth-user").is_none());
    assert!(
        r.body
            .contains("Log in: the \"view\" permission is required for /docs/a"),
        "{}",
        r.body
    );
    // A host that is not a trusted origin: only the path goes into came_from.
    let r = fa
        .verify("/docs", &[("x-forwarded-host", "evil.test")])
        .await;
    // (the header is sent twice: once by `verify_at`, once here) → refused
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let req = Request::get("/auth/verify")
        .header("x-forwarded-host", "evil.test")
        .header("x-forwarded-uri", "/docs")
        .body(Body::empty())
        .unwrap();
    let r = fa.send(PROXY, req).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.header("x-auth-login"),
        Some("https://portal.test/auth/login?came_from=/docs")
    );
    // Public paths answer 200 with empty identity headers (so that a proxy copying them
    // overwrites a client's own).
    let r = fa.verify("/public/readme", &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    for h in [
        "x-auth-user",
        "x-auth-user-id",
        "x-auth-email",
        "x-auth-groups",
    ] {
        assert_eq!(r.header(h), Some(""), "{h}");
    }
}

#[tokio::test]
async fn redirect_mode_for_browsers_only() {
    let fa = Fa::new(Some(POLICY)).await;
    let html = ("accept", "text/html,application/xhtml+xml");
    let r = fa
        .verify_at("/auth/verify?redirect=1", PROXY, "/docs", &[html])
        .await;
    assert_eq!(r.status, StatusCode::FOUND, "{}", r.body);
    assert_eq!(
        r.header("location"),
        Some("https://portal.test/auth/login?came_from=https%3A//app.test/docs")
    );
    // An API client (JSON) and a non-GET method still get 401.
    let json = ("accept", "application/json");
    let r = fa
        .verify_at("/auth/verify?redirect=1", PROXY, "/docs", &[json])
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let req = Request::get("/auth/verify?redirect=1")
        .header("x-forwarded-method", "POST")
        .header("x-forwarded-uri", "/docs")
        .header("accept", "text/html")
        .body(Body::empty())
        .unwrap();
    assert_eq!(fa.send(PROXY, req).await.status, StatusCode::UNAUTHORIZED);
    // Unknown parameters and values are refused.
    for q in ["?redirect=maybe", "?rd=https://evil.test"] {
        let r = fa
            .verify_at(&format!("/auth/verify{q}"), PROXY, "/docs", &[])
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{q}");
    }
}

#[tokio::test]
async fn sessions_acls_and_identity_headers() {
    let fa = Fa::new(Some(POLICY)).await;
    let alice = fa.user("alice", &["editors", "a,b"]).await;
    fa.user("bob", &[]).await;
    let a = fa.login("alice").await;
    let b = fa.login("bob").await;

    let r = fa.verify("/edit/page", &[("cookie", &a)]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.header("x-auth-user"), Some("alice"));
    assert_eq!(r.header("x-auth-user-id"), Some(alice.to_string().as_str()));
    assert_eq!(r.header("x-auth-email"), Some("alice@example.test"));
    assert_eq!(r.header("x-auth-groups"), Some("a%2Cb,editors"));

    // Bob may view but not edit: 403 with the decision's message.
    let r = fa.verify("/docs", &[("cookie", &b)]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("x-auth-groups"), Some(""));
    let r = fa.verify("/edit/page", &[("cookie", &b)]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        r.body.trim(),
        "The \"edit\" permission is required for /edit/page"
    );
    assert!(r.header("x-auth-login").is_some());
    // Browsers get a page.
    let r = fa
        .verify("/edit", &[("cookie", &b), ("accept", "text/html")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("<h1>403 Forbidden</h1>"), "{}", r.body);
    // Encodings and dot segments cannot sneak past the tree.
    for sneaky in [
        "/%65dit",
        "/public/../edit",
        "/public/%2e%2e/edit",
        "/public/..%2Fedit",
        "//edit",
    ] {
        let r = fa.verify(sneaky, &[("cookie", &b)]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{sneaky}: {}", r.body);
    }

    // Predicates: not in group staff.
    let r = fa.verify("/staff/x", &[("cookie", &a)]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(r.body.contains("staff"), "{}", r.body);
    let r = fa.verify("/staff/x", &[]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);

    // Blocked: the session authenticates nobody; unblocked, it works again.
    fa.store.block_user(alice).await.unwrap();
    let r = fa.verify("/edit/page", &[("cookie", &a)]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    fa.store.unblock_user(alice).await.unwrap();
    let r = fa.verify("/edit/page", &[("cookie", &a)]).await;
    assert_eq!(r.status, StatusCode::OK);
    // Logged out: the session is gone.
    fa.state.sessions().forget(Some(&a)).await.unwrap();
    let r = fa.verify("/edit/page", &[("cookie", &a)]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // A forged cookie is anonymous.
    let r = fa
        .verify("/docs", &[("cookie", "portcullis_session=AAAA")])
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn bearer_tokens() {
    let fa = Fa::new(Some(POLICY)).await;
    let carol = fa.user("carol", &["editors"]).await;
    let token = fa
        .store
        .create_api_token(carol, "ci", None)
        .await
        .unwrap()
        .secret;
    let auth = format!("Bearer {token}");
    let r = fa.verify("/edit/x", &[("authorization", &auth)]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.header("x-auth-user"), Some("carol"));
    let r = fa
        .verify("/edit/x", &[("authorization", "Bearer pc_nope")])
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.header("www-authenticate"),
        Some("Bearer realm=\"portcullis\"")
    );
}

#[tokio::test]
async fn only_trusted_proxies_are_believed() {
    let fa = Fa::new(Some(POLICY)).await;
    fa.user("dave", &["editors"]).await;
    let d = fa.login("dave").await;
    // A client that reaches the endpoint directly gets no decision at all.
    let r = fa
        .verify_at("/auth/verify", CLIENT, "/public", &[("cookie", &d)])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("trusted proxies only"), "{}", r.body);
    assert!(r.header("x-auth-user").is_none());
    // From the proxy: bad or missing headers are 400 with a reason.
    let cases: [(&[(&str, &str)], &str); 4] = [
        (&[], "missing `X-Forwarded-Uri`"),
        (&[("x-forwarded-uri", "docs")], "must be a path"),
        (
            &[("x-forwarded-uri", "/"), ("x-forwarded-proto", "ftp")],
            "`X-Forwarded-Proto`",
        ),
        (&[("x-forwarded-uri", "/%C0%AF")], "invalid UTF-8"),
    ];
    for (headers, why) in cases {
        let mut b = Request::get("/auth/verify");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let r = fa.send(PROXY, b.body(Body::empty()).unwrap()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{headers:?}");
        assert!(r.body.contains(why), "{headers:?}: {}", r.body);
    }
    // nginx's X-Original-URI works too.
    let req = Request::get("/auth/verify")
        .header("x-original-uri", "/edit")
        .header("cookie", &d)
        .body(Body::empty())
        .unwrap();
    assert_eq!(fa.send(PROXY, req).await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_builtin_policy_needs_a_login() {
    let fa = Fa::new(None).await;
    fa.user("erin", &[]).await;
    let e = fa.login("erin").await;
    assert_eq!(
        fa.verify("/anything", &[]).await.status,
        StatusCode::UNAUTHORIZED
    );
    let r = fa.verify("/anything", &[("cookie", &e)]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("x-auth-user"), Some("erin"));
}

#[tokio::test]
async fn bad_policies_are_refused_with_their_position() {
    let fa = Fa::new(None).await;
    let build = |text: &str| {
        ForwardAuth::builder(fa.state.clone())
            .policy_named(text, "p.toml")
            .build()
            .unwrap_err()
    };
    let e = build("[[resource]]\npath = \"/\"\nacl = [[\"Allow\", \"x\"]]\n");
    assert!(e.to_string().starts_with("p.toml:3:"), "{e}");
    let e = build("[[resource]]\npath = \"/a\"\npermision = \"edit\"\n");
    assert!(e.to_string().starts_with("p.toml:3:"), "{e}");
    let e = build("[[resource]]\npath = \"/a\"\nrequire = 'in_group('\n");
    assert!(e.to_string().starts_with("p.toml:3:"), "{e}");
    let e = ForwardAuth::builder(fa.state.clone())
        .policy_file("/no/such/policy.toml")
        .build()
        .unwrap_err();
    assert!(matches!(e, ForwardAuthError::PolicyRead { .. }), "{e}");
}
