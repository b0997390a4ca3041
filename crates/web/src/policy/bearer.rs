//! Bearer API tokens from the store.

use http::HeaderValue;
use http::request::Parts;
use portcullis_store::Store;

use super::{BoxFuture, Claim, PolicyError, SecurityPolicy, authorization};

/// Identifies requests by `Authorization: Bearer TOKEN`, an API token created with
/// `portcullis token create` (stored hashed; revoked and expired tokens identify nobody).
#[derive(Debug, Clone)]
pub struct BearerPolicy {
    store: Store,
}

impl BearerPolicy {
    /// Checks tokens with `store`.
    pub fn new(store: Store) -> BearerPolicy {
        BearerPolicy { store }
    }
}

impl SecurityPolicy for BearerPolicy {
    fn name(&self) -> &'static str {
        "bearer"
    }

    fn identify<'a>(&'a self, req: &'a Parts) -> BoxFuture<'a, Result<Option<Claim>, PolicyError>> {
        Box::pin(async move {
            let Some(token) =
                authorization(req, "Bearer").filter(|t| !t.is_empty() && t.len() <= 512)
            else {
                return Ok(None);
            };
            match self.store.authenticate_api_token(token).await {
                Ok(Some(user)) => Ok(Some(Claim::new(user.id.to_string(), "bearer"))),
                Ok(None) => Ok(None),
                Err(e) => Err(PolicyError {
                    policy: "bearer",
                    message: e.to_string(),
                }),
            }
        })
    }

    fn remember<'a>(
        &'a self,
        _req: &'a Parts,
        _userid: &'a str,
    ) -> BoxFuture<'a, Result<Vec<(http::HeaderName, HeaderValue)>, PolicyError>> {
        Box::pin(async { Ok(Vec::new()) })
    }

    fn forget<'a>(
        &'a self,
        _req: &'a Parts,
    ) -> BoxFuture<'a, Result<Vec<(http::HeaderName, HeaderValue)>, PolicyError>> {
        Box::pin(async { Ok(Vec::new()) })
    }

    fn challenge(&self) -> Option<HeaderValue> {
        Some(HeaderValue::from_static("Bearer realm=\"portcullis\""))
    }
}
