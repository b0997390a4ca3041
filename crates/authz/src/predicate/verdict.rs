//! The result of evaluating a predicate.

use std::fmt;

use crate::identity::Identity;

/// The outcome of [`Predicate::evaluate`](super::Predicate::evaluate).
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum Verdict {
    /// The predicate is met (status 200).
    Met,
    /// The predicate is not met.
    NotMet(NotMet),
}

impl Verdict {
    /// True when the predicate is met.
    pub fn is_met(&self) -> bool {
        matches!(self, Verdict::Met)
    }

    /// [`Status::Ok`] when met, otherwise [`Status::Unauthorized`] (anonymous identity) or
    /// [`Status::Forbidden`] (authenticated identity).
    pub fn status(&self) -> Status {
        match self {
            Verdict::Met => Status::Ok,
            Verdict::NotMet(n) => n.status(),
        }
    }

    /// The message of the failed predicate, or `None` when met.
    pub fn message(&self) -> Option<&str> {
        match self {
            Verdict::Met => None,
            Verdict::NotMet(n) => Some(n.message()),
        }
    }

    /// The failure, or `None` when met.
    pub fn not_met(&self) -> Option<&NotMet> {
        match self {
            Verdict::Met => None,
            Verdict::NotMet(n) => Some(n),
        }
    }
}

/// A predicate that is not met: its message and whether logging in may help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotMet {
    message: String,
    status: Status,
}

impl NotMet {
    pub(super) fn new(message: String, identity: &Identity) -> NotMet {
        // The rule of the module docs: anonymous → 401, authenticated → 403. A failing
        // `is_anonymous` (the one failure logging in cannot fix) only happens when
        // authenticated, so it is always 403.
        let status = if identity.is_anonymous() {
            Status::Unauthorized
        } else {
            Status::Forbidden
        };
        NotMet { message, status }
    }

    /// The message describing the condition that is not met.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// [`Status::Unauthorized`] or [`Status::Forbidden`].
    pub fn status(&self) -> Status {
        self.status
    }

    /// True when the identity was anonymous, so that logging in may help (401).
    pub fn is_unauthenticated(&self) -> bool {
        self.status == Status::Unauthorized
    }

    /// Takes the message.
    pub fn into_message(self) -> String {
        self.message
    }
}

impl fmt::Display for NotMet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// What a verdict means for an HTTP response, without depending on an HTTP crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// 200: the predicate is met.
    Ok,
    /// 401: not met and nobody is logged in; the web layer offers the login page.
    Unauthorized,
    /// 403: not met although (or because) somebody is logged in.
    Forbidden,
}

impl Status {
    /// The HTTP status code: 200, 401 or 403.
    ///
    /// ```
    /// use portcullis_authz::predicate::Status;
    /// assert_eq!(Status::Unauthorized.code(), 401);
    /// ```
    pub const fn code(self) -> u16 {
        match self {
            Status::Ok => 200,
            Status::Unauthorized => 401,
            Status::Forbidden => 403,
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code())
    }
}
