//! The store's use of the [`crate::password`] module: policy, hashing, verification.

use crate::error::{Result, StoreError};
use crate::store::Store;

pub(crate) struct Outcome {
    pub(crate) matched: bool,
    pub(crate) needs_rehash: bool,
}

/// Checks a new password against the policy (with the username as context) and hashes it.
pub(crate) async fn hash_new(store: &Store, password: &str, username: &str) -> Result<String> {
    store
        .inner
        .policy
        .check(password, &[username])
        .map_err(StoreError::PasswordPolicy)?;
    rehash(store, password).await
}

/// Hashes a password that was just verified (no policy check: it is the user's current one).
pub(crate) async fn rehash(store: &Store, password: &str) -> Result<String> {
    Ok(store.inner.hasher.hash(password).await?.into_string())
}

pub(crate) async fn verify(store: &Store, password: &str, hash: &str) -> Result<Outcome> {
    let v = store.inner.hasher.verify(password, hash).await?;
    Ok(Outcome {
        matched: v.is_match(),
        needs_rehash: v.needs_rehash(),
    })
}

pub(crate) async fn dummy(store: &Store, password: &str) {
    let _ = store.inner.hasher.dummy_verify(password).await;
}
