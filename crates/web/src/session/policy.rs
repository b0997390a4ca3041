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
///
/// With [`SessionPolicy::rotate_on_privilege_change`], the session id also rotates when the
/// user's principals change (a group granted or removed): the policy keeps a fingerprint of the
/// principals in the session and gives the session a new id when it no longer matches.
#[derive(Clone)]
pub struct SessionPolicy {
    manager: SessionManager,
    groupfinder: Option<std::sync::Arc<dyn crate::groupfinder::Groupfinder>>,
}

impl std::fmt::Debug for SessionPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionPolicy")
            .field("manager", &self.manager)
            .field("rotate_on_privilege_change", &self.groupfinder.is_some())
            .finish()
    }
}

/// Session key of the principals fingerprint.
const PRINCIPALS_FP: &str = "portcullis.principals";

/// A short fingerprint of a principal list (SHA-256, first 16 bytes, hex).
fn fingerprint(principals: &[String]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for p in principals {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    h.finalize()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl SessionPolicy {
    /// A policy over `manager`.
    pub fn new(manager: SessionManager) -> SessionPolicy {
        SessionPolicy {
            manager,
            groupfinder: None,
        }
    }

    /// Rotates the session id whenever the user's principals (from `groupfinder`, usually the
    /// store) differ from those seen when the session last rotated: a privilege change.
    #[must_use]
    pub fn rotate_on_privilege_change(
        mut self,
        groupfinder: std::sync::Arc<dyn crate::groupfinder::Groupfinder>,
    ) -> SessionPolicy {
        self.groupfinder = Some(groupfinder);
        self
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
            let Some((user, mut session)) = found else {
                return Ok(None);
            };
            let mut claim = Claim::new(user, "session");
            if let Some(gf) = &self.groupfinder
                && let Some(principals) = gf.principals(&claim.userid).await?
            {
                let fp = fingerprint(&principals);
                let seen = session
                    .get(PRINCIPALS_FP)
                    .and_then(|v| v.as_str())
                    .map(str::to_owned);
                if seen.as_deref() != Some(fp.as_str()) {
                    session.insert(PRINCIPALS_FP, fp);
                    let cookie = if seen.is_some() {
                        // The principals changed since the last rotation: new id.
                        Some(self.manager.rotate(&mut session).await.map_err(failed)?)
                    } else {
                        // First request after login (which rotated already): remember them.
                        self.manager.save(&mut session).await.map_err(failed)?
                    };
                    if let Some(cookie) = cookie {
                        claim.response_headers = set_cookie(&cookie)?;
                    }
                }
            }
            Ok(Some(claim))
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
