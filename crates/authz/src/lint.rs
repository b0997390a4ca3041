//! ACL lint: entries that can never take effect, duplicates, grants nobody requires.
//!
//! ```
//! use portcullis_authz::{Acl, ResourceTree};
//! use portcullis_authz::lint::{lint, FindingKind};
//!
//! let tree = ResourceTree::builder()
//!     .acl("/", Acl::new()
//!         .allow("system.Everyone", "view")
//!         .allow("group:staff", "publish") // no route requires `publish`
//!         .deny_all()
//!         .allow("bob", "edit"))           // after DENY_ALL: dead
//!     .build()?;
//! let findings = lint(&tree, Some(&["view", "edit"]));
//! assert_eq!(findings.len(), 2);
//! assert!(matches!(&findings[0].kind, FindingKind::NeverRequired { permission } if permission == "publish"));
//! assert!(matches!(findings[1].kind, FindingKind::AfterDenyAll { deny_all_index: 2 }));
//! assert_eq!(
//!     findings[1].to_string(),
//!     "/: entry 3 ('Allow', 'bob', 'edit') can never take effect: it follows DENY_ALL (entry 2)"
//! );
//! # Ok::<(), portcullis_authz::tree::TreeError>(())
//! ```

use std::fmt;

use crate::ace::{Ace, Permissions};
use crate::principal::EVERYONE;
use crate::tree::ResourceTree;

/// One problem found in a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The resource whose ACL holds the entry.
    pub path: String,
    /// The entry's index in that ACL.
    pub ace_index: usize,
    /// The entry.
    pub ace: Ace,
    /// What is wrong with it.
    pub kind: FindingKind,
}

/// What is wrong with an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FindingKind {
    /// The entry comes after `DENY_ALL` in the same ACL: it can never take effect.
    AfterDenyAll {
        /// Index of the `DENY_ALL` entry.
        deny_all_index: usize,
    },
    /// The entry repeats an earlier one of the same ACL exactly.
    Duplicate {
        /// Index of the earlier, identical entry.
        first_index: usize,
    },
    /// Every permission of the entry is already decided, for its principal, by earlier
    /// entries of the same ACL (for the same principal, or for `system.Everyone`, which every
    /// request has): it can never take effect.
    Shadowed {
        /// Indexes of the earlier entries that decide instead.
        by: Vec<usize>,
    },
    /// The entry grants a permission that no route requires (given the required list).
    NeverRequired {
        /// The permission nobody requires.
        permission: String,
    },
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: entry {} {} ", self.path, self.ace_index, self.ace)?;
        match &self.kind {
            FindingKind::AfterDenyAll { deny_all_index } => write!(
                f,
                "can never take effect: it follows DENY_ALL (entry {deny_all_index})"
            ),
            FindingKind::Duplicate { first_index } => {
                write!(f, "duplicates entry {first_index}")
            }
            FindingKind::Shadowed { by } => {
                let by: Vec<String> = by.iter().map(ToString::to_string).collect();
                write!(
                    f,
                    "can never take effect: earlier entries ({}) decide all its permissions for its principal",
                    by.join(", ")
                )
            }
            FindingKind::NeverRequired { permission } => {
                write!(f, "grants `{permission}`, which no route requires")
            }
        }
    }
}

/// Lints every ACL of `tree`. With `required`, also reports grants of permissions not in it
/// (`ALL_PERMISSIONS` grants are never reported: they are meant to cover everything).
pub fn lint(tree: &ResourceTree, required: Option<&[&str]>) -> Vec<Finding> {
    let mut out = Vec::new();
    for (path, spec) in tree.resources() {
        if let Some(acl) = &spec.acl {
            lint_acl(path, acl.entries(), required, &mut out);
        }
    }
    out
}

