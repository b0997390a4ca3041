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
//! | `login` / `logout` handlers | [`login_submit`] / [`logout_submit`]; logout is a POST |
//! | (nothing) | CSRF: `portcullis_web`'s `CsrfLayer` checks every POST (hidden `csrf_token` field, `Origin`) |
//!
//!
//! Seed 001 ("Pyramid, Persona & Group-Level Auth") adds an admin side:
//!
//! | seed 001 (Pyramid) | here |
//! |---|---|
//! | `Administrator` table, `initializedb` adds `me@example.com` | group `admin`; [`seed`] creates the user `admin` (password `admin123`) in it |
//! | `groupfinder` → `['g:admin']` for administrators | [`Seed001Groupfinder`]: the store's principals, plus `g:admin` for members of group `admin` |
//! | `Root.__acl__ = [(Allow, 'g:admin', ALL_PERMISSIONS)]` | [`admin_acl`] at `/admin`: members of `g:admin` hold every permission there |
//! | `@view_config(route_name='admin.home', permission='admin')` | `permission_at("/admin", "admin")`: `GET /admin` and `GET /admin/users` |
//! | `@forbidden_view_config()` → `admin_signin.mako` with status 403 | under `/admin`, browsers that are anonymous or not administrators get a 403 page "you need to sign in as an administrator" with a sign-in link ([`admin_denied`]) |
//! | the default Pyramid page: the public side | `GET /public`, public (`NO_PERMISSION_REQUIRED`) |
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
use http::request::Parts;
use http::{HeaderName, HeaderValue, StatusCode};
use portcullis_authz::identity::Identity;
use portcullis_authz::tree::canonical_path;
use portcullis_authz::{ALL_PERMISSIONS, Acl, EVERYONE};
use portcullis_store::{NewUser, Store, StoreError, UserStatus};
use portcullis_web::csrf::{CookieCsrfStorage, CsrfConfig};
use portcullis_web::denial::{self, Denial, safe_redirect};
use portcullis_web::policy::{BoxFuture, PolicyError};
use portcullis_web::secret::MasterSecret;
use portcullis_web::session::SameSite;
use portcullis_web::ticket::{AuthTktCookie, TicketSecret};
use portcullis_web::{
    Authorizer, ClientAddr, CsrfLayer, CsrfToken, Groupfinder, RequestIdentity, TicketPolicy,
};
use serde::Deserialize;

use super::pages;

/// The demo users: name, password, group (seed 000's `load_database`, and seed 001's
/// administrator).
pub(crate) const USERS: [(&str, &str, &str); 3] = [
    ("genericuser", "basic123", "basic"),
    ("superuser", "secret123", "secured"),
    ("admin", "admin123", ADMIN_GROUP),
];

/// The demo groups and their descriptions.
const GROUPS: [(&str, &str); 3] = [
    ("basic", "simpleauth demo: may enter"),
    (
        "secured",
        "simpleauth demo: may enter and read the top secret",
    ),
    (
        ADMIN_GROUP,
        "seed 001 demo: administrators (principal g:admin)",
    ),
];

/// The store group whose members are seed 001's administrators.
pub(crate) const ADMIN_GROUP: &str = "admin";

/// Seed 001's principal for administrators.
pub(crate) const ADMIN_PRINCIPAL: &str = "g:admin";

/// Where seed 001's admin side lives.
pub(crate) const ADMIN_PATH: &str = "/admin";

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

/// Seed 001's ACL at `/admin`: administrators hold every permission.
pub(crate) fn admin_acl() -> Acl {
    Acl::new().allow(ADMIN_PRINCIPAL, ALL_PERMISSIONS)
}

/// Seed 001's groupfinder: the store's principals, plus `g:admin` for members of the
/// store group `admin` (the seed's `Administrator` table). Blocked and deleted users stay
/// anonymous (the store answers `None`).
#[derive(Debug, Clone)]
pub(crate) struct Seed001Groupfinder {
    store: Store,
}

impl Seed001Groupfinder {
    pub(crate) fn new(store: Store) -> Seed001Groupfinder {
        Seed001Groupfinder { store }
    }
}

