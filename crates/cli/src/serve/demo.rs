//! The seed 000 application ("simpleauth", Pyramid auth with Akhet and SQLAlchemy), on
//! Portcullis.
//!
//! | seed (Pyramid) | here |
//! |---|---|
//! | `Users`, `Groups`, `user_group` tables, `load_database` | the identity store; [`seed`] creates the two users and groups once |
//! | `groupfinder(userid, request)` → `['basic']` | the store's groupfinder → `["<id>", "group:basic"]` |
//! | `RootFactory.__acl__` | [`root_acl`], attached to `/` |
//! | `AuthTktAuthenticationPolicy('secretstring', callback=groupfinder)` | `TicketPolicy` (Pyramid-compatible `auth_tkt`), key derived from the master secret, 1 h timeout |
//! | `@action(permission='entry')`, `permission='topsecret'` | `permission_at("/", "entry")`, `permission_at("/secret", "topsecret")` |
//! | forbidden view = login page | anonymous → 303 to `/login?came_from=...`; authenticated without permission → a 403 page naming the missing permission (the seed's open exercise) |
//! | `login` / `logout` handlers | [`login_submit`] / [`logout_submit`], with CSRF tokens; logout is a POST |
//!
//! The seed's ACL names bare groups (`basic`, `secured`) because its groupfinder returns
//! bare group names; the store's groupfinder prefixes them (`group:basic`), so that a group
//! can never be mistaken for a user id or a system principal, and the ACL says
//! `group:basic` and `group:secured` accordingly.

use std::sync::Arc;

use axum::Router;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use http::header::SET_COOKIE;
use http::request::Parts;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use portcullis_authz::{Acl, EVERYONE};
use portcullis_store::{NewUser, Store, StoreError, UserStatus};
use portcullis_web::denial::{self, Denial, safe_redirect};
use portcullis_web::secret::MasterSecret;
use portcullis_web::ticket::{AuthTktCookie, TicketSecret};
use portcullis_web::{Authorizer, ClientAddr, RequestIdentity, TicketPolicy};
use serde::Deserialize;

use super::csrf::{Csrf, PageToken};
use super::pages;

/// The demo users: name, password, group (the seed's `load_database`).
pub(crate) const USERS: [(&str, &str, &str); 2] = [
    ("genericuser", "basic123", "basic"),
    ("superuser", "secret123", "secured"),
];

/// The demo groups and their descriptions.
const GROUPS: [(&str, &str); 2] = [
    ("basic", "simpleauth demo: may enter"),
    (
        "secured",
        "simpleauth demo: may enter and read the top secret",
    ),
];

/// What `/secret` reveals.
const THE_SECRET: &str = "42";

/// How long a ticket is accepted after it was issued (seconds).
pub(crate) const TICKET_TIMEOUT: u64 = 3600;

/// After this many seconds a request reissues the ticket (sliding expiry).
const TICKET_REISSUE: u64 = 360;

/// The seed's `RootFactory.__acl__`, with the store's `group:` principals.
pub(crate) fn root_acl() -> Acl {
    Acl::new()
        .allow(EVERYONE, "everybody")
        .allow("group:basic", "entry")
        .allow("group:secured", ["entry", "topsecret"])
}

/// What [`seed`] did, for the start-up report.
#[derive(Debug, Default)]
pub(crate) struct Seeded {
    /// Users created now.
    pub(crate) created: Vec<&'static str>,
    /// Users that existed already (left as they are).
    pub(crate) kept: Vec<&'static str>,
}

/// Creates the demo groups and users unless they exist. Idempotent; existing records are
/// left alone (an operator's later changes, such as blocking `genericuser`, survive
/// restarts). Memberships are added only to users created now.
///
/// The passwords are the seed's (`basic123`, `secret123`), which the store's password
/// policy would refuse as too common: these fixtures are hashed with the store's hasher
/// and stored as existing hashes, bypassing the policy on purpose.
pub(crate) async fn seed(store: &Store) -> Result<Seeded, StoreError> {
    for (name, description) in GROUPS {
        if store.get_group(name).await?.is_none() {
            match store.create_group(name, description).await {
                Ok(_) | Err(StoreError::Conflict { .. }) => {}
                Err(e) => return Err(e),
            }
        }
    }
    let mut seeded = Seeded::default();
    for (username, password, group) in USERS {
        if store.get_user_by_username(username).await?.is_some() {
            seeded.kept.push(username);
            continue;
        }
        let hash = store.hasher().hash(password).await?.into_string();
        let user = match store
            .create_user(NewUser::new(username).password_hash(hash))
            .await
        {
            Ok(user) => user,
            // Another process seeded the same database meanwhile.
            Err(StoreError::Conflict { .. }) => {
                seeded.kept.push(username);
                continue;
            }
            Err(e) => return Err(e),
        };
        store.add_member(user.id, group).await?;
        seeded.created.push(username);
    }
    Ok(seeded)
}

/// Shared by the handlers.
#[derive(Debug)]
struct Demo {
    store: Store,
    authz: Authorizer,
    csrf: Csrf,
}

type AppState = State<Arc<Demo>>;

