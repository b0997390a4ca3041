//! Password hashing, verification of legacy hashes, and the password policy.
//!
//! New passwords are hashed with **argon2id** into PHC strings. Stored hashes from the
//! systems Portcullis replaces (Pyramid/TurboGears apps, web2py/py4web, Django, PHP)
//! are verified as they are, so users migrate at their next login without a reset: a
//! successful [`Verification`] says whether the stored value
//! [`needs_rehash`](Verification::needs_rehash), and the caller then stores
//! [`PasswordHasher::hash`] of the password it just verified. Never re-hash after a
//! failed check.
//!
//! ```
//! use portcullis_store::password::{Argon2Params, PasswordConfig, PasswordHasher, Verification};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), portcullis_store::password::PasswordError> {
//! // Production: `PasswordConfig::default()` (OWASP parameters). Tiny ones keep this fast.
//! let hasher = PasswordHasher::new(PasswordConfig::new(Argon2Params::new(256, 1, 1)?));
//!
//! // A user imported from Django logs in:
//! let mut stored = "pbkdf2_sha256$20000$Zc4Lq0fS9xyzPortcul$H5OXHvrz6O4jNkXL/z59vHEDMEVLGG784rzS1n+qgVw=".to_owned();
//! match hasher.verify("correct horse battery staple", &stored).await? {
//!     Verification::Match(proof) => {
//!         if proof.needs_rehash() {
//!             stored = hasher.hash("correct horse battery staple").await?.into_string();
//!         }
//!     }
//!     Verification::Mismatch => unreachable!("the password is right"),
//! }
//! assert!(stored.starts_with("$argon2id$v=19$m=256,t=1,p=1$"));
//!
//! // Unknown account: same work, same answer as a wrong password.
//! assert!(!hasher.dummy_verify("guess").await.is_match());
//! # Ok(())
//! # }
//! ```
//!
//! # Formats
//!
//! Recognition ([`identify`]) is syntactic, in this order; the first rule that applies
//! decides, and a value that then fails to parse is an error, never a mismatch.
//! Leading and trailing ASCII whitespace is ignored (fixed-width columns); values longer
//! than [`MAX_STORED_HASH_LEN`] are refused.
//!
//! | Format ([`HashFormat`]) | Example | Recognized by | Computed as |
//! |---|---|---|---|
//! | `argon2id` / `argon2i` / `argon2d` | `$argon2id$v=19$m=19456,t=2,p=1$<b64 salt>$<b64 hash>` | prefix `$argon2` | argon2 (v=16 or 19; `v=` may be absent for 16), unpadded base64 |
//! | `bcrypt` | `$2b$12$<22 salt><31 hash>` | prefix `$2` (`$2a$`, `$2b$`, `$2y$`; `$2x$` and `$2$` are unsupported) | bcrypt; only the first 72 bytes of the password count (bcrypt semantics) |
//! | `django-argon2` | `argon2$argon2id$v=19$m=102400,t=2,p=8$…` | prefix `argon2$argon2` | argon2 PHC behind Django's prefix |
//! | `django-bcrypt-sha256` | `bcrypt_sha256$$2b$12$…` | prefix `bcrypt_sha256$` | bcrypt of `hex(sha256(password))` |
//! | `django-bcrypt` | `bcrypt$$2b$12$…` | prefix `bcrypt$` | bcrypt |
//! | `django-pbkdf2-sha256` / `-sha1` | `pbkdf2_sha256$1000000$<salt>$<b64 hash>` | prefix `pbkdf2_sha256$` / `pbkdf2_sha1$` | PBKDF2-HMAC, salt as UTF-8 text, padded base64 of the digest-size key |
//! | `web2py-crypt-pbkdf2` | `pbkdf2(1000,20,sha512)$<salt>$<hex>` | prefix `pbkdf2(` | PBKDF2-HMAC-alg(password, salt text, iterations), key length in bytes, hex |
//! | `web2py-crypt` | `sha512$<salt>$<hex>`, unsalted `md5$$<hex>` | exactly three `$`-fields, the first a digest name (md5, sha1, sha224, sha256, sha384, sha512; any case) | `hex(alg(password + salt))`; with a [`PasswordConfig::with_crypt_hmac_key`] key, `hex(HMAC-alg(key + salt, password))` (pydal `simple_hash`) |
//! | `salted-sha1` | 80 hex characters | only hex digits, length 80 | first 40 characters are the salt (as text): `hex(sha1(password + salt))` (seed 000) |
//! | `hex-digest` | `9cc2ae8a1ba7a93da39b46fc1019c481` | only hex digits, length 32/40/56/64/96/128 | `hex(alg(password))` for md5/sha1/sha224/sha256/sha384/sha512 (or HMAC with the key, as pydal) |
//!
//! Every other value is [`PasswordError::UnknownFormat`]. Hex digests may be in either
//! case. All formats hash the password's UTF-8 bytes.
//!
//! # Threats and decisions
//!
//! - **Why argon2id, m=19456 KiB, t=2, p=1.** argon2id won the Password Hashing
//!   Competition and is RFC 9106's recommendation; its memory cost makes GPU/ASIC
//!   guessing expensive, and the id variant resists both side channels and
//!   time–memory trade-offs. These are OWASP's Password Storage Cheat Sheet minimum
//!   parameters, a cost of about 20–50 ms per hash on one core of a current server,
//!   bearable per login. [`Argon2Params`] can be raised; [`PasswordConfig::needs_rehash`]
//!   then upgrades older hashes at their users' next login.
//! - **Timing.** Every digest comparison uses `subtle`'s constant-time equality.
//!   [`PasswordHasher::dummy_verify`] costs the same as verifying a current hash, so
//!   a missing account answers as slowly as a wrong password. Accounts still on a fast
//!   legacy format (a bare md5) answer faster until they are re-hashed: migrate them.
//! - **Denial of service.** Stored hashes carry their own cost. [`VerifyLimits`] refuses
//!   PBKDF2 above 10,000,000 iterations, argon2 above 1 GiB, 64 passes or 255 lanes, and
//!   bcrypt above cost 16, before hashing anything. Passwords above
//!   [`MAX_PASSWORD_BYTES`] are refused. [`PasswordHasher`] runs on the blocking pool,
//!   at most one hash per CPU at a time; rate limiting logins is the web layer's job.
//! - **No truncation.** New hashes (argon2id) use the whole password. Legacy bcrypt
//!   hashes are verified with bcrypt's own rule (first 72 bytes), which is the only way
//!   they can match; they are then re-hashed with argon2id.
//! - **Secrets.** Copies of passwords made here are zeroized on drop; `Debug` of
//!   [`PasswordHash`] shows the parameters only and `Debug` of [`PasswordConfig`] hides
//!   the pydal key. Error messages never contain a password or a stored hash.
//! - **Policy.** See [`PasswordPolicy`]: NIST SP 800-63B length rules, a built-in
//!   common-password list, context words, no composition rules, no normalization.

mod digest;
mod error;
mod format;
mod hash;
mod hasher;
mod legacy;
mod policy;
mod verify;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod vectors;

pub use error::PasswordError;
pub use format::{HashFormat, MAX_STORED_HASH_LEN, identify};
pub use hash::{Argon2Params, HASH_LEN, PasswordHash, SALT_LEN};
pub use hasher::PasswordHasher;
pub use policy::{PasswordPolicy, PolicyViolation, is_common_password};
pub use verify::{
    MAX_PASSWORD_BYTES, PasswordConfig, PasswordVerified, Verification, VerifyLimits,
};
