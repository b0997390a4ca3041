//! Sessions rotate on login and on privilege change (the user's principals change), through the
//! AuthLayer, over a real SQLite store.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::response::IntoResponse;
use axum::routing::get;
use http::{Request, StatusCode, header};
use portcullis_store::{NewUser, Store};
use portcullis_web::groupfinder::Groupfinder;
use portcullis_web::session::{SessionConfig, SessionManager, SessionPolicy, SqlSessionStore};
use portcullis_web::{Authorizer, RequestIdentity};
use tower::ServiceExt;

fn session_cookie(resp: &http::Response<Body>) -> Option<String> {
    resp.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("portcullis_session=") && !v.contains("Max-Age=0"))
        .map(|v| v.split(';').next().unwrap().to_owned())
}

#[tokio::test]
async fn session_id_rotates_when_privileges_change() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!(
        "sqlite://{}",
        dir.path().join("s.sqlite").display()
    ))
    .await
    .unwrap();
    let bob = store.create_user(NewUser::new("bob")).await.unwrap().id;
    store.create_group("staff", "").await.unwrap();

    let manager = SessionManager::new(
        SqlSessionStore::new(store.clone()),
        SessionConfig::new().dangerous_insecure_cookies(),
    )
    .unwrap();
    let gf: Arc<dyn Groupfinder> = Arc::new(store.clone());
    let policy = SessionPolicy::new(manager).rotate_on_privilege_change(gf);
    let authz = Authorizer::builder(policy, store.clone()).build().unwrap();
    let login_authz = authz.clone();
    let app = Router::new()
        .route(
            "/",
            get(|id: RequestIdentity| async move { id.userid().unwrap_or("anonymous").to_owned() }),
        )
        .route(
            "/login",
            get(move || {
                let authz = login_authz.clone();
                async move {
                    let parts = Request::builder()
                        .uri("/login")
                        .body(())
                        .unwrap()
                        .into_parts()
                        .0;
                    let headers = authz.remember(&parts, &bob.to_string()).await.unwrap();
                    let mut resp = "ok".into_response();
                    resp.headers_mut().extend(headers);
                    resp
                }
            }),
        )
        .layer(authz.layer());
    let get = |cookie: Option<String>, path: &'static str| {
        let app = app.clone();
        async move {
            let mut req = Request::get(path);
            if let Some(c) = cookie {
                req = req.header(header::COOKIE, c);
            }
            app.oneshot(req.body(Body::empty()).unwrap()).await.unwrap()
        }
    };

    let login = get(None, "/login").await;
    let first = session_cookie(&login).expect("login sets a session cookie");
    // First request: principals fingerprinted, same id.
    let resp = get(Some(first.clone()), "/").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(session_cookie(&resp), None);
    // Nothing changed: same id, no cookie.
    assert_eq!(session_cookie(&get(Some(first.clone()), "/").await), None);

    // Privilege change: bob joins a group → the next request gets a new session id...
    store.add_member(bob, "staff").await.unwrap();
    let resp = get(Some(first.clone()), "/").await;
    let second = session_cookie(&resp).expect("a new session id after the privilege change");
    assert_ne!(first, second);
    let text = String::from_utf8(
        axum::body::to_bytes(resp.into_body(), 1024)
            .await
            .unwrap()
            .to_vec(),
    )
    .unwrap();
    assert_eq!(text, bob.to_string());
    // ...and the old id is dead.
    let old = get(Some(first), "/").await;
    let text = String::from_utf8(
        axum::body::to_bytes(old.into_body(), 1024)
            .await
            .unwrap()
            .to_vec(),
    )
    .unwrap();
    assert_eq!(text, "anonymous");
    let text = String::from_utf8(
        axum::body::to_bytes(get(Some(second), "/").await.into_body(), 1024)
            .await
            .unwrap()
            .to_vec(),
    )
    .unwrap();
    assert_eq!(text, bob.to_string());
}
