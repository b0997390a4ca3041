//! The mod_auth_tkt ticket layout: issuing ([`AuthTicket`]) and checking ([`parse_ticket`]).

use std::borrow::Cow;
use std::fmt::Write as _;

use subtle::ConstantTimeEq;

use super::digest::{self, Fields, HashAlg};
use super::error::BadTicket;
use super::ip::ClientIp;
use super::secret::TicketSecret;

/// The longest ticket [`parse_ticket`] looks at, in bytes (browsers store at most
/// about 4 KiB per cookie; Pyramid refuses to set a value over 4093 bytes).
pub const MAX_TICKET_LEN: usize = 8192;

/// A ticket to issue: Pyramid's `AuthTicket(secret, userid, ip, tokens, user_data, time, hashalg)`.
///
/// [`AuthTicket::cookie_value`] writes exactly what Pyramid's `cookie_value()` writes:
/// `hexdigest + "%08x" % time + quote(userid) + "!" [+ ",".join(tokens) + "!"] + user_data`.
/// Nothing is validated here (as in Pyramid); [`crate::ticket::AuthTktCookie::remember`]
/// is the validating entry point.
///
/// One quirk is inherited: when there are no tokens and `user_data` contains `!`, the
/// ticket is not readable back (the part before `!` is taken as the tokens), on either side.
#[derive(Debug, Clone)]
pub struct AuthTicket<'a> {
    /// The signing secret.
    pub secret: &'a TicketSecret,
    /// The userid, written percent-encoded.
    pub userid: &'a str,
    /// The client address ([`ClientIp::UNSPECIFIED`] when not bound).
    pub ip: &'a ClientIp,
    /// Tokens (role names), joined with `,`.
    pub tokens: &'a [&'a str],
    /// Free-form user data, written as is.
    pub user_data: &'a str,
    /// Issue time, seconds since the epoch.
    pub time: u64,
    /// Digest algorithm.
    pub hashalg: HashAlg,
}

impl<'a> AuthTicket<'a> {
    /// A ticket without tokens or user data, with `sha512`.
    pub fn new(secret: &'a TicketSecret, userid: &'a str, ip: &'a ClientIp, time: u64) -> Self {
        Self {
            secret,
            userid,
            ip,
            tokens: &[],
            user_data: "",
            time,
            hashalg: HashAlg::Sha512,
        }
    }

    fn compute(&self, tokens: &str) -> digest::HexDigest {
        digest::compute(
            self.hashalg,
            &Fields {
                ip: self.ip,
                timestamp: self.time,
                secret: self.secret.as_bytes(),
                userid: self.userid.as_bytes(),
                tokens: tokens.as_bytes(),
                user_data: self.user_data.as_bytes(),
            },
        )
    }

    /// The hex digest (Pyramid's `digest()`).
    pub fn digest(&self) -> String {
        self.compute(&self.tokens.join(",")).as_str().to_owned()
    }

    /// The cookie value, byte-identical to Pyramid's `AuthTicket.cookie_value()`.
    pub fn cookie_value(&self) -> String {
        let tokens = self.tokens.join(",");
        let d = self.compute(&tokens);
        let mut v = String::with_capacity(
            d.as_bytes().len() + 10 + self.userid.len() * 3 + tokens.len() + self.user_data.len(),
        );
        v.push_str(d.as_str());
        let _ = write!(v, "{:08x}", self.time);
        quote_into(self.userid.as_bytes(), &mut v);
        v.push('!');
        if !tokens.is_empty() {
            v.push_str(&tokens);
            v.push('!');
        }
        v.push_str(self.user_data);
        v
    }
}

/// Pyramid's `calculate_digest(ip, timestamp, secret, userid, tokens, user_data, hashalg)`:
/// `hex(H(hex(H(ip_timestamp + secret + userid + "\0" + tokens + "\0" + user_data)) + secret))`.
pub fn calculate_digest(
    ip: &ClientIp,
    timestamp: u64,
    secret: &TicketSecret,
    userid: &str,
    tokens: &str,
    user_data: &str,
    hashalg: HashAlg,
) -> String {
    digest::compute(
        hashalg,
        &Fields {
            ip,
            timestamp,
            secret: secret.as_bytes(),
            userid: userid.as_bytes(),
            tokens: tokens.as_bytes(),
            user_data: user_data.as_bytes(),
        },
    )
    .as_str()
    .to_owned()
}

