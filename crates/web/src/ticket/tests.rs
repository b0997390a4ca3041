//! Known vectors from real Pyramid, tampering, malformed input, expiry and reissue.
//!
//! The vectors were produced with Pyramid 2.1 / WebOb 1.8.11 (Python 3.11):
//!
//! ```python
//! from pyramid.authentication import AuthTicket, AuthTktCookieHelper
//! AuthTicket(secret, userid, ip, tokens=tokens, user_data=user_data, time=time,
//!            hashalg=hashalg).cookie_value()
//! # Set-Cookie vectors: AuthTktCookieHelper(...).remember/forget on
//! # webob.Request.blank('/', environ={'REMOTE_ADDR': '192.0.2.7',
//! #                                   'HTTP_HOST': 'www.example.com:8080'})
//! # with pyramid.authentication.time_mod.time and webob's datetime.utcnow frozen at
//! # 1700000000.
//! ```

use super::*;

const NOW: u64 = 1_700_000_000;

fn secret() -> TicketSecret {
    TicketSecret::verbatim("seekrit").unwrap()
}

struct Vector {
    userid: &'static str,
    ip: &'static str,
    tokens: &'static [&'static str],
    user_data: &'static str,
    time: u64,
    alg: HashAlg,
    cookie: &'static str,
}

const VECTORS: &[Vector] = &[
    Vector {
        userid: "alice",
        ip: "0.0.0.0",
        tokens: &[],
        user_data: "",
        time: NOW,
        alg: HashAlg::Sha512,
        cookie: "fb349a53ec2378e334b96aea615a42a197bf4ad519dd8a23b97b9a4315266f92f122f6b92be7884829b2d5776b77e8bbd078296dd10ad79586b07d1c7bfe0f196553f100alice!",
    },
    Vector {
        userid: "u0001@example.com",
        ip: "0.0.0.0",
        tokens: &["editors", "staff"],
        user_data: "",
        time: NOW,
        alg: HashAlg::Sha512,
        cookie: "12cb05efee5eaa7f8581c415dde3a8cb880a981d07b382fb90a3e09aae594e2f5aa78181dd40a03b665ef45d5b6021c746527d1206af814680e13f5e4fb7d8f56553f100u0001%40example.com!editors,staff!",
    },
    Vector {
        userid: "42",
        ip: "192.0.2.7",
        tokens: &["a"],
        user_data: "userid_type:int",
        time: 1_234_567_890,
        alg: HashAlg::Sha256,
        cookie: "db84cccf76897544cfdd4935194446359ac2eb8a12b675cd65c85b3fb7ee3a16499602d242!a!userid_type:int",
    },
    Vector {
        userid: "j\u{f6}rg",
        ip: "::1",
        tokens: &[],
        user_data: "data",
        time: NOW,
        alg: HashAlg::Sha1,
        cookie: "15b337907d573205f27075f101b0110d4c96a1936553f100j%C3%B6rg!data",
    },
    Vector {
        userid: "bob",
        ip: "2001:db8::7",
        tokens: &["x", "y"],
        user_data: "d",
        time: NOW,
        alg: HashAlg::Md5,
        cookie: "0ab46877a41bd5fe8b83730bf820d1266553f100bob!x,y!d",
    },
];

#[test]
fn issues_pyramid_vectors() {
    let s = secret();
    for v in VECTORS {
        let ip = ClientIp::parse(v.ip).unwrap();
        let t = AuthTicket {
            secret: &s,
            userid: v.userid,
            ip: &ip,
            tokens: v.tokens,
            user_data: v.user_data,
            time: v.time,
            hashalg: v.alg,
        };
        assert_eq!(t.cookie_value(), v.cookie, "{}", v.userid);
        assert!(v.cookie.starts_with(&t.digest()));
    }
}