impl Groupfinder for Seed001Groupfinder {
    fn principals<'a>(
        &'a self,
        userid: &'a str,
    ) -> BoxFuture<'a, Result<Option<Arc<[String]>>, PolicyError>> {
        Box::pin(async move {
            let Some(found) = self.store.principals(userid).await? else {
                return Ok(None);
            };
            let admin = format!("group:{ADMIN_GROUP}");
            if !found.contains(&admin) {
                return Ok(Some(found));
            }
            let mut with: Vec<String> = found.to_vec();
            with.push(ADMIN_PRINCIPAL.to_owned());
            Ok(Some(Arc::from(with)))
        })
    }

    fn identity<'a>(
        &'a self,
        userid: &'a str,
        principals: &'a [String],
    ) -> BoxFuture<'a, Result<Option<Identity>, PolicyError>> {
        self.store.identity(userid, principals)
    }
}

/// True when `path` is seed 001's admin side (after resolving dot segments, as the
/// authorizer does).
fn is_admin_path(path: &str) -> bool {
    let path = canonical_path(path);
    path == ADMIN_PATH || path.starts_with("/admin/")
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
    let authz = Authorizer::builder(
        ticket_policy(master, secure_cookies)?,
        Seed001Groupfinder::new(store.clone()),
    )
    .acl("/", root_acl())
    .permission_at("/", "entry")
    .permission_at("/secret", "topsecret")
    .public("/login")
    .public("/logout")
    .acl(ADMIN_PATH, admin_acl())
    .permission_at(ADMIN_PATH, "admin")
    .public("/public")
    .login_url("/login")
    .forbidden_view(forbidden_view)
    .unauthenticated_view(unauthenticated_view)
    .build()?;
    let state = Arc::new(Demo {
        store,
        authz: authz.clone(),
    });
    Ok(Router::new()
        .route("/", get(home))
        .route("/secret", get(secret))
        .route("/login", get(login_page).post(login_submit))
        .route("/logout", get(logout_page).post(logout_submit))
        .route("/public", get(public_page))
        .route(ADMIN_PATH, get(admin_home))
        .route("/admin/users", get(admin_users))
        .fallback(|| async { pages::not_found() })
        .with_state(state)
        .layer(csrf_layer(master, secure_cookies))
        .layer(authz.layer()))
}

/// CSRF protection for every POST: a token in a cookie MACed with the CSRF key derived from
/// the master secret and bound to the user (so a token from before a login is useless
/// after it), submitted back in the hidden `csrf_token` field; plus the `Origin` check.
/// The cookie is `HttpOnly; SameSite=Strict` (only server-rendered forms use the token).
/// Inside the [`Authorizer`]'s layer, which identifies the user it is bound to.
fn csrf_layer(master: &MasterSecret, secure: bool) -> CsrfLayer {
    let mut storage = CookieCsrfStorage::new(master)
        .http_only(true)
        .same_site(SameSite::Strict);
    if !secure {
        storage = storage.dangerous_insecure_cookies();
    }
    // Off loopback the demo expects a TLS-terminating proxy: origins must then be https.
    CsrfLayer::new(CsrfConfig::default(), storage, secure)
}

/// Seed 001's forbidden view: under `/admin`, a browser that is anonymous or not an
/// administrator gets the sign-in page with status 403.
fn admin_denied(parts: &Parts, denial: &Denial) -> Option<Response> {
    if !(denial::wants_html(parts) && is_admin_path(parts.uri.path())) {
        return None;
    }
    let signed_in = denial.kind == portcullis_web::DenialKind::Forbidden;
    let body = pages::admin_signin(
        signed_in,
        &denial.message,
        &canonical_path(parts.uri.path()),
    );
    Some((StatusCode::FORBIDDEN, Html(body)).into_response())
}

/// The 401 view: the default (303 to `/login` for browsers, 401 JSON for API clients),
/// except seed 001's admin sign-in page under `/admin`.
fn unauthenticated_view(parts: &Parts, denial: &Denial) -> Response {
    admin_denied(parts, denial)
        .unwrap_or_else(|| denial::default_unauthenticated("/login", parts, denial))
}

