//! The compound predicates: `not`, `all` and `any`.

use super::message::{self, LIST_SEPARATOR, render, render1};
use super::{Predicate, PredicateKind};
use crate::identity::Identity;

/// Met when `predicate` is not met.
///
/// Default message: `The condition must not be met`.
///
/// ```
/// use portcullis_authz::identity::Identity;
/// use portcullis_authz::predicate::{is_user, not};
///
/// let p = not(is_user("bob"));
/// assert!(p.is_met(&Identity::user("alice")));
/// assert_eq!(p.evaluate(&Identity::user("bob")).message(), Some("The condition must not be met"));
/// ```
pub fn not(predicate: Predicate) -> Predicate {
    Predicate::new(PredicateKind::Not(Box::new(predicate)))
}

/// Met when every one of `predicates` is met; they are checked in order and the first
/// failure's message is the message (unless replaced). `all` of nothing is met.
///
/// ```
/// use portcullis_authz::identity::Identity;
/// use portcullis_authz::predicate::{all, has_permission, in_group};
///
/// let p = all([in_group("qa"), has_permission("release")]);
/// let id = Identity::user("bob").with_groups(["qa"]);
/// assert_eq!(
///     p.evaluate(&id).message(),
///     Some(r#"The user must have the "release" permission"#)
/// );
/// ```
pub fn all(predicates: impl IntoIterator<Item = Predicate>) -> Predicate {
    Predicate::new(PredicateKind::All(predicates.into_iter().collect()))
}

/// Met when at least one of `predicates` is met. `any` of nothing is not met.
///
/// Default message: `At least one of the following predicates must be met:
/// {failed_predicates}`, the failing children's messages joined with `", "`.
///
/// ```
/// use portcullis_authz::identity::Identity;
/// use portcullis_authz::predicate::{any, has_permission, is_user};
///
/// let p = any([is_user("root"), has_permission("manage")]);
/// assert_eq!(
///     p.evaluate(&Identity::user("bob")).message(),
///     Some(concat!(
///         "At least one of the following predicates must be met: ",
///         r#"The current user must be "root", The user must have the "manage" permission"#
///     ))
/// );
/// ```
pub fn any(predicates: impl IntoIterator<Item = Predicate>) -> Predicate {
    Predicate::new(PredicateKind::Any(predicates.into_iter().collect()))
}

pub(super) fn unmet_not(inner: &Predicate, custom: Option<&str>, id: &Identity) -> Option<String> {
    inner
        .is_met(id)
        .then(|| render(custom.unwrap_or(message::NOT), |_| None))
}

pub(super) fn unmet_all(
    predicates: &[Predicate],
    custom: Option<&str>,
    id: &Identity,
) -> Option<String> {
    match custom {
        // The children's messages are not needed: skip building them.
        Some(template) => {
            (!predicates.iter().all(|p| p.is_met(id))).then(|| render(template, |_| None))
        }
        None => predicates.iter().find_map(|p| p.unmet(id)),
    }
}

pub(super) fn unmet_any(
    predicates: &[Predicate],
    custom: Option<&str>,
    id: &Identity,
) -> Option<String> {
    let mut failed = Vec::with_capacity(predicates.len());
    for p in predicates {
        failed.push(p.unmet(id)?);
    }
    Some(render1(
        custom.unwrap_or(message::ANY),
        "failed_predicates",
        &failed.join(LIST_SEPARATOR),
    ))
}
