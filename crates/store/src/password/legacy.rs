//! Legacy formats: salted SHA-1 (seed 000), pydal/web2py/py4web `CRYPT`, bare hex
//! digests, Django PBKDF2 and bcrypt (plain or behind Django's prefixes).
//!
//! Each format is parsed completely before any hashing, cost parameters are checked
//! against [`VerifyLimits`], and digests are compared in constant time.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::digest::DigestAlg;
use super::format::scheme_shape;
use super::hash::{Argon2Phc, truncate};
use super::{HashFormat, PasswordError, VerifyLimits};

/// Prefix in front of a bcrypt string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BcryptWrapper {
    /// A bare `$2b$…`.
    None,
    /// Django `bcrypt$$2b$…`.
    Django,
    /// Django `bcrypt_sha256$$2b$…`: bcrypt of `hex(sha256(password))`.
    DjangoSha256,
}

/// A stored hash, parsed.
pub(crate) enum Parsed<'a> {
    /// argon2 PHC string (possibly behind Django's prefix).
    Argon2(Argon2Phc),
    /// bcrypt, `$2a$`/`$2b$`/`$2y$`.
    Bcrypt {
        /// The 60-character bcrypt string.
        bcrypt: &'a str,
        cost: u32,
        wrapper: BcryptWrapper,
    },
    /// Django `pbkdf2_<alg>$iterations$salt$base64`.
    DjangoPbkdf2 {
        alg: DigestAlg,
        iterations: u32,
        salt: &'a str,
        hash: Vec<u8>,
    },
    /// pydal `pbkdf2(iterations,keylen,alg)$salt$hex`.
    CryptPbkdf2 {
        alg: DigestAlg,
        iterations: u32,
        salt: &'a str,
        hash: Vec<u8>,
    },
    /// pydal `alg$salt$hex` (salt may be empty).
    CryptDigest {
        alg: DigestAlg,
        salt: &'a str,
        hash: Vec<u8>,
    },
    /// Bare hex digest.
    Hex { alg: DigestAlg, hash: Vec<u8> },
    /// Seed 000: 40 hex salt characters, then hex sha1(password + salt).
    SaltedSha1 { salt_hex: &'a str, hash: Vec<u8> },
}

impl<'a> Parsed<'a> {
    pub(crate) fn format(&self) -> HashFormat {
        match self {
            Self::Argon2(p) => p.format(),
            Self::Bcrypt { wrapper, .. } => match wrapper {
                BcryptWrapper::None => HashFormat::Bcrypt,
                BcryptWrapper::Django => HashFormat::DjangoBcrypt,
                BcryptWrapper::DjangoSha256 => HashFormat::DjangoBcryptSha256,
            },
            Self::DjangoPbkdf2 { alg, .. } => match alg {
                DigestAlg::Sha1 => HashFormat::DjangoPbkdf2Sha1,
                _ => HashFormat::DjangoPbkdf2Sha256,
            },
            Self::CryptPbkdf2 { .. } => HashFormat::CryptPbkdf2,
            Self::CryptDigest { .. } => HashFormat::CryptDigest,
            Self::Hex { .. } => HashFormat::HexDigest,
            Self::SaltedSha1 { .. } => HashFormat::SaltedSha1,
        }
    }

