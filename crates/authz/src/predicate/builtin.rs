//! The single (non-compound) built-in predicates of TurboGears.

use super::message::{self, LIST_SEPARATOR, render, render1};
use super::{Predicate, PredicateKind};
use crate::identity::Identity;

/// Met when somebody is logged in.
///
/// Default message: `The current user must have been authenticated`.
///
/// ```
/// use portcullis_authz::identity::Identity;
/// use portcullis_authz::predicate::not_anonymous;
///
/// let p = not_anonymous().with_message("Only logged in users can read this post");
/// assert!(p.is_met(&Identity::user("bob")));
/// let v = p.evaluate(&Identity::anonymous());
/// assert_eq!((v.status().code(), v.message()), (401, Some("Only logged in users can read this post")));
/// ```
pub fn not_anonymous() -> Predicate {
    Predicate::new(PredicateKind::NotAnonymous)
}

/// Met when nobody is logged in (a failure is always 403: the user *is* logged in).
///
/// Default message: `The current user must be anonymous`.
pub fn is_anonymous() -> Predicate {
    Predicate::new(PredicateKind::IsAnonymous)
}

/// Met when the user id is `user_name` (case-sensitive).
///
/// Default message: `The current user must be "{user_name}"`.
///
/// ```
/// use portcullis_authz::identity::Identity;
/// use portcullis_authz::predicate::is_user;
///
/// assert_eq!(
///     is_user("root").evaluate(&Identity::user("bob")).message(),
///     Some(r#"The current user must be "root""#)
/// );
/// ```
pub fn is_user(user_name: impl Into<String>) -> Predicate {
    Predicate::new(PredicateKind::IsUser(user_name.into()))
}

/// Met when the identity belongs to `group_name`.
///
/// Default message: `The current user must belong to the group "{group_name}"`.
pub fn in_group(group_name: impl Into<String>) -> Predicate {
    Predicate::new(PredicateKind::InGroup(group_name.into()))
}

/// Met when the identity belongs to every one of `groups` (met for an empty list).
///
/// Default message: that of [`in_group`] for the first missing group.
///
/// ```
/// use portcullis_authz::identity::Identity;
/// use portcullis_authz::predicate::in_all_groups;
///
/// let p = in_all_groups(["qa", "staff", "ops"]);
/// let id = Identity::user("bob").with_groups(["qa", "ops"]);
/// assert_eq!(
///     p.evaluate(&id).message(),
///     Some(r#"The current user must belong to the group "staff""#)
/// );
/// ```
pub fn in_all_groups<I, S>(groups: I) -> Predicate
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    Predicate::new(PredicateKind::InAllGroups(strings(groups)))
}

/// Met when the identity belongs to at least one of `groups` (never met for an empty list).
///
/// Default message: `The member must belong to at least one of the following groups:
/// {group_list}`.
///
/// ```
/// use portcullis_authz::identity::Identity;
/// use portcullis_authz::predicate::in_any_group;
///
/// assert_eq!(
///     in_any_group(["qa", "ops"]).evaluate(&Identity::user("bob")).message(),
///     Some("The member must belong to at least one of the following groups: qa, ops")
/// );
/// ```
pub fn in_any_group<I, S>(groups: I) -> Predicate
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    Predicate::new(PredicateKind::InAnyGroup(strings(groups)))
}

/// Met when `permission_name` is granted.
///
/// Default message: `The user must have the "{permission_name}" permission`.
pub fn has_permission(permission_name: impl Into<String>) -> Predicate {
    Predicate::new(PredicateKind::HasPermission(permission_name.into()))
}

/// Met when every one of `permissions` is granted (met for an empty list).
///
/// Default message: that of [`has_permission`] for the first missing permission.
pub fn has_all_permissions<I, S>(permissions: I) -> Predicate
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    Predicate::new(PredicateKind::HasAllPermissions(strings(permissions)))
}

/// Met when at least one of `permissions` is granted (never met for an empty list).
///
/// Default message: `The user must have at least one of the following permissions:
/// {permission_list}`.
pub fn has_any_permission<I, S>(permissions: I) -> Predicate
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    Predicate::new(PredicateKind::HasAnyPermission(strings(permissions)))
}

fn strings<I, S>(items: I) -> Vec<String>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    items.into_iter().map(Into::into).collect()
}

/// The failure message of a predicate, or `None` when met. `custom` is the message given
/// with `with_message`. Compound and custom kinds are delegated to their own modules.
pub(super) fn unmet(kind: &PredicateKind, custom: Option<&str>, id: &Identity) -> Option<String> {
    let template = |default: &'static str| custom.unwrap_or(default);
    match kind {
        PredicateKind::Not(p) => super::compound::unmet_not(p, custom, id),
        PredicateKind::All(ps) => super::compound::unmet_all(ps, custom, id),
        PredicateKind::Any(ps) => super::compound::unmet_any(ps, custom, id),
        PredicateKind::Custom(c) => super::custom::unmet(c.as_ref(), custom, id),
        PredicateKind::NotAnonymous => {
            (id.is_anonymous()).then(|| render(template(message::NOT_ANONYMOUS), |_| None))
        }
        PredicateKind::IsAnonymous => {
            (!id.is_anonymous()).then(|| render(template(message::IS_ANONYMOUS), |_| None))
        }
        PredicateKind::IsUser(u) => (id.user_id() != Some(u.as_str()))
            .then(|| render1(template(message::IS_USER), "user_name", u)),
        PredicateKind::InGroup(g) => {
            (!id.in_group(g)).then(|| render1(template(message::IN_GROUP), "group_name", g))
        }
        PredicateKind::InAllGroups(gs) => {
            let missing = gs.iter().find(|g| !id.in_group(g))?;
            Some(render(template(message::IN_GROUP), |name| match name {
                "group_name" => Some(missing.clone()),
                "group_list" => Some(gs.join(LIST_SEPARATOR)),
                _ => None,
            }))
        }
        PredicateKind::InAnyGroup(gs) => (!gs.iter().any(|g| id.in_group(g))).then(|| {
            render1(
                template(message::IN_ANY_GROUP),
                "group_list",
                &gs.join(LIST_SEPARATOR),
            )
        }),
        PredicateKind::HasPermission(p) => (!id.has_permission(p))
            .then(|| render1(template(message::HAS_PERMISSION), "permission_name", p)),
        PredicateKind::HasAllPermissions(ps) => {
            let missing = ps.iter().find(|p| !id.has_permission(p))?;
            Some(render(
                template(message::HAS_PERMISSION),
                |name| match name {
                    "permission_name" => Some(missing.clone()),
                    "permission_list" => Some(ps.join(LIST_SEPARATOR)),
                    _ => None,
                },
            ))
        }
        PredicateKind::HasAnyPermission(ps) => {
            (!ps.iter().any(|p| id.has_permission(p))).then(|| {
                render1(
                    template(message::HAS_ANY_PERMISSION),
                    "permission_list",
                    &ps.join(LIST_SEPARATOR),
                )
            })
        }
    }
}
