//! Access control lists: ordered [`Ace`]s where the first match decides.

use std::fmt;

use crate::ace::{Ace, Action, Permissions};

/// An ordered list of entries. The first entry whose principal is among the request's
/// principals and whose permissions include the requested one decides.
///
/// ```
/// use portcullis_authz::{Ace, Acl, Action};
///
/// let acl = Acl::new()
///     .allow("system.Everyone", "view")
///     .allow("group:editors", ["add", "edit"])
///     .deny_all();
/// let (index, ace) = acl.first_match(&["system.Everyone", "group:editors"], "edit").unwrap();
/// assert_eq!((index, ace.action), (1, Action::Allow));
/// assert_eq!(acl.first_match(&["system.Everyone"], "edit").unwrap().1.action, Action::Deny);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Acl {
    entries: Vec<Ace>,
}

impl Acl {
    /// An empty ACL (which is not the same as no ACL: see [`crate::Resource::acl`]).
    pub fn new() -> Acl {
        Acl {
            entries: Vec::new(),
        }
    }

    /// Appends an entry.
    pub fn push(&mut self, ace: Ace) {
        self.entries.push(ace);
    }

    /// Builder: appends `(Allow, principal, permissions)`.
    #[must_use]
    pub fn allow(
        mut self,
        principal: impl Into<String>,
        permissions: impl Into<Permissions>,
    ) -> Acl {
        self.push(Ace::allow(principal, permissions));
        self
    }

    /// Builder: appends `(Deny, principal, permissions)`.
    #[must_use]
    pub fn deny(
        mut self,
        principal: impl Into<String>,
        permissions: impl Into<Permissions>,
    ) -> Acl {
        self.push(Ace::deny(principal, permissions));
        self
    }

    /// Builder: appends `DENY_ALL`.
    #[must_use]
    pub fn deny_all(mut self) -> Acl {
        self.push(Ace::deny_all());
        self
    }

    /// The entries, in order.
    pub fn entries(&self) -> &[Ace] {
        &self.entries
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The first entry that decides `permission` for a request with `principals`, with its index.
    pub fn first_match<S: AsRef<str>>(
        &self,
        principals: &[S],
        permission: &str,
    ) -> Option<(usize, &Ace)> {
        self.entries.iter().enumerate().find(|(_, ace)| {
            ace.permissions.contains(permission)
                && principals.iter().any(|p| p.as_ref() == ace.principal)
        })
    }

    /// True when the ACL ends inheritance for every permission: it contains `DENY_ALL`.
    pub fn has_deny_all(&self) -> bool {
        self.entries.iter().any(Ace::is_deny_all)
    }

    /// Allowed by the first matching entry? `None` when no entry matches.
    pub fn decides(&self, principals: &[&str], permission: &str) -> Option<Action> {
        self.first_match(principals, permission)
            .map(|(_, ace)| ace.action)
    }
}

impl FromIterator<Ace> for Acl {
    fn from_iter<I: IntoIterator<Item = Ace>>(iter: I) -> Acl {
        Acl {
            entries: iter.into_iter().collect(),
        }
    }
}

impl From<Vec<Ace>> for Acl {
    fn from(entries: Vec<Ace>) -> Acl {
        Acl { entries }
    }
}

impl<'a> IntoIterator for &'a Acl {
    type Item = &'a Ace;
    type IntoIter = std::slice::Iter<'a, Ace>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter()
    }
}

/// Python-like rendering: `[('Allow', 'system.Everyone', 'view'), ...]`.
impl fmt::Display for Acl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, ace) in self.entries.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{ace}")?;
        }
        f.write_str("]")
    }
}
