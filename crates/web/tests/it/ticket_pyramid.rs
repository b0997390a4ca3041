//! Interop with real Pyramid: tickets and Set-Cookie headers in both directions.
//!
//! Needs `PORTCULLIS_TEST_PYRAMID_PYTHON` (a Python with `pyramid` and `webob`, set up
//! by `.ci/setup.d/20-pyramid.sh`); skips with a printed reason when it is unset. The
//! oracle is `pyramid/pyramid_interop.py` beside this file.

use std::io::Write as _;
use std::process::{Command, Stdio};

use base64::Engine as _;
use portcullis_web::ticket::{
    AuthTicket, AuthTktCookie, AuthTktCookieBuilder, BadTicket, ClientIp, HashAlg, SameSite,
    TicketIdentity, TicketRequest, TicketSecret, UserId, cookie_value_from_header, parse_ticket,
};
use serde_json::{Value, json};

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/it/pyramid/pyramid_interop.py"
);
const NOW: u64 = 1_700_000_000;
const SECRET: &str = "pyramid-interop-secret \u{2603}";

fn python() -> Option<String> {
    match std::env::var("PORTCULLIS_TEST_PYRAMID_PYTHON") {
        Ok(p) if !p.is_empty() => Some(p),
        _ => {
            println!(
                "skipped: PORTCULLIS_TEST_PYRAMID_PYTHON is not set (run .ci/setup.d/20-pyramid.sh)"
            );
            None
        }
    }
}

