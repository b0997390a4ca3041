//! Forward auth at `/auth/verify`, for nginx `auth_request`, Traefik `ForwardAuth` and
//! Caddy `forward_auth`.
//!
//! The reverse proxy asks, for every request it is about to pass to an application,
//! "may this request through?", by sending a request to `/auth/verify` with the original
//! request's cookies and `Authorization` header and `X-Forwarded-*` headers that say what
//! the original request was. Portcullis identifies the user (the portal's session cookie,
//! or an `Authorization: Bearer` API token), turns them into principals with the store's
//! groupfinder (blocked, pending and deleted users are anonymous), and decides with the
//! policy file's resource tree: the permission declared at or above the path (`permission
//! =`, [`DEFAULT_PERMISSION`] where none is) against the ACLs, and the `require =`
//! predicate. See `docs/forward-auth.md` for proxy configurations.
//!
//! # The contract
//!
//! Request (any method; nginx, Traefik and Caddy send GET):
//!
//! | header | meaning |
//! |---|---|
//! | `X-Forwarded-Uri` (or nginx's `X-Original-URI`) | **required**: the original path and query (`/admin/users?page=2`) |
//! | `X-Forwarded-Method` (or `X-Original-Method`) | the original method; `GET` when absent |
//! | `X-Forwarded-Host` | the original host (`app.example.com`); for the login link |
//! | `X-Forwarded-Proto` | `http` or `https`; `public_url`'s scheme when absent |
//! | `Cookie` | the portal's session cookie, if the browser has one |
//! | `Authorization: Bearer TOKEN` | an API token (`portcullis token create`) |
//! | `Accept` | `text/html` (or none) marks a browser, for `?redirect=1` and the 403 page |
//!
//! Each header may appear once; when both names of the URI (or of the method) are
//! present they must agree, else 400 (a proxy that sets one of them passes a client's copy
//! of the other on).
//!
//! The `X-Forwarded-*` headers are read **only when the TCP peer is one of
//! `trusted_proxies`**; any request to `/auth/verify` from another peer is answered 400,
//! so a client that reaches the endpoint directly cannot ask about a path of its choice.
//! The peer is `ConnectInfo<SocketAddr>` (serve with `into_make_service_with_connect_info`)
//! or [`portcullis_web::ClientAddr`]; without either, nobody is trusted.
//! Query: `redirect=1` (or `true`) asks for a 302 instead of a 401 for browsers; any
//! other parameter is a 400.
//!
//! Answers (all with `Cache-Control: no-store`):
//!
//! | status | when | headers | body |
//! |---|---|---|---|
//! | 200 | allowed | `X-Auth-User` (username), `X-Auth-User-Id`, `X-Auth-Email`, `X-Auth-Groups` (group names, comma-separated); always all four, empty when unknown (an anonymous request to a public path, a user without e-mail or groups) | `allowed` |
//! | 401 | anonymous (or a predicate that logging in may satisfy) | `X-Auth-Login` and `Location`: `{public_url}/auth/login?came_from=<original URL>`; `WWW-Authenticate: Bearer realm="portcullis"` | the denial's message and the login URL |
//! | 302 | as 401, with `?redirect=1`, original method GET or HEAD and a browser `Accept` | `Location`, `X-Auth-Login` | the login URL |
//! | 403 | authenticated, not allowed | `X-Auth-Login` (to switch users) | the denial's message (an HTML page for browsers) |
//! | 400 | the peer is not a trusted proxy, or a forwarded header is missing or malformed | | what is wrong |
//! | 503 | the identity or session store failed | | (details are logged) |
//!
//! Header values are UTF-8 with `%`, `,` and every byte outside visible ASCII and space
//! percent-encoded (`José` → `Jos%C3%A9`); plain ASCII names pass unchanged.
//!
//! `came_from` is the original absolute URL (`{proto}://{host}{uri}`) when its origin is
//! `public_url`'s or one of `trusted_origins` (the login page returns only to those), else
//! the original path and query alone (the login page then returns to that path on
//! `public_url`'s host).
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use portcullis_portal::forward_auth::ForwardAuth;
//! use portcullis_portal::{PortalConfig, PortalState, RecordingMailer, router};
//! use portcullis_store::{Store, password::PasswordPolicy};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let store = Store::open("sqlite::memory:").await?;
//! let config = PortalConfig::from_toml(
//!     "public_url = \"https://app.example\"\ntrusted_proxies = [\"127.0.0.1\"]",
//! )?;
//! let state = PortalState::new(store, Arc::new(RecordingMailer::new()), config, PasswordPolicy::new())?;
//! let policy = r#"
//! [[resource]]
//! path = "/"
//! acl = [["Allow", "system.Authenticated", "view"]]
//!
//! [[resource]]
//! path = "/public"
//! permission = "NO_PERMISSION_REQUIRED"
//! "#;
//! let verify = ForwardAuth::builder(state.clone()).policy_toml(policy).build()?;
//! let app: axum::Router = router(state).merge(verify.router());
//! # let _ = app;
//! # Ok(())
//! # }
//! ```
//!
//! # Design decisions
//!
//! * **Trusted proxies only, or nothing.** The answer depends on headers the client could
//!   forge; only a configured proxy (which overwrites them) is believed, and everyone else
//!   gets 400 rather than a decision about a path they chose. The proxy must set the
//!   headers itself (nginx: `proxy_set_header`), never pass a client's copy.
//! * **The path is decoded before the lookup.** `/%61dmin` is `/admin` to the backend, so
//!   it is `/admin` here too; `.` and `..` segments (also encoded ones) are resolved by the
//!   tree. Matrix parameters (`/admin;x`) are not interpreted: keep them away from
//!   backends that strip them (Tomcat, Jetty), or refuse them in the proxy.
//! * **The method is validated, logged and reported, not decided on**: the policy file
//!   declares permissions per path. Give write paths their own resources.
//! * **Every denial explains itself**: the body is the `Decision`'s (or the predicate's)
//!   message, and with debug authorization (`PORTCULLIS_DEBUG_AUTHORIZATION=1` or
//!   [`ForwardAuthBuilder::debug_authorization`]) every decision is logged at INFO under
//!   `portcullis::forward_auth` (DEBUG otherwise), beside the authorizer's own log lines
//!   under `portcullis::authz`.
//! * **Fail closed**: a store failure is 503 (nginx turns it into 500), a user who
//!   vanished between the check and the header lookup is 401.

