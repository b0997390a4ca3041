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
    principals: Vec<String>,
    via: Option<&'static str>,
    groupfinder: Option<Arc<dyn Groupfinder>>,
    identity: OnceCell<Identity>,
}

impl std::fmt::Debug for RequestIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestIdentity")
            .field("userid", &self.0.userid)
            .field("principals", &self.0.principals)
            .field("via", &self.0.via)
            .finish_non_exhaustive()
    }
}

impl RequestIdentity {
    /// The anonymous identity: principals `[system.Everyone]`.
    pub fn anonymous() -> RequestIdentity {
        RequestIdentity(Arc::new(Inner {
            userid: None,
            principals: vec![EVERYONE.to_owned()],
            via: None,
            groupfinder: None,
            identity: OnceCell::new(),
        }))
    }

    /// An authenticated identity: `system.Everyone`, `system.Authenticated`, then the
    /// groupfinder's principals (the user's own principal first).
    pub fn authenticated(
        userid: impl Into<String>,
        user_principals: &[String],
        via: &'static str,
        groupfinder: Option<Arc<dyn Groupfinder>>,
    ) -> RequestIdentity {
        let userid = userid.into();
        let mut principals = Vec::with_capacity(user_principals.len() + 3);
        principals.push(EVERYONE.to_owned());
        principals.push(AUTHENTICATED.to_owned());
        if !user_principals.contains(&userid) {
            principals.push(userid.clone());
        }
        principals.extend(
            user_principals
                .iter()
                .filter(|p| !portcullis_authz::principal::is_system(p))
                .cloned(),
        );
        RequestIdentity(Arc::new(Inner {
            userid: Some(userid),
            principals,
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

    /// The effective principals.
    pub fn principals(&self) -> &[String] {
        &self.0.principals
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
                            self.0.principals.iter().filter_map(|p| p.strip_prefix("group:")),
                        ),
                        None => Identity::anonymous(),
                    };
                };
                match gf.identity(userid, &self.0.principals).await {
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
