//! The synchronous core: [`PasswordConfig`] hashes, verifies and decides on re-hashing.

use std::fmt;

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::format::parse;
use super::hash::{HASH_LEN, SALT_LEN};
use super::{Argon2Params, HashFormat, PasswordError, PasswordHash};

/// The longest password accepted for hashing or verification, in bytes.
///
/// 4096 bytes hold the policy's 1024 characters even when each takes four bytes in
/// UTF-8. Longer input is refused with [`PasswordError::PasswordTooLong`] rather than
/// truncated.
pub const MAX_PASSWORD_BYTES: usize = 4096;

/// Upper bounds on the cost parameters found in stored hashes.
///
/// Stored hashes carry their own cost, so an imported (or tampered) value like
/// `pbkdf2_sha256$2000000000$…` or `$argon2id$v=19$m=4194304,…` would make one login
/// attempt burn minutes of CPU or gigabytes of memory. Values above these limits are
/// refused with [`PasswordError::TooExpensive`] before any hashing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifyLimits {
    /// Maximum PBKDF2 iterations (Django and pydal; for pydal, iterations times output
    /// blocks). Default 10,000,000 (Django 5.2 uses 1,000,000).
    pub max_pbkdf2_iterations: u32,
    /// Maximum argon2 memory, in KiB. Default 1 GiB (1,048,576 KiB).
    pub max_argon2_memory_kib: u32,
    /// Maximum argon2 passes (`t`). Default 64.
    pub max_argon2_iterations: u32,
    /// Maximum argon2 lanes (`p`). Default 255.
    pub max_argon2_parallelism: u32,
    /// Maximum bcrypt cost (log2 of the rounds). Default 16 (about 4 s on one core;
    /// common values are 10 to 13).
    pub max_bcrypt_cost: u32,
}

impl VerifyLimits {
    /// The defaults listed on each field.
    pub const DEFAULT: Self = Self {
        max_pbkdf2_iterations: 10_000_000,
        max_argon2_memory_kib: 1024 * 1024,
        max_argon2_iterations: 64,
        max_argon2_parallelism: 255,
        max_bcrypt_cost: 16,
    };
}

impl Default for VerifyLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The answer of a successful check: the password matches the stored hash.
///
/// Only this module builds it; holding one is proof that a password was verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordVerified {
    format: HashFormat,
    needs_rehash: bool,
}

impl PasswordVerified {
    /// The format of the stored hash that matched.
    pub const fn format(&self) -> HashFormat {
        self.format
    }

    /// Whether the stored hash should be replaced by a new one (hash the password that
    /// was just verified and store it): true for every legacy format, for argon2i/d, and
    /// for argon2id below the configured parameters.
    pub const fn needs_rehash(&self) -> bool {
        self.needs_rehash
    }
}

/// The result of checking a password against a well-formed stored hash.
///
/// Malformed or unknown stored values are errors ([`PasswordError`]), never a
/// `Mismatch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Verification {
    /// The password is correct.
    Match(PasswordVerified),
    /// The password is wrong.
    Mismatch,
}

impl Verification {
    /// Whether the password matched.
    pub const fn is_match(&self) -> bool {
        matches!(self, Self::Match(_))
    }

    /// Whether the password matched *and* the stored hash should be replaced. Re-hash
    /// only after a successful check: a mismatch never asks for it.
    pub const fn needs_rehash(&self) -> bool {
        match self {
            Self::Match(v) => v.needs_rehash,
            Self::Mismatch => false,
        }
    }
}

/// How passwords are hashed and verified: argon2id parameters for new hashes, limits for
/// stored ones, and pydal's optional HMAC key.
///
/// This is the synchronous API (for the CLI, tests, or your own thread pool). In async
/// code use [`PasswordHasher`](super::PasswordHasher), which runs the same code off the
/// executor with bounded concurrency.
///
/// ```
/// use portcullis_store::password::{Argon2Params, PasswordConfig};
///
/// # fn main() -> Result<(), portcullis_store::password::PasswordError> {
/// // Small parameters keep the example fast; production uses the default (OWASP).
/// let config = PasswordConfig::new(Argon2Params::new(256, 1, 1)?);
/// let hash = config.hash("correct horse battery staple")?;
/// assert!(config.verify("correct horse battery staple", hash.as_str())?.is_match());
/// assert!(!config.verify("wrong", hash.as_str())?.is_match());
///
/// // A legacy web2py hash verifies, and asks to be replaced.
/// let v = config.verify("correct horse battery staple", "sha1$$abf7aad6438836dbe526aa231abde2d0eef74d42")?;
/// assert!(v.is_match() && v.needs_rehash());
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Default)]
pub struct PasswordConfig {
    params: Argon2Params,
    limits: VerifyLimits,
    crypt_hmac_key: Option<Zeroizing<Vec<u8>>>,
}

