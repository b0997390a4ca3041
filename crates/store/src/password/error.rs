//! Errors of the password module.

use super::HashFormat;

/// Why a password could not be hashed or a stored hash could not be checked.
///
/// A stored hash that cannot be checked is always an error, never a silent mismatch:
/// an import that produced values of an unknown shape must be noticed, not turn into
/// "wrong password" for every user. Messages never contain the password or the stored
/// hash itself (at most the scheme name in front of the first `$`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PasswordError {
    /// The stored value matches none of the supported formats.
    #[error("unrecognized password hash format: {shape}")]
    UnknownFormat {
        /// A description of the value's shape (scheme name or length), not the value.
        shape: String,
    },
    /// The value was recognized as `format` but is not well formed.
    #[error("malformed {format} hash: {reason}")]
    Malformed {
        /// The recognized format.
        format: HashFormat,
        /// What is wrong with it.
        reason: String,
    },
    /// The value was recognized as `format`, but uses a variant this module does not verify.
    #[error("unsupported {format} hash: {reason}")]
    Unsupported {
        /// The recognized format.
        format: HashFormat,
        /// Which variant is not supported.
        reason: String,
    },
    /// A cost parameter is above the configured limit, so checking it could be used to
    /// exhaust the server (see [`VerifyLimits`](super::VerifyLimits)).
    #[error("{format} hash parameter `{parameter}` is {value}, above the limit of {limit}")]
    TooExpensive {
        /// The recognized format.
        format: HashFormat,
        /// The parameter's name (`iterations`, `m`, `cost`, ...).
        parameter: &'static str,
        /// The value found in the stored hash.
        value: u64,
        /// The configured limit.
        limit: u64,
    },
    /// The password is longer than [`MAX_PASSWORD_BYTES`](super::MAX_PASSWORD_BYTES).
    #[error("password is too long: {len} bytes, at most {max} are accepted")]
    PasswordTooLong {
        /// Length of the password in bytes.
        len: usize,
        /// The limit in bytes.
        max: usize,
    },
    /// Invalid argon2 parameters were configured.
    #[error("invalid argon2 parameters: {reason}")]
    InvalidParams {
        /// Which parameter is out of range.
        reason: String,
    },
    /// The operating system's random number generator failed.
    #[error("the system random number generator failed: {reason}")]
    Random {
        /// The error reported by the system.
        reason: String,
    },
    /// The blocking hashing task could not run to completion.
    #[error("the password hashing task failed: {reason}")]
    Task {
        /// Why the task failed.
        reason: String,
    },
}

impl PasswordError {
    pub(crate) fn malformed(format: HashFormat, reason: impl Into<String>) -> Self {
        Self::Malformed {
            format,
            reason: reason.into(),
        }
    }

    pub(crate) fn unsupported(format: HashFormat, reason: impl Into<String>) -> Self {
        Self::Unsupported {
            format,
            reason: reason.into(),
        }
    }

    /// Returns an error when `value > limit`.
    pub(crate) fn check_limit(
        format: HashFormat,
        parameter: &'static str,
        value: u64,
        limit: u64,
    ) -> Result<(), Self> {
        if value > limit {
            Err(Self::TooExpensive {
                format,
                parameter,
                value,
                limit,
            })
        } else {
            Ok(())
        }
    }
}