    /// `$2a$NN$<53 characters>`; `$2x$` and `$2$` are refused.
    pub(crate) fn bcrypt(s: &'a str, wrapper: BcryptWrapper) -> Result<Self, PasswordError> {
        let format = Self::Bcrypt {
            bcrypt: "",
            cost: 0,
            wrapper,
        }
        .format();
        let bad = |reason: &str| PasswordError::malformed(format, reason);
        let mut fields = s.split('$');
        let _ = fields.next();
        let version = fields.next().unwrap_or_default();
        match version {
            "2a" | "2b" | "2y" => {}
            "2x" | "2" => {
                return Err(PasswordError::unsupported(
                    format,
                    format!(
                        "version `{version}` (the pre-2011 buggy or original variant; only 2a, 2b and 2y are verified)"
                    ),
                ));
            }
            other => {
                return Err(bad(&format!(
                    "unknown bcrypt version `{}`",
                    truncate(other)
                )));
            }
        }
        let cost_str = fields.next().unwrap_or_default();
        let rest = fields.next().unwrap_or_default();
        if fields.next().is_some() || cost_str.len() != 2 {
            return Err(bad(
                "expected `$2b$<two-digit cost>$<22-character salt><31-character hash>`",
            ));
        }
        let cost: u32 = cost_str.parse().map_err(|_| {
            bad(&format!(
                "the cost `{}` is not a number",
                truncate(cost_str)
            ))
        })?;
        if !(4..=31).contains(&cost) {
            return Err(bad(&format!("the cost {cost} is outside 4 to 31")));
        }
        if rest.len() != 53 {
            return Err(bad(&format!(
                "the salt and hash are {} characters, expected 53",
                rest.len()
            )));
        }
        if !rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'/')
        {
            return Err(bad("the salt and hash are not bcrypt base64"));
        }
        // The bcrypt crate's own parser checks the base64 in detail.
        s.parse::<bcrypt::HashParts>()
            .map_err(|e| bad(&e.to_string()))?;
        Ok(Self::Bcrypt {
            bcrypt: s,
            cost,
            wrapper,
        })
    }

    /// Django `<iterations>$<salt>$<base64 hash>` (after the `pbkdf2_<alg>$` prefix).
    pub(crate) fn django_pbkdf2(rest: &'a str, alg: DigestAlg) -> Result<Self, PasswordError> {
        let format = if alg == DigestAlg::Sha1 {
            HashFormat::DjangoPbkdf2Sha1
        } else {
            HashFormat::DjangoPbkdf2Sha256
        };
        let bad = |reason: &str| PasswordError::malformed(format, reason);
        let fields: Vec<&str> = rest.split('$').collect();
        let [iterations, salt, hash] = fields.as_slice() else {
            return Err(bad(
                "expected `pbkdf2_<alg>$<iterations>$<salt>$<base64 hash>`",
            ));
        };
        let iterations = parse_iterations(iterations).ok_or_else(|| {
            bad(&format!(
                "the iteration count `{}` is not a positive number",
                truncate(iterations)
            ))
        })?;
        let hash = STANDARD
            .decode(hash)
            .map_err(|_| bad("the hash is not padded base64"))?;
        if hash.len() != alg.output_len() {
            return Err(bad(&format!(
                "the hash is {} bytes, expected {}",
                hash.len(),
                alg.output_len()
            )));
        }
        Ok(Self::DjangoPbkdf2 {
            alg,
            iterations,
            salt,
            hash,
        })
    }

    /// pydal `pbkdf2(<iterations>,<keylen>,<alg>)$<salt>$<hex>`.
    pub(crate) fn crypt_pbkdf2(s: &'a str) -> Result<Self, PasswordError> {
        let format = HashFormat::CryptPbkdf2;
        let bad = |reason: &str| PasswordError::malformed(format, reason);
        let fields: Vec<&str> = s.split('$').collect();
        let [spec, salt, hex_hash] = fields.as_slice() else {
            return Err(bad(
                "expected `pbkdf2(<iterations>,<key length>,<alg>)$<salt>$<hex>`",
            ));
        };
        let inner = spec
            .strip_prefix("pbkdf2(")
            .and_then(|r| r.strip_suffix(')'))
            .ok_or_else(|| bad("expected `pbkdf2(<iterations>,<key length>,<alg>)`"))?;
        let parts: Vec<&str> = inner.split(',').map(str::trim).collect();
        let [iterations, keylen, alg_name] = parts.as_slice() else {
            return Err(bad(
                "expected three values in `pbkdf2(<iterations>,<key length>,<alg>)`",
            ));
        };
        let iterations = parse_iterations(iterations).ok_or_else(|| {
            bad(&format!(
                "the iteration count `{}` is not a positive number",
                truncate(iterations)
            ))
        })?;
        let keylen: usize = keylen.parse().ok().filter(|&k| k > 0).ok_or_else(|| {
            bad(&format!(
                "the key length `{}` is not a positive number",
                truncate(keylen)
            ))
        })?;
        let alg = DigestAlg::from_name(alg_name).ok_or_else(|| {
            PasswordError::unsupported(format, format!("digest algorithm `{}`", truncate(alg_name)))
        })?;
        let hash = decode_hex(hex_hash).ok_or_else(|| bad("the hash is not hexadecimal"))?;
        if hash.len() != keylen {
            return Err(bad(&format!(
                "the hash is {} bytes but the key length says {keylen}",
                hash.len()
            )));
        }
        Ok(Self::CryptPbkdf2 {
            alg,
            iterations,
            salt,
            hash,
        })
    }

    /// pydal `<alg>$<salt>$<hex>`; anything else with a `$` is an unknown format.
    pub(crate) fn crypt_digest(s: &'a str) -> Result<Self, PasswordError> {
        let fields: Vec<&str> = s.split('$').collect();
        let [alg_name, salt, hex_hash] = fields.as_slice() else {
            return Err(PasswordError::UnknownFormat {
                shape: scheme_shape(s),
            });
        };
        let Some(alg) = DigestAlg::from_name(alg_name) else {
            return Err(PasswordError::UnknownFormat {
                shape: scheme_shape(s),
            });
        };
        let format = HashFormat::CryptDigest;
        let hash = decode_hex(hex_hash)
            .ok_or_else(|| PasswordError::malformed(format, "the hash is not hexadecimal"))?;
        if hash.len() != alg.output_len() {
            return Err(PasswordError::malformed(
                format,
                format!(
                    "the hash is {} hex characters, but {} needs {}",
                    hex_hash.len(),
                    alg.name(),
                    alg.output_len() * 2
                ),
            ));
        }
        Ok(Self::CryptDigest { alg, salt, hash })
    }

    /// A value made only of hex digits: 80 characters is seed 000's salted SHA-1, the
    /// digest lengths (32, 40, 56, 64, 96, 128) are bare digests.
    pub(crate) fn hex(s: &'a str) -> Result<Self, PasswordError> {
        if s.len() == 80 {
            let (salt_hex, hash_hex) = s.split_at(40);
            let hash = decode_hex(hash_hex).ok_or_else(|| {
                PasswordError::malformed(HashFormat::SaltedSha1, "the hash is not hexadecimal")
            })?;
            return Ok(Self::SaltedSha1 { salt_hex, hash });
        }
        let Some(alg) = DigestAlg::from_hex_len(s.len()) else {
            return Err(PasswordError::UnknownFormat {
                shape: format!(
                    "a {}-character hex string (digests have 32, 40, 56, 64, 96 or 128, salted SHA-1 has 80)",
                    s.len()
                ),
            });
        };
        let hash = decode_hex(s).ok_or_else(|| {
            PasswordError::malformed(HashFormat::HexDigest, "the hash is not hexadecimal")
        })?;
        Ok(Self::Hex { alg, hash })
    }

    /// Checks cost parameters against `limits` (before any hashing).
    pub(crate) fn check_limits(&self, limits: &VerifyLimits) -> Result<(), PasswordError> {
        let f = self.format();
        match self {
            Self::Argon2(p) => p.check_limits(limits),
            Self::Bcrypt { cost, .. } => {
                PasswordError::check_limit(f, "cost", (*cost).into(), limits.max_bcrypt_cost.into())
            }
            Self::DjangoPbkdf2 { iterations, .. } => PasswordError::check_limit(
                f,
                "iterations",
                (*iterations).into(),
                limits.max_pbkdf2_iterations.into(),
            ),
            Self::CryptPbkdf2 {
                alg,
                iterations,
                hash,
                ..
            } => {
                // Every output block of PBKDF2 costs `iterations` HMACs: bound the total.
                let blocks = hash.len().div_ceil(alg.output_len()) as u64;
                PasswordError::check_limit(
                    f,
                    "iterations",
                    u64::from(*iterations) * blocks,
                    limits.max_pbkdf2_iterations.into(),
                )
            }
            Self::CryptDigest { .. } | Self::Hex { .. } | Self::SaltedSha1 { .. } => Ok(()),
        }
    }

    /// Runs the format's hash function on `password` and compares in constant time.
    ///
    /// `crypt_hmac_key` is pydal's `CRYPT(key=…)`; it changes only the `alg$salt$hex`
    /// and bare hex formats, as in pydal.
    pub(crate) fn matches(
        &self,
        password: &[u8],
        crypt_hmac_key: Option<&[u8]>,
    ) -> Result<bool, PasswordError> {
        let computed: Zeroizing<Vec<u8>> = Zeroizing::new(match self {
            Self::Argon2(p) => return p.verify(password),
            Self::Bcrypt {
                bcrypt: stored,
                cost,
                wrapper,
            } => return verify_bcrypt(password, stored, *cost, *wrapper, self.format()),
            Self::DjangoPbkdf2 {
                alg,
                iterations,
                salt,
                hash,
            }
            | Self::CryptPbkdf2 {
                alg,
                iterations,
                salt,
                hash,
            } => {
                let mut out = vec![0u8; hash.len()];
                alg.pbkdf2(password, salt.as_bytes(), *iterations, &mut out);
                out
            }
            Self::CryptDigest { alg, salt, .. } => {
                crypt_simple_hash(*alg, password, salt.as_bytes(), crypt_hmac_key)
            }
            Self::Hex { alg, .. } => crypt_simple_hash(*alg, password, b"", crypt_hmac_key),
            Self::SaltedSha1 { salt_hex, .. } => {
                DigestAlg::Sha1.digest(&[password, salt_hex.as_bytes()])
            }
        });
        let expected: &[u8] = match self {
            Self::DjangoPbkdf2 { hash, .. }
            | Self::CryptPbkdf2 { hash, .. }
            | Self::CryptDigest { hash, .. }
            | Self::Hex { hash, .. }
            | Self::SaltedSha1 { hash, .. } => hash,
            Self::Argon2(_) | Self::Bcrypt { .. } => &[],
        };
        // Lengths are public (they follow from the format); ct_eq is false on a length
        // difference.
        Ok(bool::from(computed.as_slice().ct_eq(expected)))
    }
}

