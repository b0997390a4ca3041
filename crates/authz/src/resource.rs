//! Location-aware resources and the reference ACL evaluator.
//!
//! Applications implement [`Resource`] for their own objects (a blog post whose parent is its
//! blog, whose parent is the site root), exactly like Pyramid's `__name__`, `__parent__` and
//! `__acl__`. [`permits`] then walks the lineage with Pyramid's rules. It is the plain,
//! obviously-correct evaluator: the path-addressed [`crate::ResourceTree`] compiles its ACLs
//! into a faster index that property tests compare against this one.

use std::borrow::Cow;

use crate::ace::Action;
use crate::acl::Acl;
use crate::decision::{AceMatch, Decision, DefaultDeny};

/// The deepest lineage walked; deeper lineages (a parent cycle) deny with an explanation.
pub const MAX_LINEAGE_DEPTH: usize = 1024;

/// A location-aware resource.
///
/// ```
/// use std::borrow::Cow;
/// use portcullis_authz::{permits, Acl, Resource};
///
/// struct Blog { acl: Acl }
/// struct Post<'a> { blog: &'a Blog, name: String, author: String }
///
/// impl Resource for Blog {
///     fn name(&self) -> &str { "" }
///     fn parent(&self) -> Option<&dyn Resource> { None }
///     fn acl(&self) -> Option<Cow<'_, Acl>> { Some(Cow::Borrowed(&self.acl)) }
/// }
/// impl Resource for Post<'_> {
///     fn name(&self) -> &str { &self.name }
///     fn parent(&self) -> Option<&dyn Resource> { Some(self.blog) }
///     // A dynamic ACL, computed per instance (Pyramid's callable `__acl__`).
///     fn acl(&self) -> Option<Cow<'_, Acl>> {
///         Some(Cow::Owned(Acl::new().allow(self.author.clone(), "edit")))
///     }
/// }
///
/// let blog = Blog { acl: Acl::new().allow("system.Everyone", "view").deny_all() };
/// let post = Post { blog: &blog, name: "hello".into(), author: "alice".into() };
/// assert!(permits(&post, &["system.Everyone", "alice"], "edit").allowed());
/// let d = permits(&post, &["system.Everyone", "bob"], "edit");
/// assert!(!d.allowed());
/// assert_eq!(d.acl_location(), Some("/"));
/// assert_eq!(d.ace_index(), Some(1));
/// assert_eq!(post.location(), "/hello");
/// ```
pub trait Resource {
    /// The resource's name within its parent (`""` for the root).
    fn name(&self) -> &str;

    /// The parent resource, `None` for the root.
    fn parent(&self) -> Option<&dyn Resource>;

    /// The resource's ACL: `None` when it has none (it is skipped), `Some` of an empty ACL when
    /// it has an empty one (also decides nothing). Return `Cow::Owned` to compute it per call.
    fn acl(&self) -> Option<Cow<'_, Acl>>;

    /// The resource's path from the root, as Pyramid's `resource_path`: `/`, `/blog`,
    /// `/blog/2024`.
    fn location(&self) -> String {
        let mut names: Vec<&str> = Vec::new();
        if self.parent().is_some() {
            names.push(self.name());
        }
        let mut cur = self.parent();
        while let Some(r) = cur {
            if names.len() > MAX_LINEAGE_DEPTH {
                break;
            }
            if r.parent().is_some() {
                names.push(r.name());
            }
            cur = r.parent();
        }
        if names.is_empty() {
            return "/".to_owned();
        }
        names.iter().rev().fold(String::new(), |mut s, n| {
            s.push('/');
            s.push_str(n);
            s
        })
    }
}

/// One resource of a lineage, as the evaluators see it.
pub(crate) struct Step<'a> {
    pub(crate) acl: Option<Cow<'a, Acl>>,
    pub(crate) location: Cow<'a, str>,
}

