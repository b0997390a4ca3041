//! argon2: new hashes (argon2id, PHC strings) and verification of argon2 PHC strings.

use std::fmt;

use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::{HashFormat, PasswordError, VerifyLimits};

/// Length of the random salt of new hashes, in bytes (RFC 9106 recommends 16).
pub const SALT_LEN: usize = 16;
/// Length of the tag of new hashes, in bytes.
pub const HASH_LEN: usize = 32;

/// argon2id cost parameters for new hashes.
///
/// The default is the first OWASP Password Storage Cheat Sheet configuration:
/// m = 19456 KiB (19 MiB), t = 2, p = 1. Stronger values are fine; weaker ones are
/// accepted (tests use tiny ones) but should not be used in production.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Argon2Params {
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
}

impl Argon2Params {
    /// OWASP's recommended minimum: m = 19456 KiB, t = 2, p = 1.
    pub const OWASP: Self = Self {
        memory_kib: 19 * 1024,
        iterations: 2,
        parallelism: 1,
    };

    /// Parameters with `memory_kib` KiB of memory, `iterations` passes and `parallelism`
    /// lanes.
    ///
    /// # Errors
    ///
    /// [`PasswordError::InvalidParams`] if argon2 rejects them (for example fewer than
    /// 8 KiB of memory per lane, or zero iterations).
    pub fn new(memory_kib: u32, iterations: u32, parallelism: u32) -> Result<Self, PasswordError> {
        Params::new(memory_kib, iterations, parallelism, Some(HASH_LEN)).map_err(|e| {
            PasswordError::InvalidParams {
                reason: format!("m={memory_kib}, t={iterations}, p={parallelism}: {e}"),
            }
        })?;
        Ok(Self {
            memory_kib,
            iterations,
            parallelism,
        })
    }

    /// Memory cost in KiB (`m`).
    pub const fn memory_kib(&self) -> u32 {
        self.memory_kib
    }

    /// Number of passes (`t`).
    pub const fn iterations(&self) -> u32 {
        self.iterations
    }

    /// Number of lanes (`p`).
    pub const fn parallelism(&self) -> u32 {
        self.parallelism
    }

    fn argon2(&self) -> Result<Argon2<'static>, PasswordError> {
        let params = Params::new(
            self.memory_kib,
            self.iterations,
            self.parallelism,
            Some(HASH_LEN),
        )
        .map_err(|e| PasswordError::InvalidParams {
            reason: e.to_string(),
        })?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }

    /// Hashes `password` with the given salt into a PHC string.
    pub(crate) fn hash_with_salt(
        &self,
        password: &[u8],
        salt: &[u8; SALT_LEN],
    ) -> Result<PasswordHash, PasswordError> {
        let mut out = Zeroizing::new([0u8; HASH_LEN]);
        self.argon2()?
            .hash_password_into(password, salt, out.as_mut())
            .map_err(|e| PasswordError::InvalidParams {
                reason: e.to_string(),
            })?;
        Ok(PasswordHash(format!(
            "$argon2id$v=19$m={},t={},p={}${}${}",
            self.memory_kib,
            self.iterations,
            self.parallelism,
            STANDARD_NO_PAD.encode(salt),
            STANDARD_NO_PAD.encode(out.as_ref()),
        )))
    }
}

impl Default for Argon2Params {
    fn default() -> Self {
        Self::OWASP
    }
}

/// A new password hash: an argon2id PHC string, ready to be stored.
///
/// `Debug` shows the algorithm and parameters only, never the salt or the tag.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// The PHC string (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The PHC string, by value.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PasswordHash")
            .field(&redact(&self.0))
            .finish()
    }
}

impl From<PasswordHash> for String {
    fn from(h: PasswordHash) -> Self {
        h.0
    }
}

impl AsRef<str> for PasswordHash {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Keeps the identifying prefix of a hash (scheme and parameters) and hides the rest.
pub(crate) fn redact(s: &str) -> String {
    let fields: Vec<&str> = s.split('$').collect();
    if fields.len() >= 3 {
        // Keep everything but the last two fields (salt and tag in every `$` format).
        let keep = fields.len() - 2;
        format!("{}$…", fields[..keep].join("$"))
    } else {
        format!("<{} characters>", s.chars().count())
    }
}

/// A parsed argon2 PHC string.
pub(crate) struct Argon2Phc {
    pub(crate) algorithm: Algorithm,
    pub(crate) version: Version,
    pub(crate) m: u32,
    pub(crate) t: u32,
    pub(crate) p: u32,
    pub(crate) salt: Vec<u8>,
    pub(crate) hash: Vec<u8>,
    /// Found behind Django's `argon2` prefix.
    pub(crate) django: bool,
}

impl Argon2Phc {
    pub(crate) fn format(&self) -> HashFormat {
        match (self.django, self.algorithm) {
            (true, _) => HashFormat::DjangoArgon2,
            (false, Algorithm::Argon2id) => HashFormat::Argon2id,
            (false, Algorithm::Argon2i) => HashFormat::Argon2i,
            (false, Algorithm::Argon2d) => HashFormat::Argon2d,
        }
    }

