//! Why a ticket was refused ([`BadTicket`]) and why one cannot be issued ([`TicketError`]).

/// Why a presented ticket was refused. None of these reveal the expected digest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BadTicket {
    /// Shorter than the digest plus the 8-digit timestamp.
    #[error("ticket is too short ({len} bytes, at least {min} needed)")]
    TooShort {
        /// Length of the ticket (quotes stripped).
        len: usize,
        /// Digest hex length + 8.
        min: usize,
    },
    /// Longer than [`crate::ticket::MAX_TICKET_LEN`].
    #[error("ticket is too long ({len} bytes, at most {max})")]
    TooLong {
        /// Length of the ticket.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The 8 characters after the digest are not hex digits.
    #[error("timestamp is not a hex integer")]
    BadTimestamp,
    /// No `!` after the userid.
    #[error("userid is not followed by `!`")]
    MissingSeparator,
    /// The percent-decoded userid is not UTF-8 (Pyramid never issues such a ticket).
    #[error("userid is not valid utf-8 after percent-decoding")]
    InvalidUserid,
    /// The digest does not match: wrong secret, wrong hash algorithm, wrong client
    /// address, or a tampered field.
    #[error("digest signature is not correct")]
    BadDigest,
    /// The ticket is older than the configured timeout.
    #[error("ticket expired: issued at {timestamp}, timeout {timeout} s, now {now}")]
    Expired {
        /// When the ticket was issued (seconds since the epoch).
        timestamp: u64,
        /// The configured timeout in seconds.
        timeout: u64,
        /// The time of the check.
        now: u64,
    },
    /// The ticket is valid but its `userid_type:` cannot decode the userid.
    #[error("userid cannot be decoded as `{userid_type}`")]
    UseridDecode {
        /// The `userid_type` named in the ticket's user data.
        userid_type: String,
    },
}

/// A ticket cannot be issued, or a ticket policy is misconfigured.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TicketError {
    /// The secret is empty.
    #[error("the ticket secret is empty")]
    EmptySecret,
    /// The client address is neither a dotted-quad IPv4 address nor contains `:`.
    #[error("invalid client address `{0}`: expected a dotted-quad ipv4 or an ipv6 address")]
    InvalidIp(String),
    /// The hash algorithm name is not supported.
    #[error("unsupported hash algorithm `{0}`: use md5, sha1, sha224, sha256, sha384 or sha512")]
    UnknownHashAlg(String),
    /// A token does not match `^[A-Za-z][A-Za-z0-9+_-]*$`.
    #[error("invalid token `{0}`: tokens must match ^[A-Za-z][A-Za-z0-9+_-]*$")]
    InvalidToken(String),
    /// The cookie name is not an RFC 2616 token, starts with `$` or is an attribute name.
    #[error("invalid cookie name `{0}`")]
    InvalidCookieName(String),
    /// `SameSite=None` is only allowed with `Secure`.
    #[error("samesite `None` requires the secure flag")]
    SameSiteNoneWithoutSecure,
    /// The cookie value exceeds what browsers store.
    #[error("cookie value is too long to store ({0} bytes, at most 4093)")]
    CookieTooLong(usize),
}
