//! Cookie header parsing and `Set-Cookie` building shared by sessions and CSRF.

use super::config::SameSite;

/// The values of cookie `name` in a `Cookie` request header, in header order (the
/// most specific path first, as browsers send them). Surrounding quotes are removed.
/// At most `limit` values are returned.
pub(crate) fn values<'a>(header: &'a str, name: &'a str, limit: usize) -> Vec<&'a str> {
    header
        .split(';')
        .filter_map(|pair| {
            let (n, v) = pair.split_once('=')?;
            (n.trim() == name).then(|| {
                let v = v.trim();
                v.strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .unwrap_or(v)
            })
        })
        .take(limit)
        .collect()
}

/// The attributes of a `Set-Cookie` header.
#[derive(Debug, Clone)]
pub(crate) struct Attrs<'a> {
    pub(crate) path: &'a str,
    pub(crate) domain: Option<&'a str>,
    pub(crate) secure: bool,
    pub(crate) http_only: bool,
    pub(crate) same_site: SameSite,
}

/// `name=value` with the attributes, and `Max-Age` when given.
pub(crate) fn set_cookie(name: &str, value: &str, max_age: Option<u64>, a: &Attrs<'_>) -> String {
    let mut s = format!("{name}={value}; Path={}", a.path);
    if let Some(d) = a.domain {
        s.push_str("; Domain=");
        s.push_str(d);
    }
    if let Some(age) = max_age {
        s.push_str(&format!("; Max-Age={age}"));
    }
    if a.http_only {
        s.push_str("; HttpOnly");
    }
    if a.secure {
        s.push_str("; Secure");
    }
    s.push_str(&format!("; SameSite={}", a.same_site));
    s
}

/// A header that makes the browser drop the cookie now.
pub(crate) fn expire_cookie(name: &str, a: &Attrs<'_>) -> String {
    let mut s = set_cookie(name, "", Some(0), a);
    s.push_str("; Expires=Thu, 01 Jan 1970 00:00:00 GMT");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_values_are_found_in_order() {
        let h =
            r#"a=1; portcullis_session=x; b="2"; portcullis_session="y"; portcullis_sessionx=z"#;
        assert_eq!(values(h, "portcullis_session", 4), ["x", "y"]);
        assert_eq!(values(h, "portcullis_session", 1), ["x"]);
        assert_eq!(values(h, "b", 4), ["2"]);
        assert!(values(h, "c", 4).is_empty());
        assert!(values("", "a", 4).is_empty());
        assert_eq!(values("novalue; a=", "a", 4), [""]);
    }

    #[test]
    fn set_cookie_has_the_attributes() {
        let a = Attrs {
            path: "/",
            domain: Some("example.com"),
            secure: true,
            http_only: true,
            same_site: SameSite::Strict,
        };
        assert_eq!(
            set_cookie("n", "v", Some(10), &a),
            "n=v; Path=/; Domain=example.com; Max-Age=10; HttpOnly; Secure; SameSite=Strict"
        );
        let e = expire_cookie("n", &a);
        assert!(
            e.starts_with("n=; Path=/; Domain=example.com; Max-Age=0;"),
            "{e}"
        );
        assert!(e.ends_with("Expires=Thu, 01 Jan 1970 00:00:00 GMT"), "{e}");
    }
}
