//! Unit tests of the password module.
//!
//! The hash vectors in `vectors.rs` were produced by the real libraries (pydal
//! 20260520.0, Django 5.2.19, pyca/bcrypt 5.0.0, argon2-cffi 25.1.0) with
//! `crates/store/tests/vectors/gen_password_vectors.py`, which also checks each vector
//! with the producing library's own verifier before printing it.

use super::vectors::Vector;
use super::*;

/// Tiny argon2id parameters for new hashes in tests.
pub(super) fn fast() -> PasswordConfig {
    PasswordConfig::new(Argon2Params::new(64, 1, 1).unwrap())
}

/// The pydal HMAC key used by the generator (`sha512:<key>`, minus the `sha512:`).
pub(super) const CRYPT_KEY: &str = "3f0d4a1e-portcullis-test-key";

pub(super) fn config_for(v: &Vector) -> PasswordConfig {
    if v.kind == "CryptHmac" {
        fast().with_crypt_hmac_key(CRYPT_KEY)
    } else {
        fast()
    }
}

pub(super) fn expected_format(v: &Vector) -> HashFormat {
    match v.kind {
        "SaltedSha1" => HashFormat::SaltedSha1,
        "CryptPbkdf2" => HashFormat::CryptPbkdf2,
        "CryptSalted" | "CryptHmac" => HashFormat::CryptDigest,
        "BareHex" => HashFormat::HexDigest,
        "Django" if v.stored.starts_with("pbkdf2_sha1$") => HashFormat::DjangoPbkdf2Sha1,
        "Django" => HashFormat::DjangoPbkdf2Sha256,
        "DjangoArgon2" => HashFormat::DjangoArgon2,
        "DjangoBcryptSha256" => HashFormat::DjangoBcryptSha256,
        "DjangoBcrypt" => HashFormat::DjangoBcrypt,
        "Bcrypt" | "Bcrypt72" => HashFormat::Bcrypt,
        "Argon2" | "Argon2Owasp" if v.stored.starts_with("$argon2id$") => HashFormat::Argon2id,
        "Argon2" if v.stored.starts_with("$argon2i$") => HashFormat::Argon2i,
        "Argon2" if v.stored.starts_with("$argon2d$") => HashFormat::Argon2d,
        other => panic!("unknown vector kind {other}"),
    }
}

mod formats;
mod hashing;
mod interop;
mod malformed;
mod policy;
mod runtime;
