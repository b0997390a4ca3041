//! The message digests used by legacy formats (md5 to sha512), behind one small enum so
//! that no RustCrypto type appears in the public API.

use hmac::{EagerHash, Hmac, KeyInit, Mac};
use sha2::Digest;

/// A digest algorithm named in a legacy hash (`md5`, `sha1`, `sha224`, `sha256`,
/// `sha384`, `sha512`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DigestAlg {
    Md5,
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl DigestAlg {
    /// The algorithm called `name` (ASCII case-insensitive, as pydal's `get_digest`).
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        Some(match name.to_ascii_lowercase().as_str() {
            "md5" => Self::Md5,
            "sha1" => Self::Sha1,
            "sha224" => Self::Sha224,
            "sha256" => Self::Sha256,
            "sha384" => Self::Sha384,
            "sha512" => Self::Sha512,
            _ => return None,
        })
    }

    /// The algorithm whose hex digest has `len` characters (pydal's `DIGEST_ALG_BY_SIZE`).
    pub(crate) fn from_hex_len(len: usize) -> Option<Self> {
        Some(match len {
            32 => Self::Md5,
            40 => Self::Sha1,
            56 => Self::Sha224,
            64 => Self::Sha256,
            96 => Self::Sha384,
            128 => Self::Sha512,
            _ => return None,
        })
    }

    /// The lowercase name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Md5 => "md5",
            Self::Sha1 => "sha1",
            Self::Sha224 => "sha224",
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
        }
    }

    /// Output length in bytes.
    pub(crate) fn output_len(self) -> usize {
        match self {
            Self::Md5 => 16,
            Self::Sha1 => 20,
            Self::Sha224 => 28,
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    /// `alg(parts[0] || parts[1] || ...)`, without concatenating secrets in a buffer.
    pub(crate) fn digest(self, parts: &[&[u8]]) -> Vec<u8> {
        fn run<D: Digest>(parts: &[&[u8]]) -> Vec<u8> {
            let mut h = D::new();
            for p in parts {
                h.update(p);
            }
            h.finalize().to_vec()
        }
        match self {
            Self::Md5 => run::<md5::Md5>(parts),
            Self::Sha1 => run::<sha1::Sha1>(parts),
            Self::Sha224 => run::<sha2::Sha224>(parts),
            Self::Sha256 => run::<sha2::Sha256>(parts),
            Self::Sha384 => run::<sha2::Sha384>(parts),
            Self::Sha512 => run::<sha2::Sha512>(parts),
        }
    }

    /// `HMAC-alg(key, msg)`.
    pub(crate) fn hmac(self, key: &[u8], msg: &[u8]) -> Vec<u8> {
        fn run<D: EagerHash>(key: &[u8], msg: &[u8]) -> Vec<u8> {
            // HMAC accepts keys of any length, so `new_from_slice` cannot fail; an empty
            // result would simply never match.
            match <Hmac<D> as KeyInit>::new_from_slice(key) {
                Ok(mut mac) => {
                    mac.update(msg);
                    mac.finalize().into_bytes().to_vec()
                }
                Err(_) => Vec::new(),
            }
        }
        match self {
            Self::Md5 => run::<md5::Md5>(key, msg),
            Self::Sha1 => run::<sha1::Sha1>(key, msg),
            Self::Sha224 => run::<sha2::Sha224>(key, msg),
            Self::Sha256 => run::<sha2::Sha256>(key, msg),
            Self::Sha384 => run::<sha2::Sha384>(key, msg),
            Self::Sha512 => run::<sha2::Sha512>(key, msg),
        }
    }

    /// PBKDF2-HMAC-alg of `password` and `salt` into `out`.
    pub(crate) fn pbkdf2(self, password: &[u8], salt: &[u8], rounds: u32, out: &mut [u8]) {
        use pbkdf2::pbkdf2_hmac;
        match self {
            Self::Md5 => pbkdf2_hmac::<md5::Md5>(password, salt, rounds, out),
            Self::Sha1 => pbkdf2_hmac::<sha1::Sha1>(password, salt, rounds, out),
            Self::Sha224 => pbkdf2_hmac::<sha2::Sha224>(password, salt, rounds, out),
            Self::Sha256 => pbkdf2_hmac::<sha2::Sha256>(password, salt, rounds, out),
            Self::Sha384 => pbkdf2_hmac::<sha2::Sha384>(password, salt, rounds, out),
            Self::Sha512 => pbkdf2_hmac::<sha2::Sha512>(password, salt, rounds, out),
        }
    }
}
