//! The CsrfLayer over a real Router: tokens issued on safe requests, checked on unsafe ones
//! (header or form field), origin checks, exemptions, binding to the user.

use axum::Router;
use axum::body::Body;
use axum::response::Response;
use axum::routing::{get, post};
use http::{Request, StatusCode, header};
use portcullis_web::csrf::{CookieCsrfStorage, CsrfConfig};
use portcullis_web::groupfinder::FnGroupfinder;
use portcullis_web::secret::MasterSecret;
use portcullis_web::ticket::{AuthTktCookie, TicketSecret, UserId};
use portcullis_web::{Authorizer, CsrfLayer, CsrfToken, TicketPolicy};
use std::sync::Arc;
use tower::ServiceExt;

const SECRET: &[u8] = b"csrf-layer-test-master-secret-0123456789";

fn app() -> Router {
    let master = MasterSecret::new(SECRET.to_vec()).unwrap();
    let tickets = AuthTktCookie::builder(TicketSecret::derived(&master))
        .build()
        .unwrap();
    let authz = Authorizer::builder(
        TicketPolicy::new(tickets),
        FnGroupfinder::new(|u: &str| {
            (u == "alice").then(|| Arc::from(vec!["group:staff".to_owned()]))
        }),
    )
    .build()
    .unwrap();
    let csrf = CsrfLayer::new(
        CsrfConfig {
            trusted_origins: vec![".example.com".into()],
            ..CsrfConfig::default()
        },
        CookieCsrfStorage::new(&master),
        true,
    )
    .exempt("/hooks");
    Router::new()
        .route("/form", get(|CsrfToken(t): CsrfToken| async move { t }))
        .route(
            "/submit",
            post(|body: String| async move { format!("got {body}") }),
        )
        .route("/hooks/in", post(|| async { "hook" }))
        .layer(csrf)
        .layer(authz.layer())
}

