//! Reading the original request from the proxy's `X-Forwarded-*` headers.

use http::HeaderMap;
use http::request::Parts;

/// The longest accepted `X-Forwarded-Uri` (bytes).
pub(crate) const MAX_URI: usize = 8192;
/// The longest accepted `X-Forwarded-Host` (bytes).
const MAX_HOST: usize = 255;
/// The longest accepted method name.
const MAX_METHOD: usize = 32;

/// The request the proxy asks about, as its `X-Forwarded-*` headers describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Forwarded {
    /// `X-Forwarded-Method` (or `X-Original-Method`), upper-cased; `GET` when absent.
    pub(crate) method: String,
    /// `X-Forwarded-Proto`: `http` or `https`; `None` when absent.
    pub(crate) proto: Option<&'static str>,
    /// `X-Forwarded-Host`, lower-cased; `None` when absent.
    pub(crate) host: Option<String>,
    /// `X-Forwarded-Uri` (or `X-Original-URI`) as sent: path and query.
    pub(crate) uri: String,
    /// The percent-decoded path of `uri` (what the resource tree is asked about; the tree
    /// resolves `.` and `..` segments itself).
    pub(crate) path: String,
}

/// Why the forwarded headers cannot be used: a 400 with this message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BadForwarded(pub(crate) String);

fn one<'a>(headers: &'a HeaderMap, names: &[&str]) -> Result<Option<&'a str>, BadForwarded> {
    for name in names {
        let mut values = headers.get_all(*name).iter();
        let Some(first) = values.next() else {
            continue;
        };
        if values.next().is_some() {
            return Err(BadForwarded(format!("`{name}` appears more than once")));
        }
        let text = first
            .to_str()
            .map_err(|_| BadForwarded(format!("`{name}` is not visible ASCII")))?;
        return Ok(Some(text.trim()));
    }
    Ok(None)
}

/// The value of the first of `names` present; when several are present they must agree
/// (a proxy that sets only `X-Original-URI` passes a client's own `X-Forwarded-Uri` on:
/// disagreeing copies are refused rather than one of them believed).
fn agreed<'a>(headers: &'a HeaderMap, names: &[&str]) -> Result<Option<&'a str>, BadForwarded> {
    let mut found: Option<(&str, &str)> = None;
    for name in names {
        if let Some(v) = one(headers, &[name])? {
            match found {
                None => found = Some((name, v)),
                Some((first, seen)) if seen != v => {
                    return Err(BadForwarded(format!(
                        "`{first}` and `{name}` disagree: the proxy must set the one it uses"
                    )));
                }
                Some(_) => {}
            }
        }
    }
    Ok(found.map(|(_, v)| v))
}

fn is_tchar(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c)
}

fn valid_host(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= MAX_HOST
        && h.bytes()
            .all(|c| c.is_ascii_alphanumeric() || b".-_:[]".contains(&c))
}

/// Percent-decodes a path once; `None` for invalid UTF-8, a NUL or another control
/// character (which no backend should be asked about).
pub(crate) fn decode_path(path: &str) -> Option<String> {
    let b = path.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            let hex = |j: usize| b.get(j).and_then(|x| (*x as char).to_digit(16));
            if let (Some(h), Some(l)) = (hex(i + 1), hex(i + 2)) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    let s = String::from_utf8(out).ok()?;
    (!s.chars().any(char::is_control)).then_some(s)
}