mod answer;
mod error;
mod forwarded;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::response::Response;
use axum::routing::any;
use http::request::Parts;
use portcullis_authz::ResourceTree;
use portcullis_authz::policy_file::PolicyFileError;
use portcullis_authz::predicate::Predicate;
use portcullis_web::denial::wants_html;
use portcullis_web::policy::{BearerPolicy, PolicyChain};
use portcullis_web::session::SessionPolicy;
use portcullis_web::{Authorizer, DenialKind, RequestIdentity};

pub use answer::{X_AUTH_EMAIL, X_AUTH_GROUPS, X_AUTH_LOGIN, X_AUTH_USER, X_AUTH_USER_ID};
pub use error::ForwardAuthError;

use crate::state::PortalState;
use forwarded::{BadForwarded, Forwarded};

/// The path of the endpoint.
pub const VERIFY_PATH: &str = "/auth/verify";

/// The permission required where the policy declares none.
pub const DEFAULT_PERMISSION: &str = "view";

/// The policy used without a policy file: every forwarded request needs an authenticated
/// (active) user; nothing more.
pub const DEFAULT_POLICY: &str = r#"# portcullis forward auth: the built-in policy
[[resource]]
path = "/"
acl = [["Allow", "system.Authenticated", "view"]]
"#;

/// Forward auth: the policy, the authorizer and the portal state. Cheap to clone.
#[derive(Clone)]
pub struct ForwardAuth {
    inner: Arc<Inner>,
}

struct Inner {
    state: PortalState,
    authz: Authorizer,
    debug: bool,
}

impl std::fmt::Debug for ForwardAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ForwardAuth")
            .field("authorizer", &self.inner.authz)
            .field("debug", &self.inner.debug)
            .finish_non_exhaustive()
    }
}

enum PolicySource {
    Builtin,
    Text(String, Option<String>),
    File(PathBuf),
}

/// Builds a [`ForwardAuth`].
pub struct ForwardAuthBuilder {
    state: PortalState,
    policy: PolicySource,
    default_permission: String,
    debug: bool,
}

impl std::fmt::Debug for ForwardAuthBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ForwardAuthBuilder")
            .field("default_permission", &self.default_permission)
            .field("debug", &self.debug)
            .finish_non_exhaustive()
    }
}

impl ForwardAuthBuilder {
    /// The policy file's text (see `portcullis_authz::policy_file`); without one,
    /// [`DEFAULT_POLICY`].
    #[must_use]
    pub fn policy_toml(mut self, text: impl Into<String>) -> ForwardAuthBuilder {
        self.policy = PolicySource::Text(text.into(), None);
        self
    }

