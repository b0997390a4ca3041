//! TurboGears-style predicates: conditions an [`Identity`] must meet.
//!
//! A predicate is "the condition that must be met for the user to be able to access the
//! requested resource" (TurboGears' `tg.predicates`). It may be made of other predicates
//! ([`not`], [`all`], [`any`]): a *compound* predicate. Every predicate carries a message that
//! *describes the condition* ("Only administrators can delete user accounts"), not what went
//! wrong, because the same message ends up in logs as well as in front of users.
//!
//! ```
//! use portcullis_authz::identity::Identity;
//! use portcullis_authz::predicate::{Predicate, Status, any, has_permission, is_user};
//!
//! let p = any([is_user("root"), has_permission("manage")])
//!     .with_message("Only administrators can remove blog posts");
//!
//! let root = Identity::user("root");
//! assert!(p.evaluate(&root).is_met());
//!
//! let bob = Identity::user("bob").with_permissions(["read"]);
//! let verdict = p.evaluate(&bob);
//! assert_eq!(verdict.status(), Status::Forbidden);
//! assert_eq!(verdict.status().code(), 403);
//! assert_eq!(verdict.message(), Some("Only administrators can remove blog posts"));
//!
//! // Anonymous users are asked to log in: 401.
//! assert_eq!(p.evaluate(&Identity::anonymous()).status().code(), 401);
//!
//! // The same predicate, as text (for configuration files and the CLI):
//! let parsed: Predicate = r#"any(is_user("root"), has_permission("manage"),
//!                               msg="Only administrators can remove blog posts")"#.parse()?;
//! assert_eq!(parsed, p);
//! assert_eq!(parsed.to_string(), r#"any(is_user("root"), has_permission("manage"), msg="Only administrators can remove blog posts")"#);
//! # Ok::<(), portcullis_authz::predicate::ParseError>(())
//! ```
//!
//! # Built-in predicates and their messages
//!
//! | Predicate | Met when | Default message |
//! |---|---|---|
//! | [`not_anonymous()`] | somebody is logged in | `The current user must have been authenticated` |
//! | [`is_anonymous()`] | nobody is logged in | `The current user must be anonymous` |
//! | [`is_user`]`(u)` | the user id is `u` | `The current user must be "{user_name}"` |
//! | [`in_group`]`(g)` | the identity is in `g` | `The current user must belong to the group "{group_name}"` |
//! | [`in_all_groups`]`(g…)` | in every `g` | the first failing `in_group`'s message |
//! | [`in_any_group`]`(g…)` | in at least one `g` | `The member must belong to at least one of the following groups: {group_list}` |
//! | [`has_permission`]`(p)` | `p` is granted | `The user must have the "{permission_name}" permission` |
//! | [`has_all_permissions`]`(p…)` | every `p` is granted | the first failing `has_permission`'s message |
//! | [`has_any_permission`]`(p…)` | at least one `p` is granted | `The user must have at least one of the following permissions: {permission_list}` |
//! | [`not`]`(q)` | `q` is not met | `The condition must not be met` |
//! | [`all`]`(q…)` | every `q` is met (checked in order) | the first failing child's message |
//! | [`any`]`(q…)` | at least one `q` is met | `At least one of the following predicates must be met: {failed_predicates}` |
//!
//! Lists are joined with `", "` in the order given: `{group_list}`, `{permission_list}`, and
//! `{failed_predicates}` (the messages of the children of `any`, all of which failed).
//! `all` of no predicates is met and `any` of none is not; the text syntax rejects both.
//!
//! # Custom messages and placeholders
//!
//! [`Predicate::with_message`] (the `msg="…"` keyword in text) replaces the default message of
//! any predicate, compound ones included. A message may use the predicate's placeholders:
//! `{user_name}` (`is_user`), `{group_name}` (`in_group`, and the first missing group of
//! `in_all_groups`), `{group_list}` (`in_all_groups`, `in_any_group`), `{permission_name}`
//! (`has_permission`, and the first missing permission of `has_all_permissions`),
//! `{permission_list}` (`has_all_permissions`, `has_any_permission`) and `{failed_predicates}`
//! (`any`). [Custom predicates](CustomPredicate) define their own. A placeholder the predicate
//! does not define is left as written, and substituted values are never expanded again.
//!
//! Difference from TurboGears: there, the `msg` of `All` (and so of `in_all_groups` and
//! `has_all_permissions`) is never shown, because the failing child raises its own message;
//! here it replaces the child's message, which is what the seed's examples intend.
//!
//! # 401 or 403
//!
//! [`Predicate::evaluate`] returns a [`Verdict`]: [`Verdict::Met`] (status 200), or
//! [`Verdict::NotMet`] with the message and a [`Status`]:
//!
//! * the identity is anonymous: [`Status::Unauthorized`] (401): logging in may fix it, so the
//!   web layer shows the login page, as TurboGears does;
//! * the identity is authenticated: [`Status::Forbidden`] (403), whatever failed.
//!
//! The one failure that logging in cannot fix is `is_anonymous` failing, and it is 403 by the
//! rule above, because `is_anonymous` only fails for an authenticated identity. (A failing
//! `not(…)`, `all(…)` or custom predicate for an anonymous identity is 401: the application
//! cannot know that logging in would not help.)
//!
//! # Custom predicates
//!
//! Implement [`CustomPredicate`] and wrap it with [`Predicate::custom`]; it composes like any
//! built-in. Predicates do no I/O: anything a custom predicate needs besides the identity (the
//! current date, the client's address) is given to it when it is built, per request. See
//! [`CustomPredicate`] for TurboGears' `is_month`, and [`Parser::custom`] to make a custom
//! predicate available in the text syntax.
//!
//! # Text syntax
//!
//! [`Predicate`] implements [`FromStr`](std::str::FromStr) and [`Display`](std::fmt::Display);
//! the printed form parses back to an equal predicate. The grammar (whitespace, including
//! newlines, is allowed between any two tokens):
//!
//! ```text
//! predicate  = name "(" [ arguments ] ")"
//! arguments  = argument { "," argument } [ "," message ]
//!            | message
//! argument   = predicate                       (* of not, all, any *)
//!            | string                          (* of every other predicate *)
//! message    = "msg" "=" string
//! name       = "not_anonymous" | "is_anonymous" | "is_user" | "in_group"
//!            | "in_all_groups" | "in_any_group" | "has_permission"
//!            | "has_all_permissions" | "has_any_permission"
//!            | "not" | "all" | "any"           (* or a name registered with Parser::custom *)
//! string     = '"' { any character but '"' and '\' | '\"' | '\\' } '"'
//! ```
//!
//! Arity: `not_anonymous` and `is_anonymous` take no argument; `is_user`, `in_group` and
//! `has_permission` exactly one string; `in_all_groups`, `in_any_group`,
//! `has_all_permissions` and `has_any_permission` one or more strings; `not` exactly one
//! predicate; `all` and `any` one or more predicates. There is no trailing comma. A string may
//! contain any character, a newline included, and `\"` and `\\` are its only escapes.
//!
//! Input is limited to [`MAX_EXPRESSION_LEN`] bytes and [`MAX_DEPTH`] levels of nesting, so
//! hostile input cannot exhaust the stack. A [`ParseError`] gives the byte offset, the line and
//! column (1-based, columns counted in characters) and what was expected:
//!
//! ```
//! use portcullis_authz::predicate::Predicate;
//!
//! let err = r#"all(in_group("a") x)"#.parse::<Predicate>().unwrap_err();
//! assert_eq!(err.to_string(), "expected `,` or `)` at 1:19, found `x` (byte 18)");
//! assert_eq!((err.offset(), err.line(), err.column()), (18, 1, 19));
//! ```
//!
//! Predicates built through the API are not depth-limited: evaluating, printing or dropping a
//! predicate nested hundreds of thousands of levels deep may overflow the stack.