#[test]
fn parses_pyramid_vectors() {
    let s = secret();
    for v in VECTORS {
        let ip = ClientIp::parse(v.ip).unwrap();
        let p = parse_ticket(&s, v.cookie, &ip, v.alg).unwrap();
        assert_eq!(p.timestamp(), v.time);
        assert_eq!(p.userid(), v.userid);
        assert_eq!(p.tokens().collect::<Vec<_>>(), v.tokens);
        assert_eq!(p.user_data(), v.user_data);
        // Surrounding quotes are stripped, as Pyramid does.
        let quoted = format!("\"{}\"", v.cookie);
        assert_eq!(parse_ticket(&s, &quoted, &ip, v.alg).unwrap(), p);
        // Another algorithm, address or secret does not verify.
        let other_alg = if v.alg == HashAlg::Sha512 {
            HashAlg::Sha256
        } else {
            HashAlg::Sha512
        };
        assert!(parse_ticket(&s, v.cookie, &ip, other_alg).is_err());
        let other_ip = ClientIp::parse("10.9.8.7").unwrap();
        assert_eq!(
            parse_ticket(&s, v.cookie, &other_ip, v.alg),
            Err(BadTicket::BadDigest)
        );
        let other = TicketSecret::verbatim("seekriT").unwrap();
        assert_eq!(
            parse_ticket(&other, v.cookie, &ip, v.alg),
            Err(BadTicket::BadDigest)
        );
    }
}

#[test]
fn tampering_any_field_breaks_the_digest() {
    let s = secret();
    let v = &VECTORS[1];
    let ip = ClientIp::UNSPECIFIED;
    let good = v.cookie;
    let d = 128;
    let tampered = [
        // digest: flip one hex digit
        format!(
            "{}{}",
            if &good[..1] == "0" { "1" } else { "0" },
            &good[1..]
        ),
        // digest in upper case (Pyramid compares the lower-case text)
        format!("{}{}", good[..d].to_ascii_uppercase(), &good[d..]),
        // timestamp + 1
        good.replace("6553f100", "6553f101"),
        // userid
        good.replace("u0001%40", "u0002%40"),
        // userid: same text, different escaping is fine, but a different char is not
        good.replace("%40example", "%41example"),
        // tokens
        good.replace("editors,staff", "editors,staff,admin"),
        good.replace("editors,staff", "staff,editors"),
        // user data appended
        format!("{good}x"),
    ];
    for t in &tampered {
        assert_eq!(
            parse_ticket(&s, t, &ip, HashAlg::Sha512),
            Err(BadTicket::BadDigest),
            "{t}"
        );
    }
    // Percent-encoding is not signed: `%61` decodes to the same userid.
    let same = good.replace("u0001", "%75%30%30%30%31");
    assert!(parse_ticket(&s, &same, &ip, HashAlg::Sha512).is_ok());
}

#[test]
fn malformed_tickets_give_clear_errors() {
    let s = secret();
    let ip = ClientIp::UNSPECIFIED;
    let digest = "a".repeat(128);
    let cases: Vec<(String, BadTicket)> = vec![
        (String::new(), BadTicket::TooShort { len: 0, min: 136 }),
        ("\"\"".into(), BadTicket::TooShort { len: 0, min: 136 }),
        (
            format!("{digest}6553f1"),
            BadTicket::TooShort { len: 134, min: 136 },
        ),
        (format!("{digest}6553f10xalice!"), BadTicket::BadTimestamp),
        (format!("{digest} 553f100alice!"), BadTicket::BadTimestamp),
        (
            format!("{digest}6553f1\u{e9}alice!"),
            BadTicket::BadTimestamp,
        ),
        (
            format!("{digest}6553f100alice"),
            BadTicket::MissingSeparator,
        ),
        (
            format!("{digest}6553f100al%FFice!"),
            BadTicket::InvalidUserid,
        ),
        (
            format!("{digest}6553f100al%C3ice!x!y"),
            BadTicket::InvalidUserid,
        ),
        (format!("{digest}6553f100alice!"), BadTicket::BadDigest),
        (
            format!("{digest}6553f100{}!", "a".repeat(MAX_TICKET_LEN)),
            BadTicket::TooLong {
                len: MAX_TICKET_LEN + 137,
                max: MAX_TICKET_LEN,
            },
        ),
        (
            format!("{}6553f100alice!", "\u{e9}".repeat(64)),
            BadTicket::BadDigest,
        ),
    ];
    for (t, want) in &cases {
        assert_eq!(
            parse_ticket(&s, t, &ip, HashAlg::Sha512).as_ref(),
            Err(want),
            "{t:?}"
        );
        // Errors are human-readable, lowercase, no trailing period.
        let msg = want.to_string();
        assert!(!msg.ends_with('.') && msg.chars().next().is_some_and(|c| c.is_lowercase()));
    }
    // Arbitrary byte soup never panics.
    let mut seed = 0x5EED_u64;
    for len in 0..400 {
        let mut t = String::new();
        for _ in 0..len {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let c = b"0123456789abcdef!%,\"\xc3"[(seed >> 33) as usize % 21];
            t.push(char::from(c));
        }
        let _ = parse_ticket(&s, &t, &ip, HashAlg::Md5);
        let _ = unquote_cookie_value(&t);
        let _ = cookie_value_from_header(&t, "auth_tkt");
        let _ = policy().build().unwrap().identify(&t, &req(), NOW);
    }
}

