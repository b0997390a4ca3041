//! Recognizing the format of a stored hash.
//!
//! Recognition is purely syntactic and cheap; it never runs a hash function. See the
//! table in the module docs ([`super`]) for the rules.

use std::fmt;

use super::PasswordError;
use super::digest::DigestAlg;
use super::hash::Argon2Phc;
use super::legacy::{BcryptWrapper, Parsed};

/// The longest stored hash accepted, in bytes. Every supported format fits easily
/// (a PHC string with a 64-byte tag is under 200 bytes); longer values are refused
/// before any parsing.
pub const MAX_STORED_HASH_LEN: usize = 1024;

/// The format of a stored password hash, as recognized by [`identify`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HashFormat {
    /// `$argon2id$v=19$m=…,t=…,p=…$salt$hash`: the format of new hashes.
    Argon2id,
    /// `$argon2i$…` (PHC string).
    Argon2i,
    /// `$argon2d$…` (PHC string).
    Argon2d,
    /// `$2a$`, `$2b$` or `$2y$` bcrypt (OpenBSD, PHP, passlib, pyca/bcrypt).
    Bcrypt,
    /// Django `pbkdf2_sha256$iterations$salt$base64`.
    DjangoPbkdf2Sha256,
    /// Django `pbkdf2_sha1$iterations$salt$base64`.
    DjangoPbkdf2Sha1,
    /// Django `argon2$argon2id$…` (a PHC string behind Django's `argon2` prefix).
    DjangoArgon2,
    /// Django `bcrypt$$2b$…` (plain bcrypt behind Django's prefix).
    DjangoBcrypt,
    /// Django `bcrypt_sha256$$2b$…` (bcrypt of the hex SHA-256 of the password).
    DjangoBcryptSha256,
    /// pydal/web2py/py4web `CRYPT` `pbkdf2(iterations,keylen,alg)$salt$hex`.
    CryptPbkdf2,
    /// pydal/web2py/py4web `CRYPT` `alg$salt$hex`, or unsalted `alg$$hex`.
    CryptDigest,
    /// A bare hex digest (md5, sha1, sha224, sha256, sha384 or sha512, told apart by
    /// length), as stored by old web2py applications.
    HexDigest,
    /// The salted SHA-1 of seed 000: 40 hex characters of salt, then
    /// `hex(sha1(password + salt))`.
    SaltedSha1,
}

impl HashFormat {
    /// A short, stable, lowercase name (`argon2id`, `django-pbkdf2-sha256`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Argon2id => "argon2id",
            Self::Argon2i => "argon2i",
            Self::Argon2d => "argon2d",
            Self::Bcrypt => "bcrypt",
            Self::DjangoPbkdf2Sha256 => "django-pbkdf2-sha256",
            Self::DjangoPbkdf2Sha1 => "django-pbkdf2-sha1",
            Self::DjangoArgon2 => "django-argon2",
            Self::DjangoBcrypt => "django-bcrypt",
            Self::DjangoBcryptSha256 => "django-bcrypt-sha256",
            Self::CryptPbkdf2 => "web2py-crypt-pbkdf2",
            Self::CryptDigest => "web2py-crypt",
            Self::HexDigest => "hex-digest",
            Self::SaltedSha1 => "salted-sha1",
        }
    }

    /// Whether this is a format new hashes are written in (only [`HashFormat::Argon2id`]).
    pub const fn is_current(self) -> bool {
        matches!(self, Self::Argon2id)
    }
}

