//! Application-defined predicates.

use std::fmt;

use super::message::render;
use crate::identity::Identity;

/// A predicate defined by the application, TurboGears' `Predicate` subclass.
///
/// Wrap it with [`Predicate::custom`](super::Predicate::custom) to combine it with the
/// built-ins. It must be pure: whatever it needs besides the [`Identity`] (the date, the
/// client address, ...) is given to it when it is built. Its [`message`](Self::message)
/// describes the condition and may use placeholders filled by
/// [`placeholder`](Self::placeholder); [`name`](Self::name) and
/// [`arguments`](Self::arguments) give its text form, which [`Parser::custom`](super::Parser::custom)
/// can parse back.
///
/// TurboGears' `is_month`, with the current month injected instead of read from a clock:
///
/// ```
/// use std::sync::Arc;
/// use portcullis_authz::identity::Identity;
/// use portcullis_authz::predicate::{CustomPredicate, Predicate, Status, all, any, has_permission};
///
/// /// "The current month must be %(right_month)s"
/// #[derive(Debug)]
/// struct IsMonth {
///     right_month: u8,
///     current_month: u8, // injected: from the request's clock, never read here
/// }
///
/// impl CustomPredicate for IsMonth {
///     fn name(&self) -> &str { "is_month" }
///     fn arguments(&self) -> Vec<String> { vec![self.right_month.to_string()] }
///     fn message(&self) -> &str { "The current month must be {right_month}" }
///     fn placeholder(&self, name: &str) -> Option<String> {
///         (name == "right_month").then(|| self.right_month.to_string())
///     }
///     fn is_met(&self, _identity: &Identity) -> bool {
///         self.current_month == self.right_month
///     }
/// }
///
/// // "Anyone granted the 'release' permission may release a version of Ubuntu,
/// //  if and only if it's April or October."
/// let release_ubuntu = |current_month| {
///     let is_month = |right_month| {
///         Predicate::custom(Arc::new(IsMonth { right_month, current_month }))
///     };
///     all([has_permission("release"), any([is_month(4), is_month(10)])])
/// };
///
/// let releaser = Identity::user("mark").with_permissions(["release"]);
/// assert!(release_ubuntu(4).is_met(&releaser));
/// assert!(release_ubuntu(10).is_met(&releaser));
///
/// let verdict = release_ubuntu(6).evaluate(&releaser);
/// assert_eq!(verdict.status(), Status::Forbidden);
/// assert_eq!(
///     verdict.message(),
///     Some("At least one of the following predicates must be met: \
///           The current month must be 4, The current month must be 10")
/// );
/// assert_eq!(
///     release_ubuntu(6).to_string(),
///     r#"all(has_permission("release"), any(is_month("4"), is_month("10")))"#
/// );
/// ```
pub trait CustomPredicate: fmt::Debug + Send + Sync {
    /// The name in the text form, such as `is_month`: an ASCII letter or `_` followed by
    /// ASCII letters, digits and `_`, other than a built-in's name and `msg`.
    fn name(&self) -> &str;

    /// The string arguments in the text form (none by default).
    fn arguments(&self) -> Vec<String> {
        Vec::new()
    }

    /// The default message, describing the condition; it may contain `{placeholders}`.
    fn message(&self) -> &str;

    /// The value of a placeholder of the message (a custom message given with
    /// `with_message` included), or `None` to leave `{name}` as written.
    fn placeholder(&self, name: &str) -> Option<String> {
        let _ = name;
        None
    }

    /// True when `identity` meets the condition.
    fn is_met(&self, identity: &Identity) -> bool;
}

/// Custom predicates are equal when their text forms (name and arguments) are.
impl PartialEq for dyn CustomPredicate {
    fn eq(&self, other: &Self) -> bool {
        self.name() == other.name() && self.arguments() == other.arguments()
    }
}

impl Eq for dyn CustomPredicate {}

pub(super) fn unmet(
    c: &dyn CustomPredicate,
    custom: Option<&str>,
    id: &Identity,
) -> Option<String> {
    (!c.is_met(id)).then(|| render(custom.unwrap_or(c.message()), |name| c.placeholder(name)))
}