impl fmt::Debug for PasswordConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordConfig")
            .field("params", &self.params)
            .field("limits", &self.limits)
            .field(
                "crypt_hmac_key",
                &self.crypt_hmac_key.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// Salt of [`PasswordConfig::dummy_verify`]'s throw-away hash.
const DUMMY_SALT: [u8; SALT_LEN] = *b"portcullis-dummy";

impl PasswordConfig {
    /// New hashes with `params`, default [`VerifyLimits`], no pydal HMAC key.
    pub fn new(params: Argon2Params) -> Self {
        Self {
            params,
            ..Self::default()
        }
    }

    /// Replaces the limits on stored hashes' cost parameters.
    #[must_use]
    pub fn with_limits(mut self, limits: VerifyLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Sets pydal/web2py's `CRYPT(key=…)` (web2py's `auth.settings.hmac_key`), needed to
    /// verify `alg$salt$hex` and bare hex hashes made with a key: they are then
    /// `HMAC-alg(key + salt, password)`. Pass the part after `alg:` of a
    /// `"sha512:<key>"` setting. PBKDF2 `CRYPT` hashes ignore the key, as in pydal.
    #[must_use]
    pub fn with_crypt_hmac_key(mut self, key: impl Into<Vec<u8>>) -> Self {
        self.crypt_hmac_key = Some(Zeroizing::new(key.into()));
        self
    }

    /// The argon2id parameters of new hashes.
    pub const fn params(&self) -> Argon2Params {
        self.params
    }

    /// The limits on stored hashes' cost parameters.
    pub const fn limits(&self) -> VerifyLimits {
        self.limits
    }

    /// Hashes `password` with argon2id and a random 16-byte salt. Blocks for the
    /// duration of the hash (about 20–50 ms at the default parameters).
    ///
    /// # Errors
    ///
    /// [`PasswordError::PasswordTooLong`] above [`MAX_PASSWORD_BYTES`];
    /// [`PasswordError::Random`] if the system's random source fails.
    pub fn hash(&self, password: &str) -> Result<PasswordHash, PasswordError> {
        let mut salt = [0u8; SALT_LEN];
        getrandom::fill(&mut salt).map_err(|e| PasswordError::Random {
            reason: e.to_string(),
        })?;
        self.hash_with_salt(password, &salt)
    }

    /// Hashes `password` with a caller-chosen salt: for deterministic tests, or to use
    /// your own random source. The salt must be unique per hash.
    ///
    /// # Errors
    ///
    /// [`PasswordError::PasswordTooLong`] above [`MAX_PASSWORD_BYTES`].
    pub fn hash_with_salt(
        &self,
        password: &str,
        salt: &[u8; SALT_LEN],
    ) -> Result<PasswordHash, PasswordError> {
        check_password_len(password)?;
        self.params.hash_with_salt(password.as_bytes(), salt)
    }

    /// Checks `password` against `stored`, in any supported format.
    ///
    /// The password's UTF-8 bytes are hashed as they are (no normalization, no
    /// trimming), as the legacy systems did.
    ///
    /// # Errors
    ///
    /// An unknown, malformed or unsupported stored value, parameters above the
    /// [`VerifyLimits`], or a password above [`MAX_PASSWORD_BYTES`]. A wrong password is
    /// `Ok(Verification::Mismatch)`, never an error.
    pub fn verify(&self, password: &str, stored: &str) -> Result<Verification, PasswordError> {
        check_password_len(password)?;
        let parsed = parse(stored)?;
        parsed.check_limits(&self.limits)?;
        let matched = parsed.matches(
            password.as_bytes(),
            self.crypt_hmac_key.as_ref().map(|k| k.as_slice()),
        )?;
        Ok(if matched {
            let needs_rehash = match &parsed {
                super::legacy::Parsed::Argon2(p) => !p.is_current(&self.params),
                _ => true,
            };
            Verification::Match(PasswordVerified {
                format: parsed.format(),
                needs_rehash,
            })
        } else {
            Verification::Mismatch
        })
    }

    /// Whether `stored` should be replaced: true for anything that is not a well-formed
    /// argon2id (version 19) PHC string with at least the configured parameters, a
    /// 16-byte salt and a 32-byte tag. Cheap (parsing only).
    pub fn needs_rehash(&self, stored: &str) -> bool {
        match parse(stored) {
            Ok(super::legacy::Parsed::Argon2(p)) => !p.is_current(&self.params),
            _ => true,
        }
    }

    /// Does the work of verifying a current hash and always answers
    /// [`Verification::Mismatch`].
    ///
    /// Call it when the account does not exist, so that "no such user" takes as long as
    /// "wrong password" and response times do not reveal which accounts exist.
    pub fn dummy_verify(&self, password: &str) -> Verification {
        // Same work as `verify` of an argon2id hash at the configured parameters: one
        // argon2id run and a constant-time comparison of a 32-byte tag.
        let bytes = password.as_bytes();
        let bytes = bytes.get(..MAX_PASSWORD_BYTES).unwrap_or(bytes);
        if let Ok(h) = self.params.hash_with_salt(bytes, &DUMMY_SALT) {
            let _ = h.as_str().as_bytes().ct_eq(&[0u8; HASH_LEN]);
        }
        Verification::Mismatch
    }
}

fn check_password_len(password: &str) -> Result<(), PasswordError> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordError::PasswordTooLong {
            len: password.len(),
            max: MAX_PASSWORD_BYTES,
        });
    }
    Ok(())
}