fn alice_cookie() -> String {
    let master = MasterSecret::new(SECRET.to_vec()).unwrap();
    let tickets = AuthTktCookie::builder(TicketSecret::derived(&master))
        .build()
        .unwrap();
    let req = portcullis_web::ticket::TicketRequest::new(
        "www.example.com",
        portcullis_web::ticket::ClientIp::UNSPECIFIED,
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let set = tickets
        .remember(&UserId::Text("alice".into()), &[], &req, now)
        .unwrap();
    set[0].split(';').next().unwrap().to_owned()
}

async fn call(app: &Router, req: Request<Body>) -> Response {
    app.clone().oneshot(req).await.unwrap()
}

async fn text(resp: Response) -> String {
    String::from_utf8(
        axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .unwrap()
            .to_vec(),
    )
    .unwrap()
}

/// GET /form with `cookie`; returns (token, csrf cookie pair).
async fn token_for(app: &Router, cookie: Option<&str>) -> (String, String) {
    let mut req = Request::get("/form").header(header::HOST, "www.example.com");
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    let resp = call(app, req.body(Body::empty()).unwrap()).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let set = resp
        .headers()
        .get(header::SET_COOKIE)
        .expect("a new csrf cookie")
        .to_str()
        .unwrap()
        .to_owned();
    assert!(set.starts_with("csrf_token="), "{set}");
    (text(resp).await, set.split(';').next().unwrap().to_owned())
}

fn post_req(path: &str, cookie: &str, origin: &str) -> http::request::Builder {
    Request::post(path)
        .header(header::HOST, "www.example.com")
        .header(header::ORIGIN, origin)
        .header(header::COOKIE, cookie)
}

#[tokio::test]
async fn header_and_form_tokens_pass_missing_or_wrong_ones_are_400() {
    let app = app();
    let (token, cookie) = token_for(&app, None).await;
    assert_eq!(token.len(), 43);

    let resp = call(
        &app,
        post_req("/submit", &cookie, "https://www.example.com")
            .header("x-csrf-token", &token)
            .body(Body::from("a=1"))
            .unwrap(),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(text(resp).await, "got a=1");

    let form = format!("x=1&csrf_token={token}&y=2");
    let resp = call(
        &app,
        post_req("/submit", &cookie, "https://www.example.com")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(form.clone()))
            .unwrap(),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        text(resp).await,
        format!("got {form}"),
        "the handler sees the whole body"
    );

    let resp = call(
        &app,
        post_req("/submit", &cookie, "https://www.example.com")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(text(resp).await.contains("bad csrf token"));

    let resp = call(
        &app,
        post_req("/submit", &cookie, "https://www.example.com")
            .header("x-csrf-token", "A".repeat(43))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(text(resp).await.contains("bad csrf token"));
}

#[tokio::test]
async fn foreign_origins_are_400_subdomains_of_trusted_ones_pass() {
    let app = app();
    let (token, cookie) = token_for(&app, None).await;
    let resp = call(
        &app,
        post_req("/submit", &cookie, "https://evil.example")
            .header("x-csrf-token", &token)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(text(resp).await.contains("bad csrf origin"));
    let resp = call(
        &app,
        post_req("/submit", &cookie, "https://example.com.evil.com")
            .header("x-csrf-token", &token)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let resp = call(
        &app,
        post_req("/submit", &cookie, "https://api.example.com")
            .header("x-csrf-token", &token)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn exempt_paths_skip_the_check() {
    let app = app();
    let resp = call(
        &app,
        Request::post("/hooks/in")
            .header(header::HOST, "www.example.com")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn tokens_are_bound_to_the_user() {
    let app = app();
    let (anon_token, anon_csrf) = token_for(&app, None).await;
    let alice = alice_cookie();
    let both = format!("{alice}; {anon_csrf}");
    // the anonymous token does not work once logged in
    let resp = call(
        &app,
        post_req("/submit", &both, "https://www.example.com")
            .header("x-csrf-token", &anon_token)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    // a token issued to alice does
    let (token, csrf) = token_for(&app, Some(&alice)).await;
    let resp = call(
        &app,
        post_req(
            "/submit",
            &format!("{alice}; {csrf}"),
            "https://www.example.com",
        )
        .header("x-csrf-token", &token)
        .body(Body::empty())
        .unwrap(),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn oversized_forms_are_413() {
    let app = app();
    let (_, cookie) = token_for(&app, None).await;
    let resp = call(
        &app,
        post_req("/submit", &cookie, "https://www.example.com")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(vec![b'a'; 2 << 20]))
            .unwrap(),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn tokens_in_the_server_side_session() {
    use portcullis_web::session::{SessionConfig, SessionManager, SqlSessionStore};
    let dir = tempfile::tempdir().unwrap();
    let store = portcullis_store::Store::open(&format!(
        "sqlite://{}",
        dir.path().join("c.sqlite").display()
    ))
    .await
    .unwrap();
    let sessions = SessionManager::new(SqlSessionStore::new(store), SessionConfig::new()).unwrap();
    let master = MasterSecret::new(SECRET.to_vec()).unwrap();
    let tickets = AuthTktCookie::builder(TicketSecret::derived(&master))
        .build()
        .unwrap();
    let authz = Authorizer::builder(
        TicketPolicy::new(tickets),
        FnGroupfinder::new(|_: &str| None),
    )
    .build()
    .unwrap();
    let app = Router::new()
        .route("/form", get(|CsrfToken(t): CsrfToken| async move { t }))
        .route("/submit", post(|| async { "ok" }))
        .layer(CsrfLayer::with_sessions(
            CsrfConfig::default(),
            sessions,
            true,
        ))
        .layer(authz.layer());
    let resp = call(
        &app,
        Request::get("/form")
            .header(header::HOST, "www.example.com")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    let set = resp
        .headers()
        .get(header::SET_COOKIE)
        .expect("a session is created")
        .to_str()
        .unwrap()
        .to_owned();
    assert!(set.starts_with("portcullis_session="), "{set}");
    let cookie = set.split(';').next().unwrap().to_owned();
    let token = text(resp).await;
    // The same session gives the same token, without a new cookie.
    let again = call(
        &app,
        Request::get("/form")
            .header(header::COOKIE, &cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert!(again.headers().get(header::SET_COOKIE).is_none());
    assert_eq!(text(again).await, token);
    let ok = call(
        &app,
        post_req("/submit", &cookie, "https://www.example.com")
            .header("x-csrf-token", &token)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(ok.status(), StatusCode::OK);
    let bad = call(
        &app,
        post_req("/submit", &cookie, "https://www.example.com")
            .header("x-csrf-token", "B".repeat(43))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let no_session = call(
        &app,
        post_req("/submit", "x=y", "https://www.example.com")
            .header("x-csrf-token", &token)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(no_session.status(), StatusCode::BAD_REQUEST);
}
