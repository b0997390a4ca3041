//! The groupfinder: from a proven user id to the request's principals.

use std::sync::Arc;

use portcullis_authz::identity::Identity;
use portcullis_store::Store;

use crate::policy::{BoxFuture, PolicyError};

/// Turns a user id that a [`crate::SecurityPolicy`] proved into principals, or `None` when the
/// user does not exist or may not log in (blocked): then the request is anonymous, whatever
/// its cookie says. The system principals are added by the caller.
pub trait Groupfinder: Send + Sync + 'static {
    /// The user's principals (their own principal first, then groups and the like).
    fn principals<'a>(
        &'a self,
        userid: &'a str,
    ) -> BoxFuture<'a, Result<Option<Arc<[String]>>, PolicyError>>;

    /// The TurboGears-style identity (user name, groups, permissions) for predicates. Only
    /// called for requests that meet a predicate. The default derives it from the principals:
    /// the user id as the name, `group:NAME` principals as groups, no permissions.
    fn identity<'a>(
        &'a self,
        userid: &'a str,
        principals: &'a [String],
    ) -> BoxFuture<'a, Result<Option<Identity>, PolicyError>> {
        Box::pin(async move {
            let groups = principals.iter().filter_map(|p| p.strip_prefix("group:"));
            Ok(Some(Identity::user(userid).with_groups(groups)))
        })
    }
}

/// The store is the default groupfinder: user ids are the store's numeric ids, principals come
/// from its cached `principals_for`, identities carry the username, groups and group
/// permissions.
impl Groupfinder for Store {
    fn principals<'a>(
        &'a self,
        userid: &'a str,
    ) -> BoxFuture<'a, Result<Option<Arc<[String]>>, PolicyError>> {
        Box::pin(async move {
            let Ok(id) = userid.parse::<i64>() else {
                return Ok(None);
            };
            match self.principals_for(id).await {
                Ok(p) => Ok(p.map(|p| p.as_arc().clone())),
                Err(e) => Err(PolicyError {
                    policy: "groupfinder",
                    message: e.to_string(),
                }),
            }
        })
    }

    fn identity<'a>(
        &'a self,
        userid: &'a str,
        _principals: &'a [String],
    ) -> BoxFuture<'a, Result<Option<Identity>, PolicyError>> {
        Box::pin(async move {
            let Ok(id) = userid.parse::<i64>() else {
                return Ok(None);
            };
            match self.identity_for(id).await {
                Ok(Some(found)) => Ok(Some(
                    Identity::user(found.user.username)
                        .with_groups(found.groups)
                        .with_permissions(found.permissions),
                )),
                Ok(None) => Ok(None),
                Err(e) => Err(PolicyError {
                    policy: "groupfinder",
                    message: e.to_string(),
                }),
            }
        })
    }
}

/// A groupfinder from a plain function, for applications that keep users elsewhere: the
/// function returns the user's principals (groups and the like; shared, so keep them in an
/// `Arc` to answer without copying) or `None` for no such user:
/// `FnGroupfinder::new(move |userid| users.get(userid).cloned())` with
/// `users: HashMap<String, Arc<[String]>>`.
pub struct FnGroupfinder<F>(F);

impl<F> FnGroupfinder<F>
where
    F: Fn(&str) -> Option<Arc<[String]>> + Send + Sync + 'static,
{
    /// Wraps `f`.
    pub fn new(f: F) -> FnGroupfinder<F> {
        FnGroupfinder(f)
    }
}

impl<F> std::fmt::Debug for FnGroupfinder<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FnGroupfinder")
    }
}

impl<F> Groupfinder for FnGroupfinder<F>
where
    F: Fn(&str) -> Option<Arc<[String]>> + Send + Sync + 'static,
{
    fn principals<'a>(
        &'a self,
        userid: &'a str,
    ) -> BoxFuture<'a, Result<Option<Arc<[String]>>, PolicyError>> {
        let found = (self.0)(userid);
        Box::pin(async move { Ok(found) })
    }
}