    /// Parses `$argon2{id,i,d}[$v=19]$m=..,t=..,p=..$salt$hash`.
    pub(crate) fn parse(s: &str) -> Result<Self, PasswordError> {
        let mut fields = s.split('$');
        // The string starts with `$`, so the first field is empty.
        let _ = fields.next();
        let ident = fields.next().unwrap_or_default();
        let (algorithm, format) = match ident {
            "argon2id" => (Algorithm::Argon2id, HashFormat::Argon2id),
            "argon2i" => (Algorithm::Argon2i, HashFormat::Argon2i),
            "argon2d" => (Algorithm::Argon2d, HashFormat::Argon2d),
            other => {
                return Err(PasswordError::UnknownFormat {
                    shape: format!("unknown argon2 variant `{}`", truncate(other)),
                });
            }
        };
        let bad = |reason: &str| PasswordError::malformed(format, reason);
        let rest: Vec<&str> = fields.collect();
        let (version, params, salt, hash) = match rest.as_slice() {
            [v, params, salt, hash] => {
                let v = v
                    .strip_prefix("v=")
                    .ok_or_else(|| bad("expected `v=<version>` after the algorithm"))?;
                let version = match parse_u32(v) {
                    Some(0x13) => Version::V0x13,
                    Some(0x10) => Version::V0x10,
                    _ => {
                        return Err(PasswordError::unsupported(
                            format,
                            format!("version `{}` (only 16 and 19 exist)", truncate(v)),
                        ));
                    }
                };
                (version, *params, *salt, *hash)
            }
            // Argon2 1.0 (version 0x10) strings omit `v=`.
            [params, salt, hash] => (Version::V0x10, *params, *salt, *hash),
            _ => {
                return Err(bad(
                    "expected `$<variant>$v=<version>$m=<kib>,t=<passes>,p=<lanes>$<salt>$<hash>`",
                ));
            }
        };
        let (mut m, mut t, mut p) = (None, None, None);
        for kv in params.split(',') {
            let (k, v) = kv
                .split_once('=')
                .ok_or_else(|| bad("parameters must be `key=value` pairs"))?;
            let slot = match k {
                "m" => &mut m,
                "t" => &mut t,
                "p" => &mut p,
                "keyid" | "data" => {
                    return Err(PasswordError::unsupported(
                        format,
                        format!("parameter `{k}` (secret keys and associated data)"),
                    ));
                }
                other => {
                    return Err(bad(&format!("unknown parameter `{}`", truncate(other))));
                }
            };
            if slot.is_some() {
                return Err(bad(&format!("parameter `{k}` is repeated")));
            }
            *slot = Some(parse_u32(v).ok_or_else(|| {
                bad(&format!(
                    "parameter `{k}` is not a decimal number: `{}`",
                    truncate(v)
                ))
            })?);
        }
        let (Some(m), Some(t), Some(p)) = (m, t, p) else {
            return Err(bad("parameters `m`, `t` and `p` are all required"));
        };
        let salt = STANDARD_NO_PAD
            .decode(salt)
            .map_err(|_| bad("the salt is not unpadded base64"))?;
        let hash = STANDARD_NO_PAD
            .decode(hash)
            .map_err(|_| bad("the hash is not unpadded base64"))?;
        if !(8..=64).contains(&salt.len()) {
            return Err(bad(&format!(
                "the salt is {} bytes, expected 8 to 64",
                salt.len()
            )));
        }
        if !(4..=64).contains(&hash.len()) {
            return Err(bad(&format!(
                "the hash is {} bytes, expected 4 to 64",
                hash.len()
            )));
        }
        Params::new(m, t, p, Some(hash.len())).map_err(|e| bad(&format!("{e}")))?;
        Ok(Self {
            algorithm,
            version,
            m,
            t,
            p,
            salt,
            hash,
            django: false,
        })
    }

    /// Checks the parameters against `limits`.
    pub(crate) fn check_limits(&self, limits: &VerifyLimits) -> Result<(), PasswordError> {
        let f = self.format();
        PasswordError::check_limit(f, "m", self.m.into(), limits.max_argon2_memory_kib.into())?;
        PasswordError::check_limit(f, "t", self.t.into(), limits.max_argon2_iterations.into())?;
        PasswordError::check_limit(f, "p", self.p.into(), limits.max_argon2_parallelism.into())
    }

    /// Recomputes the tag and compares it in constant time.
    pub(crate) fn verify(&self, password: &[u8]) -> Result<bool, PasswordError> {
        let params = Params::new(self.m, self.t, self.p, Some(self.hash.len()))
            .map_err(|e| PasswordError::malformed(self.format(), e.to_string()))?;
        let mut out = Zeroizing::new(vec![0u8; self.hash.len()]);
        Argon2::new(self.algorithm, self.version, params)
            .hash_password_into(password, &self.salt, &mut out)
            .map_err(|e| PasswordError::malformed(self.format(), e.to_string()))?;
        Ok(bool::from(out.as_slice().ct_eq(&self.hash)))
    }

    /// Whether this hash is argon2id, version 19, in the canonical PHC form, with at
    /// least the parameters, salt and tag length of new hashes.
    pub(crate) fn is_current(&self, params: &Argon2Params) -> bool {
        !self.django
            && self.algorithm == Algorithm::Argon2id
            && self.version == Version::V0x13
            && self.m >= params.memory_kib
            && self.t >= params.iterations
            && self.p >= params.parallelism
            && self.salt.len() >= SALT_LEN
            && self.hash.len() >= HASH_LEN
    }
}

/// A decimal `u32` without sign or leading zeros (as the PHC format requires).
fn parse_u32(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0'))
    {
        return None;
    }
    s.parse().ok()
}

/// Shortens user-supplied text quoted in an error message.
pub(crate) fn truncate(s: &str) -> String {
    const MAX: usize = 24;
    if s.chars().count() > MAX {
        format!("{}…", s.chars().take(MAX).collect::<String>())
    } else {
        s.to_owned()
    }
}