/// pydal's `simple_hash` for digest algorithms: `hmac(key + salt, password)` when a key
/// is configured, else `alg(password + salt)`.
fn crypt_simple_hash(alg: DigestAlg, password: &[u8], salt: &[u8], key: Option<&[u8]>) -> Vec<u8> {
    match key {
        Some(key) if !key.is_empty() => {
            let mut hmac_key = Zeroizing::new(Vec::with_capacity(key.len() + salt.len()));
            hmac_key.extend_from_slice(key);
            hmac_key.extend_from_slice(salt);
            alg.hmac(&hmac_key, password)
        }
        _ => alg.digest(&[password, salt]),
    }
}

fn verify_bcrypt(
    password: &[u8],
    stored: &str,
    cost: u32,
    wrapper: BcryptWrapper,
    format: HashFormat,
) -> Result<bool, PasswordError> {
    let bad = |e: bcrypt::BcryptError| PasswordError::malformed(format, e.to_string());
    let parts: bcrypt::HashParts = stored.parse().map_err(bad)?;
    // Django's bcrypt_sha256 feeds bcrypt the 64 hex characters of sha256(password).
    let prehashed;
    let input: &[u8] = if wrapper == BcryptWrapper::DjangoSha256 {
        prehashed = Zeroizing::new(hex::encode(DigestAlg::Sha256.digest(&[password])));
        prehashed.as_bytes()
    } else {
        password
    };
    // `hash_with_salt` follows bcrypt semantics and uses only the first 72 bytes.
    let computed = bcrypt::hash_with_salt(input, cost, parts.get_salt_raw()).map_err(bad)?;
    // Compare the normalized strings ($2b$ label on both sides, so $2a$/$2y$ compare equal).
    let ours = Zeroizing::new(computed.format_for_version(bcrypt::Version::TwoB));
    let theirs = parts.format_for_version(bcrypt::Version::TwoB);
    Ok(bool::from(ours.as_bytes().ct_eq(theirs.as_bytes())))
}

/// A positive decimal iteration count.
fn parse_iterations(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok().filter(|&n| n > 0)
}

/// Hex (either case) to bytes.
fn decode_hex(s: &str) -> Option<Vec<u8>> {
    hex::decode(s).ok()
}
