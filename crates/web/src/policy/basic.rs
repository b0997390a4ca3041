//! HTTP Basic authentication against the store.

use base64::Engine as _;
use http::HeaderValue;
use http::request::Parts;
use portcullis_store::Store;

use super::{BoxFuture, Claim, PolicyError, SecurityPolicy, authorization};

/// Identifies requests by `Authorization: Basic` credentials, checked against the store's
/// password hashes (legacy hashes are upgraded on success, unknown users cost the same work as
/// known ones). Meant for APIs and tools over TLS; browsers should log in through a form.
#[derive(Debug, Clone)]
pub struct BasicPolicy {
    store: Store,
    realm: String,
}

impl BasicPolicy {
    /// Checks credentials with `store`; `realm` appears in the `WWW-Authenticate` challenge.
    pub fn new(store: Store, realm: impl Into<String>) -> BasicPolicy {
        BasicPolicy {
            store,
            realm: realm.into(),
        }
    }
}

/// `user:password` from a Basic credential, if well-formed.
pub(crate) fn decode_basic(credential: &str) -> Option<(String, String)> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(credential)
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (user, password) = text.split_once(':')?;
    (!user.is_empty()).then(|| (user.to_owned(), password.to_owned()))
}

impl SecurityPolicy for BasicPolicy {
    fn name(&self) -> &'static str {
        "basic"
    }

    fn identify<'a>(&'a self, req: &'a Parts) -> BoxFuture<'a, Result<Option<Claim>, PolicyError>> {
        Box::pin(async move {
            let Some((login, password)) = authorization(req, "Basic").and_then(decode_basic) else {
                return Ok(None);
            };
            match self.store.verify_password(&login, &password).await {
                Ok(Some(user)) => Ok(Some(Claim::new(user.id.to_string(), "basic"))),
                Ok(None) => Ok(None),
                Err(e) => Err(PolicyError {
                    policy: "basic",
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
        let realm = self.realm.replace(['"', '\\'], "");
        HeaderValue::from_str(&format!("Basic realm=\"{realm}\", charset=\"UTF-8\"")).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::decode_basic;

    #[test]
    fn basic_credentials() {
        assert_eq!(
            decode_basic("Ym9iOnMzY3I6dA=="),
            Some(("bob".into(), "s3cr:t".into()))
        );
        assert_eq!(decode_basic("not base64!"), None);
        assert_eq!(decode_basic("OnBhc3M="), None); // ":pass": empty user
        assert_eq!(decode_basic("Ym9i"), None); // "bob": no colon
    }
}
