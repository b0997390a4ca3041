//! Cookie serialization exactly as WebOb writes it (what Pyramid sends), and reading
//! a cookie value back the way WebOb reads it.
//!
//! WebOb quotes a value that contains a character outside RFC 6265's cookie-octet
//! set (a `,` between ticket tokens, for instance): the value is wrapped in `"` and
//! each such character is written as a backslash and three octal digits (`,` is `\054`). A
//! server that reads such a cookie must undo this before checking the ticket:
//! [`unquote_cookie_value`] does, and [`cookie_value_from_header`] finds a cookie in a
//! `Cookie` request header and unquotes it.

use std::borrow::Cow;
use std::fmt::Write as _;

/// The `SameSite` cookie attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SameSite {
    /// `SameSite=Strict`.
    Strict,
    /// `SameSite=Lax` (Pyramid 2's default).
    Lax,
    /// `SameSite=None` (requires `Secure`).
    None,
}

impl SameSite {
    /// The attribute value as written.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Strict => "Strict",
            Self::Lax => "Lax",
            Self::None => "None",
        }
    }
}

/// Bytes allowed unquoted in a cookie value (RFC 6265 cookie-octet, as WebOb lists them).
fn is_cookie_octet(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'()*+-./:<=>?@[]^_`{|}~".contains(&b)
}

/// WebOb's `_escape_char`: allowed bytes and space as is, others as `\ooo`.
fn escape_into(v: &[u8], out: &mut String) {
    for &b in v {
        if is_cookie_octet(b) || b == b' ' {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "\\{b:03o}");
        }
    }
}

/// Bytes allowed in a cookie *name* (RFC 2616 token).
pub(crate) fn is_valid_cookie_name(name: &str) -> bool {
    const ATTRS: [&str; 8] = [
        "path", "comment", "domain", "max-age", "expires", "secure", "httponly", "samesite",
    ];
    !name.is_empty()
        && !name.starts_with('$')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
        && !ATTRS.contains(&name.to_ascii_lowercase().as_str())
}

/// The attributes of one `Set-Cookie` header.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CookieAttrs<'a> {
    pub(crate) name: &'a str,
    pub(crate) path: &'a str,
    pub(crate) domain: Option<&'a str>,
    pub(crate) secure: bool,
    pub(crate) http_only: bool,
    pub(crate) same_site: Option<SameSite>,
}

/// WebOb's `make_cookie(...)` serialization. `value: None` deletes the cookie
/// (empty value, `Max-Age=0`, an expiry date in 1997). With `max_age`, `expires` is
/// `now + max_age`.
pub(crate) fn set_cookie(
    a: &CookieAttrs<'_>,
    value: Option<&str>,
    max_age: Option<u64>,
    now: u64,
) -> String {
    let mut out = String::with_capacity(256);
    out.push_str(a.name);
    out.push('=');
    let (max_age, expires) = match value {
        None => (Some(0), Some(Cow::Borrowed("Wed, 31-Dec-97 23:59:59 GMT"))),
        Some(v) => {
            if v.bytes().all(is_cookie_octet) {
                out.push_str(v);
            } else {
                out.push('"');
                escape_into(v.as_bytes(), &mut out);
                out.push('"');
            }
            (
                max_age,
                max_age.map(|m| Cow::Owned(http_date(now.saturating_add(m)))),
            )
        }
    };
    // Attributes in WebOb's order: Domain, Max-Age, Path (sorted), expires, secure,
    // HttpOnly, SameSite. Empty values are left out, as WebOb does.
    if let Some(domain) = a.domain.filter(|d| !d.is_empty()) {
        out.push_str("; Domain=");
        escape_into(domain.as_bytes(), &mut out);
    }
    if let Some(m) = max_age {
        let _ = write!(out, "; Max-Age={m}");
    }
    if !a.path.is_empty() {
        out.push_str("; Path=");
        escape_into(a.path.as_bytes(), &mut out);
    }
    if let Some(e) = expires {
        out.push_str("; expires=");
        out.push_str(&e);
    }
    if a.secure {
        out.push_str("; secure");
    }
    if a.http_only {
        out.push_str("; HttpOnly");
    }
    if let Some(s) = a.same_site {
        out.push_str("; SameSite=");
        out.push_str(s.as_str());
    }
    out
}

