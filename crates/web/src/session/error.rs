//! Session errors ([`SessionError`]).

/// Why a session operation failed. An unknown, expired or malformed session cookie is
/// *not* an error (it is "no session"); these are failures of the machinery or of the
/// configuration.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The SQL backend failed.
    #[error("session store: {0}")]
    Store(#[from] portcullis_store::StoreError),
    /// The Redis backend failed (connection, command or script error).
    #[error("redis session store: {0}")]
    Redis(String),
    /// A stored session could not be decoded.
    #[error("corrupt session record: {0}")]
    Corrupt(String),
    /// The operating system's random number generator failed.
    #[error("cannot read random bytes from the operating system: {0}")]
    Random(String),
    /// The session was deleted or expired while the request used it (logout
    /// elsewhere, a revocation); it is not re-created. Treat the request as anonymous
    /// and send [`super::SessionManager::expire_cookie`].
    #[error("the session no longer exists")]
    Gone,
    /// The session configuration is inconsistent.
    #[error("invalid session configuration: {0}")]
    Config(String),
    /// A session value could not be serialized or deserialized.
    #[error("session value `{key}`: {reason}")]
    Value {
        /// The data key.
        key: String,
        /// The serde error.
        reason: String,
    },
}
