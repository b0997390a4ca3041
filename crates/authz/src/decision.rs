//! Decisions that explain themselves.

use std::fmt;

use crate::ace::Ace;
use crate::acl::Acl;

/// The entry that decided a check, and where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AceMatch {
    /// The deciding entry.
    pub ace: Ace,
    /// Its index (0-based) in its ACL.
    pub ace_index: usize,
    /// The location (path) of the resource whose ACL holds the entry.
    pub acl_location: String,
    /// That whole ACL, for the message (Pyramid shows it too).
    pub acl: Acl,
}

/// Why nothing matched, for a default deny.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DefaultDeny {
    /// No resource in the lineage has an ACL.
    NoAcl,
    /// These resources (context first) have ACLs, but no entry matched.
    NoMatch {
        /// Locations of the resources with an ACL, from the context up to the root.
        searched: Vec<String>,
    },
    /// The lineage was deeper than [`crate::resource::MAX_LINEAGE_DEPTH`]: probably a cycle in
    /// the application's parent links. Errors deny.
    LineageTooDeep,
}

/// The answer to "may these principals exercise this permission on this context?".
///
/// It carries everything Pyramid's `ACLAllowed`/`ACLDenied` carry (the ACE, the ACL, the
/// context, the principals, the permission) plus the ACE's index and the location of the
/// resource whose ACL decided. [`Decision::message`] renders it in Pyramid's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    allowed: bool,
    permission: String,
    context: String,
    principals: Vec<String>,
    outcome: Result<AceMatch, DefaultDeny>,
}

impl Decision {
    /// A decision made by an entry.
    pub fn by_ace(
        permission: impl Into<String>,
        context: impl Into<String>,
        principals: Vec<String>,
        matched: AceMatch,
    ) -> Decision {
        Decision {
            allowed: matched.ace.action == crate::ace::Action::Allow,
            permission: permission.into(),
            context: context.into(),
            principals,
            outcome: Ok(matched),
        }
    }

    /// A default deny: nothing matched.
    pub fn default_deny(
        permission: impl Into<String>,
        context: impl Into<String>,
        principals: Vec<String>,
        why: DefaultDeny,
    ) -> Decision {
        Decision {
            allowed: false,
            permission: permission.into(),
            context: context.into(),
            principals,
            outcome: Err(why),
        }
    }

    /// True when allowed.
    pub fn allowed(&self) -> bool {
        self.allowed
    }

    /// The permission asked for.
    pub fn permission(&self) -> &str {
        &self.permission
    }

    /// The context's location.
    pub fn context(&self) -> &str {
        &self.context
    }

    /// The principals of the request.
    pub fn principals(&self) -> &[String] {
        &self.principals
    }

    /// The deciding entry, or `None` for a default deny.
    pub fn matched(&self) -> Option<&AceMatch> {
        self.outcome.as_ref().ok()
    }

    /// Why nothing matched, for a default deny.
    pub fn default_deny_reason(&self) -> Option<&DefaultDeny> {
        self.outcome.as_ref().err()
    }

    /// The deciding entry.
    pub fn ace(&self) -> Option<&Ace> {
        self.matched().map(|m| &m.ace)
    }

    /// The deciding entry's index in its ACL.
    pub fn ace_index(&self) -> Option<usize> {
        self.matched().map(|m| m.ace_index)
    }

    /// Location of the resource whose ACL decided.
    pub fn acl_location(&self) -> Option<&str> {
        self.matched().map(|m| m.acl_location.as_str())
    }

    /// A human message in the form of Pyramid's `ACLAllowed`/`ACLDenied` `msg`, with the entry's
    /// index and the ACL's location added:
    ///
    /// `ACLDenied permission 'edit' via ACE ('Deny', 'system.Everyone', ALL_PERMISSIONS) (entry 2)
    /// in ACL [...] at '/' on context '/blog' for principals ['system.Everyone']`
    pub fn message(&self) -> String {
        self.to_string()
    }
}

struct PyList<'a>(&'a [String]);

impl fmt::Display for PyList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{p:?}")?;
        }
        f.write_str("]")
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.allowed {
            "ACLAllowed"
        } else {
            "ACLDenied"
        };
        write!(f, "{kind} permission {:?} via ACE ", self.permission)?;
        match &self.outcome {
            Ok(m) => write!(
                f,
                "{} (entry {}) in ACL {} at {:?}",
                m.ace, m.ace_index, m.acl, m.acl_location
            )?,
            Err(DefaultDeny::NoAcl) => f.write_str(
                "'<default deny>' in ACL '<No ACL found on any object in resource lineage>'",
            )?,
            Err(DefaultDeny::NoMatch { searched }) => write!(
                f,
                "'<default deny>': no entry matched in the ACLs at {}",
                PyList(searched)
            )?,
            Err(DefaultDeny::LineageTooDeep) => write!(
                f,
                "'<default deny>': the resource lineage is deeper than {} (a parent cycle?)",
                crate::resource::MAX_LINEAGE_DEPTH
            )?,
        }
        write!(
            f,
            " on context {:?} for principals {}",
            self.context,
            PyList(&self.principals)
        )
    }
}
