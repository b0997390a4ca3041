//! The [`AuthLayer`]: identifies every request and enforces what its path requires.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::response::{IntoResponse, Response};
use http::{Request, StatusCode};
use tower::{Layer, Service};

use crate::authorizer::Authorizer;
use crate::policy::BoxFuture;

/// The client's address, as trusted by the server (the socket peer, or a forwarded address
/// from a trusted proxy). Policies that bind tickets to an address read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub std::net::IpAddr);

/// Tower layer: for every request, run the security policy and the groupfinder, insert the
/// [`crate::RequestIdentity`] (and the [`Authorizer`]) into the request extensions, enforce the
/// path's requirements (answering 401 / login redirect or 403 when they are not met), and add
/// the policy's response headers (a reissued ticket) to the response.
///
/// Put it outermost: `Router::new().route(...).layer(authorizer.layer())`.
#[derive(Debug, Clone)]
pub struct AuthLayer {
    authz: Authorizer,
}

impl Authorizer {
    /// The layer that identifies requests and enforces path requirements.
    pub fn layer(&self) -> AuthLayer {
        AuthLayer {
            authz: self.clone(),
        }
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = AuthService<S>;
    fn layer(&self, inner: S) -> AuthService<S> {
        AuthService {
            inner,
            authz: self.authz.clone(),
        }
    }
}

/// The service made by [`AuthLayer`].
#[derive(Debug, Clone)]
pub struct AuthService<S> {
    inner: S,
    authz: Authorizer,
}

impl<S> Service<Request<Body>> for AuthService<S>
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
        // The clone that was driven to readiness is the one we call (tower's cloning rule).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let authz = self.authz.clone();
        Box::pin(async move {
            let (mut parts, body) = req.into_parts();
            if parts.extensions.get::<ClientAddr>().is_none()
                && let Some(ConnectInfo(addr)) = parts.extensions.get::<ConnectInfo<SocketAddr>>()
            {
                let ip = addr.ip();
                parts.extensions.insert(ClientAddr(ip));
            }
            let (identity, headers) = match authz.identify(&parts).await {
                Ok(found) => found,
                Err(e) => {
                    tracing::error!(target: "portcullis::authz", error = %e, "cannot identify the request");
                    let body = serde_json::json!({
                        "status": "error",
                        "code": 503,
                        "message": "authentication is temporarily unavailable",
                    });
                    return Ok((StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response());
                }
            };
            if let Err(denial) = authz
                .check_path_requirements(&identity, parts.uri.path())
                .await
            {
                // Views may want to know who was refused (greet them, offer another login).
                parts.extensions.insert(identity);
                let mut resp = authz.deny(&parts, &denial);
                resp.headers_mut().extend(headers);
                return Ok(resp);
            }
            parts.extensions.insert(identity);
            parts.extensions.insert(authz);
            let mut resp = inner.call(Request::from_parts(parts, body)).await?;
            for (name, value) in headers {
                resp.headers_mut().append(name, value);
            }
            Ok(resp)
        })
    }
}
