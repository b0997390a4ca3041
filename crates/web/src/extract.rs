//! Extractors: the request's identity, an authenticated user, imperative checks.
//!
//! All of them read what the [`crate::AuthLayer`] inserted; without it they answer 500
//! (misconfiguration), never "anonymous".

use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use http::request::Parts;
use portcullis_authz::predicate::Predicate;
use portcullis_authz::{Decision, Resource};

use crate::authorizer::Authorizer;
use crate::denial::{Denial, DenialKind};
use crate::identity::RequestIdentity;

fn missing_layer() -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        "authorization is misconfigured: AuthLayer missing",
    )
        .into_response()
}

impl<S: Send + Sync> FromRequestParts<S> for RequestIdentity {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<RequestIdentity>()
            .cloned()
            .ok_or_else(missing_layer)
    }
}

/// An authenticated request's identity; anonymous requests are answered by the unauthenticated
/// view (401 or the login redirect).
#[derive(Debug, Clone)]
pub struct Authenticated(pub RequestIdentity);

impl<S: Send + Sync> FromRequestParts<S> for Authenticated {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let (Some(identity), Some(authz)) = (
            parts.extensions.get::<RequestIdentity>(),
            parts.extensions.get::<Authorizer>(),
        ) else {
            return Err(missing_layer());
        };
        if identity.is_authenticated() {
            return Ok(Authenticated(identity.clone()));
        }
        let denial = Denial {
            kind: DenialKind::Unauthenticated,
            message: "The current user must have been authenticated".to_owned(),
            permission: None,
            decision: None,
            challenge: authz.policy().challenge(),
        };
        Err(authz.deny(parts, &denial))
    }
}

/// Imperative checks inside a handler, returning explained decisions:
///
/// ```no_run
/// # use portcullis_web::extract::Authz;
/// # use axum::response::Response;
/// # struct Post; impl portcullis_authz::Resource for Post {
/// #   fn name(&self) -> &str { "p" } fn parent(&self) -> Option<&dyn portcullis_authz::Resource> { None }
/// #   fn acl(&self) -> Option<std::borrow::Cow<'_, portcullis_authz::Acl>> { None } }
/// # fn load_post() -> Post { Post }
/// async fn edit(authz: Authz) -> Result<String, Response> {
///     let post = load_post();
///     let decision = authz.require(&post, "edit")?;       // 401/403 response when denied
///     Ok(format!("allowed: {}", decision.message()))
/// }
/// ```
#[derive(Debug, Clone)]
pub struct Authz {
    authz: Authorizer,
    identity: RequestIdentity,
    parts: Parts,
}

impl<S: Send + Sync> FromRequestParts<S> for Authz {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let (Some(identity), Some(authz)) = (
            parts.extensions.get::<RequestIdentity>(),
            parts.extensions.get::<Authorizer>(),
        ) else {
            return Err(missing_layer());
        };
        let mut snapshot = http::Request::new(());
        *snapshot.uri_mut() = parts.uri.clone();
        *snapshot.method_mut() = parts.method.clone();
        *snapshot.headers_mut() = parts.headers.clone();
        let (snapshot, ()) = snapshot.into_parts();
        Ok(Authz {
            authz: authz.clone(),
            identity: identity.clone(),
            parts: snapshot,
        })
    }
}

impl Authz {
    /// The request's identity.
    pub fn identity(&self) -> &RequestIdentity {
        &self.identity
    }

    /// The explained decision for `permission` on an application resource.
    pub fn decide(&self, context: &dyn Resource, permission: &str) -> Decision {
        portcullis_authz::permits(context, &self.identity.principals(), permission)
    }

    /// The explained decision for `permission` at a path of the resource tree.
    pub fn decide_path(&self, path: &str, permission: &str) -> Decision {
        self.authz.decide_path(&self.identity, path, permission)
    }

    /// The decision when allowed; otherwise the 401/403 response to return.
    #[expect(
        clippy::result_large_err,
        reason = "handlers return the response as is, axum style"
    )]
    pub fn require(&self, context: &dyn Resource, permission: &str) -> Result<Decision, Response> {
        self.authz
            .check_resource(&self.identity, context, permission)
            .map_err(|d| self.authz.deny(&self.parts, &d))
    }

    /// Evaluates a predicate; the 401/403 response when not met.
    pub async fn require_predicate(&self, predicate: &Predicate) -> Result<(), Response> {
        self.authz
            .check_predicate(&self.identity, predicate)
            .await
            .map_err(|d| self.authz.deny(&self.parts, &d))
    }

    /// The authorizer (remember/forget, the tree).
    pub fn authorizer(&self) -> &Authorizer {
        &self.authz
    }
}
