//! The master secret and the per-subsystem keys derived from it.
//!
//! Pyramid's documentation warns against sharing one secret between subsystems
//! ("Admonishment Against Secret-Sharing"): the auth ticket policy, the session
//! factory and CSRF all *sign* data, and if an attacker can get chosen plaintext
//! signed by one of them with the same key, the signature of another may be forged,
//! which "might drop the security of signing to zero".
//!
//! Portcullis therefore takes **one** [`MasterSecret`] from the configuration and
//! derives an independent 256-bit [`SubsystemKey`] for each [`Purpose`] with
//! HKDF-SHA256 (RFC 5869):
//!
//! * salt: the fixed string [`HKDF_SALT`] (`portcullis/v1`),
//! * input keying material: the master secret,
//! * info: the purpose label ([`Purpose::label`]), e.g. `tickets` or `csrf`.
//!
//! Knowing one derived key reveals nothing about the master secret or the other
//! keys, so each subsystem gets its own key without the operator managing several.
//!
//! The one exception is on purpose: an auth-ticket policy that must share logins with
//! a running Pyramid application needs the *same* secret string as that application.
//! [`crate::ticket::TicketSecret::verbatim`] accepts it as is; keep that secret
//! unique to the ticket policy on both sides (do not reuse it for sessions or CSRF).
//!
//! # Example
//!
//! ```
//! use portcullis_web::secret::{MasterSecret, Purpose};
//!
//! let master = MasterSecret::new(b"0123456789abcdef0123456789abcdef".to_vec())?;
//! let tickets = master.derive(&Purpose::Tickets);
//! let csrf = master.derive(&Purpose::Csrf);
//! assert_ne!(tickets.as_bytes(), csrf.as_bytes());
//! // Deterministic: the same master secret always gives the same keys.
//! assert_eq!(tickets.as_bytes(), master.derive(&Purpose::Tickets).as_bytes());
//! // Too short a secret is refused.
//! assert!(MasterSecret::new(b"seekrit".to_vec()).is_err());
//! # Ok::<(), portcullis_web::secret::SecretError>(())
//! ```

use std::borrow::Cow;
use std::fmt;

use hkdf::Hkdf;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

/// The HKDF salt shared by every derivation (a version tag, not a secret).
pub const HKDF_SALT: &[u8] = b"portcullis/v1";

/// Errors creating a [`MasterSecret`] or a [`Purpose`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// The secret is empty.
    #[error("the master secret is empty: configure at least {min} random bytes")]
    Empty {
        /// The minimum length in bytes.
        min: usize,
    },
    /// The secret is shorter than [`MasterSecret::MIN_LEN`].
    #[error(
        "the master secret is too short ({len} bytes): use at least {min} random bytes, e.g. 64 hex characters"
    )]
    TooShort {
        /// The length given.
        len: usize,
        /// The minimum length in bytes.
        min: usize,
    },
    /// A custom purpose label is empty.
    #[error("a custom key purpose needs a non-empty name")]
    EmptyPurpose,
    /// The operating system's random number generator failed.
    #[error("cannot read random bytes from the operating system: {0}")]
    Random(String),
}

/// The application's master secret: every subsystem key is derived from it.
///
/// At least [`MasterSecret::MIN_LEN`] (32) bytes. The bytes are wiped from memory when
/// the value is dropped, and `Debug` never prints them.
#[derive(Clone)]
pub struct MasterSecret {
    bytes: Zeroizing<Vec<u8>>,
}

impl MasterSecret {
    /// The minimum length of a master secret, in bytes.
    pub const MIN_LEN: usize = 32;

    /// Wraps configured secret bytes; refuses an empty secret or one shorter than
    /// [`MasterSecret::MIN_LEN`]. The rejected input is wiped as well.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Self, SecretError> {
        let bytes = Zeroizing::new(bytes.into());
        if bytes.is_empty() {
            return Err(SecretError::Empty { min: Self::MIN_LEN });
        }
        if bytes.len() < Self::MIN_LEN {
            return Err(SecretError::TooShort {
                len: bytes.len(),
                min: Self::MIN_LEN,
            });
        }
        Ok(Self { bytes })
    }

    /// Generates a random 32-byte secret from the operating system's RNG.
    ///
    /// For development only: the secret lives as long as the process, so every
    /// ticket, session and CSRF token issued with it becomes invalid on restart,
    /// and several processes behind one load balancer would not accept each other's.
    pub fn generate() -> Result<Self, SecretError> {
        let mut bytes = Zeroizing::new(vec![0u8; Self::MIN_LEN]);
        getrandom::fill(&mut bytes).map_err(|e| SecretError::Random(e.to_string()))?;
        Ok(Self { bytes })
    }

    /// The secret's length in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Always `false`: an empty master secret cannot be built.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Derives the 256-bit key for one purpose (HKDF-SHA256, salt [`HKDF_SALT`],
    /// info = [`Purpose::label`]). Deterministic; distinct purposes give unrelated keys.
    pub fn derive(&self, purpose: &Purpose) -> SubsystemKey {
        let hk = Hkdf::<Sha256>::new(Some(HKDF_SALT), &self.bytes);
        let mut okm = [0u8; 32];
        // HKDF-SHA256 can expand up to 255 * 32 bytes: 32 always fits.
        if hk.expand(purpose.label().as_bytes(), &mut okm).is_err() {
            okm.zeroize();
        }
        SubsystemKey { bytes: okm }
    }
}

impl fmt::Debug for MasterSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterSecret")
            .field("len", &self.bytes.len())
            .finish_non_exhaustive()
    }
}