fn policy() -> AuthTktCookieBuilder {
    AuthTktCookie::builder(secret()).pyramid_defaults()
}

fn req() -> TicketRequest<'static> {
    TicketRequest::new(
        "www.example.com:8080",
        ClientIp::parse("192.0.2.7").unwrap(),
    )
}

#[test]
fn set_cookie_headers_match_pyramid() {
    let p = policy().build().unwrap();
    let h = p
        .remember(&UserId::from("alice"), &["editors", "staff"], &req(), NOW)
        .unwrap();
    assert_eq!(
        h,
        [
            "auth_tkt=\"ec500b1a9eb25b6e3c5fa08ed291ed66b7f3f7f6529eaeaf4626753df367ba9d8a9776415171f1403ebf55bfc945cae2f81b57fe0c1e4a52e030e31b46f78ad06553f100YWxpY2U%3D!editors\\054staff!userid_type:b64unicode\"; Domain=www.example.com; Path=/; SameSite=Lax"
        ]
    );
    assert_eq!(
        p.forget(&req()),
        [
            "auth_tkt=; Domain=www.example.com; Max-Age=0; Path=/; expires=Wed, 31-Dec-97 23:59:59 GMT; SameSite=Lax"
        ]
    );
    let p = policy()
        .secure(true)
        .http_only(true)
        .parent_domain(true)
        .max_age(Some(3600))
        .include_ip(true)
        .same_site(Some(SameSite::Strict))
        .hashalg(HashAlg::Sha256)
        .path("/app")
        .build()
        .unwrap();
    assert_eq!(
        p.remember(&UserId::Int(42), &[], &req(), NOW).unwrap(),
        [
            "auth_tkt=19561f9b7e3b4fcc4af5f081dcdde6ec9bd00e1d918d03df8b4d26285925c92b6553f10042!userid_type:int; Domain=example.com; Max-Age=3600; Path=/app; expires=Tue, 14-Nov-2023 23:13:20 GMT; secure; HttpOnly; SameSite=Strict"
        ]
    );
    assert_eq!(
        p.forget(&req()),
        [
            "auth_tkt=; Domain=example.com; Max-Age=0; Path=/app; expires=Wed, 31-Dec-97 23:59:59 GMT; secure; HttpOnly; SameSite=Strict"
        ]
    );
}