impl fmt::Display for HashFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Recognizes the format of a stored hash without checking any password.
///
/// Useful to count the accounts still on legacy formats before a migration. The value is
/// fully parsed, so `Ok` means [`verify`](super::PasswordConfig::verify) will not fail
/// with a format error (it can still refuse parameters above the configured limits).
///
/// # Errors
///
/// [`PasswordError::UnknownFormat`], [`PasswordError::Malformed`] or
/// [`PasswordError::Unsupported`].
///
/// # Example
///
/// ```
/// use portcullis_store::password::{identify, HashFormat};
///
/// let f = identify("pbkdf2_sha256$20000$salt$H5OXHvrz6O4jNkXL/z59vHEDMEVLGG784rzS1n+qgVw=");
/// assert_eq!(f, Ok(HashFormat::DjangoPbkdf2Sha256));
/// assert!(identify("not a hash").is_err());
/// ```
pub fn identify(stored: &str) -> Result<HashFormat, PasswordError> {
    parse(stored).map(|p| p.format())
}

/// Parses `stored` into the values needed to verify it.
pub(crate) fn parse(stored: &str) -> Result<Parsed<'_>, PasswordError> {
    // Database columns of fixed width may pad with spaces; no format contains whitespace.
    let s = stored.trim_matches(|c: char| c.is_ascii_whitespace());
    if s.is_empty() {
        return Err(PasswordError::UnknownFormat {
            shape: "the stored value is empty".to_owned(),
        });
    }
    if s.len() > MAX_STORED_HASH_LEN {
        return Err(PasswordError::UnknownFormat {
            shape: format!(
                "a {}-byte value, longer than any supported format ({MAX_STORED_HASH_LEN} bytes)",
                s.len()
            ),
        });
    }
    if s.starts_with("$argon2") {
        return Argon2Phc::parse(s).map(Parsed::Argon2);
    }
    if s.starts_with("$2") {
        return Parsed::bcrypt(s, BcryptWrapper::None);
    }
    if let Some(phc) = s.strip_prefix("argon2")
        && phc.starts_with("$argon2")
    {
        // Django keeps the PHC string behind its own `argon2` prefix.
        let mut p = Argon2Phc::parse(phc).map_err(|e| retag(e, HashFormat::DjangoArgon2))?;
        p.django = true;
        return Ok(Parsed::Argon2(p));
    }
    if let Some(rest) = s.strip_prefix("bcrypt_sha256$") {
        return Parsed::bcrypt(rest, BcryptWrapper::DjangoSha256);
    }
    if let Some(rest) = s.strip_prefix("bcrypt$") {
        return Parsed::bcrypt(rest, BcryptWrapper::Django);
    }
    if let Some(rest) = s.strip_prefix("pbkdf2_sha256$") {
        return Parsed::django_pbkdf2(rest, DigestAlg::Sha256);
    }
    if let Some(rest) = s.strip_prefix("pbkdf2_sha1$") {
        return Parsed::django_pbkdf2(rest, DigestAlg::Sha1);
    }
    if s.starts_with("pbkdf2(") {
        return Parsed::crypt_pbkdf2(s);
    }
    if s.contains('$') {
        return Parsed::crypt_digest(s);
    }
    if s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Parsed::hex(s);
    }
    Err(PasswordError::UnknownFormat {
        shape: format!(
            "a {}-character value without `$` that is not hexadecimal",
            s.chars().count()
        ),
    })
}

/// Re-labels a format error found inside a wrapper format.
fn retag(e: PasswordError, format: HashFormat) -> PasswordError {
    match e {
        PasswordError::Malformed { reason, .. } => PasswordError::Malformed { format, reason },
        PasswordError::Unsupported { reason, .. } => PasswordError::Unsupported { format, reason },
        PasswordError::TooExpensive {
            parameter,
            value,
            limit,
            ..
        } => PasswordError::TooExpensive {
            format,
            parameter,
            value,
            limit,
        },
        other => other,
    }
}

/// Describes the scheme of an unknown `$`-separated value without revealing the value.
pub(crate) fn scheme_shape(s: &str) -> String {
    let scheme: String = s
        .trim_start_matches('$')
        .split('$')
        .next()
        .unwrap_or_default()
        .chars()
        .take(32)
        .collect();
    let fields = s.trim_start_matches('$').split('$').count();
    format!("scheme `{scheme}` with {fields} `$`-separated fields")
}