/// `Wdy, DD-Mon-YYYY HH:MM:SS GMT`, WebOb's cookie date format.
pub(crate) fn http_date(epoch: u64) -> String {
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = epoch / 86_400;
    let secs = epoch % 86_400;
    // Howard Hinnant's civil_from_days, for days since 1970-01-01 (non-negative here).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let weekday = WEEKDAYS.get((days % 7) as usize).copied().unwrap_or("Thu");
    let mon = MONTHS
        .get(usize::try_from(month - 1).unwrap_or(0))
        .copied()
        .unwrap_or("Jan");
    format!(
        "{weekday}, {day:02}-{mon}-{year:04} {:02}:{:02}:{:02} GMT",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Undoes WebOb's cookie value quoting: strips one pair of surrounding `"` and
/// decodes backslash escapes (three octal digits, or any escaped character), as
/// WebOb's `_unquote` does. A value without backslashes or quotes is borrowed.
pub fn unquote_cookie_value(raw: &str) -> Cow<'_, str> {
    let v = if raw.starts_with('"') && raw.ends_with('"') {
        raw.get(1..raw.len().saturating_sub(1)).unwrap_or("")
    } else {
        raw
    };
    if !v.contains('\\') {
        return Cow::Borrowed(v);
    }
    let b = v.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'\\' {
            let oct = |j: usize, max: u8| b.get(i + j).filter(|d| (b'0'..=max).contains(d));
            if let (Some(d1), Some(d2), Some(d3)) = (oct(1, b'3'), oct(2, b'7'), oct(3, b'7')) {
                out.push((d1 - b'0') << 6 | (d2 - b'0') << 3 | (d3 - b'0'));
                i += 4;
                continue;
            }
            if let Some(&next) = b.get(i + 1) {
                out.push(next);
                i += 2;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    match String::from_utf8(out) {
        Ok(s) => Cow::Owned(s),
        Err(e) => Cow::Owned(String::from_utf8_lossy(e.as_bytes()).into_owned()),
    }
}

/// Finds cookie `name` in a `Cookie` request header and returns its unquoted value.
/// When the name occurs more than once the last one wins, as in WebOb.
pub fn cookie_value_from_header<'h>(header: &'h str, name: &str) -> Option<Cow<'h, str>> {
    header
        .split(';')
        .filter_map(|pair| pair.split_once('='))
        .rfind(|(k, _)| k.trim() == name)
        .map(|(_, v)| unquote_cookie_value(v.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates() {
        // Python: time.strftime('%a, %d-%b-%Y %H:%M:%S GMT', time.gmtime(t))
        assert_eq!(http_date(0), "Thu, 01-Jan-1970 00:00:00 GMT");
        assert_eq!(http_date(1_700_000_000), "Tue, 14-Nov-2023 22:13:20 GMT");
        assert_eq!(http_date(951_782_400), "Tue, 29-Feb-2000 00:00:00 GMT");
        assert_eq!(http_date(4_102_444_799), "Thu, 31-Dec-2099 23:59:59 GMT");
        // Far future: no overflow or panic.
        assert!(http_date(u64::MAX).ends_with(" GMT"));
    }

    #[test]
    fn value_quoting_round_trips() {
        let a = CookieAttrs {
            name: "auth_tkt",
            path: "/",
            domain: None,
            secure: false,
            http_only: false,
            same_site: None,
        };
        let h = set_cookie(&a, Some("abc!editors,staff!x y;\"\\"), None, 0);
        assert_eq!(
            h,
            "auth_tkt=\"abc!editors\\054staff!x y\\073\\042\\134\"; Path=/"
        );
        let raw = h
            .strip_prefix("auth_tkt=")
            .and_then(|s| s.strip_suffix("; Path=/"))
            .unwrap();
        assert_eq!(unquote_cookie_value(raw), "abc!editors,staff!x y;\"\\");
        assert_eq!(
            cookie_value_from_header(&format!("a=1; auth_tkt={raw}; b=2"), "auth_tkt").unwrap(),
            "abc!editors,staff!x y;\"\\"
        );
        assert_eq!(
            cookie_value_from_header("auth_tkt=1; auth_tkt=2", "auth_tkt").unwrap(),
            "2"
        );
        assert!(cookie_value_from_header("x=1", "auth_tkt").is_none());
        assert_eq!(unquote_cookie_value("\""), "");
        assert_eq!(unquote_cookie_value("a\\"), "a\\");
    }

    #[test]
    fn cookie_names() {
        assert!(is_valid_cookie_name("auth_tkt"));
        for bad in ["", "$x", "a b", "a;b", "Path", "max-age", "a=b"] {
            assert!(!is_valid_cookie_name(bad), "{bad:?}");
        }
    }
}