    /// Like [`ForwardAuthBuilder::policy_toml`], naming the text's file in errors.
    #[must_use]
    pub fn policy_named(
        mut self,
        text: impl Into<String>,
        file: impl Into<String>,
    ) -> ForwardAuthBuilder {
        self.policy = PolicySource::Text(text.into(), Some(file.into()));
        self
    }

    /// Reads the policy from `path` when building.
    #[must_use]
    pub fn policy_file(mut self, path: impl AsRef<Path>) -> ForwardAuthBuilder {
        self.policy = PolicySource::File(path.as_ref().to_path_buf());
        self
    }

    /// The permission required where the policy declares none ([`DEFAULT_PERMISSION`]).
    #[must_use]
    pub fn default_permission(mut self, permission: impl Into<String>) -> ForwardAuthBuilder {
        self.default_permission = permission.into();
        self
    }

    /// Logs every decision at INFO (also on with `PORTCULLIS_DEBUG_AUTHORIZATION=1`).
    #[must_use]
    pub fn debug_authorization(mut self, on: bool) -> ForwardAuthBuilder {
        self.debug = on;
        self
    }

    /// Reads and checks the policy (errors name the file, line and column) and builds.
    pub fn build(self) -> Result<ForwardAuth, ForwardAuthError> {
        let (text, file) = match self.policy {
            PolicySource::Builtin => (DEFAULT_POLICY.to_owned(), None),
            PolicySource::Text(text, file) => (text, file),
            PolicySource::File(path) => {
                let shown = path.display().to_string();
                let text =
                    std::fs::read_to_string(&path).map_err(|e| ForwardAuthError::PolicyRead {
                        path: shown.clone(),
                        reason: e.to_string(),
                    })?;
                (text, Some(shown))
            }
        };
        validate_policy(&text, file.as_deref())?;
        let store = self.state.store().clone();
        let chain = PolicyChain::new()
            .with(SessionPolicy::new(self.state.sessions().clone()))
            .with(BearerPolicy::new(store.clone()));
        let authz = Authorizer::builder(chain, store)
            .policy_toml(text)
            .default_permission(self.default_permission)
            .login_url(format!("{}/auth/login", self.state.config().base_url()))
            .debug_authorization(self.debug)
            .build()
            .map_err(|e| ForwardAuthError::Authorizer(e.to_string()))?;
        let debug = self.debug
            || std::env::var(portcullis_web::authorizer::DEBUG_AUTHORIZATION_ENV).is_ok_and(|v| {
                matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on")
            });
        Ok(ForwardAuth {
            inner: Arc::new(Inner {
                state: self.state,
                authz,
                debug,
            }),
        })
    }
}

/// Checks a policy file's text as [`ForwardAuthBuilder::build`] does, without a store:
/// errors carry `file` (when given), the line and the column.
pub fn validate_policy(text: &str, file: Option<&str>) -> Result<(), ForwardAuthError> {
    check_policy(text).map_err(|e| match file {
        Some(f) => ForwardAuthError::Policy(e.in_file(f)),
        None => ForwardAuthError::Policy(e),
    })
}

/// Checks a policy's text: the tree (line and column from TOML), then every `require`
/// expression (its position in the file, where it can be found).
fn check_policy(text: &str) -> Result<(), PolicyFileError> {
    ResourceTree::from_toml_str(text)?;
    for (path, spec) in portcullis_authz::policy_file::parse(text)? {
        let Some(expr) = spec.require else { continue };
        if let Err(e) = expr.parse::<Predicate>() {
            let (line, column) = locate_expression(text, &expr, &e);
            return Err(PolicyFileError {
                file: None,
                line,
                column,
                message: format!("`require` of `{path}`: {e}"),
            });
        }
    }
    Ok(())
}

/// The line and column of a predicate's parse error in the policy file: the first
/// `require` line holding the expression, plus the error's position in it.
fn locate_expression(
    text: &str,
    expr: &str,
    e: &portcullis_authz::predicate::ParseError,
) -> (Option<usize>, Option<usize>) {
    for (i, line) in text.lines().enumerate() {
        if !line.trim_start().starts_with("require") {
            continue;
        }
        if let Some(at) = line.find(expr) {
            let column = (e.line() == 1).then(|| line[..at].chars().count() + e.column());
            return (Some(i + 1), column);
        }
    }
    (None, None)
}