#[test]
fn domain_options() {
    let domain_of = |b: AuthTktCookieBuilder, host: &str| {
        let r = TicketRequest::new(host, ClientIp::UNSPECIFIED);
        let h = b.build().unwrap().forget(&r).remove(0);
        h.split("; ")
            .find_map(|a| a.strip_prefix("Domain="))
            .map(str::to_owned)
    };
    // Portcullis default: host-only cookie.
    assert_eq!(
        domain_of(AuthTktCookie::builder(secret()), "www.example.com"),
        None
    );
    assert_eq!(
        domain_of(policy(), "www.example.com"),
        Some("www.example.com".into())
    );
    assert_eq!(
        domain_of(policy().wild_domain(false), "www.example.com"),
        None
    );
    assert_eq!(
        domain_of(policy().parent_domain(true), "a.b.example.com:443"),
        Some("b.example.com".into())
    );
    // One dot only: parent_domain falls back to wild_domain.
    assert_eq!(
        domain_of(policy().parent_domain(true), "example.com"),
        Some("example.com".into())
    );
    assert_eq!(
        domain_of(
            policy().parent_domain(true).wild_domain(false),
            "example.com"
        ),
        None
    );
    assert_eq!(
        domain_of(
            policy()
                .parent_domain(true)
                .domain(Some("fixed.org".into())),
            "www.example.com"
        ),
        Some("fixed.org".into())
    );
}

#[test]
fn identify_round_trip_with_typed_userids() {
    let p = policy().build().unwrap();
    for userid in [
        UserId::Int(-7),
        UserId::Text("j\u{f6}rg@example.com".into()),
        UserId::Bytes(vec![0, 159, 255, b'!']),
    ] {
        let h = p.remember(&userid, &["editors"], &req(), NOW).unwrap();
        let raw = h[0].split(';').next().unwrap();
        let value = cookie_value_from_header(raw, "auth_tkt").unwrap();
        let id = p.identify(&value, &req(), NOW + 5).unwrap();
        assert_eq!(id.userid, userid);
        assert_eq!(id.tokens, ["editors"]);
        assert_eq!(id.timestamp, NOW);
        assert!(id.reissue.is_none());
    }
}

#[test]
fn timeout_and_reissue_boundaries() {
    let p = policy()
        .timeout(Some(1200))
        .reissue_time(Some(120))
        .max_age(Some(3600))
        .build()
        .unwrap();
    let h = p
        .remember(&UserId::from("alice"), &["a"], &req(), NOW)
        .unwrap();
    let value = cookie_value_from_header(h[0].split(';').next().unwrap(), "auth_tkt").unwrap();
    // Expired only when timestamp + timeout < now.
    assert!(p.identify(&value, &req(), NOW + 1200).is_ok());
    assert_eq!(
        p.identify(&value, &req(), NOW + 1201),
        Err(BadTicket::Expired {
            timestamp: NOW,
            timeout: 1200,
            now: NOW + 1201
        })
    );
    // Reissued only when now - timestamp > reissue_time.
    assert!(
        p.identify(&value, &req(), NOW + 120)
            .unwrap()
            .reissue
            .is_none()
    );
    let id = p.identify(&value, &req(), NOW + 121).unwrap();
    let fresh = id.reissue.unwrap();
    assert_eq!(
        fresh,
        p.remember(&UserId::from("alice"), &["a"], &req(), NOW + 121)
            .unwrap()
    );
    assert!(fresh[0].contains("Max-Age=3600"));
    // A ticket from the future is not reissued; timeout 0 means never.
    assert!(
        p.identify(&value, &req(), NOW - 10)
            .unwrap()
            .reissue
            .is_none()
    );
    let forever = policy().timeout(Some(0)).build().unwrap();
    assert!(forever.identify(&value, &req(), NOW + 10_000_000).is_ok());
    // reissue_time 0: every later request reissues.
    let eager = policy().reissue_time(Some(0)).build().unwrap();
    assert!(
        eager
            .identify(&value, &req(), NOW)
            .unwrap()
            .reissue
            .is_none()
    );
    assert!(
        eager
            .identify(&value, &req(), NOW + 1)
            .unwrap()
            .reissue
            .is_some()
    );
}

