//! Several policies, tried in order.

use std::sync::Arc;

use http::HeaderValue;
use http::request::Parts;

use super::{BoxFuture, Claim, PolicyError, SecurityPolicy};

/// Tries its policies in order; the first that identifies the request wins. `remember` uses
/// the first policy (put the one browsers log in with first, e.g. tickets or sessions);
/// `forget` asks every policy, so logging out clears every cookie.
#[derive(Clone, Default)]
pub struct PolicyChain {
    policies: Vec<Arc<dyn SecurityPolicy>>,
}

impl std::fmt::Debug for PolicyChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.policies.iter().map(|p| p.name()).collect();
        f.debug_struct("PolicyChain")
            .field("policies", &names)
            .finish()
    }
}

impl PolicyChain {
    /// An empty chain (identifies nobody).
    pub fn new() -> PolicyChain {
        PolicyChain::default()
    }

    /// Appends a policy.
    #[must_use]
    pub fn with(mut self, policy: impl SecurityPolicy) -> PolicyChain {
        self.policies.push(Arc::new(policy));
        self
    }

    /// Appends a shared policy.
    #[must_use]
    pub fn with_shared(mut self, policy: Arc<dyn SecurityPolicy>) -> PolicyChain {
        self.policies.push(policy);
        self
    }
}

impl SecurityPolicy for PolicyChain {
    fn name(&self) -> &'static str {
        "chain"
    }

    fn identify<'a>(&'a self, req: &'a Parts) -> BoxFuture<'a, Result<Option<Claim>, PolicyError>> {
        Box::pin(async move {
            for p in &self.policies {
                if let Some(claim) = p.identify(req).await? {
                    return Ok(Some(claim));
                }
            }
            Ok(None)
        })
    }

    fn remember<'a>(
        &'a self,
        req: &'a Parts,
        userid: &'a str,
    ) -> BoxFuture<'a, Result<Vec<(http::HeaderName, HeaderValue)>, PolicyError>> {
        Box::pin(async move {
            match self.policies.first() {
                Some(p) => p.remember(req, userid).await,
                None => Ok(Vec::new()),
            }
        })
    }

    fn forget<'a>(
        &'a self,
        req: &'a Parts,
    ) -> BoxFuture<'a, Result<Vec<(http::HeaderName, HeaderValue)>, PolicyError>> {
        Box::pin(async move {
            let mut out = Vec::new();
            for p in &self.policies {
                out.extend(p.forget(req).await?);
            }
            Ok(out)
        })
    }

    fn challenge(&self) -> Option<HeaderValue> {
        self.policies.iter().find_map(|p| p.challenge())
    }
}
