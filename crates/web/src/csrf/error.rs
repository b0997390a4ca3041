//! Why a request failed the CSRF check ([`CsrfError`]).

/// A failed CSRF check: the token is bad, or the request comes from an untrusted
/// origin (Pyramid's `BadCSRFToken` / `BadCSRFOrigin`). Both mean "answer 400"; the
/// kind says which (see [`CsrfError::kind`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsrfError {
    /// No token, no token issued to this client, or a token that does not match.
    #[error("bad csrf token: {0}")]
    BadToken(BadToken),
    /// The `Origin` (or `Referer`) is missing or not trusted.
    #[error("bad csrf origin: {0}")]
    BadOrigin(BadOrigin),
}

/// The two kinds of [`CsrfError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CsrfFailure {
    /// [`CsrfError::BadToken`].
    BadToken,
    /// [`CsrfError::BadOrigin`].
    BadOrigin,
}

impl CsrfError {
    /// Which kind of failure this is.
    pub fn kind(&self) -> CsrfFailure {
        match self {
            CsrfError::BadToken(_) => CsrfFailure::BadToken,
            CsrfError::BadOrigin(_) => CsrfFailure::BadOrigin,
        }
    }
}

/// Why the token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BadToken {
    /// The request carries no token.
    #[error("no token in the `{header}` header or the `{field}` form field")]
    Missing {
        /// The header looked at.
        header: String,
        /// The form field looked at.
        field: String,
    },
    /// No token was ever issued to this client (no session token, no valid CSRF cookie).
    #[error("no token was issued to this client")]
    NotIssued,
    /// The supplied token differs from the issued one.
    #[error("the token does not match")]
    Mismatch,
}

/// Why the origin was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BadOrigin {
    /// An https request with neither `Origin` nor `Referer`.
    #[error("no Origin or Referer header")]
    Missing,
    /// The origin is not https while the request is.
    #[error("`{0}` is not https while the request is")]
    Insecure(String),
    /// The origin could not be parsed (or is `null`).
    #[error("`{0}` is not a valid origin")]
    Malformed(String),
    /// The origin's host is neither the request's host nor a trusted origin.
    #[error("`{0}` does not match any trusted origin")]
    Untrusted(String),
}