/// The 403 view: an HTML page that says which permission is missing (JSON for API clients);
/// seed 001's admin sign-in page under `/admin`.
fn forbidden_view(parts: &Parts, denial: &Denial) -> Response {
    if let Some(resp) = admin_denied(parts, denial) {
        return resp;
    }
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

/// A 303 with the security policy's headers (`Set-Cookie`).
fn redirect(to: &str, headers: Vec<(HeaderName, HeaderValue)>) -> Response {
    let mut resp = Redirect::to(to).into_response();
    for (name, value) in headers {
        resp.headers_mut().append(name, value);
    }
    resp
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
async fn home(
    State(state): AppState,
    identity: RequestIdentity,
    CsrfToken(token): CsrfToken,
) -> Answer {
    let name = match username(&state.store, &identity).await? {
        Some(name) => name,
        None => identity.userid().unwrap_or("stranger").to_owned(),
    };
    Ok(Html(pages::home(&name, &token)).into_response())
}

/// `GET /secret` (permission `topsecret`).
async fn secret(CsrfToken(token): CsrfToken) -> Html<String> {
    Html(pages::secret(THE_SECRET, &token))
}

/// `GET /public`: seed 001's public side, for everyone.
async fn public_page(State(state): AppState, identity: RequestIdentity) -> Answer {
    let name = username(&state.store, &identity).await?;
    Ok(Html(pages::public(name.as_deref())).into_response())
}

/// `GET /admin` (permission `admin`: members of `g:admin`): seed 001's admin home.
async fn admin_home(
    State(state): AppState,
    identity: RequestIdentity,
    CsrfToken(token): CsrfToken,
) -> Answer {
    let name = username(&state.store, &identity)
        .await?
        .unwrap_or_else(|| identity.userid().unwrap_or("?").to_owned());
    Ok(Html(pages::admin_home(&name, &token)).into_response())
}

/// `GET /admin/users` (permission `admin`): the users and their groups.
async fn admin_users(State(state): AppState, CsrfToken(token): CsrfToken) -> Answer {
    let users = state
        .store
        .list_users(&portcullis_store::UserQuery::default())
        .await
        .map_err(|e| Failure::Store("cannot list the users", e))?;
    let mut rows = Vec::with_capacity(users.len());
    for u in users {
        let groups = state
            .store
            .groups_of(u.id)
            .await
            .map_err(|e| Failure::Store("cannot read the groups", e))?;
        rows.push(pages::UserRow {
            username: u.username,
            status: u.status.as_str().to_owned(),
            groups: groups.into_iter().map(|g| g.name).collect(),
        });
    }
    Ok(Html(pages::admin_users(&rows, &token)).into_response())
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
    CsrfToken(token): CsrfToken,
    query: Result<Query<LoginQuery>, QueryRejection>,
) -> Answer {
    let Query(query) =
        query.map_err(|e| Failure::BadRequest(format!("Bad query string: {}", e.body_text())))?;
    let current = username(&state.store, &identity).await?;
    let html = pages::login(
        &pages::LoginPage {
            came_from: query.came_from.as_deref().unwrap_or("/"),
            current_user: current.as_deref(),
            ..pages::LoginPage::default()
        },
        &token,
    );
    Ok(Html(html).into_response())
}

/// The login form's fields (`csrf_token` was checked by the CSRF layer; `login_submitted`,
/// the button, is ignored).
#[derive(Debug, Deserialize)]
struct LoginForm {
    login: Option<String>,
    password: Option<String>,
    came_from: Option<String>,
}

fn bad_form(e: &FormRejection) -> Failure {
    Failure::BadRequest(format!("Bad form submission: {}", e.body_text()))
}

/// `POST /login` (CSRF checked by the layer): password check, `remember`, 303 to
/// `came_from` when it is a path on this site, else to `/`.
async fn login_submit(
    State(state): AppState,
    CsrfToken(token): CsrfToken,
    parts: Parts,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Answer {
    let Form(form) = form.map_err(|e| bad_form(&e))?;
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
        let html = pages::login(
            &pages::LoginPage {
                login: &login,
                came_from: &came_from,
                message: Some("Login failed: please check your user name and password."),
                current_user: None,
            },
            &token,
        );
        return Ok(Html(html).into_response());
    };
    let remembered = state
        .authz
        .remember(&parts, &user.id.to_string())
        .await
        .map_err(|e| Failure::Internal("cannot remember the login", e.to_string()))?;
    // The CSRF token is bound to the user: the next page gets a new one.
    let target = safe_redirect(&came_from).unwrap_or("/");
    Ok(redirect(target, remembered))
}

/// `GET /logout`: the logout button (a POST form).
async fn logout_page(
    State(state): AppState,
    identity: RequestIdentity,
    CsrfToken(token): CsrfToken,
) -> Answer {
    let name = username(&state.store, &identity).await?;
    Ok(Html(pages::logout(name.as_deref(), &token)).into_response())
}

/// `POST /logout` (CSRF checked by the layer): `forget`, 303 to the login page.
async fn logout_submit(State(state): AppState, parts: Parts) -> Answer {
    let headers = state
        .authz
        .forget(&parts)
        .await
        .map_err(|e| Failure::Internal("cannot forget the login", e.to_string()))?;
    Ok(redirect("/login", headers))
}
