//! Access control entries: `(Allow | Deny, principal, permissions)`.

use std::fmt;

/// The permission that every ACE with [`Permissions::All`] grants or denies, as written in
/// policy files (Pyramid's `ALL_PERMISSIONS`).
pub const ALL_PERMISSIONS: &str = "ALL_PERMISSIONS";

/// Whether an entry grants or refuses its permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Grants the permissions (Pyramid's `Allow`).
    Allow,
    /// Refuses the permissions (Pyramid's `Deny`).
    Deny,
}

impl Action {
    /// `"Allow"` or `"Deny"`, as in Pyramid and in policy files.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "Allow",
            Action::Deny => "Deny",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The permissions an entry covers: one, several, or all of them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Permissions {
    /// Every permission, including ones nobody has named yet (`ALL_PERMISSIONS`).
    All,
    /// One permission (Pyramid: a plain string).
    One(String),
    /// Several permissions (Pyramid: a tuple or list).
    Many(Vec<String>),
}

impl Permissions {
    /// True when `permission` is covered.
    pub fn contains(&self, permission: &str) -> bool {
        match self {
            Permissions::All => true,
            Permissions::One(p) => p == permission,
            Permissions::Many(ps) => ps.iter().any(|p| p == permission),
        }
    }

    /// The named permissions (empty for [`Permissions::All`]).
    pub fn names(&self) -> &[String] {
        match self {
            Permissions::All => &[],
            Permissions::One(p) => std::slice::from_ref(p),
            Permissions::Many(ps) => ps,
        }
    }

    /// True for [`Permissions::All`].
    pub fn is_all(&self) -> bool {
        matches!(self, Permissions::All)
    }
}

impl From<&str> for Permissions {
    fn from(p: &str) -> Self {
        if p == ALL_PERMISSIONS {
            Permissions::All
        } else {
            Permissions::One(p.to_owned())
        }
    }
}

impl From<String> for Permissions {
    fn from(p: String) -> Self {
        if p == ALL_PERMISSIONS {
            Permissions::All
        } else {
            Permissions::One(p)
        }
    }
}

impl<const N: usize> From<[&str; N]> for Permissions {
    fn from(ps: [&str; N]) -> Self {
        Permissions::Many(ps.iter().map(|p| (*p).to_owned()).collect())
    }
}

impl From<Vec<String>> for Permissions {
    fn from(ps: Vec<String>) -> Self {
        Permissions::Many(ps)
    }
}

/// One access control entry.
///
/// ```
/// use portcullis_authz::{Ace, Action};
///
/// let ace = Ace::allow("group:editors", ["add", "edit"]);
/// assert_eq!(ace.action, Action::Allow);
/// assert!(ace.permissions.contains("edit"));
/// assert_eq!(ace.to_string(), "('Allow', 'group:editors', ('add', 'edit'))");
/// assert_eq!(Ace::deny_all().to_string(), "('Deny', 'system.Everyone', ALL_PERMISSIONS)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Ace {
    /// Allow or Deny.
    pub action: Action,
    /// The principal the entry applies to.
    pub principal: String,
    /// The permissions the entry covers.
    pub permissions: Permissions,
}

impl Ace {
    /// An entry with the given parts.
    pub fn new(
        action: Action,
        principal: impl Into<String>,
        permissions: impl Into<Permissions>,
    ) -> Ace {
        Ace {
            action,
            principal: principal.into(),
            permissions: permissions.into(),
        }
    }

    /// `(Allow, principal, permissions)`.
    pub fn allow(principal: impl Into<String>, permissions: impl Into<Permissions>) -> Ace {
        Ace::new(Action::Allow, principal, permissions)
    }

    /// `(Deny, principal, permissions)`.
    pub fn deny(principal: impl Into<String>, permissions: impl Into<Permissions>) -> Ace {
        Ace::new(Action::Deny, principal, permissions)
    }

    /// Pyramid's `DENY_ALL`: `(Deny, Everyone, ALL_PERMISSIONS)`. Placed last in an ACL, it
    /// stops inheritance: nothing above this resource is consulted.
    pub fn deny_all() -> Ace {
        Ace::new(Action::Deny, crate::principal::EVERYONE, Permissions::All)
    }

    /// True for `(Deny, Everyone, ALL_PERMISSIONS)`.
    pub fn is_deny_all(&self) -> bool {
        self.action == Action::Deny
            && self.principal == crate::principal::EVERYONE
            && self.permissions.is_all()
    }

    /// True when this entry applies to `principal` asking for `permission`.
    pub fn matches(&self, principal: &str, permission: &str) -> bool {
        self.principal == principal && self.permissions.contains(permission)
    }
}

fn write_quoted(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_str("'")?;
    for c in s.chars() {
        match c {
            '\'' => f.write_str("\\'")?,
            '\\' => f.write_str("\\\\")?,
            c if c.is_control() => write!(f, "{}", c.escape_default())?,
            c => write!(f, "{c}")?,
        }
    }
    f.write_str("'")
}

/// Python-like rendering, as Pyramid's messages show ACEs: `('Allow', 'bob', 'edit')`.
impl fmt::Display for Ace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "('{}', ", self.action)?;
        write_quoted(f, &self.principal)?;
        f.write_str(", ")?;
        match &self.permissions {
            Permissions::All => f.write_str(ALL_PERMISSIONS)?,
            Permissions::One(p) => write_quoted(f, p)?,
            Permissions::Many(ps) => {
                f.write_str("(")?;
                for (i, p) in ps.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write_quoted(f, p)?;
                }
                if ps.len() == 1 {
                    f.write_str(",")?;
                }
                f.write_str(")")?;
            }
        }
        f.write_str(")")
    }
}