/// Lints one ACL (entries in order) found at `path`.
pub fn lint_acl(path: &str, entries: &[Ace], required: Option<&[&str]>, out: &mut Vec<Finding>) {
    let mut deny_all: Option<usize> = None;
    for (j, ace) in entries.iter().enumerate() {
        let finding = |kind| Finding {
            path: path.to_owned(),
            ace_index: j,
            ace: ace.clone(),
            kind,
        };
        if let Some(d) = deny_all {
            out.push(finding(FindingKind::AfterDenyAll { deny_all_index: d }));
            continue;
        }
        let earlier = entries.get(..j).unwrap_or(&[]);
        if let Some(first) = earlier.iter().position(|e| e == ace) {
            out.push(finding(FindingKind::Duplicate { first_index: first }));
        } else if let Some(by) = shadowed_by(ace, earlier) {
            out.push(finding(FindingKind::Shadowed { by }));
        } else if let (Some(required), crate::ace::Action::Allow) = (required, ace.action) {
            for p in ace.permissions.names() {
                if !required.contains(&p.as_str()) {
                    out.push(finding(FindingKind::NeverRequired {
                        permission: p.clone(),
                    }));
                }
            }
        }
        if ace.is_deny_all() {
            deny_all = Some(j);
        }
    }
}

/// The earlier entries that together decide every permission of `ace` for its principal.
fn shadowed_by(ace: &Ace, earlier: &[Ace]) -> Option<Vec<usize>> {
    let applies = |e: &Ace| e.principal == ace.principal || e.principal == EVERYONE;
    let mut by = Vec::new();
    match &ace.permissions {
        Permissions::All => {
            let i = earlier
                .iter()
                .position(|e| applies(e) && e.permissions.is_all())?;
            by.push(i);
        }
        named => {
            for p in named.names() {
                let i = earlier
                    .iter()
                    .position(|e| applies(e) && e.permissions.contains(p))?;
                if !by.contains(&i) {
                    by.push(i);
                }
            }
        }
    }
    by.sort_unstable();
    Some(by)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acl::Acl;

    fn run(acl: Acl, required: Option<&[&str]>) -> Vec<FindingKind> {
        let mut out = Vec::new();
        lint_acl("/", acl.entries(), required, &mut out);
        out.into_iter().map(|f| f.kind).collect()
    }

    #[test]
    fn clean_acl_has_no_findings() {
        let acl = Acl::new()
            .allow("bob", "edit")
            .allow("alice", ["edit", "view"])
            .deny_all();
        assert!(run(acl, Some(&["edit", "view"])).is_empty());
    }

    #[test]
    fn shadowing_by_same_principal_and_everyone() {
        let acl = Acl::new()
            .deny("bob", "edit")
            .allow("bob", ["edit"])
            .allow("system.Everyone", "view")
            .allow("carol", "view")
            .allow("carol", ["view", "add"]);
        assert_eq!(
            run(acl, None),
            vec![
                FindingKind::Shadowed { by: vec![0] },
                FindingKind::Shadowed { by: vec![2] }
            ]
        );
    }

    #[test]
    fn partly_shadowed_is_fine() {
        let acl = Acl::new()
            .deny("bob", "edit")
            .allow("bob", ["edit", "view"]);
        assert!(run(acl, None).is_empty());
    }

    #[test]
    fn all_permissions_shadowing() {
        let acl = Acl::new()
            .allow("bob", "ALL_PERMISSIONS")
            .deny("bob", "edit")
            .deny("bob", "ALL_PERMISSIONS");
        assert_eq!(
            run(acl, None),
            vec![
                FindingKind::Shadowed { by: vec![0] },
                FindingKind::Shadowed { by: vec![0] }
            ]
        );
    }

    #[test]
    fn duplicates_and_after_deny_all() {
        let acl = Acl::new()
            .allow("bob", "edit")
            .allow("bob", "edit")
            .deny_all()
            .allow("x", "y");
        assert_eq!(
            run(acl, None),
            vec![
                FindingKind::Duplicate { first_index: 0 },
                FindingKind::AfterDenyAll { deny_all_index: 2 }
            ]
        );
    }

    #[test]
    fn never_required() {
        let acl = Acl::new()
            .allow("bob", ["edit", "publish"])
            .deny("eve", "nuke")
            .allow("g", "ALL_PERMISSIONS");
        assert_eq!(
            run(acl, Some(&["edit"])),
            vec![FindingKind::NeverRequired {
                permission: "publish".into()
            }]
        );
    }
}
