//! [`ForwardAuthError`]: why forward auth cannot be set up.

use portcullis_authz::policy_file::PolicyFileError;

/// Why a [`super::ForwardAuth`] cannot be built (requests are answered, never returned as
/// errors).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ForwardAuthError {
    /// The policy file cannot be read.
    #[error("cannot read the policy file `{path}`: {reason}")]
    PolicyRead {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The policy is invalid: `file:line:column: message` where known.
    #[error(transparent)]
    Policy(#[from] PolicyFileError),
    /// The authorizer refused the policy for another reason.
    #[error("invalid policy: {0}")]
    Authorizer(String),
}
