//! Pyramid's `calculate_digest` (a double hash, not an HMAC) for each hash algorithm.

use std::fmt;
use std::str::FromStr;

use sha2::Digest;

use super::error::TicketError;
use super::ip::ClientIp;

/// The hash algorithm of a ticket digest (Pyramid's `hashalg`).
///
/// Pyramid 2 defaults to `sha512` (1.x defaulted to `md5`); tickets made with one
/// algorithm do not verify with another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum HashAlg {
    /// MD5 (32 hex digits). Legacy only.
    Md5,
    /// SHA-1 (40 hex digits). Legacy only.
    Sha1,
    /// SHA-224 (56 hex digits).
    Sha224,
    /// SHA-256 (64 hex digits).
    Sha256,
    /// SHA-384 (96 hex digits).
    Sha384,
    /// SHA-512 (128 hex digits), Pyramid 2's default.
    #[default]
    Sha512,
}

impl HashAlg {
    /// Length of the hex digest at the start of a ticket.
    pub const fn hex_len(self) -> usize {
        match self {
            Self::Md5 => 32,
            Self::Sha1 => 40,
            Self::Sha224 => 56,
            Self::Sha256 => 64,
            Self::Sha384 => 96,
            Self::Sha512 => 128,
        }
    }

    /// Python's `hashlib` name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Md5 => "md5",
            Self::Sha1 => "sha1",
            Self::Sha224 => "sha224",
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
        }
    }
}

impl fmt::Display for HashAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for HashAlg {
    type Err = TicketError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "md5" => Self::Md5,
            "sha1" => Self::Sha1,
            "sha224" => Self::Sha224,
            "sha256" => Self::Sha256,
            "sha384" => Self::Sha384,
            "sha512" => Self::Sha512,
            _ => return Err(TicketError::UnknownHashAlg(s.to_owned())),
        })
    }
}

/// A hex digest in a stack buffer (no allocation on the verification path).
#[derive(Clone, Copy)]
pub(crate) struct HexDigest {
    buf: [u8; 128],
    len: usize,
}

impl HexDigest {
    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }

    pub(crate) fn as_str(&self) -> &str {
        // Only ASCII hex digits are ever written.
        std::str::from_utf8(self.as_bytes()).unwrap_or("")
    }
}

/// Lower-case hex pair of every byte value (one lookup per byte).
const HEX_PAIRS: [[u8; 2]; 256] = {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut t = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = [DIGITS[i >> 4], DIGITS[i & 0x0f]];
        i += 1;
    }
    t
};

fn hex_into(src: &[u8], dst: &mut [u8]) -> usize {
    let (pairs, _) = dst.as_chunks_mut::<2>();
    let mut n = 0;
    for (b, pair) in src.iter().zip(pairs) {
        *pair = HEX_PAIRS[usize::from(*b)];
        n += 2;
    }
    n
}

/// The message fields of a ticket, as hashed.
pub(crate) struct Fields<'a> {
    pub(crate) ip: &'a ClientIp,
    pub(crate) timestamp: u64,
    pub(crate) secret: &'a [u8],
    pub(crate) userid: &'a [u8],
    pub(crate) tokens: &'a [u8],
    pub(crate) user_data: &'a [u8],
}

fn double_hash<D: Digest>(f: &Fields<'_>) -> HexDigest {
    let mut h = D::new();
    match f.ip {
        ClientIp::V4(octets) => {
            // encode_ip_timestamp: 4 octets + the low 32 bits of the timestamp, big-endian.
            let t = (f.timestamp & 0xffff_ffff) as u32;
            let [a, b, c, d] = *octets;
            let [t0, t1, t2, t3] = t.to_be_bytes();
            h.update([a, b, c, d, t0, t1, t2, t3]);
        }
        ClientIp::Text(ip) => {
            // Pyramid: `ip + str(int(timestamp))` for addresses containing ':'.
            let mut digits = [0u8; 20];
            h.update(ip.as_bytes());
            h.update(decimal(f.timestamp, &mut digits));
        }
    }
    // (Measured: one update over a stack copy of the message is no faster.)
    h.update(f.secret);
    h.update(f.userid);
    h.update([0u8]);
    h.update(f.tokens);
    h.update([0u8]);
    h.update(f.user_data);
    let first = h.finalize();
    let mut hex1 = [0u8; 128];
    let n = hex_into(&first, &mut hex1);
    let mut h2 = D::new();
    h2.update(hex1.get(..n).unwrap_or(&[]));
    h2.update(f.secret);
    let second = h2.finalize();
    let mut out = HexDigest {
        buf: [0u8; 128],
        len: 0,
    };
    out.len = hex_into(&second, &mut out.buf);
    out
}

fn decimal(mut v: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 || i == 0 {
            break;
        }
    }
    buf.get(i..).unwrap_or(&[])
}

pub(crate) fn compute(alg: HashAlg, f: &Fields<'_>) -> HexDigest {
    match alg {
        HashAlg::Md5 => double_hash::<md5::Md5>(f),
        HashAlg::Sha1 => double_hash::<sha1::Sha1>(f),
        HashAlg::Sha224 => double_hash::<sha2::Sha224>(f),
        HashAlg::Sha256 => double_hash::<sha2::Sha256>(f),
        HashAlg::Sha384 => double_hash::<sha2::Sha384>(f),
        HashAlg::Sha512 => double_hash::<sha2::Sha512>(f),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_formatting() {
        let mut b = [0u8; 20];
        assert_eq!(decimal(0, &mut b), b"0");
        assert_eq!(decimal(1_700_000_000, &mut b), b"1700000000");
        assert_eq!(decimal(u64::MAX, &mut b), b"18446744073709551615");
    }

    #[test]
    fn hex_lengths_match_algorithms() {
        let ip = ClientIp::UNSPECIFIED;
        for alg in [
            HashAlg::Md5,
            HashAlg::Sha1,
            HashAlg::Sha224,
            HashAlg::Sha256,
            HashAlg::Sha384,
            HashAlg::Sha512,
        ] {
            let f = Fields {
                ip: &ip,
                timestamp: 1,
                secret: b"s",
                userid: b"u",
                tokens: b"",
                user_data: b"",
            };
            assert_eq!(compute(alg, &f).as_bytes().len(), alg.hex_len(), "{alg}");
            assert_eq!(alg.name().parse::<HashAlg>().unwrap(), alg);
        }
        assert!("whirlpool".parse::<HashAlg>().is_err());
    }
}