/// A ticket whose digest checked out. Borrows from the ticket string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedTicket<'t> {
    timestamp: u64,
    /// As written (percent-encoded); known to decode to UTF-8.
    userid_quoted: &'t str,
    tokens: &'t str,
    user_data: &'t str,
}

impl<'t> ParsedTicket<'t> {
    /// Issue time, seconds since the epoch.
    pub fn timestamp(&self) -> u64 {
        self.timestamp
    }

    /// The userid, percent-decoded (still encoded per `userid_type`, see
    /// [`crate::ticket::AuthTktCookie::identify`]). Decoded on each call (verification
    /// itself decodes into a stack buffer and does not allocate).
    pub fn userid(&self) -> Cow<'t, str> {
        // INVARIANT: parse_ticket checked that this decodes to UTF-8.
        unquote(self.userid_quoted).unwrap_or(Cow::Borrowed(""))
    }

    /// The userid as written in the ticket (percent-encoded).
    pub fn userid_quoted(&self) -> &'t str {
        self.userid_quoted
    }

    /// The tokens, without empty entries. (Pyramid's `parse_ticket` returns `['']` for
    /// a ticket without tokens; Portcullis yields nothing.)
    pub fn tokens(&self) -> impl Iterator<Item = &'t str> + use<'t> {
        self.tokens.split(',').filter(|t| !t.is_empty())
    }

    /// The tokens field as written (`,`-separated).
    pub fn raw_tokens(&self) -> &'t str {
        self.tokens
    }

    /// The user data.
    pub fn user_data(&self) -> &'t str {
        self.user_data
    }
}

/// Checks a ticket like Pyramid's `parse_ticket(secret, ticket, ip, hashalg)`.
///
/// Strips surrounding `"`, reads the digest (its length set by `hashalg`), the 8 hex
/// digit timestamp, the percent-encoded userid up to `!`, then the tokens and user
/// data, recomputes the digest and compares it in constant time. Never panics and does
/// not allocate (userids over 256 bytes are decoded on the heap).
///
/// Deliberately stricter than Pyramid where Pyramid never issues such a ticket: the
/// timestamp must be exactly 8 hex digits (Python's `int(x, 16)` also takes `0x`,
/// signs, spaces and `_`), the decoded userid must be UTF-8 (Python substitutes U+FFFD),
/// and tickets over [`MAX_TICKET_LEN`] bytes are refused.
pub fn parse_ticket<'t>(
    secret: &TicketSecret,
    ticket: &'t str,
    ip: &ClientIp,
    hashalg: HashAlg,
) -> Result<ParsedTicket<'t>, BadTicket> {
    if ticket.len() > MAX_TICKET_LEN {
        return Err(BadTicket::TooLong {
            len: ticket.len(),
            max: MAX_TICKET_LEN,
        });
    }
    let t = ticket.trim_matches('"');
    let ds = hashalg.hex_len();
    let b = t.as_bytes();
    if b.len() < ds + 8 {
        return Err(BadTicket::TooShort {
            len: b.len(),
            min: ds + 8,
        });
    }
    let (given_digest, rest) = b.split_at(ds);
    let (ts_hex, _) = rest.split_at(8);
    let mut timestamp = 0u64;
    for &c in ts_hex {
        let v = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => return Err(BadTicket::BadTimestamp),
        };
        timestamp = (timestamp << 4) | u64::from(v);
    }
    // The 8 bytes before this index are ASCII, so it is a char boundary.
    let fields = t.get(ds + 8..).ok_or(BadTicket::BadTimestamp)?;
    let (userid_q, data) = fields.split_once('!').ok_or(BadTicket::MissingSeparator)?;
    let mut stack = [0u8; 256];
    let heap: Vec<u8>;
    let userid: &[u8] = if !userid_q.contains('%') {
        userid_q.as_bytes()
    } else if userid_q.len() <= stack.len() {
        let n = unquote_into(userid_q.as_bytes(), &mut stack);
        stack.get(..n).unwrap_or(&[])
    } else {
        let mut v = vec![0u8; userid_q.len()];
        let n = unquote_into(userid_q.as_bytes(), &mut v);
        v.truncate(n);
        heap = v;
        &heap
    };
    if std::str::from_utf8(userid).is_err() {
        return Err(BadTicket::InvalidUserid);
    }
    let (tokens, user_data) = data.split_once('!').unwrap_or(("", data));
    let expected = digest::compute(
        hashalg,
        &Fields {
            ip,
            timestamp,
            secret: secret.as_bytes(),
            userid,
            tokens: tokens.as_bytes(),
            user_data: user_data.as_bytes(),
        },
    );
    if !ct_eq(expected.as_bytes(), given_digest) {
        return Err(BadTicket::BadDigest);
    }
    Ok(ParsedTicket {
        timestamp,
        userid_quoted: userid_q,
        tokens,
        user_data,
    })
}