/// Checks `permission` for `principals` on `context` with Pyramid's `ACLHelper.permits` rules:
/// walk from the context to the root, skip resources without an ACL, and let the first entry
/// (in each ACL, in order) whose principal is among `principals` and whose permissions include
/// `permission` decide. If nothing matches anywhere, deny.
pub fn permits<S: AsRef<str>>(
    context: &dyn Resource,
    principals: &[S],
    permission: &str,
) -> Decision {
    let mut cur = Some(context);
    let mut depth = 0;
    let steps = std::iter::from_fn(|| {
        let r = cur?;
        depth += 1;
        cur = if depth >= MAX_LINEAGE_DEPTH {
            None
        } else {
            r.parent()
        };
        Some(Step {
            acl: r.acl(),
            location: Cow::Owned(r.location()),
        })
    });
    let deep = lineage_len(context) > MAX_LINEAGE_DEPTH;
    permits_steps(steps, deep, context.location(), principals, permission)
}

fn lineage_len(context: &dyn Resource) -> usize {
    let mut n = 0;
    let mut cur = Some(context);
    while let Some(r) = cur {
        n += 1;
        if n > MAX_LINEAGE_DEPTH {
            break;
        }
        cur = r.parent();
    }
    n
}

/// The reference evaluator over any lineage (context first).
pub(crate) fn permits_steps<'a, S: AsRef<str>>(
    steps: impl Iterator<Item = Step<'a>>,
    too_deep: bool,
    context: String,
    principals: &[S],
    permission: &str,
) -> Decision {
    let owned_principals: Vec<String> = principals.iter().map(|p| p.as_ref().to_owned()).collect();
    if too_deep {
        return Decision::default_deny(
            permission,
            context,
            owned_principals,
            DefaultDeny::LineageTooDeep,
        );
    }
    let mut searched = Vec::new();
    for step in steps {
        let Some(acl) = step.acl else { continue };
        if let Some((index, ace)) = acl.first_match(principals, permission) {
            let matched = AceMatch {
                ace: ace.clone(),
                ace_index: index,
                acl_location: step.location.into_owned(),
                acl: acl.into_owned(),
            };
            return Decision::by_ace(permission, context, owned_principals, matched);
        }
        searched.push(step.location.into_owned());
    }
    let why = if searched.is_empty() {
        DefaultDeny::NoAcl
    } else {
        DefaultDeny::NoMatch { searched }
    };
    Decision::default_deny(permission, context, owned_principals, why)
}

/// The principals that hold `permission` on `context`, with Pyramid's
/// `principals_allowed_by_permission` semantics: walking from the root down to the context,
/// each ACL adds the principals it allows (unless denied earlier in the same ACL) and removes
/// the ones it denies; a `Deny` of `system.Everyone` clears everything granted above it.
///
/// As in Pyramid, the answer does not account for principals implied by others (a user who is
/// in a group): it lists the principals named in allowing entries. The result is sorted.
pub fn principals_allowed_by_permission(context: &dyn Resource, permission: &str) -> Vec<String> {
    let mut acls: Vec<Option<Cow<'_, Acl>>> = Vec::new();
    let mut cur = Some(context);
    while let Some(r) = cur {
        if acls.len() >= MAX_LINEAGE_DEPTH {
            return Vec::new();
        }
        acls.push(r.acl());
        cur = r.parent();
    }
    acls.reverse();
    allowed_root_first(acls.iter().map(|a| a.as_deref()), permission)
}

/// Pyramid's `principals_allowed_by_permission` over ACLs given root first.
pub(crate) fn allowed_root_first<'a>(
    acls_root_first: impl Iterator<Item = Option<&'a Acl>>,
    permission: &str,
) -> Vec<String> {
    use std::collections::BTreeSet;
    let mut allowed: BTreeSet<String> = BTreeSet::new();
    for acl in acls_root_first {
        let Some(acl) = acl else { continue };
        let mut allowed_here: BTreeSet<&str> = BTreeSet::new();
        let mut denied_here: BTreeSet<&str> = BTreeSet::new();
        for ace in acl.entries() {
            if !ace.permissions.contains(permission) {
                continue;
            }
            match ace.action {
                Action::Allow => {
                    if !denied_here.contains(ace.principal.as_str()) {
                        allowed_here.insert(&ace.principal);
                    }
                }
                Action::Deny => {
                    denied_here.insert(&ace.principal);
                    if ace.principal == crate::principal::EVERYONE {
                        allowed.clear();
                        break;
                    }
                    allowed.remove(ace.principal.as_str());
                }
            }
        }
        allowed.extend(allowed_here.into_iter().map(str::to_owned));
    }
    allowed.into_iter().collect()
}