/// What a derived key is for: the HKDF `info` string, so each subsystem has its own key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Purpose {
    /// Auth ticket cookies (label `tickets`).
    Tickets,
    /// Server-side session cookies (label `sessions`).
    Sessions,
    /// CSRF tokens (label `csrf`).
    Csrf,
    /// One-time action tokens: e-mail verification, password reset, magic links
    /// (label `action-tokens`).
    ActionTokens,
    /// Any other subsystem (label `custom:<name>`, so it never collides with the named ones).
    Custom(Cow<'static, str>),
}

impl Purpose {
    /// A custom purpose; the name must not be empty.
    pub fn custom(name: impl Into<Cow<'static, str>>) -> Result<Self, SecretError> {
        let name = name.into();
        if name.is_empty() {
            return Err(SecretError::EmptyPurpose);
        }
        Ok(Self::Custom(name))
    }

    /// The HKDF `info` label of this purpose.
    pub fn label(&self) -> Cow<'_, str> {
        match self {
            Self::Tickets => Cow::Borrowed("tickets"),
            Self::Sessions => Cow::Borrowed("sessions"),
            Self::Csrf => Cow::Borrowed("csrf"),
            Self::ActionTokens => Cow::Borrowed("action-tokens"),
            Self::Custom(name) => Cow::Owned(format!("custom:{name}")),
        }
    }
}

/// A 256-bit key derived from the [`MasterSecret`] for one [`Purpose`].
///
/// Wiped on drop, redacted in `Debug`, compared in constant time.
#[derive(Clone)]
pub struct SubsystemKey {
    bytes: [u8; 32],
}

impl SubsystemKey {
    /// The key bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.bytes
    }

    /// The key as 64 lowercase hex characters (e.g. to configure it as a Pyramid secret).
    pub fn to_hex(&self) -> Zeroizing<String> {
        let mut out = Zeroizing::new(String::with_capacity(64));
        for b in self.bytes {
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
        out
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

impl PartialEq for SubsystemKey {
    fn eq(&self, other: &Self) -> bool {
        self.bytes.ct_eq(&other.bytes).into()
    }
}

impl Eq for SubsystemKey {}

impl Drop for SubsystemKey {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

impl fmt::Debug for SubsystemKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SubsystemKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn master() -> MasterSecret {
        MasterSecret::new(b"0123456789abcdef0123456789abcdef".to_vec()).unwrap()
    }

    #[test]
    fn short_and_empty_secrets_are_refused() {
        assert!(matches!(
            MasterSecret::new(Vec::new()),
            Err(SecretError::Empty { min: 32 })
        ));
        let err = MasterSecret::new(vec![7u8; 31]).unwrap_err();
        assert!(matches!(err, SecretError::TooShort { len: 31, min: 32 }));
        assert!(err.to_string().contains("too short (31 bytes)"));
        assert_eq!(MasterSecret::new(vec![7u8; 32]).unwrap().len(), 32);
    }

    #[test]
    fn derivation_is_deterministic_and_separated() {
        let m = master();
        let purposes = [
            Purpose::Tickets,
            Purpose::Sessions,
            Purpose::Csrf,
            Purpose::ActionTokens,
            Purpose::custom("tickets").unwrap(),
            Purpose::custom("webhooks").unwrap(),
        ];
        let keys: Vec<_> = purposes.iter().map(|p| m.derive(p)).collect();
        for (i, a) in keys.iter().enumerate() {
            assert_eq!(a, &m.derive(&purposes[i]));
            for b in &keys[i + 1..] {
                assert_ne!(a, b);
            }
        }
        let other = MasterSecret::new(b"0123456789abcdef0123456789abcdeX".to_vec()).unwrap();
        assert_ne!(m.derive(&Purpose::Tickets), other.derive(&Purpose::Tickets));
    }

    #[test]
    fn derivation_matches_rfc5869_construction() {
        // Independent HKDF-SHA256 computation with the hmac crate (extract then one
        // expand block), so the salt/info layout is pinned down.
        use hmac::{Hmac, KeyInit, Mac};
        let m = master();
        let mut ext = <Hmac<Sha256> as KeyInit>::new_from_slice(HKDF_SALT).unwrap();
        ext.update(b"0123456789abcdef0123456789abcdef");
        let prk = ext.finalize().into_bytes();
        let mut exp = <Hmac<Sha256> as KeyInit>::new_from_slice(&prk).unwrap();
        exp.update(b"csrf");
        exp.update(&[1u8]);
        let t1 = exp.finalize().into_bytes();
        assert_eq!(
            m.derive(&Purpose::Csrf).as_bytes().as_slice(),
            t1.as_slice()
        );
    }

    #[test]
    fn labels_and_custom_purposes() {
        assert_eq!(Purpose::ActionTokens.label(), "action-tokens");
        assert_eq!(Purpose::custom("x").unwrap().label(), "custom:x");
        assert!(matches!(
            Purpose::custom(""),
            Err(SecretError::EmptyPurpose)
        ));
    }

    #[test]
    fn debug_is_redacted_and_generate_is_random() {
        let m = master();
        let dbg = format!("{m:?}");
        assert!(!dbg.contains("0123"), "{dbg}");
        let k = m.derive(&Purpose::Tickets);
        assert_eq!(format!("{k:?}"), "SubsystemKey(<redacted>)");
        assert_eq!(k.to_hex().len(), 64);
        let a = MasterSecret::generate().unwrap();
        let b = MasterSecret::generate().unwrap();
        assert_eq!(a.len(), 32);
        assert_ne!(a.derive(&Purpose::Csrf), b.derive(&Purpose::Csrf));
    }
}