/// Constant-time equality of two equal-length digests: the differences are OR-ed
/// over 8-byte words (no early exit) and only the final word goes through `subtle`.
/// (`subtle`'s slice comparison costs about as much as a SHA-512 block here.)
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut diff = 0u64;
    let (a8, a_rest) = a.as_chunks::<8>();
    let (b8, b_rest) = b.as_chunks::<8>();
    for (x, y) in a8.iter().zip(b8) {
        diff |= u64::from_ne_bytes(*x) ^ u64::from_ne_bytes(*y);
    }
    for (x, y) in a_rest.iter().zip(b_rest) {
        diff |= u64::from(x ^ y);
    }
    diff.ct_eq(&0).into()
}

/// `urllib.parse.quote(s, safe='/')`: everything but `A-Za-z0-9_.-~/` as `%XX` (upper case).
pub(crate) fn quote_into(s: &[u8], out: &mut String) {
    const UPPER: &[u8; 16] = b"0123456789ABCDEF";
    for &b in s {
        if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(UPPER[usize::from(b >> 4)]));
            out.push(char::from(UPPER[usize::from(b & 0x0f)]));
        }
    }
}

/// Percent-encodes like Python's `urllib.parse.quote(s)`.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    quote_into(s.as_bytes(), &mut out);
    out
}

fn hexval(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// `urllib.parse.unquote` at the byte level: `%XX` decoded, any other `%` kept.
/// Writes at most `s.len()` bytes into `out` (which must be at least that long) and
/// returns the decoded length.
fn unquote_into(s: &[u8], out: &mut [u8]) -> usize {
    let mut i = 0;
    let mut n = 0;
    while let Some(&c) = s.get(i) {
        let (byte, used) = match (
            c,
            s.get(i + 1).copied().and_then(hexval),
            s.get(i + 2).copied().and_then(hexval),
        ) {
            (b'%', Some(h), Some(l)) => (h << 4 | l, 3),
            _ => (c, 1),
        };
        if let Some(slot) = out.get_mut(n) {
            *slot = byte;
        }
        n += 1;
        i += used;
    }
    n.min(out.len())
}

/// `urllib.parse.unquote`: `%XX` decoded, any other `%` kept; the result must be UTF-8.
pub(crate) fn unquote(s: &str) -> Result<Cow<'_, str>, BadTicket> {
    if !s.contains('%') {
        return Ok(Cow::Borrowed(s));
    }
    let mut out = vec![0u8; s.len()];
    let n = unquote_into(s.as_bytes(), &mut out);
    out.truncate(n);
    String::from_utf8(out)
        .map(Cow::Owned)
        .map_err(|_| BadTicket::InvalidUserid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_like_python() {
        // Expected values from Python 3.11: urllib.parse.quote(...)
        assert_eq!(quote("u0001@example.com"), "u0001%40example.com");
        assert_eq!(quote("a b/c~d_e.f-g!h"), "a%20b/c~d_e.f-g%21h");
        assert_eq!(quote("j\u{f6}rg \u{2603}"), "j%C3%B6rg%20%E2%98%83");
    }

    #[test]
    fn unquote_like_python() {
        assert_eq!(unquote("u0001%40example.com").unwrap(), "u0001@example.com");
        assert_eq!(unquote("a%zz%4").unwrap(), "a%zz%4");
        assert_eq!(unquote("%41%").unwrap(), "A%");
        assert_eq!(unquote("%c3%B6").unwrap(), "\u{f6}");
        assert!(matches!(unquote("%ff"), Err(BadTicket::InvalidUserid)));
        assert!(matches!(unquote("plain").unwrap(), Cow::Borrowed(_)));
    }
}