mod builtin;
mod compound;
mod custom;
mod display;
mod error;
mod message;
mod parse;
mod verdict;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use crate::identity::Identity;

pub use builtin::{
    has_all_permissions, has_any_permission, has_permission, in_all_groups, in_any_group, in_group,
    is_anonymous, is_user, not_anonymous,
};
pub use compound::{all, any, not};
pub use custom::CustomPredicate;
pub use error::{ParseError, ParseErrorKind};
pub use parse::{MAX_DEPTH, MAX_EXPRESSION_LEN, Parser};
pub use verdict::{NotMet, Status, Verdict};

/// A condition on an [`Identity`], with an optional custom message.
///
/// Build one with the functions of this module ([`in_group`], [`all`], …), with
/// [`Predicate::custom`], or by parsing text. It is cheap to clone (custom predicates are
/// shared), `Send` and `Sync`.
///
/// Two predicates are equal when they have the same structure, arguments and custom message;
/// custom predicates compare by [name](CustomPredicate::name) and
/// [arguments](CustomPredicate::arguments), that is by their text form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Predicate {
    kind: PredicateKind,
    message: Option<String>,
}

/// What a [`Predicate`] checks. See the [module documentation](self) for each one's meaning.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PredicateKind {
    /// `not_anonymous()`: somebody is logged in.
    NotAnonymous,
    /// `is_anonymous()`: nobody is logged in.
    IsAnonymous,
    /// `is_user(user_name)`: the user id is this one.
    IsUser(String),
    /// `in_group(group_name)`: the identity belongs to this group.
    InGroup(String),
    /// `in_all_groups(group…)`: the identity belongs to every group.
    InAllGroups(Vec<String>),
    /// `in_any_group(group…)`: the identity belongs to at least one group.
    InAnyGroup(Vec<String>),
    /// `has_permission(permission_name)`: the permission is granted.
    HasPermission(String),
    /// `has_all_permissions(permission…)`: every permission is granted.
    HasAllPermissions(Vec<String>),
    /// `has_any_permission(permission…)`: at least one permission is granted.
    HasAnyPermission(Vec<String>),
    /// `not(predicate)`: the inner predicate is not met.
    Not(Box<Predicate>),
    /// `all(predicate…)`: every predicate is met.
    All(Vec<Predicate>),
    /// `any(predicate…)`: at least one predicate is met.
    Any(Vec<Predicate>),
    /// An application-defined predicate.
    Custom(Arc<dyn CustomPredicate>),
}