/// Logs at INFO with debug authorization on, else at DEBUG.
macro_rules! decision_log {
    ($debug:expr, $($arg:tt)+) => {
        if $debug {
            tracing::info!(target: "portcullis::forward_auth", $($arg)+);
        } else {
            tracing::debug!(target: "portcullis::forward_auth", $($arg)+);
        }
    };
}

/// What `?redirect=` asks for.
fn wants_redirect(parts: &Parts) -> Result<bool, String> {
    let Some(query) = parts.uri.query() else {
        return Ok(false);
    };
    let mut redirect = false;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match (key, value) {
            ("redirect", "1" | "true") => redirect = true,
            ("redirect", "0" | "false") => redirect = false,
            ("redirect", other) => {
                return Err(format!(
                    "`redirect` must be 1, true, 0 or false, not `{}`",
                    other.chars().take(32).collect::<String>().escape_debug()
                ));
            }
            (other, _) => {
                return Err(format!(
                    "unknown query parameter `{}` (only `redirect` is known)",
                    other.chars().take(32).collect::<String>().escape_debug()
                ));
            }
        }
    }
    Ok(redirect)
}

impl ForwardAuth {
    /// Starts building over the portal's state (store, sessions, configuration: the
    /// `trusted_proxies`, `public_url` and `trusted_origins` are read from it).
    pub fn builder(state: PortalState) -> ForwardAuthBuilder {
        ForwardAuthBuilder {
            state,
            policy: PolicySource::Builtin,
            default_permission: DEFAULT_PERMISSION.to_owned(),
            debug: false,
        }
    }

    /// The authorizer (resource tree, requirements) that decides.
    pub fn authorizer(&self) -> &Authorizer {
        &self.inner.authz
    }

    /// The router with [`VERIFY_PATH`] (any method); merge it beside the portal's.
    pub fn router(&self) -> Router {
        Router::new()
            .route(VERIFY_PATH, any(verify))
            .with_state(self.clone())
    }

    /// The login URL for a forwarded request: `came_from` absolute when its origin is
    /// trusted, else the path and query alone.
    fn login_url(&self, fwd: &Forwarded) -> String {
        let config = self.inner.state.config();
        let public = config.public_origin();
        let scheme = fwd.proto.unwrap_or(if public.starts_with("https://") {
            "https"
        } else {
            "http"
        });
        let target = match &fwd.host {
            Some(host) => {
                let origin = format!("{scheme}://{host}");
                if config.origin_trusted(&origin) {
                    format!("{origin}{}", fwd.uri)
                } else {
                    fwd.uri.clone()
                }
            }
            None => fwd.uri.clone(),
        };
        // What the login page would refuse (`//x`, ...) becomes `/`, so the link works.
        let target = config
            .safe_came_from(&target)
            .unwrap_or_else(|| "/".to_owned());
        answer::login_url(config.base_url(), &target)
    }