/// Sends one request object to the Pyramid oracle and returns its answer.
fn pyramid(python: &str, request: &Value) -> Value {
    let mut child = Command::new(python)
        .arg(SCRIPT)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the Pyramid oracle");
    let input = serde_json::to_vec(request).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(
        out.status.success(),
        "pyramid oracle failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

const ALGS: [HashAlg; 6] = [
    HashAlg::Md5,
    HashAlg::Sha1,
    HashAlg::Sha224,
    HashAlg::Sha256,
    HashAlg::Sha384,
    HashAlg::Sha512,
];
const IPS: [&str; 6] = [
    "0.0.0.0",
    "192.0.2.7",
    "255.255.255.255",
    "::1",
    "2001:db8::7",
    "::ffff:192.0.2.1",
];
const USERIDS: [&str; 6] = [
    "alice",
    "u0001@example.com",
    "42",
    "j\u{f6}rg \u{2603}",
    "a!b,c/d%e+f=g?h",
    "",
];
const TOKENS: [&[&str]; 3] = [&[], &["editors"], &["editors", "staff", "a+b_c-d"]];
const USER_DATA: [&str; 3] = ["", "userid_type:int", "x|y:z \u{fc}"];
const TIMES: [u64; 4] = [0, 1, NOW, 4_294_967_295];

struct Issue {
    userid: &'static str,
    ip: &'static str,
    tokens: &'static [&'static str],
    user_data: &'static str,
    time: u64,
    alg: HashAlg,
}

fn issue_cases() -> Vec<Issue> {
    // Every algorithm, address, userid, token set, user data and time appears; the
    // combinations cycle with coprime strides (6 x 6 x 6 x 3 x 3 x 4 would be 7776).
    (0..1200)
        .map(|i: usize| Issue {
            alg: ALGS[i % 6],
            ip: IPS[(i / 6) % 6],
            userid: USERIDS[(i * 7 + i / 36) % 6],
            tokens: TOKENS[(i / 5) % 3],
            user_data: USER_DATA[(i / 11) % 3],
            time: TIMES[(i / 13) % 4],
        })
        .collect()
}

fn secret() -> TicketSecret {
    TicketSecret::verbatim(SECRET).unwrap()
}

#[test]
fn tickets_are_byte_identical_and_verify_both_ways() {
    let Some(py) = python() else { return };
    let s = secret();
    let cases = issue_cases();
    let rust_cookies: Vec<String> = cases
        .iter()
        .map(|c| {
            let ip = ClientIp::parse(c.ip).unwrap();
            AuthTicket {
                secret: &s,
                userid: c.userid,
                ip: &ip,
                tokens: c.tokens,
                user_data: c.user_data,
                time: c.time,
                hashalg: c.alg,
            }
            .cookie_value()
        })
        .collect();
    let issue: Vec<Value> = cases
        .iter()
        .map(|c| {
            json!({"secret": SECRET, "userid": c.userid, "ip": c.ip, "tokens": c.tokens,
                   "user_data": c.user_data, "time": c.time, "hashalg": c.alg.name()})
        })
        .collect();
    // (b) Pyramid's parse_ticket on what Rust issued, plus tampered and malformed variants.
    let mut parse = Vec::new();
    let mut expect_ok = Vec::new();
    for (c, cookie) in cases.iter().zip(&rust_cookies) {
        parse
            .push(json!({"secret": SECRET, "ticket": cookie, "ip": c.ip, "hashalg": c.alg.name()}));
        expect_ok.push(true);
    }
    for (i, (c, cookie)) in cases.iter().zip(&rust_cookies).enumerate().take(120) {
        let d = c.alg.hex_len();
        let variants = [
            // a digest digit changed
            format!(
                "{}{}",
                if cookie.starts_with('0') { '1' } else { '0' },
                &cookie[1..]
            ),
            // timestamp + 1
            format!(
                "{}{:08x}{}",
                &cookie[..d],
                c.time.wrapping_add(1) & 0xffff_ffff,
                &cookie[d + 8..]
            ),
            // user data extended
            format!("{cookie}x"),
            // wrong secret
            String::new(),
            // malformed
            cookie[..d + 4].to_owned(),
            cookie.replace('!', "?"),
        ];
        for (k, v) in variants.iter().enumerate() {
            let secret = if k == 3 { "another secret" } else { SECRET };
            let ticket = if k == 3 { cookie } else { v };
            parse.push(
                json!({"secret": secret, "ticket": ticket, "ip": c.ip, "hashalg": c.alg.name()}),
            );
            expect_ok.push(false);
        }
        // Quoted, as a cookie jar may hand it over.
        if i.is_multiple_of(10) {
            parse.push(json!({"secret": SECRET, "ticket": format!("\"{cookie}\""), "ip": c.ip, "hashalg": c.alg.name()}));
            expect_ok.push(true);
        }
    }
    let answer = pyramid(&py, &json!({"issue": issue, "parse": parse}));

    // (a) Byte-equal cookie values for identical inputs, and Rust verifies Pyramid's.
    let issued = answer["issue"].as_array().unwrap();
    assert_eq!(issued.len(), cases.len());
    for ((c, mine), theirs) in cases.iter().zip(&rust_cookies).zip(issued) {
        let theirs = theirs.as_str().unwrap();
        assert_eq!(
            mine, theirs,
            "cookie_value differs for {:?} {} {}",
            c.userid, c.ip, c.alg
        );
        let ip = ClientIp::parse(c.ip).unwrap();
        let p = parse_ticket(&s, theirs, &ip, c.alg).unwrap_or_else(|e| panic!("{theirs}: {e}"));
        assert_eq!(p.timestamp(), c.time & 0xffff_ffff);
        assert_eq!(p.userid(), c.userid);
        assert_eq!(p.tokens().collect::<Vec<_>>(), c.tokens);
        assert_eq!(p.user_data(), c.user_data);
    }

    // (b) Pyramid accepts what Rust issued with the same fields, and both sides agree
    // on every tampered or malformed variant.
    let parsed = answer["parse"].as_array().unwrap();
    assert_eq!(parsed.len(), parse.len());
    let mut accepted = 0;
    for ((req, ok), theirs) in parse.iter().zip(&expect_ok).zip(parsed) {
        let ticket = req["ticket"].as_str().unwrap();
        let alg: HashAlg = req["hashalg"].as_str().unwrap().parse().unwrap();
        let ip = ClientIp::parse(req["ip"].as_str().unwrap()).unwrap();
        let s = TicketSecret::verbatim(req["secret"].as_str().unwrap()).unwrap();
        let mine = parse_ticket(&s, ticket, &ip, alg);
        assert_eq!(mine.is_ok(), *ok, "rust on {ticket}: {mine:?}");
        assert_eq!(
            theirs.get("ok").is_some(),
            *ok,
            "pyramid on {ticket}: {theirs}"
        );
        if let (Ok(p), Some(t)) = (&mine, theirs.get("ok")) {
            accepted += 1;
            assert_eq!(t[0].as_u64().unwrap(), p.timestamp());
            assert_eq!(t[1].as_str().unwrap(), p.userid());
            let their_tokens: Vec<&str> = t[2]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .filter(|t| !t.is_empty())
                .collect();
            assert_eq!(their_tokens, p.tokens().collect::<Vec<_>>());
            assert_eq!(t[3].as_str().unwrap(), p.user_data());
        }
    }
    assert!(accepted >= cases.len());
}

/// One helper configuration, in Rust and as the oracle's JSON.
struct Config {
    json: Value,
    rust: AuthTktCookieBuilder,
}

fn configs() -> Vec<Config> {
    let base = || AuthTktCookie::builder(secret()).pyramid_defaults();
    vec![
        Config {
            json: json!({"secret": SECRET}),
            rust: base(),
        },
        Config {
            json: json!({"secret": SECRET, "secure": true, "http_only": true, "samesite": "Strict",
                         "max_age": 3600, "path": "/app", "parent_domain": true, "hashalg": "sha256"}),
            rust: base()
                .secure(true)
                .http_only(true)
                .same_site(Some(SameSite::Strict))
                .max_age(Some(3600))
                .path("/app")
                .parent_domain(true)
                .hashalg(HashAlg::Sha256),
        },
        Config {
            json: json!({"secret": SECRET, "include_ip": true, "domain": "example.org", "secure": true,
                         "samesite": "None", "hashalg": "sha1"}),
            rust: base()
                .include_ip(true)
                .domain(Some("example.org".into()))
                .secure(true)
                .same_site(Some(SameSite::None))
                .hashalg(HashAlg::Sha1),
        },
        Config {
            json: json!({"secret": SECRET, "wild_domain": false, "samesite": null, "timeout": 1200,
                         "reissue_time": 120, "max_age": 600, "include_ip": true}),
            rust: base()
                .wild_domain(false)
                .same_site(None)
                .timeout(Some(1200))
                .reissue_time(Some(120))
                .max_age(Some(600))
                .include_ip(true),
        },
        Config {
            json: json!({"secret": SECRET, "cookie_name": "sess_tkt", "hashalg": "md5", "reissue_time": 0,
                         "http_only": true}),
            rust: base()
                .cookie_name("sess_tkt")
                .hashalg(HashAlg::Md5)
                .reissue_time(Some(0))
                .http_only(true),
        },
    ]
}

fn userid_json(u: &UserId) -> Value {
    match u {
        UserId::Int(i) => json!({"int": i}),
        UserId::Text(s) => json!({"str": s}),
        UserId::Bytes(b) => json!({"bytes": base64::engine::general_purpose::STANDARD.encode(b)}),
    }
}

fn userids() -> Vec<UserId> {
    vec![
        UserId::Int(42),
        UserId::Int(-7),
        UserId::from("alice"),
        UserId::from("j\u{f6}rg@example.com"),
        UserId::Bytes(b"\x00\xffraw".to_vec()),
    ]
}

const HOSTS: [&str; 5] = [
    "www.example.com:8080",
    "example.com",
    "a.b.example.co.uk",
    "[::1]:8443",
    "localhost",
];
const REMOTES: [&str; 3] = ["192.0.2.7", "2001:db8::1", "10.0.0.1"];
const HELPER_TOKENS: [&[&str]; 3] = [&[], &["editors", "staff"], &["a+b_c-d"]];
const DELTAS: [u64; 4] = [0, 121, 1200, 1201];

/// The `name=value` part of a Set-Cookie value, as a browser sends it back.
fn cookie_pair(set_cookie: &str) -> &str {
    set_cookie.split(';').next().unwrap()
}

fn identity_json(id: &Result<TicketIdentity, BadTicket>) -> Value {
    match id {
        Err(_) => Value::Null,
        Ok(id) => json!({
            "timestamp": id.timestamp,
            "userid": userid_json(&id.userid),
            "tokens": id.tokens,
            "userdata": id.user_data,
            "reissue": id.reissue,
        }),
    }
}

/// Pyramid returns `['']` for a ticket without tokens; Portcullis returns `[]`.
fn normalize_tokens(mut v: Value) -> Value {
    if let Some(tokens) = v.get_mut("tokens").and_then(Value::as_array_mut) {
        tokens.retain(|t| t.as_str() != Some(""));
    }
    v
}

#[test]
fn remember_identify_forget_match_pyramid() {
    let Some(py) = python() else { return };
    let configs = configs();
    let built: Vec<AuthTktCookie> = configs
        .iter()
        .map(|c| c.rust.clone().build().unwrap())
        .collect();
    let mut remember = Vec::new();
    let mut rust_remember = Vec::new();
    let mut forget = Vec::new();
    let mut rust_forget = Vec::new();
    let mut n = 0usize;
    for (c, policy) in configs.iter().zip(&built) {
        for host in HOSTS {
            let req = TicketRequest::new(host, ClientIp::UNSPECIFIED);
            forget.push(json!({"config": c.json, "host": host}));
            rust_forget.push(policy.forget(&req));
            for userid in userids() {
                for tokens in HELPER_TOKENS {
                    let remote = REMOTES[n % REMOTES.len()];
                    n += 1;
                    let req = TicketRequest::new(host, ClientIp::parse(remote).unwrap());
                    remember.push(json!({"config": c.json, "userid": userid_json(&userid),
                        "tokens": tokens, "host": host, "remote_addr": remote, "now": NOW}));
                    rust_remember.push(policy.remember(&userid, tokens, &req, NOW).unwrap());
                }
            }
        }
    }
    let answer = pyramid(&py, &json!({"remember": remember, "forget": forget}));
    let theirs: Vec<Vec<String>> = serde_json::from_value(answer["remember"].clone()).unwrap();
    assert_eq!(theirs.len(), rust_remember.len());
    for ((mine, theirs), req) in rust_remember.iter().zip(&theirs).zip(&remember) {
        assert_eq!(mine, theirs, "remember {req}");
    }
    let theirs: Vec<Vec<String>> = serde_json::from_value(answer["forget"].clone()).unwrap();
    assert_eq!(rust_forget, theirs);

    // identify: each side reads the cookies both sides issued, at several ages; the
    // identities (timeout, typed userid, tokens, reissued Set-Cookie) must agree.
    let mut identify = Vec::new();
    let mut rust_identify = Vec::new();
    let mut k = 0usize;
    for (i, req) in remember.iter().enumerate() {
        let ci = configs
            .iter()
            .position(|c| c.json == req["config"])
            .unwrap();
        let policy = &built[ci];
        let host = req["host"].as_str().unwrap();
        let remote = req["remote_addr"].as_str().unwrap();
        for delta in DELTAS {
            k += 1;
            // Sometimes the request comes from another address (include_ip must refuse it).
            let from = if k.is_multiple_of(7) {
                "192.0.2.99"
            } else {
                remote
            };
            let treq = TicketRequest::new(host, ClientIp::parse(from).unwrap());
            let header = format!("other=1; {}", cookie_pair(&rust_remember[i][0]));
            let value = cookie_value_from_header(&header, policy.cookie_name()).unwrap();
            rust_identify.push(identity_json(&policy.identify(&value, &treq, NOW + delta)));
            identify.push(
                json!({"config": req["config"], "cookie_header": header, "host": host,
                                  "remote_addr": from, "now": NOW + delta}),
            );
        }
    }
    let answer = pyramid(&py, &json!({"identify": identify}));
    let theirs = answer["identify"].as_array().unwrap();
    assert_eq!(theirs.len(), rust_identify.len());
    let (mut valid, mut reissued, mut refused) = (0, 0, 0);
    for ((mine, theirs), req) in rust_identify.iter().zip(theirs).zip(&identify) {
        assert_eq!(mine, &normalize_tokens(theirs.clone()), "identify {req}");
        match mine {
            Value::Null => refused += 1,
            v if v["reissue"].is_null() => valid += 1,
            _ => reissued += 1,
        }
    }
    // The matrix exercises every outcome.
    assert!(
        valid > 0 && reissued > 0 && refused > 0,
        "{valid} {reissued} {refused}"
    );
}

#[test]
fn rust_reads_pyramid_set_cookie_headers() {
    let Some(py) = python() else { return };
    // A Pyramid-issued Set-Cookie (quoted, `,` as \054) is read by the Rust policy.
    let c = &configs()[0];
    let policy = c.rust.clone().build().unwrap();
    let req = json!({"config": c.json, "userid": {"str": "alice"}, "tokens": ["editors", "staff"],
                     "host": "example.com", "remote_addr": "192.0.2.7", "now": NOW});
    let answer = pyramid(&py, &json!({"remember": [req]}));
    let set_cookie = answer["remember"][0][0].as_str().unwrap();
    assert!(set_cookie.contains("\\054"), "{set_cookie}");
    let value = cookie_value_from_header(cookie_pair(set_cookie), "auth_tkt").unwrap();
    let id = policy
        .identify(
            &value,
            &TicketRequest::new("example.com", ClientIp::UNSPECIFIED),
            NOW + 1,
        )
        .unwrap();
    assert_eq!(id.userid, UserId::from("alice"));
    assert_eq!(id.tokens, ["editors", "staff"]);
    assert_eq!(id.user_data, "userid_type:b64unicode");
}
