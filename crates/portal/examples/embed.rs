//! How an application mounts the portal's `/auth/api/` router next to its own routes and
//! uses the portal's sessions to know who is logged in.
//!
//! ```text
//! cargo run -p portcullis-portal --example embed
//! ```
//!
//! It registers and logs in a user through the API (in process, no socket) and then calls
//! an application route with the session cookie.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::routing::get;
use http::{HeaderMap, Request, header};
use portcullis_portal::{PortalConfig, PortalState, RecordingMailer, router};
use portcullis_store::password::PasswordPolicy;
use portcullis_store::{NewUser, Store};
use tower::ServiceExt;

/// An application page: greets the logged-in user.
async fn hello(State(portal): State<PortalState>, headers: HeaderMap) -> String {
    let cookie = headers.get(header::COOKIE).and_then(|v| v.to_str().ok());
    match portal.sessions().identify(cookie).await {
        Ok(Some((user_id, _))) => format!("hello, user {user_id}"),
        _ => "hello, stranger".to_owned(),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let store = Store::open("sqlite::memory:").await?;
    store
        .create_user(
            NewUser::new("ada")
                .email("ada@example.org")
                .password("analytical engine"),
        )
        .await?;
    let config = PortalConfig::from_toml("public_url = \"https://app.example\"")?;
    // In production: the SMTP or folder mailer of `portcullis_portal::mail`.
    let mailer = Arc::new(RecordingMailer::new());
    let portal = PortalState::new(store, mailer, config, PasswordPolicy::new())?;

    let app = Router::new()
        .route("/hello", get(hello))
        .with_state(portal.clone())
        .merge(router(portal));

    let login = Request::post("/auth/api/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            r#"{"username": "ada", "password": "analytical engine"}"#,
        ))?;
    let resp = app.clone().oneshot(login).await?;
    println!("login: {}", resp.status());
    let cookie = resp
        .headers()
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or_default()
        .to_owned();

    let page = Request::get("/hello")
        .header(header::COOKIE, cookie)
        .body(Body::empty())?;
    let resp = app.oneshot(page).await?;
    let body = axum::body::to_bytes(resp.into_body(), 1024).await?;
    println!("{}", String::from_utf8_lossy(&body));
    Ok(())
}
