//! The AuthLayer, guards, denial views and extractors, driven through a real axum `Router`
//! (tower `oneshot`) over a real SQLite store.

use std::borrow::Cow;

use axum::Router;
use axum::body::Body;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use http::{HeaderMap, Request, StatusCode, header};
use portcullis_authz::predicate::{has_permission, in_group, not_anonymous};
use portcullis_authz::{Acl, Resource};
use portcullis_store::{NewUser, Store};
use portcullis_web::extract::{Authenticated, Authz};
use portcullis_web::secret::MasterSecret;
use portcullis_web::ticket::{AuthTktCookie, TicketSecret};
use portcullis_web::{
    Authorizer, BasicPolicy, BearerPolicy, PolicyChain, RequestIdentity, TicketPolicy,
};
use tower::ServiceExt;

const SECRET: &[u8] = b"layer-test-master-secret-0123456789abcdef";

struct Fixture {
    _dir: tempfile::TempDir,
    store: Store,
    alice: i64,
    bob: i64,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.sqlite").display());
    let store = Store::open(&url).await.unwrap();
    store.create_group("editors", "").await.unwrap();
    store.create_group("admins", "").await.unwrap();
    store.grant_permission("admins", "purge").await.unwrap();
    let alice = store
        .create_user(NewUser::new("alice").password("correct horse battery"))
        .await
        .unwrap()
        .id;
    let bob = store
        .create_user(NewUser::new("bob").password("another long passphrase"))
        .await
        .unwrap()
        .id;
    store.add_member(alice, "editors").await.unwrap();
    store.add_member(alice, "admins").await.unwrap();
    Fixture {
        _dir: dir,
        store,
        alice,
        bob,
    }
}

fn ticket_policy() -> TicketPolicy {
    let master = MasterSecret::new(SECRET.to_vec()).unwrap();
    TicketPolicy::new(
        AuthTktCookie::builder(TicketSecret::derived(&master))
            .build()
            .unwrap(),
    )
}

struct Post {
    author: String,
}

impl Resource for Post {
    fn name(&self) -> &str {
        "post"
    }
    fn parent(&self) -> Option<&dyn Resource> {
        None
    }
    fn acl(&self) -> Option<Cow<'_, Acl>> {
        Some(Cow::Owned(Acl::new().allow(self.author.clone(), "edit")))
    }
}

fn app(store: &Store, authz: &Authorizer) -> Router {
    let admin = Router::new()
        .route("/users", get(|| async { "users" }))
        .route(
            "/purge",
            post(|| async { "purged" }).route_layer(authz.require(has_permission("purge"))),
        )
        .route_layer(authz.allow_only(in_group("admins")));
    let login_store = store.clone();
    Router::new()
        .route("/", get(|id: RequestIdentity| async move { format!("hello {}", id.userid().unwrap_or("anonymous")) }))
        .route("/public", get(|| async { "public" }))
        .route(
            "/about-root",
            get(|| async { "root editor" }).route_layer(authz.permission_on_path("edit", "/")),
        )
        .route("/edit", get(|| async { "editing" }).route_layer(authz.permission("edit")))
        .route("/me", get(|Authenticated(id): Authenticated| async move { id.principals().join(",") }))
        .route(
            "/posts/{author}",
            get(|authz: Authz, axum::extract::Path(author): axum::extract::Path<String>| async move {
                let post = Post { author };
                match authz.require(&post, "edit") {
                    Ok(d) => d.message().into_response(),
                    Err(resp) => resp,
                }
            }),
        )
        .route(
            "/login/{user}",
            get(move |axum::extract::Path(user): axum::extract::Path<String>, authz: Authz| {
                let store = login_store.clone();
                async move {
                    let u = store.get_user_by_username(&user).await.unwrap().unwrap();
                    let parts = Request::builder().uri("/").body(()).unwrap().into_parts().0;
                    let headers = authz.authorizer().remember(&parts, &u.id.to_string()).await.unwrap();
                    let mut resp = "ok".into_response();
                    resp.headers_mut().extend(headers);
                    resp
                }
            }),
        )
        .nest("/admin", admin)
        .layer(authz.layer())
}