    /// Answers one `/auth/verify` request (the handler of [`ForwardAuth::router`]).
    pub async fn answer(&self, parts: &Parts) -> Response {
        let debug = self.inner.debug;
        let config = self.inner.state.config();
        let peer = crate::proxy::peer_addr(parts);
        if !config.trusted_proxies.contains(&peer) {
            decision_log!(debug, peer = %peer, status = 400, "forward auth asked by a peer that is not a trusted proxy");
            return answer::bad_request(&format!(
                "forward auth answers trusted proxies only: `{peer}` is not in `trusted_proxies`"
            ));
        }
        let redirect = match wants_redirect(parts) {
            Ok(r) => r,
            Err(message) => {
                decision_log!(debug, peer = %peer, status = 400, "{message}");
                return answer::bad_request(&message);
            }
        };
        let fwd = match Forwarded::read(parts) {
            Ok(f) => f,
            Err(BadForwarded(message)) => {
                decision_log!(debug, peer = %peer, status = 400, "{message}");
                return answer::bad_request(&message);
            }
        };
        let client = crate::proxy::client_addr(&config.trusted_proxies, parts);
        let identity = match self.inner.authz.identify(parts).await {
            Ok((identity, _)) => identity,
            Err(e) => {
                tracing::error!(target: "portcullis::forward_auth", error = %e, "cannot identify a forwarded request");
                return answer::unavailable();
            }
        };
        let login = self.login_url(&fwd);
        let user = identity.userid().unwrap_or("<anonymous>").to_owned();
        match self
            .inner
            .authz
            .check_path_requirements(&identity, &fwd.path)
            .await
        {
            Ok(()) => match self.allowed(&identity).await {
                Ok(Some(allowed)) => {
                    decision_log!(debug, client = %client, method = %fwd.method, host = fwd.host.as_deref().unwrap_or(""), path = %fwd.path, user = %allowed.username, status = 200, "allowed");
                    answer::allow(Some(&allowed))
                }
                Ok(None) if !identity.is_authenticated() => {
                    decision_log!(debug, client = %client, method = %fwd.method, host = fwd.host.as_deref().unwrap_or(""), path = %fwd.path, user = %user, status = 200, "allowed (public)");
                    answer::allow(None)
                }
                Ok(None) => {
                    let message = "Log in: the user no longer exists";
                    decision_log!(debug, client = %client, path = %fwd.path, user = %user, status = 401, "{message}");
                    answer::unauthenticated(message, &login, None)
                }
                Err(()) => answer::unavailable(),
            },
            Err(denial) => {
                let browser =
                    wants_html(parts) || !parts.headers.contains_key(http::header::ACCEPT);
                match denial.kind {
                    DenialKind::Unauthenticated => {
                        let safe_method = fwd.method == "GET" || fwd.method == "HEAD";
                        if redirect && safe_method && browser {
                            decision_log!(debug, client = %client, method = %fwd.method, host = fwd.host.as_deref().unwrap_or(""), path = %fwd.path, user = %user, status = 302, "{}", denial.message);
                            answer::redirect_to_login(&login)
                        } else {
                            decision_log!(debug, client = %client, method = %fwd.method, host = fwd.host.as_deref().unwrap_or(""), path = %fwd.path, user = %user, status = 401, "{}", denial.message);
                            answer::unauthenticated(
                                &denial.message,
                                &login,
                                denial.challenge.clone(),
                            )
                        }
                    }
                    DenialKind::Forbidden => {
                        decision_log!(debug, client = %client, method = %fwd.method, host = fwd.host.as_deref().unwrap_or(""), path = %fwd.path, user = %user, status = 403, "{}", denial.message);
                        answer::forbidden(&denial.message, &login, wants_html(parts))
                    }
                }
            }
        }
    }

    /// The headers' facts about an authenticated identity; `Ok(None)` for anonymous or a
    /// user who vanished, `Err` when the store failed (logged).
    async fn allowed(&self, identity: &RequestIdentity) -> Result<Option<answer::Allowed>, ()> {
        let Some(id) = identity.userid().and_then(|u| u.parse::<i64>().ok()) else {
            return Ok(None);
        };
        let user = match self.inner.state.store().get_user(id).await {
            Ok(u) => u,
            Err(e) => {
                tracing::error!(target: "portcullis::forward_auth", error = %e, "cannot read a user");
                return Err(());
            }
        };
        Ok(user.map(|u| answer::Allowed {
            user_id: u.id,
            username: u.username,
            email: u.email,
            groups: identity
                .principals_iter()
                .filter_map(|p| p.strip_prefix("group:"))
                .map(str::to_owned)
                .collect(),
        }))
    }
}

async fn verify(State(fa): State<ForwardAuth>, req: Request) -> Response {
    let (parts, _body) = req.into_parts();
    fa.answer(&parts).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_policy_is_valid() {
        check_policy(DEFAULT_POLICY).unwrap();
    }

    #[test]
    fn predicate_errors_point_into_the_file() {
        let text = "[[resource]]\npath = \"/a\"\nrequire = 'in_group(\"x\"'\n";
        let e = check_policy(text).unwrap_err().in_file("p.toml");
        assert_eq!(e.line, Some(3), "{e}");
        assert!(e.to_string().starts_with("p.toml:3:"), "{e}");
        let e = check_policy("[[resource]]\npath = \"/a\"\nalc = []\n").unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
    }

    #[test]
    fn redirect_parameter() {
        let p = |q: &str| {
            http::Request::builder()
                .uri(format!("/auth/verify{q}"))
                .body(())
                .unwrap()
                .into_parts()
                .0
        };
        assert_eq!(wants_redirect(&p("")), Ok(false));
        assert_eq!(wants_redirect(&p("?redirect=1")), Ok(true));
        assert_eq!(wants_redirect(&p("?redirect=false")), Ok(false));
        assert!(wants_redirect(&p("?redirect=yes")).is_err());
        assert!(wants_redirect(&p("?rd=https://x")).is_err());
    }
}