impl Forwarded {
    /// Reads the headers of a request from a trusted proxy.
    pub(crate) fn read(parts: &Parts) -> Result<Forwarded, BadForwarded> {
        let h = &parts.headers;
        let method = match agreed(h, &["x-forwarded-method", "x-original-method"])? {
            None => "GET".to_owned(),
            Some(m) if !m.is_empty() && m.len() <= MAX_METHOD && m.bytes().all(is_tchar) => {
                m.to_ascii_uppercase()
            }
            Some(m) => {
                return Err(BadForwarded(format!(
                    "`X-Forwarded-Method` is not an HTTP method: `{}`",
                    m.escape_debug()
                )));
            }
        };
        let proto = match one(h, &["x-forwarded-proto"])? {
            None => None,
            Some(p) if p.eq_ignore_ascii_case("https") => Some("https"),
            Some(p) if p.eq_ignore_ascii_case("http") => Some("http"),
            Some(p) => {
                return Err(BadForwarded(format!(
                    "`X-Forwarded-Proto` must be `http` or `https`, not `{}`",
                    p.escape_debug()
                )));
            }
        };
        let host = match one(h, &["x-forwarded-host"])? {
            None => None,
            Some(v) if valid_host(v) => Some(v.to_ascii_lowercase()),
            Some(v) => {
                return Err(BadForwarded(format!(
                    "`X-Forwarded-Host` is not a host name: `{}`",
                    v.chars().take(64).collect::<String>().escape_debug()
                )));
            }
        };
        let Some(uri) = agreed(h, &["x-forwarded-uri", "x-original-uri"])? else {
            return Err(BadForwarded(
                "missing `X-Forwarded-Uri` (or `X-Original-URI`): the proxy must say which \
                 path it asks about"
                    .to_owned(),
            ));
        };
        if uri.len() > MAX_URI {
            return Err(BadForwarded(format!(
                "`X-Forwarded-Uri` is longer than {MAX_URI} bytes"
            )));
        }
        if !uri.starts_with('/') || uri.parse::<http::uri::PathAndQuery>().is_err() {
            return Err(BadForwarded(format!(
                "`X-Forwarded-Uri` must be a path starting with `/`, not `{}`",
                uri.chars().take(64).collect::<String>().escape_debug()
            )));
        }
        let raw_path = uri.split(['?', '#']).next().unwrap_or("/");
        let path = decode_path(raw_path).ok_or_else(|| {
            BadForwarded(
                "the path of `X-Forwarded-Uri` decodes to invalid UTF-8 or a control character"
                    .to_owned(),
            )
        })?;
        Ok(Forwarded {
            method,
            proto,
            host,
            uri: uri.to_owned(),
            path,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(headers: &[(&str, &str)]) -> Parts {
        let mut b = http::Request::builder().uri("/auth/verify");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(()).unwrap().into_parts().0
    }

    #[test]
    fn reads_and_decodes() {
        let f = Forwarded::read(&parts(&[
            ("x-forwarded-method", "post"),
            ("x-forwarded-proto", "HTTPS"),
            ("x-forwarded-host", "App.Example:8443"),
            ("x-forwarded-uri", "/%61dmin/a%20b?x=%2F"),
        ]))
        .unwrap();
        assert_eq!(f.method, "POST");
        assert_eq!(f.proto, Some("https"));
        assert_eq!(f.host.as_deref(), Some("app.example:8443"));
        assert_eq!(f.path, "/admin/a b");
        assert_eq!(f.uri, "/%61dmin/a%20b?x=%2F");
        let both = [("x-original-uri", "/x"), ("x-forwarded-uri", "/x")];
        assert_eq!(Forwarded::read(&parts(&both)).unwrap().path, "/x");
        let nginx = Forwarded::read(&parts(&[("x-original-uri", "/x")])).unwrap();
        assert_eq!((nginx.method.as_str(), nginx.path.as_str()), ("GET", "/x"));
    }

    #[test]
    fn refuses_bad_values() {
        for h in [
            vec![],
            vec![("x-forwarded-uri", "relative")],
            vec![("x-forwarded-uri", "http://evil.example/")],
            vec![("x-forwarded-uri", "/a%00b")],
            vec![("x-forwarded-uri", "/a%ffb")],
            vec![("x-forwarded-uri", "/"), ("x-forwarded-proto", "gopher")],
            vec![("x-forwarded-uri", "/"), ("x-forwarded-host", "a b")],
            vec![("x-forwarded-uri", "/"), ("x-forwarded-host", "a/b")],
            vec![("x-forwarded-uri", "/"), ("x-forwarded-method", "GE T")],
            vec![("x-forwarded-uri", "/"), ("x-forwarded-uri", "/admin")],
            vec![("x-original-uri", "/admin"), ("x-forwarded-uri", "/public")],
            vec![
                ("x-forwarded-uri", "/"),
                ("x-original-method", "POST"),
                ("x-forwarded-method", "GET"),
            ],
        ] {
            assert!(Forwarded::read(&parts(&h)).is_err(), "{h:?}");
        }
        let long = format!("/{}", "a".repeat(MAX_URI));
        assert!(Forwarded::read(&parts(&[("x-forwarded-uri", &long)])).is_err());
    }
}
