//! Session ids (the cookie value) and their stored form (SHA-256).

use std::fmt;

use base64::Engine as _;
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use super::SessionError;

/// Random bytes in a session id: 256 bits (OWASP asks for at least 64 bits of entropy,
/// the brief for 128; 256 leaves a wide margin against guessing at any request rate).
pub const SESSION_ID_BYTES: usize = 32;

/// Length of the cookie value: unpadded base64url of [`SESSION_ID_BYTES`].
pub const SESSION_ID_LEN: usize = 43;

/// A session id: the secret the cookie carries. Never stored, never logged.
#[derive(Clone)]
pub(crate) struct SessionId(Zeroizing<String>);

impl SessionId {
    /// A fresh id from the operating system's RNG.
    pub(crate) fn generate() -> Result<SessionId, SessionError> {
        let mut bytes = Zeroizing::new([0u8; SESSION_ID_BYTES]);
        getrandom::fill(bytes.as_mut()).map_err(|e| SessionError::Random(e.to_string()))?;
        let mut s = Zeroizing::new(String::with_capacity(SESSION_ID_LEN));
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode_string(bytes.as_ref(), &mut s);
        Ok(SessionId(s))
    }

    /// Accepts a cookie value only if it has the exact shape of an id we issue, so that
    /// junk never reaches a backend.
    pub(crate) fn parse(value: &str) -> Option<SessionId> {
        let ok = value.len() == SESSION_ID_LEN
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            && base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(value)
                .is_ok_and(|b| b.len() == SESSION_ID_BYTES);
        ok.then(|| SessionId(Zeroizing::new(value.to_owned())))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    /// The stored form of this id.
    pub(crate) fn hash(&self) -> SessionHash {
        SessionHash::of(self.as_str())
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionId(<redacted>)")
    }
}

/// The SHA-256 of a session id, 64 lowercase hex characters: the key under which
/// backends store a session.
///
/// Backends only ever see this value, so a leaked database, backup or Redis dump holds
/// no cookie that could be replayed. It is not a credential: it is safe to show as a
/// handle ("your other sessions") and to pass to [`super::SessionManager::revoke`].
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SessionHash(String);

impl SessionHash {
    fn of(id: &str) -> SessionHash {
        SessionHash(hex(&Sha256::digest(id.as_bytes())))
    }

    /// Accepts a hash in its textual form (64 lowercase hex characters).
    pub fn parse(s: &str) -> Option<SessionHash> {
        (s.len() == 64
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
        .then(|| SessionHash(s.to_owned()))
    }

    /// The hash as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SessionHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionHash({})", &self.0[..self.0.len().min(12)])
    }
}

impl fmt::Display for SessionHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    out
}
