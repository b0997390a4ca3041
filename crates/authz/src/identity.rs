//! Who is asking: a user id (or nobody), the user's groups and permissions.
//!
//! An [`Identity`] is what TurboGears' `TGAuthMetadata` gathers after authentication and
//! what [predicates](crate::predicate) are evaluated against. It is plain data: building one
//! does no I/O, and the web layer builds one per request (from the session and the
//! groupfinder), so it is cheap to construct and to clone.
//!
//! ```
//! use portcullis_authz::identity::Identity;
//!
//! let bob = Identity::user("bob")
//!     .with_groups(["qa", "staff"])
//!     .with_permissions(["release"]);
//! assert_eq!(bob.user_id(), Some("bob"));
//! assert!(bob.in_group("qa"));
//! assert!(bob.has_permission("release"));
//! assert!(!bob.is_anonymous());
//!
//! let nobody = Identity::anonymous();
//! assert!(nobody.is_anonymous());
//! assert_eq!(nobody.user_id(), None);
//! ```
//!
//! Design decision: an anonymous identity may still carry groups and permissions (an
//! application may grant something to everybody); predicates look only at what the identity
//! holds, and [`Identity::is_anonymous`] only decides whether a failure means "log in"
//! (401) or "not allowed" (403).

use std::collections::BTreeSet;

/// The subject of an authorization check: an optional user id, groups and permissions.
///
/// Sets are ordered ([`BTreeSet`]) so that printing an identity is deterministic.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    user_id: Option<String>,
    groups: BTreeSet<String>,
    permissions: BTreeSet<String>,
}

impl Identity {
    /// Nobody is logged in: no user id, no groups, no permissions.
    pub fn anonymous() -> Identity {
        Identity::default()
    }

    /// An authenticated user without groups or permissions (add them with
    /// [`with_groups`](Identity::with_groups) and [`with_permissions`](Identity::with_permissions)).
    pub fn user(user_id: impl Into<String>) -> Identity {
        Identity {
            user_id: Some(user_id.into()),
            ..Identity::default()
        }
    }

    /// Adds groups to the identity.
    #[must_use]
    pub fn with_groups<I, S>(mut self, groups: I) -> Identity
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.groups.extend(groups.into_iter().map(Into::into));
        self
    }

    /// Adds one group to the identity.
    #[must_use]
    pub fn with_group(mut self, group: impl Into<String>) -> Identity {
        self.groups.insert(group.into());
        self
    }

    /// Adds permissions to the identity.
    #[must_use]
    pub fn with_permissions<I, S>(mut self, permissions: I) -> Identity
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.permissions
            .extend(permissions.into_iter().map(Into::into));
        self
    }

    /// Adds one permission to the identity.
    #[must_use]
    pub fn with_permission(mut self, permission: impl Into<String>) -> Identity {
        self.permissions.insert(permission.into());
        self
    }

    /// The authenticated user's id, or `None` when anonymous.
    pub fn user_id(&self) -> Option<&str> {
        self.user_id.as_deref()
    }

    /// True when nobody is logged in.
    pub fn is_anonymous(&self) -> bool {
        self.user_id.is_none()
    }

    /// The groups the identity belongs to.
    pub fn groups(&self) -> &BTreeSet<String> {
        &self.groups
    }

    /// The permissions granted to the identity.
    pub fn permissions(&self) -> &BTreeSet<String> {
        &self.permissions
    }

    /// True when the identity belongs to `group` (case-sensitive).
    pub fn in_group(&self, group: &str) -> bool {
        self.groups.contains(group)
    }

    /// True when the identity has been granted `permission` (case-sensitive).
    pub fn has_permission(&self, permission: &str) -> bool {
        self.permissions.contains(permission)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anonymous_has_nothing() {
        let a = Identity::anonymous();
        assert!(a.is_anonymous());
        assert_eq!(a.user_id(), None);
        assert!(a.groups().is_empty());
        assert!(a.permissions().is_empty());
        assert_eq!(a, Identity::default());
    }

    #[test]
    fn builder_accumulates() {
        let id = Identity::user("alice")
            .with_groups(["a", "b"])
            .with_group("c")
            .with_permissions(vec![String::from("p")])
            .with_permission("q");
        assert_eq!(id.user_id(), Some("alice"));
        assert!(!id.is_anonymous());
        assert_eq!(id.groups().len(), 3);
        assert!(id.in_group("c"));
        assert!(!id.in_group("C"));
        assert!(id.has_permission("p") && id.has_permission("q"));
        assert!(!id.has_permission("r"));
    }

    #[test]
    fn anonymous_may_carry_grants() {
        let a = Identity::anonymous().with_permission("view");
        assert!(a.is_anonymous());
        assert!(a.has_permission("view"));
    }
}
