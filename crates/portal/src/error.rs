//! The crate's error type.

/// Everything that can go wrong setting up the portal (request errors are answered as
/// JSON envelopes, not returned).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PortalError {
    /// The configuration file or an environment override is invalid.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The configuration file cannot be read.
    #[error("cannot read the configuration file `{path}`: {reason}")]
    ConfigFile {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The identity store failed.
    #[error(transparent)]
    Store(#[from] portcullis_store::StoreError),
    /// The web layer (sessions, secret) failed.
    #[error(transparent)]
    Web(#[from] portcullis_web::Error),
}