/// The demo's ticket cookie policy: Pyramid-compatible `auth_tkt` signed with the ticket
/// key derived from `master`, expiring [`TICKET_TIMEOUT`] seconds after issue (reissued
/// after [`TICKET_REISSUE`]). `secure` sets the cookie's `Secure` attribute.
pub(crate) fn ticket_policy(master: &MasterSecret, secure: bool) -> anyhow::Result<TicketPolicy> {
    let helper = AuthTktCookie::builder(TicketSecret::derived(master))
        .secure(secure)
        .timeout(Some(TICKET_TIMEOUT))
        .reissue_time(Some(TICKET_REISSUE))
        .build()?;
    Ok(TicketPolicy::new(helper))
}

/// The demo application: routes, authorization layer and state.
///
/// `secure_cookies` is false only for a loopback bind over plain HTTP (the caller warns).
pub(crate) fn app(
    store: Store,
    master: &MasterSecret,
    secure_cookies: bool,
) -> anyhow::Result<Router> {
    let authz = Authorizer::builder(ticket_policy(master, secure_cookies)?, store.clone())
        .acl("/", root_acl())
        .permission_at("/", "entry")
        .permission_at("/secret", "topsecret")
        .public("/login")
        .public("/logout")
        .login_url("/login")
        .forbidden_view(forbidden_view)
        .build()?;
    let state = Arc::new(Demo {
        store,
        authz: authz.clone(),
        csrf: Csrf::new(master, secure_cookies),
    });
    Ok(Router::new()
        .route("/", get(home))
        .route("/secret", get(secret))
        .route("/login", get(login_page).post(login_submit))
        .route("/logout", get(logout_page).post(logout_submit))
        .fallback(|| async { pages::not_found() })
        .with_state(state)
        .layer(authz.layer()))
}

/// The 403 view: an HTML page that says which permission is missing (JSON for API clients).
fn forbidden_view(parts: &Parts, denial: &Denial) -> Response {
    if !denial::wants_html(parts) {
        return denial::default_forbidden(parts, denial);
    }
    let body = pages::forbidden(
        &denial.message,
        denial.permission.as_deref(),
        parts.uri.path(),
    );
    (StatusCode::FORBIDDEN, Html(body)).into_response()
}

/// Why a handler could not answer normally; each becomes an error page.
#[derive(Debug)]
enum Failure {
    /// Bad input from the client: 400 with the message.
    BadRequest(String),
    /// The store failed: 503 (details logged, not shown).
    Store(&'static str, StoreError),
    /// Anything else on our side: 500 (details logged, not shown).
    Internal(&'static str, String),
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        match self {
            Failure::BadRequest(message) => pages::error(StatusCode::BAD_REQUEST, &message),
            Failure::Store(what, error) => {
                tracing::error!(target: "portcullis::serve", error = %error, "{what}");
                pages::error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "The identity store is unavailable; try again in a moment.",
                )
            }
            Failure::Internal(what, error) => {
                tracing::error!(target: "portcullis::serve", error = %error, "{what}");
                pages::error(StatusCode::INTERNAL_SERVER_ERROR, "Internal error.")
            }
        }
    }
}

type Answer = Result<Response, Failure>;

/// A page with optional `Set-Cookie` headers.
fn page(status: StatusCode, html: String, cookies: impl IntoIterator<Item = String>) -> Response {
    let mut resp = (status, Html(html)).into_response();
    append_cookies(&mut resp, cookies);
    resp
}

fn append_cookies(resp: &mut Response, cookies: impl IntoIterator<Item = String>) {
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(&c) {
            resp.headers_mut().append(SET_COOKIE, v);
        }
    }
}

/// A 303 with the security policy's headers and optional extra cookies.
fn redirect(
    to: &str,
    headers: Vec<(HeaderName, HeaderValue)>,
    cookies: impl IntoIterator<Item = String>,
) -> Response {
    let mut resp = Redirect::to(to).into_response();
    for (name, value) in headers {
        resp.headers_mut().append(name, value);
    }
    append_cookies(&mut resp, cookies);
    resp
}

fn csrf_token(state: &Demo, headers: &HeaderMap) -> Result<PageToken, Failure> {
    state
        .csrf
        .for_page(headers)
        .map_err(|e| Failure::Internal("cannot issue a CSRF token", format!("{e:#}")))
}

/// The username of an authenticated identity (`None`: anonymous, or the user vanished).
async fn username(store: &Store, identity: &RequestIdentity) -> Result<Option<String>, Failure> {
    let Some(id) = identity.userid().and_then(|u| u.parse::<i64>().ok()) else {
        return Ok(None);
    };
    let user = store
        .get_user(id)
        .await
        .map_err(|e| Failure::Store("cannot read the user", e))?;
    Ok(user.map(|u| u.username))
}

/// `GET /` (permission `entry`): greets the user by name.
async fn home(State(state): AppState, identity: RequestIdentity, headers: HeaderMap) -> Answer {
    let name = match username(&state.store, &identity).await? {
        Some(name) => name,
        None => identity.userid().unwrap_or("stranger").to_owned(),
    };
    let token = csrf_token(&state, &headers)?;
    Ok(page(
        StatusCode::OK,
        pages::home(&name, &token.token),
        token.set_cookie,
    ))
}

