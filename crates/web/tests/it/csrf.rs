//! CSRF: token storage (session and signed cookie) and the request check (token and
//! origin), with Pyramid's semantics.

use http::{HeaderMap, HeaderValue, Method};
use portcullis_store::Store;
use portcullis_web::csrf::{
    BadOrigin, BadToken, CookieCsrfStorage, CsrfCheck, CsrfConfig, CsrfError, CsrfFailure,
    CsrfRequest, SessionCsrfStorage, form_field,
};
use portcullis_web::secret::MasterSecret;
use portcullis_web::session::{SessionConfig, SessionManager, SqlSessionStore};

const FORM: &str = "application/x-www-form-urlencoded";

fn master() -> MasterSecret {
    MasterSecret::new(b"0123456789abcdef0123456789abcdef".to_vec()).unwrap()
}

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.append(*k, HeaderValue::from_str(v).unwrap());
    }
    h
}

fn checker() -> CsrfCheck {
    CsrfCheck::new(CsrfConfig::default())
}

/// Runs the full check of an https request to `example.com`.
fn run(
    check: &CsrfCheck,
    method: Method,
    extra: &[(&'static str, &str)],
    form: Option<&str>,
    expected: Option<&str>,
) -> Result<(), CsrfError> {
    let mut pairs = vec![("host", "example.com")];
    pairs.extend_from_slice(extra);
    let h = headers(&pairs);
    check.check(
        &CsrfRequest::new(&method, &h, true).with_form_token(form),
        expected,
    )
}

const T: &str = "tokentokentokentokentokentokentokentokentok";

#[test]
fn safe_methods_pass_without_token_or_origin() {
    let c = checker();
    for m in [Method::GET, Method::HEAD, Method::OPTIONS, Method::TRACE] {
        assert_eq!(run(&c, m.clone(), &[], None, None), Ok(()), "{m}");
        assert_eq!(
            run(&c, m, &[("origin", "https://evil.com")], None, Some(T)),
            Ok(())
        );
    }
    for m in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
        assert!(run(&c, m, &[], None, Some(T)).is_err());
    }
    // Safe methods are configurable.
    let strict = CsrfCheck::new(CsrfConfig {
        safe_methods: vec![Method::HEAD],
        ..CsrfConfig::default()
    });
    assert!(run(&strict, Method::GET, &[], None, Some(T)).is_err());
}

#[test]
fn token_in_header_or_form_field() {
    let c = checker();
    let same = ("origin", "https://example.com");
    assert_eq!(
        run(
            &c,
            Method::POST,
            &[same, ("x-csrf-token", T)],
            None,
            Some(T)
        ),
        Ok(())
    );
    assert_eq!(
        run(
            &c,
            Method::POST,
            &[same, ("content-type", FORM)],
            Some(T),
            Some(T)
        ),
        Ok(())
    );
    assert_eq!(
        run(
            &c,
            Method::POST,
            &[same, ("content-type", "multipart/form-data; boundary=x")],
            Some(T),
            Some(T)
        ),
        Ok(())
    );
    // The header wins over the form field (checked first, as Pyramid's code does).
    assert_eq!(
        run(
            &c,
            Method::POST,
            &[same, ("x-csrf-token", "wrong"), ("content-type", FORM)],
            Some(T),
            Some(T)
        ),
        Err(CsrfError::BadToken(BadToken::Mismatch))
    );
    // A "form field" of a JSON body does not count.
    let err = run(
        &c,
        Method::POST,
        &[same, ("content-type", "application/json")],
        Some(T),
        Some(T),
    )
    .unwrap_err();
    assert!(matches!(err, CsrfError::BadToken(BadToken::Missing { .. })));
    assert_eq!(
        err.to_string(),
        "bad csrf token: no token in the `X-CSRF-Token` header or the `csrf_token` form field"
    );
    // Custom names.
    let custom = CsrfCheck::new(CsrfConfig {
        header_name: "X-XSRF".into(),
        field_name: "_csrf".into(),
        ..CsrfConfig::default()
    });
    assert_eq!(
        run(&custom, Method::POST, &[same, ("x-xsrf", T)], None, Some(T)),
        Ok(())
    );
    assert!(
        run(
            &custom,
            Method::POST,
            &[same, ("x-csrf-token", T)],
            None,
            Some(T)
        )
        .is_err()
    );
    // needs_form_field tells the layer when the body must be read.
    let post = Method::POST;
    assert!(c.needs_form_field(&post, &headers(&[("content-type", FORM)])));
    assert!(!c.needs_form_field(
        &post,
        &headers(&[("content-type", FORM), ("x-csrf-token", T)])
    ));
    assert!(!c.needs_form_field(&post, &headers(&[("content-type", "application/json")])));
    assert!(!c.needs_form_field(&Method::GET, &headers(&[("content-type", FORM)])));
    assert_eq!(
        form_field(format!("a=1&csrf_token={T}").as_bytes(), "csrf_token").as_deref(),
        Some(T)
    );
}

#[test]
fn missing_or_wrong_token_is_bad_token() {
    let c = checker();
    let same = ("origin", "https://example.com");
    let kind = |r: Result<(), CsrfError>| r.unwrap_err().kind();
    assert_eq!(
        kind(run(&c, Method::POST, &[same], None, Some(T))),
        CsrfFailure::BadToken
    );
    assert_eq!(
        run(&c, Method::POST, &[same, ("x-csrf-token", T)], None, None),
        Err(CsrfError::BadToken(BadToken::NotIssued))
    );
    let mut tampered = T.to_owned();
    tampered.replace_range(42.., "x");
    assert_eq!(
        run(
            &c,
            Method::POST,
            &[same, ("x-csrf-token", &tampered)],
            None,
            Some(T)
        ),
        Err(CsrfError::BadToken(BadToken::Mismatch))
    );
    assert_eq!(
        run(
            &c,
            Method::POST,
            &[same, ("x-csrf-token", &T[..42])],
            None,
            Some(T)
        ),
        Err(CsrfError::BadToken(BadToken::Mismatch))
    );
    assert_eq!(
        kind(run(
            &c,
            Method::POST,
            &[same, ("x-csrf-token", "")],
            None,
            Some(T)
        )),
        CsrfFailure::BadToken
    );
}

#[test]
fn wrong_or_missing_origin_is_bad_origin() {
    let c = checker();
    let tok = ("x-csrf-token", T);
    let origin = |o: &str| run(&c, Method::POST, &[("origin", o), tok], None, Some(T));
    assert_eq!(origin("https://example.com"), Ok(()));
    assert_eq!(origin("https://EXAMPLE.com:443"), Ok(()));
    assert_eq!(
        origin("https://evil.com"),
        Err(CsrfError::BadOrigin(BadOrigin::Untrusted(
            "https://evil.com".into()
        )))
    );
    assert_eq!(
        origin("http://example.com"),
        Err(CsrfError::BadOrigin(BadOrigin::Insecure(
            "http://example.com".into()
        )))
    );
    assert!(matches!(
        origin("null"),
        Err(CsrfError::BadOrigin(BadOrigin::Malformed(_)))
    ));
    assert!(matches!(
        origin("https://example.com@evil.com"),
        Err(CsrfError::BadOrigin(BadOrigin::Malformed(_)))
    ));
    assert!(
        origin("https://example.com:8443").is_err(),
        "another port is another origin"
    );
    assert!(
        origin("https://sub.example.com").is_err(),
        "no subdomains unless trusted"
    );
    // Several Origin values: the last one counts (Pyramid).
    assert_eq!(origin("https://evil.com https://example.com"), Ok(()));
    assert!(origin("https://example.com https://evil.com").is_err());

    // No Origin on https: the Referer is used instead.
    let referer = |r: &str| run(&c, Method::POST, &[("referer", r), tok], None, Some(T));
    assert_eq!(referer("https://example.com/form?x=1"), Ok(()));
    assert!(matches!(
        referer("http://example.com/form"),
        Err(CsrfError::BadOrigin(BadOrigin::Insecure(_)))
    ));
    assert!(matches!(
        referer("https://evil.com/example.com"),
        Err(CsrfError::BadOrigin(BadOrigin::Untrusted(_)))
    ));
    // Neither header.
    let none = run(&c, Method::POST, &[tok], None, Some(T));
    assert_eq!(none, Err(CsrfError::BadOrigin(BadOrigin::Missing)));
    assert_eq!(none.unwrap_err().kind(), CsrfFailure::BadOrigin);
    let lenient = CsrfCheck::new(CsrfConfig {
        allow_no_origin: true,
        ..CsrfConfig::default()
    });
    assert_eq!(run(&lenient, Method::POST, &[tok], None, Some(T)), Ok(()));
    // The origin is checked before the token (Pyramid's order).
    assert_eq!(
        run(
            &c,
            Method::POST,
            &[("origin", "https://evil.com")],
            None,
            Some(T)
        )
        .unwrap_err()
        .kind(),
        CsrfFailure::BadOrigin
    );
    // check_origin: false leaves only the token.
    let off = CsrfCheck::new(CsrfConfig {
        check_origin: false,
        ..CsrfConfig::default()
    });
    assert_eq!(
        run(
            &off,
            Method::POST,
            &[("origin", "https://evil.com"), tok],
            None,
            Some(T)
        ),
        Ok(())
    );
    assert!(
        run(
            &off,
            Method::POST,
            &[("origin", "https://evil.com")],
            None,
            Some(T)
        )
        .is_err()
    );
}

#[test]
fn trusted_origins_with_a_leading_dot_admit_subdomains() {
    let c = CsrfCheck::new(CsrfConfig {
        trusted_origins: vec![
            ".example.com".into(),
            "partner.org".into(),
            "https://dev.local:8443/".into(),
        ],
        ..CsrfConfig::default()
    });
    let tok = ("x-csrf-token", T);
    let from = |o: &str| {
        let h = headers(&[("host", "app.internal"), ("origin", o), tok]);
        c.check(&CsrfRequest::new(&Method::POST, &h, true), Some(T))
    };
    for ok in [
        "https://example.com",
        "https://a.example.com",
        "https://a.b.example.com",
        "https://partner.org",
        "https://dev.local:8443",
        "https://app.internal",
    ] {
        assert_eq!(from(ok), Ok(()), "{ok}");
    }
    for bad in [
        "https://example.com.evil.com",
        "https://evilexample.com",
        "https://a.partner.org",
        "https://dev.local",
        "https://a.example.com:8443",
        "http://a.example.com",
    ] {
        assert_eq!(
            from(bad).unwrap_err().kind(),
            CsrfFailure::BadOrigin,
            "{bad}"
        );
    }
}

#[test]
fn request_host_comes_from_host_or_override() {
    let c = checker();
    let post = Method::POST;
    let h = headers(&[
        ("host", "example.com:8443"),
        ("origin", "https://example.com:8443"),
        ("x-csrf-token", T),
    ]);
    assert_eq!(c.check(&CsrfRequest::new(&post, &h, true), Some(T)), Ok(()));
    // Behind a proxy that rewrote Host, the application passes the public host.
    let h = headers(&[
        ("host", "backend:8000"),
        ("origin", "https://example.com"),
        ("x-csrf-token", T),
    ]);
    assert!(
        c.check(&CsrfRequest::new(&post, &h, true), Some(T))
            .is_err()
    );
    assert_eq!(
        c.check(
            &CsrfRequest::new(&post, &h, true).with_host("example.com"),
            Some(T)
        ),
        Ok(())
    );
    // No host at all: only configured origins are trusted.
    let h = headers(&[("origin", "https://example.com"), ("x-csrf-token", T)]);
    assert!(
        c.check(&CsrfRequest::new(&post, &h, true), Some(T))
            .is_err()
    );
}

#[test]
fn plain_http_follows_pyramid_except_for_a_foreign_origin() {
    let c = checker();
    let post = Method::POST;
    let http = |pairs: &[(&'static str, &str)]| {
        let mut all = vec![("host", "example.com"), ("x-csrf-token", T)];
        all.extend_from_slice(pairs);
        let h = headers(&all);
        c.check(&CsrfRequest::new(&post, &h, false), Some(T))
    };
    // Pyramid does not check origins on http: no Origin, null, or any Referer pass.
    assert_eq!(http(&[]), Ok(()));
    assert_eq!(http(&[("origin", "null")]), Ok(()));
    assert_eq!(http(&[("referer", "http://evil.com/")]), Ok(()));
    assert_eq!(http(&[("origin", "http://example.com")]), Ok(()));
    // Stricter than Pyramid: an Origin naming a foreign host is refused.
    assert_eq!(
        http(&[("origin", "http://evil.com")]).unwrap_err().kind(),
        CsrfFailure::BadOrigin
    );
    // The token is still required on http.
    let h = headers(&[("host", "example.com")]);
    assert_eq!(
        c.check(&CsrfRequest::new(&post, &h, false), Some(T))
            .unwrap_err()
            .kind(),
        CsrfFailure::BadToken
    );
}

#[test]
fn cookie_storage_roundtrip_and_tampering() {
    let storage = CookieCsrfStorage::new(&master());
    let first = storage.get_token(None, "").unwrap();
    assert_eq!(first.token.len(), 43, "256 random bits");
    let set = first.set_cookie.clone().expect("a new cookie");
    assert!(set.starts_with("csrf_token="), "{set}");
    assert!(set.contains("; Path=/; Secure; SameSite=Lax"), "{set}");
    assert!(
        !set.contains("HttpOnly"),
        "readable by scripts, as in Pyramid"
    );
    let cookie = set.split(';').next().unwrap().to_owned();
    let cookie_value = cookie.split_once('=').unwrap().1.to_owned();
    assert!(
        cookie_value.starts_with(&format!("{}.", first.token)),
        "token.mac"
    );

    // Next request: same token, no new cookie.
    let header = format!("session=x; {cookie}");
    let again = storage.get_token(Some(&header), "").unwrap();
    assert_eq!(again.token, first.token);
    assert_eq!(again.set_cookie, None);
    assert!(storage.check_token(Some(&header), "", &first.token));
    assert!(!storage.check_token(Some(&header), "", "x"));
    assert!(!storage.check_token(None, "", &first.token));

    // Through CsrfCheck, with the cookie's token as the expected one.
    let c = checker();
    let ok = run(
        &c,
        Method::POST,
        &[
            ("origin", "https://example.com"),
            ("cookie", &header),
            ("x-csrf-token", &first.token),
        ],
        None,
        storage.token(Some(&header), "").as_deref(),
    );
    assert_eq!(ok, Ok(()));

    // Tampering with the token part, the MAC part, or forging a plain double-submit
    // cookie (token=anything, no valid MAC) leaves no valid token.
    let (tok, mac) = cookie_value.split_once('.').unwrap();
    let mut bad_tok = tok.to_owned();
    bad_tok.replace_range(0..1, if tok.starts_with('A') { "B" } else { "A" });
    let mut bad_mac = mac.to_owned();
    bad_mac.replace_range(0..1, if mac.starts_with('A') { "B" } else { "A" });
    for forged in [
        format!("csrf_token={bad_tok}.{mac}"),
        format!("csrf_token={tok}.{bad_mac}"),
        format!("csrf_token={tok}"),
        format!("csrf_token={tok}."),
        "csrf_token=attacker-chosen".to_owned(),
    ] {
        assert_eq!(storage.token(Some(&forged), ""), None, "{forged}");
        assert_eq!(
            run(
                &c,
                Method::POST,
                &[("origin", "https://example.com"), ("x-csrf-token", tok)],
                None,
                storage.token(Some(&forged), "").as_deref()
            ),
            Err(CsrfError::BadToken(BadToken::NotIssued))
        );
        // get_token replaces a forged cookie with a fresh one.
        let fresh = storage.get_token(Some(&forged), "").unwrap();
        assert!(fresh.set_cookie.is_some());
        assert_ne!(fresh.token, tok);
    }

    // Bound to the user: a token minted for anonymous (or another user) fails after login.
    assert_eq!(storage.token(Some(&header), "42"), None);
    let bound = storage.new_token("42").unwrap();
    let bound_cookie = bound.set_cookie.unwrap();
    let bound_header = bound_cookie.split(';').next().unwrap();
    assert!(storage.check_token(Some(bound_header), "42", &bound.token));
    assert!(!storage.check_token(Some(bound_header), "43", &bound.token));
    assert!(!storage.check_token(Some(bound_header), "", &bound.token));

    // Another master secret (another deployment) does not accept it.
    let other = CookieCsrfStorage::new(
        &MasterSecret::new(b"another secret of 32 bytes or more!".to_vec()).unwrap(),
    );
    assert_eq!(other.token(Some(&header), ""), None);

    // new_token rotates.
    let renewed = storage.new_token("").unwrap();
    assert_ne!(renewed.token, first.token);

    // Cookie attributes are configurable; expiry removes it.
    let custom = CookieCsrfStorage::new(&master())
        .cookie_name("__Host-csrf")
        .http_only(true)
        .max_age(3600);
    let set = custom.new_token("").unwrap().set_cookie.unwrap();
    assert!(set.starts_with("__Host-csrf="));
    assert!(set.contains("; Max-Age=3600; HttpOnly; Secure"), "{set}");
    assert!(custom.expire_cookie().contains("Max-Age=0"));
    let dev = CookieCsrfStorage::new(&master()).dangerous_insecure_cookies();
    assert!(
        !dev.new_token("")
            .unwrap()
            .set_cookie
            .unwrap()
            .contains("Secure")
    );
}

#[tokio::test]
async fn session_storage_roundtrip_through_a_real_store() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("csrf.sqlite").display());
    let store = Store::open(&url).await.unwrap();
    let m = SessionManager::new(SqlSessionStore::new(store), SessionConfig::new()).unwrap();
    let storage = SessionCsrfStorage::new();

    // GET: render the form with the session's token.
    let mut s = m.create().unwrap();
    let token = storage.get_token(&mut s).unwrap();
    assert_eq!(token.len(), 43);
    let cookie = m.save(&mut s).await.unwrap().unwrap();
    let cookie = cookie.split(';').next().unwrap().to_owned();

    // POST: load the session, check the submitted field.
    let c = checker();
    let body = format!("title=hello&csrf_token={token}");
    let field = form_field(body.as_bytes(), "csrf_token");
    let session = m.load(Some(&cookie)).await.unwrap();
    let expected = session.as_ref().and_then(|s| storage.token(s));
    let post = |field: Option<&str>, expected: Option<&str>| {
        run(
            &c,
            Method::POST,
            &[("origin", "https://example.com"), ("content-type", FORM)],
            field,
            expected,
        )
    };
    assert_eq!(post(field.as_deref(), expected), Ok(()));
    assert_eq!(
        post(Some("forged"), expected),
        Err(CsrfError::BadToken(BadToken::Mismatch))
    );
    assert!(post(None, expected).is_err());
    // A request without the session (the attacker's own) has nothing to match.
    assert_eq!(
        post(field.as_deref(), None),
        Err(CsrfError::BadToken(BadToken::NotIssued))
    );
    // After new_token the old one fails.
    let mut s = session.unwrap();
    let fresh = storage.new_token(&mut s).unwrap();
    m.save(&mut s).await.unwrap();
    let s = m.load(Some(&cookie)).await.unwrap().unwrap();
    assert!(storage.check_token(Some(&s), &fresh));
    assert_eq!(
        post(Some(&token), storage.token(&s)),
        Err(CsrfError::BadToken(BadToken::Mismatch))
    );
}
