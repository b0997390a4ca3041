//! The identity of one request, as handlers and guards see it.

use std::sync::Arc;

use portcullis_authz::identity::Identity;
use portcullis_authz::{AUTHENTICATED, EVERYONE};
use tokio::sync::OnceCell;

use crate::groupfinder::Groupfinder;

/// Who the request is: anonymous, or a user with effective principals. Inserted into the
/// request extensions by the [`crate::AuthLayer`]; extract it in handlers (it is also an
/// axum extractor: see [`crate::extract`]). Cheap to clone.
#[derive(Clone)]
pub struct RequestIdentity(Arc<Inner>);

struct Inner {
    userid: Option<String>,
    /// The groupfinder's answer, shared (not copied) from its cache.
    user_principals: Arc<[String]>,
    via: Option<&'static str>,
    groupfinder: Option<Arc<dyn Groupfinder>>,
    identity: OnceCell<Identity>,
}

impl std::fmt::Debug for RequestIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestIdentity")
            .field("userid", &self.0.userid)
            .field("principals", &self.principals())
            .field("via", &self.0.via)
            .finish_non_exhaustive()
    }
}

impl RequestIdentity {
    /// The anonymous identity: principals `[system.Everyone]`.
    pub fn anonymous() -> RequestIdentity {
        RequestIdentity(Arc::new(Inner {
            userid: None,
            user_principals: Arc::from(Vec::new()),
            via: None,
            groupfinder: None,
            identity: OnceCell::new(),
        }))
    }

    /// An authenticated identity: `system.Everyone`, `system.Authenticated`, the user id, then
    /// the groupfinder's principals (shared, not copied).
    pub fn authenticated(
        userid: impl Into<String>,
        user_principals: Arc<[String]>,
        via: &'static str,
        groupfinder: Option<Arc<dyn Groupfinder>>,
    ) -> RequestIdentity {
        RequestIdentity(Arc::new(Inner {
            userid: Some(userid.into()),
            user_principals,
            via: Some(via),
            groupfinder,
            identity: OnceCell::new(),
        }))
    }

    /// The authenticated user id (`None`: anonymous).
    pub fn userid(&self) -> Option<&str> {
        self.0.userid.as_deref()
    }

    /// True for an authenticated request.
    pub fn is_authenticated(&self) -> bool {
        self.0.userid.is_some()
    }

    /// The effective principals, in Pyramid's order: `system.Everyone`, then for an
    /// authenticated request `system.Authenticated`, the user id and the groupfinder's
    /// principals (system principals a groupfinder returns are ignored). Allocates a `Vec`;
    /// the hot path uses [`RequestIdentity::principals_iter`].
    pub fn principals(&self) -> Vec<&str> {
        self.principals_iter().collect()
    }

    /// The effective principals, without allocating (a principal may appear twice).
    pub fn principals_iter(&self) -> impl Iterator<Item = &str> {
        let userid = self.0.userid.as_deref();
        std::iter::once(EVERYONE)
            .chain(userid.map(|_| AUTHENTICATED))
            .chain(userid)
            .chain(
                self.0
                    .user_principals
                    .iter()
                    .map(String::as_str)
                    .filter(move |p| {
                        !portcullis_authz::principal::is_system(p) && Some(*p) != userid
                    }),
            )
    }

    /// Which policy identified the request (`"ticket"`, `"session"`, ...).
    pub fn via(&self) -> Option<&'static str> {
        self.0.via
    }

    /// The TurboGears-style identity (name, groups, permissions) for predicates; loaded from the
    /// groupfinder once per request, on first use. A user who vanished meanwhile is anonymous.
    pub async fn identity(&self) -> Identity {
        self.0
            .identity
            .get_or_init(|| async {
                let (Some(userid), Some(gf)) = (&self.0.userid, &self.0.groupfinder) else {
                    return match &self.0.userid {
                        Some(u) => Identity::user(u.clone()).with_groups(
                            self.0.user_principals.iter().filter_map(|p| p.strip_prefix("group:")),
                        ),
                        None => Identity::anonymous(),
                    };
                };
                match gf.identity(userid, &self.0.user_principals).await {
                    Ok(Some(identity)) => identity,
                    Ok(None) => Identity::anonymous(),
                    Err(e) => {
                        tracing::warn!(target: "portcullis::authz", error = %e, "identity lookup failed; treating the request as anonymous");
                        Identity::anonymous()
                    }
                }
            })
            .await
            .clone()
    }
}