/// `GET /secret` (permission `topsecret`).
async fn secret(State(state): AppState, headers: HeaderMap) -> Answer {
    let token = csrf_token(&state, &headers)?;
    Ok(page(
        StatusCode::OK,
        pages::secret(THE_SECRET, &token.token),
        token.set_cookie,
    ))
}

/// `GET /login?came_from=...`.
#[derive(Debug, Deserialize)]
struct LoginQuery {
    came_from: Option<String>,
}

/// `GET /login`: the form.
async fn login_page(
    State(state): AppState,
    identity: RequestIdentity,
    headers: HeaderMap,
    query: Result<Query<LoginQuery>, QueryRejection>,
) -> Answer {
    let Query(query) =
        query.map_err(|e| Failure::BadRequest(format!("Bad query string: {}", e.body_text())))?;
    let current = username(&state.store, &identity).await?;
    let token = csrf_token(&state, &headers)?;
    let html = pages::login(
        &pages::LoginPage {
            came_from: query.came_from.as_deref().unwrap_or("/"),
            current_user: current.as_deref(),
            ..pages::LoginPage::default()
        },
        &token.token,
    );
    Ok(page(StatusCode::OK, html, token.set_cookie))
}

/// The login form's fields (`login_submitted`, the button, is ignored).
#[derive(Debug, Deserialize)]
struct LoginForm {
    login: Option<String>,
    password: Option<String>,
    csrf_token: Option<String>,
    came_from: Option<String>,
}

fn bad_form(e: &FormRejection) -> Failure {
    Failure::BadRequest(format!("Bad form submission: {}", e.body_text()))
}

/// `POST /login`: CSRF check, password check, `remember`, 303 to `came_from` (if safe).
async fn login_submit(
    State(state): AppState,
    parts: Parts,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Answer {
    let Form(form) = form.map_err(|e| bad_form(&e))?;
    state
        .csrf
        .check(&parts.headers, form.csrf_token.as_deref())
        .map_err(|e| Failure::BadRequest(format!("Login refused: {e}.")))?;
    let (Some(login), Some(password)) = (form.login, form.password) else {
        return Err(Failure::BadRequest(
            "Bad form submission: the fields `login` and `password` are required.".to_owned(),
        ));
    };
    let came_from = form.came_from.unwrap_or_default();
    // Login events in the audit log carry the client's address.
    let client = parts
        .extensions
        .get::<ClientAddr>()
        .map(|a| a.0.to_string());
    let store = state.store.acting_as("serve", client.as_deref());
    let verified = match store.verify_password(&login, &password).await {
        Ok(found) => found.filter(|u| u.status == UserStatus::Active),
        // A password over the length limit is a failed login, not an outage.
        Err(StoreError::Password(_)) => None,
        Err(e) => return Err(Failure::Store("cannot verify a password", e)),
    };
    let Some(user) = verified else {
        // One message for every failure: no hint whether the login exists.
        let token = csrf_token(&state, &parts.headers)?;
        let html = pages::login(
            &pages::LoginPage {
                login: &login,
                came_from: &came_from,
                message: Some("Login failed: please check your user name and password."),
                current_user: None,
            },
            &token.token,
        );
        return Ok(page(StatusCode::OK, html, token.set_cookie));
    };
    let remembered = state
        .authz
        .remember(&parts, &user.id.to_string())
        .await
        .map_err(|e| Failure::Internal("cannot remember the login", e.to_string()))?;
    // A new CSRF token after the login: one seen before it is useless after it.
    let fresh = state
        .csrf
        .fresh()
        .map_err(|e| Failure::Internal("cannot issue a CSRF token", format!("{e:#}")))?;
    let target = safe_redirect(&came_from).unwrap_or("/");
    Ok(redirect(target, remembered, fresh.set_cookie))
}

/// `GET /logout`: the logout button (a POST form).
async fn logout_page(
    State(state): AppState,
    identity: RequestIdentity,
    headers: HeaderMap,
) -> Answer {
    let name = username(&state.store, &identity).await?;
    let token = csrf_token(&state, &headers)?;
    Ok(page(
        StatusCode::OK,
        pages::logout(name.as_deref(), &token.token),
        token.set_cookie,
    ))
}

/// The logout form's field.
#[derive(Debug, Deserialize)]
struct LogoutForm {
    csrf_token: Option<String>,
}

/// `POST /logout`: CSRF check, `forget`, 303 to the login page.
async fn logout_submit(
    State(state): AppState,
    parts: Parts,
    form: Result<Form<LogoutForm>, FormRejection>,
) -> Answer {
    let Form(form) = form.map_err(|e| bad_form(&e))?;
    state
        .csrf
        .check(&parts.headers, form.csrf_token.as_deref())
        .map_err(|e| Failure::BadRequest(format!("Logout refused: {e}.")))?;
    let headers = state
        .authz
        .forget(&parts)
        .await
        .map_err(|e| Failure::Internal("cannot forget the login", e.to_string()))?;
    Ok(redirect("/login", headers, None))
}