fn authorizer(store: &Store) -> Authorizer {
    Authorizer::builder(
        PolicyChain::new()
            .with(ticket_policy())
            .with(BasicPolicy::new(store.clone(), "test"))
            .with(BearerPolicy::new(store.clone())),
        store.clone(),
    )
    .acl(
        "/",
        Acl::new()
            .allow("system.Everyone", "view")
            .allow("group:editors", "edit")
            .deny_all(),
    )
    .default_permission("view")
    .permission_at("/admin", "view")
    .public("/login")
    .build()
    .unwrap()
}

async fn send(app: &Router, uri: &str, headers: &[(&str, &str)]) -> Response {
    send_method(app, "GET", uri, headers).await
}

async fn send_method(app: &Router, method: &str, uri: &str, headers: &[(&str, &str)]) -> Response {
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    app.clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap()
}

async fn body(resp: Response) -> String {
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// Logs `user` in through the ticket policy; returns the `Cookie` header value.
async fn login(app: &Router, user: &str) -> String {
    let resp = send(app, &format!("/login/{user}"), &[]).await;
    assert_eq!(resp.status(), StatusCode::OK);
    cookie_from(resp.headers())
}

fn cookie_from(headers: &HeaderMap) -> String {
    let set = headers
        .get(header::SET_COOKIE)
        .expect("Set-Cookie")
        .to_str()
        .unwrap();
    set.split(';').next().unwrap().to_owned()
}

#[tokio::test]
async fn anonymous_browsers_are_redirected_with_came_from_and_apis_get_401() {
    let f = fixture().await;
    let authz = authorizer(&f.store);
    let app = app(&f.store, &authz);
    assert_eq!(body(send(&app, "/", &[]).await).await, "hello anonymous");
    let resp = send(
        &app,
        "/edit?x=1",
        &[("accept", "text/html,application/xhtml+xml")],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        resp.headers()[header::LOCATION],
        "/login?came_from=/edit%3Fx%3D1"
    );
    let resp = send(&app, "/edit", &[("accept", "application/json")]).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(resp.headers().get(header::WWW_AUTHENTICATE).is_some());
    let text = body(resp).await;
    assert!(text.contains("\"permission\":\"edit\""), "{text}");
}

#[tokio::test]
async fn ticket_login_then_permission_and_403_for_the_wrong_user() {
    let f = fixture().await;
    let authz = authorizer(&f.store);
    let app = app(&f.store, &authz);
    let alice = login(&app, "alice").await;
    let resp = send(&app, "/edit", &[("cookie", &alice)]).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(body(resp).await, "editing");
    assert_eq!(
        body(send(&app, "/", &[("cookie", &alice)]).await).await,
        format!("hello {}", f.alice)
    );

    let bob = login(&app, "bob").await;
    let resp = send(&app, "/edit", &[("cookie", &bob), ("accept", "text/html")]).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let page = body(resp).await;
    assert!(
        page.contains("&quot;edit&quot; permission is required"),
        "{page}"
    );
}

#[tokio::test]
async fn blocked_and_deleted_users_are_anonymous_at_once() {
    let f = fixture().await;
    let authz = authorizer(&f.store);
    let app = app(&f.store, &authz);
    let bob = login(&app, "bob").await;
    assert_eq!(
        body(send(&app, "/", &[("cookie", &bob)]).await).await,
        format!("hello {}", f.bob)
    );
    f.store.block_user(f.bob).await.unwrap();
    assert_eq!(
        body(send(&app, "/", &[("cookie", &bob)]).await).await,
        "hello anonymous"
    );
    f.store.unblock_user(f.bob).await.unwrap();
    assert_eq!(
        body(send(&app, "/", &[("cookie", &bob)]).await).await,
        format!("hello {}", f.bob)
    );
    f.store.delete_user(f.bob).await.unwrap();
    assert_eq!(
        body(send(&app, "/", &[("cookie", &bob)]).await).await,
        "hello anonymous"
    );
}

#[tokio::test]
async fn forged_tickets_are_anonymous() {
    let f = fixture().await;
    let authz = authorizer(&f.store);
    let app = app(&f.store, &authz);
    let alice = login(&app, "alice").await;
    let (name, value) = alice.split_once('=').unwrap();
    let mut forged: Vec<char> = value.trim_matches('"').chars().collect();
    forged[3] = if forged[3] == 'a' { 'b' } else { 'a' };
    let forged = format!("{name}={}", forged.into_iter().collect::<String>());
    assert_eq!(
        body(send(&app, "/", &[("cookie", &forged)]).await).await,
        "hello anonymous"
    );
}

#[tokio::test]
async fn router_allow_only_and_route_require_predicates() {
    let f = fixture().await;
    let authz = authorizer(&f.store);
    let app = app(&f.store, &authz);
    // anonymous: the predicate's failure is a 401
    let resp = send(&app, "/admin/users", &[]).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let bob = login(&app, "bob").await;
    let resp = send(&app, "/admin/users", &[("cookie", &bob)]).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(
        body(resp)
            .await
            .contains("The current user must belong to the group \\\"admins\\\"")
    );
    let alice = login(&app, "alice").await;
    assert_eq!(
        body(send(&app, "/admin/users", &[("cookie", &alice)]).await).await,
        "users"
    );
    // has_permission uses the groups' permissions from the store (admins → purge)
    let resp = send_method(&app, "POST", "/admin/purge", &[("cookie", &alice)]).await;
    assert_eq!(body(resp).await, "purged");
}

#[tokio::test]
async fn basic_and_bearer_policies() {
    let f = fixture().await;
    let authz = authorizer(&f.store);
    let app = app(&f.store, &authz);
    let good = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("alice:correct horse battery")
    );
    let resp = send(&app, "/edit", &[("authorization", &good)]).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let bad = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("alice:wrong")
    );
    let resp = send(&app, "/edit", &[("authorization", &bad)]).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(
        resp.headers()[header::WWW_AUTHENTICATE]
            .to_str()
            .unwrap()
            .starts_with("Basic realm=\"test\"")
    );

    let token = f.store.create_api_token(f.alice, "ci", None).await.unwrap();
    let bearer = format!("Bearer {}", token.secret);
    let resp = send(&app, "/edit", &[("authorization", &bearer)]).await;
    assert_eq!(resp.status(), StatusCode::OK);
    f.store.revoke_api_token(token.token.id).await.unwrap();
    let resp = send(&app, "/edit", &[("authorization", &bearer)]).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn default_permission_and_public_paths() {
    let f = fixture().await;
    let store = f.store.clone();
    let authz = Authorizer::builder(ticket_policy(), store.clone())
        .acl(
            "/",
            Acl::new().allow("system.Authenticated", "view").deny_all(),
        )
        .default_permission("view")
        .public("/login")
        .build()
        .unwrap();
    let app = app(&store, &authz);
    assert_eq!(
        send(&app, "/public", &[]).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(send(&app, "/login/bob", &[]).await.status(), StatusCode::OK);
    let bob = login(&app, "bob").await;
    assert_eq!(
        send(&app, "/public", &[("cookie", &bob)]).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn per_instance_acls_through_the_authz_extractor() {
    let f = fixture().await;
    let authz = authorizer(&f.store);
    let app = app(&f.store, &authz);
    let bob = login(&app, "bob").await;
    let mine = format!("/posts/{}", f.bob);
    let resp = send(&app, &mine, &[("cookie", &bob)]).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(body(resp).await.starts_with("ACLAllowed"));
    let theirs = format!("/posts/{}", f.alice);
    assert_eq!(
        send(&app, &theirs, &[("cookie", &bob)]).await.status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn authenticated_extractor_and_custom_forbidden_view() {
    let f = fixture().await;
    let authz = Authorizer::builder(ticket_policy(), f.store.clone())
        .acl("/", Acl::new().allow("system.Everyone", "view"))
        .acl(
            "/admin",
            Acl::new().allow("g:admin", "ALL_PERMISSIONS").deny_all(),
        )
        .permission_at("/admin", "admin")
        .forbidden_view(|_, denial| {
            (
                StatusCode::FORBIDDEN,
                format!(
                    "<a href=\"/login\">Sign in as an administrator</a>: {}",
                    denial.message
                ),
            )
                .into_response()
        })
        .build()
        .unwrap();
    let app = app(&f.store, &authz);
    assert_eq!(
        send(&app, "/me", &[]).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let bob = login(&app, "bob").await;
    let me = body(send(&app, "/me", &[("cookie", &bob)]).await).await;
    assert_eq!(
        me,
        format!("system.Everyone,system.Authenticated,{}", f.bob)
    );
    let resp = send(&app, "/admin/users", &[("cookie", &bob)]).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(
        body(resp)
            .await
            .starts_with("<a href=\"/login\">Sign in as an administrator</a>")
    );
}

#[tokio::test]
async fn predicates_need_the_auth_layer() {
    let f = fixture().await;
    let authz = authorizer(&f.store);
    // A guard without the AuthLayer fails closed, loudly.
    let app: Router = Router::new().route(
        "/x",
        get(|| async { "x" }).route_layer(authz.require(not_anonymous())),
    );
    let resp = app
        .oneshot(Request::builder().uri("/x").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
}

/// A `MakeWriter` that collects log output in memory.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

#[tokio::test]
async fn debug_authorization_logs_every_decision() {
    let f = fixture().await;
    let authz = Authorizer::builder(ticket_policy(), f.store.clone())
        .acl("/", Acl::new().allow("group:editors", "edit").deny_all())
        .debug_authorization(true)
        .build()
        .unwrap();
    let principals: std::sync::Arc<[String]> = vec![f.bob.to_string()].into();
    let bob = RequestIdentity::authenticated(f.bob.to_string(), principals, "ticket", None);
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(logs.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        assert!(authz.check_path(&bob, "/doc", "edit").is_err());
    });
    let out = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(out.contains("portcullis::authz"), "{out}");
    assert!(
        out.contains(&format!("user=\"{}\"", f.bob)) || out.contains(&format!("user={}", f.bob)),
        "{out}"
    );
    assert!(
        out.contains("permission=\"edit\"") || out.contains("permission=edit"),
        "{out}"
    );
    assert!(out.contains("system.Authenticated"), "{out}");
    assert!(
        out.contains("('Deny', 'system.Everyone', ALL_PERMISSIONS) (entry 1)"),
        "{out}"
    );
}

#[tokio::test]
async fn a_route_about_a_fixed_resource() {
    let f = fixture().await;
    let authz = authorizer(&f.store);
    let app = app(&f.store, &authz);
    let alice = login(&app, "alice").await;
    let bob = login(&app, "bob").await;
    assert_eq!(
        body(send(&app, "/about-root", &[("cookie", &alice)]).await).await,
        "root editor"
    );
    assert_eq!(
        send(&app, "/about-root", &[("cookie", &bob)])
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn denial_views_see_who_was_refused() {
    let f = fixture().await;
    let authz = Authorizer::builder(ticket_policy(), f.store.clone())
        .acl("/", Acl::new().allow("group:editors", "view").deny_all())
        .default_permission("view")
        .public("/login")
        .forbidden_view(|parts, _| {
            let who = parts
                .extensions
                .get::<RequestIdentity>()
                .and_then(|i| i.userid().map(str::to_owned));
            (
                StatusCode::FORBIDDEN,
                format!("sorry {}", who.unwrap_or_default()),
            )
                .into_response()
        })
        .build()
        .unwrap();
    let app = app(&f.store, &authz);
    let bob = login(&app, "bob").await;
    assert_eq!(
        body(send(&app, "/public", &[("cookie", &bob)]).await).await,
        format!("sorry {}", f.bob)
    );
}
