//! The client address bound into a ticket (`include_ip`).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use super::error::TicketError;

/// The client address hashed into a ticket, in the two forms Pyramid uses.
///
/// * An address without `:` is a dotted-quad IPv4 address: its 4 octets are hashed
///   (`encode_ip_timestamp`). Tickets that are not bound to an address use
///   [`ClientIp::UNSPECIFIED`] (`0.0.0.0`), as Pyramid does.
/// * An address containing `:` (IPv6) is hashed **as text**, followed by the decimal
///   timestamp: Pyramid's `calculate_digest` does `ip + str(int(timestamp))`, not a
///   packed 16-byte form. The text must therefore be spelled exactly as the other side
///   sees it (`::1` and `0:0:0:0:0:0:0:1` give different digests). Converting a
///   [`std::net::Ipv6Addr`] uses its RFC 5952 form, which is what WSGI servers put in
///   `REMOTE_ADDR`.
///
/// Pyramid accepts any number of dotted parts and Python's lenient `int()` syntax for
/// each; Portcullis accepts exactly four decimal parts of 0–255 (leading zeros allowed),
/// which covers every address a server reports.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum ClientIp {
    /// A dotted-quad address (its four octets are hashed).
    V4([u8; 4]),
    /// An address containing `:`, hashed as ASCII text.
    Text(Box<str>),
}

impl ClientIp {
    /// `0.0.0.0`: what tickets carry when they are not bound to the client address.
    pub const UNSPECIFIED: ClientIp = ClientIp::V4([0, 0, 0, 0]);

    /// Parses a `REMOTE_ADDR`-style string.
    pub fn parse(s: &str) -> Result<Self, TicketError> {
        let bad = || TicketError::InvalidIp(s.to_owned());
        if s.contains(':') {
            // Hashed as latin-1 text by Pyramid: restrict to printable ASCII so the
            // bytes are the same on both sides.
            if !s.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(bad());
            }
            return Ok(Self::Text(s.into()));
        }
        let mut octets = [0u8; 4];
        let mut parts = s.split('.');
        for octet in &mut octets {
            let part = parts.next().ok_or_else(bad)?;
            if part.is_empty() || part.len() > 3 || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            *octet = part.parse::<u8>().map_err(|_| bad())?;
        }
        if parts.next().is_some() {
            return Err(bad());
        }
        Ok(Self::V4(octets))
    }
}

impl FromStr for ClientIp {
    type Err = TicketError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl From<Ipv4Addr> for ClientIp {
    fn from(ip: Ipv4Addr) -> Self {
        Self::V4(ip.octets())
    }
}

impl From<Ipv6Addr> for ClientIp {
    fn from(ip: Ipv6Addr) -> Self {
        Self::Text(ip.to_string().into())
    }
}

impl From<IpAddr> for ClientIp {
    fn from(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => v4.into(),
            IpAddr::V6(v6) => v6.into(),
        }
    }
}

impl fmt::Display for ClientIp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::V4([a, b, c, d]) => write!(f, "{a}.{b}.{c}.{d}"),
            Self::Text(s) => f.write_str(s),
        }
    }
}

impl fmt::Debug for ClientIp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClientIp({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ipv4_and_ipv6() {
        assert_eq!(
            ClientIp::parse("10.0.0.255").unwrap(),
            ClientIp::V4([10, 0, 0, 255])
        );
        assert_eq!(
            ClientIp::parse("010.000.0.1").unwrap(),
            ClientIp::V4([10, 0, 0, 1])
        );
        assert_eq!(
            ClientIp::parse("::1").unwrap(),
            ClientIp::Text("::1".into())
        );
        assert_eq!(
            ClientIp::from("2001:db8::1".parse::<IpAddr>().unwrap()).to_string(),
            "2001:db8::1"
        );
        for bad in [
            "",
            "1.2.3",
            "1.2.3.4.5",
            "256.1.1.1",
            "a.b.c.d",
            "1..2.3",
            " 1.2.3.4",
            "+1.2.3.4",
            "1.2.3.0004",
            "::1 ",
            "fe80::1%\u{e9}",
        ] {
            assert!(ClientIp::parse(bad).is_err(), "{bad:?}");
        }
    }
}
