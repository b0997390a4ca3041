//! What every portal handler (JSON API, HTML pages, admin) shares: the request context
//! [`Ctx`], the logged-in user ([`current`], [`require_user`]) and the mapping of store
//! errors to answers ([`store_err`]).

use std::net::IpAddr;

use http::request::Parts;
use http::{HeaderMap, StatusCode, header};
use portcullis_store::{AuditEvent, Store, StoreError, User, UserStatus};
use portcullis_web::session::Session;

use crate::envelope::ApiError;
use crate::state::PortalState;

/// One request's context: headers, client address, a store that audits as the portal
/// with that address.
#[derive(Clone)]
pub(crate) struct Ctx {
    pub(crate) headers: HeaderMap,
    pub(crate) addr: IpAddr,
    pub(crate) store: Store,
}

/// The client address of a request (`X-Forwarded-For` only from trusted proxies).
pub(crate) fn client_addr(st: &PortalState, parts: &Parts) -> IpAddr {
    crate::proxy::client_addr(&st.inner.config.trusted_proxies, parts)
}

impl Ctx {
    /// The context of the request whose head is `parts`.
    pub(crate) fn new(st: &PortalState, parts: &Parts) -> Ctx {
        let addr = client_addr(st, parts);
        Ctx {
            headers: parts.headers.clone(),
            addr,
            store: st.inner.store.acting_as("portal", Some(&addr.to_string())),
        }
    }

    /// The request's `Cookie` header.
    pub(crate) fn cookie(&self) -> Option<&str> {
        self.headers
            .get(header::COOKIE)
            .and_then(|v| v.to_str().ok())
    }

    /// Writes `ev` to the audit log (a failure is logged, never answered).
    pub(crate) async fn audit(&self, ev: AuditEvent) {
        if let Err(e) = self.store.audit(ev).await {
            tracing::warn!(error = %e, "cannot write an audit event");
        }
    }
}

/// A store error as an answer: invalid input and password policy 400, conflict 409,
/// anything else 500 (logged).
pub(crate) fn store_err(e: StoreError) -> ApiError {
    match e {
        StoreError::InvalidInput { field, reason } => {
            ApiError::bad("invalid input").field(field, reason)
        }
        StoreError::PasswordPolicy(v) => {
            ApiError::bad("invalid input").field("password", v.to_string())
        }
        StoreError::Conflict { field } => ApiError::new(
            StatusCode::CONFLICT,
            format!("this {field} is already in use"),
        ),
        other => {
            tracing::error!(error = %other, "store failure");
            ApiError::internal()
        }
    }
}

/// A session-layer failure as a 500 (logged).
pub(crate) fn session_err(e: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %e, "session failure");
    ApiError::internal()
}

/// The logged-in (active) user of the request and their session.
pub(crate) async fn current(
    st: &PortalState,
    ctx: &Ctx,
) -> Result<Option<(User, Session)>, ApiError> {
    let found = st
        .inner
        .sessions
        .identify(ctx.cookie())
        .await
        .map_err(session_err)?;
    let Some((uid, session)) = found else {
        return Ok(None);
    };
    let Ok(id) = uid.parse::<i64>() else {
        return Ok(None);
    };
    let user = ctx.store.get_user(id).await.map_err(store_err)?;
    Ok(user
        .filter(|u| u.status == UserStatus::Active)
        .map(|u| (u, session)))
}

/// [`current`], or 401 `not logged in`.
pub(crate) async fn require_user(st: &PortalState, ctx: &Ctx) -> Result<(User, Session), ApiError> {
    current(st, ctx)
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "not logged in"))
}