#[test]
fn include_ip_binds_ipv4_and_ipv6() {
    let p = policy().include_ip(true).build().unwrap();
    for (ip, other) in [("192.0.2.7", "192.0.2.8"), ("2001:db8::1", "2001:db8::2")] {
        let r = TicketRequest::new("example.com", ClientIp::parse(ip).unwrap());
        let h = p.remember(&UserId::Int(1), &[], &r, NOW).unwrap();
        let value = cookie_value_from_header(h[0].split(';').next().unwrap(), "auth_tkt").unwrap();
        assert!(p.identify(&value, &r, NOW).is_ok());
        let r2 = TicketRequest::new("example.com", ClientIp::parse(other).unwrap());
        assert_eq!(p.identify(&value, &r2, NOW), Err(BadTicket::BadDigest));
        // Without include_ip, the address is ignored (0.0.0.0 is signed instead).
        let loose = policy().build().unwrap();
        assert_eq!(loose.identify(&value, &r, NOW), Err(BadTicket::BadDigest));
    }
}

#[test]
fn token_and_configuration_validation() {
    let p = policy().build().unwrap();
    for bad in ["", "1abc", "a,b", "a!b", "caf\u{e9}", "a b"] {
        assert_eq!(
            p.remember(&UserId::Int(1), &[bad], &req(), NOW),
            Err(TicketError::InvalidToken(bad.to_owned()))
        );
    }
    assert!(matches!(
        policy().cookie_name("bad name").build(),
        Err(TicketError::InvalidCookieName(_))
    ));
    assert!(matches!(
        policy().same_site(Some(SameSite::None)).build(),
        Err(TicketError::SameSiteNoneWithoutSecure)
    ));
    assert!(
        policy()
            .same_site(Some(SameSite::None))
            .secure(true)
            .build()
            .is_ok()
    );
    assert_eq!(
        TicketSecret::verbatim("").unwrap_err(),
        TicketError::EmptySecret
    );
    let long = UserId::Text("x".repeat(4000));
    assert!(matches!(
        p.remember(&long, &[], &req(), NOW),
        Err(TicketError::CookieTooLong(_))
    ));
}

#[test]
fn userid_types_in_user_data() {
    let s = secret();
    let ip = ClientIp::UNSPECIFIED;
    let p = policy().build().unwrap();
    let mk = |userid: &str, user_data: &str| {
        AuthTicket {
            secret: &s,
            userid,
            ip: &ip,
            tokens: &[],
            user_data,
            time: NOW,
            hashalg: HashAlg::Sha512,
        }
        .cookie_value()
    };
    let id = |v: &str| p.identify(v, &req(), NOW);
    assert_eq!(id(&mk("bob", "")).unwrap().userid, UserId::from("bob"));
    assert_eq!(
        id(&mk("bob", "other|userid_type:weird")).unwrap().userid,
        UserId::from("bob")
    );
    assert_eq!(
        id(&mk("bob", "userid_type:unicode")).unwrap().userid,
        UserId::from("bob")
    );
    assert_eq!(
        id(&mk("12", "x|userid_type:int|")).unwrap().userid,
        UserId::Int(12)
    );
    assert_eq!(
        id(&mk("bob", "userid_type:int")),
        Err(BadTicket::UseridDecode {
            userid_type: "int".into()
        })
    );
    assert!(id(&mk("not base64", "userid_type:b64unicode")).is_err());
    assert!(id(&mk("/w==", "userid_type:b64unicode")).is_err()); // 0xff is not UTF-8
    assert_eq!(
        id(&mk("/w==", "userid_type:b64str")).unwrap().userid,
        UserId::Bytes(vec![0xff])
    );
}

#[test]
fn secrets_are_redacted() {
    let s = secret();
    assert_eq!(format!("{s:?}"), "TicketSecret(<redacted>)");
    let p = policy().build().unwrap();
    assert!(!format!("{p:?}").contains("seekrit"));
    let master = crate::secret::MasterSecret::new(vec![1u8; 32]).unwrap();
    let derived = TicketSecret::derived(&master);
    let expect = master.derive(&crate::secret::Purpose::Tickets).to_hex();
    assert_eq!(derived.as_bytes(), expect.as_bytes());
}