impl Predicate {
    fn new(kind: PredicateKind) -> Predicate {
        Predicate {
            kind,
            message: None,
        }
    }

    /// Wraps an application-defined predicate so that it composes with the built-ins.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use portcullis_authz::identity::Identity;
    /// use portcullis_authz::predicate::{CustomPredicate, Predicate, all, not_anonymous};
    ///
    /// /// Met for user ids of at most `max` characters.
    /// #[derive(Debug)]
    /// struct ShortName { max: usize }
    ///
    /// impl CustomPredicate for ShortName {
    ///     fn name(&self) -> &str { "short_name" }
    ///     fn arguments(&self) -> Vec<String> { vec![self.max.to_string()] }
    ///     fn message(&self) -> &str { "The user name must have at most {max} characters" }
    ///     fn placeholder(&self, name: &str) -> Option<String> {
    ///         (name == "max").then(|| self.max.to_string())
    ///     }
    ///     fn is_met(&self, identity: &Identity) -> bool {
    ///         identity.user_id().is_some_and(|u| u.chars().count() <= self.max)
    ///     }
    /// }
    ///
    /// let p = all([not_anonymous(), Predicate::custom(Arc::new(ShortName { max: 3 }))]);
    /// assert!(p.is_met(&Identity::user("bob")));
    /// assert_eq!(
    ///     p.evaluate(&Identity::user("robert")).message(),
    ///     Some("The user name must have at most 3 characters")
    /// );
    /// assert_eq!(p.to_string(), r#"all(not_anonymous(), short_name("3"))"#);
    /// ```
    pub fn custom(predicate: Arc<dyn CustomPredicate>) -> Predicate {
        Predicate::new(PredicateKind::Custom(predicate))
    }

