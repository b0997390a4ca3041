//! Server-side sessions as a [`SecurityPolicy`].

use http::header::{COOKIE, SET_COOKIE};
use http::request::Parts;
use http::{HeaderName, HeaderValue};

use super::{SessionError, SessionManager};
use crate::policy::{BoxFuture, Claim, PolicyError, SecurityPolicy};

/// Identifies requests by their server-side session (Pyramid's `SessionAuthenticationPolicy`
/// with fixation defence): `identify` loads the session named by the cookie and claims its
/// user; `remember` rotates the session id (keeping the session's data) and binds the user;
/// `forget` deletes the session server-side and expires the cookie.
#[derive(Debug, Clone)]
pub struct SessionPolicy {
    manager: SessionManager,
}

impl SessionPolicy {
    /// A policy over `manager`.
    pub fn new(manager: SessionManager) -> SessionPolicy {
        SessionPolicy { manager }
    }

    /// The session manager.
    pub fn manager(&self) -> &SessionManager {
        &self.manager
    }
}

/// All `Cookie` headers of a request as one header value (HTTP/2 may split them).
pub(crate) fn cookie_header(req: &Parts) -> Option<String> {
    let parts: Vec<&str> = req
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

fn failed(e: SessionError) -> PolicyError {
    PolicyError {
        policy: "session",
        message: e.to_string(),
    }
}

fn set_cookie(value: &str) -> Result<Vec<(HeaderName, HeaderValue)>, PolicyError> {
    HeaderValue::from_str(value)
        .map(|v| vec![(SET_COOKIE, v)])
        .map_err(|e| PolicyError {
            policy: "session",
            message: format!("invalid set-cookie value: {e}"),
        })
}

impl SecurityPolicy for SessionPolicy {
    fn name(&self) -> &'static str {
        "session"
    }

    fn identify<'a>(&'a self, req: &'a Parts) -> BoxFuture<'a, Result<Option<Claim>, PolicyError>> {
        Box::pin(async move {
            let cookies = cookie_header(req);
            let found = self
                .manager
                .identify(cookies.as_deref())
                .await
                .map_err(failed)?;
            Ok(found.map(|(user, _)| Claim::new(user, "session")))
        })
    }

    fn remember<'a>(
        &'a self,
        req: &'a Parts,
        userid: &'a str,
    ) -> BoxFuture<'a, Result<Vec<(HeaderName, HeaderValue)>, PolicyError>> {
        Box::pin(async move {
            let cookies = cookie_header(req);
            let current = self
                .manager
                .load(cookies.as_deref())
                .await
                .map_err(failed)?;
            let (_, cookie) = self
                .manager
                .remember(current, userid)
                .await
                .map_err(failed)?;
            set_cookie(&cookie)
        })
    }

    fn forget<'a>(
        &'a self,
        req: &'a Parts,
    ) -> BoxFuture<'a, Result<Vec<(HeaderName, HeaderValue)>, PolicyError>> {
        Box::pin(async move {
            let cookies = cookie_header(req);
            let cookie = self
                .manager
                .forget(cookies.as_deref())
                .await
                .map_err(failed)?;
            set_cookie(&cookie)
        })
    }
}
