//! Token generation and constant-time comparison.

use base64::Engine as _;
use subtle::ConstantTimeEq as _;
use zeroize::Zeroizing;

use crate::secret::SecretError;

/// Random bytes in a CSRF token: 256 bits (at least 128 are needed).
pub const CSRF_TOKEN_BYTES: usize = 32;

/// A fresh token: [`CSRF_TOKEN_BYTES`] from the OS RNG, unpadded base64url (43 chars).
pub(crate) fn generate() -> Result<String, SecretError> {
    let mut bytes = Zeroizing::new([0u8; CSRF_TOKEN_BYTES]);
    getrandom::fill(bytes.as_mut()).map_err(|e| SecretError::Random(e.to_string()))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes.as_ref()))
}

/// Compares two tokens without leaking where they differ (the length is not secret).
pub(crate) fn same(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}
