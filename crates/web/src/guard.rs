//! Route- and router-level guards: `permission("topsecret")`, `require(predicate)`,
//! `allow_only(predicate)`.
//!
//! Guards run after the [`crate::AuthLayer`] (which must wrap them) and *add* checks to what
//! the path requires:
//!
//! ```no_run
//! # use axum::{Router, routing::get};
//! # use portcullis_authz::predicate::{in_group, has_permission};
//! # fn f(authz: portcullis_web::Authorizer) -> Router {
//! let admin = Router::new()
//!     .route("/users", get(|| async { "users" }))
//!     .route("/purge", get(|| async { "purged" }).route_layer(authz.require(has_permission("purge"))))
//!     .route_layer(authz.allow_only(in_group("admins")));        // every route of this router
//! Router::new()
//!     .route("/secret", get(|| async { "42" }).route_layer(authz.permission("topsecret")))
//!     .nest("/admin", admin)
//!     .layer(authz.layer())                                      // outermost
//! # }
//! ```

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::{Request, StatusCode};
use portcullis_authz::Resource;
use portcullis_authz::predicate::Predicate;
use tower::{Layer, Service};

use crate::authorizer::Authorizer;
use crate::denial::Denial;
use crate::identity::RequestIdentity;
use crate::policy::BoxFuture;

/// Finds the context resource of a request for [`Authorizer::permission_on`]: an application
/// object with its own (possibly per-instance) ACL. `Err` is answered as is (e.g. 404).
pub type ContextResolver = Arc<
    dyn Fn(&Parts) -> BoxFuture<'static, Result<Box<dyn Resource + Send + Sync>, Response>>
        + Send
        + Sync,
>;

enum Check {
    Permission(String),
    PermissionOnPath(String, String),
    PermissionOn(String, ContextResolver),
    Predicate(Predicate),
}

/// A guard layer (see the module docs).
#[derive(Clone)]
pub struct GuardLayer {
    authz: Authorizer,
    check: Arc<Check>,
}

impl std::fmt::Debug for GuardLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match &*self.check {
            Check::Permission(p) | Check::PermissionOn(p, _) | Check::PermissionOnPath(p, _) => {
                format!("permission {p}")
            }
            Check::Predicate(p) => format!("predicate {p}"),
        };
        f.debug_struct("GuardLayer").field("check", &what).finish()
    }
}

impl Authorizer {
    /// Requires `permission` on the request path's resource in the tree.
    pub fn permission(&self, permission: impl Into<String>) -> GuardLayer {
        GuardLayer {
            authz: self.clone(),
            check: Arc::new(Check::Permission(permission.into())),
        }
    }

    /// Requires `permission` on the tree's resource at `context_path`, whatever the request's
    /// own path (a route about one fixed resource: Pyramid's route factory returning it).
    pub fn permission_on_path(
        &self,
        permission: impl Into<String>,
        context_path: impl Into<String>,
    ) -> GuardLayer {
        GuardLayer {
            authz: self.clone(),
            check: Arc::new(Check::PermissionOnPath(
                permission.into(),
                context_path.into(),
            )),
        }
    }

    /// Requires `permission` on an application resource found by `resolver` (object-level and
    /// per-instance ACLs).
    pub fn permission_on(
        &self,
        permission: impl Into<String>,
        resolver: ContextResolver,
    ) -> GuardLayer {
        GuardLayer {
            authz: self.clone(),
            check: Arc::new(Check::PermissionOn(permission.into(), resolver)),
        }
    }

    /// Requires a predicate on one route (TurboGears' `@require`).
    pub fn require(&self, predicate: Predicate) -> GuardLayer {
        GuardLayer {
            authz: self.clone(),
            check: Arc::new(Check::Predicate(predicate)),
        }
    }

    /// Requires a predicate on every route of a router (TurboGears' `allow_only`): apply it
    /// with `Router::route_layer`.
    pub fn allow_only(&self, predicate: Predicate) -> GuardLayer {
        self.require(predicate)
    }
}

impl<S> Layer<S> for GuardLayer {
    type Service = Guard<S>;
    fn layer(&self, inner: S) -> Guard<S> {
        Guard {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service made by [`GuardLayer`].
#[derive(Clone, Debug)]
pub struct Guard<S> {
    inner: S,
    layer: GuardLayer,
}

impl<S> Service<Request<Body>> for Guard<S>
where
    S: Service<Request<Body>, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let layer = self.layer.clone();
        Box::pin(async move {
            let (parts, body) = req.into_parts();
            let Some(identity) = parts.extensions.get::<RequestIdentity>().cloned() else {
                tracing::error!(target: "portcullis::authz", "a guard ran without the AuthLayer: denying");
                return Ok((
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "authorization is misconfigured: AuthLayer missing",
                )
                    .into_response());
            };
            let authz = &layer.authz;
            let outcome: Result<(), Denial> = match &*layer.check {
                Check::Permission(p) => authz.check_path(&identity, parts.uri.path(), p),
                Check::PermissionOnPath(p, context) => authz.check_path(&identity, context, p),
                Check::PermissionOn(p, resolve) => match resolve(&parts).await {
                    Ok(context) => authz.check_resource(&identity, &*context, p).map(|_| ()),
                    Err(resp) => return Ok(resp),
                },
                Check::Predicate(pred) => authz.check_predicate(&identity, pred).await,
            };
            match outcome {
                Ok(()) => inner.call(Request::from_parts(parts, body)).await,
                Err(denial) => Ok(authz.deny(&parts, &denial)),
            }
        })
    }
}