    /// Replaces the default message (TurboGears' `msg=` keyword). The message may use the
    /// predicate's placeholders, such as `{group_name}`; see the [module documentation](self).
    ///
    /// ```
    /// use portcullis_authz::identity::Identity;
    /// use portcullis_authz::predicate::in_group;
    ///
    /// let p = in_group("admins").with_message("Only {group_name} can delete user accounts");
    /// assert_eq!(
    ///     p.evaluate(&Identity::user("bob")).message(),
    ///     Some("Only admins can delete user accounts")
    /// );
    /// ```
    #[must_use]
    pub fn with_message(mut self, message: impl Into<String>) -> Predicate {
        self.message = Some(message.into());
        self
    }

    /// The custom message given with [`with_message`](Predicate::with_message), if any
    /// (placeholders not substituted).
    pub fn custom_message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// What this predicate checks.
    pub fn kind(&self) -> &PredicateKind {
        &self.kind
    }

    /// Checks the predicate against `identity`: met, or not met with the message and whether
    /// the failure is 401 (anonymous) or 403 (authenticated).
    ///
    /// ```
    /// use portcullis_authz::identity::Identity;
    /// use portcullis_authz::predicate::{Status, has_permission};
    ///
    /// let p = has_permission("release");
    /// let v = p.evaluate(&Identity::anonymous());
    /// assert!(!v.is_met());
    /// assert_eq!(v.status(), Status::Unauthorized);
    /// assert_eq!(v.message(), Some(r#"The user must have the "release" permission"#));
    /// ```
    pub fn evaluate(&self, identity: &Identity) -> Verdict {
        match self.unmet(identity) {
            None => Verdict::Met,
            Some(message) => Verdict::NotMet(NotMet::new(message, identity)),
        }
    }

    /// True when the predicate is met by `identity` (no message is built).
    pub fn is_met(&self, identity: &Identity) -> bool {
        match &self.kind {
            PredicateKind::NotAnonymous => !identity.is_anonymous(),
            PredicateKind::IsAnonymous => identity.is_anonymous(),
            PredicateKind::IsUser(u) => identity.user_id() == Some(u.as_str()),
            PredicateKind::InGroup(g) => identity.in_group(g),
            PredicateKind::InAllGroups(gs) => gs.iter().all(|g| identity.in_group(g)),
            PredicateKind::InAnyGroup(gs) => gs.iter().any(|g| identity.in_group(g)),
            PredicateKind::HasPermission(p) => identity.has_permission(p),
            PredicateKind::HasAllPermissions(ps) => ps.iter().all(|p| identity.has_permission(p)),
            PredicateKind::HasAnyPermission(ps) => ps.iter().any(|p| identity.has_permission(p)),
            PredicateKind::Not(p) => !p.is_met(identity),
            PredicateKind::All(ps) => ps.iter().all(|p| p.is_met(identity)),
            PredicateKind::Any(ps) => ps.iter().any(|p| p.is_met(identity)),
            PredicateKind::Custom(c) => c.is_met(identity),
        }
    }

    /// The message of the failure, or `None` when the predicate is met.
    fn unmet(&self, identity: &Identity) -> Option<String> {
        builtin::unmet(&self.kind, self.message.as_deref(), identity)
    }
}

impl std::str::FromStr for Predicate {
    type Err = ParseError;

    /// Parses the [text syntax](self#text-syntax) with the built-in predicates only.
    fn from_str(s: &str) -> Result<Predicate, ParseError> {
        Parser::new().parse(s)
    }
}
